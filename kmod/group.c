// SPDX-License-Identifier: GPL-2.0
/*
 * Groups and quorum counting.  Acknowledgements can arrive on every CPU at
 * once (netlink callers now, the tc fast path later); each group's spinlock
 * makes every ack and the commit recomputation it triggers one atomic step,
 * so the commit index is exactly what the rule gives for the acks seen.
 * Commit events are sent outside the lock; see truth_group_send_commits()
 * for how advances are coalesced.
 */

#include <linux/netlink.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "group.h"
#include "netlink.h"
#include "pernet.h"

struct truth_group *truth_group_lookup_rcu(struct truth_net *tn, u32 id)
{
	RCU_LOCKDEP_WARN(!rcu_read_lock_held(), "group lookup without rcu_read_lock()");
	return xa_load(&tn->groups, id);
}

static struct truth_quorum_member *
truth_member_find(struct truth_quorum_member *m, u32 n, u32 node)
{
	u32 i;

	for (i = 0; i < n; i++)
		if (m[i].id == node)
			return &m[i];
	return NULL;
}

/* Whether a member list, SELF and threshold can ever form a quorum. */
static int truth_group_check_quorum(struct truth_quorum_member *m, u32 n,
				    u32 self, u64 threshold,
				    struct netlink_ext_ack *extack)
{
	u64 total = truth_quorum_total_weight(m, n);

	if (unlikely(!truth_member_find(m, n, self))) {
		NL_SET_ERR_MSG(extack, "SELF is not a member of the group");
		return -EINVAL;
	}
	if (unlikely(!total)) {
		NL_SET_ERR_MSG(extack, "the members' total weight is zero");
		return -EINVAL;
	}
	if (unlikely(threshold > total)) {
		NL_SET_ERR_MSG(extack, "threshold exceeds the members' total weight");
		return -EINVAL;
	}
	return 0;
}

/*
 * Recompute the commit index after a match index, the members or the
 * threshold changed.  Returns true if the caller must send commit events:
 * the index advanced and no other CPU is already sending them.
 */
static bool truth_group_recommit(struct truth_group *g)
{
	u64 commit;

	lockdep_assert_held(&g->lock);
	commit = truth_quorum_commit(g->members, g->n_members, g->threshold,
				     g->term_start, g->commit);
	if (commit == g->commit)
		return false;
	g->commit = commit;
	g->stats.commit_advances++;
	if (g->event_busy)
		return false;
	g->event_busy = true;
	return true;
}

/*
 * Send TRUTH_CMD_EVENT_COMMIT until the last one sent carries the current
 * commit index.  Only the CPU that set event_busy runs this, so events leave
 * in order with strictly increasing indexes; advances other CPUs make while
 * it sends are folded into its next event instead of each sending one.
 * Called without g->lock, with @g kept alive by RCU or config_lock.
 */
void truth_group_send_commits(struct truth_group *g)
{
	u64 term, commit;

	for (;;) {
		spin_lock_bh(&g->lock);
		if (g->dead || g->commit == g->commit_sent) {
			g->event_busy = false;
			spin_unlock_bh(&g->lock);
			return;
		}
		commit = g->commit;
		term = g->term;
		g->commit_sent = commit;
		g->stats.commit_events++;
		spin_unlock_bh(&g->lock);
		truth_event_commit(g->tn->net, g->id, term, commit);
	}
}

int truth_group_new(struct truth_net *tn, struct truth_group_config *cfg,
		    struct netlink_ext_ack *extack)
{
	struct truth_group *g;
	u64 threshold;
	int ret;

	threshold = cfg->has_threshold ? cfg->threshold :
		truth_quorum_majority(truth_quorum_total_weight(cfg->members,
								cfg->n_members));
	ret = truth_group_check_quorum(cfg->members, cfg->n_members, cfg->self,
				       threshold, extack);
	if (ret)
		return ret;

	mutex_lock(&tn->config_lock);
	ret = -EEXIST;
	if (unlikely(xa_load(&tn->groups, cfg->id))) {
		NL_SET_ERR_MSG(extack, "a group with this id already exists");
		goto out;
	}
	ret = -ENOSPC;
	if (unlikely(tn->n_groups >= TRUTH_GROUPS_MAX)) {
		NL_SET_ERR_MSG(extack, "the namespace already has TRUTH_GROUPS_MAX groups");
		goto out;
	}
	ret = -ENOMEM;
	g = kzalloc(sizeof(*g), GFP_KERNEL);
	if (unlikely(!g))
		goto out;

	g->tn = tn;
	g->id = cfg->id;
	g->self = cfg->self;
	spin_lock_init(&g->lock);
	g->role = cfg->has_role ? cfg->role : TRUTH_ROLE_FOLLOWER;
	g->threshold = threshold;
	g->term = cfg->has_term ? cfg->term : 0;
	g->term_start = cfg->has_term_start ? cfg->term_start : 0;
	g->commit = cfg->has_commit ? cfg->commit : 0;
	g->commit_sent = g->commit;
	if (cfg->has_name)
		strscpy(g->name, cfg->name, sizeof(g->name));
	if (cfg->has_key) {
		memcpy(g->key, cfg->key, sizeof(g->key));
		g->keyed = true;
	}
	g->n_members = cfg->n_members;
	memcpy(g->members, cfg->members,
	       cfg->n_members * sizeof(cfg->members[0]));
	truth_vclock_init(&g->vclock);

	ret = xa_insert(&tn->groups, g->id, g, GFP_KERNEL);
	if (unlikely(ret)) {
		NL_SET_ERR_MSG(extack, "cannot insert the group");
		kfree(g);
		goto out;
	}
	tn->n_groups++;
out:
	mutex_unlock(&tn->config_lock);
	return ret;
}

/* Validate @cfg against @g and complete it with what stays unchanged. */
static int truth_group_set_prepare(struct truth_group *g,
				   struct truth_group_config *cfg,
				   struct netlink_ext_ack *extack)
{
	int ret;
	u32 i;

	lockdep_assert_held(&g->tn->config_lock);

	ret = -EINVAL;
	if (cfg->has_term && unlikely(cfg->term < g->term)) {
		NL_SET_ERR_MSG(extack, "the term must not go backwards");
		goto out;
	}
	if (cfg->has_term && cfg->term > g->term && unlikely(!cfg->has_term_start)) {
		NL_SET_ERR_MSG(extack, "a new term needs TERM_START, the first index of the term");
		goto out;
	}
	/*
	 * Only entries of the current term count toward a commit (Raft
	 * §5.4.2); moving its start back would count older ones.
	 */
	if (cfg->has_term_start && !(cfg->has_term && cfg->term > g->term) &&
	    unlikely(cfg->term_start < g->term_start)) {
		NL_SET_ERR_MSG(extack, "TERM_START must not move back within a term");
		goto out;
	}
	if (!cfg->has_members) {
		/* ids and weights only: match indexes change under g->lock */
		cfg->n_members = g->n_members;
		for (i = 0; i < g->n_members; i++) {
			cfg->members[i].id = g->members[i].id;
			cfg->members[i].weight = g->members[i].weight;
			cfg->members[i].match = 0;
		}
	}
	if (!cfg->has_threshold)
		cfg->threshold = cfg->has_members ?
			truth_quorum_majority(truth_quorum_total_weight(cfg->members,
									cfg->n_members)) :
			g->threshold;
	ret = truth_group_check_quorum(cfg->members, cfg->n_members, g->self,
				       cfg->threshold, extack);
out:
	return ret;
}

/*
 * A new member list: members that stay keep their match index and their
 * replay window, new ones start from zero.  @win is scratch space for the
 * windows (too big for the stack).
 */
static void truth_group_replace_members(struct truth_group *g,
					struct truth_group_config *cfg,
					struct truth_replay *win)
{
	int old;
	u32 i;

	lockdep_assert_held(&g->lock);
	for (i = 0; i < cfg->n_members; i++) {
		old = truth_group_member_index(g, cfg->members[i].id);
		cfg->members[i].match = old >= 0 ? g->members[old].match : 0;
		if (old >= 0)
			win[i] = g->replay[old];
		else
			memset(&win[i], 0, sizeof(win[i]));
	}
	memcpy(g->members, cfg->members,
	       cfg->n_members * sizeof(cfg->members[0]));
	memcpy(g->replay, win, cfg->n_members * sizeof(win[0]));
	g->n_members = cfg->n_members;
}

int truth_group_set(struct truth_net *tn, struct truth_group_config *cfg,
		    struct netlink_ext_ack *extack)
{
	bool send = false, term_changed = false;
	struct truth_replay *win = NULL;
	struct truth_group *g;
	int ret;
	u32 i;

	if (cfg->has_members) {
		win = kcalloc(TRUTH_GROUP_MEMBERS_MAX, sizeof(*win), GFP_KERNEL);
		if (unlikely(!win))
			return -ENOMEM;
	}

	mutex_lock(&tn->config_lock);
	ret = -ENOENT;
	g = xa_load(&tn->groups, cfg->id);
	if (unlikely(!g)) {
		NL_SET_ERR_MSG(extack, "no such group");
		goto out;
	}
	ret = truth_group_set_prepare(g, cfg, extack);
	if (ret)
		goto out;

	spin_lock_bh(&g->lock);
	if (cfg->has_members)
		truth_group_replace_members(g, cfg, win);
	if (cfg->has_key) {
		memcpy(g->key, cfg->key, sizeof(g->key));
		g->keyed = true;
	}
	g->threshold = cfg->threshold;
	if (cfg->has_term && cfg->term != g->term) {
		g->term = cfg->term;
		term_changed = true;
		cfg->flags |= TRUTH_GROUP_F_RESET_MATCH;
	}
	if (cfg->has_term_start)
		g->term_start = cfg->term_start;
	if (cfg->has_role && cfg->role != g->role) {
		g->role = cfg->role;
		term_changed = true;
	}
	if (cfg->flags & TRUTH_GROUP_F_RESET_MATCH)
		for (i = 0; i < g->n_members; i++)
			g->members[i].match = 0;
	if (cfg->has_name)
		strscpy(g->name, cfg->name, sizeof(g->name));
	/*
	 * Under the lock, so that no commit event carrying the new term (an
	 * ack of it on another CPU) can leave before the term event.
	 */
	if (term_changed)
		truth_event_term(tn->net, g->id, g->term, g->role);
	send = truth_group_recommit(g);
	spin_unlock_bh(&g->lock);

	if (send)
		truth_group_send_commits(g);
	ret = 0;
out:
	mutex_unlock(&tn->config_lock);
	kfree(win);
	return ret;
}

static void truth_group_kill(struct truth_net *tn, struct truth_group *g)
{
	lockdep_assert_held(&tn->config_lock);
	xa_erase(&tn->groups, g->id);
	spin_lock_bh(&g->lock);
	g->dead = true;
	/* readers copy the key under the lock and check @dead first */
	memzero_explicit(g->key, sizeof(g->key));
	g->keyed = false;
	spin_unlock_bh(&g->lock);
	/*
	 * A CPU may have taken a commit index under the lock and be about to
	 * send its event; wait for it, so that no event of this group can
	 * follow the GROUP_DEL event the caller sends next.  The sender stops
	 * at its next look at @dead and never sleeps while busy.
	 */
	while (READ_ONCE(g->event_busy))
		cond_resched();
	tn->n_groups--;
	kfree_rcu(g, rcu);
}

int truth_group_del(struct truth_net *tn, u32 id,
		    struct netlink_ext_ack *extack)
{
	struct truth_group *g;
	int ret;

	mutex_lock(&tn->config_lock);
	ret = -ENOENT;
	g = xa_load(&tn->groups, id);
	if (unlikely(!g)) {
		NL_SET_ERR_MSG(extack, "no such group");
		goto out;
	}
	truth_group_kill(tn, g);
	truth_event_group_del(tn->net, id);
	ret = 0;
out:
	mutex_unlock(&tn->config_lock);
	return ret;
}

void truth_groups_destroy(struct truth_net *tn)
{
	struct truth_group *g;
	unsigned long id;

	lockdep_assert_held(&tn->config_lock);
	xa_for_each(&tn->groups, id, g)
		truth_group_kill(tn, g);
}

int truth_group_member_index(const struct truth_group *g, u32 node)
{
	u32 i;

	for (i = 0; i < g->n_members; i++)
		if (g->members[i].id == node)
			return i;
	return -1;
}

/*
 * One ack of @node under g->lock (the netlink command's and the fast path's
 * common rule).  *@send tells the caller to run truth_group_send_commits()
 * after unlocking.
 */
int truth_group_ack_locked(struct truth_group *g, u64 term, u64 index,
			   u32 node, bool *send, struct netlink_ext_ack *extack)
{
	struct truth_quorum_member *m;

	lockdep_assert_held(&g->lock);
	*send = false;
	if (unlikely(g->dead)) {
		NL_SET_ERR_MSG(extack, "no such group");
		return -ENOENT;
	}
	if (unlikely(g->role != TRUTH_ROLE_LEADER)) {
		g->stats.acks_stale++;
		NL_SET_ERR_MSG(extack, "this node is not the group's leader");
		return -EINVAL;
	}
	if (unlikely(term != g->term)) {
		g->stats.acks_stale++;
		NL_SET_ERR_MSG(extack, "the ack's term is not the group's term");
		return -ESTALE;
	}
	m = truth_member_find(g->members, g->n_members, node);
	if (unlikely(!m)) {
		NL_SET_ERR_MSG(extack, "no such member in the group");
		return -ENOENT;
	}
	g->stats.acks++;
	if (node == g->self)
		g->stats.acks_local++;
	if (index <= m->match) {
		g->stats.acks_redundant++;
		return 0;
	}
	m->match = index;
	*send = truth_group_recommit(g);
	return 0;
}

int truth_group_ack(struct truth_group *g, u64 term, u64 index,
		    bool has_node, u32 node, struct netlink_ext_ack *extack)
{
	bool send;
	int ret;

	spin_lock_bh(&g->lock);
	ret = truth_group_ack_locked(g, term, index, has_node ? node : g->self,
				     &send, extack);
	spin_unlock_bh(&g->lock);
	if (send)
		truth_group_send_commits(g);
	return ret;
}

int truth_group_stats(struct truth_group *g, struct truth_group_stats *out,
		      bool reset, struct netlink_ext_ack *extack)
{
	int ret = 0;

	spin_lock_bh(&g->lock);
	if (unlikely(g->dead)) {
		NL_SET_ERR_MSG(extack, "no such group");
		ret = -ENOENT;
	} else if (reset) {
		memset(&g->stats, 0, sizeof(g->stats));
	} else {
		*out = g->stats;
	}
	spin_unlock_bh(&g->lock);
	return ret;
}
