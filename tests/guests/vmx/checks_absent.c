/* SPDX-License-Identifier: BSD-2-Clause */
/* absent group: VMX structures at addresses the SDM allows but no RAM backs (SDM Vol. 3C 26.2.1, 30.3). */
#include "arch/x86/cpu.h"
#include "core/types.h" /* arch/x86/exit_reasons.h does not include it */
#include "arch/x86/exit_reasons.h"
#include "arch/x86/vmx_controls.h"
#include "tests/guests/lib/report.h"
#include "tests/guests/lib/umbra.h"
#include "tests/guests/vmx/suite.h"

#define L2_IO_PORT_B 0x8cfc /* a port I/O bitmap B covers (SDM Vol. 3C 24.6.4) */
#define L2_MSR_SYSENTER_CS 0x174
/* SDM Vol. 3C 26.8: a VM-entry failure while loading MSRs; qualification = entry, from 1. */
#define ENTRY_FAIL_MSR_LOADING ((uint32_t)(EXIT_REASON_ENTRY_FAILURE | EXIT_REASON_MSR_LOADING))

/*
 * The SDM checks a bitmap, MSR-list or VMCS address for alignment and the
 * physical-address width only (26.2.1.1-26.2.1.3, 30.3): one that names no
 * RAM passes, and the CPU then reads all ones there and its writes go
 * nowhere. The last page below the width is such an address on every
 * machine the suite runs on (bare Bochs and umbra alike: far above RAM).
 */
static uint64_t absent_page(void)
{
	return suite.beyond_phys - PAGE_SIZE;
}

static uint8_t zero_bitmap[PAGE_SIZE] __aligned(PAGE_SIZE);

/* L2 runs stub with the given processor controls and one field set; the entry's exit reason, or 0. */
static uint32_t run_l2(const char *name, const void *stub, uint32_t proc, uint32_t field, uint64_t value,
		       struct l2_regs *regs)
{
	enum vm_entry_result res;
	uint32_t reason;
	char buf[48];

	if (vmcs_prepare(&vmcs_b, stub, L2_STACK_TOP) != 0) {
		report(name, VERDICT_FAIL, "VMCS set-up failed");
		return 0;
	}
	vmwrite(CPU_BASED_VM_EXEC_CONTROL, ctl_proc(proc) & ~(CR8_LOAD_EXITING | CR8_STORE_EXITING));
	if (proc & USE_IO_BITMAPS) {
		vmwrite(IO_BITMAP_A, (uint64_t)zero_bitmap);
		vmwrite(IO_BITMAP_B, (uint64_t)zero_bitmap);
	}
	if (proc & USE_MSR_BITMAPS)
		vmwrite(MSR_BITMAP, (uint64_t)zero_bitmap);
	vmwrite(field, value);
	res = vm_enter(regs, 1);
	reason = res == VM_ENTRY_EXITED ? (uint32_t)vmcs_get(VM_EXIT_REASON) : 0;
	if (res != VM_ENTRY_EXITED)
		report(name, VERDICT_FAIL, "VMLAUNCH: %s, expected a VM exit", entry_str(res, buf, sizeof(buf)));
	return reason;
}

/* An I/O or MSR bitmap that is not RAM: the entry succeeds and every bit reads 1 (the access exits). */
static void check_absent_bitmaps(void)
{
	struct l2_regs regs;
	uint32_t reason;

	if (!proc_allows(USE_IO_BITMAPS | USE_MSR_BITMAPS)) {
		report("absent.bitmaps", VERDICT_SKIP, "no I/O or MSR bitmaps");
		return;
	}
	l2_regs_default(&regs);
	reason = run_l2("absent.io_bitmap_a", l2_out_imm8, USE_IO_BITMAPS, IO_BITMAP_A, absent_page(), &regs);
	if (reason)
		check("absent.io_bitmap_a", reason == EXIT_REASON_IO_INSTRUCTION,
		      "OUT to port %#x with I/O bitmap A at %#lx: exit reason %u, expected %u", L2_OUT_PORT,
		      absent_page(), reason, EXIT_REASON_IO_INSTRUCTION);
	vmclear(PA(vmcs_b));

	l2_regs_default(&regs);
	regs.gpr[GPR_RDX] = L2_IO_PORT_B;
	reason = run_l2("absent.io_bitmap_b", l2_in_dx, USE_IO_BITMAPS, IO_BITMAP_B, absent_page(), &regs);
	if (reason)
		check("absent.io_bitmap_b", reason == EXIT_REASON_IO_INSTRUCTION,
		      "IN from port %#x with I/O bitmap B at %#lx: exit reason %u, expected %u", L2_IO_PORT_B,
		      absent_page(), reason, EXIT_REASON_IO_INSTRUCTION);
	vmclear(PA(vmcs_b));

	/* The other bitmap is still L1's: a port of A with only B absent does not exit. */
	l2_regs_default(&regs);
	reason = run_l2("absent.io_bitmap_b_leaves_a", l2_in_dx, USE_IO_BITMAPS, IO_BITMAP_B, absent_page(), &regs);
	if (reason)
		check("absent.io_bitmap_b_leaves_a", reason == EXIT_REASON_VMCALL,
		      "IN from port %#x (bitmap A, all clear) with B at %#lx: exit reason %u, expected %u",
		      L2_IO_PORT, absent_page(), reason, EXIT_REASON_VMCALL);
	vmclear(PA(vmcs_b));

	l2_regs_default(&regs);
	regs.gpr[GPR_RCX] = L2_MSR_SYSENTER_CS;
	reason = run_l2("absent.msr_bitmap", l2_rdmsr, USE_MSR_BITMAPS, MSR_BITMAP, absent_page(), &regs);
	if (reason)
		check("absent.msr_bitmap", reason == EXIT_REASON_MSR_READ,
		      "RDMSR %#x with the MSR bitmap at %#lx: exit reason %u, expected %u", L2_MSR_SYSENTER_CS,
		      absent_page(), reason, EXIT_REASON_MSR_READ);
	vmclear(PA(vmcs_b));
}

/*
 * A VM-entry MSR-load list that is not RAM: the address checks pass
 * (26.2.1.3), and its first entry reads as index 0xffffffff with bits 63:32
 * set, so loading fails on entry 1 (26.4): exit reason 34 with bit 31.
 */
static void check_absent_msr_list(void)
{
	const char *name = "absent.entry_msr_load";
	struct l2_regs regs;
	uint64_t qual;

	if (vmcs_prepare(&vmcs_b, l2_cpuid, L2_STACK_TOP) != 0) {
		report(name, VERDICT_FAIL, "VMCS set-up failed");
		return;
	}
	vmwrite(VM_ENTRY_MSR_LOAD_ADDR, absent_page());
	vmwrite(VM_ENTRY_MSR_LOAD_COUNT, 1);
	l2_regs_default(&regs);
	if (vm_enter(&regs, 1) != VM_ENTRY_EXITED) {
		report(name, VERDICT_FAIL, "VMLAUNCH did not come back through HOST_RIP (a VMfail?)");
	} else {
		uint32_t reason = (uint32_t)vmcs_get(VM_EXIT_REASON);

		qual = vmcs_get(EXIT_QUALIFICATION);
		check(name, reason == ENTRY_FAIL_MSR_LOADING && qual == 1,
		      "one entry at %#lx: exit reason %#x qualification %lu, expected %#x and 1", absent_page(),
		      reason, qual, ENTRY_FAIL_MSR_LOADING);
	}
	vmclear(PA(vmcs_b));
}

/*
 * VMPTRLD of a region that is not RAM reads a revision identifier of all
 * ones: VMfailValid(11) with a current VMCS. VMCLEAR of it succeeds (30.3:
 * only the address is checked; its launch state goes nowhere).
 */
static void check_absent_vmcs(void)
{
	if (vmptrld(PA(vmcs_scratch)) != VMX_SUCCEED) {
		report("absent.vmptrld", VERDICT_FAIL, "VMPTRLD of the scratch VMCS failed");
		return;
	}
	expect_outcome("absent.vmptrld", outcome_of(vmptrld(absent_page())), VMX_FAIL_VALID,
		       VMXERR_VMPTRLD_INCORRECT_REVISION_ID, "VMPTRLD of a region no RAM backs");
	expect_outcome("absent.vmclear", outcome_of(vmclear(absent_page())), VMX_SUCCEED, 0,
		       "VMCLEAR of a region no RAM backs");
	expect_outcome("absent.vmptrld_after_vmclear", outcome_of(vmptrld(absent_page())), VMX_FAIL_VALID,
		       VMXERR_VMPTRLD_INCORRECT_REVISION_ID, "VMPTRLD after VMCLEAR: still all ones");
	vmclear(PA(vmcs_scratch));
}

/*
 * Group "umbra": the same structures on umbra's own memory, which L1's map
 * shows reserved. To L1 it is memory that is not there (docs/design.md):
 * a list there reads all ones (entry 1 fails), a VMCS there has a revision
 * of all ones, and L2 never reads umbra's bytes as L1's bitmap.
 */
static void check_umbra_absent(void)
{
	struct l2_regs regs;
	uint64_t pa = suite.umbra_mem;
	uint32_t reason;

	if (!under_umbra())
		return;
	if (!pa) {
		report("umbra.absent", VERDICT_FAIL, "no umbra memory in L1's memory map");
		return;
	}
	l2_regs_default(&regs);
	reason = run_l2("umbra.absent_io_bitmap", l2_out_imm8, USE_IO_BITMAPS, IO_BITMAP_A, pa, &regs);
	if (reason)
		check("umbra.absent_io_bitmap", reason == EXIT_REASON_IO_INSTRUCTION,
		      "OUT with I/O bitmap A on umbra's memory at %#lx: exit reason %u, expected %u", pa, reason,
		      EXIT_REASON_IO_INSTRUCTION);
	vmclear(PA(vmcs_b));

	if (vmcs_prepare(&vmcs_b, l2_cpuid, L2_STACK_TOP) != 0) {
		report("umbra.absent_entry_msr_load", VERDICT_FAIL, "VMCS set-up failed");
		return;
	}
	vmwrite(VM_ENTRY_MSR_LOAD_ADDR, pa);
	vmwrite(VM_ENTRY_MSR_LOAD_COUNT, 1);
	l2_regs_default(&regs);
	reason = vm_enter(&regs, 1) == VM_ENTRY_EXITED ? (uint32_t)vmcs_get(VM_EXIT_REASON) : 0;
	check("umbra.absent_entry_msr_load", reason == ENTRY_FAIL_MSR_LOADING && vmcs_get(EXIT_QUALIFICATION) == 1,
	      "VM-entry MSR-load list on umbra's memory at %#lx: exit reason %#x, expected %#x", pa, reason,
	      ENTRY_FAIL_MSR_LOADING);
	expect_outcome("umbra.absent_vmptrld", outcome_of(vmptrld(pa)), VMX_FAIL_VALID,
		       VMXERR_VMPTRLD_INCORRECT_REVISION_ID, "VMPTRLD of umbra's memory");
	vmclear(PA(vmcs_b));

	/* A virtual-APIC page on umbra's memory: L2's CR8 reads the all-ones VTPR of umbra's stand-in page. */
	if (!proc_allows(USE_TPR_SHADOW))
		return;
	l2_regs_default(&regs);
	reason = run_l2("umbra.absent_virtual_apic", l2_mov_from_cr8,
			USE_TPR_SHADOW, VIRTUAL_APIC_PAGE_ADDR, pa, &regs);
	if (reason)
		check("umbra.absent_virtual_apic", reason == EXIT_REASON_VMCALL && regs.gpr[GPR_RAX] == 0xf,
		      "virtual-APIC page on umbra's memory at %#lx: exit reason %u, CR8 %#lx (expected 0xf)", pa,
		      reason, regs.gpr[GPR_RAX]);
	vmclear(PA(vmcs_b));
}

void check_absent(void)
{
	check_absent_bitmaps();
	check_absent_msr_list();
	check_absent_vmcs();
	check_umbra_absent();
}
