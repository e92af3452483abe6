/* SPDX-License-Identifier: BSD-2-Clause */
/* EPT identity map builder (SDM Vol. 3C 29.3): large pages, MTRR types, holes. */
#ifndef UMBRA_ARCH_X86_EPT_H
#define UMBRA_ARCH_X86_EPT_H

#include "core/types.h"

/* EPT paging-structure entry bits (SDM Vol. 3C Tables 29-1 to 29-6). */
#define EPT_READ BIT(0)
#define EPT_WRITE BIT(1)
#define EPT_EXEC BIT(2)
#define EPT_RWX (EPT_READ | EPT_WRITE | EPT_EXEC)
#define EPT_MEMTYPE_SHIFT 3
#define EPT_IGNORE_PAT BIT(6)
#define EPT_LARGE_PAGE BIT(7)
#define EPT_ACCESSED BIT(8) /* with EPTP bit 6 (SDM Vol. 3C 29.3.5) */
#define EPT_DIRTY BIT(9)    /* in a leaf, with EPTP bit 6 */
#define EPT_ADDR_MASK 0x000ffffffffff000ULL

/* EPTP (SDM Vol. 3C 24.6.11): memory type, page-walk length - 1. */
#define EPTP_WALK_LENGTH_4 (3ULL << 3)
#define EPTP_AD_ENABLE BIT(6)

/* A range mapped with other permissions than RWX: 0 = not mapped at all (a hole). */
struct ept_hole {
	uint64_t base;  /* 4 KiB aligned */
	uint64_t end;   /* exclusive, 4 KiB aligned */
	uint64_t perms; /* EPT_READ | EPT_WRITE | EPT_EXEC bits, 0 for none */
};

struct ept_builder {
	/* A zeroed 4 KiB table: its physical address, or 0 when memory ran out. */
	uint64_t (*alloc_table)(void *ctx);
	/* Where the builder can write a table it allocated. */
	uint64_t *(*table_virt)(void *ctx, uint64_t pa);
	/* Memory type of [base, base + len), or MEM_TYPE_MIXED (arch/x86/mtrr.h). */
	uint8_t (*mem_type)(void *ctx, uint64_t base, uint64_t len);
	void *ctx;
	bool pages_1g; /* EPT_CAP_1G */
	bool pages_2m; /* EPT_CAP_2M */
};

struct ept_stats {
	size_t tables, pages_1g, pages_2m, pages_4k;
};

/*
 * Map guest-physical = host-physical for [0, limit), RWX except the special
 * ranges (page aligned, sorted or not, not overlapping each other): those
 * get their perms, 0 meaning not mapped. Each leaf is as large as the page
 * sizes allowed, the ranges and the memory types permit. Returns the PML4's
 * physical address, or 0 when a table could not be allocated.
 */
uint64_t ept_build_identity(const struct ept_builder *b, uint64_t limit, const struct ept_hole *holes,
			    size_t nholes, struct ept_stats *stats);

/*
 * Walk the tables for gpa: the leaf entry (0 when not mapped) and the size
 * of the page it maps (0 when not mapped).
 */
uint64_t ept_lookup(const struct ept_builder *b, uint64_t pml4_pa, uint64_t gpa, uint64_t *page_size);

#endif
