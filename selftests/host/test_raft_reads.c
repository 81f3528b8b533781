// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Linearizable reads under raftsim (diss. §6.4): ReadIndex completes only
 * after a quorum confirms the leader, never at a deposed leader; leader
 * leases serve reads without messages until they expire, and a new leader
 * cannot be elected before the old lease ends, as long as the clocks stay
 * within the drift bound the nodes were given.
 */
#include "kselftest_harness.h"
#include "lib/raftsim.h"

#define MS 1000ULL
#define SEC 1000000ULL

static struct raftsim_opts opts(uint64_t seed)
{
	struct raftsim_opts o = { 0 };

	o.n = 3;
	o.seed = seed;
	o.tick_us = 10000;
	o.election_ticks = 10;
	o.pre_vote = true;
	o.check_quorum = false;		/* let a deposed leader linger */
	o.lat_min_us = 1000;
	o.lat_max_us = 2000;
	o.disk_us = 500;
	return o;
}

static void settle(struct raftsim *s, uint32_t id)
{
	while (s->nodes[id].busy)
		raftsim_step(s);
}

TEST(read_index)
{
	struct raftsim_opts o = opts(1);
	struct raftsim *s = raftsim_new(&o);
	uint32_t leader = 0, f;
	uint64_t ok;

	/* a brand-new leader has not committed in its term yet */
	while (!leader && s->now < 2 * SEC) {
		raftsim_step(s);
		leader = raftsim_leader(s);
	}
	ASSERT_NE(0, leader);
	settle(s, leader);
	EXPECT_EQ(RAFT_ESTALE, raft_read_index(s->nodes[leader].r, 0));
	ASSERT_EQ(leader, raftsim_wait_leader(s, SEC));
	f = leader == 1 ? 2 : 1;
	settle(s, leader);
	settle(s, f);
	EXPECT_EQ(RAFT_ENOTLEADER, raft_read_index(s->nodes[f].r, 0));
	ok = s->reads_ok;
	ASSERT_EQ(RAFT_OK, raft_read_index(s->nodes[leader].r, s->canon_len));
	raftsim_kick(s, leader);
	EXPECT_EQ(ok, s->reads_ok);	/* waits for a heartbeat round */
	raftsim_run_for(s, 10 * MS);
	EXPECT_EQ(ok + 1, s->reads_ok);
	EXPECT_STREQ("", s->violation);
	raftsim_free(s);
}

/* A deposed leader's ReadIndex never completes: no quorum confirms it. */
TEST(read_index_at_deposed_leader_never_completes)
{
	struct raftsim_opts o = opts(2);
	struct raftsim *s = raftsim_new(&o);
	uint32_t l1 = raftsim_wait_leader(s, 2 * SEC), l2 = 0;
	uint64_t ok, idx;

	ASSERT_NE(0, l1);
	raftsim_isolate(s, l1);
	while ((!l2 || l2 == l1) && s->now < 5 * SEC) {
		raftsim_run_for(s, 10 * MS);
		l2 = raftsim_wait_leader(s, 10 * MS);
	}
	ASSERT_NE(l1, l2);
	settle(s, l2);
	ASSERT_EQ(RAFT_OK, raftsim_propose(s, l2, 1, 1, &idx));
	raftsim_run_for(s, 100 * MS);
	ASSERT_EQ(RAFT_LEADER, raft_role(s->nodes[l1].r));
	settle(s, l1);
	ok = s->reads_ok;
	ASSERT_EQ(RAFT_OK, raft_read_index(s->nodes[l1].r, s->canon_len));
	raftsim_kick(s, l1);
	raftsim_run_for(s, SEC);
	EXPECT_EQ(ok, s->reads_ok);
	EXPECT_STREQ("", s->violation);
	raftsim_free(s);
}

struct lease_run {
	uint64_t last_lease_read;	/* sim time of the last lease read served */
	uint64_t new_leader_at;		/* sim time another node led */
	uint64_t served;		/* lease reads served after the partition */
};

/*
 * Partition the leader and keep reading from it by lease while the others
 * elect a new leader and commit; every read is checked for staleness.
 */
static void lease_partition(struct raftsim *s, struct lease_run *lr)
{
	uint32_t l1 = raftsim_wait_leader(s, 2 * SEC), l2 = 0;
	uint64_t index;

	memset(lr, 0, sizeof(*lr));
	if (!l1)
		return;
	raftsim_run_for(s, 100 * MS);
	raftsim_isolate(s, l1);
	while (s->now < 5 * SEC && !s->violation[0]) {
		raftsim_run_for(s, MS);
		l2 = raftsim_leader(s);
		if (l2 && l2 != l1 && !lr->new_leader_at)
			lr->new_leader_at = s->now;
		if (l2 && l2 != l1 && !s->nodes[l2].busy)
			raftsim_propose(s, l2, 1, s->now, NULL);
		if (s->nodes[l1].busy)
			continue;
		if (raft_read_lease(s->nodes[l1].r, raftsim_local_time(s, l1),
				    0, &index) == RAFT_OK) {
			raftsim_check_read(s, &s->nodes[l1], index, s->canon_len,
					   "lease read");
			lr->last_lease_read = s->now;
			lr->served++;
		}
	}
}

TEST(lease_reads_end_before_a_new_leader)
{
	struct raftsim_opts o = opts(3);
	struct raftsim *s = raftsim_new(&o);
	struct lease_run lr;

	lease_partition(s, &lr);
	EXPECT_GT(lr.served, 10);	/* the lease served reads for a while */
	ASSERT_NE(0, lr.new_leader_at);
	EXPECT_LT(lr.last_lease_read, lr.new_leader_at);
	EXPECT_STREQ("", s->violation);
	raftsim_free(s);
}

/*
 * The lease margin comes off the lease: the same run (same seed) with a
 * 40 ms margin serves its last lease read about 40 ms earlier, and a
 * margin as long as the lease leaves no lease at all.
 */
TEST(lease_margin_shortens_the_lease)
{
	uint64_t last[2], margin[2] = { 0, 40 * MS };
	struct lease_run lr;
	int k;

	for (k = 0; k < 2; k++) {
		struct raftsim_opts o = opts(3);
		struct raftsim *s;

		o.drift_ppm = 200;
		o.lease_margin = margin[k];
		s = raftsim_new(&o);
		lease_partition(s, &lr);
		ASSERT_NE(0, lr.served);
		ASSERT_NE(0, lr.new_leader_at);
		EXPECT_LT(lr.last_lease_read, lr.new_leader_at);
		EXPECT_STREQ("", s->violation);
		last[k] = lr.last_lease_read;
		raftsim_free(s);
	}
	TH_LOG("last lease read: %llu us without margin, %llu us with 40 ms",
	       (unsigned long long)last[0], (unsigned long long)last[1]);
	/* within a tick and a round trip of the 40 ms */
	EXPECT_GE(last[0] - last[1], 40 * MS - 12 * MS);
	EXPECT_LE(last[0] - last[1], 40 * MS + 12 * MS);
	{
		struct raftsim_opts o = opts(3);
		struct raftsim *s;
		uint32_t l;
		uint64_t index;

		o.lease_margin = 9 * 10000;	/* (election_ticks - 1) ticks: all of it */
		s = raftsim_new(&o);
		l = raftsim_wait_leader(s, 2 * SEC);
		ASSERT_NE(0, l);
		raftsim_run_for(s, 100 * MS);
		settle(s, l);
		EXPECT_EQ(RAFT_ESTALE, raft_read_lease(s->nodes[l].r,
						       raftsim_local_time(s, l), 0, &index));
		raftsim_free(s);
	}
}

/* Clocks drifting 30% apart: safe when the nodes are told, stale when not. */
FIXTURE(drift) {
	struct raftsim *s;
};

FIXTURE_VARIANT(drift) {
	uint32_t declared_ppm;
	bool expect_stale;
};

FIXTURE_VARIANT_ADD(drift, declared) { .declared_ppm = 300000 };
FIXTURE_VARIANT_ADD(drift, undeclared) { .declared_ppm = 0, .expect_stale = true };

FIXTURE_SETUP(drift)
{
	struct raftsim_opts o = opts(4);
	uint32_t i;

	o.drift_ppm = variant->declared_ppm;
	self->s = raftsim_new(&o);
	/* node 1's clock runs slow, the others fast */
	for (i = 1; i <= 3; i++)
		self->s->nodes[i].rate_ppm = i == 1 ? -300000 : 300000;
}

FIXTURE_TEARDOWN(drift)
{
	raftsim_free(self->s);
}

TEST_F(drift, lease_needs_the_drift_bound)
{
	struct raftsim *s = self->s;
	struct lease_run lr;

	uint32_t l = raftsim_wait_leader(s, 2 * SEC);

	ASSERT_NE(0, l);
	/* the slow clock must lead: hand it leadership */
	if (l != 1) {
		settle(s, l);
		ASSERT_EQ(RAFT_OK, raft_transfer_leadership(s->nodes[l].r, 1));
		raftsim_kick(s, l);
		raftsim_run_for(s, 300 * MS);
	}
	ASSERT_EQ(1, raftsim_wait_leader(s, SEC));
	lease_partition(s, &lr);
	ASSERT_NE(0, lr.served);
	if (variant->expect_stale) {
		/* the checker must catch the stale read the lease allowed */
		EXPECT_NE(NULL, strstr(s->violation, "stale read"));
	} else {
		EXPECT_STREQ("", s->violation);
		EXPECT_LT(lr.last_lease_read, lr.new_leader_at);
	}
}

/* A leader that sent TimeoutNow gives up its lease at once. */
TEST(transfer_ends_the_lease)
{
	struct raftsim_opts o = opts(5);
	struct raftsim *s = raftsim_new(&o);
	uint32_t l1 = raftsim_wait_leader(s, 2 * SEC);
	uint64_t index;

	ASSERT_NE(0, l1);
	raftsim_run_for(s, 100 * MS);
	settle(s, l1);
	ASSERT_EQ(RAFT_OK, raft_read_lease(s->nodes[l1].r,
					   raftsim_local_time(s, l1), 0, &index));
	ASSERT_EQ(RAFT_OK, raft_transfer_leadership(s->nodes[l1].r,
						    l1 == 1 ? 2 : 1));
	EXPECT_EQ(RAFT_ESTALE, raft_read_lease(s->nodes[l1].r,
					       raftsim_local_time(s, l1), 0,
					       &index));
	raftsim_kick(s, l1);
	EXPECT_STREQ("", s->violation);
	raftsim_free(s);
}

TEST_HARNESS_MAIN
