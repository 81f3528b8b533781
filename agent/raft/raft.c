// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The raft node: creation and restart, the term and role rules, elections
 * (with pre-vote and check-quorum), ticks, message dispatch and the
 * ready/advance hand-off.  Replication, snapshots, membership and reads live
 * in their own files.
 */
#include <stdlib.h>
#include <string.h>

#include "raft/raft_int.h"

/* splitmix64: small, fast, and identical on every platform. */
uint64_t raft_rand(struct raft *r)
{
	uint64_t z = (r->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* §5.2: election timeouts are chosen randomly from a fixed interval. */
void raft_reset_election_timer(struct raft *r)
{
	r->election_elapsed = 0;
	r->randomized_timeout = r->opt.election_ticks +
				raft_rand(r) % r->opt.election_ticks;
}

struct raft_progress *raft_progress(struct raft *r, uint32_t id)
{
	uint32_t i;

	for (i = 0; i < r->n_prs; i++)
		if (r->prs[i].id == id)
			return &r->prs[i];
	return NULL;
}

void raft_send(struct raft *r, const struct raft_msg *m)
{
	struct raft_msg *out;

	if (r->n_msgs == r->cap_msgs) {
		uint32_t cap = r->cap_msgs ? r->cap_msgs * 2 : 16;
		struct raft_msg *nm = realloc(r->msgs, cap * sizeof(*nm));

		if (!nm)
			return;	/* dropped: the network may lose it anyway */
		r->msgs = nm;
		r->cap_msgs = cap;
	}
	out = &r->msgs[r->n_msgs++];
	*out = *m;
	out->from = r->id;
}

struct raft *raft_new(const struct raft_options *opt,
		      const struct raft_conf *conf)
{
	struct raft *r;

	if (!opt || !conf || opt->id == RAFT_NONE || conf->n > RAFT_MAX_MEMBERS)
		return NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->opt = *opt;
	if (!r->opt.election_ticks)
		r->opt.election_ticks = 10;
	if (!r->opt.heartbeat_ticks)
		r->opt.heartbeat_ticks = 1;
	if (!r->opt.max_inflight || r->opt.max_inflight > 64)
		r->opt.max_inflight = r->opt.max_inflight ? 64 : 8;
	if (!r->opt.max_batch)
		r->opt.max_batch = 16;
	if (!r->opt.snapshot_chunk)
		r->opt.snapshot_chunk = 1024;
	if (!r->opt.tick_time)
		r->opt.tick_time = 1;
	r->id = opt->id;
	r->rng = opt->seed ^ ((uint64_t)opt->id * 0x2545f4914f6cdd1dULL);
	raft_log_init(&r->log);
	r->conf = *conf;
	r->snap_conf = *conf;
	r->snap.conf = *conf;
	r->role = RAFT_FOLLOWER;
	raft_reset_election_timer(r);
	return r;
}

void raft_free(struct raft *r)
{
	if (!r)
		return;
	raft_log_free(&r->log);
	free(r->snap.data);
	free(r->recv.data);
	free(r->msgs);
	free(r->reads);
	free(r->ready_reads);
	free(r->failed_reads);
	free(r);
}

int raft_restore(struct raft *r, const struct raft_hard_state *hs,
		 const struct raft_snapshot *snap,
		 const struct raft_entry *entries, uint32_t n)
{
	uint32_t i;

	if (hs) {
		r->term = hs->term;
		r->vote = hs->vote;
		r->hs_saved = *hs;
	}
	if (snap && snap->index) {
		raft_log_reset(&r->log, snap->index, snap->term);
		r->snap_conf = snap->conf;
		free(r->snap.data);
		r->snap = *snap;
		r->snap.data = NULL;
		if (snap->size) {
			r->snap.data = malloc(snap->size);
			if (!r->snap.data)
				return RAFT_ENOMEM;
			memcpy(r->snap.data, snap->data, snap->size);
		}
	}
	for (i = 0; i < n; i++) {
		if (entries[i].index <= r->log.snap_index)
			continue;
		if (raft_log_append(&r->log, &entries[i]))
			return RAFT_EINVAL;
	}
	r->log.stable = raft_log_last(&r->log);
	raft_conf_rebuild(r);
	return RAFT_OK;
}

/* Figure 2, all servers: a higher term makes us a follower in that term. */
void raft_become_follower(struct raft *r, uint64_t term, uint32_t leader)
{
	if (r->role == RAFT_LEADER)
		raft_reads_fail_all(r);
	if (term > r->term) {
		r->term = term;
		r->vote = RAFT_NONE;
	}
	r->role = RAFT_FOLLOWER;
	r->leader = leader;
	r->transfer_target = RAFT_NONE;
	r->lease_until = 0;
	raft_reset_election_timer(r);
}

static void become_leader(struct raft *r)
{
	struct raft_entry noop = { 0 };

	r->role = RAFT_LEADER;
	r->leader = r->id;
	r->transfer_target = RAFT_NONE;
	r->heartbeat_elapsed = 0;
	r->quorum_elapsed = 0;
	r->lease_until = 0;
	r->lease_disabled = false;
	raft_leader_init_progress(r);
	/* §8: a new leader commits a blank no-op entry at the start of its term. */
	noop.term = r->term;
	noop.index = raft_log_last(&r->log) + 1;
	noop.type = RAFT_ENTRY_NOOP;
	raft_log_append(&r->log, &noop);
	r->term_start = noop.index;
	r->round++;
	r->round_sent_at[r->round % 64] = r->now;
	raft_broadcast_append(r);
}

static uint32_t member_slot(const struct raft_conf *c, uint32_t id)
{
	uint32_t i;

	for (i = 0; i < c->n; i++)
		if (c->m[i].id == id)
			return i;
	return RAFT_MAX_MEMBERS;
}

/* Tally votes: 1 = won, -1 = lost, 0 = undecided. */
static int tally(struct raft *r)
{
	uint64_t th = raft_conf_threshold(&r->conf), total = 0;
	uint64_t yes = 0, no = 0;
	uint32_t i;

	for (i = 0; i < r->conf.n; i++) {
		const struct raft_member *mb = &r->conf.m[i];

		if (mb->role != RAFT_VOTER)
			continue;
		total += mb->weight;
		if (!r->votes_seen[i])
			continue;
		if (r->votes_granted[i])
			yes += mb->weight;
		else
			no += mb->weight;
	}
	if (yes >= th)
		return 1;
	if (total - no < th)
		return -1;
	return 0;
}

static void record_vote(struct raft *r, uint32_t id, bool granted)
{
	uint32_t s = member_slot(&r->conf, id);

	if (s >= RAFT_MAX_MEMBERS || r->votes_seen[s])
		return;
	r->votes_seen[s] = true;
	r->votes_granted[s] = granted;
}

/*
 * (Pre-)vote requests of the campaign under way to every voter that has
 * not answered it yet: at its start, then again every heartbeat interval
 * (raft_tick).  A voter that heard the dead leader a few ticks later than
 * we did drops a pre-vote silently (leader_is_sticky), and a datagram may
 * be lost: waiting a whole new election timeout for either made failovers
 * take up to two.  Asking again changes nothing for a voter that answered
 * (a pre-vote changes no state; a vote is granted to one candidate per
 * term, and again to the same one).
 */
static void send_vote_requests(struct raft *r)
{
	uint64_t last = raft_log_last(&r->log);
	bool pre = r->role == RAFT_PRECANDIDATE;
	struct raft_msg m = { 0 };
	uint32_t i;

	m.type = pre ? RAFT_MSG_PREVOTE : RAFT_MSG_VOTE;
	m.term = pre ? r->term + 1 : r->term;
	m.last_index = last;
	m.last_term = raft_log_term(&r->log, last);
	m.transfer = r->campaign_transfer;
	for (i = 0; i < r->conf.n; i++) {
		if (r->conf.m[i].role != RAFT_VOTER || r->conf.m[i].id == r->id ||
		    r->votes_seen[i])
			continue;
		m.to = r->conf.m[i].id;
		raft_send(r, &m);
	}
}

void raft_campaign(struct raft *r, bool pre, bool transfer)
{
	int res;

	/* diss. §4.2.2: voters of the latest configuration (or of the one an
	 * uncommitted change is replacing) campaign; learners never do. */
	if (!raft_may_campaign(r))
		return;
	/* raft_rebuild.c: a rebuilt node stays out until caught up */
	if (r->rebuilding) {
		raft_reset_election_timer(r);
		return;
	}
	if (r->role == RAFT_LEADER)
		raft_reads_fail_all(r);
	memset(r->votes_seen, 0, sizeof(r->votes_seen));
	memset(r->votes_granted, 0, sizeof(r->votes_granted));
	r->leader = RAFT_NONE;
	r->campaign_transfer = transfer;
	raft_reset_election_timer(r);
	if (pre) {
		/* diss. §9.6: ask first whether we could win, without a new term. */
		r->role = RAFT_PRECANDIDATE;
	} else {
		/* §5.2: increment currentTerm, vote for self. */
		r->role = RAFT_CANDIDATE;
		r->term++;
		r->vote = r->id;
	}
	record_vote(r, r->id, true);
	res = tally(r);
	if (res > 0) {
		if (pre)
			raft_campaign(r, false, transfer);
		else
			become_leader(r);
		return;
	}
	send_vote_requests(r);
}

/*
 * Two pre-candidates for the same term whose logs end at the same entry
 * would vouch for each other, both turn candidate, vote for themselves and
 * split the vote; after a leader's crash in a 3-node cluster that was the
 * usual reason a failover took a second election timeout (Documentation/
 * raft.md "Failover").  Of such a pair only the lower id gets the other's
 * pre-vote.  A pre-vote grants nothing (diss. §9.6), so this decides who
 * asks for real votes first, never who may win them.
 */
static bool prevote_yields(const struct raft *r, const struct raft_msg *m)
{
	uint64_t last = raft_log_last(&r->log);

	return r->role == RAFT_PRECANDIDATE && m->term == r->term + 1 &&
	       m->from > r->id && m->last_index == last &&
	       m->last_term == raft_log_term(&r->log, last);
}

static void handle_vote(struct raft *r, const struct raft_msg *m, bool pre)
{
	struct raft_msg resp = { 0 };
	bool up_to_date = raft_log_up_to_date(&r->log, m->last_index,
					      m->last_term);
	bool grant;

	if (pre) {
		/* diss. §9.6: grant a pre-vote for a later term to an up-to-date log. */
		grant = m->term > r->term && up_to_date;
		if (grant && prevote_yields(r, m))
			grant = false;
	} else {
		/* Figure 2, RequestVote receiver 2: votedFor null or candidate, log up to date. */
		grant = (r->vote == RAFT_NONE || r->vote == m->from) &&
			up_to_date && r->role == RAFT_FOLLOWER;
	}
	/* raft_rebuild.c: an emptied log must not vouch for any candidate */
	if (r->rebuilding)
		grant = false;
	resp.type = pre ? RAFT_MSG_PREVOTE_RESP : RAFT_MSG_VOTE_RESP;
	resp.to = m->from;
	resp.term = grant && pre ? m->term : r->term;
	resp.reject = !grant;
	if (grant && !pre) {
		r->vote = m->from;
		/* §5.2: granting a vote resets the election timer. */
		raft_reset_election_timer(r);
	} else if (grant) {
		/*
		 * A pre-vote granted: give that candidate an election timeout
		 * to get its real votes out (they wait for its hard state to
		 * be durable) before starting a campaign of our own, which
		 * would split the vote with it.  Liveness only.
		 */
		raft_reset_election_timer(r);
	}
	raft_send(r, &resp);
}

static void handle_vote_resp(struct raft *r, const struct raft_msg *m)
{
	bool pre = m->type == RAFT_MSG_PREVOTE_RESP;
	int res;

	if (pre ? r->role != RAFT_PRECANDIDATE : r->role != RAFT_CANDIDATE)
		return;
	if (!m->reject && m->term != (pre ? r->term + 1 : r->term))
		return;	/* answer to an older campaign */
	record_vote(r, m->from, !m->reject);
	res = tally(r);
	if (res > 0) {
		if (pre)
			raft_campaign(r, false, r->campaign_transfer);
		else
			become_leader(r);	/* §5.2: votes from a majority */
	} else if (res < 0) {
		raft_become_follower(r, r->term, RAFT_NONE);
	}
}

/*
 * diss. §4.2.3 (and §6.4.1 leases): a server that heard from a current leader
 * within the minimum election timeout ignores requests for a new term, unless
 * the leader itself asked for the election (leadership transfer).
 */
static bool leader_is_sticky(const struct raft *r, const struct raft_msg *m)
{
	if (m->transfer)
		return false;
	if (r->role == RAFT_LEADER)
		return true;
	return r->heard_elapsed < r->opt.election_ticks;
}

static void reply_stale(struct raft *r, const struct raft_msg *m)
{
	struct raft_msg resp = { 0 };

	switch (m->type) {
	case RAFT_MSG_APPEND:
	case RAFT_MSG_SNAPSHOT:
		/* Figure 2, AppendEntries receiver 1: reply false if term < currentTerm. */
		resp.type = m->type == RAFT_MSG_APPEND ? RAFT_MSG_APPEND_RESP :
							 RAFT_MSG_SNAPSHOT_RESP;
		break;
	case RAFT_MSG_PREVOTE:
		resp.type = RAFT_MSG_PREVOTE_RESP;
		break;
	case RAFT_MSG_VOTE:
		/* Figure 2, RequestVote receiver 1: reply false if term < currentTerm. */
		resp.type = RAFT_MSG_VOTE_RESP;
		break;
	default:
		return;
	}
	resp.to = m->from;
	resp.term = r->term;
	resp.reject = true;
	resp.prev_index = m->prev_index;
	raft_send(r, &resp);
}

int raft_step(struct raft *r, const struct raft_msg *m)
{
	if (!m || m->type >= __RAFT_MSG_MAX || m->to != r->id ||
	    m->from == RAFT_NONE || m->from == r->id || r->in_ready)
		return RAFT_EINVAL;
	if (m->n_entries && !m->entries)
		return RAFT_EINVAL;
	raft_rebuild_heard(r, m);

	if (m->term > r->term) {
		if (m->type == RAFT_MSG_PREVOTE || m->type == RAFT_MSG_VOTE) {
			if (leader_is_sticky(r, m))
				return RAFT_OK;
		}
		if (m->type == RAFT_MSG_PREVOTE ||
		    (m->type == RAFT_MSG_PREVOTE_RESP && !m->reject)) {
			/* diss. §9.6: pre-votes do not change anyone's term. */
		} else {
			uint32_t leader = RAFT_NONE;

			if (m->type == RAFT_MSG_APPEND ||
			    m->type == RAFT_MSG_SNAPSHOT ||
			    m->type == RAFT_MSG_TIMEOUT_NOW)
				leader = m->from;
			/* Figure 2, all servers: term T > currentTerm: set it, become follower. */
			raft_become_follower(r, m->term, leader);
		}
	} else if (m->term < r->term) {
		reply_stale(r, m);
		return RAFT_OK;
	}

	switch (m->type) {
	case RAFT_MSG_PREVOTE:
		handle_vote(r, m, true);
		break;
	case RAFT_MSG_VOTE:
		handle_vote(r, m, false);
		break;
	case RAFT_MSG_PREVOTE_RESP:
	case RAFT_MSG_VOTE_RESP:
		handle_vote_resp(r, m);
		break;
	case RAFT_MSG_APPEND:
	case RAFT_MSG_SNAPSHOT:
		if (r->role == RAFT_LEADER)
			return RAFT_EINVAL;	/* Figure 3: election safety */
		/* §5.2: a candidate that hears from the leader of its term steps down. */
		if (r->role != RAFT_FOLLOWER || r->leader != m->from)
			raft_become_follower(r, m->term, m->from);
		r->election_elapsed = 0;
		r->heard_elapsed = 0;
		if (m->type == RAFT_MSG_APPEND) {
			raft_handle_append(r, m);
			raft_rebuild_append(r, m);
		} else
			raft_handle_snapshot(r, m);
		break;
	case RAFT_MSG_APPEND_RESP:
		if (r->role == RAFT_LEADER)
			raft_handle_append_resp(r, m);
		break;
	case RAFT_MSG_SNAPSHOT_RESP:
		if (r->role == RAFT_LEADER)
			raft_handle_snapshot_resp(r, m);
		break;
	case RAFT_MSG_TIMEOUT_NOW:
		raft_handle_timeout_now(r, m);
		break;
	}
	return RAFT_OK;
}

static void leader_tick(struct raft *r)
{
	if (++r->heartbeat_elapsed >= r->opt.heartbeat_ticks) {
		r->heartbeat_elapsed = 0;
		raft_broadcast_heartbeat(r);
	}
	if (++r->quorum_elapsed >= r->opt.election_ticks) {
		uint64_t th = raft_conf_threshold(&r->conf), w = 0;
		uint32_t i;

		r->quorum_elapsed = 0;
		for (i = 0; i < r->conf.n; i++) {
			const struct raft_member *mb = &r->conf.m[i];
			struct raft_progress *p;

			if (mb->role != RAFT_VOTER)
				continue;
			p = raft_progress(r, mb->id);
			if (mb->id == r->id || (p && p->recent_active))
				w += mb->weight;
			if (p)
				p->recent_active = false;
		}
		/* diss. §6.2: a leader that cannot reach a quorum steps down. */
		if (r->opt.check_quorum && w < th) {
			raft_become_follower(r, r->term, RAFT_NONE);
			return;
		}
	}
	raft_transfer_tick(r);
	raft_snapshot_tick(r);
}

void raft_tick(struct raft *r, uint64_t now)
{
	if (r->in_ready)
		return;
	r->now = now;
	if (r->role == RAFT_LEADER) {
		leader_tick(r);
		return;
	}
	raft_rebuild_tick(r);
	r->election_elapsed++;
	if (r->heard_elapsed < UINT32_MAX)
		r->heard_elapsed++;
	/* §5.2: no word from a leader within the election timeout: campaign. */
	if (r->election_elapsed >= r->randomized_timeout)
		raft_campaign(r, r->opt.pre_vote, false);
	else if ((r->role == RAFT_PRECANDIDATE || r->role == RAFT_CANDIDATE) &&
		 r->election_elapsed % r->opt.heartbeat_ticks == 0)
		send_vote_requests(r);
}

int raft_propose(struct raft *r, uint64_t client_id, uint64_t client_seq,
		 const void *data, uint32_t len, uint64_t *index)
{
	struct raft_entry e = { 0 };
	int err;

	if (r->in_ready || (len && !data))
		return RAFT_EINVAL;
	if (r->role != RAFT_LEADER)
		return RAFT_ENOTLEADER;
	/* diss. §3.10: a transferring leader stops accepting client requests. */
	if (r->transfer_target)
		return RAFT_EBUSY;
	e.term = r->term;
	e.index = raft_log_last(&r->log) + 1;
	e.type = RAFT_ENTRY_NORMAL;
	e.client_id = client_id;
	e.client_seq = client_seq;
	e.len = len;
	e.data = (void *)data;
	err = raft_log_append(&r->log, &e);
	if (err)
		return err;
	if (index)
		*index = e.index;
	raft_broadcast_append(r);
	return RAFT_OK;
}

/* ---------------------------------------------------------- ready */

bool raft_has_ready(const struct raft *r)
{
	return r->term != r->hs_saved.term || r->vote != r->hs_saved.vote ||
	       r->log.stable < raft_log_last(&r->log) || r->n_msgs ||
	       r->log.handed < r->log.committed || r->snap_pending ||
	       r->n_ready_reads || r->n_failed_reads;
}

/*
 * Outgoing APPENDs and snapshot chunks name their payload by position; point
 * them at it now that the log can no longer move, and drop those whose
 * entries were since overwritten or compacted (the sender will retry).
 */
static void resolve_msgs(struct raft *r)
{
	struct raft_log *l = &r->log;
	uint32_t i, keep = 0;

	for (i = 0; i < r->n_msgs; i++) {
		struct raft_msg *m = &r->msgs[i];

		if (m->type == RAFT_MSG_APPEND && m->n_entries) {
			if (raft_log_term(l, m->prev_index) != m->prev_term ||
			    m->last_index > raft_log_last(l) ||
			    raft_log_term(l, m->last_index) != m->last_term)
				continue;
			m->entries = raft_log_get(l, m->prev_index + 1);
		} else if (m->type == RAFT_MSG_APPEND) {
			m->entries = NULL;
		}
		if (m->type == RAFT_MSG_APPEND) {
			m->last_index = 0;
			m->last_term = 0;
		}
		if (m->type == RAFT_MSG_SNAPSHOT) {
			if (m->snap_index != r->snap.index ||
			    m->offset + m->len > r->snap.size)
				continue;
			m->data = m->len ? (uint8_t *)r->snap.data + m->offset :
					   NULL;
		}
		r->msgs[keep++] = *m;
	}
	r->n_msgs = keep;
}

void raft_ready(struct raft *r, struct raft_ready *rd)
{
	struct raft_log *l = &r->log;

	memset(rd, 0, sizeof(*rd));
	rd->hs.term = r->term;
	rd->hs.vote = r->vote;
	rd->hs_changed = r->term != r->hs_saved.term ||
			 r->vote != r->hs_saved.vote;
	if (r->snap_pending)
		rd->snapshot = &r->snap;
	if (l->stable < raft_log_last(l)) {
		uint64_t from = l->stable > l->snap_index ? l->stable : l->snap_index;

		rd->entries = &l->e[from - l->snap_index];
		rd->n_entries = raft_log_last(l) - from;
	}
	resolve_msgs(r);
	rd->msgs = r->msgs;
	rd->n_msgs = r->n_msgs;
	if (l->handed < l->committed) {
		rd->committed = &l->e[l->handed - l->snap_index];
		rd->n_committed = l->committed - l->handed;
	}
	rd->reads = r->ready_reads;
	rd->n_reads = r->n_ready_reads;
	rd->failed_reads = r->failed_reads;
	rd->n_failed_reads = r->n_failed_reads;
	r->in_ready = true;
}

void raft_advance(struct raft *r, struct raft_ready *rd)
{
	struct raft_log *l = &r->log;

	if (!r->in_ready)
		return;
	r->in_ready = false;
	r->hs_saved = rd->hs;
	if (rd->n_entries)
		l->stable = rd->entries[rd->n_entries - 1].index;
	if (rd->n_committed) {
		l->handed = rd->committed[rd->n_committed - 1].index;
		l->applied = l->handed;
	}
	r->snap_pending = false;
	r->n_msgs = 0;
	r->n_ready_reads = 0;
	r->n_failed_reads = 0;
	memset(rd, 0, sizeof(*rd));
	raft_self_stable(r);
}

/* ---------------------------------------------------------- inspection */

enum raft_role raft_role(const struct raft *r) { return r->role; }
uint32_t raft_id(const struct raft *r) { return r->id; }
uint64_t raft_term(const struct raft *r) { return r->term; }
uint32_t raft_leader(const struct raft *r) { return r->leader; }
uint32_t raft_vote(const struct raft *r) { return r->vote; }
uint64_t raft_commit_index(const struct raft *r) { return r->log.committed; }
uint64_t raft_applied_index(const struct raft *r) { return r->log.applied; }
uint64_t raft_first_index(const struct raft *r) { return r->log.snap_index + 1; }
uint64_t raft_last_index(const struct raft *r) { return raft_log_last(&r->log); }
uint64_t raft_snapshot_index(const struct raft *r) { return r->log.snap_index; }
uint64_t raft_snapshot_term(const struct raft *r) { return r->log.snap_term; }
const struct raft_conf *raft_conf(const struct raft *r) { return &r->conf; }
uint32_t raft_transfer_target(const struct raft *r) { return r->transfer_target; }
const struct raft_snapshot *raft_last_snapshot(const struct raft *r) { return &r->snap; }

const struct raft_entry *raft_entry_at(const struct raft *r, uint64_t index)
{
	return raft_log_get(&r->log, index);
}

uint64_t raft_term_at(const struct raft *r, uint64_t index)
{
	return raft_log_term(&r->log, index);
}
