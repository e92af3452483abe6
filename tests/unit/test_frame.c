/* SPDX-License-Identifier: BSD-2-Clause */
/* Host tests for the physical frame allocator, including a model-based stress test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/frame.h"

#define PG FRAME_SIZE
#define TOP (UINT64_MAX & ~(PG - 1))

static struct frame_allocator fa;

/* The documented invariants: sorted, aligned, non-empty, merged, counted. */
static void check_invariants(const struct frame_allocator *a)
{
	uint64_t sum = 0;
	size_t i;

	assert_true(a->nfree <= FRAME_MAX_RANGES);
	for (i = 0; i < a->nfree; i++) {
		const struct frame_range *r = &a->free[i];

		assert_true(r->base % PG == 0);
		assert_true(r->end % PG == 0);
		assert_true(r->base < r->end);
		assert_true(r->base >= PG);
		if (i > 0)
			assert_true(a->free[i - 1].end < r->base);
		sum += r->end - r->base;
	}
	assert_true(sum == a->free_bytes);
}

static void expect_ranges(const uint64_t (*want)[2], size_t n)
{
	size_t i;

	check_invariants(&fa);
	assert_int_equal(fa.nfree, n);
	for (i = 0; i < n; i++) {
		assert_true(fa.free[i].base == want[i][0]);
		assert_true(fa.free[i].end == want[i][1]);
	}
}

static int setup(void **state)
{
	(void)state;
	memset(&fa, 0xa5, sizeof(fa));
	frame_allocator_init(&fa);
	return 0;
}

static void test_init_empty(void **state)
{
	(void)state;
	assert_int_equal(fa.nfree, 0);
	assert_int_equal(fa.free_bytes, 0);
	assert_false(fa.overflowed);
	assert_int_equal(frame_alloc(&fa, 1, 0, 0), 0);
}

static void test_add_basic(void **state)
{
	static const uint64_t want[][2] = { { 0x100000, 0x200000 } };

	(void)state;
	assert_int_equal(frame_add(&fa, 0x100000, 0x100000), FRAME_OK);
	expect_ranges(want, 1);
	assert_int_equal(fa.free_bytes, 0x100000);
}

/* Partial pages at either end are not usable: shrink inward. */
static void test_add_unaligned(void **state)
{
	static const uint64_t want[][2] = { { 0x2000, 0x5000 } };

	(void)state;
	assert_int_equal(frame_add(&fa, 0x1001, 0x5fff - 0x1001), FRAME_OK);
	expect_ranges(want, 1);
	/* Less than a page once aligned: nothing added, not an error. */
	assert_int_equal(frame_add(&fa, 0x10001, 0xffe), FRAME_OK);
	assert_int_equal(frame_add(&fa, 0x20800, 0x1000), FRAME_OK);
	expect_ranges(want, 1);
}

/* Page 0 is never free: 0 is frame_alloc's failure value. */
static void test_add_page_zero(void **state)
{
	static const uint64_t want[][2] = { { 0x1000, 0xa0000 } };

	(void)state;
	assert_int_equal(frame_add(&fa, 0, 0xa0000), FRAME_OK);
	expect_ranges(want, 1);
	assert_int_equal(frame_add(&fa, 0, 0x1000), FRAME_OK);
	expect_ranges(want, 1);
	assert_int_equal(frame_alloc(&fa, 1, 0, 0), 0x1000);
}

static void test_add_errors(void **state)
{
	(void)state;
	assert_int_equal(frame_add(&fa, 0x1000, 0), FRAME_ERR_RANGE);
	assert_int_equal(frame_add(&fa, UINT64_MAX - 0xfff, 0x2000), FRAME_ERR_RANGE);
	assert_int_equal(frame_add(&fa, 1, UINT64_MAX), FRAME_ERR_RANGE);
	assert_int_equal(fa.nfree, 0);

	assert_int_equal(frame_add(&fa, 0x10000, 0x10000), FRAME_OK);
	/* Overlapping memory that is already free, at either edge or inside. */
	assert_int_equal(frame_add(&fa, 0x8000, 0x9000), FRAME_ERR_OVERLAP);
	assert_int_equal(frame_add(&fa, 0x1f000, 0x2000), FRAME_ERR_OVERLAP);
	assert_int_equal(frame_add(&fa, 0x14000, 0x1000), FRAME_ERR_OVERLAP);
	assert_int_equal(frame_add(&fa, 0x1000, 0x100000), FRAME_ERR_OVERLAP);
	assert_int_equal(fa.nfree, 1);
	assert_int_equal(fa.free_bytes, 0x10000);
}

/* The very top of the address space: the last partial page is dropped. */
static void test_add_top(void **state)
{
	(void)state;
	assert_int_equal(frame_add(&fa, TOP - 0x3000, 0x3000 + 0xfff), FRAME_OK);
	check_invariants(&fa);
	assert_int_equal(fa.nfree, 1);
	assert_true(fa.free[0].end == TOP);
	assert_int_equal(frame_add(&fa, TOP + 1, 0xffe), FRAME_OK);
	assert_int_equal(fa.nfree, 1);
	assert_true(frame_alloc(&fa, 3, 0, 0) == TOP - 0x3000);
	assert_int_equal(fa.nfree, 0);
}

static void test_add_merging(void **state)
{
	static const uint64_t two[][2] = { { 0x10000, 0x20000 }, { 0x30000, 0x40000 } };
	static const uint64_t one[][2] = { { 0x8000, 0x48000 } };

	(void)state;
	assert_int_equal(frame_add(&fa, 0x30000, 0x10000), FRAME_OK);
	assert_int_equal(frame_add(&fa, 0x10000, 0x10000), FRAME_OK);
	expect_ranges(two, 2);
	/* Fill the gap: both neighbours merge into one. */
	assert_int_equal(frame_add(&fa, 0x20000, 0x10000), FRAME_OK);
	/* Adjacent below and above. */
	assert_int_equal(frame_add(&fa, 0x8000, 0x8000), FRAME_OK);
	assert_int_equal(frame_add(&fa, 0x40000, 0x8000), FRAME_OK);
	expect_ranges(one, 1);
}

static void test_reserve_split(void **state)
{
	static const uint64_t want[][2] = { { 0x100000, 0x180000 }, { 0x190000, 0x200000 } };

	(void)state;
	assert_int_equal(frame_add(&fa, 0x100000, 0x100000), FRAME_OK);
	assert_int_equal(frame_reserve(&fa, 0x180000, 0x10000), FRAME_OK);
	expect_ranges(want, 2);
	assert_int_equal(fa.free_bytes, 0xf0000);
}

/* Reservations grow outward to whole pages. */
static void test_reserve_unaligned(void **state)
{
	static const uint64_t want[][2] = { { 0x100000, 0x180000 }, { 0x183000, 0x200000 } };

	(void)state;
	assert_int_equal(frame_add(&fa, 0x100000, 0x100000), FRAME_OK);
	assert_int_equal(frame_reserve(&fa, 0x180fff, 0x1002), FRAME_OK);
	expect_ranges(want, 2);
}

static void test_reserve_edges(void **state)
{
	static const uint64_t want[][2] = { { 0x14000, 0x18000 }, { 0x30000, 0x38000 } };

	(void)state;
	assert_int_equal(frame_add(&fa, 0x10000, 0x10000), FRAME_OK);
	assert_int_equal(frame_add(&fa, 0x30000, 0x10000), FRAME_OK);
	assert_int_equal(frame_add(&fa, 0x50000, 0x10000), FRAME_OK);
	/* Head of one range, tail of another, a whole one, and a gap. */
	assert_int_equal(frame_reserve(&fa, 0x10000, 0x4000), FRAME_OK);
	assert_int_equal(frame_reserve(&fa, 0x18000, 0x1000), FRAME_OK);
	assert_int_equal(frame_reserve(&fa, 0x1c000, 0x4000), FRAME_OK);
	/* Spans the end of one range, a gap and all of the next. */
	assert_int_equal(frame_reserve(&fa, 0x38000, 0x30000), FRAME_OK);
	expect_ranges((const uint64_t[][2]){ { 0x14000, 0x18000 },
					     { 0x19000, 0x1c000 },
					     { 0x30000, 0x38000 } },
		      3);
	assert_int_equal(frame_reserve(&fa, 0x19000, 0x3000), FRAME_OK);
	expect_ranges(want, 2);
	/* Memory that is not free: nothing to do. */
	assert_int_equal(frame_reserve(&fa, 0x80000, 0x1000), FRAME_OK);
	expect_ranges(want, 2);
}

static void test_reserve_errors(void **state)
{
	(void)state;
	assert_int_equal(frame_add(&fa, 0x10000, 0x10000), FRAME_OK);
	assert_int_equal(frame_reserve(&fa, 0x10000, 0), FRAME_ERR_RANGE);
	assert_int_equal(frame_reserve(&fa, UINT64_MAX, 2), FRAME_ERR_RANGE);
	assert_int_equal(fa.free_bytes, 0x10000);
	/* Up to the very last byte of the address space is fine. */
	assert_int_equal(frame_reserve(&fa, 0x1f000, UINT64_MAX - 0x1f000), FRAME_OK);
	assert_int_equal(fa.free_bytes, 0xf000);
	assert_int_equal(frame_reserve(&fa, 0, UINT64_MAX), FRAME_OK);
	assert_int_equal(fa.nfree, 0);
	assert_int_equal(fa.free_bytes, 0);
}

static void test_alloc_lowest_first(void **state)
{
	(void)state;
	assert_int_equal(frame_add(&fa, 0x200000, 0x10000), FRAME_OK);
	assert_int_equal(frame_add(&fa, 0x100000, 0x2000), FRAME_OK);
	assert_int_equal(frame_alloc(&fa, 1, 0, 0), 0x100000);
	assert_int_equal(frame_alloc(&fa, 1, PG, 0), 0x101000);
	/* The low range is used up; a 3-frame request comes from the next. */
	assert_int_equal(frame_alloc(&fa, 3, 0, 0), 0x200000);
	assert_int_equal(frame_alloc(&fa, 13, 0, 0), 0x203000);
	assert_int_equal(frame_alloc(&fa, 1, 0, 0), 0);
	assert_int_equal(fa.nfree, 0);
	assert_int_equal(fa.free_bytes, 0);
}

/* A fit that does not fit the first range goes to a later one. */
static void test_alloc_skips_small(void **state)
{
	(void)state;
	assert_int_equal(frame_add(&fa, 0x100000, 0x2000), FRAME_OK);
	assert_int_equal(frame_add(&fa, 0x200000, 0x8000), FRAME_OK);
	assert_int_equal(frame_alloc(&fa, 4, 0, 0), 0x200000);
	assert_int_equal(frame_alloc(&fa, 2, 0, 0), 0x100000);
	check_invariants(&fa);
}

static void test_alloc_alignment(void **state)
{
	static const uint64_t want[][2] = { { 0x101000, 0x200000 }, { 0x202000, 0x800000 } };

	(void)state;
	assert_int_equal(frame_add(&fa, 0x101000, 0x6ff000), FRAME_OK);
	/* 2 MiB aligned: splits the range around the allocation. */
	assert_int_equal(frame_alloc(&fa, 2, 0x200000, 0), 0x200000);
	expect_ranges(want, 2);
	assert_int_equal(frame_alloc(&fa, 1, 0x400000, 0), 0x400000);
	assert_int_equal(frame_alloc(&fa, 1, 0x1000000, 0), 0);
	/* Alignments below a page are raised to a page. */
	assert_int_equal(frame_alloc(&fa, 1, 1, 0), 0x101000);
	assert_int_equal(frame_alloc(&fa, 1, 0, 0), 0x102000);
	/* Not a power of two. */
	assert_int_equal(frame_alloc(&fa, 1, 0x3000, 0), 0);
	check_invariants(&fa);
}

static void test_alloc_limit(void **state)
{
	(void)state;
	assert_int_equal(frame_add(&fa, 0x100000, 0x100000), FRAME_OK);
	/* Wholly below the limit: the last frame ends exactly at it. */
	assert_int_equal(frame_alloc(&fa, 16, 0, 0x110000), 0x100000);
	assert_int_equal(frame_alloc(&fa, 1, 0, 0x110000), 0);
	assert_int_equal(frame_alloc(&fa, 1, 0, 0x110fff), 0);
	assert_int_equal(frame_alloc(&fa, 1, 0, 0x111000), 0x110000);
	assert_int_equal(frame_alloc(&fa, 1, 0, 0x1000), 0);
	assert_int_equal(frame_alloc(&fa, 1, 0, 0), 0x111000);
	check_invariants(&fa);
}

static void test_alloc_bad_args(void **state)
{
	(void)state;
	assert_int_equal(frame_add(&fa, 0x100000, 0x100000), FRAME_OK);
	assert_int_equal(frame_alloc(&fa, 0, 0, 0), 0);
	assert_int_equal(frame_alloc(&fa, SIZE_MAX, 0, 0), 0);
	assert_int_equal(frame_alloc(&fa, (SIZE_MAX / PG) + 1, 0, 0), 0);
	assert_int_equal(frame_alloc(&fa, 257, 0, 0), 0);
	assert_int_equal(frame_alloc(&fa, 1, 1ull << 63, 0), 0);
	assert_int_equal(fa.free_bytes, 0x100000);
}

static void test_free_merges(void **state)
{
	static const uint64_t want[][2] = { { 0x100000, 0x200000 } };
	uint64_t a, b, c;

	(void)state;
	assert_int_equal(frame_add(&fa, 0x100000, 0x100000), FRAME_OK);
	a = frame_alloc(&fa, 4, 0, 0);
	b = frame_alloc(&fa, 4, 0, 0);
	c = frame_alloc(&fa, 4, 0, 0);
	assert_int_equal(b, a + 4 * PG);
	assert_int_equal(frame_free(&fa, b, 4), FRAME_OK);
	check_invariants(&fa);
	assert_int_equal(fa.nfree, 2);
	assert_int_equal(frame_free(&fa, a, 4), FRAME_OK);
	assert_int_equal(frame_free(&fa, c, 4), FRAME_OK);
	expect_ranges(want, 1);
	assert_int_equal(fa.free_bytes, 0x100000);
}

static void test_double_free(void **state)
{
	uint64_t a;

	(void)state;
	assert_int_equal(frame_add(&fa, 0x100000, 0x100000), FRAME_OK);
	a = frame_alloc(&fa, 8, 0, 0);
	assert_int_equal(frame_free(&fa, a, 8), FRAME_OK);
	assert_int_equal(frame_free(&fa, a, 8), FRAME_ERR_OVERLAP);
	assert_int_equal(frame_free(&fa, a + 4 * PG, 1), FRAME_ERR_OVERLAP);
	a = frame_alloc(&fa, 8, 0, 0);
	/* Partly overlapping free memory (runs past the allocation). */
	assert_int_equal(frame_free(&fa, a + 4 * PG, 8), FRAME_ERR_OVERLAP);
	assert_int_equal(frame_free(&fa, a, 8), FRAME_OK);
	assert_int_equal(fa.free_bytes, 0x100000);
	check_invariants(&fa);
}

static void test_free_errors(void **state)
{
	(void)state;
	assert_int_equal(frame_free(&fa, 0x1000, 0), FRAME_ERR_RANGE);
	assert_int_equal(frame_free(&fa, 0x1800, 1), FRAME_ERR_RANGE);
	assert_int_equal(frame_free(&fa, 0, 1), FRAME_ERR_RANGE);
	assert_int_equal(frame_free(&fa, TOP, 1), FRAME_ERR_RANGE);
	assert_int_equal(frame_free(&fa, 0x1000, SIZE_MAX), FRAME_ERR_RANGE);
	assert_int_equal(frame_free(&fa, TOP - PG, 1), FRAME_OK);
	assert_int_equal(fa.nfree, 1);
}

/* 128 separate ranges fill the list. */
static void fill_list(void)
{
	uint64_t i;

	for (i = 0; i < FRAME_MAX_RANGES; i++)
		assert_int_equal(frame_add(&fa, 0x100000 + i * 0x10000, 0x4000), FRAME_OK);
	assert_int_equal(fa.nfree, FRAME_MAX_RANGES);
	assert_false(fa.overflowed);
}

static void test_list_full_add_free(void **state)
{
	uint64_t bytes;

	(void)state;
	fill_list();
	bytes = fa.free_bytes;
	assert_int_equal(frame_add(&fa, 0x10000000, 0x1000), FRAME_ERR_FULL);
	assert_true(fa.overflowed);
	assert_int_equal(fa.free_bytes, bytes);
	/* Extending an existing range needs no slot. */
	assert_int_equal(frame_add(&fa, 0x104000, 0x1000), FRAME_OK);
	/* Nor does filling a gap that merges two ranges (frees a slot). */
	assert_int_equal(frame_add(&fa, 0x105000, 0xb000), FRAME_OK);
	assert_int_equal(fa.nfree, FRAME_MAX_RANGES - 1);
	assert_int_equal(frame_free(&fa, 0x20000000, 1), FRAME_OK);
	assert_int_equal(frame_free(&fa, 0x30000000, 1), FRAME_ERR_FULL);
	check_invariants(&fa);
}

/* With a full list a split drops the smaller piece: reserved memory never stays free. */
static void test_list_full_reserve(void **state)
{
	uint64_t bytes;

	(void)state;
	fill_list();
	bytes = fa.free_bytes;
	/* Range 5 is [0x150000, 0x154000): reserve its second page. */
	assert_int_equal(frame_reserve(&fa, 0x151000, 0x1000), FRAME_OK);
	assert_true(fa.overflowed);
	check_invariants(&fa);
	assert_int_equal(fa.nfree, FRAME_MAX_RANGES);
	assert_true(fa.free[5].base == 0x152000 && fa.free[5].end == 0x154000);
	assert_int_equal(fa.free_bytes, bytes - 0x2000);
	/* Reserve near the end: the head piece is bigger and kept. */
	assert_int_equal(frame_reserve(&fa, 0x162000, 0x1000), FRAME_OK);
	assert_true(fa.free[6].base == 0x160000 && fa.free[6].end == 0x162000);
	check_invariants(&fa);
}

/* An aligned allocation in the middle of a range with a full list. */
static void test_list_full_alloc(void **state)
{
	uint64_t bytes;

	(void)state;
	fill_list();
	/* Range 0 is [0x100000, 0x104000); take its first page. */
	assert_int_equal(frame_alloc(&fa, 1, 0, 0), 0x100000);
	bytes = fa.free_bytes;
	/* 0x102000 splits [0x101000, 0x104000): one leftover page is dropped. */
	assert_int_equal(frame_alloc(&fa, 1, 0x2000, 0), 0x102000);
	assert_true(fa.overflowed);
	check_invariants(&fa);
	assert_int_equal(fa.nfree, FRAME_MAX_RANGES);
	assert_int_equal(fa.free_bytes, bytes - 0x2000);
	assert_true(fa.free[0].base == 0x101000 && fa.free[0].end == 0x102000);
}

static void test_strerror(void **state)
{
	(void)state;
	assert_string_equal(frame_strerror(FRAME_OK), "ok");
	assert_string_not_equal(frame_strerror(FRAME_ERR_FULL), "unknown error");
	assert_string_not_equal(frame_strerror(FRAME_ERR_OVERLAP), "unknown error");
	assert_string_not_equal(frame_strerror(FRAME_ERR_RANGE), "unknown error");
	assert_string_equal(frame_strerror((enum frame_error)42), "unknown error");
}

/*
 * Random operations against a bitmap model over 200 pages (at most 100
 * ranges, so the list never overflows and the model is exact).
 */
#define MODEL_PAGES 200

static bool model[MODEL_PAGES];

static uint32_t rnd_state = 1;

static uint32_t rnd(uint32_t n)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (rnd_state >> 8) % n;
}

static uint64_t model_alloc(size_t count, uint64_t align, uint64_t limit)
{
	uint64_t a;

	for (a = align; (a / PG) + count <= MODEL_PAGES; a += align) {
		size_t p = a / PG, i;
		bool ok = true;

		if (limit && a + count * PG > limit)
			break;
		for (i = 0; i < count; i++)
			ok = ok && model[p + i];
		if (ok) {
			for (i = 0; i < count; i++)
				model[p + i] = false;
			return a;
		}
	}
	return 0;
}

static void model_compare(void)
{
	uint64_t bytes = 0;
	size_t p, i;

	check_invariants(&fa);
	for (p = 1; p < MODEL_PAGES; p++) {
		bool in = false;

		for (i = 0; i < fa.nfree; i++)
			in = in || (fa.free[i].base <= p * PG && p * PG < fa.free[i].end);
		assert_int_equal(in, model[p]);
		bytes += model[p] ? PG : 0;
	}
	assert_true(bytes == fa.free_bytes);
}

static void test_model_stress(void **state)
{
	int step;

	(void)state;
	memset(model, 0, sizeof(model));
	for (step = 0; step < 20000; step++) {
		uint32_t op = rnd(4);
		size_t first = 1 + rnd(MODEL_PAGES - 1), count = 1 + rnd(8), i;
		enum frame_error err;
		bool any_free = false, all_used = true;

		if (first + count > MODEL_PAGES)
			count = MODEL_PAGES - first;
		for (i = 0; i < count; i++) {
			any_free = any_free || model[first + i];
			all_used = all_used && !model[first + i];
		}

		switch (op) {
		case 0: /* add or free: must be rejected when any page is free */
			if (rnd(2))
				err = frame_add(&fa, first * PG, count * PG);
			else
				err = frame_free(&fa, first * PG, count);
			assert_int_equal(err, any_free ? FRAME_ERR_OVERLAP : FRAME_OK);
			if (all_used)
				for (i = 0; i < count; i++)
					model[first + i] = true;
			break;
		case 1:
			assert_int_equal(frame_reserve(&fa, first * PG, count * PG), FRAME_OK);
			for (i = 0; i < count; i++)
				model[first + i] = false;
			break;
		default: {
			uint64_t align = PG << rnd(4);
			uint64_t limit = rnd(3) ? 0 : (uint64_t)rnd(MODEL_PAGES + 1) * PG;
			uint64_t want = model_alloc(count, align, limit);

			assert_true(frame_alloc(&fa, count, align, limit) == want);
			break;
		}
		}
		assert_false(fa.overflowed);
		if (step % 16 == 0)
			model_compare();
	}
	model_compare();
}

#define T(fn) cmocka_unit_test_setup(fn, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_init_empty),
		T(test_add_basic),
		T(test_add_unaligned),
		T(test_add_page_zero),
		T(test_add_errors),
		T(test_add_top),
		T(test_add_merging),
		T(test_reserve_split),
		T(test_reserve_unaligned),
		T(test_reserve_edges),
		T(test_reserve_errors),
		T(test_alloc_lowest_first),
		T(test_alloc_skips_small),
		T(test_alloc_alignment),
		T(test_alloc_limit),
		T(test_alloc_bad_args),
		T(test_free_merges),
		T(test_double_free),
		T(test_free_errors),
		T(test_list_full_add_free),
		T(test_list_full_reserve),
		T(test_list_full_alloc),
		T(test_strerror),
		T(test_model_stress),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
