// SPDX-License-Identifier: GPL-2.0
/* truthctl stats: a group's acknowledgement and commit counters. */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <netlink/genl/genl.h>
#include <linux/truth.h>

#include "ctl.h"
#include "print.h"

static const struct {
	int attr;
	const char *name;
} counters[] = {
	{ TRUTH_A_STATS_ACKS, "acks" },
	{ TRUTH_A_STATS_ACKS_LOCAL, "acks_local" },
	{ TRUTH_A_STATS_ACKS_REDUNDANT, "acks_redundant" },
	{ TRUTH_A_STATS_ACKS_STALE, "acks_stale" },
	{ TRUTH_A_STATS_COMMIT_ADVANCES, "commit_advances" },
	{ TRUTH_A_STATS_COMMIT_EVENTS, "commit_events" },
	{ TRUTH_A_STATS_FP_ACKS, "fp_acks" },
	{ TRUTH_A_STATS_FP_PASSED, "fp_passed" },
	{ TRUTH_A_STATS_FP_BAD_MAC, "fp_bad_mac" },
	{ TRUTH_A_STATS_FP_REPLAY, "fp_replay" },
	{ TRUTH_A_STATS_FP_STALE, "fp_stale" },
	{ TRUTH_A_STATS_FP_MALFORMED, "fp_malformed" },
	{ TRUTH_A_STATS_FP_NOT_FOR_US, "fp_not_for_us" },
	{ TRUTH_A_STATS_FP_NO_KEY, "fp_no_key" },
	{ TRUTH_A_STATS_FP_STAMPED, "fp_stamped" },
	{ TRUTH_A_STATS_FP_OBSERVED, "fp_observed" },
	{ TRUTH_A_STATS_FP_NS_MALFORMED, "fp_ns_malformed" },
	{ TRUTH_A_STATS_FP_NS_FRAGMENTS, "fp_ns_fragments" },
	{ TRUTH_A_STATS_FP_NS_NO_GROUP, "fp_ns_no_group" },
};

static int stats_print(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[TRUTH_A_STATS_MAX + 1];
	bool json = *(bool *)arg;
	unsigned int i;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, TRUTH_A_STATS_MAX, NULL) < 0)
		return NL_SKIP;
	if (json)
		printf("{\"group\":%u", nla_u32_or(tb[TRUTH_A_STATS_GROUP_ID]));
	else
		printf("group %u\n", nla_u32_or(tb[TRUTH_A_STATS_GROUP_ID]));
	for (i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		if (json)
			printf(",\"%s\":%llu", counters[i].name, nla_u64_or(tb[counters[i].attr]));
		else
			printf("  %-16s %llu\n", counters[i].name, nla_u64_or(tb[counters[i].attr]));
	}
	if (json)
		printf("}\n");
	return NL_OK;
}

int stats_main(int argc, char *argv[])
{
	bool reset = argc > 1 && !strcmp(argv[1], "reset"), json = false;
	int i = reset ? 2 : 1, ret;
	struct truth_genl g;
	struct nl_msg *msg;
	unsigned int id;
	char ext[256];

	if (i >= argc || !strcmp(argv[i], "--help") || argc > i + 2 ||
	    (argc == i + 2 && (reset || strcmp(argv[i + 1], "--json")))) {
		fprintf(stderr, "Usage: %s stats ID [--json]\n       %s stats reset ID\n"
			"Example:\n  %s stats 7 --json\n", prog_name, prog_name, prog_name);
		return i < argc && !strcmp(argv[i], "--help") ? 0 : 1;
	}
	json = argc == i + 2;
	if (parse_u32("group id", argv[i], &id))
		return 1;
	if (truth_genl_open(&g) < 0)
		return 1;
	ret = -ENOMEM;
	msg = truth_genl_msg(&g, reset ? TRUTH_CMD_STATS_RESET : TRUTH_CMD_STATS_GET, false);
	if (msg) {
		nla_put_u32(msg, TRUTH_A_STATS_GROUP_ID, id);
		ret = truth_genl_call(&g, msg, stats_print, &json, ext, sizeof(ext));
	}
	truth_genl_close(&g);
	return ret ? truth_genl_perror("stats", ret, ext) : 0;
}
