/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* Hex digits, for every parser in the agent that reads them. */
#ifndef _TRUTH_UTIL_HEX_H
#define _TRUTH_UTIL_HEX_H

#include <stddef.h>
#include <stdint.h>

/* The value of one hex digit (either case), or -1 if @c is none. */
int truth_hex_digit(char c);

/*
 * Decodes exactly 2 * @n hex digits at @hex into @n bytes at @out.  Returns
 * 0, or -EINVAL (and leaves @out alone) if any of them is not a hex digit.
 */
int truth_hex_decode(const char *hex, uint8_t *out, size_t n);

#endif /* _TRUTH_UTIL_HEX_H */
