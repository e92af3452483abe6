/* SPDX-License-Identifier: BSD-2-Clause */
/* VMX conformance suite: an L1 that checks VMX instruction semantics against the SDM. */
#include "arch/x86/cpu.h"
#include "arch/x86/idt.h"
#include "core/mb2.h"
#include "core/percpu.h"
#include "core/string.h"
#include "drivers/acpi.h"
#include "drivers/power.h"
#include "drivers/uart.h"
#include "tests/guests/lib/report.h"
#include "tests/guests/vmx/suite.h"

/* The info structure cannot sensibly be larger than this. */
#define MB2_INFO_MAX_LEN MiB(1)

/*
 * Every TEST line is a verdict compared test by test between a run on the
 * emulator (the reference) and a run under umbra; values that may differ
 * between the two (revision identifier, capability MSRs) are INFO lines.
 * Only the BSP runs; the machine should have one CPU.
 */

void bsp_main(uint32_t magic, uint32_t info_addr);

static struct mb2_info mbi;
static struct acpi_info acpi;
static bool acpi_ok;

/* Only what leaving the machine needs: ACPI for the power-off path. */
static void platform_init(uint32_t magic, uint32_t info_addr)
{
	if (mb2_parse(magic, (const void *)(uint64_t)info_addr, MB2_INFO_MAX_LEN, &mbi) == MB2_OK &&
	    mbi.rsdp)
		acpi_ok = acpi_parse(mbi.rsdp, mbi.rsdp_len, acpi_map_identity_4g, NULL, &acpi) == ACPI_OK;
	power_init(acpi_ok ? &acpi : NULL, false);
	info("vmx test guest on %s, %s", platform_name(),
	     (cpuid(1, 0).ecx & CPUID_1_ECX_HYPERVISOR) ? "under a hypervisor" : "bare");
}

/* The text after "key" (e.g. "iterations=") anywhere in the command line, or NULL. */
static const char *strstr_key(const char *s, const char *key)
{
	size_t n = strlen(key);

	for (; *s; s++)
		if (strncmp(s, key, n) == 0)
			return s + n;
	return NULL;
}

static uint64_t parse_decimal(const char *s)
{
	uint64_t n = 0;

	while (*s >= '0' && *s <= '9')
		n = n * 10 + (uint64_t)(*s++ - '0');
	return n ? n : 1;
}

void bsp_main(uint32_t magic, uint32_t info_addr)
{
	percpu_init(0);               /* GS base, GDT, TSS */
	idt_init();                   /* exception handlers */
	guard_init();                 /* #UD and #GP that checks provoke on purpose */
	idt_load();
	uart_init(UART_COM1, 115200); /* the results' console */
	irq_disable();                /* L1 and L2 run with interrupts off throughout */
	platform_init(magic, info_addr);

	if (mbi.cmdline && strncmp(mbi.cmdline, "test=smp_l2", 11) == 0) {
		const char *cpus = strstr_key(mbi.cmdline, "cpus=");

		smp_l2_run(acpi_ok ? &acpi : NULL, cpus ? (uint32_t)parse_decimal(cpus) : 0);
		report_finish();
	}
	if (mbi.cmdline && strncmp(mbi.cmdline, "test=smp_init", 13) == 0) {
		smp_init_run(acpi_ok ? &acpi : NULL);
		report_finish();
	}
	if (mbi.cmdline && strncmp(mbi.cmdline, "test=bench_nested", 17) == 0) {
		const char *it = strstr_key(mbi.cmdline, "iterations=");

		bench_nested(it ? parse_decimal(it) : 10000);
		report_finish();
	}
	if (suite_init() && check_vmxon()) { /* caps and VMXON first: the rest needs them */
		check_vmptrld();      /* groups, in a fixed order */
		check_vmclear();      /* leaves no current VMCS */
		check_vmrw();
		check_launch();
		check_exits();
		check_msr_lists();
		check_entry_failures();
		check_umbra_hostile_pointers(); /* only under umbra */
		check_vmxoff();       /* last: leaves VMX operation */
		check_umbra_field_stats(); /* only under umbra */
	}
	report_finish();              /* SUMMARY, then leave the machine */
}
