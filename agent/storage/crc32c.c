// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * CRC32C (Castagnoli), the checksum iSCSI, ext4 and SCTP use: reflected
 * polynomial 0x82F63B78, initial value and final xor ~0.  Slice-by-8: eight
 * 256-entry tables let the loop consume 8 bytes per step.  The tables are
 * built on first use (truthd has one thread; a second one racing here would
 * only compute the same values twice).
 */
#include <stdbool.h>
#include <stdint.h>

#include "storage.h"

#define CRC32C_POLY	0x82F63B78u	/* reflected Castagnoli polynomial */

static uint32_t crc_table[8][256];
static bool crc_ready;

static void crc32c_init(void)
{
	uint32_t i, j, c;

	for (i = 0; i < 256; i++) {
		c = i;
		for (j = 0; j < 8; j++)
			c = (c >> 1) ^ (CRC32C_POLY & (0u - (c & 1)));
		crc_table[0][i] = c;
	}
	for (i = 0; i < 256; i++)
		for (j = 1; j < 8; j++)
			crc_table[j][i] = (crc_table[j - 1][i] >> 8) ^
					  crc_table[0][crc_table[j - 1][i] & 0xff];
	crc_ready = true;
}

uint32_t truth_crc32c(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t lo, hi;

	if (!crc_ready)
		crc32c_init();
	crc = ~crc;
	while (len && ((uintptr_t)p & 7)) {
		crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xff];
		len--;
	}
	while (len >= 8) {
		/* explicit little-endian loads: same result on any host */
		lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 |
			    (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
		hi = (uint32_t)p[4] | (uint32_t)p[5] << 8 |
		     (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
		crc = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^
		      crc_table[5][(lo >> 16) & 0xff] ^ crc_table[4][lo >> 24] ^
		      crc_table[3][hi & 0xff] ^ crc_table[2][(hi >> 8) & 0xff] ^
		      crc_table[1][(hi >> 16) & 0xff] ^ crc_table[0][hi >> 24];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xff];
	return ~crc;
}
