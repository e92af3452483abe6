/* SPDX-License-Identifier: BSD-2-Clause */
/* Multiboot1 test guest: checks the information a multiboot1 loader (GRUB or umbra) hands over. */
#include "arch/x86/cpu.h"
#include "arch/x86/idt.h"
#include "core/hypercall.h"
#include "core/log.h"
#include "core/percpu.h"
#include "core/string.h"
#include "drivers/acpi.h"
#include "drivers/power.h"
#include "drivers/uart.h"
#include "tests/guests/lib/report.h"

#define MB1_BOOTLOADER_MAGIC 0x2badb002u
#define MB1_INFO_MEMORY BIT(0)
#define MB1_INFO_CMDLINE BIT(2)
#define MB1_INFO_MODS BIT(3)
#define MB1_INFO_MMAP BIT(6)
#define MB1_INFO_LOADER_NAME BIT(9)
#define MB1_MEM_AVAILABLE 1

/* Multiboot 0.6.96 3.3: the fields this guest reads. */
struct mb1_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
	uint32_t drives_length, drives_addr, config_table, boot_loader_name;
} __packed;

extern char __image_start[], __image_end[];

void bsp_main(uint32_t magic, uint32_t info_addr);
void ap_main(uint32_t index);

/* ACPI 6.5 5.2.5.1: on BIOS machines the RSDP is on a 16-byte boundary in 0xe0000-0xfffff. */
static const void *find_rsdp(void)
{
	for (uint64_t p = 0xe0000; p < 0x100000; p += 16)
		if (memcmp((const void *)p, "RSD PTR ", 8) == 0 && acpi_checksum_ok((const void *)p, 20))
			return (const void *)p;
	return NULL;
}

/* Multiboot1 has no ACPI tag: find the tables the BIOS way, to learn how to power off. */
static void platform_init(void)
{
	static struct acpi_info acpi;
	const void *rsdp = find_rsdp();

	if (rsdp && acpi_parse(rsdp, 36, acpi_map_identity_4g, NULL, &acpi) == ACPI_OK)
		power_init(&acpi, false);
	else
		info("no ACPI tables found: cannot power off");
}

/* One multiboot1 memory-map entry (size, base, length, type: 0.6.96 3.3). */
struct mmap_entry {
	uint64_t base, len;
	uint32_t type;
};

/* Entry at *off into *out and *off past it; false at the end of the map. */
static bool next_entry(const struct mb1_info *mbi, uint32_t *off, struct mmap_entry *out)
{
	const uint8_t *e = (const uint8_t *)(uint64_t)mbi->mmap_addr + *off;
	uint32_t size;

	if (*off + 24 > mbi->mmap_length)
		return false;
	memcpy(&size, e, 4);
	memcpy(&out->base, e + 4, 8);
	memcpy(&out->len, e + 12, 8);
	memcpy(&out->type, e + 20, 4);
	/* A size below 20 cannot hold the entry: this one is the last read. */
	*off = size < 20 ? mbi->mmap_length : *off + size + 4;
	return true;
}

/* Is [base, end) inside one available memory-map entry? */
static bool in_available(const struct mb1_info *mbi, uint64_t base, uint64_t end, uint64_t *total)
{
	struct mmap_entry e;
	bool found = false;

	*total = 0;
	for (uint32_t off = 0; next_entry(mbi, &off, &e);) {
		if (e.type == MB1_MEM_AVAILABLE) {
			*total += e.len;
			found |= base >= e.base && end <= e.base + e.len;
		}
	}
	return found;
}

/* Is [at, at + 1) available RAM in the map (entries in any order, adjacent or not)? */
static bool is_available(const struct mb1_info *mbi, uint64_t at)
{
	struct mmap_entry e;

	for (uint32_t off = 0; next_entry(mbi, &off, &e);)
		if (e.type == MB1_MEM_AVAILABLE && at >= e.base && at - e.base < e.len)
			return true;
	return false;
}

/*
 * mem_upper against the memory map (multiboot 0.6.96 3.3: upper memory
 * starts at 1 MiB): the map's RAM from 1 MiB must run, page after page, to
 * exactly 1 MiB + mem_upper KiB. And it must be nearly all the RAM below
 * 4 GiB: umbra's footprint sits at the top, so what lies above the first
 * hole is a small rest (at most a quarter), not most of the machine.
 */
static void check_mem_upper(const struct mb1_info *mbi)
{
	uint64_t end = MiB(1), rest = 0;

	while (end < GiB(4) && is_available(mbi, end))
		end += KiB(4);
	for (uint64_t at = end; at < GiB(4); at += MiB(1))
		rest += is_available(mbi, at) ? MiB(1) : 0;
	check("mb1.mem_upper_map", mbi->mem_upper == (end - MiB(1)) >> 10,
	      "mem_upper %u KiB, the map's RAM from 1 MiB ends at %#lx", mbi->mem_upper, end);
	check("mb1.mem_upper_all_ram", end - MiB(1) >= 3 * rest && end - MiB(1) >= MiB(32),
	      "%lu MiB contiguous from 1 MiB, %lu MiB of RAM above it below 4 GiB",
	      (end - MiB(1)) >> 20, rest >> 20);
}

void bsp_main(uint32_t magic, uint32_t info_addr)
{
	const struct mb1_info *mbi = (const struct mb1_info *)(uint64_t)info_addr;
	const char *cmdline = "";
	uint64_t total = 0;
	bool image_ok;

	percpu_init(0);
	idt_init();
	idt_load();
	uart_init(UART_COM1, 115200);
	platform_init();
	if (!check("mb1.magic", magic == MB1_BOOTLOADER_MAGIC, "EAX %#x", magic))
		report_finish();
	if (mbi->flags & MB1_INFO_CMDLINE)
		cmdline = (const char *)(uint64_t)mbi->cmdline;
	info("multiboot1 test guest, command line \"%s\", loader \"%s\"", cmdline,
	     mbi->flags & MB1_INFO_LOADER_NAME ? (const char *)(uint64_t)mbi->boot_loader_name : "?");
	check("mb1.flags", (mbi->flags & (MB1_INFO_MEMORY | MB1_INFO_CMDLINE | MB1_INFO_MMAP)) ==
				   (MB1_INFO_MEMORY | MB1_INFO_CMDLINE | MB1_INFO_MMAP),
	      "flags %#x", mbi->flags);
	check("mb1.cmdline", strcmp(cmdline, "hello=multiboot1") == 0, "\"%s\"", cmdline);
	check("mb1.mem_upper", mbi->mem_lower >= 512 && mbi->mem_upper >= 1024,
	      "mem_lower %u KiB, mem_upper %u KiB", mbi->mem_lower, mbi->mem_upper);
	check_mem_upper(mbi);
	image_ok = in_available(mbi, (uint64_t)__image_start, (uint64_t)__image_end, &total);
	check("mb1.mmap_image", image_ok && total >= MiB(32), "image [%p-%p), %lu MiB available",
	      __image_start, __image_end, total >> 20);
	check("mb1.no_modules", !(mbi->flags & MB1_INFO_MODS) || mbi->mods_count == 0, "%u modules",
	      mbi->flags & MB1_INFO_MODS ? mbi->mods_count : 0);
	report_finish();
}

/* Never started: this guest runs on the boot CPU only. */
void ap_main(uint32_t index __unused)
{
	cpu_halt_forever();
}
