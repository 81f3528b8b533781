// SPDX-License-Identifier: GPL-2.0
/*
 * The generic netlink family "truth": its operations, their policies, the
 * permission check, the version command and the events.  See
 * include/uapi/linux/truth.h for the API and
 * Documentation/netlink/specs/truth.yaml for its YNL description.
 *
 * Every operation has its own policy listing exactly the attributes it takes,
 * and the family validates strictly (resv_start_op 0), so the netlink core
 * rejects anything else with an extack message before a handler runs.
 */

#include <linux/capability.h>
#include <linux/kernel.h>
#include <truth/lamport.h>

#include "netlink.h"
#include "version.h"

/* ops->internal_flags: the operation changes state and needs CAP_NET_ADMIN */
#define TRUTH_NL_ADMIN	BIT(0)

/* GET_VERSION takes no attributes: an empty policy rejects any it is sent. */
static const struct nla_policy truth_version_policy[TRUTH_A_VERSION_MAX + 1] = {
	[TRUTH_A_VERSION_GENL]		= { .type = NLA_REJECT },
	[TRUTH_A_VERSION_MODULE]	= { .type = NLA_REJECT },
	[TRUTH_A_VERSION_WIRE]		= { .type = NLA_REJECT },
};

const struct nla_policy truth_member_policy[TRUTH_A_MEMBER_MAX + 1] = {
	[TRUTH_A_MEMBER_NODE]		= { .type = NLA_U32 },
	[TRUTH_A_MEMBER_WEIGHT]		= { .type = NLA_U32 },
};

const struct nla_policy truth_vclock_policy[TRUTH_A_VCLOCK_MAX + 1] = {
	[TRUTH_A_VCLOCK_NODE]		= { .type = NLA_U32 },
	[TRUTH_A_VCLOCK_COUNTER]	= NLA_POLICY_MIN(NLA_U64, 1),
};

/*
 * The key's length is checked here rather than with NLA_POLICY_EXACT_LEN,
 * which answers a wrong length with -ERANGE: a wrong length is -EINVAL
 * everywhere else in this API.
 */
static int truth_validate_key(const struct nlattr *attr,
			      struct netlink_ext_ack *extack)
{
	if (nla_len(attr) != TRUTH_WIRE_KEY_LEN) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "the key must be exactly TRUTH_WIRE_KEY_LEN (32) bytes");
		return -EINVAL;
	}
	return 0;
}

static const struct nla_policy truth_group_new_policy[TRUTH_A_GROUP_MAX + 1] = {
	[TRUTH_A_GROUP_ID]		= NLA_POLICY_MIN(NLA_U32, 1),
	[TRUTH_A_GROUP_SELF]		= { .type = NLA_U32 },
	[TRUTH_A_GROUP_MEMBER]		= NLA_POLICY_NESTED(truth_member_policy),
	[TRUTH_A_GROUP_THRESHOLD]	= NLA_POLICY_MIN(NLA_U64, 1),
	[TRUTH_A_GROUP_TERM]		= { .type = NLA_U64 },
	[TRUTH_A_GROUP_TERM_START]	= { .type = NLA_U64 },
	[TRUTH_A_GROUP_ROLE]		= NLA_POLICY_MAX(NLA_U32, TRUTH_ROLE_MAX),
	[TRUTH_A_GROUP_COMMIT]		= { .type = NLA_U64 },
	[TRUTH_A_GROUP_NAME]		= { .type = NLA_NUL_STRING,
					    .len = TRUTH_GROUP_NAME_MAX - 1 },
	[TRUTH_A_GROUP_KEY]		= NLA_POLICY_VALIDATE_FN(NLA_BINARY,
								 truth_validate_key),
};

static const struct nla_policy truth_group_set_policy[TRUTH_A_GROUP_MAX + 1] = {
	[TRUTH_A_GROUP_ID]		= NLA_POLICY_MIN(NLA_U32, 1),
	[TRUTH_A_GROUP_MEMBER]		= NLA_POLICY_NESTED(truth_member_policy),
	[TRUTH_A_GROUP_THRESHOLD]	= NLA_POLICY_MIN(NLA_U64, 1),
	[TRUTH_A_GROUP_TERM]		= { .type = NLA_U64 },
	[TRUTH_A_GROUP_TERM_START]	= { .type = NLA_U64 },
	[TRUTH_A_GROUP_ROLE]		= NLA_POLICY_MAX(NLA_U32, TRUTH_ROLE_MAX),
	[TRUTH_A_GROUP_NAME]		= { .type = NLA_NUL_STRING,
					    .len = TRUTH_GROUP_NAME_MAX - 1 },
	[TRUTH_A_GROUP_FLAGS]		= NLA_POLICY_MASK(NLA_U32, __TRUTH_GROUP_F_ALL),
	[TRUTH_A_GROUP_KEY]		= NLA_POLICY_VALIDATE_FN(NLA_BINARY,
								 truth_validate_key),
};

/* GROUP_DEL, GROUP_GET (do) */
static const struct nla_policy truth_group_id_policy[TRUTH_A_GROUP_MAX + 1] = {
	[TRUTH_A_GROUP_ID]		= NLA_POLICY_MIN(NLA_U32, 1),
};

/* GROUP_GET (dump) takes nothing: every entry NLA_UNSPEC is rejected. */
static const struct nla_policy truth_group_dump_policy[TRUTH_A_GROUP_MAX + 1] = {
};

static const struct nla_policy truth_group_ack_policy[TRUTH_A_GROUP_MAX + 1] = {
	[TRUTH_A_GROUP_ID]		= NLA_POLICY_MIN(NLA_U32, 1),
	[TRUTH_A_GROUP_TERM]		= { .type = NLA_U64 },
	[TRUTH_A_GROUP_INDEX]		= { .type = NLA_U64 },
	[TRUTH_A_GROUP_NODE]		= { .type = NLA_U32 },
};

/* CLOCK_GET, CLOCK_TICK */
static const struct nla_policy truth_clock_get_policy[TRUTH_A_CLOCK_MAX + 1] = {
	[TRUTH_A_CLOCK_GROUP_ID]	= NLA_POLICY_MIN(NLA_U32, 1),
};

static const struct netlink_range_validation truth_lamport_range = {
	.min = 0,
	.max = TRUTH_LAMPORT_MAX,
};

static const struct nla_policy truth_clock_merge_policy[TRUTH_A_CLOCK_MAX + 1] = {
	[TRUTH_A_CLOCK_GROUP_ID]	= NLA_POLICY_MIN(NLA_U32, 1),
	[TRUTH_A_CLOCK_LAMPORT]		= NLA_POLICY_FULL_RANGE(NLA_U64, &truth_lamport_range),
	[TRUTH_A_CLOCK_HLC]		= { .type = NLA_U64 },
	[TRUTH_A_CLOCK_VCLOCK]		= NLA_POLICY_NESTED(truth_vclock_policy),
};

static const struct netlink_range_validation truth_hlc_max_offset_range = {
	.min = TRUTH_HLC_MAX_OFFSET_MIN,
	.max = TRUTH_HLC_MAX_OFFSET_MAX,
};

static const struct nla_policy truth_clock_set_policy[TRUTH_A_CLOCK_MAX + 1] = {
	[TRUTH_A_CLOCK_HLC_MAX_OFFSET]	= NLA_POLICY_FULL_RANGE(NLA_U64,
								&truth_hlc_max_offset_range),
};

static const struct nla_policy truth_stats_policy[TRUTH_A_STATS_MAX + 1] = {
	[TRUTH_A_STATS_GROUP_ID]	= NLA_POLICY_MIN(NLA_U32, 1),
};

static int truth_get_version(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	void *hdr;
	int ret;

	ret = -ENOMEM;
	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (unlikely(!msg))
		goto out;

	ret = -EMSGSIZE;
	hdr = genlmsg_put_reply(msg, info, &truth_genl_family, 0,
				TRUTH_CMD_GET_VERSION);
	if (unlikely(!hdr))
		goto err_free;

	if (nla_put_u32(msg, TRUTH_A_VERSION_GENL, TRUTH_GENL_VERSION) ||
	    nla_put_string(msg, TRUTH_A_VERSION_MODULE, TRUTH_MODULE_VERSION) ||
	    nla_put_u32(msg, TRUTH_A_VERSION_WIRE, TRUTH_WIRE_VERSION))
		goto err_free;

	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_free:
	nlmsg_free(msg);
out:
	return ret;
}

/*
 * The permission check is done here rather than with GENL_UNS_ADMIN_PERM so
 * that the refusal, like every other one, carries an extack message.  The
 * rule is the same: CAP_NET_ADMIN in the namespace's owning user namespace.
 */
static int truth_pre_doit(const struct genl_split_ops *ops,
			  struct sk_buff *skb, struct genl_info *info)
{
	struct net *net = genl_info_net(info);

	if ((ops->internal_flags & TRUTH_NL_ADMIN) &&
	    unlikely(!netlink_ns_capable(skb, net->user_ns, CAP_NET_ADMIN))) {
		GENL_SET_ERR_MSG(info,
				 "needs CAP_NET_ADMIN in the network namespace's user namespace");
		return -EPERM;
	}
	return 0;
}

#define TRUTH_DO(_cmd, _fn, _policy, _max, _iflags) {	\
	.cmd		= (_cmd),			\
	.pre_doit	= truth_pre_doit,		\
	.doit		= (_fn),			\
	.policy		= (_policy),			\
	.maxattr	= (_max),			\
	.flags		= GENL_CMD_CAP_DO,		\
	.internal_flags	= (_iflags),			\
}

static const struct genl_split_ops truth_genl_ops[] = {
	TRUTH_DO(TRUTH_CMD_GET_VERSION, truth_get_version,
		 truth_version_policy, TRUTH_A_VERSION_MAX, 0),
	TRUTH_DO(TRUTH_CMD_GROUP_NEW, truth_nl_group_new,
		 truth_group_new_policy, TRUTH_A_GROUP_MAX, TRUTH_NL_ADMIN),
	TRUTH_DO(TRUTH_CMD_GROUP_SET, truth_nl_group_set,
		 truth_group_set_policy, TRUTH_A_GROUP_MAX, TRUTH_NL_ADMIN),
	TRUTH_DO(TRUTH_CMD_GROUP_DEL, truth_nl_group_del,
		 truth_group_id_policy, TRUTH_A_GROUP_MAX, TRUTH_NL_ADMIN),
	TRUTH_DO(TRUTH_CMD_GROUP_GET, truth_nl_group_get,
		 truth_group_id_policy, TRUTH_A_GROUP_MAX, 0),
	{
		.cmd		= TRUTH_CMD_GROUP_GET,
		.dumpit		= truth_nl_group_dump,
		.policy		= truth_group_dump_policy,
		.maxattr	= TRUTH_A_GROUP_MAX,
		.flags		= GENL_CMD_CAP_DUMP,
	},
	TRUTH_DO(TRUTH_CMD_GROUP_ACK, truth_nl_group_ack,
		 truth_group_ack_policy, TRUTH_A_GROUP_MAX, TRUTH_NL_ADMIN),
	TRUTH_DO(TRUTH_CMD_CLOCK_GET, truth_nl_clock_get,
		 truth_clock_get_policy, TRUTH_A_CLOCK_MAX, 0),
	TRUTH_DO(TRUTH_CMD_CLOCK_TICK, truth_nl_clock_tick,
		 truth_clock_get_policy, TRUTH_A_CLOCK_MAX, 0),
	TRUTH_DO(TRUTH_CMD_CLOCK_MERGE, truth_nl_clock_merge,
		 truth_clock_merge_policy, TRUTH_A_CLOCK_MAX, TRUTH_NL_ADMIN),
	TRUTH_DO(TRUTH_CMD_CLOCK_SET, truth_nl_clock_set,
		 truth_clock_set_policy, TRUTH_A_CLOCK_MAX, TRUTH_NL_ADMIN),
	TRUTH_DO(TRUTH_CMD_STATS_GET, truth_nl_stats_get,
		 truth_stats_policy, TRUTH_A_STATS_MAX, 0),
	TRUTH_DO(TRUTH_CMD_STATS_RESET, truth_nl_stats_reset,
		 truth_stats_policy, TRUTH_A_STATS_MAX, TRUTH_NL_ADMIN),
};

enum truth_mcgrp {
	TRUTH_MCGRP_EVENTS_ID,
};

static const struct genl_multicast_group truth_mcgrps[] = {
	[TRUTH_MCGRP_EVENTS_ID] = { .name = TRUTH_MCGRP_EVENTS },
};

struct genl_family truth_genl_family __ro_after_init = {
	.name		= TRUTH_GENL_NAME,
	.version	= TRUTH_GENL_VERSION,
	.netnsok	= true,
	.parallel_ops	= true,
	.resv_start_op	= 0,
	.split_ops	= truth_genl_ops,
	.n_split_ops	= ARRAY_SIZE(truth_genl_ops),
	.mcgrps		= truth_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(truth_mcgrps),
	.module		= THIS_MODULE,
};

/*
 * Events are built only when someone listens, with GFP_ATOMIC because acks
 * (and so commit events) can come from softirq.  A failed allocation loses
 * the event; listeners resynchronise with TRUTH_CMD_GROUP_GET, and the next
 * advance carries the newest commit index anyway.
 */
static struct sk_buff *truth_event_new(struct net *net, u8 cmd, void **hdr)
{
	struct sk_buff *msg;

	if (!genl_has_listeners(&truth_genl_family, net, TRUTH_MCGRP_EVENTS_ID))
		return NULL;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_ATOMIC);
	if (unlikely(!msg))
		return NULL;
	*hdr = genlmsg_put(msg, 0, 0, &truth_genl_family, 0, cmd);
	if (unlikely(!*hdr)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

static void truth_event_send(struct net *net, struct sk_buff *msg, void *hdr)
{
	genlmsg_end(msg, hdr);
	genlmsg_multicast_netns(&truth_genl_family, net, msg, 0,
				TRUTH_MCGRP_EVENTS_ID, GFP_ATOMIC);
}

void truth_event_commit(struct net *net, u32 id, u64 term, u64 commit)
{
	struct sk_buff *msg;
	void *hdr;

	msg = truth_event_new(net, TRUTH_CMD_EVENT_COMMIT, &hdr);
	if (!msg)
		return;
	if (nla_put_u32(msg, TRUTH_A_GROUP_ID, id) ||
	    nla_put_u64_64bit(msg, TRUTH_A_GROUP_TERM, term, TRUTH_A_GROUP_PAD) ||
	    nla_put_u64_64bit(msg, TRUTH_A_GROUP_COMMIT, commit, TRUTH_A_GROUP_PAD)) {
		nlmsg_free(msg);
		return;
	}
	truth_event_send(net, msg, hdr);
}

void truth_event_term(struct net *net, u32 id, u64 term, u32 role)
{
	struct sk_buff *msg;
	void *hdr;

	msg = truth_event_new(net, TRUTH_CMD_EVENT_TERM, &hdr);
	if (!msg)
		return;
	if (nla_put_u32(msg, TRUTH_A_GROUP_ID, id) ||
	    nla_put_u64_64bit(msg, TRUTH_A_GROUP_TERM, term, TRUTH_A_GROUP_PAD) ||
	    nla_put_u32(msg, TRUTH_A_GROUP_ROLE, role)) {
		nlmsg_free(msg);
		return;
	}
	truth_event_send(net, msg, hdr);
}

void truth_event_group_del(struct net *net, u32 id)
{
	struct sk_buff *msg;
	void *hdr;

	msg = truth_event_new(net, TRUTH_CMD_EVENT_GROUP_DEL, &hdr);
	if (!msg)
		return;
	if (nla_put_u32(msg, TRUTH_A_GROUP_ID, id)) {
		nlmsg_free(msg);
		return;
	}
	truth_event_send(net, msg, hdr);
}

int __init truth_genetlink_init(void)
{
	return genl_register_family(&truth_genl_family);
}

/*
 * genl_unregister_family() waits for every handler in flight (it takes the
 * genetlink locks for writing), and dumps hold a module reference, so once
 * it returns no code of ours runs on behalf of netlink any more.
 */
void truth_genetlink_uninit(void)
{
	genl_unregister_family(&truth_genl_family);
}
