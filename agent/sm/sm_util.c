// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * truth sm: byte strings, the sorted map, argument parsing.
 */

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sm_int.h"

int sm_bytes_set(struct sm_bytes *b, const void *p, size_t n)
{
	char *q = malloc(n + 1);

	if (!q)
		return -ENOMEM;
	if (n)
		memcpy(q, p, n);
	q[n] = '\0';
	free(b->p);
	b->p = q;
	b->len = n;
	return 0;
}

void sm_bytes_free(struct sm_bytes *b)
{
	free(b->p);
	b->p = NULL;
	b->len = 0;
}

int sm_bytes_cmp(const void *a, size_t an, const void *b, size_t bn)
{
	int r = an && bn ? memcmp(a, b, an < bn ? an : bn) : 0;

	if (r)
		return r;
	return an < bn ? -1 : an > bn;
}

int sm_grow(uint8_t **buf, size_t *cap, size_t need)
{
	size_t n = *cap ? *cap : 256;
	uint8_t *b;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	b = realloc(*buf, n);
	if (!b)
		return -ENOMEM;
	*buf = b;
	*cap = n;
	return 0;
}

void sm_be64(uint64_t v, uint8_t out[8])
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		out[i] = (uint8_t)v;
}

size_t sm_map_find(const struct sm_map *m, const void *k, size_t n, bool *found)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = sm_bytes_cmp(m->s[mid].k.p, m->s[mid].k.len, k, n);

		if (r == 0) {
			*found = true;
			return mid;
		}
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

void *sm_map_get(const struct sm_map *m, const void *k, size_t n)
{
	bool found;
	size_t i = sm_map_find(m, k, n, &found);

	return found ? m->s[i].v : NULL;
}

void *sm_map_get_id(const struct sm_map *m, uint64_t id)
{
	uint8_t k[8];

	sm_be64(id, k);
	return sm_map_get(m, k, 8);
}

int sm_map_insert_at(struct sm_map *m, size_t i, const void *k, size_t n, void *v)
{
	struct sm_bytes key = { 0 };

	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 8;
		struct sm_slot *s = realloc(m->s, cap * sizeof(*s));

		if (!s)
			return -ENOMEM;
		m->s = s;
		m->cap = cap;
	}
	if (sm_bytes_set(&key, k, n))
		return -ENOMEM;
	memmove(&m->s[i + 1], &m->s[i], (m->n - i) * sizeof(m->s[0]));
	m->s[i].k = key;
	m->s[i].v = v;
	m->n++;
	return 0;
}

int sm_map_insert_id(struct sm_map *m, uint64_t id, void *v)
{
	uint8_t k[8];
	bool found;
	size_t i;

	sm_be64(id, k);
	i = sm_map_find(m, k, 8, &found);
	if (found)
		return -EEXIST;
	return sm_map_insert_at(m, i, k, 8, v);
}

void sm_map_remove_at(struct sm_map *m, size_t i)
{
	sm_bytes_free(&m->s[i].k);
	memmove(&m->s[i], &m->s[i + 1], (m->n - i - 1) * sizeof(m->s[0]));
	m->n--;
}

uint64_t sm_map_id_at(const struct sm_map *m, size_t i)
{
	const uint8_t *p = (const uint8_t *)m->s[i].k.p;
	uint64_t v = 0;
	int j;

	for (j = 0; j < 8; j++)
		v = v << 8 | p[j];
	return v;
}

bool sm_arg_is(const struct truth_resp_arg *a, const char *word)
{
	size_t n = strlen(word);

	return a->len == n && strncasecmp(a->ptr, word, n) == 0;
}

bool sm_arg_u64(const struct truth_resp_arg *a, uint64_t *v)
{
	long long x;

	if (!truth_resp_str2ll(a->ptr, a->len, &x) || x < 0)
		return false;
	*v = (uint64_t)x;
	return true;
}
