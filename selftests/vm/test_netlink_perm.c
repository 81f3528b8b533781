// SPDX-License-Identifier: GPL-2.0
/*
 * Who may do what.  Admin commands need CAP_NET_ADMIN in the user namespace
 * that owns the caller's network namespace; the others need nothing.
 *
 *   no_cap_net_admin   root with CAP_NET_ADMIN dropped (capset): refused
 *   nobody             setuid(65534): refused
 *   userns_root        root of a new user namespace, still in the initial
 *                      network namespace (owned by the initial user
 *                      namespace): refused
 *   userns_own_netns   root of a new user namespace in a network namespace
 *                      it created: allowed there
 *
 * Every refusal must be -EPERM with an extack message, and the group the
 * test made beforehand must read back unchanged.
 */

#include <sched.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>

#include "kselftest_harness.h"
#include "test_netlink_lib.h"

#define GID 300

enum who { NO_CAP_NET_ADMIN, NOBODY, USERNS_ROOT, USERNS_OWN_NETNS };

static int drop_cap_net_admin(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -1;
	d[CAP_TO_INDEX(CAP_NET_ADMIN)].effective &= ~CAP_TO_MASK(CAP_NET_ADMIN);
	d[CAP_TO_INDEX(CAP_NET_ADMIN)].permitted &= ~CAP_TO_MASK(CAP_NET_ADMIN);
	d[CAP_TO_INDEX(CAP_NET_ADMIN)].inheritable &= ~CAP_TO_MASK(CAP_NET_ADMIN);
	return syscall(SYS_capset, &h, d);
}

static int become(enum who who)
{
	switch (who) {
	case NO_CAP_NET_ADMIN:
		return drop_cap_net_admin();
	case NOBODY:
		return setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534);
	case USERNS_ROOT:
		return unshare(CLONE_NEWUSER);
	case USERNS_OWN_NETNS:
		return unshare(CLONE_NEWUSER | CLONE_NEWNET);
	}
	return -1;
}

static int fails;

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "#   FAIL %s:%d: " #cond ": ", __FILE__, __LINE__); \
		fprintf(stderr, __VA_ARGS__);				\
		fprintf(stderr, "\n");					\
		fails++;						\
	}								\
} while (0)

/* Every admin command: -EPERM with a message, or 0 if @allowed. */
static void admin_commands(struct tnl *t, bool allowed)
{
	int want = allowed ? 0 : -EPERM, ret;
	struct tmsg m;

	/* allowed callers are in their own netns: make the group there */
	tmsg_init(&m, t, TRUTH_CMD_GROUP_NEW, 0);
	tmsg_u32(&m, TRUTH_A_GROUP_ID, allowed ? GID : GID + 1);
	tmsg_u32(&m, TRUTH_A_GROUP_SELF, 1);
	tmsg_member(&m, 1, 1);
	tmsg_member(&m, 2, 1);
	tmsg_u32(&m, TRUTH_A_GROUP_ROLE, TRUTH_ROLE_LEADER);
	tmsg_u64(&m, TRUTH_A_GROUP_TERM, 1);
	ret = tnl_talk(t, &m, NULL, NULL);
	CHECK(ret == want, "GROUP_NEW: %d, extack '%s'", ret, t->ext_msg);
	CHECK(allowed || t->ext_msg[0], "GROUP_NEW refused without extack");

	tmsg_init(&m, t, TRUTH_CMD_GROUP_SET, 0);
	tmsg_u32(&m, TRUTH_A_GROUP_ID, GID);
	tmsg_u64(&m, TRUTH_A_GROUP_THRESHOLD, 1);
	ret = tnl_talk(t, &m, NULL, NULL);
	CHECK(ret == want, "GROUP_SET: %d '%s'", ret, t->ext_msg);
	CHECK(allowed || t->ext_msg[0], "GROUP_SET refused without extack");

	ret = truth_ack(t, GID, 1, 2, 10);
	CHECK(ret == want, "GROUP_ACK: %d '%s'", ret, t->ext_msg);
	CHECK(allowed || t->ext_msg[0], "GROUP_ACK refused without extack");

	tmsg_init(&m, t, TRUTH_CMD_CLOCK_MERGE, 0);
	tmsg_u64(&m, TRUTH_A_CLOCK_LAMPORT, 1000000);
	ret = tnl_talk(t, &m, NULL, NULL);
	CHECK(ret == want, "CLOCK_MERGE: %d '%s'", ret, t->ext_msg);
	CHECK(allowed || t->ext_msg[0], "CLOCK_MERGE refused without extack");

	tmsg_init(&m, t, TRUTH_CMD_CLOCK_SET, 0);
	tmsg_u64(&m, TRUTH_A_CLOCK_HLC_MAX_OFFSET, 1000000);
	ret = tnl_talk(t, &m, NULL, NULL);
	CHECK(ret == want, "CLOCK_SET: %d '%s'", ret, t->ext_msg);
	CHECK(allowed || t->ext_msg[0], "CLOCK_SET refused without extack");

	tmsg_init(&m, t, TRUTH_CMD_STATS_RESET, 0);
	tmsg_u32(&m, TRUTH_A_STATS_GROUP_ID, GID);
	ret = tnl_talk(t, &m, NULL, NULL);
	CHECK(ret == want, "STATS_RESET: %d '%s'", ret, t->ext_msg);
	CHECK(allowed || t->ext_msg[0], "STATS_RESET refused without extack");

	ret = truth_group_remove(t, GID);
	CHECK(ret == want, "GROUP_DEL: %d '%s'", ret, t->ext_msg);
	CHECK(allowed || t->ext_msg[0], "GROUP_DEL refused without extack");
}

/* The unprivileged commands work for anyone. */
static void open_commands(struct tnl *t, bool own_netns)
{
	struct tgroup g;
	struct tclock c;
	struct tstats s;
	__u32 ids[4];
	struct tmsg m;
	int ret;

	tmsg_init(&m, t, TRUTH_CMD_GET_VERSION, 0);
	ret = tnl_talk(t, &m, NULL, NULL);
	CHECK(ret == 0, "GET_VERSION: %d", ret);
	ret = truth_clock(t, TRUTH_CMD_CLOCK_GET, 0, &c);
	CHECK(ret == 0, "CLOCK_GET: %d", ret);
	ret = truth_clock(t, TRUTH_CMD_CLOCK_TICK, 0, &c);
	CHECK(ret == 0, "CLOCK_TICK: %d", ret);
	ret = truth_group_dump(t, ids, 4);
	CHECK(ret >= 0, "GROUP_GET dump: %d", ret);
	if (own_netns)
		return;		/* the group lives in the initial netns */
	ret = truth_group_get(t, GID, &g);
	CHECK(ret == 0, "GROUP_GET: %d", ret);
	ret = truth_stats(t, GID, &s);
	CHECK(ret == 0, "STATS_GET: %d", ret);
}

static int child(enum who who)
{
	struct tnl t;
	int ret;

	if (become(who)) {
		fprintf(stderr, "#   cannot switch identity: %s\n", strerror(errno));
		return 100;
	}
	ret = tnl_open(&t);
	if (ret) {
		fprintf(stderr, "#   tnl_open: %d\n", ret);
		return 101;
	}
	open_commands(&t, who == USERNS_OWN_NETNS);
	admin_commands(&t, who == USERNS_OWN_NETNS);
	tnl_close(&t);
	return fails;
}

FIXTURE(perm) {
	struct tnl t;
	struct tgroup before;
	__u64 lamport;
};

FIXTURE_VARIANT(perm) {
	enum who who;
};

FIXTURE_VARIANT_ADD(perm, no_cap_net_admin) { .who = NO_CAP_NET_ADMIN };
FIXTURE_VARIANT_ADD(perm, nobody) { .who = NOBODY };
FIXTURE_VARIANT_ADD(perm, userns_root) { .who = USERNS_ROOT };
FIXTURE_VARIANT_ADD(perm, userns_own_netns) { .who = USERNS_OWN_NETNS };

FIXTURE_SETUP(perm)
{
	struct tclock c;

	ASSERT_EQ(0, tnl_open(&self->t));
	truth_group_remove(&self->t, GID);
	ASSERT_EQ(0, truth_group_add(&self->t, GID, 2, 1));
	ASSERT_EQ(0, truth_group_get(&self->t, GID, &self->before));
	ASSERT_EQ(0, truth_clock(&self->t, TRUTH_CMD_CLOCK_GET, 0, &c));
	self->lamport = c.lamport;
}

FIXTURE_TEARDOWN(perm)
{
	truth_group_remove(&self->t, GID);
	truth_group_remove(&self->t, GID + 1);
	tnl_close(&self->t);
}

TEST_F(perm, admin_refused_unless_cap_net_admin_over_the_netns)
{
	struct tgroup after;
	struct tclock c;
	pid_t pid;
	int status;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(child(variant->who));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	if (WEXITSTATUS(status) == 100 && variant->who >= USERNS_ROOT)
		SKIP(return, "user namespaces not available");
	EXPECT_EQ(0, WEXITSTATUS(status));

	/* nothing the child did reached this namespace's state */
	ASSERT_EQ(0, truth_group_get(&self->t, GID, &after));
	EXPECT_EQ(0, memcmp(&self->before, &after, sizeof(after)));
	EXPECT_EQ(-ENOENT, truth_group_get(&self->t, GID + 1, &after));
	ASSERT_EQ(0, truth_clock(&self->t, TRUTH_CMD_CLOCK_GET, 0, &c));
	/* the child's one CLOCK_TICK is all that may have happened */
	EXPECT_GE(self->lamport + 1, c.lamport);
	EXPECT_NE(1000000, c.max_offset);
}

TEST_HARNESS_MAIN
