/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * The on-wire header's pure rules, shared by truth.ko and truthd: how long a
 * datagram of a given header must be, whether a header is well formed, and
 * the replay window.  The layout itself is documented in
 * include/uapi/linux/truth.h ("The wire").
 *
 * Fields are read byte by byte, so the same code runs on any alignment and
 * byte order without ntohl()/be32_to_cpu().  The MAC is not here: the kernel
 * and user space call different BLAKE2s libraries over the same bytes.
 *
 * Pure: no allocation, no I/O, no locking; the caller serialises.
 */
#ifndef _TRUTH_WIRE_H
#define _TRUTH_WIRE_H

#include <linux/types.h>
#include <linux/truth.h>

/* Why a datagram was refused; the counters in truthctl show use these. */
enum truth_wire_err {
	TRUTH_WIRE_OK,
	TRUTH_WIRE_E_SHORT,	/* shorter than the fixed header */
	TRUTH_WIRE_E_MAGIC,	/* not a truth datagram */
	TRUTH_WIRE_E_VERSION,	/* another wire version */
	TRUTH_WIRE_E_TYPE,	/* unknown type */
	TRUTH_WIRE_E_FLAGS,	/* unknown flag bit */
	TRUTH_WIRE_E_VCCOUNT,	/* vc_count above TRUTH_WIRE_VCLOCK_MAX */
	TRUTH_WIRE_E_LENGTH,	/* length is not header + vc + payload (+ rx) */
	TRUTH_WIRE_E_RESERVED,	/* a reserved field is not zero */
	TRUTH_WIRE_E_PAYLOAD,	/* payload length wrong for the type */
	TRUTH_WIRE_E_VCLOCK,	/* vector clock malformed (order, zero, pad) */
	TRUTH_WIRE_E_MAC,	/* MAC mismatch (checked by the caller) */
	TRUTH_WIRE_E_REPLAY,	/* seq seen before or below the window */
	__TRUTH_WIRE_E_MAX
};

static inline __u16 truth_wire_get16(const __u8 *p)
{
	return (__u16)((__u16)p[0] << 8 | p[1]);
}

static inline __u32 truth_wire_get32(const __u8 *p)
{
	return (__u32)p[0] << 24 | (__u32)p[1] << 16 | (__u32)p[2] << 8 | p[3];
}

static inline __u64 truth_wire_get64(const __u8 *p)
{
	return (__u64)truth_wire_get32(p) << 32 | truth_wire_get32(p + 4);
}

static inline void truth_wire_put16(__u8 *p, __u16 v)
{
	p[0] = (__u8)(v >> 8);
	p[1] = (__u8)v;
}

static inline void truth_wire_put32(__u8 *p, __u32 v)
{
	p[0] = (__u8)(v >> 24);
	p[1] = (__u8)(v >> 16);
	p[2] = (__u8)(v >> 8);
	p[3] = (__u8)v;
}

static inline void truth_wire_put64(__u8 *p, __u64 v)
{
	truth_wire_put32(p, (__u32)(v >> 32));
	truth_wire_put32(p + 4, (__u32)v);
}

/* PROBE and PROBE_REPLY carry the receive trailer after their payload. */
static inline int truth_wire_has_rx(__u8 type)
{
	return type == TRUTH_WIRE_PROBE || type == TRUTH_WIRE_PROBE_REPLY;
}

/* Bytes the MAC covers: header, vector clock, payload. */
static inline __u32 truth_wire_auth_len(__u8 vc_count, __u16 payload_len)
{
	return TRUTH_WIRE_HDR_LEN + (__u32)vc_count * sizeof(struct truth_wire_vc) +
	       payload_len;
}

/* The whole datagram's length for this header. */
static inline __u32 truth_wire_total_len(__u8 type, __u8 vc_count,
					 __u16 payload_len)
{
	return truth_wire_auth_len(vc_count, payload_len) +
	       (truth_wire_has_rx(type) ? sizeof(struct truth_wire_rx) : 0);
}

/*
 * Checks the first TRUTH_WIRE_HDR_LEN bytes of a datagram of @len bytes:
 * every rule of the header except the MAC and the replay window.  @hdr must
 * hold at least TRUTH_WIRE_HDR_LEN bytes when @len allows it.
 */
static inline enum truth_wire_err truth_wire_check(const __u8 *hdr, __u32 len)
{
	__u8 type, vc_count;
	__u16 payload_len;

	if (len < TRUTH_WIRE_HDR_LEN)
		return TRUTH_WIRE_E_SHORT;
	if (truth_wire_get32(hdr) != TRUTH_WIRE_MAGIC)
		return TRUTH_WIRE_E_MAGIC;
	if (hdr[4] != TRUTH_WIRE_VERSION)
		return TRUTH_WIRE_E_VERSION;
	type = hdr[5];
	if (type == TRUTH_WIRE_UNSPEC || type > TRUTH_WIRE_TYPE_MAX)
		return TRUTH_WIRE_E_TYPE;
	if (hdr[6] & ~(__u32)__TRUTH_WIRE_F_ALL)
		return TRUTH_WIRE_E_FLAGS;
	vc_count = hdr[7];
	if (vc_count > TRUTH_WIRE_VCLOCK_MAX)
		return TRUTH_WIRE_E_VCCOUNT;
	payload_len = truth_wire_get16(hdr + 20);
	if (len != truth_wire_total_len(type, vc_count, payload_len))
		return TRUTH_WIRE_E_LENGTH;
	if (truth_wire_get16(hdr + 22) != 0)
		return TRUTH_WIRE_E_RESERVED;
	if (type == TRUTH_WIRE_ACK && payload_len != 0)
		return TRUTH_WIRE_E_PAYLOAD;
	if (truth_wire_has_rx(type) &&
	    payload_len != sizeof(struct truth_wire_probe))
		return TRUTH_WIRE_E_PAYLOAD;
	return TRUTH_WIRE_OK;
}

/*
 * Checks @vc_count vector-clock entries at @vc (right after the header):
 * node ids strictly ascending, counters not zero, reserved zero.
 */
static inline enum truth_wire_err truth_wire_check_vc(const __u8 *vc,
						      __u8 vc_count)
{
	__u32 i, node, prev = 0;

	for (i = 0; i < vc_count && i < TRUTH_WIRE_VCLOCK_MAX; i++) {
		const __u8 *e = vc + i * sizeof(struct truth_wire_vc);

		node = truth_wire_get32(e);
		if ((i > 0 && node <= prev) || truth_wire_get32(e + 4) != 0 ||
		    truth_wire_get64(e + 8) == 0)
			return TRUTH_WIRE_E_VCLOCK;
		prev = node;
	}
	return TRUTH_WIRE_OK;
}

/*
 * Replay window (RFC 6479's idea, as WireGuard's counter.c): @top is the
 * highest seq accepted, bit (seq % WINDOW) of @bits says whether seq in
 * (top - WINDOW, top] was seen.  A zero seq is never valid, so a fresh
 * window (all zero) accepts anything from 1 up.
 */
#define TRUTH_REPLAY_WORDS	(TRUTH_WIRE_REPLAY_WINDOW / 64)

struct truth_replay {
	__u64 top;
	__u64 bits[TRUTH_REPLAY_WORDS];
};

/* Would @seq be accepted?  Does not change the window. */
static inline int truth_replay_ok(const struct truth_replay *w, __u64 seq)
{
	__u64 bit;

	if (seq == 0)
		return 0;
	if (seq > w->top)
		return 1;
	if (w->top - seq >= TRUTH_WIRE_REPLAY_WINDOW)
		return 0;
	bit = seq % TRUTH_WIRE_REPLAY_WINDOW;
	return !(w->bits[bit / 64] >> (bit % 64) & 1);
}

/*
 * Accepts @seq into the window: returns 1 if it is new (and records it), 0 if
 * it is a replay or too old (and changes nothing).  Call only after the MAC
 * has been checked, or a forger could advance the window.
 */
static inline int truth_replay_accept(struct truth_replay *w, __u64 seq)
{
	__u64 bit, s;

	if (!truth_replay_ok(w, seq))
		return 0;
	if (seq > w->top) {
		if (seq - w->top >= TRUTH_WIRE_REPLAY_WINDOW) {
			for (s = 0; s < TRUTH_REPLAY_WORDS; s++)
				w->bits[s] = 0;
		} else {
			/* clear the slots the window slides over */
			for (s = w->top + 1; s < seq; s++) {
				bit = s % TRUTH_WIRE_REPLAY_WINDOW;
				w->bits[bit / 64] &= ~(1ULL << (bit % 64));
			}
		}
		w->top = seq;
	}
	bit = seq % TRUTH_WIRE_REPLAY_WINDOW;
	w->bits[bit / 64] |= 1ULL << (bit % 64);
	return 1;
}

#endif /* _TRUTH_WIRE_H */
