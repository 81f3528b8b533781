// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of source selection in agent/clock: Marzullo's algorithm and
 * the "covered by at least k" intersection, against a brute-force reference
 * that evaluates coverage at every endpoint, over random interval sets
 * (small value ranges to force ties and touching edges, large ones for
 * spread), plus hand-checked cases.
 *
 * TRUTH_SEED=<n> replays a run; TRUTH_SEEDS=<n> scales the number of cases.
 */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "clock/clock.h"

#include "kselftest_harness.h"

#include "truth_rand.h"

/* coverage of point x: intervals with lo <= x <= hi (inverted ones: none) */
static uint32_t coverage(const struct truth_clock_interval *iv, uint32_t n,
			 int64_t x)
{
	uint32_t i, c = 0;

	for (i = 0; i < n; i++)
		c += iv[i].lo <= iv[i].hi && iv[i].lo <= x && x <= iv[i].hi;
	return c;
}

/*
 * Reference: the points covered by >= need form closed intervals whose
 * ends are interval endpoints, so their hull runs from the smallest
 * endpoint with coverage >= need to the largest.
 */
static void ref_intersect(const struct truth_clock_interval *iv, uint32_t n,
			  uint32_t need, struct truth_clock_selection *sel)
{
	uint32_t i, k;

	sel->found = false;
	sel->count = need;
	for (i = 0; i < n; i++) {
		int64_t e[2] = { iv[i].lo, iv[i].hi };

		for (k = 0; k < 2; k++) {
			if (coverage(iv, n, e[k]) < need)
				continue;
			if (!sel->found) {
				sel->found = true;
				sel->result.lo = sel->result.hi = e[k];
			}
			if (e[k] < sel->result.lo)
				sel->result.lo = e[k];
			if (e[k] > sel->result.hi)
				sel->result.hi = e[k];
		}
	}
}

static uint32_t ref_max(const struct truth_clock_interval *iv, uint32_t n)
{
	uint32_t i, m = 0, c;

	for (i = 0; i < n; i++) {
		c = coverage(iv, n, iv[i].lo);
		if (iv[i].lo <= iv[i].hi && c > m)
			m = c;
	}
	return m;
}

static void random_set(struct truth_clock_interval *iv, uint32_t n,
		       int64_t range, bool inverted)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		int64_t a = (int64_t)rnd_below(range) - range / 2;
		int64_t w = (int64_t)rnd_below(range / 3 + 1);

		iv[i].lo = a;
		iv[i].hi = a + w;
		if (inverted && rnd_below(10) == 0) {
			iv[i].lo = a + w + 1;
			iv[i].hi = a;
		}
	}
}

#define MAXN 80	/* above the library's on-stack limit (64) on purpose */

TEST(marzullo_matches_brute_force)
{
	static struct truth_clock_interval iv[MAXN];
	struct truth_clock_selection got, want;
	unsigned long c, ncases = cases(20000), checks = 0;
	uint64_t seed = seed_init();
	uint32_t n, need;

	ksft_print_msg("seed %llu (TRUTH_SEED to replay)\n",
		       (unsigned long long)seed);
	for (c = 0; c < ncases; c++) {
		int64_t range = c % 3 == 0 ? 8 : c % 3 == 1 ? 1000 :
				(int64_t)1 << 50;

		n = 1 + (uint32_t)rnd_below(c % 50 == 0 ? MAXN : 12);
		random_set(iv, n, range, c % 7 == 0);

		truth_clock_marzullo(iv, n, &got);
		want.count = ref_max(iv, n);
		ASSERT_EQ(want.count, got.count)
			TH_LOG("case %lu n %u", c, n);
		if (want.count) {
			ref_intersect(iv, n, want.count, &want);
			ASSERT_TRUE(got.found);
			ASSERT_EQ(want.result.lo, got.result.lo)
				TH_LOG("case %lu n %u", c, n);
			ASSERT_EQ(want.result.hi, got.result.hi)
				TH_LOG("case %lu n %u", c, n);
			/* every point of the result's ends has that coverage */
			ASSERT_EQ(got.count, coverage(iv, n, got.result.lo));
			ASSERT_EQ(got.count, coverage(iv, n, got.result.hi));
		} else {
			ASSERT_FALSE(got.found);
		}
		for (need = 1; need <= n + 1; need++) {
			truth_clock_intersect(iv, n, need, &got);
			ref_intersect(iv, n, need, &want);
			ASSERT_EQ(want.found, got.found)
				TH_LOG("case %lu n %u need %u", c, n, need);
			if (want.found) {
				ASSERT_EQ(want.result.lo, got.result.lo);
				ASSERT_EQ(want.result.hi, got.result.hi);
			}
			checks++;
		}
	}
	ksft_print_msg("%lu interval sets, %lu intersections checked\n",
		       ncases, checks);
}

TEST(marzullo_hand_cases)
{
	struct truth_clock_selection sel;
	/* Marzullo's classic: three agree on [11, 12] */
	struct truth_clock_interval a[] = { { 8, 12 }, { 11, 13 }, { 10, 12 } };
	/* a falseticker far away: the other three still agree */
	struct truth_clock_interval b[] = { { 8, 12 }, { 11, 13 }, { 10, 12 },
					    { 100, 110 } };
	/* touching closed intervals share their edge */
	struct truth_clock_interval t[] = { { 0, 5 }, { 5, 9 } };
	/* two disjoint pairs: the hull spans both max regions */
	struct truth_clock_interval d[] = { { 0, 10 }, { 0, 1 }, { 9, 10 } };

	truth_clock_marzullo(a, 3, &sel);
	ASSERT_TRUE(sel.found);
	EXPECT_EQ(3, sel.count);
	EXPECT_EQ(11, sel.result.lo);
	EXPECT_EQ(12, sel.result.hi);

	truth_clock_marzullo(b, 4, &sel);
	EXPECT_EQ(3, sel.count);
	EXPECT_EQ(11, sel.result.lo);
	EXPECT_EQ(12, sel.result.hi);
	/* all four never meet */
	truth_clock_intersect(b, 4, 4, &sel);
	EXPECT_FALSE(sel.found);
	/* the robust form with one liar tolerated: covered by >= 3 */
	truth_clock_intersect(b, 4, 3, &sel);
	EXPECT_TRUE(sel.found);
	EXPECT_EQ(11, sel.result.lo);
	EXPECT_EQ(12, sel.result.hi);

	truth_clock_marzullo(t, 2, &sel);
	EXPECT_EQ(2, sel.count);
	EXPECT_EQ(5, sel.result.lo);
	EXPECT_EQ(5, sel.result.hi);

	truth_clock_marzullo(d, 3, &sel);
	EXPECT_EQ(2, sel.count);
	EXPECT_EQ(0, sel.result.lo);
	EXPECT_EQ(10, sel.result.hi);

	truth_clock_marzullo(a, 0, &sel);
	EXPECT_FALSE(sel.found);
	EXPECT_EQ(0, sel.count);
}

TEST_HARNESS_MAIN
