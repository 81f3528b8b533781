// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * raftsim: the deterministic cluster (see raftsim.h).  This file is the
 * event loop, the network, the disks and the state machines; the property
 * checker is raftsim_check.c and the clients raftsim_client.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "truth/quorum.h"
#include "raftsim.h"

enum { EV_TICK, EV_DELIVER, EV_SYNC };

struct raftsim_event {
	uint64_t time, seq;	/* ordering: time, then insertion order */
	uint8_t type;		/* EV_* */
	uint32_t node;		/* target node */
	uint32_t gen;		/* node generation it was meant for */
	struct raft_msg *msg;	/* EV_DELIVER: owned deep copy */
};

uint64_t raftsim_rand(struct raftsim *s)
{
	uint64_t z = (s->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p) {
		fprintf(stderr, "raftsim: out of memory\n");
		abort();
	}
	return p;
}

/* ---------------------------------------------------------- event queue */

static bool ev_less(const struct raftsim_event *a, const struct raftsim_event *b)
{
	return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

static void ev_push(struct raftsim *s, struct raftsim_event ev)
{
	uint32_t i;

	if (s->n_ev == s->cap_ev) {
		s->cap_ev = s->cap_ev ? 2 * s->cap_ev : 256;
		s->heap = xrealloc(s->heap, s->cap_ev * sizeof(*s->heap));
	}
	ev.seq = s->ev_seq++;
	i = s->n_ev++;
	while (i > 0) {
		uint32_t p = (i - 1) / 2;

		if (!ev_less(&ev, &s->heap[p]))
			break;
		s->heap[i] = s->heap[p];
		i = p;
	}
	s->heap[i] = ev;
}

static struct raftsim_event ev_pop(struct raftsim *s)
{
	struct raftsim_event top = s->heap[0], last = s->heap[--s->n_ev];
	uint32_t i = 0;

	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= s->n_ev)
			break;
		if (c + 1 < s->n_ev && ev_less(&s->heap[c + 1], &s->heap[c]))
			c++;
		if (!ev_less(&s->heap[c], &last))
			break;
		s->heap[i] = s->heap[c];
		i = c;
	}
	if (s->n_ev)
		s->heap[i] = last;
	return top;
}

/* ---------------------------------------------------------- messages */

static struct raft_msg *msg_dup(const struct raft_msg *m)
{
	struct raft_msg *c = xrealloc(NULL, sizeof(*c));
	uint32_t i;

	*c = *m;
	c->entries = NULL;
	c->data = NULL;
	if (m->n_entries) {
		c->entries = xrealloc(NULL, m->n_entries * sizeof(*c->entries));
		for (i = 0; i < m->n_entries; i++) {
			c->entries[i] = m->entries[i];
			c->entries[i].data = NULL;
			if (m->entries[i].len) {
				c->entries[i].data = xrealloc(NULL, m->entries[i].len);
				memcpy(c->entries[i].data, m->entries[i].data,
				       m->entries[i].len);
			}
		}
	}
	if (m->len && m->data) {
		c->data = xrealloc(NULL, m->len);
		memcpy(c->data, m->data, m->len);
	}
	return c;
}

static void msg_free(struct raft_msg *m)
{
	uint32_t i;

	if (!m)
		return;
	for (i = 0; i < m->n_entries; i++)
		free(m->entries[i].data);
	free(m->entries);
	free(m->data);
	free(m);
}

static uint32_t latency(struct raftsim *s)
{
	uint32_t span = s->o.lat_max_us - s->o.lat_min_us;

	return s->o.lat_min_us + (span ? raftsim_rand(s) % (span + 1) : 0);
}

/*
 * What a node says must already be on its disk: an ACK only covers durable
 * entries, a granted vote is durable, a message carries a durable term.
 */
static void check_durable(struct raftsim *s, struct raftsim_node *nd,
			  const struct raft_msg *m)
{
	uint64_t last = nd->n_log ? nd->log[nd->n_log - 1].index : nd->snap.index;

	if (m->term > nd->hs.term && m->type != RAFT_MSG_PREVOTE &&
	    m->type != RAFT_MSG_PREVOTE_RESP)
		raftsim_fail(s, "node %u sent term %llu before making it durable",
			     nd->id, (unsigned long long)m->term);
	if (m->type == RAFT_MSG_VOTE_RESP && !m->reject &&
	    nd->hs.vote != m->to)
		raftsim_fail(s, "node %u granted a vote to %u that is not durable",
			     nd->id, m->to);
	if (m->type == RAFT_MSG_APPEND_RESP && !m->reject && !m->heartbeat &&
	    m->match_index > last && m->match_index > nd->snap.index)
		raftsim_fail(s, "node %u acknowledged index %llu with only %llu durable",
			     nd->id, (unsigned long long)m->match_index,
			     (unsigned long long)last);
}

static void net_send(struct raftsim *s, uint32_t from, const struct raft_msg *m)
{
	struct raftsim_event ev = { 0 };
	uint32_t copies = 1, i;

	if (!s->o.unsafe_ack_early)
		check_durable(s, &s->nodes[from], m);
	if (getenv("RAFTSIM_TRACE") && getenv("RAFTSIM_TRACE")[0] == '2')
		fprintf(stderr, "t=%llu %u->%u type %u term %llu prev %llu/%llu n %u commit %llu rej %d hb %d match %llu hint %llu/%llu snap %llu off %llu done %d\n",
			(unsigned long long)s->now, from, m->to, m->type,
			(unsigned long long)m->term,
			(unsigned long long)m->prev_index,
			(unsigned long long)m->prev_term, m->n_entries,
			(unsigned long long)m->commit, m->reject, m->heartbeat,
			(unsigned long long)m->match_index,
			(unsigned long long)m->hint_index,
			(unsigned long long)m->hint_term,
			(unsigned long long)m->snap_index,
			(unsigned long long)m->offset, m->done);
	if (m->type < __RAFT_MSG_MAX)
		s->sent[m->type]++;
	if (m->type == RAFT_MSG_APPEND) {
		s->sent_entries += m->n_entries;
		if (m->n_entries > s->max_append_entries)
			s->max_append_entries = m->n_entries;
	}
	if (m->type == RAFT_MSG_APPEND_RESP && m->reject)
		s->rejects++;

	if (m->to < 1 || m->to > RAFTSIM_MAX_NODES || s->cut[from][m->to])
		return;
	if (s->o.loss_pm && raftsim_rand(s) % 1000 < s->o.loss_pm)
		return;
	if (s->o.dup_pm && raftsim_rand(s) % 1000 < s->o.dup_pm)
		copies = 2;
	for (i = 0; i < copies; i++) {
		ev.time = s->now + latency(s);
		ev.type = EV_DELIVER;
		ev.node = m->to;
		ev.msg = msg_dup(m);
		ev_push(s, ev);
	}
}

/* ---------------------------------------------------------- clocks */

uint64_t raftsim_local_time(const struct raftsim *s, uint32_t id)
{
	const struct raftsim_node *nd = &s->nodes[id];

	return nd->clock_offset + s->now +
	       (int64_t)s->now * nd->rate_ppm / 1000000;
}

static uint64_t tick_period(const struct raftsim *s, const struct raftsim_node *nd)
{
	/* a fast clock reaches the next tick sooner in true time */
	return (uint64_t)s->o.tick_us * 1000000 / (1000000 + nd->rate_ppm);
}

static void schedule_tick(struct raftsim *s, struct raftsim_node *nd,
			  uint64_t delay)
{
	struct raftsim_event ev = { 0 };

	ev.time = s->now + delay;
	ev.type = EV_TICK;
	ev.node = nd->id;
	ev.gen = nd->gen;
	ev_push(s, ev);
}

/* ---------------------------------------------------------- fast path */

/*
 * What truth.ko does for a leader when external_commit is on: count the
 * followers' durable acks of the current term with the weighted quorum rule
 * and hand the core a new commit index.  truthd reports the leader's own
 * log end (the core caps it at what is durable).
 */
static void fastpath(struct raftsim *s, struct raftsim_node *nd,
		     const struct raft_msg *m)
{
	struct truth_quorum_member qm[RAFT_MAX_MEMBERS];
	struct raft *r = nd->r;
	const struct raft_conf *c;
	uint64_t term = raft_term(r), start, commit;
	unsigned int n = 0;
	uint32_t i;

	if (!s->o.external_commit || s->o.fastpath_off ||
	    raft_role(r) != RAFT_LEADER)
		return;
	if (nd->fp_term != term) {
		memset(nd->fp_match, 0, sizeof(nd->fp_match));
		nd->fp_term = term;
	}
	if (m && m->type == RAFT_MSG_APPEND_RESP && m->term == term &&
	    !m->reject && !m->heartbeat && m->from <= RAFTSIM_MAX_NODES &&
	    m->match_index > nd->fp_match[m->from])
		nd->fp_match[m->from] = m->match_index;
	c = raft_conf(r);
	for (i = 0; i < c->n; i++) {
		if (c->m[i].role != RAFT_VOTER)
			continue;
		qm[n].id = c->m[i].id;
		qm[n].weight = c->m[i].weight;
		qm[n].match = c->m[i].id == nd->id ? raft_last_index(r) :
			      c->m[i].id <= RAFTSIM_MAX_NODES ?
			      nd->fp_match[c->m[i].id] : 0;
		n++;
	}
	start = raft_last_index(r);
	while (start > raft_snapshot_index(r) + 1 &&
	       raft_term_at(r, start - 1) == term)
		start--;
	commit = truth_quorum_commit(qm, n, raft_conf_threshold(c), start,
				     raft_commit_index(r));
	if (commit > raft_commit_index(r))
		raft_commit_external(r, term, commit);
}

static void node_step(struct raftsim *s, struct raftsim_node *nd,
		      const struct raft_msg *m)
{
	raft_step(nd->r, m);
	fastpath(s, nd, m);
}

/* ---------------------------------------------------------- nodes */

static void node_crash(struct raftsim *s, struct raftsim_node *nd, bool torn);

/* The ready's write is durable: send, apply, hand it back. */
static void node_complete(struct raftsim *s, struct raftsim_node *nd)
{
	struct raft_ready *rd = &nd->rd;
	uint32_t i;

	if (getenv("RAFTSIM_TRACE"))
		fprintf(stderr, "t=%llu node %u persists snap %d entries %u (first %llu) hs %d; disk last before %llu\n",
			(unsigned long long)s->now, nd->id, rd->snapshot != NULL, rd->n_entries,
			rd->n_entries ? (unsigned long long)rd->entries[0].index : 0ULL, rd->hs_changed,
			nd->n_log ? (unsigned long long)nd->log[nd->n_log - 1].index : 0ULL);
	if (getenv("RAFTSIM_TRACE")) {
		fprintf(stderr, "   disk snap %llu/%llu log:", (unsigned long long)nd->snap.index, (unsigned long long)nd->snap.term);
		for (uint64_t q = 0; q < nd->n_log; q++)
			fprintf(stderr, " %llu/%llu", (unsigned long long)nd->log[q].index, (unsigned long long)nd->log[q].term);
		if (rd->snapshot)
			fprintf(stderr, " | new snap %llu/%llu core first %llu", (unsigned long long)rd->snapshot->index, (unsigned long long)rd->snapshot->term, (unsigned long long)raft_first_index(nd->r));
		fprintf(stderr, "\n");
	}
	raftsim_disk_write(nd, rd, raftsim_ready_items(rd));
	/* Only now may messages leave: an ACK follows the data it acknowledges. */
	for (i = 0; i < rd->n_msgs; i++)
		net_send(s, nd->id, &rd->msgs[i]);
	if (rd->snapshot && getenv("RAFTSIM_TRACE"))
		fprintf(stderr, "t=%llu node %u installs snapshot %llu (%llu bytes)\n",
			(unsigned long long)s->now, nd->id,
			(unsigned long long)rd->snapshot->index,
			(unsigned long long)rd->snapshot->size);
	if (rd->snapshot && !raftsim_sm_restore(nd, rd->snapshot))
		raftsim_fail(s, "node %u: snapshot at %llu does not decode",
			     nd->id, (unsigned long long)rd->snapshot->index);
	for (i = 0; i < rd->n_committed; i++)
		raftsim_sm_apply(s, nd, &rd->committed[i]);
	for (i = 0; i < rd->n_reads; i++)
		raftsim_check_read(s, nd, rd->reads[i].index,
				   rd->reads[i].ctx, "ReadIndex");
	raft_advance(nd->r, rd);
	nd->busy = false;
	fastpath(s, nd, NULL);
	if (s->o.snapshot_every &&
	    nd->sm_applied >= nd->sm_snap_at + s->o.snapshot_every)
		raftsim_take_snapshot(s, nd->id);
}

static uint32_t disk_delay(const struct raftsim *s, const struct raftsim_node *nd)
{
	return nd->disk_us >= 0 ? (uint32_t)nd->disk_us : s->o.disk_us;
}

/* Take readies until one has to wait for the disk. */
static void node_process(struct raftsim *s, struct raftsim_node *nd)
{
	while (nd->up && !nd->busy && raft_has_ready(nd->r)) {
		raft_ready(nd->r, &nd->rd);
		nd->busy = true;
		if (raftsim_ready_items(&nd->rd) && nd->fail_next_write) {
			/* the write fails: truthd exits rather than ack (fail-stop) */
			nd->fail_next_write = false;
			node_crash(s, nd, true);
			return;
		}
		if (raftsim_ready_items(&nd->rd) && disk_delay(s, nd)) {
			struct raftsim_event ev = { 0 };

			ev.time = s->now + disk_delay(s, nd);
			ev.type = EV_SYNC;
			ev.node = nd->id;
			ev.gen = nd->gen;
			ev_push(s, ev);
			if (s->o.unsafe_ack_early) {
				/* what DESIGN.md forbids: ACK before fdatasync */
				for (uint32_t i = 0; i < nd->rd.n_msgs; i++)
					net_send(s, nd->id, &nd->rd.msgs[i]);
				nd->rd.n_msgs = 0;
			}
			return;
		}
		node_complete(s, nd);
	}
}

/* Work through what queued up while the node was blocked on its disk. */
static void node_run(struct raftsim *s, struct raftsim_node *nd)
{
	node_process(s, nd);
	while (nd->up && !nd->busy &&
	       (nd->inbox.head < nd->inbox.n || nd->missed_ticks)) {
		if (nd->inbox.head < nd->inbox.n) {
			struct raft_msg m = nd->inbox.m[nd->inbox.head++];

			if (nd->inbox.head == nd->inbox.n)
				nd->inbox.head = nd->inbox.n = 0;
			node_step(s, nd, &m);
			for (uint32_t i = 0; i < m.n_entries; i++)
				free(m.entries[i].data);
			free(m.entries);
			free(m.data);
		} else {
			nd->missed_ticks--;
			raft_tick(nd->r, raftsim_local_time(s, nd->id));
		}
		node_process(s, nd);
	}
}

void raftsim_kick(struct raftsim *s, uint32_t id)
{
	struct raftsim_node *nd = &s->nodes[id];

	node_run(s, nd);
	raftsim_check_node(s, nd);
}

static void inbox_clear(struct raftsim_node *nd)
{
	uint32_t i, j;

	for (i = nd->inbox.head; i < nd->inbox.n; i++) {
		for (j = 0; j < nd->inbox.m[i].n_entries; j++)
			free(nd->inbox.m[i].entries[j].data);
		free(nd->inbox.m[i].entries);
		free(nd->inbox.m[i].data);
	}
	nd->inbox.head = nd->inbox.n = 0;
}

static void node_boot(struct raftsim *s, struct raftsim_node *nd)
{
	struct raft_options opt = { 0 };
	struct raft_conf conf = { 0 };
	uint32_t i;

	opt.id = nd->id;
	opt.election_ticks = s->o.election_ticks;
	opt.heartbeat_ticks = s->o.heartbeat_ticks;
	opt.seed = s->o.seed * 1000003 + nd->gen * 7919 + nd->id;
	opt.pre_vote = s->o.pre_vote;
	opt.check_quorum = s->o.check_quorum;
	opt.external_commit = s->o.external_commit;
	opt.max_inflight = s->o.max_inflight;
	opt.max_batch = s->o.max_batch;
	opt.max_batch_bytes = s->o.max_batch_bytes;
	opt.max_inflight_bytes = s->o.max_inflight_bytes;
	opt.snapshot_chunk = s->o.snapshot_chunk;
	opt.tick_time = s->o.tick_us;
	opt.drift_ppm = s->o.drift_ppm;
	opt.lease_margin = s->o.lease_margin;
	/* bootstrap configuration: voters 1..n; later joiners start empty */
	if (nd->id <= s->o.n) {
		conf.n = s->o.n;
		for (i = 0; i < s->o.n; i++) {
			conf.m[i].id = i + 1;
			conf.m[i].weight = s->o.weights[i + 1] ? s->o.weights[i + 1] : 1;
			conf.m[i].role = RAFT_VOTER;
		}
		conf.threshold = s->o.threshold;
	}
	nd->r = raft_new(&opt, &conf);
	if (!nd->r || raft_restore(nd->r, &nd->hs, &nd->snap, nd->log,
				   (uint32_t)nd->n_log))
		raftsim_fail(s, "node %u: cannot restart from its disk", nd->id);
	raftsim_sm_reset(nd);
	if (nd->snap.index && !raftsim_sm_restore(nd, &nd->snap))
		raftsim_fail(s, "node %u: disk snapshot does not decode", nd->id);
	nd->started = true;
	nd->up = true;
	nd->busy = false;
	nd->missed_ticks = 0;
	nd->seen_commit = raft_commit_index(nd->r);
	nd->leader_term_checked = 0;
	nd->la_term = 0;
	nd->chk_idx = 0;
	schedule_tick(s, nd, raftsim_rand(s) % tick_period(s, nd) + 1);
}

static void node_crash(struct raftsim *s, struct raftsim_node *nd, bool torn)
{
	if (!nd->up)
		return;
	if (nd->busy) {
		/* unsynced data is lost, or a prefix of it made it (torn write) */
		uint64_t items = raftsim_ready_items(&nd->rd);
		uint64_t keep = torn && items ? raftsim_rand(s) % (items + 1) : 0;

		raftsim_disk_write(nd, &nd->rd, keep);
	}
	raft_free(nd->r);
	nd->r = NULL;
	nd->up = false;
	nd->busy = false;
	nd->gen++;
	inbox_clear(nd);
}

void raftsim_crash(struct raftsim *s, uint32_t id)
{
	struct raftsim_node *nd = &s->nodes[id];

	node_crash(s, nd, nd->tear_on_crash || (raftsim_rand(s) & 1));
}

void raftsim_restart(struct raftsim *s, uint32_t id)
{
	struct raftsim_node *nd = &s->nodes[id];

	if (nd->up || !nd->started)
		return;
	node_boot(s, nd);
	raftsim_check_node(s, nd);
}

void raftsim_start_node(struct raftsim *s, uint32_t id)
{
	struct raftsim_node *nd = &s->nodes[id];

	if (nd->started)
		return;
	node_boot(s, nd);
}

/* ---------------------------------------------------------- the loop */

struct raftsim *raftsim_new(const struct raftsim_opts *o)
{
	struct raftsim *s = xrealloc(NULL, sizeof(*s));
	uint32_t i;

	memset(s, 0, sizeof(*s));
	s->o = *o;
	if (!s->o.tick_us)
		s->o.tick_us = 10000;
	if (!s->o.election_ticks)
		s->o.election_ticks = 10;
	if (!s->o.heartbeat_ticks)
		s->o.heartbeat_ticks = 1;
	if (!s->o.lat_max_us) {
		s->o.lat_min_us = 500;
		s->o.lat_max_us = 2000;
	}
	if (s->o.lat_min_us > s->o.lat_max_us)
		s->o.lat_min_us = s->o.lat_max_us;
	s->rng = o->seed ^ 0x5deece66dULL;
	raftsim_check_init(s);
	for (i = 1; i <= RAFTSIM_MAX_NODES; i++) {
		s->nodes[i].id = i;
		s->nodes[i].disk_us = -1;
	}
	for (i = 1; i <= o->n && i <= RAFTSIM_MAX_NODES; i++)
		node_boot(s, &s->nodes[i]);
	return s;
}

void raftsim_free(struct raftsim *s)
{
	uint32_t i;

	if (!s)
		return;
	for (i = 1; i <= RAFTSIM_MAX_NODES; i++) {
		struct raftsim_node *nd = &s->nodes[i];

		raft_free(nd->r);
		inbox_clear(nd);
		free(nd->inbox.m);
		raftsim_disk_truncate(nd, 0);
		free(nd->log);
		free(nd->snap.data);
		free(nd->sm);
		raft_sessions_free(nd->sessions);
	}
	while (s->n_ev)
		msg_free(ev_pop(s).msg);
	free(s->heap);
	free(s->acks);
	raftsim_check_free(s);
	free(s);
}

static void deliver(struct raftsim *s, struct raftsim_node *nd,
		    struct raft_msg *m)
{
	if (!nd->up || s->cut[m->from][m->to]) {
		msg_free(m);
		return;
	}
	if (nd->busy) {
		struct raftsim_msgq *q = &nd->inbox;

		if (q->n == q->cap) {
			q->cap = q->cap ? 2 * q->cap : 16;
			q->m = xrealloc(q->m, q->cap * sizeof(*q->m));
		}
		q->m[q->n++] = *m;
		free(m);	/* the queue owns entries/data now */
		return;
	}
	node_step(s, nd, m);
	msg_free(m);
	node_run(s, nd);
}

bool raftsim_step(struct raftsim *s)
{
	struct raftsim_event ev;
	struct raftsim_node *nd;

	if (!s->n_ev)
		return false;
	ev = ev_pop(s);
	s->now = ev.time;
	s->steps++;
	nd = &s->nodes[ev.node];
	switch (ev.type) {
	case EV_DELIVER:
		deliver(s, nd, ev.msg);
		break;
	case EV_TICK:
		if (ev.gen != nd->gen || !nd->up)
			return true;
		schedule_tick(s, nd, tick_period(s, nd));
		if (nd->busy) {
			nd->missed_ticks++;
			return true;
		}
		raft_tick(nd->r, raftsim_local_time(s, nd->id));
		node_run(s, nd);
		break;
	case EV_SYNC:
		if (ev.gen != nd->gen || !nd->up || !nd->busy)
			return true;
		node_complete(s, nd);
		node_run(s, nd);
		break;
	}
	if (nd->up)
		raftsim_check_node(s, nd);
	return true;
}

void raftsim_run_until(struct raftsim *s, uint64_t t)
{
	while (s->n_ev && s->heap[0].time <= t && !s->violation[0])
		raftsim_step(s);
	if (s->now < t)
		s->now = t;
}

void raftsim_run_for(struct raftsim *s, uint64_t us)
{
	raftsim_run_until(s, s->now + us);
}

bool raftsim_run_while_not(struct raftsim *s,
			   bool (*pred)(struct raftsim *s, void *arg),
			   void *arg, uint64_t max_us)
{
	uint64_t end = s->now + max_us;

	while (!pred(s, arg)) {
		if (!s->n_ev || s->heap[0].time > end || s->violation[0])
			return pred(s, arg);
		raftsim_step(s);
	}
	return true;
}

uint32_t raftsim_leader(struct raftsim *s)
{
	uint64_t best = 0;
	uint32_t id = 0, i;

	for (i = 1; i <= RAFTSIM_MAX_NODES; i++) {
		struct raftsim_node *nd = &s->nodes[i];

		if (nd->up && raft_role(nd->r) == RAFT_LEADER &&
		    raft_term(nd->r) > best) {
			best = raft_term(nd->r);
			id = i;
		}
	}
	return id;
}

static bool leader_ready(struct raftsim *s, void *arg)
{
	uint32_t id = raftsim_leader(s);
	struct raft *r;
	uint64_t i;

	if (!id)
		return false;
	r = s->nodes[id].r;
	/* a leader is usable once it committed an entry of its term */
	for (i = raft_commit_index(r); i >= raft_snapshot_index(r) && i; i--) {
		uint64_t t = raft_term_at(r, i);

		if (t == raft_term(r)) {
			*(uint32_t *)arg = id;
			return true;
		}
		if (t < raft_term(r))
			break;
	}
	return false;
}

uint32_t raftsim_wait_leader(struct raftsim *s, uint64_t max_us)
{
	uint32_t id = 0;

	if (raftsim_run_while_not(s, leader_ready, &id, max_us))
		return id;
	return 0;
}

static bool all_applied(struct raftsim *s, void *arg)
{
	uint64_t index = *(uint64_t *)arg;
	uint32_t i;

	for (i = 1; i <= RAFTSIM_MAX_NODES; i++)
		if (s->nodes[i].up && s->nodes[i].sm_applied < index)
			return false;
	return true;
}

bool raftsim_wait_applied(struct raftsim *s, uint64_t index, uint64_t max_us)
{
	return raftsim_run_while_not(s, all_applied, &index, max_us);
}

int raftsim_propose(struct raftsim *s, uint32_t id, uint64_t client_id,
		    uint64_t seq, uint64_t *index)
{
	struct raftsim_node *nd = &s->nodes[id];
	uint64_t value = client_id << 32 | seq;
	int err;

	if (!nd->up || nd->busy)
		return RAFT_EBUSY;
	err = raft_propose(nd->r, client_id, seq, &value, sizeof(value), index);
	raftsim_kick(s, id);
	return err;
}

/* ---------------------------------------------------------- network faults */

void raftsim_cut(struct raftsim *s, uint32_t a, uint32_t b, bool cut)
{
	s->cut[a][b] = cut;
	s->cut[b][a] = cut;
}

void raftsim_isolate(struct raftsim *s, uint32_t id)
{
	uint32_t i;

	for (i = 1; i <= RAFTSIM_MAX_NODES; i++)
		if (i != id)
			raftsim_cut(s, id, i, true);
}

void raftsim_heal(struct raftsim *s)
{
	memset(s->cut, 0, sizeof(s->cut));
}

void raftsim_set_net(struct raftsim *s, uint32_t loss_pm, uint32_t dup_pm,
		     uint32_t lat_min_us, uint32_t lat_max_us)
{
	s->o.loss_pm = loss_pm;
	s->o.dup_pm = dup_pm;
	s->o.lat_min_us = lat_min_us;
	s->o.lat_max_us = lat_max_us < lat_min_us ? lat_min_us : lat_max_us;
}

struct raftsim_opts raftsim_lan_opts(uint32_t n, uint64_t seed)
{
	struct raftsim_opts o = { 0 };

	o.n = n;
	o.seed = seed;
	o.tick_us = 10000;
	o.election_ticks = 10;
	o.pre_vote = true;
	o.check_quorum = true;
	o.lat_min_us = 1000;
	o.lat_max_us = 2000;
	o.disk_us = 500;
	return o;
}
