// SPDX-License-Identifier: GPL-2.0
/*
 * truth_fastpath: attach truth's tc programs by hand, or take them off,
 * with the agent's loader (agent/fastpath).  The filters stay attached after
 * "attach" exits; "detach" removes them whoever attached them.
 *
 *   truth_fastpath attach [--port P] IF...
 *   truth_fastpath detach IF...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/truth.h>

#include "fastpath/fastpath.h"

static int usage(const char *prog)
{
	fprintf(stderr, "Usage: %s attach [--port P] IF...\n"
		"       %s detach IF...\n"
		"Example:\n  %s attach --port 7410 eth0\n", prog, prog, prog);
	return 2;
}

int main(int argc, char *argv[])
{
	struct truth_fastpath *fp;
	unsigned long port = TRUTH_WIRE_PORT;
	char err[256] = "", *end;
	int i = 2;

	if (argc < 3)
		return usage(argv[0]);
	if (!strcmp(argv[1], "attach") && !strcmp(argv[2], "--port")) {
		if (argc < 5)
			return usage(argv[0]);
		port = strtoul(argv[3], &end, 10);
		if (*end || !port || port > 65535) {
			fprintf(stderr, "%s: bad port '%s'\n", argv[0], argv[3]);
			return 2;
		}
		i = 4;
	}
	if (!strcmp(argv[1], "attach")) {
		fp = truth_fastpath_attach((const char *const *)argv + i, argc - i,
					   (uint16_t)port, err, sizeof(err));
		if (!fp) {
			fprintf(stderr, "%s: %s\n", argv[0], err);
			return 1;
		}
		truth_fastpath_release(fp);
		return 0;
	}
	if (!strcmp(argv[1], "detach")) {
		if (truth_fastpath_remove((const char *const *)argv + i, argc - i,
					  err, sizeof(err))) {
			fprintf(stderr, "%s: %s\n", argv[0], err);
			return 1;
		}
		return 0;
	}
	return usage(argv[0]);
}
