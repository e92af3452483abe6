/* SPDX-License-Identifier: BSD-2-Clause */
/* Virtual VMCSs (vmcs12): L1's VMCSs, field storage generated from the VMCS field list. */
#ifndef UMBRA_NESTED_VMCS12_H
#define UMBRA_NESTED_VMCS12_H

#include "arch/x86/vmcs_fields.h"
#include "core/types.h"

/*
 * umbra's format of a VMCS region in L1's memory (SDM Vol. 3C 24.2 leaves
 * the format to the implementation). While a VMCS is current its copy
 * lives in umbra's memory; VMCLEAR, VMPTRLD of another VMCS and VMXOFF
 * write it back, so L1 can keep any number of VMCSs.
 */
struct vmcs12 {
	uint32_t revision;     /* bits 30:0 revision, bit 31 shadow-VMCS indicator (written by L1) */
	uint32_t abort;        /* VMX-abort indicator */
	uint32_t magic;        /* VMCS12_MAGIC when umbra wrote the rest */
	uint32_t launch_state; /* spill of the launched-VMCS list (nested/launched.h) */
	uint64_t fields[VMCS_FIELD_COUNT];
};

#define VMCS12_MAGIC 0x32316d76u /* "vm12" */

_Static_assert(sizeof(struct vmcs12) <= 4096, "a vmcs12 fits in a VMCS region");

/* Slot of a field in vmcs12.fields for an encoding (HIGH accesses included); -1 if unsupported. */
int vmcs12_slot(uint32_t encoding);

/*
 * VMREAD/VMWRITE semantics on the stored value (SDM Vol. 3C 30.3): the
 * value is truncated to the field's width; a HIGH access reads or writes
 * bits 63:32 of its 64-bit field.
 */
uint64_t vmcs12_read(const struct vmcs12 *v, uint32_t encoding);
void vmcs12_write(struct vmcs12 *v, uint32_t encoding, uint64_t value);

/*
 * slot + 1 by [width][type][index] (0 = not a listed field), from the one
 * field list. Visible here so that a constant encoding folds to its slot at
 * compile time: umbra's own accesses by field name cost one load or store.
 */
#define VMCS12_INDEX_LIMIT 32 /* Appendix B's highest index is 0x19 */
#define VMCS12_SLOT_INIT(name, enc) \
	[VMCS_FIELD_WIDTH(enc)][VMCS_FIELD_TYPE(enc)][VMCS_FIELD_INDEX(enc)] = VMCS12_SLOT_##name + 1,
#define VMCS12_SLOT_ENUM(name, enc) VMCS12_SLOT_##name,
enum vmcs12_slot_index { VMCS_FIELDS(VMCS12_SLOT_ENUM) VMCS12_SLOT_COUNT };
static const uint8_t vmcs12_slot_table[4][4][VMCS12_INDEX_LIMIT] = { VMCS_FIELDS(VMCS12_SLOT_INIT) };
#undef VMCS12_SLOT_INIT
#undef VMCS12_SLOT_ENUM
_Static_assert((int)VMCS12_SLOT_COUNT == (int)VMCS_FIELD_COUNT, "one slot per listed field");
_Static_assert(VMCS_FIELD_COUNT < 255, "slots fit the uint8_t table");

static __always_inline uint64_t vmcs12_width_mask(uint32_t encoding)
{
	return VMCS_FIELD_WIDTH(encoding) == VMCS_WIDTH_16   ? 0xffff :
	       VMCS_FIELD_WIDTH(encoding) == VMCS_WIDTH_32   ? 0xffffffff :
							       ~0ULL;
}

/* A field's value in its slot's 64 bits, and the slot after a write (width and HIGH access applied). */
static __always_inline uint64_t vmcs12_slot_value(uint64_t slot, uint32_t encoding)
{
	if (VMCS_FIELD_HIGH_ACCESS(encoding))
		return slot >> 32;
	return slot & vmcs12_width_mask(encoding);
}

static __always_inline uint64_t vmcs12_slot_update(uint64_t slot, uint32_t encoding, uint64_t value)
{
	if (VMCS_FIELD_HIGH_ACCESS(encoding))
		return (slot & 0xffffffffULL) | (value << 32);
	return value & vmcs12_width_mask(encoding);
}

/* Fields are stored truncated to their width, so a full-field read is the stored value. */
static __always_inline uint64_t vmcs12_get(const struct vmcs12 *v, uint32_t encoding)
{
	if (__builtin_constant_p(encoding) && !VMCS_FIELD_HIGH_ACCESS(encoding) &&
	    VMCS_FIELD_INDEX(encoding) < VMCS12_INDEX_LIMIT && !VMCS_FIELD_RESERVED_BITS(encoding)) {
		int s = (int)vmcs12_slot_table[VMCS_FIELD_WIDTH(encoding)][VMCS_FIELD_TYPE(encoding)]
					      [VMCS_FIELD_INDEX(encoding)] - 1;

		return s >= 0 ? v->fields[s] : 0;
	}
	return vmcs12_read(v, encoding);
}

static __always_inline void vmcs12_set(struct vmcs12 *v, uint32_t encoding, uint64_t value)
{
	if (__builtin_constant_p(encoding) && !VMCS_FIELD_HIGH_ACCESS(encoding) &&
	    VMCS_FIELD_INDEX(encoding) < VMCS12_INDEX_LIMIT && !VMCS_FIELD_RESERVED_BITS(encoding)) {
		int s = (int)vmcs12_slot_table[VMCS_FIELD_WIDTH(encoding)][VMCS_FIELD_TYPE(encoding)]
					      [VMCS_FIELD_INDEX(encoding)] - 1;

		if (s >= 0)
			v->fields[s] = value & vmcs12_width_mask(encoding);
		return;
	}
	vmcs12_write(v, encoding, value);
}

/* By field name, for umbra's own use (the field must be in the list). */
#define VMCS12_GET(v, f) vmcs12_get((v), (f))
#define VMCS12_SET(v, f, x) vmcs12_set((v), (f), (x))

#endif
