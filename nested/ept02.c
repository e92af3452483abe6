/* SPDX-License-Identifier: BSD-2-Clause */
/* Shadow EPT for L2: EPT12 (L1's) composed with EPT01 (umbra's), 4 KiB at a time, on demand. */
#include "nested/ept02.h"
#include "arch/x86/cpu.h"
#include "arch/x86/ept.h"
#include "arch/x86/exit_reasons.h"
#include "arch/x86/guest_mem.h"
#include "arch/x86/mtrr.h"
#include "arch/x86/vmx_caps.h"
#include "arch/x86/vmx_controls.h"
#include "core/mem.h"
#include "core/string.h"
#include "nested/ept12.h"
#include "nested/nvmx.h"
#include "nested/vmx_msrs.h"

#define ENTRIES 512

/* umbra's heap is mapped at its physical address (arch/x86/vcpu.c's EPT tables are used the same way). */
static uint64_t *table_at(uint64_t pa)
{
	return (uint64_t *)pa;
}

static uint64_t root_of(const struct ept02_cache *e, unsigned int slot)
{
	return e->pool + (uint64_t)slot * PAGE_SIZE;
}

static uint64_t eptp_of(uint64_t root)
{
	return root | EPTP_WALK_LENGTH_4 | MEM_TYPE_WB;
}

bool ept02_init(struct ept02_cache *e)
{
	e->pool = mem_alloc_pages(EPT02_POOL_PAGES);
	if (!e->pool)
		return false;
	memset(table_at(e->pool), 0, EPT02_POOL_PAGES * PAGE_SIZE);
	e->next = EPT02_SLOTS;
	return true;
}

/* A zeroed table from the pool, or 0 when it is used up. */
static uint64_t table_alloc(struct ept02_cache *e)
{
	uint64_t pa;

	if (e->free_count)
		pa = e->pool + (uint64_t)e->free_pages[--e->free_count] * PAGE_SIZE;
	else if (e->next < EPT02_POOL_PAGES)
		pa = e->pool + (uint64_t)e->next++ * PAGE_SIZE;
	else
		return 0;
	memset(table_at(pa), 0, PAGE_SIZE);
	return pa;
}

/* Give the tables below a table of the given level back to the pool. */
static void free_below(struct ept02_cache *e, uint64_t table_pa, int level)
{
	uint64_t *t = table_at(table_pa);

	for (int i = 0; i < ENTRIES && level > 1; i++) {
		uint64_t child = t[i] & EPT_ADDR_MASK;

		if (!(t[i] & EPT_RWX))
			continue;
		free_below(e, child, level - 1);
		e->free_pages[e->free_count++] = (uint16_t)((child - e->pool) / PAGE_SIZE);
	}
}

/* The CPU drops what it cached for a shadow EPT whose tables changed (SDM 28.3.3.4). */
static void invept_root(uint64_t root)
{
	bool single = vm.caps.ept_vpid & EPT_CAP_INVEPT_SINGLE;

	invept(single ? INVEPT_SINGLE_CONTEXT : INVEPT_ALL_CONTEXT, eptp_of(root));
}

static void slot_clear(struct ept02_cache *e, unsigned int s)
{
	uint64_t root = root_of(e, s);

	free_below(e, root, 4);
	memset(table_at(root), 0, PAGE_SIZE);
	invept_root(root);
}

/* Out of tables: every shadow EPT of this vCPU starts again, empty (the slots keep their EPTPs). */
static void pool_flush(struct ept02_cache *e)
{
	memset(table_at(e->pool), 0, EPT02_POOL_PAGES * PAGE_SIZE);
	e->free_count = 0;
	e->next = EPT02_SLOTS;
	invept(INVEPT_ALL_CONTEXT, 0);
	e->pool_flushes++;
}

/* SDM 28.3.3.1: INVEPT single-context and EPT02 slots are keyed by the EP4TA (bits 51:12). */
static bool same_ep4ta(uint64_t a, uint64_t b)
{
	return ((a ^ b) & EPT_ADDR_MASK) == 0;
}

static int slot_find(const struct ept02_cache *e, uint64_t eptp12)
{
	for (unsigned int s = 0; s < EPT02_SLOTS; s++)
		if (e->slot[s].used && same_ep4ta(e->slot[s].eptp12, eptp12))
			return (int)s;
	return -1;
}

uint64_t ept02_eptp(struct ept02_cache *e, uint64_t eptp12)
{
	int s = slot_find(e, eptp12);

	if (s < 0) {
		/* A free slot, else the one entered least recently, emptied. */
		s = 0;
		for (unsigned int i = 0; i < EPT02_SLOTS; i++) {
			if (!e->slot[i].used) {
				s = (int)i;
				break;
			}
			if (e->slot[i].last_use < e->slot[s].last_use)
				s = (int)i;
		}
		if (e->slot[s].used) {
			slot_clear(e, (unsigned int)s);
			e->evictions++;
		}
		e->slot[s] = (struct ept02_slot){ .eptp12 = eptp12, .used = true };
	} else if ((e->slot[s].eptp12 ^ eptp12) & EPTP_AD_ENABLE) {
		/* Its leaves follow the A/D setting (dirty pages writable, the others not): anew. */
		slot_clear(e, (unsigned int)s);
		e->slot[s].eptp12 = eptp12;
	}
	e->slot[s].last_use = ++e->clock;
	/*
	 * With L1's A/D flags the shadow EPT has them too, so that the CPU
	 * treats L2's paging-structure accesses as writes (SDM 29.3.3.2), as
	 * it would on L1's EPT: they fault on a leaf not yet dirty.
	 */
	return eptp_of(root_of(e, (unsigned int)s)) | (eptp12 & EPTP_AD_ENABLE);
}

void ept02_invept(struct ept02_cache *e, bool all, uint64_t eptp12)
{
	for (unsigned int s = 0; s < EPT02_SLOTS; s++)
		if (e->slot[s].used && (all || same_ep4ta(e->slot[s].eptp12, eptp12)))
			slot_clear(e, s);
	e->invepts++;
}

void ept02_caps12(struct ept12_caps *caps)
{
	uint64_t cap = 0;

	vmx_msr_read(MSR_IA32_VMX_EPT_VPID_CAP, &cap);
	*caps = (struct ept12_caps){ .phys_bits = vm.phys_addr_bits,
				     .exec_only = cap & EPT_CAP_EXEC_ONLY,
				     .pages_2m = cap & EPT_CAP_2M,
				     .pages_1g = cap & EPT_CAP_1G,
				     .mem_uc = cap & EPT_CAP_UC,
				     .mem_wb = cap & EPT_CAP_WB,
				     .ad = cap & EPT_CAP_AD };
}

/* An entry of L1's EPT, read as the CPU would: memory that is not L1's reads all ones (a misconfiguration). */
static uint64_t read_l1_entry(void *ctx __unused, uint64_t pa)
{
	uint64_t e;

	guest_read_phys_or_ones(pa, &e, sizeof(e));
	return e;
}

/* Map the 4 KiB page of gpa2 with leaf in the shadow EPT at root: false when the pool ran out. */
static bool map_4k(struct ept02_cache *e, uint64_t root, uint64_t gpa2, uint64_t leaf)
{
	uint64_t table = root;

	for (int level = 4; level > 1; level--) {
		uint64_t *t = table_at(table);
		unsigned int i = (unsigned int)(gpa2 >> (12 + 9 * (level - 1))) & (ENTRIES - 1);

		if (!(t[i] & EPT_RWX)) {
			uint64_t child = table_alloc(e);

			if (!child)
				return false;
			t[i] = child | EPT_RWX;
		}
		table = t[i] & EPT_ADDR_MASK;
	}
	table_at(table)[(gpa2 >> 12) & (ENTRIES - 1)] = leaf;
	return true;
}

static const char *access_name(uint64_t qual)
{
	return (qual & EPT_QUAL_WRITE) ? "write" : (qual & EPT_QUAL_FETCH) ? "instruction fetch" : "read";
}

/*
 * SDM 28.3.3.2: an EPT violation drops whatever the CPU cached for the
 * faulting address, so a leaf umbra widens needs no INVEPT; leaves only
 * narrow at INVEPT of L1's (ept02_invept) or an eviction, which flush.
 */
/* SDM Vol. 3C 24.4.2, Table 24-3. */
#define INTERRUPTIBILITY_MOV_SS BIT(1)

/*
 * After a fill L2 runs the instruction again, as if there had been no
 * exit. SDM 27.3.4 saves an EPT violation's pending debug exceptions as
 * clear unless there is MOV-SS blocking; Bochs saves the single-step trap
 * its RFLAGS.TF scheduled for that instruction (docs/bochs.md), which the
 * entry would deliver before the instruction ran (an early #DB bare Bochs
 * never shows L1: there L2's EPT12 access gives no exit at all).
 */
static void drop_early_single_step(void)
{
	if (!(vmcs_read32(GUEST_INTERRUPTIBILITY_INFO) & INTERRUPTIBILITY_MOV_SS))
		vmcs_writenat(GUEST_PENDING_DBG_EXCEPTIONS, 0);
}

/*
 * SDM Vol. 3C 29.3.5: the flags go into L1's EPT as the CPU sets them, with
 * a locked OR (L1's other CPUs may be changing the same entries). Every
 * entry of a walk that translated is L1's RAM (elsewhere it reads all ones:
 * a misconfiguration).
 */
static void set_ad_flags(struct vcpu *v, const struct ept12_walk *w, uint64_t access)
{
	for (int i = 0; i < w->entries; i++) {
		uint64_t bits = ept12_ad_bits(w, i, access);
		uint64_t *p;

		if (!bits)
			continue;
		p = guest_phys_ptr(w->entry_pa[i], sizeof(*p));
		if (!p)
			guest_stop(v, "L1's EPT entry at %#lx is not L1's memory", w->entry_pa[i]);
		__atomic_fetch_or(p, bits, __ATOMIC_SEQ_CST);
	}
}

/*
 * SDM Vol. 3C 29.3.6: with "enable PML", setting a leaf's dirty flag logs
 * the access's guest-physical page at PML_ADDRESS + 8 * index, and the
 * index goes down; with the index outside 0..511 nothing is logged or set
 * and there is a page-modification log-full VM exit instead (reason 62,
 * qualification bit 12 as for an EPT violation). False: that exit, to L1.
 */
static bool pml_log(struct vcpu *v, struct nvmx *n, const struct ept12_walk *w, uint64_t gpa2, uint64_t access,
		    uint64_t qual)
{
	struct vmcs12 *c = &n->vmcs12;
	uint16_t index;
	uint64_t page = gpa2 & ~(uint64_t)(PAGE_SIZE - 1);

	if (!(VMCS12_GET(c, CPU_BASED_VM_EXEC_CONTROL) & SECONDARY_CONTROLS) ||
	    !(VMCS12_GET(c, SECONDARY_VM_EXEC_CONTROL) & ENABLE_PML) ||
	    !(ept12_ad_bits(w, w->entries - 1, access) & EPT_DIRTY))
		return true;
	index = (uint16_t)VMCS12_GET(c, GUEST_PML_INDEX);
	if (index >= 512) {
		nvmx_reflect_with(v, EXIT_REASON_PML_FULL, qual & EPT_QUAL_NMI_UNBLOCKING);
		return false;
	}
	guest_write_phys_or_drop(VMCS12_GET(c, PML_ADDRESS) + 8ULL * index, &page, sizeof(page));
	VMCS12_SET(c, GUEST_PML_INDEX, (uint16_t)(index - 1));
	return true;
}

/*
 * An access of L2's at gpa2 that L1's EPT allowed (w): umbra's EPT for L1
 * at w->gpa1 must let it through too (elsewhere the guest stops with a
 * report, as an access of L1's own would); with L1's A/D flags the access
 * is logged for L1's PML and the flags are set. Returns umbra's leaf
 * there, or 0 when the log was full and that exit went to L1.
 */
static __always_inline uint64_t l1_side(struct vcpu *v, struct nvmx *n, const struct ept12_walk *w,
					uint64_t gpa2, uint64_t access, uint64_t qual)
{
	uint64_t leaf01 = vm_ept01_leaf(w->gpa1);

	if (!(leaf01 & EPT_RWX))
		guest_stop(v, "L1's EPT maps L2's guest-physical %#lx to %#lx, which is not L1's memory "
			      "(umbra's, or beyond the map): L2 %s stopped", gpa2, w->gpa1, access_name(access));
	if ((access & EPT_QUAL_WRITE) && !(w->perms & leaf01 & EPT_WRITE))
		guest_stop(v, "L2 %s at guest-physical %#lx through L1's EPT reaches %#lx, which umbra keeps "
			      "read-only (the local APIC page: not emulated for L2)", access_name(access), gpa2, w->gpa1);
	if (VMCS12_GET(&n->vmcs12, EPT_POINTER) & EPTP_AD_ENABLE) {
		if (!pml_log(v, n, w, gpa2, access, qual))
			return 0;
		set_ad_flags(v, w, access);
	}
	return leaf01;
}

enum ept02_access ept02_l2_access(struct vcpu *v, struct nvmx *n, uint64_t gpa2, uint64_t access, uint64_t *gpa1,
				  uint64_t *perms)
{
	struct ept12_caps caps;
	struct ept12_walk w;
	enum ept12_result r;

	ept02_caps12(&caps);
	r = ept12_translate(&caps, read_l1_entry, NULL, VMCS12_GET(&n->vmcs12, EPT_POINTER), gpa2, access, &w);
	*perms = w.perms;
	if (r == EPT12_MISCONFIG)
		guest_stop(v, "L1's EPT is misconfigured at L2's guest-physical %#lx, for an operand umbra "
			      "emulates (an EPT misconfiguration for L1 is not synthesised)", gpa2);
	if (r != EPT12_OK)
		return EPT02_ACCESS_REFUSED;
	if (!l1_side(v, n, &w, gpa2, access, 0))
		return EPT02_ACCESS_REFLECTED;
	*gpa1 = w.gpa1;
	return EPT02_ACCESS_OK;
}

bool ept02_l2_exit(struct vcpu *v, struct nvmx *n, uint32_t basic, uint64_t qual)
{
	struct ept02_cache *e = &n->ept02;
	uint64_t eptp12 = VMCS12_GET(&n->vmcs12, EPT_POINTER), gpa2 = vmcs_read64(GUEST_PHYSICAL_ADDRESS);
	uint64_t access = qual & EPT_QUAL_ACCESS, leaf01, leaf;
	struct ept12_caps caps;
	struct ept12_walk w;
	int s;

	if (basic == EXIT_REASON_EPT_MISCONFIG)
		guest_stop(v, "EPT misconfiguration in umbra's shadow EPT at L2 guest-physical %#lx", gpa2);
	ept02_caps12(&caps);
	switch (ept12_translate(&caps, read_l1_entry, NULL, eptp12, gpa2, access, &w)) {
	case EPT12_VIOLATION:
		/* L1's: the access as the CPU saw it, with what L1's entries allowed (27.2.1). */
		e->reflected++;
		nvmx_reflect_with(v, EXIT_REASON_EPT_VIOLATION,
				  (qual & EPT_QUAL_FROM_CPU) | (w.perms << EPT_QUAL_PERMS_SHIFT));
		return true;
	case EPT12_MISCONFIG:
		e->reflected++;
		nvmx_reflect_with(v, EXIT_REASON_EPT_MISCONFIG, 0); /* its qualification is undefined (27.2.1) */
		return true;
	case EPT12_OK:
		break;
	}
	/* L1's EPT allows it: what umbra's EPT for L1 has at that address decides the rest. */
	leaf01 = l1_side(v, n, &w, gpa2, access, qual);
	if (!leaf01)
		return true; /* the PML log was full: L1's exit, the access not done */
	leaf = ept12_compose(&w, leaf01);
	/* A leaf not dirty yet stays read-only here: the first write comes back to set its flag. */
	if ((eptp12 & EPTP_AD_ENABLE) && !((w.entry[w.entries - 1] | ept12_ad_bits(&w, w.entries - 1, access)) & EPT_DIRTY))
		leaf &= ~EPT_WRITE;
	s = slot_find(e, eptp12);
	if (s < 0) { /* cannot happen: vmcs02 runs with eptp12's slot (nested/entry.c) */
		vmcs_write64(EPT_POINTER, ept02_eptp(e, eptp12));
		s = slot_find(e, eptp12);
	}
	if (!map_4k(e, root_of(e, (unsigned int)s), gpa2, leaf)) {
		pool_flush(e);
		if (!map_4k(e, root_of(e, (unsigned int)s), gpa2, leaf))
			guest_stop(v, "shadow EPT pool of %u pages cannot map one page", EPT02_POOL_PAGES);
	}
	e->fills++;
	drop_early_single_step();
	exit_reinject_event(EXIT_REASON_EPT_VIOLATION); /* an event being delivered still is */
	return true;
}
