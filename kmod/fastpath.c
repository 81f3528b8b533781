// SPDX-License-Identifier: GPL-2.0
/*
 * The eBPF fast path: kfuncs that bpf/truth.bpf.c calls from tc ingress and
 * egress (Documentation/fastpath.md).
 *
 *   truth_kf_ack      ingress: authenticate an ACK, check its replay window
 *                     and count it with the quorum rule; the program drops
 *                     what was counted
 *   truth_kf_observe  ingress: authenticate any other datagram, merge its
 *                     clocks, write the receive time of a clock-sync probe
 *   truth_kf_stamp    egress: tick the clocks, write them (and a probe's
 *                     transmit time) into a datagram that asks for it, seal
 *                     it with the group's key and fix the UDP checksum
 *
 * Nothing here trusts the packet: every byte is read through
 * skb_header_pointer() against lengths checked first, the header rules are
 * include/truth/wire.h's (the same code truthd runs), and the MAC is checked
 * before any other field is believed.  What the fast path cannot decide goes
 * up unchanged.  Every ingress datagram lands in exactly one counter.
 *
 * Context: tc runs with BHs off (softirq on ingress, rcu_read_lock_bh() on
 * egress), so the per-CPU scratch area below cannot be re-entered.
 */

#include <crypto/algapi.h>
#include <crypto/blake2s.h>
#include <linux/bpf.h>
#include <linux/filter.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/percpu.h>
#include <linux/skbuff.h>
#include <linux/udp.h>
#include <net/checksum.h>
#include <net/ip.h>
#include <net/ip6_checksum.h>
#include <net/ipv6.h>
#include <truth/lamport.h>
#include <truth/wire.h>

#include "clocks.h"
#include "compat.h"
#include "fastpath.h"
#include "group.h"
#include "pernet.h"

DEFINE_PER_CPU(struct truth_fp_scratch, truth_fp_scratch);

static enum truth_fp_parse truth_fp_parse_udp(struct truth_fp_pkt *p,
					      u32 port, u32 room)
{
	struct udphdr _uh;
	const struct udphdr *uh;
	u32 ulen;

	uh = skb_header_pointer(p->skb, p->udp_off, sizeof(_uh), &_uh);
	if (!uh || ntohs(uh->dest) != port)
		return TRUTH_FP_NOT_OURS;
	ulen = ntohs(uh->len);
	/* UDP may be shorter than the IP payload (padding), never longer */
	if (ulen < sizeof(*uh) || ulen > room)
		return TRUTH_FP_NOT_TRUTH;
	p->off = p->udp_off + sizeof(*uh);
	p->len = ulen - sizeof(*uh);
	if (p->len < TRUTH_WIRE_HDR_LEN ||
	    skb_copy_bits(p->skb, p->off, p->hdr, TRUTH_WIRE_HDR_LEN) ||
	    truth_wire_get32(p->hdr) != TRUTH_WIRE_MAGIC)
		return TRUTH_FP_NOT_TRUTH;
	return TRUTH_FP_HEADER;
}

static enum truth_fp_parse truth_fp_parse4(struct truth_fp_pkt *p, u32 port)
{
	struct iphdr _iph;
	const struct iphdr *iph;
	u32 ihl, tot;

	iph = skb_header_pointer(p->skb, p->nh_off, sizeof(_iph), &_iph);
	if (!iph || iph->version != 4 || iph->ihl < 5 ||
	    iph->protocol != IPPROTO_UDP)
		return TRUTH_FP_NOT_OURS;
	ihl = iph->ihl * 4;
	tot = ntohs(iph->tot_len);
	if (tot < ihl || p->nh_off + tot > p->skb->len)
		return TRUTH_FP_NOT_OURS;
	p->udp_off = p->nh_off + ihl;
	if (ip_is_fragment(iph)) {
		/* only the first fragment shows the port */
		if (iph->frag_off & htons(IP_OFFSET))
			return TRUTH_FP_NOT_OURS;
		return truth_fp_parse_udp(p, port, U16_MAX) == TRUTH_FP_NOT_OURS ?
			TRUTH_FP_NOT_OURS : TRUTH_FP_FRAGMENT;
	}
	return truth_fp_parse_udp(p, port, tot - ihl);
}

static enum truth_fp_parse truth_fp_parse6(struct truth_fp_pkt *p, u32 port)
{
	struct ipv6hdr _ip6;
	const struct ipv6hdr *ip6;
	struct frag_hdr _fh;
	const struct frag_hdr *fh;
	u32 plen;

	ip6 = skb_header_pointer(p->skb, p->nh_off, sizeof(_ip6), &_ip6);
	if (!ip6 || ip6->version != 6)
		return TRUTH_FP_NOT_OURS;
	plen = ntohs(ip6->payload_len);
	if (p->nh_off + sizeof(*ip6) + plen > p->skb->len)
		return TRUTH_FP_NOT_OURS;
	p->udp_off = p->nh_off + sizeof(*ip6);
	if (ip6->nexthdr == NEXTHDR_FRAGMENT) {
		fh = skb_header_pointer(p->skb, p->udp_off, sizeof(_fh), &_fh);
		if (!fh || fh->nexthdr != IPPROTO_UDP ||
		    (fh->frag_off & htons(IP6_OFFSET)))
			return TRUTH_FP_NOT_OURS;
		p->udp_off += sizeof(*fh);
		return truth_fp_parse_udp(p, port, U16_MAX) == TRUTH_FP_NOT_OURS ?
			TRUTH_FP_NOT_OURS : TRUTH_FP_FRAGMENT;
	}
	/* truth sends plain UDP; other extension headers are not followed */
	if (ip6->nexthdr != IPPROTO_UDP)
		return TRUTH_FP_NOT_OURS;
	return truth_fp_parse_udp(p, port, plen);
}

/* Finds the truth datagram to @port in @skb; offsets are from skb->data. */
enum truth_fp_parse truth_fp_parse(struct sk_buff *skb, u32 port,
				   struct truth_fp_pkt *p)
{
	p->skb = skb;
	p->tn = NULL;
	if (!skb->dev || skb_is_gso(skb) || !port || port > U16_MAX)
		return TRUTH_FP_NOT_OURS;
	p->tn = truth_net(dev_net(skb->dev));
	p->nh_off = skb_network_offset(skb);
	if (skb->protocol == htons(ETH_P_IP)) {
		p->ipv6 = false;
		return truth_fp_parse4(p, port);
	}
	if (skb->protocol == htons(ETH_P_IPV6)) {
		p->ipv6 = true;
		return truth_fp_parse6(p, port);
	}
	return TRUTH_FP_NOT_OURS;
}

/*
 * The MAC of the datagram as it is in the skb, with the header taken from
 * p->hdr (whose mac field is not read).  0, or -EFAULT if the skb is
 * shorter than its checked length said (cannot happen).
 */
int truth_fp_mac(const struct truth_fp_pkt *p, const u8 *key,
		 u8 out[TRUTH_WIRE_MAC_LEN])
{
	u32 auth = truth_wire_auth_len(p->hdr[7], truth_wire_get16(p->hdr + 20));
	struct blake2s_state st;
	u8 buf[64];
	u32 pos, n;

	blake2s_init_key(&st, TRUTH_WIRE_MAC_LEN, key, TRUTH_WIRE_KEY_LEN);
	blake2s_update(&st, p->hdr, TRUTH_WIRE_MAC_OFFSET);
	memset(buf, 0, TRUTH_WIRE_MAC_LEN);
	blake2s_update(&st, buf, TRUTH_WIRE_MAC_LEN);
	for (pos = TRUTH_WIRE_HDR_LEN; pos < auth; pos += n) {
		n = min_t(u32, auth - pos, sizeof(buf));
		if (skb_copy_bits(p->skb, p->off + pos, buf, n))
			return -EFAULT;
		blake2s_update(&st, buf, n);
	}
	blake2s_final(&st, out);
	memzero_explicit(&st, sizeof(st));
	return 0;
}

/*
 * The group a checked header names, with its key copied out.  NULL (and the
 * datagram counted) if there is none or it has no key.  RCU held.
 */
struct truth_group *truth_fp_group(struct truth_fp_pkt *p, u8 *key,
				   bool count)
{
	struct truth_group *g;

	g = truth_group_lookup_rcu(p->tn, truth_wire_get32(p->hdr + 16));
	if (!g) {
		if (count)
			atomic64_inc(&p->tn->fp_stats.no_group);
		return NULL;
	}
	spin_lock_bh(&g->lock);
	if (unlikely(g->dead)) {
		spin_unlock_bh(&g->lock);
		if (count)
			atomic64_inc(&p->tn->fp_stats.no_group);
		return NULL;
	}
	if (!g->keyed) {
		if (count)
			g->stats.fp_no_key++;
		spin_unlock_bh(&g->lock);
		return NULL;
	}
	memcpy(key, g->key, TRUTH_WIRE_KEY_LEN);
	spin_unlock_bh(&g->lock);
	return g;
}

/* The incoming clocks of an authenticated datagram, for a merge. */
static void truth_fp_remote(const struct truth_fp_pkt *p,
			    const u8 *vc, struct truth_clock_remote *r)
{
	u32 i, n = p->hdr[7];

	r->lamport = truth_wire_get64(p->hdr + 48);
	r->has_lamport = r->lamport <= TRUTH_LAMPORT_MAX;
	r->hlc = truth_wire_get64(p->hdr + 56);
	r->has_hlc = true;
	r->has_vclock = n > 0;
	truth_vclock_init(&r->vclock);
	for (i = 0; i < n; i++) {
		r->vclock.e[i].node = truth_wire_get32(vc + i * TRUTH_VC_LEN);
		r->vclock.e[i].counter = truth_wire_get64(vc + i * TRUTH_VC_LEN + 8);
	}
	r->vclock.n = n;
}

enum truth_fp_auth {
	TRUTH_FP_AUTH_OK,
	TRUTH_FP_AUTH_COUNTED,	/* refused and counted; verdict in *v */
};

/*
 * Everything both ingress kfuncs do before believing a field: the header
 * rules, the group and its key, the MAC, the vector clock's form.  On
 * TRUTH_FP_AUTH_OK *gp is the group (RCU) and the scratch vc holds the
 * vector clock.
 */
static enum truth_fp_auth truth_fp_auth(struct truth_fp_pkt *p,
					struct truth_fp_scratch *s,
					struct truth_group **gp, int *v)
{
	u8 key[TRUTH_WIRE_KEY_LEN], mac[TRUTH_WIRE_MAC_LEN];
	enum truth_wire_err err;
	struct truth_group *g;
	u8 vc_count;

	*v = TRUTH_FP_PASS;
	err = truth_wire_check(p->hdr, p->len);
	if (err != TRUTH_WIRE_OK) {
		/* a group named by a malformed header is only a claim */
		g = truth_group_lookup_rcu(p->tn, truth_wire_get32(p->hdr + 16));
		if (g) {
			spin_lock_bh(&g->lock);
			g->stats.fp_malformed++;
			spin_unlock_bh(&g->lock);
		} else {
			atomic64_inc(&p->tn->fp_stats.malformed);
		}
		return TRUTH_FP_AUTH_COUNTED;
	}
	g = truth_fp_group(p, key, true);
	if (!g)
		return TRUTH_FP_AUTH_COUNTED;

	vc_count = p->hdr[7];
	if (truth_fp_mac(p, key, mac) ||
	    crypto_memneq(mac, p->hdr + TRUTH_WIRE_MAC_OFFSET, sizeof(mac))) {
		memzero_explicit(key, sizeof(key));
		spin_lock_bh(&g->lock);
		g->stats.fp_bad_mac++;
		spin_unlock_bh(&g->lock);
		*v = TRUTH_FP_DROP;
		return TRUTH_FP_AUTH_COUNTED;
	}
	memzero_explicit(key, sizeof(key));
	if (skb_copy_bits(p->skb, p->off + TRUTH_WIRE_HDR_LEN, s->vc,
			  vc_count * TRUTH_VC_LEN) ||
	    truth_wire_check_vc(s->vc, vc_count) != TRUTH_WIRE_OK) {
		spin_lock_bh(&g->lock);
		g->stats.fp_malformed++;
		spin_unlock_bh(&g->lock);
		return TRUTH_FP_AUTH_COUNTED;
	}
	*gp = g;
	return TRUTH_FP_AUTH_OK;
}

/*
 * Under g->lock, after the MAC: is the datagram for us, from a member, and
 * new?  Returns the sender's member index, or -1 with the datagram counted
 * and *v set.
 */
static int truth_fp_admit(struct truth_group *g, const struct truth_fp_pkt *p,
			  int *v)
{
	u32 sender = truth_wire_get32(p->hdr + 8);
	int idx;

	lockdep_assert_held(&g->lock);
	idx = truth_group_member_index(g, sender);
	if (truth_wire_get32(p->hdr + 12) != g->self || sender == g->self ||
	    idx < 0) {
		g->stats.fp_not_for_us++;
		*v = TRUTH_FP_PASS;
		return -1;
	}
	if (!truth_replay_accept(&g->replay[idx], truth_wire_get64(p->hdr + 40))) {
		g->stats.fp_replay++;
		*v = TRUTH_FP_DROP;
		return -1;
	}
	return idx;
}

/* Merges an admitted datagram's clocks; g->lock held. */
static void truth_fp_merge(struct truth_group *g, struct truth_fp_pkt *p,
			   struct truth_fp_scratch *s)
{
	truth_fp_remote(p, s->vc, &s->remote);
	if (!truth_clocks_event_locked(p->tn, g, &s->remote, &s->snap))
		g->stats.fp_observed++;
}

/* Counts a datagram that names no group, by why. */
static void truth_fp_count_ns(struct truth_fp_pkt *p, enum truth_fp_parse r)
{
	if (r == TRUTH_FP_FRAGMENT)
		atomic64_inc(&p->tn->fp_stats.fragments);
	else if (r == TRUTH_FP_NOT_TRUTH)
		atomic64_inc(&p->tn->fp_stats.malformed);
}

/* Writes @len bytes at @off of a writable skb and fixes the UDP checksum. */
static void truth_fp_rewrite(struct truth_fp_pkt *p, u32 off, const u8 *buf,
			     u32 len)
{
	struct sk_buff *skb = p->skb;
	struct udphdr *uh = (struct udphdr *)(skb->data + p->udp_off);
	__wsum diff;

	/* even offsets from the UDP header: the 16-bit words line up */
	diff = csum_sub(csum_partial(buf, len, 0),
			csum_partial(skb->data + off, len, 0));
	memcpy(skb->data + off, buf, len);
	/*
	 * CHECKSUM_PARTIAL: the field holds only the pseudo header, which did
	 * not change.  CHECKSUM_COMPLETE: skb->csum covers the field too, so
	 * the field's change cancels the data's.  IPv4 may have no checksum.
	 */
	if (skb->ip_summed == CHECKSUM_PARTIAL || (!p->ipv6 && !uh->check))
		return;
	csum_replace_by_diff(&uh->check, diff);
	if (!uh->check)
		uh->check = CSUM_MANGLED_0;
}

__bpf_kfunc_start_defs();

/**
 * truth_kf_ack - count an ACK for a group this node leads
 * @ctx: the tc program's context
 * @port: the agents' UDP port (host order)
 *
 * Return: TRUTH_FP_CONSUME if counted (drop it), TRUTH_FP_DROP for a bad MAC
 * or a replay, TRUTH_FP_NOT_ACK for an intact datagram of another type (for
 * truth_kf_observe), TRUTH_FP_PASS for everything else.
 */
__bpf_kfunc int truth_kf_ack(struct __sk_buff *ctx, u32 port)
{
	struct sk_buff *skb = (struct sk_buff *)ctx;
	struct truth_fp_scratch *s;
	struct truth_group *g = NULL;
	enum truth_fp_parse r;
	struct truth_fp_pkt p;
	bool send = false;
	int v, ret;

	r = truth_fp_parse(skb, port, &p);
	if (r != TRUTH_FP_HEADER) {
		if (p.tn)
			truth_fp_count_ns(&p, r);
		return TRUTH_FP_PASS;
	}
	if (p.hdr[5] != TRUTH_WIRE_ACK &&
	    truth_wire_check(p.hdr, p.len) == TRUTH_WIRE_OK)
		return TRUTH_FP_NOT_ACK;

	s = truth_fp_scratch_get();
	rcu_read_lock();
	if (truth_fp_auth(&p, s, &g, &v) != TRUTH_FP_AUTH_OK)
		goto out;

	spin_lock_bh(&g->lock);
	if (truth_fp_admit(g, &p, &v) < 0)
		goto out_unlock;
	ret = truth_group_ack_locked(g, truth_wire_get64(p.hdr + 24),
				     truth_wire_get64(p.hdr + 32),
				     truth_wire_get32(p.hdr + 8), &send, NULL);
	if (!ret) {
		g->stats.fp_acks++;
		v = TRUTH_FP_CONSUME;
	} else if (ret == -ESTALE) {
		g->stats.fp_stale++;
	} else {
		g->stats.fp_passed++;
	}
	/* an ACK is a receive event like any other */
	truth_fp_merge(g, &p, s);
out_unlock:
	spin_unlock_bh(&g->lock);
	if (send)
		truth_group_send_commits(g);
out:
	rcu_read_unlock();
	return v;
}

/**
 * truth_kf_observe - merge an incoming datagram's clocks
 * @ctx: the tc program's context
 * @port: the agents' UDP port (host order)
 *
 * For PROBE types also writes the receive trailer (tc time).  The datagram
 * goes up: TRUTH_FP_PASS, or TRUTH_FP_DROP for a bad MAC or a replay.
 */
__bpf_kfunc int truth_kf_observe(struct __sk_buff *ctx, u32 port)
{
	struct sk_buff *skb = (struct sk_buff *)ctx;
	u64 now = ktime_get_real_ns();
	u8 rx[TRUTH_RX_LEN] = {};
	struct truth_fp_scratch *s;
	struct truth_group *g = NULL;
	enum truth_fp_parse r;
	struct truth_fp_pkt p;
	bool probe = false;
	int v;

	r = truth_fp_parse(skb, port, &p);
	if (r != TRUTH_FP_HEADER) {
		if (p.tn)
			truth_fp_count_ns(&p, r);
		return TRUTH_FP_PASS;
	}
	s = truth_fp_scratch_get();
	rcu_read_lock();
	if (truth_fp_auth(&p, s, &g, &v) != TRUTH_FP_AUTH_OK)
		goto out;
	spin_lock_bh(&g->lock);
	if (truth_fp_admit(g, &p, &v) >= 0) {
		g->stats.fp_passed++;
		truth_fp_merge(g, &p, s);
		probe = truth_wire_has_rx(p.hdr[5]);
	}
	spin_unlock_bh(&g->lock);
out:
	rcu_read_unlock();

	/* the trailer is not MACed: the receiving host writes it */
	if (probe && !skb_ensure_writable(skb, p.off + p.len)) {
		truth_wire_put64(rx, now);
		rx[8] = TRUTH_WIRE_TSRC_TC;
		truth_fp_rewrite(&p, p.off + p.len - TRUTH_RX_LEN, rx, sizeof(rx));
		bpf_compute_data_pointers(skb);
	}
	return v;
}

__bpf_kfunc_end_defs();

BTF_KFUNCS_START(truth_kfunc_ids)
BTF_ID_FLAGS(func, truth_kf_ack)
BTF_ID_FLAGS(func, truth_kf_observe)
BTF_ID_FLAGS(func, truth_kf_stamp)
BTF_KFUNCS_END(truth_kfunc_ids)

static const struct btf_kfunc_id_set truth_kfunc_set = {
	.owner	= THIS_MODULE,
	.set	= &truth_kfunc_ids,
};

int __init truth_fastpath_init(void)
{
	/*
	 * No unregister: a module's kfunc set goes with its BTF, and a
	 * program that calls these holds a reference on the module.
	 */
	return register_btf_kfunc_id_set(BPF_PROG_TYPE_SCHED_CLS,
					 &truth_kfunc_set);
}
