// SPDX-License-Identifier: GPL-2.0
/*
 * Commit counting: the API, the checks both paths share, and the user path.
 *
 * The user path is truth.ko's group code (kmod/group.c) replayed in user
 * space: the same checks in the same order with the same errors and
 * messages, the same rule (include/truth/quorum.h), so that truthd sees no
 * difference between the paths but speed.  An eventfd stands in for the
 * events socket: it becomes readable when the commit index advances.  The
 * fd truthd polls is an epoll set holding one or the other, so it survives
 * an AUTO counter's move to user space when its kernel group disappears.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "counter_int.h"

int truth_counter_fail(struct truth_counter *c, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->error, sizeof(c->error), fmt, ap);
	va_end(ap);
	return ret;
}

/*
 * What GROUP_NEW and GROUP_SET check about a member list, with the
 * kernel's errors and extack messages.  Done before either path acts, so
 * that a bad list never reaches the kernel half-checked (an empty list
 * would even mean "members unchanged" to GROUP_SET).
 */
static int counter_check_members(struct truth_counter *c, uint32_t self,
				 uint32_t n, const struct truth_counter_member *m)
{
	uint64_t total = 0;
	bool has_self = false;
	uint32_t i, j;

	if (n == 0)
		return truth_counter_fail(c, -EINVAL, "missing attribute TRUTH_A_GROUP_MEMBER");
	if (n > TRUTH_GROUP_MEMBERS_MAX)
		return truth_counter_fail(c, -E2BIG, "more than TRUTH_GROUP_MEMBERS_MAX members");
	for (i = 0; i < n; i++) {
		for (j = 0; j < i; j++)
			if (m[j].node == m[i].node)
				return truth_counter_fail(c, -EINVAL,
							  "duplicate member node id");
		total += m[i].weight;
		if (m[i].node == self)
			has_self = true;
	}
	if (!has_self)
		return truth_counter_fail(c, -EINVAL, "SELF is not a member of the group");
	if (!total)
		return truth_counter_fail(c, -EINVAL, "the members' total weight is zero");
	return 0;
}

static struct truth_quorum_member *user_member(struct truth_counter *c,
					       uint32_t node)
{
	uint32_t i;

	for (i = 0; i < c->u.n_members; i++)
		if (c->u.members[i].id == node)
			return &c->u.members[i];
	return NULL;
}

/* Recompute the commit index; wake the poller if it advanced. */
static void user_recommit(struct truth_counter *c)
{
	struct truth_counter_user *u = &c->u;
	uint64_t one = 1, commit;

	commit = truth_quorum_commit(u->members, u->n_members, u->threshold,
				     u->term_start, u->commit);
	if (commit == u->commit)
		return;
	u->commit = commit;
	/* readable already: one wakeup stands for any number of advances
	 * (a syscall saved per ack on a busy leader) */
	if (u->efd_armed)
		return;
	/* a full counter (2^64 - 2 wakeups) is still readable: nothing lost */
	if (write(u->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return;
	u->efd_armed = true;
}

static void user_set_members(struct truth_counter *c, uint32_t n,
			     const struct truth_counter_member *m)
{
	struct truth_quorum_member next[TRUTH_GROUP_MEMBERS_MAX];
	const struct truth_quorum_member *old;
	uint32_t i;

	/* members that stay keep what they have acknowledged */
	for (i = 0; i < n; i++) {
		old = user_member(c, m[i].node);
		next[i].id = m[i].node;
		next[i].weight = m[i].weight;
		next[i].match = old ? old->match : 0;
	}
	memcpy(c->u.members, next, n * sizeof(next[0]));
	c->u.n_members = n;
	c->u.threshold = truth_quorum_majority(truth_quorum_total_weight(next, n));
}

/* The user path's state for @cfg; also the kernel path's shadow. */
static void user_init(struct truth_counter *c, const struct truth_counter_cfg *cfg)
{
	c->u.n_members = 0;
	user_set_members(c, cfg->n_members, cfg->members);
	c->u.term = 0;
	c->u.term_start = 0;
	c->u.leader = false;
	c->u.commit = cfg->commit;
}

static int counter_watch(struct truth_counter *c, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN };

	return epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

struct truth_counter *truth_counter_open(const struct truth_counter_cfg *cfg,
					 char *err, size_t errlen)
{
	char kerr[sizeof(((struct truth_counter *)0)->reason)] = "";
	struct truth_counter *c;
	int ret;

	if (err && errlen)
		err[0] = 0;
	c = calloc(1, sizeof(*c));
	if (!c) {
		if (err)
			snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	c->u.efd = -1;
	c->epfd = -1;
	ret = -EINVAL;
	if (cfg->mode != TRUTH_COUNTER_AUTO && cfg->mode != TRUTH_COUNTER_USER &&
	    cfg->mode != TRUTH_COUNTER_KERNEL) {
		truth_counter_fail(c, ret, "unknown mode %d", (int)cfg->mode);
		goto err;
	}
	ret = -ERANGE;
	if (cfg->group_id == 0) {
		truth_counter_fail(c, ret, "group id 0 is not a valid group id (1..4294967295)");
		goto err;
	}
	ret = counter_check_members(c, cfg->self, cfg->n_members, cfg->members);
	if (ret)
		goto err;
	c->mode = cfg->mode;
	c->group_id = cfg->group_id;
	c->self = cfg->self;
	c->reported = cfg->commit;
	user_init(c, cfg);
	c->u.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	c->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (c->u.efd < 0 || c->epfd < 0) {
		ret = truth_counter_fail(c, -errno, "eventfd/epoll: %s", strerror(errno));
		goto err;
	}

	if (cfg->mode != TRUTH_COUNTER_USER) {
		ret = truth_kc_open(c, cfg, kerr, sizeof(kerr));
		if (!ret) {
			c->path = TRUTH_COUNTER_PATH_KERNEL;
			ret = counter_watch(c, truth_kc_fd(c));
			if (!ret)
				return c;
			truth_kc_close(c);
			truth_counter_fail(c, ret, "epoll: %s", strerror(-ret));
			goto err;
		}
		if (cfg->mode == TRUTH_COUNTER_KERNEL) {
			truth_counter_fail(c, ret, "kernel: %s", kerr);
			goto err;
		}
		snprintf(c->reason, sizeof(c->reason), "%s", kerr);
	} else {
		snprintf(c->reason, sizeof(c->reason), "mode user");
	}
	c->path = TRUTH_COUNTER_PATH_USER;
	ret = counter_watch(c, c->u.efd);
	if (ret) {
		truth_counter_fail(c, ret, "epoll: %s", strerror(-ret));
		goto err;
	}
	return c;
err:
	if (err)
		snprintf(err, errlen, "%s", c->error);
	if (c->u.efd >= 0)
		close(c->u.efd);
	if (c->epfd >= 0)
		close(c->epfd);
	free(c);
	errno = -ret;
	return NULL;
}

void truth_counter_close(struct truth_counter *c)
{
	if (!c)
		return;
	if (c->path != TRUTH_COUNTER_PATH_USER)
		truth_kc_close(c);
	close(c->u.efd);
	close(c->epfd);
	/* the key must not outlive the counter in freed memory */
	memset(c, 0, sizeof(*c));
	free(c);
}

/*
 * The kernel can no longer count for an AUTO counter (its group disappeared,
 * or we lost CAP_NET_ADMIN): go on in user space from the shadow state,
 * with the commit index already reported as the floor.  The fd stays.
 */
static void counter_to_user(struct truth_counter *c, const char *why)
{
	uint64_t one = 1;

	snprintf(c->reason, sizeof(c->reason), "%s", why);
	epoll_ctl(c->epfd, EPOLL_CTL_DEL, truth_kc_fd(c), NULL);
	/* deletes a group that is still there if it may (it may not on EPERM) */
	truth_kc_close(c);
	c->path = TRUTH_COUNTER_PATH_USER;
	if (c->u.commit < c->reported)
		c->u.commit = c->reported;
	/* no way to report a failure here: without the fd, poll still works */
	counter_watch(c, c->u.efd);
	/* one wakeup, so that the caller polls and sees where it stands */
	if (write(c->u.efd, &one, sizeof(one)) < 0)
		return;
	c->u.efd_armed = true;
}

/*
 * After a kernel call failed with @ret: true if the counter has moved to
 * user space and the call is to be made there.  Only an AUTO counter moves;
 * a KERNEL one keeps the error.  -ENOENT can mean the group is gone (or
 * just "no such member", hence the check); -EPERM means the process lost
 * CAP_NET_ADMIN after open (netlink checks the caller's capabilities on
 * every request, not only the opener's).
 */
static bool counter_fell_back(struct truth_counter *c, int ret)
{
	char saved[sizeof(c->error)], why[sizeof(c->reason)];
	bool lost;

	if ((ret != -ENOENT && ret != -EPERM) || c->path == TRUTH_COUNTER_PATH_USER)
		return false;
	memcpy(saved, c->error, sizeof(saved));
	if (ret == -EPERM) {
		lost = true;
		snprintf(why, sizeof(why), "the kernel refused a request: %s", saved);
	} else {
		lost = truth_kc_lost(c);
		snprintf(why, sizeof(why),
			 "the kernel group %u disappeared (deleted, or truth.ko unloaded)",
			 c->group_id);
	}
	memcpy(c->error, saved, sizeof(saved));
	if (!lost || c->mode != TRUTH_COUNTER_AUTO)
		return false;
	counter_to_user(c, why);
	c->error[0] = 0;
	return true;
}

/* The shadow follows a kernel call that succeeded; its verdict is moot. */
static void counter_shadowed(struct truth_counter *c)
{
	c->error[0] = 0;
}

enum truth_counter_path truth_counter_path(const struct truth_counter *c)
{
	return c->path;
}

const char *truth_counter_path_name(enum truth_counter_path p)
{
	switch (p) {
	case TRUTH_COUNTER_PATH_USER:
		return "user";
	case TRUTH_COUNTER_PATH_KERNEL:
		return "kernel";
	case TRUTH_COUNTER_PATH_FASTPATH:
		return "fastpath";
	}
	return "unknown";
}

const char *truth_counter_reason(const struct truth_counter *c)
{
	return c->path == TRUTH_COUNTER_PATH_USER ? c->reason : "";
}

const char *truth_counter_error(const struct truth_counter *c)
{
	return c->error;
}

/* kmod/group.c truth_group_set_prepare(), for what set_term sends. */
static int user_set_term(struct truth_counter *c, uint64_t term,
			 uint64_t term_start, bool leader)
{
	struct truth_counter_user *u = &c->u;
	uint32_t i;

	if (term < u->term)
		return truth_counter_fail(c, -EINVAL, "the term must not go backwards");
	/* Raft §5.4.2: moving the start back would count older entries */
	if (term == u->term && term_start < u->term_start)
		return truth_counter_fail(c, -EINVAL,
					  "TERM_START must not move back within a term");
	u->term = term;
	u->term_start = term_start;
	u->leader = leader;
	/* Raft figure 2: a leader's matchIndex starts at 0 */
	for (i = 0; i < u->n_members; i++)
		u->members[i].match = 0;
	user_recommit(c);
	return 0;
}

int truth_counter_set_term(struct truth_counter *c, uint64_t term,
			   uint64_t term_start, bool leader)
{
	int ret;

	c->error[0] = 0;
	if (c->path != TRUTH_COUNTER_PATH_USER) {
		ret = truth_kc_set_term(c, term, term_start, leader);
		if (!counter_fell_back(c, ret)) {
			if (!ret) {
				user_set_term(c, term, term_start, leader);
				counter_shadowed(c);
			}
			return ret;
		}
	}
	return user_set_term(c, term, term_start, leader);
}

int truth_counter_set_members(struct truth_counter *c, uint32_t n,
			      const struct truth_counter_member *m)
{
	int ret;

	c->error[0] = 0;
	ret = counter_check_members(c, c->self, n, m);
	if (ret)
		return ret;
	if (c->path != TRUTH_COUNTER_PATH_USER) {
		ret = truth_kc_set_members(c, n, m);
		if (!counter_fell_back(c, ret)) {
			if (!ret) {
				user_set_members(c, n, m);
				user_recommit(c);
			}
			return ret;
		}
	}
	user_set_members(c, n, m);
	user_recommit(c);
	return 0;
}

/* kmod/group.c truth_group_ack(): the same checks in the same order. */
static int user_ack(struct truth_counter *c, uint32_t node, uint64_t term,
		    uint64_t index)
{
	struct truth_quorum_member *m;

	if (!c->u.leader)
		return truth_counter_fail(c, -EINVAL, "this node is not the group's leader");
	if (term != c->u.term)
		return truth_counter_fail(c, -ESTALE, "the ack's term is not the group's term");
	m = user_member(c, node);
	if (!m)
		return truth_counter_fail(c, -ENOENT, "no such member in the group");
	/* a late or duplicated ack changes nothing */
	if (index <= m->match)
		return 0;
	m->match = index;
	user_recommit(c);
	return 0;
}

int truth_counter_ack(struct truth_counter *c, uint32_t node, uint64_t term,
		      uint64_t index)
{
	int ret;

	c->error[0] = 0;
	if (c->path != TRUTH_COUNTER_PATH_USER) {
		ret = truth_kc_ack(c, node, term, index);
		if (!counter_fell_back(c, ret)) {
			if (!ret) {
				user_ack(c, node, term, index);
				counter_shadowed(c);
			}
			return ret;
		}
	}
	return user_ack(c, node, term, index);
}

int truth_counter_fd(struct truth_counter *c)
{
	return c->epfd;
}

int truth_counter_poll(struct truth_counter *c, uint64_t *commit)
{
	uint64_t newest = c->reported, n;
	int ret;

	if (c->path != TRUTH_COUNTER_PATH_USER) {
		ret = truth_kc_drain(c, &newest);
		if (ret && !counter_fell_back(c, ret))
			return ret;
	}
	if (c->path == TRUTH_COUNTER_PATH_USER) {
		/* only when written: a read that would say EAGAIN is a wasted syscall */
		if (c->u.efd_armed && read(c->u.efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
			return truth_counter_fail(c, -errno, "eventfd: %s", strerror(errno));
		c->u.efd_armed = false;
		/* commits the kernel reported before its group vanished count */
		if (newest > c->u.commit)
			c->u.commit = newest;
		newest = c->u.commit;
	}
	if (newest <= c->reported)
		return 0;
	c->reported = newest;
	*commit = newest;
	return 1;
}

int truth_counter_match(struct truth_counter *c, uint32_t node, uint64_t *match)
{
	const struct truth_quorum_member *m;

	int ret;

	c->error[0] = 0;
	if (c->path != TRUTH_COUNTER_PATH_USER) {
		ret = truth_kc_match(c, node, match);
		if (!counter_fell_back(c, ret))
			return ret;
	}
	m = user_member(c, node);
	if (!m)
		return truth_counter_fail(c, -ENOENT, "no such member in the group");
	*match = m->match;
	return 0;
}

int truth_counter_set_key(struct truth_counter *c, const uint8_t key[32])
{
	int ret;

	c->error[0] = 0;
	if (c->path != TRUTH_COUNTER_PATH_USER) {
		ret = truth_kc_set_key(c, key);
		if (!counter_fell_back(c, ret)) {
			if (ret)
				return ret;
			/* the shadow keeps it too, for a move to user space */
		}
	}
	memcpy(c->u.key, key, sizeof(c->u.key));
	c->u.has_key = true;
	return 0;
}

int truth_counter_set_fastpath(struct truth_counter *c, bool on)
{
	c->error[0] = 0;
	if (c->path == TRUTH_COUNTER_PATH_USER)
		return truth_counter_fail(c, -EINVAL,
					  "the fast path needs the kernel path");
	c->path = on ? TRUTH_COUNTER_PATH_FASTPATH : TRUTH_COUNTER_PATH_KERNEL;
	return 0;
}
