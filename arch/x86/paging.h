/* SPDX-License-Identifier: BSD-2-Clause */
/* umbra's own page tables: all RAM identity-mapped, the image at KERNEL_VBASE. */
#ifndef UMBRA_ARCH_X86_PAGING_H
#define UMBRA_ARCH_X86_PAGING_H

#include "core/types.h"

/*
 * Build umbra's page tables from its heap: an identity map of
 * [0, max(ram_end, 4 GiB)) rounded up to 1 GiB (1 GiB pages when CPUID
 * says the CPU has them, SDM Vol. 3A 4.1.4, else 2 MiB pages), and the
 * image's virtual range [image_virt, image_virt + image_len) mapped to
 * image_phys with 2 MiB pages (both 2 MiB aligned). Returns the PML4's
 * physical address (below 4 GiB: the AP trampoline loads it in 32-bit
 * mode), or 0 when the heap is too small. Nothing changes until the
 * caller loads it into CR3 (boot_relocate).
 */
uint64_t paging_build(uint64_t ram_end, uint64_t image_virt, uint64_t image_phys, uint64_t image_len);

/* The page tables built last are in CR3 now: paging_phys_ptr may reach all they map. */
void paging_activate(void);

/*
 * umbra's pointer to physical [pa, pa + len), or NULL when it is not all
 * identity-mapped (the boot tables map 4 GiB; paging_build's, all RAM).
 */
void *paging_phys_ptr(uint64_t pa, uint64_t len);

/* The end of the identity map in use. */
uint64_t paging_identity_end(void);

/* Copy the image to dst and switch to cr3 (boot/entry.asm). */
void boot_relocate(uint64_t dst, const void *src, uint64_t len, uint64_t cr3);

#endif
