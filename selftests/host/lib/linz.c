// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * linz: reading histories.  The format is in Documentation/linearizability.md;
 * everything is parsed into integers here (values interned), so the search
 * never touches a string.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "linz.h"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

static const char *const model_names[__LINZ_MODEL_MAX] = {
	[LINZ_MODEL_REGISTER] = "register",
	[LINZ_MODEL_KV] = "kv",
	[LINZ_MODEL_COUNTER] = "counter",
	[LINZ_MODEL_LOCK] = "lock",
};

static const char *const kind_names[] = {
	[LINZ_OP_READ] = "read", [LINZ_OP_WRITE] = "write", [LINZ_OP_CAS] = "cas",
	[LINZ_OP_DEL] = "del", [LINZ_OP_INCR] = "incr", [LINZ_OP_FSET] = "fset",
	[LINZ_OP_ACQUIRE] = "acquire", [LINZ_OP_RELEASE] = "release",
	[LINZ_OP_HOLD] = "hold",
};

/* op names as written (get/set are the Redis spellings) and their models */
static const struct {
	const char *name;
	enum linz_kind kind;
	unsigned int models;		/* bit per enum linz_model */
	int min_args, max_args;
} op_table[] = {
#define M(x) (1u << LINZ_MODEL_##x)
	{ "read", LINZ_OP_READ, M(REGISTER) | M(KV) | M(COUNTER), 0, 0 },
	{ "get", LINZ_OP_READ, M(REGISTER) | M(KV) | M(COUNTER), 0, 0 },
	{ "write", LINZ_OP_WRITE, M(REGISTER) | M(KV), 1, 1 },
	{ "set", LINZ_OP_WRITE, M(REGISTER) | M(KV), 1, 2 },
	{ "cas", LINZ_OP_CAS, M(REGISTER) | M(KV), 2, 2 },
	{ "del", LINZ_OP_DEL, M(KV), 0, 0 },
	{ "incr", LINZ_OP_INCR, M(KV) | M(COUNTER), 0, 1 },
	{ "fset", LINZ_OP_FSET, M(KV), 2, 2 },
	{ "acquire", LINZ_OP_ACQUIRE, M(LOCK), 0, 1 },
	{ "release", LINZ_OP_RELEASE, M(LOCK), 0, 1 },
	{ "hold", LINZ_OP_HOLD, M(LOCK), 1, 1 },
#undef M
};

int linz_model_by_name(const char *name)
{
	int i;

	for (i = 0; i < __LINZ_MODEL_MAX; i++)
		if (!strcmp(name, model_names[i]))
			return i;
	return -1;
}

const char *linz_model_name(enum linz_model m)
{
	return (unsigned int)m < __LINZ_MODEL_MAX ? model_names[m] : "?";
}

const char *linz_kind_name(enum linz_kind k)
{
	return (unsigned int)k <= LINZ_OP_HOLD ? kind_names[k] : "?";
}

int64_t linz_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void linz_history_init(struct linz_history *h, enum linz_model model)
{
	memset(h, 0, sizeof(*h));
	h->model = model;
}

void linz_history_free(struct linz_history *h)
{
	size_t i;

	for (i = 0; i < h->nstrs; i++)
		free(h->strs[i]);
	free(h->strs);
	free(h->str_hash);
	free(h->op_hash);
	free(h->ops);
	memset(h, 0, sizeof(*h));
}

const char *linz_str(const struct linz_history *h, uint32_t id)
{
	return id < h->nstrs ? h->strs[id] : "?";
}

static uint64_t str_hash(const char *s)
{
	uint64_t x = 1469598103934665603ULL;	/* FNV-1a */

	while (*s)
		x = (x ^ (unsigned char)*s++) * 1099511628211ULL;
	return x;
}

static int str_rehash(struct linz_history *h, size_t cap)
{
	uint32_t *t = calloc(cap, sizeof(*t));
	size_t i, j;

	if (!t)
		return -1;
	for (i = 0; i < h->nstrs; i++) {
		for (j = str_hash(h->strs[i]) & (cap - 1); t[j]; j = (j + 1) & (cap - 1))
			;
		t[j] = i + 1;
	}
	free(h->str_hash);
	h->str_hash = t;
	h->str_hash_cap = cap;
	return 0;
}

/* The id of string @s (copied on first sight); -1 without memory. */
static int64_t intern(struct linz_history *h, const char *s)
{
	size_t j;
	char *copy;

	if (h->nstrs * 2 >= h->str_hash_cap &&
	    str_rehash(h, h->str_hash_cap ? h->str_hash_cap * 2 : 64))
		return -1;
	for (j = str_hash(s) & (h->str_hash_cap - 1); h->str_hash[j];
	     j = (j + 1) & (h->str_hash_cap - 1))
		if (!strcmp(h->strs[h->str_hash[j] - 1], s))
			return h->str_hash[j] - 1;
	if (h->nstrs == h->strs_cap) {
		size_t cap = h->strs_cap ? h->strs_cap * 2 : 64;
		char **n = realloc(h->strs, cap * sizeof(*n));

		if (!n)
			return -1;
		h->strs = n;
		h->strs_cap = cap;
	}
	copy = strdup(s);
	if (!copy)
		return -1;
	h->strs[h->nstrs] = copy;
	h->str_hash[j] = h->nstrs + 1;
	return h->nstrs++;
}

static int perr(struct linz_history *h, unsigned int line, const char *fmt, ...)
{
	va_list ap;
	int off = snprintf(h->err, sizeof(h->err), "line %u: ", line);

	va_start(ap, fmt);
	vsnprintf(h->err + off, sizeof(h->err) - off, fmt, ap);
	va_end(ap);
	return -1;
}

/* Strict decimal int64: no sign on zero, no leading zeros, no overflow. */
static bool parse_i64(const char *s, int64_t *out)
{
	const char *p = s + (*s == '-');
	char *end;
	long long v;

	if (!*p || (*p == '0' && (p[1] || *s == '-')))
		return false;
	for (; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decode %XX escapes in place; false on a malformed escape or a NUL. */
static bool unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (*s != '%') {
			*w++ = *s;
			continue;
		}
		if (hexval(s[1]) < 0 || hexval(s[2]) < 0 || !(hexval(s[1]) | hexval(s[2])))
			return false;
		*w++ = hexval(s[1]) << 4 | hexval(s[2]);
		s += 2;
	}
	*w = 0;
	return true;
}

/* A value field: "-" none, "nil", "" empty, an int, else an interned string. */
static int parse_val(struct linz_history *h, unsigned int line, char *tok, struct linz_val *v)
{
	int64_t id;

	memset(v, 0, sizeof(*v));
	if (!strcmp(tok, "-"))
		return 0;		/* LINZ_V_NONE */
	if (!strcmp(tok, "nil")) {
		v->kind = LINZ_V_NIL;
		return 0;
	}
	if (!strcmp(tok, "\"\""))
		*tok = 0;		/* the empty string */
	else if (!unescape(tok))
		return perr(h, line, "bad %%XX escape in '%s'", tok);
	if (parse_i64(tok, &v->n)) {
		v->kind = LINZ_V_INT;
		return 0;
	}
	id = intern(h, tok);
	if (id < 0)
		return perr(h, line, "out of memory");
	v->kind = LINZ_V_STR;
	v->n = id;
	return 0;
}

static bool word_in(const char *tok, const char *const *words)
{
	for (; *words; words++)
		if (!strcasecmp(tok, *words))
			return true;
	return false;
}

/* The boolean reading of a result: 1 yes, 0 no, -1 not observed. */
static int8_t result_bool(const char *tok)
{
	static const char *const yes[] = { "ok", "true", "1", NULL };
	static const char *const no[] = { "nil", "false", "0", "stale", "busy", NULL };

	if (word_in(tok, yes))
		return 1;
	if (word_in(tok, no))
		return 0;
	return -1;
}

static int parse_time(struct linz_history *h, unsigned int line, const char *tok, int64_t *t)
{
	if (!parse_i64(tok, t) || *t < 0 || *t == LINZ_T_INF)
		return perr(h, line, "bad time '%s' (non-negative integer nanoseconds)", tok);
	return 0;
}

/* Check and convert the op-specific fields (args already in op->arg*). */
static int check_op(struct linz_history *h, unsigned int line, struct linz_op *op,
		    char **args, int nargs, const char *res)
{
	int8_t rb = result_bool(res);

	op->rbool = -1;
	switch (op->kind) {
	case LINZ_OP_WRITE:
		if (nargs == 2) {
			if (!strcasecmp(args[1], "NX"))
				op->flags = LINZ_F_NX;
			else if (!strcasecmp(args[1], "XX"))
				op->flags = LINZ_F_XX;
			else
				return perr(h, line, "set: flag '%s' is not NX or XX", args[1]);
			/* a null reply is the only "not set" a SET gives */
			op->rbool = !strcmp(res, "-") ? -1 : op->result.kind != LINZ_V_NIL;
		}
		break;
	case LINZ_OP_INCR:
		if (nargs == 0) {
			op->arg.kind = LINZ_V_INT;
			op->arg.n = 1;
		} else if (op->arg.kind != LINZ_V_INT) {
			return perr(h, line, "incr: increment '%s' is not an integer", args[0]);
		}
		if (h->model == LINZ_MODEL_COUNTER && op->arg.n <= 0)
			return perr(h, line, "incr: counter increments must be > 0");
		if (op->result.kind == LINZ_V_STR && !strcasecmp(linz_str(h, op->result.n), "err"))
			op->rbool = 0;	/* the stored value was not an integer */
		else if (op->result.kind != LINZ_V_INT && op->result.kind != LINZ_V_NONE)
			return perr(h, line, "incr: result '%s' is not an integer or err", res);
		break;
	case LINZ_OP_FSET:
		if (op->arg.kind != LINZ_V_INT)
			return perr(h, line, "fset: token '%s' is not an integer", args[0]);
		op->rbool = rb;
		break;
	case LINZ_OP_ACQUIRE:
		if (nargs && (op->arg.kind != LINZ_V_INT || op->arg.n <= 0))
			return perr(h, line, "acquire: ttl '%s' is not a positive integer (ns)",
				    args[0]);
		if (op->result.kind == LINZ_V_INT)
			op->rbool = 1;
		else if (!strcmp(res, "-"))
			op->rbool = -1;
		else if (rb == 0)
			op->rbool = 0;	/* busy: not granted */
		else
			return perr(h, line, "acquire: result '%s' is not a token or busy", res);
		break;
	case LINZ_OP_RELEASE:
	case LINZ_OP_HOLD:
		if (nargs && op->arg.kind != LINZ_V_INT)
			return perr(h, line, "%s: token '%s' is not an integer",
				    linz_kind_name(op->kind), args[0]);
		op->rbool = op->kind == LINZ_OP_RELEASE ? rb : 1;
		break;
	case LINZ_OP_CAS:
	case LINZ_OP_DEL:
		op->rbool = op->kind == LINZ_OP_DEL && op->result.kind == LINZ_V_INT ?
			op->result.n != 0 : rb;
		break;
	default:
		break;
	}
	if (op->kind == LINZ_OP_HOLD && (op->status != LINZ_ST_OK || op->complete == LINZ_T_INF))
		return perr(h, line, "hold: needs status ok and an end time");
	return 0;
}

static uint64_t op_hash(const struct linz_op *op)
{
	uint64_t x = ((uint64_t)op->client << 32 ^ (uint64_t)op->invoke) * 0x9e3779b97f4a7c15ULL;

	return x ^ x >> 29;
}

static int op_rehash(struct linz_history *h, size_t cap)
{
	uint32_t *t = calloc(cap, sizeof(*t));
	size_t i, j;

	if (!t)
		return -1;
	for (i = 0; i < h->nops; i++) {
		for (j = op_hash(&h->ops[i]) & (cap - 1); t[j]; j = (j + 1) & (cap - 1))
			;
		t[j] = i + 1;
	}
	free(h->op_hash);
	h->op_hash = t;
	h->op_hash_cap = cap;
	return 0;
}

/* The op of the same client invoked at the same time, if any. */
static struct linz_op *find_pending(struct linz_history *h, const struct linz_op *op)
{
	size_t j;

	if (!h->op_hash_cap)
		return NULL;
	for (j = op_hash(op) & (h->op_hash_cap - 1); h->op_hash[j];
	     j = (j + 1) & (h->op_hash_cap - 1)) {
		struct linz_op *p = &h->ops[h->op_hash[j] - 1];

		if (p->client == op->client && p->invoke == op->invoke)
			return p;
	}
	return NULL;
}

static int add_op(struct linz_history *h, const struct linz_op *op)
{
	size_t j;

	if (h->nops * 2 >= h->op_hash_cap &&
	    op_rehash(h, h->op_hash_cap ? h->op_hash_cap * 2 : 512))
		return -1;
	if (h->nops == h->ops_cap) {
		size_t cap = h->ops_cap ? h->ops_cap * 2 : 256;
		struct linz_op *o = realloc(h->ops, cap * sizeof(*o));

		if (!o)
			return -1;
		h->ops = o;
		h->ops_cap = cap;
	}
	h->ops[h->nops] = *op;
	h->ops[h->nops].id = h->nops;
	for (j = op_hash(op) & (h->op_hash_cap - 1); h->op_hash[j];
	     j = (j + 1) & (h->op_hash_cap - 1))
		;
	h->op_hash[j] = ++h->nops;
	return 0;
}

static int parse_line(struct linz_history *h, unsigned int line, char *s)
{
	char *tok[64], *save = NULL, *t;
	int n = 0, i, nargs;
	struct linz_op op = { 0 }, *prev;
	int64_t id;

	for (t = strtok_r(s, " \t\r", &save); t; t = strtok_r(NULL, " \t\r", &save)) {
		if (n == 64)
			return perr(h, line, "more than 64 fields");
		tok[n++] = t;
	}
	if (!n || tok[0][0] == '#')
		return 0;
	if (n < 7)
		return perr(h, line, "%d fields; need CLIENT OP KEY [ARG...] INVOKE COMPLETE RESULT STATUS", n);
	nargs = n - 7;
	for (i = 0; i < (int)ARRAY_SIZE(op_table); i++)
		if (!strcmp(tok[1], op_table[i].name))
			break;
	if (i == (int)ARRAY_SIZE(op_table))
		return perr(h, line, "unknown operation '%s'", tok[1]);
	if (!(op_table[i].models & (1u << h->model)))
		return perr(h, line, "'%s' is not an operation of the %s model", tok[1],
			    linz_model_name(h->model));
	if (nargs < op_table[i].min_args || nargs > op_table[i].max_args)
		return perr(h, line, "'%s' takes %d to %d arguments, not %d", tok[1],
			    op_table[i].min_args, op_table[i].max_args, nargs);
	op.kind = op_table[i].kind;
	op.line = line;
	if (!strcmp(tok[n - 1], "ok"))
		op.status = LINZ_ST_OK;
	else if (!strcmp(tok[n - 1], "fail"))
		op.status = LINZ_ST_FAIL;
	else if (!strcmp(tok[n - 1], "unknown"))
		op.status = LINZ_ST_UNKNOWN;
	else
		return perr(h, line, "status '%s' is not ok, fail or unknown", tok[n - 1]);
	if (parse_time(h, line, tok[n - 4], &op.invoke))
		return -1;
	if (!strcmp(tok[n - 3], "-")) {
		op.complete = LINZ_T_INF;
		if (op.status == LINZ_ST_OK)
			return perr(h, line, "status ok needs a completion time");
	} else if (parse_time(h, line, tok[n - 3], &op.complete)) {
		return -1;
	} else if (op.complete < op.invoke) {
		return perr(h, line, "completes (%s) before it is invoked (%s)", tok[n - 3],
			    tok[n - 4]);
	}
	/* an unknown op may still take effect after its client gave up */
	if (op.status == LINZ_ST_UNKNOWN)
		op.complete = LINZ_T_INF;
	if (nargs >= 1 && parse_val(h, line, tok[3], &op.arg))
		return -1;
	if (nargs >= 2 && op.kind != LINZ_OP_WRITE && parse_val(h, line, tok[4], &op.arg2))
		return -1;
	if ((op.kind == LINZ_OP_WRITE && op.arg.kind == LINZ_V_NONE) ||
	    ((op.kind == LINZ_OP_CAS || op.kind == LINZ_OP_FSET) && (op.arg.kind == LINZ_V_NONE ||
								     op.arg2.kind == LINZ_V_NONE)))
		return perr(h, line, "%s: '-' is not a value (write %%2D for the string \"-\")",
			    tok[1]);
	if (parse_val(h, line, tok[n - 2], &op.result))
		return -1;
	if (check_op(h, line, &op, tok + 3, nargs, tok[n - 2]))
		return -1;
	if (!unescape(tok[0]) || !unescape(tok[2]))
		return perr(h, line, "bad %%XX escape in client or key");
	id = intern(h, tok[0]);
	if (id < 0)
		return perr(h, line, "out of memory");
	op.client = id;
	id = intern(h, tok[2]);
	if (id < 0)
		return perr(h, line, "out of memory");
	op.key = id;

	prev = find_pending(h, &op);
	if (prev) {
		/* the finished record of an op whose invoke was logged first */
		if (prev->status != LINZ_ST_UNKNOWN || prev->kind != op.kind || prev->key != op.key)
			return perr(h, line, "client '%s' already has an op invoked at %s (line %u)",
				    tok[0], tok[n - 4], prev->line);
		op.id = prev->id;
		*prev = op;
		return 0;
	}
	if (add_op(h, &op))
		return perr(h, line, "out of memory");
	return 0;
}

int linz_history_parse(struct linz_history *h, const char *text, size_t len)
{
	char buf[LINZ_LINE_MAX + 1];
	unsigned int line = 0;
	size_t pos = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t l = (nl ? (size_t)(nl - text) : len) - pos;

		line++;
		if (l > LINZ_LINE_MAX)
			return perr(h, line, "longer than %d bytes", LINZ_LINE_MAX);
		memcpy(buf, text + pos, l);
		buf[l] = 0;
		if (memchr(buf, 0, l))
			return perr(h, line, "contains a NUL byte");
		if (parse_line(h, line, buf))
			return -1;
		pos += l + 1;
	}
	return 0;
}

int linz_history_load(struct linz_history *h, const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	char *text = NULL;
	size_t len = 0, cap = 0, got;
	int ret;

	if (!f) {
		snprintf(h->err, sizeof(h->err), "%s: %s", path, strerror(errno));
		return -1;
	}
	do {
		if (cap - len < 65536) {
			char *n = realloc(text, cap = cap * 2 + 65536);

			if (!n) {
				free(text);
				snprintf(h->err, sizeof(h->err), "out of memory");
				return -1;
			}
			text = n;
		}
		got = fread(text + len, 1, cap - len, f);
		len += got;
	} while (got);
	ret = ferror(f) ? -1 : 0;
	if (ret)
		snprintf(h->err, sizeof(h->err), "%s: read error", path);
	if (f != stdin)
		fclose(f);
	if (!ret)
		ret = linz_history_parse(h, text, len);
	free(text);
	return ret;
}
