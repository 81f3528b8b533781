// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The linearizability checker on hand-written histories: the classic
 * examples for every model, each once linearizable and once not; the lock
 * holder timeline; bad input; the deadline; the C recorder.  Times are in
 * ns; each history is small enough to check by eye.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lib/linz.h"

/* Check @text under @model; the report text goes to @out and, quoted, to the log. */
static enum linz_verdict run(enum linz_model model, const char *text, char *out, size_t len,
			     double timeout)
{
	struct linz_opts o = { .timeout_s = timeout ? timeout : 10 };
	struct linz_history h;
	struct linz_report r;
	char *buf = NULL, *line, *save = NULL;
	size_t blen = 0;
	FILE *f;

	linz_history_init(&h, model);
	if (linz_history_parse(&h, text, strlen(text))) {
		snprintf(out, len, "parse error: %s", h.err);
		printf("# parse error: %s\n", h.err);
		linz_history_free(&h);
		return -1;
	}
	linz_check(&h, &o, &r);
	f = open_memstream(&buf, &blen);
	linz_report_print(f, &h, &r);
	fclose(f);
	snprintf(out, len, "%s", buf);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		printf("# %s\n", line);
	free(buf);
	linz_report_free(&r);
	linz_history_free(&h);
	return r.verdict;
}

#define LIN(model, text) do {						\
	char out[4096];							\
	EXPECT_EQ(LINZ_LINEARIZABLE, run(model, text, out, sizeof(out), 0)); \
} while (0)

/* not linearizable, and the report names @must */
#define BAD(model, text, must) do {					\
	char out[4096];							\
	EXPECT_EQ(LINZ_VIOLATION, run(model, text, out, sizeof(out), 0)); \
	EXPECT_NE(NULL, strstr(out, must)) TH_LOG("report lacks '%s'", must); \
} while (0)

#define R LINZ_MODEL_REGISTER
#define KV LINZ_MODEL_KV
#define CT LINZ_MODEL_COUNTER
#define LK LINZ_MODEL_LOCK

TEST(register_stale_read)
{
	/* the read starts after write 2 completed: it cannot see 1 */
	BAD(R, "a write x 1 0 10 ok ok\n"
	       "b write x 2 20 30 ok ok\n"
	       "c read x 40 50 1 ok\n", "read returned 1 but x held 2");
	/* overlapping the second write, it may */
	LIN(R, "a write x 1 0 10 ok ok\n"
	       "b write x 2 20 45 ok ok\n"
	       "c read x 40 50 1 ok\n");
}

TEST(register_concurrent_writes_both_orders)
{
	static const char w[] = "a write x 1 0 100 ok ok\nb write x 2 10 90 ok ok\n";
	char h[512];

	snprintf(h, sizeof(h), "%sc read x 200 210 1 ok\nc read x 220 230 1 ok\n", w);
	LIN(R, h);
	snprintf(h, sizeof(h), "%sc read x 200 210 2 ok\nc read x 220 230 2 ok\n", w);
	LIN(R, h);
	/* but once read, the order is fixed: no flip back */
	snprintf(h, sizeof(h), "%sc read x 200 210 2 ok\nd read x 220 230 1 ok\n", w);
	BAD(R, h, "line 4");
	/* a read during both may see either, in between */
	LIN(R, "a write x 1 0 100 ok ok\nb write x 2 10 90 ok ok\n"
	       "c read x 20 30 2 ok\nd read x 40 50 1 ok\n");
}

TEST(register_lost_write)
{
	BAD(R, "a write x 1 0 10 ok ok\nb read x 20 30 nil ok\n", "read returned nil");
	LIN(R, "a write x 1 0 30 ok ok\nb read x 20 40 nil ok\n");
}

TEST(register_unknown_write)
{
	/* it may have happened, later, or never */
	LIN(R, "a write x 1 0 - - unknown\nb read x 20 30 1 ok\n");
	LIN(R, "a write x 1 0 - - unknown\nb read x 20 30 nil ok\n");
	LIN(R, "a write x 1 0 - - unknown\nb read x 20 30 nil ok\nb read x 40 50 1 ok\n");
	LIN(R, "a write x 1 0 5 - unknown\nb read x 900 950 1 ok\n");
	/* but not undone once seen */
	BAD(R, "a write x 1 0 - - unknown\nb read x 20 30 1 ok\nb read x 40 50 nil ok\n",
	    "read returned nil but x held 1");
	/* and not before it was invoked */
	BAD(R, "b read x 20 30 1 ok\na write x 1 40 - - unknown\n", "read returned 1");
}

TEST(register_failed_write)
{
	BAD(R, "a write x 1 0 10 - fail\nb read x 20 30 1 ok\n", "read returned 1");
	LIN(R, "a write x 1 0 10 - fail\nb read x 20 30 nil ok\n");
}

TEST(register_cas)
{
	LIN(R, "a cas x nil 1 0 10 true ok\nb cas x 1 2 20 30 true ok\n"
	       "c cas x 1 3 40 50 false ok\nd read x 60 70 2 ok\n");
	BAD(R, "a write x 1 0 10 ok ok\nb cas x 1 2 20 30 false ok\n", "cas did not swap but x held 1");
	/* two cas from the same value cannot both win */
	BAD(R, "a write x 1 0 10 ok ok\nb cas x 1 2 20 100 true ok\nc cas x 1 3 20 100 true ok\n",
	    "cas swapped");
}

TEST(kv_set_nx_xx)
{
	LIN(KV, "a set k v1 NX 0 100 OK ok\nb set k v2 NX 0 100 nil ok\nc get k 200 210 v1 ok\n");
	BAD(KV, "a set k v1 NX 0 100 OK ok\nb set k v2 NX 0 100 OK ok\n", "set NX succeeded");
	BAD(KV, "a set k v1 XX 0 10 OK ok\n", "set XX succeeded but k was absent");
	LIN(KV, "a set k v1 XX 0 10 nil ok\nb get k 20 30 nil ok\n");
}

TEST(kv_del_incr)
{
	LIN(KV, "a set k v 0 10 OK ok\nb del k 20 30 1 ok\nc del k 40 50 0 ok\nd get k 60 70 nil ok\n");
	BAD(KV, "a set k v 0 10 OK ok\nb del k 20 30 1 ok\nc del k 40 50 1 ok\n", "del removed 1");
	LIN(KV, "a incr k 0 10 1 ok\nb incr k 5 20 30 6 ok\nc set k s 40 50 OK ok\n"
		"d incr k 60 70 err ok\ne get k 80 90 s ok\n");
	BAD(KV, "a incr k 0 10 1 ok\nb incr k 20 30 3 ok\n", "incr by 1 returned 3");
	/* an integer written by set is an integer to incr */
	LIN(KV, "a set k 41 0 10 OK ok\nb incr k 20 30 42 ok\n");
}

TEST(kv_fenced_writes)
{
	LIN(KV, "a fset r 5 x 0 10 ok ok\nb fset r 3 y 20 30 stale ok\nc fset r 5 z 40 50 ok ok\n"
		"d get r 60 70 z ok\n");
	BAD(KV, "a fset r 5 x 0 10 ok ok\nb fset r 3 y 20 30 ok ok\n",
	    "token 3 was accepted but the highest token seen was 5");
	/* a stale holder racing the new one: rejected if the new one wrote first */
	LIN(KV, "a fset r 7 new 0 100 ok ok\nb fset r 6 old 0 100 ok ok\nc get r 200 210 new ok\n");
	BAD(KV, "a fset r 7 new 0 100 ok ok\nb fset r 6 old 0 100 ok ok\nc get r 200 210 old ok\n",
	    "read returned old but r held new");
}

TEST(kv_keys_independent)
{
	/* each key alone is fine; nothing relates them (P-compositionality) */
	LIN(KV, "a set x 1 0 10 OK ok\na set y 1 20 30 OK ok\nb get y 40 50 1 ok\nb get x 60 70 1 ok\n");
	BAD(KV, "a set x 1 0 10 OK ok\na set y 1 20 30 OK ok\nb get y 40 50 1 ok\nb get x 60 70 nil ok\n",
	    "key 'x'");
}

TEST(counter_monotonic)
{
	LIN(CT, "a incr c 1 0 10 1 ok\nb incr c 1 20 100 3 ok\nd incr c 1 20 100 2 ok\n"
		"e read c 200 210 3 ok\n");
	BAD(CT, "a incr c 1 0 10 1 ok\nb read c 20 30 1 ok\nc read c 40 50 0 ok\n",
	    "read returned 0 but c held 1");
	/* two increments cannot return the same value */
	BAD(CT, "a incr c 1 0 100 1 ok\nb incr c 1 0 100 1 ok\n", "incr by 1 returned 1");
	LIN(CT, "a read c 0 10 nil ok\nb incr c 2 20 30 2 ok\n");
	/* an unknown increment shows up at most once, and stays */
	LIN(CT, "a incr c 1 0 - - unknown\nb read c 20 30 0 ok\nb read c 40 50 1 ok\n");
	BAD(CT, "a incr c 1 0 - - unknown\nb read c 20 30 1 ok\nb read c 40 50 0 ok\n", "read returned 0");
	BAD(CT, "a incr c 1 0 - - unknown\nb read c 20 30 2 ok\n", "read returned 2");
}

TEST(lock_handover)
{
	LIN(LK, "a acquire L 0 10 1 ok\nb acquire L 5 50 2 ok\na release L 1 20 30 ok ok\n"
		"b release L 2 60 70 ok ok\n");
	/* b's grant reached it before a let go */
	BAD(LK, "a acquire L 0 10 1 ok\nb acquire L 5 15 2 ok\na release L 1 20 30 ok ok\n",
	    "two holders at once");
	/* the token order must follow the grant order */
	BAD(LK, "a acquire L 0 10 5 ok\na release L 5 20 30 ok ok\nb acquire L 40 50 3 ok\n",
	    "tokens not increasing");
	/* busy while it was free is a lie */
	BAD(LK, "a acquire L 0 10 busy ok\n", "busy but the lock was free");
	LIN(LK, "a acquire L 0 10 1 ok\nb acquire L 20 30 busy ok\n");
	/* release of a lock not held */
	BAD(LK, "a release L 1 0 10 ok ok\n", "release succeeded but the lock was free");
}

TEST(lock_unknown_and_leases)
{
	/* a crashed acquirer may have got the lock, with a token in between */
	LIN(LK, "a acquire L 0 - - unknown\nb acquire L 20 30 1 ok\n");
	/* a lease lapses with no op: the timeline decides, the order is skipped */
	LIN(LK, "a acquire L 1000 0 10 1 ok\nb acquire L 1000 1010 1020 2 ok\n");
	BAD(LK, "a acquire L 1000 0 10 1 ok\nb acquire L 1000 500 600 2 ok\n", "two holders at once");
	/* explicit validity intervals from a client that renews its lease */
	LIN(LK, "a hold L 1 0 100 - ok\nb hold L 2 100 200 - ok\n");
	BAD(LK, "a hold L 1 0 100 - ok\nb hold L 2 50 200 - ok\n", "two holders at once");
}

TEST(bad_input)
{
	static const char *const bad[] = {
		"a read x 0 10 1\n",			/* too few fields */
		"a frob x 0 10 1 ok\n",			/* unknown op */
		"a read x 0 10 1 maybe\n",		/* unknown status */
		"a read x ten 10 1 ok\n",		/* bad time */
		"a read x 20 10 1 ok\n",		/* completes before invoke */
		"a read x 20 - 1 ok\n",			/* ok without completion */
		"a read x 1 20 30 1 ok\n",		/* read takes no argument */
		"a set k v ZZ 0 10 OK ok\n",		/* bad flag */
		"a write x 1 0 10 ok ok\na write x 2 0 20 ok ok\n", /* same client, same invoke */
		"a read x 0 10 %zz ok\n",		/* bad escape */
		"a read x -5 10 1 ok\n",		/* negative time */
		"a cas x 1 - 0 10 true ok\n",		/* '-' is not a value */
	};
	struct linz_history h;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		linz_history_init(&h, LINZ_MODEL_REGISTER);
		EXPECT_EQ(-1, linz_history_parse(&h, bad[i], strlen(bad[i]))) TH_LOG("accepted: %s", bad[i]);
		EXPECT_NE(NULL, strstr(h.err, "line ")) TH_LOG("no line in '%s'", h.err);
		printf("# %-40.*s -> %s\n", (int)strcspn(bad[i], "\n"), bad[i], h.err);
		linz_history_free(&h);
	}
	/* an op of another model is refused, not ignored */
	linz_history_init(&h, LINZ_MODEL_COUNTER);
	EXPECT_EQ(-1, linz_history_parse(&h, "a set k v 0 10 OK ok\n", 21));
	linz_history_free(&h);
	/* comments and blank lines are fine */
	LIN(R, "# a comment\n\n   \na write x 1 0 10 ok ok\n");
}

TEST(deadline_gives_unknown)
{
	char *text = NULL, out[4096];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int i;

	/*
	 * 60 concurrent writes of unknown outcome, then a read of a value none
	 * wrote: refuting it means trying every subset of them
	 */
	for (i = 0; i < 60; i++)
		fprintf(f, "c%d write x %d %d - - unknown\n", i, i, i);
	fprintf(f, "r read x 1000 1010 never ok\n");
	fclose(f);
	EXPECT_EQ(LINZ_UNKNOWN, run(R, text, out, sizeof(out), 0.3));
	EXPECT_NE(NULL, strstr(out, "unknown: deadline passed"));
	free(text);
}

TEST(recorder_roundtrip)
{
	char path[] = "/tmp/linz-rec-XXXXXX";
	const char *a1[] = { "two words" }, *a2[] = { "nil" }, *a3[] = { "-" }, *a4[] = { "" };
	struct linz_recorder rec;
	struct linz_call c1, c2, c3, c4, c5;
	struct linz_history h;
	int fd = mkstemp(path);
	char out[4096];

	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_EQ(0, linz_recorder_open(&rec, path));
	ASSERT_EQ(0, linz_record_invoke(&rec, &c1, "c1", "set", "k y", a1, 1));
	ASSERT_EQ(0, linz_record_ok(&rec, &c1, "OK"));
	ASSERT_EQ(0, linz_record_invoke(&rec, &c2, "c1", "get", "k y", NULL, 0));
	ASSERT_EQ(0, linz_record_ok(&rec, &c2, "two words"));
	ASSERT_EQ(0, linz_record_invoke(&rec, &c3, "c2", "set", "n", a2, 1));
	ASSERT_EQ(0, linz_record_ok(&rec, &c3, "OK"));
	ASSERT_EQ(0, linz_record_invoke(&rec, &c4, "c2", "set", "n", a3, 1));
	ASSERT_EQ(0, linz_record_fail(&rec, &c4));
	/* killed after sending: only the invoke line is there */
	ASSERT_EQ(0, linz_record_invoke(&rec, &c5, "c3", "set", "e", a4, 1));
	ASSERT_EQ(0, linz_record_invoke(&rec, &c4, "c2", "get", "n", NULL, 0));
	ASSERT_EQ(0, linz_record_ok(&rec, &c4, "nil"));
	linz_recorder_close(&rec);

	linz_history_init(&h, LINZ_MODEL_KV);
	ASSERT_EQ(0, linz_history_load(&h, path)) TH_LOG("%s", h.err);
	ASSERT_EQ(6, h.nops);	/* invoke lines were replaced by their ends */
	EXPECT_STREQ("k y", linz_str(&h, h.ops[0].key));
	EXPECT_STREQ("two words", linz_str(&h, h.ops[1].result.n));
	EXPECT_EQ(LINZ_V_STR, h.ops[2].arg.kind);	/* the string "nil" */
	EXPECT_STREQ("nil", linz_str(&h, h.ops[2].arg.n));
	EXPECT_EQ(LINZ_ST_FAIL, h.ops[3].status);
	EXPECT_STREQ("-", linz_str(&h, h.ops[3].arg.n));
	EXPECT_EQ(LINZ_ST_UNKNOWN, h.ops[4].status);
	EXPECT_STREQ("", linz_str(&h, h.ops[4].arg.n));
	/* the literal string "nil" was read back: not a null reply */
	EXPECT_EQ(LINZ_V_STR, h.ops[5].result.kind);
	EXPECT_LT(h.ops[0].invoke, h.ops[0].complete);
	linz_history_free(&h);

	/* and the history it wrote is linearizable */
	{
		FILE *f = fopen(path, "r");
		char text[4096];
		size_t n = fread(text, 1, sizeof(text) - 1, f);

		fclose(f);
		text[n] = 0;
		EXPECT_EQ(LINZ_LINEARIZABLE, run(KV, text, out, sizeof(out), 0));
	}
	unlink(path);
}

TEST(report_names_the_window)
{
	char out[4096];

	/* lots of unrelated history before the stale read */
	char text[8192];
	size_t o = 0;
	int i;

	for (i = 0; i < 50; i++)
		o += snprintf(text + o, sizeof(text) - o, "w%d write x v%d %d %d ok ok\n", i % 4, i,
			      i * 100, i * 100 + 150);
	o += snprintf(text + o, sizeof(text) - o, "z write x last 6000 6010 ok ok\n");
	snprintf(text + o, sizeof(text) - o, "y read x 6100 6110 v3 ok\n");
	EXPECT_EQ(LINZ_VIOLATION, run(R, text, out, sizeof(out), 0));
	/* the window is the last write and the read, not 52 ops */
	EXPECT_NE(NULL, strstr(out, "smallest failing window: 2 op(s)"));
	EXPECT_NE(NULL, strstr(out, "read returned v3 but x held last"));
	EXPECT_NE(NULL, strstr(out, "v3: line 4"));	/* where v3 came from */
}

TEST_HARNESS_MAIN
