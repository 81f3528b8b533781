// SPDX-License-Identifier: GPL-2.0
/* The libnl plumbing every netlink subcommand shares. */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <linux/truth.h>

#include "ctl.h"

int truth_genl_open(struct truth_genl *g)
{
	int ret;

	g->sock = nl_socket_alloc();
	if (!g->sock) {
		fprintf(stderr, "%s: out of memory\n", prog_name);
		return -ENOMEM;
	}
	ret = genl_connect(g->sock);
	if (ret < 0) {
		fprintf(stderr, "%s: cannot open a generic netlink socket: %s\n",
			prog_name, nl_geterror(ret));
		goto err;
	}
	g->family = genl_ctrl_resolve(g->sock, TRUTH_GENL_NAME);
	if (g->family < 0) {
		fprintf(stderr,
			"%s: the generic netlink family '%s' is not registered: is truth.ko loaded (modprobe truth)?\n",
			prog_name, TRUTH_GENL_NAME);
		ret = -ENOENT;
		goto err;
	}
	return 0;
err:
	nl_socket_free(g->sock);
	g->sock = NULL;
	return ret;
}

void truth_genl_close(struct truth_genl *g)
{
	nl_socket_free(g->sock);
	g->sock = NULL;
}
