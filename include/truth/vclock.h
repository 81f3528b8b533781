/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * Vector clock over the node ids of a group (Fidge 1988, Mattern 1989),
 * shared by truth.ko and truthd.
 *
 * A clock is a set of (node, counter) entries kept sorted by node id, at most
 * TRUTH_VCLOCK_MAX of them; a node without an entry has counter 0, and an
 * entry never holds 0.  Sorted entries make merge and compare one linear
 * merge-join and make the clock's wire form canonical.
 *
 *   tick(v, self)   a local event or a send: v[self] += 1
 *   merge(v, w)     a receive: v[i] = max(v[i], w[i]) for every i; the
 *                   receiver then ticks its own entry
 *   compare(a, b)   EQUAL, BEFORE (a happened before b: a <= b entry-wise
 *                   and a != b), AFTER, or CONCURRENT
 *
 * Pure: no allocation, no I/O, no locking; the caller serialises.  Functions
 * that can run out of room return -1 and leave the clock as it was.
 */
#ifndef _TRUTH_VCLOCK_H
#define _TRUTH_VCLOCK_H

#include <linux/types.h>

#define TRUTH_VCLOCK_ENTRIES	64	/* == TRUTH_VCLOCK_MAX in the UAPI */

struct truth_vclock_entry {
	__u32 node;	/* node id */
	__u32 pad;	/* zero */
	__u64 counter;	/* events of @node known here; never 0 */
};

struct truth_vclock {
	__u32 n;	/* entries in use */
	__u32 pad;	/* zero */
	struct truth_vclock_entry e[TRUTH_VCLOCK_ENTRIES];	/* by node */
};

enum truth_vclock_order {
	TRUTH_VCLOCK_EQUAL,
	TRUTH_VCLOCK_BEFORE,
	TRUTH_VCLOCK_AFTER,
	TRUTH_VCLOCK_CONCURRENT,
};

static inline void truth_vclock_init(struct truth_vclock *v)
{
	v->n = 0;
	v->pad = 0;
}

/* @node's counter, 0 if it has no entry. */
static inline __u64 truth_vclock_get(const struct truth_vclock *v, __u32 node)
{
	__u32 i;

	for (i = 0; i < v->n && v->e[i].node <= node; i++)
		if (v->e[i].node == node)
			return v->e[i].counter;
	return 0;
}

/*
 * 1 if @v is well formed: n within bounds, nodes strictly ascending, no zero
 * counter.  Anything read from outside must pass this before the others.
 */
static inline int truth_vclock_valid(const struct truth_vclock *v)
{
	__u32 i;

	if (v->n > TRUTH_VCLOCK_ENTRIES)
		return 0;
	for (i = 0; i < v->n; i++) {
		if (v->e[i].counter == 0)
			return 0;
		if (i && v->e[i - 1].node >= v->e[i].node)
			return 0;
	}
	return 1;
}

/* A local event of @node: its counter + 1.  0, or -1 if the clock is full. */
static inline int truth_vclock_tick(struct truth_vclock *v, __u32 node)
{
	__u32 i, j;

	for (i = 0; i < v->n && v->e[i].node < node; i++)
		;
	if (i < v->n && v->e[i].node == node) {
		if (v->e[i].counter != ~(__u64)0)
			v->e[i].counter++;
		return 0;
	}
	if (v->n >= TRUTH_VCLOCK_ENTRIES)
		return -1;
	for (j = v->n; j > i; j--)
		v->e[j] = v->e[j - 1];
	v->e[i].node = node;
	v->e[i].pad = 0;
	v->e[i].counter = 1;
	v->n++;
	return 0;
}

/* How many entries the union of @a and @b's nodes has. */
static inline __u32 truth_vclock_union_size(const struct truth_vclock *a,
					    const struct truth_vclock *b)
{
	__u32 i = 0, j = 0, n = 0;

	while (i < a->n || j < b->n) {
		if (j == b->n || (i < a->n && a->e[i].node < b->e[j].node)) {
			i++;
		} else if (i == a->n || b->e[j].node < a->e[i].node) {
			j++;
		} else {
			i++;
			j++;
		}
		n++;
	}
	return n;
}

/*
 * @dst = entry-wise max(@dst, @src).  0, or -1 (and @dst unchanged) if the
 * union does not fit.  Merges in place from the back, so it needs no second
 * clock on the stack: the write position never overtakes the unread part of
 * @dst because the union is at least as long as what is left of @dst.
 */
static inline int truth_vclock_merge(struct truth_vclock *dst,
				     const struct truth_vclock *src)
{
	__u32 u = truth_vclock_union_size(dst, src);
	__u32 i = dst->n, j = src->n, k = u;

	if (u > TRUTH_VCLOCK_ENTRIES)
		return -1;
	while (j > 0) {
		const struct truth_vclock_entry *s = &src->e[j - 1];

		if (i > 0 && dst->e[i - 1].node > s->node) {
			dst->e[--k] = dst->e[--i];
		} else if (i > 0 && dst->e[i - 1].node == s->node) {
			struct truth_vclock_entry d = dst->e[--i];

			if (s->counter > d.counter)
				d.counter = s->counter;
			dst->e[--k] = d;
			j--;
		} else {
			dst->e[--k] = *s;
			j--;
		}
	}
	/* what is left of dst (i entries) is already in place: k == i */
	dst->n = u;
	return 0;
}

/* Where @a stands relative to @b in the happened-before order. */
static inline enum truth_vclock_order
truth_vclock_compare(const struct truth_vclock *a, const struct truth_vclock *b)
{
	int a_less = 0, b_less = 0;	/* some entry of a < b's, or b < a's */
	__u32 i = 0, j = 0;

	while (i < a->n || j < b->n) {
		if (j == b->n || (i < a->n && a->e[i].node < b->e[j].node)) {
			b_less = 1;	/* b has 0 there */
			i++;
		} else if (i == a->n || b->e[j].node < a->e[i].node) {
			a_less = 1;
			j++;
		} else {
			if (a->e[i].counter < b->e[j].counter)
				a_less = 1;
			else if (a->e[i].counter > b->e[j].counter)
				b_less = 1;
			i++;
			j++;
		}
	}
	if (a_less && b_less)
		return TRUTH_VCLOCK_CONCURRENT;
	if (a_less)
		return TRUTH_VCLOCK_BEFORE;
	if (b_less)
		return TRUTH_VCLOCK_AFTER;
	return TRUTH_VCLOCK_EQUAL;
}

#endif /* _TRUTH_VCLOCK_H */
