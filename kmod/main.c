// SPDX-License-Identifier: GPL-2.0
/*
 * truth.ko: init and exit only.  Each subsystem has an init/uninit pair;
 * they are brought up in order and torn down in reverse.
 */

#include <linux/module.h>
#include <net/genetlink.h>
#include <uapi/linux/truth.h>

#include "fastpath.h"
#include "netlink.h"
#include "pernet.h"
#include "version.h"

static int __init truth_mod_init(void)
{
	int ret;

	ret = truth_pernet_init();
	if (ret < 0)
		goto err_pernet;

	/* kfuncs need the per-namespace state; they are gone with our BTF */
	ret = truth_fastpath_init();
	if (ret < 0)
		goto err_fastpath;

	/* last: once the family is registered, requests can arrive */
	ret = truth_genetlink_init();
	if (ret < 0)
		goto err_netlink;

	pr_info("truth %s loaded\n", TRUTH_MODULE_VERSION);
	return 0;

err_netlink:
err_fastpath:
	truth_pernet_uninit();
err_pernet:
	return ret;
}

static void __exit truth_mod_exit(void)
{
	/* first: afterwards no request is in flight and none can start */
	truth_genetlink_uninit();
	truth_pernet_uninit();
	pr_info("truth %s unloaded\n", TRUTH_MODULE_VERSION);
}

module_init(truth_mod_init);
module_exit(truth_mod_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("truth: in-kernel clocks and quorum counting for cluster agreement");
MODULE_AUTHOR("The truth authors");
MODULE_VERSION(TRUTH_MODULE_VERSION);
MODULE_ALIAS_GENL_FAMILY(TRUTH_GENL_NAME);
