// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * truth storage: snapshots.
 *
 * One file per snapshot, snap-<index>-<term>.snap (16 hex digits each),
 * written as snap-<index>-<term>.tmp, synced, renamed, directory synced: a
 * .snap file is always complete, and a .tmp file is a crash's leftover.
 *
 * File (little-endian):
 *	0   8  magic "TRUTHSNP"
 *	8   4  version (1)
 *	12  4  configuration length C
 *	16  8  index
 *	24  8  term
 *	32  8  state-machine length D
 *	40  4  reserved, 0
 *	44  4  CRC32C of bytes 0..43
 *	48  C  configuration (opaque)
 *	48+C D state machine (opaque)
 *	..  4  CRC32C of the C + D bytes
 * and nothing after.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "storage_int.h"

#define SNAP_NAME_LEN	64	/* "snap-" 16 "-" 16 ".snap" and NUL */

/* one snapshot file found in the directory */
struct snap_file {
	uint64_t index;			/* from the name */
	uint64_t term;			/* from the name */
	bool tmp;			/* a .tmp leftover */
	char name[SNAP_NAME_LEN];	/* file name */
};

struct snap_list {
	struct snap_file *v;	/* files */
	size_t n;		/* how many */
	int ret;		/* -ENOMEM while listing */
};

static bool hex16(const char *s, uint64_t *v)
{
	char buf[17], *end;

	memcpy(buf, s, 16);
	buf[16] = '\0';
	if (strspn(buf, "0123456789abcdef") != 16)
		return false;
	*v = strtoull(buf, &end, 16);
	return true;
}

static int snap_list_add(void *arg, const char *name)
{
	struct snap_list *l = arg;
	uint64_t index, term;
	size_t len = strlen(name);
	bool tmp;
	void *p;

	/* snap-<16 hex>-<16 hex>.snap (43 bytes) or .tmp (42) */
	if (len < 42 || strncmp(name, "snap-", 5) || name[21] != '-' ||
	    !hex16(name + 5, &index) || !hex16(name + 22, &term))
		return 0;
	if (len == 43 && !strcmp(name + 38, ".snap"))
		tmp = false;
	else if (len == 42 && !strcmp(name + 38, ".tmp"))
		tmp = true;
	else
		return 0;
	p = realloc(l->v, (l->n + 1) * sizeof(*l->v));
	if (!p)
		return l->ret = -ENOMEM;
	l->v = p;
	l->v[l->n].index = index;
	l->v[l->n].term = term;
	l->v[l->n].tmp = tmp;
	snprintf(l->v[l->n].name, SNAP_NAME_LEN, "%s", name);
	l->n++;
	return 0;
}

/* newest first */
static int snap_cmp(const void *a, const void *b)
{
	const struct snap_file *x = a, *y = b;

	if (x->index != y->index)
		return x->index > y->index ? -1 : 1;
	return x->term > y->term ? -1 : x->term < y->term;
}

static int snap_list_read(const struct truth_fs *fs, const char *dir,
			  struct snap_list *l, char *err)
{
	int ret = fs->ops->list(fs->ctx, dir, snap_list_add, l);

	if (!ret)
		ret = l->ret;
	if (ret)
		return storage_err(err, ret, "%s: list: %s", dir, strerror(-ret));
	if (l->n)
		qsort(l->v, l->n, sizeof(*l->v), snap_cmp);
	return 0;
}

static int snap_write(const struct truth_fs *fs, int fd,
		      const struct truth_snap *s)
{
	uint8_t hdr[TRUTH_SNAP_HDR], tail[4];
	uint64_t off = TRUTH_SNAP_HDR;
	uint32_t crc;
	int ret;

	memset(hdr, 0, sizeof(hdr));
	memcpy(hdr, TRUTH_SNAP_MAGIC, 8);
	put_le32(hdr + 8, TRUTH_SNAP_VERSION);
	put_le32(hdr + 12, s->conf_len);
	put_le64(hdr + 16, s->index);
	put_le64(hdr + 24, s->term);
	put_le64(hdr + 32, s->data_len);
	put_le32(hdr + 44, truth_crc32c(0, hdr, 44));
	ret = fs->ops->pwrite(fs->ctx, fd, hdr, sizeof(hdr), 0);
	if (!ret && s->conf_len)
		ret = fs->ops->pwrite(fs->ctx, fd, s->conf, s->conf_len, off);
	off += s->conf_len;
	if (!ret && s->data_len)
		ret = fs->ops->pwrite(fs->ctx, fd, s->data, s->data_len, off);
	off += s->data_len;
	crc = truth_crc32c(0, s->conf, s->conf_len);
	crc = truth_crc32c(crc, s->data, s->data_len);
	put_le32(tail, crc);
	if (!ret)
		ret = fs->ops->pwrite(fs->ctx, fd, tail, sizeof(tail), off);
	if (!ret)
		ret = fs->ops->fdatasync(fs->ctx, fd);
	return ret;
}

/* keep the TRUTH_SNAP_KEEP newest snapshots */
static int snap_prune(const struct truth_fs *fs, const char *dir, char *err)
{
	struct snap_list l = { 0 };
	char path[TRUTH_PATH_MAX];
	size_t i, kept = 0;
	int ret;

	ret = snap_list_read(fs, dir, &l, err);
	for (i = 0; !ret && i < l.n; i++) {
		if (l.v[i].tmp || kept++ < TRUTH_SNAP_KEEP)
			continue;
		ret = storage_path(path, dir, l.v[i].name);
		if (!ret)
			ret = fs->ops->unlink(fs->ctx, path);
		if (ret)
			storage_err(err, ret, "%s: unlink: %s", path,
				    strerror(-ret));
	}
	if (!ret && kept > TRUTH_SNAP_KEEP) {
		ret = fs->ops->fsync_dir(fs->ctx, dir);
		if (ret)
			storage_err(err, ret, "%s: fsync: %s", dir,
				    strerror(-ret));
	}
	free(l.v);
	return ret;
}

int truth_snap_save(const struct truth_fs *fs, const char *dir,
		    const struct truth_snap *s, char *err)
{
	char name[SNAP_NAME_LEN], path[TRUTH_PATH_MAX], tpath[TRUTH_PATH_MAX];
	int fd, ret;

	fs = storage_fs(fs);
	if ((s->conf_len && !s->conf) || (s->data_len && !s->data))
		return storage_err(err, -EINVAL, "snapshot blob missing");
	snprintf(name, sizeof(name), "snap-%016" PRIx64 "-%016" PRIx64 ".tmp",
		 s->index, s->term);
	ret = storage_path(tpath, dir, name);
	memcpy(name + 38, ".snap", 6);
	if (!ret)
		ret = storage_path(path, dir, name);
	if (ret)
		return storage_err(err, ret, "%s: name too long", dir);
	ret = fs->ops->open(fs->ctx, tpath, TRUTH_FS_RDWR | TRUTH_FS_CREATE |
			    TRUTH_FS_TRUNC, &fd);
	if (ret)
		return storage_err(err, ret, "%s: create: %s", tpath,
				   strerror(-ret));
	ret = snap_write(fs, fd, s);
	fs->ops->close(fs->ctx, fd);
	if (ret)
		return storage_err(err, ret, "%s: write: %s", tpath,
				   strerror(-ret));
	ret = fs->ops->rename(fs->ctx, tpath, path);
	if (ret)
		return storage_err(err, ret, "%s: rename: %s", tpath,
				   strerror(-ret));
	ret = fs->ops->fsync_dir(fs->ctx, dir);
	if (ret)
		return storage_err(err, ret, "%s: fsync: %s", dir,
				   strerror(-ret));
	return snap_prune(fs, dir, err);
}

/* NULL and out filled if the file is a whole snapshot, else why not */
static const char *snap_decode(const uint8_t *d, uint64_t size,
			       const struct snap_file *f, struct truth_snap *out,
			       uint64_t *bad_off)
{
	uint64_t clen, dlen;

	*bad_off = 0;
	if (size < TRUTH_SNAP_HDR + 4)
		return "file shorter than header and checksum";
	if (get_le32(d + 44) != truth_crc32c(0, d, 44))
		return "header CRC mismatch";
	if (memcmp(d, TRUTH_SNAP_MAGIC, 8))
		return "bad magic";
	if (get_le32(d + 8) != TRUTH_SNAP_VERSION)
		return "unknown format version";
	if (get_le32(d + 40))
		return "reserved bytes not zero";
	clen = get_le32(d + 12);
	dlen = get_le64(d + 32);
	if (get_le64(d + 16) != f->index || get_le64(d + 24) != f->term)
		return "index or term differs from the file name";
	if (dlen > size || TRUTH_SNAP_HDR + clen + dlen + 4 != size)
		return "lengths do not match the file size";
	*bad_off = TRUTH_SNAP_HDR;
	if (get_le32(d + size - 4) !=
	    truth_crc32c(0, d + TRUTH_SNAP_HDR, clen + dlen))
		return "body CRC mismatch";
	out->index = f->index;
	out->term = f->term;
	out->conf_len = (uint32_t)clen;
	out->data_len = dlen;
	out->conf = malloc(clen ? clen : 1);
	out->data = malloc(dlen ? dlen : 1);
	if (!out->conf || !out->data) {
		truth_snap_free(out);
		return "out of memory";
	}
	memcpy(out->conf, d + TRUTH_SNAP_HDR, clen);
	memcpy(out->data, d + TRUTH_SNAP_HDR + clen, dlen);
	return NULL;
}

int truth_snap_load(const struct truth_fs *fs, const char *dir,
		    truth_storage_log_fn log, void *log_ctx,
		    struct truth_snap *out, bool *found, char *err)
{
	struct snap_list l = { 0 };
	char path[TRUTH_PATH_MAX];
	const char *why;
	uint64_t size, off;
	uint8_t *data;
	bool removed = false;
	size_t i;
	int ret;

	fs = storage_fs(fs);
	memset(out, 0, sizeof(*out));
	*found = false;
	ret = snap_list_read(fs, dir, &l, err);
	for (i = 0; !ret && i < l.n; i++) {
		ret = storage_path(path, dir, l.v[i].name);
		if (ret) {
			storage_err(err, ret, "%s: name too long", dir);
			break;
		}
		if (l.v[i].tmp) {
			ret = fs->ops->unlink(fs->ctx, path);
			if (ret)
				storage_err(err, ret, "%s: unlink: %s", path,
					    strerror(-ret));
			else
				storage_log(log, log_ctx, TRUTH_STORAGE_INFO,
					    "snap: removed unfinished %s", path);
			removed = true;
			continue;
		}
		if (*found)
			continue;
		ret = storage_read_file(fs, path, &data, &size);
		if (ret) {
			storage_err(err, ret, "%s: read: %s", path,
				    strerror(-ret));
			break;
		}
		why = snap_decode(data, size, &l.v[i], out, &off);
		free(data);
		if (why)
			storage_log(log, log_ctx, TRUTH_STORAGE_WARN,
				    "snap: %s: offset %" PRIu64 ": %s; snapshot "
				    "skipped", path, off, why);
		else
			*found = true;
	}
	if (!ret && removed) {
		ret = fs->ops->fsync_dir(fs->ctx, dir);
		if (ret)
			storage_err(err, ret, "%s: fsync: %s", dir,
				    strerror(-ret));
	}
	if (ret && *found) {
		truth_snap_free(out);
		*found = false;
	}
	free(l.v);
	return ret;
}

void truth_snap_free(struct truth_snap *s)
{
	free(s->conf);
	free(s->data);
	s->conf = NULL;
	s->data = NULL;
}
