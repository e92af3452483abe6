/* SPDX-License-Identifier: BSD-2-Clause */
/* VM-exit MSR-store and MSR-load lists (SDM Vol. 3C 24.7.2, 27.4, 27.6). */
#include "arch/x86/cpu.h"
#include "arch/x86/exit_reasons.h"
#include "tests/guests/lib/report.h"
#include "tests/guests/vmx/suite.h"

#define MSR_SYSENTER_CS 0x174
#define MSR_TSC_AUX 0xc0000103
#define CPUID_80000001_EDX_RDTSCP BIT(27)

/* SDM Vol. 3C Table 24-12: one 16-byte entry of an MSR list. */
struct msr_entry {
	uint32_t index;
	uint32_t reserved;
	uint64_t value;
} __packed;

static struct msr_entry exit_load[2] __aligned(16), exit_store[1] __aligned(16);

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
	vmwrite(VM_EXIT_MSR_LOAD_ADDR, (uint64_t)exit_load);
	vmwrite(VM_EXIT_MSR_LOAD_COUNT, aux ? 2 : 1);
	vmwrite(VM_EXIT_MSR_STORE_ADDR, (uint64_t)exit_store);
	vmwrite(VM_EXIT_MSR_STORE_COUNT, 1);
	vmwrite(GUEST_SYSENTER_CS, 0x42);
	l2_regs_default(&regs);
	res = vm_enter(&regs, 1);
	if (!expect_entry("msrlist.exit", res, VM_ENTRY_EXITED, EXIT_REASON_CPUID, l2_cpuid,
			  "L2 CPUID with VM-exit MSR lists"))
		return;
	check("msrlist.exit_store", exit_store[0].value == 0x42,
	      "IA32_SYSENTER_CS of L2 stored as %#lx, expected 0x42", exit_store[0].value);
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
