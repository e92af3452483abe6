/* SPDX-License-Identifier: BSD-2-Clause */
/* timer group: the VMX-preemption timer of L2 (SDM Vol. 3C 25.5.1, 26.2.1.2, 26.7.4, 27.3.2). */
#include "arch/x86/cpu.h"
#include "core/types.h" /* arch/x86/exit_reasons.h does not include it */
#include "arch/x86/exit_reasons.h"
#include "arch/x86/gdt.h"
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

/* A 16-byte interrupt gate to l2_vmcall (SDM Vol. 3A 6.14.1), L2's handler for TIMER_EVENT_VECTOR. */
#define TIMER_EVENT_VECTOR 0x40
#define GATE_INTR_PRESENT 0x8e
static uint64_t timer_idt[2 * (TIMER_EVENT_VECTOR + 1)] __aligned(16);

/*
 * test=timer_zero_event (bare and under umbra, compared by the lead; not
 * in the suite's run while umbra fails it): the VMX-preemption timer at 0
 * with an injected software interrupt. SDM Vol. 3C 26.7.4: the timer
 * exit comes after the event is delivered and before any instruction of
 * L2's, so at the handler's first instruction. L2 runs on an EPT of L1's
 * that umbra has not seen yet: under umbra the delivery's accesses (IDT,
 * stack, GDT) are shadow-EPT fills, exits umbra handles itself, and it
 * resumes L2 with the timer vmcs02 saved. Bochs 2.7 starts no timer for
 * an entry at 0 (docs/bochs.md) and saves a stale value there (what an
 * earlier, armed timer would have left), so umbra's L2 goes on and its
 * handler's VMCALL exits instead. A first L2 with a long timer makes the
 * stale value large. Found by the fuzzer (docs/fuzzing.md).
 */
void timer_zero_event_run(void)
{
	const char *name = "timer.zero_with_injected_event_on_fresh_ept";
	uint64_t h = (uint64_t)l2_vmcall;
	struct l2_regs regs;
	enum vm_entry_result res;
	uint32_t reason;
	uint64_t rip;
	char buf[48];

	if (!suite_init())
		return;
	write_cr4(read_cr4() | CR4_VMXE);
	if (vmxon(PA(vmxon_region)) != VMX_SUCCEED || !(suite.caps.pin.may_be_one & PREEMPTION_TIMER) ||
	    !proc2_allows(ENABLE_EPT)) {
		report(name, VERDICT_SKIP, "VMXON failed, or no preemption timer or EPT");
		return;
	}
	/* An armed timer first: Bochs's stale value is what it would have left. */
	res = run_timer(l2_cpuid, TIMER_LONG, false, 0, &regs);
	if (exit_reason(res) != EXIT_REASON_CPUID) {
		report(name, VERDICT_FAIL, "the first L2 (timer %u): %s", TIMER_LONG, entry_str(res, buf, sizeof(buf)));
		return;
	}
	vmclear(PA(vmcs_b));
	timer_idt[2 * TIMER_EVENT_VECTOR] = (h & 0xffff) | ((uint64_t)SEL_CODE64 << 16) |
					    ((uint64_t)GATE_INTR_PRESENT << 40) | ((h >> 16) << 48);
	timer_idt[2 * TIMER_EVENT_VECTOR + 1] = h >> 32;
	if (vmcs_prepare(&vmcs_b, l2_cpuid, L2_STACK_TOP) != 0) {
		report(name, VERDICT_FAIL, "VMCS set-up failed");
		return;
	}
	vmwrite(PIN_BASED_VM_EXEC_CONTROL, ctl_pin(PREEMPTION_TIMER));
	vmwrite(VMX_PREEMPTION_TIMER_VALUE, 0);
	vmwrite(CPU_BASED_VM_EXEC_CONTROL, ctl_proc(SECONDARY_CONTROLS));
	vmwrite(SECONDARY_VM_EXEC_CONTROL, ctl_proc2(ENABLE_EPT));
	vmwrite(EPT_POINTER, ept_identity_eptp());
	vmwrite(GUEST_IDTR_BASE, (uint64_t)timer_idt);
	vmwrite(GUEST_IDTR_LIMIT, sizeof(timer_idt) - 1);
	/* INT 0x40 as if L2 had executed it (type 4, length 2: SDM 24.8.3). */
	vmwrite(VM_ENTRY_INTR_INFO, BIT(31) | (4u << 8) | TIMER_EVENT_VECTOR);
	vmwrite(VM_ENTRY_INSTRUCTION_LEN, 2);
	l2_regs_default(&regs);
	res = vm_enter(&regs, 1);
	reason = exit_reason(res);
	rip = vmcs_get(GUEST_RIP);
	check(name, reason == EXIT_REASON_PREEMPTION_TIMER && rip == h,
	      "timer 0, INT 0x40 injected: %s, exit reason %u at L2 RIP %#lx (expected reason %u at the handler %#lx)",
	      entry_str(res, buf, sizeof(buf)), reason, rip, EXIT_REASON_PREEMPTION_TIMER, h);
	vmclear(PA(vmcs_b));
	vmxoff();
}
