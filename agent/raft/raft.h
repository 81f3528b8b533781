/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * truth raft: the consensus core of truthd.
 *
 * A Raft state machine with no I/O and no clock reads.  The caller (an
 * adapter: disk, network, kernel fast path, state machine) drives it:
 *
 *	raft_tick(r, now)		every tick interval of the caller's clock
 *	raft_step(r, msg)		for every message received
 *	raft_propose(r, ...)		for a client write (leader only)
 *	raft_read_index(r, ctx)		for a linearizable read (leader only)
 *
 * and after any of these, while raft_has_ready(r):
 *
 *	raft_ready(r, &rd)		take the batch of work
 *	  1. persist rd.snapshot (if any), then rd.entries (truncating the
 *	     durable log from rd.entries[0].index), then rd.hs if rd.hs_changed,
 *	     in that order, and make them durable (fdatasync);
 *	  2. only then send rd.msgs (a follower's ACK is in there: it must never
 *	     leave before the entries it acknowledges are durable);
 *	  3. restore rd.snapshot into the state machine, apply rd.committed in
 *	     order, serve rd.reads once applied >= their index;
 *	raft_advance(r, &rd)		hand the batch back
 *
 * Nothing but raft_ready() may be called between raft_ready() and
 * raft_advance(); everything rd points to stays valid until raft_advance().
 * Paper references: "Figure 2" and "§5.x" are the Raft paper (Ongaro and
 * Ousterhout, USENIX ATC 2014); "§x.y" above 5.x and "diss." are Ongaro's
 * dissertation (Stanford 2014).  Documentation/raft.md has the full guide.
 */
#ifndef _TRUTH_RAFT_H
#define _TRUTH_RAFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RAFT_MAX_MEMBERS	16	/* members (voters + learners) of a group */
#define RAFT_NONE		0	/* "no node": node ids are >= 1 */

enum raft_role {
	RAFT_FOLLOWER,
	RAFT_PRECANDIDATE,
	RAFT_CANDIDATE,
	RAFT_LEADER,
};

/* Errors returned by the API (negative errno style). */
enum {
	RAFT_OK = 0,
	RAFT_ENOTLEADER = -1,	/* call needs the leader */
	RAFT_EBUSY = -2,	/* transfer or config change in progress */
	RAFT_EINVAL = -3,	/* bad argument */
	RAFT_ENOMEM = -4,	/* allocation failed */
	RAFT_ESTALE = -5,	/* lease not held / read not possible yet */
};

/* ---------------------------------------------------------- configuration */

enum raft_member_role {
	RAFT_VOTER,
	RAFT_LEARNER,		/* receives the log, never votes or counts */
};

struct raft_member {
	uint32_t id;		/* node id, >= 1 */
	uint32_t weight;	/* voting weight (voters), 0 for learners */
	uint8_t role;		/* enum raft_member_role */
	uint32_t promote_weight; /* learner: weight to get once caught up, 0 = stay */
};

/* A group configuration: who is in it and how a quorum is formed. */
struct raft_conf {
	uint32_t n;				/* number of members */
	uint64_t threshold;			/* quorum weight, 0 = majority */
	struct raft_member m[RAFT_MAX_MEMBERS];	/* members */
};

/* ---------------------------------------------------------- log entries */

enum raft_entry_type {
	RAFT_ENTRY_NORMAL,	/* client command */
	RAFT_ENTRY_NOOP,	/* written by a new leader (§8) */
	RAFT_ENTRY_CONF,	/* data is a serialised struct raft_conf */
};

struct raft_entry {
	uint64_t term;		/* term in which the leader created it */
	uint64_t index;		/* position in the log, >= 1 */
	uint8_t type;		/* enum raft_entry_type */
	uint64_t client_id;	/* client session (diss. §6.3), 0 = none */
	uint64_t client_seq;	/* request sequence within the session */
	uint32_t len;		/* bytes at data */
	void *data;		/* owned by whoever holds the entry */
};

/* ---------------------------------------------------------- messages */

enum raft_msg_type {
	RAFT_MSG_PREVOTE,	/* pre-vote request (diss. §9.6) */
	RAFT_MSG_PREVOTE_RESP,
	RAFT_MSG_VOTE,		/* RequestVote */
	RAFT_MSG_VOTE_RESP,
	RAFT_MSG_APPEND,	/* AppendEntries (also the heartbeat) */
	RAFT_MSG_APPEND_RESP,
	RAFT_MSG_SNAPSHOT,	/* InstallSnapshot, one chunk */
	RAFT_MSG_SNAPSHOT_RESP,
	RAFT_MSG_TIMEOUT_NOW,	/* leadership transfer (diss. §3.10) */
	__RAFT_MSG_MAX,
};

/*
 * One message.  Which fields mean something depends on type; the rest are
 * zero.  entries[] and data belong to the sender until it is done with them.
 */
struct raft_msg {
	uint8_t type;		/* enum raft_msg_type */
	uint32_t from;		/* sender id */
	uint32_t to;		/* receiver id */
	uint64_t term;		/* sender's term (PREVOTE: the term it would use) */

	/* PREVOTE, VOTE: candidate's last log entry; TIMEOUT_NOW-driven vote */
	uint64_t last_index;
	uint64_t last_term;
	bool transfer;		/* VOTE caused by leadership transfer */

	/* *_RESP: request refused */
	bool reject;

	/* APPEND */
	uint64_t prev_index;	/* index of entry before entries[0] */
	uint64_t prev_term;	/* its term */
	uint64_t commit;	/* leader's commit index */
	uint64_t ctx;		/* heartbeat round (ReadIndex, lease), echoed */
	bool heartbeat;		/* APPEND(_RESP) carrying only commit and ctx */
	uint32_t n_entries;	/* entries carried */
	struct raft_entry *entries;

	/* APPEND_RESP: match_index on success; hints on reject (§5.3) */
	uint64_t match_index;	/* highest index known to match the leader */
	uint64_t hint_index;	/* first index of hint_term, or last+1 */
	uint64_t hint_term;	/* term of the conflicting entry, 0 = log short */

	/* SNAPSHOT: chunk [offset, offset+len) of the snapshot at snap_index */
	uint64_t snap_index;
	uint64_t snap_term;
	struct raft_conf snap_conf;
	uint64_t snap_size;	/* total bytes */
	uint64_t offset;	/* SNAPSHOT_RESP: next offset wanted */
	uint32_t len;
	void *data;
	bool done;		/* last chunk */
};

/* ---------------------------------------------------------- persistence */

/* What must survive a crash besides the log (Figure 2, "persistent state"). */
struct raft_hard_state {
	uint64_t term;		/* currentTerm */
	uint32_t vote;		/* votedFor in term, RAFT_NONE = nobody */
};

/* A snapshot of the state machine and the log position it replaces. */
struct raft_snapshot {
	uint64_t index;		/* last index the snapshot contains */
	uint64_t term;		/* its term */
	struct raft_conf conf;	/* configuration as of index */
	uint64_t size;		/* bytes of state-machine data */
	void *data;
};

/* A linearizable read that may now be served once applied >= index. */
struct raft_read_state {
	uint64_t ctx;		/* the caller's token from raft_read_index() */
	uint64_t index;		/* serve after applying up to here */
};

/* One batch of work for the caller; see the top of this file. */
struct raft_ready {
	bool hs_changed;
	struct raft_hard_state hs;
	struct raft_snapshot *snapshot;	/* received from the leader, or NULL */
	struct raft_entry *entries;	/* to make durable */
	uint32_t n_entries;
	struct raft_msg *msgs;		/* to send after persisting */
	uint32_t n_msgs;
	struct raft_entry *committed;	/* to apply, in order */
	uint32_t n_committed;
	struct raft_read_state *reads;	/* reads that may be served */
	uint32_t n_reads;
	uint32_t n_failed_reads;	/* reads dropped (lost leadership) */
	uint64_t *failed_reads;		/* their ctx */
};

/* ---------------------------------------------------------- the node */

struct raft_options {
	uint32_t id;			/* this node */
	uint32_t election_ticks;	/* base election timeout, in ticks */
	uint32_t heartbeat_ticks;	/* leader heartbeat interval, in ticks */
	uint64_t seed;			/* PRNG seed for timeouts (deterministic) */
	bool pre_vote;			/* diss. §9.6 */
	bool check_quorum;		/* diss. §6.2 */
	bool external_commit;		/* commit comes from raft_commit_external */
	uint32_t max_inflight;		/* APPENDs in flight per follower (>= 1) */
	uint32_t max_batch;		/* entries per APPEND (>= 1) */
	uint32_t snapshot_chunk;	/* bytes per InstallSnapshot chunk */
	uint64_t tick_time;		/* length of one tick in caller time units */
	uint64_t drift_ppm;		/* max clock rate error between nodes */
	uint64_t lease_margin;		/* lease shortened by this too, caller time units */
	/*
	 * Entry data bytes per APPEND and in flight per follower; 0 = no
	 * limit.  One entry always goes, however big: the bounds keep a
	 * pipeline of big entries from overrunning the transport's buffers.
	 */
	uint64_t max_batch_bytes;
	uint64_t max_inflight_bytes;
};

struct raft;

/* Create a node.  *conf is the initial configuration (bootstrap). */
struct raft *raft_new(const struct raft_options *opt,
		      const struct raft_conf *conf);
void raft_free(struct raft *r);

/*
 * Restart from durable state: hard state, the latest snapshot (may be NULL
 * or index 0) and the entries that follow it.  Call once, before anything
 * else; the configuration is taken from the snapshot and the entries.
 */
int raft_restore(struct raft *r, const struct raft_hard_state *hs,
		 const struct raft_snapshot *snap,
		 const struct raft_entry *entries, uint32_t n);

/* Advance logical time by one tick; now is the caller's monotonic clock. */
void raft_tick(struct raft *r, uint64_t now);
/* A message arrived.  Bad messages are ignored (RAFT_EINVAL). */
int raft_step(struct raft *r, const struct raft_msg *m);
/* Append a client command; *index receives its position. */
int raft_propose(struct raft *r, uint64_t client_id, uint64_t client_seq,
		 const void *data, uint32_t len, uint64_t *index);

bool raft_has_ready(const struct raft *r);
void raft_ready(struct raft *r, struct raft_ready *rd);
void raft_advance(struct raft *r, struct raft_ready *rd);

/*
 * External commit (kernel fast path): the leader's commit index becomes
 * index if the caller is still leader of term, index is in that term
 * (§5.4.2), not above the leader's durable log, and above the current commit.
 * Returns 1 if commit advanced, 0 if ignored.
 */
int raft_commit_external(struct raft *r, uint64_t term, uint64_t index);

/* ReadIndex (diss. §6.4): the read completes in a later ready's reads[]. */
int raft_read_index(struct raft *r, uint64_t ctx);
/*
 * Lease read (diss. §6.4.1): if the leader lease still holds at now + err on
 * the caller's clock, *index is a safe read index (serve it once applied).
 * err is the caller's bound on its own clock's error; opt.drift_ppm bounds
 * how fast any node's clock may run against another's.  RAFT_ESTALE: use
 * raft_read_index() instead.
 */
int raft_read_lease(struct raft *r, uint64_t now, uint64_t err,
		    uint64_t *index);

/* The state machine has a snapshot of everything up to index (<= applied). */
int raft_snapshot_taken(struct raft *r, uint64_t index, const void *data,
			uint64_t size, uint64_t keep_entries);

/* Membership, one server at a time (diss. §4.1). */
int raft_add_server(struct raft *r, uint32_t id, uint32_t weight);
int raft_remove_server(struct raft *r, uint32_t id);
/* Leadership transfer (diss. §3.10) */
int raft_transfer_leadership(struct raft *r, uint32_t target);

/*
 * Rebuilt from peers (Documentation/raft.md "Rebuilding a node"): the log
 * on this disk was lost, so the node may have acknowledged entries it no
 * longer holds.  Until raft_rebuild_done() it grants no vote or pre-vote
 * and never campaigns, but follows a leader and acknowledges what it
 * holds.  term_lost: the term and vote were lost too; then it also waits
 * until it has heard from every other voter, and burns every term up to
 * the highest they reported (sets its term to it with a vote for itself),
 * so it can never vote a second time in a term it voted in before.
 */
void raft_rebuild_begin(struct raft *r, bool term_lost);
/*
 * The index the node must hold durably before it may vote again: the first
 * commit index from a leader that covers an entry of the leader's own term
 * (so every entry committed before, including any this node acknowledged,
 * is at or below it), and only once the term fence is known.  0 = not yet
 * known; the caller clears its marker durably once its durable log reaches
 * it, then calls raft_rebuild_done().
 */
uint64_t raft_rebuild_target(const struct raft *r);
bool raft_rebuilding(const struct raft *r);
/* term_lost: still waiting to hear from every other voter */
bool raft_rebuild_fence_pending(const struct raft *r);
void raft_rebuild_done(struct raft *r);

/* ---------------------------------------------------------- inspection */

enum raft_role raft_role(const struct raft *r);
uint32_t raft_id(const struct raft *r);
uint64_t raft_term(const struct raft *r);
uint32_t raft_leader(const struct raft *r);
uint32_t raft_vote(const struct raft *r);
uint64_t raft_commit_index(const struct raft *r);
uint64_t raft_applied_index(const struct raft *r);
uint64_t raft_first_index(const struct raft *r);	/* snapshot index + 1 */
uint64_t raft_last_index(const struct raft *r);
uint64_t raft_snapshot_index(const struct raft *r);
uint64_t raft_snapshot_term(const struct raft *r);
/* Entry at index, NULL if compacted or beyond the log. */
const struct raft_entry *raft_entry_at(const struct raft *r, uint64_t index);
/* Term of entry at index (snapshot's term at its index), 0 if unknown. */
uint64_t raft_term_at(const struct raft *r, uint64_t index);
const struct raft_conf *raft_conf(const struct raft *r);
/* The latest snapshot (taken here or received); index 0 if none. */
const struct raft_snapshot *raft_last_snapshot(const struct raft *r);
uint32_t raft_transfer_target(const struct raft *r);

/* ---------------------------------------------------------- helpers */

/* Majority threshold when conf->threshold is 0. */
uint64_t raft_conf_threshold(const struct raft_conf *conf);
const struct raft_member *raft_conf_find(const struct raft_conf *conf,
					 uint32_t id);
bool raft_conf_is_voter(const struct raft_conf *conf, uint32_t id);
/* Serialise a configuration into buf (RAFT_CONF_BYTES); decode it back. */
#define RAFT_CONF_BYTES (12 + RAFT_MAX_MEMBERS * 13)
uint32_t raft_conf_encode(const struct raft_conf *conf, uint8_t *buf);
int raft_conf_decode(struct raft_conf *conf, const uint8_t *buf, uint32_t len);

/*
 * Client sessions (diss. §6.3): the state machine keeps, per client, the
 * highest sequence number applied, and applies a command only if its
 * sequence number is new.  The table is part of the state machine's snapshot.
 */
struct raft_sessions;
struct raft_sessions *raft_sessions_new(void);
void raft_sessions_free(struct raft_sessions *s);
/* 1: apply it (new), 0: duplicate, already applied. */
int raft_sessions_admit(struct raft_sessions *s, uint64_t client_id,
			uint64_t seq);
size_t raft_sessions_size(const struct raft_sessions *s);
size_t raft_sessions_encode(const struct raft_sessions *s, uint8_t *buf);
int raft_sessions_decode(struct raft_sessions *s, const uint8_t *buf,
			 size_t len);

void raft_entry_free_data(struct raft_entry *e);

#endif /* _TRUTH_RAFT_H */
