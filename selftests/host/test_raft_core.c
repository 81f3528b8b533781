// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The raft core driven by hand, message by message, for rules whose exact
 * outcome is easiest to state without a cluster: the current-term commit
 * rule (Figure 8), external commit advances, conflict hints, message
 * validation, and the configuration and session codecs.
 */
#include <string.h>

#include "kselftest_harness.h"
#include "raft/raft.h"

static struct raft *mk(uint32_t id, uint32_t n, bool ext)
{
	struct raft_options o = { 0 };
	struct raft_conf c = { 0 };
	uint32_t i;

	o.id = id;
	o.election_ticks = 10;
	o.seed = 1;
	o.external_commit = ext;
	c.n = n;
	for (i = 0; i < n; i++) {
		c.m[i].id = i + 1;
		c.m[i].weight = 1;
		c.m[i].role = RAFT_VOTER;
	}
	return raft_new(&o, &c);
}

/* Take and hand back every ready; remember the last message of a type. */
static uint32_t drain(struct raft *r, uint8_t type, struct raft_msg *last)
{
	struct raft_ready rd;
	uint32_t n = 0, i;

	while (raft_has_ready(r)) {
		raft_ready(r, &rd);
		for (i = 0; i < rd.n_msgs; i++) {
			if (rd.msgs[i].type != type)
				continue;
			n++;
			if (last) {
				*last = rd.msgs[i];
				last->entries = NULL;
				last->data = NULL;
			}
		}
		raft_advance(r, &rd);
	}
	return n;
}

static void log_with_terms(struct raft *r, const uint64_t *terms, uint32_t n,
			   uint64_t cur_term)
{
	struct raft_entry e[16];
	struct raft_hard_state hs = { .term = cur_term, .vote = 0 };
	uint32_t i;

	memset(e, 0, sizeof(e));
	for (i = 0; i < n; i++) {
		e[i].index = i + 1;
		e[i].term = terms[i];
		e[i].type = RAFT_ENTRY_NOOP;
	}
	raft_restore(r, &hs, NULL, e, n);
}

/* Make node 1 of 3 leader: campaign, get node 2's vote. */
static void elect(struct raft *r)
{
	struct raft_msg m = { 0 };
	int i;

	for (i = 0; i < 40 && raft_role(r) != RAFT_CANDIDATE; i++) {
		raft_tick(r, i);
		drain(r, 0xff, NULL);
	}
	m.type = RAFT_MSG_VOTE_RESP;
	m.from = 2;
	m.to = 1;
	m.term = raft_term(r);
	raft_step(r, &m);
	drain(r, 0xff, NULL);
}

static void ack(struct raft *r, uint32_t from, uint64_t match)
{
	struct raft_msg m = { 0 };

	m.type = RAFT_MSG_APPEND_RESP;
	m.from = from;
	m.to = 1;
	m.term = raft_term(r);
	m.match_index = match;
	raft_step(r, &m);
	drain(r, 0xff, NULL);
}

/* §5.4.2 / Figure 8: an old-term entry on a majority is not committed by count. */
TEST(figure8_old_term_entry_not_committed_by_count)
{
	static const uint64_t terms[] = { 1, 2 };
	struct raft *r = mk(1, 3, false);

	log_with_terms(r, terms, 2, 2);
	elect(r);
	ASSERT_EQ(RAFT_LEADER, raft_role(r));
	ASSERT_EQ(3, raft_term(r));
	ASSERT_EQ(3, raft_last_index(r));	/* the no-op of term 3 */
	ack(r, 2, 2);		/* entry 2 (term 2) now on 2 of 3 */
	EXPECT_EQ(0, raft_commit_index(r));
	ack(r, 2, 3);		/* the term-3 entry commits, and 1..2 with it */
	EXPECT_EQ(3, raft_commit_index(r));
	raft_free(r);
}

/* The kernel fast path supplies commit: term-safe, never backwards, capped at durable. */
TEST(external_commit_is_term_safe_and_monotonic)
{
	static const uint64_t terms[] = { 1, 2 };
	struct raft *r = mk(1, 3, true);
	uint64_t idx;

	log_with_terms(r, terms, 2, 2);
	elect(r);
	ASSERT_EQ(RAFT_LEADER, raft_role(r));
	ack(r, 2, 3);		/* counted by the fast path, not here */
	EXPECT_EQ(0, raft_commit_index(r));
	EXPECT_EQ(0, raft_commit_external(r, 2, 3));	/* stale term */
	EXPECT_EQ(0, raft_commit_external(r, 3, 2));	/* term-2 entry */
	EXPECT_EQ(0, raft_commit_external(r, 3, 4));	/* beyond the log */
	EXPECT_EQ(0, raft_commit_index(r));
	EXPECT_EQ(1, raft_commit_external(r, 3, 3));
	EXPECT_EQ(3, raft_commit_index(r));
	EXPECT_EQ(0, raft_commit_external(r, 3, 3));	/* no regression, no-op */
	/* an entry not yet durable here waits for our own disk */
	ASSERT_EQ(RAFT_OK, raft_propose(r, 0, 0, "x", 1, &idx));
	EXPECT_EQ(4, idx);
	EXPECT_EQ(0, raft_commit_external(r, 3, 4));
	EXPECT_EQ(3, raft_commit_index(r));
	drain(r, 0xff, NULL);	/* persisted: the remembered advance applies */
	EXPECT_EQ(4, raft_commit_index(r));
	raft_free(r);
}

/* §5.3: a rejection names the conflicting term and where it starts. */
TEST(conflict_hints)
{
	static const uint64_t terms[] = { 1, 1, 2, 2, 2 };
	struct raft *r = mk(2, 3, false);
	struct raft_msg m = { 0 }, resp;

	log_with_terms(r, terms, 5, 2);
	m.type = RAFT_MSG_APPEND;
	m.from = 1;
	m.to = 2;
	m.term = 3;
	m.prev_index = 5;
	m.prev_term = 3;
	ASSERT_EQ(RAFT_OK, raft_step(r, &m));
	ASSERT_EQ(1, drain(r, RAFT_MSG_APPEND_RESP, &resp));
	EXPECT_TRUE(resp.reject);
	EXPECT_EQ(2, resp.hint_term);
	EXPECT_EQ(3, resp.hint_index);
	m.prev_index = 9;
	ASSERT_EQ(RAFT_OK, raft_step(r, &m));
	ASSERT_EQ(1, drain(r, RAFT_MSG_APPEND_RESP, &resp));
	EXPECT_TRUE(resp.reject);
	EXPECT_EQ(0, resp.hint_term);
	EXPECT_EQ(6, resp.hint_index);
	/* a matching APPEND truncates the conflicting suffix and appends */
	{
		struct raft_entry e = { .term = 3, .index = 3,
					.type = RAFT_ENTRY_NOOP };

		m.prev_index = 2;
		m.prev_term = 1;
		m.n_entries = 1;
		m.entries = &e;
		ASSERT_EQ(RAFT_OK, raft_step(r, &m));
		ASSERT_EQ(1, drain(r, RAFT_MSG_APPEND_RESP, &resp));
		EXPECT_FALSE(resp.reject);
		EXPECT_EQ(3, resp.match_index);
		EXPECT_EQ(3, raft_last_index(r));
		EXPECT_EQ(3, raft_term_at(r, 3));
	}
	raft_free(r);
}

/* Bad input is refused and changes nothing. */
TEST(bad_messages_are_refused)
{
	struct raft *r = mk(2, 3, false);
	struct raft_msg m = { 0 }, resp;

	m.type = __RAFT_MSG_MAX;
	m.from = 1;
	m.to = 2;
	m.term = 5;
	EXPECT_EQ(RAFT_EINVAL, raft_step(r, &m));
	m.type = RAFT_MSG_APPEND;
	m.to = 3;
	EXPECT_EQ(RAFT_EINVAL, raft_step(r, &m));	/* not for us */
	m.to = 2;
	m.from = 2;
	EXPECT_EQ(RAFT_EINVAL, raft_step(r, &m));	/* from ourselves */
	m.from = 1;
	m.n_entries = 3;
	EXPECT_EQ(RAFT_EINVAL, raft_step(r, &m));	/* entries missing */
	EXPECT_EQ(0, raft_term(r));
	EXPECT_FALSE(raft_has_ready(r));
	/* a snapshot chunk that does not fit is rejected */
	memset(&m, 0, sizeof(m));
	m.type = RAFT_MSG_SNAPSHOT;
	m.from = 1;
	m.to = 2;
	m.term = 1;
	m.snap_index = 10;
	m.snap_term = 1;
	m.snap_size = 4;
	m.offset = 0;
	m.len = 8;
	m.data = "12345678";
	ASSERT_EQ(RAFT_OK, raft_step(r, &m));
	ASSERT_EQ(1, drain(r, RAFT_MSG_SNAPSHOT_RESP, &resp));
	EXPECT_TRUE(resp.reject);
	EXPECT_EQ(0, raft_snapshot_index(r));
	/* a stale leader is told the newer term */
	memset(&m, 0, sizeof(m));
	m.type = RAFT_MSG_APPEND;
	m.from = 3;
	m.to = 2;
	m.term = 0;
	ASSERT_EQ(RAFT_OK, raft_step(r, &m));
	ASSERT_EQ(1, drain(r, RAFT_MSG_APPEND_RESP, &resp));
	EXPECT_TRUE(resp.reject);
	EXPECT_EQ(1, resp.term);
	raft_free(r);
}

/* Figure 2, RequestVote receiver: one vote per term, only to an up-to-date log. */
TEST(vote_rules)
{
	static const uint64_t terms[] = { 1, 2 };
	struct raft *r = mk(2, 3, false);
	struct raft_msg m = { 0 }, resp;
	int i;

	log_with_terms(r, terms, 2, 2);
	for (i = 0; i < 10; i++)	/* past the boot quiet period */
		raft_tick(r, i);
	drain(r, 0xff, NULL);
	m.type = RAFT_MSG_VOTE;
	m.from = 1;
	m.to = 2;
	m.term = 3;
	m.last_index = 5;
	m.last_term = 1;		/* longer but older: not up to date */
	raft_step(r, &m);
	ASSERT_EQ(1, drain(r, RAFT_MSG_VOTE_RESP, &resp));
	EXPECT_TRUE(resp.reject);
	m.last_index = 2;
	m.last_term = 2;
	raft_step(r, &m);
	ASSERT_EQ(1, drain(r, RAFT_MSG_VOTE_RESP, &resp));
	EXPECT_FALSE(resp.reject);
	EXPECT_EQ(1, raft_vote(r));
	m.from = 3;			/* same term, another candidate */
	m.last_index = 9;
	m.last_term = 2;
	raft_step(r, &m);
	ASSERT_EQ(1, drain(r, RAFT_MSG_VOTE_RESP, &resp));
	EXPECT_TRUE(resp.reject);
	EXPECT_EQ(1, raft_vote(r));
	raft_free(r);
}

TEST(conf_codec)
{
	struct raft_conf c = { 0 }, d;
	uint8_t buf[RAFT_CONF_BYTES];
	uint32_t len;

	c.n = 3;
	c.threshold = 4;
	c.m[0] = (struct raft_member){ 1, 3, RAFT_VOTER, 0 };
	c.m[1] = (struct raft_member){ 2, 1, RAFT_VOTER, 0 };
	c.m[2] = (struct raft_member){ 9, 0, RAFT_LEARNER, 2 };
	len = raft_conf_encode(&c, buf);
	EXPECT_EQ(12 + 3 * 13, len);
	ASSERT_EQ(RAFT_OK, raft_conf_decode(&d, buf, len));
	EXPECT_EQ(3, d.n);
	EXPECT_EQ(4, d.threshold);
	EXPECT_EQ(9, d.m[2].id);
	EXPECT_EQ(RAFT_LEARNER, d.m[2].role);
	EXPECT_EQ(2, d.m[2].promote_weight);
	EXPECT_EQ(4, raft_conf_threshold(&d));
	d.threshold = 0;
	EXPECT_EQ(3, raft_conf_threshold(&d));	/* majority of weight 4 */
	EXPECT_EQ(RAFT_EINVAL, raft_conf_decode(&d, buf, len - 1));
	buf[0] = RAFT_MAX_MEMBERS + 1;
	EXPECT_EQ(RAFT_EINVAL, raft_conf_decode(&d, buf, len));
}

/* diss. §6.3: a (client, seq) is applied once; the table survives a snapshot. */
TEST(sessions)
{
	struct raft_sessions *s = raft_sessions_new(), *t = raft_sessions_new();
	uint8_t buf[256];
	size_t n;

	ASSERT_NE(NULL, s);
	EXPECT_EQ(1, raft_sessions_admit(s, 7, 1));
	EXPECT_EQ(0, raft_sessions_admit(s, 7, 1));
	EXPECT_EQ(1, raft_sessions_admit(s, 7, 2));
	EXPECT_EQ(1, raft_sessions_admit(s, 8, 1));
	EXPECT_EQ(0, raft_sessions_admit(s, 7, 1));
	EXPECT_EQ(1, raft_sessions_admit(s, 0, 0));	/* no session */
	n = raft_sessions_encode(s, buf);
	EXPECT_EQ(8 + 2 * 16, n);
	ASSERT_EQ(RAFT_OK, raft_sessions_decode(t, buf, n));
	EXPECT_EQ(0, raft_sessions_admit(t, 7, 2));
	EXPECT_EQ(0, raft_sessions_admit(t, 8, 1));
	EXPECT_EQ(1, raft_sessions_admit(t, 8, 2));
	EXPECT_EQ(RAFT_EINVAL, raft_sessions_decode(t, buf, n - 1));
	raft_sessions_free(s);
	raft_sessions_free(t);
}

TEST_HARNESS_MAIN
