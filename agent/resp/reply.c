// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * truth resp: the reply writer.
 *
 * Every writer appends one RESP value to an output buffer.  RESP3-only
 * types (null, map, set, push, double, boolean, verbatim) fall back to
 * their RESP2 equivalents, exactly as Redis does, when the connection has
 * not switched to RESP3 with HELLO 3.  After a failed allocation the
 * buffer is marked nomem and ignores further appends: the caller closes
 * the connection rather than send a reply stream with a hole in it.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resp.h"

void truth_resp_out_init(struct truth_resp_out *o)
{
	memset(o, 0, sizeof(*o));
	o->proto = 2;
}

void truth_resp_out_free(struct truth_resp_out *o)
{
	free(o->buf);
	o->buf = NULL;
	o->len = o->cap = 0;
}

void truth_resp_out_consume(struct truth_resp_out *o, size_t n)
{
	if (n >= o->len) {
		o->len = 0;
		return;
	}
	memmove(o->buf, o->buf + n, o->len - n);
	o->len -= n;
}

static char *out_reserve(struct truth_resp_out *o, size_t n)
{
	size_t need, ncap;
	char *nb;

	if (o->nomem)
		return NULL;
	if (n > SIZE_MAX - o->len)
		goto nomem;
	need = o->len + n;
	if (need > o->cap) {
		ncap = o->cap ? o->cap : 256;
		while (ncap < need)
			ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
		nb = realloc(o->buf, ncap);
		if (!nb)
			goto nomem;
		o->buf = nb;
		o->cap = ncap;
	}
	return o->buf + o->len;
nomem:
	o->nomem = true;
	return NULL;
}

static void out_put(struct truth_resp_out *o, const void *p, size_t n)
{
	char *d = out_reserve(o, n);

	if (!d)
		return;
	memcpy(d, p, n);
	o->len += n;
}

void truth_resp_out_append(struct truth_resp_out *o, const void *p, size_t n)
{
	out_put(o, p, n);
}

void truth_resp_out_printf(struct truth_resp_out *o, const char *fmt, ...)
{
	va_list ap;
	char *d;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	/* +1: vsnprintf writes a NUL, which is not counted in len */
	d = out_reserve(o, (size_t)n + 1);
	if (!d)
		return;
	va_start(ap, fmt);
	vsnprintf(d, (size_t)n + 1, fmt, ap);
	va_end(ap);
	o->len += (size_t)n;
}

/* "<type><number>\r\n" */
static void out_header(struct truth_resp_out *o, char type, long long n)
{
	char tmp[32];
	int k = snprintf(tmp, sizeof(tmp), "%c%lld\r\n", type, n);

	out_put(o, tmp, (size_t)k);
}

/* A line whose CR and LF bytes are replaced by spaces (as Redis does for errors). */
static void out_line(struct truth_resp_out *o, char type, const char *s, size_t n)
{
	char *d = out_reserve(o, n + 3);
	size_t i;

	if (!d)
		return;
	d[0] = type;
	for (i = 0; i < n; i++)
		d[1 + i] = (s[i] == '\r' || s[i] == '\n') ? ' ' : s[i];
	d[1 + n] = '\r';
	d[2 + n] = '\n';
	o->len += n + 3;
}

void truth_resp_add_simple(struct truth_resp_out *o, const char *s)
{
	out_line(o, '+', s, strlen(s));
}

void truth_resp_add_error(struct truth_resp_out *o, const char *msg)
{
	out_line(o, '-', msg, strlen(msg));
}

void truth_resp_add_errorf(struct truth_resp_out *o, const char *fmt, ...)
{
	char stack[256], *s = stack;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(stack, sizeof(stack), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(stack)) {
		s = malloc((size_t)n + 1);
		if (!s) {
			o->nomem = true;
			return;
		}
		va_start(ap, fmt);
		vsnprintf(s, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	out_line(o, '-', s, (size_t)n);
	if (s != stack)
		free(s);
}

void truth_resp_add_int(struct truth_resp_out *o, long long v)
{
	out_header(o, ':', v);
}

void truth_resp_add_bulk(struct truth_resp_out *o, const void *p, size_t n)
{
	out_header(o, '$', (long long)n);
	out_put(o, p, n);
	out_put(o, "\r\n", 2);
}

void truth_resp_add_bulk_str(struct truth_resp_out *o, const char *s)
{
	truth_resp_add_bulk(o, s, strlen(s));
}

void truth_resp_add_null(struct truth_resp_out *o)
{
	if (o->proto >= 3)
		out_put(o, "_\r\n", 3);
	else
		out_put(o, "$-1\r\n", 5);
}

void truth_resp_add_null_array(struct truth_resp_out *o)
{
	if (o->proto >= 3)
		out_put(o, "_\r\n", 3);
	else
		out_put(o, "*-1\r\n", 5);
}

void truth_resp_add_array(struct truth_resp_out *o, size_t n)
{
	out_header(o, '*', (long long)n);
}

void truth_resp_add_map(struct truth_resp_out *o, size_t n)
{
	if (o->proto >= 3)
		out_header(o, '%', (long long)n);
	else
		out_header(o, '*', (long long)n * 2);
}

void truth_resp_add_set(struct truth_resp_out *o, size_t n)
{
	out_header(o, o->proto >= 3 ? '~' : '*', (long long)n);
}

void truth_resp_add_push(struct truth_resp_out *o, size_t n)
{
	out_header(o, o->proto >= 3 ? '>' : '*', (long long)n);
}

void truth_resp_add_double(struct truth_resp_out *o, double d)
{
	char tmp[64];
	int k;

	/* Redis: "inf", "-inf", "nan"; otherwise %.17g round-trips exactly */
	if (d != d)
		k = snprintf(tmp, sizeof(tmp), "nan");
	else if (d > 0 && d * 0.5 == d)
		k = snprintf(tmp, sizeof(tmp), "inf");
	else if (d < 0 && d * 0.5 == d)
		k = snprintf(tmp, sizeof(tmp), "-inf");
	else
		k = snprintf(tmp, sizeof(tmp), "%.17g", d);
	if (o->proto >= 3)
		out_line(o, ',', tmp, (size_t)k);
	else
		truth_resp_add_bulk(o, tmp, (size_t)k);
}

void truth_resp_add_bool(struct truth_resp_out *o, bool b)
{
	if (o->proto >= 3)
		out_put(o, b ? "#t\r\n" : "#f\r\n", 4);
	else
		out_put(o, b ? ":1\r\n" : ":0\r\n", 4);
}

void truth_resp_add_verbatim(struct truth_resp_out *o, const char *fmt,
			     const void *p, size_t n)
{
	if (o->proto < 3) {
		truth_resp_add_bulk(o, p, n);
		return;
	}
	out_header(o, '=', (long long)n + 4);
	out_put(o, fmt, 3);
	out_put(o, ":", 1);
	out_put(o, p, n);
	out_put(o, "\r\n", 2);
}

void truth_resp_add_moved(struct truth_resp_out *o, uint64_t leader_id, const char *addr)
{
	truth_resp_add_errorf(o, "MOVED %llu %s", (unsigned long long)leader_id, addr);
}

void truth_resp_add_tryagain(struct truth_resp_out *o)
{
	truth_resp_add_error(o, "TRYAGAIN no leader elected, retry later");
}

void truth_resp_add_proto_error(struct truth_resp_out *o, const char *reason)
{
	truth_resp_add_errorf(o, "ERR Protocol error: %s", reason);
}
