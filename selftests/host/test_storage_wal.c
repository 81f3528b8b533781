// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of the write-ahead log (agent/storage/) on the in-memory disk:
 * append/sync/reopen round trips across many segment rollovers, group
 * commit (one fdatasync per batch), suffix truncation inside the open and
 * inside closed segments, prefix compaction, reset after a snapshot, the
 * snapshot/log reconciliation on open, argument checks, and the failed
 * state after a write or fdatasync error.
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

/* payload of entry index written with variant v: length and bytes */
static uint32_t pay_len(uint64_t index, uint64_t v)
{
	return (uint32_t)((index * 37 + v * 11) % 150);
}

static void pay_fill(uint8_t *buf, uint64_t index, uint64_t v)
{
	uint32_t i, n = pay_len(index, v);

	for (i = 0; i < n; i++)
		buf[i] = (uint8_t)(index * 131 + v * 7 + i);
}

/* what iterate returned */
struct seen {
	uint64_t n;		/* entries */
	uint64_t first;		/* index of the first */
	uint64_t idx[4096];	/* indexes */
	uint64_t term[4096];	/* terms */
	uint64_t v[4096];	/* variant recovered from the payload, or -1 */
};

static int collect(void *ctx, const struct truth_wal_entry *e)
{
	struct seen *s = ctx;
	uint8_t buf[256];
	uint64_t v;

	if (s->n >= 4096)
		return -E2BIG;
	s->idx[s->n] = e->index;
	s->term[s->n] = e->term;
	s->v[s->n] = (uint64_t)-1;
	for (v = 0; v < 16; v++) {
		if (e->len != pay_len(e->index, v))
			continue;
		pay_fill(buf, e->index, v);
		if (!memcmp(buf, e->data, e->len)) {
			s->v[s->n] = v;
			break;
		}
	}
	if (!s->n)
		s->first = e->index;
	s->n++;
	return 0;
}

FIXTURE(wal) {
	struct truth_memfs *m;
	struct truth_fs fs;
	struct truth_wal_options opt;
	struct truth_wal *wal;
	struct logcap log;
	struct seen seen;
	char err[TRUTH_STORAGE_ERRLEN];
};

FIXTURE_SETUP(wal)
{
	self->m = truth_memfs_new();
	ASSERT_NE(NULL, self->m);
	self->fs = truth_memfs_fs(self->m);
	self->opt.fs = &self->fs;
	self->opt.dir = DIR;
	self->opt.segment_size = 1024;
	self->opt.log = cap_log;
	self->opt.log_ctx = &self->log;
	ASSERT_EQ(0, truth_wal_open(&self->wal, &self->opt, 0, 0, self->err))
		TH_LOG("%s", self->err);
}

FIXTURE_TEARDOWN(wal)
{
	truth_wal_close(self->wal);
	truth_memfs_free(self->m);
}

/* append n entries from index first, term, variant v; optionally sync */
static int put(struct truth_wal *wal, uint64_t first, size_t n, uint64_t term,
	       uint64_t v, bool sync, char *err)
{
	static uint8_t bufs[64][256];
	struct truth_wal_entry e[64];
	size_t i;
	int ret;

	if (n > 64)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		e[i].index = first + i;
		e[i].term = term;
		e[i].type = (uint8_t)(i % 3);
		e[i].len = pay_len(first + i, v);
		pay_fill(bufs[i], first + i, v);
		e[i].data = bufs[i];
	}
	ret = truth_wal_append(wal, e, n, err);
	if (!ret && sync)
		ret = truth_wal_sync(wal, NULL, err);
	return ret;
}

static int reopen(struct truth_wal **wal, const struct truth_wal_options *opt,
		  uint64_t si, uint64_t st, char *err)
{
	truth_wal_close(*wal);
	*wal = NULL;
	return truth_wal_open(wal, opt, si, st, err);
}

static int iterate(struct truth_wal *wal, struct seen *s, char *err)
{
	memset(s, 0, sizeof(*s));
	return truth_wal_iterate(wal, 0, collect, s, err);
}

TEST_F(wal, empty_log)
{
	EXPECT_EQ(1, truth_wal_first_index(self->wal));
	EXPECT_EQ(0, truth_wal_last_index(self->wal));
	EXPECT_EQ(0, truth_wal_durable_index(self->wal));
	ASSERT_EQ(0, reopen(&self->wal, &self->opt, 0, 0, self->err));
	EXPECT_EQ(1, truth_wal_first_index(self->wal));
	EXPECT_EQ(0, truth_wal_last_index(self->wal));
	ASSERT_EQ(0, iterate(self->wal, &self->seen, self->err));
	EXPECT_EQ(0, self->seen.n);
	/* just one open segment */
	EXPECT_EQ(1, truth_memfs_count(self->m));
}

TEST_F(wal, round_trip_across_rollovers)
{
	struct truth_wal_stats st;
	uint64_t i, j, durable = 0, terms[301];

	/* 300 entries in batches of 1..7 over 1 KiB segments */
	for (i = 1; i <= 300;) {
		size_t n = 1 + i % 7;

		if (i + n > 301)
			n = 301 - i;
		ASSERT_EQ(0, put(self->wal, i, n, 1 + i / 50, 0, false,
				 self->err)) TH_LOG("%s", self->err);
		for (j = i; j < i + n; j++)
			terms[j] = 1 + i / 50;
		ASSERT_EQ(0, truth_wal_sync(self->wal, &durable, self->err));
		EXPECT_EQ(i + n - 1, durable);
		i += n;
	}
	truth_wal_stats(self->wal, &st);
	EXPECT_GT(st.segments_closed, 20);
	EXPECT_EQ(300, st.appended);
	EXPECT_EQ(300, st.synced_entries);
	ASSERT_EQ(0, reopen(&self->wal, &self->opt, 0, 0, self->err))
		TH_LOG("%s", self->err);
	EXPECT_EQ(0, self->log.n[TRUTH_STORAGE_WARN]);
	EXPECT_EQ(1, truth_wal_first_index(self->wal));
	EXPECT_EQ(300, truth_wal_last_index(self->wal));
	EXPECT_EQ(terms[300], truth_wal_last_term(self->wal));
	ASSERT_EQ(0, iterate(self->wal, &self->seen, self->err))
		TH_LOG("%s", self->err);
	ASSERT_EQ(300, self->seen.n);
	for (i = 0; i < 300; i++) {
		EXPECT_EQ(i + 1, self->seen.idx[i]);
		EXPECT_EQ(terms[i + 1], self->seen.term[i]);
		EXPECT_EQ(0, self->seen.v[i]);
	}
	/* and iterate from the middle */
	memset(&self->seen, 0, sizeof(self->seen));
	ASSERT_EQ(0, truth_wal_iterate(self->wal, 123, collect, &self->seen,
				       self->err));
	EXPECT_EQ(178, self->seen.n);
	EXPECT_EQ(123, self->seen.first);
	/* appending after the reopen goes on where it stopped */
	ASSERT_EQ(0, put(self->wal, 301, 3, 9, 0, true, self->err));
	ASSERT_EQ(0, reopen(&self->wal, &self->opt, 0, 0, self->err));
	EXPECT_EQ(303, truth_wal_last_index(self->wal));
	EXPECT_EQ(9, truth_wal_last_term(self->wal));
}

TEST_F(wal, group_commit_one_sync_per_batch)
{
	struct truth_wal_stats st;
	uint64_t before, durable;

	/* 16 KiB segments: 40 entries fit in the open one */
	self->opt.segment_size = 16384;
	ASSERT_EQ(0, reopen(&self->wal, &self->opt, 0, 0, self->err));
	before = truth_memfs_ops(self->m);
	ASSERT_EQ(0, put(self->wal, 1, 40, 1, 0, false, self->err));
	EXPECT_EQ(0, truth_wal_durable_index(self->wal));
	EXPECT_EQ(40, truth_wal_last_index(self->wal));
	ASSERT_EQ(0, truth_wal_sync(self->wal, &durable, self->err));
	EXPECT_EQ(40, durable);
	/* one pwrite and one fdatasync for 40 entries */
	EXPECT_EQ(2, truth_memfs_ops(self->m) - before);
	truth_wal_stats(self->wal, &st);
	EXPECT_EQ(1, st.syncs);
	EXPECT_EQ(40, st.synced_entries);
	/* nothing pending: a second sync writes nothing */
	before = truth_memfs_ops(self->m);
	ASSERT_EQ(0, truth_wal_sync(self->wal, &durable, self->err));
	EXPECT_EQ(before, truth_memfs_ops(self->m));
}

TEST_F(wal, unsynced_entries_lost_on_power_cut_synced_kept)
{
	uint64_t durable;

	ASSERT_EQ(0, put(self->wal, 1, 10, 1, 0, true, self->err));
	ASSERT_EQ(0, put(self->wal, 11, 5, 1, 0, false, self->err));
	/* a rollover on the way syncs the segment it closes */
	durable = truth_wal_durable_index(self->wal);
	EXPECT_GE(durable, 10);
	EXPECT_LT(durable, 15);
	truth_memfs_reboot(self->m, TRUTH_MEMFS_LOSE_UNSYNCED);
	ASSERT_EQ(0, reopen(&self->wal, &self->opt, 0, 0, self->err))
		TH_LOG("%s", self->err);
	EXPECT_EQ(durable, truth_wal_last_index(self->wal));
	ASSERT_EQ(0, truth_wal_truncate_suffix(self->wal, 11, self->err));
	/* a killed process keeps the page cache */
	ASSERT_EQ(0, put(self->wal, 11, 5, 1, 0, false, self->err));
	truth_memfs_reboot(self->m, TRUTH_MEMFS_KEEP_UNSYNCED);
	ASSERT_EQ(0, reopen(&self->wal, &self->opt, 0, 0, self->err));
	EXPECT_EQ(15, truth_wal_last_index(self->wal));
}

TEST_F(wal, truncate_suffix_in_open_segment)
{
	ASSERT_EQ(0, put(self->wal, 1, 4, 1, 0, true, self->err));
	/* conflicting entries from a new leader replace 3.. */
	ASSERT_EQ(0, put(self->wal, 3, 3, 2, 1, true, self->err))
		TH_LOG("%s", self->err);
	EXPECT_EQ(5, truth_wal_last_index(self->wal));
	ASSERT_EQ(0, reopen(&self->wal, &self->opt, 0, 0, self->err));
	ASSERT_EQ(0, iterate(self->wal, &self->seen, self->err));
	ASSERT_EQ(5, self->seen.n);
	EXPECT_EQ(1, self->seen.term[1]);
	EXPECT_EQ(0, self->seen.v[1]);
	EXPECT_EQ(2, self->seen.term[2]);
	EXPECT_EQ(1, self->seen.v[2]);
	EXPECT_EQ(1, self->seen.v[4]);
	/* explicit truncation, then nothing past it comes back */
	ASSERT_EQ(0, truth_wal_truncate_suffix(self->wal, 4, self->err));
	EXPECT_EQ(3, truth_wal_last_index(self->wal));
	truth_memfs_reboot(self->m, TRUTH_MEMFS_LOSE_UNSYNCED);
	ASSERT_EQ(0, reopen(&self->wal, &self->opt, 0, 0, self->err));
	EXPECT_EQ(3, truth_wal_last_index(self->wal));
	EXPECT_EQ(2, truth_wal_last_term(self->wal));
	/* truncating past the end changes nothing */
	ASSERT_EQ(0, truth_wal_truncate_suffix(self->wal, 9, self->err));
	EXPECT_EQ(3, truth_wal_last_index(self->wal));
}

TEST_F(wal, truncate_suffix_into_closed_segment)
{
	uint64_t i;

	for (i = 1; i <= 100; i += 5)
		ASSERT_EQ(0, put(self->wal, i, 5, 1, 0, true, self->err));
	ASSERT_EQ(0, truth_wal_truncate_suffix(self->wal, 37, self->err))
		TH_LOG("%s", self->err);
	EXPECT_EQ(36, truth_wal_last_index(self->wal));
	ASSERT_EQ(0, put(self->wal, 37, 10, 3, 2, true, self->err))
		TH_LOG("%s", self->err);
	truth_memfs_reboot(self->m, TRUTH_MEMFS_LOSE_UNSYNCED);
	ASSERT_EQ(0, reopen(&self->wal, &self->opt, 0, 0, self->err))
		TH_LOG("%s", self->err);
	EXPECT_EQ(0, self->log.n[TRUTH_STORAGE_WARN]);
	ASSERT_EQ(0, iterate(self->wal, &self->seen, self->err))
		TH_LOG("%s", self->err);
	ASSERT_EQ(46, self->seen.n);
	for (i = 0; i < 46; i++) {
		EXPECT_EQ(i + 1, self->seen.idx[i]);
		EXPECT_EQ(i < 36 ? 1 : 3, self->seen.term[i]);
		EXPECT_EQ(i < 36 ? 0 : 2, self->seen.v[i]);
	}
	/* truncating everything down to the first entry */
	ASSERT_EQ(0, truth_wal_truncate_suffix(self->wal, 1, self->err));
	EXPECT_EQ(0, truth_wal_last_index(self->wal));
	ASSERT_EQ(0, reopen(&self->wal, &self->opt, 0, 0, self->err))
		TH_LOG("%s", self->err);
	EXPECT_EQ(0, truth_wal_last_index(self->wal));
	EXPECT_EQ(1, truth_memfs_count(self->m));
}

TEST_F(wal, compact_prefix_and_snapshot_reconcile)
{
	uint64_t i;

	for (i = 1; i <= 100; i += 5)
		ASSERT_EQ(0, put(self->wal, i, 5, 1 + i / 40, 0, true,
				 self->err));
	ASSERT_EQ(0, truth_wal_compact(self->wal, 50, self->err));
	EXPECT_LE(truth_wal_first_index(self->wal), 51);
	EXPECT_GT(truth_wal_first_index(self->wal), 30);
	ASSERT_EQ(0, reopen(&self->wal, &self->opt, 50, 2, self->err))
		TH_LOG("%s", self->err);
	ASSERT_EQ(0, iterate(self->wal, &self->seen, self->err));
	EXPECT_EQ(100, self->seen.idx[self->seen.n - 1]);
	EXPECT_LE(self->seen.first, 51);
	/* without the snapshot the log has a hole at its start */
	ASSERT_EQ(-ENOENT, reopen(&self->wal, &self->opt, 0, 0, self->err));
	EXPECT_NE(NULL, strstr(self->err, "missing")) TH_LOG("%s", self->err);
	/* a snapshot whose term disagrees with the log wins over it */
	ASSERT_EQ(0, reopen(&self->wal, &self->opt, 60, 9, self->err))
		TH_LOG("%s", self->err);
	EXPECT_EQ(61, truth_wal_first_index(self->wal));
	EXPECT_EQ(60, truth_wal_last_index(self->wal));
	EXPECT_EQ(1, self->log.n[TRUTH_STORAGE_WARN]);
	ASSERT_EQ(0, put(self->wal, 61, 2, 9, 0, true, self->err))
		TH_LOG("%s", self->err);
	ASSERT_EQ(0, reopen(&self->wal, &self->opt, 60, 9, self->err));
	EXPECT_EQ(62, truth_wal_last_index(self->wal));
	/* a snapshot past the whole log makes it obsolete */
	ASSERT_EQ(0, reopen(&self->wal, &self->opt, 500, 9, self->err));
	EXPECT_EQ(501, truth_wal_first_index(self->wal));
	EXPECT_EQ(1, truth_memfs_count(self->m));
}

TEST_F(wal, reset_after_snapshot_install)
{
	ASSERT_EQ(0, put(self->wal, 1, 30, 1, 0, true, self->err));
	ASSERT_EQ(0, truth_wal_reset(self->wal, 1001, self->err));
	EXPECT_EQ(1001, truth_wal_first_index(self->wal));
	EXPECT_EQ(1000, truth_wal_last_index(self->wal));
	ASSERT_EQ(0, put(self->wal, 1001, 5, 4, 0, true, self->err))
		TH_LOG("%s", self->err);
	ASSERT_EQ(0, reopen(&self->wal, &self->opt, 1000, 4, self->err))
		TH_LOG("%s", self->err);
	EXPECT_EQ(1001, truth_wal_first_index(self->wal));
	EXPECT_EQ(1005, truth_wal_last_index(self->wal));
	/* without its snapshot such a log is refused */
	ASSERT_EQ(-ENOENT, reopen(&self->wal, &self->opt, 0, 0, self->err));
}

TEST_F(wal, bad_arguments_rejected_and_change_nothing)
{
	ASSERT_EQ(0, put(self->wal, 1, 5, 2, 0, true, self->err));
	/* gap */
	EXPECT_EQ(-EINVAL, put(self->wal, 7, 1, 2, 0, true, self->err));
	/* term going back */
	EXPECT_EQ(-EINVAL, put(self->wal, 6, 1, 1, 0, true, self->err));
	/* index 0, below the first */
	EXPECT_EQ(-EINVAL, put(self->wal, 0, 1, 2, 0, true, self->err));
	EXPECT_EQ(-EINVAL, truth_wal_truncate_suffix(self->wal, 0, self->err));
	EXPECT_EQ(-EINVAL, truth_wal_reset(self->wal, 0, self->err));
	EXPECT_EQ(5, truth_wal_last_index(self->wal));
	/* and the log is still usable */
	ASSERT_EQ(0, put(self->wal, 6, 1, 2, 0, true, self->err));
}

TEST_F(wal, entry_larger_than_a_segment)
{
	static uint8_t big[5000];
	struct truth_wal_entry e = { .index = 2, .term = 1, .len = sizeof(big),
				     .data = big };

	memset(big, 0xab, sizeof(big));
	ASSERT_EQ(0, put(self->wal, 1, 1, 1, 0, true, self->err));
	ASSERT_EQ(0, truth_wal_append_sync(self->wal, &e, 1, NULL, self->err))
		TH_LOG("%s", self->err);
	ASSERT_EQ(0, put(self->wal, 3, 2, 1, 0, true, self->err));
	ASSERT_EQ(0, reopen(&self->wal, &self->opt, 0, 0, self->err))
		TH_LOG("%s", self->err);
	EXPECT_EQ(4, truth_wal_last_index(self->wal));
}

TEST_F(wal, failed_write_leaves_log_failed_until_reopen)
{
	ASSERT_EQ(0, put(self->wal, 1, 3, 1, 0, true, self->err));
	/* the next pwrite fails */
	truth_memfs_fail_at(self->m, truth_memfs_ops(self->m) + 1, -ENOSPC);
	EXPECT_EQ(-ENOSPC, put(self->wal, 4, 1, 1, 0, true, self->err));
	EXPECT_NE(NULL, strstr(self->err, "open-")) TH_LOG("%s", self->err);
	EXPECT_EQ(1, self->log.n[TRUTH_STORAGE_ERR]);
	/* everything is refused now, even though the disk is fine */
	EXPECT_EQ(-EIO, put(self->wal, 4, 1, 1, 0, true, self->err));
	EXPECT_EQ(-EIO, truth_wal_sync(self->wal, NULL, self->err));
	EXPECT_EQ(3, truth_wal_durable_index(self->wal));
	ASSERT_EQ(0, reopen(&self->wal, &self->opt, 0, 0, self->err));
	EXPECT_EQ(3, truth_wal_last_index(self->wal));
	ASSERT_EQ(0, put(self->wal, 4, 1, 1, 0, true, self->err));
}

TEST_F(wal, failed_fdatasync_never_reports_durable)
{
	uint64_t durable = 77;

	ASSERT_EQ(0, put(self->wal, 1, 3, 1, 0, true, self->err));
	ASSERT_EQ(0, put(self->wal, 4, 2, 1, 0, false, self->err));
	truth_memfs_fail_at(self->m, truth_memfs_ops(self->m) + 1, -EIO);
	EXPECT_EQ(-EIO, truth_wal_sync(self->wal, &durable, self->err));
	EXPECT_EQ(77, durable);
	EXPECT_EQ(3, truth_wal_durable_index(self->wal));
	/* a retry must not claim success: the pages may be gone */
	EXPECT_EQ(-EIO, truth_wal_sync(self->wal, &durable, self->err));
	EXPECT_NE(NULL, strstr(self->err, "reopen")) TH_LOG("%s", self->err);
}

TEST_HARNESS_MAIN
