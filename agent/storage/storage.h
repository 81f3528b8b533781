/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * truth storage: the durable state of truthd.
 *
 *	truth_wal_*	segmented write-ahead log of Raft entries, group commit
 *	truth_meta_*	current term and vote, crash-atomic
 *	truth_snap_*	snapshots (index, term, configuration, state machine)
 *	truth_fs_*	the file layer every byte goes through: POSIX, or an
 *			in-memory disk with fault injection for the tests
 *	truth_crc32c	the checksum of every record
 *
 * Everything lives in one data directory.  Documentation/storage.md gives
 * the on-disk format byte by byte, the crash guarantees and the rebuild
 * procedure.
 *
 * Conventions: functions return 0 (or a count) on success and -errno on
 * failure; when a function takes "char *err" the caller passes a buffer of
 * TRUTH_STORAGE_ERRLEN bytes, and on failure it holds one line naming the
 * file and byte offset involved, ready to log.  Nothing here is thread-safe;
 * truthd is one event loop.
 *
 * Ordering rule for the caller (Raft, Figure 2 "persistent state"): make
 * entries durable (truth_wal_sync) and the term/vote durable
 * (truth_meta_save) before sending any message that depends on them.
 */
#ifndef _TRUTH_STORAGE_H
#define _TRUTH_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define TRUTH_STORAGE_ERRLEN	256	/* bytes of every "err" buffer */

/* ------------------------------------------------------------- logging */

enum truth_storage_level {
	TRUTH_STORAGE_INFO,	/* normal event worth a line (segment closed) */
	TRUTH_STORAGE_WARN,	/* data dropped on recovery: torn tail, stale file */
	TRUTH_STORAGE_ERR,	/* the operation failed */
};

/* Where the storage reports what it did on its own (recovery above all). */
typedef void (*truth_storage_log_fn)(void *ctx, enum truth_storage_level level,
				     const char *msg);

/* ------------------------------------------------------------- file layer */

#define TRUTH_FS_RDONLY		0x0	/* open for reading */
#define TRUTH_FS_RDWR		0x1	/* open for reading and writing */
#define TRUTH_FS_CREATE		0x2	/* create if missing */
#define TRUTH_FS_EXCL		0x4	/* with CREATE: fail if it exists */
#define TRUTH_FS_TRUNC		0x8	/* truncate to 0 on open */

/*
 * The operations storage uses, nothing more.  Each returns 0 (pread: the
 * bytes read) or -errno; pwrite writes all of len or fails.  Paths are
 * "dir/name" strings built by the caller.
 */
struct truth_fs_ops {
	/* open path with TRUTH_FS_* flags, *fd gets the descriptor */
	int (*open)(void *ctx, const char *path, int flags, int *fd);
	/* release fd */
	int (*close)(void *ctx, int fd);
	/* read up to len bytes at off; fewer only at end of file */
	ssize_t (*pread)(void *ctx, int fd, void *buf, size_t len, uint64_t off);
	/* write all len bytes at off, or fail */
	int (*pwrite)(void *ctx, int fd, const void *buf, size_t len,
		      uint64_t off);
	/* make fd's data and size durable */
	int (*fdatasync)(void *ctx, int fd);
	/* current size of fd */
	int (*size)(void *ctx, int fd, uint64_t *size);
	/* set the size to exactly len (shrink or extend with zeros) */
	int (*truncate)(void *ctx, int fd, uint64_t len);
	/* reserve blocks up to len, reading as zeros; never shrinks */
	int (*allocate)(void *ctx, int fd, uint64_t len);
	/* rename from to to, replacing to */
	int (*rename)(void *ctx, const char *from, const char *to);
	/* remove a name */
	int (*unlink)(void *ctx, const char *path);
	/* make the directory's entries (creates, renames, unlinks) durable */
	int (*fsync_dir)(void *ctx, const char *dir);
	/* call fn for every name in dir but "." and ".."; stop on non-zero */
	int (*list)(void *ctx, const char *dir,
		    int (*fn)(void *arg, const char *name), void *arg);
};

/* A file layer: its operations and their private state. */
struct truth_fs {
	const struct truth_fs_ops *ops;	/* the operations */
	void *ctx;			/* first argument of every operation */
};

/* The real one: POSIX calls, EINTR retried, short writes completed. */
extern const struct truth_fs truth_fs_posix;

/*
 * The in-memory disk for tests.  Each file has a volatile image (what
 * reads see) and a durable image (what survives a crash); fdatasync copies
 * one file's volatile image to its durable one, fsync_dir the directory's
 * names.  Every mutating call (open with CREATE, pwrite, fdatasync,
 * truncate, allocate, rename, unlink, fsync_dir) is a "write boundary" and
 * is numbered from 1; faults are armed by number.
 */
struct truth_memfs;

enum truth_memfs_crash {
	TRUTH_MEMFS_LOSE_UNSYNCED,	/* power loss: only durable images stay */
	TRUTH_MEMFS_KEEP_UNSYNCED,	/* process crash: the page cache is kept */
};

struct truth_memfs *truth_memfs_new(void);
void truth_memfs_free(struct truth_memfs *m);
/* the file layer backed by m */
struct truth_fs truth_memfs_fs(struct truth_memfs *m);
/* write boundaries passed so far */
uint64_t truth_memfs_ops(const struct truth_memfs *m);
/*
 * Crash at write boundary n: that call and every later one fail with -EIO
 * and change nothing, as if the process had died just before it.
 */
void truth_memfs_crash_at(struct truth_memfs *m, uint64_t n);
/* Boundary n (a pwrite) puts only its first keep bytes on the durable
 * image, then the disk crashes as above. */
void truth_memfs_tear_at(struct truth_memfs *m, uint64_t n, size_t keep);
/* Boundary n (a pwrite) reaches the durable image except its bytes
 * [off, off + len), which keep their old content (dirty pages written back
 * out of order), then the disk crashes as above. */
void truth_memfs_hole_at(struct truth_memfs *m, uint64_t n, size_t off,
			 size_t len);
/* Boundary n fails with err (e.g. -EIO, -ENOSPC) and changes nothing; the
 * disk stays up. */
void truth_memfs_fail_at(struct truth_memfs *m, uint64_t n, int err);
/* has an armed crash or tear fired? */
bool truth_memfs_crashed(const struct truth_memfs *m);
/* Reboot: open files are forgotten, each file and name keeps its durable
 * state (or its volatile one, with KEEP_UNSYNCED); faults are disarmed. */
void truth_memfs_reboot(struct truth_memfs *m, enum truth_memfs_crash how);
/* direct access for the corruption tests: the volatile image of a file */
int truth_memfs_peek(struct truth_memfs *m, const char *path, uint8_t **data,
		     uint64_t *size);
/* number of files in the (volatile) namespace */
size_t truth_memfs_count(const struct truth_memfs *m);

/* ------------------------------------------------------------- CRC32C */

/* CRC32C (Castagnoli, reflected 0x82F63B78), slice-by-8; crc of the data so
 * far (0 to start), returns the crc including buf. */
uint32_t truth_crc32c(uint32_t crc, const void *buf, size_t len);

/* ------------------------------------------------------------- the log */

#define TRUTH_WAL_MAGIC		"TRUTHWAL"	/* segment header, 8 bytes */
#define TRUTH_WAL_VERSION	1		/* segment format version */
#define TRUTH_WAL_SEG_HDR	32		/* segment header bytes */
#define TRUTH_WAL_REC_HDR	40		/* record header bytes */
#define TRUTH_WAL_ALIGN		8		/* records start 8-aligned */
#define TRUTH_WAL_MAX_ENTRY	(64u << 20)	/* largest entry payload */
#define TRUTH_WAL_SEGMENT_SIZE	(8u << 20)	/* default segment size */

/* One log entry as the log stores it; the payload is opaque. */
struct truth_wal_entry {
	uint64_t index;		/* position in the log, >= 1 */
	uint64_t term;		/* term of the leader that created it */
	uint8_t type;		/* caller's entry type (Raft: normal/noop/conf) */
	uint32_t len;		/* payload bytes, <= TRUTH_WAL_MAX_ENTRY */
	const void *data;	/* payload; storage never keeps the pointer */
};

struct truth_wal_options {
	const struct truth_fs *fs;	/* file layer, NULL = truth_fs_posix */
	const char *dir;		/* data directory, must exist */
	uint64_t segment_size;		/* pre-allocated bytes per segment,
					   0 = TRUTH_WAL_SEGMENT_SIZE */
	truth_storage_log_fn log;	/* recovery messages, NULL = stderr */
	void *log_ctx;			/* first argument of log */
};

/* Counters for the caller's status output and the group-commit bench. */
struct truth_wal_stats {
	uint64_t appended;	/* entries appended since open */
	uint64_t syncs;		/* fdatasync calls made by truth_wal_sync */
	uint64_t synced_entries; /* entries those syncs made durable */
	uint64_t segments_closed; /* rollovers since open */
	uint64_t recovered_tail_bytes; /* torn tail bytes dropped at open */
};

struct truth_wal;

/*
 * Open (or create) the log in opt->dir and recover it: a torn tail of the
 * open segment is truncated and logged; any other damage fails with -EIO
 * (-ENOENT for a missing segment) and err naming the file and offset.
 * snap_index/snap_term is the newest snapshot (0/0 = none): segments wholly
 * covered by it are removed, a log that does not reach it is an error, and
 * a log whose entry at snap_index has another term is dropped (it lost to
 * the snapshot the leader sent, Figure 13 step 7).
 */
int truth_wal_open(struct truth_wal **walp, const struct truth_wal_options *opt,
		   uint64_t snap_index, uint64_t snap_term, char *err);
/* Close the files; entries not yet synced may or may not survive. */
void truth_wal_close(struct truth_wal *wal);

/* index of the first entry kept, or last + 1 when empty; after open it may
 * be <= the snapshot's index (those entries are redundant, not wrong) */
uint64_t truth_wal_first_index(const struct truth_wal *wal);
/* index of the last entry written (durable or not), first - 1 when empty */
uint64_t truth_wal_last_index(const struct truth_wal *wal);
/* term of the last entry, or 0 when empty */
uint64_t truth_wal_last_term(const struct truth_wal *wal);
/* index up to which every entry is known durable */
uint64_t truth_wal_durable_index(const struct truth_wal *wal);
void truth_wal_stats(const struct truth_wal *wal, struct truth_wal_stats *st);

/*
 * Write n entries (one pwrite per segment touched) without syncing.
 * e[0].index must be <= last + 1 and the indexes consecutive; when it is
 * <= last the log is first truncated from there (a Raft conflict, Figure 2
 * AppendEntries step 3), which is made durable before anything new is
 * written.  Terms may not go backwards.
 */
int truth_wal_append(struct truth_wal *wal, const struct truth_wal_entry *e,
		     size_t n, char *err);
/* Make everything appended durable with one fdatasync; *durable (may be
 * NULL) gets the last durable index. */
int truth_wal_sync(struct truth_wal *wal, uint64_t *durable, char *err);
/* truth_wal_append then truth_wal_sync: group commit in one call */
int truth_wal_append_sync(struct truth_wal *wal, const struct truth_wal_entry *e,
			  size_t n, uint64_t *durable, char *err);
/*
 * Group commit from a sync thread, so appends go on while the disk syncs
 * (POSIX file layer only).  In the caller's thread, truth_wal_sync_begin()
 * gives *fd (a descriptor of its own, -1 when nothing is pending), the last
 * index it covers and a generation; another thread runs fdatasync(*fd) and
 * closes it; back in the caller's thread truth_wal_sync_end() with its
 * result makes upto durable -- unless entries were cut meanwhile (the
 * generation moved), then it is a no-op and the next sync covers them.
 * Records appended while a sync runs name the first index not yet known
 * durable as their batch, so recovery's torn-tail rule still holds.
 */
int truth_wal_sync_begin(struct truth_wal *wal, int *fd, uint64_t *upto,
			 uint64_t *gen, char *err);
int truth_wal_sync_end(struct truth_wal *wal, uint64_t upto, uint64_t gen,
		       int result, char *err);
/* Remove every entry >= from, durably. */
int truth_wal_truncate_suffix(struct truth_wal *wal, uint64_t from, char *err);
/* Remove the closed segments whose entries are all <= upto (covered by a
 * durable snapshot); the open segment is never removed. */
int truth_wal_compact(struct truth_wal *wal, uint64_t upto, char *err);
/* Drop every entry; the next append starts at next_index (after a
 * snapshot from the leader replaced the whole log). */
int truth_wal_reset(struct truth_wal *wal, uint64_t next_index, char *err);

typedef int (*truth_wal_entry_fn)(void *ctx, const struct truth_wal_entry *e);
/*
 * Call fn for every entry from index from to the last, in order, reading
 * from disk and checking every CRC again; e->data is valid during the call
 * only.  A non-zero return from fn stops and is returned.
 */
int truth_wal_iterate(struct truth_wal *wal, uint64_t from,
		      truth_wal_entry_fn fn, void *ctx, char *err);

/* ------------------------------------------------------------- term, vote */

#define TRUTH_META_MAGIC	"TRUTHMET"	/* metadata file magic */
#define TRUTH_META_VERSION	1		/* metadata format version */
#define TRUTH_META_SIZE		48		/* bytes of one metadata record */

/* Figure 2 "persistent state on all servers" besides the log. */
struct truth_meta {
	uint64_t term;		/* currentTerm */
	uint32_t vote;		/* votedFor in term, 0 = nobody */
};

struct truth_meta_store;

/*
 * Open the two metadata files meta-0 and meta-1 in dir and read the newest
 * valid record (none: term 0, vote 0).  A slot torn by a crash is ignored
 * with a warning; two damaged slots fail with -EIO.
 */
int truth_meta_open(struct truth_meta_store **msp, const struct truth_fs *fs,
		    const char *dir, truth_storage_log_fn log, void *log_ctx,
		    struct truth_meta *out, char *err);
/* Write m durably into the older slot (one pwrite, one fdatasync). */
int truth_meta_save(struct truth_meta_store *ms, const struct truth_meta *m,
		    char *err);
/* the value last read or saved */
void truth_meta_get(const struct truth_meta_store *ms, struct truth_meta *out);
void truth_meta_close(struct truth_meta_store *ms);

/* ------------------------------------------------------------- snapshots */

#define TRUTH_SNAP_MAGIC	"TRUTHSNP"	/* snapshot file magic */
#define TRUTH_SNAP_VERSION	1		/* snapshot format version */
#define TRUTH_SNAP_HDR		48		/* snapshot header bytes */
#define TRUTH_SNAP_KEEP		2		/* snapshots kept after a save */

/* A snapshot as read back; truth_snap_free() releases the blobs. */
struct truth_snap {
	uint64_t index;		/* last log index the snapshot covers */
	uint64_t term;		/* term of that entry */
	uint32_t conf_len;	/* bytes at conf */
	void *conf;		/* configuration as of index (opaque) */
	uint64_t data_len;	/* bytes at data */
	void *data;		/* state machine (opaque) */
};

/*
 * Write a snapshot atomically: snap-<index>-<term>.tmp, fdatasync, rename
 * to .snap, fsync the directory; then remove all but the TRUTH_SNAP_KEEP
 * newest.  Only after this returns may the log be compacted.
 */
int truth_snap_save(const struct truth_fs *fs, const char *dir,
		    const struct truth_snap *s, char *err);
/*
 * Load the newest valid snapshot (found = false when there is none).  A
 * damaged snapshot is skipped with a warning naming file and offset, and
 * the next older one is tried; truth_wal_open then refuses to start if the
 * log does not reach back to the one found.  Leftover .tmp files are
 * removed.
 */
int truth_snap_load(const struct truth_fs *fs, const char *dir,
		    truth_storage_log_fn log, void *log_ctx,
		    struct truth_snap *out, bool *found, char *err);
void truth_snap_free(struct truth_snap *s);

/* ------------------------------------------------------------- rebuild */

#define TRUTH_REBUILD_MARKER	"REBUILDING"	/* marker file in the data directory */

/* What the marker records (Documentation/storage.md "Rebuilding"). */
struct truth_rebuild_marker {
	bool term_lost;		/* term and vote were not trusted: moved too */
	int64_t started;	/* when, seconds since the epoch */
	char moved_to[64];	/* "rebuild-<UTC time>" inside the directory */
};

/*
 * truthd --rebuild, with the data directory locked: rename the storage's
 * files (wal-*, open-*, snap-*, an older marker, and meta-* unless both
 * read back cleanly) into dir/rebuild-<UTC time>/, sync, then write the
 * marker durably.  Other names (LOCK, the clock page) stay.  Nothing is deleted.  *moved gets the number of names moved.
 * A marker already there with term_lost keeps term_lost.
 */
int truth_rebuild_prepare(const char *dir, struct truth_rebuild_marker *mk,
			  unsigned *moved, char *err);
/* write the marker: .tmp, fdatasync, rename, fsync the directory */
int truth_rebuild_marker_write(const struct truth_fs *fs, const char *dir,
			       const struct truth_rebuild_marker *mk, char *err);
/*
 * *present = whether the marker exists.  A damaged marker is present with
 * term_lost set (the safe reading) and a warning.
 */
int truth_rebuild_marker_read(const struct truth_fs *fs, const char *dir,
			      bool *present, struct truth_rebuild_marker *mk,
			      truth_storage_log_fn log, void *log_ctx, char *err);
/* remove the marker durably (unlink, fsync the directory) */
int truth_rebuild_marker_clear(const struct truth_fs *fs, const char *dir,
			       char *err);

#endif /* _TRUTH_STORAGE_H */
