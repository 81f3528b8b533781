/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the RESP fuzzers (selftests/host/test_resp_fuzz.c in CI and
 * selftests/fuzz/fuzz_resp.c for libFuzzer) and the parser tests: run the
 * parser over a byte string cut into given pieces and record a canonical
 * trace of what came out, so two chunkings of the same bytes can be
 * compared, and check the invariants every command must hold.
 */
#ifndef _TRUTH_RESP_FUZZ_H
#define _TRUTH_RESP_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resp/resp.h"

/* What a parser produced from one input. */
struct resp_trace {
	char *buf;		/* canonical commands: argc, then len:bytes per argument */
	size_t len;		/* bytes used in buf */
	size_t cap;		/* bytes allocated */
	unsigned int ncmds;	/* commands produced */
	int final;		/* last result: NEED_MORE or the sticky error */
	char err[64];		/* the error reason, if final < 0 */
	const char *violation;	/* first broken invariant, or NULL */
};

static inline void resp_trace_reset(struct resp_trace *t)
{
	t->len = 0;
	t->ncmds = 0;
	t->final = 0;
	t->err[0] = '\0';
	t->violation = NULL;
}

static inline void resp_trace_free(struct resp_trace *t)
{
	free(t->buf);
	memset(t, 0, sizeof(*t));
}

static inline void resp_trace_put(struct resp_trace *t, const void *p, size_t n)
{
	if (t->len + n > t->cap) {
		size_t ncap = t->cap ? t->cap : 1024;

		while (ncap < t->len + n)
			ncap *= 2;
		t->buf = realloc(t->buf, ncap);
		if (!t->buf)
			abort();
		t->cap = ncap;
	}
	memcpy(t->buf + t->len, p, n);
	t->len += n;
}

/* Record one command and check what the API promises about it. */
static inline void resp_trace_cmd(struct resp_trace *t, const struct truth_resp_cmd *c,
				  const struct truth_resp_limits *l)
{
	char hdr[32];
	unsigned int i;
	int n;

	if (c->argc == 0 && !t->violation)
		t->violation = "command with argc 0";
	if (c->argc > l->max_args && !t->violation)
		t->violation = "argc above max_args";
	n = snprintf(hdr, sizeof(hdr), "%c%u\n", c->inline_form ? 'i' : '*', c->argc);
	resp_trace_put(t, hdr, (size_t)n);
	for (i = 0; i < c->argc; i++) {
		const struct truth_resp_arg *a = &c->argv[i];

		if (a->ptr[a->len] != '\0' && !t->violation)
			t->violation = "argument not NUL-terminated";
		if (!c->inline_form && a->len > l->max_bulk && !t->violation)
			t->violation = "argument above max_bulk";
		if (c->inline_form && a->len > l->max_inline && !t->violation)
			t->violation = "inline argument above max_inline";
		n = snprintf(hdr, sizeof(hdr), "%zu:", a->len);
		resp_trace_put(t, hdr, (size_t)n);
		resp_trace_put(t, a->ptr, a->len);
	}
	t->ncmds++;
}

/* Same commands and same final state (empty traces have no buffer). */
static inline int resp_trace_equal(const struct resp_trace *a, const struct resp_trace *b)
{
	return a->len == b->len && (!a->len || !memcmp(a->buf, b->buf, a->len)) &&
	       a->ncmds == b->ncmds && a->final == b->final && !strcmp(a->err, b->err);
}

/*
 * Parse data[0..len) fed as pieces ending at cuts[0] < cuts[1] < ... (the
 * last piece ends at len).  Stops at the first error, as a server would.
 */
static inline void resp_trace_run(struct resp_trace *t, const struct truth_resp_limits *l,
				  const uint8_t *data, size_t len,
				  const size_t *cuts, size_t ncuts)
{
	struct truth_resp_parser *p = truth_resp_parser_new(l);
	size_t start = 0, k;

	resp_trace_reset(t);
	if (!p)
		abort();
	for (k = 0; k <= ncuts && t->final >= 0; k++) {
		size_t end = k < ncuts ? cuts[k] : len;

		while (t->final >= 0) {
			struct truth_resp_cmd cmd;
			size_t used = 0;
			int r = truth_resp_parse(p, data + start, end - start, &used, &cmd);

			if (used > end - start && !t->violation)
				t->violation = "consumed more than given";
			start += used;
			if (truth_resp_parser_buffered(p) > l->max_query + l->max_inline * 2 + 64 &&
			    !t->violation)
				t->violation = "held more than the limits allow";
			if (r == TRUTH_RESP_COMMAND) {
				resp_trace_cmd(t, &cmd, l);
				continue;
			}
			t->final = r;
			if (r < 0)
				snprintf(t->err, sizeof(t->err), "%s", truth_resp_parser_error(p));
			else if (start != end && !t->violation)
				t->violation = "NEED_MORE before the end of the input";
			break;
		}
		if (t->final == TRUTH_RESP_NEED_MORE)
			t->final = 0;
	}
	truth_resp_parser_free(p);
}

#endif /* _TRUTH_RESP_FUZZ_H */
