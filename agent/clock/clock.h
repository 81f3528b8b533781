/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * truth clock: clock-synchronisation estimation with error bounds, a
 * TrueTime-style now(), commit-wait and lease helpers.
 *
 * Pure: no I/O, no threads, no clock reads.  Every time is passed in by the
 * caller as a reading of one *local* clock (truthd uses CLOCK_MONOTONIC_RAW:
 * never stepped nor slewed, so its rate error is the oscillator's alone).
 * The adapter (truthd's prober, later) does the network part:
 *
 *	truth_clock_new(&cfg)			once
 *	truth_clock_peer_add(c, id)		per peer (and _remove)
 *	truth_clock_add_sample(c, id, &x)	per completed NTP exchange
 *	truth_clock_set_reference(c, ...)	optional (the local chrony)
 *	truth_clock_update(c, local_now)	after samples, or periodically
 *	truth_clock_now(c, local_now, &n)	[earliest, latest] + status
 *	truth_clock_get_estimate(c, &e)		for truth_clock_shm_write()
 *
 * Model (Documentation/clock.md has the derivations): true time t, local
 * clock reads t + L(t) with |dL/dt| <= max_drift.  Each source (a peer, or
 * the reference) claims its own clock is within peer_error of true time.
 * An exchange T1 (local send), T2 (peer receive), T3 (peer send), T4 (local
 * receive) gives an interval that contains true - local at T4, whatever the
 * path asymmetry; the interval widens with age at the drift rate; a clock
 * filter intersects a peer's recent samples; Marzullo's algorithm finds the
 * agreement of a majority of the sources and names the falsetickers.
 *
 * Times are int64 ns; intervals are closed.  No locking: one thread owns a
 * clock (truthd's clock loop); other processes read the published page.
 */
#ifndef _TRUTH_CLOCK_H
#define _TRUTH_CLOCK_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include <truth/clockbound.h>

#define TRUTH_CLOCK_MAX_PEERS		32	/* peers per clock */
#define TRUTH_CLOCK_MAX_REFS		2	/* reference sources besides peers */
#define TRUTH_CLOCK_MAX_SOURCES		(TRUTH_CLOCK_MAX_PEERS + TRUTH_CLOCK_MAX_REFS)
/* Reference slots: what truth_clock_set_reference() sets, and one more. */
#define TRUTH_CLOCK_REF_MAIN		0	/* an anchor's own clock */
#define TRUTH_CLOCK_REF_EXTERNAL	1	/* e.g. the local chrony */
#define TRUTH_CLOCK_FILTER_LEN		8	/* samples kept per peer (NTP's) */
#define TRUTH_CLOCK_NSEC		1000000000LL	/* ns per second */

/*
 * Default maximum drift of the local clock: 200 ppm.  Spanner's TrueTime
 * assumes the same worst case (Corbett et al., OSDI 2012, section 3); it is
 * twice the +-100 ppm that commodity quartz oscillators are specified for
 * over temperature and ageing, and it needs no trust in any frequency
 * estimate.  Its cost: the bound widens by 200 us per second without a
 * sample, so poll peers often (a LAN prober at 2-4 Hz keeps that term
 * under 100 us) or configure a tighter bound for known hardware.
 */
#define TRUTH_CLOCK_DEFAULT_MAX_DRIFT_PPB	200000u
#define TRUTH_CLOCK_DEFAULT_SYNC_TIMEOUT	(8 * TRUTH_CLOCK_NSEC)	/* FREE_RUNNING after */
#define TRUTH_CLOCK_DEFAULT_MAX_SAMPLE_AGE	(64 * TRUTH_CLOCK_NSEC)	/* samples dropped after */
#define TRUTH_CLOCK_DEFAULT_OUTLIER_FACTOR	300	/* % of the window's min delay */
#define TRUTH_CLOCK_DEFAULT_OUTLIER_FLOOR	20000	/* ns above min delay always kept */

/* Errors (negative errno values, as returned). */
#define TRUTH_CLOCK_EINVAL	(-EINVAL)	/* bad argument or impossible sample */
#define TRUTH_CLOCK_ENOENT	(-ENOENT)	/* no such peer / no fresh source */
#define TRUTH_CLOCK_EEXIST	(-EEXIST)	/* peer already added */
#define TRUTH_CLOCK_ENOSPC	(-ENOSPC)	/* TRUTH_CLOCK_MAX_PEERS reached */
#define TRUTH_CLOCK_EAGAIN	(-EAGAIN)	/* sources do not agree (no majority) */

/* A closed interval of offsets (true - local) or of times, ns. */
struct truth_clock_interval {
	int64_t lo;			/* smallest value inside */
	int64_t hi;			/* largest value inside */
};

/* One NTP four-timestamp exchange with its error terms, as measured. */
struct truth_clock_exchange {
	int64_t t1;			/* local clock at request send */
	int64_t t2;			/* peer clock at request receive */
	int64_t t3;			/* peer clock at reply send */
	int64_t t4;			/* local clock at reply receive */
	uint32_t local_precision;	/* |error| of t1, t4 vs the local clock, ns */
	uint32_t peer_precision;	/* |error| of t2, t3 vs the peer's clock, ns */
	uint64_t peer_error;		/* peer's clock is within this of true time */
};

/* A sample: an exchange reduced to offset, delay and error terms. */
struct truth_clock_sample {
	int64_t offset;			/* theta = ((t2 - t1) + (t3 - t4)) / 2 */
	int64_t delay;			/* delta = (t4 - t1) - (t3 - t2) */
	int64_t lo;			/* t3 - t4 = theta - delta/2, exact */
	int64_t hi;			/* t2 - t1 = theta + delta/2, exact */
	uint64_t dispersion;		/* precisions + drift during exchange */
	uint64_t peer_error;		/* the peer's claimed error */
	int64_t as_of;			/* t4: local time the interval is for */
	uint32_t local_precision;	/* |error| of as_of: widens the aging */
};

/* Configuration; truth_clock_config_default() fills the defaults. */
struct truth_clock_config {
	uint32_t max_drift_ppb;		/* bound on local clock rate error */
	uint32_t outlier_factor;	/* delay > min * this / 100 is an outlier */
	uint64_t outlier_floor;		/* ...and only if delay - min > this, ns */
	int64_t max_sample_age;		/* older samples are dropped, ns */
	int64_t sync_timeout;		/* no agreement for this long: FREE_RUNNING */
	int32_t max_falsetickers;	/* -1: Marzullo's best; f >= 0: robust */
	uint32_t min_sources;		/* agreement needs this many; 0: majority */
};
/*
 * Selection (truth_clock_update()).  With max_falsetickers = -1 (default)
 * the agreement is Marzullo's: the largest set of sources with a common
 * point, which must hold at least min_sources of them (0: a strict
 * majority of the configured peers plus the reference, so that a lone
 * survivor can never outvote the absent).  It contains true time when the
 * sources that contain it outnumber any other group with a common point.
 * With max_falsetickers = f >= 0 the agreement is the hull of the points
 * covered by all but f of the n candidates, and n - f must reach
 * min_sources: wider, but it contains true time whenever at most f sources
 * are wrong, whatever intervals the wrong ones claim (even ones
 * overlapping the truth).
 */

/* What the last truth_clock_update() made of a source. */
enum truth_clock_peer_state {
	TRUTH_CLOCK_PEER_NONE = 0,	/* no usable sample (none yet, or too old) */
	TRUTH_CLOCK_PEER_TRUECHIMER,	/* intersects the agreement: used */
	TRUTH_CLOCK_PEER_FALSETICKER,	/* outside the agreement: excluded */
};

/* A peer as seen by the last update (truth_clock_peer_info()). */
struct truth_clock_peer_info {
	uint32_t id;			/* the caller's peer id */
	uint32_t state;			/* enum truth_clock_peer_state */
	struct truth_clock_interval interval; /* offset interval at the update */
	int64_t offset;			/* theta of its lowest-delay sample */
	int64_t delay;			/* delta of that sample */
	uint32_t samples;		/* samples in the filter */
	uint64_t accepted;		/* samples ever accepted */
	uint64_t outliers;		/* of those, rejected as delay outliers */
	uint64_t invalid;		/* exchanges refused as impossible */
	uint64_t resets;		/* filter flushed: new sample contradicted it */
};

/* The clock's estimate: the agreed offset interval as of a local time. */
struct truth_clock_estimate {
	int64_t as_of;			/* local clock reading of the update */
	struct truth_clock_interval offset; /* true - local at as_of */
	uint32_t max_drift_ppb;		/* growth rate after as_of */
	uint32_t status;		/* UNKNOWN (never agreed) or SYNCHRONISED */
	int64_t fresh;			/* local time of the newest agreeing sample */
	int64_t sync_timeout;		/* FREE_RUNNING once fresh is this old */
	uint32_t sources;		/* sources counted in the agreement */
	uint32_t candidates;		/* sources with a usable interval */
	uint32_t falsetickers;		/* candidates outside the agreement */
};

/* A TrueTime reading: true time is within [earliest, latest]. */
struct truth_clock_now {
	int64_t earliest;		/* true time >= this, ns */
	int64_t latest;			/* true time <= this, ns */
	uint64_t epsilon;		/* (latest - earliest) / 2, rounded up */
	int64_t local;			/* the local reading it is for */
	uint32_t status;		/* enum truth_clock_status */
};

/* Marzullo / intersection result over a set of intervals. */
struct truth_clock_selection {
	uint32_t count;			/* sources covering the result's points */
	struct truth_clock_interval result; /* smallest interval holding them */
	bool found;			/* false: no point reaches the count asked */
};

struct truth_clock;

/* ---------------------------------------------------------- samples */

/*
 * Reduce exchange @x to a sample, @max_drift_ppb bounding both clocks'
 * rates.  0, or TRUTH_CLOCK_EINVAL if the exchange is impossible under the
 * model (t4 < t1, t3 < t2, or a delay more negative than the error terms
 * allow: some claimed precision or peer_error is false).
 */
int truth_clock_sample_from_exchange(const struct truth_clock_exchange *x,
				     uint32_t max_drift_ppb,
				     struct truth_clock_sample *s);

/* The interval of true - local that @s guarantees at local time @at. */
void truth_clock_sample_interval(const struct truth_clock_sample *s,
				 int64_t at, uint32_t max_drift_ppb,
				 struct truth_clock_interval *out);

/* Widen @iv, valid at local time @from, to local time @to. */
void truth_clock_interval_age(struct truth_clock_interval *iv, int64_t from,
			      int64_t to, uint32_t max_drift_ppb);

/* ---------------------------------------------------------- selection */

/*
 * Hull of the points covered by at least @need of the @n intervals @iv:
 * the smallest interval containing every such point.  If at most n - need
 * intervals miss true time (whatever they claim), true time is inside.
 */
void truth_clock_intersect(const struct truth_clock_interval *iv, uint32_t n,
			   uint32_t need, struct truth_clock_selection *sel);

/*
 * Marzullo's algorithm: the largest number of intervals with a common point,
 * and the smallest interval holding every point covered by that many.
 * O(n log n).
 */
void truth_clock_marzullo(const struct truth_clock_interval *iv, uint32_t n,
			  struct truth_clock_selection *sel);

/* ---------------------------------------------------------- the clock */

void truth_clock_config_default(struct truth_clock_config *cfg);

/* A new clock, or NULL (bad config: TRUTH_CLOCK_EINVAL in *err, or ENOMEM). */
struct truth_clock *truth_clock_new(const struct truth_clock_config *cfg,
				    int *err);
void truth_clock_free(struct truth_clock *c);

int truth_clock_peer_add(struct truth_clock *c, uint32_t id);
int truth_clock_peer_remove(struct truth_clock *c, uint32_t id);

/*
 * Feed a completed exchange with peer @id.  0 if kept in the filter (it may
 * still be a delay outlier at the next update), or a negative error.
 */
int truth_clock_add_sample(struct truth_clock *c, uint32_t id,
			   const struct truth_clock_exchange *x);

/*
 * The reference source: at local time @as_of, true - local is within
 * @offset (e.g. from chrony: -offset +- (root dispersion + root delay/2)).
 * It counts as one more source in the agreement.
 */
int truth_clock_set_reference(struct truth_clock *c,
			      const struct truth_clock_interval *offset,
			      int64_t as_of);
void truth_clock_clear_reference(struct truth_clock *c);

/*
 * Reference sources by slot (TRUTH_CLOCK_REF_*; the calls above are slot
 * MAIN).  A configured slot counts in the quorum whether or not it has a
 * value (as peers do), so a source that goes away cannot lower the bar;
 * _set configures it too; _unset drops the value (the source says it is
 * not synchronised), _configure(false) removes it from the quorum.
 */
int truth_clock_ref_configure(struct truth_clock *c, uint32_t slot,
			      bool configured);
int truth_clock_ref_set(struct truth_clock *c, uint32_t slot,
			const struct truth_clock_interval *offset, int64_t as_of);
void truth_clock_ref_unset(struct truth_clock *c, uint32_t slot);
uint32_t truth_clock_ref_state(const struct truth_clock *c, uint32_t slot);

/*
 * Select at local time @now: evaluate every source, find the agreement,
 * name falsetickers, and on success replace the estimate.  0, or
 * TRUTH_CLOCK_ENOENT (no usable source) / TRUTH_CLOCK_EAGAIN (no
 * agreement), both leaving the old estimate to age.
 */
int truth_clock_update(struct truth_clock *c, int64_t now);

/* [earliest, latest] at local reading @local. */
void truth_clock_now(const struct truth_clock *c, int64_t local,
		     struct truth_clock_now *out);

void truth_clock_get_estimate(const struct truth_clock *c,
			      struct truth_clock_estimate *e);

/* 0 and @info filled, or TRUTH_CLOCK_ENOENT. */
int truth_clock_peer_info(const struct truth_clock *c, uint32_t id,
			  struct truth_clock_peer_info *info);

/* State of the reference at the last update (enum truth_clock_peer_state). */
uint32_t truth_clock_reference_state(const struct truth_clock *c);

/* The estimate's bound at @local (what truth_clock_now() returns). */
void truth_clock_estimate_now(const struct truth_clock_estimate *e,
			      int64_t local, struct truth_clock_now *out);

/* ---------------------------------------------------------- using time */

/* Commit timestamp for a write (Spanner: s = TT.now().latest). */
int64_t truth_clock_commit_ts(const struct truth_clock_now *n);

/* Whether @ts is certainly past: earliest > ts. */
bool truth_clock_after(const struct truth_clock_now *n, int64_t ts);

/*
 * Local ns to wait from @local until earliest > @ts under estimate @e (0 if
 * already), or -1 if the status is UNKNOWN.  Computed on the extrapolated
 * bound; the caller re-checks with a fresh now() after waiting.
 */
int64_t truth_clock_commit_wait(const struct truth_clock_estimate *e,
				int64_t local, int64_t ts);

/* Expiry of a lease of @duration granted at reading @grant: earliest + D. */
int64_t truth_clock_lease_expiry(const struct truth_clock_now *grant,
				 int64_t duration);

/* Holder: may still act as holder (latest < expiry). */
bool truth_clock_lease_held(const struct truth_clock_now *holder,
			    int64_t expiry);

/* Grantor: the lease is certainly over (earliest > expiry). */
bool truth_clock_lease_expired(const struct truth_clock_now *grantor,
			       int64_t expiry);

/*
 * For leases timed on unsynchronised clocks (Raft leader leases): a grantor
 * promises @duration on its own clock from when it receives the request; the
 * holder may count on it for the returned local duration from when it sent
 * the request: D (1 - phi) / (1 + phi), rounded down, minus 1 ns.
 */
int64_t truth_clock_lease_local_duration(int64_t duration,
					 uint32_t max_drift_ppb);

/*
 * HLC physical time for reading @n: latest rounded up to the HLC tick, so
 * the HLC never runs behind the interval.
 */
uint64_t truth_clock_hlc_pt(const struct truth_clock_now *n);

/* truth_hlc_now() on @hlc at reading @n. */
uint64_t truth_clock_hlc_now(uint64_t *hlc, const struct truth_clock_now *n);

/* ---------------------------------------------------------- shared page */

/* Initialise a zeroed page (status UNKNOWN), @clock_id the local clock. */
void truth_clock_shm_init(struct truth_clockbound_page *p, int32_t clock_id);

/* Publish estimate @e under the seqlock.  Single writer. */
void truth_clock_shm_write(struct truth_clockbound_page *p,
			   const struct truth_clock_estimate *e);

#endif /* _TRUTH_CLOCK_H */
