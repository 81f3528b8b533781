/* SPDX-License-Identifier: GPL-2.0 */
/* Reading and printing replies, shared by the netlink subcommands. */
#ifndef _TRUTHCTL_PRINT_H
#define _TRUTHCTL_PRINT_H

#include <stdbool.h>

#include <netlink/attr.h>
#include <linux/truth.h>

struct nl_msg;

static inline unsigned int nla_u32_or(struct nlattr *a)
{
	return a ? nla_get_u32(a) : 0;
}

static inline unsigned long long nla_u64_or(struct nlattr *a)
{
	return a ? (unsigned long long)nla_get_u64(a) : 0;
}

const char *role_name(unsigned int role);
int role_parse(const char *s, unsigned int *role);

/* A clock command's reply. */
struct clock_reply {
	unsigned long long lamport, hlc, max_offset;
	bool has_group;
	unsigned int group_id, n;
	struct {
		unsigned int node;
		unsigned long long counter;
	} vc[TRUTH_VCLOCK_MAX];
};

int clock_parse(struct nl_msg *msg, void *arg);
void clock_print(const struct clock_reply *c, bool json);

#endif /* _TRUTHCTL_PRINT_H */
