/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Seeded randomness for property tests: one xorshift64* stream per test
 * program, seeded from TRUTH_SEED (replay) or the time, and a case count
 * from TRUTH_SEEDS (make torture raises it).  Tests print the seed they ran
 * with so that any failure can be replayed with TRUTH_SEED=<seed>.
 */
#ifndef _TRUTH_SELFTEST_RAND_H
#define _TRUTH_SELFTEST_RAND_H

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

static uint64_t rng_state;

/* xorshift64*: small, fast, and good enough to pick test cases */
static inline uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

/* Uniform-enough in [0, n); 0 for n == 0. */
static inline uint64_t rnd_below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

/* Seed the stream from TRUTH_SEED or the clock; returns the seed to print. */
static inline uint64_t seed_init(void)
{
	const char *s = getenv("TRUTH_SEED");
	uint64_t seed = s ? strtoull(s, NULL, 0) : (uint64_t)time(NULL);

	rng_state = seed ? seed : 1;
	return seed;
}

/* How many random cases to run: TRUTH_SEEDS, or @dflt. */
static inline unsigned long cases(unsigned long dflt)
{
	const char *s = getenv("TRUTH_SEEDS");

	return s ? strtoul(s, NULL, 0) : dflt;
}

#endif /* _TRUTH_SELFTEST_RAND_H */
