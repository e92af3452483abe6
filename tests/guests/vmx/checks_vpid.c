/* SPDX-License-Identifier: BSD-2-Clause */
/* vpid group: "enable VPID" for L2 and INVVPID (SDM Vol. 3C 26.2.1.1, 28.3.3, 30.3). */
#include "arch/x86/cpu.h"
#include "core/types.h" /* arch/x86/exit_reasons.h does not include it */
#include "arch/x86/exit_reasons.h"
#include "arch/x86/vmx_caps.h"
#include "arch/x86/vmx_controls.h"
#include "tests/guests/lib/report.h"
#include "tests/guests/vmx/suite.h"

#define PTE_P BIT(0)
#define PTE_RW BIT(1)
/* An unused PML4 slot (checks_paging.c uses 3): one 4 KiB page L2 reads, L1 never does. */
#define PML4_SLOT 4
#define L2_LINEAR ((uint64_t)PML4_SLOT << 39)
#define L2_VPID 5
#define NONCANONICAL 0x8000000000000000ULL

static uint64_t pdpt[512] __aligned(PAGE_SIZE), pd[512] __aligned(PAGE_SIZE), pt[512] __aligned(PAGE_SIZE);
static uint64_t page_a[512] __aligned(PAGE_SIZE), page_b[512] __aligned(PAGE_SIZE);

static bool vpid_cap(uint64_t bit)
{
	return (suite.caps.ept_vpid & bit) != 0;
}

/* Every type the CPU lists, and each way a descriptor is invalid (30.3, INVVPID). */
static void check_invvpid(void)
{
	static const struct {
		const char *name;
		uint64_t type, cap;
	} types[] = {
		{ "invvpid.individual_address", INVVPID_INDIVIDUAL_ADDRESS, VPID_CAP_INVVPID_ADDR },
		{ "invvpid.single_context", INVVPID_SINGLE_CONTEXT, VPID_CAP_INVVPID_SINGLE },
		{ "invvpid.all_context", INVVPID_ALL_CONTEXT, VPID_CAP_INVVPID_ALL },
		{ "invvpid.single_context_globals", INVVPID_SINGLE_CONTEXT_RETAINING_GLOBALS,
		  VPID_CAP_INVVPID_SINGLE_NONGLOBAL },
	};

	/* A current VMCS makes the failures VMfailValid. */
	if (vmptrld(PA(vmcs_scratch)) != VMX_SUCCEED) {
		report("invvpid.setup", VERDICT_FAIL, "VMPTRLD of the scratch VMCS failed");
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
		if (vpid_cap(types[i].cap))
			expect_outcome(types[i].name, outcome_of(invvpid(types[i].type, L2_VPID, L2_LINEAR)),
				       VMX_SUCCEED, 0, "a listed type, VPID 5");
		else
			expect_outcome(types[i].name, outcome_of(invvpid(types[i].type, L2_VPID, L2_LINEAR)),
				       VMX_FAIL_VALID, VMXERR_INVALID_OPERAND_TO_INVEPT_INVVPID, "a type not listed");
	}
	expect_outcome("invvpid.type_4", outcome_of(invvpid(4, L2_VPID, 0)), VMX_FAIL_VALID,
		       VMXERR_INVALID_OPERAND_TO_INVEPT_INVVPID, "type 4 (none)");
	if (vpid_cap(VPID_CAP_INVVPID_SINGLE)) {
		expect_outcome("invvpid.single_vpid_0", outcome_of(invvpid(INVVPID_SINGLE_CONTEXT, 0, 0)),
			       VMX_FAIL_VALID, VMXERR_INVALID_OPERAND_TO_INVEPT_INVVPID, "single-context, VPID 0");
		expect_outcome("invvpid.reserved_bits",
			       outcome_of(invvpid(INVVPID_SINGLE_CONTEXT, BIT(16) | L2_VPID, 0)), VMX_FAIL_VALID,
			       VMXERR_INVALID_OPERAND_TO_INVEPT_INVVPID, "descriptor bit 16 set");
	}
	if (vpid_cap(VPID_CAP_INVVPID_ALL))
		expect_outcome("invvpid.all_vpid_0", outcome_of(invvpid(INVVPID_ALL_CONTEXT, 0, 0)), VMX_SUCCEED,
			       0, "all-context ignores the VPID");
	if (vpid_cap(VPID_CAP_INVVPID_ADDR))
		expect_outcome("invvpid.noncanonical",
			       outcome_of(invvpid(INVVPID_INDIVIDUAL_ADDRESS, L2_VPID, NONCANONICAL)),
			       VMX_FAIL_VALID, VMXERR_INVALID_OPERAND_TO_INVEPT_INVVPID,
			       "individual-address, non-canonical address");
	vmclear(PA(vmcs_scratch));
}

/* L2 with VPID vpid reads the quadword at L2_LINEAR (l2_load_rax): the VM exit's RBX, or ~0 on failure. */
static uint64_t l2_reads(const char *name, uint16_t vpid, int launch)
{
	struct l2_regs regs;
	enum vm_entry_result res;
	char buf[48];

	if (launch) {
		if (vmcs_prepare(&vmcs_b, l2_load_rax, L2_STACK_TOP) != 0) {
			report(name, VERDICT_FAIL, "VMCS set-up failed");
			return ~0ULL;
		}
		vmwrite(CPU_BASED_VM_EXEC_CONTROL, ctl_proc(SECONDARY_CONTROLS));
		vmwrite(SECONDARY_VM_EXEC_CONTROL, ctl_proc2(ENABLE_VPID));
	} else {
		vmwrite(GUEST_RIP, (uint64_t)l2_load_rax);
		vmwrite(GUEST_RSP, L2_STACK_TOP);
	}
	vmwrite(VIRTUAL_PROCESSOR_ID, vpid);
	l2_regs_default(&regs);
	regs.gpr[GPR_RAX] = L2_LINEAR;
	res = vm_enter(&regs, launch);
	if (res != VM_ENTRY_EXITED || vmcs_get(VM_EXIT_REASON) != EXIT_REASON_VMCALL) {
		report(name, VERDICT_FAIL, "L2 did not reach its VMCALL: %s, exit reason %lu",
		       entry_str(res, buf, sizeof(buf)), vmcs_get(VM_EXIT_REASON));
		return ~0ULL;
	}
	return regs.gpr[GPR_RBX];
}

/*
 * An L2 with a VPID: VPID 0 fails the entry (26.2.1.1); a mapping L1
 * changes is seen by L2 after L1's INVVPID of that VPID (28.3.3.3). A
 * stale translation without INVVPID is allowed, not required: not checked.
 * Bochs 2.7 drops its TLB at VM transitions, so there these checks pass
 * even if a hypervisor under test forgot to flush; they catch wrong
 * mappings and entry failures, and a missing flush only on a CPU that
 * keeps tagged translations.
 */
static void check_vpid_l2(void)
{
	uint64_t *pml4 = (uint64_t *)(read_cr3() & ~0xfffULL), got;
	enum vm_entry_result res;
	struct l2_regs regs;

	if (vmcs_prepare(&vmcs_b, l2_vmcall, L2_STACK_TOP) != 0) {
		report("vpid.entry_vpid_0", VERDICT_FAIL, "VMCS set-up failed");
		return;
	}
	vmwrite(CPU_BASED_VM_EXEC_CONTROL, ctl_proc(SECONDARY_CONTROLS));
	vmwrite(SECONDARY_VM_EXEC_CONTROL, ctl_proc2(ENABLE_VPID));
	vmwrite(VIRTUAL_PROCESSOR_ID, 0);
	l2_regs_default(&regs);
	res = vm_enter(&regs, 1);
	expect_entry("vpid.entry_vpid_0", res, VM_ENTRY_FAIL_VALID, VMXERR_ENTRY_INVALID_CONTROL_FIELD, NULL,
		     "VMLAUNCH with enable VPID and VPID 0");
	vmclear(PA(vmcs_b));

	if (pml4[PML4_SLOT] & PTE_P) {
		report("vpid.invvpid_new_mapping", VERDICT_SKIP, "PML4 slot %d in use", PML4_SLOT);
		return;
	}
	page_a[0] = 0xaaaa;
	page_b[0] = 0xbbbb;
	pdpt[0] = (uint64_t)pd | PTE_P | PTE_RW;
	pd[0] = (uint64_t)pt | PTE_P | PTE_RW;
	pt[0] = (uint64_t)page_a | PTE_P | PTE_RW;
	pml4[PML4_SLOT] = (uint64_t)pdpt | PTE_P | PTE_RW;
	got = l2_reads("vpid.l2_reads", L2_VPID, 1);
	check("vpid.l2_reads", got == 0xaaaa, "L2 with VPID %u read %#lx, expected 0xaaaa", L2_VPID, got);
	if (got == 0xaaaa) {
		pt[0] = (uint64_t)page_b | PTE_P | PTE_RW;
		invvpid(vpid_cap(VPID_CAP_INVVPID_SINGLE) ? INVVPID_SINGLE_CONTEXT : INVVPID_ALL_CONTEXT, L2_VPID,
			    0);
		got = l2_reads("vpid.invvpid_new_mapping", L2_VPID, 0);
		check("vpid.invvpid_new_mapping", got == 0xbbbb,
		      "after the PTE moved to page B and INVVPID: L2 read %#lx, expected 0xbbbb", got);
		/* Another VPID never saw page A: it reads B whatever was cached for VPID 5. */
		pt[0] = (uint64_t)page_a | PTE_P | PTE_RW;
		invvpid(INVVPID_ALL_CONTEXT, 0, 0);
		got = l2_reads("vpid.other_vpid", L2_VPID + 1, 0);
		check("vpid.other_vpid", got == 0xaaaa, "L2 with VPID %u read %#lx, expected 0xaaaa", L2_VPID + 1,
		      got);
	}
	pml4[PML4_SLOT] = 0;
	__asm__ volatile("invlpg (%0)" ::"r"(L2_LINEAR) : "memory");
	vmclear(PA(vmcs_b));
}

void check_vpid(void)
{
	if (!proc2_allows(ENABLE_VPID) || !vpid_cap(VPID_CAP_INVVPID)) {
		report("vpid.offered", VERDICT_SKIP, "enable VPID or INVVPID not offered");
		return;
	}
	check_invvpid();
	check_vpid_l2();
}
