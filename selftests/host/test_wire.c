// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of the on-wire header (include/truth/wire.h, agent/wire):
 * round trips, every refusal, a MAC that notices any changed byte, the
 * BLAKE2s known answer, and the replay window against a brute-force model.
 *
 * TRUTH_SEED=<n> replays the random parts; the seed is printed.
 */

#include <blake2.h>
#include <errno.h>
#include <string.h>

#include "wire/wire.h"

#include "kselftest_harness.h"

#include "truth_rand.h"

static const uint8_t key[TRUTH_WIRE_KEY_LEN] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
	17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
};

static void sample(struct truth_wire_msg *m, const uint8_t *payload,
		   uint16_t len)
{
	memset(m, 0, sizeof(*m));
	m->type = TRUTH_WIRE_APPEND;
	m->flags = TRUTH_WIRE_F_STAMP;
	m->sender = 2;
	m->receiver = 1;
	m->group = 7;
	m->term = 5;
	m->index = 41;
	m->seq = 1000;
	m->lamport = 77;
	m->hlc = 0x123456780000ULL | 3;
	m->vc_count = 3;
	m->vc[0] = (struct truth_wire_vce){ 1, 10 };
	m->vc[1] = (struct truth_wire_vce){ 2, 20 };
	m->vc[2] = (struct truth_wire_vce){ 3, 30 };
	m->payload = payload;
	m->payload_len = len;
}

TEST(round_trip_append)
{
	uint8_t payload[300], buf[1024];
	struct truth_wire_msg m, d;
	int n, i;

	for (i = 0; i < (int)sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7);
	sample(&m, payload, sizeof(payload));
	n = truth_wire_encode(buf, sizeof(buf), &m, key);
	ASSERT_EQ(TRUTH_WIRE_HDR_LEN + 3 * 16 + 300, n);
	ASSERT_EQ(TRUTH_WIRE_OK, truth_wire_decode(buf, n, key, &d));
	EXPECT_EQ(m.type, d.type);
	EXPECT_EQ(m.flags, d.flags);
	EXPECT_EQ(2, d.sender);
	EXPECT_EQ(1, d.receiver);
	EXPECT_EQ(7, d.group);
	EXPECT_EQ(5, d.term);
	EXPECT_EQ(41, d.index);
	EXPECT_EQ(1000, d.seq);
	EXPECT_EQ(77, d.lamport);
	EXPECT_EQ(m.hlc, d.hlc);
	ASSERT_EQ(3, d.vc_count);
	EXPECT_EQ(3, d.vc[2].node);
	EXPECT_EQ(30, d.vc[2].counter);
	ASSERT_EQ(300, d.payload_len);
	EXPECT_EQ(0, memcmp(payload, d.payload, 300));
	/* network byte order, where the UAPI says */
	EXPECT_EQ('T', buf[0]);
	EXPECT_EQ(0, buf[27] | buf[26]);
	EXPECT_EQ(5, buf[31]);
}

TEST(round_trip_probe_and_rx_trailer)
{
	struct truth_wire_msg m, d;
	uint8_t buf[256];
	int n;

	memset(&m, 0, sizeof(m));
	m.type = TRUTH_WIRE_PROBE_REPLY;
	m.sender = 1;
	m.receiver = 2;
	m.group = 1;
	m.seq = 9;
	m.probe.id = 42;
	m.probe.tx = 3000;
	m.probe.echo_tx = 1000;
	m.probe.echo_rx = 2000;
	m.probe.tx_src = TRUTH_WIRE_TSRC_TC;
	m.probe.echo_rx_src = TRUTH_WIRE_TSRC_SOCKET;
	n = truth_wire_encode(buf, sizeof(buf), &m, key);
	ASSERT_EQ(TRUTH_WIRE_HDR_LEN + 40 + 16, n);
	/* the receiving host writes the trailer; the MAC still holds */
	truth_wire_set_rx(buf, n, 4000, TRUTH_WIRE_TSRC_TC);
	ASSERT_EQ(TRUTH_WIRE_OK, truth_wire_decode(buf, n, key, &d));
	EXPECT_EQ(42, d.probe.id);
	EXPECT_EQ(3000, d.probe.tx);
	EXPECT_EQ(1000, d.probe.echo_tx);
	EXPECT_EQ(2000, d.probe.echo_rx);
	EXPECT_EQ(4000, d.probe.rx);
	EXPECT_EQ(TRUTH_WIRE_TSRC_TC, d.probe.tx_src);
	EXPECT_EQ(TRUTH_WIRE_TSRC_SOCKET, d.probe.echo_rx_src);
	EXPECT_EQ(TRUTH_WIRE_TSRC_TC, d.probe.rx_src);
}

/* Every byte the MAC covers matters; a change is never accepted. */
TEST(mac_covers_every_byte)
{
	uint8_t payload[40] = "entries", buf[512], copy[512];
	struct truth_wire_msg m, d;
	int n, i, bit, accepted = 0;

	sample(&m, payload, sizeof(payload));
	n = truth_wire_encode(buf, sizeof(buf), &m, key);
	ASSERT_GT(n, 0);
	for (i = 0; i < n; i++) {
		for (bit = 0; bit < 8; bit++) {
			memcpy(copy, buf, n);
			copy[i] ^= (uint8_t)(1 << bit);
			if (truth_wire_decode(copy, n, key, &d) == TRUTH_WIRE_OK)
				accepted++;
		}
	}
	EXPECT_EQ(0, accepted);
	/* a reseal with the right key makes a valid datagram again */
	memcpy(copy, buf, n);
	copy[40] ^= 1;
	truth_wire_reseal(copy, n, key);
	EXPECT_EQ(TRUTH_WIRE_OK, truth_wire_decode(copy, n, key, &d));
	EXPECT_EQ(m.seq ^ (1ULL << 56), d.seq);
}

TEST(wrong_key_refused)
{
	uint8_t buf[512], other[TRUTH_WIRE_KEY_LEN];
	struct truth_wire_msg m, d;
	int n;

	sample(&m, NULL, 0);
	n = truth_wire_encode(buf, sizeof(buf), &m, key);
	memcpy(other, key, sizeof(other));
	other[31] ^= 0x80;
	EXPECT_EQ(TRUTH_WIRE_E_MAC, truth_wire_decode(buf, n, other, &d));
}

/* The known answer of the BLAKE2 reference (blake2s-kat.txt, keyed, empty
 * input, key 00..1f): libb2 is keyed BLAKE2s, as lib/crypto's is.
 */
TEST(blake2s_keyed_known_answer)
{
	static const uint8_t want[32] = {
		0x48, 0xa8, 0x99, 0x7d, 0xa4, 0x07, 0x87, 0x6b,
		0x3d, 0x79, 0xc0, 0xd9, 0x23, 0x25, 0xad, 0x3b,
		0x89, 0xcb, 0xb7, 0x54, 0xd8, 0x6a, 0xb7, 0x1a,
		0xee, 0x04, 0x7a, 0xd3, 0x45, 0xfd, 0x2c, 0x49,
	};
	uint8_t k[32], out[32];
	int i;

	for (i = 0; i < 32; i++)
		k[i] = (uint8_t)i;
	ASSERT_EQ(0, blake2s(out, NULL, k, 32, 0, 32));
	EXPECT_EQ(0, memcmp(want, out, 32));
}

struct refusal {
	const char *what;
	int offset;		/* byte to set, -1: change the length */
	uint8_t value;
	int len_delta;
	enum truth_wire_err want;
};

TEST(each_refusal_names_its_rule)
{
	static const struct refusal cases[] = {
		{ "magic", 0, 'X', 0, TRUTH_WIRE_E_MAGIC },
		{ "version", 4, 2, 0, TRUTH_WIRE_E_VERSION },
		{ "type 0", 5, 0, 0, TRUTH_WIRE_E_TYPE },
		{ "type too big", 5, TRUTH_WIRE_TYPE_MAX + 1, 0, TRUTH_WIRE_E_TYPE },
		{ "flag bit", 6, 0x80, 0, TRUTH_WIRE_E_FLAGS },
		{ "vc_count", 7, TRUTH_WIRE_VCLOCK_MAX + 1, 0, TRUTH_WIRE_E_VCCOUNT },
		{ "vc_count vs length", 7, 4, 0, TRUTH_WIRE_E_LENGTH },
		{ "reserved", 23, 1, 0, TRUTH_WIRE_E_RESERVED },
		{ "truncated", -1, 0, -1, TRUTH_WIRE_E_LENGTH },
		{ "oversized", -1, 0, 1, TRUTH_WIRE_E_LENGTH },
		{ "payload_len", 21, 39, 0, TRUTH_WIRE_E_LENGTH },
	};
	uint8_t payload[40] = { 0 }, buf[512], copy[512];
	struct truth_wire_msg m, d;
	unsigned int i;
	int n;

	sample(&m, payload, sizeof(payload));
	n = truth_wire_encode(buf, sizeof(buf), &m, key);
	ASSERT_GT(n, 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct refusal *c = &cases[i];

		memcpy(copy, buf, n);
		if (c->offset >= 0)
			copy[c->offset] = c->value;
		EXPECT_EQ(c->want, truth_wire_decode(copy, n + c->len_delta,
						     key, &d))
			TH_LOG("%s", c->what);
	}
	EXPECT_EQ(TRUTH_WIRE_E_SHORT, truth_wire_decode(buf, 79, key, &d));
	EXPECT_EQ(TRUTH_WIRE_E_SHORT, truth_wire_decode(buf, 0, key, &d));
}

/* Malformed vector clocks and payloads are refused when sending too. */
TEST(encoder_refuses_what_receivers_refuse)
{
	uint8_t buf[512], p[4] = { 0 };
	struct truth_wire_msg m, d;
	int n;

	sample(&m, NULL, 0);
	m.vc[1].node = 1;		/* not ascending */
	EXPECT_EQ(-EINVAL, truth_wire_encode(buf, sizeof(buf), &m, key));
	sample(&m, NULL, 0);
	m.vc[0].counter = 0;		/* zero counter */
	EXPECT_EQ(-EINVAL, truth_wire_encode(buf, sizeof(buf), &m, key));
	sample(&m, p, sizeof(p));
	m.type = TRUTH_WIRE_ACK;	/* ACK takes no payload */
	EXPECT_EQ(-EINVAL, truth_wire_encode(buf, sizeof(buf), &m, key));
	sample(&m, NULL, 0);
	m.flags = 0x40;
	EXPECT_EQ(-EINVAL, truth_wire_encode(buf, sizeof(buf), &m, key));
	sample(&m, NULL, 0);
	EXPECT_EQ(-EMSGSIZE, truth_wire_encode(buf, 100, &m, key));
	m.type = TRUTH_WIRE_ACK;
	n = truth_wire_encode(buf, sizeof(buf), &m, key);
	ASSERT_EQ(TRUTH_WIRE_HDR_LEN + 48, n);
	EXPECT_EQ(TRUTH_WIRE_OK, truth_wire_decode(buf, n, key, &d));
}

/* A forged vector clock with a valid MAC is still malformed. */
TEST(resealed_bad_vclock_refused)
{
	uint8_t buf[512];
	struct truth_wire_msg m, d;
	int n;

	sample(&m, NULL, 0);
	n = truth_wire_encode(buf, sizeof(buf), &m, key);
	buf[TRUTH_WIRE_HDR_LEN + 16 + 3] = 1;	/* second node = first */
	truth_wire_reseal(buf, n, key);
	EXPECT_EQ(TRUTH_WIRE_E_VCLOCK, truth_wire_decode(buf, n, key, &d));
}

/* Brute force: remember every seq ever accepted. */
TEST(replay_window_against_model)
{
	static uint8_t seen[1 << 16];
	struct truth_replay w;
	uint64_t seed = seed_init(), top = 0, seq, i, want;
	unsigned int accepted = 0, refused = 0;

	TH_LOG("seed %llu", (unsigned long long)seed);
	memset(&w, 0, sizeof(w));
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < 200000; i++) {
		/* mostly near the top, sometimes far behind or ahead */
		switch (rnd_below(8)) {
		case 0:
			seq = rnd_below(sizeof(seen));
			break;
		case 1:
			seq = top + rnd_below(3000);
			break;
		default:
			seq = top + 3 > rnd_below(1200) ?
			      top + 3 - rnd_below(1200) : 1;
		}
		if (seq >= sizeof(seen))
			continue;
		want = seq != 0 && !seen[seq] &&
		       (seq > top || top - seq < TRUTH_WIRE_REPLAY_WINDOW);
		ASSERT_EQ(want, (uint64_t)truth_replay_ok(&w, seq));
		ASSERT_EQ(want, (uint64_t)truth_replay_accept(&w, seq))
			TH_LOG("seq %llu top %llu", (unsigned long long)seq,
			       (unsigned long long)top);
		if (want) {
			seen[seq] = 1;
			if (seq > top)
				top = seq;
			accepted++;
		} else {
			refused++;
		}
	}
	EXPECT_GT(accepted, 1000);
	EXPECT_GT(refused, 1000);
}

TEST(seq_start_and_key_parse)
{
	uint8_t k[TRUTH_WIRE_KEY_LEN];

	EXPECT_EQ(101, truth_wire_seq_start(100, 50));
	EXPECT_EQ(501, truth_wire_seq_start(100, 500));
	EXPECT_EQ(0, truth_wire_key_parse(
		"000102030405060708090a0b0c0d0e0f"
		"101112131415161718191A1B1C1D1E1F", k));
	EXPECT_EQ(0x1f, k[31]);
	EXPECT_EQ(-EINVAL, truth_wire_key_parse("00", k));
	EXPECT_EQ(-EINVAL, truth_wire_key_parse(
		"000102030405060708090a0b0c0d0e0f"
		"101112131415161718191a1b1c1d1e1g", k));
	EXPECT_EQ(0x1f, k[31]);	/* a refused key leaves the old one whole */
	EXPECT_EQ(0x00, k[0]);
	EXPECT_STREQ("bad MAC", truth_wire_strerror(TRUTH_WIRE_E_MAC));
}

TEST_HARNESS_MAIN
