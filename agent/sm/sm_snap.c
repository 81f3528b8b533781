// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * truth sm: snapshots.
 *
 * Byte layout, little-endian, every container in its sorted order (so the
 * same state is always the same bytes); "bytes" is u32 length + data:
 *
 *   u32 magic "TSM1", u32 version, u32 history capacity
 *   u64 applied, revision, last_session, now_ns, hist_floor
 *   u64 hlc  (version 2 on: the largest entry HLC applied; absent in 1)
 *   u64 n, n x session  { u64 id, u64 ttl_ms, u64 deadline_ns }
 *   u64 n, n x key      { bytes key, bytes value, u64 create_rev, mod_rev,
 *                         version, session, expire_ms }
 *   u64 n, n x mutex    { bytes reserved key, u32 kind, u64 holder, token,
 *                         u64 nw, nw x { u64 session, client, seq,
 *                         deadline_ns, bytes value } }
 *   u64 n, n x barrier  { bytes name, u32 n, u8 released, u64 nm,
 *                         nm x { u64 session, client, seq, u32 state } }
 *   u64 n, n x fence    { bytes resource, u64 token }
 *   u64 n, n x client   { u64 id, last_seq, last_ns, u32 nsaved, u32 next,
 *                         nsaved x { u64 seq, bytes tape } }
 *   u64 n, n x event    { u64 rev, u32 type, bytes key, bytes value }  oldest first
 *
 * Restore checks every length, count, order and range and builds a new
 * instance before touching the old one: a bad snapshot changes nothing.
 */

#include <stdlib.h>
#include <string.h>

#include "sm_int.h"

struct wr {
	uint8_t *p;		/* bytes */
	size_t len;		/* used */
	size_t cap;		/* allocated */
	bool nomem;		/* an append failed */
};

static void w_put(struct wr *w, const void *p, size_t n)
{
	if (w->nomem || !n)	/* an empty field may have no buffer at all */
		return;
	if (sm_grow(&w->p, &w->cap, w->len + n)) {
		w->nomem = true;
		return;
	}
	memcpy(w->p + w->len, p, n);
	w->len += n;
}

static void w_u64(struct wr *w, uint64_t v)
{
	uint8_t b[8];
	int i;

	for (i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	w_put(w, b, 8);
}

static void w_u32(struct wr *w, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };

	w_put(w, b, 4);
}

static void w_bytes(struct wr *w, const void *p, size_t n)
{
	w_u32(w, (uint32_t)n);
	w_put(w, p, n);
}

int truth_sm_save(const struct truth_sm *sm, uint8_t **buf, size_t *len)
{
	struct wr w = { 0 };
	size_t i, j;

	w_u32(&w, TRUTH_SM_SNAP_MAGIC);
	w_u32(&w, TRUTH_SM_SNAP_VERSION);
	w_u32(&w, sm->cfg.history);
	w_u64(&w, sm->applied);
	w_u64(&w, sm->revision);
	w_u64(&w, sm->last_session);
	w_u64(&w, (uint64_t)sm->now_ns);
	w_u64(&w, sm->hist_floor);
	w_u64(&w, sm->hlc);

	w_u64(&w, sm->sessions.n);
	for (i = 0; i < sm->sessions.n; i++) {
		const struct sm_session *s = sm->sessions.s[i].v;

		w_u64(&w, s->id);
		w_u64(&w, (uint64_t)s->ttl_ms);
		w_u64(&w, (uint64_t)s->deadline_ns);
	}
	w_u64(&w, sm->keys.n);
	for (i = 0; i < sm->keys.n; i++) {
		const struct sm_key *k = sm->keys.s[i].v;

		w_bytes(&w, sm->keys.s[i].k.p, sm->keys.s[i].k.len);
		w_bytes(&w, k->val.p, k->val.len);
		w_u64(&w, k->create_rev);
		w_u64(&w, k->mod_rev);
		w_u64(&w, k->version);
		w_u64(&w, k->session);
		w_u64(&w, (uint64_t)k->expire_ms);
	}
	w_u64(&w, sm->mutexes.n);
	for (i = 0; i < sm->mutexes.n; i++) {
		const struct sm_mutex *m = sm->mutexes.s[i].v;

		w_bytes(&w, sm->mutexes.s[i].k.p, sm->mutexes.s[i].k.len);
		w_u32(&w, m->kind);
		w_u64(&w, m->holder);
		w_u64(&w, m->token);
		w_u64(&w, m->nw);
		for (j = 0; j < m->nw; j++) {
			w_u64(&w, m->w[j].session);
			w_u64(&w, m->w[j].client);
			w_u64(&w, m->w[j].seq);
			w_u64(&w, (uint64_t)m->w[j].deadline_ns);
			w_bytes(&w, m->w[j].value.p, m->w[j].value.len);
		}
	}
	w_u64(&w, sm->barriers.n);
	for (i = 0; i < sm->barriers.n; i++) {
		const struct sm_barrier *b = sm->barriers.s[i].v;
		uint8_t rel = b->released;

		w_bytes(&w, sm->barriers.s[i].k.p, sm->barriers.s[i].k.len);
		w_u32(&w, b->n);
		w_put(&w, &rel, 1);
		w_u64(&w, b->nm);
		for (j = 0; j < b->nm; j++) {
			w_u64(&w, b->m[j].session);
			w_u64(&w, b->m[j].client);
			w_u64(&w, b->m[j].seq);
			w_u32(&w, b->m[j].state);
		}
	}
	w_u64(&w, sm->fences.n);
	for (i = 0; i < sm->fences.n; i++) {
		w_bytes(&w, sm->fences.s[i].k.p, sm->fences.s[i].k.len);
		w_u64(&w, *(const uint64_t *)sm->fences.s[i].v);
	}
	w_u64(&w, sm->clients.n);
	for (i = 0; i < sm->clients.n; i++) {
		const struct sm_client *cl = sm->clients.s[i].v;

		w_u64(&w, sm_map_id_at(&sm->clients, i));
		w_u64(&w, cl->last_seq);
		w_u64(&w, (uint64_t)cl->last_ns);
		w_u32(&w, cl->nsaved);
		w_u32(&w, cl->next);
		for (j = 0; j < cl->nsaved; j++) {
			w_u64(&w, cl->saved[j].seq);
			w_bytes(&w, cl->saved[j].tape.p, cl->saved[j].tape.len);
		}
	}
	w_u64(&w, sm->hist_n);
	for (i = 0; i < sm->hist_n; i++) {
		const struct sm_event *e = &sm->hist[(sm->hist_start + i) % sm->cfg.history];

		w_u64(&w, e->rev);
		w_u32(&w, e->type);
		w_bytes(&w, e->key.p, e->key.len);
		w_bytes(&w, e->val.p, e->val.len);
	}
	if (w.nomem) {
		free(w.p);
		return -ENOMEM;
	}
	*buf = w.p;
	*len = w.len;
	return 0;
}

/* ------------------------------------------------------------ restore */

struct rd {
	const uint8_t *p;	/* the snapshot */
	size_t len;		/* its length */
	size_t i;		/* read position */
	bool bad;		/* ran past the end or failed a check */
};

static uint64_t r_u64(struct rd *r)
{
	uint64_t v = 0;
	int j;

	if (r->bad || r->len - r->i < 8) {
		r->bad = true;
		return 0;
	}
	for (j = 7; j >= 0; j--)
		v = v << 8 | r->p[r->i + j];
	r->i += 8;
	return v;
}

static uint32_t r_u32(struct rd *r)
{
	uint32_t v;

	if (r->bad || r->len - r->i < 4) {
		r->bad = true;
		return 0;
	}
	v = (uint32_t)r->p[r->i] | (uint32_t)r->p[r->i + 1] << 8 |
	    (uint32_t)r->p[r->i + 2] << 16 | (uint32_t)r->p[r->i + 3] << 24;
	r->i += 4;
	return v;
}

/* A view of the next bytes field (not copied). */
static const void *r_bytes(struct rd *r, size_t *n)
{
	const void *p;

	*n = r_u32(r);
	if (r->bad || r->len - r->i < *n) {
		r->bad = true;
		*n = 0;
		return "";
	}
	p = r->p + r->i;
	r->i += *n;
	return p;
}

/* A count: each element takes at least min bytes, so it cannot exceed what is left. */
static uint64_t r_count(struct rd *r, size_t min)
{
	uint64_t n = r_u64(r);

	if (!r->bad && n > (r->len - r->i) / min)
		r->bad = true;
	return r->bad ? 0 : n;
}

static void check(struct rd *r, bool ok)
{
	if (!ok)
		r->bad = true;
}

/* Append to a map being rebuilt: keys must come strictly increasing. */
static void r_append(struct rd *r, struct truth_sm *sm, struct sm_map *m, const void *k,
		     size_t n, void *v)
{
	if (m->n && sm_bytes_cmp(m->s[m->n - 1].k.p, m->s[m->n - 1].k.len, k, n) >= 0)
		r->bad = true;
	if (r->bad || sm_map_insert_at(m, m->n, k, n, v)) {
		if (!r->bad)
			sm->err = -ENOMEM;
		r->bad = true;
	}
}

static void r_waiter(struct rd *r, struct truth_sm *n, struct sm_waiter *w, bool value)
{
	const void *p;
	size_t len;

	w->session = r_u64(r);
	w->client = r_u64(r);
	w->seq = r_u64(r);
	check(r, sm_map_get_id(&n->sessions, w->session) != NULL);
	if (!value)
		return;
	w->deadline_ns = (int64_t)r_u64(r);
	p = r_bytes(r, &len);
	if (!r->bad && sm_bytes_set(&w->value, p, len)) {
		n->err = -ENOMEM;
		r->bad = true;
	}
}

static void r_sessions_keys(struct rd *r, struct truth_sm *n)
{
	uint64_t c, i;
	uint8_t id[8];

	for (c = r_count(r, 24), i = 0; i < c && !r->bad; i++) {
		struct sm_session *s = calloc(1, sizeof(*s));

		if (!s) {
			n->err = -ENOMEM;
			r->bad = true;
			return;
		}
		s->id = r_u64(r);
		s->ttl_ms = (int64_t)r_u64(r);
		s->deadline_ns = (int64_t)r_u64(r);
		check(r, s->id && s->id <= n->last_session && s->ttl_ms >= 1 &&
		      s->ttl_ms <= TRUTH_SM_MAX_TTL_MS);
		sm_be64(s->id, id);
		r_append(r, n, &n->sessions, id, 8, s);
		if (r->bad && (!n->sessions.n || n->sessions.s[n->sessions.n - 1].v != s))
			free(s);
	}
	for (c = r_count(r, 48), i = 0; i < c && !r->bad; i++) {
		struct sm_key *k = calloc(1, sizeof(*k));
		const void *kp, *vp;
		size_t kn, vn;

		if (!k) {
			n->err = -ENOMEM;
			r->bad = true;
			return;
		}
		kp = r_bytes(r, &kn);
		vp = r_bytes(r, &vn);
		k->create_rev = r_u64(r);
		k->mod_rev = r_u64(r);
		k->version = r_u64(r);
		k->session = r_u64(r);
		k->expire_ms = (int64_t)r_u64(r);
		check(r, k->create_rev && k->create_rev <= k->mod_rev &&
		      k->mod_rev <= n->revision && k->version >= 1 && k->expire_ms >= 0 &&
		      (!k->session || sm_map_get_id(&n->sessions, k->session)));
		if (!r->bad && sm_bytes_set(&k->val, vp, vn)) {
			n->err = -ENOMEM;
			r->bad = true;
		}
		r_append(r, n, &n->keys, kp, kn, k);
		if (r->bad && (!n->keys.n || n->keys.s[n->keys.n - 1].v != k)) {
			sm_bytes_free(&k->val);
			free(k);
		}
	}
}

static void r_mutexes_barriers(struct rd *r, struct truth_sm *n)
{
	uint64_t c, i, j;

	for (c = r_count(r, 32), i = 0; i < c && !r->bad; i++) {
		struct sm_mutex *m = calloc(1, sizeof(*m));
		const void *kp;
		size_t kn;
		uint64_t nw;

		if (!m) {
			n->err = -ENOMEM;
			r->bad = true;
			return;
		}
		kp = r_bytes(r, &kn);
		m->kind = r_u32(r);
		m->holder = r_u64(r);
		m->token = r_u64(r);
		r_append(r, n, &n->mutexes, kp, kn, m);
		if (r->bad && (!n->mutexes.n || n->mutexes.s[n->mutexes.n - 1].v != m)) {
			free(m);
			return;
		}
		check(r, (m->kind == SM_LOCK || m->kind == SM_ELECT) && m->holder &&
		      sm_map_get_id(&n->sessions, m->holder) && m->token <= n->revision);
		nw = r_count(r, 36);
		if (r->bad)
			return;
		m->w = calloc(nw ? nw : 1, sizeof(*m->w));
		if (!m->w) {
			n->err = -ENOMEM;
			r->bad = true;
			return;
		}
		m->wcap = nw ? nw : 1;
		for (j = 0; j < nw && !r->bad; j++, m->nw++)
			r_waiter(r, n, &m->w[j], true);
	}
	for (c = r_count(r, 17), i = 0; i < c && !r->bad; i++) {
		struct sm_barrier *b = calloc(1, sizeof(*b));
		const void *kp;
		size_t kn;
		uint64_t nm;

		if (!b) {
			n->err = -ENOMEM;
			r->bad = true;
			return;
		}
		kp = r_bytes(r, &kn);
		b->n = r_u32(r);
		check(r, r->len - r->i >= 1);
		b->released = !r->bad && r->p[r->i++];
		r_append(r, n, &n->barriers, kp, kn, b);
		if (r->bad && (!n->barriers.n || n->barriers.s[n->barriers.n - 1].v != b)) {
			free(b);
			return;
		}
		nm = r_count(r, 28);
		check(r, b->n >= 1 && b->n <= TRUTH_SM_MAX_BARRIER && nm <= b->n &&
		      (b->released || nm < b->n));
		if (r->bad)
			return;
		b->m = calloc(nm ? nm : 1, sizeof(*b->m));
		if (!b->m) {
			n->err = -ENOMEM;
			r->bad = true;
			return;
		}
		b->mcap = nm ? nm : 1;
		for (j = 0; j < nm && !r->bad; j++, b->nm++) {
			r_waiter(r, n, &b->m[j], false);
			b->m[j].state = r_u32(r);
			check(r, b->released ? (b->m[j].state == SM_IN ||
						b->m[j].state == SM_LEAVING) :
			      b->m[j].state == SM_ENTERING);
		}
	}
}

static void r_rest(struct rd *r, struct truth_sm *n)
{
	uint64_t c, i, j, prev = 0;
	uint8_t id[8];

	for (c = r_count(r, 12), i = 0; i < c && !r->bad; i++) {
		uint64_t *tok = calloc(1, sizeof(*tok));
		const void *kp;
		size_t kn;

		if (!tok) {
			n->err = -ENOMEM;
			r->bad = true;
			return;
		}
		kp = r_bytes(r, &kn);
		*tok = r_u64(r);
		check(r, *tok <= n->revision);
		r_append(r, n, &n->fences, kp, kn, tok);
		if (r->bad && (!n->fences.n || n->fences.s[n->fences.n - 1].v != tok))
			free(tok);
	}
	for (c = r_count(r, 32), i = 0; i < c && !r->bad; i++) {
		struct sm_client *cl = calloc(1, sizeof(*cl));
		uint64_t cid;

		if (!cl) {
			n->err = -ENOMEM;
			r->bad = true;
			return;
		}
		cid = r_u64(r);
		cl->last_seq = r_u64(r);
		cl->last_ns = (int64_t)r_u64(r);
		cl->nsaved = r_u32(r);
		cl->next = r_u32(r);
		check(r, cid && cl->nsaved <= TRUTH_SM_SAVED_REPLIES &&
		      cl->next < TRUTH_SM_SAVED_REPLIES);
		sm_be64(cid, id);
		r_append(r, n, &n->clients, id, 8, cl);
		if (r->bad && (!n->clients.n || n->clients.s[n->clients.n - 1].v != cl)) {
			free(cl);
			return;
		}
		for (j = 0; j < cl->nsaved && !r->bad; j++) {
			const void *p;
			size_t len;

			cl->saved[j].seq = r_u64(r);
			p = r_bytes(r, &len);
			if (!r->bad && sm_bytes_set(&cl->saved[j].tape, p, len)) {
				n->err = -ENOMEM;
				r->bad = true;
			}
		}
	}
	c = r_count(r, 16);
	check(r, c <= n->cfg.history);
	for (i = 0; i < c && !r->bad; i++) {
		struct sm_event *e = &n->hist[i];
		const void *kp, *vp;
		size_t kn, vn;

		e->rev = r_u64(r);
		e->type = r_u32(r);
		kp = r_bytes(r, &kn);
		vp = r_bytes(r, &vn);
		check(r, e->rev > prev && e->rev <= n->revision && e->rev >= n->hist_floor &&
		      (e->type == SM_EV_PUT || e->type == SM_EV_DEL));
		prev = e->rev;
		if (r->bad)
			break;
		if (sm_bytes_set(&e->key, kp, kn) || sm_bytes_set(&e->val, vp, vn)) {
			sm_bytes_free(&e->key);
			n->err = -ENOMEM;
			r->bad = true;
			break;
		}
		n->hist_n++;
	}
}

int truth_sm_restore(struct truth_sm *sm, const uint8_t *buf, size_t len)
{
	struct rd r = { .p = buf, .len = len };
	struct truth_sm_config cfg;
	struct truth_sm *n, tmp;
	uint32_t magic, version;
	int err;

	magic = r_u32(&r);
	version = r_u32(&r);
	cfg.history = r_u32(&r);
	if (r.bad || magic != TRUTH_SM_SNAP_MAGIC ||
	    (version != 1 && version != TRUTH_SM_SNAP_VERSION))
		return -EINVAL;
	n = truth_sm_new(&cfg);
	if (!n)
		return cfg.history >= 1 && cfg.history <= (1u << 24) ? -ENOMEM : -EINVAL;
	n->applied = r_u64(&r);
	n->revision = r_u64(&r);
	n->last_session = r_u64(&r);
	n->now_ns = (int64_t)r_u64(&r);
	n->hist_floor = r_u64(&r);
	check(&r, n->hist_floor >= 1 && n->hist_floor <= n->revision + 1);
	n->hlc = version >= 2 ? r_u64(&r) : 0;
	r_sessions_keys(&r, n);
	r_mutexes_barriers(&r, n);
	r_rest(&r, n);
	if (!r.bad && r.i != r.len)
		r.bad = true;	/* trailing bytes: not what save wrote */
	if (r.bad) {
		err = n->err ? n->err : -EINVAL;
		truth_sm_free(n);
		return err;
	}
	sm_recompute_mins(n);
	/* the local watches stay with this node; they catch up at the next change */
	n->watches = sm->watches;
	n->nwatches = sm->nwatches;
	n->wcap = sm->wcap;
	sm->watches = NULL;
	sm->nwatches = 0;
	sm->wcap = 0;
	tmp = *sm;
	*sm = *n;
	*n = tmp;
	truth_sm_free(n);
	return 0;
}
