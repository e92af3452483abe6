/* SPDX-License-Identifier: BSD-2-Clause */
/* Loading and starting the L1 guest (design: "The machine as L1 sees it"). */
#include "core/guest.h"
#include "arch/x86/cpu.h"
#include "arch/x86/exit.h"
#include "arch/x86/idt.h"
#include "arch/x86/vcpu.h"
#include "core/loader.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/percpu.h"
#include "core/shutdown.h"
#include "core/string.h"
#include "core/trace.h"
#include "core/version.h"
#include "drivers/timer.h"
#include "nested/nvmx.h"
#include "nested/vmx_msrs.h"

/*
 * The guest's boot information goes at 64 KiB: conventional memory that
 * every PC has, below where kernels load and clear of the real-mode IVT
 * and BIOS data area.
 */
#define BOOT_INFO_PA 0x10000
#define BOOT_INFO_SIZE KiB(64)
#define AP_READY_TIMEOUT_US 2000000

static struct guest_memmap guest_map;
static struct vcpu_boot bsp_boot;
static volatile bool guest_go;
static volatile uint32_t aps_ready;
static bool stats_on, stats_full;

static void log_memmap(void)
{
	for (size_t i = 0; i < guest_map.n; i++)
		log_debug("guest: memory [0x%012lx-0x%012lx) %s", guest_map.e[i].base,
			  guest_map.e[i].base + guest_map.e[i].length, mb2_mem_type_name(guest_map.e[i].type));
}

bool guest_prepare(const struct mb2_info *mbi, const struct vmx_caps *caps,
		   const struct umbra_config *cfg)
{
	struct loader_range umbra[2], busy[MB2_MAX_MODULES + 1];
	struct ept_hole holes[2];
	struct loader_module mods[LOADER_MAX_MODULES];
	struct loader_image img;
	const struct mb2_module *kmod = &mbi->modules[0];
	size_t numbra, nbusy = 0, nmods = 0, info_len;
	char err[160];

	numbra = mem_umbra_ranges(umbra, ARRAY_SIZE(umbra));
	loader_build_memmap(mbi->mmap, mbi->mmap_count, umbra, numbra, cfg->guest_mem, &guest_map);
	if (guest_map.truncated)
		log_warn("guest: memory map truncated to %zu entries", guest_map.n);
	log_memmap();

	if (!loader_parse((const void *)(uint64_t)kmod->start, kmod->end - kmod->start, &img, err,
			  sizeof(err))) {
		log_err("guest: cannot load module 0: %s", err);
		return false;
	}
	/* Kernel segments must not land on the kernel file itself, other modules or the boot info. */
	for (size_t i = 0; i < mbi->module_count; i++)
		busy[nbusy++] = (struct loader_range){ mbi->modules[i].start, mbi->modules[i].end };
	busy[nbusy++] = (struct loader_range){ BOOT_INFO_PA, BOOT_INFO_PA + BOOT_INFO_SIZE };
	if (!loader_check_placement(&img, &guest_map, busy, nbusy, err, sizeof(err))) {
		log_err("guest: cannot load module 0: %s", err);
		return false;
	}
	if (!loader_range_is_ram(&guest_map, BOOT_INFO_PA, BOOT_INFO_PA + BOOT_INFO_SIZE)) {
		log_err("guest: [%#x-%#lx) for the boot information is not RAM", BOOT_INFO_PA,
			BOOT_INFO_PA + BOOT_INFO_SIZE);
		return false;
	}
	for (size_t i = 1; i < mbi->module_count && nmods < LOADER_MAX_MODULES; i++)
		mods[nmods++] = (struct loader_module){ mbi->modules[i].start, mbi->modules[i].end,
							mbi->modules[i].cmdline };
	if (mbi->module_count - 1 > nmods)
		log_warn("guest: only %zu modules are passed on", nmods);

	loader_copy(&img, (const void *)(uint64_t)kmod->start);
	{
		struct loader_boot_info bi = {
			.cmdline = kmod->cmdline,
			.bootloader = "umbra " UMBRA_VERSION,
			.map = &guest_map,
			.modules = mods,
			.nmodules = nmods,
			.rsdp = mbi->rsdp,
			.rsdp_len = mbi->rsdp_len,
			.rsdp_tag = mbi->rsdp_tag,
		};

		info_len = loader_build_info(img.kind, &bi, (void *)BOOT_INFO_PA, BOOT_INFO_SIZE,
					     BOOT_INFO_PA);
	}
	if (!info_len) {
		log_err("guest: boot information does not fit in %lu KiB", BOOT_INFO_SIZE >> 10);
		return false;
	}
	log_info("guest: multiboot%s kernel [%#lx-%#lx), entry %#x, command line \"%s\", %zu module(s)",
		 img.kind == LOADER_MULTIBOOT2 ? "2" : "", img.load_start, img.load_end, img.entry,
		 kmod->cmdline ? kmod->cmdline : "", nmods);

	for (size_t i = 0; i < numbra; i++)
		holes[i] = (struct ept_hole){ umbra[i].base, umbra[i].end, 0 };
	vmx_msrs_init(caps);
	nvmx_init();                                /* L1's VMX instructions, L2 exits */
	shadow_init(caps, cfg->nested_shadow, cpu_count); /* VMCS shadowing for L1 */
	if (!vm_init(caps, holes, numbra, mem_summary()->highest_ram))
		return false;
	vm.guest_mem_limit = cfg->guest_mem;
	vm.guest_map = &guest_map;
	stats_on = cfg->stats;
	stats_full = cfg->stats_full;
	trace_init(cfg->trace, cpu_count);          /* exit trace ring, trace=N */
	bsp_boot = (struct vcpu_boot){
		.entry = img.entry,
		.eax = img.kind == LOADER_MULTIBOOT2 ? MB2_BOOTLOADER_MAGIC : MB1_BOOTLOADER_MAGIC,
		.ebx = BOOT_INFO_PA,
	};
	return true;
}

static void report_stats(void)
{
	trace_dump_all();
	if (stats_on)
		exit_stats_report(stats_full);
}

/* NMIs that reach umbra in root operation: a stop request, or the guest's own. */
static void nmi_in_root(struct trap_frame *tf __unused)
{
	exit_nmi(this_vcpu());
}

__noreturn void guest_start_bsp(void)
{
	struct vcpu *v = vcpu_of(0);
	uint32_t want = 0;
	uint64_t deadline;

	idt_set_handler(VEC_NMI, nmi_in_root);
	if (stats_on || trace_enabled)
		shutdown_set_report(report_stats);
	for (uint32_t i = 1; i < cpu_count; i++)
		want += percpu_data[i].state == CPU_ONLINE;
	__atomic_store_n(&guest_go, true, __ATOMIC_RELEASE);

	if (!vcpu_init(v, 0, &bsp_boot))
		shutdown(EXIT_FAILURE, "cannot start the guest on the boot CPU");
	/*
	 * The guest's BSP may send INIT-SIPI-SIPI at once: every AP must be in
	 * VMX operation first (INIT is held pending there, SDM Vol. 3C 23.8).
	 */
	deadline = timer_deadline_us(AP_READY_TIMEOUT_US);
	while (aps_ready < want && !timer_expired(deadline))
		cpu_relax();
	if (aps_ready < want)
		log_warn("guest: only %u of %u APs are ready for the guest", aps_ready, want);
	log_info("guest: starting on %u CPU(s)", aps_ready + 1);
	vcpu_run(v);
}

__noreturn void guest_start_ap(uint32_t index)
{
	struct vcpu *v = vcpu_of(index);
	const struct vcpu_boot boot = { .wait_for_sipi = true };

	while (!__atomic_load_n(&guest_go, __ATOMIC_ACQUIRE))
		cpu_relax();
	if (!vcpu_init(v, index, &boot))
		shutdown(EXIT_FAILURE, "cannot start the guest on an AP");
	__atomic_fetch_add(&aps_ready, 1, __ATOMIC_ACQ_REL);
	vcpu_run(v);
}
