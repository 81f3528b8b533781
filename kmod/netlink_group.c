// SPDX-License-Identifier: GPL-2.0
/*
 * Handlers of the group and stats commands.  The policies in netlink.c have
 * already checked types, lengths and ranges; what is left here are the
 * checks that need more than one attribute or the group's state.
 */

#include <linux/slab.h>
#include <linux/string.h>
#include <net/sock.h>

#include "group.h"
#include "netlink.h"
#include "pernet.h"

static struct truth_net *truth_nl_net(struct genl_info *info)
{
	return truth_net(genl_info_net(info));
}

/* Collect the repeated TRUTH_A_GROUP_MEMBER nests into @cfg. */
static int truth_nl_parse_members(struct genl_info *info,
				  struct truth_group_config *cfg)
{
	struct nlattr *tb[TRUTH_A_MEMBER_MAX + 1];
	struct nlattr *attr;
	int ret, rem;
	u32 i, node;

	nla_for_each_attr_type(attr, TRUTH_A_GROUP_MEMBER,
			       genlmsg_data(info->genlhdr),
			       genlmsg_len(info->genlhdr), rem) {
		ret = -E2BIG;
		if (unlikely(cfg->n_members >= TRUTH_GROUP_MEMBERS_MAX)) {
			NL_SET_ERR_MSG_ATTR(info->extack, attr,
					    "more than TRUTH_GROUP_MEMBERS_MAX members");
			goto out;
		}
		ret = nla_parse_nested(tb, TRUTH_A_MEMBER_MAX, attr,
				       truth_member_policy, info->extack);
		if (ret)
			goto out;
		ret = -EINVAL;
		if (NL_REQ_ATTR_CHECK(info->extack, attr, tb, TRUTH_A_MEMBER_NODE)) {
			NL_SET_ERR_MSG_ATTR(info->extack, attr, "member without a node id");
			goto out;
		}
		node = nla_get_u32(tb[TRUTH_A_MEMBER_NODE]);
		for (i = 0; i < cfg->n_members; i++) {
			if (unlikely(cfg->members[i].id == node)) {
				NL_SET_ERR_MSG_ATTR(info->extack, attr,
						    "duplicate member node id");
				goto out;
			}
		}
		cfg->members[cfg->n_members].id = node;
		cfg->members[cfg->n_members].weight =
			truth_nla_get_u32_or(tb[TRUTH_A_MEMBER_WEIGHT], 1);
		cfg->members[cfg->n_members].match = 0;
		cfg->n_members++;
		cfg->has_members = true;
	}
	ret = 0;
out:
	return ret;
}

/* Everything GROUP_NEW and GROUP_SET share; the policy said what may come. */
static int truth_nl_parse_config(struct genl_info *info,
				 struct truth_group_config *cfg)
{
	struct nlattr **attrs = info->attrs;

	cfg->id = nla_get_u32(attrs[TRUTH_A_GROUP_ID]);
	if (attrs[TRUTH_A_GROUP_SELF])
		cfg->self = nla_get_u32(attrs[TRUTH_A_GROUP_SELF]);
	if (attrs[TRUTH_A_GROUP_THRESHOLD]) {
		cfg->has_threshold = true;
		cfg->threshold = nla_get_u64(attrs[TRUTH_A_GROUP_THRESHOLD]);
	}
	if (attrs[TRUTH_A_GROUP_TERM]) {
		cfg->has_term = true;
		cfg->term = nla_get_u64(attrs[TRUTH_A_GROUP_TERM]);
	}
	if (attrs[TRUTH_A_GROUP_TERM_START]) {
		cfg->has_term_start = true;
		cfg->term_start = nla_get_u64(attrs[TRUTH_A_GROUP_TERM_START]);
	}
	if (attrs[TRUTH_A_GROUP_ROLE]) {
		cfg->has_role = true;
		cfg->role = nla_get_u32(attrs[TRUTH_A_GROUP_ROLE]);
	}
	if (attrs[TRUTH_A_GROUP_COMMIT]) {
		cfg->has_commit = true;
		cfg->commit = nla_get_u64(attrs[TRUTH_A_GROUP_COMMIT]);
	}
	if (attrs[TRUTH_A_GROUP_NAME]) {
		cfg->has_name = true;
		nla_strscpy(cfg->name, attrs[TRUTH_A_GROUP_NAME], sizeof(cfg->name));
	}
	if (attrs[TRUTH_A_GROUP_FLAGS])
		cfg->flags = nla_get_u32(attrs[TRUTH_A_GROUP_FLAGS]);
	if (attrs[TRUTH_A_GROUP_KEY]) {
		/* the policy checked the length */
		cfg->has_key = true;
		nla_memcpy(cfg->key, attrs[TRUTH_A_GROUP_KEY], sizeof(cfg->key));
	}
	return truth_nl_parse_members(info, cfg);
}

int truth_nl_group_new(struct sk_buff *skb, struct genl_info *info)
{
	struct truth_group_config *cfg = NULL;
	int ret;

	ret = -EINVAL;
	if (TRUTH_NL_REQUIRE(info, TRUTH_A_GROUP_ID) ||
	    TRUTH_NL_REQUIRE(info, TRUTH_A_GROUP_SELF) ||
	    TRUTH_NL_REQUIRE(info, TRUTH_A_GROUP_MEMBER))
		goto out;

	ret = -ENOMEM;
	cfg = kzalloc(sizeof(*cfg), GFP_KERNEL);
	if (unlikely(!cfg))
		goto out;

	ret = truth_nl_parse_config(info, cfg);
	if (ret)
		goto out;

	ret = truth_group_new(truth_nl_net(info), cfg, info->extack);
out:
	kfree_sensitive(cfg);
	return ret;
}

int truth_nl_group_set(struct sk_buff *skb, struct genl_info *info)
{
	struct truth_group_config *cfg = NULL;
	int ret;

	ret = -EINVAL;
	if (TRUTH_NL_REQUIRE(info, TRUTH_A_GROUP_ID))
		goto out;

	ret = -ENOMEM;
	cfg = kzalloc(sizeof(*cfg), GFP_KERNEL);
	if (unlikely(!cfg))
		goto out;

	ret = truth_nl_parse_config(info, cfg);
	if (ret)
		goto out;

	ret = truth_group_set(truth_nl_net(info), cfg, info->extack);
out:
	kfree_sensitive(cfg);
	return ret;
}

int truth_nl_group_del(struct sk_buff *skb, struct genl_info *info)
{
	int ret;

	ret = -EINVAL;
	if (TRUTH_NL_REQUIRE(info, TRUTH_A_GROUP_ID))
		goto out;

	ret = truth_group_del(truth_nl_net(info),
			      nla_get_u32(info->attrs[TRUTH_A_GROUP_ID]),
			      info->extack);
out:
	return ret;
}

static int truth_nl_put_members(struct sk_buff *skb, struct truth_group *g)
{
	struct nlattr *nest;
	u32 i;

	lockdep_assert_held(&g->lock);
	for (i = 0; i < g->n_members; i++) {
		nest = nla_nest_start(skb, TRUTH_A_GROUP_MEMBER);
		if (!nest)
			return -EMSGSIZE;
		if (nla_put_u32(skb, TRUTH_A_MEMBER_NODE, g->members[i].id) ||
		    nla_put_u32(skb, TRUTH_A_MEMBER_WEIGHT, g->members[i].weight) ||
		    nla_put_u64_64bit(skb, TRUTH_A_MEMBER_MATCH,
				      g->members[i].match, TRUTH_A_MEMBER_PAD)) {
			nla_nest_cancel(skb, nest);
			return -EMSGSIZE;
		}
		nla_nest_end(skb, nest);
	}
	return 0;
}

/*
 * One group as a TRUTH_CMD_GROUP_GET message.  -ENOENT if it died since it
 * was looked up, -EMSGSIZE if it does not fit.  @g is RCU-protected.
 */
static int truth_nl_group_fill(struct sk_buff *skb, struct truth_group *g,
			       u32 portid, u32 seq, int flags)
{
	void *hdr;
	int ret;

	hdr = genlmsg_put(skb, portid, seq, &truth_genl_family, flags,
			  TRUTH_CMD_GROUP_GET);
	if (!hdr)
		return -EMSGSIZE;

	spin_lock_bh(&g->lock);
	ret = -ENOENT;
	if (unlikely(g->dead))
		goto err_unlock;
	ret = -EMSGSIZE;
	if (nla_put_u32(skb, TRUTH_A_GROUP_ID, g->id) ||
	    nla_put_u32(skb, TRUTH_A_GROUP_SELF, g->self) ||
	    nla_put_u64_64bit(skb, TRUTH_A_GROUP_TERM, g->term, TRUTH_A_GROUP_PAD) ||
	    nla_put_u64_64bit(skb, TRUTH_A_GROUP_TERM_START, g->term_start,
			      TRUTH_A_GROUP_PAD) ||
	    nla_put_u32(skb, TRUTH_A_GROUP_ROLE, g->role) ||
	    nla_put_u64_64bit(skb, TRUTH_A_GROUP_THRESHOLD, g->threshold,
			      TRUTH_A_GROUP_PAD) ||
	    nla_put_u64_64bit(skb, TRUTH_A_GROUP_COMMIT, g->commit,
			      TRUTH_A_GROUP_PAD) ||
	    (g->name[0] && nla_put_string(skb, TRUTH_A_GROUP_NAME, g->name)) ||
	    nla_put_u8(skb, TRUTH_A_GROUP_KEYED, g->keyed) ||
	    truth_nl_put_members(skb, g))
		goto err_unlock;
	spin_unlock_bh(&g->lock);
	genlmsg_end(skb, hdr);
	return 0;

err_unlock:
	spin_unlock_bh(&g->lock);
	genlmsg_cancel(skb, hdr);
	return ret;
}

int truth_nl_group_get(struct sk_buff *skb, struct genl_info *info)
{
	struct truth_group *g;
	struct sk_buff *msg;
	int ret;

	ret = -EINVAL;
	if (TRUTH_NL_REQUIRE(info, TRUTH_A_GROUP_ID))
		goto out;

	ret = -ENOMEM;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (unlikely(!msg))
		goto out;

	rcu_read_lock();
	ret = -ENOENT;
	g = truth_group_lookup_rcu(truth_nl_net(info),
				   nla_get_u32(info->attrs[TRUTH_A_GROUP_ID]));
	if (g)
		ret = truth_nl_group_fill(msg, g, info->snd_portid,
					  info->snd_seq, 0);
	rcu_read_unlock();
	if (ret) {
		if (ret == -ENOENT)
			GENL_SET_ERR_MSG(info, "no such group");
		else
			GENL_SET_ERR_MSG(info, "group does not fit in a message");
		nlmsg_free(msg);
		goto out;
	}
	ret = genlmsg_reply(msg, info);
out:
	return ret;
}

/*
 * cb->args[0]: the id to continue the dump from; cb->args[1]: set once the
 * last id was dumped (U32_MAX + 1 would not fit an unsigned long on 32-bit).
 */
int truth_nl_group_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct truth_net *tn = truth_net(sock_net(skb->sk));
	unsigned long id = cb->args[0];
	struct truth_group *g;
	int ret = 0;

	if (cb->args[1])
		return 0;
	rcu_read_lock();
	xa_for_each_start(&tn->groups, id, g, cb->args[0]) {
		ret = truth_nl_group_fill(skb, g, NETLINK_CB(cb->skb).portid,
					  cb->nlh->nlmsg_seq, NLM_F_MULTI);
		if (ret == -ENOENT)
			continue;
		if (ret)
			break;
	}
	rcu_read_unlock();

	if (ret == -EMSGSIZE) {
		cb->args[0] = id;
		/* a group that does not fit even an empty message: give up */
		return skb->len ? skb->len : ret;
	}
	cb->args[1] = 1;
	return skb->len;
}

int truth_nl_group_ack(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **attrs = info->attrs;
	struct truth_group *g;
	int ret;

	ret = -EINVAL;
	if (TRUTH_NL_REQUIRE(info, TRUTH_A_GROUP_ID) ||
	    TRUTH_NL_REQUIRE(info, TRUTH_A_GROUP_TERM) ||
	    TRUTH_NL_REQUIRE(info, TRUTH_A_GROUP_INDEX))
		goto out;

	rcu_read_lock();
	ret = -ENOENT;
	g = truth_group_lookup_rcu(truth_nl_net(info),
				   nla_get_u32(attrs[TRUTH_A_GROUP_ID]));
	if (unlikely(!g)) {
		GENL_SET_ERR_MSG(info, "no such group");
		goto out_unlock;
	}
	ret = truth_group_ack(g, nla_get_u64(attrs[TRUTH_A_GROUP_TERM]),
			      nla_get_u64(attrs[TRUTH_A_GROUP_INDEX]),
			      attrs[TRUTH_A_GROUP_NODE],
			      truth_nla_get_u32_or(attrs[TRUTH_A_GROUP_NODE], 0),
			      info->extack);
out_unlock:
	rcu_read_unlock();
out:
	return ret;
}

static int truth_nl_put_stats(struct sk_buff *msg, u32 id,
			      const struct truth_group_stats *st,
			      const struct truth_fp_ns_stats *ns)
{
	const struct { int attr; u64 val; } c[] = {
		{ TRUTH_A_STATS_ACKS, st->acks },
		{ TRUTH_A_STATS_ACKS_LOCAL, st->acks_local },
		{ TRUTH_A_STATS_ACKS_REDUNDANT, st->acks_redundant },
		{ TRUTH_A_STATS_ACKS_STALE, st->acks_stale },
		{ TRUTH_A_STATS_COMMIT_ADVANCES, st->commit_advances },
		{ TRUTH_A_STATS_COMMIT_EVENTS, st->commit_events },
		{ TRUTH_A_STATS_FP_ACKS, st->fp_acks },
		{ TRUTH_A_STATS_FP_PASSED, st->fp_passed },
		{ TRUTH_A_STATS_FP_BAD_MAC, st->fp_bad_mac },
		{ TRUTH_A_STATS_FP_REPLAY, st->fp_replay },
		{ TRUTH_A_STATS_FP_STALE, st->fp_stale },
		{ TRUTH_A_STATS_FP_MALFORMED, st->fp_malformed },
		{ TRUTH_A_STATS_FP_NOT_FOR_US, st->fp_not_for_us },
		{ TRUTH_A_STATS_FP_NO_KEY, st->fp_no_key },
		{ TRUTH_A_STATS_FP_STAMPED, st->fp_stamped },
		{ TRUTH_A_STATS_FP_OBSERVED, st->fp_observed },
		{ TRUTH_A_STATS_FP_NS_MALFORMED, atomic64_read(&ns->malformed) },
		{ TRUTH_A_STATS_FP_NS_FRAGMENTS, atomic64_read(&ns->fragments) },
		{ TRUTH_A_STATS_FP_NS_NO_GROUP, atomic64_read(&ns->no_group) },
	};
	size_t i;

	if (nla_put_u32(msg, TRUTH_A_STATS_GROUP_ID, id))
		return -EMSGSIZE;
	for (i = 0; i < ARRAY_SIZE(c); i++)
		if (nla_put_u64_64bit(msg, c[i].attr, c[i].val, TRUTH_A_STATS_PAD))
			return -EMSGSIZE;
	return 0;
}

static int truth_nl_stats(struct genl_info *info, bool reset)
{
	struct truth_net *tn = truth_nl_net(info);
	struct truth_group_stats st = {};
	struct sk_buff *msg = NULL;
	struct truth_group *g;
	void *hdr;
	u32 id;
	int ret;

	ret = -EINVAL;
	if (TRUTH_NL_REQUIRE(info, TRUTH_A_STATS_GROUP_ID))
		goto out;
	id = nla_get_u32(info->attrs[TRUTH_A_STATS_GROUP_ID]);

	rcu_read_lock();
	ret = -ENOENT;
	g = truth_group_lookup_rcu(tn, id);
	if (unlikely(!g))
		GENL_SET_ERR_MSG(info, "no such group");
	else
		ret = truth_group_stats(g, &st, reset, info->extack);
	rcu_read_unlock();
	/*
	 * The namespace's counters are in every group's reply; a reset that
	 * left them would leave the reply half reset.
	 */
	if (!ret && reset)
		truth_fp_ns_stats_reset(&tn->fp_stats);
	if (ret || reset)
		goto out;

	ret = -ENOMEM;
	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (unlikely(!msg))
		goto out;
	ret = -EMSGSIZE;
	hdr = genlmsg_put_reply(msg, info, &truth_genl_family, 0,
				TRUTH_CMD_STATS_GET);
	if (unlikely(!hdr))
		goto err_free;
	if (truth_nl_put_stats(msg, id, &st, &tn->fp_stats))
		goto err_free;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_free:
	nlmsg_free(msg);
out:
	return ret;
}

int truth_nl_stats_get(struct sk_buff *skb, struct genl_info *info)
{
	return truth_nl_stats(info, false);
}

int truth_nl_stats_reset(struct sk_buff *skb, struct genl_info *info)
{
	return truth_nl_stats(info, true);
}
