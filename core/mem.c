/* SPDX-License-Identifier: BSD-2-Clause */
/* Physical memory setup: frame allocator fed from the multiboot2 memory map. */
#include "core/mem.h"
#include "core/log.h"
#include "core/spinlock.h"
#include "core/string.h"

extern char __image_start[], __image_end[];

/* The boot page tables identity-map this much; allocations stay below it. */
#define IDENTITY_MAPPED_LIMIT GiB(4)

/*
 * umbra's heap: one contiguous range, so that EPT can leave it out with a
 * single hole, taken from the top of RAM below 4 GiB (low memory stays
 * the guest's) and 2 MiB aligned (so the guest's memory around it can use
 * large pages).
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
	frame_allocator_init(&frames);
	summary.image_start = (uint64_t)__image_start;
	summary.image_end = (uint64_t)__image_end;

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
	reserve(summary.image_start, summary.image_end - summary.image_start, "umbra image");
	reserve((uint64_t)mbi_raw, mbi->total_size, "multiboot2 info");
	for (size_t i = 0; i < mbi->module_count; i++)
		reserve(mbi->modules[i].start, mbi->modules[i].end - mbi->modules[i].start, "module");
	/* Nothing above the boot identity map can be touched yet. */
	reserve(IDENTITY_MAPPED_LIMIT, BIT(52) - IDENTITY_MAPPED_LIMIT, "memory above 4 GiB");

	/* The highest free range that can hold the pool. */
	for (size_t i = frames.nfree; i-- > 0;) {
		uint64_t top = ALIGN_DOWN(frames.free[i].end, POOL_ALIGN);

		if (top >= frames.free[i].base + POOL_SIZE && top - POOL_SIZE >= frames.free[i].base) {
			summary.pool_start = top - POOL_SIZE;
			summary.pool_end = top;
			break;
		}
	}
	if (!summary.pool_end) {
		log_err("mem: no free, 2 MiB aligned %lu MiB range below 4 GiB for umbra's heap",
			POOL_SIZE >> 20);
		return false;
	}
	/* From here on umbra allocates from its pool only; the rest is the guest's. */
	frame_allocator_init(&frames);
	frame_add(&frames, summary.pool_start, POOL_SIZE);
	summary.free_bytes = frames.free_bytes;
	return true;
}

size_t mem_umbra_ranges(struct loader_range *out, size_t max)
{
	if (max < 2)
		return 0;
	out[0] = (struct loader_range){ ALIGN_DOWN(summary.image_start, PAGE_SIZE),
					ALIGN_UP(summary.image_end, PAGE_SIZE) };
	out[1] = (struct loader_range){ summary.pool_start, summary.pool_end };
	return 2;
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
