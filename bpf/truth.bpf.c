// SPDX-License-Identifier: GPL-2.0
/*
 * truth's fast path on tc (Documentation/fastpath.md).  The programs only
 * find UDP datagrams to `port` and hand them to truth.ko's kfuncs, which do
 * the parsing that matters (against the header rules truthd also uses),
 * the MAC, the replay window, the counting and the stamping:
 *
 *   ingress: truth_kf_ack; if it is not an ACK, truth_kf_observe.  A
 *            datagram counted in the kernel, or hostile (bad MAC, replay),
 *            is dropped; everything else goes up unchanged (but for a
 *            probe's receive time).
 *   egress:  truth_kf_stamp; always passes.
 *
 * Headers are read with bpf_skb_load_bytes(), so a datagram whose headers
 * are not in the linear part is still seen.  Frames are Ethernet (veth,
 * physical NICs, lo).  After a kfunc call the program reads no packet data:
 * the kfuncs may move it and the verifier does not know that.
 */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "truth.h"

#define ETH_HLEN	14
#define ETH_P_IP	0x0800
#define ETH_P_IPV6	0x86DD
#define NEXTHDR_FRAG	44
#define IP_OFFSET	0x1fff
#define IP6_OFFSET	0xfff8
#define TC_ACT_OK	0
#define TC_ACT_SHOT	2

/* The agents' UDP port, host order; set by the loader before load. */
const volatile __u16 port = 0;

extern int truth_kf_ack(struct __sk_buff *ctx, __u32 port) __ksym;
extern int truth_kf_observe(struct __sk_buff *ctx, __u32 port) __ksym;
extern int truth_kf_stamp(struct __sk_buff *ctx, __u32 port) __ksym;

/* The destination port of the UDP header at @off, or 0. */
static __always_inline __u16 dport_at(struct __sk_buff *skb, __u32 off)
{
	__be16 p;

	if (bpf_skb_load_bytes(skb, off + 2, &p, sizeof(p)))
		return 0;
	return bpf_ntohs(p);
}

/*
 * Whether the packet is UDP to `port`: a whole datagram or the first
 * fragment of one (later fragments do not show the port; the kfuncs count
 * first fragments).  IPv6 extension headers other than a fragment header
 * are not followed.
 */
static __always_inline bool to_port(struct __sk_buff *skb)
{
	__u16 want = port;

	if (!want)
		return false;
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr ip;

		if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)) ||
		    ip.protocol != IPPROTO_UDP ||
		    (ip.frag_off & bpf_htons(IP_OFFSET)))
			return false;
		return dport_at(skb, ETH_HLEN + ip.ihl * 4) == want;
	}
	if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;
		struct frag_hdr fh;

		if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip6, sizeof(ip6)))
			return false;
		if (ip6.nexthdr == IPPROTO_UDP)
			return dport_at(skb, ETH_HLEN + sizeof(ip6)) == want;
		if (ip6.nexthdr != NEXTHDR_FRAG ||
		    bpf_skb_load_bytes(skb, ETH_HLEN + sizeof(ip6), &fh, sizeof(fh)) ||
		    fh.nexthdr != IPPROTO_UDP ||
		    (fh.frag_off & bpf_htons(IP6_OFFSET)))
			return false;
		return dport_at(skb, ETH_HLEN + sizeof(ip6) + sizeof(fh)) == want;
	}
	return false;
}

SEC("tc")
int truth_ingress(struct __sk_buff *skb)
{
	int v;

	if (!to_port(skb))
		return TC_ACT_OK;
	v = truth_kf_ack(skb, port);
	if (v == TRUTH_BPF_NOT_ACK)
		v = truth_kf_observe(skb, port);
	return v == TRUTH_BPF_CONSUME || v == TRUTH_BPF_DROP ? TC_ACT_SHOT : TC_ACT_OK;
}

SEC("tc")
int truth_egress(struct __sk_buff *skb)
{
	if (to_port(skb))
		truth_kf_stamp(skb, port);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
