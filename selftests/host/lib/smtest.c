// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * smtest: see smtest.h.
 */

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "smtest.h"

int smtest_init(struct smtest *t, uint32_t history)
{
	struct truth_sm_config cfg = { .history = history };

	memset(t, 0, sizeof(*t));
	t->sm = truth_sm_new(history ? &cfg : NULL);
	truth_sm_effects_init(&t->fx);
	t->ts = 1700000000LL * 1000000000LL;
	return t->sm ? 0 : -1;
}

void smtest_fini(struct smtest *t)
{
	truth_sm_free(t->sm);
	truth_sm_effects_free(&t->fx);
}

static int run(struct smtest *t, uint64_t cl, uint64_t seq, unsigned int argc,
	       const char *const *argv, bool read)
{
	struct truth_resp_arg a[64];
	struct truth_sm_cmd c = { 0 };
	unsigned int i;

	for (i = 0; i < argc && i < 64; i++) {
		a[i].ptr = argv[i];
		a[i].len = strlen(argv[i]);
	}
	c.ts_ns = t->ts;
	c.client_id = cl;
	c.seq = seq;
	c.argc = argc;
	c.argv = a;
	truth_sm_effects_reset(&t->fx);
	if (read)
		return truth_sm_read(t->sm, &c, &t->fx);
	c.index = ++t->index;
	return truth_sm_apply(t->sm, &c, &t->fx);
}

int smtest_applyv(struct smtest *t, uint64_t cl, uint64_t seq, unsigned int argc,
		  const char *const *argv)
{
	if (!seq)
		seq = ++t->seq[cl % SMTEST_CLIENTS];
	return run(t, cl, seq, argc, argv, false);
}

static uint64_t vrun(struct smtest *t, uint64_t cl, va_list ap, bool read)
{
	const char *argv[64];
	unsigned int argc = 0;
	const char *s;
	uint64_t seq = ++t->seq[cl % SMTEST_CLIENTS];

	while ((s = va_arg(ap, const char *)) && argc < 64)
		argv[argc++] = s;
	if (run(t, cl, seq, argc, argv, read))
		abort();	/* out of memory in a test: nothing sensible to check */
	return seq;
}

uint64_t smtest_apply(struct smtest *t, uint64_t cl, ...)
{
	va_list ap;
	uint64_t seq;

	va_start(ap, cl);
	seq = vrun(t, cl, ap, false);
	va_end(ap);
	return seq;
}

uint64_t smtest_read(struct smtest *t, uint64_t cl, ...)
{
	va_list ap;
	uint64_t seq;

	va_start(ap, cl);
	seq = vrun(t, cl, ap, true);
	va_end(ap);
	return seq;
}

void smtest_tick(struct smtest *t)
{
	const char *argv[] = { TRUTH_SM_TICK };

	run(t, 0, 0, 1, argv, false);
}

const char *smtest_text(struct smtest *t, size_t i)
{
	char *buf = t->text[t->next_text++ % 4];
	size_t len = 0;
	char *s = truth_sm_effect_resp2(&t->fx, &t->fx.v[i], &len);

	if (!s)
		return "(render failed)";
	if (len >= sizeof(t->text[0]))
		len = sizeof(t->text[0]) - 1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	free(s);
	return buf;
}

const char *smtest_reply(struct smtest *t, uint64_t cl, uint64_t seq)
{
	size_t i;

	for (i = 0; i < t->fx.n; i++)
		if (t->fx.v[i].kind == TRUTH_SM_FX_REPLY && t->fx.v[i].client_id == cl &&
		    t->fx.v[i].seq == seq)
			return smtest_text(t, i);
	return NULL;
}

size_t smtest_count(const struct smtest *t, uint64_t cl, uint32_t kind)
{
	size_t i, n = 0;

	for (i = 0; i < t->fx.n; i++)
		n += t->fx.v[i].client_id == cl && t->fx.v[i].kind == kind;
	return n;
}

uint8_t *smtest_snap(struct smtest *t, size_t *len)
{
	uint8_t *b = NULL;

	if (truth_sm_save(t->sm, &b, len))
		return NULL;
	return b;
}
