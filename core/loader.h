/* SPDX-License-Identifier: BSD-2-Clause */
/* L1 loader: multiboot1/multiboot2 ELF kernels, the guest's memory map and boot info. */
#ifndef UMBRA_CORE_LOADER_H
#define UMBRA_CORE_LOADER_H

#include "core/format.h"
#include "core/mb2.h"
#include "core/string.h"
#include "core/types.h"

/* A little-endian 32-bit field of an image, at any alignment (the loaders' parsers). */
static inline uint32_t loader_rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* Refuse an image: its one-line reason into err (errlen bytes), and return false. */
#define LOADER_FAIL(...)                                    \
	do {                                                \
		fmt_snprintf(err, errlen, __VA_ARGS__);     \
		return false;                               \
	} while (0)

#define MB1_BOOTLOADER_MAGIC 0x2badb002u
#define LOADER_MAX_SEGMENTS 16
#define LOADER_MAX_MODULES 15

enum loader_kind {
	LOADER_MULTIBOOT1 = 1,
	LOADER_MULTIBOOT2 = 2,
	LOADER_PVH = 3, /* an ELF kernel with a PVH entry note and no multiboot header (core/pvh.h) */
	LOADER_BZIMAGE = 4, /* a Linux bzImage, 32-bit boot protocol (core/bzimage.h) */
};

struct loader_segment {
	uint64_t paddr;  /* where it goes */
	uint64_t offset; /* where it is in the file */
	uint64_t filesz;
	uint64_t memsz;  /* the rest up to memsz is zeroed */
};

struct loader_image {
	enum loader_kind kind;
	uint32_t entry;
	struct loader_segment segs[LOADER_MAX_SEGMENTS];
	size_t nsegs;
	uint64_t load_start, load_end; /* the lowest and highest byte written */
};

/* A range of physical memory: [base, end). */
struct loader_range {
	uint64_t base, end;
};

/*
 * Identify and check a multiboot kernel (ELF32 or ELF64, i386/x86-64,
 * ET_EXEC) of size bytes. Multiboot2 wins when both headers are present.
 * On failure returns false and a message in err (at most errlen bytes).
 */
bool loader_parse(const void *image, size_t size, struct loader_image *out, char *err, size_t errlen);

/* Guest memory map: the host's, with umbra's ranges and RAM above limit (0 = none) reserved. */
struct guest_memmap {
	struct mb2_mmap_entry e[MB2_MAX_MMAP + 16];
	size_t n;
	bool truncated;
};

void loader_build_memmap(const struct mb2_mmap_entry *host, size_t nhost, const struct loader_range *umbra,
			 size_t numbra, uint64_t limit, struct guest_memmap *out);

/* True when [base, end) is available RAM in the map. */
bool loader_range_is_ram(const struct guest_memmap *map, uint64_t base, uint64_t end);

/*
 * Check that every segment lands in the guest's RAM and overlaps none of
 * the busy ranges (modules, the boot-info area, the image's own module).
 */
bool loader_check_placement(const struct loader_image *img, const struct guest_memmap *map,
			    const struct loader_range *busy, size_t nbusy, char *err, size_t errlen);

/*
 * Copy the segments to their addresses and zero the rest. phys(pa, len)
 * gives umbra's pointer to guest-physical [pa, pa + len), or NULL. Returns
 * false (nothing more copied) at the first segment phys cannot reach.
 * Whatever the guest's boot information needs from GRUB's must have been
 * copied out of it first (mb2_parse does): a segment may overwrite it.
 */
bool loader_copy(const struct loader_image *img, const void *image,
		 void *(*phys)(uint64_t pa, uint64_t len));

/*
 * The highest size bytes, aligned to align (a power of two), of the guest's
 * available RAM below limit that overlap none of the busy ranges: where a
 * module can wait out of the way of the kernel's segments. False when
 * nothing fits.
 */
bool loader_find_free(const struct guest_memmap *map, const struct loader_range *busy, size_t nbusy,
		      uint64_t size, uint64_t align, uint64_t limit, uint64_t *out);

struct loader_module {
	uint32_t start, end;
	const char *cmdline;
};

struct loader_boot_info {
	const char *cmdline;
	const char *bootloader;
	const struct guest_memmap *map;
	const struct loader_module *modules;
	size_t nmodules;
	const void *rsdp; /* copied for multiboot2 (tag 14 or 15) */
	size_t rsdp_len;
	int rsdp_tag;
};

/*
 * A bump allocator over a boot-information buffer that the guest finds at
 * guest-physical pa: the multiboot information here, PVH's start info in
 * core/pvh.c, Linux's boot_params in core/bzimage.c. take() hands out zeroed, aligned space (NULL and overflow
 * set when it does not fit); put_string() copies a string and returns its
 * guest-physical address (0 on overflow).
 */
struct info_buf {
	uint8_t *base;
	size_t size, used;
	uint32_t pa;
	bool overflow;
};

void *info_buf_take(struct info_buf *b, size_t len, size_t align);
uint32_t info_buf_pa(const struct info_buf *b, const void *p);
uint32_t info_buf_put_string(struct info_buf *b, const char *s);
/* Copy len bytes in at align; their guest-physical address, or 0 when they do not fit. */
uint32_t info_buf_put(struct info_buf *b, const void *p, size_t len, size_t align);

/*
 * Write the multiboot1 or multiboot2 information structure for the guest
 * into buf (size bytes), which the guest will find at guest-physical
 * address buf_pa. Strings and tables go into buf too. Returns the bytes
 * used, or 0 when buf is too small.
 */
size_t loader_build_info(enum loader_kind kind, const struct loader_boot_info *bi, void *buf,
			 size_t size, uint32_t buf_pa);

#endif
