// SPDX-License-Identifier: GPL-2.0
/*
 * The namespace's Lamport clock and HLC, and the groups' vector clocks, as
 * any process sees them through TRUTH_CMD_CLOCK_*.  The rules themselves are
 * in include/truth/; this file only takes the locks and reads the time.
 */

#include <linux/netlink.h>
#include <linux/timekeeping.h>
#include <truth/hlc.h>
#include <truth/lamport.h>
#include <uapi/linux/truth.h>

#include "clocks.h"
#include "group.h"
#include "pernet.h"

enum truth_clock_op {
	TRUTH_CLOCK_OP_GET,
	TRUTH_CLOCK_OP_TICK,
	TRUTH_CLOCK_OP_MERGE,
};

void truth_clocks_init(struct truth_clocks *c)
{
	spin_lock_init(&c->lock);
	c->lamport = 0;
	c->hlc = 0;
	c->hlc_max_offset = TRUTH_HLC_MAX_OFFSET_DEFAULT;
}

/*
 * Whether the group's vector clock has room for what @op will do to it:
 * merging @r's entries and then ticking SELF must stay within
 * TRUTH_VCLOCK_ENTRIES, so that the update below cannot fail half-way.
 */
static bool truth_vclock_fits(const struct truth_group *g,
			      enum truth_clock_op op,
			      const struct truth_clock_remote *r)
{
	const struct truth_vclock *v = &g->vclock;
	u32 n = v->n;
	bool has_self;

	lockdep_assert_held(&g->lock);
	has_self = truth_vclock_get(v, g->self) != 0;
	if (op == TRUTH_CLOCK_OP_MERGE && r->has_vclock) {
		n = truth_vclock_union_size(v, &r->vclock);
		has_self = has_self || truth_vclock_get(&r->vclock, g->self);
	}
	return n + !has_self <= TRUTH_VCLOCK_ENTRIES;
}

static void truth_clocks_snap(const struct truth_clocks *c,
			      const struct truth_group *g,
			      struct truth_clock_snap *out)
{
	lockdep_assert_held(&c->lock);
	out->lamport = c->lamport;
	out->hlc = c->hlc;
	out->hlc_max_offset = c->hlc_max_offset;
	out->has_group = !!g;
	if (g) {
		out->group_id = g->id;
		out->vclock = g->vclock;
	}
}

/*
 * The scalar clocks' and (with @g, whose lock the caller holds) the vector
 * clock's part of one event.  Room in the vector clock was checked first, so
 * after the HLC check nothing can fail half-way.
 */
static int truth_clocks_apply(struct truth_clocks *c, struct truth_group *g,
			      enum truth_clock_op op,
			      const struct truth_clock_remote *r,
			      struct truth_clock_snap *out,
			      struct netlink_ext_ack *extack)
{
	u64 pt = ktime_get_real_ns();
	int ret = 0;

	spin_lock_bh(&c->lock);
	if (op == TRUTH_CLOCK_OP_MERGE && r->has_hlc &&
	    unlikely(!truth_hlc_acceptable(r->hlc, pt, c->hlc_max_offset))) {
		NL_SET_ERR_MSG(extack,
			       "remote HLC is more than the maximum offset ahead of local time");
		ret = -ERANGE;
		goto out;
	}

	if (op == TRUTH_CLOCK_OP_MERGE && r->has_lamport)
		truth_lamport_recv(&c->lamport, r->lamport);
	else if (op != TRUTH_CLOCK_OP_GET)
		truth_lamport_tick(&c->lamport);

	if (op == TRUTH_CLOCK_OP_MERGE && r->has_hlc)
		truth_hlc_recv(&c->hlc, r->hlc, pt, c->hlc_max_offset);
	else if (op != TRUTH_CLOCK_OP_GET)
		truth_hlc_now(&c->hlc, pt);

	if (g && op == TRUTH_CLOCK_OP_MERGE && r->has_vclock)
		truth_vclock_merge(&g->vclock, &r->vclock);
	if (g && op != TRUTH_CLOCK_OP_GET)
		truth_vclock_tick(&g->vclock, g->self);

	truth_clocks_snap(c, g, out);
out:
	spin_unlock_bh(&c->lock);
	return ret;
}

/*
 * One clock event, all or nothing.  With a group, its lock is taken first
 * (lock order: group, then clocks) so the vector clock and the scalar clocks
 * move together.  @g is RCU-protected by the caller.
 */
static int truth_clocks_op(struct truth_net *tn, struct truth_group *g,
			   enum truth_clock_op op,
			   const struct truth_clock_remote *r,
			   struct truth_clock_snap *out,
			   struct netlink_ext_ack *extack)
{
	int ret;

	if (!g)
		return truth_clocks_apply(&tn->clocks, NULL, op, r, out, extack);

	spin_lock_bh(&g->lock);
	if (unlikely(g->dead)) {
		NL_SET_ERR_MSG(extack, "no such group");
		ret = -ENOENT;
	} else if (op != TRUTH_CLOCK_OP_GET && unlikely(!truth_vclock_fits(g, op, r))) {
		NL_SET_ERR_MSG(extack,
			       "vector clock would exceed TRUTH_VCLOCK_MAX entries");
		ret = -ENOSPC;
	} else {
		ret = truth_clocks_apply(&tn->clocks, g, op, r, out, extack);
	}
	spin_unlock_bh(&g->lock);
	return ret;
}

int truth_clocks_get(struct truth_net *tn, struct truth_group *g,
		     struct truth_clock_snap *out,
		     struct netlink_ext_ack *extack)
{
	return truth_clocks_op(tn, g, TRUTH_CLOCK_OP_GET, NULL, out, extack);
}

int truth_clocks_tick(struct truth_net *tn, struct truth_group *g,
		      struct truth_clock_snap *out,
		      struct netlink_ext_ack *extack)
{
	return truth_clocks_op(tn, g, TRUTH_CLOCK_OP_TICK, NULL, out, extack);
}

int truth_clocks_merge(struct truth_net *tn, struct truth_group *g,
		       const struct truth_clock_remote *r,
		       struct truth_clock_snap *out,
		       struct netlink_ext_ack *extack)
{
	return truth_clocks_op(tn, g, TRUTH_CLOCK_OP_MERGE, r, out, extack);
}

void truth_clocks_set_max_offset(struct truth_net *tn, u64 max_offset)
{
	spin_lock_bh(&tn->clocks.lock);
	tn->clocks.hlc_max_offset = max_offset;
	spin_unlock_bh(&tn->clocks.lock);
}

/*
 * The fast path's clock events, with g->lock already held: a send (@r
 * NULL: tick) or a receive (@r: merge).  All or nothing, like the commands.
 */
int truth_clocks_event_locked(struct truth_net *tn, struct truth_group *g,
			      const struct truth_clock_remote *r,
			      struct truth_clock_snap *out)
{
	enum truth_clock_op op = r ? TRUTH_CLOCK_OP_MERGE : TRUTH_CLOCK_OP_TICK;

	lockdep_assert_held(&g->lock);
	if (unlikely(g->dead))
		return -ENOENT;
	if (unlikely(!truth_vclock_fits(g, op, r)))
		return -ENOSPC;
	return truth_clocks_apply(&tn->clocks, g, op, r, out, NULL);
}
