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

/* L1's host-state fields vmcs02 holds while it is L1's shadow (a build-time bound). */
#define SHADOW_HOST02_MAX 8

/* How L1 reaches a shadowed field: its VMREAD and VMWRITE exit, only its VMWRITE does, or neither. */
enum shadow_access { SHADOW_NONE, SHADOW_READ, SHADOW_READ_WRITE };

/* What vmcs01's VMCS link pointer names while L1 has a current VMCS. */
enum shadow_link {
	SHADOW_LINK_NONE,   /* nothing: no current vmcs12, or shadowing off */
	SHADOW_LINK_OWN,    /* umbra's shadow VMCS (nvmx.shadow_pa), a copy of vmcs12's table fields */
	SHADOW_LINK_VMCS02, /* vmcs02 itself, after a reflected exit (shadow_vmcs02_enter()) */
};

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
 * VMREAD/VMWRITE bitmaps and one shadow VMCS per vCPU. vmcs02: vmcs02 may be
 * L1's shadow after reflected exits (nested.shadow=on; =classic: never).
 * Logs the decision.
 */
void shadow_init(const struct vmx_caps *caps, bool want, bool vmcs02, uint32_t vcpus);
bool shadow_enabled(void);

/* Fill the VMREAD/VMWRITE bitmaps (4 KiB each) from the table; for unit tests too. */
void shadow_build_bitmaps(uint8_t *vmread_bitmap, uint8_t *vmwrite_bitmap, uint32_t max_index);

#ifndef UMBRA_HOST_TEST
/*
 * vmcs01 (current): link L1's current vmcs12 through umbra's own shadow
 * (filled from vmcs12), or unlink (no current VMCS).
 */
void shadow_link(struct vcpu *v, struct nvmx *n);
void shadow_unlink(struct vcpu *v, struct nvmx *n);
/*
 * Read the read-write fields L1 may have changed through umbra's own shadow
 * back into vmcs12 (VMLAUNCH, VMRESUME, flush); nothing while vmcs02 is
 * the shadow (shadow_vmcs02_leave() does that). The current VMCS stays.
 */
void shadow_to_vmcs12(struct vcpu *v, struct nvmx *n);
/* Write the shadowed fields that differ from what umbra's shadow holds. */
void shadow_from_vmcs12(struct vcpu *v, struct nvmx *n);
/* The same, and vmcs01 (current) links umbra's shadow again if it linked vmcs02. */
void shadow_attach_own(struct vcpu *v, struct nvmx *n);
/* The same for one field (a VMWRITE that exited: a read-only field the shadow also holds). */
void shadow_write_field(struct vcpu *v, struct nvmx *n, uint32_t encoding);

/*
 * vmcs02 as L1's shadow VMCS (docs/design.md): after a reflected exit L1
 * reads L2's state and the exit information in vmcs02 itself, so neither
 * is copied. wanted: shadowing is on, nested.shadow is not "classic", and
 * umbra's own shadow is set up for the current vmcs12.
 * enter (vmcs02 current): L1's host fields into vmcs02, VMCLEAR it, mark
 *   it a shadow VMCS; nothing is current afterwards.
 * link (vmcs01 current): vmcs01's link pointer and bitmaps name vmcs02.
 * leave (vmcs02 a shadow): an ordinary VMCS again, and current; what L1
 *   may have written there, and the saved L2 state entry reads, back into
 *   vmcs12 (a changed host field marks it dirty); umbra's host fields back.
 *   vmcs01's link pointer then names a VMCS that is not a shadow: L1 must
 *   not run before it links a shadow again (nested/reflect.c).
 */
bool shadow_vmcs02_wanted(const struct nvmx *n);
void shadow_vmcs02_enter(struct vcpu *v, struct nvmx *n);
void shadow_vmcs02_link(struct vcpu *v, struct nvmx *n);
void shadow_vmcs02_leave(struct vcpu *v, struct nvmx *n);
#endif

#endif
