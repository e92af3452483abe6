/* SPDX-License-Identifier: BSD-2-Clause */
/* VMCS shadowing for L1 (SDM Vol. 3C 24.10, 30.3; the seed series' fourth patch). */
#ifndef UMBRA_NESTED_SHADOW_H
#define UMBRA_NESTED_SHADOW_H

#include "arch/x86/vmx_caps.h"
#include "core/types.h"

struct vcpu;
struct nvmx;

/* Room for the list in nested/shadow_fields.h (a build-time check keeps it honest). */
#define SHADOW_FIELDS_MAX 80

/* The shadowed fields, generated from nested/shadow_fields.h. */
struct shadow_field {
	uint32_t encoding;
	bool read_write;
};

extern const struct shadow_field shadow_field_table[];
extern const size_t shadow_field_count;

/*
 * Decide once (BSP): shadowing works when the CPU has it, allows VMWRITE to
 * any field (IA32_VMX_MISC bit 29) and `want` (nested.shadow=on). Builds the
 * VMREAD/VMWRITE bitmaps and one shadow VMCS per vCPU. Logs the decision.
 */
void shadow_init(const struct vmx_caps *caps, bool want, uint32_t vcpus);
bool shadow_enabled(void);

/* Fill the VMREAD/VMWRITE bitmaps (4 KiB each) from the table; for unit tests too. */
void shadow_build_bitmaps(uint8_t *vmread_bitmap, uint8_t *vmwrite_bitmap, uint32_t max_index);

#ifndef UMBRA_HOST_TEST
/* vmcs01 (current): link L1's current vmcs12 through the shadow, or unlink (no current VMCS). */
void shadow_link(struct vcpu *v, struct nvmx *n);
void shadow_unlink(struct vcpu *v);
/* Read the read-write fields L1 may have changed back into vmcs12 (VMLAUNCH, VMRESUME, flush). */
void shadow_to_vmcs12(struct vcpu *v, struct nvmx *n);
/* Write the shadowed fields that differ from what the shadow holds (after a reflected exit). */
void shadow_from_vmcs12(struct vcpu *v, struct nvmx *n);
/* The same for one field (a VMWRITE that exited: a read-only field the shadow also holds). */
void shadow_write_field(struct vcpu *v, struct nvmx *n, uint32_t encoding);
#endif

#endif
