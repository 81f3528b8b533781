// SPDX-License-Identifier: GPL-2.0
/*
 * Acknowledgements from many threads pinned to every CPU at once, each on
 * its own netlink socket.  Afterwards every member's match index must be the
 * largest index acked for it, the commit index exactly what the quorum rule
 * (include/truth/quorum.h, the same code, run here in user space) gives for
 * those match indexes, the ack counter the number of acks sent, and the
 * commit events a listener saw strictly increasing, ending at the final
 * commit index, and no more numerous than the advances.
 */

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>

#include <truth/quorum.h>

#include "kselftest_harness.h"
#include "test_netlink_lib.h"

#define GID		500
#define ACKS_PER_THREAD	1500

struct worker {
	pthread_t th;
	int cpu;
	unsigned int n_members;
	uint64_t seed;
	__u64 max_acked[TRUTH_GROUP_MEMBERS_MAX];	/* per member slot */
	unsigned long sent;
	int err;
};

static pthread_barrier_t start;

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static void *ack_worker(void *arg)
{
	struct worker *w = arg;
	cpu_set_t set;
	struct tnl *t;
	unsigned long i;

	CPU_ZERO(&set);
	CPU_SET(w->cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
	t = malloc(sizeof(*t));
	if (!t || tnl_open(t)) {
		w->err = -1;
		pthread_barrier_wait(&start);
		free(t);
		return NULL;
	}
	pthread_barrier_wait(&start);
	for (i = 0; i < ACKS_PER_THREAD; i++) {
		unsigned int slot = xorshift(&w->seed) % w->n_members;
		/* indexes grow over time, with jitter so acks also go "back" */
		__u64 idx = 1 + i * 4 + xorshift(&w->seed) % 64;
		int ret = truth_ack(t, GID, 1, slot + 1, idx);

		if (ret) {
			w->err = ret;
			break;
		}
		w->sent++;
		if (idx > w->max_acked[slot])
			w->max_acked[slot] = idx;
	}
	tnl_close(t);
	free(t);
	return NULL;
}

struct listener {
	pthread_t th;
	struct tnl *ev;
	volatile int stop;
	unsigned long events;
	__u64 last;
	int out_of_order;
	int lost;		/* the socket overflowed: some events unseen */
};

static void *listen_worker(void *arg)
{
	const struct nlattr *tb[TNL_MAXATTR + 1];
	struct listener *l = arg;
	static char buf[8192];
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;

	while (!l->stop) {
		int cmd = tnl_event(l->ev, 50, buf, sizeof(buf));
		__u64 c;

		if (cmd == -ENOBUFS) {
			l->lost = 1;
			continue;
		}
		if (cmd != TRUTH_CMD_EVENT_COMMIT)
			continue;
		tnl_parse(tnl_attrs(nlh), tnl_attrs_len(nlh), tb);
		if (!tb[TRUTH_A_GROUP_COMMIT])
			continue;
		c = tnl_u64(tb[TRUTH_A_GROUP_COMMIT]);
		if (c <= l->last)
			l->out_of_order++;
		l->last = c;
		l->events++;
	}
	return NULL;
}

FIXTURE(conc) {
	struct tnl t, ev;
};

FIXTURE_VARIANT(conc) {
	unsigned int n_members;
	int weighted;		/* random weights and threshold, else majority */
};

FIXTURE_VARIANT_ADD(conc, majority_of_5) { .n_members = 5 };
FIXTURE_VARIANT_ADD(conc, stake_weighted_16) { .n_members = 16, .weighted = 1 };
FIXTURE_VARIANT_ADD(conc, weighted_64) { .n_members = 64, .weighted = 1 };

FIXTURE_SETUP(conc)
{
	ASSERT_EQ(0, tnl_open(&self->t));
	ASSERT_EQ(0, tnl_open(&self->ev));
	ASSERT_EQ(0, tnl_listen(&self->ev));
	truth_group_remove(&self->t, GID);
}

FIXTURE_TEARDOWN(conc)
{
	truth_group_remove(&self->t, GID);
	tnl_close(&self->ev);
	tnl_close(&self->t);
}

TEST_F_TIMEOUT(conc, all_cpus_ack_at_once_and_commit_is_exact, 120)
{
	struct truth_quorum_member qm[TRUTH_GROUP_MEMBERS_MAX];
	int ncpu = sysconf(_SC_NPROCESSORS_ONLN), nthreads, i;
	uint64_t seed = (uint64_t)time(NULL), s = seed;
	unsigned int n = variant->n_members, j;
	struct listener l = { .ev = &self->ev };
	unsigned long sent = 0;
	__u64 total = 0, threshold, want;
	struct worker *w;
	struct tstats st;
	struct tgroup g;
	struct tmsg m;

	nthreads = ncpu * 4;
	TH_LOG("seed %llu, %d CPUs, %d threads, %u members", (unsigned long long)seed,
	       ncpu, nthreads, n);

	tmsg_init(&m, &self->t, TRUTH_CMD_GROUP_NEW, 0);
	tmsg_u32(&m, TRUTH_A_GROUP_ID, GID);
	tmsg_u32(&m, TRUTH_A_GROUP_SELF, 1);
	for (j = 0; j < n; j++) {
		qm[j].id = j + 1;
		qm[j].weight = variant->weighted ? 1 + xorshift(&s) % 100 : 1;
		qm[j].match = 0;
		total += qm[j].weight;
		tmsg_member(&m, qm[j].id, qm[j].weight);
	}
	threshold = variant->weighted ? 1 + xorshift(&s) % total : total / 2 + 1;
	tmsg_u64(&m, TRUTH_A_GROUP_THRESHOLD, threshold);
	tmsg_u64(&m, TRUTH_A_GROUP_TERM, 1);
	tmsg_u64(&m, TRUTH_A_GROUP_TERM_START, 1);
	tmsg_u32(&m, TRUTH_A_GROUP_ROLE, TRUTH_ROLE_LEADER);
	ASSERT_EQ(0, tnl_talk(&self->t, &m, NULL, NULL)) TH_LOG("%s", self->t.ext_msg);

	w = calloc(nthreads, sizeof(*w));
	ASSERT_NE(NULL, w);
	ASSERT_EQ(0, pthread_barrier_init(&start, NULL, nthreads + 1));
	ASSERT_EQ(0, pthread_create(&l.th, NULL, listen_worker, &l));
	for (i = 0; i < nthreads; i++) {
		w[i].cpu = i % ncpu;
		w[i].n_members = n;
		w[i].seed = seed * 1000003ULL + i + 1;
		ASSERT_EQ(0, pthread_create(&w[i].th, NULL, ack_worker, &w[i]));
	}
	pthread_barrier_wait(&start);
	for (i = 0; i < nthreads; i++) {
		pthread_join(w[i].th, NULL);
		EXPECT_EQ(0, w[i].err);
		sent += w[i].sent;
		for (j = 0; j < n; j++)
			if (w[i].max_acked[j] > qm[j].match)
				qm[j].match = w[i].max_acked[j];
	}
	/* every event was sent before its ack returned: none can be pending */
	usleep(200000);
	l.stop = 1;
	pthread_join(l.th, NULL);

	ASSERT_EQ(0, truth_group_get(&self->t, GID, &g));
	ASSERT_EQ(n, g.n_members);
	for (j = 0; j < n; j++)
		EXPECT_EQ(qm[j].match, g.members[j].match) TH_LOG("member %u", j + 1);
	want = truth_quorum_commit(qm, n, threshold, 1, 0);
	EXPECT_EQ(want, g.commit);
	ASSERT_EQ(0, truth_stats(&self->t, GID, &st));
	EXPECT_EQ(sent, st.acks);
	EXPECT_EQ((unsigned long)nthreads * ACKS_PER_THREAD, sent);
	EXPECT_EQ(0, st.acks_stale);
	EXPECT_LE(st.events, st.advances);
	EXPECT_LT(0, st.events);
	EXPECT_EQ(0, l.out_of_order);
	if (!l.lost) {
		EXPECT_EQ(st.events, l.events);
		EXPECT_EQ(want, l.last);
	}
	TH_LOG("%lu acks, commit %llu, %llu advances, %llu events sent, %lu seen%s",
	       sent, (unsigned long long)g.commit, (unsigned long long)st.advances,
	       (unsigned long long)st.events, l.events,
	       l.lost ? " (listener overflowed)" : "");
	free(w);
}

TEST_HARNESS_MAIN
