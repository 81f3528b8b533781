// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of agent/clock's uses of bounded time, under random clock
 * errors within the bounds (every interval contains true time, at random
 * places inside it):
 *
 *  - commit-wait: the wait is the smallest that makes earliest > ts; a
 *    write's timestamp lies inside its real-time span, and a write that
 *    starts after another is acknowledged gets a larger timestamp
 *    (external consistency), across two nodes with independent errors;
 *    without the wait (the control) that fails;
 *  - leases: a holder acting while latest < E and a grantor regranting
 *    once earliest > E never overlap; with intervals that miss true time
 *    (the control) they do;
 *  - drift-only leases: holder's local duration is safe at the worst rates;
 *  - HLC from latest: never behind true time, monotone.
 *
 * TRUTH_SEED=<n> replays a run.
 */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <truth/hlc.h>

#include "clock/clock.h"

#include "kselftest_harness.h"

#define US	1000LL
#define MS	1000000LL
#define SEC	1000000000LL

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static int64_t rnd_below(int64_t n)
{
	return n > 0 ? (int64_t)(rnd() % (uint64_t)n) : 0;
}

static int64_t rnd_sym(int64_t a)
{
	return rnd_below(2 * a + 1) - a;
}

static uint64_t seed_init(struct __test_metadata *_metadata)
{
	const char *s = getenv("TRUTH_SEED");
	uint64_t seed = s ? strtoull(s, NULL, 0) : (uint64_t)time(NULL);

	rng_state = seed ? seed : 1;
	ksft_print_msg("seed %llu\n", (unsigned long long)seed);
	return seed;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/*
 * A node: local clock lbase + tau + floor(tau drift / 1e9) (tau = true
 * time), and an estimate made at true time t_est that contains the true
 * offset, with random errors below and above it.
 */
struct node {
	int64_t lbase;			/* local reading at true time 0 */
	int64_t drift;			/* ppb, within the estimate's bound */
	struct truth_clock_estimate e;
};

static int64_t local_at(const struct node *n, int64_t t)
{
	return n->lbase + t + floor_div(t * n->drift, SEC);
}

/* true time of local reading l: the smallest t with local_at(t) >= l */
static int64_t true_at(const struct node *n, int64_t l)
{
	int64_t t = (int64_t)((long double)(l - n->lbase) /
			      (1 + n->drift / 1e9L));

	while (local_at(n, t - 1) >= l)
		t--;
	while (local_at(n, t) < l)
		t++;
	return t;
}

static void node_init(struct node *n, int64_t t_est)
{
	int64_t l, o;

	n->e.max_drift_ppb = (uint32_t)rnd_below(500001);
	n->drift = rnd_sym(n->e.max_drift_ppb);
	n->lbase = rnd_sym(1000 * SEC);
	l = local_at(n, t_est);
	o = t_est - l;			/* true - local at the estimate */
	n->e.as_of = l;
	n->e.offset.lo = o - rnd_below(rnd() & 1 ? 100 * US : 5 * MS);
	n->e.offset.hi = o + rnd_below(rnd() & 1 ? 100 * US : 5 * MS);
	n->e.status = TRUTH_CLOCK_SYNCHRONISED;
	n->e.fresh = l;
	n->e.sync_timeout = 8 * SEC;
}

static void node_now(const struct node *n, int64_t t, struct truth_clock_now *out)
{
	truth_clock_estimate_now(&n->e, local_at(n, t), out);
}

TEST(commit_wait_is_minimal)
{
	unsigned long i;

	seed_init(_metadata);
	for (i = 0; i < 100000; i++) {
		struct node n;
		struct truth_clock_now a, b;
		int64_t t = rnd_below(1000 * SEC), l, ts, w;

		node_init(&n, rnd_below(1000 * SEC));
		l = local_at(&n, t);
		node_now(&n, t, &a);
		ts = a.latest + rnd_sym(10 * MS);
		w = truth_clock_commit_wait(&n.e, l, ts);
		ASSERT_GE(w, 0);
		truth_clock_estimate_now(&n.e, l + w, &b);
		ASSERT_GT(b.earliest, ts) TH_LOG("case %lu", i);
		ASSERT_EQ(w > 0, !truth_clock_after(&a, ts));
		if (w > 0) {
			truth_clock_estimate_now(&n.e, l + w - 1, &b);
			ASSERT_LE(b.earliest, ts) TH_LOG("case %lu not minimal", i);
		}
	}
	{
		struct truth_clock_estimate u = { .status = TRUTH_CLOCK_UNKNOWN };

		EXPECT_EQ(-1, truth_clock_commit_wait(&u, 0, 0));
	}
}

/*
 * Two nodes with independent errors; write 1 on A, write 2 on B starting
 * after write 1 is acknowledged.  With commit-wait ts1 < ts2 always and
 * each ts inside its write's span; acknowledging at once (the control)
 * breaks the order.
 */
TEST(commit_wait_external_consistency)
{
	unsigned long i, n = 100000, violations_wait = 0, violations_nowait = 0;
	unsigned long waited = 0;

	seed_init(_metadata);
	for (i = 0; i < n; i++) {
		struct node a, b;
		struct truth_clock_now r1, r2;
		int64_t t_s1 = rnd_below(100 * SEC), t_r1, ts1, w, t_a1;
		int64_t t_s2, ts2, t_s2_nowait, ts2_nowait;

		node_init(&a, t_s1 - rnd_below(10 * SEC));
		node_init(&b, t_s1 - rnd_below(10 * SEC));
		t_r1 = t_s1 + rnd_below(100 * US);
		node_now(&a, t_r1, &r1);
		ts1 = truth_clock_commit_ts(&r1);
		ASSERT_GE(ts1, t_s1);
		w = truth_clock_commit_wait(&a.e, local_at(&a, t_r1), ts1);
		ASSERT_GE(w, 0);
		waited += w > 0;
		t_a1 = true_at(&a, local_at(&a, t_r1) + w);
		ASSERT_GT(t_a1, ts1) TH_LOG("case %lu: acked before its ts", i);

		/* write 2 starts on B after the ack (real-time order) */
		t_s2 = t_a1 + rnd_below(50 * US);
		node_now(&b, t_s2, &r2);
		ts2 = truth_clock_commit_ts(&r2);
		violations_wait += ts2 <= ts1;

		/* control: ack at once, write 2 right after */
		t_s2_nowait = t_r1 + rnd_below(50 * US);
		node_now(&b, t_s2_nowait, &r2);
		ts2_nowait = truth_clock_commit_ts(&r2);
		violations_nowait += ts2_nowait <= ts1;
	}
	ksft_print_msg("%lu write pairs: %lu waited, order violations %lu with commit-wait, %lu without\n",
		       n, waited, violations_wait, violations_nowait);
	EXPECT_EQ(0, violations_wait);
	EXPECT_GT(violations_nowait, 0);
	EXPECT_GT(waited, n / 2);
}

/*
 * Leases on bounded clocks.  Grant at true t_g, expiry E; the holder and
 * the grantor read at random true times with random errors inside their
 * bounds.  Holder "held" implies t < E; grantor "expired" implies t > E.
 */
TEST(lease_never_two_holders)
{
	unsigned long i, n = 200000, held = 0, expired = 0, bad = 0;
	unsigned long ctl_bad = 0;

	seed_init(_metadata);
	for (i = 0; i < n; i++) {
		int64_t t_g = rnd_below(100 * SEC), d = 1 + rnd_below(10 * SEC);
		int64_t eg = rnd_below(5 * MS), eh = rnd_below(5 * MS);
		int64_t ex = rnd_below(5 * MS);
		struct truth_clock_now g, h, x;
		int64_t e_exp, t_h, t_x, p;

		/* an interval of half-width e around t, t anywhere inside */
		p = rnd_sym(eg);
		g.earliest = t_g + p - eg;
		g.latest = t_g + p + eg;
		g.status = TRUTH_CLOCK_SYNCHRONISED;
		e_exp = truth_clock_lease_expiry(&g, d);
		ASSERT_LE(e_exp - t_g, d);	/* never longer than granted */

		/* half the reads anywhere in the lease, half near its end */
		t_h = i % 2 ? t_g + rnd_below(d + 20 * MS) :
			      e_exp + rnd_sym(10 * MS);
		p = rnd_sym(eh);
		h.earliest = t_h + p - eh;
		h.latest = t_h + p + eh;
		h.status = TRUTH_CLOCK_SYNCHRONISED;
		t_x = i % 2 ? t_g + rnd_below(d + 20 * MS) :
			      e_exp + rnd_sym(10 * MS);
		p = rnd_sym(ex);
		x.earliest = t_x + p - ex;
		x.latest = t_x + p + ex;
		x.status = TRUTH_CLOCK_SYNCHRONISED;

		if (truth_clock_lease_held(&h, e_exp)) {
			held++;
			bad += t_h >= e_exp;
		}
		if (truth_clock_lease_expired(&x, e_exp)) {
			expired++;
			bad += t_x <= e_exp;
			/* holder acting and regrant in the wrong order */
			bad += truth_clock_lease_held(&h, e_exp) && t_h >= t_x;
		}
		/* control: a holder whose interval misses true time by 2 eh */
		h.earliest -= 2 * eh + 1;
		h.latest -= 2 * eh + 1;
		if (truth_clock_lease_held(&h, e_exp) &&
		    truth_clock_lease_expired(&x, e_exp) && t_h > t_x)
			ctl_bad++;
	}
	ksft_print_msg("%lu leases: %lu holder reads held, %lu grantor reads expired, %lu overlaps; control %lu overlaps\n",
		       n, held, expired, bad, ctl_bad);
	EXPECT_EQ(0, bad);
	EXPECT_GT(held, n / 4);
	EXPECT_GT(expired, n / 10);
	EXPECT_GT(ctl_bad, 100);
}

/*
 * Drift-only leases: at the worst rates (holder slow, grantor fast,
 * request received the instant it was sent) the holder's local duration
 * still ends before the grantor's promise; and it is not vacuous.
 */
TEST(lease_local_duration)
{
	unsigned long i;

	seed_init(_metadata);
	EXPECT_EQ(0, truth_clock_lease_local_duration(0, 200000));
	EXPECT_EQ(0, truth_clock_lease_local_duration(-5, 200000));
	for (i = 0; i < 100000; i++) {
		uint32_t phi = (uint32_t)rnd_below(1000001);
		int64_t d = 1 + rnd_below(i % 2 ? 100 * SEC : 10 * MS);
		int64_t h = truth_clock_lease_local_duration(d, phi);
		long double f = phi / 1e9L;
		long double rh = rnd() & 1 ? -f : (long double)rnd_sym(phi) / 1e9L;
		long double rg = rnd() & 1 ? f : (long double)rnd_sym(phi) / 1e9L;
		long double s = (long double)rnd_below(SEC);
		long double r = s + (rnd() & 1 ? 0 : (long double)rnd_below(MS));
		/* true time each clock takes to count its duration */
		long double holder_end = s + h / (1 + rh);
		long double promise_end = r + d / (1 + rg);

		ASSERT_TRUE(holder_end < promise_end)
			TH_LOG("d %lld phi %u h %lld", (long long)d, phi,
			       (long long)h);
		ASSERT_GE((long double)h, d * (1 - 2 * f) - 3);
	}
}

TEST(hlc_never_behind_true_time)
{
	unsigned long i;
	uint64_t hlc = 0, prev = 0;
	int64_t t = 1764115200LL * SEC;

	seed_init(_metadata);
	for (i = 0; i < 200000; i++) {
		struct truth_clock_now n;
		int64_t e = rnd_below(i % 3 ? 50 * US : 5 * MS), p = rnd_sym(e);
		uint64_t pt, h;

		t += rnd_below(i % 5 ? 1000 : 100 * US);
		n.earliest = t + p - e;
		n.latest = t + p + e;
		n.status = TRUTH_CLOCK_SYNCHRONISED;
		pt = truth_clock_hlc_pt(&n);
		ASSERT_EQ(0, pt & TRUTH_HLC_LOGICAL_MASK);
		ASSERT_GE(pt, (uint64_t)n.latest);
		ASSERT_LT(pt - (uint64_t)n.latest, 1ULL << TRUTH_HLC_LOGICAL_BITS);
		h = truth_clock_hlc_now(&hlc, &n);
		ASSERT_EQ(h, hlc);
		ASSERT_GT(h, prev);
		ASSERT_GE(truth_hlc_physical(h), (uint64_t)t)
			TH_LOG("HLC behind true time at %lu", i);
		prev = h;
	}
	{
		struct truth_clock_now n = { .earliest = -10, .latest = -5 };

		EXPECT_EQ(0, truth_clock_hlc_pt(&n));
	}
}

TEST_HARNESS_MAIN
