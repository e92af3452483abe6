/* SPDX-License-Identifier: BSD-2-Clause */
/* Host tests for the PVH loader: the entry note, broken headers, modules, hvm_start_info. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/loader.h"
#include "core/mb2.h"
#include "core/pvh.h"

/* ELF constants the images use (gABI 4.1). */
#define ET_EXEC 2
#define EM_386 3
#define EM_X86_64 62
#define PT_LOAD 1
#define PT_NOTE 4
#define MB2_MAGIC 0xe85250d6u

#define IMG_SIZE 0x3000
#define NOTE_OFF 0x800  /* the PT_NOTE segment's notes */
#define TEXT_OFF 0x1000 /* the PT_LOAD segment: file 0x1000 -> 16 MiB */
#define TEXT_PA 0x1000000
#define ENTRY_PA 0x1000850

static uint8_t img[IMG_SIZE] __aligned(8);
static size_t img_size;
static bool img64;
static uint16_t phnum;
static size_t note_end; /* next free byte in the note segment */
static struct loader_image li;
static char err[256];

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static void add_phdr(uint32_t type, uint64_t off, uint64_t pa, uint64_t filesz, uint64_t memsz)
{
	uint16_t n = phnum++;

	if (img64) {
		uint8_t *ph = img + 64 + 56 * n;

		put32(ph, type);
		put64(ph + 8, off);
		put64(ph + 16, pa);
		put64(ph + 24, pa);
		put64(ph + 32, filesz);
		put64(ph + 40, memsz);
		put16(img + 56, phnum);
	} else {
		uint8_t *ph = img + 52 + 32 * n;

		put32(ph, type);
		put32(ph + 4, (uint32_t)off);
		put32(ph + 8, (uint32_t)pa);
		put32(ph + 12, (uint32_t)pa);
		put32(ph + 16, (uint32_t)filesz);
		put32(ph + 20, (uint32_t)memsz);
		put16(img + 44, phnum);
	}
}

/* An ELF executable (entry = the virtual one, unused by PVH) with one loadable segment. */
static void elf(bool is64)
{
	memset(img, 0, sizeof(img));
	img_size = IMG_SIZE;
	img64 = is64;
	phnum = 0;
	note_end = NOTE_OFF;
	memcpy(img, "\177ELF", 4);
	img[4] = is64 ? 2 : 1;
	img[5] = 1;
	img[6] = 1;
	put16(img + 16, ET_EXEC);
	put16(img + 18, is64 ? EM_X86_64 : EM_386);
	put32(img + 20, 1);
	if (is64) {
		put64(img + 24, 0xffffffff81000000ull);
		put64(img + 32, 64);
		put16(img + 54, 56);
	} else {
		put32(img + 24, TEXT_PA);
		put32(img + 28, 52);
		put16(img + 42, 32);
	}
	add_phdr(PT_LOAD, TEXT_OFF, TEXT_PA, 0x1000, 0x4000);
}

/* Append one note (name padded to 4, then the descriptor padded to 4). */
static void note(const char *name, uint32_t type, const void *desc, uint32_t descsz)
{
	uint8_t *n = img + note_end;
	uint32_t namesz = (uint32_t)strlen(name) + 1;

	put32(n, namesz);
	put32(n + 4, descsz);
	put32(n + 8, type);
	memcpy(n + 12, name, namesz);
	memcpy(n + 12 + ALIGN_UP(namesz, 4), desc, descsz);
	note_end += 12 + ALIGN_UP(namesz, 4) + ALIGN_UP(descsz, 4);
}

static void pvh_note32(uint32_t entry)
{
	note("Xen", XEN_ELFNOTE_PHYS32_ENTRY, &entry, 4);
}

/* The PT_NOTE program header over every note appended so far. */
static void close_notes(void)
{
	add_phdr(PT_NOTE, NOTE_OFF, 0, note_end - NOTE_OFF, note_end - NOTE_OFF);
}

/* Linux's layout: other Xen notes first, then the entry note. */
static void linux_like(bool is64)
{
	uint64_t hv = 0xffff800000000000ull;

	elf(is64);
	note("Xen", 6, "linux", 6);          /* XEN_ELFNOTE_GUEST_OS */
	note("Xen", 12, &hv, 8);             /* XEN_ELFNOTE_HV_START_LOW */
	note("GNU", 3, "0123456789abcdef0123", 20);
	pvh_note32(ENTRY_PA);
	close_notes();
}

/* Parse a copy of exactly img_size bytes so that ASan catches reads past the end. */
static bool parse(void)
{
	uint8_t *copy = malloc(img_size ? img_size : 1);
	bool ok;

	assert_non_null(copy);
	memcpy(copy, img, img_size);
	memset(err, 0, sizeof(err));
	ok = loader_parse(copy, img_size, &li, err, sizeof(err));
	free(copy);
	return ok;
}

static void expect_refused(const char *why)
{
	assert_false(parse());
	if (!strstr(err, why))
		fail_msg("error \"%s\" does not mention \"%s\"", err, why);
}

static void expect_pvh(uint32_t entry)
{
	if (!parse())
		fail_msg("refused: %s", err);
	assert_int_equal(li.kind, LOADER_PVH);
	assert_int_equal(li.entry, entry);
	assert_int_equal(li.nsegs, 1);
	assert_int_equal(li.segs[0].paddr, TEXT_PA);
}

/* ---- the entry note -------------------------------------------------------------- */

static void test_elf64_entry_note(void **state)
{
	(void)state;
	linux_like(true);
	expect_pvh(ENTRY_PA);
}

static void test_elf32_entry_note(void **state)
{
	(void)state;
	linux_like(false);
	expect_pvh(ENTRY_PA);
}

static void test_entry_note_64bit_value(void **state)
{
	uint64_t e = 0x200000;

	(void)state;
	elf(true);
	note("Xen", XEN_ELFNOTE_PHYS32_ENTRY, &e, 8);
	close_notes();
	expect_pvh(0x200000);
}

/* The note can be in a later PT_NOTE segment. */
static void test_entry_note_second_segment(void **state)
{
	(void)state;
	elf(true);
	note("GNU", 3, "abcd", 4);
	close_notes();
	add_phdr(PT_NOTE, note_end, 0, 0, 0);  /* empty: skipped */
	{
		size_t at = note_end;

		pvh_note32(ENTRY_PA);
		add_phdr(PT_NOTE, at, 0, note_end - at, note_end - at);
	}
	expect_pvh(ENTRY_PA);
}

/* Multiboot wins over PVH when a kernel has both. */
static void test_multiboot2_wins(void **state)
{
	uint8_t *h = img + TEXT_OFF;

	(void)state;
	linux_like(false); /* ELF32: the ELF entry is a physical address, as multiboot2 needs */
	put32(h, MB2_MAGIC);
	put32(h + 4, 0);
	put32(h + 8, 24);
	put32(h + 12, -(MB2_MAGIC + 24));
	put16(h + 16, 0);
	put32(h + 20, 8);
	assert_true(parse());
	assert_int_equal(li.kind, LOADER_MULTIBOOT2);
}

/* ---- not PVH ------------------------------------------------------------------- */

static void test_no_note(void **state)
{
	(void)state;
	elf(true);
	note("Xen", 6, "linux", 6);
	close_notes();
	expect_refused("no PVH entry note");
}

static void test_type18_other_owner(void **state)
{
	uint32_t e = ENTRY_PA;

	(void)state;
	elf(true);
	note("Linux", XEN_ELFNOTE_PHYS32_ENTRY, &e, 4);
	note("Xe", XEN_ELFNOTE_PHYS32_ENTRY, &e, 4);
	close_notes();
	expect_refused("no PVH entry note");
}

static void test_not_elf(void **state)
{
	(void)state;
	linux_like(true);
	img[0] = 'M';
	expect_refused("no PVH entry note");
}

/* A bad multiboot header is reported as such, not as a missing one. */
static void test_bad_multiboot2_not_pvh(void **state)
{
	uint8_t *h = img + TEXT_OFF;

	(void)state;
	linux_like(true);
	put32(h, MB2_MAGIC);
	put32(h + 4, 4);
	put32(h + 8, 24);
	put32(h + 12, -(MB2_MAGIC + 4 + 24));
	expect_refused("architecture 4");
}

/* ---- broken notes and headers ------------------------------------------------------ */

static void test_entry_value_size(void **state)
{
	uint16_t e = 0x1234;

	(void)state;
	elf(true);
	note("Xen", XEN_ELFNOTE_PHYS32_ENTRY, &e, 2);
	close_notes();
	expect_refused("not 4 or 8");
}

static void test_entry_zero(void **state)
{
	(void)state;
	elf(true);
	pvh_note32(0);
	close_notes();
	expect_refused("not a 32-bit physical address");
}

static void test_entry_above_4g(void **state)
{
	uint64_t e = 0x100000000ull;

	(void)state;
	elf(true);
	note("Xen", XEN_ELFNOTE_PHYS32_ENTRY, &e, 8);
	close_notes();
	expect_refused("not a 32-bit physical address");
}

/* A descriptor size that runs past the note segment (and one that would wrap). */
static void test_note_overruns_segment(void **state)
{
	static const uint32_t huge[] = { 0x40, 0xfffffffc, 0xfffffff0 };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(huge); i++) {
		linux_like(true);
		put32(img + NOTE_OFF + 4, huge[i]);
		expect_refused("runs past its segment");
	}
	linux_like(true);
	put32(img + NOTE_OFF, 0xffffffff); /* namesz */
	expect_refused("runs past its segment");
}

static void test_note_segment_past_file(void **state)
{
	(void)state;
	elf(true);
	pvh_note32(ENTRY_PA);
	add_phdr(PT_NOTE, IMG_SIZE - 8, 0, 16, 16);
	expect_refused("past the end");
	elf(true);
	add_phdr(PT_NOTE, 0xffffffffffff0000ull, 0, 0x20000, 0);
	expect_refused("past the end");
}

/* The file cut short: in the program headers, in the notes, in the loaded segment. */
static void test_truncated(void **state)
{
	(void)state;
	linux_like(true);
	img_size = 64 + 56 + 10;
	expect_refused("program headers out of bounds");
	linux_like(true);
	img_size = NOTE_OFF + 20;
	expect_refused("past the end");
	linux_like(true);
	img_size = TEXT_OFF + 0x800;
	expect_refused("out of bounds");
	linux_like(true);
	img_size = 40;
	expect_refused("truncated ELF64 header");
}

static void test_phentsize_too_small(void **state)
{
	(void)state;
	linux_like(true);
	put16(img + 54, 40);
	expect_refused("program header size");
}

/* Segments that do not fit below 4 GiB are refused like any ELF kernel's. */
static void test_oversized_segment(void **state)
{
	(void)state;
	linux_like(true);
	put64(img + 64 + 40, 0x100000000ull); /* memsz of the PT_LOAD */
	expect_refused("does not fit below 4 GiB");
}

/* ---- modules ---------------------------------------------------------------------- */

static struct guest_memmap map;

static void ram_map(void)
{
	memset(&map, 0, sizeof(map));
	map.e[0] = (struct mb2_mmap_entry){ 0, 0x9f000, MB2_MEM_AVAILABLE };
	map.e[1] = (struct mb2_mmap_entry){ 0x100000, 0x7f00000, MB2_MEM_AVAILABLE };
	map.e[2] = (struct mb2_mmap_entry){ 0x8000000, 0x400000, MB2_MEM_RESERVED }; /* umbra */
	map.e[3] = (struct mb2_mmap_entry){ 0x8400000, 0x7c00000, MB2_MEM_AVAILABLE };
	map.n = 4;
}

static bool check_mods(const struct loader_module *m, size_t n, const void *initrd)
{
	memset(err, 0, sizeof(err));
	return pvh_check_modules(m, n, &map, initrd, err, sizeof(err));
}

static void test_modules_good(void **state)
{
	/* 16 bytes each: the checker may read up to 6 of a module it believes is larger. */
	static const uint8_t gz[16] = { 0x1f, 0x8b, 8, 0 }, cpio[16] = "070701000", xz[16] = "\xfd" "7zXZ";
	struct loader_module m[2] = { { 0x5000000, 0x5200000, "initrd" }, { 0x5200000, 0x5201000, "" } };

	(void)state;
	ram_map();
	assert_true(check_mods(m, 0, NULL));
	assert_true(check_mods(m, 2, gz));
	assert_true(check_mods(m, 1, cpio));
	assert_true(check_mods(m, 1, xz));
}

static void test_modules_refused(void **state)
{
	static const uint8_t gz[16] = { 0x1f, 0x8b, 8, 0 }, elf_bytes[16] = "\177ELF";
	struct loader_module m[2] = { { 0x5000000, 0x5200000, "" }, { 0x7f00000, 0x8100000, "" } };

	(void)state;
	ram_map();
	assert_false(check_mods(m, 2, gz)); /* the second one overlaps umbra's memory */
	assert_non_null(strstr(err, "module 2"));
	assert_non_null(strstr(err, "not in the guest's RAM"));
	m[1] = (struct loader_module){ 0x9000000, 0x9000000, "" };
	assert_false(check_mods(m, 2, gz));
	assert_non_null(strstr(err, "module 2 is empty"));
	m[0] = (struct loader_module){ 0xfff0000, 0x10100000, "" }; /* past the end of RAM */
	assert_false(check_mods(m, 1, gz));
	assert_non_null(strstr(err, "not in the guest's RAM"));
	m[0] = (struct loader_module){ 0x5000000, 0x5200000, "" };
	assert_false(check_mods(m, 1, elf_bytes));
	assert_non_null(strstr(err, "the initrd"));
	m[0].end = m[0].start + 1; /* too short for any magic but gzip's first byte */
	assert_false(check_mods(m, 1, gz));
	assert_non_null(strstr(err, "the initrd"));
}

/* ---- hvm_start_info ------------------------------------------------------------------ */

#define INFO_PA 0x10000

static void test_start_info(void **state)
{
	static uint8_t buf[4096] __aligned(8);
	static const uint8_t rsdp[36] = "RSD PTR \x55";
	struct loader_module m[2] = { { 0x5000000, 0x5200000, "initrd" }, { 0x5200000, 0x5201000, NULL } };
	struct loader_boot_info bi = { .cmdline = "console=ttyS0 quiet", .map = &map, .modules = m,
				       .nmodules = 2, .rsdp = rsdp, .rsdp_len = sizeof(rsdp) };
	struct hvm_start_info si;
	struct hvm_modlist_entry me[2];
	struct hvm_memmap_table_entry mm[4];
	size_t used;

	(void)state;
	ram_map();
	memset(buf, 0xcc, sizeof(buf));
	used = pvh_build_start_info(&bi, buf, sizeof(buf), INFO_PA);
	assert_true(used > sizeof(si));
	memcpy(&si, buf, sizeof(si));
	assert_int_equal(si.magic, 0x336ec578u);
	assert_int_equal(si.version, 1);
	assert_int_equal(si.flags, 0);
	assert_int_equal(si.nr_modules, 2);
	assert_int_equal(si.reserved, 0);
	/* Every pointer lands inside what was used, and the strings are there. */
	assert_true(si.cmdline_paddr >= INFO_PA && si.cmdline_paddr < INFO_PA + used);
	assert_string_equal((char *)buf + (si.cmdline_paddr - INFO_PA), "console=ttyS0 quiet");
	assert_true(si.modlist_paddr % 8 == 0 && si.modlist_paddr + sizeof(me) <= INFO_PA + used);
	memcpy(me, buf + (si.modlist_paddr - INFO_PA), sizeof(me));
	assert_int_equal(me[0].paddr, 0x5000000);
	assert_int_equal(me[0].size, 0x200000);
	assert_string_equal((char *)buf + (me[0].cmdline_paddr - INFO_PA), "initrd");
	assert_int_equal(me[1].size, 0x1000);
	assert_string_equal((char *)buf + (me[1].cmdline_paddr - INFO_PA), "");
	assert_int_equal(me[0].reserved, 0);
	assert_int_equal(si.memmap_entries, 4);
	assert_true(si.memmap_paddr + sizeof(mm) <= INFO_PA + used);
	memcpy(mm, buf + (si.memmap_paddr - INFO_PA), sizeof(mm));
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(mm[i].addr, map.e[i].base);
		assert_int_equal(mm[i].size, map.e[i].length);
		assert_int_equal(mm[i].type, map.e[i].type);
		assert_int_equal(mm[i].reserved, 0);
	}
	assert_int_equal(si.rsdp_paddr % 16, 0);
	assert_true(si.rsdp_paddr + sizeof(rsdp) <= INFO_PA + used);
	assert_memory_equal(buf + (si.rsdp_paddr - INFO_PA), rsdp, sizeof(rsdp));
	/* The same through loader_build_info, which the guest loader calls. */
	assert_int_equal(loader_build_info(LOADER_PVH, &bi, buf, sizeof(buf), INFO_PA), used);
	/* No RSDP: rsdp_paddr stays 0 so that Linux looks for it itself. */
	bi.rsdp = NULL;
	assert_true(pvh_build_start_info(&bi, buf, sizeof(buf), INFO_PA) > 0);
	memcpy(&si, buf, sizeof(si));
	assert_int_equal(si.rsdp_paddr, 0);
}

static void test_start_info_too_small(void **state)
{
	static uint8_t buf[4096] __aligned(8);
	struct loader_module m[1] = { { 0x5000000, 0x5200000, "initrd" } };
	struct loader_boot_info bi = { .cmdline = "x", .map = &map, .modules = m, .nmodules = 1 };
	size_t used;

	(void)state;
	ram_map();
	used = pvh_build_start_info(&bi, buf, sizeof(buf), INFO_PA);
	assert_true(used > 0);
	for (size_t size = 0; size < used; size++)
		assert_int_equal(pvh_build_start_info(&bi, buf, size, INFO_PA), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_elf64_entry_note),
		cmocka_unit_test(test_elf32_entry_note),
		cmocka_unit_test(test_entry_note_64bit_value),
		cmocka_unit_test(test_entry_note_second_segment),
		cmocka_unit_test(test_multiboot2_wins),
		cmocka_unit_test(test_no_note),
		cmocka_unit_test(test_type18_other_owner),
		cmocka_unit_test(test_not_elf),
		cmocka_unit_test(test_bad_multiboot2_not_pvh),
		cmocka_unit_test(test_entry_value_size),
		cmocka_unit_test(test_entry_zero),
		cmocka_unit_test(test_entry_above_4g),
		cmocka_unit_test(test_note_overruns_segment),
		cmocka_unit_test(test_note_segment_past_file),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_phentsize_too_small),
		cmocka_unit_test(test_oversized_segment),
		cmocka_unit_test(test_modules_good),
		cmocka_unit_test(test_modules_refused),
		cmocka_unit_test(test_start_info),
		cmocka_unit_test(test_start_info_too_small),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
