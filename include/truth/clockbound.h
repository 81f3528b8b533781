/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * truth clockbound: read truthd's clock error bound from a shared-memory
 * page without a system call (the design of AWS ClockBound).
 *
 * truthd estimates the offset of this host's clock from true time as an
 * interval and publishes it in a read-only page (TRUTH_CLOCKBOUND_PATH).
 * Any local program maps the page and calls truth_clock_shm_now(), which
 * returns [earliest, latest], guaranteed to contain true time while the
 * model's assumptions hold (Documentation/clock.md):
 *
 *	const struct truth_clockbound_page *p = truth_clock_shm_map(NULL);
 *	struct truth_clockbound_now n;
 *
 *	if (p && truth_clock_shm_now_clock(p, &n) == TRUTH_CLOCK_SYNCHRONISED)
 *		use n.earliest, n.latest (ns on the reference timescale:
 *		since the Unix epoch, as CLOCK_REALTIME counts);
 *
 * The page holds the last estimate: at local clock reading as_of (on clock
 * clock_id, normally CLOCK_MONOTONIC_RAW, which is never stepped or slewed,
 * so its rate error is the oscillator's alone), true time minus local time
 * was within offset +- epsilon.  Between estimates the offset can move by at
 * most max_drift per unit of time, so at local reading T:
 *
 *	g       = growth(|T - as_of|)		(dt max_drift / (1 - max_drift),
 *						 rounded up, + 1 ns for the
 *						 integer readings:
 *						 truth_clockbound_growth())
 *	earliest = T + offset - epsilon - g
 *	latest   = T + offset + epsilon + g
 *
 * and the status reads FREE_RUNNING once T - as_of exceeds sync_timeout
 * (truthd stopped getting fresh agreement, or died): the bound is still
 * valid, just growing.  The reader does this arithmetic itself, so a dead
 * writer never makes a reader trust stale data beyond the drift bound.
 *
 * Consistency is a seqlock (Boehm, "Can seqlocks get along with programming
 * language memory models?", MSPC 2012): the writer makes seq odd, writes the
 * fields, makes it even again; a reader retries while seq is odd or changed
 * under it.  Every shared field is a lock-free C11 atomic accessed relaxed,
 * ordered by the fences below, so there is no data race in the C11 sense and
 * no torn read.  The reader never writes to the page (it may be mapped
 * PROT_READ).
 *
 * Self-contained: C11 and POSIX.1-2008 (compile with -std=gnu11, or c11
 * and _POSIX_C_SOURCE=200809L), all static inline, no library to link.
 * Not for C++ (the layout uses C11 _Atomic).
 *
 * Layout changelog (version):
 *   1  first version.
 */
#ifndef _TRUTH_CLOCKBOUND_H
#define _TRUTH_CLOCKBOUND_H

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define TRUTH_CLOCKBOUND_MAGIC		0x54525442u	/* "TRTB" */
#define TRUTH_CLOCKBOUND_VERSION	1		/* layout version */
#define TRUTH_CLOCKBOUND_PATH		"/run/truth/clockbound"	/* default page */
#define TRUTH_CLOCKBOUND_NSEC		1000000000ull	/* ns per second */
#define TRUTH_CLOCKBOUND_MAX_DRIFT_PPB	100000000u	/* 10%: larger is refused */
#define TRUTH_CLOCKBOUND_READ_RETRIES	100000		/* reader gives up (-EAGAIN) */

/* Shared between processes: the atomics must be lock-free (address-free). */
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2 && ATOMIC_LONG_LOCK_FREE == 2 &&
	       ATOMIC_INT_LOCK_FREE == 2,
	       "truth clockbound needs lock-free 32- and 64-bit atomics");

/* What a reading (or an estimate) can say about true time. */
enum truth_clock_status {
	TRUTH_CLOCK_UNKNOWN = 0,	/* no estimate yet: no bound at all */
	TRUTH_CLOCK_SYNCHRONISED = 1,	/* fresh agreement within sync_timeout */
	TRUTH_CLOCK_FREE_RUNNING = 2,	/* no fresh agreement: bound growing */
};

/* The shared page.  Fields after size change only under the seqlock. */
struct truth_clockbound_page {
	_Atomic uint32_t magic;		/* TRUTH_CLOCKBOUND_MAGIC once initialised */
	uint16_t version;		/* TRUTH_CLOCKBOUND_VERSION */
	uint16_t size;			/* sizeof(struct truth_clockbound_page) */
	_Atomic uint64_t seq;		/* seqlock: odd while the writer writes */
	_Atomic int64_t as_of;		/* local clock reading of the estimate, ns */
	_Atomic int64_t offset;		/* true - local at as_of, midpoint, ns */
	_Atomic uint64_t epsilon;	/* half-width of the interval at as_of, ns */
	_Atomic uint64_t sync_timeout;	/* FREE_RUNNING after as_of + this, ns */
	_Atomic uint32_t max_drift_ppb;	/* bound growth rate, parts per 10^9 */
	_Atomic uint32_t status;	/* enum truth_clock_status of the estimate */
	_Atomic int32_t clock_id;	/* clockid_t as_of is read on */
	uint32_t pad;			/* zero */
	uint64_t reserved[8];		/* zero; room for later versions */
};

/* A consistent copy of the page's estimate. */
struct truth_clockbound_snapshot {
	int64_t as_of;			/* local clock reading of the estimate */
	int64_t offset;			/* true - local at as_of, midpoint */
	uint64_t epsilon;		/* half-width at as_of */
	uint64_t sync_timeout;		/* FREE_RUNNING after as_of + this */
	uint32_t max_drift_ppb;		/* bound growth rate */
	uint32_t status;		/* enum truth_clock_status */
	int32_t clock_id;		/* clock of as_of */
	uint64_t seq;			/* seq the copy was taken at (even) */
};

/* A bounded reading of true time. */
struct truth_clockbound_now {
	int64_t earliest;		/* true time is >= this (ns) */
	int64_t latest;			/* true time is <= this (ns) */
	uint64_t epsilon;		/* (latest - earliest) / 2, rounded up */
	int64_t local;			/* the local reading it was computed for */
	uint32_t status;		/* enum truth_clock_status */
};

/*
 * Largest change of true-minus-local between two readings @dt ns apart at
 * maximum drift @ppb.  A local interval dt is at most dt / (1 - phi) of
 * true time, over which the offset moves by at most phi times that: so
 * ceil(dt phi / (1 - phi)), plus 1 ns because readings are integers (the
 * true time between them can exceed dt by one tick).  Exact integer
 * arithmetic, dt split by the denominator so no product overflows for any
 * dt.  Nondecreasing in dt and at most 1 ns per ns, so earliest never moves
 * backwards as the reading advances.
 */
static inline uint64_t truth_clockbound_growth(uint64_t dt, uint32_t ppb)
{
	uint64_t den = TRUTH_CLOCKBOUND_NSEC - ppb;
	uint64_t a = dt / den, b = dt % den;

	return a * ppb + (b * ppb + den - 1) / den + 1;
}

/* |a - b| for two readings of the same clock. */
static inline uint64_t truth_clockbound_absdiff(int64_t a, int64_t b)
{
	return a >= b ? (uint64_t)a - (uint64_t)b : (uint64_t)b - (uint64_t)a;
}

/* a + b saturating at the int64 range (bounds far in the future stay sane). */
static inline int64_t truth_clockbound_add(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

/* a - u, u unsigned, saturating. */
static inline int64_t truth_clockbound_sub_u(int64_t a, uint64_t u)
{
	return u > (uint64_t)INT64_MAX ? INT64_MIN :
	       truth_clockbound_add(a, -(int64_t)u);
}

/* a + u, u unsigned, saturating. */
static inline int64_t truth_clockbound_add_u(int64_t a, uint64_t u)
{
	return u > (uint64_t)INT64_MAX ? INT64_MAX :
	       truth_clockbound_add(a, (int64_t)u);
}

/*
 * Take a consistent copy of @p.  0, or -EPROTO (not a truth clockbound page
 * of this version), or -EAGAIN (the writer stayed mid-update for
 * TRUTH_CLOCKBOUND_READ_RETRIES tries: it died there; the page is unusable
 * until it restarts).  Lock-free, never writes to the page.
 */
static inline int truth_clock_shm_read(const struct truth_clockbound_page *p,
				       struct truth_clockbound_snapshot *s)
{
	struct truth_clockbound_page *q = (struct truth_clockbound_page *)p;
	uint64_t s1, s2;
	long tries;

	if (atomic_load_explicit(&q->magic, memory_order_acquire) !=
	    TRUTH_CLOCKBOUND_MAGIC || p->version != TRUTH_CLOCKBOUND_VERSION ||
	    p->size < sizeof(*p))
		return -EPROTO;
	for (tries = 0; tries < TRUTH_CLOCKBOUND_READ_RETRIES; tries++) {
		/* acquire: the field loads below cannot move above this */
		s1 = atomic_load_explicit(&q->seq, memory_order_acquire);
		if (s1 & 1)
			continue;
		s->as_of = atomic_load_explicit(&q->as_of, memory_order_relaxed);
		s->offset = atomic_load_explicit(&q->offset, memory_order_relaxed);
		s->epsilon = atomic_load_explicit(&q->epsilon, memory_order_relaxed);
		s->sync_timeout = atomic_load_explicit(&q->sync_timeout,
						       memory_order_relaxed);
		s->max_drift_ppb = atomic_load_explicit(&q->max_drift_ppb,
							memory_order_relaxed);
		s->status = atomic_load_explicit(&q->status, memory_order_relaxed);
		s->clock_id = atomic_load_explicit(&q->clock_id,
						   memory_order_relaxed);
		/* acquire fence: the field loads cannot move below the re-read */
		atomic_thread_fence(memory_order_acquire);
		s2 = atomic_load_explicit(&q->seq, memory_order_relaxed);
		if (s1 == s2) {
			s->seq = s1;
			return 0;
		}
	}
	return -EAGAIN;
}

/*
 * [earliest, latest] at local clock reading @local (on the page's
 * clock_id) from snapshot @s: the status, with @out filled.  UNKNOWN gives
 * the whole int64 range.
 */
static inline int truth_clock_shm_bound(const struct truth_clockbound_snapshot *s,
					int64_t local,
					struct truth_clockbound_now *out)
{
	uint64_t dt = truth_clockbound_absdiff(local, s->as_of);
	uint64_t g, w;
	int64_t mid;

	out->local = local;
	if (s->status == TRUTH_CLOCK_UNKNOWN ||
	    s->max_drift_ppb > TRUTH_CLOCKBOUND_MAX_DRIFT_PPB) {
		out->earliest = INT64_MIN;
		out->latest = INT64_MAX;
		out->epsilon = UINT64_MAX;
		out->status = TRUTH_CLOCK_UNKNOWN;
		return out->status;
	}
	g = truth_clockbound_growth(dt, s->max_drift_ppb);
	w = s->epsilon + g < s->epsilon ? UINT64_MAX : s->epsilon + g;
	mid = truth_clockbound_add(local, s->offset);
	out->earliest = truth_clockbound_sub_u(mid, w);
	out->latest = truth_clockbound_add_u(mid, w);
	out->epsilon = w;
	out->status = s->status == TRUTH_CLOCK_FREE_RUNNING ||
		      (local > s->as_of && dt > s->sync_timeout) ?
		      TRUTH_CLOCK_FREE_RUNNING : TRUTH_CLOCK_SYNCHRONISED;
	return out->status;
}

/*
 * The bound at local reading @local (the caller read the page's clock_id):
 * the status (>= 0) or a negative errno from truth_clock_shm_read().
 */
static inline int truth_clock_shm_now(const struct truth_clockbound_page *p,
				      int64_t local,
				      struct truth_clockbound_now *out)
{
	struct truth_clockbound_snapshot s;
	int ret = truth_clock_shm_read(p, &s);

	if (ret < 0)
		return ret;
	return truth_clock_shm_bound(&s, local, out);
}

/* The same, reading the page's clock now (a vDSO call, no system call). */
static inline int truth_clock_shm_now_clock(const struct truth_clockbound_page *p,
					    struct truth_clockbound_now *out)
{
	struct truth_clockbound_snapshot s;
	struct timespec ts;
	int ret = truth_clock_shm_read(p, &s);

	if (ret < 0)
		return ret;
	if (clock_gettime((clockid_t)s.clock_id, &ts))
		return -errno;
	return truth_clock_shm_bound(&s, (int64_t)ts.tv_sec *
				     (int64_t)TRUTH_CLOCKBOUND_NSEC + ts.tv_nsec,
				     out);
}

/*
 * Map the page at @path (NULL: TRUTH_CLOCKBOUND_PATH) read-only.  The page,
 * or NULL with errno set (EPROTO: not a page of this version).  Unmap with
 * munmap(p, sizeof(*p)).
 */
static inline const struct truth_clockbound_page *truth_clock_shm_map(const char *path)
{
	const struct truth_clockbound_page *p;
	struct truth_clockbound_snapshot s;
	int fd = open(path ? path : TRUTH_CLOCKBOUND_PATH, O_RDONLY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return NULL;
	p = mmap(NULL, sizeof(*p), PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return NULL;
	ret = truth_clock_shm_read(p, &s);
	if (ret == -EPROTO) {
		munmap((void *)p, sizeof(*p));
		errno = EPROTO;
		return NULL;
	}
	return p;
}

#endif /* _TRUTH_CLOCKBOUND_H */
