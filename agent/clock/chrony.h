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
	double rel_err;			/* relative rounding of the numbers */
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

/*
 * The same report straight from chronyd's command socket (what chronyc
 * itself speaks; chrony's candm.h, protocol version 6, chrony 3.x-4.x):
 * a REQ_TRACKING datagram, padded to the length of its reply (chronyd
 * refuses shorter requests, so that it never amplifies), and an
 * RPY_TRACKING reply of 104 bytes, big-endian:
 *
 *	request: version 6, type 1, 2 reserved, u16 command 33, u16 attempt,
 *		 u32 sequence, 2 x u32 pad, then zeros up to 104 bytes
 *	reply:	 version 6, type 2, 2 reserved, u16 command, u16 reply (5),
 *		 u16 status (0 = success), 3 x u16 pad, u32 sequence,
 *		 2 x u32 pad, then u32 ref_id, 20 bytes of address, u16
 *		 stratum, u16 leap (0 normal, 1 insert, 2 delete, 3 not
 *		 synchronised), 12 bytes of ref_time, then 9 chrony floats:
 *		 current_correction (= chronyc's system time), last_offset,
 *		 rms_offset, freq, resid_freq, skew, root_delay,
 *		 root_dispersion, update_interval
 *
 * A chrony float is 32 bits: a 7-bit signed exponent over a 25-bit
 * signed coefficient, value = coef * 2^(exp - 25), rounded to nearest
 * by chronyd, so within 2^-24 of the value relative: rel_err covers it.
 */
#define TRUTH_CHRONY_REQ_LEN	104	/* the request, padded */
#define TRUTH_CHRONY_RPY_LEN	104	/* the tracking reply */

/* Fill @buf (TRUTH_CHRONY_REQ_LEN bytes) with a tracking request. */
void truth_chrony_request(uint8_t *buf, uint32_t seq);

/*
 * Parse a reply to the request numbered @seq.  0; -ESRCH when it answers
 * another request (a late one: keep reading); -EINVAL with *why (not a
 * reply, chronyd's error status) otherwise.
 */
int truth_chrony_reply(const uint8_t *buf, size_t len, uint32_t seq,
		       struct truth_chrony_tracking *t, const char **why);

/* A chrony float (host order) as a double. */
double truth_chrony_float(uint32_t f);

#endif /* _TRUTH_CHRONY_H */
