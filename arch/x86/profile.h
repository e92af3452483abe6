/* SPDX-License-Identifier: BSD-2-Clause */
/* Exit-path profile: TSC cycles per phase of umbra's work, in builds made with PROFILE=1. */
#ifndef UMBRA_ARCH_X86_PROFILE_H
#define UMBRA_ARCH_X86_PROFILE_H

#include "core/hypercall.h"
#include "core/types.h"

/*
 * The phases one exit goes through, in order. A probe ends the phase that
 * ran and starts the next; the TSC is read at the probe's start and again
 * at its end, so the probe's own body is in no phase (its call and return
 * are: PROFILE_PROBE_COST per phase interval, measured at start-up and
 * subtracted when reported). The guest phase is timed by the entry/exit
 * stub itself (arch/x86/vmx_entry.asm), right before VMLAUNCH/VMRESUME and
 * right after the exit has saved the guest's registers.
 */
#define PROFILE_PHASES(X)                                                                   \
	X(ENTRY_STUB, "entry_stub", "vmx_enter up to VMLAUNCH/VMRESUME")                  \
	X(GUEST, "guest", "VM entry, the guest (L1 or L2) and the VM exit")              \
	X(EXIT_STUB, "exit_stub", "the exit stub saving registers, back into C")         \
	X(DISPATCH, "dispatch", "exit reason, statistics, RIP update, handler choice")   \
	X(L2_EXIT, "reflection", "an L2 exit in nested/: reflected to L1, or umbra's")    \
	X(VMENTRY, "vmresume_emulation", "L1's VMLAUNCH/VMRESUME emulated (nested/entry.c)") \
	X(HANDLER, "handler", "any other exit handler (L1's CPUID, MSRs, VMX instructions)") \
	X(ENTRY, "entry", "after the handler: pending events, the next vmx_enter")

/*
 * The stub's own TSC reading (rdtsc, shl, or, mov in vmx_entry.asm): four
 * instructions, so four cycles in Bochs, where the TSC counts instructions;
 * each stub interval holds one of them besides half a C probe.
 */
#define PROFILE_ASM_PROBE_COST 4

#define PROFILE_PHASE_ENUM(id, name, desc) PROFILE_##id,
enum profile_phase { PROFILE_PHASES(PROFILE_PHASE_ENUM) PROFILE_PHASE_COUNT };
#undef PROFILE_PHASE_ENUM
_Static_assert(PROFILE_PHASE_COUNT <= UMBRA_PROFILE_PHASES_MAX, "hypercall profile layout");

struct profile {
	uint64_t last;                /* TSC at the end of the last probe */
	uint32_t cur;                 /* the phase running since then */
	uint64_t cycles[PROFILE_PHASE_COUNT];
	uint64_t intervals[PROFILE_PHASE_COUNT];
};

struct vcpu;

#ifdef UMBRA_PROFILE
/* End the running phase, start phase p. */
void profile_phase(struct vcpu *v, enum profile_phase p);
/* After vmx_enter returned: the stub's own TSC readings split entry stub, guest and exit stub. */
void profile_after_guest(struct vcpu *v);
/* Start-up: measure the probes' own cost. */
void profile_init(void);
#else
static inline void profile_phase(struct vcpu *v __unused, enum profile_phase p __unused) {}
static inline void profile_after_guest(struct vcpu *v __unused) {}
static inline void profile_init(void) {}
#endif

/* UMBRA_HC_PROFILE: this build's figures for one CPU, or all added up; false if not profiled. */
bool profile_read(uint64_t cpu, struct umbra_hc_profile *out);

#endif
