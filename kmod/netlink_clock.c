// SPDX-License-Identifier: GPL-2.0
/*
 * Handlers of the clock commands.  Replies carry the clocks after the
 * operation, so a tick or merge gives the caller its stamp in one call.
 */

#include <linux/slab.h>

#include "clocks.h"
#include "group.h"
#include "netlink.h"
#include "pernet.h"

/* Both halves of a clock call, on the heap: vector clocks are 1 KiB each. */
struct truth_clock_call {
	struct truth_clock_remote remote;
	struct truth_clock_snap snap;
};

enum truth_clock_cmd_kind {
	TRUTH_CLOCK_CALL_GET,
	TRUTH_CLOCK_CALL_TICK,
	TRUTH_CLOCK_CALL_MERGE,
};

static int truth_nl_put_vclock(struct sk_buff *skb,
			       const struct truth_vclock *v)
{
	struct nlattr *nest;
	u32 i;

	for (i = 0; i < v->n; i++) {
		nest = nla_nest_start(skb, TRUTH_A_CLOCK_VCLOCK);
		if (!nest)
			return -EMSGSIZE;
		if (nla_put_u32(skb, TRUTH_A_VCLOCK_NODE, v->e[i].node) ||
		    nla_put_u64_64bit(skb, TRUTH_A_VCLOCK_COUNTER,
				      v->e[i].counter, TRUTH_A_VCLOCK_PAD)) {
			nla_nest_cancel(skb, nest);
			return -EMSGSIZE;
		}
		nla_nest_end(skb, nest);
	}
	return 0;
}

/* Fill and send @msg, allocated before the clocks changed; consumes it. */
static int truth_nl_clock_reply(struct genl_info *info, struct sk_buff *msg,
				u8 cmd, const struct truth_clock_snap *s)
{
	void *hdr;
	int ret;

	ret = -EMSGSIZE;
	hdr = genlmsg_put_reply(msg, info, &truth_genl_family, 0, cmd);
	if (unlikely(!hdr))
		goto err_free;
	if (nla_put_u64_64bit(msg, TRUTH_A_CLOCK_LAMPORT, s->lamport,
			      TRUTH_A_CLOCK_PAD) ||
	    nla_put_u64_64bit(msg, TRUTH_A_CLOCK_HLC, s->hlc, TRUTH_A_CLOCK_PAD) ||
	    nla_put_u64_64bit(msg, TRUTH_A_CLOCK_HLC_MAX_OFFSET,
			      s->hlc_max_offset, TRUTH_A_CLOCK_PAD))
		goto err_free;
	if (s->has_group &&
	    (nla_put_u32(msg, TRUTH_A_CLOCK_GROUP_ID, s->group_id) ||
	     truth_nl_put_vclock(msg, &s->vclock)))
		goto err_free;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_free:
	nlmsg_free(msg);
	return ret;
}

/*
 * The repeated TRUTH_A_CLOCK_VCLOCK nests into @v, which must come out
 * well formed (truth_vclock_valid()).
 */
static int truth_nl_parse_vclock(struct genl_info *info,
				 struct truth_vclock *v)
{
	struct nlattr *tb[TRUTH_A_VCLOCK_MAX + 1];
	struct nlattr *attr;
	int ret, rem;
	u32 node;

	truth_vclock_init(v);
	nla_for_each_attr_type(attr, TRUTH_A_CLOCK_VCLOCK,
			       genlmsg_data(info->genlhdr),
			       genlmsg_len(info->genlhdr), rem) {
		ret = -E2BIG;
		if (unlikely(v->n >= TRUTH_VCLOCK_ENTRIES)) {
			NL_SET_ERR_MSG_ATTR(info->extack, attr,
					    "more than TRUTH_VCLOCK_MAX vector clock entries");
			goto out;
		}
		ret = nla_parse_nested(tb, TRUTH_A_VCLOCK_MAX, attr,
				       truth_vclock_policy, info->extack);
		if (ret)
			goto out;
		ret = -EINVAL;
		if (NL_REQ_ATTR_CHECK(info->extack, attr, tb, TRUTH_A_VCLOCK_NODE) ||
		    NL_REQ_ATTR_CHECK(info->extack, attr, tb, TRUTH_A_VCLOCK_COUNTER)) {
			NL_SET_ERR_MSG_ATTR(info->extack, attr,
					    "vector clock entry needs NODE and COUNTER");
			goto out;
		}
		node = nla_get_u32(tb[TRUTH_A_VCLOCK_NODE]);
		if (unlikely(v->n && v->e[v->n - 1].node >= node)) {
			NL_SET_ERR_MSG_ATTR(info->extack, attr,
					    "vector clock nodes must be strictly ascending");
			goto out;
		}
		v->e[v->n].node = node;
		v->e[v->n].pad = 0;
		v->e[v->n].counter = nla_get_u64(tb[TRUTH_A_VCLOCK_COUNTER]);
		v->n++;
	}
	ret = 0;
out:
	return ret;
}

/*
 * @max_offset, for CLOCK_SET, is the new HLC offset bound.  The reply is
 * allocated before anything changes, so that -ENOMEM changes nothing.
 */
static int truth_nl_clock_call(struct genl_info *info,
			       enum truth_clock_cmd_kind kind, u8 cmd,
			       const struct nlattr *max_offset)
{
	struct truth_net *tn = truth_net(genl_info_net(info));
	struct nlattr **attrs = info->attrs;
	struct truth_clock_call *call;
	struct truth_group *g = NULL;
	struct sk_buff *msg = NULL;
	int ret;

	ret = -ENOMEM;
	call = kzalloc(sizeof(*call), GFP_KERNEL);
	if (unlikely(!call))
		goto out;

	if (kind == TRUTH_CLOCK_CALL_MERGE) {
		struct truth_clock_remote *r = &call->remote;

		if (attrs[TRUTH_A_CLOCK_LAMPORT]) {
			r->has_lamport = true;
			r->lamport = nla_get_u64(attrs[TRUTH_A_CLOCK_LAMPORT]);
		}
		if (attrs[TRUTH_A_CLOCK_HLC]) {
			r->has_hlc = true;
			r->hlc = nla_get_u64(attrs[TRUTH_A_CLOCK_HLC]);
		}
		ret = truth_nl_parse_vclock(info, &r->vclock);
		if (ret)
			goto out;
		r->has_vclock = attrs[TRUTH_A_CLOCK_VCLOCK];
		ret = -EINVAL;
		if (r->has_vclock && unlikely(!attrs[TRUTH_A_CLOCK_GROUP_ID])) {
			GENL_SET_ERR_MSG(info, "a vector clock needs TRUTH_A_CLOCK_GROUP_ID");
			goto out;
		}
		if (unlikely(!r->has_lamport && !r->has_hlc && !r->has_vclock)) {
			GENL_SET_ERR_MSG(info, "nothing to merge: give LAMPORT, HLC or VCLOCK");
			goto out;
		}
	}

	ret = -ENOMEM;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (unlikely(!msg))
		goto out;

	rcu_read_lock();
	if (attrs[TRUTH_A_CLOCK_GROUP_ID]) {
		ret = -ENOENT;
		g = truth_group_lookup_rcu(tn, nla_get_u32(attrs[TRUTH_A_CLOCK_GROUP_ID]));
		if (unlikely(!g)) {
			GENL_SET_ERR_MSG(info, "no such group");
			goto out_unlock;
		}
	}
	if (max_offset)
		truth_clocks_set_max_offset(tn, nla_get_u64(max_offset));
	switch (kind) {
	case TRUTH_CLOCK_CALL_GET:
		ret = truth_clocks_get(tn, g, &call->snap, info->extack);
		break;
	case TRUTH_CLOCK_CALL_TICK:
		ret = truth_clocks_tick(tn, g, &call->snap, info->extack);
		break;
	case TRUTH_CLOCK_CALL_MERGE:
		ret = truth_clocks_merge(tn, g, &call->remote, &call->snap,
					 info->extack);
		break;
	}
out_unlock:
	rcu_read_unlock();
	if (!ret) {
		ret = truth_nl_clock_reply(info, msg, cmd, &call->snap);
		msg = NULL;
	}
out:
	nlmsg_free(msg);
	kfree(call);
	return ret;
}

int truth_nl_clock_get(struct sk_buff *skb, struct genl_info *info)
{
	return truth_nl_clock_call(info, TRUTH_CLOCK_CALL_GET, TRUTH_CMD_CLOCK_GET,
				   NULL);
}

int truth_nl_clock_tick(struct sk_buff *skb, struct genl_info *info)
{
	return truth_nl_clock_call(info, TRUTH_CLOCK_CALL_TICK,
				   TRUTH_CMD_CLOCK_TICK, NULL);
}

int truth_nl_clock_merge(struct sk_buff *skb, struct genl_info *info)
{
	return truth_nl_clock_call(info, TRUTH_CLOCK_CALL_MERGE,
				   TRUTH_CMD_CLOCK_MERGE, NULL);
}

int truth_nl_clock_set(struct sk_buff *skb, struct genl_info *info)
{
	int ret;

	ret = -EINVAL;
	if (TRUTH_NL_REQUIRE(info, TRUTH_A_CLOCK_HLC_MAX_OFFSET))
		goto out;
	ret = truth_nl_clock_call(info, TRUTH_CLOCK_CALL_GET, TRUTH_CMD_CLOCK_SET,
				  info->attrs[TRUTH_A_CLOCK_HLC_MAX_OFFSET]);
out:
	return ret;
}
