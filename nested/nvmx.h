/* SPDX-License-Identifier: BSD-2-Clause */
/* Nested VMX: per-vCPU state of L1's VMX operation and the pieces of nested/. */
#ifndef UMBRA_NESTED_NVMX_H
#define UMBRA_NESTED_NVMX_H

#include "arch/x86/exit.h"
#include "arch/x86/vcpu.h"
#include "core/percpu.h"
#include "nested/ept02.h"
#include "nested/launched.h"
#include "nested/shadow.h"
#include "nested/vmcs12.h"

#define NVMX_NO_VMCS (~0ULL)

struct nvmx {
	bool vmxon;              /* L1 is in VMX operation */
	uint64_t vmxon_ptr;      /* its VMXON region */
	uint64_t current;        /* current VMCS (L1 physical), NVMX_NO_VMCS when none */
	struct vmcs12 vmcs12;    /* the current VMCS's content, while current */
	struct launched_list launched;
	uint64_t vmcs02_for;     /* the vmcs12 vmcs02 was last launched for */
	bool pending_launch;     /* VMLAUNCH: mark launched once the entry succeeded */
	/*
	 * vmcs02 is entering with the one-entry list that always fails, so that
	 * the CPU checks L2's guest state before L1's VM-entry MSR-load list is
	 * loaded (nested/entry.c, nvmx_l2_exit()).
	 */
	bool msr_list_probe;
	/*
	 * vmcs12 fields L1 changed since vmcs02 was last written (by slot); a
	 * VMRESUME rewrites only those when it can (nested/entry.c).
	 */
	uint64_t dirty[(VMCS_FIELD_COUNT + 63) / 64];
	bool vmcs02_stale;       /* rewrite vmcs02 completely (and check vmcs12) at the next entry */
	bool checked_l1_long;    /* L1's IA-32e mode when vmcs12's checks last passed */
	uint64_t msr_bitmap02;   /* vmcs02's MSR bitmap: L1's merged with umbra's (nested/entry.c) */
	uint16_t vpid02_owner;   /* L1's VPID whose translations vmcs02's VPID holds; 0: none */
	struct ept02_cache ept02; /* shadow EPTs for L2s on L1's EPT (nested/ept02.c) */
	uint64_t vapic_scratch;  /* L2's virtual-APIC page when L1's is not L1's RAM */
	/* VMCS shadowing (nested/shadow.c) */
	uint64_t shadow_pa;      /* this vCPU's shadow VMCS, 0 when shadowing is off */
	uint64_t shadow_cache[SHADOW_FIELDS_MAX]; /* what the shadow holds, per table entry */
	bool shadow_cache_valid;
	enum shadow_link l1_link; /* what vmcs01's link pointer names */
	/*
	 * vmcs02 is L1's shadow VMCS (nested/shadow.h): clear, marked a shadow,
	 * linked from vmcs01, with L1's host fields in place of umbra's (kept
	 * in umbra_host02) while L1 runs after a reflected exit.
	 */
	bool vmcs02_is_shadow;
	uint64_t umbra_host02[SHADOW_HOST02_MAX];
	/*
	 * vmcs12's saved L2 state (NP_SAVE) and exit information are stale:
	 * their values are vmcs02's (L2 ran since, or L1 reads them there).
	 * nvmx_sync12() copies them. Invariant: while L1 runs, stale12 implies
	 * vmcs02_is_shadow (docs/design.md).
	 */
	bool stale12;
	/* What is left of L2's VMX-preemption timer as umbra last saw it (nvmx_l2_exit()). */
	uint32_t timer_left;
	/* Field-access statistics: VMREAD/VMWRITE exits per vmcs12 slot. */
	uint32_t vmread_exits[VMCS_FIELD_COUNT], vmwrite_exits[VMCS_FIELD_COUNT];
};


/*
 * The VPID of vmcs02 when L1 enables VPID for L2: one per vCPU, after the
 * VPIDs of vmcs01 (1..MAX_CPUS; 0 is VMX root's). Every VPID of L1 maps
 * onto it; it is flushed whenever it starts serving another of L1's VPIDs
 * and at each INVVPID of L1's (nested/entry.c, nested/insn.c).
 */
#define NVMX_VPID02(v) ((uint16_t)(MAX_CPUS + 1 + (v)->index))

/*
 * nested/reflect.c: reflect the exit L2 just took to L1 as reason, with
 * qualification qual instead of the CPU's (nested EPT: L1's permissions).
 */
void nvmx_reflect_with(struct vcpu *v, uint32_t reason, uint64_t qual);
/* An EPT violation umbra found for L2 (an operand it accessed through L1's EPT), to L1 (27.2.1). */
void nvmx_reflect_ept_violation(struct vcpu *v, uint64_t qual, uint64_t gpa, uint64_t gla);

/* Drop every translation vmcs02's VPID holds (single-context INVVPID, or all-context on a CPU without it). */
void nvmx_flush_vpid02(struct vcpu *v);

/* This vCPU's nested state (nvmx_of_cpu before the vCPU is initialised). */
struct nvmx *nvmx_of(struct vcpu *v);
struct nvmx *nvmx_of_cpu(uint32_t index);

/* Install the nested_ops (BSP, once, after vmx_msrs_init). */
void nvmx_init(void);

/* vmcs01: intercept CR0/CR4 fixed bits while L1 is in VMX operation (SDM Vol. 3C 23.8). */
void nvmx_cr_intercept(bool vmx_operation);

/*
 * nested/reflect.c: L1 continues in vmcs12's host state (SDM Vol. 3C 27.5);
 * l2_ran: the exit is not a failed entry; vmcs02_shadow: vmcs02 becomes
 * L1's shadow VMCS on the way (shadow_vmcs02_enter()). vmcs01 is current after.
 */
void nvmx_load_l1_host_state(struct vcpu *v, struct nvmx *n, bool l2_ran, bool vmcs02_shadow);

/* nested/reflect.c: vmcs12's saved L2 state and exit information from vmcs02 if stale (current VMCS kept). */
void nvmx_sync12(struct vcpu *v, struct nvmx *n);
/* ... and L1 goes on with umbra's own shadow VMCS (vmcs01 current before and after). */
void nvmx_l1_view_own(struct vcpu *v, struct nvmx *n);

/*
 * nested/msr_lists.c: L1's MSR lists, walked by umbra with the current
 * VMCS's guest as the context. Each returns the failing entry, counting
 * from 1 (SDM Vol. 3C 26.4, 27.4, 27.6), or 0.
 */
uint32_t nvmx_msr_list_max(void); /* 512 * (IA32_VMX_MISC[27:25] + 1), SDM Vol. 3C A.6 */
uint32_t nvmx_msr_list_load(uint64_t addr, uint64_t count);
uint32_t nvmx_msr_list_store(uint64_t addr, uint64_t count);

/* nested/insn.c */
enum exit_action nvmx_vmx_instruction(struct vcpu *v, uint32_t reason, uint64_t qual);
bool nvmx_vmcall_in_root(struct vcpu *v, enum exit_action *action);

/* nested/entry.c: emulated VMLAUNCH/VMRESUME, after the instruction checks. */
enum exit_action nvmx_enter_l2(struct vcpu *v, bool launch);

/*
 * nested/msr_lists.c: L2's RDMSR/WRMSR of msr exits to L1 (L1's "use MSR
 * bitmaps" off, or its bitmap's bit set, SDM Vol. 3C 25.1.3). False: the
 * exit is umbra's own (an MSR umbra owns that L1 lets L2 reach).
 */
bool nvmx_l1_wants_msr_exit(const struct vmcs12 *c, uint32_t msr, bool write);
/* vmcs02's MSR bitmap = L1's | umbra's, written into n->msr_bitmap02 (SDM Vol. 3C 24.6.9). */
void nvmx_merge_msr_bitmap(struct nvmx *n, uint64_t l1_bitmap);
/* Once, after vm_init() built umbra's MSR bitmap: which of its words the merge ORs in. */
void nvmx_msr_bitmap_init(void);

/* nested/reflect.c */
/*
 * A VM entry that fails after the checks of 26.2 (SDM Vol. 3C 26.8): exit
 * reason "VM-entry failure" | basic, no guest state saved, L1 continues in
 * its host state with its VM-exit MSR-load list applied.
 */
void nvmx_entry_failure(struct vcpu *v, struct nvmx *n, uint32_t basic, uint64_t qual);
/* A VM-entry MSR-load list of one entry that always fails (SDM 26.4: bits 63:32 set). */
extern uint64_t nvmx_failing_msr_list;
bool nvmx_l2_exit(struct vcpu *v, uint32_t reason, uint64_t qual);
/* L2's VMREAD/VMWRITE under L1's VMCS shadowing (nested/insn.c); false: the exit is L1's. */
bool nvmx_l2_shadow_access(struct vcpu *v, struct nvmx *n, bool write, uint64_t qual);
void nvmx_l2_entry_failed(struct vcpu *v, uint32_t err);
bool nvmx_init_signal(struct vcpu *v);
bool nvmx_l1_nmi_exiting(struct vcpu *v);
bool nvmx_l1_virtual_nmis(struct vcpu *v);
void nvmx_nmi_exit(struct vcpu *v);

/* L1 changed a vmcs12 field (trapped VMWRITE or through the shadow). */
static inline void nvmx_mark_dirty(struct nvmx *n, uint32_t encoding)
{
	int s = vmcs12_slot(encoding);

	if (s >= 0)
		n->dirty[s / 64] |= 1ULL << (s % 64);
}

/* VMX instruction outcomes for L1 (SDM Vol. 3C 30.2): RFLAGS and VM_INSTRUCTION_ERROR. */
void nvmx_succeed(void);
void nvmx_fail_invalid(void);
void nvmx_fail(struct vcpu *v, uint32_t err); /* VMfailValid if a VMCS is current, else VMfailInvalid */

#endif
