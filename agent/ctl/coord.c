// SPDX-License-Identifier: GPL-2.0
/*
 * truthctl get|put|del|incr|lock|elect|barrier|watch: truthd's keys and
 * coordination from the shell, over libtruth (Documentation/coordination.md).
 */

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <truth/libtruth.h>

#include "ctl.h"

#define MAX_NODES	16

struct opts {
	const char *nodes[MAX_NODES];	/* --addr / --socket / TRUTH_ADDR */
	unsigned int nnodes;
	bool json;			/* --json */
	bool prefix;			/* watch --prefix */
	bool leave;			/* barrier --leave */
	bool observe;			/* elect --observe */
	bool commit_wait;		/* put --commit-wait */
	long long ttl_ms;		/* --ttl */
	long long timeout_ms;		/* --timeout, -1 = wait for ever */
	unsigned long long from;	/* watch --from */
	unsigned long long count;	/* watch --count, 0 = for ever */
	char **rest;			/* positional arguments */
	int nrest;
	char **cmd;			/* lock: the command after "--" */
};

static char addr_env[1024];

static void help(const char *sub)
{
	printf("Usage: %s %s [--addr HOST:PORT]... [--socket PATH] [--json] ...\n\n", prog_name, sub);
	printf("  get KEY                       print the value (exit 1 if missing)\n"
	       "  put KEY VALUE [OPTION...]     set it; SET's options pass through, e.g.\n"
	       "                                FENCE NAME TOKEN (refused: exit 1, 'FENCED' on stderr),\n"
	       "                                SESSION ID, EX SECONDS, NX\n"
	       "                                --commit-wait: answer once the entry's HLC (shown by\n"
	       "                                --json) is past on the leader's clock\n"
	       "  del KEY...                    delete, print how many existed\n"
	       "  incr KEY [N]                  add N (1), print the result\n"
	       "  lock NAME [--ttl MS] [--timeout MS] -- CMD [ARG...]\n"
	       "                                run CMD holding lock NAME; CMD gets TRUTH_FENCING_TOKEN,\n"
	       "                                TRUTH_LOCK_NAME and TRUTH_SESSION; exits with CMD's status\n"
	       "  elect NAME VALUE [--ttl MS]   campaign, print the token once leader, lead until\n"
	       "                                SIGINT/SIGTERM, then resign\n"
	       "  elect NAME --observe [--from REV] [--count N]\n"
	       "                                print every change of NAME's leader: REV put|del KEY [VALUE]\n"
	       "  barrier NAME N [--leave]      wait until N have entered (and, with --leave, left)\n"
	       "  watch KEY [--prefix] [--from REV] [--count N]\n"
	       "                                print every change: REV put|del KEY [VALUE]\n\n"
	       "Members: --addr (repeat for each), --socket PATH, or TRUTH_ADDR=host:port,...;\n"
	       "default 127.0.0.1:6381.  Writes follow -MOVED to the leader and are retried\n"
	       "with one client id and sequence, so they apply once.\n\n"
	       "Examples:\n"
	       "  truthctl put config/mode blue                  # OK\n"
	       "  truthctl get config/mode --json                # {\"key\":\"config/mode\",\"value\":\"blue\"}\n"
	       "  truthctl put backup/state done FENCE backup \"$TRUTH_FENCING_TOKEN\"\n"
	       "  truthctl del config/mode jobs/1                # 2 (how many existed)\n"
	       "  truthctl incr jobs/done 5                      # the new value\n"
	       "  truthctl lock backup --ttl 10000 -- sh -c 'run-backup --fence \"$TRUTH_FENCING_TOKEN\"'\n"
	       "  truthctl lock backup --timeout 0 -- true       # exit 1 at once if it is held\n"
	       "  truthctl lock backup --json -- true            # {\"lock\":\"backup\",\"token\":12,...}\n"
	       "  truthctl elect scheduler host-a:8080 --json    # once leader: {...,\"token\":20,...}\n"
	       "  truthctl elect scheduler --observe --count 1   # the current leader\n"
	       "  truthctl barrier round-7 3 --leave\n"
	       "  truthctl watch jobs/ --prefix --from 1 --json  # one JSON line per change\n");
}

static int parse(int argc, char *argv[], struct opts *o)
{
	const char *env = getenv("TRUTH_ADDR");
	int i;

	memset(o, 0, sizeof(*o));
	o->ttl_ms = 10000;
	o->timeout_ms = -1;
	o->rest = calloc((size_t)argc + 1, sizeof(char *));
	if (!o->rest)
		return -1;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool more = i + 1 < argc;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			help(argv[0]);
			exit(0);
		} else if (!strcmp(a, "--")) {
			o->cmd = argv + i + 1;
			break;
		} else if (!strcmp(a, "--json")) {
			o->json = true;
		} else if (!strcmp(a, "--prefix")) {
			o->prefix = true;
		} else if (!strcmp(a, "--leave")) {
			o->leave = true;
		} else if (!strcmp(a, "--observe")) {
			o->observe = true;
		} else if (!strcmp(a, "--commit-wait")) {
			o->commit_wait = true;
		} else if ((!strcmp(a, "--addr") || !strcmp(a, "--socket")) && more) {
			if (o->nnodes == MAX_NODES) {
				fprintf(stderr, "%s: at most %d members\n", prog_name, MAX_NODES);
				return -1;
			}
			o->nodes[o->nnodes++] = argv[++i];
		} else if (!strcmp(a, "--ttl") && more) {
			unsigned long long v;

			if (parse_u64("--ttl", argv[++i], &v) || !v)
				return -1;
			o->ttl_ms = (long long)v;
		} else if (!strcmp(a, "--timeout") && more) {
			unsigned long long v;

			if (parse_u64("--timeout", argv[++i], &v))
				return -1;
			o->timeout_ms = (long long)v;
		} else if (!strcmp(a, "--from") && more) {
			if (parse_u64("--from", argv[++i], &o->from))
				return -1;
		} else if (!strcmp(a, "--count") && more) {
			if (parse_u64("--count", argv[++i], &o->count))
				return -1;
		} else if (a[0] == '-' && a[1] == '-') {
			fprintf(stderr, "%s %s: unknown or incomplete option '%s' (try --help)\n",
				prog_name, argv[0], a);
			return -1;
		} else {
			o->rest[o->nrest++] = argv[i];
		}
	}
	if (!o->nnodes && env && *env) {
		char *save = NULL, *tok;

		snprintf(addr_env, sizeof(addr_env), "%s", env);
		for (tok = strtok_r(addr_env, ",", &save); tok && o->nnodes < MAX_NODES;
		     tok = strtok_r(NULL, ",", &save))
			o->nodes[o->nnodes++] = tok;
	}
	if (!o->nnodes)
		o->nodes[o->nnodes++] = "127.0.0.1:6381";
	return 0;
}

static struct truth_client *client(const struct opts *o)
{
	struct truth_client_config cfg = { .nodes = o->nodes, .nnodes = o->nnodes };
	struct truth_client *c;
	char err[256];

	c = truth_client_new(&cfg, err, sizeof(err));
	if (!c)
		fprintf(stderr, "%s: %s\n", prog_name, err);
	return c;
}

static int fail(struct truth_client *c, const char *what, int r)
{
	fprintf(stderr, "%s: %s: %s\n", prog_name, what,
		r == -EPROTO || r < 0 ? truth_client_error(c) : "no");
	return 1;
}

/* A JSON string (quotes and escapes). */
static void json_str(const char *s, size_t n)
{
	size_t i;

	putchar('"');
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

/* ------------------------------------------------------------- keys */

static int kv(const char *sub, struct opts *o)
{
	struct truth_client *c = client(o);
	const char *argv[64];
	struct truth_reply *r = NULL;
	unsigned int argc = 0;
	uint64_t hlc = 0;
	int i, ret;

	if (!c)
		return 1;
	if ((!strcmp(sub, "get") && o->nrest != 1) ||
	    (!strcmp(sub, "put") && (o->nrest < 2 || o->nrest > 60)) ||
	    (!strcmp(sub, "del") && (o->nrest < 1 || o->nrest > 60)) ||
	    (!strcmp(sub, "incr") && (o->nrest < 1 || o->nrest > 2))) {
		fprintf(stderr, "%s %s: wrong arguments (try --help)\n", prog_name, sub);
		truth_client_free(c);
		return 1;
	}
	argv[argc++] = !strcmp(sub, "put") ? "SET" : !strcmp(sub, "incr") ?
		       (o->nrest == 2 ? "INCRBY" : "INCR") : sub;
	for (i = 0; i < o->nrest; i++)
		argv[argc++] = o->rest[i];
	/* put: the entry's HLC (and its commit wait) is part of the answer */
	ret = truth_client_call_hlc(c, &r, &hlc, strcmp(sub, "put") ? 0 :
				    o->commit_wait ? TRUTH_CALL_COMMITWAIT : TRUTH_CALL_HLC,
				    argc, argv);
	if (ret) {
		ret = fail(c, sub, ret);
	} else if (r->type == TRUTH_REPLY_ERROR) {
		fprintf(stderr, "%s: %s: %s\n", prog_name, sub, r->str);
		ret = 1;
	} else if (o->json) {
		printf("{\"key\":");
		json_str(o->rest[0], strlen(o->rest[0]));
		if (r->type == TRUTH_REPLY_INTEGER)
			printf(",\"%s\":%lld}\n", !strcmp(sub, "del") ? "deleted" : "value",
			       r->integer);
		else if (r->type == TRUTH_REPLY_STRING) {
			printf(",\"value\":");
			json_str(r->str, r->len);
			printf("}\n");
		} else {
			printf(",%s", r->type == TRUTH_REPLY_NIL ? "\"value\":null" : "\"ok\":true");
			if (hlc)
				printf(",\"hlc\":%llu", (unsigned long long)hlc);
			printf("}\n");
		}
		ret = r->type == TRUTH_REPLY_NIL;
	} else if (r->type == TRUTH_REPLY_STRING) {
		fwrite(r->str, 1, r->len, stdout);
		putchar('\n');
	} else if (r->type == TRUTH_REPLY_INTEGER) {
		printf("%lld\n", r->integer);
	} else if (r->type == TRUTH_REPLY_NIL) {
		ret = 1;	/* get: no such key */
	} else {
		printf("%s\n", r->str);
	}
	truth_reply_free(r);
	truth_client_free(c);
	return ret;
}

/* -------------------------------------------------------- keepalive */

struct keeper {
	struct opts *o;			/* members, ttl */
	uint64_t session;		/* kept alive */
	volatile bool stop;		/* set by the main thread */
	volatile bool lost;		/* the session is gone or may be */
	int64_t sent_ok;		/* when the last acknowledged keepalive was sent (ns) */
};

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * Until when the session is surely alive: 9/10 of the TTL after the last
 * acknowledged keepalive (or the open) was *sent* (Documentation/
 * coordination.md, "Time").  The server ends it no earlier than a TTL
 * after it received that request.
 */
static int64_t valid_until(const struct keeper *k)
{
	return __atomic_load_n(&k->sent_ok, __ATOMIC_ACQUIRE) + k->o->ttl_ms * 900000;
}

/*
 * Keep the session alive from a second connection every ttl/4.  Its calls
 * time out after ttl/6 and move to another member, so a crashed or cut-off
 * leader does not hold the keepalives up for longer than the lease; the
 * lease itself is watched by whoever relies on it (valid_until()), not
 * here, because a call may be on its way when it runs out.
 */
static void *keep(void *arg)
{
	struct keeper *k = arg;
	int64_t step = k->o->ttl_ms / 4 ? k->o->ttl_ms / 4 : 1, wait = k->o->ttl_ms / 6;
	struct truth_client_config cfg = {
		.nodes = k->o->nodes, .nnodes = k->o->nnodes,
		.reply_timeout_ms = wait < 100 ? 100 : wait > 2000 ? 2000 : (int)wait,
		.connect_timeout_ms = wait < 100 ? 100 : wait > 2000 ? 2000 : (int)wait,
	};
	struct truth_client *c;
	char err[256];

	c = truth_client_new(&cfg, err, sizeof(err));
	while (c && !k->stop && !k->lost) {
		int64_t t = mono_ns();
		int r;

		while (!k->stop && mono_ns() < t + step * 1000000)
			usleep(20000);
		if (k->stop)
			break;
		t = mono_ns();
		r = truth_session_keepalive(c, k->session);
		if (!r)
			__atomic_store_n(&k->sent_ok, t, __ATOMIC_RELEASE);
		if (r == -EPROTO || mono_ns() >= valid_until(k)) {
			fprintf(stderr, "%s: session %llu lost: %s\n", prog_name,
				(unsigned long long)k->session,
				r ? truth_client_error(c) : "no keepalive acknowledged in time");
			k->lost = true;
		}
	}
	truth_client_free(c);
	return NULL;
}

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

/* --------------------------------------------------------- recipes */

/*
 * Wait for CMD while the lease lasts.  If the session is lost or may be
 * (keepalives refused, or none acknowledged within 9/10 of the TTL), CMD
 * is told to stop (SIGTERM, SIGKILL 2 s later): from then on it no longer
 * holds the lock.  *until is when CMD stopped holding it: its exit, or
 * the end of the lease.
 */
static int run_holding(struct keeper *k, pid_t child, int64_t *until)
{
	int64_t killed = 0;
	int status = 0;

	*until = 0;
	for (;;) {
		pid_t w = waitpid(child, &status, WNOHANG);
		int64_t now = mono_ns();

		if (w == child)
			break;
		if (w < 0 && errno != EINTR)
			return 1;
		if (!killed && (k->lost || now >= valid_until(k))) {
			if (!k->lost)
				fprintf(stderr, "%s: session %llu: no keepalive acknowledged within "
					"9/10 of its TTL: stopping the command\n", prog_name,
					(unsigned long long)k->session);
			k->lost = true;
			*until = now < valid_until(k) ? now : valid_until(k);
			kill(child, SIGTERM);
			killed = now;
		} else if (killed && now - killed > 2000000000LL) {
			kill(child, SIGKILL);
			killed = INT64_MAX / 2;
		}
		usleep(5000);
	}
	if (!*until)
		*until = mono_ns();
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int lock_cmd(struct opts *o)
{
	struct keeper k = { .o = o };
	int64_t held_from = 0, held_until = 0;
	struct truth_client *c;
	uint64_t token = 0;
	pthread_t th;
	int r, ret = 1;

	if (o->nrest != 1 || !o->cmd || !o->cmd[0]) {
		fprintf(stderr, "%s lock: usage: lock NAME [--ttl MS] [--timeout MS] -- CMD [ARG...]\n",
			prog_name);
		return 1;
	}
	c = client(o);
	if (!c)
		return 1;
	k.sent_ok = mono_ns();	/* the lease runs from the open's sending */
	r = truth_session_open(c, o->ttl_ms, &k.session);
	if (r) {
		fail(c, "session", r);
		goto out;
	}
	pthread_create(&th, NULL, keep, &k);
	r = truth_lock_acquire(c, o->rest[0], k.session, o->timeout_ms, &token);
	held_from = mono_ns();
	if (r == 1) {
		fprintf(stderr, "%s: lock %s: not acquired within %lld ms\n", prog_name,
			o->rest[0], o->timeout_ms);
	} else if (r) {
		fail(c, "lock", r);
	} else if (k.lost || held_from >= valid_until(&k)) {
		/* granted to a session that may have ended: the grant is worth nothing */
		fprintf(stderr, "%s: lock %s: granted (token %llu) after the session may have "
			"ended: not running the command\n", prog_name, o->rest[0],
			(unsigned long long)token);
		k.lost = true;
	} else {
		char tok[24], sid[24];
		pid_t child;

		snprintf(tok, sizeof(tok), "%llu", (unsigned long long)token);
		snprintf(sid, sizeof(sid), "%llu", (unsigned long long)k.session);
		child = fork();
		if (child == 0) {
			setenv("TRUTH_FENCING_TOKEN", tok, 1);
			setenv("TRUTH_LOCK_NAME", o->rest[0], 1);
			setenv("TRUTH_SESSION", sid, 1);
			execvp(o->cmd[0], o->cmd);
			fprintf(stderr, "%s: %s: %s\n", prog_name, o->cmd[0], strerror(errno));
			_exit(127);
		}
		ret = child < 0 ? 1 : run_holding(&k, child, &held_until);
		if (k.lost)
			ret = ret ? ret : 1;
		/* lost or not: if the session lives on, the lock is free at once */
		truth_lock_release(c, o->rest[0], k.session, token);
		/* held_*_ns: CLOCK_MONOTONIC, when this process held the lock (for histories) */
		if (o->json)
			printf("{\"lock\":\"%s\",\"token\":%llu,\"session\":%llu,\"exit\":%d,"
			       "\"session_lost\":%s,\"held_from_ns\":%lld,\"held_until_ns\":%lld}\n",
			       o->rest[0], (unsigned long long)token, (unsigned long long)k.session,
			       ret, k.lost ? "true" : "false", (long long)held_from,
			       (long long)held_until);
	}
	k.stop = true;
	pthread_join(th, NULL);
	truth_session_close(c, k.session);
out:
	truth_client_free(c);
	return ret;
}

static int elect_cmd(struct opts *o)
{
	struct keeper k = { .o = o };
	struct truth_client *c;
	uint64_t token = 0;
	pthread_t th;
	int r, ret = 1;

	if (o->nrest != 2) {
		fprintf(stderr, "%s elect: usage: elect NAME VALUE [--ttl MS]\n", prog_name);
		return 1;
	}
	c = client(o);
	if (!c)
		return 1;
	k.sent_ok = mono_ns();
	r = truth_session_open(c, o->ttl_ms, &k.session);
	if (r) {
		fail(c, "session", r);
		goto out;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	pthread_create(&th, NULL, keep, &k);
	r = truth_elect_campaign(c, o->rest[0], k.session, o->rest[1], &token);
	if (r) {
		fail(c, "campaign", r);
	} else {
		if (o->json)
			printf("{\"election\":\"%s\",\"leader\":true,\"token\":%llu,\"session\":%llu}\n",
			       o->rest[0], (unsigned long long)token, (unsigned long long)k.session);
		else
			printf("leader of %s, token %llu\n", o->rest[0], (unsigned long long)token);
		fflush(stdout);
		while (!got_signal && !k.lost && mono_ns() < valid_until(&k))
			usleep(20000);
		if (!got_signal && !k.lost)
			fprintf(stderr, "%s: session %llu: no keepalive acknowledged within 9/10 "
				"of its TTL: no longer leading\n", prog_name,
				(unsigned long long)k.session);
		k.lost = k.lost || !got_signal;
		ret = k.lost;
		if (!k.lost)
			truth_elect_resign(c, o->rest[0], k.session, token);
	}
	k.stop = true;
	pthread_join(th, NULL);
	truth_session_close(c, k.session);
out:
	truth_client_free(c);
	return ret;
}

static int barrier_cmd(struct opts *o)
{
	struct keeper k = { .o = o };
	unsigned long long n = 0;
	struct truth_client *c;
	pthread_t th;
	int r, ret = 1;

	if (o->nrest != 2 || parse_u64("N", o->rest[1], &n) || !n || n > 65536) {
		fprintf(stderr, "%s barrier: usage: barrier NAME N [--leave] (1 <= N <= 65536)\n",
			prog_name);
		return 1;
	}
	c = client(o);
	if (!c)
		return 1;
	k.sent_ok = mono_ns();
	r = truth_session_open(c, o->ttl_ms, &k.session);
	if (r) {
		fail(c, "session", r);
		goto out;
	}
	pthread_create(&th, NULL, keep, &k);
	r = truth_barrier_enter(c, o->rest[0], (unsigned int)n, k.session);
	if (!r && o->leave)
		r = truth_barrier_leave(c, o->rest[0], k.session);
	if (r) {
		fail(c, "barrier", r);
	} else {
		ret = 0;
		if (o->json)
			printf("{\"barrier\":\"%s\",\"participants\":%llu,\"left\":%s}\n",
			       o->rest[0], n, o->leave ? "true" : "false");
		else
			printf("barrier %s: %llu entered%s\n", o->rest[0], n,
			       o->leave ? ", all left" : "");
	}
	k.stop = true;
	pthread_join(th, NULL);
	truth_session_close(c, k.session);
out:
	truth_client_free(c);
	return ret;
}

/* Print one push ["watch", id, rev, type, key, value]; its revision, 0 if not an event. */
static unsigned long long print_event(const struct truth_reply *r, bool json)
{
	const struct truth_reply *const *e = (const struct truth_reply *const *)r->elem;

	if (r->type != TRUTH_REPLY_ARRAY || r->n != 6 || e[2]->type != TRUTH_REPLY_INTEGER ||
	    e[3]->type != TRUTH_REPLY_STRING || e[4]->type != TRUTH_REPLY_STRING)
		return 0;
	if (json) {
		printf("{\"revision\":%lld,\"type\":\"%s\",\"key\":", e[2]->integer, e[3]->str);
		json_str(e[4]->str, e[4]->len);
		printf(",\"value\":");
		if (e[5]->type == TRUTH_REPLY_STRING)
			json_str(e[5]->str, e[5]->len);
		else
			printf("null");
		printf("}\n");
	} else {
		printf("%lld %s %s", e[2]->integer, e[3]->str, e[4]->str);
		if (e[5]->type == TRUTH_REPLY_STRING)
			printf(" %s", e[5]->str);
		putchar('\n');
	}
	fflush(stdout);
	return (unsigned long long)e[2]->integer;
}

/*
 * Watch (or observe an election), and re-watch from the next revision
 * whenever the connection breaks or, after two quiet seconds, its member
 * no longer leads (a leader cut off by a partition sends nothing, not
 * even a reset).
 */
static int watch_cmd(struct opts *o)
{
	unsigned long long seen = 0, next = o->from;
	int ret = 1;

	if (o->observe && o->nrest != 1) {
		fprintf(stderr, "%s elect: usage: elect NAME --observe [--from REV] [--count N]\n",
			prog_name);
		return 1;
	}
	if (o->nrest != 1) {
		fprintf(stderr, "%s watch: usage: watch KEY [--prefix] [--from REV] [--count N]\n",
			prog_name);
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	while (!got_signal) {
		struct truth_client *c = client(o);
		struct truth_reply *r = NULL;
		const char *argv[5] = { o->observe ? "ELECT.OBSERVE" : "WATCH", o->rest[0] };
		unsigned int argc = 2;
		int64_t quiet = mono_ns();
		char from[24];

		if (!c)
			return 1;
		if (o->prefix && !o->observe)
			argv[argc++] = "PREFIX";
		if (next) {
			snprintf(from, sizeof(from), "%llu", next);
			argv[argc++] = "FROM";
			argv[argc++] = from;
		}
		if (truth_client_call(c, &r, argc, argv) || r->type == TRUTH_REPLY_ERROR) {
			fprintf(stderr, "%s: watch: %s\n", prog_name,
				r ? r->str : truth_client_error(c));
			truth_reply_free(r);
			truth_client_free(c);
			return 1;	/* COMPACTED or no member: the caller decides */
		}
		truth_reply_free(r);
		while (!got_signal) {
			unsigned long long rev;
			int e = truth_client_next(c, &r, 200);

			if (e == -ETIMEDOUT) {
				if (mono_ns() - quiet < 2000000000LL)
					continue;
				if (truth_client_probe(c))
					break;	/* resume where a leader is */
				quiet = mono_ns();
				continue;
			}
			if (e)
				break;	/* reconnect and resume */
			quiet = mono_ns();
			if (r->type == TRUTH_REPLY_ARRAY && r->n == 6 &&
			    r->elem[3]->type == TRUTH_REPLY_STRING &&
			    !strcmp(r->elem[3]->str, "compacted")) {
				fprintf(stderr, "%s: watch: revisions before %lld are compacted\n",
					prog_name, r->elem[2]->integer);
				truth_reply_free(r);
				truth_client_free(c);
				return 1;
			}
			rev = print_event(r, o->json);
			truth_reply_free(r);
			if (rev)
				next = rev + 1;
			if (rev && o->count && ++seen >= o->count) {
				truth_client_free(c);
				return 0;
			}
		}
		truth_client_free(c);
		ret = 0;
	}
	return ret;
}

int coord_main(int argc, char *argv[])
{
	struct opts o;
	int ret;

	if (parse(argc, argv, &o)) {
		free(o.rest);
		return 1;
	}
	if (!strcmp(argv[0], "lock"))
		ret = lock_cmd(&o);
	else if (!strcmp(argv[0], "elect"))
		ret = o.observe ? watch_cmd(&o) : elect_cmd(&o);
	else if (!strcmp(argv[0], "barrier"))
		ret = barrier_cmd(&o);
	else if (!strcmp(argv[0], "watch"))
		ret = watch_cmd(&o);
	else
		ret = kv(argv[0], &o);
	free(o.rest);
	return ret;
}
