// SPDX-License-Identifier: GPL-2.0
/*
 * Host property tests of the clocks in include/truth/ over many random
 * cases:
 *
 *  - vector clock merge is commutative, associative and idempotent, and
 *    merge/compare/tick agree with a dense-array reference;
 *  - in simulated message-passing runs, vector-clock compare is exactly
 *    happened-before (computed independently from the event graph), which is
 *    a strict partial order (irreflexive, asymmetric, transitive);
 *  - Lamport and HLC satisfy the clock condition (e -> f implies C(e) <
 *    C(f)) and are monotone per node; the HLC stays within the configured
 *    maximum offset of physical time and refuses remote stamps beyond it.
 *
 * TRUTH_SEED=<n> replays a run; TRUTH_SEEDS=<n> scales the number of cases.
 * The seed is printed.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/truth.h>
#include <truth/hlc.h>
#include <truth/lamport.h>
#include <truth/vclock.h>

/* The pure headers' limits are the UAPI's. */
_Static_assert(TRUTH_VCLOCK_ENTRIES == TRUTH_VCLOCK_MAX, "vector clock size differs from the UAPI");
_Static_assert(TRUTH_VCLOCK_MAX >= 32, "the issue asks for at least 32 members");
_Static_assert(TRUTH_LAMPORT_MAX == 0x7fffffffffffffffULL, "Lamport bound differs from the policy");

#include "kselftest_harness.h"

#include "truth_rand.h"

/* ---------------------------------------------------------- vector clocks */

#define NODE_SPACE 96	/* node ids drawn from 0..NODE_SPACE-1 */

/* Dense reference: counter per node id. */
struct dense {
	__u64 c[NODE_SPACE];
};

static void random_vclock(struct truth_vclock *v, unsigned int max_n)
{
	unsigned int node;

	truth_vclock_init(v);
	for (node = 0; node < NODE_SPACE && v->n < max_n; node++) {
		if (rnd_below(NODE_SPACE) >= max_n)
			continue;
		v->e[v->n].node = node;
		v->e[v->n].pad = 0;
		v->e[v->n].counter = 1 + rnd_below(4);
		v->n++;
	}
}

static void to_dense(const struct truth_vclock *v, struct dense *d)
{
	__u32 i;

	memset(d, 0, sizeof(*d));
	for (i = 0; i < v->n; i++)
		d->c[v->e[i].node] = v->e[i].counter;
}

static enum truth_vclock_order dense_compare(const struct dense *a,
					     const struct dense *b)
{
	int lt = 0, gt = 0, i;

	for (i = 0; i < NODE_SPACE; i++) {
		lt |= a->c[i] < b->c[i];
		gt |= a->c[i] > b->c[i];
	}
	return lt && gt ? TRUTH_VCLOCK_CONCURRENT : lt ? TRUTH_VCLOCK_BEFORE :
	       gt ? TRUTH_VCLOCK_AFTER : TRUTH_VCLOCK_EQUAL;
}

static int vclock_same(const struct truth_vclock *a, const struct truth_vclock *b)
{
	return a->n == b->n && !memcmp(a->e, b->e, a->n * sizeof(a->e[0]));
}

TEST(vclock_merge_commutative_associative_idempotent)
{
	static struct truth_vclock a, b, c, ab, ba, ab_c, bc, a_bc, aa;
	unsigned long i, n = cases(100000);
	uint64_t seed = seed_init();
	struct dense da, db, dm;
	int k;

	TH_LOG("seed %llu, %lu cases", (unsigned long long)seed, n);
	for (i = 0; i < n; i++) {
		/* mostly small clocks so that merges fit; sometimes near full */
		unsigned int max_n = (i % 10 == 0) ? 64 : 1 + rnd_below(21);

		random_vclock(&a, max_n);
		random_vclock(&b, max_n);
		random_vclock(&c, max_n);
		ASSERT_TRUE(truth_vclock_valid(&a));

		ab = a;
		ba = b;
		if (truth_vclock_merge(&ab, &b)) {
			/* does not fit: refused and unchanged, both ways */
			ASSERT_GT(truth_vclock_union_size(&a, &b), TRUTH_VCLOCK_ENTRIES);
			ASSERT_TRUE(vclock_same(&ab, &a));
			ASSERT_NE(0, truth_vclock_merge(&ba, &a));
			continue;
		}
		ASSERT_EQ(0, truth_vclock_merge(&ba, &a));
		ASSERT_TRUE(vclock_same(&ab, &ba));		/* commutative */
		ASSERT_TRUE(truth_vclock_valid(&ab));

		to_dense(&a, &da);
		to_dense(&b, &db);
		to_dense(&ab, &dm);
		for (k = 0; k < NODE_SPACE; k++)
			ASSERT_EQ(da.c[k] > db.c[k] ? da.c[k] : db.c[k], dm.c[k]);
		ASSERT_EQ(dense_compare(&da, &db), truth_vclock_compare(&a, &b));

		ab_c = ab;
		bc = b;
		if (truth_vclock_merge(&ab_c, &c) == 0 &&
		    truth_vclock_merge(&bc, &c) == 0) {
			a_bc = a;
			ASSERT_EQ(0, truth_vclock_merge(&a_bc, &bc));
			ASSERT_TRUE(vclock_same(&ab_c, &a_bc));	/* associative */
		}

		aa = a;
		ASSERT_EQ(0, truth_vclock_merge(&aa, &a));
		ASSERT_TRUE(vclock_same(&aa, &a));		/* idempotent */
		ASSERT_EQ(TRUTH_VCLOCK_EQUAL, truth_vclock_compare(&a, &a));

		/* the merge is an upper bound of both */
		ASSERT_NE(TRUTH_VCLOCK_AFTER, truth_vclock_compare(&a, &ab));
		ASSERT_NE(TRUTH_VCLOCK_CONCURRENT, truth_vclock_compare(&a, &ab));
	}
}

TEST(vclock_tick_matches_reference_and_fills_up)
{
	static struct truth_vclock v;
	struct dense d, r;
	unsigned int i, node;

	seed_init();
	truth_vclock_init(&v);
	memset(&r, 0, sizeof(r));
	for (i = 0; i < 5000; i++) {
		node = rnd_below(NODE_SPACE);
		if (truth_vclock_tick(&v, node)) {
			/* full: only a node without an entry can be refused */
			ASSERT_EQ(TRUTH_VCLOCK_ENTRIES, v.n);
			ASSERT_EQ(0, truth_vclock_get(&v, node));
			continue;
		}
		r.c[node]++;
		ASSERT_TRUE(truth_vclock_valid(&v));
		to_dense(&v, &d);
		ASSERT_EQ(0, memcmp(&d, &r, sizeof(d)));
	}
	ASSERT_EQ(TRUTH_VCLOCK_ENTRIES, v.n);
}

TEST(vclock_valid_rejects_malformed)
{
	static struct truth_vclock v;

	truth_vclock_init(&v);
	v.n = 2;
	v.e[0].node = 5;
	v.e[0].counter = 1;
	v.e[1].node = 5;
	v.e[1].counter = 1;
	ASSERT_FALSE(truth_vclock_valid(&v));	/* duplicate */
	v.e[1].node = 4;
	ASSERT_FALSE(truth_vclock_valid(&v));	/* unsorted */
	v.e[1].node = 6;
	ASSERT_TRUE(truth_vclock_valid(&v));
	v.e[1].counter = 0;
	ASSERT_FALSE(truth_vclock_valid(&v));	/* zero counter */
	v.n = TRUTH_VCLOCK_ENTRIES + 1;
	ASSERT_FALSE(truth_vclock_valid(&v));	/* too long */
}

/* -------------------------------------------- simulated message passing */

#define SIM_NODES	6
#define SIM_EVENTS	240
#define HB_WORDS	((SIM_EVENTS + 63) / 64)

struct sim_event {
	unsigned int node;
	__u64 lamport;
	__u64 hlc;
	__u64 pt;
	struct truth_vclock vc;
	uint64_t hb[HB_WORDS];	/* bit j: event j happened before this one */
};

struct sim_msg {
	unsigned int event;	/* the send event */
	unsigned int to;
	__u64 arrive;		/* true time of arrival */
};

struct sim {
	struct sim_event ev[SIM_EVENTS];
	unsigned int n_ev;
	unsigned int last[SIM_NODES];	/* last event per node, or ~0 */
	__u64 lamport[SIM_NODES];
	__u64 hlc[SIM_NODES];
	struct truth_vclock vc[SIM_NODES];
	__s64 offset[SIM_NODES];	/* node's physical clock - true time */
	struct sim_msg msgs[SIM_EVENTS];
	unsigned int n_msgs;
	__u64 now;			/* true time, ns */
	__u64 max_offset;		/* HLC bound (eps) */
	unsigned long refused;		/* receives refused by the HLC bound */
};

static int hb_test(const uint64_t *hb, unsigned int j)
{
	return (hb[j / 64] >> (j % 64)) & 1;
}

/* Record an event of @node; @from is the send event it receives, or ~0. */
static struct sim_event *sim_event(struct sim *s, unsigned int node,
				   unsigned int from)
{
	struct sim_event *e = &s->ev[s->n_ev];
	unsigned int prev = s->last[node], w;

	memset(e->hb, 0, sizeof(e->hb));
	if (prev != ~0U) {
		for (w = 0; w < HB_WORDS; w++)
			e->hb[w] |= s->ev[prev].hb[w];
		e->hb[prev / 64] |= 1ULL << (prev % 64);
	}
	if (from != ~0U) {
		for (w = 0; w < HB_WORDS; w++)
			e->hb[w] |= s->ev[from].hb[w];
		e->hb[from / 64] |= 1ULL << (from % 64);
	}
	e->node = node;
	s->last[node] = s->n_ev;
	return e;
}

static __u64 sim_pt(const struct sim *s, unsigned int node)
{
	return (__u64)((__s64)s->now + s->offset[node]);
}

static void sim_run(struct sim *s, struct __test_metadata *_metadata)
{
	unsigned int i;

	memset(s, 0, sizeof(*s));
	s->max_offset = 1000000 + rnd_below(100000000);	/* 1..101 ms */
	s->now = 1700000000000000000ULL;
	for (i = 0; i < SIM_NODES; i++) {
		s->last[i] = ~0U;
		truth_vclock_init(&s->vc[i]);
		/* clocks within max_offset / 2 of true time: pairs within eps */
		s->offset[i] = (__s64)rnd_below(s->max_offset) - (__s64)(s->max_offset / 2);
		/* sometimes one node is far ahead: its stamps must be refused */
		if (rnd_below(8) == 0 && i == 0)
			s->offset[i] += 3 * s->max_offset;
	}

	while (s->n_ev < SIM_EVENTS) {
		unsigned int node = rnd_below(SIM_NODES), m;
		__u64 prev_l, prev_h, pt;
		struct sim_event *e;

		s->now += rnd_below(200000);	/* up to 200 us */
		pt = sim_pt(s, node);
		prev_l = s->lamport[node];
		prev_h = s->hlc[node];

		/* deliver a message that has arrived for this node, if any */
		for (m = 0; m < s->n_msgs; m++)
			if (s->msgs[m].to == node && s->msgs[m].arrive <= s->now)
				break;
		if (m < s->n_msgs && rnd_below(2)) {
			const struct sim_event *snd = &s->ev[s->msgs[m].event];
			__u64 h = s->hlc[node];

			s->msgs[m] = s->msgs[--s->n_msgs];
			if (truth_hlc_recv(&h, snd->hlc, pt, s->max_offset)) {
				/* refused: unchanged, and really too far ahead */
				ASSERT_EQ(prev_h, s->hlc[node]);
				ASSERT_GT(truth_hlc_physical(snd->hlc), pt + s->max_offset);
				s->refused++;
				continue;	/* dropped: no event */
			}
			e = sim_event(s, node, (unsigned int)(snd - s->ev));
			s->hlc[node] = h;
			truth_lamport_recv(&s->lamport[node], snd->lamport);
			ASSERT_EQ(0, truth_vclock_merge(&s->vc[node], &snd->vc));
		} else {
			e = sim_event(s, node, ~0U);
			truth_hlc_now(&s->hlc[node], pt);
			truth_lamport_tick(&s->lamport[node]);
			if (rnd_below(2) && s->n_msgs < SIM_EVENTS) {
				/* a send: to some other node, with a delay */
				s->msgs[s->n_msgs].event = s->n_ev;
				s->msgs[s->n_msgs].to = (node + 1 + rnd_below(SIM_NODES - 1)) % SIM_NODES;
				s->msgs[s->n_msgs].arrive = s->now + rnd_below(2000000);
				s->n_msgs++;
			}
		}
		ASSERT_EQ(0, truth_vclock_tick(&s->vc[node], node));
		e->lamport = s->lamport[node];
		e->hlc = s->hlc[node];
		e->pt = pt;
		e->vc = s->vc[node];
		s->n_ev++;

		/* monotone per node */
		ASSERT_GT(e->lamport, prev_l);
		ASSERT_GT(e->hlc, prev_h);
		/*
		 * bounded: l never runs ahead of this node's physical time by
		 * more than eps (plus one 64 us tick the counter may carry)
		 */
		if (truth_hlc_physical(e->hlc) > pt)
			ASSERT_LE(truth_hlc_physical(e->hlc) - pt,
				  s->max_offset + TRUTH_HLC_LOGICAL_MASK + 1);
		/* and never behind it */
		ASSERT_GE(e->hlc, truth_hlc_physical(pt));
	}
}

TEST(happened_before_is_vclock_order_and_a_strict_partial_order)
{
	static struct sim s;
	unsigned long r, runs = cases(100000) / 2000 + 5;
	uint64_t seed = seed_init();
	unsigned long pairs = 0, before = 0, refused = 0;

	TH_LOG("seed %llu, %lu simulated runs of %d events", (unsigned long long)seed,
	       runs, SIM_EVENTS);
	for (r = 0; r < runs; r++) {
		unsigned int i, j, k;

		sim_run(&s, _metadata);
		refused += s.refused;
		for (i = 0; i < s.n_ev; i++) {
			const struct sim_event *a = &s.ev[i];

			/* irreflexive */
			ASSERT_EQ(TRUTH_VCLOCK_EQUAL, truth_vclock_compare(&a->vc, &a->vc));
			ASSERT_FALSE(hb_test(a->hb, i));
			for (j = 0; j < s.n_ev; j++) {
				const struct sim_event *b = &s.ev[j];
				enum truth_vclock_order o = truth_vclock_compare(&a->vc, &b->vc);
				int a_hb_b = hb_test(b->hb, i);

				if (i == j)
					continue;
				pairs++;
				/* vector clocks characterise happened-before */
				ASSERT_EQ(a_hb_b, o == TRUTH_VCLOCK_BEFORE);
				ASSERT_EQ(hb_test(a->hb, j), o == TRUTH_VCLOCK_AFTER);
				/* distinct events never have equal clocks */
				ASSERT_NE(TRUTH_VCLOCK_EQUAL, o);
				/* asymmetric */
				if (o == TRUTH_VCLOCK_BEFORE)
					ASSERT_EQ(TRUTH_VCLOCK_AFTER,
						  truth_vclock_compare(&b->vc, &a->vc));
				/* the clock condition for Lamport and HLC */
				if (a_hb_b) {
					before++;
					ASSERT_LT(a->lamport, b->lamport);
					ASSERT_LT(a->hlc, b->hlc);
				}
			}
		}
		/* transitive, on a sample of triples */
		for (k = 0; k < 20000; k++) {
			const struct sim_event *a = &s.ev[rnd_below(s.n_ev)];
			const struct sim_event *b = &s.ev[rnd_below(s.n_ev)];
			const struct sim_event *c = &s.ev[rnd_below(s.n_ev)];

			if (truth_vclock_compare(&a->vc, &b->vc) == TRUTH_VCLOCK_BEFORE &&
			    truth_vclock_compare(&b->vc, &c->vc) == TRUTH_VCLOCK_BEFORE)
				ASSERT_EQ(TRUTH_VCLOCK_BEFORE,
					  truth_vclock_compare(&a->vc, &c->vc));
		}
	}
	TH_LOG("%lu ordered pairs checked, %lu happened-before, %lu receives refused by the HLC bound",
	       pairs, before, refused);
	ASSERT_GT(before, 0);
}

/* ---------------------------------------------------------- HLC, Lamport */

TEST(hlc_recv_refuses_beyond_max_offset_and_changes_nothing)
{
	__u64 pt = 5000000000ULL, eps = 1000000, h = truth_hlc_physical(pt) + 7;
	__u64 before = h;

	/* exactly at the bound is fine, one tick beyond is not */
	ASSERT_EQ(-1, truth_hlc_recv(&h, truth_hlc_physical(pt + eps + 0x20000), pt, eps));
	ASSERT_EQ(before, h);
	ASSERT_EQ(0, truth_hlc_recv(&h, truth_hlc_physical(pt + eps), pt, eps));
	ASSERT_EQ(truth_hlc_physical(pt + eps) + 1, h);
	/* a remote behind us: logical +1 on our own */
	ASSERT_EQ(0, truth_hlc_recv(&h, 12345, pt, eps));
	ASSERT_EQ(truth_hlc_physical(pt + eps) + 2, h);
}

TEST(hlc_now_monotone_even_when_physical_time_goes_back)
{
	__u64 h = 0, prev = 0, pt = 1ULL << 40;
	unsigned long i;

	seed_init();
	for (i = 0; i < 1000000; i++) {
		/* time jumps forward, stalls, and sometimes steps back */
		switch (rnd_below(4)) {
		case 0:
			pt += rnd_below(1000000);
			break;
		case 1:
			pt -= rnd_below(100000);
			break;
		default:
			break;
		}
		truth_hlc_now(&h, pt);
		ASSERT_GT(h, prev);
		ASSERT_GE(h, truth_hlc_physical(pt));
		prev = h;
	}
}

TEST(hlc_logical_counter_carries_instead_of_wrapping)
{
	__u64 pt = 0x123450000ULL, h = 0;
	unsigned int i;

	for (i = 0; i < 70000; i++)
		truth_hlc_now(&h, pt);
	/* 70000 events in one tick: 65536 fit, the rest carried into l */
	ASSERT_EQ(truth_hlc_physical(pt) + 69999, h);
	ASSERT_GT(truth_hlc_physical(h), truth_hlc_physical(pt));
}

TEST(lamport_saturates_instead_of_wrapping)
{
	__u64 l = 5;

	ASSERT_EQ(6, truth_lamport_tick(&l));
	ASSERT_EQ(101, truth_lamport_recv(&l, 100));
	ASSERT_EQ(102, truth_lamport_recv(&l, 3));
	l = ~0ULL - 1;
	ASSERT_EQ(~0ULL, truth_lamport_tick(&l));
	ASSERT_EQ(~0ULL, truth_lamport_tick(&l));
	ASSERT_EQ(~0ULL, truth_lamport_recv(&l, 7));
}

TEST_HARNESS_MAIN
