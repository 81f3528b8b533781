/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the fast-path VM tests (test_fastpath_*.c): a leader's namespace
 * with two followers' namespaces around it, the fast path attached with the
 * agent's loader, sockets in each namespace, groups with a key, and the
 * fast-path counters.
 *
 *   netns fastpath-f (node 2)                  netns fastpath-l (node 1)
 *   f0 10.77.0.2/24 fd77::2/64 <-- veth --> l0 10.77.0.1/24 fd77::1/64
 *   netns fastpath-g (node 3)                  (leader of group FP_G)
 *   g0 10.78.0.2/24 fd78::2/64 <-- veth --> l1 10.78.0.1/24 fd78::1/64
 *
 * bpf/truth.bpf.c on l0, l1 (ingress + egress) and on f0, g0, port FP_PORT.
 */
#ifndef _TRUTH_FASTPATH_LIB_H
#define _TRUTH_FASTPATH_LIB_H

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fastpath/fastpath.h"
#include "wire/wire.h"
#include "test_netlink_lib.h"

#define FP_PORT		7410
#define FP_G		7	/* the group */
#define FP_TERM		5

enum { NS_ORIG, NS_L, NS_F, NS_G, NS_N };

static const char *const fp_ns_name[NS_N] = {
	NULL, "fastpath-l", "fastpath-f", "fastpath-g",
};

static const uint8_t fp_key[TRUTH_WIRE_KEY_LEN] = {
	0x74, 0x72, 0x75, 0x74, 0x68, 0x2d, 0x66, 0x61, 0x73, 0x74, 0x70,
	0x61, 0x74, 0x68, 0x2d, 0x6b, 0x65, 0x79, 0x01, 0x02, 0x03, 0x04,
	0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e,
};

static inline int fp_sh(const char *cmd)
{
	int rc = system(cmd);

	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static inline void fp_topology_down(void)
{
	fp_sh("ip netns del fastpath-l 2>/dev/null; ip netns del fastpath-f 2>/dev/null;"
	      "ip netns del fastpath-g 2>/dev/null");
}

static inline int fp_topology_up(int fds[NS_N])
{
	char path[64];
	int i;

	fp_topology_down();
	if (fp_sh("set -e; ip netns add fastpath-l; ip netns add fastpath-f; ip netns add fastpath-g;"
		  "ip link add l0 netns fastpath-l type veth peer name f0 netns fastpath-f;"
		  "ip link add l1 netns fastpath-l type veth peer name g0 netns fastpath-g;"
		  "ip -n fastpath-l addr add 10.77.0.1/24 dev l0;"
		  "ip -n fastpath-l addr add 10.78.0.1/24 dev l1;"
		  "ip -n fastpath-f addr add 10.77.0.2/24 dev f0;"
		  "ip -n fastpath-g addr add 10.78.0.2/24 dev g0;"
		  "ip -n fastpath-l -6 addr add fd77::1/64 dev l0 nodad;"
		  "ip -n fastpath-l -6 addr add fd78::1/64 dev l1 nodad;"
		  "ip -n fastpath-f -6 addr add fd77::2/64 dev f0 nodad;"
		  "ip -n fastpath-g -6 addr add fd78::2/64 dev g0 nodad;"
		  "for n in l f g; do ip -n fastpath-$n link set lo up; done;"
		  "ip -n fastpath-l link set l0 up; ip -n fastpath-l link set l1 up;"
		  "ip -n fastpath-f link set f0 up; ip -n fastpath-g link set g0 up"))
		return -1;
	fds[NS_ORIG] = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	for (i = NS_L; i < NS_N; i++) {
		snprintf(path, sizeof(path), "/run/netns/%s", fp_ns_name[i]);
		fds[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0)
			return -1;
	}
	return fds[NS_ORIG] < 0 ? -1 : 0;
}

static inline int fp_enter(const int fds[NS_N], int ns)
{
	return setns(fds[ns], CLONE_NEWNET);
}

/* A UDP socket bound to @addr:@port (IPv4 or IPv6 literal), 200 ms timeout. */
static inline int fp_udp(const char *addr, int port)
{
	struct sockaddr_storage ss = {};
	struct timeval tv = { .tv_usec = 200000 };
	struct sockaddr_in *sin = (void *)&ss;
	struct sockaddr_in6 *sin6 = (void *)&ss;
	int v6 = strchr(addr, ':') != NULL, one = 1, fd;
	socklen_t len;

	fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (v6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		inet_pton(AF_INET6, addr, &sin6->sin6_addr);
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		len = sizeof(*sin6);
	} else {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		inet_pton(AF_INET, addr, &sin->sin_addr);
		len = sizeof(*sin);
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len)) {
		close(fd);
		return -1;
	}
	return fd;
}

static inline int fp_sendto(int fd, const char *addr, int port, const void *buf,
			    size_t len)
{
	struct sockaddr_storage ss = {};
	struct sockaddr_in *sin = (void *)&ss;
	struct sockaddr_in6 *sin6 = (void *)&ss;
	socklen_t sl;

	if (strchr(addr, ':')) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		inet_pton(AF_INET6, addr, &sin6->sin6_addr);
		sl = sizeof(*sin6);
	} else {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		inet_pton(AF_INET, addr, &sin->sin_addr);
		sl = sizeof(*sin);
	}
	return sendto(fd, buf, len, 0, (struct sockaddr *)&ss, sl) == (ssize_t)len ? 0 : -1;
}

/* Creates group FP_G: members 1..3, SELF @self, @role, term FP_TERM, keyed. */
static inline int fp_group_new(struct tnl *t, __u32 self, __u32 role,
			       const uint8_t *key)
{
	struct tmsg m;
	__u32 i;

	tmsg_init(&m, t, TRUTH_CMD_GROUP_NEW, 0);
	tmsg_u32(&m, TRUTH_A_GROUP_ID, FP_G);
	tmsg_u32(&m, TRUTH_A_GROUP_SELF, self);
	for (i = 1; i <= 3; i++)
		tmsg_member(&m, i, 1);
	tmsg_u64(&m, TRUTH_A_GROUP_TERM, FP_TERM);
	tmsg_u64(&m, TRUTH_A_GROUP_TERM_START, 1);
	tmsg_u32(&m, TRUTH_A_GROUP_ROLE, role);
	if (key)
		tmsg_put(&m, TRUTH_A_GROUP_KEY, key, TRUTH_WIRE_KEY_LEN);
	return tnl_talk(t, &m, NULL, NULL);
}

/* Every STATS_GET attribute, by number; ~0 if absent. */
struct fp_stats {
	__u64 v[TRUTH_A_STATS_MAX + 1];
};

static inline int fp_stats_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct nlattr *tb[TNL_MAXATTR + 1];
	struct fp_stats *s = arg;
	int a;

	tnl_parse(tnl_attrs(nlh), tnl_attrs_len(nlh), tb);
	for (a = TRUTH_A_STATS_ACKS; a <= TRUTH_A_STATS_MAX; a++)
		s->v[a] = tb[a] ? tnl_u64(tb[a]) : ~0ULL;
	return 0;
}

static inline int fp_stats(struct tnl *t, struct fp_stats *s)
{
	struct tmsg m;

	memset(s, 0, sizeof(*s));
	tmsg_init(&m, t, TRUTH_CMD_STATS_GET, 0);
	tmsg_u32(&m, TRUTH_A_STATS_GROUP_ID, FP_G);
	return tnl_talk(t, &m, fp_stats_cb, s);
}

/* Every datagram the ingress hook saw lands in exactly one of these. */
static inline __u64 fp_ingress_total(const struct fp_stats *s)
{
	static const int a[] = {
		TRUTH_A_STATS_FP_ACKS, TRUTH_A_STATS_FP_PASSED, TRUTH_A_STATS_FP_BAD_MAC,
		TRUTH_A_STATS_FP_REPLAY, TRUTH_A_STATS_FP_STALE, TRUTH_A_STATS_FP_MALFORMED,
		TRUTH_A_STATS_FP_NOT_FOR_US, TRUTH_A_STATS_FP_NO_KEY,
		TRUTH_A_STATS_FP_NS_MALFORMED, TRUTH_A_STATS_FP_NS_FRAGMENTS,
		TRUTH_A_STATS_FP_NS_NO_GROUP,
	};
	__u64 sum = 0;
	size_t i;

	for (i = 0; i < sizeof(a) / sizeof(a[0]); i++)
		sum += s->v[a[i]];
	return sum;
}

/* Polls until the ingress total reaches @want (up to 2 s); the last stats. */
static inline int fp_wait_total(struct tnl *t, __u64 want, struct fp_stats *s)
{
	int i;

	for (i = 0; i < 200; i++) {
		if (fp_stats(t, s))
			return -1;
		if (fp_ingress_total(s) >= want)
			return 0;
		usleep(10000);
	}
	return -1;
}

/* An encoded ACK; its length. */
static inline int fp_ack(uint8_t *buf, size_t cap, __u32 sender, __u32 receiver,
			 __u32 group, __u64 term, __u64 index, __u64 seq,
			 const uint8_t *key)
{
	struct truth_wire_msg m;

	memset(&m, 0, sizeof(m));
	m.type = TRUTH_WIRE_ACK;
	m.sender = sender;
	m.receiver = receiver;
	m.group = group;
	m.term = term;
	m.index = index;
	m.seq = seq;
	m.lamport = seq;
	m.vc_count = 1;
	m.vc[0].node = sender;
	m.vc[0].counter = seq;
	return truth_wire_encode(buf, cap, &m, key);
}

static inline __u64 fp_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

#endif /* _TRUTH_FASTPATH_LIB_H */
