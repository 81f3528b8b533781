// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libtruth: connections, the reply reader, redirects and retries.
 * The public contract is include/truth/libtruth.h.
 */

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <truth/libtruth.h>

#define NODE_MAX	256	/* longest address kept */
#define REPLY_DEPTH	8	/* nesting accepted in a reply */

struct truth_client {
	struct truth_client_config cfg;	/* copied; nodes point into node_buf */
	char (*nodes)[NODE_MAX];	/* the configured members */
	char target[NODE_MAX];		/* where to connect next (a redirect or a member) */
	unsigned int next_node;		/* member tried after target */
	int fd;				/* the connection, -1 if none */
	char *rbuf;			/* received, not yet parsed */
	size_t rlen;			/* bytes in rbuf */
	size_t rcap;			/* allocated */
	uint64_t seq;			/* last request sequence used */
	char err[256];			/* last failure */
};

static void set_err(struct truth_client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
}

const char *truth_client_error(const struct truth_client *c)
{
	return c->err;
}

const char *truth_client_node(const struct truth_client *c)
{
	return c->target;
}

void truth_reply_free(struct truth_reply *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->n; i++)
		truth_reply_free(r->elem[i]);
	free(r->elem);
	free(r->str);
	free(r);
}

struct truth_client *truth_client_new(const struct truth_client_config *cfg, char *err,
				      size_t errlen)
{
	struct truth_client *c;
	unsigned int i;

	if (!cfg->nnodes || !cfg->nodes) {
		snprintf(err, errlen, "no node addresses given");
		return NULL;
	}
	for (i = 0; i < cfg->nnodes; i++)
		if (!cfg->nodes[i] || !*cfg->nodes[i] || strlen(cfg->nodes[i]) >= NODE_MAX) {
			snprintf(err, errlen, "bad node address '%s'",
				 cfg->nodes[i] ? cfg->nodes[i] : "(null)");
			return NULL;
		}
	c = calloc(1, sizeof(*c));
	if (c)
		c->nodes = calloc(cfg->nnodes, sizeof(*c->nodes));
	if (!c || !c->nodes) {
		free(c);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->cfg = *cfg;
	for (i = 0; i < cfg->nnodes; i++)
		strcpy(c->nodes[i], cfg->nodes[i]);
	c->cfg.nodes = NULL;
	if (!c->cfg.connect_timeout_ms)
		c->cfg.connect_timeout_ms = 2000;
	if (!c->cfg.attempts)
		c->cfg.attempts = cfg->nnodes * 3 < 10 ? 10 : cfg->nnodes * 3;
	while (!c->cfg.client_id) {
		uint64_t id = 0;

		if (getrandom(&id, sizeof(id), 0) != sizeof(id))
			id = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
		c->cfg.client_id = id & INT64_MAX;	/* a positive RESP integer */
	}
	strcpy(c->target, c->nodes[0]);
	c->next_node = 1 % cfg->nnodes;
	c->fd = -1;
	return c;
}

static void disconnect(struct truth_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->rlen = 0;
}

void truth_client_free(struct truth_client *c)
{
	if (!c)
		return;
	disconnect(c);
	free(c->rbuf);
	free(c->nodes);
	free(c);
}

/* Wait for fd to be ready for events within ms (-1 forever); 0 or -ETIMEDOUT / -errno. */
static int wait_fd(int fd, short events, int ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r;

	do {
		r = poll(&p, 1, ms);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	return r ? 0 : -ETIMEDOUT;
}

static int connect_addr(struct truth_client *c, const char *addr)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL, *ai;
	char host[NODE_MAX], *port;
	int fd = -1, r = -EINVAL;

	if (!strncmp(addr, "unix:", 5) || addr[0] == '/') {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };
		const char *path = addr[0] == '/' ? addr : addr + 5;

		if (strlen(path) >= sizeof(sun.sun_path)) {
			set_err(c, "%s: socket path too long", addr);
			return -ENAMETOOLONG;
		}
		strcpy(sun.sun_path, path);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
			r = -errno;
			set_err(c, "connect %s: %s", addr, strerror(errno));
			if (fd >= 0)
				close(fd);
			return r;
		}
		return fd;
	}
	snprintf(host, sizeof(host), "%s", addr[0] == '[' ? addr + 1 : addr);
	port = strrchr(host, ':');
	if (!port) {
		set_err(c, "%s: no port (host:port)", addr);
		return -EINVAL;
	}
	*port++ = '\0';
	if (host[0] && host[strlen(host) - 1] == ']')
		host[strlen(host) - 1] = '\0';
	r = getaddrinfo(host, port, &hints, &res);
	if (r) {
		set_err(c, "%s: %s", addr, gai_strerror(r));
		return -EHOSTUNREACH;
	}
	r = -ECONNREFUSED;
	for (ai = res; ai; ai = ai->ai_next) {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
			r = -errno;
		} else if ((r = wait_fd(fd, POLLOUT, c->cfg.connect_timeout_ms)) == 0 &&
			   getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && !soerr) {
			fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
			break;
		} else if (soerr) {
			r = -soerr;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		set_err(c, "connect %s: %s", addr, strerror(-r));
	return fd < 0 ? r : fd;
}

/* ---------------------------------------------------------- replies */

/* Read more bytes within ms. */
static int fill(struct truth_client *c, int ms)
{
	ssize_t n;
	int r;

	if (c->rlen == c->rcap) {
		size_t cap = c->rcap ? c->rcap * 2 : 4096;
		char *b = realloc(c->rbuf, cap);

		if (!b)
			return -ENOMEM;
		c->rbuf = b;
		c->rcap = cap;
	}
	r = wait_fd(c->fd, POLLIN, ms);
	if (r)
		return r;
	n = read(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	if (n == 0)
		return -ECONNRESET;
	c->rlen += (size_t)n;
	return 0;
}

/*
 * Parse one reply at *pos of the buffer.  1 and *out if complete, 0 if
 * more bytes are needed, -EPROTO if malformed.
 */
static int parse(const char *b, size_t len, size_t *pos, struct truth_reply **out, int depth)
{
	const char *nl = memchr(b + *pos, '\n', len - *pos), *line = b + *pos + 1;
	struct truth_reply *r;
	long long n;
	size_t i, end;
	int k;

	if (!nl)
		return 0;
	if (nl == b + *pos || nl[-1] != '\r' || depth > REPLY_DEPTH)
		return -EPROTO;
	end = (size_t)(nl - b) + 1;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	switch (b[*pos]) {
	case '+': case '-': case ',': case '(':
		r->type = b[*pos] == '-' ? TRUTH_REPLY_ERROR :
			  b[*pos] == '+' ? TRUTH_REPLY_STATUS : TRUTH_REPLY_STRING;
		r->len = (size_t)(nl - 1 - line);
		r->str = strndup(line, r->len);
		break;
	case ':': case '#':
		r->type = TRUTH_REPLY_INTEGER;
		r->integer = b[*pos] == '#' ? *line == 't' : strtoll(line, NULL, 10);
		break;
	case '_':
		r->type = TRUTH_REPLY_NIL;
		break;
	case '$': case '=':
		n = strtoll(line, NULL, 10);
		if (n < 0) {
			r->type = TRUTH_REPLY_NIL;
			break;
		}
		if (len - end < (size_t)n + 2) {
			truth_reply_free(r);
			return 0;
		}
		r->type = TRUTH_REPLY_STRING;
		r->len = (size_t)n;
		r->str = malloc(r->len + 1);
		if (r->str) {
			memcpy(r->str, b + end, r->len);
			r->str[r->len] = '\0';
		}
		end += (size_t)n + 2;
		break;
	case '*': case '%': case '>': case '~':
		n = strtoll(line, NULL, 10);
		if (n < 0) {
			r->type = TRUTH_REPLY_NIL;
			break;
		}
		r->type = TRUTH_REPLY_ARRAY;
		if (b[*pos] == '%')
			n *= 2;
		if (n > 1 << 20) {
			truth_reply_free(r);
			return -EPROTO;
		}
		r->elem = calloc((size_t)n ? (size_t)n : 1, sizeof(*r->elem));
		if (!r->elem) {
			truth_reply_free(r);
			return -ENOMEM;
		}
		for (i = 0; i < (size_t)n; i++, r->n++) {
			k = parse(b, len, &end, &r->elem[i], depth + 1);
			if (k <= 0) {
				truth_reply_free(r);
				return k;
			}
		}
		break;
	default:
		truth_reply_free(r);
		return -EPROTO;
	}
	*pos = end;
	*out = r;
	return 1;
}

static int read_reply(struct truth_client *c, struct truth_reply **out, int ms)
{
	for (;;) {
		size_t pos = 0;
		int r = c->rlen ? parse(c->rbuf, c->rlen, &pos, out, 0) : 0;

		if (r < 0)
			return r;
		if (r > 0) {
			memmove(c->rbuf, c->rbuf + pos, c->rlen - pos);
			c->rlen -= pos;
			return 0;
		}
		r = fill(c, ms);
		if (r)
			return r;
	}
}

static int send_all(struct truth_client *c, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The request: TRUTH.REQ id seq [HLC|COMMITWAIT] argv... as one RESP array. */
static int send_request(struct truth_client *c, uint64_t seq, unsigned int flags,
			unsigned int argc, const char *const *argv)
{
	const char *opt = flags & TRUTH_CALL_COMMITWAIT ? "$10\r\nCOMMITWAIT\r\n" :
			  flags & TRUTH_CALL_HLC ? "$3\r\nHLC\r\n" : "";
	char head[96];
	size_t total = 0, off;
	unsigned int i;
	char *buf;
	int n, r;

	n = snprintf(head, sizeof(head), "*%u\r\n$9\r\nTRUTH.REQ\r\n", argc + 3 + !!*opt);
	total = (size_t)n + 64;
	for (i = 0; i < argc; i++)
		total += strlen(argv[i]) + 32;
	buf = malloc(total);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, head, (size_t)n);
	off = (size_t)n;
	{
		char id[24], sq[24];

		snprintf(id, sizeof(id), "%llu", (unsigned long long)c->cfg.client_id);
		snprintf(sq, sizeof(sq), "%llu", (unsigned long long)seq);
		off += (size_t)sprintf(buf + off, "$%zu\r\n%s\r\n$%zu\r\n%s\r\n%s",
				       strlen(id), id, strlen(sq), sq, opt);
	}
	for (i = 0; i < argc; i++) {
		size_t l = strlen(argv[i]);

		off += (size_t)sprintf(buf + off, "$%zu\r\n", l);
		memcpy(buf + off, argv[i], l);
		off += l;
		memcpy(buf + off, "\r\n", 2);
		off += 2;
	}
	r = send_all(c, buf, off);
	free(buf);
	return r;
}

/* the sleep before attempt n (n >= 1): 40, 80, 160, 320, then 500 ms */
static int backoff_ms(unsigned int n)
{
	return n < 5 ? 20 << n : 500;
}

/* -TRYAGAIN asked again this often (truthd's heartbeat is 50 ms) */
#define TRYAGAIN_MS	50
/* a redirect to the member that just failed us is taken for -TRYAGAIN
 * this long (truthd's longest election timeout) */
#define GONE_MS		600

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/*
 * Move on to the next configured member, not the one that just failed
 * (after a redirect the failed leader is often the next in the list, and
 * a cut-off one costs a whole connect timeout).
 */
static void next_member(struct truth_client *c)
{
	disconnect(c);
	if (c->cfg.nnodes > 1 && !strcmp(c->nodes[c->next_node], c->target))
		c->next_node = (c->next_node + 1) % c->cfg.nnodes;
	strcpy(c->target, c->nodes[c->next_node]);
	c->next_node = (c->next_node + 1) % c->cfg.nnodes;
}

/*
 * Does the member the client talks to still lead?  Asked on a second
 * connection (the first one may have a blocked request in front of any
 * other reply): INFO truth must answer within the probe time and say
 * role:leader.  A leader cut off by a partition answers nothing (no RST
 * crosses a dead link), a crashed one refuses, a deposed one says
 * follower: all three are 'no'.
 */
int truth_client_probe(struct truth_client *c)
{
	static const char req[] = "*2\r\n$4\r\nINFO\r\n$5\r\ntruth\r\n";
	int ms = c->cfg.probe_ms > 0 ? c->cfg.probe_ms : 2000, fd, r;
	char buf[8192];
	size_t len = 0, pos = 0;
	struct truth_reply *rep = NULL;

	fd = connect_addr(c, c->target);
	if (fd < 0)
		return fd;
	r = send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) == (ssize_t)sizeof(req) - 1 ? 0 : -EIO;
	while (!r) {
		ssize_t n;

		r = parse(buf, len, &pos, &rep, 0);
		if (r)
			break;
		r = wait_fd(fd, POLLIN, ms);
		if (r)
			break;
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n <= 0 || (size_t)n == sizeof(buf) - len)
			r = n < 0 ? -errno : -EPROTO;
		else
			len += (size_t)n;
	}
	close(fd);
	if (r < 0) {
		set_err(c, "%s: no answer to a probe: %s", c->target, strerror(-r));
		return r;
	}
	r = rep->type == TRUTH_REPLY_STRING && strstr(rep->str, "role:leader") ? 0 : -ENOTCONN;
	if (r)
		set_err(c, "%s: no longer leads", c->target);
	truth_reply_free(rep);
	return r;
}

/* [hlc, reply] -> reply and *hlc; anything else (an error) stays as it is. */
static struct truth_reply *unwrap(struct truth_reply *rep, uint64_t *hlc)
{
	struct truth_reply *in;

	if (rep->type != TRUTH_REPLY_ARRAY || rep->n != 2 ||
	    rep->elem[0]->type != TRUTH_REPLY_INTEGER)
		return rep;
	*hlc = (uint64_t)rep->elem[0]->integer;
	in = rep->elem[1];
	rep->n = 1;
	truth_reply_free(rep);
	return in;
}

int truth_client_call(struct truth_client *c, struct truth_reply **reply, unsigned int argc,
		      const char *const *argv)
{
	return truth_client_call_hlc(c, reply, NULL, 0, argc, argv);
}

int truth_client_call_hlc(struct truth_client *c, struct truth_reply **reply, uint64_t *hlc,
			  unsigned int flags, unsigned int argc, const char *const *argv)
{
	uint64_t seq = ++c->seq;	/* the same for every retry: applied once */
	int wait_ms = c->cfg.reply_timeout_ms ? c->cfg.reply_timeout_ms :
		      c->cfg.probe_ms < 0 ? -1 : c->cfg.probe_ms ? c->cfg.probe_ms : 2000;
	unsigned int attempt, polled_ms = 0, budget_ms = 0, gone_ms = 0;
	unsigned int free_moves = 3;	/* redirects followed with no sleep */
	char gone[NODE_MAX] = "";	/* the member that last failed us */
	bool no_sleep = false, no_leader;
	int r = -EIO;

	for (attempt = 1; attempt < c->cfg.attempts; attempt++)
		budget_ms += backoff_ms(attempt);
	*reply = NULL;
	for (attempt = 0; attempt < c->cfg.attempts; attempt++) {
		struct truth_reply *rep = NULL;

		if (attempt && !no_sleep)
			sleep_ms(backoff_ms(attempt));
		no_sleep = false;
		if (c->fd < 0) {
			r = connect_addr(c, c->target);
			if (r < 0) {
				strcpy(gone, c->target);
				gone_ms = polled_ms;
				next_member(c);
				continue;
			}
			c->fd = r;
		}
		r = send_request(c, seq, flags, argc, argv);
		/*
		 * Waiting for ever: while the member still leads, keep waiting
		 * (failures before this healthy wait no longer count); once it
		 * does not, send the request again elsewhere.
		 */
		while (!r) {
			r = read_reply(c, &rep, wait_ms);
			if (r != -ETIMEDOUT || c->cfg.reply_timeout_ms || truth_client_probe(c))
				break;
			r = 0;
			attempt = 0;
		}
		if (r) {
			if (r != -ETIMEDOUT || c->cfg.reply_timeout_ms)
				set_err(c, "%s: %s", c->target, strerror(-r));
			strcpy(gone, c->target);
			gone_ms = polled_ms;
			next_member(c);
			continue;
		}
		no_leader = false;
		if (rep->type == TRUTH_REPLY_ERROR && !strncmp(rep->str, "MOVED ", 6)) {
			const char *addr = strchr(rep->str + 6, ' ');

			set_err(c, "%s", rep->str);
			disconnect(c);
			/*
			 * It names the member that just failed us: the leader
			 * died and this follower has not noticed yet (its
			 * election timer runs): as good as -TRYAGAIN, for up to
			 * GONE_MS of asking (then it may be right: follow it).
			 */
			no_leader = addr && !strcmp(addr + 1, gone) &&
				    polled_ms - gone_ms < GONE_MS;
			if (!no_leader) {
				/*
				 * It names the leader now: go there at once (the
				 * first three times; more back off as any failure
				 * does).  After a failover the redirect came once
				 * the retries had backed off to 320-500 ms, and a
				 * sleep here added that again.
				 */
				if (addr && strlen(addr + 1) < NODE_MAX) {
					strcpy(c->target, addr + 1);	/* the leader, says a follower */
					no_sleep = free_moves && free_moves--;
				}
				truth_reply_free(rep);
				continue;
			}
		} else if (rep->type == TRUTH_REPLY_ERROR && !strncmp(rep->str, "TRYAGAIN", 8)) {
			set_err(c, "%s", rep->str);
			no_leader = true;
		}
		if (no_leader) {
			truth_reply_free(rep);
			next_member(c);
			/*
			 * No leader yet: an election is under way, done within
			 * one or two election timeouts.  Ask every TRYAGAIN_MS
			 * rather than backing off to 500 ms (an election over
			 * at 450 ms was seen at 600 ms or later), uncounted, for
			 * as long in all as the attempts' back-off would sleep;
			 * then give up, as the attempts would have.
			 */
			if (polled_ms >= budget_ms)
				break;
			sleep_ms(TRYAGAIN_MS);
			polled_ms += TRYAGAIN_MS;
			no_sleep = true;
			attempt--;	/* unsigned: wraps, then ++ */
			continue;
		}
		if (hlc)
			*hlc = 0;
		*reply = flags && hlc ? unwrap(rep, hlc) : rep;
		return 0;
	}
	return r < 0 ? r : -EAGAIN;
}

int truth_client_next(struct truth_client *c, struct truth_reply **reply, int timeout_ms)
{
	int r;

	*reply = NULL;
	if (c->fd < 0) {
		set_err(c, "not connected");
		return -ENOTCONN;
	}
	r = read_reply(c, reply, timeout_ms);
	if (r && r != -ETIMEDOUT) {
		set_err(c, "%s: %s", c->target, strerror(-r));
		disconnect(c);
	}
	return r;
}

/* For libtruth_coord.c: an error reply's text becomes the client's error. */
void truth_client_set_error(struct truth_client *c, const char *msg);
void truth_client_set_error(struct truth_client *c, const char *msg)
{
	set_err(c, "%s", msg);
}
