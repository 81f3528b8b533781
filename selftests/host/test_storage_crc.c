// SPDX-License-Identifier: GPL-2.0
/*
 * CRC32C (agent/storage/crc32c.c) against published check values (the
 * CRC catalogue's "123456789", RFC 3720 appendix B.4's iSCSI vectors) and
 * against a bit-at-a-time reference over random data at every alignment,
 * split at every point (the incremental form the log uses).
 *
 * TRUTH_SEED=<n> replays a run; the seed is printed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <storage/storage.h>

#include "kselftest_harness.h"

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64*: small, fast, and good enough to pick test cases */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

/* the definition, one bit at a time */
static uint32_t crc32c_ref(const uint8_t *p, size_t len)
{
	uint32_t crc = ~0u;
	int k;

	while (len--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = crc & 1 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
	}
	return ~crc;
}

TEST(check_value)
{
	EXPECT_EQ(0xE3069283u, truth_crc32c(0, "123456789", 9));
	EXPECT_EQ(0x00000000u, truth_crc32c(0, "", 0));
	EXPECT_EQ(0xC1D04330u, truth_crc32c(0, "a", 1));
}

TEST(rfc3720_vectors)
{
	static const uint8_t read_pdu[48] = {
		0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
		0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18,
		0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	};
	uint8_t buf[32];
	int i;

	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(0x8A9136AAu, truth_crc32c(0, buf, 32));
	memset(buf, 0xff, sizeof(buf));
	EXPECT_EQ(0x62A8AB43u, truth_crc32c(0, buf, 32));
	for (i = 0; i < 32; i++)
		buf[i] = (uint8_t)i;
	EXPECT_EQ(0x46DD794Eu, truth_crc32c(0, buf, 32));
	for (i = 0; i < 32; i++)
		buf[i] = (uint8_t)(31 - i);
	EXPECT_EQ(0x113FDB5Cu, truth_crc32c(0, buf, 32));
	EXPECT_EQ(0xD9963A56u, truth_crc32c(0, read_pdu, 48));
}

TEST(random_against_reference_every_alignment_and_split)
{
	const char *s = getenv("TRUTH_SEED");
	uint64_t seed = s ? strtoull(s, NULL, 0) : (uint64_t)time(NULL);
	static uint8_t buf[1024 + 8];
	size_t len, align, split, i, cases = 0;
	uint32_t want, got;

	rng_state = seed ? seed : 1;
	ksft_print_msg("seed %llu\n", (unsigned long long)seed);
	for (len = 0; len <= 300; len++)
		for (align = 0; align < 8; align++) {
			for (i = 0; i < len; i++)
				buf[align + i] = (uint8_t)rnd();
			want = crc32c_ref(buf + align, len);
			ASSERT_EQ(want, truth_crc32c(0, buf + align, len))
				TH_LOG("len %zu align %zu", len, align);
			for (split = 0; split <= len; split += 1 + len / 17) {
				got = truth_crc32c(0, buf + align, split);
				got = truth_crc32c(got, buf + align + split,
						   len - split);
				ASSERT_EQ(want, got)
					TH_LOG("len %zu split %zu", len, split);
				cases++;
			}
		}
	/* one bit changed anywhere changes the crc (CRC32C: all
	 * single-bit errors in messages this short) */
	for (i = 0; i < 1024 * 8; i++) {
		want = truth_crc32c(0, buf, 1024);
		buf[i / 8] ^= (uint8_t)(1u << (i % 8));
		ASSERT_NE(want, truth_crc32c(0, buf, 1024));
		buf[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	ksft_print_msg("%zu split cases checked\n", cases);
}

TEST_HARNESS_MAIN
