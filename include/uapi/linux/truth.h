/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * truth: cluster agreement — clocks stamped in the kernel, quorum counted in
 * the kernel, consensus in the agent.
 *
 * This header is the contract between truth.ko, its eBPF programs and the
 * truthd agent.  It documents the generic netlink API the way the rest of the
 * project reads it; the machine-readable description is
 * Documentation/netlink/specs/truth.yaml.
 *
 * Generic netlink family "truth", version TRUTH_GENL_VERSION, netnsok: every
 * network namespace has its own state.  Validation is strict: unknown
 * attributes and unknown flag bits are rejected with an extack message.
 *
 * TRUTH_CMD_GET_VERSION
 * ---------------------
 *   Unprivileged.  Takes no attributes.  Replies with:
 *
 *     TRUTH_A_VERSION_GENL:    NLA_U32, the family's API version
 *                              (TRUTH_GENL_VERSION)
 *     TRUTH_A_VERSION_MODULE:  NLA_NUL_STRING, the module's release string
 *     TRUTH_A_VERSION_WIRE:    NLA_U32, the on-wire header version the
 *                              module speaks (TRUTH_WIRE_VERSION)
 *
 * The group, clock and stats commands are added by the module-core work;
 * each is documented here when it lands.
 */

#ifndef _UAPI_LINUX_TRUTH_H
#define _UAPI_LINUX_TRUTH_H

#include <linux/types.h>

#define TRUTH_GENL_NAME		"truth"
#define TRUTH_GENL_VERSION	1
#define TRUTH_WIRE_VERSION	1

enum truth_cmd {
	TRUTH_CMD_UNSPEC,
	TRUTH_CMD_GET_VERSION,
	__TRUTH_CMD_MAX
};
#define TRUTH_CMD_MAX (__TRUTH_CMD_MAX - 1)

enum truth_version_attr {
	TRUTH_A_VERSION_UNSPEC,
	TRUTH_A_VERSION_GENL,
	TRUTH_A_VERSION_MODULE,
	TRUTH_A_VERSION_WIRE,
	__TRUTH_A_VERSION_MAX
};
#define TRUTH_A_VERSION_MAX (__TRUTH_A_VERSION_MAX - 1)

#endif /* _UAPI_LINUX_TRUTH_H */
