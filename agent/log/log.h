/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * truth log: one line per event on stderr, "truthd: LEVEL: message".
 *
 * systemd's journal reads stderr; the level word is there so a human or
 * grep can filter.  One global level for the whole process.
 */
#ifndef _TRUTH_LOG_H
#define _TRUTH_LOG_H

enum truth_log_level {
	TRUTH_LOG_ERROR,
	TRUTH_LOG_WARN,
	TRUTH_LOG_INFO,
	TRUTH_LOG_DEBUG,
};

extern enum truth_log_level truth_log_level;

/* "error" "warn" "info" "debug" -> level; -1 if none of those */
int truth_log_parse_level(const char *s);
const char *truth_log_level_name(enum truth_log_level l);

void truth_logf(enum truth_log_level l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...)	truth_logf(TRUTH_LOG_ERROR, __VA_ARGS__)
#define log_warn(...)	truth_logf(TRUTH_LOG_WARN, __VA_ARGS__)
#define log_info(...)	truth_logf(TRUTH_LOG_INFO, __VA_ARGS__)
#define log_debug(...)	do { if (truth_log_level >= TRUTH_LOG_DEBUG) \
				truth_logf(TRUTH_LOG_DEBUG, __VA_ARGS__); } while (0)

#endif /* _TRUTH_LOG_H */
