/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for nested/: the launched-VMCS list and vmcs12 field access. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "nested/launched.h"
#include "nested/vmcs12.h"

static void test_launched_basic(void **state)
{
	struct launched_list l;
	uint64_t ev = 0;

	(void)state;
	launched_init(&l);
	assert_false(launched_has(&l, 0x1000));
	assert_false(launched_add(&l, 0x1000, &ev));
	assert_false(launched_add(&l, 0x2000, &ev));
	assert_true(launched_has(&l, 0x1000));
	assert_true(launched_has(&l, 0x2000));
	/* Adding again changes nothing. */
	assert_false(launched_add(&l, 0x1000, &ev));
	assert_int_equal(l.count, 2);
	assert_true(launched_remove(&l, 0x1000));
	assert_false(launched_has(&l, 0x1000));
	assert_true(launched_has(&l, 0x2000));
	assert_false(launched_remove(&l, 0x1000));
	assert_true(launched_remove(&l, 0x2000));
	assert_int_equal(l.count, 0);
}

/* Full: the oldest launch is evicted and returned, so the caller can spill it. */
static void test_launched_full_evicts_oldest(void **state)
{
	struct launched_list l;
	uint64_t ev = 0;
	uint64_t i;

	(void)state;
	launched_init(&l);
	for (i = 1; i <= LAUNCHED_LIST_SIZE; i++)
		assert_false(launched_add(&l, i << 12, &ev));
	assert_int_equal(l.count, LAUNCHED_LIST_SIZE);
	assert_true(launched_add(&l, 0x100000, &ev));
	assert_int_equal(ev, 1 << 12);
	assert_false(launched_has(&l, 1 << 12));
	assert_true(launched_has(&l, 0x100000));
	/* Removing one frees a slot: the next add evicts nothing. */
	assert_true(launched_remove(&l, 5 << 12));
	assert_false(launched_add(&l, 0x200000, &ev));
	/* Next eviction: the oldest still present (2 << 12). */
	assert_true(launched_add(&l, 0x300000, &ev));
	assert_int_equal(ev, 2 << 12);
	for (i = 3; i <= LAUNCHED_LIST_SIZE; i++)
		if (i != 5)
			assert_true(launched_has(&l, i << 12));
}

/* VMCS address 0 is a VMCS like any other: evicting it is reported, and so is its address. */
static void test_launched_evicts_address_zero(void **state)
{
	struct launched_list l;
	uint64_t ev = ~0ULL;

	(void)state;
	launched_init(&l);
	assert_false(launched_add(&l, 0, &ev));
	assert_true(launched_has(&l, 0));
	for (uint64_t i = 1; i < LAUNCHED_LIST_SIZE; i++)
		assert_false(launched_add(&l, i << 12, &ev));
	assert_true(launched_add(&l, 0x100000, &ev));
	assert_int_equal(ev, 0);
	assert_false(launched_has(&l, 0));
}

/* Eviction order survives the 32-bit clock wrapping. */
static void test_launched_clock_wrap(void **state)
{
	struct launched_list l;
	uint64_t ev = 0;

	(void)state;
	launched_init(&l);
	l.clock = UINT32_MAX - 2;
	for (uint64_t i = 1; i <= LAUNCHED_LIST_SIZE; i++)
		launched_add(&l, i << 12, &ev);
	assert_true(launched_add(&l, 0x100000, &ev));
	assert_int_equal(ev, 1 << 12);
	assert_true(launched_add(&l, 0x200000, &ev));
	assert_int_equal(ev, 2 << 12);
}

static void test_vmcs12_widths(void **state)
{
	static struct vmcs12 v;

	(void)state;
	memset(&v, 0, sizeof(v));
	vmcs12_write(&v, GUEST_CS_SELECTOR, 0x123456789abcULL);
	assert_int_equal(vmcs12_read(&v, GUEST_CS_SELECTOR), 0x9abc);
	vmcs12_write(&v, GUEST_CS_LIMIT, 0x123456789abcULL);
	assert_int_equal(vmcs12_read(&v, GUEST_CS_LIMIT), 0x56789abc);
	vmcs12_write(&v, GUEST_RIP, 0xffffffff12345678ULL);
	assert_int_equal(vmcs12_read(&v, GUEST_RIP), 0xffffffff12345678ULL);
	vmcs12_write(&v, EPT_POINTER, 0x1122334455667788ULL);
	assert_int_equal(vmcs12_read(&v, EPT_POINTER), 0x1122334455667788ULL);
}

/* HIGH accesses of 64-bit fields touch bits 63:32 only (SDM Vol. 3C 24.11.2). */
static void test_vmcs12_high(void **state)
{
	static struct vmcs12 v;

	(void)state;
	memset(&v, 0, sizeof(v));
	vmcs12_write(&v, EPT_POINTER, 0x1122334455667788ULL);
	assert_int_equal(vmcs12_read(&v, VMCS_FIELD_HIGH(EPT_POINTER)), 0x11223344);
	vmcs12_write(&v, VMCS_FIELD_HIGH(EPT_POINTER), 0xaabbccdd);
	assert_int_equal(vmcs12_read(&v, EPT_POINTER), 0xaabbccdd55667788ULL);
	/* Only 64-bit fields have HIGH halves. */
	assert_int_equal(vmcs12_slot(VMCS_FIELD_HIGH(GUEST_RIP)), -1);
	assert_int_equal(vmcs12_slot(VMCS_FIELD_HIGH(GUEST_CS_LIMIT)), -1);
}

static void test_vmcs12_slots(void **state)
{
	bool used[VMCS_FIELD_COUNT] = { false };

	(void)state;
	/* Every listed field has its own slot, in list order (nested/entry.c relies on it). */
	for (size_t i = 0; i < VMCS_FIELD_COUNT; i++) {
		int s = vmcs12_slot(vmcs_field_table[i].encoding);

		assert_int_equal(s, (int)i);
		assert_true(s >= 0 && s < VMCS_FIELD_COUNT);
		assert_false(used[s]);
		used[s] = true;
	}
	/* Unknown, reserved-bit and out-of-range encodings have none. */
	assert_int_equal(vmcs12_slot(0x7fff), -1);
	assert_int_equal(vmcs12_slot(0x1000 | GUEST_RIP), -1);
	assert_int_equal(vmcs12_slot(0x10000 | GUEST_RIP), -1);
	assert_int_equal(vmcs12_slot(0x0006), -1); /* 16-bit control index 3: not defined */
	/* Reads of unknown encodings give 0, writes are ignored. */
	{
		static struct vmcs12 v;

		memset(&v, 0xab, sizeof(v));
		vmcs12_write(&v, 0x7fff, 1);
		assert_int_equal(vmcs12_read(&v, 0x7fff), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_launched_basic),
		cmocka_unit_test(test_launched_full_evicts_oldest),
		cmocka_unit_test(test_launched_clock_wrap),
		cmocka_unit_test(test_launched_evicts_address_zero),
		cmocka_unit_test(test_vmcs12_widths),
		cmocka_unit_test(test_vmcs12_high),
		cmocka_unit_test(test_vmcs12_slots),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
