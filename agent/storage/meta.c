// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * truth storage: current term and vote (Raft Figure 2, "persistent state").
 *
 * Two alternating files, meta-0 and meta-1, each holding one 48-byte record
 * with a sequence number and a CRC32C.  Record seq goes to meta-(seq % 2),
 * so a save overwrites the older record and never the newest one: a crash
 * at any instant leaves the newest complete record readable, and the one
 * being written is either complete (new value) or fails its CRC (old value
 * from the other file).  Why not write-fsync-rename-fsync(dir): that costs
 * two syncs and a directory update per vote, during an election when
 * latency counts; here it is one pwrite and one fdatasync to a file that
 * already exists, with no namespace change at all.
 *
 * Record (little-endian):
 *	0   8  magic "TRUTHMET"
 *	8   4  version (1)
 *	12  4  reserved, 0
 *	16  8  sequence number, >= 1, even in meta-0 and odd in meta-1
 *	24  8  term
 *	32  4  vote (node id, 0 = none)
 *	36  8  reserved, 0
 *	44  4  CRC32C of bytes 0..43
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "storage_int.h"

struct truth_meta_store {
	struct truth_fs fs;		/* file layer */
	char path[2][TRUTH_PATH_MAX];	/* meta-0, meta-1 */
	int fd[2];			/* open on each, -1 = none */
	uint64_t seq;			/* sequence of the newest record, 0 = none */
	struct truth_meta cur;		/* its value */
	int failed;			/* -errno once a save failed */
};

static void meta_encode(uint8_t *p, uint64_t seq, const struct truth_meta *m)
{
	memset(p, 0, TRUTH_META_SIZE);
	memcpy(p, TRUTH_META_MAGIC, 8);
	put_le32(p + 8, TRUTH_META_VERSION);
	put_le64(p + 16, seq);
	put_le64(p + 24, m->term);
	put_le32(p + 32, m->vote);
	put_le32(p + 44, truth_crc32c(0, p, 44));
}

/* NULL and the record if valid for that slot, else why not */
static const char *meta_decode(const uint8_t *p, int slot, uint64_t *seq,
			       struct truth_meta *m)
{
	if (get_le32(p + 44) != truth_crc32c(0, p, 44))
		return "CRC mismatch";
	if (memcmp(p, TRUTH_META_MAGIC, 8))
		return "bad magic";
	if (get_le32(p + 8) != TRUTH_META_VERSION)
		return "unknown format version";
	if (get_le32(p + 12) || get_le64(p + 36))
		return "reserved bytes not zero";
	*seq = get_le64(p + 16);
	if (!*seq || (int)(*seq % 2) != slot)
		return "sequence number does not belong in this file";
	m->term = get_le64(p + 24);
	m->vote = get_le32(p + 32);
	return NULL;
}

enum meta_slot_state { SLOT_EMPTY, SLOT_VALID, SLOT_BAD };

/* read one slot, creating the file if it is missing */
static enum meta_slot_state meta_read_slot(struct truth_meta_store *ms, int slot,
					   uint64_t *seq, struct truth_meta *m,
					   const char **why, int *ret)
{
	uint8_t buf[TRUTH_META_SIZE];
	uint64_t size;

	*ret = ms->fs.ops->open(ms->fs.ctx, ms->path[slot],
				TRUTH_FS_RDWR | TRUTH_FS_CREATE, &ms->fd[slot]);
	if (!*ret)
		*ret = ms->fs.ops->size(ms->fs.ctx, ms->fd[slot], &size);
	if (*ret)
		return SLOT_BAD;
	if (size == 0)
		return SLOT_EMPTY;
	if (size < TRUTH_META_SIZE) {
		*why = "file shorter than a record";
		return SLOT_BAD;
	}
	*ret = storage_pread_full(&ms->fs, ms->fd[slot], buf, sizeof(buf), 0);
	if (*ret)
		return SLOT_BAD;
	*why = meta_decode(buf, slot, seq, m);
	return *why ? SLOT_BAD : SLOT_VALID;
}

int truth_meta_open(struct truth_meta_store **msp, const struct truth_fs *fs,
		    const char *dir, truth_storage_log_fn log, void *log_ctx,
		    struct truth_meta *out, char *err)
{
	struct truth_meta_store *ms;
	enum meta_slot_state st[2];
	const char *why[2] = { NULL, NULL };
	struct truth_meta m[2] = { { 0 } };
	uint64_t seq[2] = { 0, 0 };
	int ret[2] = { 0, 0 }, i, best, rc;

	*msp = NULL;
	ms = calloc(1, sizeof(*ms));
	if (!ms)
		return storage_err(err, -ENOMEM, "out of memory");
	ms->fs = *storage_fs(fs);
	ms->fd[0] = ms->fd[1] = -1;
	for (i = 0; i < 2; i++) {
		char name[8];

		snprintf(name, sizeof(name), "meta-%d", i);
		rc = storage_path(ms->path[i], dir, name);
		if (rc) {
			truth_meta_close(ms);
			return storage_err(err, rc, "%s: name too long", dir);
		}
		st[i] = meta_read_slot(ms, i, &seq[i], &m[i], &why[i], &ret[i]);
		if (ret[i]) {
			storage_err(err, ret[i], "%s: %s", ms->path[i],
				    strerror(-ret[i]));
			truth_meta_close(ms);
			return ret[i];
		}
	}
	if (st[0] == SLOT_BAD && st[1] == SLOT_BAD) {
		storage_err(err, -EIO, "%s: offset 0: %s, and %s: offset 0: "
			    "%s: term and vote lost, refusing to start",
			    ms->path[0], why[0], ms->path[1], why[1]);
		truth_meta_close(ms);
		return -EIO;
	}
	for (i = 0; i < 2; i++)
		if (st[i] == SLOT_BAD)
			/* the save that was in flight when the machine died */
			storage_log(log, log_ctx, TRUTH_STORAGE_WARN,
				    "meta: %s: offset 0: %s; using %s",
				    ms->path[i], why[i], ms->path[!i]);
	best = -1;
	for (i = 0; i < 2; i++)
		if (st[i] == SLOT_VALID && (best < 0 || seq[i] > seq[best]))
			best = i;
	if (best >= 0) {
		ms->seq = seq[best];
		ms->cur = m[best];
	}
	/* both names durable before a save relies on them */
	rc = ms->fs.ops->fsync_dir(ms->fs.ctx, dir);
	if (rc) {
		truth_meta_close(ms);
		return storage_err(err, rc, "%s: fsync: %s", dir,
				   strerror(-rc));
	}
	if (out)
		*out = ms->cur;
	*msp = ms;
	return 0;
}

int truth_meta_save(struct truth_meta_store *ms, const struct truth_meta *m,
		    char *err)
{
	uint8_t buf[TRUTH_META_SIZE];
	uint64_t seq = ms->seq + 1;
	int slot = (int)(seq % 2), ret;

	if (ms->failed)
		return storage_err(err, -EIO, "metadata save failed earlier; "
				   "reopen to recover");
	if (m->term < ms->cur.term)
		return storage_err(err, -EINVAL, "term %" PRIu64 " below the "
				   "stored term %" PRIu64, m->term, ms->cur.term);
	if (m->term == ms->cur.term && ms->cur.vote && m->vote != ms->cur.vote)
		return storage_err(err, -EINVAL, "already voted for %" PRIu32
				   " in term %" PRIu64, ms->cur.vote, m->term);
	meta_encode(buf, seq, m);
	ret = ms->fs.ops->pwrite(ms->fs.ctx, ms->fd[slot], buf, sizeof(buf), 0);
	if (!ret)
		ret = ms->fs.ops->fdatasync(ms->fs.ctx, ms->fd[slot]);
	if (ret) {
		ms->failed = ret;
		return storage_err(err, ret, "%s: save: %s", ms->path[slot],
				   strerror(-ret));
	}
	ms->seq = seq;
	ms->cur = *m;
	return 0;
}

void truth_meta_get(const struct truth_meta_store *ms, struct truth_meta *out)
{
	*out = ms->cur;
}

void truth_meta_close(struct truth_meta_store *ms)
{
	int i;

	if (!ms)
		return;
	for (i = 0; i < 2; i++)
		if (ms->fd[i] >= 0)
			ms->fs.ops->close(ms->fs.ctx, ms->fd[i]);
	free(ms);
}
