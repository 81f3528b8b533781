// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Commit counting through agent/counter: truth.ko's group when the module
 * takes it (fast_path = auto or kernel), the same rule in user space
 * otherwise.  truthd tells the counter what Raft knows (term, the term's
 * first index, role, members) and every durable index it can vouch for:
 * its own once synced, each follower's ACK that reached user space; the
 * counter's commit advances go to raft_commit_external(), which keeps
 * Raft's own checks (leader of that term, entry of that term, in the log).
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>

#include "counter/counter.h"
#include "log/log.h"
#include "truthd/truthd.h"

/* The first index of the leader's term: its no-op and what follows. */
static uint64_t term_start(struct truthd *d)
{
	uint64_t term = raft_term(d->raft), i = raft_last_index(d->raft);

	if (raft_term_at(d->raft, i) != term)
		return i + 1;
	while (i > raft_first_index(d->raft) && raft_term_at(d->raft, i - 1) == term)
		i--;
	return i;
}

void count_poll(struct truthd *d)
{
	uint64_t commit;
	int ret = truth_counter_poll(d->counter, &commit);

	if (ret < 0) {
		log_err("commit counter: %s (%s); stopping", strerror(-ret),
			truth_counter_error(d->counter));
		d->failed = true;
		truth_evloop_stop(&d->loop);
		return;
	}
	if (ret == 1 && raft_role(d->raft) == RAFT_LEADER &&
	    raft_commit_external(d->raft, d->count_term, commit))
		lat_stamp(d, LAT_COMMITTED, raft_commit_index(d->raft));
}

static void count_event(struct truth_ev *ev, uint32_t events)
{
	count_poll(ev->arg);
}

/* This node's durable index, while it leads. */
void count_self(struct truthd *d)
{
	uint64_t durable = node_durable(d);

	if (!d->count_leader || durable <= d->count_self_acked)
		return;
	d->count_self_acked = durable;
	truth_counter_ack(d->counter, d->conf.node_id, d->count_term, durable);
	count_poll(d);
}

void count_peer(struct truthd *d, const struct raft_msg *m)
{
	if (!d->count_leader || m->term != d->count_term)
		return;
	/* refusals (-ESTALE, -ENOENT) are the counter's own checks: ignore */
	if (truth_counter_ack(d->counter, m->from, m->term, m->match_index) == 0)
		count_poll(d);
}

/* After each batch of readies: a new term or role resets the counting. */
void count_roles(struct truthd *d)
{
	bool leader = raft_role(d->raft) == RAFT_LEADER;
	uint64_t term = raft_term(d->raft);
	uint64_t start;
	int ret;

	/* before term_start(): it walks the term's entries, and this runs
	 * on every loop iteration */
	if (term == d->count_term && leader == d->count_leader)
		return;
	start = leader ? term_start(d) : 0;
	if (term == d->count_term && !leader)
		start = d->count_start;		/* never moves back within a term */
	ret = truth_counter_set_term(d->counter, term, start, leader);
	if (ret) {
		log_warn("commit counter: set term %llu: %s", (unsigned long long)term,
			 truth_counter_error(d->counter));
		return;
	}
	d->count_term = term;
	d->count_leader = leader;
	d->count_start = start;
	d->count_self_acked = 0;
	count_self(d);
}

uint64_t count_match(struct truthd *d, uint32_t node)
{
	uint64_t m = 0;

	if (node == d->conf.node_id)
		return node_durable(d);
	if (d->count_leader && truth_counter_match(d->counter, node, &m) == 0)
		return m;
	return 0;
}

const char *count_path(struct truthd *d)
{
	return truth_counter_path_name(truth_counter_path(d->counter));
}

int count_open(struct truthd *d)
{
	struct truth_counter_cfg cfg = { 0 };
	char err[256];
	uint32_t i;
	int ret;

	cfg.group_id = d->conf.group_id;
	cfg.self = d->conf.node_id;
	cfg.n_members = d->conf.n_peers;
	for (i = 0; i < d->conf.n_peers; i++) {
		cfg.members[i].node = d->conf.peers[i].id;
		cfg.members[i].weight = 1;
	}
	cfg.mode = d->conf.fast_path == TRUTH_CONF_FAST_KERNEL ? TRUTH_COUNTER_KERNEL :
		   d->conf.fast_path == TRUTH_CONF_FAST_USER ? TRUTH_COUNTER_USER :
		   TRUTH_COUNTER_AUTO;
	/* what the disk proves committed: the snapshot (commit is not persisted) */
	cfg.commit = raft_snapshot_index(d->raft);
	d->counter = truth_counter_open(&cfg, err, sizeof(err));
	if (!d->counter) {
		log_err("commit counter: %s", err);
		return -EINVAL;
	}
	if (truth_counter_path(d->counter) == TRUTH_COUNTER_PATH_USER)
		log_info("counting in user space: %s", truth_counter_reason(d->counter));
	else
		log_info("counting in the kernel (%s)", count_path(d));
	ret = truth_counter_set_key(d->counter, d->conf.key);
	if (ret && ret != -EOPNOTSUPP)
		log_warn("commit counter: group key: %s", truth_counter_error(d->counter));
	return truth_ev_add(&d->loop, &d->ev_count, truth_counter_fd(d->counter),
			    EPOLLIN, count_event, d);
}

void count_close(struct truthd *d)
{
	truth_counter_close(d->counter);
	d->counter = NULL;
}
