/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * truth sm: the replicated coordination state machine.
 *
 * Deterministic: no I/O, no clock reads, no randomness, no dependence on
 * addresses or hash seeds.  Two instances fed the same commands produce the
 * same effects and byte-identical snapshots.  truthd applies every committed
 * Raft entry here, in log order, on every replica.
 *
 * The seam (what truthd does):
 *
 *   sm = truth_sm_new(NULL);
 *   truth_sm_restore(sm, snap, len);           after a restart / InstallSnapshot
 *
 *   proposing: truth_sm_entry_encode() of the request as sent (argv), the
 *   client's id and seq (TRUTH.REQ's, or the connection's) and the stamp.
 *
 *   per committed entry, in order:
 *       truth_sm_entry_decode(data, len, &c, &argv); c.index = the entry's index;
 *       truth_sm_apply(sm, &c, &fx);            -ENOMEM: stop the node (fail-stop)
 *       for each fx.v[i]: if client fx.v[i].client_id is connected here,
 *           truth_sm_effect_render(&fx, &fx.v[i], &conn->out)   (RESP2 or 3
 *           as conn->out.proto says); a REPLY answers request (client, seq),
 *           a PUSH is an unsolicited message (a watch event) for the client.
 *       truth_sm_effects_reset(&fx);
 *
 *   a READONLY command (GET, KEYINFO, LOCK.OWNER, WATCH, ...) after its
 *   ReadIndex / lease: truth_sm_read(sm, &c, &fx) with .ts_ns = the node's
 *   time; same effects.  Reads never change replicated state; WATCH and
 *   WATCH.CANCEL change only this node's (unreplicated) watch table.
 *
 *   a client's connection closes: truth_sm_client_gone(sm, client_id)
 *   (drops its watches; its sessions live on until they expire).
 *
 *   leader, periodically: if clock.earliest > truth_sm_next_deadline(sm),
 *   propose the entry { client_id 0, argv { "SM.TICK" } } stamped with
 *   earliest.  Only a TICK expires sessions (see "Time" below).
 *
 *   snapshot: truth_sm_save(sm, &buf, &len) at an applied index; the
 *   bytes are identical on every replica that applied the same entries.
 *
 * Requests that block (LOCK.ACQUIRE on a held lock, ELECT.CAMPAIGN,
 * BARRIER.ENTER/LEAVE) produce no REPLY when applied; their REPLY comes
 * later, in the effects of the entry that unblocks them (a release, an
 * expiry, the N-th ENTER, a timeout), addressed to their (client, seq).
 * The server keeps the connection's later replies queued behind it, as
 * truth_resp_session_feed()'s deferral already does.
 *
 * Exactly-once (diss. §6.3): commands with client_id != 0 are applied once
 * per (client id, seq).  seq must grow per client; a retry of one of the
 * client's last TRUTH_SM_SAVED_REPLIES requests gets the saved reply, a
 * retry of a request still blocked gets nothing now (its reply will come).
 * truthd needs no other dedup (raft_sessions is not needed on top).  A
 * client's record goes after TRUTH_SM_CLIENT_IDLE_NS of committed time
 * without a request and without a blocked one (at a TICK): a retry after
 * an hour is a new request.  A TICK that finds an idle record with a
 * request still blocked keeps it and counts as its activity, so the
 * record's deadline moves an hour on instead of staying in the past.
 *
 * Time: .ts_ns is the leader's timestamp on the entry (unix ns).  The
 * leader stamps client commands with its clock's *latest* bound and TICKs
 * with its *earliest*; the state machine's own time is the largest stamp
 * seen, so it never runs backwards across leader changes.  A session's
 * deadline is (stamp of its last KEEPALIVE/OPEN) + TTL >= (true time the
 * leader proposed it) + TTL; a TICK at earliest E expires it only if
 * E > deadline, so only once true time is past the deadline.  The client,
 * timing from when it *sent* the keepalive with
 * truth_clock_lease_local_duration(), stops before that.  Key TTLs (SET
 * EX/PX) and try-lock timeouts are checked at every entry's stamp: they
 * are conveniences, not safety mechanisms, and may end up to 2ε early.
 * Documentation/coordination.md has the full argument.
 *
 * Thread safety: none; one thread owns an instance.
 */
#ifndef _TRUTH_SM_H
#define _TRUTH_SM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "resp/resp.h"

#define TRUTH_SM_SNAP_MAGIC	0x314d5354u	/* "TSM1" little-endian, first snapshot word */
#define TRUTH_SM_SNAP_VERSION	2		/* bump on any layout change (2: + hlc) */
#define TRUTH_SM_DEF_HISTORY	4096u		/* changes kept for watches to resume from */
#define TRUTH_SM_SAVED_REPLIES	4u		/* replies kept per client for retries */
/* a client's exactly-once record is dropped after this long without a request (at a TICK) */
#define TRUTH_SM_CLIENT_IDLE_NS	(3600LL * 1000000000)
#define TRUTH_SM_MAX_TTL_MS	(24LL * 3600 * 1000)	/* longest session TTL: one day */
#define TRUTH_SM_MAX_BARRIER	65536		/* most participants of a barrier */
#define TRUTH_SM_TICK		"SM.TICK"	/* the leader's expiry entry (client id 0) */
/* prefix of the keys that show lock holders and election leaders; users may not write it */
#define TRUTH_SM_RESERVED	"__truth/"

/* Configuration; identical on every replica (the snapshot carries it). */
struct truth_sm_config {
	uint32_t history;	/* changes kept for WATCH ... FROM, >= 1 */
};

/* One committed command, as truthd read it from the log. */
struct truth_sm_cmd {
	uint64_t index;				/* log index (informational; must grow) */
	int64_t ts_ns;				/* leader's stamp, unix ns (see "Time") */
	uint64_t hlc;				/* the entry's HLC (include/truth/hlc.h), 0: none */
	uint64_t client_id;			/* 0: internal (TICK), no dedup */
	uint64_t seq;				/* the client's request sequence, > 0 */
	unsigned int argc;			/* >= 1 */
	const struct truth_resp_arg *argv;	/* as the client sent them; argv[0] the name */
};

/* What an effect is. */
enum truth_sm_effect_kind {
	TRUTH_SM_FX_REPLY = 1,	/* the reply to request (client_id, seq) */
	TRUTH_SM_FX_PUSH,	/* unsolicited (a watch event); seq = the WATCH's seq */
};

/* One message for one client; its reply tape is in the effects buffer. */
struct truth_sm_effect {
	uint64_t client_id;	/* who receives it */
	uint64_t seq;		/* the request it answers (REPLY) or the watch (PUSH) */
	uint32_t kind;		/* enum truth_sm_effect_kind */
	uint32_t len;		/* tape bytes */
	size_t off;		/* tape offset in truth_sm_effects.buf */
};

/*
 * Effects of one apply/read, in the order they must be delivered.  The
 * buffer holds protocol-neutral "reply tapes" (Documentation/coordination.md,
 * "Effects"); render them with truth_sm_effect_render().
 */
struct truth_sm_effects {
	struct truth_sm_effect *v;	/* the effects */
	size_t n;			/* how many */
	size_t cap;			/* allocated slots */
	uint8_t *buf;			/* tapes */
	size_t len;			/* bytes used */
	size_t bcap;			/* bytes allocated */
	bool nomem;			/* an append failed: the effects are incomplete */
};

void truth_sm_effects_init(struct truth_sm_effects *fx);
void truth_sm_effects_reset(struct truth_sm_effects *fx);	/* empty, keeps memory */
void truth_sm_effects_free(struct truth_sm_effects *fx);

/*
 * Write effect e as RESP into out, in the version out->proto says (a PUSH
 * is ">n" in RESP3 and "*n" in RESP2, as Redis's pub/sub messages).
 * 0, or -EINVAL if the tape is damaged (nothing written then).
 */
int truth_sm_effect_render(const struct truth_sm_effects *fx,
			   const struct truth_sm_effect *e, struct truth_resp_out *out);

/* The reply of effect e as RESP2 into a fresh string, for tests and logs; NULL if out of memory. */
char *truth_sm_effect_resp2(const struct truth_sm_effects *fx, const struct truth_sm_effect *e,
			    size_t *len);

struct truth_sm;

/* A new, empty state machine (cfg NULL: defaults); NULL if out of memory or cfg is bad. */
struct truth_sm *truth_sm_new(const struct truth_sm_config *cfg);
void truth_sm_free(struct truth_sm *sm);

/*
 * Apply one committed command.  Every outcome, malformed input included
 * ("-ERR ..." with a reason, and no state change), is an effect.  Returns
 * 0, or -ENOMEM: the state is then undefined and the replica must stop
 * (restart from its snapshot and log) rather than diverge.
 */
int truth_sm_apply(struct truth_sm *sm, const struct truth_sm_cmd *c,
		   struct truth_sm_effects *fx);

/*
 * Serve a read-only command (the command table's READONLY flag) at c->ts_ns
 * without changing replicated state.  A write command gets "-ERR ... goes
 * through the log".  0, or -ENOMEM (fx->nomem; the state is unchanged).
 */
int truth_sm_read(struct truth_sm *sm, const struct truth_sm_cmd *c,
		  struct truth_sm_effects *fx);

/* A client disconnected: drop its watches (local state only). */
void truth_sm_client_gone(struct truth_sm *sm, uint64_t client_id);

/*
 * Earliest stamp at which a TICK (or any entry, for key TTLs and lock
 * timeouts) would change something: a session deadline, a waiter's
 * timeout, a key's expiry.  INT64_MAX if nothing is pending.
 */
int64_t truth_sm_next_deadline(const struct truth_sm *sm);

/* The current global revision (every change adds one) and the last applied index. */
uint64_t truth_sm_revision(const struct truth_sm *sm);
uint64_t truth_sm_applied(const struct truth_sm *sm);

/*
 * Snapshot: *buf (malloc'ed, caller frees) of *len bytes; the same
 * replicated state gives the same bytes.  Watches are local and not
 * included.  0 or -ENOMEM.
 */
int truth_sm_save(const struct truth_sm *sm, uint8_t **buf, size_t *len);

/*
 * Replace the state with a snapshot.  0, or -EINVAL (bad magic, version,
 * bounds, order, or trailing bytes) / -ENOMEM with the state unchanged.
 * Local watches survive a restore and continue from the new revision.
 */
int truth_sm_restore(struct truth_sm *sm, const uint8_t *buf, size_t len);

/*
 * The log entry of a command (what truthd proposes): little-endian
 *   u8 version (2), u64 ts_ns, u64 hlc, u64 client_id, u64 seq, u32 argc,
 *   argc x { u32 length, bytes }
 * Version 1 (written before entries carried an HLC) lacks the hlc field and
 * decodes with hlc 0.  The index is the log's own and is not in the entry.
 */
#define TRUTH_SM_ENTRY_VERSION	2
#define TRUTH_SM_ENTRY_MAX_ARGS	(1u << 20)	/* refused beyond, as a damaged entry */

/* Encode c (index ignored) into a malloc'ed *buf; its length, or -ENOMEM / -EINVAL. */
long truth_sm_entry_encode(const struct truth_sm_cmd *c, uint8_t **buf);

/*
 * Decode an entry into *c (index 0: the caller sets it); c->argv points
 * into data through *argv, a malloc'ed array the caller frees after the
 * apply.  0, -EINVAL (damaged: every replica skips it alike) or -ENOMEM.
 */
int truth_sm_entry_decode(const uint8_t *data, size_t len, struct truth_sm_cmd *c,
			  struct truth_resp_arg **argv);

/* The HLC of an encoded entry without decoding it all: 0 if none or damaged. */
uint64_t truth_sm_entry_hlc(const uint8_t *data, size_t len);

/* The largest entry HLC applied (kept in snapshots), 0 if none. */
uint64_t truth_sm_hlc(const struct truth_sm *sm);

/* INFO text: a "# Coordination" section (revision, keys, sessions, ...). */
void truth_sm_info(const struct truth_sm *sm, struct truth_resp_out *text);

#endif /* _TRUTH_SM_H */
