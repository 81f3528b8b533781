// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * linz: the lock holder timeline, and the violation report.
 *
 * The timeline check does not need the search: a holder's validity is the
 * interval in which its client believed it held the lock, from the moment
 * the grant reached it (acquire completion) to the moment it stopped
 * acting (release invoke, or invoke + ttl for a lease).  Two validity
 * intervals of one lock must not overlap, and tokens must increase in the
 * order the intervals start.  This holds even when a lease lapses with no
 * op in the history, which the linearizability model cannot see.
 */
#include <stdlib.h>
#include <string.h>

#include "linz.h"

struct holder {
	int64_t start, end, token;
	uint32_t op;		/* the acquire or hold op id */
	uint32_t client;
};

static int cmp_start(const void *a, const void *b)
{
	const struct holder *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->token < y->token ? -1 : x->token > y->token;
}

static bool has_hold(const struct linz_op *ops, size_t n, uint32_t client, int64_t token)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ops[i].kind == LINZ_OP_HOLD && ops[i].client == client && ops[i].arg.n == token)
			return true;
	return false;
}

/* Validity ends at the first release of this grant, or the lease's end. */
static int64_t valid_until(const struct linz_op *ops, size_t n, const struct linz_op *acq)
{
	int64_t end = LINZ_T_INF;
	size_t i;

	if (acq->arg.kind == LINZ_V_INT && acq->invoke <= LINZ_T_INF - acq->arg.n)
		end = acq->invoke + acq->arg.n;	/* the lease may start at invoke */
	for (i = 0; i < n; i++) {
		const struct linz_op *r = &ops[i];

		if (r->kind != LINZ_OP_RELEASE || r->client != acq->client ||
		    r->invoke < acq->complete || r->status == LINZ_ST_FAIL)
			continue;
		if (r->arg.kind == LINZ_V_INT && r->arg.n != acq->result.n)
			continue;
		if (r->invoke < end)
			end = r->invoke;
	}
	return end;
}

static void set_pair(struct linz_report *r, const struct holder *a, const struct holder *b)
{
	free(r->window);
	r->window = malloc(2 * sizeof(*r->window));
	if (!r->window)
		return;
	r->window[0] = a->op;
	r->window[1] = b->op;
	r->nwindow = 2;
	r->minimal = true;
}

bool linz_lock_timeline(const struct linz_history *h, const struct linz_op *ops, size_t n,
			struct linz_report *r)
{
	struct holder *hs = malloc((n ? n : 1) * sizeof(*hs)), *max_end = NULL;
	size_t i, k = 0;
	bool ok = true;

	if (!hs)
		return true;	/* the search below still runs */
	for (i = 0; i < n; i++) {
		const struct linz_op *op = &ops[i];

		if (op->kind == LINZ_OP_HOLD)
			hs[k++] = (struct holder){ op->invoke, op->complete, op->arg.n, op->id,
						   op->client };
		else if (op->kind == LINZ_OP_ACQUIRE && op->status == LINZ_ST_OK &&
			 op->rbool == 1 && !has_hold(ops, n, op->client, op->result.n))
			hs[k++] = (struct holder){ op->complete, valid_until(ops, n, op),
						   op->result.n, op->id, op->client };
	}
	qsort(hs, k, sizeof(*hs), cmp_start);
	for (i = 0; i < k && ok; i++) {
		if (max_end && hs[i].start < max_end->end) {
			snprintf(r->why, sizeof(r->why),
				 "two holders at once: %s held token %lld until %s, %s held token %lld from %lld ns",
				 linz_str(h, max_end->client), (long long)max_end->token,
				 max_end->end == LINZ_T_INF ? "the end (never released)" : "later",
				 linz_str(h, hs[i].client), (long long)hs[i].token,
				 (long long)hs[i].start);
			set_pair(r, max_end, &hs[i]);
			ok = false;
		} else if (i && hs[i].token <= hs[i - 1].token) {
			snprintf(r->why, sizeof(r->why),
				 "tokens not increasing in grant order: %s got %lld after %s got %lld",
				 linz_str(h, hs[i].client), (long long)hs[i].token,
				 linz_str(h, hs[i - 1].client), (long long)hs[i - 1].token);
			set_pair(r, &hs[i - 1], &hs[i]);
			ok = false;
		}
		if (!max_end || hs[i].end > max_end->end)
			max_end = &hs[i];
	}
	if (!ok) {
		r->timeline = true;
		r->bad_key = ops->key;
	}
	free(hs);
	return ok;
}

/* ---------------------------------------------------------------- report */

static void print_time(FILE *f, int64_t t, int64_t t0)
{
	if (t == LINZ_T_INF)
		fprintf(f, "%14s", "-");
	else
		fprintf(f, "%+14.3f", (t - t0) / 1e3);
}

static const char *status_name(const struct linz_op *op)
{
	static const char *const s[] = { "ok", "fail", "unknown", "optional" };

	return s[op->status];
}

static bool writes_val(const struct linz_op *op, const struct linz_val *v)
{
	const struct linz_val *x = op->kind == LINZ_OP_WRITE ? &op->arg :
		op->kind == LINZ_OP_CAS || op->kind == LINZ_OP_FSET ? &op->arg2 : NULL;

	return x && v->kind != LINZ_V_NIL && !memcmp(x, v, sizeof(*v));
}

/* Where the values the window's reads returned came from, for context. */
static void sources(FILE *f, const struct linz_history *h, const struct linz_op **w, size_t n,
		    int64_t t0)
{
	size_t i, j, shown = 0;
	char buf[256], v[128];

	for (i = 0; i < n; i++) {
		const struct linz_op *rd = w[i];

		if (rd->kind != LINZ_OP_READ || rd->result.kind == LINZ_V_NONE ||
		    rd->result.kind == LINZ_V_NIL)
			continue;
		linz_fmt_val(h, &rd->result, v, sizeof(v));
		for (j = 0; j < h->nops && shown < 8; j++) {
			const struct linz_op *op = &h->ops[j];

			if (op->key != rd->key || !writes_val(op, &rd->result))
				continue;
			if (!shown++)
				fprintf(f, "  where the values read were written (context, not in the window):\n");
			linz_fmt_op(h, op, buf, sizeof(buf));
			fprintf(f, "    %s: line %u %s %s ", v, op->line, linz_str(h, op->client), buf);
			print_time(f, op->invoke, t0);
			fputc(' ', f);
			print_time(f, op->complete, t0);
			fprintf(f, "  %s\n", status_name(op));
		}
	}
}

#define EXPLAIN_MAX	8	/* more ops than this: too many orders to list */

struct explain {
	const struct linz_history *h;
	struct linz_op w[EXPLAIN_MAX];	/* the window, then unknown ops */
	size_t n, printed;
	int order[EXPLAIN_MAX];
	bool used[EXPLAIN_MAX];
	FILE *f;
};

/* Every real-time-respecting order of the window, and where each one dies;
 * unknown ops may take part anywhere after their invoke, or not at all.
 */
static void orders(struct explain *x, size_t depth, const struct linz_state *st)
{
	size_t i, j;

	for (i = 0; i < x->n; i++) {
		const struct linz_op *op = &x->w[i];
		struct linz_state nst;
		bool ready = !x->used[i];
		char why[256];

		/* a definite op not yet placed that ended before this began must
		 * come first; one that may not have happened can be left out, but
		 * not placed after an op that began after it ended
		 */
		for (j = 0; j < x->n && ready; j++)
			if (!x->used[j] && j != i && x->w[j].complete < op->invoke &&
			    x->w[j].status == LINZ_ST_OK)
				ready = false;
		for (j = 0; j < depth && ready; j++)
			if (op->complete < x->w[x->order[j]].invoke)
				ready = false;
		if (!ready)
			continue;
		x->order[depth] = i;
		if (!linz_step(x->h, op, st, &nst, why, sizeof(why))) {
			if (x->printed++ < 12) {
				fprintf(x->f, "    ");
				for (j = 0; j <= depth; j++)
					fprintf(x->f, "%sline %u%s", j ? ", " : "",
						x->w[x->order[j]].line,
						x->w[x->order[j]].status == LINZ_ST_OK ? "" : "?");
				fprintf(x->f, ": at line %u: %s\n", op->line, why);
			}
			continue;
		}
		x->used[i] = true;
		orders(x, depth + 1, &nst);
		x->used[i] = false;
	}
}

/* May unknown @u explain something in the window (or is it beside the point)? */
static bool relevant(const struct linz_history *h, const struct linz_op *u,
		     const struct linz_op *const *w, size_t n)
{
	size_t i;

	if (h->model != LINZ_MODEL_KV && h->model != LINZ_MODEL_REGISTER)
		return true;	/* every increment, every grant counts */
	/* a delete or an increment matters unless the window only read strings */
	for (i = 0; i < n && (u->kind == LINZ_OP_DEL || u->kind == LINZ_OP_INCR); i++)
		if (w[i]->kind != LINZ_OP_READ || w[i]->result.kind != LINZ_V_STR)
			return true;
	for (i = 0; i < n; i++)
		if (w[i]->kind == LINZ_OP_READ && writes_val(u, &w[i]->result))
			return true;
	return false;
}

static void explain(FILE *f, const struct linz_history *h, const struct linz_report *r,
		    const struct linz_op *const *w)
{
	struct explain x = { .h = h, .f = f };
	struct linz_state st;
	size_t i, left = 0;

	for (i = 0; i < r->nwindow && x.n < EXPLAIN_MAX; i++)
		x.w[x.n++] = *w[i];
	if (r->nwindow > EXPLAIN_MAX) {
		fprintf(f, "  (too many ops to list every order)\n");
		return;
	}
	fprintf(f, "  no order works: the other ops on '%s' before the cut were allowed to have\n"
		"  happened or not (within their interval, or any time after their invoke if\n"
		"  their outcome is unknown) and it still fails.  Allowed orders, where they fail\n"
		"  (line? = an op that may or may not have happened):\n",
		linz_str(h, r->bad_key));
	/* the nearest ones that could matter; leaving some out of a listing
	 * of failing orders still lists only orders that fail
	 */
	for (i = 0; i < r->nextra; i++) {
		const struct linz_op *u = &r->extra[i];

		if (!relevant(h, u, w, r->nwindow))
			continue;
		if (x.n == EXPLAIN_MAX) {
			left++;
			continue;
		}
		x.w[x.n++] = *u;
	}
	linz_state_init(h->model, &st);
	orders(&x, 0, &st);
	if (x.printed > 12)
		fprintf(f, "    ... and %zu more\n", x.printed - 12);
	if (left)
		fprintf(f, "    (%zu more ops that may have happened are not shown in these orders)\n", left);
}

void linz_report_print(FILE *f, const struct linz_history *h, const struct linz_report *r)
{
	const struct linz_op **w;
	int64_t t0 = LINZ_T_INF;
	size_t i, j, pairs = 0;
	char buf[512];

	if (r->verdict == LINZ_LINEARIZABLE) {
		fprintf(f, "linearizable: %zu ops, %zu keys, model %s, %zu states, %.3f s\n",
			r->ops, r->keys, linz_model_name(h->model), r->states, r->seconds);
		if (r->lock_lin_skipped)
			fprintf(f, "  (leases present: holder timeline checked, lock op order not linearized)\n");
		return;
	}
	if (r->verdict == LINZ_UNKNOWN) {
		fprintf(f, "unknown: %s (%zu ops, %zu keys checked, %zu states, %.3f s)\n",
			r->why, r->ops, r->keys, r->states, r->seconds);
		return;
	}
	fprintf(f, "NOT LINEARIZABLE (model %s): key '%s', %zu ops on it\n",
		linz_model_name(h->model), linz_str(h, r->bad_key), r->key_ops);
	if (r->timeline)
		fprintf(f, "  lock holder timeline: %s\n", r->why);
	w = calloc(r->nwindow ? r->nwindow : 1, sizeof(*w));
	if (!w)
		return;
	for (i = 0; i < r->nwindow; i++) {
		w[i] = &h->ops[r->window[i]];
		if (w[i]->invoke < t0)
			t0 = w[i]->invoke;
	}
	if (!r->timeline && r->cut)
		fprintf(f, "  smallest failing window: %zu op(s)%s; the failure shows by t=%lld ns\n",
			r->nwindow, r->minimal ? "" : " (not shrunk further: time budget)",
			(long long)r->cut);
	else if (!r->timeline)
		fprintf(f, "  window: all %zu ops of the key (not shrunk: time budget or --no-window)\n",
			r->nwindow);
	fprintf(f, "  times in microseconds after t0=%lld ns:\n", (long long)t0);
	fprintf(f, "    %-6s %-10s %-34s %14s %14s  %s\n", "line", "client", "op", "invoke",
		"complete", "status");
	for (i = 0; i < r->nwindow; i++) {
		linz_fmt_op(h, w[i], buf, sizeof(buf));
		fprintf(f, "    %-6u %-10s %-34s ", w[i]->line, linz_str(h, w[i]->client), buf);
		print_time(f, w[i]->invoke, t0);
		fputc(' ', f);
		print_time(f, w[i]->complete, t0);
		fprintf(f, "  %s\n", status_name(w[i]));
	}
	if (r->timeline)
		goto out;
	sources(f, h, w, r->nwindow, t0);
	fprintf(f, "  real-time order (a -> b: a completed before b was invoked):\n");
	for (i = 0; i < r->nwindow; i++)
		for (j = 0; j < r->nwindow; j++)
			if (w[i]->complete < w[j]->invoke && pairs++ < 16)
				fprintf(f, "    line %u -> line %u\n", w[i]->line, w[j]->line);
	if (!pairs)
		fprintf(f, "    none: all of them overlap, any order is allowed\n");
	explain(f, h, r, w);
out:
	free(w);
}
