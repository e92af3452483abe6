/* SPDX-License-Identifier: BSD-2-Clause */
/* Host tests for the bzImage loader: setup header checks, placement, boot_params, e820. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/bzimage.h"
#include "core/loader.h"
#include "core/mb2.h"

#define SETUP_SECTS 4
#define PM_OFF ((SETUP_SECTS + 1) * 512)
#define PM_SIZE 0x1000
#define IMG_SIZE (PM_OFF + PM_SIZE + 16) /* a few bytes past syssize, as Linux's CRC */
#define PREF 0x1000000
#define INIT_SIZE 0x400000
#define ALIGN 0x200000
#define HDR_END 0x26c /* Linux 6.1's: 0x202 + 0x6a */

static uint8_t img[IMG_SIZE];
static size_t img_size;
static struct bzimage bz;
static struct loader_image li;
static struct guest_memmap map;
static char err[256];

static void put8(size_t off, uint8_t v) { img[off] = v; }
static void put16(size_t off, uint16_t v) { memcpy(img + off, &v, 2); }
static void put32(size_t off, uint32_t v) { memcpy(img + off, &v, 4); }
static void put64(size_t off, uint64_t v) { memcpy(img + off, &v, 8); }

/* A relocatable 64-bit bzImage with protocol 2.15, laid out like Debian's 6.1. */
static void bzimage(void)
{
	memset(img, 0, sizeof(img));
	img_size = IMG_SIZE;
	put8(0x1f1, SETUP_SECTS);
	put32(0x1f4, PM_SIZE / 16);
	put16(0x1fa, 0xffff);        /* vid_mode "normal" */
	put16(0x1fe, 0xaa55);
	put8(0x200, 0xeb);
	put8(0x201, HDR_END - 0x202);
	memcpy(img + 0x202, "HdrS", 4);
	put16(0x206, 0x020f);
	put16(0x20e, 0x1000);        /* kernel_version */
	put8(0x211, 0x01);           /* LOADED_HIGH */
	put32(0x214, 0x100000);      /* code32_start as built */
	put32(0x22c, 0x7fffffff);    /* initrd_addr_max */
	put32(0x230, ALIGN);
	put8(0x234, 1);              /* relocatable_kernel */
	put8(0x235, 21);             /* min_alignment */
	put16(0x236, 0x7f);          /* xloadflags */
	put32(0x238, 2047);          /* cmdline_size */
	put32(0x248, 0x2cc);         /* payload_offset */
	put32(0x24c, 0x800);
	put64(0x250, 0xdeadbeef000); /* setup_data: a stale pointer the loader must not pass on */
	put64(0x258, PREF);
	put32(0x260, INIT_SIZE);
	put32(0x264, 0x190);         /* handover_offset */
	put32(0x268, 0xf00);         /* kernel_info_offset */
	for (size_t i = PM_OFF; i < IMG_SIZE; i++)
		img[i] = (uint8_t)i;
}

/* RAM [0, 636K) and [1M, 128M), umbra reserved at [128M, 132M), RAM [132M, 256M). */
static void ram_map(void)
{
	memset(&map, 0, sizeof(map));
	map.e[0] = (struct mb2_mmap_entry){ 0, 0x9f000, MB2_MEM_AVAILABLE };
	map.e[1] = (struct mb2_mmap_entry){ 0x100000, 0x7f00000, MB2_MEM_AVAILABLE };
	map.e[2] = (struct mb2_mmap_entry){ 0x8000000, 0x400000, MB2_MEM_RESERVED };
	map.e[3] = (struct mb2_mmap_entry){ 0x8400000, 0x7c00000, MB2_MEM_AVAILABLE };
	map.n = 4;
}

/* Parse a copy of exactly img_size bytes so that ASan catches reads past the end. */
static bool parse(void)
{
	uint8_t *copy = malloc(img_size ? img_size : 1);
	bool ok;

	assert_non_null(copy);
	memcpy(copy, img, img_size);
	memset(err, 0, sizeof(err));
	ok = bzimage_parse(copy, img_size, &bz, err, sizeof(err));
	free(copy);
	return ok;
}

static void expect_msg(const char *why)
{
	if (!strstr(err, why))
		fail_msg("error \"%s\" does not mention \"%s\"", err, why);
}

static void expect_refused(const char *why)
{
	assert_false(parse());
	expect_msg(why);
}

static bool place(const struct loader_range *busy, size_t nbusy)
{
	memset(err, 0, sizeof(err));
	return bzimage_place(&bz, &map, busy, nbusy, &li, err, sizeof(err));
}

static void expect_placed(uint64_t at, const struct loader_range *busy, size_t nbusy)
{
	if (!parse())
		fail_msg("refused: %s", err);
	if (!place(busy, nbusy))
		fail_msg("not placed: %s", err);
	assert_int_equal(li.kind, LOADER_BZIMAGE);
	assert_int_equal(li.entry, at);
	assert_int_equal(li.nsegs, 1);
	assert_int_equal(li.segs[0].paddr, at);
	assert_int_equal(li.segs[0].offset, PM_OFF);
	assert_int_equal(li.segs[0].filesz, PM_SIZE);
	assert_int_equal(li.segs[0].memsz, bz.hdr.init_size);
	assert_int_equal(li.load_start, at);
	assert_int_equal(li.load_end, at + bz.hdr.init_size);
}

/* ---- recognising and parsing ----------------------------------------------------------- */

static void test_detect(void **state)
{
	(void)state;
	bzimage();
	assert_true(bzimage_detect(img, img_size));
	assert_false(bzimage_detect(img, 0x205)); /* too short for the magic */
	img[0x202] = 'h';
	assert_false(bzimage_detect(img, img_size));
	bzimage();
	memcpy(img, "\177ELF", 4); /* an ELF file that happens to have the bytes */
	assert_false(bzimage_detect(img, img_size));
}

static void test_parse_valid(void **state)
{
	(void)state;
	bzimage();
	if (!parse())
		fail_msg("refused: %s", err);
	assert_int_equal(bz.hdr.version, 0x020f);
	assert_int_equal(bz.raw_len, HDR_END - 0x1f1);
	assert_memory_equal(bz.raw, img + 0x1f1, HDR_END - 0x1f1);
	assert_int_equal(bz.pm_offset, PM_OFF);
	assert_int_equal(bz.pm_size, PM_SIZE);
	assert_int_equal(bz.alignment, ALIGN);
	assert_int_equal(bz.hdr.init_size, INIT_SIZE);
	assert_int_equal(bz.hdr.pref_address, PREF);
	/* setup_sects 0 means 4. */
	put8(0x1f1, 0);
	assert_true(parse());
	assert_int_equal(bz.pm_offset, PM_OFF);
	/* The oldest protocol accepted, and a header that ends right after init_size. */
	bzimage();
	put16(0x206, 0x020c);
	put8(0x201, 0x264 - 0x202);
	assert_true(parse());
	assert_int_equal(bz.raw_len, 0x264 - 0x1f1);
	assert_int_equal(bz.hdr.handover_offset, 0); /* past the header's end: not read */
}

static void test_no_magic(void **state)
{
	(void)state;
	bzimage();
	memcpy(img + 0x202, "HdrZ", 4);
	expect_refused("no Linux boot protocol header");
}

static void test_bad_jump(void **state)
{
	(void)state;
	bzimage();
	put8(0x200, 0xe9);
	expect_refused("no short jump");
	bzimage();
	put8(0x201, 0x40); /* ends at 0x242: no init_size */
	expect_refused("setup header ends at 0x242");
	bzimage();
	put8(0x201, 0xf0); /* a negative offset, or a header past boot_params' room */
	expect_refused("setup header ends at 0x2f2");
}

static void test_truncated(void **state)
{
	(void)state;
	bzimage();
	img_size = 0x240;
	expect_refused("truncated setup header");
	bzimage();
	img_size = PM_OFF - 1;
	expect_refused("the setup code (4 sectors) runs past the end");
	bzimage();
	put8(0x1f1, 40);
	expect_refused("the setup code (40 sectors) runs past the end");
	bzimage();
	img_size = PM_OFF + PM_SIZE - 1;
	expect_refused("the protected-mode kernel (0x1000 bytes at offset 0xa00) runs past the end");
	bzimage();
	put32(0x1f4, 0xffffffff); /* syssize * 16 does not wrap */
	expect_refused("runs past the end");
}

static void test_malformed(void **state)
{
	(void)state;
	bzimage();
	put16(0x1fe, 0x55aa);
	expect_refused("boot_flag is 0x55aa");
	bzimage();
	put32(0x1f4, 0);
	expect_refused("syssize is 0");
	bzimage();
	put32(0x260, PM_SIZE - 16);
	expect_refused("init_size 0xff0 is smaller than the 0x1000-byte protected-mode kernel");
	bzimage();
	put32(0x230, 0x300000);
	expect_refused("kernel_alignment 0x300000 is not a power of two");
	bzimage();
	put32(0x230, 0);
	expect_refused("kernel_alignment 0 is not a power of two");
	/* A non-relocatable kernel's alignment is not used. */
	bzimage();
	put8(0x234, 0);
	put32(0x230, 0);
	assert_true(parse());
}

static void test_old_protocol(void **state)
{
	(void)state;
	bzimage();
	put16(0x206, 0x020b);
	expect_refused("boot protocol 2.11 is too old: umbra needs 2.12");
	bzimage();
	put16(0x206, 0x0100);
	expect_refused("boot protocol 1.00 is too old");
}

static void test_zimage(void **state)
{
	(void)state;
	bzimage();
	put8(0x211, 0x80);
	expect_refused("a zImage");
}

/* ---- placement -------------------------------------------------------------------------- */

static void test_place_pref_address(void **state)
{
	const struct loader_range info = { 0x10000, 0x20000 };

	(void)state;
	ram_map();
	bzimage();
	expect_placed(PREF, &info, 1);
}

/* pref_address busy (a range umbra must keep), not RAM, or misaligned: the highest free place. */
static void test_place_relocated(void **state)
{
	const struct loader_range busy[2] = { { 0x10000, 0x20000 }, { PREF + 0x1000, PREF + 0x2000 } };

	(void)state;
	ram_map();
	bzimage();
	expect_placed(0x10000000 - INIT_SIZE, busy, 2);
	/* The top is busy too: the next aligned place below it. */
	{
		const struct loader_range busy3[3] = { busy[0], busy[1], { 0xfe00000, 0x10000000 } };

		expect_placed(0xfe00000 - INIT_SIZE, busy3, 3);
	}
	bzimage();
	put64(0x258, 0x7e00000); /* runs into umbra's reserved range at 128 MiB */
	expect_placed(0x10000000 - INIT_SIZE, NULL, 0);
	bzimage();
	put64(0x258, PREF + 0x1000); /* not a multiple of kernel_alignment */
	expect_placed(0x10000000 - INIT_SIZE, NULL, 0);
	/* No pref_address: the highest free place. */
	bzimage();
	put64(0x258, 0);
	put32(0x260, 0x10000);
	put32(0x230, 0x1000);
	expect_placed(0x10000000 - 0x10000, NULL, 0);
	/* Never below 1 MiB, even where there is room. */
	map.n = 1;
	assert_false(place(NULL, 0));
	expect_msg("there is none");
}

static void test_place_not_relocatable(void **state)
{
	const struct loader_range busy = { PREF, PREF + 0x1000 };

	(void)state;
	ram_map();
	bzimage();
	put8(0x234, 0);
	expect_placed(PREF, NULL, 0);
	assert_false(place(&busy, 1));
	expect_msg("the non-relocatable kernel needs [0x1000000-0x1400000)");
	bzimage();
	put8(0x234, 0);
	put64(0x258, 0x7e00000);
	assert_true(parse());
	assert_false(place(NULL, 0));
	expect_msg("not free RAM");
	bzimage();
	put8(0x234, 0);
	put64(0x258, 0);
	expect_placed(0x100000, NULL, 0); /* boot.rst's bzImage address */
}

static void test_place_does_not_fit(void **state)
{
	(void)state;
	ram_map();
	bzimage();
	put32(0x260, 0x8000000); /* 128 MiB: no free range is that large */
	assert_true(parse());
	assert_false(place(NULL, 0));
	expect_msg("the kernel needs 131072 KiB (init_size) of free RAM at a 0x200000-aligned address");
	/* Above 4 GiB is never used, even as RAM. */
	map.e[4] = (struct mb2_mmap_entry){ 0x100000000ull, 0x40000000, MB2_MEM_AVAILABLE };
	map.n = 5;
	assert_false(place(NULL, 0));
	expect_msg("there is none");
}

/* ---- what boot_params can carry ------------------------------------------------------------ */

static void test_check_boot(void **state)
{
	struct loader_module rd[1] = { { 0x5000000, 0x5200000, "" } };
	struct loader_boot_info bi = { .cmdline = "console=ttyS0", .map = &map, .modules = rd, .nmodules = 1 };
	char longline[2100];

	(void)state;
	ram_map();
	bzimage();
	assert_true(parse());
	assert_true(bzimage_check_boot(&bz, &bi, err, sizeof(err)));
	assert_int_equal(bzimage_initrd_limit(&bz), 0x80000000ull);
	/* cmdline_size is the longest line, without the NUL. */
	memset(longline, 'a', sizeof(longline));
	longline[2047] = 0;
	bi.cmdline = longline;
	assert_true(bzimage_check_boot(&bz, &bi, err, sizeof(err)));
	longline[2047] = 'a';
	longline[2048] = 0;
	assert_false(bzimage_check_boot(&bz, &bi, err, sizeof(err)));
	expect_msg("the command line is 2048 bytes; the kernel takes at most 2047");
	bi.cmdline = NULL;
	assert_true(bzimage_check_boot(&bz, &bi, err, sizeof(err)));
	/* An initrd past initrd_addr_max (the address of its highest byte). */
	put32(0x22c, 0x51fffff);
	assert_true(parse());
	assert_true(bzimage_check_boot(&bz, &bi, err, sizeof(err)));
	put32(0x22c, 0x51ffffe);
	assert_true(parse());
	assert_false(bzimage_check_boot(&bz, &bi, err, sizeof(err)));
	expect_msg("the initrd [0x5000000-0x5200000) ends above initrd_addr_max 0x51ffffe");
	/* One larger than everything below initrd_addr_max. */
	put32(0x22c, 0x1ffffe);
	assert_true(parse());
	assert_false(bzimage_check_boot(&bz, &bi, err, sizeof(err)));
	expect_msg("the 2097152-byte initrd is larger than what the kernel can reach");
	bi.nmodules = 0;
	assert_true(bzimage_check_boot(&bz, &bi, err, sizeof(err)));
	/* initrd_addr_max 0xffffffff: the limit is 4 GiB, without wrapping. */
	put32(0x22c, 0xffffffff);
	assert_true(parse());
	assert_int_equal(bzimage_initrd_limit(&bz), 0x100000000ull);
	/* More memory map entries than boot_params' e820_table holds. */
	map.n = BZ_E820_MAX + 1;
	assert_false(bzimage_check_boot(&bz, &bi, err, sizeof(err)));
	expect_msg("the memory map has 129 entries; boot_params holds 128");
}

/* ---- boot_params ----------------------------------------------------------------------------- */

#define INFO_PA 0x10000

static uint8_t buf[16384] __aligned(4096);

static void test_boot_params(void **state)
{
	static const uint8_t rsdp[36] = "RSD PTR \x55";
	struct loader_module rd[1] = { { 0x5000000, 0x5200000, "initrd" } };
	struct loader_boot_info bi = { .cmdline = "console=ttyS0 quiet", .map = &map, .modules = rd,
				       .nmodules = 1, .rsdp = rsdp, .rsdp_len = sizeof(rsdp) };
	struct bzimage_boot out;
	struct bz_boot_params bp;
	struct bz_setup_header h;
	uint64_t gdt[4];
	size_t used;

	(void)state;
	ram_map();
	bzimage();
	expect_placed(PREF, NULL, 0);
	memset(buf, 0xcc, sizeof(buf));
	used = bzimage_build_params(&bz, &li, &bi, buf, sizeof(buf), INFO_PA, &out);
	assert_true(used > sizeof(bp));
	assert_int_equal(out.params_pa, INFO_PA);
	memcpy(&bp, buf, sizeof(bp));
	memcpy(&h, bp.hdr, sizeof(h));
	/* The header as the file has it, but for the fields the loader writes. */
	assert_memory_equal(bp.hdr, img + 0x1f1, 0x210 - 0x1f1);
	assert_int_equal(h.type_of_loader, 0xff);
	assert_int_equal(h.loadflags, 0x01);
	assert_int_equal(h.code32_start, PREF);
	assert_int_equal(h.ramdisk_image, 0x5000000);
	assert_int_equal(h.ramdisk_size, 0x200000);
	assert_true(h.cmd_line_ptr > INFO_PA && h.cmd_line_ptr < INFO_PA + used);
	assert_string_equal((char *)buf + (h.cmd_line_ptr - INFO_PA), "console=ttyS0 quiet");
	assert_memory_equal(bp.hdr + (0x22c - 0x1f1), img + 0x22c, 0x250 - 0x22c);
	assert_int_equal(h.setup_data, 0);
	assert_memory_equal(bp.hdr + (0x258 - 0x1f1), img + 0x258, HDR_END - 0x258);
	/* Nothing past the header's end, nothing the loader does not set. */
	for (size_t i = HDR_END - 0x1f1; i < sizeof(bp.hdr); i++)
		assert_int_equal(bp.hdr[i], 0);
	for (size_t i = 0; i < 0x1f1; i++)
		if (i < 0x070 || i >= 0x078)
			assert_int_equal(buf[i], i == 0x1e8 ? map.n : 0);
	assert_int_equal(bp.sentinel, 0);
	assert_int_equal(bp.ext_ramdisk_image, 0);
	assert_int_equal(bp.ext_cmd_line_ptr, 0);
	/* The e820 table is the guest's memory map. */
	assert_int_equal(bp.e820_entries, 4);
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(bp.e820_table[i].addr, map.e[i].base);
		assert_int_equal(bp.e820_table[i].size, map.e[i].length);
		assert_int_equal(bp.e820_table[i].type, map.e[i].type);
	}
	assert_int_equal(bp.e820_table[4].addr, 0);
	/* The RSDP copy, 16-byte aligned. */
	assert_int_equal(bp.acpi_rsdp_addr % 16, 0);
	assert_true(bp.acpi_rsdp_addr >= INFO_PA + sizeof(bp) && bp.acpi_rsdp_addr + 36 <= INFO_PA + used);
	assert_memory_equal(buf + (bp.acpi_rsdp_addr - INFO_PA), rsdp, sizeof(rsdp));
	/* The GDT: null, null, __BOOT_CS flat 4 GiB execute/read, __BOOT_DS flat 4 GiB read/write. */
	assert_int_equal(out.gdt_limit, 31);
	assert_int_equal(out.gdt_pa % 8, 0);
	assert_true(out.gdt_pa >= INFO_PA + sizeof(bp) && out.gdt_pa + 32 <= INFO_PA + used);
	memcpy(gdt, buf + (out.gdt_pa - INFO_PA), sizeof(gdt));
	assert_int_equal(gdt[0], 0);
	assert_int_equal(gdt[1], 0);
	assert_int_equal(gdt[2], 0x00cf9b000000ffffull);
	assert_int_equal(gdt[3], 0x00cf93000000ffffull);

	/* No initrd, no RSDP: those fields stay 0. */
	bi.nmodules = 0;
	bi.rsdp = NULL;
	assert_true(bzimage_build_params(&bz, &li, &bi, buf, sizeof(buf), INFO_PA, &out) > 0);
	memcpy(&bp, buf, sizeof(bp));
	memcpy(&h, bp.hdr, sizeof(h));
	assert_int_equal(h.ramdisk_image, 0);
	assert_int_equal(h.ramdisk_size, 0);
	assert_int_equal(bp.acpi_rsdp_addr, 0);
}

/* A header that ends early: the loader writes none of the fields after its end. */
static void test_boot_params_short_header(void **state)
{
	struct loader_boot_info bi = { .cmdline = "x", .map = &map };
	struct bzimage_boot out;
	struct bz_boot_params bp;

	(void)state;
	ram_map();
	bzimage();
	put8(0x201, 0x264 - 0x202);
	expect_placed(PREF, NULL, 0);
	assert_true(bzimage_build_params(&bz, &li, &bi, buf, sizeof(buf), INFO_PA, &out) > 0);
	memcpy(&bp, buf, sizeof(bp));
	for (size_t i = 0x264 - 0x1f1; i < sizeof(bp.hdr); i++)
		assert_int_equal(bp.hdr[i], 0);
}

static void test_boot_params_too_small(void **state)
{
	struct loader_module rd[1] = { { 0x5000000, 0x5200000, "initrd" } };
	struct loader_boot_info bi = { .cmdline = "console=ttyS0", .map = &map, .modules = rd, .nmodules = 1 };
	struct bzimage_boot out;
	size_t used;

	(void)state;
	ram_map();
	bzimage();
	expect_placed(PREF, NULL, 0);
	used = bzimage_build_params(&bz, &li, &bi, buf, sizeof(buf), INFO_PA, &out);
	assert_true(used > 4096);
	for (size_t size = 0; size < used; size++)
		assert_int_equal(bzimage_build_params(&bz, &li, &bi, buf, size, INFO_PA, &out), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_parse_valid),
		cmocka_unit_test(test_no_magic),
		cmocka_unit_test(test_bad_jump),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_old_protocol),
		cmocka_unit_test(test_zimage),
		cmocka_unit_test(test_place_pref_address),
		cmocka_unit_test(test_place_relocated),
		cmocka_unit_test(test_place_not_relocatable),
		cmocka_unit_test(test_place_does_not_fit),
		cmocka_unit_test(test_check_boot),
		cmocka_unit_test(test_boot_params),
		cmocka_unit_test(test_boot_params_short_header),
		cmocka_unit_test(test_boot_params_too_small),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
