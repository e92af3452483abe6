/* SPDX-License-Identifier: BSD-2-Clause */
/* Basic test guest: boots like umbra, checks what an L1 hypervisor relies on, prints verdicts. */
#include "arch/x86/cpu.h"
#include "arch/x86/idt.h"
#include "arch/x86/smp.h"
#include "core/cmdline.h"
#include "core/format.h"
#include "core/percpu.h"
#include "core/string.h"
#include "core/version.h"
#include "drivers/lapic.h"
#include "drivers/power.h"
#include "drivers/timer.h"
#include "drivers/uart.h"
#include "tests/guests/basic/basic.h"
#include "tests/guests/lib/fault.h"
#include "tests/guests/lib/report.h"
#include "tests/guests/lib/umbra.h"

/* The info structure cannot sensibly be larger than this. */
#define MB2_INFO_MAX_LEN MiB(1)
/* Per AP; generous because under umbra every AP start is emulated. */
#define AP_TIMEOUT_MS 2000

/* Selected by test= on the command line. */
enum guest_mode {
	MODE_ALL = 0,      /* every check group; the default */
	MODE_ISOLATION,    /* touch memory that umbra must not let the guest reach */
	MODE_TRIPLE_FAULT, /* shut the (virtual) CPU down */
	MODE_BENCH_CPUID,  /* CPUID loop, BENCH lines */
	MODE_APIC_UNSUPPORTED, /* an xAPIC store umbra does not decode: umbra stops the guest */
};

/* Filled by each AP before it reports itself online; read by the BSP afterwards. */
struct ap_result {
	uint32_t apic_id;
	uint32_t cpuid1_ecx;
	uint64_t cr4;
};

static struct boot_state bs;
static enum guest_mode mode;
static uint64_t isolation_addr; /* addr=, else umbra's memory as the map shows it */
static uint64_t bench_iterations = 100000;
static bool lapic_ok;
static bool to_x2apic; /* x2apic=on: under umbra, switch the BSP's APIC to x2APIC mode */
static struct ap_result ap_results[MAX_CPUS];

void bsp_main(uint32_t magic, uint32_t info_addr);
void ap_main(uint32_t index);

static bool token_is(const char *s, size_t len, const char *word)
{
	return len == strlen(word) && memcmp(s, word, len) == 0;
}

/* A typo must not turn silently into a different run: each bad word is a failed check. */
static void bad_word(const struct cmdline_opt *o)
{
	if (o->val)
		report("cmdline.word", VERDICT_FAIL, "unknown or bad \"%.*s=%.*s\"",
		       (int)o->key_len, o->key, (int)o->val_len, o->val);
	else
		report("cmdline.word", VERDICT_FAIL, "unknown \"%.*s\"", (int)o->key_len, o->key);
}

/*
 * test=all|isolation|triple_fault|bench_cpuid|apic_unsupported, addr=ADDR (isolation),
 * iterations=N (bench), cpus=N (CPUs the MADT should list), x2apic=on
 * (under umbra: the BSP switches its APIC to x2APIC mode before the smp group).
 */
static void parse_cmdline(const char *cursor)
{
	struct cmdline_opt o;
	uint64_t n;

	while (cmdline_next(&cursor, &o)) {
		bool has_num = o.val && cmdline_parse_u64(o.val, o.val_len, &n);

		if (token_is(o.key, o.key_len, "test") && o.val) {
			if (token_is(o.val, o.val_len, "all"))
				mode = MODE_ALL;
			else if (token_is(o.val, o.val_len, "isolation"))
				mode = MODE_ISOLATION;
			else if (token_is(o.val, o.val_len, "triple_fault"))
				mode = MODE_TRIPLE_FAULT;
			else if (token_is(o.val, o.val_len, "bench_cpuid"))
				mode = MODE_BENCH_CPUID;
			else if (token_is(o.val, o.val_len, "apic_unsupported"))
				mode = MODE_APIC_UNSUPPORTED;
			else
				bad_word(&o);
		} else if (token_is(o.key, o.key_len, "iterations") && has_num && n) {
			bench_iterations = n;
		} else if (token_is(o.key, o.key_len, "addr") && has_num) {
			isolation_addr = n;
		} else if (token_is(o.key, o.key_len, "cpus") && has_num && n && n <= MAX_CPUS) {
			bs.expect_cpus = (uint32_t)n;
		} else if (token_is(o.key, o.key_len, "x2apic") && o.val && token_is(o.val, o.val_len, "on")) {
			to_x2apic = true;
		} else {
			bad_word(&o);
		}
	}
}

/* ACPI, power-off, TSC and local APIC: what platform_exit() and AP start-up need. */
static void platform_init(void)
{
	const struct tsc_info *tsc;

	if (bs.mb2_err != MB2_OK || !bs.mbi.rsdp)
		bs.acpi_err = ACPI_ERR_RSDP_SIG;
	else
		bs.acpi_err = acpi_parse(bs.mbi.rsdp, bs.mbi.rsdp_len, acpi_map_identity_4g, NULL, &bs.acpi);
	if (bs.acpi_err != ACPI_OK)
		bs.acpi = (struct acpi_info){ 0 };
	power_init(bs.acpi_err == ACPI_OK ? &bs.acpi : NULL, false);
	info("platform %s, ACPI %s", platform_name(), acpi_strerror(bs.acpi_err));

	/* Calibrated delays, for INIT-SIPI-SIPI. */
	tsc = timer_calibrate(bs.acpi.pm_tmr_port, bs.acpi.pm_tmr_32bit);
	info("timer: TSC %lu kHz (%s)", tsc->khz, tsc_source_name(tsc->source));

	lapic_ok = lapic_global_init(LAPIC_MODE_AUTO); /* keep firmware's mode, as an OS would */
	if (lapic_ok) {
		lapic_cpu_init();
		bs.bsp_apic_id = lapic_id();
	} else {
		bs.bsp_apic_id = cpuid(1, 0).ebx >> 24; /* initial APIC ID */
	}
	percpu_data[0].apic_id = bs.bsp_apic_id;
	this_cpu()->state = CPU_ONLINE;
}

/* MADT -> per-CPU slots as umbra does: BSP first, then enabled CPUs in MADT order. */
static uint32_t enumerate_cpus(void)
{
	uint32_t left_out = 0;

	cpu_count = 1;
	for (size_t i = 0; i < bs.acpi.cpu_count; i++) {
		const struct acpi_cpu *c = &bs.acpi.cpus[i];

		if (!c->enabled || c->apic_id == bs.bsp_apic_id)
			continue;
		/* xAPIC IPIs carry an 8-bit destination; 0xff is broadcast. */
		if ((!lapic_is_x2apic() && c->apic_id >= 0xff) || cpu_count >= MAX_CPUS) {
			left_out++;
			continue;
		}
		percpu_prepare(cpu_count++, c->apic_id);
	}
	return left_out;
}

/* Start every AP; each records what it saw. The BSP reports in index order. */
static void check_smp(void)
{
	uint32_t online, left_out;
	char name[24];

	if (!lapic_ok) {
		report("smp.all_up", VERDICT_FAIL, "no local APIC to send INIT and SIPI with");
		return;
	}
	if (bs.acpi_err != ACPI_OK) {
		report("smp.all_up", VERDICT_SKIP, "no MADT: CPUs unknown");
		return;
	}
	left_out = enumerate_cpus();
	online = smp_start_aps(ap_main, AP_TIMEOUT_MS);

	for (uint32_t i = 1; i < cpu_count; i++) {
		const struct percpu *p = &percpu_data[i];
		const struct ap_result *r = &ap_results[i];

		fmt_snprintf(name, sizeof(name), "smp.cpu%u", i);
		if (p->state != CPU_ONLINE) {
			report(name, VERDICT_FAIL, "APIC ID %u did not come up", p->apic_id);
			continue;
		}
		check(name,
		      (r->cpuid1_ecx & CPUID_1_ECX_VMX) && !(r->cr4 & CR4_VMXE) &&
			      r->apic_id == p->apic_id,
		      "APIC ID %u (MADT says %u), CPUID.1:ECX %#x, CR4 %#lx", r->apic_id,
		      p->apic_id, r->cpuid1_ecx, r->cr4);
	}
	check("smp.all_up",
	      online == cpu_count && !left_out && (!bs.expect_cpus || online == bs.expect_cpus),
	      "%u of %u CPU(s) online, %u left out, cpus=%u expected", online, cpu_count, left_out,
	      bs.expect_cpus);
}

/*
 * test=isolation: under umbra this read must not complete (umbra stops the
 * guest and reports); on bare hardware it does, and the FAIL line says so.
 */
static __noreturn void run_isolation(void)
{
	volatile uint64_t *p = (volatile uint64_t *)isolation_addr;
	uint64_t v;

	if (isolation_addr > GiB(4) - sizeof(*p)) {
		report("isolation.addr", VERDICT_FAIL, "%#lx is outside the identity map",
		       isolation_addr);
		report_finish();
	}
	info("isolation: reading %#lx", isolation_addr);
	v = *p;
	info("isolation: read %#lx", v);
	*p = v; /* the same value: harmless where the read was allowed */
	report("isolation.unreachable", VERDICT_FAIL, "(read and write succeeded)");
	report_finish();
}

/*
 * test=triple_fault: with an IDT limit of 0 no vector is deliverable, so #UD
 * becomes #GP, then #DF, then shutdown (SDM Vol. 3A 6.15, "Interrupt 8").
 */
static __noreturn void run_triple_fault(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __packed empty_idt = { 0, 0 };

	info("triple_fault: faulting now");
	uart_flush();
	irq_disable();
	__asm__ volatile("lidt %0\n\tud2" ::"m"(empty_idt) : "memory");
	__builtin_unreachable();
}

void bsp_main(uint32_t magic, uint32_t info_addr)
{
	uint64_t umbra_mem;

	percpu_init(0);               /* GS base, GDT, TSS */
	idt_init();                   /* exception handlers */
	fault_catch_init();           /* #GP and #UD that checks provoke on purpose */
	idt_load();
	uart_init(UART_COM1, 115200); /* the results' console */

	bs.mb2_err = mb2_parse(magic, (const void *)(uint64_t)info_addr, MB2_INFO_MAX_LEN, &bs.mbi);
	info("basic test guest (umbra %s sources), command line \"%s\"", UMBRA_VERSION,
	     bs.mb2_err == MB2_OK && bs.mbi.cmdline ? bs.mbi.cmdline : "");
	if (bs.mb2_err == MB2_OK)
		parse_cmdline(bs.mbi.cmdline); /* FAIL lines for words it does not know */
	umbra_mem = bs.mb2_err == MB2_OK ? umbra_mem_in_map(&bs.mbi) : 0;
	if (!isolation_addr)
		isolation_addr = umbra_mem;
	platform_init();              /* ACPI, power-off, timer, local APIC */
	report_hypervisor();          /* INFO bare / under umbra */

	switch (mode) {
	case MODE_ISOLATION:
		run_isolation();
	case MODE_TRIPLE_FAULT:
		run_triple_fault();
	case MODE_BENCH_CPUID:
		run_bench_cpuid(bench_iterations);
		report_finish();
	case MODE_APIC_UNSUPPORTED:
		run_apic_unsupported();
		report_finish();
	case MODE_ALL:
		break;
	}
	check_cpuid();                /* groups, in a fixed order */
	check_msrs();
	check_control_regs();
	check_memmap(&bs);
	check_apic_stores();
	check_umbra_apic_base(to_x2apic); /* only under umbra; the smp group then shows it survived */
	check_smp();
	check_hypercalls(umbra_mem);  /* only under umbra */
	check_umbra_intel_pt();       /* only under umbra */
	report_finish();              /* SUMMARY, then leave the machine */
}

void ap_main(uint32_t index)
{
	struct ap_result *r = &ap_results[index];

	percpu_init(index);           /* GS base, GDT, TSS */
	idt_load();                   /* the BSP's IDT */
	lapic_cpu_init();             /* the BSP's APIC mode */
	r->apic_id = lapic_id();
	r->cpuid1_ecx = cpuid(1, 0).ecx;
	r->cr4 = read_cr4();
	/* Results before the state: the BSP reads them once it sees CPU_ONLINE. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	percpu_data[index].state = CPU_ONLINE;
	cpu_halt_forever();
}
