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

/*
 * Acks racing configuration changes and deletion: while threads on every
 * CPU ack, another thread changes the threshold, the members, the term and
 * the role, and deletes and recreates the group.  Each ack may be refused
 * only for the documented reasons (no group, stale term, not leader, not a
 * member); afterwards the commit index is at least what the rule gives for
 * the final configuration and match indexes (it may be more: an earlier,
 * lower threshold may have committed further, and it never moves back).
 */
static volatile int race_stop;
static volatile __u64 race_term = 1;

struct racer {
	pthread_t th;
	int cpu;
	unsigned long acks, refused;
	int bad;		/* an errno outside the documented set */
};

static void *race_acker(void *arg)
{
	struct racer *w = arg;
	uint64_t s = (uint64_t)(uintptr_t)w | 1;
	cpu_set_t set;
	struct tnl *t;
	__u64 idx = 1;

	CPU_ZERO(&set);
	CPU_SET(w->cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
	t = malloc(sizeof(*t));
	if (!t || tnl_open(t)) {
		w->bad = -1;
		free(t);
		return NULL;
	}
	while (!race_stop) {
		int ret = truth_ack(t, GID, race_term, 1 + xorshift(&s) % 6, idx++);

		if (!ret)
			w->acks++;
		else if (ret == -ENOENT || ret == -ESTALE || ret == -EINVAL)
			w->refused++;
		else
			w->bad = ret;
	}
	tnl_close(t);
	free(t);
	return NULL;
}

FIXTURE(race) {
	struct tnl t;
};

FIXTURE_SETUP(race)
{
	ASSERT_EQ(0, tnl_open(&self->t));
	truth_group_remove(&self->t, GID);
}

FIXTURE_TEARDOWN(race)
{
	truth_group_remove(&self->t, GID);
	tnl_close(&self->t);
}

TEST_F_TIMEOUT(race, acks_race_set_and_delete, 120)
{
	int ncpu = sysconf(_SC_NPROCESSORS_ONLN), n = ncpu * 2, i, round;
	unsigned long acks = 0, refused = 0;
	struct truth_quorum_member qm[TRUTH_GROUP_MEMBERS_MAX];
	struct racer *w = calloc(n, sizeof(*w));
	struct tgroup g;
	struct tmsg m;
	__u32 j;

	ASSERT_NE(NULL, w);
	race_stop = 0;
	race_term = 1;
	ASSERT_EQ(0, truth_group_add(&self->t, GID, 5, 1));
	for (i = 0; i < n; i++) {
		w[i].cpu = i % ncpu;
		ASSERT_EQ(0, pthread_create(&w[i].th, NULL, race_acker, &w[i]));
	}
	for (round = 0; round < 300; round++) {
		tmsg_init(&m, &self->t, TRUTH_CMD_GROUP_SET, 0);
		tmsg_u32(&m, TRUTH_A_GROUP_ID, GID);
		switch (round % 6) {
		case 0:
			tmsg_u64(&m, TRUTH_A_GROUP_THRESHOLD, 1 + round % 5);
			break;
		case 1:
			for (j = 1; j <= 4 + round % 3; j++)
				tmsg_member(&m, j, 1 + j % 2);
			break;
		case 2:
			tmsg_u64(&m, TRUTH_A_GROUP_TERM, race_term + 1);
			tmsg_u64(&m, TRUTH_A_GROUP_TERM_START, 1);
			break;
		case 3:
			tmsg_u32(&m, TRUTH_A_GROUP_ROLE, round % 2 ? TRUTH_ROLE_FOLLOWER : TRUTH_ROLE_LEADER);
			break;
		case 4:
			tmsg_u32(&m, TRUTH_A_GROUP_ROLE, TRUTH_ROLE_LEADER);
			tmsg_u32(&m, TRUTH_A_GROUP_FLAGS, TRUTH_GROUP_F_RESET_MATCH);
			break;
		default:
			ASSERT_EQ(0, truth_group_remove(&self->t, GID));
			race_term = 1;
			ASSERT_EQ(0, truth_group_add(&self->t, GID, 5, 1));
			continue;
		}
		ASSERT_EQ(0, tnl_talk(&self->t, &m, NULL, NULL)) TH_LOG("round %d: %s", round,
									 self->t.ext_msg);
		if (round % 6 == 2)
			race_term++;
	}
	race_stop = 1;
	for (i = 0; i < n; i++) {
		pthread_join(w[i].th, NULL);
		EXPECT_EQ(0, w[i].bad);
		acks += w[i].acks;
		refused += w[i].refused;
	}
	ASSERT_EQ(0, truth_group_get(&self->t, GID, &g));
	for (j = 0; j < g.n_members; j++) {
		qm[j].id = g.members[j].node;
		qm[j].weight = g.members[j].weight;
		qm[j].match = g.members[j].match;
	}
	EXPECT_LE(truth_quorum_commit(qm, g.n_members, g.threshold, g.term_start, 0), g.commit);
	TH_LOG("%lu acks counted, %lu refused as documented, 300 configuration changes",
	       acks, refused);
	EXPECT_LT(0, acks);
	free(w);
}

TEST_HARNESS_MAIN
