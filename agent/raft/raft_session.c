// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Client sessions (diss. §6.3): the state machine remembers, per client, the
 * highest sequence number it applied, so a command retried after a timeout
 * or a leader change is applied once.  Clients have one request outstanding
 * at a time, so "highest applied" is enough to recognise a duplicate.
 */
#include <stdlib.h>
#include <string.h>

#include "raft/raft.h"

struct raft_session {
	uint64_t client_id;	/* the client */
	uint64_t seq;		/* highest sequence number applied for it */
};

struct raft_sessions {
	struct raft_session *s;	/* unsorted; a handful of clients per group */
	size_t n, cap;
};

struct raft_sessions *raft_sessions_new(void)
{
	return calloc(1, sizeof(struct raft_sessions));
}

void raft_sessions_free(struct raft_sessions *t)
{
	if (!t)
		return;
	free(t->s);
	free(t);
}

int raft_sessions_admit(struct raft_sessions *t, uint64_t client_id,
			uint64_t seq)
{
	size_t i;

	if (!client_id)
		return 1;	/* not part of a session: always apply */
	for (i = 0; i < t->n; i++) {
		if (t->s[i].client_id != client_id)
			continue;
		/* diss. §6.3: a sequence number already executed is not run again. */
		if (seq <= t->s[i].seq)
			return 0;
		t->s[i].seq = seq;
		return 1;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 8;
		struct raft_session *n = realloc(t->s, cap * sizeof(*n));

		if (!n)
			return -1;
		t->s = n;
		t->cap = cap;
	}
	t->s[t->n].client_id = client_id;
	t->s[t->n].seq = seq;
	t->n++;
	return 1;
}

/* Snapshot format: u64 count, then count times u64 client_id, u64 seq (LE). */
size_t raft_sessions_size(const struct raft_sessions *t)
{
	return 8 + 16 * t->n;
}

static void put64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = v >> (8 * i);
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

size_t raft_sessions_encode(const struct raft_sessions *t, uint8_t *buf)
{
	size_t i;

	put64(buf, t->n);
	for (i = 0; i < t->n; i++) {
		put64(buf + 8 + 16 * i, t->s[i].client_id);
		put64(buf + 16 + 16 * i, t->s[i].seq);
	}
	return raft_sessions_size(t);
}

int raft_sessions_decode(struct raft_sessions *t, const uint8_t *buf,
			 size_t len)
{
	uint64_t n, i;

	if (len < 8)
		return RAFT_EINVAL;
	n = get64(buf);
	if (n > (len - 8) / 16 || len != 8 + 16 * n)
		return RAFT_EINVAL;
	t->n = 0;
	for (i = 0; i < n; i++)
		if (raft_sessions_admit(t, get64(buf + 8 + 16 * i),
					get64(buf + 16 + 16 * i)) < 0)
			return RAFT_ENOMEM;
	return RAFT_OK;
}
