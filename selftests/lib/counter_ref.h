/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tests of agent/counter: an independent reference for the commit counter
 * and a generator of random call sequences, shared by the host test (user
 * path against the reference) and the VM test (kernel path, user path and
 * reference side by side).  Include "truth_rand.h" first.
 *
 * The reference is written from the API's documentation, not from the code:
 * the commit index is found by scanning every index from the highest match
 * index down, the errors follow include/uapi/linux/truth.h.
 */
#ifndef _TRUTH_SELFTEST_COUNTER_REF_H
#define _TRUTH_SELFTEST_COUNTER_REF_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "counter/counter.h"

#define CREF_NODES	10	/* node ids 1..CREF_NODES; some are not members */

struct cref {
	uint32_t self, n;
	uint32_t node[TRUTH_GROUP_MEMBERS_MAX];
	uint32_t weight[TRUTH_GROUP_MEMBERS_MAX];
	uint64_t match[TRUTH_GROUP_MEMBERS_MAX];
	uint64_t term, term_start, commit, reported;
	bool leader;
	uint64_t head;		/* the generator's idea of the log's last index */
};

static inline int cref_find(const struct cref *r, uint32_t node)
{
	uint32_t i;

	for (i = 0; i < r->n; i++)
		if (r->node[i] == node)
			return (int)i;
	return -1;
}

/* Brute force: the highest index a weighted majority has reached. */
static inline void cref_recommit(struct cref *r)
{
	uint64_t total = 0, top = 0, idx, sum;
	uint32_t i;

	for (i = 0; i < r->n; i++) {
		total += r->weight[i];
		if (r->match[i] > top)
			top = r->match[i];
	}
	for (idx = top; idx > r->commit; idx--) {
		sum = 0;
		for (i = 0; i < r->n; i++)
			if (r->match[i] >= idx)
				sum += r->weight[i];
		if (2 * sum > total) {
			/* only an index of the current term commits (§5.4.2) */
			if (idx >= r->term_start)
				r->commit = idx;
			return;
		}
	}
}

static inline int cref_check_members(uint32_t self, uint32_t n,
				     const struct truth_counter_member *m)
{
	uint64_t total = 0;
	bool has_self = false;
	uint32_t i, j;

	if (n == 0)
		return -EINVAL;
	if (n > TRUTH_GROUP_MEMBERS_MAX)
		return -E2BIG;
	for (i = 0; i < n; i++) {
		for (j = 0; j < i; j++)
			if (m[i].node == m[j].node)
				return -EINVAL;
		has_self |= m[i].node == self;
		total += m[i].weight;
	}
	return !has_self || !total ? -EINVAL : 0;
}

static inline void cref_init(struct cref *r, const struct truth_counter_cfg *cfg)
{
	uint32_t i;

	memset(r, 0, sizeof(*r));
	r->self = cfg->self;
	r->n = cfg->n_members;
	for (i = 0; i < r->n; i++) {
		r->node[i] = cfg->members[i].node;
		r->weight[i] = cfg->members[i].weight;
	}
	r->commit = r->reported = cfg->commit;
	r->head = cfg->commit;
}

static inline int cref_set_term(struct cref *r, uint64_t term, uint64_t start,
				bool leader)
{
	uint32_t i;

	if (term < r->term || (term == r->term && start < r->term_start))
		return -EINVAL;
	r->term = term;
	r->term_start = start;
	r->leader = leader;
	for (i = 0; i < r->n; i++)
		r->match[i] = 0;
	return 0;
}

static inline int cref_set_members(struct cref *r, uint32_t n,
				   const struct truth_counter_member *m)
{
	uint64_t match[TRUTH_GROUP_MEMBERS_MAX];
	uint32_t i;
	int k, ret;

	ret = cref_check_members(r->self, n, m);
	if (ret)
		return ret;
	for (i = 0; i < n; i++) {
		k = cref_find(r, m[i].node);
		match[i] = k < 0 ? 0 : r->match[k];
	}
	for (i = 0; i < n; i++) {
		r->node[i] = m[i].node;
		r->weight[i] = m[i].weight;
		r->match[i] = match[i];
	}
	r->n = n;
	cref_recommit(r);
	return 0;
}

static inline int cref_ack(struct cref *r, uint32_t node, uint64_t term,
			   uint64_t index)
{
	int k;

	if (!r->leader)
		return -EINVAL;
	if (term != r->term)
		return -ESTALE;
	k = cref_find(r, node);
	if (k < 0)
		return -ENOENT;
	if (index > r->match[k])
		r->match[k] = index;
	cref_recommit(r);
	return 0;
}

static inline int cref_match(const struct cref *r, uint32_t node, uint64_t *match)
{
	int k = cref_find(r, node);

	if (k < 0)
		return -ENOENT;
	*match = r->match[k];
	return 0;
}

/* What truth_counter_poll() must say: 1 and the new commit, or 0. */
static inline int cref_poll(struct cref *r, uint64_t *commit)
{
	if (r->commit <= r->reported)
		return 0;
	r->reported = r->commit;
	*commit = r->commit;
	return 1;
}

/* ------------------------------------------------------------ sequences */

enum cop_kind { COP_TERM, COP_ACK, COP_MEMBERS, COP_MATCH };

struct cop {
	enum cop_kind kind;
	uint32_t node;
	uint64_t term, index;		/* TERM: term and term_start */
	bool leader;
	uint32_t n;
	struct truth_counter_member m[TRUTH_GROUP_MEMBERS_MAX];
};

/* A random configuration: 1..7 members of ids 1..CREF_NODES, self among them. */
static inline void cop_random_cfg(struct truth_counter_cfg *cfg, uint32_t group)
{
	uint32_t i, n = 1 + (uint32_t)rnd_below(7), start = 1 + (uint32_t)rnd_below(4);

	memset(cfg, 0, sizeof(*cfg));
	cfg->group_id = group;
	cfg->n_members = n;
	for (i = 0; i < n; i++) {
		cfg->members[i].node = start + i;
		cfg->members[i].weight = rnd_below(5) ? 1 + (uint32_t)rnd_below(3) : 0;
	}
	cfg->members[rnd_below(n)].weight = 1 + (uint32_t)rnd_below(3);	/* total > 0 */
	cfg->self = cfg->members[rnd_below(n)].node;
	cfg->commit = rnd_below(3) ? 0 : rnd_below(20);
}

/*
 * The next call, drawn around the reference's state: mostly acks of the
 * current term near the log head, some of them late, stale or from
 * strangers; term changes (a few backwards), member changes (a few invalid)
 * and match queries.
 */
static inline void cop_random(struct cop *op, struct cref *r)
{
	uint64_t p = rnd_below(100);
	uint32_t i;
	int k;

	memset(op, 0, sizeof(*op));
	r->head += rnd_below(3);
	if (p < 8) {
		op->kind = COP_TERM;
		p = rnd_below(10);
		if (p < 7) {		/* a new term starting after the head */
			op->term = r->term + 1 + rnd_below(2);
			op->index = r->head + 1 - rnd_below(r->head ? 3 : 1);
			r->head = op->index;
		} else if (p < 9) {	/* same term: a role change */
			op->term = r->term;
			op->index = r->term_start + rnd_below(3);
			if (r->term_start && !rnd_below(4))
				op->index = r->term_start - 1;	/* refused */
		} else {		/* backwards: refused */
			op->term = r->term ? r->term - 1 : 0;
			op->index = r->head;
		}
		op->leader = rnd_below(5) != 0;
	} else if (p < 80) {
		op->kind = COP_ACK;
		k = rnd_below(10) ? (int)rnd_below(r->n) : -1;
		op->node = k >= 0 ? r->node[k] : 1 + (uint32_t)rnd_below(CREF_NODES);
		op->term = rnd_below(12) ? r->term : r->term + rnd_below(3) - 1;
		if (k >= 0 && rnd_below(4) && r->head >= r->match[k])
			op->index = r->match[k] + rnd_below(r->head - r->match[k] + 1);
		else
			op->index = rnd_below(r->head + 2);	/* late, or beyond */
	} else if (p < 85) {
		op->kind = COP_MEMBERS;
		op->n = rnd_below(30) ? 1 + (uint32_t)rnd_below(7) : 0;
		for (i = 0; i < op->n; i++) {
			op->m[i].node = 1 + (uint32_t)((rnd_below(CREF_NODES) + i) % CREF_NODES);
			op->m[i].weight = (uint32_t)rnd_below(4);
		}
		/* mostly valid: distinct ids, self in, some weight */
		if (op->n && rnd_below(8)) {
			uint32_t base = (uint32_t)rnd_below(CREF_NODES);

			for (i = 0; i < op->n; i++)
				op->m[i].node = 1 + (base + i) % CREF_NODES;
			op->m[rnd_below(op->n)].node = r->self;
			for (i = 0; i < op->n; i++)	/* self may have been a dup */
				if (op->m[i].node == r->self)
					break;
			op->m[i].weight = 1 + (uint32_t)rnd_below(3);
		}
	} else {
		op->kind = COP_MATCH;
		op->node = 1 + (uint32_t)rnd_below(CREF_NODES);
	}
}

/* Apply @op to the reference; *match for COP_MATCH. */
static inline int cop_ref(struct cref *r, const struct cop *op, uint64_t *match)
{
	switch (op->kind) {
	case COP_TERM:
		return cref_set_term(r, op->term, op->index, op->leader);
	case COP_ACK:
		return cref_ack(r, op->node, op->term, op->index);
	case COP_MEMBERS:
		return cref_set_members(r, op->n, op->m);
	case COP_MATCH:
		return cref_match(r, op->node, match);
	}
	return -EINVAL;
}

/* Apply @op to a counter; *match for COP_MATCH. */
static inline int cop_counter(struct truth_counter *c, const struct cop *op,
			      uint64_t *match)
{
	switch (op->kind) {
	case COP_TERM:
		return truth_counter_set_term(c, op->term, op->index, op->leader);
	case COP_ACK:
		return truth_counter_ack(c, op->node, op->term, op->index);
	case COP_MEMBERS:
		return truth_counter_set_members(c, op->n, op->m);
	case COP_MATCH:
		return truth_counter_match(c, op->node, match);
	}
	return -EINVAL;
}

static inline const char *cop_name(enum cop_kind k)
{
	static const char *const names[] = { "set_term", "ack", "set_members", "match" };

	return names[k];
}

/* One line describing @op, for failure messages. */
static inline void cop_print(const struct cop *op, char *buf, size_t len)
{
	uint32_t i;
	int n;

	n = snprintf(buf, len, "%s node %u term %llu index %llu leader %d", cop_name(op->kind),
		     op->node, (unsigned long long)op->term, (unsigned long long)op->index,
		     op->leader);
	if (op->kind != COP_MEMBERS)
		return;
	for (i = 0; i < op->n && n > 0 && (size_t)n < len; i++)
		n += snprintf(buf + n, len - n, " %u:%u", op->m[i].node, op->m[i].weight);
}

#endif /* _TRUTH_SELFTEST_COUNTER_REF_H */
