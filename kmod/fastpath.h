/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _TRUTH_FASTPATH_H
#define _TRUTH_FASTPATH_H

#include <linux/lockdep.h>
#include <linux/percpu.h>
#include <linux/skbuff.h>
#include <uapi/linux/truth.h>

#include "clocks.h"

struct __sk_buff;
struct truth_group;
struct truth_net;

/* The kfuncs (include/uapi/linux/truth.h, "The fast path"). */
int truth_kf_ack(struct __sk_buff *ctx, u32 port);
int truth_kf_observe(struct __sk_buff *ctx, u32 port);
int truth_kf_stamp(struct __sk_buff *ctx, u32 port);

#define TRUTH_VC_LEN	sizeof(struct truth_wire_vc)
#define TRUTH_PROBE_LEN	sizeof(struct truth_wire_probe)
#define TRUTH_RX_LEN	sizeof(struct truth_wire_rx)

/* A truth datagram found in an skb. */
struct truth_fp_pkt {
	struct sk_buff *skb;
	struct truth_net *tn;
	bool ipv6;
	u32 nh_off;		/* IP header, from skb->data */
	u32 udp_off;		/* UDP header */
	u32 off;		/* the datagram (UDP payload) */
	u32 len;		/* its length */
	u8 hdr[TRUTH_WIRE_HDR_LEN];	/* copy of its header */
};

/* What truth_fp_parse() found. */
enum truth_fp_parse {
	TRUTH_FP_NOT_OURS,	/* not UDP to the port: not counted */
	TRUTH_FP_FRAGMENT,	/* first fragment of a datagram to the port */
	TRUTH_FP_NOT_TRUTH,	/* UDP to the port, no truth header */
	TRUTH_FP_HEADER,	/* a header with the magic, copied to @hdr */
};

/* Per-CPU room for what is too big for the stack. */
struct truth_fp_scratch {
	u8 vc[TRUTH_WIRE_VCLOCK_MAX * TRUTH_VC_LEN];
	struct truth_clock_remote remote;
	struct truth_clock_snap snap;
};

DECLARE_PER_CPU(struct truth_fp_scratch, truth_fp_scratch);

/* tc runs with BHs off: nothing else on this CPU uses the area meanwhile */
static inline struct truth_fp_scratch *truth_fp_scratch_get(void)
{
	lockdep_assert_in_softirq();
	return this_cpu_ptr(&truth_fp_scratch);
}

enum truth_fp_parse truth_fp_parse(struct sk_buff *skb, u32 port,
				   struct truth_fp_pkt *p);
int truth_fp_mac(const struct truth_fp_pkt *p, const u8 *key,
		 u8 out[TRUTH_WIRE_MAC_LEN]);
struct truth_group *truth_fp_group(struct truth_fp_pkt *p, u8 *key,
				   bool count);

int truth_fastpath_init(void);

#endif /* _TRUTH_FASTPATH_H */
