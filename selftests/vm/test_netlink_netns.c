// SPDX-License-Identifier: GPL-2.0
/*
 * Network namespace isolation: each namespace has its own groups, clocks
 * and events.  A group made in namespace A is invisible and untouchable
 * from namespace B, B can make a group with the same id without touching
 * A's, B's clock ticks do not move A's clocks, and A's listeners do not see
 * B's events.  B is torn down with a group still in it, which exercises
 * the pernet exit path.
 */

#include <sched.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "test_netlink_lib.h"

#define GID 400

static int fails;

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "#   FAIL %s:%d: " #cond ": ", __FILE__, __LINE__); \
		fprintf(stderr, __VA_ARGS__);				\
		fprintf(stderr, "\n");					\
		fails++;						\
	}								\
} while (0)

/* Runs in namespace B. */
static int in_b(void)
{
	struct tgroup g;
	struct tclock c;
	struct tstats s;
	__u32 ids[4];
	struct tmsg m;
	struct tnl t;
	int ret, i;

	if (unshare(CLONE_NEWNET))
		return 100;
	if (tnl_open(&t))
		return 101;

	ret = truth_group_dump(&t, ids, 4);
	CHECK(ret == 0, "B sees %d groups", ret);
	ret = truth_group_get(&t, GID, &g);
	CHECK(ret == -ENOENT, "GET of A's group: %d", ret);
	ret = truth_ack(&t, GID, 1, 2, 50);
	CHECK(ret == -ENOENT, "ACK to A's group: %d", ret);
	tmsg_init(&m, &t, TRUTH_CMD_GROUP_SET, 0);
	tmsg_u32(&m, TRUTH_A_GROUP_ID, GID);
	tmsg_u32(&m, TRUTH_A_GROUP_ROLE, TRUTH_ROLE_FOLLOWER);
	ret = tnl_talk(&t, &m, NULL, NULL);
	CHECK(ret == -ENOENT, "SET of A's group: %d", ret);
	ret = truth_stats(&t, GID, &s);
	CHECK(ret == -ENOENT, "STATS of A's group: %d", ret);
	ret = truth_clock(&t, TRUTH_CMD_CLOCK_GET, GID, &c);
	CHECK(ret == -ENOENT, "CLOCK of A's group: %d", ret);
	ret = truth_group_remove(&t, GID);
	CHECK(ret == -ENOENT, "DEL of A's group: %d", ret);

	/* B's own group with the same id, acked to commit 30 */
	ret = truth_group_add(&t, GID, 3, 1);
	CHECK(ret == 0, "B's GROUP_NEW: %d '%s'", ret, t.ext_msg);
	CHECK(truth_ack(&t, GID, 1, 0, 30) == 0, "B ack");
	CHECK(truth_ack(&t, GID, 1, 2, 30) == 0, "B ack");
	ret = truth_group_get(&t, GID, &g);
	CHECK(ret == 0 && g.commit == 30, "B's commit %llu", (unsigned long long)g.commit);
	/* B's clocks start from zero and move only here */
	ret = truth_clock(&t, TRUTH_CMD_CLOCK_GET, 0, &c);
	CHECK(ret == 0 && c.lamport == 0, "B's Lamport starts at %llu",
	      (unsigned long long)c.lamport);
	for (i = 0; i < 100; i++)
		truth_clock(&t, TRUTH_CMD_CLOCK_TICK, GID, &c);
	CHECK(c.lamport == 100, "B's Lamport %llu", (unsigned long long)c.lamport);
	/* leave the group behind: the namespace's exit must free it */
	tnl_close(&t);
	return fails;
}

FIXTURE(netns) {
	struct tnl t, ev;
};

FIXTURE_SETUP(netns)
{
	ASSERT_EQ(0, tnl_open(&self->t));
	ASSERT_EQ(0, tnl_open(&self->ev));
	ASSERT_EQ(0, tnl_listen(&self->ev));
	truth_group_remove(&self->t, GID);
}

FIXTURE_TEARDOWN(netns)
{
	truth_group_remove(&self->t, GID);
	tnl_close(&self->ev);
	tnl_close(&self->t);
}

TEST_F(netns, group_in_a_invisible_and_untouchable_from_b)
{
	struct tgroup before, after;
	struct tclock c0, c1;
	static char buf[4096];
	pid_t pid;
	int status;

	ASSERT_EQ(0, truth_group_add(&self->t, GID, 3, 1));
	ASSERT_EQ(0, truth_ack(&self->t, GID, 1, 0, 5));
	ASSERT_EQ(0, truth_ack(&self->t, GID, 1, 2, 4));
	ASSERT_EQ(TRUTH_CMD_EVENT_COMMIT, tnl_event(&self->ev, 2000, buf, sizeof(buf)));
	ASSERT_EQ(0, truth_group_get(&self->t, GID, &before));
	ASSERT_EQ(0, truth_clock(&self->t, TRUTH_CMD_CLOCK_GET, GID, &c0));

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(in_b());
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));

	ASSERT_EQ(0, truth_group_get(&self->t, GID, &after));
	EXPECT_EQ(0, memcmp(&before, &after, sizeof(after)));
	EXPECT_EQ(4, after.commit);
	ASSERT_EQ(0, truth_clock(&self->t, TRUTH_CMD_CLOCK_GET, GID, &c1));
	EXPECT_EQ(0, memcmp(&c0, &c1, sizeof(c1)));
	/* B's commit, tick and teardown events stayed in B */
	EXPECT_EQ(0, tnl_event(&self->ev, 300, buf, sizeof(buf)));
}

TEST_F(netns, many_namespaces_come_and_go_with_groups)
{
	int i, status;

	for (i = 0; i < 20; i++) {
		pid_t pid = fork();

		ASSERT_LE(0, pid);
		if (pid == 0) {
			struct tnl t;
			int j;

			if (unshare(CLONE_NEWNET) || tnl_open(&t))
				_exit(1);
			for (j = 1; j <= 10; j++)
				if (truth_group_add(&t, j, 5, 1) || truth_ack(&t, j, 1, 0, j))
					_exit(2);
			_exit(0);
		}
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_TRUE(WIFEXITED(status));
		ASSERT_EQ(0, WEXITSTATUS(status));
	}
}

TEST_HARNESS_MAIN
