// SPDX-License-Identifier: GPL-2.0
/*
 * Stamping and observing: the follower's namespace (node 2) sends datagrams
 * that ask to be stamped (TRUTH_WIRE_F_STAMP); its tc egress writes the
 * clocks, cuts the vector-clock slots it did not need, reseals the MAC and
 * fixes the UDP checksum.  The leader's namespace (node 1) receives them
 * with a plain UDP socket and decodes them with the user-space codec (so the
 * kernel's MAC verifies in user space), sees Lamport and vector clocks
 * increase, and its own clocks merged by tc ingress.  Probes carry tc-level
 * transmit and receive times.
 *
 * The checksum: the leader's side captures each datagram with AF_PACKET on
 * l0 and checks the UDP checksum itself: in full when the sender's veth has
 * checksum offload off (the skb is CHECKSUM_NONE, and the receiving stack
 * verifies it too, so the socket getting it is a second proof), or, with
 * offload on (CHECKSUM_PARTIAL: veth hands the skb over unsummed), that the
 * field holds the pseudo-header sum for the new length, which is what a
 * device or skb_checksum_help() completes.  Every test runs IPv4 and IPv6,
 * each with offload on and off.
 */
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/if_packet.h>
#include <linux/sockios.h>
#include <net/ethernet.h>
#include <sys/ioctl.h>

#include "kselftest_harness.h"
#include "fastpath_lib.h"

FIXTURE(st) {
	int ns[NS_N];
	struct tnl tl, tf;	/* leader's and follower's namespaces */
	struct truth_fastpath *fpl, *fpf;
	int rx[2], f[2], cap;	/* by family: leader, follower; capture */
};

/* Each test runs every case in one topology (setting up is the slow part). */
struct st_case {
	const char *l_addr;
	bool v6, offload;
};

static const struct st_case st_cases[] = {
	{ "10.77.0.1", false, true }, { "10.77.0.1", false, false },
	{ "fd77::1", true, true }, { "fd77::1", true, false },
};

/* ethtool -K IF tx on|off through the ioctl; 0 or -1. */
static int tx_csum(const char *ifname, bool on)
{
	struct ethtool_value ev = { .cmd = ETHTOOL_STXCSUM, .data = on };
	struct ifreq ifr;
	int fd, ret;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ev;
	ret = ioctl(fd, SIOCETHTOOL, &ifr);
	ev.cmd = ETHTOOL_GTXCSUM;
	if (!ret)
		ret = ioctl(fd, SIOCETHTOOL, &ifr);
	close(fd);
	return ret || ev.data != on ? -1 : 0;
}

static int capture(const char *ifname)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETH_P_ALL) };
	struct timeval tv = { .tv_usec = 300000 };
	int fd, one = 1;

	fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (fd < 0)
		return -1;
	sll.sll_ifindex = if_nametoindex(ifname);
	setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		close(fd);
		return -1;
	}
	return fd;
}

FIXTURE_SETUP(st)
{
	const char *ifl[1] = { "l0" }, *iff[1] = { "f0" };
	char err[256] = "";

	ASSERT_EQ(0, fp_topology_up(self->ns));
	ASSERT_EQ(0, fp_enter(self->ns, NS_F));
	ASSERT_EQ(0, tnl_open(&self->tf)) TH_LOG("family truth not found");
	ASSERT_EQ(0, fp_group_new(&self->tf, 2, TRUTH_ROLE_FOLLOWER, fp_key));
	self->f[0] = fp_udp("10.77.0.2", FP_PORT);
	self->f[1] = fp_udp("fd77::2", FP_PORT);
	ASSERT_LE(0, self->f[0]);
	ASSERT_LE(0, self->f[1]);
	self->fpf = truth_fastpath_attach(iff, 1, FP_PORT, err, sizeof(err));
	ASSERT_NE(NULL, self->fpf) TH_LOG("%s", err);

	ASSERT_EQ(0, fp_enter(self->ns, NS_L));
	ASSERT_EQ(0, tnl_open(&self->tl));
	ASSERT_EQ(0, fp_group_new(&self->tl, 1, TRUTH_ROLE_LEADER, fp_key));
	self->rx[0] = fp_udp("0.0.0.0", FP_PORT);
	self->rx[1] = fp_udp("::", FP_PORT);
	ASSERT_LE(0, self->rx[0]);
	ASSERT_LE(0, self->rx[1]);
	self->cap = capture("l0");
	ASSERT_LE(0, self->cap);
	self->fpl = truth_fastpath_attach(ifl, 1, FP_PORT, err, sizeof(err));
	ASSERT_NE(NULL, self->fpl) TH_LOG("%s", err);
}

FIXTURE_TEARDOWN(st)
{
	int i;

	truth_fastpath_detach(self->fpl);
	truth_fastpath_detach(self->fpf);
	for (i = 0; i < 2; i++) {
		close(self->rx[i]);
		close(self->f[i]);
	}
	close(self->cap);
	truth_group_remove(&self->tl, FP_G);
	truth_group_remove(&self->tf, FP_G);
	tnl_close(&self->tl);
	tnl_close(&self->tf);
	fp_enter(self->ns, NS_ORIG);
	fp_topology_down();
	for (i = 0; i < NS_N; i++)
		close(self->ns[i]);
}

static __u32 sum16(const __u8 *p, size_t n, __u32 s)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (__u32)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (__u32)p[n - 1] << 8;
	return s;
}

static __u16 fold(__u32 s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (__u16)s;
}

/*
 * Reads captured packets until a UDP datagram to FP_PORT; checks its
 * checksum as described at the top.  1 valid, 0 invalid, -1 none seen.
 */
static int captured_csum_ok(int cap, bool v6, bool *partial)
{
	char ctl[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
	__u8 pkt[4096], ph[40];
	struct iovec iov = { pkt, sizeof(pkt) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	struct tpacket_auxdata *aux;
	struct cmsghdr *c;
	__u32 ihl, s, ulen;
	ssize_t n;
	__u8 *uh;

	for (;;) {
		mh.msg_controllen = sizeof(ctl);
		n = recvmsg(cap, &mh, 0);
		if (n <= 0)
			return -1;
		aux = NULL;
		for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
			if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA)
				aux = (void *)CMSG_DATA(c);
		if (v6 && n > 48 && (pkt[0] >> 4) == 6 && pkt[6] == IPPROTO_UDP) {
			ihl = 40;
			memcpy(ph, pkt + 8, 32);
		} else if (!v6 && n > 28 && (pkt[0] >> 4) == 4 && pkt[9] == IPPROTO_UDP) {
			ihl = (pkt[0] & 15) * 4;
			memcpy(ph, pkt + 12, 8);
		} else {
			continue;
		}
		uh = pkt + ihl;
		if (((__u32)uh[2] << 8 | uh[3]) != FP_PORT)
			continue;
		ulen = (__u32)uh[4] << 8 | uh[5];
		if (ihl + ulen > (__u32)n)
			return 0;
		s = sum16(ph, v6 ? 32 : 8, 0) + IPPROTO_UDP + ulen;
		*partial = aux && (aux->tp_status & TP_STATUS_CSUMNOTREADY);
		if (*partial)
			return fold(s) == ((__u32)uh[6] << 8 | uh[7]);
		return fold(sum16(uh, ulen, s)) == 0xffff;
	}
}

/* ethtool -K f0 tx on|off, in the follower's namespace. */
static int set_offload(FIXTURE_DATA(st) *self, bool on)
{
	int ret;

	if (fp_enter(self->ns, NS_F))
		return -1;
	ret = tx_csum("f0", on);
	return fp_enter(self->ns, NS_L) ? -1 : ret;
}

/* An APPEND (or PROBE) asking to be stamped, with @slots vector-clock slots. */
static int stamped_msg(__u8 *buf, size_t cap, __u8 type, __u64 k, int slots,
		       const char *payload)
{
	struct truth_wire_msg m;
	int i;

	memset(&m, 0, sizeof(m));
	m.type = type;
	m.flags = TRUTH_WIRE_F_STAMP;
	m.sender = 2;
	m.receiver = 1;
	m.group = FP_G;
	m.term = FP_TERM;
	m.index = k;
	m.seq = 100 + k;
	m.vc_count = slots;
	/* placeholders the kernel overwrites (the codec wants a valid clock) */
	for (i = 0; i < slots; i++) {
		m.vc[i].node = i + 1;
		m.vc[i].counter = 1;
	}
	m.payload = (const uint8_t *)payload;
	m.payload_len = payload ? strlen(payload) : 0;
	m.probe.id = 42;
	return truth_wire_encode(buf, cap, &m, fp_key);
}

TEST_F(st, stamped_clocks_increase_and_merge)
{
	__u64 lamport = 0, hlc = 0, k = 0;
	struct truth_wire_msg m;
	__u8 buf[512], got[512];
	const struct st_case *sc;
	struct fp_stats s;
	struct tclock c;
	bool partial = false;
	char payload[16];
	int len, n, i, j;

	for (i = 0; i < 4; i++) {
		sc = &st_cases[i];
		ASSERT_EQ(0, set_offload(self, sc->offload)) TH_LOG("cannot set tx checksum offload");
		for (j = 0; j < 3; j++) {
			k++;
			snprintf(payload, sizeof(payload), "entry-%llu", (unsigned long long)k);
			len = stamped_msg(buf, sizeof(buf), TRUTH_WIRE_APPEND, k, 3, payload);
			ASSERT_LT(0, len);
			ASSERT_EQ(0, fp_sendto(self->f[sc->v6], sc->l_addr, FP_PORT, buf, len));
			n = recv(self->rx[sc->v6], got, sizeof(got), 0);
			/* node 2's clock has one entry: two slots cut */
			ASSERT_EQ(len - 2 * (int)sizeof(struct truth_wire_vc), n)
				TH_LOG("case %d datagram %llu: %d bytes", i, (unsigned long long)k, n);
			ASSERT_EQ(TRUTH_WIRE_OK, truth_wire_decode(got, n, fp_key, &m))
				TH_LOG("the kernel's stamp does not verify in user space");
			EXPECT_TRUE(m.flags & TRUTH_WIRE_F_KSTAMPED);
			EXPECT_EQ(1, m.vc_count);
			EXPECT_EQ(2, m.vc[0].node);
			EXPECT_EQ(k, m.vc[0].counter);
			EXPECT_LT(lamport, m.lamport);
			EXPECT_LT(hlc, m.hlc);
			EXPECT_EQ(strlen(payload), m.payload_len);
			EXPECT_EQ(0, memcmp(m.payload, payload, m.payload_len));
			lamport = m.lamport;
			hlc = m.hlc;
			EXPECT_EQ(1, captured_csum_ok(self->cap, sc->v6, &partial))
				TH_LOG("case %d: bad UDP checksum", i);
			EXPECT_EQ(sc->offload, partial);
		}
	}
	/* the leader merged what it received */
	ASSERT_EQ(0, truth_clock(&self->tl, TRUTH_CMD_CLOCK_GET, FP_G, &c));
	EXPECT_LT(lamport, c.lamport);
	for (n = 0; n < (int)c.n && c.vc[n].node != 2; n++)
		;
	ASSERT_GT((int)c.n, n) TH_LOG("node 2 is not in the leader's vector clock");
	EXPECT_EQ(k, c.vc[n].counter);
	ASSERT_EQ(0, fp_stats(&self->tl, &s));
	EXPECT_EQ(k, s.v[TRUTH_A_STATS_FP_PASSED]);
	EXPECT_EQ(k, s.v[TRUTH_A_STATS_FP_OBSERVED]);
	ASSERT_EQ(0, fp_stats(&self->tf, &s));
	EXPECT_EQ(k, s.v[TRUTH_A_STATS_FP_STAMPED]);
}

TEST_F(st, probes_carry_tc_times)
{
	const struct st_case *sc;
	struct truth_wire_msg m;
	__u8 buf[512], got[512];
	__u64 t0, t1, t2;
	bool partial;
	int len, n, i;

	/* first a send so node 2's clock has its one entry: no slot to cut */
	len = stamped_msg(buf, sizeof(buf), TRUTH_WIRE_APPEND, 1, 1, "x");
	ASSERT_EQ(0, fp_sendto(self->f[0], "10.77.0.1", FP_PORT, buf, len));
	ASSERT_LT(0, recv(self->rx[0], got, sizeof(got), 0));
	captured_csum_ok(self->cap, false, &partial);

	for (i = 0; i < 4; i++) {
		sc = &st_cases[i];
		ASSERT_EQ(0, set_offload(self, sc->offload));
		len = stamped_msg(buf, sizeof(buf), TRUTH_WIRE_PROBE, 2 + i, 1, NULL);
		ASSERT_LT(0, len);
		t0 = fp_now_ns();
		ASSERT_EQ(0, fp_sendto(self->f[sc->v6], sc->l_addr, FP_PORT, buf, len));
		t1 = fp_now_ns();
		n = recv(self->rx[sc->v6], got, sizeof(got), 0);
		t2 = fp_now_ns();
		ASSERT_EQ(len, n) TH_LOG("case %d", i);
		ASSERT_EQ(TRUTH_WIRE_OK, truth_wire_decode(got, n, fp_key, &m));
		EXPECT_EQ(42, m.probe.id);
		EXPECT_EQ(TRUTH_WIRE_TSRC_TC, m.probe.tx_src);
		EXPECT_LE(t0, m.probe.tx);
		EXPECT_GE(t1, m.probe.tx);
		EXPECT_EQ(TRUTH_WIRE_TSRC_TC, m.probe.rx_src);
		EXPECT_LE(m.probe.tx, m.probe.rx);
		EXPECT_GE(t2, m.probe.rx);
		EXPECT_EQ(1, captured_csum_ok(self->cap, sc->v6, &partial)) TH_LOG("case %d", i);
	}
}

TEST_HARNESS_MAIN
