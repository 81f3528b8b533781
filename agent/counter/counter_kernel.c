// SPDX-License-Identifier: GPL-2.0
/*
 * Commit counting, kernel path: the group lives in truth.ko and is driven
 * over the generic netlink family "truth" (libnl-genl-3).
 *
 * Two sockets: requests go on a blocking one and wait for their answer;
 * commit events arrive on a second, non-blocking one joined to the "events"
 * multicast group, whose fd truthd polls.  Keeping them apart means a reply
 * never has to be fished out from between events, and the event socket can
 * be drained without blocking.  The module queues an ack's commit event
 * before it answers the ack, so after truth_counter_ack() returns, a poll
 * sees the advance it caused.
 *
 * The multicast group carries the events of every group in the namespace;
 * only ours count.  If the event socket overflows (ENOBUFS: events were
 * dropped), the group's commit index is read back with GROUP_GET.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/netlink.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>

#include "counter_int.h"
#include "util/genl.h"

/* Receive buffer of the events socket, bytes (see kc_listen()). */
#define KC_EVENTS_RCVBUF	(1 << 20)

/* What a GROUP_GET reply says about our group. */
struct kc_group {
	uint32_t self;
	uint64_t commit;
	uint32_t n_members;
	struct truth_quorum_member members[TRUTH_GROUP_MEMBERS_MAX];
};

/* One request in flight: its answer and the kernel's extack message. */
struct kc_call {
	struct truth_counter *c;
	int (*parse)(struct nlmsghdr *nlh, void *arg);
	void *arg;
	int err;
	bool done;
};

static int kc_valid(struct nl_msg *msg, void *arg)
{
	struct kc_call *call = arg;

	if (call->parse && !call->err)
		call->err = call->parse(nlmsg_hdr(msg), call->arg);
	return NL_OK;
}

/* The extack TLVs follow the (capped) request inside the error message. */
static void kc_extack(struct kc_call *call, struct nlmsgerr *e)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)((char *)e - NLMSG_HDRLEN);
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	size_t off = sizeof(*e);

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	if (nlh->nlmsg_len < NLMSG_HDRLEN + off)
		return;
	if (nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)((char *)e + off),
		      nlh->nlmsg_len - NLMSG_HDRLEN - off, NULL) < 0)
		return;
	if (tb[NLMSGERR_ATTR_MSG])
		snprintf(call->c->error, sizeof(call->c->error), "%.*s",
			 nla_len(tb[NLMSGERR_ATTR_MSG]),
			 (const char *)nla_data(tb[NLMSGERR_ATTR_MSG]));
}

static int kc_err(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct kc_call *call = arg;

	call->err = e->error;
	call->done = true;
	kc_extack(call, e);
	return NL_STOP;
}

static int kc_ack(struct nl_msg *msg, void *arg)
{
	struct kc_call *call = arg;

	call->done = true;
	return NL_STOP;
}

static struct nl_msg *kc_msg(struct truth_counter *c, int cmd)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, c->k.family, 0, 0, cmd,
			 TRUTH_GENL_VERSION) ||
	    nla_put_u32(msg, TRUTH_A_GROUP_ID, c->group_id) < 0) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/*
 * Send @msg (freed here) and wait for its ack; a reply goes to @parse.
 * 0 or the kernel's -errno with its extack message in c->error.
 */
static int kc_call(struct truth_counter *c, struct nl_msg *msg,
		   int (*parse)(struct nlmsghdr *nlh, void *arg), void *arg)
{
	struct kc_call call = { .c = c, .parse = parse, .arg = arg };
	struct nl_cb *cb;
	int ret;

	if (!msg)
		return truth_counter_fail(c, -ENOMEM, "out of memory");
	c->error[0] = 0;
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb) {
		nlmsg_free(msg);
		return truth_counter_fail(c, -ENOMEM, "out of memory");
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, kc_valid, &call);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, kc_ack, &call);
	nl_cb_err(cb, NL_CB_CUSTOM, kc_err, &call);
	ret = nl_send_auto(c->k.cmd, msg);
	nlmsg_free(msg);
	if (ret < 0) {
		nl_cb_put(cb);
		return truth_counter_fail(c, -EIO, "netlink send: %s", nl_geterror(ret));
	}
	while (!call.done) {
		ret = nl_recvmsgs(c->k.cmd, cb);
		if (ret < 0 && !call.done) {
			nl_cb_put(cb);
			return truth_counter_fail(c, -EIO, "netlink receive: %s",
						  nl_geterror(ret));
		}
	}
	nl_cb_put(cb);
	if (call.err && !c->error[0])
		truth_counter_fail(c, call.err, "%s", strerror(-call.err));
	return call.err;
}

static int kc_put_members(struct nl_msg *msg, uint32_t n,
			  const struct truth_counter_member *m)
{
	struct nlattr *nest;
	uint32_t i;

	for (i = 0; i < n; i++) {
		nest = nla_nest_start(msg, TRUTH_A_GROUP_MEMBER | NLA_F_NESTED);
		if (!nest || nla_put_u32(msg, TRUTH_A_MEMBER_NODE, m[i].node) < 0 ||
		    nla_put_u32(msg, TRUTH_A_MEMBER_WEIGHT, m[i].weight) < 0)
			return -EMSGSIZE;
		nla_nest_end(msg, nest);
	}
	return 0;
}

static int kc_parse_group(struct nlmsghdr *nlh, void *arg)
{
	struct genlmsghdr *gnlh = nlmsg_data(nlh);
	struct nlattr *tb[TRUTH_A_GROUP_MAX + 1];
	struct nlattr *tm[TRUTH_A_MEMBER_MAX + 1];
	struct kc_group *g = arg;
	struct nlattr *a;
	int rem;

	if (genlmsg_parse(nlh, 0, tb, TRUTH_A_GROUP_MAX, NULL) < 0 ||
	    !tb[TRUTH_A_GROUP_SELF] || !tb[TRUTH_A_GROUP_COMMIT])
		return -EPROTO;
	g->self = nla_get_u32(tb[TRUTH_A_GROUP_SELF]);
	g->commit = nla_get_u64(tb[TRUTH_A_GROUP_COMMIT]);
	g->n_members = 0;
	nla_for_each_attr(a, genlmsg_attrdata(gnlh, 0), genlmsg_attrlen(gnlh, 0), rem) {
		struct truth_quorum_member *m;

		if (nla_type(a) != TRUTH_A_GROUP_MEMBER)
			continue;
		if (g->n_members >= TRUTH_GROUP_MEMBERS_MAX ||
		    nla_parse_nested(tm, TRUTH_A_MEMBER_MAX, a, NULL) < 0 ||
		    !tm[TRUTH_A_MEMBER_NODE] || !tm[TRUTH_A_MEMBER_MATCH])
			return -EPROTO;
		m = &g->members[g->n_members++];
		m->id = nla_get_u32(tm[TRUTH_A_MEMBER_NODE]);
		m->weight = tm[TRUTH_A_MEMBER_WEIGHT] ?
			nla_get_u32(tm[TRUTH_A_MEMBER_WEIGHT]) : 1;
		m->match = nla_get_u64(tm[TRUTH_A_MEMBER_MATCH]);
	}
	return 0;
}

static int kc_get(struct truth_counter *c, struct kc_group *g)
{
	return kc_call(c, kc_msg(c, TRUTH_CMD_GROUP_GET), kc_parse_group, g);
}

static int kc_del(struct truth_counter *c)
{
	return kc_call(c, kc_msg(c, TRUTH_CMD_GROUP_DEL), NULL, NULL);
}

static int kc_new(struct truth_counter *c, const struct truth_counter_cfg *cfg)
{
	struct nl_msg *msg = kc_msg(c, TRUTH_CMD_GROUP_NEW);

	if (msg && (nla_put_u32(msg, TRUTH_A_GROUP_SELF, cfg->self) < 0 ||
		    nla_put_u64(msg, TRUTH_A_GROUP_COMMIT, cfg->commit) < 0 ||
		    nla_put_u32(msg, TRUTH_A_GROUP_ROLE, TRUTH_ROLE_FOLLOWER) < 0 ||
		    kc_put_members(msg, cfg->n_members, cfg->members))) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return kc_call(c, msg, NULL, NULL);
}

/*
 * GROUP_NEW; a group with our id and our SELF is what an earlier run of
 * this node left behind (truthd was killed before it could delete it), so
 * it is replaced.  One with another SELF belongs to another node sharing
 * this namespace and is left alone.
 */
static int kc_create(struct truth_counter *c, const struct truth_counter_cfg *cfg,
		     char *err, size_t errlen)
{
	struct kc_group old;
	int ret;

	ret = kc_new(c, cfg);
	if (ret == -EEXIST) {
		ret = kc_get(c, &old);
		if (!ret && old.self != cfg->self) {
			snprintf(err, errlen,
				 "group %u already exists in this network namespace with SELF %u, not %u (another node's)",
				 c->group_id, old.self, cfg->self);
			return -EEXIST;
		}
		if (!ret)
			ret = kc_del(c);
		if (!ret || ret == -ENOENT)
			ret = kc_new(c, cfg);
	}
	if (ret)
		snprintf(err, errlen, "GROUP_NEW: %s%s%s", strerror(-ret),
			 c->error[0] ? ": " : "", c->error);
	return ret;
}

/* The events socket: joined to "events", non-blocking. */
static int kc_listen(struct truth_counter *c, char *err, size_t errlen)
{
	int grp, ret, rcvbuf = KC_EVENTS_RCVBUF;

	grp = genl_ctrl_resolve_grp(c->k.cmd, TRUTH_GENL_NAME, TRUTH_MCGRP_EVENTS);
	if (grp < 0) {
		snprintf(err, errlen, "no '%s' multicast group: %s",
			 TRUTH_MCGRP_EVENTS, nl_geterror(grp));
		return -ENOENT;
	}
	c->k.ev = nl_socket_alloc();
	if (!c->k.ev) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	nl_socket_disable_seq_check(c->k.ev);
	ret = nl_connect(c->k.ev, NETLINK_GENERIC);
	if (!ret)
		ret = nl_socket_add_membership(c->k.ev, grp);
	if (!ret)
		ret = nl_socket_set_nonblocking(c->k.ev);
	if (ret < 0) {
		snprintf(err, errlen, "events socket: %s", nl_geterror(ret));
		return -EIO;
	}
	/*
	 * Every group of the namespace multicasts here, each event costs a
	 * page or so of receive buffer, and the default buffer overflows after
	 * about 70; a bigger one makes the GROUP_GET resync rare.  FORCE (past
	 * rmem_max) needs CAP_NET_ADMIN, which GROUP_NEW just proved; best
	 * effort either way.
	 */
	if (setsockopt(nl_socket_get_fd(c->k.ev), SOL_SOCKET, SO_RCVBUFFORCE,
		       &rcvbuf, sizeof(rcvbuf)))
		setsockopt(nl_socket_get_fd(c->k.ev), SOL_SOCKET, SO_RCVBUF,
			   &rcvbuf, sizeof(rcvbuf));
	return 0;
}

static void kc_free(struct truth_counter *c)
{
	nl_socket_free(c->k.ev);
	nl_socket_free(c->k.cmd);
	c->k.ev = NULL;
	c->k.cmd = NULL;
}

int truth_kc_open(struct truth_counter *c, const struct truth_counter_cfg *cfg,
		  char *err, size_t errlen)
{
	int ret;

	c->k.cmd = truth_genl_family_open(&c->k.family, &ret, err, errlen);
	if (!c->k.cmd)
		return ret;
	ret = kc_create(c, cfg, err, errlen);
	if (ret)
		goto err;
	c->k.created = true;
	/*
	 * Joined after GROUP_NEW: the events of a stale group replaced above
	 * (its GROUP_DEL) must not be taken for ours.  Nothing is missed: a
	 * new group is a follower and counts no ack until set_term.
	 */
	ret = kc_listen(c, err, errlen);
	if (ret) {
		kc_del(c);
		goto err;
	}
	c->error[0] = 0;
	return 0;
err:
	c->k.created = false;
	kc_free(c);
	return ret;
}

void truth_kc_close(struct truth_counter *c)
{
	if (c->k.created)
		kc_del(c);
	c->k.created = false;
	kc_free(c);
}

bool truth_kc_lost(struct truth_counter *c)
{
	struct kc_group g;

	/* ENOENT: no such group, or (module gone) no such family */
	if (c->k.created && kc_get(c, &g) == -ENOENT)
		c->k.created = false;
	return !c->k.created;
}

int truth_kc_set_term(struct truth_counter *c, uint64_t term,
		      uint64_t term_start, bool leader)
{
	struct nl_msg *msg = kc_msg(c, TRUTH_CMD_GROUP_SET);

	/* RESET_MATCH also for a role change within the term (figure 2) */
	if (msg && (nla_put_u64(msg, TRUTH_A_GROUP_TERM, term) < 0 ||
		    nla_put_u64(msg, TRUTH_A_GROUP_TERM_START, term_start) < 0 ||
		    nla_put_u32(msg, TRUTH_A_GROUP_ROLE, leader ? TRUTH_ROLE_LEADER :
				TRUTH_ROLE_FOLLOWER) < 0 ||
		    nla_put_u32(msg, TRUTH_A_GROUP_FLAGS, TRUTH_GROUP_F_RESET_MATCH) < 0)) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return kc_call(c, msg, NULL, NULL);
}

int truth_kc_set_members(struct truth_counter *c, uint32_t n,
			 const struct truth_counter_member *m)
{
	struct nl_msg *msg = kc_msg(c, TRUTH_CMD_GROUP_SET);

	if (msg && kc_put_members(msg, n, m)) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return kc_call(c, msg, NULL, NULL);
}

int truth_kc_ack(struct truth_counter *c, uint32_t node, uint64_t term,
		 uint64_t index)
{
	struct nl_msg *msg = kc_msg(c, TRUTH_CMD_GROUP_ACK);

	if (msg && (nla_put_u64(msg, TRUTH_A_GROUP_TERM, term) < 0 ||
		    nla_put_u64(msg, TRUTH_A_GROUP_INDEX, index) < 0 ||
		    nla_put_u32(msg, TRUTH_A_GROUP_NODE, node) < 0)) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return kc_call(c, msg, NULL, NULL);
}

int truth_kc_fd(struct truth_counter *c)
{
	return nl_socket_get_fd(c->k.ev);
}

/*
 * One datagram of events: the newest commit of our group into *commit;
 * sets *deleted if our group's GROUP_DEL is among them.
 */
static void kc_events(struct truth_counter *c, void *buf, int len,
		      uint64_t *commit, bool *deleted)
{
	struct nlattr *tb[TRUTH_A_GROUP_MAX + 1];
	struct nlmsghdr *nlh;
	uint64_t v;

	for (nlh = buf; nlmsg_ok(nlh, len); nlh = nlmsg_next(nlh, &len)) {
		struct genlmsghdr *gnlh = nlmsg_data(nlh);

		if (nlh->nlmsg_type != c->k.family ||
		    nlh->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN ||
		    genlmsg_parse(nlh, 0, tb, TRUTH_A_GROUP_MAX, NULL) < 0 ||
		    !tb[TRUTH_A_GROUP_ID] ||
		    nla_get_u32(tb[TRUTH_A_GROUP_ID]) != c->group_id)
			continue;	/* another group's, or not an event */
		if (gnlh->cmd == TRUTH_CMD_EVENT_GROUP_DEL) {
			*deleted = true;
		} else if (gnlh->cmd == TRUTH_CMD_EVENT_COMMIT && tb[TRUTH_A_GROUP_COMMIT]) {
			v = nla_get_u64(tb[TRUTH_A_GROUP_COMMIT]);
			if (v > *commit)
				*commit = v;
		}
	}
}

int truth_kc_drain(struct truth_counter *c, uint64_t *commit)
{
	int fd = nl_socket_get_fd(c->k.ev);
	bool lost = false, deleted = false;
	struct kc_group g;
	ssize_t n;
	int ret;
	union {
		struct nlmsghdr align;
		char buf[16384];
	} u;

	for (;;) {
		n = recv(fd, u.buf, sizeof(u.buf), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == ENOBUFS) {	/* overrun: events were lost */
				lost = true;
				continue;
			}
			return truth_counter_fail(c, -errno, "events socket: %s",
						  strerror(errno));
		}
		kc_events(c, u.buf, (int)n, commit, &deleted);
	}
	if (deleted) {
		c->k.created = false;
		return truth_counter_fail(c, -ENOENT,
					  "the kernel group %u was deleted by someone else",
					  c->group_id);
	}
	if (lost) {
		ret = kc_get(c, &g);
		if (ret)
			return ret;
		if (g.commit > *commit)
			*commit = g.commit;
	}
	return 0;
}

int truth_kc_match(struct truth_counter *c, uint32_t node, uint64_t *match)
{
	struct kc_group g;
	uint32_t i;
	int ret;

	ret = kc_get(c, &g);
	if (ret)
		return ret;
	for (i = 0; i < g.n_members; i++) {
		if (g.members[i].id == node) {
			*match = g.members[i].match;
			return 0;
		}
	}
	return truth_counter_fail(c, -ENOENT, "no such member in the group");
}

/*
 * TRUTH_A_GROUP_KEY is an enum constant, invisible to the preprocessor;
 * the UAPI announces it with "#define TRUTH_A_GROUP_KEY TRUTH_A_GROUP_KEY"
 * (the way glibc exposes enum constants), and only then is it sent.
 */
int truth_kc_set_key(struct truth_counter *c, const uint8_t key[32])
{
#ifdef TRUTH_A_GROUP_KEY
	struct nl_msg *msg = kc_msg(c, TRUTH_CMD_GROUP_SET);

	if (msg && nla_put(msg, TRUTH_A_GROUP_KEY, TRUTH_WIRE_KEY_LEN, key) < 0) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return kc_call(c, msg, NULL, NULL);
#else
	return truth_counter_fail(c, -EOPNOTSUPP,
				  "this truth.ko API has no TRUTH_A_GROUP_KEY (group keys come with the fast path)");
#endif
}
