/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* truth transport internals shared by its files. */
#ifndef _TRUTH_TP_INT_H
#define _TRUTH_TP_INT_H

#include "transport/transport.h"

/* Datagram payload -> raft message; 0 or -1 (malformed). */
int truth_tp_decode(struct truth_tp *t, struct truth_tp_peer *peer,
		    const struct truth_wire_msg *w, struct raft_msg *m);
/*
 * An APPEND payload of n bytes (fixed part, then the entries) whose entry
 * before the first is index -> m (entries in t->ents, data pointing into
 * p); 0 or -1.  The fixed part's fragment fields must be zero.
 */
int truth_tp_decode_append(struct truth_tp *t, uint64_t index,
			   const uint8_t *p, size_t n, struct raft_msg *m);
/* The header fields every datagram we send has (seq, clocks). */
void truth_tp_hdr_init(struct truth_tp *t, struct truth_wire_msg *w,
		       uint8_t type, const struct raft_msg *m, uint64_t index);
/* Encode w into t->txbuf and hand it to t->emit. */
int truth_tp_emit_one(struct truth_tp *t, struct truth_tp_peer *p,
		      struct truth_wire_msg *w);

/* Is this APPEND payload a fragment (its frags field is not zero)? */
static inline bool truth_tp_is_frag(const struct truth_wire_msg *w)
{
	return w->type == TRUTH_WIRE_APPEND &&
	       w->payload_len >= TRUTH_TP_APPEND_FIXED &&
	       truth_wire_get16(w->payload + 28) != 0;
}

/*
 * Send entry e of m (prev_index/prev_term those before it) as one APPEND
 * message in fragments, pl the payload scratch.  0 or -errno.
 */
int truth_tp_send_frags(struct truth_tp *t, struct truth_tp_peer *p,
			const struct raft_msg *m, const struct raft_entry *e,
			uint64_t prev, uint64_t prev_term, uint8_t *pl);
/*
 * Take one authenticated fragment from peer.  Returns NULL when it was
 * taken, with *slot set when it completed its message (decode and deliver
 * it, then truth_tp_frag_free()), else the stats field it was counted in.
 */
const char *truth_tp_frag_input(struct truth_tp *t, struct truth_tp_peer *peer,
				const struct truth_wire_msg *w,
				struct truth_tp_frag_slot **slot);
void truth_tp_frag_free(struct truth_tp *t, struct truth_tp_frag_slot *s);

#endif /* _TRUTH_TP_INT_H */
