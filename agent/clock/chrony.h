/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * truth chrony: the local chronyd's estimate of its own error, as a
 * reference source for the clock (truthd's clock_reference = chrony).
 *
 * chronyc -c tracking prints one CSV line (chrony 4.x):
 *
 *	refid,name,stratum,ref_time,system_time,last_offset,rms_offset,
 *	freq_ppm,resid_freq_ppm,skew_ppm,root_delay,root_dispersion,
 *	update_interval,leap_status
 *
 * times in seconds.  As AWS ClockBound reads it, the system clock is
 * within |system_time| + root_dispersion + root_delay / 2 of true time
 * (root_dispersion already grown to the moment of the report by chronyd).
 * The sign of system_time is not needed: the bound is symmetric.
 */
#ifndef _TRUTH_CHRONY_H
#define _TRUTH_CHRONY_H

#include <stdbool.h>
#include <stdint.h>

#define TRUTH_CHRONY_LEAP_LEN	32

struct truth_chrony_tracking {
	uint32_t refid;			/* reference id, 0 = none */
	uint32_t stratum;		/* 0 = unsynchronised */
	double system_time;		/* s, the system clock's offset */
	double root_delay;		/* s, to the primary source */
	double root_dispersion;		/* s, grown to the report */
	char leap[TRUTH_CHRONY_LEAP_LEN]; /* "Normal", "Not synchronised", ... */
	bool synchronised;		/* refid, stratum and leap say so */
};

/*
 * Parse one line of chronyc -c tracking.  0, or -EINVAL with a reason in
 * *why (not a tracking line: e.g. chronyc's "506 Cannot talk to daemon").
 */
int truth_chrony_parse(const char *line, struct truth_chrony_tracking *t,
		       const char **why);

/*
 * The bound in ns, rounded up: |system_time| + root_dispersion +
 * root_delay / 2; UINT64_MAX when unsynchronised or out of range (> 1 s).
 */
uint64_t truth_chrony_bound_ns(const struct truth_chrony_tracking *t);

#endif /* _TRUTH_CHRONY_H */
