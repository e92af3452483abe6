/* SPDX-License-Identifier: BSD-2-Clause */
/* Memory operands of VMX instructions, from the VM-exit instruction-information field. */
#ifndef UMBRA_NESTED_OPERAND_H
#define UMBRA_NESTED_OPERAND_H

#include "core/types.h"

/* VM-exit instruction-information field (SDM Vol. 3C Tables 28-9 to 28-13). */
#define II_SCALE(i) ((i) & 3)
#define II_REG1(i) (((i) >> 3) & 0xf)
#define II_ADDR_SIZE(i) (((i) >> 7) & 7)
#define II_IS_REG(i) (((i) >> 10) & 1)
#define II_SEGMENT(i) (((i) >> 15) & 7)
#define II_INDEX(i) (((i) >> 18) & 0xf)
#define II_NO_INDEX(i) (((i) >> 22) & 1)
#define II_BASE(i) (((i) >> 23) & 0xf)
#define II_NO_BASE(i) (((i) >> 27) & 1)
#define II_REG2(i) (((i) >> 28) & 0xf)

enum operand_fault {
	OPERAND_OK = 0,
	OPERAND_GP, /* #GP(0): limit or non-canonical address */
	OPERAND_SS, /* #SS(0): the same, through SS */
};

/* What the address computation needs of the guest: registers and its segments. */
struct operand_ctx {
	uint64_t gpr[16];      /* SDM numbering: RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8.. */
	bool long_mode;        /* 64-bit code (IA-32e mode and CS.L) */
	uint64_t seg_base[6];  /* ES, CS, SS, DS, FS, GS */
	uint32_t seg_limit[6];
	bool seg_usable[6];
};

/*
 * Linear address of a memory operand of size bytes: base + index * scale +
 * displacement (the exit qualification), truncated to the address size,
 * plus the segment base (only FS/GS in 64-bit mode). Outside 64-bit mode
 * the segment must be usable and the operand within its limit (SDM Vol. 3A
 * 5.3); in 64-bit mode the address must be canonical (3.3.7.1).
 */
enum operand_fault operand_linear(const struct operand_ctx *ctx, uint32_t info, uint64_t disp,
				  size_t size, uint64_t *la);

#endif
