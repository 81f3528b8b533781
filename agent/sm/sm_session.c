// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * truth sm: sessions (leases) and double barriers.
 *
 * A session lives until SESSION.CLOSE or until a TICK stamped after its
 * deadline (the last OPEN/KEEPALIVE's stamp + TTL); sm.h "Time" says why
 * only the leader's TICK, stamped with its clock's earliest bound, may end
 * it.  A barrier of N releases every participant exactly when the N-th
 * enters; then each LEAVE blocks until all N have left (ZooKeeper's double
 * barrier), after which the name is free again.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sm_int.h"

#define ERR_NOSESSION	"NOSESSION session %llu does not exist or has expired"

/* ----------------------------------------------------------- barriers */

void sm_barrier_free(struct sm_barrier *b)
{
	free(b->m);
	free(b);
}

static ssize_t member_find(const struct sm_barrier *b, uint64_t session)
{
	size_t i;

	for (i = 0; i < b->nm; i++)
		if (b->m[i].session == session)
			return (ssize_t)i;
	return -1;
}

/* Released and everyone left (or is gone): answer the leavers, drop the barrier. */
static bool barrier_maybe_done(struct truth_sm *sm, struct truth_sm_effects *fx, size_t bi)
{
	struct sm_barrier *b = sm->barriers.s[bi].v;
	size_t i;

	for (i = 0; i < b->nm; i++)
		if (b->m[i].state != SM_LEAVING)
			return false;
	if (!b->released && b->nm)
		return false;
	for (i = 0; i < b->nm; i++) {
		sm_fx_begin(fx, b->m[i].client, b->m[i].seq, TRUTH_SM_FX_REPLY);
		sm_fx_simple(fx, "OK");
		sm_fx_end(sm, fx);
	}
	sm_barrier_free(b);
	sm_map_remove_at(&sm->barriers, bi);
	return true;
}

/* BARRIER.ENTER name n session */
static void enter(struct truth_sm *sm, const struct truth_sm_cmd *c, struct truth_sm_effects *fx)
{
	const struct truth_resp_arg *name = &c->argv[1];
	struct sm_barrier *b;
	struct sm_waiter *w;
	uint64_t n, sid;
	bool found;
	size_t bi, i;

	if (!sm_arg_u64(&c->argv[2], &n) || n < 1 || n > TRUTH_SM_MAX_BARRIER) {
		sm_reply_error(sm, fx, c->client_id, c->seq,
			       "ERR participants is not an integer in 1..%d", TRUTH_SM_MAX_BARRIER);
		return;
	}
	if (sm_session_arg(sm, c, fx, &c->argv[3], &sid))
		return;
	bi = sm_map_find(&sm->barriers, name->ptr, name->len, &found);
	b = found ? sm->barriers.s[bi].v : NULL;
	if (b && b->n != n) {
		sm_reply_error(sm, fx, c->client_id, c->seq,
			       "ERR this barrier has %u participants, not %llu", b->n,
			       (unsigned long long)n);
		return;
	}
	if (b && b->released) {
		sm_reply_error(sm, fx, c->client_id, c->seq,
			       "BUSY the barrier is released and not all participants have left");
		return;
	}
	if (b && member_find(b, sid) >= 0) {
		sm_reply_error(sm, fx, c->client_id, c->seq,
			       "ERR session %llu has entered already", (unsigned long long)sid);
		return;
	}
	if (!b) {
		b = calloc(1, sizeof(*b));
		if (!b || sm_map_insert_at(&sm->barriers, bi, name->ptr, name->len, b)) {
			free(b);
			sm_nomem(sm);
			return;
		}
		b->n = (uint32_t)n;
	}
	if (b->nm == b->mcap) {
		size_t cap = b->mcap ? b->mcap * 2 : 4;

		w = realloc(b->m, cap * sizeof(*w));
		if (!w) {
			sm_nomem(sm);
			return;
		}
		b->m = w;
		b->mcap = cap;
	}
	w = &b->m[b->nm++];
	memset(w, 0, sizeof(*w));
	w->session = sid;
	w->client = c->client_id;
	w->seq = c->seq;
	w->state = SM_ENTERING;
	if (b->nm < b->n)
		return;		/* blocked until the n-th */
	b->released = true;
	for (i = 0; i < b->nm; i++) {
		sm_reply_int(sm, fx, b->m[i].client, b->m[i].seq, (long long)b->n);
		b->m[i].state = SM_IN;
		b->m[i].client = 0;
		b->m[i].seq = 0;
	}
}

/* BARRIER.LEAVE name session */
static void leave(struct truth_sm *sm, const struct truth_sm_cmd *c, struct truth_sm_effects *fx)
{
	const struct truth_resp_arg *name = &c->argv[1];
	struct sm_barrier *b;
	ssize_t mi;
	uint64_t sid;
	bool found;
	size_t bi;

	if (!sm_arg_u64(&c->argv[2], &sid) || !sid) {
		sm_reply_error(sm, fx, c->client_id, c->seq,
			       "ERR session id is not a positive integer");
		return;
	}
	bi = sm_map_find(&sm->barriers, name->ptr, name->len, &found);
	b = found ? sm->barriers.s[bi].v : NULL;
	mi = b ? member_find(b, sid) : -1;
	if (mi < 0) {
		sm_reply_error(sm, fx, c->client_id, c->seq,
			       "ERR session %llu has not entered this barrier", (unsigned long long)sid);
		return;
	}
	if (!b->released || b->m[mi].state != SM_IN) {
		sm_reply_error(sm, fx, c->client_id, c->seq, b->released ?
			       "ERR session %llu is leaving already" :
			       "ERR the barrier is not released yet (session %llu still entering)",
			       (unsigned long long)sid);
		return;
	}
	b->m[mi].state = SM_LEAVING;
	b->m[mi].client = c->client_id;
	b->m[mi].seq = c->seq;
	barrier_maybe_done(sm, fx, bi);
}

void sm_barrier_cmd(struct truth_sm *sm, const struct truth_sm_cmd *c,
		    struct truth_sm_effects *fx, const char *sub)
{
	if (!strcmp(sub, "enter"))
		enter(sm, c, fx);
	else
		leave(sm, c, fx);
}

/* ----------------------------------------------------------- sessions */

/* A session ends: everything bound to it goes, in a fixed order. */
static void session_end(struct truth_sm *sm, struct truth_sm_effects *fx, size_t si)
{
	uint64_t sid = sm_map_id_at(&sm->sessions, si);
	size_t i, j;

	free(sm->sessions.s[si].v);
	sm_map_remove_at(&sm->sessions, si);

	for (i = 0; i < sm->mutexes.n;) {
		struct sm_mutex *m = sm->mutexes.s[i].v;

		for (j = 0; j < m->nw;) {
			if (m->w[j].session != sid) {
				j++;
				continue;
			}
			sm_reply_error(sm, fx, m->w[j].client, m->w[j].seq, ERR_NOSESSION,
				       (unsigned long long)sid);
			sm_bytes_free(&m->w[j].value);
			memmove(&m->w[j], &m->w[j + 1], (m->nw - j - 1) * sizeof(m->w[0]));
			m->nw--;
		}
		if (m->holder == sid)
			sm_mutex_release_at(sm, fx, i);	/* the next waiter, if any, gets it */
		if (!m->holder && !m->nw) {
			sm_mutex_free(m);
			sm_map_remove_at(&sm->mutexes, i);
			continue;
		}
		i++;
	}

	for (i = 0; i < sm->barriers.n;) {
		struct sm_barrier *b = sm->barriers.s[i].v;
		ssize_t mi = member_find(b, sid);

		if (mi < 0) {
			i++;
			continue;
		}
		if (b->m[mi].client || b->m[mi].seq)
			sm_reply_error(sm, fx, b->m[mi].client, b->m[mi].seq, ERR_NOSESSION,
				       (unsigned long long)sid);
		memmove(&b->m[mi], &b->m[mi + 1], (b->nm - (size_t)mi - 1) * sizeof(b->m[0]));
		b->nm--;
		if (barrier_maybe_done(sm, fx, i))
			continue;
		i++;
	}

	for (i = 0; i < sm->keys.n;) {
		struct sm_key *k = sm->keys.s[i].v;

		if (k->session == sid)
			sm_kv_del(sm, fx, sm->keys.s[i].k.p, sm->keys.s[i].k.len);
		else
			i++;
	}
}

static struct sm_session *session_at(struct truth_sm *sm, const struct truth_sm_cmd *c,
				     struct truth_sm_effects *fx, size_t *si)
{
	uint64_t id;
	uint8_t k[8];
	bool found;

	if (sm_session_arg(sm, c, fx, &c->argv[1], &id))
		return NULL;
	sm_be64(id, k);
	*si = sm_map_find(&sm->sessions, k, 8, &found);
	return sm->sessions.s[*si].v;
}

void sm_session_cmd(struct truth_sm *sm, const struct truth_sm_cmd *c,
		    struct truth_sm_effects *fx, const char *sub)
{
	struct sm_session *s;
	long long ttl;
	size_t si;

	if (!strcmp(sub, "open")) {
		if (!truth_resp_str2ll(c->argv[1].ptr, c->argv[1].len, &ttl) || ttl < 1 ||
		    ttl > TRUTH_SM_MAX_TTL_MS) {
			sm_reply_error(sm, fx, c->client_id, c->seq,
				       "ERR TTL is not an integer in 1..%lld ms",
				       (long long)TRUTH_SM_MAX_TTL_MS);
			return;
		}
		s = calloc(1, sizeof(*s));
		if (!s || sm_map_insert_id(&sm->sessions, sm->last_session + 1, s)) {
			free(s);
			sm_nomem(sm);
			return;
		}
		s->id = ++sm->last_session;
		s->ttl_ms = ttl;
		s->deadline_ns = sm->now_ns + ttl * 1000000;
		sm_reply_int(sm, fx, c->client_id, c->seq, (long long)s->id);
		return;
	}
	s = session_at(sm, c, fx, &si);
	if (!s)
		return;
	if (!strcmp(sub, "keepalive")) {
		s->deadline_ns = sm->now_ns + s->ttl_ms * 1000000;
		sm_reply_int(sm, fx, c->client_id, c->seq, s->ttl_ms);
	} else if (!strcmp(sub, "close")) {
		sm_fx_begin(fx, c->client_id, c->seq, TRUTH_SM_FX_REPLY);
		sm_fx_simple(fx, "OK");
		sm_fx_end(sm, fx);
		session_end(sm, fx, si);
	} else {	/* info */
		int64_t left = (s->deadline_ns - (sm->reading ? c->ts_ns : sm->now_ns)) / 1000000;

		sm_fx_begin(fx, c->client_id, c->seq, TRUTH_SM_FX_REPLY);
		sm_fx_map(fx, 2);
		sm_fx_str(fx, "ttl_ms");
		sm_fx_int(fx, s->ttl_ms);
		sm_fx_str(fx, "remaining_ms");
		sm_fx_int(fx, left > 0 ? left : 0);
		sm_fx_end(sm, fx);
	}
}

void sm_sessions_expire(struct truth_sm *sm, struct truth_sm_effects *fx, int64_t ts)
{
	size_t i = 0;

	while (i < sm->sessions.n) {
		struct sm_session *s = sm->sessions.s[i].v;

		if (ts > s->deadline_ns)
			session_end(sm, fx, i);
		else
			i++;
	}
}

/* ------------------------------------------------------------ queries */

bool sm_is_blocked(const struct truth_sm *sm, uint64_t client, uint64_t seq)
{
	size_t i, j;

	for (i = 0; i < sm->mutexes.n; i++) {
		const struct sm_mutex *m = sm->mutexes.s[i].v;

		for (j = 0; j < m->nw; j++)
			if (m->w[j].client == client && (m->w[j].seq == seq || !seq))
				return true;
	}
	for (i = 0; i < sm->barriers.n; i++) {
		const struct sm_barrier *b = sm->barriers.s[i].v;

		for (j = 0; j < b->nm; j++)
			if (b->m[j].client == client && (b->m[j].seq == seq || !seq))
				return true;
	}
	return false;
}

int64_t sm_coord_next_deadline(const struct truth_sm *sm)
{
	int64_t d = sm->waiter_deadline_min;
	size_t i;

	for (i = 0; i < sm->sessions.n; i++) {
		const struct sm_session *s = sm->sessions.s[i].v;

		if (s->deadline_ns < d)
			d = s->deadline_ns;
	}
	return d;
}

void sm_recompute_mins(struct truth_sm *sm)
{
	size_t i, j;

	sm->key_expiry_min = INT64_MAX;
	for (i = 0; i < sm->keys.n; i++) {
		const struct sm_key *k = sm->keys.s[i].v;

		if (k->expire_ms && k->expire_ms < sm->key_expiry_min)
			sm->key_expiry_min = k->expire_ms;
	}
	sm->waiter_deadline_min = INT64_MAX;
	for (i = 0; i < sm->mutexes.n; i++) {
		const struct sm_mutex *m = sm->mutexes.s[i].v;

		for (j = 0; j < m->nw; j++)
			if (m->w[j].deadline_ns && m->w[j].deadline_ns < sm->waiter_deadline_min)
				sm->waiter_deadline_min = m->w[j].deadline_ns;
	}
}

static void map_free_all(struct sm_map *m, void (*fn)(void *))
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		fn(m->s[i].v);
		sm_bytes_free(&m->s[i].k);
	}
	free(m->s);
	memset(m, 0, sizeof(*m));
}

static void free_mutex(void *p)
{
	sm_mutex_free(p);
}

static void free_barrier(void *p)
{
	sm_barrier_free(p);
}

void sm_coord_free_all(struct truth_sm *sm)
{
	map_free_all(&sm->sessions, free);
	map_free_all(&sm->mutexes, free_mutex);
	map_free_all(&sm->barriers, free_barrier);
	map_free_all(&sm->fences, free);
}
