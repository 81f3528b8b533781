// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * linz: checking a whole history, and shrinking a violation to the smallest
 * window that still shows it.
 *
 * P-compositionality: a history of independent per-key objects is
 * linearizable iff each key's sub-history is, so keys are searched one by
 * one; the exponential part of the search is then in the concurrency of one
 * key, not of the whole history.
 *
 * Shrinking uses two relaxations that can only add possible orders, so a
 * relaxed history that still fails proves the original fails for the same
 * reason:
 *  1. truncation at time T: drop ops invoked after T, make ops still running
 *     at T unknown.  (Any linearization of the whole history, cut before the
 *     first op invoked after T, is one of the truncation.)  Failing is
 *     monotone in T, so a binary search finds the earliest T that fails.
 *  2. making a definite op optional (it may not have happened; if it did, it
 *     was within its interval).  Greedily relaxing chunks, then single ops,
 *     leaves a set of definite ops every one of which is needed: the window.
 * The window alone is then not linearizable either: the optional ops can
 * only have helped.
 */
#include <stdlib.h>
#include <string.h>

#include "linz.h"

static int cmp_i64(const void *a, const void *b);

/*
 * Writes of a string that no op of the key ever compares against (no read
 * returned it, no cas expected it) all leave the key in states no later op
 * can tell apart: reads of them fail alike, every cas misses alike, NX/XX
 * see "present" alike.  Giving them all one value lets the memo merge those
 * states; with many concurrent writes that is most of the search.
 */
static void merge_unobserved(const struct linz_history *h, struct linz_op *ops, size_t n)
{
	int64_t *seen = malloc((n ? n : 1) * sizeof(*seen));
	size_t i, k = 0;

	if (!seen || (h->model != LINZ_MODEL_REGISTER && h->model != LINZ_MODEL_KV)) {
		free(seen);
		return;
	}
	for (i = 0; i < n; i++) {
		if (ops[i].kind == LINZ_OP_READ && ops[i].result.kind == LINZ_V_STR)
			seen[k++] = ops[i].result.n;
		if (ops[i].kind == LINZ_OP_CAS && ops[i].arg.kind == LINZ_V_STR)
			seen[k++] = ops[i].arg.n;
	}
	qsort(seen, k, sizeof(*seen), cmp_i64);
	for (i = 0; i < n; i++) {
		struct linz_val *v = ops[i].kind == LINZ_OP_WRITE ? &ops[i].arg :
			ops[i].kind == LINZ_OP_CAS || ops[i].kind == LINZ_OP_FSET ? &ops[i].arg2 : NULL;

		if (v && v->kind == LINZ_V_STR && !bsearch(&v->n, seen, k, sizeof(*seen), cmp_i64))
			v->n = -1;	/* no interned string has this id */
	}
	free(seen);
}

/* Search @ops with the inert ones left out (they cannot change state). */
static int search_live(const struct linz_history *h, const struct linz_op *ops, size_t n,
		       struct linz_limits *lim)
{
	struct linz_op *live = malloc((n ? n : 1) * sizeof(*live));
	size_t i, k = 0;
	int ret;

	if (!live)
		return -1;
	for (i = 0; i < n; i++)
		if (!linz_op_inert(&ops[i]))
			live[k++] = ops[i];
	merge_unobserved(h, live, k);
	ret = linz_search(h, live, k, lim);
	free(live);
	return ret;
}

/*
 * A search while shrinking: 0 proven to fail, 1 linearizable or not decided
 * within the shrinking budget (either way, not evidence), -1 deadline.
 */
static int try_live(const struct linz_history *h, const struct linz_op *ops, size_t n,
		    struct linz_limits *lim)
{
	struct linz_limits sub = *lim;
	int ret;

	if (lim->shrink_states)
		sub.max_states = lim->shrink_states;
	sub.out_of_memory = false;
	ret = search_live(h, ops, n, &sub);
	lim->states = sub.states;
	if (ret < 0 && sub.out_of_memory)
		return 1;
	return ret;
}

/* The history cut at @t (relaxation 1) into @out; returns its length. */
static size_t truncate_at(const struct linz_op *ops, size_t n, int64_t t, struct linz_op *out)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (ops[i].invoke > t)
			continue;
		out[k] = ops[i];
		if (out[k].complete > t && out[k].status != LINZ_ST_FAIL) {
			out[k].status = LINZ_ST_UNKNOWN;
			out[k].complete = LINZ_T_INF;
		}
		k++;
	}
	return k;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_invoke(const void *a, const void *b)
{
	const struct linz_op *x = a, *y = b;

	if (x->invoke != y->invoke)
		return x->invoke < y->invoke ? -1 : 1;
	return (int)x->id - (int)y->id;
}

/* Relaxation 2 over the definite ops of @w (ddmin-style chunks). */
static int relax(const struct linz_history *h, struct linz_op *w, size_t n,
		 struct linz_limits *lim)
{
	size_t *cand = malloc((n ? n : 1) * sizeof(*cand)), m = 0, chunk, i, j;
	int ret = 0;

	if (!cand)
		return -1;
	for (i = 0; i < n; i++)
		if (w[i].status == LINZ_ST_OK)
			cand[m++] = i;
	chunk = (m + 1) / 2;
	while (m && chunk) {
		bool removed = false;

		for (i = 0; i < m;) {
			size_t len = i + chunk <= m ? chunk : m - i;
			int r;

			for (j = i; j < i + len; j++)
				w[cand[j]].status = LINZ_ST_OPTIONAL;
			r = try_live(h, w, n, lim);
			if (r < 0) {
				for (j = i; j < i + len; j++)
					w[cand[j]].status = LINZ_ST_OK;
				ret = -1;
				goto out;
			}
			if (r == 0) {
				/* still fails without them: they are not needed */
				memmove(cand + i, cand + i + len, (m - i - len) * sizeof(*cand));
				m -= len;
				removed = true;
				continue;
			}
			for (j = i; j < i + len; j++)
				w[cand[j]].status = LINZ_ST_OK;
			i += len;
		}
		if (!removed)
			chunk /= 2;
		else if (chunk > m)
			chunk = m;
	}
out:
	free(cand);
	return ret;
}

/* Definite ops of @w that ended before @t become @to (optional or ok again). */
static void relax_before(struct linz_op *w, size_t n, int64_t t, int to)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (w[i].complete < t && w[i].status != LINZ_ST_FAIL &&
		    w[i].status != LINZ_ST_UNKNOWN)
			w[i].status = to;
}

int linz_shrink(const struct linz_history *h, const struct linz_op *ops, size_t n,
		struct linz_limits *lim, struct linz_report *r)
{
	int64_t *times = malloc((n ? n : 1) * sizeof(*times));
	struct linz_op *w = malloc((n ? n : 1) * sizeof(*w));
	size_t nt = 0, lo, hi, i, k;
	int ret = -1;

	if (!times || !w)
		goto out;
	for (i = 0; i < n; i++)
		if (ops[i].status == LINZ_ST_OK)
			times[nt++] = ops[i].complete;
	qsort(times, nt, sizeof(*times), cmp_i64);
	/* the earliest cut that already fails; the last one is known to */
	lo = 0;
	hi = nt ? nt - 1 : 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int s = try_live(h, w, truncate_at(ops, n, times[mid], w), lim);

		if (s < 0)
			goto out;
		if (s == 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	r->cut = nt ? times[lo] : 0;
	k = truncate_at(ops, n, r->cut, w);
	/* relaxing every op that ended before s: the latest s that still fails
	 * (monotone too: a later s relaxes more) cuts the start of the window
	 */
	lo = 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo + 1) / 2;
		int s;

		relax_before(w, k, times[mid], LINZ_ST_OPTIONAL);
		s = try_live(h, w, k, lim);
		relax_before(w, k, times[mid], LINZ_ST_OK);
		if (s < 0)
			goto out;
		if (s == 0)
			lo = mid;
		else
			hi = mid - 1;
	}
	if (nt)
		relax_before(w, k, times[lo], LINZ_ST_OPTIONAL);
	ret = relax(h, w, k, lim);
	qsort(w, k, sizeof(*w), cmp_invoke);
	free(r->window);
	r->window = malloc((k ? k : 1) * sizeof(*r->window));
	r->nwindow = 0;
	if (!r->window) {
		ret = -1;
		goto out;
	}
	for (i = 0; i < k; i++)
		if (w[i].status == LINZ_ST_OK)
			r->window[r->nwindow++] = w[i].id;
	r->minimal = ret == 0;
	/* the ops that may have happened: the explanation must consider them */
	free(r->extra);
	r->extra = malloc((k ? k : 1) * sizeof(*r->extra));
	r->nextra = 0;
	for (i = k; r->extra && i-- > 0;)	/* latest first */
		if (w[i].status != LINZ_ST_OK && !linz_op_inert(&w[i]))
			r->extra[r->nextra++] = w[i];
out:
	free(times);
	free(w);
	return ret;
}

static int cmp_key(const void *a, const void *b)
{
	const struct linz_op *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return cmp_invoke(a, b);
}

static bool has_leases(const struct linz_op *ops, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ops[i].kind == LINZ_OP_ACQUIRE && ops[i].arg.kind == LINZ_V_INT)
			return true;
	return false;
}

/* Key by key; stops at the first violation. */
static void check_keys(const struct linz_history *h, struct linz_op *all, const struct linz_opts *o,
		       struct linz_limits *lim, struct linz_report *r)
{
	struct linz_limits shrink_lim;
	size_t a, b, before;
	bool undecided = false;
	int64_t t;

	for (a = 0; a < h->nops; a = b) {
		const struct linz_op *ops = all + a;
		int s;

		for (b = a; b < h->nops && all[b].key == all[a].key; b++)
			;
		r->keys++;
		if (h->model == LINZ_MODEL_LOCK) {
			if (!linz_lock_timeline(h, ops, b - a, r)) {
				r->verdict = LINZ_VIOLATION;
				r->key_ops = b - a;
				return;
			}
			if (has_leases(ops, b - a)) {
				/* a lease may lapse with no op in the history */
				r->lock_lin_skipped = true;
				continue;
			}
		}
		before = lim->states;
		s = search_live(h, ops, b - a, lim);
		/* shrinking searches get a few times what deciding took */
		lim->shrink_states = 2 * (lim->states - before) + 20000;
		if (s < 0) {
			if (!undecided)
				snprintf(r->why, sizeof(r->why), "%s on key '%s' (%zu ops)",
					 lim->out_of_memory ? "state limit reached" : "deadline passed",
					 linz_str(h, ops->key), b - a);
			undecided = true;
			continue;
		}
		if (s == 0) {
			r->verdict = LINZ_VIOLATION;
			r->bad_key = ops->key;
			r->key_ops = b - a;
			/* the verdict stands; the window is best effort */
			shrink_lim = *lim;
			t = linz_mono_ns() + (int64_t)((o->explain_s > 0 ? o->explain_s : 10) * 1e9);
			if (!shrink_lim.deadline_ns || t < shrink_lim.deadline_ns)
				shrink_lim.deadline_ns = t;
			if (o->no_explain || linz_shrink(h, ops, b - a, &shrink_lim, r) < 0) {
				/* no window in time: fall back to the whole key */
				if (!r->window) {
					r->window = malloc((b - a) * sizeof(*r->window));
					for (r->nwindow = 0; r->window && r->nwindow < b - a; r->nwindow++)
						r->window[r->nwindow] = ops[r->nwindow].id;
				}
				r->minimal = false;
			}
			return;
		}
	}
	r->verdict = undecided ? LINZ_UNKNOWN : LINZ_LINEARIZABLE;
}

enum linz_verdict linz_check(const struct linz_history *h, const struct linz_opts *o,
			     struct linz_report *r)
{
	static const struct linz_opts dflt;
	struct linz_limits lim = { 0 };
	int64_t t0 = linz_mono_ns();
	struct linz_op *all;

	if (!o)
		o = &dflt;
	memset(r, 0, sizeof(*r));
	r->ops = h->nops;
	lim.max_states = o->max_states;
	if (o->timeout_s > 0)
		lim.deadline_ns = t0 + (int64_t)(o->timeout_s * 1e9);
	all = malloc((h->nops ? h->nops : 1) * sizeof(*all));
	if (!all) {
		r->verdict = LINZ_UNKNOWN;
		snprintf(r->why, sizeof(r->why), "out of memory");
		return r->verdict;
	}
	memcpy(all, h->ops, h->nops * sizeof(*all));
	qsort(all, h->nops, sizeof(*all), cmp_key);
	check_keys(h, all, o, &lim, r);
	free(all);
	r->states = lim.states;
	r->seconds = (linz_mono_ns() - t0) / 1e9;
	return r->verdict;
}

void linz_report_free(struct linz_report *r)
{
	free(r->window);
	free(r->extra);
	r->window = NULL;
	r->extra = NULL;
	r->nwindow = 0;
	r->nextra = 0;
}
