// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * agent/sm unit tests: one feature per test, exact replies (RESP2 text of
 * the effects), and "no state change" checked by snapshot bytes.
 */

#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "lib/smtest.h"
#include "truth_rand.h"

#define MS	1000000LL

FIXTURE(sm) {
	struct smtest t;
};

FIXTURE_SETUP(sm)
{
	ASSERT_EQ(0, smtest_init(&self->t, 0));
}

FIXTURE_TEARDOWN(sm)
{
	smtest_fini(&self->t);
}

/* Apply from client cl and expect exactly this RESP2 reply. */
#define EXPECT_APPLY(exp, cl, ...) do {						\
	uint64_t _s = smtest_apply(&self->t, cl, __VA_ARGS__, NULL);		\
	const char *_r = smtest_reply(&self->t, cl, _s);			\
	EXPECT_STREQ(exp, _r ? _r : "(no reply)");				\
} while (0)

#define EXPECT_READ(exp, cl, ...) do {						\
	uint64_t _s = smtest_read(&self->t, cl, __VA_ARGS__, NULL);		\
	const char *_r = smtest_reply(&self->t, cl, _s);			\
	EXPECT_STREQ(exp, _r ? _r : "(no reply)");				\
} while (0)

/* Parse ":N\r\n" */
static long long intreply(const char *r)
{
	return r && r[0] == ':' ? strtoll(r + 1, NULL, 10) : -1;
}

TEST_F(sm, revisions)
{
	EXPECT_APPLY("+OK\r\n", 1, "SET", "a", "1");
	EXPECT_APPLY("+OK\r\n", 1, "SET", "a", "2");
	EXPECT_APPLY("+OK\r\n", 1, "SET", "b", "x");
	EXPECT_EQ(3, truth_sm_revision(self->t.sm));
	EXPECT_READ("*12\r\n$5\r\nvalue\r\n$1\r\n2\r\n$15\r\ncreate_revision\r\n:1\r\n"
		    "$12\r\nmod_revision\r\n:2\r\n$7\r\nversion\r\n:2\r\n$7\r\nsession\r\n:0\r\n"
		    "$12\r\nexpire_at_ms\r\n:0\r\n", 1, "KEYINFO", "a");
	EXPECT_APPLY(":1\r\n", 1, "DEL", "a", "a", "nosuch");
	EXPECT_EQ(4, truth_sm_revision(self->t.sm));
	EXPECT_READ("$-1\r\n", 1, "KEYINFO", "a");
	EXPECT_APPLY(":1\r\n", 1, "INCR", "n");
	EXPECT_EQ(5, truth_sm_revision(self->t.sm));
	/* no change, no revision */
	EXPECT_APPLY("$-1\r\n", 1, "SET", "b", "y", "NX");
	EXPECT_EQ(5, truth_sm_revision(self->t.sm));
	EXPECT_EQ(self->t.index, truth_sm_applied(self->t.sm));
	{
		struct truth_resp_out o;

		truth_resp_out_init(&o);
		ASSERT_EQ(6, self->t.index);
		truth_sm_info(self->t.sm, &o);
		ASSERT_NE(NULL, o.buf);
		static const char want[] = "sm_revision:5\r\nsm_applied:6\r\nsm_keys:2\r\n";

		EXPECT_NE(NULL, memmem(o.buf, o.len, want, sizeof(want) - 1));
		truth_resp_out_free(&o);
	}
}

/* The string commands answer exactly as the reference store, random ops. */
TEST_F(sm, same_replies_as_reference_store)
{
	static const char *const keys[] = { "a", "b", "c" };
	static const char *const vals[] = { "1", "-7", "x", "9223372036854775807", "" };
	struct truth_resp_store *st = truth_resp_store_new();
	uint64_t seed = seed_init();
	int i;

	ASSERT_NE(NULL, st);
	TH_LOG("seed %llu", (unsigned long long)seed);
	for (i = 0; i < 3000; i++) {
		const char *argv[8];
		unsigned int argc = 0, op = (unsigned int)rnd_below(9);
		struct truth_resp_arg a[8];
		struct truth_resp_cmd cmd;
		struct truth_resp_request req;
		struct truth_resp_out o;
		const char *r;
		unsigned int j;

		if (rnd_below(10) == 0)
			self->t.ts += (int64_t)rnd_below(3000) * MS;
		argv[argc++] = (const char *[]){ "GET", "SET", "DEL", "INCR", "DECRBY",
						 "MGET", "EXISTS", "SET", "SET" }[op];
		argv[argc++] = keys[rnd_below(3)];
		if (op == 1 || op == 7 || op == 8)
			argv[argc++] = vals[rnd_below(5)];
		if (op == 4)
			argv[argc++] = vals[rnd_below(5)];
		if (op == 2 || op == 5 || op == 6)
			argv[argc++] = keys[rnd_below(3)];
		if (op == 7)
			argv[argc++] = (const char *[]){ "NX", "XX", "GET", "KEEPTTL" }[rnd_below(4)];
		if (op == 8) {
			argv[argc++] = rnd_below(2) ? "PX" : "EX";
			argv[argc++] = (const char *[]){ "1", "1500", "2", "0" }[rnd_below(4)];
		}
		smtest_applyv(&self->t, 1, 0, argc, argv);
		r = smtest_reply(&self->t, 1, self->t.seq[1]);
		ASSERT_NE(NULL, r);
		for (j = 0; j < argc; j++) {
			a[j].ptr = argv[j];
			a[j].len = strlen(argv[j]);
		}
		cmd.argc = argc;
		cmd.argv = a;
		cmd.inline_form = false;
		truth_resp_out_init(&o);
		if (!truth_resp_request_parse(&cmd, &req, &o))
			truth_resp_store_exec(st, &req, self->t.ts / MS, &o);
		ASSERT_EQ(o.len, strlen(r)) TH_LOG("op %d %s %s: %s", i, argv[0], argv[1], r);
		EXPECT_EQ(0, memcmp(o.buf, r, o.len));
		truth_resp_out_free(&o);
	}
	truth_resp_store_free(st);
}

TEST_F(sm, cas)
{
	EXPECT_APPLY(":1\r\n", 1, "CAS", "k", "0", "a");
	EXPECT_APPLY("-CONFLICT the key is at mod_revision 1, not 0\r\n", 1, "CAS", "k", "0", "b");
	EXPECT_APPLY(":2\r\n", 1, "CAS", "k", "1", "b");
	EXPECT_APPLY("-CONFLICT the key is at mod_revision 2, not 1\r\n", 1, "CAS", "k", "1", "c");
	EXPECT_READ("$1\r\nb\r\n", 1, "GET", "k");
	EXPECT_APPLY("-ERR mod_revision is not a non-negative integer\r\n", 1, "CAS", "k", "x", "c");
	EXPECT_APPLY("-ERR syntax error: CAS key mod_revision value [SESSION id]\r\n", 1,
		     "CAS", "k", "2", "c", "BOGUS");
}

TEST_F(sm, fence)
{
	uint64_t s1, s2;
	long long t1, t2;
	const char *r;
	uint64_t q;

	s1 = (uint64_t)intreply(smtest_reply(&self->t, 1, smtest_apply(&self->t, 1, "SESSION.OPEN", "10000", NULL)));
	s2 = (uint64_t)intreply(smtest_reply(&self->t, 2, smtest_apply(&self->t, 2, "SESSION.OPEN", "10000", NULL)));
	char b1[24], b2[24], tk[24];

	snprintf(b1, sizeof(b1), "%llu", (unsigned long long)s1);
	snprintf(b2, sizeof(b2), "%llu", (unsigned long long)s2);
	q = smtest_apply(&self->t, 1, "LOCK.ACQUIRE", "db", b1, NULL);
	t1 = intreply(smtest_reply(&self->t, 1, q));
	ASSERT_GT(t1, 0);
	snprintf(tk, sizeof(tk), "%lld", t1);
	EXPECT_APPLY("+OK\r\n", 1, "SET", "row", "v1", "FENCE", "db", tk);
	/* holder 1 stalls, its lock goes to 2 */
	q = smtest_apply(&self->t, 2, "LOCK.ACQUIRE", "db", b2, NULL);
	EXPECT_EQ(NULL, smtest_reply(&self->t, 2, q));
	smtest_apply(&self->t, 1, "LOCK.RELEASE", "db", b1, NULL);
	r = smtest_reply(&self->t, 2, q);
	t2 = intreply(r);
	EXPECT_GT(t2, t1);
	snprintf(tk, sizeof(tk), "%lld", t2);
	EXPECT_APPLY("+OK\r\n", 2, "SET", "row", "v2", "FENCE", "db", tk);
	/* the stale holder's write is refused and changes nothing (client 0: no dedup record) */
	{
		size_t l1, l2;
		uint8_t *a = smtest_snap(&self->t, &l1), *b;
		char old[24];

		snprintf(old, sizeof(old), "%lld", t1);
		smtest_applyv(&self->t, 0, 1, 6,
			      (const char *[]){ "SET", "row", "stale", "FENCE", "db", old });
		r = smtest_reply(&self->t, 0, 1);
		ASSERT_NE(NULL, r);
		snprintf(old, sizeof(old), "%lld", t2);
		EXPECT_EQ(0, strncmp(r, "-FENCED token ", 14));
		EXPECT_NE(NULL, strstr(r, old)) TH_LOG("%s", r);
		b = smtest_snap(&self->t, &l2);
		ASSERT_EQ(l1, l2);
		EXPECT_EQ(0, memcmp(a + 20, b + 20, l1 - 20));	/* all but the applied index */
		free(a);
		free(b);
	}
	EXPECT_READ("$2\r\nv2\r\n", 1, "GET", "row");
	EXPECT_APPLY("-ERR FENCE token 999999 was never issued (revision is 5)\r\n", 1,
		     "SET", "row", "x", "FENCE", "db", "999999");
	EXPECT_APPLY("-ERR FENCE token is not a non-negative integer\r\n", 1,
		     "SET", "row", "x", "FENCE", "db", "-1");
}

TEST_F(sm, sessions_expire_only_by_tick)
{
	const char *r;
	uint64_t q;

	q = smtest_apply(&self->t, 1, "SESSION.OPEN", "1000", NULL);
	EXPECT_STREQ(":1\r\n", smtest_reply(&self->t, 1, q));
	EXPECT_APPLY("+OK\r\n", 1, "SET", "eph", "v", "SESSION", "1");
	EXPECT_APPLY("+OK\r\n", 1, "SET", "keep", "v");
	EXPECT_EQ(1000 * MS + self->t.ts, truth_sm_next_deadline(self->t.sm));
	self->t.ts += 900 * MS;
	EXPECT_APPLY(":1000\r\n", 1, "SESSION.KEEPALIVE", "1");
	self->t.ts += 1500 * MS;
	/* an ordinary entry past the deadline does not expire it */
	EXPECT_APPLY("+OK\r\n", 2, "SET", "other", "v");
	EXPECT_READ("$1\r\nv\r\n", 1, "GET", "eph");
	/* a TICK does; its key goes, the other stays */
	smtest_tick(&self->t);
	EXPECT_READ("$-1\r\n", 1, "GET", "eph");
	EXPECT_READ("$1\r\nv\r\n", 1, "GET", "keep");
	EXPECT_APPLY("-NOSESSION session 1 does not exist or has expired\r\n", 1,
		     "SESSION.KEEPALIVE", "1");
	EXPECT_APPLY("-NOSESSION session 1 does not exist or has expired\r\n", 1,
		     "SET", "x", "v", "SESSION", "1");
	EXPECT_APPLY("-ERR TTL is not an integer in 1..86400000 ms\r\n", 1, "SESSION.OPEN", "0");
	/* close ends it at once */
	q = smtest_apply(&self->t, 1, "SESSION.OPEN", "60000", NULL);
	EXPECT_STREQ(":2\r\n", smtest_reply(&self->t, 1, q));
	EXPECT_APPLY("+OK\r\n", 1, "SET", "e2", "v", "SESSION", "2");
	EXPECT_READ("*4\r\n$6\r\nttl_ms\r\n:60000\r\n$12\r\nremaining_ms\r\n:60000\r\n", 1,
		    "SESSION.INFO", "2");
	EXPECT_APPLY("+OK\r\n", 1, "SESSION.CLOSE", "2");
	EXPECT_READ("$-1\r\n", 1, "GET", "e2");
	r = smtest_reply(&self->t, 1, smtest_read(&self->t, 1, "SESSION.INFO", "2", NULL));
	EXPECT_EQ(0, strncmp(r, "-NOSESSION", 10));
}

static void open_sessions(struct smtest *t, int n, char ids[][24])
{
	int i;

	for (i = 0; i < n; i++) {
		uint64_t q = smtest_apply(t, (uint64_t)i + 1, "SESSION.OPEN", "5000", NULL);

		snprintf(ids[i], 24, "%lld", intreply(smtest_reply(t, (uint64_t)i + 1, q)));
	}
}

TEST_F(sm, lock_fifo_one_woken)
{
	char id[4][24];
	uint64_t q[4];
	long long tok[4];
	int i;

	open_sessions(&self->t, 4, id);
	for (i = 0; i < 4; i++) {
		q[i] = smtest_apply(&self->t, (uint64_t)i + 1, "LOCK.ACQUIRE", "L", id[i], NULL);
		if (i == 0) {
			tok[0] = intreply(smtest_reply(&self->t, 1, q[0]));
			EXPECT_GT(tok[0], 0);
		} else {
			EXPECT_EQ(0, self->t.fx.n);	/* blocked: no reply at all */
		}
	}
	EXPECT_READ("*8\r\n$6\r\nholder\r\n$1\r\n1\r\n$7\r\nsession\r\n:1\r\n$5\r\ntoken\r\n"
		    ":1\r\n$7\r\nwaiters\r\n:3\r\n", 9, "LOCK.OWNER", "L");
	/* asking again while holding: the same token */
	EXPECT_APPLY(":1\r\n", 1, "LOCK.ACQUIRE", "L", id[0]);
	EXPECT_APPLY("-ERR session 2 is already waiting for this lock\r\n", 2,
		     "LOCK.ACQUIRE", "L", id[1]);
	for (i = 1; i < 4; i++) {
		smtest_apply(&self->t, (uint64_t)i, "LOCK.RELEASE", "L", id[i - 1], NULL);
		/* the release's OK, the one next waiter's grant, nothing else */
		EXPECT_EQ(1, smtest_count(&self->t, (uint64_t)i + 1, TRUTH_SM_FX_REPLY));
		tok[i] = intreply(smtest_reply(&self->t, (uint64_t)i + 1, q[i]));
		EXPECT_GT(tok[i], tok[i - 1]);
		EXPECT_EQ(2, self->t.fx.n);
	}
	EXPECT_APPLY("-ERR session 1 neither holds this lock nor waits for it\r\n", 1,
		     "LOCK.RELEASE", "L", id[0]);
	EXPECT_APPLY("-ERR token 1 is not the holder's (7)\r\n", 4, "LOCK.RELEASE", "L", id[3], "1");
	EXPECT_EQ(7, tok[3]);	/* each hand-over: a delete and a create, two revisions */
	EXPECT_APPLY("+OK\r\n", 4, "LOCK.RELEASE", "L", id[3], "7");
	EXPECT_READ("$-1\r\n", 9, "LOCK.OWNER", "L");
}

TEST_F(sm, trylock_and_timeout)
{
	char id[3][24];
	uint64_t q;

	open_sessions(&self->t, 3, id);
	EXPECT_APPLY(":1\r\n", 1, "LOCK.ACQUIRE", "L", id[0], "TIMEOUT", "0");
	EXPECT_APPLY("$-1\r\n", 2, "LOCK.ACQUIRE", "L", id[1], "TIMEOUT", "0");
	q = smtest_apply(&self->t, 2, "LOCK.ACQUIRE", "L", id[1], "TIMEOUT", "100", NULL);
	EXPECT_EQ(0, self->t.fx.n);
	EXPECT_EQ(self->t.ts + 100 * MS, truth_sm_next_deadline(self->t.sm));
	self->t.ts += 101 * MS;
	EXPECT_APPLY("+OK\r\n", 3, "SET", "x", "y");	/* any entry moves time */
	EXPECT_STREQ("$-1\r\n", smtest_reply(&self->t, 2, q));
	EXPECT_APPLY("-ERR TIMEOUT is not an integer in 0..86400000 ms\r\n", 2,
		     "LOCK.ACQUIRE", "L", id[1], "TIMEOUT", "-5");
	/* a retry of the timed-out request gets the saved null */
	smtest_applyv(&self->t, 2, q, 5, (const char *[]){ "LOCK.ACQUIRE", "L", id[1], "TIMEOUT", "100" });
	EXPECT_STREQ("$-1\r\n", smtest_reply(&self->t, 2, q));
}

TEST_F(sm, expiry_frees_locks_and_wakes_next)
{
	char id[2][24];
	uint64_t q;

	open_sessions(&self->t, 2, id);
	EXPECT_APPLY(":1\r\n", 1, "LOCK.ACQUIRE", "L", id[0]);
	q = smtest_apply(&self->t, 2, "LOCK.ACQUIRE", "L", id[1], NULL);
	self->t.ts += 4000 * MS;
	EXPECT_APPLY(":5000\r\n", 2, "SESSION.KEEPALIVE", id[1]);
	self->t.ts += 1500 * MS;
	smtest_tick(&self->t);
	EXPECT_STREQ(":3\r\n", smtest_reply(&self->t, 2, q));
	EXPECT_READ("$1\r\n2\r\n", 9, "GET", "__truth/lock/L");
	EXPECT_APPLY("-ERR keys under '__truth/' are written by the coordination commands only\r\n",
		     9, "DEL", "x", "__truth/lock/L");
}

TEST_F(sm, election)
{
	char id[3][24];
	uint64_t q2, w;

	open_sessions(&self->t, 3, id);
	w = smtest_read(&self->t, 7, "ELECT.OBSERVE", "svc", NULL);
	EXPECT_STREQ("*4\r\n$5\r\nwatch\r\n:1\r\n$8\r\nrevision\r\n:1\r\n", smtest_reply(&self->t, 7, w));
	EXPECT_APPLY(":1\r\n", 1, "ELECT.CAMPAIGN", "svc", id[0], "host-a");
	EXPECT_STREQ("*6\r\n$5\r\nwatch\r\n:1\r\n:1\r\n$3\r\nput\r\n$17\r\n__truth/elect/svc\r\n"
		     "$6\r\nhost-a\r\n", smtest_text(&self->t, 0));
	q2 = smtest_apply(&self->t, 2, "ELECT.CAMPAIGN", "svc", id[1], "host-b", NULL);
	EXPECT_EQ(0, self->t.fx.n);
	EXPECT_READ("*8\r\n$5\r\nvalue\r\n$6\r\nhost-a\r\n$7\r\nsession\r\n:1\r\n$5\r\ntoken\r\n:1\r\n"
		    "$7\r\nwaiters\r\n:1\r\n", 3, "ELECT.LEADER", "svc");
	EXPECT_APPLY("+OK\r\n", 1, "ELECT.PROCLAIM", "svc", id[0], "1", "host-a:2");
	EXPECT_APPLY("-ERR session 2 with token 1 is not the leader\r\n", 2,
		     "ELECT.PROCLAIM", "svc", id[1], "1", "x");
	EXPECT_APPLY("+OK\r\n", 1, "ELECT.RESIGN", "svc", id[0]);
	EXPECT_STREQ(":4\r\n", smtest_reply(&self->t, 2, q2));
	EXPECT_READ("*8\r\n$5\r\nvalue\r\n$6\r\nhost-b\r\n$7\r\nsession\r\n:2\r\n$5\r\ntoken\r\n:4\r\n"
		    "$7\r\nwaiters\r\n:0\r\n", 3, "ELECT.LEADER", "svc");
	/* an observer starting late sees the current leader first */
	w = smtest_read(&self->t, 8, "ELECT.OBSERVE", "svc", NULL);
	EXPECT_EQ(2, self->t.fx.n);
	EXPECT_STREQ("*6\r\n$5\r\nwatch\r\n:1\r\n:4\r\n$3\r\nput\r\n$17\r\n__truth/elect/svc\r\n"
		     "$6\r\nhost-b\r\n", smtest_text(&self->t, 1));
}

TEST_F(sm, barrier)
{
	char id[3][24];
	uint64_t q[3], l[3];
	int i;

	open_sessions(&self->t, 3, id);
	for (i = 0; i < 3; i++) {
		q[i] = smtest_apply(&self->t, (uint64_t)i + 1, "BARRIER.ENTER", "b", "3", id[i], NULL);
		if (i < 2)
			EXPECT_EQ(0, self->t.fx.n);
	}
	EXPECT_EQ(3, self->t.fx.n);
	for (i = 0; i < 3; i++)
		EXPECT_STREQ(":3\r\n", smtest_reply(&self->t, (uint64_t)i + 1, q[i]));
	EXPECT_APPLY("-BUSY the barrier is released and not all participants have left" "\r\n",
		     4, "BARRIER.ENTER", "b", "3", id[0]);
	EXPECT_APPLY("-ERR this barrier has 3 participants, not 2\r\n", 4,
		     "BARRIER.ENTER", "b", "2", id[0]);
	for (i = 0; i < 3; i++) {
		l[i] = smtest_apply(&self->t, (uint64_t)i + 1, "BARRIER.LEAVE", "b", id[i], NULL);
		if (i < 2)
			EXPECT_EQ(0, self->t.fx.n);
	}
	for (i = 0; i < 3; i++)
		EXPECT_STREQ("+OK\r\n", smtest_reply(&self->t, (uint64_t)i + 1, l[i]));
	/* the name is free again */
	q[0] = smtest_apply(&self->t, 1, "BARRIER.ENTER", "b", "2", id[0], NULL);
	EXPECT_EQ(0, self->t.fx.n);
	EXPECT_APPLY("-ERR the barrier is not released yet (session 1 still entering)\r\n", 1,
		     "BARRIER.LEAVE", "b", id[0]);
}

TEST_F(sm, watch_prefix_catch_up_live_cancel_compacted)
{
	struct smtest *t = &self->t;
	uint64_t w;

	smtest_fini(t);
	ASSERT_EQ(0, smtest_init(t, 4));
	smtest_apply(t, 1, "SET", "p/a", "1", NULL);
	smtest_apply(t, 1, "SET", "q", "1", NULL);
	smtest_apply(t, 1, "SET", "p/b", "2", NULL);
	w = smtest_read(t, 5, "WATCH", "p/", "PREFIX", "FROM", "1", NULL);
	ASSERT_EQ(3, t->fx.n);
	EXPECT_STREQ("*6\r\n$5\r\nwatch\r\n:1\r\n:1\r\n$3\r\nput\r\n$3\r\np/a\r\n$1\r\n1\r\n",
		     smtest_text(t, 1));
	EXPECT_STREQ("*6\r\n$5\r\nwatch\r\n:1\r\n:3\r\n$3\r\nput\r\n$3\r\np/b\r\n$1\r\n2\r\n",
		     smtest_text(t, 2));
	smtest_apply(t, 1, "DEL", "p/a", NULL);
	ASSERT_EQ(2, t->fx.n);
	/* the change's push comes as the change happens, before DEL's own reply */
	EXPECT_STREQ("*6\r\n$5\r\nwatch\r\n:1\r\n:4\r\n$3\r\ndel\r\n$3\r\np/a\r\n$-1\r\n",
		     smtest_text(t, 0));
	EXPECT_EQ(TRUTH_SM_FX_PUSH, t->fx.v[0].kind);
	EXPECT_EQ(w, t->fx.v[0].seq);
	EXPECT_EQ(5, t->fx.v[0].client_id);
	/* RESP3: a push */
	{
		struct truth_resp_out o;

		truth_resp_out_init(&o);
		o.proto = 3;
		ASSERT_EQ(0, truth_sm_effect_render(&t->fx, &t->fx.v[0], &o));
		EXPECT_EQ(0, strncmp(o.buf, ">6\r\n", 4));
		truth_resp_out_free(&o);
	}
	EXPECT_READ(":1\r\n", 5, "WATCH.CANCEL", "1");
	smtest_apply(t, 1, "SET", "p/c", "3", NULL);
	EXPECT_EQ(1, t->fx.n);
	/* 4 changes kept: revision 1 is gone */
	EXPECT_READ("-COMPACTED revision 1 is no longer kept, the oldest is 2: read the current "
		    "state and watch from its revision\r\n", 5, "WATCH", "p/", "PREFIX", "FROM", "1");
	EXPECT_APPLY("-ERR 'watch' is served by the node, not through the log\r\n", 5, "WATCH", "x");
	/* a disconnected client's watches go */
	smtest_read(t, 6, "WATCH", "p/", "PREFIX", NULL);
	truth_sm_client_gone(t->sm, 6);
	smtest_apply(t, 1, "SET", "p/d", "3", NULL);
	EXPECT_EQ(0, smtest_count(t, 6, TRUTH_SM_FX_PUSH));
}

TEST_F(sm, malformed_commands_change_nothing)
{
	static const char *const bad[][7] = {
		{ "NOSUCH", "x" }, { "GET" }, { "SET", "k" }, { "SET", "k", "v", "NX", "XX" },
		{ "SET", "k", "v", "SESSION", "0" }, { "SET", "k", "v", "SESSION", "9" },
		{ "SET", "k", "v", "SESSION", "1", "EX", "5" },
		{ "SET", "k", "v", "FENCE", "r" }, { "INCRBY", "k", "x" },
		{ "INCR", "s" }, { "CAS", "k", "-1", "v" }, { "CAS", "k", "0" },
		{ "SESSION.OPEN", "x" }, { "SESSION.OPEN", "99999999999" },
		{ "SESSION.KEEPALIVE", "0" }, { "SESSION.CLOSE", "abc" },
		{ "LOCK.ACQUIRE", "L", "x" }, { "LOCK.ACQUIRE", "", "1" },
		{ "LOCK.ACQUIRE", "L", "1", "TIMEOUT" }, { "LOCK.ACQUIRE", "L", "7" },
		{ "LOCK.RELEASE", "L", "1" }, { "LOCK.RELEASE", "L", "1", "2", "3" },
		{ "ELECT.CAMPAIGN", "e", "1" }, { "ELECT.PROCLAIM", "e", "1", "1", "v" },
		{ "ELECT.RESIGN", "e", "x" }, { "BARRIER.ENTER", "b", "0", "1" },
		{ "BARRIER.ENTER", "b", "2", "5" }, { "BARRIER.LEAVE", "b", "1" },
		{ "WATCH", "k" }, { "PING" }, { "HELLO", "3" }, { "DEL", "__truth/x" },
		{ "SET", "__truth/lock/L", "v" }, { "CAS", "__truth/a", "0", "v" },
	};
	size_t i, la, lb;
	uint8_t *a, *b;

	smtest_apply(&self->t, 1, "SESSION.OPEN", "5000", NULL);
	smtest_apply(&self->t, 1, "SET", "s", "str", NULL);
	smtest_apply(&self->t, 1, "LOCK.ACQUIRE", "held", "1", NULL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		unsigned int argc = 0;
		const char *r;

		while (argc < 7 && bad[i][argc])
			argc++;
		/* client 0: no dedup record, so the snapshot must be identical */
		a = smtest_snap(&self->t, &la);
		self->t.seq[0] = 0;
		smtest_applyv(&self->t, 0, 1, argc, bad[i]);
		b = smtest_snap(&self->t, &lb);
		ASSERT_EQ(1, self->t.fx.n) TH_LOG("%s", bad[i][0]);
		r = smtest_text(&self->t, 0);
		EXPECT_TRUE(r[0] == '-') TH_LOG("%s -> %s", bad[i][0], r);
		TH_LOG("%-16s -> %.*s", bad[i][0], (int)strcspn(r, "\r"), r);
		/* applied index moves (it is the log's); nothing else may */
		ASSERT_EQ(la, lb);
		EXPECT_EQ(0, memcmp(a + 12 + 8, b + 12 + 8, la - 20)) TH_LOG("%s changed state", bad[i][0]);
		free(a);
		free(b);
	}
}

TEST_F(sm, exactly_once)
{
	const char *argv[] = { "INCR", "n" };
	char id[2][24];
	uint64_t q;

	EXPECT_EQ(0, smtest_applyv(&self->t, 1, 5, 2, argv));
	EXPECT_STREQ(":1\r\n", smtest_reply(&self->t, 1, 5));
	EXPECT_EQ(0, smtest_applyv(&self->t, 1, 5, 2, argv));	/* retried: same reply, once */
	EXPECT_STREQ(":1\r\n", smtest_reply(&self->t, 1, 5));
	EXPECT_READ("$1\r\n1\r\n", 1, "GET", "n");
	self->t.seq[1] = 5;
	/* a blocked request retried: nothing now, its grant later, then saved */
	smtest_apply(&self->t, 1, "SESSION.OPEN", "5000", NULL);
	smtest_apply(&self->t, 2, "SESSION.OPEN", "5000", NULL);
	snprintf(id[0], 24, "%d", 2);
	smtest_apply(&self->t, 1, "LOCK.ACQUIRE", "L", "1", NULL);
	q = smtest_apply(&self->t, 2, "LOCK.ACQUIRE", "L", id[0], NULL);
	EXPECT_EQ(0, self->t.fx.n);
	smtest_applyv(&self->t, 2, q, 3, (const char *[]){ "LOCK.ACQUIRE", "L", id[0] });
	EXPECT_EQ(0, self->t.fx.n);
	smtest_apply(&self->t, 1, "LOCK.RELEASE", "L", "1", NULL);
	EXPECT_STREQ(":4\r\n", smtest_reply(&self->t, 2, q));
	smtest_applyv(&self->t, 2, q, 3, (const char *[]){ "LOCK.ACQUIRE", "L", id[0] });
	EXPECT_STREQ(":4\r\n", smtest_reply(&self->t, 2, q));
	/* far behind: refused, clearly */
	smtest_applyv(&self->t, 1, 1, 2, argv);
	EXPECT_STREQ("-ERR request 1 of client 1 was applied and its reply is no longer kept\r\n",
		     smtest_reply(&self->t, 1, 1));
}

TEST_F(sm, snapshot_roundtrip_and_corruption)
{
	struct truth_sm *b;
	uint8_t *s1, *s2, *s3;
	size_t l1, l2, l3, i;
	char id[3][24];

	open_sessions(&self->t, 3, id);
	smtest_apply(&self->t, 1, "SET", "a", "1", "PX", "5000", NULL);
	smtest_apply(&self->t, 1, "SET", "e", "1", "SESSION", id[0], NULL);
	smtest_apply(&self->t, 1, "LOCK.ACQUIRE", "L", id[0], NULL);
	smtest_apply(&self->t, 2, "LOCK.ACQUIRE", "L", id[1], "TIMEOUT", "900", NULL);
	smtest_apply(&self->t, 3, "BARRIER.ENTER", "b", "2", id[2], NULL);
	smtest_apply(&self->t, 3, "SET", "f", "1", "FENCE", "r", "2", NULL);
	smtest_apply(&self->t, 3, "ELECT.CAMPAIGN", "e", id[2], "v", NULL);
	s1 = smtest_snap(&self->t, &l1);
	ASSERT_NE(NULL, s1);
	b = truth_sm_new(NULL);
	ASSERT_EQ(0, truth_sm_restore(b, s1, l1));
	ASSERT_EQ(0, truth_sm_save(b, &s2, &l2));
	ASSERT_EQ(l1, l2);
	EXPECT_EQ(0, memcmp(s1, s2, l1));
	EXPECT_EQ(truth_sm_next_deadline(self->t.sm), truth_sm_next_deadline(b));
	/* every truncation and a flipped byte everywhere: refused, state unchanged */
	for (i = 0; i < l1; i++) {
		EXPECT_EQ(-EINVAL, truth_sm_restore(b, s1, i)) TH_LOG("truncated at %zu", i);
	}
	for (i = 0; i < l1; i++) {
		int r;

		s1[i] ^= 0x80;
		r = truth_sm_restore(b, s1, l1);
		s1[i] ^= 0x80;
		if (r == 0) {	/* a value byte: accepted, then put back */
			ASSERT_EQ(0, truth_sm_restore(b, s1, l1));
		} else {
			EXPECT_EQ(-EINVAL, r);
		}
	}
	ASSERT_EQ(0, truth_sm_save(b, &s3, &l3));
	ASSERT_EQ(l1, l3);
	EXPECT_EQ(0, memcmp(s1, s3, l1));
	free(s1);
	free(s2);
	free(s3);
	truth_sm_free(b);
}

/* Exactly-once records go after an hour without requests, not while blocked. */
TEST_F(sm, client_records_expire)
{
	const char *incr[] = { "INCR", "n" };
	char id[2][24];

	open_sessions(&self->t, 2, id);	/* clients 1 and 2 */
	smtest_apply(&self->t, 1, "LOCK.ACQUIRE", "L", id[0], NULL);
	smtest_apply(&self->t, 2, "LOCK.ACQUIRE", "L", id[1], NULL);	/* blocked */
	smtest_applyv(&self->t, 3, 1, 2, incr);
	EXPECT_EQ(self->t.ts + 5000 * MS, truth_sm_next_deadline(self->t.sm));
	/* sessions kept alive by client 4, so only client records age */
	self->t.ts += TRUTH_SM_CLIENT_IDLE_NS - 1000 * MS;
	smtest_apply(&self->t, 4, "SESSION.KEEPALIVE", id[0], NULL);
	smtest_apply(&self->t, 4, "SESSION.KEEPALIVE", id[1], NULL);
	self->t.ts += 2000 * MS;
	smtest_tick(&self->t);
	smtest_apply(&self->t, 4, "SESSION.KEEPALIVE", id[0], NULL);
	smtest_apply(&self->t, 4, "SESSION.KEEPALIVE", id[1], NULL);
	/* client 3's record is gone: its old request is new again */
	smtest_applyv(&self->t, 3, 1, 2, incr);
	EXPECT_STREQ(":2\r\n", smtest_reply(&self->t, 3, 1));
	/* client 2 waits in the lock queue: its record stays, the retry is still pending */
	smtest_applyv(&self->t, 2, 2, 3, (const char *[]){ "LOCK.ACQUIRE", "L", id[1] });
	EXPECT_EQ(0, self->t.fx.n);
	/* client 1 (idle, holding nothing blocked) is gone: a duplicate OPEN reapplies */
	smtest_applyv(&self->t, 1, 1, 2, (const char *[]){ "SESSION.OPEN", "5000" });
	EXPECT_STREQ(":3\r\n", smtest_reply(&self->t, 1, 1));
}

/*
 * A record kept because its request is still blocked must not hold the next
 * deadline in the past: truthd proposes a TICK whenever the deadline has
 * passed, so that would be one TICK a second for as long as it stays blocked.
 */
TEST_F(sm, blocked_client_does_not_stall_the_deadline)
{
	char id[2][24];
	int64_t tick_ts;

	open_sessions(&self->t, 2, id);	/* clients 1 and 2 */
	smtest_apply(&self->t, 1, "LOCK.ACQUIRE", "L", id[0], NULL);
	smtest_apply(&self->t, 2, "LOCK.ACQUIRE", "L", id[1], NULL);	/* blocked */
	/* sessions kept alive by client 4, so only client records age */
	self->t.ts += TRUTH_SM_CLIENT_IDLE_NS - 1000 * MS;
	smtest_apply(&self->t, 4, "SESSION.KEEPALIVE", id[0], NULL);
	smtest_apply(&self->t, 4, "SESSION.KEEPALIVE", id[1], NULL);
	self->t.ts += 2000 * MS;
	EXPECT_GT(self->t.ts, truth_sm_next_deadline(self->t.sm));	/* a TICK is due */
	tick_ts = self->t.ts;
	smtest_tick(&self->t);
	/* client 2 is still blocked, so its record stays; the deadline moved on */
	smtest_applyv(&self->t, 2, 2, 3, (const char *[]){ "LOCK.ACQUIRE", "L", id[1] });
	EXPECT_EQ(0, self->t.fx.n);
	self->t.ts += 1000 * MS;
	smtest_apply(&self->t, 4, "SESSION.KEEPALIVE", id[0], NULL);
	smtest_apply(&self->t, 4, "SESSION.KEEPALIVE", id[1], NULL);
	EXPECT_LT(self->t.ts, truth_sm_next_deadline(self->t.sm));
	/* an hour after that TICK, with client 2 still waiting, one more is due */
	self->t.ts = tick_ts + TRUTH_SM_CLIENT_IDLE_NS + 1000 * MS;
	smtest_apply(&self->t, 4, "SESSION.KEEPALIVE", id[0], NULL);
	smtest_apply(&self->t, 4, "SESSION.KEEPALIVE", id[1], NULL);
	EXPECT_GT(self->t.ts, truth_sm_next_deadline(self->t.sm));
	smtest_tick(&self->t);
	EXPECT_LT(self->t.ts, truth_sm_next_deadline(self->t.sm));
}

/* The log entry: round trip, every truncation and trailing byte refused, applied as sent. */
TEST_F(sm, entry_codec)
{
	struct truth_resp_arg a[4] = { { "SET", 3 }, { "k\0x", 3 }, { "", 0 }, { "NX", 2 } };
	struct truth_sm_cmd c = { .ts_ns = 1234567, .hlc = 0x1122334455660007ull, .client_id = 9,
				  .seq = 3, .argc = 4, .argv = a };
	struct truth_sm_cmd d;
	struct truth_resp_arg *dv;
	uint8_t *buf, *big;
	long len;
	size_t i;

	len = truth_sm_entry_encode(&c, &buf);
	ASSERT_EQ(37 + 4 * 4 + 3 + 3 + 0 + 2, len);
	EXPECT_EQ(2, buf[0]);
	EXPECT_EQ(0x1122334455660007ull, truth_sm_entry_hlc(buf, (size_t)len));
	EXPECT_EQ(0, truth_sm_entry_hlc(buf, 36));
	ASSERT_EQ(0, truth_sm_entry_decode(buf, (size_t)len, &d, &dv));
	EXPECT_EQ(1234567, d.ts_ns);
	EXPECT_EQ(0x1122334455660007ull, d.hlc);
	EXPECT_EQ(9, d.client_id);
	EXPECT_EQ(3, d.seq);
	ASSERT_EQ(4, d.argc);
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(a[i].len, d.argv[i].len);
		EXPECT_EQ(0, memcmp(a[i].ptr, d.argv[i].ptr, a[i].len));
	}
	d.index = 1;
	truth_sm_effects_reset(&self->t.fx);
	ASSERT_EQ(0, truth_sm_apply(self->t.sm, &d, &self->t.fx));
	EXPECT_STREQ("+OK\r\n", smtest_reply(&self->t, 9, 3));
	free(dv);
	for (i = 0; i < (size_t)len; i++)
		EXPECT_EQ(-EINVAL, truth_sm_entry_decode(buf, i, &d, &dv)) TH_LOG("cut at %zu", i);
	big = malloc((size_t)len + 1);
	memcpy(big, buf, (size_t)len);
	big[len] = 0;
	EXPECT_EQ(-EINVAL, truth_sm_entry_decode(big, (size_t)len + 1, &d, &dv));
	big[0] = 3;	/* unknown version */
	EXPECT_EQ(-EINVAL, truth_sm_entry_decode(big, (size_t)len, &d, &dv));
	/* version 1 (no hlc field): the same command, hlc 0 */
	big[0] = 1;
	memmove(big + 9, big + 17, (size_t)len - 17);
	ASSERT_EQ(0, truth_sm_entry_decode(big, (size_t)len - 8, &d, &dv));
	EXPECT_EQ(1234567, d.ts_ns);
	EXPECT_EQ(0, d.hlc);
	EXPECT_EQ(9, d.client_id);
	EXPECT_EQ(3, d.seq);
	EXPECT_EQ(4, d.argc);
	EXPECT_EQ(0, truth_sm_entry_hlc(big, (size_t)len - 8));
	free(dv);
	free(big);
	/* the largest HLC applied is the machine's, and survives a snapshot */
	EXPECT_EQ(0x1122334455660007ull, truth_sm_hlc(self->t.sm));
	free(buf);
	c.argc = 0;
	EXPECT_EQ(-EINVAL, truth_sm_entry_encode(&c, &buf));
}

/* TRUTH.REQ: the inner command is the request, with the client's id and sequence. */
TEST_F(sm, envelope)
{
	static const char *const words[] = { "TRUTH.REQ", "77", "5", "INCRBY", "n", "3" };
	struct truth_resp_arg a[6];
	struct truth_resp_cmd cmd = { 6, a, false };
	struct truth_resp_request req;
	struct truth_resp_out o;
	int i;

	for (i = 0; i < 6; i++) {
		a[i].ptr = words[i];
		a[i].len = strlen(words[i]);
	}
	truth_resp_out_init(&o);
	ASSERT_EQ(0, truth_resp_request_parse(&cmd, &req, &o));
	EXPECT_STREQ("incrby", req.cmd->name);
	EXPECT_EQ(77, req.client_id);
	EXPECT_EQ(5, req.client_seq);
	EXPECT_EQ(3, req.argc);
	EXPECT_EQ(3, req.u.incrby.delta);
	a[1].ptr = "0";
	a[1].len = 1;
	EXPECT_EQ(-1, truth_resp_request_parse(&cmd, &req, &o));
	a[1].ptr = "77";
	a[1].len = 2;
	a[3].ptr = "truth.req";
	a[3].len = 9;
	EXPECT_EQ(-1, truth_resp_request_parse(&cmd, &req, &o));
	EXPECT_NE(NULL, memmem(o.buf, o.len, "positive integers", 17));
	EXPECT_NE(NULL, memmem(o.buf, o.len, "cannot be nested", 16));
	truth_resp_out_free(&o);
	/* options between seq and the command: HLC, COMMITWAIT (which implies HLC) */
	{
		static const char *const ok1[] = { "TRUTH.REQ", "7", "1", "HLC", "SET", "k", "v" };
		static const char *const ok2[] = { "TRUTH.REQ", "7", "2", "commitwait", "hlc",
						   "SET", "k", "v" };
		static const char *const rd[] = { "TRUTH.REQ", "7", "3", "HLC", "GET", "k" };
		static const char *const bad1[] = { "TRUTH.REQ", "7", "4", "COMMITWAIT", "GET", "k" };
		static const char *const bad2[] = { "TRUTH.REQ", "7", "5", "HLC", "PING" };
		static const char *const bad3[] = { "TRUTH.REQ", "7", "6", "HLC", "COMMITWAIT" };
		const char *const *all[] = { ok1, ok2, rd, bad1, bad2, bad3 };
		const unsigned int n[] = { 7, 8, 6, 6, 5, 5 };
		const uint32_t want[] = { TRUTH_RESP_REQ_HLC,
					  TRUTH_RESP_REQ_HLC | TRUTH_RESP_REQ_COMMITWAIT,
					  TRUTH_RESP_REQ_HLC };
		const char *why[] = { "COMMITWAIT applies to write commands only",
				      "HLC applies to commands served through the log",
				      "needs a command after its options" };
		struct truth_resp_arg b[8];
		unsigned int k, j;

		for (k = 0; k < 6; k++) {
			struct truth_resp_cmd c2 = { n[k], b, false };

			for (j = 0; j < n[k]; j++) {
				b[j].ptr = all[k][j];
				b[j].len = strlen(all[k][j]);
			}
			truth_resp_out_init(&o);
			if (k < 3) {
				ASSERT_EQ(0, truth_resp_request_parse(&c2, &req, &o));
				EXPECT_EQ(want[k], req.opts);
				EXPECT_EQ(7, req.client_id);
				EXPECT_EQ(0, o.len);
			} else {
				EXPECT_EQ(-1, truth_resp_request_parse(&c2, &req, &o));
				EXPECT_NE(NULL, memmem(o.buf, o.len, why[k - 3], strlen(why[k - 3])))
					TH_LOG("case %u: %.*s", k, (int)o.len, o.buf);
			}
			truth_resp_out_free(&o);
		}
	}
	/* an envelope that reached the log applies as its inner command */
	EXPECT_APPLY(":3\r\n", 1, "TRUTH.REQ", "1", "9", "INCRBY", "n", "3");
	EXPECT_APPLY(":1\r\n", 1, "TRUTH.REQ", "1", "9", "SESSION.OPEN", "1000");
}

TEST_HARNESS_MAIN
