// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * truth resp: the reference executor of the string commands.
 *
 * A chained hash map of binary-safe keys to values with an optional
 * absolute expiry (unix ms).  Time is a parameter, never read: a key is
 * gone once now > expire_at (Redis's keyIsExpired()), so replaying the same
 * requests at the same times gives the same replies on every replica.
 * Expired keys are removed when touched and by truth_resp_store_size().
 *
 * Used by the tests and as truthd's interim backend.  Not hardened: the
 * hash (FNV-1a) is unkeyed, so a hostile client could make it slow.
 */

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resp.h"

struct store_entry {
	struct store_entry *next;	/* chain in the bucket */
	uint64_t hash;			/* FNV-1a of the key */
	int64_t expire_at;		/* unix ms after which the key is gone; 0 = never */
	char *val;			/* value bytes (own allocation) */
	size_t vlen;			/* value length */
	size_t klen;			/* key length */
	char key[];			/* key bytes */
};

struct truth_resp_store {
	struct store_entry **tab;	/* buckets, a power of two of them */
	size_t mask;			/* buckets - 1 */
	size_t n;			/* entries, expired ones not yet removed included */
};

static uint64_t fnv1a(const char *p, size_t n)
{
	uint64_t h = 14695981039346656037ULL;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

struct truth_resp_store *truth_resp_store_new(void)
{
	struct truth_resp_store *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->tab = calloc(16, sizeof(*st->tab));
	if (!st->tab) {
		free(st);
		return NULL;
	}
	st->mask = 15;
	return st;
}

static void entry_free(struct store_entry *e)
{
	free(e->val);
	free(e);
}

void truth_resp_store_free(struct truth_resp_store *st)
{
	size_t i;

	if (!st)
		return;
	for (i = 0; i <= st->mask; i++) {
		struct store_entry *e = st->tab[i], *next;

		for (; e; e = next) {
			next = e->next;
			entry_free(e);
		}
	}
	free(st->tab);
	free(st);
}

static bool expired(const struct store_entry *e, int64_t now)
{
	return e->expire_at && now > e->expire_at;
}

/* The slot pointing at key's entry (live or not), or at the chain's NULL end. */
static struct store_entry **slot(struct truth_resp_store *st, const struct truth_resp_arg *k,
				 uint64_t h)
{
	struct store_entry **pp = &st->tab[h & st->mask];

	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->hash == h && (*pp)->klen == k->len &&
		    memcmp((*pp)->key, k->ptr, k->len) == 0)
			break;
	return pp;
}

static void unlink_entry(struct truth_resp_store *st, struct store_entry **pp)
{
	struct store_entry *e = *pp;

	*pp = e->next;
	entry_free(e);
	st->n--;
}

/* The live entry for key at now, dropping it if expired. */
static struct store_entry *lookup(struct truth_resp_store *st, const struct truth_resp_arg *k,
				  int64_t now)
{
	struct store_entry **pp = slot(st, k, fnv1a(k->ptr, k->len));

	if (*pp && expired(*pp, now)) {
		unlink_entry(st, pp);
		return NULL;
	}
	return *pp;
}

static bool delete_key(struct truth_resp_store *st, const struct truth_resp_arg *k, int64_t now)
{
	struct store_entry **pp = slot(st, k, fnv1a(k->ptr, k->len));
	bool live;

	if (!*pp)
		return false;
	live = !expired(*pp, now);
	unlink_entry(st, pp);
	return live;
}

static void rehash(struct truth_resp_store *st)
{
	size_t nb = (st->mask + 1) * 2, i;
	struct store_entry **tab = calloc(nb, sizeof(*tab));

	if (!tab)
		return;	/* keep the old table: slower, still correct */
	for (i = 0; i <= st->mask; i++) {
		struct store_entry *e = st->tab[i], *next;

		for (; e; e = next) {
			next = e->next;
			e->next = tab[e->hash & (nb - 1)];
			tab[e->hash & (nb - 1)] = e;
		}
	}
	free(st->tab);
	st->tab = tab;
	st->mask = nb - 1;
}

/* Set key to value with expire_at; the existing entry (if any) is updated in place. */
static int store_put(struct truth_resp_store *st, const struct truth_resp_arg *k,
		     const void *val, size_t vlen, int64_t expire_at)
{
	uint64_t h = fnv1a(k->ptr, k->len);
	struct store_entry **pp = slot(st, k, h), *e = *pp;
	char *v = malloc(vlen ? vlen : 1);

	if (!v)
		return -1;
	memcpy(v, val, vlen);
	if (!e) {
		e = malloc(sizeof(*e) + k->len);
		if (!e) {
			free(v);
			return -1;
		}
		e->hash = h;
		e->klen = k->len;
		memcpy(e->key, k->ptr, k->len);
		e->val = NULL;
		e->next = NULL;
		*pp = e;
		st->n++;
	}
	free(e->val);
	e->val = v;
	e->vlen = vlen;
	e->expire_at = expire_at;
	if (st->n > 2 * (st->mask + 1))
		rehash(st);
	return 0;
}

size_t truth_resp_store_size(struct truth_resp_store *st, int64_t now_ms)
{
	size_t i;

	for (i = 0; i <= st->mask; i++) {
		struct store_entry **pp = &st->tab[i];

		while (*pp) {
			if (expired(*pp, now_ms))
				unlink_entry(st, pp);
			else
				pp = &(*pp)->next;
		}
	}
	return st->n;
}

void truth_resp_store_info(struct truth_resp_store *st, int64_t now_ms,
			   struct truth_resp_out *text)
{
	size_t keys = truth_resp_store_size(st, now_ms), expires = 0, i;

	for (i = 0; i <= st->mask; i++) {
		struct store_entry *e;

		for (e = st->tab[i]; e; e = e->next)
			expires += e->expire_at != 0;
	}
	if (keys)
		truth_resp_out_printf(text, "db0:keys=%zu,expires=%zu,avg_ttl=0\r\n",
				      keys, expires);
}

int truth_resp_store_foreach(struct truth_resp_store *st, truth_resp_store_fn fn,
			     void *ctx)
{
	struct store_entry *e;
	size_t i;
	int r;

	for (i = 0; i <= st->mask; i++)
		for (e = st->tab[i]; e; e = e->next) {
			r = fn(ctx, e->key, e->klen, e->val, e->vlen, e->expire_at);
			if (r)
				return r;
		}
	return 0;
}

int truth_resp_store_put(struct truth_resp_store *st, const void *key, size_t klen,
			 const void *val, size_t vlen, int64_t expire_at)
{
	struct truth_resp_arg k = { .ptr = key, .len = klen };

	return store_put(st, &k, val, vlen, expire_at);
}

static void exec_set(struct truth_resp_store *st, const struct truth_resp_set *r,
		     int64_t now, struct truth_resp_out *out)
{
	struct store_entry *e;
	int64_t at = 0;

	if (r->flags & (TRUTH_RESP_SET_FENCE | TRUTH_RESP_SET_SESSION)) {
		/* no tokens or sessions here: refusing beats ignoring the guard */
		truth_resp_add_error(out, "ERR FENCE and SESSION need the coordination state machine (agent/sm)");
		return;
	}
	if (r->flags & TRUTH_RESP_SET_REL) {
		if (now > 0 && r->expire_ms > INT64_MAX - now) {
			truth_resp_add_error(out, "ERR invalid expire time in 'set' command");
			return;
		}
		at = now + r->expire_ms;
	} else if (r->flags & TRUTH_RESP_SET_ABS) {
		at = r->expire_ms;
	}
	e = lookup(st, &r->key, now);
	if (r->flags & TRUTH_RESP_SET_GET) {
		if (e)
			truth_resp_add_bulk(out, e->val, e->vlen);
		else
			truth_resp_add_null(out);
	}
	if (((r->flags & TRUTH_RESP_SET_NX) && e) || ((r->flags & TRUTH_RESP_SET_XX) && !e)) {
		if (!(r->flags & TRUTH_RESP_SET_GET))
			truth_resp_add_null(out);
		return;
	}
	if ((r->flags & TRUTH_RESP_SET_KEEPTTL) && e)
		at = e->expire_at;
	if ((r->flags & TRUTH_RESP_SET_ABS) && at <= now) {
		/* already in the past: Redis sets and deletes at once, replying OK */
		delete_key(st, &r->key, now);
	} else if (store_put(st, &r->key, r->value.ptr, r->value.len, at)) {
		out->nomem = true;
		return;
	}
	if (!(r->flags & TRUTH_RESP_SET_GET))
		truth_resp_add_simple(out, "OK");
}

static void exec_incrby(struct truth_resp_store *st, const struct truth_resp_incrby *r,
			int64_t now, struct truth_resp_out *out)
{
	struct store_entry *e = lookup(st, &r->key, now);
	long long old = 0, v;
	char num[24];
	int n;

	if (e && !truth_resp_str2ll(e->val, e->vlen, &old)) {
		truth_resp_add_error(out, TRUTH_RESP_ERR_NOT_INT);
		return;
	}
	if (__builtin_add_overflow(old, r->delta, &v)) {
		truth_resp_add_error(out, TRUTH_RESP_ERR_OVERFLOW);
		return;
	}
	n = snprintf(num, sizeof(num), "%lld", v);
	/* INCR keeps the key's time to live, as in Redis */
	if (store_put(st, &r->key, num, (size_t)n, e ? e->expire_at : 0)) {
		out->nomem = true;
		return;
	}
	truth_resp_add_int(out, v);
}

int truth_resp_store_exec(struct truth_resp_store *st,
			  const struct truth_resp_request *req,
			  int64_t now_ms, struct truth_resp_out *out)
{
	const struct truth_resp_keys *ks = &req->u.keys;
	struct store_entry *e;
	long long count = 0;
	unsigned int i;

	switch (req->cmd->id) {
	case TRUTH_RESP_ID_GET:
		e = lookup(st, &req->u.key, now_ms);
		if (e)
			truth_resp_add_bulk(out, e->val, e->vlen);
		else
			truth_resp_add_null(out);
		return 0;
	case TRUTH_RESP_ID_SET:
		exec_set(st, &req->u.set, now_ms, out);
		return 0;
	case TRUTH_RESP_ID_DEL:
		for (i = 0; i < ks->n; i++)
			count += delete_key(st, &ks->keys[i], now_ms);
		truth_resp_add_int(out, count);
		return 0;
	case TRUTH_RESP_ID_EXISTS:
		for (i = 0; i < ks->n; i++)
			count += lookup(st, &ks->keys[i], now_ms) != NULL;
		truth_resp_add_int(out, count);
		return 0;
	case TRUTH_RESP_ID_MGET:
		truth_resp_add_array(out, ks->n);
		for (i = 0; i < ks->n; i++) {
			e = lookup(st, &ks->keys[i], now_ms);
			if (e)
				truth_resp_add_bulk(out, e->val, e->vlen);
			else
				truth_resp_add_null(out);
		}
		return 0;
	case TRUTH_RESP_ID_INCRBY:
		exec_incrby(st, &req->u.incrby, now_ms, out);
		return 0;
	default:
		return -1;
	}
}

/* --------------------------------------------- the reference handler */

static int store_execute(void *ctx, struct truth_resp_session *s,
			 const struct truth_resp_request *req)
{
	struct truth_resp_store_backend *b = ctx;

	if (truth_resp_store_exec(b->store, req, b->now_ms, &s->out))
		truth_resp_add_errorf(&s->out, "ERR '%s' is not a keyspace command",
				      req->cmd->name);
	return 0;
}

static void store_info(void *ctx, struct truth_resp_session *s,
		       const struct truth_resp_info *r, struct truth_resp_out *text)
{
	struct truth_resp_store_backend *b = ctx;

	(void)s;	/* the keyspace is the same for every client */
	if (!truth_resp_info_wants(r, "keyspace", true))
		return;
	truth_resp_info_section(text, "Keyspace");
	truth_resp_store_info(b->store, b->now_ms, text);
}

void truth_resp_store_handler(struct truth_resp_handler *h,
			      struct truth_resp_store_backend *b)
{
	memset(h, 0, sizeof(*h));
	h->execute = store_execute;
	h->info = store_info;
	h->ctx = b;
	h->node_id = 1;
	h->leader = true;
}
