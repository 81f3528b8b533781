/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _TRUTH_CLOCKS_H
#define _TRUTH_CLOCKS_H

#include <linux/spinlock.h>
#include <linux/types.h>
#include <truth/vclock.h>

struct netlink_ext_ack;
struct truth_group;
struct truth_net;

/* A namespace's scalar clocks.  @lock is taken with BHs off (fast path). */
struct truth_clocks {
	spinlock_t lock;	/* protects the fields below */
	u64 lamport;		/* Lamport time */
	u64 hlc;		/* hybrid logical clock, include/truth/hlc.h */
	u64 hlc_max_offset;	/* ns a remote HLC may be ahead of us */
};

/* What a clock command replies with. */
struct truth_clock_snap {
	u64 lamport;
	u64 hlc;
	u64 hlc_max_offset;
	bool has_group;		/* @group_id and @vclock are valid */
	u32 group_id;
	struct truth_vclock vclock;	/* the group's vector clock */
};

/* A remote stamp to merge; absent parts are not merged. */
struct truth_clock_remote {
	bool has_lamport, has_hlc, has_vclock;
	u64 lamport;
	u64 hlc;
	struct truth_vclock vclock;
};

void truth_clocks_init(struct truth_clocks *c);
int truth_clocks_get(struct truth_net *tn, struct truth_group *g,
		     struct truth_clock_snap *out,
		     struct netlink_ext_ack *extack);
int truth_clocks_tick(struct truth_net *tn, struct truth_group *g,
		      struct truth_clock_snap *out,
		      struct netlink_ext_ack *extack);
int truth_clocks_merge(struct truth_net *tn, struct truth_group *g,
		       const struct truth_clock_remote *r,
		       struct truth_clock_snap *out,
		       struct netlink_ext_ack *extack);
int truth_clocks_event_locked(struct truth_net *tn, struct truth_group *g,
			      const struct truth_clock_remote *r,
			      struct truth_clock_snap *out);
void truth_clocks_set_max_offset(struct truth_net *tn, u64 max_offset);

#endif /* _TRUTH_CLOCKS_H */
