/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for the shadow field table (nested/shadow_fields.h) and the VMREAD/VMWRITE bitmaps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "arch/x86/vmcs_fields.h"
#include "nested/shadow.h"

static bool bit(const uint8_t *bitmap, uint32_t encoding)
{
	encoding &= 0x7fff;
	return bitmap[encoding / 8] & (1u << (encoding % 8));
}

/* Every shadowed field is in the VMCS field list, once, and read-only fields are only read. */
static void test_table_against_field_list(void **state)
{
	(void)state;
	assert_true(shadow_field_count > 0 && shadow_field_count <= SHADOW_FIELDS_MAX);
	for (size_t i = 0; i < shadow_field_count; i++) {
		uint32_t enc = shadow_field_table[i].encoding;

		assert_non_null(vmcs_field_lookup(enc));
		assert_int_equal(VMCS_FIELD_HIGH_ACCESS(enc), 0);
		for (size_t j = i + 1; j < shadow_field_count; j++)
			assert_int_not_equal(enc, shadow_field_table[j].encoding);
		/* VM-exit information is written by umbra: L1 may only read it through the shadow. */
		if (VMCS_FIELD_TYPE(enc) == VMCS_TYPE_READ_ONLY)
			assert_false(shadow_field_table[i].read_write);
	}
}

/* Fields umbra changes while emulating VMX instructions are never shadowed. */
static void test_never_shadowed(void **state)
{
	(void)state;
	for (size_t i = 0; i < shadow_field_count; i++) {
		assert_int_not_equal(shadow_field_table[i].encoding, VM_INSTRUCTION_ERROR);
		assert_int_not_equal(shadow_field_table[i].encoding, VMCS_LINK_POINTER);
	}
}

/* Bitmaps: exactly the listed fields (and 64-bit HIGH halves) pass without exit. */
static void test_bitmaps(void **state)
{
	static uint8_t rd[4096], wr[4096];
	size_t cleared_rd = 0, cleared_wr = 0, want_rd = 0, want_wr = 0;

	(void)state;
	shadow_build_bitmaps(rd, wr, 0x1ff);
	for (size_t i = 0; i < shadow_field_count; i++) {
		uint32_t enc = shadow_field_table[i].encoding;
		size_t halves = VMCS_FIELD_WIDTH(enc) == VMCS_WIDTH_64 ? 2 : 1;

		assert_false(bit(rd, enc));
		assert_int_equal(bit(wr, enc), !shadow_field_table[i].read_write);
		if (halves == 2) {
			assert_false(bit(rd, VMCS_FIELD_HIGH(enc)));
			assert_int_equal(bit(wr, VMCS_FIELD_HIGH(enc)), !shadow_field_table[i].read_write);
		}
		want_rd += halves;
		want_wr += shadow_field_table[i].read_write ? halves : 0;
	}
	for (uint32_t b = 0; b < 4096 * 8; b++) {
		cleared_rd += !(rd[b / 8] & (1u << (b % 8)));
		cleared_wr += !(wr[b / 8] & (1u << (b % 8)));
	}
	assert_int_equal(cleared_rd, want_rd);
	assert_int_equal(cleared_wr, want_wr);
	assert_true(bit(rd, VM_INSTRUCTION_ERROR));
	assert_true(bit(wr, VM_INSTRUCTION_ERROR));
}

/* Fields beyond the CPU's highest VMCS index (IA32_VMX_VMCS_ENUM) keep exiting. */
static void test_bitmaps_max_index(void **state)
{
	static uint8_t rd[4096], wr[4096];

	(void)state;
	shadow_build_bitmaps(rd, wr, 0);
	for (size_t i = 0; i < shadow_field_count; i++) {
		uint32_t enc = shadow_field_table[i].encoding;

		assert_int_equal(bit(rd, enc), VMCS_FIELD_INDEX(enc) > 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_against_field_list),
		cmocka_unit_test(test_never_shadowed),
		cmocka_unit_test(test_bitmaps),
		cmocka_unit_test(test_bitmaps_max_index),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
