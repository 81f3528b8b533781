/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * linz: a linearizability checker for histories recorded by test clients.
 *
 * A history is text, one operation per line (Documentation/linearizability.md):
 *
 *   CLIENT OP KEY [ARG...] INVOKE_NS COMPLETE_NS|- RESULT STATUS
 *
 * STATUS is ok (took effect, RESULT observed), fail (definitely did not take
 * effect) or unknown (may or may not have, at any time after INVOKE).  The
 * history is split per key (P-compositionality: every model here is a set of
 * independent per-key objects) and each key is searched with Wing & Gong's
 * algorithm as refined by Lowe: linearize an operation only when a pending
 * return forces it, and memoise every (linearized set, model state) reached,
 * so a configuration is explored once.  A deadline bounds the search; when it
 * passes the verdict is "unknown", never "linearizable".
 *
 * Lock histories are also checked directly against their holder timeline
 * (validity intervals, token order), which holds even when leases expire
 * without an operation in the history.
 */
#ifndef _TRUTH_LINZ_H
#define _TRUTH_LINZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define LINZ_T_INF	INT64_MAX	/* completion of an op that may never end */
#define LINZ_LINE_MAX	4096		/* longest history line accepted */

enum linz_model {
	LINZ_MODEL_REGISTER,	/* read / write / cas */
	LINZ_MODEL_KV,		/* get / set [NX|XX] / del / incr / cas / fset */
	LINZ_MODEL_COUNTER,	/* incr n -> new value / read; starts at 0 */
	LINZ_MODEL_LOCK,	/* acquire -> token / release / hold */
	__LINZ_MODEL_MAX
};

enum linz_status {
	LINZ_ST_OK,		/* took effect, within [invoke, complete] */
	LINZ_ST_FAIL,		/* definitely did not take effect */
	LINZ_ST_UNKNOWN,	/* may have taken effect, any time after invoke */
	LINZ_ST_OPTIONAL,	/* internal: may not have, else within its interval */
};

enum linz_kind {
	LINZ_OP_READ,
	LINZ_OP_WRITE,
	LINZ_OP_CAS,
	LINZ_OP_DEL,
	LINZ_OP_INCR,
	LINZ_OP_FSET,		/* write guarded by a fencing token */
	LINZ_OP_ACQUIRE,
	LINZ_OP_RELEASE,
	LINZ_OP_HOLD,		/* a holder's validity interval, timeline only */
};

enum linz_vkind {
	LINZ_V_NONE,		/* "-": not given / not observed */
	LINZ_V_NIL,		/* "nil": absent key, null reply */
	LINZ_V_INT,		/* a canonical decimal int64 */
	LINZ_V_STR,		/* any other string; n is its interned id */
};

struct linz_val {
	int64_t n;
	int32_t kind;		/* enum linz_vkind */
	int32_t pad;		/* zero: values are compared with memcmp */
};

#define LINZ_F_NX	0x1	/* set only if absent */
#define LINZ_F_XX	0x2	/* set only if present */

struct linz_op {
	uint32_t id;		/* index in the history */
	uint32_t line;		/* line number in the history text */
	uint32_t client;	/* interned client id */
	uint32_t key;		/* interned key */
	uint8_t kind;		/* enum linz_kind */
	uint8_t status;		/* enum linz_status */
	uint8_t flags;		/* LINZ_F_* */
	int8_t rbool;		/* boolean reading of the result, -1 unknown */
	struct linz_val arg;	/* value / increment / token / ttl */
	struct linz_val arg2;	/* cas new value, fset value */
	struct linz_val result;
	int64_t invoke;
	int64_t complete;	/* LINZ_T_INF when not known */
};

struct linz_history {
	struct linz_op *ops;
	size_t nops, ops_cap;
	char **strs;		/* interned strings (keys, clients, values) */
	size_t nstrs, strs_cap;
	uint32_t *str_hash;	/* open addressing over strs, id + 1 */
	size_t str_hash_cap;
	uint32_t *op_hash;	/* (client, invoke) -> op id + 1, for pairing */
	size_t op_hash_cap;
	enum linz_model model;
	char err[256];		/* "LINE: what is wrong" after a failed parse */
};

void linz_history_init(struct linz_history *h, enum linz_model model);
void linz_history_free(struct linz_history *h);
/* Parse @len bytes of history text; appends to @h.  0, or -1 with h->err. */
int linz_history_parse(struct linz_history *h, const char *text, size_t len);
int linz_history_load(struct linz_history *h, const char *path);
const char *linz_str(const struct linz_history *h, uint32_t id);
int linz_model_by_name(const char *name);	/* enum linz_model or -1 */
const char *linz_model_name(enum linz_model m);
const char *linz_kind_name(enum linz_kind k);

/* ---------------------------------------------------------------- check */

enum linz_verdict {
	LINZ_LINEARIZABLE = 0,
	LINZ_VIOLATION = 1,
	LINZ_UNKNOWN = 2,	/* deadline or memory limit: not decided */
};

struct linz_opts {
	double timeout_s;	/* whole check incl. explanation; 0: none */
	size_t max_states;	/* per key memo entries; 0: default */
	bool no_explain;	/* skip the smallest-window search */
	double explain_s;	/* at most this long shrinking; 0: 10 s */
};

/* Model state of one key; memcmp-able (no padding, fields zeroed). */
struct linz_state {
	int64_t v;		/* value (int or string id) / token held */
	int64_t fence;		/* highest fencing token seen / last lock token */
	int32_t vkind;		/* enum linz_vkind of v; NIL when absent / free */
	int32_t holder;		/* lock: holder client + 1, 0 when free */
};

struct linz_report {
	enum linz_verdict verdict;
	size_t ops, keys;	/* ops in the history, partitions checked */
	size_t states;		/* memo entries created, all keys */
	double seconds;
	/* violation: the key and the smallest failing window found */
	bool timeline;		/* found by the lock holder timeline check */
	uint32_t bad_key;
	size_t key_ops;		/* ops on that key */
	uint32_t *window;	/* op ids, by invoke time */
	size_t nwindow;
	struct linz_op *extra;	/* relaxed and unknown ops before the cut */
	size_t nextra;
	bool minimal;		/* false when the deadline cut the shrinking */
	int64_t cut;		/* the failure shows by this completion time */
	bool lock_lin_skipped;	/* leases present: lock order not linearized */
	char why[512];		/* timeline reason, or why unknown */
};

enum linz_verdict linz_check(const struct linz_history *h, const struct linz_opts *o,
			     struct linz_report *r);
void linz_report_print(FILE *f, const struct linz_history *h, const struct linz_report *r);
void linz_report_free(struct linz_report *r);

/* --------------------------------------------------- internal (linz_*.c) */

struct linz_limits {
	int64_t deadline_ns;	/* CLOCK_MONOTONIC; 0: none */
	size_t max_states;
	size_t states;		/* accumulated memo entries */
	size_t shrink_states;	/* per search while shrinking; 0: max_states */
	bool out_of_memory;
};

/* 1 linearizable, 0 not, -1 deadline / state limit.  @ops: one key. */
int linz_search(const struct linz_history *h, const struct linz_op *ops, size_t n,
		struct linz_limits *lim);
void linz_state_init(enum linz_model m, struct linz_state *s);
/* Apply @op to @s: true and *out when the model allows it with its result;
 * false (and a reason in @why when given) when it cannot happen now.
 */
bool linz_step(const struct linz_history *h, const struct linz_op *op,
	       const struct linz_state *s, struct linz_state *out, char *why, size_t whylen);
int linz_fmt_state(const struct linz_history *h, const struct linz_state *s, char *buf,
		   size_t len);
int linz_fmt_val(const struct linz_history *h, const struct linz_val *v, char *buf, size_t len);
int linz_fmt_op(const struct linz_history *h, const struct linz_op *op, char *buf, size_t len);
/* May @op be left out of the search entirely (it cannot change state)? */
bool linz_op_inert(const struct linz_op *op);
int64_t linz_mono_ns(void);
int linz_shrink(const struct linz_history *h, const struct linz_op *ops, size_t n,
		struct linz_limits *lim, struct linz_report *r);
bool linz_lock_timeline(const struct linz_history *h, const struct linz_op *ops, size_t n,
			struct linz_report *r);

/* ---------------------------------------------------------------- writer */
/*
 * Recording from C: linz_record_invoke() appends a line with status unknown
 * and no completion before the request is sent; linz_record_ok/fail/unknown()
 * append the finished line, which replaces it (same client and invoke time).
 * A client killed in between leaves the unknown line: exactly what happened.
 * Each line is one write(2) on an O_APPEND descriptor, so many processes and
 * threads can share one file.
 */
struct linz_recorder {
	int fd;
};

struct linz_call {
	char head[LINZ_LINE_MAX / 2];	/* "CLIENT OP KEY ARGS", escaped */
	int64_t invoke;
};

int64_t linz_now_ns(void);	/* CLOCK_MONOTONIC, the clock histories use */
int linz_recorder_open(struct linz_recorder *r, const char *path);
void linz_recorder_close(struct linz_recorder *r);
/* @args: raw strings, NULL for nil.  0, or -errno / -EINVAL (too long). */
int linz_record_invoke(struct linz_recorder *r, struct linz_call *c, const char *client,
		       const char *op, const char *key, const char *const *args, int nargs);
int linz_record_ok(struct linz_recorder *r, const struct linz_call *c, const char *result);
int linz_record_ok_int(struct linz_recorder *r, const struct linz_call *c, int64_t result);
int linz_record_fail(struct linz_recorder *r, const struct linz_call *c);
int linz_record_unknown(struct linz_recorder *r, const struct linz_call *c);
/* Escape a raw value for a history field (NULL -> "nil"); -1 if too long. */
int linz_escape(const char *raw, char *buf, size_t len);

#endif /* _TRUTH_LINZ_H */
