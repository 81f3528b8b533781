// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * linz: the sequential models.  Each key is one object whose whole state is
 * a struct linz_state; linz_step() says whether an op with its recorded
 * result can happen in a state, and what state follows.
 *
 * An op of unknown outcome (status unknown or optional) has no result to
 * match: it is applied with the effect it would have in that state, and the
 * search separately considers it never having happened.  So an unknown
 * SET NX on a present key, or an unknown cas whose expected value differs,
 * is simply a no-op here.
 */
#include <string.h>

#include "linz.h"

#define WHY(...) do { if (why) snprintf(why, whylen, __VA_ARGS__); } while (0)

void linz_state_init(enum linz_model m, struct linz_state *s)
{
	memset(s, 0, sizeof(*s));
	s->vkind = LINZ_V_NIL;
	if (m == LINZ_MODEL_COUNTER)
		s->vkind = LINZ_V_INT;		/* a counter starts at 0 */
	if (m == LINZ_MODEL_LOCK || m == LINZ_MODEL_KV)
		s->fence = INT64_MIN;		/* any first token is newer */
}

int linz_fmt_val(const struct linz_history *h, const struct linz_val *v, char *buf, size_t len)
{
	switch (v->kind) {
	case LINZ_V_NONE:
		return snprintf(buf, len, "-");
	case LINZ_V_NIL:
		return snprintf(buf, len, "nil");
	case LINZ_V_INT:
		return snprintf(buf, len, "%lld", (long long)v->n);
	default:
		return snprintf(buf, len, "%s", linz_str(h, v->n));
	}
}

static const char *sval(const struct linz_history *h, int32_t kind, int64_t n, char *buf,
			size_t len)
{
	struct linz_val v = { .n = n, .kind = kind };

	linz_fmt_val(h, &v, buf, len);
	return buf;
}

int linz_fmt_state(const struct linz_history *h, const struct linz_state *s, char *buf,
		   size_t len)
{
	char v[128];

	if (h->model == LINZ_MODEL_LOCK) {
		if (!s->holder)
			return snprintf(buf, len, "free (last token %s)",
					s->fence == INT64_MIN ? "none" :
					sval(h, LINZ_V_INT, s->fence, v, sizeof(v)));
		return snprintf(buf, len, "held by %s with token %lld",
				linz_str(h, s->holder - 1), (long long)s->v);
	}
	sval(h, s->vkind, s->v, v, sizeof(v));
	if (h->model == LINZ_MODEL_KV && s->fence != INT64_MIN)
		return snprintf(buf, len, "%s (fence %lld)", v, (long long)s->fence);
	return snprintf(buf, len, "%s", v);
}

int linz_fmt_op(const struct linz_history *h, const struct linz_op *op, char *buf, size_t len)
{
	char a[128] = "", b[128] = "", r[128];
	int n;

	if (op->arg.kind != LINZ_V_NONE)
		linz_fmt_val(h, &op->arg, a + 1, sizeof(a) - 1), a[0] = ' ';
	if (op->arg2.kind != LINZ_V_NONE)
		linz_fmt_val(h, &op->arg2, b + 1, sizeof(b) - 1), b[0] = ' ';
	linz_fmt_val(h, &op->result, r, sizeof(r));
	n = snprintf(buf, len, "%s %s%s%s%s", h->model == LINZ_MODEL_KV && op->kind == LINZ_OP_READ ?
		     "get" : h->model == LINZ_MODEL_KV && op->kind == LINZ_OP_WRITE ? "set" :
		     linz_kind_name(op->kind), linz_str(h, op->key), a, b,
		     op->flags & LINZ_F_NX ? " NX" : op->flags & LINZ_F_XX ? " XX" : "");
	if (op->status == LINZ_ST_OK && op->result.kind != LINZ_V_NONE && (size_t)n < len)
		n += snprintf(buf + n, len - n, " -> %s", r);
	return n;
}

bool linz_op_inert(const struct linz_op *op)
{
	if (op->status == LINZ_ST_FAIL || op->kind == LINZ_OP_HOLD)
		return true;
	/* an observation nobody saw changes nothing, whether or not it ran */
	if (op->status != LINZ_ST_OK)
		return op->kind == LINZ_OP_READ ||
		       (op->kind == LINZ_OP_ACQUIRE && op->rbool == 0);
	return false;
}

static bool val_eq(const struct linz_val *v, int32_t kind, int64_t n)
{
	return v->kind == kind && (kind == LINZ_V_NIL || v->n == n);
}

static bool kv_step(const struct linz_history *h, const struct linz_op *op,
		    const struct linz_state *s, struct linz_state *o, char *why, size_t whylen)
{
	bool known = op->status == LINZ_ST_OK, present = s->vkind != LINZ_V_NIL;
	char b1[128], b2[128];

	*o = *s;
	switch (op->kind) {
	case LINZ_OP_READ:
		if (op->result.kind == LINZ_V_NONE || val_eq(&op->result, s->vkind, s->v))
			return true;
		/* a counter nobody incremented reads as null over RESP */
		if (h->model == LINZ_MODEL_COUNTER && op->result.kind == LINZ_V_NIL && !s->v)
			return true;
		WHY("read returned %s but %s held %s",
		    sval(h, op->result.kind, op->result.n, b1, sizeof(b1)), linz_str(h, op->key),
		    sval(h, s->vkind, s->v, b2, sizeof(b2)));
		return false;
	case LINZ_OP_WRITE: {
		bool go = op->flags & LINZ_F_NX ? !present : op->flags & LINZ_F_XX ? present : true;

		if (known && op->rbool >= 0 && op->rbool != go) {
			WHY("set %s %s but %s was %s", op->flags & LINZ_F_NX ? "NX" : "XX",
			    op->rbool ? "succeeded" : "did nothing", linz_str(h, op->key),
			    present ? "present" : "absent");
			return false;
		}
		if (go) {
			o->vkind = op->arg.kind;
			o->v = op->arg.n;
		}
		return true;
	}
	case LINZ_OP_CAS: {
		bool match = op->arg.kind == LINZ_V_NIL ? !present :
			val_eq(&op->arg, s->vkind, s->v);

		if (known && op->rbool >= 0 && op->rbool != match) {
			WHY("cas %s but %s held %s", op->rbool ? "swapped" : "did not swap",
			    linz_str(h, op->key), sval(h, s->vkind, s->v, b1, sizeof(b1)));
			return false;
		}
		if (match) {
			o->vkind = op->arg2.kind;
			o->v = op->arg2.n;
		}
		return true;
	}
	case LINZ_OP_DEL:
		if (known && op->rbool >= 0 && op->rbool != present) {
			WHY("del removed %d key(s) but %s was %s", op->rbool, linz_str(h, op->key),
			    present ? "present" : "absent");
			return false;
		}
		o->vkind = LINZ_V_NIL;
		o->v = 0;
		return true;
	case LINZ_OP_INCR: {
		int64_t cur = s->vkind == LINZ_V_INT ? s->v : 0, nv;
		bool err = (present && s->vkind != LINZ_V_INT) ||
			   __builtin_add_overflow(cur, op->arg.n, &nv);

		if (known && op->rbool == 0 && !err) {
			WHY("incr failed as not an integer but %s held %lld", linz_str(h, op->key),
			    (long long)cur);
			return false;
		}
		if (known && op->rbool == 0)
			return true;
		if (err) {
			if (!known)
				return true;
			WHY("incr returned %s but %s held %s, not an integer",
			    sval(h, op->result.kind, op->result.n, b1, sizeof(b1)),
			    linz_str(h, op->key), sval(h, s->vkind, s->v, b2, sizeof(b2)));
			return false;
		}
		if (known && op->result.kind == LINZ_V_INT && op->result.n != nv) {
			WHY("incr by %lld returned %lld but %s held %lld (so %lld)",
			    (long long)op->arg.n, (long long)op->result.n, linz_str(h, op->key),
			    (long long)cur, (long long)nv);
			return false;
		}
		o->vkind = LINZ_V_INT;
		o->v = nv;
		return true;
	}
	case LINZ_OP_FSET: {
		bool accept = op->arg.n >= s->fence;

		if (known && op->rbool >= 0 && op->rbool != accept) {
			WHY("fenced write with token %lld was %s but the highest token seen was %s",
			    (long long)op->arg.n, op->rbool ? "accepted" : "rejected",
			    s->fence == INT64_MIN ? "none" :
			    sval(h, LINZ_V_INT, s->fence, b1, sizeof(b1)));
			return false;
		}
		if (accept) {
			o->fence = op->arg.n;
			o->vkind = op->arg2.kind;
			o->v = op->arg2.n;
		}
		return true;
	}
	default:
		WHY("%s is not an operation of this model", linz_kind_name(op->kind));
		return false;
	}
}

static bool lock_step(const struct linz_history *h, const struct linz_op *op,
		      const struct linz_state *s, struct linz_state *o, char *why, size_t whylen)
{
	bool known = op->status == LINZ_ST_OK;
	char st[160];

	*o = *s;
	if (op->kind == LINZ_OP_ACQUIRE) {
		int64_t tok;

		if (known && op->rbool == 0) {
			if (s->holder)
				return true;	/* busy, and it was */
			WHY("acquire answered busy but the lock was free");
			return false;
		}
		if (s->holder) {
			if (known)
				WHY("acquire granted token %s while the lock was %s",
				    op->result.kind == LINZ_V_INT ?
				    sval(h, LINZ_V_INT, op->result.n, st, sizeof(st)) : "?",
				    (linz_fmt_state(h, s, st, sizeof(st)), st));
			return !known;	/* unknown: it waited and never got it */
		}
		/* an unseen token is the smallest that keeps tokens increasing */
		tok = known && op->rbool == 1 ? op->result.n :
		      s->fence == INT64_MIN ? INT64_MIN + 1 : s->fence + 1;
		if (s->fence != INT64_MIN && tok <= s->fence) {
			WHY("acquire granted token %lld, not above the last granted %lld",
			    (long long)tok, (long long)s->fence);
			return false;
		}
		o->holder = op->client + 1;
		o->v = tok;
		o->fence = tok;
		return true;
	}
	if (op->kind == LINZ_OP_RELEASE) {
		bool mine = s->holder && (op->arg.kind == LINZ_V_INT ? s->v == op->arg.n :
					  s->holder == (int32_t)op->client + 1);

		if (known && op->rbool >= 0 && op->rbool != mine) {
			linz_fmt_state(h, s, st, sizeof(st));
			WHY("release %s but the lock was %s", op->rbool ? "succeeded" : "was refused",
			    st);
			return false;
		}
		if (mine) {
			o->holder = 0;
			o->v = 0;
		}
		return true;
	}
	WHY("%s is not an operation of the lock model", linz_kind_name(op->kind));
	return false;
}

bool linz_step(const struct linz_history *h, const struct linz_op *op,
	       const struct linz_state *s, struct linz_state *out, char *why, size_t whylen)
{
	if (h->model == LINZ_MODEL_LOCK)
		return lock_step(h, op, s, out, why, whylen);
	return kv_step(h, op, s, out, why, whylen);
}
