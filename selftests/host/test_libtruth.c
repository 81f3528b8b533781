// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libtruth against a scripted server: replies of every type arriving one
 * byte at a time, a -MOVED followed, -TRYAGAIN and a dropped connection
 * retried with the same client id and sequence, a malformed reply refused.
 * The server is a child process on a Unix socket that answers each request
 * with the next canned reply and records what it received.
 */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <truth/libtruth.h>

#include "kselftest_harness.h"

/* What the server answers, request by request; "" closes the connection instead. */
static const char *const script[] = {
	"*3\r\n$3\r\nfoo\r\n:42\r\n_\r\n",	/* 1: array, bulk, integer, RESP3 null */
	"%1\r\n+a\r\n#t\r\n",			/* 2: RESP3 map and boolean */
	"-MOVED 2 @SELF@\r\n",			/* 3: redirect (to this server again) */
	"+OK\r\n",				/* 3: the redirected request */
	"-TRYAGAIN no leader elected, retry later\r\n",	/* 4 */
	"",					/* 4: connection dropped */
	"$5\r\nhello\r\n",			/* 4: the retry */
	"?what\r\n",				/* 5: malformed */
	"-ERR still here\r\n",			/* 5: retry after the bad reply */
};

static void serve(const char *path, int rec_fd)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	size_t i = 0;

	strcpy(sun.sun_path, path);
	if (bind(l, (struct sockaddr *)&sun, sizeof(sun)) || listen(l, 4))
		_exit(1);
	while (i < sizeof(script) / sizeof(script[0])) {
		int fd = accept(l, NULL, NULL);
		char buf[4096];

		while (fd >= 0 && i < sizeof(script) / sizeof(script[0])) {
			ssize_t n = read(fd, buf, sizeof(buf));
			const char *r;
			char out[512];
			size_t k;

			if (n <= 0)
				break;
			r = script[i++];
			(void)!write(rec_fd, buf, (size_t)n);	/* what the client sent */
			(void)!write(rec_fd, "|", 1);
			if (!*r) {
				close(fd);
				fd = -1;
				break;
			}
			if (strstr(r, "@SELF@"))
				snprintf(out, sizeof(out), "-MOVED 2 unix:%s\r\n", path);
			else
				snprintf(out, sizeof(out), "%s", r);
			for (k = 0; out[k]; k++) {	/* one byte at a time */
				(void)!write(fd, out + k, 1);
				usleep(200);
			}
		}
		if (fd >= 0)
			close(fd);
	}
	_exit(0);
}

TEST(scripted_server)
{
	char path[] = "/tmp/libtruth-test-XXXXXX", sock[64], rec[8192];
	const char *nodes[2];
	struct truth_client_config cfg = { .nodes = nodes, .nnodes = 2, .client_id = 77 };
	struct truth_client *c;
	struct truth_reply *r;
	const char *get[] = { "GET", "k" };
	int p[2], status;
	ssize_t n;
	pid_t pid;
	char err[128];

	ASSERT_NE(NULL, mkdtemp(path));
	snprintf(sock, sizeof(sock), "%s/s", path);
	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(p[0]);
		serve(sock, p[1]);
	}
	close(p[1]);
	usleep(100000);
	nodes[0] = "unix:/nonexistent/first.sock";	/* a dead member first */
	nodes[1] = sock;
	EXPECT_EQ(NULL, truth_client_new(&(struct truth_client_config){ .nnodes = 0 }, err,
					 sizeof(err)));
	c = truth_client_new(&cfg, err, sizeof(err));
	ASSERT_NE(NULL, c) TH_LOG("%s", err);

	ASSERT_EQ(0, truth_client_call(c, &r, 2, get));
	ASSERT_EQ(TRUTH_REPLY_ARRAY, r->type);
	ASSERT_EQ(3, r->n);
	EXPECT_STREQ("foo", r->elem[0]->str);
	EXPECT_EQ(42, r->elem[1]->integer);
	EXPECT_EQ(TRUTH_REPLY_NIL, r->elem[2]->type);
	truth_reply_free(r);

	ASSERT_EQ(0, truth_client_call(c, &r, 2, get));
	ASSERT_EQ(TRUTH_REPLY_ARRAY, r->type);
	ASSERT_EQ(2, r->n);
	EXPECT_EQ(TRUTH_REPLY_STATUS, r->elem[0]->type);
	EXPECT_EQ(1, r->elem[1]->integer);
	truth_reply_free(r);

	ASSERT_EQ(0, truth_client_call(c, &r, 2, get));		/* MOVED, then OK */
	EXPECT_EQ(TRUTH_REPLY_STATUS, r->type);
	EXPECT_STREQ("OK", r->str);
	truth_reply_free(r);

	ASSERT_EQ(0, truth_client_call(c, &r, 2, get));		/* TRYAGAIN, drop, retry */
	EXPECT_EQ(TRUTH_REPLY_STRING, r->type);
	EXPECT_STREQ("hello", r->str);
	truth_reply_free(r);

	ASSERT_EQ(0, truth_client_call(c, &r, 2, get));		/* malformed, retry */
	EXPECT_EQ(TRUTH_REPLY_ERROR, r->type);
	EXPECT_STREQ("ERR still here", r->str);
	truth_reply_free(r);
	truth_client_free(c);

	ASSERT_EQ(0, waitpid(pid, &status, 0) == pid ? 0 : -1);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	n = read(p[0], rec, sizeof(rec) - 1);
	ASSERT_LT(0, n);
	rec[n] = '\0';
	/* every retry of call 4 carried the same id and sequence: 77 and 4 */
	{
		const char *s = rec;
		int seq4 = 0;

		while ((s = strstr(s, "$2\r\n77\r\n$1\r\n4\r\n"))) {
			seq4++;
			s++;
		}
		EXPECT_EQ(3, seq4) TH_LOG("%s", rec);
	}
	EXPECT_NE(NULL, strstr(rec, "*5\r\n$9\r\nTRUTH.REQ\r\n$2\r\n77\r\n$1\r\n1\r\n$3\r\nGET\r\n$1\r\nk\r\n"));
	unlink(sock);
	rmdir(path);
}

TEST_HARNESS_MAIN
