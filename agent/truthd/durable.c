// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * What waits for the disk: the sync thread, messages held until the
 * entries they vouch for are durable, and the leader's commit count.
 *
 * The loop appends (pwrite) and goes on; one thread runs fdatasync on what
 * was appended so far (a follower with a few entries waiting syncs in its
 * loop instead: sync_here() says why), and the next sync covers everything appended
 * meanwhile (group commit with no timer: the batch is whatever the disk's
 * latency lets pile up).  Because Raft's core is told "stable" before the
 * sync returns, two rules keep Raft's promises:
 *
 *  - every message but the leader's own (APPEND, SNAPSHOT, TIMEOUT_NOW,
 *    which vouch for nothing on this disk) waits in a FIFO until the log
 *    as it was when the message was made is durable: an ack, a vote, a
 *    heartbeat answer never leave ahead of the entries behind them;
 *  - the core counts nothing (external_commit): the commit counter
 *    (count.c, agent/counter) gets this node's durable index only after
 *    the sync, and the followers' acks; its advances go to
 *    raft_commit_external().
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log/log.h"
#include "truthd/truthd.h"

static void *sync_main(void *arg)
{
	struct truthd *d = arg;
	struct sync_thread *s = &d->sync;
	uint64_t one = 1, t0, t1;
	ssize_t w;
	int fd, ret;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (!s->stop && s->fd < 0)
			pthread_cond_wait(&s->cv, &s->mu);
		if (s->stop)
			break;
		fd = s->fd;
		pthread_mutex_unlock(&s->mu);
		t0 = lat_now();
		ret = fdatasync(fd) ? -errno : 0;
		t1 = lat_now();
		close(fd);
		pthread_mutex_lock(&s->mu);
		s->t_start = t0;
		s->t_done = t1;
		s->fd = -1;
		s->result = ret;
		s->done = true;
		w = write(s->efd, &one, sizeof(one));
		(void)w;	/* an eventfd write cannot fail short of overflow */
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

uint64_t node_durable(struct truthd *d)
{
	return d->conf.fsync ? truth_wal_durable_index(d->wal)
			     : truth_wal_last_index(d->wal);
}

/* a held message covered by a later one: not sent (no raft_msg_type has it) */
#define HELD_COVERED	0xff

static bool plain_ack(const struct raft_msg *m)
{
	return m->type == RAFT_MSG_APPEND_RESP && !m->heartbeat && !m->reject;
}

/*
 * Of the plain acks in held[0..n) (an ACK datagram: term and match index,
 * nothing else) only the last to each peer in each term needs to leave:
 * it vouches for everything the earlier ones did.  A follower that got
 * several APPENDs during one sync answers them with one datagram.  The
 * ones covered are marked HELD_COVERED.
 */
static void coalesce_acks(struct truthd *d, size_t n)
{
	struct { uint32_t to; uint64_t term, match; } last[TRUTH_TP_MAX_PEERS];
	uint32_t n_last = 0, k;
	size_t j = n;

	while (j--) {
		struct raft_msg *m = &d->held[j];

		if (!plain_ack(m))
			continue;
		for (k = 0; k < n_last; k++)
			if (last[k].to == m->to && last[k].term == m->term)
				break;
		if (k < n_last) {
			if (last[k].match >= m->match_index) {
				m->type = HELD_COVERED;
				d->acks_coalesced++;
			}
			continue;
		}
		if (n_last < TRUTH_TP_MAX_PEERS) {
			last[n_last].to = m->to;
			last[n_last].term = m->term;
			last[n_last++].match = m->match_index;
		}
	}
}

static void release_held(struct truthd *d)
{
	uint64_t durable = node_durable(d);
	size_t i = 0, j;

	while (i < d->n_held && d->held_need[i] <= durable)
		i++;
	if (!i)
		return;
	coalesce_acks(d, i);
	for (j = 0; j < i; j++) {
		if (d->held[j].type == HELD_COVERED)
			continue;
		truth_tp_send(&d->tp, &d->held[j]);
		if (plain_ack(&d->held[j]))
			lat_ack_sent(d, d->held[j].match_index);
	}
	memmove(d->held, d->held + i, (d->n_held - i) * sizeof(*d->held));
	memmove(d->held_need, d->held_need + i, (d->n_held - i) * sizeof(*d->held_need));
	d->n_held -= i;
}

/*
 * The log was cut back to last: held messages that vouch for entries past
 * it must never leave (an ack for a term-T1 entry that a T2 leader has
 * since replaced would let the T1 leader count a log this node no longer
 * has).  Raft treats them as lost messages.
 */
void drop_held_above(struct truthd *d, uint64_t last)
{
	size_t i, k = 0;

	for (i = 0; i < d->n_held; i++) {
		if (d->held_need[i] > last)
			continue;
		d->held[k] = d->held[i];
		d->held_need[k++] = d->held_need[i];
	}
	if (k != d->n_held)
		log_debug("log cut to %llu: %zu held messages dropped",
			  (unsigned long long)last, d->n_held - k);
	d->n_held = k;
}

/* Queue m until the log up to need is durable; false if out of memory. */
bool hold_msg(struct truthd *d, const struct raft_msg *m, uint64_t need)
{
	if (!d->n_held && need <= node_durable(d)) {
		truth_tp_send(&d->tp, m);
		if (plain_ack(m))
			lat_ack_sent(d, m->match_index);
		return true;
	}
	if (d->n_held == d->held_cap) {
		size_t cap = d->held_cap ? d->held_cap * 2 : 256;
		struct raft_msg *nm = realloc(d->held, cap * sizeof(*nm));
		uint64_t *nn;

		if (!nm)
			return false;
		d->held = nm;
		nn = realloc(d->held_need, cap * sizeof(*nn));
		if (!nn)
			return false;
		d->held_need = nn;
		d->held_cap = cap;
	}
	d->held[d->n_held] = *m;
	d->held_need[d->n_held++] = need;
	return true;
}

/* Start a sync of what is appended, unless one runs or nothing waits. */
void sync_kick(struct truthd *d)
{
	struct sync_thread *s = &d->sync;
	char err[TRUTH_STORAGE_ERRLEN];
	uint64_t upto, gen;
	int fd;

	if (!d->conf.fsync || s->busy || d->failed)
		return;
	if (truth_wal_sync_begin(d->wal, &fd, &upto, &gen, err)) {
		log_err("wal sync: %s; stopping (fail-stop)", err);
		d->failed = true;
		truth_evloop_stop(&d->loop);
		return;
	}
	if (fd < 0)
		return;
	s->busy = true;
	s->upto = upto;
	s->gen = gen;
	pthread_mutex_lock(&s->mu);
	s->fd = fd;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	d->sync_runs++;
	lat_stamp(d, LAT_SYNC_KICK, upto);
}

/*
 * Where a sync runs.  Each hand-off to the thread is a wakeup on the
 * commit's critical path (loop to thread, thread back to the loop: tens
 * of microseconds each on a busy machine, Documentation/bench.md "Where a
 * write's time goes").  A follower has nothing to do before its sync but
 * wait for it, so it syncs in its loop, right after the append, and its
 * ack leaves right after; entries that arrive meanwhile wait in the
 * socket and share the next sync, as they would have waited for the
 * thread's.  Only while a few entries wait, though (a follower of one
 * or a few clients): under 64 clients its batches are ~30 entries, and
 * synced in the loop the leader's throughput fell by a sixth to a half
 * in alternating runs, for no gain there.  A leader keeps the thread:
 * its loop serves clients and acks meanwhile, and above all keeps sending heartbeats while its disk
 * stalls (a leader blocked in fdatasync for an election timeout would be
 * voted out by followers that stopped hearing from it; synced in the
 * loop for one or two clients, it did save 1.2 loop rounds per write).
 */
#define SYNC_HERE_MAX_ENTRIES	4

bool sync_here_wanted(struct truthd *d)
{
	return d->conf.fsync && !d->failed && !d->sync.busy &&
	       raft_role(d->raft) != RAFT_LEADER &&
	       truth_wal_last_index(d->wal) - truth_wal_durable_index(d->wal) <=
	       SYNC_HERE_MAX_ENTRIES;
}

/*
 * fdatasync in the loop, then what waited for it (a follower's, see
 * above).  True if the log is durable now.
 */
bool sync_here(struct truthd *d)
{
	char err[TRUTH_STORAGE_ERRLEN];
	uint64_t upto, t0, t1;

	if (!d->conf.fsync || d->failed || d->sync.busy)
		return false;
	upto = truth_wal_last_index(d->wal);
	if (upto <= truth_wal_durable_index(d->wal))
		return true;
	t0 = lat_now();
	if (truth_wal_sync(d->wal, NULL, err)) {
		log_err("wal sync: %s; stopping (fail-stop)", err);
		d->failed = true;
		truth_evloop_stop(&d->loop);
		return false;
	}
	t1 = lat_now();
	/*
	 * A follower's time in its own fdatasync does not count toward its
	 * election timeout: the leader's heartbeats wait in the socket
	 * meanwhile, and ticks caught up after them would start a pre-vote
	 * over a slow disk.  Counting less time only delays a campaign and
	 * keeps it sticky to its leader longer (leases stay safe).  A
	 * leader's ticks are kept: node_tick reads the acks first.
	 */
	if (raft_role(d->raft) != RAFT_LEADER && t1 - t0 >= d->tick_us * 1000)
		d->ticks_skipped += truth_timerfd_read(d->tickfd);
	d->sync_runs++;
	d->sync_inline++;
	lat_stamp_at(d, LAT_SYNC_KICK, upto, t0);
	lat_stamp_at(d, LAT_SYNC_START, upto, t0);
	lat_stamp_at(d, LAT_SYNC_DONE, upto, t1);
	lat_stamp_at(d, LAT_SYNC_SEEN, upto, t1);
	release_held(d);
	count_self(d);
	return true;
}

static void sync_event(struct truth_ev *ev, uint32_t events)
{
	struct truthd *d = ev->arg;
	struct sync_thread *s = &d->sync;
	char err[TRUTH_STORAGE_ERRLEN];
	uint64_t v, t0, t1;
	int result;

	if (read(s->efd, &v, sizeof(v)) != sizeof(v))
		return;
	pthread_mutex_lock(&s->mu);
	result = s->result;
	s->done = false;
	t0 = s->t_start;
	t1 = s->t_done;
	pthread_mutex_unlock(&s->mu);
	if (!result) {
		lat_stamp_at(d, LAT_SYNC_START, s->upto, t0);
		lat_stamp_at(d, LAT_SYNC_DONE, s->upto, t1);
		lat_stamp(d, LAT_SYNC_SEEN, s->upto);
	}
	s->busy = false;
	if (truth_wal_sync_end(d->wal, s->upto, s->gen, result, err)) {
		log_err("wal sync: %s; stopping (fail-stop)", err);
		d->failed = true;
		truth_evloop_stop(&d->loop);
		return;
	}
	truth_tp_cork(&d->tp);
	release_held(d);
	truth_tp_uncork(&d->tp);
	count_self(d);
	/* node_process (the loop's idle hook) applies and starts the next sync */
}

int sync_start(struct truthd *d)
{
	struct sync_thread *s = &d->sync;
	int ret;

	s->fd = -1;
	s->efd = -1;
	ret = lat_open(d);
	if (ret)
		return ret;
	if (!d->conf.fsync)
		return 0;
	s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->efd < 0)
		return -errno;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	ret = pthread_create(&s->th, NULL, sync_main, d);
	if (ret)
		return -ret;
	s->running = true;
	return truth_ev_add(&d->loop, &d->ev_sync, s->efd, EPOLLIN, sync_event, d);
}

void sync_stop(struct truthd *d)
{
	struct sync_thread *s = &d->sync;

	if (s->running) {
		pthread_mutex_lock(&s->mu);
		s->stop = true;
		pthread_cond_signal(&s->cv);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->th, NULL);
		s->running = false;
		/* a sync handed over but never started */
		if (s->fd >= 0)
			close(s->fd);
	}
	if (s->efd >= 0)
		close(s->efd);
	s->efd = -1;
	free(d->held);
	free(d->held_need);
	d->held = NULL;
	d->held_need = NULL;
	lat_close(d);
}
