// SPDX-License-Identifier: GPL-2.0
/*
 * truthctl clock: read the namespace's Lamport clock and HLC (and a group's
 * vector clock), take a causal stamp (tick), merge a remote stamp, or set
 * the HLC's maximum offset.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/genl/genl.h>
#include <linux/truth.h>

#include "ctl.h"
#include "print.h"

static const char *const roles[] = { "follower", "candidate", "leader" };

const char *role_name(unsigned int role)
{
	return role < sizeof(roles) / sizeof(roles[0]) ? roles[role] : "unknown";
}

int role_parse(const char *s, unsigned int *role)
{
	unsigned int i;

	for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		if (!strcmp(s, roles[i])) {
			*role = i;
			return 0;
		}
	}
	fprintf(stderr, "%s: role '%s': use follower, candidate or leader\n", prog_name, s);
	return -1;
}

int clock_parse(struct nl_msg *msg, void *arg)
{
	struct genlmsghdr *gnlh = nlmsg_data(nlmsg_hdr(msg));
	struct nlattr *tb[TRUTH_A_CLOCK_MAX + 1], *a;
	struct clock_reply *c = arg;
	int rem;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, TRUTH_A_CLOCK_MAX, NULL) < 0)
		return NL_SKIP;
	c->lamport = nla_u64_or(tb[TRUTH_A_CLOCK_LAMPORT]);
	c->hlc = nla_u64_or(tb[TRUTH_A_CLOCK_HLC]);
	c->max_offset = nla_u64_or(tb[TRUTH_A_CLOCK_HLC_MAX_OFFSET]);
	c->has_group = tb[TRUTH_A_CLOCK_GROUP_ID];
	c->group_id = nla_u32_or(tb[TRUTH_A_CLOCK_GROUP_ID]);
	c->n = 0;
	nla_for_each_attr(a, genlmsg_attrdata(gnlh, 0), genlmsg_attrlen(gnlh, 0), rem) {
		struct nlattr *vb[TRUTH_A_VCLOCK_MAX + 1];

		if (nla_type(a) != TRUTH_A_CLOCK_VCLOCK || c->n >= TRUTH_VCLOCK_MAX ||
		    nla_parse_nested(vb, TRUTH_A_VCLOCK_MAX, a, NULL) < 0)
			continue;
		c->vc[c->n].node = nla_u32_or(vb[TRUTH_A_VCLOCK_NODE]);
		c->vc[c->n].counter = nla_u64_or(vb[TRUTH_A_VCLOCK_COUNTER]);
		c->n++;
	}
	return NL_OK;
}

void clock_print(const struct clock_reply *c, bool json)
{
	unsigned long long phys = c->hlc & ~0xffffULL, logical = c->hlc & 0xffff;
	unsigned int i;

	if (json) {
		printf("{\"lamport\":%llu,\"hlc\":%llu,\"hlc_physical_ns\":%llu,\"hlc_logical\":%llu,"
		       "\"hlc_max_offset_ns\":%llu", c->lamport, c->hlc, phys, logical, c->max_offset);
		if (c->has_group) {
			printf(",\"group\":%u,\"vclock\":{", c->group_id);
			for (i = 0; i < c->n; i++)
				printf("%s\"%u\":%llu", i ? "," : "", c->vc[i].node, c->vc[i].counter);
			printf("}");
		}
		printf("}");
		return;
	}
	printf("lamport %llu\nhlc %llu (physical %llu.%09llu s, logical %llu), max offset %llu ns\n",
	       c->lamport, c->hlc, phys / 1000000000ULL, phys % 1000000000ULL, logical,
	       c->max_offset);
	if (c->has_group) {
		printf("vclock of group %u: {", c->group_id);
		for (i = 0; i < c->n; i++)
			printf("%s%u:%llu", i ? ", " : "", c->vc[i].node, c->vc[i].counter);
		printf("}\n");
	}
}

static int usage(int ret)
{
	fprintf(ret ? stderr : stdout,
		"Usage: %s clock [get] [group ID] [--json]\n"
		"       %s clock tick [group ID] [--json]\n"
		"       %s clock merge [lamport L] [hlc H] [group ID vclock NODE:COUNT,...] [--json]\n"
		"       %s clock set max-offset NANOSECONDS\n\n"
		"tick is a local event and prints the new stamp; merge is a receive.\n"
		"Examples:\n  %s clock tick group 7\n  %s clock merge lamport 120 group 7 vclock 1:4,2:9\n",
		prog_name, prog_name, prog_name, prog_name, prog_name, prog_name);
	return ret;
}

/* NODE:COUNT,... as TRUTH_A_CLOCK_VCLOCK nests; 0 or -1. */
static int put_vclock(struct nl_msg *msg, const char *list)
{
	char *copy = strdup(list), *tok, *save = NULL;
	int ret = -1;

	if (!copy)
		return -1;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(tok, ':');
		unsigned long long counter;
		unsigned int node;
		struct nlattr *nest;

		if (!colon) {
			fprintf(stderr, "%s: vclock entry '%s': use NODE:COUNT\n", prog_name, tok);
			goto out;
		}
		*colon = 0;
		if (parse_u32("vclock node", tok, &node) ||
		    parse_u64("vclock counter", colon + 1, &counter))
			goto out;
		nest = nla_nest_start(msg, TRUTH_A_CLOCK_VCLOCK | NLA_F_NESTED);
		if (!nest || nla_put_u32(msg, TRUTH_A_VCLOCK_NODE, node) ||
		    nla_put_u64(msg, TRUTH_A_VCLOCK_COUNTER, counter))
			goto out;
		nla_nest_end(msg, nest);
	}
	ret = 0;
out:
	free(copy);
	return ret;
}

int clock_main(int argc, char *argv[])
{
	int cmd = TRUTH_CMD_CLOCK_GET, i = 1, ret;
	struct clock_reply c = { 0 };
	struct truth_genl g;
	struct nl_msg *msg;
	bool json = false;
	char ext[256];

	if (argc > 1 && !strcmp(argv[1], "--help"))
		return usage(0);
	if (argc > 1 && !strcmp(argv[1], "get")) {
		i = 2;
	} else if (argc > 1 && !strcmp(argv[1], "tick")) {
		cmd = TRUTH_CMD_CLOCK_TICK;
		i = 2;
	} else if (argc > 1 && !strcmp(argv[1], "merge")) {
		cmd = TRUTH_CMD_CLOCK_MERGE;
		i = 2;
	} else if (argc > 1 && !strcmp(argv[1], "set")) {
		cmd = TRUTH_CMD_CLOCK_SET;
		i = 2;
	}
	if (truth_genl_open(&g) < 0)
		return 1;
	ret = 1;
	msg = truth_genl_msg(&g, cmd, false);
	if (!msg)
		goto out;
	for (; i < argc; i++) {
		unsigned long long v;
		unsigned int id;

		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "group") && i + 1 < argc && cmd != TRUTH_CMD_CLOCK_SET) {
			if (parse_u32("group", argv[++i], &id))
				goto err_msg;
			nla_put_u32(msg, TRUTH_A_CLOCK_GROUP_ID, id);
		} else if (!strcmp(argv[i], "lamport") && i + 1 < argc && cmd == TRUTH_CMD_CLOCK_MERGE) {
			if (parse_u64("lamport", argv[++i], &v))
				goto err_msg;
			nla_put_u64(msg, TRUTH_A_CLOCK_LAMPORT, v);
		} else if (!strcmp(argv[i], "hlc") && i + 1 < argc && cmd == TRUTH_CMD_CLOCK_MERGE) {
			if (parse_u64("hlc", argv[++i], &v))
				goto err_msg;
			nla_put_u64(msg, TRUTH_A_CLOCK_HLC, v);
		} else if (!strcmp(argv[i], "vclock") && i + 1 < argc && cmd == TRUTH_CMD_CLOCK_MERGE) {
			if (put_vclock(msg, argv[++i]))
				goto err_msg;
		} else if (!strcmp(argv[i], "max-offset") && i + 1 < argc && cmd == TRUTH_CMD_CLOCK_SET) {
			if (parse_u64("max-offset", argv[++i], &v))
				goto err_msg;
			nla_put_u64(msg, TRUTH_A_CLOCK_HLC_MAX_OFFSET, v);
		} else {
			fprintf(stderr, "%s: clock: unexpected '%s'\n", prog_name, argv[i]);
			usage(1);
			goto err_msg;
		}
	}
	ret = truth_genl_call(&g, msg, clock_parse, &c, ext, sizeof(ext));
	if (ret) {
		ret = truth_genl_perror("clock", ret, ext);
		goto out;
	}
	clock_print(&c, json);
	if (json)
		printf("\n");
	ret = 0;
	goto out;
err_msg:
	nlmsg_free(msg);
out:
	truth_genl_close(&g);
	return ret;
}
