// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * truth storage: an in-memory disk with fault injection, for the tests.
 *
 * Model.  An inode has a volatile image (what reads see: the page cache)
 * and a durable image (the platter).  fdatasync copies the first to the
 * second.  Names live in a volatile and a durable namespace; fsync_dir
 * copies the entries under that directory.  A crash keeps the durable
 * images and names (LOSE_UNSYNCED, a power cut) or everything
 * (KEEP_UNSYNCED, a killed process).  This is the strictest reading of
 * POSIX the storage code must survive: nothing is durable until synced,
 * and a new file's name is not durable until its directory is synced.
 *
 * Faults are armed by write-boundary number (every mutating call is one):
 * crash (the call and all later ones fail, nothing changes), tear (a pwrite
 * puts only a prefix on the platter, then crash), hole (a pwrite reaches the
 * platter except one range of it, as when pages are written back out of
 * order, then crash), fail (one call fails with a chosen errno and the disk
 * stays up).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage.h"

struct mem_image {
	uint8_t *data;		/* bytes, size of them valid */
	uint64_t size;		/* file size */
};

struct mem_inode {
	struct mem_image vol;	/* what reads see */
	struct mem_image dur;	/* what survives a power cut */
};

struct mem_name {
	char *path;		/* full path as given to open */
	size_t ino;		/* index into inodes */
};

struct mem_names {
	struct mem_name *v;	/* entries */
	size_t n;		/* entries used */
};

struct truth_memfs {
	struct mem_inode *inodes;	/* every inode ever created */
	size_t n_inodes;		/* inodes used */
	struct mem_names vol;		/* namespace as seen by lookups */
	struct mem_names dur;		/* namespace after a power cut */
	long *fds;			/* fd -> inode, -1 = free */
	size_t n_fds;			/* fd slots */
	uint64_t ops;			/* write boundaries passed */
	uint64_t crash_at;		/* boundary that crashes, 0 = none */
	uint64_t tear_at;		/* pwrite boundary that tears, 0 = none */
	size_t tear_keep;		/* bytes a torn pwrite keeps */
	size_t hole_off;		/* torn pwrite: start of the part lost */
	size_t hole_len;		/* its length, 0 = keep a prefix instead */
	uint64_t fail_at;		/* boundary that fails, 0 = none */
	int fail_err;			/* its -errno */
	bool crashed;			/* a crash or tear has fired */
};

static int image_resize(struct mem_image *im, uint64_t size)
{
	uint8_t *p;

	if (size > im->size) {
		p = realloc(im->data, size);
		if (!p)
			return -ENOMEM;
		memset(p + im->size, 0, size - im->size);
		im->data = p;
	}
	im->size = size;
	return 0;
}

static int image_copy(struct mem_image *dst, const struct mem_image *src)
{
	uint8_t *p = realloc(dst->data, src->size ? src->size : 1);

	if (!p)
		return -ENOMEM;
	if (src->size)
		memcpy(p, src->data, src->size);
	dst->data = p;
	dst->size = src->size;
	return 0;
}

static int image_write(struct mem_image *im, const void *buf, size_t len,
		       uint64_t off)
{
	int ret = 0;

	if (off + len > im->size)
		ret = image_resize(im, off + len);
	if (!ret && len)
		memcpy(im->data + off, buf, len);
	return ret;
}

/* write buf at off except the bytes [hole_off, hole_off + hole_len) of it */
static int hole_write(struct mem_image *im, const void *buf, size_t len,
		      uint64_t off, const struct truth_memfs *m)
{
	size_t a = m->hole_off < len ? m->hole_off : len;
	size_t b = m->hole_len < len - a ? a + m->hole_len : len;
	int ret;

	ret = image_write(im, buf, a, off);
	if (!ret)
		ret = image_write(im, (const uint8_t *)buf + b, len - b, off + b);
	/* the hole reads as what was there, or zeros past the old end */
	if (!ret && off + b > im->size)
		ret = image_resize(im, off + b);
	return ret;
}

static struct mem_name *names_find(struct mem_names *ns, const char *path)
{
	size_t i;

	for (i = 0; i < ns->n; i++)
		if (!strcmp(ns->v[i].path, path))
			return &ns->v[i];
	return NULL;
}

static int names_add(struct mem_names *ns, const char *path, size_t ino)
{
	struct mem_name *v = realloc(ns->v, (ns->n + 1) * sizeof(*v));
	char *p = strdup(path);

	if (v)
		ns->v = v;
	if (!v || !p) {
		free(p);
		return -ENOMEM;
	}
	v[ns->n].path = p;
	v[ns->n].ino = ino;
	ns->n++;
	return 0;
}

static void names_del(struct mem_names *ns, struct mem_name *e)
{
	free(e->path);
	*e = ns->v[--ns->n];
}

static void names_clear(struct mem_names *ns)
{
	while (ns->n)
		names_del(ns, &ns->v[0]);
}

static int names_copy(struct mem_names *dst, const struct mem_names *src)
{
	size_t i;
	int ret;

	names_clear(dst);
	for (i = 0; i < src->n; i++) {
		ret = names_add(dst, src->v[i].path, src->v[i].ino);
		if (ret)
			return ret;
	}
	return 0;
}

/* is path directly inside dir? */
static bool in_dir(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return !strncmp(path, dir, n) && path[n] == '/' &&
	       !strchr(path + n + 1, '/');
}

/* pass a write boundary: 0 to go on, or the error the call returns */
static int boundary(struct truth_memfs *m)
{
	if (m->crashed)
		return -EIO;
	m->ops++;
	if (m->ops == m->crash_at) {
		m->crashed = true;
		return -EIO;
	}
	if (m->ops == m->fail_at)
		return m->fail_err;
	return 0;
}

static struct mem_inode *fd_inode(struct truth_memfs *m, int fd)
{
	if (fd < 0 || (size_t)fd >= m->n_fds || m->fds[fd] < 0)
		return NULL;
	return &m->inodes[m->fds[fd]];
}

static int fd_alloc(struct truth_memfs *m, size_t ino)
{
	long *p;
	size_t i;

	for (i = 0; i < m->n_fds; i++)
		if (m->fds[i] < 0)
			break;
	if (i == m->n_fds) {
		p = realloc(m->fds, (m->n_fds + 16) * sizeof(*p));
		if (!p)
			return -ENOMEM;
		m->fds = p;
		for (; m->n_fds < i + 16; m->n_fds++)
			m->fds[m->n_fds] = -1;
	}
	m->fds[i] = (long)ino;
	return (int)i;
}

static int mem_open(void *ctx, const char *path, int flags, int *fd)
{
	struct truth_memfs *m = ctx;
	struct mem_name *e;
	struct mem_inode *ip;
	size_t ino;
	int ret;

	if (m->crashed)
		return -EIO;
	e = names_find(&m->vol, path);
	if (e && (flags & TRUTH_FS_CREATE) && (flags & TRUTH_FS_EXCL))
		return -EEXIST;
	if (!e && !(flags & TRUTH_FS_CREATE))
		return -ENOENT;
	if (!e || (flags & TRUTH_FS_TRUNC)) {
		ret = boundary(m);
		if (ret)
			return ret;
	}
	if (!e) {
		ip = realloc(m->inodes, (m->n_inodes + 1) * sizeof(*ip));
		if (!ip)
			return -ENOMEM;
		m->inodes = ip;
		memset(&ip[m->n_inodes], 0, sizeof(*ip));
		ino = m->n_inodes;
		ret = names_add(&m->vol, path, ino);
		if (ret)
			return ret;
		m->n_inodes++;
	} else {
		ino = e->ino;
	}
	if (flags & TRUTH_FS_TRUNC)
		m->inodes[ino].vol.size = 0;
	ret = fd_alloc(m, ino);
	if (ret < 0)
		return ret;
	*fd = ret;
	return 0;
}

static int mem_close(void *ctx, int fd)
{
	struct truth_memfs *m = ctx;

	if (!fd_inode(m, fd))
		return -EBADF;
	m->fds[fd] = -1;
	return 0;
}

static ssize_t mem_pread(void *ctx, int fd, void *buf, size_t len,
			 uint64_t off)
{
	struct truth_memfs *m = ctx;
	struct mem_inode *ip = fd_inode(m, fd);

	if (m->crashed)
		return -EIO;
	if (!ip)
		return -EBADF;
	if (off >= ip->vol.size)
		return 0;
	if (len > ip->vol.size - off)
		len = ip->vol.size - off;
	memcpy(buf, ip->vol.data + off, len);
	return (ssize_t)len;
}

static int mem_pwrite(void *ctx, int fd, const void *buf, size_t len,
		      uint64_t off)
{
	struct truth_memfs *m = ctx;
	struct mem_inode *ip = fd_inode(m, fd);
	size_t keep;
	int ret;

	if (!ip)
		return m->crashed ? -EIO : -EBADF;
	ret = boundary(m);
	if (ret)
		return ret;
	if (m->ops == m->tear_at) {
		m->crashed = true;
		if (m->hole_len) {
			/* all but one range reaches the platter: pages
			 * written back out of order, then the power goes */
			ret = hole_write(&ip->vol, buf, len, off, m);
			if (!ret)
				ret = hole_write(&ip->dur, buf, len, off, m);
			return ret ? ret : -EIO;
		}
		/* a prefix reaches the platter, then the power goes */
		keep = m->tear_keep < len ? m->tear_keep : len;
		ret = image_write(&ip->vol, buf, keep, off);
		if (!ret)
			ret = image_write(&ip->dur, buf, keep, off);
		return ret ? ret : -EIO;
	}
	return image_write(&ip->vol, buf, len, off);
}

static int mem_fdatasync(void *ctx, int fd)
{
	struct truth_memfs *m = ctx;
	struct mem_inode *ip = fd_inode(m, fd);
	int ret;

	if (!ip)
		return m->crashed ? -EIO : -EBADF;
	ret = boundary(m);
	return ret ? ret : image_copy(&ip->dur, &ip->vol);
}

static int mem_size(void *ctx, int fd, uint64_t *size)
{
	struct truth_memfs *m = ctx;
	struct mem_inode *ip = fd_inode(m, fd);

	if (m->crashed)
		return -EIO;
	if (!ip)
		return -EBADF;
	*size = ip->vol.size;
	return 0;
}

static int mem_truncate(void *ctx, int fd, uint64_t len)
{
	struct truth_memfs *m = ctx;
	struct mem_inode *ip = fd_inode(m, fd);
	int ret;

	if (!ip)
		return m->crashed ? -EIO : -EBADF;
	ret = boundary(m);
	return ret ? ret : image_resize(&ip->vol, len);
}

static int mem_allocate(void *ctx, int fd, uint64_t len)
{
	struct truth_memfs *m = ctx;
	struct mem_inode *ip = fd_inode(m, fd);
	int ret;

	if (!ip)
		return m->crashed ? -EIO : -EBADF;
	ret = boundary(m);
	if (ret || len <= ip->vol.size)
		return ret;
	return image_resize(&ip->vol, len);
}

static int mem_rename(void *ctx, const char *from, const char *to)
{
	struct truth_memfs *m = ctx;
	struct mem_name *src, *dst;
	size_t ino;
	int ret;

	if (m->crashed)
		return -EIO;
	src = names_find(&m->vol, from);
	if (!src)
		return -ENOENT;
	ret = boundary(m);
	if (ret)
		return ret;
	ino = src->ino;
	dst = names_find(&m->vol, to);
	if (dst) {
		dst->ino = ino;
		names_del(&m->vol, names_find(&m->vol, from));
		return 0;
	}
	names_del(&m->vol, src);
	return names_add(&m->vol, to, ino);
}

static int mem_unlink(void *ctx, const char *path)
{
	struct truth_memfs *m = ctx;
	struct mem_name *e;
	int ret;

	if (m->crashed)
		return -EIO;
	e = names_find(&m->vol, path);
	if (!e)
		return -ENOENT;
	ret = boundary(m);
	if (ret)
		return ret;
	names_del(&m->vol, e);
	return 0;
}

static int mem_fsync_dir(void *ctx, const char *dir)
{
	struct truth_memfs *m = ctx;
	size_t i;
	int ret;

	ret = boundary(m);
	if (ret)
		return ret;
	for (i = 0; i < m->dur.n;) {
		if (in_dir(m->dur.v[i].path, dir))
			names_del(&m->dur, &m->dur.v[i]);
		else
			i++;
	}
	for (i = 0; i < m->vol.n; i++) {
		if (!in_dir(m->vol.v[i].path, dir))
			continue;
		ret = names_add(&m->dur, m->vol.v[i].path, m->vol.v[i].ino);
		if (ret)
			return ret;
	}
	return 0;
}

static int mem_list(void *ctx, const char *dir,
		    int (*fn)(void *arg, const char *name), void *arg)
{
	struct truth_memfs *m = ctx;
	size_t i, n = strlen(dir);
	int ret;

	if (m->crashed)
		return -EIO;
	/* fn may unlink: walk a snapshot of the names */
	for (i = m->vol.n; i-- > 0;) {
		char name[256];

		if (i >= m->vol.n || !in_dir(m->vol.v[i].path, dir))
			continue;
		snprintf(name, sizeof(name), "%s", m->vol.v[i].path + n + 1);
		ret = fn(arg, name);
		if (ret)
			return ret;
	}
	return 0;
}

static const struct truth_fs_ops mem_ops = {
	.open = mem_open,
	.close = mem_close,
	.pread = mem_pread,
	.pwrite = mem_pwrite,
	.fdatasync = mem_fdatasync,
	.size = mem_size,
	.truncate = mem_truncate,
	.allocate = mem_allocate,
	.rename = mem_rename,
	.unlink = mem_unlink,
	.fsync_dir = mem_fsync_dir,
	.list = mem_list,
};

struct truth_memfs *truth_memfs_new(void)
{
	return calloc(1, sizeof(struct truth_memfs));
}

void truth_memfs_free(struct truth_memfs *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->n_inodes; i++) {
		free(m->inodes[i].vol.data);
		free(m->inodes[i].dur.data);
	}
	free(m->inodes);
	names_clear(&m->vol);
	names_clear(&m->dur);
	free(m->vol.v);
	free(m->dur.v);
	free(m->fds);
	free(m);
}

struct truth_fs truth_memfs_fs(struct truth_memfs *m)
{
	struct truth_fs fs = { .ops = &mem_ops, .ctx = m };

	return fs;
}

uint64_t truth_memfs_ops(const struct truth_memfs *m)
{
	return m->ops;
}

void truth_memfs_crash_at(struct truth_memfs *m, uint64_t n)
{
	m->crash_at = n;
}

void truth_memfs_tear_at(struct truth_memfs *m, uint64_t n, size_t keep)
{
	m->tear_at = n;
	m->tear_keep = keep;
}

void truth_memfs_hole_at(struct truth_memfs *m, uint64_t n, size_t off,
			 size_t len)
{
	m->tear_at = n;
	m->hole_off = off;
	m->hole_len = len;
}

void truth_memfs_fail_at(struct truth_memfs *m, uint64_t n, int err)
{
	m->fail_at = n;
	m->fail_err = err;
}

bool truth_memfs_crashed(const struct truth_memfs *m)
{
	return m->crashed;
}

void truth_memfs_reboot(struct truth_memfs *m, enum truth_memfs_crash how)
{
	size_t i;

	for (i = 0; i < m->n_fds; i++)
		m->fds[i] = -1;
	for (i = 0; i < m->n_inodes; i++) {
		struct mem_inode *ip = &m->inodes[i];

		if (how == TRUTH_MEMFS_KEEP_UNSYNCED)
			image_copy(&ip->dur, &ip->vol);
		else
			image_copy(&ip->vol, &ip->dur);
	}
	if (how == TRUTH_MEMFS_KEEP_UNSYNCED)
		names_copy(&m->dur, &m->vol);
	else
		names_copy(&m->vol, &m->dur);
	m->crash_at = m->tear_at = m->fail_at = 0;
	m->hole_len = 0;
	m->crashed = false;
}

int truth_memfs_peek(struct truth_memfs *m, const char *path, uint8_t **data,
		     uint64_t *size)
{
	struct mem_name *e = names_find(&m->vol, path);

	if (!e)
		return -ENOENT;
	*data = m->inodes[e->ino].vol.data;
	*size = m->inodes[e->ino].vol.size;
	return 0;
}

size_t truth_memfs_count(const struct truth_memfs *m)
{
	return m->vol.n;
}
