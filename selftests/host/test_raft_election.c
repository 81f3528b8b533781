// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Raft elections under raftsim: a leader emerges in every cluster size,
 * a crashed leader is replaced, pre-vote keeps a partitioned node from
 * disrupting the cluster, check-quorum makes an isolated leader step down,
 * and a restarted node keeps its term and vote.
 */
#include "kselftest_harness.h"
#include "lib/raftsim.h"

#define SEC 1000000ULL

static struct raftsim_opts base_opts(uint32_t n, uint64_t seed)
{
	struct raftsim_opts o = { 0 };

	o.n = n;
	o.seed = seed;
	o.tick_us = 10000;		/* 10 ms ticks */
	o.election_ticks = 10;		/* 100..200 ms election timeouts */
	o.pre_vote = true;
	o.check_quorum = true;
	o.lat_min_us = 500;
	o.lat_max_us = 3000;
	o.disk_us = 1000;
	return o;
}

static uint32_t count_leaders(struct raftsim *s, uint64_t term)
{
	uint32_t i, n = 0;

	for (i = 1; i <= RAFTSIM_MAX_NODES; i++)
		if (s->nodes[i].up && raft_role(s->nodes[i].r) == RAFT_LEADER &&
		    raft_term(s->nodes[i].r) == term)
			n++;
	return n;
}

FIXTURE(size) {
	struct raftsim *s;
};

FIXTURE_VARIANT(size) {
	uint32_t n;
};

FIXTURE_VARIANT_ADD(size, one) { .n = 1 };
FIXTURE_VARIANT_ADD(size, three) { .n = 3 };
FIXTURE_VARIANT_ADD(size, five) { .n = 5 };
FIXTURE_VARIANT_ADD(size, seven) { .n = 7 };

FIXTURE_SETUP(size)
{
	struct raftsim_opts o = base_opts(variant->n, 42);

	self->s = raftsim_new(&o);
	ASSERT_NE(NULL, self->s);
}

FIXTURE_TEARDOWN(size)
{
	raftsim_free(self->s);
}

/* One leader, known to every node, within a few election timeouts. */
TEST_F(size, one_leader_everyone_follows)
{
	struct raftsim *s = self->s;
	uint32_t leader = raftsim_wait_leader(s, 2 * SEC), i;
	uint64_t term;

	ASSERT_NE(0, leader);
	term = raft_term(s->nodes[leader].r);
	raftsim_run_for(s, SEC / 2);
	ASSERT_STREQ("", s->violation);
	EXPECT_EQ(leader, raftsim_leader(s));
	EXPECT_EQ(term, raft_term(s->nodes[leader].r));
	EXPECT_EQ(1, count_leaders(s, term));
	for (i = 1; i <= variant->n; i++) {
		EXPECT_EQ(leader, raft_leader(s->nodes[i].r));
		EXPECT_EQ(term, raft_term(s->nodes[i].r));
	}
}

/* The leader crashes: the rest elect another in a later term (one node: itself). */
TEST_F(size, crashed_leader_is_replaced)
{
	struct raftsim *s = self->s;
	uint32_t l1, l2;
	uint64_t t1;

	l1 = raftsim_wait_leader(s, 2 * SEC);
	if (variant->n == 1) {
		/* nobody to take over: the node leads again after a restart */
		ASSERT_EQ(1, l1);
		t1 = raft_term(s->nodes[1].r);
		raftsim_crash(s, 1);
		raftsim_restart(s, 1);
		ASSERT_EQ(1, raftsim_wait_leader(s, 2 * SEC));
		EXPECT_GT(raft_term(s->nodes[1].r), t1);
		EXPECT_STREQ("", s->violation);
		return;
	}
	ASSERT_NE(0, l1);
	t1 = raft_term(s->nodes[l1].r);
	raftsim_crash(s, l1);
	l2 = raftsim_wait_leader(s, 3 * SEC);
	ASSERT_NE(0, l2);
	EXPECT_NE(l1, l2);
	EXPECT_GT(raft_term(s->nodes[l2].r), t1);
	/* the old leader comes back as a follower of the new one */
	raftsim_restart(s, l1);
	raftsim_run_for(s, SEC);
	ASSERT_STREQ("", s->violation);
	EXPECT_EQ(RAFT_FOLLOWER, raft_role(s->nodes[l1].r));
	EXPECT_EQ(l2, raft_leader(s->nodes[l1].r));
}

FIXTURE(three) {
	struct raftsim *s;
};

FIXTURE_SETUP(three)
{
	struct raftsim_opts o = base_opts(3, 7);

	self->s = raftsim_new(&o);
	ASSERT_NE(NULL, self->s);
}

FIXTURE_TEARDOWN(three)
{
	raftsim_free(self->s);
}

static uint32_t a_follower(uint32_t leader)
{
	return leader == 1 ? 2 : 1;
}

/* diss. §9.6: a partitioned follower with pre-vote never raises its term. */
TEST_F(three, prevote_partitioned_node_does_not_disrupt)
{
	struct raftsim *s = self->s;
	uint32_t leader = raftsim_wait_leader(s, 2 * SEC), f;
	uint64_t term;

	ASSERT_NE(0, leader);
	term = raft_term(s->nodes[leader].r);
	f = a_follower(leader);
	raftsim_isolate(s, f);
	raftsim_run_for(s, 5 * SEC);
	EXPECT_EQ(term, raft_term(s->nodes[f].r));
	EXPECT_EQ(RAFT_PRECANDIDATE, raft_role(s->nodes[f].r));
	raftsim_heal(s);
	raftsim_run_for(s, 2 * SEC);
	ASSERT_STREQ("", s->violation);
	EXPECT_EQ(leader, raftsim_leader(s));
	EXPECT_EQ(term, raft_term(s->nodes[leader].r));
	EXPECT_EQ(leader, raft_leader(s->nodes[f].r));
}

/* Without pre-vote the same partition does raise the term and depose the leader. */
TEST(without_prevote_partitioned_node_disrupts)
{
	struct raftsim_opts o = base_opts(3, 7);
	struct raftsim *s;
	uint32_t leader, f;
	uint64_t term;

	o.pre_vote = false;
	s = raftsim_new(&o);
	leader = raftsim_wait_leader(s, 2 * SEC);
	ASSERT_NE(0, leader);
	term = raft_term(s->nodes[leader].r);
	f = a_follower(leader);
	raftsim_isolate(s, f);
	raftsim_run_for(s, 5 * SEC);
	EXPECT_GT(raft_term(s->nodes[f].r), term + 5);
	raftsim_heal(s);
	raftsim_run_for(s, SEC);
	ASSERT_NE(0, raftsim_wait_leader(s, 3 * SEC));
	EXPECT_GT(raft_term(s->nodes[raftsim_leader(s)].r), term + 5);
	EXPECT_STREQ("", s->violation);
	raftsim_free(s);
}

/* diss. §6.2: an isolated leader steps down; the majority elects another. */
TEST_F(three, check_quorum_isolated_leader_steps_down)
{
	struct raftsim *s = self->s;
	uint32_t leader = raftsim_wait_leader(s, 2 * SEC), other;
	uint64_t term;

	ASSERT_NE(0, leader);
	term = raft_term(s->nodes[leader].r);
	raftsim_isolate(s, leader);
	/* at most two election timeouts (2 x 100 ms) plus slack */
	raftsim_run_for(s, 500000);
	EXPECT_NE(RAFT_LEADER, raft_role(s->nodes[leader].r));
	other = raftsim_wait_leader(s, 2 * SEC);
	ASSERT_NE(0, other);
	EXPECT_NE(leader, other);
	EXPECT_GT(raft_term(s->nodes[other].r), term);
	ASSERT_STREQ("", s->violation);
}

/* Without check-quorum the isolated leader keeps believing it leads. */
TEST(without_check_quorum_isolated_leader_stays)
{
	struct raftsim_opts o = base_opts(3, 7);
	struct raftsim *s;
	uint32_t leader;

	o.check_quorum = false;
	s = raftsim_new(&o);
	leader = raftsim_wait_leader(s, 2 * SEC);
	ASSERT_NE(0, leader);
	raftsim_isolate(s, leader);
	raftsim_run_for(s, 2 * SEC);
	EXPECT_EQ(RAFT_LEADER, raft_role(s->nodes[leader].r));
	EXPECT_STREQ("", s->violation);
	raftsim_free(s);
}

/* Figure 2: currentTerm and votedFor survive a crash. */
TEST_F(three, term_and_vote_survive_restart)
{
	struct raftsim *s = self->s;
	uint32_t leader = raftsim_wait_leader(s, 2 * SEC), f;
	uint64_t term;
	uint32_t vote;

	ASSERT_NE(0, leader);
	f = a_follower(leader);
	raftsim_run_for(s, 100000);
	term = raft_term(s->nodes[f].r);
	vote = raft_vote(s->nodes[f].r);
	raftsim_crash(s, f);
	EXPECT_EQ(term, s->nodes[f].hs.term);
	EXPECT_EQ(vote, s->nodes[f].hs.vote);
	raftsim_restart(s, f);
	EXPECT_EQ(term, raft_term(s->nodes[f].r));
	EXPECT_EQ(vote, raft_vote(s->nodes[f].r));
	EXPECT_EQ(RAFT_FOLLOWER, raft_role(s->nodes[f].r));
	ASSERT_STREQ("", s->violation);
}

TEST_HARNESS_MAIN
