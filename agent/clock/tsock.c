// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * truth tsock: SO_TIMESTAMPING on a UDP socket (tsock.h says why it is
 * built this way).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/truth.h>

#include "clock/tsock.h"

#define SOCK_FLAGS	(SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE | \
			 SOF_TIMESTAMPING_OPT_ID | SOF_TIMESTAMPING_OPT_TSONLY)

static int64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

/* Set the socket-wide flags; OPT_ID newly set restarts the keys at 0. */
static int set_flags(int fd, unsigned int flags)
{
	return setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof(flags));
}

int truth_tsock_enable(struct truth_tsock *s, int fd, char *err, size_t errlen)
{
	memset(s, 0, sizeof(*s));
	s->fd = fd;
	if (set_flags(fd, SOCK_FLAGS)) {
		int e = errno;

		snprintf(err, errlen, "SO_TIMESTAMPING: %s", strerror(e));
		return -e;
	}
	s->rx_stamps = true;
	s->tx_stamps = true;
	return 0;
}

int truth_tsock_open(struct truth_tsock *s, const struct sockaddr *addr,
		     socklen_t addrlen, char *err, size_t errlen)
{
	int fd = socket(addr->sa_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int ret;

	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "socket: %s", strerror(-ret));
		return ret;
	}
	if (bind(fd, addr, addrlen)) {
		ret = -errno;
		snprintf(err, errlen, "bind: %s", strerror(-ret));
		close(fd);
		return ret;
	}
	ret = truth_tsock_enable(s, fd, err, errlen);
	if (ret) {
		close(fd);
		s->fd = -1;
	}
	return ret;
}

void truth_tsock_close(struct truth_tsock *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

/* Keys may have shifted: restart them and forget the sends in flight. */
static void restart_keys(struct truth_tsock *s)
{
	memset(s->ring, 0, sizeof(s->ring));
	s->next_key = 0;
	if (set_flags(s->fd, SOCK_FLAGS & ~SOF_TIMESTAMPING_OPT_ID) ||
	    set_flags(s->fd, SOCK_FLAGS))
		s->tx_stamps = false;
}

ssize_t truth_tsock_send(struct truth_tsock *s, const void *buf, size_t len,
			 const struct sockaddr *dst, socklen_t dstlen,
			 uint64_t cookie)
{
	union {
		char buf[CMSG_SPACE(sizeof(unsigned int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr mh = {
		.msg_name = (void *)dst, .msg_namelen = dstlen,
		.msg_iov = &iov, .msg_iovlen = 1,
	};
	bool stamp = cookie && s->tx_stamps;
	unsigned int *flags;
	struct cmsghdr *cm;
	int64_t before = 0;
	ssize_t n;

	if (stamp) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SO_TIMESTAMPING;
		cm->cmsg_len = CMSG_LEN(sizeof(unsigned int));
		flags = (unsigned int *)CMSG_DATA(cm);
		*flags = SOF_TIMESTAMPING_TX_SOFTWARE;
		before = realtime_ns();
	}
	n = sendmsg(s->fd, &mh, 0);
	if (n < 0) {
		n = -errno;
		if (stamp)
			restart_keys(s);
		return n;
	}
	if (stamp) {
		uint32_t slot = s->next_key % TRUTH_TSOCK_RING;

		s->ring[slot].cookie = cookie;
		s->ring[slot].key = s->next_key++;
		s->ring[slot].before = before;
	}
	return n;
}

ssize_t truth_tsock_recv(struct truth_tsock *s, void *buf, size_t cap,
			 struct sockaddr_storage *src, socklen_t *srclen,
			 int64_t *rx_stamp, uint8_t *rx_src)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct scm_timestamping)) + 64];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = buf, .iov_len = cap };
	struct msghdr mh = {
		.msg_name = src, .msg_namelen = sizeof(*src),
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *cm;
	ssize_t n;

	*rx_src = TRUTH_WIRE_TSRC_NONE;
	*rx_stamp = 0;
	n = recvmsg(s->fd, &mh, MSG_DONTWAIT);
	if (n < 0)
		return -errno;
	if (srclen)
		*srclen = mh.msg_namelen;
	if (mh.msg_flags & MSG_TRUNC)
		return -EMSGSIZE;
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		struct scm_timestamping tss;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_TIMESTAMPING)
			continue;
		memcpy(&tss, CMSG_DATA(cm), sizeof(tss));
		if (tss.ts[0].tv_sec || tss.ts[0].tv_nsec) {
			*rx_stamp = ts_ns(&tss.ts[0]);
			*rx_src = TRUTH_WIRE_TSRC_SOCKET;
		}
	}
	return n;
}

int truth_tsock_read_tx(struct truth_tsock *s, uint64_t *cookie,
			int64_t *tx_stamp)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct scm_timestamping)) +
			 CMSG_SPACE(sizeof(struct sock_extended_err) +
				    sizeof(struct sockaddr_in6)) + 64];
		struct cmsghdr align;
	} ctl;
	char data[64];
	struct iovec iov = { .iov_base = data, .iov_len = sizeof(data) };
	struct msghdr mh;
	struct cmsghdr *cm;

	for (;;) {
		struct sock_extended_err ee = { 0 };
		bool have_ts = false, have_ee = false;
		struct scm_timestamping tss;
		int64_t t = 0;
		uint32_t slot;

		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		if (recvmsg(s->fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			return errno == EAGAIN ? 0 : -errno;
		for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
			if (cm->cmsg_level == SOL_SOCKET &&
			    cm->cmsg_type == SCM_TIMESTAMPING) {
				memcpy(&tss, CMSG_DATA(cm), sizeof(tss));
				t = ts_ns(&tss.ts[0]);
				have_ts = t != 0;
			} else if ((cm->cmsg_level == SOL_IP &&
				    cm->cmsg_type == IP_RECVERR) ||
				   (cm->cmsg_level == SOL_IPV6 &&
				    cm->cmsg_type == IPV6_RECVERR)) {
				memcpy(&ee, CMSG_DATA(cm), sizeof(ee));
				have_ee = ee.ee_origin == SO_EE_ORIGIN_TIMESTAMPING &&
					  ee.ee_info == SCM_TSTAMP_SND;
			}
		}
		if (!have_ts || !have_ee) {
			s->tx_dropped++;
			continue;
		}
		slot = ee.ee_data % TRUTH_TSOCK_RING;
		if (!s->ring[slot].cookie || s->ring[slot].key != ee.ee_data ||
		    t < s->ring[slot].before) {
			s->tx_dropped++;
			continue;
		}
		*cookie = s->ring[slot].cookie;
		*tx_stamp = t;
		s->ring[slot].cookie = 0;
		s->tx_matched++;
		return 1;
	}
}
