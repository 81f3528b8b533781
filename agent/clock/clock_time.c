// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * truth clock: using bounded time -- commit-wait, leases, HLC.
 *
 * Every rule below needs only "true time is inside [earliest, latest]" at
 * each reading; t(x) is the true time of event x.
 *
 * Commit-wait (Spanner, Corbett et al. 2012, section 4.1.2).  A write is
 * given s = latest at some reading r after it started, and acknowledged
 * only at a reading a with earliest(a) > s.  Then
 *
 *	t(start) <= t(r) <= latest(r) = s < earliest(a) <= t(a)
 *
 * so s lies strictly inside the write's real-time span: if write 1 is
 * acknowledged before write 2 starts, s1 < t(a1) <= t(start2) <= s2.
 * Timestamp order is real-time order (external consistency).
 *
 * Leases on synchronised clocks.  A grantor grants at reading g with
 * expiry E = earliest(g) + D.  The holder acts only at readings h with
 * latest(h) < E; the grantor regrants only at readings x with
 * earliest(x) > E.  Then
 *
 *	t(h) <= latest(h) < E < earliest(x) <= t(x)
 *
 * every act of the old holder precedes, in true time, the regrant (and so
 * every act of a new holder): clock error cannot make two holders.  And
 * E - t(g) <= D, since t(g) >= earliest(g): no lease outlives its duration.
 *
 * Leases on unsynchronised clocks (Raft leader leases): the holder sends a
 * request at true time s; the grantor receives it at r >= s and promises
 * not to grant for D on its own clock, at least D / (1 + phi) of true
 * time.  The holder counts H on its clock from s, at most H / (1 - phi) of
 * true time.  Safety needs s + H / (1 - phi) < r + D / (1 + phi), which
 * H < D (1 - phi) / (1 + phi) guarantees for every r >= s.
 */
#include <truth/hlc.h>

#include "clock/clock.h"

int64_t truth_clock_commit_ts(const struct truth_clock_now *n)
{
	return n->latest;
}

bool truth_clock_after(const struct truth_clock_now *n, int64_t ts)
{
	return n->status != TRUTH_CLOCK_UNKNOWN && n->earliest > ts;
}

/* earliest at local @t under @e; nondecreasing in t (growth is <= 1 ns/ns) */
static int64_t earliest_at(const struct truth_clock_estimate *e, int64_t t)
{
	struct truth_clock_now n;

	truth_clock_estimate_now(e, t, &n);
	return n.earliest;
}

int64_t truth_clock_commit_wait(const struct truth_clock_estimate *e,
				int64_t local, int64_t ts)
{
	int64_t lo = local, hi, mid;
	uint64_t step = 1;

	if (e->status == TRUTH_CLOCK_UNKNOWN)
		return -1;
	if (earliest_at(e, local) > ts)
		return 0;
	/* exponential search for a local time past ts, then bisection */
	for (;;) {
		hi = truth_clockbound_add_u(local, step);
		if (earliest_at(e, hi) > ts)
			break;
		if (hi == INT64_MAX)
			return INT64_MAX;	/* never within the clock's range */
		lo = hi;
		step *= 2;
	}
	/* invariant: earliest(lo) <= ts < earliest(hi) */
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (earliest_at(e, mid) > ts)
			hi = mid;
		else
			lo = mid;
	}
	return hi - local;
}

int64_t truth_clock_lease_expiry(const struct truth_clock_now *grant,
				 int64_t duration)
{
	return truth_clockbound_add(grant->earliest, duration);
}

bool truth_clock_lease_held(const struct truth_clock_now *holder,
			    int64_t expiry)
{
	return holder->status != TRUTH_CLOCK_UNKNOWN && holder->latest < expiry;
}

bool truth_clock_lease_expired(const struct truth_clock_now *grantor,
			       int64_t expiry)
{
	return grantor->status != TRUTH_CLOCK_UNKNOWN &&
	       grantor->earliest > expiry;
}

int64_t truth_clock_lease_local_duration(int64_t duration,
					 uint32_t max_drift_ppb)
{
	__int128 d = duration;
	int64_t h;

	if (duration <= 0 || max_drift_ppb > TRUTH_CLOCKBOUND_MAX_DRIFT_PPB)
		return 0;
	h = (int64_t)(d * (TRUTH_CLOCK_NSEC - max_drift_ppb) /
		      (TRUTH_CLOCK_NSEC + max_drift_ppb)) - 1;
	return h > 0 ? h : 0;
}

/*
 * HLC: the physical time handed to the HLC is latest rounded *up* to the
 * HLC's tick (truth_hlc_now() clears the low TRUTH_HLC_LOGICAL_BITS, which
 * would otherwise put l up to 65.5 us below latest).  So the physical part
 * of every HLC timestamp is >= latest >= the true time of its event: the
 * HLC never runs behind the interval, and a stamp h can be commit-waited
 * on directly (ts = h).  A node with a wide bound runs its HLC ahead, so
 * the HLC's max-offset check (truth_hlc_recv()) must allow the cluster's
 * largest 2 epsilon plus one tick.
 */
uint64_t truth_clock_hlc_pt(const struct truth_clock_now *n)
{
	if (n->latest <= 0)
		return 0;
	if ((uint64_t)n->latest > UINT64_MAX - TRUTH_HLC_LOGICAL_MASK)
		return UINT64_MAX & ~TRUTH_HLC_LOGICAL_MASK;
	return ((uint64_t)n->latest + TRUTH_HLC_LOGICAL_MASK) &
	       ~TRUTH_HLC_LOGICAL_MASK;
}

uint64_t truth_clock_hlc_now(uint64_t *hlc, const struct truth_clock_now *n)
{
	__u64 h = *hlc;

	truth_hlc_now(&h, truth_clock_hlc_pt(n));
	*hlc = h;
	return h;
}
