/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * truth storage: helpers shared by wal.c, meta.c and snap.c.  Not part of
 * the API.  Every on-disk integer is little-endian, fixed width.
 */
#ifndef _TRUTH_STORAGE_INT_H
#define _TRUTH_STORAGE_INT_H

#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "storage.h"

#define TRUTH_PATH_MAX	4096	/* longest "dir/name" built */

static inline void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static inline void put_le64(uint8_t *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

static inline uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

/* the file layer to use: the caller's, or POSIX */
static inline const struct truth_fs *storage_fs(const struct truth_fs *fs)
{
	return fs ? fs : &truth_fs_posix;
}

/* "dir/name" into buf (TRUTH_PATH_MAX); -ENAMETOOLONG if it does not fit */
int storage_path(char *buf, const char *dir, const char *name);
/* format into err (TRUTH_STORAGE_ERRLEN, may be NULL); returns ret */
int storage_err(char *err, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* format a line and hand it to log (stderr when log is NULL) */
void storage_log(truth_storage_log_fn log, void *ctx,
		 enum truth_storage_level level, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* read exactly len bytes at off: 0, -EIO on a short read, or -errno */
int storage_pread_full(const struct truth_fs *fs, int fd, void *buf,
		       size_t len, uint64_t off);
/* read a whole file into a malloc'd buffer */
int storage_read_file(const struct truth_fs *fs, const char *path,
		      uint8_t **data, uint64_t *size);

#endif /* _TRUTH_STORAGE_INT_H */
