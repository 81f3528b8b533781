// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>

#include <linux/netlink.h>
#include <linux/truth.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>

#include "util/genl.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

struct nl_sock *truth_genl_family_open(int *family, int *ret, char *err, size_t errlen)
{
	struct nl_sock *sock;
	int one = 1, r;

	sock = nl_socket_alloc();
	if (!sock) {
		snprintf(err, errlen, "out of memory");
		*ret = -ENOMEM;
		return NULL;
	}
	r = genl_connect(sock);
	if (r < 0) {
		snprintf(err, errlen, "cannot open a generic netlink socket: %s", nl_geterror(r));
		*ret = -EIO;
		goto err;
	}
	/* the kernel's reason for a refusal, and acks without the request echoed */
	setsockopt(nl_socket_get_fd(sock), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(nl_socket_get_fd(sock), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	*family = genl_ctrl_resolve(sock, TRUTH_GENL_NAME);
	if (*family < 0) {
		snprintf(err, errlen, "family '%s' not found (is truth.ko loaded?)",
			 TRUTH_GENL_NAME);
		*ret = -ENOENT;
		goto err;
	}
	*ret = 0;
	return sock;
err:
	nl_socket_free(sock);
	return NULL;
}
