/* SPDX-License-Identifier: BSD-2-Clause */
/* The copy lists and slot sets of the VM-entry emulation and the exit reflection, from the policy table. */
#include "nested/vmcs02_policy.h"
#include "arch/x86/vmcs_fields.h"

struct nvmx_field_ref nvmx_copy_fields[VMCS_FIELD_COUNT], nvmx_save_fields[VMCS_FIELD_COUNT];
size_t nvmx_copy_field_count, nvmx_save_field_count;
struct nvmx_slot_set nvmx_check_set, nvmx_merge_set;

void nvmx_policy_init(void)
{
	nvmx_copy_field_count = nvmx_save_field_count = 0;
	for (size_t i = 0; i < VMCS_FIELD_COUNT; i++) {
		uint16_t flags = nvmx_policy[i];
		uint64_t bit = 1ULL << (i % 64);
		/* Slot i is vmcs_field_table[i]: both follow the one field list. */
		struct nvmx_field_ref ref = { vmcs_field_table[i].encoding, (uint16_t)i };

		if (flags & NP_COPY)
			nvmx_copy_fields[nvmx_copy_field_count++] = ref;
		if (flags & NP_SAVE)
			nvmx_save_fields[nvmx_save_field_count++] = ref;
		if (flags & NP_CHECK)
			nvmx_check_set.w[i / 64] |= bit;
		if (flags & NP_MERGE)
			nvmx_merge_set.w[i / 64] |= bit;
	}
}
