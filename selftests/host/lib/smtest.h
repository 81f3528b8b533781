/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * smtest: drive an agent/sm instance from host tests.
 *
 * Commands are given as NULL-terminated word lists; each call applies (or
 * reads) one command with the next seq of its client at the fixture's
 * current stamp and keeps the effects, which the test then inspects as
 * RESP2 text: smtest_reply() finds the REPLY to one request.
 */
#ifndef _TRUTH_SMTEST_H
#define _TRUTH_SMTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sm/sm.h"

#define SMTEST_CLIENTS	64	/* client ids 1..63 */

struct smtest {
	struct truth_sm *sm;			/* the instance */
	struct truth_sm_effects fx;		/* effects of the last call */
	uint64_t index;				/* last log index used */
	int64_t ts;				/* stamp of the next command, ns */
	uint64_t seq[SMTEST_CLIENTS];		/* last seq per client */
	char text[4][8192];			/* rotating RESP2 renderings */
	unsigned int next_text;			/* next buffer */
};

int smtest_init(struct smtest *t, uint32_t history);
void smtest_fini(struct smtest *t);

/* Apply argv (argc words) from client cl with seq (0: the client's next). */
int smtest_applyv(struct smtest *t, uint64_t cl, uint64_t seq, unsigned int argc,
		  const char *const *argv);
/* Apply / read a NULL-terminated word list from client cl; returns the seq used. */
uint64_t smtest_apply(struct smtest *t, uint64_t cl, ...);
uint64_t smtest_read(struct smtest *t, uint64_t cl, ...);
/* The leader's expiry entry at the current stamp. */
void smtest_tick(struct smtest *t);

/* RESP2 text of the REPLY to (cl, seq) in the last effects, or NULL if none. */
const char *smtest_reply(struct smtest *t, uint64_t cl, uint64_t seq);
/* RESP2 text of effect i. */
const char *smtest_text(struct smtest *t, size_t i);
/* Effects of kind for client cl in the last call. */
size_t smtest_count(const struct smtest *t, uint64_t cl, uint32_t kind);

/* Snapshot bytes (malloc'ed) of the instance. */
uint8_t *smtest_snap(struct smtest *t, size_t *len);

#endif /* _TRUTH_SMTEST_H */
