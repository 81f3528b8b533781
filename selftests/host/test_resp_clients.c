// SPDX-License-Identifier: GPL-2.0
/*
 * Real Redis clients against the RESP layer: a minimal poll() server in
 * this test (the real one is truthd's) serves truth_resp_session over
 * loopback TCP with the reference store, and redis-cli and
 * redis-benchmark (Debian redis-tools) talk to it.  Checks that what the
 * unit tests assert byte by byte is also what real clients accept:
 * replies, pipelining at depth, RESP3 after HELLO 3, and that
 * `redis-cli -c` follows truth's -MOVED redirect from a follower.
 *
 * Skips when redis-cli / redis-benchmark are missing.  Traffic stays on
 * 127.0.0.1.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "resp/resp.h"
#include "kselftest_harness.h"

#define MAX_CONNS	128

struct conn {
	int fd;				/* socket, -1 if free */
	struct truth_resp_session s;	/* its protocol state */
};

/* A follower's handler: every keyspace request goes to the leader. */
static int redirect_execute(void *ctx, struct truth_resp_session *s,
			    const struct truth_resp_request *req)
{
	truth_resp_add_moved(&s->out, 1, ctx);
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void conn_close(struct conn *c)
{
	close(c->fd);
	c->fd = -1;
	truth_resp_session_fini(&c->s);
}

/* Serve until killed.  leader_addr: act as a follower redirecting there. */
static void serve(int lfd, const char *leader_addr)
{
	static struct conn conns[MAX_CONNS];
	struct truth_resp_store_backend b = { truth_resp_store_new(), 0 };
	struct truth_resp_handler h;
	struct pollfd pfd[MAX_CONNS + 1];
	uint64_t next_id = 1;
	char buf[16384];
	int i;

	truth_resp_store_handler(&h, &b);
	if (leader_addr) {
		h.execute = redirect_execute;
		h.ctx = (void *)leader_addr;
		h.leader = false;
	}
	for (i = 0; i < MAX_CONNS; i++)
		conns[i].fd = -1;
	for (;;) {
		pfd[0] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		for (i = 0; i < MAX_CONNS; i++) {
			pfd[i + 1].fd = conns[i].fd;
			pfd[i + 1].events = conns[i].s.out.len ? POLLOUT : POLLIN;
		}
		if (poll(pfd, MAX_CONNS + 1, -1) < 0 && errno != EINTR)
			_exit(1);
		if (pfd[0].revents & POLLIN) {
			int fd = accept(lfd, NULL, NULL), one = 1;

			for (i = 0; fd >= 0 && i < MAX_CONNS && conns[i].fd >= 0; i++)
				;
			if (fd >= 0 && i < MAX_CONNS &&
			    !truth_resp_session_init(&conns[i].s, next_id++, NULL)) {
				setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
				conns[i].fd = fd;
			} else if (fd >= 0) {
				close(fd);
			}
		}
		for (i = 0; i < MAX_CONNS; i++) {
			struct conn *c = &conns[i];
			ssize_t n;

			if (c->fd < 0 || !pfd[i + 1].revents)
				continue;
			if (c->s.out.len) {
				n = write(c->fd, c->s.out.buf, c->s.out.len);
				if (n < 0) {
					conn_close(c);
					continue;
				}
				truth_resp_out_consume(&c->s.out, (size_t)n);
				if (!c->s.out.len && c->s.closing)
					conn_close(c);
				continue;
			}
			n = read(c->fd, buf, sizeof(buf));
			if (n <= 0) {
				conn_close(c);
				continue;
			}
			b.now_ms = now_ms();
			/* the store handler never defers: everything is consumed */
			truth_resp_session_feed(&c->s, buf, (size_t)n, &h);
		}
	}
}

/* Start a server on an ephemeral loopback port; returns its pid. */
static pid_t server_start(int *port, const char *leader_addr)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof(a);
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	pid_t pid;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(lfd, 128) || getsockname(lfd, (struct sockaddr *)&a, &al))
		return -1;
	*port = ntohs(a.sin_port);
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		/* never outlive the test, never hold its output pipe open */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() == 1)
			_exit(0);
		alarm(300);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		signal(SIGPIPE, SIG_IGN);
		serve(lfd, leader_addr);
		_exit(0);
	}
	close(lfd);
	return pid;
}

static void server_stop(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
}

/* Run a shell command; its stdout (trailing newline dropped) into out. */
static int run(char *out, size_t cap, const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	FILE *f;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	n = fread(out, 1, cap - 1, f);
	out[n] = '\0';
	while (n && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		out[--n] = '\0';
	return pclose(f);
}

static bool have(const char *tool)
{
	char out[256];

	return run(out, sizeof(out), "command -v %s", tool) == 0 && out[0];
}

FIXTURE(clients) {
	pid_t pid;	/* the server */
	int port;	/* its port */
	char out[65536];	/* last command's output */
};

FIXTURE_SETUP(clients)
{
	if (!have("redis-cli"))
		SKIP(return, "redis-cli not installed (redis-tools; scripts/deps.sh)");
	self->pid = server_start(&self->port, NULL);
	ASSERT_LT(0, self->pid);
}

FIXTURE_TEARDOWN(clients)
{
	server_stop(self->pid);
}

#define CLI(...)	run(self->out, sizeof(self->out), "redis-cli -p %d " __VA_ARGS__)

TEST_F(clients, redis_cli_commands)
{
	ASSERT_EQ(0, CLI("PING", self->port));
	ASSERT_STREQ("PONG", self->out);
	ASSERT_EQ(0, CLI("SET greeting 'hello world'", self->port));
	ASSERT_STREQ("OK", self->out);
	ASSERT_EQ(0, CLI("GET greeting", self->port));
	ASSERT_STREQ("hello world", self->out);
	ASSERT_EQ(0, CLI("SET greeting x NX", self->port));
	ASSERT_STREQ("", self->out);	/* nil prints as an empty line when not a tty */
	ASSERT_EQ(0, CLI("INCRBY n 41", self->port));
	ASSERT_STREQ("41", self->out);
	ASSERT_EQ(0, CLI("INCR n", self->port));
	ASSERT_STREQ("42", self->out);
	ASSERT_EQ(0, CLI("MGET greeting nope n", self->port));
	ASSERT_STREQ("hello world\n\n42", self->out);
	ASSERT_EQ(0, CLI("DEL greeting n nope", self->port));
	ASSERT_STREQ("2", self->out);
	ASSERT_EQ(0, CLI("EXISTS greeting", self->port));
	ASSERT_STREQ("0", self->out);
	ASSERT_EQ(0, CLI("SET k v EX 0", self->port));
	ASSERT_STREQ("ERR invalid expire time in 'set' command", self->out);
	ASSERT_EQ(0, CLI("FLUSHALL", self->port));
	ASSERT_STREQ("ERR unknown command 'FLUSHALL', with args beginning with: ", self->out);
	ASSERT_EQ(0, CLI("INFO keyspace", self->port));
	ASSERT_STREQ("# Keyspace", self->out);
}

TEST_F(clients, redis_cli_resp3)
{
	/* -3: redis-cli sends HELLO 3 first and then reads RESP3 replies */
	ASSERT_EQ(0, CLI("-3 --no-raw GET nope", self->port));
	ASSERT_STREQ("(nil)", self->out);
	ASSERT_EQ(0, CLI("-3 --no-raw HELLO 3", self->port));
	ASSERT_NE(NULL, strstr(self->out, "1# \"server\" => \"truth\""));
	ASSERT_NE(NULL, strstr(self->out, "3# \"proto\" => (integer) 3"));
}

TEST_F(clients, redis_cli_pipe_mode)
{
	/* --pipe: a mass insert, all replies read back and counted */
	ASSERT_EQ(0, run(self->out, sizeof(self->out),
			 "for i in $(seq 1 5000); do printf 'SET key:%%s %%s\\r\\n' $i $i; done | "
			 "redis-cli -p %d --pipe 2>&1", self->port));
	ASSERT_NE(NULL, strstr(self->out, "errors: 0, replies: 5000")) TH_LOG("%s", self->out);
	ASSERT_EQ(0, CLI("GET key:4999", self->port));
	ASSERT_STREQ("4999", self->out);
}

TEST_F(clients, redis_benchmark_pipelined)
{
	int results = 0;
	char *line;

	if (!have("redis-benchmark"))
		SKIP(return, "redis-benchmark not installed");
	int rc = run(self->out, sizeof(self->out),
		     "redis-benchmark -p %d -t ping,set,get,incr -n 20000 -c 8 -P 16 "
		     "-d 256 -q 2>&1", self->port);

	TH_LOG("%s", self->out);
	ASSERT_EQ(0, rc);
	/*
	 * redis-benchmark exits on any error reply, so rc 0 means every reply
	 * was well formed and not an error; CONFIG GET (to show the server's
	 * settings) is not served and only warns.
	 */
	for (line = strtok(self->out, "\r\n"); line; line = strtok(NULL, "\r\n")) {
		if (strstr(line, "requests per second") && !strstr(line, "rps="))
			results++;
		else if (!strstr(line, "WARNING: Could not fetch server CONFIG") &&
			 !strstr(line, "rps=") && line[strspn(line, " ")])
			EXPECT_EQ(NULL, line) TH_LOG("unexpected: %s", line);
	}
	ASSERT_EQ(5, results);	/* PING_INLINE PING_MBULK SET GET INCR */
	ASSERT_EQ(0, CLI("GET key:__rand_int__", self->port));
	ASSERT_EQ(256, strlen(self->out));
}

TEST_F(clients, redis_cli_follows_moved)
{
	char leader[64];
	pid_t follower;
	int fport;

	snprintf(leader, sizeof(leader), "127.0.0.1:%d", self->port);
	follower = server_start(&fport, leader);
	ASSERT_LT(0, follower);
	/* without -c the redirect is shown as an error ... */
	EXPECT_EQ(0, CLI("SET k via-follower", fport));
	EXPECT_EQ(0, strncmp(self->out, "MOVED 1 127.0.0.1:", 18)) TH_LOG("%s", self->out);
	/* ... with -c redis-cli follows it to the leader, as for Redis Cluster */
	EXPECT_EQ(0, CLI("-c SET k via-follower", fport));
	EXPECT_STREQ("OK", self->out);
	EXPECT_EQ(0, CLI("GET k", self->port));
	EXPECT_STREQ("via-follower", self->out);
	/* no-raft commands are answered by the follower itself */
	EXPECT_EQ(0, CLI("PING", fport));
	EXPECT_STREQ("PONG", self->out);
	server_stop(follower);
}

TEST_HARNESS_MAIN
