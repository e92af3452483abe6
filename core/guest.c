/* SPDX-License-Identifier: BSD-2-Clause */
/* Loading and starting the L1 guest (design: "The machine as L1 sees it"). */
#include "core/guest.h"
#include "arch/x86/cpu.h"
#include "arch/x86/exit.h"
#include "arch/x86/guest_mem.h"
#include "arch/x86/idt.h"
#include "arch/x86/vcpu.h"
#include "core/bzimage.h"
#include "core/loader.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/percpu.h"
#include "core/pvh.h"
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
static struct bzimage bz; /* module 0's setup header, when it is a bzImage */
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

/*
 * Move module m to the highest free guest RAM below limit (at most 4 GiB:
 * multiboot module addresses are 32-bit) that none of the busy ranges use,
 * and say so. The old place may be where the kernel's segments go.
 */
static bool move_module(struct loader_module *m, struct loader_range *busy, size_t nbusy, uint64_t limit)
{
	uint64_t len = m->end - m->start, to;
	void *dst, *src;

	if (!loader_find_free(&guest_map, busy, nbusy, len ? len : 1, PAGE_SIZE, limit, &to))
		return false;
	dst = guest_phys_ptr(to, len ? len : 1);
	src = guest_phys_ptr(m->start, len ? len : 1);
	if (!dst || !src)
		return false;
	memmove(dst, src, len);
	log_info("guest: module [%#x-%#x) moved to [%#lx-%#lx), clear of the kernel", m->start, m->end,
		 to, to + len);
	m->end = (uint32_t)(to + len);
	m->start = (uint32_t)to;
	return true;
}

/*
 * Modules that overlap the kernel's segments move out of their way:
 * GRUB puts modules low (from 1 MiB), where kernels load. busy has room
 * for the segments, the boot info and every module.
 */
static bool stage_modules(const struct loader_image *img, struct loader_module *mods, size_t n)
{
	struct loader_range busy[LOADER_MAX_SEGMENTS + 1 + MB2_MAX_MODULES];
	size_t nbusy = 0;

	for (size_t i = 0; i < img->nsegs; i++)
		busy[nbusy++] = (struct loader_range){ img->segs[i].paddr,
						      img->segs[i].paddr + img->segs[i].memsz };
	busy[nbusy++] = (struct loader_range){ BOOT_INFO_PA, BOOT_INFO_PA + BOOT_INFO_SIZE };
	for (size_t i = 0; i < n; i++)
		busy[nbusy++] = (struct loader_range){ mods[i].start, mods[i].end };
	for (size_t i = 0; i < n; i++) {
		bool clash = false;

		for (size_t k = 0; k < img->nsegs + 1; k++)
			clash |= mods[i].start < busy[k].end && mods[i].end > busy[k].base;
		if (!clash)
			continue;
		if (!move_module(&mods[i], busy, nbusy, GiB(4)))
			return false;
		busy[img->nsegs + 1 + i] = (struct loader_range){ mods[i].start, mods[i].end };
	}
	return true;
}

/*
 * A bzImage's initrd (module 1) must end at or below the kernel's
 * initrd_addr_max: move it there when it does not. One larger than that
 * stays, for bzimage_check_boot to refuse.
 */
static bool stage_bzimage_initrd(const struct loader_image *img, struct loader_module *mods, size_t n)
{
	struct loader_range busy[LOADER_MAX_SEGMENTS + 3];
	uint64_t limit = bzimage_initrd_limit(&bz);
	size_t nbusy = 0;

	if (n < 2 || mods[1].end <= limit || mods[1].end - mods[1].start > limit)
		return true;
	for (size_t i = 0; i < img->nsegs; i++)
		busy[nbusy++] = (struct loader_range){ img->segs[i].paddr,
						      img->segs[i].paddr + img->segs[i].memsz };
	busy[nbusy++] = (struct loader_range){ BOOT_INFO_PA, BOOT_INFO_PA + BOOT_INFO_SIZE };
	busy[nbusy++] = (struct loader_range){ mods[0].start, mods[0].end }; /* the kernel file */
	return move_module(&mods[1], busy, nbusy, limit);
}

/* Check module 0 and decide where it goes: a bzImage, or an ELF kernel (multiboot, PVH). */
static bool parse_kernel(const void *image, size_t size, const struct loader_range *boot_info,
			 struct loader_image *img, char *err, size_t errlen)
{
	if (bzimage_detect(image, size))
		return bzimage_parse(image, size, &bz, err, errlen) &&
		       bzimage_place(&bz, &guest_map, boot_info, 1, img, err, errlen);
	/* Modules move out of the segments' way (stage_modules); the boot info cannot. */
	return loader_parse(image, size, img, err, errlen) &&
	       loader_check_placement(img, &guest_map, boot_info, 1, err, errlen);
}

static const char *kind_name(enum loader_kind kind)
{
	switch (kind) {
	case LOADER_MULTIBOOT1:
		return "multiboot";
	case LOADER_MULTIBOOT2:
		return "multiboot2";
	case LOADER_PVH:
		return "PVH";
	case LOADER_BZIMAGE:
		return "bzImage";
	}
	return "?";
}

bool guest_prepare(const struct mb2_info *mbi, const struct vmx_caps *caps,
		   const struct umbra_config *cfg)
{
	struct loader_range umbra[2];
	struct ept_hole holes[2];
	/* Slot 0 is the kernel file itself, staged like the modules passed on. */
	struct loader_module mods[1 + LOADER_MAX_MODULES];
	struct loader_image img;
	const struct mb2_module *kmod = &mbi->modules[0];
	const struct loader_range boot_info_range = { BOOT_INFO_PA, BOOT_INFO_PA + BOOT_INFO_SIZE };
	struct bzimage_boot bzb = { 0 };
	struct loader_boot_info bi;
	size_t numbra, nmods = 0, info_len;
	char err[160];

	numbra = mem_umbra_ranges(umbra, ARRAY_SIZE(umbra));
	/*
	 * umbra's footprint is reserved; the AP trampoline page (0x8000) is not:
	 * umbra uses it only to start its CPUs, before the guest runs, and
	 * owns nothing below its footprint afterwards.
	 */
	loader_build_memmap(mbi->mmap, mbi->mmap_count, umbra, numbra, cfg->guest_mem, &guest_map);
	if (guest_map.truncated)
		log_warn("guest: memory map truncated to %zu entries", guest_map.n);
	log_memmap();

	if (!parse_kernel(guest_phys_ptr(kmod->start, kmod->end - kmod->start), kmod->end - kmod->start,
			  &boot_info_range, &img, err, sizeof(err))) {
		log_err("guest: cannot load module 0: %s", err);
		return false;
	}
	if (!loader_range_is_ram(&guest_map, BOOT_INFO_PA, BOOT_INFO_PA + BOOT_INFO_SIZE)) {
		log_err("guest: [%#x-%#lx) for the boot information is not RAM", BOOT_INFO_PA,
			BOOT_INFO_PA + BOOT_INFO_SIZE);
		return false;
	}
	for (size_t i = 0; i < mbi->module_count && nmods < ARRAY_SIZE(mods); i++)
		mods[nmods++] = (struct loader_module){ mbi->modules[i].start, mbi->modules[i].end,
							mbi->modules[i].cmdline };
	if (mbi->module_count > nmods)
		log_warn("guest: only %zu modules are passed on", nmods - 1);
	/* The Linux boot protocol has one initrd. */
	if (img.kind == LOADER_BZIMAGE && nmods > 2) {
		log_warn("guest: a bzImage takes one initrd: modules 2-%zu are not passed on", nmods - 1);
		nmods = 2;
	}
	if (!stage_modules(&img, mods, nmods)) {
		log_err("guest: no free RAM to move the modules clear of the kernel");
		return false;
	}
	if (img.kind == LOADER_BZIMAGE && !stage_bzimage_initrd(&img, mods, nmods)) {
		log_err("guest: no free RAM below initrd_addr_max %#x for the %u-byte initrd",
			bz.hdr.initrd_addr_max, mods[1].end - mods[1].start);
		return false;
	}
	bi = (struct loader_boot_info){
		.cmdline = kmod->cmdline,
		.bootloader = "umbra " UMBRA_VERSION,
		.map = &guest_map,
		.modules = mods + 1,
		.nmodules = nmods - 1,
		.rsdp = mbi->rsdp,
		.rsdp_len = mbi->rsdp_len,
		.rsdp_tag = mbi->rsdp_tag,
	};
	/* The initrd is checked where it now lies, before anything is copied. */
	if ((img.kind == LOADER_PVH || img.kind == LOADER_BZIMAGE) &&
	    (!pvh_check_modules(mods + 1, nmods - 1, &guest_map,
				nmods > 1 ? guest_phys_ptr(mods[1].start, mods[1].end - mods[1].start) : NULL,
				err, sizeof(err)) ||
	     (img.kind == LOADER_BZIMAGE && !bzimage_check_boot(&bz, &bi, err, sizeof(err))))) {
		log_err("guest: cannot boot the %s kernel: %s", kind_name(img.kind), err);
		return false;
	}

	/* mb2_parse copied the command lines and the RSDP: GRUB's info may be overwritten now. */
	if (!loader_copy(&img, guest_phys_ptr(mods[0].start, mods[0].end - mods[0].start),
			 guest_phys_ptr)) {
		log_err("guest: cannot reach the kernel's segments");
		return false;
	}
	if (img.kind == LOADER_BZIMAGE)
		info_len = bzimage_build_params(&bz, &img, &bi, guest_phys_ptr(BOOT_INFO_PA, BOOT_INFO_SIZE),
						BOOT_INFO_SIZE, BOOT_INFO_PA, &bzb);
	else
		info_len = loader_build_info(img.kind, &bi, guest_phys_ptr(BOOT_INFO_PA, BOOT_INFO_SIZE),
					     BOOT_INFO_SIZE, BOOT_INFO_PA);
	if (!info_len) {
		log_err("guest: boot information does not fit in %lu KiB", BOOT_INFO_SIZE >> 10);
		return false;
	}
	log_info("guest: %s kernel [%#lx-%#lx), entry %#x, command line \"%s\", %zu module(s)",
		 kind_name(img.kind), img.load_start, img.load_end, img.entry, kmod->cmdline ? kmod->cmdline : "",
		 nmods - 1);
	if (img.kind == LOADER_BZIMAGE)
		log_info("guest: bzImage boot protocol %u.%02u, %s, %lu of %u KiB (init_size) from the file, "
			 "boot_params at %#x", bz.hdr.version >> 8, bz.hdr.version & 0xff,
			 img.load_start == bz.hdr.pref_address ? "at pref_address" : "relocated",
			 bz.pm_size >> 10, bz.hdr.init_size >> 10, bzb.params_pa);

	for (size_t i = 0; i < numbra; i++)
		holes[i] = (struct ept_hole){ umbra[i].base, umbra[i].end, 0 };
	vmx_msrs_init(caps);
	vmx_msrs_report();                          /* what L1 is offered, decoded */
	nvmx_init();                                /* L1's VMX instructions, L2 exits */
	shadow_init(caps, cfg->nested_shadow, cfg->nested_shadow_vmcs02, cpu_count); /* VMCS shadowing for L1 */
	if (!vm_init(caps, holes, numbra, mem_summary()->highest_ram))
		return false;
	nvmx_msr_bitmap_init();                     /* after vm_init: umbra's MSR bitmap */
	vm.guest_mem_limit = cfg->guest_mem;
	vm.guest_map = &guest_map;
	stats_on = cfg->stats;
	stats_full = cfg->stats_full;
	trace_init(cfg->trace, cpu_count);          /* exit trace ring, trace=N */
	if (img.kind == LOADER_BZIMAGE)
		/* The 32-bit boot protocol: EBX = EBP = EDI = 0, ESI = boot_params (core/bzimage.h). */
		bsp_boot = (struct vcpu_boot){
			.entry = img.entry,
			.esi = bzb.params_pa,
			.gdtr_base = bzb.gdt_pa,
			.gdtr_limit = bzb.gdt_limit,
			.cs = BZ_BOOT_CS,
			.ds = BZ_BOOT_DS,
		};
	else
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
