// SPDX-License-Identifier: GPL-2.0
/*
 * The eBPF toolchain end to end: the skeleton of bpf/truth_count.bpf.c
 * (built against vmlinux.h from the target kernel's BTF) is opened, its
 * rodata set, loaded and attached with tc on a veth in the VM, and counts
 * exactly the UDP packets it should.
 *
 *   netns tbp-a                         netns tbp-b
 *   a0 10.99.0.1/24  <---- veth ---->   b0 10.99.0.2/24
 *   tc ingress+egress: truth_count (port P)
 *
 * A sends N datagrams to B:P and one to B:P+1; B answers each of the N from
 * P.  Egress on a0 must count N, ingress N, bytes N * (14 + 20 + 8 + len).
 */

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "kselftest_harness.h"
#include "truth_count.h"
#include "truth_count.skel.h"

#define PORT		7946
#define PAYLOAD		100
#define NPKTS		10
#define FRAME_LEN	(14 + 20 + 8 + PAYLOAD)

static int sh(const char *cmd)
{
	int rc = system(cmd);

	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static int netns_fd(const char *name)
{
	char path[64];

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	return open(path, O_RDONLY | O_CLOEXEC);
}

static int udp_bound(const char *addr, int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct timeval tv = { .tv_sec = 2 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	inet_pton(AF_INET, addr, &sin.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin))) {
		close(fd);
		return -1;
	}
	return fd;
}

static int send_to(int fd, const char *addr, int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	char buf[PAYLOAD] = "truth";

	inet_pton(AF_INET, addr, &sin.sin_addr);
	return sendto(fd, buf, sizeof(buf), 0, (struct sockaddr *)&sin, sizeof(sin)) ==
	       sizeof(buf) ? 0 : -1;
}

/* The sum over CPUs of one counter slot. */
static __u64 counter(struct truth_count *skel, __u32 slot)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 vals[ncpu > 0 ? ncpu : 1], sum = 0;
	int i;

	if (ncpu <= 0 || bpf_map__lookup_elem(skel->maps.counters, &slot, sizeof(slot),
					      vals, sizeof(vals), 0))
		return ~0ULL;
	for (i = 0; i < ncpu; i++)
		sum += vals[i];
	return sum;
}

FIXTURE(pipeline) {
	int orig_ns, ns_a, ns_b;
	int tx, rx;		/* tx in tbp-a (ephemeral port), rx in tbp-b (PORT) */
	struct truth_count *skel;
	struct bpf_tc_hook hook;
};

FIXTURE_SETUP(pipeline)
{
	self->orig_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, self->orig_ns);
	sh("ip netns del tbp-a 2>/dev/null; ip netns del tbp-b 2>/dev/null");
	ASSERT_EQ(0, sh("ip netns add tbp-a && ip netns add tbp-b && "
			"ip link add a0 netns tbp-a type veth peer name b0 netns tbp-b && "
			"ip -n tbp-a addr add 10.99.0.1/24 dev a0 && "
			"ip -n tbp-b addr add 10.99.0.2/24 dev b0 && "
			"ip -n tbp-a link set a0 up && ip -n tbp-b link set b0 up && "
			"ip -n tbp-a link set lo up && ip -n tbp-b link set lo up"));
	self->ns_a = netns_fd("tbp-a");
	self->ns_b = netns_fd("tbp-b");
	ASSERT_LE(0, self->ns_a);
	ASSERT_LE(0, self->ns_b);

	ASSERT_EQ(0, setns(self->ns_b, CLONE_NEWNET));
	self->rx = udp_bound("10.99.0.2", PORT);
	ASSERT_LE(0, self->rx);
	ASSERT_EQ(0, setns(self->ns_a, CLONE_NEWNET));
	self->tx = udp_bound("10.99.0.1", 0);	/* an ephemeral port, not PORT */
	ASSERT_LE(0, self->tx);

	/* open -> set rodata -> load -> attach */
	self->skel = truth_count__open();
	ASSERT_NE(NULL, self->skel);
	self->skel->rodata->port = PORT;
	ASSERT_EQ(0, truth_count__load(self->skel));

	memset(&self->hook, 0, sizeof(self->hook));
	self->hook.sz = sizeof(self->hook);
	self->hook.ifindex = if_nametoindex("a0");
	self->hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
	ASSERT_LT(0, self->hook.ifindex);
	ASSERT_EQ(0, bpf_tc_hook_create(&self->hook));
}

FIXTURE_TEARDOWN(pipeline)
{
	if (self->skel) {
		bpf_tc_hook_destroy(&self->hook);
		truth_count__destroy(self->skel);
	}
	close(self->tx);
	close(self->rx);
	setns(self->orig_ns, CLONE_NEWNET);
	sh("ip netns del tbp-a 2>/dev/null; ip netns del tbp-b 2>/dev/null");
	close(self->ns_a);
	close(self->ns_b);
	close(self->orig_ns);
}

/* Attach @prog_fd at @where; @opts returns the filter's handle and priority. */
static int attach(struct bpf_tc_hook *hook, enum bpf_tc_attach_point where, int prog_fd,
		  struct bpf_tc_opts *opts)
{
	struct bpf_tc_hook h = *hook;

	memset(opts, 0, sizeof(*opts));
	opts->sz = sizeof(*opts);
	opts->prog_fd = prog_fd;
	h.attach_point = where;
	return bpf_tc_attach(&h, opts);
}

/* Send NPKTS to PORT and one to PORT+1, echo the NPKTS back. */
static int exchange(int tx, int rx)
{
	struct sockaddr_in from;
	socklen_t flen;
	char buf[PAYLOAD];
	int i;

	for (i = 0; i < NPKTS; i++)
		if (send_to(tx, "10.99.0.2", PORT))
			return -1;
	if (send_to(tx, "10.99.0.2", PORT + 1))
		return -1;
	for (i = 0; i < NPKTS; i++) {
		flen = sizeof(from);
		if (recvfrom(rx, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen) != PAYLOAD)
			return -2;
		if (sendto(rx, buf, PAYLOAD, 0, (struct sockaddr *)&from, flen) != PAYLOAD)
			return -3;
	}
	for (i = 0; i < NPKTS; i++)
		if (recv(tx, buf, sizeof(buf), 0) != PAYLOAD)
			return -4;
	return 0;
}

TEST_F(pipeline, counts_exactly_the_port)
{
	struct bpf_tc_opts in, out;

	ASSERT_EQ(0, attach(&self->hook, BPF_TC_INGRESS,
			    bpf_program__fd(self->skel->progs.truth_count_ingress), &in));
	ASSERT_EQ(0, attach(&self->hook, BPF_TC_EGRESS,
			    bpf_program__fd(self->skel->progs.truth_count_egress), &out));
	ASSERT_EQ(0, exchange(self->tx, self->rx));

	EXPECT_EQ(NPKTS, counter(self->skel, TRUTH_COUNT_EGRESS_PKTS));
	EXPECT_EQ(NPKTS, counter(self->skel, TRUTH_COUNT_INGRESS_PKTS));
	EXPECT_EQ(NPKTS * FRAME_LEN, counter(self->skel, TRUTH_COUNT_EGRESS_BYTES));
	EXPECT_EQ(NPKTS * FRAME_LEN, counter(self->skel, TRUTH_COUNT_INGRESS_BYTES));
}

TEST_F(pipeline, detached_counts_nothing)
{
	LIBBPF_OPTS(bpf_tc_opts, detach);
	struct bpf_tc_hook h = self->hook;
	struct bpf_tc_opts out;

	ASSERT_EQ(0, attach(&self->hook, BPF_TC_EGRESS,
			    bpf_program__fd(self->skel->progs.truth_count_egress), &out));
	h.attach_point = BPF_TC_EGRESS;
	detach.handle = out.handle;
	detach.priority = out.priority;
	ASSERT_EQ(0, bpf_tc_detach(&h, &detach));
	ASSERT_EQ(0, exchange(self->tx, self->rx));
	EXPECT_EQ(0, counter(self->skel, TRUTH_COUNT_EGRESS_PKTS));
	EXPECT_EQ(0, counter(self->skel, TRUTH_COUNT_INGRESS_PKTS));
}

TEST_HARNESS_MAIN
