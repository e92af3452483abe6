/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tpr group: "use TPR shadow": CR8 through the virtual-APIC page, the TPR
 * threshold (SDM Vol. 3C 29.1, 26.2.1.1); with "virtualize APIC accesses",
 * L2's accesses to the APIC-access page: TPR reads and writes virtualized,
 * the rest APIC-access exits (29.4).
 */
#include "arch/x86/cpu.h"
#include "core/types.h" /* arch/x86/exit_reasons.h does not include it */
#include "arch/x86/exit_reasons.h"
#include "arch/x86/vmx_caps.h"
#include "arch/x86/vmx_controls.h"
#include "core/string.h"
#include "tests/guests/lib/report.h"
#include "tests/guests/vmx/suite.h"

#define VTPR 0x80 /* the virtual-APIC page's task-priority byte (29.1.1) */

static uint8_t vapic[PAGE_SIZE] __aligned(PAGE_SIZE);
/* The APIC-access page: the CPU only compares addresses with it, L2's accesses never reach it. */
static uint8_t apic_access[PAGE_SIZE] __aligned(PAGE_SIZE);

#define APIC_ID 0x20
#define APIC_ICR 0x300
#define APIC_ACCESS_LINEAR_WRITE (1u << 12) /* exit qualification bits 15:12 (Table 28-6) */

/* 32-bit APIC register accesses: RBX from / to the 4 bytes at RAX, then VMCALL. */
extern const char l2_load32[], l2_store32[];
__asm__(".pushsection .text\n"
	"l2_load32:\n\t"
	"movl (%rax), %ebx\n\t"
	"vmcall\n"
	"l2_store32:\n\t"
	"movl %ebx, (%rax)\n\t"
	"vmcall\n"
	".popsection\n");

/* An MSR bitmap that lets every MSR through (SDM Vol. 3C 24.6.9). */
static uint8_t msr_bitmap_none[PAGE_SIZE] __aligned(PAGE_SIZE);
#define MSR_X2APIC_TPR 0x808

/*
 * L2 at stub (RAX, RBX as given) with the TPR shadow on vapic_pa and this
 * threshold, and "virtualize APIC accesses" on apic_pa unless it is 0, then
 * with ept on an identity EPT of L1's, just invalidated: the entry's result.
 */
static enum vm_entry_result run_apic(const char *name, const void *stub, uint64_t rax, uint64_t rbx,
				     uint64_t vapic_pa, uint32_t threshold, uint64_t apic_pa, bool ept,
				     struct l2_regs *regs)
{
	if (vmcs_prepare(&vmcs_b, stub, L2_STACK_TOP) != 0) {
		report(name, VERDICT_FAIL, "VMCS set-up failed");
		return VM_ENTRY_FELL_THROUGH;
	}
	/* CR8 exiting off: with the shadow, MOV CR8 goes to the virtual-APIC page. */
	vmwrite(CPU_BASED_VM_EXEC_CONTROL, ctl_proc(USE_TPR_SHADOW) & ~(CR8_LOAD_EXITING | CR8_STORE_EXITING));
	vmwrite(VIRTUAL_APIC_PAGE_ADDR, vapic_pa);
	vmwrite(TPR_THRESHOLD, threshold);
	if (apic_pa) {
		vmwrite(CPU_BASED_VM_EXEC_CONTROL, vmcs_get(CPU_BASED_VM_EXEC_CONTROL) | SECONDARY_CONTROLS);
		vmwrite(SECONDARY_VM_EXEC_CONTROL, ctl_proc2(VIRTUALIZE_APIC_ACCESSES | (ept ? ENABLE_EPT : 0)));
		vmwrite(APIC_ACCESS_ADDR, apic_pa);
		if (ept) {
			vmwrite(EPT_POINTER, ept_identity_eptp());
			invept(INVEPT_ALL_CONTEXT, 0);
		}
	}
	l2_regs_default(regs);
	regs->gpr[GPR_RAX] = rax;
	regs->gpr[GPR_RBX] = rbx;
	return vm_enter(regs, 1);
}

static enum vm_entry_result run_tpr(const char *name, const void *stub, uint64_t rax, uint64_t vapic_pa,
				    uint32_t threshold, struct l2_regs *regs)
{
	return run_apic(name, stub, rax, 0, vapic_pa, threshold, 0, false, regs);
}

static uint32_t reason_of(enum vm_entry_result res)
{
	return res == VM_ENTRY_EXITED ? (uint32_t)vmcs_get(VM_EXIT_REASON) : ~0u;
}

/*
 * L2 at stub with the TPR shadow on vapic, secondary controls proc2 and
 * every MSR let through by the MSR bitmap; RCX, RAX as given, RDX 0.
 */
static enum vm_entry_result run_x2apic(const void *stub, uint32_t proc2, uint64_t rcx, uint64_t rax,
				       struct l2_regs *regs)
{
	if (vmcs_prepare(&vmcs_b, stub, L2_STACK_TOP) != 0)
		return VM_ENTRY_FELL_THROUGH;
	vmwrite(CPU_BASED_VM_EXEC_CONTROL, ctl_proc(USE_TPR_SHADOW | USE_MSR_BITMAPS | SECONDARY_CONTROLS) &
						   ~(CR8_LOAD_EXITING | CR8_STORE_EXITING));
	vmwrite(SECONDARY_VM_EXEC_CONTROL, ctl_proc2(proc2));
	vmwrite(MSR_BITMAP, (uint64_t)msr_bitmap_none);
	vmwrite(VIRTUAL_APIC_PAGE_ADDR, (uint64_t)vapic);
	vmwrite(TPR_THRESHOLD, 0);
	vmwrite(APIC_ACCESS_ADDR, (uint64_t)apic_access);
	l2_regs_default(regs);
	regs->gpr[GPR_RCX] = rcx;
	regs->gpr[GPR_RAX] = rax;
	regs->gpr[GPR_RDX] = 0;
	return vm_enter(regs, 1);
}

/*
 * "Virtualize x2APIC mode" (SDM 29.5): L2's RDMSR and WRMSR of the x2APIC
 * TPR (808H) that the MSR bitmap lets through go to the virtual-APIC page.
 */
static void check_x2apic_mode(void)
{
	struct l2_regs regs;
	enum vm_entry_result res;
	uint32_t reason;

	if (!proc2_allows(VIRTUALIZE_X2APIC)) {
		report("tpr.x2apic_rdmsr_tpr", VERDICT_SKIP, "virtualize x2APIC mode not allowed");
		return;
	}
	memset(msr_bitmap_none, 0, sizeof(msr_bitmap_none));
	vapic[VTPR] = 0x50;
	res = run_x2apic(l2_rdmsr, VIRTUALIZE_X2APIC, MSR_X2APIC_TPR, 0, &regs);
	reason = reason_of(res);
	check("tpr.x2apic_rdmsr_tpr", reason == EXIT_REASON_VMCALL && regs.gpr[GPR_RAX] == 0x50 && regs.gpr[GPR_RDX] == 0,
	      "RDMSR 808H, VTPR 0x50: exit reason %u, EDX:EAX %#lx:%#lx", reason, regs.gpr[GPR_RDX],
	      regs.gpr[GPR_RAX]);
	vmclear(PA(vmcs_b));

	res = run_x2apic(l2_wrmsr, VIRTUALIZE_X2APIC, MSR_X2APIC_TPR, 0x30, &regs);
	reason = reason_of(res);
	check("tpr.x2apic_wrmsr_tpr", reason == EXIT_REASON_VMCALL && vapic[VTPR] == 0x30,
	      "WRMSR 808H of 0x30: exit reason %u, VTPR %#x", reason, vapic[VTPR]);
	vmclear(PA(vmcs_b));

	/* 26.2.1.1: not with "virtualize APIC accesses", not without the TPR shadow. */
	if (proc2_allows(VIRTUALIZE_APIC_ACCESSES)) {
		res = run_x2apic(l2_vmcall, VIRTUALIZE_X2APIC | VIRTUALIZE_APIC_ACCESSES, 0, 0, &regs);
		expect_entry("tpr.x2apic_with_apic_access", res, VM_ENTRY_FAIL_VALID, VMXERR_ENTRY_INVALID_CONTROL_FIELD,
			     NULL, "virtualize x2APIC mode and virtualize APIC accesses");
		vmclear(PA(vmcs_b));
	}
	if (vmcs_prepare(&vmcs_b, l2_vmcall, L2_STACK_TOP) == 0) {
		vmwrite(CPU_BASED_VM_EXEC_CONTROL, vmcs_get(CPU_BASED_VM_EXEC_CONTROL) | SECONDARY_CONTROLS);
		vmwrite(SECONDARY_VM_EXEC_CONTROL, ctl_proc2(VIRTUALIZE_X2APIC));
		l2_regs_default(&regs);
		expect_entry("tpr.x2apic_needs_tpr_shadow", vm_enter(&regs, 1), VM_ENTRY_FAIL_VALID,
			     VMXERR_ENTRY_INVALID_CONTROL_FIELD, NULL, "virtualize x2APIC mode without the TPR shadow");
		vmclear(PA(vmcs_b));
	}
}

/* "Virtualize APIC accesses" with the TPR shadow (KVM's flexpriority), L2 without EPT. */
static void check_apic_access(void)
{
	uint64_t a = (uint64_t)apic_access;
	struct l2_regs regs;
	enum vm_entry_result res;
	uint32_t reason;

	if (!proc2_allows(VIRTUALIZE_APIC_ACCESSES)) {
		report("tpr.apic_access_read_exit", VERDICT_SKIP, "virtualize APIC accesses not allowed");
		return;
	}
	memset(apic_access, 0xa5, sizeof(apic_access));
	vapic[VTPR] = 0x50;

	/* 29.4.2: a read of another register is an APIC-access exit, offset and type in the qualification. */
	res = run_apic("tpr.apic_access_read_exit", l2_load32, a + APIC_ID, 0, (uint64_t)vapic, 0, a, false, &regs);
	reason = reason_of(res);
	check("tpr.apic_access_read_exit",
	      reason == EXIT_REASON_APIC_ACCESS && vmcs_get(EXIT_QUALIFICATION) == APIC_ID &&
		      vmcs_get(GUEST_RIP) == (uint64_t)l2_load32,
	      "32-bit read of offset %#x: exit reason %u, qualification %#lx, at L2 RIP %+ld", APIC_ID, reason,
	      vmcs_get(EXIT_QUALIFICATION), (long)(vmcs_get(GUEST_RIP) - (uint64_t)l2_load32));
	vmclear(PA(vmcs_b));

	res = run_apic("tpr.apic_access_write_exit", l2_store32, a + APIC_ICR, 0, (uint64_t)vapic, 0, a, false, &regs);
	reason = reason_of(res);
	check("tpr.apic_access_write_exit",
	      reason == EXIT_REASON_APIC_ACCESS &&
		      vmcs_get(EXIT_QUALIFICATION) == (APIC_ACCESS_LINEAR_WRITE | APIC_ICR) && apic_access[APIC_ICR] == 0xa5,
	      "32-bit write of offset %#x: exit reason %u, qualification %#lx; the page's byte %#x", APIC_ICR, reason,
	      vmcs_get(EXIT_QUALIFICATION), apic_access[APIC_ICR]);
	vmclear(PA(vmcs_b));

	/* 29.4.2, 29.4.3: TPR reads and writes go to the virtual-APIC page, without an exit. */
	res = run_apic("tpr.apic_access_tpr_read", l2_load32, a + VTPR, 0, (uint64_t)vapic, 0, a, false, &regs);
	reason = reason_of(res);
	check("tpr.apic_access_tpr_read", reason == EXIT_REASON_VMCALL && regs.gpr[GPR_RBX] == 0x50,
	      "32-bit read of the TPR: exit reason %u, read %#lx (VTPR 0x50)", reason, regs.gpr[GPR_RBX]);
	vmclear(PA(vmcs_b));
	res = run_apic("tpr.apic_access_tpr_write", l2_store32, a + VTPR, 0x30, (uint64_t)vapic, 0, a, false, &regs);
	reason = reason_of(res);
	check("tpr.apic_access_tpr_write",
	      reason == EXIT_REASON_VMCALL && vapic[VTPR] == 0x30 && apic_access[VTPR] == 0xa5,
	      "32-bit write of 0x30 to the TPR: exit reason %u, VTPR %#x, the APIC-access page's byte %#x", reason,
	      vapic[VTPR], apic_access[VTPR]);
	vmclear(PA(vmcs_b));

	/* The same through L1's EPT: L2's address translates to the APIC-access page first (29.4.1). */
	if (proc2_allows(ENABLE_EPT) && (suite.caps.ept_vpid & EPT_CAP_INVEPT_ALL)) {
		res = run_apic("tpr.apic_access_ept", l2_load32, a + APIC_ID, 0, (uint64_t)vapic, 0, a, true, &regs);
		reason = reason_of(res);
		check("tpr.apic_access_ept", reason == EXIT_REASON_APIC_ACCESS && vmcs_get(EXIT_QUALIFICATION) == APIC_ID,
		      "L2 on EPT, 32-bit read of offset %#x: exit reason %u, qualification %#lx", APIC_ID, reason,
		      vmcs_get(EXIT_QUALIFICATION));
		vmclear(PA(vmcs_b));
		vapic[VTPR] = 0x50;
		res = run_apic("tpr.apic_access_ept_tpr_read", l2_load32, a + VTPR, 0, (uint64_t)vapic, 0, a, true, &regs);
		reason = reason_of(res);
		check("tpr.apic_access_ept_tpr_read", reason == EXIT_REASON_VMCALL && regs.gpr[GPR_RBX] == 0x50,
		      "L2 on EPT, 32-bit read of the TPR: exit reason %u, read %#lx (VTPR 0x50)", reason,
		      regs.gpr[GPR_RBX]);
		vmclear(PA(vmcs_b));
	} else {
		report("tpr.apic_access_ept", VERDICT_SKIP, "no EPT with INVEPT all-context");
	}

	/* 26.2.1.1: the APIC-access address is 4 KiB aligned. */
	res = run_apic("tpr.apic_access_unaligned", l2_vmcall, 0, 0, (uint64_t)vapic, 0, a + 0x80, false, &regs);
	expect_entry("tpr.apic_access_unaligned", res, VM_ENTRY_FAIL_VALID, VMXERR_ENTRY_INVALID_CONTROL_FIELD, NULL,
		     "APIC-access page not 4 KiB aligned");
	vmclear(PA(vmcs_b));

	/* 26.2.1.1: the threshold-against-VTPR check is only for entries without this control. */
	vapic[VTPR] = 0x50;
	res = run_apic("tpr.apic_access_threshold_above_vtpr", l2_vmcall, 0, 0, (uint64_t)vapic, 6, a, false, &regs);
	reason = reason_of(res);
	check("tpr.apic_access_threshold_above_vtpr",
	      reason == EXIT_REASON_VMCALL || reason == EXIT_REASON_TPR_BELOW_THRESHOLD,
	      "TPR threshold 6, VTPR 0x50: the entry succeeds (exit reason %u)", reason);
	vmclear(PA(vmcs_b));
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
	check_apic_access();
	check_x2apic_mode();
}
