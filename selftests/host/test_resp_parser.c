// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of the RESP request parser (agent/resp/parser.c): every
 * framing case, every split point, pipelines, binary-safe arguments, every
 * limit and every malformed form with the reason Redis gives, and that no
 * state outlives a command.
 */

#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../fuzz/resp_fuzz.h"
#include "kselftest_harness.h"

#define S(lit)	(const uint8_t *)(lit), sizeof(lit) - 1

static struct truth_resp_limits deflim(void)
{
	struct truth_resp_limits l;

	truth_resp_limits_default(&l);
	return l;
}

/* Trace of data in one piece. */
static void whole(struct resp_trace *t, const struct truth_resp_limits *l,
		  const uint8_t *data, size_t len)
{
	resp_trace_run(t, l, data, len, NULL, 0);
}

/* The trace of data cut at every single point, and byte by byte, equals the whole one. */
static int same_at_every_split(const struct truth_resp_limits *l, const uint8_t *data,
			       size_t len)
{
	struct resp_trace ref = { 0 }, t = { 0 };
	size_t cut, *cuts;
	int bad = 0;

	whole(&ref, l, data, len);
	if (ref.violation)
		bad = 1;
	for (cut = 0; cut <= len && !bad; cut++) {
		resp_trace_run(&t, l, data, len, &cut, 1);
		if (t.violation || !resp_trace_equal(&t, &ref))
			bad = 1;
	}
	cuts = malloc((len + 1) * sizeof(*cuts));
	for (cut = 0; cut < len; cut++)
		cuts[cut] = cut + 1;
	if (!bad) {
		resp_trace_run(&t, l, data, len, cuts, len);
		if (t.violation || !resp_trace_equal(&t, &ref))
			bad = 1;
	}
	free(cuts);
	resp_trace_free(&ref);
	resp_trace_free(&t);
	return bad;
}

/* Parse exactly one command out of buf, expecting it to end at its end. */
FIXTURE(parser) {
	struct truth_resp_parser *p;
	struct truth_resp_cmd cmd;
	size_t used;
};

FIXTURE_SETUP(parser)
{
	self->p = truth_resp_parser_new(NULL);
	ASSERT_NE(NULL, self->p);
}

FIXTURE_TEARDOWN(parser)
{
	truth_resp_parser_free(self->p);
}

static int feed(struct _test_data_parser *self, const char *s, size_t n)
{
	self->used = 0;
	return truth_resp_parse(self->p, s, n, &self->used, &self->cmd);
}

#define ARG_EQ(i, lit) do {							\
	ASSERT_EQ(sizeof(lit) - 1, self->cmd.argv[i].len);			\
	ASSERT_EQ(0, memcmp(self->cmd.argv[i].ptr, lit, sizeof(lit) - 1));	\
	ASSERT_EQ('\0', self->cmd.argv[i].ptr[sizeof(lit) - 1]);		\
} while (0)

TEST_F(parser, array_command)
{
	static const char in[] = "*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n";

	ASSERT_EQ(TRUTH_RESP_COMMAND, feed(self, in, sizeof(in) - 1));
	ASSERT_EQ(sizeof(in) - 1, self->used);
	ASSERT_EQ(2, self->cmd.argc);
	ASSERT_FALSE(self->cmd.inline_form);
	ARG_EQ(0, "GET");
	ARG_EQ(1, "key");
	ASSERT_FALSE(truth_resp_parser_mid_command(self->p));
}

TEST_F(parser, empty_bulk_and_empty_input)
{
	static const char in[] = "*3\r\n$3\r\nSET\r\n$0\r\n\r\n$0\r\n\r\n";

	ASSERT_EQ(TRUTH_RESP_NEED_MORE, feed(self, "", 0));
	ASSERT_EQ(0, self->used);
	ASSERT_EQ(TRUTH_RESP_COMMAND, feed(self, in, sizeof(in) - 1));
	ASSERT_EQ(3, self->cmd.argc);
	ARG_EQ(1, "");
	ARG_EQ(2, "");
}

TEST_F(parser, binary_safe_bulk)
{
	static const char in[] = "*3\r\n$3\r\nSET\r\n$4\r\n\r\n\0*\r\n$6\r\n$1\r\n\n\r\r\n";

	ASSERT_EQ(TRUTH_RESP_COMMAND, feed(self, in, sizeof(in) - 1));
	ASSERT_EQ(sizeof(in) - 1, self->used);
	ASSERT_EQ(3, self->cmd.argc);
	ASSERT_EQ(4, self->cmd.argv[1].len);
	ASSERT_EQ(0, memcmp(self->cmd.argv[1].ptr, "\r\n\0*", 4));
	ASSERT_EQ(6, self->cmd.argv[2].len);
	ASSERT_EQ(0, memcmp(self->cmd.argv[2].ptr, "$1\r\n\n\r", 6));
}

TEST_F(parser, inline_forms)
{
	static const char in[] = "PING\r\nping\n  set\t a  b \r\n";

	ASSERT_EQ(TRUTH_RESP_COMMAND, feed(self, in, sizeof(in) - 1));
	ASSERT_EQ(6, self->used);
	ASSERT_TRUE(self->cmd.inline_form);
	ASSERT_EQ(1, self->cmd.argc);
	ARG_EQ(0, "PING");
	ASSERT_EQ(TRUTH_RESP_COMMAND, feed(self, in + 6, sizeof(in) - 1 - 6));
	ASSERT_EQ(5, self->used);
	ARG_EQ(0, "ping");
	ASSERT_EQ(TRUTH_RESP_COMMAND, feed(self, in + 11, sizeof(in) - 1 - 11));
	ASSERT_EQ(3, self->cmd.argc);
	ARG_EQ(0, "set");
	ARG_EQ(1, "a");
	ARG_EQ(2, "b");
	ASSERT_EQ(TRUTH_RESP_NEED_MORE, feed(self, "", 0));
}

TEST_F(parser, inline_quotes_as_sdssplitargs)
{
	static const char in[] =
		"set \"a b\" 'c \\'d' \"\\x41\\x7a\\n\\r\\t\\b\\a\\\\\\\"\\q\" \"\" x\"y z\"\r\n";

	ASSERT_EQ(TRUTH_RESP_COMMAND, feed(self, in, sizeof(in) - 1));
	ASSERT_EQ(6, self->cmd.argc);
	ARG_EQ(1, "a b");
	ARG_EQ(2, "c 'd");
	ARG_EQ(3, "Az\n\r\t\b\a\\\"q");
	ARG_EQ(4, "");
	ARG_EQ(5, "xy z");
}

TEST_F(parser, inline_nul_ends_line_as_redis)
{
	static const char in[] = "echo a\0 b c\r\n";

	ASSERT_EQ(TRUTH_RESP_COMMAND, feed(self, in, sizeof(in) - 1));
	ASSERT_EQ(2, self->cmd.argc);
	ARG_EQ(1, "a");
}

TEST_F(parser, empty_requests_are_skipped)
{
	/* empty inline lines, "*0" and negative counts: no command, no reply (Redis) */
	static const char in[] = "\r\n\n   \r\n*0\r\n*-1\r\n*-9223372036854775808\r\nPING\r\n";

	ASSERT_EQ(TRUTH_RESP_COMMAND, feed(self, in, sizeof(in) - 1));
	ASSERT_EQ(sizeof(in) - 1, self->used);
	ARG_EQ(0, "PING");
}

TEST_F(parser, pipeline_of_many)
{
	char *buf = malloc(64 * 2000), *p = buf;
	size_t off = 0, len;
	int i;

	for (i = 0; i < 2000; i++) {
		if (i % 3 == 0)
			p += sprintf(p, "INCR k%d\r\n", i);
		else
			p += sprintf(p, "*2\r\n$4\r\nINCR\r\n$%d\r\nk%d\r\n",
				     1 + (i < 10 ? 1 : i < 100 ? 2 : i < 1000 ? 3 : 4), i);
	}
	len = (size_t)(p - buf);
	for (i = 0; i < 2000; i++) {
		char key[16];

		ASSERT_EQ(TRUTH_RESP_COMMAND, feed(self, buf + off, len - off));
		off += self->used;
		ASSERT_EQ(2, self->cmd.argc);
		ASSERT_EQ(i % 3 == 0, self->cmd.inline_form);
		sprintf(key, "k%d", i);
		ASSERT_EQ(strlen(key), self->cmd.argv[1].len);
		ASSERT_EQ(0, strcmp(key, self->cmd.argv[1].ptr));
	}
	ASSERT_EQ(len, off);
	ASSERT_EQ(TRUTH_RESP_NEED_MORE, feed(self, buf + off, 0));
	ASSERT_TRUE(same_at_every_split(&(struct truth_resp_limits){ 1 << 20, 64, 1024, 1 << 20 },
					(const uint8_t *)buf, 300) == 0);
	free(buf);
}

TEST_F(parser, large_bulk_in_small_chunks)
{
	size_t n = 3 << 20, len, off = 0;
	char *buf = malloc(n + 64), *p = buf;
	struct truth_resp_cmd last;
	int r = TRUTH_RESP_NEED_MORE;

	p += sprintf(p, "*2\r\n$4\r\nECHO\r\n$%zu\r\n", n);
	memset(p, 'v', n);
	p[n / 2] = '\r';
	p += n;
	p += sprintf(p, "\r\n");
	len = (size_t)(p - buf);
	while (off < len) {
		size_t chunk = len - off < 4093 ? len - off : 4093;

		r = feed(self, buf + off, chunk);
		off += self->used;
		if (r != TRUTH_RESP_NEED_MORE)
			break;
		ASSERT_EQ(chunk, self->used);
		ASSERT_TRUE(truth_resp_parser_mid_command(self->p));
	}
	ASSERT_EQ(TRUTH_RESP_COMMAND, r);
	ASSERT_EQ(len, off);
	last = self->cmd;
	ASSERT_EQ(n, last.argv[1].len);
	ASSERT_EQ(0, memcmp(last.argv[1].ptr, buf + len - 2 - n, n));
	/* the next command starts from nothing: no bytes of the big one kept */
	ASSERT_EQ(TRUTH_RESP_NEED_MORE, feed(self, "*1\r\n$4\r\nPI", 10));
	ASSERT_GT(64, truth_resp_parser_buffered(self->p));
	free(buf);
}

/* Declaring a big argument costs nothing until its bytes arrive (no preallocation). */
TEST_F(parser, declared_length_is_not_preallocated)
{
	static const char in[] = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$8388608\r\n0123456789";
	struct mallinfo2 m = mallinfo2();
	/* heap in use, including big blocks glibc serves by mmap */
	size_t before = m.uordblks + m.hblkhd, after;

	ASSERT_EQ(TRUTH_RESP_NEED_MORE, feed(self, in, sizeof(in) - 1));
	m = mallinfo2();
	after = m.uordblks + m.hblkhd;
	ASSERT_GT(64 << 10, after - before);
	ASSERT_GT(256, truth_resp_parser_buffered(self->p));
}

TEST_F(parser, consumed_stops_at_command_end)
{
	static const char in[] = "*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPI";

	ASSERT_EQ(TRUTH_RESP_COMMAND, feed(self, in, sizeof(in) - 1));
	ASSERT_EQ(14, self->used);
	ASSERT_EQ(TRUTH_RESP_NEED_MORE, feed(self, in + 14, sizeof(in) - 1 - 14));
	ASSERT_EQ(sizeof(in) - 1 - 14, self->used);
	ASSERT_TRUE(truth_resp_parser_mid_command(self->p));
	ASSERT_EQ(TRUTH_RESP_COMMAND, feed(self, "NG\r\n", 4));
	ASSERT_EQ(4, self->used);
	ARG_EQ(0, "PING");
}

/* Framing cases: all give the same trace at every split and byte by byte. */
TEST(every_split_point)
{
	static const char *const cases[] = {
		"*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n",
		"*3\r\n$3\r\nSET\r\n$4\r\n\r\n\r\n\r\n$0\r\n\r\nPING\r\n",
		"PING\r\nPING\nECHO \"a\\x00b\" 'c'\r\n*1\r\n$4\r\nPING\r\n",
		"\r\n\r\n*0\r\n*-1\r\nGET k\r\n",
		"*1\r\n$3\r\nabcX",
		"*12345678901234567890123456789012345\r\n",
		"set \"unbalanced\r\n",
		"*2\r\n$3\r\nGET\r\n:5\r\n",
		"*1\r\n$-1\r\n",
	};
	struct truth_resp_limits l = deflim();
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		EXPECT_EQ(0, same_at_every_split(&l, (const uint8_t *)cases[i],
						 strlen(cases[i])))
			TH_LOG("case %u", i);
}

/* One malformed input and the reason it must give. */
struct bad_case {
	const char *in;		/* bytes (NUL-free unless len given) */
	size_t len;		/* 0: strlen(in) */
	const char *reason;	/* expected truth_resp_parser_error() */
	unsigned int ncmds;	/* commands before the error */
};

static const struct bad_case bad_cases[] = {
	{ "*abc\r\n", 0, "invalid multibulk length", 0 },
	{ "*+1\r\n", 0, "invalid multibulk length", 0 },
	{ "*01\r\n", 0, "invalid multibulk length", 0 },
	{ "*-0\r\n", 0, "invalid multibulk length", 0 },
	{ "* 1\r\n", 0, "invalid multibulk length", 0 },
	{ "*\r\n", 0, "invalid multibulk length", 0 },
	{ "*1\rX", 0, "invalid multibulk length", 0 },
	{ "*99999999999999999999\r\n", 0, "invalid multibulk length", 0 },
	{ "*65537\r\n", 0, "invalid multibulk length", 0 },
	{ "*123456789012345678901234567890123\r\n", 0, "too big mbulk count string", 0 },
	{ "*1\r\nX", 0, "expected '$', got 'X'", 0 },
	{ "*1\r\n:1\r\n", 0, "expected '$', got ':'", 0 },
	{ "*1\r\n\r\n", 0, "expected '$', got '\\x0d'", 0 },
	{ "*1\r\n\0", 5, "expected '$', got '\\x00'", 0 },
	{ "*1\r\n$-1\r\n", 0, "invalid bulk length", 0 },
	{ "*1\r\n$01\r\n", 0, "invalid bulk length", 0 },
	{ "*1\r\n$x\r\n", 0, "invalid bulk length", 0 },
	{ "*1\r\n$\r\n", 0, "invalid bulk length", 0 },
	{ "*1\r\n$1\rX", 0, "invalid bulk length", 0 },
	{ "*1\r\n$8388609\r\n", 0, "invalid bulk length", 0 },
	{ "*1\r\n$9223372036854775807\r\n", 0, "invalid bulk length", 0 },
	{ "*1\r\n$123456789012345678901234567890123\r\n", 0, "too big bulk count string", 0 },
	{ "*1\r\n$3\r\nabcX", 0, "missing CRLF after bulk data", 0 },
	{ "*1\r\n$3\r\nabc\rX", 0, "missing CRLF after bulk data", 0 },
	{ "*1\r\n$3\r\nabc\n\r", 0, "missing CRLF after bulk data", 0 },
	{ "PING\r\n*1\r\n$4\r\nPING\r\n*2\r\nX", 0, "expected '$', got 'X'", 2 },
	{ "set \"a\r\n", 0, "unbalanced quotes in request", 0 },
	{ "set 'a\r\n", 0, "unbalanced quotes in request", 0 },
	{ "set \"a\"b\r\n", 0, "unbalanced quotes in request", 0 },
	{ "set 'a'b\r\n", 0, "unbalanced quotes in request", 0 },
	{ "set \"a\\\"\r\n", 0, "unbalanced quotes in request", 0 },
};

TEST(malformed_forms)
{
	struct truth_resp_limits l = deflim();
	struct resp_trace t = { 0 };
	unsigned int i;

	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		size_t len = c->len ? c->len : strlen(c->in);

		whole(&t, &l, (const uint8_t *)c->in, len);
		EXPECT_EQ(TRUTH_RESP_PROTO_ERROR, t.final) TH_LOG("case %u", i);
		EXPECT_STREQ(c->reason, t.err) TH_LOG("case %u", i);
		EXPECT_EQ(c->ncmds, t.ncmds) TH_LOG("case %u", i);
		EXPECT_EQ(NULL, t.violation);
		EXPECT_EQ(0, same_at_every_split(&l, (const uint8_t *)c->in, len))
			TH_LOG("case %u", i);
	}
	resp_trace_free(&t);
}

TEST_F(parser, error_is_sticky)
{
	static const char bad[] = "*1\r\nX";

	ASSERT_EQ(TRUTH_RESP_PROTO_ERROR, feed(self, bad, sizeof(bad) - 1));
	ASSERT_EQ(4, self->used);
	ASSERT_STREQ("expected '$', got 'X'", truth_resp_parser_error(self->p));
	ASSERT_EQ(TRUTH_RESP_PROTO_ERROR, feed(self, "PING\r\n", 6));
	ASSERT_EQ(0, self->used);
	ASSERT_STREQ("expected '$', got 'X'", truth_resp_parser_error(self->p));
	ASSERT_FALSE(truth_resp_parser_mid_command(self->p));
}

TEST(no_error_reason_before_failure)
{
	struct truth_resp_parser *p = truth_resp_parser_new(NULL);

	ASSERT_NE(NULL, p);
	ASSERT_EQ(NULL, truth_resp_parser_error(p));
	ASSERT_EQ(0, truth_resp_parser_buffered(p));
	truth_resp_parser_free(p);
}

/* Small limits so each can be hit exactly: one under passes, one over fails. */
FIXTURE(limits) {
	struct truth_resp_limits l;
	struct resp_trace t;
};

FIXTURE_SETUP(limits)
{
	self->l = (struct truth_resp_limits){
		.max_bulk = 100, .max_args = 4, .max_inline = 40, .max_query = 400,
	};
	memset(&self->t, 0, sizeof(self->t));
}

FIXTURE_TEARDOWN(limits)
{
	resp_trace_free(&self->t);
}

static void run(struct _test_data_limits *self, const char *s)
{
	resp_trace_run(&self->t, &self->l, (const uint8_t *)s, strlen(s), NULL, 0);
}

TEST_F(limits, max_bulk)
{
	char in[512];

	snprintf(in, sizeof(in), "*1\r\n$100\r\n%0100d\r\n", 0);
	run(self, in);
	ASSERT_EQ(0, self->t.final);
	ASSERT_EQ(1, self->t.ncmds);
	run(self, "*1\r\n$101\r\n");
	ASSERT_EQ(TRUTH_RESP_PROTO_ERROR, self->t.final);
	ASSERT_STREQ("invalid bulk length", self->t.err);
}

TEST_F(limits, max_args)
{
	run(self, "*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n");
	ASSERT_EQ(0, self->t.final);
	ASSERT_EQ(1, self->t.ncmds);
	run(self, "*5\r\n");
	ASSERT_EQ(TRUTH_RESP_PROTO_ERROR, self->t.final);
	ASSERT_STREQ("invalid multibulk length", self->t.err);
}

TEST_F(limits, inline_words_count_as_arguments)
{
	run(self, "a b c d\r\n");
	ASSERT_EQ(0, self->t.final);
	ASSERT_EQ(1, self->t.ncmds);
	run(self, "a b c d e\r\n");
	ASSERT_EQ(TRUTH_RESP_PROTO_ERROR, self->t.final);
	ASSERT_STREQ("too many arguments in inline request", self->t.err);
	/* the query limit holds for inline commands too */
	self->l.max_args = 100;
	self->l.max_query = 200;	/* 4 words fit with their bookkeeping, 16 do not */
	run(self, "a b c d\r\n");
	ASSERT_EQ(0, self->t.final);
	run(self, "a b c d e f g h i j k l m n o p\r\n");
	ASSERT_EQ(TRUTH_RESP_PROTO_ERROR, self->t.final);
	ASSERT_STREQ("command exceeds the query buffer limit", self->t.err);
}

TEST_F(limits, max_inline)
{
	char in[128];

	/* 40 bytes before LF, the CR included, is the most */
	snprintf(in, sizeof(in), "%039d\r\n", 7);
	run(self, in);
	ASSERT_EQ(0, self->t.final);
	ASSERT_EQ(1, self->t.ncmds);
	snprintf(in, sizeof(in), "%040d\r\n", 7);
	run(self, in);
	ASSERT_EQ(TRUTH_RESP_PROTO_ERROR, self->t.final);
	ASSERT_STREQ("too big inline request", self->t.err);
	/* no LF at all: refused as soon as the line passes the limit */
	snprintf(in, sizeof(in), "%041d", 7);
	run(self, in);
	ASSERT_EQ(TRUTH_RESP_PROTO_ERROR, self->t.final);
	ASSERT_STREQ("too big inline request", self->t.err);
	snprintf(in, sizeof(in), "%040d", 7);
	run(self, in);
	ASSERT_EQ(0, self->t.final);
}

TEST_F(limits, max_query)
{
	char in[1024], *p = in;

	/* four 90-byte arguments fit (4 * (90 + overhead) <= 400) only with small overhead */
	self->l.max_query = 4 * 90 + 4 * 40;
	p += sprintf(p, "*4\r\n");
	for (int i = 0; i < 4; i++)
		p += sprintf(p, "$90\r\n%090d\r\n", i);
	run(self, in);
	ASSERT_EQ(0, self->t.final);
	ASSERT_EQ(1, self->t.ncmds);
	self->l.max_query = 4 * 90;
	run(self, in);
	ASSERT_EQ(TRUTH_RESP_PROTO_ERROR, self->t.final);
	ASSERT_STREQ("command exceeds the query buffer limit", self->t.err);
	/* refused at the header, before the bytes arrive */
	run(self, "*4\r\n$90\r\n");
	ASSERT_EQ(0, self->t.final);
	run(self, "*4\r\n$90\r\n" "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" "\r\n"
	    "$90\r\n000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\r\n"
	    "$90\r\n000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\r\n"
	    "$90\r\n");
	ASSERT_EQ(TRUTH_RESP_PROTO_ERROR, self->t.final);
	ASSERT_STREQ("command exceeds the query buffer limit", self->t.err);
}

TEST_F(limits, header_length)
{
	/* TRUTH_RESP_MAX_HEADER bytes of digits and junk are read, one more is refused */
	char in[64];

	snprintf(in, sizeof(in), "*%032d\r\n", 1);
	run(self, in);
	ASSERT_STREQ("invalid multibulk length", self->t.err);
	snprintf(in, sizeof(in), "*%033d\r\n", 1);
	run(self, in);
	ASSERT_STREQ("too big mbulk count string", self->t.err);
	snprintf(in, sizeof(in), "*1\r\n$%033d", 1);
	run(self, in);
	ASSERT_STREQ("too big bulk count string", self->t.err);
}

TEST(defaults_are_documented_values)
{
	struct truth_resp_limits l;

	truth_resp_limits_default(&l);
	ASSERT_EQ(8u << 20, l.max_bulk);
	ASSERT_EQ(65536u, l.max_args);
	ASSERT_EQ(64u << 10, l.max_inline);
	ASSERT_EQ(32u << 20, l.max_query);
}

TEST(str2ll_is_redis_strict)
{
	static const struct { const char *s; int ok; long long v; } c[] = {
		{ "0", 1, 0 }, { "1", 1, 1 }, { "-1", 1, -1 },
		{ "9223372036854775807", 1, 9223372036854775807LL },
		{ "-9223372036854775808", 1, -9223372036854775807LL - 1 },
		{ "9223372036854775808", 0, 0 }, { "-9223372036854775809", 0, 0 },
		{ "99999999999999999999", 0, 0 }, { "", 0, 0 }, { "-", 0, 0 },
		{ "+1", 0, 0 }, { "01", 0, 0 }, { "-0", 0, 0 }, { " 1", 0, 0 },
		{ "1 ", 0, 0 }, { "1a", 0, 0 }, { "0x10", 0, 0 }, { "1.0", 0, 0 },
		{ "00", 0, 0 }, { "--1", 0, 0 },
	};
	unsigned int i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		long long v = 12345;

		EXPECT_EQ(c[i].ok, truth_resp_str2ll(c[i].s, strlen(c[i].s), &v))
			TH_LOG("'%s'", c[i].s);
		if (c[i].ok)
			EXPECT_EQ(c[i].v, v);
	}
	/* binary: a NUL inside is not a digit */
	{
		long long v;

		EXPECT_FALSE(truth_resp_str2ll("1\0", 2, &v));
	}
}

TEST_HARNESS_MAIN
