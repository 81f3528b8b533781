// SPDX-License-Identifier: GPL-2.0
/*
 * truth-torture: the fault campaign's clients (scripts/torture.sh).  N
 * threads, one blocking connection each, record every operation in the
 * history format of Documentation/linearizability.md through the linz
 * recorder: an "unknown" line before the request goes out, the outcome
 * after, so a client killed in between (or a VM powered off) leaves an op
 * that may have happened, never one that cannot.
 *
 * Operations (key names say the model: r* register, c* counter):
 *   write rK V   SET rK V: client c owns the registers K with K % N == c
 *                and writes them with versions 1, 2, 3, ... (one writer per
 *                register, so "no acknowledged write lost" is "the final
 *                version is at least the last acknowledged one")
 *   read rK      GET rK, any register
 *   incr cK 1    INCR cK, counters shared by every client
 *   read cK      GET cK
 *
 * A -MOVED reply sends the op to the leader it names, -TRYAGAIN retries
 * after 50 ms, a refused connection tries the next node: none of them ran
 * the op.  A reply that never came (timeout, connection lost after the
 * send) or any other error ends the op "unknown".  An op that found no
 * node to run it before its deadline is "fail".
 *
 *   truth-torture --addr H:P [--addr ...] --history FILE [--clients N]
 *                 [--registers R] [--counters C] [--duration S] [--timeout-ms T]
 *                 [--seed S] [--sync] [--final]
 *
 * --final reads every register and counter once (client "final"), with
 * retries until each read succeeds or --duration runs out.  --sync makes
 * every history line durable (fdatasync) before the op goes on: the power
 * cut must not lose the record of an acknowledged write.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../host/lib/linz.h"
#include "load_proto.h"

#define MAX_ADDRS	16
#define MAX_REDIRECTS	32

static struct {
	char addrs[MAX_ADDRS][128];
	int n_addrs;
	int clients, registers, counters;
	double duration;
	int64_t timeout_ns;
	uint64_t seed;
	bool sync, final;
	const char *history;
} opt = {
	.clients = 4, .registers = 16, .counters = 2, .duration = 10,
	.timeout_ns = 2000000000LL, .seed = 1,
};

static struct linz_recorder rec;
static pthread_mutex_t addr_lock = PTHREAD_MUTEX_INITIALIZER;
static volatile sig_atomic_t stop;
static int64_t end_ns;

struct client {
	int id;
	int fd;
	int addr;
	uint64_t rng;
	uint64_t *versions;	/* this client's registers: last version used */
	long ok, fail, unknown, final_missing;
	struct lp_buf in, out;
	pthread_t thr;
};

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static void sync_history(void)
{
	if (opt.sync)
		fdatasync(rec.fd);
}

static int addr_index(const char *hp)
{
	int i, ret = 0;

	pthread_mutex_lock(&addr_lock);
	for (i = 0; i < opt.n_addrs; i++)
		if (!strcmp(opt.addrs[i], hp))
			break;
	if (i == opt.n_addrs && opt.n_addrs < MAX_ADDRS)
		snprintf(opt.addrs[opt.n_addrs++], sizeof(opt.addrs[0]), "%s", hp);
	ret = i < opt.n_addrs ? i : 0;
	pthread_mutex_unlock(&addr_lock);
	return ret;
}

static void conn_close(struct client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->in.len = 0;
}

/* connect within the op's deadline; -1 when the node does not answer */
static int conn_open(struct client *c, int64_t deadline)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct pollfd p;
	int fd, err = 0, one = 1, wait_ms;
	socklen_t elen = sizeof(err);
	char hp[128];

	pthread_mutex_lock(&addr_lock);
	snprintf(hp, sizeof(hp), "%s", opt.addrs[c->addr]);
	pthread_mutex_unlock(&addr_lock);
	if (lp_resolve(hp, &ss, &len))
		return -1;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&ss, len) && errno != EINPROGRESS)
		goto fail;
	/* a cut-off node never answers the SYN: give it at most 300 ms */
	wait_ms = (int)((deadline - linz_now_ns()) / 1000000);
	if (wait_ms > 300)
		wait_ms = 300;
	p = (struct pollfd){ .fd = fd, .events = POLLOUT };
	if (wait_ms <= 0 || poll(&p, 1, wait_ms) != 1)
		goto fail;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) || err)
		goto fail;
	c->fd = fd;
	c->in.len = 0;
	return 0;
fail:
	close(fd);
	return -1;
}

/*
 * Send c->out and wait for one reply until the deadline.  0 with *r filled;
 * -1 when nothing was sent (the op did not run there); -2 when the request
 * went out and no reply came (it may have run).
 */
static int roundtrip(struct client *c, struct lp_reply *r, int64_t deadline)
{
	size_t off = 0;
	struct pollfd p = { .fd = c->fd };
	long used;
	ssize_t n;
	int ms;

	while (off < c->out.len) {
		n = send(c->fd, c->out.p + off, c->out.len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EAGAIN) {
			p.events = POLLOUT;
			ms = (int)((deadline - linz_now_ns()) / 1000000);
			if (ms <= 0 || poll(&p, 1, ms) != 1)
				return off ? -2 : -1;
			continue;
		}
		if (n <= 0)
			return off ? -2 : -1;
		off += n;
	}
	for (;;) {
		used = c->in.len ? resp_parse(c->in.p, c->in.len, r) : 0;
		if (used > 0) {
			lp_consume(&c->in, used);
			return 0;
		}
		if (used < 0)
			return -2;
		p.events = POLLIN;
		ms = (int)((deadline - linz_now_ns()) / 1000000);
		if (ms <= 0 || poll(&p, 1, ms) != 1)
			return -2;
		lp_need(&c->in, 4096);
		n = recv(c->fd, c->in.p + c->in.len, c->in.cap - c->in.len, 0);
		if (n <= 0)
			return -2;
		c->in.len += n;
	}
}

enum outcome { OUT_OK, OUT_FAIL, OUT_UNKNOWN };

/*
 * Run the request in c->out against the cluster, following redirects,
 * until it has a definite answer or the deadline.  OUT_OK leaves the
 * reply in *r (valid until the next call).
 */
static enum outcome run_op(struct client *c, struct lp_reply *r, int64_t deadline)
{
	int redirects = 0, tries = 0, ret;

	while (linz_now_ns() < deadline) {
		if (c->fd < 0 && conn_open(c, deadline)) {
			/* refused or silent: nothing sent, try the next node */
			c->addr = (c->addr + 1) % opt.n_addrs;
			if (++tries % opt.n_addrs == 0)
				usleep(50000);
			continue;
		}
		ret = roundtrip(c, r, deadline);
		if (ret == -1) {
			conn_close(c);
			c->addr = (c->addr + 1) % opt.n_addrs;
			continue;
		}
		if (ret == -2) {
			conn_close(c);
			c->addr = (c->addr + 1) % opt.n_addrs;
			return OUT_UNKNOWN;
		}
		switch (r->kind) {
		case LP_MOVED:
			conn_close(c);
			if (++redirects > MAX_REDIRECTS || !r->moved[0]) {
				usleep(50000);
				redirects = 0;
			}
			if (r->moved[0])
				c->addr = addr_index(r->moved);
			continue;
		case LP_TRYAGAIN:
			usleep(50000);
			continue;
		case LP_ERROR:
			return OUT_UNKNOWN;
		default:
			return OUT_OK;
		}
	}
	return OUT_FAIL;
}

static void req(struct lp_buf *b, const char *cmd, const char *key, const char *val)
{
	b->len = 0;
	lp_printf(b, "*%d\r\n", val ? 3 : 2);
	resp_arg(b, cmd, strlen(cmd));
	resp_arg(b, key, strlen(key));
	if (val)
		resp_arg(b, val, strlen(val));
}

/* one op: record, run, record; returns its outcome */
static enum outcome one_op(struct client *c, const char *name, const char *op,
			   const char *cmd, const char *key, const char *val)
{
	struct linz_call call;
	struct lp_reply r;
	const char *args[1] = { val };
	enum outcome o;
	char res[64];

	memset(&r, 0, sizeof(r));
	req(&c->out, cmd, key, !strcmp(cmd, "INCR") ? NULL : val);
	if (linz_record_invoke(&rec, &call, name, op, key, args, val ? 1 : 0)) {
		fprintf(stderr, "truth-torture: cannot write the history\n");
		exit(2);
	}
	sync_history();
	o = run_op(c, &r, linz_now_ns() + opt.timeout_ns);
	if (o == OUT_OK) {
		if (r.kind == LP_NIL)
			res[0] = 0;
		else if (r.kind == LP_INT)
			snprintf(res, sizeof(res), "%lld", r.num);
		else if (r.kind == LP_VALUE)
			snprintf(res, sizeof(res), "%.*s", (int)(r.val_len < 60 ? r.val_len : 60), r.val);
		else
			snprintf(res, sizeof(res), "OK");
		/* an INCR answers :n, a GET of a counter its decimal string */
		linz_record_ok(&rec, &call, r.kind == LP_NIL ? NULL : res);
		c->ok++;
	} else if (o == OUT_FAIL) {
		linz_record_fail(&rec, &call);
		c->fail++;
	} else {
		linz_record_unknown(&rec, &call);
		c->unknown++;
	}
	sync_history();
	return o;
}

static void *client_main(void *arg)
{
	struct client *c = arg;
	char name[16], key[32], val[32];
	unsigned int pick, k, own;

	snprintf(name, sizeof(name), "c%d", c->id);
	own = (opt.registers - c->id + opt.clients - 1) / opt.clients;
	while (!stop && linz_now_ns() < end_ns) {
		pick = rnd(&c->rng) % 100;
		if (pick < 35 && own > 0) {
			k = c->id + opt.clients * (rnd(&c->rng) % own);
			snprintf(key, sizeof(key), "r%u", k);
			snprintf(val, sizeof(val), "%llu",
				 (unsigned long long)++c->versions[k]);
			one_op(c, name, "write", "SET", key, val);
		} else if (pick < 65) {
			snprintf(key, sizeof(key), "r%u", (unsigned int)(rnd(&c->rng) % opt.registers));
			one_op(c, name, "read", "GET", key, NULL);
		} else if (pick < 85 && opt.counters > 0) {
			snprintf(key, sizeof(key), "c%u", (unsigned int)(rnd(&c->rng) % opt.counters));
			one_op(c, name, "incr", "INCR", key, "1");
		} else if (opt.counters > 0) {
			snprintf(key, sizeof(key), "c%u", (unsigned int)(rnd(&c->rng) % opt.counters));
			one_op(c, name, "read", "GET", key, NULL);
		}
	}
	conn_close(c);
	return NULL;
}

/* the final read of every key: retried until ok (a read changes nothing) */
static void final_reads(struct client *c)
{
	char key[32];
	int k, kind;

	for (kind = 0; kind < 2; kind++)
		for (k = 0; k < (kind ? opt.counters : opt.registers); k++) {
			snprintf(key, sizeof(key), "%c%d", kind ? 'c' : 'r', k);
			while (one_op(c, "final", "read", "GET", key, NULL) != OUT_OK) {
				if (linz_now_ns() >= end_ns) {
					fprintf(stderr, "truth-torture: final read of %s failed\n", key);
					c->final_missing++;
					break;
				}
				usleep(100000);
			}
		}
}

static void on_signal(int sig)
{
	stop = 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: truth-torture --addr HOST:PORT [--addr ...] --history FILE\n"
		"  [--clients N] [--registers R] [--counters C] [--duration S]\n"
		"  [--timeout-ms T] [--seed S] [--sync] [--final]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "addr", 1, NULL, 'a' }, { "history", 1, NULL, 'H' },
		{ "clients", 1, NULL, 'c' }, { "registers", 1, NULL, 'r' },
		{ "counters", 1, NULL, 'k' }, { "duration", 1, NULL, 'd' },
		{ "timeout-ms", 1, NULL, 't' }, { "seed", 1, NULL, 's' },
		{ "sync", 0, NULL, 'S' }, { "final", 0, NULL, 'F' }, { 0 }
	};
	struct client *cl;
	long ok = 0, fail = 0, unknown = 0, missing = 0;
	int o, i;

	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (o) {
		case 'a':
			if (opt.n_addrs == MAX_ADDRS)
				usage();
			snprintf(opt.addrs[opt.n_addrs++], sizeof(opt.addrs[0]), "%s", optarg);
			break;
		case 'H': opt.history = optarg; break;
		case 'c': opt.clients = atoi(optarg); break;
		case 'r': opt.registers = atoi(optarg); break;
		case 'k': opt.counters = atoi(optarg); break;
		case 'd': opt.duration = atof(optarg); break;
		case 't': opt.timeout_ns = atoll(optarg) * 1000000LL; break;
		case 's': opt.seed = strtoull(optarg, NULL, 0); break;
		case 'S': opt.sync = true; break;
		case 'F': opt.final = true; break;
		default: usage();
		}
	}
	if (!opt.n_addrs || !opt.history || opt.clients < 1 || opt.clients > 64 ||
	    opt.registers < 1 || opt.counters < 0 || opt.duration <= 0 || opt.timeout_ns <= 0)
		usage();
	if (linz_recorder_open(&rec, opt.history)) {
		fprintf(stderr, "truth-torture: %s: %s\n", opt.history, strerror(errno));
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	end_ns = linz_now_ns() + (int64_t)(opt.duration * 1e9);
	cl = calloc(opt.clients, sizeof(*cl));
	if (!cl)
		return 2;
	for (i = 0; i < opt.clients; i++) {
		cl[i].id = i;
		cl[i].fd = -1;
		cl[i].addr = i % opt.n_addrs;
		cl[i].rng = opt.seed * 0x9e3779b97f4a7c15ULL + i + 1;
		cl[i].versions = calloc(opt.registers, sizeof(uint64_t));
		if (!cl[i].versions)
			return 2;
	}
	if (opt.final) {
		final_reads(&cl[0]);
	} else {
		for (i = 0; i < opt.clients; i++)
			pthread_create(&cl[i].thr, NULL, client_main, &cl[i]);
		for (i = 0; i < opt.clients; i++)
			pthread_join(cl[i].thr, NULL);
	}
	for (i = 0; i < opt.clients; i++) {
		ok += cl[i].ok;
		fail += cl[i].fail;
		unknown += cl[i].unknown;
		missing += cl[i].final_missing;
	}
	printf("truth-torture: %ld ops: %ld ok, %ld fail, %ld unknown\n",
	       ok + fail + unknown, ok, fail, unknown);
	linz_recorder_close(&rec);
	return missing ? 1 : 0;
}
