/* SPDX-License-Identifier: BSD-2-Clause */
/* What test guests use of umbra's interface: detection, hypercalls, BENCH lines. */
#ifndef UMBRA_TESTS_GUESTS_LIB_UMBRA_H
#define UMBRA_TESTS_GUESTS_LIB_UMBRA_H

#include "core/hypercall.h"
#include "core/types.h"

struct hc_result {
	int64_t rax;
	uint64_t rbx, rcx, rdx;
};

/* CPUID says hypervisor and leaf 0x40000000 says "UmbraUmbraUm" (core/hypercall.h). */
bool under_umbra(void);

/* VMCALL with RAX = fn and RBX, RCX, RDX = a1, a2, a3. Only under umbra: bare it is #UD. */
struct hc_result umbra_hypercall(uint64_t fn, uint64_t a1, uint64_t a2, uint64_t a3);

/*
 * Where umbra's memory is, as the guest can tell from its memory map: the
 * first reserved range at or above 1 MiB that starts where available RAM
 * ends (umbra's footprint cuts RAM in two; firmware holes sit elsewhere).
 * 0 when there is none (bare hardware).
 */
struct mb2_info;
uint64_t umbra_mem_in_map(const struct mb2_info *mbi);

/* "BENCH <name> <x / n with two decimals> <unit>" (no floating point in guests). */
void bench_line(const char *name, uint64_t x, uint64_t n, const char *unit);

#endif
