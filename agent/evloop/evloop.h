/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * truth evloop: truthd's one event loop, epoll with a callback per fd.
 *
 * A struct truth_ev lives in its owner's struct (no allocation per fd);
 * epoll hands it back and its callback runs with the events that fired.
 * Helpers make the two special descriptors the daemon needs: a periodic
 * timerfd (Raft ticks) and a signalfd (SIGTERM, SIGINT).
 */
#ifndef _TRUTH_EVLOOP_H
#define _TRUTH_EVLOOP_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

struct truth_ev;
typedef void (*truth_ev_fn)(struct truth_ev *ev, uint32_t events);

struct truth_ev {
	int fd;
	uint32_t events;	/* EPOLLIN etc. currently registered */
	truth_ev_fn fn;
	void *arg;		/* for the owner */
};

struct truth_evloop {
	int epfd;
	bool stop;
	/* called after every batch of events, before sleeping again */
	void (*idle)(void *arg);
	void *idle_arg;
};

int truth_evloop_init(struct truth_evloop *l);
void truth_evloop_fini(struct truth_evloop *l);
int truth_ev_add(struct truth_evloop *l, struct truth_ev *ev, int fd,
		 uint32_t events, truth_ev_fn fn, void *arg);
int truth_ev_mod(struct truth_evloop *l, struct truth_ev *ev, uint32_t events);
void truth_ev_del(struct truth_evloop *l, struct truth_ev *ev);
/* Run until truth_evloop_stop(); returns 0, or -errno if epoll failed. */
int truth_evloop_run(struct truth_evloop *l);
void truth_evloop_stop(struct truth_evloop *l);

/* A non-blocking CLOCK_MONOTONIC timerfd firing every period_us. */
int truth_timerfd_periodic(uint64_t period_us);
/* Read (and so clear) a timerfd: how many periods passed, 0 if none. */
uint64_t truth_timerfd_read(int fd);
/* Block the signals in set and return a non-blocking signalfd for them. */
int truth_signalfd(const sigset_t *set);

/* CLOCK_MONOTONIC and CLOCK_REALTIME in microseconds / milliseconds */
uint64_t truth_mono_us(void);
int64_t truth_wall_ms(void);

#endif /* _TRUTH_EVLOOP_H */
