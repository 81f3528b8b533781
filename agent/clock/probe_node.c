// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * truth probe node: an engine, a timestamping socket and the wire codec
 * (probe_node.h).  The order in truth_probe_node_pump() matters: TX times
 * are read before datagrams, so a reply never overtakes the precise T1 of
 * its own probe.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock/probe_node.h"

int truth_probe_node_init(struct truth_probe_node *n,
			  const struct truth_probe_config *cfg,
			  const struct truth_probe_clock *clk,
			  const struct sockaddr *bind, socklen_t bindlen,
			  const uint8_t key[TRUTH_WIRE_KEY_LEN], bool stamps,
			  char *err, size_t errlen)
{
	struct truth_probe_config c = *cfg;
	struct timespec ts;
	int ret;

	memset(n, 0, sizeof(*n));
	n->sock.fd = -1;
	ret = truth_tsock_open(&n->sock, bind, bindlen, err, errlen);
	if (ret)
		return ret;
	n->stamps = stamps && n->sock.rx_stamps;
	c.two_step = n->stamps && n->sock.tx_stamps;
	n->engine = truth_probe_new(&c, clk, err, errlen);
	if (!n->engine) {
		truth_tsock_close(&n->sock);
		return -EINVAL;
	}
	memcpy(n->key, key, TRUTH_WIRE_KEY_LEN);
	clock_gettime(CLOCK_REALTIME, &ts);
	n->seq = truth_wire_seq_start(0, (uint64_t)ts.tv_sec * 1000000000ULL +
				      (uint64_t)ts.tv_nsec);
	return 0;
}

void truth_probe_node_fini(struct truth_probe_node *n)
{
	truth_probe_free(n->engine);
	n->engine = NULL;
	truth_tsock_close(&n->sock);
}

int truth_probe_node_add_peer(struct truth_probe_node *n, uint32_t id,
			      const struct sockaddr *addr, socklen_t addrlen)
{
	struct truth_probe_node_peer *p;
	int ret;

	if (n->npeers == TRUTH_PROBE_MAX_PEERS || addrlen > sizeof(p->addr))
		return -ENOSPC;
	ret = truth_probe_peer_add(n->engine, id);
	if (ret)
		return ret;
	p = &n->peers[n->npeers++];
	memset(p, 0, sizeof(*p));
	p->id = id;
	memcpy(&p->addr, addr, addrlen);
	p->addrlen = addrlen;
	return 0;
}

static struct truth_probe_node_peer *node_peer(struct truth_probe_node *n,
					       uint32_t id)
{
	uint32_t i;

	for (i = 0; i < n->npeers; i++)
		if (n->peers[i].id == id)
			return &n->peers[i];
	return NULL;
}

static void send_out(struct truth_probe_node *n, struct truth_probe_out *o)
{
	struct truth_probe_node_peer *p = node_peer(n, o->msg.receiver);
	uint8_t buf[512];
	int len;

	if (!p)
		return;
	o->msg.seq = ++n->seq;
	len = truth_wire_encode(buf, sizeof(buf), &o->msg, n->key);
	if (len < 0 ||
	    truth_tsock_send(&n->sock, buf, (size_t)len,
			     (struct sockaddr *)&p->addr, p->addrlen,
			     n->stamps ? o->tx_cookie : 0) < 0)
		n->tx_errors++;
}

int truth_probe_node_pump(struct truth_probe_node *n)
{
	struct truth_probe_out out;
	struct truth_wire_msg m;
	uint8_t buf[TRUTH_WIRE_DGRAM_MAX];
	uint64_t cookie;
	int64_t stamp;
	uint8_t src;
	ssize_t len;
	int ret;

	for (;;) {
		while ((ret = truth_tsock_read_tx(&n->sock, &cookie, &stamp)) > 0)
			truth_probe_on_tx_time(n->engine, cookie, stamp,
					       TRUTH_WIRE_TSRC_SOCKET);
		if (ret < 0)
			return ret;
		len = truth_tsock_recv(&n->sock, buf, sizeof(buf), NULL, NULL,
				       &stamp, &src);
		if (len == -EAGAIN)
			break;
		if (len < 0) {
			n->rx_bad++;
			continue;
		}
		if (!n->stamps)
			src = TRUTH_WIRE_TSRC_NONE;
		if (truth_wire_decode(buf, (size_t)len, n->key, &m) == TRUTH_WIRE_OK &&
		    node_peer(n, m.sender) &&
		    truth_replay_accept(&node_peer(n, m.sender)->replay, m.seq))
			truth_probe_on_datagram(n->engine, &m, stamp, src);
		else
			n->rx_bad++;
		/* answer at once: the server's hold time is part of the delay */
		while (truth_probe_next(n->engine, &out) > 0)
			send_out(n, &out);
	}
	while (truth_probe_next(n->engine, &out) > 0)
		send_out(n, &out);
	return 0;
}

int truth_probe_node_wait(struct truth_probe_node *nodes, uint32_t cnt,
			  int64_t max_ns)
{
	struct pollfd pfd[64];
	int64_t wait = max_ns, d;
	uint32_t i;

	if (cnt > 64)
		return -EINVAL;
	for (i = 0; i < cnt; i++) {
		pfd[i].fd = nodes[i].sock.fd;
		pfd[i].events = POLLIN;
		pfd[i].revents = 0;
		d = truth_probe_deadline(nodes[i].engine);
		if (d == INT64_MAX)
			continue;
		d = d == INT64_MIN ? 0 : d - truth_probe_local_now(nodes[i].engine);
		if (d < wait)
			wait = d < 0 ? 0 : d;
	}
	/* round up: waking early only spins */
	return poll(pfd, cnt, (int)((wait + 999999) / 1000000));
}

int truth_probe_parse_addr(const char *s, struct sockaddr_storage *ss,
			   socklen_t *len)
{
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	char host[64];
	const char *colon;
	char *end;
	unsigned long port;
	size_t hl;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		colon = strstr(s, "]:");
		if (!colon)
			return -EINVAL;
		hl = (size_t)(colon - s - 1);
		s++;
		colon++;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hl);
	host[hl] = 0;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || !colon[1] || port > 65535)
		return -EINVAL;
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		*len = sizeof(*a4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a6);
		return 0;
	}
	return -EINVAL;
}
