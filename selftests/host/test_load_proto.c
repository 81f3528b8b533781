// SPDX-License-Identifier: GPL-2.0
/*
 * The reply parsers and request writers of truth-load
 * (selftests/tools/load_proto.h): the cluster tests' verdicts rest on them
 * reading a redirect as "not executed", a value as its version, and a
 * partial reply as "wait", never as something else.
 */
#include "kselftest_harness.h"

#include "../tools/load_proto.h"

static long parse_all(const char *s, struct lp_reply *r)
{
	memset(r, 0, sizeof(*r));
	return resp_parse(s, strlen(s), r);
}

TEST(resp_status_and_values)
{
	struct lp_reply r;

	ASSERT_EQ(5, parse_all("+OK\r\n", &r));
	EXPECT_EQ(LP_OK, r.kind);
	ASSERT_EQ(11, parse_all("$5\r\nv12:x\r\n", &r));
	EXPECT_EQ(LP_VALUE, r.kind);
	EXPECT_EQ(5, r.val_len);
	EXPECT_EQ(0, memcmp(r.val, "v12:x", 5));
	ASSERT_EQ(5, parse_all("$-1\r\n", &r));
	EXPECT_EQ(LP_NIL, r.kind);
	ASSERT_EQ(5, parse_all(":42\r\n", &r));
	EXPECT_EQ(LP_INT, r.kind);
	EXPECT_EQ(42, r.num);
}

TEST(resp_redirects_and_errors)
{
	struct lp_reply r;

	ASSERT_LT(0, parse_all("-MOVED 0 10.77.1.2:6379\r\n", &r));
	EXPECT_EQ(LP_MOVED, r.kind);
	EXPECT_STREQ("10.77.1.2:6379", r.moved);
	ASSERT_LT(0, parse_all("-MOVED 3 ::1:6380\r\n", &r));
	EXPECT_STREQ("::1:6380", r.moved);
	ASSERT_LT(0, parse_all("-TRYAGAIN no leader elected, retry later\r\n", &r));
	EXPECT_EQ(LP_TRYAGAIN, r.kind);
	ASSERT_LT(0, parse_all("-ERR something\r\n", &r));
	EXPECT_EQ(LP_ERROR, r.kind);
	EXPECT_STREQ("ERR something", r.err);
}

TEST(resp_partial_is_wait_garbage_is_error)
{
	const char *full = "$5\r\nhello\r\n";
	struct lp_reply r;
	size_t i;

	/* every strict prefix: need more bytes */
	for (i = 0; i < strlen(full); i++)
		EXPECT_EQ(0, resp_parse(full, i, &r));
	EXPECT_EQ(-1, parse_all("hello\r\n", &r));
	EXPECT_EQ(-1, parse_all("+OK\n", &r));
}

TEST(resp_requests)
{
	struct lp_buf b = { 0 };

	resp_set(&b, "k1", "ab", 2);
	resp_get(&b, "k1");
	lp_put(&b, "", 1);
	EXPECT_STREQ("*3\r\n$3\r\nSET\r\n$2\r\nk1\r\n$2\r\nab\r\n*2\r\n$3\r\nGET\r\n$2\r\nk1\r\n", b.p);
	free(b.p);
}

TEST(base64_round_trip)
{
	static const char *const in[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *const want[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	char out[16];
	size_t i, n;

	for (i = 0; i < 7; i++) {
		struct lp_buf b = { 0 };

		b64_put(&b, (const unsigned char *)in[i], strlen(in[i]));
		lp_put(&b, "\"", 2);
		EXPECT_STREQ(want[i], strndupa(b.p, b.len - 2));
		n = b64_dec(b.p, b.p + b.len, out, sizeof(out));
		EXPECT_EQ(strlen(in[i]), n);
		EXPECT_EQ(0, memcmp(in[i], out, n));
		free(b.p);
	}
}

TEST(etcd_put_and_range)
{
	const char *put = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"header\":{}}";
	const char *range = "HTTP/1.1 200 OK\r\nContent-Length: 46\r\n\r\n{\"kvs\":[{\"key\":\"azE=\",\"value\":\"djc6eHg=\"}]}   ";
	const char *none = "HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\n{\"header\":{} }";
	const char *chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nd\r\n{\"header\":{}}\r\n0\r\n\r\n";
	const char *bad = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 5\r\n\r\nerror";
	struct lp_reply r = { 0 };
	size_t i;

	ASSERT_EQ((long)strlen(put), etcd_parse(put, strlen(put), true, &r));
	EXPECT_EQ(LP_OK, r.kind);
	for (i = 0; i < strlen(put); i++)
		EXPECT_EQ(0, etcd_parse(put, i, true, &r));
	ASSERT_EQ((long)strlen(range), etcd_parse(range, strlen(range), false, &r));
	EXPECT_EQ(LP_VALUE, r.kind);
	EXPECT_EQ(5, r.val_len);
	EXPECT_EQ(0, memcmp(r.val, "v7:xx", 5));
	ASSERT_EQ((long)strlen(none), etcd_parse(none, strlen(none), false, &r));
	EXPECT_EQ(LP_NIL, r.kind);
	ASSERT_EQ((long)strlen(chunked), etcd_parse(chunked, strlen(chunked), true, &r));
	EXPECT_EQ(LP_OK, r.kind);
	ASSERT_EQ((long)strlen(bad), etcd_parse(bad, strlen(bad), true, &r));
	EXPECT_EQ(LP_ERROR, r.kind);
	EXPECT_EQ(-1, etcd_parse("garbage\r\n\r\n", 11, true, &r));
}

TEST(etcd_request)
{
	struct lp_buf b = { 0 };

	etcd_req(&b, "127.0.0.1:2379", "/v3/kv/put", "k1", "ab", 2);
	lp_put(&b, "", 1);
	EXPECT_STREQ("POST /v3/kv/put HTTP/1.1\r\nHost: 127.0.0.1:2379\r\n"
		     "Content-Type: application/json\r\nContent-Length: 29\r\n\r\n"
		     "{\"key\":\"azE=\",\"value\":\"YWI=\"}", b.p);
	free(b.p);
}

TEST_HARNESS_MAIN
