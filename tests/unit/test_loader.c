/* SPDX-License-Identifier: BSD-2-Clause */
/* Host tests for the L1 loader: multiboot/ELF parsing, guest memory map, placement, boot info. */
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

/* Header magics (multiboot 0.6.96 3.1.1, multiboot2 1.0 3.1.1). */
#define MB1_MAGIC 0x1badb002u
#define MB2_MAGIC 0xe85250d6u

/* ELF constants the images use (gABI 4.1). */
#define ET_EXEC 2
#define ET_DYN 3
#define EM_386 3
#define EM_X86_64 62
#define PT_LOAD 1
#define PT_NOTE 4

#define IMG_MAX KiB(48)

/* An image being built: a zeroed buffer, the ELF class and the program header count. */
struct image {
	uint8_t b[IMG_MAX] __aligned(8);
	size_t size;
	bool is64;
	uint16_t phnum;
};

struct seg {
	uint32_t type;
	uint64_t offset, paddr, filesz, memsz;
};

static struct image img;
static struct loader_image li;
static char err[256];

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

/* An ELF header with program headers right after it (phdrs added by add_phdr). */
static void elf_init(bool is64, uint64_t entry, size_t size)
{
	uint8_t *p = img.b;

	assert_true(size <= IMG_MAX);
	memset(&img, 0, sizeof(img));
	img.size = size;
	img.is64 = is64;
	memcpy(p, "\177ELF", 4);
	p[4] = is64 ? 2 : 1; /* EI_CLASS */
	p[5] = 1;            /* EI_DATA: little-endian */
	p[6] = 1;            /* EI_VERSION */
	put16(p + 16, ET_EXEC);
	put16(p + 18, is64 ? EM_X86_64 : EM_386);
	put32(p + 20, 1);
	if (is64) {
		put64(p + 24, entry);
		put64(p + 32, 64); /* phoff */
		put16(p + 52, 64); /* ehsize */
		put16(p + 54, 56); /* phentsize */
	} else {
		put32(p + 24, (uint32_t)entry);
		put32(p + 28, 52);
		put16(p + 40, 52);
		put16(p + 42, 32);
	}
}

static void add_phdr(const struct seg *s)
{
	uint8_t *p = img.b;
	uint16_t n = img.phnum++;

	if (img.is64) {
		uint8_t *ph = p + 64 + 56 * n;

		put32(ph, s->type);
		put32(ph + 4, 7);
		put64(ph + 8, s->offset);
		put64(ph + 16, s->paddr); /* vaddr */
		put64(ph + 24, s->paddr);
		put64(ph + 32, s->filesz);
		put64(ph + 40, s->memsz);
		put64(ph + 48, 0x1000);
		put16(p + 56, img.phnum);
	} else {
		uint8_t *ph = p + 52 + 32 * n;

		put32(ph, s->type);
		put32(ph + 4, (uint32_t)s->offset);
		put32(ph + 8, (uint32_t)s->paddr);
		put32(ph + 12, (uint32_t)s->paddr);
		put32(ph + 16, (uint32_t)s->filesz);
		put32(ph + 20, (uint32_t)s->memsz);
		put32(ph + 24, 7);
		put32(ph + 28, 0x1000);
		put16(p + 44, img.phnum);
	}
}

static void add_load(uint64_t offset, uint64_t paddr, uint64_t filesz, uint64_t memsz)
{
	add_phdr(&(struct seg){ PT_LOAD, offset, paddr, filesz, memsz });
}

static void put_mb1(size_t off, uint32_t flags)
{
	put32(img.b + off, MB1_MAGIC);
	put32(img.b + off + 4, flags);
	put32(img.b + off + 8, -(MB1_MAGIC + flags));
}

/* A multiboot2 header being assembled: fixed part, tags, end tag. */
struct mb2h {
	uint8_t b[512] __aligned(8);
	uint32_t len;
	uint32_t arch;
};

static void mb2_begin(struct mb2h *h, uint32_t arch)
{
	memset(h, 0, sizeof(*h));
	h->len = 16;
	h->arch = arch;
}

static void mb2_htag(struct mb2h *h, uint16_t type, uint16_t flags, const uint32_t *words, size_t n)
{
	uint8_t *t = h->b + h->len;
	uint32_t size = (uint32_t)(8 + 4 * n);

	assert_true(h->len + ALIGN_UP(size, 8) + 8 <= sizeof(h->b));
	put16(t, type);
	put16(t + 2, flags);
	put32(t + 4, size);
	for (size_t i = 0; i < n; i++)
		put32(t + 8 + 4 * i, words[i]);
	h->len += ALIGN_UP(size, 8);
}

/* End tag, length and checksum, then copy into the image at off. */
static void put_mb2(size_t off, struct mb2h *h)
{
	mb2_htag(h, 0, 0, NULL, 0);
	put32(h->b, MB2_MAGIC);
	put32(h->b + 4, h->arch);
	put32(h->b + 8, h->len);
	put32(h->b + 12, -(MB2_MAGIC + h->arch + h->len));
	assert_true(off + h->len <= img.size);
	memcpy(img.b + off, h->b, h->len);
}

static void put_mb2_plain(size_t off)
{
	struct mb2h h;

	mb2_begin(&h, 0);
	put_mb2(off, &h);
}

/* Parse a copy of exactly img.size bytes, so that ASan catches any read past the end. */
static bool parse(void)
{
	uint8_t *copy = malloc(img.size ? img.size : 1);
	bool ok;

	assert_non_null(copy);
	memcpy(copy, img.b, img.size);
	memset(err, 0, sizeof(err));
	ok = loader_parse(copy, img.size, &li, err, sizeof(err));
	free(copy);
	return ok;
}

static void expect_refused(const char *why)
{
	assert_false(parse());
	if (!strstr(err, why))
		fail_msg("error \"%s\" does not mention \"%s\"", err, why);
}

static void expect_ok(void)
{
	if (!parse())
		fail_msg("refused: %s", err);
}

/* The usual kernel: text at file offset 0x1000 -> 1 MiB, bss after it; header at 0x1000. */
static void std_elf(bool is64, uint64_t entry)
{
	elf_init(is64, entry, 0x3000);
	add_load(0x1000, 0x100000, 0x2000, 0x2000);
	add_load(0x3000, 0x102000, 0, 0x5000);
}

/* ---- loader_parse: good images ---------------------------------------------------- */

static void test_parse_elf32_mb1(void **state)
{
	(void)state;
	std_elf(false, 0x10000c);
	add_phdr(&(struct seg){ PT_NOTE, 0x1000, 0, 0x10, 0x10 }); /* skipped */
	add_load(0x1000, 0x200000, 0, 0);                          /* empty: skipped */
	put_mb1(0x1000, BIT(0) | BIT(1));
	expect_ok();
	assert_int_equal(li.kind, LOADER_MULTIBOOT1);
	assert_int_equal(li.entry, 0x10000c);
	assert_int_equal(li.nsegs, 2);
	assert_int_equal(li.segs[0].paddr, 0x100000);
	assert_int_equal(li.segs[0].offset, 0x1000);
	assert_int_equal(li.segs[0].filesz, 0x2000);
	assert_int_equal(li.segs[0].memsz, 0x2000);
	assert_int_equal(li.segs[1].paddr, 0x102000);
	assert_int_equal(li.segs[1].filesz, 0);
	assert_int_equal(li.segs[1].memsz, 0x5000);
	assert_int_equal(li.load_start, 0x100000);
	assert_int_equal(li.load_end, 0x107000);
}

static void test_parse_elf64_mb2(void **state)
{
	(void)state;
	std_elf(true, 0x100040);
	put_mb2_plain(0x1000);
	expect_ok();
	assert_int_equal(li.kind, LOADER_MULTIBOOT2);
	assert_int_equal(li.entry, 0x100040);
	assert_int_equal(li.nsegs, 2);
	assert_int_equal(li.segs[1].memsz, 0x5000);
	assert_int_equal(li.load_start, 0x100000);
	assert_int_equal(li.load_end, 0x107000);
}

/* Segments out of address order: load_start/load_end are the extremes. */
static void test_parse_load_bounds(void **state)
{
	(void)state;
	elf_init(false, 0x300000, 0x3000);
	add_load(0x2000, 0x300000, 0x1000, 0x1000);
	add_load(0x1000, 0x100000, 0x1000, 0x1000);
	add_load(0x1000, 0x200000, 0x1000, 0x4000);
	put_mb1(0x1000, 0);
	expect_ok();
	assert_int_equal(li.nsegs, 3);
	assert_int_equal(li.load_start, 0x100000);
	assert_int_equal(li.load_end, 0x301000);
}

/* The entry address tag wins over e_entry, even when e_entry is not a 32-bit address. */
static void test_parse_mb2_entry_tag(void **state)
{
	static const uint32_t entry[] = { 0x101234 };
	struct mb2h h;

	(void)state;
	std_elf(true, 0xffffffff80100000ULL);
	mb2_begin(&h, 0);
	mb2_htag(&h, 3, 0, entry, 1);
	put_mb2(0x1000, &h);
	expect_ok();
	assert_int_equal(li.kind, LOADER_MULTIBOOT2);
	assert_int_equal(li.entry, 0x101234);

	std_elf(false, 0x100000);
	mb2_begin(&h, 0);
	mb2_htag(&h, 3, 1, entry, 1); /* optional: still honoured */
	put_mb2(0x1000, &h);
	expect_ok();
	assert_int_equal(li.entry, 0x101234);
}

/* Tags umbra ignores are accepted required or not; a short entry tag is not. */
static void test_parse_mb2_ignored_tags(void **state)
{
	static const uint32_t words[] = { 0, 0, 0, 0, 0 };
	struct mb2h h;

	(void)state;
	std_elf(false, 0x100000);
	mb2_begin(&h, 0);
	mb2_htag(&h, 2, 0, words, 4); /* address */
	mb2_htag(&h, 4, 0, words, 1); /* console flags */
	mb2_htag(&h, 6, 0, words, 0); /* module alignment */
	mb2_htag(&h, 8, 0, words, 1); /* EFI i386 entry */
	mb2_htag(&h, 9, 0, words, 1); /* EFI amd64 entry */
	mb2_htag(&h, 10, 0, words, 4); /* relocatable */
	put_mb2(0x1000, &h);
	expect_ok();
	assert_int_equal(li.entry, 0x100000);

	std_elf(false, 0x100000);
	mb2_begin(&h, 0);
	mb2_htag(&h, 3, 0, NULL, 0);
	put_mb2(0x1000, &h);
	expect_refused("entry address tag");
}

static void test_parse_mb2_preferred(void **state)
{
	(void)state;
	std_elf(false, 0x100000);
	put_mb1(0x1000, 0);
	put_mb2_plain(0x1800);
	expect_ok();
	assert_int_equal(li.kind, LOADER_MULTIBOOT2);

	std_elf(false, 0x100000);
	put_mb2_plain(0x1000);
	put_mb1(0x1800, 0);
	expect_ok();
	assert_int_equal(li.kind, LOADER_MULTIBOOT2);
}

/* The last positions inside the search windows are found; the first ones outside are not. */
static void test_parse_search_window(void **state)
{
	struct mb2h h;

	(void)state;
	elf_init(false, 0x100000, IMG_MAX);
	add_load(0x1000, 0x100000, 0x1000, 0x1000);
	put_mb1(8192 - 12, 0);
	expect_ok();
	assert_int_equal(li.kind, LOADER_MULTIBOOT1);

	elf_init(false, 0x100000, IMG_MAX);
	add_load(0x1000, 0x100000, 0x1000, 0x1000);
	put_mb1(8192, 0);
	expect_refused("no multiboot");

	elf_init(false, 0x100000, IMG_MAX);
	add_load(0x1000, 0x100000, 0x1000, 0x1000);
	mb2_begin(&h, 0);
	put_mb2(32768 - 24, &h);
	expect_ok();
	assert_int_equal(li.kind, LOADER_MULTIBOOT2);

	elf_init(false, 0x100000, IMG_MAX);
	add_load(0x1000, 0x100000, 0x1000, 0x1000);
	mb2_begin(&h, 0);
	put_mb2(32768, &h);
	expect_refused("no multiboot");

	/* An MB1 header between 8 and 32 KiB does not count either. */
	elf_init(false, 0x100000, IMG_MAX);
	add_load(0x1000, 0x100000, 0x1000, 0x1000);
	put_mb1(16384, 0);
	expect_refused("no multiboot");
}

/* ---- loader_parse: broken multiboot headers ---------------------------------------- */

static void test_parse_no_header(void **state)
{
	(void)state;
	std_elf(false, 0x100000);
	expect_refused("no multiboot");
}

static void test_parse_bad_checksum(void **state)
{
	struct mb2h h;

	(void)state;
	std_elf(false, 0x100000);
	put_mb1(0x1000, 0);
	put32(img.b + 0x1008, get32(img.b + 0x1008) + 1);
	expect_refused("no multiboot");

	std_elf(false, 0x100000);
	mb2_begin(&h, 0);
	put_mb2(0x1000, &h);
	put32(img.b + 0x100c, get32(img.b + 0x100c) ^ 0x100);
	expect_refused("no multiboot");

	/* A broken MB2 header does not hide a good MB1 one. */
	put_mb1(0x1800, 0);
	expect_ok();
	assert_int_equal(li.kind, LOADER_MULTIBOOT1);
}

/* A multiboot2 header misaligned (4, not 8) is not found. */
static void test_parse_mb2_misaligned(void **state)
{
	struct mb2h h;

	(void)state;
	std_elf(false, 0x100000);
	mb2_begin(&h, 0);
	put_mb2(0x1004, &h);
	expect_refused("no multiboot");
}

static void test_parse_mb2_arch(void **state)
{
	struct mb2h h;

	(void)state;
	std_elf(false, 0x100000);
	mb2_begin(&h, 4); /* 32-bit MIPS */
	put_mb2(0x1000, &h);
	expect_refused("architecture 4");
}

static void test_parse_mb2_info_request(void **state)
{
	static const uint32_t known[] = { 1, 2, 3, 4, 6, 14, 15 };
	static const uint32_t unknown[] = { 1, 99, 6 };
	struct mb2h h;

	(void)state;
	std_elf(false, 0x100000);
	mb2_begin(&h, 0);
	mb2_htag(&h, 1, 0, known, ARRAY_SIZE(known));
	put_mb2(0x1000, &h);
	expect_ok();

	std_elf(false, 0x100000);
	mb2_begin(&h, 0);
	mb2_htag(&h, 1, 0, unknown, ARRAY_SIZE(unknown));
	put_mb2(0x1000, &h);
	expect_refused("tag 99");

	std_elf(false, 0x100000);
	mb2_begin(&h, 0);
	mb2_htag(&h, 1, 1, unknown, ARRAY_SIZE(unknown)); /* optional */
	put_mb2(0x1000, &h);
	expect_ok();

	/* Framebuffer info (8) is not provided either. */
	std_elf(false, 0x100000);
	mb2_begin(&h, 0);
	mb2_htag(&h, 1, 0, (const uint32_t[]){ 8 }, 1);
	put_mb2(0x1000, &h);
	expect_refused("tag 8");
}

static void test_parse_mb2_framebuffer(void **state)
{
	static const uint32_t fb[] = { 1024, 768, 32 };
	struct mb2h h;

	(void)state;
	std_elf(false, 0x100000);
	mb2_begin(&h, 0);
	mb2_htag(&h, 5, 0, fb, 3);
	put_mb2(0x1000, &h);
	expect_refused("header tag 5");

	std_elf(false, 0x100000);
	mb2_begin(&h, 0);
	mb2_htag(&h, 5, 1, fb, 3);
	put_mb2(0x1000, &h);
	expect_ok();

	/* EFI boot services (7) and an unknown tag likewise. */
	std_elf(false, 0x100000);
	mb2_begin(&h, 0);
	mb2_htag(&h, 7, 0, NULL, 0);
	put_mb2(0x1000, &h);
	expect_refused("header tag 7");

	std_elf(false, 0x100000);
	mb2_begin(&h, 0);
	mb2_htag(&h, 77, 1, NULL, 0);
	put_mb2(0x1000, &h);
	expect_ok();
}

/* Header length and tag sizes must stay inside the header and the file. */
static void test_parse_mb2_bad_lengths(void **state)
{
	struct mb2h h;
	uint32_t len;

	(void)state;
	/* Length 16: no room for an end tag. */
	std_elf(false, 0x100000);
	put32(img.b + 0x1000, MB2_MAGIC);
	put32(img.b + 0x1004, 0);
	put32(img.b + 0x1008, 16);
	put32(img.b + 0x100c, -(MB2_MAGIC + 16));
	expect_refused("out of bounds");

	/* Length past the end of the file. */
	std_elf(false, 0x100000);
	len = 0x3000 - 0x2ff0 + 8;
	put32(img.b + 0x2ff0, MB2_MAGIC);
	put32(img.b + 0x2ff4, 0);
	put32(img.b + 0x2ff8, len);
	put32(img.b + 0x2ffc, -(MB2_MAGIC + len));
	expect_refused("out of bounds");

	/* A tag whose size runs past the header. */
	std_elf(false, 0x100000);
	mb2_begin(&h, 0);
	mb2_htag(&h, 4, 0, (const uint32_t[]){ 0 }, 1);
	put_mb2(0x1000, &h);
	put32(img.b + 0x1000 + 16 + 4, 0x100);
	expect_refused("bad size");

	/* A tag smaller than its header. */
	put32(img.b + 0x1000 + 16 + 4, 4);
	expect_refused("bad size");

	/* No end tag: the last tag is replaced by a non-end one. */
	std_elf(false, 0x100000);
	mb2_begin(&h, 0);
	put_mb2(0x1000, &h);
	put16(img.b + 0x1000 + 16, 6);
	expect_refused("no end tag");
}

static void test_parse_mb1_flags(void **state)
{
	(void)state;
	std_elf(false, 0x100000);
	put_mb1(0x1000, BIT(0) | BIT(1) | BIT(2) | BIT(16));
	expect_ok();
	assert_int_equal(li.kind, LOADER_MULTIBOOT1);

	std_elf(false, 0x100000);
	put_mb1(0x1000, BIT(0) | BIT(5));
	expect_refused("unknown features");

	std_elf(false, 0x100000);
	put_mb1(0x1000, BIT(15));
	expect_refused("unknown features");
}

/* ---- loader_parse: broken ELF files -------------------------------------------------- */

static void test_parse_not_elf(void **state)
{
	(void)state;
	std_elf(false, 0x100000);
	put_mb1(0x1000, 0);
	img.b[3] = 'G';
	expect_refused("not an ELF");
}

static void test_parse_big_endian(void **state)
{
	(void)state;
	std_elf(false, 0x100000);
	put_mb1(0x1000, 0);
	img.b[5] = 2;
	expect_refused("little-endian");
}

static void test_parse_bad_class(void **state)
{
	(void)state;
	std_elf(false, 0x100000);
	put_mb1(0x1000, 0);
	img.b[4] = 3;
	expect_refused("ELF class 3");
}

static void test_parse_wrong_machine(void **state)
{
	(void)state;
	std_elf(false, 0x100000);
	put_mb1(0x1000, 0);
	put16(img.b + 18, EM_X86_64);
	expect_refused("not i386");

	std_elf(true, 0x100000);
	put_mb1(0x1000, 0);
	put16(img.b + 18, EM_386);
	expect_refused("not x86-64");
}

static void test_parse_not_exec(void **state)
{
	(void)state;
	std_elf(false, 0x100000);
	put_mb1(0x1000, 0);
	put16(img.b + 16, ET_DYN);
	expect_refused("not an executable");

	std_elf(true, 0x100000);
	put_mb1(0x1000, 0);
	put16(img.b + 16, ET_DYN);
	expect_refused("not an executable");
}

static void test_parse_phdr_bounds(void **state)
{
	(void)state;
	/* No program headers. */
	elf_init(false, 0x100000, 0x3000);
	put_mb1(0x1000, 0);
	expect_refused("program headers out of bounds");

	/* Program headers starting past the end. */
	std_elf(false, 0x100000);
	put_mb1(0x1000, 0);
	put32(img.b + 28, 0x3001);
	expect_refused("program headers out of bounds");

	/* Program headers running past the end. */
	std_elf(true, 0x100000);
	put_mb1(0x1000, 0);
	put64(img.b + 32, 0x3000 - 56);
	expect_refused("program headers out of bounds");

	/* So many that the table cannot fit. */
	std_elf(true, 0x100000);
	put_mb1(0x1000, 0);
	put16(img.b + 56, 0xffff);
	expect_refused("program headers out of bounds");

	/* Entries smaller than a program header. */
	std_elf(false, 0x100000);
	put_mb1(0x1000, 0);
	put16(img.b + 42, 16);
	expect_refused("too small");

	std_elf(true, 0x100000);
	put_mb1(0x1000, 0);
	put16(img.b + 54, 32);
	expect_refused("too small");

	/* Only non-loadable segments. */
	elf_init(false, 0x100000, 0x3000);
	add_phdr(&(struct seg){ PT_NOTE, 0x1000, 0, 0x10, 0x10 });
	put_mb1(0x1000, 0);
	expect_refused("no loadable segments");
}

static void test_parse_segment_bounds(void **state)
{
	(void)state;
	/* File offset past the end. */
	elf_init(false, 0x100000, 0x3000);
	add_load(0x3001, 0x100000, 0, 0x1000);
	put_mb1(0x1000, 0);
	expect_refused("out of bounds");

	/* File range running past the end. */
	elf_init(false, 0x100000, 0x3000);
	add_load(0x1000, 0x100000, 0x2001, 0x3000);
	put_mb1(0x1000, 0);
	expect_refused("out of bounds");

	/* A huge offset that would wrap. */
	elf_init(true, 0x100000, 0x3000);
	add_load(UINT64_MAX - 0xfff, 0x100000, 0x2000, 0x2000);
	put_mb1(0x1000, 0);
	expect_refused("out of bounds");

	/* filesz > memsz. */
	elf_init(false, 0x100000, 0x3000);
	add_load(0x1000, 0x100000, 0x2000, 0x1000);
	put_mb1(0x1000, 0);
	expect_refused("larger than memory size");

	/* Exactly to the end of the file is fine. */
	elf_init(false, 0x100000, 0x3000);
	add_load(0x1000, 0x100000, 0x2000, 0x2000);
	put_mb1(0x1000, 0);
	expect_ok();
}

static void test_parse_above_4g(void **state)
{
	(void)state;
	/* Ending exactly at 4 GiB is fine. */
	elf_init(false, 0xfffff000, 0x3000);
	add_load(0x1000, 0xfffff000, 0x1000, 0x1000);
	put_mb1(0x1000, 0);
	expect_ok();
	assert_int_equal(li.load_end, GiB(4));

	elf_init(false, 0xfffff000, 0x3000);
	add_load(0x1000, 0xfffff000, 0x1000, 0x2000);
	put_mb1(0x1000, 0);
	expect_refused("below 4 GiB");

	elf_init(true, 0x100000, 0x3000);
	add_load(0x1000, GiB(4), 0x1000, 0x1000);
	put_mb1(0x1000, 0);
	expect_refused("below 4 GiB");

	/* paddr + memsz wrapping around. */
	elf_init(true, 0x100000, 0x3000);
	add_load(0x1000, 0x100000, 0x1000, UINT64_MAX - 0xfff);
	put_mb1(0x1000, 0);
	expect_refused("below 4 GiB");

	/* ELF64 entry point above 4 GiB without an entry address tag. */
	std_elf(true, GiB(4));
	put_mb1(0x1000, 0);
	expect_refused("entry point");
	std_elf(true, GiB(4));
	put_mb2_plain(0x1000);
	expect_refused("entry point");
	std_elf(true, GiB(4) - 1);
	put_mb2_plain(0x1000);
	expect_ok();
	assert_int_equal(li.entry, 0xffffffffu);
}

static void test_parse_max_segments(void **state)
{
	(void)state;
	elf_init(true, 0x100000, 0x3000);
	for (int i = 0; i < LOADER_MAX_SEGMENTS; i++)
		add_load(0x1000, 0x100000 + 0x1000 * (uint64_t)i, 0x1000, 0x1000);
	put_mb1(0x1000, 0);
	expect_ok();
	assert_int_equal(li.nsegs, LOADER_MAX_SEGMENTS);
	assert_int_equal(li.load_end, 0x100000 + 0x1000 * LOADER_MAX_SEGMENTS);

	add_load(0x1000, 0x200000, 0x1000, 0x1000);
	expect_refused("more than 16");
}

/* Files shorter than their ELF header, with the multiboot header squeezed in. */
static void test_parse_truncated(void **state)
{
	(void)state;
	elf_init(false, 0x100000, 48);
	put_mb1(16, 0);
	expect_refused("not an ELF");

	elf_init(true, 0x100000, 60);
	put_mb1(48, 0);
	expect_refused("truncated ELF64");

	/* Too short for any header at all. */
	elf_init(false, 0x100000, 11);
	put_mb1(0, 0);
	expect_refused("no multiboot");
	elf_init(false, 0x100000, 0);
	expect_refused("no multiboot");
}

/* Every prefix of a good image is refused without reading past its end. */
static void test_parse_every_prefix(void **state)
{
	struct image full;

	(void)state;
	std_elf(true, 0x100000);
	put_mb2_plain(0x1000);
	full = img;
	for (size_t n = 0; n < full.size; n += (n < 0x1100 ? 1 : 0x100)) {
		img.size = n;
		assert_false(parse());
		assert_true(strlen(err) > 0);
		img = full;
	}
	expect_ok();
}

/* The message respects errlen. */
static void test_parse_err_len(void **state)
{
	char small[12];

	(void)state;
	std_elf(false, 0x100000);
	memset(small, 'x', sizeof(small));
	assert_false(loader_parse(img.b, img.size, &li, small, 8));
	assert_int_equal(strlen(small), 7);
	assert_int_equal(small[8], 'x');
}

/* ---- loader_build_memmap -------------------------------------------------------------- */

static struct guest_memmap map;

static void expect_map(const uint64_t (*want)[3], size_t n)
{
	for (size_t i = 0; i < MIN(n, map.n); i++) {
		const struct mb2_mmap_entry *e = &map.e[i];

		if (e->base != want[i][0] || e->base + e->length != want[i][1] || e->type != want[i][2])
			fail_msg("entry %zu: [%#lx-%#lx) type %u, want [%#lx-%#lx) type %lu", i, e->base,
				 e->base + e->length, e->type, want[i][0], want[i][1], want[i][2]);
	}
	assert_int_equal(map.n, n);
	assert_false(map.truncated);
}

#define AV MB2_MEM_AVAILABLE
#define RS MB2_MEM_RESERVED
#define ACPI MB2_MEM_ACPI_RECLAIMABLE

static const struct mb2_mmap_entry host_map[] = {
	{ 0, 0x9fc00, AV },
	{ 0x9fc00, 0x400, RS },
	{ 0xf0000, 0x10000, RS },
	{ 0x100000, 0x7fe00000, AV }, /* to 0x7ff00000 */
	{ 0x7ff00000, 0x100000, ACPI },
	{ 0xfec00000, 0x1000, RS },
	{ GiB(4), GiB(2), AV },
};

static void test_memmap_passthrough(void **state)
{
	static const uint64_t want[][3] = {
		{ 0, 0x9fc00, AV },
		{ 0x9fc00, 0xa0000, RS },
		{ 0xf0000, 0x100000, RS },
		{ 0x100000, 0x7ff00000, AV },
		{ 0x7ff00000, 0x80000000, ACPI },
		{ 0xfec00000, 0xfec01000, RS },
		{ GiB(4), GiB(6), AV },
	};

	(void)state;
	loader_build_memmap(host_map, ARRAY_SIZE(host_map), NULL, 0, 0, &map);
	expect_map(want, ARRAY_SIZE(want));
}

static void test_memmap_umbra(void **state)
{
	static const struct loader_range umbra[] = {
		{ 0x200000, 0x400000 },
		{ 0x7fc00000, 0x7fe00000 },
	};
	static const uint64_t want[][3] = {
		{ 0, 0x9fc00, AV },
		{ 0x9fc00, 0xa0000, RS },
		{ 0xf0000, 0x100000, RS },
		{ 0x100000, 0x200000, AV },
		{ 0x200000, 0x400000, RS },
		{ 0x400000, 0x7fc00000, AV },
		{ 0x7fc00000, 0x7fe00000, RS },
		{ 0x7fe00000, 0x7ff00000, AV },
		{ 0x7ff00000, 0x80000000, ACPI },
		{ 0xfec00000, 0xfec01000, RS },
		{ GiB(4), GiB(6), AV },
	};

	(void)state;
	loader_build_memmap(host_map, ARRAY_SIZE(host_map), umbra, ARRAY_SIZE(umbra), 0, &map);
	expect_map(want, ARRAY_SIZE(want));
}

/* umbra at the edge of a reserved entry merges with it; ranges reaching over entry edges are clipped. */
static void test_memmap_umbra_edges(void **state)
{
	static const struct loader_range umbra[] = {
		{ 0x9f000, 0x9fc00 },     /* merges with the reserved [0x9fc00, 0xa0000) */
		{ 0x7fe00000, 0x80000000 }, /* covers the rest of RAM and the ACPI entry */
		{ GiB(5), GiB(7) },       /* runs past the last entry */
	};
	static const uint64_t want[][3] = {
		{ 0, 0x9f000, AV },
		{ 0x9f000, 0xa0000, RS },
		{ 0xf0000, 0x100000, RS },
		{ 0x100000, 0x7fe00000, AV },
		{ 0x7fe00000, 0x7ff00000, RS },
		{ 0x7ff00000, 0x80000000, ACPI }, /* not available: passed through */
		{ 0xfec00000, 0xfec01000, RS },
		{ GiB(4), GiB(5), AV },
		{ GiB(5), GiB(6), RS },
	};

	(void)state;
	loader_build_memmap(host_map, ARRAY_SIZE(host_map), umbra, ARRAY_SIZE(umbra), 0, &map);
	expect_map(want, ARRAY_SIZE(want));
}

static void test_memmap_limit(void **state)
{
	static const struct loader_range umbra[] = {
		{ 0x200000, 0x400000 },
		{ 0x7fc00000, 0x7fe00000 },
	};
	static const uint64_t want[][3] = {
		{ 0, 0x9fc00, AV },
		{ 0x9fc00, 0xa0000, RS },
		{ 0xf0000, 0x100000, RS },
		{ 0x100000, 0x200000, AV },
		{ 0x200000, 0x400000, RS },
		{ 0x400000, 0x40000000, AV },
		{ 0x40000000, 0x7ff00000, RS }, /* above the limit, umbra, above the limit: merged */
		{ 0x7ff00000, 0x80000000, ACPI },
		{ 0xfec00000, 0xfec01000, RS },
		{ GiB(4), GiB(6), RS },
	};
	static const uint64_t want_low[][3] = {
		{ 0, 0x8000, AV },
		{ 0x8000, 0xa0000, RS }, /* RAM above the limit merged with the host's reserved entry */
	};

	(void)state;
	loader_build_memmap(host_map, ARRAY_SIZE(host_map), umbra, ARRAY_SIZE(umbra), GiB(1), &map);
	expect_map(want, ARRAY_SIZE(want));

	/* A limit on an entry edge cuts nothing. */
	loader_build_memmap(host_map, ARRAY_SIZE(host_map), NULL, 0, GiB(4), &map);
	assert_int_equal(map.n, 7);
	assert_int_equal(map.e[6].type, RS);
	assert_int_equal(map.e[3].type, AV);

	loader_build_memmap(host_map, 2, NULL, 0, 0x8000, &map);
	expect_map(want_low, ARRAY_SIZE(want_low));
}

/* Adjacent host entries of one type merge; different types do not. */
static void test_memmap_merge(void **state)
{
	static const struct mb2_mmap_entry host[] = {
		{ 0, 0x1000, AV },
		{ 0x1000, 0x1000, AV },
		{ 0x2000, 0x1000, RS },
		{ 0x3000, 0x1000, RS },
		{ 0x4000, 0x1000, ACPI },
		{ 0x5000, 0x1000, MB2_MEM_NVS },
		{ 0x7000, 0x1000, AV }, /* a gap before it: no merge */
		{ 0x8000, 0x1000, AV },
	};
	static const uint64_t want[][3] = {
		{ 0, 0x2000, AV },
		{ 0x2000, 0x4000, RS },
		{ 0x4000, 0x5000, ACPI },
		{ 0x5000, 0x6000, MB2_MEM_NVS },
		{ 0x7000, 0x9000, AV },
	};

	(void)state;
	loader_build_memmap(host, ARRAY_SIZE(host), NULL, 0, 0, &map);
	expect_map(want, ARRAY_SIZE(want));
}

/* Two umbra ranges inside one entry, given out of order. */
static void test_memmap_umbra_unsorted(void **state)
{
	static const struct mb2_mmap_entry host[] = { { 0x100000, 0xf00000, AV } };
	static const struct loader_range umbra[] = {
		{ 0x800000, 0x900000 },
		{ 0x200000, 0x300000 },
		{ 0x300000, 0x380000 }, /* adjacent to the previous one */
	};
	static const uint64_t want[][3] = {
		{ 0x100000, 0x200000, AV },
		{ 0x200000, 0x380000, RS },
		{ 0x380000, 0x800000, AV },
		{ 0x800000, 0x900000, RS },
		{ 0x900000, 0x1000000, AV },
	};

	(void)state;
	loader_build_memmap(host, ARRAY_SIZE(host), umbra, ARRAY_SIZE(umbra), 0, &map);
	expect_map(want, ARRAY_SIZE(want));
}

/*
 * Any number of umbra ranges cuts available entries (an early version only
 * looked at the first 8, leaving a ninth range available to the guest).
 */
static void test_memmap_many_umbra_ranges(void **state)
{
	static const struct mb2_mmap_entry host[] = { { 0, MiB(64), AV } };
	struct loader_range umbra[10];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(umbra); i++)
		umbra[i] = (struct loader_range){ MiB(2 + 4 * i), MiB(3 + 4 * i) };
	loader_build_memmap(host, ARRAY_SIZE(host), umbra, ARRAY_SIZE(umbra), 0, &map);
	for (size_t i = 0; i < ARRAY_SIZE(umbra); i++)
		if (loader_range_is_ram(&map, umbra[i].base, umbra[i].base + 0x1000))
			fail_msg("BUG: umbra range %zu [%#lx-%#lx) is available RAM in the guest map", i,
				 umbra[i].base, umbra[i].end);
}

/* More pieces than the map holds: truncated, never written past its end. */
static void test_memmap_truncated(void **state)
{
	static struct mb2_mmap_entry host[300];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(host); i++)
		host[i] = (struct mb2_mmap_entry){ 0x1000 * i, 0x1000, i % 2 ? RS : AV };
	loader_build_memmap(host, ARRAY_SIZE(host), NULL, 0, 0, &map);
	assert_true(map.truncated);
	assert_int_equal(map.n, ARRAY_SIZE(map.e));
	for (size_t i = 0; i < map.n; i++) {
		assert_int_equal(map.e[i].base, 0x1000 * i);
		assert_int_equal(map.e[i].type, i % 2 ? RS : AV);
	}
}

/* ---- loader_range_is_ram and loader_check_placement ------------------------------------ */

static void set_map(const struct mb2_mmap_entry *e, size_t n)
{
	memset(&map, 0, sizeof(map));
	memcpy(map.e, e, n * sizeof(*e));
	map.n = n;
}

static void test_range_is_ram(void **state)
{
	/* Not merged and not sorted, as a hand-made map may be. */
	static const struct mb2_mmap_entry e[] = {
		{ 0x200000, 0x100000, AV },
		{ 0x100000, 0x100000, AV },
		{ 0x300000, 0x100000, RS },
		{ 0x500000, 0x100000, AV },
		{ 0x600000, 0x100000, ACPI },
	};

	(void)state;
	set_map(e, ARRAY_SIZE(e));
	assert_true(loader_range_is_ram(&map, 0x100000, 0x300000));
	assert_true(loader_range_is_ram(&map, 0x180000, 0x280000));
	assert_true(loader_range_is_ram(&map, 0x1ff000, 0x201000));
	assert_true(loader_range_is_ram(&map, 0x500000, 0x600000));
	assert_true(loader_range_is_ram(&map, 0x123000, 0x123000)); /* empty */
	assert_false(loader_range_is_ram(&map, 0x0ff000, 0x101000)); /* starts in a hole */
	assert_false(loader_range_is_ram(&map, 0x2ff000, 0x301000)); /* runs into reserved */
	assert_false(loader_range_is_ram(&map, 0x300000, 0x301000));
	assert_false(loader_range_is_ram(&map, 0x400000, 0x401000)); /* a hole */
	assert_false(loader_range_is_ram(&map, 0x100000, 0x600000)); /* across reserved and a hole */
	assert_false(loader_range_is_ram(&map, 0x5ff000, 0x601000)); /* runs into ACPI */
	assert_false(loader_range_is_ram(&map, 0x600000, 0x601000));
	assert_false(loader_range_is_ram(&map, GiB(8), GiB(8) + 1));

	set_map(e, 0);
	assert_false(loader_range_is_ram(&map, 0, 1));
}

static void test_check_placement(void **state)
{
	static const struct mb2_mmap_entry e[] = {
		{ 0, 0x9f000, AV },
		{ 0x100000, 0x100000, AV },
		{ 0x200000, 0x200000, RS },
		{ 0x400000, 0xc00000, AV },
	};
	static const struct loader_range busy[] = {
		{ 0x800000, 0x900000 },
		{ 0x90000, 0x9f000 },
	};
	struct loader_image im = { .nsegs = 2 };

	(void)state;
	set_map(e, ARRAY_SIZE(e));
	im.segs[0] = (struct loader_segment){ 0x100000, 0x1000, 0x1000, 0x80000 };
	im.segs[1] = (struct loader_segment){ 0x400000, 0x2000, 0x1000, 0x400000 }; /* ends at busy[0] */
	assert_true(loader_check_placement(&im, &map, busy, ARRAY_SIZE(busy), err, sizeof(err)));
	assert_true(loader_check_placement(&im, &map, NULL, 0, err, sizeof(err)));

	/* Into reserved memory. */
	im.segs[1].paddr = 0x1ff000;
	im.segs[1].memsz = 0x2000;
	assert_false(loader_check_placement(&im, &map, busy, ARRAY_SIZE(busy), err, sizeof(err)));
	assert_non_null(strstr(err, "not in the guest's RAM"));

	/* Into a hole. */
	im.segs[1].paddr = 0x9e000;
	assert_false(loader_check_placement(&im, &map, NULL, 0, err, sizeof(err)));
	assert_non_null(strstr(err, "[0x9e000-0xa0000)"));

	/* Over a busy range, by one byte at either end. */
	im.segs[1].paddr = 0x7ff000;
	im.segs[1].memsz = 0x1001;
	assert_false(loader_check_placement(&im, &map, busy, ARRAY_SIZE(busy), err, sizeof(err)));
	assert_non_null(strstr(err, "overlaps [0x800000-0x900000)"));
	im.segs[1].paddr = 0x8fffff;
	im.segs[1].memsz = 0x1000;
	assert_false(loader_check_placement(&im, &map, busy, ARRAY_SIZE(busy), err, sizeof(err)));
	im.segs[1].paddr = 0x900000;
	assert_true(loader_check_placement(&im, &map, busy, ARRAY_SIZE(busy), err, sizeof(err)));

	/* The first segment against the second busy range. */
	im.segs[0].paddr = 0x90000;
	im.segs[0].memsz = 0x100;
	assert_false(loader_check_placement(&im, &map, busy, ARRAY_SIZE(busy), err, sizeof(err)));
	assert_non_null(strstr(err, "overlaps [0x90000-0x9f000)"));
}

/* ---- loader_build_info ------------------------------------------------------------------ */

#define BUF_PA 0x10000u

static const struct mb2_mmap_entry info_host[] = {
	{ 0, 0x9fc00, AV },
	{ 0x9fc00, 0x400, RS },
	{ 0xe0000, 0x20000, RS },
	{ 0x100000, 0x7fe00000, AV },
	{ 0x7ff00000, 0x100000, ACPI },
	{ GiB(4), GiB(1), AV },
};

static const struct loader_range info_umbra[] = { { 0x1000000, 0x2000000 } };

static const struct loader_module info_mods[] = {
	{ 0x3000000, 0x3001234, "initrd quiet" },
	{ 0x3002000, 0x3002000, NULL },
	{ 0x3003000, 0x3004000, "third" },
};

static uint8_t rsdp[36];

static struct loader_boot_info info_bi(size_t nmods)
{
	loader_build_memmap(info_host, ARRAY_SIZE(info_host), info_umbra, ARRAY_SIZE(info_umbra), 0, &map);
	for (size_t i = 0; i < sizeof(rsdp); i++)
		rsdp[i] = (uint8_t)(0x40 + i);
	return (struct loader_boot_info){
		.cmdline = "console=ttyS0 root=/dev/sda",
		.bootloader = "umbra test",
		.map = &map,
		.modules = info_mods,
		.nmodules = nmods,
		.rsdp = rsdp,
		.rsdp_len = sizeof(rsdp),
		.rsdp_tag = 15,
	};
}

/* Build into a buffer of exactly size bytes (ASan catches writes past it); returns the copy. */
static size_t build(enum loader_kind kind, const struct loader_boot_info *bi, size_t size, uint8_t *out)
{
	uint8_t *buf = malloc(size ? size : 1);
	size_t n;

	assert_non_null(buf);
	n = loader_build_info(kind, bi, buf, size, BUF_PA);
	assert_true(n <= size);
	if (out)
		memcpy(out, buf, n);
	free(buf);
	return n;
}

static void test_info_mb2(void **state)
{
	static uint8_t buf[8192] __aligned(8);
	static struct mb2_info mi;
	struct loader_boot_info bi = info_bi(3);
	size_t n;

	(void)state;
	n = build(LOADER_MULTIBOOT2, &bi, sizeof(buf), buf);
	assert_true(n > 0);
	assert_int_equal(n % 8, 0);
	assert_int_equal(get32(buf), n);
	assert_int_equal(get32(buf + 4), 0);
	assert_int_equal(mb2_parse(MB2_BOOTLOADER_MAGIC, buf, n, &mi), MB2_OK);
	assert_int_equal(mi.total_size, n);
	assert_string_equal(mi.cmdline, bi.cmdline);
	assert_string_equal(mi.bootloader, "umbra test");

	assert_int_equal(mi.module_count, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(mi.modules[i].start, info_mods[i].start);
		assert_int_equal(mi.modules[i].end, info_mods[i].end);
		assert_string_equal(mi.modules[i].cmdline, info_mods[i].cmdline ? info_mods[i].cmdline : "");
	}

	assert_int_equal(mi.mmap_count, map.n);
	assert_int_equal(map.n, 8);
	for (size_t i = 0; i < map.n; i++) {
		assert_int_equal(mi.mmap[i].base, map.e[i].base);
		assert_int_equal(mi.mmap[i].length, map.e[i].length);
		assert_int_equal(mi.mmap[i].type, map.e[i].type);
	}

	/* RAM at 0 to 639 KiB; from 1 MiB to umbra at 16 MiB. */
	assert_true(mi.has_basic_meminfo);
	assert_int_equal(mi.mem_lower_kb, 639);
	assert_int_equal(mi.mem_upper_kb, 15 * 1024);

	assert_int_equal(mi.rsdp_tag, 15);
	assert_int_equal(mi.rsdp_len, sizeof(rsdp));
	assert_memory_equal(mi.rsdp, rsdp, sizeof(rsdp));

	assert_false(mi.has_framebuffer);
	assert_false(mi.efi_boot_services_active);
}

/* No modules, no RSDP, NULL strings; the old RSDP tag. */
static void test_info_mb2_minimal(void **state)
{
	static uint8_t buf[4096] __aligned(8);
	static struct mb2_info mi;
	struct loader_boot_info bi = info_bi(0);
	size_t n;

	(void)state;
	bi.cmdline = NULL;
	bi.bootloader = NULL;
	bi.rsdp = NULL;
	n = build(LOADER_MULTIBOOT2, &bi, sizeof(buf), buf);
	assert_true(n > 0);
	assert_int_equal(mb2_parse(MB2_BOOTLOADER_MAGIC, buf, n, &mi), MB2_OK);
	assert_string_equal(mi.cmdline, "");
	assert_string_equal(mi.bootloader, "");
	assert_int_equal(mi.module_count, 0);
	assert_null(mi.rsdp);

	bi = info_bi(0);
	bi.rsdp_len = 20;
	bi.rsdp_tag = 14;
	n = build(LOADER_MULTIBOOT2, &bi, sizeof(buf), buf);
	assert_int_equal(mb2_parse(MB2_BOOTLOADER_MAGIC, buf, n, &mi), MB2_OK);
	assert_int_equal(mi.rsdp_tag, 14);
	assert_int_equal(mi.rsdp_len, 20);
	assert_memory_equal(mi.rsdp, rsdp, 20);
}

/* Offset of a guest-physical address inside the buffer, checked to point inside [0, n). */
static size_t off_of(uint32_t pa, size_t n)
{
	assert_true(pa >= BUF_PA);
	assert_true(pa - BUF_PA < n);
	return pa - BUF_PA;
}

static void test_info_mb1(void **state)
{
	static uint8_t buf[8192] __aligned(8);
	struct loader_boot_info bi = info_bi(3);
	uint32_t flags;
	size_t n, o;

	(void)state;
	n = build(LOADER_MULTIBOOT1, &bi, sizeof(buf), buf);
	assert_true(n >= 88);
	flags = get32(buf);
	assert_int_equal(flags, BIT(0) | BIT(2) | BIT(3) | BIT(6) | BIT(9));
	assert_int_equal(get32(buf + 4), 639);        /* mem_lower */
	assert_int_equal(get32(buf + 8), 15 * 1024);  /* mem_upper */
	assert_int_equal(get32(buf + 12), 0);         /* boot_device: not set */

	o = off_of(get32(buf + 16), n);               /* cmdline */
	assert_string_equal((char *)buf + o, bi.cmdline);
	assert_true(o + strlen(bi.cmdline) < n);
	o = off_of(get32(buf + 64), n);               /* boot_loader_name */
	assert_string_equal((char *)buf + o, "umbra test");

	assert_int_equal(get32(buf + 20), 3);         /* mods_count */
	o = off_of(get32(buf + 24), n);               /* mods_addr */
	assert_int_equal(o % 4, 0);
	assert_true(o + 16 * 3 <= n);
	for (size_t i = 0; i < 3; i++) {
		const uint8_t *m = buf + o + 16 * i;

		assert_int_equal(get32(m), info_mods[i].start);
		assert_int_equal(get32(m + 4), info_mods[i].end);
		assert_string_equal((char *)buf + off_of(get32(m + 8), n),
				    info_mods[i].cmdline ? info_mods[i].cmdline : "");
		assert_int_equal(get32(m + 12), 0);
	}

	assert_int_equal(get32(buf + 44), 24 * map.n); /* mmap_length */
	o = off_of(get32(buf + 48), n);                /* mmap_addr */
	assert_true(o + 24 * map.n <= n);
	for (size_t i = 0; i < map.n; i++) {
		const uint8_t *e = buf + o + 24 * i;

		assert_int_equal(get32(e), 20);
		assert_int_equal(get64(e + 4), map.e[i].base);
		assert_int_equal(get64(e + 12), map.e[i].length);
		assert_int_equal(get32(e + 20), map.e[i].type);
	}

	/* Fields umbra does not provide stay zero. */
	for (size_t f = 28; f < 44; f += 4)
		assert_int_equal(get32(buf + f), 0);
	for (size_t f = 52; f < 64; f += 4)
		assert_int_equal(get32(buf + f), 0);
	for (size_t f = 68; f < 88; f += 4)
		assert_int_equal(get32(buf + f), 0);
}

static void test_info_mb1_no_modules(void **state)
{
	static uint8_t buf[4096] __aligned(8);
	struct loader_boot_info bi = info_bi(0);
	size_t n;

	(void)state;
	bi.cmdline = NULL;
	n = build(LOADER_MULTIBOOT1, &bi, sizeof(buf), buf);
	assert_true(n > 0);
	assert_int_equal(get32(buf), BIT(0) | BIT(2) | BIT(6) | BIT(9));
	assert_int_equal(get32(buf + 20), 0);
	assert_int_equal(get32(buf + 24), 0);
	assert_string_equal((char *)buf + off_of(get32(buf + 16), n), "");
}

/* Without low RAM, mem_lower is 0; RAM above 4 GiB does not count in mem_upper. */
static void test_info_meminfo_edges(void **state)
{
	static const struct mb2_mmap_entry host[] = {
		{ 0, 0x1000, RS },
		{ 0x1000, 0x9e000, AV },
		{ 0x100000, GiB(5), AV },
	};
	static uint8_t buf[4096] __aligned(8);
	struct loader_boot_info bi = { .map = &map };
	size_t n;

	(void)state;
	loader_build_memmap(host, ARRAY_SIZE(host), NULL, 0, 0, &map);
	n = build(LOADER_MULTIBOOT1, &bi, sizeof(buf), buf);
	assert_true(n > 0);
	assert_int_equal(get32(buf + 4), 0);
	assert_int_equal(get32(buf + 8), (uint32_t)((GiB(4) - MiB(1)) >> 10));
}

/* Every buffer too small gives 0, with no write outside it. */
static void test_info_too_small(void **state)
{
	struct loader_boot_info bi = info_bi(3);
	size_t need1, need2;

	(void)state;
	need2 = build(LOADER_MULTIBOOT2, &bi, 8192, NULL);
	need1 = build(LOADER_MULTIBOOT1, &bi, 8192, NULL);
	assert_true(need2 > 0 && need1 > 0);
	assert_int_equal(build(LOADER_MULTIBOOT2, &bi, need2, NULL), need2);
	assert_int_equal(build(LOADER_MULTIBOOT1, &bi, need1, NULL), need1);
	for (size_t s = 0; s < need2; s++)
		assert_int_equal(build(LOADER_MULTIBOOT2, &bi, s, NULL), 0);
	for (size_t s = 0; s < need1; s++)
		assert_int_equal(build(LOADER_MULTIBOOT1, &bi, s, NULL), 0);
}

/* ---- boot data survives the kernel's segments (issue 9 item 14) ------------------- */

/* A slice of "physical memory" for loader_copy: [ARENA_PA, ARENA_PA + sizeof(arena)). */
#define ARENA_PA 0x100000
static uint8_t arena[KiB(256)] __aligned(8);

static void *arena_phys(uint64_t pa, uint64_t len)
{
	if (pa < ARENA_PA || len > sizeof(arena) || pa - ARENA_PA > sizeof(arena) - len)
		return NULL;
	return arena + (pa - ARENA_PA);
}

/*
 * GRUB's info block at 1 MiB + 16 KiB, a kernel segment loaded over it:
 * the L1 command line, the module command lines and the RSDP handed to L1
 * must be the ones GRUB gave, not what the segment wrote there.
 */
static void test_copy_over_boot_info(void **state)
{
	static struct mb2_info grub, l1;
	static uint8_t out[8192] __aligned(8);
	const uint64_t info_pa = ARENA_PA + KiB(16);
	struct loader_boot_info bi = info_bi(3), l1_bi;
	struct loader_module mods[2];
	size_t n;

	(void)state;
	memset(arena, 0, sizeof(arena));
	n = loader_build_info(LOADER_MULTIBOOT2, &bi, arena_phys(info_pa, 8192), 8192, (uint32_t)info_pa);
	assert_true(n > 0);
	assert_int_equal(mb2_parse(MB2_BOOTLOADER_MAGIC, arena_phys(info_pa, n), n, &grub), MB2_OK);

	/* One segment from 1 MiB to 1 MiB + 64 KiB: file bytes 0xab, then bss. */
	elf_init(true, ARENA_PA, 0x1000 + KiB(40));
	add_load(0x1000, ARENA_PA, KiB(40), KiB(64));
	put_mb2_plain(0x1000);
	memset(img.b + 0x1000 + 0x100, 0xab, KiB(40) - 0x100);
	expect_ok();
	assert_true(li.load_start <= info_pa && li.load_end >= info_pa + n);
	assert_true(loader_copy(&li, img.b, arena_phys));
	assert_int_equal(*(uint8_t *)arena_phys(info_pa, 1), 0xab); /* GRUB's info is gone */

	for (size_t i = 0; i < 2; i++)
		mods[i] = (struct loader_module){ grub.modules[i + 1].start, grub.modules[i + 1].end,
						  grub.modules[i + 1].cmdline };
	l1_bi = (struct loader_boot_info){
		.cmdline = grub.modules[0].cmdline,
		.bootloader = "umbra test",
		.map = &map,
		.modules = mods,
		.nmodules = 2,
		.rsdp = grub.rsdp,
		.rsdp_len = grub.rsdp_len,
		.rsdp_tag = grub.rsdp_tag,
	};
	n = build(LOADER_MULTIBOOT2, &l1_bi, sizeof(out), out);
	assert_true(n > 0);
	assert_int_equal(mb2_parse(MB2_BOOTLOADER_MAGIC, out, n, &l1), MB2_OK);
	assert_string_equal(l1.cmdline, info_mods[0].cmdline ? info_mods[0].cmdline : "");
	for (size_t i = 0; i < 2; i++)
		assert_string_equal(l1.modules[i].cmdline,
				    info_mods[i + 1].cmdline ? info_mods[i + 1].cmdline : "");
	assert_int_equal(l1.rsdp_len, sizeof(rsdp));
	assert_memory_equal(l1.rsdp, rsdp, sizeof(rsdp));
}

/* A segment phys() cannot reach stops the copy. */
static void test_copy_unreachable(void **state)
{
	(void)state;
	std_elf(true, 0x100000);
	put_mb2_plain(0x1000);
	expect_ok();
	li.segs[1].paddr = ARENA_PA + sizeof(arena) - 0x1000; /* runs past the arena */
	assert_false(loader_copy(&li, img.b, arena_phys));
}

/* loader_find_free: highest fit, aligned, clear of busy ranges and umbra. */
static void test_find_free(void **state)
{
	static const struct mb2_mmap_entry host[] = {
		{ 0, 0x9f000, MB2_MEM_AVAILABLE },
		{ 0x100000, MiB(63), MB2_MEM_AVAILABLE },
	};
	static const struct loader_range um[] = { { MiB(48), MiB(64) } };
	struct loader_range busy[] = { { MiB(46), MiB(47) + 5 }, { MiB(1), MiB(8) } };
	struct guest_memmap m;
	uint64_t at;

	(void)state;
	loader_build_memmap(host, 2, um, 1, 0, &m);
	assert_true(loader_find_free(&m, NULL, 0, MiB(1), 0x1000, UINT64_MAX, &at));
	assert_int_equal(at, MiB(47));
	/* A busy range just below the top pushes it under the busy range. */
	assert_true(loader_find_free(&m, busy, 1, MiB(1) + 0x1000, 0x1000, UINT64_MAX, &at));
	assert_int_equal(at, MiB(45) - 0x1000);
	assert_true(loader_find_free(&m, busy, 2, MiB(2), MiB(2), MiB(20), &at));
	assert_int_equal(at, MiB(18));
	/* Nothing fits. */
	assert_false(loader_find_free(&m, busy, 2, MiB(40), 0x1000, UINT64_MAX, &at));
	assert_false(loader_find_free(&m, busy, 2, MiB(1), 3, UINT64_MAX, &at));
	/* Low memory when that is all there is. */
	assert_true(loader_find_free(&m, busy, 2, 0x10000, 0x1000, MiB(1), &at));
	assert_int_equal(at, 0x8f000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_elf32_mb1),
		cmocka_unit_test(test_parse_elf64_mb2),
		cmocka_unit_test(test_parse_load_bounds),
		cmocka_unit_test(test_parse_mb2_entry_tag),
		cmocka_unit_test(test_parse_mb2_ignored_tags),
		cmocka_unit_test(test_parse_mb2_preferred),
		cmocka_unit_test(test_parse_search_window),
		cmocka_unit_test(test_parse_no_header),
		cmocka_unit_test(test_parse_bad_checksum),
		cmocka_unit_test(test_parse_mb2_misaligned),
		cmocka_unit_test(test_parse_mb2_arch),
		cmocka_unit_test(test_parse_mb2_info_request),
		cmocka_unit_test(test_parse_mb2_framebuffer),
		cmocka_unit_test(test_parse_mb2_bad_lengths),
		cmocka_unit_test(test_parse_mb1_flags),
		cmocka_unit_test(test_parse_not_elf),
		cmocka_unit_test(test_parse_big_endian),
		cmocka_unit_test(test_parse_bad_class),
		cmocka_unit_test(test_parse_wrong_machine),
		cmocka_unit_test(test_parse_not_exec),
		cmocka_unit_test(test_parse_phdr_bounds),
		cmocka_unit_test(test_parse_segment_bounds),
		cmocka_unit_test(test_parse_above_4g),
		cmocka_unit_test(test_parse_max_segments),
		cmocka_unit_test(test_parse_truncated),
		cmocka_unit_test(test_parse_every_prefix),
		cmocka_unit_test(test_parse_err_len),
		cmocka_unit_test(test_memmap_passthrough),
		cmocka_unit_test(test_memmap_umbra),
		cmocka_unit_test(test_memmap_umbra_edges),
		cmocka_unit_test(test_memmap_limit),
		cmocka_unit_test(test_memmap_merge),
		cmocka_unit_test(test_memmap_umbra_unsorted),
		cmocka_unit_test(test_memmap_many_umbra_ranges),
		cmocka_unit_test(test_memmap_truncated),
		cmocka_unit_test(test_range_is_ram),
		cmocka_unit_test(test_check_placement),
		cmocka_unit_test(test_info_mb2),
		cmocka_unit_test(test_info_mb2_minimal),
		cmocka_unit_test(test_info_mb1),
		cmocka_unit_test(test_info_mb1_no_modules),
		cmocka_unit_test(test_info_meminfo_edges),
		cmocka_unit_test(test_info_too_small),
		cmocka_unit_test(test_copy_over_boot_info),
		cmocka_unit_test(test_copy_unreachable),
		cmocka_unit_test(test_find_free),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
