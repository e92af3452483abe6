/* SPDX-License-Identifier: BSD-2-Clause */
/* L1's EPT walked as the CPU walks an EPT (SDM Vol. 3C 29.3.2-29.3.3), for nested EPT. */
#include "nested/ept12.h"
#include "arch/x86/ept.h"
#include "arch/x86/mtrr.h"

#define EPT_PRESENT_MASK EPT_RWX
#define EPTP_MEMTYPE_MASK 7ULL
#define EPTP_WALK_MASK (7ULL << 3)
#define EPTP_RESERVED_LOW 0xf80ULL /* bits 11:7 */
#define NONLEAF_RESERVED 0xf8ULL   /* bits 7:3 of a PML4E or an entry referencing a table */
#define LEAF_1G_RESERVED 0x3ffff000ULL
#define LEAF_2M_RESERVED 0x1ff000ULL

static uint64_t above_width(const struct ept12_caps *caps)
{
	/* Address bits 51:MAXPHYADDR of an entry (SDM Tables 29-1..29-6: reserved). */
	return EPT_ADDR_MASK & ~((1ULL << caps->phys_bits) - 1);
}

bool ept12_eptp_valid(const struct ept12_caps *caps, uint64_t eptp)
{
	uint64_t type = eptp & EPTP_MEMTYPE_MASK;

	if (!((type == MEM_TYPE_UC && caps->mem_uc) || (type == MEM_TYPE_WB && caps->mem_wb)))
		return false;
	if ((eptp & EPTP_WALK_MASK) != EPTP_WALK_LENGTH_4)
		return false;
	/* Bit 6 (accessed and dirty flags) only where offered; bits 11:7 are reserved. */
	if ((eptp & EPTP_AD_ENABLE) && !caps->ad)
		return false;
	return !(eptp & EPTP_RESERVED_LOW) && !(eptp >> caps->phys_bits);
}

/* SDM 29.3.3.1: memory types 2, 3 and 7 are reserved in a leaf. */
static bool mem_type_valid(uint8_t t)
{
	return t == MEM_TYPE_UC || t == MEM_TYPE_WC || t == MEM_TYPE_WT || t == MEM_TYPE_WP || t == MEM_TYPE_WB;
}

/* A present entry's reserved settings (SDM 29.3.3.1); leaf says whether it maps a page. */
static bool misconfigured(const struct ept12_caps *caps, uint64_t e, int level, bool leaf)
{
	if ((e & EPT_WRITE) && !(e & EPT_READ))
		return true;
	if ((e & EPT_EXEC) && !(e & EPT_READ) && !caps->exec_only)
		return true;
	if (e & above_width(caps))
		return true;
	if (!leaf)
		return (e & NONLEAF_RESERVED) != 0;
	if ((level == 3 && (e & LEAF_1G_RESERVED)) || (level == 2 && (e & LEAF_2M_RESERVED)))
		return true;
	return !mem_type_valid((uint8_t)((e >> EPT_MEMTYPE_SHIFT) & 7));
}

static bool large_allowed(const struct ept12_caps *caps, int level)
{
	return (level == 3 && caps->pages_1g) || (level == 2 && caps->pages_2m);
}

/* The permissions an access needs (SDM 29.3.3.2). */
static uint64_t needed(uint64_t access)
{
	return ((access & EPT_QUAL_READ) ? EPT_READ : 0) | ((access & EPT_QUAL_WRITE) ? EPT_WRITE : 0) |
	       ((access & EPT_QUAL_FETCH) ? EPT_EXEC : 0);
}

uint64_t ept12_compose(const struct ept12_walk *w, uint64_t leaf01)
{
	uint64_t leaf = ((w->gpa1 & EPT_ADDR_MASK) & ~(uint64_t)0xfff) | (w->perms & leaf01 & EPT_RWX);

	if (((leaf01 >> EPT_MEMTYPE_SHIFT) & 7) == MEM_TYPE_UC)
		return leaf | ((uint64_t)MEM_TYPE_UC << EPT_MEMTYPE_SHIFT) | EPT_IGNORE_PAT;
	return leaf | ((uint64_t)w->mem_type << EPT_MEMTYPE_SHIFT) | (w->ignore_pat ? EPT_IGNORE_PAT : 0);
}

uint64_t ept12_ad_bits(const struct ept12_walk *w, int i, uint64_t access)
{
	uint64_t want = EPT_ACCESSED;

	if (i == w->entries - 1 && (access & EPT_QUAL_WRITE))
		want |= EPT_DIRTY;
	return want & ~w->entry[i];
}

enum ept12_result ept12_translate(const struct ept12_caps *caps, ept12_read_fn read, void *ctx, uint64_t eptp,
				  uint64_t gpa2, uint64_t access, struct ept12_walk *w)
{
	uint64_t table = eptp & EPT_ADDR_MASK & ((1ULL << caps->phys_bits) - 1);

	*w = (struct ept12_walk){ .perms = EPT_RWX };
	for (int level = 4; level >= 1; level--) {
		unsigned int index = (unsigned int)(gpa2 >> (12 + 9 * (level - 1))) & 511;
		uint64_t e = read(ctx, table + index * 8), page;
		bool leaf;

		w->entry_pa[w->entries] = table + index * 8;
		w->entry[w->entries++] = e;
		w->perms &= e & EPT_RWX;
		if (!(e & EPT_PRESENT_MASK))
			return EPT12_VIOLATION;
		/* Bit 7 in a PML4E is reserved; in a PDPTE or PDE it maps a page if that size is offered. */
		leaf = level == 1 || (level < 4 && (e & EPT_LARGE_PAGE));
		if ((level == 4 && (e & EPT_LARGE_PAGE)) || (leaf && level > 1 && !large_allowed(caps, level)) ||
		    misconfigured(caps, e, level, leaf))
			return EPT12_MISCONFIG;
		if (!leaf) {
			table = e & EPT_ADDR_MASK & ~above_width(caps);
			continue;
		}
		page = 1ULL << (12 + 9 * (level - 1));
		w->gpa1 = (e & EPT_ADDR_MASK & ~(page - 1)) | (gpa2 & (page - 1));
		w->mem_type = (uint8_t)((e >> EPT_MEMTYPE_SHIFT) & 7);
		w->ignore_pat = e & EPT_IGNORE_PAT;
		w->leaf_level = level;
		return (w->perms & needed(access)) == needed(access) ? EPT12_OK : EPT12_VIOLATION;
	}
	return EPT12_VIOLATION; /* not reached: level 1 is always a leaf */
}
