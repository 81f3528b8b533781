// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The UDP side of the transport: the socket, the peers, and the checks
 * every received datagram goes through before Raft sees it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/errqueue.h>

#include "transport/transport.h"
#include "transport/tp_int.h"

#define RXBUF	65536

/* Send what truth_tp_cork() queued: one sendmmsg for up to TX_QUEUE datagrams. */
void truth_tp_flush(struct truth_tp *t)
{
	struct mmsghdr mm[TRUTH_TP_TX_QUEUE];
	struct iovec iov[TRUTH_TP_TX_QUEUE];
	uint32_t i, off = 0;
	int n;

	for (i = 0; i < t->n_q; i++) {
		struct truth_tp_peer *p = t->q[i].peer;

		memset(&mm[i], 0, sizeof(mm[i]));
		iov[i].iov_base = t->qbuf + t->q[i].off;
		iov[i].iov_len = t->q[i].len;
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
		mm[i].msg_hdr.msg_name = &p->sa;
		mm[i].msg_hdr.msg_namelen = p->salen;
	}
	while (off < t->n_q) {
		n = sendmmsg(t->fd, mm + off, t->n_q - off, 0);
		if (n < 0 && errno == EINTR)
			continue;
		t->st.tx_batches++;
		if (n <= 0) {
			/* the first one failed (a full buffer is a lost
			 * datagram: Raft resends); go on after it */
			t->st.tx_errors++;
			off++;
			continue;
		}
		for (i = off; i < off + (uint32_t)n; i++) {
			t->st.tx++;
			t->q[i].peer->tx++;
		}
		off += (uint32_t)n;
	}
	t->n_q = 0;
	t->q_used = 0;
}

void truth_tp_cork(struct truth_tp *t)
{
	t->corked = true;
}

void truth_tp_uncork(struct truth_tp *t)
{
	t->corked = false;
	if (t->n_q)
		truth_tp_flush(t);
}

static int emit_sendto(struct truth_tp *t, struct truth_tp_peer *p,
		       const uint8_t *buf, size_t len)
{
	ssize_t n;

	if (t->corked && t->qbuf) {
		if (t->n_q == TRUTH_TP_TX_QUEUE || t->q_used + len > TRUTH_TP_TX_BYTES)
			truth_tp_flush(t);
		memcpy(t->qbuf + t->q_used, buf, len);
		t->q[t->n_q].peer = p;
		t->q[t->n_q].off = t->q_used;
		t->q[t->n_q++].len = (uint32_t)len;
		t->q_used += len;
		return 0;
	}

	do {
		n = sendto(t->fd, buf, len, 0, (const struct sockaddr *)&p->sa,
			   p->salen);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		/* a full socket buffer is a lost datagram: Raft resends */
		t->st.tx_errors++;
		return 0;
	}
	t->st.tx++;
	p->tx++;
	return 0;
}

int truth_tp_init(struct truth_tp *t, uint32_t self, uint32_t group,
		  const uint8_t key[TRUTH_WIRE_KEY_LEN], const char *advert)
{
	struct timespec ts;

	memset(t, 0, sizeof(*t));
	t->fd = -1;
	t->self = self;
	t->group = group;
	memcpy(t->key, key, TRUTH_WIRE_KEY_LEN);
	snprintf(t->advert, sizeof(t->advert), "%s", advert ? advert : "");
	clock_gettime(CLOCK_REALTIME, &ts);
	/* strictly above anything an earlier run used: it started earlier */
	t->seq = truth_wire_seq_start(0, (uint64_t)ts.tv_sec * 1000000000ull +
				      (uint64_t)ts.tv_nsec) - 1;
	t->rxbuf = malloc((size_t)RXBUF * TRUTH_TP_RX_BATCH);
	t->txbuf = malloc(2 * TRUTH_WIRE_DGRAM_MAX);
	t->ents_cap = TRUTH_WIRE_DGRAM_MAX / TRUTH_TP_ENTRY_HDR + 1;
	t->ents = calloc(t->ents_cap, sizeof(*t->ents));
	t->qbuf = malloc(TRUTH_TP_TX_BYTES);
	t->emit = emit_sendto;
	t->msg_max = TRUTH_TP_MSG_DEFAULT;
	if (!t->rxbuf || !t->txbuf || !t->ents || !t->qbuf) {
		truth_tp_fini(t);
		return -ENOMEM;
	}
	return 0;
}

void truth_tp_fini(struct truth_tp *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	free(t->rxbuf);
	free(t->txbuf);
	free(t->ents);
	free(t->qbuf);
	t->qbuf = NULL;
	t->n_q = 0;
	for (unsigned int i = 0; i < TRUTH_TP_MAX_PEERS; i++) {
		free(t->merge[i].e);
		t->merge[i].e = NULL;
		for (unsigned int k = 0; k < TRUTH_TP_FRAG_SLOTS; k++)
			truth_tp_frag_free(t, &t->peers[i].frag[k]);
	}
	t->rxbuf = t->txbuf = NULL;
	t->ents = NULL;
}

int truth_tp_add_peer(struct truth_tp *t, uint32_t id,
		      const struct sockaddr *sa, socklen_t salen)
{
	struct truth_tp_peer *p;

	if (t->n_peers == TRUTH_TP_MAX_PEERS || truth_tp_peer(t, id) ||
	    salen > sizeof(p->sa))
		return -EINVAL;
	p = &t->peers[t->n_peers++];
	memset(p, 0, sizeof(*p));
	p->id = id;
	memcpy(&p->sa, sa, salen);
	p->salen = salen;
	return 0;
}

struct truth_tp_peer *truth_tp_peer(struct truth_tp *t, uint32_t id)
{
	uint32_t i;

	for (i = 0; i < t->n_peers; i++)
		if (t->peers[i].id == id)
			return &t->peers[i];
	return NULL;
}

int truth_tp_bind(struct truth_tp *t, const struct sockaddr *sa, socklen_t salen)
{
	int fd, sz = 8 << 20;

	fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/*
	 * Bursts of APPENDs to several peers, and a 1 MiB entry arriving as
	 * 18 fragments at once: the default 208 KiB drops.  Past
	 * net.core.rmem_max only with CAP_NET_ADMIN (the FORCE options).
	 */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)))
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	if (bind(fd, sa, salen)) {
		int e = -errno;

		close(fd);
		return e;
	}
	t->fd = fd;
	return 0;
}

/* A fragment: held, or the last one of its message, which Raft gets. */
static const char *frag_input(struct truth_tp *t, struct truth_tp_peer *peer,
			      const struct truth_wire_msg *w,
			      truth_tp_deliver_fn fn, void *ctx)
{
	struct truth_tp_frag_slot *s;
	struct raft_msg m;
	const char *why;

	why = truth_tp_frag_input(t, peer, w, &s);
	if (why || !s)
		return why;
	memset(&m, 0, sizeof(m));
	m.from = w->sender;
	m.to = w->receiver;
	m.term = s->term;
	if (truth_tp_decode_append(t, s->index, s->buf,
				   TRUTH_TP_APPEND_FIXED + (size_t)s->total, &m)) {
		truth_tp_frag_free(t, s);
		t->st.rx_bad_payload++;
		return "bad payload";
	}
	t->st.rx_frag_msgs++;
	t->st.rx_ok++;
	fn(ctx, &m);
	truth_tp_frag_free(t, s);
	return NULL;
}

const char *truth_tp_input(struct truth_tp *t, const uint8_t *buf, size_t len,
			   truth_tp_deliver_fn fn, void *ctx)
{
	struct truth_tp_peer *peer;
	struct truth_wire_msg w;
	struct raft_msg m;
	enum truth_wire_err e;

	t->st.rx++;
	if (len > TRUTH_WIRE_DGRAM_MAX) {
		t->st.rx_oversize++;
		return "oversize";
	}
	e = truth_wire_decode(buf, len, t->key, &w);
	if (e == TRUTH_WIRE_E_MAC) {
		t->st.rx_bad_mac++;
		return "bad MAC";
	}
	if (e != TRUTH_WIRE_OK) {
		t->st.rx_malformed++;
		return "malformed";
	}
	if (w.receiver != t->self) {
		t->st.rx_wrong_receiver++;
		return "wrong receiver";
	}
	if (w.group != t->group) {
		t->st.rx_wrong_group++;
		return "wrong group";
	}
	peer = truth_tp_peer(t, w.sender);
	if (!peer || w.sender == t->self) {
		t->st.rx_unknown_sender++;
		return "unknown sender";
	}
	if (!truth_replay_accept(&peer->replay, w.seq)) {
		t->st.rx_replay++;
		return "replay";
	}
	if (w.lamport > t->lamport)
		t->lamport = w.lamport;
	if (t->hlc && w.hlc)
		t->hlc(t->hlc_ctx, w.hlc);
	peer->rx++;
	peer->last_rx_us = t->now_us;
	if (w.type == TRUTH_WIRE_PROBE || w.type == TRUTH_WIRE_PROBE_REPLY) {
		t->st.rx_probe++;
		if (t->probe)
			t->probe(t->probe_ctx, &w, buf, len);
		return NULL;
	}
	if (w.type == TRUTH_WIRE_FORWARD) {
		t->st.rx_forward++;
		return "forward unsupported";
	}
	if (truth_tp_is_frag(&w))
		return frag_input(t, peer, &w, fn, ctx);
	if (truth_tp_decode(t, peer, &w, &m)) {
		t->st.rx_bad_payload++;
		return "bad payload";
	}
	t->st.rx_ok++;
	fn(ctx, &m);
	return NULL;
}

/* The SO_TIMESTAMPING software receive time of one datagram, if any. */
static void rx_stamp(struct truth_tp *t, struct msghdr *mh)
{
	struct scm_timestamping tss;
	struct cmsghdr *cm;

	t->rx_stamp = 0;
	t->rx_src = TRUTH_WIRE_TSRC_NONE;
	for (cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_TIMESTAMPING)
			continue;
		memcpy(&tss, CMSG_DATA(cm), sizeof(tss));
		if (tss.ts[0].tv_sec || tss.ts[0].tv_nsec) {
			t->rx_stamp = (int64_t)tss.ts[0].tv_sec * 1000000000LL +
				      tss.ts[0].tv_nsec;
			t->rx_src = TRUTH_WIRE_TSRC_SOCKET;
		}
	}
}

int truth_tp_recv(struct truth_tp *t, truth_tp_deliver_fn fn, void *ctx)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct scm_timestamping)) + 64];
		struct cmsghdr align;
	} ctl[TRUTH_TP_RX_BATCH];
	struct mmsghdr mm[TRUTH_TP_RX_BATCH];
	struct iovec iov[TRUTH_TP_RX_BATCH];
	int got = 0, n, i;

	/* bounded, so a flood cannot starve clients and ticks */
	while (got < 256) {
		memset(mm, 0, sizeof(mm));
		for (i = 0; i < TRUTH_TP_RX_BATCH; i++) {
			iov[i].iov_base = t->rxbuf + (size_t)i * RXBUF;
			iov[i].iov_len = RXBUF;
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
			mm[i].msg_hdr.msg_control = ctl[i].buf;
			mm[i].msg_hdr.msg_controllen = sizeof(ctl[i].buf);
		}
		n = recvmmsg(t->fd, mm, TRUTH_TP_RX_BATCH, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (i = 0; i < n; i++) {
			size_t len = mm[i].msg_len;

			/* truncated: longer than the buffer, so over DGRAM_MAX */
			if (mm[i].msg_hdr.msg_flags & MSG_TRUNC)
				len = RXBUF + 1;
			rx_stamp(t, &mm[i].msg_hdr);
			truth_tp_input(t, iov[i].iov_base, len, fn, ctx);
		}
		got += n;
		if (n < TRUTH_TP_RX_BATCH)
			break;
	}
	return got;
}
