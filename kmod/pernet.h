/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _TRUTH_PERNET_H
#define _TRUTH_PERNET_H

#include <linux/atomic.h>
#include <linux/mutex.h>
#include <linux/xarray.h>
#include <net/net_namespace.h>

#include "clocks.h"

/*
 * The fast path's counters of datagrams that name no group of the
 * namespace (TRUTH_A_STATS_FP_NS_*); bumped from softirq on any CPU.
 */
struct truth_fp_ns_stats {
	atomic64_t malformed;	/* UDP on the port, not a truth datagram */
	atomic64_t fragments;	/* IP fragments on the port */
	atomic64_t no_group;	/* naming a group we do not have */
};

/*
 * Everything truth.ko keeps for one network namespace.
 *
 * Locking: @config_lock (a mutex, process context only) serialises every
 * change to the set of groups and to a group's configuration, so those never
 * race with each other.  @groups is read under RCU by everything else (acks,
 * gets, clock calls); a group's own state has its own spinlock (group.h), and
 * the clocks theirs (clocks.h).  Order: config_lock, then a group's lock, then
 * the clock lock.
 */
struct truth_net {
	struct net *net;		/* back pointer, for events */
	struct mutex config_lock;	/* serialises group create/set/delete */
	struct xarray groups;		/* id -> struct truth_group, RCU readers */
	unsigned int n_groups;		/* under config_lock */
	struct truth_clocks clocks;	/* the namespace's Lamport and HLC */
	struct truth_fp_ns_stats fp_stats;	/* fast path, no group named */
};

struct truth_net *truth_net(const struct net *net);
void truth_fp_ns_stats_reset(struct truth_fp_ns_stats *s);

int truth_pernet_init(void);
void truth_pernet_uninit(void);

#endif /* _TRUTH_PERNET_H */
