/* SPDX-License-Identifier: BSD-2-Clause */
/* VMCS shadowing: L1's VMREAD/VMWRITE of common fields go to a shadow VMCS without an exit. */
#include "nested/shadow.h"
#include "arch/x86/vmcs_fields.h"
#include "arch/x86/vmx_controls.h"
#include "core/string.h"
#ifndef UMBRA_HOST_TEST
#include "arch/x86/vmx.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/panic.h"
#include "nested/nvmx.h"
#endif

#define SHADOW_ENTRY_RW(name) { name, true },
#define SHADOW_ENTRY_RO(name) { name, false },
#define SHADOW_FIELD_RW SHADOW_ENTRY_RW
#define SHADOW_FIELD_RO SHADOW_ENTRY_RO
const struct shadow_field shadow_field_table[] = {
#include "nested/shadow_fields.h"
#ifdef UMBRA_SHADOW_TABLE_DOUBLED
#include "nested/shadow_fields_doubled.h"
#endif
};
#undef SHADOW_FIELD_RW
#undef SHADOW_FIELD_RO
const size_t shadow_field_count = ARRAY_SIZE(shadow_field_table);

#define SHADOW_COUNT_ONE(name) +1
#define SHADOW_FIELD_RW SHADOW_COUNT_ONE
#define SHADOW_FIELD_RO SHADOW_COUNT_ONE
_Static_assert(0
#include "nested/shadow_fields.h"
#ifdef UMBRA_SHADOW_TABLE_DOUBLED
#include "nested/shadow_fields_doubled.h"
#endif
	       <= SHADOW_FIELDS_MAX, "SHADOW_FIELDS_MAX is too small for the list");
#undef SHADOW_FIELD_RW
#undef SHADOW_FIELD_RO

static void clear_bit(uint8_t *bitmap, uint32_t encoding)
{
	/* SDM Vol. 3C 24.6.15: bit n of the bitmap is field encoding bits 14:0 = n. */
	encoding &= 0x7fff;
	bitmap[encoding / 8] &= (uint8_t)~(1u << (encoding % 8));
}

void shadow_build_bitmaps(uint8_t *vmread_bitmap, uint8_t *vmwrite_bitmap, uint32_t max_index)
{
	memset(vmread_bitmap, 0xff, 4096);
	memset(vmwrite_bitmap, 0xff, 4096);
	for (size_t i = 0; i < shadow_field_count; i++) {
		uint32_t enc = shadow_field_table[i].encoding;
		bool wide = VMCS_FIELD_WIDTH(enc) == VMCS_WIDTH_64;

		/* Fields past the CPU's VMCS_ENUM index do not exist: they keep exiting. */
		if (VMCS_FIELD_INDEX(enc) > max_index)
			continue;
		clear_bit(vmread_bitmap, enc);
		if (wide)
			clear_bit(vmread_bitmap, VMCS_FIELD_HIGH(enc));
		if (shadow_field_table[i].read_write) {
			clear_bit(vmwrite_bitmap, enc);
			if (wide)
				clear_bit(vmwrite_bitmap, VMCS_FIELD_HIGH(enc));
		}
	}
}

#ifndef UMBRA_HOST_TEST
static bool enabled;
static uint64_t vmread_bitmap, vmwrite_bitmap;
static uint32_t revision;
static uint32_t max_index;

/*
 * The table entries this CPU has (index within VMCS_ENUM), with their vmcs12
 * slots, made once at start-up so that the sync loops neither test the
 * index nor look a slot up per field: all of them, and the read-write ones.
 */
struct shadow_sync {
	uint32_t encoding;
	uint16_t entry; /* index in shadow_field_table and nvmx.shadow_cache */
	uint16_t slot;  /* index in vmcs12.fields */
};
static struct shadow_sync sync_all[SHADOW_FIELDS_MAX], sync_rw[SHADOW_FIELDS_MAX];
static size_t sync_all_count, sync_rw_count;
/* vmcs12 slot -> index in sync_all + 1 (0: not shadowed on this CPU). */
static uint8_t sync_of_slot[VMCS_FIELD_COUNT];
_Static_assert(SHADOW_FIELDS_MAX < 255, "sync_of_slot holds an index");

static void build_sync_lists(void)
{
	for (size_t i = 0; i < shadow_field_count; i++) {
		uint32_t enc = shadow_field_table[i].encoding;
		int slot = vmcs12_slot(enc);
		struct shadow_sync e = { enc, (uint16_t)i, (uint16_t)slot };

		if (VMCS_FIELD_INDEX(enc) > max_index)
			continue;
		if (slot < 0)
			panic("nested: shadow field %#x is not a vmcs12 field", enc);
		sync_all[sync_all_count++] = e;
		sync_of_slot[slot] = (uint8_t)sync_all_count;
		if (shadow_field_table[i].read_write)
			sync_rw[sync_rw_count++] = e;
	}
}

bool shadow_enabled(void)
{
	return enabled;
}

void shadow_init(const struct vmx_caps *caps, bool want, uint32_t vcpus)
{
	const char *why = NULL;

	if (!want)
		why = "nested.shadow=off";
	else if (!vmx_caps_has_shadowing(caps))
		why = "the CPU has no VMCS shadowing";
	else if (!(caps->misc & VMX_MISC_VMWRITE_ANY_FIELD))
		why = "the CPU cannot VMWRITE read-only fields (IA32_VMX_MISC bit 29)";
	if (why) {
		log_info("nested: VMCS shadowing off (%s): every VMREAD/VMWRITE of L1 exits", why);
		return;
	}
	revision = VMX_BASIC_REVISION(caps->basic);
	max_index = (caps->vmcs_enum >> 1) & 0x1ff;
	vmread_bitmap = mem_alloc_pages(1);
	vmwrite_bitmap = mem_alloc_pages(1);
	for (uint32_t i = 0; i < vcpus; i++) {
		struct nvmx *n = nvmx_of_cpu(i);

		n->shadow_pa = mem_alloc_pages(1);
		if (!n->shadow_pa)
			panic("nested: no memory for shadow VMCSs");
		/* SDM Vol. 3C 24.2: bit 31 of the revision word marks a shadow VMCS. */
		*(volatile uint32_t *)n->shadow_pa = revision | BIT(31);
	}
	if (!vmread_bitmap || !vmwrite_bitmap)
		panic("nested: no memory for the VMREAD/VMWRITE bitmaps");
	shadow_build_bitmaps((uint8_t *)vmread_bitmap, (uint8_t *)vmwrite_bitmap, max_index);
	build_sync_lists();
	enabled = true;
	log_info("nested: VMCS shadowing on: %zu fields (VMREAD without exit), %zu of them read-write "
		 "(VMWRITE without exit)%s", sync_all_count, sync_rw_count,
		 sync_all_count < shadow_field_count ? "; the others are past this CPU's VMCS_ENUM" : "");
	for (size_t i = 0; i < sync_rw_count; i++)
		log_debug("nested:   read-write: %s", vmcs_field_name(sync_rw[i].encoding));
}

static void load(uint64_t pa)
{
	if (vmptrld(pa) != VMX_SUCCEED)
		panic("nested: VMPTRLD %#lx failed", pa);
}

void shadow_link(struct vcpu *v, struct nvmx *n)
{
	if (!enabled)
		return;
	/* Fill the shadow from vmcs12 (vmcs01 is current before and after). */
	load(n->shadow_pa);
	for (size_t i = 0; i < sync_all_count; i++) {
		const struct shadow_sync *e = &sync_all[i];

		n->shadow_cache[e->entry] = n->vmcs12.fields[e->slot];
		vmcs_write(e->encoding, n->shadow_cache[e->entry]);
	}
	n->shadow_cache_valid = true;
	load(v->vmcs01.pa);
	vmcs_write64(VMREAD_BITMAP, vmread_bitmap);
	vmcs_write64(VMWRITE_BITMAP, vmwrite_bitmap);
	vmcs_write64(VMCS_LINK_POINTER, n->shadow_pa);
	vmcs_write32(SECONDARY_VM_EXEC_CONTROL, vmcs_read32(SECONDARY_VM_EXEC_CONTROL) | VMCS_SHADOWING);
}

void shadow_unlink(struct vcpu *v __unused)
{
	if (!enabled)
		return;
	/* No current VMCS: VMREAD/VMWRITE exit again and get VMfailInvalid (SDM 30.3). */
	vmcs_write32(SECONDARY_VM_EXEC_CONTROL, vmcs_read32(SECONDARY_VM_EXEC_CONTROL) & ~VMCS_SHADOWING);
	vmcs_write64(VMCS_LINK_POINTER, ~0ULL);
}

void shadow_to_vmcs12(struct vcpu *v, struct nvmx *n)
{
	if (!enabled || !n->shadow_cache_valid)
		return;
	load(n->shadow_pa);
	for (size_t i = 0; i < sync_rw_count; i++) {
		const struct shadow_sync *e = &sync_rw[i];
		uint64_t val = vmcs_read(e->encoding); /* zero-extended, as vmcs12 stores it */

		n->shadow_cache[e->entry] = val;
		if (val != n->vmcs12.fields[e->slot]) {
			n->vmcs12.fields[e->slot] = val;
			n->dirty[e->slot / 64] |= 1ULL << (e->slot % 64);
		}
	}
	load(v->in_l2 ? v->vmcs02.pa : v->vmcs01.pa);
}

void shadow_write_field(struct vcpu *v, struct nvmx *n, uint32_t encoding)
{
	int slot = vmcs12_slot(encoding);
	const struct shadow_sync *e;

	if (!enabled || !n->shadow_cache_valid || slot < 0 || !sync_of_slot[slot])
		return;
	e = &sync_all[sync_of_slot[slot] - 1];
	if (n->vmcs12.fields[e->slot] == n->shadow_cache[e->entry])
		return;
	load(n->shadow_pa);
	vmcs_write(e->encoding, n->vmcs12.fields[e->slot]);
	n->shadow_cache[e->entry] = n->vmcs12.fields[e->slot];
	load(v->in_l2 ? v->vmcs02.pa : v->vmcs01.pa);
}

void shadow_from_vmcs12(struct vcpu *v, struct nvmx *n)
{
	bool loaded = false;

	if (!enabled || !n->shadow_cache_valid)
		return;
	/* Dirty tracking: only what changed since the shadow was last written or read. */
	for (size_t i = 0; i < sync_all_count; i++) {
		const struct shadow_sync *e = &sync_all[i];
		uint64_t val = n->vmcs12.fields[e->slot];

		if (val == n->shadow_cache[e->entry])
			continue;
		if (!loaded) {
			load(n->shadow_pa);
			loaded = true;
		}
		vmcs_write(e->encoding, val);
		n->shadow_cache[e->entry] = val;
	}
	if (loaded)
		load(v->in_l2 ? v->vmcs02.pa : v->vmcs01.pa);
}
#endif
