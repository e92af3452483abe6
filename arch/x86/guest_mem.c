/* SPDX-License-Identifier: BSD-2-Clause */
/* Guest memory access for emulation: page walks and bounds against umbra's memory. */
#include "arch/x86/guest_mem.h"
#include "arch/x86/cpu.h"
#include "arch/x86/paging.h"
#include "arch/x86/vcpu.h"
#include "core/string.h"

#define PTE_PRESENT BIT(0)
#define PTE_WRITABLE BIT(1)
#define PTE_USER BIT(2)
#define PTE_LARGE BIT(7)
#define PTE_XD BIT(63)
#define PTE_ADDR_MASK 0x000ffffffffff000ULL
#define CR4_SMAP_BIT BIT(21)  /* SDM Vol. 3A 2.5 */
#define RFLAGS_AC_BIT BIT(18) /* SDM Vol. 1 3.4.3 */
/* SDM Vol. 3A Tables 4-15, 4-17: reserved bits of a 1 GiB PDPTE and a 2 MiB PDE. */
#define PTE_RSVD_1G 0x3fffe000ULL
#define PTE_RSVD_2M 0x1fe000ULL

/*
 * Only the guest's RAM: a hostile guest could name MMIO (a VMCS region on
 * the local APIC page, say), where umbra's own copies would have effects.
 */
bool guest_range_ok(uint64_t gpa, uint64_t len)
{
	if (len == 0 || gpa + len < gpa)
		return false;
	if (vm.guest_map && !loader_range_is_ram(vm.guest_map, gpa, gpa + len))
		return false;
	if (vm.guest_mem_limit && gpa + len > vm.guest_mem_limit)
		return false;
	for (size_t i = 0; i < vm.umbra_mem_count; i++)
		if (gpa < vm.umbra_mem[i].end && gpa + len > vm.umbra_mem[i].base)
			return false;
	return true;
}

void *guest_phys_ptr(uint64_t gpa, uint64_t len)
{
	return guest_range_ok(gpa, len) ? paging_phys_ptr(gpa, len) : NULL;
}

bool guest_read_phys(uint64_t gpa, void *buf, size_t len)
{
	const void *p = guest_phys_ptr(gpa, len);

	if (!p)
		return false;
	memcpy(buf, p, len);
	return true;
}

/* A walk so far: rights granted by every level (SDM Vol. 3A 4.6), and how it ended. */
struct walk {
	bool writable, user, reserved;
	uint64_t rsvd_mask; /* bits that must be 0 in a 64-bit entry (above MAXPHYADDR, XD without NXE) */
	struct gpa_translator *t; /* NULL: the guest's physical addresses are L1's */
};

static bool read_entry(struct walk *w, uint64_t table, uint64_t index, size_t size, uint64_t *entry)
{
	uint64_t v = 0, pa = table + index * size;

	if (w->t && !w->t->fn(w->t->ctx, pa, true, false, &pa)) {
		w->t->failed = true;
		return false;
	}
	if (!guest_read_phys(pa, &v, size))
		return false;
	*entry = v;
	return true;
}

/* One paging-structure entry: false when it is not present or not the guest's memory. */
static bool walk_entry(struct walk *w, uint64_t table, uint64_t index, size_t size, uint64_t extra_rsvd,
		       uint64_t *e)
{
	if (!read_entry(w, table, index, size, e) || !(*e & PTE_PRESENT))
		return false;
	w->writable &= !!(*e & PTE_WRITABLE);
	w->user &= !!(*e & PTE_USER);
	if (size == 8 && (*e & (w->rsvd_mask | extra_rsvd)))
		w->reserved = true;
	return true;
}

/* SDM Vol. 3A 4.3-4.5: the walk itself; *w says what the entries allowed. */
static bool walk(uint64_t la, struct walk *w, uint64_t *gpa)
{
	uint64_t cr0 = vmcs_readnat(GUEST_CR0), cr3 = vmcs_readnat(GUEST_CR3);
	uint64_t cr4 = vmcs_readnat(GUEST_CR4), efer = vmcs_read64(GUEST_IA32_EFER);
	uint64_t e, table;

	*w = (struct walk){ .writable = true, .user = true, .t = w->t,
			    .rsvd_mask = (PTE_ADDR_MASK & ~((1ULL << vm.phys_addr_bits) - 1)) |
					 ((efer & EFER_NXE) ? 0 : PTE_XD) };
	if (!(cr0 & CR0_PG)) {
		*gpa = la & 0xffffffffULL;
		return true;
	}
	if (!(cr4 & CR4_PAE)) {
		/* 32-bit paging (SDM Vol. 3A 4.3): 4 MiB pages when CR4.PSE. */
		la &= 0xffffffffULL;
		if (!walk_entry(w, cr3 & 0xfffff000, la >> 22, 4, 0, &e))
			return false;
		if ((cr4 & CR4_PSE) && (e & PTE_LARGE)) {
			*gpa = ((e & 0xffc00000) | ((e & 0x1fe000) << 19)) + (la & 0x3fffff);
			return true;
		}
		if (!walk_entry(w, e & 0xfffff000, (la >> 12) & 0x3ff, 4, 0, &e))
			return false;
		*gpa = (e & 0xfffff000) + (la & 0xfff);
		return true;
	}
	if (efer & EFER_LMA) {
		/* 4-level paging (SDM Vol. 3A 4.5): PS is reserved in a PML4E. */
		table = cr3 & PTE_ADDR_MASK;
		if (!walk_entry(w, table, (la >> 39) & 511, 8, PTE_LARGE, &e))
			return false;
		table = e & PTE_ADDR_MASK;
		if (!walk_entry(w, table, (la >> 30) & 511, 8, 0, &e))
			return false;
		if (e & PTE_LARGE) {
			if (e & PTE_RSVD_1G)
				w->reserved = true;
			*gpa = (e & PTE_ADDR_MASK & ~(GiB(1) - 1)) + (la & (GiB(1) - 1));
			return true;
		}
	} else {
		/* PAE paging (SDM Vol. 3A 4.4): four PDPTEs at CR3, no rights of their own. */
		la &= 0xffffffffULL;
		if (!read_entry(w, cr3 & 0xffffffe0, la >> 30, 8, &e) || !(e & PTE_PRESENT))
			return false;
	}
	table = e & PTE_ADDR_MASK;
	if (!walk_entry(w, table, (la >> 21) & 511, 8, 0, &e))
		return false;
	if (e & PTE_LARGE) {
		if (e & PTE_RSVD_2M)
			w->reserved = true;
		*gpa = (e & PTE_ADDR_MASK & ~(MiB(2) - 1)) + (la & (MiB(2) - 1));
		return true;
	}
	table = e & PTE_ADDR_MASK;
	if (!walk_entry(w, table, (la >> 12) & 511, 8, 0, &e))
		return false;
	*gpa = (e & PTE_ADDR_MASK) + (la & 0xfff);
	return true;
}

bool guest_linear_to_phys(uint64_t la, uint64_t *gpa)
{
	struct walk w = { 0 };

	return walk(la, &w, gpa);
}

bool guest_translate_data(uint64_t la, bool write, uint64_t *gpa, uint32_t *pf_err)
{
	return guest_translate_data_via(NULL, la, write, gpa, pf_err);
}

bool guest_translate_data_via(struct gpa_translator *t, uint64_t la, bool write, uint64_t *gpa, uint32_t *pf_err)
{
	bool user = ((vmcs_read32(GUEST_SS_AR_BYTES) >> 5) & 3) == 3;
	struct walk w = { .t = t };
	bool denied;

	if (t)
		t->la = la;
	*pf_err = (write ? PF_ERR_WRITE : 0) | (user ? PF_ERR_USER : 0);
	if (!walk(la, &w, gpa))
		return false; /* not present: P = 0 */
	/*
	 * SDM Vol. 3A 4.6.1: a write needs R/W at every level for CPL 3, and
	 * for CPL < 3 when CR0.WP; CPL 3 needs U/S at every level; a
	 * supervisor access to a user page faults with CR4.SMAP and RFLAGS.AC 0.
	 */
	denied = (write && !w.writable && (user || (vmcs_readnat(GUEST_CR0) & CR0_WP))) || (user && !w.user) ||
		 (!user && w.user && (vmcs_readnat(GUEST_CR4) & CR4_SMAP_BIT) &&
		  !(vmcs_readnat(GUEST_RFLAGS) & RFLAGS_AC_BIT));
	if (w.reserved)
		*pf_err |= PF_ERR_PRESENT | PF_ERR_RSVD;
	else if (denied)
		*pf_err |= PF_ERR_PRESENT;
	if (w.reserved || denied)
		return false;
	/* The access itself, after the walk allowed it (SDM Vol. 3C 29.3.3: EPT after paging). */
	if (t && !t->fn(t->ctx, *gpa, false, write, gpa)) {
		t->failed = true;
		return false;
	}
	return true;
}

bool guest_read_linear(uint64_t la, void *buf, size_t len)
{
	uint8_t *out = buf;

	while (len) {
		uint64_t pa;
		size_t chunk = MIN(len, 4096 - (la & 0xfff));

		if (!guest_linear_to_phys(la, &pa) || !guest_read_phys(pa, out, chunk))
			return false;
		la += chunk;
		out += chunk;
		len -= chunk;
	}
	return true;
}

bool guest_write_phys(uint64_t gpa, const void *buf, size_t len)
{
	void *p = guest_phys_ptr(gpa, len);

	if (!p)
		return false;
	memcpy(p, buf, len);
	return true;
}

void guest_read_phys_or_ones(uint64_t gpa, void *buf, size_t len)
{
	uint8_t *out = buf;

	while (len) {
		size_t chunk = MIN(len, PAGE_SIZE - (gpa & (PAGE_SIZE - 1)));
		const void *p = guest_phys_ptr(gpa, chunk);

		if (p)
			memcpy(out, p, chunk);
		else
			memset(out, 0xff, chunk);
		gpa += chunk;
		out += chunk;
		len -= chunk;
	}
}

void guest_write_phys_or_drop(uint64_t gpa, const void *buf, size_t len)
{
	const uint8_t *in = buf;

	while (len) {
		size_t chunk = MIN(len, PAGE_SIZE - (gpa & (PAGE_SIZE - 1)));
		void *p = guest_phys_ptr(gpa, chunk);

		if (p)
			memcpy(p, in, chunk);
		gpa += chunk;
		in += chunk;
		len -= chunk;
	}
}

bool guest_write_linear(uint64_t la, const void *buf, size_t len)
{
	const uint8_t *in = buf;

	while (len) {
		uint64_t pa;
		size_t chunk = MIN(len, 4096 - (la & 0xfff));

		if (!guest_linear_to_phys(la, &pa) || !guest_write_phys(pa, in, chunk))
			return false;
		la += chunk;
		in += chunk;
		len -= chunk;
	}
	return true;
}
