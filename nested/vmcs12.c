/* SPDX-License-Identifier: BSD-2-Clause */
/* vmcs12 field access: encodings map to slots through the one field list. */
#include "nested/vmcs12.h"

/* Slot i is vmcs_field_table[i] (both in list order): nested/entry.c relies on it. */

int vmcs12_slot(uint32_t encoding)
{
	uint32_t w = VMCS_FIELD_WIDTH(encoding), t = VMCS_FIELD_TYPE(encoding);
	uint32_t i = VMCS_FIELD_INDEX(encoding);

	if (VMCS_FIELD_RESERVED_BITS(encoding) || i >= VMCS12_INDEX_LIMIT)
		return -1;
	/* Only 64-bit fields have a HIGH access (SDM Vol. 3C 24.11.2). */
	if (VMCS_FIELD_HIGH_ACCESS(encoding) && w != VMCS_WIDTH_64)
		return -1;
	return (int)vmcs12_slot_table[w][t][i] - 1;
}

uint64_t vmcs12_read(const struct vmcs12 *v, uint32_t encoding)
{
	int s = vmcs12_slot(encoding);

	return s < 0 ? 0 : vmcs12_slot_value(v->fields[s], encoding);
}

void vmcs12_write(struct vmcs12 *v, uint32_t encoding, uint64_t value)
{
	int s = vmcs12_slot(encoding);

	if (s >= 0)
		v->fields[s] = vmcs12_slot_update(v->fields[s], encoding, value);
}
