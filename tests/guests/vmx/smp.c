/* SPDX-License-Identifier: BSD-2-Clause */
/* test=smp_l2: every CPU runs its own L2 at the same time (VMXON, VMCS and L2 stack per CPU). */
#include "arch/x86/cpu.h"
#include "arch/x86/idt.h"
#include "arch/x86/smp.h"
#include "arch/x86/vmx_controls.h"
#include "core/format.h"
#include "core/log.h"
#include "core/percpu.h"
#include "core/string.h"
#include "drivers/acpi.h"
#include "drivers/lapic.h"
#include "drivers/timer.h"
#include "core/hypercall.h"
#include "tests/guests/lib/report.h"
#include "tests/guests/lib/umbra.h"
#include "tests/guests/vmx/suite.h"

#define SMP_L2_CPUS 8
#define SMP_L2_ROUNDS 500
#define AP_TIMEOUT_MS 2000
#define DONE_TIMEOUT_US 20000000

static struct vmx_region cpu_vmxon[SMP_L2_CPUS], cpu_vmcs[SMP_L2_CPUS];
static uint8_t cpu_l2_stack[SMP_L2_CPUS][L2_STACK_SIZE] __aligned(16);
static volatile uint64_t rounds[SMP_L2_CPUS];
static volatile bool done[SMP_L2_CPUS];
static uint64_t l2_eptp; /* test=smp_l2_ept: every L2 on this EPT of L1's (VPID = CPU + 1); 0: none */

/* On the running CPU i: VMX on with its own regions, a VMCS for an L2 at rip on its own stack. */
static bool vmx_on_for_l2(uint32_t i, const char *rip)
{
	const struct vmx_caps *c = &suite.caps;

	write_cr0((read_cr0() | c->cr0_fixed0) & c->cr0_fixed1);
	write_cr4(((read_cr4() | c->cr4_fixed0) & c->cr4_fixed1) | CR4_VMXE);
	*(volatile uint32_t *)&cpu_vmxon[i] = suite.revision;
	*(volatile uint32_t *)&cpu_vmcs[i] = suite.revision;
	return vmxon(PA(cpu_vmxon[i])) == VMX_SUCCEED &&
	       vmcs_prepare(&cpu_vmcs[i], rip, (uint64_t)cpu_l2_stack[i] + L2_STACK_SIZE) == 0;
}

/*
 * BSP: VMX capabilities, local APIC and timer, then per-CPU slots for at
 * most max_cpus CPUs from the MADT. False (and a FAIL line) when it cannot.
 */
static bool smp_setup(const struct acpi_info *acpi, uint32_t max_cpus, const char *name)
{
	uint32_t bsp_apic;

	if (!suite_init() || !acpi || !lapic_global_init(LAPIC_MODE_AUTO)) {
		report(name, VERDICT_FAIL, "no VMX, ACPI or local APIC");
		return false;
	}
	lapic_cpu_init();
	timer_calibrate(acpi->pm_tmr_port, acpi->pm_tmr_32bit);
	bsp_apic = lapic_id();
	cpu_count = 1;
	for (size_t i = 0; i < acpi->cpu_count && cpu_count < max_cpus; i++)
		if (acpi->cpus[i].enabled && acpi->cpus[i].apic_id != bsp_apic)
			percpu_prepare(cpu_count++, acpi->cpus[i].apic_id);
	return true;
}

/* On the running CPU: VMX on, one L2 through SMP_L2_ROUNDS CPUID exits, VMX off. */
static void run_l2_here(uint32_t i)
{
	struct l2_regs regs;
	uint64_t n = 0;

	if (vmx_on_for_l2(i, l2_bench_loop)) {
		if (l2_eptp) {
			vmwrite(CPU_BASED_VM_EXEC_CONTROL, ctl_proc(SECONDARY_CONTROLS));
			vmwrite(SECONDARY_VM_EXEC_CONTROL, ctl_proc2(ENABLE_EPT | ENABLE_VPID));
			vmwrite(EPT_POINTER, l2_eptp);
			vmwrite(VIRTUAL_PROCESSOR_ID, i + 1);
		}
		l2_regs_default(&regs);
		if (vm_enter(&regs, 1) == VM_ENTRY_EXITED && bench_handle_exit(&regs)) {
			for (n = 1; n < SMP_L2_ROUNDS; n++)
				if (vm_enter(&regs, 0) != VM_ENTRY_EXITED || !bench_handle_exit(&regs))
					break;
		}
		vmxoff();
	}
	rounds[i] = n;
	__atomic_store_n(&done[i], true, __ATOMIC_RELEASE);
}

static void ap_l2(uint32_t index)
{
	percpu_init(index);
	idt_load();
	percpu_data[index].state = CPU_ONLINE; /* smp_start_aps() moves on to the next CPU */
	run_l2_here(index);
	cpu_halt_forever();
}

void smp_l2_run(const struct acpi_info *acpi, uint32_t expect_cpus, bool ept)
{
	uint32_t online;
	uint64_t deadline;
	char name[32];

	if (!smp_setup(acpi, SMP_L2_CPUS, "smp_l2.setup"))
		return;
	if (ept) {
		if (!proc2_allows(ENABLE_EPT | ENABLE_VPID)) {
			report("smp_l2.ept", VERDICT_FAIL, "EPT and VPID are not both offered");
			return;
		}
		l2_eptp = ept_identity_eptp(); /* built once, before the APs read it */
	}
	/* APs start one after the other and run their L2s while the next ones start. */
	online = smp_start_aps(ap_l2, AP_TIMEOUT_MS);
	run_l2_here(0);
	deadline = timer_deadline_us(DONE_TIMEOUT_US);
	for (uint32_t i = 1; i < cpu_count; i++)
		while (!__atomic_load_n(&done[i], __ATOMIC_ACQUIRE) && !timer_expired(deadline))
			cpu_relax();
	check("smp_l2.cpus", online == cpu_count && (!expect_cpus || online == expect_cpus),
	      "%u of %u CPU(s) online, %u expected", online, cpu_count, expect_cpus);
	for (uint32_t i = 0; i < cpu_count; i++) {
		fmt_snprintf(name, sizeof(name), "smp_l2.cpu%u", i);
		check(name, done[i] && rounds[i] == SMP_L2_ROUNDS, "%lu of %u L2 CPUID round trips",
		      rounds[i], SMP_L2_ROUNDS);
	}
}

/*
 * --- test=smp_init: an INIT for a CPU whose L1 runs an L2 is a VM exit to that L1 -----
 * test=smp_init_nmi: L1's NMI exiting on. First a real NMI for that CPU's L2 (L1 sees an
 * NMI exit), then the INIT (L1 sees the INIT exit, not an NMI exit for umbra's kick).
 * NMI first: Bochs keeps the INIT pending after an INIT-signal exit (the next VMRESUME
 * exits again with reason 3), so nothing may follow the INIT.
 */

/* L2 that never exits by itself. */
extern const char l2_spin[];
__asm__(".pushsection .text\n"
	".globl l2_spin\n"
	"l2_spin:\n\t"
	"jmp l2_spin\n"
	".popsection\n");

/* VM-exit interruption information of an NMI exit (SDM Vol. 3C 24.9.2): valid, type 2, vector 2. */
#define NMI_EXIT_INTR_INFO 0x80000202u

static volatile bool in_l2, init_seen, nmi_seen;
static volatile uint64_t init_reason, nmi_reason, nmi_intr_info;
static volatile int init_entry = -1;
static bool init_nmi_exiting;

static void ap_init_target(uint32_t index)
{
	struct l2_regs regs;
	int launch = 1;

	percpu_init(index);
	idt_load();
	percpu_data[index].state = CPU_ONLINE;
	if (vmx_on_for_l2(index, l2_spin) &&
	    (!init_nmi_exiting || vmwrite(PIN_BASED_VM_EXEC_CONTROL, ctl_pin(NMI_EXITING)) == VMX_SUCCEED)) {
		l2_regs_default(&regs);
		in_l2 = true;
		if (init_nmi_exiting) {
			/* The BSP's NMI is the first exit (SDM Vol. 3C 25.2, NMI exiting). */
			if (vm_enter(&regs, 1) == VM_ENTRY_EXITED) {
				nmi_reason = vmcs_get(VM_EXIT_REASON);
				nmi_intr_info = vmcs_get(VM_EXIT_INTR_INFO);
			}
			__atomic_store_n(&nmi_seen, true, __ATOMIC_RELEASE);
			launch = 0;
		}
		/* Only an exit brings L1 back here: the INIT the BSP sends (SDM Vol. 3C 25.2). */
		init_entry = vm_enter(&regs, launch);
		if (init_entry == VM_ENTRY_EXITED)
			init_reason = vmcs_get(VM_EXIT_REASON);
	}
	__atomic_store_n(&init_seen, true, __ATOMIC_RELEASE);
	cpu_halt_forever();
}

void smp_init_run(const struct acpi_info *acpi, bool nmi_exiting)
{
	const char *name = nmi_exiting ? "smp_init_nmi" : "smp_init";
	char check_name[40];
	uint64_t deadline;

	init_nmi_exiting = nmi_exiting;
	fmt_snprintf(check_name, sizeof(check_name), "%s.setup", name);
	if (!smp_setup(acpi, 2, check_name))
		return;
	if (cpu_count < 2 || smp_start_aps(ap_init_target, AP_TIMEOUT_MS) != 2) {
		fmt_snprintf(check_name, sizeof(check_name), "%s.ap", name);
		report(check_name, VERDICT_FAIL, "no second CPU came up");
		return;
	}
	deadline = timer_deadline_us(DONE_TIMEOUT_US);
	while (!in_l2 && !timer_expired(deadline))
		cpu_relax();
	udelay(20000); /* let the AP get well into its L2 */
	if (nmi_exiting) {
		lapic_send_nmi(percpu_data[1].apic_id);
		while (!__atomic_load_n(&nmi_seen, __ATOMIC_ACQUIRE) && !timer_expired(deadline))
			cpu_relax();
		check("smp_init_nmi.nmi_exit",
		      nmi_seen && nmi_reason == 0 && nmi_intr_info == NMI_EXIT_INTR_INFO,
		      "an NMI: exit reason %lu, interruption information %#lx, expected 0 and %#x",
		      nmi_reason, nmi_intr_info, NMI_EXIT_INTR_INFO);
		udelay(20000); /* the AP's L1 is back in its L2 */
	}
	lapic_send_init(percpu_data[1].apic_id);
	while (!__atomic_load_n(&init_seen, __ATOMIC_ACQUIRE) && !timer_expired(deadline))
		cpu_relax();
	fmt_snprintf(check_name, sizeof(check_name), "%s.exit_to_l1", name);
	check(check_name, init_seen && init_reason == 3,
	      "the AP's L1 saw exit reason %lu from its L2 (entry result %d), expected 3 (INIT signal)",
	      init_reason, init_entry);
}

/*
 * --- test=smp_shutdown (group "umbra"): umbra's shutdown while another CPU's L1 runs an
 * L2 with NMI exiting. umbra's stop NMI is umbra's: that CPU parks, its L1 never sees an
 * exit (an INFO line if it does), and the run ends with umbra's report.
 */
static volatile bool shutdown_ap_in_l2;

static void ap_shutdown_target(uint32_t index)
{
	struct l2_regs regs;
	int launch = 1;

	percpu_init(index);
	idt_load();
	percpu_data[index].state = CPU_ONLINE;
	if (vmx_on_for_l2(index, l2_spin) &&
	    vmwrite(PIN_BASED_VM_EXEC_CONTROL, ctl_pin(NMI_EXITING)) == VMX_SUCCEED) {
		l2_regs_default(&regs);
		shutdown_ap_in_l2 = true;
		for (;;) {
			if (vm_enter(&regs, launch) != VM_ENTRY_EXITED)
				break;
			launch = 0;
			info("smp_shutdown: cpu%u's L1 saw exit reason %lu from its L2", index,
			     vmcs_get(VM_EXIT_REASON));
		}
	}
	cpu_halt_forever();
}

void smp_shutdown_run(const struct acpi_info *acpi)
{
	uint64_t deadline;

	if (!under_umbra()) {
		report("umbra.smp_shutdown", VERDICT_SKIP, "umbra's shutdown hypercall needs umbra");
		return;
	}
	if (!smp_setup(acpi, 2, "umbra.smp_shutdown_setup"))
		return;
	if (cpu_count < 2 || smp_start_aps(ap_shutdown_target, AP_TIMEOUT_MS) != 2) {
		report("umbra.smp_shutdown_ap", VERDICT_FAIL, "no second CPU came up");
		return;
	}
	deadline = timer_deadline_us(DONE_TIMEOUT_US);
	while (!shutdown_ap_in_l2 && !timer_expired(deadline))
		cpu_relax();
	udelay(20000); /* the AP's L1 is well into its L2 */
	info("smp_shutdown: asking umbra to shut down");
	umbra_hypercall(UMBRA_HC_SHUTDOWN, 0, 0, 0);
	report("umbra.smp_shutdown", VERDICT_FAIL, "umbra's shutdown hypercall returned");
}
