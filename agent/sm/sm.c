// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * truth sm: the instance, effects and their reply tapes, exactly-once,
 * time, and the dispatch of commands to sm_kv.c and sm_coord.c.
 *
 * A reply tape is the reply recorded as the sequence of writer calls that
 * produce it, so one tape renders as RESP2 or RESP3 (the connection's
 * choice, unknown to the replicas) and can be saved for retries and
 * compared byte for byte by the determinism tests.  Layout, little-endian:
 * one tag byte, then per tag: '+' '-' '$' u32 length and bytes; ':' i64;
 * '_' nothing; '*' '%' '>' u32 count of the values that follow.
 */

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sm_int.h"

/* ----------------------------------------------------------- effects */

void truth_sm_effects_init(struct truth_sm_effects *fx)
{
	memset(fx, 0, sizeof(*fx));
}

void truth_sm_effects_reset(struct truth_sm_effects *fx)
{
	fx->n = 0;
	fx->len = 0;
	fx->nomem = false;
}

void truth_sm_effects_free(struct truth_sm_effects *fx)
{
	free(fx->v);
	free(fx->buf);
	truth_sm_effects_init(fx);
}

static void fx_put(struct truth_sm_effects *fx, const void *p, size_t n)
{
	if (fx->nomem || !n)	/* an empty field may have no buffer at all */
		return;
	if (sm_grow(&fx->buf, &fx->bcap, fx->len + n)) {
		fx->nomem = true;
		return;
	}
	memcpy(fx->buf + fx->len, p, n);
	fx->len += n;
}

static void fx_u32(struct truth_sm_effects *fx, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };

	fx_put(fx, b, 4);
}

static void fx_tagged(struct truth_sm_effects *fx, char tag, const void *p, size_t n)
{
	fx_put(fx, &tag, 1);
	fx_u32(fx, (uint32_t)n);
	fx_put(fx, p, n);
}

void sm_fx_begin(struct truth_sm_effects *fx, uint64_t client, uint64_t seq, uint32_t kind)
{
	struct truth_sm_effect *e;

	if (fx->n == fx->cap) {
		size_t cap = fx->cap ? fx->cap * 2 : 16;
		struct truth_sm_effect *v = realloc(fx->v, cap * sizeof(*v));

		if (!v) {
			fx->nomem = true;
			return;
		}
		fx->v = v;
		fx->cap = cap;
	}
	e = &fx->v[fx->n++];
	e->client_id = client;
	e->seq = seq;
	e->kind = kind;
	e->off = fx->len;
	e->len = 0;
}

/* Close the effect; a REPLY to a client is also saved for its retries. */
void sm_fx_end(struct truth_sm *sm, struct truth_sm_effects *fx)
{
	struct truth_sm_effect *e;
	struct sm_client *cl;
	struct sm_saved *sv;

	if (fx->nomem || !fx->n) {
		sm_nomem(sm);
		return;
	}
	e = &fx->v[fx->n - 1];
	e->len = (uint32_t)(fx->len - e->off);
	if (e->kind != TRUTH_SM_FX_REPLY || !e->client_id || sm->reading)
		return;
	cl = sm_map_get_id(&sm->clients, e->client_id);
	if (!cl)
		return;		/* a read: nothing replicated to remember */
	sv = &cl->saved[cl->next];
	if (sm_bytes_set(&sv->tape, fx->buf + e->off, e->len)) {
		sm_nomem(sm);
		return;
	}
	sv->seq = e->seq;
	cl->next = (cl->next + 1) % TRUTH_SM_SAVED_REPLIES;
	if (cl->nsaved < TRUTH_SM_SAVED_REPLIES)
		cl->nsaved++;
}

void sm_fx_simple(struct truth_sm_effects *fx, const char *s)
{
	fx_tagged(fx, '+', s, strlen(s));
}

void sm_fx_error(struct truth_sm_effects *fx, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	fx_tagged(fx, '-', msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1);
}

void sm_fx_int(struct truth_sm_effects *fx, long long v)
{
	uint64_t u = (uint64_t)v;
	uint8_t b[9];
	int i;

	b[0] = ':';
	for (i = 0; i < 8; i++)
		b[1 + i] = (uint8_t)(u >> (8 * i));
	fx_put(fx, b, 9);
}

void sm_fx_bulk(struct truth_sm_effects *fx, const void *p, size_t n)
{
	fx_tagged(fx, '$', p, n);
}

void sm_fx_str(struct truth_sm_effects *fx, const char *s)
{
	sm_fx_bulk(fx, s, strlen(s));
}

void sm_fx_null(struct truth_sm_effects *fx)
{
	fx_put(fx, "_", 1);
}

static void fx_count(struct truth_sm_effects *fx, char tag, uint32_t n)
{
	fx_put(fx, &tag, 1);
	fx_u32(fx, n);
}

void sm_fx_array(struct truth_sm_effects *fx, uint32_t n)
{
	fx_count(fx, '*', n);
}

void sm_fx_map(struct truth_sm_effects *fx, uint32_t n)
{
	fx_count(fx, '%', n);
}

void sm_fx_push(struct truth_sm_effects *fx, uint32_t n)
{
	fx_count(fx, '>', n);
}

void sm_reply_error(struct truth_sm *sm, struct truth_sm_effects *fx, uint64_t client,
		    uint64_t seq, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sm_fx_begin(fx, client, seq, TRUTH_SM_FX_REPLY);
	sm_fx_error(fx, "%s", msg);
	sm_fx_end(sm, fx);
}

void sm_reply_int(struct truth_sm *sm, struct truth_sm_effects *fx, uint64_t client,
		  uint64_t seq, long long v)
{
	sm_fx_begin(fx, client, seq, TRUTH_SM_FX_REPLY);
	sm_fx_int(fx, v);
	sm_fx_end(sm, fx);
}

void sm_reply_null(struct truth_sm *sm, struct truth_sm_effects *fx, uint64_t client,
		   uint64_t seq)
{
	sm_fx_begin(fx, client, seq, TRUTH_SM_FX_REPLY);
	sm_fx_null(fx);
	sm_fx_end(sm, fx);
}

/* ----------------------------------------------------------- render */

static bool tape_u32(const uint8_t *p, size_t len, size_t *i, uint32_t *v)
{
	if (len - *i < 4)
		return false;
	*v = (uint32_t)p[*i] | (uint32_t)p[*i + 1] << 8 | (uint32_t)p[*i + 2] << 16 |
	     (uint32_t)p[*i + 3] << 24;
	*i += 4;
	return true;
}

/* Render one value at *i; depth bounds nesting so a damaged tape cannot recurse far. */
static bool render_value(const uint8_t *p, size_t len, size_t *i, struct truth_resp_out *out,
			 int depth)
{
	uint32_t n, k;
	uint64_t u = 0;
	char tag;
	int j;

	if (*i >= len || depth > 8)
		return false;
	tag = (char)p[(*i)++];
	switch (tag) {
	case '+': case '-': case '$':
		if (!tape_u32(p, len, i, &n) || len - *i < n)
			return false;
		if (tag == '$') {
			truth_resp_add_bulk(out, p + *i, n);
		} else {
			char *s = strndup((const char *)p + *i, n);

			if (!s) {
				out->nomem = true;
				return true;
			}
			if (tag == '+')
				truth_resp_add_simple(out, s);
			else
				truth_resp_add_error(out, s);
			free(s);
		}
		*i += n;
		return true;
	case ':':
		if (len - *i < 8)
			return false;
		for (j = 7; j >= 0; j--)
			u = u << 8 | p[*i + j];
		*i += 8;
		truth_resp_add_int(out, (long long)u);
		return true;
	case '_':
		truth_resp_add_null(out);
		return true;
	case '*': case '%': case '>':
		if (!tape_u32(p, len, i, &n))
			return false;
		if (tag == '*')
			truth_resp_add_array(out, n);
		else if (tag == '%')
			truth_resp_add_map(out, n);
		else
			truth_resp_add_push(out, n);
		for (k = 0; k < (tag == '%' ? 2 * (uint64_t)n : n); k++)
			if (!render_value(p, len, i, out, depth + 1))
				return false;
		return true;
	}
	return false;
}

int truth_sm_effect_render(const struct truth_sm_effects *fx,
			   const struct truth_sm_effect *e, struct truth_resp_out *out)
{
	size_t i = 0, before = out->len;

	if (e->off > fx->len || e->len > fx->len - e->off ||
	    !render_value(fx->buf + e->off, e->len, &i, out, 0) || i != e->len) {
		out->len = before;
		return -EINVAL;
	}
	return 0;
}

char *truth_sm_effect_resp2(const struct truth_sm_effects *fx, const struct truth_sm_effect *e,
			    size_t *len)
{
	struct truth_resp_out o;
	char *s;

	truth_resp_out_init(&o);
	if (truth_sm_effect_render(fx, e, &o) || o.nomem) {
		truth_resp_out_free(&o);
		return NULL;
	}
	s = malloc(o.len + 1);
	if (s) {
		memcpy(s, o.buf, o.len);
		s[o.len] = '\0';
		*len = o.len;
	}
	truth_resp_out_free(&o);
	return s;
}

/* ----------------------------------------------------------- instance */

struct truth_sm *truth_sm_new(const struct truth_sm_config *cfg)
{
	struct truth_sm *sm;
	uint32_t h = cfg ? cfg->history : TRUTH_SM_DEF_HISTORY;

	if (h < 1 || h > (1u << 24))
		return NULL;
	sm = calloc(1, sizeof(*sm));
	if (!sm)
		return NULL;
	sm->cfg.history = h;
	sm->hist = calloc(h, sizeof(*sm->hist));
	if (!sm->hist) {
		free(sm);
		return NULL;
	}
	sm->hist_floor = 1;
	sm->key_expiry_min = INT64_MAX;
	sm->waiter_deadline_min = INT64_MAX;
	return sm;
}

static void client_free(struct sm_client *cl)
{
	unsigned int j;

	for (j = 0; j < TRUTH_SM_SAVED_REPLIES; j++)
		sm_bytes_free(&cl->saved[j].tape);
	free(cl);
}

static void clients_free(struct truth_sm *sm)
{
	size_t i;

	for (i = 0; i < sm->clients.n; i++) {
		client_free(sm->clients.s[i].v);
		sm_bytes_free(&sm->clients.s[i].k);
	}
	free(sm->clients.s);
	memset(&sm->clients, 0, sizeof(sm->clients));
}

void truth_sm_free(struct truth_sm *sm)
{
	if (!sm)
		return;
	sm_kv_free_all(sm);
	sm_coord_free_all(sm);
	clients_free(sm);
	sm_hist_free_all(sm);
	sm_watch_free_all(sm);
	free(sm->hist);
	free(sm);
}

uint64_t truth_sm_revision(const struct truth_sm *sm)
{
	return sm->revision;
}

uint64_t truth_sm_applied(const struct truth_sm *sm)
{
	return sm->applied;
}

uint64_t truth_sm_hlc(const struct truth_sm *sm)
{
	return sm->hlc;
}

int64_t truth_sm_next_deadline(const struct truth_sm *sm)
{
	int64_t d = sm_coord_next_deadline(sm);
	size_t i;

	for (i = 0; i < sm->clients.n; i++) {
		const struct sm_client *cl = sm->clients.s[i].v;

		if (cl->last_ns + TRUTH_SM_CLIENT_IDLE_NS < d)
			d = cl->last_ns + TRUTH_SM_CLIENT_IDLE_NS;
	}

	if (sm->key_expiry_min != INT64_MAX) {
		/* a key expires once now_ms > expire_ms: at the next ms */
		int64_t k = sm->key_expiry_min >= INT64_MAX / 1000000 - 1 ? INT64_MAX :
			    (sm->key_expiry_min + 1) * 1000000;

		if (k < d)
			d = k;
	}
	return d;
}

void truth_sm_info(const struct truth_sm *sm, struct truth_resp_out *text)
{
	truth_resp_info_section(text, "Coordination");
	truth_resp_out_printf(text, "sm_revision:%llu\r\nsm_applied:%llu\r\nsm_keys:%zu\r\n"
			      "sm_sessions:%zu\r\nsm_locks_and_elections:%zu\r\nsm_barriers:%zu\r\n"
			      "sm_clients:%zu\r\nsm_watches:%zu\r\nsm_history_floor:%llu\r\n",
			      (unsigned long long)sm->revision, (unsigned long long)sm->applied,
			      sm->keys.n, sm->sessions.n, sm->mutexes.n, sm->barriers.n,
			      sm->clients.n, sm->nwatches, (unsigned long long)sm->hist_floor);
}

/* ----------------------------------------------------------- dispatch */

/* Validate with the RESP command table; the error reply if not. */
static int table_parse(struct truth_sm *sm, const struct truth_sm_cmd *c,
		       struct truth_resp_request *req, struct truth_sm_effects *fx)
{
	struct truth_resp_cmd rc = { .argc = c->argc, .argv = c->argv };
	struct truth_resp_out o;
	size_t n;

	truth_resp_out_init(&o);
	if (!truth_resp_request_parse(&rc, req, &o)) {
		truth_resp_out_free(&o);
		return 0;
	}
	/* "-msg\r\n" back into a tape */
	n = o.len >= 3 ? o.len - 3 : 0;
	sm_fx_begin(fx, c->client_id, c->seq, TRUTH_SM_FX_REPLY);
	sm_fx_error(fx, "%.*s", (int)n, o.buf ? o.buf + 1 : "");
	sm_fx_end(sm, fx);
	if (o.nomem)
		sm_nomem(sm);
	truth_resp_out_free(&o);
	return -1;
}

/* Run a validated command; read: only what leaves replicated state alone. */
static void dispatch(struct truth_sm *sm, const struct truth_sm_cmd *sent,
		     struct truth_sm_effects *fx, bool read)
{
	struct truth_resp_request req;
	struct truth_sm_cmd inner = *sent;
	const struct truth_sm_cmd *c = &inner;
	const char *name, *dot;

	if (table_parse(sm, sent, &req, fx))
		return;
	/* a TRUTH.REQ envelope that reached the log: its inner command is the request */
	inner.argc = req.argc;
	inner.argv = req.argv;
	name = req.cmd->name;
	if (read && !(req.cmd->flags & TRUTH_RESP_CMD_READONLY)) {
		sm_reply_error(sm, fx, c->client_id, c->seq,
			       "ERR '%s' changes state: it goes through the log", name);
		return;
	}
	switch (req.cmd->id) {
	case TRUTH_RESP_ID_GET: case TRUTH_RESP_ID_SET: case TRUTH_RESP_ID_DEL:
	case TRUTH_RESP_ID_EXISTS: case TRUTH_RESP_ID_INCRBY: case TRUTH_RESP_ID_MGET:
		sm_kv_exec(sm, c, &req, fx, read);
		return;
	case TRUTH_RESP_ID_COORD:
		break;
	default:
		sm_reply_error(sm, fx, c->client_id, c->seq,
			       "ERR '%s' is answered by the server, not the state machine", name);
		return;
	}
	dot = strchr(name, '.');
	if (!strcmp(name, "cas"))
		sm_cas(sm, c, fx);
	else if (!strcmp(name, "keyinfo"))
		sm_keyinfo(sm, c, fx);
	else if (!strncmp(name, "session.", 8))
		sm_session_cmd(sm, c, fx, dot + 1);
	else if (!strncmp(name, "lock.", 5))
		sm_mutex_cmd(sm, c, fx, SM_LOCK, dot + 1);
	else if (!strncmp(name, "elect.", 6))
		sm_mutex_cmd(sm, c, fx, SM_ELECT, dot + 1);
	else if (!strncmp(name, "barrier.", 8))
		sm_barrier_cmd(sm, c, fx, dot + 1);
	else if (!read)	/* watches are local: never through the log */
		sm_reply_error(sm, fx, c->client_id, c->seq,
			       "ERR '%s' is served by the node, not through the log", name);
	else if (!strcmp(name, "watch.cancel"))
		sm_watch_cancel(sm, c, fx);
	else
		sm_watch_cmd(sm, c, fx);
}

/*
 * Exactly-once: true if c is to be applied.  Otherwise the saved reply
 * (or nothing, if c is still blocked, or an error) is the effect.
 */
static bool admit(struct truth_sm *sm, const struct truth_sm_cmd *c, struct truth_sm_effects *fx)
{
	struct sm_client *cl;
	unsigned int i;

	if (!c->client_id)
		return true;
	cl = sm_map_get_id(&sm->clients, c->client_id);
	if (!cl) {
		cl = calloc(1, sizeof(*cl));
		if (!cl || sm_map_insert_id(&sm->clients, c->client_id, cl)) {
			free(cl);
			sm_nomem(sm);
			return false;
		}
	}
	cl->last_ns = sm->now_ns;
	if (c->seq > cl->last_seq) {
		cl->last_seq = c->seq;
		return true;
	}
	for (i = 0; i < cl->nsaved; i++) {
		const struct sm_saved *sv = &cl->saved[i];

		if (sv->seq != c->seq)
			continue;
		sm_fx_begin(fx, c->client_id, c->seq, TRUTH_SM_FX_REPLY);
		fx_put(fx, sv->tape.p, sv->tape.len);
		if (!fx->nomem)
			fx->v[fx->n - 1].len = (uint32_t)sv->tape.len;
		else
			sm_nomem(sm);
		return false;
	}
	if (sm_is_blocked(sm, c->client_id, c->seq))
		return false;	/* its reply comes when it unblocks */
	sm_fx_begin(fx, c->client_id, c->seq, TRUTH_SM_FX_REPLY);
	sm_fx_error(fx, "ERR request %llu of client %llu was applied and its reply is no longer kept",
		    (unsigned long long)c->seq, (unsigned long long)c->client_id);
	if (!fx->nomem)
		fx->v[fx->n - 1].len = (uint32_t)(fx->len - fx->v[fx->n - 1].off);
	return false;
}

/*
 * diss. §6.3: client records expire by log time, the same on every replica.
 * A record idle that long but with a request still blocked stays, and its
 * idle time starts again at this TICK: left as it was, its deadline would
 * stay in the past (truth_sm_next_deadline()) and the leader would propose
 * a TICK for it again and again while it waits.
 */
static void clients_evict(struct truth_sm *sm, int64_t ts)
{
	size_t i = 0;

	while (i < sm->clients.n) {
		struct sm_client *cl = sm->clients.s[i].v;

		if (ts - TRUTH_SM_CLIENT_IDLE_NS <= cl->last_ns) {
			i++;
		} else if (sm_is_blocked(sm, sm_map_id_at(&sm->clients, i), 0)) {
			cl->last_ns = sm->now_ns;
			i++;
		} else {
			client_free(cl);
			sm_map_remove_at(&sm->clients, i);
		}
	}
}

static bool is_tick(const struct truth_sm_cmd *c)
{
	return !c->client_id && c->argc == 1 && sm_arg_is(&c->argv[0], TRUTH_SM_TICK);
}

int truth_sm_apply(struct truth_sm *sm, const struct truth_sm_cmd *c,
		   struct truth_sm_effects *fx)
{
	sm->err = 0;
	if (c->index > sm->applied)
		sm->applied = c->index;
	if (c->ts_ns > sm->now_ns)
		sm->now_ns = c->ts_ns;
	if (c->hlc > sm->hlc)
		sm->hlc = c->hlc;
	/* time first: whatever the entry is, it moves time for everyone */
	if (sm->now_ns / 1000000 > sm->key_expiry_min)
		sm_kv_sweep(sm, fx);
	if (sm->now_ns > sm->waiter_deadline_min)
		sm_waiters_timeout(sm, fx);
	if (is_tick(c)) {
		/* the raw stamp, the leader's earliest: see sm.h "Time" */
		sm_sessions_expire(sm, fx, c->ts_ns);
		clients_evict(sm, c->ts_ns);
		return sm->err;
	}
	if (!c->argc || !c->argv) {
		sm_reply_error(sm, fx, c->client_id, c->seq, "ERR empty command");
		return sm->err;
	}
	if (admit(sm, c, fx))
		dispatch(sm, c, fx, false);
	if (fx->nomem)
		sm_nomem(sm);
	return sm->err;
}

int truth_sm_read(struct truth_sm *sm, const struct truth_sm_cmd *c,
		  struct truth_sm_effects *fx)
{
	sm->err = 0;
	if (!c->argc || !c->argv) {
		sm_reply_error(sm, fx, c->client_id, c->seq, "ERR empty command");
		return sm->err;
	}
	sm->reading = true;
	dispatch(sm, c, fx, true);
	sm->reading = false;
	if (fx->nomem)
		sm_nomem(sm);
	return sm->err;
}
