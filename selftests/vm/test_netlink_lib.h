/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small raw generic-netlink client for the VM tests of the "truth"
 * family.  Raw rather than libnl because the tests must build malformed
 * messages on purpose (wrong lengths, unknown types, bad nests), read the
 * kernel's extack message and offset, and count every message they send.
 * Header-only so that each test stays one program.
 *
 *   struct tnl t;  tnl_open(&t)             socket, family id, events group
 *   struct tmsg m; tmsg_init(&m, &t, CMD, 0) then tmsg_u32(&m, ATTR, v)...
 *   tnl_talk(&t, &m, cb, arg)               0 or -errno; t.ext_msg has the
 *                                           extack message of a rejection
 */
#ifndef _TRUTH_TEST_NETLINK_LIB_H
#define _TRUTH_TEST_NETLINK_LIB_H

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/truth.h>

#include "truth_kmod.h"

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

#define TMSG_SIZE	16384
#define TNL_RCVBUF	(1 << 20)

struct tnl {
	int fd;
	__u16 family;		/* the truth family's id */
	__u32 events_grp;	/* the "events" multicast group's id */
	__u32 seq;
	int err;		/* errno of the last tnl_talk (negative) */
	char ext_msg[256];	/* extack message of the last error, or "" */
	__u32 ext_offs;		/* extack offset of the offending attribute */
	__u32 ext_miss;		/* extack missing attribute type, or 0 */
	char rbuf[1 << 16];
};

struct tmsg {
	union {
		struct nlmsghdr nlh;
		char buf[TMSG_SIZE];
	};
};

static inline struct nlattr *tmsg_tail(struct tmsg *m)
{
	return (struct nlattr *)(m->buf + NLMSG_ALIGN(m->nlh.nlmsg_len));
}

/* Start a request for @cmd to family @family with extra nlmsg @flags. */
static inline void tmsg_init_raw(struct tmsg *m, __u16 family, __u8 cmd,
				 __u16 flags)
{
	struct genlmsghdr *g;

	memset(m->buf, 0, NLMSG_HDRLEN + GENL_HDRLEN);
	m->nlh.nlmsg_len = NLMSG_HDRLEN + GENL_HDRLEN;
	m->nlh.nlmsg_type = family;
	m->nlh.nlmsg_flags = NLM_F_REQUEST | flags;
	g = (struct genlmsghdr *)NLMSG_DATA(&m->nlh);
	g->cmd = cmd;
	g->version = TRUTH_GENL_VERSION;
}

static inline void tmsg_init(struct tmsg *m, const struct tnl *t, __u8 cmd,
			     __u16 flags)
{
	tmsg_init_raw(m, t->family, cmd, flags);
}

/* Append an attribute with any payload; NULL if it does not fit. */
static inline struct nlattr *tmsg_put(struct tmsg *m, __u16 type,
				      const void *data, size_t len)
{
	struct nlattr *a = tmsg_tail(m);
	size_t total = NLA_ALIGN(NLA_HDRLEN + len);

	if (NLMSG_ALIGN(m->nlh.nlmsg_len) + total > sizeof(m->buf))
		return NULL;
	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	if (len)
		memcpy((char *)a + NLA_HDRLEN, data, len);
	memset((char *)a + NLA_HDRLEN + len, 0, total - NLA_HDRLEN - len);
	m->nlh.nlmsg_len = NLMSG_ALIGN(m->nlh.nlmsg_len) + total;
	return a;
}

static inline void tmsg_u32(struct tmsg *m, __u16 type, __u32 v)
{
	tmsg_put(m, type, &v, sizeof(v));
}

static inline void tmsg_u64(struct tmsg *m, __u16 type, __u64 v)
{
	tmsg_put(m, type, &v, sizeof(v));
}

static inline void tmsg_str(struct tmsg *m, __u16 type, const char *s)
{
	tmsg_put(m, type, s, strlen(s) + 1);
}

static inline struct nlattr *tmsg_nest(struct tmsg *m, __u16 type)
{
	return tmsg_put(m, type | NLA_F_NESTED, NULL, 0);
}

static inline void tmsg_nest_end(struct tmsg *m, struct nlattr *nest)
{
	nest->nla_len = (char *)tmsg_tail(m) - (char *)nest;
}

/* One member nest of GROUP_NEW/GROUP_SET. */
static inline void tmsg_member(struct tmsg *m, __u32 node, __u32 weight)
{
	struct nlattr *n = tmsg_nest(m, TRUTH_A_GROUP_MEMBER);

	tmsg_u32(m, TRUTH_A_MEMBER_NODE, node);
	tmsg_u32(m, TRUTH_A_MEMBER_WEIGHT, weight);
	tmsg_nest_end(m, n);
}

/* ------------------------------------------------------------ parsing */

#define TNL_MAXATTR 32

static inline const struct nlattr *tnl_attrs(const struct nlmsghdr *nlh)
{
	return (const struct nlattr *)((const char *)NLMSG_DATA(nlh) + GENL_HDRLEN);
}

static inline int tnl_attrs_len(const struct nlmsghdr *nlh)
{
	return (int)nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
}

#define tnl_for_each_attr(a, head, len, rem)				\
	for ((a) = (head), (rem) = (len);				\
	     (rem) >= (int)NLA_HDRLEN && (a)->nla_len >= NLA_HDRLEN &&	\
	     (a)->nla_len <= (rem);					\
	     (rem) -= NLA_ALIGN((a)->nla_len),				\
	     (a) = (const struct nlattr *)((const char *)(a) + NLA_ALIGN((a)->nla_len)))

/* Last occurrence of each type into @tb (types above TNL_MAXATTR ignored). */
static inline void tnl_parse(const struct nlattr *head, int len,
			     const struct nlattr **tb)
{
	const struct nlattr *a;
	int rem;

	memset(tb, 0, sizeof(*tb) * (TNL_MAXATTR + 1));
	tnl_for_each_attr(a, head, len, rem) {
		int type = a->nla_type & NLA_TYPE_MASK;

		if (type <= TNL_MAXATTR)
			tb[type] = a;
	}
}

static inline const void *tnl_data(const struct nlattr *a)
{
	return (const char *)a + NLA_HDRLEN;
}

static inline __u32 tnl_u32(const struct nlattr *a)
{
	__u32 v;

	memcpy(&v, tnl_data(a), sizeof(v));
	return v;
}

static inline __u64 tnl_u64(const struct nlattr *a)
{
	__u64 v;

	memcpy(&v, tnl_data(a), sizeof(v));
	return v;
}

/* ------------------------------------------------------------ talking */

typedef int (*tnl_cb)(const struct nlmsghdr *nlh, void *arg);

static inline int tnl_send(struct tnl *t, struct tmsg *m)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

	m->nlh.nlmsg_seq = ++t->seq;
	if (sendto(t->fd, m->buf, m->nlh.nlmsg_len, 0, (struct sockaddr *)&sa,
		   sizeof(sa)) < 0)
		return -errno;
	return 0;
}

static inline void tnl_parse_extack(struct tnl *t, const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = NLMSG_DATA(nlh);
	const struct nlattr *a;
	size_t off = sizeof(*e);
	int rem;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	tnl_for_each_attr(a, (const struct nlattr *)((const char *)e + off),
			  (int)(nlh->nlmsg_len - NLMSG_HDRLEN - off), rem) {
		switch (a->nla_type) {
		case NLMSGERR_ATTR_MSG:
			snprintf(t->ext_msg, sizeof(t->ext_msg), "%.*s",
				 (int)(a->nla_len - NLA_HDRLEN), (const char *)tnl_data(a));
			break;
		case NLMSGERR_ATTR_OFFS:
			t->ext_offs = tnl_u32(a);
			break;
		case NLMSGERR_ATTR_MISS_TYPE:
			t->ext_miss = tnl_u32(a);
			break;
		}
	}
}

/*
 * Receive until the request with sequence @seq is answered: replies go to
 * @cb (may be NULL), the ack or NLMSG_DONE ends it.  0 or -errno.
 */
static inline int tnl_recv(struct tnl *t, __u32 seq, tnl_cb cb, void *arg)
{
	for (;;) {
		ssize_t n = recv(t->fd, t->rbuf, sizeof(t->rbuf), 0);
		const struct nlmsghdr *nlh;
		int len;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		len = (int)n;
		for (nlh = (const struct nlmsghdr *)t->rbuf; NLMSG_OK(nlh, len);
		     nlh = NLMSG_NEXT(nlh, len)) {
			if (nlh->nlmsg_seq != seq)
				continue;	/* stale answer to an earlier request */
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(nlh);

				tnl_parse_extack(t, nlh);
				return e->error;
			}
			if (nlh->nlmsg_type == NLMSG_DONE) {
				tnl_parse_extack(t, nlh);
				return 0;
			}
			if (cb) {
				int ret = cb(nlh, arg);

				if (ret)
					return ret;
			}
		}
	}
}

/* Send @m with NLM_F_ACK and wait for its answer. */
static inline int tnl_talk(struct tnl *t, struct tmsg *m, tnl_cb cb, void *arg)
{
	int ret;

	t->ext_msg[0] = 0;
	t->ext_offs = 0;
	t->ext_miss = 0;
	m->nlh.nlmsg_flags |= NLM_F_ACK;
	ret = tnl_send(t, m);
	if (!ret)
		ret = tnl_recv(t, t->seq, cb, arg);
	t->err = ret;
	return ret;
}

/* Resolve the family and its events group through nlctrl. */
static inline int tnl_resolve_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct tnl *t = arg;
	const struct nlattr *tb[TNL_MAXATTR + 1], *g, *a;
	int rem, rem2;

	tnl_parse(tnl_attrs(nlh), tnl_attrs_len(nlh), tb);
	if (tb[CTRL_ATTR_FAMILY_ID])
		t->family = *(const __u16 *)tnl_data(tb[CTRL_ATTR_FAMILY_ID]);
	if (!tb[CTRL_ATTR_MCAST_GROUPS])
		return 0;
	tnl_for_each_attr(g, (const struct nlattr *)tnl_data(tb[CTRL_ATTR_MCAST_GROUPS]),
			  tb[CTRL_ATTR_MCAST_GROUPS]->nla_len - NLA_HDRLEN, rem) {
		const char *name = NULL;
		__u32 id = 0;

		tnl_for_each_attr(a, (const struct nlattr *)tnl_data(g),
				  g->nla_len - NLA_HDRLEN, rem2) {
			if (a->nla_type == CTRL_ATTR_MCAST_GRP_NAME)
				name = tnl_data(a);
			else if (a->nla_type == CTRL_ATTR_MCAST_GRP_ID)
				id = tnl_u32(a);
		}
		if (name && !strcmp(name, TRUTH_MCGRP_EVENTS))
			t->events_grp = id;
	}
	return 0;
}

/* Open a socket in the current netns and find the family; 0 or -errno. */
static inline int tnl_open(struct tnl *t)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int one = 1, rcvbuf = TNL_RCVBUF;
	struct tmsg m;
	int ret;

	memset(t, 0, sizeof(*t) - sizeof(t->rbuf));
	t->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (t->fd < 0)
		return -errno;
	if (bind(t->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto err;
	setsockopt(t->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(t->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	setsockopt(t->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));

	tmsg_init_raw(&m, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0);
	((struct genlmsghdr *)NLMSG_DATA(&m.nlh))->version = 1;
	tmsg_str(&m, CTRL_ATTR_FAMILY_NAME, TRUTH_GENL_NAME);
	ret = tnl_talk(t, &m, tnl_resolve_cb, t);
	if (ret || !t->family) {
		close(t->fd);
		t->fd = -1;
		return ret ? ret : -ENOENT;
	}
	return 0;
err:
	ret = -errno;
	close(t->fd);
	t->fd = -1;
	return ret;
}

static inline void tnl_close(struct tnl *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}

/* Join the events multicast group on @t (a socket used only to listen). */
static inline int tnl_listen(struct tnl *t)
{
	if (setsockopt(t->fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP,
		       &t->events_grp, sizeof(t->events_grp)) < 0)
		return -errno;
	return 0;
}

/*
 * Wait up to @timeout_ms for one multicast event; copies it to @buf and
 * returns its genl command, 0 on timeout, -errno on error.
 */
static inline int tnl_event(struct tnl *t, int timeout_ms, char *buf, size_t size)
{
	struct pollfd p = { .fd = t->fd, .events = POLLIN };
	const struct nlmsghdr *nlh;
	ssize_t n;
	int ret;

	ret = poll(&p, 1, timeout_ms);
	if (ret <= 0)
		return ret < 0 ? -errno : 0;
	n = recv(t->fd, buf, size, 0);
	if (n < 0)
		return -errno;
	nlh = (const struct nlmsghdr *)buf;
	if (!NLMSG_OK(nlh, (int)n) || nlh->nlmsg_type != t->family)
		return -EPROTO;
	return ((const struct genlmsghdr *)NLMSG_DATA(nlh))->cmd;
}

/* ------------------------------------------------------ truth requests */

/* A group as GROUP_GET reports it. */
struct tgroup {
	__u32 id, self, role, n_members;
	__u64 term, term_start, threshold, commit;
	char name[TRUTH_GROUP_NAME_MAX];
	struct {
		__u32 node, weight;
		__u64 match;
	} members[TRUTH_GROUP_MEMBERS_MAX];
};

static inline void tgroup_parse(const struct nlmsghdr *nlh, struct tgroup *g)
{
	const struct nlattr *tb[TNL_MAXATTR + 1], *a, *mb[TNL_MAXATTR + 1];
	int rem;

	memset(g, 0, sizeof(*g));
	tnl_parse(tnl_attrs(nlh), tnl_attrs_len(nlh), tb);
	if (tb[TRUTH_A_GROUP_ID])
		g->id = tnl_u32(tb[TRUTH_A_GROUP_ID]);
	if (tb[TRUTH_A_GROUP_SELF])
		g->self = tnl_u32(tb[TRUTH_A_GROUP_SELF]);
	if (tb[TRUTH_A_GROUP_ROLE])
		g->role = tnl_u32(tb[TRUTH_A_GROUP_ROLE]);
	if (tb[TRUTH_A_GROUP_TERM])
		g->term = tnl_u64(tb[TRUTH_A_GROUP_TERM]);
	if (tb[TRUTH_A_GROUP_TERM_START])
		g->term_start = tnl_u64(tb[TRUTH_A_GROUP_TERM_START]);
	if (tb[TRUTH_A_GROUP_THRESHOLD])
		g->threshold = tnl_u64(tb[TRUTH_A_GROUP_THRESHOLD]);
	if (tb[TRUTH_A_GROUP_COMMIT])
		g->commit = tnl_u64(tb[TRUTH_A_GROUP_COMMIT]);
	if (tb[TRUTH_A_GROUP_NAME])
		snprintf(g->name, sizeof(g->name), "%s",
			 (const char *)tnl_data(tb[TRUTH_A_GROUP_NAME]));
	tnl_for_each_attr(a, tnl_attrs(nlh), tnl_attrs_len(nlh), rem) {
		if ((a->nla_type & NLA_TYPE_MASK) != TRUTH_A_GROUP_MEMBER ||
		    g->n_members >= TRUTH_GROUP_MEMBERS_MAX)
			continue;
		tnl_parse((const struct nlattr *)tnl_data(a), a->nla_len - NLA_HDRLEN, mb);
		if (mb[TRUTH_A_MEMBER_NODE])
			g->members[g->n_members].node = tnl_u32(mb[TRUTH_A_MEMBER_NODE]);
		if (mb[TRUTH_A_MEMBER_WEIGHT])
			g->members[g->n_members].weight = tnl_u32(mb[TRUTH_A_MEMBER_WEIGHT]);
		if (mb[TRUTH_A_MEMBER_MATCH])
			g->members[g->n_members].match = tnl_u64(mb[TRUTH_A_MEMBER_MATCH]);
		g->n_members++;
	}
}

static inline int tgroup_cb(const struct nlmsghdr *nlh, void *arg)
{
	tgroup_parse(nlh, arg);
	return 0;
}

static inline int truth_group_get(struct tnl *t, __u32 id, struct tgroup *g)
{
	struct tmsg m;

	memset(g, 0, sizeof(*g));
	tmsg_init(&m, t, TRUTH_CMD_GROUP_GET, 0);
	tmsg_u32(&m, TRUTH_A_GROUP_ID, id);
	return tnl_talk(t, &m, tgroup_cb, g);
}

/*
 * Create group @id with members 1..@n (weight 1 each), SELF 1, leader in
 * term @term (term start 1), majority threshold.
 */
static inline int truth_group_add(struct tnl *t, __u32 id, __u32 n, __u64 term)
{
	struct tmsg m;
	__u32 i;

	tmsg_init(&m, t, TRUTH_CMD_GROUP_NEW, 0);
	tmsg_u32(&m, TRUTH_A_GROUP_ID, id);
	tmsg_u32(&m, TRUTH_A_GROUP_SELF, 1);
	for (i = 1; i <= n; i++)
		tmsg_member(&m, i, 1);
	tmsg_u64(&m, TRUTH_A_GROUP_TERM, term);
	tmsg_u64(&m, TRUTH_A_GROUP_TERM_START, 1);
	tmsg_u32(&m, TRUTH_A_GROUP_ROLE, TRUTH_ROLE_LEADER);
	return tnl_talk(t, &m, NULL, NULL);
}

static inline int truth_group_remove(struct tnl *t, __u32 id)
{
	struct tmsg m;

	tmsg_init(&m, t, TRUTH_CMD_GROUP_DEL, 0);
	tmsg_u32(&m, TRUTH_A_GROUP_ID, id);
	return tnl_talk(t, &m, NULL, NULL);
}

/* An ack from @node (0: local ack, no NODE attribute). */
static inline int truth_ack(struct tnl *t, __u32 id, __u64 term, __u32 node,
			    __u64 index)
{
	struct tmsg m;

	tmsg_init(&m, t, TRUTH_CMD_GROUP_ACK, 0);
	tmsg_u32(&m, TRUTH_A_GROUP_ID, id);
	tmsg_u64(&m, TRUTH_A_GROUP_TERM, term);
	tmsg_u64(&m, TRUTH_A_GROUP_INDEX, index);
	if (node)
		tmsg_u32(&m, TRUTH_A_GROUP_NODE, node);
	return tnl_talk(t, &m, NULL, NULL);
}

/* The clocks as a clock command reports them. */
struct tclock {
	__u64 lamport, hlc, max_offset;
	__u32 group_id, n;
	struct {
		__u32 node;
		__u64 counter;
	} vc[TRUTH_VCLOCK_MAX];
};

static inline int tclock_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct nlattr *tb[TNL_MAXATTR + 1], *a, *vb[TNL_MAXATTR + 1];
	struct tclock *c = arg;
	int rem;

	memset(c, 0, sizeof(*c));
	tnl_parse(tnl_attrs(nlh), tnl_attrs_len(nlh), tb);
	if (tb[TRUTH_A_CLOCK_LAMPORT])
		c->lamport = tnl_u64(tb[TRUTH_A_CLOCK_LAMPORT]);
	if (tb[TRUTH_A_CLOCK_HLC])
		c->hlc = tnl_u64(tb[TRUTH_A_CLOCK_HLC]);
	if (tb[TRUTH_A_CLOCK_HLC_MAX_OFFSET])
		c->max_offset = tnl_u64(tb[TRUTH_A_CLOCK_HLC_MAX_OFFSET]);
	if (tb[TRUTH_A_CLOCK_GROUP_ID])
		c->group_id = tnl_u32(tb[TRUTH_A_CLOCK_GROUP_ID]);
	tnl_for_each_attr(a, tnl_attrs(nlh), tnl_attrs_len(nlh), rem) {
		if ((a->nla_type & NLA_TYPE_MASK) != TRUTH_A_CLOCK_VCLOCK ||
		    c->n >= TRUTH_VCLOCK_MAX)
			continue;
		tnl_parse((const struct nlattr *)tnl_data(a), a->nla_len - NLA_HDRLEN, vb);
		if (vb[TRUTH_A_VCLOCK_NODE])
			c->vc[c->n].node = tnl_u32(vb[TRUTH_A_VCLOCK_NODE]);
		if (vb[TRUTH_A_VCLOCK_COUNTER])
			c->vc[c->n].counter = tnl_u64(vb[TRUTH_A_VCLOCK_COUNTER]);
		c->n++;
	}
	return 0;
}

/* CLOCK_GET or CLOCK_TICK, with group @id (0: none). */
static inline int truth_clock(struct tnl *t, __u8 cmd, __u32 id, struct tclock *c)
{
	struct tmsg m;

	tmsg_init(&m, t, cmd, 0);
	if (id)
		tmsg_u32(&m, TRUTH_A_CLOCK_GROUP_ID, id);
	return tnl_talk(t, &m, tclock_cb, c);
}

struct tstats {
	__u64 acks, acks_local, acks_redundant, acks_stale, advances, events;
};

static inline int tstats_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct nlattr *tb[TNL_MAXATTR + 1];
	struct tstats *s = arg;

	tnl_parse(tnl_attrs(nlh), tnl_attrs_len(nlh), tb);
#define TSTAT(f, a) s->f = tb[a] ? tnl_u64(tb[a]) : ~0ULL
	TSTAT(acks, TRUTH_A_STATS_ACKS);
	TSTAT(acks_local, TRUTH_A_STATS_ACKS_LOCAL);
	TSTAT(acks_redundant, TRUTH_A_STATS_ACKS_REDUNDANT);
	TSTAT(acks_stale, TRUTH_A_STATS_ACKS_STALE);
	TSTAT(advances, TRUTH_A_STATS_COMMIT_ADVANCES);
	TSTAT(events, TRUTH_A_STATS_COMMIT_EVENTS);
#undef TSTAT
	return 0;
}

static inline int truth_stats(struct tnl *t, __u32 id, struct tstats *s)
{
	struct tmsg m;

	memset(s, 0, sizeof(*s));
	tmsg_init(&m, t, TRUTH_CMD_STATS_GET, 0);
	tmsg_u32(&m, TRUTH_A_STATS_GROUP_ID, id);
	return tnl_talk(t, &m, tstats_cb, s);
}

/* Count the groups a dump returns; their ids into @ids (up to @max). */
struct tdump {
	unsigned int n, max;
	__u32 *ids;
};

static inline int tdump_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct tdump *d = arg;
	struct tgroup g;

	tgroup_parse(nlh, &g);
	if (d->n < d->max)
		d->ids[d->n] = g.id;
	d->n++;
	return 0;
}

static inline int truth_group_dump(struct tnl *t, __u32 *ids, unsigned int max)
{
	struct tdump d = { .max = max, .ids = ids };
	struct tmsg m;
	int ret;

	tmsg_init(&m, t, TRUTH_CMD_GROUP_GET, NLM_F_DUMP);
	ret = tnl_talk(t, &m, tdump_cb, &d);
	return ret ? ret : (int)d.n;
}

/*
 * Every test program loads truth.ko if it is not loaded and, if it loaded
 * it, unloads it when it exits, leaving the system as it found it.  Test
 * cases run in forked children; these run once, in the parent.  Tests that
 * load and unload the module themselves define TNL_NO_MODULE_GUARD.
 */
#ifndef TNL_NO_MODULE_GUARD
static bool tnl_module_loaded_here;

__attribute__((constructor)) static void tnl_module_up(void)
{
	if (truth_module_loaded())
		return;
	if (truth_module_load() == 0)
		tnl_module_loaded_here = true;
	else
		fprintf(stderr, "# cannot load %s\n", truth_ko_path());
}

__attribute__((destructor)) static void tnl_module_down(void)
{
	if (tnl_module_loaded_here && truth_module_unload())
		fprintf(stderr, "# cannot unload truth.ko\n");
}
#endif /* TNL_NO_MODULE_GUARD */

#endif /* _TRUTH_TEST_NETLINK_LIB_H */
