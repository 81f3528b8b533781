// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * linz: the search for one key, and the check of a whole history.
 *
 * Wing & Gong with Lowe's just-in-time linearization (the approach Porcupine
 * takes).  The ops' invoke and return events form one time-ordered,
 * doubly linked list.  Walking it from the front, a call may be linearized
 * now (the model allows it and the configuration is new), which lifts its
 * call and return out of the list and restarts the walk; reaching a return
 * whose op is not yet linearized means the current prefix cannot be
 * extended, so the last choice is undone (the lifted entries go back in
 * reverse order, which a doubly linked list allows in O(1)) and the walk
 * resumes after it.  Every (set of decided ops, model state) reached is
 * remembered; reaching one again cannot lead anywhere new, which is what
 * keeps the search polynomial on most real histories.
 *
 * Ops of unknown outcome have no return event: they may be linearized any
 * time after their call, and need not be.  "Optional" ops (used while
 * shrinking a violation) have a return event, but at it they may be decided
 * as "did not happen" instead of forcing a backtrack.
 *
 * Order of trying, which matters for the memo's dominance rule below: at
 * each point the definite calls first, then "did not happen" for an
 * optional op whose return was reached, then the uncertain calls.  The
 * configurations where fewer uncertain ops happened are thus explored first
 * and then prune their copies with more of them.
 */
#include <stdlib.h>
#include <string.h>

#include "linz.h"

/* per key and search: 8M entries of a few words each, some hundreds of MB */
#define DEFAULT_MAX_STATES	(8u << 20)

struct ent {
	int64_t t;
	int32_t op;		/* index in the key's op array */
	int32_t ret;		/* a call's return entry (-1: none), a return's call */
	int32_t prev, next;	/* list links; entry 0 is the head */
	bool call;
};

struct frame {
	int32_t call;		/* the call entry that was lifted */
	bool skip;		/* decided "did not happen", not linearized */
	bool uncertain;		/* made in the pass over uncertain calls */
	uint32_t memo;		/* the configuration the decision led to */
	struct linz_state st;	/* state before the decision */
};

/*
 * The memo.  A configuration is (set of decided ops, model state).  Its key
 * is the definite part of the set plus the state; all configurations with
 * one key are chained, each with its set of decided ops of uncertain
 * outcome (unknown or optional).  Besides exact repeats, a configuration is
 * dominated by an explored one with the same key and a subset of its
 * uncertain ops decided: from there the same ops could simply never have
 * happened, so anything reachable here was reachable there, and failed.
 * Without this a few crashed clients make the search exponential: each
 * crashed write could have happened at any point, or not.
 */
struct memo {
	uint64_t *slab;		/* entries: key (kw words), uncertain set (uw), link */
	size_t kw, uw, words, n, slab_cap;
	uint32_t *tab;		/* chain head entry + 1 per key, open addressing */
	size_t tab_cap, keys;
	uint32_t *exact;	/* entry + 1 by key and uncertain set */
	size_t exact_cap;
};

/* how far down a key's chain to look for a dominating configuration:
 * looking less only prunes less
 */
#define DOMINANCE_SCAN	32

#define MEMO_EXPLORED	(1ULL << 32)	/* in the link word: subtree exhausted */

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdULL;
}

static uint64_t memo_hash(const uint64_t *e, size_t words)
{
	uint64_t x = 0;
	size_t i;

	for (i = 0; i < words; i++)
		x = mix(x, e[i]);
	return x ^ x >> 31;
}

static uint64_t *memo_entry(const struct memo *m, size_t i)
{
	return m->slab + i * m->words;
}

static int memo_grow(struct memo *m)
{
	size_t cap = m->tab_cap ? m->tab_cap * 2 : 1024, i, j;
	uint32_t *t = calloc(cap, sizeof(*t));

	if (!t)
		return -1;
	for (i = 0; i < m->tab_cap; i++) {
		if (!m->tab[i])
			continue;
		for (j = memo_hash(memo_entry(m, m->tab[i] - 1), m->kw) & (cap - 1); t[j];
		     j = (j + 1) & (cap - 1))
			;
		t[j] = m->tab[i];
	}
	free(m->tab);
	m->tab = t;
	m->tab_cap = cap;
	return 0;
}

static int exact_grow(struct memo *m)
{
	size_t cap = m->exact_cap ? m->exact_cap * 2 : 2048, i, j;
	uint32_t *t = calloc(cap, sizeof(*t));

	if (!t)
		return -1;
	for (i = 0; i < m->n; i++) {
		for (j = memo_hash(memo_entry(m, i), m->kw + m->uw) & (cap - 1); t[j];
		     j = (j + 1) & (cap - 1))
			;
		t[j] = i + 1;
	}
	free(m->exact);
	m->exact = t;
	m->exact_cap = cap;
	return 0;
}

static bool dominated(const uint64_t *seen, const uint64_t *u, size_t uw)
{
	size_t i;

	for (i = 0; i < uw; i++)
		if (seen[i] & ~u[i])
			return false;
	return true;
}

/* 1 new (entry index in *idx), 0 seen or dominated, -1 out of memory / limit.
 * @key and @u are contiguous (the entry as it would be stored).
 */
static int memo_visit(struct memo *m, const uint64_t *key, const uint64_t *u,
		      struct linz_limits *lim, uint32_t *idx)
{
	uint32_t head = 0, i;
	size_t j, x, scan = 0;
	uint64_t *e;

	if ((m->keys * 2 >= m->tab_cap && memo_grow(m)) ||
	    (m->n * 2 >= m->exact_cap && exact_grow(m)))
		return -1;
	for (x = memo_hash(key, m->kw + m->uw) & (m->exact_cap - 1); m->exact[x];
	     x = (x + 1) & (m->exact_cap - 1))
		if (!memcmp(memo_entry(m, m->exact[x] - 1), key, (m->kw + m->uw) * 8))
			return 0;
	for (j = memo_hash(key, m->kw) & (m->tab_cap - 1); m->tab[j];
	     j = (j + 1) & (m->tab_cap - 1)) {
		if (!memcmp(memo_entry(m, m->tab[j] - 1), key, m->kw * 8)) {
			head = m->tab[j];
			break;
		}
	}
	for (i = head; i && m->uw && scan++ < DOMINANCE_SCAN; i = (uint32_t)e[m->kw + m->uw]) {
		e = memo_entry(m, i - 1);
		if ((e[m->kw + m->uw] & MEMO_EXPLORED) && dominated(e + m->kw, u, m->uw))
			return 0;
	}
	if (m->n >= lim->max_states || m->n >= UINT32_MAX - 1)
		return -1;
	if (m->n == m->slab_cap) {
		size_t cap = m->slab_cap ? m->slab_cap * 2 : 1024;
		uint64_t *s = realloc(m->slab, cap * m->words * sizeof(*s));

		if (!s)
			return -1;
		m->slab = s;
		m->slab_cap = cap;
	}
	e = memo_entry(m, m->n);
	memcpy(e, key, m->kw * 8);
	memcpy(e + m->kw, u, m->uw * 8);
	e[m->kw + m->uw] = head;
	if (!head)
		m->keys++;
	m->tab[j] = ++m->n;
	m->exact[x] = m->n;
	*idx = m->n - 1;
	lim->states++;
	return 1;
}

static int ev_cmp(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	/* calls first: ops touching at one instant count as concurrent */
	if (x->call != y->call)
		return x->call ? -1 : 1;
	return x->op - y->op;
}

static void lift(struct ent *e, int32_t c)
{
	e[e[c].prev].next = e[c].next;
	if (e[c].next >= 0)
		e[e[c].next].prev = e[c].prev;
	if (e[c].ret >= 0) {
		int32_t r = e[c].ret;

		e[e[r].prev].next = e[r].next;
		if (e[r].next >= 0)
			e[e[r].next].prev = e[r].prev;
	}
}

static void unlift(struct ent *e, int32_t c)
{
	if (e[c].ret >= 0) {
		int32_t r = e[c].ret;

		e[e[r].prev].next = r;
		if (e[r].next >= 0)
			e[e[r].next].prev = r;
	}
	e[e[c].prev].next = c;
	if (e[c].next >= 0)
		e[e[c].next].prev = c;
}

/* Build the event list; returns the entry count or -1. */
static int build(const struct linz_op *ops, size_t n, struct ent **out)
{
	struct ent *e = calloc(2 * n + 1, sizeof(*e));
	int32_t *call_of;
	size_t i, k = 1;

	if (!e)
		return -1;
	for (i = 0; i < n; i++) {
		e[k++] = (struct ent){ .t = ops[i].invoke, .op = i, .call = true };
		if (ops[i].status != LINZ_ST_UNKNOWN)
			e[k++] = (struct ent){ .t = ops[i].complete, .op = i };
	}
	qsort(e + 1, k - 1, sizeof(*e), ev_cmp);
	call_of = malloc(n * sizeof(*call_of) + 1);
	if (!call_of) {
		free(e);
		return -1;
	}
	for (i = 1; i < k; i++) {
		e[i].prev = i - 1;
		e[i].next = i + 1 < k ? (int32_t)i + 1 : -1;
		e[i].ret = -1;
		if (e[i].call) {
			call_of[e[i].op] = i;
		} else {
			e[i].ret = call_of[e[i].op];
			e[call_of[e[i].op]].ret = i;
		}
	}
	e[0].next = k > 1 ? 1 : -1;
	e[0].prev = -1;
	free(call_of);
	*out = e;
	return k;
}

/*
 * Twins: definite ops with the same effect and the same result (two reads
 * of one value, two writes of a value nobody reads).  If A's interval
 * starts and ends no later than B's, any order with B before A stays valid
 * with the two swapped, so only orders with A first need trying: B waits
 * for A.  Without this, n concurrent twins cost 2^n subsets, not n.
 */
static const struct linz_op *twin_ops;
static bool twin_client;		/* the lock model's steps depend on it */

/* Same effect, same result, whatever the times: <0, 0, >0. */
static int effect_cmp(const struct linz_op *x, const struct linz_op *y)
{
	int c;

	if (x->status != y->status)
		return x->status - y->status;
	if (x->kind != y->kind)
		return x->kind - y->kind;
	if (x->flags != y->flags)
		return x->flags - y->flags;
	if (x->rbool != y->rbool)
		return x->rbool - y->rbool;
	if (twin_client && x->client != y->client)
		return x->client < y->client ? -1 : 1;
	c = memcmp(&x->arg, &y->arg, sizeof(x->arg));
	if (!c)
		c = memcmp(&x->arg2, &y->arg2, sizeof(x->arg2));
	if (!c)
		c = memcmp(&x->result, &y->result, sizeof(x->result));
	return c;
}

static int twin_cmp(const void *a, const void *b)
{
	const struct linz_op *x = &twin_ops[*(const int32_t *)a];
	const struct linz_op *y = &twin_ops[*(const int32_t *)b];
	int c = effect_cmp(x, y);

	if (c)
		return c;
	if (x->invoke != y->invoke)
		return x->invoke < y->invoke ? -1 : 1;
	return *(const int32_t *)a - *(const int32_t *)b;
}

/* twin[i]: a definite op that must be linearized before op i, or -1. */
static int32_t *find_twins(const struct linz_history *h, const struct linz_op *ops, size_t n)
{
	int32_t *idx = malloc((n ? n : 1) * sizeof(*idx));
	int32_t *twin = malloc((n ? n : 1) * sizeof(*twin));
	size_t i;

	if (!idx || !twin) {
		free(idx);
		free(twin);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		idx[i] = i;
		twin[i] = -1;
	}
	/* qsort has no context argument; the search is single-threaded */
	twin_ops = ops;
	twin_client = h->model == LINZ_MODEL_LOCK;
	qsort(idx, n, sizeof(*idx), twin_cmp);
	for (i = 1; i < n; i++) {
		const struct linz_op *a = &ops[idx[i - 1]], *b = &ops[idx[i]];

		/* sorted: a->invoke <= b->invoke */
		if (a->status == LINZ_ST_OK && !effect_cmp(a, b) && a->complete <= b->complete)
			twin[idx[i]] = idx[i - 1];
	}
	free(idx);
	return twin;
}

static void flip(uint64_t *key, uint64_t *u, const int32_t *pos, int32_t op, bool on)
{
	uint64_t *w = pos[op] >= 0 ? key : u;
	int32_t b = pos[op] >= 0 ? pos[op] : -pos[op] - 1;

	if (on)
		w[b / 64] |= 1ULL << (b % 64);
	else
		w[b / 64] &= ~(1ULL << (b % 64));
}

int linz_search(const struct linz_history *h, const struct linz_op *ops, size_t n,
		struct linz_limits *lim)
{
	size_t pending = 0, nu = 0, sp = 0, i, dw, sw = sizeof(struct linz_state) / 8;
	struct memo memo = { 0 };
	struct frame *stack = NULL;
	uint64_t *key = NULL, *u = NULL;
	int32_t *pos = NULL, *twin = NULL, cur;
	struct ent *e = NULL;
	struct linz_state st, nst;
	unsigned long iter = 0;
	bool uncertain = false;	/* which pass: definite calls first */
	int ret = -1;

	if (!lim->max_states)
		lim->max_states = DEFAULT_MAX_STATES;
	pos = malloc((n ? n : 1) * sizeof(*pos));
	if (!pos)
		return -1;
	/* definite ops get bits in the key, the others in the uncertain set */
	for (i = 0; i < n; i++)
		if (ops[i].status == LINZ_ST_OK)
			pos[i] = pending++;
		else
			pos[i] = -(int32_t)(++nu);
	if (!pending) {
		free(pos);
		return 1;
	}
	dw = (pending + 63) / 64;
	memo.kw = dw + sw;
	memo.uw = (nu + 63) / 64;
	memo.words = memo.kw + memo.uw + 1;
	key = calloc(memo.kw + memo.uw + 1, 8);
	u = key + memo.kw;
	stack = malloc(n * sizeof(*stack));
	twin = find_twins(h, ops, n);
	if (!key || !stack || !twin || build(ops, n, &e) < 0)
		goto out;
	linz_state_init(h->model, &st);
	cur = e[0].next;
	while (pending) {
		struct ent *c = &e[cur];
		const struct linz_op *op = &ops[c->op];
		bool sure = op->status == LINZ_ST_OK;

		if (!(++iter & 4095) && lim->deadline_ns && linz_mono_ns() > lim->deadline_ns)
			goto out;
		if (c->call && sure == uncertain) {
			cur = c->next;	/* not in this pass */
			continue;
		}
		if (c->call && twin && twin[c->op] >= 0 &&
		    !(key[pos[twin[c->op]] / 64] & 1ULL << (pos[twin[c->op]] % 64))) {
			cur = c->next;	/* its twin goes first */
			continue;
		}
		if (!c->call && (uncertain || op->status != LINZ_ST_OPTIONAL)) {
			if (uncertain)
				goto backtrack;
			/* now the uncertain calls before this return */
			uncertain = true;
			cur = e[0].next;
			continue;
		}
		{
			int32_t ce = c->call ? cur : c->ret;
			uint32_t idx;
			int added;

			/* a call: try it here; an optional op's return: it never ran */
			if (c->call && (!linz_step(h, op, &st, &nst, NULL, 0) ||
					/* an uncertain no-op: the same as never */
					(!sure && !memcmp(&nst, &st, sizeof(st))))) {
				cur = c->next;
				continue;
			}
			if (!c->call)
				nst = st;
			flip(key, u, pos, c->op, true);
			memcpy(key + dw, &nst, sizeof(nst));
			added = memo_visit(&memo, key, u, lim, &idx);
			if (added < 0) {
				lim->out_of_memory = true;
				goto out;
			}
			if (added) {
				stack[sp++] = (struct frame){ .call = ce, .skip = !c->call,
							      .uncertain = uncertain, .memo = idx,
							      .st = st };
				st = nst;
				lift(e, ce);
				pending -= sure;
				cur = e[0].next;
				uncertain = false;
				continue;
			}
			flip(key, u, pos, c->op, false);
			if (c->call) {
				cur = c->next;
				continue;
			}
			/* skipping it was seen before: on to the uncertain calls */
			uncertain = true;
			cur = e[0].next;
			continue;
		}
backtrack:
		/* a return that nothing linearized: undo the last decision */
		if (!sp) {
			ret = 0;
			goto out;
		}
		sp--;
		memo_entry(&memo, stack[sp].memo)[memo.kw + memo.uw] |= MEMO_EXPLORED;
		unlift(e, stack[sp].call);
		flip(key, u, pos, e[stack[sp].call].op, false);
		st = stack[sp].st;
		pending += ops[e[stack[sp].call].op].status == LINZ_ST_OK;
		if (stack[sp].skip) {
			/* it did not happen, and that failed: try the uncertain calls */
			cur = e[0].next;
			uncertain = true;
		} else {
			cur = e[stack[sp].call].next;
			uncertain = stack[sp].uncertain;
		}
	}
	ret = 1;
out:
	free(memo.slab);
	free(memo.tab);
	free(memo.exact);
	free(stack);
	free(key);
	free(pos);
	free(twin);
	free(e);
	return ret;
}
