/* SPDX-License-Identifier: BSD-2-Clause */
/* ACPI tables: RSDP -> XSDT/RSDT -> MADT, FADT (+ \_S5 from DSDT), HPET. */
#ifndef UMBRA_DRIVERS_ACPI_H
#define UMBRA_DRIVERS_ACPI_H

#include "core/types.h"

#define ACPI_MAX_CPUS 256
#define ACPI_MAX_IOAPICS 8

struct acpi_cpu {
	uint32_t apic_id;
	uint32_t acpi_uid;
	bool enabled;        /* MADT flags bit 0 */
	bool online_capable; /* MADT flags bit 1 (ACPI 6.3+) */
	bool x2apic_entry;   /* came from a type 9 (x2APIC) entry */
};

struct acpi_ioapic {
	uint8_t id;
	uint32_t addr;
	uint32_t gsi_base;
};

struct acpi_info {
	int rsdp_revision;  /* 0 = ACPI 1.0 (RSDT only), 2+ = has XSDT */
	char oem_id[7];     /* NUL-terminated */
	uint64_t rsdt_addr; /* 0 when unused */
	uint64_t xsdt_addr; /* preferred when non-zero and valid */

	bool has_madt;
	uint64_t lapic_addr; /* MADT local APIC address, or the type 5 override */
	uint32_t madt_flags; /* bit 0: PC-AT compatible dual 8259 */
	struct acpi_cpu cpus[ACPI_MAX_CPUS]; /* in MADT order */
	size_t cpu_count;
	bool cpus_truncated;
	struct acpi_ioapic ioapics[ACPI_MAX_IOAPICS];
	size_t ioapic_count;

	bool has_fadt;
	uint64_t dsdt_addr;
	uint32_t smi_cmd;
	uint8_t acpi_enable;
	uint32_t pm1a_cnt_port; /* I/O port (X_PM1a_CNT_BLK when it is system I/O, else PM1a_CNT_BLK) */
	uint32_t pm1b_cnt_port; /* 0 when absent */
	uint32_t pm_tmr_port;   /* ACPI PM timer I/O port, 0 when absent */
	bool pm_tmr_32bit;      /* FADT flags bit 8 TMR_VAL_EXT */
	bool reset_reg_valid;   /* FADT flags bit 10 and reset register in system I/O */
	uint16_t reset_port;
	uint8_t reset_value;

	bool has_s5;            /* \_S5_ found in the DSDT */
	uint8_t slp_typa, slp_typb;

	bool has_hpet;
	uint64_t hpet_addr;
};

enum acpi_error {
	ACPI_OK = 0,
	ACPI_ERR_RSDP_SIG,      /* "RSD PTR " missing */
	ACPI_ERR_RSDP_CHECKSUM, /* first 20 bytes (or extended length) do not sum to 0 */
	ACPI_ERR_RSDP_LEN,      /* buffer too short for the revision's RSDP */
	ACPI_ERR_MAP,           /* a table could not be mapped (map returned NULL) */
	ACPI_ERR_SDT_SIG,       /* RSDT/XSDT signature mismatch */
	ACPI_ERR_SDT_LEN,       /* header length too small / absurd */
	ACPI_ERR_SDT_CHECKSUM,  /* RSDT/XSDT checksum */
	ACPI_ERR_NO_MADT,       /* no (valid) MADT */
	ACPI_ERR_MADT,          /* MADT malformed (entry length 0 or past the end, checksum) */
};

/*
 * Map len bytes of physical memory at phys for reading; return NULL when not
 * accessible. In the kernel this is the identity map; host tests fake memory.
 */
typedef const void *(*acpi_map_fn)(void *ctx, uint64_t phys, size_t len);

/*
 * The map function for a kernel that identity-maps the first 4 GiB (umbra's
 * boot page tables, and the test guests built on them).
 */
const void *acpi_map_identity_4g(void *ctx, uint64_t phys, size_t len);

/*
 * Parse starting at the RSDP (rsdp_len bytes readable). Every table's length
 * is checked against what map allows and its checksum verified before use.
 * A bad table that is not essential (FADT, HPET, DSDT) is skipped and
 * recorded as absent; a bad RSDP/XSDT/RSDT or MADT is an error. When both an
 * XSDT and an RSDT exist and the XSDT is bad, the RSDT is used.
 */
enum acpi_error acpi_parse(const void *rsdp, size_t rsdp_len, acpi_map_fn map, void *ctx,
			   struct acpi_info *out);
const char *acpi_strerror(enum acpi_error err);

/* Sum of len bytes is zero (mod 256). */
bool acpi_checksum_ok(const void *p, size_t len);

#endif
