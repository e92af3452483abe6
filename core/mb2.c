/* SPDX-License-Identifier: BSD-2-Clause */
/* Multiboot2 boot information: bounds-checked parser. */
#include "core/mb2.h"
#include "core/string.h"

/* Tag types (multiboot2 spec 1.0, 3.6). */
enum mb2_tag_type {
	MB2_TAG_END = 0,
	MB2_TAG_CMDLINE = 1,
	MB2_TAG_BOOTLOADER = 2,
	MB2_TAG_MODULE = 3,
	MB2_TAG_BASIC_MEMINFO = 4,
	MB2_TAG_MMAP = 6,
	MB2_TAG_FRAMEBUFFER = 8,
	MB2_TAG_EFI32 = 11,
	MB2_TAG_EFI64 = 12,
	MB2_TAG_ACPI_OLD = 14,
	MB2_TAG_ACPI_NEW = 15,
	MB2_TAG_EFI_MMAP = 17,
	MB2_TAG_EFI_BS = 18,
	MB2_TAG_LOAD_BASE = 21,
};

/* Fixed part of the info (3.6.2) and of every tag. */
#define MB2_INFO_HEADER 8
#define MB2_TAG_HEADER 8
#define MB2_TAG_ALIGN 8
/* The smallest valid info: the fixed part plus an end tag. */
#define MB2_MIN_TOTAL (MB2_INFO_HEADER + MB2_TAG_HEADER)

/* 3.6.8: each entry is base_addr u64, length u64, type u32, reserved u32. */
#define MB2_MMAP_ENTRY_MIN 24
/* RSDP sizes: ACPI 1.0 (20 bytes) and 2.0+ (36 bytes), ACPI 6.5 5.2.5.3. */
#define RSDP_V1_LEN 20
#define RSDP_V2_LEN 36

/*
 * Field readers. Tags are 8-byte aligned but their fields need not be
 * naturally aligned for every layout, so go through memcpy.
 */
static uint8_t rd8(const uint8_t *p)
{
	return *p;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* A string field occupying [s, s+len) must hold its own terminator. */
static bool string_ok(const uint8_t *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] == '\0')
			return true;
	return false;
}

/* A copy of the NUL-terminated s in out->strings; NULL when there is no room. */
static const char *keep_string(const uint8_t *s, struct mb2_info *out)
{
	size_t len = strlen((const char *)s) + 1;
	char *d = out->strings + out->strings_used;

	if (len > sizeof(out->strings) - out->strings_used)
		return NULL;
	memcpy(d, s, len);
	out->strings_used += len;
	return d;
}

/* 3.6.6 Modules: mod_start u32, mod_end u32, then a NUL-terminated string. */
static enum mb2_error parse_module(const uint8_t *tag, uint32_t size, struct mb2_info *out)
{
	struct mb2_module m;

	if (size < 16)
		return MB2_ERR_TAG_SHORT;
	if (!string_ok(tag + 16, size - 16))
		return MB2_ERR_STRING;
	m.start = rd32(tag + 8);
	m.end = rd32(tag + 12);
	if (m.end < m.start)
		return MB2_ERR_MODULE;
	if (out->module_count == MB2_MAX_MODULES) {
		out->modules_truncated = true;
		return MB2_OK;
	}
	m.cmdline = keep_string(tag + 16, out);
	if (!m.cmdline)
		return MB2_ERR_STRINGS;
	out->modules[out->module_count++] = m;
	return MB2_OK;
}

/*
 * 3.6.8 Memory map: entry_size u32, entry_version u32, then entries of
 * entry_size bytes. entry_size may grow in later versions, so step by it
 * rather than by the 24 bytes we read; a trailing partial entry is ignored.
 */
static enum mb2_error parse_mmap(const uint8_t *tag, uint32_t size, struct mb2_info *out)
{
	uint32_t entry_size, off;

	if (size < 16)
		return MB2_ERR_TAG_SHORT;
	entry_size = rd32(tag + 8);
	/* The spec guarantees a multiple of 8 so that entries stay aligned. */
	if (entry_size < MB2_MMAP_ENTRY_MIN || entry_size % 8)
		return MB2_ERR_MMAP;

	for (off = 16; size - off >= entry_size; off += entry_size) {
		const uint8_t *e = tag + off;

		if (out->mmap_count == MB2_MAX_MMAP) {
			out->mmap_truncated = true;
			break;
		}
		out->mmap[out->mmap_count++] = (struct mb2_mmap_entry){
			.base = rd64(e),
			.length = rd64(e + 8),
			.type = rd32(e + 16),
		};
	}
	return MB2_OK;
}

/* 3.6.12 Framebuffer info: common part up to and including the reserved byte. */
static enum mb2_error parse_framebuffer(const uint8_t *tag, uint32_t size, struct mb2_info *out)
{
	if (size < 31)
		return MB2_ERR_TAG_SHORT;
	out->has_framebuffer = true;
	out->fb_addr = rd64(tag + 8);
	out->fb_pitch = rd32(tag + 16);
	out->fb_width = rd32(tag + 20);
	out->fb_height = rd32(tag + 24);
	out->fb_bpp = rd8(tag + 28);
	out->fb_type = rd8(tag + 29);
	return MB2_OK;
}

/*
 * 3.6.16/3.6.17: a copy of the RSDP follows the header. The new (2.0+)
 * RSDP carries the XSDT, so it wins whichever order the tags come in.
 */
static enum mb2_error parse_acpi(const uint8_t *tag, uint32_t size, uint32_t type,
				 struct mb2_info *out)
{
	size_t len = size - MB2_TAG_HEADER;

	if (len < (type == MB2_TAG_ACPI_NEW ? RSDP_V2_LEN : RSDP_V1_LEN))
		return MB2_ERR_RSDP;
	if (type == MB2_TAG_ACPI_OLD && out->rsdp_tag == MB2_TAG_ACPI_NEW)
		return MB2_OK;
	len = MIN(len, sizeof(out->rsdp_copy));
	memcpy(out->rsdp_copy, tag + MB2_TAG_HEADER, len);
	out->rsdp = out->rsdp_copy;
	out->rsdp_len = len;
	out->rsdp_tag = (int)type;
	return MB2_OK;
}

static enum mb2_error parse_tag(const uint8_t *tag, uint32_t type, uint32_t size,
				struct mb2_info *out)
{
	switch (type) {
	case MB2_TAG_CMDLINE: /* 3.6.5 */
	case MB2_TAG_BOOTLOADER: /* 3.6.9 */ {
		const char *s;

		if (!string_ok(tag + MB2_TAG_HEADER, size - MB2_TAG_HEADER))
			return MB2_ERR_STRING;
		s = keep_string(tag + MB2_TAG_HEADER, out);
		if (!s)
			return MB2_ERR_STRINGS;
		if (type == MB2_TAG_CMDLINE)
			out->cmdline = s;
		else
			out->bootloader = s;
		return MB2_OK;
	}
	case MB2_TAG_MODULE:
		return parse_module(tag, size, out);
	case MB2_TAG_BASIC_MEMINFO: /* 3.6.3: mem_lower u32, mem_upper u32 */
		if (size < 16)
			return MB2_ERR_TAG_SHORT;
		out->has_basic_meminfo = true;
		out->mem_lower_kb = rd32(tag + 8);
		out->mem_upper_kb = rd32(tag + 12);
		return MB2_OK;
	case MB2_TAG_MMAP:
		return parse_mmap(tag, size, out);
	case MB2_TAG_FRAMEBUFFER:
		return parse_framebuffer(tag, size, out);
	case MB2_TAG_EFI32: /* 3.6.13: pointer u32 */
		if (size < 12)
			return MB2_ERR_TAG_SHORT;
		out->has_efi32 = true;
		out->efi32_system_table = rd32(tag + 8);
		return MB2_OK;
	case MB2_TAG_EFI64: /* 3.6.14: pointer u64 */
		if (size < 16)
			return MB2_ERR_TAG_SHORT;
		out->has_efi64 = true;
		out->efi64_system_table = rd64(tag + 8);
		return MB2_OK;
	case MB2_TAG_ACPI_OLD:
	case MB2_TAG_ACPI_NEW:
		return parse_acpi(tag, size, type, out);
	case MB2_TAG_EFI_MMAP: /* 3.6.19: descriptor size u32, version u32, map */
		if (size < 16)
			return MB2_ERR_TAG_SHORT;
		out->has_efi_mmap = true;
		return MB2_OK;
	case MB2_TAG_EFI_BS: /* 3.6.20: no payload */
		out->efi_boot_services_active = true;
		return MB2_OK;
	case MB2_TAG_LOAD_BASE: /* 3.6.23: load_base_addr u32 */
		if (size < 12)
			return MB2_ERR_TAG_SHORT;
		out->has_load_base = true;
		out->load_base_addr = rd32(tag + 8);
		return MB2_OK;
	default:
		/* 3.6.2: the OS must skip tags it does not understand. */
		return MB2_OK;
	}
}

BOOT_CODE enum mb2_error mb2_parse(uint32_t magic, const void *info, size_t max_len,
				   struct mb2_info *out)
{
	const uint8_t *base = info;
	uint32_t total;
	size_t off;

	memset(out, 0, sizeof(*out));
	if (magic != MB2_BOOTLOADER_MAGIC)
		return MB2_ERR_MAGIC;
	if (!info)
		return MB2_ERR_NULL;
	/* 3.6.2: "Its start is 8-bytes aligned". */
	if (!IS_ALIGNED((uintptr_t)info, MB2_TAG_ALIGN))
		return MB2_ERR_ALIGN;
	if (max_len < MB2_MIN_TOTAL)
		return MB2_ERR_SIZE;
	total = rd32(base);
	if (total < MB2_MIN_TOTAL || total > max_len)
		return MB2_ERR_SIZE;
	out->total_size = total;

	/* From here every read stays below total, which is <= max_len. */
	for (off = MB2_INFO_HEADER; total - off >= MB2_TAG_HEADER;) {
		const uint8_t *tag = base + off;
		uint32_t type = rd32(tag), size = rd32(tag + 4);
		enum mb2_error err;

		if (size < MB2_TAG_HEADER || size > total - off)
			return MB2_ERR_TAG_SIZE;
		if (type == MB2_TAG_END)
			return size == MB2_TAG_HEADER ? MB2_OK : MB2_ERR_NO_END;
		err = parse_tag(tag, type, size, out);
		if (err != MB2_OK)
			return err;
		/* 3.6.2: tags are padded so that each starts 8-byte aligned. */
		off += ALIGN_UP((size_t)size, MB2_TAG_ALIGN);
		if (off > total)
			break;
	}
	return MB2_ERR_NO_END;
}

const char *mb2_strerror(enum mb2_error err)
{
	static const char *const msgs[] = {
		[MB2_OK] = "ok",
		[MB2_ERR_MAGIC] = "bad bootloader magic",
		[MB2_ERR_NULL] = "info pointer is NULL",
		[MB2_ERR_ALIGN] = "info not 8-byte aligned",
		[MB2_ERR_SIZE] = "bad total_size",
		[MB2_ERR_TAG_SIZE] = "tag size out of bounds",
		[MB2_ERR_NO_END] = "no end tag",
		[MB2_ERR_STRING] = "string not NUL-terminated",
		[MB2_ERR_MMAP] = "bad memory map entry_size",
		[MB2_ERR_MODULE] = "module ends before it starts",
		[MB2_ERR_RSDP] = "ACPI tag too small for an RSDP",
		[MB2_ERR_TAG_SHORT] = "tag shorter than its fields",
		[MB2_ERR_STRINGS] = "command lines too long in total",
	};

	if ((unsigned int)err >= ARRAY_SIZE(msgs) || !msgs[err])
		return "unknown error";
	return msgs[err];
}

const char *mb2_mem_type_name(uint32_t type)
{
	switch (type) {
	case MB2_MEM_AVAILABLE:
		return "available";
	case MB2_MEM_RESERVED:
		return "reserved";
	case MB2_MEM_ACPI_RECLAIMABLE:
		return "ACPI reclaimable";
	case MB2_MEM_NVS:
		return "ACPI NVS";
	case MB2_MEM_BADRAM:
		return "bad RAM";
	default:
		/* 3.6.8: any other value is reserved memory too. */
		return "reserved (unknown type)";
	}
}
