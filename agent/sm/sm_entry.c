// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * truth sm: the log entry of a command (layout in sm.h).  The command
 * travels as the client sent it, so the state machine, not the proposer,
 * decides what it means, the same way on every replica.
 */

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "sm.h"

static uint8_t *put_le(uint8_t *p, uint64_t v, int bytes)
{
	int i;

	for (i = 0; i < bytes; i++)
		*p++ = (uint8_t)(v >> (8 * i));
	return p;
}

static uint64_t get_le(const uint8_t *p, int bytes)
{
	uint64_t v = 0;
	int i;

	for (i = bytes - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

#define HEAD_V1	(1 + 8 + 8 + 8 + 4)
#define HEAD_V2	(1 + 8 + 8 + 8 + 8 + 4)

long truth_sm_entry_encode(const struct truth_sm_cmd *c, uint8_t **buf)
{
	size_t len = HEAD_V2, i;
	uint8_t *p;

	if (!c->argc || c->argc > TRUTH_SM_ENTRY_MAX_ARGS)
		return -EINVAL;
	for (i = 0; i < c->argc; i++) {
		if (c->argv[i].len > UINT32_MAX)
			return -EINVAL;
		len += 4 + c->argv[i].len;
	}
	if (len > LONG_MAX)
		return -EINVAL;
	p = malloc(len);
	if (!p)
		return -ENOMEM;
	*buf = p;
	*p++ = TRUTH_SM_ENTRY_VERSION;
	p = put_le(p, (uint64_t)c->ts_ns, 8);
	p = put_le(p, c->hlc, 8);
	p = put_le(p, c->client_id, 8);
	p = put_le(p, c->seq, 8);
	p = put_le(p, c->argc, 4);
	for (i = 0; i < c->argc; i++) {
		p = put_le(p, c->argv[i].len, 4);
		if (c->argv[i].len)
			memcpy(p, c->argv[i].ptr, c->argv[i].len);
		p += c->argv[i].len;
	}
	return (long)len;
}

int truth_sm_entry_decode(const uint8_t *data, size_t len, struct truth_sm_cmd *c,
			  struct truth_resp_arg **argv)
{
	struct truth_resp_arg *a;
	size_t head, off;
	uint32_t argc, i;
	int h;		/* the hlc field's width: 0 in version 1 */

	*argv = NULL;
	if (len < 1 || (data[0] != 1 && data[0] != TRUTH_SM_ENTRY_VERSION))
		return -EINVAL;
	h = data[0] == 1 ? 0 : 8;
	head = data[0] == 1 ? HEAD_V1 : HEAD_V2;
	off = head;
	if (len < head)
		return -EINVAL;
	argc = (uint32_t)get_le(data + 25 + h, 4);
	/* each argument takes at least its 4-byte length */
	if (!argc || argc > TRUTH_SM_ENTRY_MAX_ARGS || argc > (len - head) / 4)
		return -EINVAL;
	a = calloc(argc, sizeof(*a));
	if (!a)
		return -ENOMEM;
	for (i = 0; i < argc; i++) {
		uint32_t n;

		if (len - off < 4)
			goto bad;
		n = (uint32_t)get_le(data + off, 4);
		off += 4;
		if (len - off < n)
			goto bad;
		a[i].ptr = (const char *)data + off;
		a[i].len = n;
		off += n;
	}
	if (off != len)
		goto bad;
	memset(c, 0, sizeof(*c));
	c->ts_ns = (int64_t)get_le(data + 1, 8);
	c->hlc = h ? get_le(data + 9, 8) : 0;
	c->client_id = get_le(data + 9 + h, 8);
	c->seq = get_le(data + 17 + h, 8);
	c->argc = argc;
	c->argv = a;
	*argv = a;
	return 0;
bad:
	free(a);
	return -EINVAL;
}

uint64_t truth_sm_entry_hlc(const uint8_t *data, size_t len)
{
	if (len < HEAD_V2 || data[0] != TRUTH_SM_ENTRY_VERSION)
		return 0;
	return get_le(data + 9, 8);
}
