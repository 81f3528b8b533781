// SPDX-License-Identifier: GPL-2.0
/*
 * A netlink fuzzer for the "truth" family, run in the VM.  Two workers (one
 * per CPU) share a fresh network namespace and send at least 100,000
 * messages between them:
 *
 *   - structured: a real command with a random subset of its attributes,
 *     values drawn from edges (0, 1, limits, all ones) and small ids that
 *     hit the groups the fuzzer itself creates, plus stray attributes;
 *   - mutated: a valid GROUP_NEW / GROUP_SET / GROUP_ACK / CLOCK_MERGE with
 *     random bits flipped, lengths corrupted or the tail cut off;
 *   - random: random nests of random attributes, random bytes, random
 *     commands, header versions and flags (including dumps).
 *
 * Afterwards each worker checks the family still answers correctly in the
 * fuzzed namespace, the namespace is torn down with whatever state the
 * fuzzer built, and the test checks a full group life cycle in the initial
 * namespace.  The runner then checks the kernel log.  TRUTH_SEED replays,
 * TRUTH_FUZZ_MESSAGES changes the total (default 200000).
 */

#include <sched.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#include "kselftest_harness.h"
#include "test_netlink_lib.h"

#define WORKERS 2

struct fuzz_stats {
	unsigned long sent;
	unsigned long acked_ok;
	unsigned long rejected;
	unsigned long replies;
	unsigned long errno_hist[140];
	int after_ok;		/* the family answered correctly afterwards */
};

struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 2685821657736338717ULL;
}

static uint64_t below(struct rng *r, uint64_t n)
{
	return n ? rnd(r) % n : 0;
}

static __u64 edge_u64(struct rng *r)
{
	static const __u64 edges[] = {
		0, 1, 2, 3, 4, 5, 7, 8, 63, 64, 65, 255, 256, 1000,
		0x7fffffffULL, 0x80000000ULL, 0xffffffffULL, 0x100000000ULL,
		TRUTH_HLC_MAX_OFFSET_MIN, TRUTH_HLC_MAX_OFFSET_MAX,
		0x7fffffffffffffffULL, 0x8000000000000000ULL, ~0ULL, ~0ULL - 1,
	};

	switch (below(r, 4)) {
	case 0:
		return rnd(r);
	case 1:
		return below(r, 16);
	default:
		return edges[below(r, sizeof(edges) / sizeof(edges[0]))];
	}
}

/* A small id most of the time, so requests hit groups that exist. */
static __u32 some_id(struct rng *r)
{
	return below(r, 10) ? 1 + below(r, 12) : (__u32)edge_u64(r);
}

/* Random attributes, recursively nested up to @depth. */
static void random_attrs(struct tmsg *m, struct rng *r, int depth, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		__u16 type = below(r, 8) ? below(r, 16) : (__u16)rnd(r) & NLA_TYPE_MASK;
		char bytes[64];
		size_t len;

		switch (below(r, depth > 0 ? 6 : 5)) {
		case 0:
			tmsg_u32(m, type, (__u32)edge_u64(r));
			break;
		case 1:
			tmsg_u64(m, type, edge_u64(r));
			break;
		case 2:
			len = below(r, sizeof(bytes));
			for (size_t k = 0; k < len; k++)
				bytes[k] = below(r, 4) ? 'a' + below(r, 26) : (char)rnd(r);
			tmsg_put(m, type, bytes, len);
			break;
		case 3:
			tmsg_put(m, type, NULL, 0);
			break;
		case 4:
			tmsg_put(m, type, "\0\0", below(r, 3));
			break;
		default: {
			struct nlattr *nest = tmsg_put(m, type | (below(r, 8) ? NLA_F_NESTED : 0),
						       NULL, 0);

			if (!nest)
				return;
			random_attrs(m, r, depth - 1, below(r, 5));
			tmsg_nest_end(m, nest);
		}
		}
	}
}

static void member_nest(struct tmsg *m, struct rng *r, __u16 type, __u16 a1, __u16 a2)
{
	struct nlattr *n = tmsg_nest(m, type);

	if (!n)
		return;
	if (below(r, 8))
		tmsg_u32(m, a1, below(r, 6) ? 1 + below(r, 6) : (__u32)edge_u64(r));
	if (below(r, 2)) {
		if (a2 == TRUTH_A_VCLOCK_COUNTER)
			tmsg_u64(m, a2, edge_u64(r));
		else
			tmsg_u32(m, a2, below(r, 4) ? below(r, 4) : (__u32)edge_u64(r));
	}
	if (!below(r, 16))
		random_attrs(m, r, 0, 1);
	tmsg_nest_end(m, n);
}

/* A plausible request: the right attributes, some missing, odd values. */
static void structured(struct tmsg *m, struct rng *r, __u16 family)
{
	__u8 cmd = below(r, 16) ? 1 + below(r, TRUTH_CMD_MAX) : (__u8)rnd(r);
	int i, n;

	tmsg_init_raw(m, family, cmd,
		      cmd == TRUTH_CMD_GROUP_GET && below(r, 3) ? NLM_F_DUMP : 0);
	switch (cmd) {
	case TRUTH_CMD_GROUP_NEW:
	case TRUTH_CMD_GROUP_SET:
		if (below(r, 12))
			tmsg_u32(m, TRUTH_A_GROUP_ID, some_id(r));
		if (below(r, 6))
			tmsg_u32(m, TRUTH_A_GROUP_SELF, below(r, 8) ? 1 : some_id(r));
		n = below(r, 4) ? below(r, 7) : below(r, 70);
		if (!below(r, 6)) {
			/* distinct nodes, so the limits are reached, not duplicates */
			for (i = 0; i < n; i++)
				tmsg_member(m, 1 + i, below(r, 3));
		} else {
			for (i = 0; i < n; i++)
				member_nest(m, r, TRUTH_A_GROUP_MEMBER, TRUTH_A_MEMBER_NODE,
					    TRUTH_A_MEMBER_WEIGHT);
		}
		if (!below(r, 3))
			tmsg_u64(m, TRUTH_A_GROUP_THRESHOLD, below(r, 2) ? below(r, 6) : edge_u64(r));
		if (!below(r, 3))
			tmsg_u64(m, TRUTH_A_GROUP_TERM, below(r, 2) ? below(r, 4) : edge_u64(r));
		if (!below(r, 3))
			tmsg_u64(m, TRUTH_A_GROUP_TERM_START, edge_u64(r));
		if (!below(r, 2))
			tmsg_u32(m, TRUTH_A_GROUP_ROLE, below(r, 4) ? TRUTH_ROLE_LEADER : (__u32)edge_u64(r));
		if (!below(r, 4))
			tmsg_u64(m, TRUTH_A_GROUP_COMMIT, edge_u64(r));
		if (!below(r, 4))
			tmsg_str(m, TRUTH_A_GROUP_NAME, below(r, 2) ? "fz" :
				 "a-name-that-is-much-too-long-for-the-limit");
		if (!below(r, 4))
			tmsg_u32(m, TRUTH_A_GROUP_FLAGS, (__u32)edge_u64(r));
		break;
	case TRUTH_CMD_GROUP_DEL:
	case TRUTH_CMD_GROUP_GET:
		if (below(r, 4))
			tmsg_u32(m, TRUTH_A_GROUP_ID, some_id(r));
		break;
	case TRUTH_CMD_GROUP_ACK:
		if (below(r, 10))
			tmsg_u32(m, TRUTH_A_GROUP_ID, some_id(r));
		if (below(r, 10))
			tmsg_u64(m, TRUTH_A_GROUP_TERM, below(r, 4) ? below(r, 3) : edge_u64(r));
		if (below(r, 10))
			tmsg_u64(m, TRUTH_A_GROUP_INDEX, below(r, 3) ? below(r, 1000) : edge_u64(r));
		if (below(r, 2))
			tmsg_u32(m, TRUTH_A_GROUP_NODE, below(r, 4) ? 1 + below(r, 6) : (__u32)edge_u64(r));
		break;
	case TRUTH_CMD_CLOCK_GET:
	case TRUTH_CMD_CLOCK_TICK:
	case TRUTH_CMD_CLOCK_MERGE:
	case TRUTH_CMD_CLOCK_SET:
		if (below(r, 2))
			tmsg_u32(m, TRUTH_A_CLOCK_GROUP_ID, some_id(r));
		if (!below(r, 3))
			tmsg_u64(m, TRUTH_A_CLOCK_LAMPORT, edge_u64(r));
		if (!below(r, 3))
			tmsg_u64(m, TRUTH_A_CLOCK_HLC, below(r, 2) ? (__u64)time(NULL) * 1000000000ULL +
				 below(r, 2000000000ULL) : edge_u64(r));
		if (!below(r, 3))
			tmsg_u64(m, TRUTH_A_CLOCK_HLC_MAX_OFFSET, edge_u64(r));
		n = below(r, 3) ? below(r, 5) : below(r, 70);
		if (!below(r, 4)) {
			/* strictly ascending nodes: valid clocks up to and past the limit */
			for (i = 0; i < n; i++) {
				struct nlattr *v = tmsg_nest(m, TRUTH_A_CLOCK_VCLOCK);

				if (!v)
					break;
				tmsg_u32(m, TRUTH_A_VCLOCK_NODE, 2 + 3 * i + below(r, 3));
				tmsg_u64(m, TRUTH_A_VCLOCK_COUNTER, 1 + below(r, 1000));
				tmsg_nest_end(m, v);
			}
		} else {
			for (i = 0; i < n; i++)
				member_nest(m, r, TRUTH_A_CLOCK_VCLOCK, TRUTH_A_VCLOCK_NODE,
					    TRUTH_A_VCLOCK_COUNTER);
		}
		break;
	case TRUTH_CMD_STATS_GET:
	case TRUTH_CMD_STATS_RESET:
		if (below(r, 6))
			tmsg_u32(m, TRUTH_A_STATS_GROUP_ID, some_id(r));
		break;
	default:
		break;
	}
	if (!below(r, 8))
		random_attrs(m, r, 1, 1 + below(r, 2));
}

/* A valid request, then damaged. */
static void mutated(struct tmsg *m, struct rng *r, __u16 family)
{
	size_t base = NLMSG_HDRLEN + GENL_HDRLEN, body;
	int i, flips;

	switch (below(r, 4)) {
	case 0:
		tmsg_init_raw(m, family, TRUTH_CMD_GROUP_NEW, 0);
		tmsg_u32(m, TRUTH_A_GROUP_ID, some_id(r));
		tmsg_u32(m, TRUTH_A_GROUP_SELF, 1);
		tmsg_member(m, 1, 1);
		tmsg_member(m, 2, 1);
		tmsg_member(m, 3, 1);
		tmsg_u32(m, TRUTH_A_GROUP_ROLE, TRUTH_ROLE_LEADER);
		tmsg_u64(m, TRUTH_A_GROUP_TERM, 1);
		break;
	case 1:
		tmsg_init_raw(m, family, TRUTH_CMD_GROUP_SET, 0);
		tmsg_u32(m, TRUTH_A_GROUP_ID, some_id(r));
		tmsg_member(m, 1, 2);
		tmsg_member(m, 4, 1);
		tmsg_u64(m, TRUTH_A_GROUP_TERM, 2);
		tmsg_u64(m, TRUTH_A_GROUP_TERM_START, 5);
		break;
	case 2:
		tmsg_init_raw(m, family, TRUTH_CMD_GROUP_ACK, 0);
		tmsg_u32(m, TRUTH_A_GROUP_ID, some_id(r));
		tmsg_u64(m, TRUTH_A_GROUP_TERM, 1);
		tmsg_u64(m, TRUTH_A_GROUP_INDEX, below(r, 100));
		tmsg_u32(m, TRUTH_A_GROUP_NODE, 1 + below(r, 3));
		break;
	default: {
		struct nlattr *n;

		tmsg_init_raw(m, family, TRUTH_CMD_CLOCK_MERGE, 0);
		tmsg_u32(m, TRUTH_A_CLOCK_GROUP_ID, some_id(r));
		tmsg_u64(m, TRUTH_A_CLOCK_LAMPORT, below(r, 1000));
		for (i = 1; i <= 3; i++) {
			n = tmsg_nest(m, TRUTH_A_CLOCK_VCLOCK);
			tmsg_u32(m, TRUTH_A_VCLOCK_NODE, i);
			tmsg_u64(m, TRUTH_A_VCLOCK_COUNTER, 1 + below(r, 9));
			tmsg_nest_end(m, n);
		}
	}
	}
	body = m->nlh.nlmsg_len - base;
	flips = 1 + below(r, 6);
	for (i = 0; i < flips && body; i++) {
		size_t at = base + below(r, body);

		switch (below(r, 3)) {
		case 0:
			m->buf[at] ^= 1 << below(r, 8);
			break;
		case 1:
			m->buf[at] = (char)rnd(r);
			break;
		default:
			m->buf[at] = below(r, 2) ? 0 : (char)0xff;
			break;
		}
	}
	if (!below(r, 6))	/* cut the tail */
		m->nlh.nlmsg_len = base + below(r, body + 1);
}

/* Garbage after a genl header, odd versions and flags. */
static void random_msg(struct tmsg *m, struct rng *r, __u16 family)
{
	struct genlmsghdr *g;

	tmsg_init_raw(m, family, (__u8)below(r, TRUTH_CMD_MAX + 3),
		      below(r, 4) ? 0 : (NLM_F_DUMP & (__u16)rnd(r)));
	g = (struct genlmsghdr *)NLMSG_DATA(&m->nlh);
	if (!below(r, 4))
		g->version = (__u8)rnd(r);
	if (!below(r, 8))
		g->reserved = (__u16)rnd(r);
	if (below(r, 2)) {
		random_attrs(m, r, 3, 1 + below(r, 6));
	} else {
		size_t len = below(r, 300);

		for (size_t k = 0; k < len; k++)
			m->buf[m->nlh.nlmsg_len + k] = (char)rnd(r);
		m->nlh.nlmsg_len += len;
	}
}

/* Read whatever answers are waiting, counting acks and errors. */
static void drain(struct tnl *t, struct fuzz_stats *st)
{
	for (;;) {
		ssize_t n = recv(t->fd, t->rbuf, sizeof(t->rbuf), MSG_DONTWAIT);
		const struct nlmsghdr *nlh;
		int len;

		if (n < 0) {
			if (errno == EINTR || errno == ENOBUFS)
				continue;
			return;
		}
		len = (int)n;
		for (nlh = (const struct nlmsghdr *)t->rbuf; NLMSG_OK(nlh, len);
		     nlh = NLMSG_NEXT(nlh, len)) {
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				int err = -((const struct nlmsgerr *)NLMSG_DATA(nlh))->error;

				if (!err) {
					st->acked_ok++;
				} else {
					st->rejected++;
					if (err > 0 && err < 140)
						st->errno_hist[err]++;
				}
			} else if (nlh->nlmsg_type != NLMSG_DONE) {
				st->replies++;
			}
		}
	}
}

/* The family answers version, and a group's life cycle behaves. */
static int still_correct(struct tnl *t, __u32 id)
{
	struct tgroup g;
	struct tmsg m;

	tmsg_init(&m, t, TRUTH_CMD_GET_VERSION, 0);
	if (tnl_talk(t, &m, NULL, NULL))
		return -1;
	truth_group_remove(t, id);
	if (truth_group_add(t, id, 3, 1) || truth_ack(t, id, 1, 0, 7) ||
	    truth_ack(t, id, 1, 3, 5))
		return -2;
	if (truth_group_get(t, id, &g) || g.commit != 5 || g.n_members != 3)
		return -3;
	if (truth_group_remove(t, id) || truth_group_get(t, id, &g) != -ENOENT)
		return -4;
	return 0;
}

static void fuzz_worker(struct fuzz_stats *st, uint64_t seed, unsigned long count)
{
	struct rng r = { .s = seed | 1 };
	static struct tmsg m;
	struct tnl *t = malloc(sizeof(*t));
	unsigned long i;

	if (!t || tnl_open(t))
		_exit(1);
	for (i = 0; i < count; i++) {
		unsigned int kind = below(&r, 10);

		if (kind < 6)
			structured(&m, &r, t->family);
		else if (kind < 9)
			mutated(&m, &r, t->family);
		else
			random_msg(&m, &r, t->family);
		m.nlh.nlmsg_flags |= NLM_F_ACK;
		m.nlh.nlmsg_seq = ++t->seq;
		if (send(t->fd, m.buf, m.nlh.nlmsg_len < NLMSG_HDRLEN ? NLMSG_HDRLEN :
			 m.nlh.nlmsg_len, 0) >= 0)
			st->sent++;
		drain(t, st);
	}
	drain(t, st);
	/* a fresh socket: the fuzzing one may have a dump still open */
	tnl_close(t);
	if (tnl_open(t))
		_exit(2);
	st->after_ok = still_correct(t, 0xabc0 + (unsigned int)(seed % 7)) == 0;
	tnl_close(t);
	free(t);
	_exit(0);
}

FIXTURE(fuzz) {
	int unused;
};

FIXTURE_SETUP(fuzz)
{
}

FIXTURE_TEARDOWN(fuzz)
{
}

TEST_F_TIMEOUT(fuzz, the_family_then_it_still_answers, 180)
{
	struct fuzz_stats *st;
	const char *env = getenv("TRUTH_SEED");
	uint64_t seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL);
	unsigned long total = 200000, sent = 0, ok = 0, rej = 0, replies = 0;
	int i, status;
	pid_t ns;
	struct tnl t;

	env = getenv("TRUTH_FUZZ_MESSAGES");
	if (env)
		total = strtoul(env, NULL, 0);
	TH_LOG("seed %llu (TRUTH_SEED replays), %lu messages, %d workers",
	       (unsigned long long)seed, total, WORKERS);
	st = mmap(NULL, sizeof(*st) * WORKERS, PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, st);
	memset(st, 0, sizeof(*st) * WORKERS);

	/* one namespace for the fuzzers, torn down with what they built */
	ns = fork();
	ASSERT_LE(0, ns);
	if (ns == 0) {
		pid_t w[WORKERS];
		int bad = 0;

		if (unshare(CLONE_NEWNET))
			_exit(10);
		for (i = 0; i < WORKERS; i++) {
			w[i] = fork();
			if (w[i] == 0) {
				cpu_set_t set;

				CPU_ZERO(&set);
				CPU_SET(i % sysconf(_SC_NPROCESSORS_ONLN), &set);
				sched_setaffinity(0, sizeof(set), &set);
				fuzz_worker(&st[i], seed * 7919 + i, total / WORKERS);
			}
		}
		for (i = 0; i < WORKERS; i++) {
			if (waitpid(w[i], &status, 0) != w[i] || !WIFEXITED(status) ||
			    WEXITSTATUS(status))
				bad++;
		}
		_exit(bad ? 11 : 0);
	}
	ASSERT_EQ(ns, waitpid(ns, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));

	for (i = 0; i < WORKERS; i++) {
		sent += st[i].sent;
		ok += st[i].acked_ok;
		rej += st[i].rejected;
		replies += st[i].replies;
		EXPECT_TRUE(st[i].after_ok) TH_LOG("worker %d: family misbehaves after fuzzing", i);
	}
	TH_LOG("fuzzer: %lu messages sent, %lu accepted, %lu rejected, %lu replies",
	       sent, ok, rej, replies);
	TH_LOG("fuzzer: rejections EINVAL %lu ERANGE %lu ENOENT %lu EEXIST %lu E2BIG %lu ENOSPC %lu ESTALE %lu EOPNOTSUPP %lu",
	       st[0].errno_hist[EINVAL] + st[1].errno_hist[EINVAL],
	       st[0].errno_hist[ERANGE] + st[1].errno_hist[ERANGE],
	       st[0].errno_hist[ENOENT] + st[1].errno_hist[ENOENT],
	       st[0].errno_hist[EEXIST] + st[1].errno_hist[EEXIST],
	       st[0].errno_hist[E2BIG] + st[1].errno_hist[E2BIG],
	       st[0].errno_hist[ENOSPC] + st[1].errno_hist[ENOSPC],
	       st[0].errno_hist[ESTALE] + st[1].errno_hist[ESTALE],
	       st[0].errno_hist[EOPNOTSUPP] + st[1].errno_hist[EOPNOTSUPP]);
	printf("# fuzzer message count: %lu\n", sent);
	EXPECT_LE(total, sent);
	EXPECT_LT(0, ok);

	/* and the initial namespace is fine too */
	ASSERT_EQ(0, tnl_open(&t));
	EXPECT_EQ(0, still_correct(&t, 0xabcd));
	tnl_close(&t);
	munmap(st, sizeof(*st) * WORKERS);
}

TEST_HARNESS_MAIN
