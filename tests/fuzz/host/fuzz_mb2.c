/* SPDX-License-Identifier: BSD-2-Clause */
/* Host fuzz harness: the multiboot2 information parser (core/mb2.c), and the boot info umbra rebuilds from it. */
#define _GNU_SOURCE /* memmem */
#include <string.h>

#include "core/loader.h"
#include "core/mb2.h"
#include "core/pvh.h"
#include "tests/fuzz/host/fuzz.h"

/*
 * The input is the information structure GRUB would leave in memory. It is
 * parsed from a heap copy of exactly its size, so that ASan flags any read
 * past it, and what was kept is checked against it. Then core/guest.c's
 * steps run on what was parsed: the guest's memory map (umbra's memory and
 * RAM past guest_mem= never offered as RAM), a module's new place, the PVH
 * module checks, and the boot information for the guest, built into the
 * 64 KiB area and into a smaller one; the multiboot2 one must read back
 * unchanged with umbra's own parser.
 */

/* umbra's footprint in the guest's map (core/mem.c gives the real one). */
#define UMBRA_BASE 0x200000ull
#define UMBRA_END 0x600000ull
/* The boot-information area core/guest.c gives the guest (BOOT_INFO_PA, BOOT_INFO_SIZE). */
#define INFO_PA 0x10000u
#define INFO_SIZE 0x10000u

static struct mb2_info info, back;
static struct guest_memmap map;

/* A string the parser kept: inside info->strings, terminated there, and present in the input. */
static void check_kept_string(const struct mb2_info *in, const char *s, const uint8_t *buf, size_t len)
{
	size_t room;

	if (!s)
		return;
	FUZZ_CHECK(s >= in->strings && s < in->strings + in->strings_used);
	room = (size_t)(in->strings + in->strings_used - s);
	FUZZ_CHECK(strnlen(s, room) < room);
	FUZZ_CHECK(memmem(buf, len, s, strlen(s) + 1) != NULL);
}

static void check_parsed(const struct mb2_info *in, const uint8_t *buf, size_t size)
{
	FUZZ_CHECK(in->total_size >= 16 && in->total_size <= size);
	FUZZ_CHECK(in->mmap_count <= MB2_MAX_MMAP);
	FUZZ_CHECK(in->module_count <= MB2_MAX_MODULES);
	FUZZ_CHECK(in->strings_used <= MB2_STRINGS_MAX);
	check_kept_string(in, in->cmdline, buf, in->total_size);
	check_kept_string(in, in->bootloader, buf, in->total_size);
	for (size_t i = 0; i < in->module_count; i++) {
		FUZZ_CHECK(in->modules[i].end >= in->modules[i].start);
		check_kept_string(in, in->modules[i].cmdline, buf, in->total_size);
	}
	if (in->rsdp) {
		/* ACPI 6.5 5.2.5.3: 20 bytes (1.0), 36 bytes (2.0+); the copy is capped. */
		FUZZ_CHECK(in->rsdp == in->rsdp_copy);
		FUZZ_CHECK(in->rsdp_tag == 14 || in->rsdp_tag == 15);
		FUZZ_CHECK(in->rsdp_len >= (in->rsdp_tag == 15 ? 36u : 20u) && in->rsdp_len <= MB2_RSDP_MAX);
		FUZZ_CHECK(memmem(buf, in->total_size, in->rsdp_copy, in->rsdp_len) != NULL);
	} else {
		FUZZ_CHECK(in->rsdp_len == 0 && in->rsdp_tag == 0);
	}
}

/* The guest's map: non-empty, non-wrapping entries, and no RAM over umbra or past limit. */
static void check_memmap(const struct guest_memmap *m, uint64_t limit)
{
	FUZZ_CHECK(m->n <= ARRAY_SIZE(m->e));
	for (size_t i = 0; i < m->n; i++) {
		const struct mb2_mmap_entry *e = &m->e[i];

		FUZZ_CHECK(e->length > 0 && e->base + e->length > e->base);
		if (e->type != MB2_MEM_AVAILABLE)
			continue;
		FUZZ_CHECK(e->base + e->length <= UMBRA_BASE || e->base >= UMBRA_END);
		FUZZ_CHECK(!limit || e->base + e->length <= limit);
	}
	FUZZ_CHECK(!loader_range_is_ram(m, UMBRA_BASE, UMBRA_BASE + 1));
	FUZZ_CHECK(!loader_range_is_ram(m, UMBRA_END - 1, UMBRA_END));
}

static bool same_string(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

/* Bytes of mb2_info.strings that the guest's information fills: each string and its NUL. */
static size_t strings_needed(const struct mb2_info *in)
{
	size_t n = strlen(in->cmdline ? in->cmdline : "") + strlen(in->bootloader ? in->bootloader : "") + 2;

	for (size_t i = 0; i < in->module_count; i++)
		n += strlen(in->modules[i].cmdline) + 1;
	return n;
}

/*
 * What umbra gives its guest, read back with umbra's own parser. room: the
 * buffer's size, core/guest.c's 64 KiB or less, to try the overflow checks.
 */
static void check_round_trip(const struct mb2_info *in, const struct guest_memmap *m, size_t room)
{
	struct loader_module mods[MB2_MAX_MODULES];
	struct loader_boot_info bi = {
		.cmdline = in->cmdline,
		.bootloader = in->bootloader,
		.map = m,
		.modules = mods,
		.nmodules = in->module_count,
		.rsdp = in->rsdp,
		.rsdp_len = in->rsdp_len,
		.rsdp_tag = in->rsdp_tag,
	};
	uint8_t *out = malloc(room ? room : 1);
	size_t len;

	for (size_t i = 0; i < in->module_count; i++)
		mods[i] = (struct loader_module){ in->modules[i].start, in->modules[i].end,
						  in->modules[i].cmdline };
	/*
	 * multiboot1 and PVH have no parser in umbra: built for the bounds checks
	 * alone, multiboot1 only into the small room (its mem_upper walk, up to
	 * 4096 steps over the map, is most of this harness's time).
	 */
	if (room < INFO_SIZE)
		FUZZ_CHECK(loader_build_info(LOADER_MULTIBOOT1, &bi, out, room, INFO_PA) <= room);
	FUZZ_CHECK(loader_build_info(LOADER_PVH, &bi, out, room, INFO_PA) <= room);
	len = loader_build_info(LOADER_MULTIBOOT2, &bi, out, room, INFO_PA);
	FUZZ_CHECK(len <= room);
	/*
	 * The guest always gets a command line and a boot loader name, "" when
	 * GRUB gave none: those two bytes more may overflow umbra's own string
	 * room (a limit of umbra's parser, not of the structure, which L1 reads).
	 */
	if (len && strings_needed(in) > MB2_STRINGS_MAX) {
		FUZZ_CHECK(mb2_parse(MB2_BOOTLOADER_MAGIC, out, len, &back) == MB2_ERR_STRINGS);
	} else if (len) {
		FUZZ_CHECK(mb2_parse(MB2_BOOTLOADER_MAGIC, out, len, &back) == MB2_OK);
		FUZZ_CHECK(back.total_size == len);
		FUZZ_CHECK(same_string(back.cmdline, in->cmdline));
		FUZZ_CHECK(same_string(back.bootloader, in->bootloader));
		FUZZ_CHECK(back.module_count == in->module_count);
		for (size_t i = 0; i < in->module_count; i++) {
			FUZZ_CHECK(back.modules[i].start == in->modules[i].start);
			FUZZ_CHECK(back.modules[i].end == in->modules[i].end);
			FUZZ_CHECK(same_string(back.modules[i].cmdline, in->modules[i].cmdline));
		}
		FUZZ_CHECK(back.mmap_count == MIN(m->n, (size_t)MB2_MAX_MMAP));
		for (size_t i = 0; i < back.mmap_count; i++)
			FUZZ_CHECK(back.mmap[i].base == m->e[i].base && back.mmap[i].length == m->e[i].length &&
				   back.mmap[i].type == m->e[i].type);
		FUZZ_CHECK(back.rsdp_len == in->rsdp_len && back.rsdp_tag == in->rsdp_tag);
		FUZZ_CHECK(!in->rsdp || memcmp(back.rsdp, in->rsdp, in->rsdp_len) == 0);
	}
	free(out);
}

/*
 * core/guest.c's stage_modules: a module moves to the highest free RAM below
 * 4 GiB, clear of the other modules and the boot information. Wherever
 * loader_find_free puts it, that is RAM of the guest's map, page aligned
 * and clear of them.
 */
static void check_find_free(const struct mb2_info *in, const struct guest_memmap *m)
{
	struct loader_range busy[MB2_MAX_MODULES + 1];
	size_t nbusy = 0;
	uint64_t len = 1, at;

	busy[nbusy++] = (struct loader_range){ INFO_PA, INFO_PA + INFO_SIZE };
	for (size_t i = 0; i < in->module_count; i++)
		busy[nbusy++] = (struct loader_range){ in->modules[i].start, in->modules[i].end };
	if (in->module_count && in->modules[0].end > in->modules[0].start)
		len = in->modules[0].end - in->modules[0].start;
	if (!loader_find_free(m, busy, nbusy, len, PAGE_SIZE, 0x100000000ull, &at))
		return;
	FUZZ_CHECK(IS_ALIGNED(at, PAGE_SIZE) && at + len > at && at + len <= 0x100000000ull);
	FUZZ_CHECK(loader_range_is_ram(m, at, at + len));
	for (size_t k = 0; k < nbusy; k++)
		FUZZ_CHECK(at + len <= busy[k].base || at >= busy[k].end);
}

/*
 * A PVH kernel's modules (core/pvh.c): each must be non-empty RAM of the
 * guest's map, and the first start like an initrd. Its bytes here: its
 * command line, as the fuzzer can write one ("070701..."), then zeros,
 * in a heap block of exactly the module's size (none past 64 KiB).
 */
static void check_pvh_modules(const struct mb2_info *in, const struct guest_memmap *m)
{
	struct loader_module mods[MB2_MAX_MODULES];
	uint8_t *initrd = NULL;
	char err[160];
	size_t len = 0;
	bool ok;

	for (size_t i = 0; i < in->module_count; i++)
		mods[i] = (struct loader_module){ in->modules[i].start, in->modules[i].end,
						  in->modules[i].cmdline };
	if (in->module_count) {
		len = in->modules[0].end - in->modules[0].start;
		/* A large one is one umbra "cannot read", as guest_phys_ptr may say: NULL. */
		if (len <= INFO_SIZE) {
			initrd = calloc(1, len ? len : 1);
			memcpy(initrd, in->modules[0].cmdline, MIN(len, strlen(in->modules[0].cmdline)));
		}
	}
	err[0] = '\0';
	ok = pvh_check_modules(mods, in->module_count, m, initrd, err, sizeof(err));
	FUZZ_CHECK(ok || (strlen(err) > 0 && strlen(err) < sizeof(err)));
	for (size_t i = 0; ok && i < in->module_count; i++)
		FUZZ_CHECK(mods[i].end > mods[i].start && loader_range_is_ram(m, mods[i].start, mods[i].end));
	free(initrd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct loader_range umbra = { UMBRA_BASE, UMBRA_END };
	uint8_t *buf = malloc(size ? size : 1); /* malloc's alignment covers 3.6.2's 8 bytes */
	enum mb2_error err;
	uint64_t limit;

	memcpy(buf, data, size);
	/* What is refused before any tag is read: a wrong EAX, no info, a misaligned one. */
	FUZZ_CHECK(mb2_parse(MB1_BOOTLOADER_MAGIC, buf, size, &info) == MB2_ERR_MAGIC);
	FUZZ_CHECK(mb2_parse(MB2_BOOTLOADER_MAGIC, NULL, size, &info) == MB2_ERR_NULL);
	if (size > 1)
		FUZZ_CHECK(mb2_parse(MB2_BOOTLOADER_MAGIC, buf + 1, size - 1, &info) == MB2_ERR_ALIGN);

	err = mb2_parse(MB2_BOOTLOADER_MAGIC, buf, size, &info);
	FUZZ_CHECK(mb2_strerror(err) != NULL && mb2_strerror((enum mb2_error)(err + 0x100)) != NULL);
	if (err == MB2_OK) {
		check_parsed(&info, buf, size);
		for (size_t i = 0; i < info.mmap_count; i++)
			FUZZ_CHECK(mb2_mem_type_name(info.mmap[i].type) != NULL);
		/* guest_mem= from the command line: none, or 64 MiB. */
		limit = info.total_size & 8 ? 0 : 0x4000000ull;
		loader_build_memmap(info.mmap, info.mmap_count, &umbra, 1, limit, &map);
		check_memmap(&map, limit);
		check_find_free(&info, &map);
		check_pvh_modules(&info, &map);
		check_round_trip(&info, &map, INFO_SIZE);
		check_round_trip(&info, &map, MIN(info.total_size, INFO_SIZE - 1));
	}
	free(buf);
	return 0;
}
