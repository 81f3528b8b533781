// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * truth probe: the probe engine (probe.h has the API and the protocol).
 *
 * Why each timestamp is safe whatever its source.  The sample's interval
 * is [T3 - T4 - lambda, T2 - T1 + lambda] (clock_sample.c); it stays valid
 * when T1 or T3 is read *earlier* than the real send and T2 or T4 *later*
 * than the real receipt, since that only widens it.  So the fallback is
 * always a clock read before sendmsg (T1, T3) or after recvmsg (T2, T4),
 * tagged TRUTH_WIRE_TSRC_USER and given a wider precision; a kernel or tc
 * timestamp replaces it when it comes, only ever by the same datagram's
 * (the socket helper checks that a TX time is not older than the send).
 *
 * Stamps truth.ko writes on egress (tc_kstamp).  A PROBE sent with
 * TRUTH_WIRE_F_STAMP leaves with the kernel's CLOCK_REALTIME at tc egress
 * in tx; the server echoes it and the client converts it to its local
 * clock through the RAW/REALTIME pair it read just before the send (the
 * socket's TX time goes through the same pair), so the conversion spans
 * microseconds, not the round trip.  A stamp older than that pair is not
 * this datagram's and is not believed.  A PROBE_REPLY so stamped carries
 * the server's kernel time as T3: that is its reference reading only when
 * no test skew is in effect, so a skewed server does not ask (its T3 stays
 * two-step).  A server's claim holds from T2 (it is computed after T2 and
 * widened back to it), and a kernel T3 is later than the claim was made:
 * the client widens the claim by REALTIME's slew bound over T3 - T2.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock/probe_int.h"

void truth_probe_config_default(struct truth_probe_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->poll = TRUTH_PROBE_DEFAULT_POLL;
	cfg->burst = TRUTH_PROBE_DEFAULT_BURST;
	cfg->burst_gap = TRUTH_PROBE_DEFAULT_BURST_GAP;
	cfg->reply_timeout = TRUTH_PROBE_DEFAULT_TIMEOUT;
	cfg->followup_wait = TRUTH_PROBE_DEFAULT_FOLLOWUP;
	cfg->max_claim = TRUTH_PROBE_DEFAULT_MAX_CLAIM;
	cfg->prec[TRUTH_WIRE_TSRC_NONE] = UINT32_MAX;
	cfg->prec[TRUTH_WIRE_TSRC_USER] = TRUTH_PROBE_PREC_USER;
	cfg->prec[TRUTH_WIRE_TSRC_SOCKET] = TRUTH_PROBE_PREC_SOCKET;
	cfg->prec[TRUTH_WIRE_TSRC_TC] = TRUTH_PROBE_PREC_TC;
	cfg->prec[TRUTH_WIRE_TSRC_HW] = TRUTH_PROBE_PREC_HW;
	truth_clock_config_default(&cfg->clock);
}

const char *truth_probe_tsrc_name(uint8_t src)
{
	static const char *const names[] = {
		[TRUTH_WIRE_TSRC_NONE] = "none",
		[TRUTH_WIRE_TSRC_USER] = "user",
		[TRUTH_WIRE_TSRC_SOCKET] = "socket",
		[TRUTH_WIRE_TSRC_TC] = "tc",
		[TRUTH_WIRE_TSRC_HW] = "hw",
	};

	return src < __TRUTH_WIRE_TSRC_MAX ? names[src] : "?";
}

struct truth_probe *truth_probe_new(const struct truth_probe_config *cfg,
				    const struct truth_probe_clock *clk,
				    char *err, size_t errlen)
{
	const char *why = NULL;
	struct truth_probe *e;
	int ret;

	if (!cfg->self)
		why = "self: node id 0 is not allowed";
	else if (cfg->poll <= 0 || cfg->burst < 1 || cfg->burst_gap < 0 ||
		 (uint64_t)cfg->burst_gap * (cfg->burst - 1) >= (uint64_t)cfg->poll)
		why = "poll: must be positive and longer than a burst";
	else if (cfg->reply_timeout <= 0 || cfg->followup_wait < 0 ||
		 cfg->followup_wait >= cfg->reply_timeout)
		why = "reply_timeout: must be positive and above followup_wait";
	else if (!clk->local_now || !clk->ref_now || !clk->stamp_local ||
		 !clk->stamp_ref)
		why = "clock: every function must be set";
	else if (cfg->tc_kstamp && !cfg->tc_stamps)
		why = "tc_kstamp: needs tc_stamps (the fast path's hooks)";
	else if (!clk->pair_now != !clk->pair_local)
		why = "clock: pair_now and pair_local go together";
	if (why) {
		snprintf(err, errlen, "%s", why);
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	e->cfg = *cfg;
	e->clk = *clk;
	e->est = truth_clock_new(&cfg->clock, &ret);
	if (!e->est) {
		snprintf(err, errlen, "clock: %s", ret == -ENOMEM ?
			 "out of memory" : "invalid estimator configuration");
		free(e);
		return NULL;
	}
	/* ids above the wall clock: a restarted client never reuses one */
	e->next_id = ((uint64_t)clk->ref_now(clk->arg) & ~REPLY_COOKIE) | 1;
	e->rng = ((uint64_t)cfg->self << 32) ^ e->next_id ^ 0x9e3779b97f4a7c15ULL;
	return e;
}

void truth_probe_free(struct truth_probe *e)
{
	if (!e)
		return;
	truth_clock_free(e->est);
	free(e);
}

static uint64_t rng_next(struct truth_probe *e)
{
	e->rng ^= e->rng >> 12;
	e->rng ^= e->rng << 25;
	e->rng ^= e->rng >> 27;
	return e->rng * 2685821657736338717ULL;
}

int64_t truth_probe_local_now(const struct truth_probe *e)
{
	return e->clk.local_now(e->clk.arg);
}

static struct probe_peer *peer_find(struct truth_probe *e, uint32_t id)
{
	uint32_t i;

	for (i = 0; i < TRUTH_PROBE_MAX_PEERS; i++)
		if (e->peers[i].used && e->peers[i].id == id)
			return &e->peers[i];
	return NULL;
}

int truth_probe_peer_add(struct truth_probe *e, uint32_t id)
{
	struct probe_peer *p;
	uint32_t i;
	int ret;

	if (!id || id == e->cfg.self)
		return -EINVAL;
	ret = truth_clock_peer_add(e->est, id);
	if (ret)
		return ret;
	for (i = 0; i < TRUTH_PROBE_MAX_PEERS; i++) {
		p = &e->peers[i];
		if (p->used)
			continue;
		memset(p, 0, sizeof(*p));
		p->used = true;
		p->id = id;
		/* first probes spread over one poll, so peers do not align */
		p->next_due = truth_probe_local_now(e) +
			      (int64_t)(rng_next(e) % (uint64_t)e->cfg.poll) / 4;
		return 0;
	}
	truth_clock_peer_remove(e->est, id);
	return -ENOSPC;
}

int truth_probe_peer_remove(struct truth_probe *e, uint32_t id)
{
	struct probe_peer *p = peer_find(e, id);
	uint32_t i;

	if (!p)
		return -ENOENT;
	p->used = false;
	for (i = 0; i < TRUTH_PROBE_INFLIGHT; i++)
		if (e->fl[i].used && e->fl[i].peer == id)
			e->fl[i].used = false;
	return truth_clock_peer_remove(e->est, id);
}

int truth_probe_peer_pause(struct truth_probe *e, uint32_t id, bool paused)
{
	struct probe_peer *p = peer_find(e, id);

	if (!p)
		return -ENOENT;
	if (p->paused && !paused)
		p->next_due = truth_probe_local_now(e);
	p->paused = paused;
	return 0;
}

void truth_probe_set_sample_cb(struct truth_probe *e, truth_probe_sample_fn fn,
			       void *arg)
{
	e->cb = fn;
	e->cb_arg = arg;
}

void truth_probe_set_page(struct truth_probe *e,
			  struct truth_clockbound_page *page)
{
	e->page = page;
	if (page)
		truth_clock_shm_init(page, e->clk.local_clock_id);
}

struct truth_clock *truth_probe_estimator(struct truth_probe *e)
{
	return e->est;
}

void truth_probe_get_stats(const struct truth_probe *e,
			   struct truth_probe_stats *st)
{
	*st = e->st;
}

void truth_probe_now_at(const struct truth_probe *e, int64_t local,
			struct truth_clock_now *n)
{
	truth_clock_now(e->est, local, n);
}

void truth_probe_now(const struct truth_probe *e, struct truth_clock_now *n)
{
	truth_probe_now_at(e, truth_probe_local_now(e), n);
}

/* Reference sources need no exchange: select on a timer too. */
static bool local_sources(const struct truth_probe *e)
{
	return e->cfg.self_error || e->ext;
}

int truth_probe_update(struct truth_probe *e)
{
	struct truth_clock_estimate est;
	int64_t now;
	int ret;

	truth_probe_anchor_reference(e);
	now = truth_probe_local_now(e);
	/*
	 * An anchor alone (a one-member group) or with a reference has
	 * sources without any exchange; select at least every poll
	 */
	e->next_update = now + e->cfg.poll;
	ret = truth_clock_update(e->est, now);
	if (!ret && e->page) {
		truth_clock_get_estimate(e->est, &est);
		truth_clock_shm_write(e->page, &est);
	}
	return ret;
}

static struct truth_probe_out *outbox_push(struct truth_probe *e)
{
	struct truth_probe_out *o;

	if (e->out_len == TRUTH_PROBE_OUTBOX) {
		e->st.outbox_full++;
		return NULL;
	}
	o = &e->outbox[(e->out_head + e->out_len++) % TRUTH_PROBE_OUTBOX];
	memset(o, 0, sizeof(*o));
	return o;
}

static void msg_init(struct truth_probe *e, struct truth_wire_msg *m,
		     uint8_t type, uint32_t to)
{
	m->type = type;
	m->sender = e->cfg.self;
	m->receiver = to;
	m->group = e->cfg.group;
}

/* Receive time of @m: the closest to the wire among what we were given. */
static uint8_t rx_time(struct truth_probe *e, const struct truth_wire_msg *m,
		       int64_t rx_stamp, uint8_t rx_src, bool local,
		       int64_t *t, uint32_t *err)
{
	*err = 0;
	if (e->cfg.tc_stamps && m->probe.rx_src > rx_src &&
	    m->probe.rx_src > TRUTH_WIRE_TSRC_SOCKET &&
	    m->probe.rx_src < __TRUTH_WIRE_TSRC_MAX) {
		rx_stamp = (int64_t)m->probe.rx;	/* tc ingress wrote it */
		rx_src = m->probe.rx_src;
	}
	if (rx_src > TRUTH_WIRE_TSRC_USER && rx_src < __TRUTH_WIRE_TSRC_MAX) {
		*t = local ? e->clk.stamp_local(e->clk.arg, rx_stamp, err) :
			     e->clk.stamp_ref(e->clk.arg, rx_stamp);
		return rx_src;
	}
	/* after the receive: later than the real receipt, so safe */
	*t = local ? truth_probe_local_now(e) : e->clk.ref_now(e->clk.arg);
	return TRUTH_WIRE_TSRC_USER;
}


/* Server side: answer a PROBE. */
static int answer(struct truth_probe *e, const struct truth_wire_msg *m,
		  int64_t rx_stamp, uint8_t rx_src)
{
	struct truth_probe_out *o;
	uint32_t err;
	int64_t t2;
	uint8_t src;

	src = rx_time(e, m, rx_stamp, rx_src, false, &t2, &err);
	o = outbox_push(e);
	if (!o)
		return -ENOBUFS;
	msg_init(e, &o->msg, TRUTH_WIRE_PROBE_REPLY, m->sender);
	o->msg.probe.id = m->probe.id;
	o->msg.probe.echo_tx = m->probe.tx;
	o->msg.probe.echo_tx_src = m->probe.tx_src;
	o->msg.probe.echo_rx = (uint64_t)t2;
	o->msg.probe.echo_rx_src = src;
	/* tx, the claim and the stamping are decided when it leaves */
	o->tx_cookie = REPLY_COOKIE | ++e->next_reply;
	e->st.probes_answered++;
	return 0;
}

/* The local clock at kernel stamp @stamp of probe @f's send. */
static int64_t tx_local(struct truth_probe *e, const struct inflight *f,
			int64_t stamp, uint32_t *err)
{
	if (f->have_pair)
		return e->clk.pair_local(e->clk.arg, &f->pair, stamp, err);
	return e->clk.stamp_local(e->clk.arg, stamp, err);
}

/* Whether a kernel TX stamp can be @f's: not older than the pair before it. */
static bool tx_plausible(const struct inflight *f, int64_t stamp)
{
	return !f->have_pair || stamp >= f->pair.stamp;
}

static struct inflight *inflight_find(struct truth_probe *e, uint64_t id)
{
	uint32_t i;

	for (i = 0; i < TRUTH_PROBE_INFLIGHT; i++)
		if (e->fl[i].used && e->fl[i].id == id)
			return &e->fl[i];
	return NULL;
}

/* Feed a completed exchange to the estimator and report it. */
static void complete(struct truth_probe *e, struct inflight *f, bool followup)
{
	const uint32_t *prec = e->cfg.prec;
	struct truth_probe_sample s;
	uint64_t l1, l4, p;

	memset(&s, 0, sizeof(s));
	s.peer = f->peer;
	s.id = f->id;
	s.followup = followup;
	memcpy(s.src, f->src, sizeof(s.src));
	s.x.t1 = f->t[0];
	s.x.t2 = f->t[1];
	s.x.t3 = f->t[2];
	s.x.t4 = f->t[3];
	l1 = (uint64_t)f->err[0] + prec[f->src[0]];
	l4 = (uint64_t)f->err[3] + prec[f->src[3]];
	p = prec[f->src[1]] > prec[f->src[2]] ? prec[f->src[1]] : prec[f->src[2]];
	l1 = l1 > l4 ? l1 : l4;
	s.x.local_precision = l1 > UINT32_MAX ? UINT32_MAX : (uint32_t)l1;
	s.x.peer_precision = (uint32_t)p;
	s.x.peer_error = f->claim;
	s.offset = ((s.x.t2 - s.x.t1) + (s.x.t3 - s.x.t4)) / 2;
	s.delay = (s.x.t4 - s.x.t1) - (s.x.t3 - s.x.t2);
	f->used = false;
	e->st.samples++;
	for (p = 0; p < 4; p++)
		if (f->src[p] < __TRUTH_WIRE_TSRC_MAX)
			e->st.src[p][f->src[p]]++;
	s.result = truth_clock_add_sample(e->est, s.peer, &s.x);
	if (s.result)
		e->st.refused++;
	s.update = truth_probe_update(e);
	if (e->cb)
		e->cb(e->cb_arg, &s);
}

/* Client side: a PROBE_REPLY (or a follow-up) to one of our probes. */
static int take_reply(struct truth_probe *e, const struct truth_wire_msg *m,
		      int64_t rx_stamp, uint8_t rx_src)
{
	const struct truth_wire_probe_fields *pf = &m->probe;
	struct inflight *f = inflight_find(e, pf->id);
	bool kst;
	uint32_t err;

	if (!f || f->peer != m->sender) {
		e->st.stray++;
		return -ENOENT;
	}
	if (f->replied) {
		/* the follow-up: a precise T3, never earlier than the provisional */
		if (!(m->flags & TRUTH_WIRE_F_TWO_STEP) &&
		    pf->tx_src > f->src[2] && pf->tx_src < __TRUTH_WIRE_TSRC_MAX &&
		    (int64_t)pf->tx >= f->t[2]) {
			f->t[2] = (int64_t)pf->tx;
			f->src[2] = pf->tx_src;
			e->st.followups++;
			complete(e, f, true);
			return 0;
		}
		e->st.stray++;
		return -ENOENT;
	}
	if (pf->echo_rx_src == TRUTH_WIRE_TSRC_NONE ||
	    pf->echo_rx_src >= __TRUTH_WIRE_TSRC_MAX ||
	    pf->tx_src == TRUTH_WIRE_TSRC_NONE ||
	    pf->tx_src >= __TRUTH_WIRE_TSRC_MAX ||
	    (pf->echo_tx_src <= TRUTH_WIRE_TSRC_USER && pf->echo_tx != f->wire_tx)) {
		e->st.stray++;
		return -EINVAL;
	}
	f->src[3] = rx_time(e, m, rx_stamp, rx_src, true, &f->t[3], &err);
	f->err[3] = err;
	/* a tc egress stamp of our own probe beats what we know of T1 */
	kst = e->cfg.tc_stamps && pf->echo_tx_src > TRUTH_WIRE_TSRC_SOCKET &&
	      pf->echo_tx_src < __TRUTH_WIRE_TSRC_MAX &&
	      tx_plausible(f, (int64_t)pf->echo_tx);
	if (kst && pf->echo_tx_src > f->src[0]) {
		f->t[0] = tx_local(e, f, (int64_t)pf->echo_tx, &f->err[0]);
		f->src[0] = pf->echo_tx_src;
	}
	if (f->kstamp) {
		/* what our replies can expect of the same hook */
		e->kstamp_works = kst;
		if (!kst)
			e->st.kstamp_unstamped++;
	}
	f->t[1] = (int64_t)pf->echo_rx;
	f->src[1] = pf->echo_rx_src;
	f->t[2] = (int64_t)pf->tx;
	f->src[2] = pf->tx_src;
	f->claim = m->index;
	/* T3 written by the server's truth.ko: no follow-up can better it */
	kst = m->flags & TRUTH_WIRE_F_KSTAMPED && pf->tx_src >= TRUTH_WIRE_TSRC_TC;
	if (kst) {
		uint64_t g = truth_clockbound_growth(
			truth_clockbound_absdiff(f->t[2], f->t[1]),
			TRUTH_PROBE_REALTIME_SLEW_PPB);

		e->st.kstamp_replies++;
		if (f->claim != TRUTH_PROBE_NO_CLAIM)
			f->claim = f->claim + g < f->claim ||
				   f->claim + g == TRUTH_PROBE_NO_CLAIM ?
				   TRUTH_PROBE_NO_CLAIM : f->claim + g;
	}
	e->st.replies++;
	if (f->claim == TRUTH_PROBE_NO_CLAIM || f->claim > e->cfg.max_claim) {
		e->st.unclaimed++;
		f->used = false;
		return 0;
	}
	if (m->flags & TRUTH_WIRE_F_TWO_STEP && e->cfg.followup_wait && !kst) {
		f->replied = true;
		f->wait_until = truth_probe_local_now(e) + e->cfg.followup_wait;
		return 0;
	}
	complete(e, f, false);
	return 0;
}

int truth_probe_on_datagram(struct truth_probe *e,
			    const struct truth_wire_msg *m, int64_t rx_stamp,
			    uint8_t rx_src)
{
	if (m->receiver != e->cfg.self || m->group != e->cfg.group ||
	    !peer_find(e, m->sender) || rx_src >= __TRUTH_WIRE_TSRC_MAX) {
		e->st.foreign++;
		return -EINVAL;
	}
	if (m->type == TRUTH_WIRE_PROBE)
		return answer(e, m, rx_stamp, rx_src);
	if (m->type == TRUTH_WIRE_PROBE_REPLY)
		return take_reply(e, m, rx_stamp, rx_src);
	e->st.foreign++;
	return -EINVAL;
}

int truth_probe_on_tx_time(struct truth_probe *e, uint64_t cookie,
			   int64_t tx_stamp, uint8_t tx_src)
{
	struct truth_probe_out *o;
	struct inflight *f;
	uint32_t i, err;
	int64_t t;

	if (tx_src <= TRUTH_WIRE_TSRC_USER || tx_src >= __TRUTH_WIRE_TSRC_MAX)
		return -EINVAL;
	if (!(cookie & REPLY_COOKIE)) {
		f = inflight_find(e, cookie);
		if (!f || tx_src <= f->src[0] || !tx_plausible(f, tx_stamp))
			return -ENOENT;
		t = tx_local(e, f, tx_stamp, &err);
		f->t[0] = t;
		f->err[0] = err;
		f->src[0] = tx_src;
		e->st.tx_stamps++;
		return 0;
	}
	for (i = 0; i < TRUTH_PROBE_INFLIGHT; i++) {
		struct followup *u = &e->fu[i];

		if (!u->used || u->cookie != cookie)
			continue;
		u->used = false;
		t = e->clk.stamp_ref(e->clk.arg, tx_stamp);
		if (t < (int64_t)u->provisional)
			return -EINVAL;	/* not this datagram's */
		o = outbox_push(e);
		if (!o)
			return -ENOBUFS;
		o->msg = u->msg;
		/* the first reply's time: the kernel must not stamp a later one */
		o->msg.flags &= (uint8_t)~(TRUTH_WIRE_F_TWO_STEP | TRUTH_WIRE_F_STAMP);
		o->msg.probe.tx = (uint64_t)t;
		o->msg.probe.tx_src = tx_src;
		/* the precise T3 is later than the one the claim was made for */
		if (!e->cfg.self_error && o->msg.index != TRUTH_PROBE_NO_CLAIM)
			o->msg.index = truth_probe_reply_claim(e, (int64_t)o->msg.probe.echo_rx, t);
		e->st.tx_stamps++;
		return 0;
	}
	return -ENOENT;
}

/* Expire lost probes, give up on follow-ups, forget old two-step replies. */
static void expire(struct truth_probe *e, int64_t now)
{
	uint32_t i;

	for (i = 0; i < TRUTH_PROBE_INFLIGHT; i++) {
		struct inflight *f = &e->fl[i];

		if (!f->used)
			continue;
		if (f->replied && now >= f->wait_until) {
			e->st.followups_missed++;
			complete(e, f, false);
		} else if (!f->replied && now - f->sent > e->cfg.reply_timeout) {
			e->st.lost++;
			f->used = false;
		}
	}
	for (i = 0; i < TRUTH_PROBE_INFLIGHT; i++)
		if (e->fu[i].used && now - e->fu[i].made > e->cfg.reply_timeout)
			e->fu[i].used = false;
}

/* A PROBE to @p, or false if every in-flight slot is taken. */
static bool make_probe(struct truth_probe *e, struct probe_peer *p,
		       struct truth_probe_out *o)
{
	struct inflight *f = NULL;
	uint32_t i;

	for (i = 0; i < TRUTH_PROBE_INFLIGHT && !f; i++)
		if (!e->fl[i].used)
			f = &e->fl[i];
	if (!f)
		return false;
	memset(f, 0, sizeof(*f));
	memset(o, 0, sizeof(*o));
	f->used = true;
	f->peer = p->id;
	f->id = e->next_id++ & ~REPLY_COOKIE;
	if (!f->id)
		f->id = e->next_id++;
	msg_init(e, &o->msg, TRUTH_WIRE_PROBE, p->id);
	o->msg.probe.id = f->id;
	o->msg.probe.tx = (uint64_t)e->clk.ref_now(e->clk.arg);
	o->msg.probe.tx_src = TRUTH_WIRE_TSRC_USER;
	o->tx_cookie = f->id;
	f->wire_tx = o->msg.probe.tx;
	if (e->cfg.tc_kstamp) {
		o->msg.flags |= TRUTH_WIRE_F_STAMP;
		f->kstamp = true;
		e->st.kstamp_asked++;
	}
	if (e->clk.pair_now) {
		e->clk.pair_now(e->clk.arg, &f->pair);
		f->have_pair = true;
	}
	/* before sendmsg: earlier than the real send, so safe as T1 */
	f->t[0] = truth_probe_local_now(e);
	f->src[0] = TRUTH_WIRE_TSRC_USER;
	f->sent = f->t[0];
	e->st.probes_sent++;
	return true;
}

int truth_probe_next(struct truth_probe *e, struct truth_probe_out *out)
{
	int64_t now = truth_probe_local_now(e);
	uint32_t i;

	expire(e, now);
	if (e->out_len) {
		*out = e->outbox[e->out_head];
		e->out_head = (e->out_head + 1) % TRUTH_PROBE_OUTBOX;
		e->out_len--;
		if (out->msg.type == TRUTH_WIRE_PROBE_REPLY &&
		    out->msg.probe.tx_src == TRUTH_WIRE_TSRC_NONE) {
			bool kst = e->cfg.tc_kstamp && e->clk.ref_is_stamp &&
				   e->clk.ref_is_stamp(e->clk.arg);

			if (kst) {
				out->msg.flags |= TRUTH_WIRE_F_STAMP;
				e->st.kstamp_asked++;
			}
			/* two-step unless the hook is known to write T3 */
			if (e->cfg.two_step && !(kst && e->kstamp_works))
				out->msg.flags |= TRUTH_WIRE_F_TWO_STEP;
			else
				out->tx_cookie = 0;
			/* a first reply: T3 read now, before sendmsg */
			out->msg.probe.tx = (uint64_t)e->clk.ref_now(e->clk.arg);
			out->msg.probe.tx_src = TRUTH_WIRE_TSRC_USER;
			out->msg.index = truth_probe_reply_claim(e, (int64_t)out->msg.probe.echo_rx,
						     (int64_t)out->msg.probe.tx);
			if (out->msg.flags & TRUTH_WIRE_F_TWO_STEP)
				for (i = 0; i < TRUTH_PROBE_INFLIGHT; i++) {
					struct followup *u = &e->fu[i];

					if (u->used)
						continue;
					u->used = true;
					u->cookie = out->tx_cookie;
					u->made = now;
					u->provisional = out->msg.probe.tx;
					u->msg = out->msg;
					break;
				}
		} else if (out->msg.type == TRUTH_WIRE_PROBE_REPLY) {
			out->tx_cookie = 0;	/* a follow-up: nothing to follow */
		}
		return 1;
	}
	if (local_sources(e) && now >= e->next_update)
		truth_probe_update(e);
	for (i = 0; i < TRUTH_PROBE_MAX_PEERS; i++) {
		struct probe_peer *p = &e->peers[i];
		int64_t jitter;

		if (!p->used || p->paused || now < p->next_due)
			continue;
		if (!make_probe(e, p, out))
			return 0;
		if (p->burst_left) {
			p->burst_left--;
			p->next_due = now + e->cfg.burst_gap;
		} else {
			p->burst_left = e->cfg.burst - 1;
			/* +-1/16 of the poll, so peers do not fall into step */
			jitter = (int64_t)(rng_next(e) % (uint64_t)(e->cfg.poll / 8 + 1)) -
				 e->cfg.poll / 16;
			p->next_due = now + e->cfg.poll + jitter -
				      (int64_t)(e->cfg.burst - 1) * e->cfg.burst_gap;
		}
		return 1;
	}
	return 0;
}

int64_t truth_probe_deadline(const struct truth_probe *e)
{
	int64_t d = INT64_MAX;
	uint32_t i;

	if (e->out_len)
		return INT64_MIN;
	if (local_sources(e))
		d = e->next_update;
	for (i = 0; i < TRUTH_PROBE_MAX_PEERS; i++)
		if (e->peers[i].used && !e->peers[i].paused &&
		    e->peers[i].next_due < d)
			d = e->peers[i].next_due;
	for (i = 0; i < TRUTH_PROBE_INFLIGHT; i++) {
		const struct inflight *f = &e->fl[i];
		int64_t t;

		if (!f->used)
			continue;
		t = f->replied ? f->wait_until : f->sent + e->cfg.reply_timeout + 1;
		if (t < d)
			d = t;
	}
	return d;
}
