/* SPDX-License-Identifier: BSD-2-Clause */
/* VM-exit handling for the L1 guest: dispatch table, handlers, event injection. */
#ifndef UMBRA_ARCH_X86_EXIT_H
#define UMBRA_ARCH_X86_EXIT_H

#include "arch/x86/vcpu.h"

/* What a handler wants done with the instruction that exited. */
enum exit_action {
	EXIT_RESUME,    /* enter the guest again, RIP unchanged */
	EXIT_SKIP_INSN, /* the instruction is done: advance RIP past it */
};

/*
 * What exit_stats_report() prints: the versioned "ustat" records for
 * tools/umbra-stat (docs/research.md), or the human table (the top
 * STATS_TOP_FIELDS trapped fields per CPU, or all of them with stats=full).
 */
enum stats_report {
	STATS_RECORDS,
	STATS_TABLE,
	STATS_TABLE_FULL,
};
#define STATS_FORMAT_VERSION 1
#define STATS_TOP_FIELDS 10

/*
 * Nested VMX plugs in here (nested/ uses arch/x86, never the reverse). Left
 * NULL, VMX instructions raise #UD and the IA32_VMX_* MSRs do not exist.
 */
struct nested_ops {
	/* A VMX instruction from L1 (VMXON ... VMFUNC, INVEPT, INVVPID). */
	enum exit_action (*vmx_instruction)(struct vcpu *v, uint32_t reason, uint64_t qual);
	/* An exit while L2 ran: true when nested/ dealt with it (reflected to L1 or emulated). */
	bool (*l2_exit)(struct vcpu *v, uint32_t reason, uint64_t qual);
	/* VMLAUNCH/VMRESUME of vmcs02 failed with VMfailValid(err): tell L1. */
	void (*l2_entry_failed)(struct vcpu *v, uint32_t err);
	/* RDMSR of IA32_FEATURE_CONTROL or IA32_VMX_*: false means #GP. */
	bool (*msr_read)(uint32_t msr, uint64_t *value);
	/* Per-field VMREAD/VMWRITE exit counts for the hypercall: entries written (at most max). */
	size_t (*field_stats)(uint64_t cpu, struct umbra_hc_field_stat *out, size_t max);
	/* Shutdown statistics: VMREAD/VMWRITE exits per field and vCPU, as records or the table. */
	void (*report_fields)(enum stats_report how);
	/*
	 * An INIT is pending for this vCPU: true when nested/ took care of it
	 * (an INIT-signal exit to L1 while L2 ran, or held pending while L1 is
	 * in VMX root operation, SDM Vol. 3C 23.8 and 25.2).
	 */
	bool (*init_signal)(struct vcpu *v);
	/* L2 runs and L1 asked for NMI exiting: a guest's NMI now is L1's (SDM Vol. 3C 25.2). */
	bool (*l1_nmi_exiting)(struct vcpu *v);
	/* ... and L1 uses virtual NMIs for L2 (bit 3 of L2's interruptibility is then virtual). */
	bool (*l1_virtual_nmis)(struct vcpu *v);
	/* Reflect an NMI exit to L1 (reason 0, NMI), L2 stopped where vmcs02 holds it. */
	void (*nmi_exit)(struct vcpu *v);
	/* MOV to CR0/CR4 by L1: false when VMX operation forbids the value (#GP). */
	bool (*cr_write_allowed)(struct vcpu *v, unsigned int cr, uint64_t value);
	/*
	 * A VMCALL from L1 that is not one of umbra's hypercalls: true when L1
	 * is in VMX root operation and nested/ gave it the SDM's answer
	 * (*action says what to do with the instruction).
	 */
	bool (*vmcall_in_root)(struct vcpu *v, enum exit_action *action);
};

extern const struct nested_ops *nested_ops;

/* Advance RIP past the instruction that exited, then exit_instruction_retired(). */
void exit_skip_instruction(void);

/*
 * An instruction umbra emulated retired (RIP already moves past it): any
 * STI/MOV-SS shadow ends, and with RFLAGS.TF set (IA32_DEBUGCTL.BTF clear)
 * its single-step trap is pending, as the CPU would have raised it (SDM
 * Vol. 3B 17.3.1.4): BS goes into the pending debug exceptions, which VM
 * entry delivers before the next instruction (SDM Vol. 3C 26.7.3).
 */
void exit_instruction_retired(void);

/* I/O ports umbra intercepts (emulator exit ports), for the I/O bitmaps. */
extern const uint16_t exit_io_ports[];
extern const size_t exit_io_port_count;

/*
 * An NMI reached umbra (a VM exit, or an interrupt in VMX root): umbra's
 * own stop request (panic, shutdown), umbra's INIT kick, or the guest's NMI
 * to deliver at the next entry.
 */
void exit_nmi(struct vcpu *v);
/* umbra's part of an NMI (panic, shutdown: no return); true when it was umbra's INIT kick. */
bool exit_nmi_is_umbras(struct vcpu *v);

/* Before every VM entry: deliver what is pending (NMIs). */
void exit_prepare_entry(struct vcpu *v);
/* VMLAUNCH/VMRESUME failed (vmx_enter returned r): L2's failures go to L1, L1's stop the guest. */
void exit_entry_failed(struct vcpu *v, int r);
/* Handle the VM exit that just happened: reason is its VM_EXIT_REASON, t0 the TSC right after it. */
void exit_dispatch(struct vcpu *v, uint32_t reason, uint64_t t0);

/* Inject a hardware exception into the guest at the next entry. */
void inject_exception(uint8_t vector, bool has_error, uint32_t error);

/* Stop the guest with a report (reason, qualification, guest state) and end the run. */
__noreturn void guest_stop(struct vcpu *v, const char *fmt, ...) __printf(2, 3);

/*
 * After an exit umbra handled itself and before resuming the guest: an event
 * whose delivery the exit interrupted is injected again (SDM Vol. 3C 27.2.4).
 * exit.c does it for its own handlers; nested/ for the L2 exits it keeps.
 */
void exit_reinject_event(uint32_t basic);

/*
 * Print the exit statistics of every vCPU: the "ustat" records first, then
 * the human table (the last screen of the log); full lists every trapped field.
 */
void exit_stats_report(bool full);
/* Exits counted for vCPU v, L1 and L2 (equals v->regs.vm_exits, the exit stub's count). */
uint64_t exit_count(const struct vcpu *v);

#endif
