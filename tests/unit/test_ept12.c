/* SPDX-License-Identifier: BSD-2-Clause */
/* Host tests for walking L1's EPT: page sizes, permissions, violations, misconfigurations, EPTPs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/ept.h"
#include "arch/x86/mtrr.h"
#include "nested/ept12.h"

#define PG 4096ULL
#define TABLES 8
#define WB ((uint64_t)MEM_TYPE_WB << EPT_MEMTYPE_SHIFT)

/* L1's memory: table i at the fake guest-physical address PG * (i + 1); everything else reads all ones. */
static uint64_t mem[TABLES][512];
static unsigned int reads;

static uint64_t read_entry(void *ctx, uint64_t pa)
{
	(void)ctx;
	reads++;
	if (pa < PG || pa >= PG * (TABLES + 1) || (pa & 7))
		return ~0ULL;
	return mem[pa / PG - 1][(pa % PG) / 8];
}

#define T(i) (PG * ((i) + 1)) /* guest-physical address of table i */

static const struct ept12_caps caps = {
	.phys_bits = 39, .exec_only = true, .pages_2m = true, .pages_1g = true, .mem_uc = true, .mem_wb = true
};
static const struct ept12_caps caps_small = {
	.phys_bits = 39, .exec_only = false, .pages_2m = false, .pages_1g = false, .mem_uc = false, .mem_wb = true
};

#define EPTP (T(0) | MEM_TYPE_WB | EPTP_WALK_LENGTH_4)

/* PML4 (table 0) -> PDPT (1) -> PD (2) -> PT (3), for guest-physical 0x40201000 + offset. */
static void four_levels(uint64_t leaf)
{
	memset(mem, 0, sizeof(mem));
	mem[0][0] = T(1) | EPT_RWX;
	mem[1][1] = T(2) | EPT_RWX; /* 1 GiB */
	mem[2][1] = T(3) | EPT_RWX; /* 2 MiB */
	mem[3][1] = leaf;           /* 4 KiB */
}

#define GPA2 0x40201123ULL

static enum ept12_result walk(const struct ept12_caps *c, uint64_t gpa, uint64_t access, struct ept12_walk *w)
{
	return ept12_translate(c, read_entry, NULL, EPTP, gpa, access, w);
}

static void test_4k_translation(void **state)
{
	struct ept12_walk w;

	(void)state;
	four_levels(0x7777000 | EPT_RWX | WB | EPT_IGNORE_PAT);
	assert_int_equal(walk(&caps, GPA2, EPT_QUAL_WRITE, &w), EPT12_OK);
	assert_int_equal(w.gpa1, 0x7777123);
	assert_int_equal(w.perms, EPT_RWX);
	assert_int_equal(w.mem_type, MEM_TYPE_WB);
	assert_true(w.ignore_pat);
	assert_int_equal(w.leaf_level, 1);
}

static void test_large_pages(void **state)
{
	struct ept12_walk w;

	(void)state;
	four_levels(0);
	mem[2][1] = 0x12400000 | EPT_READ | WB | EPT_LARGE_PAGE; /* 2 MiB */
	assert_int_equal(walk(&caps, GPA2, EPT_QUAL_READ, &w), EPT12_OK);
	assert_int_equal(w.gpa1, 0x12400000 | (GPA2 & 0x1fffff));
	assert_int_equal(w.leaf_level, 2);
	mem[1][1] = 0x80000000 | EPT_READ | WB | EPT_LARGE_PAGE; /* 1 GiB */
	assert_int_equal(walk(&caps, GPA2, EPT_QUAL_READ, &w), EPT12_OK);
	assert_int_equal(w.gpa1, 0x80000000 | (GPA2 & 0x3fffffff));
	assert_int_equal(w.leaf_level, 3);
	/* A page size not offered: bit 7 is reserved there (29.3.3.1). */
	assert_int_equal(walk(&caps_small, GPA2, EPT_QUAL_READ, &w), EPT12_MISCONFIG);
	/* Bit 7 of a PML4E is always reserved. */
	four_levels(0x7777000 | EPT_RWX | WB);
	mem[0][0] |= EPT_LARGE_PAGE;
	assert_int_equal(walk(&caps, GPA2, EPT_QUAL_READ, &w), EPT12_MISCONFIG);
}

static void test_violations(void **state)
{
	struct ept12_walk w;

	(void)state;
	/* Not present at the leaf: the permissions walked are 0 there. */
	four_levels(0);
	assert_int_equal(walk(&caps, GPA2, EPT_QUAL_READ, &w), EPT12_VIOLATION);
	assert_int_equal(w.perms, 0);
	/* Not present higher up: the walk stops there. */
	four_levels(0x7777000 | EPT_RWX | WB);
	mem[1][1] = 0;
	reads = 0;
	assert_int_equal(walk(&caps, GPA2, EPT_QUAL_READ, &w), EPT12_VIOLATION);
	assert_int_equal(reads, 2);
	/* Write to a read-only leaf: perms R. */
	four_levels(0x7777000 | EPT_READ | WB);
	assert_int_equal(walk(&caps, GPA2, EPT_QUAL_WRITE, &w), EPT12_VIOLATION);
	assert_int_equal(w.perms, EPT_READ);
	/* A higher level takes write away: the AND over every entry. */
	four_levels(0x7777000 | EPT_RWX | WB);
	mem[2][1] = T(3) | EPT_READ | EPT_EXEC;
	assert_int_equal(walk(&caps, GPA2, EPT_QUAL_WRITE, &w), EPT12_VIOLATION);
	assert_int_equal(w.perms, EPT_READ | EPT_EXEC);
	assert_int_equal(walk(&caps, GPA2, EPT_QUAL_FETCH, &w), EPT12_OK);
	/* Execute-only, where offered: a read is a violation with perms X. */
	four_levels(0x7777000 | EPT_EXEC | WB);
	assert_int_equal(walk(&caps, GPA2, EPT_QUAL_READ, &w), EPT12_VIOLATION);
	assert_int_equal(w.perms, EPT_EXEC);
	assert_int_equal(walk(&caps, GPA2, EPT_QUAL_FETCH, &w), EPT12_OK);
}

static void test_misconfigurations(void **state)
{
	struct ept12_walk w;

	(void)state;
	four_levels(0x7777000 | EPT_WRITE | WB); /* write without read */
	assert_int_equal(walk(&caps, GPA2, EPT_QUAL_READ, &w), EPT12_MISCONFIG);
	four_levels(0x7777000 | EPT_EXEC | WB); /* execute-only, not offered */
	assert_int_equal(walk(&caps_small, GPA2, EPT_QUAL_FETCH, &w), EPT12_MISCONFIG);
	for (uint64_t t = 0; t < 8; t++) { /* memory types 2, 3, 7 are reserved */
		four_levels(0x7777000 | EPT_RWX | (t << EPT_MEMTYPE_SHIFT));
		assert_int_equal(walk(&caps, GPA2, EPT_QUAL_READ, &w),
				 (t == 2 || t == 3 || t == 7) ? EPT12_MISCONFIG : EPT12_OK);
	}
	four_levels(0x7777000 | EPT_RWX | WB | (1ULL << 39)); /* an address bit beyond MAXPHYADDR */
	assert_int_equal(walk(&caps, GPA2, EPT_QUAL_READ, &w), EPT12_MISCONFIG);
	four_levels(0x7777000 | EPT_RWX | WB);
	mem[1][1] |= 1ULL << 3; /* bits 7:3 of an entry referencing a table */
	assert_int_equal(walk(&caps, GPA2, EPT_QUAL_READ, &w), EPT12_MISCONFIG);
	four_levels(0);
	mem[2][1] = 0x12400000 | EPT_READ | WB | EPT_LARGE_PAGE | (1ULL << 12); /* 2 MiB leaf, bits 20:12 */
	assert_int_equal(walk(&caps, GPA2, EPT_QUAL_READ, &w), EPT12_MISCONFIG);
	/* A table outside L1's memory reads all ones: present, reserved bits set. */
	four_levels(0);
	mem[2][1] = (PG * 100) | EPT_RWX;
	assert_int_equal(walk(&caps, GPA2, EPT_QUAL_READ, &w), EPT12_MISCONFIG);
}

static void test_eptp(void **state)
{
	(void)state;
	assert_true(ept12_eptp_valid(&caps, EPTP));
	assert_true(ept12_eptp_valid(&caps, T(0) | MEM_TYPE_UC | EPTP_WALK_LENGTH_4));
	assert_false(ept12_eptp_valid(&caps_small, T(0) | MEM_TYPE_UC | EPTP_WALK_LENGTH_4));
	assert_false(ept12_eptp_valid(&caps, T(0) | MEM_TYPE_WC | EPTP_WALK_LENGTH_4));
	assert_false(ept12_eptp_valid(&caps, T(0) | MEM_TYPE_WB | (4ULL << 3))); /* 5-level: not offered */
	assert_false(ept12_eptp_valid(&caps, EPTP | EPTP_AD_ENABLE));        /* A/D: not offered */
	{
		struct ept12_caps with_ad = caps;

		with_ad.ad = true;
		assert_true(ept12_eptp_valid(&with_ad, EPTP | EPTP_AD_ENABLE));
	}
	assert_false(ept12_eptp_valid(&caps, EPTP | (1ULL << 7)));
	assert_false(ept12_eptp_valid(&caps, EPTP | (1ULL << 39)));
}

/* SDM 29.3.5: accessed on every entry walked, dirty on the leaf for a write; flags already set are not asked for. */
static void test_ad_bits(void **state)
{
	struct ept12_walk w;

	(void)state;
	four_levels((0x7000ULL) | EPT_RWX | WB);
	mem[1][1] |= EPT_ACCESSED;
	assert_int_equal(walk(&caps, GPA2, EPT_QUAL_READ, &w), EPT12_OK);
	assert_int_equal(w.entries, 4);
	assert_int_equal(w.entry_pa[0], T(0));
	assert_int_equal(w.entry_pa[3], T(3) + 8);
	assert_int_equal(ept12_ad_bits(&w, 0, EPT_QUAL_READ), EPT_ACCESSED);
	assert_int_equal(ept12_ad_bits(&w, 1, EPT_QUAL_READ), 0); /* already accessed */
	assert_int_equal(ept12_ad_bits(&w, 3, EPT_QUAL_READ), EPT_ACCESSED);
	assert_int_equal(ept12_ad_bits(&w, 3, EPT_QUAL_WRITE), EPT_ACCESSED | EPT_DIRTY);
	assert_int_equal(ept12_ad_bits(&w, 2, EPT_QUAL_WRITE), EPT_ACCESSED); /* dirty is a leaf's only */
	/* A 2 MiB leaf: the walk stops at the PDE, which gets the dirty flag. */
	mem[2][1] = 0x40200000ULL | EPT_RWX | WB | EPT_LARGE_PAGE | EPT_ACCESSED | EPT_DIRTY;
	assert_int_equal(walk(&caps, GPA2, EPT_QUAL_WRITE, &w), EPT12_OK);
	assert_int_equal(w.entries, 3);
	assert_int_equal(ept12_ad_bits(&w, 2, EPT_QUAL_WRITE), 0);
}

static void test_compose(void **state)
{
	struct ept12_walk w = { .gpa1 = 0x7777123, .perms = EPT_READ | EPT_EXEC, .mem_type = MEM_TYPE_WT,
				.ignore_pat = true, .leaf_level = 2 };
	uint64_t leaf;

	(void)state;
	/* RAM in umbra's EPT (RWX, WB): L1's rights, type and ignore-PAT, the 4 KiB page of gpa1. */
	leaf = ept12_compose(&w, 0x7600000 | EPT_RWX | WB | EPT_LARGE_PAGE);
	assert_int_equal(leaf & EPT_ADDR_MASK, 0x7777000);
	assert_int_equal(leaf & EPT_RWX, EPT_READ | EPT_EXEC);
	assert_int_equal((leaf >> EPT_MEMTYPE_SHIFT) & 7, MEM_TYPE_WT);
	assert_true(leaf & EPT_IGNORE_PAT);
	assert_false(leaf & EPT_LARGE_PAGE);
	/* umbra's read-only page (the local APIC): the AND of both. */
	w.perms = EPT_RWX;
	w.ignore_pat = false;
	leaf = ept12_compose(&w, 0x7777000 | EPT_READ | ((uint64_t)MEM_TYPE_UC << EPT_MEMTYPE_SHIFT));
	assert_int_equal(leaf & EPT_RWX, EPT_READ);
	/* umbra's UC (MMIO) wins over L1's WB, ignoring PAT. */
	assert_int_equal((leaf >> EPT_MEMTYPE_SHIFT) & 7, MEM_TYPE_UC);
	assert_true(leaf & EPT_IGNORE_PAT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_4k_translation),
		cmocka_unit_test(test_large_pages),
		cmocka_unit_test(test_violations),
		cmocka_unit_test(test_misconfigurations),
		cmocka_unit_test(test_eptp),
		cmocka_unit_test(test_ad_bits),
		cmocka_unit_test(test_compose),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
