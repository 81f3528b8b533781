// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The keyspace state machine: log entry and snapshot codecs around the
 * reference store.  Every integer is big-endian (truth_wire_put*).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <truth/wire.h>

#include "kv/kv.h"

#define put64	truth_wire_put64
#define put32	truth_wire_put32
#define get64	truth_wire_get64
#define get32	truth_wire_get32

#define ENTRY_HDR	16	/* version, op, reserved, time */

int truth_kv_init(struct truth_kv *kv)
{
	memset(kv, 0, sizeof(*kv));
	truth_resp_out_init(&kv->scratch);
	kv->store = truth_resp_store_new();
	return kv->store ? 0 : -ENOMEM;
}

void truth_kv_fini(struct truth_kv *kv)
{
	truth_resp_store_free(kv->store);
	truth_resp_out_free(&kv->scratch);
	kv->store = NULL;
}

static uint8_t *put_blob(uint8_t *p, const void *b, size_t n)
{
	put32(p, (uint32_t)n);
	memcpy(p + 4, b, n);
	return p + 4 + n;
}

long truth_kv_encode(const struct truth_resp_request *req, int64_t now_ms,
		     uint8_t **out)
{
	size_t len = ENTRY_HDR, i;
	uint8_t *buf, *p;
	uint8_t op;

	switch (req->cmd->id) {
	case TRUTH_RESP_ID_SET:
		op = TRUTH_KV_SET;
		len += 16 + 8 + req->u.set.key.len + req->u.set.value.len;
		break;
	case TRUTH_RESP_ID_DEL:
		op = TRUTH_KV_DEL;
		len += 4;
		for (i = 0; i < req->u.keys.n; i++)
			len += 4 + req->u.keys.keys[i].len;
		break;
	case TRUTH_RESP_ID_INCRBY:
		op = TRUTH_KV_INCRBY;
		len += 8 + 4 + req->u.incrby.key.len;
		break;
	default:
		return -EINVAL;
	}
	buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	memset(buf, 0, ENTRY_HDR);
	buf[0] = TRUTH_KV_VERSION;
	buf[1] = op;
	put64(buf + 8, (uint64_t)now_ms);
	p = buf + ENTRY_HDR;
	switch (op) {
	case TRUTH_KV_SET:
		put32(p, req->u.set.flags);
		put32(p + 4, 0);
		put64(p + 8, (uint64_t)req->u.set.expire_ms);
		p = put_blob(p + 16, req->u.set.key.ptr, req->u.set.key.len);
		put_blob(p, req->u.set.value.ptr, req->u.set.value.len);
		break;
	case TRUTH_KV_DEL:
		put32(p, req->u.keys.n);
		p += 4;
		for (i = 0; i < req->u.keys.n; i++)
			p = put_blob(p, req->u.keys.keys[i].ptr, req->u.keys.keys[i].len);
		break;
	case TRUTH_KV_INCRBY:
		put64(p, (uint64_t)req->u.incrby.delta);
		put_blob(p + 8, req->u.incrby.key.ptr, req->u.incrby.key.len);
		break;
	}
	*out = buf;
	return (long)len;
}

/* A length-prefixed blob at *p of what remains; -1 if it overruns. */
static int get_blob(const uint8_t **p, size_t *left, struct truth_resp_arg *a)
{
	uint32_t n;

	if (*left < 4)
		return -1;
	n = get32(*p);
	if (*left - 4 < n)
		return -1;
	a->ptr = (const char *)*p + 4;
	a->len = n;
	*p += 4 + n;
	*left -= 4 + n;
	return 0;
}

int truth_kv_apply(struct truth_kv *kv, const void *data, size_t len,
		   struct truth_resp_out *out)
{
	const uint8_t *b = data, *p = b + ENTRY_HDR;
	size_t left = len - ENTRY_HDR;
	struct truth_resp_arg *keys = NULL;
	struct truth_resp_request req;
	int64_t now;
	uint32_t n, i;
	int ret = -EINVAL;

	if (!out) {
		out = &kv->scratch;
		out->len = 0;
	}
	if (len < ENTRY_HDR || b[0] != TRUTH_KV_VERSION)
		goto bad;
	now = (int64_t)get64(b + 8);
	memset(&req, 0, sizeof(req));
	switch (b[1]) {
	case TRUTH_KV_SET:
		if (left < 16)
			goto bad;
		req.cmd = truth_resp_lookup("set", 3);
		req.u.set.flags = get32(p);
		req.u.set.expire_ms = (long long)get64(p + 8);
		p += 16;
		left -= 16;
		if (get_blob(&p, &left, &req.u.set.key) ||
		    get_blob(&p, &left, &req.u.set.value) || left)
			goto bad;
		break;
	case TRUTH_KV_DEL:
		if (left < 4)
			goto bad;
		n = get32(p);
		p += 4;
		left -= 4;
		if (n == 0 || n > left / 4)
			goto bad;
		keys = calloc(n, sizeof(*keys));
		if (!keys) {
			ret = -ENOMEM;
			goto bad;
		}
		for (i = 0; i < n; i++)
			if (get_blob(&p, &left, &keys[i]))
				goto bad;
		if (left)
			goto bad;
		req.cmd = truth_resp_lookup("del", 3);
		req.u.keys.keys = keys;
		req.u.keys.n = n;
		break;
	case TRUTH_KV_INCRBY:
		if (left < 8)
			goto bad;
		req.cmd = truth_resp_lookup("incrby", 6);
		req.u.incrby.delta = (long long)get64(p);
		p += 8;
		left -= 8;
		if (get_blob(&p, &left, &req.u.incrby.key) || left)
			goto bad;
		break;
	default:
		goto bad;
	}
	truth_resp_store_exec(kv->store, &req, now, out);
	kv->applied++;
	free(keys);
	return 0;
bad:
	free(keys);
	truth_resp_add_error(out, "ERR log entry does not decode");
	return ret;
}

int truth_kv_read(struct truth_kv *kv, const struct truth_resp_request *req,
		  int64_t now_ms, struct truth_resp_out *out)
{
	return truth_resp_store_exec(kv->store, req, now_ms, out);
}

struct snap_buf {
	uint8_t *buf;
	size_t len, cap;
	uint64_t n;
};

static int snap_add(void *ctx, const void *key, size_t klen, const void *val,
		    size_t vlen, int64_t expire_at)
{
	struct snap_buf *s = ctx;
	size_t need = 16 + klen + vlen;
	uint8_t *p;

	if (s->len + need > s->cap) {
		size_t cap = (s->cap + need) * 2;

		p = realloc(s->buf, cap);
		if (!p)
			return -ENOMEM;
		s->buf = p;
		s->cap = cap;
	}
	p = s->buf + s->len;
	put64(p, (uint64_t)expire_at);
	put32(p + 8, (uint32_t)klen);
	put32(p + 12, (uint32_t)vlen);
	memcpy(p + 16, key, klen);
	memcpy(p + 16 + klen, val, vlen);
	s->len += need;
	s->n++;
	return 0;
}

long truth_kv_snapshot(struct truth_kv *kv, uint8_t **out)
{
	struct snap_buf s = { 0 };

	s.cap = 4096;
	s.buf = malloc(s.cap);
	if (!s.buf)
		return -ENOMEM;
	s.len = 16;
	if (truth_resp_store_foreach(kv->store, snap_add, &s)) {
		free(s.buf);
		return -ENOMEM;
	}
	memcpy(s.buf, TRUTH_KV_SNAP_MAGIC, 8);
	put64(s.buf + 8, s.n);
	*out = s.buf;
	return (long)s.len;
}

int truth_kv_restore(struct truth_kv *kv, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	struct truth_resp_store *st;
	size_t off = 16;
	uint64_t n, i;

	if (len == 0) {		/* the empty snapshot of a fresh group */
		st = truth_resp_store_new();
		goto swap;
	}
	if (len < 16 || memcmp(p, TRUTH_KV_SNAP_MAGIC, 8))
		return -EINVAL;
	n = get64(p + 8);
	st = truth_resp_store_new();
	if (!st)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		uint32_t kl, vl;

		if (len - off < 16)
			goto bad;
		kl = get32(p + off + 8);
		vl = get32(p + off + 12);
		if (len - off - 16 < (uint64_t)kl + vl)
			goto bad;
		if (truth_resp_store_put(st, p + off + 16, kl, p + off + 16 + kl, vl,
					 (int64_t)get64(p + off)))
			goto bad;
		off += 16 + (size_t)kl + vl;
	}
	if (off != len)
		goto bad;
swap:
	if (!st)
		return -ENOMEM;
	truth_resp_store_free(kv->store);
	kv->store = st;
	return 0;
bad:
	truth_resp_store_free(st);
	return -EINVAL;
}
