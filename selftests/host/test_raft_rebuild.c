// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * A node rebuilt from its peers (raft_rebuild_begin, truthd --rebuild)
 * under raftsim: it grants no vote and never campaigns until its durable
 * log reaches the leader's commit index, which stops a lagging node from
 * being elected with the emptied node's vote and losing a committed entry
 * (the control run without the rule shows the checker catching exactly
 * that); it catches up from the log or from a snapshot; with its term
 * and vote lost too, it never votes in a term any
 * peer had reached; once caught up it votes again and elections work.
 */
#include <string.h>

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
	o.lat_min_us = 500;
	o.lat_max_us = 2000;
	o.disk_us = 500;
	return o;
}

/* The disk failed: everything but (maybe) the term and vote is gone. */
static void wipe(struct raftsim *s, uint32_t id, bool keep_term)
{
	struct raftsim_node *nd = &s->nodes[id];

	raftsim_disk_truncate(nd, 0);
	free(nd->snap.data);
	memset(&nd->snap, 0, sizeof(nd->snap));
	if (!keep_term)
		memset(&nd->hs, 0, sizeof(nd->hs));
}

static uint64_t disk_last(const struct raftsim_node *nd)
{
	return nd->n_log ? nd->log[nd->n_log - 1].index : nd->snap.index;
}

/* What truthd does after each ready: clear the marker once caught up. */
static void rebuild_poll(struct raftsim *s, uint32_t id)
{
	struct raftsim_node *nd = &s->nodes[id];
	uint64_t target;

	if (!nd->up || !raft_rebuilding(nd->r))
		return;
	target = raft_rebuild_target(nd->r);
	if (target && disk_last(nd) >= target)
		raft_rebuild_done(nd->r);
}

/* Run for us in 1 ms slices; fail if id ever votes for another node
 * while rebuilding, or in a term <= fence. */
#define run_watching(s, id, us, fence) run_watching_(_metadata, s, id, us, fence)
static bool run_watching_(struct __test_metadata *_metadata, struct raftsim *s, uint32_t id, uint64_t us,
			 uint64_t fence)
{
	struct raftsim_node *nd = &s->nodes[id];
	uint64_t end = s->now + us, term = nd->up ? raft_term(nd->r) : 0;
	uint32_t vote = nd->up ? raft_vote(nd->r) : 0;	/* cast before */

	while (s->now < end && !s->violation[0]) {
		raftsim_run_for(s, MS);
		rebuild_poll(s, id);
		if (!nd->up)
			continue;
		if (raft_term(nd->r) == term && raft_vote(nd->r) == vote)
			continue;
		term = raft_term(nd->r);
		vote = raft_vote(nd->r);
		if (vote != RAFT_NONE && vote != id &&
		    (raft_rebuilding(nd->r) || term <= fence)) {
			TH_LOG("node %u voted for %u in term %llu%s", id, vote,
			       (unsigned long long)term,
			       raft_rebuilding(nd->r) ? " while rebuilding" : "");
			return false;
		}
	}
	return true;
}

static void propose_n(struct raftsim *s, uint32_t leader, uint64_t from,
		      uint32_t n, uint64_t *last)
{
	uint32_t i, tries;

	/* a node writing its disk takes no proposal: let time pass */
	for (i = 0; i < n; i++)
		for (tries = 0; tries < 1000; tries++) {
			if (raftsim_propose(s, leader, 1, from + i, last) == RAFT_OK)
				break;
			raftsim_run_for(s, 100);
		}
}

static uint32_t other(uint32_t a, uint32_t b)
{
	uint32_t i;

	for (i = 1; i <= 3; i++)
		if (i != a && i != b)
			return i;
	return 0;
}

/*
 * Leader L, lagging follower F (cut off from L), follower R that helped
 * commit entries F lacks.  R loses its disk, L crashes, R comes back:
 * only R's vote could make F leader.
 */
static uint64_t last_committed;

static void lose_committed_setup(struct raftsim *s, uint32_t *L, uint32_t *F,
				 uint32_t *R, bool rebuild,
				 struct __test_metadata *_metadata)
{
	uint64_t last = 0;

	*L = raftsim_wait_leader(s, 2 * SEC);
	ASSERT_NE(0, *L);
	*R = *L % 3 + 1;
	*F = other(*L, *R);
	propose_n(s, *L, 1, 5, &last);
	ASSERT_TRUE(raftsim_wait_applied(s, last, 2 * SEC));
	raftsim_cut(s, *L, *F, true);
	raftsim_cut(s, *F, *L, true);
	propose_n(s, *L, 100, 20, &last);
	raftsim_run_for(s, 200 * MS);
	/* committed on L and R only */
	ASSERT_GE(raft_commit_index(s->nodes[*L].r), last);
	ASSERT_LT(raft_last_index(s->nodes[*F].r), last);
	last_committed = last;
	raftsim_crash(s, *R);
	wipe(s, *R, true);
	raftsim_crash(s, *L);
	raftsim_heal(s);
	raftsim_restart(s, *R);
	if (rebuild)
		raft_rebuild_begin(s->nodes[*R].r, false);
}

/* Control: with an empty log and no rule, R elects F and a committed entry is lost. */
TEST(empty_log_vote_loses_committed_entry)
{
	struct raftsim_opts o = opts(7);
	struct raftsim *s = raftsim_new(&o);
	uint32_t L, F, R;

	ASSERT_NE(NULL, s);
	lose_committed_setup(s, &L, &F, &R, false, _metadata);
	raftsim_run_for(s, 3 * SEC);
	TH_LOG("without the rule: %s", s->violation);
	EXPECT_NE(NULL, strstr(s->violation, "leader completeness"));
	raftsim_free(s);
}

/* With the rule: no leader until L is back, then R catches up and votes again. */
TEST(rebuilding_node_prevents_the_loss)
{
	struct raftsim_opts o = opts(7);
	struct raftsim *s = raftsim_new(&o);
	uint32_t L, F, R, leader;
	uint64_t term_f;
	uint32_t vote_r;
	char why[256];

	ASSERT_NE(NULL, s);
	lose_committed_setup(s, &L, &F, &R, true, _metadata);
	term_f = raft_term(s->nodes[F].r);
	vote_r = raft_vote(s->nodes[R].r);
	ASSERT_TRUE(run_watching(s, R, 3 * SEC, 0));
	ASSERT_STREQ("", s->violation);
	EXPECT_EQ(0, raftsim_leader(s));
	EXPECT_TRUE(raft_rebuilding(s->nodes[R].r));
	/* F did try: pre-votes were asked and refused */
	EXPECT_EQ(term_f, raft_term(s->nodes[R].r));
	EXPECT_EQ(vote_r, raft_vote(s->nodes[R].r));
	TH_LOG("F term %llu -> %llu, no leader while R rebuilds",
	       (unsigned long long)term_f,
	       (unsigned long long)raft_term(s->nodes[F].r));

	raftsim_restart(s, L);
	ASSERT_TRUE(run_watching(s, R, 2 * SEC, 0));
	leader = raftsim_leader(s);
	ASSERT_NE(0, leader);
	EXPECT_NE(R, leader);
	EXPECT_FALSE(raft_rebuilding(s->nodes[R].r));
	TH_LOG("leader %u commit %llu; R caught up to %llu", leader,
	       (unsigned long long)raft_commit_index(s->nodes[leader].r),
	       (unsigned long long)disk_last(&s->nodes[R]));
	EXPECT_GE(disk_last(&s->nodes[R]), last_committed);

	/* R votes again: without the leader, R's vote makes the next one */
	raftsim_crash(s, leader);
	raftsim_run_for(s, 3 * SEC);
	ASSERT_STREQ("", s->violation);
	EXPECT_NE(0, raftsim_leader(s));
	raftsim_restart(s, leader);
	raftsim_run_for(s, SEC);
	ASSERT_TRUE(raftsim_check_acked(s, why, sizeof(why))) TH_LOG("%s", why);
	ASSERT_STREQ("", s->violation);
	raftsim_free(s);
}

/*
 * The leader is down and R rebuilds next to F, which holds everything:
 * R's vote would even be safe here, but R cannot know that, so there is
 * no leader (the price of the rule) until L is back.
 */
FIXTURE(snap) {
	int unused;
};

FIXTURE_VARIANT(snap) {
	uint32_t every;			/* snapshot every N applies, 0 = never */
};

/* with snapshots, R catches up through InstallSnapshot */
FIXTURE_VARIANT_ADD(snap, log_only) { .every = 0 };
FIXTURE_VARIANT_ADD(snap, snapshots) { .every = 8 };

FIXTURE_SETUP(snap) {}
FIXTURE_TEARDOWN(snap) {}

TEST_F(snap, never_votes_while_rebuilding)
{
	struct raftsim_opts o = opts(11);
	struct raftsim *s = raftsim_new(&o);
	uint64_t last = 0, term_r, prevotes;
	uint32_t L, R, F, leader;

	raftsim_free(s);
	o.snapshot_every = variant->every;
	o.snapshot_keep = 2;
	s = raftsim_new(&o);
	ASSERT_NE(NULL, s);
	L = raftsim_wait_leader(s, 2 * SEC);
	ASSERT_NE(0, L);
	R = L % 3 + 1;
	F = other(L, R);
	propose_n(s, L, 1, 50, &last);
	ASSERT_TRUE(raftsim_wait_applied(s, last, 2 * SEC));
	raftsim_crash(s, R);
	wipe(s, R, true);
	raftsim_crash(s, L);
	raftsim_restart(s, R);
	raft_rebuild_begin(s->nodes[R].r, false);
	term_r = raft_term(s->nodes[R].r);
	prevotes = s->sent[RAFT_MSG_PREVOTE];
	ASSERT_TRUE(run_watching(s, R, 5 * SEC, 0));
	ASSERT_STREQ("", s->violation);
	EXPECT_EQ(0, raftsim_leader(s));
	EXPECT_TRUE(raft_rebuilding(s->nodes[R].r));
	/* F kept asking; R never campaigned (its term only follows F's) */
	EXPECT_LT(prevotes + 10, s->sent[RAFT_MSG_PREVOTE]);
	EXPECT_NE(RAFT_CANDIDATE, raft_role(s->nodes[R].r));
	EXPECT_NE(RAFT_PRECANDIDATE, raft_role(s->nodes[R].r));
	EXPECT_LE(raft_term(s->nodes[R].r), raft_term(s->nodes[F].r));
	TH_LOG("5 s without L: %llu pre-votes asked, none granted by R; R term %llu -> %llu",
	       (unsigned long long)(s->sent[RAFT_MSG_PREVOTE] - prevotes),
	       (unsigned long long)term_r,
	       (unsigned long long)raft_term(s->nodes[R].r));

	raftsim_restart(s, L);
	ASSERT_TRUE(run_watching(s, R, 2 * SEC, 0));
	leader = raftsim_leader(s);
	ASSERT_NE(0, leader);
	EXPECT_FALSE(raft_rebuilding(s->nodes[R].r));
	EXPECT_GE(disk_last(&s->nodes[R]), last);
	TH_LOG("R caught up to %llu, its snapshot at %llu",
	       (unsigned long long)disk_last(&s->nodes[R]),
	       (unsigned long long)s->nodes[R].snap.index);
	if (variant->every)
		EXPECT_LT(0, s->nodes[R].snap.index);
	/* caught up: R's vote counts again */
	raftsim_crash(s, leader);
	ASSERT_TRUE(run_watching(s, R, 2 * SEC, 0));
	EXPECT_NE(0, raftsim_leader(s));
	ASSERT_STREQ("", s->violation);
	raftsim_free(s);
}

/*
 * Term and vote lost too: R first waits to hear from every voter, then
 * burns every term up to the highest it heard; it never votes in one of
 * them.  Elections still work afterwards.
 */
TEST(lost_term_is_fenced)
{
	struct raftsim_opts o = opts(23);
	struct raftsim *s = raftsim_new(&o);
	uint32_t L, R, F, i, leader;
	uint64_t last = 0, fence = 0;
	char why[256];

	ASSERT_NE(NULL, s);
	L = raftsim_wait_leader(s, 2 * SEC);
	ASSERT_NE(0, L);
	R = L % 3 + 1;
	F = other(L, R);
	/* a few elections first, so the term is well above 1 */
	for (i = 0; i < 3; i++) {
		leader = raftsim_wait_leader(s, 2 * SEC);
		ASSERT_NE(0, leader);
		propose_n(s, leader, 10 * i + 1, 5, &last);
		raftsim_run_for(s, 100 * MS);
		raftsim_crash(s, leader);
		raftsim_run_for(s, SEC);
		raftsim_restart(s, leader);
	}
	leader = raftsim_wait_leader(s, 2 * SEC);
	ASSERT_NE(0, leader);
	R = leader % 3 + 1;
	raftsim_crash(s, R);
	wipe(s, R, false);
	for (i = 1; i <= 3; i++)
		if (i != R && raft_term(s->nodes[i].r) > fence)
			fence = raft_term(s->nodes[i].r);
	raftsim_restart(s, R);
	raft_rebuild_begin(s->nodes[R].r, true);
	EXPECT_EQ(0, raft_term(s->nodes[R].r));
	ASSERT_TRUE(run_watching(s, R, 2 * SEC, fence));
	EXPECT_FALSE(raft_rebuilding(s->nodes[R].r));
	EXPECT_GE(raft_term(s->nodes[R].r), fence);
	EXPECT_FALSE(raft_rebuild_fence_pending(s->nodes[R].r));
	if (raft_term(s->nodes[R].r) == fence)
		EXPECT_EQ(R, raft_vote(s->nodes[R].r));
	/* fence persisted in its hard state before anything else */
	EXPECT_GE(s->nodes[R].hs.term, fence);
	TH_LOG("fence %llu, R now term %llu vote %u", (unsigned long long)fence,
	       (unsigned long long)raft_term(s->nodes[R].r),
	       raft_vote(s->nodes[R].r));
	/* R takes part in the next elections, never in a fenced term */
	F = other(leader, R);
	for (i = 0; i < 3; i++) {
		leader = raftsim_leader(s);
		if (!leader)
			break;
		raftsim_crash(s, leader);
		ASSERT_TRUE(run_watching(s, R, 2 * SEC, fence));
		EXPECT_NE(0, raftsim_leader(s));
		raftsim_restart(s, leader);
		ASSERT_TRUE(run_watching(s, R, SEC, fence));
	}
	(void)F;
	ASSERT_TRUE(raftsim_check_acked(s, why, sizeof(why))) TH_LOG("%s", why);
	ASSERT_STREQ("", s->violation);
	raftsim_free(s);
}

TEST_HARNESS_MAIN
