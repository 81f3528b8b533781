/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Internals of the raft core shared by its files.  Not an API: adapters use
 * raft.h only.
 */
#ifndef _TRUTH_RAFT_INT_H
#define _TRUTH_RAFT_INT_H

#include "raft/raft.h"

/* The in-memory log: a snapshot position followed by entries. */
struct raft_log {
	uint64_t snap_index;		/* last index covered by the snapshot */
	uint64_t snap_term;		/* its term */
	struct raft_entry *e;		/* e[0] is at index snap_index + 1 */
	uint64_t n;			/* entries held */
	uint64_t cap;			/* allocated slots */
	uint64_t stable;		/* last index durable on our disk */
	uint64_t committed;		/* commitIndex (Figure 2) */
	uint64_t applied;		/* lastApplied handed to the caller */
	uint64_t handed;		/* last committed index put in a ready */
};

/* Leader's view of one follower (Figure 2 nextIndex/matchIndex). */
enum raft_progress_state {
	PROGRESS_PROBE,			/* one APPEND at a time until match found */
	PROGRESS_PIPELINE,		/* several APPENDs in flight */
	PROGRESS_SNAPSHOT,		/* sending InstallSnapshot chunks */
};

struct raft_progress {
	uint32_t id;			/* follower id */
	uint64_t next;			/* nextIndex */
	uint64_t match;			/* matchIndex */
	uint8_t state;			/* enum raft_progress_state */
	uint32_t inflight;		/* APPENDs sent and not answered */
	uint64_t inflight_last[64];	/* last index of each, FIFO */
	uint32_t inflight_head;		/* ring head */
	bool probe_sent;		/* PROBE: one APPEND outstanding */
	bool recent_active;		/* heard from it this election period */
	uint64_t acked_ctx;		/* highest heartbeat round it answered */
	uint64_t snap_index;		/* SNAPSHOT: which snapshot */
	uint64_t snap_offset;		/* SNAPSHOT: next chunk offset */
	uint32_t snap_wait;		/* SNAPSHOT: ticks since last chunk sent */
	uint64_t inflight_bytes;	/* entry bytes of the APPENDs in flight */
	uint64_t inflight_size[64];	/* entry bytes of each, same ring */
	uint64_t append_round;		/* heartbeat round when the last APPEND left */
};

/* A ReadIndex request waiting for its heartbeat round to reach a quorum. */
struct raft_pending_read {
	uint64_t ctx;			/* caller's token */
	uint64_t index;			/* commit index when it was asked */
	uint64_t round;			/* heartbeat round that confirms it */
};

struct raft {
	struct raft_options opt;
	uint32_t id;
	enum raft_role role;
	uint64_t term;			/* currentTerm */
	uint32_t vote;			/* votedFor */
	uint32_t leader;		/* known leader of term, RAFT_NONE */
	struct raft_hard_state hs_saved; /* last hard state handed out */
	struct raft_log log;

	struct raft_conf conf;		/* latest configuration in the log */
	uint64_t conf_index;		/* its index, 0 = from snapshot/bootstrap */
	struct raft_conf snap_conf;	/* configuration as of log.snap_index */
	bool removed_self_pending;	/* leader removed itself: step down on commit */

	/* timers, in ticks */
	uint32_t election_elapsed;	/* since last heard from leader / reset */
	uint32_t heartbeat_elapsed;	/* leader: since last heartbeat */
	uint32_t quorum_elapsed;	/* leader: check-quorum period */
	uint32_t randomized_timeout;	/* this period's election timeout */
	uint64_t rng;			/* PRNG state (splitmix64) */
	uint64_t now;			/* caller's clock at the last tick */
	uint32_t heard_elapsed;		/* ticks since the leader (or boot) was heard */

	/* elections: weight of granted votes and who voted (by member slot) */
	bool votes_seen[RAFT_MAX_MEMBERS];
	bool votes_granted[RAFT_MAX_MEMBERS];
	bool campaign_transfer;		/* this election comes from TimeoutNow */

	/* leader state */
	struct raft_progress prs[RAFT_MAX_MEMBERS];
	uint32_t n_prs;
	uint64_t term_start;		/* first index written in this term */
	uint64_t ext_commit;		/* highest commit supplied from outside */
	uint32_t transfer_target;	/* leadership transfer in progress */
	uint32_t transfer_elapsed;	/* ticks since it began */

	/* reads and leases */
	uint64_t round;			/* heartbeat round counter (ctx) */
	uint64_t round_sent_at[64];	/* now when round r%64 was sent */
	uint64_t lease_until;		/* leader lease expiry, caller clock */
	bool lease_disabled;		/* TimeoutNow sent: no lease this term */
	struct raft_pending_read *reads;
	uint32_t n_reads, cap_reads;
	struct raft_read_state *ready_reads;
	uint32_t n_ready_reads, cap_ready_reads;
	uint64_t *failed_reads;
	uint32_t n_failed_reads, cap_failed_reads;

	/* snapshots: our latest (to send) and one being received */
	struct raft_snapshot snap;	/* data may be NULL after restore */
	struct raft_snapshot recv;	/* chunks received so far */
	uint64_t recv_off;
	bool snap_pending;		/* recv complete: hand to caller */

	/* rebuilt from peers (raft_rebuild.c): no vote, no campaign */
	bool rebuilding;		/* the caller's marker is set */
	bool rb_fence_pending;		/* term/vote lost: waiting for every voter */
	uint64_t rb_fence;		/* highest term heard from the voters */
	bool rb_heard[RAFT_MAX_MEMBERS]; /* by member slot of conf */
	uint64_t rb_target;		/* index to hold durably, 0 = not known yet */
	uint64_t rb_target_term;	/* term of the leader that gave it */
	uint32_t rb_probe_elapsed;	/* ticks since the last term probe */

	/* outbox */
	struct raft_msg *msgs;
	uint32_t n_msgs, cap_msgs;
	bool in_ready;			/* between raft_ready and raft_advance */
};

/* raft.c */
void raft_become_follower(struct raft *r, uint64_t term, uint32_t leader);
void raft_send(struct raft *r, const struct raft_msg *m);
uint64_t raft_rand(struct raft *r);
void raft_reset_election_timer(struct raft *r);
struct raft_progress *raft_progress(struct raft *r, uint32_t id);

/* raft_log.c */
void raft_log_init(struct raft_log *l);
void raft_log_free(struct raft_log *l);
uint64_t raft_log_last(const struct raft_log *l);
uint64_t raft_log_term(const struct raft_log *l, uint64_t index);
struct raft_entry *raft_log_get(const struct raft_log *l, uint64_t index);
int raft_log_append(struct raft_log *l, const struct raft_entry *e);
void raft_log_truncate(struct raft_log *l, uint64_t from);
void raft_log_compact(struct raft_log *l, uint64_t index, uint64_t term);
void raft_log_reset(struct raft_log *l, uint64_t index, uint64_t term);
bool raft_log_up_to_date(const struct raft_log *l, uint64_t last_index,
			 uint64_t last_term);
uint64_t raft_log_first_of_term(const struct raft_log *l, uint64_t index);
uint64_t raft_log_last_of_term(const struct raft_log *l, uint64_t term);
int raft_entry_copy(struct raft_entry *dst, const struct raft_entry *src);

/* raft_replication.c */
void raft_leader_init_progress(struct raft *r);
void raft_progress_sync(struct raft *r);
void raft_send_more(struct raft *r, struct raft_progress *p);
void raft_send_append(struct raft *r, struct raft_progress *p, bool heartbeat);
void raft_broadcast_append(struct raft *r);
void raft_broadcast_heartbeat(struct raft *r);
void raft_handle_append(struct raft *r, const struct raft_msg *m);
void raft_handle_append_resp(struct raft *r, const struct raft_msg *m);
bool raft_maybe_commit(struct raft *r);
void raft_commit_to(struct raft *r, uint64_t index);
void raft_self_stable(struct raft *r);

/* raft_snapshot.c */
void raft_send_snapshot(struct raft *r, struct raft_progress *p);
void raft_handle_snapshot(struct raft *r, const struct raft_msg *m);
void raft_handle_snapshot_resp(struct raft *r, const struct raft_msg *m);
void raft_snapshot_tick(struct raft *r);

/* raft_membership.c */
void raft_conf_rebuild(struct raft *r);
bool raft_may_campaign(const struct raft *r);
void raft_maybe_promote(struct raft *r, struct raft_progress *p);
void raft_transfer_tick(struct raft *r);
void raft_transfer_check(struct raft *r, struct raft_progress *p);
void raft_handle_timeout_now(struct raft *r, const struct raft_msg *m);
void raft_campaign(struct raft *r, bool pre, bool transfer);

/* raft_rebuild.c */
void raft_rebuild_heard(struct raft *r, const struct raft_msg *m);
void raft_rebuild_append(struct raft *r, const struct raft_msg *m);
void raft_rebuild_tick(struct raft *r);

/* raft_read.c */
void raft_read_round_acked(struct raft *r);
void raft_reads_fail_all(struct raft *r);

#endif /* _TRUTH_RAFT_INT_H */
