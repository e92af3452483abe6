/* SPDX-License-Identifier: BSD-2-Clause */
/* L1 loader: find the multiboot header, check the ELF, place it, build the boot info. */
#include "core/loader.h"
#include "core/format.h"
#include "core/pvh.h"
#include "core/string.h"

#define MB1_HEADER_MAGIC 0x1badb002u
#define MB1_SEARCH 8192
#define MB2_HEADER_MAGIC 0xe85250d6u
#define MB2_SEARCH 32768

/* Multiboot 0.6.96 3.1.2: flags bits 0-15 the loader must understand. */
#define MB1_FLAG_PAGE_ALIGN BIT(0)
#define MB1_FLAG_MEMORY_INFO BIT(1)
#define MB1_FLAG_VIDEO_MODE BIT(2)
#define MB1_UNDERSTOOD (MB1_FLAG_PAGE_ALIGN | MB1_FLAG_MEMORY_INFO | MB1_FLAG_VIDEO_MODE)

/* ELF (System V ABI, gABI 4.1). */
#define EI_CLASS 4
#define ELFCLASS32 1
#define ELFCLASS64 2
#define EI_DATA 5
#define ELFDATA2LSB 1
#define ET_EXEC 2
#define EM_386 3
#define EM_X86_64 62
#define PT_LOAD 1

struct elf32_ehdr {
	uint8_t ident[16];
	uint16_t type, machine;
	uint32_t version, entry, phoff, shoff, flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
} __packed;

struct elf64_ehdr {
	uint8_t ident[16];
	uint16_t type, machine;
	uint32_t version;
	uint64_t entry, phoff, shoff;
	uint32_t flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
} __packed;

struct elf32_phdr {
	uint32_t type, offset, vaddr, paddr, filesz, memsz, flags, align;
} __packed;

struct elf64_phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
} __packed;

_Static_assert(sizeof(struct elf32_ehdr) == 52, "ELF32 header");
_Static_assert(sizeof(struct elf64_ehdr) == 64, "ELF64 header");
_Static_assert(sizeof(struct elf32_phdr) == 32, "ELF32 program header");
_Static_assert(sizeof(struct elf64_phdr) == 56, "ELF64 program header");

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

/* Multiboot2 spec 3.1: header tags; refuse what umbra cannot honour unless optional. */
static bool check_mb2_header(const uint8_t *h, uint32_t len, size_t avail, struct loader_image *out,
			     bool *has_entry, char *err, size_t errlen)
{
	uint32_t off = 16;

	if (len < 24 || len > avail)
		LOADER_FAIL("multiboot2 header length %u is out of bounds", len);
	while (off + 8 <= len) {
		uint16_t type = rd16(h + off), flags = rd16(h + off + 2);
		uint32_t size = loader_rd32(h + off + 4);
		bool optional = flags & 1;

		if (size < 8 || size > len - off)
			LOADER_FAIL("multiboot2 header tag %u at offset %u has bad size %u", type, off, size);
		switch (type) {
		case 0: /* end */
			return true;
		case 1: /* information request */
			for (uint32_t i = 8; i + 4 <= size; i += 4) {
				uint32_t req = loader_rd32(h + off + i);
				bool have = req == 1 || req == 2 || req == 3 || req == 4 || req == 6 ||
					    req == 14 || req == 15;

				if (!have && !optional)
					LOADER_FAIL("the kernel requires boot information tag %u, which umbra "
					     "does not provide", req);
			}
			break;
		case 3: /* entry address */
			if (size < 12)
				LOADER_FAIL("multiboot2 entry address tag too short");
			out->entry = loader_rd32(h + off + 8);
			*has_entry = true;
			break;
		case 2: /* a.out kludge: the ELF headers are used instead */
		case 4: /* console flags */
		case 6: /* module alignment: modules are page aligned already */
		case 8: /* EFI i386 entry: not an EFI boot, the 32-bit entry is used */
		case 9: /* EFI amd64 entry: likewise */
		case 10: /* relocatable: loaded at its link address */
			break;
		default: /* 5 framebuffer, 7 EFI boot services, and anything unknown */
			if (!optional)
				LOADER_FAIL("the kernel requires multiboot2 header tag %u, which umbra cannot honour",
				     type);
			break;
		}
		off += ALIGN_UP(size, 8);
	}
	LOADER_FAIL("multiboot2 header has no end tag");
}

static bool find_multiboot(const uint8_t *p, size_t size, struct loader_image *out, bool *has_entry,
			   char *err, size_t errlen)
{
	for (size_t off = 0; off + 16 <= MIN(size, (size_t)MB2_SEARCH); off += 8) {
		uint32_t magic = loader_rd32(p + off), arch = loader_rd32(p + off + 4), len = loader_rd32(p + off + 8);

		if (magic != MB2_HEADER_MAGIC || magic + arch + len + loader_rd32(p + off + 12) != 0)
			continue;
		out->kind = LOADER_MULTIBOOT2; /* set first: a bad header is not "no header" */
		if (arch != 0)
			LOADER_FAIL("multiboot2 header for architecture %u, not i386", arch);
		return check_mb2_header(p + off, len, size - off, out, has_entry, err, errlen);
	}
	for (size_t off = 0; off + 12 <= MIN(size, (size_t)MB1_SEARCH); off += 4) {
		uint32_t magic = loader_rd32(p + off), flags = loader_rd32(p + off + 4);

		if (magic != MB1_HEADER_MAGIC || magic + flags + loader_rd32(p + off + 8) != 0)
			continue;
		out->kind = LOADER_MULTIBOOT1;
		if (flags & 0xffff & ~MB1_UNDERSTOOD)
			LOADER_FAIL("multiboot header requires unknown features (flags %#x)", flags);
		return true;
	}
	LOADER_FAIL("no multiboot or multiboot2 header in the first %u bytes", MB2_SEARCH);
}

static bool add_segment(struct loader_image *out, uint64_t paddr, uint64_t offset, uint64_t filesz,
			uint64_t memsz, size_t size, char *err, size_t errlen)
{
	struct loader_segment *s;

	if (memsz == 0)
		return true;
	if (filesz > memsz || offset > size || filesz > size - offset)
		LOADER_FAIL("ELF segment at %#lx: file range out of bounds or larger than memory size", paddr);
	if (paddr + memsz < paddr || paddr + memsz > GiB(4))
		LOADER_FAIL("ELF segment at %#lx (%#lx bytes) does not fit below 4 GiB", paddr, memsz);
	if (out->nsegs == LOADER_MAX_SEGMENTS)
		LOADER_FAIL("more than %d loadable ELF segments", LOADER_MAX_SEGMENTS);
	s = &out->segs[out->nsegs++];
	*s = (struct loader_segment){ paddr, offset, filesz, memsz };
	out->load_start = out->nsegs == 1 ? paddr : MIN(out->load_start, paddr);
	out->load_end = MAX(out->load_end, paddr + memsz);
	return true;
}

bool loader_parse(const void *image, size_t size, struct loader_image *out, char *err, size_t errlen)
{
	const uint8_t *p = image;
	bool has_entry = false;
	uint64_t entry, phoff;
	uint16_t phnum, phentsize;
	bool is64;

	memset(out, 0, sizeof(*out));
	if (!find_multiboot(p, size, out, &has_entry, err, errlen)) {
		/* No multiboot header at all (kind unset): a PVH kernel, such as Linux's vmlinux? */
		enum pvh_note pvh = out->kind ? PVH_NOTE_NONE : pvh_find_entry(p, size, &out->entry, err, errlen);

		if (pvh != PVH_NOTE_FOUND) {
			if (!out->kind && pvh == PVH_NOTE_NONE)
				LOADER_FAIL("no multiboot or multiboot2 header in the first %u bytes and no PVH "
				     "entry note", MB2_SEARCH);
			return false;
		}
		out->kind = LOADER_PVH;
		has_entry = true;
	}
	if (size < sizeof(struct elf32_ehdr) || memcmp(p, "\177ELF", 4) != 0)
		LOADER_FAIL("not an ELF file (only ELF multiboot kernels are supported)");
	if (p[EI_DATA] != ELFDATA2LSB)
		LOADER_FAIL("ELF file is not little-endian");
	is64 = p[EI_CLASS] == ELFCLASS64;
	if (!is64 && p[EI_CLASS] != ELFCLASS32)
		LOADER_FAIL("unknown ELF class %u", p[EI_CLASS]);
	if (is64) {
		struct elf64_ehdr eh;

		if (size < sizeof(eh))
			LOADER_FAIL("truncated ELF64 header");
		memcpy(&eh, p, sizeof(eh));
		if (eh.machine != EM_X86_64)
			LOADER_FAIL("ELF64 machine %u is not x86-64", eh.machine);
		if (eh.type != ET_EXEC)
			LOADER_FAIL("ELF type %u is not an executable", eh.type);
		entry = eh.entry, phoff = eh.phoff, phnum = eh.phnum, phentsize = eh.phentsize;
		if (phentsize < sizeof(struct elf64_phdr))
			LOADER_FAIL("ELF program header size %u too small", phentsize);
	} else {
		struct elf32_ehdr eh;

		memcpy(&eh, p, sizeof(eh));
		if (eh.machine != EM_386)
			LOADER_FAIL("ELF32 machine %u is not i386", eh.machine);
		if (eh.type != ET_EXEC)
			LOADER_FAIL("ELF type %u is not an executable", eh.type);
		entry = eh.entry, phoff = eh.phoff, phnum = eh.phnum, phentsize = eh.phentsize;
		if (phentsize < sizeof(struct elf32_phdr))
			LOADER_FAIL("ELF program header size %u too small", phentsize);
	}
	if (phnum == 0 || phoff > size || (uint64_t)phnum * phentsize > size - phoff)
		LOADER_FAIL("ELF program headers out of bounds");
	for (uint16_t i = 0; i < phnum; i++) {
		const uint8_t *ph = p + phoff + (uint64_t)i * phentsize;
		bool ok;

		if (is64) {
			struct elf64_phdr h;

			memcpy(&h, ph, sizeof(h));
			if (h.type != PT_LOAD)
				continue;
			ok = add_segment(out, h.paddr, h.offset, h.filesz, h.memsz, size, err, errlen);
		} else {
			struct elf32_phdr h;

			memcpy(&h, ph, sizeof(h));
			if (h.type != PT_LOAD)
				continue;
			ok = add_segment(out, h.paddr, h.offset, h.filesz, h.memsz, size, err, errlen);
		}
		if (!ok)
			return false;
	}
	if (!out->nsegs)
		LOADER_FAIL("ELF file has no loadable segments");
	if (!has_entry) {
		if (entry >= GiB(4))
			LOADER_FAIL("ELF entry point %#lx is not a 32-bit address", entry);
		out->entry = (uint32_t)entry;
	}
	return true;
}

static bool in_range(const struct loader_range *r, uint64_t a)
{
	return a >= r->base && a < r->end;
}

static void push(struct guest_memmap *out, uint64_t base, uint64_t end, uint32_t type)
{
	struct mb2_mmap_entry *last = out->n ? &out->e[out->n - 1] : NULL;

	if (end <= base)
		return;
	if (last && last->type == type && last->base + last->length == base) {
		last->length += end - base;
		return;
	}
	if (out->n == ARRAY_SIZE(out->e)) {
		out->truncated = true;
		return;
	}
	out->e[out->n++] = (struct mb2_mmap_entry){ base, end - base, type };
}

/* Available RAM is cut wherever umbra or the limit starts or ends; those pieces become reserved. */
void loader_build_memmap(const struct mb2_mmap_entry *host, size_t nhost, const struct loader_range *umbra,
			 size_t numbra, uint64_t limit, struct guest_memmap *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < nhost; i++) {
		uint64_t at = host[i].base, e = host[i].base + host[i].length;

		if (host[i].type != MB2_MEM_AVAILABLE) {
			push(out, at, e, host[i].type);
			continue;
		}
		/* Walk from boundary to boundary: the next umbra edge, the limit, or the end. */
		while (at < e) {
			uint64_t next = e;
			bool mine = limit && at >= limit;

			if (limit > at)
				next = MIN(next, limit);
			for (size_t u = 0; u < numbra; u++) {
				mine |= in_range(&umbra[u], at);
				if (umbra[u].base > at)
					next = MIN(next, umbra[u].base);
				if (umbra[u].end > at)
					next = MIN(next, umbra[u].end);
			}
			push(out, at, next, mine ? MB2_MEM_RESERVED : MB2_MEM_AVAILABLE);
			at = next;
		}
	}
}

bool loader_range_is_ram(const struct guest_memmap *map, uint64_t base, uint64_t end)
{
	uint64_t at = base;
	bool progress = true;

	/* Walk forward through available entries that cover `at`, in any order. */
	while (at < end && progress) {
		progress = false;
		for (size_t i = 0; i < map->n; i++) {
			const struct mb2_mmap_entry *e = &map->e[i];

			if (e->type == MB2_MEM_AVAILABLE && at >= e->base && at < e->base + e->length) {
				at = e->base + e->length;
				progress = true;
			}
		}
	}
	return at >= end;
}

bool loader_check_placement(const struct loader_image *img, const struct guest_memmap *map,
			    const struct loader_range *busy, size_t nbusy, char *err, size_t errlen)
{
	for (size_t i = 0; i < img->nsegs; i++) {
		uint64_t b = img->segs[i].paddr, e = b + img->segs[i].memsz;

		if (!loader_range_is_ram(map, b, e))
			LOADER_FAIL("kernel segment [%#lx-%#lx) is not in the guest's RAM (umbra's memory "
			     "or a hole)", b, e);
		for (size_t k = 0; k < nbusy; k++)
			if (b < busy[k].end && e > busy[k].base)
				LOADER_FAIL("kernel segment [%#lx-%#lx) overlaps [%#lx-%#lx) (a module or "
				     "boot information)", b, e, busy[k].base, busy[k].end);
	}
	return true;
}

bool loader_copy(const struct loader_image *img, const void *image,
		 void *(*phys)(uint64_t pa, uint64_t len))
{
	for (size_t i = 0; i < img->nsegs; i++) {
		const struct loader_segment *s = &img->segs[i];
		uint8_t *dst = s->memsz ? phys(s->paddr, s->memsz) : NULL;

		if (!s->memsz)
			continue;
		if (!dst)
			return false;
		memmove(dst, (const uint8_t *)image + s->offset, s->filesz);
		memset(dst + s->filesz, 0, s->memsz - s->filesz);
	}
	return true;
}

bool loader_find_free(const struct guest_memmap *map, const struct loader_range *busy, size_t nbusy,
		      uint64_t size, uint64_t align, uint64_t limit, uint64_t *out)
{
	uint64_t best = 0;
	bool found = false;

	if (!size || !align || (align & (align - 1)))
		return false;
	for (size_t i = 0; i < map->n; i++) {
		const struct mb2_mmap_entry *e = &map->e[i];
		uint64_t lo = e->base, hi = MIN(e->base + e->length, limit);

		if (e->type != MB2_MEM_AVAILABLE)
			continue;
		/* Slide down from the top past every busy range in the way. */
		while (hi > lo && hi - lo >= size) {
			uint64_t at = ALIGN_DOWN(hi - size, align);
			bool clash = false;

			if (at < lo)
				break;
			for (size_t k = 0; k < nbusy; k++)
				if (at < busy[k].end && at + size > busy[k].base) {
					hi = MIN(hi, busy[k].base);
					clash = true;
				}
			if (clash)
				continue;
			if (!found || at > best)
				best = at;
			found = true;
			break;
		}
	}
	if (found)
		*out = best;
	return found;
}

void *info_buf_take(struct info_buf *b, size_t len, size_t align)
{
	size_t at = ALIGN_UP(b->used, align);

	if (at > b->size || len > b->size - at) {
		b->overflow = true;
		return NULL;
	}
	b->used = at + len;
	memset(b->base + at, 0, len);
	return b->base + at;
}

uint32_t info_buf_pa(const struct info_buf *b, const void *p)
{
	return b->pa + (uint32_t)((const uint8_t *)p - b->base);
}

uint32_t info_buf_put_string(struct info_buf *b, const char *s)
{
	size_t len = strlen(s ? s : "") + 1;
	char *d = info_buf_take(b, len, 1);

	if (!d)
		return 0;
	memcpy(d, s ? s : "", len);
	return info_buf_pa(b, d);
}

uint32_t info_buf_put(struct info_buf *b, const void *p, size_t len, size_t align)
{
	void *d = info_buf_take(b, len, align);

	if (!d)
		return 0;
	memcpy(d, p, len);
	return info_buf_pa(b, d);
}

/* mem_lower/mem_upper (KiB): RAM at 0 up to 640 KiB, and contiguous RAM from 1 MiB. */
static void basic_meminfo(const struct guest_memmap *m, uint32_t *lower, uint32_t *upper)
{
	uint64_t end;

	*lower = *upper = 0;
	for (end = 0; end < KiB(640) && loader_range_is_ram(m, end, end + KiB(1)); end += KiB(1))
		;
	*lower = (uint32_t)(end >> 10);
	for (end = MiB(1); end < GiB(4); end += MiB(1)) /* coarse but bounded */
		if (!loader_range_is_ram(m, end, end + MiB(1)))
			break;
	*upper = (uint32_t)((end - MiB(1)) >> 10);
}

/* Multiboot 0.6.96 3.3: the info structure and its tables. */
static size_t build_mb1(const struct loader_boot_info *bi, struct info_buf *b)
{
	uint32_t *info = info_buf_take(b, 88, 8);
	uint32_t *mods, *mm;

	if (!info)
		return 0;
	info[0] = BIT(0) | BIT(2) | BIT(6) | BIT(9); /* mem, cmdline, mmap, loader name */
	basic_meminfo(bi->map, &info[1], &info[2]);
	info[4] = info_buf_put_string(b, bi->cmdline);
	info[16] = info_buf_put_string(b, bi->bootloader);
	if (bi->nmodules) {
		mods = info_buf_take(b, 16 * bi->nmodules, 8);
		if (!mods)
			return 0;
		for (size_t i = 0; i < bi->nmodules; i++) {
			mods[4 * i] = bi->modules[i].start;
			mods[4 * i + 1] = bi->modules[i].end;
			mods[4 * i + 2] = info_buf_put_string(b, bi->modules[i].cmdline);
		}
		info[0] |= BIT(3);
		info[5] = (uint32_t)bi->nmodules;
		info[6] = info_buf_pa(b, mods);
	}
	/* Entries of 24 bytes: size (20), base, length, type. */
	mm = info_buf_take(b, 24 * bi->map->n, 8);
	if (!mm)
		return 0;
	for (size_t i = 0; i < bi->map->n; i++) {
		uint8_t *e = (uint8_t *)mm + 24 * i;
		uint32_t sz = 20;

		memcpy(e, &sz, 4);
		memcpy(e + 4, &bi->map->e[i].base, 8);
		memcpy(e + 12, &bi->map->e[i].length, 8);
		memcpy(e + 20, &bi->map->e[i].type, 4);
	}
	info[11] = (uint32_t)(24 * bi->map->n);
	info[12] = info_buf_pa(b, mm);
	return b->overflow ? 0 : b->used;
}

static uint32_t *mb2_tag(struct info_buf *b, uint32_t type, size_t size)
{
	uint32_t *t = info_buf_take(b, size, 8);

	if (t) {
		t[0] = type;
		t[1] = (uint32_t)size;
	}
	return t;
}

static void mb2_string_tag(struct info_buf *b, uint32_t type, const char *s)
{
	size_t len = strlen(s ? s : "") + 1;
	uint32_t *t = mb2_tag(b, type, 8 + len);

	if (t)
		memcpy(t + 2, s ? s : "", len);
}

/* Multiboot2 1.0 3.6: fixed part, then 8-byte aligned tags, then the end tag. */
static size_t build_mb2(const struct loader_boot_info *bi, struct info_buf *b)
{
	uint32_t *head = info_buf_take(b, 8, 8), *t;

	if (!head)
		return 0;
	mb2_string_tag(b, 1, bi->cmdline);
	mb2_string_tag(b, 2, bi->bootloader);
	for (size_t i = 0; i < bi->nmodules; i++) {
		const char *s = bi->modules[i].cmdline ? bi->modules[i].cmdline : "";
		size_t len = strlen(s) + 1;

		t = mb2_tag(b, 3, 16 + len);
		if (t) {
			t[2] = bi->modules[i].start;
			t[3] = bi->modules[i].end;
			memcpy(t + 4, s, len);
		}
	}
	t = mb2_tag(b, 4, 16);
	if (t)
		basic_meminfo(bi->map, &t[2], &t[3]);
	t = mb2_tag(b, 6, 16 + 24 * bi->map->n);
	if (t) {
		t[2] = 24; /* entry size */
		t[3] = 0;  /* entry version */
		for (size_t i = 0; i < bi->map->n; i++) {
			uint8_t *e = (uint8_t *)(t + 4) + 24 * i;

			memcpy(e, &bi->map->e[i].base, 8);
			memcpy(e + 8, &bi->map->e[i].length, 8);
			memcpy(e + 16, &bi->map->e[i].type, 4);
		}
	}
	if (bi->rsdp && bi->rsdp_len) {
		t = mb2_tag(b, (uint32_t)bi->rsdp_tag, 8 + bi->rsdp_len);
		if (t)
			memcpy(t + 2, bi->rsdp, bi->rsdp_len);
	}
	mb2_tag(b, 0, 8);
	if (b->overflow)
		return 0;
	head[0] = (uint32_t)b->used;
	head[1] = 0;
	return b->used;
}

size_t loader_build_info(enum loader_kind kind, const struct loader_boot_info *bi, void *buf,
			 size_t size, uint32_t buf_pa)
{
	struct info_buf b = { buf, size, 0, buf_pa, false };

	if (kind == LOADER_PVH)
		return pvh_build_start_info(bi, buf, size, buf_pa);
	return kind == LOADER_MULTIBOOT1 ? build_mb1(bi, &b) : build_mb2(bi, &b);
}
