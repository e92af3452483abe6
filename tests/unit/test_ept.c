/* SPDX-License-Identifier: BSD-2-Clause */
/* Host tests for the EPT identity map builder: page sizes, holes, permissions, memory types. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/ept.h"
#include "arch/x86/mtrr.h"

#define PG 4096ULL
#define ENTRIES 512
#define MAX_TABLES 4096

/* Tables live in a malloc'd array; table i has the fake physical address 0x1000 * (i + 1). */
struct pool {
	uint64_t (*t)[ENTRIES];
	size_t n;
	size_t fail_at; /* the allocation with this number (1-based) fails; 0 = never */
	/* Memory-type callback state. */
	uint64_t split;            /* spanning this address is MEM_TYPE_MIXED */
	const struct mtrr_state *mtrr;
	size_t type_calls;
};

static struct pool pool;

static uint64_t alloc_table(void *ctx)
{
	struct pool *p = ctx;

	if (p->n == MAX_TABLES || (p->fail_at && p->n + 1 == p->fail_at))
		return 0;
	memset(p->t[p->n], 0, sizeof(p->t[0]));
	return PG * (++p->n);
}

static uint64_t *table_virt(void *ctx, uint64_t pa)
{
	struct pool *p = ctx;

	if (pa % PG || pa == 0 || pa / PG > p->n)
		fail_msg("table_virt(%#lx): not a table the pool handed out", pa);
	return p->t[pa / PG - 1];
}

static uint8_t type_wb(void *ctx, uint64_t base, uint64_t len)
{
	struct pool *p = ctx;

	(void)base, (void)len;
	p->type_calls++;
	return MEM_TYPE_WB;
}

/* WB below pool.split, UC from it on, MIXED for a range with both. */
static uint8_t type_split(void *ctx, uint64_t base, uint64_t len)
{
	struct pool *p = ctx;

	p->type_calls++;
	if (base + len <= p->split)
		return MEM_TYPE_WB;
	if (base >= p->split)
		return MEM_TYPE_UC;
	return MEM_TYPE_MIXED;
}

static uint8_t type_mtrr(void *ctx, uint64_t base, uint64_t len)
{
	struct pool *p = ctx;

	p->type_calls++;
	return mtrr_range_type(p->mtrr, base, len);
}

static struct ept_builder eb;
static struct ept_stats stats;

static int setup(void **state)
{
	(void)state;
	memset(&pool, 0, sizeof(pool));
	pool.t = calloc(MAX_TABLES, sizeof(*pool.t));
	assert_non_null(pool.t);
	eb = (struct ept_builder){
		.alloc_table = alloc_table,
		.table_virt = table_virt,
		.mem_type = type_wb,
		.ctx = &pool,
		.pages_1g = true,
		.pages_2m = true,
	};
	memset(&stats, 0xa5, sizeof(stats));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(pool.t);
	pool.t = NULL;
	return 0;
}

/* A fresh pool and builder inside one test. */
static void reset(void)
{
	teardown(NULL);
	setup(NULL);
}

static uint64_t build(uint64_t limit, const struct ept_hole *holes, size_t n)
{
	uint64_t pml4 = ept_build_identity(&eb, limit, holes, n, &stats);

	assert_true(pml4 != 0);
	assert_int_equal(pml4 % PG, 0);
	return pml4;
}

/* Expect gpa mapped by a page of size `size` with the given permissions and memory type. */
static void expect_page(uint64_t pml4, uint64_t gpa, uint64_t size, uint64_t perms, uint8_t type)
{
	uint64_t ps, e = ept_lookup(&eb, pml4, gpa, &ps);

	if (!e)
		fail_msg("%#lx: not mapped, want a %#lx page", gpa, size);
	if (ps != size)
		fail_msg("%#lx: page size %#lx, want %#lx", gpa, ps, size);
	assert_int_equal(e & EPT_ADDR_MASK & ~(size - 1), gpa & ~(size - 1)); /* identity */
	assert_int_equal(e & (size - 1) & EPT_ADDR_MASK, 0);                  /* aligned frame */
	assert_int_equal(e & EPT_RWX, perms);
	assert_int_equal((e >> EPT_MEMTYPE_SHIFT) & 7, type);
	assert_int_equal(!!(e & EPT_LARGE_PAGE), size > PG);
	assert_int_equal(e & EPT_IGNORE_PAT, 0);
}

static void expect_unmapped(uint64_t pml4, uint64_t gpa)
{
	uint64_t ps = 123, e = ept_lookup(&eb, pml4, gpa, &ps);

	if (e)
		fail_msg("%#lx: mapped (entry %#lx), want a hole", gpa, e);
	assert_int_equal(ps, 0);
}

static void expect_stats(size_t tables, size_t p1g, size_t p2m, size_t p4k)
{
	assert_int_equal(stats.tables, tables);
	assert_int_equal(stats.pages_1g, p1g);
	assert_int_equal(stats.pages_2m, p2m);
	assert_int_equal(stats.pages_4k, p4k);
	assert_int_equal(pool.n, tables);
}

/* Walk every table: count leaves and tables, sum the bytes mapped, check the non-leaf entries. */
struct walk {
	size_t tables, p1g, p2m, p4k;
	uint64_t bytes;
	uint64_t highest; /* end of the highest page */
};

static void walk_table(uint64_t pa, int level, uint64_t base, struct walk *w)
{
	uint64_t *t = table_virt(&pool, pa);
	uint64_t size = 1ULL << (12 + 9 * (level - 1));

	w->tables++;
	for (int i = 0; i < ENTRIES; i++) {
		uint64_t e = t[i], lo = base + (uint64_t)i * size;

		if (!(e & EPT_RWX)) {
			assert_int_equal(e, 0);
			continue;
		}
		if (level == 1 || (e & EPT_LARGE_PAGE)) {
			assert_true(level <= 3);
			assert_int_equal(e & EPT_ADDR_MASK, lo);
			w->bytes += size;
			w->highest = MAX(w->highest, lo + size);
			if (level == 3)
				w->p1g++;
			else if (level == 2)
				w->p2m++;
			else
				w->p4k++;
			continue;
		}
		/* Non-leaf: RWX so that the leaf decides, no memory type bits. */
		assert_int_equal(e & ~EPT_ADDR_MASK, EPT_RWX);
		walk_table(e & EPT_ADDR_MASK, level - 1, lo, w);
	}
}

/* The stats agree with the tables, and the map covers what it should. */
static void check_consistent(uint64_t pml4, uint64_t mapped_bytes)
{
	struct walk w = { 0 };

	walk_table(pml4, 4, 0, &w);
	assert_int_equal(w.tables, stats.tables);
	assert_int_equal(w.p1g, stats.pages_1g);
	assert_int_equal(w.p2m, stats.pages_2m);
	assert_int_equal(w.p4k, stats.pages_4k);
	assert_int_equal(w.tables, pool.n);
	assert_int_equal(w.bytes, mapped_bytes);
	assert_int_equal(w.bytes, stats.pages_1g * GiB(1) + stats.pages_2m * MiB(2) + stats.pages_4k * PG);
}

static void test_1g_pages(void **state)
{
	uint64_t pml4;

	(void)state;
	pml4 = build(GiB(4), NULL, 0);
	expect_stats(2, 4, 0, 0);
	for (uint64_t a = 0; a < GiB(4); a += GiB(1) / 2)
		expect_page(pml4, a, GiB(1), EPT_RWX, MEM_TYPE_WB);
	expect_page(pml4, GiB(4) - 1, GiB(1), EPT_RWX, MEM_TYPE_WB);
	expect_unmapped(pml4, GiB(4));
	expect_unmapped(pml4, GiB(512));
	expect_unmapped(pml4, 0xffffffffff000ULL);
	check_consistent(pml4, GiB(4));

	/* Past one PML4 entry (512 GiB): a second PDPT. */
	reset();
	pml4 = build(GiB(1024), NULL, 0);
	expect_stats(3, 1024, 0, 0);
	expect_page(pml4, GiB(600), GiB(1), EPT_RWX, MEM_TYPE_WB);
	expect_unmapped(pml4, GiB(1024));
	check_consistent(pml4, GiB(1024));
}

static void test_2m_pages(void **state)
{
	uint64_t pml4;

	(void)state;
	eb.pages_1g = false;
	pml4 = build(GiB(4), NULL, 0);
	expect_stats(1 + 1 + 4, 0, 2048, 0);
	expect_page(pml4, 0, MiB(2), EPT_RWX, MEM_TYPE_WB);
	expect_page(pml4, 0x12345678, MiB(2), EPT_RWX, MEM_TYPE_WB);
	expect_page(pml4, GiB(4) - 1, MiB(2), EPT_RWX, MEM_TYPE_WB);
	expect_unmapped(pml4, GiB(4));
	check_consistent(pml4, GiB(4));
}

static void test_4k_pages(void **state)
{
	uint64_t pml4;

	(void)state;
	eb.pages_1g = false;
	eb.pages_2m = false;
	pml4 = build(MiB(8), NULL, 0);
	expect_stats(1 + 1 + 1 + 4, 0, 0, 2048);
	expect_page(pml4, 0, PG, EPT_RWX, MEM_TYPE_WB);
	expect_page(pml4, MiB(8) - 1, PG, EPT_RWX, MEM_TYPE_WB);
	expect_unmapped(pml4, MiB(8));
	check_consistent(pml4, MiB(8));
}

/* A hole at [2 MiB, 6 MiB): two 2 MiB pages left out of the first GiB. */
static void test_hole(void **state)
{
	static const struct ept_hole hole[] = { { MiB(2), MiB(6), 0 } };
	uint64_t pml4;

	(void)state;
	pml4 = build(GiB(4), hole, 1);
	expect_stats(3, 3, 510, 0);
	expect_page(pml4, 0, MiB(2), EPT_RWX, MEM_TYPE_WB);
	expect_page(pml4, MiB(2) - 1, MiB(2), EPT_RWX, MEM_TYPE_WB);
	expect_unmapped(pml4, MiB(2));
	expect_unmapped(pml4, MiB(4));
	expect_unmapped(pml4, MiB(6) - 1);
	expect_page(pml4, MiB(6), MiB(2), EPT_RWX, MEM_TYPE_WB);
	expect_page(pml4, GiB(1) - 1, MiB(2), EPT_RWX, MEM_TYPE_WB);
	expect_page(pml4, GiB(1), GiB(1), EPT_RWX, MEM_TYPE_WB);
	check_consistent(pml4, GiB(4) - MiB(4));
}

/* Holes not 2 MiB aligned, given out of order: 4 KiB pages around them. */
static void test_hole_unaligned(void **state)
{
	static const struct ept_hole holes[] = {
		{ GiB(3) + 0x5000, GiB(3) + 0x6000, 0 },
		{ 0x201000, 0x203000, 0 },
	};
	uint64_t pml4;

	(void)state;
	pml4 = build(GiB(4), holes, ARRAY_SIZE(holes));
	/* PML4, PDPT, the PDs of GiB 0 and 3, the PTs at 2 MiB and 3 GiB. */
	expect_stats(6, 2, 511 * 2, 510 + 511);
	expect_page(pml4, 0x200000, PG, EPT_RWX, MEM_TYPE_WB);
	expect_unmapped(pml4, 0x201000);
	expect_unmapped(pml4, 0x202fff);
	expect_page(pml4, 0x203000, PG, EPT_RWX, MEM_TYPE_WB);
	expect_page(pml4, 0x3ff000, PG, EPT_RWX, MEM_TYPE_WB);
	expect_page(pml4, 0x400000, MiB(2), EPT_RWX, MEM_TYPE_WB);
	expect_page(pml4, GiB(3) + 0x4fff, PG, EPT_RWX, MEM_TYPE_WB);
	expect_unmapped(pml4, GiB(3) + 0x5000);
	expect_page(pml4, GiB(3) + 0x6000, PG, EPT_RWX, MEM_TYPE_WB);
	expect_page(pml4, GiB(3) + MiB(2), MiB(2), EPT_RWX, MEM_TYPE_WB);
	expect_page(pml4, GiB(1), GiB(1), EPT_RWX, MEM_TYPE_WB);
	check_consistent(pml4, GiB(4) - 0x3000);
}

/* A hole covering whole 1 GiB pages: no table below them at all. */
static void test_hole_1g(void **state)
{
	static const struct ept_hole hole[] = { { GiB(1), GiB(3), 0 } };
	uint64_t pml4;

	(void)state;
	pml4 = build(GiB(4), hole, 1);
	expect_stats(2, 2, 0, 0);
	expect_page(pml4, GiB(1) - 1, GiB(1), EPT_RWX, MEM_TYPE_WB);
	expect_unmapped(pml4, GiB(1));
	expect_unmapped(pml4, GiB(3) - 1);
	expect_page(pml4, GiB(3), GiB(1), EPT_RWX, MEM_TYPE_WB);
	check_consistent(pml4, GiB(2));
}

/* The local APIC page read-only: exactly that 4 KiB page, its neighbours RWX. */
static void test_special_perms(void **state)
{
	static const struct ept_hole apic[] = { { 0xfee00000, 0xfee01000, EPT_READ } };
	uint64_t pml4;

	(void)state;
	pml4 = build(GiB(4), apic, 1);
	expect_stats(4, 3, 511, 512);
	expect_page(pml4, 0xfee00000, PG, EPT_READ, MEM_TYPE_WB);
	expect_page(pml4, 0xfee00fff, PG, EPT_READ, MEM_TYPE_WB);
	expect_page(pml4, 0xfedff000, MiB(2), EPT_RWX, MEM_TYPE_WB); /* the 2 MiB page below */
	expect_page(pml4, 0xfee01000, PG, EPT_RWX, MEM_TYPE_WB);
	expect_page(pml4, 0xfeffffff, PG, EPT_RWX, MEM_TYPE_WB);
	expect_page(pml4, 0xfec00000, MiB(2), EPT_RWX, MEM_TYPE_WB);
	expect_page(pml4, 0xff000000, MiB(2), EPT_RWX, MEM_TYPE_WB);
	expect_page(pml4, GiB(2), GiB(1), EPT_RWX, MEM_TYPE_WB);
	check_consistent(pml4, GiB(4));
}

/* Special ranges covering whole large pages keep the large page, with their perms. */
static void test_special_perms_large(void **state)
{
	static const struct ept_hole r[] = {
		{ MiB(4), MiB(8), EPT_READ | EPT_EXEC },
		{ GiB(2), GiB(3), EPT_READ | EPT_WRITE },
		{ MiB(8), MiB(10), 0 },                  /* a hole next to them */
		{ MiB(16), MiB(16) + PG, EPT_RWX | BIT(8) }, /* only the permission bits count */
	};
	uint64_t pml4;

	(void)state;
	pml4 = build(GiB(4), r, ARRAY_SIZE(r));
	expect_page(pml4, MiB(2), MiB(2), EPT_RWX, MEM_TYPE_WB);
	expect_page(pml4, MiB(4), MiB(2), EPT_READ | EPT_EXEC, MEM_TYPE_WB);
	expect_page(pml4, MiB(6), MiB(2), EPT_READ | EPT_EXEC, MEM_TYPE_WB);
	expect_unmapped(pml4, MiB(8));
	expect_page(pml4, MiB(10), MiB(2), EPT_RWX, MEM_TYPE_WB);
	expect_page(pml4, MiB(16), PG, EPT_RWX, MEM_TYPE_WB);
	expect_page(pml4, GiB(2), GiB(1), EPT_READ | EPT_WRITE, MEM_TYPE_WB);
	expect_page(pml4, GiB(1), GiB(1), EPT_RWX, MEM_TYPE_WB);
	check_consistent(pml4, GiB(4) - MiB(2));
}

/* Memory-type boundary on a 1 GiB boundary: the 1 GiB pages stay, each with its type. */
static void test_mem_type_1g_boundary(void **state)
{
	uint64_t pml4;

	(void)state;
	eb.mem_type = type_split;
	pool.split = 0xc0000000;
	pml4 = build(GiB(4), NULL, 0);
	expect_stats(2, 4, 0, 0);
	expect_page(pml4, GiB(2), GiB(1), EPT_RWX, MEM_TYPE_WB);
	expect_page(pml4, 0xbfffffff, GiB(1), EPT_RWX, MEM_TYPE_WB);
	expect_page(pml4, 0xc0000000, GiB(1), EPT_RWX, MEM_TYPE_UC);
	check_consistent(pml4, GiB(4));
}

/* A boundary inside a 2 MiB page: 1 GiB -> 2 MiB -> 4 KiB pages, types on each side. */
static void test_mem_type_mixed(void **state)
{
	uint64_t pml4;

	(void)state;
	eb.mem_type = type_split;
	pool.split = 0xc0201000;
	pml4 = build(GiB(4), NULL, 0);
	expect_stats(4, 3, 511, 512);
	expect_page(pml4, GiB(2), GiB(1), EPT_RWX, MEM_TYPE_WB);
	expect_page(pml4, 0xc0000000, MiB(2), EPT_RWX, MEM_TYPE_WB);
	expect_page(pml4, 0xc0200000, PG, EPT_RWX, MEM_TYPE_WB);
	expect_page(pml4, 0xc0201000, PG, EPT_RWX, MEM_TYPE_UC);
	expect_page(pml4, 0xc03ff000, PG, EPT_RWX, MEM_TYPE_UC);
	expect_page(pml4, 0xc0400000, MiB(2), EPT_RWX, MEM_TYPE_UC);
	expect_page(pml4, GiB(4) - 1, MiB(2), EPT_RWX, MEM_TYPE_UC);
	check_consistent(pml4, GiB(4));

	/* The same with 2 MiB pages only. */
	reset();
	eb.mem_type = type_split;
	eb.pages_1g = false;
	pool.split = 0xc0201000;
	pml4 = build(GiB(4), NULL, 0);
	expect_stats(7, 0, 2047, 512);
	expect_page(pml4, 0xc0200000, PG, EPT_RWX, MEM_TYPE_WB);
	expect_page(pml4, 0xc0201000, PG, EPT_RWX, MEM_TYPE_UC);
	check_consistent(pml4, GiB(4));
}

/* A limit that is not a multiple of 2 MiB (nor of 4 KiB): 4 KiB pages up to it, rounded down. */
static void test_limit_unaligned(void **state)
{
	uint64_t pml4, limit = GiB(1) + 0x123456;

	(void)state;
	pml4 = build(limit, NULL, 0);
	expect_stats(4, 1, 0, 0x123);
	expect_page(pml4, GiB(1) - 1, GiB(1), EPT_RWX, MEM_TYPE_WB);
	expect_page(pml4, GiB(1), PG, EPT_RWX, MEM_TYPE_WB);
	expect_page(pml4, GiB(1) + 0x122fff, PG, EPT_RWX, MEM_TYPE_WB);
	expect_unmapped(pml4, GiB(1) + 0x123000);
	expect_unmapped(pml4, limit);
	check_consistent(pml4, GiB(1) + 0x123000);

	reset();
	pml4 = build(MiB(5), NULL, 0);
	expect_stats(4, 0, 2, 256);
	expect_page(pml4, MiB(2), MiB(2), EPT_RWX, MEM_TYPE_WB);
	expect_page(pml4, MiB(4), PG, EPT_RWX, MEM_TYPE_WB);
	expect_unmapped(pml4, MiB(5));
	check_consistent(pml4, MiB(5));

	reset();
	pml4 = build(0x1800, NULL, 0);
	expect_stats(4, 0, 0, 1);
	expect_page(pml4, 0, PG, EPT_RWX, MEM_TYPE_WB);
	expect_unmapped(pml4, 0x1000);
	check_consistent(pml4, PG);

	reset();
	pml4 = build(0xfff, NULL, 0);
	expect_stats(1, 0, 0, 0);
	expect_unmapped(pml4, 0);
}

/* Every allocation that can fail makes the build return 0, without a crash or a leak of state. */
static void test_alloc_failure(void **state)
{
	static const struct ept_hole r[] = {
		{ MiB(2), MiB(6), 0 },
		{ 0xfee00000, 0xfee01000, EPT_READ },
	};
	size_t need;

	(void)state;
	eb.pages_1g = false;
	build(GiB(4), r, ARRAY_SIZE(r));
	need = pool.n;
	assert_int_equal(need, 1 + 1 + 4 + 1);
	for (size_t k = 1; k <= need; k++) {
		reset();
		eb.pages_1g = false;
		pool.fail_at = k;
		assert_int_equal(ept_build_identity(&eb, GiB(4), r, ARRAY_SIZE(r), &stats), 0);
		assert_int_equal(pool.n, k - 1);
		assert_true(stats.tables <= k - 1);
	}
	/* With no stats pointer too. */
	reset();
	pool.fail_at = 2;
	assert_int_equal(ept_build_identity(&eb, GiB(4), r, ARRAY_SIZE(r), NULL), 0);
}

/* A real MTRR layout: fixed ranges below 1 MiB, WB to 2 GiB, UC by default. */
static void test_mtrr_types(void **state)
{
	static struct mtrr_state st;
	uint64_t pml4;

	(void)state;
	memset(&st, 0, sizeof(st));
	st.present = st.enabled = st.fixed_enabled = true;
	st.default_type = MEM_TYPE_UC;
	st.phys_addr_mask = (1ULL << 39) - 1;
	for (int i = 0; i < MTRR_FIXED_COUNT; i++)
		st.fixed[i] = MEM_TYPE_WB;
	for (int i = 8; i < 24; i++) /* 0x80000-0xbffff: the top 128 KiB UC (VGA) */
		st.fixed[i] = i >= 16 ? MEM_TYPE_UC : MEM_TYPE_WB;
	for (int i = 24; i < 56; i++) /* 0xc0000-0xdffff: option ROMs */
		st.fixed[i] = MEM_TYPE_WP;
	st.var[0] = (struct mtrr_variable){ 0, ~(GiB(2) - 1) & st.phys_addr_mask, MEM_TYPE_WB, true };
	st.var_count = 1;
	pool.mtrr = &st;
	eb.mem_type = type_mtrr;

	pml4 = build(GiB(4), NULL, 0);
	expect_page(pml4, 0, PG, EPT_RWX, MEM_TYPE_WB);
	expect_page(pml4, 0x9f000, PG, EPT_RWX, MEM_TYPE_WB);
	expect_page(pml4, 0xa0000, PG, EPT_RWX, MEM_TYPE_UC);
	expect_page(pml4, 0xbf000, PG, EPT_RWX, MEM_TYPE_UC);
	expect_page(pml4, 0xc0000, PG, EPT_RWX, MEM_TYPE_WP);
	expect_page(pml4, 0xe0000, PG, EPT_RWX, MEM_TYPE_WB);
	/* The 2 MiB page at 0 meets fixed and variable ranges: 4 KiB pages up to 2 MiB. */
	expect_page(pml4, 0x100000, PG, EPT_RWX, MEM_TYPE_WB);
	expect_page(pml4, 0x1ff000, PG, EPT_RWX, MEM_TYPE_WB);
	expect_page(pml4, 0x200000, MiB(2), EPT_RWX, MEM_TYPE_WB);
	expect_page(pml4, GiB(1), GiB(1), EPT_RWX, MEM_TYPE_WB);
	expect_page(pml4, GiB(2), GiB(1), EPT_RWX, MEM_TYPE_UC);
	expect_page(pml4, GiB(3), GiB(1), EPT_RWX, MEM_TYPE_UC);
	expect_stats(4, 3, 511, 512);
	check_consistent(pml4, GiB(4));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_1g_pages),
		T(test_2m_pages),
		T(test_4k_pages),
		T(test_hole),
		T(test_hole_unaligned),
		T(test_hole_1g),
		T(test_special_perms),
		T(test_special_perms_large),
		T(test_mem_type_1g_boundary),
		T(test_mem_type_mixed),
		T(test_limit_unaligned),
		T(test_alloc_failure),
		T(test_mtrr_types),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
