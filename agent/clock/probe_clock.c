// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * truth probe: the clocks the engine reads, real and simulated.
 *
 * Real: the local clock is CLOCK_MONOTONIC_RAW, the reference clock and
 * every kernel timestamp CLOCK_REALTIME.  A kernel timestamp is converted
 * to the local clock by reading MONOTONIC_RAW on both sides of a REALTIME
 * reading: raw(stamp) = raw(now) - (real(now) - stamp) up to the bracket's
 * half-width and the two clocks' rate difference over real(now) - stamp
 * (TRUTH_PROBE_REALTIME_SLEW_PPB unless configured), both returned as the
 * conversion's error.
 *
 * Simulated (tests only): true time is the host's CLOCK_REALTIME, so the
 * conversions are exact and a test can compare now() with true time.
 */
#include <time.h>

#include "clock/probe.h"

static int64_t read_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * TRUTH_CLOCK_NSEC + ts.tv_nsec;
}

int64_t truth_probe_true_now(void)
{
	return read_ns(CLOCK_REALTIME);
}

static int64_t real_local_now(void *arg)
{
	return read_ns(CLOCK_MONOTONIC_RAW);
}

static int64_t real_ref_now(void *arg)
{
	return read_ns(CLOCK_REALTIME);
}

static int64_t real_stamp_local(void *arg, int64_t stamp, uint32_t *err)
{
	uint32_t slew = arg ? *(uint32_t *)arg : TRUTH_PROBE_REALTIME_SLEW_PPB;
	int64_t raw1 = read_ns(CLOCK_MONOTONIC_RAW);
	int64_t real = read_ns(CLOCK_REALTIME);
	int64_t raw2 = read_ns(CLOCK_MONOTONIC_RAW);
	uint64_t e = (uint64_t)(raw2 - raw1 + 1) / 2 +
		     truth_clockbound_growth(truth_clockbound_absdiff(real, stamp),
					     slew);

	*err = e > UINT32_MAX ? UINT32_MAX : (uint32_t)e;
	return raw1 + (raw2 - raw1) / 2 - (real - stamp);
}

static int64_t real_stamp_ref(void *arg, int64_t stamp)
{
	return stamp;
}

void truth_probe_clock_real(struct truth_probe_clock *clk, uint32_t *slew_ppb)
{
	clk->local_now = real_local_now;
	clk->ref_now = real_ref_now;
	clk->stamp_local = real_stamp_local;
	clk->stamp_ref = real_stamp_ref;
	clk->arg = slew_ppb;
	clk->local_clock_id = CLOCK_MONOTONIC_RAW;
	clk->ref_slew_ppb = slew_ppb ? *slew_ppb : TRUTH_PROBE_REALTIME_SLEW_PPB;
}

int64_t truth_probe_simclock_local(const struct truth_probe_simclock *sim,
				   int64_t t)
{
	__int128 d = (__int128)(t - sim->t0) * sim->drift_ppb;

	/* floor division, so the clock is monotonic across t0 too */
	if (d < 0)
		d -= TRUTH_CLOCK_NSEC - 1;
	return t + sim->offset + (int64_t)(d / TRUTH_CLOCK_NSEC);
}

static int64_t sim_local_now(void *arg)
{
	return truth_probe_simclock_local(arg, read_ns(CLOCK_REALTIME));
}

static int64_t sim_ref_now(void *arg)
{
	const struct truth_probe_simclock *sim = arg;

	return read_ns(CLOCK_REALTIME) + sim->ref_bias;
}

static int64_t sim_stamp_local(void *arg, int64_t stamp, uint32_t *err)
{
	*err = 0;
	return truth_probe_simclock_local(arg, stamp);
}

static int64_t sim_stamp_ref(void *arg, int64_t stamp)
{
	const struct truth_probe_simclock *sim = arg;

	return stamp + sim->ref_bias;
}

void truth_probe_clock_sim(struct truth_probe_clock *clk,
			   struct truth_probe_simclock *sim)
{
	clk->local_now = sim_local_now;
	clk->ref_now = sim_ref_now;
	clk->stamp_local = sim_stamp_local;
	clk->stamp_ref = sim_stamp_ref;
	clk->arg = sim;
	/* no real clock reads this timescale: readers must not trust the page */
	clk->local_clock_id = -1;
	clk->ref_slew_ppb = 0;		/* the reference is true time + a constant */
}
