/* SPDX-License-Identifier: BSD-2-Clause */
/* bsp_main() and ap_main(): umbra's start-up, in order. */
#include "arch/x86/cpu.h"
#include "arch/x86/idt.h"
#include "arch/x86/paging.h"
#include "arch/x86/smp.h"
#include "arch/x86/vmx_caps.h"
#include "core/cmdline.h"
#include "core/gcov.h"
#include "core/guest.h"
#include "core/log.h"
#include "core/mb2.h"
#include "core/mem.h"
#include "core/panic.h"
#include "core/percpu.h"
#include "core/shutdown.h"
#include "core/version.h"
#include "drivers/acpi.h"
#include "drivers/lapic.h"
#include "drivers/power.h"
#include "drivers/timer.h"
#include "drivers/uart.h"

/* The info structure cannot sensibly be larger than this. */
#define MB2_INFO_MAX_LEN MiB(1)

static struct mb2_info boot_info;
static struct acpi_info acpi;
static struct umbra_config config;
static struct vmx_caps bsp_vmx_caps;
static struct vmx_caps ap_vmx_caps[MAX_CPUS];

void bsp_main(uint32_t magic, uint32_t info_addr);
void ap_main(uint32_t index);

static void config_warn(void *ctx __unused, const char *msg)
{
	log_warn("%s", msg);
}

static void report_boot_info(const struct mb2_info *mbi)
{
	log_info("boot: loader \"%s\", command line \"%s\"", mbi->bootloader ? mbi->bootloader : "?",
		 mbi->cmdline ? mbi->cmdline : "");
	for (size_t i = 0; i < mbi->module_count; i++)
		log_info("boot: module %zu [%#x-%#x) \"%s\"", i, mbi->modules[i].start,
			 mbi->modules[i].end, mbi->modules[i].cmdline ? mbi->modules[i].cmdline : "");
	if (mbi->has_efi64 || mbi->has_efi32)
		log_info("boot: UEFI firmware (system table %#lx)",
			 mbi->has_efi64 ? mbi->efi64_system_table : mbi->efi32_system_table);
	if (mbi->has_framebuffer)
		log_info("boot: framebuffer %ux%u, %u bpp at %#lx", mbi->fb_width, mbi->fb_height,
			 mbi->fb_bpp, mbi->fb_addr);
}

/* MADT -> per-CPU slots: BSP first (index 0), then the other enabled CPUs in MADT order. */
static void enumerate_cpus(uint32_t bsp_apic_id)
{
	uint32_t limit = config.max_cpus ? MIN(config.max_cpus, MAX_CPUS) : MAX_CPUS;
	uint32_t skipped = 0;

	cpu_count = 1;
	percpu_data[0].apic_id = bsp_apic_id;
	for (size_t i = 0; i < acpi.cpu_count; i++) {
		const struct acpi_cpu *c = &acpi.cpus[i];

		if (!c->enabled || c->apic_id == bsp_apic_id)
			continue;
		/* xAPIC IPIs carry an 8-bit destination; 0xff is broadcast. */
		if (!lapic_is_x2apic() && c->apic_id >= 0xff) {
			log_warn("smp: APIC ID %u needs x2APIC mode; CPU left offline", c->apic_id);
			skipped++;
			continue;
		}
		if (cpu_count >= limit) {
			skipped++;
			continue;
		}
		percpu_prepare(cpu_count++, c->apic_id);
	}
	if (skipped)
		log_warn("smp: %u CPU(s) left offline (cpus=%u, MAX_CPUS %d)", skipped, config.max_cpus,
			 MAX_CPUS);
}

/* ACPI tables wherever the firmware put them: umbra maps all RAM, ACPI and NVS ranges included. */
static const void *acpi_map_all(void *ctx __unused, uint64_t phys, size_t len)
{
	return phys ? paging_phys_ptr(phys, len) : NULL;
}

static enum lapic_mode apic_mode_from_config(void)
{
	switch (config.apic_mode) {
	case CONFIG_APIC_XAPIC: return LAPIC_MODE_XAPIC;
	case CONFIG_APIC_X2APIC: return LAPIC_MODE_X2APIC;
	default: return LAPIC_MODE_AUTO;
	}
}

/* selftest=fault: an access to an address umbra never maps. */
static void selftest_fault(void)
{
	log_info("selftest: page fault in umbra on CPU %u", cpu_index());
	(void)*(volatile uint64_t *)0x40000000000ULL;
}

__noreturn static void finish(enum exit_status status, const char *why)
{
	shutdown(status, why);
}

void bsp_main(uint32_t magic, uint32_t info_addr)
{
	const struct tsc_info *tsc;
	enum mb2_error mb2_err;
	enum acpi_error acpi_err;
	enum vmx_probe_result vmx;
	uint32_t online, vmx_cpus;

	gcov_init();                                /* COVERAGE=1: coverage counters (else nothing) */
	percpu_init(0);                             /* GS base, GDT, TSS */
	idt_init();                                 /* exception handlers */
	idt_load();
	uart_init(UART_COM1, 115200);               /* default console until the command line says otherwise */

	mb2_err = mb2_parse(magic, (const void *)(uint64_t)info_addr, MB2_INFO_MAX_LEN, &boot_info);
	if (mb2_err == MB2_OK && config_parse(boot_info.cmdline, &config, NULL, NULL) >= 0) {
		/* Console and log level first, so that everything after goes where asked. */
		if (!config.serial_enabled)
			uart_init(0, 0);
		else if (config.serial_port != UART_COM1 || config.serial_baud != 115200)
			uart_init(config.serial_port, config.serial_baud);
		log_set_level(config.log_level);
	}
	log_info("umbra %s: nested-VMX microhypervisor", UMBRA_VERSION);
	if (mb2_err != MB2_OK) {
		log_err("boot: bad multiboot2 information (magic %#x, info at %#x): %s", magic, info_addr,
			mb2_strerror(mb2_err));
		finish(EXIT_FAILURE, "no usable boot information");
	}
	config_parse(boot_info.cmdline, &config, config_warn, NULL); /* again, to report problems */
	report_boot_info(&boot_info);

	if (!mem_init(&boot_info, (const void *)(uint64_t)info_addr))   /* footprint, frame allocator */
		finish(EXIT_FAILURE, "no usable memory map");
	if (!mem_relocate())                        /* page tables for all RAM, image moved high */
		finish(EXIT_FAILURE, "cannot move umbra out of low memory");
	log_info("mem: umbra at [%#lx-%#lx), %lu MiB (image %lu KiB, heap %lu MiB); "
		 "%lu MiB usable RAM, all RAM mapped up to %lu MiB",
		 mem_summary()->image_start, mem_summary()->pool_end,
		 (mem_summary()->pool_end - mem_summary()->image_start) >> 20,
		 (mem_summary()->image_end - mem_summary()->image_start) >> 10,
		 (mem_summary()->pool_end - mem_summary()->pool_start) >> 20,
		 mem_summary()->usable_bytes >> 20, paging_identity_end() >> 20);

	/* ACPI: CPUs, power-off, timers. */
	if (!boot_info.rsdp) {
		log_err("acpi: the boot loader passed no ACPI RSDP");
		acpi_err = ACPI_ERR_RSDP_SIG;
	} else {
		acpi_err = acpi_parse(boot_info.rsdp, boot_info.rsdp_len, acpi_map_all, NULL, &acpi);
		if (acpi_err != ACPI_OK)
			log_err("acpi: %s", acpi_strerror(acpi_err));
	}
	power_init(acpi_err == ACPI_OK ? &acpi : NULL, config.halt_on_exit);
	if (acpi_err == ACPI_OK)
		log_info("acpi: OEM \"%s\", revision %d, %zu CPU entries, %zu I/O APIC(s), "
			 "power-off %s, platform %s",
			 acpi.oem_id, acpi.rsdp_revision, acpi.cpu_count, acpi.ioapic_count,
			 acpi.has_s5 ? "ACPI S5" : "unavailable", platform_name());

	tsc = timer_calibrate(acpi.pm_tmr_port, acpi.pm_tmr_32bit); /* delays for SMP start-up */
	log_info("timer: TSC %lu kHz (%s); CPUID 0x15 says %lu kHz, 0x16 says %lu kHz", tsc->khz,
		 tsc_source_name(tsc->source), tsc->cpuid15_khz, tsc->cpuid16_khz);

	/* VMX on the BSP first: without it there is nothing to do. */
	vmx = vmx_probe(&bsp_vmx_caps);
	if (vmx != VMX_PROBE_OK) {
		log_err("umbra: %s", vmx_probe_result_message(vmx));
		finish(EXIT_NO_VMX, "no VMX");
	}
	vmx_caps_report(&bsp_vmx_caps);
	percpu_data[0].vmx_ok = true;

	if (!lapic_global_init(apic_mode_from_config())) { /* local APIC, for IPIs */
		log_err("apic: CPU has no local APIC");
		finish(EXIT_FAILURE, "no local APIC");
	}
	lapic_cpu_init();
	percpu_data[0].apic_id = lapic_id();
	this_cpu()->state = CPU_ONLINE;
	log_info("apic: %s mode, BSP APIC ID %u", lapic_mode_name(), percpu_data[0].apic_id);

	if (acpi_err == ACPI_OK)                     /* the other CPUs */
		enumerate_cpus(percpu_data[0].apic_id);
	else
		log_warn("smp: no MADT: running on the boot CPU only");
	online = smp_start_aps(ap_main, config.smp_timeout_ms);

	vmx_cpus = 0;
	for (uint32_t i = 0; i < cpu_count; i++)
		if (percpu_data[i].state == CPU_ONLINE && percpu_data[i].vmx_ok)
			vmx_cpus++;
	log_info("umbra: status cpus_online=%u cpus_expected=%u vmx_cpus=%u shadowing=%s",
		 online, cpu_count, vmx_cpus, vmx_caps_has_shadowing(&bsp_vmx_caps) ? "yes" : "no");
	if (online != cpu_count || vmx_cpus != online)
		finish(EXIT_FAILURE, "not every CPU is ready");

	if (config.selftest == SELFTEST_PANIC)
		panic("selftest: deliberate panic with %u CPUs online", online);
	if (config.selftest == SELFTEST_FAULT) {
		/* The last AP faults; the BSP waits to be stopped by its panic. */
		if (cpu_count == 1)
			selftest_fault();
		for (;;)
			cpu_halt();
	}

	if (!boot_info.module_count) {
		log_info("umbra: no L1 guest (the first GRUB module is the guest): nothing to run");
		finish(EXIT_OK, "boot complete");
	}
	if (!guest_prepare(&boot_info, &bsp_vmx_caps, &config))   /* load L1, EPT, VMX setup */
		finish(EXIT_FAILURE, "the guest cannot run");
	guest_start_bsp();                          /* L1 runs from here on */
}

void ap_main(uint32_t index)
{
	struct percpu *p = &percpu_data[index];
	enum vmx_probe_result vmx;

	percpu_init(index);                         /* GS base, GDT, TSS */
	idt_load();
	lapic_cpu_init();
	if (lapic_id() != p->apic_id)
		log_warn("smp: CPU %u expected APIC ID %u, has %u", index, p->apic_id, lapic_id());

	vmx = vmx_probe(&ap_vmx_caps[index]);
	if (vmx != VMX_PROBE_OK)
		log_err("umbra: CPU %u: %s", index, vmx_probe_result_message(vmx));
	else if (!vmx_caps_equal(&ap_vmx_caps[index], &bsp_vmx_caps))
		log_err("umbra: CPU %u: VMX capabilities differ from the boot CPU's", index);
	else
		p->vmx_ok = true;
	log_info("smp: CPU %u up (APIC ID %u), VMX %s", index, p->apic_id, p->vmx_ok ? "ok" : "unusable");
	p->state = CPU_ONLINE;
	if (config.selftest == SELFTEST_FAULT && index == cpu_count - 1)
		selftest_fault();

	guest_start_ap(index);                      /* wait-for-SIPI until L1 starts this CPU */
}
