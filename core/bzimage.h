/* SPDX-License-Identifier: BSD-2-Clause */
/* Linux bzImage as L1: the x86 boot protocol's setup header, placement and boot_params. */
#ifndef UMBRA_CORE_BZIMAGE_H
#define UMBRA_CORE_BZIMAGE_H

#include "core/loader.h"
#include "core/types.h"

/*
 * The Linux/x86 boot protocol (Linux, Documentation/x86/boot.rst and
 * zero-page.rst). A bzImage is the real-mode setup code ((setup_sects or 4,
 * + 1) 512-byte sectors, the setup header at 0x1f1 in it) followed by the
 * protected-mode kernel. umbra uses the 32-bit boot protocol: the protected-
 * mode part at an aligned address, a zeroed boot_params with the setup header
 * copied in, then the kernel entered at its load address in 32-bit flat
 * protected mode, paging and interrupts off, a GDT with __BOOT_CS (0x10) and
 * __BOOT_DS (0x18), ESI = boot_params, EBP = EDI = EBX = 0.
 */
#define BZ_HEADER_MAGIC 0x53726448u /* "HdrS" at 0x202 */
#define BZ_BOOT_FLAG 0xaa55         /* at 0x1fe */
#define BZ_JUMP_OPCODE 0xeb         /* at 0x200: JMP rel8, whose offset gives the header's end */
/*
 * 2.10 brought init_size and pref_address, which a relocating loader needs to
 * place the kernel safely; 2.12 (Linux 3.8) brought xloadflags. umbra asks for
 * 2.12 so that every field it reads is there.
 */
#define BZ_MIN_VERSION 0x020c
#define BZ_SECTOR 512
#define BZ_SETUP_SECTS_DEFAULT 4 /* setup_sects == 0 means 4 */
#define BZ_LOAD_HIGH_ADDR 0x100000 /* the bzImage load address of the traditional protocol */
#define BZ_TYPE_OF_LOADER_UNDEFINED 0xff /* no assigned boot loader ID */

/* loadflags (0x211) and xloadflags (0x236). */
#define BZ_LOADED_HIGH BIT(0)
#define BZ_XLF_KERNEL_64 BIT(0)
#define BZ_XLF_CAN_BE_LOADED_ABOVE_4G BIT(1)

/* The 32-bit boot protocol's selectors. */
#define BZ_BOOT_CS 0x10
#define BZ_BOOT_DS 0x18

/* E820 entries boot_params holds (its e820_table) */
#define BZ_E820_MAX 128

/* The setup header as it is in the file at 0x1f1 and in boot_params (boot.rst). */
struct bz_setup_header {
	uint8_t setup_sects;          /* 0x1f1 */
	uint16_t root_flags;
	uint32_t syssize;             /* 16-byte paragraphs of protected-mode code */
	uint16_t ram_size;
	uint16_t vid_mode;
	uint16_t root_dev;
	uint16_t boot_flag;           /* 0x1fe */
	uint16_t jump;                /* 0x200 */
	uint32_t header;              /* 0x202 */
	uint16_t version;             /* 0x206 */
	uint32_t realmode_swtch;
	uint16_t start_sys_seg;
	uint16_t kernel_version;
	uint8_t type_of_loader;       /* 0x210 */
	uint8_t loadflags;
	uint16_t setup_move_size;
	uint32_t code32_start;        /* 0x214 */
	uint32_t ramdisk_image;
	uint32_t ramdisk_size;
	uint32_t bootsect_kludge;
	uint16_t heap_end_ptr;        /* 0x224 */
	uint8_t ext_loader_ver;
	uint8_t ext_loader_type;
	uint32_t cmd_line_ptr;        /* 0x228 */
	uint32_t initrd_addr_max;
	uint32_t kernel_alignment;
	uint8_t relocatable_kernel;   /* 0x234 */
	uint8_t min_alignment;
	uint16_t xloadflags;
	uint32_t cmdline_size;        /* 0x238 */
	uint32_t hardware_subarch;
	uint64_t hardware_subarch_data;
	uint32_t payload_offset;      /* 0x248 */
	uint32_t payload_length;
	uint64_t setup_data;
	uint64_t pref_address;        /* 0x258 */
	uint32_t init_size;           /* 0x260 */
	uint32_t handover_offset;
	uint32_t kernel_info_offset;  /* 0x268 */
} __packed;

#define BZ_SETUP_HEADER_OFF 0x1f1
#define BZ_HDR_OFF(field) ((unsigned int)(BZ_SETUP_HEADER_OFF + __builtin_offsetof(struct bz_setup_header, field)))
_Static_assert(BZ_HDR_OFF(boot_flag) == 0x1fe, "boot.rst: boot_flag");
_Static_assert(BZ_HDR_OFF(header) == 0x202, "boot.rst: header");
_Static_assert(BZ_HDR_OFF(code32_start) == 0x214, "boot.rst: code32_start");
_Static_assert(BZ_HDR_OFF(cmd_line_ptr) == 0x228, "boot.rst: cmd_line_ptr");
_Static_assert(BZ_HDR_OFF(xloadflags) == 0x236, "boot.rst: xloadflags");
_Static_assert(BZ_HDR_OFF(pref_address) == 0x258, "boot.rst: pref_address");
_Static_assert(BZ_HDR_OFF(init_size) == 0x260, "boot.rst: init_size");
_Static_assert(BZ_HDR_OFF(kernel_info_offset) == 0x268, "boot.rst: kernel_info_offset");

/* The setup header of a 2.12 kernel reaches at least to the end of init_size. */
#define BZ_HDR_MIN_END (BZ_HDR_OFF(init_size) + 4)

struct bz_e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type; /* E820 numbering, which is multiboot2's */
} __packed;

/* struct boot_params, the "zero page" (zero-page.rst): the fields umbra writes. */
struct bz_boot_params {
	uint8_t screen_info[0x40];      /* 0x000 */
	uint8_t apm_bios_info[0x14];    /* 0x040 */
	uint8_t pad0[4];
	uint64_t tboot_addr;            /* 0x058 */
	uint8_t ist_info[0x10];         /* 0x060 */
	uint64_t acpi_rsdp_addr;        /* 0x070 */
	uint8_t pad1[0x48];
	uint32_t ext_ramdisk_image;     /* 0x0c0 */
	uint32_t ext_ramdisk_size;
	uint32_t ext_cmd_line_ptr;
	uint8_t pad2[0x1e8 - 0xcc];
	uint8_t e820_entries;           /* 0x1e8 */
	uint8_t pad3[6];
	uint8_t sentinel;               /* 0x1ef: stays 0, as only the header is copied */
	uint8_t pad4;
	uint8_t hdr[0x290 - 0x1f1];     /* 0x1f1: struct bz_setup_header, then room */
	uint8_t edd_mbr_sig_buffer[0x40]; /* 0x290 */
	struct bz_e820_entry e820_table[BZ_E820_MAX]; /* 0x2d0 */
	uint8_t pad5[0x1000 - 0xcd0];
} __packed;

_Static_assert(sizeof(struct bz_e820_entry) == 20, "zero-page.rst: struct boot_e820_entry");
_Static_assert(__builtin_offsetof(struct bz_boot_params, acpi_rsdp_addr) == 0x070, "zero-page.rst");
_Static_assert(__builtin_offsetof(struct bz_boot_params, ext_ramdisk_image) == 0x0c0, "zero-page.rst");
_Static_assert(__builtin_offsetof(struct bz_boot_params, e820_entries) == 0x1e8, "zero-page.rst");
_Static_assert(__builtin_offsetof(struct bz_boot_params, sentinel) == 0x1ef, "zero-page.rst");
_Static_assert(__builtin_offsetof(struct bz_boot_params, hdr) == BZ_SETUP_HEADER_OFF, "zero-page.rst");
_Static_assert(__builtin_offsetof(struct bz_boot_params, e820_table) == 0x2d0, "zero-page.rst");
_Static_assert(sizeof(struct bz_boot_params) == 4096, "boot_params is one page");
_Static_assert(sizeof(struct bz_setup_header) <= sizeof(((struct bz_boot_params *)0)->hdr), "header room");

/* What umbra keeps of a parsed bzImage. */
struct bzimage {
	struct bz_setup_header hdr; /* the fields, zero past the header's end */
	uint8_t raw[0x290 - 0x1f1]; /* the header bytes, copied into boot_params as they are */
	size_t raw_len;             /* 0x202 + byte at 0x201 - 0x1f1 */
	uint64_t pm_offset, pm_size; /* the protected-mode kernel in the file: syssize * 16 bytes */
	uint64_t alignment;         /* where a relocatable kernel may go */
};

/* True when the file has the boot protocol's "HdrS" at 0x202 (and is not ELF). */
bool bzimage_detect(const void *image, size_t size);

/*
 * Check the setup header of a bzImage of size bytes (every offset
 * bounds-checked) and keep what loading needs. False with the reason in err.
 */
bool bzimage_parse(const void *image, size_t size, struct bzimage *bz, char *err, size_t errlen);

/*
 * Choose where the protected-mode kernel goes: pref_address when the kernel
 * has init_size bytes of free guest RAM there, else (relocatable kernels) the
 * highest kernel_alignment-aligned free place below 4 GiB; never below 1 MiB,
 * never on a busy range. Fills img (kind LOADER_BZIMAGE, one segment of
 * init_size bytes whose first pm_size come from the file, entry = the load
 * address).
 */
bool bzimage_place(const struct bzimage *bz, const struct guest_memmap *map, const struct loader_range *busy,
		   size_t nbusy, struct loader_image *img, char *err, size_t errlen);

/* The initrd must end at or below this address (initrd_addr_max + 1, at most 4 GiB). */
uint64_t bzimage_initrd_limit(const struct bzimage *bz);

/*
 * What boot_params cannot carry or the kernel cannot take: a command line
 * longer than cmdline_size, an initrd (the first module) beyond
 * initrd_addr_max, a memory map of more than BZ_E820_MAX entries.
 */
bool bzimage_check_boot(const struct bzimage *bz, const struct loader_boot_info *bi, char *err, size_t errlen);

/* Where the guest finds what bzimage_build_params wrote. */
struct bzimage_boot {
	uint32_t params_pa; /* boot_params: ESI */
	uint32_t gdt_pa;    /* a GDT with __BOOT_CS and __BOOT_DS */
	uint16_t gdt_limit;
};

/*
 * Write boot_params (first, page aligned when buf_pa is), the command line,
 * the GDT and a copy of the RSDP into buf (size bytes, at guest-physical
 * buf_pa) for the kernel placed in img; the first module of bi is the
 * initrd. Returns the bytes used, or 0 when buf is too small.
 */
size_t bzimage_build_params(const struct bzimage *bz, const struct loader_image *img,
			    const struct loader_boot_info *bi, void *buf, size_t size, uint32_t buf_pa,
			    struct bzimage_boot *out);

#endif
