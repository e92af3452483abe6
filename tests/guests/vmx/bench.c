/* SPDX-License-Identifier: BSD-2-Clause */
/* Nested round-trip benchmark: L2 CPUID -> L1 handler (KVM-like VMREADs/VMWRITE) -> VMRESUME. */
#include "arch/x86/cpu.h"
#include "arch/x86/exit_reasons.h"
#include "core/hypercall.h"
#include "core/log.h"
#include "tests/guests/lib/report.h"
#include "tests/guests/lib/umbra.h"
#include "tests/guests/vmx/suite.h"

static struct umbra_hc_stats stats;

/* L2: CPUID for ever; L1 moves RIP past each one as its exit handler. */
__asm__(".pushsection .text\n"
	".globl l2_bench_loop\n"
	"l2_bench_loop:\n\t"
	"cpuid\n\t"
	"jmp l2_bench_loop\n"
	".popsection\n");

/* umbra's exit count, or 0 when not under umbra (bare Bochs has no hypercalls). */
static uint64_t umbra_exits(bool umbra)
{
	if (!umbra)
		return 0;
	return umbra_hypercall(UMBRA_HC_STATS, (uint64_t)&stats, sizeof(stats), UMBRA_HC_ALL_CPUS).rax > 0 ?
		       stats.total_exits :
		       0;
}

static struct umbra_hc_field_stat field_stats[256];

/*
 * What KVM's exit path reads and writes for a CPUID exit: reason,
 * qualification, interruption and IDT-vectoring information, instruction
 * length, RIP, RSP and RFLAGS; then RIP += length. Returns false when the
 * exit is not the CPUID it expects.
 */
bool bench_handle_exit(struct l2_regs *regs)
{
	uint64_t reason = vmcs_get(VM_EXIT_REASON);
	uint64_t len = vmcs_get(VM_EXIT_INSTRUCTION_LEN), rip = vmcs_get(GUEST_RIP);
	struct cpuid_regs r;

	(void)vmcs_get(EXIT_QUALIFICATION);
	(void)vmcs_get(VM_EXIT_INTR_INFO);
	(void)vmcs_get(IDT_VECTORING_INFO);
	(void)vmcs_get(GUEST_RSP);
	(void)vmcs_get(GUEST_RFLAGS);
	if (reason != EXIT_REASON_CPUID)
		return false;
	r = cpuid((uint32_t)regs->gpr[GPR_RAX], (uint32_t)regs->gpr[GPR_RCX]);
	regs->gpr[GPR_RAX] = r.eax;
	regs->gpr[GPR_RBX] = r.ebx;
	regs->gpr[GPR_RCX] = r.ecx;
	regs->gpr[GPR_RDX] = r.edx;
	return vmwrite(GUEST_RIP, rip + len) == VMX_SUCCEED;
}

void bench_nested(uint64_t iterations)
{
	struct l2_regs regs;
	enum vmx_result r;
	enum vm_entry_result e;
	bool umbra = under_umbra();
	uint64_t t0, t1, x0, x1, done = 0;

	if (!suite_init())
		return;
	write_cr4(read_cr4() | CR4_VMXE);
	if (vmxon(PA(vmxon_region)) != VMX_SUCCEED) {
		report("bench.vmxon", VERDICT_FAIL, "VMX could not be turned on");
		return;
	}
	if (vmcs_prepare(&vmcs_a, l2_bench_loop, L2_STACK_TOP) != 0) {
		report("bench.vmcs", VERDICT_FAIL, "VMCS set-up failed");
		return;
	}
	l2_regs_default(&regs);
	e = vm_enter(&regs, 1);
	if (e != VM_ENTRY_EXITED || !bench_handle_exit(&regs)) {
		report("bench.launch", VERDICT_FAIL, "L2 did not start with a CPUID exit");
		return;
	}
	x0 = umbra_exits(umbra);
	t0 = rdtsc();
	while (done < iterations) {
		e = vm_enter(&regs, 0);
		if (e != VM_ENTRY_EXITED || !bench_handle_exit(&regs))
			break;
		done++;
	}
	t1 = rdtsc();
	x1 = umbra_exits(umbra);
	if (done < iterations)
		info("bench_nested: stopped after %lu: entry %d, exit reason %#lx at RIP %#lx", done, e,
		     vmcs_get(VM_EXIT_REASON), vmcs_get(GUEST_RIP));
	r = vmxoff();
	if (!check("bench.roundtrips", done == iterations && r == VMX_SUCCEED, "%lu of %lu round trips",
		   done, iterations))
		return;
	info("bench_nested: %lu L2 CPUID round trips, %s", done, umbra ? "under umbra" : "bare");
	bench_line(umbra ? "nested_cpuid.cycles_per_roundtrip.umbra" : "nested_cpuid.cycles_per_roundtrip.bare",
		   t1 - t0, done, "cycles");
	/* The stats hypercall that closes the window is one exit of its own. */
	if (umbra)
		bench_line("nested_cpuid.l0_exits_per_roundtrip.umbra", x1 - x0 - 1, done, "exits");
}

/*
 * Group "umbra" (only under umbra, left out of the bare/umbra comparison):
 * umbra's per-field VMREAD/VMWRITE exit counts, read back by hypercall.
 */
void check_umbra_field_stats(void)
{
	int64_t ret;
	uint64_t reads_error = 0, reads_rip = 0;
	size_t n;

	if (!under_umbra())
		return;
	ret = umbra_hypercall(UMBRA_HC_FIELD_STATS, (uint64_t)field_stats, sizeof(field_stats),
			      UMBRA_HC_ALL_CPUS).rax;
	n = ret > 0 ? (size_t)ret / sizeof(field_stats[0]) : 0;
	for (size_t i = 0; i < n; i++) {
		if (field_stats[i].encoding == VM_INSTRUCTION_ERROR)
			reads_error = field_stats[i].vmread_exits;
		if (field_stats[i].encoding == GUEST_RIP)
			reads_rip = field_stats[i].vmread_exits;
	}
	/* VM_INSTRUCTION_ERROR is never shadowed: every read of it after a failure exited. */
	check("umbra.field_stats", ret > 0 && ret % sizeof(field_stats[0]) == 0 && reads_error > 0,
	      "rax %ld, %zu fields, VM_INSTRUCTION_ERROR read through %lu exits", ret, n, reads_error);
	info("umbra: GUEST_RIP read through %lu exits (0 with VMCS shadowing)", reads_rip);
}

/*
 * Group "umbra": a VMCS pointer on the local APIC page (MMIO, not RAM).
 * The SDM leaves such a VMCS undefined; umbra refuses it (VMfail) rather
 * than copy VMCS data to and from the APIC's registers, and keeps running.
 */
void check_umbra_hostile_pointers(void)
{
	enum vmx_result r;

	if (!under_umbra())
		return;
	r = vmptrld(0xfee00000);
	check("umbra.vmptrld_mmio_refused", r != VMX_SUCCEED, "VMPTRLD of the APIC page: %s",
	      r == VMX_FAIL_VALID ? "VMfailValid" : r == VMX_FAIL_INVALID ? "VMfailInvalid" : "VMsucceed");
	r = vmclear(0xfee00000);
	check("umbra.vmclear_mmio_refused", r != VMX_SUCCEED, "VMCLEAR of the APIC page: %s",
	      r == VMX_FAIL_VALID ? "VMfailValid" : r == VMX_FAIL_INVALID ? "VMfailInvalid" : "VMsucceed");
}
