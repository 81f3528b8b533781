// SPDX-License-Identifier: GPL-2.0
/* The libnl plumbing every netlink subcommand shares. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/netlink.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <linux/truth.h>

#include "ctl.h"
#include "util/genl.h"

int truth_genl_open(struct truth_genl *g)
{
	char err[160];
	int ret;

	g->sock = truth_genl_family_open(&g->family, &ret, err, sizeof(err));
	if (!g->sock)
		fprintf(stderr, "%s: %s\n", prog_name, err);
	return ret;
}

void truth_genl_close(struct truth_genl *g)
{
	nl_socket_free(g->sock);
	g->sock = NULL;
}

struct truth_call {
	int (*cb)(struct nl_msg *msg, void *arg);
	void *arg;
	int err;		/* kernel errno, negative */
	bool done;
	char *ext;
	size_t ext_len;
};

static int call_valid(struct nl_msg *msg, void *arg)
{
	struct truth_call *c = arg;

	return c->cb ? c->cb(msg, c->arg) : NL_OK;
}

/* The extack TLVs follow the (capped) original message in the error. */
static void call_extack(struct truth_call *c, struct nlmsgerr *e)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)((char *)e - NLMSG_HDRLEN);
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	size_t off = sizeof(*e);

	if (!c->ext || !(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	if (nlh->nlmsg_len < NLMSG_HDRLEN + off)
		return;
	if (nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)((char *)e + off),
		      nlh->nlmsg_len - NLMSG_HDRLEN - off, NULL) < 0)
		return;
	if (tb[NLMSGERR_ATTR_MSG])
		snprintf(c->ext, c->ext_len, "%.*s", nla_len(tb[NLMSGERR_ATTR_MSG]),
			 (const char *)nla_data(tb[NLMSGERR_ATTR_MSG]));
}

static int call_err(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct truth_call *c = arg;

	c->err = e->error;
	c->done = true;
	call_extack(c, e);
	return NL_STOP;
}

static int call_end(struct nl_msg *msg, void *arg)
{
	struct truth_call *c = arg;

	c->done = true;
	return NL_STOP;
}

struct nl_msg *truth_genl_msg(struct truth_genl *g, int cmd, bool dump)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, g->family, 0,
			 dump ? NLM_F_DUMP : 0, cmd, TRUTH_GENL_VERSION)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

int truth_genl_call(struct truth_genl *g, struct nl_msg *msg,
		    int (*cb)(struct nl_msg *msg, void *arg), void *arg,
		    char *ext, size_t ext_len)
{
	struct truth_call c = { .cb = cb, .arg = arg, .ext = ext, .ext_len = ext_len };
	struct nl_cb *nlcb;
	int ret;

	if (ext && ext_len)
		ext[0] = 0;
	nlcb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!nlcb) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nl_cb_set(nlcb, NL_CB_VALID, NL_CB_CUSTOM, call_valid, &c);
	nl_cb_set(nlcb, NL_CB_ACK, NL_CB_CUSTOM, call_end, &c);
	nl_cb_set(nlcb, NL_CB_FINISH, NL_CB_CUSTOM, call_end, &c);
	nl_cb_err(nlcb, NL_CB_CUSTOM, call_err, &c);
	ret = nl_send_auto(g->sock, msg);
	nlmsg_free(msg);
	if (ret < 0) {
		nl_cb_put(nlcb);
		return -EIO;
	}
	while (!c.done) {
		ret = nl_recvmsgs(g->sock, nlcb);
		if (ret < 0 && !c.done) {
			c.err = -EIO;
			break;
		}
	}
	nl_cb_put(nlcb);
	return c.err;
}

int truth_genl_perror(const char *what, int err, const char *ext)
{
	if (ext && *ext)
		fprintf(stderr, "%s: %s: %s: %s\n", prog_name, what, strerror(-err), ext);
	else
		fprintf(stderr, "%s: %s: %s\n", prog_name, what, strerror(-err));
	return 1;
}

int parse_u64(const char *what, const char *s, unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 0);
	if (errno || !*s || *end || *s == '-') {
		fprintf(stderr, "%s: %s: '%s' is not an unsigned number\n", prog_name, what, s);
		return -1;
	}
	return 0;
}

int parse_u32(const char *what, const char *s, unsigned int *out)
{
	unsigned long long v;

	if (parse_u64(what, s, &v))
		return -1;
	if (v > 0xffffffffULL) {
		fprintf(stderr, "%s: %s: %s is larger than 32 bits\n", prog_name, what, s);
		return -1;
	}
	*out = (unsigned int)v;
	return 0;
}
