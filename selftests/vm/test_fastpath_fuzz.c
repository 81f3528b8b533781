// SPDX-License-Identifier: GPL-2.0
/*
 * Packet fuzzer through the fast path's hooks: at least 100,000 datagrams
 * from the follower's namespace to the leader's, through f0's egress
 * (truth_kf_stamp, with a real keyed group there) and l0's ingress
 * (truth_kf_ack, truth_kf_observe): random bytes of random length, and
 * valid ACKs, APPENDs and PROBEs (some asking to be stamped) with random
 * bytes flipped, cut or appended.  Every mutated ACK breaks its MAC or a
 * header rule, so none may be counted and the commit index may not move
 * (the follower's kernel holds another key than the leader's: whatever
 * garbage it stamps and reseals arrives with a bad MAC, as from a node
 * outside the group);
 * every datagram must land in exactly one ingress counter; the kernel log
 * must stay clean (run-tests.sh checks it).  TRUTH_SEED replays a run,
 * TRUTH_SEEDS sets the count.  Topology: fastpath_lib.h.
 */
#include <errno.h>

#include "kselftest_harness.h"
#include "fastpath_lib.h"
#include "truth_rand.h"

#define FUZZ_MIN	100000

/* A valid datagram of a random type, before mutation; its length. */
static int fuzz_valid(uint8_t *buf, size_t cap)
{
	static const uint8_t types[] = { TRUTH_WIRE_ACK, TRUTH_WIRE_APPEND,
					 TRUTH_WIRE_RAFT, TRUTH_WIRE_PROBE };
	static uint64_t seq = 1;
	struct truth_wire_msg m;
	uint8_t payload[64];
	int i;

	memset(&m, 0, sizeof(m));
	m.type = types[rnd_below(sizeof(types))];
	m.flags = rnd_below(2) ? TRUTH_WIRE_F_STAMP : 0;
	m.sender = 2;
	m.receiver = 1;
	m.group = FP_G;
	m.term = FP_TERM;
	m.index = 1000 + rnd_below(1000);
	m.seq = seq++;
	m.vc_count = rnd_below(4);
	for (i = 0; i < m.vc_count; i++) {
		m.vc[i].node = i + 1;
		m.vc[i].counter = 1 + rnd_below(100);
	}
	if (m.type == TRUTH_WIRE_APPEND || m.type == TRUTH_WIRE_RAFT) {
		for (i = 0; i < (int)sizeof(payload); i++)
			payload[i] = rnd();
		m.payload = payload;
		m.payload_len = rnd_below(sizeof(payload));
	}
	return truth_wire_encode(buf, cap, &m, fp_key);
}

/* Changes at least one byte of @buf (or its length); the new length. */
static size_t fuzz_mutate(uint8_t *buf, size_t len, size_t cap)
{
	size_t i, n, at;
	uint8_t x;

	switch (rnd_below(4)) {
	case 0:		/* flip 1..4 distinct bytes, each to another value */
		n = 1 + rnd_below(4);
		at = len ? rnd_below(len) : 0;
		for (i = 0; i < n && i < len; i++) {
			x = 1 + rnd_below(255);
			buf[(at + i) % len] ^= x;
		}
		return len;
	case 1:		/* cut the tail */
		return len ? rnd_below(len) : 0;
	case 2:		/* append bytes */
		n = 1 + rnd_below(64);
		if (len + n > cap)
			n = cap - len;
		for (i = 0; i < n; i++)
			buf[len + i] = rnd();
		return len + n;
	default:	/* one header byte set to a random value */
		at = rnd_below(TRUTH_WIRE_HDR_LEN < len ? TRUTH_WIRE_HDR_LEN : len);
		buf[at] ^= 1 + rnd_below(255);
		return len;
	}
}

FIXTURE(fz) {
};

FIXTURE_SETUP(fz)
{
}

FIXTURE_TEARDOWN(fz)
{
}

/* TCG is slow: 100,000 datagrams through two hooks take about a minute */
TEST_F_TIMEOUT(fz, fuzz_hooks, 240)
{
	static const uint8_t other_key[TRUTH_WIRE_KEY_LEN] = { 0xfe, 0xed };
	struct fp_stats sf;
	struct timespec t0, t1;
	unsigned long n = cases(FUZZ_MIN), i, sent = 0;
	const char *ifl[2] = { "l0", "l1" }, *iff[1] = { "f0" };
	struct truth_fastpath *fpl = NULL, *fpf = NULL;
	uint64_t seed = seed_init();
	struct tnl tl, tf;
	struct fp_stats s;
	struct tgroup g;
	uint8_t buf[2048];
	int ns[NS_N], f4, f6, rx4, rx6;
	char err[256] = "";
	size_t len;

	if (n < FUZZ_MIN)
		n = FUZZ_MIN + 1000;	/* room for a few ENOBUFS */
	TH_LOG("seed %llu, %lu datagrams (TRUTH_SEED=%llu replays)",
	       (unsigned long long)seed, n, (unsigned long long)seed);
	ASSERT_EQ(0, fp_topology_up(ns));
	ASSERT_EQ(0, fp_enter(ns, NS_F));
	ASSERT_EQ(0, tnl_open(&tf)) TH_LOG("family truth not found");
	ASSERT_EQ(0, fp_group_new(&tf, 2, TRUTH_ROLE_FOLLOWER, other_key));
	f4 = fp_udp("10.77.0.2", FP_PORT);
	f6 = fp_udp("fd77::2", FP_PORT);
	ASSERT_LE(0, f4);
	ASSERT_LE(0, f6);
	fpf = truth_fastpath_attach(iff, 1, FP_PORT, err, sizeof(err));
	ASSERT_NE(NULL, fpf) TH_LOG("%s", err);
	ASSERT_EQ(0, fp_enter(ns, NS_L));
	ASSERT_EQ(0, tnl_open(&tl));
	ASSERT_EQ(0, fp_group_new(&tl, 1, TRUTH_ROLE_LEADER, fp_key));
	ASSERT_EQ(0, truth_ack(&tl, FP_G, FP_TERM, 0, 5000));
	/* sockets that drain nothing: the hook, not the socket, is under test */
	rx4 = fp_udp("0.0.0.0", FP_PORT);
	rx6 = fp_udp("::", FP_PORT);
	fpl = truth_fastpath_attach(ifl, 2, FP_PORT, err, sizeof(err));
	ASSERT_NE(NULL, fpl) TH_LOG("%s", err);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++) {
		if (rnd_below(4) == 0) {
			len = rnd_below(300);
			for (size_t j = 0; j < len; j++)
				buf[j] = rnd();
			if (len >= 4 && rnd_below(2))
				truth_wire_put32(buf, TRUTH_WIRE_MAGIC);
		} else {
			int l = fuzz_valid(buf, sizeof(buf));

			ASSERT_LT(0, l);
			len = fuzz_mutate(buf, l, sizeof(buf));
		}
		if (!fp_sendto(i & 1 ? f6 : f4, i & 1 ? "fd77::1" : "10.77.0.1",
			       FP_PORT, buf, len))
			sent++;
		else	/* a full queue is not a failure; anything else is */
			ASSERT_EQ(ENOBUFS, errno) TH_LOG("send %lu: %s", i, strerror(errno));
		/* drain now and then so the sockets do not fill (not needed for the count) */
		if ((i & 255) == 255) {
			while (recv(rx4, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
				;
			while (recv(rx6, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
				;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	TH_LOG("%lu of %lu sent in %.1f s", sent, n,
	       (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	EXPECT_LE(FUZZ_MIN, sent);
	ASSERT_EQ(0, fp_wait_total(&tl, sent, &s));
	usleep(100000);
	ASSERT_EQ(0, fp_stats(&tl, &s));
	TH_LOG("acks %llu passed %llu bad_mac %llu replay %llu stale %llu malformed %llu "
	       "not_for_us %llu ns_malformed %llu ns_no_group %llu",
	       s.v[TRUTH_A_STATS_FP_ACKS], s.v[TRUTH_A_STATS_FP_PASSED],
	       s.v[TRUTH_A_STATS_FP_BAD_MAC], s.v[TRUTH_A_STATS_FP_REPLAY],
	       s.v[TRUTH_A_STATS_FP_STALE], s.v[TRUTH_A_STATS_FP_MALFORMED],
	       s.v[TRUTH_A_STATS_FP_NOT_FOR_US], s.v[TRUTH_A_STATS_FP_NS_MALFORMED],
	       s.v[TRUTH_A_STATS_FP_NS_NO_GROUP]);
	EXPECT_EQ(sent, fp_ingress_total(&s));
	EXPECT_EQ(0, s.v[TRUTH_A_STATS_FP_ACKS]);
	EXPECT_LT(0, s.v[TRUTH_A_STATS_FP_BAD_MAC]);
	EXPECT_LT(0, s.v[TRUTH_A_STATS_FP_MALFORMED]);
	EXPECT_LT(0, s.v[TRUTH_A_STATS_FP_NS_MALFORMED]);
	ASSERT_EQ(0, fp_stats(&tf, &sf));
	TH_LOG("stamped on the follower's egress: %llu", sf.v[TRUTH_A_STATS_FP_STAMPED]);
	EXPECT_LT(0, sf.v[TRUTH_A_STATS_FP_STAMPED]);
	ASSERT_EQ(0, truth_group_get(&tl, FP_G, &g));
	EXPECT_EQ(0, g.commit);
	EXPECT_EQ(0, g.members[1].match);

	truth_fastpath_detach(fpl);
	truth_fastpath_detach(fpf);
	close(rx4);
	close(rx6);
	close(f4);
	close(f6);
	truth_group_remove(&tl, FP_G);
	truth_group_remove(&tf, FP_G);
	tnl_close(&tl);
	tnl_close(&tf);
	fp_enter(ns, NS_ORIG);
	fp_topology_down();
}

TEST_HARNESS_MAIN
