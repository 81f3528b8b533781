/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _TRUTH_NETLINK_H
#define _TRUTH_NETLINK_H

#include <net/genetlink.h>
#include <uapi/linux/truth.h>

extern struct genl_family truth_genl_family;

/*
 * A required attribute: if absent, mark it missing for the extack and say
 * which in the message.  True when missing.  (The local must not be called
 * __info: GENL_REQ_ATTR_CHECK declares one and would initialise it from
 * itself.)
 */
#define TRUTH_NL_REQUIRE(info, attr) ({					\
	struct genl_info *__truth_info = (info);			\
	bool __missing = GENL_REQ_ATTR_CHECK(__truth_info, attr);	\
									\
	if (__missing)							\
		GENL_SET_ERR_MSG(__truth_info, "missing attribute " #attr); \
	__missing;							\
})

static inline u32 truth_nla_get_u32_or(const struct nlattr *nla, u32 dflt)
{
	return nla ? nla_get_u32(nla) : dflt;
}

/* Attribute policies shared between netlink.c and the handlers. */
extern const struct nla_policy truth_member_policy[TRUTH_A_MEMBER_MAX + 1];
extern const struct nla_policy truth_vclock_policy[TRUTH_A_VCLOCK_MAX + 1];

/* Handlers, netlink_group.c */
int truth_nl_group_new(struct sk_buff *skb, struct genl_info *info);
int truth_nl_group_set(struct sk_buff *skb, struct genl_info *info);
int truth_nl_group_del(struct sk_buff *skb, struct genl_info *info);
int truth_nl_group_get(struct sk_buff *skb, struct genl_info *info);
int truth_nl_group_dump(struct sk_buff *skb, struct netlink_callback *cb);
int truth_nl_group_ack(struct sk_buff *skb, struct genl_info *info);
int truth_nl_stats_get(struct sk_buff *skb, struct genl_info *info);
int truth_nl_stats_reset(struct sk_buff *skb, struct genl_info *info);

/* Handlers, netlink_clock.c */
int truth_nl_clock_get(struct sk_buff *skb, struct genl_info *info);
int truth_nl_clock_tick(struct sk_buff *skb, struct genl_info *info);
int truth_nl_clock_merge(struct sk_buff *skb, struct genl_info *info);
int truth_nl_clock_set(struct sk_buff *skb, struct genl_info *info);

/* Events to the "events" multicast group; safe in atomic context. */
void truth_event_commit(struct net *net, u32 id, u64 term, u64 commit);
void truth_event_term(struct net *net, u32 id, u64 term, u32 role);
void truth_event_group_del(struct net *net, u32 id);

int truth_genetlink_init(void);
void truth_genetlink_uninit(void);

#endif /* _TRUTH_NETLINK_H */
