// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Snapshots (§7): compaction of the log under a snapshot the state machine
 * hands us, and InstallSnapshot in chunks, one in flight at a time, from the
 * leader to a follower whose next entry was compacted away.
 */
#include <stdlib.h>
#include <string.h>

#include "raft/raft_int.h"

/* The configuration in force at index (latest CONF entry at or before it). */
static void conf_at(const struct raft *r, uint64_t index, struct raft_conf *c)
{
	uint64_t i;

	for (i = index; i > r->log.snap_index; i--) {
		const struct raft_entry *e = raft_log_get(&r->log, i);

		if (e && e->type == RAFT_ENTRY_CONF &&
		    !raft_conf_decode(c, e->data, e->len))
			return;
	}
	*c = r->snap_conf;
}

int raft_snapshot_taken(struct raft *r, uint64_t index, const void *data,
			uint64_t size, uint64_t keep_entries)
{
	struct raft_log *l = &r->log;
	uint64_t cut;
	void *copy = NULL;

	if (r->in_ready || index > l->applied || index <= r->snap.index ||
	    index <= l->snap_index || (size && !data))
		return RAFT_EINVAL;
	if (size) {
		copy = malloc(size);
		if (!copy)
			return RAFT_ENOMEM;
		memcpy(copy, data, size);
	}
	free(r->snap.data);
	r->snap.index = index;
	r->snap.term = raft_log_term(l, index);
	conf_at(r, index, &r->snap.conf);
	r->snap.size = size;
	r->snap.data = copy;
	/* §7: discard the entries the snapshot covers, keeping a tail for slow followers. */
	cut = index > keep_entries ? index - keep_entries : 0;
	if (cut > l->snap_index) {
		struct raft_conf c;

		conf_at(r, cut, &c);
		raft_log_compact(l, cut, raft_log_term(l, cut));
		r->snap_conf = c;
	}
	return RAFT_OK;
}

static void send_chunk(struct raft *r, struct raft_progress *p)
{
	struct raft_msg m = { 0 };
	uint64_t left = r->snap.size - p->snap_offset;

	m.type = RAFT_MSG_SNAPSHOT;
	m.to = p->id;
	m.term = r->term;
	m.ctx = r->round;
	m.snap_index = r->snap.index;
	m.snap_term = r->snap.term;
	m.snap_conf = r->snap.conf;
	m.snap_size = r->snap.size;
	m.offset = p->snap_offset;
	m.len = left > r->opt.snapshot_chunk ? r->opt.snapshot_chunk : left;
	m.done = p->snap_offset + m.len == r->snap.size;
	/* data is resolved from r->snap in raft_ready() */
	raft_send(r, &m);
	p->snap_wait = 0;
}

void raft_send_snapshot(struct raft *r, struct raft_progress *p)
{
	if (!r->snap.index)
		return;
	p->state = PROGRESS_SNAPSHOT;
	p->snap_index = r->snap.index;
	p->snap_offset = 0;
	p->inflight = 0;
	p->inflight_bytes = 0;
	send_chunk(r, p);
}

/* Leader tick: resend a chunk that got no answer (lost message). */
void raft_snapshot_tick(struct raft *r)
{
	uint32_t i;

	for (i = 0; i < r->n_prs; i++) {
		struct raft_progress *p = &r->prs[i];

		if (p->state != PROGRESS_SNAPSHOT)
			continue;
		if (++p->snap_wait < 2 * r->opt.heartbeat_ticks + 1)
			continue;
		if (p->snap_index != r->snap.index) {
			p->snap_index = r->snap.index;
			p->snap_offset = 0;
		}
		send_chunk(r, p);
	}
}

void raft_handle_snapshot_resp(struct raft *r, const struct raft_msg *m)
{
	struct raft_progress *p = raft_progress(r, m->from);

	if (!p)
		return;
	p->recent_active = true;
	if (m->ctx > p->acked_ctx) {
		p->acked_ctx = m->ctx;
		raft_read_round_acked(r);
	}
	if (p->state != PROGRESS_SNAPSHOT || m->snap_index != p->snap_index)
		return;
	if (m->reject) {
		p->snap_offset = 0;
		send_chunk(r, p);
		return;
	}
	if (m->done) {
		if (p->match < m->snap_index)
			p->match = m->snap_index;
		p->state = PROGRESS_PROBE;
		p->next = p->match + 1;
		p->probe_sent = false;
		p->inflight = 0;
		p->inflight_head = 0;
		p->inflight_bytes = 0;
		raft_send_more(r, p);
		return;
	}
	if (m->offset <= p->snap_offset || m->offset > r->snap.size)
		return;	/* stale or duplicate answer */
	p->snap_offset = m->offset;
	send_chunk(r, p);
}

static void install(struct raft *r)
{
	struct raft_log *l = &r->log;
	uint64_t idx = r->recv.index, term = r->recv.term;

	/* §7 receiver 6: existing entry matches the snapshot's last: keep what follows. */
	if (idx <= raft_log_last(l) && raft_log_term(l, idx) == term) {
		raft_log_compact(l, idx, term);
	} else {
		/* §7 receiver 7: otherwise discard the entire log. */
		raft_log_reset(l, idx, term);
	}
	if (l->committed < idx)
		l->committed = idx;
	if (l->stable < idx)
		l->stable = idx;
	l->applied = idx;
	l->handed = idx;
	free(r->snap.data);
	r->snap = r->recv;
	r->snap_conf = r->recv.conf;
	memset(&r->recv, 0, sizeof(r->recv));
	r->recv_off = 0;
	raft_conf_rebuild(r);
	/* §7 receiver 8: reset the state machine using the snapshot. */
	r->snap_pending = true;
}

void raft_handle_snapshot(struct raft *r, const struct raft_msg *m)
{
	struct raft_msg resp = { 0 };

	resp.type = RAFT_MSG_SNAPSHOT_RESP;
	resp.to = m->from;
	resp.term = r->term;
	resp.ctx = m->ctx;
	resp.snap_index = m->snap_index;
	if (m->snap_index <= r->log.committed) {
		/* we already hold everything it covers */
		resp.done = true;
		resp.offset = m->snap_size;
		raft_send(r, &resp);
		return;
	}
	if (m->offset == 0 && (r->recv.index != m->snap_index ||
			       r->recv.term != m->snap_term)) {
		/* §7 receiver 2: create a new snapshot file if first chunk. */
		free(r->recv.data);
		memset(&r->recv, 0, sizeof(r->recv));
		r->recv_off = 0;
		if (m->snap_size) {
			r->recv.data = malloc(m->snap_size);
			if (!r->recv.data)
				return;
		}
		r->recv.index = m->snap_index;
		r->recv.term = m->snap_term;
		r->recv.conf = m->snap_conf;
		r->recv.size = m->snap_size;
	}
	if (r->recv.index != m->snap_index || r->recv.term != m->snap_term ||
	    m->offset > r->recv_off || m->offset + m->len > r->recv.size ||
	    (m->len && !m->data)) {
		resp.reject = true;
		raft_send(r, &resp);
		return;
	}
	if (m->offset == r->recv_off) {
		/* §7 receiver 3: write data into the snapshot file at offset. */
		if (m->len)
			memcpy((uint8_t *)r->recv.data + m->offset, m->data, m->len);
		r->recv_off += m->len;
	}
	resp.offset = r->recv_off;
	/* §7 receiver 5: reply and wait for more data chunks if done is false. */
	if (r->recv_off == r->recv.size && (m->done || r->recv.size == 0)) {
		install(r);
		resp.done = true;
		resp.offset = r->snap.size;
	}
	raft_send(r, &resp);
}
