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

/* By field name, for umbra's own use (the field must be in the list). */
#define VMCS12_GET(v, f) vmcs12_read((v), (f))
#define VMCS12_SET(v, f, x) vmcs12_write((v), (f), (x))

#endif
