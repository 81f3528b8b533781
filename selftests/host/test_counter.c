// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of agent/counter, user path: random sequences of term, ack,
 * member and match calls against an independent brute-force reference
 * (selftests/lib/counter_ref.h) — return codes, every poll's answer, the
 * fd's readiness, the match indexes — and the refusals with their messages.
 * The kernel path is tested in the VM (selftests/vm/test_counter.c).
 *
 * TRUTH_SEED=<n> replays a run; TRUTH_SEEDS=<n> sets the number of random
 * sequences (default 400).  The seed is printed.
 */

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "counter/counter.h"

#include "kselftest_harness.h"

#include "truth_rand.h"
#include "counter_ref.h"

#define OPS_PER_CASE	400

static bool fd_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static void cfg_3(struct truth_counter_cfg *cfg, enum truth_counter_mode mode)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->group_id = 7;
	cfg->self = 1;
	cfg->n_members = 3;
	cfg->members[0] = (struct truth_counter_member){ 1, 1 };
	cfg->members[1] = (struct truth_counter_member){ 2, 1 };
	cfg->members[2] = (struct truth_counter_member){ 3, 1 };
	cfg->mode = mode;
}

/* make torture: 100,000 sequences take minutes, past the default 30 s */
FIXTURE(random) {};
FIXTURE_SETUP(random) {}
FIXTURE_TEARDOWN(random) {}

TEST_F_TIMEOUT(random, sequences_match_reference, 1800)
{
	unsigned long i, total = cases(400);
	uint64_t seed = seed_init();
	struct truth_counter_cfg cfg;
	struct truth_counter *c;
	uint64_t polls = 0, advances = 0, refusals = 0;
	char err[256], what[512];

	TH_LOG("seed %llu, %lu sequences of %d calls (TRUTH_SEED=%llu replays)",
	       (unsigned long long)seed, total, OPS_PER_CASE, (unsigned long long)seed);
	for (i = 0; i < total; i++) {
		struct cref r;
		uint32_t node;
		int op_i;

		cop_random_cfg(&cfg, 1 + (uint32_t)rnd_below(1000));
		cfg.mode = TRUTH_COUNTER_USER;
		c = truth_counter_open(&cfg, err, sizeof(err));
		ASSERT_NE(NULL, c) TH_LOG("case %lu: open: %s", i, err);
		ASSERT_EQ(TRUTH_COUNTER_PATH_USER, truth_counter_path(c));
		cref_init(&r, &cfg);
		for (op_i = 0; op_i < OPS_PER_CASE; op_i++) {
			uint64_t m_ref = 0, m_got = 0, c_ref = 0, c_got = 0;
			int want, got, pw, pg;
			struct cop op;

			cop_random(&op, &r);
			cop_print(&op, what, sizeof(what));
			want = cop_ref(&r, &op, &m_ref);
			got = cop_counter(c, &op, &m_got);
			ASSERT_EQ(want, got) TH_LOG("case %lu op %d: %s", i, op_i, what);
			if (got) {
				refusals++;
				EXPECT_NE(0, truth_counter_error(c)[0])
					TH_LOG("case %lu op %d: %d without a message", i, op_i, got);
			}
			if (!got && op.kind == COP_MATCH)
				ASSERT_EQ(m_ref, m_got) TH_LOG("case %lu op %d: %s", i, op_i, what);
			/* readable exactly when there is an advance to report */
			ASSERT_EQ(r.commit > r.reported, fd_readable(truth_counter_fd(c)))
				TH_LOG("case %lu op %d: %s", i, op_i, what);
			pw = cref_poll(&r, &c_ref);
			pg = truth_counter_poll(c, &c_got);
			polls++;
			ASSERT_EQ(pw, pg) TH_LOG("case %lu op %d: %s: commit %llu", i, op_i,
						 what, (unsigned long long)r.commit);
			if (pg == 1) {
				advances++;
				ASSERT_EQ(c_ref, c_got) TH_LOG("case %lu op %d: %s", i, op_i, what);
			}
			ASSERT_FALSE(fd_readable(truth_counter_fd(c)));
		}
		for (node = 1; node <= CREF_NODES; node++) {
			uint64_t a = 0, b = 0;

			ASSERT_EQ(cref_match(&r, node, &a), truth_counter_match(c, node, &b));
			ASSERT_EQ(a, b) TH_LOG("case %lu node %u", i, node);
		}
		truth_counter_close(c);
	}
	TH_LOG("%llu polls, %llu advances, %llu refused calls",
	       (unsigned long long)polls, (unsigned long long)advances,
	       (unsigned long long)refusals);
	/* the generator must reach both outcomes, or the test proves little */
	EXPECT_LT(total, advances);
	EXPECT_LT(total, refusals);
}

TEST(bad_configurations_are_refused)
{
	struct truth_counter_cfg cfg;
	struct truth_counter *c;
	char err[256];
	uint32_t i;

	cfg_3(&cfg, TRUTH_COUNTER_USER);
	cfg.group_id = 0;
	errno = 0;
	EXPECT_EQ(NULL, truth_counter_open(&cfg, err, sizeof(err)));
	EXPECT_EQ(ERANGE, errno);
	EXPECT_NE(NULL, strstr(err, "group id 0")) TH_LOG("%s", err);

	cfg_3(&cfg, TRUTH_COUNTER_USER);
	cfg.n_members = 0;
	EXPECT_EQ(NULL, truth_counter_open(&cfg, err, sizeof(err)));
	EXPECT_EQ(EINVAL, errno);

	cfg_3(&cfg, TRUTH_COUNTER_USER);
	cfg.n_members = TRUTH_GROUP_MEMBERS_MAX + 1;
	EXPECT_EQ(NULL, truth_counter_open(&cfg, err, sizeof(err)));
	EXPECT_EQ(E2BIG, errno);
	EXPECT_NE(NULL, strstr(err, "TRUTH_GROUP_MEMBERS_MAX")) TH_LOG("%s", err);

	cfg_3(&cfg, TRUTH_COUNTER_USER);
	cfg.members[2].node = 2;
	EXPECT_EQ(NULL, truth_counter_open(&cfg, err, sizeof(err)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_NE(NULL, strstr(err, "duplicate")) TH_LOG("%s", err);

	cfg_3(&cfg, TRUTH_COUNTER_USER);
	cfg.self = 9;
	EXPECT_EQ(NULL, truth_counter_open(&cfg, err, sizeof(err)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_NE(NULL, strstr(err, "SELF")) TH_LOG("%s", err);

	cfg_3(&cfg, TRUTH_COUNTER_USER);
	for (i = 0; i < 3; i++)
		cfg.members[i].weight = 0;
	EXPECT_EQ(NULL, truth_counter_open(&cfg, err, sizeof(err)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_NE(NULL, strstr(err, "weight")) TH_LOG("%s", err);

	cfg_3(&cfg, TRUTH_COUNTER_USER);
	cfg.mode = (enum truth_counter_mode)42;
	EXPECT_EQ(NULL, truth_counter_open(&cfg, err, sizeof(err)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_NE(NULL, strstr(err, "mode")) TH_LOG("%s", err);

	/* a full house of 64 is fine */
	cfg_3(&cfg, TRUTH_COUNTER_USER);
	cfg.n_members = TRUTH_GROUP_MEMBERS_MAX;
	for (i = 0; i < TRUTH_GROUP_MEMBERS_MAX; i++)
		cfg.members[i] = (struct truth_counter_member){ 100 + i, 1 };
	cfg.self = 163;
	c = truth_counter_open(&cfg, err, sizeof(err));
	ASSERT_NE(NULL, c) TH_LOG("%s", err);
	truth_counter_close(c);
	truth_counter_close(NULL);
}

TEST(refused_calls_change_nothing)
{
	struct truth_counter_member m[TRUTH_GROUP_MEMBERS_MAX + 1];
	struct truth_counter_cfg cfg;
	struct truth_counter *c;
	uint64_t v = 0;
	char err[256];
	uint32_t i;

	cfg_3(&cfg, TRUTH_COUNTER_USER);
	c = truth_counter_open(&cfg, err, sizeof(err));
	ASSERT_NE(NULL, c) TH_LOG("%s", err);

	/* a follower counts nothing */
	EXPECT_EQ(-EINVAL, truth_counter_ack(c, 2, 0, 5));
	EXPECT_STREQ("this node is not the group's leader", truth_counter_error(c));
	ASSERT_EQ(0, truth_counter_set_term(c, 3, 10, true));
	EXPECT_STREQ("", truth_counter_error(c));
	EXPECT_EQ(-ESTALE, truth_counter_ack(c, 2, 2, 12));
	EXPECT_EQ(-ESTALE, truth_counter_ack(c, 2, 4, 12));
	EXPECT_STREQ("the ack's term is not the group's term", truth_counter_error(c));
	EXPECT_EQ(-ENOENT, truth_counter_ack(c, 4, 3, 12));
	EXPECT_EQ(-ENOENT, truth_counter_match(c, 4, &v));
	EXPECT_EQ(-EINVAL, truth_counter_set_term(c, 2, 20, true));
	EXPECT_STREQ("the term must not go backwards", truth_counter_error(c));
	EXPECT_EQ(-EINVAL, truth_counter_set_term(c, 3, 9, true));
	EXPECT_STREQ("TERM_START must not move back within a term", truth_counter_error(c));

	/* bad member lists: nothing changes, the group still counts as before */
	EXPECT_EQ(-EINVAL, truth_counter_set_members(c, 0, m));
	for (i = 0; i <= TRUTH_GROUP_MEMBERS_MAX; i++)
		m[i] = (struct truth_counter_member){ i + 1, 1 };
	EXPECT_EQ(-E2BIG, truth_counter_set_members(c, TRUTH_GROUP_MEMBERS_MAX + 1, m));
	m[0] = (struct truth_counter_member){ 2, 1 };
	m[1] = (struct truth_counter_member){ 3, 1 };
	EXPECT_EQ(-EINVAL, truth_counter_set_members(c, 2, m));	/* no self */
	m[0] = (struct truth_counter_member){ 1, 0 };
	m[1] = (struct truth_counter_member){ 5, 0 };
	EXPECT_EQ(-EINVAL, truth_counter_set_members(c, 2, m));	/* no weight */
	m[1] = (struct truth_counter_member){ 1, 1 };
	EXPECT_EQ(-EINVAL, truth_counter_set_members(c, 2, m));	/* duplicate */

	EXPECT_EQ(0, truth_counter_poll(c, &v));
	EXPECT_EQ(0, truth_counter_ack(c, 1, 3, 12));
	EXPECT_EQ(0, truth_counter_poll(c, &v));	/* 1 of 3 */
	EXPECT_EQ(0, truth_counter_ack(c, 3, 3, 11));
	ASSERT_EQ(1, truth_counter_poll(c, &v));
	EXPECT_EQ(11, v);
	EXPECT_EQ(0, truth_counter_match(c, 3, &v));
	EXPECT_EQ(11, v);
	truth_counter_close(c);
}

TEST(current_term_rule_and_never_backwards)
{
	struct truth_counter_member m[2] = { { 1, 1 }, { 2, 1 } };
	struct truth_counter_cfg cfg;
	struct truth_counter *c;
	uint64_t v = 0;
	char err[256];

	cfg_3(&cfg, TRUTH_COUNTER_USER);
	cfg.commit = 40;	/* known from disk */
	c = truth_counter_open(&cfg, err, sizeof(err));
	ASSERT_NE(NULL, c) TH_LOG("%s", err);
	ASSERT_EQ(0, truth_counter_set_term(c, 5, 50, true));
	/* a majority at 45 is an older term's entry: not committed (§5.4.2) */
	EXPECT_EQ(0, truth_counter_ack(c, 1, 5, 45));
	EXPECT_EQ(0, truth_counter_ack(c, 2, 5, 45));
	EXPECT_EQ(0, truth_counter_poll(c, &v));
	/* 52 of this term commits, and 45 with it */
	EXPECT_EQ(0, truth_counter_ack(c, 1, 5, 52));
	EXPECT_EQ(0, truth_counter_ack(c, 3, 5, 52));
	ASSERT_EQ(1, truth_counter_poll(c, &v));
	EXPECT_EQ(52, v);
	/* a late ack changes nothing */
	EXPECT_EQ(0, truth_counter_ack(c, 3, 5, 30));
	EXPECT_EQ(0, truth_counter_match(c, 3, &v));
	EXPECT_EQ(52, v);
	/* a new term resets the match indexes, never the commit index */
	ASSERT_EQ(0, truth_counter_set_term(c, 6, 53, true));
	EXPECT_EQ(0, truth_counter_match(c, 3, &v));
	EXPECT_EQ(0, v);
	EXPECT_EQ(0, truth_counter_ack(c, 1, 6, 53));
	EXPECT_EQ(0, truth_counter_poll(c, &v));
	/* shrinking to {1, 2} makes 1 and 2 a quorum of two: 53 needs both */
	EXPECT_EQ(0, truth_counter_set_members(c, 2, m));
	EXPECT_EQ(0, truth_counter_poll(c, &v));
	EXPECT_EQ(0, truth_counter_ack(c, 2, 6, 53));
	ASSERT_EQ(1, truth_counter_poll(c, &v));
	EXPECT_EQ(53, v);
	/* removing the slow member advances the commit by itself */
	EXPECT_EQ(0, truth_counter_ack(c, 1, 6, 60));
	EXPECT_EQ(0, truth_counter_poll(c, &v));
	m[1].weight = 0;	/* 2 becomes a learner: 1 alone is the majority */
	EXPECT_EQ(0, truth_counter_set_members(c, 2, m));
	ASSERT_EQ(1, truth_counter_poll(c, &v));
	EXPECT_EQ(60, v);
	truth_counter_close(c);
}

TEST(modes_paths_and_key)
{
	static const uint8_t key[32] = { 1, 2, 3 };
	struct truth_counter_cfg cfg;
	struct truth_counter *c;
	char err[256];

	EXPECT_STREQ("user", truth_counter_path_name(TRUTH_COUNTER_PATH_USER));
	EXPECT_STREQ("kernel", truth_counter_path_name(TRUTH_COUNTER_PATH_KERNEL));
	EXPECT_STREQ("fastpath", truth_counter_path_name(TRUTH_COUNTER_PATH_FASTPATH));

	cfg_3(&cfg, TRUTH_COUNTER_USER);
	c = truth_counter_open(&cfg, err, sizeof(err));
	ASSERT_NE(NULL, c) TH_LOG("%s", err);
	EXPECT_STREQ("mode user", truth_counter_reason(c));
	EXPECT_EQ(0, truth_counter_set_key(c, key));
	EXPECT_LE(0, truth_counter_fd(c));
	truth_counter_close(c);

	/* the host never has truth.ko: kernel mode fails, auto falls back */
	cfg_3(&cfg, TRUTH_COUNTER_KERNEL);
	errno = 0;
	c = truth_counter_open(&cfg, err, sizeof(err));
	if (c) {
		truth_counter_close(c);
		SKIP(return, "the truth family exists on this host");
	}
	EXPECT_EQ(ENOENT, errno);
	EXPECT_NE(NULL, strstr(err, "kernel: family 'truth' not found")) TH_LOG("%s", err);

	cfg_3(&cfg, TRUTH_COUNTER_AUTO);
	c = truth_counter_open(&cfg, err, sizeof(err));
	ASSERT_NE(NULL, c) TH_LOG("%s", err);
	EXPECT_EQ(TRUTH_COUNTER_PATH_USER, truth_counter_path(c));
	EXPECT_NE(NULL, strstr(truth_counter_reason(c), "family 'truth' not found"))
		TH_LOG("%s", truth_counter_reason(c));
	truth_counter_close(c);
}

TEST_HARNESS_MAIN
