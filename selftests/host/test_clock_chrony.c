// SPDX-License-Identifier: GPL-2.0
/*
 * Parsing `chronyc -c tracking` and the ClockBound bound (agent/clock/
 * chrony.h), on fake tracking lines in chrony 4.3's format: synchronised,
 * unsynchronised, chronyc's error messages, malformed lines; and the
 * engine counting the external reference as a source
 * (truth_probe_set_external(): the interval holds true time, quorum).
 */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <stdint.h>
#include <time.h>

#include "clock/chrony.h"
#include "clock/probe.h"

#include "kselftest_harness.h"

static const char *sync_line =
	"A29FC87B,ntp1.example.net,2,1764140000.123456789,-0.000012345,"
	"0.000001000,0.000020000,-12.345,0.001,0.050,0.000400000,0.000100000,"
	"64.2,Normal\n";

TEST(parse_synchronised)
{
	struct truth_chrony_tracking t;
	const char *why = NULL;

	ASSERT_EQ(0, truth_chrony_parse(sync_line, &t, &why));
	EXPECT_EQ(0xA29FC87Bu, t.refid);
	EXPECT_EQ(2u, t.stratum);
	EXPECT_TRUE(t.synchronised);
	EXPECT_STREQ("Normal", t.leap);
	/* 12.345 us + 100 us + 400/2 us = 312.345 us, rounded up, +1 */
	EXPECT_EQ(312345u + 1, truth_chrony_bound_ns(&t));
}

TEST(parse_unsynchronised)
{
	struct truth_chrony_tracking t;
	const char *why = NULL;

	ASSERT_EQ(0, truth_chrony_parse("00000000,,0,0.000000000,0.000000000,"
		"0.000000000,0.000000000,0.000,0.000,0.000,1.000000000,1.000000000,"
		"0.0,Not synchronised", &t, &why));
	EXPECT_FALSE(t.synchronised);
	EXPECT_EQ(UINT64_MAX, truth_chrony_bound_ns(&t));
	/* a local reference (local stratum 1) is synchronised, bound ~0 */
	ASSERT_EQ(0, truth_chrony_parse("7F7F0101,,1,1795687483.018401722,"
		"0.000000000,0.000000000,0.000000000,0.000,0.000,0.000,0.000000000,"
		"0.000000000,0.0,Normal", &t, &why));
	EXPECT_TRUE(t.synchronised);
	EXPECT_EQ(1u, truth_chrony_bound_ns(&t));
	/* a bound over a second is not a usable claim */
	ASSERT_EQ(0, truth_chrony_parse("A29FC87B,x,3,1.0,0.9,0,0,0,0,0,0.4,0.2,1,Normal",
					&t, &why));
	EXPECT_EQ(UINT64_MAX, truth_chrony_bound_ns(&t));
}

TEST(parse_refuses_garbage)
{
	static const char *const bad[] = {
		"506 Cannot talk to daemon",
		"Could not open connection to daemon",
		"",
		"A29FC87B,x,2,1.0,0.1,0,0,0,0,0,0.1,0.1,1",		/* 13 fields */
		"A29FC87B,x,2,1.0,0.1,0,0,0,0,0,0.1,0.1,1,Normal,extra",
		"A29FC87B,x,2,1.0,zz,0,0,0,0,0,0.1,0.1,1,Normal",	/* offset */
		"A29FC87B,x,2,1.0,0.1,0,0,0,0,0,-0.1,0.1,1,Normal",	/* delay < 0 */
		"A29FC87B,x,2,1.0,0.1,0,0,0,0,0,0.1,nan,1,Normal",
		"G29FC87B,x,2,1.0,0.1,0,0,0,0,0,0.1,0.1,1,Normal",	/* refid */
		"A29FC87B,x,2.5,1.0,0.1,0,0,0,0,0,0.1,0.1,1,Normal",	/* stratum */
	};
	struct truth_chrony_tracking t;
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *why = NULL;

		EXPECT_EQ(-EINVAL, truth_chrony_parse(bad[i], &t, &why)) TH_LOG("%s", bad[i]);
		EXPECT_NE(NULL, why);
	}
}

/* A one-member engine whose only source is the external reference. */
TEST(external_reference_is_a_source)
{
	struct truth_probe_config cfg;
	struct truth_probe_clock clk;
	struct truth_probe_out o;
	struct truth_clock_now n;
	struct timespec ts;
	struct truth_probe *e;
	uint32_t slew = 1000000;	/* 1000 ppm: this test's REALTIME is not slewed far */
	char err[128];
	int64_t l1, l2, lr, t;

	truth_probe_config_default(&cfg);
	cfg.self = 1;
	cfg.group = 1;
	truth_probe_clock_real(&clk, &slew);
	e = truth_probe_new(&cfg, &clk, err, sizeof(err));
	ASSERT_NE(NULL, e);
	truth_probe_external_configure(e, true);
	truth_probe_now(e, &n);
	EXPECT_EQ(TRUTH_CLOCK_UNKNOWN, n.status);
	/* configured, no value: nothing to select */
	EXPECT_EQ(0, truth_probe_next(e, &o));
	truth_probe_now(e, &n);
	EXPECT_EQ(TRUTH_CLOCK_UNKNOWN, n.status);
	/* the host clock claimed within 50 us (it is true time here) */
	l1 = truth_probe_local_now(e);
	l2 = truth_probe_local_now(e);
	clock_gettime(CLOCK_REALTIME, &ts);
	t = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	lr = truth_probe_local_now(e);
	EXPECT_EQ(-EINVAL, truth_probe_set_external(e, 50000, l2 + 1, l2, t, l2, lr));
	ASSERT_EQ(0, truth_probe_set_external(e, 50000, l1, l2, t, l2, lr));
	EXPECT_EQ(0, truth_probe_next(e, &o));	/* the deadline is due: selects */
	truth_probe_now(e, &n);
	clock_gettime(CLOCK_REALTIME, &ts);
	t = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	EXPECT_EQ(TRUTH_CLOCK_SYNCHRONISED, n.status);
	EXPECT_LE(n.earliest, t);
	EXPECT_GE(n.latest, t);
	EXPECT_GE(n.epsilon, 50000u);
	EXPECT_LT(n.epsilon, 1000000u);
	EXPECT_EQ(TRUTH_CLOCK_PEER_TRUECHIMER,
		  truth_clock_ref_state(truth_probe_estimator(e), TRUTH_CLOCK_REF_EXTERNAL));
	truth_probe_free(e);
}

/* a chrony float for @v (the test's own encoder: 25-bit coefficient) */
static uint32_t enc_float(double v)
{
	int e = 0;
	double m = frexp(v, &e);	/* v = m 2^e, 0.5 <= |m| < 1 */
	int32_t coef = (int32_t)llround(m * (1 << 24));

	if (v == 0)
		return 0;
	/* value = coef 2^(exp - 25): exp = e + 1 */
	return (uint32_t)((e + 1) & 0x7f) << 25 | ((uint32_t)coef & 0x1ffffff);
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* a tracking reply as chronyd 4.3 sends it */
static void fake_reply(uint8_t *b, uint32_t seq, uint16_t status, uint16_t leap,
		       double sys, double delay, double disp)
{
	memset(b, 0, TRUTH_CHRONY_RPY_LEN);
	b[0] = 6;
	b[1] = 2;
	b[5] = 33;
	b[7] = 5;
	b[8] = (uint8_t)(status >> 8);
	b[9] = (uint8_t)status;
	put32(b + 16, seq);
	put32(b + 28, 0x0A4E0001);	/* ref id */
	b[28 + 25] = 2;			/* stratum */
	b[28 + 27] = (uint8_t)leap;
	put32(b + 28 + 40, enc_float(sys));
	put32(b + 28 + 64, enc_float(delay));
	put32(b + 28 + 68, enc_float(disp));
}

TEST(command_socket_request)
{
	uint8_t b[TRUTH_CHRONY_REQ_LEN];
	size_t i;

	memset(b, 0xaa, sizeof(b));
	truth_chrony_request(b, 0x01020304);
	EXPECT_EQ(104, TRUTH_CHRONY_REQ_LEN);
	EXPECT_EQ(6, b[0]);		/* protocol version */
	EXPECT_EQ(1, b[1]);		/* a request */
	EXPECT_EQ(0, b[4]);
	EXPECT_EQ(33, b[5]);		/* REQ_TRACKING */
	EXPECT_EQ(0, b[6] | b[7]);	/* attempt */
	EXPECT_EQ(1, b[8]);
	EXPECT_EQ(4, b[11]);
	for (i = 12; i < sizeof(b); i++)
		ASSERT_EQ(0, b[i]);
}

TEST(command_socket_reply)
{
	uint8_t b[TRUTH_CHRONY_RPY_LEN];
	struct truth_chrony_tracking t;
	const char *why = NULL;
	uint64_t bound;

	EXPECT_EQ(0.0, truth_chrony_float(0));
	EXPECT_EQ(0.25, truth_chrony_float(1u << 23));		/* 2^23 2^-25 */
	EXPECT_EQ(-0.5, truth_chrony_float(0x1ffffffu & (uint32_t)-(1 << 24)));
	EXPECT_EQ(1.0, truth_chrony_float(2u << 25 | 1u << 23));	/* exp 2 */
	EXPECT_EQ(0.25 / 1024, truth_chrony_float(118u << 25 | 1u << 23)); /* exp -10 */

	/* chronyc's figures from a run: -1.731 us, delay 7.945 us, disp 1.017 us */
	fake_reply(b, 7, 0, 0, -0.000001731, 0.000007945, 0.000001017);
	ASSERT_EQ(0, truth_chrony_reply(b, sizeof(b), 7, &t, &why));
	EXPECT_EQ(0x0A4E0001u, t.refid);
	EXPECT_EQ(2u, t.stratum);
	EXPECT_STREQ("Normal", t.leap);
	EXPECT_TRUE(t.synchronised);
	EXPECT_LT(fabs(t.system_time + 0.000001731), 1e-13);
	/* 1.731 + 1.017 + 3.9725 us = 6720.5 ns: rounded up, + rounding, + 1 */
	bound = truth_chrony_bound_ns(&t);
	EXPECT_GE(bound, 6721u);
	EXPECT_LE(bound, 6723u);

	/* a late answer to an earlier request: skipped, not an error */
	EXPECT_EQ(-ESRCH, truth_chrony_reply(b, sizeof(b), 8, &t, &why));
	/* not synchronised */
	fake_reply(b, 9, 0, 3, 0, 0, 0);
	ASSERT_EQ(0, truth_chrony_reply(b, sizeof(b), 9, &t, &why));
	EXPECT_STREQ("Not synchronised", t.leap);
	EXPECT_FALSE(t.synchronised);
	EXPECT_EQ(UINT64_MAX, truth_chrony_bound_ns(&t));
	/* chronyd's errors and malformed replies: refused with a reason */
	fake_reply(b, 10, 19, 0, 0, 0, 0);
	EXPECT_EQ(-EINVAL, truth_chrony_reply(b, 28, 10, &t, &why));
	EXPECT_NE(NULL, strstr(why, "bad packet length"));
	fake_reply(b, 11, 0, 0, 0, 0, 0);
	EXPECT_EQ(-EINVAL, truth_chrony_reply(b, sizeof(b) - 1, 11, &t, &why));
	EXPECT_EQ(-EINVAL, truth_chrony_reply(b, 20, 11, &t, &why));
	b[0] = 5;
	EXPECT_EQ(-EINVAL, truth_chrony_reply(b, sizeof(b), 11, &t, &why));
	fake_reply(b, 12, 0, 4, 0, 0, 0);	/* no such leap status */
	EXPECT_EQ(-EINVAL, truth_chrony_reply(b, sizeof(b), 12, &t, &why));
	fake_reply(b, 13, 0, 0, 0, -0.001, 0);	/* negative root delay */
	EXPECT_EQ(-EINVAL, truth_chrony_reply(b, sizeof(b), 13, &t, &why));
}

/*
 * The external reference keeps the intersection of its readings, each
 * aged at the drift bound; readings that contradict: the newest wins.
 */
TEST(external_readings_intersect)
{
	struct truth_clock_config cfg;
	struct truth_clock_estimate est;
	struct truth_clock_interval a = { -1000, 1000 }, b = { -300, 5000 };
	struct truth_clock_interval far = { 90000, 91000 };
	struct truth_clock *c;
	int64_t t = 1000000000, g0;
	int err;

	truth_clock_config_default(&cfg);
	g0 = (int64_t)truth_clockbound_growth(0, cfg.max_drift_ppb);
	c = truth_clock_new(&cfg, &err);
	ASSERT_NE(NULL, c);
	ASSERT_EQ(0, truth_clock_ref_configure(c, TRUTH_CLOCK_REF_EXTERNAL, true));
	ASSERT_EQ(0, truth_clock_ref_set(c, TRUTH_CLOCK_REF_EXTERNAL, &a, t));
	/* 1 ms later: a aged by 200 ns + 1, intersected with b */
	ASSERT_EQ(0, truth_clock_ref_set(c, TRUTH_CLOCK_REF_EXTERNAL, &b, t + 1000000));
	ASSERT_EQ(0, truth_clock_update(c, t + 1000000));
	truth_clock_get_estimate(c, &est);
	/* (the update ages by growth(0) = 1 ns: readings are integers) */
	EXPECT_EQ(-300 - g0, est.offset.lo);
	EXPECT_EQ(1000 + (int64_t)truth_clockbound_growth(1000000, cfg.max_drift_ppb) + g0,
		  est.offset.hi);
	/* a contradicting reading replaces the value */
	ASSERT_EQ(0, truth_clock_ref_set(c, TRUTH_CLOCK_REF_EXTERNAL, &far, t + 2000000));
	ASSERT_EQ(0, truth_clock_update(c, t + 2000000));
	truth_clock_get_estimate(c, &est);
	EXPECT_EQ(90000 - g0, est.offset.lo);
	EXPECT_EQ(91000 + g0, est.offset.hi);
	/* unset: the next reading starts afresh */
	truth_clock_ref_unset(c, TRUTH_CLOCK_REF_EXTERNAL);
	ASSERT_EQ(0, truth_clock_ref_set(c, TRUTH_CLOCK_REF_EXTERNAL, &a, t + 3000000));
	ASSERT_EQ(0, truth_clock_update(c, t + 3000000));
	truth_clock_get_estimate(c, &est);
	EXPECT_EQ(-1000 - g0, est.offset.lo);
	EXPECT_EQ(1000 + g0, est.offset.hi);
	truth_clock_free(c);
}

TEST_HARNESS_MAIN
