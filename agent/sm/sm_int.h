/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * truth sm internals, shared by the files of agent/sm/ only.
 *
 * Every container is a sorted array (keys compared as bytes, ids as
 * big-endian bytes) so that iteration order, and so the effects and the
 * snapshot bytes, depend on the contents only.  O(n) inserts are the
 * price; a B-tree can replace sm_map without changing anything else.
 */
#ifndef _TRUTH_SM_INT_H
#define _TRUTH_SM_INT_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sm.h"

/* An owned byte string (NUL-terminated for convenience, len excludes it). */
struct sm_bytes {
	char *p;		/* bytes, NULL when len == 0 is allowed */
	size_t len;		/* length */
};

/* A sorted map of byte keys to owned values. */
struct sm_slot {
	struct sm_bytes k;	/* the key */
	void *v;		/* the value (the map does not free it) */
};

struct sm_map {
	struct sm_slot *s;	/* slots, sorted by key */
	size_t n;		/* used */
	size_t cap;		/* allocated */
};

/* A key of the keyspace. */
struct sm_key {
	struct sm_bytes val;	/* the value */
	uint64_t create_rev;	/* revision that created it */
	uint64_t mod_rev;	/* revision of its last change */
	uint64_t version;	/* changes since creation, 1 after creation */
	uint64_t session;	/* bound to this session (ephemeral), 0 = none */
	int64_t expire_ms;	/* unix ms after which it is gone, 0 = never */
};

/* A session (lease). */
struct sm_session {
	uint64_t id;		/* the session id */
	int64_t ttl_ms;		/* time to live after each keepalive */
	int64_t deadline_ns;	/* expires at a TICK stamped after this */
};

/* A blocked request: a lock/election waiter or a barrier member. */
struct sm_waiter {
	uint64_t session;	/* on whose behalf */
	uint64_t client;	/* whose request is blocked (0 = none now) */
	uint64_t seq;		/* that request's seq */
	int64_t deadline_ns;	/* give up after this, 0 = never */
	struct sm_bytes value;	/* election: the campaign value */
	uint32_t state;		/* barrier: enum sm_member_state */
};

enum sm_mutex_kind {
	SM_LOCK = 1,		/* LOCK.*: value of the key is the holder session */
	SM_ELECT,		/* ELECT.*: value of the key is the proclaimed value */
};

/* A lock or an election: a holder and a FIFO of waiters (map key: its reserved key). */
struct sm_mutex {
	uint32_t kind;		/* enum sm_mutex_kind */
	uint64_t holder;	/* holding session, 0 = free */
	uint64_t token;		/* fencing token of the holder: its key's create revision */
	struct sm_waiter *w;	/* waiters, first in line first */
	size_t nw;		/* how many */
	size_t wcap;		/* allocated */
};

enum sm_member_state {
	SM_ENTERING = 1,	/* blocked in BARRIER.ENTER */
	SM_IN,			/* released, has not left */
	SM_LEAVING,		/* blocked in BARRIER.LEAVE */
};

/* A double barrier. */
struct sm_barrier {
	uint32_t n;		/* participants */
	bool released;		/* the n-th entered; now waiting for all to leave */
	struct sm_waiter *m;	/* members, in order of entry */
	size_t nm;		/* how many */
	size_t mcap;		/* allocated */
};

/* A reply kept for retries. */
struct sm_saved {
	uint64_t seq;		/* the request */
	struct sm_bytes tape;	/* its reply tape */
};

/* Exactly-once state of one client (diss. §6.3). */
struct sm_client {
	uint64_t last_seq;	/* highest seq applied */
	int64_t last_ns;	/* state machine time of its last request */
	uint32_t nsaved;	/* saved replies in use */
	uint32_t next;		/* ring slot written next */
	struct sm_saved saved[TRUTH_SM_SAVED_REPLIES];	/* the last replies */
};

enum sm_event_type {
	SM_EV_PUT = 1,		/* created or changed */
	SM_EV_DEL,		/* deleted (DEL, expiry, session end, release) */
};

/* One change, kept in the history ring. */
struct sm_event {
	uint64_t rev;		/* its revision */
	uint32_t type;		/* enum sm_event_type */
	struct sm_bytes key;	/* the key */
	struct sm_bytes val;	/* the new value (PUT) */
};

/* A watch (local to this node, never replicated). */
struct sm_watch {
	uint64_t client;	/* who watches */
	uint64_t id;		/* the WATCH request's seq */
	struct sm_bytes key;	/* key or prefix */
	bool prefix;		/* key is a prefix */
	uint64_t next_rev;	/* first revision not yet delivered */
};

struct truth_sm {
	struct truth_sm_config cfg;	/* history size */
	uint64_t applied;		/* last applied index */
	uint64_t revision;		/* global revision: one per change */
	uint64_t last_session;		/* last session id handed out */
	int64_t now_ns;			/* largest stamp applied */
	uint64_t hlc;			/* largest entry HLC applied */
	struct sm_map keys;		/* key -> struct sm_key */
	struct sm_map sessions;		/* be64 id -> struct sm_session */
	struct sm_map mutexes;		/* reserved key -> struct sm_mutex */
	struct sm_map barriers;		/* name -> struct sm_barrier */
	struct sm_map fences;		/* resource -> uint64_t * last token seen */
	struct sm_map clients;		/* be64 id -> struct sm_client */
	struct sm_event *hist;		/* ring of cfg.history changes */
	size_t hist_start;		/* oldest */
	size_t hist_n;			/* used */
	uint64_t hist_floor;		/* every change with rev >= this is in hist */
	/* derived (recomputed after restore), never in the snapshot */
	int64_t key_expiry_min;		/* no key expires before this (ms), INT64_MAX none */
	int64_t waiter_deadline_min;	/* no waiter times out before this (ns) */
	/* local */
	struct sm_watch *watches;	/* sorted by (client, id) */
	size_t nwatches;		/* how many */
	size_t wcap;			/* allocated */
	int err;			/* first -ENOMEM during this apply */
	bool reading;			/* in truth_sm_read(): save no reply */
};

/* ------------------------------------------------------------ sm_util.c */

int sm_bytes_set(struct sm_bytes *b, const void *p, size_t n);
void sm_bytes_free(struct sm_bytes *b);
int sm_bytes_cmp(const void *a, size_t an, const void *b, size_t bn);
void sm_be64(uint64_t v, uint8_t out[8]);
/* Make *buf hold at least need bytes (doubling); 0 or -ENOMEM with *buf kept. */
int sm_grow(uint8_t **buf, size_t *cap, size_t need);

/* Index of key k, or where it would go; *found tells which. */
size_t sm_map_find(const struct sm_map *m, const void *k, size_t n, bool *found);
void *sm_map_get(const struct sm_map *m, const void *k, size_t n);
void *sm_map_get_id(const struct sm_map *m, uint64_t id);
int sm_map_insert_at(struct sm_map *m, size_t i, const void *k, size_t n, void *v);
int sm_map_insert_id(struct sm_map *m, uint64_t id, void *v);
/* Remove slot i (its key is freed, its value is the caller's). */
void sm_map_remove_at(struct sm_map *m, size_t i);
uint64_t sm_map_id_at(const struct sm_map *m, size_t i);

/* Argument parsing: strict integers as RESP's str2ll. */
bool sm_arg_is(const struct truth_resp_arg *a, const char *word);
bool sm_arg_u64(const struct truth_resp_arg *a, uint64_t *v);	/* 0..INT64_MAX */

/* ------------------------------------------------------ effects (sm.c) */

/* Start an effect for (client, seq); then write exactly one reply value. */
void sm_fx_begin(struct truth_sm_effects *fx, uint64_t client, uint64_t seq, uint32_t kind);
void sm_fx_end(struct truth_sm *sm, struct truth_sm_effects *fx);
void sm_fx_simple(struct truth_sm_effects *fx, const char *s);
void sm_fx_error(struct truth_sm_effects *fx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void sm_fx_int(struct truth_sm_effects *fx, long long v);
void sm_fx_bulk(struct truth_sm_effects *fx, const void *p, size_t n);
void sm_fx_str(struct truth_sm_effects *fx, const char *s);
void sm_fx_null(struct truth_sm_effects *fx);
void sm_fx_array(struct truth_sm_effects *fx, uint32_t n);
void sm_fx_map(struct truth_sm_effects *fx, uint32_t n);
void sm_fx_push(struct truth_sm_effects *fx, uint32_t n);

/* One whole reply: an error / an integer / null to (client, seq). */
void sm_reply_error(struct truth_sm *sm, struct truth_sm_effects *fx, uint64_t client,
		    uint64_t seq, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void sm_reply_int(struct truth_sm *sm, struct truth_sm_effects *fx, uint64_t client,
		  uint64_t seq, long long v);
void sm_reply_null(struct truth_sm *sm, struct truth_sm_effects *fx, uint64_t client,
		   uint64_t seq);

/* Record -ENOMEM for this apply. */
static inline void sm_nomem(struct truth_sm *sm)
{
	if (!sm->err)
		sm->err = -ENOMEM;
}

/* ----------------------------------------------------------- sm_kv.c */

/* The live key at now_ms (expired ones count as absent), or NULL. */
struct sm_key *sm_kv_get(struct truth_sm *sm, const void *k, size_t n, int64_t now_ms);
/* Put: create or change; the new mod revision, 0 if out of memory. */
uint64_t sm_kv_put(struct truth_sm *sm, struct truth_sm_effects *fx, const void *k, size_t n,
		   const void *v, size_t vn, uint64_t session, int64_t expire_ms);
/* Delete if present (live or expired); true if a live key was removed. */
bool sm_kv_del(struct truth_sm *sm, struct truth_sm_effects *fx, const void *k, size_t n);
void sm_kv_sweep(struct truth_sm *sm, struct truth_sm_effects *fx);	/* expired keys */
void sm_kv_free_all(struct truth_sm *sm);
bool sm_kv_reserved(const void *k, size_t n);

/* Command handlers; return with exactly one reply effect for c. */
void sm_kv_exec(struct truth_sm *sm, const struct truth_sm_cmd *c,
		const struct truth_resp_request *req, struct truth_sm_effects *fx, bool read);
void sm_cas(struct truth_sm *sm, const struct truth_sm_cmd *c, struct truth_sm_effects *fx);
void sm_keyinfo(struct truth_sm *sm, const struct truth_sm_cmd *c, struct truth_sm_effects *fx);

/* Watches and history. */
void sm_hist_free_all(struct truth_sm *sm);
int sm_hist_add(struct truth_sm *sm, uint64_t rev, uint32_t type, const void *k, size_t kn,
		const void *v, size_t vn);
void sm_watch_event(struct truth_sm *sm, struct truth_sm_effects *fx, const struct sm_event *ev);
void sm_watch_cmd(struct truth_sm *sm, const struct truth_sm_cmd *c, struct truth_sm_effects *fx);
void sm_watch_cancel(struct truth_sm *sm, const struct truth_sm_cmd *c,
		     struct truth_sm_effects *fx);
void sm_watch_free_all(struct truth_sm *sm);

/* ---------------------------------------------------------- sm_coord.c */

void sm_session_cmd(struct truth_sm *sm, const struct truth_sm_cmd *c,
		    struct truth_sm_effects *fx, const char *sub);
void sm_sessions_expire(struct truth_sm *sm, struct truth_sm_effects *fx, int64_t ts);
void sm_mutex_cmd(struct truth_sm *sm, const struct truth_sm_cmd *c,
		  struct truth_sm_effects *fx, uint32_t kind, const char *sub);
void sm_barrier_cmd(struct truth_sm *sm, const struct truth_sm_cmd *c,
		    struct truth_sm_effects *fx, const char *sub);
void sm_waiters_timeout(struct truth_sm *sm, struct truth_sm_effects *fx);
/* seq 0: any request of the client */
bool sm_is_blocked(const struct truth_sm *sm, uint64_t client, uint64_t seq);
void sm_coord_free_all(struct truth_sm *sm);
void sm_mutex_free(struct sm_mutex *m);
/* "__truth/lock/NAME" or "__truth/elect/NAME" into *out (allocated). */
int sm_reserved_key(struct sm_bytes *out, uint32_t kind, const struct truth_resp_arg *name);
void sm_mutex_release_at(struct truth_sm *sm, struct truth_sm_effects *fx, size_t i);
void sm_barrier_free(struct sm_barrier *b);
int64_t sm_coord_next_deadline(const struct truth_sm *sm);
void sm_recompute_mins(struct truth_sm *sm);
/* 0 if session id lives; else -1 after replying -NOSESSION (or a parse error) to c. */
int sm_session_exists(struct truth_sm *sm, const struct truth_sm_cmd *c,
		      struct truth_sm_effects *fx, uint64_t id);
int sm_session_arg(struct truth_sm *sm, const struct truth_sm_cmd *c,
		   struct truth_sm_effects *fx, const struct truth_resp_arg *a, uint64_t *id);

#endif /* _TRUTH_SM_INT_H */
