/* SPDX-License-Identifier: BSD-2-Clause */
/* Host fuzz harness: the L1 kernel loader (core/loader.c) and PVH's ELF note scan (core/pvh.c). */
#include <string.h>

#include "core/loader.h"
#include "core/pvh.h"
#include "tests/fuzz/host/fuzz.h"

/*
 * The input is the kernel file (GRUB's first module), read from a heap copy
 * of exactly its size. core/guest.c's sequence follows: parse, check the
 * placement against a small guest memory map, find where a module could
 * go, copy the segments. Every destination the loader asks for is a heap
 * block of exactly the size it asked for, so a write past it is an ASan
 * report, and the copy must hold the file's bytes then zeros (or stop at a
 * segment umbra cannot reach).
 */

/* core/guest.c's error buffer, and its boot-information area. */
#define ERR_LEN 160
#define INFO_PA 0x10000ull
#define INFO_SIZE 0x10000ull
/* Guest RAM: conventional memory, and 1 MiB to 5 MiB (small, so that copies stay cheap). */
#define RAM_HIGH_BASE 0x100000ull
#define RAM_HIGH_END 0x500000ull

struct dest {
	uint64_t pa, len;
	uint8_t *p;
};

static struct dest dests[LOADER_MAX_SEGMENTS];
static size_t ndests;
static struct loader_image img;

/* A segment starting in the second half of a page is one umbra "cannot reach": phys says NULL. */
#define UNREACHABLE(pa) ((pa) & 0x800)

static void *phys(uint64_t pa, uint64_t len)
{
	struct dest *d;

	FUZZ_CHECK(ndests < LOADER_MAX_SEGMENTS);
	FUZZ_CHECK(len > 0 && len <= RAM_HIGH_END);
	d = &dests[ndests++];
	*d = (struct dest){ pa, len, UNREACHABLE(pa) ? NULL : malloc(len) };
	if (d->p)
		memset(d->p, 0xa5, len); /* not zero: the loader must clear the bss part itself */
	return d->p;
}

static void check_err(const char *err)
{
	size_t n = strnlen(err, ERR_LEN);

	FUZZ_CHECK(n > 0 && n < ERR_LEN);
}

static void check_image(const struct loader_image *li, size_t size)
{
	uint64_t lo = UINT64_MAX, hi = 0;

	FUZZ_CHECK(li->kind == LOADER_MULTIBOOT1 || li->kind == LOADER_MULTIBOOT2 || li->kind == LOADER_PVH);
	FUZZ_CHECK(li->nsegs >= 1 && li->nsegs <= LOADER_MAX_SEGMENTS);
	for (size_t i = 0; i < li->nsegs; i++) {
		const struct loader_segment *s = &li->segs[i];

		FUZZ_CHECK(s->memsz > 0 && s->filesz <= s->memsz);
		FUZZ_CHECK(s->offset <= size && s->filesz <= size - s->offset);
		FUZZ_CHECK(s->paddr + s->memsz > s->paddr && s->paddr + s->memsz <= 0x100000000ull);
		lo = MIN(lo, s->paddr);
		hi = MAX(hi, s->paddr + s->memsz);
	}
	FUZZ_CHECK(li->load_start == lo && li->load_end == hi);
}

/* What the loader wrote: the file's bytes, then zeros, each exactly where it was asked for. */
static void check_copy(const struct loader_image *li, const uint8_t *file, bool copied)
{
	size_t reached = 0;

	/* The copy stops at the first segment phys cannot reach, and says so. */
	while (reached < li->nsegs && !UNREACHABLE(li->segs[reached].paddr))
		reached++;
	FUZZ_CHECK(copied == (reached == li->nsegs));
	FUZZ_CHECK(ndests == (copied ? li->nsegs : reached + 1));
	for (size_t i = 0; i < reached; i++) {
		const struct loader_segment *s = &li->segs[i];
		const struct dest *d = &dests[i];

		FUZZ_CHECK(d->pa == s->paddr && d->len == s->memsz);
		FUZZ_CHECK(memcmp(d->p, file + s->offset, s->filesz) == 0);
		for (uint64_t k = s->filesz; k < s->memsz; k++)
			FUZZ_CHECK(d->p[k] == 0);
	}
}

/* core/guest.c's stage_modules: where a module may go, clear of the segments and the boot info. */
static void check_find_free(const struct loader_image *li, const struct guest_memmap *m,
			    const struct loader_range *info)
{
	struct loader_range busy[LOADER_MAX_SEGMENTS + 1];
	const uint64_t len = 0x10000;
	uint64_t at;

	for (size_t i = 0; i < li->nsegs; i++)
		busy[i] = (struct loader_range){ li->segs[i].paddr, li->segs[i].paddr + li->segs[i].memsz };
	busy[li->nsegs] = *info;
	if (!loader_find_free(m, busy, li->nsegs + 1, len, PAGE_SIZE, 0x100000000ull, &at))
		return;
	FUZZ_CHECK(IS_ALIGNED(at, PAGE_SIZE) && loader_range_is_ram(m, at, at + len));
	for (size_t k = 0; k <= li->nsegs; k++)
		FUZZ_CHECK(at + len <= busy[k].base || at >= busy[k].end);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct mb2_mmap_entry ram[] = {
		{ 0, 0x9fc00, MB2_MEM_AVAILABLE },
		{ 0xf0000, 0x10000, MB2_MEM_RESERVED },
		{ RAM_HIGH_BASE, RAM_HIGH_END - RAM_HIGH_BASE, MB2_MEM_AVAILABLE },
	};
	static struct guest_memmap map;
	const struct loader_range busy = { INFO_PA, INFO_PA + INFO_SIZE };
	uint8_t *file = malloc(size ? size : 1);
	char *err = malloc(ERR_LEN);
	enum pvh_note note;
	uint32_t entry = 0;

	memcpy(file, data, size);
	if (!map.n)
		loader_build_memmap(ram, ARRAY_SIZE(ram), NULL, 0, 0, &map);

	/* The PVH note scan alone, whatever headers the file has. */
	err[0] = '\0';
	note = pvh_find_entry(file, size, &entry, err, ERR_LEN);
	FUZZ_CHECK(note == PVH_NOTE_NONE || note == PVH_NOTE_FOUND || note == PVH_NOTE_BAD);
	if (note == PVH_NOTE_FOUND)
		FUZZ_CHECK(entry != 0);
	if (note == PVH_NOTE_BAD)
		check_err(err);

	err[0] = '\0';
	if (!loader_parse(file, size, &img, err, ERR_LEN)) {
		check_err(err);
		goto out;
	}
	check_image(&img, size);
	if (img.kind == LOADER_PVH)
		FUZZ_CHECK(note == PVH_NOTE_FOUND && img.entry == entry);
	check_find_free(&img, &map, &busy);
	if (!loader_check_placement(&img, &map, &busy, 1, err, ERR_LEN)) {
		check_err(err);
		goto out;
	}
	for (size_t i = 0; i < img.nsegs; i++) {
		const struct loader_segment *s = &img.segs[i];

		FUZZ_CHECK(loader_range_is_ram(&map, s->paddr, s->paddr + s->memsz));
		FUZZ_CHECK(s->paddr + s->memsz <= busy.base || s->paddr >= busy.end);
	}
	ndests = 0;
	check_copy(&img, file, loader_copy(&img, file, phys));
	for (size_t i = 0; i < ndests; i++)
		free(dests[i].p);
out:
	free(err);
	free(file);
	return 0;
}
