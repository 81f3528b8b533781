// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Log replication: the leader's per-follower progress (probe, then a
 * pipeline of several APPENDs in flight, each a batch of entries), the
 * follower's AppendEntries receiver, fast log repair with conflict hints,
 * and the commit rule of include/truth/quorum.h, counted here or supplied
 * from outside (the kernel fast path).
 */
#include <string.h>

#include "truth/quorum.h"
#include "raft/raft_int.h"

static void progress_init(struct raft *r, struct raft_progress *p, uint32_t id)
{
	memset(p, 0, sizeof(*p));
	p->id = id;
	/* Figure 2, leader state: nextIndex = last log index + 1, matchIndex = 0. */
	p->next = raft_log_last(&r->log) + 1;
	p->state = PROGRESS_PROBE;
	p->recent_active = true;
}

void raft_leader_init_progress(struct raft *r)
{
	uint32_t i;

	r->n_prs = 0;
	r->ext_commit = 0;
	for (i = 0; i < r->conf.n; i++)
		if (r->conf.m[i].id != r->id)
			progress_init(r, &r->prs[r->n_prs++], r->conf.m[i].id);
}

/* The configuration changed under a leader: keep the progress we have. */
void raft_progress_sync(struct raft *r)
{
	struct raft_progress old[RAFT_MAX_MEMBERS];
	uint32_t n_old = r->n_prs, i, j;

	memcpy(old, r->prs, sizeof(old));
	r->n_prs = 0;
	for (i = 0; i < r->conf.n; i++) {
		uint32_t id = r->conf.m[i].id;
		struct raft_progress *p = &r->prs[r->n_prs];

		if (id == r->id)
			continue;
		for (j = 0; j < n_old; j++)
			if (old[j].id == id)
				break;
		if (j < n_old)
			*p = old[j];
		else
			progress_init(r, p, id);
		r->n_prs++;
	}
}

static void inflight_free_to(struct raft_progress *p, uint64_t index)
{
	while (p->inflight && p->inflight_last[p->inflight_head] <= index) {
		p->inflight_bytes -= p->inflight_size[p->inflight_head];
		p->inflight_head = (p->inflight_head + 1) % 64;
		p->inflight--;
	}
}

static void inflight_push(struct raft_progress *p, uint64_t last, uint64_t bytes)
{
	uint32_t slot = (p->inflight_head + p->inflight) % 64;

	p->inflight_last[slot] = last;
	p->inflight_size[slot] = bytes;
	p->inflight_bytes += bytes;
	p->inflight++;
}

/* No more APPENDs until some are answered: by count, or by bytes. */
static bool window_full(const struct raft *r, const struct raft_progress *p)
{
	return p->inflight >= r->opt.max_inflight ||
	       (r->opt.max_inflight_bytes && p->inflight &&
		p->inflight_bytes >= r->opt.max_inflight_bytes);
}

/* How many of the n entries after prev fit max_batch_bytes (at least 1). */
static uint64_t batch_fit(const struct raft *r, uint64_t prev, uint64_t n,
			  uint64_t *bytes)
{
	uint64_t i, sum = 0;
	const struct raft_entry *e;

	*bytes = 0;
	if (!r->opt.max_batch_bytes && !r->opt.max_inflight_bytes)
		return n;	/* nothing to bound: no need to look */
	for (i = 0; i < n; i++) {
		e = raft_log_get(&r->log, prev + 1 + i);
		if (!e)
			break;
		if (i && r->opt.max_batch_bytes && sum + e->len > r->opt.max_batch_bytes)
			break;
		sum += e->len;
	}
	*bytes = sum;
	return i ? i : n;
}

static void become_probe(struct raft_progress *p, uint64_t next)
{
	p->state = PROGRESS_PROBE;
	p->next = next;
	p->inflight = 0;
	p->inflight_head = 0;
	p->inflight_bytes = 0;
	p->probe_sent = false;
}

/* One APPEND for p, or a heartbeat (commit and read round only). */
void raft_send_append(struct raft *r, struct raft_progress *p, bool heartbeat)
{
	struct raft_log *l = &r->log;
	uint64_t last = raft_log_last(l), prev, n, bytes = 0;
	struct raft_msg m = { 0 };

	m.type = RAFT_MSG_APPEND;
	m.to = p->id;
	m.term = r->term;
	m.ctx = r->round;
	if (heartbeat) {
		m.heartbeat = true;
		/* Only what p is known to hold may be committed on its word. */
		m.commit = l->committed < p->match ? l->committed : p->match;
		raft_send(r, &m);
		return;
	}
	if (p->state == PROGRESS_SNAPSHOT ||
	    (p->state == PROGRESS_PROBE && p->probe_sent) ||
	    (p->state == PROGRESS_PIPELINE && window_full(r, p)))
		return;
	prev = p->next - 1;
	if (prev < l->snap_index) {
		/* §7: the entries it needs are compacted: send the snapshot. */
		raft_send_snapshot(r, p);
		return;
	}
	n = last - prev;
	if (n > r->opt.max_batch)
		n = r->opt.max_batch;
	if (n)
		n = batch_fit(r, prev, n, &bytes);
	if (p->state == PROGRESS_PIPELINE && n == 0)
		return;
	m.prev_index = prev;
	m.prev_term = raft_log_term(l, prev);
	m.commit = l->committed;
	m.n_entries = n;
	/* entries are resolved from the log in raft_ready(); remember the last. */
	m.last_index = prev + n;
	m.last_term = raft_log_term(l, prev + n);
	raft_send(r, &m);
	p->append_round = r->round;
	if (p->state == PROGRESS_PIPELINE) {
		p->next = prev + n + 1;
		inflight_push(p, prev + n, bytes);
	} else {
		p->probe_sent = true;
	}
}

static void send_tip_probe(struct raft *r, struct raft_progress *p)
{
	struct raft_msg m = { 0 };

	if (p->next - 1 < r->log.snap_index)
		return;
	m.type = RAFT_MSG_APPEND;
	m.to = p->id;
	m.term = r->term;
	m.ctx = r->round;
	m.prev_index = p->next - 1;
	m.prev_term = raft_log_term(&r->log, m.prev_index);
	m.commit = r->log.committed;
	raft_send(r, &m);
}

void raft_send_more(struct raft *r, struct raft_progress *p)
{
	uint64_t last = raft_log_last(&r->log);

	if (p->state == PROGRESS_PIPELINE) {
		while (p->state == PROGRESS_PIPELINE &&
		       !window_full(r, p) && p->next <= last) {
			uint64_t next = p->next;

			raft_send_append(r, p, false);
			if (p->next == next)
				break;	/* switched to a snapshot, or nothing sent */
		}
	} else {
		raft_send_append(r, p, false);
	}
}

void raft_broadcast_append(struct raft *r)
{
	uint32_t i;

	for (i = 0; i < r->n_prs; i++)
		raft_send_more(r, &r->prs[i]);
}

/* A heartbeat starts a new round: its acks confirm leadership (§6.4). */
void raft_broadcast_heartbeat(struct raft *r)
{
	uint32_t i;

	r->round++;
	r->round_sent_at[r->round % 64] = r->now;
	for (i = 0; i < r->n_prs; i++)
		raft_send_append(r, &r->prs[i], true);
	raft_read_round_acked(r);
}

void raft_commit_to(struct raft *r, uint64_t index)
{
	if (index <= r->log.committed)
		return;
	if (index > raft_log_last(&r->log))
		index = raft_log_last(&r->log);
	r->log.committed = index;
	/* diss. §4.2.2: a leader that removed itself steps down once that commits. */
	if (r->role == RAFT_LEADER && !raft_conf_is_voter(&r->conf, r->id) &&
	    r->log.committed >= r->conf_index)
		raft_become_follower(r, r->term, RAFT_NONE);
}

/* Figure 2, leader rule 4 and §5.4.2, by include/truth/quorum.h. */
bool raft_maybe_commit(struct raft *r)
{
	struct truth_quorum_member qm[RAFT_MAX_MEMBERS];
	uint64_t before = r->log.committed, c;
	unsigned int n = 0;
	uint32_t i;

	if (r->role != RAFT_LEADER)
		return false;
	if (r->opt.external_commit) {
		c = r->ext_commit < r->log.stable ? r->ext_commit : r->log.stable;
		if (c >= r->term_start)
			raft_commit_to(r, c);
		return r->log.committed > before;
	}
	for (i = 0; i < r->conf.n; i++) {
		const struct raft_member *mb = &r->conf.m[i];
		struct raft_progress *p;

		if (mb->role != RAFT_VOTER)
			continue;
		qm[n].id = mb->id;
		qm[n].weight = mb->weight;
		if (mb->id == r->id) {
			qm[n].match = r->log.stable;
		} else {
			p = raft_progress(r, mb->id);
			qm[n].match = p ? p->match : 0;
		}
		n++;
	}
	c = truth_quorum_commit(qm, n, raft_conf_threshold(&r->conf),
				r->term_start, r->log.committed);
	raft_commit_to(r, c);
	return r->log.committed > before;
}

int raft_commit_external(struct raft *r, uint64_t term, uint64_t index)
{
	/* §5.4.2: only the leader of term, and only current-term entries. */
	if (r->in_ready || r->role != RAFT_LEADER || term != r->term ||
	    index < r->term_start || index > raft_log_last(&r->log))
		return 0;
	if (index > r->ext_commit)
		r->ext_commit = index;
	if (!r->opt.external_commit)
		return 0;
	if (raft_maybe_commit(r)) {
		raft_broadcast_heartbeat(r);
		return 1;
	}
	return 0;
}

/* Our own disk caught up (raft_advance): the leader counts itself. */
void raft_self_stable(struct raft *r)
{
	if (r->role == RAFT_LEADER && raft_maybe_commit(r))
		raft_broadcast_heartbeat(r);
}

static void follower_commit(struct raft *r, uint64_t leader_commit,
			    uint64_t last_new)
{
	/* Figure 2, AppendEntries receiver 5: commitIndex = min(leaderCommit, last new). */
	uint64_t c = leader_commit < last_new ? leader_commit : last_new;

	raft_commit_to(r, c);
}

void raft_handle_append(struct raft *r, const struct raft_msg *m)
{
	struct raft_log *l = &r->log;
	struct raft_msg resp = { 0 };
	bool conf_changed = false;
	uint64_t last_new, i;

	resp.type = RAFT_MSG_APPEND_RESP;
	resp.to = m->from;
	resp.term = r->term;
	resp.ctx = m->ctx;
	resp.prev_index = m->prev_index;
	if (m->heartbeat) {
		resp.heartbeat = true;
		/*
		 * The leader caps a heartbeat's commit at what it believes we
		 * hold: beyond our log, we lost what we acknowledged (rebuilt
		 * from peers).  Say where our log ends.
		 */
		if (m->commit > raft_log_last(l)) {
			resp.reject = true;
			resp.hint_index = raft_log_last(l) + 1;
		}
		follower_commit(r, m->commit, raft_log_last(l));
		raft_send(r, &resp);
		return;
	}
	/*
	 * Figure 2, AppendEntries receiver 2: prevLogIndex entry must match
	 * prevLogTerm.  A committed prefix matches the leader's (§5.4), even
	 * when compacted here.
	 */
	if (m->prev_index >= l->committed &&
	    (raft_log_term(l, m->prev_index) != m->prev_term ||
	     m->prev_index > raft_log_last(l))) {
		resp.reject = true;
		/* §5.3 optimisation: tell the leader where our conflicting term starts. */
		if (m->prev_index > raft_log_last(l)) {
			resp.hint_index = raft_log_last(l) + 1;
			resp.hint_term = 0;
		} else {
			resp.hint_term = raft_log_term(l, m->prev_index);
			resp.hint_index = raft_log_first_of_term(l, m->prev_index);
		}
		raft_send(r, &resp);
		return;
	}
	for (i = 0; i < m->n_entries; i++) {
		const struct raft_entry *e = &m->entries[i];
		uint64_t t = raft_log_term(l, e->index);

		if (e->index <= l->snap_index || (t && t == e->term))
			continue;
		if (t) {
			if (e->index <= l->committed)
				return;	/* never: committed entries match (§5.4) */
			/* Figure 2, AppendEntries receiver 3: conflict: delete it and all after. */
			raft_log_truncate(l, e->index);
			conf_changed = true;
		}
		/* Figure 2, AppendEntries receiver 4: append new entries. */
		if (raft_log_append(l, e))
			return;	/* out of memory: the leader will retry */
		if (e->type == RAFT_ENTRY_CONF)
			conf_changed = true;
	}
	if (conf_changed)
		raft_conf_rebuild(r);
	last_new = m->prev_index + m->n_entries;
	follower_commit(r, m->commit, last_new);
	resp.match_index = last_new > l->committed ? last_new : l->committed;
	raft_send(r, &resp);
}

static void handle_reject(struct raft *r, struct raft_progress *p,
			  const struct raft_msg *m)
{
	uint64_t next, li;

	if (m->prev_index < p->match)
		return;	/* stale: that index is known to match */
	if (p->state == PROGRESS_PROBE && m->prev_index != p->next - 1)
		return;	/* stale: not our outstanding probe */
	if (p->state == PROGRESS_SNAPSHOT)
		return;
	/*
	 * A log shorter than what it acknowledged: the follower lost its
	 * disk and was rebuilt (truthd --rebuild).  Start again from what
	 * it has; a lower match only makes counting more careful, and the
	 * commit index never goes back.
	 */
	if (!m->hint_term && m->hint_index && m->hint_index <= p->match)
		p->match = m->hint_index - 1;
	/* §5.3: use the follower's hint to skip a whole conflicting term. */
	next = m->hint_index;
	if (m->hint_term) {
		li = raft_log_last_of_term(&r->log, m->hint_term);
		if (li)
			next = li + 1;
	}
	if (next > m->prev_index)
		next = m->prev_index;
	if (next <= p->match)
		next = p->match + 1;
	if (next < 1)
		next = 1;
	become_probe(p, next);
	raft_send_more(r, p);
}

void raft_handle_append_resp(struct raft *r, const struct raft_msg *m)
{
	struct raft_progress *p = raft_progress(r, m->from);

	if (!p)
		return;
	p->recent_active = true;
	if (m->ctx > p->acked_ctx) {
		p->acked_ctx = m->ctx;
		raft_read_round_acked(r);
	}
	if (m->heartbeat) {
		if (m->reject && m->hint_index && m->hint_index <= p->match) {
			/* its log is shorter than what it acknowledged: rebuilt */
			p->match = m->hint_index - 1;
			become_probe(p, m->hint_index);
			raft_send_more(r, p);
			return;
		}
		if (p->state == PROGRESS_PROBE) {
			p->probe_sent = false;
		} else if (p->state == PROGRESS_PIPELINE && window_full(r, p)) {
			/* a full window and a live follower: APPENDs were lost */
			become_probe(p, p->match + 1);
		} else if (p->state == PROGRESS_PIPELINE &&
			   p->match < raft_log_last(&r->log) &&
			   p->next > raft_log_last(&r->log) &&
			   m->ctx > p->append_round) {
			/*
			 * Everything was sent but not all acknowledged, and
			 * this heartbeat left after the last APPEND: ask at
			 * the tip, so a follower that lost an APPEND says so.
			 * An answer to an older heartbeat says nothing about
			 * it (with one client, every commit's heartbeat was
			 * answered after the next write's APPEND left, and
			 * each cost a probe and its ack).
			 */
			send_tip_probe(r, p);
			return;
		}
		if (p->match < raft_log_last(&r->log) ||
		    p->state == PROGRESS_PROBE)
			raft_send_more(r, p);
		return;
	}
	if (m->reject) {
		handle_reject(r, p, m);
		return;
	}
	if (m->match_index > raft_log_last(&r->log))
		return;	/* cannot be: ignore a confused follower */
	if (m->match_index > p->match)
		p->match = m->match_index;
	inflight_free_to(p, m->match_index);
	if (p->state == PROGRESS_PROBE) {
		/* match found: start pipelining (etcd's probe -> replicate) */
		p->state = PROGRESS_PIPELINE;
		p->next = p->match + 1;
		p->inflight = 0;
		p->inflight_head = 0;
		p->inflight_bytes = 0;
		p->probe_sent = false;
	} else if (p->state == PROGRESS_SNAPSHOT) {
		return;
	}
	if (p->next <= p->match)
		p->next = p->match + 1;
	if (raft_maybe_commit(r))
		raft_broadcast_heartbeat(r);
	if (r->role != RAFT_LEADER)
		return;
	raft_maybe_promote(r, p);
	p = raft_progress(r, m->from);	/* a promotion may reorder prs[] */
	if (!p)
		return;
	raft_transfer_check(r, p);
	raft_send_more(r, p);
}
