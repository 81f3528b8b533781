// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * linz: writing histories from C clients (the format is in
 * Documentation/linearizability.md).  The invoke line goes out before the
 * request does, so a client killed mid-request still leaves a record of an
 * op that may have happened; that is the one case a history must never
 * lose.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "linz.h"

int64_t linz_now_ns(void)
{
	return linz_mono_ns();
}

int linz_recorder_open(struct linz_recorder *r, const char *path)
{
	r->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	return r->fd < 0 ? -errno : 0;
}

void linz_recorder_close(struct linz_recorder *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
}

int linz_escape(const char *raw, char *buf, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	if (!raw)
		return snprintf(buf, len, "nil") < (int)len ? 3 : -1;
	if (!*raw)
		return snprintf(buf, len, "\"\"") < (int)len ? 2 : -1;
	/* the reserved words must not read back as nil or "not given" */
	if (!strcmp(raw, "nil") || !strcmp(raw, "-")) {
		if (len < 4 + strlen(raw))
			return -1;
		o = snprintf(buf, len, "%%%c%c", hex[(unsigned char)*raw >> 4],
			     hex[*raw & 15]);
		raw++;
	}
	for (; *raw; raw++) {
		unsigned char c = *raw;

		if (o + 4 > len)
			return -1;
		if (c <= ' ' || c == '%' || c == '#' || c == '"' || c >= 0x7f) {
			buf[o++] = '%';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 15];
		} else {
			buf[o++] = c;
		}
	}
	if (o >= len)
		return -1;
	buf[o] = 0;
	return o;
}

static int put(int fd, const char *line, size_t len)
{
	ssize_t n = write(fd, line, len);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;	/* O_APPEND: a short write is an error */
}

int linz_record_invoke(struct linz_recorder *r, struct linz_call *c, const char *client,
		       const char *op, const char *key, const char *const *args, int nargs)
{
	size_t o = 0, cap = sizeof(c->head);
	char line[LINZ_LINE_MAX];
	const char *fields[3] = { client, op, key };
	int i, n;

	for (i = 0; i < 3 + nargs; i++) {
		const char *raw = i < 3 ? fields[i] : args[i - 3];

		if (o + 2 > cap)
			return -EINVAL;
		n = linz_escape(raw, c->head + o, cap - o);
		if (n < 0 || o + n + 1 >= cap)
			return -EINVAL;
		o += n;
		c->head[o++] = ' ';
	}
	c->head[--o] = 0;
	c->invoke = linz_now_ns();
	n = snprintf(line, sizeof(line), "%s %" PRId64 " - - unknown\n", c->head, c->invoke);
	if (n < 0 || n >= (int)sizeof(line))
		return -EINVAL;
	return put(r->fd, line, n);
}

static int finish(struct linz_recorder *r, const struct linz_call *c, const char *res,
		  const char *status)
{
	char line[LINZ_LINE_MAX];
	int64_t done = linz_now_ns();
	int n;

	n = snprintf(line, sizeof(line), "%s %" PRId64 " %" PRId64 " %s %s\n", c->head, c->invoke,
		     done, res, status);
	if (n < 0 || n >= (int)sizeof(line))
		return -EINVAL;
	return put(r->fd, line, n);
}

int linz_record_ok(struct linz_recorder *r, const struct linz_call *c, const char *result)
{
	char res[LINZ_LINE_MAX / 2];

	if (linz_escape(result, res, sizeof(res)) < 0)
		return -EINVAL;
	return finish(r, c, res, "ok");
}

int linz_record_ok_int(struct linz_recorder *r, const struct linz_call *c, int64_t result)
{
	char res[32];

	snprintf(res, sizeof(res), "%" PRId64, result);
	return finish(r, c, res, "ok");
}

int linz_record_fail(struct linz_recorder *r, const struct linz_call *c)
{
	return finish(r, c, "-", "fail");
}

int linz_record_unknown(struct linz_recorder *r, const struct linz_call *c)
{
	return finish(r, c, "-", "unknown");
}
