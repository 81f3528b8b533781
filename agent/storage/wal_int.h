/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * truth storage: the log's internals shared by wal.c (writing) and
 * wal_recover.c (opening).  The format is in Documentation/storage.md.
 *
 * Segment header (TRUTH_WAL_SEG_HDR = 32 bytes, little-endian):
 *	0   8  magic "TRUTHWAL"
 *	8   4  version (1)
 *	12  4  reserved, 0
 *	16  8  index of the segment's first record
 *	24  4  reserved, 0
 *	28  4  CRC32C of bytes 0..27
 *
 * Record (TRUTH_WAL_REC_HDR = 40 bytes + payload padded to 8):
 *	0   4  CRC32C of bytes 4..end of padding
 *	4   4  payload length
 *	8   8  index
 *	16  8  term
 *	24  8  batch: first index written since the last completed sync
 *	32  1  type
 *	33  7  reserved, 0
 *	40  n  payload, then zeros up to a multiple of 8
 */
#ifndef _TRUTH_WAL_INT_H
#define _TRUTH_WAL_INT_H

#include "storage_int.h"

#define WAL_NAME_LEN	64	/* longest segment file name, with NUL */

/* One segment file.  Closed ones hold first..last exactly. */
struct wal_seg {
	uint64_t first;		/* index of its first record (from the name) */
	uint64_t last;		/* index of its last record */
	uint64_t last_term;	/* term of its last record */
	char name[WAL_NAME_LEN]; /* file name in the data directory */
};

struct truth_wal {
	struct truth_fs fs;		/* file layer */
	char dir[TRUTH_PATH_MAX];	/* data directory */
	uint64_t seg_size;		/* bytes pre-allocated per segment */
	truth_storage_log_fn log;	/* where recovery reports */
	void *log_ctx;			/* its argument */

	struct wal_seg *closed;		/* closed segments, by index */
	size_t n_closed;		/* how many */

	int fd;				/* open segment, -1 when none */
	uint64_t open_first;		/* index its first record has */
	uint64_t tail;			/* byte offset of its next record */
	uint64_t *offs;			/* byte offset of each of its records */
	uint64_t *terms;		/* term of each of its records */
	size_t n_open;			/* records in it */
	size_t cap_open;		/* slots in offs and terms */

	uint64_t first_index;		/* first entry kept */
	uint64_t last_index;		/* last entry written */
	uint64_t last_term;		/* its term, 0 when empty */
	uint64_t durable_index;		/* last entry known durable */
	uint64_t batch;			/* first index since the last sync, 0 =
					   nothing pending */
	uint64_t gen;			/* bumped when entries are cut: a sync
					   begun before covers nothing after */
	int failed;			/* -errno: a write or sync failed, the
					   page cache can no longer be trusted */
	char failed_msg[TRUTH_STORAGE_ERRLEN]; /* why */

	uint8_t *buf;			/* record encoding buffer */
	size_t buf_cap;			/* its size */
	struct truth_wal_stats st;	/* counters */
};

/* result of decoding one record */
struct wal_rec {
	struct truth_wal_entry e;	/* the entry (data points into buf) */
	uint64_t batch;			/* its batch field */
	uint64_t size;			/* bytes it occupies, padding included */
};

static inline uint64_t wal_rec_size(uint32_t len)
{
	return TRUTH_WAL_REC_HDR + (((uint64_t)len + TRUTH_WAL_ALIGN - 1) &
				    ~(uint64_t)(TRUTH_WAL_ALIGN - 1));
}

void wal_name_closed(char *buf, uint64_t first, uint64_t last);
void wal_name_open(char *buf, uint64_t first);
void wal_seg_header(uint8_t *hdr, uint64_t first);
/* NULL if hdr is a valid header for a segment starting at first (0 = any),
 * else why not; *first_out gets the header's first index */
const char *wal_seg_header_check(const uint8_t *hdr, uint64_t first,
				 uint64_t *first_out);
/* NULL and *r filled if a valid record starts at p (avail bytes left),
 * else why not */
const char *wal_rec_decode(const uint8_t *p, uint64_t avail, struct wal_rec *r);
/* remember a record of the open segment */
int wal_open_push(struct truth_wal *wal, uint64_t off, uint64_t term);
/* create the open segment for first (tmp file, header, preallocate, sync,
 * rename, sync dir) */
int wal_open_create(struct truth_wal *wal, uint64_t first, char *err);
/* delete a file and sync the directory */
int wal_unlink_sync(struct truth_wal *wal, const char *name, char *err);
/* drop every segment and start empty at next */
int wal_reset(struct truth_wal *wal, uint64_t next, char *err);
/* cut the open segment back to its first keep records, durably */
int wal_open_cut(struct truth_wal *wal, size_t keep, char *err);

#endif /* _TRUTH_WAL_INT_H */
