/* SPDX-License-Identifier: BSD-2-Clause */
/* The VMX capability MSRs L1 reads: only what umbra emulates for it. */
#ifndef UMBRA_NESTED_VMX_MSRS_H
#define UMBRA_NESTED_VMX_MSRS_H

#include "arch/x86/vmx_caps.h"
#include "core/types.h"

/* umbra's own VMCS revision identifier for L1's virtual VMCSs (bit 31 clear). */
#define NVMX_VMCS_REVISION 0x756d6272u /* "rbmu" */
/* Bit 31 of a VMCS region's revision word: a shadow VMCS (SDM Vol. 3C 24.2, 24.10). */
#define NVMX_SHADOW_VMCS_INDICATOR 0x80000000u

/* Build the virtual MSR values once, from the real capabilities (BSP). */
void vmx_msrs_init(const struct vmx_caps *real);

/* Log the capabilities L1 reads, decoded as umbra's own ("nested: L1 VMX: ..."; docs/nested-vmx.md). */
void vmx_msrs_report(void);

/*
 * Value of a virtual MSR for RDMSR by L1: IA32_FEATURE_CONTROL and
 * IA32_VMX_BASIC .. IA32_VMX_VMFUNC. False when the MSR does not exist
 * for L1 (the caller injects #GP, SDM Vol. 4).
 */
bool vmx_msr_read(uint32_t msr, uint64_t *value);

#endif
