/* SPDX-License-Identifier: BSD-2-Clause */
/* memmap group: the multiboot2 memory map and the ACPI tables as the guest finds them. */
#include "tests/guests/basic/basic.h"
#include "tests/guests/lib/report.h"

/* Enough for this guest and anything a test would load next to it. */
#define MIN_AVAILABLE MiB(32)

extern char __image_start[], __image_end[];

static bool is_available(const struct mb2_mmap_entry *e)
{
	return e->type == MB2_MEM_AVAILABLE && e->length != 0;
}

/* End of an entry, clamped so that a bogus length cannot wrap around. */
static uint64_t entry_end(const struct mb2_mmap_entry *e)
{
	return e->length > UINT64_MAX - e->base ? UINT64_MAX : e->base + e->length;
}

/* An available entry containing addr, or NULL. */
static const struct mb2_mmap_entry *available_at(const struct mb2_info *mbi, uint64_t addr)
{
	for (size_t i = 0; i < mbi->mmap_count; i++) {
		const struct mb2_mmap_entry *e = &mbi->mmap[i];

		if (is_available(e) && addr >= e->base && addr < entry_end(e))
			return e;
	}
	return NULL;
}

/*
 * Walk [start, end) through available entries; a range may span adjacent
 * entries. Returns the first address not covered, or end.
 */
static uint64_t first_uncovered(const struct mb2_info *mbi, uint64_t start, uint64_t end)
{
	const struct mb2_mmap_entry *e;

	while (start < end && (e = available_at(mbi, start)))
		start = entry_end(e);
	return MIN(start, end);
}

static bool find_overlap(const struct mb2_info *mbi, size_t *a, size_t *b)
{
	for (size_t i = 0; i < mbi->mmap_count; i++) {
		const struct mb2_mmap_entry *x = &mbi->mmap[i];

		if (!is_available(x))
			continue;
		for (size_t j = i + 1; j < mbi->mmap_count; j++) {
			const struct mb2_mmap_entry *y = &mbi->mmap[j];

			if (is_available(y) && x->base < entry_end(y) && y->base < entry_end(x)) {
				*a = i;
				*b = j;
				return true;
			}
		}
	}
	return false;
}

uint32_t madt_enabled_cpus(const struct acpi_info *acpi)
{
	uint32_t n = 0;

	for (size_t i = 0; i < acpi->cpu_count; i++)
		if (acpi->cpus[i].enabled)
			n++;
	return n;
}

static void check_madt(const struct boot_state *bs)
{
	const struct acpi_info *acpi = &bs->acpi;
	uint32_t enabled = madt_enabled_cpus(acpi);
	bool bsp_listed = false;

	for (size_t i = 0; i < acpi->cpu_count; i++)
		if (acpi->cpus[i].enabled && acpi->cpus[i].apic_id == bs->bsp_apic_id)
			bsp_listed = true;
	if (bs->expect_cpus)
		check("memmap.madt_cpus", bsp_listed && enabled == bs->expect_cpus,
		      "%u enabled CPU(s), expected %u; boot CPU (APIC ID %u) %s", enabled,
		      bs->expect_cpus, bs->bsp_apic_id, bsp_listed ? "listed" : "missing");
	else
		check("memmap.madt_cpus", bsp_listed && enabled >= 1,
		      "%u enabled CPU(s) (no cpus=N to compare with); boot CPU (APIC ID %u) %s",
		      enabled, bs->bsp_apic_id, bsp_listed ? "listed" : "missing");
}

void check_memmap(const struct boot_state *bs)
{
	const struct mb2_info *mbi = &bs->mbi;
	uint64_t available = 0, start = (uint64_t)__image_start, end = (uint64_t)__image_end;
	uint64_t hole;
	size_t a, b;

	if (!check("memmap.mb2", bs->mb2_err == MB2_OK, "%s", mb2_strerror(bs->mb2_err))) {
		report("memmap.present", VERDICT_SKIP, "no boot information");
		return;
	}
	for (size_t i = 0; i < mbi->mmap_count; i++)
		if (is_available(&mbi->mmap[i]))
			available += entry_end(&mbi->mmap[i]) - mbi->mmap[i].base;
	info("memmap: %zu entries%s, %lu KiB available", mbi->mmap_count,
	     mbi->mmap_truncated ? " (truncated)" : "", available >> 10);

	if (!check("memmap.present", mbi->mmap_count > 0, "%zu entries", mbi->mmap_count))
		return;
	check("memmap.available", available >= MIN_AVAILABLE, "%lu MiB available, need %lu",
	      available >> 20, MIN_AVAILABLE >> 20);
	hole = first_uncovered(mbi, start, end);
	if (hole == end)
		report("memmap.image", VERDICT_PASS, "image [%#lx-%#lx) in available RAM", start,
		       end);
	else
		report("memmap.image", VERDICT_FAIL, "image [%#lx-%#lx): %#lx is not available RAM",
		       start, end, hole);
	if (find_overlap(mbi, &a, &b))
		report("memmap.no_overlap", VERDICT_FAIL,
		       "entries %zu [%#lx-%#lx) and %zu [%#lx-%#lx)", a, mbi->mmap[a].base,
		       entry_end(&mbi->mmap[a]), b, mbi->mmap[b].base, entry_end(&mbi->mmap[b]));
	else
		report("memmap.no_overlap", VERDICT_PASS, "no two available entries overlap");

	/* ACPI: found through the loader's RSDP copy, as umbra itself does. */
	if (!check("memmap.rsdp", mbi->rsdp != NULL, "multiboot2 ACPI tag %d", mbi->rsdp_tag))
		return;
	if (!check("memmap.acpi", bs->acpi_err == ACPI_OK, "%s", acpi_strerror(bs->acpi_err)))
		return;
	check_madt(bs);
}
