// SPDX-License-Identifier: GPL-2.0
/*
 * No event of a group outlives the group.  One thread deletes and
 * re-creates the same group id over and over, each incarnation in a term of
 * its own (incarnation k is in term k), while threads on every CPU ack into
 * whatever incarnation is current.  A listener counts the GROUP_DEL events
 * of the id: once it has seen k of them, an event carrying a term <= k
 * belongs to a deleted incarnation and must never arrive.  A CPU that
 * computed a commit event before the delete used to send it after the
 * GROUP_DEL event (and after the id was re-created).
 */

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>

#include "kselftest_harness.h"
#include "test_netlink_lib.h"

#define GID		650
#define RUN_SECONDS	4

static __u64 cur_term;		/* term of the current incarnation, 0: none */
static volatile int stop;

struct acker {
	pthread_t th;
	int cpu;
	uint64_t seed;
	unsigned long acks;
	int err;
};

static void *ack_worker(void *arg)
{
	struct acker *a = arg;
	cpu_set_t set;
	struct tnl t;
	__u64 idx = 0;

	CPU_ZERO(&set);
	CPU_SET(a->cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
	if (tnl_open(&t)) {
		a->err = -1;
		return NULL;
	}
	while (!stop) {
		__u64 term = __atomic_load_n(&cur_term, __ATOMIC_ACQUIRE);

		a->seed ^= a->seed >> 12;
		a->seed ^= a->seed << 25;
		a->seed ^= a->seed >> 27;
		/* refused acks (group just deleted, stale term) are expected */
		if (term && !truth_ack(&t, GID, term, 1 + a->seed % 3, ++idx))
			a->acks++;
	}
	tnl_close(&t);
	return NULL;
}

struct listener {
	pthread_t th;
	struct tnl *ev;
	volatile int done;	/* set once the writers stopped: drain, then return */
	unsigned long events, dels, stale;
	__u64 stale_term, stale_dels;
	int stale_cmd;
	int lost;		/* the socket overflowed: some events unseen */
};

static void *listen_worker(void *arg)
{
	const struct nlattr *tb[TNL_MAXATTR + 1];
	struct listener *l = arg;
	static char buf[8192];
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;

	for (;;) {
		int cmd = tnl_event(l->ev, 100, buf, sizeof(buf));
		__u64 term;

		if (cmd == -ENOBUFS) {
			l->lost = 1;
			continue;
		}
		if (cmd == 0 && l->done)
			return NULL;
		if (cmd <= 0)
			continue;
		tnl_parse(tnl_attrs(nlh), tnl_attrs_len(nlh), tb);
		if (!tb[TRUTH_A_GROUP_ID] || tnl_u32(tb[TRUTH_A_GROUP_ID]) != GID)
			continue;
		l->events++;
		if (cmd == TRUTH_CMD_EVENT_GROUP_DEL) {
			l->dels++;
			continue;
		}
		if (!tb[TRUTH_A_GROUP_TERM])
			continue;
		term = tnl_u64(tb[TRUTH_A_GROUP_TERM]);
		if (term <= l->dels) {
			if (!l->stale++) {
				l->stale_cmd = cmd;
				l->stale_term = term;
				l->stale_dels = l->dels;
			}
		}
	}
}

FIXTURE(order) {
	struct tnl t, ev;
};

FIXTURE_SETUP(order)
{
	ASSERT_EQ(0, tnl_open(&self->t));
	ASSERT_EQ(0, tnl_open(&self->ev));
	ASSERT_EQ(0, tnl_listen(&self->ev));
	/* room for a few seconds of events (root in the VM may exceed rmem_max) */
	setsockopt(self->ev.fd, SOL_SOCKET, SO_RCVBUFFORCE, &(int){ 32 << 20 }, sizeof(int));
	truth_group_remove(&self->t, GID);
}

FIXTURE_TEARDOWN(order)
{
	truth_group_remove(&self->t, GID);
	tnl_close(&self->ev);
	tnl_close(&self->t);
}

TEST_F_TIMEOUT(order, no_event_of_an_incarnation_after_its_group_del, 60)
{
	int ncpu = sysconf(_SC_NPROCESSORS_ONLN), nthreads, i;
	struct listener l = { .ev = &self->ev };
	unsigned long acks = 0;
	struct timespec t0, now;
	struct acker *a;
	__u64 k;

	nthreads = ncpu * 3 < 6 ? 6 : ncpu * 3;
	a = calloc(nthreads, sizeof(*a));
	ASSERT_NE(NULL, a);
	ASSERT_EQ(0, pthread_create(&l.th, NULL, listen_worker, &l));
	for (i = 0; i < nthreads; i++) {
		a[i].cpu = i % ncpu;
		a[i].seed = (uint64_t)time(NULL) * 1000003ULL + i + 1;
		ASSERT_EQ(0, pthread_create(&a[i].th, NULL, ack_worker, &a[i]));
	}

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (k = 1;; k++) {
		ASSERT_EQ(0, truth_group_add(&self->t, GID, 3, k));
		__atomic_store_n(&cur_term, k, __ATOMIC_RELEASE);
		usleep(500);
		ASSERT_EQ(0, truth_group_remove(&self->t, GID));
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec >= RUN_SECONDS)
			break;
	}
	stop = 1;
	for (i = 0; i < nthreads; i++) {
		pthread_join(a[i].th, NULL);
		EXPECT_EQ(0, a[i].err);
		acks += a[i].acks;
	}
	l.done = 1;
	pthread_join(l.th, NULL);
	free(a);

	TH_LOG("%d threads, %llu incarnations, %lu acks accepted, %lu events, %lu deletes%s",
	       nthreads, (unsigned long long)k, acks, l.events, l.dels,
	       l.lost ? " (listener overflowed: some events unseen)" : "");
	EXPECT_LT(0, acks);
	EXPECT_EQ(0, l.stale) {
		TH_LOG("%lu stale events; first: cmd %d term %llu after %llu deletes",
		       l.stale, l.stale_cmd, (unsigned long long)l.stale_term,
		       (unsigned long long)l.stale_dels);
	}
}

TEST_HARNESS_MAIN
