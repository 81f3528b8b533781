/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * truth probe node: one probe engine on its own UDP socket, with the wire
 * codec, the MAC and the replay windows -- what truthd does inside its own
 * loop, packaged for selftests/tools/truth-probe and the host tests.
 *
 *	truth_probe_node_init(&n, &cfg, &clk, bind, key, stamps, err, len)
 *	truth_probe_node_add_peer(&n, id, addr, len)	per peer
 *	loop: truth_probe_node_wait(&n, 1, max_ns); truth_probe_node_pump(&n)
 */
#ifndef _TRUTH_PROBE_NODE_H
#define _TRUTH_PROBE_NODE_H

#include "clock/probe.h"
#include "clock/tsock.h"

struct truth_probe_node_peer {
	uint32_t id;			/* node id */
	struct sockaddr_storage addr;	/* its UDP address */
	socklen_t addrlen;
	struct truth_replay replay;	/* its seq window */
};

struct truth_probe_node {
	struct truth_tsock sock;	/* socket with kernel timestamps */
	struct truth_probe *engine;	/* owned */
	uint8_t key[TRUTH_WIRE_KEY_LEN];	/* group key */
	uint64_t seq;			/* our last seq */
	bool stamps;			/* use kernel timestamps */
	uint32_t npeers;
	struct truth_probe_node_peer peers[TRUTH_PROBE_MAX_PEERS];
	uint64_t rx_bad;		/* datagrams refused (decode, MAC, replay) */
	uint64_t tx_errors;		/* sends that failed */
};

/*
 * @stamps false: no kernel timestamps (the engine falls back to USER
 * readings), to test that path.  0 or -errno with @err.
 */
int truth_probe_node_init(struct truth_probe_node *n,
			  const struct truth_probe_config *cfg,
			  const struct truth_probe_clock *clk,
			  const struct sockaddr *bind, socklen_t bindlen,
			  const uint8_t key[TRUTH_WIRE_KEY_LEN], bool stamps,
			  char *err, size_t errlen);
void truth_probe_node_fini(struct truth_probe_node *n);

int truth_probe_node_add_peer(struct truth_probe_node *n, uint32_t id,
			      const struct sockaddr *addr, socklen_t addrlen);

/* TX times, datagrams in, datagrams out: everything pending.  0 or -errno. */
int truth_probe_node_pump(struct truth_probe_node *n);

/* Wait on @cnt nodes until one has input or a deadline, at most @max_ns. */
int truth_probe_node_wait(struct truth_probe_node *nodes, uint32_t cnt,
			  int64_t max_ns);

/* Parse "HOST:PORT" (IPv4, or [IPv6]:PORT).  0 or -EINVAL. */
int truth_probe_parse_addr(const char *s, struct sockaddr_storage *ss,
			   socklen_t *len);

#endif /* _TRUTH_PROBE_NODE_H */
