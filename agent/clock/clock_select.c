// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * truth clock: interval intersection (Marzullo, "Maintaining the time in a
 * distributed system", 1984; the form NTP uses, RFC 5905 section 11.2.1).
 *
 * Each interval contributes a start edge at lo and an end edge at hi.
 * Sorted by value, starts before ends at equal values (intervals are closed,
 * so touching ones share a point), a sweep keeps the number of intervals
 * covering the current point: after the last start at v it is exactly the
 * coverage of v, and at the first end at v likewise.  So the first start
 * that brings the count to `need` is the leftmost point covered by `need`
 * intervals, and the last end seen with a count >= need the rightmost.
 */
#include <stdlib.h>

#include "clock/clock.h"

struct edge {
	int64_t v;			/* value of the edge */
	int kind;			/* -1 start, +1 end: starts sort first */
};

static int edge_cmp(const void *a, const void *b)
{
	const struct edge *x = a, *y = b;

	if (x->v != y->v)
		return x->v < y->v ? -1 : 1;
	return x->kind - y->kind;
}

/*
 * Sorted edges of @iv into @e (up to 2n entries); the number of intervals
 * used.  An inverted interval (lo > hi) is empty and contributes nothing.
 */
static uint32_t edges(const struct truth_clock_interval *iv, uint32_t n,
		      struct edge *e)
{
	uint32_t i, m = 0;

	for (i = 0; i < n; i++) {
		if (iv[i].lo > iv[i].hi)
			continue;
		e[2 * m].v = iv[i].lo;
		e[2 * m].kind = -1;
		e[2 * m + 1].v = iv[i].hi;
		e[2 * m + 1].kind = 1;
		m++;
	}
	qsort(e, 2 * (size_t)m, sizeof(*e), edge_cmp);
	return m;
}

/* Sweep sorted edges for need (0: the maximum coverage instead). */
static void sweep(const struct edge *e, uint32_t n, uint32_t need,
		  struct truth_clock_selection *sel)
{
	uint32_t count = 0, best = 0, i;

	if (!need) {
		for (i = 0; i < 2 * n; i++) {
			if (e[i].kind < 0 && ++count > best)
				best = count;
			else if (e[i].kind > 0)
				count--;
		}
		need = best;
		count = 0;
	}
	sel->count = need;
	sel->found = false;
	if (!need)
		return;
	for (i = 0; i < 2 * n; i++) {
		if (e[i].kind < 0) {
			if (++count >= need && !sel->found) {
				sel->found = true;
				sel->result.lo = e[i].v;
			}
		} else {
			if (count >= need)
				sel->result.hi = e[i].v;
			count--;
		}
	}
}

#define STACK_SOURCES	64	/* larger sets sort on the heap */

static void select_need(const struct truth_clock_interval *iv, uint32_t n,
			uint32_t need, struct truth_clock_selection *sel)
{
	struct edge stack[2 * STACK_SOURCES], *e = stack;

	sel->found = false;
	sel->count = need;
	sel->result.lo = sel->result.hi = 0;
	if (!n || need > n)
		return;
	if (n > STACK_SOURCES) {
		e = malloc(2 * (size_t)n * sizeof(*e));
		if (!e)
			return;
	}
	n = edges(iv, n, e);
	if (need <= n)
		sweep(e, n, need, sel);
	if (e != stack)
		free(e);
}

void truth_clock_intersect(const struct truth_clock_interval *iv, uint32_t n,
			   uint32_t need, struct truth_clock_selection *sel)
{
	/* need 0 would mean "every point": not a meaningful question */
	select_need(iv, n, need ? need : 1, sel);
}

void truth_clock_marzullo(const struct truth_clock_interval *iv, uint32_t n,
			  struct truth_clock_selection *sel)
{
	select_need(iv, n, 0, sel);
}
