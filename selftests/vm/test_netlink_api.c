// SPDX-License-Identifier: GPL-2.0
/*
 * The happy path of every command of the "truth" family, as root in the VM:
 * version; group new/get/dump/set/del; local and member acks and the commit
 * index they give; clock get/tick/merge/set; stats get/reset; and the three
 * kinds of event on the "events" multicast group.
 */

#include <stdlib.h>

#include "kselftest_harness.h"
#include "test_netlink_lib.h"

#define GID 100	/* the group most tests use */

FIXTURE(api) {
	struct tnl t;
};

FIXTURE_SETUP(api)
{
	ASSERT_EQ(0, tnl_open(&self->t)) TH_LOG("family truth not found: module not loaded?");
}

FIXTURE_TEARDOWN(api)
{
	truth_group_remove(&self->t, GID);
	truth_group_remove(&self->t, GID + 1);
	truth_group_remove(&self->t, GID + 2);
	tnl_close(&self->t);
}

static int version_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct nlattr *tb[TNL_MAXATTR + 1];
	char *out = arg;

	tnl_parse(tnl_attrs(nlh), tnl_attrs_len(nlh), tb);
	if (tb[TRUTH_A_VERSION_GENL] && tb[TRUTH_A_VERSION_WIRE] &&
	    tb[TRUTH_A_VERSION_MODULE])
		snprintf(out, 64, "genl %u wire %u module %s",
			 tnl_u32(tb[TRUTH_A_VERSION_GENL]),
			 tnl_u32(tb[TRUTH_A_VERSION_WIRE]),
			 (const char *)tnl_data(tb[TRUTH_A_VERSION_MODULE]));
	return 0;
}

TEST_F(api, version)
{
	char v[64] = "";
	struct tmsg m;

	tmsg_init(&m, &self->t, TRUTH_CMD_GET_VERSION, 0);
	ASSERT_EQ(0, tnl_talk(&self->t, &m, version_cb, v));
	ASSERT_EQ(0, strncmp(v, "genl 1 wire 1 module ", 21)) TH_LOG("got '%s'", v);
}

TEST_F(api, group_new_and_get)
{
	struct tgroup g;
	struct tmsg m;

	tmsg_init(&m, &self->t, TRUTH_CMD_GROUP_NEW, 0);
	tmsg_u32(&m, TRUTH_A_GROUP_ID, GID);
	tmsg_u32(&m, TRUTH_A_GROUP_SELF, 2);
	tmsg_member(&m, 1, 3);
	tmsg_member(&m, 2, 2);
	tmsg_member(&m, 7, 0);
	tmsg_u64(&m, TRUTH_A_GROUP_THRESHOLD, 4);
	tmsg_u64(&m, TRUTH_A_GROUP_TERM, 9);
	tmsg_u64(&m, TRUTH_A_GROUP_TERM_START, 40);
	tmsg_u32(&m, TRUTH_A_GROUP_ROLE, TRUTH_ROLE_CANDIDATE);
	tmsg_u64(&m, TRUTH_A_GROUP_COMMIT, 33);
	tmsg_str(&m, TRUTH_A_GROUP_NAME, "orders");
	ASSERT_EQ(0, tnl_talk(&self->t, &m, NULL, NULL)) TH_LOG("%s", self->t.ext_msg);

	ASSERT_EQ(0, truth_group_get(&self->t, GID, &g));
	EXPECT_EQ(GID, g.id);
	EXPECT_EQ(2, g.self);
	EXPECT_EQ(4, g.threshold);
	EXPECT_EQ(9, g.term);
	EXPECT_EQ(40, g.term_start);
	EXPECT_EQ(TRUTH_ROLE_CANDIDATE, g.role);
	EXPECT_EQ(33, g.commit);
	EXPECT_STREQ("orders", g.name);
	ASSERT_EQ(3, g.n_members);
	EXPECT_EQ(1, g.members[0].node);
	EXPECT_EQ(3, g.members[0].weight);
	EXPECT_EQ(2, g.members[1].node);
	EXPECT_EQ(7, g.members[2].node);
	EXPECT_EQ(0, g.members[2].weight);
	EXPECT_EQ(0, g.members[2].match);
}

TEST_F(api, group_defaults)
{
	struct tgroup g;
	struct tmsg m;

	tmsg_init(&m, &self->t, TRUTH_CMD_GROUP_NEW, 0);
	tmsg_u32(&m, TRUTH_A_GROUP_ID, GID);
	tmsg_u32(&m, TRUTH_A_GROUP_SELF, 1);
	for (int i = 1; i <= 5; i++) {
		struct nlattr *n = tmsg_nest(&m, TRUTH_A_GROUP_MEMBER);

		tmsg_u32(&m, TRUTH_A_MEMBER_NODE, i);	/* weight defaults to 1 */
		tmsg_nest_end(&m, n);
	}
	ASSERT_EQ(0, tnl_talk(&self->t, &m, NULL, NULL)) TH_LOG("%s", self->t.ext_msg);
	ASSERT_EQ(0, truth_group_get(&self->t, GID, &g));
	EXPECT_EQ(3, g.threshold);	/* majority of 5 */
	EXPECT_EQ(0, g.term);
	EXPECT_EQ(TRUTH_ROLE_FOLLOWER, g.role);
	EXPECT_EQ(0, g.commit);
	EXPECT_STREQ("", g.name);
	ASSERT_EQ(5, g.n_members);
	EXPECT_EQ(1, g.members[4].weight);
}

TEST_F(api, group_dump_lists_every_group_in_order)
{
	__u32 ids[64];
	int n, i, seen = 0;

	ASSERT_EQ(0, truth_group_add(&self->t, GID + 2, 3, 1));
	ASSERT_EQ(0, truth_group_add(&self->t, GID, 3, 1));
	ASSERT_EQ(0, truth_group_add(&self->t, GID + 1, 64, 1));
	n = truth_group_dump(&self->t, ids, 64);
	ASSERT_LE(3, n);
	for (i = 0; i < n && i < 64; i++) {
		if (i)
			EXPECT_LT(ids[i - 1], ids[i]);
		seen += ids[i] >= GID && ids[i] <= GID + 2;
	}
	EXPECT_EQ(3, seen);
}

/* Enough 64-member groups that the dump needs several messages. */
TEST_F(api, group_dump_spans_several_messages)
{
	__u32 ids[64];
	int i, n;

	for (i = 0; i < 40; i++)
		ASSERT_EQ(0, truth_group_add(&self->t, 5000 + i, 64, 1));
	n = truth_group_dump(&self->t, ids, 64);
	for (i = 0; i < 40; i++)
		truth_group_remove(&self->t, 5000 + i);
	ASSERT_EQ(40, n);
	for (i = 1; i < 40; i++)
		EXPECT_EQ(ids[i - 1] + 1, ids[i]);
}

TEST_F(api, group_set)
{
	struct tgroup g;
	struct tmsg m;

	ASSERT_EQ(0, truth_group_add(&self->t, GID, 3, 2));
	ASSERT_EQ(0, truth_ack(&self->t, GID, 2, 0, 10));
	ASSERT_EQ(0, truth_ack(&self->t, GID, 2, 2, 8));

	/* new member list: 1 and 2 keep their match, 4 starts at 0 */
	tmsg_init(&m, &self->t, TRUTH_CMD_GROUP_SET, 0);
	tmsg_u32(&m, TRUTH_A_GROUP_ID, GID);
	tmsg_member(&m, 1, 1);
	tmsg_member(&m, 2, 5);
	tmsg_member(&m, 4, 1);
	tmsg_str(&m, TRUTH_A_GROUP_NAME, "renamed");
	ASSERT_EQ(0, tnl_talk(&self->t, &m, NULL, NULL)) TH_LOG("%s", self->t.ext_msg);
	ASSERT_EQ(0, truth_group_get(&self->t, GID, &g));
	ASSERT_EQ(3, g.n_members);
	EXPECT_EQ(10, g.members[0].match);
	EXPECT_EQ(8, g.members[1].match);
	EXPECT_EQ(4, g.members[2].node);
	EXPECT_EQ(0, g.members[2].match);
	EXPECT_EQ(4, g.threshold);		/* majority of weight 7 */
	EXPECT_EQ(8, g.commit);			/* 1 + 5 >= 4 at index 8 */
	EXPECT_STREQ("renamed", g.name);

	/* threshold alone */
	tmsg_init(&m, &self->t, TRUTH_CMD_GROUP_SET, 0);
	tmsg_u32(&m, TRUTH_A_GROUP_ID, GID);
	tmsg_u64(&m, TRUTH_A_GROUP_THRESHOLD, 7);
	ASSERT_EQ(0, tnl_talk(&self->t, &m, NULL, NULL)) TH_LOG("%s", self->t.ext_msg);
	ASSERT_EQ(0, truth_group_get(&self->t, GID, &g));
	EXPECT_EQ(7, g.threshold);
	EXPECT_EQ(8, g.commit);			/* never backwards */

	/* a new term resets the match indexes */
	tmsg_init(&m, &self->t, TRUTH_CMD_GROUP_SET, 0);
	tmsg_u32(&m, TRUTH_A_GROUP_ID, GID);
	tmsg_u64(&m, TRUTH_A_GROUP_TERM, 3);
	tmsg_u64(&m, TRUTH_A_GROUP_TERM_START, 11);
	tmsg_u32(&m, TRUTH_A_GROUP_ROLE, TRUTH_ROLE_LEADER);
	ASSERT_EQ(0, tnl_talk(&self->t, &m, NULL, NULL)) TH_LOG("%s", self->t.ext_msg);
	ASSERT_EQ(0, truth_group_get(&self->t, GID, &g));
	EXPECT_EQ(3, g.term);
	EXPECT_EQ(11, g.term_start);
	EXPECT_EQ(0, g.members[0].match);
	EXPECT_EQ(0, g.members[1].match);
	EXPECT_EQ(8, g.commit);

	/* RESET_MATCH without a term change */
	ASSERT_EQ(0, truth_ack(&self->t, GID, 3, 2, 5));
	tmsg_init(&m, &self->t, TRUTH_CMD_GROUP_SET, 0);
	tmsg_u32(&m, TRUTH_A_GROUP_ID, GID);
	tmsg_u32(&m, TRUTH_A_GROUP_FLAGS, TRUTH_GROUP_F_RESET_MATCH);
	ASSERT_EQ(0, tnl_talk(&self->t, &m, NULL, NULL)) TH_LOG("%s", self->t.ext_msg);
	ASSERT_EQ(0, truth_group_get(&self->t, GID, &g));
	EXPECT_EQ(0, g.members[1].match);
}

TEST_F(api, group_del)
{
	struct tgroup g;

	ASSERT_EQ(0, truth_group_add(&self->t, GID, 3, 1));
	ASSERT_EQ(0, truth_group_remove(&self->t, GID));
	EXPECT_EQ(-ENOENT, truth_group_get(&self->t, GID, &g));
	/* the id can be used again */
	ASSERT_EQ(0, truth_group_add(&self->t, GID, 3, 1));
}

TEST_F(api, ack_commit_rule)
{
	struct tgroup g;

	/* members 1..5, majority 3, term 4 starting at index 1 */
	ASSERT_EQ(0, truth_group_add(&self->t, GID, 5, 4));
	ASSERT_EQ(0, truth_ack(&self->t, GID, 4, 0, 10));	/* local */
	ASSERT_EQ(0, truth_group_get(&self->t, GID, &g));
	EXPECT_EQ(10, g.members[0].match);
	EXPECT_EQ(0, g.commit);
	ASSERT_EQ(0, truth_ack(&self->t, GID, 4, 2, 6));
	ASSERT_EQ(0, truth_group_get(&self->t, GID, &g));
	EXPECT_EQ(0, g.commit);
	ASSERT_EQ(0, truth_ack(&self->t, GID, 4, 3, 8));
	ASSERT_EQ(0, truth_group_get(&self->t, GID, &g));
	EXPECT_EQ(6, g.commit);					/* 10, 6, 8: third is 6 */
	ASSERT_EQ(0, truth_ack(&self->t, GID, 4, 4, 9));
	ASSERT_EQ(0, truth_group_get(&self->t, GID, &g));
	EXPECT_EQ(8, g.commit);
	/* a lower ack changes nothing */
	ASSERT_EQ(0, truth_ack(&self->t, GID, 4, 4, 2));
	ASSERT_EQ(0, truth_group_get(&self->t, GID, &g));
	EXPECT_EQ(9, g.members[3].match);
	EXPECT_EQ(8, g.commit);
}

/* Raft §5.4.2: older-term entries commit only with one of the term. */
TEST_F(api, ack_counts_only_current_term)
{
	struct tgroup g;
	struct tmsg m;

	ASSERT_EQ(0, truth_group_add(&self->t, GID, 3, 1));
	tmsg_init(&m, &self->t, TRUTH_CMD_GROUP_SET, 0);
	tmsg_u32(&m, TRUTH_A_GROUP_ID, GID);
	tmsg_u64(&m, TRUTH_A_GROUP_TERM, 2);
	tmsg_u64(&m, TRUTH_A_GROUP_TERM_START, 20);
	ASSERT_EQ(0, tnl_talk(&self->t, &m, NULL, NULL)) TH_LOG("%s", self->t.ext_msg);
	ASSERT_EQ(0, truth_ack(&self->t, GID, 2, 0, 19));
	ASSERT_EQ(0, truth_ack(&self->t, GID, 2, 2, 19));
	ASSERT_EQ(0, truth_group_get(&self->t, GID, &g));
	EXPECT_EQ(0, g.commit);
	ASSERT_EQ(0, truth_ack(&self->t, GID, 2, 0, 20));
	ASSERT_EQ(0, truth_ack(&self->t, GID, 2, 3, 20));
	ASSERT_EQ(0, truth_group_get(&self->t, GID, &g));
	EXPECT_EQ(20, g.commit);
}

TEST_F(api, ack_weighted)
{
	struct tgroup g;
	struct tmsg m;

	/* stake 50/20/20/10, two thirds = 67 */
	tmsg_init(&m, &self->t, TRUTH_CMD_GROUP_NEW, 0);
	tmsg_u32(&m, TRUTH_A_GROUP_ID, GID);
	tmsg_u32(&m, TRUTH_A_GROUP_SELF, 1);
	tmsg_member(&m, 1, 50);
	tmsg_member(&m, 2, 20);
	tmsg_member(&m, 3, 20);
	tmsg_member(&m, 4, 10);
	tmsg_u64(&m, TRUTH_A_GROUP_THRESHOLD, 67);
	tmsg_u32(&m, TRUTH_A_GROUP_ROLE, TRUTH_ROLE_LEADER);
	ASSERT_EQ(0, tnl_talk(&self->t, &m, NULL, NULL)) TH_LOG("%s", self->t.ext_msg);
	ASSERT_EQ(0, truth_ack(&self->t, GID, 0, 2, 9));
	ASSERT_EQ(0, truth_ack(&self->t, GID, 0, 3, 9));
	ASSERT_EQ(0, truth_ack(&self->t, GID, 0, 4, 9));
	ASSERT_EQ(0, truth_group_get(&self->t, GID, &g));
	EXPECT_EQ(0, g.commit);		/* 50 of stake is not two thirds */
	ASSERT_EQ(0, truth_ack(&self->t, GID, 0, 0, 4));
	ASSERT_EQ(0, truth_group_get(&self->t, GID, &g));
	EXPECT_EQ(4, g.commit);
}

TEST_F(api, clock_get_tick_merge_set)
{
	struct tclock a, b;
	struct tmsg m;

	ASSERT_EQ(0, truth_clock(&self->t, TRUTH_CMD_CLOCK_GET, 0, &a));
	ASSERT_EQ(0, truth_clock(&self->t, TRUTH_CMD_CLOCK_GET, 0, &b));
	EXPECT_EQ(a.lamport, b.lamport);	/* get does not tick */
	EXPECT_EQ(a.hlc, b.hlc);
	EXPECT_EQ(0, b.group_id);
	ASSERT_EQ(0, truth_clock(&self->t, TRUTH_CMD_CLOCK_TICK, 0, &b));
	EXPECT_EQ(a.lamport + 1, b.lamport);
	EXPECT_LT(a.hlc, b.hlc);

	/* merge a Lamport time from the future */
	tmsg_init(&m, &self->t, TRUTH_CMD_CLOCK_MERGE, 0);
	tmsg_u64(&m, TRUTH_A_CLOCK_LAMPORT, b.lamport + 1000);
	ASSERT_EQ(0, tnl_talk(&self->t, &m, tclock_cb, &a)) TH_LOG("%s", self->t.ext_msg);
	EXPECT_EQ(b.lamport + 1001, a.lamport);
	EXPECT_LT(b.hlc, a.hlc);

	/* an HLC a little ahead (within 500 ms) is taken, plus one */
	tmsg_init(&m, &self->t, TRUTH_CMD_CLOCK_MERGE, 0);
	tmsg_u64(&m, TRUTH_A_CLOCK_HLC, (a.hlc & ~0xffffULL) + 100000000ULL + 5);
	ASSERT_EQ(0, tnl_talk(&self->t, &m, tclock_cb, &b)) TH_LOG("%s", self->t.ext_msg);
	EXPECT_EQ((a.hlc & ~0xffffULL) + 100000000ULL + 6, b.hlc);
	EXPECT_EQ(a.lamport + 1, b.lamport);

	/* max offset */
	tmsg_init(&m, &self->t, TRUTH_CMD_CLOCK_SET, 0);
	tmsg_u64(&m, TRUTH_A_CLOCK_HLC_MAX_OFFSET, 2000000000ULL);
	ASSERT_EQ(0, tnl_talk(&self->t, &m, tclock_cb, &a)) TH_LOG("%s", self->t.ext_msg);
	EXPECT_EQ(2000000000ULL, a.max_offset);
	tmsg_init(&m, &self->t, TRUTH_CMD_CLOCK_SET, 0);
	tmsg_u64(&m, TRUTH_A_CLOCK_HLC_MAX_OFFSET, TRUTH_HLC_MAX_OFFSET_DEFAULT);
	ASSERT_EQ(0, tnl_talk(&self->t, &m, tclock_cb, &a));
	EXPECT_EQ(TRUTH_HLC_MAX_OFFSET_DEFAULT, a.max_offset);
}

TEST_F(api, vector_clock_of_a_group)
{
	struct nlattr *n;
	struct tclock c;
	struct tmsg m;

	ASSERT_EQ(0, truth_group_add(&self->t, GID, 3, 1));
	ASSERT_EQ(0, truth_clock(&self->t, TRUTH_CMD_CLOCK_GET, GID, &c));
	EXPECT_EQ(GID, c.group_id);
	EXPECT_EQ(0, c.n);
	ASSERT_EQ(0, truth_clock(&self->t, TRUTH_CMD_CLOCK_TICK, GID, &c));
	ASSERT_EQ(1, c.n);
	EXPECT_EQ(1, c.vc[0].node);	/* SELF */
	EXPECT_EQ(1, c.vc[0].counter);

	/* receive {1:5, 2:3, 9:1}: max entry-wise, then SELF + 1 */
	tmsg_init(&m, &self->t, TRUTH_CMD_CLOCK_MERGE, 0);
	tmsg_u32(&m, TRUTH_A_CLOCK_GROUP_ID, GID);
	n = tmsg_nest(&m, TRUTH_A_CLOCK_VCLOCK);
	tmsg_u32(&m, TRUTH_A_VCLOCK_NODE, 1);
	tmsg_u64(&m, TRUTH_A_VCLOCK_COUNTER, 5);
	tmsg_nest_end(&m, n);
	n = tmsg_nest(&m, TRUTH_A_CLOCK_VCLOCK);
	tmsg_u32(&m, TRUTH_A_VCLOCK_NODE, 2);
	tmsg_u64(&m, TRUTH_A_VCLOCK_COUNTER, 3);
	tmsg_nest_end(&m, n);
	n = tmsg_nest(&m, TRUTH_A_CLOCK_VCLOCK);
	tmsg_u32(&m, TRUTH_A_VCLOCK_NODE, 9);
	tmsg_u64(&m, TRUTH_A_VCLOCK_COUNTER, 1);
	tmsg_nest_end(&m, n);
	ASSERT_EQ(0, tnl_talk(&self->t, &m, tclock_cb, &c)) TH_LOG("%s", self->t.ext_msg);
	ASSERT_EQ(3, c.n);
	EXPECT_EQ(1, c.vc[0].node);
	EXPECT_EQ(6, c.vc[0].counter);
	EXPECT_EQ(2, c.vc[1].node);
	EXPECT_EQ(3, c.vc[1].counter);
	EXPECT_EQ(9, c.vc[2].node);
	EXPECT_EQ(1, c.vc[2].counter);
}

TEST_F(api, stats_get_reset)
{
	struct tstats s;
	struct tmsg m;

	ASSERT_EQ(0, truth_group_add(&self->t, GID, 3, 1));
	ASSERT_EQ(0, truth_ack(&self->t, GID, 1, 0, 5));
	ASSERT_EQ(0, truth_ack(&self->t, GID, 1, 2, 5));	/* commit 5 */
	ASSERT_EQ(0, truth_ack(&self->t, GID, 1, 2, 4));	/* redundant */
	ASSERT_EQ(-ESTALE, truth_ack(&self->t, GID, 9, 2, 6));
	ASSERT_EQ(0, truth_stats(&self->t, GID, &s));
	EXPECT_EQ(3, s.acks);
	EXPECT_EQ(1, s.acks_local);
	EXPECT_EQ(1, s.acks_redundant);
	EXPECT_EQ(1, s.acks_stale);
	EXPECT_EQ(1, s.advances);
	EXPECT_EQ(1, s.events);

	tmsg_init(&m, &self->t, TRUTH_CMD_STATS_RESET, 0);
	tmsg_u32(&m, TRUTH_A_STATS_GROUP_ID, GID);
	ASSERT_EQ(0, tnl_talk(&self->t, &m, NULL, NULL)) TH_LOG("%s", self->t.ext_msg);
	ASSERT_EQ(0, truth_stats(&self->t, GID, &s));
	EXPECT_EQ(0, s.acks);
	EXPECT_EQ(0, s.acks_stale);
	EXPECT_EQ(0, s.advances);
}

TEST_F(api, events_commit_term_and_group_del)
{
	const struct nlattr *tb[TNL_MAXATTR + 1];
	static char buf[8192];
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	struct tnl ev;
	struct tmsg m;

	ASSERT_EQ(0, tnl_open(&ev));
	ASSERT_NE(0, ev.events_grp);
	ASSERT_EQ(0, tnl_listen(&ev));

	ASSERT_EQ(0, truth_group_add(&self->t, GID, 3, 1));
	ASSERT_EQ(0, truth_ack(&self->t, GID, 1, 0, 5));
	ASSERT_EQ(0, truth_ack(&self->t, GID, 1, 3, 4));
	ASSERT_EQ(TRUTH_CMD_EVENT_COMMIT, tnl_event(&ev, 2000, buf, sizeof(buf)));
	tnl_parse(tnl_attrs(nlh), tnl_attrs_len(nlh), tb);
	ASSERT_NE(NULL, tb[TRUTH_A_GROUP_ID]);
	EXPECT_EQ(GID, tnl_u32(tb[TRUTH_A_GROUP_ID]));
	ASSERT_NE(NULL, tb[TRUTH_A_GROUP_COMMIT]);
	EXPECT_EQ(4, tnl_u64(tb[TRUTH_A_GROUP_COMMIT]));
	ASSERT_NE(NULL, tb[TRUTH_A_GROUP_TERM]);
	EXPECT_EQ(1, tnl_u64(tb[TRUTH_A_GROUP_TERM]));

	tmsg_init(&m, &self->t, TRUTH_CMD_GROUP_SET, 0);
	tmsg_u32(&m, TRUTH_A_GROUP_ID, GID);
	tmsg_u32(&m, TRUTH_A_GROUP_ROLE, TRUTH_ROLE_FOLLOWER);
	ASSERT_EQ(0, tnl_talk(&self->t, &m, NULL, NULL));
	ASSERT_EQ(TRUTH_CMD_EVENT_TERM, tnl_event(&ev, 2000, buf, sizeof(buf)));
	tnl_parse(tnl_attrs(nlh), tnl_attrs_len(nlh), tb);
	ASSERT_NE(NULL, tb[TRUTH_A_GROUP_ROLE]);
	EXPECT_EQ(TRUTH_ROLE_FOLLOWER, tnl_u32(tb[TRUTH_A_GROUP_ROLE]));

	ASSERT_EQ(0, truth_group_remove(&self->t, GID));
	ASSERT_EQ(TRUTH_CMD_EVENT_GROUP_DEL, tnl_event(&ev, 2000, buf, sizeof(buf)));
	tnl_parse(tnl_attrs(nlh), tnl_attrs_len(nlh), tb);
	EXPECT_EQ(GID, tnl_u32(tb[TRUTH_A_GROUP_ID]));

	/* nothing else */
	EXPECT_EQ(0, tnl_event(&ev, 200, buf, sizeof(buf)));
	tnl_close(&ev);
}

/* The HLC refuses stamps beyond the configured offset and accepts within. */
TEST_F(api, hlc_bound_follows_clock_set)
{
	struct tclock c, after;
	struct tmsg m;
	__u64 now;

	tmsg_init(&m, &self->t, TRUTH_CMD_CLOCK_SET, 0);
	tmsg_u64(&m, TRUTH_A_CLOCK_HLC_MAX_OFFSET, 5000000ULL);	/* 5 ms */
	ASSERT_EQ(0, tnl_talk(&self->t, &m, tclock_cb, &c)) TH_LOG("%s", self->t.ext_msg);
	ASSERT_EQ(0, truth_clock(&self->t, TRUTH_CMD_CLOCK_TICK, 0, &c));
	now = c.hlc & ~0xffffULL;	/* at least local physical time */

	/* one second ahead: refused, nothing changes */
	tmsg_init(&m, &self->t, TRUTH_CMD_CLOCK_MERGE, 0);
	tmsg_u64(&m, TRUTH_A_CLOCK_HLC, now + 1000000000ULL);
	EXPECT_EQ(-ERANGE, tnl_talk(&self->t, &m, NULL, NULL));
	EXPECT_NE(0, self->t.ext_msg[0]);
	ASSERT_EQ(0, truth_clock(&self->t, TRUTH_CMD_CLOCK_GET, 0, &after));
	EXPECT_EQ(c.hlc, after.hlc);
	EXPECT_EQ(c.lamport, after.lamport);

	/* back to the default: the same stamp is now within bounds */
	tmsg_init(&m, &self->t, TRUTH_CMD_CLOCK_SET, 0);
	tmsg_u64(&m, TRUTH_A_CLOCK_HLC_MAX_OFFSET, TRUTH_HLC_MAX_OFFSET_MAX);
	ASSERT_EQ(0, tnl_talk(&self->t, &m, NULL, NULL));
	tmsg_init(&m, &self->t, TRUTH_CMD_CLOCK_MERGE, 0);
	tmsg_u64(&m, TRUTH_A_CLOCK_HLC, now + 1000000000ULL);
	ASSERT_EQ(0, tnl_talk(&self->t, &m, tclock_cb, &after)) TH_LOG("%s", self->t.ext_msg);
	EXPECT_EQ(now + 1000000000ULL + 1, after.hlc);
	tmsg_init(&m, &self->t, TRUTH_CMD_CLOCK_SET, 0);
	tmsg_u64(&m, TRUTH_A_CLOCK_HLC_MAX_OFFSET, TRUTH_HLC_MAX_OFFSET_DEFAULT);
	ASSERT_EQ(0, tnl_talk(&self->t, &m, NULL, NULL));
}

TEST_HARNESS_MAIN
