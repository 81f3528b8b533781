// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Raft messages <-> wire datagrams.  The layouts are Documentation/wire.md;
 * keep the two in step.  Encoding splits big APPENDs (and hands an entry
 * too big for a datagram to frag.c); decoding is strict: a payload is
 * accepted only if every byte is where the layout says.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "transport/transport.h"
#include "transport/tp_int.h"

/* RAFT payload flag bits */
#define RF_REJECT	(1u << 0)
#define RF_HEARTBEAT	(1u << 1)
#define RF_TRANSFER	(1u << 2)
#define RF_DONE		(1u << 3)
#define RF_ALL		(RF_REJECT | RF_HEARTBEAT | RF_TRANSFER | RF_DONE)

#define put64	truth_wire_put64
#define put32	truth_wire_put32
#define put16	truth_wire_put16
#define get64	truth_wire_get64
#define get32	truth_wire_get32
#define get16	truth_wire_get16

/* Fill the header fields common to every datagram we send. */
void truth_tp_hdr_init(struct truth_tp *t, struct truth_wire_msg *w, uint8_t type,
		       const struct raft_msg *m, uint64_t index)
{
	memset(w, 0, sizeof(*w));
	w->type = type;
	w->sender = t->self;
	w->receiver = m->to;
	w->group = t->group;
	w->term = m->term;
	w->index = index;
	w->seq = ++t->seq;
	w->lamport = ++t->lamport;
	w->hlc = t->hlc ? t->hlc(t->hlc_ctx, 0) : 0;
	/* the sender's own entry, as the UAPI asks; no kernel stamping yet */
	w->vc_count = 1;
	w->vc[0].node = t->self;
	w->vc[0].counter = t->lamport;
}

int truth_tp_emit_one(struct truth_tp *t, struct truth_tp_peer *p,
		      struct truth_wire_msg *w)
{
	int n = truth_wire_encode(t->txbuf, TRUTH_WIRE_DGRAM_MAX, w, t->key);

	if (n < 0)
		return n;
	return t->emit(t, p, t->txbuf, (size_t)n);
}

static size_t raft_payload(struct truth_tp *t, const struct raft_msg *m,
			   uint8_t *p, uint32_t data_off, uint32_t data_len)
{
	size_t alen = strlen(t->advert), off;
	uint8_t flags = 0;

	flags |= m->reject ? RF_REJECT : 0;
	flags |= m->heartbeat ? RF_HEARTBEAT : 0;
	flags |= m->transfer ? RF_TRANSFER : 0;
	flags |= m->done ? RF_DONE : 0;
	memset(p, 0, TRUTH_TP_RAFT_FIXED);
	p[0] = m->type;
	p[1] = flags;
	p[2] = (uint8_t)alen;
	put64(p + 8, m->last_index);
	put64(p + 16, m->last_term);
	put64(p + 24, m->prev_term);
	put64(p + 32, m->commit);
	put64(p + 40, m->ctx);
	put64(p + 48, m->match_index);
	put64(p + 56, m->hint_index);
	put64(p + 64, m->hint_term);
	put64(p + 72, m->snap_index);
	put64(p + 80, m->snap_term);
	put64(p + 88, m->snap_size);
	put64(p + 96, m->offset);
	off = TRUTH_TP_RAFT_FIXED;
	memcpy(p + off, t->advert, alen);
	off += alen;
	if (m->type == RAFT_MSG_SNAPSHOT) {
		uint32_t cl = raft_conf_encode(&m->snap_conf, p + off + 2);

		put16(p + off, (uint16_t)cl);
		off += 2 + cl;
		if (data_len)
			memcpy(p + off, (const uint8_t *)m->data + data_off, data_len);
		off += data_len;
	}
	return off;
}

static int send_append(struct truth_tp *t, struct truth_tp_peer *p,
		       const struct raft_msg *m, uint8_t *pl)
{
	uint64_t prev = m->prev_index, prev_term = m->prev_term;
	uint32_t i = 0, first, pieces = 0;
	struct truth_wire_msg w;
	size_t off;
	int err;

	while (i < m->n_entries) {
		first = i;
		off = TRUTH_TP_APPEND_FIXED;
		while (i < m->n_entries) {
			const struct raft_entry *e = &m->entries[i];
			size_t need = TRUTH_TP_ENTRY_HDR + e->len;

			if (off + need > TRUTH_TP_PAYLOAD_TARGET)
				break;
			put64(pl + off, e->term);
			put64(pl + off + 8, e->client_id);
			put64(pl + off + 16, e->client_seq);
			put32(pl + off + 24, e->len);
			pl[off + 28] = e->type;
			pl[off + 29] = pl[off + 30] = pl[off + 31] = 0;
			if (e->len)
				memcpy(pl + off + 32, e->data, e->len);
			off += need;
			i++;
		}
		if (i == first) {
			/* one entry alone too big for a datagram: fragments */
			err = truth_tp_send_frags(t, p, m, &m->entries[i], prev,
						  prev_term, pl);
			if (err < 0)
				return err;
			i++;
			pieces++;
			prev = m->entries[i - 1].index;
			prev_term = m->entries[i - 1].term;
			continue;
		}
		put64(pl, prev_term);
		put64(pl + 8, m->commit);
		put64(pl + 16, m->ctx);
		put32(pl + 24, i - first);
		put32(pl + 28, 0);
		truth_tp_hdr_init(t, &w, TRUTH_WIRE_APPEND, m, prev);
		w.payload = pl;
		w.payload_len = (uint16_t)off;
		err = truth_tp_emit_one(t, p, &w);
		if (err < 0)
			return err;
		pieces++;
		prev = m->entries[i - 1].index;
		prev_term = m->entries[i - 1].term;
	}
	if (pieces > 1)
		t->st.tx_split++;
	return 0;
}

int truth_tp_send(struct truth_tp *t, const struct raft_msg *m)
{
	struct truth_tp_peer *p = truth_tp_peer(t, m->to);
	uint8_t *pl = t->txbuf + TRUTH_WIRE_DGRAM_MAX;	/* payload scratch */
	struct truth_wire_msg w;
	uint32_t off = 0, len, pieces = 0;
	int err;

	if (!p)
		return -ENOENT;
	if (m->type == RAFT_MSG_APPEND && m->n_entries)
		return send_append(t, p, m, pl);
	if (m->type == RAFT_MSG_APPEND_RESP && !m->heartbeat && !m->reject) {
		/* the kernel fast path counts these: index is all it needs */
		truth_tp_hdr_init(t, &w, TRUTH_WIRE_ACK, m, m->match_index);
		return truth_tp_emit_one(t, p, &w);
	}
	/* a snapshot chunk from the core is at most TRUTH_TP_SNAP_CHUNK; split anyway */
	do {
		struct raft_msg c = *m;

		len = m->type == RAFT_MSG_SNAPSHOT ? m->len - off : 0;
		if (len > TRUTH_TP_SNAP_CHUNK)
			len = TRUTH_TP_SNAP_CHUNK;
		if (m->type == RAFT_MSG_SNAPSHOT) {
			c.offset = m->offset + off;
			c.done = m->done && off + len == m->len;
		}
		truth_tp_hdr_init(t, &w, TRUTH_WIRE_RAFT, m, m->prev_index);
		w.payload = pl;
		w.payload_len = (uint16_t)raft_payload(t, &c, pl, off, len);
		err = truth_tp_emit_one(t, p, &w);
		if (err < 0)
			return err;
		off += len;
		pieces++;
	} while (off < (m->type == RAFT_MSG_SNAPSHOT ? m->len : 0));
	if (pieces > 1)
		t->st.tx_split++;
	return 0;
}

static int decode_raft(struct truth_tp *t, struct truth_tp_peer *peer,
		       const struct truth_wire_msg *w, struct raft_msg *m)
{
	const uint8_t *p = w->payload;
	size_t n = w->payload_len, off;
	uint8_t alen;

	if (n < TRUTH_TP_RAFT_FIXED || p[0] >= __RAFT_MSG_MAX || (p[1] & ~RF_ALL) ||
	    p[3] || get32(p + 4))
		return -1;
	alen = p[2];
	if (alen > TRUTH_TP_ADVERT_MAX || n < TRUTH_TP_RAFT_FIXED + (size_t)alen)
		return -1;
	m->type = p[0];
	m->reject = p[1] & RF_REJECT;
	m->heartbeat = p[1] & RF_HEARTBEAT;
	m->transfer = p[1] & RF_TRANSFER;
	m->done = p[1] & RF_DONE;
	m->prev_index = w->index;
	m->last_index = get64(p + 8);
	m->last_term = get64(p + 16);
	m->prev_term = get64(p + 24);
	m->commit = get64(p + 32);
	m->ctx = get64(p + 40);
	m->match_index = get64(p + 48);
	m->hint_index = get64(p + 56);
	m->hint_term = get64(p + 64);
	m->snap_index = get64(p + 72);
	m->snap_term = get64(p + 80);
	m->snap_size = get64(p + 88);
	m->offset = get64(p + 96);
	off = TRUTH_TP_RAFT_FIXED;
	memcpy(peer->client, p + off, alen);
	peer->client[alen] = '\0';
	off += alen;
	if (m->type == RAFT_MSG_SNAPSHOT) {
		uint16_t cl;

		if (n < off + 2)
			return -1;
		cl = get16(p + off);
		off += 2;
		if (n < off + cl || raft_conf_decode(&m->snap_conf, p + off, cl))
			return -1;
		off += cl;
		m->len = (uint32_t)(n - off);
		m->data = (void *)(p + off);
		if (m->offset > m->snap_size || m->len > m->snap_size - m->offset)
			return -1;
		return 0;
	}
	/* APPENDs with entries travel as TRUTH_WIRE_APPEND, nothing trails */
	return off == n ? 0 : -1;
}

int truth_tp_decode_append(struct truth_tp *t, uint64_t index,
			   const uint8_t *p, size_t n, struct raft_msg *m)
{
	size_t off = TRUTH_TP_APPEND_FIXED;
	uint32_t cnt, i;

	if (n < TRUTH_TP_APPEND_FIXED || get32(p + 28))
		return -1;
	cnt = get32(p + 24);
	if (cnt == 0 || cnt > n / TRUTH_TP_ENTRY_HDR)
		return -1;
	if (cnt > t->ents_cap)
		return -1;	/* ents_cap covers a full datagram of empty entries */
	m->type = RAFT_MSG_APPEND;
	m->prev_index = index;
	m->prev_term = get64(p);
	m->commit = get64(p + 8);
	m->ctx = get64(p + 16);
	for (i = 0; i < cnt; i++) {
		struct raft_entry *e = &t->ents[i];
		uint32_t len;

		if (n - off < TRUTH_TP_ENTRY_HDR)
			return -1;
		len = get32(p + off + 24);
		if (n - off - TRUTH_TP_ENTRY_HDR < len || p[off + 29] || p[off + 30] ||
		    p[off + 31] || p[off + 28] > RAFT_ENTRY_CONF)
			return -1;
		e->index = index + 1 + i;
		e->term = get64(p + off);
		e->client_id = get64(p + off + 8);
		e->client_seq = get64(p + off + 16);
		e->len = len;
		e->type = p[off + 28];
		e->data = len ? (void *)(p + off + TRUTH_TP_ENTRY_HDR) : NULL;
		off += TRUTH_TP_ENTRY_HDR + len;
	}
	if (off != n)
		return -1;
	m->n_entries = cnt;
	m->entries = t->ents;
	return 0;
}

int truth_tp_decode(struct truth_tp *t, struct truth_tp_peer *peer,
		    const struct truth_wire_msg *w, struct raft_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->from = w->sender;
	m->to = w->receiver;
	m->term = w->term;
	switch (w->type) {
	case TRUTH_WIRE_ACK:
		m->type = RAFT_MSG_APPEND_RESP;
		m->match_index = w->index;
		return 0;
	case TRUTH_WIRE_APPEND:
		return truth_tp_decode_append(t, w->index, w->payload,
					      w->payload_len, m);
	case TRUTH_WIRE_RAFT:
		return decode_raft(t, peer, w, m);
	default:
		return -1;
	}
}



static int merge_flush(struct truth_tp *t, struct truth_tp_merge *g)
{
	int err;

	if (!g->open)
		return 0;
	g->open = false;
	g->m.entries = g->e;
	err = truth_tp_send(t, &g->m);
	return err;
}

static bool merge_add(struct truth_tp_merge *g, const struct raft_msg *m)
{
	uint32_t n = g->m.n_entries + m->n_entries;

	if (n > g->cap) {
		uint32_t cap = n * 2;
		struct raft_entry *ne = realloc(g->e, cap * sizeof(*ne));

		if (!ne)
			return false;
		g->e = ne;
		g->cap = cap;
	}
	memcpy(g->e + g->m.n_entries, m->entries, m->n_entries * sizeof(*g->e));
	g->m.n_entries = n;
	/* the later message's view of commit and read round is the newer one */
	g->m.commit = m->commit;
	g->m.ctx = m->ctx;
	return true;
}

int truth_tp_send_many(struct truth_tp *t, const struct raft_msg *msgs, uint32_t n)
{
	struct truth_tp_merge *g = t->merge;
	uint32_t i, k;

	for (i = 0; i < n; i++) {
		const struct raft_msg *m = &msgs[i];
		struct truth_tp_peer *p = truth_tp_peer(t, m->to);
		struct truth_tp_merge *cur;

		if (!p) {
			truth_tp_send(t, m);
			continue;
		}
		cur = &g[p - t->peers];
		if (m->type == RAFT_MSG_APPEND && m->n_entries) {
			const struct raft_entry *last;

			if (cur->open) {
				last = &cur->e[cur->m.n_entries - 1];
				if (m->term == cur->m.term && m->prev_index == last->index &&
				    m->prev_term == last->term && merge_add(cur, m))
					continue;
				merge_flush(t, cur);
			}
			cur->m = *m;
			cur->m.n_entries = 0;
			cur->m.entries = NULL;
			cur->open = true;
			if (!merge_add(cur, m)) {
				cur->open = false;
				truth_tp_send(t, m);
			}
			continue;
		}
		merge_flush(t, cur);
		truth_tp_send(t, m);
	}
	for (k = 0; k < t->n_peers; k++)
		merge_flush(t, &g[k]);
	return 0;
}
