// SPDX-License-Identifier: GPL-2.0
/*
 * truthctl: the command-line tool of truth.  Netlink subcommands talk to
 * truth.ko in the current network namespace; agent subcommands (status)
 * talk RESP to truthd.
 */

#include <stdio.h>
#include <string.h>

#include "ctl.h"

const char *prog_name = "truthctl";

static const struct {
	const char *name;
	int (*main)(int argc, char *argv[]);
	const char *help;
} subcommands[] = {
	{ "version", version_main, "show truthctl's, truth.ko's and the netlink API's versions" },
	{ "show", show_main, "show the clocks and every group of this namespace" },
	{ "group", group_main, "add, set, del or ack a group" },
	{ "clock", clock_main, "read, tick, merge or configure the clocks" },
	{ "stats", stats_main, "show or reset a group's counters" },
	{ "events", events_main, "follow commit, term and group events" },
	{ "time", time_main, "bounded true time from truthd's clockbound page" },
	{ "get", coord_main, "truthd: print a key's value" },
	{ "put", coord_main, "truthd: set a key" },
	{ "del", coord_main, "truthd: delete keys" },
	{ "incr", coord_main, "truthd: add to a counter" },
	{ "lock", coord_main, "truthd: run a command holding a lock (fencing token in its env)" },
	{ "elect", coord_main, "truthd: campaign and lead until stopped" },
	{ "barrier", coord_main, "truthd: wait until N have entered (and left)" },
	{ "watch", coord_main, "truthd: print every change of a key or prefix" },
	{ "status", status_main, "a running truthd's role, term, commit, peers (RESP)" },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: %s <command> [<args>]\n\n", prog_name);
	fprintf(f, "Commands:\n");
	for (i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		fprintf(f, "  %-10s %s\n", subcommands[i].name, subcommands[i].help);
	fprintf(f, "\nExamples:\n"
		"  %s version --json\n"
		"  %s group add 7 self 1 members 1,2,3 role leader term 1\n"
		"  %s group ack 7 term 1 index 42 node 2\n"
		"  %s show --json\n"
		"  %s clock tick group 7\n"
		"  %s events --count 10\n"
		"  %s time --json\n"
		"  %s put config/mode blue; %s get config/mode --json\n"
		"  %s incr jobs/done; %s del config/mode\n"
		"  %s lock backup --ttl 10000 -- sh -c 'run-backup --fence \"$TRUTH_FENCING_TOKEN\"'\n"
		"  %s elect scheduler host-a:8080 --json\n"
		"  %s barrier round-7 3 --leave\n"
		"  %s watch jobs/ --prefix --from 1 --json\n"
		"  %s status --addr 127.0.0.1:6381 --json\n",
		prog_name, prog_name, prog_name, prog_name, prog_name, prog_name, prog_name,
		prog_name, prog_name, prog_name, prog_name, prog_name, prog_name, prog_name,
		prog_name, prog_name);
	fprintf(f, "\nRun '%s COMMAND --help' for a command's arguments.\n", prog_name);
}

int main(int argc, char *argv[])
{
	size_t i;

	if (argc < 2 || !strcmp(argv[1], "help") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2;
	}
	for (i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (!strcmp(argv[1], subcommands[i].name))
			return subcommands[i].main(argc - 1, argv + 1);
	fprintf(stderr, "%s: unknown command '%s'\n\n", prog_name, argv[1]);
	usage(stderr);
	return 1;
}
