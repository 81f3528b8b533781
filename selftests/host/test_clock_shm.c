// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of the clockbound page (include/truth/clockbound.h, writer in
 * agent/clock/clock_shm.c):
 *
 *  - what a reader computes from the page matches the library's now() to
 *    the ns (the page stores midpoint +- epsilon, rounded outwards by at
 *    most 1 ns), including the FREE_RUNNING switch;
 *  - a page that is not one (bad magic, version) is refused;
 *  - mapped read-only from a file, read with the real CLOCK_MONOTONIC_RAW:
 *    the bound contains CLOCK_REALTIME;
 *  - a writer thread updating as fast as it can and a reader thread
 *    reading as fast as it can for 1-5 s: every snapshot is one the writer
 *    wrote (fields tied by a relation a torn read would break).
 *
 * TRUTH_SEED=<n> replays the random part.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "clock/clock.h"

#include "kselftest_harness.h"

#define SEC	1000000000LL

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static int64_t rnd_below(int64_t n)
{
	return n > 0 ? (int64_t)(rnd() % (uint64_t)n) : 0;
}

static int64_t rnd_sym(int64_t a)
{
	return rnd_below(2 * a + 1) - a;
}

TEST(reader_matches_library)
{
	static struct truth_clockbound_page page;
	const char *env = getenv("TRUTH_SEED");
	uint64_t seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL);
	struct truth_clockbound_snapshot snap;
	struct truth_clockbound_now sn;
	struct truth_clock_now ln;
	unsigned long i;

	rng_state = seed ? seed : 1;
	ksft_print_msg("seed %llu\n", (unsigned long long)seed);
	truth_clock_shm_init(&page, CLOCK_MONOTONIC_RAW);
	ASSERT_EQ(0, truth_clock_shm_read(&page, &snap));
	EXPECT_EQ(TRUTH_CLOCK_UNKNOWN, snap.status);
	EXPECT_EQ(TRUTH_CLOCK_UNKNOWN, truth_clock_shm_now(&page, 5, &sn));
	EXPECT_EQ(INT64_MIN, sn.earliest);
	EXPECT_EQ(INT64_MAX, sn.latest);
	for (i = 0; i < 200000; i++) {
		struct truth_clock_estimate e = { 0 };
		int64_t o = rnd_sym(1700000000LL * SEC), l;

		e.as_of = rnd_below(1000000 * SEC);
		e.offset.lo = o - rnd_below(10000000);
		e.offset.hi = o + rnd_below(10000000);
		e.max_drift_ppb = (uint32_t)rnd_below(1000001);
		e.status = TRUTH_CLOCK_SYNCHRONISED;
		e.fresh = e.as_of - rnd_below(20 * SEC);
		e.sync_timeout = rnd_below(16 * SEC);
		truth_clock_shm_write(&page, &e);
		l = e.as_of + rnd_sym(i % 2 ? 30 * SEC : 3600 * SEC);
		ASSERT_EQ(0, truth_clock_shm_read(&page, &snap));
		ASSERT_EQ(0, snap.seq & 1);
		ASSERT_EQ(CLOCK_MONOTONIC_RAW, snap.clock_id);
		truth_clock_estimate_now(&e, l, &ln);
		ASSERT_LE(0, truth_clock_shm_now(&page, l, &sn));
		/* same bound, widened by at most the 1 ns of the midpoint */
		ASSERT_LE(sn.earliest, ln.earliest);
		ASSERT_GE(sn.latest, ln.latest);
		ASSERT_LE(ln.earliest - sn.earliest, 1);
		ASSERT_LE(sn.latest - ln.latest, 1);
		/* same status (after as_of; before it both say synchronised) */
		if (l >= e.as_of)
			ASSERT_EQ(ln.status, sn.status) TH_LOG("case %lu", i);
	}
	/* a page that is not a truth clockbound page is refused */
	page.version = TRUTH_CLOCKBOUND_VERSION + 1;
	EXPECT_EQ(-EPROTO, truth_clock_shm_read(&page, &snap));
	page.version = TRUTH_CLOCKBOUND_VERSION;
	atomic_store(&page.magic, 0);
	EXPECT_EQ(-EPROTO, truth_clock_shm_now(&page, 0, &sn));
	/* a writer that died mid-update: the reader gives up, not spins */
	truth_clock_shm_init(&page, CLOCK_MONOTONIC_RAW);
	atomic_store(&page.seq, 7);
	EXPECT_EQ(-EAGAIN, truth_clock_shm_read(&page, &snap));
}

static int64_t read_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec * SEC + ts.tv_nsec;
}

TEST(mapped_page_with_real_clock)
{
	char path[] = "/tmp/truth-clockbound-XXXXXX";
	struct truth_clockbound_page *w;
	const struct truth_clockbound_page *r;
	struct truth_clock_estimate e = { 0 };
	struct truth_clockbound_now n;
	int64_t raw, real, raw2;
	int fd = mkstemp(path);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, sizeof(*w)));
	w = mmap(NULL, sizeof(*w), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, w);
	close(fd);

	errno = 0;
	r = truth_clock_shm_map(path);	/* not initialised yet: refused */
	EXPECT_EQ(NULL, r);
	EXPECT_EQ(EPROTO, errno);
	truth_clock_shm_init(w, CLOCK_MONOTONIC_RAW);
	r = truth_clock_shm_map(path);
	ASSERT_NE(NULL, r);

	/* an estimate of REALTIME - MONOTONIC_RAW good to a millisecond */
	raw = read_ns(CLOCK_MONOTONIC_RAW);
	real = read_ns(CLOCK_REALTIME);
	raw2 = read_ns(CLOCK_MONOTONIC_RAW);
	e.as_of = raw2;
	e.offset.lo = real - raw2 - 1000000;
	e.offset.hi = real - raw + 1000000;
	e.max_drift_ppb = TRUTH_CLOCK_DEFAULT_MAX_DRIFT_PPB;
	e.status = TRUTH_CLOCK_SYNCHRONISED;
	e.fresh = raw2;
	e.sync_timeout = 8 * SEC;
	truth_clock_shm_write(w, &e);

	ASSERT_EQ(TRUTH_CLOCK_SYNCHRONISED, truth_clock_shm_now_clock(r, &n));
	real = read_ns(CLOCK_REALTIME);
	EXPECT_LE(n.earliest, real);
	EXPECT_GE(n.latest + 10000000, real);	/* read after: within 10 ms */
	EXPECT_LT(n.epsilon, 2000000);
	ksft_print_msg("page: epsilon %.1f us, REALTIME - earliest %.1f us\n",
		       n.epsilon / 1e3, (real - n.earliest) / 1e3);
	munmap((void *)r, sizeof(*r));
	munmap(w, sizeof(*w));
	unlink(path);
}

/* --------------------------------------------------------- concurrency */

struct race {
	struct truth_clockbound_page *page;
	atomic_bool stop;		/* tells the writer to finish */
	uint64_t writes;		/* updates the writer made */
};

/*
 * Update k has as_of = k, midpoint 7k, epsilon k % 1000 + 1, timeout k,
 * drift k % 100000, status k & 1: a read mixing two updates breaks this.
 */
static void estimate_k(uint64_t k, struct truth_clock_estimate *e)
{
	int64_t w = (int64_t)(k % 1000) + 1;

	memset(e, 0, sizeof(*e));
	e->as_of = (int64_t)k;
	e->fresh = (int64_t)k;
	e->offset.lo = 7 * (int64_t)k - w;
	e->offset.hi = 7 * (int64_t)k + w;
	e->sync_timeout = (int64_t)k;
	e->max_drift_ppb = (uint32_t)(k % 100000);
	e->status = k & 1 ? TRUTH_CLOCK_SYNCHRONISED : TRUTH_CLOCK_UNKNOWN;
}

static bool snapshot_is_k(const struct truth_clockbound_snapshot *s)
{
	uint64_t k = (uint64_t)s->as_of;

	return s->offset == 7 * (int64_t)k &&
	       s->epsilon == k % 1000 + 1 && s->sync_timeout == k &&
	       s->max_drift_ppb == k % 100000 &&
	       s->status == (k & 1 ? TRUTH_CLOCK_SYNCHRONISED :
			     TRUTH_CLOCK_UNKNOWN) &&
	       s->clock_id == CLOCK_MONOTONIC_RAW && !(s->seq & 1);
}

static void *writer(void *arg)
{
	struct race *r = arg;
	struct truth_clock_estimate e;
	uint64_t k = 1;

	while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
		estimate_k(k++, &e);
		truth_clock_shm_write(r->page, &e);
	}
	r->writes = k - 1;
	return NULL;
}

TEST(no_torn_reads_under_a_concurrent_writer)
{
	static struct truth_clockbound_page page;
	struct race r = { .page = &page };
	struct truth_clockbound_snapshot s;
	uint64_t reads = 0, torn = 0, changes = 0, naive = 0, naive_torn = 0;
	int64_t last = -1, t0, now;
	pthread_t th;

	truth_clock_shm_init(&page, CLOCK_MONOTONIC_RAW);
	atomic_init(&r.stop, false);
	ASSERT_EQ(0, pthread_create(&th, NULL, writer, &r));
	/*
	 * 1 s at least; then until the reader has seen 20000 updates land
	 * under it (on a loaded machine the two threads run truly in
	 * parallel only part of the time), 5 s at most.
	 */
	t0 = read_ns(CLOCK_MONOTONIC);
	for (now = t0; now - t0 < 5 * SEC &&
	     (now - t0 < SEC || changes < 20000); now = read_ns(CLOCK_MONOTONIC)) {
		int i;

		for (i = 0; i < 1000; i++) {
			int ret = truth_clock_shm_read(&page, &s);

			if (ret == -EAGAIN)
				continue;	/* writer kept it odd: retry */
			ASSERT_EQ(0, ret);
			reads++;
			if (!s.as_of)
				continue;	/* before the first update */
			torn += !snapshot_is_k(&s);
			changes += s.as_of != last;
			last = s.as_of;
		}
		/* control: the same loads without the seqlock protocol */
		for (i = 0; i < 100; i++) {
			s.as_of = atomic_load_explicit(&page.as_of,
						       memory_order_relaxed);
			s.offset = atomic_load_explicit(&page.offset,
							memory_order_relaxed);
			s.epsilon = atomic_load_explicit(&page.epsilon,
							 memory_order_relaxed);
			s.sync_timeout = atomic_load_explicit(&page.sync_timeout,
							      memory_order_relaxed);
			s.max_drift_ppb = atomic_load_explicit(&page.max_drift_ppb,
							       memory_order_relaxed);
			s.status = atomic_load_explicit(&page.status,
							memory_order_relaxed);
			s.clock_id = CLOCK_MONOTONIC_RAW;
			s.seq = 0;
			naive++;
			naive_torn += s.as_of && !snapshot_is_k(&s);
		}
	}
	atomic_store(&r.stop, true);
	ASSERT_EQ(0, pthread_join(th, NULL));
	ksft_print_msg("%.1f s: %llu writes, %llu seqlock reads (%llu saw a new value), %llu torn; unprotected control: %llu/%llu torn\n",
		       (now - t0) / 1e9,
		       (unsigned long long)r.writes, (unsigned long long)reads,
		       (unsigned long long)changes, (unsigned long long)torn,
		       (unsigned long long)naive_torn,
		       (unsigned long long)naive);
	EXPECT_EQ(0, torn);
	/* the race really ran: updates landed while the reader was reading */
	EXPECT_GT(r.writes, 10000);
	EXPECT_GT(changes, 20);
}

TEST_HARNESS_MAIN
