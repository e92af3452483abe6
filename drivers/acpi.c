/* SPDX-License-Identifier: BSD-2-Clause */
/* ACPI tables: RSDP -> XSDT/RSDT -> MADT, FADT (+ \_S5 from DSDT), HPET. */
#include "drivers/acpi.h"
#include "core/string.h"

/*
 * Table layouts. Section numbers are from the ACPI 6.5 specification; the
 * HPET table is from the IA-PC HPET specification 1.0a. Firmware tables
 * have no alignment guarantees, so everything is read by copying into these
 * packed structures.
 */

/* 5.2.5.3 RSDP structure; the first 20 bytes are the ACPI 1.0 layout. */
struct acpi_rsdp {
	char signature[8];
	uint8_t checksum;
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt_address;
	uint32_t length; /* revision >= 2 only, from here on */
	uint64_t xsdt_address;
	uint8_t extended_checksum;
	uint8_t reserved[3];
} __packed;
_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP layout");

#define RSDP_V1_LEN 20

/* 5.2.6 System Description Table Header. */
struct acpi_sdt_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	uint32_t creator_id;
	uint32_t creator_revision;
} __packed;
_Static_assert(sizeof(struct acpi_sdt_header) == 36, "SDT header layout");

/* 5.2.3.2 Generic Address Structure. */
struct acpi_gas {
	uint8_t space_id;
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;
	uint64_t address;
} __packed;
_Static_assert(sizeof(struct acpi_gas) == 12, "GAS layout");

/* 5.2.3.2 Table 5.1: address space IDs. */
#define ACPI_SPACE_SYSTEM_MEMORY 0
#define ACPI_SPACE_SYSTEM_IO 1

/* 5.2.9 Fixed ACPI Description Table (revision 6.5 layout, 276 bytes). */
struct acpi_fadt {
	struct acpi_sdt_header hdr;
	uint32_t firmware_ctrl;
	uint32_t dsdt;
	uint8_t reserved0;
	uint8_t preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable;
	uint8_t acpi_disable;
	uint8_t s4bios_req;
	uint8_t pstate_cnt;
	uint32_t pm1a_evt_blk;
	uint32_t pm1b_evt_blk;
	uint32_t pm1a_cnt_blk;
	uint32_t pm1b_cnt_blk;
	uint32_t pm2_cnt_blk;
	uint32_t pm_tmr_blk;
	uint32_t gpe0_blk;
	uint32_t gpe1_blk;
	uint8_t pm1_evt_len;
	uint8_t pm1_cnt_len;
	uint8_t pm2_cnt_len;
	uint8_t pm_tmr_len;
	uint8_t gpe0_blk_len;
	uint8_t gpe1_blk_len;
	uint8_t gpe1_base;
	uint8_t cst_cnt;
	uint16_t p_lvl2_lat;
	uint16_t p_lvl3_lat;
	uint16_t flush_size;
	uint16_t flush_stride;
	uint8_t duty_offset;
	uint8_t duty_width;
	uint8_t day_alrm;
	uint8_t mon_alrm;
	uint8_t century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags; /* the ACPI 1.0 FADT ends here */
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t fadt_minor_version;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt;
	struct acpi_gas x_pm1a_evt_blk;
	struct acpi_gas x_pm1b_evt_blk;
	struct acpi_gas x_pm1a_cnt_blk;
	struct acpi_gas x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk;
	struct acpi_gas x_pm_tmr_blk;
	struct acpi_gas x_gpe0_blk;
	struct acpi_gas x_gpe1_blk;
	struct acpi_gas sleep_control_reg;
	struct acpi_gas sleep_status_reg;
	uint64_t hypervisor_vendor_id;
} __packed;
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT layout");
_Static_assert(offsetof(struct acpi_fadt, flags) == 112, "FADT flags offset");
_Static_assert(offsetof(struct acpi_fadt, x_dsdt) == 140, "FADT X_DSDT offset");
_Static_assert(offsetof(struct acpi_fadt, x_pm_tmr_blk) == 208, "FADT X_PM_TMR_BLK offset");

/* The FADT grew over revisions; a field counts only if the table's length covers it. */
#define FADT_HAS(len, field) \
	((len) >= offsetof(struct acpi_fadt, field) + sizeof(((struct acpi_fadt *)0)->field))

/* 5.2.9 Table 5.10: FADT fixed feature flags. */
#define FADT_TMR_VAL_EXT BIT(8)
#define FADT_RESET_REG_SUP BIT(10)

/* 5.2.12 Multiple APIC Description Table: header, then variable entries. */
struct acpi_madt {
	struct acpi_sdt_header hdr;
	uint32_t lapic_addr;
	uint32_t flags;
} __packed;
_Static_assert(sizeof(struct acpi_madt) == 44, "MADT layout");

struct madt_entry {
	uint8_t type;
	uint8_t length;
} __packed;

/* 5.2.12.2 Processor Local APIC Structure. */
struct madt_lapic {
	struct madt_entry e;
	uint8_t acpi_uid;
	uint8_t apic_id;
	uint32_t flags;
} __packed;
_Static_assert(sizeof(struct madt_lapic) == 8, "MADT LAPIC layout");

/* 5.2.12.3 I/O APIC Structure. */
struct madt_ioapic {
	struct madt_entry e;
	uint8_t id;
	uint8_t reserved;
	uint32_t addr;
	uint32_t gsi_base;
} __packed;
_Static_assert(sizeof(struct madt_ioapic) == 12, "MADT IOAPIC layout");

/* 5.2.12.8 Local APIC Address Override Structure. */
struct madt_lapic_override {
	struct madt_entry e;
	uint16_t reserved;
	uint64_t addr;
} __packed;
_Static_assert(sizeof(struct madt_lapic_override) == 12, "MADT LAPIC override layout");

/* 5.2.12.12 Processor Local x2APIC Structure. */
struct madt_x2apic {
	struct madt_entry e;
	uint16_t reserved;
	uint32_t x2apic_id;
	uint32_t flags;
	uint32_t acpi_uid;
} __packed;
_Static_assert(sizeof(struct madt_x2apic) == 16, "MADT x2APIC layout");

enum madt_type {
	MADT_LAPIC = 0,
	MADT_IOAPIC = 1,
	MADT_LAPIC_OVERRIDE = 5,
	MADT_X2APIC = 9,
};

/* 5.2.12.2 Table 5.23: Local APIC flags (shared by the x2APIC entry). */
#define MADT_CPU_ENABLED BIT(0)
#define MADT_CPU_ONLINE_CAPABLE BIT(1)

/* IA-PC HPET specification 1.0a, 3.2.4 "The ACPI 2.0 HPET Description Table". */
struct acpi_hpet {
	struct acpi_sdt_header hdr;
	uint32_t event_timer_block_id;
	struct acpi_gas base_address;
	uint8_t hpet_number;
	uint16_t min_tick;
	uint8_t page_protection;
} __packed;
_Static_assert(sizeof(struct acpi_hpet) == 56, "HPET layout");

/* 20.2 AML encoding: the few opcodes needed to read \_S5_. */
#define AML_ZERO_OP 0x00
#define AML_ONE_OP 0x01
#define AML_NAME_OP 0x08
#define AML_BYTE_PREFIX 0x0a
#define AML_PACKAGE_OP 0x12
#define AML_ROOT_CHAR '\\'

/*
 * No real table comes close to this; a larger length is corruption, and
 * mapping it could walk off the end of RAM.
 */
#define ACPI_MAX_TABLE_LEN (16u << 20)

bool acpi_checksum_ok(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum = (uint8_t)(sum + *b++);
	return sum == 0;
}

static bool is_io_port(const struct acpi_gas *g)
{
	return g->space_id == ACPI_SPACE_SYSTEM_IO && g->address && g->address <= 0xffff;
}

/* 5.2.5.3: the v1 checksum covers 20 bytes, the extended one all of length. */
static enum acpi_error parse_rsdp(const void *p, size_t avail, struct acpi_info *out)
{
	struct acpi_rsdp r = { 0 };

	if (!p || avail < RSDP_V1_LEN)
		return ACPI_ERR_RSDP_LEN;
	memcpy(&r, p, RSDP_V1_LEN);
	if (memcmp(r.signature, "RSD PTR ", sizeof(r.signature)))
		return ACPI_ERR_RSDP_SIG;
	if (!acpi_checksum_ok(p, RSDP_V1_LEN))
		return ACPI_ERR_RSDP_CHECKSUM;

	out->rsdp_revision = r.revision;
	memcpy(out->oem_id, r.oem_id, sizeof(r.oem_id));
	out->oem_id[sizeof(r.oem_id)] = '\0';
	out->rsdt_addr = r.rsdt_address;

	/* Revision 0 is ACPI 1.0; 2 and later carry the XSDT. */
	if (r.revision >= 2) {
		if (avail < sizeof(r))
			return ACPI_ERR_RSDP_LEN;
		memcpy(&r, p, sizeof(r));
		if (r.length < sizeof(r) || r.length > avail)
			return ACPI_ERR_RSDP_LEN;
		if (!acpi_checksum_ok(p, r.length))
			return ACPI_ERR_RSDP_CHECKSUM;
		out->xsdt_addr = r.xsdt_address;
	}
	return ACPI_OK;
}

/*
 * Map the table at phys and check it (5.2.6): signature (when sig is not
 * NULL), a sane length, the whole length mappable, and the checksum.
 */
static enum acpi_error map_table(acpi_map_fn map, void *ctx, uint64_t phys, const char *sig,
				 const uint8_t **table, uint32_t *len)
{
	struct acpi_sdt_header h;
	const void *p;

	if (phys == 0)
		return ACPI_ERR_MAP;
	p = map(ctx, phys, sizeof(h));
	if (!p)
		return ACPI_ERR_MAP;
	memcpy(&h, p, sizeof(h));
	if (sig && memcmp(h.signature, sig, sizeof(h.signature)))
		return ACPI_ERR_SDT_SIG;
	if (h.length < sizeof(h) || h.length > ACPI_MAX_TABLE_LEN)
		return ACPI_ERR_SDT_LEN;
	p = map(ctx, phys, h.length);
	if (!p)
		return ACPI_ERR_MAP;
	if (!acpi_checksum_ok(p, h.length))
		return ACPI_ERR_SDT_CHECKSUM;
	*table = p;
	*len = h.length;
	return ACPI_OK;
}

static void add_cpu(struct acpi_info *out, uint32_t apic_id, uint32_t uid, uint32_t flags,
		    bool x2apic)
{
	if (out->cpu_count == ACPI_MAX_CPUS) {
		out->cpus_truncated = true;
		return;
	}
	out->cpus[out->cpu_count++] = (struct acpi_cpu){
		.apic_id = apic_id,
		.acpi_uid = uid,
		.enabled = flags & MADT_CPU_ENABLED,
		.online_capable = flags & MADT_CPU_ONLINE_CAPABLE,
		.x2apic_entry = x2apic,
	};
}

/*
 * 5.2.12: walk the interrupt controller structures. Every entry must lie
 * wholly inside the table and be at least as long as its known layout;
 * unknown types are skipped by their length.
 */
static enum acpi_error parse_madt(const uint8_t *t, uint32_t len, struct acpi_info *out)
{
	struct acpi_madt m;
	uint32_t off;

	if (len < sizeof(m))
		return ACPI_ERR_MADT;
	memcpy(&m, t, sizeof(m));
	out->lapic_addr = m.lapic_addr;
	out->madt_flags = m.flags;

	for (off = sizeof(m); off < len;) {
		struct madt_entry e;

		if (len - off < sizeof(e))
			return ACPI_ERR_MADT;
		memcpy(&e, t + off, sizeof(e));
		/* Length 0 would loop forever; a short entry hides the next one. */
		if (e.length < sizeof(e) || e.length > len - off)
			return ACPI_ERR_MADT;

		switch (e.type) {
		case MADT_LAPIC: {
			struct madt_lapic l;

			if (e.length < sizeof(l))
				return ACPI_ERR_MADT;
			memcpy(&l, t + off, sizeof(l));
			add_cpu(out, l.apic_id, l.acpi_uid, l.flags, false);
			break;
		}
		case MADT_IOAPIC: {
			struct madt_ioapic io;

			if (e.length < sizeof(io))
				return ACPI_ERR_MADT;
			memcpy(&io, t + off, sizeof(io));
			if (out->ioapic_count < ACPI_MAX_IOAPICS)
				out->ioapics[out->ioapic_count++] = (struct acpi_ioapic){
					.id = io.id,
					.addr = io.addr,
					.gsi_base = io.gsi_base,
				};
			break;
		}
		case MADT_LAPIC_OVERRIDE: {
			struct madt_lapic_override o;

			/* 5.2.12.8: when present, this replaces the 32-bit address. */
			if (e.length < sizeof(o))
				return ACPI_ERR_MADT;
			memcpy(&o, t + off, sizeof(o));
			out->lapic_addr = o.addr;
			break;
		}
		case MADT_X2APIC: {
			struct madt_x2apic x;

			if (e.length < sizeof(x))
				return ACPI_ERR_MADT;
			memcpy(&x, t + off, sizeof(x));
			add_cpu(out, x.x2apic_id, x.acpi_uid, x.flags, true);
			break;
		}
		default:
			break;
		}
		off += e.length;
	}
	out->has_madt = true;
	return ACPI_OK;
}

/* Forget a MADT that turned out bad part way through. */
static void clear_madt(struct acpi_info *out)
{
	out->has_madt = false;
	out->lapic_addr = 0;
	out->madt_flags = 0;
	out->cpu_count = 0;
	out->cpus_truncated = false;
	out->ioapic_count = 0;
}

/* Prefer the 64-bit GAS form when it names an I/O port, else the ACPI 1.0 field. */
static uint32_t fadt_port(const struct acpi_gas *x, bool x_present, uint32_t legacy)
{
	if (x_present && is_io_port(x))
		return (uint32_t)x->address;
	return legacy;
}

static void parse_fadt(const uint8_t *t, uint32_t len, struct acpi_info *out)
{
	struct acpi_fadt f;

	/* Anything shorter than the ACPI 1.0 FADT is not a FADT we can trust. */
	if (!FADT_HAS(len, flags))
		return;
	memset(&f, 0, sizeof(f));
	memcpy(&f, t, MIN((size_t)len, sizeof(f)));

	out->has_fadt = true;
	out->smi_cmd = f.smi_cmd;
	out->acpi_enable = f.acpi_enable;

	/* 5.2.9: a non-zero X_DSDT overrides DSDT. */
	out->dsdt_addr = FADT_HAS(len, x_dsdt) && f.x_dsdt ? f.x_dsdt : f.dsdt;

	out->pm1a_cnt_port =
		fadt_port(&f.x_pm1a_cnt_blk, FADT_HAS(len, x_pm1a_cnt_blk), f.pm1a_cnt_blk);
	out->pm1b_cnt_port =
		fadt_port(&f.x_pm1b_cnt_blk, FADT_HAS(len, x_pm1b_cnt_blk), f.pm1b_cnt_blk);
	out->pm_tmr_port =
		fadt_port(&f.x_pm_tmr_blk, FADT_HAS(len, x_pm_tmr_blk), f.pm_tmr_blk);
	out->pm_tmr_32bit = f.flags & FADT_TMR_VAL_EXT;

	/* 5.2.9: RESET_REG means nothing unless RESET_REG_SUP is set; we only drive I/O ports. */
	if (FADT_HAS(len, reset_value) && (f.flags & FADT_RESET_REG_SUP) && is_io_port(&f.reset_reg)) {
		out->reset_reg_valid = true;
		out->reset_port = (uint16_t)f.reset_reg.address;
		out->reset_value = f.reset_value;
	}
}

/* IA-PC HPET 1.0a 3.2.4: only a memory-mapped block is usable. */
static void parse_hpet(const uint8_t *t, uint32_t len, struct acpi_info *out)
{
	struct acpi_hpet h;

	if (len < sizeof(h))
		return;
	memcpy(&h, t, sizeof(h));
	if (h.base_address.space_id != ACPI_SPACE_SYSTEM_MEMORY || !h.base_address.address)
		return;
	out->has_hpet = true;
	out->hpet_addr = h.base_address.address;
}

/* 20.2.3 ComputationalData: only the encodings firmware uses for SLP_TYP. */
static bool aml_small_int(const uint8_t *p, size_t avail, size_t *used, uint8_t *val)
{
	if (avail < 1)
		return false;
	switch (p[0]) {
	case AML_ZERO_OP:
	case AML_ONE_OP:
		*val = p[0];
		*used = 1;
		return true;
	case AML_BYTE_PREFIX:
		if (avail < 2)
			return false;
		*val = p[1];
		*used = 2;
		return true;
	default:
		return false;
	}
}

/*
 * Decode the body of DefPackage (20.2.5.4) that follows PackageOp:
 * PkgLength NumElements PackageElementList. SLP_TYPa and SLP_TYPb are the
 * first two elements (7.4.2, \_Sx system states).
 */
static bool decode_s5_package(const uint8_t *p, size_t avail, uint8_t *a, uint8_t *b)
{
	size_t follow, pkg_len, off, used;
	size_t i;

	if (avail < 1)
		return false;
	/* 20.2.4: bits 7-6 count the extra length bytes; with extras, bits 3-0 are the low nibble. */
	follow = p[0] >> 6;
	if (avail < 1 + follow)
		return false;
	if (follow == 0) {
		pkg_len = p[0] & 0x3f;
	} else {
		pkg_len = p[0] & 0x0f;
		for (i = 0; i < follow; i++)
			pkg_len |= (size_t)p[1 + i] << (4 + 8 * i);
	}
	/* PkgLength counts itself; the package must fit in what is left of the table. */
	if (pkg_len > avail || pkg_len < 1 + follow + 1)
		return false;
	avail = pkg_len;
	off = 1 + follow;
	if (p[off++] < 2)
		return false;
	if (!aml_small_int(p + off, avail - off, &used, a))
		return false;
	off += used;
	return aml_small_int(p + off, avail - off, &used, b);
}

/*
 * Find Name(\_S5_, Package(){SLP_TYPa, SLP_TYPb, ...}) by pattern rather
 * than by interpreting AML: NameOp, an optional root prefix, "_S5_", then
 * PackageOp (20.2.5.1 DefName).
 */
static bool find_s5(const uint8_t *aml, size_t len, uint8_t *a, uint8_t *b)
{
	size_t i;

	for (i = 1; i + 5 <= len; i++) {
		bool named;

		if (memcmp(aml + i, "_S5_", 4) || aml[i + 4] != AML_PACKAGE_OP)
			continue;
		named = aml[i - 1] == AML_NAME_OP ||
			(i >= 2 && aml[i - 1] == AML_ROOT_CHAR && aml[i - 2] == AML_NAME_OP);
		if (named && decode_s5_package(aml + i + 5, len - i - 5, a, b))
			return true;
	}
	return false;
}

/* 5.2.11.1: the DSDT is an SDT header followed by AML. */
static void parse_dsdt(acpi_map_fn map, void *ctx, struct acpi_info *out)
{
	const uint8_t *t;
	uint32_t len;
	uint8_t a, b;

	if (map_table(map, ctx, out->dsdt_addr, "DSDT", &t, &len) != ACPI_OK)
		return;
	if (find_s5(t + sizeof(struct acpi_sdt_header), len - sizeof(struct acpi_sdt_header), &a, &b)) {
		out->has_s5 = true;
		out->slp_typa = a;
		out->slp_typb = b;
	}
}

/*
 * Map and check the RSDT (5.2.7, 32-bit entries) or XSDT (5.2.8, 64-bit
 * entries); *count is the number of whole entries.
 */
static enum acpi_error map_root(acpi_map_fn map, void *ctx, uint64_t phys, bool xsdt,
				const uint8_t **entries, size_t *count)
{
	const uint8_t *t;
	uint32_t len;
	enum acpi_error err;

	err = map_table(map, ctx, phys, xsdt ? "XSDT" : "RSDT", &t, &len);
	if (err != ACPI_OK)
		return err;
	*entries = t + sizeof(struct acpi_sdt_header);
	*count = (len - sizeof(struct acpi_sdt_header)) / (xsdt ? 8 : 4);
	return ACPI_OK;
}

/* The first good MADT wins; the first bad one's error is kept in case none is good. */
static void handle_madt(acpi_map_fn map, void *ctx, uint64_t phys, struct acpi_info *out,
			enum acpi_error *madt_err)
{
	const uint8_t *t;
	uint32_t len;
	enum acpi_error err;

	if (out->has_madt)
		return;
	err = map_table(map, ctx, phys, "APIC", &t, &len);
	if (err == ACPI_OK) {
		err = parse_madt(t, len, out);
		if (err != ACPI_OK)
			clear_madt(out);
	} else if (err != ACPI_ERR_MAP) {
		err = ACPI_ERR_MADT;
	}
	if (err == ACPI_OK || *madt_err == ACPI_ERR_NO_MADT)
		*madt_err = err;
}

BOOT_CODE enum acpi_error acpi_parse(const void *rsdp, size_t rsdp_len, acpi_map_fn map,
				     void *ctx, struct acpi_info *out)
{
	enum acpi_error err, madt_err = ACPI_ERR_NO_MADT;
	const uint8_t *entries = NULL;
	size_t count = 0, i;
	bool xsdt = false;

	memset(out, 0, sizeof(*out));
	err = parse_rsdp(rsdp, rsdp_len, out);
	if (err != ACPI_OK)
		return err;

	/* 5.2.8: the XSDT supersedes the RSDT; fall back when it is unusable. */
	err = ACPI_ERR_MAP;
	if (out->xsdt_addr) {
		err = map_root(map, ctx, out->xsdt_addr, true, &entries, &count);
		xsdt = err == ACPI_OK;
	}
	if (err != ACPI_OK && out->rsdt_addr)
		err = map_root(map, ctx, out->rsdt_addr, false, &entries, &count);
	if (err != ACPI_OK)
		return err;

	for (i = 0; i < count; i++) {
		struct acpi_sdt_header h;
		const void *p;
		const uint8_t *t;
		uint32_t len;
		uint64_t phys = 0;

		memcpy(&phys, entries + i * (xsdt ? 8 : 4), xsdt ? 8 : 4);
		/* A header we cannot see is a table we cannot identify: skip it. */
		p = phys ? map(ctx, phys, sizeof(h)) : NULL;
		if (!p)
			continue;
		memcpy(&h, p, sizeof(h));

		if (!memcmp(h.signature, "APIC", 4)) {
			handle_madt(map, ctx, phys, out, &madt_err);
		} else if (!memcmp(h.signature, "FACP", 4) && !out->has_fadt) {
			if (map_table(map, ctx, phys, "FACP", &t, &len) == ACPI_OK)
				parse_fadt(t, len, out);
		} else if (!memcmp(h.signature, "HPET", 4) && !out->has_hpet) {
			if (map_table(map, ctx, phys, "HPET", &t, &len) == ACPI_OK)
				parse_hpet(t, len, out);
		}
	}

	if (out->has_fadt && out->dsdt_addr)
		parse_dsdt(map, ctx, out);
	return madt_err;
}

const char *acpi_strerror(enum acpi_error err)
{
	static const char *const msgs[] = {
		[ACPI_OK] = "ok",
		[ACPI_ERR_RSDP_SIG] = "RSDP signature missing",
		[ACPI_ERR_RSDP_CHECKSUM] = "RSDP checksum mismatch",
		[ACPI_ERR_RSDP_LEN] = "RSDP too short",
		[ACPI_ERR_MAP] = "table not mappable",
		[ACPI_ERR_SDT_SIG] = "RSDT/XSDT signature mismatch",
		[ACPI_ERR_SDT_LEN] = "bad table length",
		[ACPI_ERR_SDT_CHECKSUM] = "RSDT/XSDT checksum mismatch",
		[ACPI_ERR_NO_MADT] = "no MADT",
		[ACPI_ERR_MADT] = "malformed MADT",
	};

	if ((unsigned int)err >= ARRAY_SIZE(msgs) || !msgs[err])
		return "unknown error";
	return msgs[err];
}

const void *acpi_map_identity_4g(void *ctx, uint64_t phys, size_t len)
{
	(void)ctx;
	if (phys == 0 || phys >= (4ULL << 30) || len > (4ULL << 30) - phys)
		return NULL;
	return (const void *)(uintptr_t)phys;
}
