// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * truth clock: one NTP exchange -> an interval that contains true - local.
 *
 * Why the interval holds whatever the path asymmetry.  True time t; the
 * local clock reads t + L(t) with |L'| <= phi; the peer's clock reads
 * t + P(t) with |P| <= e (its peer_error).  The four events happen at true
 * times t1 <= t2 <= t3 <= t4 (causality: each one-way delay d1 = t2 - t1,
 * d2 = t4 - t3 is >= 0, nothing else is known about them), and each
 * timestamp carries a read error: |e1|, |e4| <= rl, |e2|, |e3| <= rp.
 *
 *	T1 = t1 + L(t1) + e1	T2 = t2 + P(t2) + e2
 *	T3 = t3 + P(t3) + e3	T4 = t4 + L(t4) + e4
 *
 * The target is o = -L(t4), true minus local at the end of the exchange.
 * Let D1 = (T2 - T1) - o and D2 = (T4 - T3) + o.  Then
 *
 *	theta - o = (D1 - D2) / 2	delta = D1 + D2
 *
 * and since |D1 - D2| = D1 + D2 - 2 min(D1, D2):
 *
 *	|theta - o| = delta/2 - min(D1, D2)			(exactly)
 *
 * Expanding, D1 = d1 + P(t2) + (L(t4) - L(t1)) + e2 - e1 and
 * D2 = d2 - P(t3) + e4 - e3.  With d1, d2 >= 0 -- the only thing known
 * about the paths -- both are >= -(e + rl + rp + phi (t4 - t1)), so
 *
 *	o in [theta - delta/2 - lambda, theta + delta/2 + lambda]
 *	lambda = e + rl + rp + phi (t4 - t1)
 *
 * for any split of delta into d1 and d2: a fully asymmetric path (d2 = 0)
 * puts o at an edge, never outside.  theta - delta/2 = T3 - T4 and
 * theta + delta/2 = T2 - T1 exactly, so no rounding enters.  The true
 * duration t4 - t1 is at most (T4 - T1 + 2 rl) / (1 - phi), hence the
 * dispersion term growth(T4 - T1 + 2 rl).
 *
 * Later, at local reading T, o has moved by at most phi times the true
 * time elapsed since t4, which is at most growth(|T - T4| + rl): T4 itself
 * is off by up to rl (truth_clockbound_growth() also covers the integer
 * readings).
 */
#include <errno.h>

#include "clock/clock.h"

int truth_clock_sample_from_exchange(const struct truth_clock_exchange *x,
				     uint32_t max_drift_ppb,
				     struct truth_clock_sample *s)
{
	uint64_t span, lambda;
	int64_t hi, lo;

	if (max_drift_ppb > TRUTH_CLOCKBOUND_MAX_DRIFT_PPB || x->t4 < x->t1 ||
	    x->t3 < x->t2)
		return TRUTH_CLOCK_EINVAL;
	if (__builtin_sub_overflow(x->t2, x->t1, &hi) ||
	    __builtin_sub_overflow(x->t3, x->t4, &lo) ||
	    __builtin_sub_overflow(hi, lo, &s->delay))
		return TRUTH_CLOCK_EINVAL;
	s->hi = hi;
	s->lo = lo;
	s->offset = lo + s->delay / 2;
	span = (uint64_t)(x->t4 - x->t1) + 2 * (uint64_t)x->local_precision;
	s->dispersion = (uint64_t)x->local_precision + x->peer_precision +
			truth_clockbound_growth(span, max_drift_ppb);
	s->peer_error = x->peer_error;
	s->as_of = x->t4;
	s->local_precision = x->local_precision;
	/*
	 * The interval must be non-empty: delta >= -2 lambda.  A more
	 * negative delay means a claimed precision or peer_error is false.
	 */
	lambda = s->dispersion + s->peer_error;
	if (lambda > (uint64_t)INT64_MAX / 4 ||
	    (s->delay < 0 && (uint64_t)-s->delay > 2 * lambda))
		return TRUTH_CLOCK_EINVAL;
	return 0;
}

void truth_clock_interval_age(struct truth_clock_interval *iv, int64_t from,
			      int64_t to, uint32_t max_drift_ppb)
{
	uint64_t g = truth_clockbound_growth(truth_clockbound_absdiff(to, from),
					     max_drift_ppb);

	iv->lo = truth_clockbound_sub_u(iv->lo, g);
	iv->hi = truth_clockbound_add_u(iv->hi, g);
}

void truth_clock_sample_interval(const struct truth_clock_sample *s,
				 int64_t at, uint32_t max_drift_ppb,
				 struct truth_clock_interval *out)
{
	uint64_t w = s->dispersion + s->peer_error;

	w += truth_clockbound_growth(truth_clockbound_absdiff(at, s->as_of) +
				     s->local_precision, max_drift_ppb);
	out->lo = truth_clockbound_sub_u(s->lo, w);
	out->hi = truth_clockbound_add_u(s->hi, w);
}
