/* SPDX-License-Identifier: BSD-2-Clause */
/* Physical memory setup: umbra's footprint near the top of RAM below 4 GiB, and its frame allocator. */
#include "core/mem.h"
#include "arch/x86/paging.h"
#include "core/log.h"
#include "core/spinlock.h"
#include "core/string.h"

/* Virtual addresses of the image (linker.ld); __image_load_start is where GRUB put it. */
extern char __image_start[], __image_end[], __image_load_start[];

/*
 * umbra's heap stays below this: the AP trampoline loads CR3 in 32-bit
 * mode, and the boot page tables map no more until paging_build's do.
 */
#define IDENTITY_MAPPED_LIMIT GiB(4)

/*
 * umbra's footprint after start-up: the image (moved there by mem_relocate)
 * and right above it the heap, one contiguous range so that EPT leaves it
 * out with a single hole, taken from the top of RAM below 4 GiB so that
 * RAM from 1 MiB up is the guest's, and 2 MiB aligned (the image is mapped
 * with 2 MiB pages, and the guest's memory around it can use large pages).
 */
#define POOL_SIZE MiB(16)
#define POOL_ALIGN MiB(2)

static struct frame_allocator frames;
static struct spinlock frames_lock = SPINLOCK_INIT;
static struct mem_summary summary;

static void reserve(uint64_t base, uint64_t len, const char *what)
{
	enum frame_error err = frame_reserve(&frames, base, len);

	if (err != FRAME_OK)
		log_warn("mem: cannot reserve %s [%#lx, %#lx): %s", what, base, base + len,
			 frame_strerror(err));
}

bool mem_init(const struct mb2_info *mbi, const void *mbi_raw)
{
	uint64_t load = (uint64_t)__image_load_start;
	uint64_t image_len = ALIGN_UP((uint64_t)(__image_end - __image_start), POOL_ALIGN);
	uint64_t need = image_len + POOL_SIZE;

	frame_allocator_init(&frames);

	if (!mbi->mmap_count) {
		log_err("mem: the boot loader gave no memory map");
		return false;
	}
	if (mbi->mmap_truncated)
		log_warn("mem: memory map has more than %d entries; the rest is ignored", MB2_MAX_MMAP);

	for (size_t i = 0; i < mbi->mmap_count; i++) {
		const struct mb2_mmap_entry *e = &mbi->mmap[i];
		enum frame_error err;

		log_debug("mem: [0x%012lx-0x%012lx) %s", e->base, e->base + e->length,
			  mb2_mem_type_name(e->type));
		/* umbra maps RAM and the ACPI tables in it, wherever they are. */
		if (e->type == MB2_MEM_AVAILABLE || e->type == MB2_MEM_ACPI_RECLAIMABLE ||
		    e->type == MB2_MEM_NVS)
			summary.highest_mapped = MAX(summary.highest_mapped, e->base + e->length);
		if (e->type != MB2_MEM_AVAILABLE || e->length == 0)
			continue;
		summary.usable_bytes += e->length;
		summary.highest_ram = MAX(summary.highest_ram, e->base + e->length);
		err = frame_add(&frames, e->base, e->length);
		if (err != FRAME_OK)
			log_warn("mem: ignoring RAM [%#lx, %#lx): %s", e->base, e->base + e->length,
				 frame_strerror(err));
	}

	/*
	 * Memory maps may overlap; reserved entries win over available ones
	 * wherever they meet (a cautious reading of ACPI 6.5 15.1).
	 */
	for (size_t i = 0; i < mbi->mmap_count; i++) {
		const struct mb2_mmap_entry *e = &mbi->mmap[i];

		if (e->type != MB2_MEM_AVAILABLE && e->length)
			reserve(e->base, e->length, "firmware range");
	}
	reserve(0, LOW_MEMORY_END, "low memory");
	/* Where GRUB loaded the image: it runs from there until mem_relocate. */
	reserve(load, image_len, "umbra image");
	reserve((uint64_t)mbi_raw, mbi->total_size, "multiboot2 info");
	for (size_t i = 0; i < mbi->module_count; i++)
		reserve(mbi->modules[i].start, mbi->modules[i].end - mbi->modules[i].start, "module");
	/* Nothing above the boot identity map can be touched yet. */
	reserve(IDENTITY_MAPPED_LIMIT, BIT(52) - IDENTITY_MAPPED_LIMIT, "memory above 4 GiB");

	/* The highest free range that can hold the image and the heap. */
	for (size_t i = frames.nfree; i-- > 0;) {
		uint64_t top = ALIGN_DOWN(frames.free[i].end, POOL_ALIGN);

		if (top >= frames.free[i].base + need && top - need >= frames.free[i].base) {
			summary.image_start = top - need;
			summary.image_end = summary.image_start + image_len;
			summary.pool_start = summary.image_end;
			summary.pool_end = top;
			break;
		}
	}
	if (!summary.pool_end) {
		log_err("mem: no free, 2 MiB aligned %lu MiB range below 4 GiB for umbra's image and heap",
			need >> 20);
		return false;
	}
	/* From here on umbra allocates from its pool only; the rest is the guest's. */
	frame_allocator_init(&frames);
	frame_add(&frames, summary.pool_start, POOL_SIZE);
	summary.free_bytes = frames.free_bytes;
	return true;
}

bool mem_relocate(void)
{
	uint64_t len = summary.image_end - summary.image_start;
	uint64_t cr3 = paging_build(summary.highest_mapped, (uint64_t)__image_start, summary.image_start, len);

	if (!cr3) {
		log_err("mem: out of memory for umbra's page tables");
		return false;
	}
	/* Interrupts are off and no other CPU runs yet: nothing writes to the image meanwhile. */
	boot_relocate(summary.image_start, __image_start, (uint64_t)(__image_end - __image_start), cr3);
	paging_activate();
	return true;
}

size_t mem_umbra_ranges(struct loader_range *out, size_t max)
{
	if (max < 1)
		return 0;
	/* Image and heap are adjacent: one range, one EPT hole. */
	out[0] = (struct loader_range){ summary.image_start, summary.pool_end };
	return 1;
}

const struct mem_summary *mem_summary(void)
{
	return &summary;
}

uint64_t mem_alloc_pages(size_t count)
{
	uint64_t flags = spin_lock_irqsave(&frames_lock);
	uint64_t pa = frame_alloc(&frames, count, FRAME_SIZE, IDENTITY_MAPPED_LIMIT);

	summary.free_bytes = frames.free_bytes;
	spin_unlock_irqrestore(&frames_lock, flags);
	if (pa)
		memset((void *)pa, 0, count * FRAME_SIZE);
	return pa;
}
