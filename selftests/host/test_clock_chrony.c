// SPDX-License-Identifier: GPL-2.0
/*
 * Parsing `chronyc -c tracking` and the ClockBound bound (agent/clock/
 * chrony.h), on fake tracking lines in chrony 4.3's format: synchronised,
 * unsynchronised, chronyc's error messages, malformed lines; and the
 * engine counting the external reference as a source
 * (truth_probe_set_external(): the interval holds true time, quorum).
 */
#include <errno.h>
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

TEST_HARNESS_MAIN
