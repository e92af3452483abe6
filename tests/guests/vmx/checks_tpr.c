/* SPDX-License-Identifier: BSD-2-Clause */
/* tpr group: "use TPR shadow": CR8 through the virtual-APIC page, the TPR threshold (SDM Vol. 3C 29.1, 26.2.1.1). */
#include "arch/x86/cpu.h"
#include "core/types.h" /* arch/x86/exit_reasons.h does not include it */
#include "arch/x86/exit_reasons.h"
#include "arch/x86/vmx_controls.h"
#include "core/string.h"
#include "tests/guests/lib/report.h"
#include "tests/guests/vmx/suite.h"

#define VTPR 0x80 /* the virtual-APIC page's task-priority byte (29.1.1) */

static uint8_t vapic[PAGE_SIZE] __aligned(PAGE_SIZE);

/* L2 at stub (RAX = rax) with the TPR shadow on vapic_pa and this threshold: the entry's result. */
static enum vm_entry_result run_tpr(const char *name, const void *stub, uint64_t rax, uint64_t vapic_pa,
				    uint32_t threshold, struct l2_regs *regs)
{
	if (vmcs_prepare(&vmcs_b, stub, L2_STACK_TOP) != 0) {
		report(name, VERDICT_FAIL, "VMCS set-up failed");
		return VM_ENTRY_FELL_THROUGH;
	}
	/* CR8 exiting off: with the shadow, MOV CR8 goes to the virtual-APIC page. */
	vmwrite(CPU_BASED_VM_EXEC_CONTROL, ctl_proc(USE_TPR_SHADOW) & ~(CR8_LOAD_EXITING | CR8_STORE_EXITING));
	vmwrite(VIRTUAL_APIC_PAGE_ADDR, vapic_pa);
	vmwrite(TPR_THRESHOLD, threshold);
	l2_regs_default(regs);
	regs->gpr[GPR_RAX] = rax;
	return vm_enter(regs, 1);
}

static uint32_t reason_of(enum vm_entry_result res)
{
	return res == VM_ENTRY_EXITED ? (uint32_t)vmcs_get(VM_EXIT_REASON) : ~0u;
}

void check_tpr_shadow(void)
{
	struct l2_regs regs;
	enum vm_entry_result res;
	uint32_t reason;

	if (!proc_allows(USE_TPR_SHADOW)) {
		report("tpr.offered", VERDICT_SKIP, "use TPR shadow not allowed");
		return;
	}
	memset(vapic, 0, sizeof(vapic));
	/* MOV from CR8 reads VTPR[7:4]. */
	vapic[VTPR] = 0x50;
	res = run_tpr("tpr.read_cr8", l2_mov_from_cr8, 0, (uint64_t)vapic, 0, &regs);
	reason = reason_of(res);
	check("tpr.read_cr8", reason == EXIT_REASON_VMCALL && regs.gpr[GPR_RAX] == 5,
	      "VTPR 0x50: exit reason %u, CR8 read %#lx (expected 5)", reason, regs.gpr[GPR_RAX]);
	vmclear(PA(vmcs_b));

	/* MOV to CR8 writes VTPR (bits 7:4; 3:0 cleared). */
	res = run_tpr("tpr.write_cr8", l2_mov_to_cr8, 3, (uint64_t)vapic, 0, &regs);
	reason = reason_of(res);
	check("tpr.write_cr8", reason == EXIT_REASON_VMCALL && vapic[VTPR] == 0x30,
	      "CR8 = 3: exit reason %u, VTPR %#x (expected 0x30)", reason, vapic[VTPR]);
	vmclear(PA(vmcs_b));

	/* Below the threshold after a CR8 write: a trap-like exit after the MOV (29.1.2). */
	vapic[VTPR] = 0x50;
	res = run_tpr("tpr.below_threshold", l2_mov_to_cr8, 2, (uint64_t)vapic, 4, &regs);
	reason = reason_of(res);
	check("tpr.below_threshold",
	      reason == EXIT_REASON_TPR_BELOW_THRESHOLD && vmcs_get(GUEST_RIP) == (uint64_t)l2_mov_to_cr8_end &&
		      vapic[VTPR] == 0x20,
	      "threshold 4, CR8 = 2: exit reason %u at RIP %+ld (expected the VMCALL), VTPR %#x", reason,
	      (long)(vmcs_get(GUEST_RIP) - (uint64_t)l2_mov_to_cr8_end), vapic[VTPR]);
	vmclear(PA(vmcs_b));

	/* 26.2.1.1: threshold bits 31:4, threshold above VTPR[7:4], an unaligned page: invalid controls. */
	vapic[VTPR] = 0x50;
	res = run_tpr("tpr.threshold_reserved_bits", l2_vmcall, 0, (uint64_t)vapic, 0x10, &regs);
	expect_entry("tpr.threshold_reserved_bits", res, VM_ENTRY_FAIL_VALID, VMXERR_ENTRY_INVALID_CONTROL_FIELD, NULL,
		     "TPR threshold 0x10");
	vmclear(PA(vmcs_b));
	res = run_tpr("tpr.threshold_above_vtpr", l2_vmcall, 0, (uint64_t)vapic, 6, &regs);
	expect_entry("tpr.threshold_above_vtpr", res, VM_ENTRY_FAIL_VALID, VMXERR_ENTRY_INVALID_CONTROL_FIELD, NULL,
		     "TPR threshold 6, VTPR 0x50");
	vmclear(PA(vmcs_b));
	res = run_tpr("tpr.vapic_unaligned", l2_vmcall, 0, (uint64_t)vapic + 0x800, 0, &regs);
	expect_entry("tpr.vapic_unaligned", res, VM_ENTRY_FAIL_VALID, VMXERR_ENTRY_INVALID_CONTROL_FIELD, NULL,
		     "virtual-APIC page not 4 KiB aligned");
	vmclear(PA(vmcs_b));
}
