// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * truth storage: the file layer on POSIX calls.  Every call is checked;
 * EINTR is retried (never for close(), which on Linux has released the
 * descriptor already); short reads and writes are continued.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage.h"

#define UNUSED	__attribute__((unused))	/* ctx: POSIX needs no state */

static int posix_open(void *ctx UNUSED, const char *path, int flags, int *fd)
{
	int oflags = O_CLOEXEC, r;

	oflags |= (flags & TRUTH_FS_RDWR) ? O_RDWR : O_RDONLY;
	if (flags & TRUTH_FS_CREATE)
		oflags |= O_CREAT;
	if (flags & TRUTH_FS_EXCL)
		oflags |= O_EXCL;
	if (flags & TRUTH_FS_TRUNC)
		oflags |= O_TRUNC;
	do
		r = open(path, oflags, 0600);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	*fd = r;
	return 0;
}

static int posix_close(void *ctx UNUSED, int fd)
{
	return close(fd) && errno != EINTR ? -errno : 0;
}

static ssize_t posix_pread(void *ctx UNUSED, int fd, void *buf, size_t len,
			   uint64_t off)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = pread(fd, (char *)buf + done, len - done,
			  (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static int posix_pwrite(void *ctx UNUSED, int fd, const void *buf, size_t len,
			uint64_t off)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = pwrite(fd, (const char *)buf + done, len - done,
			   (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		done += (size_t)n;
	}
	return 0;
}

static int posix_fdatasync(void *ctx UNUSED, int fd)
{
	int r;

	do
		r = fdatasync(fd);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : 0;
}

static int posix_size(void *ctx UNUSED, int fd, uint64_t *size)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	*size = (uint64_t)st.st_size;
	return 0;
}

static int posix_truncate(void *ctx UNUSED, int fd, uint64_t len)
{
	int r;

	do
		r = ftruncate(fd, (off_t)len);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : 0;
}

static int posix_allocate(void *ctx UNUSED, int fd, uint64_t len)
{
	int r;

	do
		r = fallocate(fd, 0, 0, (off_t)len);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return 0;
	if (errno != EOPNOTSUPP)
		return -errno;
	/* tmpfs and friends: glibc writes the zeros itself */
	r = posix_fallocate(fd, 0, (off_t)len);
	return -r;
}

static int posix_rename(void *ctx UNUSED, const char *from, const char *to)
{
	return rename(from, to) < 0 ? -errno : 0;
}

static int posix_unlink(void *ctx UNUSED, const char *path)
{
	return unlink(path) < 0 ? -errno : 0;
}

static int posix_fsync_dir(void *ctx UNUSED, const char *dir)
{
	int fd, r, ret = 0;

	do
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return -errno;
	do
		r = fsync(fd);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static int posix_list(void *ctx UNUSED, const char *dir,
		      int (*fn)(void *arg, const char *name), void *arg)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int ret = 0;

	if (!d)
		return -errno;
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de) {
			ret = errno ? -errno : 0;
			break;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		ret = fn(arg, de->d_name);
		if (ret)
			break;
	}
	closedir(d);
	return ret;
}

static const struct truth_fs_ops posix_ops = {
	.open = posix_open,
	.close = posix_close,
	.pread = posix_pread,
	.pwrite = posix_pwrite,
	.fdatasync = posix_fdatasync,
	.size = posix_size,
	.truncate = posix_truncate,
	.allocate = posix_allocate,
	.rename = posix_rename,
	.unlink = posix_unlink,
	.fsync_dir = posix_fsync_dir,
	.list = posix_list,
};

const struct truth_fs truth_fs_posix = { .ops = &posix_ops, .ctx = NULL };
