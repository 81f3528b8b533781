/* SPDX-License-Identifier: GPL-2.0 */
/*
 * truthctl: shared declarations.  One file per subcommand (wireguard-tools
 * style); each provides `int NAME_main(int argc, char *argv[])`.
 */
#ifndef _TRUTHCTL_CTL_H
#define _TRUTHCTL_CTL_H

#include <stdbool.h>
#include <stddef.h>

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

struct nl_msg;

/*
 * Send @msg (built with truth_genl_msg()) and wait for its answer; every
 * reply goes to @cb.  0 or the kernel's -errno, with the kernel's extack
 * message (if any) in @ext.  @msg is freed.
 */
int truth_genl_call(struct truth_genl *g, struct nl_msg *msg,
		    int (*cb)(struct nl_msg *msg, void *arg), void *arg,
		    char *ext, size_t ext_len);

/* A request for @cmd to the truth family, NLM_F_DUMP if @dump; NULL on ENOMEM. */
struct nl_msg *truth_genl_msg(struct truth_genl *g, int cmd, bool dump);

/* Print "truthctl: WHAT: strerror(-err)[: extack]" to stderr; returns 1. */
int truth_genl_perror(const char *what, int err, const char *ext);

/* Parse an unsigned number with a clear error; 0 or -1. */
int parse_u64(const char *what, const char *s, unsigned long long *out);
int parse_u32(const char *what, const char *s, unsigned int *out);

extern const char *prog_name;

#define TRUTH_CTL_VERSION "0.1.0"

int version_main(int argc, char *argv[]);
int show_main(int argc, char *argv[]);
int group_main(int argc, char *argv[]);
int clock_main(int argc, char *argv[]);
int events_main(int argc, char *argv[]);
int stats_main(int argc, char *argv[]);
int time_main(int argc, char *argv[]);
/* get put del incr lock elect barrier watch: truthd over RESP (coord.c) */
int coord_main(int argc, char *argv[]);
int status_main(int argc, char *argv[]);

#endif /* _TRUTHCTL_CTL_H */
