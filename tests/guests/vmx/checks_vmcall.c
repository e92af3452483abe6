/* SPDX-License-Identifier: BSD-2-Clause */
/* Group "umbra": VMCALL in VMX root operation (SDM Vol. 3C 30.3, VMCALL); Bochs 2.7 panics on it. */
#include "arch/x86/cpu.h"
#include "tests/guests/lib/report.h"
#include "tests/guests/lib/umbra.h"
#include "tests/guests/vmx/suite.h"

/* Not one of umbra's hypercall function numbers (core/hypercall.h): an L1 VMM's own VMCALL. */
#define VMCALL_RAX 0x5a5a0000ULL

static enum vmx_result vmcall_root(void)
{
	bool cf = false, zf = false;
	uint64_t rax = VMCALL_RAX;

	__asm__ volatile("vmcall" : "=@ccc"(cf), "=@ccz"(zf), "+a"(rax) : : "memory");
	return VMX_ASM_RESULT(cf, zf);
}

/*
 * In VMX root operation at CPL 0 without the dual-monitor treatment,
 * VMCALL is VMfail(VMCALL executed in VMX root operation): VMfailValid(1)
 * with a current VMCS, VMfailInvalid without. Bochs 2.7 stops the
 * emulator there ("VMCALL: not implemented yet"), so only under umbra,
 * whose hypercalls in VMX root are RAX 0-4 only (core/hypercall.h).
 */
void check_umbra_vmcall(void)
{
	uint64_t cur = VMCS_NONE;

	if (!under_umbra())
		return;
	if (vmcs_prepare(&vmcs_b, l2_vmcall, L2_STACK_TOP) != 0) {
		report("umbra.vmcall_root_current_vmcs", VERDICT_FAIL, "VMCS set-up failed");
		return;
	}
	expect_outcome("umbra.vmcall_root_current_vmcs", outcome_of(vmcall_root()), VMX_FAIL_VALID,
		       VMXERR_VMCALL_IN_ROOT, "VMCALL in VMX root with a current VMCS");
	vmclear(PA(vmcs_b));
	vmptrst(&cur);
	if (cur != VMCS_NONE)
		report("umbra.vmcall_root_no_vmcs", VERDICT_FAIL, "VMCLEAR left a current VMCS %#lx", cur);
	else
		expect_outcome("umbra.vmcall_root_no_vmcs", outcome_of(vmcall_root()), VMX_FAIL_INVALID, 0,
			       "VMCALL in VMX root without a current VMCS");
}
