// SPDX-License-Identifier: GPL-2.0
/* truthctl group add|set|del|ack: configure groups and feed acknowledgements. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/genl/genl.h>
#include <linux/truth.h>

#include "ctl.h"
#include "print.h"

static int usage(int ret)
{
	fprintf(ret ? stderr : stdout,
		"Usage: %s group add ID self NODE members NODE[:WEIGHT],... [threshold W]\n"
		"                 [term T] [term-start INDEX] [role ROLE] [commit INDEX] [name NAME]\n"
		"       %s group set ID [members NODE[:WEIGHT],...] [threshold W] [term T]\n"
		"                 [term-start INDEX] [role ROLE] [name NAME] [reset-match]\n"
		"       %s group del ID\n"
		"       %s group ack ID term T index INDEX [node NODE]\n\n"
		"ROLE is follower, candidate or leader.  Without a threshold the weighted\n"
		"majority is used.  ack without a node is this node's own (local) ack.\n"
		"Examples:\n"
		"  %s group add 7 self 1 members 1,2,3 role leader term 1 term-start 1\n"
		"  %s group add 9 self 1 members 1:50,2:20,3:20,4:10 threshold 67 name stake\n"
		"  %s group ack 7 term 1 index 42 node 2\n",
		prog_name, prog_name, prog_name, prog_name, prog_name, prog_name, prog_name);
	return ret;
}

/* NODE[:WEIGHT],... as TRUTH_A_GROUP_MEMBER nests; 0 or -1. */
static int put_members(struct nl_msg *msg, const char *list)
{
	char *copy = strdup(list), *tok, *save = NULL;
	int ret = -1;

	if (!copy)
		return -1;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(tok, ':');
		unsigned int node, weight = 1;
		struct nlattr *nest;

		if (colon)
			*colon = 0;
		if (parse_u32("member node", tok, &node) ||
		    (colon && parse_u32("member weight", colon + 1, &weight)))
			goto out;
		nest = nla_nest_start(msg, TRUTH_A_GROUP_MEMBER | NLA_F_NESTED);
		if (!nest || nla_put_u32(msg, TRUTH_A_MEMBER_NODE, node) ||
		    nla_put_u32(msg, TRUTH_A_MEMBER_WEIGHT, weight))
			goto out;
		nla_nest_end(msg, nest);
	}
	ret = 0;
out:
	free(copy);
	return ret;
}

/* The KEY VALUE arguments after the id into @msg; 0 or -1. */
static int put_args(struct nl_msg *msg, int cmd, int argc, char *argv[])
{
	unsigned long long v;
	unsigned int u, flags = 0;
	int i;

	for (i = 0; i < argc; i++) {
		const char *k = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		bool new = cmd == TRUTH_CMD_GROUP_NEW, cfg = new || cmd == TRUTH_CMD_GROUP_SET;
		bool ack = cmd == TRUTH_CMD_GROUP_ACK;

		if (!strcmp(k, "reset-match") && cmd == TRUTH_CMD_GROUP_SET) {
			flags |= TRUTH_GROUP_F_RESET_MATCH;
			continue;
		}
		if (!val)
			goto bad;
		i++;
		if (!strcmp(k, "self") && new) {
			if (parse_u32("self", val, &u))
				return -1;
			nla_put_u32(msg, TRUTH_A_GROUP_SELF, u);
		} else if (!strcmp(k, "members") && cfg) {
			if (put_members(msg, val))
				return -1;
		} else if (!strcmp(k, "threshold") && cfg) {
			if (parse_u64("threshold", val, &v))
				return -1;
			nla_put_u64(msg, TRUTH_A_GROUP_THRESHOLD, v);
		} else if (!strcmp(k, "term") && (cfg || ack)) {
			if (parse_u64("term", val, &v))
				return -1;
			nla_put_u64(msg, TRUTH_A_GROUP_TERM, v);
		} else if (!strcmp(k, "term-start") && cfg) {
			if (parse_u64("term-start", val, &v))
				return -1;
			nla_put_u64(msg, TRUTH_A_GROUP_TERM_START, v);
		} else if (!strcmp(k, "role") && cfg) {
			if (role_parse(val, &u))
				return -1;
			nla_put_u32(msg, TRUTH_A_GROUP_ROLE, u);
		} else if (!strcmp(k, "commit") && new) {
			if (parse_u64("commit", val, &v))
				return -1;
			nla_put_u64(msg, TRUTH_A_GROUP_COMMIT, v);
		} else if (!strcmp(k, "name") && cfg) {
			nla_put_string(msg, TRUTH_A_GROUP_NAME, val);
		} else if (!strcmp(k, "index") && ack) {
			if (parse_u64("index", val, &v))
				return -1;
			nla_put_u64(msg, TRUTH_A_GROUP_INDEX, v);
		} else if (!strcmp(k, "node") && ack) {
			if (parse_u32("node", val, &u))
				return -1;
			nla_put_u32(msg, TRUTH_A_GROUP_NODE, u);
		} else {
			goto bad;
		}
	}
	if (flags)
		nla_put_u32(msg, TRUTH_A_GROUP_FLAGS, flags);
	return 0;
bad:
	fprintf(stderr, "%s: group: unexpected '%s'\n", prog_name, argv[i]);
	usage(1);
	return -1;
}

int group_main(int argc, char *argv[])
{
	static const struct {
		const char *verb;
		int cmd;
		const char *what;
	} verbs[] = {
		{ "add", TRUTH_CMD_GROUP_NEW, "adding the group" },
		{ "set", TRUTH_CMD_GROUP_SET, "changing the group" },
		{ "del", TRUTH_CMD_GROUP_DEL, "deleting the group" },
		{ "ack", TRUTH_CMD_GROUP_ACK, "acknowledging" },
	};
	struct truth_genl g;
	struct nl_msg *msg;
	unsigned int id, v;
	char ext[256];
	int ret;

	if (argc > 1 && !strcmp(argv[1], "--help"))
		return usage(0);
	if (argc < 3)
		return usage(1);
	for (v = 0; v < sizeof(verbs) / sizeof(verbs[0]); v++)
		if (!strcmp(argv[1], verbs[v].verb))
			break;
	if (v == sizeof(verbs) / sizeof(verbs[0]))
		return usage(1);
	if (parse_u32("group id", argv[2], &id))
		return 1;
	if (truth_genl_open(&g) < 0)
		return 1;
	ret = 1;
	msg = truth_genl_msg(&g, verbs[v].cmd, false);
	if (!msg)
		goto out;
	nla_put_u32(msg, TRUTH_A_GROUP_ID, id);
	if (put_args(msg, verbs[v].cmd, argc - 3, argv + 3)) {
		nlmsg_free(msg);
		goto out;
	}
	ret = truth_genl_call(&g, msg, NULL, NULL, ext, sizeof(ext));
	ret = ret ? truth_genl_perror(verbs[v].what, ret, ext) : 0;
out:
	truth_genl_close(&g);
	return ret;
}
