/* SPDX-License-Identifier: BSD-2-Clause */
/* MSR-bitmap arithmetic, pure: the bit of an access, umbra's words, the merge for vmcs02. */
#include "nested/msr_bitmap.h"

/* SDM Vol. 3C 24.6.9: MSRs 0..0x1fff and 0xc0000000..0xc0001fff. */
#define MSR_BITMAP_LOW_END 0x1fffu
#define MSR_BITMAP_HIGH_BASE 0xc0000000u
#define QUARTER 1024 /* bytes: read-low, read-high, write-low, write-high */

int msr_bitmap_byte(uint32_t msr, bool write)
{
	int base;

	if (msr <= MSR_BITMAP_LOW_END)
		base = 0;
	else if (msr - MSR_BITMAP_HIGH_BASE <= MSR_BITMAP_LOW_END)
		base = QUARTER;
	else
		return -1;
	return base + (write ? 2 * QUARTER : 0) + (int)((msr & MSR_BITMAP_LOW_END) / 8);
}

bool msr_bitmap_exits(const void *bitmap, uint32_t msr, bool write)
{
	int byte = msr_bitmap_byte(msr, write);

	return byte < 0 || ((((const uint8_t *)bitmap)[byte] >> (msr & 7)) & 1);
}

size_t msr_bitmap_nonzero_words(const uint64_t *bitmap, uint16_t *words)
{
	size_t n = 0;

	for (size_t i = 0; i < MSR_BITMAP_WORDS; i++)
		if (bitmap[i])
			words[n++] = (uint16_t)i;
	return n;
}

void msr_bitmap_merge(uint64_t *merged, const uint64_t *umbra, const uint16_t *words, size_t count)
{
	for (size_t i = 0; i < count; i++)
		merged[words[i]] |= umbra[words[i]];
}
