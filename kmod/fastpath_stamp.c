// SPDX-License-Identifier: GPL-2.0
/*
 * The egress half of the fast path: truth_kf_stamp writes the namespace's
 * clocks into a datagram that asks for it (TRUTH_WIRE_F_STAMP), reseals it
 * with the group's key and fixes the UDP checksum.
 *
 * The sender reserves vc_count vector-clock slots; the group's clock after
 * the tick may hold fewer entries (the wire forbids zero counters), and
 * then the unused slots are cut out of the datagram, which moves the
 * payload and shortens UDP and IP.  A clock with more entries than slots is
 * not stamped at all: the datagram goes out as the agent wrote it.
 */

#include <linux/filter.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/skbuff.h>
#include <linux/udp.h>
#include <net/checksum.h>
#include <net/ip.h>
#include <net/ip6_checksum.h>
#include <truth/wire.h>

#include "compat.h"
#include "fastpath.h"
#include "group.h"
#include "pernet.h"

/*
 * The UDP checksum after the datagram changed.  With CHECKSUM_PARTIAL the
 * device (or skb_checksum_help()) sums the datagram later and the field
 * holds only the pseudo header, which changes with the length; otherwise
 * the whole sum is computed here.  IPv4 without a checksum (0) stays so.
 */
static void truth_fp_udp_csum(struct truth_fp_pkt *p)
{
	struct sk_buff *skb = p->skb;
	struct udphdr *uh = (struct udphdr *)(skb->data + p->udp_off);
	u32 ulen = ntohs(uh->len);
	struct ipv6hdr *ip6;
	struct iphdr *iph;
	__wsum csum = 0;
	bool partial = skb->ip_summed == CHECKSUM_PARTIAL;

	if (!partial) {
		if (!p->ipv6 && !uh->check)
			return;
		uh->check = 0;
		csum = skb_checksum(skb, p->udp_off, ulen, 0);
	}
	if (p->ipv6) {
		ip6 = (struct ipv6hdr *)(skb->data + p->nh_off);
		uh->check = csum_ipv6_magic(&ip6->saddr, &ip6->daddr, ulen,
					    IPPROTO_UDP, csum);
	} else {
		iph = (struct iphdr *)(skb->data + p->nh_off);
		uh->check = csum_tcpudp_magic(iph->saddr, iph->daddr, ulen,
					      IPPROTO_UDP, csum);
	}
	if (partial)
		uh->check = ~uh->check;
	else if (!uh->check)
		uh->check = CSUM_MANGLED_0;
}

/*
 * Cuts @cut bytes of unused vector-clock slots at @at (from skb->data) out
 * of a linear skb that ends with the datagram, and shortens UDP and IP.
 */
static int truth_fp_cut(struct truth_fp_pkt *p, u32 at, u32 cut)
{
	struct sk_buff *skb = p->skb;
	struct udphdr *uh;
	struct ipv6hdr *ip6;
	struct iphdr *iph;
	int ret;

	memmove(skb->data + at, skb->data + at + cut, skb->len - at - cut);
	ret = pskb_trim(skb, skb->len - cut);
	if (unlikely(ret))
		return ret;
	p->len -= cut;
	uh = (struct udphdr *)(skb->data + p->udp_off);
	uh->len = htons(ntohs(uh->len) - cut);
	if (p->ipv6) {
		ip6 = (struct ipv6hdr *)(skb->data + p->nh_off);
		ip6->payload_len = htons(ntohs(ip6->payload_len) - cut);
	} else {
		iph = (struct iphdr *)(skb->data + p->nh_off);
		iph->tot_len = htons(ntohs(iph->tot_len) - cut);
		ip_send_check(iph);
	}
	return 0;
}

/*
 * Whether the group's clock will fit the datagram's slots after the tick,
 * and whether the datagram can be shortened if it has too many.  g->lock.
 */
static bool truth_fp_stamp_fits(struct truth_group *g, struct truth_fp_pkt *p)
{
	u32 n = g->vclock.n + !truth_vclock_get(&g->vclock, g->self);
	u32 slots = p->hdr[7];

	lockdep_assert_held(&g->lock);
	if (n > slots)
		return false;
	/* a shorter datagram must end the skb (no padding behind it) */
	return n == slots || p->off + p->len == p->skb->len;
}

__bpf_kfunc_start_defs();

/**
 * truth_kf_stamp - stamp an outgoing datagram with the namespace's clocks
 * @ctx: the tc program's context
 * @port: the agents' UDP port (host order)
 *
 * Only datagrams with TRUTH_WIRE_F_STAMP, from SELF of a group with a key,
 * are stamped; everything else goes out unchanged.  Always TRUTH_FP_PASS.
 */
__bpf_kfunc int truth_kf_stamp(struct __sk_buff *ctx, u32 port)
{
	struct sk_buff *skb = (struct sk_buff *)ctx;
	u64 now = ktime_get_real_ns();
	u8 key[TRUTH_WIRE_KEY_LEN];
	struct truth_fp_scratch *s;
	struct truth_vclock *vc;
	struct truth_group *g;
	struct truth_fp_pkt p;
	u32 i, n, slots;
	u8 *d;

	if (truth_fp_parse(skb, port, &p) != TRUTH_FP_HEADER ||
	    truth_wire_check(p.hdr, p.len) != TRUTH_WIRE_OK ||
	    !(p.hdr[6] & TRUTH_WIRE_F_STAMP))
		return TRUTH_FP_PASS;
	/* linear and private: the datagram is rewritten and may move */
	if (skb_ensure_writable(skb, skb->len))
		return TRUTH_FP_PASS;

	s = truth_fp_scratch_get();
	rcu_read_lock();
	g = truth_fp_group(&p, key, false);
	if (!g)
		goto out;
	spin_lock_bh(&g->lock);
	if (truth_wire_get32(p.hdr + 8) != g->self ||
	    !truth_fp_stamp_fits(g, &p) ||
	    truth_clocks_event_locked(p.tn, g, NULL, &s->snap)) {
		spin_unlock_bh(&g->lock);
		goto out;
	}
	g->stats.fp_stamped++;
	spin_unlock_bh(&g->lock);

	vc = &s->snap.vclock;
	n = vc->n;
	slots = p.hdr[7];
	if (n < slots &&
	    truth_fp_cut(&p, p.off + TRUTH_WIRE_HDR_LEN + n * TRUTH_VC_LEN,
			 (slots - n) * TRUTH_VC_LEN))
		goto out;

	p.hdr[6] |= TRUTH_WIRE_F_KSTAMPED;
	p.hdr[7] = n;
	truth_wire_put64(p.hdr + 48, s->snap.lamport);
	truth_wire_put64(p.hdr + 56, s->snap.hlc);
	d = skb->data + p.off + TRUTH_WIRE_HDR_LEN;
	for (i = 0; i < n; i++, d += TRUTH_VC_LEN) {
		truth_wire_put32(d, vc->e[i].node);
		truth_wire_put32(d + 4, 0);
		truth_wire_put64(d + 8, vc->e[i].counter);
	}
	if (truth_wire_has_rx(p.hdr[5])) {
		/* d is the probe payload: tx and its source */
		truth_wire_put64(d + 8, now);
		d[32] = TRUTH_WIRE_TSRC_TC;
	}
	if (!truth_fp_mac(&p, key, p.hdr + TRUTH_WIRE_MAC_OFFSET)) {
		memcpy(skb->data + p.off, p.hdr, TRUTH_WIRE_HDR_LEN);
		truth_fp_udp_csum(&p);
	}
	bpf_compute_data_pointers(skb);
out:
	rcu_read_unlock();
	memzero_explicit(key, sizeof(key));
	return TRUTH_FP_PASS;
}

__bpf_kfunc_end_defs();
