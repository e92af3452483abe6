/* SPDX-License-Identifier: BSD-2-Clause */
/* timer group: the VMX-preemption timer of L2 (SDM Vol. 3C 25.5.1, 26.2.1.2, 26.7.4, 27.3.2). */
#include "arch/x86/cpu.h"
#include "core/types.h" /* arch/x86/exit_reasons.h does not include it */
#include "arch/x86/exit_reasons.h"
#include "arch/x86/vmx_controls.h"
#include "tests/guests/lib/report.h"
#include "tests/guests/vmx/suite.h"

#define TIMER_SHORT 200        /* timer ticks: expires while L2 spins */
#define TIMER_LONG 100000000u  /* does not expire before L2's first instruction exits */
#define APIC_TPR 0xfee00080ULL /* xAPIC task-priority register (SDM Vol. 3A 10.8.3.1) */

/* L2 code: store 0 to (RAX) for ever (two instructions: an l2_stub holds one). */
extern const char l2_store_forever[];
__asm__(".pushsection .text\n"
	"l2_store_forever:\n\t"
	"movl $0, (%rax)\n\t"
	"jmp l2_store_forever\n"
	".popsection\n");

/* A fresh L2 at rip (RAX = rax) with the timer active at value, "save" as asked; the entry's result. */
static enum vm_entry_result run_timer(const void *rip, uint32_t value, bool save, uint64_t rax, struct l2_regs *regs)
{
	if (vmcs_prepare(&vmcs_b, rip, L2_STACK_TOP) != 0)
		return VM_ENTRY_FELL_THROUGH;
	vmwrite(PIN_BASED_VM_EXEC_CONTROL, ctl_pin(PREEMPTION_TIMER));
	vmwrite(VM_EXIT_CONTROLS, ctl_exit(HOST_ADDR_SPACE_SIZE | (save ? SAVE_PREEMPTION_TIMER : 0)));
	vmwrite(VMX_PREEMPTION_TIMER_VALUE, value);
	l2_regs_default(regs);
	if (rax)
		regs->gpr[GPR_RAX] = rax;
	return vm_enter(regs, 1);
}

static uint32_t exit_reason(enum vm_entry_result res)
{
	return res == VM_ENTRY_EXITED ? (uint32_t)vmcs_get(VM_EXIT_REASON) : ~0u;
}

void check_timer(void)
{
	struct l2_regs regs;
	enum vm_entry_result res;
	uint32_t reason;
	uint64_t left;
	char buf[48];

	if (!(suite.caps.pin.may_be_one & PREEMPTION_TIMER) || !(suite.caps.exit.may_be_one & SAVE_PREEMPTION_TIMER)) {
		report("timer.offered", VERDICT_SKIP, "no VMX-preemption timer or no saving of its value");
		return;
	}
	/* An L2 that never exits on its own: the timer ends it, its value saved as 0 (27.3.2). */
	res = run_timer(l2_forever, TIMER_SHORT, true, 0, &regs);
	reason = exit_reason(res);
	left = vmcs_get(VMX_PREEMPTION_TIMER_VALUE);
	check("timer.expires", reason == EXIT_REASON_PREEMPTION_TIMER && left == 0,
	      "L2 spinning with the timer at %u: %s, exit reason %u, timer value saved %lu", TIMER_SHORT,
	      entry_str(res, buf, sizeof(buf)), reason, left);
	vmclear(PA(vmcs_b));

	/*
	 * L2 storing 0 to the xAPIC TPR in a loop: under umbra each store is
	 * an exit umbra handles itself (its EPT keeps the APIC page read-only)
	 * and L2 resumes; the timer must go on from what was left, not start
	 * again at each resume, or it would never expire.
	 */
	res = run_timer(l2_store_forever, TIMER_SHORT * 10, true, APIC_TPR, &regs);
	reason = exit_reason(res);
	check("timer.expires_across_other_exits", reason == EXIT_REASON_PREEMPTION_TIMER,
	      "L2 storing to the TPR in a loop, timer at %u: %s, exit reason %u", TIMER_SHORT * 10,
	      entry_str(res, buf, sizeof(buf)), reason);
	vmclear(PA(vmcs_b));

	/* Value 0: the exit comes before L2's first instruction (26.7.4). */
	res = run_timer(l2_cpuid, 0, true, 0, &regs);
	reason = exit_reason(res);
	check("timer.zero", reason == EXIT_REASON_PREEMPTION_TIMER && vmcs_get(GUEST_RIP) == (uint64_t)l2_cpuid,
	      "timer 0: exit reason %u at L2 RIP %+ld", reason, (long)(vmcs_get(GUEST_RIP) - (uint64_t)l2_cpuid));
	vmclear(PA(vmcs_b));

	/* Another exit first: with "save", what is left (below the start, above 0) goes back. */
	res = run_timer(l2_cpuid, TIMER_LONG, true, 0, &regs);
	reason = exit_reason(res);
	left = vmcs_get(VMX_PREEMPTION_TIMER_VALUE);
	check("timer.saved_remaining", reason == EXIT_REASON_CPUID && left > 0 && left < TIMER_LONG,
	      "CPUID exit with the timer at %u: reason %u, saved value %lu", TIMER_LONG, reason, left);
	vmclear(PA(vmcs_b));

	/* Without "save", the field keeps what L1 wrote. */
	res = run_timer(l2_cpuid, TIMER_LONG, false, 0, &regs);
	reason = exit_reason(res);
	left = vmcs_get(VMX_PREEMPTION_TIMER_VALUE);
	check("timer.not_saved", reason == EXIT_REASON_CPUID && left == TIMER_LONG,
	      "CPUID exit without save: reason %u, field %lu (wrote %u)", reason, left, TIMER_LONG);
	vmclear(PA(vmcs_b));

	/* 26.2.1.2: "save VMX-preemption timer value" without the timer is an invalid control. */
	if (vmcs_prepare(&vmcs_b, l2_cpuid, L2_STACK_TOP) == 0) {
		vmwrite(PIN_BASED_VM_EXEC_CONTROL, ctl_pin(0));
		vmwrite(VM_EXIT_CONTROLS, ctl_exit(HOST_ADDR_SPACE_SIZE | SAVE_PREEMPTION_TIMER));
		l2_regs_default(&regs);
		res = vm_enter(&regs, 1);
		expect_entry("timer.save_without_timer", res, VM_ENTRY_FAIL_VALID, VMXERR_ENTRY_INVALID_CONTROL_FIELD,
			     NULL, "save VMX-preemption timer value with the timer off");
		vmclear(PA(vmcs_b));
	}
}
