// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of the term/vote store (two alternating files, agent/storage/
 * meta.c) on the in-memory disk: round trip; a crash (power cut and
 * process kill) and a torn write at every write boundary of a sequence of
 * saves leave the last saved value or the one in flight, never anything
 * else; a flipped bit in any byte of either file is detected (the other
 * file's value is used and a warning names the damaged file and offset);
 * both files damaged refuses to start; the Raft guards (term never goes
 * back, one vote per term) hold.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <storage/storage.h>

#include "kselftest_harness.h"

#define DIR	"/d"
#define SAVES	24

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

/* the i-th value of the save sequence: a new term, then a vote in it */
static struct truth_meta seq_val(int i)
{
	struct truth_meta m = { .term = 1 + (uint64_t)i / 2,
				.vote = i % 2 ? (uint32_t)(1 + i % 5) : 0 };

	return m;
}

FIXTURE(meta) {
	struct truth_memfs *m;
	struct truth_fs fs;
	struct truth_meta_store *ms;
	struct logcap log;
	char err[TRUTH_STORAGE_ERRLEN];
};

FIXTURE_SETUP(meta)
{
	self->m = truth_memfs_new();
	ASSERT_NE(NULL, self->m);
	self->fs = truth_memfs_fs(self->m);
}

FIXTURE_TEARDOWN(meta)
{
	truth_meta_close(self->ms);
	truth_memfs_free(self->m);
}

static int mopen(FIXTURE_DATA(meta) *self, struct truth_meta *out)
{
	truth_meta_close(self->ms);
	self->ms = NULL;
	return truth_meta_open(&self->ms, &self->fs, DIR, cap_log, &self->log,
			       out, self->err);
}

TEST_F(meta, fresh_then_round_trip)
{
	struct truth_meta m, want = { .term = 7, .vote = 3 };

	ASSERT_EQ(0, mopen(self, &m)) TH_LOG("%s", self->err);
	EXPECT_EQ(0, m.term);
	EXPECT_EQ(0, m.vote);
	ASSERT_EQ(0, truth_meta_save(self->ms, &want, self->err));
	truth_memfs_reboot(self->m, TRUTH_MEMFS_LOSE_UNSYNCED);
	ASSERT_EQ(0, mopen(self, &m)) TH_LOG("%s", self->err);
	EXPECT_EQ(7, m.term);
	EXPECT_EQ(3, m.vote);
	truth_meta_get(self->ms, &m);
	EXPECT_EQ(7, m.term);
	EXPECT_EQ(0, self->log.n[TRUTH_STORAGE_WARN]);
}

TEST_F(meta, raft_guards)
{
	struct truth_meta m = { .term = 5, .vote = 2 };

	ASSERT_EQ(0, mopen(self, NULL));
	ASSERT_EQ(0, truth_meta_save(self->ms, &m, self->err));
	/* a second vote in the same term */
	m.vote = 3;
	EXPECT_EQ(-EINVAL, truth_meta_save(self->ms, &m, self->err));
	/* the term going back */
	m.term = 4;
	m.vote = 0;
	EXPECT_EQ(-EINVAL, truth_meta_save(self->ms, &m, self->err));
	/* a new term clears the vote */
	m.term = 6;
	EXPECT_EQ(0, truth_meta_save(self->ms, &m, self->err));
	ASSERT_EQ(0, mopen(self, &m));
	EXPECT_EQ(6, m.term);
	EXPECT_EQ(0, m.vote);
}

TEST_F(meta, each_save_is_one_write_and_one_sync)
{
	struct truth_meta m = { .term = 1, .vote = 1 };
	uint64_t before;

	ASSERT_EQ(0, mopen(self, NULL));
	before = truth_memfs_ops(self->m);
	ASSERT_EQ(0, truth_meta_save(self->ms, &m, self->err));
	EXPECT_EQ(2, truth_memfs_ops(self->m) - before);
}

/* run the save sequence with a fault armed; returns how many completed */
static int run_saves(FIXTURE_DATA(meta) *self)
{
	struct truth_meta m;
	int i;

	if (mopen(self, NULL))
		return -1;
	for (i = 0; i < SAVES; i++) {
		m = seq_val(i);
		if (truth_meta_save(self->ms, &m, self->err))
			return i;
	}
	return SAVES;
}

static void check_after(struct __test_metadata *_metadata,
			FIXTURE_DATA(meta) *self, int done, const char *what,
			uint64_t k)
{
	struct truth_meta m, old = { 0 }, flight;

	ASSERT_EQ(0, mopen(self, &m)) TH_LOG("%s %llu: %s", what,
					     (unsigned long long)k, self->err);
	if (done > 0)
		old = seq_val(done - 1);
	flight = seq_val(done < 0 ? 0 : done);
	ASSERT_TRUE((m.term == old.term && m.vote == old.vote) ||
		    (done < SAVES && m.term == flight.term &&
		     m.vote == flight.vote))
		TH_LOG("%s %llu: read %llu/%u after %d saves", what,
		       (unsigned long long)k, (unsigned long long)m.term,
		       m.vote, done);
	/* and saving goes on from there */
	m.term += 1;
	m.vote = 9;
	ASSERT_EQ(0, truth_meta_save(self->ms, &m, self->err));
	truth_memfs_reboot(self->m, TRUTH_MEMFS_LOSE_UNSYNCED);
	ASSERT_EQ(0, mopen(self, &flight));
	ASSERT_EQ(m.term, flight.term);
	ASSERT_EQ(9, flight.vote);
}

TEST_F(meta, crash_and_tear_at_every_boundary)
{
	static const size_t keep[] = { 1, 8, 16, 24, 40, 44, 47 };
	uint64_t n, k, runs = 0;
	size_t j;
	int done;

	ASSERT_EQ(SAVES, run_saves(self));
	n = truth_memfs_ops(self->m);
	for (k = 1; k <= n; k++) {
		int how;

		for (how = 0; how < 2; how++) {
			truth_meta_close(self->ms);
			self->ms = NULL;
			truth_memfs_free(self->m);
			self->m = truth_memfs_new();
			self->fs = truth_memfs_fs(self->m);
			truth_memfs_crash_at(self->m, k);
			done = run_saves(self);
			ASSERT_LT(done, SAVES);
			truth_meta_close(self->ms);
			self->ms = NULL;
			truth_memfs_reboot(self->m, how ?
					   TRUTH_MEMFS_KEEP_UNSYNCED :
					   TRUTH_MEMFS_LOSE_UNSYNCED);
			check_after(_metadata, self, done, "crash at", k);
			runs++;
		}
		for (j = 0; j < sizeof(keep) / sizeof(keep[0]); j++) {
			truth_meta_close(self->ms);
			self->ms = NULL;
			truth_memfs_free(self->m);
			self->m = truth_memfs_new();
			self->fs = truth_memfs_fs(self->m);
			truth_memfs_tear_at(self->m, k, keep[j]);
			done = run_saves(self);
			if (!truth_memfs_crashed(self->m))
				break;	/* not a pwrite */
			truth_meta_close(self->ms);
			self->ms = NULL;
			truth_memfs_reboot(self->m, TRUTH_MEMFS_LOSE_UNSYNCED);
			check_after(_metadata, self, done, "tear at", k);
			runs++;
		}
	}
	ksft_print_msg("%llu boundaries, %llu crashes and tears injected\n",
		       (unsigned long long)n, (unsigned long long)runs);
}

TEST_F(meta, flip_every_byte_of_either_file)
{
	struct truth_meta m, a = { .term = 3, .vote = 1 }, b = { .term = 4 };
	uint8_t *d;
	uint64_t size, pos;
	int slot, bit;
	char path[64];

	/* seq 1 (meta-1) = a, seq 2 (meta-0) = b, the newest */
	ASSERT_EQ(0, mopen(self, NULL));
	ASSERT_EQ(0, truth_meta_save(self->ms, &a, self->err));
	ASSERT_EQ(0, truth_meta_save(self->ms, &b, self->err));
	for (slot = 0; slot < 2; slot++) {
		snprintf(path, sizeof(path), DIR "/meta-%d", slot);
		ASSERT_EQ(0, truth_memfs_peek(self->m, path, &d, &size));
		ASSERT_EQ(TRUTH_META_SIZE, size);
		for (pos = 0; pos < size; pos++)
			for (bit = 0; bit < 8; bit++) {
				d[pos] ^= (uint8_t)(1u << bit);
				memset(&self->log, 0, sizeof(self->log));
				ASSERT_EQ(0, mopen(self, &m)) TH_LOG("%s",
								     self->err);
				/* the undamaged file wins */
				ASSERT_EQ(slot ? b.term : a.term, m.term);
				ASSERT_EQ(slot ? b.vote : a.vote, m.vote);
				ASSERT_EQ(1, self->log.n[TRUTH_STORAGE_WARN]);
				ASSERT_NE(NULL, strstr(self->log.last, path));
				ASSERT_NE(NULL, strstr(self->log.last,
						       "offset 0"));
				d[pos] ^= (uint8_t)(1u << bit);
			}
	}
	ASSERT_EQ(0, mopen(self, &m));
	EXPECT_EQ(4, m.term);
}

TEST_F(meta, both_files_damaged_refuses_to_start)
{
	struct truth_meta a = { .term = 3, .vote = 1 }, b = { .term = 4 };
	uint8_t *d;
	uint64_t size;

	ASSERT_EQ(0, mopen(self, NULL));
	ASSERT_EQ(0, truth_meta_save(self->ms, &a, self->err));
	ASSERT_EQ(0, truth_meta_save(self->ms, &b, self->err));
	ASSERT_EQ(0, truth_memfs_peek(self->m, DIR "/meta-0", &d, &size));
	d[20] ^= 1;
	ASSERT_EQ(0, truth_memfs_peek(self->m, DIR "/meta-1", &d, &size));
	d[30] ^= 4;
	ASSERT_EQ(-EIO, mopen(self, NULL));
	EXPECT_NE(NULL, strstr(self->err, DIR "/meta-0")) TH_LOG("%s", self->err);
	EXPECT_NE(NULL, strstr(self->err, DIR "/meta-1")) TH_LOG("%s", self->err);
	EXPECT_NE(NULL, strstr(self->err, "refusing to start"));
}

TEST_F(meta, record_in_the_wrong_file_is_rejected)
{
	struct truth_meta m, a = { .term = 3, .vote = 1 };
	uint8_t *d0, *d1;
	uint64_t s0, s1;

	/* a record with an odd sequence number copied into meta-0 */
	ASSERT_EQ(0, mopen(self, NULL));
	ASSERT_EQ(0, truth_meta_save(self->ms, &a, self->err));
	a.term = 8;
	ASSERT_EQ(0, truth_meta_save(self->ms, &a, self->err));
	ASSERT_EQ(0, truth_memfs_peek(self->m, DIR "/meta-0", &d0, &s0));
	ASSERT_EQ(0, truth_memfs_peek(self->m, DIR "/meta-1", &d1, &s1));
	memcpy(d0, d1, TRUTH_META_SIZE);
	ASSERT_EQ(0, mopen(self, &m));
	EXPECT_EQ(3, m.term);
	EXPECT_EQ(1, self->log.n[TRUTH_STORAGE_WARN]);
}

TEST_HARNESS_MAIN
