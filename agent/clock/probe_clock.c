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

/* A CLOCK_REALTIME kernel stamp on the RAW timescale, *err its error. */
static int64_t realtime_to_raw(int64_t stamp, uint32_t slew, uint32_t *err)
{
	int64_t raw1 = read_ns(CLOCK_MONOTONIC_RAW);
	int64_t real = read_ns(CLOCK_REALTIME);
	int64_t raw2 = read_ns(CLOCK_MONOTONIC_RAW);
	uint64_t e = (uint64_t)(raw2 - raw1 + 1) / 2 +
		     truth_clockbound_growth(truth_clockbound_absdiff(real, stamp),
					     slew);

	*err = e > UINT32_MAX ? UINT32_MAX : (uint32_t)e;
	return raw1 + (raw2 - raw1) / 2 - (real - stamp);
}

static int64_t real_stamp_local(void *arg, int64_t stamp, uint32_t *err)
{
	uint32_t slew = arg ? *(uint32_t *)arg : TRUTH_PROBE_REALTIME_SLEW_PPB;

	return realtime_to_raw(stamp, slew, err);
}

static int64_t real_stamp_ref(void *arg, int64_t stamp)
{
	return stamp;
}

/* RAW and REALTIME read together: RAW on both sides of the REALTIME read. */
static void real_pair_now(void *arg, struct truth_probe_pair *p)
{
	int64_t raw1 = read_ns(CLOCK_MONOTONIC_RAW);
	int64_t real = read_ns(CLOCK_REALTIME);
	int64_t raw2 = read_ns(CLOCK_MONOTONIC_RAW);
	uint64_t e = (uint64_t)(raw2 - raw1 + 1) / 2;

	p->local = raw1 + (raw2 - raw1) / 2;
	p->stamp = real;
	p->err = e > UINT32_MAX ? UINT32_MAX : (uint32_t)e;
}

/* As realtime_to_raw(), against an earlier pair instead of a new one. */
static int64_t pair_to_raw(const struct truth_probe_pair *p, int64_t stamp,
			   uint32_t slew, uint32_t *err)
{
	uint64_t e = (uint64_t)p->err +
		     truth_clockbound_growth(truth_clockbound_absdiff(stamp, p->stamp),
					     slew);

	*err = e > UINT32_MAX ? UINT32_MAX : (uint32_t)e;
	return p->local + (stamp - p->stamp);
}

static int64_t real_pair_local(void *arg, const struct truth_probe_pair *p,
			       int64_t stamp, uint32_t *err)
{
	uint32_t slew = arg ? *(uint32_t *)arg : TRUTH_PROBE_REALTIME_SLEW_PPB;

	return pair_to_raw(p, stamp, slew, err);
}

static bool real_ref_is_stamp(void *arg)
{
	return true;
}

void truth_probe_clock_real(struct truth_probe_clock *clk, uint32_t *slew_ppb)
{
	clk->local_now = real_local_now;
	clk->ref_now = real_ref_now;
	clk->stamp_local = real_stamp_local;
	clk->stamp_ref = real_stamp_ref;
	clk->pair_now = real_pair_now;
	clk->pair_local = real_pair_local;
	clk->ref_is_stamp = real_ref_is_stamp;
	clk->arg = slew_ppb;
	clk->local_clock_id = CLOCK_MONOTONIC_RAW;
	clk->ref_slew_ppb = slew_ppb ? *slew_ppb : TRUTH_PROBE_REALTIME_SLEW_PPB;
}

/*
 * The test-only skew of the real reference clock.  The drift term is
 * carried over when the skew changes, so the clock stays continuous in
 * drift and jumps only by the change of offset.
 */
int64_t truth_probe_skew_apply(const struct truth_probe_skew *s, int64_t real)
{
	__int128 d = (__int128)(real - s->t0) * s->drift_ppm;

	/* floor division: monotonic across t0 for drifts above -10^6 ppm */
	if (d < 0)
		d -= 1000000 - 1;
	return real + s->offset + s->carried + (int64_t)(d / 1000000);
}

void truth_probe_skew_set(struct truth_probe_skew *s, int64_t real,
			  int64_t offset, int32_t drift_ppm)
{
	int64_t before = truth_probe_skew_apply(s, real);

	s->carried = before - real - s->offset;
	s->t0 = real;
	s->offset = offset;
	s->drift_ppm = drift_ppm;
}

int64_t truth_probe_skew_base_now(const struct truth_probe_skew *s)
{
	if (s->raw_base)
		return read_ns(CLOCK_MONOTONIC_RAW) + s->raw_base;
	return read_ns(CLOCK_REALTIME);
}

/*
 * REALTIME - RAW now, from the tightest of a few RAW/REALTIME/RAW
 * brackets: a reader preempted between two reads (a TCG guest on a loaded
 * host: milliseconds, once over 100 ms) would otherwise put the whole gap
 * into the difference, and nothing accounts for that error.
 */
int64_t truth_probe_real_minus_raw(void)
{
	int64_t best = 0, half = INT64_MAX;
	int i;

	for (i = 0; i < 8 && half > 2000; i++) {
		int64_t r1 = read_ns(CLOCK_MONOTONIC_RAW);
		int64_t real = read_ns(CLOCK_REALTIME);
		int64_t r2 = read_ns(CLOCK_MONOTONIC_RAW);

		if ((r2 - r1) / 2 < half) {
			half = (r2 - r1) / 2;
			best = real - (r1 + (r2 - r1) / 2);
		}
	}
	return best;
}

int64_t truth_probe_skew_base_stamp(const struct truth_probe_skew *s, int64_t stamp)
{
	if (!s->raw_base)
		return stamp;
	return stamp - truth_probe_real_minus_raw() + s->raw_base;
}

static int64_t skew_ref_now(void *arg)
{
	return truth_probe_skew_apply(arg, truth_probe_skew_base_now(arg));
}

static int64_t skew_stamp_local(void *arg, int64_t stamp, uint32_t *err)
{
	const struct truth_probe_skew *s = arg;

	/* the local clock is RAW, untouched by the skew */
	return realtime_to_raw(stamp, s->slew_ppb, err);
}

static int64_t skew_stamp_ref(void *arg, int64_t stamp)
{
	return truth_probe_skew_apply(arg, truth_probe_skew_base_stamp(arg, stamp));
}

static int64_t skew_pair_local(void *arg, const struct truth_probe_pair *p,
			       int64_t stamp, uint32_t *err)
{
	const struct truth_probe_skew *s = arg;

	return pair_to_raw(p, stamp, s->slew_ppb, err);
}

/* No skew at all: what the kernel stamps is what this node's reference reads. */
static bool skew_ref_is_stamp(void *arg)
{
	const struct truth_probe_skew *s = arg;

	return !s->offset && !s->drift_ppm && !s->carried && !s->raw_base;
}

void truth_probe_clock_skewed(struct truth_probe_clock *clk,
			      struct truth_probe_skew *s, uint32_t max_drift_ppm)
{
	clk->local_now = real_local_now;
	clk->ref_now = skew_ref_now;
	clk->stamp_local = skew_stamp_local;
	clk->stamp_ref = skew_stamp_ref;
	clk->pair_now = real_pair_now;
	clk->pair_local = skew_pair_local;
	clk->ref_is_stamp = skew_ref_is_stamp;
	clk->arg = s;
	clk->local_clock_id = CLOCK_MONOTONIC_RAW;
	/* REALTIME's own slew plus the largest drift the skew may be given */
	clk->ref_slew_ppb = s->slew_ppb + max_drift_ppm * 1000u;
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

static void sim_pair_now(void *arg, struct truth_probe_pair *p)
{
	int64_t t = read_ns(CLOCK_REALTIME);

	p->local = truth_probe_simclock_local(arg, t);
	p->stamp = t;
	p->err = 0;
}

/* The simulated conversion is exact: the pair is not needed. */
static int64_t sim_pair_local(void *arg, const struct truth_probe_pair *p,
			      int64_t stamp, uint32_t *err)
{
	return sim_stamp_local(arg, stamp, err);
}

static bool sim_ref_is_stamp(void *arg)
{
	const struct truth_probe_simclock *sim = arg;

	return !sim->ref_bias;
}

void truth_probe_clock_sim(struct truth_probe_clock *clk,
			   struct truth_probe_simclock *sim)
{
	clk->local_now = sim_local_now;
	clk->ref_now = sim_ref_now;
	clk->stamp_local = sim_stamp_local;
	clk->stamp_ref = sim_stamp_ref;
	clk->pair_now = sim_pair_now;
	clk->pair_local = sim_pair_local;
	clk->ref_is_stamp = sim_ref_is_stamp;
	clk->arg = sim;
	/* no real clock reads this timescale: readers must not trust the page */
	clk->local_clock_id = -1;
	clk->ref_slew_ppb = 0;		/* the reference is true time + a constant */
}
