/* SPDX-License-Identifier: BSD-2-Clause */
/* Host tests for the multiboot2 info parser: good, odd and broken structures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/mb2.h"

/* Builds an info structure the way a boot loader lays it out (spec 3.6.2). */
struct builder {
	uint8_t buf[16384] __aligned(8);
	size_t len;
};

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static void b_init(struct builder *b)
{
	memset(b->buf, 0, sizeof(b->buf));
	b->len = 8;
}

/* Append a tag with the given payload; returns the payload. size is 8 + len. */
static uint8_t *b_tag(struct builder *b, uint32_t type, const void *payload, size_t len)
{
	uint8_t *t = b->buf + b->len;

	assert_true(b->len + 8 + len + 8 <= sizeof(b->buf));
	put32(t, type);
	put32(t + 4, (uint32_t)(8 + len));
	if (payload)
		memcpy(t + 8, payload, len);
	b->len += ALIGN_UP(8 + len, 8);
	return t + 8;
}

static void b_string(struct builder *b, uint32_t type, const char *s)
{
	b_tag(b, type, s, strlen(s) + 1);
}

/* Finish with the end tag and set total_size. */
static size_t b_end(struct builder *b)
{
	b_tag(b, 0, NULL, 0);
	put32(b->buf, (uint32_t)b->len);
	return b->len;
}

/*
 * Parse from an exactly-sized heap copy so that ASan catches any read past
 * max_len. The copy is returned for the caller to free after checking the
 * pointers that point into it.
 */
static enum mb2_error parse_copy(const void *src, size_t len, struct mb2_info *out, void **copy)
{
	void *p = malloc(len ? len : 1);

	assert_non_null(p);
	memcpy(p, src, len);
	*copy = p;
	return mb2_parse(MB2_BOOTLOADER_MAGIC, p, len, out);
}

static struct mb2_info info;

static enum mb2_error parse_b(struct builder *b)
{
	void *copy;
	enum mb2_error err = parse_copy(b->buf, b->len, &info, &copy);

	free(copy);
	return err;
}

static void add_mmap(struct builder *b, uint32_t entry_size, size_t n)
{
	uint8_t payload[8 + 200 * 40] = { 0 };
	size_t i;

	assert_true(n <= 200 && entry_size <= 40);
	put32(payload, entry_size);
	put32(payload + 4, 0);
	for (i = 0; i < n; i++) {
		uint8_t *e = payload + 8 + i * entry_size;

		put64(e, 0x100000ull * i);
		put64(e + 8, 0x1000ull * (i + 1));
		put32(e + 16, (uint32_t)(i % 5) + 1);
	}
	b_tag(b, 6, payload, 8 + n * entry_size);
}

static void add_module(struct builder *b, uint32_t start, uint32_t end, const char *cmd)
{
	uint8_t payload[64] = { 0 };

	put32(payload, start);
	put32(payload + 4, end);
	strcpy((char *)payload + 8, cmd);
	b_tag(b, 3, payload, 8 + strlen(cmd) + 1);
}

static void add_rsdp(struct builder *b, uint32_t type, size_t len, uint8_t marker)
{
	uint8_t rsdp[64];

	memset(rsdp, marker, sizeof(rsdp));
	memcpy(rsdp, "RSD PTR ", 8);
	b_tag(b, type, rsdp, len);
}

/* A structure with every tag the parser knows, plus an unknown one. */
static void build_full(struct builder *b)
{
	uint8_t p[32] = { 0 };

	b_init(b);
	b_string(b, 1, "log=debug serial=com2");
	b_string(b, 2, "GRUB 2.06");
	put32(p, 639);
	put32(p + 4, 523264);
	b_tag(b, 4, p, 8);
	add_mmap(b, 24, 3);
	add_module(b, 0x200000, 0x300000, "guest.elf arg");
	add_module(b, 0x300000, 0x300000, "");
	memset(p, 0, sizeof(p));
	put64(p, 0xfd000000ull);
	put32(p + 8, 4096);
	put32(p + 12, 1024);
	put32(p + 16, 768);
	p[20] = 32;
	p[21] = 1;
	b_tag(b, 8, p, 24); /* common part plus a little colour info */
	put32(p, 0x7fe00000);
	b_tag(b, 11, p, 4);
	put64(p, 0x7fe01000ull);
	b_tag(b, 12, p, 8);
	add_rsdp(b, 14, 20, 0x11);
	add_rsdp(b, 15, 36, 0x22);
	b_tag(b, 99, "junk", 4); /* unknown tags are skipped */
	put32(p, 48);
	put32(p + 4, 1);
	b_tag(b, 17, p, 8);
	b_tag(b, 18, NULL, 0);
	put32(p, 0x1000000);
	b_tag(b, 21, p, 4);
	b_end(b);
}

static void test_full(void **state)
{
	struct builder *b = malloc(sizeof(*b));
	void *copy;
	const uint8_t *rsdp;

	(void)state;
	build_full(b);
	assert_int_equal(parse_copy(b->buf, b->len, &info, &copy), MB2_OK);
	assert_int_equal(info.total_size, b->len);
	assert_string_equal(info.cmdline, "log=debug serial=com2");
	assert_string_equal(info.bootloader, "GRUB 2.06");
	assert_true(info.has_basic_meminfo);
	assert_int_equal(info.mem_lower_kb, 639);
	assert_int_equal(info.mem_upper_kb, 523264);

	assert_int_equal(info.mmap_count, 3);
	assert_false(info.mmap_truncated);
	assert_int_equal(info.mmap[2].base, 0x200000);
	assert_int_equal(info.mmap[2].length, 0x3000);
	assert_int_equal(info.mmap[2].type, 3);
	assert_string_equal(mb2_mem_type_name(info.mmap[0].type), "available");

	assert_int_equal(info.module_count, 2);
	assert_int_equal(info.modules[0].start, 0x200000);
	assert_int_equal(info.modules[0].end, 0x300000);
	assert_string_equal(info.modules[0].cmdline, "guest.elf arg");
	assert_string_equal(info.modules[1].cmdline, "");

	assert_true(info.has_framebuffer);
	assert_int_equal(info.fb_addr, 0xfd000000ull);
	assert_int_equal(info.fb_pitch, 4096);
	assert_int_equal(info.fb_width, 1024);
	assert_int_equal(info.fb_height, 768);
	assert_int_equal(info.fb_bpp, 32);
	assert_int_equal(info.fb_type, 1);

	assert_true(info.has_efi32);
	assert_int_equal(info.efi32_system_table, 0x7fe00000);
	assert_true(info.has_efi64);
	assert_int_equal(info.efi64_system_table, 0x7fe01000ull);
	assert_true(info.has_efi_mmap);
	assert_true(info.efi_boot_services_active);
	assert_true(info.has_load_base);
	assert_int_equal(info.load_base_addr, 0x1000000);

	/* The ACPI 2.0 RSDP wins over the 1.0 one. */
	assert_int_equal(info.rsdp_tag, 15);
	assert_int_equal(info.rsdp_len, 36);
	rsdp = info.rsdp;
	assert_memory_equal(rsdp, "RSD PTR ", 8);
	assert_int_equal(rsdp[8], 0x22);
	/* A copy outside the info structure, which may be overwritten once parsed. */
	assert_true(rsdp + 36 <= (const uint8_t *)copy || rsdp >= (const uint8_t *)copy + b->len);
	memset(copy, 0xcc, b->len);
	assert_int_equal(rsdp[8], 0x22);
	assert_string_equal(info.cmdline, "log=debug serial=com2");
	assert_string_equal(info.modules[0].cmdline, "guest.elf arg");
	free(copy);
	free(b);
}

static void test_minimal(void **state)
{
	struct builder b;

	(void)state;
	b_init(&b);
	b_end(&b);
	assert_int_equal(b.len, 16);
	assert_int_equal(parse_b(&b), MB2_OK);
	assert_null(info.cmdline);
	assert_null(info.bootloader);
	assert_null(info.rsdp);
	assert_int_equal(info.mmap_count, 0);
	assert_int_equal(info.module_count, 0);
	assert_false(info.has_framebuffer);
}

/* The new RSDP wins whichever order the tags come in. */
static void test_rsdp_order(void **state)
{
	struct builder b;

	(void)state;
	b_init(&b);
	add_rsdp(&b, 15, 36, 0x22);
	add_rsdp(&b, 14, 20, 0x11);
	b_end(&b);
	assert_int_equal(parse_b(&b), MB2_OK);
	assert_int_equal(info.rsdp_tag, 15);
	assert_int_equal(info.rsdp_len, 36);

	b_init(&b);
	add_rsdp(&b, 14, 24, 0x11);
	b_end(&b);
	assert_int_equal(parse_b(&b), MB2_OK);
	assert_int_equal(info.rsdp_tag, 14);
	assert_int_equal(info.rsdp_len, 24);
}

static void test_rsdp_short(void **state)
{
	struct builder b;

	(void)state;
	b_init(&b);
	add_rsdp(&b, 14, 19, 0);
	b_end(&b);
	assert_int_equal(parse_b(&b), MB2_ERR_RSDP);

	b_init(&b);
	add_rsdp(&b, 15, 35, 0);
	b_end(&b);
	assert_int_equal(parse_b(&b), MB2_ERR_RSDP);

	/* A 20-byte copy is enough for ACPI 1.0 but not in the new tag. */
	b_init(&b);
	add_rsdp(&b, 15, 20, 0);
	b_end(&b);
	assert_int_equal(parse_b(&b), MB2_ERR_RSDP);
}

static void test_bad_entry(void **state)
{
	struct builder b;
	uint8_t *raw;

	(void)state;
	b_init(&b);
	b_end(&b);
	assert_int_equal(mb2_parse(0x2badb002, b.buf, b.len, &info), MB2_ERR_MAGIC);
	assert_int_equal(mb2_parse(MB2_BOOTLOADER_MAGIC, NULL, 4096, &info), MB2_ERR_NULL);

	/* Misaligned: the same bytes four bytes into an 8-aligned allocation. */
	raw = malloc(b.len + 4);
	assert_non_null(raw);
	memcpy(raw + 4, b.buf, b.len);
	assert_int_equal(mb2_parse(MB2_BOOTLOADER_MAGIC, raw + 4, b.len, &info), MB2_ERR_ALIGN);
	free(raw);
}

static void test_bad_total_size(void **state)
{
	struct builder b;
	void *copy;
	size_t len;

	(void)state;
	b_init(&b);
	len = b_end(&b);

	/* Too short to even read total_size, or to hold an end tag. */
	assert_int_equal(parse_copy(b.buf, 0, &info, &copy), MB2_ERR_SIZE);
	free(copy);
	assert_int_equal(parse_copy(b.buf, 7, &info, &copy), MB2_ERR_SIZE);
	free(copy);
	assert_int_equal(parse_copy(b.buf, 15, &info, &copy), MB2_ERR_SIZE);
	free(copy);

	put32(b.buf, 8);
	assert_int_equal(parse_copy(b.buf, len, &info, &copy), MB2_ERR_SIZE);
	free(copy);

	/* total_size larger than what the caller can read. */
	put32(b.buf, 4096);
	assert_int_equal(parse_copy(b.buf, len, &info, &copy), MB2_ERR_SIZE);
	free(copy);
	put32(b.buf, 0xffffffff);
	assert_int_equal(parse_copy(b.buf, len, &info, &copy), MB2_ERR_SIZE);
	free(copy);
}

/* The caller can read fewer bytes than total_size says. */
static void test_truncated(void **state)
{
	struct builder *b = malloc(sizeof(*b));
	size_t n;

	(void)state;
	build_full(b);
	for (n = 0; n < b->len; n++) {
		void *copy;

		assert_int_equal(parse_copy(b->buf, n, &info, &copy), MB2_ERR_SIZE);
		free(copy);
	}
	free(b);
}

/*
 * total_size itself cut short at every possible point: the parser must
 * stop with an error and never read beyond total_size (ASan checks).
 */
static void test_total_size_cut(void **state)
{
	struct builder *b = malloc(sizeof(*b));
	size_t n, full;

	(void)state;
	build_full(b);
	full = b->len;
	for (n = 16; n < full; n++) {
		void *copy;
		enum mb2_error err;

		put32(b->buf, (uint32_t)n);
		err = parse_copy(b->buf, n, &info, &copy);
		free(copy);
		assert_int_not_equal(err, MB2_OK);
		assert_true(err == MB2_ERR_TAG_SIZE || err == MB2_ERR_NO_END);
	}
	free(b);
}

static void test_tag_size_past_total(void **state)
{
	struct builder b;
	uint8_t *t;

	(void)state;
	b_init(&b);
	t = b_tag(&b, 4, "12345678", 8) - 8;
	b_end(&b);
	put32(t + 4, (uint32_t)b.len); /* runs past total_size */
	assert_int_equal(parse_b(&b), MB2_ERR_TAG_SIZE);
	put32(t + 4, 0xfffffff8);
	assert_int_equal(parse_b(&b), MB2_ERR_TAG_SIZE);
	put32(t + 4, 4); /* smaller than its own header */
	assert_int_equal(parse_b(&b), MB2_ERR_TAG_SIZE);
	put32(t + 4, 0);
	assert_int_equal(parse_b(&b), MB2_ERR_TAG_SIZE);

	/* The end tag's size is checked against total_size too. */
	b_init(&b);
	b_end(&b);
	put32(b.buf + 12, 16);
	assert_int_equal(parse_b(&b), MB2_ERR_TAG_SIZE);
}

static void test_missing_end(void **state)
{
	struct builder b;

	(void)state;
	/* Tags fill total_size exactly but none of them is the end tag. */
	b_init(&b);
	b_string(&b, 1, "abc");
	put32(b.buf, (uint32_t)b.len);
	assert_int_equal(parse_b(&b), MB2_ERR_NO_END);

	/* A type 0 tag with the wrong size is not an end tag. */
	b_init(&b);
	b_tag(&b, 0, "12345678", 8);
	put32(b.buf, (uint32_t)b.len);
	assert_int_equal(parse_b(&b), MB2_ERR_NO_END);

	/* Trailing bytes too few for another tag header. */
	b_init(&b);
	b_string(&b, 1, "abc");
	b.len += 4;
	put32(b.buf, (uint32_t)b.len);
	assert_int_equal(parse_b(&b), MB2_ERR_NO_END);

	/* The last tag's padding would run past total_size. */
	b_init(&b);
	b_tag(&b, 4, "12345678", 8);
	b_tag(&b, 99, "1234", 4);
	b.len -= 4;
	put32(b.buf, (uint32_t)b.len);
	assert_int_equal(parse_b(&b), MB2_ERR_NO_END);
}

/* Anything after the end tag is ignored. */
static void test_after_end(void **state)
{
	struct builder b;

	(void)state;
	b_init(&b);
	b_tag(&b, 0, NULL, 0);
	b_string(&b, 1, "ignored");
	put32(b.buf, (uint32_t)b.len);
	assert_int_equal(parse_b(&b), MB2_OK);
	assert_null(info.cmdline);
}

static void test_unterminated_strings(void **state)
{
	struct builder b;
	uint8_t payload[24] = { 0 };

	(void)state;
	b_init(&b);
	b_tag(&b, 1, "abc", 3);
	b_end(&b);
	assert_int_equal(parse_b(&b), MB2_ERR_STRING);

	b_init(&b);
	b_tag(&b, 2, NULL, 0);
	b_end(&b);
	assert_int_equal(parse_b(&b), MB2_ERR_STRING);

	/* Module strings too, including a module tag with no string at all. */
	b_init(&b);
	memcpy(payload + 8, "mod", 3);
	b_tag(&b, 3, payload, 11);
	b_end(&b);
	assert_int_equal(parse_b(&b), MB2_ERR_STRING);

	b_init(&b);
	b_tag(&b, 3, payload, 8);
	b_end(&b);
	assert_int_equal(parse_b(&b), MB2_ERR_STRING);
}

static void test_mmap_entry_size(void **state)
{
	struct builder b;

	(void)state;
	b_init(&b);
	add_mmap(&b, 16, 2);
	b_end(&b);
	assert_int_equal(parse_b(&b), MB2_ERR_MMAP);

	b_init(&b);
	add_mmap(&b, 28, 2);
	b_end(&b);
	assert_int_equal(parse_b(&b), MB2_ERR_MMAP);

	b_init(&b);
	add_mmap(&b, 0, 0);
	b_end(&b);
	assert_int_equal(parse_b(&b), MB2_ERR_MMAP);

	/* Larger entries from a future version are stepped over correctly. */
	b_init(&b);
	add_mmap(&b, 40, 4);
	b_end(&b);
	assert_int_equal(parse_b(&b), MB2_OK);
	assert_int_equal(info.mmap_count, 4);
	assert_int_equal(info.mmap[3].base, 0x300000);
	assert_int_equal(info.mmap[3].length, 0x4000);
	assert_int_equal(info.mmap[3].type, 4);
}

static void test_mmap_odd(void **state)
{
	struct builder b;
	uint8_t *t;

	(void)state;
	/* A trailing partial entry is ignored. */
	b_init(&b);
	add_mmap(&b, 24, 2);
	t = b.buf + 8;
	put32(t + 4, 8 + 8 + 24 + 20);
	b_end(&b);
	assert_int_equal(parse_b(&b), MB2_OK);
	assert_int_equal(info.mmap_count, 1);

	/* An empty map is fine. */
	b_init(&b);
	add_mmap(&b, 24, 0);
	b_end(&b);
	assert_int_equal(parse_b(&b), MB2_OK);
	assert_int_equal(info.mmap_count, 0);

	/* Shorter than entry_size and entry_version. */
	b_init(&b);
	b_tag(&b, 6, "\x18\0\0\0", 4);
	b_end(&b);
	assert_int_equal(parse_b(&b), MB2_ERR_TAG_SHORT);
}

static void test_mmap_truncated(void **state)
{
	struct builder b;

	(void)state;
	b_init(&b);
	add_mmap(&b, 24, MB2_MAX_MMAP);
	b_end(&b);
	assert_int_equal(parse_b(&b), MB2_OK);
	assert_int_equal(info.mmap_count, MB2_MAX_MMAP);
	assert_false(info.mmap_truncated);

	b_init(&b);
	add_mmap(&b, 24, MB2_MAX_MMAP + 5);
	b_string(&b, 1, "still parsed");
	b_end(&b);
	assert_int_equal(parse_b(&b), MB2_OK);
	assert_int_equal(info.mmap_count, MB2_MAX_MMAP);
	assert_true(info.mmap_truncated);
	assert_int_equal(info.mmap[MB2_MAX_MMAP - 1].base, 0x100000ull * (MB2_MAX_MMAP - 1));
	assert_non_null(info.cmdline);
}

static void test_modules(void **state)
{
	struct builder b;
	int i;

	(void)state;
	b_init(&b);
	add_module(&b, 0x300000, 0x2fffff, "backwards");
	b_end(&b);
	assert_int_equal(parse_b(&b), MB2_ERR_MODULE);

	b_init(&b);
	b_tag(&b, 3, "\0\0\0\0\0\0", 6);
	b_end(&b);
	assert_int_equal(parse_b(&b), MB2_ERR_TAG_SHORT);

	b_init(&b);
	for (i = 0; i < MB2_MAX_MODULES + 2; i++)
		add_module(&b, (uint32_t)i << 20, ((uint32_t)i << 20) + 100, "m");
	b_end(&b);
	assert_int_equal(parse_b(&b), MB2_OK);
	assert_int_equal(info.module_count, MB2_MAX_MODULES);
	assert_true(info.modules_truncated);
	assert_int_equal(info.modules[MB2_MAX_MODULES - 1].start, (MB2_MAX_MODULES - 1) << 20);

	/* A bad module beyond the limit is still an error. */
	b_init(&b);
	for (i = 0; i < MB2_MAX_MODULES; i++)
		add_module(&b, 0, 1, "m");
	add_module(&b, 2, 1, "bad");
	b_end(&b);
	assert_int_equal(parse_b(&b), MB2_ERR_MODULE);
}

static void test_short_tags(void **state)
{
	static const struct {
		uint32_t type;
		size_t payload;
	} cases[] = {
		{ 4, 4 }, { 8, 22 }, { 11, 3 }, { 12, 4 }, { 17, 4 }, { 21, 0 }, { 6, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct builder b;

		b_init(&b);
		b_tag(&b, cases[i].type, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"
					 "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
		      cases[i].payload);
		b_end(&b);
		if (parse_b(&b) != MB2_ERR_TAG_SHORT)
			fail_msg("type %u with %zu payload bytes accepted", cases[i].type,
				 cases[i].payload);
	}
}

/* Flip bytes of a good structure: whatever comes out, no wild reads. */
static void test_corruption_fuzz(void **state)
{
	struct builder *b = malloc(sizeof(*b)), *work = malloc(sizeof(*work));
	uint32_t seed = 12345;
	int round, ok = 0;

	(void)state;
	build_full(b);
	for (round = 0; round < 20000; round++) {
		void *copy;
		int flips = 1 + round % 4, f;

		*work = *b;
		for (f = 0; f < flips; f++) {
			size_t pos;

			seed = seed * 1103515245u + 12345u;
			pos = (seed >> 8) % work->len;
			seed = seed * 1103515245u + 12345u;
			work->buf[pos] = (uint8_t)(seed >> 16);
		}
		if (parse_copy(work->buf, work->len, &info, &copy) == MB2_OK)
			ok++;
		free(copy);
	}
	/* Some flips land in payload bytes that any value is fine for. */
	assert_true(ok > 0);
	free(work);
	free(b);
}

static void test_strings_tables(void **state)
{
	int e;

	(void)state;
	for (e = MB2_OK; e <= MB2_ERR_TAG_SHORT; e++) {
		const char *s = mb2_strerror((enum mb2_error)e);

		assert_non_null(s);
		assert_string_not_equal(s, "unknown error");
	}
	assert_string_equal(mb2_strerror((enum mb2_error)100), "unknown error");
	assert_string_equal(mb2_strerror((enum mb2_error)-1), "unknown error");
	assert_string_equal(mb2_mem_type_name(MB2_MEM_AVAILABLE), "available");
	assert_string_equal(mb2_mem_type_name(MB2_MEM_RESERVED), "reserved");
	assert_string_equal(mb2_mem_type_name(MB2_MEM_ACPI_RECLAIMABLE), "ACPI reclaimable");
	assert_string_equal(mb2_mem_type_name(MB2_MEM_NVS), "ACPI NVS");
	assert_string_equal(mb2_mem_type_name(MB2_MEM_BADRAM), "bad RAM");
	assert_string_equal(mb2_mem_type_name(0), "reserved (unknown type)");
	assert_string_equal(mb2_mem_type_name(77), "reserved (unknown type)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_minimal),
		cmocka_unit_test(test_rsdp_order),
		cmocka_unit_test(test_rsdp_short),
		cmocka_unit_test(test_bad_entry),
		cmocka_unit_test(test_bad_total_size),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_total_size_cut),
		cmocka_unit_test(test_tag_size_past_total),
		cmocka_unit_test(test_missing_end),
		cmocka_unit_test(test_after_end),
		cmocka_unit_test(test_unterminated_strings),
		cmocka_unit_test(test_mmap_entry_size),
		cmocka_unit_test(test_mmap_odd),
		cmocka_unit_test(test_mmap_truncated),
		cmocka_unit_test(test_modules),
		cmocka_unit_test(test_short_tags),
		cmocka_unit_test(test_corruption_fuzz),
		cmocka_unit_test(test_strings_tables),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
