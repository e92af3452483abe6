/* SPDX-License-Identifier: BSD-2-Clause */
/* Host tests for MSR bitmaps: the bit of each access, and vmcs02's merge of L1's with umbra's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "nested/msr_bitmap.h"

static uint64_t l1[MSR_BITMAP_WORDS], umbra[MSR_BITMAP_WORDS], merged[MSR_BITMAP_WORDS];
static uint16_t words[MSR_BITMAP_WORDS];

static void set(uint64_t *bitmap, uint32_t msr, bool write)
{
	int byte = msr_bitmap_byte(msr, write);

	assert_true(byte >= 0);
	((uint8_t *)bitmap)[byte] |= (uint8_t)(1u << (msr & 7));
}

static void test_bit_positions(void **state)
{
	(void)state;
	/* SDM 24.6.9: read low at 0, read high at 1024, write low at 2048, write high at 3072. */
	assert_int_equal(msr_bitmap_byte(0, false), 0);
	assert_int_equal(msr_bitmap_byte(0x1fff, false), 1023);
	assert_int_equal(msr_bitmap_byte(0xc0000000, false), 1024);
	assert_int_equal(msr_bitmap_byte(0xc0001fff, false), 2047);
	assert_int_equal(msr_bitmap_byte(0x174, true), 2048 + 0x174 / 8);
	assert_int_equal(msr_bitmap_byte(0xc0000080, true), 3072 + 0x80 / 8);
	/* Outside both ranges: no bit, the access always exits. */
	assert_int_equal(msr_bitmap_byte(0x2000, false), -1);
	assert_int_equal(msr_bitmap_byte(0xbfffffff, true), -1);
	assert_int_equal(msr_bitmap_byte(0xc0002000, false), -1);
	memset(l1, 0, sizeof(l1));
	assert_true(msr_bitmap_exits(l1, 0x40000000, false));
	assert_false(msr_bitmap_exits(l1, 0x10, false));
}

static void test_merge(void **state)
{
	size_t n;

	(void)state;
	memset(l1, 0, sizeof(l1));
	memset(umbra, 0, sizeof(umbra));
	set(umbra, 0x480, false); /* IA32_VMX_BASIC: umbra's */
	set(umbra, 0x480, true);
	set(umbra, 0x830, true);  /* the x2APIC ICR: umbra's writes */
	set(l1, 0x174, false);    /* IA32_SYSENTER_CS reads: L1's */
	set(l1, 0xc0000080, true);
	n = msr_bitmap_nonzero_words(umbra, words);
	assert_int_equal(n, 3);
	memcpy(merged, l1, sizeof(merged));
	msr_bitmap_merge(merged, umbra, words, n);
	/* An access passes only if neither bitmap makes it exit. */
	for (uint32_t msr = 0; msr <= 0x1fff; msr++)
		for (int w = 0; w < 2; w++)
			assert_int_equal(msr_bitmap_exits(merged, msr, w),
					 msr_bitmap_exits(l1, msr, w) || msr_bitmap_exits(umbra, msr, w));
	for (uint32_t msr = 0xc0000000; msr <= 0xc0001fff; msr++)
		for (int w = 0; w < 2; w++)
			assert_int_equal(msr_bitmap_exits(merged, msr, w),
					 msr_bitmap_exits(l1, msr, w) || msr_bitmap_exits(umbra, msr, w));
	/* L1's own bits outside umbra's words are copied untouched. */
	assert_true(msr_bitmap_exits(merged, 0x174, false));
	assert_false(msr_bitmap_exits(merged, 0x174, true));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bit_positions),
		cmocka_unit_test(test_merge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
