/* SPDX-License-Identifier: BSD-2-Clause */
/* Linux bzImage loader: check the setup header, place the kernel, write boot_params. */
#include "core/bzimage.h"
#include "core/format.h"
#include "core/loader.h"
#include "core/string.h"

/* ACPI 6.4 5.2.5.3: the RSDP sits on a 16-byte boundary. */
#define RSDP_ALIGN 16

/*
 * Segment descriptors of the GDT the kernel is entered with (SDM Vol. 3A
 * 3.4.5): base 0, limit 0xfffff in 4 KiB units (4 GiB), present, code or
 * data, 32-bit. The accessed bit is set so that loading one writes nothing.
 */
#define DESC_LIMIT_LOW 0xffffULL
#define DESC_LIMIT_HIGH (0xfULL << 48)
#define DESC_TYPE(t) ((uint64_t)(t) << 40)
#define DESC_S BIT(44)
#define DESC_P BIT(47)
#define DESC_DB BIT(54)
#define DESC_G BIT(55)
#define DESC_TYPE_DATA_RW_ACCESSED 0x3
#define DESC_TYPE_CODE_XR_ACCESSED 0xb
#define DESC_FLAT32(type) \
	(DESC_LIMIT_LOW | DESC_LIMIT_HIGH | DESC_TYPE(type) | DESC_S | DESC_P | DESC_DB | DESC_G)
#define BZ_GDT_ENTRIES (BZ_BOOT_DS / 8 + 1)

bool bzimage_detect(const void *image, size_t size)
{
	const uint8_t *p = image;

	return size >= BZ_HDR_OFF(header) + 4 && loader_rd32(p + BZ_HDR_OFF(header)) == BZ_HEADER_MAGIC &&
	       memcmp(p, "\177ELF", 4) != 0;
}

bool bzimage_parse(const void *image, size_t size, struct bzimage *bz, char *err, size_t errlen)
{
	const uint8_t *p = image;
	const struct bz_setup_header *h = &bz->hdr;
	uint64_t hdr_end, setup_size;
	unsigned int sects;

	memset(bz, 0, sizeof(*bz));
	if (!bzimage_detect(image, size))
		LOADER_FAIL("no Linux boot protocol header (\"HdrS\" at %#x)", BZ_HDR_OFF(header));
	/* boot.rst: jump is 0xEB and a signed offset from 0x202, which also ends the header. */
	if (p[BZ_HDR_OFF(jump)] != BZ_JUMP_OPCODE)
		LOADER_FAIL("setup header: no short jump at %#x (byte %#x)", BZ_HDR_OFF(jump), p[BZ_HDR_OFF(jump)]);
	hdr_end = BZ_HDR_OFF(header) + (uint64_t)p[BZ_HDR_OFF(jump) + 1];
	if (hdr_end < BZ_HDR_MIN_END || hdr_end > BZ_SETUP_HEADER_OFF + sizeof(bz->raw))
		LOADER_FAIL("setup header ends at %#lx, not within [%#x, %#lx]", hdr_end, BZ_HDR_MIN_END,
		     BZ_SETUP_HEADER_OFF + sizeof(bz->raw));
	if (hdr_end > size)
		LOADER_FAIL("truncated setup header: it ends at %#lx, the file at %#zx", hdr_end, size);
	bz->raw_len = hdr_end - BZ_SETUP_HEADER_OFF;
	memcpy(bz->raw, p + BZ_SETUP_HEADER_OFF, bz->raw_len);
	memcpy(&bz->hdr, bz->raw, MIN(bz->raw_len, sizeof(bz->hdr)));

	if (h->boot_flag != BZ_BOOT_FLAG)
		LOADER_FAIL("setup header: boot_flag is %#x, not %#x", h->boot_flag, BZ_BOOT_FLAG);
	if (h->version < BZ_MIN_VERSION)
		LOADER_FAIL("boot protocol %u.%02u is too old: umbra needs %u.%02u (init_size, pref_address, "
		     "xloadflags)", h->version >> 8, h->version & 0xff, BZ_MIN_VERSION >> 8,
		     BZ_MIN_VERSION & 0xff);
	if (!(h->loadflags & BZ_LOADED_HIGH))
		LOADER_FAIL("a zImage (loadflags LOADED_HIGH clear): only bzImage kernels load high");
	sects = h->setup_sects ? h->setup_sects : BZ_SETUP_SECTS_DEFAULT;
	setup_size = (uint64_t)(sects + 1) * BZ_SECTOR;
	bz->pm_offset = setup_size;
	bz->pm_size = (uint64_t)h->syssize * 16;
	if (setup_size > size)
		LOADER_FAIL("truncated: the setup code (%u sectors) runs past the end of the %zu-byte file", sects,
		     size);
	if (bz->pm_size == 0)
		LOADER_FAIL("setup header: syssize is 0 (no protected-mode kernel)");
	if (bz->pm_size > size - setup_size)
		LOADER_FAIL("truncated: the protected-mode kernel (%#lx bytes at offset %#lx) runs past the end "
		     "of the %zu-byte file", bz->pm_size, setup_size, size);
	if (h->init_size < bz->pm_size)
		LOADER_FAIL("setup header: init_size %#x is smaller than the %#lx-byte protected-mode kernel",
		     h->init_size, bz->pm_size);
	if (h->relocatable_kernel) {
		bz->alignment = h->kernel_alignment;
		if (bz->alignment < PAGE_SIZE || (bz->alignment & (bz->alignment - 1)))
			LOADER_FAIL("setup header: kernel_alignment %#x is not a power of two of at least 4 KiB",
			     h->kernel_alignment);
	}
	return true;
}

static bool range_free(const struct guest_memmap *map, const struct loader_range *busy, size_t nbusy,
		       uint64_t base, uint64_t end)
{
	if (end <= base || !loader_range_is_ram(map, base, end))
		return false;
	for (size_t i = 0; i < nbusy; i++)
		if (base < busy[i].end && end > busy[i].base)
			return false;
	return true;
}

bool bzimage_place(const struct bzimage *bz, const struct guest_memmap *map, const struct loader_range *busy,
		   size_t nbusy, struct loader_image *img, char *err, size_t errlen)
{
	struct loader_range avoid[LOADER_MAX_SEGMENTS + 1];
	uint64_t size = bz->hdr.init_size, pref = bz->hdr.pref_address, at;

	memset(img, 0, sizeof(*img));
	if (nbusy >= ARRAY_SIZE(avoid))
		LOADER_FAIL("too many busy ranges");
	/* boot.rst: the protected-mode kernel of a bzImage goes high, from 1 MiB. */
	avoid[0] = (struct loader_range){ 0, BZ_LOAD_HIGH_ADDR };
	for (size_t i = 0; i < nbusy; i++)
		avoid[1 + i] = busy[i];
	nbusy++;
	if (!bz->hdr.relocatable_kernel) {
		/* It runs at pref_address whatever umbra does (boot.rst, pref_address). */
		at = pref ? pref : BZ_LOAD_HIGH_ADDR;
		if (at + size > GiB(4) || !range_free(map, avoid, nbusy, at, at + size))
			LOADER_FAIL("the non-relocatable kernel needs [%#lx-%#lx) (init_size), which is not free "
			     "RAM below 4 GiB", at, at + size);
	} else if (pref && pref % bz->alignment == 0 && pref + size <= GiB(4) &&
		   range_free(map, avoid, nbusy, pref, pref + size)) {
		at = pref;
	} else if (!loader_find_free(map, avoid, nbusy, size, bz->alignment, GiB(4), &at)) {
		LOADER_FAIL("the kernel needs %lu KiB (init_size) of free RAM at a %#lx-aligned address below "
		     "4 GiB; there is none", size >> 10, bz->alignment);
	}
	img->kind = LOADER_BZIMAGE;
	img->entry = (uint32_t)at; /* code32_start: the 32-bit entry is the load address */
	img->segs[0] = (struct loader_segment){ at, bz->pm_offset, bz->pm_size, size };
	img->nsegs = 1;
	img->load_start = at;
	img->load_end = at + size;
	return true;
}

uint64_t bzimage_initrd_limit(const struct bzimage *bz)
{
	/*
	 * Always initrd_addr_max, even when xloadflags says the kernel takes an
	 * initrd above 4 GiB: umbra's modules are below 4 GiB (multiboot2 module
	 * addresses are 32-bit), and below initrd_addr_max every kernel is happy.
	 */
	return MIN((uint64_t)bz->hdr.initrd_addr_max + 1, GiB(4));
}

bool bzimage_check_boot(const struct bzimage *bz, const struct loader_boot_info *bi, char *err, size_t errlen)
{
	size_t len = strlen(bi->cmdline ? bi->cmdline : "");
	uint64_t limit = bzimage_initrd_limit(bz);

	if (len > bz->hdr.cmdline_size)
		LOADER_FAIL("the command line is %zu bytes; the kernel takes at most %u (cmdline_size)", len,
		     bz->hdr.cmdline_size);
	if (bi->map->n > BZ_E820_MAX)
		LOADER_FAIL("the memory map has %zu entries; boot_params holds %u", bi->map->n, BZ_E820_MAX);
	if (bi->nmodules) {
		const struct loader_module *rd = &bi->modules[0];
		uint64_t rd_size = rd->end - rd->start;

		if (rd_size > limit)
			LOADER_FAIL("the %lu-byte initrd is larger than what the kernel can reach (initrd_addr_max "
			     "%#x)", rd_size, bz->hdr.initrd_addr_max);
		if (rd->end > limit)
			LOADER_FAIL("the initrd [%#x-%#x) ends above initrd_addr_max %#x", rd->start, rd->end,
			     bz->hdr.initrd_addr_max);
	}
	return true;
}

size_t bzimage_build_params(const struct bzimage *bz, const struct loader_image *img,
			    const struct loader_boot_info *bi, void *buf, size_t size, uint32_t buf_pa,
			    struct bzimage_boot *out)
{
	struct info_buf b = { buf, size, 0, buf_pa, false };
	struct bz_boot_params *bp = info_buf_take(&b, sizeof(*bp), PAGE_SIZE);
	struct bz_setup_header h;
	uint64_t *gdt;

	if (!bp)
		return 0;
	/* 32-bit boot protocol: boot_params zeroed, the setup header copied in as the file has it. */
	memcpy(bp->hdr, bz->raw, bz->raw_len);
	memcpy(&h, bp->hdr, sizeof(h));
	h.type_of_loader = BZ_TYPE_OF_LOADER_UNDEFINED;
	h.code32_start = img->entry;
	h.setup_data = 0; /* the loader's list (boot.rst: "write (special)"); umbra passes none */
	h.cmd_line_ptr = info_buf_put_string(&b, bi->cmdline);
	if (bi->nmodules) {
		h.ramdisk_image = bi->modules[0].start;
		h.ramdisk_size = bi->modules[0].end - bi->modules[0].start;
	}
	/* Only the fields the file's header has are written back (boot.rst: "only fields supported"). */
	memcpy(bp->hdr, &h, MIN(bz->raw_len, sizeof(h)));
	bp->e820_entries = (uint8_t)MIN(bi->map->n, (size_t)BZ_E820_MAX);
	for (size_t i = 0; i < bp->e820_entries; i++)
		bp->e820_table[i] = (struct bz_e820_entry){ bi->map->e[i].base, bi->map->e[i].length,
							    bi->map->e[i].type };
	/* umbra has GRUB's copy of the RSDP: the kernel gets a copy of that, in low memory. */
	if (bi->rsdp && bi->rsdp_len)
		bp->acpi_rsdp_addr = info_buf_put(&b, bi->rsdp, bi->rsdp_len, RSDP_ALIGN);
	gdt = info_buf_take(&b, BZ_GDT_ENTRIES * sizeof(*gdt), 8);
	if (!gdt || b.overflow)
		return 0;
	gdt[BZ_BOOT_CS / 8] = DESC_FLAT32(DESC_TYPE_CODE_XR_ACCESSED);
	gdt[BZ_BOOT_DS / 8] = DESC_FLAT32(DESC_TYPE_DATA_RW_ACCESSED);
	*out = (struct bzimage_boot){ info_buf_pa(&b, bp), info_buf_pa(&b, gdt),
				      BZ_GDT_ENTRIES * sizeof(*gdt) - 1 };
	return b.used;
}
