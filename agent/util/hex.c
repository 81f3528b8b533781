// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <errno.h>
#include <string.h>

#include "util/hex.h"

int truth_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int truth_hex_decode(const char *hex, uint8_t *out, size_t n)
{
	size_t i;
	int hi, lo;

	/* check everything first: bad input changes nothing */
	for (i = 0; i < 2 * n; i++)
		if (truth_hex_digit(hex[i]) < 0)
			return -EINVAL;
	for (i = 0; i < n; i++) {
		hi = truth_hex_digit(hex[2 * i]);
		lo = truth_hex_digit(hex[2 * i + 1]);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}
