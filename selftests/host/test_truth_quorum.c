// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of the weighted quorum commit rule (include/truth/quorum.h):
 * the rule against a brute-force reference over random weights, thresholds
 * and match indexes, and the named configurations (majority, Byzantine
 * 2f+1, stake-weighted 2/3) as instances of it.
 *
 * TRUTH_SEED=<n> replays a run; TRUTH_SEEDS=<n> sets the number of random
 * cases (default 200000).  The seed is printed.
 */

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <truth/quorum.h>

#include "kselftest_harness.h"

#include "truth_rand.h"

/* The definition, literally: the largest N whose acknowledgers reach T. */
static __u64 ref_match(const struct truth_quorum_member *m, unsigned int n,
		       __u64 threshold)
{
	__u64 top = 0, best = 0, idx, sum;
	unsigned int i;

	if (threshold == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (m[i].match > top)
			top = m[i].match;
	for (idx = 1; idx <= top; idx++) {
		sum = 0;
		for (i = 0; i < n; i++)
			if (m[i].match >= idx)
				sum += m[i].weight;
		if (sum >= threshold)
			best = idx;
	}
	return best;
}

static __u64 ref_commit(const struct truth_quorum_member *m, unsigned int n,
			__u64 threshold, __u64 term_start, __u64 commit)
{
	__u64 q = ref_match(m, n, threshold);

	return (q > commit && q >= term_start) ? q : commit;
}

TEST(rule_equals_brute_force_reference)
{
	struct truth_quorum_member m[64];
	unsigned long i, total_cases = cases(200000);
	uint64_t seed = seed_init();

	TH_LOG("seed %llu, %lu cases (TRUTH_SEED=%llu replays)",
	       (unsigned long long)seed, total_cases, (unsigned long long)seed);
	for (i = 0; i < total_cases; i++) {
		unsigned int n = 1 + rnd_below(i % 50 == 0 ? 64 : 9), j;
		__u64 max_w = (i & 1) ? 3 : 1000, max_idx = 1 + rnd_below(40);
		__u64 total = 0, threshold, term_start, commit, got, want;

		for (j = 0; j < n; j++) {
			m[j].id = j + 1;
			m[j].weight = rnd_below(max_w + 1);
			m[j].match = rnd_below(max_idx + 1);
			total += m[j].weight;
		}
		threshold = rnd_below(total + 3);
		term_start = rnd_below(max_idx + 2);
		commit = rnd_below(max_idx + 1);

		got = truth_quorum_match(m, n, threshold);
		want = ref_match(m, n, threshold);
		ASSERT_EQ(want, got) {
			TH_LOG("case %lu: n %u threshold %llu", i, n,
			       (unsigned long long)threshold);
		}
		got = truth_quorum_commit(m, n, threshold, term_start, commit);
		want = ref_commit(m, n, threshold, term_start, commit);
		ASSERT_EQ(want, got) {
			TH_LOG("case %lu: term_start %llu commit %llu", i,
			       (unsigned long long)term_start,
			       (unsigned long long)commit);
		}
		ASSERT_GE(got, commit);
	}
}

TEST(commit_never_moves_back_as_acks_arrive)
{
	struct truth_quorum_member m[64];
	unsigned long r, rounds = cases(200000) / 100 + 1;

	seed_init();
	for (r = 0; r < rounds; r++) {
		unsigned int n = 1 + rnd_below(16), j, k;
		__u64 total = 0, threshold, commit = 0, next;

		for (j = 0; j < n; j++) {
			m[j].id = j;
			m[j].weight = 1 + rnd_below(5);
			m[j].match = 0;
			total += m[j].weight;
		}
		threshold = 1 + rnd_below(total);
		for (k = 0; k < 200; k++) {
			j = rnd_below(n);
			m[j].match += rnd_below(3);	/* acks only go up */
			next = truth_quorum_commit(m, n, threshold, 0, commit);
			ASSERT_GE(next, commit);
			ASSERT_EQ(ref_match(m, n, threshold) > commit ?
				  ref_match(m, n, threshold) : commit, next);
			commit = next;
		}
	}
}

TEST(majority_of_five)
{
	struct truth_quorum_member m[5] = {
		{ 1, 1, 9 }, { 2, 1, 7 }, { 3, 1, 5 }, { 4, 1, 3 }, { 5, 1, 1 },
	};
	__u64 t = truth_quorum_majority(truth_quorum_total_weight(m, 5));

	ASSERT_EQ(3, t);
	/* three members have >= 5 */
	ASSERT_EQ(5, truth_quorum_match(m, 5, t));
	/* entries before the term are committed only with one of the term */
	ASSERT_EQ(0, truth_quorum_commit(m, 5, t, 6, 0));
	ASSERT_EQ(5, truth_quorum_commit(m, 5, t, 5, 0));
	ASSERT_EQ(6, truth_quorum_commit(m, 5, t, 6, 6));
}

TEST(byzantine_2f_plus_1_of_3f_plus_1)
{
	/* f = 2: n = 7, threshold 5 */
	struct truth_quorum_member m[7] = {
		{ 1, 1, 10 }, { 2, 1, 10 }, { 3, 1, 8 }, { 4, 1, 8 },
		{ 5, 1, 8 }, { 6, 1, 2 }, { 7, 1, 0 },
	};

	ASSERT_EQ(8, truth_quorum_match(m, 7, 5));
	m[4].match = 2;
	ASSERT_EQ(2, truth_quorum_match(m, 7, 5));
}

TEST(stake_weighted_two_thirds)
{
	struct truth_quorum_member m[4] = {
		{ 1, 50, 4 }, { 2, 20, 9 }, { 3, 20, 9 }, { 4, 10, 9 },
	};
	__u64 total = truth_quorum_total_weight(m, 4);
	__u64 t = (2 * total + 2) / 3;	/* ceil(2/3 of 100) = 67 */

	ASSERT_EQ(100, total);
	ASSERT_EQ(67, t);
	/* 50 of stake at >= 9 is not enough; with the big holder at 4 all 100 */
	ASSERT_EQ(4, truth_quorum_match(m, 4, t));
	m[0].match = 9;
	ASSERT_EQ(9, truth_quorum_match(m, 4, t));
}

TEST(learners_and_zero_threshold_never_commit)
{
	struct truth_quorum_member m[3] = {
		{ 1, 0, 9 }, { 2, 0, 9 }, { 3, 1, 0 },
	};

	ASSERT_EQ(0, truth_quorum_match(m, 3, 1));
	ASSERT_EQ(0, truth_quorum_match(m, 3, 0));
	m[2].match = 4;
	ASSERT_EQ(4, truth_quorum_match(m, 3, 1));
}

TEST_HARNESS_MAIN
