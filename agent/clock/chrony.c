// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * truth chrony: parsing chronyc -c tracking (chrony.h has the format).
 * Strict: a field that is not a number makes the whole line unusable,
 * since a misread bound would be a false claim.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
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
	b += b * t->rel_err;
	if (!(b <= 1.0))
		return UINT64_MAX;
	/* up to the next ns, and one more for the decimal rounding of chronyc */
	return (uint64_t)ceil(b * 1e9) + 1;
}

#define CANDM_VERSION		6
#define CANDM_REQUEST		1
#define CANDM_REPLY		2
#define CANDM_REQ_TRACKING	33
#define CANDM_RPY_TRACKING	5
#define CANDM_LEAP_UNSYNC	3

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

void truth_chrony_request(uint8_t *buf, uint32_t seq)
{
	memset(buf, 0, TRUTH_CHRONY_REQ_LEN);
	buf[0] = CANDM_VERSION;
	buf[1] = CANDM_REQUEST;
	buf[4] = CANDM_REQ_TRACKING >> 8;
	buf[5] = CANDM_REQ_TRACKING & 0xff;
	buf[8] = (uint8_t)(seq >> 24);
	buf[9] = (uint8_t)(seq >> 16);
	buf[10] = (uint8_t)(seq >> 8);
	buf[11] = (uint8_t)seq;
}

double truth_chrony_float(uint32_t f)
{
	int32_t e = (int32_t)(f >> 25), m = (int32_t)(f & 0x1ffffff);

	if (e >= 64)
		e -= 128;
	if (m >= 1 << 24)
		m -= 1 << 25;
	return ldexp((double)m, e - 25);
}

int truth_chrony_reply(const uint8_t *buf, size_t len, uint32_t seq,
		       struct truth_chrony_tracking *t, const char **why)
{
	static const char *const leaps[] = {
		"Normal", "Insert second", "Delete second", "Not synchronised",
	};
	const uint8_t *d = buf + 28;
	uint16_t status, leap;

	if (len < 28 || buf[0] != CANDM_VERSION || buf[1] != CANDM_REPLY ||
	    get16(buf + 4) != CANDM_REQ_TRACKING) {
		*why = "not a chronyd reply to a tracking request";
		return -EINVAL;
	}
	if (get32(buf + 16) != seq)
		return -ESRCH;
	status = get16(buf + 8);
	if (status) {
		/* chrony's STT_* codes: the usual ones by name */
		*why = status == 2 ? "chronyd: not authorised (status 2)" :
		       status == 18 ? "chronyd: bad protocol version (status 18)" :
		       status == 19 ? "chronyd: bad packet length (status 19)" :
		       "chronyd refused the tracking request";
		return -EINVAL;
	}
	if (len < TRUTH_CHRONY_RPY_LEN || get16(buf + 6) != CANDM_RPY_TRACKING) {
		*why = "chronyd's tracking reply is too short or of another kind";
		return -EINVAL;
	}
	memset(t, 0, sizeof(*t));
	t->refid = get32(d);
	t->stratum = get16(d + 24);
	leap = get16(d + 26);
	t->system_time = truth_chrony_float(get32(d + 40));
	t->root_delay = truth_chrony_float(get32(d + 64));
	t->root_dispersion = truth_chrony_float(get32(d + 68));
	if (t->stratum > 16 || leap > CANDM_LEAP_UNSYNC ||
	    !isfinite(t->system_time) || !(t->root_delay >= 0) ||
	    !(t->root_dispersion >= 0)) {
		*why = "stratum, leap, root delay or root dispersion out of range";
		return -EINVAL;
	}
	snprintf(t->leap, sizeof(t->leap), "%s", leaps[leap]);
	t->synchronised = t->refid && t->stratum && leap != CANDM_LEAP_UNSYNC;
	/* each float within 2^-24 of its value; the sum then within 2^-23 */
	t->rel_err = 1.0 / (1 << 22);
	return 0;
}
