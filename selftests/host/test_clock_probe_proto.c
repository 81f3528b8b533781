// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of the probe engine's protocol, without sockets: two engines
 * on hand-driven clocks exchange struct truth_wire_msg directly, so every
 * timestamp is known.  Checks the four timestamps a sample gets, two-step
 * follow-ups (in order, first, missing), that an unauthenticated receive
 * trailer is ignored without tc stamping, unclaimed and foreign replies,
 * echo mismatches, and configuration errors.
 */
#include <errno.h>
#include <string.h>

#include "clock/probe.h"
#include "kselftest_harness.h"

struct hand {
	int64_t local;			/* local clock now */
	int64_t ref;			/* reference clock now */
	int64_t stamp_to_local;		/* local = stamp + this */
	int64_t stamp_to_ref;		/* ref = stamp + this */
};

static int64_t h_local(void *a) { return ((struct hand *)a)->local; }
static int64_t h_ref(void *a) { return ((struct hand *)a)->ref; }

static int64_t h_stamp_local(void *a, int64_t s, uint32_t *err)
{
	*err = 0;
	return s + ((struct hand *)a)->stamp_to_local;
}

static int64_t h_stamp_ref(void *a, int64_t s)
{
	return s + ((struct hand *)a)->stamp_to_ref;
}

struct got {
	unsigned int n;
	struct truth_probe_sample s;
};

static void on_sample(void *arg, const struct truth_probe_sample *s)
{
	struct got *g = arg;

	g->n++;
	g->s = *s;
}

FIXTURE(proto) {
	struct hand ha, hb;
	struct truth_probe_clock ca, cb;
	struct truth_probe *a, *b;	/* client 1, server 2 */
	struct got ga;
};

static void make_clock(struct truth_probe_clock *c, struct hand *h)
{
	c->local_now = h_local;
	c->ref_now = h_ref;
	c->stamp_local = h_stamp_local;
	c->stamp_ref = h_stamp_ref;
	c->arg = h;
	c->local_clock_id = -1;
	c->ref_slew_ppb = 0;
}

FIXTURE_SETUP(proto)
{
	struct truth_probe_config cfg;
	char err[128];

	/* true time 1e18; a's local clock 5 s behind, b's reference 3 us fast */
	self->ha = (struct hand){ 1000000000000000000LL - 5000000000LL,
				  1000000000000000000LL, -5000000000LL, 0 };
	self->hb = (struct hand){ 42, 1000000000000003000LL, 0, 3000 };
	make_clock(&self->ca, &self->ha);
	make_clock(&self->cb, &self->hb);
	self->ca.ref_slew_ppb = 100000000;	/* a's reference may slew 10% */
	truth_probe_config_default(&cfg);
	cfg.group = 5;
	cfg.poll = 1000000000;
	cfg.self = 1;
	cfg.self_error = 0;
	self->a = truth_probe_new(&cfg, &self->ca, err, sizeof(err));
	ASSERT_NE(NULL, self->a);
	cfg.self = 2;
	cfg.self_error = 10000;		/* b claims 10 us */
	cfg.two_step = true;
	self->b = truth_probe_new(&cfg, &self->cb, err, sizeof(err));
	ASSERT_NE(NULL, self->b);
	ASSERT_EQ(0, truth_probe_peer_add(self->a, 2));
	ASSERT_EQ(0, truth_probe_peer_add(self->b, 1));
	memset(&self->ga, 0, sizeof(self->ga));
	truth_probe_set_sample_cb(self->a, on_sample, &self->ga);
}

FIXTURE_TEARDOWN(proto)
{
	truth_probe_free(self->a);
	truth_probe_free(self->b);
}

/* Advance both hands' clocks by @ns of true time. */
static void tick(struct _test_data_proto *self, int64_t ns)
{
	self->ha.local += ns;
	self->ha.ref += ns;
	self->hb.local += ns;
	self->hb.ref += ns;
}

/* a's first probe, received by b 100 us later; b's first reply. */
static void exchange(struct __test_metadata *_metadata,
		     struct _test_data_proto *self, struct truth_probe_out *probe,
		     struct truth_probe_out *reply)
{
	int64_t t;

	tick(self, 1000000000);		/* the first probe is due */
	ASSERT_EQ(1, truth_probe_next(self->a, probe));
	ASSERT_EQ(TRUTH_WIRE_PROBE, probe->msg.type);
	ASSERT_EQ(2, probe->msg.receiver);
	ASSERT_EQ(TRUTH_WIRE_TSRC_USER, probe->msg.probe.tx_src);
	ASSERT_NE(0, probe->tx_cookie);
	/* the kernel's TX time: 2 us after the clock read, as REALTIME */
	t = self->ha.ref + 2000;
	ASSERT_EQ(0, truth_probe_on_tx_time(self->a, probe->tx_cookie, t,
					    TRUTH_WIRE_TSRC_SOCKET));
	tick(self, 100000);
	/* b's kernel stamped the receipt at true time (= REALTIME here) */
	ASSERT_EQ(0, truth_probe_on_datagram(self->b, &probe->msg,
					     self->hb.ref - 3000, TRUTH_WIRE_TSRC_SOCKET));
	tick(self, 20000);
	ASSERT_EQ(1, truth_probe_next(self->b, reply));
	ASSERT_EQ(TRUTH_WIRE_PROBE_REPLY, reply->msg.type);
	ASSERT_TRUE(reply->msg.flags & TRUTH_WIRE_F_TWO_STEP);
	ASSERT_EQ(10000, reply->msg.index);	/* b's claim */
	ASSERT_EQ(probe->msg.probe.tx, reply->msg.probe.echo_tx);
	ASSERT_EQ(TRUTH_WIRE_TSRC_SOCKET, reply->msg.probe.echo_rx_src);
	ASSERT_EQ(TRUTH_WIRE_TSRC_USER, reply->msg.probe.tx_src);
}

TEST_F(proto, two_step_in_order)
{
	struct truth_probe_out probe, reply, fu;
	struct truth_probe_stats st;
	int64_t t1, t3;

	exchange(_metadata, self, &probe, &reply);
	t1 = self->ha.local - 120000 + 2000;	/* a's kernel TX time, local */
	/* b's kernel sent it 5 us after the provisional read */
	t3 = (int64_t)reply.msg.probe.tx + 5000;
	ASSERT_EQ(0, truth_probe_on_tx_time(self->b, reply.tx_cookie, t3 - 3000,
					    TRUTH_WIRE_TSRC_SOCKET));
	ASSERT_EQ(1, truth_probe_next(self->b, &fu));
	EXPECT_FALSE(fu.msg.flags & TRUTH_WIRE_F_TWO_STEP);
	EXPECT_EQ(t3, (int64_t)fu.msg.probe.tx);
	EXPECT_EQ(TRUTH_WIRE_TSRC_SOCKET, fu.msg.probe.tx_src);
	EXPECT_EQ(0, fu.tx_cookie);
	EXPECT_EQ(reply.msg.probe.id, fu.msg.probe.id);
	tick(self, 80000);
	ASSERT_EQ(0, truth_probe_on_datagram(self->a, &reply.msg,
					     self->ha.ref, TRUTH_WIRE_TSRC_SOCKET));
	EXPECT_EQ(0, self->ga.n);		/* waiting for the follow-up */
	tick(self, 1000);
	ASSERT_EQ(0, truth_probe_on_datagram(self->a, &fu.msg, self->ha.ref,
					     TRUTH_WIRE_TSRC_SOCKET));
	ASSERT_EQ(1, self->ga.n);
	EXPECT_TRUE(self->ga.s.followup);
	EXPECT_EQ(t1, self->ga.s.x.t1);
	EXPECT_EQ((int64_t)reply.msg.probe.echo_rx, self->ga.s.x.t2);
	EXPECT_EQ(t3, self->ga.s.x.t3);
	/* T4: the first reply's receipt, not the follow-up's */
	EXPECT_EQ(self->ha.local - 1000, self->ga.s.x.t4);
	EXPECT_EQ(10000, self->ga.s.x.peer_error);
	EXPECT_EQ(TRUTH_WIRE_TSRC_SOCKET, self->ga.s.src[0]);
	EXPECT_EQ(TRUTH_WIRE_TSRC_SOCKET, self->ga.s.src[2]);
	EXPECT_EQ(0, self->ga.s.result);
	/* offset: b's reference is 3 us fast of true, a's local 5 s slow */
	EXPECT_LE(self->ga.s.offset - 5000003000LL, 100000);
	EXPECT_GE(self->ga.s.offset - 5000003000LL, -100000);
	truth_probe_get_stats(self->a, &st);
	EXPECT_EQ(1, st.followups);
	EXPECT_EQ(1, st.tx_stamps);
}

TEST_F(proto, followup_first_then_late_reply)
{
	struct truth_probe_out probe, reply, fu;
	struct truth_probe_stats st;

	exchange(_metadata, self, &probe, &reply);
	ASSERT_EQ(0, truth_probe_on_tx_time(self->b, reply.tx_cookie,
					    (int64_t)reply.msg.probe.tx - 3000 + 4000,
					    TRUTH_WIRE_TSRC_SOCKET));
	ASSERT_EQ(1, truth_probe_next(self->b, &fu));
	tick(self, 90000);
	/* the follow-up overtakes the reply: an ordinary reply, its own T4 */
	ASSERT_EQ(0, truth_probe_on_datagram(self->a, &fu.msg, self->ha.ref,
					     TRUTH_WIRE_TSRC_SOCKET));
	ASSERT_EQ(1, self->ga.n);
	EXPECT_FALSE(self->ga.s.followup);
	EXPECT_EQ(self->ha.local, self->ga.s.x.t4);
	EXPECT_EQ(TRUTH_WIRE_TSRC_SOCKET, self->ga.s.src[2]);
	tick(self, 1000);
	EXPECT_EQ(-ENOENT, truth_probe_on_datagram(self->a, &reply.msg, self->ha.ref,
						   TRUTH_WIRE_TSRC_SOCKET));
	EXPECT_EQ(1, self->ga.n);
	truth_probe_get_stats(self->a, &st);
	EXPECT_EQ(1, st.stray);
}

TEST_F(proto, followup_missing)
{
	struct truth_probe_out probe, reply, out;
	struct truth_probe_stats st;

	exchange(_metadata, self, &probe, &reply);
	tick(self, 80000);
	ASSERT_EQ(0, truth_probe_on_datagram(self->a, &reply.msg, self->ha.ref,
					     TRUTH_WIRE_TSRC_SOCKET));
	EXPECT_EQ(0, self->ga.n);
	tick(self, TRUTH_PROBE_DEFAULT_FOLLOWUP + 1);
	truth_probe_next(self->a, &out);	/* expires the wait */
	ASSERT_EQ(1, self->ga.n);
	EXPECT_EQ((int64_t)reply.msg.probe.tx, self->ga.s.x.t3);
	EXPECT_EQ(TRUTH_WIRE_TSRC_USER, self->ga.s.src[2]);
	EXPECT_EQ(0, self->ga.s.result);
	truth_probe_get_stats(self->a, &st);
	EXPECT_EQ(1, st.followups_missed);
}

/* The receive trailer is not under the MAC: ignored without tc stamping. */
TEST_F(proto, forged_trailer_ignored)
{
	struct truth_probe_out probe, reply;

	exchange(_metadata, self, &probe, &reply);
	reply.msg.flags &= (uint8_t)~TRUTH_WIRE_F_TWO_STEP;
	reply.msg.probe.rx = 12345;
	reply.msg.probe.rx_src = TRUTH_WIRE_TSRC_TC;
	tick(self, 80000);
	ASSERT_EQ(0, truth_probe_on_datagram(self->a, &reply.msg, self->ha.ref,
					     TRUTH_WIRE_TSRC_SOCKET));
	ASSERT_EQ(1, self->ga.n);
	EXPECT_EQ(self->ha.local, self->ga.s.x.t4);
	EXPECT_EQ(TRUTH_WIRE_TSRC_SOCKET, self->ga.s.src[3]);
}

TEST_F(proto, unusable_replies)
{
	struct truth_probe_out probe, reply, r2;
	struct truth_probe_stats st;

	exchange(_metadata, self, &probe, &reply);
	reply.msg.flags &= (uint8_t)~TRUTH_WIRE_F_TWO_STEP;
	/* for someone else, another group, an unknown sender */
	r2 = reply;
	r2.msg.receiver = 3;
	EXPECT_EQ(-EINVAL, truth_probe_on_datagram(self->a, &r2.msg, 1, TRUTH_WIRE_TSRC_SOCKET));
	r2 = reply;
	r2.msg.group = 6;
	EXPECT_EQ(-EINVAL, truth_probe_on_datagram(self->a, &r2.msg, 1, TRUTH_WIRE_TSRC_SOCKET));
	r2 = reply;
	r2.msg.sender = 9;
	EXPECT_EQ(-EINVAL, truth_probe_on_datagram(self->a, &r2.msg, 1, TRUTH_WIRE_TSRC_SOCKET));
	/* echo of a tx we never sent */
	r2 = reply;
	r2.msg.probe.echo_tx++;
	EXPECT_EQ(-EINVAL, truth_probe_on_datagram(self->a, &r2.msg, 1, TRUTH_WIRE_TSRC_SOCKET));
	/* bad rx source from the daemon */
	EXPECT_EQ(-EINVAL, truth_probe_on_datagram(self->a, &reply.msg, 1, 99));
	EXPECT_EQ(0, self->ga.n);
	/* the server is not synchronised: the reply is matched but not used */
	r2 = reply;
	r2.msg.index = TRUTH_PROBE_NO_CLAIM;
	EXPECT_EQ(0, truth_probe_on_datagram(self->a, &r2.msg, self->ha.ref,
					     TRUTH_WIRE_TSRC_SOCKET));
	EXPECT_EQ(0, self->ga.n);
	truth_probe_get_stats(self->a, &st);
	EXPECT_EQ(1, st.unclaimed);
	EXPECT_EQ(4, st.foreign);
	/* an unknown TX cookie, a USER "kernel" time */
	EXPECT_EQ(-ENOENT, truth_probe_on_tx_time(self->a, 777, 1, TRUTH_WIRE_TSRC_SOCKET));
	EXPECT_EQ(-EINVAL, truth_probe_on_tx_time(self->a, 777, 1, TRUTH_WIRE_TSRC_USER));
}

/*
 * Once synchronised, a non-anchor claims what its estimate proves about its
 * reference clock, widened by the reference's slew over the time since T2.
 */
TEST_F(proto, derived_claim_widened)
{
	struct truth_probe_out probe, reply, bp, ar;
	uint64_t c;

	exchange(_metadata, self, &probe, &reply);
	reply.msg.flags &= (uint8_t)~TRUTH_WIRE_F_TWO_STEP;
	tick(self, 80000);
	ASSERT_EQ(0, truth_probe_on_datagram(self->a, &reply.msg, self->ha.ref,
					     TRUTH_WIRE_TSRC_SOCKET));
	ASSERT_EQ(1, self->ga.n);
	c = truth_probe_claim(self->a);
	ASSERT_NE(TRUTH_PROBE_NO_CLAIM, c);
	/* a's estimate: b's 10 us claim plus half the round trip, about */
	EXPECT_LT(c, 200000);
	/* b probes a; a answers 1 ms after the receipt */
	tick(self, 2000000000);
	ASSERT_EQ(1, truth_probe_next(self->b, &bp));
	ASSERT_EQ(TRUTH_WIRE_PROBE, bp.msg.type);
	ASSERT_EQ(0, truth_probe_on_datagram(self->a, &bp.msg, self->ha.ref,
					     TRUTH_WIRE_TSRC_SOCKET));
	tick(self, 1000000);
	c = truth_probe_claim(self->a);
	ASSERT_EQ(1, truth_probe_next(self->a, &ar));
	ASSERT_EQ(TRUTH_WIRE_PROBE_REPLY, ar.msg.type);
	EXPECT_EQ(c + truth_clockbound_growth(1000000, 100000000), ar.msg.index);
}

/* Hand clocks' pair: local and stamp clocks together, exact. */
static void h_pair_now(void *a, struct truth_probe_pair *p)
{
	struct hand *h = a;

	p->local = h->local;
	p->stamp = h->local - h->stamp_to_local;
	p->err = 7;
}

static int64_t h_pair_local(void *a, const struct truth_probe_pair *p,
			    int64_t stamp, uint32_t *err)
{
	*err = p->err;
	return p->local + (stamp - p->stamp);
}

static bool h_ref_is_stamp(void *a)
{
	return !((struct hand *)a)->stamp_to_ref;
}

/* What truth.ko's egress hook does to a datagram with F_STAMP; false without. */
static bool kernel_stamp(struct truth_wire_msg *m, int64_t now)
{
	if (!(m->flags & TRUTH_WIRE_F_STAMP))
		return false;
	m->flags |= TRUTH_WIRE_F_KSTAMPED;
	m->probe.tx = (uint64_t)now;
	m->probe.tx_src = TRUTH_WIRE_TSRC_TC;
	return true;
}

/*
 * tc_kstamp: probes and replies ask the egress hook for their transmit
 * time; T1 is the echoed kernel stamp through the pair read before the
 * send, T3 the server's kernel stamp with the claim widened over T3 - T2;
 * a probe the hook did not stamp falls back to the socket's TX time; a
 * skewed server does not ask; a follow-up never asks.
 */
TEST(kstamp)
{
	struct hand ha = { 1000000000000000000LL - 5000000000LL,
			   1000000000000000000LL, -5000000000LL, 0 };
	struct hand hb = { 42, 1000000000000000000LL, 42 - 1000000000000000000LL, 0 };
	struct truth_probe_out probe, reply, fu;
	struct truth_probe_clock ca, cb;
	struct truth_probe_config cfg;
	struct truth_probe_stats st;
	struct truth_probe *a, *b;
	struct got ga = { 0 };
	int64_t t1k, t3k, t2, g;
	char err[128];
	int i;

	make_clock(&ca, &ha);
	make_clock(&cb, &hb);
	ca.pair_now = cb.pair_now = h_pair_now;
	ca.pair_local = cb.pair_local = h_pair_local;
	ca.ref_is_stamp = cb.ref_is_stamp = h_ref_is_stamp;
	truth_probe_config_default(&cfg);
	cfg.group = 5;
	cfg.poll = 1000000000;
	cfg.self = 1;
	cfg.two_step = true;
	cfg.tc_kstamp = true;
	a = truth_probe_new(&cfg, &ca, err, sizeof(err));
	ASSERT_EQ(NULL, a);
	EXPECT_STREQ("tc_kstamp: needs tc_stamps (the fast path's hooks)", err);
	cfg.tc_stamps = true;
	a = truth_probe_new(&cfg, &ca, err, sizeof(err));
	ASSERT_NE(NULL, a);
	cfg.self = 2;
	cfg.self_error = 10000;
	b = truth_probe_new(&cfg, &cb, err, sizeof(err));
	ASSERT_NE(NULL, b);
	ASSERT_EQ(0, truth_probe_peer_add(a, 2));
	ASSERT_EQ(0, truth_probe_peer_add(b, 1));
	truth_probe_set_sample_cb(a, on_sample, &ga);

	for (i = 0; i < 3; i++) {
		/* past the next poll, jitter included */
		ha.local += 1100000000; ha.ref += 1100000000;
		hb.local += 1100000000; hb.ref += 1100000000;
		ASSERT_EQ(1, truth_probe_next(a, &probe));
		ASSERT_TRUE(probe.msg.flags & TRUTH_WIRE_F_STAMP);
		/* a's hook stamps 3 us after the pair (REALTIME = true here) */
		t1k = ha.ref + 3000;
		if (i != 1)
			ASSERT_TRUE(kernel_stamp(&probe.msg, t1k));
		/* the socket's TX time, later than the hook's */
		ASSERT_EQ(0, truth_probe_on_tx_time(a, probe.tx_cookie, t1k + 2000,
						    TRUTH_WIRE_TSRC_SOCKET));
		ha.local += 100000; ha.ref += 100000;
		hb.local += 100000; hb.ref += 100000;
		t2 = hb.ref - 1000;
		ASSERT_EQ(0, truth_probe_on_datagram(b, &probe.msg, t2,
						     TRUTH_WIRE_TSRC_TC));
		ha.local += 50000; ha.ref += 50000;
		hb.local += 50000; hb.ref += 50000;
		if (i == 2)
			hb.stamp_to_ref = 3000;	/* b skewed: its T3 is not kernel time */
		ASSERT_EQ(1, truth_probe_next(b, &reply));
		ASSERT_EQ(TRUTH_WIRE_PROBE_REPLY, reply.msg.type);
		if (i == 2) {
			EXPECT_FALSE(reply.msg.flags & TRUTH_WIRE_F_STAMP);
			EXPECT_TRUE(reply.msg.flags & TRUTH_WIRE_F_TWO_STEP);
			break;
		}
		ASSERT_TRUE(reply.msg.flags & TRUTH_WIRE_F_STAMP);
		/* b has not seen its own probes stamped: still two-step */
		EXPECT_TRUE(reply.msg.flags & TRUTH_WIRE_F_TWO_STEP);
		t3k = hb.ref + 4000;
		ASSERT_TRUE(kernel_stamp(&reply.msg, t3k));
		/* b's follow-up of a stamped reply must not be stamped again */
		ASSERT_EQ(0, truth_probe_on_tx_time(b, reply.tx_cookie, t3k + 1000,
						    TRUTH_WIRE_TSRC_SOCKET));
		ASSERT_EQ(1, truth_probe_next(b, &fu));
		EXPECT_FALSE(fu.msg.flags & (TRUTH_WIRE_F_STAMP | TRUTH_WIRE_F_TWO_STEP));
		ha.local += 80000; ha.ref += 80000;
		hb.local += 80000; hb.ref += 80000;
		ASSERT_EQ(0, truth_probe_on_datagram(a, &reply.msg, ha.ref - 500,
						     TRUTH_WIRE_TSRC_TC));
		/* complete at once: no follow-up can better a kernel T3 */
		ASSERT_EQ((unsigned int)i + 1, ga.n);
		EXPECT_EQ(TRUTH_WIRE_TSRC_TC, ga.s.src[1]);
		EXPECT_EQ(TRUTH_WIRE_TSRC_TC, ga.s.src[2]);
		EXPECT_EQ(TRUTH_WIRE_TSRC_TC, ga.s.src[3]);
		EXPECT_EQ(t3k, ga.s.x.t3);
		g = (int64_t)truth_clockbound_growth(t3k - t2, TRUTH_PROBE_REALTIME_SLEW_PPB);
		EXPECT_EQ(10000 + g, (int64_t)ga.s.x.peer_error);
		EXPECT_EQ(0, ga.s.result);
		if (i == 0) {
			/* the echoed hook stamp, through the pair: exact here */
			EXPECT_EQ(TRUTH_WIRE_TSRC_TC, ga.s.src[0]);
			EXPECT_EQ(t1k - 5000000000LL, ga.s.x.t1);
		} else {
			/* not stamped: the socket's time */
			EXPECT_EQ(TRUTH_WIRE_TSRC_SOCKET, ga.s.src[0]);
			EXPECT_EQ(t1k + 2000 - 5000000000LL, ga.s.x.t1);
		}
	}
	truth_probe_get_stats(a, &st);
	EXPECT_EQ(1, st.kstamp_unstamped);
	EXPECT_EQ(2, st.kstamp_replies);
	EXPECT_EQ(3, st.kstamp_asked);
	truth_probe_free(a);
	truth_probe_free(b);
}

/* A server that saw its own probes stamped drops two-step. */
TEST(kstamp_known_drops_two_step)
{
	struct hand ha = { 1000, 1000000000000000000LL, 1000 - 1000000000000000000LL, 0 };
	struct hand hb = { 2000, 1000000000000000000LL, 2000 - 1000000000000000000LL, 0 };
	struct truth_probe_out pa, pb, ra, rb;
	struct truth_probe_clock ca, cb;
	struct truth_probe_config cfg;
	struct truth_probe *a, *b;
	char err[128];

	make_clock(&ca, &ha);
	make_clock(&cb, &hb);
	ca.pair_now = cb.pair_now = h_pair_now;
	ca.pair_local = cb.pair_local = h_pair_local;
	ca.ref_is_stamp = cb.ref_is_stamp = h_ref_is_stamp;
	truth_probe_config_default(&cfg);
	cfg.group = 5;
	cfg.poll = 1000000000;
	cfg.two_step = cfg.tc_stamps = cfg.tc_kstamp = true;
	cfg.self_error = 10000;
	cfg.self = 1;
	a = truth_probe_new(&cfg, &ca, err, sizeof(err));
	cfg.self = 2;
	b = truth_probe_new(&cfg, &cb, err, sizeof(err));
	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	ASSERT_EQ(0, truth_probe_peer_add(a, 2));
	ASSERT_EQ(0, truth_probe_peer_add(b, 1));
	ha.local += 1000000000; ha.ref += 1000000000;
	hb.local += 1000000000; hb.ref += 1000000000;
	/* b probes a; a answers; both stamped by the hooks */
	ASSERT_EQ(1, truth_probe_next(b, &pb));
	ASSERT_TRUE(kernel_stamp(&pb.msg, hb.ref + 10));
	ASSERT_EQ(0, truth_probe_on_datagram(a, &pb.msg, ha.ref + 20, TRUTH_WIRE_TSRC_TC));
	ASSERT_EQ(1, truth_probe_next(a, &ra));
	ASSERT_TRUE(kernel_stamp(&ra.msg, ha.ref + 30));
	ASSERT_EQ(0, truth_probe_on_datagram(b, &ra.msg, hb.ref + 40, TRUTH_WIRE_TSRC_TC));
	/* now a's probe to b: b knows its hook stamps */
	ASSERT_EQ(1, truth_probe_next(a, &pa));
	ASSERT_TRUE(kernel_stamp(&pa.msg, ha.ref + 50));
	ASSERT_EQ(0, truth_probe_on_datagram(b, &pa.msg, hb.ref + 60, TRUTH_WIRE_TSRC_TC));
	ASSERT_EQ(1, truth_probe_next(b, &rb));
	EXPECT_TRUE(rb.msg.flags & TRUTH_WIRE_F_STAMP);
	EXPECT_FALSE(rb.msg.flags & TRUTH_WIRE_F_TWO_STEP);
	EXPECT_EQ(0, rb.tx_cookie);
	truth_probe_free(a);
	truth_probe_free(b);
}

/* A non-anchor claims nothing until its own estimate exists. */
TEST_F(proto, claims)
{
	EXPECT_EQ(TRUTH_PROBE_NO_CLAIM, truth_probe_claim(self->a));
	EXPECT_EQ(10000, truth_probe_claim(self->b));
}

TEST(bad_config)
{
	struct truth_probe_config cfg;
	struct truth_probe_clock clk = { 0 };
	struct hand h = { 0 };
	char err[128];

	make_clock(&clk, &h);
	truth_probe_config_default(&cfg);
	EXPECT_EQ(NULL, truth_probe_new(&cfg, &clk, err, sizeof(err)));
	EXPECT_STREQ("self: node id 0 is not allowed", err);
	cfg.self = 1;
	cfg.poll = 0;
	EXPECT_EQ(NULL, truth_probe_new(&cfg, &clk, err, sizeof(err)));
	cfg.poll = 1000;
	cfg.burst = 4;
	cfg.burst_gap = 500;
	EXPECT_EQ(NULL, truth_probe_new(&cfg, &clk, err, sizeof(err)));
	EXPECT_STREQ("poll: must be positive and longer than a burst", err);
	truth_probe_config_default(&cfg);
	cfg.self = 1;
	cfg.followup_wait = cfg.reply_timeout;
	EXPECT_EQ(NULL, truth_probe_new(&cfg, &clk, err, sizeof(err)));
	truth_probe_config_default(&cfg);
	cfg.self = 1;
	cfg.clock.max_drift_ppb = 200000000;
	EXPECT_EQ(NULL, truth_probe_new(&cfg, &clk, err, sizeof(err)));
	EXPECT_STREQ("clock: invalid estimator configuration", err);
	clk.ref_now = NULL;
	truth_probe_config_default(&cfg);
	cfg.self = 1;
	EXPECT_EQ(NULL, truth_probe_new(&cfg, &clk, err, sizeof(err)));
}

TEST_HARNESS_MAIN
