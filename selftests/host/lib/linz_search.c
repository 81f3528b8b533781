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
	struct linz_state st;	/* state before the decision */
};

/* The memo: a hash set of (bitset of decided ops, state), stored packed. */
struct memo {
	uint64_t *slab;		/* entries of @words words each */
	size_t words, n, slab_cap;
	uint32_t *tab;		/* entry index + 1, open addressing */
	size_t tab_cap;
};

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

static int memo_grow(struct memo *m)
{
	size_t cap = m->tab_cap ? m->tab_cap * 2 : 1024, i, j;
	uint32_t *t = calloc(cap, sizeof(*t));

	if (!t)
		return -1;
	for (i = 0; i < m->n; i++) {
		for (j = memo_hash(m->slab + i * m->words, m->words) & (cap - 1); t[j];
		     j = (j + 1) & (cap - 1))
			;
		t[j] = i + 1;
	}
	free(m->tab);
	m->tab = t;
	m->tab_cap = cap;
	return 0;
}

/* 1 added, 0 seen before, -1 out of memory or over the limit. */
static int memo_add(struct memo *m, const uint64_t *bits, size_t bw,
		    const struct linz_state *st, struct linz_limits *lim)
{
	uint64_t *e;
	size_t j;

	if (m->n * 2 >= m->tab_cap && memo_grow(m))
		return -1;
	if (m->n + 1 > m->slab_cap) {
		size_t cap = m->slab_cap ? m->slab_cap * 2 : 1024;
		uint64_t *s = realloc(m->slab, cap * m->words * sizeof(*s));

		if (!s)
			return -1;
		m->slab = s;
		m->slab_cap = cap;
	}
	e = m->slab + m->n * m->words;
	memcpy(e, bits, bw * 8);
	memcpy(e + bw, st, sizeof(*st));
	for (j = memo_hash(e, m->words) & (m->tab_cap - 1); m->tab[j];
	     j = (j + 1) & (m->tab_cap - 1))
		if (!memcmp(m->slab + (m->tab[j] - 1) * m->words, e, m->words * 8))
			return 0;
	if (m->n >= lim->max_states)
		return -1;
	m->tab[j] = ++m->n;
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

int linz_search(const struct linz_history *h, const struct linz_op *ops, size_t n,
		struct linz_limits *lim)
{
	size_t bw = (n + 63) / 64, pending = 0, sp = 0, i;
	struct memo memo = { .words = bw + sizeof(struct linz_state) / 8 };
	struct frame *stack = NULL;
	uint64_t *bits = NULL;
	struct ent *e = NULL;
	struct linz_state st, nst;
	int32_t cur;
	unsigned long iter = 0;
	int ret = -1;

	if (!lim->max_states)
		lim->max_states = DEFAULT_MAX_STATES;
	for (i = 0; i < n; i++)
		pending += ops[i].status == LINZ_ST_OK;
	if (!pending)
		return 1;
	bits = calloc(bw, 8);
	stack = malloc(n * sizeof(*stack));
	if (!bits || !stack || build(ops, n, &e) < 0)
		goto out;
	linz_state_init(h->model, &st);
	cur = e[0].next;
	while (pending) {
		struct ent *c = &e[cur];
		const struct linz_op *op = &ops[c->op];

		if (!(++iter & 4095) && lim->deadline_ns && linz_mono_ns() > lim->deadline_ns)
			goto out;
		if (c->call || op->status == LINZ_ST_OPTIONAL) {
			int32_t ce = c->call ? cur : c->ret;
			int added;

			/* a call: try it here; an optional op's return: it never ran */
			if (c->call && !linz_step(h, op, &st, &nst, NULL, 0)) {
				cur = c->next;
				continue;
			}
			if (!c->call)
				nst = st;
			bits[c->op / 64] |= 1ULL << (c->op % 64);
			added = memo_add(&memo, bits, bw, &nst, lim);
			if (added < 0) {
				lim->out_of_memory = true;
				goto out;
			}
			if (added) {
				stack[sp++] = (struct frame){ .call = ce, .skip = !c->call, .st = st };
				st = nst;
				lift(e, ce);
				pending -= op->status == LINZ_ST_OK;
				cur = e[0].next;
				continue;
			}
			bits[c->op / 64] &= ~(1ULL << (c->op % 64));
			if (c->call) {
				cur = c->next;
				continue;
			}
		}
		/* a return that nothing linearized: undo the last decision */
		for (;;) {
			struct frame *f;
			const struct linz_op *fo;

			if (!sp) {
				ret = 0;
				goto out;
			}
			f = &stack[--sp];
			fo = &ops[e[f->call].op];
			unlift(e, f->call);
			bits[e[f->call].op / 64] &= ~(1ULL << (e[f->call].op % 64));
			st = f->st;
			pending += fo->status == LINZ_ST_OK;
			if (!f->skip) {
				cur = e[f->call].next;
				break;
			}
		}
	}
	ret = 1;
out:
	free(memo.slab);
	free(memo.tab);
	free(stack);
	free(bits);
	free(e);
	return ret;
}
