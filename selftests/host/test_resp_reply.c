// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of the RESP reply writer (agent/resp/reply.c): the exact
 * bytes of every reply type in RESP2 and in RESP3, the RESP2 fallbacks
 * Redis uses for RESP3-only types, error sanitising, the redirect errors,
 * and the output buffer's bookkeeping.
 */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resp/resp.h"
#include "kselftest_harness.h"

FIXTURE(out) {
	struct truth_resp_out o;
};

FIXTURE_VARIANT(out) {
	int proto;	/* the RESP version the reader speaks */
};

FIXTURE_VARIANT_ADD(out, resp2) { .proto = 2 };
FIXTURE_VARIANT_ADD(out, resp3) { .proto = 3 };

FIXTURE_SETUP(out)
{
	truth_resp_out_init(&self->o);
	ASSERT_EQ(2, self->o.proto);
	self->o.proto = variant->proto;
}

FIXTURE_TEARDOWN(out)
{
	truth_resp_out_free(&self->o);
}

static int is(struct truth_resp_out *o, const char *exp, size_t n)
{
	int ok = o->len == n && memcmp(o->buf, exp, n) == 0;

	if (!ok)
		fprintf(stderr, "#   got %zu bytes: %.*s\n", o->len, (int)o->len, o->buf);
	o->len = 0;
	return ok;
}

/* Exactly these bytes were written; then the buffer is emptied. */
#define IS(lit)		EXPECT_TRUE(is(&self->o, lit, sizeof(lit) - 1))
/* RESP2 bytes or RESP3 bytes, by variant. */
#define IS2_3(l2, l3)	do { if (variant->proto == 3) { IS(l3); } else { IS(l2); } } while (0)

TEST_F(out, same_in_both)
{
	truth_resp_add_simple(&self->o, "OK");
	IS("+OK\r\n");
	truth_resp_add_error(&self->o, "ERR bad thing");
	IS("-ERR bad thing\r\n");
	truth_resp_add_error(&self->o, TRUTH_RESP_ERR_WRONGTYPE);
	IS("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
	truth_resp_add_errorf(&self->o, "ERR %d and %s", 42, "x");
	IS("-ERR 42 and x\r\n");
	truth_resp_add_int(&self->o, 0);
	IS(":0\r\n");
	truth_resp_add_int(&self->o, -9223372036854775807LL - 1);
	IS(":-9223372036854775808\r\n");
	truth_resp_add_bulk(&self->o, "a\r\n\0b", 5);
	IS("$5\r\na\r\n\0b\r\n");
	truth_resp_add_bulk(&self->o, "", 0);
	IS("$0\r\n\r\n");
	truth_resp_add_bulk_str(&self->o, "hello");
	IS("$5\r\nhello\r\n");
	truth_resp_add_array(&self->o, 3);
	IS("*3\r\n");
	truth_resp_add_array(&self->o, 0);
	IS("*0\r\n");
}

TEST_F(out, line_types_never_break_framing)
{
	/* CR and LF inside a status or error line become spaces, as Redis does */
	truth_resp_add_error(&self->o, "ERR two\r\nlines");
	IS("-ERR two  lines\r\n");
	truth_resp_add_simple(&self->o, "a\nb");
	IS("+a b\r\n");
	truth_resp_add_errorf(&self->o, "ERR %s", "x\ry");
	IS("-ERR x y\r\n");
}

TEST_F(out, long_formatted_error)
{
	char big[1000];
	size_t n;

	memset(big, 'e', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	truth_resp_add_errorf(&self->o, "ERR %s", big);
	n = self->o.len;
	ASSERT_EQ(1 + 4 + 999 + 2, n);
	ASSERT_EQ(0, memcmp(self->o.buf, "-ERR eee", 8));
	ASSERT_EQ(0, memcmp(self->o.buf + n - 3, "e\r\n", 3));
}

TEST_F(out, nulls)
{
	truth_resp_add_null(&self->o);
	IS2_3("$-1\r\n", "_\r\n");
	truth_resp_add_null_array(&self->o);
	IS2_3("*-1\r\n", "_\r\n");
}

TEST_F(out, aggregates)
{
	truth_resp_add_map(&self->o, 2);
	IS2_3("*4\r\n", "%2\r\n");
	truth_resp_add_map(&self->o, 0);
	IS2_3("*0\r\n", "%0\r\n");
	truth_resp_add_set(&self->o, 3);
	IS2_3("*3\r\n", "~3\r\n");
	truth_resp_add_push(&self->o, 2);
	IS2_3("*2\r\n", ">2\r\n");
}

TEST_F(out, doubles)
{
	truth_resp_add_double(&self->o, 1.5);
	IS2_3("$3\r\n1.5\r\n", ",1.5\r\n");
	truth_resp_add_double(&self->o, -0.25);
	IS2_3("$5\r\n-0.25\r\n", ",-0.25\r\n");
	truth_resp_add_double(&self->o, 0.1);
	IS2_3("$19\r\n0.10000000000000001\r\n", ",0.10000000000000001\r\n");
	truth_resp_add_double(&self->o, 10);
	IS2_3("$2\r\n10\r\n", ",10\r\n");
	truth_resp_add_double(&self->o, INFINITY);
	IS2_3("$3\r\ninf\r\n", ",inf\r\n");
	truth_resp_add_double(&self->o, -INFINITY);
	IS2_3("$4\r\n-inf\r\n", ",-inf\r\n");
	truth_resp_add_double(&self->o, NAN);
	IS2_3("$3\r\nnan\r\n", ",nan\r\n");
}

TEST_F(out, booleans_and_verbatim)
{
	truth_resp_add_bool(&self->o, true);
	IS2_3(":1\r\n", "#t\r\n");
	truth_resp_add_bool(&self->o, false);
	IS2_3(":0\r\n", "#f\r\n");
	truth_resp_add_verbatim(&self->o, "txt", "a\r\nb", 4);
	IS2_3("$4\r\na\r\nb\r\n", "=8\r\ntxt:a\r\nb\r\n");
}

TEST_F(out, redirects)
{
	truth_resp_add_moved(&self->o, 2, "10.1.2.3:6379");
	IS("-MOVED 2 10.1.2.3:6379\r\n");
	truth_resp_add_moved(&self->o, 18446744073709551615ULL, "::1:7000");
	IS("-MOVED 18446744073709551615 ::1:7000\r\n");
	truth_resp_add_tryagain(&self->o);
	IS("-TRYAGAIN no leader elected, retry later\r\n");
	truth_resp_add_proto_error(&self->o, "invalid bulk length");
	IS("-ERR Protocol error: invalid bulk length\r\n");
}

TEST_F(out, raw_append_and_consume)
{
	truth_resp_out_append(&self->o, "abc", 3);
	truth_resp_out_printf(&self->o, "%d-%s", 12, "z");
	ASSERT_EQ(7, self->o.len);
	ASSERT_EQ(0, memcmp(self->o.buf, "abc12-z", 7));
	truth_resp_out_consume(&self->o, 2);
	ASSERT_EQ(5, self->o.len);
	ASSERT_EQ(0, memcmp(self->o.buf, "c12-z", 5));
	truth_resp_out_consume(&self->o, 99);
	ASSERT_EQ(0, self->o.len);
	ASSERT_FALSE(self->o.nomem);
}

TEST_F(out, grows_across_many_appends)
{
	size_t i;

	for (i = 0; i < 100000; i++)
		truth_resp_add_int(&self->o, (long long)(i % 10));
	ASSERT_EQ(100000 * 4, self->o.len);
	ASSERT_GE(self->o.cap, self->o.len);
	ASSERT_EQ(0, memcmp(self->o.buf + 4 * 99999, ":9\r\n", 4));
	ASSERT_FALSE(self->o.nomem);
}

TEST_F(out, nomem_is_sticky_and_silent)
{
	/* once marked, appends change nothing (the connection is being closed) */
	truth_resp_add_simple(&self->o, "OK");
	self->o.nomem = true;
	truth_resp_add_simple(&self->o, "MORE");
	truth_resp_add_bulk(&self->o, "x", 1);
	IS("+OK\r\n");
}

TEST_HARNESS_MAIN
