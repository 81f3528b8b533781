/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * truth probe: the clock-sync probe engine a daemon embeds.  It schedules
 * NTP-style four-timestamp exchanges with every peer, answers the peers'
 * probes, turns replies into samples for agent/clock (filter, Marzullo,
 * now()), and publishes the estimate in the clockbound page.
 *
 * It owns no socket and does no I/O: the daemon owns one UDP socket per
 * node (agent/clock/tsock.h helps with SO_TIMESTAMPING), encodes, decodes,
 * authenticates and replay-checks datagrams (agent/wire), and drives the
 * engine with three calls:
 *
 *	truth_probe_on_datagram(e, &msg, rx_stamp, rx_src)
 *		a PROBE or PROBE_REPLY for this node arrived; rx_stamp is the
 *		kernel's receive time (CLOCK_REALTIME ns, SO_TIMESTAMPING) or
 *		rx_src NONE when the daemon has none (the engine then reads
 *		its clocks itself, after the receive: valid, only wider)
 *	truth_probe_on_tx_time(e, cookie, tx_stamp, tx_src)
 *		the kernel's transmit time of a datagram the engine asked
 *		a TX time for (struct truth_probe_out.tx_cookie)
 *	truth_probe_next(e, &out)
 *		1 and a datagram to send now (a due probe, a reply, a
 *		two-step follow-up), 0 when nothing is due before
 *		truth_probe_deadline(e) (local clock)
 *
 * The daemon fills seq, lamport, hlc, term and the vector clock of every
 * datagram out, encodes it with the group's key and sends it to the
 * receiver's address, asking for a TX timestamp when tx_cookie != 0.
 *
 * Timescales.  Every node has a *local* clock (CLOCK_MONOTONIC_RAW in
 * truthd: never stepped nor slewed, so max_drift bounds it honestly; the
 * estimation runs on it) and a *reference* clock (CLOCK_REALTIME) whose
 * readings go on the wire as T2/T3 and which the node claims is within
 * some error of true time.  Kernel timestamps are CLOCK_REALTIME; struct
 * truth_probe_clock converts them.  A test replaces it with a simulated
 * clock (injected offset and drift, truth_probe_simclock) so that the test
 * knows true time.
 *
 * The claim.  A PROBE_REPLY carries in its header's index field the error
 * its sender claims for T2 and T3 (ns; UINT64_MAX: no claim, it is not
 * synchronised).  A node configured as an anchor (self_error > 0: its
 * reference clock is vouched for, e.g. by GPS/PTP, or by the operator)
 * claims self_error and also counts its own reference clock as a source;
 * any other node claims what its own estimate proves about its reference
 * clock.  The claim is the client's peer_error.
 *
 * Two-step.  A timestamp taken by the kernel on transmit is known only
 * after the send.  A client simply upgrades its own T1.  A server in
 * two-step mode sends PROBE_REPLY with TRUTH_WIRE_F_TWO_STEP and a
 * provisional T3 (its clock read before sendmsg: an earlier time than the
 * real send, hence a valid but wider sample), then, once the kernel
 * reports the transmit time, a follow-up: the same PROBE_REPLY with
 * F_TWO_STEP clear and tx (tx_src) the precise T3.  The client waits up to
 * followup_wait for it, uses its tx as T3 and ignores its receive trailer;
 * a follow-up with no pending first reply is an ordinary reply (its own
 * receipt is later than the first's, so the sample is still valid).
 *
 * Not thread-safe: one thread drives an engine.
 */
#ifndef _TRUTH_PROBE_H
#define _TRUTH_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "clock/clock.h"
#include "wire/wire.h"

#define TRUTH_PROBE_MAX_PEERS		TRUTH_CLOCK_MAX_PEERS
#define TRUTH_PROBE_INFLIGHT		64	/* probes awaiting a reply */
#define TRUTH_PROBE_OUTBOX		64	/* datagrams queued to send */
#define TRUTH_PROBE_NO_CLAIM		UINT64_MAX	/* "not synchronised" */

#define TRUTH_PROBE_DEFAULT_POLL	(500 * 1000000LL)	/* 2 Hz per peer */
#define TRUTH_PROBE_DEFAULT_BURST	1
#define TRUTH_PROBE_DEFAULT_BURST_GAP	(2 * 1000000LL)
#define TRUTH_PROBE_DEFAULT_TIMEOUT	(1000 * 1000000LL)	/* reply lost after */
#define TRUTH_PROBE_DEFAULT_FOLLOWUP	(5 * 1000000LL)	/* wait for a follow-up */
#define TRUTH_PROBE_DEFAULT_MAX_CLAIM	(1000 * 1000000LL)	/* claims above: unusable */
/*
 * CLOCK_REALTIME may run at another rate than CLOCK_MONOTONIC_RAW by up to
 * 11%: ADJ_TICK's +-10% (chrony slews at up to 83 333 ppm with it) plus
 * ADJ_FREQUENCY's 500 ppm and the PLL's 500 ppm.  Converting a kernel
 * timestamp to the local clock is off by at most that rate times the time
 * between the stamp and the conversion (microseconds).
 */
#define TRUTH_PROBE_REALTIME_SLEW_PPB	110000000u

/* Timestamp precision by source: what each adds to an exchange's error. */
#define TRUTH_PROBE_PREC_USER		1000u	/* clock_gettime around a syscall */
#define TRUTH_PROBE_PREC_SOCKET		100u	/* SO_TIMESTAMPING software */
#define TRUTH_PROBE_PREC_TC		100u	/* truth.ko's tc hooks */
#define TRUTH_PROBE_PREC_HW		50u	/* NIC */

/* The local clock and the kernel stamps' clock read together. */
struct truth_probe_pair {
	int64_t local;			/* local clock, middle of the bracket */
	int64_t stamp;			/* kernel stamps' clock (REALTIME) */
	uint32_t err;			/* |error| of local vs stamp, ns */
};

/*
 * A node's clocks.  Real ones: truth_probe_clock_real(); simulated ones
 * with a known offset and drift: truth_probe_clock_sim().
 */
struct truth_probe_clock {
	/* the local clock now */
	int64_t (*local_now)(void *arg);
	/* the reference clock now (what goes on the wire) */
	int64_t (*ref_now)(void *arg);
	/* local clock at kernel timestamp @stamp; *err: conversion error */
	int64_t (*stamp_local)(void *arg, int64_t stamp, uint32_t *err);
	/* reference clock at kernel timestamp @stamp */
	int64_t (*stamp_ref)(void *arg, int64_t stamp);
	void *arg;
	int32_t local_clock_id;		/* clockid_t published in the page */
	/*
	 * How fast the reference clock's error can change (REALTIME can be
	 * slewed: TRUTH_PROBE_REALTIME_SLEW_PPB); a derived claim made at one
	 * instant is widened by it over the span from T2 to T3.
	 */
	uint32_t ref_slew_ppb;
	/*
	 * Optional (NULL: stamp_local at the time of the conversion).  A
	 * reading of the local clock and the kernel stamps' clock together,
	 * taken just before a send, and the local clock at kernel stamp
	 * @stamp converted through it: a transmit stamp lies microseconds
	 * from that pair, while the reply that brings it back comes a round
	 * trip later, and the conversion's error grows with the distance.
	 */
	void (*pair_now)(void *arg, struct truth_probe_pair *p);
	int64_t (*pair_local)(void *arg, const struct truth_probe_pair *p,
			      int64_t stamp, uint32_t *err);
	/*
	 * Optional (NULL: never).  Whether the reference clock now reads
	 * what kernel stamps count (stamp_ref is the identity: no test
	 * skew), so that a kernel stamp may stand on the wire for a
	 * reference reading (truth.ko's egress stamp of T3, tc_kstamp).
	 */
	bool (*ref_is_stamp)(void *arg);
};

/* The real clocks: MONOTONIC_RAW local, REALTIME reference and stamps. */
void truth_probe_clock_real(struct truth_probe_clock *clk, uint32_t *slew_ppb);

/*
 * The test-only skew of a real node (truthd's test_clock_offset_ns and
 * test_clock_drift_ppm): its reference clock reads
 *
 *	REALTIME + offset + carried + (REALTIME - t0) * drift_ppm / 10^6
 *
 * and kernel timestamps (CLOCK_REALTIME) are skewed the same way on the
 * reference timescale; the local clock (RAW) is not touched.  A zeroed
 * struct with slew_ppb set is no skew.
 */
#define TRUTH_PROBE_SKEW_MAX_DRIFT_PPM	100000	/* 10% */
#define TRUTH_PROBE_SKEW_MAX_OFFSET	(86400 * TRUTH_CLOCK_NSEC)	/* one day */

struct truth_probe_skew {
	int64_t offset;			/* ns added to REALTIME */
	int32_t drift_ppm;		/* runs this much fast from t0 */
	int64_t t0;			/* REALTIME the drift counts from */
	int64_t carried;		/* drift accumulated before t0, ns */
	uint32_t slew_ppb;		/* REALTIME slew bound for conversions */
	/*
	 * != 0: the clock under the skew is not REALTIME but RAW + raw_base
	 * (a clock nothing can slew or step: a test disciplining REALTIME
	 * keeps an independent reference); REALTIME stamps are moved onto it
	 * through a REALTIME/RAW reading pair (sub-microsecond here).
	 */
	int64_t raw_base;
};
/* The clock under the skew now: REALTIME, or RAW + raw_base. */
int64_t truth_probe_skew_base_now(const struct truth_probe_skew *s);
/* A CLOCK_REALTIME kernel stamp on that clock. */
int64_t truth_probe_skew_base_stamp(const struct truth_probe_skew *s, int64_t stamp);
/* REALTIME - RAW now, read as tightly as a few tries allow. */
int64_t truth_probe_real_minus_raw(void);

/* The skewed reading of REALTIME reading (or kernel stamp) @real. */
int64_t truth_probe_skew_apply(const struct truth_probe_skew *s, int64_t real);
/* New offset and drift from REALTIME @real on, keeping the drift so far. */
void truth_probe_skew_set(struct truth_probe_skew *s, int64_t real,
			  int64_t offset, int32_t drift_ppm);
/*
 * Real clocks with the reference skewed by @s (read at every use, so
 * truth_probe_skew_set() applies at once).  @max_drift_ppm: the largest
 * |drift| @s may ever be given; it widens ref_slew_ppb.
 */
void truth_probe_clock_skewed(struct truth_probe_clock *clk,
			      struct truth_probe_skew *s, uint32_t max_drift_ppm);

/*
 * The test-only clock layer.  True time is the host's CLOCK_REALTIME (what
 * kernel timestamps count), so a test reads true time directly.  The
 * node's local clock reads true + offset + (true - t0) drift / 10^9, its
 * reference clock true + ref_bias.
 */
struct truth_probe_simclock {
	int64_t t0;			/* true time the drift counts from */
	int64_t offset;			/* local - true at t0, ns */
	int64_t drift_ppb;		/* local rate error, parts per 10^9 */
	int64_t ref_bias;		/* reference - true, ns */
};

void truth_probe_clock_sim(struct truth_probe_clock *clk,
			   struct truth_probe_simclock *sim);
/* The simulated local clock at true time @t. */
int64_t truth_probe_simclock_local(const struct truth_probe_simclock *sim,
				   int64_t t);
/* True time now (the host's CLOCK_REALTIME). */
int64_t truth_probe_true_now(void);

struct truth_probe_config {
	uint32_t self;			/* this node's id */
	uint32_t group;			/* group id */
	int64_t poll;			/* local ns between bursts to a peer */
	uint32_t burst;			/* probes per burst (>= 1) */
	int64_t burst_gap;		/* local ns between probes of a burst */
	int64_t reply_timeout;		/* unanswered this long: lost */
	int64_t followup_wait;		/* wait this long for a follow-up */
	bool two_step;			/* our socket reports TX times */
	/*
	 * truth.ko's tc hooks stamp this node's probes: believe a receive
	 * trailer and an echoed tx that say TSRC_TC/HW.  The trailer is not
	 * covered by the MAC, so without the hooks anyone on the path could
	 * write it; it is ignored then.
	 */
	bool tc_stamps;
	/*
	 * Ask truth.ko's tc egress hook to write the transmit time into our
	 * PROBEs and PROBE_REPLYs (TRUTH_WIRE_F_STAMP; it sets F_KSTAMPED):
	 * T1 then comes back as the reply's echo_tx, T3 goes to the client
	 * as tx.  Needs tc_stamps (the fast path attached).  Replies are
	 * stamped only while the reference clock reads kernel time
	 * unchanged (clk->ref_is_stamp: no test skew, which the kernel does
	 * not know), and stay two-step until our own probes show that the
	 * hook stamps, so a hook that does not leaves the socket's T3.
	 */
	bool tc_kstamp;
	uint64_t self_error;		/* >0: anchor, our reference is this good */
	uint64_t max_claim;		/* peers claiming more are not used */
	uint32_t prec[__TRUTH_WIRE_TSRC_MAX];	/* precision by source, ns */
	struct truth_clock_config clock; /* the estimator's */
};

/* One completed exchange, as reported to the sample callback. */
struct truth_probe_sample {
	uint32_t peer;			/* who answered */
	uint64_t id;			/* probe id */
	struct truth_clock_exchange x;	/* T1..T4 and error terms fed */
	uint8_t src[4];			/* enum truth_wire_tsrc of T1..T4 */
	bool followup;			/* T3 came from a two-step follow-up */
	int64_t offset;			/* theta */
	int64_t delay;			/* delta */
	int result;			/* truth_clock_add_sample()'s */
	int update;			/* truth_clock_update()'s after it */
};

/* Counters. */
struct truth_probe_stats {
	uint64_t probes_sent;		/* PROBEs handed out */
	uint64_t probes_answered;	/* PROBEs from peers we answered */
	uint64_t replies;		/* PROBE_REPLYs matched to a probe */
	uint64_t followups;		/* follow-ups that gave a precise T3 */
	uint64_t followups_missed;	/* provisional T3 used after waiting */
	uint64_t lost;			/* probes timed out */
	uint64_t stray;			/* replies to no probe of ours, or late */
	uint64_t foreign;		/* not for us / unknown peer / group */
	uint64_t unclaimed;		/* replies whose claim we cannot use */
	uint64_t samples;		/* exchanges fed to the estimator */
	uint64_t refused;		/* ...and refused as impossible */
	uint64_t tx_stamps;		/* TX times that upgraded a timestamp */
	uint64_t outbox_full;		/* datagrams dropped: outbox full */
	/* samples by the source of each timestamp: [T1..T4][enum truth_wire_tsrc] */
	uint64_t src[4][__TRUTH_WIRE_TSRC_MAX];
	uint64_t kstamp_asked;		/* datagrams sent with F_STAMP */
	uint64_t kstamp_unstamped;	/* our F_STAMP probes the hook did not stamp */
	uint64_t kstamp_replies;	/* replies whose T3 truth.ko wrote */
};

/* A datagram to send. */
struct truth_probe_out {
	struct truth_wire_msg msg;	/* seq/lamport/hlc/term/vc: the daemon's */
	uint64_t tx_cookie;		/* != 0: report its TX time with it */
};

typedef void (*truth_probe_sample_fn)(void *arg,
				      const struct truth_probe_sample *s);

struct truth_probe;

void truth_probe_config_default(struct truth_probe_config *cfg);

/* NULL with a reason in @err on a bad config or no memory. */
struct truth_probe *truth_probe_new(const struct truth_probe_config *cfg,
				    const struct truth_probe_clock *clk,
				    char *err, size_t errlen);
void truth_probe_free(struct truth_probe *e);

/* Start (stop) probing @id; it counts in the quorum from now on. */
int truth_probe_peer_add(struct truth_probe *e, uint32_t id);
int truth_probe_peer_remove(struct truth_probe *e, uint32_t id);
/* Stop sending probes to @id but keep it configured (it "vanished"). */
int truth_probe_peer_pause(struct truth_probe *e, uint32_t id, bool paused);

/* Called for every completed exchange (may be NULL). */
void truth_probe_set_sample_cb(struct truth_probe *e, truth_probe_sample_fn fn,
			       void *arg);

/*
 * The page's file for a writer: created at @path (0644) through a rename,
 * initialised for local clock @clock_id, mapped read-write.  NULL with
 * errno on failure.  truth_clock_shm_unmap() unmaps it (the file stays, so
 * readers go on aging the last bound).
 */
struct truth_clockbound_page *truth_clock_shm_create(const char *path,
						     int32_t clock_id);
void truth_clock_shm_unmap(struct truth_clockbound_page *p);

/* Publish every new estimate in @page (initialised here; NULL: stop). */
void truth_probe_set_page(struct truth_probe *e,
			  struct truth_clockbound_page *page);

/*
 * A PROBE or PROBE_REPLY for us (already authenticated and replay-checked).
 * 0, or -EINVAL (not for us / wrong type, counted as foreign), -ENOENT
 * (reply to no pending probe).  Replies and follow-ups to send are queued
 * for truth_probe_next().
 */
int truth_probe_on_datagram(struct truth_probe *e,
			    const struct truth_wire_msg *m, int64_t rx_stamp,
			    uint8_t rx_src);

/* The kernel's TX time of the datagram sent with @cookie.  0 or -ENOENT. */
int truth_probe_on_tx_time(struct truth_probe *e, uint64_t cookie,
			   int64_t tx_stamp, uint8_t tx_src);

/* 1 and @out filled, or 0: nothing due now. */
int truth_probe_next(struct truth_probe *e, struct truth_probe_out *out);

/* Local clock time of the next thing due (probe, timeout, follow-up wait). */
int64_t truth_probe_deadline(const struct truth_probe *e);

/* Local clock reading now. */
int64_t truth_probe_local_now(const struct truth_probe *e);

/* [earliest, latest] now, or at local reading @local. */
void truth_probe_now(const struct truth_probe *e, struct truth_clock_now *n);
void truth_probe_now_at(const struct truth_probe *e, int64_t local,
			struct truth_clock_now *n);

/* The estimator (peer info, estimate); owned by the engine. */
struct truth_clock *truth_probe_estimator(struct truth_probe *e);

void truth_probe_get_stats(const struct truth_probe *e,
			   struct truth_probe_stats *st);

/*
 * An external reference (the local chrony): at some moment between local
 * readings @l1 and @l2 the reference clock was within @bound ns of true
 * time; @ref is a reading of the reference clock taken between local
 * readings @lr1 >= l1 and @lr2 (right after the answer: the bound is
 * widened by how far the reference can have moved from l1 to lr2,
 * ref_slew_ppb + max drift).  It counts as one more source
 * (TRUTH_CLOCK_REF_EXTERNAL) and the engine selects at once.  Configure it first
 * so that it counts in the quorum while absent; _unset when the source
 * says it is not synchronised (it then stops counting as a candidate, but
 * still counts in the quorum).  Anchors and external references make the
 * engine select at least every poll, with or without exchanges.
 */
void truth_probe_external_configure(struct truth_probe *e, bool on);
int truth_probe_set_external(struct truth_probe *e, uint64_t bound,
			     int64_t l1, int64_t l2, int64_t ref, int64_t lr1,
			     int64_t lr2);
void truth_probe_external_unset(struct truth_probe *e);

/* The error this node claims for its reference clock now (the index). */
uint64_t truth_probe_claim(struct truth_probe *e);

const char *truth_probe_tsrc_name(uint8_t src);

#endif /* _TRUTH_PROBE_H */
