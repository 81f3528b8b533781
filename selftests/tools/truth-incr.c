// SPDX-License-Identifier: GPL-2.0
/*
 * truth-incr: INCR one key through libtruth in a tight loop, one request
 * always outstanding, and print each as a truth-linz history line:
 *
 *	CLIENT incr KEY 1 INVOKE COMPLETE VALUE ok
 *	CLIENT incr KEY 1 INVOKE - - unknown      (libtruth gave up)
 *
 * so a leader killed at any moment most likely has an increment in
 * flight: replicated, not yet answered.  libtruth's retries carry the
 * same client id and sequence, so such an increment is applied once
 * (test_coord_failover.sh checks the final value against the history).
 *
 * Usage: truth-incr NAME KEY MS    (members from TRUTH_ADDR, comma separated)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <truth/libtruth.h>

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char *argv[])
{
	const char *nodes[16];
	struct truth_client_config cfg = { .nodes = nodes };
	struct truth_client *c;
	char *addrs, *save = NULL, *tok, err[256];
	long long end;

	if (argc != 4 || !getenv("TRUTH_ADDR")) {
		fprintf(stderr, "usage: TRUTH_ADDR=host:port,... %s NAME KEY MS\n", argv[0]);
		return 2;
	}
	addrs = strdup(getenv("TRUTH_ADDR"));
	for (tok = strtok_r(addrs, ",", &save); tok && cfg.nnodes < 16;
	     tok = strtok_r(NULL, ",", &save))
		nodes[cfg.nnodes++] = tok;
	c = truth_client_new(&cfg, err, sizeof(err));
	if (!c) {
		fprintf(stderr, "%s: %s\n", argv[0], err);
		return 2;
	}
	end = now_ns() + atoll(argv[3]) * 1000000LL;
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (now_ns() < end) {
		const char *cmd[] = { "INCR", argv[2] };
		struct truth_reply *r = NULL;
		long long inv = now_ns();
		int ret = truth_client_call(c, &r, 2, cmd);

		if (!ret && r->type == TRUTH_REPLY_INTEGER)
			printf("%s incr %s 1 %lld %lld %lld ok\n", argv[1], argv[2], inv, now_ns(),
			       r->integer);
		else
			printf("%s incr %s 1 %lld - - unknown\n", argv[1], argv[2], inv);
		if (ret || r->type != TRUTH_REPLY_INTEGER)
			fprintf(stderr, "%s: %s\n", argv[1],
				ret ? truth_client_error(c) : r->str ? r->str : "unexpected reply");
		truth_reply_free(r);
	}
	truth_client_free(c);
	free(addrs);
	return 0;
}
