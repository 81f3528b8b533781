// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * truthd's optional reference source: the local chronyd's estimate of its
 * own error (clock_reference = chrony).
 *
 * A helper thread keeps one `chronyc -c [-h clock_chrony_socket]` running
 * with its stdin and stdout on pipes (a process per reading would cost
 * milliseconds, and the bound pays for every microsecond between the
 * reading and its use), writes "tracking" every second and reads the
 * answer, bracketed by two CLOCK_MONOTONIC_RAW readings.  It never touches
 * the engine: it hands the result to the loop through an eventfd, and the
 * loop turns it into a source (truth_probe_set_external()).  chronyc
 * absent, chronyd absent or unsynchronised: the source has no value (it
 * still counts in the quorum), with a log line on every change of state
 * and the reason in INFO (clock_reference_state, clock_reference_error).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock/chrony.h"
#include "log/log.h"
#include "truthd/truthd.h"

#define CHRONY_PERIOD_NS	1000000000LL	/* a reading per second */
#define CHRONY_REPLY_MS		5000		/* chronyc's answer, at most */

extern char **environ;

static int64_t raw_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
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

static void child_stop(struct clock_chrony *c)
{
	if (c->to_fd >= 0)
		close(c->to_fd);
	if (c->from_fd >= 0)
		close(c->from_fd);
	c->to_fd = c->from_fd = -1;
	if (c->child > 0) {
		kill(c->child, SIGTERM);
		waitpid(c->child, NULL, 0);
	}
	c->child = 0;
	c->rlen = 0;
}

/* chronyc with stdin/stdout (and stderr: its complaints) on pipes. */
static int child_start(struct clock_chrony *c, char *why, size_t len)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t sa;
	sigset_t none, dfl;
	int in[2], out[2], ret;
	char *argv[6];
	int n = 0;

	if (pipe2(in, O_CLOEXEC) < 0)
		goto fail;
	if (pipe2(out, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		goto fail;
	}
	argv[n++] = "chronyc";
	argv[n++] = "-c";
	if (c->sock[0]) {
		argv[n++] = "-h";
		argv[n++] = c->sock;
	}
	argv[n] = NULL;
	/* our thread blocks every signal; chronyc gets the defaults back */
	posix_spawnattr_init(&sa);
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGTERM);
	posix_spawnattr_setsigmask(&sa, &none);
	posix_spawnattr_setsigdefault(&sa, &dfl);
	posix_spawnattr_setflags(&sa, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, out[1], 2);
	ret = posix_spawnp(&c->child, "chronyc", &fa, &sa, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&sa);
	close(in[0]);
	close(out[1]);
	if (ret) {
		close(in[1]);
		close(out[0]);
		c->child = 0;
		snprintf(why, len, "cannot run chronyc: %s", strerror(ret));
		return -1;
	}
	c->to_fd = in[1];
	c->from_fd = out[0];
	c->rlen = 0;
	return 0;
fail:
	snprintf(why, len, "pipe: %s", strerror(errno));
	return -1;
}

/* One line from chronyc within the timeout, or -1. */
static int read_line(struct clock_chrony *c, char *line, size_t cap)
{
	int64_t deadline = raw_ns() + CHRONY_REPLY_MS * 1000000LL;
	char *nl;
	ssize_t n;

	for (;;) {
		struct pollfd p = { .fd = c->from_fd, .events = POLLIN };
		int64_t left = deadline - raw_ns();

		nl = memchr(c->rbuf, '\n', c->rlen);
		if (nl) {
			size_t l = (size_t)(nl - c->rbuf);

			if (l >= cap)
				l = cap - 1;
			memcpy(line, c->rbuf, l);
			line[l] = '\0';
			c->rlen -= (size_t)(nl + 1 - c->rbuf);
			memmove(c->rbuf, nl + 1, c->rlen);
			return 0;
		}
		if (c->rlen == sizeof(c->rbuf))
			c->rlen = 0;	/* a line that long is not ours */
		if (left <= 0 || poll(&p, 1, (int)(left / 1000000) + 1) <= 0)
			return -1;
		n = read(c->from_fd, c->rbuf + c->rlen, sizeof(c->rbuf) - c->rlen);
		if (n <= 0)
			return -1;
		c->rlen += (size_t)n;
	}
}

static int64_t real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void publish(struct clock_chrony *c, int state, uint64_t bound,
		    int64_t l1, int64_t l2, const char *why)
{
	/* REALTIME right after the answer, between two RAW readings */
	c->r_lr1 = raw_ns();
	c->r_real = real_ns();
	c->r_lr2 = raw_ns();
	uint64_t one = 1;
	ssize_t w;

	pthread_mutex_lock(&c->mu);
	c->h_lr1 = c->r_lr1;
	c->h_real = c->r_real;
	c->h_lr2 = c->r_lr2;
	c->r_state = state;
	c->r_bound = bound;
	c->r_l1 = l1;
	c->r_l2 = l2;
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
	char line[512], why[256];
	const char *reason;
	int64_t l1, l2;

	pthread_mutex_lock(&c->mu);
	while (!c->stop) {
		struct timespec until;

		pthread_mutex_unlock(&c->mu);
		if (!c->child && child_start(c, why, sizeof(why))) {
			publish(c, CHRONY_ABSENT, 0, 0, 0, why);
			goto wait;
		}
		l1 = raw_ns();
		if (write(c->to_fd, "tracking\n", 9) != 9 ||
		    read_line(c, line, sizeof(line))) {
			child_stop(c);
			publish(c, CHRONY_ABSENT, 0, 0, 0,
				"chronyc gave no answer (exited or timed out)");
			goto wait;
		}
		l2 = raw_ns();
		if (truth_chrony_parse(line, &t, &reason)) {
			/* chronyc's own message says why ("506 Cannot talk to daemon") */
			snprintf(why, sizeof(why), "%.200s", line);
			child_stop(c);
			publish(c, CHRONY_ABSENT, 0, 0, 0, why);
		} else if (truth_chrony_bound_ns(&t) == UINT64_MAX) {
			snprintf(why, sizeof(why), "chronyd: %s, stratum %u", t.leap,
				 t.stratum);
			publish(c, CHRONY_UNSYNC, 0, 0, 0, why);
		} else {
			publish(c, CHRONY_OK, truth_chrony_bound_ns(&t), l1, l2, "");
		}
wait:
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += CHRONY_PERIOD_NS / 1000000000;
		pthread_mutex_lock(&c->mu);
		while (!c->stop &&
		       pthread_cond_timedwait(&c->cv, &c->mu, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&c->mu);
	child_stop(c);
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
	c->to_fd = c->from_fd = c->efd = -1;
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
	 * thread can take it; a write to a dead chronyc fails with EPIPE
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
	log_info("clock: reference chrony (chronyc -c%s%s), read every second",
		 c->sock[0] ? " -h " : "", c->sock);
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
		/* a chronyc that hangs: its end unblocks the thread's read */
		if (c->child > 0)
			kill(c->child, SIGTERM);
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
