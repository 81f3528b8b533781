// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of agent/clock's single-exchange maths and per-peer filter:
 *
 *  - theta, delta and the interval edges on hand-computed exchanges;
 *  - the asymmetry proof (clock_sample.c) checked numerically: over random
 *    one-way delays (including fully one-sided paths), offsets, drifts up
 *    to the bound and read errors up to the claimed precision, the interval
 *    always contains true - local, and with no errors the identity
 *    |theta - o| = delta/2 - min(d1, d2) holds exactly;
 *  - impossible exchanges are refused; growth() against a long double
 *    reference, monotone, at most 1 ns per ns, no overflow;
 *  - filter: delay outliers, flush on contradiction, peer bookkeeping,
 *    status transitions UNKNOWN -> SYNCHRONISED -> FREE_RUNNING.
 *
 * TRUTH_SEED=<n> replays a run.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "clock/clock.h"

#include "kselftest_harness.h"

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static uint64_t rnd_below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

/* uniform in [-a, a] */
static int64_t rnd_sym(int64_t a)
{
	return (int64_t)rnd_below(2 * (uint64_t)a + 1) - a;
}

static uint64_t seed_init(void)
{
	const char *s = getenv("TRUTH_SEED");
	uint64_t seed = s ? strtoull(s, NULL, 0) : (uint64_t)time(NULL);

	rng_state = seed ? seed : 1;
	return seed;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

TEST(exchange_by_hand)
{
	/* peer 900 ns ahead, 100 ns out, 20 ns back, 20 ns in the peer */
	struct truth_clock_exchange x = {
		.t1 = 1000, .t2 = 2000, .t3 = 2020, .t4 = 1140,
	};
	struct truth_clock_sample s;
	struct truth_clock_interval iv;

	ASSERT_EQ(0, truth_clock_sample_from_exchange(&x, 0, &s));
	EXPECT_EQ(120, s.delay);		/* (1140-1000) - (2020-2000) */
	EXPECT_EQ(940, s.offset);		/* ((1000) + (880)) / 2 */
	EXPECT_EQ(880, s.lo);			/* t3 - t4 */
	EXPECT_EQ(1000, s.hi);			/* t2 - t1 */
	/* no drift: only the 1 ns of integer readings is added */
	EXPECT_EQ(1, s.dispersion);
	truth_clock_sample_interval(&s, s.as_of, 0, &iv);
	EXPECT_EQ(878, iv.lo);
	EXPECT_EQ(1002, iv.hi);
	/* with no drift it does not widen with age */
	truth_clock_sample_interval(&s, s.as_of + TRUTH_CLOCK_NSEC, 0, &iv);
	EXPECT_EQ(878, iv.lo);
	EXPECT_EQ(1002, iv.hi);
	/* dispersion at 200 ppm over 140 ns: ceil(0.028) + 1 = 2 */
	ASSERT_EQ(0, truth_clock_sample_from_exchange(&x, 200000, &s));
	EXPECT_EQ(2, s.dispersion);
	truth_clock_sample_interval(&s, s.as_of + TRUTH_CLOCK_NSEC,
				    200000, &iv);
	EXPECT_EQ(880 - 2 - 200042, iv.lo);
	EXPECT_EQ(1000 + 2 + 200042, iv.hi);

	/* precisions and peer error widen it by their sum */
	x.local_precision = 10;
	x.peer_precision = 20;
	x.peer_error = 300;
	ASSERT_EQ(0, truth_clock_sample_from_exchange(&x, 0, &s));
	EXPECT_EQ(10 + 20 + 1, s.dispersion);
	truth_clock_sample_interval(&s, s.as_of, 0, &iv);
	/* aging from t4 adds growth(0 + rl) = 10 * 0 + 1 */
	EXPECT_EQ(880 - 31 - 300 - 1, iv.lo);
	EXPECT_EQ(1000 + 31 + 300 + 1, iv.hi);
}

TEST(exchange_refused)
{
	struct truth_clock_exchange x = {
		.t1 = 1000, .t2 = 2000, .t3 = 2020, .t4 = 1140,
	};
	struct truth_clock_sample s;

	x.t4 = 999;
	EXPECT_EQ(TRUTH_CLOCK_EINVAL, truth_clock_sample_from_exchange(&x, 0, &s));
	x.t4 = 1140;
	x.t3 = 1999;
	EXPECT_EQ(TRUTH_CLOCK_EINVAL, truth_clock_sample_from_exchange(&x, 0, &s));
	/* peer held it 500 ns but we saw only 140: delay -360 */
	x.t3 = 2500;
	EXPECT_EQ(TRUTH_CLOCK_EINVAL, truth_clock_sample_from_exchange(&x, 0, &s));
	/* ...unless the claimed precisions allow it */
	x.local_precision = 100;
	x.peer_precision = 100;
	EXPECT_EQ(0, truth_clock_sample_from_exchange(&x, 0, &s));
	EXPECT_EQ(-360, s.delay);
	x.t1 = INT64_MIN;
	EXPECT_EQ(TRUTH_CLOCK_EINVAL, truth_clock_sample_from_exchange(&x, 0, &s));
	x.t1 = 1000;
	EXPECT_EQ(TRUTH_CLOCK_EINVAL,
		  truth_clock_sample_from_exchange(&x, TRUTH_CLOCKBOUND_MAX_DRIFT_PPB + 1,
						   &s));
}

/* local clock of the proof test: base + tau + floor(tau * drift / 1e9) */
static int64_t lclock(int64_t base, int64_t drift_ppb, int64_t t)
{
	return base + t + floor_div(t * drift_ppb, TRUTH_CLOCK_NSEC);
}

TEST(interval_holds_whatever_the_asymmetry)
{
	uint64_t seed = seed_init();
	unsigned long i, n = 200000, edge = 0;

	ksft_print_msg("seed %llu\n", (unsigned long long)seed);
	for (i = 0; i < n; i++) {
		uint32_t phi = (uint32_t)rnd_below(500001);	/* up to 500 ppm */
		int64_t drift = phi ? rnd_sym(phi) : 0;
		int64_t base = rnd_sym((int64_t)1 << 40);
		int64_t rl = (int64_t)rnd_below(2000), rp = (int64_t)rnd_below(2000);
		int64_t e = (int64_t)rnd_below(100000);
		int64_t pb2 = rnd_sym(e), pb3 = rnd_sym(e);	/* peer's own error */
		/* one-way delays: sometimes fully one-sided, up to 50 ms */
		int64_t d1 = i % 5 == 0 ? 0 : (int64_t)rnd_below(50000000);
		int64_t d2 = i % 5 == 1 ? 0 : (int64_t)rnd_below(50000000);
		/* the peer's clock does not run backwards: T3 >= T2 */
		int64_t hold = (int64_t)rnd_below(1000000) + 2 * rp + 2 * e;
		int64_t t1 = (int64_t)rnd_below((int64_t)1 << 42);
		int64_t t2 = t1 + d1, t3 = t2 + hold, t4 = t3 + d2;
		int64_t at = t4 + (int64_t)rnd_below(10 * TRUTH_CLOCK_NSEC);
		struct truth_clock_exchange x = {
			.t1 = lclock(base, drift, t1) + rnd_sym(rl),
			.t2 = t2 + pb2 + rnd_sym(rp),
			.t3 = t3 + pb3 + rnd_sym(rp),
			.t4 = lclock(base, drift, t4) + rnd_sym(rl),
			.local_precision = (uint32_t)rl,
			.peer_precision = (uint32_t)rp,
			.peer_error = (uint64_t)e,
		};
		struct truth_clock_sample s;
		struct truth_clock_interval iv;
		int64_t o4 = t4 - lclock(base, drift, t4);
		int64_t oat = at - lclock(base, drift, at);

		ASSERT_EQ(0, truth_clock_sample_from_exchange(&x, phi, &s));
		truth_clock_sample_interval(&s, s.as_of, phi, &iv);
		ASSERT_LE(iv.lo, o4) TH_LOG("case %lu", i);
		ASSERT_GE(iv.hi, o4) TH_LOG("case %lu", i);
		/* later, read at local time of true time at */
		truth_clock_sample_interval(&s, lclock(base, drift, at), phi, &iv);
		ASSERT_LE(iv.lo, oat) TH_LOG("case %lu", i);
		ASSERT_GE(iv.hi, oat) TH_LOG("case %lu", i);
		edge += (d1 == 0 || d2 == 0);
	}
	ksft_print_msg("%lu exchanges (%lu one-sided) contained\n", n, edge);
}

TEST(asymmetry_identity_exact)
{
	unsigned long i;

	seed_init();
	for (i = 0; i < 100000; i++) {
		/* constant offset, no errors: D1 = d1, D2 = d2 */
		int64_t o = rnd_sym((int64_t)1 << 50);
		int64_t d1 = 2 * (int64_t)rnd_below(1 << 20);
		int64_t d2 = 2 * (int64_t)rnd_below(1 << 20);
		int64_t t1 = (int64_t)rnd_below((int64_t)1 << 40);
		int64_t t2 = t1 + d1, t3 = t2 + (int64_t)rnd_below(1000);
		int64_t t4 = t3 + d2;
		struct truth_clock_exchange x = {
			.t1 = t1 - o, .t2 = t2, .t3 = t3, .t4 = t4 - o,
		};
		struct truth_clock_sample s;
		int64_t err;

		ASSERT_EQ(0, truth_clock_sample_from_exchange(&x, 0, &s));
		err = s.offset - o;
		if (err < 0)
			err = -err;
		ASSERT_EQ(s.delay / 2 - (d1 < d2 ? d1 : d2), err);
		ASSERT_EQ(d1 + d2, s.delay);
	}
}

TEST(growth_function)
{
	static const uint32_t rates[] = { 0, 1, 15000, 200000, 500000,
					  TRUTH_CLOCKBOUND_MAX_DRIFT_PPB };
	unsigned long i, k;

	seed_init();
	for (k = 0; k < sizeof(rates) / sizeof(rates[0]); k++) {
		unsigned __int128 ppb = rates[k], den = TRUTH_CLOCK_NSEC - rates[k];

		EXPECT_EQ(1, truth_clockbound_growth(0, rates[k]));
		for (i = 0; i < 20000; i++) {
			uint64_t dt = rnd_below(i % 2 ? 1000000 :
						(uint64_t)1 << (rnd_below(63) + 1));
			uint64_t g = truth_clockbound_growth(dt, rates[k]);
			uint64_t g1 = truth_clockbound_growth(dt + 1, rates[k]);

			/* g - 1 == ceil(dt phi / (1 - phi)), exactly */
			ASSERT_GE(g, 1);
			ASSERT_TRUE((g - 1) * den >= dt * ppb)
				TH_LOG("dt %llu rate %u", (unsigned long long)dt,
				       rates[k]);
			ASSERT_TRUE(g == 1 || (g - 2) * den < dt * ppb)
				TH_LOG("dt %llu rate %u", (unsigned long long)dt,
				       rates[k]);
			ASSERT_GE(g1, g);
			ASSERT_LE(g1 - g, 1);
		}
	}
	/* 200 ppm: 200040.008 ns rounded up, + 1, per second */
	EXPECT_EQ(200042, truth_clockbound_growth(TRUTH_CLOCK_NSEC, 200000));
	/* huge spans do not wrap */
	EXPECT_GT(truth_clockbound_growth(UINT64_MAX / 2, 200000),
		  truth_clockbound_growth(UINT64_MAX / 4, 200000));
}

static struct truth_clock *new_clock(struct __test_metadata *_metadata,
				     uint32_t ppb)
{
	struct truth_clock_config cfg;
	struct truth_clock *c;
	int err;

	truth_clock_config_default(&cfg);
	cfg.max_drift_ppb = ppb;
	c = truth_clock_new(&cfg, &err);
	EXPECT_EQ(0, err);
	return c;
}

/* an exchange at true time t with a peer offset by po, symmetric delay d */
static struct truth_clock_exchange xch(int64_t t, int64_t po, int64_t d,
				       int64_t pe)
{
	struct truth_clock_exchange x = {
		.t1 = t, .t2 = t + d + po, .t3 = t + d + 10 + po,
		.t4 = t + 2 * d + 10, .local_precision = 5,
		.peer_precision = 5, .peer_error = (uint64_t)pe,
	};

	return x;
}

TEST(filter_outliers_and_resets)
{
	struct truth_clock *c = new_clock(_metadata, 0);
	struct truth_clock_exchange x;
	struct truth_clock_peer_info pi;
	int64_t t = 1000000000;
	int i;

	ASSERT_NE(NULL, c);
	ASSERT_EQ(0, truth_clock_peer_add(c, 7));
	EXPECT_EQ(TRUTH_CLOCK_EEXIST, truth_clock_peer_add(c, 7));
	EXPECT_EQ(TRUTH_CLOCK_ENOENT, truth_clock_add_sample(c, 8, &x));
	for (i = 0; i < 4; i++) {
		x = xch(t, 0, 50000, 0);
		ASSERT_EQ(0, truth_clock_add_sample(c, 7, &x));
		t += TRUTH_CLOCK_NSEC;
	}
	/* 10x the delay: counted as an outlier; intersected all the same */
	x = xch(t, 0, 500000, 0);
	ASSERT_EQ(0, truth_clock_add_sample(c, 7, &x));
	ASSERT_EQ(0, truth_clock_update(c, t + 2 * 500000 + 10));
	ASSERT_EQ(0, truth_clock_peer_info(c, 7, &pi));
	EXPECT_EQ(1, pi.outliers);
	EXPECT_EQ(5, pi.accepted);
	EXPECT_EQ(5, pi.samples);
	EXPECT_EQ(TRUTH_CLOCK_PEER_TRUECHIMER, pi.state);
	EXPECT_EQ(100000, pi.delay);
	/* intersection of the 50 us samples: +-50 us + errors, not 500 */
	EXPECT_LE(pi.interval.hi - pi.interval.lo, 2 * 50000 + 100);
	EXPECT_LE(pi.interval.lo, 0);
	EXPECT_GE(pi.interval.hi, 0);

	/* the peer steps 10 ms while claiming no error: flushed, restarted */
	t += TRUTH_CLOCK_NSEC;
	x = xch(t, 10000000, 50000, 0);
	ASSERT_EQ(0, truth_clock_add_sample(c, 7, &x));
	ASSERT_EQ(0, truth_clock_peer_info(c, 7, &pi));
	EXPECT_EQ(1, pi.resets);
	EXPECT_EQ(1, pi.samples);
	ASSERT_EQ(0, truth_clock_update(c, x.t4));
	ASSERT_EQ(0, truth_clock_peer_info(c, 7, &pi));
	EXPECT_GT(pi.interval.lo, 9000000);

	/* impossible exchange counted, not kept */
	x.t4 = x.t1 - 1;
	EXPECT_EQ(TRUTH_CLOCK_EINVAL, truth_clock_add_sample(c, 7, &x));
	ASSERT_EQ(0, truth_clock_peer_info(c, 7, &pi));
	EXPECT_EQ(1, pi.invalid);
	EXPECT_EQ(1, pi.samples);

	EXPECT_EQ(0, truth_clock_peer_remove(c, 7));
	EXPECT_EQ(TRUTH_CLOCK_ENOENT, truth_clock_peer_remove(c, 7));
	EXPECT_EQ(TRUTH_CLOCK_ENOENT, truth_clock_peer_info(c, 7, &pi));
	for (i = 0; i < TRUTH_CLOCK_MAX_PEERS; i++)
		ASSERT_EQ(0, truth_clock_peer_add(c, 100 + i));
	EXPECT_EQ(TRUTH_CLOCK_ENOSPC, truth_clock_peer_add(c, 1));
	truth_clock_free(c);
}

/*
 * A sample's tight edge outlives the ring: the one-way-fast exchange is
 * pushed out by ten symmetric ones, and still bounds hi, aged at the
 * drift bound, tighter than any sample left in the ring.
 */
/*
 * A delay outlier with one fast direction: counted as an outlier, yet its
 * tight edge narrows the peer's interval (every sample's interval holds
 * the offset, whatever its delay), and the truth stays inside.
 */
TEST(filter_outlier_edge_used)
{
	struct truth_clock *c = new_clock(_metadata, 0);
	struct truth_clock_exchange x;
	struct truth_clock_peer_info pi;
	int64_t t = 1000000000;
	int i;

	ASSERT_NE(NULL, c);
	ASSERT_EQ(0, truth_clock_peer_add(c, 3));
	for (i = 0; i < 4; i++) {
		x = xch(t, 0, 50000, 0);
		ASSERT_EQ(0, truth_clock_add_sample(c, 3, &x));
		t += 10000000;
	}
	/* 2 us out, 998 us back: 10x the minimum round trip */
	x = (struct truth_clock_exchange){
		.t1 = t, .t2 = t + 2000, .t3 = t + 2010, .t4 = t + 1000010,
		.local_precision = 5, .peer_precision = 5,
	};
	ASSERT_EQ(0, truth_clock_add_sample(c, 3, &x));
	ASSERT_EQ(0, truth_clock_update(c, x.t4));
	ASSERT_EQ(0, truth_clock_peer_info(c, 3, &pi));
	EXPECT_EQ(1, pi.outliers);
	EXPECT_EQ(100000, pi.delay);	/* the point estimate ignores it */
	EXPECT_LE(pi.interval.hi, 2000 + 100);
	EXPECT_GE(pi.interval.lo, -50000 - 100);
	EXPECT_LE(pi.interval.lo, 0);
	EXPECT_GE(pi.interval.hi, 0);
	truth_clock_free(c);
}

TEST(filter_keeps_edges)
{
	struct truth_clock *c = new_clock(_metadata, 200000);
	struct truth_clock_exchange x = {
		.t1 = 1000000000, .t2 = 1000001000, .t3 = 1000001010,
		.t4 = 1000100010, .local_precision = 5, .peer_precision = 5,
	};
	struct truth_clock_peer_info pi;
	int64_t t = x.t4;
	int i;

	ASSERT_NE(NULL, c);
	ASSERT_EQ(0, truth_clock_peer_add(c, 1));
	/* 1 us out, 99 us back: hi = T2 - T1 = 1 us (+ errors) */
	ASSERT_EQ(0, truth_clock_add_sample(c, 1, &x));
	for (i = 0; i < TRUTH_CLOCK_FILTER_LEN + 2; i++) {
		t += 10000000;
		x = xch(t, 0, 50000, 0);
		ASSERT_EQ(0, truth_clock_add_sample(c, 1, &x));
	}
	ASSERT_EQ(0, truth_clock_update(c, x.t4));
	ASSERT_EQ(0, truth_clock_peer_info(c, 1, &pi));
	EXPECT_EQ(TRUTH_CLOCK_FILTER_LEN, pi.samples);
	/* the ring alone gives hi >= 50 us; 110 ms of 200 ppm is 22 us */
	EXPECT_LT(pi.interval.hi, 1000 + 23000 + 100);
	EXPECT_GT(pi.interval.lo, -50000 - 100);
	/* the true offset, 0, is still inside */
	EXPECT_LE(pi.interval.lo, 0);
	EXPECT_GE(pi.interval.hi, 0);
	/*
	 * a second later it is still the tighter edge (both age at the
	 * same rate), exactly its own interval aged from its T4
	 */
	t = x.t4 + TRUTH_CLOCK_NSEC;
	ASSERT_EQ(0, truth_clock_update(c, t));
	ASSERT_EQ(0, truth_clock_peer_info(c, 1, &pi));
	EXPECT_GE(pi.interval.hi, 1000 + (int64_t)truth_clockbound_growth(
			  (uint64_t)(t - 1000100010), 200000));
	EXPECT_LE(pi.interval.hi, 1100 + (int64_t)truth_clockbound_growth(
			  (uint64_t)(t - 1000100010) + 5, 200000));
	truth_clock_free(c);
}

TEST(config_refused)
{
	struct truth_clock_config cfg;
	int err = 0;

	truth_clock_config_default(&cfg);
	EXPECT_EQ(TRUTH_CLOCK_DEFAULT_MAX_DRIFT_PPB, cfg.max_drift_ppb);
	EXPECT_EQ(-1, cfg.max_falsetickers);
	cfg.max_drift_ppb = TRUTH_CLOCKBOUND_MAX_DRIFT_PPB + 1;
	EXPECT_EQ(NULL, truth_clock_new(&cfg, &err));
	EXPECT_EQ(TRUTH_CLOCK_EINVAL, err);
	truth_clock_config_default(&cfg);
	cfg.outlier_factor = 50;
	EXPECT_EQ(NULL, truth_clock_new(&cfg, &err));
	truth_clock_config_default(&cfg);
	cfg.max_falsetickers = -2;
	EXPECT_EQ(NULL, truth_clock_new(&cfg, &err));
}

TEST(status_transitions)
{
	struct truth_clock *c = new_clock(_metadata, 200000);
	struct truth_clock_exchange x;
	struct truth_clock_now n;
	int64_t t = 5 * TRUTH_CLOCK_NSEC, last;
	int i;

	ASSERT_NE(NULL, c);
	truth_clock_now(c, t, &n);
	EXPECT_EQ(TRUTH_CLOCK_UNKNOWN, n.status);
	EXPECT_EQ(INT64_MIN, n.earliest);
	EXPECT_EQ(INT64_MAX, n.latest);
	EXPECT_EQ(TRUTH_CLOCK_ENOENT, truth_clock_update(c, t));
	for (i = 1; i <= 3; i++)
		ASSERT_EQ(0, truth_clock_peer_add(c, i));
	/* one of three peers is no majority */
	x = xch(t, 0, 30000, 1000);
	ASSERT_EQ(0, truth_clock_add_sample(c, 1, &x));
	EXPECT_EQ(TRUTH_CLOCK_EAGAIN, truth_clock_update(c, x.t4));
	truth_clock_now(c, x.t4, &n);
	EXPECT_EQ(TRUTH_CLOCK_UNKNOWN, n.status);
	x = xch(t + 1000, 0, 30000, 1000);
	ASSERT_EQ(0, truth_clock_add_sample(c, 2, &x));
	ASSERT_EQ(0, truth_clock_update(c, x.t4));
	last = x.t4;
	truth_clock_now(c, last, &n);
	EXPECT_EQ(TRUTH_CLOCK_SYNCHRONISED, n.status);
	EXPECT_LE(n.earliest, last);
	EXPECT_GE(n.latest, last);
	/* updates without new samples keep the freshness of the old ones */
	ASSERT_EQ(0, truth_clock_update(c, last + TRUTH_CLOCK_DEFAULT_SYNC_TIMEOUT));
	truth_clock_now(c, last + TRUTH_CLOCK_DEFAULT_SYNC_TIMEOUT, &n);
	EXPECT_EQ(TRUTH_CLOCK_SYNCHRONISED, n.status);
	ASSERT_EQ(0, truth_clock_update(c, last + TRUTH_CLOCK_DEFAULT_SYNC_TIMEOUT + 1));
	truth_clock_now(c, last + TRUTH_CLOCK_DEFAULT_SYNC_TIMEOUT + 1, &n);
	EXPECT_EQ(TRUTH_CLOCK_FREE_RUNNING, n.status);
	/* samples past max age: no source left, the estimate ages on */
	EXPECT_EQ(TRUTH_CLOCK_ENOENT,
		  truth_clock_update(c, last + TRUTH_CLOCK_DEFAULT_MAX_SAMPLE_AGE + 1));
	truth_clock_now(c, last + 100 * TRUTH_CLOCK_NSEC, &n);
	EXPECT_EQ(TRUTH_CLOCK_FREE_RUNNING, n.status);
	EXPECT_LE(n.earliest, last + 100 * TRUTH_CLOCK_NSEC);
	EXPECT_GE(n.latest, last + 100 * TRUTH_CLOCK_NSEC);
	/* a fresh agreement brings it back */
	x = xch(last + 100 * TRUTH_CLOCK_NSEC, 0, 30000, 1000);
	ASSERT_EQ(0, truth_clock_add_sample(c, 3, &x));
	ASSERT_EQ(0, truth_clock_add_sample(c, 2, &x));
	ASSERT_EQ(0, truth_clock_update(c, x.t4));
	truth_clock_now(c, x.t4, &n);
	EXPECT_EQ(TRUTH_CLOCK_SYNCHRONISED, n.status);
	truth_clock_free(c);
}

TEST_HARNESS_MAIN
