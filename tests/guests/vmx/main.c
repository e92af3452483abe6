/* SPDX-License-Identifier: BSD-2-Clause */
/* VMX conformance suite: an L1 that checks VMX instruction semantics against the SDM. */
#include "arch/x86/cpu.h"
#include "arch/x86/idt.h"
#include "core/cmdline.h"
#include "core/mb2.h"
#include "core/percpu.h"
#include "core/string.h"
#include "drivers/acpi.h"
#include "drivers/power.h"
#include "drivers/uart.h"
#include "tests/guests/lib/report.h"
#include "tests/guests/lib/umbra.h"
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

/* test=MODE, cpus=N and iterations=N on the command line (core/cmdline.c's tokenizer). */
struct guest_args {
	const char *mode;
	size_t mode_len;
	uint64_t cpus, iterations;
};

static struct guest_args parse_args(const char *cursor)
{
	struct guest_args a = { "", 0, 0, 10000 };
	struct cmdline_opt o;
	uint64_t n;

	while (cursor && cmdline_next(&cursor, &o)) {
		if (!o.val)
			continue;
		if (o.key_len == 4 && memcmp(o.key, "test", 4) == 0) {
			a.mode = o.val;
			a.mode_len = o.val_len;
		} else if (o.key_len == 4 && memcmp(o.key, "cpus", 4) == 0 &&
			   cmdline_parse_u64(o.val, o.val_len, &n)) {
			a.cpus = n;
		} else if (o.key_len == 10 && memcmp(o.key, "iterations", 10) == 0 &&
			   cmdline_parse_u64(o.val, o.val_len, &n) && n) {
			a.iterations = n;
		}
	}
	return a;
}

static bool mode_is(const struct guest_args *a, const char *mode)
{
	return a->mode_len == strlen(mode) && memcmp(a->mode, mode, a->mode_len) == 0;
}

void bsp_main(uint32_t magic, uint32_t info_addr)
{
	struct guest_args args;

	percpu_init(0);               /* GS base, GDT, TSS */
	idt_init();                   /* exception handlers */
	fault_catch_init();           /* #UD and #GP that checks provoke on purpose */
	idt_load();
	uart_init(UART_COM1, 115200); /* the results' console */
	irq_disable();                /* L1 and L2 run with interrupts off throughout */
	platform_init(magic, info_addr);

	args = parse_args(mbi.cmdline);
	if (mode_is(&args, "smp_l2") || mode_is(&args, "smp_l2_ept")) {
		smp_l2_run(acpi_ok ? &acpi : NULL, (uint32_t)args.cpus, mode_is(&args, "smp_l2_ept"));
		report_finish();
	}
	if (mode_is(&args, "smp_init") || mode_is(&args, "smp_init_nmi")) {
		smp_init_run(acpi_ok ? &acpi : NULL, mode_is(&args, "smp_init_nmi"));
		report_finish();
	}
	if (mode_is(&args, "smp_shutdown")) {
		smp_shutdown_run(acpi_ok ? &acpi : NULL);
		report_finish();
	}
	if (mode_is(&args, "nmi_levels")) {
		nmi_levels_run(acpi_ok ? &acpi : NULL);
		report_finish();
	}
	if (mode_is(&args, "high_mem")) {
		high_mem_run(&mbi);
		report_finish();
	}
	if (mode_is(&args, "ept_umbra_mem")) {
		ept_umbra_mem_run(umbra_mem_in_map(&mbi));
		report_finish();
	}
	if (mode_is(&args, "entry_failure_guest_state")) {
		entry_failure_guest_state_run();
		report_finish();
	}
	if (mode_is(&args, "timer_zero_event")) {
		timer_zero_event_run();
		report_finish();
	}
	if (mode_is(&args, "msr_store_abort")) {
		msr_store_abort_run();
		report_finish();
	}
	if (mode_is(&args, "bench_ept_faults")) {
		bench_ept_faults(args.iterations);
		report_finish();
	}
	if (mode_is(&args, "bench_nested") || mode_is(&args, "bench_nested_table") ||
	    mode_is(&args, "bench_nested_ept_vpid")) {
		bench_nested(args.iterations, !mode_is(&args, "bench_nested"), mode_is(&args, "bench_nested_ept_vpid"));
		report_finish();
	}
	if (mode_is(&args, "l2state")) { /* one group alone, for a quick run */
		if (suite_init() && check_vmxon()) {
			check_l2state();
			check_umbra_pending_dbg();
			check_vmxoff();
		}
		report_finish();
	}
	if (suite_init() && check_vmxon()) { /* caps and VMXON first: the rest needs them */
		suite.umbra_mem = umbra_mem_in_map(&mbi);
		check_vmptrld();      /* groups, in a fixed order */
		check_vmclear();      /* leaves no current VMCS */
		check_vmrw();
		check_launch();
		check_exits();
		check_msr_lists();
		check_entry_msr_load();
		check_entry_failure_exit_msrs();
		check_msr_bitmap();
		check_debug_controls();
		check_paging();
		check_absent();       /* checks_absent.c: structures where no RAM is */
		check_vpid();         /* checks_vpid.c */
		check_timer();        /* checks_timer.c */
		check_ept();          /* checks_ept.c */
		check_events();       /* checks_events.c */
		check_tpr_shadow();   /* checks_tpr.c */
		check_l2state();      /* checks_l2state.c */
		check_shadow12();     /* checks_shadow12.c */
		check_legacy();       /* checks_legacy.c */
		check_umbra_hostile_pointers(); /* only under umbra */
		check_umbra_msr_list_cap();     /* only under umbra */
		check_umbra_no_wait_for_sipi(); /* only under umbra */
		check_umbra_inject_other_event(); /* only under umbra */
		check_umbra_vmcall();           /* only under umbra */
		check_umbra_pending_dbg();      /* only under umbra */
		check_entry_failures();
		check_vmxoff();       /* last: leaves VMX operation */
		check_ring3_vmxon();  /* VMXON at CPL 3, out of VMX operation */
		check_umbra_field_stats(); /* only under umbra */
	}
	report_finish();              /* SUMMARY, then leave the machine */
}
