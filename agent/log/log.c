// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Logging to stderr with a level word.  One fprintf per line: stdio locks
 * the stream, so lines from the fsync thread never interleave mid-line.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log/log.h"

enum truth_log_level truth_log_level = TRUTH_LOG_INFO;

static const char *const names[] = { "error", "warn", "info", "debug" };

int truth_log_parse_level(const char *s)
{
	unsigned int i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i]))
			return (int)i;
	return -1;
}

const char *truth_log_level_name(enum truth_log_level l)
{
	return (unsigned int)l < 4 ? names[l] : "?";
}

void truth_logf(enum truth_log_level l, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (l > truth_log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "truthd: %s: %s\n", truth_log_level_name(l), line);
}
