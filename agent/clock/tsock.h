/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * truth tsock: kernel timestamps on a UDP socket (SO_TIMESTAMPING,
 * Documentation/networking/timestamping.rst) for the probe engine.
 *
 * Receive: every datagram comes with its software receive time
 * (SOF_TIMESTAMPING_RX_SOFTWARE, CLOCK_REALTIME).  Transmit: a datagram
 * sent with a nonzero cookie asks, for itself only (a per-send
 * SO_TIMESTAMPING control message), for its software transmit time; the
 * kernel queues it on the error queue keyed by SOF_TIMESTAMPING_OPT_ID,
 * without the packet (OPT_TSONLY).  The key counts the timestamped sends
 * of the socket, so the helper counts them too and maps each key back to
 * its cookie.  A send that fails after the kernel took a key would shift
 * the count: so a TX time is accepted only if it is not older than the
 * CLOCK_REALTIME read just before that send, and after a failed send the
 * helper restarts the keys (OPT_ID off and on resets them) and forgets
 * what was in flight.  A wrong match can therefore only be dropped, never
 * believed.
 *
 * The daemon's own socket gets the same behaviour from
 * truth_tsock_enable(); it then sends Raft datagrams with cookie 0 (no
 * timestamp asked, no key used).  POLLERR on the socket means TX times are
 * waiting: call truth_tsock_read_tx() until it returns 0.
 */
#ifndef _TRUTH_TSOCK_H
#define _TRUTH_TSOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define TRUTH_TSOCK_RING	256	/* timestamped sends remembered */

struct truth_tsock {
	int fd;				/* the UDP socket */
	bool rx_stamps;			/* kernel RX times enabled */
	bool tx_stamps;			/* kernel TX times enabled */
	uint32_t next_key;		/* OPT_ID key of the next timestamped send */
	struct {
		uint64_t cookie;	/* 0: slot free */
		uint32_t key;		/* its OPT_ID key */
		int64_t before;		/* CLOCK_REALTIME just before sending */
	} ring[TRUTH_TSOCK_RING];
	uint64_t tx_matched;		/* TX times handed back */
	uint64_t tx_dropped;		/* TX times matching nothing */
};

/*
 * Enable timestamps on @fd (a UDP socket the caller owns).  0 (s->rx_stamps
 * and s->tx_stamps say what works), or -errno with a reason in @err.
 */
int truth_tsock_enable(struct truth_tsock *s, int fd, char *err, size_t errlen);

/* A new UDP socket bound to @addr, timestamps enabled.  0 or -errno. */
int truth_tsock_open(struct truth_tsock *s, const struct sockaddr *addr,
		     socklen_t addrlen, char *err, size_t errlen);

void truth_tsock_close(struct truth_tsock *s);

/*
 * Send @len bytes to @dst; with @cookie != 0 ask for the TX time.  The
 * byte count, or -errno.
 */
ssize_t truth_tsock_send(struct truth_tsock *s, const void *buf, size_t len,
			 const struct sockaddr *dst, socklen_t dstlen,
			 uint64_t cookie);

/*
 * Receive one datagram (MSG_DONTWAIT).  Its length, or -EAGAIN, or -errno;
 * *rx_stamp and *rx_src (enum truth_wire_tsrc: SOCKET, or NONE when the
 * kernel gave no time) describe its arrival.
 */
ssize_t truth_tsock_recv(struct truth_tsock *s, void *buf, size_t cap,
			 struct sockaddr_storage *src, socklen_t *srclen,
			 int64_t *rx_stamp, uint8_t *rx_src);

/*
 * One TX time from the error queue: 1 with *cookie and *tx_stamp
 * (CLOCK_REALTIME ns, source TRUTH_WIRE_TSRC_SOCKET), 0 when none is
 * waiting, or -errno.  Entries that match no send are counted and skipped.
 */
int truth_tsock_read_tx(struct truth_tsock *s, uint64_t *cookie,
			int64_t *tx_stamp);

#endif /* _TRUTH_TSOCK_H */
