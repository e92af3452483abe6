/* SPDX-License-Identifier: BSD-2-Clause */
/* test=nmi_levels: an NMI pending for L1 when L1 enters an L2 with NMI exiting is L1's NMI exit. */
/*
 * Group "umbra" only: Bochs 2.7 does not clear blocking by NMI at VM entry
 * (SDM Vol. 3C 26.6.1 says L2's interruptibility state decides), so bare on
 * Bochs the pending NMI never comes and L2 spins. Under umbra the same L1
 * checks umbra's rule, which follows the SDM here.
 */
#include "arch/x86/cpu.h"
#include "arch/x86/idt.h"
#include "arch/x86/vmx_controls.h"
#include "drivers/acpi.h"
#include "drivers/lapic.h"
#include "drivers/timer.h"
#include "tests/guests/lib/report.h"
#include "tests/guests/lib/umbra.h"
#include "tests/guests/vmx/suite.h"

/* VM-exit interruption information of an NMI exit (SDM Vol. 3C 24.9.2): valid, type 2, vector 2. */
#define NMI_EXIT_INTR_INFO 0x80000202u
/* A 64-bit interrupt gate, present, DPL 0 (SDM Vol. 3A 6.14.1). */
#define GATE_INTERRUPT64 0x8eULL
#define L2_IDT_VECTORS 3
/* Time for an NMI IPI to this CPU to be latched (it is blocked meanwhile). */
#define NMI_LATCH_US 2000

/* L2's own NMI handler: a VMCALL, so an NMI delivered to L2 shows as exit 18 at l2_nmi_stub. */
extern const char l2_nmi_stub[], l2_nmi_spin[];
__asm__(".pushsection .text\n"
	".globl l2_nmi_stub, l2_nmi_spin\n"
	"l2_nmi_stub:\n\t"
	"vmcall\n\t"
	"jmp l2_nmi_stub\n"
	"l2_nmi_spin:\n\t"
	"pause\n\t"
	"jmp l2_nmi_spin\n"
	".popsection\n");

static uint64_t l2_idt[2 * L2_IDT_VECTORS] __aligned(16);
static volatile uint32_t l1_nmis;
static volatile uint64_t exit_reason, exit_intr, exit_rip;
static volatile int entry_result = -1;

static void l2_idt_build(void)
{
	uint64_t off = (uint64_t)l2_nmi_stub;
	uint16_t cs;

	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	l2_idt[2 * VEC_NMI] = (off & 0xffff) | ((uint64_t)cs << 16) | (GATE_INTERRUPT64 << 40) |
			      (((off >> 16) & 0xffff) << 48);
	l2_idt[2 * VEC_NMI + 1] = off >> 32;
}

/*
 * L1's NMI handler: NMIs are blocked until its IRET (SDM Vol. 3A 6.7.1). The
 * first time, a second NMI to this CPU stays pending, then L1 launches an L2
 * with NMI exiting: the pending NMI is unblocked by the VM entry (L2's
 * interruptibility has no blocking by NMI, SDM Vol. 3C 26.6.1) and is an NMI
 * exit at once (25.2), before L2's first instruction, not an NMI for L2.
 */
static void l1_nmi(struct trap_frame *tf __unused)
{
	struct l2_regs regs;

	if (l1_nmis++)
		return;
	lapic_send_nmi(lapic_id());
	udelay(NMI_LATCH_US);
	l2_regs_default(&regs);
	entry_result = vm_enter(&regs, 1);
	if (entry_result == VM_ENTRY_EXITED) {
		exit_reason = vmcs_get(VM_EXIT_REASON);
		exit_intr = vmcs_get(VM_EXIT_INTR_INFO);
		exit_rip = vmcs_get(GUEST_RIP);
	}
}

void nmi_levels_run(const struct acpi_info *acpi)
{
	if (!under_umbra()) {
		report("umbra.nmi_pending_l1_exits", VERDICT_SKIP, "Bochs keeps NMIs blocked across VM entry");
		return;
	}
	if (!suite_init() || !acpi || !lapic_global_init(LAPIC_MODE_AUTO)) {
		report("umbra.nmi_levels_setup", VERDICT_FAIL, "no VMX, ACPI or local APIC");
		return;
	}
	lapic_cpu_init();
	timer_calibrate(acpi->pm_tmr_port, acpi->pm_tmr_32bit);
	write_cr4(read_cr4() | CR4_VMXE);
	if (vmxon(PA(vmxon_region)) != VMX_SUCCEED ||
	    vmcs_prepare(&vmcs_a, l2_nmi_spin, L2_STACK_TOP) != 0 ||
	    vmwrite(PIN_BASED_VM_EXEC_CONTROL, ctl_pin(NMI_EXITING)) != VMX_SUCCEED) {
		report("umbra.nmi_levels_setup", VERDICT_FAIL, "VMXON or VMCS set-up failed");
		return;
	}
	l2_idt_build();
	vmwrite(GUEST_IDTR_BASE, (uint64_t)l2_idt);
	vmwrite(GUEST_IDTR_LIMIT, sizeof(l2_idt) - 1);
	idt_set_handler(VEC_NMI, l1_nmi);
	lapic_send_nmi(lapic_id());
	udelay(3 * NMI_LATCH_US); /* the handler ran, and no further NMI came after its IRET */
	check("umbra.nmi_pending_l1_exits",
	      entry_result == VM_ENTRY_EXITED && exit_reason == 0 && exit_intr == NMI_EXIT_INTR_INFO &&
		      exit_rip == (uint64_t)l2_nmi_spin,
	      "VMLAUNCH with an NMI pending for L1: entry %d, exit reason %lu, interruption information "
	      "%#lx at GUEST_RIP %#lx; expected an NMI exit (0, %#x) at L2's first instruction %#lx",
	      entry_result, exit_reason, exit_intr, exit_rip, NMI_EXIT_INTR_INFO, (uint64_t)l2_nmi_spin);
	check("umbra.nmi_l1_count", l1_nmis == 1,
	      "L1's NMI handler ran %u times, expected once (the pending NMI was the NMI exit)", l1_nmis);
	vmxoff();
}
