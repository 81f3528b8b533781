// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Randomised Raft runs under raftsim: every seed builds a random cluster,
 * throws a random schedule of faults, writes and reads at it, checks Raft's
 * safety properties after every step, then heals and requires liveness.
 *
 *   TRUTH_SEEDS=N   run seeds 1..N (default 1000; `make torture` sets more)
 *   TRUTH_SEED=S    replay exactly seed S
 *   TRUTH_SEED_FIRST=F  start at seed F instead of 1 (to split long runs)
 *
 * A failing seed is printed with the one command that replays it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kselftest_harness.h"
#include "lib/raftsim.h"

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : def;
}

FIXTURE(random) {
	int unused;
};

FIXTURE_SETUP(random)
{
}

FIXTURE_TEARDOWN(random)
{
}

TEST_F_TIMEOUT(random, safety_and_liveness, 3600)
{
	struct raftsim_fuzz_stats st = { 0 };
	uint64_t one = env_u64("TRUTH_SEED", 0);
	uint64_t n = one ? 1 : env_u64("TRUTH_SEEDS", 1000);
	uint64_t first = one ? one : env_u64("TRUTH_SEED_FIRST", 1);
	uint64_t seed, failed = 0;
	struct timespec t0, t1;
	bool verbose = getenv("TRUTH_VERBOSE") != NULL;
	char why[512];

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (seed = first; seed < first + n; seed++) {
		why[0] = 0;
		if (verbose) {
			fprintf(stderr, "seed %llu\n", (unsigned long long)seed);
			fflush(stderr);
		}
		if (raftsim_fuzz_one(seed, &st, why, sizeof(why)))
			continue;
		failed++;
		printf("# seed %llu FAILED: %s\n", (unsigned long long)seed, why);
		printf("# replay: TRUTH_SEED=%llu %s -t safety_and_liveness\n",
		       (unsigned long long)seed, program_invocation_name);
		fflush(stdout);
		if (failed >= 5)
			break;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("# seeds %llu..%llu: %llu seeds, %llu simulated steps checked, %llu leaders elected, %llu faults (%llu crashes), %llu client writes acked, %llu reads checked, %.1f s\n",
	       (unsigned long long)first, (unsigned long long)(seed - 1),
	       (unsigned long long)(seed - first), (unsigned long long)st.steps,
	       (unsigned long long)st.elections, (unsigned long long)st.faults,
	       (unsigned long long)st.crashes, (unsigned long long)st.acked,
	       (unsigned long long)st.reads,
	       (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	EXPECT_EQ(0, failed);
	EXPECT_GT(st.steps, 0);
}

/*
 * The checker itself: nodes that send before their write is durable (an
 * ACK for entries a crash then loses) must be caught breaking a safety
 * property on some seed; a checker that never fails proves nothing.
 */
TEST_F_TIMEOUT(random, checker_catches_acks_before_fsync, 600)
{
	struct raftsim_fuzz_stats st = { 0 };
	uint64_t seed, caught = 0, liveness = 0;
	char why[512];

	for (seed = 1; seed <= 2000 && !caught; seed++) {
		why[0] = 0;
		if (raftsim_fuzz_one_flags(seed, RAFTSIM_FUZZ_ACK_EARLY, &st,
					   why, sizeof(why)))
			continue;
		if (strstr(why, "liveness"))
			liveness++;
		else
			caught++;
		if (caught == 1)
			printf("# e.g. seed %llu: %s\n", (unsigned long long)seed, why);
	}
	printf("# acking before fsync: %llu of %llu seeds broke safety (%llu liveness)\n",
	       (unsigned long long)caught, (unsigned long long)(seed - 1),
	       (unsigned long long)liveness);
	EXPECT_GT(caught, 0);
}

TEST_HARNESS_MAIN
