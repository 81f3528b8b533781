// SPDX-License-Identifier: GPL-2.0
/*
 * truth-load: load generator and history recorder for truthd (RESP) and,
 * for the benchmark, etcd's v3 JSON gateway.  One thread, one epoll loop,
 * N connections with one request outstanding each ("sequential" is -c 1).
 *
 * Workloads:
 *   set       SET k<random> <value of -s bytes>          (benchmarks)
 *   register  client c owns the keys i with i % clients == c and writes
 *             them with increasing versions ("v<version>:xxx..."); every
 *             client also reads any key (--reads percent).  A history file
 *             of this is what truth-histcheck checks.
 *   readall   GET every key once (the final read of a test)
 *
 * At the end (-n reached, -d elapsed, SIGINT/SIGTERM) no new operation
 * starts and those in flight finish, each within its --timeout.
 *
 * A -MOVED reply sends the request again to the leader it names (a redirect
 * means "not executed"); -TRYAGAIN retries after 50 ms.  A write whose
 * connection breaks or times out after it was sent is "unknown": it may or
 * may not have happened, and the checker treats it so.
 *
 * History (--history FILE, appended; one line per operation):
 *   <client> <write|read> <key> <version|nil|-> <invoke_ns> <complete_ns> <ok|fail|unknown>
 * Times are CLOCK_MONOTONIC, so histories of several processes on one host
 * compare.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "load_proto.h"

#define MAX_ADDRS	16
#define RETRY_NS	50000000ULL	/* TRYAGAIN / reconnect back-off */
#define MAX_REDIRECTS	16

enum workload { W_SET, W_REGISTER, W_READALL };
enum cstate { C_IDLE, C_CONNECTING, C_WAIT, C_BACKOFF, C_DONE };
enum result { RES_OK, RES_FAIL, RES_UNKNOWN };

struct op {
	bool write;
	unsigned int key;
	uint64_t version;	/* write: the version written */
	uint64_t invoke;	/* ns */
	uint64_t deadline;	/* ns: past it the op ends fail/unknown */
	int redirects;
	bool active;
};

struct conn {
	int id;
	int fd;
	int addr;		/* index into opt.addrs */
	enum cstate state;
	uint64_t wake;		/* C_BACKOFF: when to try again; C_CONNECTING: give up */
	bool sent;		/* the current request reached the socket */
	struct lp_buf in, out;
	struct op op;
	unsigned int next_read;	/* readall: next key */
	uint64_t rng;
};

static struct {
	bool etcd;
	enum workload workload;
	char addrs[MAX_ADDRS][128];
	int n_addrs;
	int clients;
	long long ops;
	double duration;
	size_t value_size;
	unsigned int keys;
	int reads;
	const char *prefix;
	uint64_t timeout_ns;
	const char *history;
	int client_base;
	uint64_t seed;
	bool quiet;
} opt = {
	.clients = 1, .value_size = 256, .keys = 10000, .reads = 50,
	.prefix = "k", .timeout_ns = 2000000000ULL,
};

static struct {
	long long started, ok, fail, unknown, redirects, tryagain, reconnects;
	uint64_t *lat;		/* ns, ok ops only */
	size_t n_lat, cap_lat;
	char first_err[160];
} st;

static uint64_t *versions;	/* register: last version given out, per key */
static FILE *hist;
static int epfd;
static volatile sig_atomic_t stop;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* xorshift64*: fast, seeded, good enough to pick keys */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static void key_name(char *buf, size_t len, unsigned int key)
{
	snprintf(buf, len, "%s%u", opt.prefix, key);
}

static int addr_index(const char *hp)
{
	int i;

	for (i = 0; i < opt.n_addrs; i++)
		if (!strcmp(opt.addrs[i], hp))
			return i;
	if (opt.n_addrs == MAX_ADDRS)
		return 0;
	snprintf(opt.addrs[opt.n_addrs], sizeof(opt.addrs[0]), "%s", hp);
	return opt.n_addrs++;
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0) {
		epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	c->fd = -1;
	c->in.len = 0;
	c->out.len = 0;
}

static void conn_watch(struct conn *c, uint32_t ev)
{
	struct epoll_event e = { .events = ev, .data.ptr = c };

	if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &e))
		epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &e);
}

static void record(struct conn *c, enum result res, const struct lp_reply *r)
{
	static const char *const names[] = { "ok", "fail", "unknown" };
	uint64_t done = now_ns();
	char key[64], val[32] = "-";

	if (res == RES_OK) {
		st.ok++;
		if (st.n_lat == st.cap_lat) {
			st.cap_lat = st.cap_lat * 2 + 4096;
			st.lat = realloc(st.lat, st.cap_lat * sizeof(*st.lat));
			if (!st.lat)
				exit(2);
		}
		st.lat[st.n_lat++] = done - c->op.invoke;
	} else if (res == RES_FAIL) {
		st.fail++;
	} else {
		st.unknown++;
	}
	if (res != RES_OK && !st.first_err[0] && r)
		snprintf(st.first_err, sizeof(st.first_err), "%s", r->err);
	if (hist) {
		key_name(key, sizeof(key), c->op.key);
		if (c->op.write) {
			snprintf(val, sizeof(val), "%llu", (unsigned long long)c->op.version);
		} else if (res == RES_OK && r && r->kind == LP_NIL) {
			snprintf(val, sizeof(val), "nil");
		} else if (res == RES_OK && r) {
			/* our values are "v<version>:..."; anything else is "?" */
			if (r->val_len > 1 && r->val[0] == 'v')
				snprintf(val, sizeof(val), "%llu", strtoull(r->val + 1, NULL, 10));
			else
				snprintf(val, sizeof(val), "?");
		}
		fprintf(hist, "%d %s %s %s %llu %llu %s\n", opt.client_base + c->id,
			c->op.write ? "write" : "read", key, val,
			(unsigned long long)c->op.invoke, (unsigned long long)done, names[res]);
	}
	c->op.active = false;
}

/* the op's outcome when its request may have reached the server */
static enum result lost_result(const struct conn *c)
{
	return c->op.write && c->sent ? RES_UNKNOWN : RES_FAIL;
}

static bool more_ops(void)
{
	if (stop)
		return false;
	if (opt.workload == W_READALL)
		return true;
	return !opt.ops || st.started < opt.ops;
}

/* pick the connection's next operation; false when it has none */
static bool next_op(struct conn *c)
{
	struct op *o = &c->op;

	if (!more_ops())
		return false;
	memset(o, 0, sizeof(*o));
	switch (opt.workload) {
	case W_SET:
		o->write = true;
		o->key = rnd(&c->rng) % opt.keys;
		break;
	case W_READALL:
		if (c->next_read >= opt.keys)
			return false;
		o->key = c->next_read;
		c->next_read += opt.clients;
		break;
	case W_REGISTER:
		o->write = (int)(rnd(&c->rng) % 100) >= opt.reads &&
			   (unsigned int)c->id < opt.keys;
		if (o->write) {
			unsigned int owned = (opt.keys - c->id + opt.clients - 1) / opt.clients;

			o->key = c->id + (rnd(&c->rng) % owned) * opt.clients;
			o->version = ++versions[o->key];
		} else {
			o->key = rnd(&c->rng) % opt.keys;
		}
		break;
	}
	o->active = true;
	o->invoke = now_ns();
	o->deadline = o->invoke + opt.timeout_ns;
	st.started++;
	return true;
}

static void build_request(struct conn *c)
{
	char key[64], *val = NULL;
	size_t vlen = 0;

	key_name(key, sizeof(key), c->op.key);
	c->out.len = 0;
	if (c->op.write) {
		vlen = opt.value_size;
		val = malloc(vlen + 32);
		if (!val)
			exit(2);
		memset(val, 'x', vlen);
		if (opt.workload == W_REGISTER) {
			int n = snprintf(val, 32, "v%llu:", (unsigned long long)c->op.version);

			if ((size_t)n > vlen)
				vlen = n;
			else
				val[n] = 'x';	/* snprintf's NUL */
		}
	}
	if (opt.etcd)
		etcd_req(&c->out, opt.addrs[c->addr], c->op.write ? "/v3/kv/put" : "/v3/kv/range",
			 key, val, vlen);
	else if (c->op.write)
		resp_set(&c->out, key, val, vlen);
	else
		resp_get(&c->out, key);
	free(val);
}

static void conn_connect(struct conn *c);

static void backoff(struct conn *c, bool rotate)
{
	conn_close(c);
	if (rotate)
		c->addr = (c->addr + 1) % opt.n_addrs;
	c->state = C_BACKOFF;
	c->wake = now_ns() + RETRY_NS;
}

static void conn_flush(struct conn *c)
{
	while (c->out.len) {
		ssize_t n = send(c->fd, c->out.p, c->out.len, MSG_NOSIGNAL);

		if (n < 0 && errno == EAGAIN) {
			conn_watch(c, EPOLLIN | EPOLLOUT);
			return;
		}
		if (n <= 0) {
			if (c->op.active && c->sent)
				record(c, lost_result(c), NULL);
			st.reconnects++;
			backoff(c, true);
			return;
		}
		c->sent = true;
		lp_consume(&c->out, n);
	}
	conn_watch(c, EPOLLIN);
}

/* send the current op (or pick one) on a connected socket */
static void conn_go(struct conn *c)
{
	if (!c->op.active && !next_op(c)) {
		c->state = C_DONE;
		conn_close(c);
		return;
	}
	c->state = C_WAIT;
	c->sent = false;
	c->in.len = 0;
	build_request(c);
	conn_flush(c);
}

static void conn_connect(struct conn *c)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1;

	if (lp_resolve(opt.addrs[c->addr], &ss, &len)) {
		fprintf(stderr, "truth-load: cannot resolve %s\n", opt.addrs[c->addr]);
		exit(2);
	}
	c->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		perror("socket");
		exit(2);
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&ss, len) && errno != EINPROGRESS) {
		st.reconnects++;
		backoff(c, true);
		return;
	}
	c->state = C_CONNECTING;
	/* a node cut off by a partition never answers the SYN: give up on it
	 * after the op timeout and try the next address */
	c->wake = now_ns() + opt.timeout_ns;
	conn_watch(c, EPOLLOUT);
}

static void on_reply(struct conn *c, struct lp_reply *r)
{
	switch (r->kind) {
	case LP_MOVED:
		st.redirects++;
		if (++c->op.redirects > MAX_REDIRECTS || !r->moved[0]) {
			record(c, RES_FAIL, r);
			break;
		}
		/* not executed: same op, same invoke time, to the leader */
		c->sent = false;
		conn_close(c);
		c->addr = addr_index(r->moved);
		conn_connect(c);
		return;
	case LP_TRYAGAIN:
		st.tryagain++;
		c->sent = false;
		backoff(c, false);
		return;
	case LP_ERROR:
		/* an error we do not know might come after the write happened */
		record(c, c->op.write ? RES_UNKNOWN : RES_FAIL, r);
		break;
	default:
		record(c, RES_OK, r);
		break;
	}
	conn_go(c);
}

static void conn_read(struct conn *c)
{
	struct lp_reply r;
	long used;
	ssize_t n;

	for (;;) {
		lp_need(&c->in, 65536);
		n = recv(c->fd, c->in.p + c->in.len, c->in.cap - c->in.len, 0);
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			if (c->op.active)
				record(c, lost_result(c), NULL);
			st.reconnects++;
			backoff(c, true);
			return;
		}
		c->in.len += n;
	}
	if (c->state != C_WAIT)
		return;
	memset(&r, 0, offsetof(struct lp_reply, dec));
	used = opt.etcd ? etcd_parse(c->in.p, c->in.len, c->op.write, &r) :
			  resp_parse(c->in.p, c->in.len, &r);
	if (!used)
		return;
	if (used < 0) {
		fprintf(stderr, "truth-load: %s sent bytes that are no reply\n", opt.addrs[c->addr]);
		if (c->op.active)
			record(c, lost_result(c), NULL);
		backoff(c, true);
		return;
	}
	on_reply(c, &r);
}

static void on_event(struct conn *c, uint32_t ev)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (c->state == C_CONNECTING) {
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err || (ev & (EPOLLERR | EPOLLHUP))) {
			st.reconnects++;
			backoff(c, true);
			return;
		}
		conn_go(c);
		return;
	}
	if (ev & EPOLLOUT)
		conn_flush(c);
	if (c->fd >= 0 && (ev & (EPOLLIN | EPOLLERR | EPOLLHUP)))
		conn_read(c);
}

/* deadlines and back-offs; returns the ms until the next one */
static int tick(struct conn *cs, uint64_t end)
{
	uint64_t t = now_ns(), next = t + 100000000ULL;
	int i;

	if (end && t >= end)
		stop = 1;
	for (i = 0; i < opt.clients; i++) {
		struct conn *c = &cs[i];

		if (c->state == C_DONE)
			continue;
		if (c->op.active && t >= c->op.deadline) {
			record(c, lost_result(c), NULL);
			/* a late reply would be taken for the next op's */
			if (c->state == C_WAIT || c->state == C_CONNECTING)
				backoff(c, true);
		}
		if (c->state == C_CONNECTING && t >= c->wake) {
			st.reconnects++;
			backoff(c, true);
		}
		if (c->state == C_BACKOFF && t >= c->wake) {
			if (!c->op.active && !more_ops())
				c->state = C_DONE;
			else
				conn_connect(c);
		}
		if ((c->state == C_BACKOFF || c->state == C_CONNECTING) && c->wake < next)
			next = c->wake;
		if (c->op.active && c->op.deadline < next)
			next = c->op.deadline;
	}
	return next > t ? (int)((next - t) / 1000000) + 1 : 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double pct(double p)
{
	size_t i;

	if (!st.n_lat)
		return 0;
	i = (size_t)ceil(p / 100.0 * st.n_lat);
	return st.lat[i ? i - 1 : 0] / 1000.0;
}

static void usage(int code)
{
	fprintf(code ? stderr : stdout,
"usage: truth-load [options] --addr HOST:PORT [--addr ...]\n"
"  --proto resp|etcd     RESP (truthd, redis) or etcd's v3 JSON gateway (default resp)\n"
"  --workload set|register|readall   (default set; see the source's header)\n"
"  -c N                  connections, one request outstanding each (default 1)\n"
"  -n N | -d SECONDS     stop after N operations or after a time (default -n 10000)\n"
"  -s BYTES              value size (default 256)\n"
"  -k N                  key space k0..k<N-1> (default 10000); --prefix STR\n"
"  --reads PCT           register: share of reads (default 50)\n"
"  --timeout MS          an op not answered by then is unknown (write) / failed (default 2000)\n"
"  --history FILE        append one line per op (client op key version invoke complete result)\n"
"  --client-base N       first client id in the history (several runs, one file)\n"
"  --seed N              key choice (default: time; printed)\n"
"  -q                    only the summary line\n"
"Prints: ops ok fail unknown, ops/s, p50/p99/max latency of ok ops in microseconds.\n"
"Example: truth-load --addr 127.0.0.1:6379 -c 64 -d 10 -s 256\n");
	exit(code);
}

static void parse_args(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "proto", 1, 0, 'P' }, { "workload", 1, 0, 'w' }, { "addr", 1, 0, 'a' },
		{ "reads", 1, 0, 'r' }, { "timeout", 1, 0, 't' }, { "history", 1, 0, 'H' },
		{ "client-base", 1, 0, 'b' }, { "seed", 1, 0, 'S' }, { "prefix", 1, 0, 'p' },
		{ "help", 0, 0, 'h' }, { 0 }
	};
	char *tok, *save, *end;
	int ch;

	while ((ch = getopt_long(argc, argv, "c:n:d:s:k:qh", lo, NULL)) != -1) {
		switch (ch) {
		case 'P':
			if (strcmp(optarg, "resp") && strcmp(optarg, "etcd"))
				usage(2);
			opt.etcd = !strcmp(optarg, "etcd");
			break;
		case 'w':
			if (!strcmp(optarg, "set"))
				opt.workload = W_SET;
			else if (!strcmp(optarg, "register"))
				opt.workload = W_REGISTER;
			else if (!strcmp(optarg, "readall"))
				opt.workload = W_READALL;
			else
				usage(2);
			break;
		case 'a':
			for (tok = strtok_r(optarg, " ,", &save); tok; tok = strtok_r(NULL, " ,", &save))
				addr_index(tok);
			break;
		case 'c': opt.clients = strtol(optarg, &end, 10); break;
		case 'n': opt.ops = strtoll(optarg, &end, 10); break;
		case 'd': opt.duration = strtod(optarg, &end); break;
		case 's': opt.value_size = strtoul(optarg, &end, 10); break;
		case 'k': opt.keys = strtoul(optarg, &end, 10); break;
		case 'r': opt.reads = strtol(optarg, &end, 10); break;
		case 't': opt.timeout_ns = strtoull(optarg, &end, 10) * 1000000ULL; break;
		case 'H': opt.history = optarg; break;
		case 'b': opt.client_base = strtol(optarg, &end, 10); break;
		case 'S': opt.seed = strtoull(optarg, &end, 10); break;
		case 'p': opt.prefix = optarg; break;
		case 'q': opt.quiet = true; break;
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	if (optind != argc || !opt.n_addrs || opt.clients < 1 || opt.clients > 10000 ||
	    !opt.keys || opt.reads < 0 || opt.reads > 100 || opt.value_size > (1 << 20) ||
	    opt.duration < 0 || opt.ops < 0 || !opt.timeout_ns) {
		fprintf(stderr, "truth-load: bad or missing arguments\n");
		usage(2);
	}
	if (!opt.ops && !opt.duration && opt.workload != W_READALL)
		opt.ops = 10000;
	if (!opt.seed)
		opt.seed = now_ns() ^ getpid();
}

static void on_signal(int sig)
{
	stop = 1;
}

int main(int argc, char **argv)
{
	struct epoll_event ev[64];
	struct conn *cs;
	uint64_t t0, end = 0, elapsed;
	int i, n;

	parse_args(argc, argv);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (opt.history) {
		hist = fopen(opt.history, "a");
		if (!hist) {
			fprintf(stderr, "truth-load: %s: %s\n", opt.history, strerror(errno));
			return 2;
		}
		/* whole lines, as they happen: tests watch the file grow */
		setvbuf(hist, NULL, _IOLBF, 0);
	}
	versions = calloc(opt.keys, sizeof(*versions));
	cs = calloc(opt.clients, sizeof(*cs));
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!versions || !cs || epfd < 0)
		return 2;
	if (!opt.quiet)
		fprintf(stderr, "truth-load: seed %llu\n", (unsigned long long)opt.seed);
	t0 = now_ns();
	if (opt.duration)
		end = t0 + (uint64_t)(opt.duration * 1e9);
	for (i = 0; i < opt.clients; i++) {
		cs[i].id = i;
		cs[i].fd = -1;
		cs[i].addr = i % opt.n_addrs;
		cs[i].next_read = i;
		cs[i].rng = opt.seed + 0x9e3779b97f4a7c15ULL * (i + 1);
		conn_connect(&cs[i]);
	}
	for (;;) {
		int timeout = tick(cs, end), live = 0;

		for (i = 0; i < opt.clients; i++)
			live += cs[i].state != C_DONE;
		if (!live)
			break;
		n = epoll_wait(epfd, ev, 64, timeout);
		for (i = 0; i < n; i++)
			on_event(ev[i].data.ptr, ev[i].events);
	}
	elapsed = now_ns() - t0;
	if (hist)
		fclose(hist);
	qsort(st.lat, st.n_lat, sizeof(*st.lat), cmp_u64);
	printf("truth-load: proto=%s workload=%s clients=%d value=%zu ops=%lld ok=%lld fail=%lld "
	       "unknown=%lld redirects=%lld tryagain=%lld reconnects=%lld elapsed_s=%.3f "
	       "ops_per_s=%.0f p50_us=%.1f p99_us=%.1f max_us=%.1f\n",
	       opt.etcd ? "etcd" : "resp",
	       opt.workload == W_SET ? "set" : opt.workload == W_REGISTER ? "register" : "readall",
	       opt.clients, opt.value_size, st.ok + st.fail + st.unknown, st.ok, st.fail,
	       st.unknown, st.redirects, st.tryagain, st.reconnects, elapsed / 1e9,
	       st.ok / (elapsed / 1e9), pct(50), pct(99), pct(100));
	if (st.first_err[0])
		printf("truth-load: first error: %s\n", st.first_err);
	return st.ok ? 0 : 1;
}
