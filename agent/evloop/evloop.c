// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The event loop: epoll, level-triggered (a callback that leaves bytes
 * unread is called again, so no starvation bookkeeping is needed).
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "evloop/evloop.h"

int truth_evloop_init(struct truth_evloop *l)
{
	memset(l, 0, sizeof(*l));
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	return l->epfd < 0 ? -errno : 0;
}

void truth_evloop_fini(struct truth_evloop *l)
{
	if (l->epfd >= 0)
		close(l->epfd);
	l->epfd = -1;
}

int truth_ev_add(struct truth_evloop *l, struct truth_ev *ev, int fd,
		 uint32_t events, truth_ev_fn fn, void *arg)
{
	struct epoll_event e = { .events = events, .data.ptr = ev };

	ev->fd = fd;
	ev->events = events;
	ev->fn = fn;
	ev->arg = arg;
	return epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &e) ? -errno : 0;
}

int truth_ev_mod(struct truth_evloop *l, struct truth_ev *ev, uint32_t events)
{
	struct epoll_event e = { .events = events, .data.ptr = ev };

	if (ev->events == events)
		return 0;
	ev->events = events;
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, ev->fd, &e) ? -errno : 0;
}

void truth_ev_del(struct truth_evloop *l, struct truth_ev *ev)
{
	if (ev->fd >= 0)
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, ev->fd, NULL);
}

int truth_evloop_run(struct truth_evloop *l)
{
	struct epoll_event evs[64];
	int i, n;

	while (!l->stop) {
		n = epoll_wait(l->epfd, evs, 64, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (i = 0; i < n && !l->stop; i++) {
			struct truth_ev *ev = evs[i].data.ptr;

			ev->fn(ev, evs[i].events);
		}
		if (l->idle && !l->stop)
			l->idle(l->idle_arg);
	}
	return 0;
}

void truth_evloop_stop(struct truth_evloop *l)
{
	l->stop = true;
}

int truth_timerfd_periodic(uint64_t period_us)
{
	struct itimerspec its = { 0 };
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);

	if (fd < 0)
		return -errno;
	its.it_interval.tv_sec = (time_t)(period_us / 1000000);
	its.it_interval.tv_nsec = (long)(period_us % 1000000) * 1000;
	its.it_value = its.it_interval;
	if (timerfd_settime(fd, 0, &its, NULL)) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

uint64_t truth_timerfd_read(int fd)
{
	uint64_t n;

	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

int truth_signalfd(const sigset_t *set)
{
	int fd;

	if (sigprocmask(SIG_BLOCK, set, NULL))
		return -errno;
	fd = signalfd(-1, set, SFD_NONBLOCK | SFD_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

uint64_t truth_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

int64_t truth_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
