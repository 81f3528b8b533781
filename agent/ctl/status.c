// SPDX-License-Identifier: GPL-2.0
/*
 * truthctl status: a running truthd's state, from "INFO truth" over RESP
 * (TCP or the Unix socket).  Plain "key: value" lines, or one JSON object
 * with numbers as numbers and each peer_<id> as {match, lag, addr}.
 */

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"

#define DEF_ADDR "127.0.0.1:6381"

static int connect_tcp(const char *addr)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	char host[256];
	const char *colon = strrchr(addr, ':');
	size_t hl;
	int fd = -1;

	if (!colon || colon == addr || (size_t)(colon - addr) >= sizeof(host)) {
		fprintf(stderr, "%s status: --addr wants HOST:PORT, got '%s'\n", prog_name, addr);
		return -1;
	}
	hl = (size_t)(colon - addr);
	if (addr[0] == '[' && hl >= 2 && addr[hl - 1] == ']') {
		memcpy(host, addr + 1, hl - 2);
		host[hl - 2] = '\0';
	} else {
		memcpy(host, addr, hl);
		host[hl] = '\0';
	}
	if (getaddrinfo(host, colon + 1, &hints, &res)) {
		fprintf(stderr, "%s status: cannot resolve '%s'\n", prog_name, addr);
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && !connect(fd, ai->ai_addr, ai->ai_addrlen))
			break;
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		fprintf(stderr, "%s status: cannot connect to %s: %s\n", prog_name, addr,
			strerror(errno));
	return fd;
}

static int connect_unix(const char *path)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(un.sun_path)) {
		fprintf(stderr, "%s status: socket path too long\n", prog_name);
		return -1;
	}
	strcpy(un.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&un, sizeof(un))) {
		fprintf(stderr, "%s status: cannot connect to %s: %s\n", prog_name, path,
			strerror(errno));
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Send INFO truth and return the bulk string's text (malloc()ed), or NULL. */
static char *fetch_info(int fd)
{
	static const char req[] = "*2\r\n$4\r\nINFO\r\n$5\r\ntruth\r\n";
	struct timeval tv = { .tv_sec = 5 };
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap), *nl, *text;
	long want;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (!buf || write(fd, req, sizeof(req) - 1) != (ssize_t)(sizeof(req) - 1))
		goto bad;
	for (;;) {
		ssize_t n;

		buf[len] = '\0';
		nl = strstr(buf, "\r\n");
		if (nl && buf[0] == '$') {
			want = strtol(buf + 1, NULL, 10);
			if (want < 0 || (size_t)want > cap - 64)
				goto bad;
			if (len >= (size_t)(nl - buf) + 2 + (size_t)want)
				break;
		} else if (nl) {
			fprintf(stderr, "%s status: truthd answered: %.*s\n", prog_name,
				(int)(nl - buf), buf);
			goto out;
		}
		if (len == cap - 1)
			goto bad;
		n = read(fd, buf + len, cap - 1 - len);
		if (n <= 0)
			goto bad;
		len += (size_t)n;
	}
	text = strndup(nl + 2, (size_t)want);
	free(buf);
	return text;
bad:
	fprintf(stderr, "%s status: no valid INFO reply\n", prog_name);
out:
	free(buf);
	return NULL;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void json_value(const char *v)
{
	if (all_digits(v))
		fputs(v, stdout);
	else
		json_str(v);
}

/* peer_<id>:match=1,lag=0,addr=127.0.0.1:7411 -> an object */
static void json_peer(char *v)
{
	char *tok, *save = NULL;
	bool first = true;

	putchar('{');
	for (tok = strtok_r(v, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');

		if (!eq)
			continue;
		*eq = '\0';
		printf("%s", first ? "" : ", ");
		json_str(tok);
		fputs(": ", stdout);
		json_value(eq + 1);
		first = false;
	}
	putchar('}');
}

static void print_info(char *text, bool json)
{
	char *line, *save = NULL;
	bool first = true;

	if (json)
		putchar('{');
	for (line = strtok_r(text, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
		char *colon = strchr(line, ':');

		if (line[0] == '#' || !colon)
			continue;
		*colon = '\0';
		if (!json) {
			printf("%-20s %s\n", line, colon + 1);
			continue;
		}
		printf("%s\n  ", first ? "" : ",");
		json_str(line);
		fputs(": ", stdout);
		if (!strncmp(line, "peer_", 5))
			json_peer(colon + 1);
		else
			json_value(colon + 1);
		first = false;
	}
	if (json)
		printf("\n}\n");
}

int status_main(int argc, char *argv[])
{
	const char *addr = NULL, *sock = NULL;
	bool json = false;
	char *text;
	int i, fd;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--addr") && i + 1 < argc) {
			addr = argv[++i];
		} else if (!strcmp(argv[i], "--socket") && i + 1 < argc) {
			sock = argv[++i];
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("Usage: %s status [--addr HOST:PORT | --socket PATH] [--json]\n"
			       "Shows a truthd's role, term, commit and applied index, peers and\n"
			       "their lag, and how commits are counted (default --addr %s).\n",
			       prog_name, DEF_ADDR);
			return 0;
		} else {
			fprintf(stderr, "%s status: unknown argument '%s' (try --help)\n",
				prog_name, argv[i]);
			return 1;
		}
	}
	if (addr && sock) {
		fprintf(stderr, "%s status: --addr and --socket exclude each other\n", prog_name);
		return 1;
	}
	fd = sock ? connect_unix(sock) : connect_tcp(addr ? addr : DEF_ADDR);
	if (fd < 0)
		return 1;
	text = fetch_info(fd);
	close(fd);
	if (!text)
		return 1;
	print_info(text, json);
	free(text);
	return 0;
}
