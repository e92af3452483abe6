/* SPDX-License-Identifier: BSD-2-Clause */
/* Shadow EPT for L2 (EPT02): L1's EPT composed with umbra's, filled on demand (SDM Vol. 3C 29.3). */
#ifndef UMBRA_NESTED_EPT02_H
#define UMBRA_NESTED_EPT02_H

#include "core/types.h"

struct vcpu;
struct nvmx;

/*
 * Each vCPU keeps EPT02_SLOTS shadow EPTs, one per EPTP of L1's (one per
 * L2 as KVM and Xen run them), the least recently entered evicted when a
 * new EPTP needs a slot. Their tables come from a pool of EPT02_POOL_PAGES
 * allocated at start-up; when it runs out every shadow EPT of the vCPU is
 * dropped and refilled on demand (no allocation on the exit path).
 */
#define EPT02_SLOTS 4
#define EPT02_POOL_PAGES 192

struct ept02_slot {
	uint64_t eptp12;   /* L1's EPTP this shadow EPT serves */
	uint64_t last_use; /* ept02 clock at the last entry with it */
	bool used;
};

struct ept02_cache {
	struct ept02_slot slot[EPT02_SLOTS];
	uint64_t pool;      /* EPT02_POOL_PAGES pages: the slots' roots first, then tables */
	uint32_t next;      /* next never-used table page of the pool */
	uint16_t free_pages[EPT02_POOL_PAGES]; /* tables given back (page indices) */
	uint32_t free_count;
	uint64_t clock;
	uint64_t fills, reflected, pool_flushes, evictions, invepts; /* statistics */
};

/* Allocate the pool (start-up, once per vCPU): false when memory ran out. */
bool ept02_init(struct ept02_cache *e);

/* The EPTP vmcs02 runs with for L1's eptp12 (already checked): its slot's root, WB, 4-level. */
uint64_t ept02_eptp(struct ept02_cache *e, uint64_t eptp12);

/*
 * An EPT violation or misconfiguration while L2 ran on a shadow EPT: filled
 * from L1's EPT and L2 resumed, reflected to L1 when L1's EPT causes it, or
 * the guest stopped when L1's EPT points L2 at memory L1 has not (umbra's).
 * Always handled (true).
 */
bool ept02_l2_exit(struct vcpu *v, struct nvmx *n, uint32_t basic, uint64_t qual);

/* What became of an access umbra makes for L2 through L1's EPT (ept02_l2_access()). */
enum ept02_access {
	EPT02_ACCESS_OK,        /* *gpa1 is where it lands in L1's memory */
	EPT02_ACCESS_REFUSED,   /* L1's EPT does not allow it: the CPU would exit to L1 */
	EPT02_ACCESS_REFLECTED, /* L1's PML log was full: that exit went to L1 */
};

/*
 * An access umbra performs for L2 (a memory operand of an instruction it
 * emulates) at L2's guest-physical gpa2, access as in an EPT violation's
 * qualification: translated through L1's EPT as the CPU would, with L1's
 * accessed and dirty flags and its page-modification log. *perms: what
 * L1's entries allowed (an EPT violation's qualification bits 5:3).
 */
enum ept02_access ept02_l2_access(struct vcpu *v, struct nvmx *n, uint64_t gpa2, uint64_t access, uint64_t *gpa1,
				  uint64_t *perms);

/* INVEPT of L1's (SDM 30.3): single-context drops the shadow of eptp12, all-context every one. */
void ept02_invept(struct ept02_cache *e, bool all, uint64_t eptp12);

/* The EPT capabilities L1 is offered, from the virtual IA32_VMX_EPT_VPID_CAP. */
struct ept12_caps;
void ept02_caps12(struct ept12_caps *caps);

#endif
