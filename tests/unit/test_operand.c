/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for VMX instruction memory operands (nested/operand.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "nested/operand.h"

/* Instruction information: scale, address size, segment, index, base (SDM Table 28-9). */
static uint32_t ii(unsigned int scale, unsigned int asize, unsigned int seg, int index, int base)
{
	return scale | asize << 7 | seg << 15 | (index < 0 ? 1u << 22 : (uint32_t)index << 18) |
	       (base < 0 ? 1u << 27 : (uint32_t)base << 23);
}

static struct operand_ctx flat32(void)
{
	struct operand_ctx c;

	memset(&c, 0, sizeof(c));
	for (int s = 0; s < 6; s++) {
		c.seg_limit[s] = 0xffffffff;
		c.seg_usable[s] = true;
	}
	return c;
}

static void test_base_index_scale_disp(void **state)
{
	struct operand_ctx c = flat32();
	uint64_t la;

	(void)state;
	c.long_mode = true;
	c.gpr[3] = 0x10000;  /* RBX */
	c.gpr[6] = 0x20;     /* RSI */
	assert_int_equal(operand_linear(&c, ii(3, 2, 3, 6, 3), 0x8, 8, &la), OPERAND_OK);
	assert_int_equal(la, 0x10000 + 0x20 * 8 + 0x8);
	/* No base, no index: the displacement alone (an absolute address). */
	assert_int_equal(operand_linear(&c, ii(0, 2, 3, -1, -1), 0x1234, 8, &la), OPERAND_OK);
	assert_int_equal(la, 0x1234);
	/* The displacement is sign-extended by the CPU already: negative offsets. */
	assert_int_equal(operand_linear(&c, ii(0, 2, 3, -1, 3), (uint64_t)-8, 8, &la), OPERAND_OK);
	assert_int_equal(la, 0x10000 - 8);
}

/* 64-bit mode: only FS and GS bases count; addresses must be canonical. */
static void test_long_mode_segments(void **state)
{
	struct operand_ctx c = flat32();
	uint64_t la;

	(void)state;
	c.long_mode = true;
	c.seg_base[3] = 0x5000;  /* DS: ignored */
	c.seg_base[5] = 0x7000;  /* GS: added */
	c.gpr[0] = 0x100;
	assert_int_equal(operand_linear(&c, ii(0, 2, 3, -1, 0), 0, 8, &la), OPERAND_OK);
	assert_int_equal(la, 0x100);
	assert_int_equal(operand_linear(&c, ii(0, 2, 5, -1, 0), 0, 8, &la), OPERAND_OK);
	assert_int_equal(la, 0x7100);
	c.gpr[0] = 0x0000800000000000ULL;
	assert_int_equal(operand_linear(&c, ii(0, 2, 3, -1, 0), 0, 8, &la), OPERAND_GP);
	assert_int_equal(operand_linear(&c, ii(0, 2, 2, -1, 0), 0, 8, &la), OPERAND_SS);
	/* The last byte counts too. */
	c.gpr[0] = 0x00007ffffffffffcULL;
	assert_int_equal(operand_linear(&c, ii(0, 2, 3, -1, 0), 0, 8, &la), OPERAND_GP);
}

/* Address-size truncation (16 and 32 bits). */
static void test_address_size(void **state)
{
	struct operand_ctx c = flat32();
	uint64_t la;

	(void)state;
	c.long_mode = true;
	c.gpr[3] = 0x1234ffffffffULL;
	assert_int_equal(operand_linear(&c, ii(0, 1, 3, -1, 3), 2, 8, &la), OPERAND_OK);
	assert_int_equal(la, 1);
	c.long_mode = false;
	c.gpr[3] = 0x12ffff;
	assert_int_equal(operand_linear(&c, ii(0, 0, 3, -1, 3), 3, 4, &la), OPERAND_OK);
	assert_int_equal(la, 2);
}

/* Outside 64-bit mode: base added, limit checked, unusable segments fault. */
static void test_protected_mode_limits(void **state)
{
	struct operand_ctx c = flat32();
	uint64_t la;

	(void)state;
	c.seg_base[3] = 0x100000;
	c.seg_limit[3] = 0xfff;
	c.gpr[3] = 0xff8;
	assert_int_equal(operand_linear(&c, ii(0, 1, 3, -1, 3), 0, 8, &la), OPERAND_OK);
	assert_int_equal(la, 0x100ff8);
	assert_int_equal(operand_linear(&c, ii(0, 1, 3, -1, 3), 1, 8, &la), OPERAND_GP);
	c.seg_limit[2] = 0xfff;
	assert_int_equal(operand_linear(&c, ii(0, 1, 2, -1, 3), 1, 8, &la), OPERAND_SS);
	c.seg_usable[4] = false;
	assert_int_equal(operand_linear(&c, ii(0, 1, 4, -1, 3), 0, 4, &la), OPERAND_GP);
	/* Wrap-around of the 32-bit linear address. */
	c.seg_base[0] = 0xfffff000;
	c.gpr[3] = 0x2000;
	assert_int_equal(operand_linear(&c, ii(0, 1, 0, -1, 3), 0, 8, &la), OPERAND_OK);
	assert_int_equal(la, 0x1000);
	/* Segment encodings 6 and 7 do not exist. */
	assert_int_equal(operand_linear(&c, ii(0, 1, 7, -1, 3), 0, 8, &la), OPERAND_GP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base_index_scale_disp),
		cmocka_unit_test(test_long_mode_segments),
		cmocka_unit_test(test_address_size),
		cmocka_unit_test(test_protected_mode_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
