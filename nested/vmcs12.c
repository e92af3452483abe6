/* SPDX-License-Identifier: BSD-2-Clause */
/* vmcs12 field access: encodings map to slots through the one field list. */
#include "nested/vmcs12.h"

/* Encodings that index beyond this are not in the list (Appendix B's highest index is 0x19). */
#define INDEX_LIMIT 32

/*
 * slot + 1 by [width][type][index]; 0 = not a field. Built from VMCS_FIELDS
 * at compile time, so a field added to the list is a field of vmcs12.
 */
#define SLOT_INDEX(name, enc) SLOT_##name,
enum { VMCS_FIELDS(SLOT_INDEX) SLOT_COUNT };
#undef SLOT_INDEX
_Static_assert((int)SLOT_COUNT == (int)VMCS_FIELD_COUNT, "one slot per listed field");
/* Slot i is vmcs_field_table[i] (both in list order): nested/entry.c relies on it. */

#define SLOT_INIT(name, enc) [VMCS_FIELD_WIDTH(enc)][VMCS_FIELD_TYPE(enc)][VMCS_FIELD_INDEX(enc)] = SLOT_##name + 1,
static const uint8_t slots[4][4][INDEX_LIMIT] = { VMCS_FIELDS(SLOT_INIT) };
#undef SLOT_INIT

int vmcs12_slot(uint32_t encoding)
{
	uint32_t w = VMCS_FIELD_WIDTH(encoding), t = VMCS_FIELD_TYPE(encoding);
	uint32_t i = VMCS_FIELD_INDEX(encoding);

	if (VMCS_FIELD_RESERVED_BITS(encoding) || i >= INDEX_LIMIT)
		return -1;
	/* Only 64-bit fields have a HIGH access (SDM Vol. 3C 24.11.2). */
	if (VMCS_FIELD_HIGH_ACCESS(encoding) && w != VMCS_WIDTH_64)
		return -1;
	return (int)slots[w][t][i] - 1;
}

static uint64_t width_mask(uint32_t encoding)
{
	switch (VMCS_FIELD_WIDTH(encoding)) {
	case VMCS_WIDTH_16: return 0xffff;
	case VMCS_WIDTH_32: return 0xffffffff;
	default: return ~0ULL;
	}
}

uint64_t vmcs12_read(const struct vmcs12 *v, uint32_t encoding)
{
	int s = vmcs12_slot(encoding);

	if (s < 0)
		return 0;
	if (VMCS_FIELD_HIGH_ACCESS(encoding))
		return v->fields[s] >> 32;
	return v->fields[s] & width_mask(encoding);
}

void vmcs12_write(struct vmcs12 *v, uint32_t encoding, uint64_t value)
{
	int s = vmcs12_slot(encoding);

	if (s < 0)
		return;
	if (VMCS_FIELD_HIGH_ACCESS(encoding))
		v->fields[s] = (v->fields[s] & 0xffffffffULL) | (value << 32);
	else
		v->fields[s] = value & width_mask(encoding);
}
