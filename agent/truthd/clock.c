// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * truthd's clock: the probe engine (agent/clock/probe.h) run with every
 * peer over the Raft UDP socket, so probes share its address, key, seq
 * counter and replay windows.  The transport checks PROBE/PROBE_REPLY
 * datagrams like any other and hands them to clock_on_probe() with their
 * SO_TIMESTAMPING receive time; what the engine wants sent goes out with a
 * per-datagram TX stamp request (Raft datagrams ask none); TX times come
 * back on the error queue, read before every receive so a reply never
 * overtakes the precise T1 of its own probe.  A one-shot timerfd wakes the
 * loop at the engine's deadline.  The estimate is published in the
 * clockbound page (clock_page) and answers TIME.NOW and INFO.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "log/log.h"
#include "truthd/truthd.h"

static int64_t read_realtime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * The test-only skew starts at the first wall-clock read (truthd's start:
 * coord.c may read before clock_open()); without test_clock_* it is zero.
 */
static struct truth_probe_skew *clock_skew(struct truthd *d)
{
	struct truth_probe_skew *s = &d->clk.skew;

	if (!d->clk.skew_ready) {
		memset(s, 0, sizeof(*s));
		s->slew_ppb = TRUTH_PROBE_REALTIME_SLEW_PPB;
		s->t0 = read_realtime();
		/* RAW + raw_base: REALTIME now, read as one bracketed pair */
		if (d->conf.test_clock_raw)
			s->raw_base = truth_probe_real_minus_raw();
		s->offset = d->conf.test_clock_offset_ns;
		s->drift_ppm = d->conf.test_clock_drift_ppm;
		d->clk.skew_ready = true;
	}
	return s;
}

int64_t truthd_realtime_ns(struct truthd *d)
{
	struct truth_probe_skew *s = clock_skew(d);

	return truth_probe_skew_apply(s, truth_probe_skew_base_now(s));
}

int64_t truthd_stamp_ns(struct truthd *d, int64_t stamp)
{
	struct truth_probe_skew *s = clock_skew(d);

	return truth_probe_skew_apply(s, truth_probe_skew_base_stamp(s, stamp));
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The vector-clock slots of a datagram truth.ko is asked to stamp: the
 * module writes the group's clock into them (cutting the unused ones) and
 * leaves the datagram alone when its clock has more entries than slots,
 * so reserve one per member.  The placeholders travel only if the module
 * does not stamp: our own entry, and 1 for the others (every member's
 * first event), in node order as the wire wants.
 */
static void clock_vc_slots(struct truthd *d, struct truth_wire_msg *w)
{
	uint32_t ids[TRUTH_CONF_MAX_PEERS], i, n = 0;

	for (i = 0; i < d->conf.n_peers && n < TRUTH_WIRE_VCLOCK_MAX; i++)
		ids[n++] = d->conf.peers[i].id;
	qsort(ids, n, sizeof(ids[0]), cmp_u32);
	for (i = 0; i < n; i++) {
		w->vc[i].node = ids[i];
		w->vc[i].counter = ids[i] == d->tp.self ? d->tp.lamport : 1;
	}
	w->vc_count = (uint8_t)n;
}

static void clock_send(struct truthd *d, struct truth_probe_out *o)
{
	struct truth_tp *t = &d->tp;
	struct truth_tp_peer *p = truth_tp_peer(t, o->msg.receiver);
	struct truth_wire_msg *w = &o->msg;
	int n;

	if (!p)
		return;
	/* the transport's counters: one seq space per sender on the wire */
	w->seq = ++t->seq;
	w->lamport = ++t->lamport;
	w->term = raft_term(d->raft);
	w->vc_count = 1;
	w->vc[0].node = t->self;
	w->vc[0].counter = t->lamport;
	if (w->flags & TRUTH_WIRE_F_STAMP)
		clock_vc_slots(d, w);
	n = truth_wire_encode(t->txbuf, TRUTH_WIRE_DGRAM_MAX, w, t->key);
	if (n < 0 ||
	    truth_tsock_send(&d->clk.sock, t->txbuf, (size_t)n,
			     (struct sockaddr *)&p->sa, p->salen,
			     d->clk.sock.tx_stamps ? o->tx_cookie : 0) < 0) {
		t->st.tx_errors++;
		return;
	}
	t->st.tx++;
	p->tx++;
}

/* Send what is due and arm the timer for the next deadline. */
static void clock_flush(struct truthd *d)
{
	struct itimerspec its = { 0 };
	struct truth_probe_out o;
	int64_t dl, wait;

	while (truth_probe_next(d->clk.engine, &o) > 0)
		clock_send(d, &o);
	clock_discipline_tick(d);
	dl = truth_probe_deadline(d->clk.engine);
	if (dl == INT64_MAX)
		return;
	wait = dl == INT64_MIN ? 0 : dl - truth_probe_local_now(d->clk.engine);
	/* 0 would disarm: the smallest wait instead */
	if (wait < 1000)
		wait = 1000;
	its.it_value.tv_sec = wait / 1000000000;
	its.it_value.tv_nsec = wait % 1000000000;
	timerfd_settime(d->clk.timerfd, 0, &its, NULL);
}

void clock_read_tx(struct truthd *d)
{
	uint64_t cookie;
	int64_t stamp;

	if (!d->clk.engine)
		return;
	while (truth_tsock_read_tx(&d->clk.sock, &cookie, &stamp) > 0)
		truth_probe_on_tx_time(d->clk.engine, cookie, stamp,
				       TRUTH_WIRE_TSRC_SOCKET);
}

static void clock_on_probe(void *ctx, const struct truth_wire_msg *m,
			   const uint8_t *buf, size_t len)
{
	struct truthd *d = ctx;

	truth_probe_on_datagram(d->clk.engine, m, d->tp.rx_stamp, d->tp.rx_src);
	/* answer at once: the server's hold time is part of the delay */
	clock_flush(d);
}

#define TRUTHD_TEST_EPS	(1u << 17)	/* epsilons kept for INFO's percentiles */

/*
 * Test hooks, the documented formula (clock.md "The formula the tests hold
 * epsilon to"): after an update, the estimate is never wider than any
 * truechimer's interval.
 */
static void clock_check_formula(struct truthd *d)
{
	struct truth_clock *c = truth_probe_estimator(d->clk.engine);
	struct truth_clock_peer_info pi;
	struct truth_clock_estimate est;
	uint64_t w;
	uint32_t i;

	truth_clock_get_estimate(c, &est);
	w = (uint64_t)est.offset.hi - (uint64_t)est.offset.lo;
	for (i = 0; i < d->conf.n_peers; i++) {
		if (d->conf.peers[i].id == d->conf.node_id ||
		    truth_clock_peer_info(c, d->conf.peers[i].id, &pi) ||
		    pi.state != TRUTH_CLOCK_PEER_TRUECHIMER)
			continue;
		d->clk.formula_checked++;
		if (w > (uint64_t)pi.interval.hi - (uint64_t)pi.interval.lo) {
			d->clk.formula_bad++;
			log_warn("clock: TEST formula: estimate width %llu ns over peer %u's %llu ns",
				 (unsigned long long)w, pi.id,
				 (unsigned long long)((uint64_t)pi.interval.hi -
						      (uint64_t)pi.interval.lo));
		}
	}
}

/*
 * Test hooks: after every sample, check that the host's CLOCK_REALTIME
 * (true time in a test whose nodes share the host clock; the test skew is
 * not applied) is inside the bound.  Read between two local readings l1,
 * l2: earliest and latest only grow with the local reading, so a bound
 * that holds at the instant of the read gives earliest(l1) <= R <=
 * latest(l2); a failure proves a violation.
 */
static void clock_check_sample(void *arg, const struct truth_probe_sample *s)
{
	struct truthd *d = arg;
	struct truth_clock_now a, b;
	int64_t l1, l2, r;

	l1 = truth_probe_local_now(d->clk.engine);
	r = read_realtime();
	l2 = truth_probe_local_now(d->clk.engine);
	truth_probe_now_at(d->clk.engine, l1, &a);
	truth_probe_now_at(d->clk.engine, l2, &b);
	if (a.status == TRUTH_CLOCK_UNKNOWN)
		return;
	d->clk.checked++;
	if (a.earliest <= r && r <= b.latest)
		d->clk.contained++;
	else
		log_warn("clock: TEST check: CLOCK_REALTIME %lld outside [%lld, %lld]",
			 (long long)r, (long long)a.earliest, (long long)b.latest);
	if (!d->clk.test_eps)
		d->clk.test_eps = calloc(TRUTHD_TEST_EPS, sizeof(*d->clk.test_eps));
	if (d->clk.test_eps && d->clk.test_eps_n < TRUTHD_TEST_EPS)
		d->clk.test_eps[d->clk.test_eps_n++] =
			b.epsilon > UINT32_MAX ? UINT32_MAX : (uint32_t)b.epsilon;
	if (!s->update)
		clock_check_formula(d);
}

static int cmp_eps(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* INFO with test hooks: epsilon after the checked samples, p50/p99/max. */
static void clock_info_eps(struct truthd *d, struct truth_resp_out *o)
{
	uint32_t n = d->clk.test_eps_n, *v;

	if (!n || !(v = malloc(n * sizeof(*v))))
		return;
	memcpy(v, d->clk.test_eps, n * sizeof(*v));
	qsort(v, n, sizeof(*v), cmp_eps);
	truth_resp_out_printf(o,
		"clock_test_eps_count:%u\r\nclock_test_eps_p50_ns:%u\r\n"
		"clock_test_eps_p99_ns:%u\r\nclock_test_eps_max_ns:%u\r\n",
		n, v[(n - 1) / 2], v[(uint64_t)(n - 1) * 99 / 100], v[n - 1]);
	free(v);
}

static void clock_timer(struct truth_ev *ev, uint32_t events)
{
	struct truthd *d = ev->arg;
	uint64_t n;

	if (read(d->clk.timerfd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_warn("clock timer: %s", strerror(errno));
	clock_flush(d);
}

int clock_open(struct truthd *d)
{
	struct truth_probe_config cfg;
	struct truth_probe_skew *skew;
	uint32_t i, max_drift;
	char err[256];
	int ret;

	/* kernel times if the socket gives them, clock_gettime otherwise */
	if (truth_tsock_enable(&d->clk.sock, d->tp.fd, err, sizeof(err)))
		log_warn("clock: %s: using user-space timestamps", err);
	truth_probe_config_default(&cfg);
	cfg.self = d->conf.node_id;
	cfg.group = d->conf.group_id;
	cfg.two_step = d->clk.sock.tx_stamps;
	cfg.self_error = d->conf.clock_anchor_ns;
	/*
	 * truth.ko's ingress hook writes a probe's receive trailer (TSRC_TC)
	 * once the fast path is attached; without it the trailer is not
	 * believed (anyone on the path could write it: it is not MACed)
	 */
	cfg.tc_stamps = d->fp != NULL;
	/*
	 * ...and its egress hook writes our probes' transmit times
	 * (F_STAMP): T1 and T3 from tc too, the socket's when it did not
	 */
	cfg.tc_kstamp = cfg.tc_stamps;
	cfg.poll = (int64_t)d->conf.clock_poll_ms * 1000000;
	skew = clock_skew(d);
	/* with test_hooks the drift may change at run time up to the limit */
	max_drift = d->conf.test_hooks ? TRUTH_PROBE_SKEW_MAX_DRIFT_PPM :
		    (uint32_t)abs(d->conf.test_clock_drift_ppm);
	truth_probe_clock_skewed(&d->clk.clk, skew, max_drift);
	if (skew->offset || skew->drift_ppm)
		log_warn("clock: TEST skew in effect: offset %lld ns, drift %d ppm (test_clock_*)",
			 (long long)skew->offset, skew->drift_ppm);
	d->clk.engine = truth_probe_new(&cfg, &d->clk.clk, err, sizeof(err));
	if (!d->clk.engine) {
		log_err("clock: %s", err);
		return -EINVAL;
	}
	for (i = 0; i < d->conf.n_peers; i++) {
		if (d->conf.peers[i].id == d->conf.node_id)
			continue;
		ret = truth_probe_peer_add(d->clk.engine, d->conf.peers[i].id);
		if (ret) {
			log_err("clock: peer %u: %d", d->conf.peers[i].id, ret);
			return -EINVAL;
		}
	}
	d->clk.page = truth_clock_shm_create(d->conf.clock_page,
					     d->clk.clk.local_clock_id);
	if (!d->clk.page) {
		ret = -errno;
		log_err("clock_page %s: %s", d->conf.clock_page, strerror(-ret));
		return ret;
	}
	truth_probe_set_page(d->clk.engine, d->clk.page);
	d->clk.timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (d->clk.timerfd < 0)
		return -errno;
	ret = truth_ev_add(&d->loop, &d->clk.ev, d->clk.timerfd, EPOLLIN,
			   clock_timer, d);
	if (ret)
		return ret;
	clock_discipline_open(d);
	if (d->conf.clock_reference_chrony) {
		ret = clock_chrony_open(d);
		if (ret)
			return ret;
	}
	d->tp.probe = clock_on_probe;
	d->tp.probe_ctx = d;
	if (d->conf.test_hooks)
		truth_probe_set_sample_cb(d->clk.engine, clock_check_sample, d);
	log_info("clock: page %s, %s timestamps%s, %s", d->conf.clock_page,
		 d->clk.sock.rx_stamps ? "kernel" : "user",
		 cfg.tc_stamps ? " (tc send and receive times from the fast path)" : "",
		 cfg.self_error ? "anchor" : "deriving from peers");
	clock_flush(d);
	return 0;
}

void clock_close(struct truthd *d)
{
	d->tp.probe = NULL;
	clock_chrony_close(d);
	clock_discipline_close(d);
	if (d->clk.engine)
		truth_probe_set_page(d->clk.engine, NULL);
	truth_probe_free(d->clk.engine);
	d->clk.engine = NULL;
	if (d->clk.page)
		truth_clock_shm_unmap(d->clk.page);
	d->clk.page = NULL;
	if (d->clk.timerfd >= 0)
		close(d->clk.timerfd);
	d->clk.timerfd = -1;
	free(d->clk.test_eps);
	d->clk.test_eps = NULL;
	d->clk.test_eps_n = 0;
	/* the socket is the transport's: not closed here */
}

const char *clock_status_name(uint32_t status)
{
	switch (status) {
	case TRUTH_CLOCK_SYNCHRONISED:
		return "synchronised";
	case TRUTH_CLOCK_FREE_RUNNING:
		return "free-running";
	default:
		return "unknown";
	}
}

int clock_time_now(void *ctx, struct truth_resp_time *t)
{
	struct conn *c = ctx;
	struct truth_clock_now n;

	if (!c->d->clk.engine)
		return -ENODEV;
	truth_probe_now(c->d->clk.engine, &n);
	t->earliest = n.earliest;
	t->latest = n.latest;
	t->status = clock_status_name(n.status);
	return 0;
}

/*
 * TRUTH.DEBUG CLOCK <offset_ns> <drift_ppm>: change the test skew now (test
 * hooks only).  The drift so far is kept; the clock jumps by the change of
 * offset, as a stepped clock would.
 */
static void debug_clock(struct truthd *d, struct truth_resp_session *s,
			const struct truth_resp_request *req)
{
	struct truth_probe_skew *skew = clock_skew(d);
	long long off, drift;
	char buf[2][32], *end;
	unsigned int i;

	if (req->argc != 4) {
		truth_resp_add_error(&s->out,
			"ERR wrong number of arguments: TRUTH.DEBUG CLOCK <offset_ns> <drift_ppm>");
		return;
	}
	for (i = 0; i < 2; i++) {
		const struct truth_resp_arg *a = &req->argv[2 + i];

		if (!a->len || a->len >= sizeof(buf[i])) {
			buf[i][0] = 'x';
			buf[i][1] = '\0';
			continue;
		}
		memcpy(buf[i], a->ptr, a->len);
		buf[i][a->len] = '\0';
	}
	errno = 0;
	off = strtoll(buf[0], &end, 10);
	if (errno || *end || end == buf[0] || off < -TRUTH_PROBE_SKEW_MAX_OFFSET ||
	    off > TRUTH_PROBE_SKEW_MAX_OFFSET) {
		truth_resp_add_error(&s->out,
			"ERR TRUTH.DEBUG CLOCK: offset_ns must be an integer within one day (+-86400000000000)");
		return;
	}
	drift = strtoll(buf[1], &end, 10);
	if (errno || *end || end == buf[1] || drift < -TRUTH_PROBE_SKEW_MAX_DRIFT_PPM ||
	    drift > TRUTH_PROBE_SKEW_MAX_DRIFT_PPM) {
		truth_resp_add_error(&s->out,
			"ERR TRUTH.DEBUG CLOCK: drift_ppm must be an integer -100000..100000");
		return;
	}
	truth_probe_skew_set(skew, truth_probe_skew_base_now(skew), off, (int32_t)drift);
	log_warn("clock: TEST skew set by TRUTH.DEBUG: offset %lld ns, drift %lld ppm",
		 off, drift);
	truth_resp_add_simple(&s->out, "OK");
}

void clock_debug(struct truthd *d, struct truth_resp_session *s,
		 const struct truth_resp_request *req)
{
	const struct truth_resp_arg *sub = req->argc > 1 ? &req->argv[1] : NULL;

	if (!d->conf.test_hooks) {
		truth_resp_add_error(&s->out, "ERR TRUTH.DEBUG needs test_hooks = on");
		return;
	}
	if (sub && sub->len == 5 && !strncasecmp(sub->ptr, "clock", 5)) {
		debug_clock(d, s, req);
		return;
	}
	truth_resp_add_error(&s->out, "ERR TRUTH.DEBUG: unknown subcommand (try CLOCK)");
}

/* INFO truth's clock lines. */
void clock_info(struct truthd *d, struct truth_resp_out *o)
{
	struct truth_probe_stats ps;
	struct truth_clock_peer_info pi;
	struct truth_clock_estimate est;
	struct truth_clock_now n;
	struct truth_clock *c;
	char ft[256];
	size_t used = 0;
	uint32_t i;

	if (d->clk.skew_ready && (d->conf.test_hooks || d->clk.skew.offset ||
				  d->clk.skew.drift_ppm))
		truth_resp_out_printf(o, "clock_test_offset_ns:%lld\r\nclock_test_drift_ppm:%d\r\n",
				      (long long)d->clk.skew.offset, d->clk.skew.drift_ppm);
	if (!d->clk.engine)
		return;
	c = truth_probe_estimator(d->clk.engine);
	truth_probe_now(d->clk.engine, &n);
	truth_probe_get_stats(d->clk.engine, &ps);
	truth_clock_get_estimate(c, &est);
	ft[0] = '\0';
	/* who the last selection left out; "self" is this anchor's own clock */
	for (i = 0; i < d->conf.n_peers; i++) {
		uint32_t id = d->conf.peers[i].id;

		if (id == d->conf.node_id || truth_clock_peer_info(c, id, &pi) ||
		    pi.state != TRUTH_CLOCK_PEER_FALSETICKER || used >= sizeof(ft))
			continue;
		used += (size_t)snprintf(ft + used, sizeof(ft) - used, "%s%u",
					 used ? "," : "", id);
	}
	if (d->conf.clock_anchor_ns && used < sizeof(ft) &&
	    truth_clock_reference_state(c) == TRUTH_CLOCK_PEER_FALSETICKER)
		snprintf(ft + used, sizeof(ft) - used, "%sself", used ? "," : "");
	truth_resp_out_printf(o,
		"clock_status:%s\r\nclock_epsilon_ns:%llu\r\nclock_page:%s\r\n"
		"clock_samples:%llu\r\nclock_lost:%llu\r\nclock_tx_stamps:%llu\r\n"
		"clock_sources:%u\r\nclock_candidates:%u\r\nclock_falsetickers:%s\r\n",
		clock_status_name(n.status), (unsigned long long)n.epsilon,
		d->conf.clock_page, (unsigned long long)ps.samples,
		(unsigned long long)ps.lost, (unsigned long long)ps.tx_stamps,
		est.sources, est.candidates, ft);
	truth_resp_out_printf(o,
		"clock_rx_src_tc:%llu\r\nclock_rx_src_so:%llu\r\nclock_rx_src_user:%llu\r\n"
		"clock_tx_src_tc:%llu\r\nclock_tx_src_so:%llu\r\nclock_tx_src_user:%llu\r\n",
		(unsigned long long)ps.src[3][TRUTH_WIRE_TSRC_TC],
		(unsigned long long)ps.src[3][TRUTH_WIRE_TSRC_SOCKET],
		(unsigned long long)ps.src[3][TRUTH_WIRE_TSRC_USER],
		(unsigned long long)ps.src[0][TRUTH_WIRE_TSRC_TC],
		(unsigned long long)ps.src[0][TRUTH_WIRE_TSRC_SOCKET],
		(unsigned long long)ps.src[0][TRUTH_WIRE_TSRC_USER]);
	/* the peer's side of the same samples (T2, T3), and our stamp requests */
	truth_resp_out_printf(o,
		"clock_peer_rx_src_tc:%llu\r\nclock_peer_rx_src_so:%llu\r\nclock_peer_rx_src_user:%llu\r\n"
		"clock_peer_tx_src_tc:%llu\r\nclock_peer_tx_src_so:%llu\r\nclock_peer_tx_src_user:%llu\r\n"
		"clock_kstamp:%s\r\nclock_kstamp_asked:%llu\r\nclock_kstamp_unstamped:%llu\r\n"
		"clock_kstamp_replies:%llu\r\nclock_poll_ms:%u\r\n",
		(unsigned long long)ps.src[1][TRUTH_WIRE_TSRC_TC],
		(unsigned long long)ps.src[1][TRUTH_WIRE_TSRC_SOCKET],
		(unsigned long long)ps.src[1][TRUTH_WIRE_TSRC_USER],
		(unsigned long long)ps.src[2][TRUTH_WIRE_TSRC_TC],
		(unsigned long long)ps.src[2][TRUTH_WIRE_TSRC_SOCKET],
		(unsigned long long)ps.src[2][TRUTH_WIRE_TSRC_USER],
		d->fp ? "on" : "off", (unsigned long long)ps.kstamp_asked,
		(unsigned long long)ps.kstamp_unstamped,
		(unsigned long long)ps.kstamp_replies, d->conf.clock_poll_ms);
	truth_resp_out_printf(o, "clock_discipline:%s\r\n",
			      clock_discipline_state_name(d->clk.disc.state));
	if (d->clk.disc.state != DISC_OFF)
		truth_resp_out_printf(o,
			"clock_discipline_offset_ns:%lld\r\nclock_discipline_adjustments:%llu\r\n"
			"clock_discipline_reason:%s\r\n",
			(long long)d->clk.disc.offset,
			(unsigned long long)d->clk.disc.adjustments, d->clk.disc.why);
	clock_discipline_info(d, o);
	if (d->conf.test_hooks) {
		truth_resp_out_printf(o, "clock_test_checked:%llu\r\nclock_test_contained:%llu\r\n"
				      "clock_test_formula_checked:%llu\r\nclock_test_formula_bad:%llu\r\n",
				      (unsigned long long)d->clk.checked,
				      (unsigned long long)d->clk.contained,
				      (unsigned long long)d->clk.formula_checked,
				      (unsigned long long)d->clk.formula_bad);
		clock_info_eps(d, o);
	}
	if (d->conf.clock_reference_chrony) {
		static const char *const sel[] = { "unused", "truechimer", "falseticker" };
		uint32_t rs = truth_clock_ref_state(c, TRUTH_CLOCK_REF_EXTERNAL);

		truth_resp_out_printf(o,
			"clock_reference:chrony\r\nclock_reference_state:%s\r\n"
			"clock_reference_selection:%s\r\nclock_reference_bound_ns:%llu\r\n"
			"clock_reference_readings:%llu\r\nclock_reference_error:%s\r\n",
			clock_chrony_state_name(d->clk.chrony.state),
			rs < 3 ? sel[rs] : "?",
			(unsigned long long)d->clk.chrony.bound,
			(unsigned long long)d->clk.chrony.readings, d->clk.chrony.why);
	} else {
		truth_resp_out_printf(o, "clock_reference:none\r\n");
	}
}
