/* SPDX-License-Identifier: BSD-2-Clause */
/* VM-entry MSR-load, VM-exit MSR-store and MSR-load lists (SDM Vol. 3C 24.7.2, 24.8.2, 26.4, 27.4, 27.6). */
#include "arch/x86/cpu.h"
#include "arch/x86/exit_reasons.h"
#include "tests/guests/lib/report.h"
#include "tests/guests/vmx/suite.h"

#define MSR_SYSENTER_CS 0x174
#define MSR_TSC_AUX 0xc0000103
#define MSR_VMX_BASIC 0x480
#define MSR_FS_BASE 0xc0000100
#define MSR_X2APIC_TPR 0x808
#define MSR_UNLISTED 0x1ff0 /* no MSR at this index on the CPUs the suite knows */
/* SDM Vol. 3C 26.8: a VM-entry failure while loading MSRs; qualification = entry, from 1. */
#define ENTRY_FAIL_MSR_LOADING ((uint32_t)(EXIT_REASON_ENTRY_FAILURE | EXIT_REASON_MSR_LOADING))
#define CPUID_80000001_EDX_RDTSCP BIT(27)

/* SDM Vol. 3C Table 24-12: one 16-byte entry of an MSR list. */
struct msr_entry {
	uint32_t index;
	uint32_t reserved;
	uint64_t value;
} __packed;

static struct msr_entry exit_load[2] __aligned(16), exit_store[2] __aligned(16);
static struct msr_entry entry_load[2] __aligned(16);

void check_msr_lists(void)
{
	uint64_t old_cs = rdmsr(MSR_SYSENTER_CS), old_aux = 0;
	bool aux = cpuid(0x80000001, 0).edx & CPUID_80000001_EDX_RDTSCP;
	struct l2_regs regs;
	enum vm_entry_result res;

	if (vmcs_prepare(&vmcs_a, l2_cpuid, L2_STACK_TOP) != 0) {
		report("msrlist.setup", VERDICT_FAIL, "VMCS set-up failed");
		return;
	}
	if (aux)
		old_aux = rdmsr(MSR_TSC_AUX);
	exit_load[0] = (struct msr_entry){ MSR_SYSENTER_CS, 0, 0x1234 };
	exit_load[1] = (struct msr_entry){ MSR_TSC_AUX, 0, 0x55 };
	exit_store[0] = (struct msr_entry){ MSR_SYSENTER_CS, 0, 0 };
	/* A VMX capability MSR stores what RDMSR gives this L1 (a hypervisor's virtual one). */
	exit_store[1] = (struct msr_entry){ MSR_VMX_BASIC, 0, 0 };
	vmwrite(VM_EXIT_MSR_LOAD_ADDR, (uint64_t)exit_load);
	vmwrite(VM_EXIT_MSR_LOAD_COUNT, aux ? 2 : 1);
	vmwrite(VM_EXIT_MSR_STORE_ADDR, (uint64_t)exit_store);
	vmwrite(VM_EXIT_MSR_STORE_COUNT, 2);
	vmwrite(GUEST_SYSENTER_CS, 0x42);
	l2_regs_default(&regs);
	res = vm_enter(&regs, 1);
	if (!expect_entry("msrlist.exit", res, VM_ENTRY_EXITED, EXIT_REASON_CPUID, l2_cpuid,
			  "L2 CPUID with VM-exit MSR lists"))
		return;
	check("msrlist.exit_store", exit_store[0].value == 0x42,
	      "IA32_SYSENTER_CS of L2 stored as %#lx, expected 0x42", exit_store[0].value);
	check("msrlist.exit_store_vmx_basic", exit_store[1].value == rdmsr(MSR_VMX_BASIC),
	      "IA32_VMX_BASIC stored as %#lx, RDMSR gives %#lx", exit_store[1].value, rdmsr(MSR_VMX_BASIC));
	check("msrlist.exit_load_sysenter_cs", rdmsr(MSR_SYSENTER_CS) == 0x1234,
	      "IA32_SYSENTER_CS after the exit %#lx, expected 0x1234 (the list wins over the host state)",
	      rdmsr(MSR_SYSENTER_CS));
	if (aux)
		check("msrlist.exit_load_tsc_aux", rdmsr(MSR_TSC_AUX) == 0x55,
		      "IA32_TSC_AUX after the exit %#lx, expected 0x55", rdmsr(MSR_TSC_AUX));
	else
		report("msrlist.exit_load_tsc_aux", VERDICT_SKIP, "no RDTSCP (IA32_TSC_AUX)");
	wrmsr(MSR_SYSENTER_CS, old_cs);
	if (aux)
		wrmsr(MSR_TSC_AUX, old_aux);
	vmclear(PA(vmcs_a));
}

/*
 * A fresh VMCS whose VM-entry MSR-load list is entry_load[0..count), then
 * VMLAUNCH. want_fail 0: the entry succeeds and L2 exits on its CPUID;
 * else the entry fails on that entry (SDM 26.4: reason 34, qualification
 * the entry's number from 1, L1 back at HOST_RIP).
 */
static void entry_load_case(const char *name, uint32_t count, uint32_t want_fail, const char *what)
{
	struct l2_regs regs;
	enum vm_entry_result res;
	uint32_t reason;
	uint64_t qual;

	if (vmcs_prepare(&vmcs_b, l2_cpuid, L2_STACK_TOP) != 0) {
		report(name, VERDICT_FAIL, "VMCS set-up failed");
		return;
	}
	vmwrite(VM_ENTRY_MSR_LOAD_ADDR, (uint64_t)entry_load);
	vmwrite(VM_ENTRY_MSR_LOAD_COUNT, count);
	l2_regs_default(&regs);
	res = vm_enter(&regs, 1);
	if (res != VM_ENTRY_EXITED) {
		expect_entry(name, res, VM_ENTRY_EXITED, want_fail ? ENTRY_FAIL_MSR_LOADING : EXIT_REASON_CPUID,
			     NULL, what);
	} else {
		reason = (uint32_t)vmcs_get(VM_EXIT_REASON);
		qual = vmcs_get(EXIT_QUALIFICATION);
		if (want_fail)
			check(name, reason == ENTRY_FAIL_MSR_LOADING && qual == want_fail,
			      "%s: exit reason %#x qualification %lu, expected %#x and %u", what, reason, qual,
			      ENTRY_FAIL_MSR_LOADING, want_fail);
		else
			check(name, reason == EXIT_REASON_CPUID, "%s: exit reason %#x, expected CPUID", what,
			      reason);
	}
	vmclear(PA(vmcs_b));
}

/* SDM Vol. 3C 26.4: the VM-entry MSR-load list and the entries that make the entry fail. */
void check_entry_msr_load(void)
{
	uint64_t old_cs = rdmsr(MSR_SYSENTER_CS), v;
	bool unlisted_ok = wrmsr_safe(MSR_UNLISTED, 0, NULL);

	entry_load[0] = (struct msr_entry){ MSR_SYSENTER_CS, 0, 0x77 };
	entry_load_case("msrlist.entry_load", 1, 0, "IA32_SYSENTER_CS from the VM-entry MSR-load list");
	v = 0;
	if (vmptrld(PA(vmcs_b)) == VMX_SUCCEED)
		v = vmcs_get(GUEST_SYSENTER_CS);
	check("msrlist.entry_load_value", v == 0x77, "L2's IA32_SYSENTER_CS saved as %#lx, expected 0x77", v);
	vmclear(PA(vmcs_b));
	entry_load[1] = (struct msr_entry){ MSR_SYSENTER_CS, 1, 0 };
	entry_load_case("msrlist.entry_load_reserved_bits", 2, 2, "second entry with bits 63:32 set");
	entry_load[0] = (struct msr_entry){ MSR_FS_BASE, 0, 0 };
	entry_load_case("msrlist.entry_load_fs_base", 1, 1, "IA32_FS_BASE in the list");
	entry_load[0] = (struct msr_entry){ MSR_X2APIC_TPR, 0, 0 };
	entry_load_case("msrlist.entry_load_x2apic", 1, 1, "an x2APIC MSR (bits 31:8 = 8) in the list");
	entry_load[0] = (struct msr_entry){ MSR_VMX_BASIC, 0, 0 };
	entry_load_case("msrlist.entry_load_read_only", 1, 1, "read-only IA32_VMX_BASIC in the list");
	/* An MSR the CPU may not have: the list must do what WRMSR does (26.4: #GP fails it). */
	entry_load[0] = (struct msr_entry){ MSR_UNLISTED, 0, 0 };
	entry_load_case("msrlist.entry_load_unlisted", 1, unlisted_ok ? 0 : 1,
			unlisted_ok ? "MSR 0x1ff0 (WRMSR accepts it here)" : "MSR 0x1ff0 (WRMSR faults on it)");
	wrmsr(MSR_SYSENTER_CS, old_cs);
}

/*
 * SDM Vol. 3C 26.8: a VM entry that fails on the guest state (here a bad
 * VMCS link pointer, qualification 4) still loads the host state and
 * processes the VM-exit MSR-load list.
 */
void check_entry_failure_exit_msrs(void)
{
	const char *name = "msrlist.entry_failure_exit_load";
	uint64_t old_cs = rdmsr(MSR_SYSENTER_CS), cs, qual;
	struct l2_regs regs;
	uint32_t reason = 0;

	if (vmcs_prepare(&vmcs_b, l2_cpuid, L2_STACK_TOP) != 0) {
		report(name, VERDICT_FAIL, "VMCS set-up failed");
		return;
	}
	exit_load[0] = (struct msr_entry){ MSR_SYSENTER_CS, 0, 0x4321 };
	vmwrite(VM_EXIT_MSR_LOAD_ADDR, (uint64_t)exit_load);
	vmwrite(VM_EXIT_MSR_LOAD_COUNT, 1);
	vmwrite(VMCS_LINK_POINTER, PA(vmcs_a) + 8);
	l2_regs_default(&regs);
	if (vm_enter(&regs, 1) == VM_ENTRY_EXITED)
		reason = (uint32_t)vmcs_get(VM_EXIT_REASON);
	qual = vmcs_get(EXIT_QUALIFICATION);
	cs = rdmsr(MSR_SYSENTER_CS);
	check(name, reason == (EXIT_REASON_ENTRY_FAILURE | EXIT_REASON_INVALID_GUEST_STATE) && qual == 4 &&
		    cs == 0x4321,
	      "bad link pointer: exit reason %#x qualification %lu, IA32_SYSENTER_CS %#lx (expected 0x4321)",
	      reason, qual, cs);
	wrmsr(MSR_SYSENTER_CS, old_cs);
	vmclear(PA(vmcs_b));
}

/*
 * test=entry_failure_guest_state (bare and under umbra, compared by the
 * lead; not in the suite's run while umbra fails it): a VM entry that
 * fails loading its MSR list (reason 34) saves no guest state (SDM Vol.
 * 3C 26.8): GUEST_SYSENTER_CS keeps what L1 wrote, not what the list's
 * first entry loaded before the second failed. Since main's 5e5ce1f umbra
 * copies vmcs02's guest area into vmcs12 at such a failure
 * (nested/reflect.c nvmx_entry_failure() -> nvmx_sync12()); the fuzzer's
 * seeds 147 and 1164 (of 1-3000 x 300 steps) and 200655, 200989 (of
 * 200001-203000 x 400) diverge on it (PDPTE0, SYSENTER_CS, SYSENTER_EIP).
 */
void entry_failure_guest_state_run(void)
{
	const char *name = "entry.msr_load_failure_keeps_guest_state";
	struct l2_regs regs;
	enum vm_entry_result res;
	uint64_t reason, qual, cs;

	if (!suite_init())
		return;
	write_cr4(read_cr4() | CR4_VMXE);
	if (vmxon(PA(vmxon_region)) != VMX_SUCCEED || vmcs_prepare(&vmcs_b, l2_vmcall, L2_STACK_TOP) != 0) {
		report(name, VERDICT_FAIL, "VMXON or the VMCS set-up failed");
		return;
	}
	entry_load[0] = (struct msr_entry){ MSR_SYSENTER_CS, 0, 0x1234 };
	entry_load[1] = (struct msr_entry){ MSR_FS_BASE, 0, 0x8000000000000000ULL }; /* non-canonical: fails (26.4) */
	vmwrite(VM_ENTRY_MSR_LOAD_ADDR, (uint64_t)entry_load);
	vmwrite(VM_ENTRY_MSR_LOAD_COUNT, 2);
	vmwrite(GUEST_SYSENTER_CS, 0x5678);
	l2_regs_default(&regs);
	res = vm_enter(&regs, 1);
	reason = vmcs_get(VM_EXIT_REASON);
	qual = vmcs_get(EXIT_QUALIFICATION);
	cs = vmcs_get(GUEST_SYSENTER_CS);
	check(name, res == VM_ENTRY_EXITED && reason == ENTRY_FAIL_MSR_LOADING && qual == 2 && cs == 0x5678,
	      "entry %d, exit reason %#lx qualification %lu, GUEST_SYSENTER_CS %#lx (expected %#x, 2, 0x5678)", res,
	      reason, qual, cs, ENTRY_FAIL_MSR_LOADING);
	vmclear(PA(vmcs_b));
	vmxoff();
}
