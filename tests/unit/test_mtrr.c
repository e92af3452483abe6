/* SPDX-License-Identifier: BSD-2-Clause */
/* Host tests for MTRR decoding: fixed and variable ranges, precedence, range types. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/mtrr.h"

#define PHYS_MASK ((1ULL << 36) - 1) /* MAXPHYADDR 36 */

static struct mtrr_state st;

/* A variable range [base, base + size), size a power of two and base aligned to it. */
static void add_var(uint64_t base, uint64_t size, uint8_t type)
{
	assert_true(st.var_count < MTRR_MAX_VARIABLE);
	st.var[st.var_count++] = (struct mtrr_variable){
		.base = base,
		.mask = ~(size - 1) & st.phys_addr_mask,
		.type = type,
		.valid = true,
	};
}

static int setup(void **state)
{
	(void)state;
	memset(&st, 0, sizeof(st));
	st.present = true;
	st.enabled = true;
	st.default_type = MEM_TYPE_UC;
	st.phys_addr_mask = PHYS_MASK;
	return 0;
}

/* SDM Vol. 3A Table 12-9, computed independently of the module: the fixed range of addr. */
static size_t expected_fixed_index(uint64_t addr)
{
	static const struct {
		uint64_t base, step;
		size_t first, count;
	} msrs[] = {
		{ 0x00000, 0x10000, 0, 8 },  /* IA32_MTRR_FIX64K_00000 */
		{ 0x80000, 0x4000, 8, 8 },   /* IA32_MTRR_FIX16K_80000 */
		{ 0xa0000, 0x4000, 16, 8 },  /* IA32_MTRR_FIX16K_A0000 */
		{ 0xc0000, 0x1000, 24, 64 }, /* IA32_MTRR_FIX4K_C0000 ... F8000 */
	};

	for (size_t i = 0; i < ARRAY_SIZE(msrs); i++) {
		uint64_t end = msrs[i].base + msrs[i].step * msrs[i].count;

		if (addr >= msrs[i].base && addr < end)
			return msrs[i].first + (addr - msrs[i].base) / msrs[i].step;
	}
	fail_msg("%#lx is not below 1 MiB", addr);
	return 0;
}

static void test_disabled(void **state)
{
	(void)state;
	st.default_type = MEM_TYPE_WB;
	st.fixed_enabled = true;
	memset(st.fixed, MEM_TYPE_WB, sizeof(st.fixed));
	add_var(0, GiB(2), MEM_TYPE_WB);

	st.enabled = false;
	assert_int_equal(mtrr_type_at(&st, 0), MEM_TYPE_UC);
	assert_int_equal(mtrr_type_at(&st, GiB(1)), MEM_TYPE_UC);
	assert_int_equal(mtrr_type_at(&st, GiB(16)), MEM_TYPE_UC);
	assert_int_equal(mtrr_range_type(&st, 0, GiB(4)), MEM_TYPE_UC);
	assert_int_equal(mtrr_range_type(&st, GiB(1), PAGE_SIZE), MEM_TYPE_UC);

	st.enabled = true;
	st.present = false;
	assert_int_equal(mtrr_type_at(&st, GiB(1)), MEM_TYPE_UC);
	assert_int_equal(mtrr_range_type(&st, 0, GiB(1)), MEM_TYPE_UC);

	st.present = true;
	assert_int_equal(mtrr_type_at(&st, GiB(1)), MEM_TYPE_WB);
}

static void test_default_type(void **state)
{
	(void)state;
	st.default_type = MEM_TYPE_WB;
	assert_int_equal(mtrr_type_at(&st, 0), MEM_TYPE_WB);
	assert_int_equal(mtrr_type_at(&st, 0x12345000), MEM_TYPE_WB);
	assert_int_equal(mtrr_type_at(&st, PHYS_MASK), MEM_TYPE_WB);
	assert_int_equal(mtrr_range_type(&st, 0, GiB(4)), MEM_TYPE_WB);
	assert_int_equal(mtrr_range_type(&st, 0, GiB(64)), MEM_TYPE_WB);

	st.default_type = MEM_TYPE_WT;
	assert_int_equal(mtrr_type_at(&st, 0xfee00000), MEM_TYPE_WT);
	assert_int_equal(mtrr_range_type(&st, 0x100000, MiB(2)), MEM_TYPE_WT);
}

/* Every 4 KiB below 1 MiB finds its own fixed range (values are the indices, as markers). */
static void test_fixed_ranges(void **state)
{
	(void)state;
	st.fixed_enabled = true;
	st.default_type = 0xee;
	for (size_t i = 0; i < MTRR_FIXED_COUNT; i++)
		st.fixed[i] = (uint8_t)i;
	add_var(0, GiB(1), MEM_TYPE_WB);

	assert_int_equal(mtrr_type_at(&st, 0x0), 0);
	assert_int_equal(mtrr_type_at(&st, 0x7ffff), 7);
	assert_int_equal(mtrr_type_at(&st, 0x80000), 8);
	assert_int_equal(mtrr_type_at(&st, 0x9ffff), 15);
	assert_int_equal(mtrr_type_at(&st, 0xa0000), 16);
	assert_int_equal(mtrr_type_at(&st, 0xbffff), 23);
	assert_int_equal(mtrr_type_at(&st, 0xc0000), 24);
	assert_int_equal(mtrr_type_at(&st, 0xff000), 87);
	assert_int_equal(mtrr_type_at(&st, 0xfffff), 87);
	for (uint64_t a = 0; a < MiB(1); a += 0x800)
		assert_int_equal(mtrr_type_at(&st, a), expected_fixed_index(a));

	/* From 1 MiB on the variable ranges decide. */
	assert_int_equal(mtrr_type_at(&st, 0x100000), MEM_TYPE_WB);

	/* Fixed ranges off: the variable ranges cover the first MiB too. */
	st.fixed_enabled = false;
	assert_int_equal(mtrr_type_at(&st, 0), MEM_TYPE_WB);
	assert_int_equal(mtrr_type_at(&st, 0xc0000), MEM_TYPE_WB);
}

/* Fixed ranges win over variable ones below 1 MiB (SDM Vol. 3A 12.11.2.2). */
static void test_fixed_over_variable(void **state)
{
	(void)state;
	st.fixed_enabled = true;
	memset(st.fixed, MEM_TYPE_WB, sizeof(st.fixed));
	add_var(0, MiB(1), MEM_TYPE_UC);
	assert_int_equal(mtrr_type_at(&st, 0xa0000), MEM_TYPE_WB);
	assert_int_equal(mtrr_range_type(&st, 0, MiB(1)), MEM_TYPE_WB);
}

static void test_variable_ranges(void **state)
{
	(void)state;
	st.default_type = MEM_TYPE_WT; /* distinct from the ranges' types */
	add_var(0, GiB(2), MEM_TYPE_WB);
	add_var(0xc0000000, GiB(1), MEM_TYPE_UC);

	assert_int_equal(mtrr_type_at(&st, 0), MEM_TYPE_WB);
	assert_int_equal(mtrr_type_at(&st, 0x7fffffff), MEM_TYPE_WB);
	assert_int_equal(mtrr_type_at(&st, 0x80000000), MEM_TYPE_WT);
	assert_int_equal(mtrr_type_at(&st, 0xbfffffff), MEM_TYPE_WT);
	assert_int_equal(mtrr_type_at(&st, 0xc0000000), MEM_TYPE_UC);
	assert_int_equal(mtrr_type_at(&st, 0xfee00000), MEM_TYPE_UC);
	assert_int_equal(mtrr_type_at(&st, 0xffffffff), MEM_TYPE_UC);
	assert_int_equal(mtrr_type_at(&st, GiB(4)), MEM_TYPE_WT);       /* not aliased above 4 GiB */
	assert_int_equal(mtrr_type_at(&st, GiB(4) + 0x1000), MEM_TYPE_WT);
	assert_int_equal(mtrr_type_at(&st, GiB(34)), MEM_TYPE_WT);

	/* An invalid range is ignored. */
	st.var[1].valid = false;
	assert_int_equal(mtrr_type_at(&st, 0xc0000000), MEM_TYPE_WT);
	assert_int_equal(mtrr_range_type(&st, 0x80000000, GiB(2)), MEM_TYPE_WT);

	/* A 4 KiB range. */
	st.var[1] = (struct mtrr_variable){ 0xfee00000, ~0xfffULL & PHYS_MASK, MEM_TYPE_UC, true };
	assert_int_equal(mtrr_type_at(&st, 0xfedfffff), MEM_TYPE_WT);
	assert_int_equal(mtrr_type_at(&st, 0xfee00000), MEM_TYPE_UC);
	assert_int_equal(mtrr_type_at(&st, 0xfee00fff), MEM_TYPE_UC);
	assert_int_equal(mtrr_type_at(&st, 0xfee01000), MEM_TYPE_WT);
	assert_int_equal(mtrr_range_type(&st, 0xfee00000, 0x1000), MEM_TYPE_UC);
	assert_int_equal(mtrr_range_type(&st, 0xfee00000, 0x2000), MEM_TYPE_MIXED);
	assert_int_equal(mtrr_range_type(&st, 0xfee00000, MiB(2)), MEM_TYPE_MIXED);
	assert_int_equal(mtrr_range_type(&st, 0xfec00000, MiB(2)), MEM_TYPE_WT); /* ends where it starts */
	assert_int_equal(mtrr_range_type(&st, 0xfee01000, 0x1000), MEM_TYPE_WT);
}

/* SDM Vol. 3A 12.11.4.1: UC wins, then WT over WB; anything else is undefined (UC). */
static void test_overlap_precedence(void **state)
{
	(void)state;
	st.default_type = MEM_TYPE_WB;
	add_var(0, GiB(4), MEM_TYPE_WB);
	add_var(0xc0000000, GiB(1), MEM_TYPE_UC);
	add_var(0, GiB(1), MEM_TYPE_WT);
	add_var(0x20000000, MiB(512), MEM_TYPE_UC); /* inside the WT one */
	add_var(GiB(1), GiB(1), MEM_TYPE_WB);       /* the same type twice */

	assert_int_equal(mtrr_type_at(&st, 0xc0000000), MEM_TYPE_UC);
	assert_int_equal(mtrr_type_at(&st, 0x10000000), MEM_TYPE_WT);
	assert_int_equal(mtrr_type_at(&st, 0x20000000), MEM_TYPE_UC);
	assert_int_equal(mtrr_type_at(&st, GiB(1)), MEM_TYPE_WB);
	assert_int_equal(mtrr_type_at(&st, GiB(2)), MEM_TYPE_WB);
	assert_int_equal(mtrr_range_type(&st, GiB(1), GiB(1)), MEM_TYPE_WB);
	assert_int_equal(mtrr_range_type(&st, 0xc0000000, GiB(1)), MEM_TYPE_UC);
	assert_int_equal(mtrr_range_type(&st, 0x10000000, MiB(2)), MEM_TYPE_WT);

	/* Order does not matter: UC listed first. */
	setup(NULL);
	add_var(0, GiB(1), MEM_TYPE_UC);
	add_var(0, GiB(1), MEM_TYPE_WT);
	add_var(0, GiB(1), MEM_TYPE_WB);
	assert_int_equal(mtrr_type_at(&st, 0x100000), MEM_TYPE_UC);

	setup(NULL);
	add_var(0, GiB(1), MEM_TYPE_WB);
	add_var(0, GiB(1), MEM_TYPE_WT);
	assert_int_equal(mtrr_type_at(&st, 0x100000), MEM_TYPE_WT);

	/* WC with WB is undefined: treated as UC. */
	setup(NULL);
	st.default_type = MEM_TYPE_WB;
	add_var(0, GiB(1), MEM_TYPE_WC);
	add_var(0, GiB(1), MEM_TYPE_WB);
	assert_int_equal(mtrr_type_at(&st, 0x100000), MEM_TYPE_UC);

	/* WC alone, and twice. */
	setup(NULL);
	add_var(0xd0000000, MiB(256), MEM_TYPE_WC);
	add_var(0xd0000000, MiB(128), MEM_TYPE_WC);
	assert_int_equal(mtrr_type_at(&st, 0xd0000000), MEM_TYPE_WC);
	assert_int_equal(mtrr_type_at(&st, 0xd8000000), MEM_TYPE_WC);
}

static void test_range_type(void **state)
{
	(void)state;
	st.default_type = MEM_TYPE_WT;
	add_var(0, GiB(2), MEM_TYPE_WB);
	add_var(0xc0000000, GiB(1), MEM_TYPE_UC);

	/* Uniform. */
	assert_int_equal(mtrr_range_type(&st, 0, GiB(2)), MEM_TYPE_WB);
	assert_int_equal(mtrr_range_type(&st, GiB(1), GiB(1)), MEM_TYPE_WB);
	assert_int_equal(mtrr_range_type(&st, 0x80000000, GiB(1)), MEM_TYPE_WT);
	assert_int_equal(mtrr_range_type(&st, 0xc0000000, GiB(1)), MEM_TYPE_UC);
	assert_int_equal(mtrr_range_type(&st, 0xfee00000, 0x1000), MEM_TYPE_UC);
	assert_int_equal(mtrr_range_type(&st, GiB(4), GiB(4)), MEM_TYPE_WT);
	assert_int_equal(mtrr_range_type(&st, 0x1234, 1), MEM_TYPE_WB);

	/* Partly covered by a range. */
	assert_int_equal(mtrr_range_type(&st, 0x7fe00000, MiB(4)), MEM_TYPE_MIXED);
	assert_int_equal(mtrr_range_type(&st, 0x7ffff000, 0x2000), MEM_TYPE_MIXED);
	assert_int_equal(mtrr_range_type(&st, 0xbffff000, 0x2000), MEM_TYPE_MIXED);
	assert_int_equal(mtrr_range_type(&st, 0, GiB(4)), MEM_TYPE_MIXED);
	assert_int_equal(mtrr_range_type(&st, GiB(2), GiB(2)), MEM_TYPE_MIXED);
	assert_int_equal(mtrr_range_type(&st, 0xfffff000, 0x2000), MEM_TYPE_MIXED);

	/* A small range wholly inside the queried one. */
	add_var(0x10000000, 0x1000, MEM_TYPE_UC);
	assert_int_equal(mtrr_range_type(&st, 0, GiB(1)), MEM_TYPE_MIXED);
	assert_int_equal(mtrr_range_type(&st, 0x0fe00000, MiB(2)), MEM_TYPE_WB);
	assert_int_equal(mtrr_range_type(&st, 0x10000000, MiB(2)), MEM_TYPE_MIXED);

	/* Zero length has no single type. */
	assert_int_equal(mtrr_range_type(&st, GiB(1), 0), MEM_TYPE_MIXED);
	assert_int_equal(mtrr_range_type(&st, 0, 0), MEM_TYPE_MIXED);
}

static void test_range_type_fixed(void **state)
{
	(void)state;
	st.fixed_enabled = true;
	st.default_type = MEM_TYPE_UC;
	memset(st.fixed, MEM_TYPE_WB, sizeof(st.fixed));
	memset(st.fixed + 16, MEM_TYPE_UC, 8);  /* 0xa0000-0xbffff */
	memset(st.fixed + 24, MEM_TYPE_WP, 32); /* 0xc0000-0xdffff */
	add_var(0, GiB(2), MEM_TYPE_WB);

	assert_int_equal(mtrr_range_type(&st, 0, 0xa0000), MEM_TYPE_WB);
	assert_int_equal(mtrr_range_type(&st, 0, 0xa1000), MEM_TYPE_MIXED);
	assert_int_equal(mtrr_range_type(&st, 0x9f000, 0x1000), MEM_TYPE_WB);
	assert_int_equal(mtrr_range_type(&st, 0x9f000, 0x2000), MEM_TYPE_MIXED);
	assert_int_equal(mtrr_range_type(&st, 0xa0000, 0x20000), MEM_TYPE_UC);
	assert_int_equal(mtrr_range_type(&st, 0xc0000, 0x20000), MEM_TYPE_WP);
	assert_int_equal(mtrr_range_type(&st, 0xdf000, 0x1000), MEM_TYPE_WP);
	assert_int_equal(mtrr_range_type(&st, 0xdf000, 0x2000), MEM_TYPE_MIXED);
	assert_int_equal(mtrr_range_type(&st, 0xe0000, 0x20000), MEM_TYPE_WB);
	assert_int_equal(mtrr_range_type(&st, 0xff000, 0x1000), MEM_TYPE_WB);

	/* Crossing 1 MiB: fixed meets variable, MIXED even when both sides are WB. */
	assert_int_equal(mtrr_range_type(&st, 0xff000, 0x2000), MEM_TYPE_MIXED);
	assert_int_equal(mtrr_range_type(&st, 0xe0000, MiB(1)), MEM_TYPE_MIXED);
	assert_int_equal(mtrr_range_type(&st, 0, MiB(2)), MEM_TYPE_MIXED);
	assert_int_equal(mtrr_range_type(&st, 0, GiB(1)), MEM_TYPE_MIXED);
	/* Starting at 1 MiB: variable only. */
	assert_int_equal(mtrr_range_type(&st, MiB(1), MiB(1)), MEM_TYPE_WB);

	/* Without fixed ranges, the first MiB is just variable-range memory. */
	st.fixed_enabled = false;
	assert_int_equal(mtrr_range_type(&st, 0, MiB(2)), MEM_TYPE_WB);
	assert_int_equal(mtrr_range_type(&st, 0xa0000, 0x1000), MEM_TYPE_WB);
}

/*
 * An unaligned range below 1 MiB: every 4 KiB fixed range it touches counts
 * (an early version stepped from the unaligned base and missed the last one).
 */
static void test_range_type_fixed_unaligned(void **state)
{
	(void)state;
	st.fixed_enabled = true;
	memset(st.fixed, MEM_TYPE_WB, sizeof(st.fixed));
	st.fixed[25] = MEM_TYPE_UC; /* 0xc1000-0xc1fff */

	assert_int_equal(mtrr_range_type(&st, 0xc0000, 0x2000), MEM_TYPE_MIXED);
	/* [0xc0800, 0xc1800) has WB and UC bytes. */
	if (mtrr_range_type(&st, 0xc0800, 0x1000) != MEM_TYPE_MIXED)
		fail_msg("BUG: [0xc0800, 0xc1800) spans WB and UC fixed ranges but is reported as %s",
			 mem_type_name(mtrr_range_type(&st, 0xc0800, 0x1000)));
}

static void test_type_names(void **state)
{
	(void)state;
	assert_string_equal(mem_type_name(MEM_TYPE_UC), "UC");
	assert_string_equal(mem_type_name(MEM_TYPE_WC), "WC");
	assert_string_equal(mem_type_name(MEM_TYPE_WT), "WT");
	assert_string_equal(mem_type_name(MEM_TYPE_WP), "WP");
	assert_string_equal(mem_type_name(MEM_TYPE_WB), "WB");
	assert_string_equal(mem_type_name(MEM_TYPE_MIXED), "mixed");
	assert_string_equal(mem_type_name(2), "?");
	assert_string_equal(mem_type_name(7), "?");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup(fn, setup)
	const struct CMUnitTest tests[] = {
		T(test_disabled),
		T(test_default_type),
		T(test_fixed_ranges),
		T(test_fixed_over_variable),
		T(test_variable_ranges),
		T(test_overlap_precedence),
		T(test_range_type),
		T(test_range_type_fixed),
		T(test_range_type_fixed_unaligned),
		T(test_type_names),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
