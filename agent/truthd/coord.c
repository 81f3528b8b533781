// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * truthd's state machine: agent/sm served through the Raft log, the seam
 * of Documentation/coordination.md ("For implementers").
 *
 * Writes are proposed as truth_sm_entry_encode() of the command as sent,
 * with the client's id and seq (TRUTH.REQ's, else the connection's own)
 * and the leader's stamp.  Every replica applies every committed entry
 * and computes the same effects; the node a client is connected to
 * renders them.  A request whose apply gave no reply blocked (a held
 * lock, a campaign, a barrier): its connection stays deferred until the
 * effects of a later entry answer (client, seq), on whatever node it is
 * then connected to.
 *
 * Time (Documentation/coordination.md "Time, and why expiry is safe under
 * clock error"): a client command is stamped with the leader's *latest*
 * bound, a TICK with its *earliest*, so a session expires only once true
 * time is past its last keepalive's latest + TTL, whichever leader stamped
 * what.  While this node's clock status is unknown (no agreement among its
 * sources yet) the wall clock stands in for both bounds (ε taken as 0): INFO
 * says so with session_clock:wall.
 *
 * HLC: every entry carries one (hlc.c); with TRUTH.REQ ... HLC the reply is
 * [hlc, reply]; with COMMITWAIT the entry's HLC is at least the leader's
 * latest and the reply is held until this node's earliest is past it
 * (Documentation/clock.md "Commit-wait").
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "log/log.h"
#include "sm/sm_int.h"		/* key counts for INFO keyspace */
#include "truthd/truthd.h"

#define TICK_RETRY_NS	1000000000LL	/* a TICK that moved no deadline: again after 1 s */

/*
 * The node's bounded time: the clock's [earliest, latest], or the wall
 * clock for both while the clock status is unknown (ε taken as 0).
 */
static void interval(struct truthd *d, struct truth_clock_now *n)
{
	n->status = TRUTH_CLOCK_UNKNOWN;
	if (d->clk.engine)
		truth_probe_now(d->clk.engine, n);
	if (n->status == TRUTH_CLOCK_UNKNOWN) {
		n->earliest = n->latest = truthd_realtime_ns(d);
		n->epsilon = 0;
	}
}

/* A client command's stamp: latest, never below the previous one. */
static int64_t stamp(struct truthd *d)
{
	struct truth_clock_now n;

	interval(d, &n);
	if (n.latest < d->sm_stamp)
		n.latest = d->sm_stamp;
	d->sm_stamp = n.latest;
	return n.latest;
}

int coord_open(struct truthd *d)
{
	struct timespec ts;

	d->sm = truth_sm_new(NULL);
	if (!d->sm)
		return -ENOMEM;
	truth_sm_effects_init(&d->fx);
	d->cw_timerfd = -1;
	/*
	 * A connection without TRUTH.REQ gets an id of its own.  It must not
	 * meet another node's (or an earlier run's) connection ids in the
	 * exactly-once table, nor libtruth's ids (random, below 2^63): top
	 * bit set, then the node id and this run's start time.
	 */
	clock_gettime(CLOCK_REALTIME, &ts);
	d->client_base = (1ull << 63) | ((uint64_t)(d->conf.node_id & 0xff) << 55) |
			 (((uint64_t)ts.tv_sec & 0xffffff) << 31) |
			 (((uint64_t)ts.tv_nsec >> 10) & 0xfffff) << 11;
	return 0;
}

void coord_close(struct truthd *d)
{
	/* held replies are freed with their connections (clients_close) */
	free(d->cw);
	d->cw = NULL;
	d->cw_len = 0;
	if (d->cw_timerfd >= 0) {
		truth_ev_del(&d->loop, &d->ev_cw);
		close(d->cw_timerfd);
	}
	d->cw_timerfd = -1;
	hlc_close(d);
	truth_sm_effects_free(&d->fx);

	truth_sm_free(d->sm);
	d->sm = NULL;
}

uint64_t coord_new_client(struct truthd *d)
{
	/* 2^31 connections per run before the stamp bits are reached: enough */
	return d->client_base + d->next_client_id;
}

/* The (client, seq) a request of c is applied as. */
static void ids_of(struct conn *c, const struct truth_resp_request *req,
		   uint64_t *client, uint64_t *seq)
{
	if (req->client_id)
		c->client = req->client_id;
	*client = req->client_id ? req->client_id : c->own_client;
	*seq = req->client_id ? req->client_seq : ++c->auto_seq;
}

long coord_encode(struct truthd *d, struct conn *c, const struct truth_resp_request *req,
		  uint8_t **buf)
{
	struct truth_sm_cmd p = { .argc = req->argc, .argv = req->argv };
	uint64_t min_pt = 0;

	if (req->opts & TRUTH_RESP_REQ_COMMITWAIT) {
		struct truth_clock_now n = { .status = TRUTH_CLOCK_UNKNOWN };

		if (d->clk.engine)
			truth_probe_now(d->clk.engine, &n);
		if (n.status == TRUTH_CLOCK_UNKNOWN) {
			/* no bound on true time: a commit timestamp would be a guess */
			truth_resp_add_error(&c->s.out,
				"ERR COMMITWAIT needs a bounded clock: this node's clock status is unknown (no agreement among its clock sources yet); not applied");
			return -ECANCELED;
		}
		/* the entry's HLC >= latest: true time is below it now */
		min_pt = truth_clock_hlc_pt(&n);
	}
	ids_of(c, req, &p.client_id, &p.seq);
	p.ts_ns = stamp(d);
	p.hlc = hlc_entry(d, min_pt);
	c->wait_seq = p.seq;
	c->opts = req->opts;
	return truth_sm_entry_encode(&p, buf);
}

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Release held replies whose commit timestamp is past; re-arm for the rest. */
static void cw_check(struct truthd *d)
{
	struct itimerspec its = { 0 };
	struct truth_clock_now n;
	int64_t wait = INT64_MAX, now;
	size_t i, k = 0;

	if (!d->cw_len)
		return;
	interval(d, &n);
	now = mono_ns();
	for (i = 0; i < d->cw_len; i++) {
		struct conn *c = d->cw[i];
		int64_t left;

		/* a held reply was for a known status; unknown again would mean a restart */
		if (n.status != TRUTH_CLOCK_UNKNOWN && n.earliest > (int64_t)c->cw_ts) {
			uint64_t waited = (uint64_t)(now - c->cw_since);

			truth_resp_out_append(&c->s.out, c->cw_out.buf, c->cw_out.len);
			truth_resp_out_free(&c->cw_out);
			c->wait = WAIT_NONE;
			d->cw_count++;
			d->cw_wait_ns += waited;
			if (waited > d->cw_max_ns)
				d->cw_max_ns = waited;
			client_resolved(d, c);
			continue;
		}
		/* earliest moves at the local rate (within the drift): re-check then */
		left = (int64_t)c->cw_ts - n.earliest + 1000;
		if (left < wait)
			wait = left;
		d->cw[k++] = c;
	}
	d->cw_len = k;
	if (!k)
		return;
	if (wait < 1000)
		wait = 1000;
	its.it_value.tv_sec = wait / 1000000000;
	its.it_value.tv_nsec = wait % 1000000000;
	timerfd_settime(d->cw_timerfd, 0, &its, NULL);
}

static void cw_timer(struct truth_ev *ev, uint32_t events)
{
	struct truthd *d = ev->arg;
	uint64_t n;

	if (read(d->cw_timerfd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_warn("commit-wait timer: %s", strerror(errno));
	cw_check(d);
}

/* Hold c's rendered reply (in c->cw_out) until earliest > ts: Spanner's commit wait. */
static void cw_hold(struct truthd *d, struct conn *c, uint64_t ts)
{
	if (d->cw_timerfd < 0) {
		d->cw_timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		if (d->cw_timerfd >= 0 &&
		    truth_ev_add(&d->loop, &d->ev_cw, d->cw_timerfd, EPOLLIN, cw_timer, d)) {
			close(d->cw_timerfd);
			d->cw_timerfd = -1;
		}
	}
	if (d->cw_timerfd < 0 || !queue_push(&d->cw, &d->cw_len, &d->cw_cap, c)) {
		/* cannot wait: say so rather than answer early */
		truth_resp_out_free(&c->cw_out);
		truth_resp_add_error(&c->s.out,
			"ERR COMMITWAIT: out of resources to wait; the write was applied, its commit timestamp not waited for");
		c->wait = WAIT_NONE;
		client_resolved(d, c);
		return;
	}
	c->cw_ts = ts;
	c->cw_since = mono_ns();
	c->wait = WAIT_COMMIT;
	cw_check(d);
}

/*
 * Hand the effects to the connections here.  A REPLY goes to the
 * connection waiting for (client, seq): mine (the one whose entry or read
 * this is) or one blocked on it; a PUSH to a live connection of that client.
 */
static void route(struct truthd *d, struct conn *mine, uint64_t hlc)
{
	struct truth_sm_effects *fx = &d->fx;
	size_t i;

	for (i = 0; i < fx->n; i++) {
		const struct truth_sm_effect *e = &fx->v[i];
		struct truth_resp_out *out;
		struct conn *c;

		for (c = d->conns; c; c = c->next) {
			if (c->client != e->client_id && c->own_client != e->client_id)
				continue;
			if (e->kind == TRUTH_SM_FX_PUSH) {
				if (c->ev.fd < 0)
					continue;
				truth_sm_effect_render(fx, e, &c->s.out);
				/* a connection that waits is flushed when it resumes */
				if (c->wait == WAIT_NONE)
					client_resolved(d, c);
				break;
			}
			if (c->wait_seq != e->seq || (c != mine && c->wait != WAIT_BLOCKED))
				continue;
			out = &c->s.out;
			if ((c->opts & TRUTH_RESP_REQ_COMMITWAIT) && hlc) {
				/* held aside: a flush must not send it early */
				truth_resp_out_init(&c->cw_out);
				c->cw_out.proto = c->s.out.proto;
				out = &c->cw_out;
			}
			if (c->opts & TRUTH_RESP_REQ_HLC) {
				/* [the HLC of the entry that answered, the reply] */
				truth_resp_add_array(out, 2);
				truth_resp_add_int(out, (long long)hlc);
			}
			truth_sm_effect_render(fx, e, out);
			c->wait_seq = 0;
			c->opts = 0;
			if (out == &c->cw_out)
				cw_hold(d, c, hlc);
			else if (c != mine) {
				c->wait = WAIT_NONE;
				client_resolved(d, c);
			}
			break;
		}
	}
	truth_sm_effects_reset(fx);
}

void coord_apply(struct truthd *d, const struct raft_entry *e, struct conn *mine)
{
	struct truth_resp_arg *argv = NULL;
	struct truth_sm_cmd c;
	int ret;

	if (e->type != RAFT_ENTRY_NORMAL || !e->len ||
	    truth_sm_entry_decode(e->data, e->len, &c, &argv)) {
		/* every replica skips it alike */
		if (e->type == RAFT_ENTRY_NORMAL && e->len)
			log_err("entry %llu does not decode; skipped (on every replica)",
				(unsigned long long)e->index);
		if (mine) {
			truth_resp_add_error(&mine->s.out, "ERR internal: entry is not a command");
			mine->wait_seq = 0;
			client_resolved(d, mine);
		}
		return;
	}
	c.index = e->index;
	if (c.ts_ns > d->sm_stamp)
		d->sm_stamp = c.ts_ns;	/* a new leader never stamps below it */
	hlc_observe(d, c.hlc);
	ret = truth_sm_apply(d->sm, &c, &d->fx);
	free(argv);
	if (ret) {
		log_err("entry %llu: out of memory applying; stopping (fail-stop)",
			(unsigned long long)e->index);
		d->failed = true;
		truth_evloop_stop(&d->loop);
		truth_sm_effects_reset(&d->fx);
		return;
	}
	if (mine && mine->wait_seq != c.seq)
		mine = NULL;	/* not the request it proposed (cannot happen) */
	route(d, mine, c.hlc);
	if (!mine || mine->wait == WAIT_COMMIT)
		return;		/* cw_check() resolves a held one */
	if (mine->wait_seq && mine->ev.fd >= 0) {
		/* blocked: a later entry's effects answer it */
		mine->wait = WAIT_BLOCKED;
		return;
	}
	/* answered, or blocked with its socket gone: nobody to wait for */
	mine->wait_seq = 0;
	client_resolved(d, mine);
}

void coord_read(struct truthd *d, struct conn *c, const struct truth_resp_request *req)
{
	struct truth_sm_cmd cmd = { .argc = req->argc, .argv = req->argv, .ts_ns = truthd_realtime_ns(d) };

	ids_of(c, req, &cmd.client_id, &cmd.seq);
	if (cmd.ts_ns < d->sm_stamp)
		cmd.ts_ns = d->sm_stamp;
	c->wait_seq = cmd.seq;
	/* a read's HLC: the last entry applied, the state it reads */
	c->opts = req->opts & TRUTH_RESP_REQ_HLC;
	if (truth_sm_read(d->sm, &cmd, &d->fx)) {
		truth_sm_effects_reset(&d->fx);
		c->wait_seq = 0;
		truth_resp_add_error(&c->s.out, "ERR out of memory");
		return;
	}
	route(d, c, truth_sm_hlc(d->sm));
	if (c->wait_seq) {
		/* a read always answers; guard the connection anyway */
		c->wait_seq = 0;
		truth_resp_add_error(&c->s.out, "ERR internal: the read gave no reply");
	}
}

/* A connection closed: its watches go, unless another connection is the same client. */
void coord_conn_gone(struct truthd *d, struct conn *gone)
{
	uint64_t ids[2] = { gone->own_client, gone->client };
	struct conn *c;
	int k;

	for (k = 0; k < 2; k++) {
		if (!ids[k] || (k == 1 && ids[1] == ids[0]))
			continue;
		for (c = d->conns; c; c = c->next)
			if (c != gone && c->ev.fd >= 0 &&
			    (c->client == ids[k] || c->own_client == ids[k]))
				break;
		if (!c)
			truth_sm_client_gone(d->sm, ids[k]);
	}
}

/*
 * Leader: once its earliest is past the state machine's next deadline,
 * propose SM.TICK (client 0) stamped with that earliest, one at a time.
 * The stamp may be below the machine's time (the largest latest it saw):
 * the machine expires sessions on the TICK's own stamp and keeps its time.
 */
void coord_tick(struct truthd *d)
{
	static const struct truth_resp_arg tick = { TRUTH_SM_TICK, sizeof(TRUTH_SM_TICK) - 1 };
	struct truth_sm_cmd t = { .argc = 1, .argv = &tick };
	struct truth_clock_now n;
	int64_t deadline;
	uint64_t index;
	uint8_t *buf;
	long len;

	if (raft_role(d->raft) != RAFT_LEADER)
		return;
	if (d->tick_index && d->tick_term == raft_term(d->raft) &&
	    d->tick_index > raft_applied_index(d->raft))
		return;		/* the last one is still on its way */
	interval(d, &n);
	t.ts_ns = n.earliest;
	deadline = truth_sm_next_deadline(d->sm);
	if (t.ts_ns <= deadline)
		return;
	/*
	 * A deadline a TICK did not move (an idle client record held by a
	 * blocked request) would otherwise have us propose one per apply.
	 */
	if (deadline == d->tick_deadline && t.ts_ns - d->tick_ns < TICK_RETRY_NS)
		return;
	d->tick_deadline = deadline;
	d->tick_ns = t.ts_ns;
	t.hlc = hlc_entry(d, 0);
	len = truth_sm_entry_encode(&t, &buf);
	if (len < 0)
		return;
	if (!raft_propose(d->raft, 0, 0, buf, (uint32_t)len, &index)) {
		d->tick_index = index;
		d->tick_term = raft_term(d->raft);
	}
	free(buf);
}

long coord_save(struct truthd *d, uint8_t **data)
{
	size_t len;

	if (truth_sm_save(d->sm, data, &len))
		return -ENOMEM;
	return (long)len;
}

int coord_restore(struct truthd *d, const uint8_t *data, size_t len)
{
	int ret = truth_sm_restore(d->sm, data, len);

	if (!ret)
		hlc_observe(d, truth_sm_hlc(d->sm));	/* the entries it covers */
	return ret;
}

/* INFO keyspace: as Redis's db0 line, over the coordination keyspace. */
void coord_info(struct truthd *d, const struct truth_resp_info *r, struct truth_resp_out *o)
{
	int64_t now_ms = truthd_realtime_ns(d) / 1000000;
	size_t i, keys = 0, expires = 0;

	if (truth_resp_info_wants(r, "keyspace", true)) {
		truth_resp_info_section(o, "Keyspace");
		for (i = 0; i < d->sm->keys.n; i++) {
			const struct sm_key *k = d->sm->keys.s[i].v;

			if (k->expire_ms && k->expire_ms <= now_ms)
				continue;	/* gone at the next entry */
			keys++;
			expires += k->expire_ms != 0;
		}
		if (keys)
			truth_resp_out_printf(o, "db0:keys=%zu,expires=%zu,avg_ttl=0\r\n",
					      keys, expires);
	}
	if (truth_resp_info_wants(r, "coordination", true)) {
		struct truth_clock_now n = { .status = TRUTH_CLOCK_UNKNOWN };

		truth_sm_info(d->sm, o);
		if (d->clk.engine)
			truth_probe_now(d->clk.engine, &n);
		/* what session expiry rests on: bounded time, or the wall clock (ε 0) */
		truth_resp_out_printf(o, "session_clock:%s\r\n",
				      n.status == TRUTH_CLOCK_UNKNOWN ? "wall" : "bounded");
		hlc_info(d, o);
	}
}
