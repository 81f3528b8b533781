/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Commit counting, internal: the counter's state and the kernel path's
 * entry points.  counter.c holds the API, the checks both paths share and
 * the user path; counter_kernel.c the generic netlink side.
 */
#ifndef _TRUTH_AGENT_COUNTER_INT_H
#define _TRUTH_AGENT_COUNTER_INT_H

#include <truth/quorum.h>

#include "counter.h"

struct nl_sock;

/*
 * The user path: the group's state, as truth.ko keeps it.  On the kernel
 * path the same state is kept as a shadow, from the calls that succeeded,
 * so that an AUTO counter whose kernel group disappears can go on in user
 * space (its match indexes are lower bounds: acks counted only in the
 * kernel are missing, and the next ones bring them back).
 */
struct truth_counter_user {
	struct truth_quorum_member members[TRUTH_GROUP_MEMBERS_MAX];
	uint32_t n_members;
	uint64_t threshold;	/* weighted majority of the members */
	uint64_t term;
	uint64_t term_start;	/* first index of the term (Raft §5.4.2) */
	uint64_t commit;	/* the rule's commit index */
	bool leader;		/* only a leader counts acks */
	int efd;		/* eventfd: readable when commit > reported */
	bool efd_armed;		/* written since the last read */
	bool has_key;
	uint8_t key[TRUTH_WIRE_KEY_LEN];
};

/* The kernel path: two sockets, so events never interleave with replies. */
struct truth_counter_kernel {
	struct nl_sock *cmd;	/* requests and their answers, blocking */
	struct nl_sock *ev;	/* the "events" multicast group, non-blocking */
	int family;		/* the truth family's id */
	bool created;		/* our group exists in the kernel */
};

struct truth_counter {
	enum truth_counter_path path;
	enum truth_counter_mode mode;
	int epfd;		/* truth_counter_fd(), kept across a move to user */
	uint32_t group_id;
	uint32_t self;
	uint64_t reported;	/* commit index last reported by poll */
	struct truth_counter_user u;
	struct truth_counter_kernel k;
	char reason[320];	/* why this path (user path only) */
	char error[256];	/* message of the last refused call */
};

/* Set c->error (printf-style) and return @ret. */
int truth_counter_fail(struct truth_counter *c, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Kernel path.  kc_open() returns 0 or -errno with a reason in @err; on
 * success the group exists in the kernel with cfg's members and commit.
 */
int truth_kc_open(struct truth_counter *c, const struct truth_counter_cfg *cfg,
		  char *err, size_t errlen);
void truth_kc_close(struct truth_counter *c);
/* Whether our kernel group is gone (deleted, or the module unloaded). */
bool truth_kc_lost(struct truth_counter *c);
int truth_kc_set_term(struct truth_counter *c, uint64_t term,
		      uint64_t term_start, bool leader);
int truth_kc_set_members(struct truth_counter *c, uint32_t n,
			 const struct truth_counter_member *m);
int truth_kc_ack(struct truth_counter *c, uint32_t node, uint64_t term,
		 uint64_t index);
int truth_kc_fd(struct truth_counter *c);
/* Newest commit index seen since the last call into *commit; 0 or -errno. */
int truth_kc_drain(struct truth_counter *c, uint64_t *commit);
int truth_kc_match(struct truth_counter *c, uint32_t node, uint64_t *match);
int truth_kc_set_key(struct truth_counter *c, const uint8_t key[32]);

#endif /* _TRUTH_AGENT_COUNTER_INT_H */
