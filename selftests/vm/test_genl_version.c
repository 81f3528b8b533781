// SPDX-License-Identifier: GPL-2.0
/*
 * The first path through truth.ko: load it, reach the generic netlink family
 * "truth" through libnl, check GET_VERSION and strict validation, check the
 * family exists in every network namespace (netnsok), unload it and check the
 * family is gone.  Runs in the VM as root.
 */

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <linux/truth.h>

#include "kselftest_harness.h"
#include "truth_kmod.h"

struct version_reply {
	int got;		/* replies parsed */
	unsigned int genl;
	unsigned int wire;
	char module[64];
};

static int parse_version(struct nl_msg *msg, void *arg)
{
	struct version_reply *r = arg;
	struct nlattr *tb[TRUTH_A_VERSION_MAX + 1];

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, TRUTH_A_VERSION_MAX, NULL) < 0)
		return NL_SKIP;
	r->got++;
	if (tb[TRUTH_A_VERSION_GENL])
		r->genl = nla_get_u32(tb[TRUTH_A_VERSION_GENL]);
	if (tb[TRUTH_A_VERSION_WIRE])
		r->wire = nla_get_u32(tb[TRUTH_A_VERSION_WIRE]);
	if (tb[TRUTH_A_VERSION_MODULE])
		nla_strlcpy(r->module, tb[TRUTH_A_VERSION_MODULE], sizeof(r->module));
	return NL_OK;
}

/*
 * Send command @cmd with an optional u32 attribute @attr (0: none) and wait
 * for the reply or the error.  Returns 0 or the kernel's -errno.
 */
static int request(struct nl_sock *sk, int family, int cmd, int attr,
		   struct version_reply *r)
{
	struct nl_msg *msg = nlmsg_alloc();
	int ret;

	if (!msg)
		return -ENOMEM;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, 0, cmd,
			 TRUTH_GENL_VERSION)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	if (attr)
		nla_put_u32(msg, attr, 1);
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, parse_version, r);
	ret = nl_send_auto(sk, msg);
	nlmsg_free(msg);
	if (ret < 0)
		return -EIO;
	ret = nl_recvmsgs_default(sk);
	/* libnl maps the kernel's errno to its own codes; undo that */
	if (ret == -NLE_INVAL)
		return -EINVAL;
	if (ret == -NLE_OPNOTSUPP)
		return -EOPNOTSUPP;
	if (ret == -NLE_PERM)
		return -EPERM;
	return ret < 0 ? -EIO : 0;
}

FIXTURE(genl) {
	struct nl_sock *sk;
	int family;
};

FIXTURE_SETUP(genl)
{
	ASSERT_EQ(0, truth_module_load()) TH_LOG("insmod %s failed", truth_ko_path());
	self->sk = nl_socket_alloc();
	ASSERT_NE(NULL, self->sk);
	ASSERT_EQ(0, genl_connect(self->sk));
	self->family = genl_ctrl_resolve(self->sk, TRUTH_GENL_NAME);
	ASSERT_LT(0, self->family) TH_LOG("family %s not registered", TRUTH_GENL_NAME);
}

FIXTURE_TEARDOWN(genl)
{
	nl_socket_free(self->sk);
}

TEST_F(genl, version_reply)
{
	struct version_reply r = { 0 };

	ASSERT_EQ(0, request(self->sk, self->family, TRUTH_CMD_GET_VERSION, 0, &r));
	ASSERT_EQ(1, r.got);
	EXPECT_EQ(TRUTH_GENL_VERSION, r.genl);
	EXPECT_EQ(TRUTH_WIRE_VERSION, r.wire);
	EXPECT_LT(0, strlen(r.module));
	TH_LOG("truth.ko %s, genl v%u, wire v%u", r.module, r.genl, r.wire);
}

/* Strict validation: GET_VERSION takes no attributes, so one is an error. */
TEST_F(genl, version_rejects_attribute)
{
	struct version_reply r = { 0 };

	EXPECT_EQ(-EINVAL, request(self->sk, self->family, TRUTH_CMD_GET_VERSION,
				   TRUTH_A_VERSION_GENL, &r));
	EXPECT_EQ(0, r.got);
}

/* An attribute type beyond the policy is rejected too, not ignored. */
TEST_F(genl, version_rejects_unknown_attribute)
{
	struct version_reply r = { 0 };

	EXPECT_EQ(-EINVAL, request(self->sk, self->family, TRUTH_CMD_GET_VERSION,
				   TRUTH_A_VERSION_MAX + 1, &r));
	EXPECT_EQ(0, r.got);
}

TEST_F(genl, unknown_command)
{
	struct version_reply r = { 0 };

	EXPECT_EQ(-EOPNOTSUPP, request(self->sk, self->family, 0xfe, 0, &r));
	EXPECT_EQ(0, r.got);
}

/* netnsok: the family answers in a fresh network namespace too. */
TEST_F(genl, other_netns)
{
	pid_t pid = fork();
	int status;

	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct version_reply r = { 0 };
		struct nl_sock *sk;
		int fam;

		if (unshare(CLONE_NEWNET))
			_exit(10);
		sk = nl_socket_alloc();
		if (!sk || genl_connect(sk))
			_exit(11);
		fam = genl_ctrl_resolve(sk, TRUTH_GENL_NAME);
		if (fam < 0)
			_exit(12);
		if (request(sk, fam, TRUTH_CMD_GET_VERSION, 0, &r) || r.genl != TRUTH_GENL_VERSION)
			_exit(13);
		nl_socket_free(sk);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/* Unload removes the family; loading again brings it back. */
TEST(unload_reload)
{
	struct nl_sock *sk;

	ASSERT_EQ(0, truth_module_load());
	ASSERT_EQ(0, truth_module_unload());
	EXPECT_FALSE(truth_module_loaded());
	sk = nl_socket_alloc();
	ASSERT_NE(NULL, sk);
	ASSERT_EQ(0, genl_connect(sk));
	EXPECT_GT(0, genl_ctrl_resolve(sk, TRUTH_GENL_NAME));
	ASSERT_EQ(0, truth_module_load());
	EXPECT_LT(0, genl_ctrl_resolve(sk, TRUTH_GENL_NAME));
	nl_socket_free(sk);
	ASSERT_EQ(0, truth_module_unload());
}

TEST_HARNESS_MAIN
