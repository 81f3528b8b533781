// SPDX-License-Identifier: GPL-2.0
/*
 * The generic netlink family "truth".  See include/uapi/linux/truth.h for the
 * API and Documentation/netlink/specs/truth.yaml for its YNL description.
 */

#include <linux/kernel.h>
#include <net/genetlink.h>
#include <uapi/linux/truth.h>

#include "netlink.h"
#include "version.h"

static struct genl_family truth_genl_family;

/* GET_VERSION takes no attributes: an empty policy rejects any it is sent. */
static const struct nla_policy truth_version_policy[TRUTH_A_VERSION_MAX + 1] = {
	[TRUTH_A_VERSION_GENL]		= { .type = NLA_REJECT },
	[TRUTH_A_VERSION_MODULE]	= { .type = NLA_REJECT },
	[TRUTH_A_VERSION_WIRE]		= { .type = NLA_REJECT },
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

static const struct genl_ops truth_genl_ops[] = {
	{
		.cmd		= TRUTH_CMD_GET_VERSION,
		.doit		= truth_get_version,
		.policy		= truth_version_policy,
		.maxattr	= TRUTH_A_VERSION_MAX,
	},
};

static struct genl_family truth_genl_family __ro_after_init = {
	.name		= TRUTH_GENL_NAME,
	.version	= TRUTH_GENL_VERSION,
	.netnsok	= true,
	.parallel_ops	= true,
	.resv_start_op	= 0,
	.ops		= truth_genl_ops,
	.n_ops		= ARRAY_SIZE(truth_genl_ops),
	.module		= THIS_MODULE,
};

int __init truth_genetlink_init(void)
{
	return genl_register_family(&truth_genl_family);
}

void truth_genetlink_uninit(void)
{
	genl_unregister_family(&truth_genl_family);
}
