// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The eBPF fast path in truthd: with fast_path = auto or kernel and the
 * counter on truth.ko's group, attach bpf/truth.bpf.c to the interface
 * that owns peer_listen's address, so followers' ACKs are counted (and
 * dropped) by the leader's kernel (Documentation/fastpath.md).
 *
 * Those ACKs then never reach Raft, which still needs each follower's
 * match index: to send it only what it lacks (its in-flight window would
 * otherwise fill and fall back to probing), to tell it in heartbeats what
 * it may commit, and to pick snapshots.  fp_tick() reads the kernel
 * group's match indexes and hands every advance to Raft as the success
 * APPEND_RESP the kernel swallowed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "fastpath/fastpath.h"
#include "log/log.h"
#include "truthd/truthd.h"

#define FP_MAX_IFS	16

/* Does @ifa carry @sa's address (any address when @sa is the wildcard)? */
static bool if_owns(const struct ifaddrs *ifa, const struct sockaddr_storage *sa)
{
	if (!ifa->ifa_addr || ifa->ifa_addr->sa_family != sa->ss_family)
		return false;
	if (sa->ss_family == AF_INET) {
		const struct in_addr *a = &((const struct sockaddr_in *)sa)->sin_addr;
		const struct in_addr *b = &((const struct sockaddr_in *)ifa->ifa_addr)->sin_addr;

		return a->s_addr == htonl(INADDR_ANY) || a->s_addr == b->s_addr;
	}
	if (sa->ss_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		const struct in6_addr *b = &((const struct sockaddr_in6 *)ifa->ifa_addr)->sin6_addr;

		return IN6_IS_ADDR_UNSPECIFIED(a) || !memcmp(a, b, sizeof(*a));
	}
	return false;
}

/* The interfaces that carry peer traffic; 0 or -errno with a reason. */
static int peer_ifs(struct truthd *d, char names[][IF_NAMESIZE], int *n,
		    char *err, size_t errlen)
{
	struct ifaddrs *all, *ifa;
	int i;

	*n = 0;
	if (getifaddrs(&all)) {
		snprintf(err, errlen, "getifaddrs: %s", strerror(errno));
		return -errno;
	}
	for (ifa = all; ifa; ifa = ifa->ifa_next) {
		if (!if_owns(ifa, &d->conf.peer_listen.sa))
			continue;
		for (i = 0; i < *n && strcmp(names[i], ifa->ifa_name); i++)
			;
		if (i < *n || *n == FP_MAX_IFS)
			continue;
		snprintf(names[(*n)++], IF_NAMESIZE, "%s", ifa->ifa_name);
	}
	freeifaddrs(all);
	if (!*n) {
		snprintf(err, errlen, "no interface owns peer_listen's address %s",
			 d->conf.peer_listen.text);
		return -ENODEV;
	}
	return 0;
}

static uint16_t peer_port(struct truthd *d)
{
	const struct sockaddr_storage *sa = &d->conf.peer_listen.sa;

	if (sa->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return ntohs(((const struct sockaddr_in *)sa)->sin_port);
}

/*
 * After count_open(): attach when the counter counts in the kernel.  0, or
 * -errno when fast_path = kernel and the attach failed (the reason logged).
 */
int fp_open(struct truthd *d)
{
	char names[FP_MAX_IFS][IF_NAMESIZE], err[256] = "";
	const char *ifs[FP_MAX_IFS];
	int n = 0, i, ret;

	if (d->conf.fast_path == TRUTH_CONF_FAST_USER)
		return 0;
	if (truth_counter_path(d->counter) == TRUTH_COUNTER_PATH_USER) {
		snprintf(err, sizeof(err), "counting is in user space");
		ret = -EOPNOTSUPP;
		goto fail;
	}
	ret = peer_ifs(d, names, &n, err, sizeof(err));
	if (ret)
		goto fail;
	for (i = 0; i < n; i++)
		ifs[i] = names[i];
	d->fp = truth_fastpath_attach(ifs, n, peer_port(d), err, sizeof(err));
	if (!d->fp) {
		ret = -EIO;
		goto fail;
	}
	ret = truth_counter_set_fastpath(d->counter, true);
	if (ret) {
		snprintf(err, sizeof(err), "%s", truth_counter_error(d->counter));
		truth_fastpath_detach(d->fp);
		d->fp = NULL;
		goto fail;
	}
	log_info("fast path attached on %s%s (UDP port %u): the kernel counts ACKs",
		 names[0], n > 1 ? " and more" : "", peer_port(d));
	return 0;
fail:
	if (d->conf.fast_path == TRUTH_CONF_FAST_KERNEL) {
		log_err("fast path: %s (fast_path = kernel)", err);
		return ret;
	}
	log_info("fast path off: %s; counting:%s", err, count_path(d));
	return 0;
}

/* Before count_close(): the filters come off, the counter is kernel again. */
void fp_close(struct truthd *d)
{
	if (!d->fp)
		return;
	truth_fastpath_detach(d->fp);
	d->fp = NULL;
	if (d->counter)
		truth_counter_set_fastpath(d->counter, false);
	log_info("fast path detached");
}

/*
 * While leading with the fast path: every follower's match index the
 * kernel learned goes to Raft as the APPEND_RESP it did not see.
 */
void fp_tick(struct truthd *d)
{
	uint64_t term = raft_term(d->raft), last = raft_last_index(d->raft);
	struct raft_msg m;
	uint32_t i;

	if (!d->fp || raft_role(d->raft) != RAFT_LEADER || !d->count_leader ||
	    d->count_term != term)
		return;
	if (d->fp_term != term) {
		memset(d->fp_match, 0, sizeof(d->fp_match));
		d->fp_term = term;
	}
	for (i = 0; i < d->conf.n_peers && i < TRUTH_CONF_MAX_PEERS; i++) {
		uint32_t id = d->conf.peers[i].id;
		uint64_t match;

		if (id == d->conf.node_id ||
		    truth_counter_match(d->counter, id, &match) ||
		    match <= d->fp_match[i] || match > last)
			continue;
		d->fp_match[i] = match;
		memset(&m, 0, sizeof(m));
		m.type = RAFT_MSG_APPEND_RESP;
		m.from = id;
		m.to = d->conf.node_id;
		m.term = term;
		m.match_index = match;
		m.prev_index = match;
		raft_step(d->raft, &m);
		if (raft_role(d->raft) != RAFT_LEADER)
			return;
	}
}
