// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of the RESP commands end to end: request bytes into a
 * session backed by the reference store, exact reply bytes out, for every
 * command's happy path and error paths, HELLO 3 switching the reply types,
 * pipelining, QUIT and protocol errors closing, deferral and redirects.
 * The expected bytes are what Redis 7.0 sends for the same requests (where
 * truthd differs, e.g. HELLO's server name, the test says so).
 */

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resp/resp.h"
#include "kselftest_harness.h"

#define T0	1700000000000LL	/* the fixture's "now", unix ms */

FIXTURE(cmd) {
	struct truth_resp_session s;
	struct truth_resp_store_backend b;
	struct truth_resp_handler h;
	size_t used;
};

FIXTURE_SETUP(cmd)
{
	ASSERT_EQ(0, truth_resp_session_init(&self->s, 7, NULL));
	self->b.store = truth_resp_store_new();
	ASSERT_NE(NULL, self->b.store);
	self->b.now_ms = T0;
	truth_resp_store_handler(&self->h, &self->b);
}

FIXTURE_TEARDOWN(cmd)
{
	truth_resp_session_fini(&self->s);
	truth_resp_store_free(self->b.store);
}

static void feed_raw(struct _test_data_cmd *self, const char *in, size_t n)
{
	self->s.out.len = 0;
	self->used = truth_resp_session_feed(&self->s, in, n, &self->h);
}

/* Send one command as a RESP array of the NULL-terminated C strings. */
static void feedv(struct _test_data_cmd *self, const char *a0, ...)
{
	char buf[8192];
	const char *args[64];
	size_t off, n = 0, i;
	va_list ap;

	va_start(ap, a0);
	for (args[n++] = a0; (args[n] = va_arg(ap, const char *)); n++)
		;
	va_end(ap);
	off = (size_t)snprintf(buf, sizeof(buf), "*%zu\r\n", n);
	for (i = 0; i < n; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "$%zu\r\n%s\r\n",
					strlen(args[i]), args[i]);
	feed_raw(self, buf, off);
}

static char *escape(const char *p, size_t n)
{
	char *s = malloc(n * 4 + 1), *d = s;
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\r')
			d += sprintf(d, "\\r");
		else if (c == '\n')
			d += sprintf(d, "\\n");
		else if (c < 0x20 || c >= 0x7f)
			d += sprintf(d, "\\x%02x", c);
		else
			*d++ = (char)c;
	}
	*d = '\0';
	return s;
}

static int out_is(struct _test_data_cmd *self, const char *exp, size_t n)
{
	int ok = self->s.out.len == n && memcmp(self->s.out.buf, exp, n) == 0;

	if (!ok) {
		char *a = escape(self->s.out.buf ? self->s.out.buf : "", self->s.out.len);
		char *e = escape(exp, n);

		fprintf(stderr, "#   got:      %s\n#   expected: %s\n", a, e);
		free(a);
		free(e);
	}
	return ok;
}

/* The last feed produced exactly these reply bytes. */
#define OUT(lit)	EXPECT_TRUE(out_is(self, lit, sizeof(lit) - 1))
/* One command (C strings) and its exact reply. */
#define REPLY(lit, ...)	do { feedv(self, __VA_ARGS__, NULL); OUT(lit); } while (0)

#define NOT_INT		"-ERR value is not an integer or out of range\r\n"
#define SYNTAX		"-ERR syntax error\r\n"
#define BAD_EXPIRE	"-ERR invalid expire time in 'set' command\r\n"

TEST_F(cmd, ping_echo)
{
	REPLY("+PONG\r\n", "PING");
	REPLY("+PONG\r\n", "pInG");
	REPLY("$5\r\nhello\r\n", "PING", "hello");
	REPLY("-ERR wrong number of arguments for 'ping' command\r\n", "PING", "a", "b");
	REPLY("$3\r\nabc\r\n", "ECHO", "abc");
	REPLY("$0\r\n\r\n", "echo", "");
	REPLY("-ERR wrong number of arguments for 'echo' command\r\n", "ECHO");
	REPLY("-ERR wrong number of arguments for 'echo' command\r\n", "ECHO", "a", "b");
	/* telnet style */
	feed_raw(self, "PING\r\n", 6);
	OUT("+PONG\r\n");
	ASSERT_EQ(6, self->used);
}

TEST_F(cmd, get_set_basic)
{
	REPLY("$-1\r\n", "GET", "k");
	REPLY("+OK\r\n", "SET", "k", "v");
	REPLY("$1\r\nv\r\n", "GET", "k");
	REPLY("+OK\r\n", "set", "k", "value two");
	REPLY("$9\r\nvalue two\r\n", "get", "k");
	REPLY("-ERR wrong number of arguments for 'get' command\r\n", "GET");
	REPLY("-ERR wrong number of arguments for 'get' command\r\n", "GET", "a", "b");
	REPLY("-ERR wrong number of arguments for 'set' command\r\n", "SET", "k");
	REPLY("-ERR wrong number of arguments for 'set' command\r\n", "SET");
}

TEST_F(cmd, binary_safe_keys_and_values)
{
	static const char set[] = "*3\r\n$3\r\nSET\r\n$3\r\nk\0\n\r\n$5\r\n\r\n\0\r\n\r\n";
	static const char get[] = "*2\r\n$3\r\nGET\r\n$3\r\nk\0\n\r\n";
	static const char get2[] = "*2\r\n$3\r\nGET\r\n$2\r\nk\0\r\n";

	feed_raw(self, set, sizeof(set) - 1);
	OUT("+OK\r\n");
	feed_raw(self, get, sizeof(get) - 1);
	OUT("$5\r\n\r\n\0\r\n\r\n");
	/* a prefix of the key up to the NUL is another key */
	feed_raw(self, get2, sizeof(get2) - 1);
	OUT("$-1\r\n");
}

TEST_F(cmd, set_nx_xx_get)
{
	REPLY("$-1\r\n", "SET", "k", "1", "XX");
	REPLY("$-1\r\n", "GET", "k");
	REPLY("+OK\r\n", "SET", "k", "1", "NX");
	REPLY("$-1\r\n", "SET", "k", "2", "nx");
	REPLY("$1\r\n1\r\n", "GET", "k");
	REPLY("+OK\r\n", "SET", "k", "3", "xx");
	REPLY("$-1\r\n", "SET", "k", "4", "NX", "NX");	/* repeating is fine in Redis */
	REPLY("$1\r\n3\r\n", "GET", "k");
	REPLY(SYNTAX, "SET", "k", "v", "NX", "XX");
	REPLY(SYNTAX, "SET", "k", "v", "XX", "NX");
	/* GET: the old value, whether or not the set happens */
	REPLY("$1\r\n3\r\n", "SET", "k", "5", "GET");
	REPLY("$1\r\n5\r\n", "SET", "k", "6", "NX", "GET");
	REPLY("$1\r\n5\r\n", "GET", "k");
	REPLY("$-1\r\n", "SET", "new", "x", "GET");
	REPLY("$1\r\nx\r\n", "GET", "new");
	REPLY("$-1\r\n", "SET", "nope", "x", "XX", "GET");
	REPLY("$-1\r\n", "GET", "nope");
}

TEST_F(cmd, set_option_errors)
{
	REPLY(SYNTAX, "SET", "k", "v", "FOO");
	REPLY(SYNTAX, "SET", "k", "v", "EX");
	REPLY(SYNTAX, "SET", "k", "v", "PX");
	REPLY(SYNTAX, "SET", "k", "v", "EX", "1", "PX", "1");
	REPLY(SYNTAX, "SET", "k", "v", "PX", "1", "EX", "1");
	REPLY(SYNTAX, "SET", "k", "v", "EX", "1", "KEEPTTL");
	REPLY(SYNTAX, "SET", "k", "v", "KEEPTTL", "EX", "1");
	REPLY(SYNTAX, "SET", "k", "v", "EXAT", "1", "PXAT", "1");
	REPLY(SYNTAX, "SET", "k", "v", "NXX");
	/* syntax is checked over all options before the expire value */
	REPLY(SYNTAX, "SET", "k", "v", "EX", "abc", "NX", "XX");
	REPLY(NOT_INT, "SET", "k", "v", "EX", "abc");
	REPLY(NOT_INT, "SET", "k", "v", "EX", "1.5");
	REPLY(NOT_INT, "SET", "k", "v", "PX", " 1");
	REPLY(NOT_INT, "SET", "k", "v", "PX", "99999999999999999999");
	REPLY(BAD_EXPIRE, "SET", "k", "v", "EX", "0");
	REPLY(BAD_EXPIRE, "SET", "k", "v", "EX", "-5");
	REPLY(BAD_EXPIRE, "SET", "k", "v", "PX", "0");
	REPLY(BAD_EXPIRE, "SET", "k", "v", "EX", "9223372036854776");
	/* PX that would overflow when added to now */
	REPLY(BAD_EXPIRE, "SET", "k", "v", "PX", "9223372036854775807");
	/* nothing was set by any of them */
	REPLY("$-1\r\n", "GET", "k");
}

TEST_F(cmd, set_expiry)
{
	REPLY("+OK\r\n", "SET", "k", "v", "EX", "10");
	self->b.now_ms = T0 + 10000;
	REPLY("$1\r\nv\r\n", "GET", "k");
	self->b.now_ms = T0 + 10001;
	REPLY("$-1\r\n", "GET", "k");
	REPLY("+OK\r\n", "SET", "k", "v", "px", "100");
	self->b.now_ms += 100;
	REPLY(":1\r\n", "EXISTS", "k");
	self->b.now_ms += 1;
	REPLY(":0\r\n", "EXISTS", "k");
	/* last EX wins */
	REPLY("+OK\r\n", "SET", "k", "v", "EX", "100", "EX", "1");
	self->b.now_ms += 1001;
	REPLY("$-1\r\n", "GET", "k");
	/* a plain SET drops the TTL, KEEPTTL keeps it */
	REPLY("+OK\r\n", "SET", "a", "1", "PX", "50");
	REPLY("+OK\r\n", "SET", "a", "2", "KEEPTTL");
	self->b.now_ms += 51;
	REPLY("$-1\r\n", "GET", "a");
	REPLY("+OK\r\n", "SET", "a", "1", "PX", "50");
	REPLY("+OK\r\n", "SET", "a", "2");
	self->b.now_ms += 51;
	REPLY("$1\r\n2\r\n", "GET", "a");
}

TEST_F(cmd, set_absolute_expiry)
{
	char at[32];

	snprintf(at, sizeof(at), "%lld", T0 + 500);
	REPLY("+OK\r\n", "SET", "k", "v", "PXAT", at);
	self->b.now_ms = T0 + 500;
	REPLY("$1\r\nv\r\n", "GET", "k");
	self->b.now_ms = T0 + 501;
	REPLY("$-1\r\n", "GET", "k");
	snprintf(at, sizeof(at), "%lld", (T0 + 3000) / 1000);
	REPLY("+OK\r\n", "SET", "k", "v", "EXAT", at);
	self->b.now_ms = T0 + 3000;
	REPLY("$1\r\nv\r\n", "GET", "k");
	/* in the past: OK, and the key is gone (Redis deletes it at once) */
	REPLY("+OK\r\n", "SET", "k", "v", "EXAT", "1");
	REPLY(":0\r\n", "EXISTS", "k");
}

TEST_F(cmd, del_exists)
{
	REPLY(":0\r\n", "DEL", "a");
	REPLY("+OK\r\n", "SET", "a", "1");
	REPLY("+OK\r\n", "SET", "b", "1");
	REPLY(":3\r\n", "EXISTS", "a", "b", "a", "c");
	REPLY(":2\r\n", "DEL", "a", "b", "c", "a");
	REPLY(":0\r\n", "EXISTS", "a", "b");
	REPLY("+OK\r\n", "SET", "e", "1", "PX", "1");
	self->b.now_ms += 2;
	REPLY(":0\r\n", "DEL", "e");
	REPLY("-ERR wrong number of arguments for 'del' command\r\n", "DEL");
	REPLY("-ERR wrong number of arguments for 'exists' command\r\n", "EXISTS");
}

TEST_F(cmd, incr_family)
{
	REPLY(":1\r\n", "INCR", "n");
	REPLY(":11\r\n", "INCRBY", "n", "10");
	REPLY(":10\r\n", "DECR", "n");
	REPLY(":-5\r\n", "DECRBY", "n", "15");
	REPLY(":-2\r\n", "incrby", "n", "3");
	REPLY("$2\r\n-2\r\n", "GET", "n");
	REPLY(":-1\r\n", "DECR", "fresh");
	REPLY(NOT_INT, "INCRBY", "n", "abc");
	REPLY(NOT_INT, "INCRBY", "n", "1 ");
	REPLY(NOT_INT, "INCRBY", "n", "+1");
	REPLY(NOT_INT, "DECRBY", "n", "9223372036854775808");
	REPLY("-ERR decrement would overflow\r\n", "DECRBY", "n", "-9223372036854775808");
	REPLY("+OK\r\n", "SET", "s", "abc");
	REPLY(NOT_INT, "INCR", "s");
	REPLY("+OK\r\n", "SET", "s", " 1");
	REPLY(NOT_INT, "INCR", "s");
	REPLY("+OK\r\n", "SET", "s", "01");
	REPLY(NOT_INT, "INCR", "s");
	REPLY("+OK\r\n", "SET", "big", "9223372036854775807");
	REPLY("-ERR increment or decrement would overflow\r\n", "INCR", "big");
	REPLY("$19\r\n9223372036854775807\r\n", "GET", "big");
	REPLY("+OK\r\n", "SET", "small", "-9223372036854775808");
	REPLY("-ERR increment or decrement would overflow\r\n", "DECR", "small");
	REPLY(":-9223372036854775807\r\n", "INCR", "small");
	REPLY("-ERR wrong number of arguments for 'incr' command\r\n", "INCR");
	REPLY("-ERR wrong number of arguments for 'incr' command\r\n", "INCR", "a", "1");
	REPLY("-ERR wrong number of arguments for 'incrby' command\r\n", "INCRBY", "a");
	REPLY("-ERR wrong number of arguments for 'decr' command\r\n", "DECR");
	REPLY("-ERR wrong number of arguments for 'decrby' command\r\n", "DECRBY", "a", "1", "2");
}

TEST_F(cmd, incr_keeps_ttl)
{
	REPLY("+OK\r\n", "SET", "n", "5", "PX", "100");
	REPLY(":6\r\n", "INCR", "n");
	self->b.now_ms += 101;
	REPLY("$-1\r\n", "GET", "n");
	REPLY(":1\r\n", "INCR", "n");
}

TEST_F(cmd, mget)
{
	REPLY("+OK\r\n", "SET", "a", "1");
	REPLY("+OK\r\n", "SET", "c", "");
	REPLY("*4\r\n$1\r\n1\r\n$-1\r\n$0\r\n\r\n$1\r\n1\r\n", "MGET", "a", "b", "c", "a");
	REPLY("-ERR wrong number of arguments for 'mget' command\r\n", "MGET");
}

TEST_F(cmd, unknown_command)
{
	char longarg[200];

	REPLY("-ERR unknown command 'FOO', with args beginning with: 'a' 'b c' \r\n",
	      "FOO", "a", "b c");
	REPLY("-ERR unknown command 'foo', with args beginning with: \r\n", "foo");
	REPLY("-ERR unknown command '', with args beginning with: \r\n", "");
	/* each CR and LF in the echoed words becomes a space */
	REPLY("-ERR unknown command 'a  b', with args beginning with: 'c d' \r\n", "a\r\nb", "c\nd");
	memset(longarg, 'x', sizeof(longarg) - 1);
	longarg[sizeof(longarg) - 1] = '\0';
	/* the list stops once 128 bytes long: 11 used by '12345678', 117 left */
	feedv(self, "nope", "12345678", longarg, "never", NULL);
	{
		char exp[256];
		int n = snprintf(exp, sizeof(exp), "-ERR unknown command 'nope', with args "
				 "beginning with: '12345678' '%.117s' \r\n", longarg);

		EXPECT_TRUE(out_is(self, exp, (size_t)n));
	}
	/* a NUL ends a word, as in Redis's %s */
	feed_raw(self, "*2\r\n$3\r\nX\0Y\r\n$1\r\n\0\r\n", 20);
	OUT("-ERR unknown command 'X', with args beginning with: '' \r\n");
	/* the session goes on */
	REPLY("+PONG\r\n", "PING");
}

TEST_F(cmd, hello)
{
	REPLY("*14\r\n$6\r\nserver\r\n$5\r\ntruth\r\n$7\r\nversion\r\n$5\r\n0.1.0\r\n"
	      "$5\r\nproto\r\n:2\r\n$2\r\nid\r\n:7\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n"
	      "$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n", "HELLO");
	REPLY("%7\r\n$6\r\nserver\r\n$5\r\ntruth\r\n$7\r\nversion\r\n$5\r\n0.1.0\r\n"
	      "$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:7\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n"
	      "$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n", "HELLO", "3");
	ASSERT_EQ(3, self->s.out.proto);
	REPLY("_\r\n", "GET", "missing");
	REPLY("+OK\r\n", "SET", "one", "1");
	REPLY("*2\r\n$1\r\n1\r\n_\r\n", "MGET", "one", "missing");
	REPLY("-NOPROTO unsupported protocol version\r\n", "HELLO", "4");
	REPLY("-NOPROTO unsupported protocol version\r\n", "HELLO", "1");
	REPLY("-ERR Protocol version is not an integer or out of range\r\n", "HELLO", "three");
	REPLY("-ERR Syntax error in HELLO option 'FOO'\r\n", "HELLO", "3", "FOO");
	REPLY("-ERR Syntax error in HELLO option 'SETNAME'\r\n", "HELLO", "3", "SETNAME");
	REPLY("-ERR truthd has no authentication, connect without AUTH\r\n",
	      "HELLO", "3", "AUTH", "default", "pw");
	REPLY("-ERR Client names cannot contain spaces, newlines or special characters.\r\n",
	      "HELLO", "2", "SETNAME", "a b");
	/* failed HELLOs changed nothing */
	ASSERT_EQ(3, self->s.out.proto);
	ASSERT_EQ(NULL, self->s.name);
	feedv(self, "HELLO", "2", "setname", "app-1", NULL);
	ASSERT_EQ(2, self->s.out.proto);
	ASSERT_STREQ("app-1", self->s.name);
	REPLY("$-1\r\n", "GET", "missing");
}

TEST_F(cmd, hello_role_follows_handler)
{
	self->h.leader = false;
	feedv(self, "HELLO", "3", NULL);
	ASSERT_NE(NULL, memmem(self->s.out.buf, self->s.out.len,
			       "$4\r\nrole\r\n$7\r\nreplica\r\n", 23));
}

TEST_F(cmd, info)
{
	static const char server[] =
		"# Server\r\ntruth_version:0.1.0\r\nredis_version:7.0.0\r\n"
		"redis_mode:standalone\r\nresp_proto_rev:3\r\nnode_id:1\r\nrole:master\r\n";
	char exp[1024];
	int n;

	n = snprintf(exp, sizeof(exp), "$%zu\r\n%s\r\n# Keyspace\r\n\r\n",
		     sizeof(server) - 1 + 14, server);
	feedv(self, "INFO", NULL);
	EXPECT_TRUE(out_is(self, exp, (size_t)n));
	REPLY("+OK\r\n", "SET", "a", "1", "EX", "5");
	REPLY("+OK\r\n", "SET", "b", "1");
	REPLY("$44\r\n# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl=0\r\n\r\n", "INFO", "keyspace");
	n = snprintf(exp, sizeof(exp), "$%zu\r\n%s\r\n", sizeof(server) - 1, server);
	feedv(self, "INFO", "SERVER", NULL);
	EXPECT_TRUE(out_is(self, exp, (size_t)n));
	REPLY("$0\r\n\r\n", "INFO", "nosuchsection");
	feedv(self, "INFO", "everything", NULL);
	EXPECT_NE(NULL, memmem(self->s.out.buf, self->s.out.len, "db0:keys=2", 10));
	EXPECT_NE(NULL, memmem(self->s.out.buf, self->s.out.len, "truth_version", 13));
	feedv(self, "HELLO", "3", NULL);
	REPLY("=48\r\ntxt:# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl=0\r\n\r\n", "INFO", "keyspace");
}

TEST_F(cmd, command)
{
	REPLY(":36\r\n", "COMMAND", "COUNT");
	REPLY("*1\r\n*7\r\n$3\r\nget\r\n:2\r\n*1\r\n+readonly\r\n:1\r\n:1\r\n:1\r\n*0\r\n",
	      "COMMAND", "INFO", "GET");
	REPLY("*2\r\n*7\r\n$3\r\ndel\r\n:-2\r\n*1\r\n+write\r\n:1\r\n:-1\r\n:1\r\n*0\r\n*-1\r\n",
	      "command", "info", "del", "nosuch");
	REPLY("*0\r\n", "COMMAND", "DOCS");
	REPLY("-ERR unknown subcommand 'FOO'. Try COMMAND HELP.\r\n", "COMMAND", "FOO");
	REPLY("-ERR wrong number of arguments for 'command|count' command\r\n",
	      "COMMAND", "COUNT", "x");
	REPLY("-ERR wrong number of arguments for 'command|help' command\r\n",
	      "COMMAND", "HELP", "x");
	feedv(self, "COMMAND", "help", NULL);
	{
		static const char head[] = "*14\r\n+COMMAND <subcommand> [<arg> [value] "
			"[opt] ...]. Subcommands are:\r\n+(no subcommand)\r\n";
		static const char tail[] = "+HELP\r\n+    Print this help.\r\n";

		ASSERT_LT(sizeof(head) + sizeof(tail), self->s.out.len);
		EXPECT_EQ(0, memcmp(self->s.out.buf, head, sizeof(head) - 1));
		EXPECT_EQ(0, memcmp(self->s.out.buf + self->s.out.len - (sizeof(tail) - 1),
				    tail, sizeof(tail) - 1));
	}
	feedv(self, "COMMAND", NULL);
	EXPECT_EQ(0, strncmp(self->s.out.buf, "*36\r\n*7\r\n$4\r\nping\r\n:-1\r\n*1\r\n+no-raft\r\n", 37));
	feedv(self, "COMMAND", "LIST", NULL);
	EXPECT_EQ(0, strncmp(self->s.out.buf, "*36\r\n$4\r\nping\r\n$4\r\necho\r\n", 24));
	feedv(self, "HELLO", "3", NULL);
	REPLY("%0\r\n", "COMMAND", "DOCS");
	REPLY("*1\r\n_\r\n", "COMMAND", "INFO", "nosuch");
}

TEST_F(cmd, command_table_is_consistent)
{
	unsigned int i;

	ASSERT_EQ(36, truth_resp_ncommands);
	for (i = 0; i < truth_resp_ncommands; i++) {
		const struct truth_resp_command *c = &truth_resp_commands[i];
		unsigned int kind = c->flags & (TRUTH_RESP_CMD_WRITE | TRUTH_RESP_CMD_READONLY |
						TRUTH_RESP_CMD_NORAFT);

		/* exactly one of write / readonly / no-raft */
		EXPECT_TRUE(kind == TRUTH_RESP_CMD_WRITE || kind == TRUTH_RESP_CMD_READONLY ||
			    kind == TRUTH_RESP_CMD_NORAFT) TH_LOG("%s", c->name);
		EXPECT_EQ(0, c->flags & ~__TRUTH_RESP_CMD_ALL);
		EXPECT_EQ(c, truth_resp_lookup(c->name, strlen(c->name)));
		EXPECT_NE(0, c->arity);
		/* keyspace commands name their keys, the others none */
		EXPECT_EQ(kind != TRUTH_RESP_CMD_NORAFT, c->first_key == 1) TH_LOG("%s", c->name);
	}
	EXPECT_EQ(NULL, truth_resp_lookup("get\0", 4));
	EXPECT_EQ(NULL, truth_resp_lookup("ge", 2));
	EXPECT_NE(NULL, truth_resp_lookup("GeT", 3));
}

TEST_F(cmd, quit_closes_after_reply)
{
	static const char in[] = "PING\r\nQUIT\r\nPING\r\n";

	feed_raw(self, in, sizeof(in) - 1);
	OUT("+PONG\r\n+OK\r\n");
	ASSERT_TRUE(self->s.closing);
	ASSERT_EQ(12, self->used);
	/* nothing more is read once closing */
	feed_raw(self, "PING\r\n", 6);
	ASSERT_EQ(0, self->used);
	ASSERT_EQ(0, self->s.out.len);
}

TEST_F(cmd, protocol_error_replies_then_closes)
{
	static const char in[] = "*1\r\n$4\r\nPING\r\n*1\r\n$-7\r\nPING\r\n";

	feed_raw(self, in, sizeof(in) - 1);
	OUT("+PONG\r\n-ERR Protocol error: invalid bulk length\r\n");
	ASSERT_TRUE(self->s.closing);
	ASSERT_EQ(1, self->s.commands);
	feed_raw(self, "PING\r\n", 6);
	ASSERT_EQ(0, self->used);
	ASSERT_EQ(0, self->s.out.len);
}

/* Replies to a pipeline fed whole, and fed split at every byte, are identical. */
TEST_F(cmd, pipeline_any_chunking)
{
	static const char in[] =
		"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n"
		"INCR a\r\n"
		"*2\r\n$4\r\nINCR\r\n$1\r\na\r\n"
		"*3\r\n$4\r\nMGET\r\n$1\r\na\r\n$1\r\nb\r\n"
		"GET\r\n"
		"nope x\r\n"
		"*2\r\n$4\r\nPING\r\n$2\r\nhi\r\n";
	static const char exp[] =
		"+OK\r\n:2\r\n:3\r\n*2\r\n$1\r\n3\r\n$-1\r\n"
		"-ERR wrong number of arguments for 'get' command\r\n"
		"-ERR unknown command 'nope', with args beginning with: 'x' \r\n"
		"$2\r\nhi\r\n";
	size_t len = sizeof(in) - 1, cut;

	for (cut = 0; cut <= len; cut++) {
		struct truth_resp_session s;
		struct truth_resp_store_backend b = { truth_resp_store_new(), T0 };
		struct truth_resp_handler h;
		size_t used;

		ASSERT_EQ(0, truth_resp_session_init(&s, 1, NULL));
		truth_resp_store_handler(&h, &b);
		used = truth_resp_session_feed(&s, in, cut, &h);
		ASSERT_EQ(cut, used);
		used = truth_resp_session_feed(&s, in + cut, len - cut, &h);
		ASSERT_EQ(len - cut, used);
		ASSERT_EQ(sizeof(exp) - 1, s.out.len) TH_LOG("cut %zu", cut);
		ASSERT_EQ(0, memcmp(s.out.buf, exp, s.out.len)) TH_LOG("cut %zu", cut);
		ASSERT_EQ(7, s.commands);
		truth_resp_session_fini(&s);
		truth_resp_store_free(b.store);
	}
}

TEST_F(cmd, many_pipelined_commands)
{
	size_t cap = 100000 * 32, len = 0, used;
	char *in = malloc(cap);
	char *exp = malloc(cap);
	size_t elen = 0;
	int i;

	for (i = 0; i < 100000; i++) {
		len += (size_t)sprintf(in + len, "*2\r\n$4\r\nINCR\r\n$3\r\nctr\r\n");
		elen += (size_t)sprintf(exp + elen, ":%d\r\n", i + 1);
	}
	feed_raw(self, in, len);
	ASSERT_EQ(len, self->used);
	ASSERT_EQ(elen, self->s.out.len);
	ASSERT_EQ(0, memcmp(self->s.out.buf, exp, elen));
	used = self->used;
	ASSERT_EQ(len, used);
	free(in);
	free(exp);
}

/* A handler standing in for Raft: writes wait for "commit", reads run at once. */
struct deferring {
	struct truth_resp_store_backend b;	/* the store */
	struct truth_resp_set pending;		/* the deferred SET (copied) */
	char key[32], val[32];			/* its bytes */
	int deferred;				/* how many were deferred */
};

static int defer_execute(void *ctx, struct truth_resp_session *s,
			 const struct truth_resp_request *req)
{
	struct deferring *d = ctx;

	if (req->cmd->flags & TRUTH_RESP_CMD_WRITE) {
		/* copy: req points into the parser, which the next feed reuses */
		memcpy(d->key, req->u.set.key.ptr, req->u.set.key.len + 1);
		memcpy(d->val, req->u.set.value.ptr, req->u.set.value.len + 1);
		d->pending = req->u.set;
		d->pending.key.ptr = d->key;
		d->pending.value.ptr = d->val;
		d->deferred++;
		return 1;
	}
	truth_resp_store_exec(d->b.store, req, d->b.now_ms, &s->out);
	return 0;
}

TEST_F(cmd, deferred_request_keeps_order)
{
	static const char in[] = "GET k\r\nSET k v\r\nGET k\r\n";
	struct deferring d = { .b = { self->b.store, T0 } };
	struct truth_resp_request commit = { .cmd = truth_resp_lookup("set", 3) };
	size_t used;

	self->h.execute = defer_execute;
	self->h.ctx = &d;
	used = truth_resp_session_feed(&self->s, in, sizeof(in) - 1, &self->h);
	ASSERT_EQ(16, used);	/* stopped right after the SET */
	ASSERT_EQ(1, d.deferred);
	OUT("$-1\r\n");
	/* the commit arrives: apply, reply, then feed the rest */
	commit.u.set = d.pending;
	ASSERT_EQ(0, truth_resp_store_exec(d.b.store, &commit, T0, &self->s.out));
	used += truth_resp_session_feed(&self->s, in + used, sizeof(in) - 1 - used, &self->h);
	ASSERT_EQ(sizeof(in) - 1, used);
	OUT("$-1\r\n+OK\r\n$1\r\nv\r\n");
}

static int follower_execute(void *ctx, struct truth_resp_session *s,
			    const struct truth_resp_request *req)
{
	const char *leader = ctx;

	if (leader)
		truth_resp_add_moved(&s->out, 3, leader);
	else
		truth_resp_add_tryagain(&s->out);
	return 0;
}

TEST_F(cmd, follower_redirects)
{
	self->h.execute = follower_execute;
	self->h.ctx = "10.0.0.3:6379";
	self->h.leader = false;
	REPLY("-MOVED 3 10.0.0.3:6379\r\n", "SET", "k", "v");
	REPLY("-MOVED 3 10.0.0.3:6379\r\n", "GET", "k");
	REPLY("+PONG\r\n", "PING");	/* no-raft commands are answered locally */
	self->h.ctx = NULL;
	REPLY("-TRYAGAIN no leader elected, retry later\r\n", "INCR", "k");
	/* argument errors are caught before any redirect */
	REPLY(SYNTAX, "SET", "k", "v", "BAD");
}

TEST_HARNESS_MAIN
