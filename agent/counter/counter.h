/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Commit counting: the agent's link to truth.ko's quorum counting, with a
 * user-space fallback that behaves identically.
 *
 * A counter is one Raft group as the quorum rule sees it (members with
 * weights, this node's id, the current term, its first index and our role,
 * every member's match index, the commit index).  On the kernel path it is a
 * truth.ko group in this network namespace, driven with generic netlink
 * (GROUP_NEW/SET/ACK/GET/DEL) and watched through the "events" multicast
 * group; on the user path the same rule (include/truth/quorum.h) runs here.
 * Both give the same commit sequence and the same return codes for the same
 * calls: the VM test test_counter drives them side by side.
 *
 * Return codes follow the kernel's (include/uapi/linux/truth.h):
 *   -EINVAL  bad configuration (no members, duplicate node, SELF not a
 *            member, zero total weight), a term going backwards, TERM_START
 *            moving back within a term, an ack while not leader
 *   -ERANGE  group id 0
 *   -E2BIG   more than TRUTH_GROUP_MEMBERS_MAX members
 *   -ESTALE  an ack for a term other than the current one
 *   -ENOENT  an ack or a match query for a node that is not a member; on the
 *            kernel path of a KERNEL-mode counter also a kernel group that
 *            disappeared (deleted by someone else, truth.ko unloaded)
 *   -EPERM   kernel path of a KERNEL-mode counter: CAP_NET_ADMIN dropped
 *            after open.  In both cases an AUTO counter instead goes on in
 *            user space (see truth_counter_reason()) behind the same fd.
 *   -EOPNOTSUPP  truth_counter_set_key() on a kernel without group keys
 * A refused call changes nothing.  truth_counter_error() has the reason
 * (the kernel's extack message on the kernel path).
 *
 * Not thread-safe: one thread (truthd's event loop) owns a counter.
 * Documentation/counter.md has the whole story.
 */
#ifndef _TRUTH_AGENT_COUNTER_H
#define _TRUTH_AGENT_COUNTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/truth.h>

enum truth_counter_mode {
	TRUTH_COUNTER_AUTO,	/* kernel if truth.ko takes the group, else user */
	TRUTH_COUNTER_USER,	/* always count here */
	TRUTH_COUNTER_KERNEL,	/* truth.ko or fail */
};

enum truth_counter_path {
	TRUTH_COUNTER_PATH_USER,
	TRUTH_COUNTER_PATH_KERNEL,
	TRUTH_COUNTER_PATH_FASTPATH,	/* kernel counting fed by the eBPF fast path */
};

struct truth_counter_member {
	uint32_t node;		/* node id, unique within the group */
	uint32_t weight;	/* voting weight; 0 = learner */
};

struct truth_counter_cfg {
	uint32_t group_id;	/* Raft group id = kernel group id, >= 1 */
	uint32_t self;		/* this node's id, one of the members */
	uint32_t n_members;
	struct truth_counter_member members[TRUTH_GROUP_MEMBERS_MAX];
	enum truth_counter_mode mode;
	uint64_t commit;	/* commit index known from disk */
};

struct truth_counter;

/*
 * Start counting for @cfg.  The group starts in term 0, TERM_START 0, as a
 * follower, with every match index 0 and the commit index cfg->commit; the
 * threshold is the weighted majority.  NULL on failure with a reason in
 * @err (e.g. "kernel: family 'truth' not found (is truth.ko loaded?)") and
 * errno set to the error.  A kernel group with this id left behind by an
 * earlier run of this node (same SELF) is replaced.
 */
struct truth_counter *truth_counter_open(const struct truth_counter_cfg *cfg,
					 char *err, size_t errlen);
/* Stop counting; on the kernel path deletes the kernel group.  NULL is ok. */
void truth_counter_close(struct truth_counter *c);

enum truth_counter_path truth_counter_path(const struct truth_counter *c);
/* "user" "kernel" "fastpath" */
const char *truth_counter_path_name(enum truth_counter_path p);
/*
 * Why the counter counts where it does: on the user path the reason the
 * kernel was not used ("family 'truth' not found (is truth.ko loaded?)",
 * "mode user", "the kernel group 1 disappeared (deleted, or truth.ko
 * unloaded)"); "" on the kernel path.  For "counting in user space: %s".
 * truth_counter_path() may change from kernel to user during a counter's
 * life (AUTO only); truthd should check it after a call and log the move.
 */
const char *truth_counter_reason(const struct truth_counter *c);
/* The message of the last refused call ("" if none yet). */
const char *truth_counter_error(const struct truth_counter *c);

/*
 * Raft: a new term (resets every match index), its first index, our role.
 * Also for a role change within a term (a candidate that won: same term,
 * leader): every match index is reset then too, as a newly elected leader
 * does (Raft figure 2).  -EINVAL if @term is below the current term or
 * @term_start below the current one within the same term.
 */
int truth_counter_set_term(struct truth_counter *c, uint64_t term,
			   uint64_t term_start, bool leader);
/*
 * Replace the member list: members that stay keep their match index, new
 * ones start at 0, the threshold becomes the weighted majority of the new
 * list.  May advance the commit index (a slow member left).
 */
int truth_counter_set_members(struct truth_counter *c, uint32_t n,
			      const struct truth_counter_member *m);
/*
 * An ack: our own durable index (node == self) or a follower's that reached
 * user space.  -EINVAL when not leader, -ESTALE for another term, -ENOENT
 * for a node that is not a member; an index at or below the member's match
 * index is accepted and changes nothing.
 */
int truth_counter_ack(struct truth_counter *c, uint32_t node, uint64_t term,
		      uint64_t index);
/*
 * Poll for POLLIN; then call truth_counter_poll().  The fd stays the same
 * for the counter's life (an epoll set over the events socket or eventfd),
 * also when an AUTO counter moves to user space.
 */
int truth_counter_fd(struct truth_counter *c);
/*
 * Drain what is pending; 1 and *commit set when the commit index advanced
 * since the last report (to the newest value), 0 if not, <0 on error.
 * Never reports an index below one reported before.
 */
int truth_counter_poll(struct truth_counter *c, uint64_t *commit);
/* A member's match index; -ENOENT if @node is not a member. */
int truth_counter_match(struct truth_counter *c, uint32_t node,
			uint64_t *match);
/*
 * The group's wire key (TRUTH_WIRE_KEY_LEN bytes).  User path: kept here.
 * Kernel path: sent as TRUTH_A_GROUP_KEY when the UAPI has it (the fast
 * path adds it), -EOPNOTSUPP otherwise.
 */
int truth_counter_set_key(struct truth_counter *c, const uint8_t key[32]);
/*
 * The eBPF fast path now feeds (@on) or no longer feeds the kernel group:
 * the path becomes FASTPATH or KERNEL again.  Counting is unchanged (the
 * kernel counts either way); the path says where followers' ACKs arrive.
 * -EINVAL on the user path.
 */
int truth_counter_set_fastpath(struct truth_counter *c, bool on);

#endif /* _TRUTH_AGENT_COUNTER_H */
