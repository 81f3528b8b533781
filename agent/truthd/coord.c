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
 * Time: truthd has no clock synchronisation yet, so a stamp is
 * CLOCK_REALTIME (ε taken as 0: earliest = latest = the wall clock), kept
 * from running backwards across this leader's entries.  The state
 * machine itself keeps the largest stamp it saw across leaders.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log/log.h"
#include "sm/sm_int.h"		/* key counts for INFO keyspace */
#include "truthd/truthd.h"

#define TICK_RETRY_NS	1000000000LL	/* a TICK that moved no deadline: again after 1 s */

/* The leader's stamp: the wall clock, never below the previous one. */
static int64_t stamp(struct truthd *d)
{
	int64_t now = truthd_realtime_ns(d);

	if (now < d->sm_stamp)
		now = d->sm_stamp;
	d->sm_stamp = now;
	return now;
}

int coord_open(struct truthd *d)
{
	struct timespec ts;

	d->sm = truth_sm_new(NULL);
	if (!d->sm)
		return -ENOMEM;
	truth_sm_effects_init(&d->fx);
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

	ids_of(c, req, &p.client_id, &p.seq);
	p.ts_ns = stamp(d);
	c->wait_seq = p.seq;
	return truth_sm_entry_encode(&p, buf);
}

/*
 * Hand the effects to the connections here.  A REPLY goes to the
 * connection waiting for (client, seq): mine (the one whose entry or read
 * this is) or one blocked on it; a PUSH to a live connection of that client.
 */
static void route(struct truthd *d, struct conn *mine)
{
	struct truth_sm_effects *fx = &d->fx;
	size_t i;

	for (i = 0; i < fx->n; i++) {
		const struct truth_sm_effect *e = &fx->v[i];
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
			truth_sm_effect_render(fx, e, &c->s.out);
			c->wait_seq = 0;
			if (c != mine) {
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
	route(d, mine);
	if (!mine)
		return;
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
	if (truth_sm_read(d->sm, &cmd, &d->fx)) {
		truth_sm_effects_reset(&d->fx);
		c->wait_seq = 0;
		truth_resp_add_error(&c->s.out, "ERR out of memory");
		return;
	}
	route(d, c);
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
 * Leader: once the wall clock is past the state machine's next deadline,
 * propose SM.TICK (client 0), one at a time.
 */
void coord_tick(struct truthd *d)
{
	static const struct truth_resp_arg tick = { TRUTH_SM_TICK, sizeof(TRUTH_SM_TICK) - 1 };
	struct truth_sm_cmd t = { .argc = 1, .argv = &tick };
	int64_t deadline;
	uint64_t index;
	uint8_t *buf;
	long len;

	if (raft_role(d->raft) != RAFT_LEADER)
		return;
	if (d->tick_index && d->tick_term == raft_term(d->raft) &&
	    d->tick_index > raft_applied_index(d->raft))
		return;		/* the last one is still on its way */
	t.ts_ns = truthd_realtime_ns(d);
	deadline = truth_sm_next_deadline(d->sm);
	if (t.ts_ns <= deadline)
		return;
	if (t.ts_ns < d->sm_stamp)
		return;		/* the machine's time is ahead of this clock: wait */
	/*
	 * A deadline a TICK did not move (an idle client record held by a
	 * blocked request) would otherwise have us propose one per apply.
	 */
	if (deadline == d->tick_deadline && t.ts_ns - d->tick_ns < TICK_RETRY_NS)
		return;
	d->tick_deadline = deadline;
	d->tick_ns = t.ts_ns;
	d->sm_stamp = t.ts_ns;
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
	return truth_sm_restore(d->sm, data, len);
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
	if (truth_resp_info_wants(r, "coordination", true))
		truth_sm_info(d->sm, o);
}
