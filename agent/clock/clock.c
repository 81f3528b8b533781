// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * truth clock: per-peer clock filters, source selection and now().
 *
 * The filter keeps a peer's last TRUTH_CLOCK_FILTER_LEN samples.  Every
 * sample's aged interval contains true - local (clock_sample.c), so their
 * intersection does too, and is narrower than any one of them: it bounds
 * the offset by the smallest one-way delay seen in each direction rather
 * than by the smallest round trip.  So every valid sample is intersected,
 * delay outliers included (a long round trip often has one fast
 * direction), and beyond the ring each peer keeps the two samples that
 * gave the tightest lo and hi edges (keep_edges()): under scheduling
 * stalls a ring full of late samples then no longer widens the bound.
 *
 *  - delay outliers: a sample whose delay exceeds outlier_factor% of the
 *    window's minimum (and the minimum plus outlier_floor) is counted as
 *    one (NTP's clock filter's rule); they only matter to the point
 *    estimate (offset/delay of the lowest-delay sample), not the interval;
 *  - a new sample whose interval does not meet the peer's intersection
 *    proves the peer broke its own claim at some point (its clock was
 *    stepped, or peer_error was understated): the window and the kept
 *    edges are flushed and restart from the new sample (counted in
 *    resets).  Selection across peers then judges the peer as a whole.
 *
 * Samples older than max_sample_age are dropped: by then drift has widened
 * them past any use.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clock/clock.h"

struct clock_peer {
	bool used;			/* slot holds a peer */
	uint32_t id;			/* caller's id */
	struct truth_clock_sample s[TRUTH_CLOCK_FILTER_LEN]; /* ring */
	uint32_t n;			/* valid samples in the ring */
	uint32_t next;			/* ring slot for the next sample */
	uint32_t state;			/* enum truth_clock_peer_state */
	struct truth_clock_interval iv;	/* interval at the last update */
	int64_t best_offset;		/* theta of the lowest-delay sample */
	int64_t best_delay;		/* its delta */
	uint64_t accepted;		/* samples accepted */
	uint64_t outliers;		/* delay outliers when added */
	uint64_t invalid;		/* impossible exchanges refused */
	uint64_t resets;		/* flushes on contradiction */
	/*
	 * Edges kept beyond the ring: of the samples that left it, the one
	 * whose aged interval has the highest lo ([0]) and the lowest hi
	 * ([1]).  Every sample's aged interval holds true - local, so these
	 * join the intersection as validly as the ring's own.
	 */
	struct truth_clock_sample edge[2];
	bool has_edge[2];
};

/* A reference source (an anchor's own clock, the local chrony). */
struct clock_ref {
	bool configured;		/* counts in the quorum, present or not */
	bool set;			/* has a value */
	struct truth_clock_interval iv;	/* its offset interval at as_of */
	int64_t as_of;			/* local time of iv */
	uint32_t state;			/* enum truth_clock_peer_state */
};

struct truth_clock {
	struct truth_clock_config cfg;	/* as given, validated */
	struct clock_peer peers[TRUTH_CLOCK_MAX_PEERS]; /* slots */
	uint32_t npeers;		/* used slots */
	struct clock_ref refs[TRUTH_CLOCK_MAX_REFS]; /* reference sources */
	struct truth_clock_estimate est; /* last agreement */
};

void truth_clock_config_default(struct truth_clock_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->max_drift_ppb = TRUTH_CLOCK_DEFAULT_MAX_DRIFT_PPB;
	cfg->outlier_factor = TRUTH_CLOCK_DEFAULT_OUTLIER_FACTOR;
	cfg->outlier_floor = TRUTH_CLOCK_DEFAULT_OUTLIER_FLOOR;
	cfg->max_sample_age = TRUTH_CLOCK_DEFAULT_MAX_SAMPLE_AGE;
	cfg->sync_timeout = TRUTH_CLOCK_DEFAULT_SYNC_TIMEOUT;
	cfg->max_falsetickers = -1;
	cfg->min_sources = 0;
}

struct truth_clock *truth_clock_new(const struct truth_clock_config *cfg,
				    int *err)
{
	struct truth_clock *c;

	if (cfg->max_drift_ppb > TRUTH_CLOCKBOUND_MAX_DRIFT_PPB ||
	    cfg->outlier_factor < 100 || cfg->max_sample_age <= 0 ||
	    cfg->sync_timeout < 0 || cfg->max_falsetickers < -1 ||
	    cfg->max_falsetickers >= TRUTH_CLOCK_MAX_SOURCES ||
	    cfg->min_sources > TRUTH_CLOCK_MAX_SOURCES) {
		if (err)
			*err = TRUTH_CLOCK_EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		if (err)
			*err = -ENOMEM;
		return NULL;
	}
	c->cfg = *cfg;
	c->est.status = TRUTH_CLOCK_UNKNOWN;
	c->est.max_drift_ppb = cfg->max_drift_ppb;
	c->est.sync_timeout = cfg->sync_timeout;
	if (err)
		*err = 0;
	return c;
}

void truth_clock_free(struct truth_clock *c)
{
	free(c);
}

static struct clock_peer *peer_find(const struct truth_clock *c, uint32_t id)
{
	uint32_t i;

	for (i = 0; i < TRUTH_CLOCK_MAX_PEERS; i++)
		if (c->peers[i].used && c->peers[i].id == id)
			return (struct clock_peer *)&c->peers[i];
	return NULL;
}

int truth_clock_peer_add(struct truth_clock *c, uint32_t id)
{
	uint32_t i;

	if (peer_find(c, id))
		return TRUTH_CLOCK_EEXIST;
	for (i = 0; i < TRUTH_CLOCK_MAX_PEERS; i++) {
		if (c->peers[i].used)
			continue;
		memset(&c->peers[i], 0, sizeof(c->peers[i]));
		c->peers[i].used = true;
		c->peers[i].id = id;
		c->npeers++;
		return 0;
	}
	return TRUTH_CLOCK_ENOSPC;
}

int truth_clock_peer_remove(struct truth_clock *c, uint32_t id)
{
	struct clock_peer *p = peer_find(c, id);

	if (!p)
		return TRUTH_CLOCK_ENOENT;
	p->used = false;
	c->npeers--;
	return 0;
}

/* Minimum delay over the window (outliers included). */
static int64_t window_min_delay(const struct clock_peer *p)
{
	int64_t m = INT64_MAX;
	uint32_t i;

	for (i = 0; i < p->n; i++)
		if (p->s[i].delay < m)
			m = p->s[i].delay;
	return m;
}

/* Whether a sample of @delay is an outlier against window minimum @min. */
static bool is_outlier(const struct truth_clock_config *cfg, int64_t delay,
		       int64_t min)
{
	int64_t cut = min > 0 && min <= INT64_MAX / cfg->outlier_factor ?
		      min * (int64_t)cfg->outlier_factor / 100 : min;

	if (min <= INT64_MAX - (int64_t)cfg->outlier_floor &&
	    cut < min + (int64_t)cfg->outlier_floor)
		cut = min + (int64_t)cfg->outlier_floor;
	return delay > cut;
}

/* Narrow @acc to its intersection with @iv (may leave it empty). */
static void narrow(struct truth_clock_interval *acc,
		   const struct truth_clock_interval *iv)
{
	if (iv->lo > acc->lo)
		acc->lo = iv->lo;
	if (iv->hi < acc->hi)
		acc->hi = iv->hi;
}

/*
 * Sample @x leaves the ring at local time @at: keep it if its aged
 * interval gives a tighter lo or hi than the edge kept so far.  Two
 * aged intervals widen at the same rate, so the one tighter now stays
 * tighter (to the nanosecond of the growth's rounding): keeping one
 * sample per edge keeps, within that nanosecond, the tightest edge over
 * the peer's whole history since the last reset.
 */
static void keep_edges(const struct truth_clock *c, struct clock_peer *p,
		       const struct truth_clock_sample *x, int64_t at)
{
	struct truth_clock_interval iv, k;

	truth_clock_sample_interval(x, at, c->cfg.max_drift_ppb, &iv);
	if (p->has_edge[0])
		truth_clock_sample_interval(&p->edge[0], at,
					    c->cfg.max_drift_ppb, &k);
	if (!p->has_edge[0] || iv.lo > k.lo) {
		p->edge[0] = *x;
		p->has_edge[0] = true;
	}
	if (p->has_edge[1])
		truth_clock_sample_interval(&p->edge[1], at,
					    c->cfg.max_drift_ppb, &k);
	if (!p->has_edge[1] || iv.hi < k.hi) {
		p->edge[1] = *x;
		p->has_edge[1] = true;
	}
}

int truth_clock_add_sample(struct truth_clock *c, uint32_t id,
			   const struct truth_clock_exchange *x)
{
	struct clock_peer *p = peer_find(c, id);
	struct truth_clock_interval acc, iv;
	struct truth_clock_sample s;
	uint32_t i;
	int ret;

	if (!p)
		return TRUTH_CLOCK_ENOENT;
	ret = truth_clock_sample_from_exchange(x, c->cfg.max_drift_ppb, &s);
	if (ret) {
		p->invalid++;
		return ret;
	}
	/* kept edges as old as max_sample_age are dropped, as samples are */
	for (i = 0; i < 2; i++)
		if (p->has_edge[i] &&
		    truth_clockbound_absdiff(s.as_of, p->edge[i].as_of) >
		    (uint64_t)c->cfg.max_sample_age)
			p->has_edge[i] = false;
	/* does the new sample contradict the window? */
	truth_clock_sample_interval(&s, s.as_of, c->cfg.max_drift_ppb, &acc);
	for (i = 0; i < p->n; i++) {
		truth_clock_sample_interval(&p->s[i], s.as_of,
					    c->cfg.max_drift_ppb, &iv);
		narrow(&acc, &iv);
	}
	for (i = 0; i < 2; i++) {
		if (!p->has_edge[i])
			continue;
		truth_clock_sample_interval(&p->edge[i], s.as_of,
					    c->cfg.max_drift_ppb, &iv);
		narrow(&acc, &iv);
	}
	if (acc.lo > acc.hi) {
		p->resets++;
		p->n = 0;
		p->next = 0;
		p->has_edge[0] = p->has_edge[1] = false;
	}
	if (p->n == TRUTH_CLOCK_FILTER_LEN)
		keep_edges(c, p, &p->s[p->next], s.as_of);
	p->s[p->next] = s;
	p->next = (p->next + 1) % TRUTH_CLOCK_FILTER_LEN;
	if (p->n < TRUTH_CLOCK_FILTER_LEN)
		p->n++;
	p->accepted++;
	if (is_outlier(&c->cfg, s.delay, window_min_delay(p)))
		p->outliers++;
	return 0;
}

/*
 * The peer's interval at local time @now: the intersection of its fresh,
 * non-outlier samples.  false if it has none.
 */
static bool peer_eval(const struct truth_clock *c, struct clock_peer *p,
		      int64_t now, struct truth_clock_interval *out,
		      int64_t *fresh)
{
	const struct truth_clock_config *cfg = &c->cfg;
	struct truth_clock_interval iv;
	int64_t min = INT64_MAX;
	bool any = false;
	uint32_t i;

	for (i = 0; i < p->n; i++)
		if (truth_clockbound_absdiff(now, p->s[i].as_of) <=
		    (uint64_t)cfg->max_sample_age && p->s[i].delay < min)
			min = p->s[i].delay;
	for (i = 0; i < p->n; i++) {
		const struct truth_clock_sample *s = &p->s[i];

		/*
		 * delay outliers too: a long round trip often has one fast
		 * direction, whose edge is as valid and as tight as any
		 */
		if (truth_clockbound_absdiff(now, s->as_of) >
		    (uint64_t)cfg->max_sample_age)
			continue;
		truth_clock_sample_interval(s, now, cfg->max_drift_ppb, &iv);
		if (!any || s->as_of > *fresh)
			*fresh = s->as_of;
		if (s->delay == min) {
			p->best_offset = s->offset;
			p->best_delay = s->delay;
		}
		if (!any) {
			*out = iv;
			any = true;
			continue;
		}
		narrow(out, &iv);
	}
	/* the edges kept from samples that left the ring */
	for (i = 0; any && i < 2; i++) {
		if (!p->has_edge[i] ||
		    truth_clockbound_absdiff(now, p->edge[i].as_of) >
		    (uint64_t)cfg->max_sample_age)
			continue;
		truth_clock_sample_interval(&p->edge[i], now,
					    cfg->max_drift_ppb, &iv);
		narrow(out, &iv);
	}
	/* empty only if @now precedes samples (intervals widen with |age|) */
	return any && out->lo <= out->hi;
}

int truth_clock_update(struct truth_clock *c, int64_t now)
{
	struct truth_clock_interval iv[TRUTH_CLOCK_MAX_SOURCES];
	uint32_t owner[TRUTH_CLOCK_MAX_SOURCES];	/* peer slot, or MAX_PEERS */
	int64_t fresh[TRUTH_CLOCK_MAX_SOURCES];		/* newest sample used */
	const struct truth_clock_config *cfg = &c->cfg;
	struct truth_clock_selection sel;
	uint32_t n = 0, total, need_min, need, i, bad = 0;
	int64_t newest = INT64_MIN;

	for (i = 0; i < TRUTH_CLOCK_MAX_PEERS; i++) {
		struct clock_peer *p = &c->peers[i];

		if (!p->used)
			continue;
		p->state = TRUTH_CLOCK_PEER_NONE;
		if (peer_eval(c, p, now, &iv[n], &fresh[n])) {
			p->iv = iv[n];
			owner[n++] = i;
		}
	}
	total = c->npeers;
	for (i = 0; i < TRUTH_CLOCK_MAX_REFS; i++) {
		struct clock_ref *r = &c->refs[i];

		r->state = TRUTH_CLOCK_PEER_NONE;
		total += r->configured;
		if (!r->set || truth_clockbound_absdiff(now, r->as_of) >
		    (uint64_t)cfg->max_sample_age)
			continue;
		iv[n] = r->iv;
		truth_clock_interval_age(&iv[n], r->as_of, now, cfg->max_drift_ppb);
		fresh[n] = r->as_of;
		owner[n++] = TRUTH_CLOCK_MAX_PEERS + i;
	}
	if (!n)
		return TRUTH_CLOCK_ENOENT;

	/* quorum over the configured sources, present or not */
	need_min = cfg->min_sources ? cfg->min_sources : total / 2 + 1;
	if (cfg->max_falsetickers < 0) {
		truth_clock_marzullo(iv, n, &sel);
		if (sel.count < need_min)
			sel.found = false;
	} else {
		/* true time is covered by n - f; that must still be a quorum */
		need = n > (uint32_t)cfg->max_falsetickers ?
		       n - (uint32_t)cfg->max_falsetickers : 0;
		if (need < need_min)
			return TRUTH_CLOCK_EAGAIN;
		truth_clock_intersect(iv, n, need, &sel);
	}
	if (!sel.found)
		return TRUTH_CLOCK_EAGAIN;

	for (i = 0; i < n; i++) {
		bool ok = iv[i].hi >= sel.result.lo && iv[i].lo <= sel.result.hi;
		uint32_t st = ok ? TRUTH_CLOCK_PEER_TRUECHIMER :
				   TRUTH_CLOCK_PEER_FALSETICKER;

		bad += !ok;
		if (ok && (newest == INT64_MIN || fresh[i] > newest))
			newest = fresh[i];
		if (owner[i] >= TRUTH_CLOCK_MAX_PEERS)
			c->refs[owner[i] - TRUTH_CLOCK_MAX_PEERS].state = st;
		else
			c->peers[owner[i]].state = st;
	}
	c->est.as_of = now;
	c->est.offset = sel.result;
	c->est.max_drift_ppb = cfg->max_drift_ppb;
	c->est.status = TRUTH_CLOCK_SYNCHRONISED;
	c->est.fresh = newest;
	c->est.sync_timeout = cfg->sync_timeout;
	c->est.sources = sel.count;
	c->est.candidates = n;
	c->est.falsetickers = bad;
	return 0;
}

int truth_clock_ref_configure(struct truth_clock *c, uint32_t slot,
			      bool configured)
{
	if (slot >= TRUTH_CLOCK_MAX_REFS)
		return TRUTH_CLOCK_EINVAL;
	c->refs[slot].configured = configured;
	if (!configured) {
		c->refs[slot].set = false;
		c->refs[slot].state = TRUTH_CLOCK_PEER_NONE;
	}
	return 0;
}

int truth_clock_ref_set(struct truth_clock *c, uint32_t slot,
			const struct truth_clock_interval *offset, int64_t as_of)
{
	struct truth_clock_interval iv;
	struct clock_ref *r;

	if (slot >= TRUTH_CLOCK_MAX_REFS || offset->lo > offset->hi)
		return TRUTH_CLOCK_EINVAL;
	r = &c->refs[slot];
	/*
	 * The external reference (chrony) reports often and its readings
	 * vary in width with the round trip of each: its previous value,
	 * aged to this one, holds true - local as validly, so their
	 * intersection does, as the peer filter's does.  Readings that
	 * contradict each other (no common point): the newest wins.
	 */
	if (slot == TRUTH_CLOCK_REF_EXTERNAL && r->set &&
	    truth_clockbound_absdiff(as_of, r->as_of) <=
	    (uint64_t)c->cfg.max_sample_age) {
		iv = r->iv;
		truth_clock_interval_age(&iv, r->as_of, as_of,
					 c->cfg.max_drift_ppb);
		if (iv.lo < offset->lo)
			iv.lo = offset->lo;
		if (iv.hi > offset->hi)
			iv.hi = offset->hi;
		if (iv.lo <= iv.hi)
			offset = &iv;
	}
	c->refs[slot].configured = true;
	c->refs[slot].set = true;
	c->refs[slot].iv = *offset;
	c->refs[slot].as_of = as_of;
	return 0;
}

void truth_clock_ref_unset(struct truth_clock *c, uint32_t slot)
{
	if (slot >= TRUTH_CLOCK_MAX_REFS)
		return;
	c->refs[slot].set = false;
	c->refs[slot].state = TRUTH_CLOCK_PEER_NONE;
}

uint32_t truth_clock_ref_state(const struct truth_clock *c, uint32_t slot)
{
	return slot < TRUTH_CLOCK_MAX_REFS ? c->refs[slot].state :
	       TRUTH_CLOCK_PEER_NONE;
}

int truth_clock_set_reference(struct truth_clock *c,
			      const struct truth_clock_interval *offset,
			      int64_t as_of)
{
	return truth_clock_ref_set(c, TRUTH_CLOCK_REF_MAIN, offset, as_of);
}

void truth_clock_clear_reference(struct truth_clock *c)
{
	truth_clock_ref_configure(c, TRUTH_CLOCK_REF_MAIN, false);
}

uint32_t truth_clock_reference_state(const struct truth_clock *c)
{
	return truth_clock_ref_state(c, TRUTH_CLOCK_REF_MAIN);
}

int truth_clock_peer_info(const struct truth_clock *c, uint32_t id,
			  struct truth_clock_peer_info *info)
{
	const struct clock_peer *p = peer_find(c, id);

	if (!p)
		return TRUTH_CLOCK_ENOENT;
	memset(info, 0, sizeof(*info));
	info->id = id;
	info->state = p->state;
	info->interval = p->iv;
	info->offset = p->best_offset;
	info->delay = p->best_delay;
	info->samples = p->n;
	info->accepted = p->accepted;
	info->outliers = p->outliers;
	info->invalid = p->invalid;
	info->resets = p->resets;
	return 0;
}

void truth_clock_get_estimate(const struct truth_clock *c,
			      struct truth_clock_estimate *e)
{
	*e = c->est;
}

/*
 * earliest = local + lo - growth(|local - as_of|), latest likewise with hi:
 * the estimate's interval widened at the drift bound (DESIGN: "the error
 * bound grows with time since the last good sample").
 */
void truth_clock_estimate_now(const struct truth_clock_estimate *e,
			      int64_t local, struct truth_clock_now *out)
{
	uint64_t g;

	out->local = local;
	if (e->status == TRUTH_CLOCK_UNKNOWN) {
		out->earliest = INT64_MIN;
		out->latest = INT64_MAX;
		out->epsilon = UINT64_MAX;
		out->status = TRUTH_CLOCK_UNKNOWN;
		return;
	}
	g = truth_clockbound_growth(truth_clockbound_absdiff(local, e->as_of),
				    e->max_drift_ppb);
	out->earliest = truth_clockbound_sub_u(truth_clockbound_add(local,
							e->offset.lo), g);
	out->latest = truth_clockbound_add_u(truth_clockbound_add(local,
							e->offset.hi), g);
	g = (uint64_t)out->latest - (uint64_t)out->earliest;
	out->epsilon = g / 2 + (g & 1);
	out->status = local > e->fresh &&
		      truth_clockbound_absdiff(local, e->fresh) >
		      (uint64_t)e->sync_timeout ?
		      TRUTH_CLOCK_FREE_RUNNING : TRUTH_CLOCK_SYNCHRONISED;
}

void truth_clock_now(const struct truth_clock *c, int64_t local,
		     struct truth_clock_now *out)
{
	truth_clock_estimate_now(&c->est, local, out);
}
