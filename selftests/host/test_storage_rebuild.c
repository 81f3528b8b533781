// SPDX-License-Identifier: GPL-2.0
/*
 * truthd --rebuild's storage part (agent/storage/rebuild.c) in a mkdtemp
 * directory: the storage's files move into rebuild-<time>/ unchanged and
 * nothing else does; the term and vote stay only when both slots read
 * back; the marker round-trips, a damaged one reads as "rebuilding, term
 * lost", an interrupted rebuild that lost the term keeps it lost.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <storage/storage.h>

#include "kselftest_harness.h"

static void put(const char *dir, const char *name, const char *text)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static bool has(const char *dir, const char *name)
{
	char p[1200];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return access(p, F_OK) == 0;
}

static void rm_rf(const char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		perror(cmd);
}

/* a data directory with a term and vote saved, a log and a snapshot */
static void populate(const char *dir)
{
	char err[TRUTH_STORAGE_ERRLEN];
	struct truth_meta_store *ms;
	struct truth_meta m = { 0 };

	if (!truth_meta_open(&ms, NULL, dir, NULL, NULL, &m, err)) {
		m.term = 7;
		m.vote = 2;
		truth_meta_save(ms, &m, err);
		m.term = 8;
		m.vote = 3;
		truth_meta_save(ms, &m, err);
		truth_meta_close(ms);
	}
	put(dir, "wal-0000000000000001-0000000000000010.seg", "closed segment");
	put(dir, "open-0000000000000011.seg", "open segment");
	put(dir, "snap-0000000000000005-0000000000000001.snap", "snapshot");
	put(dir, "LOCK", "");
	put(dir, "clockbound", "clock page");
}

FIXTURE(dir) {
	char path[64];
};

FIXTURE_SETUP(dir)
{
	strcpy(self->path, "/tmp/truth-rebuild-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->path));
	populate(self->path);
}

FIXTURE_TEARDOWN(dir)
{
	rm_rf(self->path);
}

TEST_F(dir, moves_the_log_keeps_the_rest)
{
	char err[TRUTH_STORAGE_ERRLEN] = "", aside[512];
	struct truth_rebuild_marker mk, rd;
	struct truth_meta_store *ms;
	struct truth_meta m;
	unsigned moved = 0;
	bool present;

	ASSERT_EQ(0, truth_rebuild_prepare(self->path, &mk, &moved, err)) TH_LOG("%s", err);
	EXPECT_EQ(3, moved);
	EXPECT_FALSE(mk.term_lost);
	EXPECT_EQ(0, strncmp(mk.moved_to, "rebuild-", 8));
	snprintf(aside, sizeof(aside), "%s/%s", self->path, mk.moved_to);
	EXPECT_TRUE(has(aside, "wal-0000000000000001-0000000000000010.seg"));
	EXPECT_TRUE(has(aside, "open-0000000000000011.seg"));
	EXPECT_TRUE(has(aside, "snap-0000000000000005-0000000000000001.snap"));
	EXPECT_FALSE(has(self->path, "open-0000000000000011.seg"));
	/* what must survive stayed */
	EXPECT_TRUE(has(self->path, "LOCK"));
	EXPECT_TRUE(has(self->path, "clockbound"));
	ASSERT_EQ(0, truth_meta_open(&ms, NULL, self->path, NULL, NULL, &m, err));
	EXPECT_EQ(8, m.term);
	EXPECT_EQ(3, m.vote);
	truth_meta_close(ms);
	/* the marker is there and says what happened */
	ASSERT_EQ(0, truth_rebuild_marker_read(NULL, self->path, &present, &rd,
					       NULL, NULL, err));
	EXPECT_TRUE(present);
	EXPECT_FALSE(rd.term_lost);
	EXPECT_STREQ(mk.moved_to, rd.moved_to);
	EXPECT_EQ(mk.started, rd.started);
	ASSERT_EQ(0, truth_rebuild_marker_clear(NULL, self->path, err));
	ASSERT_EQ(0, truth_rebuild_marker_read(NULL, self->path, &present, &rd,
					       NULL, NULL, err));
	EXPECT_FALSE(present);
}

TEST_F(dir, damaged_vote_slot_moves_the_term_too)
{
	char err[TRUTH_STORAGE_ERRLEN] = "", p[512], aside[512];
	struct truth_rebuild_marker mk;
	unsigned moved = 0;
	int fd;

	/* bit rot in one slot: it may have held the newest vote */
	snprintf(p, sizeof(p), "%s/meta-1", self->path);
	fd = open(p, O_WRONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(1, pwrite(fd, "\xff", 1, 30));
	close(fd);
	ASSERT_EQ(0, truth_rebuild_prepare(self->path, &mk, &moved, err)) TH_LOG("%s", err);
	EXPECT_TRUE(mk.term_lost);
	EXPECT_EQ(5, moved);
	snprintf(aside, sizeof(aside), "%s/%s", self->path, mk.moved_to);
	EXPECT_TRUE(has(aside, "meta-0"));
	EXPECT_TRUE(has(aside, "meta-1"));
	EXPECT_FALSE(has(self->path, "meta-0"));
}

TEST_F(dir, wiped_directory_and_interrupted_rebuild)
{
	char err[TRUTH_STORAGE_ERRLEN] = "";
	struct truth_rebuild_marker mk;
	unsigned moved = 0;

	rm_rf(self->path);
	ASSERT_EQ(0, mkdir(self->path, 0700));
	ASSERT_EQ(0, truth_rebuild_prepare(self->path, &mk, &moved, err)) TH_LOG("%s", err);
	EXPECT_TRUE(mk.term_lost);
	EXPECT_EQ(0, moved);
	/* the daemon ran, wrote a new term and vote, and was stopped: a
	 * second --rebuild must still treat the term as lost */
	populate(self->path);
	sleep(1);
	ASSERT_EQ(0, truth_rebuild_prepare(self->path, &mk, &moved, err)) TH_LOG("%s", err);
	EXPECT_TRUE(mk.term_lost);
}

TEST_F(dir, damaged_marker_reads_as_term_lost)
{
	char err[TRUTH_STORAGE_ERRLEN] = "";
	struct truth_rebuild_marker mk = { .term_lost = false, .started = 1,
					   .moved_to = "rebuild-x" }, rd;
	bool present;

	ASSERT_EQ(0, truth_rebuild_marker_write(NULL, self->path, &mk, err));
	ASSERT_EQ(0, truth_rebuild_marker_read(NULL, self->path, &present, &rd,
					       NULL, NULL, err));
	EXPECT_TRUE(present);
	EXPECT_FALSE(rd.term_lost);
	/* one flipped character: term_lost=0 -> term_lost=1 fails the CRC, and
	 * so would any other */
	put(self->path, TRUTH_REBUILD_MARKER, "TRUTH-REBUILD 1\nterm_lost=0\nmoved_to=rebuild-x\nstarted=2\ncrc32c=00000000\n");
	ASSERT_EQ(0, truth_rebuild_marker_read(NULL, self->path, &present, &rd,
					       NULL, NULL, err));
	EXPECT_TRUE(present);
	EXPECT_TRUE(rd.term_lost);
	put(self->path, TRUTH_REBUILD_MARKER, "");
	ASSERT_EQ(0, truth_rebuild_marker_read(NULL, self->path, &present, &rd,
					       NULL, NULL, err));
	EXPECT_TRUE(present);
	EXPECT_TRUE(rd.term_lost);
}

TEST_HARNESS_MAIN
