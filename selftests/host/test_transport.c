// SPDX-License-Identifier: GPL-2.0
/*
 * truthd's peer transport (agent/transport): every Raft message type
 * survives encode -> datagram -> checks -> decode; big APPENDs split into
 * datagrams that fit and are each a valid AppendEntries; back-to-back
 * APPENDs merge; every refusal (size, header, MAC, receiver, group,
 * sender, replay, payload) is counted under its own reason and delivers
 * nothing.  No sockets: datagrams are captured in memory -- except for
 * corked sends, which go through real loopback UDP sockets: nothing
 * leaves before the uncork, then everything in one sendmmsg, in order.
 */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport/transport.h"

#include "kselftest_harness.h"

#include "truth_rand.h"

#define MAXD 64

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

/* What the receiver delivered: deep copies of the last messages. */
static struct raft_msg got[MAXD];
static struct raft_entry got_e[MAXD][600];
static int ngot;

static void deliver(void *ctx, const struct raft_msg *m)
{
	uint32_t i;

	if (ngot >= MAXD)
		return;
	got[ngot] = *m;
	for (i = 0; i < m->n_entries && i < 600; i++)
		got_e[ngot][i] = m->entries[i];
	ngot++;
}

static const uint8_t key[TRUTH_WIRE_KEY_LEN] = { 7, 7, 7, 1, 2, 3 };
static const uint8_t other_key[TRUTH_WIRE_KEY_LEN] = { 8 };

FIXTURE(tp) {
	struct truth_tp a, b;	/* node 1 and node 2 of group 7 */
};

static void setup(struct truth_tp *t, uint32_t self, uint32_t group,
		  const uint8_t *k, const char *advert)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	uint32_t id;

	truth_tp_init(t, self, group, k, advert);
	t->emit = capture;
	for (id = 1; id <= 3; id++)
		truth_tp_add_peer(t, id, (struct sockaddr *)&sa, sizeof(sa));
}

FIXTURE_SETUP(tp)
{
	setup(&self->a, 1, 7, key, "10.0.0.1:6381");
	setup(&self->b, 2, 7, key, "10.0.0.2:6381");
	nd = 0;
	ngot = 0;
}

FIXTURE_TEARDOWN(tp)
{
	truth_tp_fini(&self->a);
	truth_tp_fini(&self->b);
}

/* Send m from a, feed every datagram to b; returns delivered count. */
static int a_to_b(FIXTURE_DATA(tp) *self, const struct raft_msg *m)
{
	int i, n0 = nd;

	truth_tp_send(&self->a, m);
	for (i = n0; i < nd; i++)
		truth_tp_input(&self->b, dgrams[i], dlen[i], deliver, NULL);
	return ngot;
}

TEST_F(tp, every_type_round_trips)
{
	struct raft_msg m;
	int t;

	for (t = 0; t < __RAFT_MSG_MAX; t++) {
		uint8_t snap[100];

		memset(&m, 0, sizeof(m));
		m.type = (uint8_t)t;
		m.from = 1;
		m.to = 2;
		m.term = 9;
		m.last_index = 11;
		m.last_term = 8;
		m.transfer = t == RAFT_MSG_VOTE;
		m.reject = t == RAFT_MSG_VOTE_RESP;
		m.prev_index = 40;
		m.prev_term = 8;
		m.commit = 39;
		m.ctx = 5;
		m.heartbeat = t == RAFT_MSG_APPEND;
		m.match_index = t == RAFT_MSG_APPEND_RESP ? 0 : 12;
		m.hint_index = 13;
		m.hint_term = 7;
		if (t == RAFT_MSG_APPEND_RESP)
			m.reject = true;
		if (t == RAFT_MSG_SNAPSHOT) {
			memset(snap, 0xab, sizeof(snap));
			m.snap_index = 30;
			m.snap_term = 6;
			m.snap_conf.n = 3;
			m.snap_conf.m[0] = (struct raft_member){ 1, 1, RAFT_VOTER, 0 };
			m.snap_conf.m[1] = (struct raft_member){ 2, 1, RAFT_VOTER, 0 };
			m.snap_conf.m[2] = (struct raft_member){ 3, 0, RAFT_LEARNER, 1 };
			m.snap_size = 1000;
			m.offset = 200;
			m.len = sizeof(snap);
			m.data = snap;
			m.done = true;
		}
		ngot = 0;
		ASSERT_EQ(1, a_to_b(self, &m)) TH_LOG("type %d", t);
		EXPECT_EQ(m.type, got[0].type);
		EXPECT_EQ(1, got[0].from);
		EXPECT_EQ(2, got[0].to);
		EXPECT_EQ(9, got[0].term);
		EXPECT_EQ(m.last_index, got[0].last_index);
		EXPECT_EQ(m.last_term, got[0].last_term);
		EXPECT_EQ(m.transfer, got[0].transfer);
		EXPECT_EQ(m.reject, got[0].reject);
		EXPECT_EQ(m.heartbeat, got[0].heartbeat);
		EXPECT_EQ(m.prev_index, got[0].prev_index);
		EXPECT_EQ(m.prev_term, got[0].prev_term);
		EXPECT_EQ(m.commit, got[0].commit);
		EXPECT_EQ(m.ctx, got[0].ctx);
		EXPECT_EQ(m.match_index, got[0].match_index);
		EXPECT_EQ(m.hint_index, got[0].hint_index);
		EXPECT_EQ(m.hint_term, got[0].hint_term);
		if (t == RAFT_MSG_SNAPSHOT) {
			EXPECT_EQ(30, got[0].snap_index);
			EXPECT_EQ(6, got[0].snap_term);
			EXPECT_EQ(3, got[0].snap_conf.n);
			EXPECT_EQ(RAFT_LEARNER, got[0].snap_conf.m[2].role);
			EXPECT_EQ(1, got[0].snap_conf.m[2].promote_weight);
			EXPECT_EQ(1000, got[0].snap_size);
			EXPECT_EQ(200, got[0].offset);
			EXPECT_EQ(sizeof(snap), got[0].len);
			EXPECT_EQ(0, memcmp(snap, got[0].data, sizeof(snap)));
			EXPECT_TRUE(got[0].done);
		}
	}
	/* the sender's client address rides along: -MOVED needs it */
	EXPECT_STREQ("10.0.0.1:6381", truth_tp_peer(&self->b, 1)->client);
	EXPECT_EQ(__RAFT_MSG_MAX, self->b.st.rx_ok);
}

TEST_F(tp, ack_is_a_bare_header)
{
	struct raft_msg m = { .type = RAFT_MSG_APPEND_RESP, .from = 1, .to = 2,
			      .term = 4, .match_index = 77 };

	ASSERT_EQ(1, a_to_b(self, &m));
	/* what the kernel counts: type ACK, index = match, no payload */
	EXPECT_EQ(TRUTH_WIRE_ACK, dgrams[0][5]);
	EXPECT_EQ(TRUTH_WIRE_HDR_LEN + 16, dlen[0]);
	EXPECT_EQ(77, got[0].match_index);
	EXPECT_FALSE(got[0].reject);
	EXPECT_FALSE(got[0].heartbeat);
}

TEST_F(tp, big_append_splits)
{
	static struct raft_entry e[500];
	static uint8_t data[500][1000];
	struct raft_msg m = { .type = RAFT_MSG_APPEND, .from = 1, .to = 2, .term = 3,
			      .prev_index = 100, .prev_term = 2, .commit = 99,
			      .n_entries = 500, .entries = e };
	uint64_t next = 101;
	int i, j;

	for (i = 0; i < 500; i++) {
		memset(data[i], i & 0xff, sizeof(data[i]));
		e[i] = (struct raft_entry){ .term = 3, .index = 101 + i,
					    .type = RAFT_ENTRY_NORMAL, .client_id = i,
					    .client_seq = 2 * i, .len = 1000,
					    .data = data[i] };
	}
	a_to_b(self, &m);
	EXPECT_GE(nd, 9);	/* 500 KB in <= 60 KB datagrams */
	EXPECT_EQ(1, self->a.st.tx_split);
	ASSERT_EQ(nd, ngot);
	for (i = 0; i < ngot; i++) {
		EXPECT_LE(dlen[i], TRUTH_WIRE_DGRAM_MAX);
		EXPECT_EQ(next - 1, got[i].prev_index);
		EXPECT_EQ(next == 101 ? 2 : 3, got[i].prev_term);
		for (j = 0; j < (int)got[i].n_entries; j++, next++) {
			const struct raft_entry *g = &got_e[i][j];

			EXPECT_EQ(next, g->index);
			EXPECT_EQ(next - 101, g->client_id);
			EXPECT_EQ(2 * (next - 101), g->client_seq);
			EXPECT_EQ(1000, g->len);
			EXPECT_EQ(0, memcmp(g->data, data[next - 101], 1000));
		}
	}
	EXPECT_EQ(601, next);
}

TEST_F(tp, entry_over_msg_max_is_not_sent)
{
	static uint8_t big[TRUTH_TP_MAX_ENTRY + 1];
	struct raft_entry e = { .term = 1, .index = 1, .len = TRUTH_TP_MAX_ENTRY, .data = big };
	struct raft_msg m = { .type = RAFT_MSG_APPEND, .from = 1, .to = 2, .term = 1,
			      .n_entries = 1, .entries = &e };

	/* the largest entry that fits one datagram goes whole */
	EXPECT_EQ(0, truth_tp_send(&self->a, &m));
	EXPECT_EQ(1, nd);
	EXPECT_EQ(0, self->a.st.tx_frag);
	/* one byte more: two fragments (test_transport_frag.c has the rest) */
	e.len = sizeof(big);
	EXPECT_EQ(0, truth_tp_send(&self->a, &m));
	EXPECT_EQ(3, nd);
	EXPECT_EQ(2, self->a.st.tx_frag);
	/* over msg_max: nothing leaves, counted */
	self->a.msg_max = TRUTH_TP_ENTRY_HDR + sizeof(big) - 1;
	EXPECT_NE(0, truth_tp_send(&self->a, &m));
	EXPECT_EQ(3, nd);
	EXPECT_EQ(1, self->a.st.tx_too_big);
}

TEST_F(tp, back_to_back_appends_merge)
{
	struct raft_entry e[4];
	struct raft_msg m[5];
	int i;

	for (i = 0; i < 4; i++)
		e[i] = (struct raft_entry){ .term = 2, .index = 11 + i, .len = 0 };
	for (i = 0; i < 4; i++)
		m[i] = (struct raft_msg){ .type = RAFT_MSG_APPEND, .from = 1, .to = 2,
					  .term = 2, .prev_index = 10 + i,
					  .prev_term = i ? 2 : 1, .commit = 10 + i,
					  .n_entries = 1, .entries = &e[i] };
	m[4] = (struct raft_msg){ .type = RAFT_MSG_APPEND, .from = 1, .to = 3,
				  .term = 2, .prev_index = 10, .prev_term = 1,
				  .n_entries = 1, .entries = &e[0] };
	truth_tp_send_many(&self->a, m, 5);
	ASSERT_EQ(2, nd);	/* one for node 2 with 4 entries, one for node 3 */
	truth_tp_input(&self->b, dgrams[0], dlen[0], deliver, NULL);
	ASSERT_EQ(1, ngot);
	EXPECT_EQ(4, got[0].n_entries);
	EXPECT_EQ(10, got[0].prev_index);
	EXPECT_EQ(13, got[0].commit);	/* the newest commit */
	EXPECT_EQ(14, got_e[0][3].index);
}

TEST_F(tp, refusals_counted)
{
	struct raft_msg m = { .type = RAFT_MSG_VOTE, .from = 1, .to = 2, .term = 3 };
	static uint8_t buf[TRUTH_WIRE_DGRAM_MAX + 10];
	struct truth_tp c, g;
	struct truth_wire_msg w;
	uint8_t junk[8] = { 0 };
	int n;

	truth_tp_send(&self->a, &m);
	ASSERT_EQ(1, nd);
	memcpy(buf, dgrams[0], dlen[0]);

	/* MAC: any changed byte */
	buf[40] ^= 1;
	EXPECT_STREQ("bad MAC", truth_tp_input(&self->b, buf, dlen[0], deliver, NULL));
	EXPECT_EQ(1, self->b.st.rx_bad_mac);
	buf[40] ^= 1;
	/* header rule: cut short */
	EXPECT_STREQ("malformed", truth_tp_input(&self->b, buf, dlen[0] - 1, deliver, NULL));
	EXPECT_EQ(1, self->b.st.rx_malformed);
	/* oversize: refused before anything is read */
	EXPECT_STREQ("oversize", truth_tp_input(&self->b, buf, TRUTH_WIRE_DGRAM_MAX + 1,
						 deliver, NULL));
	EXPECT_EQ(1, self->b.st.rx_oversize);
	/* another receiver: node 3 gets node 2's datagram */
	setup(&c, 3, 7, key, "");
	c.emit = capture;
	EXPECT_STREQ("wrong receiver", truth_tp_input(&c, buf, dlen[0], deliver, NULL));
	EXPECT_EQ(1, c.st.rx_wrong_receiver);
	truth_tp_fini(&c);
	/* another group with the same key */
	setup(&g, 2, 8, key, "");
	EXPECT_STREQ("wrong group", truth_tp_input(&g, buf, dlen[0], deliver, NULL));
	EXPECT_EQ(1, g.st.rx_wrong_group);
	truth_tp_fini(&g);
	/* another key: the MAC again */
	setup(&g, 2, 7, other_key, "");
	EXPECT_STREQ("bad MAC", truth_tp_input(&g, buf, dlen[0], deliver, NULL));
	truth_tp_fini(&g);
	/* the good one, then its replay */
	EXPECT_EQ(NULL, truth_tp_input(&self->b, buf, dlen[0], deliver, NULL));
	EXPECT_STREQ("replay", truth_tp_input(&self->b, buf, dlen[0], deliver, NULL));
	EXPECT_EQ(1, self->b.st.rx_replay);
	EXPECT_EQ(1, ngot);

	/* a sender that is not a peer (node 9, same key) */
	memset(&w, 0, sizeof(w));
	w.type = TRUTH_WIRE_RAFT;
	w.sender = 9;
	w.receiver = 2;
	w.group = 7;
	w.seq = 5;
	w.payload = junk;
	w.payload_len = sizeof(junk);
	n = truth_wire_encode(buf, sizeof(buf), &w, key);
	ASSERT_GT(n, 0);
	EXPECT_STREQ("unknown sender", truth_tp_input(&self->b, buf, n, deliver, NULL));
	EXPECT_EQ(1, self->b.st.rx_unknown_sender);
	/* from ourselves */
	w.sender = 2;
	n = truth_wire_encode(buf, sizeof(buf), &w, key);
	EXPECT_STREQ("unknown sender", truth_tp_input(&self->b, buf, n, deliver, NULL));
	/* a good MAC around a payload that does not parse */
	w.sender = 3;
	n = truth_wire_encode(buf, sizeof(buf), &w, key);
	EXPECT_STREQ("bad payload", truth_tp_input(&self->b, buf, n, deliver, NULL));
	EXPECT_EQ(1, self->b.st.rx_bad_payload);
	/* APPEND claiming more entries than its bytes hold */
	w.type = TRUTH_WIRE_APPEND;
	w.seq = 6;
	{
		uint8_t pl[64] = { 0 };

		truth_wire_put32(pl + 24, 3);
		w.payload = pl;
		w.payload_len = sizeof(pl);
		n = truth_wire_encode(buf, sizeof(buf), &w, key);
		EXPECT_STREQ("bad payload", truth_tp_input(&self->b, buf, n, deliver, NULL));
	}
	EXPECT_EQ(2, self->b.st.rx_bad_payload);
	EXPECT_EQ(1, ngot);	/* nothing refused was delivered */
}

TEST_F(tp, replay_window_per_sender)
{
	struct raft_msg m = { .type = RAFT_MSG_VOTE, .from = 1, .to = 2, .term = 3 };
	struct truth_tp c;

	/* node 3 and node 1 send; each has its own window at node 2 */
	truth_tp_send(&self->a, &m);
	setup(&c, 3, 7, key, "");
	c.seq = 0;		/* far below node 1's: must not matter */
	m.from = 3;
	truth_tp_send(&c, &m);
	truth_tp_fini(&c);
	ASSERT_EQ(2, nd);
	EXPECT_EQ(NULL, truth_tp_input(&self->b, dgrams[0], dlen[0], deliver, NULL));
	EXPECT_EQ(NULL, truth_tp_input(&self->b, dgrams[1], dlen[1], deliver, NULL));
	EXPECT_EQ(2, ngot);
}

/*
 * A peer holding the key is trusted, but a bug there must not crash us:
 * random payloads under a good MAC are either delivered whole or refused
 * as a bad payload, never read out of bounds (run under ASan to be sure).
 */
TEST_F(tp, random_payloads_never_crash)
{
	static uint8_t pl[2048], buf[4096];
	uint64_t seed = seed_init();
	struct truth_wire_msg w;
	int i, n, delivered = 0;

	for (i = 0; i < 20000; i++) {
		uint16_t len = (uint16_t)(rnd() % sizeof(pl));
		uint16_t j;

		for (j = 0; j < len; j++)
			pl[j] = (uint8_t)rnd();
		/* sometimes a plausible start: a small count or raft type */
		if (len > 32 && (i & 1))
			truth_wire_put32(pl + 24, (uint32_t)(rnd() % 4));
		if (len > 8 && (i & 2)) {
			pl[0] = (uint8_t)(rnd() % 10);
			pl[1] &= 0xf;
			pl[2] %= 70;
			pl[3] = 0;
			memset(pl + 4, 0, 4);
		}
		memset(&w, 0, sizeof(w));
		w.type = (i % 3) ? TRUTH_WIRE_RAFT : TRUTH_WIRE_APPEND;
		w.sender = 1;
		w.receiver = 2;
		w.group = 7;
		w.seq = (uint64_t)i + 1;
		w.payload = pl;
		w.payload_len = len;
		n = truth_wire_encode(buf, sizeof(buf), &w, key);
		ASSERT_GT(n, 0);
		ngot = 0;
		if (!truth_tp_input(&self->b, buf, n, deliver, NULL))
			delivered++;
	}
	EXPECT_EQ(20000, self->b.st.rx_ok + self->b.st.rx_bad_payload);
	printf("# seed %llu (TRUTH_SEED replays): %d of 20000 random payloads parsed\n",
	       (unsigned long long)seed, delivered);
}

/* a socket-backed transport for node self on 127.0.0.1, any port */
static int bound(struct truth_tp *t, uint32_t self, struct sockaddr_in *sa)
{
	socklen_t len = sizeof(*sa);

	truth_tp_init(t, self, 7, key, "");
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (truth_tp_bind(t, (struct sockaddr *)sa, sizeof(*sa)))
		return -1;
	return getsockname(t->fd, (struct sockaddr *)sa, &len);
}

TEST(corked_sends_leave_together_in_order)
{
	struct truth_tp a, b, c;
	struct sockaddr_in sa, sb, sc;
	struct raft_msg m;
	uint64_t match[] = { 5, 6, 7 };
	uint32_t to[] = { 2, 3, 2 };
	int i;

	ASSERT_EQ(0, bound(&a, 1, &sa));
	ASSERT_EQ(0, bound(&b, 2, &sb));
	ASSERT_EQ(0, bound(&c, 3, &sc));
	ASSERT_EQ(0, truth_tp_add_peer(&a, 2, (struct sockaddr *)&sb, sizeof(sb)));
	ASSERT_EQ(0, truth_tp_add_peer(&a, 3, (struct sockaddr *)&sc, sizeof(sc)));
	ASSERT_EQ(0, truth_tp_add_peer(&b, 1, (struct sockaddr *)&sa, sizeof(sa)));
	ASSERT_EQ(0, truth_tp_add_peer(&c, 1, (struct sockaddr *)&sa, sizeof(sa)));
	ngot = 0;
	truth_tp_cork(&a);
	for (i = 0; i < 3; i++) {
		memset(&m, 0, sizeof(m));
		m.type = RAFT_MSG_APPEND_RESP;
		m.from = 1;
		m.to = to[i];
		m.term = 4;
		m.match_index = match[i];
		ASSERT_EQ(0, truth_tp_send(&a, &m));
	}
	/* corked: nothing on the wire yet */
	EXPECT_EQ(0, a.st.tx);
	EXPECT_EQ(0, truth_tp_recv(&b, deliver, NULL));
	EXPECT_EQ(0, truth_tp_recv(&c, deliver, NULL));
	truth_tp_uncork(&a);
	EXPECT_EQ(3, a.st.tx);
	EXPECT_EQ(1, a.st.tx_batches);
	EXPECT_EQ(0, a.st.tx_errors);
	/* loopback delivers at once; b got two, in the order sent */
	EXPECT_EQ(2, truth_tp_recv(&b, deliver, NULL));
	ASSERT_EQ(2, ngot);
	EXPECT_EQ(5, got[0].match_index);
	EXPECT_EQ(7, got[1].match_index);
	EXPECT_EQ(1, truth_tp_recv(&c, deliver, NULL));
	ASSERT_EQ(3, ngot);
	EXPECT_EQ(6, got[2].match_index);
	EXPECT_EQ(3, got[2].to);
	/* uncorked again: a send leaves at once, no batch */
	m.to = 3;
	m.match_index = 8;
	ASSERT_EQ(0, truth_tp_send(&a, &m));
	EXPECT_EQ(4, a.st.tx);
	EXPECT_EQ(1, a.st.tx_batches);
	EXPECT_EQ(1, truth_tp_recv(&c, deliver, NULL));
	truth_tp_fini(&a);
	truth_tp_fini(&b);
	truth_tp_fini(&c);
}

TEST_HARNESS_MAIN
