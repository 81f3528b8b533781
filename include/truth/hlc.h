/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * Hybrid logical clock (Kulkarni, Demirbas et al., "Logical Physical Clocks
 * and Consistent Snapshots in Globally Distributed Databases", 2014), shared
 * by truth.ko and truthd.
 *
 * An HLC timestamp is 64 bits: l, the largest physical time the clock has
 * heard of, in the upper 48 bits (nanoseconds with the low 16 bits cleared,
 * i.e. 65.536 us resolution), and c, the logical counter, in the low 16 bits.
 * Packing them this way makes "compare (l, c) lexicographically" the same as
 * comparing the u64s, and makes the paper's "c + 1" a plain u64 increment:
 * should c ever overflow (65536 events within one 65 us tick) it carries into
 * l, which keeps the clock monotone at the cost of running l a tick ahead.
 *
 * The paper's algorithm, with pt the local physical time and pt' = pt with
 * the low 16 bits cleared:
 *
 *   send or local event:  l' = max(l, pt'); c = (l' == l) ? c + 1 : 0
 *   receive of (lm, cm):  l' = max(l, lm, pt');
 *                         c = l' == l == lm ? max(c, cm) + 1 :
 *                             l' == l       ? c + 1 :
 *                             l' == lm      ? cm + 1 : 0
 *
 * which for packed values is: x = max(hlc, m); hlc = pt' > x ? pt' : x + 1.
 *
 * Boundedness: a receive whose lm is more than @max_offset ahead of pt is
 * refused (truth_hlc_recv() returns -1 and changes nothing).  Then l never
 * gets more than max_offset (plus the counter carries above) ahead of the
 * physical clock of the node holding it, which is the paper's |l - pt| <= eps
 * property with eps the configured maximum offset.
 *
 * Pure: no allocation, no I/O, no clock reads (the caller passes pt), no
 * locking; the caller serialises.
 */
#ifndef _TRUTH_HLC_H
#define _TRUTH_HLC_H

#include <linux/types.h>

#define TRUTH_HLC_LOGICAL_BITS	16
#define TRUTH_HLC_LOGICAL_MASK	((__u64)((1U << TRUTH_HLC_LOGICAL_BITS) - 1))

/* The physical part l of a timestamp, in nanoseconds. */
static inline __u64 truth_hlc_physical(__u64 hlc)
{
	return hlc & ~TRUTH_HLC_LOGICAL_MASK;
}

/* The logical counter c of a timestamp. */
static inline __u32 truth_hlc_logical(__u64 hlc)
{
	return (__u32)(hlc & TRUTH_HLC_LOGICAL_MASK);
}

/* A local event or a send at physical time @pt (ns): the new timestamp. */
static inline __u64 truth_hlc_now(__u64 *hlc, __u64 pt)
{
	__u64 ptl = truth_hlc_physical(pt);

	*hlc = ptl > *hlc ? ptl : *hlc + 1;
	return *hlc;
}

/*
 * Whether a remote timestamp @remote is acceptable at physical time @pt: its
 * physical part is at most @max_offset ahead.  1 if so, 0 if not.
 */
static inline int truth_hlc_acceptable(__u64 remote, __u64 pt,
				       __u64 max_offset)
{
	return truth_hlc_physical(remote) <= pt ||
	       truth_hlc_physical(remote) - pt <= max_offset;
}

/*
 * A receive of @remote at physical time @pt.  0 and the clock updated, or -1
 * and the clock unchanged when @remote is beyond @max_offset.
 */
static inline int truth_hlc_recv(__u64 *hlc, __u64 remote, __u64 pt,
				 __u64 max_offset)
{
	__u64 ptl = truth_hlc_physical(pt);
	__u64 x = *hlc > remote ? *hlc : remote;

	if (!truth_hlc_acceptable(remote, pt, max_offset))
		return -1;
	*hlc = ptl > x ? ptl : x + 1;
	return 0;
}

#endif /* _TRUTH_HLC_H */
