// SPDX-License-Identifier: GPL-2.0
/*
 * bench_fastpath: commit-advance throughput and CPU per commit with ACKs
 * counted in the kernel (bpf/truth.bpf.c + truth.ko's kfuncs) against the
 * same ACKs delivered over a UDP socket to a user-space counter that does
 * what the agent does without the module: decode and check the MAC
 * (agent/wire), the replay window and the quorum rule (include/truth/).
 * Runs in the VM (scripts/bench-fastpath.sh); not a test.
 *
 * The leader (node 1) has acknowledged everything itself; followers 2 and 3
 * alternate ACKs with increasing indexes, so every ACK advances the commit
 * index by one.  CPU is the whole machine's busy time from /proc/stat over
 * the run (softirq work lands on whichever CPU), so both paths pay for the
 * sender too; a third run (baseline) only sends the ACKs to a socket that
 * nobody reads, and the table also gives each path's cost above it.
 *
 *   bench_fastpath [N]     N ACKs per path (default 20000)
 */
#include <signal.h>
#include <sys/mman.h>

#include "../vm/fastpath_lib.h"
#include <truth/quorum.h>

#define WINDOW	256	/* ACKs the sender may run ahead of the user counter */

/* Busy CPU time of the whole machine, ns, from /proc/stat. */
static unsigned long long busy_ns(void)
{
	unsigned long long v[8] = { 0 };
	long hz = sysconf(_SC_CLK_TCK);
	FILE *f = fopen("/proc/stat", "r");

	if (!f)
		return 0;
	if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
		   &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) != 8)
		v[0] = v[1] = v[2] = v[5] = v[6] = v[7] = 0;
	fclose(f);
	/* user nice system [idle iowait] irq softirq steal */
	return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) * (1000000000ULL / hz);
}

struct result {
	double secs, cpu_ns;
	unsigned long long commits;
};

/* The user-space counter: what truthd does per ACK without the module. */
static void user_counter(int fd, unsigned long n, volatile unsigned long long *commit)
{
	struct truth_quorum_member qm[3] = { { 1, 1, ~0ULL >> 1 }, { 2, 1, 0 }, { 3, 1, 0 } };
	struct truth_replay win[3];
	struct truth_wire_msg m;
	uint8_t buf[2048];
	uint64_t c = 0;
	ssize_t len;

	memset(win, 0, sizeof(win));
	while (c < n) {
		len = recv(fd, buf, sizeof(buf), 0);
		if (len < 0)
			continue;
		if (truth_wire_decode(buf, len, fp_key, &m) != TRUTH_WIRE_OK ||
		    m.type != TRUTH_WIRE_ACK || m.group != FP_G || m.receiver != 1 ||
		    m.sender < 2 || m.sender > 3 || m.term != FP_TERM ||
		    !truth_replay_accept(&win[m.sender - 1], m.seq))
			continue;
		if (m.index > qm[m.sender - 1].match)
			qm[m.sender - 1].match = m.index;
		c = truth_quorum_commit(qm, 3, 2, 1, c);
		*commit = c;
	}
}

static __u64 kernel_commit(struct tnl *t)
{
	struct tgroup g;

	return truth_group_get(t, FP_G, &g) ? 0 : g.commit;
}

enum mode { KERNEL, USER, BASE };

static int run(int ns[NS_N], enum mode mode, unsigned long n, struct result *r)
{
	bool kernel = mode == KERNEL;
	volatile unsigned long long *commit;
	const char *ifl[1] = { "l0" };
	struct truth_fastpath *fp = NULL;
	unsigned long long c0, t0, t1;
	struct timespec a, b;
	char err[256] = "";
	uint8_t buf[512];
	unsigned long i;
	struct tnl t;
	int rx = -1, f, len, ret = -1;
	pid_t pid = 0;

	commit = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (commit == MAP_FAILED)
		return -1;
	*commit = 0;
	if (fp_enter(ns, NS_L) || tnl_open(&t))
		return -1;
	truth_group_remove(&t, FP_G);
	if (fp_group_new(&t, 1, TRUTH_ROLE_LEADER, fp_key) ||
	    truth_ack(&t, FP_G, FP_TERM, 0, ~0ULL >> 1))
		goto out;
	rx = fp_udp("10.77.0.1", FP_PORT);
	if (rx < 0)
		goto out;
	if (kernel) {
		fp = truth_fastpath_attach(ifl, 1, FP_PORT, err, sizeof(err));
		if (!fp) {
			fprintf(stderr, "bench: %s\n", err);
			goto out;
		}
	} else if (mode == USER) {
		struct timeval tv = { 0 };
		int big = 4 << 20;

		setsockopt(rx, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
		pid = fork();
		if (pid == 0) {
			user_counter(rx, n, commit);
			_exit(0);
		}
	}
	if (fp_enter(ns, NS_F))
		goto out;
	f = fp_udp("10.77.0.2", FP_PORT);
	if (f < 0)
		goto out;

	c0 = busy_ns();
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 1; i <= n; i++) {
		/* the user counter drops what overflows its socket: pace to it */
		while (mode == USER && i > *commit + WINDOW)
			sched_yield();
		len = fp_ack(buf, sizeof(buf), 2 + (i & 1), 1, FP_G, FP_TERM, i,
			     i, fp_key);
		if (fp_sendto(f, "10.77.0.1", FP_PORT, buf, len))
			i--;	/* ENOBUFS: the same ACK again */
	}
	if (kernel) {
		fp_enter(ns, NS_L);
		while (kernel_commit(&t) < n)
			usleep(100);
		*commit = kernel_commit(&t);
	} else if (mode == USER) {
		while (*commit < n)
			sched_yield();
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	t1 = busy_ns();
	t0 = c0;
	r->secs = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
	r->cpu_ns = (double)(t1 - t0);
	r->commits = *commit;
	ret = 0;
	close(f);
out:
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	fp_enter(ns, NS_L);
	truth_fastpath_detach(fp);
	if (rx >= 0)
		close(rx);
	truth_group_remove(&t, FP_G);
	tnl_close(&t);
	munmap((void *)commit, 4096);
	return ret;
}

int main(int argc, char *argv[])
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 20000;
	struct result k, u, b;
	double base;
	int ns[NS_N];

	if (!n || fp_topology_up(ns)) {
		fprintf(stderr, "bench: cannot set up the namespaces\n");
		return 1;
	}
	if (run(ns, KERNEL, n, &k) || run(ns, USER, n, &u) || run(ns, BASE, n, &b)) {
		fprintf(stderr, "bench: a run failed\n");
		fp_enter(ns, NS_ORIG);
		fp_topology_down();
		return 1;
	}
	fp_enter(ns, NS_ORIG);
	fp_topology_down();

	printf("%-22s %8s %8s %9s %11s %14s\n", "path", "acks", "commits", "seconds",
	       "commits/s", "CPU us/commit");
	printf("%-22s %8lu %8llu %9.2f %11.0f %14.2f\n", "kernel (tc + kfunc)", n,
	       k.commits, k.secs, k.commits / k.secs, k.cpu_ns / 1e3 / k.commits);
	printf("%-22s %8lu %8llu %9.2f %11.0f %14.2f\n", "user (socket + codec)", n,
	       u.commits, u.secs, u.commits / u.secs, u.cpu_ns / 1e3 / u.commits);
	base = b.cpu_ns / 1e3 / n;
	printf("%-22s %8lu %8s %9.2f %11s %14.2f\n", "baseline (send only)", n, "-",
	       b.secs, "-", base);
	printf("ratio: %.2fx fewer CPU per commit in the kernel, %.2fx the throughput\n",
	       (u.cpu_ns / u.commits) / (k.cpu_ns / k.commits),
	       (k.commits / k.secs) / (u.commits / u.secs));
	/* the kernel path skips the socket queue: it can cost less than sending */
	printf("above the baseline: kernel %.2f us, user %.2f us per commit",
	       k.cpu_ns / 1e3 / k.commits - base, u.cpu_ns / 1e3 / u.commits - base);
	if (k.cpu_ns / 1e3 / k.commits - base > 0)
		printf(" (%.2fx)", (u.cpu_ns / 1e3 / u.commits - base) /
		       (k.cpu_ns / 1e3 / k.commits - base));
	printf("\n");
	return 0;
}
