// SPDX-License-Identifier: GPL-2.0
/*
 * tc ingress/egress: count IPv4/IPv6 UDP packets whose source or destination
 * port is `port` (set by the loader before load), pass everything.
 */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "truth_count.h"

#define ETH_P_IP	0x0800
#define ETH_P_IPV6	0x86DD
#define TC_ACT_OK	0

/* The UDP port to count; 0 counts nothing.  Host byte order. */
const volatile __u16 port = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TRUTH_COUNT_NR_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline void bump(__u32 slot, __u64 by)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &slot);

	if (v)
		*v += by;
}

/* Whether the packet is UDP to or from `port`.  Every header is bounds-checked
 * against data_end before it is read: the verifier insists, and so do we. */
static __always_inline bool is_ours(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct udphdr *udp;

	if ((void *)(eth + 1) > end)
		return false;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > end || ip->protocol != IPPROTO_UDP)
			return false;
		/* ihl is in 32-bit words; options make the header longer */
		udp = (void *)ip + ip->ihl * 4;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		/* extension headers are not followed: truth sends plain UDP */
		if ((void *)(ip6 + 1) > end || ip6->nexthdr != IPPROTO_UDP)
			return false;
		udp = (void *)(ip6 + 1);
	} else {
		return false;
	}
	if ((void *)(udp + 1) > end)
		return false;
	return port && (udp->dest == bpf_htons(port) || udp->source == bpf_htons(port));
}

SEC("tc")
int truth_count_ingress(struct __sk_buff *skb)
{
	if (is_ours(skb)) {
		bump(TRUTH_COUNT_INGRESS_PKTS, 1);
		bump(TRUTH_COUNT_INGRESS_BYTES, skb->len);
	}
	return TC_ACT_OK;
}

SEC("tc")
int truth_count_egress(struct __sk_buff *skb)
{
	if (is_ours(skb)) {
		bump(TRUTH_COUNT_EGRESS_PKTS, 1);
		bump(TRUTH_COUNT_EGRESS_BYTES, skb->len);
	}
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
