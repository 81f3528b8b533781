/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * Shared between bpf/truth.bpf.c and its loader (agent/fastpath/): the
 * kfunc verdicts under names the BPF side can use without the UAPI header
 * (which would clash with vmlinux.h).  They are the UAPI's enum
 * truth_fp_verdict; agent/fastpath/fastpath.c checks that at compile time.
 */
#ifndef _TRUTH_BPF_H
#define _TRUTH_BPF_H

#define TRUTH_BPF_PASS		0	/* TRUTH_FP_PASS */
#define TRUTH_BPF_CONSUME	1	/* TRUTH_FP_CONSUME */
#define TRUTH_BPF_DROP		2	/* TRUTH_FP_DROP */
#define TRUTH_BPF_NOT_ACK	3	/* TRUTH_FP_NOT_ACK */

#endif /* _TRUTH_BPF_H */
