// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of TIME.NOW over RESP: the command's table entry and arity,
 * the exact reply bytes in RESP2 and RESP3 for a handler's answer, the
 * errors when the server has no clock or the clock fails, and a session
 * whose handler reads a real probe engine (two nodes on loopback with the
 * simulated clocks), whose reply must contain true time.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock/probe_node.h"
#include "resp/resp.h"
#include "kselftest_harness.h"

struct fake {
	int ret;			/* what time_now returns */
	struct truth_resp_time t;	/* and fills in */
	unsigned int calls;
};

static int fake_time_now(void *ctx, struct truth_resp_time *t)
{
	struct fake *f = ctx;

	f->calls++;
	*t = f->t;
	return f->ret;
}

static int store_exec(void *ctx, struct truth_resp_session *s,
		      const struct truth_resp_request *req)
{
	truth_resp_add_error(&s->out, "ERR not in this test");
	return 0;
}

FIXTURE(tnow) {
	struct truth_resp_session s;
	struct truth_resp_handler h;
	struct fake f;
};

FIXTURE_SETUP(tnow)
{
	ASSERT_EQ(0, truth_resp_session_init(&self->s, 3, NULL));
	memset(&self->h, 0, sizeof(self->h));
	memset(&self->f, 0, sizeof(self->f));
	self->h.execute = store_exec;
	self->h.time_now = fake_time_now;
	self->h.ctx = &self->f;
}

FIXTURE_TEARDOWN(tnow)
{
	truth_resp_session_fini(&self->s);
}

static void feed(struct _test_data_tnow *self, const char *in)
{
	self->s.out.len = 0;
	truth_resp_session_feed(&self->s, in, strlen(in), &self->h);
}

static int out_is(struct _test_data_tnow *self, const char *exp)
{
	if (self->s.out.len == strlen(exp) &&
	    !memcmp(self->s.out.buf, exp, self->s.out.len))
		return 1;
	ksft_print_msg("got %.*s\n", (int)self->s.out.len, self->s.out.buf);
	return 0;
}

TEST_F(tnow, table)
{
	const struct truth_resp_command *c = truth_resp_lookup("TIME.now", 8);

	ASSERT_NE(NULL, c);
	EXPECT_EQ(TRUTH_RESP_ID_TIME_NOW, c->id);
	EXPECT_EQ(1, c->arity);
	EXPECT_EQ(TRUTH_RESP_CMD_NORAFT, c->flags);
	EXPECT_EQ(NULL, truth_resp_lookup("time", 4));
}

TEST_F(tnow, reply_resp2_resp3)
{
	self->f.t.earliest = 1764115200000000000LL;
	self->f.t.latest = 1764115200000040000LL;
	self->f.t.status = "synchronised";
	feed(self, "*1\r\n$8\r\nTIME.NOW\r\n");
	EXPECT_TRUE(out_is(self, "*3\r\n:1764115200000000000\r\n:1764115200000040000\r\n$12\r\nsynchronised\r\n"));
	EXPECT_EQ(1, self->f.calls);
	feed(self, "HELLO 3\r\n");
	feed(self, "time.now\r\n");	/* inline form too */
	EXPECT_TRUE(out_is(self, "*3\r\n:1764115200000000000\r\n:1764115200000040000\r\n$12\r\nsynchronised\r\n"));
	/* UNKNOWN: the whole range */
	self->f.t.earliest = INT64_MIN;
	self->f.t.latest = INT64_MAX;
	self->f.t.status = "unknown";
	feed(self, "TIME.NOW\r\n");
	EXPECT_TRUE(out_is(self, "*3\r\n:-9223372036854775808\r\n:9223372036854775807\r\n$7\r\nunknown\r\n"));
}

TEST_F(tnow, errors)
{
	feed(self, "TIME.NOW now\r\n");
	EXPECT_TRUE(out_is(self, "-ERR wrong number of arguments for 'time.now' command\r\n"));
	EXPECT_EQ(0, self->f.calls);
	self->f.ret = -ENODEV;
	feed(self, "TIME.NOW\r\n");
	EXPECT_TRUE(out_is(self, "-ERR TIME.NOW: clock unavailable (No such device)\r\n"));
	self->h.time_now = NULL;
	feed(self, "TIME.NOW\r\n");
	EXPECT_TRUE(out_is(self, "-ERR TIME.NOW: this server has no clock\r\n"));
	/* the session goes on */
	feed(self, "PING\r\n");
	EXPECT_TRUE(out_is(self, "+PONG\r\n"));
}

/* A handler over a real engine: its reply contains true time. */
struct engine_ctx {
	struct truth_probe_node *node;
	struct truth_probe_simclock *sim;
	int64_t before, after;		/* true time around the call */
};

static int engine_time_now(void *ctx, struct truth_resp_time *t)
{
	static const char *const names[] = { "unknown", "synchronised", "free-running" };
	struct engine_ctx *e = ctx;
	struct truth_clock_now n;

	e->before = truth_probe_true_now();
	truth_probe_now(e->node->engine, &n);
	e->after = truth_probe_true_now();
	t->earliest = n.earliest;
	t->latest = n.latest;
	t->status = names[n.status % 3];
	return 0;
}

TEST_F(tnow, real_engine)
{
	static const uint8_t key[TRUTH_WIRE_KEY_LEN] = { 1 };
	struct truth_probe_simclock sim[2] = {
		{ .offset = 250000000, .drift_ppb = 80000, .ref_bias = 10000 },
		{ .offset = -3000000, .drift_ppb = -40000, .ref_bias = -5000 },
	};
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct truth_probe_node node[2];
	struct truth_probe_clock clk[2];
	struct truth_probe_config cfg;
	struct sockaddr_storage ss;
	struct engine_ctx ec;
	long long lo, hi;
	socklen_t len;
	char status[32];
	int64_t end;
	int i;

	truth_probe_config_default(&cfg);
	cfg.poll = 20000000;
	cfg.self_error = 30000;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < 2; i++) {
		char err[128];

		sim[i].t0 = truth_probe_true_now();
		truth_probe_clock_sim(&clk[i], &sim[i]);
		cfg.self = (uint32_t)i + 1;
		ASSERT_EQ(0, truth_probe_node_init(&node[i], &cfg, &clk[i],
						   (struct sockaddr *)&a, sizeof(a),
						   key, true, err, sizeof(err)));
	}
	for (i = 0; i < 2; i++) {
		len = sizeof(ss);
		ASSERT_EQ(0, getsockname(node[1 - i].sock.fd, (struct sockaddr *)&ss, &len));
		ASSERT_EQ(0, truth_probe_node_add_peer(&node[i], 2 - (uint32_t)i,
						       (struct sockaddr *)&ss, len));
	}
	end = truth_probe_true_now() + 500000000;
	while (truth_probe_true_now() < end) {
		truth_probe_node_wait(node, 2, 5000000);
		truth_probe_node_pump(&node[0]);
		truth_probe_node_pump(&node[1]);
	}
	ec.node = &node[0];
	ec.sim = &sim[0];
	self->h.time_now = engine_time_now;
	self->h.ctx = &ec;
	feed(self, "TIME.NOW\r\n");
	ASSERT_EQ(3, sscanf(self->s.out.buf, "*3\r\n:%lld\r\n:%lld\r\n$12\r\n%31s", &lo, &hi, status));
	EXPECT_STREQ("synchronised", status);
	ksft_print_msg("TIME.NOW: [%lld, %lld], true time in [%lld, %lld], epsilon %lld ns\n",
		       lo, hi, (long long)ec.before, (long long)ec.after, (hi - lo) / 2);
	/* the bound at the reading, read between before and after */
	EXPECT_LE(lo, ec.after);
	EXPECT_GE(hi, ec.before);
	EXPECT_LT(hi - lo, 2000000);
	for (i = 0; i < 2; i++)
		truth_probe_node_fini(&node[i]);
}

TEST_HARNESS_MAIN
