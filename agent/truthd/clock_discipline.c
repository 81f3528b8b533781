// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * truthd steering CLOCK_REALTIME toward the cluster's estimate
 * (clock_discipline = on), only when no other time daemon does.
 *
 * What is measured.  The estimate runs on CLOCK_MONOTONIC_RAW, which no
 * adjtimex moves, so slewing REALTIME does not move the estimate: every
 * period the wall clock (truthd_realtime_ns(): REALTIME, or REALTIME under
 * the test-only skew) is compared with the middle of [earliest, latest],
 * off = wall - mid, and REALTIME - RAW (k) is read with it.  k holds all
 * we ever did to REALTIME, so y = off - k is the offset the wall clock
 * would have had without us: the oscillator's own drift (and the test
 * skew's), free of our corrections.
 *
 * The controller, every DISCIPLINE_PERIOD (1 s of RAW):
 *
 *  frequency (FLL): the least-squares slope of y over the last
 *	DISC_FIT_LEN samples (at least DISCIPLINE_FIT_SPAN apart), each
 *	weighted by 1 / eps^2, is the
 *	wall clock's rate error; REALTIME is set to run at minus that rate
 *	against RAW (ADJ_FREQUENCY).  y does not depend on what we do, so
 *	this part is open-loop: it cannot wind up or oscillate, and a
 *	sample's noise of n ns moves it by at most about n / span.  A y the
 *	fit misses by more than 4 epsilon (and 1 ms) is a spike: not steered
 *	on (the fit's prediction is) and not fitted; DISCIPLINE_SPIKES in a
 *	row mean the estimate or the wall clock really moved: the fit starts
 *	over.
 *  phase (P): what is left, off, is removed with a time constant of
 *	DISCIPLINE_TAU: this period's correction is -off * PERIOD / TAU,
 *	handed to the kernel as an adjtime()-style slew (ADJ_OFFSET_SINGLESHOT,
 *	at most 500 ppm, the kernel's own rate) and what does not fit in it as
 *	extra frequency for the period.  Inside the bound (|off| < epsilon)
 *	the gain falls with |off| / epsilon: the estimate cannot tell such an
 *	offset from its own noise, so truthd does not chase it at full gain.
 *
 * Limits: |ADJ_FREQUENCY| <= DISCIPLINE_MAX_FREQ_PPB (the kernel's own
 * 500 ppm), the slew <= 500 ppm, so REALTIME never moves against RAW faster
 * than 1000 ppm, and it is never stepped: an offset above DISCIPLINE_MAX_NS
 * is refused with a log line (an operator sets such a clock by hand) and
 * the clock handed back.  Not synchronised: the frequency is held (the
 * fit only), no phase correction.
 *
 * Who else: a process named like a time daemon (chronyd, ntpd,
 * systemd-timesyncd, openntpd, ptp4l, phc2sys, timemaster), or a kernel
 * clock already marked synchronised (STA_UNSYNC clear) or driven by the
 * PLL/FLL (STA_PLL, STA_FLL): truthd refuses, says why, and only
 * measures.  Checked at start and before every adjustment.  Refusing after
 * having steered, and stopping, hand the clock back: the frequency truthd
 * found at start, no slew left running.
 *
 * The first version did not converge (Documentation/truthd.md
 * "Discipline"): its measurement spanned the /proc scan (the bound's
 * middle lagged the wall reading by half of it, up to ~150 ms in a loaded
 * TCG guest), its test's reference clock was converted with unbracketed
 * reads, and it had no frequency term.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timex.h>
#include <unistd.h>

#include "log/log.h"
#include "truthd/truthd.h"

#define NSEC			1000000000LL
#define DISCIPLINE_PERIOD	NSEC			/* RAW ns between adjustments */
#define DISCIPLINE_MAX_NS	(500 * 1000000LL)	/* larger: refuse, never step */
#define DISCIPLINE_TAU		(4 * NSEC)		/* the phase's time constant */
#define DISCIPLINE_SLEW_NS	500000LL		/* adjtime(): 500 us a second */
#define DISCIPLINE_MAX_FREQ_PPB	500000LL		/* the kernel's MAXFREQ */
#define DISCIPLINE_FIT_MIN	8			/* samples before a fit */
#define DISCIPLINE_FIT_SPAN	(8 * NSEC)		/* ...spanning at least */
#define DISCIPLINE_JUMP_NS	1000000LL		/* fit misses above: a spike */
#define DISCIPLINE_SPIKES	8			/* in a row: a real move */
#define DISCIPLINE_EPS_FLOOR	10000ULL		/* fit weights: 1 / max(eps, 10 us)^2 */

static const char *const time_daemons[] = {
	"chronyd", "ntpd", "systemd-timesyn", "openntpd", "ptp4l", "phc2sys",
	"timemaster", NULL,
};

/*
 * "" if nobody else disciplines the clock, else who (into why); *tx: the
 * kernel's state as read.
 */
static void other_discipline(char *why, size_t len, struct timex *tx)
{
	struct dirent *de;
	char path[64], comm[20];
	DIR *dir;
	int i, fd;
	ssize_t n;

	why[0] = '\0';
	dir = opendir("/proc");
	while (dir && (de = readdir(dir))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%.20s/comm", de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, comm, sizeof(comm) - 1);
		close(fd);
		if (n <= 0)
			continue;
		comm[n] = '\0';
		comm[strcspn(comm, "\n")] = '\0';
		for (i = 0; time_daemons[i]; i++)
			if (!strcmp(comm, time_daemons[i])) {
				snprintf(why, len, "%.16s (pid %.20s) is running", comm,
					 de->d_name);
				closedir(dir);
				return;
			}
	}
	if (dir)
		closedir(dir);
	memset(tx, 0, sizeof(*tx));
	if (adjtimex(tx) < 0) {
		snprintf(why, len, "adjtimex: %s", strerror(errno));
		return;
	}
	if (!(tx->status & STA_UNSYNC))
		snprintf(why, len, "the kernel clock is marked synchronised (STA_UNSYNC clear): another discipline runs");
	else if (tx->status & (STA_PLL | STA_FLL))
		snprintf(why, len, "the kernel PLL/FLL is on (status 0x%x): another discipline runs",
			 tx->status);
}

/* ppb <-> the kernel's scaled ppm (16-bit fraction) */
static long ppb_to_scaled(int64_t ppb)
{
	return (long)(ppb * 65536 / 1000);
}

static int64_t scaled_to_ppb(long scaled)
{
	return (int64_t)scaled * 1000 / 65536;
}

static int set_freq(int64_t ppb)
{
	struct timex tx = { .modes = ADJ_FREQUENCY, .freq = ppb_to_scaled(ppb) };

	return adjtimex(&tx) < 0 ? -errno : 0;
}

/* An adjtime()-style slew of @ns (microseconds to the kernel); replaces any left. */
static int set_slew(int64_t ns)
{
	struct timex tx = { .modes = ADJ_OFFSET_SINGLESHOT, .offset = (long)(ns / 1000) };

	return adjtimex(&tx) < 0 ? -errno : 0;
}

/* Give the clock back as found: our frequency off, no slew left running. */
static void release(struct truthd *d)
{
	struct clock_discipline *c = &d->clk.disc;
	int ret;

	if (!c->touched)
		return;
	ret = set_slew(0);
	if (!ret)
		ret = set_freq(scaled_to_ppb(c->freq_found));
	if (ret)
		log_warn("clock: discipline: handing the clock back: %s", strerror(-ret));
	c->touched = false;
	c->slew_ns = 0;
	c->freq_ppb = scaled_to_ppb(c->freq_found);
}

static void fit_reset(struct clock_discipline *c)
{
	c->spike_run = 0;
	c->fit_n = 0;
	c->fit_head = 0;
	c->fitted = false;
}

/*
 * Weighted least-squares line through the window: its slope (ppb) and its
 * value at @now; 0 while the window is too short.  A sample weighs
 * 1 / eps^2 (eps floored at DISCIPLINE_EPS_FLOOR): one taken while the
 * bound was wide (a delayed exchange) says little and counts little.
 * Times are relative to @now, so doubles hold them to far better than a
 * nanosecond.
 */
static int fit_line(const struct clock_discipline *c, int64_t now, double *slope,
		    double *at_now)
{
	double st = 0, sy = 0, stt = 0, sty = 0, n = 0, den;
	int64_t oldest = now;
	uint32_t i;

	if (c->fit_n < DISCIPLINE_FIT_MIN)
		return 0;
	for (i = 0; i < c->fit_n; i++) {
		double t = (double)(c->fit_t[i] - now) / NSEC, y = (double)c->fit_y[i];
		double e = (double)(c->fit_e[i] > DISCIPLINE_EPS_FLOOR ?
				    c->fit_e[i] : DISCIPLINE_EPS_FLOOR) / 1e6;
		double w = 1 / (e * e);

		if (c->fit_t[i] < oldest)
			oldest = c->fit_t[i];
		n += w;
		st += w * t;
		sy += w * y;
		stt += w * t * t;
		sty += w * t * y;
	}
	den = n * stt - st * st;
	if (now - oldest < DISCIPLINE_FIT_SPAN || den <= 0)
		return 0;
	*slope = (n * sty - st * sy) / den;	/* ns per s: ppb */
	*at_now = (sy - *slope * st) / n;
	return 1;
}

/*
 * Sample (local time @t, free-running offset @y, half-width @eps) into the
 * fit.  0: taken; 1: a spike, not taken, and *pred is what the fit expects
 * instead.  A y the fit misses by more than 4 eps (and 1 ms) is a spike
 * until DISCIPLINE_SPIKES of them come in a row: then the estimate or the
 * wall clock really moved and the fit starts over from it.
 */
static int fit_add(struct clock_discipline *c, int64_t t, int64_t y, uint64_t eps,
		   int64_t *pred)
{
	int64_t miss, limit = 4 * (int64_t)eps;
	double slope, at;

	if (limit < DISCIPLINE_JUMP_NS)
		limit = DISCIPLINE_JUMP_NS;
	if (fit_line(c, t, &slope, &at)) {
		miss = y - (int64_t)at;
		if (miss > limit || miss < -limit) {
			c->spikes++;
			if (++c->spike_run < DISCIPLINE_SPIKES) {
				*pred = (int64_t)at;
				log_debug("clock: discipline: offset %lld ns off the frequency fit (limit %lld): not steering on it",
					  (long long)miss, (long long)limit);
				return 1;
			}
			log_info("clock: discipline: offset %lld ns off the frequency fit %u times in a row: starting the fit over",
				 (long long)miss, c->spike_run);
			fit_reset(c);
		}
	}
	c->spike_run = 0;
	c->fit_t[c->fit_head] = t;
	c->fit_y[c->fit_head] = y;
	c->fit_e[c->fit_head] = eps;
	c->fit_head = (c->fit_head + 1) % DISC_FIT_LEN;
	if (c->fit_n < DISC_FIT_LEN)
		c->fit_n++;
	if (fit_line(c, t, &slope, &at)) {
		c->drift_ppb = (int64_t)slope;
		c->fitted = true;
	}
	return 0;
}

static int64_t clamp64(int64_t v, int64_t lim)
{
	return v > lim ? lim : v < -lim ? -lim : v;
}

/* REALTIME runs at tick * USER_HZ us a second, then ADJ_FREQUENCY on top */
static int64_t tick_ppb(const struct timex *tx)
{
	return ((int64_t)tx->tick * 100 - 1000000) * 1000;
}

static void refuse(struct truthd *d, const char *why)
{
	struct clock_discipline *c = &d->clk.disc;

	if (c->state != DISC_REFUSED || strcmp(c->why, why))
		log_warn("clock: discipline refused: %s; truthd does not steer CLOCK_REALTIME", why);
	release(d);
	fit_reset(c);
	c->state = DISC_REFUSED;
	snprintf(c->why, sizeof(c->why), "%s", why);
}

void clock_discipline_open(struct truthd *d)
{
	struct clock_discipline *c = &d->clk.disc;
	struct timex tx;
	char why[200];

	memset(c, 0, sizeof(*c));
	if (!d->conf.clock_discipline)
		return;
	if (d->conf.clock_anchor_ns) {
		/* its clock is vouched for from outside: steering it from the
		 * cluster would be circular, and slewing would break the claim */
		refuse(d, "this node is an anchor (clock_anchor_ns > 0)");
		return;
	}
	other_discipline(why, sizeof(why), &tx);
	if (why[0]) {
		refuse(d, why);
		return;
	}
	c->state = DISC_ON;
	c->freq_found = tx.freq;
	c->freq_ppb = scaled_to_ppb(tx.freq);
	log_info("clock: discipline on: steering CLOCK_REALTIME toward the estimate (frequency fit + phase, at most %lld + 500 ppm, never a step, at most %lld ms off)",
		 DISCIPLINE_MAX_FREQ_PPB / 1000, DISCIPLINE_MAX_NS / 1000000);
}

/*
 * The wall clock's offset from the middle of the bound and REALTIME - RAW,
 * read together: 0, or -EAGAIN when the estimate is not synchronised.
 */
static int measure(struct truthd *d, int64_t *off, int64_t *k, uint64_t *eps,
		   int64_t *at)
{
	struct truth_clock_now a, b;
	struct timespec ts;
	int64_t l1, l2, wall, real;

	/*
	 * l1 .. l2 bracket the wall reading tightly: the middle of
	 * [earliest(l1), latest(l2)] is off by up to (l2 - l1) / 2, and a
	 * bracket around the /proc scan (milliseconds to ~300 ms in a loaded
	 * TCG guest) made the first version chase that
	 */
	l1 = truth_probe_local_now(d->clk.engine);
	clock_gettime(CLOCK_REALTIME, &ts);
	wall = truthd_realtime_ns(d);
	l2 = truth_probe_local_now(d->clk.engine);
	real = (int64_t)ts.tv_sec * NSEC + ts.tv_nsec;
	truth_probe_now_at(d->clk.engine, l1, &a);
	truth_probe_now_at(d->clk.engine, l2, &b);
	if (a.status != TRUTH_CLOCK_SYNCHRONISED)
		return -EAGAIN;
	/* the middle of the bound at the wall reading, to within l2 - l1 */
	*off = wall - (a.earliest / 2 + b.latest / 2);
	*k = real - (l1 + (l2 - l1) / 2);
	*eps = b.epsilon;
	*at = l1;
	return 0;
}

/*
 * This period's correction: the frequency REALTIME should run at against
 * RAW (the fit; what the kernel had until there is one), plus -off / TAU of
 * phase: first as a slew of at most 500 us, the rest as extra frequency
 * for the period.  Inside the bound the phase gain falls with |off| / eps.
 */
static int steer(struct truthd *d, int64_t off, uint64_t eps, const struct timex *tx)
{
	struct clock_discipline *c = &d->clk.disc;
	int64_t tick = tick_ppb(tx);
	int64_t rate, e = off, phase, slew, freq;
	int ret;

	rate = c->fitted ? -c->drift_ppb : scaled_to_ppb(c->freq_found) + tick;
	if (eps && (uint64_t)(off < 0 ? -off : off) < eps)
		e = (int64_t)((__int128)off * (off < 0 ? -off : off) / (int64_t)eps);
	phase = -(int64_t)((__int128)e * DISCIPLINE_PERIOD / DISCIPLINE_TAU);
	slew = clamp64(phase, DISCIPLINE_SLEW_NS);
	/* ns over one period of 1 s: ppb */
	freq = clamp64(rate - tick + (phase - slew), DISCIPLINE_MAX_FREQ_PPB);
	ret = set_freq(freq);
	if (!ret)
		ret = set_slew(slew);
	c->touched = true;
	if (ret)
		return ret;
	c->freq_ppb = freq;
	c->slew_ns = slew;
	c->adjustments++;
	log_debug("clock: discipline: %lld ns off (eps %llu), drift %lld ppb%s, frequency %lld ppb, slew %lld ns",
		  (long long)off, (unsigned long long)eps, (long long)c->drift_ppb,
		  c->fitted ? "" : " (no fit yet)", (long long)freq, (long long)slew);
	return 0;
}

/* Called after the engine's work: one adjustment per period when synchronised. */
void clock_discipline_tick(struct truthd *d)
{
	struct clock_discipline *c = &d->clk.disc;
	int64_t l, off, k, at, pred;
	struct timex tx;
	uint64_t eps;
	char why[200];
	int ret;

	if (c->state == DISC_OFF || !d->clk.engine)
		return;
	l = truth_probe_local_now(d->clk.engine);
	if (c->last && l - c->last < DISCIPLINE_PERIOD)
		return;
	c->last = l;
	if (d->conf.clock_anchor_ns)
		return;		/* refused at open, for good */
	other_discipline(why, sizeof(why), &tx);
	if (why[0]) {
		refuse(d, why);
		return;
	}
	if (c->state == DISC_REFUSED) {
		log_info("clock: discipline on: no other time daemon any more");
		c->why[0] = '\0';
		c->freq_found = tx.freq;
	}
	c->state = DISC_ON;
	if (measure(d, &off, &k, &eps, &at)) {
		/* free-running: hold the frequency, no phase from a stale bound */
		if (c->touched && c->fitted &&
		    (!set_slew(0) && !set_freq(clamp64(-c->drift_ppb - tick_ppb(&tx),
						       DISCIPLINE_MAX_FREQ_PPB)))) {
			c->slew_ns = 0;
			c->freq_ppb = clamp64(-c->drift_ppb - tick_ppb(&tx),
					      DISCIPLINE_MAX_FREQ_PPB);
		}
		return;
	}
	c->offset = off;
	c->epsilon = eps;
	if (off > DISCIPLINE_MAX_NS || off < -DISCIPLINE_MAX_NS) {
		if (!c->too_far)
			log_warn("clock: discipline: CLOCK_REALTIME is %lld ns off the estimate, over the %lld ms truthd slews; truthd never steps: set the clock by hand",
				 (long long)off, DISCIPLINE_MAX_NS / 1000000);
		c->too_far = true;
		release(d);
		fit_reset(c);
		return;
	}
	c->too_far = false;
	/* a spike: steer on what the fit expects, not on it */
	if (fit_add(c, at, off - k, eps, &pred))
		off = pred + k;
	ret = steer(d, off, eps, &tx);
	if (ret)
		refuse(d, strerror(-ret));
}

/* A stopped truthd hands the clock back as it found it. */
void clock_discipline_close(struct truthd *d)
{
	release(d);
	d->clk.disc.state = DISC_OFF;
}

/* INFO truth: what the controller does (after the lines clock.c prints). */
void clock_discipline_info(struct truthd *d, struct truth_resp_out *o)
{
	const struct clock_discipline *c = &d->clk.disc;

	if (c->state == DISC_OFF)
		return;
	truth_resp_out_printf(o,
		"clock_discipline_epsilon_ns:%llu\r\nclock_discipline_freq_ppb:%lld\r\n"
		"clock_discipline_slew_ns:%lld\r\nclock_discipline_drift_ppb:%s%lld\r\n"
		"clock_discipline_spikes:%llu\r\n",
		(unsigned long long)c->epsilon, (long long)c->freq_ppb,
		(long long)c->slew_ns, c->fitted ? "" : "~", (long long)c->drift_ppb,
		(unsigned long long)c->spikes);
}

const char *clock_discipline_state_name(int st)
{
	switch (st) {
	case DISC_ON:
		return "on";
	case DISC_REFUSED:
		return "refused";
	default:
		return "off";
	}
}
