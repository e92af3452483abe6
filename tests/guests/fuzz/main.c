/* SPDX-License-Identifier: BSD-2-Clause */
/* Differential VMX fuzzer: an L1 that runs seeded programs of VMX instructions and records each step. */
#include "arch/x86/cpu.h"
#include "arch/x86/idt.h"
#include "core/cmdline.h"
#include "core/mb2.h"
#include "core/percpu.h"
#include "core/string.h"
#include "drivers/acpi.h"
#include "drivers/power.h"
#include "drivers/uart.h"
#include "tests/guests/fuzz/fuzz.h"
#include "tests/guests/lib/report.h"

/*
 * seed=S seeds=K steps=M: seeds S..S+K-1, each a fresh VMX session
 * (VMXON .. VMXOFF) running a program of M steps generated from the seed
 * alone and the capability view (view.c). The same image runs bare on
 * Bochs (the reference) and as umbra's L1; tools/fuzz_compare.py
 * compares the two record streams (docs/fuzzing.md).
 */

#define MB2_INFO_MAX_LEN MiB(1)
#define VEC_SS 12
#define VEC_PF 14
#define PIC1_DATA 0x21
#define PIC2_DATA 0xa1
/* SDM Vol. 4, Table 2-2. */
#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176

void bsp_main(uint32_t magic, uint32_t info_addr);

static struct mb2_info mbi;
static struct acpi_info acpi;

struct fuzz_args {
	uint64_t seed, seeds, steps, undefined;
};

static struct fuzz_args parse_args(const char *cursor)
{
	struct fuzz_args a = { 1, 1, 100, 0 };
	struct cmdline_opt o;
	uint64_t n;

	while (cursor && cmdline_next(&cursor, &o)) {
		if (!o.val || !cmdline_parse_u64(o.val, o.val_len, &n))
			continue;
		if (o.key_len == 4 && memcmp(o.key, "seed", 4) == 0)
			a.seed = n;
		else if (o.key_len == 5 && memcmp(o.key, "seeds", 5) == 0)
			a.seeds = n;
		else if (o.key_len == 5 && memcmp(o.key, "steps", 5) == 0)
			a.steps = n;
		else if (o.key_len == 9 && memcmp(o.key, "undefined", 9) == 0)
			a.undefined = n;
	}
	return a;
}

static void platform_init(uint32_t magic, uint32_t info_addr)
{
	bool acpi_ok = false;

	if (mb2_parse(magic, (const void *)(uint64_t)info_addr, MB2_INFO_MAX_LEN, &mbi) == MB2_OK &&
	    mbi.rsdp)
		acpi_ok = acpi_parse(mbi.rsdp, mbi.rsdp_len, acpi_map_identity_4g, NULL, &acpi) == ACPI_OK;
	power_init(acpi_ok ? &acpi : NULL, false);
	info("fuzz guest on %s, %s", platform_name(),
	     (cpuid(1, 0).ecx & CPUID_1_ECX_HYPERVISOR) ? "under a hypervisor" : "bare");
}

/*
 * MSRs an L2 may leave behind in L1 (SDM 27.5.1: a VM exit does not load
 * them unless asked): each seed starts from the boot's values, so that a
 * seed's records do not depend on the seeds before it.
 */
static const uint32_t l1_msrs[] = { MSR_IA32_PAT, MSR_EFER, MSR_KERNEL_GS_BASE,
				    MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP };
static uint64_t l1_msr_values[ARRAY_SIZE(l1_msrs)];

static void run_seed(uint64_t seed, uint64_t steps)
{
	uint64_t first = fuzz_vmx_count;

	for (size_t i = 0; i < ARRAY_SIZE(l1_msrs); i++)
		wrmsr(l1_msrs[i], l1_msr_values[i]);

	fuzz_seed = seed;
	fuzz_step = 0;
	fuzz_rng_state = seed * 0x2545f4914f6cdd1dULL + 1;
	rec_printf("S %lu view=%lx", seed, view.digest);
	ops_seed_begin();
	while (fuzz_step < steps)
		ops_step();
	ops_seed_end();
	rec_printf("E %lu records=%lu vmx=%lu", seed, fuzz_step, fuzz_vmx_count - first);
}

void bsp_main(uint32_t magic, uint32_t info_addr)
{
	struct fuzz_args a;
	bool e9;

	percpu_init(0);               /* GS base, GDT, TSS */
	idt_init();                   /* exception handlers */
	fault_catch_init();           /* #UD and #GP at guarded instructions */
	fault_catch_vector(VEC_SS);
	fault_catch_vector(VEC_PF);
	idt_load();
	uart_init(UART_COM1, 115200);
	irq_disable();
	/* No external interrupt may reach an L2 running with IF=1: mask both 8259s. */
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);
	platform_init(magic, info_addr);
	a = parse_args(mbi.cmdline);
	e9 = e9_present();
	fuzz_undefined = (uint32_t)a.undefined;
	info("fuzz: seed=%lu seeds=%lu steps=%lu undefined=%u, records on %s", a.seed, a.seeds,
	     a.steps, fuzz_undefined, e9 ? "port 0xe9" : "COM1");
	if (suite_init()) {
		view_init();
		info("fuzz: capability view digest %#lx", view.digest);
		write_cr4(read_cr4() | CR4_VMXE);
		l2_init();
		for (size_t i = 0; i < ARRAY_SIZE(l1_msrs); i++)
			l1_msr_values[i] = rdmsr(l1_msrs[i]);
		for (uint64_t s = a.seed; s < a.seed + a.seeds; s++)
			run_seed(s, a.steps);
		rec_printf("F seeds=%lu steps=%lu vmx_instructions=%lu", a.seeds, a.steps, fuzz_vmx_count);
		info("FUZZ done seeds=%lu steps=%lu vmx_instructions=%lu", a.seeds, a.steps,
		     fuzz_vmx_count);
	}
	report_finish();
}
