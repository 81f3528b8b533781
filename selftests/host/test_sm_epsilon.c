// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Session expiry under clock error (Documentation/coordination.md "Time,
 * and why expiry is safe under clock error").
 *
 * Two truthd nodes A and B take turns leading.  Their clocks read true
 * time plus an offset within ε, and each node's bound [reading - ε,
 * reading + ε] holds true time.  truthd stamps a client command with the
 * leader's latest and a TICK with its earliest; the state machine records
 * a keepalive's deadline at (largest stamp) + TTL and a TICK ends a
 * session only when its own stamp is past that.  A holder counts its lock
 * valid for truth_clock_lease_local_duration(TTL) from when it *sent* its
 * last acknowledged keepalive.
 *
 * Checked in true time: the next holder is granted the lock only after
 * the previous holder stopped believing it holds it.  The same runs with
 * the wall clock as both bounds (ε taken as 0, truthd's behaviour while a
 * clock is unknown) must catch a double holder, so the check can fail.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "clock/clock.h"
#include "lib/smtest.h"
#include "truth_rand.h"

#define MS		1000000LL
#define EPS		(2 * MS)		/* every node's bound: ±2 ms */
#define TTL_MS		100
#define DRIFT_PPB	TRUTH_CLOCK_DEFAULT_MAX_DRIFT_PPB

enum stamping { BOUNDED, WALL };

struct node {
	int64_t offset;		/* its clock reads true + offset, |offset| <= EPS */
};

/* The stamp a leader puts on a command (latest) or a TICK (earliest). */
static int64_t stamp_of(const struct node *n, int64_t t, enum stamping s, bool tick)
{
	int64_t reading = t + n->offset;

	if (s == WALL)
		return reading;
	return tick ? reading - EPS : reading + EPS;
}

struct run {
	struct smtest t;
	struct node node[2];
	int leader;		/* 0 (A) or 1 (B) */
	enum stamping s;
	int64_t now;		/* true time, ns */
	uint64_t acquire_seq;	/* client 2's blocked LOCK.ACQUIRE */
	int64_t granted_at;	/* true time client 2 got the lock, 0 not yet */
	int64_t holder_until;	/* true time client 1 stops believing it holds */
};

static void cmd(struct run *r, uint64_t cl, const char *a, const char *b, const char *c)
{
	const char *argv[3] = { a, b, c };

	r->t.ts = stamp_of(&r->node[r->leader], r->now, r->s, false);
	smtest_applyv(&r->t, cl, 0, c ? 3 : b ? 2 : 1, argv);
}

static void granted_check(struct run *r)
{
	const char *rep;

	if (r->granted_at || !r->acquire_seq)
		return;
	rep = smtest_reply(&r->t, 2, r->acquire_seq);
	if (rep && rep[0] == ':')
		r->granted_at = r->now;
}

/* The leader's TICK, when its earliest (or its wall clock) is past a deadline. */
static void maybe_tick(struct run *r)
{
	int64_t ts = stamp_of(&r->node[r->leader], r->now, r->s, true);

	if (ts <= truth_sm_next_deadline(r->t.sm))
		return;
	r->t.ts = ts;
	smtest_tick(&r->t);
	granted_check(r);
}

/*
 * Client 1 holds lock L on session 1 (TTL 100 ms) and keeps it alive
 * every @ka ms until @stop_ms, then pauses; client 2 (session 2, a long
 * TTL) waits for L.  Leadership moves between A and B at @switch_ms
 * intervals.  Returns true if the two believed they held L at once.
 */
static bool one_run(struct run *r, int64_t ka, int64_t stop_ms, int64_t switch_ms,
		    int64_t step_us)
{
	int64_t hold = truth_clock_lease_local_duration(TTL_MS * MS, DRIFT_PPB);
	int64_t next_ka, next_switch, end;
	char ttl[16];

	snprintf(ttl, sizeof(ttl), "%d", TTL_MS);
	r->now = 1000 * MS;
	r->leader = 0;
	cmd(r, 1, "SESSION.OPEN", ttl, NULL);			/* session 1 */
	cmd(r, 2, "SESSION.OPEN", "86400000", NULL);		/* session 2 */
	/* sent now, applied (and acknowledged) at once: valid from its send */
	r->holder_until = r->now + hold;
	cmd(r, 1, "LOCK.ACQUIRE", "L", "1");
	r->acquire_seq = ++r->t.seq[2];
	{
		const char *argv[] = { "LOCK.ACQUIRE", "L", "2" };

		r->t.ts = stamp_of(&r->node[r->leader], r->now, r->s, false);
		smtest_applyv(&r->t, 2, r->acquire_seq, 3, argv);
	}
	next_ka = r->now + ka * MS;
	next_switch = r->now + switch_ms * MS;
	end = r->now + (stop_ms + 4 * TTL_MS) * MS;
	while (r->now < end && !r->granted_at) {
		r->now += step_us * 1000;
		if (r->now >= next_switch) {
			r->leader ^= 1;
			next_switch += switch_ms * MS;
		}
		if (r->now >= next_ka && r->now < 1000 * MS + stop_ms * MS) {
			int64_t sent = r->now - 100000;	/* sent 100 us before it applied */

			cmd(r, 1, "SESSION.KEEPALIVE", "1", NULL);
			if (smtest_reply(&r->t, 1, r->t.seq[1]) &&
			    smtest_reply(&r->t, 1, r->t.seq[1])[0] == ':')
				r->holder_until = sent + hold;
			next_ka += ka * MS;
		}
		maybe_tick(r);
	}
	return r->granted_at && r->granted_at < r->holder_until;
}

static int run_init(struct run *r, enum stamping s, int64_t oa, int64_t ob)
{
	memset(r, 0, sizeof(*r));
	r->s = s;
	r->node[0].offset = oa;
	r->node[1].offset = ob;
	return smtest_init(&r->t, 64);
}

/*
 * The case ε = 0 gets wrong: the keepalive is stamped by A (clock ε
 * behind), the expiry decided by B (clock ε ahead).  On wall clocks B ends
 * the session 2ε of true time early, while the holder still relies on it;
 * on the bounds it waits until true time is past the deadline.
 */
TEST(keepalive_on_a_slow_leader_expired_by_a_fast_one)
{
	struct run r;
	int64_t hold = truth_clock_lease_local_duration(TTL_MS * MS, DRIFT_PPB);

	ASSERT_EQ(0, run_init(&r, WALL, -EPS, EPS));
	/* one keepalive at A, then B leads and ticks */
	ASSERT_TRUE(one_run(&r, 1000000, 0, 1, 50));
	ASSERT_NE(0, r.granted_at);
	TH_LOG("wall clocks: granted %lld us before the holder's own bound ended",
	       (long long)(r.holder_until - r.granted_at) / 1000);
	EXPECT_LT(r.granted_at, r.holder_until);
	smtest_fini(&r.t);

	ASSERT_EQ(0, run_init(&r, BOUNDED, -EPS, EPS));
	EXPECT_FALSE(one_run(&r, 1000000, 0, 1, 50));
	ASSERT_NE(0, r.granted_at);
	EXPECT_GE(r.granted_at, r.holder_until);
	/* and not much later: the margin costs about 2ε (plus one step) */
	EXPECT_LE(r.granted_at - 1000 * MS, TTL_MS * MS + 2 * EPS + 100000);
	TH_LOG("bounded: granted %lld us after the holder's bound (%lld us) ended",
	       (long long)(r.granted_at - r.holder_until) / 1000, (long long)hold / 1000);
	smtest_fini(&r.t);
}

/*
 * Random offsets within ε (the extremes half of the time), keepalive
 * periods, pauses, leader switches: never two holders on the bounds; the
 * same runs on wall clocks find some.
 */
TEST(two_nodes_skewed_within_eps_never_make_two_holders)
{
	unsigned long n = cases(400), i, bad[2] = { 0, 0 }, granted = 0;
	uint64_t seed = seed_init();
	int s;

	TH_LOG("seed %llu (TRUTH_SEED replays), %lu runs per stamping", (unsigned long long)seed, n);
	for (i = 0; i < n; i++) {
		int64_t oa, ob, ka, stop, sw, step;

		if (rnd_below(2)) {
			oa = rnd_below(2) ? EPS : -EPS;
			ob = -oa;
		} else {
			oa = (int64_t)rnd_below(2 * EPS + 1) - EPS;
			ob = (int64_t)rnd_below(2 * EPS + 1) - EPS;
		}
		ka = 10 + (int64_t)rnd_below(60);
		stop = (int64_t)rnd_below(300);
		sw = 1 + (int64_t)rnd_below(200);
		step = 20 + (int64_t)rnd_below(400);
		for (s = BOUNDED; s <= WALL; s++) {
			struct run r;

			ASSERT_EQ(0, run_init(&r, s, oa, ob));
			if (one_run(&r, ka, stop, sw, step)) {
				bad[s]++;
				if (s == BOUNDED)
					TH_LOG("run %lu: two holders: granted %lld ns before the bound",
					       i, (long long)(r.holder_until - r.granted_at));
			}
			if (s == BOUNDED)
				granted += r.granted_at != 0;
			smtest_fini(&r.t);
		}
	}
	TH_LOG("two holders: bounded %lu/%lu, wall clocks %lu/%lu; granted %lu", bad[BOUNDED], n,
	       bad[WALL], n, granted);
	EXPECT_EQ(0, bad[BOUNDED]);
	EXPECT_EQ(n, granted);		/* every paused holder's lock did move on */
	EXPECT_GT(bad[WALL], 0);	/* the check catches ε taken as 0 */
}

/* The largest entry HLC applied survives a snapshot; a version 1 snapshot has none. */
TEST(hlc_in_snapshot)
{
	struct truth_resp_arg a[3] = { { "SET", 3 }, { "k", 1 }, { "v", 1 } };
	struct truth_sm_cmd c = { .index = 1, .ts_ns = 5 * MS, .hlc = 0x1234560001ull,
				  .client_id = 1, .seq = 1, .argc = 3, .argv = a };
	struct truth_sm *sm = truth_sm_new(NULL), *back = truth_sm_new(NULL);
	struct truth_sm_effects fx;
	uint8_t *buf, *v1;
	size_t len;

	ASSERT_NE(NULL, sm);
	ASSERT_NE(NULL, back);
	truth_sm_effects_init(&fx);
	ASSERT_EQ(0, truth_sm_apply(sm, &c, &fx));
	c.index = 2;
	c.seq = 2;
	c.hlc = 0x1234550000ull;	/* lower: the machine keeps the largest */
	ASSERT_EQ(0, truth_sm_apply(sm, &c, &fx));
	EXPECT_EQ(0x1234560001ull, truth_sm_hlc(sm));
	ASSERT_EQ(0, truth_sm_save(sm, &buf, &len));
	ASSERT_EQ(0, truth_sm_restore(back, buf, len));
	EXPECT_EQ(0x1234560001ull, truth_sm_hlc(back));
	/* the same state written by version 1: no hlc field after hist_floor */
	v1 = malloc(len);
	ASSERT_NE(NULL, v1);
	memcpy(v1, buf, 52);
	memcpy(v1 + 52, buf + 60, len - 60);
	v1[4] = 1;
	ASSERT_EQ(0, truth_sm_restore(back, v1, len - 8));
	EXPECT_EQ(0, truth_sm_hlc(back));
	v1[4] = 3;	/* unknown version: refused, state unchanged */
	EXPECT_EQ(-EINVAL, truth_sm_restore(back, v1, len - 8));
	free(v1);
	free(buf);
	truth_sm_effects_free(&fx);
	truth_sm_free(sm);
	truth_sm_free(back);
}

TEST_HARNESS_MAIN
