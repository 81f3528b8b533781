/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * Shared between bpf/truth_count.bpf.c and its loaders: the layout of the
 * counters map.  truth_count is the smallest real tc program of the project:
 * it counts UDP packets to or from one port on ingress and egress and lets
 * every packet pass.  It proves the eBPF toolchain end to end (vmlinux.h from
 * the target kernel's BTF, clang, the libbpf skeleton, tc attach in the VM)
 * and gives tests a way to see truth traffic on an interface.
 */
#ifndef _TRUTH_COUNT_H
#define _TRUTH_COUNT_H

/* Index into the per-CPU array map "counters". */
enum truth_count_slot {
	TRUTH_COUNT_INGRESS_PKTS,	/* UDP packets seen on ingress */
	TRUTH_COUNT_INGRESS_BYTES,	/* their bytes (skb->len) */
	TRUTH_COUNT_EGRESS_PKTS,	/* UDP packets seen on egress */
	TRUTH_COUNT_EGRESS_BYTES,	/* their bytes */
	TRUTH_COUNT_NR_SLOTS
};

#endif /* _TRUTH_COUNT_H */
