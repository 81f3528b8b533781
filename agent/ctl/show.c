// SPDX-License-Identifier: GPL-2.0
/* truthctl show: the namespace's clocks and every group, as text or JSON. */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <netlink/genl/genl.h>
#include <linux/truth.h>

#include "ctl.h"
#include "print.h"

#define SHOW_IDS_MAX	TRUTH_GROUPS_MAX

struct show_ctx {
	bool json;
	int groups;		/* groups printed so far */
	__u32 ids[SHOW_IDS_MAX];	/* their ids, for the fast-path counters */
};

static int show_group(struct nl_msg *msg, void *arg)
{
	struct genlmsghdr *gnlh = nlmsg_data(nlmsg_hdr(msg));
	struct nlattr *tb[TRUTH_A_GROUP_MAX + 1], *a;
	struct show_ctx *ctx = arg;
	int rem, n = 0;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, TRUTH_A_GROUP_MAX, NULL) < 0 ||
	    !tb[TRUTH_A_GROUP_ID])
		return NL_SKIP;
	if (ctx->json) {
		printf("%s{\"id\":%u,\"name\":\"%s\",\"self\":%u,\"role\":\"%s\",\"term\":%llu,"
		       "\"term_start\":%llu,\"threshold\":%llu,\"commit\":%llu,\"keyed\":%s,"
		       "\"members\":[",
		       ctx->groups ? "," : "", nla_get_u32(tb[TRUTH_A_GROUP_ID]),
		       tb[TRUTH_A_GROUP_NAME] ? nla_get_string(tb[TRUTH_A_GROUP_NAME]) : "",
		       nla_u32_or(tb[TRUTH_A_GROUP_SELF]), role_name(nla_u32_or(tb[TRUTH_A_GROUP_ROLE])),
		       nla_u64_or(tb[TRUTH_A_GROUP_TERM]), nla_u64_or(tb[TRUTH_A_GROUP_TERM_START]),
		       nla_u64_or(tb[TRUTH_A_GROUP_THRESHOLD]), nla_u64_or(tb[TRUTH_A_GROUP_COMMIT]),
		       tb[TRUTH_A_GROUP_KEYED] && nla_get_u8(tb[TRUTH_A_GROUP_KEYED]) ? "true" : "false");
	} else {
		printf("group %u%s%s%s: self %u, %s, term %llu (from index %llu), threshold %llu, commit %llu%s\n",
		       nla_get_u32(tb[TRUTH_A_GROUP_ID]),
		       tb[TRUTH_A_GROUP_NAME] ? " \"" : "",
		       tb[TRUTH_A_GROUP_NAME] ? nla_get_string(tb[TRUTH_A_GROUP_NAME]) : "",
		       tb[TRUTH_A_GROUP_NAME] ? "\"" : "",
		       nla_u32_or(tb[TRUTH_A_GROUP_SELF]), role_name(nla_u32_or(tb[TRUTH_A_GROUP_ROLE])),
		       nla_u64_or(tb[TRUTH_A_GROUP_TERM]), nla_u64_or(tb[TRUTH_A_GROUP_TERM_START]),
		       nla_u64_or(tb[TRUTH_A_GROUP_THRESHOLD]), nla_u64_or(tb[TRUTH_A_GROUP_COMMIT]),
		       tb[TRUTH_A_GROUP_KEYED] && nla_get_u8(tb[TRUTH_A_GROUP_KEYED]) ? ", keyed" : "");
	}
	nla_for_each_attr(a, genlmsg_attrdata(gnlh, 0), genlmsg_attrlen(gnlh, 0), rem) {
		struct nlattr *mb[TRUTH_A_MEMBER_MAX + 1];

		if (nla_type(a) != TRUTH_A_GROUP_MEMBER ||
		    nla_parse_nested(mb, TRUTH_A_MEMBER_MAX, a, NULL) < 0)
			continue;
		if (ctx->json)
			printf("%s{\"node\":%u,\"weight\":%u,\"match\":%llu}", n ? "," : "",
			       nla_u32_or(mb[TRUTH_A_MEMBER_NODE]), nla_u32_or(mb[TRUTH_A_MEMBER_WEIGHT]),
			       nla_u64_or(mb[TRUTH_A_MEMBER_MATCH]));
		else
			printf("  member %u: weight %u, match %llu\n",
			       nla_u32_or(mb[TRUTH_A_MEMBER_NODE]), nla_u32_or(mb[TRUTH_A_MEMBER_WEIGHT]),
			       nla_u64_or(mb[TRUTH_A_MEMBER_MATCH]));
		n++;
	}
	if (ctx->json)
		printf("]}");
	if (ctx->groups < SHOW_IDS_MAX)
		ctx->ids[ctx->groups] = nla_get_u32(tb[TRUTH_A_GROUP_ID]);
	ctx->groups++;
	return NL_OK;
}

/* The fast path's counters of one group (STATS_GET), one line or object. */
static const struct {
	int attr;
	const char *name;
} fp_counters[] = {
	{ TRUTH_A_STATS_FP_ACKS, "acks" },
	{ TRUTH_A_STATS_FP_PASSED, "passed" },
	{ TRUTH_A_STATS_FP_BAD_MAC, "bad_mac" },
	{ TRUTH_A_STATS_FP_REPLAY, "replay" },
	{ TRUTH_A_STATS_FP_STALE, "stale" },
	{ TRUTH_A_STATS_FP_MALFORMED, "malformed" },
	{ TRUTH_A_STATS_FP_NOT_FOR_US, "not_for_us" },
	{ TRUTH_A_STATS_FP_NO_KEY, "no_key" },
	{ TRUTH_A_STATS_FP_STAMPED, "stamped" },
	{ TRUTH_A_STATS_FP_OBSERVED, "observed" },
	{ TRUTH_A_STATS_FP_NS_MALFORMED, "ns_malformed" },
	{ TRUTH_A_STATS_FP_NS_FRAGMENTS, "ns_fragments" },
	{ TRUTH_A_STATS_FP_NS_NO_GROUP, "ns_no_group" },
};

static int show_fastpath(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[TRUTH_A_STATS_MAX + 1];
	bool json = *(bool *)arg;
	unsigned int i;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, TRUTH_A_STATS_MAX, NULL) < 0)
		return NL_SKIP;
	printf(json ? "{\"group\":%u" : "group %u fast path:",
	       nla_u32_or(tb[TRUTH_A_STATS_GROUP_ID]));
	for (i = 0; i < sizeof(fp_counters) / sizeof(fp_counters[0]); i++)
		printf(json ? ",\"%s\":%llu" : " %s %llu", fp_counters[i].name,
		       nla_u64_or(tb[fp_counters[i].attr]));
	printf(json ? "}" : "\n");
	return NL_OK;
}

static int show_fastpath_all(struct truth_genl *g, struct show_ctx *ctx,
			     char *ext, size_t extlen)
{
	struct nl_msg *msg;
	int i, ret = 0;

	for (i = 0; i < ctx->groups && i < SHOW_IDS_MAX && !ret; i++) {
		msg = truth_genl_msg(g, TRUTH_CMD_STATS_GET, false);
		if (!msg)
			return -ENOMEM;
		nla_put_u32(msg, TRUTH_A_STATS_GROUP_ID, ctx->ids[i]);
		if (ctx->json && i)
			printf(",");
		ret = truth_genl_call(g, msg, show_fastpath, &ctx->json, ext, extlen);
		/* a group deleted since the dump is not an error */
		if (ret == -ENOENT)
			ret = 0;
	}
	return ret;
}

int show_main(int argc, char *argv[])
{
	struct show_ctx ctx = { .json = argc == 2 && !strcmp(argv[1], "--json") };
	struct clock_reply clk = { 0 };
	char ext[256];
	struct truth_genl g;
	struct nl_msg *msg;
	int ret;

	if (argc > 2 || (argc == 2 && !ctx.json)) {
		fprintf(stderr, "Usage: %s show [--json]\n\n"
			"Shows the clocks and every group of this network namespace.\n"
			"Example:\n  %s show --json\n", prog_name, prog_name);
		return argc == 2 && !strcmp(argv[1], "--help") ? 0 : 1;
	}
	if (truth_genl_open(&g) < 0)
		return 1;
	ret = -ENOMEM;
	msg = truth_genl_msg(&g, TRUTH_CMD_CLOCK_GET, false);
	if (msg)
		ret = truth_genl_call(&g, msg, clock_parse, &clk, ext, sizeof(ext));
	if (ret) {
		truth_genl_close(&g);
		return truth_genl_perror("reading the clocks", ret, ext);
	}
	if (ctx.json) {
		printf("{\"clocks\":");
		clock_print(&clk, true);
		printf(",\"groups\":[");
	} else {
		clock_print(&clk, false);
	}
	ret = -ENOMEM;
	msg = truth_genl_msg(&g, TRUTH_CMD_GROUP_GET, true);
	if (msg)
		ret = truth_genl_call(&g, msg, show_group, &ctx, ext, sizeof(ext));
	if (ctx.json)
		printf("],\"fastpath\":[");
	if (!ret)
		ret = show_fastpath_all(&g, &ctx, ext, sizeof(ext));
	if (ctx.json)
		printf("]}\n");
	else if (!ctx.groups && !ret)
		printf("no groups\n");
	truth_genl_close(&g);
	if (ret)
		return truth_genl_perror("listing the groups", ret, ext);
	return 0;
}
