/* SPDX-License-Identifier: BSD-2-Clause */
/* PVH boot: find the kernel's 32-bit entry note, check its modules, write hvm_start_info. */
#include "core/pvh.h"
#include "core/format.h"
#include "core/string.h"

/* ELF (System V gABI 4.1): the few fields read here, by offset, for both classes. */
#define EI_CLASS 4
#define ELFCLASS32 1
#define ELFCLASS64 2
#define PT_NOTE 4
#define ELF32_EHDR_SIZE 52
#define ELF64_EHDR_SIZE 64
#define ELF32_PHDR_SIZE 32
#define ELF64_PHDR_SIZE 56
#define ELF_NOTE_HDR 12 /* namesz, descsz, type */
#define ELF_NOTE_ALIGN 4

#define fail(ret, ...)                                      \
	do {                                                \
		fmt_snprintf(err, errlen, __VA_ARGS__);     \
		return ret;                                 \
	} while (0)

static uint64_t rd(const uint8_t *p, size_t len)
{
	uint64_t v = 0;

	memcpy(&v, p, len);
	return v;
}

/* One PT_NOTE segment [off, off + len) of the file: walk its notes. */
static enum pvh_note scan_notes(const uint8_t *p, uint64_t off, uint64_t len, uint32_t *entry,
				char *err, size_t errlen)
{
	const uint8_t *n = p + off, *end = p + off + len;

	while ((size_t)(end - n) >= ELF_NOTE_HDR) {
		uint32_t namesz = (uint32_t)rd(n, 4), descsz = (uint32_t)rd(n + 4, 4);
		uint32_t type = (uint32_t)rd(n + 8, 4);
		uint64_t name_len = ALIGN_UP((uint64_t)namesz, ELF_NOTE_ALIGN);
		uint64_t desc_len = ALIGN_UP((uint64_t)descsz, ELF_NOTE_ALIGN);
		const uint8_t *name = n + ELF_NOTE_HDR, *desc = name + name_len;

		if (name_len > (uint64_t)(end - name) || desc_len > (uint64_t)(end - name) - name_len)
			fail(PVH_NOTE_BAD, "ELF note at file offset %#lx runs past its segment",
			     (uint64_t)(n - p));
		if (namesz == sizeof(PVH_NOTE_NAME) && memcmp(name, PVH_NOTE_NAME, namesz) == 0 &&
		    type == XEN_ELFNOTE_PHYS32_ENTRY) {
			uint64_t e;

			/* Linux gives a 32-bit value; accept a 64-bit one that fits. */
			if (descsz != 4 && descsz != 8)
				fail(PVH_NOTE_BAD, "PVH entry note has a %u-byte value, not 4 or 8", descsz);
			e = rd(desc, descsz);
			if (e == 0 || e >= GiB(4))
				fail(PVH_NOTE_BAD, "PVH entry point %#lx is not a 32-bit physical address", e);
			*entry = (uint32_t)e;
			return PVH_NOTE_FOUND;
		}
		n = desc + desc_len;
	}
	return PVH_NOTE_NONE;
}

enum pvh_note pvh_find_entry(const void *image, size_t size, uint32_t *entry, char *err, size_t errlen)
{
	const uint8_t *p = image;
	uint64_t phoff;
	uint16_t phnum, phentsize;
	size_t min_phent;
	bool is64;

	if (size < 4 || memcmp(p, "\177ELF", 4) != 0)
		return PVH_NOTE_NONE; /* not ELF: loader_parse says so */
	if (size <= EI_CLASS)
		fail(PVH_NOTE_BAD, "truncated ELF header");
	is64 = p[EI_CLASS] == ELFCLASS64;
	if (!is64 && p[EI_CLASS] != ELFCLASS32)
		return PVH_NOTE_NONE;
	if (size < (is64 ? ELF64_EHDR_SIZE : ELF32_EHDR_SIZE))
		fail(PVH_NOTE_BAD, "truncated ELF%u header", is64 ? 64 : 32);
	/* e_phoff, e_phentsize and e_phnum (gABI "ELF Header"). */
	phoff = is64 ? rd(p + 32, 8) : rd(p + 28, 4);
	phentsize = (uint16_t)rd(p + (is64 ? 54 : 42), 2);
	phnum = (uint16_t)rd(p + (is64 ? 56 : 44), 2);
	min_phent = is64 ? ELF64_PHDR_SIZE : ELF32_PHDR_SIZE;
	if (phnum == 0)
		return PVH_NOTE_NONE;
	if (phentsize < min_phent)
		fail(PVH_NOTE_BAD, "ELF program header size %u too small", phentsize);
	if (phoff > size || (uint64_t)phnum * phentsize > size - phoff)
		fail(PVH_NOTE_BAD, "ELF program headers out of bounds");
	for (uint16_t i = 0; i < phnum; i++) {
		const uint8_t *ph = p + phoff + (uint64_t)i * phentsize;
		uint64_t off, len;
		enum pvh_note r;

		if (rd(ph, 4) != PT_NOTE)
			continue;
		off = is64 ? rd(ph + 8, 8) : rd(ph + 4, 4);
		len = is64 ? rd(ph + 32, 8) : rd(ph + 16, 4); /* p_filesz */
		if (off > size || len > size - off)
			fail(PVH_NOTE_BAD, "ELF note segment [%#lx+%#lx) is past the end of the %zu-byte file",
			     off, len, size);
		r = scan_notes(p, off, len, entry, err, errlen);
		if (r != PVH_NOTE_NONE)
			return r;
	}
	return PVH_NOTE_NONE;
}

/* Initramfs formats by their first bytes: cpio newc and crc, and the compressors Linux's
 * initramfs unpacker knows (gzip, bzip2, lzma, xz, lzo, lz4, zstd). */
static const struct {
	uint8_t len;
	uint8_t magic[6];
} initrd_magics[] = {
	{ 6, { '0', '7', '0', '7', '0', '1' } },
	{ 6, { '0', '7', '0', '7', '0', '2' } },
	{ 2, { 0x1f, 0x8b } },
	{ 2, { 0x1f, 0x9e } },
	{ 3, { 'B', 'Z', 'h' } },
	{ 3, { 0x5d, 0x00, 0x00 } },
	{ 6, { 0xfd, '7', 'z', 'X', 'Z', 0x00 } },
	{ 4, { 0x89, 'L', 'Z', 'O' } },
	{ 4, { 0x02, 0x21, 0x4c, 0x18 } },
	{ 4, { 0x28, 0xb5, 0x2f, 0xfd } },
};

static bool looks_like_initrd(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(initrd_magics); i++)
		if (len >= initrd_magics[i].len && memcmp(p, initrd_magics[i].magic, initrd_magics[i].len) == 0)
			return true;
	return false;
}

bool pvh_check_modules(const struct loader_module *mods, size_t n, const struct guest_memmap *map,
		       const void *initrd, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		const struct loader_module *m = &mods[i];

		if (m->end <= m->start)
			fail(false, "module %zu is empty", i + 1);
		if (!loader_range_is_ram(map, m->start, m->end))
			fail(false, "module %zu [%#x-%#x) is not in the guest's RAM (umbra's memory, a hole, "
			     "or past guest_mem)", i + 1, m->start, m->end);
	}
	if (n && !initrd)
		fail(false, "module 1 (the initrd) cannot be read");
	if (n && !looks_like_initrd(initrd, mods[0].end - mods[0].start))
		fail(false, "module 1 (the initrd) is neither a cpio archive nor gzip, bzip2, lzma, xz, lzo, "
		     "lz4 or zstd data");
	return true;
}


/* ACPI 6.4 5.2.5.3: the RSDP sits on a 16-byte boundary. */
#define RSDP_ALIGN 16

size_t pvh_build_start_info(const struct loader_boot_info *bi, void *buf, size_t size, uint32_t buf_pa)
{
	struct info_buf b = { buf, size, 0, buf_pa, false };
	struct hvm_start_info *si = info_buf_take(&b, sizeof(*si), 8);
	struct hvm_modlist_entry *mods = NULL;
	struct hvm_memmap_table_entry *mm;

	if (!si)
		return 0;
	si->magic = PVH_START_MAGIC;
	si->version = PVH_START_VERSION;
	si->cmdline_paddr = info_buf_put_string(&b, bi->cmdline);
	if (bi->nmodules) {
		mods = info_buf_take(&b, sizeof(*mods) * bi->nmodules, 8);
		if (!mods)
			return 0;
		for (size_t i = 0; i < bi->nmodules; i++) {
			mods[i].paddr = bi->modules[i].start;
			mods[i].size = bi->modules[i].end - bi->modules[i].start;
			mods[i].cmdline_paddr = info_buf_put_string(&b, bi->modules[i].cmdline);
		}
		si->nr_modules = (uint32_t)bi->nmodules;
		si->modlist_paddr = info_buf_pa(&b, mods);
	}
	mm = info_buf_take(&b, sizeof(*mm) * bi->map->n, 8);
	if (!mm)
		return 0;
	for (size_t i = 0; i < bi->map->n; i++)
		mm[i] = (struct hvm_memmap_table_entry){ .addr = bi->map->e[i].base,
							  .size = bi->map->e[i].length,
							  .type = bi->map->e[i].type };
	si->memmap_paddr = info_buf_pa(&b, mm);
	si->memmap_entries = (uint32_t)bi->map->n;
	/* umbra has only GRUB's copy of the RSDP: the guest gets a copy of that, in low memory. */
	if (bi->rsdp && bi->rsdp_len)
		si->rsdp_paddr = info_buf_put(&b, bi->rsdp, bi->rsdp_len, RSDP_ALIGN);
	return b.overflow ? 0 : b.used;
}
