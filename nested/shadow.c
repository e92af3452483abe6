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
#include "nested/vmcs02_policy.h"
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

static enum shadow_access table_access(size_t entry)
{
	return shadow_field_table[entry].read_write ? SHADOW_READ_WRITE : SHADOW_READ;
}

/* The bitmaps for the table entries as access() says L1 reaches them (SHADOW_NONE: exits). */
static void fill_bitmaps(uint8_t *vmread_bitmap, uint8_t *vmwrite_bitmap, uint32_t max_index,
			 enum shadow_access (*access)(size_t entry))
{
	memset(vmread_bitmap, 0xff, 4096);
	memset(vmwrite_bitmap, 0xff, 4096);
	for (size_t i = 0; i < shadow_field_count; i++) {
		uint32_t enc = shadow_field_table[i].encoding;
		bool wide = VMCS_FIELD_WIDTH(enc) == VMCS_WIDTH_64;
		enum shadow_access a = access(i);

		/* Fields past the CPU's VMCS_ENUM index do not exist: they keep exiting. */
		if (VMCS_FIELD_INDEX(enc) > max_index || a == SHADOW_NONE)
			continue;
		clear_bit(vmread_bitmap, enc);
		if (wide)
			clear_bit(vmread_bitmap, VMCS_FIELD_HIGH(enc));
		if (a == SHADOW_READ_WRITE) {
			clear_bit(vmwrite_bitmap, enc);
			if (wide)
				clear_bit(vmwrite_bitmap, VMCS_FIELD_HIGH(enc));
		}
	}
}

void shadow_build_bitmaps(uint8_t *vmread_bitmap, uint8_t *vmwrite_bitmap, uint32_t max_index)
{
	fill_bitmaps(vmread_bitmap, vmwrite_bitmap, max_index, table_access);
}

#ifndef UMBRA_HOST_TEST
static bool enabled, vmcs02_wanted;
static uint64_t vmread_bitmap, vmwrite_bitmap;     /* umbra's own shadow VMCS: the table */
static uint64_t vmread_bitmap02, vmwrite_bitmap02; /* vmcs02 as the shadow: what L1 may reach there */
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

/*
 * vmcs02 as the shadow: what vmcs02_leave() reads back into vmcs12 (the
 * saved L2 state the next entry's checks and derived fields read), and
 * L1's host-state fields it holds while L1 runs, in place of umbra's
 * (nvmx.umbra_host02 keeps umbra's).
 */
static struct shadow_sync back02[VMCS_FIELD_COUNT], host02[SHADOW_HOST02_MAX];
static size_t back02_count, host02_count;
static size_t vmcs02_read_count, vmcs02_write_count; /* table entries L1 reaches in vmcs02 */

/*
 * How L1 reaches a table entry while vmcs02 is its shadow. vmcs02 holds
 * L1's own value only for saved L2 state (NP_SAVE: vmcs12 gets vmcs02's
 * value at every exit), exit information (VM_INSTRUCTION_ERROR aside: it
 * is umbra's answer, in vmcs12 only) and the host state umbra swaps in;
 * every other field (controls umbra merges, derived guest fields) holds
 * umbra's value there, so L1's VMREAD of it must exit. L1 writes in place
 * only what nothing checks before the CPU uses it, and its host state,
 * which vmcs02_leave() reads back (a change re-runs the host-state checks).
 */
static enum shadow_access vmcs02_access(size_t entry)
{
	uint32_t enc = shadow_field_table[entry].encoding;
	int slot = vmcs12_slot(enc);
	uint16_t p;

	if (slot < 0 || enc == VM_INSTRUCTION_ERROR)
		return SHADOW_NONE;
	p = nvmx_policy[slot];
	if (!(p & (NP_SAVE | NP_EXIT_INFO | NP_HOST)))
		return SHADOW_NONE;
	if (shadow_field_table[entry].read_write && ((p & NP_HOST) || ((p & NP_SAVE) && !(p & NP_CHECK))))
		return SHADOW_READ_WRITE;
	return SHADOW_READ;
}

static void build_sync_lists(void)
{
	for (size_t i = 0; i < shadow_field_count; i++) {
		uint32_t enc = shadow_field_table[i].encoding;
		int slot = vmcs12_slot(enc);
		struct shadow_sync e = { enc, (uint16_t)i, (uint16_t)slot };
		enum shadow_access access02;

		if (VMCS_FIELD_INDEX(enc) > max_index)
			continue;
		if (slot < 0)
			panic("nested: shadow field %#x is not a vmcs12 field", enc);
		sync_all[sync_all_count++] = e;
		sync_of_slot[slot] = (uint8_t)sync_all_count;
		if (shadow_field_table[i].read_write)
			sync_rw[sync_rw_count++] = e;
		access02 = vmcs02_access(i);
		if (access02 != SHADOW_NONE)
			vmcs02_read_count++;
		if (access02 == SHADOW_READ_WRITE) {
			vmcs02_write_count++;
			if (nvmx_policy[slot] & NP_HOST) {
				if (host02_count == SHADOW_HOST02_MAX)
					panic("nested: more than %u host fields shadowed", SHADOW_HOST02_MAX);
				host02[host02_count++] = e;
			}
		}
	}
	/*
	 * Saved L2 state that the entry checks or derived fields read
	 * (nested/entry.c: NP_CHECK, NP_DERIVE, NP_ENTRY). The rest of L2's
	 * state, L1's writes included, is in vmcs02 already, where the CPU
	 * uses it.
	 */
	for (size_t slot = 0; slot < VMCS_FIELD_COUNT; slot++) {
		uint16_t p = nvmx_policy[slot];

		if ((p & NP_SAVE) && (p & (NP_CHECK | NP_DERIVE | NP_ENTRY)))
			back02[back02_count++] =
				(struct shadow_sync){ vmcs_field_table[slot].encoding, 0, (uint16_t)slot };
	}
}

bool shadow_enabled(void)
{
	return enabled;
}

void shadow_init(const struct vmx_caps *caps, bool want, bool vmcs02, uint32_t vcpus)
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
	vmread_bitmap02 = mem_alloc_pages(1);
	vmwrite_bitmap02 = mem_alloc_pages(1);
	for (uint32_t i = 0; i < vcpus; i++) {
		struct nvmx *n = nvmx_of_cpu(i);

		n->shadow_pa = mem_alloc_pages(1);
		if (!n->shadow_pa)
			panic("nested: no memory for shadow VMCSs");
		/* SDM Vol. 3C 24.2: bit 31 of the revision word marks a shadow VMCS. */
		*(volatile uint32_t *)n->shadow_pa = revision | BIT(31);
	}
	if (!vmread_bitmap || !vmwrite_bitmap || !vmread_bitmap02 || !vmwrite_bitmap02)
		panic("nested: no memory for the VMREAD/VMWRITE bitmaps");
	shadow_build_bitmaps((uint8_t *)vmread_bitmap, (uint8_t *)vmwrite_bitmap, max_index);
	fill_bitmaps((uint8_t *)vmread_bitmap02, (uint8_t *)vmwrite_bitmap02, max_index, vmcs02_access);
	build_sync_lists();
	enabled = true;
	vmcs02_wanted = vmcs02;
	log_info("nested: VMCS shadowing on: %zu fields (VMREAD without exit), %zu of them read-write "
		 "(VMWRITE without exit)%s", sync_all_count, sync_rw_count,
		 sync_all_count < shadow_field_count ? "; the others are past this CPU's VMCS_ENUM" : "");
	if (vmcs02)
		log_info("nested: vmcs02 is L1's shadow VMCS after each reflected exit: %zu fields read in place, "
			 "%zu written in place (nested.shadow=classic: umbra's own shadow only)",
			 vmcs02_read_count, vmcs02_write_count);
	else
		log_info("nested: vmcs02 is never L1's shadow VMCS (nested.shadow=classic)");
	for (size_t i = 0; i < sync_rw_count; i++)
		log_debug("nested:   read-write: %s", vmcs_field_name(sync_rw[i].encoding));
}

/* vmcs01 is current: its link pointer names umbra's shadow VMCS, with the table's bitmaps. */
static void link_own(struct nvmx *n)
{
	vmcs_write64(VMREAD_BITMAP, vmread_bitmap);
	vmcs_write64(VMWRITE_BITMAP, vmwrite_bitmap);
	vmcs_write64(VMCS_LINK_POINTER, n->shadow_pa);
	if (n->l1_link == SHADOW_LINK_NONE)
		vmcs_write32(SECONDARY_VM_EXEC_CONTROL, vmcs_read32(SECONDARY_VM_EXEC_CONTROL) | VMCS_SHADOWING);
	n->l1_link = SHADOW_LINK_OWN;
}

void shadow_link(struct vcpu *v, struct nvmx *n)
{
	if (!enabled)
		return;
	/* Fill the shadow from vmcs12 (vmcs01 is current before and after). */
	vcpu_vmcs_load(v, n->shadow_pa);
	for (size_t i = 0; i < sync_all_count; i++) {
		const struct shadow_sync *e = &sync_all[i];

		n->shadow_cache[e->entry] = n->vmcs12.fields[e->slot];
		vmcs_write(e->encoding, n->shadow_cache[e->entry]);
	}
	n->shadow_cache_valid = true;
	vcpu_vmcs_load(v, v->vmcs01.pa);
	link_own(n);
}

void shadow_unlink(struct vcpu *v __unused, struct nvmx *n)
{
	if (!enabled)
		return;
	/* No current VMCS: VMREAD/VMWRITE exit again and get VMfailInvalid (SDM 30.3). */
	vmcs_write32(SECONDARY_VM_EXEC_CONTROL, vmcs_read32(SECONDARY_VM_EXEC_CONTROL) & ~VMCS_SHADOWING);
	vmcs_write64(VMCS_LINK_POINTER, ~0ULL);
	n->l1_link = SHADOW_LINK_NONE;
	n->shadow_cache_valid = false;
}

void shadow_to_vmcs12(struct vcpu *v, struct nvmx *n)
{
	uint64_t was = v->current_vmcs;

	/* Only umbra's own shadow, while L1 ran on it, holds VMWRITEs of L1's that did not exit. */
	if (!enabled || n->l1_link != SHADOW_LINK_OWN || !n->shadow_cache_valid)
		return;
	vcpu_vmcs_load(v, n->shadow_pa);
	for (size_t i = 0; i < sync_rw_count; i++) {
		const struct shadow_sync *e = &sync_rw[i];
		uint64_t val = vmcs_read(e->encoding); /* zero-extended, as vmcs12 stores it */

		n->shadow_cache[e->entry] = val;
		if (val != n->vmcs12.fields[e->slot]) {
			n->vmcs12.fields[e->slot] = val;
			n->dirty[e->slot / 64] |= 1ULL << (e->slot % 64);
		}
	}
	vcpu_vmcs_load(v, was);
}

void shadow_write_field(struct vcpu *v, struct nvmx *n, uint32_t encoding)
{
	int slot = vmcs12_slot(encoding);
	const struct shadow_sync *e;
	uint64_t was = v->current_vmcs;

	if (!enabled || !n->shadow_cache_valid || slot < 0 || !sync_of_slot[slot])
		return;
	e = &sync_all[sync_of_slot[slot] - 1];
	if (n->vmcs12.fields[e->slot] == n->shadow_cache[e->entry])
		return;
	vcpu_vmcs_load(v, n->shadow_pa);
	vmcs_write(e->encoding, n->vmcs12.fields[e->slot]);
	n->shadow_cache[e->entry] = n->vmcs12.fields[e->slot];
	vcpu_vmcs_load(v, was);
}

void shadow_from_vmcs12(struct vcpu *v, struct nvmx *n)
{
	uint64_t was = v->current_vmcs;

	if (!enabled || !n->shadow_cache_valid)
		return;
	/* Dirty tracking: only what changed since the shadow was last written or read. */
	for (size_t i = 0; i < sync_all_count; i++) {
		const struct shadow_sync *e = &sync_all[i];
		uint64_t val = n->vmcs12.fields[e->slot];

		if (val == n->shadow_cache[e->entry])
			continue;
		vcpu_vmcs_load(v, n->shadow_pa);
		vmcs_write(e->encoding, val);
		n->shadow_cache[e->entry] = val;
	}
	vcpu_vmcs_load(v, was);
}

void shadow_attach_own(struct vcpu *v, struct nvmx *n)
{
	if (!enabled || !n->shadow_cache_valid)
		return;
	shadow_from_vmcs12(v, n);
	vcpu_vmcs_load(v, v->vmcs01.pa);
	if (n->l1_link != SHADOW_LINK_OWN)
		link_own(n);
}

/* ---- vmcs02 as L1's shadow VMCS (docs/design.md, "vmcs02 as the shadow") ---------------- */

bool shadow_vmcs02_wanted(const struct nvmx *n)
{
	return enabled && vmcs02_wanted && n->shadow_cache_valid;
}

void shadow_vmcs02_enter(struct vcpu *v, struct nvmx *n)
{
	/* vmcs02 is current: umbra's host fields out, L1's in (L1 reads and writes them there). */
	for (size_t i = 0; i < host02_count; i++) {
		n->umbra_host02[i] = vmcs_read(host02[i].encoding);
		vmcs_write(host02[i].encoding, n->vmcs12.fields[host02[i].slot]);
	}
	/*
	 * SDM Vol. 3C 24.10, 24.11.3: a VMCS becomes a shadow VMCS while it is
	 * not active: VMCLEAR writes it to memory (and clears its launch
	 * state: the next entry is a VMLAUNCH), then its shadow-VMCS indicator
	 * (bit 31 of the revision word) is set.
	 */
	vcpu_vmcs_clear(v, v->vmcs02.pa);
	*(volatile uint32_t *)v->vmcs02.pa = revision | BIT(31);
	n->vmcs02_is_shadow = true;
}

void shadow_vmcs02_link(struct vcpu *v, struct nvmx *n)
{
	/* vmcs01 is current. */
	if (n->l1_link == SHADOW_LINK_VMCS02)
		return;
	vmcs_write64(VMREAD_BITMAP, vmread_bitmap02);
	vmcs_write64(VMWRITE_BITMAP, vmwrite_bitmap02);
	vmcs_write64(VMCS_LINK_POINTER, v->vmcs02.pa);
	n->l1_link = SHADOW_LINK_VMCS02;
}

void shadow_vmcs02_leave(struct vcpu *v, struct nvmx *n)
{
	if (!n->vmcs02_is_shadow)
		return;
	/* An ordinary VMCS again (it is not active: the indicator may change), then current. */
	*(volatile uint32_t *)v->vmcs02.pa = revision;
	n->vmcs02_is_shadow = false;
	vcpu_vmcs_load(v, v->vmcs02.pa);
	for (size_t i = 0; i < back02_count; i++)
		n->vmcs12.fields[back02[i].slot] = vmcs_read(back02[i].encoding);
	/* L1's host state back into vmcs12 (a change is a dirty field: the checks run again), umbra's into vmcs02. */
	for (size_t i = 0; i < host02_count; i++) {
		const struct shadow_sync *e = &host02[i];
		uint64_t val = vmcs_read(e->encoding);

		if (val != n->vmcs12.fields[e->slot]) {
			n->vmcs12.fields[e->slot] = val;
			n->dirty[e->slot / 64] |= 1ULL << (e->slot % 64);
		}
		vmcs_write(e->encoding, n->umbra_host02[i]);
	}
}
#endif
