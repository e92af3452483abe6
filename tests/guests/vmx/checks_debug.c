/* SPDX-License-Identifier: BSD-2-Clause */
/* debug group: DR7 across VM entries and exits, the debug-controls VM-entry/VM-exit controls (SDM Vol. 3C 26.3.2.1, 27.3.1, 27.5.1). */
#include "arch/x86/cpu.h"
#include "core/types.h" /* arch/x86/exit_reasons.h does not include it */
#include "arch/x86/exit_reasons.h"
#include "arch/x86/vmx_controls.h"
#include "tests/guests/lib/report.h"
#include "tests/guests/vmx/suite.h"

/* DR7 values that arm nothing: bit 10 is reserved 1, LE (8) and GE (9) are only hints. */
#define DR7_INIT 0x400ULL
#define DR7_L1 0x700ULL /* L1's own */
#define DR7_L2 0x500ULL /* vmcs12's GUEST_DR7 */

static uint64_t read_dr7(void)
{
	uint64_t v;

	__asm__ volatile("mov %%dr7, %0" : "=r"(v));
	return v;
}

static void write_dr7(uint64_t v)
{
	__asm__ volatile("mov %0, %%dr7" ::"r"(v));
}

static bool entry_ctl_can_be(uint32_t bit, bool one)
{
	return one ? vmx_ctl_allows(&suite.caps.entry, bit) : !(suite.caps.entry.must_be_one & bit);
}

/*
 * L2 reads DR7 (MOV from DR7 does not exit without "MOV-DR exiting") and
 * VMCALLs; L1 started it with its own DR7 = DR7_L1. Returns what L2 read,
 * and L1's DR7 after the exit in *after; ~0 when L2 did not get there.
 */
static uint64_t l2_dr7(bool load_debug, uint64_t *after, uint64_t *saved)
{
	struct l2_regs regs;
	uint64_t got = ~0ULL;

	if (vmcs_prepare(&vmcs_b, l2_mov_from_dr7, L2_STACK_TOP) != 0)
		return got;
	vmwrite(VM_ENTRY_CONTROLS, load_debug ? ctl_entry(IA32E_MODE_GUEST | LOAD_DEBUG_CONTROLS) :
						ctl_entry(IA32E_MODE_GUEST) & ~LOAD_DEBUG_CONTROLS);
	vmwrite(VM_EXIT_CONTROLS, ctl_exit(HOST_ADDR_SPACE_SIZE | SAVE_DEBUG_CONTROLS));
	vmwrite(GUEST_DR7, DR7_L2);
	l2_regs_default(&regs);
	write_dr7(DR7_L1);
	if (vm_enter(&regs, 1) == VM_ENTRY_EXITED && vmcs_get(VM_EXIT_REASON) == EXIT_REASON_VMCALL)
		got = regs.gpr[GPR_RAX];
	*after = read_dr7();
	*saved = vmcs_get(GUEST_DR7);
	write_dr7(DR7_INIT);
	vmclear(PA(vmcs_b));
	return got;
}

void check_debug_controls(void)
{
	uint64_t dr7, after = 0, saved = 0;

	/* L1's DR7 is L1's: whatever exits a hypervisor below takes (CPUID, VMPTRST), it stays. */
	write_dr7(DR7_L1);
	(void)cpuid(0, 0);
	vmptrst(&saved);
	dr7 = read_dr7();
	write_dr7(DR7_INIT);
	check("debug.l1_dr7_kept", dr7 == DR7_L1, "L1's DR7 %#lx after CPUID and VMPTRST, expected %#llx", dr7,
	      DR7_L1);

	if (!entry_ctl_can_be(LOAD_DEBUG_CONTROLS, true) || !vmx_ctl_allows(&suite.caps.exit, SAVE_DEBUG_CONTROLS)) {
		report("debug.load_debug_controls", VERDICT_SKIP, "load/save debug controls not allowed");
	} else {
		dr7 = l2_dr7(true, &after, &saved);
		check("debug.load_debug_controls", dr7 == DR7_L2, "L2's DR7 %#lx, expected GUEST_DR7 %#llx", dr7,
		      DR7_L2);
		/* SDM 27.5.1: every VM exit leaves the host with DR7 = 400H; 27.3.1: saved with the control. */
		check("debug.exit_dr7", after == DR7_INIT && saved == DR7_L2,
		      "L1's DR7 after the exit %#lx (expected 0x400), GUEST_DR7 saved %#lx (expected %#llx)", after,
		      saved, DR7_L2);
	}
	if (!entry_ctl_can_be(LOAD_DEBUG_CONTROLS, false)) {
		report("debug.no_load_debug_controls", VERDICT_SKIP, "load debug controls must be 1");
	} else {
		/* SDM 26.3.2.1: without the control, DR7 is not modified by the entry: L2 has L1's. */
		dr7 = l2_dr7(false, &after, &saved);
		check("debug.no_load_debug_controls", dr7 == DR7_L1, "L2's DR7 %#lx, expected L1's %#llx", dr7,
		      DR7_L1);
	}
}
