// SPDX-License-Identifier: GPL-2.0
/*
 * The WAL's split sync (truth_wal_sync_begin/_end), what truthd's sync
 * thread uses: appends go on while a sync runs; the sync makes exactly
 * what it covered durable; a truncation while it runs voids it; records
 * written meanwhile keep a batch field recovery accepts; a reopened log
 * holds everything; the in-memory file layer is refused.  Real files in a
 * temp dir (the split needs POSIX descriptors).
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <storage/storage.h>

#include "kselftest_harness.h"

static void quiet(void *ctx, enum truth_storage_level l, const char *msg)
{
}

static int append(struct truth_wal *w, uint64_t index, uint64_t term)
{
	char err[TRUTH_STORAGE_ERRLEN], data[32];
	struct truth_wal_entry e = { .index = index, .term = term, .len = sizeof(data),
				     .data = data };

	memset(data, (int)index, sizeof(data));
	return truth_wal_append(w, &e, 1, err);
}

static int count(void *ctx, const struct truth_wal_entry *e)
{
	uint64_t *n = ctx;

	(*n)++;
	return 0;
}

FIXTURE(split) {
	char dir[64];
	struct truth_wal *w;
	struct truth_wal_options o;
};

FIXTURE_SETUP(split)
{
	char err[TRUTH_STORAGE_ERRLEN];

	strcpy(self->dir, "/tmp/truth-wal-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	memset(&self->o, 0, sizeof(self->o));
	self->o.dir = self->dir;
	self->o.log = quiet;
	self->o.segment_size = 4096;	/* small: rollovers happen */
	ASSERT_EQ(0, truth_wal_open(&self->w, &self->o, 0, 0, err)) TH_LOG("%s", err);
}

FIXTURE_TEARDOWN(split)
{
	char cmd[128];

	if (self->w)
		truth_wal_close(self->w);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", self->dir);
	ASSERT_EQ(0, system(cmd));
}

TEST_F(split, sync_covers_what_was_there)
{
	char err[TRUTH_STORAGE_ERRLEN];
	uint64_t upto, gen, i;
	int fd;

	for (i = 1; i <= 5; i++)
		ASSERT_EQ(0, append(self->w, i, 1));
	ASSERT_EQ(0, truth_wal_sync_begin(self->w, &fd, &upto, &gen, err));
	ASSERT_GE(fd, 0);
	EXPECT_EQ(5, upto);
	/* the loop goes on appending while "the thread" syncs */
	for (i = 6; i <= 8; i++)
		ASSERT_EQ(0, append(self->w, i, 1));
	ASSERT_EQ(0, fdatasync(fd));
	close(fd);
	EXPECT_EQ(0, truth_wal_durable_index(self->w));
	ASSERT_EQ(0, truth_wal_sync_end(self->w, upto, gen, 0, err));
	EXPECT_EQ(5, truth_wal_durable_index(self->w));	/* not 8 */
	/* nothing pending after a full sync: fd -1 */
	ASSERT_EQ(0, truth_wal_sync_begin(self->w, &fd, &upto, &gen, err));
	ASSERT_GE(fd, 0);
	EXPECT_EQ(8, upto);
	ASSERT_EQ(0, fdatasync(fd));
	close(fd);
	ASSERT_EQ(0, truth_wal_sync_end(self->w, upto, gen, 0, err));
	EXPECT_EQ(8, truth_wal_durable_index(self->w));
	ASSERT_EQ(0, truth_wal_sync_begin(self->w, &fd, &upto, &gen, err));
	EXPECT_EQ(-1, fd);
}

TEST_F(split, truncation_voids_a_running_sync)
{
	char err[TRUTH_STORAGE_ERRLEN];
	uint64_t upto, gen, i;
	int fd;

	for (i = 1; i <= 5; i++)
		ASSERT_EQ(0, append(self->w, i, 1));
	ASSERT_EQ(0, truth_wal_sync_begin(self->w, &fd, &upto, &gen, err));
	/* a new leader overwrites 4 and 5 (Figure 2, receiver step 3) */
	ASSERT_EQ(0, append(self->w, 4, 2));
	ASSERT_EQ(0, fdatasync(fd));
	close(fd);
	/* the cut made 1..3 durable itself; the old sync must not claim 4 */
	EXPECT_EQ(3, truth_wal_durable_index(self->w));
	ASSERT_EQ(0, truth_wal_sync_end(self->w, upto, gen, 0, err));
	EXPECT_EQ(3, truth_wal_durable_index(self->w));
}

TEST_F(split, failed_sync_is_fail_stop)
{
	char err[TRUTH_STORAGE_ERRLEN];
	uint64_t upto, gen;
	int fd;

	ASSERT_EQ(0, append(self->w, 1, 1));
	ASSERT_EQ(0, truth_wal_sync_begin(self->w, &fd, &upto, &gen, err));
	close(fd);
	EXPECT_EQ(-EIO, truth_wal_sync_end(self->w, upto, gen, -EIO, err));
	EXPECT_NE(NULL, strstr(err, "fdatasync"));
	EXPECT_NE(0, append(self->w, 2, 1));	/* the log refuses from now on */
}

TEST_F(split, reopen_after_rollovers_and_interleaved_syncs)
{
	char err[TRUTH_STORAGE_ERRLEN];
	uint64_t upto, gen, i, n = 0;
	int fd = -1;

	/* 32-byte entries in 4 KiB segments: several rollovers */
	for (i = 1; i <= 300; i++) {
		ASSERT_EQ(0, append(self->w, i, 1));
		if (i % 7 == 0) {
			if (fd >= 0) {
				ASSERT_EQ(0, fdatasync(fd));
				close(fd);
				ASSERT_EQ(0, truth_wal_sync_end(self->w, upto, gen, 0, err));
			}
			ASSERT_EQ(0, truth_wal_sync_begin(self->w, &fd, &upto, &gen, err));
		}
	}
	if (fd >= 0) {
		ASSERT_EQ(0, fdatasync(fd));
		close(fd);
		ASSERT_EQ(0, truth_wal_sync_end(self->w, upto, gen, 0, err));
	}
	EXPECT_GE(truth_wal_durable_index(self->w), 294);
	truth_wal_close(self->w);
	self->w = NULL;
	ASSERT_EQ(0, truth_wal_open(&self->w, &self->o, 0, 0, err)) TH_LOG("%s", err);
	EXPECT_EQ(300, truth_wal_last_index(self->w));
	ASSERT_EQ(0, truth_wal_iterate(self->w, 1, count, &n, err));
	EXPECT_EQ(300, n);
}

TEST(memfs_refused)
{
	struct truth_memfs *m = truth_memfs_new();
	struct truth_fs fs = truth_memfs_fs(m);
	struct truth_wal_options o = { .fs = &fs, .dir = "/d", .log = quiet };
	char err[TRUTH_STORAGE_ERRLEN];
	struct truth_wal *w;
	uint64_t upto, gen;
	int fd;

	ASSERT_EQ(0, truth_wal_open(&w, &o, 0, 0, err)) TH_LOG("%s", err);
	ASSERT_EQ(0, append(w, 1, 1));
	EXPECT_EQ(-EOPNOTSUPP, truth_wal_sync_begin(w, &fd, &upto, &gen, err));
	EXPECT_EQ(-1, fd);
	truth_wal_close(w);
	truth_memfs_free(m);
}

TEST_HARNESS_MAIN
