// SPDX-License-Identifier: GPL-2.0
/*
 * truthctl events: follow the "events" multicast group of this namespace
 * and print one line per event, until interrupted or --count events.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <linux/truth.h>

#include "ctl.h"
#include "print.h"

struct events_ctx {
	bool json;
	long seen, count;	/* count 0: forever */
};

static int event_print(struct nl_msg *msg, void *arg)
{
	struct genlmsghdr *gnlh = nlmsg_data(nlmsg_hdr(msg));
	struct nlattr *tb[TRUTH_A_GROUP_MAX + 1];
	struct events_ctx *ctx = arg;
	unsigned int id;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, TRUTH_A_GROUP_MAX, NULL) < 0)
		return NL_SKIP;
	id = nla_u32_or(tb[TRUTH_A_GROUP_ID]);
	switch (gnlh->cmd) {
	case TRUTH_CMD_EVENT_COMMIT:
		if (ctx->json)
			printf("{\"event\":\"commit\",\"group\":%u,\"term\":%llu,\"commit\":%llu}\n", id,
			       nla_u64_or(tb[TRUTH_A_GROUP_TERM]), nla_u64_or(tb[TRUTH_A_GROUP_COMMIT]));
		else
			printf("commit group %u term %llu commit %llu\n", id,
			       nla_u64_or(tb[TRUTH_A_GROUP_TERM]), nla_u64_or(tb[TRUTH_A_GROUP_COMMIT]));
		break;
	case TRUTH_CMD_EVENT_TERM:
		if (ctx->json)
			printf("{\"event\":\"term\",\"group\":%u,\"term\":%llu,\"role\":\"%s\"}\n", id,
			       nla_u64_or(tb[TRUTH_A_GROUP_TERM]),
			       role_name(nla_u32_or(tb[TRUTH_A_GROUP_ROLE])));
		else
			printf("term group %u term %llu role %s\n", id,
			       nla_u64_or(tb[TRUTH_A_GROUP_TERM]),
			       role_name(nla_u32_or(tb[TRUTH_A_GROUP_ROLE])));
		break;
	case TRUTH_CMD_EVENT_GROUP_DEL:
		if (ctx->json)
			printf("{\"event\":\"group-del\",\"group\":%u}\n", id);
		else
			printf("group-del group %u\n", id);
		break;
	default:
		return NL_SKIP;
	}
	fflush(stdout);
	ctx->seen++;
	return ctx->count && ctx->seen >= ctx->count ? NL_STOP : NL_OK;
}

int events_main(int argc, char *argv[])
{
	struct events_ctx ctx = { 0 };
	struct truth_genl g;
	int i, grp, ret;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			ctx.json = true;
		} else if (!strcmp(argv[i], "--count") && i + 1 < argc) {
			unsigned long long n;

			if (parse_u64("count", argv[++i], &n))
				return 1;
			ctx.count = (long)n;
		} else {
			fprintf(strcmp(argv[i], "--help") ? stderr : stdout,
				"Usage: %s events [--json] [--count N]\n\n"
				"Prints commit, term and group-del events of this namespace as they\n"
				"happen, until interrupted or N events were printed.\n"
				"Example:\n  %s events --json --count 5\n", prog_name, prog_name);
			return strcmp(argv[i], "--help") ? 1 : 0;
		}
	}
	if (truth_genl_open(&g) < 0)
		return 1;
	ret = 1;
	grp = genl_ctrl_resolve_grp(g.sock, TRUTH_GENL_NAME, TRUTH_MCGRP_EVENTS);
	if (grp < 0) {
		fprintf(stderr, "%s: no '%s' multicast group: %s\n", prog_name, TRUTH_MCGRP_EVENTS,
			nl_geterror(grp));
		goto out;
	}
	nl_socket_disable_seq_check(g.sock);
	nl_socket_modify_cb(g.sock, NL_CB_VALID, NL_CB_CUSTOM, event_print, &ctx);
	if (nl_socket_add_membership(g.sock, grp) < 0) {
		fprintf(stderr, "%s: cannot join the events group\n", prog_name);
		goto out;
	}
	while (!ctx.count || ctx.seen < ctx.count) {
		int err = nl_recvmsgs_default(g.sock);

		if (err < 0 && err != -NLE_INTR && !(ctx.count && ctx.seen >= ctx.count)) {
			fprintf(stderr, "%s: receiving events: %s\n", prog_name, nl_geterror(err));
			goto out;
		}
	}
	ret = 0;
out:
	truth_genl_close(&g);
	return ret;
}
