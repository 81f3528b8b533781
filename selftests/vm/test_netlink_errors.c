// SPDX-License-Identifier: GPL-2.0
/*
 * Hostile and wrong input to every command of the "truth" family, one case
 * per TAP line: wrong type (length), out of range, too long, missing,
 * unknown group or member, duplicate create, unknown attribute or flag,
 * inconsistent values.  Each case checks the documented errno (see
 * include/uapi/linux/truth.h), that an extack message came with it, and that
 * nothing changed: the groups, the clocks and the stats (but for the
 * refused-ack counter, which exists to count exactly these) read back the
 * same as before.
 */

#include <stdlib.h>

#include "kselftest_harness.h"
#include "test_netlink_lib.h"

#define G	7	/* a leader group, members 1..3, term 5 */
#define GF	8	/* a follower group */
#define GNONE	4242	/* never exists */

struct state {
	int n_groups;
	struct tgroup g, gf;
	struct tclock c, cg;
	struct tstats s;
};

static int snapshot(struct tnl *t, struct state *st)
{
	__u32 ids[8];
	int ret;

	memset(st, 0, sizeof(*st));
	st->n_groups = truth_group_dump(t, ids, 8);
	if (st->n_groups < 0)
		return st->n_groups;
	ret = truth_group_get(t, G, &st->g) ?: truth_group_get(t, GF, &st->gf) ?:
	      truth_clock(t, TRUTH_CMD_CLOCK_GET, 0, &st->c) ?:
	      truth_clock(t, TRUTH_CMD_CLOCK_GET, G, &st->cg) ?:
	      truth_stats(t, G, &st->s);
	st->s.acks_stale = 0;
	return ret;
}

FIXTURE(bad) {
	struct tnl t;
	struct state before;
};

FIXTURE_VARIANT(bad) {
	void (*build)(struct tmsg *m, const struct tnl *t);
	int err;
};

FIXTURE_SETUP(bad)
{
	struct tclock c;
	struct tmsg m;

	ASSERT_EQ(0, tnl_open(&self->t)) TH_LOG("family truth not found");
	truth_group_remove(&self->t, G);
	truth_group_remove(&self->t, GF);
	ASSERT_EQ(0, truth_group_add(&self->t, G, 3, 5));
	ASSERT_EQ(0, truth_ack(&self->t, G, 5, 0, 4));
	ASSERT_EQ(0, truth_ack(&self->t, G, 5, 2, 3));
	ASSERT_EQ(0, truth_clock(&self->t, TRUTH_CMD_CLOCK_TICK, G, &c));
	tmsg_init(&m, &self->t, TRUTH_CMD_GROUP_NEW, 0);
	tmsg_u32(&m, TRUTH_A_GROUP_ID, GF);
	tmsg_u32(&m, TRUTH_A_GROUP_SELF, 2);
	tmsg_member(&m, 1, 1);
	tmsg_member(&m, 2, 1);
	tmsg_member(&m, 3, 1);
	tmsg_u64(&m, TRUTH_A_GROUP_TERM, 1);
	ASSERT_EQ(0, tnl_talk(&self->t, &m, NULL, NULL));
	ASSERT_EQ(0, snapshot(&self->t, &self->before));
	ASSERT_EQ(3, self->before.g.commit);
}

FIXTURE_TEARDOWN(bad)
{
	truth_group_remove(&self->t, G);
	truth_group_remove(&self->t, GF);
	tnl_close(&self->t);
}

TEST_F(bad, rejected_with_extack_and_no_change)
{
	struct state after;
	struct tmsg m;
	int ret;

	variant->build(&m, &self->t);
	ret = tnl_talk(&self->t, &m, NULL, NULL);
	EXPECT_EQ(variant->err, ret) {
		TH_LOG("got %d (%s), extack '%s'", ret, strerror(-ret), self->t.ext_msg);
	}
	EXPECT_NE(0, self->t.ext_msg[0]) TH_LOG("no extack message for errno %d", ret);
	TH_LOG("%s: extack \"%s\"", strerror(-ret), self->t.ext_msg);

	ASSERT_EQ(0, snapshot(&self->t, &after));
	EXPECT_EQ(self->before.n_groups, after.n_groups);
	EXPECT_EQ(0, memcmp(&self->before.g, &after.g, sizeof(after.g))) TH_LOG("group changed");
	EXPECT_EQ(0, memcmp(&self->before.gf, &after.gf, sizeof(after.gf)));
	EXPECT_EQ(0, memcmp(&self->before.c, &after.c, sizeof(after.c))) TH_LOG("clocks changed");
	EXPECT_EQ(0, memcmp(&self->before.cg, &after.cg, sizeof(after.cg))) TH_LOG("vclock changed");
	EXPECT_EQ(0, memcmp(&self->before.s, &after.s, sizeof(after.s))) TH_LOG("stats changed");
}

#define BAD(name, errno_)						\
	static void build_##name(struct tmsg *m, const struct tnl *t);	\
	FIXTURE_VARIANT_ADD(bad, name) {				\
		.build = build_##name, .err = (errno_),			\
	};								\
	static void build_##name(struct tmsg *m, const struct tnl *t)

/* A valid GROUP_NEW of a fresh group, for the cases to spoil. */
static void new_prefix(struct tmsg *m, const struct tnl *t, __u32 id)
{
	tmsg_init(m, t, TRUTH_CMD_GROUP_NEW, 0);
	tmsg_u32(m, TRUTH_A_GROUP_ID, id);
	tmsg_u32(m, TRUTH_A_GROUP_SELF, 1);
	tmsg_member(m, 1, 1);
}

/* ------------------------------------------------------------ GROUP_NEW */

BAD(new_missing_id, -EINVAL)
{
	tmsg_init(m, t, TRUTH_CMD_GROUP_NEW, 0);
	tmsg_u32(m, TRUTH_A_GROUP_SELF, 1);
	tmsg_member(m, 1, 1);
}

BAD(new_missing_self, -EINVAL)
{
	tmsg_init(m, t, TRUTH_CMD_GROUP_NEW, 0);
	tmsg_u32(m, TRUTH_A_GROUP_ID, 99);
	tmsg_member(m, 1, 1);
}

BAD(new_missing_members, -EINVAL)
{
	tmsg_init(m, t, TRUTH_CMD_GROUP_NEW, 0);
	tmsg_u32(m, TRUTH_A_GROUP_ID, 99);
	tmsg_u32(m, TRUTH_A_GROUP_SELF, 1);
}

BAD(new_duplicate, -EEXIST)
{
	new_prefix(m, t, G);
}

BAD(new_id_zero, -ERANGE)
{
	new_prefix(m, t, 0);
}

BAD(new_id_wrong_type_u64, -EINVAL)
{
	tmsg_init(m, t, TRUTH_CMD_GROUP_NEW, 0);
	tmsg_u64(m, TRUTH_A_GROUP_ID, 99);
	tmsg_u32(m, TRUTH_A_GROUP_SELF, 1);
	tmsg_member(m, 1, 1);
}

BAD(new_id_wrong_type_u8, -EINVAL)
{
	__u8 b = 99;

	tmsg_init(m, t, TRUTH_CMD_GROUP_NEW, 0);
	tmsg_put(m, TRUTH_A_GROUP_ID, &b, 1);
	tmsg_u32(m, TRUTH_A_GROUP_SELF, 1);
	tmsg_member(m, 1, 1);
}

BAD(new_self_not_member, -EINVAL)
{
	tmsg_init(m, t, TRUTH_CMD_GROUP_NEW, 0);
	tmsg_u32(m, TRUTH_A_GROUP_ID, 99);
	tmsg_u32(m, TRUTH_A_GROUP_SELF, 5);
	tmsg_member(m, 1, 1);
}

BAD(new_threshold_zero, -ERANGE)
{
	new_prefix(m, t, 99);
	tmsg_u64(m, TRUTH_A_GROUP_THRESHOLD, 0);
}

BAD(new_threshold_above_total, -EINVAL)
{
	new_prefix(m, t, 99);
	tmsg_member(m, 2, 1);
	tmsg_u64(m, TRUTH_A_GROUP_THRESHOLD, 3);
}

BAD(new_threshold_wrong_type, -EINVAL)
{
	new_prefix(m, t, 99);
	tmsg_u32(m, TRUTH_A_GROUP_THRESHOLD, 1);
}

BAD(new_all_learners, -EINVAL)
{
	tmsg_init(m, t, TRUTH_CMD_GROUP_NEW, 0);
	tmsg_u32(m, TRUTH_A_GROUP_ID, 99);
	tmsg_u32(m, TRUTH_A_GROUP_SELF, 1);
	tmsg_member(m, 1, 0);
	tmsg_member(m, 2, 0);
}

BAD(new_role_out_of_range, -ERANGE)
{
	new_prefix(m, t, 99);
	tmsg_u32(m, TRUTH_A_GROUP_ROLE, TRUTH_ROLE_MAX + 1);
}

BAD(new_term_wrong_type, -EINVAL)
{
	new_prefix(m, t, 99);
	tmsg_u32(m, TRUTH_A_GROUP_TERM, 1);
}

BAD(new_name_too_long, -EINVAL)
{
	new_prefix(m, t, 99);
	tmsg_str(m, TRUTH_A_GROUP_NAME, "a-name-that-is-longer-than-thirty-one-bytes");
}

BAD(new_name_without_nul, -EINVAL)
{
	new_prefix(m, t, 99);
	tmsg_put(m, TRUTH_A_GROUP_NAME, "abc", 3);
}

BAD(new_duplicate_member, -EINVAL)
{
	new_prefix(m, t, 99);
	tmsg_member(m, 1, 1);
}

BAD(new_member_without_node, -EINVAL)
{
	struct nlattr *n;

	new_prefix(m, t, 99);
	n = tmsg_nest(m, TRUTH_A_GROUP_MEMBER);
	tmsg_u32(m, TRUTH_A_MEMBER_WEIGHT, 1);
	tmsg_nest_end(m, n);
}

BAD(new_member_weight_wrong_type, -EINVAL)
{
	struct nlattr *n;

	new_prefix(m, t, 99);
	n = tmsg_nest(m, TRUTH_A_GROUP_MEMBER);
	tmsg_u32(m, TRUTH_A_MEMBER_NODE, 2);
	tmsg_u64(m, TRUTH_A_MEMBER_WEIGHT, 1);
	tmsg_nest_end(m, n);
}

BAD(new_member_match_not_accepted, -EINVAL)
{
	struct nlattr *n;

	new_prefix(m, t, 99);
	n = tmsg_nest(m, TRUTH_A_GROUP_MEMBER);
	tmsg_u32(m, TRUTH_A_MEMBER_NODE, 2);
	tmsg_u64(m, TRUTH_A_MEMBER_MATCH, 100);
	tmsg_nest_end(m, n);
}

BAD(new_member_unknown_nested_attr, -EINVAL)
{
	struct nlattr *n;

	new_prefix(m, t, 99);
	n = tmsg_nest(m, TRUTH_A_GROUP_MEMBER);
	tmsg_u32(m, TRUTH_A_MEMBER_NODE, 2);
	tmsg_u32(m, 30, 1);
	tmsg_nest_end(m, n);
}

BAD(new_member_not_a_nest, -EINVAL)
{
	new_prefix(m, t, 99);
	tmsg_u32(m, TRUTH_A_GROUP_MEMBER | NLA_F_NESTED, 2);
}

BAD(new_member_missing_nested_flag, -EINVAL)
{
	struct nlattr *n;

	new_prefix(m, t, 99);
	n = tmsg_put(m, TRUTH_A_GROUP_MEMBER, NULL, 0);
	tmsg_u32(m, TRUTH_A_MEMBER_NODE, 2);
	tmsg_nest_end(m, n);
}

BAD(new_too_many_members, -E2BIG)
{
	__u32 i;

	new_prefix(m, t, 99);
	for (i = 2; i <= TRUTH_GROUP_MEMBERS_MAX + 1; i++)
		tmsg_member(m, i, 1);
}

BAD(new_unknown_attribute, -EINVAL)
{
	new_prefix(m, t, 99);
	tmsg_u32(m, TRUTH_A_GROUP_MAX + 1, 1);
}

BAD(new_attribute_of_another_command, -EINVAL)
{
	new_prefix(m, t, 99);
	tmsg_u64(m, TRUTH_A_GROUP_INDEX, 1);
}

BAD(new_flags_not_accepted, -EINVAL)
{
	new_prefix(m, t, 99);
	tmsg_u32(m, TRUTH_A_GROUP_FLAGS, 0);
}

BAD(new_truncated_attribute, -EINVAL)
{
	struct nlattr *a;

	new_prefix(m, t, 99);
	a = tmsg_put(m, TRUTH_A_GROUP_TERM, "\1\0\0\0\0\0\0\0", 8);
	a->nla_len = 200;	/* claims more than the message holds */
}

/* ------------------------------------------------------------ GROUP_SET */

BAD(set_unknown_group, -ENOENT)
{
	tmsg_init(m, t, TRUTH_CMD_GROUP_SET, 0);
	tmsg_u32(m, TRUTH_A_GROUP_ID, GNONE);
	tmsg_u32(m, TRUTH_A_GROUP_ROLE, TRUTH_ROLE_LEADER);
}

BAD(set_missing_id, -EINVAL)
{
	tmsg_init(m, t, TRUTH_CMD_GROUP_SET, 0);
	tmsg_u32(m, TRUTH_A_GROUP_ROLE, TRUTH_ROLE_LEADER);
}

BAD(set_term_backwards, -EINVAL)
{
	tmsg_init(m, t, TRUTH_CMD_GROUP_SET, 0);
	tmsg_u32(m, TRUTH_A_GROUP_ID, G);
	tmsg_u64(m, TRUTH_A_GROUP_TERM, 4);
	tmsg_u64(m, TRUTH_A_GROUP_TERM_START, 1);
}

BAD(set_new_term_without_start, -EINVAL)
{
	tmsg_init(m, t, TRUTH_CMD_GROUP_SET, 0);
	tmsg_u32(m, TRUTH_A_GROUP_ID, G);
	tmsg_u64(m, TRUTH_A_GROUP_TERM, 6);
}

/* the first index of the current term (1) must not move back */
BAD(set_term_start_back_within_term, -EINVAL)
{
	tmsg_init(m, t, TRUTH_CMD_GROUP_SET, 0);
	tmsg_u32(m, TRUTH_A_GROUP_ID, G);
	tmsg_u64(m, TRUTH_A_GROUP_TERM_START, 0);
}

BAD(set_term_start_back_same_term_given, -EINVAL)
{
	tmsg_init(m, t, TRUTH_CMD_GROUP_SET, 0);
	tmsg_u32(m, TRUTH_A_GROUP_ID, G);
	tmsg_u64(m, TRUTH_A_GROUP_TERM, 5);
	tmsg_u64(m, TRUTH_A_GROUP_TERM_START, 0);
}

BAD(set_unknown_flag, -EINVAL)
{
	tmsg_init(m, t, TRUTH_CMD_GROUP_SET, 0);
	tmsg_u32(m, TRUTH_A_GROUP_ID, G);
	tmsg_u32(m, TRUTH_A_GROUP_FLAGS, TRUTH_GROUP_F_RESET_MATCH | (1U << 7));
}

BAD(set_self_not_accepted, -EINVAL)
{
	tmsg_init(m, t, TRUTH_CMD_GROUP_SET, 0);
	tmsg_u32(m, TRUTH_A_GROUP_ID, G);
	tmsg_u32(m, TRUTH_A_GROUP_SELF, 2);
}

BAD(set_members_without_self, -EINVAL)
{
	tmsg_init(m, t, TRUTH_CMD_GROUP_SET, 0);
	tmsg_u32(m, TRUTH_A_GROUP_ID, G);
	tmsg_member(m, 2, 1);
	tmsg_member(m, 3, 1);
}

BAD(set_threshold_above_total, -EINVAL)
{
	tmsg_init(m, t, TRUTH_CMD_GROUP_SET, 0);
	tmsg_u32(m, TRUTH_A_GROUP_ID, G);
	tmsg_u64(m, TRUTH_A_GROUP_THRESHOLD, 4);
}

BAD(set_role_out_of_range, -ERANGE)
{
	tmsg_init(m, t, TRUTH_CMD_GROUP_SET, 0);
	tmsg_u32(m, TRUTH_A_GROUP_ID, G);
	tmsg_u32(m, TRUTH_A_GROUP_ROLE, 1000);
}

BAD(set_commit_not_accepted, -EINVAL)
{
	tmsg_init(m, t, TRUTH_CMD_GROUP_SET, 0);
	tmsg_u32(m, TRUTH_A_GROUP_ID, G);
	tmsg_u64(m, TRUTH_A_GROUP_COMMIT, 100);
}

/* ------------------------------------------------------ GROUP_DEL, GET */

BAD(del_unknown_group, -ENOENT)
{
	tmsg_init(m, t, TRUTH_CMD_GROUP_DEL, 0);
	tmsg_u32(m, TRUTH_A_GROUP_ID, GNONE);
}

BAD(del_missing_id, -EINVAL)
{
	tmsg_init(m, t, TRUTH_CMD_GROUP_DEL, 0);
}

BAD(del_id_wrong_type, -EINVAL)
{
	tmsg_init(m, t, TRUTH_CMD_GROUP_DEL, 0);
	tmsg_u64(m, TRUTH_A_GROUP_ID, G);
}

BAD(get_unknown_group, -ENOENT)
{
	tmsg_init(m, t, TRUTH_CMD_GROUP_GET, 0);
	tmsg_u32(m, TRUTH_A_GROUP_ID, GNONE);
}

BAD(get_missing_id, -EINVAL)
{
	tmsg_init(m, t, TRUTH_CMD_GROUP_GET, 0);
}

BAD(dump_with_attribute, -EINVAL)
{
	tmsg_init(m, t, TRUTH_CMD_GROUP_GET, NLM_F_DUMP);
	tmsg_u32(m, TRUTH_A_GROUP_ID, G);
}

/* ------------------------------------------------------------ GROUP_ACK */

static void ack_prefix(struct tmsg *m, const struct tnl *t, __u32 id, __u64 term)
{
	tmsg_init(m, t, TRUTH_CMD_GROUP_ACK, 0);
	tmsg_u32(m, TRUTH_A_GROUP_ID, id);
	tmsg_u64(m, TRUTH_A_GROUP_TERM, term);
}

BAD(ack_unknown_group, -ENOENT)
{
	ack_prefix(m, t, GNONE, 5);
	tmsg_u64(m, TRUTH_A_GROUP_INDEX, 10);
}

BAD(ack_missing_term, -EINVAL)
{
	tmsg_init(m, t, TRUTH_CMD_GROUP_ACK, 0);
	tmsg_u32(m, TRUTH_A_GROUP_ID, G);
	tmsg_u64(m, TRUTH_A_GROUP_INDEX, 10);
}

BAD(ack_missing_index, -EINVAL)
{
	ack_prefix(m, t, G, 5);
}

BAD(ack_index_wrong_type, -EINVAL)
{
	ack_prefix(m, t, G, 5);
	tmsg_u32(m, TRUTH_A_GROUP_INDEX, 10);
}

BAD(ack_old_term, -ESTALE)
{
	ack_prefix(m, t, G, 4);
	tmsg_u64(m, TRUTH_A_GROUP_INDEX, 10);
}

BAD(ack_future_term, -ESTALE)
{
	ack_prefix(m, t, G, 6);
	tmsg_u64(m, TRUTH_A_GROUP_INDEX, 10);
}

BAD(ack_unknown_member, -ENOENT)
{
	ack_prefix(m, t, G, 5);
	tmsg_u64(m, TRUTH_A_GROUP_INDEX, 10);
	tmsg_u32(m, TRUTH_A_GROUP_NODE, 77);
}

BAD(ack_not_leader, -EINVAL)
{
	ack_prefix(m, t, GF, 1);
	tmsg_u64(m, TRUTH_A_GROUP_INDEX, 10);
}

BAD(ack_threshold_not_accepted, -EINVAL)
{
	ack_prefix(m, t, G, 5);
	tmsg_u64(m, TRUTH_A_GROUP_INDEX, 10);
	tmsg_u64(m, TRUTH_A_GROUP_THRESHOLD, 1);
}

/* --------------------------------------------------------------- clocks */

BAD(clock_get_unknown_group, -ENOENT)
{
	tmsg_init(m, t, TRUTH_CMD_CLOCK_GET, 0);
	tmsg_u32(m, TRUTH_A_CLOCK_GROUP_ID, GNONE);
}

BAD(clock_get_group_zero, -ERANGE)
{
	tmsg_init(m, t, TRUTH_CMD_CLOCK_GET, 0);
	tmsg_u32(m, TRUTH_A_CLOCK_GROUP_ID, 0);
}

BAD(clock_tick_unknown_group, -ENOENT)
{
	tmsg_init(m, t, TRUTH_CMD_CLOCK_TICK, 0);
	tmsg_u32(m, TRUTH_A_CLOCK_GROUP_ID, GNONE);
}

BAD(clock_tick_lamport_not_accepted, -EINVAL)
{
	tmsg_init(m, t, TRUTH_CMD_CLOCK_TICK, 0);
	tmsg_u64(m, TRUTH_A_CLOCK_LAMPORT, 5);
}

BAD(clock_merge_nothing, -EINVAL)
{
	tmsg_init(m, t, TRUTH_CMD_CLOCK_MERGE, 0);
}

BAD(clock_merge_lamport_out_of_range, -ERANGE)
{
	tmsg_init(m, t, TRUTH_CMD_CLOCK_MERGE, 0);
	tmsg_u64(m, TRUTH_A_CLOCK_LAMPORT, 1ULL << 63);
}

BAD(clock_merge_lamport_wrong_type, -EINVAL)
{
	tmsg_init(m, t, TRUTH_CMD_CLOCK_MERGE, 0);
	tmsg_u32(m, TRUTH_A_CLOCK_LAMPORT, 5);
}

BAD(clock_merge_hlc_beyond_max_offset, -ERANGE)
{
	tmsg_init(m, t, TRUTH_CMD_CLOCK_MERGE, 0);
	tmsg_u64(m, TRUTH_A_CLOCK_LAMPORT, 5);		/* not merged either */
	tmsg_u64(m, TRUTH_A_CLOCK_HLC, ~0ULL);
}

BAD(clock_merge_vclock_without_group, -EINVAL)
{
	struct nlattr *n;

	tmsg_init(m, t, TRUTH_CMD_CLOCK_MERGE, 0);
	n = tmsg_nest(m, TRUTH_A_CLOCK_VCLOCK);
	tmsg_u32(m, TRUTH_A_VCLOCK_NODE, 1);
	tmsg_u64(m, TRUTH_A_VCLOCK_COUNTER, 1);
	tmsg_nest_end(m, n);
}

static void vc_entry(struct tmsg *m, __u32 node, __u64 counter)
{
	struct nlattr *n = tmsg_nest(m, TRUTH_A_CLOCK_VCLOCK);

	tmsg_u32(m, TRUTH_A_VCLOCK_NODE, node);
	tmsg_u64(m, TRUTH_A_VCLOCK_COUNTER, counter);
	tmsg_nest_end(m, n);
}

BAD(clock_merge_vclock_unsorted, -EINVAL)
{
	tmsg_init(m, t, TRUTH_CMD_CLOCK_MERGE, 0);
	tmsg_u32(m, TRUTH_A_CLOCK_GROUP_ID, G);
	vc_entry(m, 3, 1);
	vc_entry(m, 2, 1);
}

BAD(clock_merge_vclock_duplicate_node, -EINVAL)
{
	tmsg_init(m, t, TRUTH_CMD_CLOCK_MERGE, 0);
	tmsg_u32(m, TRUTH_A_CLOCK_GROUP_ID, G);
	vc_entry(m, 2, 1);
	vc_entry(m, 2, 4);
}

BAD(clock_merge_vclock_counter_zero, -ERANGE)
{
	tmsg_init(m, t, TRUTH_CMD_CLOCK_MERGE, 0);
	tmsg_u32(m, TRUTH_A_CLOCK_GROUP_ID, G);
	vc_entry(m, 2, 0);
}

BAD(clock_merge_vclock_entry_incomplete, -EINVAL)
{
	struct nlattr *n;

	tmsg_init(m, t, TRUTH_CMD_CLOCK_MERGE, 0);
	tmsg_u32(m, TRUTH_A_CLOCK_GROUP_ID, G);
	n = tmsg_nest(m, TRUTH_A_CLOCK_VCLOCK);
	tmsg_u32(m, TRUTH_A_VCLOCK_NODE, 2);
	tmsg_nest_end(m, n);
}

BAD(clock_merge_vclock_too_long, -E2BIG)
{
	__u32 i;

	tmsg_init(m, t, TRUTH_CMD_CLOCK_MERGE, 0);
	tmsg_u32(m, TRUTH_A_CLOCK_GROUP_ID, G);
	for (i = 0; i <= TRUTH_VCLOCK_MAX; i++)
		vc_entry(m, 100 + i, 1);
}

BAD(clock_merge_vclock_union_too_big, -ENOSPC)
{
	__u32 i;

	/* 64 nodes other than SELF: the union with SELF's entry is 65 */
	tmsg_init(m, t, TRUTH_CMD_CLOCK_MERGE, 0);
	tmsg_u32(m, TRUTH_A_CLOCK_GROUP_ID, G);
	for (i = 0; i < TRUTH_VCLOCK_MAX; i++)
		vc_entry(m, 100 + i, 1);
}

BAD(clock_merge_unknown_group, -ENOENT)
{
	tmsg_init(m, t, TRUTH_CMD_CLOCK_MERGE, 0);
	tmsg_u32(m, TRUTH_A_CLOCK_GROUP_ID, GNONE);
	vc_entry(m, 2, 1);
}

BAD(clock_set_missing, -EINVAL)
{
	tmsg_init(m, t, TRUTH_CMD_CLOCK_SET, 0);
}

BAD(clock_set_below_min, -ERANGE)
{
	tmsg_init(m, t, TRUTH_CMD_CLOCK_SET, 0);
	tmsg_u64(m, TRUTH_A_CLOCK_HLC_MAX_OFFSET, TRUTH_HLC_MAX_OFFSET_MIN - 1);
}

BAD(clock_set_above_max, -ERANGE)
{
	tmsg_init(m, t, TRUTH_CMD_CLOCK_SET, 0);
	tmsg_u64(m, TRUTH_A_CLOCK_HLC_MAX_OFFSET, TRUTH_HLC_MAX_OFFSET_MAX + 1);
}

BAD(clock_unknown_attribute, -EINVAL)
{
	tmsg_init(m, t, TRUTH_CMD_CLOCK_GET, 0);
	tmsg_u32(m, TRUTH_A_CLOCK_MAX + 1, 0);
}

/* ---------------------------------------------------------------- stats */

BAD(stats_get_unknown_group, -ENOENT)
{
	tmsg_init(m, t, TRUTH_CMD_STATS_GET, 0);
	tmsg_u32(m, TRUTH_A_STATS_GROUP_ID, GNONE);
}

BAD(stats_get_missing_id, -EINVAL)
{
	tmsg_init(m, t, TRUTH_CMD_STATS_GET, 0);
}

BAD(stats_reset_unknown_group, -ENOENT)
{
	tmsg_init(m, t, TRUTH_CMD_STATS_RESET, 0);
	tmsg_u32(m, TRUTH_A_STATS_GROUP_ID, GNONE);
}

BAD(stats_reset_counter_not_accepted, -EINVAL)
{
	tmsg_init(m, t, TRUTH_CMD_STATS_RESET, 0);
	tmsg_u32(m, TRUTH_A_STATS_GROUP_ID, G);
	tmsg_u64(m, TRUTH_A_STATS_ACKS, 0);
}

/* -------------------------------------------------------------- version */

BAD(version_with_attribute, -EINVAL)
{
	tmsg_init(m, t, TRUTH_CMD_GET_VERSION, 0);
	tmsg_u32(m, TRUTH_A_VERSION_GENL, 1);
}

/* ----------------------------------------- wrong type of every scalar */

BAD(new_self_wrong_type, -EINVAL)
{
	tmsg_init(m, t, TRUTH_CMD_GROUP_NEW, 0);
	tmsg_u32(m, TRUTH_A_GROUP_ID, 99);
	tmsg_u64(m, TRUTH_A_GROUP_SELF, 1);
	tmsg_member(m, 1, 1);
}

BAD(new_role_wrong_type, -EINVAL)
{
	__u8 b = TRUTH_ROLE_LEADER;

	new_prefix(m, t, 99);
	tmsg_put(m, TRUTH_A_GROUP_ROLE, &b, 1);
}

BAD(new_term_start_wrong_type, -EINVAL)
{
	new_prefix(m, t, 99);
	tmsg_u32(m, TRUTH_A_GROUP_TERM_START, 1);
}

BAD(new_commit_wrong_type, -EINVAL)
{
	new_prefix(m, t, 99);
	tmsg_u32(m, TRUTH_A_GROUP_COMMIT, 1);
}

BAD(new_member_node_wrong_type, -EINVAL)
{
	struct nlattr *n;

	new_prefix(m, t, 99);
	n = tmsg_nest(m, TRUTH_A_GROUP_MEMBER);
	tmsg_u64(m, TRUTH_A_MEMBER_NODE, 2);
	tmsg_nest_end(m, n);
}

BAD(set_flags_wrong_type, -EINVAL)
{
	tmsg_init(m, t, TRUTH_CMD_GROUP_SET, 0);
	tmsg_u32(m, TRUTH_A_GROUP_ID, G);
	tmsg_u64(m, TRUTH_A_GROUP_FLAGS, TRUTH_GROUP_F_RESET_MATCH);
}

BAD(set_name_empty_payload, -EINVAL)
{
	tmsg_init(m, t, TRUTH_CMD_GROUP_SET, 0);
	tmsg_u32(m, TRUTH_A_GROUP_ID, G);
	tmsg_put(m, TRUTH_A_GROUP_NAME, NULL, 0);
}

BAD(ack_node_wrong_type, -EINVAL)
{
	ack_prefix(m, t, G, 5);
	tmsg_u64(m, TRUTH_A_GROUP_INDEX, 10);
	tmsg_u64(m, TRUTH_A_GROUP_NODE, 2);
}

BAD(ack_term_wrong_type, -EINVAL)
{
	tmsg_init(m, t, TRUTH_CMD_GROUP_ACK, 0);
	tmsg_u32(m, TRUTH_A_GROUP_ID, G);
	tmsg_u32(m, TRUTH_A_GROUP_TERM, 5);
	tmsg_u64(m, TRUTH_A_GROUP_INDEX, 10);
}

BAD(clock_group_wrong_type, -EINVAL)
{
	tmsg_init(m, t, TRUTH_CMD_CLOCK_TICK, 0);
	tmsg_u64(m, TRUTH_A_CLOCK_GROUP_ID, G);
}

BAD(clock_merge_hlc_wrong_type, -EINVAL)
{
	tmsg_init(m, t, TRUTH_CMD_CLOCK_MERGE, 0);
	tmsg_u32(m, TRUTH_A_CLOCK_HLC, 5);
}

BAD(clock_merge_vclock_node_wrong_type, -EINVAL)
{
	struct nlattr *n;

	tmsg_init(m, t, TRUTH_CMD_CLOCK_MERGE, 0);
	tmsg_u32(m, TRUTH_A_CLOCK_GROUP_ID, G);
	n = tmsg_nest(m, TRUTH_A_CLOCK_VCLOCK);
	tmsg_u64(m, TRUTH_A_VCLOCK_NODE, 2);
	tmsg_u64(m, TRUTH_A_VCLOCK_COUNTER, 1);
	tmsg_nest_end(m, n);
}

BAD(clock_set_wrong_type, -EINVAL)
{
	tmsg_init(m, t, TRUTH_CMD_CLOCK_SET, 0);
	tmsg_u32(m, TRUTH_A_CLOCK_HLC_MAX_OFFSET, 1000000);
}

BAD(stats_group_wrong_type, -EINVAL)
{
	tmsg_init(m, t, TRUTH_CMD_STATS_GET, 0);
	tmsg_u64(m, TRUTH_A_STATS_GROUP_ID, G);
}

BAD(stats_group_zero, -ERANGE)
{
	tmsg_init(m, t, TRUTH_CMD_STATS_RESET, 0);
	tmsg_u32(m, TRUTH_A_STATS_GROUP_ID, 0);
}

/*
 * Lowering TERM_START within a term would let entries of older terms,
 * acked in this one, count toward the commit index (Raft §5.4.2): a
 * leader of term 2 whose term starts at 10 must not commit index 5.
 */
TEST(term_start_lowered_within_a_term_commits_nothing)
{
	struct tgroup g;
	struct tnl t;
	struct tmsg m;
	__u32 n;

	ASSERT_EQ(0, tnl_open(&t));
	truth_group_remove(&t, G);
	ASSERT_EQ(0, truth_group_add(&t, G, 3, 1));
	tmsg_init(&m, &t, TRUTH_CMD_GROUP_SET, 0);
	tmsg_u32(&m, TRUTH_A_GROUP_ID, G);
	tmsg_u64(&m, TRUTH_A_GROUP_TERM, 2);
	tmsg_u64(&m, TRUTH_A_GROUP_TERM_START, 10);
	ASSERT_EQ(0, tnl_talk(&t, &m, NULL, NULL)) TH_LOG("%s", t.ext_msg);
	for (n = 1; n <= 3; n++)
		ASSERT_EQ(0, truth_ack(&t, G, 2, n, 5));
	ASSERT_EQ(0, truth_group_get(&t, G, &g));
	ASSERT_EQ(0, g.commit);

	tmsg_init(&m, &t, TRUTH_CMD_GROUP_SET, 0);
	tmsg_u32(&m, TRUTH_A_GROUP_ID, G);
	tmsg_u64(&m, TRUTH_A_GROUP_TERM_START, 1);
	EXPECT_EQ(-EINVAL, tnl_talk(&t, &m, NULL, NULL));
	EXPECT_STREQ("TERM_START must not move back within a term", t.ext_msg);
	ASSERT_EQ(0, truth_group_get(&t, G, &g));
	EXPECT_EQ(0, g.commit);
	EXPECT_EQ(10, g.term_start);
	EXPECT_EQ(2, g.term);

	/* a new term may start anywhere */
	tmsg_init(&m, &t, TRUTH_CMD_GROUP_SET, 0);
	tmsg_u32(&m, TRUTH_A_GROUP_ID, G);
	tmsg_u64(&m, TRUTH_A_GROUP_TERM, 3);
	tmsg_u64(&m, TRUTH_A_GROUP_TERM_START, 4);
	EXPECT_EQ(0, tnl_talk(&t, &m, NULL, NULL)) TH_LOG("%s", t.ext_msg);
	truth_group_remove(&t, G);
	tnl_close(&t);
}

/*
 * The whole matrix of "wrong type": every attribute number of every command
 * (and one past the last), sent with a 3-byte payload.  No attribute of ours
 * accepts 3 bytes: not u8/u16/u32/u64 (strict validation wants the exact
 * size), not a flag (empty), not a nest (shorter than a header), not a
 * NUL-terminated string (0xff bytes, no NUL).  Each must be -EINVAL with an
 * extack message, and nothing may change.
 */
TEST(every_attribute_of_every_command_wrong_length)
{
	static const struct { __u8 cmd; int max; } cmds[] = {
		{ TRUTH_CMD_GET_VERSION, TRUTH_A_VERSION_MAX },
		{ TRUTH_CMD_GROUP_NEW, TRUTH_A_GROUP_MAX },
		{ TRUTH_CMD_GROUP_SET, TRUTH_A_GROUP_MAX },
		{ TRUTH_CMD_GROUP_DEL, TRUTH_A_GROUP_MAX },
		{ TRUTH_CMD_GROUP_GET, TRUTH_A_GROUP_MAX },
		{ TRUTH_CMD_GROUP_ACK, TRUTH_A_GROUP_MAX },
		{ TRUTH_CMD_CLOCK_GET, TRUTH_A_CLOCK_MAX },
		{ TRUTH_CMD_CLOCK_TICK, TRUTH_A_CLOCK_MAX },
		{ TRUTH_CMD_CLOCK_MERGE, TRUTH_A_CLOCK_MAX },
		{ TRUTH_CMD_CLOCK_SET, TRUTH_A_CLOCK_MAX },
		{ TRUTH_CMD_STATS_GET, TRUTH_A_STATS_MAX },
		{ TRUTH_CMD_STATS_RESET, TRUTH_A_STATS_MAX },
	};
	static const __u8 junk[3] = { 0xff, 0xff, 0xff };
	struct state before, after;
	struct tclock c;
	struct tnl t;
	struct tmsg m;
	int n = 0, bad = 0;
	size_t i;
	int a, ret;

	ASSERT_EQ(0, tnl_open(&t)) TH_LOG("family truth not found");
	truth_group_remove(&t, G);
	truth_group_remove(&t, GF);
	ASSERT_EQ(0, truth_group_add(&t, G, 3, 5));
	ASSERT_EQ(0, truth_ack(&t, G, 5, 0, 4));
	ASSERT_EQ(0, truth_ack(&t, G, 5, 2, 3));
	ASSERT_EQ(0, truth_clock(&t, TRUTH_CMD_CLOCK_TICK, G, &c));
	ASSERT_EQ(0, truth_group_add(&t, GF, 3, 1));
	ASSERT_EQ(0, snapshot(&t, &before));

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		for (a = 1; a <= cmds[i].max + 1; a++) {
			tmsg_init(&m, &t, cmds[i].cmd, 0);
			tmsg_put(&m, a, junk, sizeof(junk));
			ret = tnl_talk(&t, &m, NULL, NULL);
			n++;
			if (ret != -EINVAL || !t.ext_msg[0]) {
				bad++;
				TH_LOG("cmd %u attr %d: got %d, extack '%s'",
				       cmds[i].cmd, a, ret, t.ext_msg);
			}
		}
	}
	TH_LOG("%d command/attribute pairs with a wrong-length payload", n);
	EXPECT_EQ(0, bad);

	ASSERT_EQ(0, snapshot(&t, &after));
	EXPECT_EQ(before.n_groups, after.n_groups);
	EXPECT_EQ(0, memcmp(&before.g, &after.g, sizeof(after.g))) TH_LOG("group changed");
	EXPECT_EQ(0, memcmp(&before.gf, &after.gf, sizeof(after.gf)));
	EXPECT_EQ(0, memcmp(&before.c, &after.c, sizeof(after.c))) TH_LOG("clocks changed");
	EXPECT_EQ(0, memcmp(&before.cg, &after.cg, sizeof(after.cg))) TH_LOG("vclock changed");
	EXPECT_EQ(0, memcmp(&before.s, &after.s, sizeof(after.s))) TH_LOG("stats changed");
	truth_group_remove(&t, G);
	truth_group_remove(&t, GF);
	tnl_close(&t);
}

TEST_HARNESS_MAIN
