/* SPDX-License-Identifier: BSD-2-Clause */
/* Physical memory of the machine and umbra's share of it. */
#ifndef UMBRA_CORE_MEM_H
#define UMBRA_CORE_MEM_H

#include "core/frame.h"
#include "core/loader.h"
#include "core/mb2.h"

/* Everything below this is firmware, BIOS data and the AP trampoline: never allocated. */
#define LOW_MEMORY_END MiB(1)

struct mem_summary {
	uint64_t usable_bytes;   /* available RAM in the memory map */
	uint64_t free_bytes;     /* left for allocation after the reservations */
	uint64_t highest_ram;    /* end of the highest available RAM range */
	uint64_t image_start, image_end;
	uint64_t pool_start, pool_end; /* umbra's heap */
};

/*
 * Build the frame allocator from the memory map, keeping out the low 1 MiB,
 * umbra's image, the multiboot2 info and every module. Returns false (and
 * says why) when the map is unusable.
 */
bool mem_init(const struct mb2_info *mbi, const void *mbi_raw);
const struct mem_summary *mem_summary(void);

/* umbra's own memory (image and heap), which the guest never sees. Returns the count. */
size_t mem_umbra_ranges(struct loader_range *out, size_t max);

/* Zeroed, page-aligned memory for umbra itself; 0 when exhausted. */
uint64_t mem_alloc_pages(size_t count);

#endif
