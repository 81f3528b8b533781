// SPDX-License-Identifier: GPL-2.0
/*
 * Events arrive exactly when they should.  An event is queued to listeners
 * before the request that caused it is acknowledged, so after each request
 * the test can look at the listener without waiting: a commit event iff
 * the commit index advanced, carrying the new index; a term event iff term
 * or role changed; a group-removed event on delete; nothing else.
 */

#include <stdlib.h>
#include <time.h>

#include <truth/quorum.h>

#include "kselftest_harness.h"
#include "test_netlink_lib.h"

#define GID 600

FIXTURE(events) {
	struct tnl t, ev;
	char buf[8192];
};

FIXTURE_SETUP(events)
{
	ASSERT_EQ(0, tnl_open(&self->t));
	ASSERT_EQ(0, tnl_open(&self->ev));
	ASSERT_EQ(0, tnl_listen(&self->ev));
	truth_group_remove(&self->t, GID);
}

FIXTURE_TEARDOWN(events)
{
	truth_group_remove(&self->t, GID);
	tnl_close(&self->ev);
	tnl_close(&self->t);
}

static const struct nlattr *ev_attr(const char *buf, int type)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	const struct nlattr *tb[TNL_MAXATTR + 1];

	tnl_parse(tnl_attrs(nlh), tnl_attrs_len(nlh), tb);
	return tb[type];
}

TEST_F(events, one_commit_event_per_advance_and_none_otherwise)
{
	struct truth_quorum_member qm[7];
	uint64_t s = (uint64_t)time(NULL) | 1, seed = s;
	__u64 commit = 0, next;
	unsigned int i, j, events = 0, advances = 0;
	struct tstats st;

	TH_LOG("seed %llu", (unsigned long long)seed);
	ASSERT_EQ(0, truth_group_add(&self->t, GID, 7, 1));
	for (j = 0; j < 7; j++) {
		qm[j].id = j + 1;
		qm[j].weight = 1;
		qm[j].match = 0;
	}
	for (i = 0; i < 400; i++) {
		unsigned int slot;
		__u64 idx;
		int cmd;

		s ^= s >> 12; s ^= s << 25; s ^= s >> 27;
		slot = (s >> 8) % 7;
		idx = qm[slot].match + ((s >> 20) % 5) - 1;	/* sometimes lower */
		if (idx > (__u64)1 << 62)
			idx = 0;
		ASSERT_EQ(0, truth_ack(&self->t, GID, 1, slot + 1, idx));
		if (idx > qm[slot].match)
			qm[slot].match = idx;
		next = truth_quorum_commit(qm, 7, 4, 1, commit);

		cmd = tnl_event(&self->ev, 0, self->buf, sizeof(self->buf));
		if (next > commit) {
			advances++;
			ASSERT_EQ(TRUTH_CMD_EVENT_COMMIT, cmd) TH_LOG("ack %u: no event for %llu",
								       i, (unsigned long long)next);
			events++;
			ASSERT_EQ(next, tnl_u64(ev_attr(self->buf, TRUTH_A_GROUP_COMMIT)));
			ASSERT_EQ(GID, tnl_u32(ev_attr(self->buf, TRUTH_A_GROUP_ID)));
			ASSERT_EQ(1, tnl_u64(ev_attr(self->buf, TRUTH_A_GROUP_TERM)));
			/* exactly one */
			ASSERT_EQ(0, tnl_event(&self->ev, 0, self->buf, sizeof(self->buf)));
		} else {
			ASSERT_EQ(0, cmd) TH_LOG("ack %u: event %d without an advance", i, cmd);
		}
		commit = next;
	}
	ASSERT_LT(10, advances);
	ASSERT_EQ(0, truth_stats(&self->t, GID, &st));
	EXPECT_EQ(advances, st.advances);
	EXPECT_EQ(events, st.events);
	TH_LOG("400 acks, %u advances, %u events, final commit %llu", advances, events,
	       (unsigned long long)commit);
}

TEST_F(events, term_event_only_on_term_or_role_change)
{
	struct tmsg m;

	ASSERT_EQ(0, truth_group_add(&self->t, GID, 3, 1));
	ASSERT_EQ(0, tnl_event(&self->ev, 0, self->buf, sizeof(self->buf)));

	/* a name change is not a term event */
	tmsg_init(&m, &self->t, TRUTH_CMD_GROUP_SET, 0);
	tmsg_u32(&m, TRUTH_A_GROUP_ID, GID);
	tmsg_str(&m, TRUTH_A_GROUP_NAME, "x");
	tmsg_u32(&m, TRUTH_A_GROUP_ROLE, TRUTH_ROLE_LEADER);	/* unchanged */
	ASSERT_EQ(0, tnl_talk(&self->t, &m, NULL, NULL));
	ASSERT_EQ(0, tnl_event(&self->ev, 0, self->buf, sizeof(self->buf)));

	tmsg_init(&m, &self->t, TRUTH_CMD_GROUP_SET, 0);
	tmsg_u32(&m, TRUTH_A_GROUP_ID, GID);
	tmsg_u64(&m, TRUTH_A_GROUP_TERM, 2);
	tmsg_u64(&m, TRUTH_A_GROUP_TERM_START, 7);
	ASSERT_EQ(0, tnl_talk(&self->t, &m, NULL, NULL));
	ASSERT_EQ(TRUTH_CMD_EVENT_TERM, tnl_event(&self->ev, 0, self->buf, sizeof(self->buf)));
	EXPECT_EQ(2, tnl_u64(ev_attr(self->buf, TRUTH_A_GROUP_TERM)));
	EXPECT_EQ(TRUTH_ROLE_LEADER, tnl_u32(ev_attr(self->buf, TRUTH_A_GROUP_ROLE)));
	ASSERT_EQ(0, tnl_event(&self->ev, 0, self->buf, sizeof(self->buf)));

	tmsg_init(&m, &self->t, TRUTH_CMD_GROUP_SET, 0);
	tmsg_u32(&m, TRUTH_A_GROUP_ID, GID);
	tmsg_u32(&m, TRUTH_A_GROUP_ROLE, TRUTH_ROLE_CANDIDATE);
	ASSERT_EQ(0, tnl_talk(&self->t, &m, NULL, NULL));
	ASSERT_EQ(TRUTH_CMD_EVENT_TERM, tnl_event(&self->ev, 0, self->buf, sizeof(self->buf)));
	EXPECT_EQ(TRUTH_ROLE_CANDIDATE, tnl_u32(ev_attr(self->buf, TRUTH_A_GROUP_ROLE)));

	ASSERT_EQ(0, truth_group_remove(&self->t, GID));
	ASSERT_EQ(TRUTH_CMD_EVENT_GROUP_DEL, tnl_event(&self->ev, 0, self->buf, sizeof(self->buf)));
	EXPECT_EQ(GID, tnl_u32(ev_attr(self->buf, TRUTH_A_GROUP_ID)));
	ASSERT_EQ(0, tnl_event(&self->ev, 100, self->buf, sizeof(self->buf)));
}

/* A membership change that completes a quorum is an advance too. */
TEST_F(events, commit_event_from_a_membership_change)
{
	struct tmsg m;

	ASSERT_EQ(0, truth_group_add(&self->t, GID, 3, 1));
	ASSERT_EQ(0, truth_ack(&self->t, GID, 1, 0, 9));
	ASSERT_EQ(0, tnl_event(&self->ev, 0, self->buf, sizeof(self->buf)));
	tmsg_init(&m, &self->t, TRUTH_CMD_GROUP_SET, 0);
	tmsg_u32(&m, TRUTH_A_GROUP_ID, GID);
	tmsg_u64(&m, TRUTH_A_GROUP_THRESHOLD, 1);
	ASSERT_EQ(0, tnl_talk(&self->t, &m, NULL, NULL));
	ASSERT_EQ(TRUTH_CMD_EVENT_COMMIT, tnl_event(&self->ev, 0, self->buf, sizeof(self->buf)));
	EXPECT_EQ(9, tnl_u64(ev_attr(self->buf, TRUTH_A_GROUP_COMMIT)));
}

TEST_HARNESS_MAIN
