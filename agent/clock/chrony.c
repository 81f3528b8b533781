// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * truth chrony: parsing chronyc -c tracking (chrony.h has the format).
 * Strict: a field that is not a number makes the whole line unusable,
 * since a misread bound would be a false claim.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clock/chrony.h"

#define FIELDS	14

static int num(const char *s, double *v)
{
	char *end;

	if (!*s)
		return -1;
	*v = strtod(s, &end);
	return *end || !isfinite(*v) ? -1 : 0;
}

int truth_chrony_parse(const char *line, struct truth_chrony_tracking *t,
		       const char **why)
{
	char buf[512], *f[FIELDS], *p, *end;
	double v[FIELDS];
	unsigned long refid;
	size_t len = strlen(line);
	int n = 0, i;

	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (len >= sizeof(buf)) {
		*why = "line too long";
		return -EINVAL;
	}
	memcpy(buf, line, len);
	buf[len] = '\0';
	for (p = buf; n < FIELDS; n++) {
		f[n] = p;
		p = strchr(p, ',');
		if (!p)
			break;
		*p++ = '\0';
	}
	if (n != FIELDS - 1 || p) {
		*why = "not a 'chronyc -c tracking' line (14 fields)";
		return -EINVAL;
	}
	errno = 0;
	refid = strtoul(f[0], &end, 16);
	if (!*f[0] || *end || errno || refid > UINT32_MAX) {
		*why = "bad reference id";
		return -EINVAL;
	}
	for (i = 2; i < FIELDS - 1; i++)
		if (num(f[i], &v[i])) {
			*why = "a numeric field is not a number";
			return -EINVAL;
		}
	if (v[2] < 0 || v[2] > 16 || v[2] != floor(v[2]) ||
	    v[10] < 0 || v[11] < 0) {
		*why = "stratum, root delay or root dispersion out of range";
		return -EINVAL;
	}
	memset(t, 0, sizeof(*t));
	t->refid = (uint32_t)refid;
	t->stratum = (uint32_t)v[2];
	t->system_time = v[4];
	t->root_delay = v[10];
	t->root_dispersion = v[11];
	strncpy(t->leap, f[13], sizeof(t->leap) - 1);
	t->synchronised = t->refid && t->stratum &&
			  strcmp(t->leap, "Not synchronised") != 0;
	return 0;
}

uint64_t truth_chrony_bound_ns(const struct truth_chrony_tracking *t)
{
	double b;

	if (!t->synchronised)
		return UINT64_MAX;
	b = fabs(t->system_time) + t->root_dispersion + t->root_delay / 2;
	if (!(b <= 1.0))
		return UINT64_MAX;
	/* up to the next ns, and one more for the decimal rounding of chronyc */
	return (uint64_t)ceil(b * 1e9) + 1;
}
