/* SPDX-License-Identifier: BSD-2-Clause */
/* Checks of umbra's own interface (hypercalls), and the CPUID benchmark loop. */
#include "arch/x86/cpu.h"
#include "core/hypercall.h"
#include "core/log.h"
#include "core/string.h"
#include "tests/guests/basic/basic.h"
#include "tests/guests/lib/report.h"

struct hc_result {
	int64_t rax;
	uint64_t rbx, rcx, rdx;
};

static struct hc_result hypercall(uint64_t fn, uint64_t a1, uint64_t a2, uint64_t a3)
{
	struct hc_result r;

	__asm__ volatile("vmcall"
			 : "=a"(r.rax), "=b"(r.rbx), "=c"(r.rcx), "=d"(r.rdx)
			 : "a"(fn), "b"(a1), "c"(a2), "d"(a3)
			 : "memory");
	return r;
}

bool under_umbra(void)
{
	struct cpuid_regs b;

	if (!(cpuid(1, 0).ecx & CPUID_1_ECX_HYPERVISOR))
		return false;
	b = cpuid(UMBRA_CPUID_LEAF_BASE, 0);
	return b.ebx == UMBRA_CPUID_SIGNATURE_EBX && b.ecx == UMBRA_CPUID_SIGNATURE_ECX &&
	       b.edx == UMBRA_CPUID_SIGNATURE_EDX;
}

static struct umbra_hc_stats stats_buf;

/*
 * Group "umbra": only under umbra (bare Bochs has no hypercalls: VMCALL
 * outside VMX operation is #UD), so the differential comparison leaves it out.
 */
void check_hypercalls(void)
{
	static const char msg[] = "hello from the basic test guest";
	struct hc_result r;

	if (!under_umbra())
		return;
	r = hypercall(UMBRA_HC_VERSION, 0, 0, 0);
	check("umbra.hc_version", r.rax == 0 && r.rbx == (uint64_t)cpuid(UMBRA_CPUID_LEAF_VERSION, 0).eax,
	      "rax %ld, version %#lx, %lu CPUs", r.rax, r.rbx, r.rcx);
	r = hypercall(UMBRA_HC_LOG, (uint64_t)msg, sizeof(msg) - 1, 0);
	check("umbra.hc_log", r.rax == 0, "rax %ld", r.rax);
	r = hypercall(UMBRA_HC_LOG, (uint64_t)msg, 257, 0);
	check("umbra.hc_log_too_long", r.rax == UMBRA_HC_EINVAL, "rax %ld", r.rax);
	/* umbra's own memory is not a buffer the guest may name. */
	r = hypercall(UMBRA_HC_LOG, 0x200000, 16, 0);
	check("umbra.hc_log_umbra_memory", r.rax == UMBRA_HC_EFAULT, "rax %ld", r.rax);
	r = hypercall(0x7fff, 0, 0, 0);
	check("umbra.hc_unknown", r.rax == UMBRA_HC_ENOSYS, "rax %ld", r.rax);
	memset(&stats_buf, 0, sizeof(stats_buf));
	r = hypercall(UMBRA_HC_STATS, (uint64_t)&stats_buf, sizeof(stats_buf), UMBRA_HC_ALL_CPUS);
	check("umbra.hc_stats", r.rax == (int64_t)sizeof(stats_buf) && stats_buf.exits[10] > 0 &&
				stats_buf.total_exits >= stats_buf.exits[10],
	      "rax %ld, %llu exits, %llu CPUID exits", r.rax, stats_buf.total_exits, stats_buf.exits[10]);
	r = hypercall(UMBRA_HC_STATS, (uint64_t)&stats_buf, 8, 0);
	check("umbra.hc_stats_truncated", r.rax == 8, "rax %ld", r.rax);
	r = hypercall(UMBRA_HC_STATS, (uint64_t)&stats_buf, sizeof(stats_buf), 1000);
	check("umbra.hc_stats_bad_cpu", r.rax == UMBRA_HC_EINVAL, "rax %ld", r.rax);
}

static uint64_t total_exits(void)
{
	struct hc_result r = hypercall(UMBRA_HC_STATS, (uint64_t)&stats_buf, sizeof(stats_buf),
				       UMBRA_HC_ALL_CPUS);

	return r.rax > 0 ? stats_buf.total_exits : 0;
}

/* x / n with two decimals, as "int.frac" (no floating point in the guest). */
static void bench_line(const char *name, uint64_t x, uint64_t n, const char *unit)
{
	uint64_t hundredths = n ? (x * 100 + n / 2) / n : 0;

	log_info("BENCH %s %lu.%02lu %s", name, hundredths / 100, hundredths % 100, unit);
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
