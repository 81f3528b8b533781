// SPDX-License-Identifier: GPL-2.0
/*
 * The test-only skew of a real reference clock (struct truth_probe_skew,
 * truthd's test_clock_offset_ns / test_clock_drift_ppm / TRUTH.DEBUG
 * CLOCK): the arithmetic by hand, continuity in drift and a jump by the
 * offset change only when the skew changes, monotonic under negative
 * drift, and truth_probe_clock_skewed() applying it to the reference and
 * to kernel stamps but not to the local clock.
 */
#include <stdint.h>
#include <time.h>

#include "clock/probe.h"

#include "kselftest_harness.h"

#define SEC	1000000000LL

static int64_t rd(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * SEC + ts.tv_nsec;
}

TEST(skew_by_hand)
{
	struct truth_probe_skew s = { .t0 = 1000 * SEC, .offset = 50000000,
				      .drift_ppm = 100 };

	ASSERT_EQ(1000 * SEC + 50000000, truth_probe_skew_apply(&s, 1000 * SEC));
	/* 10 s at 100 ppm: 1 ms ahead */
	ASSERT_EQ(1010 * SEC + 50000000 + 1000000,
		  truth_probe_skew_apply(&s, 1010 * SEC));
	/* before t0 it runs slow the same way, floor rounding */
	ASSERT_EQ(999 * SEC + 50000000 - 100000, truth_probe_skew_apply(&s, 999 * SEC));
	ASSERT_EQ(1000 * SEC - 1 + 50000000 - 1, truth_probe_skew_apply(&s, 1000 * SEC - 1));
	s.drift_ppm = -100000;
	ASSERT_EQ(1010 * SEC + 50000000 - SEC, truth_probe_skew_apply(&s, 1010 * SEC));
}

TEST(change_keeps_drift_jumps_by_offset)
{
	struct truth_probe_skew s = { .t0 = 0, .offset = 7, .drift_ppm = 250 };
	int64_t at = 3600 * SEC, before, after;

	before = truth_probe_skew_apply(&s, at);
	truth_probe_skew_set(&s, at, -20000000, -40);
	after = truth_probe_skew_apply(&s, at);
	ASSERT_EQ(-20000000 - 7, after - before);
	/* the 900 ms gathered at 250 ppm over the hour stay */
	ASSERT_EQ(at - 20000000 + 900000000, after);
	/* from now on 40 ppm slow */
	ASSERT_EQ(at + 100 * SEC - 20000000 + 900000000 - 4000000,
		  truth_probe_skew_apply(&s, at + 100 * SEC));
	/* no change: no jump */
	before = truth_probe_skew_apply(&s, at + 5 * SEC);
	truth_probe_skew_set(&s, at + 5 * SEC, s.offset, s.drift_ppm);
	ASSERT_EQ(before, truth_probe_skew_apply(&s, at + 5 * SEC));
}

TEST(monotonic_at_the_limit)
{
	struct truth_probe_skew s = { .t0 = 5 * SEC,
				      .drift_ppm = -TRUTH_PROBE_SKEW_MAX_DRIFT_PPM };
	int64_t t, prev = INT64_MIN, v;

	for (t = 5 * SEC - 20000; t < 5 * SEC + 20000; t++) {
		v = truth_probe_skew_apply(&s, t);
		ASSERT_LE(prev, v);
		prev = v;
	}
}

TEST(skewed_clock_moves_reference_only)
{
	struct truth_probe_skew s = { .slew_ppb = TRUTH_PROBE_REALTIME_SLEW_PPB };
	struct truth_probe_clock clk;
	int64_t real, ref, raw, loc, stamp;
	uint32_t err = 0;

	s.t0 = rd(CLOCK_REALTIME);
	s.offset = 50000000;
	truth_probe_clock_skewed(&clk, &s, 100);
	ASSERT_EQ(TRUTH_PROBE_REALTIME_SLEW_PPB + 100000u, clk.ref_slew_ppb);
	ASSERT_EQ(CLOCK_MONOTONIC_RAW, clk.local_clock_id);
	real = rd(CLOCK_REALTIME);
	ref = clk.ref_now(clk.arg);
	ASSERT_LE(real + 50000000, ref);
	ASSERT_GT(real + 50000000 + SEC, ref);
	raw = rd(CLOCK_MONOTONIC_RAW);
	loc = clk.local_now(clk.arg);
	ASSERT_LE(raw, loc);
	ASSERT_GT(raw + SEC, loc);
	stamp = rd(CLOCK_REALTIME) - 1000;
	ASSERT_EQ(stamp + 50000000, clk.stamp_ref(clk.arg, stamp));
	/* a stamp 1 us ago is about 1 us before RAW now, skew or not */
	loc = clk.stamp_local(clk.arg, stamp, &err);
	raw = rd(CLOCK_MONOTONIC_RAW);
	ASSERT_LE(loc, raw);
	ASSERT_GT(loc, raw - SEC / 10);
	ASSERT_LT(err, 1000000u);
}

TEST_HARNESS_MAIN
