/* SPDX-License-Identifier: BSD-2-Clause */
/* EPT identity map with holes: the guest owns every address but umbra's own. */
#include "arch/x86/ept.h"
#include "arch/x86/mtrr.h"

#define ENTRIES 512

/* Bytes mapped by one entry at each level (1 = page table ... 4 = PML4). */
static uint64_t level_size(int level)
{
	return 1ULL << (12 + 9 * (level - 1));
}

enum overlap { NONE, PARTIAL, FULL };

/* How [lo, hi) meets the special ranges; *perms gets the covering range's perms when FULL. */
static enum overlap hole_overlap(const struct ept_hole *holes, size_t n, uint64_t lo, uint64_t hi,
				 uint64_t *perms)
{
	enum overlap o = NONE;

	*perms = EPT_RWX;
	for (size_t i = 0; i < n; i++) {
		if (holes[i].end <= lo || holes[i].base >= hi)
			continue;
		if (holes[i].base <= lo && holes[i].end >= hi) {
			*perms = holes[i].perms & EPT_RWX;
			return FULL;
		}
		o = PARTIAL;
	}
	return o;
}

struct build {
	const struct ept_builder *b;
	const struct ept_hole *holes;
	size_t nholes;
	uint64_t limit;
	struct ept_stats *stats;
};

static bool leaf_allowed(const struct build *st, int level)
{
	return level == 1 || (level == 2 && st->b->pages_2m) || (level == 3 && st->b->pages_1g);
}

/* Fill the table at pa, which maps [base, base + 512 * level_size(level)). */
static bool fill(struct build *st, uint64_t pa, int level, uint64_t base)
{
	uint64_t *table = st->b->table_virt(st->b->ctx, pa);
	uint64_t size = level_size(level);

	for (int i = 0; i < ENTRIES; i++) {
		uint64_t lo = base + i * size, hi = lo + size;
		enum overlap o;
		uint64_t perms, child;
		uint8_t type;

		if (lo >= st->limit)
			break;
		o = hole_overlap(st->holes, st->nholes, lo, hi, &perms);
		if (o == FULL && perms == 0)
			continue; /* not present: an access is an EPT violation */
		if (o != PARTIAL && hi <= st->limit && leaf_allowed(st, level)) {
			type = st->b->mem_type(st->b->ctx, lo, size);
			/* A 4 KiB page cannot be split further: if its type is unclear, be uncached. */
			if (type == MEM_TYPE_MIXED && level == 1)
				type = MEM_TYPE_UC;
			if (type != MEM_TYPE_MIXED) {
				table[i] = lo | perms | ((uint64_t)type << EPT_MEMTYPE_SHIFT) |
					   (level > 1 ? EPT_LARGE_PAGE : 0);
				if (level == 3)
					st->stats->pages_1g++;
				else if (level == 2)
					st->stats->pages_2m++;
				else
					st->stats->pages_4k++;
				continue;
			}
		}
		if (level == 1)
			continue; /* a 4 KiB page cut by the limit: leave it out */
		child = st->b->alloc_table(st->b->ctx);
		if (!child)
			return false;
		st->stats->tables++;
		table[i] = child | EPT_RWX;
		if (!fill(st, child, level - 1, lo))
			return false;
	}
	return true;
}

uint64_t ept_build_identity(const struct ept_builder *b, uint64_t limit, const struct ept_hole *holes,
			    size_t nholes, struct ept_stats *stats)
{
	struct ept_stats local = { 0 };
	struct build st = { b, holes, nholes, ALIGN_DOWN(limit, 4096), stats ? stats : &local };
	uint64_t pml4 = b->alloc_table(b->ctx);

	*st.stats = (struct ept_stats){ 0 };
	if (!pml4)
		return 0;
	st.stats->tables++;
	return fill(&st, pml4, 4, 0) ? pml4 : 0;
}

uint64_t ept_lookup(const struct ept_builder *b, uint64_t pml4_pa, uint64_t gpa, uint64_t *page_size)
{
	uint64_t pa = pml4_pa;

	*page_size = 0;
	for (int level = 4; level >= 1; level--) {
		uint64_t *table = b->table_virt(b->ctx, pa);
		uint64_t e = table[(gpa >> (12 + 9 * (level - 1))) & (ENTRIES - 1)];

		if (!(e & EPT_RWX))
			return 0;
		if (level == 1 || (e & EPT_LARGE_PAGE)) {
			*page_size = level_size(level);
			return e;
		}
		pa = e & EPT_ADDR_MASK;
	}
	return 0;
}
