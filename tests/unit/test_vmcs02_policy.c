/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for nested/vmcs02_policy.h: every field has a policy, and the policies keep their rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "arch/x86/vmcs_fields.h"
#include "nested/vmcs02_policy.h"

static uint32_t encoding_of_slot(size_t slot)
{
	return vmcs_field_table[slot].encoding;
}

/* Every field of the VMCS field list is in the table (no field silently "copied" or dropped). */
static void test_every_field_has_a_policy(void **state)
{
	(void)state;
	for (size_t i = 0; i < VMCS_FIELD_COUNT; i++) {
		if (!nvmx_policy[i])
			fail_msg("%s has no policy in nested/vmcs02_policy.h", vmcs_field_table[i].name);
		assert_int_equal(vmcs12_slot(encoding_of_slot(i)), (int)i);
	}
}

/*
 * The rules: a control reaches vmcs02 only checked; only guest state is
 * saved at exit (and then copied at entry, where the CPU checks it); host
 * state is checked and loaded; read-only data is umbra's to write; a field
 * of a feature not offered has no other flag.
 */
static void test_policy_rules(void **state)
{
	(void)state;
	for (size_t i = 0; i < VMCS_FIELD_COUNT; i++) {
		uint16_t f = nvmx_policy[i];
		uint32_t type = VMCS_FIELD_TYPE(encoding_of_slot(i));
		const char *name = vmcs_field_table[i].name;

		if ((f & NP_UNUSED) && f != NP_UNUSED)
			fail_msg("%s: NP_UNUSED with other flags", name);
		if ((f & NP_MERGE) && !(f & NP_CHECK))
			fail_msg("%s: merged into vmcs02 without umbra's checks", name);
		if (type == VMCS_TYPE_CONTROL && (f & NP_COPY) && !(f & NP_CHECK))
			fail_msg("%s: a control copied to vmcs02 without umbra's checks", name);
		if ((f & NP_SAVE) && (type != VMCS_TYPE_GUEST || !(f & NP_COPY)))
			fail_msg("%s: saved at exit but not L2 state copied at entry", name);
		if (type == VMCS_TYPE_GUEST && (f & NP_COPY) && !(f & NP_SAVE))
			fail_msg("%s: L2 state copied at entry but lost at exit", name);
		/* HOST_RSP alone: the SDM's host-state checks (26.2.2-26.2.4) name no condition on it. */
		if (type == VMCS_TYPE_HOST && f != NP_HOST_STATE && f != NP_NOT_OFFERED &&
		    !(f == NP_HOST_STATE_ANY && encoding_of_slot(i) == HOST_RSP))
			fail_msg("%s: host state that is not checked and loaded", name);
		if ((type == VMCS_TYPE_READ_ONLY) != (f == NP_READ_ONLY))
			fail_msg("%s: read-only data with another policy, or the reverse", name);
	}
}

/* The lists nvmx_policy_init() makes: L2's state round-trips, and the VM-exit MSR lists are umbra's. */
static void test_generated_lists(void **state)
{
	(void)state;
	nvmx_policy_init();
	assert_true(nvmx_save_field_count >= 40);
	assert_true(nvmx_copy_field_count > nvmx_save_field_count);
	for (size_t i = 0; i < nvmx_save_field_count; i++)
		assert_int_equal(VMCS_FIELD_TYPE(nvmx_save_fields[i].encoding), VMCS_TYPE_GUEST);
	for (size_t i = 0; i < nvmx_copy_field_count; i++) {
		uint32_t enc = nvmx_copy_fields[i].encoding;

		assert_int_equal(encoding_of_slot(nvmx_copy_fields[i].slot), enc);
		/* L1's VM-exit MSR-load list is for L1: applied at reflection, never by the CPU for L2. */
		assert_int_not_equal(enc, VM_EXIT_MSR_LOAD_COUNT);
		assert_int_not_equal(enc, VM_EXIT_MSR_LOAD_ADDR);
		/* The CPU would use L1's bitmaps and controls without umbra's own bits. */
		assert_int_not_equal(enc, PIN_BASED_VM_EXEC_CONTROL);
		assert_int_not_equal(enc, MSR_BITMAP);
		assert_int_not_equal(enc, IO_BITMAP_A);
	}
	/* GUEST_RIP changes nothing but itself; a pin-based control change rebuilds vmcs02. */
	{
		uint64_t dirty[NVMX_SLOT_WORDS] = { 0 };
		int rip = vmcs12_slot(GUEST_RIP), pin = vmcs12_slot(PIN_BASED_VM_EXEC_CONTROL);

		dirty[rip / 64] |= 1ULL << (rip % 64);
		assert_false(nvmx_slots_meet(dirty, &nvmx_check_set));
		assert_false(nvmx_slots_meet(dirty, &nvmx_merge_set));
		dirty[pin / 64] |= 1ULL << (pin % 64);
		assert_true(nvmx_slots_meet(dirty, &nvmx_check_set));
		assert_true(nvmx_slots_meet(dirty, &nvmx_merge_set));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_field_has_a_policy),
		cmocka_unit_test(test_policy_rules),
		cmocka_unit_test(test_generated_lists),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
