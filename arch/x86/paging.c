/* SPDX-License-Identifier: BSD-2-Clause */
/* umbra's own page tables: all RAM identity-mapped, the image at KERNEL_VBASE. */
#include "arch/x86/paging.h"
#include "arch/x86/cpu.h"
#include "core/mem.h"

/* 4-level paging entries (SDM Vol. 3A 4.5, Tables 4-15 to 4-20). */
#define PTE_PRESENT BIT(0)
#define PTE_WRITE BIT(1)
#define PTE_PAGE_SIZE BIT(7) /* a 1 GiB page in a PDPTE, 2 MiB in a PDE */
#define PTE_TABLE (PTE_PRESENT | PTE_WRITE)
#define PTE_LARGE_PAGE (PTE_PRESENT | PTE_WRITE | PTE_PAGE_SIZE)
#define PT_ENTRIES 512
#define PML4_INDEX(va) (((va) >> 39) & 511)
#define PDPT_INDEX(va) (((va) >> 30) & 511)
#define PD_INDEX(va) (((va) >> 21) & 511)

/* CPUID.80000001H:EDX bit 26: 1-GByte pages (SDM Vol. 2A, CPUID). */
#define CPUID_EXT_EDX_PAGE1GB BIT(26)

/* What boot/entry.asm maps, and where the identity map must stop (the image lives above). */
#define BOOT_IDENTITY_END GiB(4)
#define IDENTITY_MAX (1ULL << 46)

static uint64_t identity_end = BOOT_IDENTITY_END;
static uint64_t built_end;

/* umbra's heap is below 4 GiB, identity-mapped by every set of tables. */
static uint64_t *table(uint64_t pa)
{
	return (uint64_t *)pa;
}

uint64_t paging_build(uint64_t ram_end, uint64_t image_virt, uint64_t image_phys, uint64_t image_len)
{
	bool pages_1g = cpuid(0x80000001, 0).edx & CPUID_EXT_EDX_PAGE1GB;
	uint64_t end = ALIGN_UP(MAX(ram_end, BOOT_IDENTITY_END), GiB(1));
	uint64_t pml4 = mem_alloc_pages(1), pdpt = 0, hi_pdpt, hi_pd;

	if (!pml4)
		return 0;
	end = MIN(end, IDENTITY_MAX);
	for (uint64_t at = 0; at < end; at += GiB(1)) {
		if (!pdpt || !PDPT_INDEX(at)) {
			pdpt = mem_alloc_pages(1);
			if (!pdpt)
				return 0;
			table(pml4)[PML4_INDEX(at)] = pdpt | PTE_TABLE;
		}
		if (pages_1g) {
			table(pdpt)[PDPT_INDEX(at)] = at | PTE_LARGE_PAGE;
		} else {
			uint64_t pd = mem_alloc_pages(1);

			if (!pd)
				return 0;
			for (uint64_t i = 0; i < PT_ENTRIES; i++)
				table(pd)[i] = (at + i * MiB(2)) | PTE_LARGE_PAGE;
			table(pdpt)[PDPT_INDEX(at)] = pd | PTE_TABLE;
		}
	}

	/* The image: one page directory (linker.ld keeps it well under 1 GiB). */
	if (!IS_ALIGNED(image_virt | image_phys, MiB(2)) || table(pml4)[PML4_INDEX(image_virt)] ||
	    PD_INDEX(image_virt) + ALIGN_UP(image_len, MiB(2)) / MiB(2) > PT_ENTRIES)
		return 0;
	hi_pdpt = mem_alloc_pages(1);
	hi_pd = mem_alloc_pages(1);
	if (!hi_pdpt || !hi_pd)
		return 0;
	table(pml4)[PML4_INDEX(image_virt)] = hi_pdpt | PTE_TABLE;
	table(hi_pdpt)[PDPT_INDEX(image_virt)] = hi_pd | PTE_TABLE;
	for (uint64_t off = 0; off < image_len; off += MiB(2))
		table(hi_pd)[PD_INDEX(image_virt + off)] = (image_phys + off) | PTE_LARGE_PAGE;
	built_end = end;
	return pml4;
}

void paging_activate(void)
{
	identity_end = built_end;
}

void *paging_phys_ptr(uint64_t pa, uint64_t len)
{
	if (pa > identity_end || len > identity_end - pa)
		return NULL;
	return (void *)pa;
}

uint64_t paging_identity_end(void)
{
	return identity_end;
}
