/* SPDX-License-Identifier: BSD-2-Clause */
/* Nested round-trip benchmark: L2 CPUID -> L1 handler (KVM-like VMREADs/VMWRITE) -> VMRESUME. */
#include "arch/x86/cpu.h"
#include "arch/x86/exit_reasons.h"
#include "arch/x86/profile.h"
#include "arch/x86/vmx_controls.h"
#include "core/format.h"
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

/* L2 for the table-driven handler: CPUID leaf 0, subleaf 0, for ever. */
__asm__(".pushsection .text\n"
	".globl l2_bench_loop_leaf0\n"
	"l2_bench_loop_leaf0:\n\t"
	"xorl %eax, %eax\n\t"
	"xorl %ecx, %ecx\n\t"
	"cpuid\n\t"
	"jmp l2_bench_loop_leaf0\n"
	".popsection\n");
extern const char l2_bench_loop_leaf0[];

/*
 * The table-driven handler's CPUID answers, filled once at start-up as KVM
 * fills its guest CPUID table: basic leaves 0..CPUID_TABLE_LEAVES-1,
 * subleaf 0. A leaf past the table reads as zeros.
 */
#define CPUID_TABLE_LEAVES 32
static struct cpuid_regs cpuid_table[CPUID_TABLE_LEAVES];
static uint32_t cpuid_table_max;

static void cpuid_table_fill(void)
{
	cpuid_table_max = MIN(cpuid(0, 0).eax, CPUID_TABLE_LEAVES - 1);
	for (uint32_t leaf = 0; leaf <= cpuid_table_max; leaf++)
		cpuid_table[leaf] = cpuid(leaf, 0);
}

/* umbra's exit count, or 0 when not under umbra (bare Bochs has no hypercalls). */
uint64_t bench_umbra_exits(bool umbra)
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
 * length, RIP, RSP and RFLAGS; then RIP += length. The answer comes from
 * the CPU (an exit of L1's own under a hypervisor) or, with from_table,
 * from cpuid_table (no exit: the round trip's floor is the reflected exit
 * and the VMRESUME). Returns false when the exit is not the CPUID it expects.
 */
static bool handle_cpuid_exit(struct l2_regs *regs, bool from_table)
{
	uint64_t reason = vmcs_get(VM_EXIT_REASON);
	uint64_t len = vmcs_get(VM_EXIT_INSTRUCTION_LEN), rip = vmcs_get(GUEST_RIP);
	uint32_t leaf = (uint32_t)regs->gpr[GPR_RAX];
	struct cpuid_regs r = { 0 };

	(void)vmcs_get(EXIT_QUALIFICATION);
	(void)vmcs_get(VM_EXIT_INTR_INFO);
	(void)vmcs_get(IDT_VECTORING_INFO);
	(void)vmcs_get(GUEST_RSP);
	(void)vmcs_get(GUEST_RFLAGS);
	if (reason != EXIT_REASON_CPUID)
		return false;
	if (!from_table)
		r = cpuid(leaf, (uint32_t)regs->gpr[GPR_RCX]);
	else if (leaf <= cpuid_table_max)
		r = cpuid_table[leaf];
	regs->gpr[GPR_RAX] = r.eax;
	regs->gpr[GPR_RBX] = r.ebx;
	regs->gpr[GPR_RCX] = r.ecx;
	regs->gpr[GPR_RDX] = r.edx;
	return vmwrite(GUEST_RIP, rip + len) == VMX_SUCCEED;
}

bool bench_handle_exit(struct l2_regs *regs)
{
	return handle_cpuid_exit(regs, false);
}

/*
 * Under umbra: its per-reason exit counts add up to the number of VM exits
 * its exit stub took (every exit counted once, whatever level it came from).
 */
static void check_exit_accounting(void)
{
	int64_t ret = umbra_hypercall(UMBRA_HC_STATS, (uint64_t)&stats, sizeof(stats),
				      UMBRA_HC_ALL_CPUS).rax;

	check("bench.exit_accounting",
	      ret == (int64_t)sizeof(stats) && stats.vm_exits > 0 && stats.total_exits == stats.vm_exits,
	      "rax %ld, %llu exits counted by reason, %llu VM exits taken", ret, stats.total_exits,
	      stats.vm_exits);
}

/*
 * A PROFILE=1 umbra (arch/x86/profile.h) reports its exit path's phases:
 * one BENCH line per phase, cycles per round trip over the measured
 * window, each phase interval less the probes' own cost. Nothing to do
 * for another build (the hypercall says ENOSYS) or bare.
 */
#define PHASE_NAME(id, name, desc) [PROFILE_##id] = name,
static const char *const phase_names[] = { PROFILE_PHASES(PHASE_NAME) };
#undef PHASE_NAME
static struct umbra_hc_profile prof0, prof1;

static bool profile_snapshot(bool umbra, struct umbra_hc_profile *p)
{
	return umbra && umbra_hypercall(UMBRA_HC_PROFILE, (uint64_t)p, sizeof(*p), UMBRA_HC_ALL_CPUS).rax ==
				(int64_t)sizeof(*p);
}

static void profile_report(const char *prefix, uint64_t done)
{
	char name[96];
	uint64_t n = MIN(prof1.phases, ARRAY_SIZE(phase_names));

	for (uint64_t i = 0; i < n; i++) {
		uint64_t cycles = prof1.cycles[i] - prof0.cycles[i];
		uint64_t intervals = prof1.intervals[i] - prof0.intervals[i];
		/* The stubs are bounded by one probe and the stub's own TSC reading. */
		uint64_t probe = (i == PROFILE_ENTRY_STUB || i == PROFILE_EXIT_STUB) ?
					 prof1.probe_cost / 2 + PROFILE_ASM_PROBE_COST :
				 i == PROFILE_GUEST ? 0 : prof1.probe_cost;
		uint64_t own = intervals * probe;

		fmt_snprintf(name, sizeof(name), "%s.phase.%s", prefix, phase_names[i]);
		bench_line(name, cycles > own ? cycles - own : 0, done, "cycles");
	}
}

/*
 * Group "umbra": the exit trace printed on request (UMBRA_HC_TRACE_DUMP):
 * the records of this CPU's ring when umbra traces (trace=N), else
 * UMBRA_HC_ENODATA. The system test umbra_trace_counts boots with a trace.
 */
static void check_umbra_trace_dump(void)
{
	int64_t ret = umbra_hypercall(UMBRA_HC_TRACE_DUMP, 0, 0, 0).rax;

	check("umbra.trace_dump", ret > 0 || ret == UMBRA_HC_ENODATA, "rax %ld", ret);
	info("umbra: trace dump printed %ld records", ret > 0 ? ret : 0);
}

/*
 * from_table: the table-driven handler (test=bench_nested_table), else the
 * CPU's answer; ept_vpid: L2 on an identity EPT of L1's with VPID 1
 * (test=bench_nested_ept_vpid, table-driven), as KVM runs its L2s.
 */
void bench_nested(uint64_t iterations, bool from_table, bool ept_vpid)
{
	const char *prefix = ept_vpid ? "nested_cpuid_table_ept_vpid" : from_table ? "nested_cpuid_table" : "nested_cpuid";
	char name[64];
	struct l2_regs regs;
	enum vmx_result r;
	enum vm_entry_result e;
	bool umbra = under_umbra(), profiled;
	uint64_t t0, t1, x0, x1, done = 0;

	if (!suite_init())
		return;
	cpuid_table_fill();
	write_cr4(read_cr4() | CR4_VMXE);
	if (vmxon(PA(vmxon_region)) != VMX_SUCCEED) {
		report("bench.vmxon", VERDICT_FAIL, "VMX could not be turned on");
		return;
	}
	if (vmcs_prepare(&vmcs_a, from_table ? l2_bench_loop_leaf0 : l2_bench_loop, L2_STACK_TOP) != 0) {
		report("bench.vmcs", VERDICT_FAIL, "VMCS set-up failed");
		return;
	}
	if (ept_vpid) {
		vmwrite(CPU_BASED_VM_EXEC_CONTROL, ctl_proc(SECONDARY_CONTROLS));
		vmwrite(SECONDARY_VM_EXEC_CONTROL, ctl_proc2(ENABLE_EPT | ENABLE_VPID));
		vmwrite(EPT_POINTER, ept_identity_eptp());
		vmwrite(VIRTUAL_PROCESSOR_ID, 1);
	}
	l2_regs_default(&regs);
	e = vm_enter(&regs, 1);
	if (e != VM_ENTRY_EXITED || !handle_cpuid_exit(&regs, from_table)) {
		report("bench.launch", VERDICT_FAIL, "L2 did not start with a CPUID exit");
		return;
	}
	/* The profile's window holds the exit count's: its hypercalls are not in the count. */
	profiled = profile_snapshot(umbra, &prof0);
	x0 = bench_umbra_exits(umbra);
	t0 = rdtsc();
	while (done < iterations) {
		e = vm_enter(&regs, 0);
		if (e != VM_ENTRY_EXITED || !handle_cpuid_exit(&regs, from_table))
			break;
		done++;
	}
	t1 = rdtsc();
	x1 = bench_umbra_exits(umbra);
	profiled = profiled && profile_snapshot(umbra, &prof1);
	if (done < iterations)
		info("bench_nested: stopped after %lu: entry %d, exit reason %#lx at RIP %#lx", done, e,
		     vmcs_get(VM_EXIT_REASON), vmcs_get(GUEST_RIP));
	r = vmxoff();
	if (!check("bench.roundtrips", done == iterations && r == VMX_SUCCEED, "%lu of %lu round trips",
		   done, iterations))
		return;
	info("bench_nested: %lu L2 CPUID round trips, %s handler%s, %s", done,
	     from_table ? "table-driven" : "CPUID-executing", ept_vpid ? ", EPT and VPID" : "",
	     umbra ? "under umbra" : "bare");
	fmt_snprintf(name, sizeof(name), "%s.cycles_per_roundtrip.%s", prefix, umbra ? "umbra" : "bare");
	bench_line(name, t1 - t0, done, "cycles");
	if (!umbra)
		return;
	/* The stats hypercall that closes the window is one exit of its own. */
	fmt_snprintf(name, sizeof(name), "%s.l0_exits_per_roundtrip.umbra", prefix);
	bench_line(name, x1 - x0 - 1, done, "exits");
	check_exit_accounting();
	if (profiled)
		profile_report(prefix, done);
	check_umbra_trace_dump();
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
 * The SDM leaves such a VMCS undefined; umbra treats it as memory that is
 * not there (docs/design.md): VMPTRLD reads a revision of all ones and
 * fails, VMCLEAR succeeds and writes nothing, and the APIC keeps its
 * registers (its version register is read-only, its ID L1's).
 */
#define APIC_PAGE 0xfee00000ULL
#define APIC_ID_REG 0x20
#define APIC_VERSION_REG 0x30

void check_umbra_hostile_pointers(void)
{
	volatile uint32_t *id = (volatile uint32_t *)(APIC_PAGE + APIC_ID_REG);
	volatile uint32_t *ver = (volatile uint32_t *)(APIC_PAGE + APIC_VERSION_REG);
	uint32_t id0, ver0;
	enum vmx_result r;

	if (!under_umbra())
		return;
	id0 = *id;
	ver0 = *ver;
	r = vmptrld(APIC_PAGE);
	check("umbra.vmptrld_mmio_refused", r != VMX_SUCCEED, "VMPTRLD of the APIC page: %s",
	      r == VMX_FAIL_VALID ? "VMfailValid" : r == VMX_FAIL_INVALID ? "VMfailInvalid" : "VMsucceed");
	r = vmclear(APIC_PAGE);
	check("umbra.vmclear_mmio_writes_nothing", r == VMX_SUCCEED && *id == id0 && *ver == ver0,
	      "VMCLEAR of the APIC page: %s; APIC ID %#x -> %#x, version %#x -> %#x",
	      r == VMX_FAIL_VALID ? "VMfailValid" : r == VMX_FAIL_INVALID ? "VMfailInvalid" : "VMsucceed", id0,
	      *id, ver0, *ver);
}
