/* SPDX-License-Identifier: BSD-2-Clause */
/* Group "umbra" checks of umbra's rules where the SDM leaves the answer open, and hostile-L1 modes. */
#include "arch/x86/cpu.h"
#include "arch/x86/exit_reasons.h"
#include "arch/x86/vmx_caps.h"
#include "arch/x86/vmx_controls.h"
#include "tests/guests/lib/report.h"
#include "tests/guests/lib/umbra.h"
#include "tests/guests/vmx/suite.h"

#define MSR_SYSENTER_CS 0x174
#define MSR_X2APIC_TPR 0x808
#define LIST_ENTRIES_MAX 1025

struct msr_entry {
	uint32_t index;
	uint32_t reserved;
	uint64_t value;
} __packed;

static struct msr_entry big_list[LIST_ENTRIES_MAX] __aligned(16);

/*
 * SDM Vol. 3C A.6: more than 512 * (IA32_VMX_MISC[27:25] + 1) entries in a
 * list is undefined behaviour. umbra's rule (nested/msr_lists.c): the
 * first entry beyond the maximum fails, so a VM-entry MSR-load list one
 * entry too long is a VM-entry failure (reason 34) on that entry; a CPU
 * may process it all (Bochs does), hence only under umbra.
 */
void check_umbra_msr_list_cap(void)
{
	uint32_t max = VMX_MISC_MAX_MSR_LIST(rdmsr(MSR_IA32_VMX_MISC)), reason;
	struct l2_regs regs;
	uint64_t qual;

	if (!under_umbra())
		return;
	if (max + 1 > LIST_ENTRIES_MAX) {
		report("umbra.msr_list_cap", VERDICT_SKIP, "maximum list size %u", max);
		return;
	}
	for (uint32_t i = 0; i <= max; i++)
		big_list[i] = (struct msr_entry){ MSR_SYSENTER_CS, 0, i };
	if (vmcs_prepare(&vmcs_b, l2_cpuid, L2_STACK_TOP) != 0) {
		report("umbra.msr_list_cap", VERDICT_FAIL, "VMCS set-up failed");
		return;
	}
	vmwrite(VM_ENTRY_MSR_LOAD_ADDR, (uint64_t)big_list);
	vmwrite(VM_ENTRY_MSR_LOAD_COUNT, max + 1);
	l2_regs_default(&regs);
	if (vm_enter(&regs, 1) != VM_ENTRY_EXITED) {
		report("umbra.msr_list_cap", VERDICT_FAIL, "VMLAUNCH did not come back through HOST_RIP");
	} else {
		reason = (uint32_t)vmcs_get(VM_EXIT_REASON);
		qual = vmcs_get(EXIT_QUALIFICATION);
		check("umbra.msr_list_cap",
		      reason == (EXIT_REASON_ENTRY_FAILURE | EXIT_REASON_MSR_LOADING) && qual == max + 1,
		      "%u entries (maximum %u): exit reason %#x qualification %lu", max + 1, max, reason, qual);
	}
	vmclear(PA(vmcs_b));
}

/*
 * test=msr_store_abort: a VM-exit MSR-store list with an x2APIC MSR (SDM
 * 27.4: the exit fails, a VMX abort, 27.7). Under umbra L1's CPU stops
 * with a report and umbra itself goes on; bare, the CPU shuts down.
 */
void msr_store_abort_run(void)
{
	struct l2_regs regs;

	if (!suite_init())
		return;
	write_cr4(read_cr4() | CR4_VMXE);
	if (vmxon(PA(vmxon_region)) != VMX_SUCCEED || vmcs_prepare(&vmcs_a, l2_cpuid, L2_STACK_TOP) != 0) {
		report("msr_store_abort.setup", VERDICT_FAIL, "VMXON or VMCS set-up failed");
		return;
	}
	big_list[0] = (struct msr_entry){ MSR_X2APIC_TPR, 0, 0 };
	vmwrite(VM_EXIT_MSR_STORE_ADDR, (uint64_t)big_list);
	vmwrite(VM_EXIT_MSR_STORE_COUNT, 1);
	l2_regs_default(&regs);
	info("msr_store_abort: VMLAUNCH with an x2APIC MSR in the VM-exit MSR-store list");
	vm_enter(&regs, 1);
	report("msr_store_abort.unreachable", VERDICT_FAIL, "L1 went on after a VMX abort: exit reason %#lx",
	       vmcs_get(VM_EXIT_REASON));
}

/*
 * Wait-for-SIPI would hand the physical CPU to L2 until a SIPI umbra never
 * sends it (NMIs and INIT blocked): umbra does not advertise the state
 * (nested/vmx_msrs.c), and an L2 entered in it is a failed VM entry.
 */
void check_umbra_no_wait_for_sipi(void)
{
	uint64_t misc = rdmsr(MSR_IA32_VMX_MISC);

	if (!under_umbra())
		return;
	check("umbra.no_wait_for_sipi", !(misc & VMX_MISC_ACTIVITY_WAIT_SIPI),
	      "IA32_VMX_MISC %#lx: wait-for-SIPI %s", misc,
	      (misc & VMX_MISC_ACTIVITY_WAIT_SIPI) ? "advertised" : "not advertised");
}

/*
 * SDM Vol. 3C 26.2.1.3: interruption type 7 (other event) is allowed only
 * when the 1-setting of "monitor trap flag" is; else VMfailValid(7). Bochs
 * 2.7 accepts it (docs: platform.md), so this is umbra's group.
 */
void check_umbra_inject_other_event(void)
{
	struct l2_regs regs;
	enum vm_entry_result res;
	uint32_t err = 0;

	if (!under_umbra())
		return;
	if (proc_allows(MONITOR_TRAP_FLAG)) {
		report("umbra.inject_other_event", VERDICT_SKIP, "monitor trap flag advertised");
		return;
	}
	if (vmcs_prepare(&vmcs_b, l2_vmcall, L2_STACK_TOP) != 0) {
		report("umbra.inject_other_event", VERDICT_FAIL, "VMCS set-up failed");
		return;
	}
	vmwrite(VM_ENTRY_INTR_INFO, BIT(31) | (7u << 8));
	l2_regs_default(&regs);
	res = vm_enter(&regs, 1);
	if (res == VM_ENTRY_FAIL_VALID)
		err = (uint32_t)vmcs_get(VM_INSTRUCTION_ERROR);
	check("umbra.inject_other_event", res == VM_ENTRY_FAIL_VALID && err == VMXERR_ENTRY_INVALID_CONTROL_FIELD,
	      "type 7 vector 0 without monitor trap flag: entry result %d error %u, expected VMfailValid(%u)",
	      res, err, VMXERR_ENTRY_INVALID_CONTROL_FIELD);
	vmclear(PA(vmcs_b));
}
