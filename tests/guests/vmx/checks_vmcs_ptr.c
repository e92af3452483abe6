/* SPDX-License-Identifier: BSD-2-Clause */
/* vmptrld, vmptrst and vmclear groups: the current-VMCS pointer (SDM Vol. 3C 24.1, 30.3). */
#include "tests/guests/lib/report.h"
#include "tests/guests/vmx/suite.h"

/* An address with bits 11:0 set: invalid for every VMX pointer. */
#define UNALIGNED(pa) ((pa) + 0x800)

static uint64_t current_vmcs(void)
{
	uint64_t pa = 0;

	if (vmptrst(&pa) != VMX_SUCCEED)
		return 0; /* VMPTRST has no failure mode; 0 is never a VMCS here */
	return pa;
}

static bool expect_current(const char *name, uint64_t want, const char *what)
{
	uint64_t pa = current_vmcs();

	return check(name, pa == want, "%s: VMPTRST stored %#lx, expected %#lx", what, pa, want);
}

void check_vmptrld(void)
{
	const uint64_t a = PA(vmcs_a);

	expect_outcome("vmptrld.success", outcome_of(vmptrld(a)), VMX_SUCCEED, 0, "VMPTRLD of VMCS A");
	expect_current("vmptrst.current", a, "after VMPTRLD of A");

	/* SDM Vol. 3C 30.3 VMPTRLD: VMfail(9), (10), (11); with A current, VMfailValid. */
	expect_outcome("vmptrld.unaligned", outcome_of(vmptrld(UNALIGNED(a))), VMX_FAIL_VALID,
		       VMXERR_VMPTRLD_INVALID_ADDRESS, "VMPTRLD of an address with bits 11:0 set");
	expect_outcome("vmptrld.beyond_maxphyaddr", outcome_of(vmptrld(suite.beyond_phys)),
		       VMX_FAIL_VALID, VMXERR_VMPTRLD_INVALID_ADDRESS,
		       "VMPTRLD beyond the physical-address width");
	expect_outcome("vmptrld.vmxon_pointer", outcome_of(vmptrld(PA(vmxon_region))),
		       VMX_FAIL_VALID, VMXERR_VMPTRLD_VMXON_POINTER, "VMPTRLD of the VMXON region");
	expect_outcome("vmptrld.bad_revision", outcome_of(vmptrld(PA(vmcs_bad_revision))),
		       VMX_FAIL_VALID, VMXERR_VMPTRLD_INCORRECT_REVISION_ID,
		       "VMPTRLD of a region with a wrong revision identifier");
	expect_current("vmptrld.failure_keeps_current", a, "after four failed VMPTRLDs");
}

void check_vmclear(void)
{
	const uint64_t a = PA(vmcs_a);
	uint64_t pa;

	/* SDM Vol. 3C 30.3 VMCLEAR: VMfail(2), (3); with A current, VMfailValid. */
	expect_outcome("vmclear.unaligned", outcome_of(vmclear(UNALIGNED(a))), VMX_FAIL_VALID,
		       VMXERR_VMCLEAR_INVALID_ADDRESS, "VMCLEAR of an address with bits 11:0 set");
	expect_outcome("vmclear.beyond_maxphyaddr", outcome_of(vmclear(suite.beyond_phys)),
		       VMX_FAIL_VALID, VMXERR_VMCLEAR_INVALID_ADDRESS,
		       "VMCLEAR beyond the physical-address width");
	expect_outcome("vmclear.vmxon_pointer", outcome_of(vmclear(PA(vmxon_region))),
		       VMX_FAIL_VALID, VMXERR_VMCLEAR_VMXON_POINTER, "VMCLEAR of the VMXON region");

	/* Clearing another VMCS leaves the current one alone. */
	if (expect_outcome("vmclear.not_current", outcome_of(vmclear(PA(vmcs_b))), VMX_SUCCEED, 0,
			   "VMCLEAR of B while A is current"))
		expect_current("vmclear.not_current_keeps_current", a, "after VMCLEAR of B");
	else
		report("vmclear.not_current_keeps_current", VERDICT_FAIL, "VMCLEAR of B failed");

	/* Clearing the current VMCS leaves none: VMPTRST stores all ones. */
	expect_outcome("vmclear.current", outcome_of(vmclear(a)), VMX_SUCCEED, 0,
		       "VMCLEAR of the current VMCS A");
	pa = current_vmcs();
	check("vmptrst.none", pa == VMCS_NONE, "VMPTRST stored %#lx with no current VMCS", pa);

	/* With no current VMCS the same failures are VMfailInvalid (SDM Vol. 3C 30.2). */
	expect_outcome("vmclear.no_current_vmcs", outcome_of(vmclear(UNALIGNED(a))),
		       VMX_FAIL_INVALID, 0, "VMCLEAR of an unaligned address, no current VMCS");
	expect_outcome("vmptrld.no_current_vmcs", outcome_of(vmptrld(PA(vmcs_bad_revision))),
		       VMX_FAIL_INVALID, 0, "VMPTRLD with a wrong revision, no current VMCS");
}
