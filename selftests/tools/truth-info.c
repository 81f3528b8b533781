// SPDX-License-Identifier: GPL-2.0
/*
 * truth-info: `INFO truth` from several truthd at once, one line each:
 *
 *   truth-info [-t MS] [-s SECTION] HOST:PORT...
 *   HOST:PORT role:leader term:3 leader_id:2 ...     (the node's fields)
 *   HOST:PORT unreachable                            (no answer within -t)
 *
 * scripts/cluster.sh polls the whole cluster with one process instead of
 * one redis-cli per node and field: on a loaded two-core machine that is
 * the difference between a poll every 100 ms and one every few seconds.
 * Each connection has its own timeout (default 1000 ms), so a node cut off
 * by a partition costs at most that.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "load_proto.h"

#define REPLY_MAX 65536

static int dial(const char *hp, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = ms % 1000 * 1000 };
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	if (lp_resolve(hp, &ss, &len))
		return -1;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	/* SO_SNDTIMEO bounds connect() too */
	if (fd >= 0 && (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ||
			setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
			connect(fd, (struct sockaddr *)&ss, len))) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* the bulk (or verbatim) string INFO returns, NUL-terminated; NULL if none */
static char *info(const char *hp, const char *section, int ms)
{
	static char buf[REPLY_MAX + 1];
	char req[128], *body, *eol;
	size_t got = 0;
	long len = -1;
	int fd = dial(hp, ms), n;

	if (fd < 0)
		return NULL;
	n = snprintf(req, sizeof(req), "*2\r\n$4\r\nINFO\r\n$%zu\r\n%s\r\n", strlen(section), section);
	if (write(fd, req, n) != n) {
		close(fd);
		return NULL;
	}
	while (got < REPLY_MAX) {
		n = read(fd, buf + got, REPLY_MAX - got);
		if (n <= 0)
			break;
		got += n;
		buf[got] = 0;
		eol = strstr(buf, "\r\n");
		if (!eol)
			continue;
		if (buf[0] != '$' && buf[0] != '=')
			break;		/* an error reply, or not RESP */
		len = strtol(buf + 1, NULL, 10);
		if ((long)got >= eol + 2 - buf + len)
			break;
	}
	close(fd);
	eol = strstr(buf, "\r\n");
	if (len < 0 || !eol || (long)got < eol + 2 - buf + len)
		return NULL;
	body = eol + 2;
	body[len] = 0;
	return body;
}

int main(int argc, char **argv)
{
	const char *section = "truth";
	int ms = 1000, i, o;
	char *txt, *line, *save;

	while ((o = getopt(argc, argv, "t:s:h")) != -1) {
		switch (o) {
		case 't': ms = atoi(optarg); break;
		case 's': section = optarg; break;
		default:
			fprintf(stderr, "usage: truth-info [-t MS] [-s SECTION] HOST:PORT...\n");
			return o == 'h' ? 0 : 2;
		}
	}
	if (optind == argc || ms <= 0) {
		fprintf(stderr, "usage: truth-info [-t MS] [-s SECTION] HOST:PORT...\n");
		return 2;
	}
	for (i = optind; i < argc; i++) {
		txt = info(argv[i], section, ms);
		printf("%s", argv[i]);
		if (!txt) {
			printf(" unreachable\n");
			continue;
		}
		/* key:value lines only; RESP3's "txt:" prefix and headers skipped */
		for (line = strtok_r(txt, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save))
			if (line[0] != '#' && strchr(line, ':') && !strchr(line, ' '))
				printf(" %s", line);
		printf("\n");
	}
	return 0;
}
