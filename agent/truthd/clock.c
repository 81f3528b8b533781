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
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "log/log.h"
#include "truthd/truthd.h"

int64_t truthd_realtime_ns(struct truthd *d)
{
	struct timespec ts;

	(void)d;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
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
	char err[256];
	uint32_t i;
	int ret;

	/* kernel times if the socket gives them, clock_gettime otherwise */
	if (truth_tsock_enable(&d->clk.sock, d->tp.fd, err, sizeof(err)))
		log_warn("clock: %s: using user-space timestamps", err);
	truth_probe_config_default(&cfg);
	cfg.self = d->conf.node_id;
	cfg.group = d->conf.group_id;
	cfg.two_step = d->clk.sock.tx_stamps;
	cfg.self_error = d->conf.clock_anchor_ns;
	d->clk.slew = TRUTH_PROBE_REALTIME_SLEW_PPB;
	truth_probe_clock_real(&d->clk.clk, &d->clk.slew);
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
	d->tp.probe = clock_on_probe;
	d->tp.probe_ctx = d;
	log_info("clock: page %s, %s timestamps, %s", d->conf.clock_page,
		 d->clk.sock.rx_stamps ? "kernel" : "user",
		 cfg.self_error ? "anchor" : "deriving from peers");
	clock_flush(d);
	return 0;
}

void clock_close(struct truthd *d)
{
	d->tp.probe = NULL;
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
