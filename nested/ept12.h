/* SPDX-License-Identifier: BSD-2-Clause */
/* Walking L1's EPT for L2 (EPT12): translation, permissions, misconfigurations (SDM Vol. 3C 29.3). */
#ifndef UMBRA_NESTED_EPT12_H
#define UMBRA_NESTED_EPT12_H

#include "core/types.h"

/* EPT-violation exit qualification (SDM Vol. 3C 27.2.1, Table 27-7). */
#define EPT_QUAL_READ BIT(0)
#define EPT_QUAL_WRITE BIT(1)
#define EPT_QUAL_FETCH BIT(2)
#define EPT_QUAL_ACCESS (EPT_QUAL_READ | EPT_QUAL_WRITE | EPT_QUAL_FETCH)
#define EPT_QUAL_PERMS_SHIFT 3 /* bits 5:3: what the walk's entries allowed (R, W, X) */
#define EPT_QUAL_LINEAR_VALID BIT(7)
#define EPT_QUAL_FINAL_ACCESS BIT(8) /* with bit 7: the access itself, not a paging-structure read */
#define EPT_QUAL_NMI_UNBLOCKING BIT(12)
/* Bits umbra passes through from the CPU's exit to L1's: how the access came about. */
#define EPT_QUAL_FROM_CPU (EPT_QUAL_ACCESS | EPT_QUAL_LINEAR_VALID | EPT_QUAL_FINAL_ACCESS | EPT_QUAL_NMI_UNBLOCKING)

/* What L1's EPT may use: the capabilities umbra advertised (IA32_VMX_EPT_VPID_CAP). */
struct ept12_caps {
	uint32_t phys_bits; /* MAXPHYADDR: higher address bits are reserved */
	bool exec_only;     /* bit 0: X without R is allowed */
	bool pages_2m, pages_1g;
	bool mem_uc, mem_wb; /* memory types an EPTP may name (bits 8, 14) */
	bool ad;             /* bit 21: accessed and dirty flags (EPTP bit 6) */
};

/* Reads one 8-byte entry of L1's EPT at guest-physical pa (memory that is not L1's: all ones). */
typedef uint64_t (*ept12_read_fn)(void *ctx, uint64_t pa);

enum ept12_result {
	EPT12_OK,         /* translated, and the access is allowed */
	EPT12_VIOLATION,  /* not present, or the access is not allowed: an EPT violation for L1 */
	EPT12_MISCONFIG,  /* a present entry with a reserved setting: an EPT misconfiguration for L1 */
};

struct ept12_walk {
	uint64_t gpa1;    /* L1 guest-physical address of the access (EPT12_OK) */
	uint64_t perms;   /* EPT_READ|EPT_WRITE|EPT_EXEC: the AND over every entry walked */
	uint8_t mem_type; /* the leaf's memory type (EPT12_OK) */
	bool ignore_pat;  /* the leaf's "ignore PAT" bit */
	int leaf_level;   /* 1: 4 KiB, 2: 2 MiB, 3: 1 GiB page */
	/* The entries walked, from the PML4E down: where each is in L1's memory, and its value. */
	int entries;
	uint64_t entry_pa[4], entry[4];
};

/*
 * SDM Vol. 3C 29.3.5: with EPTP bit 6, a translation sets the accessed
 * flag of every entry it used, and a write (with it, an access to a guest
 * paging structure, 29.3.3.2) the dirty flag of the leaf. The bits the
 * walk w's entry i lacks for an access of the kinds in access (0: none).
 */
uint64_t ept12_ad_bits(const struct ept12_walk *w, int i, uint64_t access);

/*
 * The shadow EPT's 4 KiB leaf for a translation L1's EPT allowed (w), over
 * the leaf of umbra's EPT for L1 at w->gpa1 (leaf01, present): L1's page,
 * the rights both allow, L1's memory type and "ignore PAT" except where
 * umbra's type is UC (MMIO), which wins.
 */
uint64_t ept12_compose(const struct ept12_walk *w, uint64_t leaf01);

/* SDM 24.6.11 / 26.2.1.1: an EPTP L1 may use (memory type, 4-level walk, A/D if offered, reserved bits). */
bool ept12_eptp_valid(const struct ept12_caps *caps, uint64_t eptp);

/*
 * Translate gpa2 through L1's EPT rooted at eptp, for an access of the
 * kinds in access (EPT_QUAL_READ/WRITE/FETCH). A violation's perms are the
 * AND over the entries walked up to the one that stopped it (SDM 27.2.1:
 * bits 5:3 of the qualification).
 */
enum ept12_result ept12_translate(const struct ept12_caps *caps, ept12_read_fn read, void *ctx, uint64_t eptp,
				  uint64_t gpa2, uint64_t access, struct ept12_walk *w);

#endif
