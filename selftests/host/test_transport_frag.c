// SPDX-License-Identifier: GPL-2.0
/*
 * Fragmented APPENDs (agent/transport/frag.c, Documentation/wire.md
 * "Fragments"): an entry too big for one datagram goes as equal fragments,
 * each a whole authenticated datagram, and comes back byte for byte
 * whatever the order, with duplicates, interleaved with another message;
 * a lost fragment loses the message (held, then given up on timeout or
 * eviction); forged, truncated, oversized or inconsistent fragments are
 * counted under their own reason, deliver nothing and never hold more
 * than TRUTH_TP_FRAG_SLOTS x msg_max per peer.  No sockets: datagrams are
 * captured in memory and fed to the receiver by hand.
 */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport/transport.h"

#include "kselftest_harness.h"

#include "truth_rand.h"

#define MAXD 80

static uint8_t dgrams[MAXD][TRUTH_WIRE_DGRAM_MAX];
static size_t dlen[MAXD];
static int nd;

static int capture(struct truth_tp *t, struct truth_tp_peer *p,
		   const uint8_t *buf, size_t len)
{
	if (nd < MAXD) {
		memcpy(dgrams[nd], buf, len);
		dlen[nd++] = len;
	}
	return 0;
}

/* What the receiver delivered: the last message, its entries deep-copied. */
static int ngot;
static struct raft_msg got;
static struct raft_entry got_e[4];
static uint8_t *got_data[4];

static void deliver(void *ctx, const struct raft_msg *m)
{
	uint32_t i;

	ngot++;
	got = *m;
	for (i = 0; i < 4; i++) {
		free(got_data[i]);
		got_data[i] = NULL;
	}
	for (i = 0; i < m->n_entries && i < 4; i++) {
		got_e[i] = m->entries[i];
		got_data[i] = malloc(m->entries[i].len + 1);
		memcpy(got_data[i], m->entries[i].data, m->entries[i].len);
	}
}

static const uint8_t key[TRUTH_WIRE_KEY_LEN] = { 7, 7, 7, 1, 2, 3 };
static const uint8_t other_key[TRUTH_WIRE_KEY_LEN] = { 8 };

FIXTURE(fr) {
	struct truth_tp a, b;	/* node 1 sends, node 2 receives, group 7 */
	uint8_t *data;		/* 2 MiB of seeded bytes */
};

static void setup(struct truth_tp *t, uint32_t self)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	uint32_t id;

	truth_tp_init(t, self, 7, key, "10.0.0.1:6381");
	t->emit = capture;
	for (id = 1; id <= 3; id++)
		truth_tp_add_peer(t, id, (struct sockaddr *)&sa, sizeof(sa));
}

FIXTURE_SETUP(fr)
{
	static uint64_t seed;
	size_t i;

	if (!seed) {
		seed = seed_init();
		printf("# TRUTH_SEED=%llu\n", (unsigned long long)seed);
	}
	setup(&self->a, 1);
	setup(&self->b, 2);
	self->data = malloc(2u << 20);
	for (i = 0; i < (2u << 20); i++)
		self->data[i] = (uint8_t)rnd();
	nd = 0;
	ngot = 0;
}

FIXTURE_TEARDOWN(fr)
{
	truth_tp_fini(&self->a);
	truth_tp_fini(&self->b);
	free(self->data);
}

/* A one-entry APPEND from 1 to 2 at index, len bytes of data from off. */
static void big_msg(FIXTURE_DATA(fr) *self, struct raft_msg *m,
		    struct raft_entry *e, uint64_t index, uint32_t len,
		    uint32_t off)
{
	*e = (struct raft_entry){ .term = 5, .index = index, .client_id = 77,
				  .client_seq = index * 3, .type = RAFT_ENTRY_NORMAL,
				  .len = len, .data = self->data + off };
	*m = (struct raft_msg){ .type = RAFT_MSG_APPEND, .from = 1, .to = 2,
				.term = 5, .prev_index = index - 1, .prev_term = 4,
				.commit = index - 2, .ctx = 9, .n_entries = 1,
				.entries = e };
}

static void feed(FIXTURE_DATA(fr) *self, int i)
{
	truth_tp_input(&self->b, dgrams[i], dlen[i], deliver, NULL);
}

/* The entry delivered last is e, byte for byte. */
static int got_is(const struct raft_entry *e)
{
	return got.type == RAFT_MSG_APPEND && got.n_entries == 1 &&
	       got.prev_index == e->index - 1 && got_e[0].index == e->index &&
	       got_e[0].term == e->term && got_e[0].client_id == e->client_id &&
	       got_e[0].client_seq == e->client_seq && got_e[0].len == e->len &&
	       !memcmp(got_data[0], e->data, e->len);
}

/*
 * Re-seal captured datagram i as a new datagram (fresh seq, valid MAC)
 * after edit() changed its payload copy; returns its length in out.
 */
static size_t reseal(FIXTURE_DATA(fr) *self, int i, uint8_t *out, size_t cut,
		     void (*edit)(uint8_t *pl, void *arg), void *arg)
{
	static uint8_t pl[TRUTH_WIRE_DGRAM_MAX];
	struct truth_wire_msg w;
	int n;

	if (truth_wire_decode(dgrams[i], dlen[i], key, &w) != TRUTH_WIRE_OK)
		return 0;
	memcpy(pl, w.payload, w.payload_len);
	if (edit)
		edit(pl, arg);
	w.payload = pl;
	w.payload_len -= (uint16_t)cut;
	w.seq = ++self->a.seq;
	n = truth_wire_encode(out, TRUTH_WIRE_DGRAM_MAX, &w, key);
	return n < 0 ? 0 : (size_t)n;
}

/* order[0..n) = a random permutation of 0..n-1 (Fisher-Yates) */
static void shuffle(int *order, int n)
{
	int i, j, t;

	for (i = 0; i < n; i++)
		order[i] = i;
	for (i = n - 1; i > 0; i--) {
		j = (int)rnd_below((uint64_t)i + 1);
		t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
}

TEST_F(fr, sizes_round_trip)
{
	static const uint32_t sizes[] = { TRUTH_TP_MAX_ENTRY + 1, 60 << 10,
					  256 << 10, 1 << 20 };
	struct raft_entry e;
	struct raft_msg m;
	unsigned int k;
	int i, frags;

	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		nd = 0;
		big_msg(self, &m, &e, 10 + k, sizes[k], k * 1000);
		ASSERT_EQ(0, truth_tp_send(&self->a, &m));
		frags = (int)((sizes[k] + TRUTH_TP_ENTRY_HDR + TRUTH_TP_FRAG_CHUNK - 1) /
			      TRUTH_TP_FRAG_CHUNK);
		EXPECT_EQ(frags, nd);
		for (i = 0; i < nd; i++) {
			EXPECT_GE(TRUTH_WIRE_DGRAM_MAX, dlen[i]);
			feed(self, i);
			/* nothing reaches Raft before the last fragment */
			EXPECT_EQ((int)k + (i == nd - 1), ngot);
		}
		EXPECT_TRUE(got_is(&e));
		EXPECT_EQ(m.commit, got.commit);
		EXPECT_EQ(m.ctx, got.ctx);
		EXPECT_EQ(m.prev_term, got.prev_term);
		EXPECT_EQ(0, self->b.frag_busy);
		EXPECT_EQ(0, self->b.frag_bytes);
	}
	EXPECT_EQ(4, self->b.st.rx_frag_msgs);
	EXPECT_EQ(4, self->a.st.tx_frag_msgs);
	EXPECT_EQ(self->a.st.tx_frag, self->b.st.rx_frag);
	EXPECT_EQ(0, self->b.st.rx_bad_payload + self->b.st.rx_frag_dropped);
}

/* Small entries around a big one: whole pieces, then fragments, chained. */
TEST_F(fr, big_entry_inside_a_batch)
{
	struct raft_entry e[5];
	struct raft_msg m;
	uint64_t next = 21;
	int i;

	for (i = 0; i < 5; i++)
		e[i] = (struct raft_entry){ .term = 5, .index = 21 + i,
					    .len = i == 2 ? 200000 : 100,
					    .data = self->data + i * 7 };
	m = (struct raft_msg){ .type = RAFT_MSG_APPEND, .from = 1, .to = 2, .term = 5,
			       .prev_index = 20, .prev_term = 5, .n_entries = 5,
			       .entries = e };
	ASSERT_EQ(0, truth_tp_send(&self->a, &m));
	EXPECT_EQ(1 + 4 + 1, nd);
	for (i = 0; i < nd; i++) {
		int before = ngot;

		feed(self, i);
		if (ngot == before)
			continue;
		/* each delivery starts where the previous one ended */
		EXPECT_EQ(next - 1, got.prev_index);
		next = got.prev_index + 1 + got.n_entries;
		if (got.n_entries == 1 && got_e[0].len == 200000)
			EXPECT_EQ(0, memcmp(got_data[0], e[2].data, 200000));
	}
	EXPECT_EQ(3, ngot);
	EXPECT_EQ(26, next);
}

TEST_F(fr, reorder_and_duplicates)
{
	static uint8_t again[TRUTH_WIRE_DGRAM_MAX];
	int order[MAXD], i;
	struct raft_entry e;
	struct raft_msg m;
	size_t n;

	big_msg(self, &m, &e, 40, 1 << 20, 5);
	ASSERT_EQ(0, truth_tp_send(&self->a, &m));
	ASSERT_EQ(18, nd);
	shuffle(order, nd);
	for (i = 0; i < nd - 1; i++) {
		feed(self, order[i]);
		/* the same datagram again: the replay window */
		feed(self, order[i]);
		/* the same fragment in a new datagram: the reassembly bitmap */
		n = reseal(self, order[i], again, 0, NULL, NULL);
		ASSERT_NE(0, n);
		truth_tp_input(&self->b, again, n, deliver, NULL);
	}
	EXPECT_EQ(0, ngot);
	EXPECT_EQ(nd - 1, self->b.st.rx_replay);
	EXPECT_EQ(nd - 1, self->b.st.rx_frag_dup);
	feed(self, order[nd - 1]);
	EXPECT_EQ(1, ngot);
	EXPECT_TRUE(got_is(&e));
}

TEST_F(fr, lost_fragment_times_out_then_resend_arrives)
{
	struct raft_entry e;
	struct raft_msg m;
	int i, lost;

	big_msg(self, &m, &e, 50, 300000, 0);
	self->b.now_us = 1000;
	ASSERT_EQ(0, truth_tp_send(&self->a, &m));
	lost = (int)rnd_below((uint64_t)nd);
	for (i = 0; i < nd; i++)
		if (i != lost)
			feed(self, i);
	EXPECT_EQ(0, ngot);
	EXPECT_EQ(1, self->b.frag_busy);
	EXPECT_EQ(TRUTH_TP_APPEND_FIXED + TRUTH_TP_ENTRY_HDR + 300000, self->b.frag_bytes);
	/* not yet */
	truth_tp_frag_expire(&self->b, 1000 + TRUTH_TP_FRAG_TIMEOUT_US);
	EXPECT_EQ(1, self->b.frag_busy);
	truth_tp_frag_expire(&self->b, 1001 + TRUTH_TP_FRAG_TIMEOUT_US);
	EXPECT_EQ(0, self->b.frag_busy);
	EXPECT_EQ(0, self->b.frag_bytes);
	EXPECT_EQ(1, self->b.st.rx_frag_dropped);
	/* the late fragment alone starts a new, hopeless slot: nothing delivered */
	self->b.now_us = 2001 + TRUTH_TP_FRAG_TIMEOUT_US;
	feed(self, lost);
	EXPECT_EQ(0, ngot);
	/* Raft sends again: a new message id, complete this time */
	nd = 0;
	ASSERT_EQ(0, truth_tp_send(&self->a, &m));
	for (i = 0; i < nd; i++)
		feed(self, i);
	EXPECT_EQ(1, ngot);
	EXPECT_TRUE(got_is(&e));
	EXPECT_EQ(1, self->b.frag_busy);	/* the hopeless one, until it times out */
	self->b.now_us += TRUTH_TP_FRAG_TIMEOUT_US + 1;
	truth_tp_frag_expire(&self->b, self->b.now_us);
	EXPECT_EQ(0, self->b.frag_busy);
}

TEST_F(fr, interleaved_messages_and_eviction)
{
	struct raft_entry e[3];
	struct raft_msg m[3];
	int base[4], i, k;

	for (k = 0; k < 3; k++) {
		big_msg(self, &m[k], &e[k], 60 + k, 130000 + k, k * 333);
		base[k] = nd;
		ASSERT_EQ(0, truth_tp_send(&self->a, &m[k]));
	}
	base[3] = nd;
	ASSERT_EQ(9, nd);	/* 3 fragments each */
	/* A and B interleaved, A's last fragment held back */
	for (i = 0; i < 3; i++) {
		if (i < 2)
			feed(self, base[0] + i);
		feed(self, base[1] + i);
	}
	EXPECT_EQ(1, ngot);
	EXPECT_TRUE(got_is(&e[1]));
	/* C takes B's freed slot; A is still held */
	feed(self, base[2]);
	EXPECT_EQ(2, self->b.frag_busy);
	feed(self, base[0] + 2);
	EXPECT_EQ(2, ngot);
	EXPECT_TRUE(got_is(&e[0]));
	/* two more messages start while C is incomplete: C, the oldest, goes */
	nd = 0;
	for (k = 0; k < 2; k++)
		ASSERT_EQ(0, truth_tp_send(&self->a, &m[k]));
	feed(self, 0);	/* message D fragment 0: the free slot */
	feed(self, 3);	/* message E fragment 0: evicts C */
	EXPECT_EQ(1, self->b.st.rx_frag_dropped);
	EXPECT_EQ(2, self->b.frag_busy);
	for (i = 1; i < 3; i++) {
		feed(self, i);
		feed(self, 3 + i);
	}
	EXPECT_EQ(4, ngot);
	EXPECT_EQ(0, self->b.frag_busy);
}

static void set_u16(uint8_t *pl, void *arg)
{
	const uint32_t *a = arg;	/* offset, value */

	truth_wire_put16(pl + a[0], (uint16_t)a[1]);
}

static void set_u32(uint8_t *pl, void *arg)
{
	const uint32_t *a = arg;

	truth_wire_put32(pl + a[0], a[1]);
}

TEST_F(fr, forged_and_broken_fragments)
{
	static uint8_t out[TRUTH_WIRE_DGRAM_MAX];
	/* payload edits, each breaking one rule of the layout */
	static const struct { int wide; uint32_t arg[2]; const char *why; } bad[] = {
		{ 0, { 28, 1 }, "frags 1" },
		{ 0, { 30, 3 }, "frag == frags" },
		{ 1, { 24, 0 }, "n 0" },
		{ 1, { 44, 1 }, "reserved" },
		{ 1, { 40, 2 }, "total below frags... and length" },
		{ 1, { 40, 120001 }, "total: wrong piece length" },
		{ 0, { 28, 7 }, "frags: an empty piece / wrong length" },
	};
	struct raft_entry e;
	struct raft_msg m;
	uint64_t before;
	unsigned int k;
	size_t n;
	int i;

	big_msg(self, &m, &e, 70, 120000, 0);
	ASSERT_EQ(0, truth_tp_send(&self->a, &m));
	ASSERT_EQ(3, nd);
	for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		before = self->b.st.rx_bad_payload;
		n = reseal(self, 0, out, 0, bad[k].wide ? set_u32 : set_u16,
			   (void *)bad[k].arg);
		ASSERT_NE(0, n);
		truth_tp_input(&self->b, out, n, deliver, NULL);
		EXPECT_EQ(before + 1, self->b.st.rx_bad_payload) TH_LOG("%s", bad[k].why);
	}
	/* a payload one byte short of its piece */
	n = reseal(self, 1, out, 1, NULL, NULL);
	truth_tp_input(&self->b, out, n, deliver, NULL);
	EXPECT_EQ(k + 1, self->b.st.rx_bad_payload);
	EXPECT_EQ(0, self->b.frag_busy);
	EXPECT_EQ(0, self->b.frag_bytes);

	/* a truncated datagram breaks the header's length rule */
	truth_tp_input(&self->b, dgrams[0], dlen[0] - 1, deliver, NULL);
	EXPECT_EQ(1, self->b.st.rx_malformed);
	/* a flipped payload byte, or another key: the MAC */
	dgrams[1][dlen[1] - 10] ^= 1;
	feed(self, 1);
	dgrams[1][dlen[1] - 10] ^= 1;
	EXPECT_EQ(1, self->b.st.rx_bad_mac);
	memcpy(self->b.key, other_key, sizeof(other_key));
	feed(self, 2);
	EXPECT_EQ(2, self->b.st.rx_bad_mac);
	memcpy(self->b.key, key, sizeof(key));
	EXPECT_EQ(0, self->b.frag_busy);

	/* a fragment that disagrees with the message's first one */
	feed(self, 0);
	EXPECT_EQ(1, self->b.frag_busy);
	n = reseal(self, 1, out, 0, set_u32, (uint32_t[]){ 12, 1234 });	/* commit */
	truth_tp_input(&self->b, out, n, deliver, NULL);
	EXPECT_EQ(1, self->b.st.rx_frag_mismatch);
	for (i = 1; i < 3; i++)
		feed(self, i);
	EXPECT_EQ(1, ngot);
	EXPECT_TRUE(got_is(&e));
	EXPECT_EQ(0, self->b.frag_busy);
}

TEST_F(fr, oversize_is_refused_before_any_allocation)
{
	struct raft_entry e;
	struct raft_msg m;
	int i;

	big_msg(self, &m, &e, 80, 1 << 20, 0);
	self->b.msg_max = 512 << 10;
	ASSERT_EQ(0, truth_tp_send(&self->a, &m));
	for (i = 0; i < nd; i++)
		feed(self, i);
	EXPECT_EQ(0, ngot);
	EXPECT_EQ(nd, self->b.st.rx_frag_oversize);
	EXPECT_EQ(0, self->b.frag_busy);
	EXPECT_EQ(0, self->b.frag_bytes);
	/* and the sender refuses what its own limit does not allow */
	e.len = self->a.msg_max;
	EXPECT_NE(0, truth_tp_send(&self->a, &m));
	EXPECT_EQ(1, self->a.st.tx_too_big);
}

/* A peer starting message after message, never finishing: memory stays bounded. */
TEST_F(fr, flood_of_first_fragments_is_bounded)
{
	struct raft_entry e;
	struct raft_msg m;
	int k;

	big_msg(self, &m, &e, 90, 300000, 0);
	for (k = 0; k < 300; k++) {
		nd = 0;
		ASSERT_EQ(0, truth_tp_send(&self->a, &m));
		feed(self, 0);
		ASSERT_GE(TRUTH_TP_FRAG_SLOTS, self->b.frag_busy);
		ASSERT_GE(TRUTH_TP_FRAG_SLOTS * (uint64_t)(TRUTH_TP_APPEND_FIXED +
							 self->b.msg_max),
			  self->b.frag_bytes);
	}
	EXPECT_EQ(0, ngot);
	EXPECT_EQ(300 - TRUTH_TP_FRAG_SLOTS, self->b.st.rx_frag_dropped);
}

/* Random sizes, loss, duplicates and order: delivered exactly or not at all. */
TEST_F(fr, random_loss_dup_reorder)
{
	static uint8_t again[TRUTH_WIRE_DGRAM_MAX];
	unsigned long c, runs = cases(40);
	int order[MAXD], i, lost, delivered = 0;
	struct raft_entry e;
	struct raft_msg m;
	size_t n;

	for (c = 0; c < runs; c++) {
		uint32_t len = TRUTH_TP_MAX_ENTRY + 1 + (uint32_t)rnd_below(1 << 20);

		nd = 0;
		big_msg(self, &m, &e, 100 + c, len, (uint32_t)rnd_below(1 << 20));
		ASSERT_EQ(0, truth_tp_send(&self->a, &m));
		shuffle(order, nd);
		lost = rnd_below(3) == 0 ? (int)rnd_below((uint64_t)nd) : -1;
		ngot = 0;
		for (i = 0; i < nd; i++) {
			if (order[i] == lost)
				continue;
			feed(self, order[i]);
			if (rnd_below(4) == 0) {
				n = reseal(self, order[i], again, 0, NULL, NULL);
				truth_tp_input(&self->b, again, n, deliver, NULL);
			}
		}
		ASSERT_EQ(lost < 0 ? 1 : 0, ngot) TH_LOG("case %lu len %u lost %d", c, len, lost);
		if (ngot) {
			ASSERT_TRUE(got_is(&e));
			delivered++;
		}
		ASSERT_GE(TRUTH_TP_FRAG_SLOTS, self->b.frag_busy);
	}
	printf("# %d of %lu messages delivered, %llu given up\n", delivered, runs,
	       (unsigned long long)self->b.st.rx_frag_dropped);
}

TEST_HARNESS_MAIN
