// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Membership and leadership transfer under raftsim: a new server joins as a
 * learner and is promoted once caught up (diss. §4.2.1), changes go one at a
 * time (§4.1), removed followers and a removed leader (§4.2.2), and
 * TimeoutNow transfers (§3.10).
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

static uint64_t propose_n(struct raftsim *s, uint32_t leader, uint64_t seq0,
			  uint32_t n)
{
	uint64_t idx = 0;
	uint32_t i;

	for (i = 0; i < n; i++) {
		while (s->nodes[leader].busy)
			raftsim_step(s);
		if (raftsim_propose(s, leader, 1, seq0 + i, &idx))
			return 0;
	}
	return idx;
}

static void settle(struct raftsim *s, uint32_t id)
{
	while (s->nodes[id].busy)
		raftsim_step(s);
}

static const struct raft_member *member(struct raftsim *s, uint32_t at,
					uint32_t id)
{
	return raft_conf_find(raft_conf(s->nodes[at].r), id);
}

static bool promoted(struct raftsim *s, void *arg)
{
	uint32_t leader = raftsim_leader(s);
	const struct raft_member *m;

	if (!leader)
		return false;
	m = member(s, leader, *(uint32_t *)arg);
	return m && m->role == RAFT_VOTER &&
	       raft_commit_index(s->nodes[leader].r) >=
	       raft_last_index(s->nodes[leader].r);
}

TEST(new_server_joins_as_learner_then_votes)
{
	struct raftsim_opts o = opts(3, 1);
	struct raftsim *s = raftsim_new(&o);
	uint32_t leader = raftsim_wait_leader(s, 2 * SEC), id = 4;
	const struct raft_member *m;
	uint64_t last;

	ASSERT_NE(0, leader);
	last = propose_n(s, leader, 1, 30);
	ASSERT_TRUE(raftsim_wait_applied(s, last, 2 * SEC));
	settle(s, leader);
	ASSERT_EQ(RAFT_OK, raft_add_server(s->nodes[leader].r, 4, 1));
	m = member(s, leader, 4);
	ASSERT_NE(NULL, m);
	EXPECT_EQ(RAFT_LEARNER, m->role);
	EXPECT_EQ(0, m->weight);
	/* a learner does not change the quorum */
	EXPECT_EQ(2, raft_conf_threshold(raft_conf(s->nodes[leader].r)));
	/* one change at a time */
	EXPECT_EQ(RAFT_EBUSY, raft_add_server(s->nodes[leader].r, 5, 1));
	raftsim_kick(s, leader);
	raftsim_start_node(s, 4);
	ASSERT_TRUE(raftsim_run_while_not(s, promoted, &id, 3 * SEC));
	m = member(s, raftsim_leader(s), 4);
	EXPECT_EQ(1, m->weight);
	EXPECT_EQ(3, raft_conf_threshold(raft_conf(s->nodes[raftsim_leader(s)].r)));
	ASSERT_TRUE(raftsim_wait_applied(s, last, 2 * SEC));
	EXPECT_EQ(30, s->nodes[4].n_sm);
	EXPECT_STREQ("", s->violation);
	raftsim_free(s);
}

/* Weight 0 at joining: a learner for good, applying but never voting. */
TEST(pure_learner_never_votes)
{
	struct raftsim_opts o = opts(3, 2);
	struct raftsim *s = raftsim_new(&o);
	uint32_t leader = raftsim_wait_leader(s, 2 * SEC);
	uint64_t last;

	ASSERT_NE(0, leader);
	settle(s, leader);
	ASSERT_EQ(RAFT_OK, raft_add_server(s->nodes[leader].r, 4, 0));
	raftsim_kick(s, leader);
	raftsim_start_node(s, 4);
	last = propose_n(s, leader, 1, 10);
	ASSERT_TRUE(raftsim_wait_applied(s, last, 2 * SEC));
	raftsim_run_for(s, SEC);
	EXPECT_EQ(RAFT_LEARNER, member(s, leader, 4)->role);
	EXPECT_EQ(10, s->nodes[4].n_sm);
	/* cut it off: it never campaigns */
	raftsim_isolate(s, 4);
	raftsim_run_for(s, 2 * SEC);
	EXPECT_EQ(RAFT_FOLLOWER, raft_role(s->nodes[4].r));
	EXPECT_EQ(raft_term(s->nodes[leader].r), raft_term(s->nodes[4].r));
	EXPECT_STREQ("", s->violation);
	raftsim_free(s);
}

TEST(removed_follower_gets_nothing_more)
{
	struct raftsim_opts o = opts(3, 3);
	struct raftsim *s = raftsim_new(&o);
	uint32_t leader = raftsim_wait_leader(s, 2 * SEC), f;
	uint64_t last, before;

	ASSERT_NE(0, leader);
	f = leader == 3 ? 2 : 3;
	settle(s, leader);
	ASSERT_EQ(RAFT_OK, raft_remove_server(s->nodes[leader].r, f));
	raftsim_kick(s, leader);
	raftsim_run_for(s, 200 * MS);
	EXPECT_EQ(NULL, member(s, leader, f));
	EXPECT_EQ(2, raft_conf(s->nodes[leader].r)->n);
	before = s->nodes[f].sm_applied;
	last = propose_n(s, leader, 1, 10);
	raftsim_run_for(s, SEC);
	EXPECT_EQ(last, raft_commit_index(s->nodes[leader].r));
	EXPECT_EQ(before, s->nodes[f].sm_applied);
	EXPECT_EQ(10, s->nodes[leader].n_sm);
	EXPECT_STREQ("", s->violation);
	raftsim_free(s);
}

/* diss. §4.2.2: a leader that removes itself steps down once that commits. */
TEST(removed_leader_steps_down)
{
	struct raftsim_opts o = opts(3, 4);
	struct raftsim *s = raftsim_new(&o);
	uint32_t l1 = raftsim_wait_leader(s, 2 * SEC), l2;
	uint64_t t1;

	ASSERT_NE(0, l1);
	t1 = raft_term(s->nodes[l1].r);
	settle(s, l1);
	ASSERT_EQ(RAFT_OK, raft_remove_server(s->nodes[l1].r, l1));
	raftsim_kick(s, l1);
	raftsim_run_for(s, 100 * MS);
	EXPECT_NE(RAFT_LEADER, raft_role(s->nodes[l1].r));
	l2 = raftsim_wait_leader(s, 2 * SEC);
	ASSERT_NE(0, l2);
	EXPECT_NE(l1, l2);
	EXPECT_GT(raft_term(s->nodes[l2].r), t1);
	EXPECT_EQ(NULL, member(s, l2, l1));
	EXPECT_STREQ("", s->violation);
	raftsim_free(s);
}

/* diss. §3.10: TimeoutNow hands leadership over within one round trip. */
TEST(leadership_transfer)
{
	struct raftsim_opts o = opts(5, 5);
	struct raftsim *s = raftsim_new(&o);
	uint32_t l1 = raftsim_wait_leader(s, 2 * SEC), target;
	uint64_t t1, t0;

	ASSERT_NE(0, l1);
	target = l1 == 5 ? 4 : 5;
	raftsim_run_for(s, 100 * MS);
	settle(s, l1);
	t1 = raft_term(s->nodes[l1].r);
	EXPECT_EQ(RAFT_EINVAL, raft_transfer_leadership(s->nodes[l1].r, l1));
	EXPECT_EQ(RAFT_EINVAL, raft_transfer_leadership(s->nodes[l1].r, 7));
	ASSERT_EQ(RAFT_OK, raft_transfer_leadership(s->nodes[l1].r, target));
	EXPECT_EQ(RAFT_EBUSY, raft_propose(s->nodes[l1].r, 1, 1, "x", 1, NULL));
	raftsim_kick(s, l1);
	t0 = s->now;
	while (raftsim_leader(s) != target && s->now < t0 + SEC)
		raftsim_step(s);
	EXPECT_EQ(target, raftsim_leader(s));
	/* far quicker than an election timeout (100-200 ms) */
	EXPECT_LT(s->now - t0, 20 * MS);
	EXPECT_EQ(t1 + 1, raft_term(s->nodes[target].r));
	raftsim_run_for(s, 100 * MS);
	EXPECT_EQ(RAFT_FOLLOWER, raft_role(s->nodes[l1].r));
	EXPECT_STREQ("", s->violation);
	raftsim_free(s);
}

/* The target is caught up first; it wins with everything committed. */
TEST(transfer_to_lagging_follower)
{
	struct raftsim_opts o = opts(3, 6);
	struct raftsim *s = raftsim_new(&o);
	uint32_t l1 = raftsim_wait_leader(s, 2 * SEC), target;
	uint64_t last;

	ASSERT_NE(0, l1);
	target = l1 == 1 ? 2 : 1;
	raftsim_crash(s, target);
	last = propose_n(s, l1, 1, 40);
	ASSERT_NE(0, last);
	raftsim_run_for(s, 100 * MS);
	raftsim_restart(s, target);
	settle(s, l1);
	ASSERT_EQ(RAFT_OK, raft_transfer_leadership(s->nodes[l1].r, target));
	raftsim_kick(s, l1);
	raftsim_run_for(s, 150 * MS);
	ASSERT_EQ(target, raftsim_leader(s));
	EXPECT_GE(raft_last_index(s->nodes[target].r), last);
	ASSERT_TRUE(raftsim_wait_applied(s, last, SEC));
	EXPECT_EQ(40, s->nodes[target].n_sm);
	EXPECT_STREQ("", s->violation);
	raftsim_free(s);
}

TEST_HARNESS_MAIN
