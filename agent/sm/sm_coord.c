// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * truth sm: sessions, locks, elections and barriers.
 *
 * Locks and elections are one object, struct sm_mutex: a holder session
 * and a FIFO of waiting requests.  Granting it creates the reserved key
 * "__truth/lock/NAME" (value: the holder session) or "__truth/elect/NAME"
 * (value: the proclaimed value) bound to the holder's session; the key's
 * create revision is the fencing token.  Revisions only grow, so tokens
 * are strictly increasing across every lock and election of the cluster,
 * and watches and GET see holders change like any key (as in etcd, where
 * a lock is a key).  A release grants the head of the queue only: one
 * waiter woken, no thundering herd.
 *
 * A session's end (SESSION.CLOSE, or a TICK past its deadline) releases
 * its locks and elections, drops its waiting requests (-NOSESSION), takes
 * it out of barriers, and deletes its ephemeral keys, in that order.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sm_int.h"

#define ERR_NOSESSION	"NOSESSION session %llu does not exist or has expired"

int sm_session_exists(struct truth_sm *sm, const struct truth_sm_cmd *c,
		      struct truth_sm_effects *fx, uint64_t id)
{
	if (sm_map_get_id(&sm->sessions, id))
		return 0;
	sm_reply_error(sm, fx, c->client_id, c->seq, ERR_NOSESSION, (unsigned long long)id);
	return -1;
}

int sm_session_arg(struct truth_sm *sm, const struct truth_sm_cmd *c,
		   struct truth_sm_effects *fx, const struct truth_resp_arg *a, uint64_t *id)
{
	if (!sm_arg_u64(a, id) || !*id) {
		sm_reply_error(sm, fx, c->client_id, c->seq,
			       "ERR session id is not a positive integer");
		return -1;
	}
	return sm_session_exists(sm, c, fx, *id);
}

/* "__truth/<kind>/<name>", binary safe. */
int sm_reserved_key(struct sm_bytes *out, uint32_t kind, const struct truth_resp_arg *name)
{
	const char *pre = kind == SM_LOCK ? TRUTH_SM_RESERVED "lock/" : TRUTH_SM_RESERVED "elect/";
	size_t pn = strlen(pre);
	char *p = malloc(pn + name->len + 1);

	if (!p)
		return -ENOMEM;
	memcpy(p, pre, pn);
	memcpy(p + pn, name->ptr, name->len);
	p[pn + name->len] = '\0';
	out->p = p;
	out->len = pn + name->len;
	return 0;
}

/* ------------------------------------------------------------ mutexes */

void sm_mutex_free(struct sm_mutex *m)
{
	size_t i;

	for (i = 0; i < m->nw; i++)
		sm_bytes_free(&m->w[i].value);
	free(m->w);
	free(m);
}

static void waiter_remove(struct sm_mutex *m, size_t i)
{
	sm_bytes_free(&m->w[i].value);
	memmove(&m->w[i], &m->w[i + 1], (m->nw - i - 1) * sizeof(m->w[0]));
	m->nw--;
}

/* Make w the holder of mutex slot i; w->value is consumed. */
static void grant(struct truth_sm *sm, struct truth_sm_effects *fx, size_t i,
		  struct sm_waiter *w)
{
	struct sm_mutex *m = sm->mutexes.s[i].v;
	const struct sm_bytes *key = &sm->mutexes.s[i].k;
	char num[24];
	uint64_t rev;

	if (m->kind == SM_LOCK) {
		int n = snprintf(num, sizeof(num), "%llu", (unsigned long long)w->session);

		rev = sm_kv_put(sm, fx, key->p, key->len, num, (size_t)n, w->session, 0);
	} else {
		rev = sm_kv_put(sm, fx, key->p, key->len, w->value.p, w->value.len, w->session, 0);
	}
	m->holder = w->session;
	m->token = rev;
	sm_bytes_free(&w->value);
	if (w->client || w->seq)
		sm_reply_int(sm, fx, w->client, w->seq, (long long)rev);
}

/* The holder lets go: the key goes, the first waiter (only) gets it. */
void sm_mutex_release_at(struct truth_sm *sm, struct truth_sm_effects *fx, size_t i)
{
	struct sm_mutex *m = sm->mutexes.s[i].v;
	struct sm_waiter w;

	m->holder = 0;
	m->token = 0;
	sm_kv_del(sm, fx, sm->mutexes.s[i].k.p, sm->mutexes.s[i].k.len);
	if (!m->nw)
		return;
	w = m->w[0];
	memmove(&m->w[0], &m->w[1], (m->nw - 1) * sizeof(m->w[0]));
	m->nw--;
	grant(sm, fx, i, &w);
}

/* Drop mutex slot i if nobody holds or waits; true if dropped. */
static bool mutex_gc(struct truth_sm *sm, size_t i)
{
	struct sm_mutex *m = sm->mutexes.s[i].v;

	if (m->holder || m->nw)
		return false;
	sm_mutex_free(m);
	sm_map_remove_at(&sm->mutexes, i);
	return true;
}

static ssize_t waiter_find(const struct sm_mutex *m, uint64_t session)
{
	size_t i;

	for (i = 0; i < m->nw; i++)
		if (m->w[i].session == session)
			return (ssize_t)i;
	return -1;
}

/* LOCK.ACQUIRE name session [TIMEOUT ms] / ELECT.CAMPAIGN name session value [TIMEOUT ms] */
static void acquire(struct truth_sm *sm, const struct truth_sm_cmd *c,
		    struct truth_sm_effects *fx, uint32_t kind)
{
	unsigned int opt = kind == SM_LOCK ? 3 : 4;
	uint64_t sid, timeout = 0;
	bool has_timeout = false, found;
	struct sm_waiter w = { 0 };
	struct sm_bytes key = { 0 };
	struct sm_mutex *m;
	size_t i;

	if (c->argc < opt || (c->argc != opt &&
	    !(c->argc == opt + 2 && sm_arg_is(&c->argv[opt], "timeout")))) {
		sm_reply_error(sm, fx, c->client_id, c->seq, kind == SM_LOCK ?
			       "ERR syntax error: LOCK.ACQUIRE name session [TIMEOUT ms]" :
			       "ERR syntax error: ELECT.CAMPAIGN name session value [TIMEOUT ms]");
		return;
	}
	if (c->argc == opt + 2) {
		if (!sm_arg_u64(&c->argv[opt + 1], &timeout) || timeout > TRUTH_SM_MAX_TTL_MS) {
			sm_reply_error(sm, fx, c->client_id, c->seq,
				       "ERR TIMEOUT is not an integer in 0..%lld ms",
				       (long long)TRUTH_SM_MAX_TTL_MS);
			return;
		}
		has_timeout = true;
	}
	if (!c->argv[1].len) {
		sm_reply_error(sm, fx, c->client_id, c->seq, "ERR the name is empty");
		return;
	}
	if (sm_session_arg(sm, c, fx, &c->argv[2], &sid))
		return;
	if (sm_reserved_key(&key, kind, &c->argv[1])) {
		sm_nomem(sm);
		return;
	}
	i = sm_map_find(&sm->mutexes, key.p, key.len, &found);
	m = found ? sm->mutexes.s[i].v : NULL;
	if (m && m->holder == sid) {	/* asking again: the same grant */
		sm_bytes_free(&key);
		sm_reply_int(sm, fx, c->client_id, c->seq, (long long)m->token);
		return;
	}
	if (m && waiter_find(m, sid) >= 0) {
		sm_bytes_free(&key);
		sm_reply_error(sm, fx, c->client_id, c->seq,
			       "ERR session %llu is already waiting for this %s",
			       (unsigned long long)sid, kind == SM_LOCK ? "lock" : "election");
		return;
	}
	if (m && has_timeout && !timeout) {	/* try-lock on a held lock */
		sm_bytes_free(&key);
		sm_reply_null(sm, fx, c->client_id, c->seq);
		return;
	}
	if (!m) {
		m = calloc(1, sizeof(*m));
		if (!m || sm_map_insert_at(&sm->mutexes, i, key.p, key.len, m)) {
			free(m);
			sm_bytes_free(&key);
			sm_nomem(sm);
			return;
		}
		m->kind = kind;
	}
	sm_bytes_free(&key);
	w.session = sid;
	w.client = c->client_id;
	w.seq = c->seq;
	if (kind == SM_ELECT && sm_bytes_set(&w.value, c->argv[3].ptr, c->argv[3].len)) {
		sm_nomem(sm);
		return;
	}
	if (!m->holder) {
		grant(sm, fx, i, &w);
		return;
	}
	if (timeout) {
		w.deadline_ns = sm->now_ns + (int64_t)timeout * 1000000;
		if (w.deadline_ns < sm->waiter_deadline_min)
			sm->waiter_deadline_min = w.deadline_ns;
	}
	if (m->nw == m->wcap) {
		size_t cap = m->wcap ? m->wcap * 2 : 4;
		struct sm_waiter *v = realloc(m->w, cap * sizeof(*v));

		if (!v) {
			sm_bytes_free(&w.value);
			sm_nomem(sm);
			return;
		}
		m->w = v;
		m->wcap = cap;
	}
	m->w[m->nw++] = w;	/* blocked: the reply comes with the grant */
}

/* LOCK.RELEASE / ELECT.RESIGN name session [token] */
static void let_go(struct truth_sm *sm, const struct truth_sm_cmd *c,
		   struct truth_sm_effects *fx, uint32_t kind)
{
	struct sm_bytes key = { 0 };
	uint64_t sid, token = 0;
	struct sm_mutex *m;
	ssize_t wi;
	bool found;
	size_t i;

	if (c->argc > 4) {
		sm_reply_error(sm, fx, c->client_id, c->seq, kind == SM_LOCK ?
			       "ERR syntax error: LOCK.RELEASE name session [token]" :
			       "ERR syntax error: ELECT.RESIGN name session [token]");
		return;
	}
	if (!sm_arg_u64(&c->argv[2], &sid) || !sid ||
	    (c->argc == 4 && !sm_arg_u64(&c->argv[3], &token))) {
		sm_reply_error(sm, fx, c->client_id, c->seq,
			       "ERR session and token must be positive integers");
		return;
	}
	if (sm_reserved_key(&key, kind, &c->argv[1])) {
		sm_nomem(sm);
		return;
	}
	i = sm_map_find(&sm->mutexes, key.p, key.len, &found);
	sm_bytes_free(&key);
	m = found ? sm->mutexes.s[i].v : NULL;
	wi = m ? waiter_find(m, sid) : -1;
	if (!m || (m->holder != sid && wi < 0)) {
		sm_reply_error(sm, fx, c->client_id, c->seq,
			       "ERR session %llu neither holds this %s nor waits for it",
			       (unsigned long long)sid, kind == SM_LOCK ? "lock" : "election");
		return;
	}
	if (m->holder == sid && c->argc == 4 && token != m->token) {
		sm_reply_error(sm, fx, c->client_id, c->seq,
			       "ERR token %llu is not the holder's (%llu)",
			       (unsigned long long)token, (unsigned long long)m->token);
		return;
	}
	sm_fx_begin(fx, c->client_id, c->seq, TRUTH_SM_FX_REPLY);
	sm_fx_simple(fx, "OK");
	sm_fx_end(sm, fx);
	if (m->holder == sid) {
		sm_mutex_release_at(sm, fx, i);
	} else {
		struct sm_waiter *w = &m->w[wi];

		sm_reply_null(sm, fx, w->client, w->seq);	/* its wait is over, unfulfilled */
		waiter_remove(m, (size_t)wi);
	}
	mutex_gc(sm, i);
}

/* ELECT.PROCLAIM name session token value: the leader changes its value. */
static void proclaim(struct truth_sm *sm, const struct truth_sm_cmd *c,
		     struct truth_sm_effects *fx)
{
	struct sm_bytes key = { 0 };
	struct sm_mutex *m;
	uint64_t sid, token;

	if (!sm_arg_u64(&c->argv[2], &sid) || !sm_arg_u64(&c->argv[3], &token)) {
		sm_reply_error(sm, fx, c->client_id, c->seq,
			       "ERR session and token must be positive integers");
		return;
	}
	if (sm_reserved_key(&key, SM_ELECT, &c->argv[1])) {
		sm_nomem(sm);
		return;
	}
	m = sm_map_get(&sm->mutexes, key.p, key.len);
	if (!m || !sid || m->holder != sid || m->token != token) {
		sm_bytes_free(&key);
		sm_reply_error(sm, fx, c->client_id, c->seq,
			       "ERR session %llu with token %llu is not the leader",
			       (unsigned long long)sid, (unsigned long long)token);
		return;
	}
	sm_fx_begin(fx, c->client_id, c->seq, TRUTH_SM_FX_REPLY);
	sm_fx_simple(fx, "OK");
	sm_fx_end(sm, fx);
	sm_kv_put(sm, fx, key.p, key.len, c->argv[4].ptr, c->argv[4].len, sid, 0);
	sm_bytes_free(&key);
}

/* LOCK.OWNER / ELECT.LEADER name */
static void owner(struct truth_sm *sm, const struct truth_sm_cmd *c,
		  struct truth_sm_effects *fx, uint32_t kind)
{
	struct sm_bytes key = { 0 };
	struct sm_mutex *m;
	struct sm_key *k;

	if (sm_reserved_key(&key, kind, &c->argv[1])) {
		sm_nomem(sm);
		return;
	}
	m = sm_map_get(&sm->mutexes, key.p, key.len);
	k = sm_map_get(&sm->keys, key.p, key.len);
	sm_bytes_free(&key);
	sm_fx_begin(fx, c->client_id, c->seq, TRUTH_SM_FX_REPLY);
	if (!m || !m->holder || !k) {
		sm_fx_null(fx);
	} else {
		sm_fx_map(fx, 4);
		sm_fx_str(fx, kind == SM_LOCK ? "holder" : "value");
		sm_fx_bulk(fx, k->val.p, k->val.len);
		sm_fx_str(fx, "session");
		sm_fx_int(fx, (long long)m->holder);
		sm_fx_str(fx, "token");
		sm_fx_int(fx, (long long)m->token);
		sm_fx_str(fx, "waiters");
		sm_fx_int(fx, (long long)m->nw);
	}
	sm_fx_end(sm, fx);
}

void sm_mutex_cmd(struct truth_sm *sm, const struct truth_sm_cmd *c,
		  struct truth_sm_effects *fx, uint32_t kind, const char *sub)
{
	if (!strcmp(sub, "acquire") || !strcmp(sub, "campaign"))
		acquire(sm, c, fx, kind);
	else if (!strcmp(sub, "release") || !strcmp(sub, "resign"))
		let_go(sm, c, fx, kind);
	else if (!strcmp(sub, "proclaim"))
		proclaim(sm, c, fx);
	else if (!strcmp(sub, "owner") || !strcmp(sub, "leader"))
		owner(sm, c, fx, kind);
	else if (!strcmp(sub, "observe"))
		sm_watch_cmd(sm, c, fx);
	else
		sm_reply_error(sm, fx, c->client_id, c->seq, "ERR unknown subcommand");
}

void sm_waiters_timeout(struct truth_sm *sm, struct truth_sm_effects *fx)
{
	int64_t next = INT64_MAX;
	size_t i, j;

	for (i = 0; i < sm->mutexes.n; i++) {
		struct sm_mutex *m = sm->mutexes.s[i].v;

		for (j = 0; j < m->nw;) {
			struct sm_waiter *w = &m->w[j];

			if (w->deadline_ns && sm->now_ns > w->deadline_ns) {
				sm_reply_null(sm, fx, w->client, w->seq);	/* timed out */
				waiter_remove(m, j);
				continue;
			}
			if (w->deadline_ns && w->deadline_ns < next)
				next = w->deadline_ns;
			j++;
		}
	}
	sm->waiter_deadline_min = next;
}
