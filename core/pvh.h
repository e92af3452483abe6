/* SPDX-License-Identifier: BSD-2-Clause */
/* PVH boot of an ELF kernel: the XEN_ELFNOTE_PHYS32_ENTRY note and struct hvm_start_info. */
#ifndef UMBRA_CORE_PVH_H
#define UMBRA_CORE_PVH_H

#include "core/loader.h"
#include "core/types.h"

/*
 * The PVH boot ABI (Xen, docs/misc/pvh.pandoc and public/arch-x86/hvm/start_info.h):
 * the kernel names a 32-bit physical entry point in an ELF note; it is entered in
 * 32-bit flat protected mode with paging off, EBX = the physical address of
 * struct hvm_start_info. Version 1 adds the memory map, which umbra always gives.
 */
#define PVH_START_MAGIC 0x336ec578u
#define PVH_START_VERSION 1
#define PVH_NOTE_NAME "Xen"
#define XEN_ELFNOTE_PHYS32_ENTRY 18

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;  /* struct hvm_modlist_entry[nr_modules] */
	uint64_t cmdline_paddr;  /* NUL-terminated */
	uint64_t rsdp_paddr;     /* ACPI RSDP */
	uint64_t memmap_paddr;   /* version 1: struct hvm_memmap_table_entry[memmap_entries] */
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

/* type: the E820 numbering, which is also multiboot2's (1 RAM, 2 reserved, 3 ACPI, 4 NVS, 5 bad). */
struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info version 1");
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "hvm_modlist_entry");
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24, "hvm_memmap_table_entry");

enum pvh_note {
	PVH_NOTE_NONE,  /* no PHYS32_ENTRY note: not a PVH kernel */
	PVH_NOTE_FOUND, /* *entry holds the entry point */
	PVH_NOTE_BAD,   /* a malformed ELF or note: the reason is in err */
};

/*
 * Look for XEN_ELFNOTE_PHYS32_ENTRY in the PT_NOTE segments of the ELF
 * image (size bytes, ELF32 or ELF64). Every header and note is bounds-checked
 * against size.
 */
enum pvh_note pvh_find_entry(const void *image, size_t size, uint32_t *entry, char *err, size_t errlen);

/*
 * The modules the kernel gets (GRUB's modules after the kernel's): each must
 * be non-empty and lie in the guest's RAM (not in umbra's memory or a hole);
 * the first is Linux's initrd and must start like one (a cpio archive or a
 * compressed stream Linux can unpack); initrd points at its bytes (the
 * module's address in umbra's identity map). False with the reason in err.
 */
bool pvh_check_modules(const struct loader_module *mods, size_t n, const struct guest_memmap *map,
		       const void *initrd, char *err, size_t errlen);

/*
 * Write struct hvm_start_info, the module list, the memory map, the command
 * lines and a copy of the RSDP into buf (size bytes, found by the guest at
 * physical buf_pa). Returns the bytes used (start_info first, so EBX = buf_pa),
 * or 0 when buf is too small.
 */
size_t pvh_build_start_info(const struct loader_boot_info *bi, void *buf, size_t size, uint32_t buf_pa);

#endif
