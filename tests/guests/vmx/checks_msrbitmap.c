/* SPDX-License-Identifier: BSD-2-Clause */
/* msrbitmap group: L1's MSR bitmap decides which of L2's RDMSR/WRMSR exit (SDM Vol. 3C 24.6.9, 25.1.3). */
#include "arch/x86/cpu.h"
#include "core/types.h" /* arch/x86/exit_reasons.h does not include it */
#include "arch/x86/exit_reasons.h"
#include "arch/x86/vmx_controls.h"
#include "core/string.h"
#include "tests/guests/lib/report.h"
#include "tests/guests/vmx/suite.h"

#define MSR_SYSENTER_CS 0x174
#define MSR_VMX_BASIC 0x480
#define BITMAP_WRITE_LOW 2048 /* byte offset of the write bitmap for low MSRs */

static uint8_t msr_bitmap[PAGE_SIZE] __aligned(PAGE_SIZE);

static void bitmap_set(uint32_t msr, bool write)
{
	msr_bitmap[(write ? BITMAP_WRITE_LOW : 0) + msr / 8] |= 1u << (msr % 8);
}

/*
 * L2 runs RDMSR of msr with L1's bitmap as it is now; want_exit: the
 * RDMSR exits (reason 31), else L2 goes on to its VMCALL with the value.
 */
static bool run_rdmsr(const char *name, uint32_t msr, bool want_exit, uint64_t *value)
{
	struct l2_regs regs;
	enum vm_entry_result res;
	uint32_t reason;

	if (vmcs_prepare(&vmcs_b, l2_rdmsr, L2_STACK_TOP) != 0) {
		report(name, VERDICT_FAIL, "VMCS set-up failed");
		return false;
	}
	vmwrite(CPU_BASED_VM_EXEC_CONTROL, ctl_proc(USE_MSR_BITMAPS));
	vmwrite(MSR_BITMAP, (uint64_t)msr_bitmap);
	l2_regs_default(&regs);
	regs.gpr[GPR_RCX] = msr;
	res = vm_enter(&regs, 1);
	reason = res == VM_ENTRY_EXITED ? (uint32_t)vmcs_get(VM_EXIT_REASON) : 0;
	*value = (regs.gpr[GPR_RDX] << 32) | (uint32_t)regs.gpr[GPR_RAX];
	vmclear(PA(vmcs_b));
	if (res != VM_ENTRY_EXITED) {
		report(name, VERDICT_FAIL, "VMLAUNCH did not exit (entry result %d)", res);
		return false;
	}
	return check(name, reason == (want_exit ? EXIT_REASON_MSR_READ : EXIT_REASON_VMCALL),
		     "RDMSR %#x with the bit %s: exit reason %u, expected %u", msr, want_exit ? "set" : "clear",
		     reason, want_exit ? EXIT_REASON_MSR_READ : EXIT_REASON_VMCALL);
}

/* A bit L1 sets between two entries of one VMCS counts from the next entry (VMRESUME). */
static void check_bitmap_changed(void)
{
	const char *name = "msrbitmap.changed_between_entries";
	struct l2_regs regs;
	uint32_t first, second = 0;

	memset(msr_bitmap, 0, sizeof(msr_bitmap));
	if (vmcs_prepare(&vmcs_b, l2_rdmsr, L2_STACK_TOP) != 0) {
		report(name, VERDICT_FAIL, "VMCS set-up failed");
		return;
	}
	vmwrite(CPU_BASED_VM_EXEC_CONTROL, ctl_proc(USE_MSR_BITMAPS));
	vmwrite(MSR_BITMAP, (uint64_t)msr_bitmap);
	l2_regs_default(&regs);
	regs.gpr[GPR_RCX] = MSR_SYSENTER_CS;
	first = vm_enter(&regs, 1) == VM_ENTRY_EXITED ? (uint32_t)vmcs_get(VM_EXIT_REASON) : 0;
	bitmap_set(MSR_SYSENTER_CS, false);
	vmwrite(GUEST_RIP, (uint64_t)l2_rdmsr);
	regs.gpr[GPR_RCX] = MSR_SYSENTER_CS;
	if (first == EXIT_REASON_VMCALL && vm_enter(&regs, 0) == VM_ENTRY_EXITED)
		second = (uint32_t)vmcs_get(VM_EXIT_REASON);
	check(name, first == EXIT_REASON_VMCALL && second == EXIT_REASON_MSR_READ,
	      "RDMSR %#x: bit clear, exit reason %u (expected %u); bit set, VMRESUME: %u (expected %u)",
	      MSR_SYSENTER_CS, first, EXIT_REASON_VMCALL, second, EXIT_REASON_MSR_READ);
	vmclear(PA(vmcs_b));
}

void check_msr_bitmap(void)
{
	uint64_t value = 0;

	if (!proc_allows(USE_MSR_BITMAPS)) {
		report("msrbitmap.pass_through", VERDICT_SKIP, "use MSR bitmaps not allowed");
		return;
	}
	/* Clear bit: L2 reads the MSR as L1 would, whoever answers it (a hypervisor below L1 too). */
	memset(msr_bitmap, 0, sizeof(msr_bitmap));
	if (run_rdmsr("msrbitmap.pass_through", MSR_VMX_BASIC, false, &value))
		check("msrbitmap.pass_through_value", value == rdmsr(MSR_VMX_BASIC),
		      "L2 read IA32_VMX_BASIC %#lx, L1 reads %#lx", value, rdmsr(MSR_VMX_BASIC));
	else
		report("msrbitmap.pass_through_value", VERDICT_FAIL, "L2's RDMSR did not complete");
	/* Set bits exit to L1, for an MSR a hypervisor below owns and for one it does not. */
	bitmap_set(MSR_VMX_BASIC, false);
	run_rdmsr("msrbitmap.exit_owned", MSR_VMX_BASIC, true, &value);
	memset(msr_bitmap, 0, sizeof(msr_bitmap));
	bitmap_set(MSR_SYSENTER_CS, false);
	run_rdmsr("msrbitmap.exit_plain", MSR_SYSENTER_CS, true, &value);
	check_bitmap_changed();
}
