// SPDX-License-Identifier: GPL-2.0
// libFuzzer entry point for the RESP layer (not run in CI; the seeded
// mutation loop selftests/host/test_resp_fuzz.c is).  Build and run by hand:
//
//   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
//         -Iagent -Iinclude selftests/fuzz/fuzz_resp.c agent/resp/*.c \
//         -o build/fuzz_resp
//   mkdir -p build/fuzz_resp_corpus
//   build/fuzz_resp -max_total_time=300 build/fuzz_resp_corpus
//
/*
 * The first input byte picks limits and how the rest is chunked; the rest
 * is the byte stream.  Checks: no crash or sanitizer report, every API
 * invariant (resp_fuzz.h), the same commands and final state whole and
 * chunked, and the same session replies whole and chunked.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "resp_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void limits_from(uint8_t sel, struct truth_resp_limits *l)
{
	truth_resp_limits_default(l);
	if (!(sel & 1))
		return;
	l->max_bulk = (sel & 2) ? 16 : 300;
	l->max_args = (sel & 4) ? 2 : 16;
	l->max_inline = (sel & 8) ? 32 : 256;
	l->max_query = (sel & 16) ? 128 : 4096;
}

/* Replies of a session fed data in the given pieces. */
static void session(const struct truth_resp_limits *l, const uint8_t *data, size_t len,
		    const size_t *cuts, size_t ncuts, struct truth_resp_out *copy,
		    bool *closing)
{
	struct truth_resp_store_backend be = { truth_resp_store_new(), 1700000000000LL };
	struct truth_resp_session s;
	struct truth_resp_handler h;
	size_t start = 0, k;

	if (!be.store || truth_resp_session_init(&s, 1, l))
		abort();
	truth_resp_store_handler(&h, &be);
	for (k = 0; k <= ncuts && !s.closing; k++) {
		size_t end = k < ncuts ? cuts[k] : len;

		start += truth_resp_session_feed(&s, data + start, end - start, &h);
		if (!s.closing && start != end)
			abort();
		start = end;
	}
	truth_resp_out_init(copy);
	truth_resp_out_append(copy, s.out.buf ? s.out.buf : "", s.out.len);
	*closing = s.closing;
	truth_resp_session_fini(&s);
	truth_resp_store_free(be.store);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct resp_trace a = { 0 }, b = { 0 };
	struct truth_resp_out ra, rb;
	struct truth_resp_limits l;
	size_t *cuts, ncuts = 0, i, step;
	bool za, zb;
	uint8_t sel;

	if (size < 1)
		return 0;
	sel = data[0];
	data++;
	size--;
	limits_from(sel, &l);
	/* chunk size 1..8 from the top bits: 1 is byte by byte */
	step = 1 + (sel >> 5);
	cuts = malloc((size / step + 1) * sizeof(*cuts));
	if (!cuts)
		return 0;
	for (i = step; i < size; i += step)
		cuts[ncuts++] = i;

	resp_trace_run(&a, &l, data, size, NULL, 0);
	resp_trace_run(&b, &l, data, size, cuts, ncuts);
	if (a.violation || b.violation || !resp_trace_equal(&a, &b))
		abort();

	session(&l, data, size, NULL, 0, &ra, &za);
	session(&l, data, size, cuts, ncuts, &rb, &zb);
	if (ra.len != rb.len || (ra.len && memcmp(ra.buf, rb.buf, ra.len)) || za != zb)
		abort();

	truth_resp_out_free(&ra);
	truth_resp_out_free(&rb);
	resp_trace_free(&a);
	resp_trace_free(&b);
	free(cuts);
	return 0;
}
