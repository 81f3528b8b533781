/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * truth kv: truthd's replicated state machine, the keyspace.
 *
 * A write request becomes a log entry (truth_kv_encode) carrying the
 * command and the leader's clock (unix ms) so that EX/PX expiry comes out
 * the same on every replica; committed entries are applied in log order
 * (truth_kv_apply) to a truth_resp_store.  Snapshots are the whole store
 * (truth_kv_snapshot / truth_kv_restore).  Layouts: Documentation/truthd.md,
 * "State machine".
 */
#ifndef _TRUTH_KV_H
#define _TRUTH_KV_H

#include <stddef.h>
#include <stdint.h>

#include "resp/resp.h"

#define TRUTH_KV_VERSION	1
#define TRUTH_KV_SNAP_MAGIC	"TRUTHKV1"

enum truth_kv_op {
	TRUTH_KV_SET = 1,
	TRUTH_KV_DEL = 2,
	TRUTH_KV_INCRBY = 3,
};

struct truth_kv {
	struct truth_resp_store *store;
	struct truth_resp_out scratch;	/* replies nobody waits for */
	uint64_t applied;		/* entries applied (stats) */
};

int truth_kv_init(struct truth_kv *kv);
void truth_kv_fini(struct truth_kv *kv);

/*
 * Encode a write request (SET, DEL, INCR family) stamped with now_ms into a
 * malloc()ed buffer.  Returns its length, -EINVAL for a request that is not
 * a write, -ENOMEM.
 */
long truth_kv_encode(const struct truth_resp_request *req, int64_t now_ms,
		     uint8_t **out);

/*
 * Apply one committed entry; its reply goes to out (NULL: dropped).
 * Returns 0, or -EINVAL for an entry that does not decode (it is skipped,
 * identically on every replica, and logged by the caller).
 */
int truth_kv_apply(struct truth_kv *kv, const void *data, size_t len,
		   struct truth_resp_out *out);

/* Execute a read (GET, MGET, EXISTS) at now_ms against the applied state. */
int truth_kv_read(struct truth_kv *kv, const struct truth_resp_request *req,
		  int64_t now_ms, struct truth_resp_out *out);

/* The whole store as one malloc()ed buffer; length or -ENOMEM. */
long truth_kv_snapshot(struct truth_kv *kv, uint8_t **out);
/* Replace the store with a snapshot's; 0 or -EINVAL (store unchanged). */
int truth_kv_restore(struct truth_kv *kv, const void *buf, size_t len);

#endif /* _TRUTH_KV_H */
