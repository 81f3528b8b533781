// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * truth-linz: check a recorded history for linearizability.
 *
 *   truth-linz [--model kv|register|counter|lock] [--timeout S] HISTORY|-
 *   truth-linz --now
 *
 * Exit 0: linearizable.  1: not, with the smallest failing window found.
 * 2: bad input, or undecided within the timeout ("unknown", never "ok").
 * The format and the models: Documentation/linearizability.md.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../host/lib/linz.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: truth-linz [--model kv|register|counter|lock] [--timeout S] [--quiet] [--no-window] HISTORY|-\n"
		"       truth-linz --now     print CLOCK_MONOTONIC in ns (for shell recorders)\n"
		"\n"
		"Checks a history (one op per line) for linearizability; exit 0 linearizable,\n"
		"1 violation (explained), 2 bad input or undecided before the timeout.\n"
		"\n"
		"  --model M      the object every key is (default kv)\n"
		"  --timeout S    give up with \"unknown\" after S seconds (default 60; 0: never)\n"
		"  --max-states N memo entries per key before giving up (default 8M)\n"
		"  --quiet        print only the verdict line\n"
		"  --no-window    do not search for the smallest failing window\n"
		"\n"
		"example:\n"
		"  t0=$(truth-linz --now); redis-cli SET k 1 >/dev/null; t1=$(truth-linz --now)\n"
		"  echo \"c1 set k 1 $t0 $t1 OK ok\" >> h.txt\n"
		"  truth-linz --model kv h.txt\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "timeout", required_argument, NULL, 't' },
		{ "max-states", required_argument, NULL, 's' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "no-window", no_argument, NULL, 'w' },
		{ "now", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct linz_opts o = { .timeout_s = 60 };
	struct linz_history h;
	struct linz_report r;
	int model = LINZ_MODEL_KV, c;
	bool quiet = false;
	char *end;

	while ((c = getopt_long(argc, argv, "m:t:s:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			model = linz_model_by_name(optarg);
			if (model < 0) {
				fprintf(stderr, "truth-linz: unknown model '%s' (kv, register, counter, lock)\n",
					optarg);
				return 2;
			}
			break;
		case 't':
			o.timeout_s = strtod(optarg, &end);
			if (*end || end == optarg || o.timeout_s < 0) {
				fprintf(stderr, "truth-linz: bad --timeout '%s' (seconds)\n", optarg);
				return 2;
			}
			break;
		case 's':
			o.max_states = strtoull(optarg, &end, 0);
			if (*end || end == optarg || !o.max_states) {
				fprintf(stderr, "truth-linz: bad --max-states '%s'\n", optarg);
				return 2;
			}
			break;
		case 'q':
			quiet = true;
			break;
		case 'w':
			o.no_explain = true;
			break;
		case 'n':
			printf("%lld\n", (long long)linz_now_ns());
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	linz_history_init(&h, model);
	if (linz_history_load(&h, argv[optind])) {
		fprintf(stderr, "truth-linz: %s: %s\n", argv[optind], h.err);
		linz_history_free(&h);
		return 2;
	}
	linz_check(&h, &o, &r);
	if (quiet && r.verdict != LINZ_LINEARIZABLE)
		printf("%s\n", r.verdict == LINZ_VIOLATION ? "NOT LINEARIZABLE" : "unknown");
	else
		linz_report_print(stdout, &h, &r);
	linz_report_free(&r);
	linz_history_free(&h);
	return r.verdict;
}
