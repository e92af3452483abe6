/* SPDX-License-Identifier: BSD-2-Clause */
/* Host tests for the VMCS field list and its look-ups, and for VMX control negotiation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/vmcs_fields.h"
#include "arch/x86/vmx.h" /* must compile in a host build: vmx_ctl_negotiate is static inline */

static bool has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

static bool is_one_of(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, list[i]) == 0)
			return true;
	return false;
}

/* The type Appendix B gives a field, from its name (SDM Vol. 3C B.1-B.4). */
static unsigned int type_from_name(const char *name)
{
	static const char *const read_only[] = {
		"GUEST_PHYSICAL_ADDRESS", "GUEST_LINEAR_ADDRESS",
		"VM_INSTRUCTION_ERROR",   "VM_EXIT_REASON",
		"VM_EXIT_INTR_INFO",      "VM_EXIT_INTR_ERROR_CODE",
		"IDT_VECTORING_INFO",     "IDT_VECTORING_ERROR_CODE",
		"VM_EXIT_INSTRUCTION_LEN", "VMX_INSTRUCTION_INFO",
		"EXIT_QUALIFICATION",     "IO_RCX",
		"IO_RSI",                 "IO_RDI",
		"IO_RIP",
	};
	static const char *const guest_other[] = { "VMCS_LINK_POINTER", "VMX_PREEMPTION_TIMER_VALUE" };

	if (is_one_of(name, read_only, ARRAY_SIZE(read_only)))
		return VMCS_TYPE_READ_ONLY;
	if (has_prefix(name, "GUEST_") || is_one_of(name, guest_other, ARRAY_SIZE(guest_other)))
		return VMCS_TYPE_GUEST;
	if (has_prefix(name, "HOST_"))
		return VMCS_TYPE_HOST;
	return VMCS_TYPE_CONTROL;
}

static void test_table_encodings(void **state)
{
	(void)state;
	assert_true(VMCS_FIELD_COUNT > 100);
	for (size_t i = 0; i < VMCS_FIELD_COUNT; i++) {
		const struct vmcs_field_desc *d = &vmcs_field_table[i];
		uint32_t enc = d->encoding;

		assert_non_null(d->name);
		if (VMCS_FIELD_RESERVED_BITS(enc))
			fail_msg("%s (%#x): reserved bits set", d->name, enc);
		if (VMCS_FIELD_HIGH_ACCESS(enc))
			fail_msg("%s (%#x): a HIGH access in the list", d->name, enc);
		for (size_t k = 0; k < i; k++) {
			if (vmcs_field_table[k].encoding == enc)
				fail_msg("%s and %s share %#x", vmcs_field_table[k].name, d->name, enc);
			if (strcmp(vmcs_field_table[k].name, d->name) == 0)
				fail_msg("%s listed twice", d->name);
		}
		/* The encoding is width, type and index and nothing else. */
		assert_int_equal(enc, (VMCS_FIELD_WIDTH(enc) << 13) | (VMCS_FIELD_TYPE(enc) << 10) |
					      (VMCS_FIELD_INDEX(enc) << 1));
	}
}

/*
 * Appendix B order: width (16, 64, 32, natural), then type (control, read-only,
 * guest, host), then index. Those are the encoding's bits from the top down,
 * so the list is in strictly ascending encoding order.
 */
static void test_table_order(void **state)
{
	(void)state;
	for (size_t i = 1; i < VMCS_FIELD_COUNT; i++) {
		const struct vmcs_field_desc *a = &vmcs_field_table[i - 1], *b = &vmcs_field_table[i];

		if (a->encoding >= b->encoding)
			fail_msg("%s (%#x) listed before %s (%#x)", a->name, a->encoding, b->name,
				 b->encoding);
	}
}

/* Each field's type bits match the group its name puts it in. */
static void test_table_types(void **state)
{
	(void)state;
	for (size_t i = 0; i < VMCS_FIELD_COUNT; i++) {
		const struct vmcs_field_desc *d = &vmcs_field_table[i];
		unsigned int want = type_from_name(d->name);

		if (VMCS_FIELD_TYPE(d->encoding) != want)
			fail_msg("%s (%#x): type %u, its group is type %u", d->name, d->encoding,
				 VMCS_FIELD_TYPE(d->encoding), want);
	}
}

/* Widths of fields whose width the name tells. */
static void test_table_widths(void **state)
{
	static const struct {
		const char *suffix;
		unsigned int width;
	} by_suffix[] = {
		{ "_SELECTOR", VMCS_WIDTH_16 },   { "_LIMIT", VMCS_WIDTH_32 },
		{ "_AR_BYTES", VMCS_WIDTH_32 },   { "_BASE", VMCS_WIDTH_NATURAL },
		{ "_BITMAP_A", VMCS_WIDTH_64 },   { "_ADDR", VMCS_WIDTH_64 },
		{ "_COUNT", VMCS_WIDTH_32 },      { "_CONTROL", VMCS_WIDTH_32 },
	};

	(void)state;
	for (size_t i = 0; i < VMCS_FIELD_COUNT; i++) {
		const struct vmcs_field_desc *d = &vmcs_field_table[i];
		size_t len = strlen(d->name);

		for (size_t k = 0; k < ARRAY_SIZE(by_suffix); k++) {
			size_t sl = strlen(by_suffix[k].suffix);
			unsigned int want = by_suffix[k].width;

			if (len < sl || strcmp(d->name + len - sl, by_suffix[k].suffix) != 0)
				continue;
			/* The exception Appendix B has. */
			if (strcmp(d->name, "VM_FUNCTION_CONTROL") == 0)
				want = VMCS_WIDTH_64;
			if (VMCS_FIELD_WIDTH(d->encoding) != want)
				fail_msg("%s (%#x): width %u, want %u", d->name, d->encoding,
					 VMCS_FIELD_WIDTH(d->encoding), want);
		}
	}
}

static void test_known_fields(void **state)
{
	(void)state;
	assert_int_equal(VMCS_FIELD_WIDTH(GUEST_RIP), VMCS_WIDTH_NATURAL);
	assert_int_equal(VMCS_FIELD_TYPE(GUEST_RIP), VMCS_TYPE_GUEST);
	assert_int_equal(GUEST_RIP, 0x681e);
	assert_int_equal(VMCS_FIELD_WIDTH(VMCS_LINK_POINTER), VMCS_WIDTH_64);
	assert_int_equal(VMCS_FIELD_TYPE(VMCS_LINK_POINTER), VMCS_TYPE_GUEST);
	assert_int_equal(VMCS_FIELD_WIDTH(VM_EXIT_REASON), VMCS_WIDTH_32);
	assert_int_equal(VMCS_FIELD_TYPE(VM_EXIT_REASON), VMCS_TYPE_READ_ONLY);
	assert_int_equal(VMCS_FIELD_INDEX(VM_EXIT_REASON), 1);
	assert_int_equal(VMCS_FIELD_WIDTH(GUEST_CS_SELECTOR), VMCS_WIDTH_16);
	assert_int_equal(VMCS_FIELD_TYPE(GUEST_CS_SELECTOR), VMCS_TYPE_GUEST);
	assert_int_equal(VMCS_FIELD_INDEX(GUEST_CS_SELECTOR), 1);
	assert_int_equal(VMCS_FIELD_WIDTH(EPT_POINTER), VMCS_WIDTH_64);
	assert_int_equal(VMCS_FIELD_TYPE(EPT_POINTER), VMCS_TYPE_CONTROL);
	assert_int_equal(VMCS_FIELD_WIDTH(HOST_RIP), VMCS_WIDTH_NATURAL);
	assert_int_equal(VMCS_FIELD_TYPE(HOST_RIP), VMCS_TYPE_HOST);
	assert_int_equal(VMCS_FIELD_WIDTH(GUEST_PHYSICAL_ADDRESS), VMCS_WIDTH_64);
	assert_int_equal(VMCS_FIELD_TYPE(GUEST_PHYSICAL_ADDRESS), VMCS_TYPE_READ_ONLY);
	assert_int_equal(VMCS_FIELD_HIGH(EPT_POINTER), 0x201b);
	assert_true(VMCS_FIELD_HIGH_ACCESS(VMCS_FIELD_HIGH(TSC_OFFSET)));
	assert_false(VMCS_FIELD_RESERVED_BITS(HOST_RIP));
	assert_true(VMCS_FIELD_RESERVED_BITS(0x1000));
	assert_true(VMCS_FIELD_RESERVED_BITS(0x8000));
	assert_true(VMCS_FIELD_RESERVED_BITS(0x10000));
}

/* A sample of encodings checked against the SDM's tables, independently of the bit layout. */
static void test_sdm_encodings(void **state)
{
	static const struct {
		uint32_t enc, sdm;
	} sample[] = {
		{ VIRTUAL_PROCESSOR_ID, 0x0000 },     { GUEST_ES_SELECTOR, 0x0800 },
		{ GUEST_INTR_STATUS, 0x0810 },        { HOST_ES_SELECTOR, 0x0c00 },
		{ HOST_TR_SELECTOR, 0x0c0c },         { IO_BITMAP_A, 0x2000 },
		{ EPT_POINTER, 0x201a },              { VMREAD_BITMAP, 0x2026 },
		{ TSC_MULTIPLIER, 0x2032 },           { GUEST_PHYSICAL_ADDRESS, 0x2400 },
		{ VMCS_LINK_POINTER, 0x2800 },        { GUEST_IA32_EFER, 0x2806 },
		{ HOST_IA32_PAT, 0x2c00 },            { PIN_BASED_VM_EXEC_CONTROL, 0x4000 },
		{ SECONDARY_VM_EXEC_CONTROL, 0x401e }, { VM_INSTRUCTION_ERROR, 0x4400 },
		{ VMX_INSTRUCTION_INFO, 0x440e },     { GUEST_ES_LIMIT, 0x4800 },
		{ GUEST_INTERRUPTIBILITY_INFO, 0x4824 }, { VMX_PREEMPTION_TIMER_VALUE, 0x482e },
		{ HOST_IA32_SYSENTER_CS, 0x4c00 },    { CR0_GUEST_HOST_MASK, 0x6000 },
		{ EXIT_QUALIFICATION, 0x6400 },       { GUEST_LINEAR_ADDRESS, 0x640a },
		{ GUEST_CR0, 0x6800 },                { GUEST_SYSENTER_EIP, 0x6826 },
		{ HOST_CR0, 0x6c00 },                 { HOST_RIP, 0x6c16 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(sample); i++)
		assert_int_equal(sample[i].enc, sample[i].sdm);
}

static void test_lookup(void **state)
{
	const struct vmcs_field_desc *d;

	(void)state;
	for (size_t i = 0; i < VMCS_FIELD_COUNT; i++) {
		uint32_t enc = vmcs_field_table[i].encoding;

		assert_ptr_equal(vmcs_field_lookup(enc), &vmcs_field_table[i]);
		if (VMCS_FIELD_WIDTH(enc) == VMCS_WIDTH_64)
			assert_ptr_equal(vmcs_field_lookup(VMCS_FIELD_HIGH(enc)), &vmcs_field_table[i]);
		else
			assert_null(vmcs_field_lookup(VMCS_FIELD_HIGH(enc)));
	}

	d = vmcs_field_lookup(VMCS_FIELD_HIGH(EPT_POINTER));
	assert_non_null(d);
	assert_int_equal(d->encoding, EPT_POINTER);
	assert_string_equal(d->name, "EPT_POINTER");
	assert_null(vmcs_field_lookup(VMCS_FIELD_HIGH(VM_EXIT_REASON)));
	assert_null(vmcs_field_lookup(VMCS_FIELD_HIGH(GUEST_RIP)));
	assert_null(vmcs_field_lookup(VMCS_FIELD_HIGH(GUEST_CS_SELECTOR)));

	/* Encodings not in the list. */
	assert_null(vmcs_field_lookup(0x2030)); /* SPPTP: not listed */
	assert_null(vmcs_field_lookup(0x482c));
	assert_null(vmcs_field_lookup(0x6c18));
	assert_null(vmcs_field_lookup(GUEST_RIP | 0x1000)); /* reserved bit 12 */
	assert_null(vmcs_field_lookup(GUEST_RIP | 0x10000));
	assert_null(vmcs_field_lookup(0xffffffff));
	assert_null(vmcs_field_lookup(0xffffffffu & ~1u));
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(vmcs_field_name(GUEST_RIP), "GUEST_RIP");
	assert_string_equal(vmcs_field_name(VIRTUAL_PROCESSOR_ID), "VIRTUAL_PROCESSOR_ID");
	assert_string_equal(vmcs_field_name(HOST_RIP), "HOST_RIP");
	assert_string_equal(vmcs_field_name(VMCS_LINK_POINTER), "VMCS_LINK_POINTER");
	assert_string_equal(vmcs_field_name(VMCS_FIELD_HIGH(VMCS_LINK_POINTER)), "VMCS_LINK_POINTER");
	assert_string_equal(vmcs_field_name(VM_INSTRUCTION_ERROR), "VM_INSTRUCTION_ERROR");
	assert_null(vmcs_field_name(VMCS_FIELD_HIGH(GUEST_CR0)));
	assert_null(vmcs_field_name(0x6c18));
	for (size_t i = 0; i < VMCS_FIELD_COUNT; i++)
		assert_ptr_equal(vmcs_field_name(vmcs_field_table[i].encoding), vmcs_field_table[i].name);
}

/* ---- vmx_ctl_negotiate (arch/x86/vmx.h) ---------------------------------------------- */

static void test_negotiate_ok(void **state)
{
	const struct vmx_ctl cap = { .must_be_one = 0x16, .may_be_one = 0xff16 };
	uint32_t out = 0xdead, missing = 0xdead;

	(void)state;
	assert_true(vmx_ctl_negotiate(&cap, 0x0100, 0x0600, &out, &missing));
	assert_int_equal(missing, 0);
	assert_int_equal(out, 0x16 | 0x0100 | 0x0600);

	/* Nothing asked: only the must-be-one bits. */
	assert_true(vmx_ctl_negotiate(&cap, 0, 0, &out, &missing));
	assert_int_equal(out, 0x16);
	assert_int_equal(missing, 0);

	/* Asking for a must-be-one bit is harmless. */
	assert_true(vmx_ctl_negotiate(&cap, 0x02, 0x04, &out, &missing));
	assert_int_equal(out, 0x16);
}

static void test_negotiate_optional_dropped(void **state)
{
	const struct vmx_ctl cap = { .must_be_one = 0x1, .may_be_one = 0x00ff };
	uint32_t out, missing;

	(void)state;
	assert_true(vmx_ctl_negotiate(&cap, 0x02, 0xf00c, &out, &missing));
	assert_int_equal(out, 0x1 | 0x02 | 0x0c);
	assert_int_equal(missing, 0);
}

static void test_negotiate_required_missing(void **state)
{
	const struct vmx_ctl cap = { .must_be_one = 0x1, .may_be_one = 0x00ff };
	uint32_t out, missing;

	(void)state;
	assert_false(vmx_ctl_negotiate(&cap, 0x8302, 0x04, &out, &missing));
	assert_int_equal(missing, 0x8300);
	assert_int_equal(out & ~cap.may_be_one, 0);

	assert_false(vmx_ctl_negotiate(&cap, 0xffffffff, 0, &out, &missing));
	assert_int_equal(missing, 0xffffff00);
}

/* Exhaustive over small masks, random over wide ones: the four rules always hold. */
static void check_rules(const struct vmx_ctl *cap, uint32_t req, uint32_t opt)
{
	uint32_t out, missing;
	bool ok = vmx_ctl_negotiate(cap, req, opt, &out, &missing);

	assert_int_equal(missing, req & ~cap->may_be_one);
	assert_int_equal(ok, missing == 0);
	assert_int_equal(out & ~cap->may_be_one, 0);
	assert_int_equal(out & cap->must_be_one & cap->may_be_one, cap->must_be_one & cap->may_be_one);
	assert_int_equal(out & opt & cap->may_be_one, opt & cap->may_be_one);
	if (ok) {
		assert_int_equal(out & req, req);
		assert_int_equal(out & ~(req | opt | cap->must_be_one), 0);
	}
}

static void test_negotiate_properties(void **state)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;

	(void)state;
	for (uint32_t may = 0; may < 16; may++)
		for (uint32_t must = 0; must < 16; must++) {
			const struct vmx_ctl cap = { must & may, may };

			for (uint32_t req = 0; req < 16; req++)
				for (uint32_t opt = 0; opt < 16; opt++)
					check_rules(&cap, req, opt);
		}
	for (int i = 0; i < 100000; i++) {
		uint32_t v[4];

		for (int k = 0; k < 4; k++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			v[k] = (uint32_t)(x >> 16);
		}
		const struct vmx_ctl cap = { v[0] & v[1], v[1] };

		check_rules(&cap, v[2] & (i % 2 ? v[1] : 0xffffffff), v[3]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_encodings),
		cmocka_unit_test(test_table_order),
		cmocka_unit_test(test_table_types),
		cmocka_unit_test(test_table_widths),
		cmocka_unit_test(test_known_fields),
		cmocka_unit_test(test_sdm_encodings),
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_negotiate_ok),
		cmocka_unit_test(test_negotiate_optional_dropped),
		cmocka_unit_test(test_negotiate_required_missing),
		cmocka_unit_test(test_negotiate_properties),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
