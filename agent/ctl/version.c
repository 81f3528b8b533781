// SPDX-License-Identifier: GPL-2.0
/* truthctl version: the tool's, the module's and the API's versions. */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <netlink/genl/genl.h>
#include <linux/truth.h>

#include "ctl.h"

struct version_reply {
	unsigned int genl;	/* TRUTH_A_VERSION_GENL, 0 if absent */
	unsigned int wire;	/* TRUTH_A_VERSION_WIRE, 0 if absent */
	char module[64];	/* TRUTH_A_VERSION_MODULE */
};

static int version_parse(struct nl_msg *msg, void *arg)
{
	struct version_reply *r = arg;
	struct nlattr *tb[TRUTH_A_VERSION_MAX + 1];
	int ret;

	ret = genlmsg_parse(nlmsg_hdr(msg), 0, tb, TRUTH_A_VERSION_MAX, NULL);
	if (ret < 0)
		return NL_SKIP;
	if (tb[TRUTH_A_VERSION_GENL])
		r->genl = nla_get_u32(tb[TRUTH_A_VERSION_GENL]);
	if (tb[TRUTH_A_VERSION_WIRE])
		r->wire = nla_get_u32(tb[TRUTH_A_VERSION_WIRE]);
	if (tb[TRUTH_A_VERSION_MODULE])
		nla_strlcpy(r->module, tb[TRUTH_A_VERSION_MODULE], sizeof(r->module));
	return NL_OK;
}

int version_main(int argc, char *argv[])
{
	struct version_reply r = { 0 };
	struct truth_genl g;
	struct nl_msg *msg;
	bool json = argc > 1 && !strcmp(argv[1], "--json");
	int ret;

	if (argc > 2 || (argc == 2 && !json)) {
		fprintf(stderr, "Usage: %s version [--json]\n", prog_name);
		return 1;
	}
	ret = truth_genl_open(&g);
	if (ret < 0)
		return 1;
	ret = -ENOMEM;
	msg = nlmsg_alloc();
	if (!msg)
		goto out;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, g.family, 0, 0,
			 TRUTH_CMD_GET_VERSION, TRUTH_GENL_VERSION))
		goto out_free;
	nl_socket_modify_cb(g.sock, NL_CB_VALID, NL_CB_CUSTOM, version_parse, &r);
	ret = nl_send_auto(g.sock, msg);
	if (ret >= 0)
		ret = nl_recvmsgs_default(g.sock);
	if (ret < 0) {
		fprintf(stderr, "%s: version request failed: %s\n", prog_name, nl_geterror(ret));
		goto out_free;
	}
	if (json)
		printf("{\"truthctl\":\"%s\",\"module\":\"%s\",\"genl_version\":%u,\"wire_version\":%u}\n",
		       TRUTH_CTL_VERSION, r.module, r.genl, r.wire);
	else
		printf("truthctl %s\nmodule   %s (generic netlink family '%s' v%u, wire format v%u)\n",
		       TRUTH_CTL_VERSION, r.module, TRUTH_GENL_NAME, r.genl, r.wire);
	ret = 0;
out_free:
	nlmsg_free(msg);
out:
	truth_genl_close(&g);
	return ret < 0 ? 1 : 0;
}
