/* SPDX-License-Identifier: BSD-2-Clause */
/* cpuid, msr and cr groups: the VMX-related CPU state an L1 hypervisor looks at first. */
#include "arch/x86/cpu.h"
#include "core/hypercall.h"
#include "core/string.h"
#include "tests/guests/basic/basic.h"
#include "tests/guests/lib/fault.h"
#include "tests/guests/lib/report.h"

#define VEC_GP 13
#define CPUID_80000001_EDX_LM BIT(29)

/* IA32_VMX_BASIC (SDM Vol. 3D A.1): revision in 30:0, VMCS region size in 44:32. */
#define VMX_BASIC_REVISION(v) ((uint32_t)(v) & 0x7fffffffu)
#define VMX_BASIC_VMCS_SIZE(v) ((uint32_t)((v) >> 32) & 0x1fffu)

/* IA32_APIC_BASE bit 10: the local APIC is in x2APIC mode (SDM Vol. 3A 10.12.1). */
#define APIC_BASE_EXTD BIT(10)
/* x2APIC ID register: an MSR only in x2APIC mode (SDM Vol. 3A 10.12.1.2). */
#define MSR_X2APIC_ID 0x802u
/* An index no Intel CPU implements (SDM Vol. 4 lists nothing near it). */
#define MSR_UNIMPLEMENTED 0x12345678u

static void regs_to_chars(char *out, const uint32_t *regs, size_t n)
{
	memcpy(out, regs, n * sizeof(*regs));
	out[n * sizeof(*regs)] = '\0';
}

void report_hypervisor(void)
{
	struct cpuid_regs r = cpuid(1, 0), base;
	uint32_t sig[3];
	char name[13];

	if (!(r.ecx & CPUID_1_ECX_HYPERVISOR)) {
		info("bare");
		return;
	}
	base = cpuid(UMBRA_CPUID_LEAF_BASE, 0);
	sig[0] = base.ebx;
	sig[1] = base.ecx;
	sig[2] = base.edx;
	regs_to_chars(name, sig, 3);
	if (base.ebx != UMBRA_CPUID_SIGNATURE_EBX || base.ecx != UMBRA_CPUID_SIGNATURE_ECX ||
	    base.edx != UMBRA_CPUID_SIGNATURE_EDX) {
		info("hypervisor \"%s\" (not umbra)", name);
		return;
	}
	info("under umbra");
	if (base.eax >= UMBRA_CPUID_LEAF_VERSION) {
		struct cpuid_regs ver = cpuid(UMBRA_CPUID_LEAF_VERSION, 0);

		info("umbra version %u.%u", ver.eax >> 16, ver.eax & 0xffff);
	} else {
		info("umbra version unknown (highest leaf %#x)", base.eax);
	}
}

void check_cpuid(void)
{
	struct cpuid_regs r0 = cpuid(0, 0), r1 = cpuid(1, 0), x0 = cpuid(0x80000000u, 0);
	struct cpuid_regs x1 = { 0 };
	uint32_t vendor_regs[3] = { r0.ebx, r0.edx, r0.ecx }; /* this order spells the vendor */
	char vendor[13];

	check("cpuid.vmx", r1.ecx & CPUID_1_ECX_VMX, "CPUID.1:ECX %#x", r1.ecx);
	regs_to_chars(vendor, vendor_regs, 3);
	check("cpuid.vendor", memcmp(vendor, "GenuineIntel", 12) == 0, "\"%s\"", vendor);
	if (x0.eax >= 0x80000001u)
		x1 = cpuid(0x80000001u, 0);
	check("cpuid.long_mode", x1.edx & CPUID_80000001_EDX_LM,
	      "highest extended leaf %#x, CPUID.80000001:EDX %#x", x0.eax, x1.edx);
}

/* Read an MSR that must not fault; a FAIL line names it when it does. */
static bool read_msr_checked(const char *name, uint32_t msr, uint64_t *val)
{
	struct fault_record f;

	if (rdmsr_safe(msr, val, &f))
		return true;
	report(name, VERDICT_FAIL, "RDMSR %#x raised vector %u error code %#lx", msr, f.vector,
	       f.error_code);
	return false;
}

void check_msrs(void)
{
	static const char fc_write[] = "msr.feature_control_write_gp";
	static const char x2apic_gp[] = "msr.x2apic_in_xapic_gp";
	const uint64_t cr0_fixed = CR0_PE | CR0_NE | CR0_PG;
	struct fault_record f;
	uint64_t fc, basic, fixed, val;

	/* Firmware locks it with VMX on (SDM Vol. 3C 23.7); an L1 must see the same. */
	if (read_msr_checked("msr.feature_control", MSR_IA32_FEATURE_CONTROL, &fc)) {
		check("msr.feature_control",
		      (fc & FEATURE_CONTROL_LOCKED) && (fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX),
		      "value %#lx", fc);
		/* Locked: every write #GPs. Writing back the value read is harmless if not. */
		if (wrmsr_safe(MSR_IA32_FEATURE_CONTROL, fc, &f))
			report(fc_write, VERDICT_FAIL, "WRMSR of %#lx succeeded", fc);
		else
			check(fc_write, f.vector == VEC_GP, "vector %u", f.vector);
	} else {
		report(fc_write, VERDICT_SKIP, "IA32_FEATURE_CONTROL unreadable");
	}

	if (read_msr_checked("msr.vmx_basic", MSR_IA32_VMX_BASIC, &basic)) {
		report("msr.vmx_basic", VERDICT_PASS, "value %#lx", basic);
		check("msr.vmx_basic_vmcs_size", VMX_BASIC_VMCS_SIZE(basic) == 4096,
		      "%u bytes", VMX_BASIC_VMCS_SIZE(basic));
		check("msr.vmx_basic_revision", VMX_BASIC_REVISION(basic) != 0, "revision %#x",
		      VMX_BASIC_REVISION(basic));
	} else {
		report("msr.vmx_basic_vmcs_size", VERDICT_SKIP, "IA32_VMX_BASIC unreadable");
		report("msr.vmx_basic_revision", VERDICT_SKIP, "IA32_VMX_BASIC unreadable");
	}

	/* SDM Vol. 3D A.7, A.8: bits fixed to 1 in VMX operation. */
	if (read_msr_checked("msr.vmx_cr0_fixed0", MSR_IA32_VMX_CR0_FIXED0, &fixed))
		check("msr.vmx_cr0_fixed0", (fixed & cr0_fixed) == cr0_fixed, "value %#lx", fixed);
	if (read_msr_checked("msr.vmx_cr4_fixed0", MSR_IA32_VMX_CR4_FIXED0, &fixed))
		check("msr.vmx_cr4_fixed0", fixed & CR4_VMXE, "value %#lx", fixed);

	/*
	 * An MSR that does not exist must #GP. A truly unimplemented index does
	 * not do on Bochs (its default ignore_bad_msrs=1 reads 0 and logs), so
	 * the verdict uses the x2APIC range while the APIC is in xAPIC mode,
	 * which #GPs on hardware and on Bochs alike (SDM Vol. 3A 10.12.1.2). A
	 * hypervisor that passes the x2APIC MSRs through would leak its own APIC.
	 */
	if (rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_EXTD)
		report(x2apic_gp, VERDICT_SKIP, "the APIC is in x2APIC mode");
	else if (rdmsr_safe(MSR_X2APIC_ID, &val, &f))
		report(x2apic_gp, VERDICT_FAIL, "RDMSR 0x802 returned %#lx in xAPIC mode", val);
	else
		check(x2apic_gp, f.vector == VEC_GP, "RDMSR 0x802: vector %u", f.vector);
	if (rdmsr_safe(MSR_UNIMPLEMENTED, &val, &f))
		info("msr: RDMSR %#x returned %#lx without a fault", MSR_UNIMPLEMENTED, val);
	else
		info("msr: RDMSR %#x raised vector %u", MSR_UNIMPLEMENTED, f.vector);
}

void check_control_regs(void)
{
	uint64_t cr0 = read_cr0(), cr4 = read_cr4(), v;

	/* Nothing has turned VMX on yet: an L1 must find CR4.VMXE clear, as on bare metal. */
	check("cr.vmxe_initial", !(cr4 & CR4_VMXE), "CR4 %#lx", cr4);
	write_cr4(cr4 | CR4_VMXE);
	v = read_cr4();
	check("cr.vmxe_set", v & CR4_VMXE, "CR4 %#lx after setting VMXE", v);
	write_cr4(cr4 & ~CR4_VMXE);
	v = read_cr4();
	check("cr.vmxe_clear", !(v & CR4_VMXE), "CR4 %#lx after clearing VMXE", v);
	write_cr4(cr4);

	/*
	 * CR0.NE is fixed to 1 in VMX operation, so a hypervisor below must
	 * shadow it: the guest still reads back exactly what it wrote.
	 */
	write_cr0(cr0 | CR0_NE);
	v = read_cr0();
	check("cr.ne_set", v & CR0_NE, "CR0 %#lx after setting NE (was %#lx)", v, cr0);
	write_cr0(cr0);
	v = read_cr0();
	check("cr.ne_restore", v == cr0, "CR0 %#lx after restoring %#lx", v, cr0);

	/*
	 * CPUID.1:ECX.OSXSAVE is the reader's CR4.OSXSAVE (SDM Vol. 2A CPUID),
	 * set or clear, whatever the hypervisor below uses itself.
	 */
	if (cpuid(1, 0).ecx & CPUID_1_ECX_XSAVE) {
		bool off, on;

		write_cr4(cr4 & ~CR4_OSXSAVE);
		off = !(cpuid(1, 0).ecx & CPUID_1_ECX_OSXSAVE);
		write_cr4(cr4 | CR4_OSXSAVE);
		on = cpuid(1, 0).ecx & CPUID_1_ECX_OSXSAVE;
		write_cr4(cr4);
		check("cpuid.osxsave_follows_cr4", off && on, "OSXSAVE with CR4.OSXSAVE clear: %s, set: %s",
		      off ? "0" : "1", on ? "1" : "0");
	} else {
		report("cpuid.osxsave_follows_cr4", VERDICT_SKIP, "no XSAVE");
	}
}
