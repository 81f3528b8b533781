// SPDX-License-Identifier: GPL-2.0
/*
 * truthd's configuration (agent/conf): a good file passes; every bad
 * value is reported once, with its file:line and key, and leaves the
 * setting as it was; cross-key rules; --set overrides; the key file's
 * content and permissions.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/conf.h"

#include "kselftest_harness.h"

struct errs {
	int n;
	char where[16][640];
	char key[16][64];
	char reason[16][256];
};

static void collect(void *ctx, const char *where, const char *key, const char *reason)
{
	struct errs *e = ctx;

	if (e->n < 16) {
		snprintf(e->where[e->n], sizeof(e->where[0]), "%s", where);
		snprintf(e->key[e->n], sizeof(e->key[0]), "%s", key);
		snprintf(e->reason[e->n], sizeof(e->reason[0]), "%s", reason);
	}
	e->n++;
}

FIXTURE(conf) {
	char dir[64];
	char key[128];
	char file[128];
	struct truth_conf c;
	struct errs e;
};

#define GOOD_TMPL \
	"# a comment\n" \
	"node_id = 2\n" \
	"group_id = 7          # trailing comment\n" \
	"data_dir = /tmp/x\n" \
	"peer_listen = 127.0.0.1:7412\n" \
	"peer = 1 127.0.0.1:7411\n" \
	"peer = 2 127.0.0.1:7412\n" \
	"peer = 3 127.0.0.1:7413\n" \
	"client_listen = 127.0.0.1:6382\n" \
	"key_file = %s\n" \
	"\n" \
	"fast_path = user\n" \
	"fsync = off\n" \
	"election_timeout_ms = 400\n" \
	"heartbeat_ms = 40\n" \
	"log_level = debug\n"

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

/* The good file with line `line` (1-based) replaced by repl (NULL: dropped). */
static int load_with(struct __test_metadata *_metadata, FIXTURE_DATA(conf) *self,
		     int line, const char *repl)
{
	char text[2048], out[2048], *p, *save = NULL;
	int n = 0;
	size_t o = 0;

	snprintf(text, sizeof(text), GOOD_TMPL, self->key);
	for (p = strtok_r(text, "\n", &save); p; p = strtok_r(NULL, "\n", &save)) {
		/* strtok skips the empty line; count it as the template does */
		n++;
		if (n == 11)
			o += (size_t)snprintf(out + o, sizeof(out) - o, "\n"), n++;
		if (n == line) {
			if (repl)
				o += (size_t)snprintf(out + o, sizeof(out) - o, "%s\n", repl);
			continue;
		}
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s\n", p);
	}
	write_file(self->file, out, 0600);
	memset(&self->e, 0, sizeof(self->e));
	truth_conf_defaults(&self->c);
	n = truth_conf_load(&self->c, self->file, collect, &self->e);
	if (n < 0)
		return n;
	return n + truth_conf_finish(&self->c, self->file, collect, &self->e);
}

FIXTURE_SETUP(conf)
{
	strcpy(self->dir, "/tmp/truth-conf-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->key, sizeof(self->key), "%s/group.key", self->dir);
	snprintf(self->file, sizeof(self->file), "%s/truthd.conf", self->dir);
	write_file(self->key,
		   "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n", 0600);
}

FIXTURE_TEARDOWN(conf)
{
	unlink(self->key);
	unlink(self->file);
	rmdir(self->dir);
}

TEST_F(conf, good_file)
{
	ASSERT_EQ(0, load_with(_metadata, self, 0, NULL));
	EXPECT_EQ(0, self->e.n);
	EXPECT_EQ(2, self->c.node_id);
	EXPECT_EQ(7, self->c.group_id);
	EXPECT_STREQ("/tmp/x", self->c.data_dir);
	EXPECT_EQ(3, self->c.n_peers);
	EXPECT_EQ(3, self->c.peers[2].id);
	EXPECT_STREQ("127.0.0.1:7413", self->c.peers[2].addr.text);
	EXPECT_EQ(TRUTH_CONF_FAST_USER, self->c.fast_path);
	EXPECT_FALSE(self->c.fsync);
	EXPECT_EQ(400, self->c.election_timeout_ms);
	EXPECT_EQ(40, self->c.heartbeat_ms);
	EXPECT_EQ(3, self->c.log_level);
	EXPECT_EQ(0x1f, self->c.key[31]);
	/* client_advertise defaults to client_listen */
	EXPECT_STREQ("127.0.0.1:6382", self->c.client_advertise);
	/* the clock page lives in data_dir unless told; no anchor */
	EXPECT_STREQ("/tmp/x/clockbound", self->c.clock_page);
	EXPECT_EQ(0, self->c.clock_anchor_ns);
}

TEST_F(conf, clock_page_directory)
{
	char line[256];

	/* a page in a missing directory: named by the cross-key check */
	snprintf(line, sizeof(line), "clock_page = %s/missing/page", self->dir);
	EXPECT_EQ(1, load_with(_metadata, self, 16, line));
	EXPECT_STREQ("clock_page", self->e.key[0]);
	snprintf(line, sizeof(line), "clock_page = %s/page", self->dir);
	EXPECT_EQ(0, load_with(_metadata, self, 16, line));
	EXPECT_EQ(0, strncmp(self->c.clock_page, self->dir, strlen(self->dir)));
	/* an existing directory is not a page */
	snprintf(line, sizeof(line), "clock_page = %s", self->dir);
	EXPECT_EQ(1, load_with(_metadata, self, 16, line));
	EXPECT_STREQ("clock_page", self->e.key[0]);
}

/* line, replacement, the key the one error must name */
static const struct {
	int line;
	const char *text;
	const char *key;
} bad[] = {
	{ 2, "node_id = 0", "node_id" },
	{ 2, "node_id = 4294967296", "node_id" },
	{ 2, "node_id = -1", "node_id" },
	{ 2, "node_id = 1x", "node_id" },
	{ 2, "node_id = ", "node_id" },
	{ 3, "group_id = abc", "group_id" },
	{ 3, "group_id = 0", "group_id" },
	{ 5, "peer_listen = 127.0.0.1", "peer_listen" },
	{ 5, "peer_listen = 127.0.0.1:0", "peer_listen" },
	{ 5, "peer_listen = 127.0.0.1:65536", "peer_listen" },
	{ 5, "peer_listen = no.such.host.invalid:7412", "peer_listen" },
	{ 6, "peer = 1", "peer" },
	{ 6, "peer = x 127.0.0.1:7411", "peer" },
	{ 8, "peer = 2 127.0.0.1:7499", "peer" },		/* id twice */
	{ 8, "peer = 9 127.0.0.1:7412", "peer" },		/* address twice */
	{ 6, "peer = 1 127.0.0.1:7411 extra", "peer" },
	{ 9, "client_listen = localhost:http", "client_listen" },
	{ 12, "fast_path = fast", "fast_path" },
	{ 13, "fsync = yes", "fsync" },
	{ 14, "election_timeout_ms = 5", "election_timeout_ms" },
	{ 14, "election_timeout_ms = 60001", "election_timeout_ms" },
	{ 15, "heartbeat_ms = 0", "heartbeat_ms" },
	{ 15, "heartbeat_ms = 300", "heartbeat_ms" },		/* > election / 2 */
	{ 16, "log_level = loud", "log_level" },
	{ 16, "colour = blue", "colour" },			/* unknown key */
	{ 16, "just words", "just words" },			/* no '=' */
	{ 16, "client_unix = relative.sock", "client_unix" },
	{ 16, "snapshot_bytes = 12", "snapshot_bytes" },
	{ 16, "wal_segment_bytes = 65536", "wal_segment_bytes" },
	{ 16, "wal_segment_bytes = 2147483648", "wal_segment_bytes" },
	{ 16, "max_clients = 0", "max_clients" },
	{ 16, "client_output_limit = 10", "client_output_limit" },
	{ 16, "client_advertise = nowhere", "client_advertise" },
	{ 16, "clock_page = relative/page", "clock_page" },
	{ 16, "clock_anchor_ns = 1000000001", "clock_anchor_ns" },
	{ 16, "clock_anchor_ns = -5", "clock_anchor_ns" },
	{ 16, "clock_poll_ms = 9", "clock_poll_ms" },
	{ 16, "clock_poll_ms = 60001", "clock_poll_ms" },
	{ 16, "clock_poll_ms = fast", "clock_poll_ms" },
};

TEST_F(conf, every_bad_value_named)
{
	unsigned int i;
	char where[700];

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int n = load_with(_metadata, self, bad[i].line, bad[i].text);

		EXPECT_EQ(1, n) TH_LOG("'%s': %d errors", bad[i].text, n);
		if (n < 1)
			continue;
		EXPECT_STREQ(bad[i].key, self->e.key[0]) TH_LOG("'%s'", bad[i].text);
		/* heartbeat vs election is a cross-key rule: it names the file */
		if (!strcmp(bad[i].text, "heartbeat_ms = 300"))
			snprintf(where, sizeof(where), "%s", self->file);
		else
			snprintf(where, sizeof(where), "%s:%d", self->file, bad[i].line);
		EXPECT_STREQ(where, self->e.where[0]) TH_LOG("'%s'", bad[i].text);
		EXPECT_NE(0, strlen(self->e.reason[0]));
	}
}

TEST_F(conf, bad_value_changes_nothing)
{
	ASSERT_EQ(1, load_with(_metadata, self, 14, "election_timeout_ms = 5"));
	EXPECT_EQ(300, self->c.election_timeout_ms);	/* the default stays */
	ASSERT_EQ(1, load_with(_metadata, self, 16, "clock_poll_ms = 5"));
	EXPECT_EQ(500, self->c.clock_poll_ms);
}

TEST_F(conf, several_errors_all_reported)
{
	char text[1024];

	snprintf(text, sizeof(text),
		 "node_id = 0\ngroup_id = x\nfsync = maybe\nbogus = 1\n");
	write_file(self->file, text, 0600);
	truth_conf_defaults(&self->c);
	memset(&self->e, 0, sizeof(self->e));
	EXPECT_EQ(4, truth_conf_load(&self->c, self->file, collect, &self->e));
	EXPECT_STREQ("fsync", self->e.key[2]);
	/* then data_dir, peer_listen, key_file, a way in, the peers (node_id
	 * and group_id were given, badly: no second error for them) */
	EXPECT_EQ(5, truth_conf_finish(&self->c, self->file, collect, &self->e));
}

TEST_F(conf, missing_required)
{
	static const struct { int line; const char *key; } req[] = {
		{ 2, "node_id" }, { 3, "group_id" }, { 4, "data_dir" },
		{ 5, "peer_listen" }, { 10, "key_file" },
	};
	unsigned int i;

	for (i = 0; i < sizeof(req) / sizeof(req[0]); i++) {
		int n = load_with(_metadata, self, req[i].line, NULL);

		/* node_id missing also means "self not among peers" cannot be checked */
		EXPECT_EQ(1, n) TH_LOG("without %s", req[i].key);
		EXPECT_STREQ(req[i].key, self->e.key[0]);
		EXPECT_STREQ(self->file, self->e.where[0]);
	}
	EXPECT_EQ(1, load_with(_metadata, self, 9, NULL));	/* no client_listen, no client_unix */
	EXPECT_STREQ("client_listen", self->e.key[0]);
}

TEST_F(conf, cross_key_rules)
{
	EXPECT_EQ(1, load_with(_metadata, self, 7, "peer = 5 127.0.0.1:7415"));
	EXPECT_STREQ("peer", self->e.key[0]);		/* node 2 not among peers */
	EXPECT_EQ(1, load_with(_metadata, self, 5, "peer_listen = 127.0.0.1:7499"));
	EXPECT_STREQ("peer_listen", self->e.key[0]);	/* differs from own peer line */
}

TEST_F(conf, key_file)
{
	ASSERT_EQ(0, load_with(_metadata, self, 0, NULL));
	chmod(self->key, 0644);
	EXPECT_EQ(1, load_with(_metadata, self, 0, NULL));
	EXPECT_STREQ("key_file", self->e.key[0]);
	EXPECT_NE(NULL, strstr(self->e.reason[0], "world-readable"));
	write_file(self->key, "0011\n", 0600);
	EXPECT_EQ(1, load_with(_metadata, self, 0, NULL));
	EXPECT_NE(NULL, strstr(self->e.reason[0], "64 hex digits"));
	write_file(self->key,
		   "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1g\n", 0600);
	EXPECT_EQ(1, load_with(_metadata, self, 0, NULL));
	unlink(self->key);
	EXPECT_EQ(1, load_with(_metadata, self, 0, NULL));
	EXPECT_NE(NULL, strstr(self->e.reason[0], "cannot open"));
}

TEST_F(conf, set_overrides)
{
	ASSERT_EQ(0, load_with(_metadata, self, 0, NULL));
	EXPECT_EQ(0, truth_conf_set(&self->c, "--set", "fsync", "on", collect, &self->e));
	EXPECT_TRUE(self->c.fsync);
	EXPECT_EQ(0, truth_conf_set(&self->c, "--set", "heartbeat_ms", "10", collect, &self->e));
	EXPECT_EQ(10, self->c.heartbeat_ms);
	EXPECT_EQ(1, truth_conf_set(&self->c, "--set", "fsync", "sometimes", collect, &self->e));
	EXPECT_STREQ("--set", self->e.where[0]);
	EXPECT_TRUE(self->c.fsync);
}

TEST_F(conf, ipv6_and_unreadable_file)
{
	struct truth_conf_addr a;
	const char *why;

	EXPECT_EQ(0, truth_conf_parse_addr("[::1]:7411", &a, &why));
	EXPECT_EQ(-1, truth_conf_parse_addr("[::1:7411", &a, &why));
	truth_conf_defaults(&self->c);
	EXPECT_EQ(-1, truth_conf_load(&self->c, "/nonexistent/truthd.conf", collect, &self->e));
}

TEST_HARNESS_MAIN
