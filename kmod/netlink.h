/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _TRUTH_NETLINK_H
#define _TRUTH_NETLINK_H

int truth_genetlink_init(void);
void truth_genetlink_uninit(void);

#endif /* _TRUTH_NETLINK_H */
