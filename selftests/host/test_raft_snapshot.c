// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Snapshots under raftsim (§7): the log is compacted under state-machine
 * snapshots, a follower that fell behind the compaction point is sent the
 * snapshot in chunks (also over a lossy network), and a node restarts from
 * its own snapshot.
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
	o.check_quorum = true;
	o.lat_min_us = 1000;
	o.lat_max_us = 2000;
	o.disk_us = 500;
	o.snapshot_every = 10;
	o.snapshot_keep = 2;
	o.snapshot_chunk = 64;
	return o;
}

static uint64_t propose_n(struct raftsim *s, uint32_t leader, uint32_t n)
{
	uint64_t idx = 0;
	uint32_t i;

	for (i = 0; i < n; i++) {
		while (s->nodes[leader].busy)
			raftsim_step(s);
		if (raftsim_propose(s, leader, 1, i + 1, &idx))
			return 0;
	}
	return idx;
}

TEST(compaction_bounds_the_log)
{
	struct raftsim_opts o = opts(1);
	struct raftsim *s = raftsim_new(&o);
	uint32_t leader = raftsim_wait_leader(s, 2 * SEC), i;
	uint64_t last;

	ASSERT_NE(0, leader);
	last = propose_n(s, leader, 100);
	ASSERT_NE(0, last);
	ASSERT_TRUE(raftsim_wait_applied(s, last, 3 * SEC));
	for (i = 1; i <= 3; i++) {
		struct raftsim_node *nd = &s->nodes[i];

		EXPECT_EQ(100, nd->n_sm);
		/* a snapshot at most 10 behind, and 2 entries kept under it */
		EXPECT_GE(raft_snapshot_index(nd->r), last - 12);
		EXPECT_GE(nd->snap.index, last - 10);
		EXPECT_LE(nd->n_log, 10);
	}
	EXPECT_STREQ("", s->violation);
	raftsim_free(s);
}

FIXTURE(lagging) {
	struct raftsim *s;
};

FIXTURE_VARIANT(lagging) {
	uint32_t loss_pm;
};

FIXTURE_VARIANT_ADD(lagging, clean) { .loss_pm = 0 };
FIXTURE_VARIANT_ADD(lagging, lossy) { .loss_pm = 200 };

FIXTURE_SETUP(lagging)
{
	struct raftsim_opts o = opts(2);

	self->s = raftsim_new(&o);
}

FIXTURE_TEARDOWN(lagging)
{
	raftsim_free(self->s);
}

/* §7: a follower behind the compaction point gets InstallSnapshot in chunks. */
TEST_F(lagging, follower_behind_compaction_gets_snapshot_chunks)
{
	struct raftsim *s = self->s;
	uint32_t leader = raftsim_wait_leader(s, 2 * SEC), f;
	uint64_t last, chunks, size;

	ASSERT_NE(0, leader);
	f = leader == 1 ? 2 : 1;
	raftsim_crash(s, f);
	last = propose_n(s, leader, 100);
	ASSERT_NE(0, last);
	raftsim_run_for(s, 200 * MS);
	ASSERT_GT(raft_snapshot_index(s->nodes[leader].r), 50);
	size = raft_last_snapshot(s->nodes[leader].r)->size;
	ASSERT_GT(size, 2000);
	raftsim_set_net(s, variant->loss_pm, 0, 1000, 2000);
	chunks = s->sent[RAFT_MSG_SNAPSHOT];
	raftsim_restart(s, f);
	ASSERT_TRUE(raftsim_wait_applied(s, last, 10 * SEC));
	/* every chunk of 64 bytes went at least once */
	EXPECT_GE(s->sent[RAFT_MSG_SNAPSHOT] - chunks, (size + 63) / 64);
	EXPECT_GT(raft_snapshot_index(s->nodes[f].r), 50);
	EXPECT_EQ(100, s->nodes[f].n_sm);
	EXPECT_EQ(0, memcmp(s->nodes[f].sm, s->nodes[leader].sm,
			    100 * sizeof(struct raftsim_cmd)));
	EXPECT_STREQ("", s->violation);
}

/* A node restarts from its own snapshot plus the entries after it. */
TEST(restart_from_own_snapshot)
{
	struct raftsim_opts o = opts(3);
	struct raftsim *s = raftsim_new(&o);
	uint32_t leader = raftsim_wait_leader(s, 2 * SEC), f;
	uint64_t last, snap;

	ASSERT_NE(0, leader);
	f = leader == 1 ? 2 : 1;
	last = propose_n(s, leader, 35);
	ASSERT_TRUE(raftsim_wait_applied(s, last, 2 * SEC));
	snap = s->nodes[f].snap.index;
	ASSERT_GT(snap, 20);
	raftsim_crash(s, f);
	raftsim_restart(s, f);
	/* state machine rebuilt from the snapshot before anything is applied */
	EXPECT_EQ(snap, s->nodes[f].sm_applied);
	EXPECT_EQ(snap, raft_snapshot_index(s->nodes[f].r));
	ASSERT_TRUE(raftsim_wait_applied(s, last, 2 * SEC));
	EXPECT_EQ(35, s->nodes[f].n_sm);
	EXPECT_STREQ("", s->violation);
	raftsim_free(s);
}

TEST_HARNESS_MAIN
