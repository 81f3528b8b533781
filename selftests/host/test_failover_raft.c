// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Failover in the Raft core, under raftsim (Documentation/raft.md
 * "Failover"): the leader of a 3-node cluster with truthd's timing (10 ms
 * ticks, election timeout 30 ticks, heartbeat 5) and a slow disk (20 ms
 * per sync, as fsync on a loaded host) crashes at a random point of its
 * heartbeat period, 200 times over 5 seeds; each time the old leader comes
 * back after the new one is in.  Every failover, from the crash to a new
 * leader's first commit, must take at most 2 x election timeout (the
 * latest a survivor's timer fires) plus 150 ms (pre-vote, vote and no-op
 * round trips with their syncs), and no crash may cost a second election
 * (a term beyond the next one): a voter's leader stickiness dropping the
 * first pre-vote, or two pre-candidates splitting the vote, used to.
 * Deterministic: the same seeds give the same runs.
 */
#include "kselftest_harness.h"
#include "lib/raftsim.h"

#define MS 1000ULL
#define SEC 1000000ULL
#define ELECTION_TICKS 30
#define TICK_US 10000
#define CRASHES 40
#define SEEDS 5

static struct raftsim_opts failover_opts(uint64_t seed)
{
	struct raftsim_opts o = { 0 };

	o.n = 3;
	o.seed = seed;
	o.tick_us = TICK_US;
	o.election_ticks = ELECTION_TICKS;
	o.heartbeat_ticks = 5;
	o.pre_vote = true;
	o.check_quorum = true;
	o.lat_min_us = 200;
	o.lat_max_us = 3000;
	o.disk_us = 20000;
	return o;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

TEST(leader_crash_costs_one_election)
{
	const uint64_t bound = 2ULL * ELECTION_TICKS * TICK_US + 150 * MS;
	uint64_t took[SEEDS * CRASHES], extra = 0, seed;
	uint32_t n = 0;

	for (seed = 1; seed <= SEEDS; seed++) {
		struct raftsim_opts o = failover_opts(seed);
		struct raftsim *s = raftsim_new(&o);
		uint32_t l, l2, k;

		ASSERT_NE(NULL, s);
		l = raftsim_wait_leader(s, 5 * SEC);
		ASSERT_NE(0, l);
		for (k = 0; k < CRASHES; k++) {
			uint64_t t0, term0;

			/* anywhere in the leader's heartbeat period */
			raftsim_run_for(s, 200 * MS + raftsim_rand(s) % (50 * MS));
			l = raftsim_leader(s);
			ASSERT_NE(0, l);
			term0 = raft_term(s->nodes[l].r);
			t0 = s->now;
			raftsim_crash(s, l);
			l2 = raftsim_wait_leader(s, 5 * SEC);
			ASSERT_NE(0, l2) TH_LOG("seed %llu crash %u: no new leader",
						(unsigned long long)seed, k);
			took[n++] = s->now - t0;
			if (raft_term(s->nodes[l2].r) > term0 + 1) {
				extra++;
				TH_LOG("seed %llu crash %u: term %llu -> %llu, %llu ms",
				       (unsigned long long)seed, k,
				       (unsigned long long)term0,
				       (unsigned long long)raft_term(s->nodes[l2].r),
				       (unsigned long long)((s->now - t0) / MS));
			}
			raftsim_restart(s, l);
			raftsim_run_for(s, 300 * MS);
		}
		ASSERT_STREQ("", s->violation);
		raftsim_free(s);
	}
	qsort(took, n, sizeof(took[0]), cmp_u64);
	ksft_print_msg("failover (crash -> first commit of the new leader), n=%u: p50 %llu ms p99 %llu ms max %llu ms; %llu crashes cost a second election\n",
		       n, (unsigned long long)(took[n / 2] / MS),
		       (unsigned long long)(took[(n * 99 + 99) / 100 - 1] / MS),
		       (unsigned long long)(took[n - 1] / MS), (unsigned long long)extra);
	EXPECT_EQ(0, extra);
	EXPECT_LE(took[n - 1], bound);
}

TEST_HARNESS_MAIN
