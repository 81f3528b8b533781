// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of snapshots (agent/storage/snap.c) on the in-memory disk:
 * save/load round trip; the newest is found and only TRUTH_SNAP_KEEP are
 * kept; a crash or torn write at every boundary of a save leaves the old
 * snapshot or the new one, whole; a flipped bit in any byte of a snapshot
 * file is detected (the file is skipped with a warning naming it and the
 * offset, the next older one is used); with the log compacted past the
 * older snapshot, truth_wal_open then refuses to start instead of running
 * with a hole.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <storage/storage.h>

#include "kselftest_harness.h"

#define DIR	"/d"

struct logcap {
	int n[3];		/* lines per level */
	char last[512];		/* last line */
};

static void cap_log(void *ctx, enum truth_storage_level level, const char *msg)
{
	struct logcap *c = ctx;

	c->n[level]++;
	snprintf(c->last, sizeof(c->last), "%s", msg);
}

FIXTURE(snap) {
	struct truth_memfs *m;
	struct truth_fs fs;
	struct logcap log;
	struct truth_snap got;
	bool found;
	char err[TRUTH_STORAGE_ERRLEN];
};

FIXTURE_SETUP(snap)
{
	self->m = truth_memfs_new();
	ASSERT_NE(NULL, self->m);
	self->fs = truth_memfs_fs(self->m);
}

FIXTURE_TEARDOWN(snap)
{
	truth_snap_free(&self->got);
	truth_memfs_free(self->m);
}

static void blob(uint8_t *buf, uint64_t index, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(index * 13 + i * 7);
}

static int save(FIXTURE_DATA(snap) *self, uint64_t index, uint64_t term)
{
	uint8_t conf[20], data[500];
	struct truth_snap s = { .index = index, .term = term,
				.conf_len = sizeof(conf), .conf = conf,
				.data_len = sizeof(data), .data = data };

	blob(conf, index + 100, sizeof(conf));
	blob(data, index, sizeof(data));
	return truth_snap_save(&self->fs, DIR, &s, self->err);
}

static int load(FIXTURE_DATA(snap) *self)
{
	truth_snap_free(&self->got);
	memset(&self->log, 0, sizeof(self->log));
	return truth_snap_load(&self->fs, DIR, cap_log, &self->log, &self->got,
			       &self->found, self->err);
}

/* the loaded snapshot is the one saved at index, whole */
static void expect_snap(struct __test_metadata *_metadata,
			FIXTURE_DATA(snap) *self, uint64_t index, uint64_t term)
{
	uint8_t conf[20], data[500];

	ASSERT_TRUE(self->found);
	ASSERT_EQ(index, self->got.index);
	ASSERT_EQ(term, self->got.term);
	ASSERT_EQ(sizeof(conf), self->got.conf_len);
	ASSERT_EQ(sizeof(data), self->got.data_len);
	blob(conf, index + 100, sizeof(conf));
	blob(data, index, sizeof(data));
	ASSERT_EQ(0, memcmp(conf, self->got.conf, sizeof(conf)));
	ASSERT_EQ(0, memcmp(data, self->got.data, sizeof(data)));
}

TEST_F(snap, none_then_round_trip_newest_wins_two_kept)
{
	ASSERT_EQ(0, load(self));
	EXPECT_FALSE(self->found);
	ASSERT_EQ(0, save(self, 10, 1)) TH_LOG("%s", self->err);
	ASSERT_EQ(0, save(self, 30, 2));
	ASSERT_EQ(0, save(self, 20, 2));	/* older index saved later */
	ASSERT_EQ(0, load(self));
	expect_snap(_metadata, self, 30, 2);
	/* snap-10 pruned: only the two newest remain */
	EXPECT_EQ(2, truth_memfs_count(self->m));
	truth_memfs_reboot(self->m, TRUTH_MEMFS_LOSE_UNSYNCED);
	ASSERT_EQ(0, load(self));
	expect_snap(_metadata, self, 30, 2);
}

TEST_F(snap, empty_blobs)
{
	struct truth_snap s = { .index = 5, .term = 1 };

	ASSERT_EQ(0, truth_snap_save(&self->fs, DIR, &s, self->err));
	ASSERT_EQ(0, load(self));
	ASSERT_TRUE(self->found);
	EXPECT_EQ(0, self->got.data_len);
	EXPECT_EQ(0, self->got.conf_len);
}

TEST_F(snap, crash_and_tear_at_every_boundary_of_a_save)
{
	uint64_t base, n, k, runs = 0;
	size_t keep[] = { 1, 30, 48, 60, 300, 560 }, j;
	int mode;

	ASSERT_EQ(0, save(self, 10, 1));
	base = truth_memfs_ops(self->m);
	ASSERT_EQ(0, save(self, 20, 2));
	n = truth_memfs_ops(self->m) - base;
	ASSERT_GT(n, 5);
	for (k = 1; k <= n; k++)
		for (mode = 0; mode < 2 + 6; mode++) {
			truth_snap_free(&self->got);
			truth_memfs_free(self->m);
			self->m = truth_memfs_new();
			self->fs = truth_memfs_fs(self->m);
			ASSERT_EQ(0, save(self, 10, 1));
			if (mode < 2) {
				truth_memfs_crash_at(self->m, base + k);
			} else {
				j = (size_t)mode - 2;
				truth_memfs_tear_at(self->m, base + k, keep[j]);
			}
			if (!save(self, 20, 2) && !truth_memfs_crashed(self->m))
				continue;	/* a tear at a non-pwrite */
			truth_memfs_reboot(self->m, mode == 1 ?
					   TRUTH_MEMFS_KEEP_UNSYNCED :
					   TRUTH_MEMFS_LOSE_UNSYNCED);
			ASSERT_EQ(0, load(self)) TH_LOG("%s", self->err);
			if (self->got.index == 20)
				expect_snap(_metadata, self, 20, 2);
			else
				expect_snap(_metadata, self, 10, 1);
			/* a complete file never fails its checks */
			ASSERT_EQ(0, self->log.n[TRUTH_STORAGE_WARN])
				TH_LOG("boundary %llu: %s",
				       (unsigned long long)k, self->log.last);
			runs++;
		}
	ksft_print_msg("%llu crashes and tears injected into a save\n",
		       (unsigned long long)runs);
}

TEST_F(snap, flip_every_byte_falls_back_to_older)
{
	char path[128];
	uint64_t size, pos;
	uint8_t *d;
	int bit;

	ASSERT_EQ(0, save(self, 10, 1));
	ASSERT_EQ(0, save(self, 20, 2));
	snprintf(path, sizeof(path), DIR "/snap-%016x-%016x.snap", 20, 2);
	ASSERT_EQ(0, truth_memfs_peek(self->m, path, &d, &size));
	ASSERT_EQ(48 + 20 + 500 + 4, size);
	for (pos = 0; pos < size; pos++)
		for (bit = 0; bit < 8; bit++) {
			d[pos] ^= (uint8_t)(1u << bit);
			ASSERT_EQ(0, load(self)) TH_LOG("%s", self->err);
			expect_snap(_metadata, self, 10, 1);
			ASSERT_EQ(1, self->log.n[TRUTH_STORAGE_WARN]);
			ASSERT_NE(NULL, strstr(self->log.last, path));
			ASSERT_NE(NULL, strstr(self->log.last,
					       pos < 48 ? "offset 0:" :
					       "offset 48:"))
				TH_LOG("%s", self->log.last);
			d[pos] ^= (uint8_t)(1u << bit);
		}
	ASSERT_EQ(0, load(self));
	expect_snap(_metadata, self, 20, 2);
}

TEST_F(snap, truncated_or_extended_file_is_rejected)
{
	char path[128];
	uint64_t size;
	uint8_t *d;
	int fd;

	ASSERT_EQ(0, save(self, 20, 2));
	snprintf(path, sizeof(path), DIR "/snap-%016x-%016x.snap", 20, 2);
	ASSERT_EQ(0, truth_memfs_peek(self->m, path, &d, &size));
	ASSERT_EQ(0, self->fs.ops->open(self->fs.ctx, path, TRUTH_FS_RDWR, &fd));
	ASSERT_EQ(0, self->fs.ops->truncate(self->fs.ctx, fd, size - 1));
	ASSERT_EQ(0, load(self));
	EXPECT_FALSE(self->found);
	EXPECT_EQ(1, self->log.n[TRUTH_STORAGE_WARN]);
	ASSERT_EQ(0, self->fs.ops->truncate(self->fs.ctx, fd, size + 1));
	ASSERT_EQ(0, load(self));
	EXPECT_FALSE(self->found);
	self->fs.ops->close(self->fs.ctx, fd);
}

TEST_F(snap, damaged_snapshot_after_compaction_refuses_to_start)
{
	struct truth_wal_options opt = { .fs = &self->fs, .dir = DIR,
					 .segment_size = 512, .log = cap_log,
					 .log_ctx = &self->log };
	struct truth_wal_entry e;
	struct truth_wal *wal;
	uint8_t payload[60] = { 0 }, *d;
	char path[128];
	uint64_t i, size;

	ASSERT_EQ(0, truth_wal_open(&wal, &opt, 0, 0, self->err));
	for (i = 1; i <= 60; i++) {
		e.index = i;
		e.term = 1;
		e.type = 0;
		e.len = sizeof(payload);
		e.data = payload;
		ASSERT_EQ(0, truth_wal_append_sync(wal, &e, 1, NULL, self->err));
	}
	ASSERT_EQ(0, save(self, 10, 1));
	ASSERT_EQ(0, truth_wal_compact(wal, 10, self->err));
	ASSERT_EQ(0, save(self, 50, 1));
	ASSERT_EQ(0, truth_wal_compact(wal, 50, self->err));
	truth_wal_close(wal);
	/* the newest snapshot rots: the older one is found, but the log
	 * no longer reaches back to it */
	snprintf(path, sizeof(path), DIR "/snap-%016x-%016x.snap", 50, 1);
	ASSERT_EQ(0, truth_memfs_peek(self->m, path, &d, &size));
	d[100] ^= 0x40;
	ASSERT_EQ(0, load(self));
	expect_snap(_metadata, self, 10, 1);
	ASSERT_EQ(-ENOENT, truth_wal_open(&wal, &opt, self->got.index,
					  self->got.term, self->err));
	EXPECT_NE(NULL, strstr(self->err, "missing")) TH_LOG("%s", self->err);
	EXPECT_NE(NULL, strstr(self->err, "refusing to start"));
	/* with the snapshot whole again, all is well */
	d[100] ^= 0x40;
	ASSERT_EQ(0, load(self));
	ASSERT_EQ(0, truth_wal_open(&wal, &opt, self->got.index,
				    self->got.term, self->err))
		TH_LOG("%s", self->err);
	EXPECT_EQ(60, truth_wal_last_index(wal));
	EXPECT_LE(truth_wal_first_index(wal), 51);
	truth_wal_close(wal);
}

TEST_F(snap, leftover_tmp_removed)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), DIR "/snap-%016x-%016x.tmp", 99, 9);
	ASSERT_EQ(0, self->fs.ops->open(self->fs.ctx, path, TRUTH_FS_RDWR |
					TRUTH_FS_CREATE, &fd));
	ASSERT_EQ(0, self->fs.ops->pwrite(self->fs.ctx, fd, "partial", 7, 0));
	self->fs.ops->close(self->fs.ctx, fd);
	ASSERT_EQ(0, save(self, 10, 1));
	ASSERT_EQ(0, load(self));
	expect_snap(_metadata, self, 10, 1);
	EXPECT_EQ(-ENOENT, self->fs.ops->open(self->fs.ctx, path,
					      TRUTH_FS_RDONLY, &fd));
}

TEST_HARNESS_MAIN
