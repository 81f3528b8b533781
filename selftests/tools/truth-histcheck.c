// SPDX-License-Identifier: GPL-2.0
/*
 * truth-histcheck: the per-key version check over a history that
 * truth-load recorded (one line per op:
 *   <client> <write|read> <key> <version|nil|-> <invoke_ns> <complete_ns> <ok|fail|unknown>).
 *
 * Each key has one writer, which writes versions 1, 2, 3... in order, so a
 * register's value is its version.  For every key, every ok read must
 * satisfy what linearizability implies for such a register:
 *
 *   written  its version was written by a write that was invoked before the
 *            read completed and did not definitely fail ("nil" is version 0,
 *            always allowed as far as this rule goes);
 *   fresh    it is no older than any write acknowledged (ok) before the read
 *            was invoked — in particular no acknowledged write is lost;
 *   ordered  it is no older than what any read that completed before this
 *            read was invoked returned (no going back in time).
 *
 * Reads and writes that ended fail or unknown constrain nothing themselves
 * (an unknown write may or may not have happened).  Exit 0 when every read
 * passes, 1 with the first violations printed, 2 on unreadable input.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SHOWN 20

enum result { RES_OK, RES_FAIL, RES_UNKNOWN };

struct hop {
	int client;
	bool write;
	uint64_t version;	/* read: what it returned (nil = 0) */
	uint64_t invoke, complete;
	enum result res;
	long line;
	bool phantom;		/* read: of a version no write could have made */
};

struct key {
	char *name;
	struct hop *ops;
	size_t n, cap;
};

static struct key *keys;
static size_t n_keys, cap_keys;
static size_t *table;		/* open addressing: index+1 into keys, 0 empty */
static size_t table_cap;
static long violations;

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static void rehash(void)
{
	size_t i, j;

	free(table);
	table_cap = table_cap ? table_cap * 2 : 1024;
	table = calloc(table_cap, sizeof(*table));
	if (!table)
		exit(2);
	for (i = 0; i < n_keys; i++) {
		for (j = hash(keys[i].name) & (table_cap - 1); table[j]; j = (j + 1) & (table_cap - 1))
			;
		table[j] = i + 1;
	}
}

static struct key *key_get(const char *name)
{
	size_t j;

	if (n_keys * 2 >= table_cap)
		rehash();
	for (j = hash(name) & (table_cap - 1); table[j]; j = (j + 1) & (table_cap - 1))
		if (!strcmp(keys[table[j] - 1].name, name))
			return &keys[table[j] - 1];
	if (n_keys == cap_keys) {
		cap_keys = cap_keys * 2 + 256;
		keys = realloc(keys, cap_keys * sizeof(*keys));
		if (!keys)
			exit(2);
	}
	memset(&keys[n_keys], 0, sizeof(*keys));
	keys[n_keys].name = strdup(name);
	table[j] = ++n_keys;
	return &keys[n_keys - 1];
}

static void add(struct key *k, const struct hop *o)
{
	if (k->n == k->cap) {
		k->cap = k->cap * 2 + 16;
		k->ops = realloc(k->ops, k->cap * sizeof(*k->ops));
		if (!k->ops)
			exit(2);
	}
	k->ops[k->n++] = *o;
}

static void violation(const struct key *k, const struct hop *r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void violation(const struct key *k, const struct hop *r, const char *fmt, ...)
{
	va_list ap;

	if (++violations > MAX_SHOWN)
		return;
	printf("VIOLATION key %s: read by client %d (line %ld, invoked %llu, completed %llu) returned %llu: ",
	       k->name, r->client, r->line, (unsigned long long)r->invoke,
	       (unsigned long long)r->complete, (unsigned long long)r->version);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static int by_invoke(const void *a, const void *b)
{
	const struct hop *x = *(struct hop *const *)a, *y = *(struct hop *const *)b;

	return x->invoke < y->invoke ? -1 : x->invoke > y->invoke;
}

static int by_complete(const void *a, const void *b)
{
	const struct hop *x = *(struct hop *const *)a, *y = *(struct hop *const *)b;

	return x->complete < y->complete ? -1 : x->complete > y->complete;
}

/* the three rules for one key; returns the number of ok reads checked */
static long check_key(struct key *k)
{
	struct hop **reads_i, **reads_c, **acks;
	size_t i, j, nr = 0, na = 0, ai = 0, ci = 0;
	uint64_t max_ack = 0, max_seen = 0;

	reads_i = calloc(k->n + 1, sizeof(*reads_i));
	reads_c = calloc(k->n + 1, sizeof(*reads_c));
	acks = calloc(k->n + 1, sizeof(*acks));
	if (!reads_i || !reads_c || !acks)
		exit(2);
	for (i = 0; i < k->n; i++) {
		struct hop *o = &k->ops[i];

		if (!o->write && o->res == RES_OK)
			reads_i[nr] = reads_c[nr] = o, nr++;
		if (o->write && o->res == RES_OK)
			acks[na++] = o;
	}
	/* "written" first, so a phantom value does not also spoil "ordered" */
	for (i = 0; i < nr; i++) {
		struct hop *r = reads_i[i];
		bool found = r->version == 0;

		for (j = 0; !found && j < k->n; j++) {
			const struct hop *w = &k->ops[j];

			found = w->write && w->version == r->version &&
				w->res != RES_FAIL && w->invoke < r->complete;
		}
		r->phantom = !found;
		if (!found)
			violation(k, r, "no write of that version could have happened");
	}
	qsort(reads_i, nr, sizeof(*reads_i), by_invoke);
	qsort(reads_c, nr, sizeof(*reads_c), by_complete);
	qsort(acks, na, sizeof(*acks), by_complete);
	for (i = 0; i < nr; i++) {
		struct hop *r = reads_i[i];

		/* writes acknowledged, and reads completed, before r began */
		for (; ai < na && acks[ai]->complete < r->invoke; ai++)
			if (acks[ai]->version > max_ack)
				max_ack = acks[ai]->version;
		for (; ci < nr && reads_c[ci]->complete < r->invoke; ci++)
			if (reads_c[ci]->version > max_seen && !reads_c[ci]->phantom)
				max_seen = reads_c[ci]->version;
		if (r->version < max_ack)
			violation(k, r, "older than version %llu, acknowledged before the read began",
				  (unsigned long long)max_ack);
		if (r->version < max_seen)
			violation(k, r, "older than version %llu, returned by a read that ended before",
				  (unsigned long long)max_seen);
	}
	free(reads_i);
	free(reads_c);
	free(acks);
	return nr;
}

static int parse_result(const char *s, enum result *r)
{
	if (!strcmp(s, "ok"))
		*r = RES_OK;
	else if (!strcmp(s, "fail"))
		*r = RES_FAIL;
	else if (!strcmp(s, "unknown"))
		*r = RES_UNKNOWN;
	else
		return -1;
	return 0;
}

static int load(const char *path)
{
	char line[512], op[16], key[256], val[32], res[16];
	FILE *f = fopen(path, "r");
	long n = 0;

	if (!f) {
		fprintf(stderr, "truth-histcheck: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned long long inv, comp;
		struct hop o = { .line = ++n };
		char *end;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "%d %15s %255s %31s %llu %llu %15s", &o.client, op, key, val,
			   &inv, &comp, res) != 7 || parse_result(res, &o.res) ||
		    (strcmp(op, "write") && strcmp(op, "read")) || comp < inv) {
			fprintf(stderr, "truth-histcheck: %s:%ld: not a history line: %s", path, n, line);
			fclose(f);
			return -1;
		}
		o.write = !strcmp(op, "write");
		o.invoke = inv;
		o.complete = comp;
		if (!strcmp(val, "nil") || !strcmp(val, "-")) {
			o.version = 0;
		} else {
			o.version = strtoull(val, &end, 10);
			if (*end) {
				/* a value truth-load did not write: never legal */
				o.version = UINT64_MAX;
			}
		}
		if (o.write && o.version == 0) {
			fprintf(stderr, "truth-histcheck: %s:%ld: a write without a version\n", path, n);
			fclose(f);
			return -1;
		}
		add(key_get(key), &o);
	}
	fclose(f);
	return 0;
}

int main(int argc, char **argv)
{
	long reads = 0, writes = 0, unknown = 0, i;
	size_t k, j;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fprintf(argc < 2 ? stderr : stdout,
			"usage: truth-histcheck HISTORY...\n"
			"  checks a truth-load register history: every ok read returns a version that\n"
			"  was written, no older than any write acknowledged or any read completed\n"
			"  before it began.  Exit 0: no violation; 1: violations (printed); 2: bad input.\n");
		return argc < 2 ? 2 : 0;
	}
	for (i = 1; i < argc; i++)
		if (load(argv[i]))
			return 2;
	for (k = 0; k < n_keys; k++) {
		reads += check_key(&keys[k]);
		for (j = 0; j < keys[k].n; j++) {
			writes += keys[k].ops[j].write && keys[k].ops[j].res == RES_OK;
			unknown += keys[k].ops[j].write && keys[k].ops[j].res == RES_UNKNOWN;
		}
	}
	printf("truth-histcheck: keys=%zu ok_writes=%ld unknown_writes=%ld ok_reads=%ld violations=%ld\n",
	       n_keys, writes, unknown, reads, violations);
	return violations ? 1 : 0;
}
