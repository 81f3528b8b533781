// SPDX-License-Identifier: GPL-2.0
/*
 * The storage on a real filesystem (POSIX file layer), in a mkdtemp
 * directory under /tmp that each test removes again:
 *   - log, metadata and snapshot round trips across rollovers, truncation
 *     and compaction;
 *   - a child process appending and syncing is killed with SIGKILL at a
 *     random moment; every index it reported durable is there after
 *     reopen;
 *   - a torn tail written into the real file is cut and logged; a flipped
 *     bit before the tail refuses to start naming file and offset;
 *   - the open segment is pre-allocated with written zeros (no
 *     "unwritten" extents, so a sync never has to write the inode), after
 *     create, rollover and a torn-tail cut; the zero tail is the clean end;
 *   - group commit measured on this disk: entries per fdatasync and
 *     microseconds per sync, printed as "# " diagnostics (no assertion on
 *     time).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/fiemap.h>
#include <linux/fs.h>

#include <storage/storage.h>

#include "kselftest_harness.h"

struct logcap {
	int n[3];		/* lines per level */
	char last[512];		/* last warning or error */
};

static void cap_log(void *ctx, enum truth_storage_level level, const char *msg)
{
	struct logcap *c = ctx;

	c->n[level]++;
	if (level != TRUTH_STORAGE_INFO)
		snprintf(c->last, sizeof(c->last), "%s", msg);
}

FIXTURE(realfs) {
	char dir[64];
	struct truth_wal_options opt;
	struct truth_wal *wal;
	struct logcap log;
	char err[TRUTH_STORAGE_ERRLEN];
};

FIXTURE_SETUP(realfs)
{
	snprintf(self->dir, sizeof(self->dir), "/tmp/truth-storage-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	self->opt.dir = self->dir;
	self->opt.segment_size = 64 * 1024;
	self->opt.log = cap_log;
	self->opt.log_ctx = &self->log;
}

FIXTURE_TEARDOWN(realfs)
{
	struct dirent *de;
	char path[512];
	DIR *d;

	truth_wal_close(self->wal);
	d = opendir(self->dir);
	if (d) {
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", self->dir,
				 de->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(self->dir);
}

static void fill(uint8_t *buf, uint64_t index, uint32_t len)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(index * 17 + i);
}

/* append n entries of len bytes from first, one sync */
static int batch(struct truth_wal *wal, uint64_t first, size_t n, uint64_t term,
		 uint32_t len, char *err)
{
	static uint8_t bufs[256][1024];
	struct truth_wal_entry e[256];
	size_t i;

	for (i = 0; i < n && i < 256; i++) {
		fill(bufs[i], first + i, len);
		e[i].index = first + i;
		e[i].term = term;
		e[i].type = 0;
		e[i].len = len;
		e[i].data = bufs[i];
	}
	return truth_wal_append_sync(wal, e, i, NULL, err);
}

struct verify {
	uint64_t next;		/* index expected */
	int bad;		/* entries whose payload is wrong */
};

static int verify(void *ctx, const struct truth_wal_entry *e)
{
	struct verify *v = ctx;
	uint8_t buf[1024];

	if (e->index != v->next++ || e->len > sizeof(buf))
		return -1;
	fill(buf, e->index, e->len);
	if (memcmp(buf, e->data, e->len))
		v->bad++;
	return 0;
}

static int reopen(FIXTURE_DATA(realfs) *self, uint64_t si, uint64_t st)
{
	truth_wal_close(self->wal);
	self->wal = NULL;
	return truth_wal_open(&self->wal, &self->opt, si, st, self->err);
}

static char *seg_path(FIXTURE_DATA(realfs) *self, const char *prefix,
		      char *buf, size_t len)
{
	struct dirent *de;
	DIR *d = opendir(self->dir);

	buf[0] = '\0';
	while (d && (de = readdir(d)))
		if (!strncmp(de->d_name, prefix, strlen(prefix)))
			snprintf(buf, len, "%s/%s", self->dir, de->d_name);
	if (d)
		closedir(d);
	return buf;
}

TEST_F(realfs, log_meta_snapshot_round_trip)
{
	struct truth_meta_store *ms;
	struct truth_meta m = { .term = 3, .vote = 2 };
	struct truth_snap s = { .index = 1000, .term = 1, .conf_len = 3,
				.conf = "abc", .data_len = 5, .data = "hello" };
	struct truth_snap got;
	struct verify v = { 0 };
	bool found;
	uint64_t i;

	ASSERT_EQ(0, reopen(self, 0, 0)) TH_LOG("%s", self->err);
	for (i = 1; i <= 3000; i += 100)
		ASSERT_EQ(0, batch(self->wal, i, 100, 1 + i / 1000, 100,
				   self->err)) TH_LOG("%s", self->err);
	/* conflict inside a closed segment, then new entries */
	ASSERT_EQ(0, truth_wal_truncate_suffix(self->wal, 2500, self->err));
	ASSERT_EQ(0, batch(self->wal, 2500, 10, 4, 100, self->err));
	ASSERT_EQ(0, truth_meta_open(&ms, NULL, self->dir, cap_log, &self->log,
				     NULL, self->err));
	ASSERT_EQ(0, truth_meta_save(ms, &m, self->err));
	truth_meta_close(ms);
	ASSERT_EQ(0, truth_snap_save(NULL, self->dir, &s, self->err));
	ASSERT_EQ(0, truth_wal_compact(self->wal, 1000, self->err));
	ASSERT_EQ(0, reopen(self, 1000, 1)) TH_LOG("%s", self->err);
	EXPECT_EQ(2509, truth_wal_last_index(self->wal));
	EXPECT_LE(truth_wal_first_index(self->wal), 1001);
	EXPECT_GT(truth_wal_first_index(self->wal), 800);
	v.next = truth_wal_first_index(self->wal);
	ASSERT_EQ(0, truth_wal_iterate(self->wal, 0, verify, &v, self->err));
	EXPECT_EQ(2510, v.next);
	EXPECT_EQ(0, v.bad);
	EXPECT_EQ(0, self->log.n[TRUTH_STORAGE_WARN]);
	ASSERT_EQ(0, truth_meta_open(&ms, NULL, self->dir, NULL, NULL, &m,
				     self->err));
	EXPECT_EQ(3, m.term);
	EXPECT_EQ(2, m.vote);
	truth_meta_close(ms);
	ASSERT_EQ(0, truth_snap_load(NULL, self->dir, NULL, NULL, &got, &found,
				     self->err));
	ASSERT_TRUE(found);
	EXPECT_EQ(1000, got.index);
	EXPECT_EQ(0, memcmp(got.data, "hello", 5));
	truth_snap_free(&got);
}

TEST_F(realfs, kill_9_keeps_every_reported_durable_entry)
{
	int pipefd[2], status, round;
	uint64_t durable = 0, got;
	struct verify v;
	pid_t pid;
	ssize_t n;

	for (round = 0; round < 3; round++) {
		ASSERT_EQ(0, pipe(pipefd));
		pid = fork();
		ASSERT_GE(pid, 0);
		if (pid == 0) {
			struct truth_wal *wal;
			uint64_t next, d;

			close(pipefd[0]);
			if (truth_wal_open(&wal, &self->opt, 0, 0, self->err))
				_exit(2);
			next = truth_wal_last_index(wal) + 1;
			for (;;) {
				if (batch(wal, next, 1 + next % 37, 1 + round,
					  200, self->err))
					_exit(3);
				next = truth_wal_last_index(wal) + 1;
				d = truth_wal_durable_index(wal);
				if (write(pipefd[1], &d, sizeof(d)) != sizeof(d))
					_exit(4);
			}
		}
		close(pipefd[1]);
		/* once it is under way, let it run a little, then kill it
		 * in the middle of whatever it is doing */
		ASSERT_EQ(sizeof(got), read(pipefd[0], &got, sizeof(got)));
		durable = got;
		usleep(10000 + 17000 * round);
		kill(pid, SIGKILL);
		while ((n = read(pipefd[0], &got, sizeof(got))) == sizeof(got))
			durable = got;
		close(pipefd[0]);
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_TRUE(WIFSIGNALED(status)) TH_LOG("child exited %d",
							WEXITSTATUS(status));
		ASSERT_EQ(0, reopen(self, 0, 0)) TH_LOG("%s", self->err);
		ASSERT_GE(truth_wal_last_index(self->wal), durable);
		memset(&v, 0, sizeof(v));
		v.next = 1;
		ASSERT_EQ(0, truth_wal_iterate(self->wal, 0, verify, &v,
					       self->err));
		EXPECT_EQ(0, v.bad);
		ksft_print_msg("round %d: %llu durable when killed, %llu "
			       "after reopen\n", round,
			       (unsigned long long)durable,
			       (unsigned long long)truth_wal_last_index(self->wal));
		truth_wal_close(self->wal);
		self->wal = NULL;
	}
}

TEST_F(realfs, torn_tail_cut_and_mid_log_damage_refused)
{
	char path[512], want[64];
	uint8_t junk[100], byte;
	struct stat st;
	int fd;

	ASSERT_EQ(0, reopen(self, 0, 0));
	ASSERT_EQ(0, batch(self->wal, 1, 1, 1, 100, self->err));
	ASSERT_EQ(0, batch(self->wal, 2, 1, 1, 100, self->err));
	truth_wal_close(self->wal);
	self->wal = NULL;
	/* half a record after the last one: 40 + 104 bytes each from 32 */
	seg_path(self, "open-", path, sizeof(path));
	fd = open(path, O_RDWR);
	ASSERT_GE(fd, 0);
	memset(junk, 0x5a, sizeof(junk));
	ASSERT_EQ(60, pwrite(fd, junk, 60, 32 + 2 * 144));
	ASSERT_EQ(0, fsync(fd));
	ASSERT_EQ(0, reopen(self, 0, 0)) TH_LOG("%s", self->err);
	EXPECT_EQ(2, truth_wal_last_index(self->wal));
	EXPECT_EQ(1, self->log.n[TRUTH_STORAGE_WARN]);
	EXPECT_NE(NULL, strstr(self->log.last, "torn tail at offset 320"))
		TH_LOG("%s", self->log.last);
	/* the cut is on disk: the file reads zero there */
	ASSERT_EQ(1, pread(fd, &byte, 1, 32 + 2 * 144));
	EXPECT_EQ(0, byte);
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ(64 * 1024, st.st_size);
	/* a flipped payload bit in the first of two records */
	ASSERT_EQ(1, pread(fd, &byte, 1, 32 + 50));
	byte ^= 0x08;
	ASSERT_EQ(1, pwrite(fd, &byte, 1, 32 + 50));
	close(fd);
	ASSERT_EQ(-EIO, reopen(self, 0, 0));
	snprintf(want, sizeof(want), "offset 32:");
	EXPECT_NE(NULL, strstr(self->err, path)) TH_LOG("%s", self->err);
	EXPECT_NE(NULL, strstr(self->err, want)) TH_LOG("%s", self->err);
}

/*
 * FIEMAP of the open segment: 0 if [0, size) is mapped with no unwritten
 * extent, 1 if some extent is unwritten or a hole is left, -errno if the
 * filesystem cannot say.
 */
static int unwritten_or_hole(const char *path, uint64_t size)
{
	struct {
		struct fiemap fm;
		struct fiemap_extent ext[64];
	} q;
	uint64_t covered = 0;
	unsigned int i;
	int fd, ret = 0;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	memset(&q, 0, sizeof(q));
	q.fm.fm_length = size;
	q.fm.fm_flags = FIEMAP_FLAG_SYNC;
	q.fm.fm_extent_count = 64;
	if (ioctl(fd, FS_IOC_FIEMAP, &q.fm)) {
		ret = -errno;
		close(fd);
		return ret;
	}
	close(fd);
	for (i = 0; i < q.fm.fm_mapped_extents; i++) {
		const struct fiemap_extent *e = &q.ext[i];

		if (e->fe_flags & FIEMAP_EXTENT_UNWRITTEN || e->fe_logical != covered)
			ret = 1;
		covered = e->fe_logical + e->fe_length;
	}
	return ret ? ret : covered < size;
}

TEST_F(realfs, open_segment_preallocated_with_written_zeros)
{
	char path[512];
	uint64_t i;
	int ret;
	int fd;

	ASSERT_EQ(0, reopen(self, 0, 0)) TH_LOG("%s", self->err);
	seg_path(self, "open-", path, sizeof(path));
	ret = unwritten_or_hole(path, 64 * 1024);
	if (ret < 0)
		SKIP(return, "FIEMAP not supported on /tmp (%s)", strerror(-ret));
	EXPECT_EQ(0, ret) TH_LOG("new segment %s has unwritten extents or holes", path);
	/* past a rollover: 144 bytes per 100-byte record, 64 KiB segments */
	for (i = 1; i <= 600; i += 50)
		ASSERT_EQ(0, batch(self->wal, i, 50, 1, 100, self->err)) TH_LOG("%s", self->err);
	seg_path(self, "open-", path, sizeof(path));
	EXPECT_NE(NULL, strstr(path, "open-00000000000001c")) TH_LOG("%s", path);
	EXPECT_EQ(0, unwritten_or_hole(path, 64 * 1024)) TH_LOG("%s after rollover", path);
	/* the zero tail is the clean end: no warning, nothing lost */
	ASSERT_EQ(0, reopen(self, 0, 0)) TH_LOG("%s", self->err);
	EXPECT_EQ(600, truth_wal_last_index(self->wal));
	EXPECT_EQ(0, self->log.n[TRUTH_STORAGE_WARN]) TH_LOG("%s", self->log.last);
	/* a torn tail is cut and the rest of the segment zeroed again */
	truth_wal_close(self->wal);
	self->wal = NULL;
	fd = open(path, O_RDWR);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, ftruncate(fd, 32 * 1024));
	ASSERT_EQ(7, pwrite(fd, "garbage", 7, 32 * 1024 - 7));
	ASSERT_EQ(0, fsync(fd));
	close(fd);
	ASSERT_EQ(0, reopen(self, 0, 0)) TH_LOG("%s", self->err);
	EXPECT_EQ(1, self->log.n[TRUTH_STORAGE_WARN]);
	EXPECT_EQ(0, unwritten_or_hole(path, 64 * 1024)) TH_LOG("%s after a cut", path);
	ASSERT_EQ(0, batch(self->wal, truth_wal_last_index(self->wal) + 1, 1, 1, 100,
			   self->err)) TH_LOG("%s", self->err);
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

TEST_F(realfs, group_commit_measurement)
{
	static const size_t sizes[] = { 1, 8, 64, 256 };
	struct truth_wal_stats st0, st1;
	uint64_t next = 1;
	double t0, t1;
	size_t i, k, rounds;

	self->opt.segment_size = 0;	/* the default, 8 MiB */
	ASSERT_EQ(0, reopen(self, 0, 0)) TH_LOG("%s", self->err);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		rounds = sizes[i] >= 64 ? 40 : 150;
		truth_wal_stats(self->wal, &st0);
		t0 = now_us();
		for (k = 0; k < rounds; k++) {
			ASSERT_EQ(0, batch(self->wal, next, sizes[i], 1, 256,
					   self->err)) TH_LOG("%s", self->err);
			next += sizes[i];
		}
		t1 = now_us();
		truth_wal_stats(self->wal, &st1);
		/* one fdatasync per batch, whatever its size (rollovers add
		 * one each) */
		EXPECT_LE(st1.syncs - st0.syncs,
			  rounds + st1.segments_closed - st0.segments_closed);
		ksft_print_msg("group commit, 256-byte entries: %3zu entries/"
			       "fdatasync, %llu syncs, %.0f us per sync, %.0f "
			       "entries/s\n", sizes[i],
			       (unsigned long long)(st1.syncs - st0.syncs),
			       (t1 - t0) / (double)(st1.syncs - st0.syncs),
			       (double)(st1.synced_entries - st0.synced_entries) *
			       1e6 / (t1 - t0));
	}
}

TEST_HARNESS_MAIN
