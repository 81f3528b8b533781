// SPDX-License-Identifier: GPL-2.0
/*
 * truthctl time: the node's bounded time, read from truthd's clockbound
 * page (include/truth/clockbound.h) without talking to truthd: the same
 * lock-free read any local program does, so it works while truthd is busy
 * and, with a growing bound, after it died.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <truth/clockbound.h>

#include "ctl.h"

static const char *const status_names[] = {
	[TRUTH_CLOCK_UNKNOWN] = "unknown",
	[TRUTH_CLOCK_SYNCHRONISED] = "synchronised",
	[TRUTH_CLOCK_FREE_RUNNING] = "free-running",
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: %s time [--page PATH] [--json]\n"
		"  Print [earliest, latest] around true time and the clock's status,\n"
		"  read from truthd's clockbound page (default %s).\n"
		"Example:\n"
		"  %s time --json\n", prog_name, TRUTH_CLOCKBOUND_PATH, prog_name);
}

/* "2026-11-26T06:58:00.123456789Z" for ns since the epoch. */
static void iso(int64_t ns, char *buf, size_t len)
{
	time_t s = (time_t)(ns / 1000000000LL);
	long frac = (long)(ns % 1000000000LL);
	struct tm tm;

	if (frac < 0) {
		frac += 1000000000L;
		s--;
	}
	if (!gmtime_r(&s, &tm) ||
	    !strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm)) {
		snprintf(buf, len, "?");
		return;
	}
	snprintf(buf + strlen(buf), len - strlen(buf), ".%09ldZ", frac);
}

int time_main(int argc, char *argv[])
{
	const struct truth_clockbound_page *p;
	struct truth_clockbound_snapshot snap;
	struct truth_clockbound_now n = { 0 };
	const char *path = TRUTH_CLOCKBOUND_PATH;
	char e[40], l[40];
	bool json = false;
	struct timespec ts;
	int i, ret;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--page") && i + 1 < argc) {
			path = argv[++i];
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 1;
		}
	}
	p = truth_clock_shm_map(path);
	if (!p) {
		fprintf(stderr, "%s: time: %s: %s%s\n", prog_name, path,
			errno == EPROTO ? "not a truth clockbound page of this version" :
			strerror(errno),
			errno == ENOENT ? " (is truthd running?)" : "");
		return 1;
	}
	ret = truth_clock_shm_read(p, &snap);
	if (!ret && clock_gettime((clockid_t)snap.clock_id, &ts))
		ret = -errno;
	if (!ret)
		ret = truth_clock_shm_bound(&snap, (int64_t)ts.tv_sec * 1000000000LL +
					    ts.tv_nsec, &n);
	munmap((void *)p, sizeof(*p));
	if (ret < 0) {
		fprintf(stderr, "%s: time: %s: %s\n", prog_name, path,
			ret == -EAGAIN ? "the writer stopped mid-update" :
			ret == -EINVAL ? "the page's clock cannot be read here (a test page?)" :
			strerror(-ret));
		return 1;
	}
	if (json) {
		printf("{\"status\":\"%s\",\"earliest_ns\":%lld,\"latest_ns\":%lld,"
		       "\"epsilon_ns\":%llu,\"max_drift_ppb\":%u,\"age_ns\":%lld}\n",
		       status_names[n.status], (long long)n.earliest,
		       (long long)n.latest, (unsigned long long)n.epsilon,
		       snap.max_drift_ppb, (long long)(n.local - snap.as_of));
		return 0;
	}
	printf("status    %s\n", status_names[n.status]);
	if (n.status == TRUTH_CLOCK_UNKNOWN) {
		printf("bound     none yet (no agreement among the sources)\n");
		return 0;
	}
	iso(n.earliest, e, sizeof(e));
	iso(n.latest, l, sizeof(l));
	printf("earliest  %s (%lld)\n", e, (long long)n.earliest);
	printf("latest    %s (%lld)\n", l, (long long)n.latest);
	printf("epsilon   %.3f us\n", (double)n.epsilon / 1000.0);
	printf("estimate  %.3f s old, growing at %.1f ppm\n",
	       (double)(n.local - snap.as_of) / 1e9, snap.max_drift_ppb / 1000.0);
	return 0;
}
