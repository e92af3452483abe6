/* SPDX-License-Identifier: BSD-2-Clause */
/* vmxon and vmxoff groups: entering and leaving VMX operation (SDM Vol. 3C 23.7-23.8, 30.3). */
#include "arch/x86/cpu.h"
#include "tests/guests/lib/report.h"
#include "tests/guests/vmx/suite.h"

#define VEC_UD 6
#define VEC_GP 13

/* A guarded instruction that should fault with vector want. */
static bool expect_fault(const char *name, bool completed, const struct fault_record *f,
			 uint8_t want, const char *what)
{
	if (completed)
		return check(name, false, "%s completed, expected vector %u", what, want);
	return check(name, f->vector == want, "%s: vector %u, expected %u", what, f->vector, want);
}

/* VMXON through the guard: a fault is reported as such instead of ending the run. */
static bool expect_vmxon(const char *name, uint64_t pa, enum vmx_result want, uint32_t want_err,
			 const char *what)
{
	struct fault_record f;
	enum vmx_result r;

	if (!vmxon_guarded(pa, &r, &f))
		return check(name, false, "%s: vector %u", what, f.vector);
	if (r == VMX_SUCCEED)
		suite.vmx_on = true;
	return expect_outcome(name, outcome_of(r), want, want_err, what);
}

bool check_vmxon(void)
{
	const struct vmx_caps *c = &suite.caps;
	uint64_t cr0 = read_cr0(), cr4 = read_cr4();
	struct fault_record f;
	enum vmx_result r;
	bool done;

	/* SDM Vol. 3C 30.3 VMXON: #UD when CR4.VMXE = 0, before anything else. */
	done = vmxon_guarded(PA(vmxon_region), &r, &f);
	if (done && r == VMX_SUCCEED)
		suite.vmx_on = true;
	expect_fault("vmxon.ud_without_vmxe", done, &f, VEC_UD, "VMXON with CR4.VMXE=0");

	cr4 |= CR4_VMXE;
	write_cr4(cr4);
	/* #GP(0) when CR0 is not as IA32_VMX_CR0_FIXED0 wants (NE, outside VMX operation still clearable). */
	if (suite.vmx_on) {
		report("vmxon.gp_without_cr0_ne", VERDICT_FAIL, "already in VMX operation");
	} else if (!(c->cr0_fixed0 & CR0_NE)) {
		report("vmxon.gp_without_cr0_ne", VERDICT_SKIP, "CR0.NE not fixed to 1 in IA32_VMX_CR0_FIXED0");
	} else {
		write_cr0(cr0 & ~CR0_NE);
		done = vmxon_guarded(PA(vmxon_region), &r, &f);
		if (done && r == VMX_SUCCEED)
			suite.vmx_on = true;
		write_cr0(cr0);
		expect_fault("vmxon.gp_without_cr0_ne", done, &f, VEC_GP, "VMXON with CR0.NE=0");
	}

	/* Outside VMX operation there is no current VMCS: every failure is VMfailInvalid. */
	expect_vmxon("vmxon.bad_revision", PA(vmcs_bad_revision), VMX_FAIL_INVALID, 0,
		     "VMXON of a region with a wrong revision identifier");
	expect_vmxon("vmxon.unaligned", PA(vmxon_region) + 0x800, VMX_FAIL_INVALID, 0,
		     "VMXON of an address with bits 11:0 set");
	expect_vmxon("vmxon.beyond_maxphyaddr", suite.beyond_phys, VMX_FAIL_INVALID, 0,
		     "VMXON beyond the physical-address width");
	if (!expect_vmxon("vmxon.success", PA(vmxon_region), VMX_SUCCEED, 0, "VMXON") &&
	    !suite.vmx_on)
		return false;

	/* In VMX root operation: VMfail(15), which is VMfailInvalid until a VMCS is current. */
	expect_vmxon("vmxon.in_root_no_current_vmcs", PA(vmxon_region), VMX_FAIL_INVALID, 0,
		     "VMXON in VMX root operation without a current VMCS");
	r = vmptrld(PA(vmcs_scratch));
	expect_vmxon("vmxon.in_root", PA(vmxon_region), VMX_FAIL_VALID,
		     VMXERR_VMXON_IN_VMX_ROOT_OPERATION,
		     r == VMX_SUCCEED ? "VMXON in VMX root operation"
				      : "VMXON in VMX root operation (VMPTRLD of a VMCS failed)");

	/* SDM Vol. 3C 23.8: fixed bits cannot be cleared in VMX operation (#GP). */
	done = write_cr4_guarded(cr4 & ~CR4_VMXE, &f);
	if (done)
		write_cr4(cr4);
	expect_fault("vmxon.clear_cr4_vmxe_gp", done, &f, VEC_GP, "MOV to CR4 clearing VMXE");
	if (!(c->cr0_fixed0 & CR0_NE)) {
		report("vmxon.clear_cr0_ne_gp", VERDICT_SKIP, "CR0.NE not fixed to 1 in IA32_VMX_CR0_FIXED0");
	} else {
		done = write_cr0_guarded(cr0 & ~CR0_NE, &f);
		if (done)
			write_cr0(cr0);
		expect_fault("vmxon.clear_cr0_ne_gp", done, &f, VEC_GP, "MOV to CR0 clearing NE");
	}
	return true;
}

void check_vmxoff(void)
{
	uint64_t cr4 = read_cr4(), v;
	struct fault_record f;
	enum vmx_result r;
	bool done;

	done = vmxoff_guarded(&r, &f);
	if (!done)
		check("vmxoff.success", false, "VMXOFF: vector %u", f.vector);
	else
		expect_outcome("vmxoff.success", outcome_of(r), VMX_SUCCEED, 0, "VMXOFF");
	if (done && r == VMX_SUCCEED)
		suite.vmx_on = false;

	/* Outside VMX operation every VMX instruction but VMXON is #UD (SDM Vol. 3C 30.3). */
	done = vmread_guarded(GUEST_RIP, &v, &r, &f);
	expect_fault("vmxoff.vmread_ud", done, &f, VEC_UD, "VMREAD after VMXOFF");
	done = vmxoff_guarded(&r, &f);
	expect_fault("vmxoff.vmxoff_ud", done, &f, VEC_UD, "VMXOFF outside VMX operation");

	/* Out of VMX operation, CR4.VMXE is an ordinary bit again. */
	if (write_cr4_guarded(cr4 & ~CR4_VMXE, &f))
		check("vmxoff.clear_cr4_vmxe", !(read_cr4() & CR4_VMXE), "CR4 %#lx after clearing VMXE",
		      read_cr4());
	else
		check("vmxoff.clear_cr4_vmxe", false, "MOV to CR4 clearing VMXE: vector %u", f.vector);
}
