/* SPDX-License-Identifier: BSD-2-Clause */
/* Checks of umbra's own interface (hypercalls), and the CPUID benchmark loop. */
#include "arch/x86/cpu.h"
#include "core/hypercall.h"
#include "core/log.h"
#include "core/string.h"
#include "tests/guests/basic/basic.h"
#include "tests/guests/lib/fault.h"
#include "tests/guests/lib/report.h"
#include "tests/guests/lib/umbra.h"

static struct umbra_hc_stats stats_buf;

/*
 * Group "umbra": only under umbra (bare Bochs has no hypercalls: VMCALL
 * outside VMX operation is #UD), so the differential comparison leaves it out.
 */
void check_hypercalls(uint64_t umbra_mem)
{
	static const char msg[] = "hello from the basic test guest";
	struct hc_result r;

	if (!under_umbra())
		return;
	r = umbra_hypercall(UMBRA_HC_VERSION, 0, 0, 0);
	check("umbra.hc_version", r.rax == 0 && r.rbx == (uint64_t)cpuid(UMBRA_CPUID_LEAF_VERSION, 0).eax,
	      "rax %ld, version %#lx, %lu CPUs", r.rax, r.rbx, r.rcx);
	r = umbra_hypercall(UMBRA_HC_LOG, (uint64_t)msg, sizeof(msg) - 1, 0);
	check("umbra.hc_log", r.rax == 0, "rax %ld", r.rax);
	r = umbra_hypercall(UMBRA_HC_LOG, (uint64_t)msg, 257, 0);
	check("umbra.hc_log_too_long", r.rax == UMBRA_HC_EINVAL, "rax %ld", r.rax);
	/* umbra's own memory is not a buffer the guest may name. */
	r = umbra_hypercall(UMBRA_HC_LOG, umbra_mem, 16, 0);
	check("umbra.hc_log_umbra_memory", umbra_mem && r.rax == UMBRA_HC_EFAULT, "at %#lx: rax %ld",
	      umbra_mem, r.rax);
	r = umbra_hypercall(0x7fff, 0, 0, 0);
	check("umbra.hc_unknown", r.rax == UMBRA_HC_ENOSYS, "rax %ld", r.rax);
	memset(&stats_buf, 0, sizeof(stats_buf));
	r = umbra_hypercall(UMBRA_HC_STATS, (uint64_t)&stats_buf, sizeof(stats_buf), UMBRA_HC_ALL_CPUS);
	check("umbra.hc_stats", r.rax == (int64_t)sizeof(stats_buf) && stats_buf.exits[10] > 0 &&
				stats_buf.total_exits >= stats_buf.exits[10],
	      "rax %ld, %llu exits, %llu CPUID exits", r.rax, stats_buf.total_exits, stats_buf.exits[10]);
	r = umbra_hypercall(UMBRA_HC_STATS, (uint64_t)&stats_buf, 8, 0);
	check("umbra.hc_stats_truncated", r.rax == 8, "rax %ld", r.rax);
	r = umbra_hypercall(UMBRA_HC_STATS, (uint64_t)&stats_buf, sizeof(stats_buf), 1000);
	check("umbra.hc_stats_bad_cpu", r.rax == UMBRA_HC_EINVAL, "rax %ld", r.rax);
}

/* Intel PT's MSRs (SDM Vol. 4 Table 2-2): output base, mask, control, status, CR3 match, address range 0. */
static const uint32_t pt_msrs[] = { 0x560, 0x561, 0x570, 0x571, 0x572, 0x580, 0x581 };
#define CPUID_7_EBX_PT BIT(25)
#define EXIT_RDMSR 31 /* SDM Vol. 3C Appendix C */

/*
 * Group "umbra": Intel PT is hidden from the guest, and its MSRs are
 * umbra's: each RDMSR exits (the guest counts them in umbra's statistics)
 * and raises #GP, as on a CPU without PT. Passed through, PT would write
 * its trace to host-physical addresses the guest picks, past EPT.
 */
void check_umbra_intel_pt(void)
{
	uint64_t before, after, val;
	struct fault_record f;
	unsigned int faults = 0;
	struct hc_result r;

	if (!under_umbra())
		return;
	check("umbra.pt_hidden", !(cpuid(7, 0).ebx & CPUID_7_EBX_PT) &&
				 (cpuid(0, 0).eax < 0x14 || cpuid(0x14, 0).eax == 0),
	      "CPUID.7.EBX[25] %u, leaf 0x14 EAX %#x", !!(cpuid(7, 0).ebx & CPUID_7_EBX_PT),
	      cpuid(0, 0).eax < 0x14 ? 0 : cpuid(0x14, 0).eax);
	r = umbra_hypercall(UMBRA_HC_STATS, (uint64_t)&stats_buf, sizeof(stats_buf), 0);
	before = r.rax > 0 ? stats_buf.exits[EXIT_RDMSR] : 0;
	for (size_t i = 0; i < ARRAY_SIZE(pt_msrs); i++)
		faults += !rdmsr_safe(pt_msrs[i], &val, &f) && f.vector == 13;
	r = umbra_hypercall(UMBRA_HC_STATS, (uint64_t)&stats_buf, sizeof(stats_buf), 0);
	after = r.rax > 0 ? stats_buf.exits[EXIT_RDMSR] : 0;
	check("umbra.pt_msrs_intercepted", faults == ARRAY_SIZE(pt_msrs) && after - before == ARRAY_SIZE(pt_msrs),
	      "%u of %zu IA32_RTIT_* reads raised #GP, %lu RDMSR exits", faults, ARRAY_SIZE(pt_msrs),
	      after - before);
}

static uint64_t total_exits(void)
{
	struct hc_result r = umbra_hypercall(UMBRA_HC_STATS, (uint64_t)&stats_buf, sizeof(stats_buf),
				       UMBRA_HC_ALL_CPUS);

	return r.rax > 0 ? stats_buf.total_exits : 0;
}

/*
 * test=bench_cpuid: CPUID in a loop. Bare, every CPUID is one Bochs
 * instruction; under umbra, an exit and umbra's handler. Bochs's TSC
 * counts instructions, so the figures repeat exactly.
 */
void run_bench_cpuid(uint64_t iterations)
{
	bool umbra = under_umbra();
	uint64_t exits0 = umbra ? total_exits() : 0, t0, t1, exits1;

	for (int i = 0; i < 1000; i++) /* warm up */
		cpuid(0, 0);
	t0 = rdtsc();
	for (uint64_t i = 0; i < iterations; i++)
		cpuid(0, 0);
	t1 = rdtsc();
	exits1 = umbra ? total_exits() : 0;
	info("bench_cpuid: %lu iterations %s", iterations, umbra ? "under umbra" : "bare");
	bench_line(umbra ? "cpuid.cycles_per_iteration.umbra" : "cpuid.cycles_per_iteration.bare",
		   t1 - t0, iterations, "cycles");
	if (umbra) /* the warm-up and the stats call itself are not in the window */
		bench_line("cpuid.l0_exits_per_iteration.umbra", exits1 - exits0 - 1, iterations + 1000,
			   "exits");
}
