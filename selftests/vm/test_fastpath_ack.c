// SPDX-License-Identifier: GPL-2.0
/*
 * The fast path counts ACKs in the kernel: followers in two other
 * namespaces send ACKs (encoded by the agent's user-space codec, so the
 * kernel accepts exactly what user space produces) to the leader's
 * namespace; the commit index advances exactly as the quorum rule says,
 * counted ACKs never reach the leader's socket, one commit event goes out
 * per advance.  Then hostile datagrams: none is ever counted, each lands in
 * its own counter, and what the fast path cannot decide reaches the socket
 * unchanged.  STATS_RESET zeroes every fast-path counter, the namespace's
 * too.  IPv4 and IPv6 (fixture variants).  Topology: fastpath_lib.h.
 */
#include <errno.h>

#include "kselftest_harness.h"
#include "fastpath_lib.h"
#include <truth/quorum.h>

FIXTURE(fp) {
	int ns[NS_N];
	struct tnl tl, ev;	/* leader's namespace: requests, events */
	struct truth_fastpath *fpl, *fpf, *fpg;
	int rx;			/* leader's socket on FP_PORT */
	int f, g;		/* followers' sockets */
	__u64 sent;		/* datagrams sent to the leader so far */
};

FIXTURE_VARIANT(fp) {
	const char *any, *l_from_f, *l_from_g, *f_addr, *g_addr;
};

FIXTURE_VARIANT_ADD(fp, ipv4) {
	.any = "0.0.0.0", .l_from_f = "10.77.0.1", .l_from_g = "10.78.0.1",
	.f_addr = "10.77.0.2", .g_addr = "10.78.0.2",
};

FIXTURE_VARIANT_ADD(fp, ipv6) {
	.any = "::", .l_from_f = "fd77::1", .l_from_g = "fd78::1",
	.f_addr = "fd77::2", .g_addr = "fd78::2",
};

static struct truth_fastpath *attach(struct __test_metadata *_metadata,
				     const char *a, const char *b)
{
	const char *ifs[2] = { a, b };
	struct truth_fastpath *fp;
	char err[256] = "";

	fp = truth_fastpath_attach(ifs, b ? 2 : 1, FP_PORT, err, sizeof(err));
	if (!fp)
		TH_LOG("attach: %s", err);
	return fp;
}

FIXTURE_SETUP(fp)
{
	ASSERT_EQ(0, fp_topology_up(self->ns));
	ASSERT_EQ(0, fp_enter(self->ns, NS_L));
	ASSERT_EQ(0, tnl_open(&self->tl)) TH_LOG("family truth not found");
	ASSERT_EQ(0, tnl_open(&self->ev));
	ASSERT_EQ(0, tnl_listen(&self->ev));
	ASSERT_EQ(0, fp_group_new(&self->tl, 1, TRUTH_ROLE_LEADER, fp_key))
		TH_LOG("%s", self->tl.ext_msg);
	/* the leader's own durable index */
	ASSERT_EQ(0, truth_ack(&self->tl, FP_G, FP_TERM, 0, 100));
	self->rx = fp_udp(variant->any, FP_PORT);
	ASSERT_LE(0, self->rx);
	self->fpl = attach(_metadata, "l0", "l1");
	ASSERT_NE(NULL, self->fpl);

	ASSERT_EQ(0, fp_enter(self->ns, NS_F));
	self->f = fp_udp(variant->f_addr, FP_PORT);
	ASSERT_LE(0, self->f);
	self->fpf = attach(_metadata, "f0", NULL);
	ASSERT_NE(NULL, self->fpf);
	ASSERT_EQ(0, fp_enter(self->ns, NS_G));
	self->g = fp_udp(variant->g_addr, FP_PORT);
	ASSERT_LE(0, self->g);
	self->fpg = attach(_metadata, "g0", NULL);
	ASSERT_NE(NULL, self->fpg);
	ASSERT_EQ(0, fp_enter(self->ns, NS_L));
}

FIXTURE_TEARDOWN(fp)
{
	int i;

	truth_fastpath_detach(self->fpl);
	truth_fastpath_detach(self->fpf);
	truth_fastpath_detach(self->fpg);
	close(self->rx);
	close(self->f);
	close(self->g);
	truth_group_remove(&self->tl, FP_G);
	tnl_close(&self->tl);
	tnl_close(&self->ev);
	fp_enter(self->ns, NS_ORIG);
	fp_topology_down();
	for (i = 0; i < NS_N; i++)
		close(self->ns[i]);
}

/* Sends @len bytes from F (or G) to the leader; waits until the hook saw it. */
static int send_wait(FIXTURE_DATA(fp) *self, const FIXTURE_VARIANT(fp) *variant,
		     bool from_g, const void *buf, size_t len, struct fp_stats *s)
{
	int ret;

	ret = fp_sendto(from_g ? self->g : self->f,
			from_g ? variant->l_from_g : variant->l_from_f,
			FP_PORT, buf, len);
	if (ret)
		return ret;
	self->sent++;
	return fp_wait_total(&self->tl, self->sent, s);
}

/* Whether the leader's socket gets a datagram within 200 ms; its length. */
static ssize_t leader_recv(FIXTURE_DATA(fp) *self, void *buf, size_t cap)
{
	return recv(self->rx, buf, cap, 0);
}

static __u64 commit_of(struct tnl *t)
{
	struct tgroup g;

	return truth_group_get(t, FP_G, &g) ? ~0ULL : g.commit;
}

TEST_F(fp, acks_advance_commit_per_rule)
{
	/* node, index: commits by the rule with SELF at 100, majority 2 of 3 */
	static const struct { __u32 node; __u64 index, commit; } acks[] = {
		{ 2, 4, 4 }, { 3, 7, 7 }, { 2, 3, 7 }, { 2, 50, 50 }, { 3, 60, 60 },
		{ 3, 55, 60 },
	};
	struct truth_quorum_member qm[3] = { { 1, 1, 100 }, { 2, 1, 0 }, { 3, 1, 0 } };
	__u64 seq[4] = { 0, 0, 1000, 2000 }, want, oracle = 0, last = 0;
	char ev[4096], buf[512];
	struct fp_stats s;
	struct tgroup grp;
	int i, len, cmd, events = 0;

	for (i = 0; i < (int)(sizeof(acks) / sizeof(acks[0])); i++) {
		__u32 n = acks[i].node;

		len = fp_ack((uint8_t *)buf, sizeof(buf), n, 1, FP_G, FP_TERM,
			     acks[i].index, ++seq[n], fp_key);
		ASSERT_LT(0, len);
		ASSERT_EQ(0, send_wait(self, variant, n == 3, buf, len, &s));
		/* the rule itself (include/truth/quorum.h) agrees with the table */
		if (acks[i].index > qm[n - 1].match)
			qm[n - 1].match = acks[i].index;
		oracle = truth_quorum_commit(qm, 3, 2, 1, oracle);
		ASSERT_EQ(acks[i].commit, oracle);
		EXPECT_EQ(acks[i].commit, commit_of(&self->tl));
	}
	EXPECT_EQ(6, s.v[TRUTH_A_STATS_FP_ACKS]);
	EXPECT_EQ(7, s.v[TRUTH_A_STATS_ACKS]);		/* with the local one */
	EXPECT_EQ(2, s.v[TRUTH_A_STATS_ACKS_REDUNDANT]);
	EXPECT_EQ(4, s.v[TRUTH_A_STATS_COMMIT_ADVANCES]);
	EXPECT_EQ(6, fp_ingress_total(&s));
	/* consumed: none reached the leader's socket */
	EXPECT_GT(0, leader_recv(self, buf, sizeof(buf)));

	/* one event per advance, in order */
	while ((cmd = tnl_event(&self->ev, 300, ev, sizeof(ev))) > 0) {
		const struct nlattr *tb[TNL_MAXATTR + 1];
		const struct nlmsghdr *nlh = (const void *)ev;

		if (cmd != TRUTH_CMD_EVENT_COMMIT)
			continue;
		tnl_parse(tnl_attrs(nlh), tnl_attrs_len(nlh), tb);
		want = tnl_u64(tb[TRUTH_A_GROUP_COMMIT]);
		EXPECT_LT(last, want);
		last = want;
		events++;
	}
	EXPECT_EQ(4, events);
	EXPECT_EQ(60, last);

	/* another term: passed up unchanged, not counted */
	len = fp_ack((uint8_t *)buf, sizeof(buf), 2, 1, FP_G, FP_TERM + 1, 90,
		     ++seq[2], fp_key);
	ASSERT_EQ(0, send_wait(self, variant, false, buf, len, &s));
	EXPECT_EQ(1, s.v[TRUTH_A_STATS_FP_STALE]);
	EXPECT_EQ(len, leader_recv(self, ev, sizeof(ev)));
	EXPECT_EQ(0, memcmp(ev, buf, len));
	EXPECT_EQ(60, commit_of(&self->tl));
	ASSERT_EQ(0, truth_group_get(&self->tl, FP_G, &grp));
	EXPECT_EQ(50, grp.members[1].match);
	EXPECT_EQ(60, grp.members[2].match);

	/* no longer leader: authentic ACKs go up to the agent, uncounted */
	{
		struct tmsg m;

		tmsg_init(&m, &self->tl, TRUTH_CMD_GROUP_SET, 0);
		tmsg_u32(&m, TRUTH_A_GROUP_ID, FP_G);
		tmsg_u32(&m, TRUTH_A_GROUP_ROLE, TRUTH_ROLE_FOLLOWER);
		ASSERT_EQ(0, tnl_talk(&self->tl, &m, NULL, NULL));
	}
	len = fp_ack((uint8_t *)buf, sizeof(buf), 3, 1, FP_G, FP_TERM, 99,
		     ++seq[3], fp_key);
	ASSERT_EQ(0, send_wait(self, variant, true, buf, len, &s));
	EXPECT_EQ(1, s.v[TRUTH_A_STATS_FP_PASSED]);
	EXPECT_EQ(6, s.v[TRUTH_A_STATS_FP_ACKS]);
	EXPECT_EQ(len, leader_recv(self, ev, sizeof(ev)));
	EXPECT_EQ(60, commit_of(&self->tl));
}

/* One hostile datagram: which counter it must land in, whether it goes up. */
struct hostile {
	const char *what;
	int counter;
	bool passed;
};

static void expect_one(struct __test_metadata *_metadata, FIXTURE_DATA(fp) *self,
		       const FIXTURE_VARIANT(fp) *variant, const struct hostile *h,
		       const void *buf, size_t len)
{
	struct fp_stats before, after;
	char got[4096];
	ssize_t n;

	ASSERT_EQ(0, fp_stats(&self->tl, &before));
	ASSERT_EQ(0, send_wait(self, variant, false, buf, len, &after)) TH_LOG("%s", h->what);
	EXPECT_EQ(before.v[h->counter] + 1, after.v[h->counter]) TH_LOG("%s", h->what);
	EXPECT_EQ(fp_ingress_total(&before) + 1, fp_ingress_total(&after)) TH_LOG("%s", h->what);
	EXPECT_EQ(before.v[TRUTH_A_STATS_FP_ACKS], after.v[TRUTH_A_STATS_FP_ACKS])
		TH_LOG("%s was counted", h->what);
	n = leader_recv(self, got, sizeof(got));
	if (h->passed) {
		EXPECT_EQ((ssize_t)len, n) TH_LOG("%s did not go up", h->what);
		if (n == (ssize_t)len)
			EXPECT_EQ(0, memcmp(got, buf, len)) TH_LOG("%s changed", h->what);
	} else {
		EXPECT_GT(0, n) TH_LOG("%s went up", h->what);
	}
}

TEST_F(fp, hostile_never_counted)
{
	static const uint8_t other_key[TRUTH_WIRE_KEY_LEN] = { 1, 2, 3 };
	uint8_t ok[512], b[4096];
	struct hostile h;
	struct fp_stats s;
	int len;

	/* one honest ACK first, so that the replays below are replays */
	len = fp_ack(ok, sizeof(ok), 2, 1, FP_G, FP_TERM, 5, 5000, fp_key);
	ASSERT_EQ(0, send_wait(self, variant, false, ok, len, &s));
	ASSERT_EQ(1, s.v[TRUTH_A_STATS_FP_ACKS]);
	ASSERT_EQ(5, commit_of(&self->tl));

#define HOSTILE(_what, _ctr, _passed) \
	(h = (struct hostile){ _what, TRUTH_A_STATS_FP_##_ctr, _passed }, &h)

	expect_one(_metadata, self, variant, HOSTILE("replayed ACK", REPLAY, false), ok, len);
	len = fp_ack(b, sizeof(b), 2, 1, FP_G, FP_TERM, 95, 5000 - 1024, fp_key);
	expect_one(_metadata, self, variant, HOSTILE("ACK below the window", REPLAY, false), b, len);

	len = fp_ack(b, sizeof(b), 2, 1, FP_G, FP_TERM, 90, 6000, fp_key);
	b[TRUTH_WIRE_MAC_OFFSET] ^= 1;
	expect_one(_metadata, self, variant, HOSTILE("forged MAC", BAD_MAC, false), b, len);
	len = fp_ack(b, sizeof(b), 2, 1, FP_G, FP_TERM, 90, 6001, other_key);
	expect_one(_metadata, self, variant, HOSTILE("wrong key", BAD_MAC, false), b, len);
	len = fp_ack(b, sizeof(b), 2, 1, FP_G, FP_TERM, 90, 6002, fp_key);
	b[35] ^= 0x40;	/* the index, after the MAC was computed */
	expect_one(_metadata, self, variant, HOSTILE("changed index", BAD_MAC, false), b, len);

	len = fp_ack(b, sizeof(b), 2, 1, FP_G, FP_TERM, 90, 6003, fp_key);
	expect_one(_metadata, self, variant, HOSTILE("truncated header", NS_MALFORMED, true),
		   b, TRUTH_WIRE_HDR_LEN - 1);
	expect_one(_metadata, self, variant, HOSTILE("truncated vector clock", MALFORMED, true),
		   b, len - 1);
	b[len] = 0;
	expect_one(_metadata, self, variant, HOSTILE("oversized", MALFORMED, true), b, len + 1);
	b[7] = TRUTH_WIRE_VCLOCK_MAX + 1;
	expect_one(_metadata, self, variant, HOSTILE("vc_count out of range", MALFORMED, true),
		   b, len);
	len = fp_ack(b, sizeof(b), 2, 1, FP_G, FP_TERM, 90, 6004, fp_key);
	b[4] = TRUTH_WIRE_VERSION + 1;
	expect_one(_metadata, self, variant, HOSTILE("wrong version", MALFORMED, true), b, len);
	len = fp_ack(b, sizeof(b), 2, 1, FP_G, FP_TERM, 90, 6005, fp_key);
	b[6] = 0x80;
	expect_one(_metadata, self, variant, HOSTILE("unknown flag", MALFORMED, true), b, len);

	memcpy(b, "not a truth datagram, just UDP on the port", 43);
	expect_one(_metadata, self, variant, HOSTILE("non-truth UDP", NS_MALFORMED, true), b, 43);
	expect_one(_metadata, self, variant, HOSTILE("empty UDP", NS_MALFORMED, true), b, 0);

	len = fp_ack(b, sizeof(b), 2, 9, FP_G, FP_TERM, 90, 6006, fp_key);
	expect_one(_metadata, self, variant, HOSTILE("for node 9", NOT_FOR_US, true), b, len);
	len = fp_ack(b, sizeof(b), 9, 1, FP_G, FP_TERM, 90, 6007, fp_key);
	expect_one(_metadata, self, variant, HOSTILE("from non-member 9", NOT_FOR_US, true), b, len);
	len = fp_ack(b, sizeof(b), 1, 1, FP_G, FP_TERM, 90, 6008, fp_key);
	expect_one(_metadata, self, variant, HOSTILE("from SELF", NOT_FOR_US, true), b, len);
	len = fp_ack(b, sizeof(b), 2, 1, FP_G + 1, FP_TERM, 90, 6009, fp_key);
	expect_one(_metadata, self, variant, HOSTILE("unknown group", NS_NO_GROUP, true), b, len);

	/* a datagram larger than the MTU goes in fragments; the first is counted */
	len = fp_ack(b, sizeof(b), 2, 1, FP_G, FP_TERM, 90, 6010, fp_key);
	memset(b + len, 0x5a, 3000 - len);
	expect_one(_metadata, self, variant, HOSTILE("IP fragments", NS_FRAGMENTS, true), b, 3000);
#undef HOSTILE

	/* nothing moved */
	ASSERT_EQ(0, fp_stats(&self->tl, &s));
	EXPECT_EQ(1, s.v[TRUTH_A_STATS_FP_ACKS]);
	EXPECT_EQ(5, commit_of(&self->tl));
}

/*
 * STATS_RESET zeroes the group's fast-path counters and the namespace's
 * (fp_ns_*), which share its reply: afterwards every counter reads 0, and
 * counting starts again from there.  Five datagrams, a reset and one more:
 * 120 s, as the IPv6 set-up alone can take most of the default 30 s under
 * TCG on a loaded host.
 */
TEST_F_TIMEOUT(fp, stats_reset_clears_fastpath_counters, 120)
{
	static const int nonzero[] = {
		TRUTH_A_STATS_FP_ACKS, TRUTH_A_STATS_FP_BAD_MAC, TRUTH_A_STATS_FP_NS_MALFORMED,
		TRUTH_A_STATS_FP_NS_NO_GROUP, TRUTH_A_STATS_FP_NS_FRAGMENTS,
	};
	uint8_t b[4096];
	struct fp_stats s;
	struct tmsg m;
	size_t i;
	int a, len;

	len = fp_ack(b, sizeof(b), 2, 1, FP_G, FP_TERM, 5, 7000, fp_key);
	ASSERT_EQ(0, send_wait(self, variant, false, b, len, &s));
	len = fp_ack(b, sizeof(b), 2, 1, FP_G, FP_TERM, 6, 7001, fp_key);
	b[TRUTH_WIRE_MAC_OFFSET] ^= 1;
	ASSERT_EQ(0, send_wait(self, variant, false, b, len, &s));
	len = fp_ack(b, sizeof(b), 2, 1, FP_G + 1, FP_TERM, 6, 7002, fp_key);
	ASSERT_EQ(0, send_wait(self, variant, false, b, len, &s));
	len = fp_ack(b, sizeof(b), 2, 1, FP_G, FP_TERM, 6, 7003, fp_key);
	memset(b + len, 0x5a, 3000 - len);
	ASSERT_EQ(0, send_wait(self, variant, false, b, 3000, &s));
	memcpy(b, "plain UDP", 9);
	ASSERT_EQ(0, send_wait(self, variant, false, b, 9, &s));
	for (i = 0; i < sizeof(nonzero) / sizeof(nonzero[0]); i++)
		ASSERT_LT(0, s.v[nonzero[i]]) TH_LOG("counter %d not bumped", nonzero[i]);
	ASSERT_LT(0, s.v[TRUTH_A_STATS_ACKS]);

	tmsg_init(&m, &self->tl, TRUTH_CMD_STATS_RESET, 0);
	tmsg_u32(&m, TRUTH_A_STATS_GROUP_ID, FP_G);
	ASSERT_EQ(0, tnl_talk(&self->tl, &m, NULL, NULL)) TH_LOG("%s", self->tl.ext_msg);
	ASSERT_EQ(0, fp_stats(&self->tl, &s));
	for (a = TRUTH_A_STATS_ACKS; a <= TRUTH_A_STATS_MAX; a++) {
		EXPECT_EQ(0, s.v[a]) TH_LOG("attribute %d is %llu after STATS_RESET", a,
					    (unsigned long long)s.v[a]);
	}

	/* and counts from zero again */
	self->sent = 0;
	ASSERT_EQ(0, send_wait(self, variant, false, b, 9, &s));
	EXPECT_EQ(1, s.v[TRUTH_A_STATS_FP_NS_MALFORMED]);
	EXPECT_EQ(1, fp_ingress_total(&s));
}

TEST_HARNESS_MAIN
