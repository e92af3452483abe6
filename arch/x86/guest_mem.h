/* SPDX-License-Identifier: BSD-2-Clause */
/* Reading guest memory from umbra: guest paging walks and checked copies. */
#ifndef UMBRA_ARCH_X86_GUEST_MEM_H
#define UMBRA_ARCH_X86_GUEST_MEM_H

#include "core/types.h"

/* Is [gpa, gpa + len) the guest's RAM (not umbra's, not MMIO, below any guest_mem= limit)? */
bool guest_range_ok(uint64_t gpa, uint64_t len);

/*
 * umbra's pointer to guest-physical [gpa, gpa + len): the guest's RAM,
 * reached through umbra's map of all RAM (arch/x86/paging.h). NULL when
 * any of it is not the guest's or not mapped. Every access umbra makes to
 * guest memory goes through here.
 */
void *guest_phys_ptr(uint64_t gpa, uint64_t len);

/* Copy guest-physical memory; false when any of it is not the guest's. */
bool guest_read_phys(uint64_t gpa, void *buf, size_t len);

/*
 * Translate a linear address through the paging mode of the current VMCS's
 * guest (none, 32-bit, PAE, 4-level; SDM Vol. 3A ch. 4). Only presence is
 * checked: umbra uses this to fetch instructions the guest just executed.
 */
bool guest_linear_to_phys(uint64_t la, uint64_t *gpa);

/* #PF error code (SDM Vol. 3A 4.7). */
#define PF_ERR_PRESENT BIT(0)
#define PF_ERR_WRITE BIT(1)
#define PF_ERR_USER BIT(2)
#define PF_ERR_RSVD BIT(3)

/*
 * A data access of the current VMCS's guest at its CPL, with the rights a
 * CPU checks (R/W, U/S, CR0.WP, SMAP, reserved bits; SDM Vol. 3A 4.6). False
 * when it would #PF, with the error code in *pf_err.
 */
bool guest_translate_data(uint64_t la, bool write, uint64_t *gpa, uint32_t *pf_err);

/*
 * One more translation for each guest-physical address a walk uses, when
 * the guest is L2 on L1's EPT: fn turns L2's address into L1's for a
 * paging-structure read or the access itself, false when L1's EPT does
 * not allow it (then failed is set and the walk stops there).
 */
struct gpa_translator {
	bool (*fn)(void *ctx, uint64_t gpa, bool paging_structure, bool write, uint64_t *out);
	void *ctx;
	bool failed;
	uint64_t la; /* the linear address being translated (guest_translate_data_via() sets it) */
};

/* guest_translate_data() with every guest-physical address through t; false on a #PF or t->failed. */
bool guest_translate_data_via(struct gpa_translator *t, uint64_t la, bool write, uint64_t *gpa, uint32_t *pf_err);

/* Read len bytes at a guest linear address (may cross pages). */
bool guest_read_linear(uint64_t la, void *buf, size_t len);

/* Write guest-physical memory; false when any of it is not the guest's. */
bool guest_write_phys(uint64_t gpa, const void *buf, size_t len);

/*
 * The CPU's view of a structure the guest names by physical address (a
 * VMCS region, a bitmap, an MSR list, PDPTEs): its RAM is read and written
 * as it is, and what is not its RAM (umbra's memory, MMIO, holes, beyond
 * RAM) behaves as memory that is not there: reads give all ones, writes are
 * dropped (docs/design.md, "Guest-physical addresses umbra follows").
 * Page by page, so a range may be part RAM and part absent.
 */
void guest_read_phys_or_ones(uint64_t gpa, void *buf, size_t len);
void guest_write_phys_or_drop(uint64_t gpa, const void *buf, size_t len);

/* Write len bytes at a guest linear address; false (nothing or part written) when unmapped. */
bool guest_write_linear(uint64_t la, const void *buf, size_t len);

#endif
