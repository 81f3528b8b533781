// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Linearizable reads without log writes (diss. §6.4): ReadIndex, confirmed
 * by a heartbeat round acknowledged by a quorum, and the leader lease
 * (diss. §6.4.1) that the same acknowledgements extend, bounded by the
 * caller's stated clock drift and error.
 */
#include <stdlib.h>

#include "truth/quorum.h"
#include "raft/raft_int.h"

/*
 * A follower that acknowledged round k heard from us after we sent it and
 * will refuse to elect anyone else for election_ticks of its own ticks (see
 * leader_is_sticky); the first of those may come at once, so it holds for
 * (election_ticks - 1) ticks of a clock that may run fast by drift, measured
 * here by a clock that may run slow by drift: D (1 - 2 drift), below the
 * exact D (1 - drift) / (1 + drift).  Then lease_margin off, for what the
 * rate bound does not cover (Documentation/raft.md "Reads").
 */
static uint64_t lease_duration(const struct raft *r)
{
	uint64_t base = (uint64_t)(r->opt.election_ticks - 1) * r->opt.tick_time;
	uint64_t ppm = 2 * r->opt.drift_ppm, d;

	if (ppm >= 1000000)
		return 0;
	d = base / 1000000 * (1000000 - ppm) +
	    base % 1000000 * (1000000 - ppm) / 1000000;
	return d > r->opt.lease_margin ? d - r->opt.lease_margin : 0;
}

static int push_ready(struct raft *r, const struct raft_pending_read *pr)
{
	if (r->n_ready_reads == r->cap_ready_reads) {
		uint32_t cap = r->cap_ready_reads ? 2 * r->cap_ready_reads : 8;
		struct raft_read_state *n = realloc(r->ready_reads,
						    cap * sizeof(*n));

		if (!n)
			return RAFT_ENOMEM;
		r->ready_reads = n;
		r->cap_ready_reads = cap;
	}
	r->ready_reads[r->n_ready_reads].ctx = pr->ctx;
	r->ready_reads[r->n_ready_reads].index = pr->index;
	r->n_ready_reads++;
	return RAFT_OK;
}

/* A follower acknowledged a round: release reads and extend the lease. */
void raft_read_round_acked(struct raft *r)
{
	struct truth_quorum_member qm[RAFT_MAX_MEMBERS];
	uint64_t confirmed;
	unsigned int n = 0;
	uint32_t i, keep = 0;

	if (r->role != RAFT_LEADER)
		return;
	for (i = 0; i < r->conf.n; i++) {
		const struct raft_member *mb = &r->conf.m[i];
		struct raft_progress *p = raft_progress(r, mb->id);

		if (mb->role != RAFT_VOTER)
			continue;
		qm[n].id = mb->id;
		qm[n].weight = mb->weight;
		qm[n].match = mb->id == r->id ? r->round : (p ? p->acked_ctx : 0);
		n++;
	}
	/* the same weighted quorum that commits entries confirms leadership */
	confirmed = truth_quorum_match(qm, n, raft_conf_threshold(&r->conf));
	if (!confirmed)
		return;
	for (i = 0; i < r->n_reads; i++) {
		/* diss. §6.4 step 3: a quorum heard us after the read arrived. */
		if (r->reads[i].round <= confirmed &&
		    !push_ready(r, &r->reads[i]))
			continue;
		r->reads[keep++] = r->reads[i];
	}
	r->n_reads = keep;
	if (!r->lease_disabled && !r->transfer_target &&
	    confirmed + 64 > r->round) {
		uint64_t until = r->round_sent_at[confirmed % 64] +
				 lease_duration(r);

		if (until > r->lease_until)
			r->lease_until = until;
	}
}

int raft_read_index(struct raft *r, uint64_t ctx)
{
	struct raft_pending_read pr;

	if (r->in_ready)
		return RAFT_EINVAL;
	if (r->role != RAFT_LEADER)
		return RAFT_ENOTLEADER;
	/* diss. §6.4 step 1: the leader must have committed an entry of its term. */
	if (r->log.committed < r->term_start)
		return RAFT_ESTALE;
	if (r->n_reads == r->cap_reads) {
		uint32_t cap = r->cap_reads ? 2 * r->cap_reads : 8;
		struct raft_pending_read *n = realloc(r->reads, cap * sizeof(*n));

		if (!n)
			return RAFT_ENOMEM;
		r->reads = n;
		r->cap_reads = cap;
	}
	/* diss. §6.4 step 2: the read index is the current commit index. */
	pr.ctx = ctx;
	pr.index = r->log.committed;
	raft_broadcast_heartbeat(r);
	pr.round = r->round;
	r->reads[r->n_reads++] = pr;
	raft_read_round_acked(r);
	return RAFT_OK;
}

int raft_read_lease(struct raft *r, uint64_t now, uint64_t err,
		    uint64_t *index)
{
	if (r->in_ready || !index)
		return RAFT_EINVAL;
	if (r->role != RAFT_LEADER)
		return RAFT_ENOTLEADER;
	if (r->log.committed < r->term_start || r->transfer_target ||
	    r->lease_disabled || now + err >= r->lease_until)
		return RAFT_ESTALE;
	*index = r->log.committed;
	return RAFT_OK;
}

void raft_reads_fail_all(struct raft *r)
{
	uint32_t i;

	for (i = 0; i < r->n_reads; i++) {
		if (r->n_failed_reads == r->cap_failed_reads) {
			uint32_t cap = r->cap_failed_reads ?
				       2 * r->cap_failed_reads : 8;
			uint64_t *n = realloc(r->failed_reads, cap * sizeof(*n));

			if (!n)
				break;
			r->failed_reads = n;
			r->cap_failed_reads = cap;
		}
		r->failed_reads[r->n_failed_reads++] = r->reads[i].ctx;
	}
	r->n_reads = 0;
	r->lease_until = 0;
}
