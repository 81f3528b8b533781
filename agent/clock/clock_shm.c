// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * truth clock: the writer side of the clockbound page
 * (include/truth/clockbound.h has the layout and the reader).
 *
 * Seqlock writer (Boehm 2012, figure 6): seq becomes odd, a release fence
 * keeps the field stores below it, the fields are stored relaxed, and the
 * release store of the even seq keeps them above it.  A reader that saw the
 * same even seq before and after its loads saw no store of this update.
 * One writer only (truthd's clock loop); the caller serialises.
 */
#include <string.h>

#include "clock/clock.h"

void truth_clock_shm_init(struct truth_clockbound_page *p, int32_t clock_id)
{
	memset((void *)p, 0, sizeof(*p));
	p->version = TRUTH_CLOCKBOUND_VERSION;
	p->size = sizeof(*p);
	atomic_store_explicit(&p->status, TRUTH_CLOCK_UNKNOWN,
			      memory_order_relaxed);
	atomic_store_explicit(&p->clock_id, clock_id, memory_order_relaxed);
	atomic_store_explicit(&p->max_drift_ppb,
			      TRUTH_CLOCK_DEFAULT_MAX_DRIFT_PPB,
			      memory_order_relaxed);
	/* publish: a reader that sees the magic sees everything above */
	atomic_store_explicit(&p->magic, TRUTH_CLOCKBOUND_MAGIC,
			      memory_order_release);
}

void truth_clock_shm_write(struct truth_clockbound_page *p,
			   const struct truth_clock_estimate *e)
{
	uint64_t seq = atomic_load_explicit(&p->seq, memory_order_relaxed);
	/* [lo, hi] as midpoint +- epsilon, rounded outwards */
	uint64_t w = (uint64_t)e->offset.hi - (uint64_t)e->offset.lo;
	int64_t mid = (int64_t)((uint64_t)e->offset.lo + w / 2);
	/* the page counts the timeout from as_of; the estimate from fresh */
	uint64_t age = e->as_of > e->fresh ?
		       truth_clockbound_absdiff(e->as_of, e->fresh) : 0;
	uint64_t timeout = (uint64_t)e->sync_timeout > age ?
			   (uint64_t)e->sync_timeout - age : 0;

	atomic_store_explicit(&p->seq, seq + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	atomic_store_explicit(&p->as_of, e->as_of, memory_order_relaxed);
	atomic_store_explicit(&p->offset, mid, memory_order_relaxed);
	atomic_store_explicit(&p->epsilon, (uint64_t)e->offset.hi - (uint64_t)mid,
			      memory_order_relaxed);
	atomic_store_explicit(&p->sync_timeout, timeout, memory_order_relaxed);
	atomic_store_explicit(&p->max_drift_ppb, e->max_drift_ppb,
			      memory_order_relaxed);
	atomic_store_explicit(&p->status, e->status, memory_order_relaxed);
	atomic_store_explicit(&p->seq, seq + 2, memory_order_release);
}
