/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * truth probe: the engine's state, shared by probe.c (scheduling, the
 * exchange, samples) and probe_claim.c (claims and reference sources).
 * Not an API: agent/clock/probe.h is.
 */
#ifndef _TRUTH_PROBE_INT_H
#define _TRUTH_PROBE_INT_H

#include "clock/probe.h"

#define REPLY_COOKIE	(1ULL << 63)	/* cookies of replies (else probe ids) */

struct probe_peer {
	bool used;			/* slot holds a peer */
	bool paused;			/* configured, not polled */
	uint32_t id;			/* node id */
	int64_t next_due;		/* local time of its next probe */
	uint32_t burst_left;		/* probes left in the current burst */
};

/* A probe of ours awaiting its reply (or its reply's follow-up). */
struct inflight {
	bool used;			/* slot in use */
	bool replied;			/* first reply in, waiting for follow-up */
	uint32_t peer;			/* who it went to */
	uint64_t id;			/* probe id (also its tx cookie) */
	int64_t sent;			/* local time it was handed out */
	int64_t wait_until;		/* replied: give up on the follow-up */
	uint64_t wire_tx;		/* the tx we put on the wire */
	int64_t t[4];			/* T1 (local), T2, T3 (peer), T4 (local) */
	uint32_t err[4];		/* conversion errors of T1, T4 */
	uint8_t src[4];			/* enum truth_wire_tsrc of each */
	uint64_t claim;			/* the peer's claimed error */
	bool kstamp;			/* sent with F_STAMP */
	bool have_pair;			/* pair read before the send */
	struct truth_probe_pair pair;	/* local and stamp clocks then */
};

/* A two-step reply of ours whose precise T3 is to follow. */
struct followup {
	bool used;			/* slot in use */
	uint64_t cookie;		/* its tx cookie */
	int64_t made;			/* local time it was handed out */
	uint64_t provisional;		/* its provisional tx */
	struct truth_wire_msg msg;	/* the reply, to resend as follow-up */
};

struct truth_probe {
	struct truth_probe_config cfg;	/* validated */
	struct truth_probe_clock clk;	/* the node's clocks */
	struct truth_clock *est;	/* the estimator */
	struct probe_peer peers[TRUTH_PROBE_MAX_PEERS];
	struct inflight fl[TRUTH_PROBE_INFLIGHT];
	struct followup fu[TRUTH_PROBE_INFLIGHT];
	struct truth_probe_out outbox[TRUTH_PROBE_OUTBOX]; /* ring */
	uint32_t out_head, out_len;	/* ring position and fill */
	uint64_t next_id;		/* next probe id */
	uint64_t next_reply;		/* next reply cookie */
	uint64_t rng;			/* poll jitter */
	struct truth_clockbound_page *page; /* published estimate, or NULL */
	int64_t next_update;		/* local: re-select with reference sources */
	bool ext;			/* an external reference is configured */
	bool kstamp_works;		/* our last F_STAMP probe came back stamped */
	truth_probe_sample_fn cb;	/* sample callback */
	void *cb_arg;
	struct truth_probe_stats st;
};

/* Select now and publish the estimate (probe.c). */
int truth_probe_update(struct truth_probe *e);
/* An anchor's own reference clock as a source (probe_claim.c). */
void truth_probe_anchor_reference(struct truth_probe *e);
/* The claim for a reply with T2 @t2 and T3 @t3 (probe_claim.c). */
uint64_t truth_probe_reply_claim(struct truth_probe *e, int64_t t2, int64_t t3);

#endif /* _TRUTH_PROBE_INT_H */
