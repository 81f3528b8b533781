// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The search against brute force.  Small random histories (random results,
 * so both verdicts are common) are decided twice: by linz_check() with all
 * its shortcuts (memo, dominance, merged unobserved values, the order of
 * trying) and by trying every order of the ops that respects real time,
 * with each op of uncertain outcome placed anywhere after its invoke or
 * left out.  The verdicts must agree; and for every violation, the window
 * linz_check() reports must itself fail under brute force, since the report
 * claims the window alone cannot be ordered.
 *
 *   TRUTH_SEED=S   replay one seed      TRUTH_SEEDS=N  histories per model
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "truth_rand.h"
#include "lib/linz.h"

#define MAX_OPS	8

struct brute {
	const struct linz_history *h;
	struct linz_op ops[MAX_OPS];
	size_t n;
	bool used[MAX_OPS];
	size_t order[MAX_OPS];
};

static bool brute_from(struct brute *b, size_t depth, const struct linz_state *st)
{
	size_t i, j, left = 0;

	for (i = 0; i < b->n; i++)
		left += !b->used[i] && b->ops[i].status == LINZ_ST_OK;
	if (!left)
		return true;
	for (i = 0; i < b->n; i++) {
		struct linz_state nst;
		bool ready = !b->used[i];

		for (j = 0; j < b->n && ready; j++)
			if (!b->used[j] && j != i && b->ops[j].status == LINZ_ST_OK &&
			    b->ops[j].complete < b->ops[i].invoke)
				ready = false;
		for (j = 0; j < depth && ready; j++)
			if (b->ops[i].complete < b->ops[b->order[j]].invoke)
				ready = false;
		if (!ready || !linz_step(b->h, &b->ops[i], st, &nst, NULL, 0))
			continue;
		b->used[i] = true;
		b->order[depth] = i;
		if (brute_from(b, depth + 1, &nst))
			return true;
		b->used[i] = false;
	}
	return false;
}

/* Is the set of ops @ids (or all, @ids NULL) linearizable, by brute force? */
static bool brute(const struct linz_history *h, const uint32_t *ids, size_t n)
{
	struct brute b = { .h = h };
	struct linz_state st;
	size_t i;

	for (i = 0; i < (ids ? n : h->nops); i++) {
		const struct linz_op *op = &h->ops[ids ? ids[i] : i];

		if (!linz_op_inert(op))
			b.ops[b.n++] = *op;
	}
	linz_state_init(h->model, &st);
	return brute_from(&b, 0, &st);
}

/* Values: strings for the register (so that unread ones get merged), a mix
 * of integers and a string for kv (so incr sees both), integers otherwise. */
static const char *val(int model)
{
	static const char *const reg[] = { "nil", "a", "b", "c" };
	static const char *const kv[] = { "nil", "1", "2", "x" };

	if (model == LINZ_MODEL_REGISTER)
		return reg[rnd_below(4)];
	return kv[model == LINZ_MODEL_COUNTER ? 1 + rnd_below(2) : rnd_below(4)];
}

/* One random op line for @model on key k. */
static void op_line(FILE *f, int model, int i, int64_t inv, int64_t cmp)
{
	int r = rnd_below(100), st = rnd_below(100);
	const char *status = st < 70 ? "ok" : st < 88 ? "unknown" : "fail";
	char res[16];

	fprintf(f, "c%d ", i);
	switch (model) {
	case LINZ_MODEL_REGISTER:
		if (r < 40)
			fprintf(f, "read k"), snprintf(res, sizeof(res), "%s", val(model));
		else if (r < 75)
			fprintf(f, "write k %c", 'a' + (int)rnd_below(3)), snprintf(res, sizeof(res), "ok");
		else
			fprintf(f, "cas k %s %c", val(model), 'a' + (int)rnd_below(3)),
			snprintf(res, sizeof(res), rnd_below(2) ? "true" : "false");
		break;
	case LINZ_MODEL_KV:
		if (r < 30)
			fprintf(f, "get k"), snprintf(res, sizeof(res), "%s", val(model));
		else if (r < 50)
			fprintf(f, "set k %s%s", rnd_below(3) ? (rnd_below(2) ? "1" : "2") : "x",
				rnd_below(3) ? "" : rnd_below(2) ? " NX" : " XX"),
			snprintf(res, sizeof(res), rnd_below(3) ? "OK" : "nil");
		else if (r < 65)
			fprintf(f, "del k"), snprintf(res, sizeof(res), "%d", (int)rnd_below(2));
		else if (r < 85)
			fprintf(f, "incr k %d", 1 + (int)rnd_below(2)),
			snprintf(res, sizeof(res), "%d", 1 + (int)rnd_below(5));
		else
			fprintf(f, "fset k %d %d", (int)rnd_below(4), 1 + (int)rnd_below(3)),
			snprintf(res, sizeof(res), rnd_below(2) ? "ok" : "stale");
		break;
	case LINZ_MODEL_COUNTER:
		if (r < 55)
			fprintf(f, "incr k %d", 1 + (int)rnd_below(2)),
			snprintf(res, sizeof(res), "%d", 1 + (int)rnd_below(6));
		else
			fprintf(f, "read k"), snprintf(res, sizeof(res), "%d", (int)rnd_below(6));
		break;
	default:
		if (r < 55)
			fprintf(f, "acquire k"),
			snprintf(res, sizeof(res), rnd_below(5) ? "%d" : "busy", 1 + (int)rnd_below(4));
		else
			fprintf(f, "release k %d", 1 + (int)rnd_below(4)),
			snprintf(res, sizeof(res), rnd_below(4) ? "ok" : "false");
		break;
	}
	if (!strcmp(status, "ok"))
		fprintf(f, " %lld %lld %s ok\n", (long long)inv, (long long)cmp, res);
	else
		fprintf(f, " %lld %lld - %s\n", (long long)inv, (long long)cmp, status);
}

static void run(struct __test_metadata *_metadata, int model)
{
	unsigned long n = cases(3000), i, bad = 0, windows = 0, timeline = 0;
	uint64_t seed = seed_init();

	printf("# seed %llu (replay: TRUTH_SEED=%llu), %lu histories\n",
	       (unsigned long long)seed, (unsigned long long)seed, n);
	for (i = 0; i < n; i++) {
		struct linz_opts o = { .timeout_s = 10 };
		int k, nops = 1 + rnd_below(MAX_OPS);
		char *text = NULL;
		size_t len = 0;
		struct linz_history h;
		struct linz_report r;
		FILE *f = open_memstream(&text, &len);
		bool want;

		for (k = 0; k < nops; k++) {
			int64_t inv = rnd_below(30);

			op_line(f, model, k, inv, inv + rnd_below(15));
		}
		fclose(f);
		linz_history_init(&h, model);
		ASSERT_EQ(0, linz_history_parse(&h, text, len)) TH_LOG("%s\n%s", h.err, text);
		want = brute(&h, NULL, 0);
		linz_check(&h, &o, &r);
		/* the lock timeline is a separate rule (a client's own validity),
		 * which brute force over the lock model does not know */
		if (want && r.timeline) {
			timeline++;
		} else if (r.verdict != (want ? LINZ_LINEARIZABLE : LINZ_VIOLATION)) {
			printf("# history %lu: brute force says %s, linz_check %d:\n%s", i,
			       want ? "linearizable" : "not", r.verdict, text);
			bad++;
		} else if (!want && !r.timeline) {
			/* the reported window alone must fail too */
			windows++;
			if (brute(&h, r.window, r.nwindow)) {
				printf("# history %lu: window of %zu ops is linearizable alone:\n%s",
				       i, r.nwindow, text);
				bad++;
			}
		}
		linz_report_free(&r);
		linz_history_free(&h);
		free(text);
		ASSERT_LT(bad, 3);
	}
	printf("# %lu histories agree with brute force (%lu more only failed the lock timeline); %lu windows checked\n",
	       n - timeline, timeline, windows);
	EXPECT_EQ(0, bad);
	EXPECT_GT(windows, n / 20);
}

TEST(oracle_register) { run(_metadata, LINZ_MODEL_REGISTER); }
TEST(oracle_kv) { run(_metadata, LINZ_MODEL_KV); }
TEST(oracle_counter) { run(_metadata, LINZ_MODEL_COUNTER); }
TEST(oracle_lock) { run(_metadata, LINZ_MODEL_LOCK); }

TEST_HARNESS_MAIN
