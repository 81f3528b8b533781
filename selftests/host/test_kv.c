// SPDX-License-Identifier: GPL-2.0
/*
 * truthd's state machine (agent/kv): a write request survives
 * encode -> log entry -> apply with the reply it would have had; expiry
 * follows the time stamped in the entry, not the applier's clock; two
 * replicas applying the same entries at different times agree; snapshots
 * round-trip; entries and snapshots that do not decode are refused and
 * change nothing.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv/kv.h"

#include "kselftest_harness.h"

/* Parse one command line into a request (argv points into static storage). */
static struct truth_resp_arg args[8];

static int req_of(struct truth_resp_request *req, int argc, const char **argv)
{
	struct truth_resp_cmd cmd = { .argc = (unsigned int)argc, .argv = args };
	struct truth_resp_out o;
	int i, r;

	for (i = 0; i < argc; i++) {
		args[i].ptr = argv[i];
		args[i].len = strlen(argv[i]);
	}
	truth_resp_out_init(&o);
	r = truth_resp_request_parse(&cmd, req, &o);
	truth_resp_out_free(&o);
	return r;
}

/* Encode argv at time now, apply to kv; the reply as text in out. */
static int run(struct truth_kv *kv, int64_t now, char *out, size_t cap, int argc, ...)
{
	const char *argv[8];
	struct truth_resp_request req;
	struct truth_resp_out o;
	uint8_t *buf;
	va_list ap;
	long len;
	int i, r;

	va_start(ap, argc);
	for (i = 0; i < argc; i++)
		argv[i] = va_arg(ap, const char *);
	va_end(ap);
	if (req_of(&req, argc, argv))
		return -100;
	len = truth_kv_encode(&req, now, &buf);
	if (len < 0)
		return (int)len;
	truth_resp_out_init(&o);
	r = truth_kv_apply(kv, buf, (size_t)len, &o);
	free(buf);
	snprintf(out, cap, "%.*s", (int)o.len, o.buf ? o.buf : "");
	truth_resp_out_free(&o);
	return r;
}

static void get(struct truth_kv *kv, const char *key, int64_t now, char *out, size_t cap)
{
	const char *argv[] = { "GET", key };
	struct truth_resp_request req;
	struct truth_resp_out o;

	req_of(&req, 2, argv);
	truth_resp_out_init(&o);
	truth_kv_read(kv, &req, now, &o);
	snprintf(out, cap, "%.*s", (int)o.len, o.buf);
	truth_resp_out_free(&o);
}

TEST(writes_apply_with_their_replies)
{
	struct truth_kv kv;
	char out[256];

	ASSERT_EQ(0, truth_kv_init(&kv));
	ASSERT_EQ(0, run(&kv, 1000, out, sizeof(out), 3, "SET", "k", "v"));
	EXPECT_STREQ("+OK\r\n", out);
	ASSERT_EQ(0, run(&kv, 1000, out, sizeof(out), 4, "SET", "k", "w", "NX"));
	EXPECT_STREQ("$-1\r\n", out);
	ASSERT_EQ(0, run(&kv, 1000, out, sizeof(out), 2, "INCR", "n"));
	EXPECT_STREQ(":1\r\n", out);
	ASSERT_EQ(0, run(&kv, 1000, out, sizeof(out), 3, "DECRBY", "n", "5"));
	EXPECT_STREQ(":-4\r\n", out);
	ASSERT_EQ(0, run(&kv, 1000, out, sizeof(out), 2, "INCR", "k"));
	EXPECT_STREQ("-ERR value is not an integer or out of range\r\n", out);
	ASSERT_EQ(0, run(&kv, 1000, out, sizeof(out), 4, "DEL", "k", "n", "none"));
	EXPECT_STREQ(":2\r\n", out);
	truth_kv_fini(&kv);
}

TEST(reads_are_not_log_entries)
{
	const char *argv[] = { "GET", "k" };
	struct truth_resp_request req;
	uint8_t *buf = NULL;

	ASSERT_EQ(0, req_of(&req, 2, argv));
	EXPECT_EQ(-EINVAL, truth_kv_encode(&req, 1, &buf));
	EXPECT_EQ(NULL, buf);
}

TEST(expiry_follows_the_stamped_time)
{
	struct truth_kv a, b;
	char out[64];

	ASSERT_EQ(0, truth_kv_init(&a));
	ASSERT_EQ(0, truth_kv_init(&b));
	/* the leader stamped 10,000 ms; PX 500 expires at 10,500 everywhere */
	run(&a, 10000, out, sizeof(out), 5, "SET", "t", "x", "PX", "500");
	run(&b, 10000, out, sizeof(out), 5, "SET", "t", "x", "PX", "500");
	get(&a, "t", 10500, out, sizeof(out));
	EXPECT_STREQ("$1\r\nx\r\n", out);
	get(&b, "t", 10501, out, sizeof(out));
	EXPECT_STREQ("$-1\r\n", out);
	truth_kv_fini(&a);
	truth_kv_fini(&b);
}

TEST(snapshot_round_trip)
{
	struct truth_kv a, b;
	uint8_t *snap;
	char out[64], key[16];
	long len;
	int i;

	ASSERT_EQ(0, truth_kv_init(&a));
	ASSERT_EQ(0, truth_kv_init(&b));
	for (i = 0; i < 200; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		run(&a, 1000, out, sizeof(out), 3, "SET", key, key);
	}
	run(&a, 1000, out, sizeof(out), 5, "SET", "ttl", "y", "EX", "10");
	len = truth_kv_snapshot(&a, &snap);
	ASSERT_GT(len, 16);
	ASSERT_EQ(0, truth_kv_restore(&b, snap, (size_t)len));
	EXPECT_EQ(201, truth_resp_store_size(b.store, 1000));
	get(&b, "k137", 1000, out, sizeof(out));
	EXPECT_STREQ("$4\r\nk137\r\n", out);
	get(&b, "ttl", 11001, out, sizeof(out));	/* expiry kept */
	EXPECT_STREQ("$-1\r\n", out);
	/* damaged: refused, the store as it was */
	EXPECT_EQ(-EINVAL, truth_kv_restore(&b, snap, (size_t)len - 3));
	snap[0] = 'X';
	EXPECT_EQ(-EINVAL, truth_kv_restore(&b, snap, (size_t)len));
	/* unchanged: the 200 keys (reading "ttl" late dropped it) */
	EXPECT_EQ(200, truth_resp_store_size(b.store, 1000));
	get(&b, "k0", 1000, out, sizeof(out));
	EXPECT_STREQ("$2\r\nk0\r\n", out);
	free(snap);
	truth_kv_fini(&a);
	truth_kv_fini(&b);
}

TEST(bad_entries_refused)
{
	static const uint8_t bad[][24] = {
		{ 2, 1 },				/* version */
		{ 1, 9 },				/* op */
		{ 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff },	/* SET cut short */
	};
	struct truth_resp_out o;
	struct truth_kv kv;
	unsigned int i;

	ASSERT_EQ(0, truth_kv_init(&kv));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		truth_resp_out_init(&o);
		EXPECT_EQ(-EINVAL, truth_kv_apply(&kv, bad[i], sizeof(bad[i]), &o));
		EXPECT_EQ('-', o.buf[0]);
		truth_resp_out_free(&o);
	}
	EXPECT_EQ(-EINVAL, truth_kv_apply(&kv, bad[0], 3, NULL));
	EXPECT_EQ(0, truth_resp_store_size(kv.store, 0));
	truth_kv_fini(&kv);
}

TEST_HARNESS_MAIN
