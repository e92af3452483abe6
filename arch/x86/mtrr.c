/* SPDX-License-Identifier: BSD-2-Clause */
/* MTRR decoding: the memory type the CPU gives each physical address (SDM Vol. 3A 12.11). */
#include "arch/x86/mtrr.h"
#ifndef UMBRA_HOST_TEST
#include "arch/x86/cpu.h"
#endif

#define MTRRCAP_VCNT(c) ((c) & 0xff)
#define MTRRCAP_FIX BIT(8)
#define MTRR_DEF_TYPE_FE BIT(10)
#define MTRR_DEF_TYPE_E BIT(11)
#define MTRR_PHYSMASK_VALID BIT(11)
#define MTRR_PHYS_BASE(n) (0x200 + 2 * (n))
#define MTRR_PHYS_MASK(n) (0x201 + 2 * (n))
#define FIXED_1MIB MiB(1)

#ifndef UMBRA_HOST_TEST
/* SDM Vol. 3A 12.11.2.2: eleven fixed-range MSRs, eight ranges (bytes) each. */
static const uint32_t fixed_msrs[11] = { 0x250, 0x258, 0x259, 0x268, 0x269, 0x26a,
					 0x26b, 0x26c, 0x26d, 0x26e, 0x26f };

void mtrr_read(struct mtrr_state *st)
{
	uint32_t maxphys = 36;
	uint64_t cap, def;

	*st = (struct mtrr_state){ 0 };
	if (cpuid(0x80000000, 0).eax >= 0x80000008)
		maxphys = cpuid(0x80000008, 0).eax & 0xff;
	st->phys_addr_mask = (1ULL << maxphys) - 1;
	st->present = cpuid(1, 0).edx & CPUID_1_EDX_MTRR;
	if (!st->present)
		return;
	cap = rdmsr(MSR_IA32_MTRRCAP);
	def = rdmsr(MSR_IA32_MTRR_DEF_TYPE);
	st->enabled = def & MTRR_DEF_TYPE_E;
	st->fixed_enabled = (def & MTRR_DEF_TYPE_FE) && (cap & MTRRCAP_FIX);
	st->default_type = def & 0xff;
	if (st->fixed_enabled) {
		for (size_t m = 0; m < ARRAY_SIZE(fixed_msrs); m++) {
			uint64_t v = rdmsr(fixed_msrs[m]);

			for (int b = 0; b < 8; b++)
				st->fixed[m * 8 + b] = (v >> (8 * b)) & 0xff;
		}
	}
	st->var_count = MIN(MTRRCAP_VCNT(cap), MTRR_MAX_VARIABLE);
	for (size_t i = 0; i < st->var_count; i++) {
		uint64_t base = rdmsr(MTRR_PHYS_BASE(i));
		uint64_t mask = rdmsr(MTRR_PHYS_MASK(i));

		st->var[i] = (struct mtrr_variable){
			.base = base & ~0xfffULL & st->phys_addr_mask,
			.mask = mask & ~0xfffULL & st->phys_addr_mask,
			.type = base & 0xff,
			.valid = mask & MTRR_PHYSMASK_VALID,
		};
	}
}
#endif

/* Index into st->fixed for an address below 1 MiB (SDM Vol. 3A Table 12-9). */
static size_t fixed_index(uint64_t addr)
{
	if (addr < 0x80000)
		return addr >> 16;                   /* 8 x 64 KiB */
	if (addr < 0xc0000)
		return 8 + ((addr - 0x80000) >> 14); /* 16 x 16 KiB */
	return 24 + ((addr - 0xc0000) >> 12);    /* 64 x 4 KiB */
}

/* SDM Vol. 3A 12.11.4.1: precedence when variable ranges overlap. */
static uint8_t combine(uint8_t a, uint8_t b)
{
	if (a == b)
		return a;
	if (a == MEM_TYPE_UC || b == MEM_TYPE_UC)
		return MEM_TYPE_UC;
	if ((a == MEM_TYPE_WT && b == MEM_TYPE_WB) || (a == MEM_TYPE_WB && b == MEM_TYPE_WT))
		return MEM_TYPE_WT;
	return MEM_TYPE_UC; /* undefined combination: be safe */
}

uint8_t mtrr_type_at(const struct mtrr_state *st, uint64_t addr)
{
	bool matched = false;
	uint8_t type = 0;

	if (!st->present || !st->enabled)
		return MEM_TYPE_UC;
	if (addr < FIXED_1MIB && st->fixed_enabled)
		return st->fixed[fixed_index(addr)];
	for (size_t i = 0; i < st->var_count; i++) {
		const struct mtrr_variable *v = &st->var[i];

		if (!v->valid || ((addr & v->mask) != (v->base & v->mask)))
			continue;
		type = matched ? combine(type, v->type) : v->type;
		matched = true;
	}
	return matched ? type : st->default_type;
}

/* Span of a variable range whose mask is contiguous (the only kind firmware writes). */
static void var_span(const struct mtrr_state *st, const struct mtrr_variable *v, uint64_t *lo,
		     uint64_t *hi)
{
	uint64_t size = (~v->mask & st->phys_addr_mask) + 1;

	*lo = v->base & v->mask;
	*hi = *lo + ALIGN_UP(size, 4096);
}

uint8_t mtrr_range_type(const struct mtrr_state *st, uint64_t base, uint64_t len)
{
	uint64_t end = base + len;
	uint8_t type;

	if (len == 0)
		return MEM_TYPE_MIXED;
	if (!st->present || !st->enabled)
		return MEM_TYPE_UC;
	type = mtrr_type_at(st, base);
	/* Below 1 MiB the fixed ranges decide, 4 KiB at a time at worst. */
	if (base < FIXED_1MIB && st->fixed_enabled) {
		for (uint64_t a = ALIGN_DOWN(base, 4096); a < MIN(end, FIXED_1MIB); a += 4096)
			if (st->fixed[fixed_index(a)] != type)
				return MEM_TYPE_MIXED;
		if (end > FIXED_1MIB)
			return MEM_TYPE_MIXED; /* fixed and variable ranges meet */
		return type;
	}
	/* Any variable range that covers part, not all, of the range splits it. */
	for (size_t i = 0; i < st->var_count; i++) {
		uint64_t lo, hi;

		if (!st->var[i].valid)
			continue;
		var_span(st, &st->var[i], &lo, &hi);
		if (hi <= base || lo >= end)
			continue;
		if (lo > base || hi < end)
			return MEM_TYPE_MIXED;
	}
	return type;
}

const char *mem_type_name(uint8_t type)
{
	switch (type) {
	case MEM_TYPE_UC: return "UC";
	case MEM_TYPE_WC: return "WC";
	case MEM_TYPE_WT: return "WT";
	case MEM_TYPE_WP: return "WP";
	case MEM_TYPE_WB: return "WB";
	case MEM_TYPE_MIXED: return "mixed";
	default: return "?";
	}
}
