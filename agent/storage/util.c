// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * truth storage: paths, error lines, log lines and whole-file reads shared
 * by the log, metadata and snapshot code.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "storage_int.h"

int storage_path(char *buf, const char *dir, const char *name)
{
	int n = snprintf(buf, TRUTH_PATH_MAX, "%s/%s", dir, name);

	return n < 0 || n >= TRUTH_PATH_MAX ? -ENAMETOOLONG : 0;
}

int storage_err(char *err, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		va_start(ap, fmt);
		vsnprintf(err, TRUTH_STORAGE_ERRLEN, fmt, ap);
		va_end(ap);
	}
	return ret;
}

void storage_log(truth_storage_log_fn log, void *ctx,
		 enum truth_storage_level level, const char *fmt, ...)
{
	static const char *const names[] = { "info", "warning", "error" };
	char line[2 * TRUTH_STORAGE_ERRLEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (log)
		log(ctx, level, line);
	else
		fprintf(stderr, "truth storage %s: %s\n", names[level], line);
}

int storage_pread_full(const struct truth_fs *fs, int fd, void *buf,
		       size_t len, uint64_t off)
{
	ssize_t n = fs->ops->pread(fs->ctx, fd, buf, len, off);

	if (n < 0)
		return (int)n;
	return (size_t)n == len ? 0 : -EIO;
}

int storage_read_file(const struct truth_fs *fs, const char *path,
		      uint8_t **data, uint64_t *size)
{
	uint8_t *buf = NULL;
	uint64_t sz;
	int fd, ret;

	ret = fs->ops->open(fs->ctx, path, TRUTH_FS_RDONLY, &fd);
	if (ret)
		return ret;
	ret = fs->ops->size(fs->ctx, fd, &sz);
	if (ret)
		goto out;
	ret = -EFBIG;
	if (sz > (uint64_t)SIZE_MAX - 1)
		goto out;
	ret = -ENOMEM;
	buf = malloc(sz ? sz : 1);
	if (!buf)
		goto out;
	ret = storage_pread_full(fs, fd, buf, sz, 0);
	if (ret) {
		free(buf);
		buf = NULL;
		goto out;
	}
	*data = buf;
	*size = sz;
out:
	fs->ops->close(fs->ctx, fd);
	return ret;
}
