/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The two client protocols truth-load speaks, as pure functions over bytes:
 * RESP (requests as arrays of bulk strings, one reply parsed at a time) and
 * etcd's v3 JSON gateway over HTTP/1.1 (POST /v3/kv/put and /v3/kv/range,
 * base64 keys and values, Content-Length or chunked replies); and the
 * "host:port" resolution truth-load and truth-info share.
 *
 * Parsers return the bytes one reply took, 0 when more bytes are needed,
 * -1 on bytes that cannot be a reply.
 */
#ifndef TRUTH_LOAD_PROTO_H
#define TRUTH_LOAD_PROTO_H

#include <netdb.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* what a reply means to a client, whatever the protocol */
enum lp_kind {
	LP_OK,		/* +OK, 200 for a put */
	LP_VALUE,	/* a bulk string / a range with one kv: val, val_len */
	LP_NIL,		/* $-1 / a range with no kv */
	LP_INT,		/* :n */
	LP_MOVED,	/* -MOVED id host:port: not executed, go there */
	LP_TRYAGAIN,	/* -TRYAGAIN: not executed, no leader yet */
	LP_ERROR,	/* any other error (outcome unknown for a write) */
};

struct lp_reply {
	enum lp_kind kind;
	const char *val;	/* into the input buffer (RESP) or dec (etcd) */
	size_t val_len;
	long long num;
	char moved[128];	/* host:port of an LP_MOVED */
	char err[128];		/* first bytes of an error, for messages */
	char dec[4096];		/* decoded etcd value (we only read a prefix) */
};

/* growable byte buffer */
struct lp_buf {
	char *p;
	size_t len, cap;
};

static inline void lp_need(struct lp_buf *b, size_t more)
{
	if (b->len + more <= b->cap)
		return;
	b->cap = (b->len + more) * 2 + 256;
	b->p = realloc(b->p, b->cap);
	if (!b->p) {
		perror("realloc");
		exit(2);
	}
}

static inline void lp_put(struct lp_buf *b, const void *d, size_t n)
{
	lp_need(b, n);
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

static inline void lp_printf(struct lp_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static inline void lp_printf(struct lp_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	lp_need(b, 64);
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if ((size_t)n >= b->cap - b->len) {
		lp_need(b, n + 1);
		va_start(ap, fmt);
		vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += n;
}

static inline void lp_consume(struct lp_buf *b, size_t n)
{
	memmove(b->p, b->p + n, b->len - n);
	b->len -= n;
}

/* "host:port" (IPv6 unbracketed: the port is after the last colon, as
 * -MOVED writes it) to a socket address */
static inline int lp_resolve(const char *hp, struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	char host[256], *colon;

	snprintf(host, sizeof(host), "%s", hp);
	colon = strrchr(host, ':');
	if (!colon)
		return -1;
	*colon = 0;
	if (getaddrinfo(host, colon + 1, &hints, &ai))
		return -1;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

/* ---------------------------------------------------------------- RESP */

static inline void resp_arg(struct lp_buf *b, const char *s, size_t n)
{
	lp_printf(b, "$%zu\r\n", n);
	lp_put(b, s, n);
	lp_put(b, "\r\n", 2);
}

static inline void resp_set(struct lp_buf *b, const char *key, const char *val, size_t vlen)
{
	lp_put(b, "*3\r\n", 4);
	resp_arg(b, "SET", 3);
	resp_arg(b, key, strlen(key));
	resp_arg(b, val, vlen);
}

static inline void resp_get(struct lp_buf *b, const char *key)
{
	lp_put(b, "*2\r\n", 4);
	resp_arg(b, "GET", 3);
	resp_arg(b, key, strlen(key));
}

/* one RESP reply; arrays are not expected from SET/GET and are refused */
static inline long resp_parse(const char *p, size_t n, struct lp_reply *r)
{
	const char *e = memchr(p, '\n', n);
	size_t line;
	long long len;

	if (!e)
		return n > 65536 ? -1 : 0;
	if (e == p || e[-1] != '\r')
		return -1;	/* a bare \n: not RESP */
	line = e - 1 - p;
	switch (p[0]) {
	case '+':
		r->kind = LP_OK;
		r->val = p + 1;
		r->val_len = line - 1;
		return line + 2;
	case ':':
		r->kind = LP_INT;
		r->num = strtoll(p + 1, NULL, 10);
		return line + 2;
	case '-':
		snprintf(r->err, sizeof(r->err), "%.*s", (int)(line - 1), p + 1);
		if (!strncmp(r->err, "MOVED ", 6)) {
			const char *a = strchr(r->err + 6, ' ');

			r->kind = LP_MOVED;
			snprintf(r->moved, sizeof(r->moved), "%s", a ? a + 1 : "");
		} else if (!strncmp(r->err, "TRYAGAIN", 8)) {
			r->kind = LP_TRYAGAIN;
		} else {
			r->kind = LP_ERROR;
		}
		return line + 2;
	case '$':
		len = strtoll(p + 1, NULL, 10);
		if (len < 0) {
			r->kind = LP_NIL;
			return line + 2;
		}
		if (n < line + 2 + (size_t)len + 2)
			return 0;
		r->kind = LP_VALUE;
		r->val = p + line + 2;
		r->val_len = len;
		return line + 2 + len + 2;
	default:
		return -1;
	}
}

/* ---------------------------------------------------------------- etcd */

static const char lp_b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static inline void b64_put(struct lp_buf *b, const unsigned char *s, size_t n)
{
	size_t i;
	char q[4];

	for (i = 0; i < n; i += 3) {
		uint32_t v = s[i] << 16 | (i + 1 < n ? s[i + 1] << 8 : 0) |
			     (i + 2 < n ? s[i + 2] : 0);

		q[0] = lp_b64[v >> 18 & 63];
		q[1] = lp_b64[v >> 12 & 63];
		q[2] = i + 1 < n ? lp_b64[v >> 6 & 63] : '=';
		q[3] = i + 2 < n ? lp_b64[v & 63] : '=';
		lp_put(b, q, 4);
	}
}

/* decode up to cap bytes of base64 ending at a '"'; returns bytes written */
static inline size_t b64_dec(const char *s, const char *end, char *out, size_t cap)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;

	for (; s < end && *s != '"' && *s != '='; s++) {
		const char *c = memchr(lp_b64, *s, 64);

		if (!c)
			break;
		acc = acc << 6 | (uint32_t)(c - lp_b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o < cap)
				out[o++] = acc >> bits & 0xff;
		}
	}
	return o;
}

static inline void etcd_req(struct lp_buf *b, const char *host, const char *path,
			    const char *key, const char *val, size_t vlen)
{
	struct lp_buf body = { 0 };

	lp_put(&body, "{\"key\":\"", 8);
	b64_put(&body, (const unsigned char *)key, strlen(key));
	if (val) {
		lp_put(&body, "\",\"value\":\"", 11);
		b64_put(&body, (const unsigned char *)val, vlen);
	}
	lp_put(&body, "\"}", 2);
	lp_printf(b, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
		  "Content-Length: %zu\r\n\r\n", path, host, body.len);
	lp_put(b, body.p, body.len);
	free(body.p);
}

static inline const char *lp_memmem(const char *h, size_t hn, const char *n)
{
	return memmem(h, hn, n, strlen(n));
}

/* one HTTP/1.1 response to a put (is_put) or a range */
static inline long etcd_parse(const char *p, size_t n, bool is_put, struct lp_reply *r)
{
	const char *hend = lp_memmem(p, n, "\r\n\r\n"), *body, *v;
	size_t hlen, blen = 0, total;
	int status;

	if (!hend)
		return n > 65536 ? -1 : 0;
	hlen = hend + 4 - p;
	if (sscanf(p, "HTTP/1.%*d %d", &status) != 1)
		return -1;
	body = hend + 4;
	v = lp_memmem(p, hlen, "\r\nContent-Length:");
	if (!v)
		v = lp_memmem(p, hlen, "\r\ncontent-length:");
	if (v) {
		blen = strtoul(v + 17, NULL, 10);
		if (n < hlen + blen)
			return 0;
		total = hlen + blen;
	} else if (lp_memmem(p, hlen, "chunked")) {
		/* replies here are small: wait for the last chunk, use the first */
		const char *last = lp_memmem(body, n - hlen, "\r\n0\r\n\r\n");
		char *after;

		if (!last)
			return 0;
		total = last + 7 - p;
		blen = strtoul(body, &after, 16);
		body = after + 2;
	} else {
		return -1;
	}
	snprintf(r->err, sizeof(r->err), "HTTP %d %.*s", status,
		 (int)(blen < 80 ? blen : 80), body);
	if (status != 200) {
		r->kind = LP_ERROR;
		return total;
	}
	if (is_put) {
		r->kind = LP_OK;
		return total;
	}
	v = lp_memmem(body, blen, "\"value\":\"");
	if (!v) {
		r->kind = LP_NIL;
		return total;
	}
	r->kind = LP_VALUE;
	r->val = r->dec;
	r->val_len = b64_dec(v + 9, body + blen, r->dec, sizeof(r->dec));
	return total;
}

#endif
