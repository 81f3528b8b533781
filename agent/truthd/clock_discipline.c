// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * truthd steering CLOCK_REALTIME toward the cluster's estimate
 * (clock_discipline = on), only when no other time daemon does.
 *
 * How: every DISCIPLINE_PERIOD while the estimate is synchronised, the
 * node's wall clock is compared with the middle of [earliest, latest]
 * and the difference is handed to the kernel as an adjtime()-style slew
 * (ADJ_OFFSET_SINGLESHOT: the kernel slews at 500 ppm until it is done; a
 * new one replaces what is left of the last).  truthd never steps the
 * clock: a difference above DISCIPLINE_MAX_NS is refused with a log line
 * (an operator sets such a clock by hand).  Slewing REALTIME does not move
 * the estimate: it runs on CLOCK_MONOTONIC_RAW, and the engine already
 * allows REALTIME to be slewed (TRUTH_PROBE_REALTIME_SLEW_PPB).
 *
 * Who else: a process named like a time daemon (chronyd, ntpd,
 * systemd-timesyncd, openntpd, ptp4l, phc2sys, timemaster), or a kernel
 * clock already marked synchronised (STA_UNSYNC clear) or driven by the
 * PLL/FLL (STA_PLL, STA_FLL): truthd refuses, says why, and only
 * measures.  Checked at start and before every adjustment.
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

#define DISCIPLINE_PERIOD	(2 * 1000000000LL)	/* local ns between slews */
#define DISCIPLINE_MAX_NS	(500 * 1000000LL)	/* larger: refuse, never step */

static const char *const time_daemons[] = {
	"chronyd", "ntpd", "systemd-timesyn", "openntpd", "ptp4l", "phc2sys",
	"timemaster", NULL,
};

/* "" if nobody else disciplines the clock, else who (into why). */
static void other_discipline(char *why, size_t len)
{
	struct timex tx = { 0 };
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
	if (adjtimex(&tx) < 0) {
		snprintf(why, len, "adjtimex: %s", strerror(errno));
		return;
	}
	if (!(tx.status & STA_UNSYNC))
		snprintf(why, len, "the kernel clock is marked synchronised (STA_UNSYNC clear): another discipline runs");
	else if (tx.status & (STA_PLL | STA_FLL))
		snprintf(why, len, "the kernel PLL/FLL is on (status 0x%x): another discipline runs",
			 tx.status);
}

static void refuse(struct truthd *d, const char *why)
{
	struct clock_discipline *c = &d->clk.disc;

	if (c->state != DISC_REFUSED || strcmp(c->why, why))
		log_warn("clock: discipline refused: %s; truthd does not steer CLOCK_REALTIME", why);
	c->state = DISC_REFUSED;
	snprintf(c->why, sizeof(c->why), "%s", why);
}

void clock_discipline_open(struct truthd *d)
{
	struct clock_discipline *c = &d->clk.disc;
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
	other_discipline(why, sizeof(why));
	if (why[0]) {
		refuse(d, why);
		return;
	}
	c->state = DISC_ON;
	log_info("clock: discipline on: slewing CLOCK_REALTIME toward the estimate (500 ppm, never a step, at most %lld ms)",
		 DISCIPLINE_MAX_NS / 1000000);
}

/* Called after the engine's work: one slew per period when synchronised. */
void clock_discipline_tick(struct truthd *d)
{
	struct clock_discipline *c = &d->clk.disc;
	struct truth_clock_now a, b;
	struct timex tx = { 0 };
	int64_t l1, l2, wall, mid, off;
	char why[200];
	long slew;

	if (c->state == DISC_OFF || !d->clk.engine)
		return;
	l1 = truth_probe_local_now(d->clk.engine);
	if (c->last && l1 - c->last < DISCIPLINE_PERIOD)
		return;
	c->last = l1;
	other_discipline(why, sizeof(why));
	if (why[0]) {
		refuse(d, why);
		return;
	}
	if (c->state == DISC_REFUSED) {
		log_info("clock: discipline on: no other time daemon any more");
		c->why[0] = '\0';
	}
	c->state = DISC_ON;
	wall = truthd_realtime_ns(d);
	l2 = truth_probe_local_now(d->clk.engine);
	truth_probe_now_at(d->clk.engine, l1, &a);
	truth_probe_now_at(d->clk.engine, l2, &b);
	if (a.status != TRUTH_CLOCK_SYNCHRONISED)
		return;
	/* the middle of the bound at the wall reading, to within l2 - l1 */
	mid = a.earliest / 2 + b.latest / 2;
	off = wall - mid;
	c->offset = off;
	c->epsilon = b.epsilon;
	if (off > DISCIPLINE_MAX_NS || off < -DISCIPLINE_MAX_NS) {
		if (!c->too_far)
			log_warn("clock: discipline: CLOCK_REALTIME is %lld ns off the estimate, over the %lld ms truthd slews; truthd never steps: set the clock by hand",
				 (long long)off, DISCIPLINE_MAX_NS / 1000000);
		c->too_far = true;
		return;
	}
	c->too_far = false;
	tx.modes = ADJ_OFFSET_SINGLESHOT;
	tx.offset = (long)(-off / 1000);	/* us; replaces what is left */
	slew = tx.offset;
	if (adjtimex(&tx) < 0) {
		refuse(d, strerror(errno));
		return;
	}
	c->adjustments++;
	log_debug("clock: discipline: %lld ns off, slewing %ld us", (long long)off, slew);
}

/* A stopped truthd leaves no slew running behind it. */
void clock_discipline_close(struct truthd *d)
{
	struct clock_discipline *c = &d->clk.disc;
	struct timex tx = { .modes = ADJ_OFFSET_SINGLESHOT, .offset = 0 };

	if (c->state == DISC_ON && c->adjustments && adjtimex(&tx) < 0)
		log_warn("clock: discipline: cancelling the slew: %s", strerror(errno));
	c->state = DISC_OFF;
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
