// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * truthd's optional reference source: the local chronyd's estimate of its
 * own error (clock_reference = chrony).
 *
 * A helper thread asks chronyd itself, on its command socket
 * (clock_chrony_socket, chrony's default /run/chrony/chronyd.sock), for
 * the tracking report every 250 ms (a burst of CHRONY_BURST, the reading
 * with the shortest round trip kept), in the binary protocol chronyc speaks
 * (agent/clock/chrony.h): one datagram each way.  chrony's bound holds at
 * the moment chronyd answered, some time between our send and our
 * receive, and the engine must allow for REALTIME being slewed (11%) from
 * there to our REALTIME reading, so that span is all that matters: one
 * datagram round trip, where a chronyc process on pipes cost two process
 * hops (3.6-9.9 ms of bound on a loaded host).  The REALTIME reading is
 * taken right after the reply, between two CLOCK_MONOTONIC_RAW readings.
 * The thread never touches the engine: it hands the result to the loop
 * through an eventfd, and the loop turns it into a source
 * (truth_probe_set_external()).  chronyd absent or unsynchronised: the
 * source has no value (it still counts in the quorum), with a log line on
 * every change of state and the reason in INFO (clock_reference_state,
 * clock_reference_error).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "clock/chrony.h"
#include "clock/probe.h"
#include "log/log.h"
#include "truthd/truthd.h"

#define CHRONY_PERIOD_NS	250000000LL	/* a reading every 250 ms */
#define CHRONY_REPLY_MS		2000		/* chronyd's answer, at most */
#define CHRONY_SLICE_MS		100		/* how soon a stop is seen */
#define CHRONY_DEFAULT_SOCK	"/run/chrony/chronyd.sock"
#define CHRONY_BURST		4		/* readings per period, best kept */

static int64_t raw_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

const char *clock_chrony_state_name(int st)
{
	switch (st) {
	case CHRONY_OK:
		return "ok";
	case CHRONY_UNSYNC:
		return "unsynchronised";
	case CHRONY_ABSENT:
		return "absent";
	default:
		return "starting";
	}
}

static const char *server_path(const struct clock_chrony *c)
{
	return c->sock[0] ? c->sock : CHRONY_DEFAULT_SOCK;
}

static void sock_close(struct clock_chrony *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	if (c->local[0])
		unlink(c->local);
	c->local[0] = '\0';
}

/*
 * Our end, bound next to chronyd's socket as chronyc's is (chronyd sends
 * its reply to the requester's address: an unbound socket gets none; an
 * abstract name would not reach a chronyd in another network namespace),
 * and connected to it.
 */
static int sock_open(struct clock_chrony *c, char *why, size_t len)
{
	const char *path = server_path(c), *slash = strrchr(path, '/');
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int n;

	n = snprintf(c->local, sizeof(c->local), "%.*s/truthd.%d.sock",
		     slash ? (int)(slash - path) : 1, slash ? path : ".",
		     (int)getpid());
	if (n < 0 || (size_t)n >= sizeof(a.sun_path) ||
	    strlen(path) >= sizeof(a.sun_path)) {
		c->local[0] = '\0';
		snprintf(why, len, "%s: path too long for a socket next to it", path);
		return -1;
	}
	c->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		c->local[0] = '\0';
		snprintf(why, len, "socket: %s", strerror(errno));
		return -1;
	}
	unlink(c->local);
	memcpy(a.sun_path, c->local, (size_t)n + 1);
	if (bind(c->fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		snprintf(why, len, "cannot bind %s: %s", c->local, strerror(errno));
		c->local[0] = '\0';
		sock_close(c);
		return -1;
	}
	/* chronyd may answer as its own unprivileged user (chronyc does so too) */
	chmod(c->local, 0666);
	memset(a.sun_path, 0, sizeof(a.sun_path));
	memcpy(a.sun_path, path, strlen(path) + 1);
	if (connect(c->fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		snprintf(why, len, "cannot reach chronyd at %s: %s", path,
			 strerror(errno));
		sock_close(c);
		return -1;
	}
	return 0;
}

static bool stopping(struct clock_chrony *c)
{
	bool s;

	pthread_mutex_lock(&c->mu);
	s = c->stop;
	pthread_mutex_unlock(&c->mu);
	return s;
}

/*
 * One tracking request and its reply: 0 with *l1 (RAW before the send),
 * *lr1 (RAW right after the reply), *real (REALTIME after that) and *lr2
 * (RAW after that); -1 with a reason.
 */
static int ask(struct clock_chrony *c, struct truth_chrony_tracking *t,
	       int64_t *l1, int64_t *lr1, int64_t *real, int64_t *lr2,
	       char *why, size_t len)
{
	uint8_t req[TRUTH_CHRONY_REQ_LEN], rpy[512];
	int64_t deadline;
	const char *reason;
	ssize_t n;
	int ret;

	truth_chrony_request(req, ++c->seq);
	*l1 = raw_ns();
	if (send(c->fd, req, sizeof(req), 0) != (ssize_t)sizeof(req)) {
		snprintf(why, len, "chronyd at %s: %s", server_path(c),
			 strerror(errno));
		return -1;
	}
	deadline = *l1 + CHRONY_REPLY_MS * 1000000LL;
	for (;;) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		int64_t left = deadline - raw_ns();

		if (left <= 0 || stopping(c)) {
			snprintf(why, len, "chronyd at %s gave no answer in %d ms",
				 server_path(c), CHRONY_REPLY_MS);
			return -1;
		}
		if (poll(&p, 1, left / 1000000 < CHRONY_SLICE_MS ?
			 (int)(left / 1000000) + 1 : CHRONY_SLICE_MS) <= 0)
			continue;
		n = recv(c->fd, rpy, sizeof(rpy), MSG_DONTWAIT);
		/* right away: the bound is for a moment before this */
		*lr1 = raw_ns();
		*real = real_ns();
		*lr2 = raw_ns();
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			snprintf(why, len, "chronyd at %s: %s", server_path(c),
				 strerror(errno));
			return -1;
		}
		ret = truth_chrony_reply(rpy, (size_t)n, c->seq, t, &reason);
		if (ret == -ESRCH)
			continue;	/* a late answer to an earlier request */
		if (ret) {
			snprintf(why, len, "%s", reason);
			return -1;
		}
		return 0;
	}
}

/*
 * CHRONY_BURST readings back to back, the one whose bound will be
 * narrowest once the engine allows for REALTIME's slew over its span:
 * on a loaded host one round trip in a few is much shorter than the rest.
 */
static int ask_best(struct clock_chrony *c, struct truth_chrony_tracking *t,
		    int64_t *l1, int64_t *lr1, int64_t *real, int64_t *lr2,
		    char *why, size_t len)
{
	struct truth_chrony_tracking x;
	int64_t a, b, r, e;
	uint64_t cost, best = UINT64_MAX;
	int i;

	for (i = 0; i < CHRONY_BURST; i++) {
		if (ask(c, &x, &a, &b, &r, &e, why, len))
			return -1;
		cost = truth_chrony_bound_ns(&x);
		if (cost == UINT64_MAX) {
			*t = x;		/* unsynchronised: nothing to compare */
			return 0;
		}
		cost += truth_clockbound_growth((uint64_t)(e - a),
						TRUTH_PROBE_REALTIME_SLEW_PPB);
		if (cost < best) {
			best = cost;
			*t = x;
			*l1 = a;
			*lr1 = b;
			*real = r;
			*lr2 = e;
		}
	}
	return 0;
}

static void publish(struct clock_chrony *c, int state, uint64_t bound,
		    int64_t l1, int64_t lr1, int64_t real, int64_t lr2,
		    const char *why)
{
	uint64_t one = 1;
	ssize_t w;

	pthread_mutex_lock(&c->mu);
	c->h_lr1 = lr1;
	c->h_real = real;
	c->h_lr2 = lr2;
	c->r_state = state;
	c->r_bound = bound;
	c->r_l1 = l1;
	c->r_l2 = lr1;
	snprintf(c->r_why, sizeof(c->r_why), "%s", why);
	c->r_gen++;
	pthread_mutex_unlock(&c->mu);
	w = write(c->efd, &one, sizeof(one));
	(void)w;
}

static void *chrony_thread(void *arg)
{
	struct clock_chrony *c = arg;
	struct truth_chrony_tracking t;
	int64_t l1 = 0, lr1 = 0, real = 0, lr2 = 0;
	char why[256];

	pthread_mutex_lock(&c->mu);
	while (!c->stop) {
		struct timespec until;

		pthread_mutex_unlock(&c->mu);
		if (c->fd < 0 && sock_open(c, why, sizeof(why))) {
			publish(c, CHRONY_ABSENT, 0, 0, 0, 0, 0, why);
			goto wait;
		}
		if (ask_best(c, &t, &l1, &lr1, &real, &lr2, why, sizeof(why))) {
			/* chronyd gone or confused: a fresh socket next time */
			sock_close(c);
			publish(c, CHRONY_ABSENT, 0, 0, 0, 0, 0, why);
		} else if (truth_chrony_bound_ns(&t) == UINT64_MAX) {
			snprintf(why, sizeof(why), "chronyd: %s, stratum %u", t.leap,
				 t.stratum);
			publish(c, CHRONY_UNSYNC, 0, 0, 0, 0, 0, why);
		} else {
			publish(c, CHRONY_OK, truth_chrony_bound_ns(&t), l1, lr1,
				real, lr2, "");
		}
wait:
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += CHRONY_PERIOD_NS;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		pthread_mutex_lock(&c->mu);
		while (!c->stop &&
		       pthread_cond_timedwait(&c->cv, &c->mu, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&c->mu);
	sock_close(c);
	return NULL;
}

/* The loop's side: a result is in. */
static void chrony_event(struct truth_ev *ev, uint32_t events)
{
	struct truthd *d = ev->arg;
	struct clock_chrony *c = &d->clk.chrony;
	int state, prev = c->state;
	int64_t l1, l2, lr1, lr2, real;
	uint64_t bound, n;
	char why[sizeof(c->r_why)];

	if (read(c->efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	pthread_mutex_lock(&c->mu);
	state = c->r_state;
	bound = c->r_bound;
	l1 = c->r_l1;
	l2 = c->r_l2;
	lr1 = c->h_lr1;
	real = c->h_real;
	lr2 = c->h_lr2;
	memcpy(why, c->r_why, sizeof(why));
	pthread_mutex_unlock(&c->mu);
	c->state = state;
	c->readings++;
	if (state == CHRONY_OK) {
		c->bound = bound;
		c->why[0] = '\0';
		/* the reading on the node's (maybe test-skewed) reference clock */
		truth_probe_set_external(d->clk.engine, bound, l1, l2,
					 truthd_stamp_ns(d, real), lr1, lr2);
	} else {
		truth_probe_external_unset(d->clk.engine);
		memcpy(c->why, why, sizeof(c->why));
	}
	if (state != prev || (state != CHRONY_OK && strcmp(why, c->logged))) {
		if (state == CHRONY_OK)
			log_info("clock: reference chrony ok: bound %llu ns",
				 (unsigned long long)bound);
		else
			log_warn("clock: reference chrony %s: %s (not used as a source)",
				 clock_chrony_state_name(state), why);
		snprintf(c->logged, sizeof(c->logged), "%s", why);
	}
}

int clock_chrony_open(struct truthd *d)
{
	struct clock_chrony *c = &d->clk.chrony;
	sigset_t all, old;
	int ret;

	memset(c, 0, sizeof(*c));
	c->opened = true;
	c->fd = c->efd = -1;
	c->state = CHRONY_STARTING;
	snprintf(c->sock, sizeof(c->sock), "%s", d->conf.clock_chrony_socket);
	c->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (c->efd < 0)
		return -errno;
	ret = truth_ev_add(&d->loop, &c->ev, c->efd, EPOLLIN, chrony_event, d);
	if (ret)
		return ret;
	pthread_mutex_init(&c->mu, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&c->cv, &ca);
		pthread_condattr_destroy(&ca);
	}
	truth_probe_external_configure(d->clk.engine, true);
	/*
	 * Every signal blocked in the thread from its first instruction:
	 * truthd reads SIGTERM from a signalfd, which only works if no
	 * thread can take it
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	ret = pthread_create(&c->th, NULL, chrony_thread, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret) {
		log_err("clock: reference chrony: thread: %s", strerror(ret));
		return -ret;
	}
	c->running = true;
	log_info("clock: reference chrony (command socket %s), read every %lld ms",
		 server_path(c), CHRONY_PERIOD_NS / 1000000);
	return 0;
}

void clock_chrony_close(struct truthd *d)
{
	struct clock_chrony *c = &d->clk.chrony;

	if (!c->opened)
		return;
	if (c->running) {
		pthread_mutex_lock(&c->mu);
		c->stop = true;
		pthread_cond_signal(&c->cv);
		/* a wait for chronyd's answer sees stop within a slice */
		pthread_mutex_unlock(&c->mu);
		pthread_join(c->th, NULL);
		c->running = false;
	}
	if (c->efd >= 0) {
		truth_ev_del(&d->loop, &c->ev);
		close(c->efd);
		c->efd = -1;
	}
	c->opened = false;
}
