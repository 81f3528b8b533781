// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The in-memory log: the position of the latest snapshot followed by the
 * entries after it.  Also tracks how far the caller has made it durable
 * (stable), what is committed and what has been handed out to apply.
 */
#include <stdlib.h>
#include <string.h>

#include "raft/raft_int.h"

void raft_log_init(struct raft_log *l)
{
	memset(l, 0, sizeof(*l));
}

void raft_entry_free_data(struct raft_entry *e)
{
	free(e->data);
	e->data = NULL;
	e->len = 0;
}

int raft_entry_copy(struct raft_entry *dst, const struct raft_entry *src)
{
	*dst = *src;
	dst->data = NULL;
	if (src->len) {
		dst->data = malloc(src->len);
		if (!dst->data)
			return RAFT_ENOMEM;
		memcpy(dst->data, src->data, src->len);
	}
	return RAFT_OK;
}

void raft_log_free(struct raft_log *l)
{
	uint64_t i;

	for (i = 0; i < l->n; i++)
		raft_entry_free_data(&l->e[i]);
	free(l->e);
	raft_log_init(l);
}

uint64_t raft_log_last(const struct raft_log *l)
{
	return l->snap_index + l->n;
}

struct raft_entry *raft_log_get(const struct raft_log *l, uint64_t index)
{
	if (index <= l->snap_index || index > raft_log_last(l))
		return NULL;
	return &l->e[index - l->snap_index - 1];
}

/* Term at index; the snapshot's term at its own index; 0 when unknown. */
uint64_t raft_log_term(const struct raft_log *l, uint64_t index)
{
	struct raft_entry *e;

	if (index == l->snap_index)
		return l->snap_term;
	e = raft_log_get(l, index);
	return e ? e->term : 0;
}

/* Append a copy of e, which must be at last + 1. */
int raft_log_append(struct raft_log *l, const struct raft_entry *e)
{
	if (e->index != raft_log_last(l) + 1)
		return RAFT_EINVAL;
	if (l->n == l->cap) {
		uint64_t cap = l->cap ? l->cap * 2 : 64;
		struct raft_entry *ne = realloc(l->e, cap * sizeof(*ne));

		if (!ne)
			return RAFT_ENOMEM;
		l->e = ne;
		l->cap = cap;
	}
	if (raft_entry_copy(&l->e[l->n], e))
		return RAFT_ENOMEM;
	l->n++;
	return RAFT_OK;
}

/* Drop entries from index on (Figure 2, AppendEntries receiver step 3). */
void raft_log_truncate(struct raft_log *l, uint64_t from)
{
	while (raft_log_last(l) >= from && l->n > 0) {
		l->n--;
		raft_entry_free_data(&l->e[l->n]);
	}
	if (l->stable >= from)
		l->stable = from - 1;
}

/* Forget entries up to index, now covered by a snapshot (§7). */
void raft_log_compact(struct raft_log *l, uint64_t index, uint64_t term)
{
	uint64_t drop, i;

	if (index <= l->snap_index)
		return;
	if (index > raft_log_last(l)) {
		raft_log_reset(l, index, term);
		return;
	}
	drop = index - l->snap_index;
	for (i = 0; i < drop; i++)
		raft_entry_free_data(&l->e[i]);
	memmove(l->e, l->e + drop, (l->n - drop) * sizeof(*l->e));
	l->n -= drop;
	l->snap_index = index;
	l->snap_term = term;
}

/* Replace the whole log by a snapshot position (§7: discard the log). */
void raft_log_reset(struct raft_log *l, uint64_t index, uint64_t term)
{
	uint64_t i;

	for (i = 0; i < l->n; i++)
		raft_entry_free_data(&l->e[i]);
	l->n = 0;
	l->snap_index = index;
	l->snap_term = term;
	/* nothing after the snapshot is on disk any more (found by raftsim) */
	l->stable = index;
	if (l->committed < index)
		l->committed = index;
	if (l->applied < index)
		l->applied = index;
	if (l->handed < index)
		l->handed = index;
}

/*
 * §5.4.1: a candidate's log is at least as up-to-date as ours if its last
 * term is higher, or the same and its log is at least as long.
 */
bool raft_log_up_to_date(const struct raft_log *l, uint64_t last_index,
			 uint64_t last_term)
{
	uint64_t our_last = raft_log_last(l);
	uint64_t our_term = raft_log_term(l, our_last);

	return last_term > our_term ||
	       (last_term == our_term && last_index >= our_last);
}

/* First index of the run of entries with the term of the entry at index. */
uint64_t raft_log_first_of_term(const struct raft_log *l, uint64_t index)
{
	uint64_t term = raft_log_term(l, index);

	while (index > l->snap_index + 1 && raft_log_term(l, index - 1) == term)
		index--;
	return index;
}

/* Last index holding term (0 if we have no entry of that term). */
uint64_t raft_log_last_of_term(const struct raft_log *l, uint64_t term)
{
	uint64_t i;

	for (i = raft_log_last(l); i > l->snap_index; i--) {
		uint64_t t = raft_log_term(l, i);

		if (t == term)
			return i;
		if (t < term)
			return 0;
	}
	return 0;
}
