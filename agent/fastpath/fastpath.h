/* SPDX-License-Identifier: GPL-2.0 */
/*
 * truth_fastpath: the loader of bpf/truth.bpf.c.  Attaches its tc ingress
 * and egress programs to the interfaces the agent uses, so that truth.ko
 * counts ACKs and stamps clocks (Documentation/fastpath.md).
 *
 *   char err[256];
 *   const char *ifs[] = { "eth0" };
 *   struct truth_fastpath *fp = truth_fastpath_attach(ifs, 1, 7410, err, sizeof(err));
 *   if (!fp)
 *           fprintf(stderr, "fast path off: %s\n", err);   (fall back to user space)
 *   ...
 *   truth_fastpath_detach(fp);
 */
#ifndef TRUTH_AGENT_FASTPATH_H
#define TRUTH_AGENT_FASTPATH_H

#include <stddef.h>
#include <stdint.h>

struct truth_fastpath;

/*
 * Loads the programs for UDP @port and attaches them at tc ingress and
 * egress of the @n interfaces @ifnames (creating the clsact qdisc where
 * there is none).  Idempotent: the filters sit at a fixed handle and
 * priority (TRUTH_FASTPATH_HANDLE, _PRIO) and an existing one there is
 * replaced, never doubled.  NULL on failure with a reason in @err, e.g.
 * "truth.ko is not loaded", "truth.ko has no BTF", "no permission", and
 * nothing left attached.
 */
struct truth_fastpath *truth_fastpath_attach(const char *const *ifnames, int n,
					     uint16_t port, char *err,
					     size_t errlen);

/* Detaches the filters, removes the qdiscs it created, frees @fp (or NULL). */
void truth_fastpath_detach(struct truth_fastpath *fp);

/*
 * Frees @fp and leaves the filters attached (tc holds the programs): for a
 * by-hand attach that outlives the process.  truth_fastpath_remove() takes
 * them off again.
 */
void truth_fastpath_release(struct truth_fastpath *fp);

/*
 * Removes the fast-path filters (whoever attached them) from the @n
 * interfaces @ifnames, leaving the clsact qdiscs: for a crashed agent, or a
 * by-hand attach.  0, or -errno with a reason in @err; an interface
 * without the filters is not an error.
 */
int truth_fastpath_remove(const char *const *ifnames, int n, char *err,
			  size_t errlen);

/* Where the filters sit on every interface. */
#define TRUTH_FASTPATH_HANDLE	0x7472	/* "tr" */
#define TRUTH_FASTPATH_PRIO	0x7472

#endif /* TRUTH_AGENT_FASTPATH_H */
