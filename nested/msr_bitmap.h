/* SPDX-License-Identifier: BSD-2-Clause */
/* MSR bitmaps (SDM Vol. 3C 24.6.9): the bit of an access, and vmcs02's merge of L1's with umbra's. */
#ifndef UMBRA_NESTED_MSR_BITMAP_H
#define UMBRA_NESTED_MSR_BITMAP_H

#include "core/types.h"

#define MSR_BITMAP_WORDS (PAGE_SIZE / sizeof(uint64_t))

/*
 * The byte of an MSR bitmap that holds msr's bit for a read or a write
 * (read-low, read-high, write-low, write-high quarters); -1 outside the
 * two ranges, where every access exits.
 */
int msr_bitmap_byte(uint32_t msr, bool write);

/* Whether the bitmap makes that access exit (outside the ranges: always). */
bool msr_bitmap_exits(const void *bitmap, uint32_t msr, bool write);

/* The indices of bitmap's nonzero quadwords, into words[MSR_BITMAP_WORDS]: their count. */
size_t msr_bitmap_nonzero_words(const uint64_t *bitmap, uint16_t *words);

/*
 * merged (a copy of L1's bitmap) |= umbra's, on umbra's nonzero words only:
 * an access passes through only if neither bitmap makes it exit.
 */
void msr_bitmap_merge(uint64_t *merged, const uint64_t *umbra, const uint16_t *words, size_t count);

#endif
