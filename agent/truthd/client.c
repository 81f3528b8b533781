// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * RESP clients: TCP and Unix listeners, one struct conn per connection.
 *
 * A write or a linearizable read is deferred (the session stops feeding
 * right after it) until Raft resolves it: a write when its entry is
 * applied (committed on a quorum), a read once the state machine reached
 * its read index.  Then the reply is appended, the rest of the input fed,
 * and the output written.  Input is not read while a command waits, so a
 * pipelining client is held back by TCP, not by our memory.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log/log.h"
#include "truthd/truthd.h"

#define READ_CHUNK	(64 << 10)
#define CLIENT_IN_MAX	(1 << 20)	/* input held while a command waits */

bool queue_push(struct conn ***q, size_t *len, size_t *cap, struct conn *c)
{
	if (*len == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		struct conn **n = realloc(*q, nc * sizeof(**q));

		if (!n)
			return false;
		*q = n;
		*cap = nc;
	}
	(*q)[(*len)++] = c;
	return true;
}

static void conn_free(struct truthd *d, struct conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		d->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	d->n_conns--;
	truth_resp_session_fini(&c->s);
	truth_resp_out_free(&c->cw_out);	/* a commit-wait reply never sent */
	free(c->in);
	free(c);
}

/* Close the socket now; the struct stays while Raft may still answer it. */
static void conn_close(struct truthd *d, struct conn *c)
{
	if (c->ev.fd >= 0) {
		truth_ev_del(&d->loop, &c->ev);
		close(c->ev.fd);
		c->ev.fd = -1;
		coord_conn_gone(d, c);
	}
	/* a blocked request is in no queue; nobody is left to answer */
	if (c->wait == WAIT_BLOCKED)
		c->wait = WAIT_NONE;
	if (c->wait != WAIT_NONE || c->resume)
		c->zombie = true;
	else
		conn_free(d, c);
}

static void conn_update_events(struct truthd *d, struct conn *c)
{
	uint32_t ev = 0;

	/* keep reading while a command waits (no epoll_ctl per command);
	 * stop only when a pipelining client got far ahead */
	if (!c->s.closing && !c->eof && c->in_len < CLIENT_IN_MAX)
		ev |= EPOLLIN;
	if (c->s.out.len)
		ev |= EPOLLOUT;
	truth_ev_mod(&d->loop, &c->ev, ev);
}

/* Write what we can; false if the connection was closed. */
static bool conn_flush(struct truthd *d, struct conn *c)
{
	while (c->s.out.len) {
		ssize_t n = write(c->ev.fd, c->s.out.buf, c->s.out.len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			conn_close(d, c);
			return false;
		}
		truth_resp_out_consume(&c->s.out, (size_t)n);
	}
	if (c->s.out.len > d->conf.client_output_limit) {
		log_warn("client %llu: %zu bytes of replies unread, over client_output_limit; closing",
			 (unsigned long long)c->s.id, c->s.out.len);
		conn_close(d, c);
		return false;
	}
	if ((c->s.closing || c->eof) && !c->s.out.len && c->wait == WAIT_NONE) {
		conn_close(d, c);
		return false;
	}
	conn_update_events(d, c);
	return true;
}

static void conn_feed(struct truthd *d, struct conn *c)
{
	struct truth_resp_handler h = {
		.execute = client_execute,
		.info = info_truth,
		.time_now = clock_time_now,
		.ctx = c,
		.node_id = d->conf.node_id,
		.leader = raft_role(d->raft) == RAFT_LEADER,
	};
	size_t used;

	if (!c->in_len || c->wait != WAIT_NONE)
		return;
	used = truth_resp_session_feed(&c->s, c->in, c->in_len, &h);
	memmove(c->in, c->in + used, c->in_len - used);
	c->in_len -= used;
}

static void conn_event(struct truth_ev *ev, uint32_t events)
{
	struct conn *c = ev->arg;
	struct truthd *d = c->d;

	if (events & EPOLLIN && !c->eof && c->in_len < CLIENT_IN_MAX) {
		ssize_t n;

		if (c->in_cap - c->in_len < READ_CHUNK) {
			size_t cap = c->in_len + READ_CHUNK;
			uint8_t *nb = realloc(c->in, cap);

			if (!nb) {
				conn_close(d, c);
				return;
			}
			c->in = nb;
			c->in_cap = cap;
		}
		n = read(c->ev.fd, c->in + c->in_len, c->in_cap - c->in_len);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			conn_close(d, c);
			return;
		}
		if (n == 0) {
			/*
			 * The client is done sending (a shutdown, as nc does),
			 * maybe not done reading: what it sent is still answered,
			 * a write once committed, then the connection closes.
			 */
			c->eof = true;
		}
		if (n > 0) {
			c->in_len += (size_t)n;
			conn_feed(d, c);
		}
	} else if (events & (EPOLLHUP | EPOLLERR) && !(events & EPOLLOUT)) {
		conn_close(d, c);
		return;
	}
	conn_flush(d, c);
}

static void accept_event(struct truth_ev *ev, uint32_t events)
{
	struct truthd *d = ev->arg;
	static const char full[] = "-ERR max number of clients reached\r\n";
	struct conn *c;
	int fd, one = 1;

	for (;;) {
		fd = accept4(ev->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if (d->n_conns >= d->conf.max_clients) {
			/* best effort: the client is refused either way */
			ssize_t w = write(fd, full, sizeof(full) - 1);

			(void)w;
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = calloc(1, sizeof(*c));
		if (!c || truth_resp_session_init(&c->s, ++d->next_client_id, NULL)) {
			free(c);
			close(fd);
			continue;
		}
		c->d = d;
		c->own_client = coord_new_client(d);
		c->next = d->conns;
		if (d->conns)
			d->conns->prev = c;
		d->conns = c;
		d->n_conns++;
		if (truth_ev_add(&d->loop, &c->ev, fd, EPOLLIN, conn_event, c)) {
			c->ev.fd = -1;
			close(fd);
			conn_free(d, c);
		}
	}
}

static int listen_on(const struct sockaddr *sa, socklen_t len)
{
	int fd, one = 1;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, sa, len) || listen(fd, 512)) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

int clients_open(struct truthd *d)
{
	int ret;

	d->tcpfd = d->unixfd = -1;
	if (d->conf.has_client_listen) {
		d->tcpfd = listen_on((struct sockaddr *)&d->conf.client_listen.sa,
				     d->conf.client_listen.len);
		if (d->tcpfd < 0) {
			log_err("client_listen %s: %s", d->conf.client_listen.text,
				strerror(-d->tcpfd));
			return d->tcpfd;
		}
		ret = truth_ev_add(&d->loop, &d->ev_tcp, d->tcpfd, EPOLLIN, accept_event, d);
		if (ret)
			return ret;
	}
	if (d->conf.client_unix[0]) {
		struct sockaddr_un un = { .sun_family = AF_UNIX };

		strcpy(un.sun_path, d->conf.client_unix);
		/* a socket left by a previous run (the data dir lock says it is ours) */
		unlink(d->conf.client_unix);
		d->unixfd = listen_on((struct sockaddr *)&un, sizeof(un));
		if (d->unixfd < 0) {
			log_err("client_unix %s: %s", d->conf.client_unix,
				strerror(-d->unixfd));
			return d->unixfd;
		}
		ret = truth_ev_add(&d->loop, &d->ev_unix, d->unixfd, EPOLLIN, accept_event, d);
		if (ret)
			return ret;
	}
	return 0;
}

void clients_close(struct truthd *d)
{
	while (d->conns) {
		struct conn *c = d->conns;

		if (c->ev.fd >= 0) {
			conn_flush(d, c);	/* best effort: replies already decided */
			if (d->conns != c)
				continue;
			close(c->ev.fd);
		}
		conn_free(d, c);
	}
	if (d->tcpfd >= 0)
		close(d->tcpfd);
	if (d->unixfd >= 0) {
		close(d->unixfd);
		unlink(d->conf.client_unix);
	}
	free(d->wq);
	free(d->rq);
}

/* -MOVED to the leader's client address, or -TRYAGAIN with none known. */
static void redirect(struct truthd *d, struct truth_resp_session *s)
{
	uint32_t leader = raft_leader(d->raft);
	struct truth_tp_peer *p = truth_tp_peer(&d->tp, leader);

	d->redirects++;
	if (leader == RAFT_NONE || leader == d->conf.node_id || !p || !p->client[0]) {
		truth_resp_add_tryagain(&s->out);
		return;
	}
	/* "0": interfaces.md pins the slot field; the address is what matters */
	truth_resp_add_moved(&s->out, 0, p->client);
}

/* bigval: a write with an argument over max_value_bytes is refused whole. */
static bool value_too_large(struct truthd *d, struct truth_resp_session *s,
			    const struct truth_resp_request *req)
{
	unsigned int i;

	for (i = 1; i < req->argc; i++)
		if (req->argv[i].len > d->conf.max_value_bytes) {
			truth_resp_add_errorf(&s->out,
				"ERR value too large (%zu bytes, max_value_bytes is %u)",
				req->argv[i].len, d->conf.max_value_bytes);
			return true;
		}
	return false;
}

int client_execute(void *ctx, struct truth_resp_session *s,
		   const struct truth_resp_request *req)
{
	struct conn *c = ctx;
	struct truthd *d = c->d;
	uint64_t index;
	uint8_t *buf;
	long len;
	int ret;

	if (req->cmd->id == TRUTH_RESP_ID_DEBUG) {
		clock_debug(d, s, req);	/* this node only, no Raft */
		return 0;
	}
	if (raft_role(d->raft) != RAFT_LEADER) {
		redirect(d, s);
		return 0;
	}
	if (req->cmd->flags & TRUTH_RESP_CMD_WRITE) {
		if (value_too_large(d, s, req))
			return 0;	/* refused before anything is proposed */
		len = coord_encode(d, c, req, &buf);
		if (len == -ECANCELED)
			return 0;	/* refused, the reply written (coord.c) */
		if (len < 0) {
			truth_resp_add_error(&s->out, "ERR out of memory");
			return 0;
		}
		if (len > (long)truthd_entry_max(&d->conf)) {
			free(buf);
			truth_resp_add_errorf(&s->out,
				"ERR command too large for one log entry (%ld bytes, at most %u)",
				len, truthd_entry_max(&d->conf));
			return 0;
		}
		ret = raft_propose(d->raft, 0, 0, buf, (uint32_t)len, &index);
		free(buf);
		if (ret) {
			if (ret == RAFT_ENOTLEADER || ret == RAFT_EBUSY)
				truth_resp_add_tryagain(&s->out);
			else
				truth_resp_add_errorf(&s->out, "ERR proposal failed (%d)", ret);
			return 0;
		}
		if (!queue_push(&d->wq, &d->wq_len, &d->wq_cap, c)) {
			/* it will still be applied; we just cannot wait for it */
			truth_resp_add_error(&s->out, "ERR out of memory; write state unknown");
			return 0;
		}
		c->wait = WAIT_WRITE;
		c->index = index;
		lat_start(d, true, index, index);
		c->term = raft_term(d->raft);
		d->writes++;
		return 1;
	}
	/* reads: a lease if it holds, else ReadIndex */
	c->req = *req;
	ret = raft_read_lease(d->raft, truth_mono_us(), d->tick_us, &index);
	if (ret == 0) {
		d->reads_lease++;
		if (index <= raft_applied_index(d->raft)) {
			coord_read(d, c, req);
			return 0;
		}
		c->wait = WAIT_READ;
		c->index = index;
	} else {
		c->ctx = ++d->next_ctx;
		ret = raft_read_index(d->raft, c->ctx);
		if (ret) {
			/* a new leader before its first commit: soon fine */
			truth_resp_add_tryagain(&s->out);
			return 0;
		}
		d->reads_index++;
		c->wait = WAIT_READ_INDEX;
	}
	if (!queue_push(&d->rq, &d->rq_len, &d->rq_cap, c)) {
		c->wait = WAIT_NONE;
		truth_resp_add_error(&s->out, "ERR out of memory");
		return 0;
	}
	return 1;
}

void client_resolved(struct truthd *d, struct conn *c)
{
	if (c->resume)
		return;
	c->resume = true;
	c->next_resume = d->resume_head;
	d->resume_head = c;
}

void clients_resume(struct truthd *d)
{
	struct conn *list = d->resume_head, *c;
	uint64_t idx;

	d->resume_head = NULL;
	while ((c = list)) {
		list = c->next_resume;
		c->resume = false;
		if (c->wait != WAIT_NONE)
			continue;	/* resolved and deferred again already */
		if (c->zombie) {
			conn_free(d, c);
			continue;
		}
		idx = c->lat_index;
		c->lat_index = 0;
		conn_feed(d, c);
		conn_flush(d, c);	/* may free c */
		lat_replied(d, idx);
	}
}
