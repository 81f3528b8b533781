// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * truth storage: opening the write-ahead log, and recovery.
 *
 * Every record of every segment is read and checked.  Closed segments were
 * synced before they got their name, so any defect in one is corruption:
 * open fails naming the file and byte offset.  In the open segment the
 * first defect at offset X (bad CRC or length, wrong index, bytes that are
 * not a record) is one of two things:
 *
 *   - a torn tail: the last sync batch was being written when the machine
 *     died, and any part of it may have reached the disk, in any order.
 *     Nothing of that batch was acknowledged (the sync never returned).
 *     The tail is cut back to X, durably, and the loss logged.
 *   - corruption of synced data: a valid record follows X whose batch
 *     field is greater than the index expected at X.  That record was
 *     written in a later batch, and batches start only after the previous
 *     sync returned, so the data at X had been durable.  Open fails.
 *
 * Documentation/storage.md has the whole argument and its one blind spot
 * (damage inside the last batch looks like a torn write).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "wal_int.h"

/* what the directory holds, as far as the log is concerned */
struct wal_dir {
	struct wal_seg *closed;		/* wal-*.seg */
	size_t n_closed;		/* how many */
	uint64_t open_first[2];		/* first index of open-*.seg (two at most
					   are remembered: two is already an error) */
	size_t n_open;			/* how many open-*.seg */
	char (*tmp)[WAL_NAME_LEN];	/* open-*.tmp leftovers */
	size_t n_tmp;			/* how many */
	int ret;			/* -ENOMEM while listing */
};

static bool parse_hex16(const char *s, uint64_t *v)
{
	uint64_t x = 0;
	int i, d;

	for (i = 0; i < 16; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			d = s[i] - '0';
		else if (s[i] >= 'a' && s[i] <= 'f')
			d = s[i] - 'a' + 10;
		else
			return false;
		x = x << 4 | (uint64_t)d;
	}
	*v = x;
	return true;
}

static int wal_dir_add(void *arg, const char *name)
{
	struct wal_dir *d = arg;
	size_t len = strlen(name);
	uint64_t a, b;
	void *p;

	if (len == 41 && !strncmp(name, "wal-", 4) && name[20] == '-' &&
	    !strcmp(name + 37, ".seg") && parse_hex16(name + 4, &a) &&
	    parse_hex16(name + 21, &b)) {
		p = realloc(d->closed, (d->n_closed + 1) * sizeof(*d->closed));
		if (!p)
			return d->ret = -ENOMEM;
		d->closed = p;
		d->closed[d->n_closed].first = a;
		d->closed[d->n_closed].last = b;
		d->closed[d->n_closed].last_term = 0;
		snprintf(d->closed[d->n_closed].name, WAL_NAME_LEN, "%s", name);
		d->n_closed++;
	} else if (len == 25 && !strncmp(name, "open-", 5) &&
		   parse_hex16(name + 5, &a)) {
		if (!strcmp(name + 21, ".seg")) {
			if (d->n_open < 2)
				d->open_first[d->n_open] = a;
			d->n_open++;
		} else if (!strcmp(name + 21, ".tmp")) {
			p = realloc(d->tmp, (d->n_tmp + 1) * sizeof(*d->tmp));
			if (!p)
				return d->ret = -ENOMEM;
			d->tmp = p;
			snprintf(d->tmp[d->n_tmp++], WAL_NAME_LEN, "%s", name);
		}
	}
	return 0;
}

static int seg_cmp(const void *a, const void *b)
{
	const struct wal_seg *x = a, *y = b;

	return x->first < y->first ? -1 : x->first > y->first;
}

/* terms seen while reading, and the term of the snapshot's entry */
struct wal_scan {
	uint64_t prev_term;	/* term of the record before */
	uint64_t snap_index;	/* the snapshot's last index */
	uint64_t snap_term;	/* term found at snap_index, 0 = not in log */
};

static const char *wal_rec_next(const uint8_t *p, uint64_t avail,
				uint64_t idx, struct wal_scan *sc,
				struct wal_rec *r)
{
	const char *why = wal_rec_decode(p, avail, r);

	if (why)
		return why;
	if (r->e.index != idx)
		return "unexpected index";
	if (r->e.term < sc->prev_term)
		return "term goes backwards";
	sc->prev_term = r->e.term;
	if (idx == sc->snap_index)
		sc->snap_term = r->e.term;
	return NULL;
}

/* every record of a closed segment, exactly first..last and nothing else */
static int wal_check_closed(struct truth_wal *wal, struct wal_seg *s,
			    struct wal_scan *sc, char *err)
{
	char path[TRUTH_PATH_MAX];
	uint64_t size, off = 0, idx, hfirst;
	const char *why = NULL;
	struct wal_rec r;
	uint8_t *data;
	int ret;

	ret = storage_path(path, wal->dir, s->name);
	if (!ret)
		ret = storage_read_file(&wal->fs, path, &data, &size);
	if (ret)
		return storage_err(err, ret, "%s: read: %s", path,
				   strerror(-ret));
	if (size < TRUTH_WAL_SEG_HDR)
		why = "file shorter than its header";
	else
		why = wal_seg_header_check(data, s->first, &hfirst);
	for (idx = s->first, off = why ? 0 : TRUTH_WAL_SEG_HDR;
	     !why && idx <= s->last; idx++) {
		why = wal_rec_next(data + off, size - off, idx, sc, &r);
		if (!why)
			off += r.size;
	}
	if (!why && off != size)
		why = "bytes after the last record its name promises";
	free(data);
	if (why)
		return storage_err(err, -EIO, "%s: offset %" PRIu64 ": %s "
				   "(closed segment holding %" PRIu64 "..%"
				   PRIu64 "): corrupt log, refusing to start",
				   path, off, why, s->first, s->last);
	s->last_term = sc->prev_term;
	return 0;
}

static bool all_zero(const uint8_t *p, uint64_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

/*
 * After a defect at off where index expect was due: look for a valid
 * record written in a later sync batch.  Returns its offset (0 = none) and
 * counts the valid records of the same, unfinished, batch.
 */
static uint64_t wal_find_later_batch(const uint8_t *d, uint64_t size,
				     uint64_t off, uint64_t expect,
				     uint64_t *same, uint64_t *later_index)
{
	uint64_t p, len, idx, batch;
	struct wal_rec r;

	*same = 0;
	for (p = off + TRUTH_WAL_ALIGN; p + TRUTH_WAL_REC_HDR <= size;
	     p += TRUTH_WAL_ALIGN) {
		len = get_le32(d + p + 4);
		idx = get_le64(d + p + 8);
		batch = get_le64(d + p + 24);
		/* cheap filters before the CRC */
		if (len > TRUTH_WAL_MAX_ENTRY || idx < expect || !batch ||
		    batch > idx || wal_rec_size((uint32_t)len) > size - p)
			continue;
		if (wal_rec_decode(d + p, size - p, &r))
			continue;
		if (r.batch > expect) {
			*later_index = r.e.index;
			return p;
		}
		(*same)++;
	}
	return 0;
}

/* read the open segment, cut a torn tail, refuse corruption */
static int wal_recover_open(struct truth_wal *wal, uint64_t first,
			    struct wal_scan *sc, char *err)
{
	const struct truth_fs_ops *ops = wal->fs.ops;
	char name[WAL_NAME_LEN], path[TRUTH_PATH_MAX];
	uint64_t size, off, idx, hfirst, later, later_idx = 0, same, end;
	const char *why = NULL;
	struct wal_rec r;
	uint8_t *data;
	int ret;

	wal_name_open(name, first);
	ret = storage_path(path, wal->dir, name);
	if (!ret)
		ret = storage_read_file(&wal->fs, path, &data, &size);
	if (!ret)
		ret = ops->open(wal->fs.ctx, path, TRUTH_FS_RDWR, &wal->fd);
	if (ret)
		return storage_err(err, ret, "%s: open: %s", path,
				   strerror(-ret));
	wal->open_first = first;
	wal->n_open = 0;
	if (size < TRUTH_WAL_SEG_HDR)
		why = "file shorter than its header";
	else
		why = wal_seg_header_check(data, first, &hfirst);
	if (why) {
		/* written and synced before it was named: never torn */
		free(data);
		return storage_err(err, -EIO, "%s: offset 0: %s: corrupt "
				   "log, refusing to start", path, why);
	}
	for (off = TRUTH_WAL_SEG_HDR, idx = first;; idx++, off += r.size) {
		if (off >= size || all_zero(data + off, size - off))
			break;	/* the clean end: pre-allocated zeros */
		why = wal_rec_next(data + off, size - off, idx, sc, &r);
		if (why)
			break;
		ret = wal_open_push(wal, off, r.e.term);
		if (ret) {
			free(data);
			return storage_err(err, ret, "out of memory");
		}
	}
	wal->tail = off;
	if (!why) {
		free(data);
		return 0;
	}
	later = wal_find_later_batch(data, size, off, idx, &same, &later_idx);
	for (end = size; end > off && !data[end - 1]; end--)
		;
	free(data);
	if (later)
		return storage_err(err, -EIO, "%s: offset %" PRIu64 ": %s "
				   "(index %" PRIu64 "), but index %" PRIu64
				   " at offset %" PRIu64 " was written after "
				   "it had been synced: corrupt log, refusing "
				   "to start", path, off, why, idx, later_idx,
				   later);
	storage_log(wal->log, wal->log_ctx, TRUTH_STORAGE_WARN,
		    "wal: %s: torn tail at offset %" PRIu64 " (index %" PRIu64
		    "): %s; truncating %" PRIu64 " bytes, %" PRIu64
		    " later record(s) of the same unsynced batch dropped",
		    path, off, idx, why, end - off, same);
	wal->st.recovered_tail_bytes = end - off;
	return wal_open_cut(wal, wal->n_open, err);
}

static int wal_remove(struct truth_wal *wal, const char *name, const char *why)
{
	char path[TRUTH_PATH_MAX];
	int ret;

	ret = storage_path(path, wal->dir, name);
	if (!ret)
		ret = wal->fs.ops->unlink(wal->fs.ctx, path);
	if (!ret)
		storage_log(wal->log, wal->log_ctx, TRUTH_STORAGE_INFO,
			    "wal: removed %s (%s)", path, why);
	return ret;
}

/* leftovers and segments a snapshot covers go before anything is read */
static int wal_sweep(struct truth_wal *wal, struct wal_dir *d,
		     uint64_t snap_index, char *err)
{
	bool removed = false;
	size_t i, keep = 0;
	int ret;

	for (i = 0; i < d->n_tmp; i++) {
		ret = wal_remove(wal, d->tmp[i], "unfinished segment");
		if (ret)
			return storage_err(err, ret, "%s/%s: unlink: %s",
					   wal->dir, d->tmp[i], strerror(-ret));
		removed = true;
	}
	for (i = 0; i < d->n_closed; i++) {
		if (d->closed[i].last > snap_index) {
			d->closed[keep++] = d->closed[i];
			continue;
		}
		ret = wal_remove(wal, d->closed[i].name, "covered by snapshot");
		if (ret)
			return storage_err(err, ret, "%s/%s: unlink: %s",
					   wal->dir, d->closed[i].name,
					   strerror(-ret));
		removed = true;
	}
	d->n_closed = keep;
	ret = removed ? wal->fs.ops->fsync_dir(wal->fs.ctx, wal->dir) : 0;
	return ret ? storage_err(err, ret, "%s: fsync: %s", wal->dir,
				 strerror(-ret)) : 0;
}

/* the segments must follow each other with no gap and no overlap */
static int wal_check_sequence(struct truth_wal *wal, struct wal_dir *d,
			      char *err)
{
	struct wal_seg *s, *p;
	char name[WAL_NAME_LEN];
	size_t i;

	if (d->n_open > 1)
		return storage_err(err, -EIO, "%s: more than one open segment "
				   "(open-%016" PRIx64 ".seg and open-%016"
				   PRIx64 ".seg)", wal->dir, d->open_first[0],
				   d->open_first[1]);
	for (i = 0; i < d->n_closed; i++) {
		s = &d->closed[i];
		if (s->last < s->first)
			return storage_err(err, -EIO, "%s/%s: offset 0: name "
					   "says last index below first",
					   wal->dir, s->name);
		if (!i)
			continue;
		p = &d->closed[i - 1];
		if (s->first != p->last + 1)
			return storage_err(err, s->first > p->last ? -ENOENT : -EIO,
					   "%s/%s: offset 0: previous segment %s "
					   "ends at index %" PRIu64 ": %s; "
					   "refusing to start", wal->dir,
					   s->name, p->name, p->last,
					   s->first > p->last ?
					   "segment missing" : "overlap");
	}
	if (d->n_open && d->n_closed &&
	    d->open_first[0] != d->closed[d->n_closed - 1].last + 1) {
		wal_name_open(name, d->open_first[0]);
		p = &d->closed[d->n_closed - 1];
		return storage_err(err, d->open_first[0] > p->last ? -ENOENT : -EIO,
				   "%s/%s: offset 0: previous segment %s ends "
				   "at index %" PRIu64 ": %s; refusing to start",
				   wal->dir, name, p->name, p->last,
				   d->open_first[0] > p->last ?
				   "segment missing" : "overlap");
	}
	return 0;
}

/* the log against the snapshot it continues (Figure 13, step 6 and 7) */
static int wal_reconcile(struct truth_wal *wal, uint64_t snap_index,
			 uint64_t snap_term, const struct wal_scan *sc,
			 char *err)
{
	uint64_t first = wal->first_index, last = wal->last_index;
	char name[WAL_NAME_LEN];

	if (last < first) {
		/* empty log: it goes on right after the snapshot */
		if (first == snap_index + 1)
			return 0;
		if (first > snap_index + 1)
			goto gap;
		return wal_reset(wal, snap_index + 1, err);
	}
	if (first > snap_index + 1)
		goto gap;
	if (last < snap_index) {
		storage_log(wal->log, wal->log_ctx, TRUTH_STORAGE_INFO,
			    "wal: log %" PRIu64 "..%" PRIu64 " is older than "
			    "snapshot %" PRIu64 "; dropped", first, last,
			    snap_index);
		return wal_reset(wal, snap_index + 1, err);
	}
	if (snap_index >= first && sc->snap_term != snap_term) {
		storage_log(wal->log, wal->log_ctx, TRUTH_STORAGE_WARN,
			    "wal: entry %" PRIu64 " has term %" PRIu64
			    " but the snapshot has term %" PRIu64
			    "; log %" PRIu64 "..%" PRIu64 " dropped",
			    snap_index, sc->snap_term, snap_term, first, last);
		return wal_reset(wal, snap_index + 1, err);
	}
	return 0;
gap:
	if (wal->n_closed)
		snprintf(name, sizeof(name), "%s", wal->closed[0].name);
	else
		wal_name_open(name, wal->open_first);
	return storage_err(err, -ENOENT, "%s/%s: offset 0: log starts at "
			   "index %" PRIu64 " but %s %" PRIu64 ": entries %"
			   PRIu64 "..%" PRIu64 " missing; refusing to start",
			   wal->dir, name, first, snap_index ?
			   "the snapshot ends at" : "there is no snapshot, "
			   "so it must start at", snap_index + !snap_index,
			   snap_index + 1, first - 1);
}

static int wal_load(struct truth_wal *wal, uint64_t snap_index,
		    uint64_t snap_term, char *err)
{
	struct wal_dir d = { 0 };
	struct wal_scan sc = { .snap_index = snap_index };
	size_t i;
	int ret;

	ret = wal->fs.ops->list(wal->fs.ctx, wal->dir, wal_dir_add, &d);
	if (ret || d.ret) {
		ret = ret ? ret : d.ret;
		storage_err(err, ret, "%s: list: %s", wal->dir, strerror(-ret));
		goto out;
	}
	if (d.n_closed)
		qsort(d.closed, d.n_closed, sizeof(*d.closed), seg_cmp);
	ret = wal_sweep(wal, &d, snap_index, err);
	if (!ret)
		ret = wal_check_sequence(wal, &d, err);
	for (i = 0; !ret && i < d.n_closed; i++)
		ret = wal_check_closed(wal, &d.closed[i], &sc, err);
	if (ret)
		goto out;
	wal->closed = d.closed;
	wal->n_closed = d.n_closed;
	d.closed = NULL;
	if (d.n_open)
		ret = wal_recover_open(wal, d.open_first[0], &sc, err);
	if (ret)
		goto out;
	if (wal->fd >= 0) {
		wal->first_index = wal->n_closed ? wal->closed[0].first :
						   wal->open_first;
		wal->last_index = wal->open_first + wal->n_open - 1;
	} else if (wal->n_closed) {
		wal->first_index = wal->closed[0].first;
		wal->last_index = wal->closed[wal->n_closed - 1].last;
	} else {
		wal->first_index = snap_index + 1;
		wal->last_index = snap_index;
	}
	wal->last_term = sc.prev_term;
	wal->durable_index = wal->last_index;
	ret = wal_reconcile(wal, snap_index, snap_term, &sc, err);
	if (!ret && wal->fd < 0)
		ret = wal_open_create(wal, wal->last_index + 1, err);
	if (!ret && wal->fd >= 0)
		wal->first_index = wal->n_closed ? wal->closed[0].first :
						   wal->open_first;
out:
	free(d.closed);
	free(d.tmp);
	return ret;
}

int truth_wal_open(struct truth_wal **walp, const struct truth_wal_options *opt,
		   uint64_t snap_index, uint64_t snap_term, char *err)
{
	struct truth_wal *wal;
	int ret;

	*walp = NULL;
	if (!opt || !opt->dir)
		return storage_err(err, -EINVAL, "no data directory");
	if (opt->segment_size && opt->segment_size < 4 * TRUTH_WAL_REC_HDR)
		return storage_err(err, -EINVAL, "segment size %" PRIu64
				   " too small", opt->segment_size);
	wal = calloc(1, sizeof(*wal));
	if (!wal)
		return storage_err(err, -ENOMEM, "out of memory");
	wal->fs = *storage_fs(opt->fs);
	wal->fd = -1;
	wal->seg_size = opt->segment_size ? opt->segment_size :
					    TRUTH_WAL_SEGMENT_SIZE;
	wal->log = opt->log;
	wal->log_ctx = opt->log_ctx;
	if (snprintf(wal->dir, sizeof(wal->dir), "%s", opt->dir) >=
	    (int)sizeof(wal->dir) - WAL_NAME_LEN) {
		free(wal);
		return storage_err(err, -ENAMETOOLONG, "data directory name "
				   "too long");
	}
	ret = wal_load(wal, snap_index, snap_term, err);
	if (ret) {
		storage_log(wal->log, wal->log_ctx, TRUTH_STORAGE_ERR, "wal: %s",
			    err ? err : "open failed");
		truth_wal_close(wal);
		return ret;
	}
	*walp = wal;
	return 0;
}
