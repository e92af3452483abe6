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
	uint64_t highest_mapped; /* end of the highest RAM, ACPI or NVS range: umbra maps up to here */
	uint64_t image_start, image_end; /* physical, where mem_relocate puts the image */
	uint64_t pool_start, pool_end; /* umbra's heap, right above the image */
};

/*
 * Choose umbra's footprint (image and heap, contiguous, at the top of RAM
 * below 4 GiB, clear of the low 1 MiB, the image where GRUB loaded it, the
 * multiboot2 info and every module) and start the frame allocator on the
 * heap. Returns false (and says why) when the map is unusable.
 */
bool mem_init(const struct mb2_info *mbi, const void *mbi_raw);

/*
 * Build umbra's page tables (all RAM identity-mapped) and move the image to
 * its footprint: from here on nothing of umbra's is below image_start.
 * Call with interrupts off, before any other CPU runs.
 */
bool mem_relocate(void);
const struct mem_summary *mem_summary(void);

/* umbra's own memory (image and heap, one range), which the guest never sees. Returns the count. */
size_t mem_umbra_ranges(struct loader_range *out, size_t max);

/* Zeroed, page-aligned memory for umbra itself; 0 when exhausted. */
uint64_t mem_alloc_pages(size_t count);

#endif
