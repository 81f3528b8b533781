// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Fragments: an APPEND message whose one entry does not fit a datagram,
 * cut into equal pieces on the way out and put back together on the way
 * in (Documentation/wire.md "Fragments").
 *
 * Every fragment is a whole datagram of the wire: its own header, seq and
 * MAC, so the kernel fast path, the replay window and the MAC check treat
 * it like any APPEND.  Only authenticated, in-window fragments reach
 * truth_tp_frag_input().  Reassembly is bounded: TRUTH_TP_FRAG_SLOTS
 * messages per peer, each at most msg_max bytes, given up after
 * TRUTH_TP_FRAG_TIMEOUT_US or when a newer message needs the slot.  There
 * is no retransmission here: a message missing a fragment never completes,
 * and Raft sends the entries again (a new message, a new id).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "transport/transport.h"
#include "transport/tp_int.h"

#define FRAG_OFF	TRUTH_TP_APPEND_FIXED		/* fragment header */
#define FRAG_DATA	(TRUTH_TP_APPEND_FIXED + TRUTH_TP_FRAG_HDR)	/* its bytes */

/* Bytes [off, off + len) of the entry as the entries region has it. */
static void entry_bytes(const uint8_t *ehdr, const struct raft_entry *e,
			uint32_t off, uint32_t len, uint8_t *out)
{
	uint32_t h = 0;

	if (off < TRUTH_TP_ENTRY_HDR) {
		h = TRUTH_TP_ENTRY_HDR - off;
		if (h > len)
			h = len;
		memcpy(out, ehdr + off, h);
		off = 0;
	} else {
		off -= TRUTH_TP_ENTRY_HDR;
	}
	if (len > h)
		memcpy(out + h, (const uint8_t *)e->data + off, len - h);
}

int truth_tp_send_frags(struct truth_tp *t, struct truth_tp_peer *p,
			const struct raft_msg *m, const struct raft_entry *e,
			uint64_t prev, uint64_t prev_term, uint8_t *pl)
{
	uint64_t total = (uint64_t)TRUTH_TP_ENTRY_HDR + e->len, msg_id;
	uint8_t ehdr[TRUTH_TP_ENTRY_HDR];
	struct truth_wire_msg w;
	uint32_t frags, chunk, i, off, len;
	int err;

	if (total > t->msg_max) {
		t->st.tx_too_big++;
		return -EMSGSIZE;
	}
	frags = (uint32_t)((total + TRUTH_TP_FRAG_CHUNK - 1) / TRUTH_TP_FRAG_CHUNK);
	/* equal pieces, so the receiver can place each from its number alone */
	chunk = (uint32_t)((total + frags - 1) / frags);
	truth_wire_put64(ehdr, e->term);
	truth_wire_put64(ehdr + 8, e->client_id);
	truth_wire_put64(ehdr + 16, e->client_seq);
	truth_wire_put32(ehdr + 24, e->len);
	ehdr[28] = e->type;
	ehdr[29] = ehdr[30] = ehdr[31] = 0;
	/* the seq fragment 0 gets: unique per sender, across restarts too */
	msg_id = t->seq + 1;
	for (i = 0; i < frags; i++) {
		off = i * chunk;
		len = (uint32_t)(total - off < chunk ? total - off : chunk);
		truth_wire_put64(pl, prev_term);
		truth_wire_put64(pl + 8, m->commit);
		truth_wire_put64(pl + 16, m->ctx);
		truth_wire_put32(pl + 24, 1);
		truth_wire_put16(pl + 28, (uint16_t)frags);
		truth_wire_put16(pl + 30, (uint16_t)i);
		truth_wire_put64(pl + FRAG_OFF, msg_id);
		truth_wire_put32(pl + FRAG_OFF + 8, (uint32_t)total);
		truth_wire_put32(pl + FRAG_OFF + 12, 0);
		entry_bytes(ehdr, e, off, len, pl + FRAG_DATA);
		truth_tp_hdr_init(t, &w, TRUTH_WIRE_APPEND, m, prev);
		w.payload = pl;
		w.payload_len = (uint16_t)(FRAG_DATA + len);
		err = truth_tp_emit_one(t, p, &w);
		if (err < 0)
			return err;
		t->st.tx_frag++;
	}
	t->st.tx_frag_msgs++;
	return 0;
}

void truth_tp_frag_free(struct truth_tp *t, struct truth_tp_frag_slot *s)
{
	if (!s->used)
		return;
	free(s->buf);
	free(s->seen);
	t->frag_bytes -= TRUTH_TP_APPEND_FIXED + (uint64_t)s->total;
	t->frag_busy--;
	memset(s, 0, sizeof(*s));
}

void truth_tp_frag_expire(struct truth_tp *t, uint64_t now_us)
{
	uint32_t i, k;

	if (!t->frag_busy)
		return;
	for (i = 0; i < t->n_peers; i++)
		for (k = 0; k < TRUTH_TP_FRAG_SLOTS; k++) {
			struct truth_tp_frag_slot *s = &t->peers[i].frag[k];

			if (s->used && now_us - s->start_us > TRUTH_TP_FRAG_TIMEOUT_US) {
				t->st.rx_frag_dropped++;
				truth_tp_frag_free(t, s);
			}
		}
}

/* The slot of msg_id, or a free one, or the oldest message's (given up). */
static struct truth_tp_frag_slot *slot_for(struct truth_tp *t,
					   struct truth_tp_peer *peer,
					   uint64_t msg_id, bool *fresh)
{
	struct truth_tp_frag_slot *s, *free_s = NULL, *old = NULL;
	uint32_t k;

	for (k = 0; k < TRUTH_TP_FRAG_SLOTS; k++) {
		s = &peer->frag[k];
		if (!s->used) {
			if (!free_s)
				free_s = s;
			continue;
		}
		if (s->msg_id == msg_id) {
			*fresh = false;
			return s;
		}
		if (!old || s->msg_id < old->msg_id)
			old = s;
	}
	*fresh = true;
	if (free_s)
		return free_s;
	/* a sender that moved on does not come back for the older one */
	t->st.rx_frag_dropped++;
	truth_tp_frag_free(t, old);
	return old;
}

const char *truth_tp_frag_input(struct truth_tp *t, struct truth_tp_peer *peer,
				const struct truth_wire_msg *w,
				struct truth_tp_frag_slot **slot)
{
	const uint8_t *p = w->payload;
	size_t n = w->payload_len;
	struct truth_tp_frag_slot *s;
	uint32_t total, chunk, off, len;
	uint16_t frags, frag;
	uint64_t msg_id;
	bool fresh;

	*slot = NULL;
	if (n < FRAG_DATA) {
		t->st.rx_bad_payload++;
		return "bad payload";
	}
	frags = truth_wire_get16(p + 28);
	frag = truth_wire_get16(p + 30);
	msg_id = truth_wire_get64(p + FRAG_OFF);
	total = truth_wire_get32(p + FRAG_OFF + 8);
	if (frags < 2 || frag >= frags || truth_wire_get32(p + 24) == 0 ||
	    truth_wire_get32(p + FRAG_OFF + 12) || total < frags) {
		t->st.rx_bad_payload++;
		return "bad payload";
	}
	if (total > t->msg_max) {
		t->st.rx_frag_oversize++;
		return "fragmented message too long";
	}
	chunk = (uint32_t)(((uint64_t)total + frags - 1) / frags);
	off = (uint32_t)frag * chunk;
	/* every piece holds at least one byte, the last one the rest */
	if ((uint64_t)(frags - 1) * chunk >= total) {
		t->st.rx_bad_payload++;
		return "bad payload";
	}
	len = total - off < chunk ? total - off : chunk;
	if (n - FRAG_DATA != len) {
		t->st.rx_bad_payload++;
		return "bad payload";
	}
	truth_tp_frag_expire(t, t->now_us);

	s = slot_for(t, peer, msg_id, &fresh);
	if (fresh) {
		s->buf = malloc(TRUTH_TP_APPEND_FIXED + (size_t)total);
		s->seen = calloc(((size_t)frags + 7) / 8, 1);
		if (!s->buf || !s->seen) {
			free(s->buf);
			free(s->seen);
			s->buf = s->seen = NULL;
			t->st.rx_frag_dropped++;
			return "out of memory";
		}
		s->used = true;
		s->msg_id = msg_id;
		s->term = w->term;
		s->index = w->index;
		memcpy(s->fixed, p, TRUTH_TP_APPEND_FIXED);
		memset(s->fixed + 28, 0, 4);	/* the whole message's: no fragments */
		s->total = total;
		s->frags = frags;
		s->have = 0;
		s->start_us = t->now_us;
		memcpy(s->buf, s->fixed, TRUTH_TP_APPEND_FIXED);
		t->frag_busy++;
		t->frag_bytes += TRUTH_TP_APPEND_FIXED + (uint64_t)total;
	} else if (s->term != w->term || s->index != w->index || s->total != total ||
		   s->frags != frags || memcmp(s->fixed, p, 28)) {
		t->st.rx_frag_mismatch++;
		return "fragment mismatch";
	}
	if (s->seen[frag / 8] & (1u << (frag % 8))) {
		t->st.rx_frag_dup++;
		return "duplicate fragment";
	}
	memcpy(s->buf + TRUTH_TP_APPEND_FIXED + off, p + FRAG_DATA, len);
	s->seen[frag / 8] |= (uint8_t)(1u << (frag % 8));
	s->have++;
	t->st.rx_frag++;
	if (s->have == s->frags)
		*slot = s;
	return NULL;
}
