// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * truth sm: the keyspace.
 *
 * The string commands keep the reference store's semantics (agent/resp/
 * store.c, Documentation/protocol.md) reply for reply; what is added is
 * per-key create/mod revisions and version, one global revision bumped by
 * every change, keys bound to sessions, compare-and-set on the mod
 * revision, and the FENCE guard.  Every change is recorded in the history
 * and offered to the watches (sm_watch.c).
 *
 * Expired keys (SET EX/PX) are removed by sm_kv_sweep() at the first entry
 * stamped past their expiry, each with its own revision and DEL event, so
 * watchers see the expiry; reads in between already treat them as absent.
 */

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sm_int.h"

#define RESERVED_LEN	(sizeof(TRUTH_SM_RESERVED) - 1)

bool sm_kv_reserved(const void *k, size_t n)
{
	return n >= RESERVED_LEN && !memcmp(k, TRUTH_SM_RESERVED, RESERVED_LEN);
}

static bool expired(const struct sm_key *e, int64_t now_ms)
{
	return e->expire_ms && now_ms > e->expire_ms;
}

struct sm_key *sm_kv_get(struct truth_sm *sm, const void *k, size_t n, int64_t now_ms)
{
	struct sm_key *e = sm_map_get(&sm->keys, k, n);

	return e && !expired(e, now_ms) ? e : NULL;
}

static void key_free(struct sm_key *e)
{
	sm_bytes_free(&e->val);
	free(e);
}

void sm_kv_free_all(struct truth_sm *sm)
{
	size_t i;

	for (i = 0; i < sm->keys.n; i++) {
		key_free(sm->keys.s[i].v);
		sm_bytes_free(&sm->keys.s[i].k);
	}
	free(sm->keys.s);
	memset(&sm->keys, 0, sizeof(sm->keys));
}

/* A change happened at rev: history, then watches. */
static void changed(struct truth_sm *sm, struct truth_sm_effects *fx, uint64_t rev,
		    uint32_t type, const void *k, size_t n, const void *v, size_t vn)
{
	struct sm_event ev = {
		.rev = rev, .type = type,
		.key = { (char *)k, n }, .val = { (char *)v, vn },
	};

	if (sm_hist_add(sm, rev, type, k, n, v, vn))
		sm_nomem(sm);
	sm_watch_event(sm, fx, &ev);
}

uint64_t sm_kv_put(struct truth_sm *sm, struct truth_sm_effects *fx, const void *k, size_t n,
		   const void *v, size_t vn, uint64_t session, int64_t expire_ms)
{
	bool found;
	size_t i = sm_map_find(&sm->keys, k, n, &found);
	struct sm_key *e;
	struct sm_bytes val = { 0 };

	if (sm_bytes_set(&val, v, vn)) {
		sm_nomem(sm);
		return 0;
	}
	if (found) {
		e = sm->keys.s[i].v;
	} else {
		e = calloc(1, sizeof(*e));
		if (!e || sm_map_insert_at(&sm->keys, i, k, n, e)) {
			free(e);
			sm_bytes_free(&val);
			sm_nomem(sm);
			return 0;
		}
	}
	sm_bytes_free(&e->val);
	e->val = val;
	e->mod_rev = ++sm->revision;
	if (!found) {
		e->create_rev = e->mod_rev;
		e->version = 0;
	}
	e->version++;
	e->session = session;
	e->expire_ms = expire_ms;
	if (expire_ms && expire_ms < sm->key_expiry_min)
		sm->key_expiry_min = expire_ms;
	changed(sm, fx, e->mod_rev, SM_EV_PUT, k, n, v, vn);
	return e->mod_rev;
}

bool sm_kv_del(struct truth_sm *sm, struct truth_sm_effects *fx, const void *k, size_t n)
{
	bool found, live;
	size_t i = sm_map_find(&sm->keys, k, n, &found);
	struct sm_key *e;

	if (!found)
		return false;
	e = sm->keys.s[i].v;
	live = !expired(e, sm->now_ns / 1000000);
	/* the slot's key outlives the removal for the event: take it over */
	{
		struct sm_bytes key = sm->keys.s[i].k;

		sm->keys.s[i].k.p = NULL;
		sm->keys.s[i].k.len = 0;
		sm_map_remove_at(&sm->keys, i);
		key_free(e);
		changed(sm, fx, ++sm->revision, SM_EV_DEL, key.p, key.len, NULL, 0);
		sm_bytes_free(&key);
	}
	return live;
}

void sm_kv_sweep(struct truth_sm *sm, struct truth_sm_effects *fx)
{
	int64_t now_ms = sm->now_ns / 1000000, next = INT64_MAX;
	size_t i = 0;

	while (i < sm->keys.n) {
		struct sm_key *e = sm->keys.s[i].v;

		if (expired(e, now_ms)) {
			sm_kv_del(sm, fx, sm->keys.s[i].k.p, sm->keys.s[i].k.len);
			continue;
		}
		if (e->expire_ms && e->expire_ms < next)
			next = e->expire_ms;
		i++;
	}
	sm->key_expiry_min = next;
}

/* A key's value, or null for a missing key. */
static void fx_value(struct truth_sm_effects *fx, const struct sm_key *e)
{
	if (e)
		sm_fx_bulk(fx, e->val.p, e->val.len);
	else
		sm_fx_null(fx);
}

static void reply_begin(struct truth_sm_effects *fx, const struct truth_sm_cmd *c)
{
	sm_fx_begin(fx, c->client_id, c->seq, TRUTH_SM_FX_REPLY);
}

#define ERR_RESERVED	"ERR keys under '" TRUTH_SM_RESERVED "' are written by the coordination commands only"

static void exec_set(struct truth_sm *sm, const struct truth_sm_cmd *c,
		     const struct truth_resp_set *r, struct truth_sm_effects *fx)
{
	int64_t now = sm->now_ns / 1000000, at = 0;
	uint64_t session = 0, *fence = NULL;
	struct sm_key *e;
	bool stop;

	if (sm_kv_reserved(r->key.ptr, r->key.len)) {
		sm_reply_error(sm, fx, c->client_id, c->seq, ERR_RESERVED);
		return;
	}
	if (r->flags & TRUTH_RESP_SET_SESSION) {
		session = (uint64_t)r->session;
		if (sm_session_exists(sm, c, fx, session))
			return;
	}
	if (r->flags & TRUTH_RESP_SET_REL) {
		if (now > 0 && r->expire_ms > INT64_MAX - now) {
			sm_reply_error(sm, fx, c->client_id, c->seq,
				       "ERR invalid expire time in 'set' command");
			return;
		}
		at = now + r->expire_ms;
	} else if (r->flags & TRUTH_RESP_SET_ABS) {
		at = r->expire_ms;
	}
	if (r->flags & TRUTH_RESP_SET_FENCE) {
		uint64_t tok = (uint64_t)r->fence_token;

		fence = sm_map_get(&sm->fences, r->fence.ptr, r->fence.len);
		/* a token never issued would lock every real holder out for good */
		if (tok > sm->revision) {
			sm_reply_error(sm, fx, c->client_id, c->seq,
				       "ERR FENCE token %llu was never issued (revision is %llu)",
				       (unsigned long long)tok, (unsigned long long)sm->revision);
			return;
		}
		if (fence && tok < *fence) {
			sm_reply_error(sm, fx, c->client_id, c->seq,
				       "FENCED token %llu is older than %llu, the last seen for this resource",
				       (unsigned long long)tok, (unsigned long long)*fence);
			return;
		}
		if (!fence) {
			bool found;
			size_t i = sm_map_find(&sm->fences, r->fence.ptr, r->fence.len, &found);

			fence = calloc(1, sizeof(*fence));
			if (!fence || sm_map_insert_at(&sm->fences, i, r->fence.ptr,
						       r->fence.len, fence)) {
				free(fence);
				sm_nomem(sm);
				return;
			}
		}
		*fence = tok;
	}
	e = sm_kv_get(sm, r->key.ptr, r->key.len, now);
	stop = ((r->flags & TRUTH_RESP_SET_NX) && e) || ((r->flags & TRUTH_RESP_SET_XX) && !e);
	reply_begin(fx, c);
	if (r->flags & TRUTH_RESP_SET_GET) {
		fx_value(fx, e);
	} else if (stop) {
		sm_fx_null(fx);
	} else {
		sm_fx_simple(fx, "OK");
	}
	sm_fx_end(sm, fx);
	if (stop)
		return;
	if ((r->flags & TRUTH_RESP_SET_KEEPTTL) && e) {
		at = e->expire_ms;
		session = e->session;
	}
	if ((r->flags & TRUTH_RESP_SET_ABS) && at <= now)
		sm_kv_del(sm, fx, r->key.ptr, r->key.len);	/* in the past: Redis sets and deletes */
	else
		sm_kv_put(sm, fx, r->key.ptr, r->key.len, r->value.ptr, r->value.len, session, at);
}

static void exec_incrby(struct truth_sm *sm, const struct truth_sm_cmd *c,
			const struct truth_resp_incrby *r, struct truth_sm_effects *fx)
{
	struct sm_key *e;
	long long old = 0, v;
	char num[24];
	int n;

	if (sm_kv_reserved(r->key.ptr, r->key.len)) {
		sm_reply_error(sm, fx, c->client_id, c->seq, ERR_RESERVED);
		return;
	}
	e = sm_kv_get(sm, r->key.ptr, r->key.len, sm->now_ns / 1000000);
	if (e && !truth_resp_str2ll(e->val.p, e->val.len, &old)) {
		sm_reply_error(sm, fx, c->client_id, c->seq, TRUTH_RESP_ERR_NOT_INT);
		return;
	}
	if (__builtin_add_overflow(old, r->delta, &v)) {
		sm_reply_error(sm, fx, c->client_id, c->seq, TRUTH_RESP_ERR_OVERFLOW);
		return;
	}
	n = snprintf(num, sizeof(num), "%lld", v);
	/* INCR keeps the key's time to live and session, as Redis keeps the TTL */
	sm_kv_put(sm, fx, r->key.ptr, r->key.len, num, (size_t)n, e ? e->session : 0,
		  e ? e->expire_ms : 0);
	sm_reply_int(sm, fx, c->client_id, c->seq, v);
}

void sm_kv_exec(struct truth_sm *sm, const struct truth_sm_cmd *c,
		const struct truth_resp_request *req, struct truth_sm_effects *fx, bool read)
{
	const struct truth_resp_keys *ks = &req->u.keys;
	int64_t now = (read ? c->ts_ns : sm->now_ns) / 1000000;
	long long count = 0;
	unsigned int i, j;

	switch (req->cmd->id) {
	case TRUTH_RESP_ID_GET:
		reply_begin(fx, c);
		fx_value(fx, sm_kv_get(sm, req->u.key.ptr, req->u.key.len, now));
		sm_fx_end(sm, fx);
		return;
	case TRUTH_RESP_ID_SET:
		exec_set(sm, c, &req->u.set, fx);
		return;
	case TRUTH_RESP_ID_DEL:
		for (i = 0; i < ks->n; i++)
			if (sm_kv_reserved(ks->keys[i].ptr, ks->keys[i].len)) {
				sm_reply_error(sm, fx, c->client_id, c->seq, ERR_RESERVED);
				return;
			}
		for (i = 0; i < ks->n; i++) {
			for (j = 0; j < i; j++)	/* a key named twice counts once */
				if (!sm_bytes_cmp(ks->keys[j].ptr, ks->keys[j].len,
						  ks->keys[i].ptr, ks->keys[i].len))
					break;
			if (j == i)
				count += sm_kv_del(sm, fx, ks->keys[i].ptr, ks->keys[i].len);
		}
		sm_reply_int(sm, fx, c->client_id, c->seq, count);
		return;
	case TRUTH_RESP_ID_EXISTS:
		for (i = 0; i < ks->n; i++)
			count += sm_kv_get(sm, ks->keys[i].ptr, ks->keys[i].len, now) != NULL;
		sm_reply_int(sm, fx, c->client_id, c->seq, count);
		return;
	case TRUTH_RESP_ID_MGET:
		reply_begin(fx, c);
		sm_fx_array(fx, ks->n);
		for (i = 0; i < ks->n; i++)
			fx_value(fx, sm_kv_get(sm, ks->keys[i].ptr, ks->keys[i].len, now));
		sm_fx_end(sm, fx);
		return;
	case TRUTH_RESP_ID_INCRBY:
		exec_incrby(sm, c, &req->u.incrby, fx);
		return;
	default:
		sm_reply_error(sm, fx, c->client_id, c->seq, "ERR not a keyspace command");
	}
}

/* CAS key mod_revision value [SESSION id]: set only if the key is at that revision (0: absent). */
void sm_cas(struct truth_sm *sm, const struct truth_sm_cmd *c, struct truth_sm_effects *fx)
{
	const struct truth_resp_arg *key = &c->argv[1];
	uint64_t want, session = 0, rev;
	struct sm_key *e;

	if (c->argc != 4 && !(c->argc == 6 && sm_arg_is(&c->argv[4], "session"))) {
		sm_reply_error(sm, fx, c->client_id, c->seq,
			       "ERR syntax error: CAS key mod_revision value [SESSION id]");
		return;
	}
	if (!sm_arg_u64(&c->argv[2], &want)) {
		sm_reply_error(sm, fx, c->client_id, c->seq,
			       "ERR mod_revision is not a non-negative integer");
		return;
	}
	if (sm_kv_reserved(key->ptr, key->len)) {
		sm_reply_error(sm, fx, c->client_id, c->seq, ERR_RESERVED);
		return;
	}
	if (c->argc == 6 && sm_session_arg(sm, c, fx, &c->argv[5], &session))
		return;
	e = sm_kv_get(sm, key->ptr, key->len, sm->now_ns / 1000000);
	rev = e ? e->mod_rev : 0;
	if (rev != want) {
		sm_reply_error(sm, fx, c->client_id, c->seq,
			       "CONFLICT the key is at mod_revision %llu, not %llu",
			       (unsigned long long)rev, (unsigned long long)want);
		return;
	}
	rev = sm_kv_put(sm, fx, key->ptr, key->len, c->argv[3].ptr, c->argv[3].len, session, 0);
	sm_reply_int(sm, fx, c->client_id, c->seq, (long long)rev);
}

/* KEYINFO key: the value with its revisions, version, session and expiry. */
void sm_keyinfo(struct truth_sm *sm, const struct truth_sm_cmd *c, struct truth_sm_effects *fx)
{
	int64_t now = (sm->reading ? c->ts_ns : sm->now_ns) / 1000000;
	struct sm_key *e = sm_kv_get(sm, c->argv[1].ptr, c->argv[1].len, now);

	reply_begin(fx, c);
	if (!e) {
		sm_fx_null(fx);
		sm_fx_end(sm, fx);
		return;
	}
	sm_fx_map(fx, 6);
	sm_fx_str(fx, "value");
	sm_fx_bulk(fx, e->val.p, e->val.len);
	sm_fx_str(fx, "create_revision");
	sm_fx_int(fx, (long long)e->create_rev);
	sm_fx_str(fx, "mod_revision");
	sm_fx_int(fx, (long long)e->mod_rev);
	sm_fx_str(fx, "version");
	sm_fx_int(fx, (long long)e->version);
	sm_fx_str(fx, "session");
	sm_fx_int(fx, (long long)e->session);
	sm_fx_str(fx, "expire_at_ms");
	sm_fx_int(fx, e->expire_ms);
	sm_fx_end(sm, fx);
}
