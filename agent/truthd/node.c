// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * truthd's node: the Raft core driven by the event loop, the disk under
 * it and the keyspace on top.
 *
 * One ready at a time (Documentation/raft.md), with the liberty an
 * asynchronous disk needs: entries are written (not yet synced) and the
 * ready handed back at once; durable.c holds every message that vouches
 * for this disk until the sync thread says the log is durable, and counts
 * the leader's commit itself from durable indexes.  A leader's APPENDs
 * leave at once, so followers write in parallel with it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"
#include "truthd/truthd.h"

#define SNAP_KEEP_ENTRIES	1024	/* log kept behind a snapshot for slow followers */

static void storage_log(void *ctx, enum truth_storage_level l, const char *msg)
{
	if (l == TRUTH_STORAGE_ERR)
		log_err("storage: %s", msg);
	else if (l == TRUTH_STORAGE_WARN)
		log_warn("storage: %s", msg);
	else
		log_info("storage: %s", msg);
}

struct load_ctx {
	struct truthd *d;
	struct raft_entry *e;
	uint32_t n, cap;
};

static int load_entry(void *arg, const struct truth_wal_entry *we)
{
	struct load_ctx *lc = arg;
	struct raft_entry *e;

	if (lc->n == lc->cap) {
		uint32_t cap = lc->cap ? lc->cap * 2 : 1024;
		struct raft_entry *ne = realloc(lc->e, cap * sizeof(*ne));

		if (!ne)
			return -ENOMEM;
		lc->e = ne;
		lc->cap = cap;
	}
	e = &lc->e[lc->n];
	memset(e, 0, sizeof(*e));
	e->index = we->index;
	e->term = we->term;
	e->type = we->type;
	e->len = we->len;
	if (e->type == RAFT_ENTRY_NORMAL)
		hlc_observe(lc->d, truth_sm_entry_hlc(we->data, we->len));
	if (we->len) {
		e->data = malloc(we->len);
		if (!e->data)
			return -ENOMEM;
		memcpy(e->data, we->data, we->len);
	}
	lc->n++;
	return 0;
}

static void bootstrap_conf(const struct truth_conf *c, struct raft_conf *rc)
{
	uint32_t i;

	memset(rc, 0, sizeof(*rc));
	rc->n = c->n_peers;
	for (i = 0; i < c->n_peers; i++) {
		rc->m[i].id = c->peers[i].id;
		rc->m[i].weight = 1;
		rc->m[i].role = RAFT_VOTER;
	}
}

int node_open(struct truthd *d)
{
	struct truth_wal_options wo = { 0 };
	struct raft_options opt = { 0 };
	struct raft_snapshot rs = { 0 };
	struct raft_hard_state hs;
	struct load_ctx lc = { .d = d };
	struct truth_meta meta;
	struct truth_snap snap = { 0 };
	struct raft_conf rc;
	char err[TRUTH_STORAGE_ERRLEN];
	bool found = false;
	uint64_t from;
	uint32_t i;
	int ret;

	ret = coord_open(d);
	if (ret)
		return ret;
	ret = truth_snap_load(&truth_fs_posix, d->conf.data_dir, storage_log, NULL,
			      &snap, &found, err);
	if (ret) {
		log_err("%s", err);
		return ret;
	}
	ret = truth_meta_open(&d->meta, &truth_fs_posix, d->conf.data_dir,
			      storage_log, NULL, &meta, err);
	if (ret) {
		log_err("%s", err);
		goto out;
	}
	wo.dir = d->conf.data_dir;
	wo.segment_size = d->conf.wal_segment_bytes;
	wo.log = storage_log;
	ret = truth_wal_open(&d->wal, &wo, found ? snap.index : 0,
			     found ? snap.term : 0, err);
	if (ret) {
		log_err("%s", err);
		log_err("refusing to start; Documentation/storage.md says how to rebuild this node from its peers");
		goto out;
	}
	from = truth_wal_first_index(d->wal);
	if (found && from <= snap.index)
		from = snap.index + 1;
	if (from <= truth_wal_last_index(d->wal)) {
		ret = truth_wal_iterate(d->wal, from, load_entry, &lc, err);
		if (ret) {
			log_err("%s", err);
			goto out;
		}
	}

	d->tick_us = d->conf.heartbeat_ms >= 10 ? 10000 : d->conf.heartbeat_ms * 1000;
	opt.id = d->conf.node_id;
	opt.tick_time = d->tick_us;
	opt.heartbeat_ticks = (uint32_t)(d->conf.heartbeat_ms * 1000ull / d->tick_us);
	opt.election_ticks = (uint32_t)(d->conf.election_timeout_ms * 1000ull / d->tick_us);
	if (!opt.heartbeat_ticks)
		opt.heartbeat_ticks = 1;
	opt.seed = (uint64_t)truth_mono_us() ^ ((uint64_t)d->conf.node_id << 32);
	opt.pre_vote = true;
	opt.check_quorum = true;
	opt.max_inflight = 64;
	opt.max_batch = 512;
	/* bigval: with 1 MiB entries, bound what one APPEND and one follower's
	 * window put into the UDP buffers (Documentation/wire.md "Fragments") */
	opt.max_batch_bytes = 1u << 20;
	opt.max_inflight_bytes = 4u << 20;
	opt.snapshot_chunk = TRUTH_TP_SNAP_CHUNK;
	/*
	 * Leader leases: the clock's rate bound (200 ppm, the same the error
	 * bounds rest on) and one tick of margin, which covers a time daemon
	 * slewing CLOCK_MONOTONIC at adjtimex's 500 ppm frequency limit over
	 * any lease under 20 s and a timer firing up to a tick late
	 * (Documentation/clock.md "Leases and lease reads").
	 */
	opt.drift_ppm = TRUTH_CLOCK_DEFAULT_MAX_DRIFT_PPB / 1000;
	opt.lease_margin = d->tick_us;
	/* durable.c counts: the core would count writes not yet synced */
	opt.external_commit = true;
	bootstrap_conf(&d->conf, &rc);
	d->raft = raft_new(&opt, &rc);
	if (!d->raft) {
		ret = -ENOMEM;
		goto out;
	}
	hs.term = meta.term;
	hs.vote = meta.vote;
	if (found) {
		rs.index = snap.index;
		rs.term = snap.term;
		rs.size = snap.data_len;
		rs.data = snap.data;
		if (raft_conf_decode(&rs.conf, snap.conf, snap.conf_len)) {
			log_err("%s: snapshot %llu has a configuration that does not decode",
				d->conf.data_dir, (unsigned long long)snap.index);
			ret = -EINVAL;
			goto out;
		}
		ret = coord_restore(d, snap.data, snap.data_len);
		if (ret) {
			log_err("%s: snapshot %llu: state machine data does not decode",
				d->conf.data_dir, (unsigned long long)snap.index);
			goto out;
		}
	}
	if (hs.term || found || lc.n) {
		ret = raft_restore(d->raft, &hs, found ? &rs : NULL, lc.e, lc.n);
		if (ret) {
			log_err("raft_restore failed (%d)", ret);
			ret = -EINVAL;
			goto out;
		}
	}
	log_info("node %u: term %llu, vote %u, snapshot %llu, log %llu..%llu (%u entries loaded)",
		 d->conf.node_id, (unsigned long long)hs.term, hs.vote,
		 (unsigned long long)(found ? snap.index : 0),
		 (unsigned long long)truth_wal_first_index(d->wal),
		 (unsigned long long)truth_wal_last_index(d->wal), lc.n);
	ret = 0;
out:
	for (i = 0; i < lc.n; i++)
		free(lc.e[i].data);
	free(lc.e);
	truth_snap_free(&snap);
	return ret;
}

void node_close(struct truthd *d)
{
	char err[TRUTH_STORAGE_ERRLEN];

	if (d->wal && d->conf.fsync && !d->failed)
		truth_wal_sync(d->wal, NULL, err);
	if (d->wal)
		truth_wal_close(d->wal);
	if (d->meta)
		truth_meta_close(d->meta);
	if (d->raft)
		raft_free(d->raft);
	if (d->sm)
		coord_close(d);
	d->wal = NULL;
	d->meta = NULL;
	d->raft = NULL;
}

/* I/O failed: stop rather than say anything we cannot stand behind. */
static void fail_stop(struct truthd *d, const char *what, const char *err)
{
	log_err("%s: %s; stopping (fail-stop)", what, err);
	d->failed = true;
	truth_evloop_stop(&d->loop);
}

void node_deliver(void *ctx, const struct raft_msg *m)
{
	struct truthd *d = ctx;

	if (d->failed)
		return;
	if (m->type == RAFT_MSG_APPEND && m->n_entries &&
	    raft_role(d->raft) != RAFT_LEADER)
		lat_start(d, false, m->prev_index + 1, m->prev_index + m->n_entries);
	raft_step(d->raft, m);
	/* a follower's ack that reached user space counts (the kernel's
	 * fast path counts the others before they get here) */
	if (m->type == RAFT_MSG_APPEND_RESP && !m->reject && !m->heartbeat) {
		count_roles(d);		/* the step may have made us leader */
		if (d->count_leader)
			lat_stamp(d, LAT_ACKED, m->match_index);
		count_peer(d, m);
	}
}

uint64_t node_peer_match(struct truthd *d, uint32_t id)
{
	return count_match(d, id);
}

void node_tick(struct truthd *d)
{
	uint64_t n = truth_timerfd_read(d->tickfd);

	d->tp.now_us = truth_mono_us();
	/*
	 * The loop stalled (a follower's fdatasync runs in it, or the
	 * machine is busy): what the peers sent meanwhile counts before the
	 * missed ticks, so heartbeats waiting in the socket are not taken
	 * for a dead leader.
	 */
	if (n > 1) {
		clock_read_tx(d);
		truth_tp_recv(&d->tp, node_deliver, d);
	}
	/* one tick per period passed: a stalled loop catches up on time */
	while (n--)
		raft_tick(d->raft, d->tp.now_us);
}

static int wal_term_at(void *arg, const struct truth_wal_entry *e)
{
	*(uint64_t *)arg = e->term;
	return 1;
}

/* A snapshot from the leader: make it durable, then fit the log to it. */
static int persist_snapshot(struct truthd *d, const struct raft_snapshot *s)
{
	char err[TRUTH_STORAGE_ERRLEN];
	uint8_t conf[RAFT_CONF_BYTES];
	struct truth_snap ts = { 0 };
	uint64_t term = 0;

	ts.index = s->index;
	ts.term = s->term;
	ts.conf_len = raft_conf_encode(&s->conf, conf);
	ts.conf = conf;
	ts.data_len = s->size;
	ts.data = s->data;
	if (truth_snap_save(&truth_fs_posix, d->conf.data_dir, &ts, err)) {
		fail_stop(d, "snapshot", err);
		return -EIO;
	}
	/* §7 receiver 6: keep the log if it holds the snapshot's last entry */
	if (truth_wal_first_index(d->wal) <= s->index &&
	    truth_wal_last_index(d->wal) >= s->index)
		truth_wal_iterate(d->wal, s->index, wal_term_at, &term, err);
	if (term == s->term) {
		if (truth_wal_compact(d->wal, s->index, err)) {
			fail_stop(d, "wal compact", err);
			return -EIO;
		}
	} else if (truth_wal_reset(d->wal, s->index + 1, err)) {
		fail_stop(d, "wal reset", err);
		return -EIO;
	}
	drop_held_above(d, truth_wal_last_index(d->wal));
	log_info("installed snapshot %llu (term %llu, %llu bytes) from the leader",
		 (unsigned long long)s->index, (unsigned long long)s->term,
		 (unsigned long long)s->size);
	if (coord_restore(d, s->data, s->size))
		log_err("snapshot %llu from the leader: state machine data does not decode",
			(unsigned long long)s->index);
	d->bytes_since_snap = 0;
	return 0;
}

static int persist_entries(struct truthd *d, const struct raft_ready *rd)
{
	struct truth_wal_entry stack[64], *we = stack;
	char err[TRUTH_STORAGE_ERRLEN];
	uint32_t i;
	int ret;

	if (rd->n_entries > 64) {
		we = malloc(rd->n_entries * sizeof(*we));
		if (!we) {
			fail_stop(d, "wal", "out of memory");
			return -ENOMEM;
		}
	}
	for (i = 0; i < rd->n_entries; i++) {
		const struct raft_entry *e = &rd->entries[i];

		we[i].index = e->index;
		we[i].term = e->term;
		we[i].type = e->type;
		we[i].len = e->len;
		we[i].data = e->data;
		d->bytes_since_snap += e->len + TRUTH_WAL_REC_HDR;
		/* a future leader's HLC must be above every entry in its log */
		if (e->type == RAFT_ENTRY_NORMAL)
			hlc_observe(d, truth_sm_entry_hlc(e->data, e->len));
	}
	/* a conflict cuts the log first (Figure 2, receiver step 3) */
	if (rd->entries[0].index <= truth_wal_last_index(d->wal))
		drop_held_above(d, rd->entries[0].index - 1);
	ret = truth_wal_append(d->wal, we, rd->n_entries, err);
	if (we != stack)
		free(we);
	if (ret)
		fail_stop(d, "wal append", err);
	else
		lat_stamp(d, LAT_APPENDED, rd->entries[rd->n_entries - 1].index);
	return ret;
}

/* Entry (index, term) is being applied: who waited for it? */
static void resolve_write(struct truthd *d, uint64_t index, uint64_t term,
			  struct conn **mine)
{
	*mine = NULL;
	while (d->wq_len) {
		struct conn *c = d->wq[0];

		if (c->index > index)
			return;
		memmove(d->wq, d->wq + 1, --d->wq_len * sizeof(*d->wq));
		c->wait = WAIT_NONE;
		if (c->index == index && c->term == term) {
			*mine = c;	/* coord_apply() answers or blocks it */
			c->lat_index = index;
			return;
		}
		/* another leader's entry took the slot: ours never commits */
		c->wait_seq = 0;
		truth_resp_add_error(&c->s.out,
			"TRYAGAIN write lost to a leadership change, not applied; retry");
		client_resolved(d, c);
	}
}

static void apply(struct truthd *d, const struct raft_ready *rd)
{
	uint32_t i;

	for (i = 0; i < rd->n_committed; i++) {
		const struct raft_entry *e = &rd->committed[i];
		struct conn *mine;

		resolve_write(d, e->index, e->term, &mine);
		coord_apply(d, e, mine);
		lat_stamp(d, LAT_APPLIED, e->index);
		if (d->failed)
			return;
	}
}

static void reads_ready(struct truthd *d, const struct raft_ready *rd)
{
	size_t i;
	uint32_t j;

	for (j = 0; j < rd->n_reads; j++)
		for (i = 0; i < d->rq_len; i++) {
			struct conn *c = d->rq[i];

			if (c->wait == WAIT_READ_INDEX && c->ctx == rd->reads[j].ctx) {
				c->wait = WAIT_READ;
				c->index = rd->reads[j].index;
			}
		}
	for (j = 0; j < rd->n_failed_reads; j++)
		for (i = 0; i < d->rq_len; i++) {
			struct conn *c = d->rq[i];

			if (c->wait == WAIT_READ_INDEX && c->ctx == rd->failed_reads[j]) {
				c->wait = WAIT_NONE;
				truth_resp_add_error(&c->s.out,
					"TRYAGAIN leadership lost during the read; retry");
			}
		}
}

/* Serve reads whose index is applied; drop resolved ones from the queue. */
static void serve_reads(struct truthd *d)
{
	uint64_t applied = raft_applied_index(d->raft);
	size_t i, k = 0;

	for (i = 0; i < d->rq_len; i++) {
		struct conn *c = d->rq[i];

		if (c->wait == WAIT_READ && c->index <= applied) {
			coord_read(d, c, &c->req);
			c->wait = WAIT_NONE;
		}
		if (c->wait == WAIT_NONE)
			client_resolved(d, c);
		else
			d->rq[k++] = c;
	}
	d->rq_len = k;
}

static void maybe_snapshot(struct truthd *d)
{
	uint64_t applied = raft_applied_index(d->raft);
	char err[TRUTH_STORAGE_ERRLEN];
	uint8_t conf[RAFT_CONF_BYTES];
	const struct raft_snapshot *s;
	struct truth_snap ts = { 0 };
	uint8_t *data = NULL;
	long len;

	if (d->bytes_since_snap < d->conf.snapshot_bytes ||
	    applied <= raft_snapshot_index(d->raft))
		return;
	len = coord_save(d, &data);
	if (len < 0)
		return;
	if (raft_snapshot_taken(d->raft, applied, data, (uint64_t)len,
				SNAP_KEEP_ENTRIES)) {
		free(data);
		return;
	}
	free(data);
	s = raft_last_snapshot(d->raft);
	ts.index = s->index;
	ts.term = s->term;
	ts.conf_len = raft_conf_encode(&s->conf, conf);
	ts.conf = conf;
	ts.data_len = s->size;
	ts.data = s->data;
	if (truth_snap_save(&truth_fs_posix, d->conf.data_dir, &ts, err)) {
		fail_stop(d, "snapshot", err);
		return;
	}
	/* only closed segments wholly below the kept tail go */
	if (truth_wal_compact(d->wal, applied > SNAP_KEEP_ENTRIES ?
			      applied - SNAP_KEEP_ENTRIES : 0, err))
		log_warn("wal compact: %s", err);
	d->bytes_since_snap = 0;
	d->snapshots++;
	log_info("snapshot at %llu (%ld bytes)", (unsigned long long)applied, len);
}

/*
 * A leader's own messages (APPEND, SNAPSHOT, TIMEOUT_NOW) vouch for nothing
 * on this disk and leave now, back-to-back APPENDs merged; the rest wait
 * until the log written so far is durable.
 */
static void send_ready_msgs(struct truthd *d, const struct raft_ready *rd)
{
	uint64_t need = d->conf.fsync ? truth_wal_last_index(d->wal) : 0;
	uint32_t i, n = 0;

	if (rd->n_msgs > d->msg_cap) {
		struct raft_msg *nm = realloc(d->msg_buf, rd->n_msgs * sizeof(*nm));

		if (nm) {
			d->msg_buf = nm;
			d->msg_cap = rd->n_msgs;
		}
	}
	for (i = 0; i < rd->n_msgs; i++) {
		const struct raft_msg *m = &rd->msgs[i];

		if (m->type == RAFT_MSG_APPEND && m->n_entries &&
		    m->prev_index + m->n_entries > d->lat_sent_hi)
			d->lat_sent_hi = m->prev_index + m->n_entries;
		if (m->type == RAFT_MSG_APPEND || m->type == RAFT_MSG_SNAPSHOT ||
		    m->type == RAFT_MSG_TIMEOUT_NOW) {
			if (rd->n_msgs <= d->msg_cap)
				d->msg_buf[n++] = *m;
			else
				truth_tp_send(&d->tp, m);
		} else if (!hold_msg(d, m, need)) {
			log_warn("out of memory holding a message; dropped (Raft resends)");
		}
	}
	truth_tp_send_many(&d->tp, d->msg_buf, n);
}

static void one_ready(struct truthd *d)
{
	char err[TRUTH_STORAGE_ERRLEN];
	struct raft_ready rd;

	raft_ready(d->raft, &rd);
	/* snapshot, hard state, entries: a torn write leaves a prefix */
	if (rd.snapshot && persist_snapshot(d, rd.snapshot))
		return;
	if (rd.hs_changed) {
		struct truth_meta m = { .term = rd.hs.term, .vote = rd.hs.vote };

		/* synchronous: rare, and every message after it carries the term */
		if (truth_meta_save(d->meta, &m, err)) {
			fail_stop(d, "meta", err);
			return;
		}
	}
	if (rd.n_entries) {
		if (persist_entries(d, &rd))
			return;
		/* a follower syncs now (durable.c "Where a sync runs"), so
		 * its ack below leaves at once */
		if (sync_here_wanted(d))
			sync_here(d);
		if (d->failed)
			return;
	}
	send_ready_msgs(d, &rd);
	/*
	 * The APPENDs carrying new entries (or a follower's ack for them)
	 * leave before the state machine and the replies take the loop.
	 * Then the leader's sync thread is woken: woken first, it took the
	 * CPU from the loop before the APPENDs left (p50 59 us between the
	 * pwrite and the sendmmsg at load 20).  The order of the flushes
	 * does not matter on one disk: the commit waits for two of them.
	 */
	if (rd.n_entries) {
		truth_tp_flush(&d->tp);
		if (d->lat_sent_hi) {
			lat_stamp(d, LAT_SENT, d->lat_sent_hi);
			d->lat_sent_hi = 0;
		}
		sync_kick(d);
	}
	apply(d, &rd);
	reads_ready(d, &rd);
	raft_advance(d->raft, &rd);
}

/* One line per change of role or leader: what an operator wants in the journal. */
static void log_role(struct truthd *d)
{
	enum raft_role role = raft_role(d->raft);
	uint32_t leader = raft_leader(d->raft);

	if (role == d->last_role && leader == d->last_leader)
		return;
	d->last_role = role;
	d->last_leader = leader;
	if (role == RAFT_LEADER)
		log_info("leader of term %llu", (unsigned long long)raft_term(d->raft));
	else if (leader != RAFT_NONE)
		log_info("following node %u in term %llu", leader,
			 (unsigned long long)raft_term(d->raft));
	else
		log_info("%s in term %llu, no leader", role_name(role),
			 (unsigned long long)raft_term(d->raft));
}

void node_process(struct truthd *d)
{
	d->loop_turns++;
	hlc_loop(d);
	/* every datagram of this round (APPENDs to each follower, acks,
	 * votes) leaves in one sendmmsg at the end */
	truth_tp_cork(&d->tp);
	count_roles(d);
	coord_tick(d);
	do {
		while (!d->failed && raft_has_ready(d->raft))
			one_ready(d);
		if (d->failed)
			break;
		serve_reads(d);
		maybe_snapshot(d);
		hlc_applied(d);		/* truth.ko's HLC above what commits, before replies go */
		clients_resume(d);
	} while (raft_has_ready(d->raft) || d->resume_head);
	if (!d->failed) {
		count_roles(d);
		count_self(d);		/* fsync off: what was just written */
		/* what the thread has not started yet (it was busy) starts
		 * before this round's datagrams leave */
		sync_kick(d);
		log_role(d);
	}
	truth_tp_uncork(&d->tp);
	if (d->lat_sent_hi) {
		lat_stamp(d, LAT_SENT, d->lat_sent_hi);
		d->lat_sent_hi = 0;
	}
}
