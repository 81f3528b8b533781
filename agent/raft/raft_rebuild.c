// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * A node rebuilt from its peers (truthd --rebuild) abstains from elections
 * until it holds again what it may have acknowledged before.
 *
 * Raft's safety rests on every voter keeping what it acknowledged: a
 * committed entry sits on a quorum, every quorum of voters meets it, and
 * a voter refuses a candidate whose log is behind its own (§5.4.1).  A node
 * whose log was lost breaks that: with an empty log it would vote for any
 * candidate, including one missing an entry committed with this node's
 * own, now forgotten, acknowledgement.  So until its durable log reaches
 * raft_rebuild_target() it neither votes nor campaigns.
 *
 * The target is a commit index seen from a leader that lies at or after an
 * entry of that leader's own term: such a leader has committed an entry of
 * its term, so every entry committed before its term is below it (§5.4.2),
 * and entries of its term that this node acknowledged before the rebuild
 * were counted long before (acks do not outlive the restart).  A new
 * leader's first commit index may lag behind what was committed; waiting
 * for one in its own term closes that gap.
 *
 * When the term and vote were lost too, the node might have voted in any
 * term some peer has reached.  Every candidate made its term durable before
 * asking, so once every other voter has sent a message, the highest term
 * among them bounds every term this node could have voted in; the node
 * takes that term with a vote for itself, which it persists, and so can
 * only ever vote in later terms.
 */
#include <string.h>

#include "raft/raft_int.h"

void raft_rebuild_begin(struct raft *r, bool term_lost)
{
	r->rebuilding = true;
	r->rb_fence_pending = term_lost;
	r->rb_fence = 0;
	r->rb_target = 0;
	r->rb_target_term = 0;
	r->rb_probe_elapsed = r->opt.election_ticks;	/* probe at the first tick */
	memset(r->rb_heard, 0, sizeof(r->rb_heard));
}

bool raft_rebuilding(const struct raft *r)
{
	return r->rebuilding;
}

bool raft_rebuild_fence_pending(const struct raft *r)
{
	return r->rebuilding && r->rb_fence_pending;
}

uint64_t raft_rebuild_target(const struct raft *r)
{
	if (!r->rebuilding || r->rb_fence_pending)
		return 0;
	return r->rb_target;
}

void raft_rebuild_done(struct raft *r)
{
	r->rebuilding = false;
	r->rb_fence_pending = false;
}

/*
 * Followers do not talk to each other, so ask: a pre-vote for term 0 is
 * below every term, changes nothing at the receiver, and is answered with
 * a rejection carrying its term (Figure 2, RequestVote receiver 1).
 * Sent every election timeout while the fence is not known, leader or not.
 */
void raft_rebuild_tick(struct raft *r)
{
	struct raft_msg m = { 0 };
	uint32_t i;

	if (!r->rebuilding || !r->rb_fence_pending ||
	    r->rb_probe_elapsed++ < r->opt.election_ticks)
		return;
	r->rb_probe_elapsed = 0;
	m.type = RAFT_MSG_PREVOTE;
	for (i = 0; i < r->conf.n; i++) {
		if (r->conf.m[i].role != RAFT_VOTER || r->conf.m[i].id == r->id ||
		    r->rb_heard[i])
			continue;
		m.to = r->conf.m[i].id;
		raft_send(r, &m);
	}
}

/* Burn every term up to the fence: no second vote in any of them. */
static void fence_known(struct raft *r)
{
	r->rb_fence_pending = false;
	if (r->term < r->rb_fence)
		raft_become_follower(r, r->rb_fence, RAFT_NONE);
	if (r->term == r->rb_fence && r->vote == RAFT_NONE)
		r->vote = r->id;
}

/* Any message: its sender's term (PREVOTE: one above it, harmless). */
void raft_rebuild_heard(struct raft *r, const struct raft_msg *m)
{
	uint32_t i;

	if (!r->rebuilding || !r->rb_fence_pending)
		return;
	for (i = 0; i < r->conf.n; i++)
		if (r->conf.m[i].id == m->from)
			break;
	if (i == r->conf.n || r->conf.m[i].role != RAFT_VOTER)
		return;
	r->rb_heard[i] = true;
	if (m->term > r->rb_fence)
		r->rb_fence = m->term;
	for (i = 0; i < r->conf.n; i++)
		if (r->conf.m[i].role == RAFT_VOTER && r->conf.m[i].id != r->id &&
		    !r->rb_heard[i])
			return;
	fence_known(r);
}

/* An APPEND from the leader of m->term has been handled. */
void raft_rebuild_append(struct raft *r, const struct raft_msg *m)
{
	uint64_t last = raft_log_last(&r->log);
	uint64_t j = m->commit < last ? m->commit : last;

	if (!r->rebuilding || r->rb_target)
		return;
	/* entry j is the leader's own and committed: the leader's term has
	 * a committed entry, so m->commit covers everything committed before */
	if (j && raft_log_term(&r->log, j) == m->term) {
		r->rb_target = m->commit;
		r->rb_target_term = m->term;
	}
}
