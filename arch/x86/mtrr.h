/* SPDX-License-Identifier: BSD-2-Clause */
/* MTRR state and memory-type look-ups (SDM Vol. 3A 12.11), for EPT memory types. */
#ifndef UMBRA_ARCH_X86_MTRR_H
#define UMBRA_ARCH_X86_MTRR_H

#include "core/types.h"

/* Memory types (SDM Vol. 3A Table 12-8); EPT uses the same numbers. */
#define MEM_TYPE_UC 0
#define MEM_TYPE_WC 1
#define MEM_TYPE_WT 4
#define MEM_TYPE_WP 5
#define MEM_TYPE_WB 6
#define MEM_TYPE_MIXED 0xff /* a range with more than one type */

#define MTRR_MAX_VARIABLE 32
#define MTRR_FIXED_COUNT 88 /* 8 + 16 + 64 fixed ranges below 1 MiB */

struct mtrr_variable {
	uint64_t base; /* IA32_MTRR_PHYSBASEn with the type bits cleared */
	uint64_t mask; /* IA32_MTRR_PHYSMASKn with the valid bit cleared */
	uint8_t type;
	bool valid;
};

struct mtrr_state {
	bool present;       /* CPUID.1:EDX.MTRR */
	bool enabled;       /* IA32_MTRR_DEF_TYPE.E */
	bool fixed_enabled; /* IA32_MTRR_DEF_TYPE.FE (and fixed ranges supported) */
	uint8_t default_type;
	uint8_t fixed[MTRR_FIXED_COUNT]; /* one type per fixed range, in address order */
	struct mtrr_variable var[MTRR_MAX_VARIABLE];
	size_t var_count;
	uint64_t phys_addr_mask; /* (1 << MAXPHYADDR) - 1 */
};

/* Read the running CPU's MTRRs (kernel only). */
void mtrr_read(struct mtrr_state *st);

/* The type of one byte, as the CPU would combine the MTRRs. */
uint8_t mtrr_type_at(const struct mtrr_state *st, uint64_t addr);

/* The type of [base, base + len) if the whole range has one, else MEM_TYPE_MIXED. */
uint8_t mtrr_range_type(const struct mtrr_state *st, uint64_t base, uint64_t len);

const char *mem_type_name(uint8_t type);

#endif
