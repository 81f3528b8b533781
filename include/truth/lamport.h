/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * Lamport clock (Lamport 1978, "Time, clocks, and the ordering of events"),
 * shared by truth.ko and truthd.
 *
 * A local event or a send advances the clock by one; a receive sets it past
 * both the local and the remote value.  If a happened before b then
 * L(a) < L(b).  The clock saturates at TRUTH_LAMPORT_MAX instead of wrapping:
 * truth.ko refuses remote values above it, so a correct cluster never gets
 * there.
 *
 * Pure: no allocation, no I/O, no locking; the caller serialises.
 */
#ifndef _TRUTH_LAMPORT_H
#define _TRUTH_LAMPORT_H

#include <linux/types.h>

/* Largest value a remote may send (2^63 - 1); leaves room to count on. */
#define TRUTH_LAMPORT_MAX	((__u64)0x7fffffffffffffffULL)

/* A local event or a send: the new time, which the caller stamps. */
static inline __u64 truth_lamport_tick(__u64 *clock)
{
	if (*clock != ~(__u64)0)
		(*clock)++;
	return *clock;
}

/* A receive of a message stamped @remote. */
static inline __u64 truth_lamport_recv(__u64 *clock, __u64 remote)
{
	if (remote > *clock)
		*clock = remote;
	return truth_lamport_tick(clock);
}

#endif /* _TRUTH_LAMPORT_H */
