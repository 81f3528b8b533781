/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * A generic netlink socket talking to truth.ko's family, shared by
 * truthctl (agent/ctl) and the kernel commit counter (agent/counter).
 */
#ifndef _TRUTH_UTIL_GENL_H
#define _TRUTH_UTIL_GENL_H

#include <stddef.h>

struct nl_sock;

/*
 * Opens and connects a generic netlink socket with extended acks on
 * (NETLINK_EXT_ACK, NETLINK_CAP_ACK) and resolves the family "truth" into
 * *@family.  Returns the socket, or NULL with the reason in @err and
 * -errno in *@ret: -ENOMEM, -EIO (no socket), -ENOENT ("family 'truth' not
 * found (is truth.ko loaded?)").
 */
struct nl_sock *truth_genl_family_open(int *family, int *ret, char *err, size_t errlen);

#endif /* _TRUTH_UTIL_GENL_H */
