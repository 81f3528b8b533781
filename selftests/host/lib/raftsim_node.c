// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * raftsim nodes' disks and state machines.  A disk holds the hard state, the
 * latest snapshot and the entries after it; a ready is written in WAL order
 * (snapshot, entries, hard state), so a crash that tears the write keeps a
 * prefix.  The state machine is the list of applied client commands plus
 * the session table that makes retries idempotent (diss. §6.3).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "raftsim.h"

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p) {
		fprintf(stderr, "raftsim: out of memory\n");
		abort();
	}
	return p;
}

/* ---------------------------------------------------------- disk */

void raftsim_disk_truncate(struct raftsim_node *nd, uint64_t from)
{
	while (nd->n_log && nd->log[nd->n_log - 1].index >= from) {
		nd->n_log--;
		free(nd->log[nd->n_log].data);
	}
}

static void disk_append(struct raftsim_node *nd, const struct raft_entry *e)
{
	struct raft_entry *d;

	if (nd->n_log == nd->cap_log) {
		nd->cap_log = nd->cap_log ? 2 * nd->cap_log : 64;
		nd->log = xrealloc(nd->log, nd->cap_log * sizeof(*nd->log));
	}
	d = &nd->log[nd->n_log++];
	*d = *e;
	d->data = NULL;
	if (e->len) {
		d->data = xrealloc(NULL, e->len);
		memcpy(d->data, e->data, e->len);
	}
}

/* Drop durable entries up to index (now inside the snapshot). */
static void disk_drop_prefix(struct raftsim_node *nd, uint64_t index)
{
	uint64_t k = 0, i;

	while (k < nd->n_log && nd->log[k].index <= index)
		free(nd->log[k++].data);
	for (i = k; i < nd->n_log; i++)
		nd->log[i - k] = nd->log[i];
	nd->n_log -= k;
}

static void disk_put_snapshot(struct raftsim_node *nd,
			      const struct raft_snapshot *sn)
{
	free(nd->snap.data);
	nd->snap = *sn;
	nd->snap.data = NULL;
	if (sn->size) {
		nd->snap.data = xrealloc(NULL, sn->size);
		memcpy(nd->snap.data, sn->data, sn->size);
	}
}

/*
 * Make a ready durable, or (crash, failed write) only a prefix of it: the
 * snapshot, then the entries, then the hard state, which is the order a WAL
 * writes them in, so a torn write never leaves a hard state without the
 * entries before it.  items counts snapshot + entries + hard state.
 */
void raftsim_disk_write(struct raftsim_node *nd, const struct raft_ready *rd,
		       uint64_t items)
{
	uint32_t i;

	if (rd->snapshot) {
		const struct raft_snapshot *sn = rd->snapshot;
		bool keep = false;

		if (!items--)
			return;
		/* §7: keep what follows an entry the snapshot agrees with */
		if (nd->snap.index == sn->index)
			keep = nd->snap.term == sn->term;
		for (i = 0; i < nd->n_log; i++)
			if (nd->log[i].index == sn->index)
				keep = nd->log[i].term == sn->term;
		if (keep)
			disk_drop_prefix(nd, sn->index);
		else
			raftsim_disk_truncate(nd, 0);
		disk_put_snapshot(nd, sn);
	}
	for (i = 0; i < rd->n_entries; i++) {
		if (!items--)
			return;
		if (i == 0)
			raftsim_disk_truncate(nd, rd->entries[0].index);
		disk_append(nd, &rd->entries[i]);
	}
	if (rd->hs_changed && items)
		nd->hs = rd->hs;
}

uint64_t raftsim_ready_items(const struct raft_ready *rd)
{
	return (rd->snapshot ? 1 : 0) + rd->n_entries + (rd->hs_changed ? 1 : 0);
}

/* ---------------------------------------------------------- state machine */

void raftsim_sm_reset(struct raftsim_node *nd)
{
	nd->n_sm = 0;
	nd->sm_applied = 0;
	nd->sm_snap_at = 0;
	raft_sessions_free(nd->sessions);
	nd->sessions = raft_sessions_new();
}

static void sm_push(struct raftsim_node *nd, uint64_t client, uint64_t seq,
		    uint64_t index)
{
	if (nd->n_sm == nd->cap_sm) {
		nd->cap_sm = nd->cap_sm ? 2 * nd->cap_sm : 64;
		nd->sm = xrealloc(nd->sm, nd->cap_sm * sizeof(*nd->sm));
	}
	nd->sm[nd->n_sm].client_id = client;
	nd->sm[nd->n_sm].seq = seq;
	nd->sm[nd->n_sm].index = index;
	nd->n_sm++;
}

/* Snapshot format: u64 count, count x {client, seq, index}, sessions. */
static void *sm_encode(struct raftsim_node *nd, uint64_t *size)
{
	size_t ss = raft_sessions_size(nd->sessions);
	uint64_t n = 8 + nd->n_sm * 24 + ss;
	uint8_t *buf = xrealloc(NULL, n);

	memcpy(buf, &nd->n_sm, 8);
	for (uint64_t i = 0; i < nd->n_sm; i++) {
		memcpy(buf + 8 + 24 * i, &nd->sm[i].client_id, 8);
		memcpy(buf + 16 + 24 * i, &nd->sm[i].seq, 8);
		memcpy(buf + 24 + 24 * i, &nd->sm[i].index, 8);
	}
	raft_sessions_encode(nd->sessions, buf + 8 + nd->n_sm * 24);
	*size = n;
	return buf;
}

bool raftsim_sm_restore(struct raftsim_node *nd, const struct raft_snapshot *sn)
{
	const uint8_t *p = sn->data;
	uint64_t n, i;

	raftsim_sm_reset(nd);
	nd->sm_applied = sn->index;
	nd->sm_snap_at = sn->index;
	if (!sn->size)
		return true;
	if (sn->size < 8)
		return false;
	memcpy(&n, p, 8);
	if (8 + 24 * n > sn->size)
		return false;
	for (i = 0; i < n; i++) {
		uint64_t c, q, x;

		memcpy(&c, p + 8 + 24 * i, 8);
		memcpy(&q, p + 16 + 24 * i, 8);
		memcpy(&x, p + 24 + 24 * i, 8);
		sm_push(nd, c, q, x);
	}
	return !raft_sessions_decode(nd->sessions, p + 8 + 24 * n,
				     sn->size - 8 - 24 * n);
}

static void client_reply(struct raftsim *s, struct raftsim_node *nd,
			 const struct raft_entry *e)
{
	uint32_t i;

	if (getenv("RAFTSIM_TRACE"))
		fprintf(stderr, "t=%llu node %u applies %llu (t%llu) client %llu seq %llu\n",
			(unsigned long long)s->now, nd->id,
			(unsigned long long)e->index, (unsigned long long)e->term,
			(unsigned long long)e->client_id,
			(unsigned long long)e->client_seq);

	for (i = 0; i < s->n_clients; i++) {
		struct raftsim_client *c = &s->clients[i];

		if (c->id != e->client_id || !c->pending || c->seq != e->client_seq ||
		    c->target != nd->id)
			continue;
		if (s->n_acks == s->cap_acks) {
			s->cap_acks = s->cap_acks ? 2 * s->cap_acks : 64;
			s->acks = xrealloc(s->acks, s->cap_acks * sizeof(*s->acks));
		}
		if (getenv("RAFTSIM_TRACE"))
			fprintf(stderr, "  ack client %llu seq %llu\n",
				(unsigned long long)c->id, (unsigned long long)c->seq);
		s->acks[s->n_acks].client_id = c->id;
		s->acks[s->n_acks].seq = c->seq;
		s->acks[s->n_acks].index = e->index;
		s->n_acks++;
		c->pending = false;
		c->acked++;
		c->seq++;
	}
}

void raftsim_sm_apply(struct raftsim *s, struct raftsim_node *nd,
		     const struct raft_entry *e)
{
	raftsim_check_apply(s, nd, e);
	nd->sm_applied = e->index;
	if (e->type != RAFT_ENTRY_NORMAL)
		return;
	/* diss. §6.3: apply a (client, seq) once; answer duplicates from the table */
	if (raft_sessions_admit(nd->sessions, e->client_id, e->client_seq) > 0)
		sm_push(nd, e->client_id, e->client_seq, e->index);
	else
		nd->dup_skipped++;
	client_reply(s, nd, e);
}

void raftsim_take_snapshot(struct raftsim *s, uint32_t id)
{
	struct raftsim_node *nd = &s->nodes[id];
	uint64_t size;
	void *data;

	if (!nd->up || nd->busy || nd->sm_applied <= nd->sm_snap_at)
		return;
	data = sm_encode(nd, &size);
	if (getenv("RAFTSIM_TRACE"))
		fprintf(stderr, "t=%llu node %u snapshots at %llu (%llu cmds)\n",
			(unsigned long long)s->now, nd->id,
			(unsigned long long)nd->sm_applied,
			(unsigned long long)nd->n_sm);
	if (raft_snapshot_taken(nd->r, nd->sm_applied, data, size,
				s->o.snapshot_keep) == RAFT_OK) {
		disk_put_snapshot(nd, raft_last_snapshot(nd->r));
		disk_drop_prefix(nd, nd->sm_applied);
		nd->sm_snap_at = nd->sm_applied;
	}
	free(data);
}

