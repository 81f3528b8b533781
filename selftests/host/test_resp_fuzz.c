// SPDX-License-Identifier: GPL-2.0
/*
 * Deterministic mutation fuzzer of the RESP layer, run in CI.
 *
 * Valid pipelines (RESP arrays and inline commands, binary values) are
 * generated and mutated: bit flips, interesting bytes, truncation,
 * splicing, duplicated and deleted ranges, huge / negative / malformed
 * lengths.  Each input is parsed whole and in random chunks (sometimes one
 * byte at a time) under random limits, and must give the same commands
 * and the same final state both ways, with every API invariant holding
 * (resp_fuzz.h).  A share of the inputs also go through a whole session
 * with the reference store, whose reply bytes must not depend on the
 * chunking either.  Memory errors are caught by building this test with
 * -fsanitize=address,undefined or running it under valgrind (see
 * Documentation/protocol.md).
 *
 * TRUTH_SEED=<n> replays a run (the seed is printed); TRUTH_FUZZ_INPUTS=<n>
 * sets the number of inputs per test (defaults below: 1,200,000 in all).
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../fuzz/resp_fuzz.h"
#include "kselftest_harness.h"

#define MAX_INPUT	4096

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64*: small, fast, good enough to pick mutations */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static size_t below(size_t n)
{
	return n ? (size_t)(rnd() % n) : 0;
}

static uint64_t seed_init(const char *what)
{
	const char *s = getenv("TRUTH_SEED");
	uint64_t seed = s ? strtoull(s, NULL, 0) : (uint64_t)time(NULL);

	rng_state = seed ? seed : 1;
	printf("# %s: seed %llu (replay with TRUTH_SEED=%llu)\n", what,
	       (unsigned long long)seed, (unsigned long long)seed);
	fflush(stdout);
	return seed;
}

static unsigned long inputs(unsigned long dflt)
{
	const char *s = getenv("TRUTH_FUZZ_INPUTS");

	return s ? strtoul(s, NULL, 0) : dflt;
}

/* A growable byte string, capped at MAX_INPUT. */
struct bytes {
	uint8_t b[MAX_INPUT];	/* the bytes */
	size_t n;		/* how many */
};

static void put(struct bytes *x, const void *p, size_t n)
{
	if (n > MAX_INPUT - x->n)
		n = MAX_INPUT - x->n;
	memcpy(x->b + x->n, p, n);
	x->n += n;
}

static void puts_(struct bytes *x, const char *s)
{
	put(x, s, strlen(s));
}

static const char *const words[] = {
	"PING", "ECHO", "GET", "SET", "DEL", "EXISTS", "INCR", "INCRBY", "DECR",
	"DECRBY", "MGET", "INFO", "HELLO", "COMMAND", "set", "get", "NX", "XX",
	"EX", "PX", "EXAT", "PXAT", "KEEPTTL", "GET", "COUNT", "DOCS", "2", "3",
	"10", "-1", "0", "9223372036854775807", "-9223372036854775808", "abc",
	"k0", "k1", "k2", "k3", "server", "keyspace", "SETNAME", "AUTH", "x y",
	"UNKNOWN", "",
};

/* One argument: a word, or random bytes (binary for arrays). */
static void gen_arg(char *buf, size_t *len, bool binary)
{
	size_t i, n;

	if (below(3)) {
		const char *w = words[below(sizeof(words) / sizeof(words[0]))];

		*len = strlen(w);
		memcpy(buf, w, *len);
		return;
	}
	n = below(below(4) ? 12 : 300);
	for (i = 0; i < n; i++) {
		if (binary)
			buf[i] = (char)rnd();
		else
			buf[i] = (char)('!' + below(94));
	}
	*len = n;
}

/* A valid command, as a RESP array or an inline line. */
static void gen_command(struct bytes *x)
{
	static const char *const names[] = {
		"PING", "ECHO", "GET", "SET", "DEL", "EXISTS", "INCR", "INCRBY",
		"DECR", "DECRBY", "MGET", "INFO", "HELLO", "COMMAND", "QUIT", "NOPE",
	};
	char args[8][320];
	size_t lens[8], argc, i;
	bool inline_form = below(4) == 0;
	const char *name = names[below(sizeof(names) / sizeof(names[0]))];

	/* QUIT ends a session early: keep it rare */
	if (!strcmp(name, "QUIT") && below(8))
		name = "PING";
	argc = 1 + below(5);
	strcpy(args[0], name);
	lens[0] = strlen(name);
	for (i = 1; i < argc; i++)
		gen_arg(args[i], &lens[i], !inline_form);
	if (inline_form) {
		for (i = 0; i < argc; i++) {
			if (i)
				puts_(x, below(5) ? " " : "\t ");
			if (lens[i] && !memchr(args[i], '"', lens[i]) &&
			    !memchr(args[i], '\'', lens[i]) && !memchr(args[i], '\\', lens[i]))
				put(x, args[i], lens[i]);
			else
				puts_(x, "\"q\\x41\\n\"");
		}
		puts_(x, below(4) ? "\r\n" : "\n");
		return;
	}
	{
		char hdr[32];

		snprintf(hdr, sizeof(hdr), "*%zu\r\n", argc);
		puts_(x, hdr);
		for (i = 0; i < argc; i++) {
			snprintf(hdr, sizeof(hdr), "$%zu\r\n", lens[i]);
			puts_(x, hdr);
			put(x, args[i], lens[i]);
			puts_(x, "\r\n");
		}
	}
}

static void gen_pipeline(struct bytes *x)
{
	size_t n = 1 + below(below(8) ? 4 : 40);

	x->n = 0;
	while (n-- && x->n < MAX_INPUT - 700)
		gen_command(x);
}

static const char *const nasty[] = {
	"*", "$", "\r\n", "\r", "\n", "*-1\r\n", "*0\r\n", "$-1\r\n", "$-5\r\n",
	"*2147483648\r\n", "*9223372036854775807\r\n", "$9223372036854775807\r\n",
	"$99999999999999999999\r\n", "*99999999999999999999999999999999999\r\n",
	"$4294967296\r\n", "$8388608\r\n", "*65537\r\n", "$01\r\n", "*+1\r\n",
	"\"", "'", "\\", "\\x", "\\x4", "\0", " ", ":1\r\n", "+OK\r\n",
};

static void mutate(struct bytes *x, const struct bytes *other)
{
	size_t rounds = 1 + below(4), pos, n;

	while (rounds--) {
		pos = below(x->n + 1);
		switch (below(9)) {
		case 0:	/* bit flip */
			if (x->n)
				x->b[below(x->n)] ^= (uint8_t)(1u << below(8));
			break;
		case 1: {	/* an interesting byte */
			static const char ib[] = "\r\n*$-0 9\"'\\\0:+";

			if (x->n)
				x->b[below(x->n)] = (uint8_t)ib[below(sizeof(ib) - 1)];
			break;
		}
		case 2:	/* truncate */
			x->n = below(x->n + 1);
			break;
		case 3: {	/* splice: our head, the other's tail */
			size_t from = below(other->n + 1);

			x->n = pos;
			put(x, other->b + from, other->n - from);
			break;
		}
		case 4: {	/* insert a nasty token */
			const char *t = nasty[below(sizeof(nasty) / sizeof(nasty[0]))];
			size_t tl = t[0] ? strlen(t) : 1;
			uint8_t tail[MAX_INPUT];
			size_t rest = x->n - pos;

			memcpy(tail, x->b + pos, rest);
			x->n = pos;
			put(x, t, tl);
			put(x, tail, rest);
			break;
		}
		case 5:	/* delete a range */
			n = below(x->n - pos + 1);
			memmove(x->b + pos, x->b + pos + n, x->n - pos - n);
			x->n -= n;
			break;
		case 6: {	/* duplicate a range */
			uint8_t tmp[MAX_INPUT];

			n = below(x->n - pos + 1);
			memcpy(tmp, x->b + pos, n);
			put(x, tmp, n);
			break;
		}
		case 7: {	/* replace a length with a huge or negative one */
			uint8_t *d = memchr(x->b + pos, below(2) ? '$' : '*', x->n - pos);
			const char *num[] = { "-1", "-2147483649", "2147483647",
					      "18446744073709551616", "1000000000", "0" };

			if (d) {
				const char *v = num[below(6)];
				size_t at = (size_t)(d - x->b) + 1, len = strlen(v);
				uint8_t tail[MAX_INPUT];
				size_t end = at;

				while (end < x->n && x->b[end] >= '0' && x->b[end] <= '9')
					end++;
				memcpy(tail, x->b + end, x->n - end);
				n = x->n - end;
				x->n = at;
				put(x, v, len);
				put(x, tail, n);
			}
			break;
		}
		default:	/* random bytes */
			n = below(16);
			while (n-- && x->n < MAX_INPUT)
				x->b[x->n++] = (uint8_t)rnd();
			break;
		}
	}
}

static void random_limits(struct truth_resp_limits *l)
{
	static const size_t bulk[] = { 0, 1, 16, 300, 1024 };
	static const unsigned int args[] = { 1, 2, 4, 16 };
	static const size_t inl[] = { 1, 32, 256 };
	static const size_t query[] = { 64, 256, 4096 };

	truth_resp_limits_default(l);
	if (below(2))
		return;
	l->max_bulk = bulk[below(5)];
	l->max_args = args[below(4)];
	l->max_inline = inl[below(3)];
	l->max_query = query[below(3)];
}

/* Random increasing cut points; sometimes every byte. */
static size_t random_cuts(size_t *cuts, size_t len)
{
	size_t n, i;

	if (below(64) == 0) {
		for (i = 0; i + 1 < len; i++)
			cuts[i] = i + 1;
		return len ? len - 1 : 0;
	}
	n = below(8);
	for (i = 0; i < n; i++)
		cuts[i] = below(len + 1);
	/* insertion sort: n is tiny */
	for (i = 1; i < n; i++) {
		size_t v = cuts[i], j = i;

		for (; j > 0 && cuts[j - 1] > v; j--)
			cuts[j] = cuts[j - 1];
		cuts[j] = v;
	}
	return n;
}

static struct bytes cur, other;
static size_t cuts[MAX_INPUT + 1];

/* Next input: a fresh pipeline, random bytes, or a mutation. */
static void next_input(void)
{
	size_t k = below(16);

	if (k == 0) {
		gen_pipeline(&cur);
	} else if (k == 1) {
		size_t i;

		cur.n = below(256);
		for (i = 0; i < cur.n; i++)
			cur.b[i] = (uint8_t)rnd();
	} else {
		gen_pipeline(&cur);
		if (below(4) == 0)
			gen_pipeline(&other);
		mutate(&cur, &other);
	}
}

static void dump(const char *why, unsigned long i)
{
	size_t k;

	printf("# input %lu: %s; %zu bytes:", i, why, cur.n);
	for (k = 0; k < cur.n; k++)
		printf(" %02x", cur.b[k]);
	printf("\n");
}

/* No per-test state; a fixture only to give the runs a longer timeout. */
FIXTURE(fuzz) {
	int unused;	/* FIXTURE needs a member */
};

FIXTURE_SETUP(fuzz)
{
}

FIXTURE_TEARDOWN(fuzz)
{
}

TEST_F_TIMEOUT(fuzz, parser_whole_vs_chunked, 90)
{
	unsigned long n = inputs(800000), i, cmds = 0, errors = 0;
	struct resp_trace a = { 0 }, b = { 0 };
	struct truth_resp_limits l;

	seed_init("parser");
	for (i = 0; i < n; i++) {
		size_t nc;

		next_input();
		random_limits(&l);
		resp_trace_run(&a, &l, cur.b, cur.n, NULL, 0);
		nc = random_cuts(cuts, cur.n);
		resp_trace_run(&b, &l, cur.b, cur.n, cuts, nc);
		if (a.violation || b.violation) {
			dump(a.violation ? a.violation : b.violation, i);
			ASSERT_EQ(NULL, a.violation ? a.violation : b.violation);
		}
		if (!resp_trace_equal(&a, &b)) {
			dump("whole and chunked parses differ", i);
			ASSERT_TRUE(resp_trace_equal(&a, &b));
		}
		cmds += a.ncmds;
		errors += a.final < 0;
	}
	printf("# parser: %lu inputs, %lu commands, %lu protocol errors\n", n, cmds, errors);
	/* the generator must reach both outcomes, or the run proves little */
	ASSERT_GT(cmds, n / 2);
	ASSERT_GT(errors, n / 10);
	resp_trace_free(&a);
	resp_trace_free(&b);
}

/* Feed a session input in pieces; return its reply bytes and state. */
static void session_run(struct truth_resp_out *copy, bool *closing, uint64_t *commands,
			const struct truth_resp_limits *l, const size_t *c, size_t nc)
{
	struct truth_resp_store_backend be = { truth_resp_store_new(), 1700000000000LL };
	struct truth_resp_session s;
	struct truth_resp_handler h;
	size_t start = 0, k;

	if (!be.store || truth_resp_session_init(&s, 1, l))
		abort();
	truth_resp_store_handler(&h, &be);
	for (k = 0; k <= nc && !s.closing; k++) {
		size_t end = k < nc ? c[k] : cur.n;

		start += truth_resp_session_feed(&s, cur.b + start, end - start, &h);
		if (!s.closing && start != end)
			abort();	/* the store handler never defers */
		start = end;
		be.now_ms += 0;	/* time stands still: replies depend on bytes only */
	}
	copy->len = 0;
	truth_resp_out_append(copy, s.out.buf ? s.out.buf : "", s.out.len);
	*closing = s.closing;
	*commands = s.commands;
	truth_resp_session_fini(&s);
	truth_resp_store_free(be.store);
}

TEST_F_TIMEOUT(fuzz, session_whole_vs_chunked, 90)
{
	unsigned long n = inputs(400000), i, replies = 0;
	struct truth_resp_out a, b;
	struct truth_resp_limits l;

	seed_init("session");
	truth_resp_out_init(&a);
	truth_resp_out_init(&b);
	for (i = 0; i < n; i++) {
		uint64_t ca, cb;
		bool za, zb;
		size_t nc;

		next_input();
		random_limits(&l);
		session_run(&a, &za, &ca, &l, NULL, 0);
		nc = random_cuts(cuts, cur.n);
		session_run(&b, &zb, &cb, &l, cuts, nc);
		if (a.len != b.len || (a.len && memcmp(a.buf, b.buf, a.len)) || za != zb || ca != cb) {
			dump("whole and chunked sessions reply differently", i);
			ASSERT_TRUE(0);
		}
		replies += a.len != 0;
	}
	printf("# session: %lu inputs, %lu with replies\n", n, replies);
	ASSERT_GT(replies, n / 2);
	truth_resp_out_free(&a);
	truth_resp_out_free(&b);
}

TEST_HARNESS_MAIN
