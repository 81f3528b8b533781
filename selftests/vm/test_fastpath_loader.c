// SPDX-License-Identifier: GPL-2.0
/*
 * The fast-path loader (agent/fastpath): without truth.ko it refuses with a
 * reason the agent can log before falling back to user space; attaching
 * twice leaves one filter per hook (an ACK is counted once); detaching
 * leaves no filter behind, and then the module unloads, so no program
 * reference leaked.  The by-hand tool (selftests/tools/truth_fastpath)
 * attaches filters that outlive it and takes them off again.
 * Topology: fastpath_lib.h (only the leader's and one follower's namespace
 * are used).
 */
#define TNL_NO_MODULE_GUARD
#include <errno.h>

#include "kselftest_harness.h"
#include "fastpath_lib.h"

#define TOOL "/truth/build/selftests/tools/truth_fastpath"

/* Our filters on l0 (ingress + egress), as tc lists them. */
static int filters_on_l0(void)
{
	char line[512];
	FILE *p;
	int n = 0;

	p = popen("ip netns exec fastpath-l tc filter show dev l0 ingress;"
		  "ip netns exec fastpath-l tc filter show dev l0 egress", "r");
	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p))
		if (strstr(line, "handle 0x7472"))
			n++;
	pclose(p);
	return n;
}

TEST(without_module_a_clear_error)
{
	const char *ifs[1] = { "lo" };
	char err[256] = "";

	if (truth_module_loaded() && truth_module_unload())
		SKIP(return, "truth.ko is loaded and busy (another test holds it)");
	EXPECT_EQ(NULL, truth_fastpath_attach(ifs, 1, FP_PORT, err, sizeof(err)));
	TH_LOG("error: %s", err);
	EXPECT_NE(NULL, strstr(err, "truth.ko is not loaded"));
}

TEST(attach_twice_is_one_filter_and_detach_leaves_nothing)
{
	const char *ifl[1] = { "l0" };
	struct truth_fastpath *a, *b;
	uint8_t buf[512];
	struct fp_stats s;
	char err[256] = "";
	struct tnl t;
	int ns[NS_N], f, len, i;

	ASSERT_EQ(0, truth_module_load());
	ASSERT_EQ(0, fp_topology_up(ns));
	ASSERT_EQ(0, fp_enter(ns, NS_L));
	ASSERT_EQ(0, tnl_open(&t));
	ASSERT_EQ(0, fp_group_new(&t, 1, TRUTH_ROLE_LEADER, fp_key));
	a = truth_fastpath_attach(ifl, 1, FP_PORT, err, sizeof(err));
	ASSERT_NE(NULL, a) TH_LOG("%s", err);
	b = truth_fastpath_attach(ifl, 1, FP_PORT, err, sizeof(err));
	ASSERT_NE(NULL, b) TH_LOG("%s", err);
	EXPECT_EQ(2, filters_on_l0());	/* one ingress, one egress */

	ASSERT_EQ(0, fp_enter(ns, NS_F));
	f = fp_udp("10.77.0.2", FP_PORT);
	ASSERT_LE(0, f);
	ASSERT_EQ(0, fp_enter(ns, NS_L));
	len = fp_ack(buf, sizeof(buf), 2, 1, FP_G, FP_TERM, 3, 1, fp_key);
	ASSERT_EQ(0, fp_sendto(f, "10.77.0.1", FP_PORT, buf, len));
	ASSERT_EQ(0, fp_wait_total(&t, 1, &s));
	usleep(100000);
	ASSERT_EQ(0, fp_stats(&t, &s));
	EXPECT_EQ(1, s.v[TRUTH_A_STATS_FP_ACKS]);
	EXPECT_EQ(1, fp_ingress_total(&s));

	truth_fastpath_detach(b);
	EXPECT_EQ(0, filters_on_l0());
	truth_fastpath_detach(a);	/* already gone: harmless */
	EXPECT_EQ(0, filters_on_l0());

	/* by hand: the filters outlive the tool */
	EXPECT_EQ(0, fp_sh("ip netns exec fastpath-l " TOOL " attach --port 7410 l0"));
	EXPECT_EQ(2, filters_on_l0());
	EXPECT_EQ(0, fp_sh("ip netns exec fastpath-l " TOOL " detach l0"));
	EXPECT_EQ(0, filters_on_l0());
	EXPECT_NE(0, fp_sh("ip netns exec fastpath-l " TOOL " attach --port 0 l0 2>/dev/null"));
	EXPECT_NE(0, fp_sh("ip netns exec fastpath-l " TOOL " attach nosuch0 2>/dev/null"));
	EXPECT_EQ(0, filters_on_l0());

	close(f);
	truth_group_remove(&t, FP_G);
	tnl_close(&t);
	fp_enter(ns, NS_ORIG);
	fp_topology_down();
	for (i = 0; i < NS_N; i++)
		close(ns[i]);
	/* no program holds the module any more */
	EXPECT_EQ(0, truth_module_unload());
}

/* A reply's raw bytes, to look for the key anywhere in them. */
struct raw {
	char buf[8192];
	int len;
	int keyed;		/* TRUTH_A_GROUP_KEYED, -1 if absent */
	int has_key_attr;	/* a TRUTH_A_GROUP_KEY attribute came back */
};

static int raw_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct nlattr *tb[TNL_MAXATTR + 1];
	struct raw *r = arg;

	if (nlh->nlmsg_len <= sizeof(r->buf) - r->len) {
		memcpy(r->buf + r->len, nlh, nlh->nlmsg_len);
		r->len += nlh->nlmsg_len;
	}
	tnl_parse(tnl_attrs(nlh), tnl_attrs_len(nlh), tb);
	if (tb[TRUTH_A_GROUP_KEYED])
		r->keyed = *(const __u8 *)tnl_data(tb[TRUTH_A_GROUP_KEYED]);
	if (tb[TRUTH_A_GROUP_KEY])
		r->has_key_attr = 1;
	return 0;
}

/* GROUP_GET of FP_G (or a dump) appended to @r; @fresh starts over. */
static int get_raw(struct tnl *t, struct raw *r, bool dump, bool fresh)
{
	struct tmsg m;

	if (fresh) {
		memset(r, 0, sizeof(*r));
		r->keyed = -1;
	}
	tmsg_init(&m, t, TRUTH_CMD_GROUP_GET, dump ? NLM_F_DUMP : 0);
	if (!dump)
		tmsg_u32(&m, TRUTH_A_GROUP_ID, FP_G);
	return tnl_talk(t, &m, raw_cb, r);
}

static bool has_key_bytes(const struct raw *r)
{
	int i;

	for (i = 0; i + TRUTH_WIRE_KEY_LEN <= r->len; i++)
		if (!memcmp(r->buf + i, fp_key, TRUTH_WIRE_KEY_LEN))
			return true;
	return false;
}

TEST(key_is_write_only_and_exactly_32_bytes)
{
	uint8_t long_key[TRUTH_WIRE_KEY_LEN + 1] = { 0 };
	struct raw r;
	struct tmsg m;
	struct tnl t;

	ASSERT_EQ(0, truth_module_load());
	ASSERT_EQ(0, tnl_open(&t));
	truth_group_remove(&t, FP_G);
	ASSERT_EQ(0, fp_group_new(&t, 1, TRUTH_ROLE_LEADER, NULL));

	ASSERT_EQ(0, get_raw(&t, &r, false, true));
	EXPECT_EQ(0, r.keyed);

	/* wrong lengths: -EINVAL with a reason, nothing set */
	tmsg_init(&m, &t, TRUTH_CMD_GROUP_SET, 0);
	tmsg_u32(&m, TRUTH_A_GROUP_ID, FP_G);
	tmsg_put(&m, TRUTH_A_GROUP_KEY, fp_key, TRUTH_WIRE_KEY_LEN - 1);
	EXPECT_EQ(-EINVAL, tnl_talk(&t, &m, NULL, NULL));
	EXPECT_NE(0, t.ext_msg[0]);
	tmsg_init(&m, &t, TRUTH_CMD_GROUP_SET, 0);
	tmsg_u32(&m, TRUTH_A_GROUP_ID, FP_G);
	tmsg_put(&m, TRUTH_A_GROUP_KEY, long_key, sizeof(long_key));
	EXPECT_EQ(-EINVAL, tnl_talk(&t, &m, NULL, NULL));
	/* KEYED is read-only */
	tmsg_init(&m, &t, TRUTH_CMD_GROUP_SET, 0);
	tmsg_u32(&m, TRUTH_A_GROUP_ID, FP_G);
	tmsg_put(&m, TRUTH_A_GROUP_KEYED, "\1", 1);
	EXPECT_EQ(-EINVAL, tnl_talk(&t, &m, NULL, NULL));

	ASSERT_EQ(0, get_raw(&t, &r, false, true));
	EXPECT_EQ(0, r.keyed);

	tmsg_init(&m, &t, TRUTH_CMD_GROUP_SET, 0);
	tmsg_u32(&m, TRUTH_A_GROUP_ID, FP_G);
	tmsg_put(&m, TRUTH_A_GROUP_KEY, fp_key, TRUTH_WIRE_KEY_LEN);
	EXPECT_EQ(0, tnl_talk(&t, &m, NULL, NULL)) TH_LOG("%s", t.ext_msg);

	/* get and dump: KEYED, never the key */
	ASSERT_EQ(0, get_raw(&t, &r, false, true));
	ASSERT_EQ(0, get_raw(&t, &r, true, false));
	EXPECT_EQ(1, r.keyed);
	EXPECT_EQ(0, r.has_key_attr);
	EXPECT_FALSE(has_key_bytes(&r));

	truth_group_remove(&t, FP_G);
	tnl_close(&t);
	EXPECT_EQ(0, truth_module_unload());
}

TEST_HARNESS_MAIN
