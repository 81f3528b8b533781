// SPDX-License-Identifier: GPL-2.0
/*
 * Per-network-namespace state: every namespace gets its own groups and
 * clocks, created when the namespace (or the module) comes up and destroyed
 * when it goes away.
 */

#include <linux/slab.h>
#include <net/netns/generic.h>

#include "group.h"
#include "pernet.h"

static unsigned int truth_net_id __read_mostly;

struct truth_net *truth_net(const struct net *net)
{
	return net_generic(net, truth_net_id);
}

/*
 * Zero the namespace's fast-path counters (STATS_RESET of any of its groups
 * does this too).  A datagram counted on another CPU at the same moment may
 * land before or after the reset; each counter stays exact on its own.
 */
void truth_fp_ns_stats_reset(struct truth_fp_ns_stats *s)
{
	atomic64_set(&s->malformed, 0);
	atomic64_set(&s->fragments, 0);
	atomic64_set(&s->no_group, 0);
}

static int __net_init truth_net_init(struct net *net)
{
	struct truth_net *tn = truth_net(net);

	tn->net = net;
	mutex_init(&tn->config_lock);
	xa_init(&tn->groups);
	tn->n_groups = 0;
	truth_clocks_init(&tn->clocks);
	truth_fp_ns_stats_reset(&tn->fp_stats);
	return 0;
}

static void __net_exit truth_net_exit(struct net *net)
{
	struct truth_net *tn = truth_net(net);

	/*
	 * No netlink call can be running in a dying namespace (its sockets
	 * hold a reference to it), and on module unload the family is gone
	 * before this runs; still, readers are RCU, so free through RCU.
	 */
	mutex_lock(&tn->config_lock);
	truth_groups_destroy(tn);
	mutex_unlock(&tn->config_lock);
	xa_destroy(&tn->groups);
	mutex_destroy(&tn->config_lock);
}

static struct pernet_operations truth_net_ops = {
	.init	= truth_net_init,
	.exit	= truth_net_exit,
	.id	= &truth_net_id,
	.size	= sizeof(struct truth_net),
};

int __init truth_pernet_init(void)
{
	return register_pernet_subsys(&truth_net_ops);
}

void truth_pernet_uninit(void)
{
	unregister_pernet_subsys(&truth_net_ops);
}
