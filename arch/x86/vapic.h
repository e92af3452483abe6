/* SPDX-License-Identifier: BSD-2-Clause */
/* INIT and SIPI between the guest's CPUs, emulated from its ICR writes. */
#ifndef UMBRA_ARCH_X86_VAPIC_H
#define UMBRA_ARCH_X86_VAPIC_H

#include "arch/x86/vcpu.h"

#define MSR_X2APIC_ICR 0x830

/*
 * Why umbra intercepts ICR writes instead of letting the hardware deliver
 * INIT and SIPI to APs parked in the wait-for-SIPI activity state (the
 * design's first plan): Bochs 2.7 takes the SIPI VM exit in the sending
 * CPU's context and the AP never runs (docs/bochs.md). Emulating the two
 * IPIs works the same on every platform: an AP waits in umbra (VMX root)
 * until the guest sends it INIT then SIPI, and an INIT to a running AP
 * brings it back there (SDM Vol. 3A 8.4.4.1, 10.6.1).
 */

/* The guest-physical page of the local APIC, mapped read-only so that writes exit. */
uint64_t vapic_mmio_page(void);

/* Set up once (BSP): where the APIC is. */
void vapic_init(void);

/*
 * An EPT violation (qualification q) at gpa: false when gpa is not on the
 * APIC page. On it, a data store by the instruction at RIP (MOV, XCHG:
 * arch/x86/insn.h) is emulated and RIP moved past it; anything else stops
 * the guest with a report naming the instruction bytes.
 */
bool vapic_mmio_write(struct vcpu *v, uint64_t gpa, uint64_t q);

/* WRMSR to IA32_APIC_BASE: false means #GP (the policy is in vapic.c). */
bool vapic_apic_base_write(struct vcpu *v, uint64_t value);

/* WRMSR to the x2APIC ICR. */
void vapic_x2apic_icr_write(struct vcpu *v, uint64_t value);

/* Before entry: an INIT addressed to this CPU while it ran. Returns true if it must wait now. */
bool vapic_take_init(struct vcpu *v);

/* Wait in VMX root for the SIPI that starts this CPU, then set its real-mode entry state. */
void vapic_wait_for_sipi(struct vcpu *v);

/* An NMI that only kicked this CPU out of the guest (true): not the guest's. */
bool vapic_take_kick(struct vcpu *v);

#endif
