/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _TRUTH_GROUP_H
#define _TRUTH_GROUP_H

#include <linux/rcupdate.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <truth/quorum.h>
#include <truth/vclock.h>
#include <truth/wire.h>
#include <uapi/linux/truth.h>

struct netlink_ext_ack;
struct truth_net;

/* Counters of one group, TRUTH_A_STATS_* in the UAPI. */
struct truth_group_stats {
	u64 acks;		/* acknowledgements accepted */
	u64 acks_local;		/* of those, SELF's own */
	u64 acks_redundant;	/* of those, not raising the match index */
	u64 acks_stale;		/* refused: wrong term or not leader */
	u64 commit_advances;	/* times the commit index moved */
	u64 commit_events;	/* TRUTH_CMD_EVENT_COMMIT sent */
	/* the fast path's, TRUTH_A_STATS_FP_* */
	u64 fp_acks;		/* ACKs counted and consumed */
	u64 fp_passed;		/* authentic, passed up unchanged */
	u64 fp_bad_mac;		/* dropped: MAC mismatch */
	u64 fp_replay;		/* dropped: replayed or too old */
	u64 fp_stale;		/* authentic ACK of another term, passed up */
	u64 fp_malformed;	/* header rule broken, passed up */
	u64 fp_not_for_us;	/* other receiver, non-member sender */
	u64 fp_no_key;		/* group has no key, passed up */
	u64 fp_stamped;		/* egress datagrams stamped */
	u64 fp_observed;	/* ingress datagrams whose clocks were merged */
};

/*
 * One group (one replicated log) as this node sees it.
 *
 * Locking: @lock, taken with BHs off because the fast path acks from softirq,
 * protects every field below it.  @id, @self and @tn never change.  Fields
 * only a configuration change writes (members' ids and weights, threshold,
 * term, role, name) are written with both the namespace's config_lock and
 * @lock held, so a config writer may read them holding either.  The group is
 * found through the namespace's xarray under RCU and freed with kfree_rcu()
 * after being erased from it and marked @dead under @lock; anyone holding
 * @lock who finds @dead set must treat the group as gone.
 */
struct truth_group {
	struct rcu_head rcu;
	struct truth_net *tn;		/* owning namespace */
	u32 id;				/* TRUTH_A_GROUP_ID */
	u32 self;			/* this node's id */

	spinlock_t lock;		/* protects everything below */
	bool dead;			/* erased; being freed */
	bool event_busy;		/* a CPU is sending commit events */
	u32 role;			/* enum truth_role */
	u32 n_members;			/* entries used in @members */
	u64 threshold;			/* weight a quorum needs */
	u64 term;			/* current term */
	u64 term_start;			/* first index of @term */
	u64 commit;			/* commit index, never decreases */
	u64 commit_sent;		/* commit index of the last event */
	char name[TRUTH_GROUP_NAME_MAX];	/* label, may be empty */
	struct truth_quorum_member members[TRUTH_GROUP_MEMBERS_MAX];
	struct truth_vclock vclock;	/* vector clock over node ids */
	struct truth_group_stats stats;
	bool keyed;			/* @key was set */
	u8 key[TRUTH_WIRE_KEY_LEN];	/* wire MAC key, never read back */
	/* per member, parallel to @members: seqs seen from that sender */
	struct truth_replay replay[TRUTH_GROUP_MEMBERS_MAX];
};

/* A parsed GROUP_NEW or GROUP_SET request; has_* say what was given. */
struct truth_group_config {
	u32 id;
	u32 self;
	u32 flags;			/* enum truth_group_flag */
	bool has_members, has_threshold, has_term, has_term_start;
	bool has_role, has_commit, has_name, has_key;
	u32 role;
	u32 n_members;
	u64 threshold;
	u64 term;
	u64 term_start;
	u64 commit;
	char name[TRUTH_GROUP_NAME_MAX];
	u8 key[TRUTH_WIRE_KEY_LEN];
	struct truth_quorum_member members[TRUTH_GROUP_MEMBERS_MAX];
};

struct truth_group *truth_group_lookup_rcu(struct truth_net *tn, u32 id);
int truth_group_new(struct truth_net *tn, struct truth_group_config *cfg,
		    struct netlink_ext_ack *extack);
int truth_group_set(struct truth_net *tn, struct truth_group_config *cfg,
		    struct netlink_ext_ack *extack);
int truth_group_del(struct truth_net *tn, u32 id,
		    struct netlink_ext_ack *extack);
int truth_group_ack(struct truth_group *g, u64 term, u64 index,
		    bool has_node, u32 node, struct netlink_ext_ack *extack);
int truth_group_ack_locked(struct truth_group *g, u64 term, u64 index,
			   u32 node, bool *send, struct netlink_ext_ack *extack);
int truth_group_member_index(const struct truth_group *g, u32 node);
void truth_group_send_commits(struct truth_group *g);
int truth_group_stats(struct truth_group *g, struct truth_group_stats *out,
		      bool reset, struct netlink_ext_ack *extack);
void truth_groups_destroy(struct truth_net *tn);

#endif /* _TRUTH_GROUP_H */
