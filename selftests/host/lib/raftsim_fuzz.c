// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * One randomised raftsim run.  A seed picks the cluster (size, options,
 * clocks, network, disks) and a schedule of faults: crashes (losing or
 * tearing unsynced writes), failed disk writes, partitions, loss,
 * duplication, latency changes, leadership transfers, membership changes
 * and snapshots, with clients writing and reading throughout.  The checker
 * runs after every step.  Then everything heals and the cluster must elect a
 * leader, commit new requests from every client, converge, and hold every
 * request it ever acknowledged exactly once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "raftsim.h"

#define MS 1000ULL
#define SEC 1000000ULL

static uint64_t pick(struct raftsim *s, uint64_t n)
{
	return n ? raftsim_rand(s) % n : 0;
}

static uint32_t random_node(struct raftsim *s, bool up)
{
	uint32_t ids[RAFTSIM_MAX_NODES], n = 0, i;

	for (i = 1; i <= RAFTSIM_MAX_NODES; i++)
		if (s->nodes[i].started && s->nodes[i].up == up)
			ids[n++] = i;
	return n ? ids[pick(s, n)] : 0;
}

static void random_partition(struct raftsim *s)
{
	uint32_t i, j;
	bool side[RAFTSIM_MAX_NODES + 1];

	for (i = 1; i <= RAFTSIM_MAX_NODES; i++)
		side[i] = pick(s, 2);
	raftsim_heal(s);
	for (i = 1; i <= RAFTSIM_MAX_NODES; i++)
		for (j = i + 1; j <= RAFTSIM_MAX_NODES; j++)
			if (side[i] != side[j])
				raftsim_cut(s, i, j, true);
}

static void membership_change(struct raftsim *s, struct raftsim_fuzz_stats *st)
{
	uint32_t leader = raftsim_leader(s), i, voters = 0;
	const struct raft_conf *c;

	if (!leader || s->nodes[leader].busy)
		return;
	c = raft_conf(s->nodes[leader].r);
	for (i = 0; i < c->n; i++)
		voters += c->m[i].role == RAFT_VOTER;
	if (pick(s, 2) && voters > 1) {
		uint32_t victim = c->m[pick(s, c->n)].id;

		if (raft_remove_server(s->nodes[leader].r, victim) == RAFT_OK)
			st->faults++;
	} else {
		for (i = 1; i <= RAFTSIM_MAX_NODES; i++)
			if (!raft_conf_find(c, i) && !s->nodes[i].started)
				break;
		if (i > RAFTSIM_MAX_NODES)
			return;
		if (raft_add_server(s->nodes[leader].r, i, 1) == RAFT_OK) {
			raftsim_start_node(s, i);
			st->faults++;
		}
	}
	raftsim_kick(s, leader);
}

static void nemesis(struct raftsim *s, struct raftsim_fuzz_stats *st)
{
	uint32_t id, leader;

	st->faults++;
	switch (pick(s, 12)) {
	case 0:
	case 1:
		id = random_node(s, true);
		if (id) {
			raftsim_crash(s, id);
			st->crashes++;
		}
		break;
	case 2:
	case 3:
		id = random_node(s, false);
		if (id)
			raftsim_restart(s, id);
		break;
	case 4:
		random_partition(s);
		break;
	case 5:
		id = random_node(s, true);
		if (id)
			raftsim_isolate(s, id);
		break;
	case 6:
		raftsim_heal(s);
		break;
	case 7:
		raftsim_set_net(s, pick(s, 4) ? pick(s, 150) : 0, pick(s, 80),
				pick(s, 2000), 500 + pick(s, 20000));
		break;
	case 8:
		id = random_node(s, true);
		if (id)
			s->nodes[id].fail_next_write = true;
		break;
	case 9:
		leader = raftsim_leader(s);
		id = 1 + pick(s, RAFTSIM_MAX_NODES);
		if (leader && !s->nodes[leader].busy) {
			raft_transfer_leadership(s->nodes[leader].r, id);
			raftsim_kick(s, leader);
		}
		break;
	case 10:
		membership_change(s, st);
		break;
	case 11:
		id = random_node(s, true);
		if (id)
			raftsim_take_snapshot(s, id);
		break;
	}
}

static void random_reads(struct raftsim *s)
{
	uint32_t leader = raftsim_leader(s);
	struct raftsim_node *nd;
	uint64_t index;

	if (!leader)
		return;
	nd = &s->nodes[leader];
	if (nd->busy)
		return;
	/* ReadIndex: ctx carries what was committed when it was asked */
	if (raft_read_index(nd->r, s->canon_len) == RAFT_OK)
		raftsim_kick(s, leader);
	if (nd->busy)
		return;
	/* lease read: answered now, so it must see everything committed now */
	if (raft_read_lease(nd->r, raftsim_local_time(s, leader), 0,
			    &index) == RAFT_OK) {
		raftsim_check_read(s, nd, index, s->canon_len, "lease read");
		s->lease_reads_ok++;
	}
}

static void dump_nodes(struct raftsim *s)
{
	uint32_t i, j;

	if (!getenv("RAFTSIM_TRACE"))
		return;
	fprintf(stderr, "now %llu, %u events queued, steps %llu\n",
		(unsigned long long)s->now, s->n_ev, (unsigned long long)s->steps);
	for (i = 0; i < s->n_clients; i++)
		fprintf(stderr, "client %llu seq %llu pending %d target %u sent %llu acked %llu\n",
			(unsigned long long)s->clients[i].id,
			(unsigned long long)s->clients[i].seq,
			s->clients[i].pending, s->clients[i].target,
			(unsigned long long)s->clients[i].sent_at,
			(unsigned long long)s->clients[i].acked);
	for (i = 1; i <= RAFTSIM_MAX_NODES; i++) {
		struct raftsim_node *nd = &s->nodes[i];
		const struct raft_conf *c;

		if (!nd->up) {
			fprintf(stderr, "node %u down (started %d)\n", i, nd->started);
			continue;
		}
		c = raft_conf(nd->r);
		fprintf(stderr, "node %u role %d term %llu leader %u vote %u commit %llu last %llu (t%llu) snap %llu busy %d conf:",
			i, raft_role(nd->r), (unsigned long long)raft_term(nd->r),
			raft_leader(nd->r), raft_vote(nd->r),
			(unsigned long long)raft_commit_index(nd->r),
			(unsigned long long)raft_last_index(nd->r),
			(unsigned long long)raft_term_at(nd->r, raft_last_index(nd->r)),
			(unsigned long long)raft_snapshot_index(nd->r), nd->busy);
		for (j = 0; j < c->n; j++)
			fprintf(stderr, " %u%s/%u", c->m[j].id,
				c->m[j].role == RAFT_VOTER ? "v" : "l", c->m[j].weight);
		fprintf(stderr, "\n");
	}
}

static bool clients_done(struct raftsim *s, const uint64_t *target)
{
	uint32_t i;

	for (i = 0; i < s->n_clients; i++)
		if (s->clients[i].acked < target[i])
			return false;
	return true;
}

static void fuzz_opts(uint64_t seed, struct raftsim_opts *o)
{
	static const uint32_t sizes[] = { 1, 3, 3, 3, 4, 5, 5, 7 };
	struct raftsim tmp;
	uint64_t bcast;

	memset(o, 0, sizeof(*o));
	tmp.rng = seed * 0x9e3779b97f4a7c15ULL + 1;
	o->seed = seed;
	o->n = sizes[raftsim_rand(&tmp) % 8];
	o->tick_us = 10000;
	o->election_ticks = 5 + raftsim_rand(&tmp) % 16;
	o->heartbeat_ticks = 1 + raftsim_rand(&tmp) % 3;
	o->pre_vote = raftsim_rand(&tmp) % 4 != 0;
	o->check_quorum = raftsim_rand(&tmp) % 4 != 0;
	o->external_commit = raftsim_rand(&tmp) % 5 == 0;
	o->lat_min_us = raftsim_rand(&tmp) % 1000;
	o->lat_max_us = o->lat_min_us + raftsim_rand(&tmp) % 8000;
	o->loss_pm = raftsim_rand(&tmp) % 3 ? raftsim_rand(&tmp) % 100 : 0;
	if (raftsim_rand(&tmp) % 10 == 0)
		o->loss_pm = 100 + raftsim_rand(&tmp) % 250;
	o->dup_pm = raftsim_rand(&tmp) % 50;
	o->disk_us = raftsim_rand(&tmp) % 3 ? raftsim_rand(&tmp) % 3000 : 0;
	if (raftsim_rand(&tmp) % 10 == 0)
		o->disk_us = raftsim_rand(&tmp) % 30000;
	o->max_inflight = 1 + raftsim_rand(&tmp) % 8;
	o->max_batch = 1 + raftsim_rand(&tmp) % 16;
	o->snapshot_chunk = 64 + raftsim_rand(&tmp) % 4096;
	o->snapshot_every = raftsim_rand(&tmp) % 4 ? 4 + raftsim_rand(&tmp) % 40 : 0;
	o->snapshot_keep = raftsim_rand(&tmp) % 8;
	o->drift_ppm = raftsim_rand(&tmp) % 50000;
	/* §5.6: broadcastTime << electionTimeout, or no leader stays long */
	bcast = 2 * (uint64_t)o->lat_max_us + 2 * (uint64_t)o->disk_us;
	if ((uint64_t)o->election_ticks * o->tick_us < 5 * bcast)
		o->election_ticks = (5 * bcast + o->tick_us - 1) / o->tick_us;
	if (o->heartbeat_ticks > o->election_ticks / 4)
		o->heartbeat_ticks = o->election_ticks / 4 ? o->election_ticks / 4 : 1;
}

bool raftsim_fuzz_one(uint64_t seed, struct raftsim_fuzz_stats *st,
		      char *why, size_t len)
{
	return raftsim_fuzz_one_flags(seed, 0, st, why, len);
}

bool raftsim_fuzz_one_flags(uint64_t seed, uint32_t flags,
			    struct raftsim_fuzz_stats *st, char *why, size_t len)
{
	struct raftsim_opts o;
	struct raftsim *s;
	uint64_t end, target[RAFTSIM_MAX_CLIENTS], commit;
	uint32_t leader, i, nemesis_every;
	bool ok = false;

	fuzz_opts(seed, &o);
	o.unsafe_ack_early = flags & RAFTSIM_FUZZ_ACK_EARLY;
	s = raftsim_new(&o);
	/* every clock runs within the drift the nodes were told about */
	for (i = 1; i <= RAFTSIM_MAX_NODES; i++) {
		s->nodes[i].rate_ppm = o.drift_ppm ?
			(int64_t)pick(s, 2 * o.drift_ppm + 1) - o.drift_ppm : 0;
		s->nodes[i].clock_offset = pick(s, 1000 * SEC);
	}
	raftsim_clients(s, 1 + pick(s, 4));
	/* faults every 50 ms to every 1 s on average */
	nemesis_every = 10 + pick(s, 190);

	/* fault phase */
	end = s->now + 5 * SEC + pick(s, 15 * SEC);
	while (s->now < end && !s->violation[0]) {
		raftsim_run_for(s, 5 * MS);
		raftsim_clients_poll(s, 300 * MS);
		if (pick(s, 10) == 0)
			random_reads(s);
		if (pick(s, nemesis_every) == 0)
			nemesis(s, st);
	}
	if (s->violation[0])
		goto out;

	/* heal: every node up, the network clean, no disk faults */
	raftsim_heal(s);
	raftsim_set_net(s, 0, 0, 500, 3000);
	for (i = 1; i <= RAFTSIM_MAX_NODES; i++) {
		s->nodes[i].fail_next_write = false;
		raftsim_restart(s, i);
	}
	leader = raftsim_wait_leader(s, 10 * SEC);
	if (!leader) {
		dump_nodes(s);
		snprintf(why, len, "liveness: no leader within 10 s of healing");
		goto out;
	}
	/* every client gets three more requests acknowledged */
	for (i = 0; i < s->n_clients; i++)
		target[i] = s->clients[i].acked + 3;
	end = s->now + 20 * SEC;
	while (!clients_done(s, target) && s->now < end && !s->violation[0]) {
		raftsim_run_for(s, 5 * MS);
		raftsim_clients_poll(s, 300 * MS);
	}
	if (s->violation[0])
		goto out;
	if (!clients_done(s, target)) {
		dump_nodes(s);
		snprintf(why, len, "liveness: client requests not committed within 20 s of healing");
		goto out;
	}
	/*
	 * Quiet now (no more requests).  A leader may still change (one that
	 * removed itself steps down when that commits), so wait for one, take
	 * its configuration as final, decommission the servers it removed, and
	 * require every member to converge on its commit index.
	 */
	raftsim_run_for(s, 500 * MS);
	leader = raftsim_wait_leader(s, 10 * SEC);
	if (!leader) {
		dump_nodes(s);
		snprintf(why, len, "liveness: no leader after the clients finished");
		goto out;
	}
	for (i = 1; i <= RAFTSIM_MAX_NODES; i++)
		if (s->nodes[i].up && !raft_conf_find(raft_conf(s->nodes[leader].r), i))
			raftsim_crash(s, i);
	commit = raft_commit_index(s->nodes[leader].r);
	if (!raftsim_wait_applied(s, commit, 10 * SEC)) {
		dump_nodes(s);
		snprintf(why, len, "liveness: members did not apply %llu within 10 s",
			 (unsigned long long)commit);
		goto out;
	}
	if (getenv("RAFTSIM_TRACE"))
		for (i = 1; i <= RAFTSIM_MAX_NODES; i++)
			fprintf(stderr, "end: node %u up %d applied %llu commit %llu role %d\n",
				i, s->nodes[i].up,
				(unsigned long long)s->nodes[i].sm_applied,
				s->nodes[i].up ? (unsigned long long)raft_commit_index(s->nodes[i].r) : 0ULL,
				s->nodes[i].up ? (int)raft_role(s->nodes[i].r) : -1);
	if (!raftsim_check_acked(s, why, len))
		goto out;
	ok = true;
out:
	if (s->violation[0]) {
		snprintf(why, len, "%s", s->violation);
		ok = false;
	}
	st->steps += s->steps;
	st->elections += s->elections;
	st->acked += s->n_acks;
	st->reads += s->reads_ok;
	raftsim_free(s);
	return ok;
}
