/* SPDX-License-Identifier: BSD-2-Clause */
/* Host tests for umbra's page tables: all RAM identity-mapped, the image at its footprint. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/cpu.h"
#include "arch/x86/paging.h"

#define MAX_TABLES 64
#define VBASE 0xffffffff80000000ULL

/* mem_alloc_pages for paging.c: zeroed host pages whose addresses stand in for physical ones. */
static void *tables[MAX_TABLES];
static size_t ntables, table_limit = MAX_TABLES;

uint64_t mem_alloc_pages(size_t count)
{
	void *p;

	assert_int_equal(count, 1);
	if (ntables == table_limit)
		return 0;
	p = aligned_alloc(4096, 4096);
	assert_non_null(p);
	memset(p, 0, 4096);
	tables[ntables++] = p;
	return (uint64_t)p;
}

static void free_tables(void)
{
	for (size_t i = 0; i < ntables; i++)
		free(tables[i]);
	ntables = 0;
	table_limit = MAX_TABLES;
}

static uint64_t *next(uint64_t e)
{
	assert_true(e & 1);           /* present */
	assert_false(e & BIT(7));     /* a table, not a page */
	return (uint64_t *)(e & 0x000ffffffffff000ULL);
}

/* Walk pml4 for va: the physical address it maps to, or ~0 when unmapped. */
static uint64_t walk(uint64_t pml4, uint64_t va)
{
	uint64_t *t = (uint64_t *)pml4, e;

	e = t[(va >> 39) & 511];
	if (!(e & 1))
		return ~0ULL;
	e = next(e)[(va >> 30) & 511];
	if (!(e & 1))
		return ~0ULL;
	if (e & BIT(7))
		return (e & ~(GiB(1) - 1) & 0x000fffffffffffffULL) + (va & (GiB(1) - 1));
	e = next(e)[(va >> 21) & 511];
	if (!(e & 1))
		return ~0ULL;
	assert_true(e & BIT(7)); /* umbra maps nothing with 4 KiB pages */
	assert_true(e & BIT(1)); /* writable */
	return (e & ~(MiB(2) - 1) & 0x000fffffffffffffULL) + (va & (MiB(2) - 1));
}

/* 6 GiB of RAM: all of it identity-mapped, the image's virtual range on its footprint. */
static void test_build_6g(void **state)
{
	const uint64_t img_virt = VBASE + MiB(4), img_phys = 0xbe800000ULL, img_len = MiB(6);
	uint64_t pml4;

	(void)state;
	pml4 = paging_build(GiB(6) - MiB(1), img_virt, img_phys, img_len);
	assert_true(pml4);
	for (uint64_t pa = 0; pa < GiB(6); pa += MiB(2) + 0x1234)
		assert_int_equal(walk(pml4, pa), pa);
	assert_int_equal(walk(pml4, GiB(6)), ~0ULL);
	for (uint64_t off = 0; off < img_len; off += 0x1000)
		assert_int_equal(walk(pml4, img_virt + off), img_phys + off);
	assert_int_equal(walk(pml4, img_virt + img_len), ~0ULL);
	assert_int_equal(walk(pml4, img_virt - 1), ~0ULL);

	/* The map in use is the boot one (4 GiB) until paging_activate. */
	assert_null(paging_phys_ptr(GiB(5), 8));
	paging_activate();
	assert_int_equal(paging_identity_end(), GiB(6));
	assert_non_null(paging_phys_ptr(GiB(5), 8));
	assert_non_null(paging_phys_ptr(GiB(6) - 8, 8));
	assert_null(paging_phys_ptr(GiB(6) - 8, 9));
	assert_null(paging_phys_ptr(UINT64_MAX - 3, 8));
	free_tables();
}

/* Less RAM than 4 GiB: the 4 GiB the boot tables mapped stay mapped (MMIO, ACPI). */
static void test_build_small(void **state)
{
	uint64_t pml4;

	(void)state;
	pml4 = paging_build(MiB(256), VBASE + MiB(4), MiB(200), MiB(2));
	assert_true(pml4);
	assert_int_equal(walk(pml4, 0xfee00000ULL), 0xfee00000ULL);
	assert_int_equal(walk(pml4, GiB(4)), ~0ULL);
	free_tables();
}

/* Bad requests and a heap that runs out give 0, not a half-built map. */
static void test_build_fails(void **state)
{
	(void)state;
	assert_int_equal(paging_build(GiB(6), VBASE + MiB(4) + 0x1000, MiB(200), MiB(2)), 0);
	free_tables();
	assert_int_equal(paging_build(GiB(6), VBASE + MiB(4), MiB(200) + 0x1000, MiB(2)), 0);
	free_tables();
	/* The image must not collide with the identity map's PML4 slot. */
	assert_int_equal(paging_build(GiB(6), MiB(4), MiB(200), MiB(2)), 0);
	free_tables();
	table_limit = 2;
	assert_int_equal(paging_build(GiB(6), VBASE + MiB(4), MiB(200), MiB(2)), 0);
	free_tables();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_6g),
		cmocka_unit_test(test_build_small),
		cmocka_unit_test(test_build_fails),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
