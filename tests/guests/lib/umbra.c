/* SPDX-License-Identifier: BSD-2-Clause */
/* Test guests' side of umbra's interface (core/hypercall.h). */
#include "tests/guests/lib/umbra.h"
#include "arch/x86/cpu.h"
#include "core/log.h"
#include "core/mb2.h"

bool under_umbra(void)
{
	struct cpuid_regs b;

	if (!(cpuid(1, 0).ecx & CPUID_1_ECX_HYPERVISOR))
		return false;
	b = cpuid(UMBRA_CPUID_LEAF_BASE, 0);
	return b.ebx == UMBRA_CPUID_SIGNATURE_EBX && b.ecx == UMBRA_CPUID_SIGNATURE_ECX &&
	       b.edx == UMBRA_CPUID_SIGNATURE_EDX;
}

struct hc_result umbra_hypercall(uint64_t fn, uint64_t a1, uint64_t a2, uint64_t a3)
{
	struct hc_result r;

	__asm__ volatile("vmcall"
			 : "=a"(r.rax), "=b"(r.rbx), "=c"(r.rcx), "=d"(r.rdx)
			 : "a"(fn), "b"(a1), "c"(a2), "d"(a3)
			 : "memory");
	return r;
}

void bench_line(const char *name, uint64_t x, uint64_t n, const char *unit)
{
	uint64_t hundredths = n ? (x * 100 + n / 2) / n : 0;

	log_info("BENCH %s %lu.%02lu %s", name, hundredths / 100, hundredths % 100, unit);
}

uint64_t umbra_mem_in_map(const struct mb2_info *mbi)
{
	for (size_t i = 0; i < mbi->mmap_count; i++) {
		const struct mb2_mmap_entry *r = &mbi->mmap[i];

		if (r->type != MB2_MEM_RESERVED || r->base < MiB(1))
			continue;
		for (size_t k = 0; k < mbi->mmap_count; k++)
			if (mbi->mmap[k].type == MB2_MEM_AVAILABLE &&
			    mbi->mmap[k].base + mbi->mmap[k].length == r->base)
				return r->base;
	}
	return 0;
}
