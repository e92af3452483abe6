/* SPDX-License-Identifier: BSD-2-Clause */
/* Multiboot2 boot information: bounds-checked parser. */
#ifndef UMBRA_CORE_MB2_H
#define UMBRA_CORE_MB2_H

#include "core/types.h"

#define MB2_BOOTLOADER_MAGIC 0x36d76289u

/* Memory map entry types (multiboot2 spec 3.6.8). */
#define MB2_MEM_AVAILABLE 1
#define MB2_MEM_RESERVED 2
#define MB2_MEM_ACPI_RECLAIMABLE 3
#define MB2_MEM_NVS 4
#define MB2_MEM_BADRAM 5

#define MB2_MAX_MMAP 128
#define MB2_MAX_MODULES 16
/* Room for every command line and the loader name, copied out of the info structure. */
#define MB2_STRINGS_MAX 16384
/* The largest RSDP copy kept (ACPI 6.5 5.2.5.3: 36 bytes for revision 2). */
#define MB2_RSDP_MAX 64

struct mb2_mmap_entry {
	uint64_t base;
	uint64_t length;
	uint32_t type;
};

struct mb2_module {
	uint32_t start; /* physical, inclusive */
	uint32_t end;   /* physical, exclusive */
	const char *cmdline; /* points into mb2_info.strings */
};

/*
 * Everything umbra uses from the info structure, copied out of it: strings
 * and the RSDP live in this struct, so the info structure may be
 * overwritten (by the L1 loader, say) once it is parsed.
 */
struct mb2_info {
	uint32_t total_size;
	const char *cmdline;    /* NULL when absent */
	const char *bootloader; /* NULL when absent */

	bool has_basic_meminfo;
	uint32_t mem_lower_kb, mem_upper_kb;

	struct mb2_mmap_entry mmap[MB2_MAX_MMAP];
	size_t mmap_count;
	bool mmap_truncated; /* more entries than MB2_MAX_MMAP */

	struct mb2_module modules[MB2_MAX_MODULES];
	size_t module_count;
	bool modules_truncated;

	const void *rsdp; /* NULL or rsdp_copy (ACPI old/new tag) */
	size_t rsdp_len;
	int rsdp_tag; /* 14 = old (ACPI 1.0), 15 = new (ACPI 2.0+); new wins when both */

	bool has_framebuffer;
	uint64_t fb_addr;
	uint32_t fb_pitch, fb_width, fb_height;
	uint8_t fb_bpp, fb_type;

	bool has_efi64;
	uint64_t efi64_system_table;
	bool has_efi32;
	uint32_t efi32_system_table;
	bool efi_boot_services_active; /* tag 18: boot services not terminated */
	bool has_efi_mmap;

	bool has_load_base;
	uint32_t load_base_addr;
	uint8_t rsdp_copy[MB2_RSDP_MAX];
	char strings[MB2_STRINGS_MAX]; /* cmdline, bootloader and module command lines */
	size_t strings_used;
};

enum mb2_error {
	MB2_OK = 0,
	MB2_ERR_MAGIC,     /* EAX was not MB2_BOOTLOADER_MAGIC */
	MB2_ERR_NULL,      /* info pointer NULL */
	MB2_ERR_ALIGN,     /* info not 8-byte aligned */
	MB2_ERR_SIZE,      /* total_size < 16, or larger than max_len */
	MB2_ERR_TAG_SIZE,  /* a tag smaller than 8 or running past total_size */
	MB2_ERR_NO_END,    /* no end tag (type 0, size 8) */
	MB2_ERR_STRING,    /* a string tag not NUL-terminated inside its tag */
	MB2_ERR_MMAP,      /* memory map entry_size < 24 or not a multiple of 8 */
	MB2_ERR_MODULE,    /* module end < start */
	MB2_ERR_RSDP,      /* ACPI tag too small for an RSDP */
	MB2_ERR_TAG_SHORT, /* a known tag shorter than its fixed fields */
	MB2_ERR_STRINGS,   /* the strings do not fit in MB2_STRINGS_MAX */
};

/*
 * Parse the info structure at info, which the caller can read for at most
 * max_len bytes. On error *out is partially filled and must not be used.
 * Unknown tags are skipped. Never reads outside [info, info + min(total_size, max_len)).
 */
enum mb2_error mb2_parse(uint32_t magic, const void *info, size_t max_len, struct mb2_info *out);
const char *mb2_strerror(enum mb2_error err);
const char *mb2_mem_type_name(uint32_t type);

#endif
