// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Membership: configurations (who votes, with what weight, what threshold),
 * changes one server at a time (diss. §4.1) with new servers joining as
 * non-voting learners until caught up (diss. §4.2.1), and leadership
 * transfer with TimeoutNow (diss. §3.10).
 */
#include <string.h>

#include "raft/raft_int.h"

uint64_t raft_conf_threshold(const struct raft_conf *c)
{
	uint64_t total = 0;
	uint32_t i;

	if (c->threshold)
		return c->threshold;
	for (i = 0; i < c->n; i++)
		if (c->m[i].role == RAFT_VOTER)
			total += c->m[i].weight;
	return total / 2 + 1;	/* a majority of the voting weight */
}

const struct raft_member *raft_conf_find(const struct raft_conf *c, uint32_t id)
{
	uint32_t i;

	for (i = 0; i < c->n; i++)
		if (c->m[i].id == id)
			return &c->m[i];
	return NULL;
}

bool raft_conf_is_voter(const struct raft_conf *c, uint32_t id)
{
	const struct raft_member *m = raft_conf_find(c, id);

	return m && m->role == RAFT_VOTER && m->weight > 0;
}

static void put32(uint8_t *p, uint32_t v)
{
	int i;

	for (i = 0; i < 4; i++)
		p[i] = v >> (8 * i);
}

static void put64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = v >> (8 * i);
}

static uint32_t get32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

/*
 * Wire/disk format of a configuration, little endian:
 *   u32 n, u64 threshold, then n times: u32 id, u32 weight, u8 role,
 *   u32 promote_weight.
 */
uint32_t raft_conf_encode(const struct raft_conf *c, uint8_t *buf)
{
	uint8_t *p = buf;
	uint32_t i;

	put32(p, c->n);
	put64(p + 4, c->threshold);
	p += 12;
	for (i = 0; i < c->n; i++, p += 13) {
		put32(p, c->m[i].id);
		put32(p + 4, c->m[i].weight);
		p[8] = c->m[i].role;
		put32(p + 9, c->m[i].promote_weight);
	}
	return p - buf;
}

int raft_conf_decode(struct raft_conf *c, const uint8_t *buf, uint32_t len)
{
	uint32_t i, n;

	if (!buf || len < 12)
		return RAFT_EINVAL;
	n = get32(buf);
	if (n > RAFT_MAX_MEMBERS || len != 12 + 13 * n)
		return RAFT_EINVAL;
	memset(c, 0, sizeof(*c));
	c->n = n;
	c->threshold = get64(buf + 4);
	for (i = 0; i < n; i++) {
		const uint8_t *p = buf + 12 + 13 * i;

		c->m[i].id = get32(p);
		c->m[i].weight = get32(p + 4);
		c->m[i].role = p[8];
		c->m[i].promote_weight = get32(p + 9);
		if (!c->m[i].id || c->m[i].role > RAFT_LEARNER)
			return RAFT_EINVAL;
	}
	return RAFT_OK;
}

/*
 * diss. §4.1: a server uses the latest configuration in its log, committed
 * or not; after a truncation that is an older one again.
 */
void raft_conf_rebuild(struct raft *r)
{
	uint64_t i;

	r->conf = r->snap_conf;
	r->conf_index = 0;
	for (i = raft_log_last(&r->log); i > r->log.snap_index; i--) {
		const struct raft_entry *e = raft_log_get(&r->log, i);
		struct raft_conf c;

		if (e->type != RAFT_ENTRY_CONF)
			continue;
		if (raft_conf_decode(&c, e->data, e->len))
			continue;
		r->conf = c;
		r->conf_index = i;
		break;
	}
	if (r->role == RAFT_LEADER)
		raft_progress_sync(r);
}

/*
 * diss. §4.2.2: a server removed by a configuration entry that is not yet
 * committed may still be needed to elect a leader (it may hold the longest
 * log), so it keeps campaigning until the removal commits.
 */
bool raft_may_campaign(const struct raft *r)
{
	uint64_t i;

	if (raft_conf_is_voter(&r->conf, r->id))
		return true;
	if (r->conf_index <= r->log.committed)
		return false;
	for (i = r->conf_index - 1; i > r->log.snap_index; i--) {
		const struct raft_entry *e = raft_log_get(&r->log, i);
		struct raft_conf c;

		if (e->type == RAFT_ENTRY_CONF &&
		    !raft_conf_decode(&c, e->data, e->len))
			return raft_conf_is_voter(&c, r->id);
	}
	return raft_conf_is_voter(&r->snap_conf, r->id);
}

static int propose_conf(struct raft *r, const struct raft_conf *c)
{
	uint8_t buf[RAFT_CONF_BYTES];
	struct raft_entry e = { 0 };
	int err;

	e.term = r->term;
	e.index = raft_log_last(&r->log) + 1;
	e.type = RAFT_ENTRY_CONF;
	e.len = raft_conf_encode(c, buf);
	e.data = buf;
	err = raft_log_append(&r->log, &e);
	if (err)
		return err;
	raft_conf_rebuild(r);
	raft_broadcast_append(r);
	return RAFT_OK;
}

static int may_change(const struct raft *r)
{
	if (r->in_ready)
		return RAFT_EINVAL;
	if (r->role != RAFT_LEADER)
		return RAFT_ENOTLEADER;
	/* diss. §4.1: no new change until the previous one is committed. */
	if (r->conf_index > r->log.committed)
		return RAFT_EBUSY;
	/* diss. §4.1 (bug fix): not before an entry of this term is committed. */
	if (r->log.committed < r->term_start)
		return RAFT_EBUSY;
	if (r->transfer_target)
		return RAFT_EBUSY;
	return RAFT_OK;
}

int raft_add_server(struct raft *r, uint32_t id, uint32_t weight)
{
	struct raft_conf c = r->conf;
	int err = may_change(r);

	if (err)
		return err;
	if (id == RAFT_NONE || raft_conf_find(&c, id) || c.n >= RAFT_MAX_MEMBERS)
		return RAFT_EINVAL;
	/* diss. §4.2.1: a new server joins without a vote until it catches up. */
	c.m[c.n].id = id;
	c.m[c.n].weight = 0;
	c.m[c.n].role = RAFT_LEARNER;
	c.m[c.n].promote_weight = weight;
	c.n++;
	return propose_conf(r, &c);
}

int raft_remove_server(struct raft *r, uint32_t id)
{
	struct raft_conf c = r->conf;
	uint32_t i, voters = 0;
	int err = may_change(r);

	if (err)
		return err;
	for (i = 0; i < c.n; i++)
		if (c.m[i].id == id)
			break;
	if (i == c.n)
		return RAFT_EINVAL;
	c.m[i] = c.m[c.n - 1];
	c.n--;
	for (i = 0; i < c.n; i++)
		voters += c.m[i].role == RAFT_VOTER && c.m[i].weight;
	if (!voters)
		return RAFT_EINVAL;
	return propose_conf(r, &c);
}

/* diss. §4.2.1: promote a learner once it holds everything committed. */
void raft_maybe_promote(struct raft *r, struct raft_progress *p)
{
	struct raft_conf c = r->conf;
	uint32_t i;

	if (may_change(r) || p->match < r->log.committed)
		return;
	for (i = 0; i < c.n; i++) {
		if (c.m[i].id != p->id)
			continue;
		if (c.m[i].role != RAFT_LEARNER || !c.m[i].promote_weight)
			return;
		c.m[i].role = RAFT_VOTER;
		c.m[i].weight = c.m[i].promote_weight;
		c.m[i].promote_weight = 0;
		propose_conf(r, &c);
		return;
	}
}

static void send_timeout_now(struct raft *r, uint32_t to)
{
	struct raft_msg m = { 0 };

	m.type = RAFT_MSG_TIMEOUT_NOW;
	m.to = to;
	m.term = r->term;
	/* diss. §6.4.1: the target may win before our lease ends: give it up. */
	r->lease_disabled = true;
	r->lease_until = 0;
	raft_send(r, &m);
}

int raft_transfer_leadership(struct raft *r, uint32_t target)
{
	struct raft_progress *p;

	if (r->in_ready)
		return RAFT_EINVAL;
	if (r->role != RAFT_LEADER)
		return RAFT_ENOTLEADER;
	if (r->transfer_target)
		return RAFT_EBUSY;
	if (target == r->id || !raft_conf_is_voter(&r->conf, target))
		return RAFT_EINVAL;
	p = raft_progress(r, target);
	if (!p)
		return RAFT_EINVAL;
	r->transfer_target = target;
	r->transfer_elapsed = 0;
	raft_transfer_check(r, p);
	if (r->transfer_target)
		raft_send_more(r, p);
	return RAFT_OK;
}

/* diss. §3.10: once the target's log is up to date, tell it to campaign. */
void raft_transfer_check(struct raft *r, struct raft_progress *p)
{
	if (r->transfer_target != p->id ||
	    p->match != raft_log_last(&r->log))
		return;
	send_timeout_now(r, p->id);
}

/* diss. §3.10: abort the transfer if it does not finish in an election timeout. */
void raft_transfer_tick(struct raft *r)
{
	if (r->transfer_target &&
	    ++r->transfer_elapsed >= r->opt.election_ticks)
		r->transfer_target = RAFT_NONE;
}

void raft_handle_timeout_now(struct raft *r, const struct raft_msg *m)
{
	if (r->role == RAFT_LEADER || r->leader != m->from)
		return;
	/* diss. §3.10: start an election at once, skipping pre-vote. */
	raft_campaign(r, false, true);
}
