/* SPDX-License-Identifier: BSD-2-Clause */
/* The VMCS fields L1 reaches through the shadow VMCS without a VM exit. */

/*
 * One line per field: SHADOW_FIELD_RW (VMREAD and VMWRITE without exit) or
 * SHADOW_FIELD_RO (VMREAD without exit; a VMWRITE exits and umbra updates
 * vmcs12 and the shadow). Adding or removing a field is a one-line change;
 * tests/unit/test_shadow.c checks the list against the VMCS field list.
 *
 * Never shadowed: fields umbra itself changes while emulating a VMX
 * instruction, because L1 would read a stale copy from the shadow:
 * VM_INSTRUCTION_ERROR (written by every VMfailValid), and nothing L0
 * derives at VM entry (VMCS_LINK_POINTER, whose value umbra checks).
 * The list follows what a KVM-like L1 touches on every exit and entry.
 *
 * After a reflected exit vmcs02 itself is L1's shadow (docs/design.md):
 * there L1 reaches only the entries whose value vmcs02 holds as L1's (L2
 * state the exit saves, exit information, the host fields umbra swaps);
 * the first access to any other entry exits once and moves L1 back onto
 * umbra's own shadow, where the whole list applies (nested.shadow=classic
 * keeps L1 there always).
 *
 * Include with SHADOW_FIELD_RW and SHADOW_FIELD_RO defined.
 */
#if !defined(SHADOW_FIELD_RW) || !defined(SHADOW_FIELD_RO)
#error "define SHADOW_FIELD_RW and SHADOW_FIELD_RO before including shadow_fields.h"
#endif

/* Exit information: written by umbra at each reflected exit (SDM Vol. 3C 24.9). */
SHADOW_FIELD_RO(VM_EXIT_REASON)
SHADOW_FIELD_RO(EXIT_QUALIFICATION)
SHADOW_FIELD_RO(VM_EXIT_INSTRUCTION_LEN)
SHADOW_FIELD_RO(VM_EXIT_INTR_INFO)
SHADOW_FIELD_RO(VM_EXIT_INTR_ERROR_CODE)
SHADOW_FIELD_RO(IDT_VECTORING_INFO)
SHADOW_FIELD_RO(IDT_VECTORING_ERROR_CODE)
SHADOW_FIELD_RO(VMX_INSTRUCTION_INFO)
SHADOW_FIELD_RO(GUEST_LINEAR_ADDRESS)
SHADOW_FIELD_RO(GUEST_PHYSICAL_ADDRESS)

/* L2 state an exit handler reads and updates. */
SHADOW_FIELD_RW(GUEST_RIP)
SHADOW_FIELD_RW(GUEST_RSP)
SHADOW_FIELD_RW(GUEST_RFLAGS)
SHADOW_FIELD_RW(GUEST_CR0)
SHADOW_FIELD_RW(GUEST_CR3)
SHADOW_FIELD_RW(GUEST_CR4)
SHADOW_FIELD_RW(GUEST_INTERRUPTIBILITY_INFO)
SHADOW_FIELD_RW(GUEST_CS_SELECTOR)
SHADOW_FIELD_RW(GUEST_CS_AR_BYTES)
/* KVM with unrestricted guest reads it at every I/O exit of a real-mode L2 (its linear RIP). */
SHADOW_FIELD_RW(GUEST_CS_BASE)
SHADOW_FIELD_RW(GUEST_SS_AR_BYTES)
SHADOW_FIELD_RW(GUEST_IA32_EFER)

/* Event injection and the controls an L1 flips between entries. */
SHADOW_FIELD_RW(VM_ENTRY_INTR_INFO)
SHADOW_FIELD_RW(VM_ENTRY_EXCEPTION_ERROR_CODE)
SHADOW_FIELD_RW(VM_ENTRY_INSTRUCTION_LEN)
SHADOW_FIELD_RW(CPU_BASED_VM_EXEC_CONTROL)
SHADOW_FIELD_RW(EXCEPTION_BITMAP)
SHADOW_FIELD_RW(CR0_READ_SHADOW)
SHADOW_FIELD_RW(CR4_READ_SHADOW)
SHADOW_FIELD_RW(TSC_OFFSET)

/* Host state an L1 refreshes before entries (its stack, its FS/GS bases). */
SHADOW_FIELD_RW(HOST_RSP)
SHADOW_FIELD_RW(HOST_RIP)
SHADOW_FIELD_RW(HOST_FS_BASE)
SHADOW_FIELD_RW(HOST_GS_BASE)
