// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The linearizability checker on random histories.  Each history comes from
 * a real sequential execution (the simple store in this file, not the
 * checker's models): every op gets a linearization point inside a random
 * interval, the ops are applied in that order to compute their results, and
 * some clients crash (unknown: the op applied, possibly much later, or not)
 * or fail (not applied).  Such a history is linearizable by construction and
 * must pass.  Then one anomaly of a kind that no linearization can explain
 * is injected, and it must be caught.  Last, a large history is timed.
 *
 *   TRUTH_SEED=S   replay one seed      TRUTH_SEEDS=N  histories per model
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kselftest_harness.h"
#include "truth_rand.h"
#include "lib/linz.h"

enum { G_GET, G_SET, G_SETNX, G_SETXX, G_DEL, G_CAS, G_INCR, G_FSET, G_ACQ, G_REL };

struct gop {
	int kind, key, client, status;	/* status: enum linz_status */
	int64_t inv, lin, cmp;
	bool applied;
	long long a, b;			/* values: >= 0 "v<a>", < 0 none; incr n; token */
	char res[32];
};

struct gen {
	struct gop *ops;
	size_t n;
	int model, keys, clients;
};

/* the real store: per key absent, an integer or the string "v<id>" */
struct cell {
	int kind;			/* 0 absent, 1 int, 2 string */
	long long v;
	long long fence;
};

static long long next_val;

static void cell_str(const struct cell *c, char *buf, size_t len)
{
	if (!c->kind)
		snprintf(buf, len, "nil");
	else if (c->kind == 1)
		snprintf(buf, len, "%lld", c->v);
	else
		snprintf(buf, len, "v%lld", c->v);
}

/* Apply @o to the real store and record what it returned. */
static void apply(struct gen *g, struct cell *st, struct gop *o)
{
	struct cell *c = &st[o->key];

	switch (o->kind) {
	case G_GET:
		cell_str(c, o->res, sizeof(o->res));
		if (g->model == LINZ_MODEL_COUNTER && !c->kind)
			snprintf(o->res, sizeof(o->res), "0");
		break;
	case G_SET:
	case G_SETNX:
	case G_SETXX: {
		bool go = o->kind == G_SET || (o->kind == G_SETNX) == !c->kind;

		snprintf(o->res, sizeof(o->res), go ? "OK" : "nil");
		if (go)
			*c = (struct cell){ 2, o->a, c->fence };
		break;
	}
	case G_DEL:
		snprintf(o->res, sizeof(o->res), "%d", c->kind != 0);
		c->kind = 0;
		break;
	case G_CAS: {
		bool match = o->a < 0 ? !c->kind : c->kind == 2 && c->v == o->a;

		snprintf(o->res, sizeof(o->res), match ? "true" : "false");
		if (match)
			*c = (struct cell){ 2, o->b, c->fence };
		break;
	}
	case G_INCR:
		if (c->kind == 2) {
			snprintf(o->res, sizeof(o->res), "err");
			break;
		}
		c->v = (c->kind ? c->v : 0) + o->a;
		c->kind = 1;
		snprintf(o->res, sizeof(o->res), "%lld", c->v);
		break;
	case G_FSET:
		snprintf(o->res, sizeof(o->res), o->a >= c->fence ? "ok" : "stale");
		if (o->a >= c->fence)
			*c = (struct cell){ 2, o->b, o->a };
		break;
	}
}

static int cmp_lin(const void *a, const void *b)
{
	const struct gop *x = *(const struct gop *const *)a, *y = *(const struct gop *const *)b;

	return x->lin < y->lin ? -1 : x->lin > y->lin ? 1 : (x < y ? -1 : x > y);
}

static int pick_kind(int model)
{
	int r = rnd_below(100);

	if (model == LINZ_MODEL_COUNTER)
		return r < 60 ? G_INCR : G_GET;
	if (model == LINZ_MODEL_REGISTER)
		return r < 40 ? G_GET : r < 80 ? G_SET : G_CAS;
	return r < 30 ? G_GET : r < 55 ? G_SET : r < 61 ? G_SETNX : r < 67 ? G_SETXX :
	       r < 73 ? G_DEL : r < 85 ? G_CAS : r < 95 ? G_INCR : G_FSET;
}

/* A history of @n ops over @keys keys by @clients concurrent clients. */
static void generate(struct gen *g, int model, size_t n, int keys, int clients, int crash_pct)
{
	int64_t *free_at = calloc(clients, sizeof(*free_at));
	int *id = calloc(clients, sizeof(*id));
	struct gop **order = malloc(n * sizeof(*order));
	struct cell *st = calloc(keys, sizeof(*st));
	size_t i, k = 0;
	int c;

	g->ops = calloc(n, sizeof(*g->ops));
	g->n = n;
	g->model = model;
	g->keys = keys;
	g->clients = clients;
	for (c = 0; c < clients; c++)
		id[c] = c;
	for (i = 0; i < (size_t)keys; i++)
		st[i].fence = -1;
	for (i = 0; i < n; i++) {
		struct gop *o = &g->ops[i];
		int r = rnd_below(100);

		/* the client that is free first: concurrency stays at @clients */
		for (c = 0; c < clients; c++)
			if (free_at[c] < free_at[o->client])
				o->client = c;
		c = o->client;
		o->client = id[c];
		o->kind = pick_kind(model);
		o->key = rnd_below(keys);
		o->a = o->b = -1;
		if (o->kind == G_SET || o->kind == G_SETNX || o->kind == G_SETXX)
			o->a = next_val++;
		if (o->kind == G_CAS) {
			o->a = rnd_below(4) ? (next_val > 3 ? next_val - 1 - (long long)rnd_below(3) : -1) : -1;
			o->b = next_val++;
		}
		if (o->kind == G_INCR)
			o->a = 1 + rnd_below(3);
		if (o->kind == G_FSET) {
			o->a = rnd_below(20);
			o->b = next_val++;
		}
		o->inv = free_at[c] + rnd_below(50);
		o->lin = o->inv + rnd_below(200);
		o->cmp = o->lin + rnd_below(200);
		o->status = LINZ_ST_OK;
		o->applied = true;
		if (r < crash_pct) {
			/* crashed: applied or not, maybe long after; a new client id */
			o->status = LINZ_ST_UNKNOWN;
			o->applied = rnd_below(2);
			o->lin = o->inv + rnd_below(5000);
			id[c] += clients;
		} else if (r < crash_pct + 3) {
			o->status = LINZ_ST_FAIL;
			o->applied = false;
		}
		free_at[c] = o->cmp + 1;
		if (o->applied)
			order[k++] = o;
	}
	qsort(order, k, sizeof(*order), cmp_lin);
	for (i = 0; i < k; i++)
		apply(g, st, order[i]);
	free(free_at);
	free(id);
	free(order);
	free(st);
}

static const char *const gnames[] = { "get", "set", "set", "set", "del", "cas", "incr", "fset",
				      "acquire", "release" };

static void val(char *buf, size_t len, long long v)
{
	if (v < 0)
		snprintf(buf, len, "nil");
	else
		snprintf(buf, len, "v%lld", v);
}

/* The history text, in file order = op order (not time order). */
static char *render(const struct gen *g)
{
	char *text = NULL, a[32], b[32];
	size_t len = 0, i;
	FILE *f = open_memstream(&text, &len);

	for (i = 0; i < g->n; i++) {
		const struct gop *o = &g->ops[i];

		fprintf(f, "c%d %s k%d", o->client, gnames[o->kind], o->key);
		switch (o->kind) {
		case G_SET: case G_SETNX: case G_SETXX:
			val(a, sizeof(a), o->a);
			fprintf(f, " %s%s", a, o->kind == G_SETNX ? " NX" : o->kind == G_SETXX ? " XX" : "");
			break;
		case G_CAS:
			val(a, sizeof(a), o->a);
			val(b, sizeof(b), o->b);
			fprintf(f, " %s %s", a, b);
			break;
		case G_INCR:
			fprintf(f, " %lld", o->a);
			break;
		case G_FSET:
			val(b, sizeof(b), o->b);
			fprintf(f, " %lld %s", o->a, b);
			break;
		case G_REL:
			fprintf(f, " %lld", o->a);
			break;
		}
		fprintf(f, " %lld ", (long long)o->inv);
		if (o->status == LINZ_ST_UNKNOWN)
			fprintf(f, "- - unknown\n");
		else if (o->status == LINZ_ST_FAIL)
			fprintf(f, "%lld - fail\n", (long long)o->cmp);
		else
			fprintf(f, "%lld %s ok\n", (long long)o->cmp, o->res);
	}
	fclose(f);
	return text;
}

static bool always_shrink;	/* shrink the window even when not shown */

/* Check @g; @show: shrink the window and print the report. */
static enum linz_verdict check(const struct gen *g, bool show, struct linz_report *rep)
{
	struct linz_opts o = { .timeout_s = 60, .no_explain = !show && !always_shrink };
	struct linz_history h;
	char *text = render(g);
	enum linz_verdict v;

	if (getenv("TRUTH_DUMP")) {
		/* the last history checked, for truth-linz */
		FILE *f = fopen(getenv("TRUTH_DUMP"), "w");

		if (f) {
			fputs(text, f);
			fclose(f);
		}
	}
	linz_history_init(&h, g->model);
	if (linz_history_parse(&h, text, strlen(text))) {
		printf("# generated history does not parse: %s\n", h.err);
		free(text);
		return -1;
	}
	v = linz_check(&h, &o, rep);
	if (show) {
		char *buf = NULL, *line, *save = NULL;
		size_t blen = 0;
		FILE *f = open_memstream(&buf, &blen);

		/* quoted, so that TAP readers see comments */
		linz_report_print(f, &h, rep);
		fclose(f);
		printf("# ----- report (replay with TRUTH_SEED) -----\n");
		for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			printf("# %s\n", line);
		free(buf);
	}
	linz_history_free(&h);
	free(text);
	return v;
}

static bool is_read(const struct gop *o)
{
	return o->kind == G_GET && o->status == LINZ_ST_OK;
}

static bool before(const struct gop *a, const struct gop *b)
{
	return a->cmp < b->inv;
}

/* Inject one anomaly no order can explain; its name, or NULL if none fits. */
static const char *inject_kv(struct gen *g)
{
	size_t n = g->n, i, j, k, start = rnd_below(n);

	for (i = 0; i < n; i++) {
		struct gop *r = &g->ops[(start + i) % n];
		int what = rnd_below(3);

		if (!is_read(r))
			continue;
		if (what == 0) {
			/* stale read: w1 -> w2 -> r in real time, r returns w1's value */
			for (j = 0; j < n; j++) {
				struct gop *w2 = &g->ops[j];

				if (w2->kind != G_SET || w2->status != LINZ_ST_OK || w2->key != r->key ||
				    !before(w2, r))
					continue;
				for (k = 0; k < n; k++) {
					struct gop *w1 = &g->ops[k];

					if (w1->kind == G_SET && w1->status == LINZ_ST_OK &&
					    w1->key == r->key && before(w1, w2)) {
						val(r->res, sizeof(r->res), w1->a);
						return "stale read";
					}
				}
			}
		} else if (what == 1) {
			/* the value of a write that definitely failed */
			for (j = 0; j < n; j++) {
				struct gop *w = &g->ops[j];

				if (w->status == LINZ_ST_FAIL && w->key == r->key &&
				    (w->kind == G_SET || w->kind == G_CAS)) {
					val(r->res, sizeof(r->res), w->kind == G_SET ? w->a : w->b);
					return "read of a failed write";
				}
			}
		} else {
			snprintf(r->res, sizeof(r->res), "never-written");
			return "value from nowhere";
		}
	}
	return NULL;
}

static const char *inject_counter(struct gen *g)
{
	size_t n = g->n, i, j, start = rnd_below(n);
	int what = rnd_below(3);

	for (i = 0; i < n; i++) {
		struct gop *a = &g->ops[(start + i) % n];

		for (j = 0; j < n && what == 0 && is_read(a) && atoll(a->res) > 0; j++) {
			struct gop *b = &g->ops[j];

			if (is_read(b) && b->key == a->key && before(a, b)) {
				snprintf(b->res, sizeof(b->res), "%lld", atoll(a->res) - 1);
				return "non-monotonic read";
			}
		}
		if (what == 1 && is_read(a)) {
			long long sum = 0;

			for (j = 0; j < n; j++) {
				struct gop *o = &g->ops[j];

				if (o->kind == G_INCR && o->key == a->key &&
				    o->status != LINZ_ST_FAIL && o->inv < a->cmp)
					sum += o->a;
			}
			snprintf(a->res, sizeof(a->res), "%lld", sum + 1);
			return "read above every increment";
		}
		for (j = 0; j < n && what == 2 && a->kind == G_INCR && a->status == LINZ_ST_OK; j++) {
			struct gop *b = &g->ops[j];

			if (b != a && b->kind == G_INCR && b->status == LINZ_ST_OK && b->key == a->key) {
				snprintf(b->res, sizeof(b->res), "%s", a->res);
				return "two increments, one value";
			}
		}
	}
	return NULL;
}

/* Locks: grants one after another, with waiters, busy try-locks and crashes. */
static void generate_lock(struct gen *g, size_t grants, int clients)
{
	int64_t *free_at = calloc(clients, sizeof(*free_at)), freed = 0;
	long long token = rnd_below(100);
	size_t i;

	g->ops = calloc(grants * 3, sizeof(*g->ops));
	g->n = 0;
	g->model = LINZ_MODEL_LOCK;
	for (i = 0; i < grants; i++) {
		struct gop *acq = &g->ops[g->n++], *rel = &g->ops[g->n++];
		int c = rnd_below(clients), d;

		acq->kind = G_ACQ;
		acq->client = c;
		acq->inv = free_at[c] > freed - 150 ? free_at[c] : freed - (int64_t)rnd_below(150);
		acq->lin = (acq->inv > freed ? acq->inv : freed) + 1 + rnd_below(20);
		acq->cmp = acq->lin + 1 + rnd_below(20);
		token += 1 + rnd_below(3);
		acq->status = LINZ_ST_OK;
		snprintf(acq->res, sizeof(acq->res), "%lld", token);
		*rel = (struct gop){ .kind = G_REL, .client = c, .a = token, .status = LINZ_ST_OK };
		rel->inv = acq->cmp + 2 + rnd_below(100);
		rel->lin = rel->inv + 1 + rnd_below(20);
		rel->cmp = rel->lin + 1 + rnd_below(20);
		snprintf(rel->res, sizeof(rel->res), "ok");
		if (!rnd_below(15))
			rel->status = LINZ_ST_UNKNOWN;	/* released, but the reply was lost */
		freed = rel->lin;
		free_at[c] = rel->cmp + 1;
		/* another client tries while it is held */
		d = rnd_below(clients);
		if (d != c && free_at[d] < acq->lin + 1 && rel->lin - acq->lin > 4) {
			struct gop *t = &g->ops[g->n++];

			*t = (struct gop){ .kind = G_ACQ, .client = d, .status = LINZ_ST_OK };
			t->inv = acq->lin + 1;
			t->cmp = rel->lin - 1;
			/* busy, or it gave up waiting */
			if (rnd_below(4))
				snprintf(t->res, sizeof(t->res), "busy");
			else
				t->status = LINZ_ST_UNKNOWN;
			free_at[d] = t->cmp + 1;
		}
	}
	free(free_at);
}

static const char *inject_lock(struct gen *g)
{
	struct gop *grant[2] = { NULL, NULL }, *rel0 = NULL;
	size_t i, k = 0, start = rnd_below(g->n / 3);

	/* two consecutive grants, from the start'th on */
	for (i = 0; i < g->n && k < 2; i++) {
		struct gop *o = &g->ops[i];

		if (o->kind == G_ACQ && o->status == LINZ_ST_OK && strcmp(o->res, "busy")) {
			if (start) {
				start--;
				continue;
			}
			grant[k++] = o;
			if (k == 1)
				rel0 = o + 1;
		}
	}
	if (k < 2)
		return NULL;
	if (rnd_below(2)) {
		/* the second grant reaches its client before the first let go */
		grant[1]->inv = grant[0]->cmp;
		grant[1]->cmp = rel0->inv - 1;
		/* a client of its own: its old one may be busy at that time */
		grant[1]->client += 1000;
		grant[1][1].client += 1000;	/* and its release */
		return "two holders at once";
	} else {
		char t[32];
		struct gop *rel1 = grant[1] + 1;
		long long x = rel0->a;

		snprintf(t, sizeof(t), "%s", grant[0]->res);
		snprintf(grant[0]->res, sizeof(grant[0]->res), "%s", grant[1]->res);
		snprintf(grant[1]->res, sizeof(grant[1]->res), "%s", t);
		rel0->a = rel1->a;
		rel1->a = x;
		return "decreasing token";
	}
}

FIXTURE(linz) {
	int unused;
};

FIXTURE_SETUP(linz)
{
}

FIXTURE_TEARDOWN(linz)
{
}

static void run_model(struct __test_metadata *_metadata, int model)
{
	unsigned long n = cases(40), i, caught = 0, tried = 0, ops = 0;
	uint64_t seed = seed_init();
	struct linz_report rep;

	printf("# seed %llu (replay: TRUTH_SEED=%llu), %lu histories\n",
	       (unsigned long long)seed, (unsigned long long)seed, n);
	for (i = 0; i < n; i++) {
		struct gen g = { 0 };
		const char *what;
		enum linz_verdict v;

		if (model == LINZ_MODEL_LOCK)
			generate_lock(&g, 20 + rnd_below(80), 2 + rnd_below(6));
		else
			generate(&g, model, 50 + rnd_below(300), 1 + rnd_below(4), 2 + rnd_below(8), 4);
		ops += g.n;
		if (getenv("TRUTH_VERBOSE"))
			printf("# history %lu: %zu ops\n", i, g.n), fflush(stdout);
		v = check(&g, false, &rep);
		if (v != LINZ_LINEARIZABLE)
			check(&g, true, &rep);
		linz_report_free(&rep);
		ASSERT_EQ(LINZ_LINEARIZABLE, v) TH_LOG("history %lu of seed %llu", i,
						       (unsigned long long)seed);
		what = model == LINZ_MODEL_LOCK ? inject_lock(&g) :
		       model == LINZ_MODEL_COUNTER ? inject_counter(&g) : inject_kv(&g);
		if (what) {
			tried++;
			v = check(&g, i < 2, &rep);
			if (v != LINZ_VIOLATION)
				check(&g, true, &rep);
			linz_report_free(&rep);
			ASSERT_EQ(LINZ_VIOLATION, v) TH_LOG("%s not caught: history %lu of seed %llu",
							     what, i, (unsigned long long)seed);
			caught++;
		}
		free(g.ops);
	}
	printf("# %lu histories (%lu ops) linearizable as generated; %lu of %lu injected anomalies caught\n",
	       n, ops, caught, tried);
	EXPECT_GT(tried, n / 4);
}

/* generous timeouts: the host is shared, and TRUTH_SEEDS may be large */
TEST_F_TIMEOUT(linz, random_register, 1800) { run_model(_metadata, LINZ_MODEL_REGISTER); }
TEST_F_TIMEOUT(linz, random_kv, 1800) { run_model(_metadata, LINZ_MODEL_KV); }
TEST_F_TIMEOUT(linz, random_counter, 1800) { run_model(_metadata, LINZ_MODEL_COUNTER); }
TEST_F_TIMEOUT(linz, random_lock, 1800) { run_model(_metadata, LINZ_MODEL_LOCK); }

static double timed(struct gen *g, struct linz_report *rep, enum linz_verdict *v)
{
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	*v = check(g, false, rep);
	clock_gettime(CLOCK_MONOTONIC, &b);
	return (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
}

TEST_F_TIMEOUT(linz, performance, 600)
{
	static const struct { int model; size_t ops; int keys, clients, crash_pct; } runs[] = {
		{ LINZ_MODEL_KV, 10000, 100, 16, 4 },
		{ LINZ_MODEL_KV, 100000, 1000, 16, 4 },
		/* one key: all the concurrency in one search */
		{ LINZ_MODEL_COUNTER, 2000, 1, 16, 0 },
		{ LINZ_MODEL_REGISTER, 2000, 1, 8, 0 },
		{ LINZ_MODEL_REGISTER, 1000, 1, 8, 1 },
	};
	uint64_t seed = seed_init();
	size_t i;

	printf("# seed %llu\n", (unsigned long long)seed);
	for (i = 0; i < ARRAY_SIZE(runs); i++) {
		struct gen g = { 0 };
		struct linz_report rep;
		enum linz_verdict v;
		double s;

		generate(&g, runs[i].model, runs[i].ops, runs[i].keys, runs[i].clients,
			 runs[i].crash_pct);
		s = timed(&g, &rep, &v);
		printf("# %s: %zu ops, %d keys, %d clients, %d%% crashed: %s in %.3f s (%zu memo states)\n",
		       linz_model_name(runs[i].model), runs[i].ops, runs[i].keys, runs[i].clients,
		       runs[i].crash_pct,
		       v == LINZ_LINEARIZABLE ? "linearizable" : "NOT DECIDED", s, rep.states);
		linz_report_free(&rep);
		EXPECT_EQ(LINZ_LINEARIZABLE, v);
		EXPECT_LT(s, 20.0);
		/* and an anomaly in it is still found, window and all */
		if (runs[i].model == LINZ_MODEL_KV && inject_kv(&g)) {
			always_shrink = true;
			s = timed(&g, &rep, &v);
			always_shrink = false;
			printf("#   with one anomaly: %s in %.3f s incl. shrinking, window of %zu op(s) out of %zu on its key\n",
			       v == LINZ_VIOLATION ? "violation" : "MISSED", s, rep.nwindow, rep.key_ops);
			EXPECT_EQ(LINZ_VIOLATION, v);
			linz_report_free(&rep);
		}
		free(g.ops);
	}
}

TEST_HARNESS_MAIN
