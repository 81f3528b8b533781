/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * raftsim: a deterministic cluster of agent/raft nodes for host tests.
 *
 * Everything a real deployment does asynchronously is an event on one
 * simulated timeline (microseconds): node ticks (each node's clock can run
 * fast or slow), message deliveries (latency, loss, duplication, reordering,
 * partitions) and disk syncs (a write becomes durable only when its sync
 * event runs; a crash before that loses it or tears it).  raftsim_step()
 * runs exactly one event and then checks Raft's safety properties, so a
 * failure points at the step that broke them.  The same seed gives the same
 * run, bit for bit.
 */
#ifndef _TRUTH_RAFTSIM_H
#define _TRUTH_RAFTSIM_H

#include <stdbool.h>
#include <stdint.h>

#include "raft/raft.h"

#define RAFTSIM_MAX_NODES	7	/* node ids 1..7 */
#define RAFTSIM_MAX_CLIENTS	8

struct raftsim_opts {
	uint32_t n;			/* initial voters 1..n */
	uint64_t seed;			/* everything random derives from it */
	uint32_t tick_us;		/* nominal tick interval */
	uint32_t election_ticks;	/* raft_options.election_ticks */
	uint32_t heartbeat_ticks;
	uint32_t lat_min_us, lat_max_us; /* one-way latency range */
	uint32_t loss_pm;		/* per-mille of messages lost */
	uint32_t dup_pm;		/* per-mille of messages duplicated */
	uint32_t disk_us;		/* write-to-durable delay, 0 = at once */
	bool pre_vote, check_quorum, external_commit;
	bool fastpath_off;		/* external_commit with no fast path running */
	bool unsafe_ack_early;		/* BROKEN on purpose: send before the sync */
	uint32_t max_inflight, max_batch, snapshot_chunk;
	uint32_t snapshot_every;	/* snapshot after this many applies, 0 = never */
	uint32_t snapshot_keep;		/* entries kept behind a snapshot */
	uint32_t drift_ppm;		/* declared bound given to the nodes */
	uint64_t lease_margin;		/* raft_options.lease_margin, us */
	uint32_t weights[RAFTSIM_MAX_NODES + 1]; /* voter weights, 0 = 1 */
	uint64_t threshold;		/* quorum threshold, 0 = majority */
	uint64_t max_batch_bytes;	/* raft_options.max_batch_bytes */
	uint64_t max_inflight_bytes;	/* raft_options.max_inflight_bytes */
};

/* One applied client command in a node's state machine. */
struct raftsim_cmd {
	uint64_t client_id, seq;
	uint64_t index;			/* log index it was applied from */
};

struct raftsim_msgq {
	struct raft_msg *m;
	uint32_t head, n, cap;		/* m[head..n) are queued */
};

struct raftsim_node {
	uint32_t id;
	bool started;			/* has ever run */
	bool up;			/* running now */
	uint32_t gen;			/* bumped on crash: old events are void */
	struct raft *r;
	int64_t rate_ppm;		/* clock rate error of this node */
	uint64_t clock_offset;		/* its clock at sim time 0 */

	/* the disk: what survives a crash */
	struct raft_hard_state hs;
	struct raft_snapshot snap;	/* owned data */
	struct raft_entry *log;		/* owned entries after snap.index */
	uint64_t n_log, cap_log;
	bool fail_next_write;		/* fault: the next write fails */
	int32_t disk_us;		/* this disk's sync delay, -1 = default */
	bool tear_on_crash;		/* fault: crash keeps a torn prefix */

	/* a ready being written: node is blocked until its sync event */
	bool busy;
	struct raft_ready rd;
	struct raftsim_msgq inbox;	/* messages that arrived while busy */
	uint32_t missed_ticks;

	/* state machine */
	struct raftsim_cmd *sm;		/* applied commands, in order */
	uint64_t n_sm, cap_sm;
	uint64_t sm_applied;		/* last log index applied */
	uint64_t sm_snap_at;		/* index of its last snapshot */
	struct raft_sessions *sessions;
	uint64_t dup_skipped;		/* commands recognised as duplicates */

	/* checker state */
	uint64_t seen_commit;		/* commit index already checked */
	uint64_t leader_term_checked;	/* term in which completeness was checked */
	uint64_t la_term, la_last, la_last_term; /* leader append-only */

	/* log matching is re-hashed from here (committed, verified) */
	uint64_t chk_snap, chk_idx, chk_term, chk_chain, chk_count;

	/* the kernel fast path's view when external_commit is on */
	uint64_t fp_term;		/* term its match table is for */
	uint64_t fp_match[RAFTSIM_MAX_NODES + 1]; /* acked durable index */
};

struct raftsim_event;

struct raftsim_client {
	uint64_t id;			/* client id (>= 1) */
	uint64_t seq;			/* current request */
	bool pending;			/* request outstanding */
	uint32_t target;		/* node it was sent to */
	uint64_t sent_at;		/* sim time */
	uint64_t acked;			/* requests acknowledged */
};

struct raftsim_ack {
	uint64_t client_id, seq, index;
};

struct raftsim {
	struct raftsim_opts o;
	uint64_t now;			/* simulated time, us */
	uint64_t rng;
	uint64_t steps;			/* events run */
	uint64_t ev_seq;
	struct raftsim_event *heap;	/* event queue, min-heap on (time, seq) */
	uint32_t n_ev, cap_ev;
	struct raftsim_node nodes[RAFTSIM_MAX_NODES + 1]; /* [1..7] */
	bool cut[RAFTSIM_MAX_NODES + 1][RAFTSIM_MAX_NODES + 1]; /* from->to blocked */

	/* clients and what they were told */
	struct raftsim_client clients[RAFTSIM_MAX_CLIENTS];
	uint32_t n_clients;
	struct raftsim_ack *acks;
	uint64_t n_acks, cap_acks;
	/* reads checked */
	uint64_t reads_ok, lease_reads_ok;
	/* traffic: messages handed to the network, by type */
	uint64_t sent[__RAFT_MSG_MAX];
	uint64_t sent_entries;		/* entries carried by APPENDs */
	uint32_t max_append_entries;	/* most entries one APPEND carried */
	uint64_t rejects;		/* APPEND_RESP with reject */

	/* checker: committed log as the cluster agreed it */
	struct raftsim_canon *canon;	/* [1..canon_len] */
	uint64_t canon_len, canon_cap;
	uint32_t *leader_of_term;	/* [term] = leader id */
	uint64_t n_terms;
	struct raftsim_table *prefixes;	/* (index, term) -> prefix hash */
	uint64_t max_commit;		/* highest commit index seen anywhere */
	char violation[512];		/* first broken property, "" if none */
	uint64_t violation_step;
	uint64_t elections;		/* leaders seen (term, id) pairs */
};

/*
 * A LAN-like cluster of @n nodes: 10 ms ticks, election timeout 10 ticks,
 * pre-vote and check-quorum on, 1-2 ms links, 0.5 ms disk syncs, no faults.
 */
struct raftsim_opts raftsim_lan_opts(uint32_t n, uint64_t seed);
struct raftsim *raftsim_new(const struct raftsim_opts *o);
void raftsim_free(struct raftsim *s);

/* Run one event and check every property; false if the queue is empty. */
bool raftsim_step(struct raftsim *s);
/* Run until sim time >= t (or a violation). */
void raftsim_run_until(struct raftsim *s, uint64_t t);
void raftsim_run_for(struct raftsim *s, uint64_t us);
/* Run until pred(s, arg) or max_us passes; returns pred's final value. */
bool raftsim_run_while_not(struct raftsim *s,
			   bool (*pred)(struct raftsim *s, void *arg),
			   void *arg, uint64_t max_us);

/* The leader with the highest term among running nodes, 0 if none. */
uint32_t raftsim_leader(struct raftsim *s);
/* Run until some leader has committed an entry of its term; 0 on timeout. */
uint32_t raftsim_wait_leader(struct raftsim *s, uint64_t max_us);
/* Run until every running node applied up to index; false on timeout. */
bool raftsim_wait_applied(struct raftsim *s, uint64_t index, uint64_t max_us);

/* Propose on node id; value identifies (client, seq). */
int raftsim_propose(struct raftsim *s, uint32_t id, uint64_t client_id,
		    uint64_t seq, uint64_t *index);
/* Call any raft API on a node between events, then handle its ready. */
void raftsim_kick(struct raftsim *s, uint32_t id);

/* Faults. */
void raftsim_crash(struct raftsim *s, uint32_t id);
void raftsim_restart(struct raftsim *s, uint32_t id);
/* Start a node that is not in the initial configuration (empty log). */
void raftsim_start_node(struct raftsim *s, uint32_t id);
void raftsim_isolate(struct raftsim *s, uint32_t id);
void raftsim_cut(struct raftsim *s, uint32_t a, uint32_t b, bool cut);
void raftsim_heal(struct raftsim *s);
void raftsim_set_net(struct raftsim *s, uint32_t loss_pm, uint32_t dup_pm,
		     uint32_t lat_min_us, uint32_t lat_max_us);

/* The node's clock (its tick clock) at sim time now. */
uint64_t raftsim_local_time(const struct raftsim *s, uint32_t id);

/* Clients: each has one request outstanding at a time (diss. §6.3). */
void raftsim_clients(struct raftsim *s, uint32_t n);
/* Give every idle client a new request, retry stale ones at the leader. */
void raftsim_clients_poll(struct raftsim *s, uint64_t retry_us);
/* Every acked command is applied exactly once on every running node. */
bool raftsim_check_acked(struct raftsim *s, char *why, size_t len);

/* A snapshot of a node's state machine, as the adapter would take it. */
void raftsim_take_snapshot(struct raftsim *s, uint32_t id);

uint64_t raftsim_rand(struct raftsim *s);

/* raftsim_node.c: disks and state machines (internal to raftsim) */
void raftsim_disk_truncate(struct raftsim_node *nd, uint64_t from);
void raftsim_disk_write(struct raftsim_node *nd, const struct raft_ready *rd,
			uint64_t items);
uint64_t raftsim_ready_items(const struct raft_ready *rd);
void raftsim_sm_reset(struct raftsim_node *nd);
bool raftsim_sm_restore(struct raftsim_node *nd, const struct raft_snapshot *sn);
void raftsim_sm_apply(struct raftsim *s, struct raftsim_node *nd,
		      const struct raft_entry *e);

/* raftsim_check.c: the property checker, run after every step */
void raftsim_check_init(struct raftsim *s);
void raftsim_check_free(struct raftsim *s);
void raftsim_check_node(struct raftsim *s, struct raftsim_node *nd);
void raftsim_check_apply(struct raftsim *s, struct raftsim_node *nd,
			 const struct raft_entry *e);
void raftsim_check_read(struct raftsim *s, struct raftsim_node *nd,
			uint64_t index, uint64_t commit_at_issue,
			const char *kind);
void raftsim_fail(struct raftsim *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
uint64_t raftsim_entry_hash(const struct raft_entry *e);

/* raftsim_fuzz.c: one randomised run (the torture test's unit of work) */
struct raftsim_fuzz_stats {
	uint64_t steps;			/* events run and checked */
	uint64_t elections;		/* distinct (term, leader) pairs */
	uint64_t acked;			/* client requests acknowledged */
	uint64_t reads;			/* linearizable reads checked */
	uint64_t faults;		/* nemesis actions */
	uint64_t crashes;
};

/*
 * Build a random cluster from seed, run a random schedule of faults,
 * proposals and reads checking every step, heal, then require liveness.
 * Returns true if every property held; otherwise why says what broke.
 */
bool raftsim_fuzz_one(uint64_t seed, struct raftsim_fuzz_stats *st,
		      char *why, size_t len);
/* The same with deliberately broken nodes (checker self-test). */
#define RAFTSIM_FUZZ_ACK_EARLY	1	/* messages leave before fsync */
bool raftsim_fuzz_one_flags(uint64_t seed, uint32_t flags,
			    struct raftsim_fuzz_stats *st, char *why, size_t len);

#endif /* _TRUTH_RAFTSIM_H */
