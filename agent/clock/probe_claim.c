// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * truth probe: what a node claims about its reference clock, and the
 * sources that need no exchange (an anchor's own clock, an external
 * reference such as the local chrony).  probe.h has the rules.
 */
#include <errno.h>

#include "clock/probe_int.h"

int truth_probe_set_external(struct truth_probe *e, uint64_t bound,
			     int64_t l1, int64_t l2, int64_t ref, int64_t lr1,
			     int64_t lr2)
{
	struct truth_clock_interval iv;
	uint64_t g, slew;

	if (l2 < l1 || lr2 < lr1 || lr1 < l1)
		return -EINVAL;
	e->ext = true;
	/*
	 * At some t* in [l1, l2] |true - ref| <= bound.  ref - local moves
	 * by at most the reference's slew plus the local drift between t*
	 * and the reading @ref (local in [lr1, lr2]); true - local, aged
	 * back from t* to l1, by the local drift over l2 - l1.
	 */
	slew = (uint64_t)e->clk.ref_slew_ppb + e->cfg.clock.max_drift_ppb;
	g = truth_clockbound_growth(truth_clockbound_absdiff(lr2, l1),
				    slew > UINT32_MAX ? UINT32_MAX : (uint32_t)slew) +
	    truth_clockbound_growth(truth_clockbound_absdiff(l2, l1),
				    e->cfg.clock.max_drift_ppb);
	iv.lo = truth_clockbound_sub_u(truth_clockbound_sub_u(ref - lr2, bound), g);
	iv.hi = truth_clockbound_add_u(truth_clockbound_add_u(ref - lr1, bound), g);
	if (truth_clock_ref_set(e->est, TRUTH_CLOCK_REF_EXTERNAL, &iv, l1))
		return -EINVAL;
	truth_probe_update(e);	/* a new source value: select now, not at the next poll */
	return 0;
}

void truth_probe_external_configure(struct truth_probe *e, bool on)
{
	e->ext = on;
	truth_clock_ref_configure(e->est, TRUTH_CLOCK_REF_EXTERNAL, on);
	e->next_update = truth_probe_local_now(e);
}

void truth_probe_external_unset(struct truth_probe *e)
{
	truth_clock_ref_unset(e->est, TRUTH_CLOCK_REF_EXTERNAL);
}

uint64_t truth_probe_claim(struct truth_probe *e)
{
	struct truth_clock_now lo, hi;
	int64_t l1, l2, r;
	uint64_t a, b;

	if (e->cfg.self_error)
		return e->cfg.self_error;
	/* true time at the reference reading is in [earliest(l1), latest(l2)] */
	l1 = truth_probe_local_now(e);
	r = e->clk.ref_now(e->clk.arg);
	l2 = truth_probe_local_now(e);
	truth_probe_now_at(e, l1, &lo);
	truth_probe_now_at(e, l2, &hi);
	if (lo.status == TRUTH_CLOCK_UNKNOWN)
		return TRUTH_PROBE_NO_CLAIM;
	a = r > lo.earliest ? truth_clockbound_absdiff(r, lo.earliest) : 0;
	b = hi.latest > r ? truth_clockbound_absdiff(hi.latest, r) : 0;
	a = a > b ? a : b;
	return a + 1 < a ? TRUTH_PROBE_NO_CLAIM : a + 1;
}

/*
 * An anchor's own reference clock is one more source: true time at the
 * reference reading r is within self_error of r, and the local clock then
 * read between l1 and l2.
 */
void truth_probe_anchor_reference(struct truth_probe *e)
{
	struct truth_clock_interval iv;
	uint64_t se = e->cfg.self_error, g;
	int64_t l1, l2, r;

	if (!se)
		return;
	l1 = truth_probe_local_now(e);
	r = e->clk.ref_now(e->clk.arg);
	l2 = truth_probe_local_now(e);
	g = truth_clockbound_growth(truth_clockbound_absdiff(l2, l1),
				    e->cfg.clock.max_drift_ppb);
	iv.lo = truth_clockbound_sub_u(truth_clockbound_sub_u(r - l2, se), g);
	iv.hi = truth_clockbound_add_u(truth_clockbound_add_u(r - l1, se), g);
	truth_clock_set_reference(e->est, &iv, l1);
}

/*
 * The claim for a reply whose T2 and T3 are @t2 and @t3 on our reference
 * clock.  A derived claim holds at the instant it is computed; the
 * reference's error may have drifted at ref_slew_ppb since either
 * timestamp.
 */
uint64_t truth_probe_reply_claim(struct truth_probe *e, int64_t t2, int64_t t3)
{
	uint64_t c = truth_probe_claim(e), g, d2, d3;
	int64_t r = e->clk.ref_now(e->clk.arg);

	if (e->cfg.self_error || c == TRUTH_PROBE_NO_CLAIM)
		return c;
	d2 = truth_clockbound_absdiff(r, t2);
	d3 = truth_clockbound_absdiff(r, t3);
	g = truth_clockbound_growth(d2 > d3 ? d2 : d3, e->clk.ref_slew_ppb);
	return c + g < c || c + g == TRUTH_PROBE_NO_CLAIM ? TRUTH_PROBE_NO_CLAIM : c + g;
}
