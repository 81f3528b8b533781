// SPDX-License-Identifier: GPL-2.0
/*
 * Crash at every write boundary.  A scripted workload drives the log, the
 * metadata and the snapshots together (group commits, single appends,
 * conflict truncation inside the open and inside a closed segment, segment
 * rollovers, snapshots followed by compaction, a snapshot from the leader
 * replacing the whole log, term/vote saves) on the in-memory disk.  A model follows it: for each index the values that may
 * legitimately be on disk (written, not yet replaced durably) and the
 * index up to which everything must be there (last successful sync).
 *
 * For every boundary k of the workload, on a fresh disk: crash at k, reboot
 * (power cut: unsynced data lost; and process kill: page cache kept), and
 * check that recovery
 *   - opens (a crash is never mistaken for corruption),
 *   - holds every entry that had been made durable, unchanged,
 *   - holds nothing that was never written at that index, and nothing a
 *     completed truncation removed,
 *   - is a prefix-consistent log (consecutive indexes, terms not going
 *     back) starting no later than the snapshot found + 1,
 *   - finds term/vote equal to the last saved value (or the one in flight),
 *   - finds the newest completed snapshot (or the one in flight),
 *   - can be written again, and what is then synced survives another cut.
 * Then the same with a torn pwrite at k (several prefix lengths), with a
 * pwrite that reaches the disk except for a hole (pages written back out
 * of order), and with a second crash during the recovery itself.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <storage/storage.h>

#include "kselftest_harness.h"

#define DIR		"/d"
#define MAXI		256	/* highest index the workload writes */
#define MAXV		16	/* values allowed per index at once */

static void quiet_log(void *ctx, enum truth_storage_level level,
		      const char *msg)
{
	int *warns = ctx;

	if (level == TRUTH_STORAGE_WARN)
		(*warns)++;
}

/* ---------------------------------------------------------------- model */

struct val {
	uint64_t term;		/* entry term */
	uint64_t seed;		/* payload seed, unique per write */
};

struct model {
	uint64_t last;			/* last index written */
	uint64_t must;			/* 1..must survive (above the snapshot) */
	struct val cur[MAXI + 1];	/* what the log holds now */
	struct val allow[MAXI + 1][MAXV]; /* what may be on disk */
	int n_allow[MAXI + 1];		/* how many */
	uint64_t seed;			/* next payload seed */
	struct truth_meta meta;		/* last saved term/vote */
	struct truth_meta meta_flight;	/* being saved */
	bool meta_in_flight;		/* a save started and did not return */
	uint64_t snap_done;		/* index of the newest saved snapshot */
	uint64_t snap_flight;		/* index of the one being saved, 0 */
	uint64_t snap_term[MAXI + 1];	/* term of a snapshot at index */
};

static uint32_t pay_len(uint64_t seed)
{
	return (uint32_t)(8 + (seed * 53) % 120);
}

static void pay_fill(uint8_t *buf, uint64_t seed)
{
	uint32_t i, n = pay_len(seed);

	memcpy(buf, &seed, 8);
	for (i = 8; i < n; i++)
		buf[i] = (uint8_t)(seed * 29 + i);
}

static void snap_blob(uint8_t *buf, uint64_t index, uint32_t len)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(index * 3 + i);
}

/* everything written so far is durable: only current values remain */
static void model_synced(struct model *md)
{
	uint64_t i;

	md->must = md->last;
	for (i = 1; i <= MAXI; i++) {
		md->n_allow[i] = i <= md->last ? 1 : 0;
		md->allow[i][0] = md->cur[i];
	}
}

/* ------------------------------------------------------------- workload */

struct rig {
	struct truth_memfs *m;		/* the disk */
	struct truth_fs fs;		/* its file layer */
	struct truth_wal_options opt;	/* log options */
	struct truth_wal *wal;		/* open log */
	struct truth_meta_store *ms;	/* open metadata */
	int warns;			/* warnings logged */
	char err[TRUTH_STORAGE_ERRLEN];	/* last error */
};

static int w_append(struct rig *r, struct model *md, uint64_t first, size_t n,
		    uint64_t term, bool sync)
{
	static uint8_t bufs[32][128];
	struct truth_wal_entry e[32];
	size_t i;
	int ret;

	if (first <= md->last && md->must > first - 1)
		md->must = first - 1;	/* a truncation is under way */
	for (i = 0; i < n; i++) {
		uint64_t idx = first + i, seed = ++md->seed;

		e[i].index = idx;
		e[i].term = term;
		e[i].type = 0;
		e[i].len = pay_len(seed);
		pay_fill(bufs[i], seed);
		e[i].data = bufs[i];
		md->cur[idx].term = term;
		md->cur[idx].seed = seed;
		md->allow[idx][md->n_allow[idx]++] = md->cur[idx];
	}
	md->last = first + n - 1;
	ret = truth_wal_append(r->wal, e, n, r->err);
	if (ret)
		return ret;
	/* a rollover syncs the segment it closes: hold the log to that */
	if (truth_wal_durable_index(r->wal) > md->must)
		md->must = truth_wal_durable_index(r->wal);
	if (!sync)
		return 0;
	ret = truth_wal_sync(r->wal, NULL, r->err);
	if (!ret)
		model_synced(md);
	return ret;
}

static int w_truncate(struct rig *r, struct model *md, uint64_t from)
{
	int ret;

	if (md->must > from - 1)
		md->must = from - 1;
	ret = truth_wal_truncate_suffix(r->wal, from, r->err);
	if (ret)
		return ret;
	md->last = from - 1;
	model_synced(md);
	return 0;
}

static int w_meta(struct rig *r, struct model *md, uint64_t term,
		  uint32_t vote)
{
	struct truth_meta m = { .term = term, .vote = vote };
	int ret;

	md->meta_flight = m;
	md->meta_in_flight = true;
	ret = truth_meta_save(r->ms, &m, r->err);
	if (ret)
		return ret;
	md->meta = m;
	md->meta_in_flight = false;
	return 0;
}

static int w_snapshot(struct rig *r, struct model *md, uint64_t index)
{
	uint8_t conf[16], data[300];
	struct truth_snap s = {
		.index = index, .term = md->cur[index].term,
		.conf_len = sizeof(conf), .conf = conf,
		.data_len = sizeof(data), .data = data,
	};
	int ret;

	snap_blob(conf, index + 1, sizeof(conf));
	snap_blob(data, index, sizeof(data));
	md->snap_term[index] = s.term;
	md->snap_flight = index;
	ret = truth_snap_save(&r->fs, DIR, &s, r->err);
	if (ret)
		return ret;
	md->snap_done = index;
	md->snap_flight = 0;
	return truth_wal_compact(r->wal, index, r->err);
}

/* a follower installs the leader's snapshot past its log, then resets */
static int w_install(struct rig *r, struct model *md, uint64_t index,
		     uint64_t term)
{
	uint8_t data[300];
	struct truth_snap s = { .index = index, .term = term,
				.data_len = sizeof(data), .data = data };
	int ret;

	snap_blob(data, index, sizeof(data));
	md->snap_term[index] = term;
	md->snap_flight = index;
	ret = truth_snap_save(&r->fs, DIR, &s, r->err);
	if (ret)
		return ret;
	md->snap_done = index;
	md->snap_flight = 0;
	ret = truth_wal_reset(r->wal, index + 1, r->err);
	if (ret)
		return ret;
	md->last = index;
	model_synced(md);
	return 0;
}

/* the script; stops at the first error (the crash) */
static int workload(struct rig *r, struct model *md)
{
	int ret, i;

#define STEP(x) do { ret = (x); if (ret) return ret; } while (0)
	STEP(w_meta(r, md, 1, 1));
	STEP(w_append(r, md, 1, 4, 1, true));
	STEP(w_append(r, md, 5, 6, 1, false));
	STEP(truth_wal_sync(r->wal, NULL, r->err));
	model_synced(md);
	for (i = 0; i < 5; i++)
		STEP(w_append(r, md, md->last + 1, 1, 1, true));
	STEP(w_meta(r, md, 2, 0));
	STEP(w_meta(r, md, 2, 3));
	/* a new leader's entries conflict with the last four */
	STEP(w_append(r, md, md->last - 3, 3, 2, true));
	/* a batch spanning several segments, one sync */
	STEP(w_append(r, md, md->last + 1, 12, 2, true));
	STEP(w_snapshot(r, md, 10));
	STEP(w_append(r, md, md->last + 1, 5, 2, true));
	/* conflict reaching back into a closed segment */
	STEP(w_truncate(r, md, md->last - 14));
	STEP(w_append(r, md, md->last + 1, 4, 3, true));
	STEP(w_meta(r, md, 3, 2));
	STEP(w_snapshot(r, md, md->last - 2));
	/* single appends without syncs, then one group sync */
	for (i = 0; i < 8; i++)
		STEP(w_append(r, md, md->last + 1, 1, 3, false));
	STEP(truth_wal_sync(r->wal, NULL, r->err));
	model_synced(md);
	STEP(w_meta(r, md, 4, 0));
	STEP(w_append(r, md, md->last + 1, 3, 4, false));
	/* far behind: the leader's snapshot replaces the whole log */
	STEP(w_install(r, md, md->last + 6, 5));
	STEP(w_append(r, md, md->last + 1, 3, 5, true));
	return 0;
#undef STEP
}

static int rig_open(struct rig *r)
{
	struct truth_meta m;
	int ret;

	r->fs = truth_memfs_fs(r->m);
	r->opt.fs = &r->fs;
	r->opt.dir = DIR;
	r->opt.segment_size = 600;
	r->opt.log = quiet_log;
	r->opt.log_ctx = &r->warns;
	ret = truth_meta_open(&r->ms, &r->fs, DIR, quiet_log, &r->warns, &m,
			      r->err);
	if (!ret)
		ret = truth_wal_open(&r->wal, &r->opt, 0, 0, r->err);
	return ret;
}

static void rig_close(struct rig *r)
{
	truth_wal_close(r->wal);
	truth_meta_close(r->ms);
	r->wal = NULL;
	r->ms = NULL;
}

/* ------------------------------------------------------------- checking */

struct check {
	const struct model *md;		/* what may be there */
	uint64_t next;			/* index expected next */
	uint64_t prev_term;		/* term of the entry before */
	char why[200];			/* first violation */
};

static int check_entry(void *ctx, const struct truth_wal_entry *e)
{
	struct check *c = ctx;
	uint8_t buf[128];
	uint64_t seed;
	int i;

	if (e->index != c->next || e->index > MAXI || e->term < c->prev_term ||
	    e->len < 8) {
		snprintf(c->why, sizeof(c->why), "index %llu term %llu: not "
			 "a prefix-consistent log", (unsigned long long)e->index,
			 (unsigned long long)e->term);
		return -1;
	}
	memcpy(&seed, e->data, 8);
	pay_fill(buf, seed);
	for (i = 0; i < c->md->n_allow[e->index]; i++)
		if (c->md->allow[e->index][i].seed == seed &&
		    c->md->allow[e->index][i].term == e->term &&
		    e->len == pay_len(seed) && !memcmp(buf, e->data, e->len))
			break;
	if (i == c->md->n_allow[e->index]) {
		snprintf(c->why, sizeof(c->why), "index %llu: term %llu seed "
			 "%llu was never written there (or was truncated)",
			 (unsigned long long)e->index,
			 (unsigned long long)e->term, (unsigned long long)seed);
		return -1;
	}
	c->next++;
	c->prev_term = e->term;
	return 0;
}

/* reopen everything as truthd would and hold it against the model */
static void recover_and_check(struct __test_metadata *_metadata,
			      struct rig *r, const struct model *md,
			      const char *what, uint64_t k)
{
	struct truth_snap s;
	struct truth_meta m;
	struct check c = { .md = md };
	uint8_t blob[300];
	bool found;
	int ret;

	ret = truth_snap_load(&r->fs, DIR, quiet_log, &r->warns, &s, &found,
			      r->err);
	ASSERT_EQ(0, ret) TH_LOG("%s %llu: snap: %s", what,
				 (unsigned long long)k, r->err);
	if (found) {
		ASSERT_TRUE(s.index == md->snap_done || s.index == md->snap_flight)
			TH_LOG("%s %llu: snapshot %llu found, saved %llu",
			       what, (unsigned long long)k,
			       (unsigned long long)s.index,
			       (unsigned long long)md->snap_done);
		ASSERT_EQ(md->snap_term[s.index], s.term);
		ASSERT_EQ(300, s.data_len);
		snap_blob(blob, s.index, 300);
		ASSERT_EQ(0, memcmp(blob, s.data, 300));
	} else {
		ASSERT_EQ(0, md->snap_done) TH_LOG("%s %llu: snapshot lost",
						   what, (unsigned long long)k);
		s.index = s.term = 0;
	}
	ret = truth_meta_open(&r->ms, &r->fs, DIR, quiet_log, &r->warns, &m,
			      r->err);
	ASSERT_EQ(0, ret) TH_LOG("%s %llu: meta: %s", what,
				 (unsigned long long)k, r->err);
	ASSERT_TRUE((m.term == md->meta.term && m.vote == md->meta.vote) ||
		    (md->meta_in_flight && m.term == md->meta_flight.term &&
		     m.vote == md->meta_flight.vote))
		TH_LOG("%s %llu: meta %llu/%u, saved %llu/%u", what,
		       (unsigned long long)k, (unsigned long long)m.term,
		       m.vote, (unsigned long long)md->meta.term,
		       md->meta.vote);
	ret = truth_wal_open(&r->wal, &r->opt, s.index, s.term, r->err);
	ASSERT_EQ(0, ret) TH_LOG("%s %llu: wal: %s", what,
				 (unsigned long long)k, r->err);
	ASSERT_LE(truth_wal_first_index(r->wal), s.index + 1);
	c.next = truth_wal_first_index(r->wal);
	ret = truth_wal_iterate(r->wal, 0, check_entry, &c, r->err);
	ASSERT_EQ(0, ret) TH_LOG("%s %llu: %s %s", what, (unsigned long long)k,
				 c.why, ret > 0 ? r->err : "");
	ASSERT_EQ(c.next - 1, truth_wal_last_index(r->wal));
	ASSERT_GE(truth_wal_last_index(r->wal), md->must)
		TH_LOG("%s %llu: durable entries lost: log ends at %llu, %llu "
		       "had been synced", what, (unsigned long long)k,
		       (unsigned long long)truth_wal_last_index(r->wal),
		       (unsigned long long)md->must);
	if (found)
		truth_snap_free(&s);
}

static void write_again_check(struct __test_metadata *_metadata,
			      struct rig *r, uint64_t snap_index,
			      uint64_t snap_term, uint64_t want_last,
			      const char *what, uint64_t k)
{
	ASSERT_EQ(0, truth_wal_open(&r->wal, &r->opt, snap_index, snap_term,
				    r->err))
		TH_LOG("%s %llu: reopen after rewrite: %s", what,
		       (unsigned long long)k, r->err);
	ASSERT_EQ(want_last, truth_wal_last_index(r->wal))
		TH_LOG("%s %llu", what, (unsigned long long)k);
}

/* count the boundaries of a fault-free run */
static uint64_t workload_boundaries(struct __test_metadata *_metadata)
{
	struct rig r = { 0 };
	struct model *md = calloc(1, sizeof(*md));
	uint64_t n;

	r.m = truth_memfs_new();
	ASSERT_EQ(0, rig_open(&r)) TH_LOG("%s", r.err);
	ASSERT_EQ(0, workload(&r, md)) TH_LOG("%s", r.err);
	n = truth_memfs_ops(r.m);
	rig_close(&r);
	truth_memfs_free(r.m);
	free(md);
	return n;
}

enum fault { CRASH, TEAR, HOLE, FAIL };

/*
 * Run the workload with one fault armed at boundary k, reboot the way
 * `how` says, recover, check; then write again and check that survives.
 * With rcrash, the first recovery itself crashes at its rcrash-th boundary.
 */
static bool one_run(struct __test_metadata *_metadata, enum fault f,
		    uint64_t k, size_t keep, enum truth_memfs_crash how,
		    uint64_t rcrash, const char *what)
{
	struct rig r = { 0 };
	struct model *md = calloc(1, sizeof(*md));
	struct truth_snap s;
	uint64_t last, base, rcrash_armed = rcrash;
	bool found;
	int ret;

	ASSERT_NE(NULL, md);
	r.m = truth_memfs_new();
	/* armed before the first open: creating the files is covered too */
	if (f == CRASH)
		truth_memfs_crash_at(r.m, k);
	else if (f == TEAR)
		truth_memfs_tear_at(r.m, k, keep);
	else if (f == HOLE)
		truth_memfs_hole_at(r.m, k, keep, 48);
	else
		truth_memfs_fail_at(r.m, k, -EIO);
	ret = rig_open(&r);
	if (!ret)
		ret = workload(&r, md);
	if ((f == TEAR || f == HOLE) && !truth_memfs_crashed(r.m)) {
		/* boundary k is no pwrite: nothing to tear */
		rig_close(&r);
		truth_memfs_free(r.m);
		free(md);
		return false;
	}
	if (f == CRASH) {
		ASSERT_TRUE(truth_memfs_crashed(r.m))
			TH_LOG("%s %llu: no crash", what, (unsigned long long)k);
	}
	ASSERT_NE(0, ret) TH_LOG("%s %llu: workload went through", what,
				 (unsigned long long)k);
	rig_close(&r);
	truth_memfs_reboot(r.m, how);
	if (rcrash) {
		/* crash the recovery too (if it writes that much) */
		base = truth_memfs_ops(r.m);
		truth_memfs_crash_at(r.m, base + rcrash);
		ret = truth_snap_load(&r.fs, DIR, quiet_log, &r.warns, &s,
				      &found, r.err);
		if (!ret && found)
			truth_snap_free(&s);
		ret = truth_meta_open(&r.ms, &r.fs, DIR, quiet_log, &r.warns,
				      NULL, r.err);
		if (!ret)
			ret = truth_wal_open(&r.wal, &r.opt,
					     found ? s.index : 0,
					     found ? s.term : 0, r.err);
		rcrash = truth_memfs_crashed(r.m);
		rig_close(&r);
		truth_memfs_reboot(r.m, TRUTH_MEMFS_LOSE_UNSYNCED);
	}
	recover_and_check(_metadata, &r, md, what, k);
	/* snapshot the recovery used, for the rewrite's reopen */
	ret = truth_snap_load(&r.fs, DIR, NULL, NULL, &s, &found, r.err);
	ASSERT_EQ(0, ret);
	if (found)
		truth_snap_free(&s);
	else
		s.index = s.term = 0;
	last = truth_wal_last_index(r.wal);
	{
		struct truth_wal_entry e[2];
		uint8_t buf[8] = "again";
		int i;

		for (i = 0; i < 2; i++) {
			e[i].index = last + 1 + i;
			e[i].term = truth_wal_last_term(r.wal) + 5;
			e[i].type = 1;
			e[i].len = sizeof(buf);
			e[i].data = buf;
		}
		ASSERT_EQ(0, truth_wal_append_sync(r.wal, e, 2, NULL, r.err))
			TH_LOG("%s %llu: rewrite: %s", what,
			       (unsigned long long)k, r.err);
	}
	rig_close(&r);
	truth_memfs_reboot(r.m, TRUTH_MEMFS_LOSE_UNSYNCED);
	write_again_check(_metadata, &r, s.index, s.term, last + 2, what, k);
	rig_close(&r);
	truth_memfs_free(r.m);
	free(md);
	return f != CRASH || !rcrash_armed || rcrash;
}

TEST(crash_at_every_boundary)
{
	uint64_t n = workload_boundaries(_metadata), k;

	ASSERT_GT(n, 100);
	for (k = 1; k <= n; k++) {
		one_run(_metadata, CRASH, k, 0, TRUTH_MEMFS_LOSE_UNSYNCED, 0,
			"power cut at boundary");
		one_run(_metadata, CRASH, k, 0, TRUTH_MEMFS_KEEP_UNSYNCED, 0,
			"process kill at boundary");
	}
	ksft_print_msg("%llu boundaries, %llu crash points injected\n",
		       (unsigned long long)n, (unsigned long long)(2 * n));
}

TEST(torn_write_at_every_boundary)
{
	static const size_t keep[] = { 1, 4, 13, 39, 41, 97, 333, 599 };
	uint64_t n = workload_boundaries(_metadata), k, runs = 0;
	size_t j;

	for (k = 1; k <= n; k++)
		for (j = 0; j < sizeof(keep) / sizeof(keep[0]); j++) {
			runs += one_run(_metadata, TEAR, k, keep[j],
					TRUTH_MEMFS_LOSE_UNSYNCED, 0,
					"tear at boundary");
		}
	ksft_print_msg("%llu torn writes injected (%zu prefix lengths)\n",
		       (unsigned long long)runs, j);
}

TEST(out_of_order_write_at_every_boundary)
{
	static const size_t hole[] = { 0, 8, 40, 96, 200 };
	uint64_t n = workload_boundaries(_metadata), k, runs = 0;
	size_t j;

	/* 48 bytes of the write never make it, the rest does: records of
	 * an unsynced batch after a hole must be cut, not called corrupt */
	for (k = 1; k <= n; k++)
		for (j = 0; j < sizeof(hole) / sizeof(hole[0]); j++)
			runs += one_run(_metadata, HOLE, k, hole[j],
					TRUTH_MEMFS_LOSE_UNSYNCED, 0,
					"hole in write at boundary");
	ksft_print_msg("%llu out-of-order writes injected (%zu hole "
		       "positions)\n", (unsigned long long)runs, j);
}

TEST(crash_during_recovery)
{
	uint64_t n = workload_boundaries(_metadata), k, j, runs = 0;

	/* recovery writes little: cutting a tail, sweeping, one segment */
	for (k = 1; k <= n; k += 3)
		for (j = 1; j <= 8; j++) {
			runs += one_run(_metadata, CRASH, k, 0,
					TRUTH_MEMFS_LOSE_UNSYNCED, j,
					"crash, then recovery crash, at boundary");
		}
	ksft_print_msg("%llu crashes during recovery injected\n",
		       (unsigned long long)runs);
}

TEST(write_error_at_every_boundary)
{
	uint64_t n = workload_boundaries(_metadata), k;

	/* an I/O error (disk up) stops the workload; what is durable stays */
	for (k = 1; k <= n; k++)
		one_run(_metadata, FAIL, k, 0, TRUTH_MEMFS_KEEP_UNSYNCED, 0,
			"write error at boundary");
	ksft_print_msg("%llu write errors injected\n", (unsigned long long)n);
}

TEST_HARNESS_MAIN
