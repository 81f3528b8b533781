/* SPDX-License-Identifier: GPL-2.0 */
/*
 * truthctl: shared declarations.  One file per subcommand (wireguard-tools
 * style); each provides `int NAME_main(int argc, char *argv[])`.
 */
#ifndef _TRUTHCTL_CTL_H
#define _TRUTHCTL_CTL_H

#include <stdbool.h>

struct nl_sock;

/* A generic netlink socket bound to the "truth" family of this namespace. */
struct truth_genl {
	struct nl_sock *sock;	/* connected NETLINK_GENERIC socket */
	int family;		/* resolved family id */
};

/*
 * Open the socket and resolve the family.  On failure prints why (module not
 * loaded, no permission, ...) to stderr and returns a negative errno.
 */
int truth_genl_open(struct truth_genl *g);
void truth_genl_close(struct truth_genl *g);

extern const char *prog_name;

#define TRUTH_CTL_VERSION "0.1.0"

int version_main(int argc, char *argv[]);

#endif /* _TRUTHCTL_CTL_H */
