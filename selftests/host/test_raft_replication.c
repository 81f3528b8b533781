// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Log replication under raftsim: commits reach every state machine in
 * order, pipelining and batching do what they promise, fast log repair
 * needs a handful of rejections instead of one per entry, an ACK waits for
 * the disk, disks that lose, tear or fail writes lose nothing acknowledged,
 * duplicate client requests apply once, and the weighted quorum rule holds.
 */
#include "kselftest_harness.h"
#include "lib/raftsim.h"

#define MS 1000ULL
#define SEC 1000000ULL

/* the simulator's LAN profile, with pre-vote and check-quorum */
static struct raftsim_opts opts(uint32_t n, uint64_t seed)
{
	return raftsim_lan_opts(n, seed);
}

static uint64_t propose_n(struct raftsim *s, uint32_t leader, uint64_t client,
			  uint64_t first_seq, uint32_t n)
{
	uint64_t idx = 0;
	uint32_t i;

	for (i = 0; i < n; i++) {
		/* a busy leader (writing its disk) gets the next one later */
		while (s->nodes[leader].busy)
			raftsim_step(s);
		if (raftsim_propose(s, leader, client, first_seq + i, &idx))
			return 0;
	}
	return idx;
}

static bool same_state(struct raftsim *s, uint32_t a, uint32_t b)
{
	struct raftsim_node *x = &s->nodes[a], *y = &s->nodes[b];

	return x->n_sm == y->n_sm &&
	       !memcmp(x->sm, y->sm, x->n_sm * sizeof(*x->sm));
}

TEST(commits_reach_every_state_machine_in_order)
{
	struct raftsim_opts o = opts(5, 1);
	struct raftsim *s = raftsim_new(&o);
	uint32_t leader = raftsim_wait_leader(s, 2 * SEC), i;
	uint64_t last;

	ASSERT_NE(0, leader);
	last = propose_n(s, leader, 1, 1, 50);
	ASSERT_NE(0, last);
	ASSERT_TRUE(raftsim_wait_applied(s, last, 2 * SEC));
	for (i = 1; i <= 5; i++) {
		EXPECT_EQ(50, s->nodes[i].n_sm);
		EXPECT_EQ(50, s->nodes[i].sm[49].seq);
		EXPECT_TRUE(same_state(s, 1, i));
	}
	EXPECT_STREQ("", s->violation);
	raftsim_free(s);
}

/* Time for 40 entries to apply everywhere with a fixed 5 ms latency. */
static uint64_t time_to_replicate(uint32_t inflight, uint32_t batch,
				  uint64_t *appends)
{
	struct raftsim_opts o = opts(3, 2);
	struct raftsim *s;
	uint32_t leader;
	uint64_t t0, last, t;

	o.lat_min_us = o.lat_max_us = 5000;
	o.disk_us = 0;
	o.max_inflight = inflight;
	o.max_batch = batch;
	s = raftsim_new(&o);
	leader = raftsim_wait_leader(s, 2 * SEC);
	if (!leader)
		return 0;
	raftsim_run_for(s, 100 * MS);
	t0 = s->now;
	*appends = s->sent_entries;
	last = propose_n(s, leader, 1, 1, 40);
	if (!raftsim_wait_applied(s, last, 10 * SEC) || s->violation[0])
		t = 0;
	else
		t = s->now - t0;
	*appends = s->sent[RAFT_MSG_APPEND];
	raftsim_free(s);
	return t;
}

TEST(pipelining_beats_stop_and_wait)
{
	uint64_t a1, a2;
	uint64_t stop_and_wait = time_to_replicate(1, 1, &a1);
	uint64_t pipelined = time_to_replicate(8, 1, &a2);

	ASSERT_NE(0, stop_and_wait);
	ASSERT_NE(0, pipelined);
	/* one round trip (10 ms) per entry vs. several in flight */
	EXPECT_GE(stop_and_wait, 40 * 10 * MS);
	EXPECT_LT(pipelined * 3, stop_and_wait);
}

TEST(batching_sends_fewer_appends)
{
	uint64_t single, batched;

	ASSERT_NE(0, time_to_replicate(1, 1, &single));
	ASSERT_NE(0, time_to_replicate(1, 16, &batched));
	/* 40 entries to 2 followers: at least 80 APPENDs one at a time */
	EXPECT_GE(single, 80);
	EXPECT_LT(batched * 2, single);
}

/* §5.3: a follower with a long stale suffix is repaired in a few round trips. */
TEST(fast_log_repair_with_conflict_hints)
{
	struct raftsim_opts o = opts(3, 3);
	struct raftsim *s;
	uint32_t l1, l2;
	uint64_t last, rejects;

	o.check_quorum = false;		/* l1 keeps leading its minority */
	s = raftsim_new(&o);
	l1 = raftsim_wait_leader(s, 2 * SEC);
	ASSERT_NE(0, l1);
	raftsim_isolate(s, l1);
	/* 40 entries that will never commit, then the others move on */
	ASSERT_NE(0, propose_n(s, l1, 1, 1, 40));
	raftsim_run_for(s, 50 * MS);
	l2 = 0;
	while (!l2 || l2 == l1) {
		raftsim_run_for(s, 10 * MS);
		l2 = raftsim_leader(s);
		if (s->now > 10 * SEC)
			break;
	}
	ASSERT_NE(l1, l2);
	last = propose_n(s, l2, 2, 1, 5);
	raftsim_run_for(s, 200 * MS);
	rejects = s->rejects;
	raftsim_heal(s);
	ASSERT_TRUE(raftsim_wait_applied(s, last, 3 * SEC));
	EXPECT_EQ(raft_last_index(s->nodes[l2].r), raft_last_index(s->nodes[l1].r));
	EXPECT_EQ(5, s->nodes[l1].n_sm);	/* none of the 40 survived */
	/* one entry per rejection would take 40; hints take a few */
	EXPECT_LE(s->rejects - rejects, 4);
	EXPECT_STREQ("", s->violation);
	raftsim_free(s);
}

/* An ACK waits for the follower's disk: slow disks delay the commit. */
TEST(ack_waits_for_durable_entries)
{
	struct raftsim_opts o = opts(3, 4);
	struct raftsim *s = raftsim_new(&o);
	uint32_t leader = raftsim_wait_leader(s, 2 * SEC), i;
	uint64_t idx, t0;

	ASSERT_NE(0, leader);
	raftsim_run_for(s, 100 * MS);
	for (i = 1; i <= 3; i++)
		if (i != leader)
			s->nodes[i].disk_us = 60 * MS;
	while (s->nodes[leader].busy)
		raftsim_step(s);
	ASSERT_EQ(RAFT_OK, raftsim_propose(s, leader, 1, 1, &idx));
	t0 = s->now;
	while (raft_commit_index(s->nodes[leader].r) < idx && s->now < t0 + SEC)
		raftsim_step(s);
	EXPECT_GE(s->now - t0, 60 * MS);
	EXPECT_LT(s->now - t0, 100 * MS);
	/* one fast follower is enough for a majority again */
	for (i = 1; i <= 3; i++)
		if (i != leader) {
			s->nodes[i].disk_us = -1;
			break;
		}
	raftsim_run_for(s, 500 * MS);
	while (s->nodes[leader].busy)
		raftsim_step(s);
	ASSERT_EQ(RAFT_OK, raftsim_propose(s, leader, 1, 2, &idx));
	t0 = s->now;
	while (raft_commit_index(s->nodes[leader].r) < idx && s->now < t0 + SEC)
		raftsim_step(s);
	EXPECT_LT(s->now - t0, 20 * MS);
	EXPECT_STREQ("", s->violation);
	raftsim_free(s);
}

FIXTURE(disk) {
	struct raftsim *s;
	uint32_t leader, f;
};

FIXTURE_VARIANT(disk) {
	bool tear;		/* crash leaves a torn prefix, not nothing */
	bool fail_write;	/* the write itself fails (fail-stop) */
};

FIXTURE_VARIANT_ADD(disk, lose_unsynced) { .tear = false };
FIXTURE_VARIANT_ADD(disk, torn_write) { .tear = true };
FIXTURE_VARIANT_ADD(disk, failed_write) { .fail_write = true };

FIXTURE_SETUP(disk)
{
	struct raftsim_opts o = opts(3, 5);

	self->s = raftsim_new(&o);
	self->leader = raftsim_wait_leader(self->s, 2 * SEC);
	ASSERT_NE(0, self->leader);
	self->f = self->leader == 1 ? 2 : 1;
}

FIXTURE_TEARDOWN(disk)
{
	raftsim_free(self->s);
}

/* A follower crashes in the middle of writing 20 entries; nothing acked is lost. */
TEST_F(disk, crash_mid_write_loses_nothing_acknowledged)
{
	struct raftsim *s = self->s;
	struct raftsim_node *f = &s->nodes[self->f];
	uint64_t last, i;

	raftsim_run_for(s, 100 * MS);
	f->disk_us = 50 * MS;
	f->tear_on_crash = variant->tear;
	f->fail_next_write = variant->fail_write;
	last = propose_n(s, self->leader, 1, 1, 20);
	ASSERT_NE(0, last);
	/* until the follower is blocked on its write (or failed it) */
	while (f->up && !f->busy)
		raftsim_step(s);
	if (f->up)
		raftsim_crash(s, self->f);
	ASSERT_FALSE(f->up);
	/* what survived is a prefix of what the leader sent */
	for (i = 0; i < f->n_log; i++)
		EXPECT_EQ(f->log[i].term, raft_term_at(s->nodes[self->leader].r,
						       f->log[i].index));
	EXPECT_LT(f->n_log ? f->log[f->n_log - 1].index : 0, last);
	/* the other two commit without it */
	ASSERT_TRUE(raftsim_wait_applied(s, last, 2 * SEC));
	f->disk_us = -1;
	raftsim_restart(s, self->f);
	ASSERT_TRUE(raftsim_wait_applied(s, last, 2 * SEC));
	EXPECT_EQ(20, f->n_sm);
	EXPECT_TRUE(same_state(s, self->f, self->leader));
	EXPECT_STREQ("", s->violation);
}

/* diss. §6.3: the same (client, seq) committed twice is applied once. */
TEST(duplicate_request_applied_once)
{
	struct raftsim_opts o = opts(3, 6);
	struct raftsim *s = raftsim_new(&o);
	uint32_t leader = raftsim_wait_leader(s, 2 * SEC), i;
	uint64_t i1, i2;

	ASSERT_NE(0, leader);
	ASSERT_EQ(RAFT_OK, raftsim_propose(s, leader, 9, 1, &i1));
	while (s->nodes[leader].busy)
		raftsim_step(s);
	ASSERT_EQ(RAFT_OK, raftsim_propose(s, leader, 9, 1, &i2));	/* retry */
	EXPECT_EQ(i1 + 1, i2);
	ASSERT_TRUE(raftsim_wait_applied(s, i2, 2 * SEC));
	for (i = 1; i <= 3; i++) {
		EXPECT_EQ(1, s->nodes[i].n_sm);
		EXPECT_EQ(1, s->nodes[i].dup_skipped);
	}
	EXPECT_STREQ("", s->violation);
	raftsim_free(s);
}

/* Commit counted outside the core (the kernel fast path, played by raftsim). */
TEST(external_commit_from_the_fast_path)
{
	struct raftsim_opts o = opts(5, 8);
	struct raftsim *s;
	uint32_t leader, i;
	uint64_t last;

	o.external_commit = true;
	s = raftsim_new(&o);
	leader = raftsim_wait_leader(s, 2 * SEC);
	ASSERT_NE(0, leader);
	last = propose_n(s, leader, 1, 1, 20);
	ASSERT_TRUE(raftsim_wait_applied(s, last, 2 * SEC));
	for (i = 1; i <= 5; i++)
		EXPECT_EQ(20, s->nodes[i].n_sm);
	EXPECT_STREQ("", s->violation);
	raftsim_free(s);

	/* no fast path: the core does not count acks itself, nothing commits */
	o.fastpath_off = true;
	s = raftsim_new(&o);
	raftsim_run_for(s, 2 * SEC);
	leader = raftsim_leader(s);
	ASSERT_NE(0, leader);
	EXPECT_EQ(0, raft_commit_index(s->nodes[leader].r));
	EXPECT_STREQ("", s->violation);
	raftsim_free(s);
}

/* Weights {3,1,1}, threshold 3: node 1 commits alone; 2 and 3 never can. */
TEST(weighted_quorum)
{
	struct raftsim_opts o = opts(3, 7);
	struct raftsim *s;
	uint64_t idx;

	o.weights[1] = 3;
	o.threshold = 3;
	s = raftsim_new(&o);
	/* only node 1 can gather weight 3 */
	ASSERT_EQ(1, raftsim_wait_leader(s, 3 * SEC));
	raftsim_isolate(s, 1);
	while (s->nodes[1].busy)
		raftsim_step(s);
	ASSERT_EQ(RAFT_OK, raftsim_propose(s, 1, 1, 1, &idx));
	raftsim_run_for(s, 100 * MS);
	EXPECT_EQ(idx, raft_commit_index(s->nodes[1].r));
	EXPECT_EQ(idx, s->nodes[1].sm_applied);
	raftsim_run_for(s, 3 * SEC);
	EXPECT_EQ(1, raftsim_leader(s));
	EXPECT_NE(RAFT_LEADER, raft_role(s->nodes[2].r));
	EXPECT_NE(RAFT_LEADER, raft_role(s->nodes[3].r));
	EXPECT_LT(s->nodes[2].sm_applied, idx);
	EXPECT_STREQ("", s->violation);
	raftsim_free(s);
}

/*
 * Byte bounds (big values): each APPEND carries at most max_batch_bytes of
 * entry data (8-byte entries here: 3 per APPEND, empty ones free), and a byte-bounded
 * window with loss still replicates everything -- lost APPENDs are found
 * by the heartbeat's tip probe, not waited on forever.
 */
TEST(byte_bounds_on_batches_and_window)
{
	struct raftsim_opts o = opts(3, 11);
	struct raftsim *s;
	uint32_t leader, i;
	uint64_t last;

	o.max_batch = 16;
	o.max_batch_bytes = 24;
	o.max_inflight_bytes = 16;
	o.loss_pm = 100;
	s = raftsim_new(&o);
	leader = raftsim_wait_leader(s, 5 * SEC);
	ASSERT_NE(0, leader);
	last = propose_n(s, leader, 1, 1, 60);
	ASSERT_NE(0, last);
	ASSERT_TRUE(raftsim_wait_applied(s, last, 60 * SEC));
	/* three 8-byte entries, plus the leader's empty no-op when it rides along */
	EXPECT_GE(4, s->max_append_entries);
	EXPECT_LE(1, s->max_append_entries);
	for (i = 1; i <= 3; i++)
		EXPECT_TRUE(same_state(s, 1, i));
	EXPECT_STREQ("", s->violation);
	raftsim_free(s);
}

TEST_HARNESS_MAIN
