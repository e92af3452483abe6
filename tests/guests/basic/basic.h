/* SPDX-License-Identifier: BSD-2-Clause */
/* The basic test guest's check groups, called in order by bsp_main(). */
#ifndef UMBRA_TESTS_GUESTS_BASIC_BASIC_H
#define UMBRA_TESTS_GUESTS_BASIC_BASIC_H

#include "core/mb2.h"
#include "core/types.h"
#include "drivers/acpi.h"

/* What the BSP learnt while booting, for the memmap group to judge. */
struct boot_state {
	enum mb2_error mb2_err;
	struct mb2_info mbi;      /* valid when mb2_err == MB2_OK */
	enum acpi_error acpi_err; /* ACPI_ERR_RSDP_SIG also when there is no RSDP at all */
	struct acpi_info acpi;    /* valid when acpi_err == ACPI_OK */
	uint32_t bsp_apic_id;
	uint32_t expect_cpus;     /* cpus=N on the command line; 0 = not given */
};

/* checks_cpu.c */
void report_hypervisor(void);   /* INFO bare / INFO under umbra: never a verdict */
void check_cpuid(void);
void check_msrs(void);
void check_control_regs(void);

/* checks_memmap.c */
void check_memmap(const struct boot_state *bs);
/* Enabled CPUs in the MADT (the number smp tries to start). */
uint32_t madt_enabled_cpus(const struct acpi_info *acpi);

/* checks_apic.c */
void check_apic_stores(void);               /* group "apic": every store form on the TPR */
void run_apic_unsupported(void);            /* test=apic_unsupported: ADD to the TPR */
void check_umbra_apic_base(bool to_x2apic); /* group "umbra": IA32_APIC_BASE writes */

/* checks_umbra.c */
void check_umbra_intel_pt(void); /* group "umbra": PT hidden, its MSRs intercepted */
void check_hypercalls(uint64_t umbra_mem); /* group "umbra": only under umbra; umbra_mem from the map */
void run_bench_cpuid(uint64_t iterations);

#endif
