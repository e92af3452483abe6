/* SPDX-License-Identifier: BSD-2-Clause */
/* Host tests for the ACPI table parser against fake physical memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/acpi.h"

/*
 * Fake physical memory: each table is its own exactly-sized heap block, so
 * ASan catches any read beyond what map() handed out.
 */
#define MAX_REGIONS 16

struct region {
	uint64_t phys;
	uint8_t *data;
	size_t len;
};

struct fake_mem {
	struct region r[MAX_REGIONS];
	size_t n;
	uint64_t refuse_phys;  /* map() of this address fails... */
	size_t refuse_above;   /* ...when asking for more than this many bytes */
	int calls;
};

static struct fake_mem mem;
static struct acpi_info info;

enum {
	RSDT_ADDR = 0x1000,
	XSDT_ADDR = 0x2000,
	MADT_ADDR = 0x3000,
	FADT_ADDR = 0x4000,
	HPET_ADDR = 0x5000,
	DSDT_ADDR = 0x6000,
	DSDT2_ADDR = 0x7000,
	MADT2_ADDR = 0x8000,
};

static const void *fake_map(void *ctx, uint64_t phys, size_t len)
{
	struct fake_mem *m = ctx;
	size_t i;

	m->calls++;
	if (phys == m->refuse_phys && len > m->refuse_above)
		return NULL;
	for (i = 0; i < m->n; i++) {
		const struct region *r = &m->r[i];

		if (phys >= r->phys && phys - r->phys <= r->len && len <= r->len - (phys - r->phys))
			return r->data + (phys - r->phys);
	}
	return NULL;
}

static void mem_reset(void)
{
	size_t i;

	for (i = 0; i < mem.n; i++)
		free(mem.r[i].data);
	memset(&mem, 0, sizeof(mem));
	mem.refuse_above = SIZE_MAX;
}

static int teardown(void **state)
{
	(void)state;
	mem_reset();
	return 0;
}

static int setup(void **state)
{
	(void)state;
	memset(&mem, 0, sizeof(mem));
	mem.refuse_above = SIZE_MAX;
	return 0;
}

/* Take ownership of a table and place it at phys (replacing any there). */
static void mem_put(uint64_t phys, uint8_t *data, size_t len)
{
	size_t i;

	for (i = 0; i < mem.n; i++) {
		if (mem.r[i].phys == phys) {
			free(mem.r[i].data);
			mem.r[i].data = data;
			mem.r[i].len = len;
			return;
		}
	}
	assert_true(mem.n < MAX_REGIONS);
	mem.r[mem.n++] = (struct region){ .phys = phys, .data = data, .len = len };
}

static uint8_t *mem_get(uint64_t phys, size_t *len)
{
	size_t i;

	for (i = 0; i < mem.n; i++) {
		if (mem.r[i].phys == phys) {
			if (len)
				*len = mem.r[i].len;
			return mem.r[i].data;
		}
	}
	fail_msg("no table at %#llx", (unsigned long long)phys);
	return NULL;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static void fix_checksum(uint8_t *p, size_t len, size_t at)
{
	uint8_t sum = 0;
	size_t i;

	p[at] = 0;
	for (i = 0; i < len; i++)
		sum = (uint8_t)(sum + p[i]);
	p[at] = (uint8_t)-sum;
}

/* A zeroed table with a filled-in SDT header (ACPI 5.2.6); checksum later. */
static uint8_t *sdt_new(const char *sig, size_t len)
{
	uint8_t *t = calloc(1, len);

	assert_non_null(t);
	memcpy(t, sig, 4);
	put32(t + 4, (uint32_t)len);
	t[8] = 1;
	memcpy(t + 10, "UMBRA ", 6);
	memcpy(t + 16, "TESTTABL", 8);
	return t;
}

static void sdt_seal(uint8_t *t)
{
	uint32_t len;

	memcpy(&len, t + 4, 4);
	fix_checksum(t, len, 9);
}

/* Re-seal a table already in memory after a test edits it. */
static void reseal(uint64_t phys)
{
	sdt_seal(mem_get(phys, NULL));
}

static void put_root(uint64_t phys, bool xsdt, const uint64_t *tables, size_t n)
{
	size_t esz = xsdt ? 8 : 4, i;
	size_t len = 36 + n * esz;
	uint8_t *t = sdt_new(xsdt ? "XSDT" : "RSDT", len);

	for (i = 0; i < n; i++) {
		if (xsdt)
			put64(t + 36 + i * 8, tables[i]);
		else
			put32(t + 36 + i * 4, (uint32_t)tables[i]);
	}
	sdt_seal(t);
	mem_put(phys, t, len);
}

/* MADT builder (5.2.12): entries appended as raw bytes. */
struct madt_builder {
	uint8_t buf[8192];
	size_t len;
};

static void madt_init(struct madt_builder *m, uint32_t lapic, uint32_t flags)
{
	memset(m, 0, sizeof(*m));
	m->len = 44;
	put32(m->buf + 36, lapic);
	put32(m->buf + 40, flags);
}

static void madt_raw(struct madt_builder *m, const uint8_t *e, size_t len)
{
	assert_true(m->len + len <= sizeof(m->buf));
	memcpy(m->buf + m->len, e, len);
	m->len += len;
}

static void madt_lapic(struct madt_builder *m, uint8_t uid, uint8_t apic_id, uint32_t flags)
{
	uint8_t e[8] = { 0, 8, uid, apic_id };

	put32(e + 4, flags);
	madt_raw(m, e, sizeof(e));
}

static void madt_ioapic(struct madt_builder *m, uint8_t id, uint32_t addr, uint32_t gsi)
{
	uint8_t e[12] = { 1, 12, id, 0 };

	put32(e + 4, addr);
	put32(e + 8, gsi);
	madt_raw(m, e, sizeof(e));
}

static void madt_x2apic(struct madt_builder *m, uint32_t id, uint32_t uid, uint32_t flags)
{
	uint8_t e[16] = { 9, 16 };

	put32(e + 4, id);
	put32(e + 8, flags);
	put32(e + 12, uid);
	madt_raw(m, e, sizeof(e));
}

static void madt_override(struct madt_builder *m, uint64_t addr)
{
	uint8_t e[12] = { 5, 12 };

	put64(e + 4, addr);
	madt_raw(m, e, sizeof(e));
}

static void madt_put(struct madt_builder *m, uint64_t phys)
{
	uint8_t *t = sdt_new("APIC", m->len);

	memcpy(t + 36, m->buf + 36, m->len - 36);
	sdt_seal(t);
	mem_put(phys, t, m->len);
}

/* A small, valid MADT: two CPUs and an I/O APIC. */
static void put_simple_madt(uint64_t phys)
{
	struct madt_builder m;

	madt_init(&m, 0xfee00000, 1);
	madt_lapic(&m, 0, 0, 1);
	madt_lapic(&m, 1, 1, 1);
	madt_ioapic(&m, 2, 0xfec00000, 0);
	madt_put(&m, phys);
}

/* FADT (5.2.9) field offsets used by the tests. */
enum {
	FADT_DSDT = 40,
	FADT_SMI_CMD = 48,
	FADT_ACPI_ENABLE = 52,
	FADT_PM1A_CNT = 64,
	FADT_PM1B_CNT = 68,
	FADT_PM_TMR = 76,
	FADT_FLAGS = 112,
	FADT_RESET_REG = 116,
	FADT_RESET_VALUE = 128,
	FADT_X_DSDT = 140,
	FADT_X_PM1A_CNT = 172,
	FADT_X_PM1B_CNT = 184,
	FADT_X_PM_TMR = 208,
};

static void put_gas(uint8_t *p, uint8_t space, uint8_t width, uint64_t addr)
{
	p[0] = space;
	p[1] = width;
	p[2] = 0;
	p[3] = 1;
	put64(p + 4, addr);
}

/* A full-size (6.x) FADT using the legacy fields only. */
static uint8_t *fadt_new(size_t len, uint32_t dsdt)
{
	uint8_t *t = sdt_new("FACP", len);

	put32(t + FADT_DSDT, dsdt);
	put32(t + FADT_SMI_CMD, 0xb2);
	t[FADT_ACPI_ENABLE] = 0xa0;
	put32(t + FADT_PM1A_CNT, 0x604);
	put32(t + FADT_PM_TMR, 0x608);
	if (len >= 116)
		put32(t + FADT_FLAGS, (1u << 8) | (1u << 10));
	if (len >= 129) {
		put_gas(t + FADT_RESET_REG, 1, 8, 0xcf9);
		t[FADT_RESET_VALUE] = 0x06;
	}
	return t;
}

static void put_fadt(uint8_t *t, size_t len)
{
	sdt_seal(t);
	mem_put(FADT_ADDR, t, len);
}

static void put_dsdt(uint64_t phys, const uint8_t *aml, size_t aml_len)
{
	uint8_t *t = sdt_new("DSDT", 36 + aml_len);

	memcpy(t + 36, aml, aml_len);
	sdt_seal(t);
	mem_put(phys, t, 36 + aml_len);
}

/* Name(_S5_, Package(4){0x05, 0x05, 0, 0}) as iasl emits it. */
static const uint8_t aml_s5_byte[] = {
	0x10, 0x05, 0x5c, 0x00, /* Scope(\) prelude, irrelevant bytes */
	0x08, '_',  'S',  '5',  '_', 0x12, 0x08, 0x04, 0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00,
};

static void put_hpet(uint64_t phys, uint8_t space, uint64_t addr)
{
	uint8_t *t = sdt_new("HPET", 56);

	put32(t + 36, 0x8086a201);
	put_gas(t + 40, space, 64, addr);
	sdt_seal(t);
	mem_put(phys, t, 56);
}

/* RSDP (5.2.5.3): 20 bytes for revision 0, 36 for revision 2. */
static size_t make_rsdp(uint8_t *r, int revision, uint32_t rsdt, uint64_t xsdt)
{
	memset(r, 0, 36);
	memcpy(r, "RSD PTR ", 8);
	memcpy(r + 9, "UMBRA ", 6);
	r[15] = (uint8_t)revision;
	put32(r + 16, rsdt);
	fix_checksum(r, 20, 8);
	if (revision < 2)
		return 20;
	put32(r + 20, 36);
	put64(r + 24, xsdt);
	fix_checksum(r, 36, 32);
	return 36;
}

/* Parse from an exactly-sized copy of the RSDP. */
static enum acpi_error parse_rsdp_buf(const uint8_t *r, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	enum acpi_error err;

	assert_non_null(copy);
	memcpy(copy, r, len);
	err = acpi_parse(copy, len, fake_map, &mem, &info);
	free(copy);
	return err;
}

static enum acpi_error parse_v2(void)
{
	uint8_t r[36];

	return parse_rsdp_buf(r, make_rsdp(r, 2, RSDT_ADDR, XSDT_ADDR));
}

/* A complete modern system: XSDT -> MADT, FADT (-> DSDT), HPET. */
static void build_system(void)
{
	static const uint64_t tables[] = { MADT_ADDR, FADT_ADDR, HPET_ADDR };
	struct madt_builder m;
	uint8_t *f;

	put_root(XSDT_ADDR, true, tables, 3);
	put_root(RSDT_ADDR, false, tables, 3);

	madt_init(&m, 0xfee00000, 1);
	madt_lapic(&m, 0, 0, 1);
	madt_lapic(&m, 1, 2, 0);     /* disabled */
	madt_lapic(&m, 2, 4, 2);     /* online capable, not yet enabled */
	madt_ioapic(&m, 8, 0xfec00000, 0);
	madt_ioapic(&m, 9, 0xfec01000, 24);
	madt_x2apic(&m, 300, 7, 1);
	madt_raw(&m, (const uint8_t[]){ 2, 10, 0, 0, 2, 0, 0, 0, 0, 0 }, 10); /* ISO: skipped */
	madt_override(&m, 0x1fee00000ull);
	madt_put(&m, MADT_ADDR);

	f = fadt_new(276, DSDT_ADDR);
	put_fadt(f, 276);
	put_dsdt(DSDT_ADDR, aml_s5_byte, sizeof(aml_s5_byte));
	put_hpet(HPET_ADDR, 0, 0xfed00000);
}

static void test_checksum(void **state)
{
	uint8_t b[4] = { 1, 2, 3, 0xfa };

	(void)state;
	assert_true(acpi_checksum_ok(b, 4));
	assert_false(acpi_checksum_ok(b, 3));
	assert_true(acpi_checksum_ok(b, 0));
}

static void test_full_system(void **state)
{
	(void)state;
	build_system();
	assert_int_equal(parse_v2(), ACPI_OK);
	assert_int_equal(info.rsdp_revision, 2);
	assert_string_equal(info.oem_id, "UMBRA ");
	assert_int_equal(info.xsdt_addr, XSDT_ADDR);
	assert_int_equal(info.rsdt_addr, RSDT_ADDR);

	assert_true(info.has_madt);
	assert_int_equal(info.lapic_addr, 0x1fee00000ull);
	assert_int_equal(info.madt_flags, 1);
	assert_int_equal(info.cpu_count, 4);
	assert_false(info.cpus_truncated);
	assert_int_equal(info.cpus[0].apic_id, 0);
	assert_true(info.cpus[0].enabled);
	assert_false(info.cpus[0].x2apic_entry);
	assert_int_equal(info.cpus[1].apic_id, 2);
	assert_false(info.cpus[1].enabled);
	assert_false(info.cpus[1].online_capable);
	assert_false(info.cpus[2].enabled);
	assert_true(info.cpus[2].online_capable);
	assert_int_equal(info.cpus[3].apic_id, 300);
	assert_int_equal(info.cpus[3].acpi_uid, 7);
	assert_true(info.cpus[3].enabled);
	assert_true(info.cpus[3].x2apic_entry);
	assert_int_equal(info.ioapic_count, 2);
	assert_int_equal(info.ioapics[1].id, 9);
	assert_int_equal(info.ioapics[1].addr, 0xfec01000);
	assert_int_equal(info.ioapics[1].gsi_base, 24);

	assert_true(info.has_fadt);
	assert_int_equal(info.dsdt_addr, DSDT_ADDR);
	assert_int_equal(info.smi_cmd, 0xb2);
	assert_int_equal(info.acpi_enable, 0xa0);
	assert_int_equal(info.pm1a_cnt_port, 0x604);
	assert_int_equal(info.pm1b_cnt_port, 0);
	assert_int_equal(info.pm_tmr_port, 0x608);
	assert_true(info.pm_tmr_32bit);
	assert_true(info.reset_reg_valid);
	assert_int_equal(info.reset_port, 0xcf9);
	assert_int_equal(info.reset_value, 6);

	assert_true(info.has_s5);
	assert_int_equal(info.slp_typa, 5);
	assert_int_equal(info.slp_typb, 5);

	assert_true(info.has_hpet);
	assert_int_equal(info.hpet_addr, 0xfed00000);
}

/* ACPI 1.0: revision 0 RSDP, RSDT only, 116-byte FADT. */
static void test_acpi1_system(void **state)
{
	static const uint64_t tables[] = { FADT_ADDR, MADT_ADDR };
	uint8_t r[36];
	uint8_t *f;

	(void)state;
	put_root(RSDT_ADDR, false, tables, 2);
	put_simple_madt(MADT_ADDR);
	f = fadt_new(116, DSDT_ADDR);
	put_fadt(f, 116);
	put_dsdt(DSDT_ADDR, aml_s5_byte, sizeof(aml_s5_byte));

	assert_int_equal(parse_rsdp_buf(r, make_rsdp(r, 0, RSDT_ADDR, 0)), ACPI_OK);
	assert_int_equal(info.rsdp_revision, 0);
	assert_int_equal(info.xsdt_addr, 0);
	assert_int_equal(info.cpu_count, 2);
	assert_true(info.has_fadt);
	assert_int_equal(info.pm1a_cnt_port, 0x604);
	/* The reset register is past the end of a 1.0 FADT. */
	assert_false(info.reset_reg_valid);
	assert_true(info.has_s5);
	assert_false(info.has_hpet);
}

static void test_rsdp_errors(void **state)
{
	uint8_t r[40];
	size_t len;

	(void)state;
	build_system();
	assert_int_equal(acpi_parse(NULL, 36, fake_map, &mem, &info), ACPI_ERR_RSDP_LEN);
	len = make_rsdp(r, 0, RSDT_ADDR, 0);
	assert_int_equal(parse_rsdp_buf(r, 19), ACPI_ERR_RSDP_LEN);
	assert_int_equal(parse_rsdp_buf(r, 0), ACPI_ERR_RSDP_LEN);

	make_rsdp(r, 0, RSDT_ADDR, 0);
	r[0] = 'X';
	assert_int_equal(parse_rsdp_buf(r, len), ACPI_ERR_RSDP_SIG);

	make_rsdp(r, 0, RSDT_ADDR, 0);
	r[8]++;
	assert_int_equal(parse_rsdp_buf(r, len), ACPI_ERR_RSDP_CHECKSUM);

	/* Revision 2 needs 36 bytes and a good extended checksum. */
	len = make_rsdp(r, 2, RSDT_ADDR, XSDT_ADDR);
	assert_int_equal(parse_rsdp_buf(r, 20), ACPI_ERR_RSDP_LEN);
	assert_int_equal(parse_rsdp_buf(r, 35), ACPI_ERR_RSDP_LEN);
	r[32]++;
	assert_int_equal(parse_rsdp_buf(r, len), ACPI_ERR_RSDP_CHECKSUM);

	/* Length field smaller than the structure, or beyond what we may read. */
	make_rsdp(r, 2, RSDT_ADDR, XSDT_ADDR);
	put32(r + 20, 24);
	fix_checksum(r, 36, 32);
	assert_int_equal(parse_rsdp_buf(r, 36), ACPI_ERR_RSDP_LEN);
	put32(r + 20, 40);
	fix_checksum(r, 36, 32);
	assert_int_equal(parse_rsdp_buf(r, 36), ACPI_ERR_RSDP_LEN);
	/* ...but a longer RSDP within the buffer is fine. */
	r[36] = 0x55;
	put32(r + 20, 37);
	fix_checksum(r, 37, 32);
	assert_int_equal(parse_rsdp_buf(r, 37), ACPI_OK);
}

/* A bad XSDT falls back to the RSDT; the RSDT here lists one more table to tell them apart. */
static void test_xsdt_fallback(void **state)
{
	static const uint64_t x_tables[] = { MADT_ADDR };
	static const uint64_t r_tables[] = { MADT_ADDR, HPET_ADDR };
	uint8_t *x;

	(void)state;
	build_system();
	put_root(XSDT_ADDR, true, x_tables, 1);
	put_root(RSDT_ADDR, false, r_tables, 2);
	assert_int_equal(parse_v2(), ACPI_OK);
	assert_false(info.has_hpet);

	x = mem_get(XSDT_ADDR, NULL);
	x[9]++;
	assert_int_equal(parse_v2(), ACPI_OK);
	assert_true(info.has_hpet);
	assert_true(info.has_madt);

	/* Bad signature, bad length and unmappable XSDTs fall back the same way. */
	x[9]--;
	x[0] = 'Y';
	assert_int_equal(parse_v2(), ACPI_OK);
	assert_true(info.has_hpet);
	x[0] = 'X';
	mem.refuse_phys = XSDT_ADDR;
	mem.refuse_above = 0;
	assert_int_equal(parse_v2(), ACPI_OK);
	assert_true(info.has_hpet);
}

static void test_xsdt_bad_no_rsdt(void **state)
{
	uint8_t r[36];
	uint8_t *x;

	(void)state;
	build_system();
	x = mem_get(XSDT_ADDR, NULL);
	x[9]++;
	assert_int_equal(parse_rsdp_buf(r, make_rsdp(r, 2, 0, XSDT_ADDR)), ACPI_ERR_SDT_CHECKSUM);
	/* And both bad: the RSDT's error is the one reported. */
	mem_get(RSDT_ADDR, NULL)[0] = 'Q';
	assert_int_equal(parse_v2(), ACPI_ERR_SDT_SIG);
	/* Neither address given at all. */
	assert_int_equal(parse_rsdp_buf(r, make_rsdp(r, 2, 0, 0)), ACPI_ERR_MAP);
}

static void test_rsdt_errors(void **state)
{
	uint8_t r[36];
	size_t len = make_rsdp(r, 0, RSDT_ADDR, 0);
	uint8_t *t;

	(void)state;
	build_system();
	t = mem_get(RSDT_ADDR, NULL);

	memcpy(t, "XSDT", 4);
	reseal(RSDT_ADDR);
	assert_int_equal(parse_rsdp_buf(r, len), ACPI_ERR_SDT_SIG);
	memcpy(t, "RSDT", 4);
	reseal(RSDT_ADDR);

	put32(t + 4, 35);
	assert_int_equal(parse_rsdp_buf(r, len), ACPI_ERR_SDT_LEN);
	put32(t + 4, 0xffffffff);
	assert_int_equal(parse_rsdp_buf(r, len), ACPI_ERR_SDT_LEN);
	/* Longer than the memory behind it: map() refuses the full length. */
	put32(t + 4, 36 + 3 * 4 + 4);
	assert_int_equal(parse_rsdp_buf(r, len), ACPI_ERR_MAP);
	put32(t + 4, 36 + 3 * 4);
	t[20]++;
	assert_int_equal(parse_rsdp_buf(r, len), ACPI_ERR_SDT_CHECKSUM);
	t[20]--;
	assert_int_equal(parse_rsdp_buf(r, len), ACPI_OK);

	/* Not mapped at all. */
	assert_int_equal(parse_rsdp_buf(r, make_rsdp(r, 0, 0xdead000, 0)), ACPI_ERR_MAP);
}

/* A root table whose length leaves a partial entry: only whole entries count. */
static void test_rsdt_partial_entry(void **state)
{
	static const uint64_t tables[] = { MADT_ADDR, 0x12345678 };
	uint8_t r[36];
	uint8_t *t;

	(void)state;
	put_simple_madt(MADT_ADDR);
	put_root(RSDT_ADDR, false, tables, 2);
	t = mem_get(RSDT_ADDR, NULL);
	put32(t + 4, 36 + 4 + 3);
	reseal(RSDT_ADDR);
	assert_int_equal(parse_rsdp_buf(r, make_rsdp(r, 0, RSDT_ADDR, 0)), ACPI_OK);
	assert_true(info.has_madt);
}

static void test_madt_bad_entries(void **state)
{
	static const uint64_t tables[] = { MADT_ADDR };
	struct madt_builder m;

	(void)state;
	put_root(XSDT_ADDR, true, tables, 1);
	put_root(RSDT_ADDR, false, tables, 1);

	/* Entry length 0 would loop forever. */
	madt_init(&m, 0xfee00000, 0);
	madt_lapic(&m, 0, 0, 1);
	madt_raw(&m, (const uint8_t[]){ 0, 0, 0, 0, 0, 0, 0, 0 }, 8);
	madt_put(&m, MADT_ADDR);
	assert_int_equal(parse_v2(), ACPI_ERR_MADT);
	assert_false(info.has_madt);
	assert_int_equal(info.cpu_count, 0);

	/* Entry running past the end of the table. */
	madt_init(&m, 0xfee00000, 0);
	madt_lapic(&m, 0, 0, 1);
	madt_raw(&m, (const uint8_t[]){ 1, 12, 0, 0, 0, 0 }, 6);
	madt_put(&m, MADT_ADDR);
	assert_int_equal(parse_v2(), ACPI_ERR_MADT);

	/* A known type shorter than its layout. */
	madt_init(&m, 0xfee00000, 0);
	madt_raw(&m, (const uint8_t[]){ 0, 6, 0, 0, 1, 0 }, 6);
	madt_put(&m, MADT_ADDR);
	assert_int_equal(parse_v2(), ACPI_ERR_MADT);

	madt_init(&m, 0xfee00000, 0);
	madt_raw(&m, (const uint8_t[]){ 9, 12, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0 }, 12);
	madt_put(&m, MADT_ADDR);
	assert_int_equal(parse_v2(), ACPI_ERR_MADT);

	/* A lone trailing byte. */
	madt_init(&m, 0xfee00000, 0);
	madt_lapic(&m, 0, 0, 1);
	madt_raw(&m, (const uint8_t[]){ 0 }, 1);
	madt_put(&m, MADT_ADDR);
	assert_int_equal(parse_v2(), ACPI_ERR_MADT);

	/* Entry length 1 (less than its own header). */
	madt_init(&m, 0xfee00000, 0);
	madt_raw(&m, (const uint8_t[]){ 0x7f, 1 }, 2);
	madt_put(&m, MADT_ADDR);
	assert_int_equal(parse_v2(), ACPI_ERR_MADT);

	/* Shorter than the fixed MADT fields. */
	madt_init(&m, 0xfee00000, 0);
	m.len = 40;
	madt_put(&m, MADT_ADDR);
	assert_int_equal(parse_v2(), ACPI_ERR_MADT);

	/* Unknown entry types and longer known entries are fine. */
	madt_init(&m, 0xfee00000, 0);
	madt_raw(&m, (const uint8_t[]){ 0x7f, 3, 0xaa }, 3);
	madt_raw(&m, (const uint8_t[]){ 0, 10, 3, 4, 1, 0, 0, 0, 0xee, 0xee }, 10);
	madt_put(&m, MADT_ADDR);
	assert_int_equal(parse_v2(), ACPI_OK);
	assert_int_equal(info.cpu_count, 1);
	assert_int_equal(info.cpus[0].acpi_uid, 3);
	assert_int_equal(info.cpus[0].apic_id, 4);
	/* No entries at all is a valid (if useless) MADT. */
	madt_init(&m, 0xfee00000, 0);
	madt_put(&m, MADT_ADDR);
	assert_int_equal(parse_v2(), ACPI_OK);
	assert_true(info.has_madt);
	assert_int_equal(info.cpu_count, 0);
}

static void test_madt_checksum_and_missing(void **state)
{
	static const uint64_t only_fadt[] = { FADT_ADDR };

	(void)state;
	build_system();
	mem_get(MADT_ADDR, NULL)[20]++;
	assert_int_equal(parse_v2(), ACPI_ERR_MADT);
	assert_false(info.has_madt);
	/* Everything else is still filled in. */
	assert_true(info.has_fadt);
	assert_true(info.has_s5);

	put_root(XSDT_ADDR, true, only_fadt, 1);
	assert_int_equal(parse_v2(), ACPI_ERR_NO_MADT);
	assert_true(info.has_fadt);
	assert_true(info.has_s5);
}

/* A bad MADT followed by a good one: the good one is used. */
static void test_madt_second_good(void **state)
{
	static const uint64_t tables[] = { MADT_ADDR, MADT2_ADDR };
	struct madt_builder m;

	(void)state;
	put_root(XSDT_ADDR, true, tables, 2);
	madt_init(&m, 0xfee00000, 0);
	madt_raw(&m, (const uint8_t[]){ 0, 0 }, 2);
	madt_put(&m, MADT_ADDR);
	put_simple_madt(MADT2_ADDR);
	assert_int_equal(parse_v2(), ACPI_OK);
	assert_int_equal(info.cpu_count, 2);
}

static void test_map_refuses(void **state)
{
	(void)state;
	build_system();

	/* The FADT header maps but the whole table does not: skipped. */
	mem.refuse_phys = FADT_ADDR;
	mem.refuse_above = 36;
	assert_int_equal(parse_v2(), ACPI_OK);
	assert_false(info.has_fadt);
	assert_false(info.has_s5);
	assert_true(info.has_madt);
	assert_true(info.has_hpet);

	/* Not even the header: skipped too. */
	mem.refuse_above = 0;
	assert_int_equal(parse_v2(), ACPI_OK);
	assert_false(info.has_fadt);

	/* The MADT: its header is visible, so this is a mapping error. */
	mem.refuse_phys = MADT_ADDR;
	mem.refuse_above = 36;
	assert_int_equal(parse_v2(), ACPI_ERR_MAP);
	assert_true(info.has_fadt);
	/* With no header visible it is simply not found. */
	mem.refuse_above = 0;
	assert_int_equal(parse_v2(), ACPI_ERR_NO_MADT);

	/* DSDT refused: no \_S5_, nothing else lost. */
	mem.refuse_phys = DSDT_ADDR;
	mem.refuse_above = 36;
	assert_int_equal(parse_v2(), ACPI_OK);
	assert_true(info.has_fadt);
	assert_false(info.has_s5);
}

/* Root entries that point nowhere or at zero are skipped. */
static void test_dangling_entries(void **state)
{
	static const uint64_t tables[] = { 0, 0xdead0000, MADT_ADDR, 0xffffffffffffffffull };

	(void)state;
	build_system();
	put_root(XSDT_ADDR, true, tables, 4);
	assert_int_equal(parse_v2(), ACPI_OK);
	assert_true(info.has_madt);
	assert_false(info.has_fadt);
}

static void test_bad_optional_tables(void **state)
{
	(void)state;
	build_system();
	mem_get(HPET_ADDR, NULL)[30]++;
	mem_get(FADT_ADDR, NULL)[30]++;
	assert_int_equal(parse_v2(), ACPI_OK);
	assert_false(info.has_hpet);
	assert_false(info.has_fadt);
	assert_false(info.has_s5);
	assert_true(info.has_madt);

	/* HPET in I/O space or too short is not usable. */
	build_system();
	put_hpet(HPET_ADDR, 1, 0xfed00000);
	assert_int_equal(parse_v2(), ACPI_OK);
	assert_false(info.has_hpet);
	{
		uint8_t *t = sdt_new("HPET", 50);

		sdt_seal(t);
		mem_put(HPET_ADDR, t, 50);
	}
	assert_int_equal(parse_v2(), ACPI_OK);
	assert_false(info.has_hpet);

	/* A FADT shorter than ACPI 1.0's is ignored. */
	{
		uint8_t *f = fadt_new(100, DSDT_ADDR);

		put_fadt(f, 100);
	}
	assert_int_equal(parse_v2(), ACPI_OK);
	assert_false(info.has_fadt);
}

static void test_cpus_truncated(void **state)
{
	static const uint64_t tables[] = { MADT_ADDR };
	struct madt_builder m;
	int i;

	(void)state;
	put_root(XSDT_ADDR, true, tables, 1);
	madt_init(&m, 0xfee00000, 0);
	for (i = 0; i < 300; i++)
		madt_x2apic(&m, (uint32_t)i, (uint32_t)i, 1);
	for (i = 0; i < ACPI_MAX_IOAPICS + 3; i++)
		madt_ioapic(&m, (uint8_t)i, 0xfec00000 + (uint32_t)i * 0x1000, (uint32_t)i * 24);
	madt_put(&m, MADT_ADDR);
	assert_int_equal(parse_v2(), ACPI_OK);
	assert_int_equal(info.cpu_count, ACPI_MAX_CPUS);
	assert_true(info.cpus_truncated);
	assert_int_equal(info.cpus[ACPI_MAX_CPUS - 1].apic_id, ACPI_MAX_CPUS - 1);
	assert_int_equal(info.ioapic_count, ACPI_MAX_IOAPICS);
	/* No override entry: the 32-bit address stands. */
	assert_int_equal(info.lapic_addr, 0xfee00000);
}

static void test_fadt_extended_fields(void **state)
{
	uint8_t *f;

	(void)state;
	build_system();

	/* X_ blocks in system I/O win over the legacy fields; X_DSDT wins over DSDT. */
	f = fadt_new(276, DSDT_ADDR);
	put_gas(f + FADT_X_PM1A_CNT, 1, 16, 0x1804);
	put_gas(f + FADT_X_PM1B_CNT, 1, 16, 0x1904);
	put_gas(f + FADT_X_PM_TMR, 1, 32, 0x1808);
	put64(f + FADT_X_DSDT, DSDT2_ADDR);
	put_fadt(f, 276);
	put_dsdt(DSDT2_ADDR, (const uint8_t[]){ 0x08, '_', 'S', '5', '_', 0x12, 0x05, 0x02, 0x0a, 0x07,
						0x00 },
		 11);
	assert_int_equal(parse_v2(), ACPI_OK);
	assert_int_equal(info.pm1a_cnt_port, 0x1804);
	assert_int_equal(info.pm1b_cnt_port, 0x1904);
	assert_int_equal(info.pm_tmr_port, 0x1808);
	assert_int_equal(info.dsdt_addr, DSDT2_ADDR);
	assert_true(info.has_s5);
	assert_int_equal(info.slp_typa, 7);
	assert_int_equal(info.slp_typb, 0);

	/* Memory-space X_ blocks and out-of-range ports fall back to the legacy fields. */
	f = fadt_new(276, DSDT_ADDR);
	put_gas(f + FADT_X_PM1A_CNT, 0, 16, 0xfe000404);
	put_gas(f + FADT_X_PM_TMR, 1, 32, 0x10000);
	put_fadt(f, 276);
	assert_int_equal(parse_v2(), ACPI_OK);
	assert_int_equal(info.pm1a_cnt_port, 0x604);
	assert_int_equal(info.pm_tmr_port, 0x608);
	assert_int_equal(info.dsdt_addr, DSDT_ADDR);

	/* No RESET_REG_SUP, no TMR_VAL_EXT. */
	f = fadt_new(276, DSDT_ADDR);
	put32(f + FADT_FLAGS, 0);
	put_fadt(f, 276);
	assert_int_equal(parse_v2(), ACPI_OK);
	assert_false(info.reset_reg_valid);
	assert_false(info.pm_tmr_32bit);

	/* A reset register in memory space is not usable by us. */
	f = fadt_new(276, DSDT_ADDR);
	put_gas(f + FADT_RESET_REG, 0, 8, 0xfed00000);
	put_fadt(f, 276);
	assert_int_equal(parse_v2(), ACPI_OK);
	assert_false(info.reset_reg_valid);

	/* A FADT cut in the middle of X_DSDT must not use half of it. */
	f = fadt_new(144, DSDT_ADDR);
	put32(f + FADT_X_DSDT, DSDT2_ADDR);
	put_fadt(f, 144);
	assert_int_equal(parse_v2(), ACPI_OK);
	assert_int_equal(info.dsdt_addr, DSDT_ADDR);
	assert_true(info.reset_reg_valid);
}

static void check_s5(const uint8_t *aml, size_t len, bool found, uint8_t a, uint8_t b)
{
	put_dsdt(DSDT_ADDR, aml, len);
	assert_int_equal(parse_v2(), ACPI_OK);
	assert_int_equal(info.has_s5, found);
	if (found) {
		assert_int_equal(info.slp_typa, a);
		assert_int_equal(info.slp_typb, b);
	}
}

static void test_s5_encodings(void **state)
{
	(void)state;
	build_system();

	/* BytePrefix values. */
	check_s5(aml_s5_byte, sizeof(aml_s5_byte), true, 5, 5);
	/* With the root prefix: Name(\_S5_, ...). */
	check_s5((const uint8_t[]){ 0x08, '\\', '_', 'S', '5', '_', 0x12, 0x08, 0x04, 0x0a, 0x07,
				    0x0a, 0x03, 0x00, 0x00 },
		 15, true, 7, 3);
	/* ZeroOp / OneOp. */
	check_s5((const uint8_t[]){ 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x00, 0x01, 0x00,
				    0x00 },
		 12, true, 0, 1);
	check_s5((const uint8_t[]){ 0x08, '\\', '_', 'S', '5', '_', 0x12, 0x04, 0x02, 0x01, 0x00 },
		 11, true, 1, 0);
	/* A two-byte PkgLength (bits 7-6 = 1). */
	check_s5((const uint8_t[]){ 0x08, '_', 'S', '5', '_', 0x12, 0x47, 0x00, 0x02, 0x0a, 0x05,
				    0x0a, 0x06, 0x00, 0x00 },
		 15, true, 5, 6);
	/* At the very start of the AML, where no NameOp can precede it. */
	check_s5((const uint8_t[]){ '_', 'S', '5', '_', 0x12, 0x05, 0x02, 0x01, 0x01 }, 9, false, 0,
		 0);
}

static void test_s5_odd(void **state)
{
	(void)state;
	build_system();

	/* A reference to _S5_ (no NameOp) before the real definition. */
	check_s5((const uint8_t[]){ 0x70, '_', 'S', '5', '_', 0x12, 0x05, 0x02, 0x01, 0x01, 0x08, '_',
				    'S', '5', '_', 0x12, 0x06, 0x02, 0x0a, 0x02, 0x0a, 0x04 },
		 22, true, 2, 4);
	/* _S5_ not followed by a package. */
	check_s5((const uint8_t[]){ 0x08, '_', 'S', '5', '_', 0x0a, 0x05 }, 7, false, 0, 0);
	/* Package cut off by the end of the table, at every point. */
	check_s5((const uint8_t[]){ 0x08, '_', 'S', '5', '_', 0x12 }, 6, false, 0, 0);
	check_s5((const uint8_t[]){ 0x08, '_', 'S', '5', '_', 0x12, 0x06 }, 7, false, 0, 0);
	check_s5((const uint8_t[]){ 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x02 }, 8, false, 0, 0);
	check_s5((const uint8_t[]){ 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x02, 0x0a }, 9, false, 0,
		 0);
	check_s5((const uint8_t[]){ 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x02, 0x0a, 0x05 }, 10,
		 false, 0, 0);
	check_s5((const uint8_t[]){ 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x02, 0x0a, 0x05, 0x0a }, 11,
		 false, 0, 0);
	/* PkgLength says the package is shorter than its two elements. */
	check_s5((const uint8_t[]){ 0x08, '_', 'S', '5', '_', 0x12, 0x03, 0x02, 0x0a, 0x05, 0x0a,
				    0x05 },
		 12, false, 0, 0);
	/* A multi-byte PkgLength running past the table. */
	check_s5((const uint8_t[]){ 0x08, '_', 'S', '5', '_', 0x12, 0xc0, 0xff }, 8, false, 0, 0);
	check_s5((const uint8_t[]){ 0x08, '_', 'S', '5', '_', 0x12, 0xcf, 0xff, 0xff, 0xff, 0x02, 0x01,
				    0x01 },
		 13, false, 0, 0);
	/* One element only. */
	check_s5((const uint8_t[]){ 0x08, '_', 'S', '5', '_', 0x12, 0x04, 0x01, 0x0a, 0x05 }, 10, false,
		 0, 0);
	/* Elements in encodings we do not decode (WordPrefix). */
	check_s5((const uint8_t[]){ 0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x02, 0x0b, 0x05, 0x00, 0x0b,
				    0x05, 0x00 },
		 14, false, 0, 0);
	/* Truncated name at the end. */
	check_s5((const uint8_t[]){ 0x00, 0x08, '_', 'S', '5' }, 5, false, 0, 0);
	/* An empty DSDT. */
	check_s5(aml_s5_byte, 0, false, 0, 0);

	/* A DSDT with a bad checksum is not used. */
	put_dsdt(DSDT_ADDR, aml_s5_byte, sizeof(aml_s5_byte));
	mem_get(DSDT_ADDR, NULL)[12]++;
	assert_int_equal(parse_v2(), ACPI_OK);
	assert_false(info.has_s5);
	/* Nor one with the wrong signature. */
	put_dsdt(DSDT_ADDR, aml_s5_byte, sizeof(aml_s5_byte));
	memcpy(mem_get(DSDT_ADDR, NULL), "SSDT", 4);
	reseal(DSDT_ADDR);
	assert_int_equal(parse_v2(), ACPI_OK);
	assert_false(info.has_s5);
}

/*
 * Random bytes in the MADT entries and the DSDT, checksums fixed up so the
 * parsers actually run: any result is fine, wild reads are not (ASan).
 */
static void test_fuzz(void **state)
{
	uint32_t seed = 777;
	int round;

	(void)state;
	build_system();
	for (round = 0; round < 5000; round++) {
		size_t mlen, dlen, i;
		uint8_t *madt = mem_get(MADT_ADDR, &mlen);
		uint8_t *dsdt;
		int flips = 1 + round % 3;

		if (round % 100 == 0)
			build_system();
		madt = mem_get(MADT_ADDR, &mlen);
		dsdt = mem_get(DSDT_ADDR, &dlen);
		for (i = 0; i < (size_t)flips; i++) {
			seed = seed * 1664525u + 1013904223u;
			madt[36 + (seed >> 8) % (mlen - 36)] = (uint8_t)(seed >> 24);
			seed = seed * 1664525u + 1013904223u;
			dsdt[36 + (seed >> 8) % (dlen - 36)] = (uint8_t)(seed >> 24);
		}
		reseal(MADT_ADDR);
		reseal(DSDT_ADDR);
		(void)parse_v2();
	}
}

static void test_strerror(void **state)
{
	int e;

	(void)state;
	for (e = ACPI_OK; e <= ACPI_ERR_MADT; e++)
		assert_string_not_equal(acpi_strerror((enum acpi_error)e), "unknown error");
	assert_string_equal(acpi_strerror((enum acpi_error)99), "unknown error");
	assert_string_equal(acpi_strerror((enum acpi_error)-1), "unknown error");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_checksum),
		T(test_full_system),
		T(test_acpi1_system),
		T(test_rsdp_errors),
		T(test_xsdt_fallback),
		T(test_xsdt_bad_no_rsdt),
		T(test_rsdt_errors),
		T(test_rsdt_partial_entry),
		T(test_madt_bad_entries),
		T(test_madt_checksum_and_missing),
		T(test_madt_second_good),
		T(test_map_refuses),
		T(test_dangling_entries),
		T(test_bad_optional_tables),
		T(test_cpus_truncated),
		T(test_fadt_extended_fields),
		T(test_s5_encodings),
		T(test_s5_odd),
		T(test_fuzz),
		T(test_strerror),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
