// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * truth storage: the write-ahead log, writing side.
 *
 * The log is a sequence of segment files in the data directory: closed
 * ones named wal-<first>-<last>.seg that are never written again, and one
 * open one, open-<first>.seg, pre-allocated to the segment size (zeros
 * written, see wal_prealloc()), that records are appended to.  Group
 * commit: truth_wal_append writes (one pwrite per segment touched),
 * truth_wal_sync makes all of it durable with one fdatasync.  Every record carries the first index of its sync batch,
 * which is what lets recovery tell a torn last batch from damage to data
 * that had been synced (wal_recover.c).
 *
 * Any failed write or sync leaves the log failed: after a failed fdatasync
 * the kernel may have dropped the dirty pages and a retry would report
 * success for data that never reached the disk, so the only way on is to
 * reopen and recover from what the disk really holds.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "wal_int.h"

void wal_name_closed(char *buf, uint64_t first, uint64_t last)
{
	snprintf(buf, WAL_NAME_LEN, "wal-%016" PRIx64 "-%016" PRIx64 ".seg",
		 first, last);
}

void wal_name_open(char *buf, uint64_t first)
{
	snprintf(buf, WAL_NAME_LEN, "open-%016" PRIx64 ".seg", first);
}

void wal_seg_header(uint8_t *hdr, uint64_t first)
{
	memset(hdr, 0, TRUTH_WAL_SEG_HDR);
	memcpy(hdr, TRUTH_WAL_MAGIC, 8);
	put_le32(hdr + 8, TRUTH_WAL_VERSION);
	put_le64(hdr + 16, first);
	put_le32(hdr + 28, truth_crc32c(0, hdr, 28));
}

const char *wal_seg_header_check(const uint8_t *hdr, uint64_t first,
				 uint64_t *first_out)
{
	if (get_le32(hdr + 28) != truth_crc32c(0, hdr, 28))
		return "segment header CRC mismatch";
	if (memcmp(hdr, TRUTH_WAL_MAGIC, 8))
		return "bad segment magic";
	if (get_le32(hdr + 8) != TRUTH_WAL_VERSION)
		return "unknown segment format version";
	if (get_le32(hdr + 12) || get_le32(hdr + 24))
		return "reserved header bytes not zero";
	*first_out = get_le64(hdr + 16);
	if (first && *first_out != first)
		return "header's first index differs from the file name";
	return NULL;
}

const char *wal_rec_decode(const uint8_t *p, uint64_t avail, struct wal_rec *r)
{
	uint32_t len;
	uint64_t size;
	size_t i;

	if (avail < TRUTH_WAL_REC_HDR)
		return "partial record header";
	len = get_le32(p + 4);
	if (len > TRUTH_WAL_MAX_ENTRY)
		return "record length out of range";
	size = wal_rec_size(len);
	if (size > avail)
		return "record runs past the end of the file";
	if (get_le32(p) != truth_crc32c(0, p + 4, size - 4))
		return "record CRC mismatch";
	for (i = 33; i < 40; i++)
		if (p[i])
			return "reserved record bytes not zero";
	r->e.len = len;
	r->e.index = get_le64(p + 8);
	r->e.term = get_le64(p + 16);
	r->batch = get_le64(p + 24);
	r->e.type = p[32];
	r->e.data = p + TRUTH_WAL_REC_HDR;
	r->size = size;
	if (!r->e.index || r->batch > r->e.index || !r->batch)
		return "record index or batch out of range";
	return NULL;
}

static void wal_rec_encode(uint8_t *p, const struct truth_wal_entry *e,
			   uint64_t batch)
{
	uint64_t size = wal_rec_size(e->len);

	memset(p, 0, TRUTH_WAL_REC_HDR);
	put_le32(p + 4, e->len);
	put_le64(p + 8, e->index);
	put_le64(p + 16, e->term);
	put_le64(p + 24, batch);
	p[32] = e->type;
	if (e->len)
		memcpy(p + TRUTH_WAL_REC_HDR, e->data, e->len);
	memset(p + TRUTH_WAL_REC_HDR + e->len, 0,
	       size - TRUTH_WAL_REC_HDR - e->len);
	put_le32(p, truth_crc32c(0, p + 4, size - 4));
}

int wal_open_push(struct truth_wal *wal, uint64_t off, uint64_t term)
{
	uint64_t *o, *t;
	size_t cap;

	if (wal->n_open == wal->cap_open) {
		cap = wal->cap_open ? 2 * wal->cap_open : 256;
		o = realloc(wal->offs, cap * sizeof(*o));
		if (!o)
			return -ENOMEM;
		wal->offs = o;
		t = realloc(wal->terms, cap * sizeof(*t));
		if (!t)
			return -ENOMEM;
		wal->terms = t;
		wal->cap_open = cap;
	}
	wal->offs[wal->n_open] = off;
	wal->terms[wal->n_open] = term;
	wal->n_open++;
	return 0;
}

/* the log cannot be trusted any more: remember why, refuse everything */
static int __attribute__((format(printf, 4, 5)))
wal_fail(struct truth_wal *wal, int ret, char *err, const char *fmt, ...)
{
	char what[TRUTH_STORAGE_ERRLEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	/* a long directory name truncates the message, which stays useful */
	if (snprintf(wal->failed_msg, sizeof(wal->failed_msg), "%s/%s: %s",
		     wal->dir, what, strerror(-ret)) < 0)
		wal->failed_msg[0] = '\0';
	wal->failed = ret;
	storage_log(wal->log, wal->log_ctx, TRUTH_STORAGE_ERR, "wal: %s",
		    wal->failed_msg);
	return storage_err(err, ret, "%s", wal->failed_msg);
}

static int wal_check_failed(const struct truth_wal *wal, char *err)
{
	if (!wal->failed)
		return 0;
	return storage_err(err, -EIO,
			   "log failed earlier (%s); reopen to recover",
			   wal->failed_msg);
}

int wal_unlink_sync(struct truth_wal *wal, const char *name, char *err)
{
	char path[TRUTH_PATH_MAX];
	int ret;

	ret = storage_path(path, wal->dir, name);
	if (!ret)
		ret = wal->fs.ops->unlink(wal->fs.ctx, path);
	if (ret && ret != -ENOENT)
		return wal_fail(wal, ret, err, "%s: unlink", name);
	ret = wal->fs.ops->fsync_dir(wal->fs.ctx, wal->dir);
	if (ret)
		return wal_fail(wal, ret, err, "%s: fsync of directory after "
				"unlink", name);
	return 0;
}

/*
 * Pre-allocate the open segment from off to its full size and write zeros
 * over that range.  fallocate alone leaves "unwritten" extents: the first
 * write into each turns it into a written one, and every fdatasync then
 * has to write the inode too (one more I/O, one more wait).  Written
 * zeros make each later sync a pure data flush.  The caller syncs.
 */
static int wal_prealloc(struct truth_wal *wal, int fd, uint64_t off)
{
	static const uint8_t zero[64 << 10];
	const struct truth_fs_ops *ops = wal->fs.ops;
	uint64_t n;
	int ret;

	ret = ops->allocate(wal->fs.ctx, fd, wal->seg_size);
	while (!ret && off < wal->seg_size) {
		n = wal->seg_size - off < sizeof(zero) ? wal->seg_size - off : sizeof(zero);
		ret = ops->pwrite(wal->fs.ctx, fd, zero, (size_t)n, off);
		off += n;
	}
	return ret;
}

int wal_open_create(struct truth_wal *wal, uint64_t first, char *err)
{
	const struct truth_fs_ops *ops = wal->fs.ops;
	char name[WAL_NAME_LEN], tmp[WAL_NAME_LEN];
	char path[TRUTH_PATH_MAX], tpath[TRUTH_PATH_MAX];
	uint8_t hdr[TRUTH_WAL_SEG_HDR];
	int fd = -1, ret;

	wal_name_open(name, first);
	snprintf(tmp, sizeof(tmp), "open-%016" PRIx64 ".tmp", first);
	ret = storage_path(path, wal->dir, name);
	if (!ret)
		ret = storage_path(tpath, wal->dir, tmp);
	if (ret)
		return storage_err(err, ret, "%s: path too long", wal->dir);
	/* fully written and synced under a temporary name, then renamed: an
	 * open-*.seg file always has a valid header */
	ret = ops->open(wal->fs.ctx, tpath, TRUTH_FS_RDWR | TRUTH_FS_CREATE |
			TRUTH_FS_TRUNC, &fd);
	if (ret)
		return wal_fail(wal, ret, err, "%s: create", tmp);
	wal_seg_header(hdr, first);
	ret = ops->pwrite(wal->fs.ctx, fd, hdr, sizeof(hdr), 0);
	if (ret)
		goto fail;
	ret = wal_prealloc(wal, fd, sizeof(hdr));
	if (ret)
		goto fail;
	ret = ops->fdatasync(wal->fs.ctx, fd);
	if (ret)
		goto fail;
	ret = ops->rename(wal->fs.ctx, tpath, path);
	if (ret)
		goto fail;
	ret = ops->fsync_dir(wal->fs.ctx, wal->dir);
	if (ret)
		goto fail;
	wal->fd = fd;
	wal->open_first = first;
	wal->tail = TRUTH_WAL_SEG_HDR;
	wal->n_open = 0;
	return 0;
fail:
	ops->close(wal->fs.ctx, fd);
	return wal_fail(wal, ret, err, "%s: creating segment", tmp);
}

/*
 * Close the open segment: cut the pre-allocated space, sync, rename it to
 * wal-<first>-<last>.seg, sync the directory.  It holds at least one record.
 */
static int wal_rollover(struct truth_wal *wal, char *err)
{
	const struct truth_fs_ops *ops = wal->fs.ops;
	char name[WAL_NAME_LEN], path[TRUTH_PATH_MAX], npath[TRUTH_PATH_MAX];
	struct wal_seg *segs, *s;
	uint64_t last = wal->open_first + wal->n_open - 1;
	int ret;

	wal_name_open(name, wal->open_first);
	ret = ops->truncate(wal->fs.ctx, wal->fd, wal->tail);
	if (ret)
		return wal_fail(wal, ret, err, "%s: truncate to %" PRIu64,
				name, wal->tail);
	ret = ops->fdatasync(wal->fs.ctx, wal->fd);
	if (ret)
		return wal_fail(wal, ret, err, "%s: fdatasync", name);
	/* everything appended so far is in this segment and now durable */
	wal->st.syncs++;
	wal->st.synced_entries += last - wal->durable_index;
	wal->durable_index = last;
	wal->batch = 0;
	segs = realloc(wal->closed, (wal->n_closed + 1) * sizeof(*segs));
	if (!segs)
		return storage_err(err, -ENOMEM, "out of memory");
	wal->closed = segs;
	s = &segs[wal->n_closed];
	s->first = wal->open_first;
	s->last = last;
	s->last_term = wal->terms[wal->n_open - 1];
	wal_name_closed(s->name, s->first, s->last);
	ret = storage_path(path, wal->dir, name);
	if (!ret)
		ret = storage_path(npath, wal->dir, s->name);
	if (!ret)
		ret = ops->rename(wal->fs.ctx, path, npath);
	if (!ret)
		ret = ops->fsync_dir(wal->fs.ctx, wal->dir);
	if (ret)
		return wal_fail(wal, ret, err, "%s: closing segment", name);
	ops->close(wal->fs.ctx, wal->fd);
	wal->fd = -1;
	wal->n_closed++;
	wal->st.segments_closed++;
	storage_log(wal->log, wal->log_ctx, TRUTH_STORAGE_INFO,
		    "wal: closed segment %s", s->name);
	return wal_open_create(wal, last + 1, err);
}

static int wal_buf_reserve(struct truth_wal *wal, size_t need)
{
	uint8_t *p;
	size_t cap;

	if (need <= wal->buf_cap)
		return 0;
	cap = wal->buf_cap ? wal->buf_cap : 65536;
	while (cap < need)
		cap *= 2;
	p = realloc(wal->buf, cap);
	if (!p)
		return -ENOMEM;
	wal->buf = p;
	wal->buf_cap = cap;
	return 0;
}

/* write buf[0..len) at the tail of the open segment */
static int wal_write_out(struct truth_wal *wal, size_t len, char *err)
{
	char name[WAL_NAME_LEN];
	int ret;

	if (!len)
		return 0;
	ret = wal->fs.ops->pwrite(wal->fs.ctx, wal->fd, wal->buf, len,
				  wal->tail);
	if (ret) {
		wal_name_open(name, wal->open_first);
		return wal_fail(wal, ret, err, "%s: write at offset %" PRIu64,
				name, wal->tail);
	}
	wal->tail += len;
	return 0;
}

static int wal_append_check(const struct truth_wal *wal,
			    const struct truth_wal_entry *e, size_t n,
			    char *err)
{
	uint64_t term;
	size_t i;

	if (e[0].index < wal->first_index || e[0].index > wal->last_index + 1)
		return storage_err(err, -EINVAL, "append at index %" PRIu64
				   ": log holds %" PRIu64 "..%" PRIu64,
				   e[0].index, wal->first_index,
				   wal->last_index);
	/* the term before e[0], once any conflicting suffix is cut */
	if (e[0].index == wal->first_index)
		term = 0;
	else if (e[0].index - 1 >= wal->open_first)
		term = wal->terms[e[0].index - 1 - wal->open_first];
	else if (e[0].index == wal->open_first && wal->n_closed)
		term = wal->closed[wal->n_closed - 1].last_term;
	else
		term = 0;	/* inside a closed segment: checked after the cut */
	for (i = 0; i < n; i++) {
		if (i && e[i].index != e[i - 1].index + 1)
			return storage_err(err, -EINVAL, "entries not "
					   "consecutive at index %" PRIu64,
					   e[i].index);
		if (e[i].term < term)
			return storage_err(err, -EINVAL, "term goes back at "
					   "index %" PRIu64, e[i].index);
		if (e[i].len > TRUTH_WAL_MAX_ENTRY || (e[i].len && !e[i].data))
			return storage_err(err, -EINVAL, "bad payload at "
					   "index %" PRIu64, e[i].index);
		term = e[i].term;
	}
	return 0;
}

int truth_wal_append(struct truth_wal *wal, const struct truth_wal_entry *e,
		     size_t n, char *err)
{
	uint64_t rsz, room, base;
	size_t i, used = 0;
	int ret;

	ret = wal_check_failed(wal, err);
	if (ret || !n)
		return ret;
	ret = wal_append_check(wal, e, n, err);
	if (ret)
		return ret;
	if (e[0].index <= wal->last_index) {
		ret = truth_wal_truncate_suffix(wal, e[0].index, err);
		if (ret)
			return ret;
		if (wal->last_index && e[0].term < wal->last_term)
			return storage_err(err, -EINVAL, "term goes back at "
					   "index %" PRIu64, e[0].index);
	}
	if (!wal->batch)
		wal->batch = e[0].index;
	base = wal->tail;
	for (i = 0; i < n; i++) {
		rsz = wal_rec_size(e[i].len);
		room = wal->seg_size > base + used ? wal->seg_size - base - used : 0;
		if (rsz > room && wal->n_open) {
			/* full: flush what is encoded, then roll over; a
			 * record larger than a segment gets one to itself */
			ret = wal_write_out(wal, used, err);
			if (!ret)
				ret = wal_rollover(wal, err);
			if (ret)
				return ret;
			used = 0;
			base = wal->tail;
			wal->batch = e[i].index;
		}
		ret = wal_buf_reserve(wal, used + rsz);
		if (!ret)
			ret = wal_open_push(wal, base + used, e[i].term);
		if (ret)
			return storage_err(err, ret, "out of memory");
		wal_rec_encode(wal->buf + used, &e[i], wal->batch);
		used += rsz;
		wal->last_index = e[i].index;
		wal->last_term = e[i].term;
		wal->st.appended++;
	}
	return wal_write_out(wal, used, err);
}

int truth_wal_sync(struct truth_wal *wal, uint64_t *durable, char *err)
{
	char name[WAL_NAME_LEN];
	int ret;

	ret = wal_check_failed(wal, err);
	if (ret)
		return ret;
	if (wal->durable_index < wal->last_index) {
		ret = wal->fs.ops->fdatasync(wal->fs.ctx, wal->fd);
		if (ret) {
			wal_name_open(name, wal->open_first);
			return wal_fail(wal, ret, err, "%s: fdatasync", name);
		}
		wal->st.syncs++;
		wal->st.synced_entries += wal->last_index - wal->durable_index;
		wal->durable_index = wal->last_index;
	}
	wal->batch = 0;
	if (durable)
		*durable = wal->durable_index;
	return 0;
}

int truth_wal_sync_begin(struct truth_wal *wal, int *fd, uint64_t *upto,
			 uint64_t *gen, char *err)
{
	int ret = wal_check_failed(wal, err);

	*fd = -1;
	*upto = wal->durable_index;
	*gen = wal->gen;
	if (ret)
		return ret;
	if (wal->fs.ops != truth_fs_posix.ops)
		return storage_err(err, -EOPNOTSUPP, "split sync needs the POSIX file layer");
	if (wal->durable_index >= wal->last_index || wal->fd < 0)
		return 0;
	/* a descriptor of its own: a rollover may close ours meanwhile */
	*fd = fcntl(wal->fd, F_DUPFD_CLOEXEC, 0);
	if (*fd < 0)
		return storage_err(err, -errno, "wal: dup for sync: %s", strerror(errno));
	*upto = wal->last_index;
	return 0;
}

int truth_wal_sync_end(struct truth_wal *wal, uint64_t upto, uint64_t gen,
		       int result, char *err)
{
	char name[WAL_NAME_LEN];

	if (result) {
		wal_name_open(name, wal->open_first);
		return wal_fail(wal, result, err, "%s: fdatasync", name);
	}
	/* entries cut since: what was synced is not what the log holds now */
	if (gen != wal->gen || upto <= wal->durable_index)
		return 0;
	wal->st.syncs++;
	wal->st.synced_entries += upto - wal->durable_index;
	wal->durable_index = upto;
	/* records written from now on may say: everything before upto + 1 is durable */
	wal->batch = wal->last_index > upto ? upto + 1 : 0;
	return 0;
}

int truth_wal_append_sync(struct truth_wal *wal, const struct truth_wal_entry *e,
			  size_t n, uint64_t *durable, char *err)
{
	int ret = truth_wal_append(wal, e, n, err);

	return ret ? ret : truth_wal_sync(wal, durable, err);
}

int wal_open_cut(struct truth_wal *wal, size_t keep, char *err)
{
	const struct truth_fs_ops *ops = wal->fs.ops;
	char name[WAL_NAME_LEN];
	uint64_t off = keep < wal->n_open ? wal->offs[keep] : wal->tail;
	int ret;

	/* shrink, so no stale record survives past the new tail, then
	 * pre-allocate again; both durable before anything new is written.
	 * The zeros go on only once the cut is durable: written over a cut
	 * that a crash undid, a torn run of them would leave a hole in the
	 * stale records that recovery must call corruption. */
	wal_name_open(name, wal->open_first);
	ret = ops->truncate(wal->fs.ctx, wal->fd, off);
	if (!ret)
		ret = ops->allocate(wal->fs.ctx, wal->fd, wal->seg_size);
	if (!ret)
		ret = ops->fdatasync(wal->fs.ctx, wal->fd);
	if (!ret)
		ret = wal_prealloc(wal, wal->fd, off);
	if (!ret)
		ret = ops->fdatasync(wal->fs.ctx, wal->fd);
	if (ret)
		return wal_fail(wal, ret, err, "%s: truncate at offset %" PRIu64,
				name, off);
	wal->n_open = keep;
	wal->tail = off;
	wal->last_index = wal->open_first + keep - 1;
	if (keep)
		wal->last_term = wal->terms[keep - 1];
	else if (wal->n_closed)
		wal->last_term = wal->closed[wal->n_closed - 1].last_term;
	else
		wal->last_term = 0;
	wal->durable_index = wal->last_index;
	wal->batch = 0;
	wal->gen++;
	return 0;
}

/* make the last closed segment the open one again (its records reloaded) */
static int wal_reopen_closed(struct truth_wal *wal, char *err)
{
	const struct truth_fs_ops *ops = wal->fs.ops;
	struct wal_seg *s = &wal->closed[wal->n_closed - 1];
	char name[WAL_NAME_LEN], path[TRUTH_PATH_MAX], npath[TRUTH_PATH_MAX];
	uint64_t size, off;
	struct wal_rec r;
	uint8_t *data;
	const char *why;
	int ret;

	wal_name_open(name, s->first);
	ret = storage_path(path, wal->dir, s->name);
	if (!ret)
		ret = storage_path(npath, wal->dir, name);
	if (!ret)
		ret = ops->rename(wal->fs.ctx, path, npath);
	if (!ret)
		ret = ops->fsync_dir(wal->fs.ctx, wal->dir);
	if (ret)
		return wal_fail(wal, ret, err, "%s: reopening segment", s->name);
	ret = storage_read_file(&wal->fs, npath, &data, &size);
	if (!ret)
		ret = ops->open(wal->fs.ctx, npath, TRUTH_FS_RDWR, &wal->fd);
	if (ret)
		return wal_fail(wal, ret, err, "%s: reading", name);
	wal->open_first = s->first;
	wal->n_open = 0;
	wal->n_closed--;
	/* it was checked at open; check again, it is about to be written */
	for (off = TRUTH_WAL_SEG_HDR; off < size; off += r.size) {
		why = wal_rec_decode(data + off, size - off, &r);
		if (!why && r.e.index != s->first + wal->n_open)
			why = "unexpected index";
		if (why) {
			free(data);
			return wal_fail(wal, -EIO, err, "%s: offset %" PRIu64
					": re-read failed", name, off);
		}
		ret = wal_open_push(wal, off, r.e.term);
		if (ret) {
			free(data);
			return storage_err(err, ret, "out of memory");
		}
	}
	free(data);
	wal->tail = size;
	return 0;
}

int truth_wal_truncate_suffix(struct truth_wal *wal, uint64_t from, char *err)
{
	char name[WAL_NAME_LEN];
	int ret;

	ret = wal_check_failed(wal, err);
	if (ret)
		return ret;
	if (from > wal->last_index)
		return 0;
	if (from < wal->first_index || from == 0)
		return storage_err(err, -EINVAL, "truncate from %" PRIu64
				   " below the first entry %" PRIu64, from,
				   wal->first_index);
	if (from < wal->open_first) {
		/* newest first, so a crash leaves a shorter but whole log */
		wal_name_open(name, wal->open_first);
		wal->fs.ops->close(wal->fs.ctx, wal->fd);
		wal->fd = -1;
		ret = wal_unlink_sync(wal, name, err);
		while (!ret && wal->n_closed &&
		       wal->closed[wal->n_closed - 1].first >= from) {
			ret = wal_unlink_sync(wal,
					      wal->closed[wal->n_closed - 1].name,
					      err);
			wal->n_closed--;
		}
		if (ret)
			return ret;
		if (wal->n_closed && wal->closed[wal->n_closed - 1].last >= from)
			ret = wal_reopen_closed(wal, err);
		else
			ret = wal_open_create(wal, from, err);
		if (ret)
			return ret;
	}
	ret = wal_open_cut(wal, from - wal->open_first, err);
	if (!ret)
		storage_log(wal->log, wal->log_ctx, TRUTH_STORAGE_INFO,
			    "wal: truncated from index %" PRIu64, from);
	return ret;
}

int truth_wal_compact(struct truth_wal *wal, uint64_t upto, char *err)
{
	char path[TRUTH_PATH_MAX];
	size_t n = 0, i;
	int ret;

	ret = wal_check_failed(wal, err);
	if (ret)
		return ret;
	/* oldest first: whatever a crash leaves is still a whole log */
	while (n < wal->n_closed && wal->closed[n].last <= upto) {
		ret = storage_path(path, wal->dir, wal->closed[n].name);
		if (!ret)
			ret = wal->fs.ops->unlink(wal->fs.ctx, path);
		if (ret && ret != -ENOENT)
			return wal_fail(wal, ret, err, "%s: unlink", wal->closed[n].name);
		n++;
	}
	if (!n)
		return 0;
	ret = wal->fs.ops->fsync_dir(wal->fs.ctx, wal->dir);
	if (ret)
		return wal_fail(wal, ret, err, "%s: fsync of directory", ".");
	for (i = n; i < wal->n_closed; i++)
		wal->closed[i - n] = wal->closed[i];
	wal->n_closed -= n;
	wal->first_index = wal->n_closed ? wal->closed[0].first :
					   wal->open_first;
	return 0;
}

int wal_reset(struct truth_wal *wal, uint64_t next, char *err)
{
	char name[WAL_NAME_LEN];
	int ret = 0;

	if (wal->fd >= 0) {
		wal_name_open(name, wal->open_first);
		wal->fs.ops->close(wal->fs.ctx, wal->fd);
		wal->fd = -1;
		ret = wal_unlink_sync(wal, name, err);
	}
	while (!ret && wal->n_closed) {
		ret = wal_unlink_sync(wal, wal->closed[wal->n_closed - 1].name,
				      err);
		wal->n_closed--;
	}
	if (!ret)
		ret = wal_open_create(wal, next, err);
	if (ret)
		return ret;
	wal->first_index = next;
	wal->last_index = next - 1;
	wal->last_term = 0;
	wal->durable_index = next - 1;
	wal->batch = 0;
	wal->gen++;
	return 0;
}

int truth_wal_reset(struct truth_wal *wal, uint64_t next_index, char *err)
{
	int ret = wal_check_failed(wal, err);

	if (ret)
		return ret;
	if (!next_index)
		return storage_err(err, -EINVAL, "reset to index 0");
	return wal_reset(wal, next_index, err);
}

/* call fn for the records of one segment image with index >= from */
static int wal_iterate_seg(struct truth_wal *wal, const char *name,
			   const uint8_t *data, uint64_t size, uint64_t first,
			   uint64_t last, uint64_t from, truth_wal_entry_fn fn,
			   void *ctx, char *err)
{
	uint64_t off = TRUTH_WAL_SEG_HDR, idx = first, hfirst;
	struct wal_rec r;
	const char *why;
	int ret;

	why = size < TRUTH_WAL_SEG_HDR ? "file shorter than its header" :
	      wal_seg_header_check(data, first, &hfirst);
	if (why)
		return storage_err(err, -EIO, "%s/%s: offset 0: %s", wal->dir,
				   name, why);
	for (; idx <= last; idx++, off += r.size) {
		why = wal_rec_decode(data + off, size - off, &r);
		if (!why && r.e.index != idx)
			why = "unexpected index";
		if (why)
			return storage_err(err, -EIO, "%s/%s: offset %" PRIu64
					   ": %s (index %" PRIu64 ")", wal->dir,
					   name, off, why, idx);
		if (idx < from)
			continue;
		ret = fn(ctx, &r.e);
		if (ret)
			return ret;
	}
	return 0;
}

int truth_wal_iterate(struct truth_wal *wal, uint64_t from,
		      truth_wal_entry_fn fn, void *ctx, char *err)
{
	char name[WAL_NAME_LEN], path[TRUTH_PATH_MAX];
	uint8_t *data = NULL;
	uint64_t size;
	size_t i;
	int ret = 0;

	if (from < wal->first_index)
		from = wal->first_index;
	for (i = 0; !ret && i < wal->n_closed; i++) {
		struct wal_seg *s = &wal->closed[i];

		if (s->last < from)
			continue;
		ret = storage_path(path, wal->dir, s->name);
		if (!ret)
			ret = storage_read_file(&wal->fs, path, &data, &size);
		if (ret)
			return storage_err(err, ret, "%s: read: %s", path,
					   strerror(-ret));
		ret = wal_iterate_seg(wal, s->name, data, size, s->first,
				      s->last, from, fn, ctx, err);
		free(data);
	}
	if (ret || !wal->n_open || wal->last_index < from)
		return ret;
	wal_name_open(name, wal->open_first);
	data = malloc(wal->tail);
	if (!data)
		return storage_err(err, -ENOMEM, "out of memory");
	ret = storage_pread_full(&wal->fs, wal->fd, data, wal->tail, 0);
	if (ret)
		ret = storage_err(err, ret, "%s/%s: read: %s", wal->dir, name,
				  strerror(-ret));
	else
		ret = wal_iterate_seg(wal, name, data, wal->tail,
				      wal->open_first, wal->last_index, from,
				      fn, ctx, err);
	free(data);
	return ret;
}

uint64_t truth_wal_first_index(const struct truth_wal *wal)
{
	return wal->first_index;
}

uint64_t truth_wal_last_index(const struct truth_wal *wal)
{
	return wal->last_index;
}

uint64_t truth_wal_last_term(const struct truth_wal *wal)
{
	return wal->last_term;
}

uint64_t truth_wal_durable_index(const struct truth_wal *wal)
{
	return wal->durable_index;
}

void truth_wal_stats(const struct truth_wal *wal, struct truth_wal_stats *st)
{
	*st = wal->st;
}

void truth_wal_close(struct truth_wal *wal)
{
	if (!wal)
		return;
	if (wal->fd >= 0)
		wal->fs.ops->close(wal->fs.ctx, wal->fd);
	free(wal->closed);
	free(wal->offs);
	free(wal->terms);
	free(wal->buf);
	free(wal);
}
