// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * sm_server: one RESP server over agent/sm with no Raft, for testing
 * clients (libtruth, truthctl) before truthd serves the state machine.
 *
 *   sm_server SOCKET_PATH [MOVED_ADDR]
 *
 * Listens on a Unix socket.  Writes are applied at once (index = a
 * counter, stamp = CLOCK_REALTIME), reads served from the same instance;
 * the leader's TICK runs every 50 ms.  With MOVED_ADDR every keyspace
 * command is answered "-MOVED 1 MOVED_ADDR", as a follower does.  It does
 * what truthd's apply loop must do with effects: a blocked request defers
 * its connection, a wake-up answers it and lets the connection go on.
 * SM_SERVER_DROP=N in the environment: every N-th write is applied and
 * then its connection closed without the reply, as a leader that crashes
 * after committing does; a retrying client must see it applied once.
 * Exits on SIGTERM / SIGINT.
 */

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "sm/sm.h"

#define MAX_CONN	64

struct conn {
	int fd;				/* -1: free slot */
	struct truth_resp_session s;	/* parser and replies */
	char *in;			/* input not yet fed (after a deferral) */
	size_t inlen;			/* its length */
	uint64_t client;		/* client id: its TRUTH.REQ id, else the connection's */
	uint64_t auto_seq;		/* sequence for requests without an envelope */
	uint64_t wait_seq;		/* deferred on (client, wait_seq); 0 = not waiting */
};

static struct conn conns[MAX_CONN];
static struct truth_sm *sm;
static struct truth_sm_effects fx;
static const char *moved;
static uint64_t applied;
static volatile sig_atomic_t stop;
static unsigned long drop_every, writes;	/* SM_SERVER_DROP */

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Hand the effects to their connections; true if (client, seq) got its reply. */
static bool deliver(uint64_t client, uint64_t seq, struct truth_resp_out *mine)
{
	bool got = false;
	size_t i;
	int k;

	for (i = 0; i < fx.n; i++) {
		const struct truth_sm_effect *e = &fx.v[i];

		if (e->kind == TRUTH_SM_FX_REPLY && e->client_id == client && e->seq == seq &&
		    mine) {
			truth_sm_effect_render(&fx, e, mine);
			got = true;
			continue;
		}
		for (k = 0; k < MAX_CONN; k++) {
			struct conn *c = &conns[k];

			if (c->fd < 0 || c->client != e->client_id)
				continue;
			if (e->kind == TRUTH_SM_FX_REPLY && c->wait_seq != e->seq)
				continue;	/* a retried request's twin, answered already */
			truth_sm_effect_render(&fx, e, &c->s.out);
			if (e->kind == TRUTH_SM_FX_REPLY)
				c->wait_seq = 0;	/* unblocked: feeding resumes */
			break;
		}
	}
	truth_sm_effects_reset(&fx);
	return got;
}

static int execute(void *ctx, struct truth_resp_session *s, const struct truth_resp_request *req)
{
	struct conn *c = ctx;
	struct truth_sm_cmd cmd = {
		.index = applied + 1, .ts_ns = now_ns(), .argc = req->argc, .argv = req->argv,
	};
	int r;

	(void)ctx;
	for (c = conns; c->fd < 0 || &c->s != s; c++)
		;
	if (moved) {
		truth_resp_add_moved(&s->out, 1, moved);
		return 0;
	}
	if (req->client_id)
		c->client = req->client_id;
	cmd.client_id = c->client;
	cmd.seq = req->client_id ? req->client_seq : ++c->auto_seq;
	if (req->cmd->flags & TRUTH_RESP_CMD_WRITE) {
		applied++;
		r = truth_sm_apply(sm, &cmd, &fx);
	} else {
		r = truth_sm_read(sm, &cmd, &fx);
	}
	if (r) {
		fprintf(stderr, "sm_server: out of memory applying an entry\n");
		exit(1);	/* fail-stop, as truthd must */
	}
	if ((req->cmd->flags & TRUTH_RESP_CMD_WRITE) && drop_every && ++writes % drop_every == 0) {
		deliver(cmd.client_id, cmd.seq, NULL);	/* applied, the reply is lost */
		s->out.len = 0;
		s->closing = true;
		return 1;
	}
	if (deliver(cmd.client_id, cmd.seq, &s->out))
		return 0;
	c->wait_seq = cmd.seq;
	return 1;
}

static void feed(struct conn *c, struct truth_resp_handler *h)
{
	size_t n;

	if (c->wait_seq || !c->inlen)
		return;
	h->ctx = c;
	n = truth_resp_session_feed(&c->s, c->in, c->inlen, h);
	memmove(c->in, c->in + n, c->inlen - n);
	c->inlen -= n;
}

static void drop(struct conn *c)
{
	truth_sm_client_gone(sm, c->client);
	truth_resp_session_fini(&c->s);
	free(c->in);
	close(c->fd);
	c->fd = -1;
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char *argv[])
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct truth_resp_handler h = { .execute = execute, .node_id = 1, .leader = true };
	uint64_t next_id = 1;
	int lfd, k;

	if (argc < 2 || strlen(argv[1]) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "usage: %s SOCKET_PATH [MOVED_ADDR]\n", argv[0]);
		return 2;
	}
	moved = argc > 2 ? argv[2] : NULL;
	if (getenv("SM_SERVER_DROP"))
		drop_every = strtoul(getenv("SM_SERVER_DROP"), NULL, 10);
	sm = truth_sm_new(NULL);
	truth_sm_effects_init(&fx);
	strcpy(sun.sun_path, argv[1]);
	unlink(argv[1]);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (!sm || lfd < 0 || bind(lfd, (struct sockaddr *)&sun, sizeof(sun)) ||
	    listen(lfd, 16)) {
		perror("sm_server");
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	for (k = 0; k < MAX_CONN; k++)
		conns[k].fd = -1;
	while (!stop) {
		struct pollfd p[MAX_CONN + 1];
		int n = 0, idx[MAX_CONN + 1];
		struct truth_resp_arg tick = { TRUTH_SM_TICK, sizeof(TRUTH_SM_TICK) - 1 };
		struct truth_sm_cmd t = { .argc = 1, .argv = &tick };

		p[n].fd = lfd;
		p[n++].events = POLLIN;
		for (k = 0; k < MAX_CONN; k++)
			if (conns[k].fd >= 0) {
				idx[n] = k;
				p[n].fd = conns[k].fd;
				p[n++].events = POLLIN | (conns[k].s.out.len ? POLLOUT : 0);
			}
		if (poll(p, (nfds_t)n, 50) < 0 && errno != EINTR)
			break;
		t.ts_ns = now_ns();
		if (t.ts_ns > truth_sm_next_deadline(sm)) {
			t.index = ++applied;
			truth_sm_apply(sm, &t, &fx);
			deliver(0, 0, NULL);
		}
		if (p[0].revents & POLLIN) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

			for (k = 0; fd >= 0 && k < MAX_CONN && conns[k].fd >= 0; k++)
				;
			if (fd >= 0 && k < MAX_CONN) {
				memset(&conns[k], 0, sizeof(conns[k]));
				conns[k].fd = -1;
				if (truth_resp_session_init(&conns[k].s, next_id, NULL)) {
					close(fd);
				} else {
					conns[k].fd = fd;
					conns[k].client = next_id++;
				}
			} else if (fd >= 0) {
				close(fd);
			}
		}
		for (int i = 1; i < n; i++) {
			struct conn *c = &conns[idx[i]];
			char buf[65536];
			ssize_t r;

			if (c->fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			r = read(c->fd, buf, sizeof(buf));
			if (r <= 0) {
				drop(c);
				continue;
			}
			c->in = realloc(c->in, c->inlen + (size_t)r);
			memcpy(c->in + c->inlen, buf, (size_t)r);
			c->inlen += (size_t)r;
		}
		for (k = 0; k < MAX_CONN; k++) {
			struct conn *c = &conns[k];

			if (c->fd < 0)
				continue;
			feed(c, &h);
			if (c->s.out.len) {
				ssize_t w = send(c->fd, c->s.out.buf, c->s.out.len,
						 MSG_NOSIGNAL | MSG_DONTWAIT);

				if (w > 0)
					truth_resp_out_consume(&c->s.out, (size_t)w);
			}
			if (c->s.closing && !c->s.out.len)
				drop(c);
		}
	}
	for (k = 0; k < MAX_CONN; k++)
		if (conns[k].fd >= 0)
			drop(&conns[k]);
	close(lfd);
	unlink(argv[1]);
	truth_sm_effects_free(&fx);
	truth_sm_free(sm);
	return 0;
}
