/* SPDX-License-Identifier: BSD-2-Clause */
/* Effective and linear addresses of VMX instruction memory operands, with the segment checks. */
#include "nested/operand.h"
#include "arch/x86/cpu.h"

enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS };

enum operand_fault operand_linear(const struct operand_ctx *ctx, uint32_t info, uint64_t disp,
				  size_t size, uint64_t *la)
{
	unsigned int seg = II_SEGMENT(info);
	enum operand_fault fault = seg == SEG_SS ? OPERAND_SS : OPERAND_GP;
	uint64_t ea = disp;

	if (!II_NO_BASE(info))
		ea += ctx->gpr[II_BASE(info)];
	if (!II_NO_INDEX(info))
		ea += ctx->gpr[II_INDEX(info)] << II_SCALE(info);
	switch (II_ADDR_SIZE(info)) {
	case 0: ea &= 0xffff; break;
	case 1: ea &= 0xffffffff; break;
	default: break;
	}
	if (seg > SEG_GS)
		return OPERAND_GP;
	if (ctx->long_mode) {
		*la = ea + (seg == SEG_FS || seg == SEG_GS ? ctx->seg_base[seg] : 0);
		return is_canonical(*la) && is_canonical(*la + size - 1) ? OPERAND_OK : fault;
	}
	/* Expand-up segments: the whole operand within the limit. */
	if (!ctx->seg_usable[seg] || ea + size - 1 > ctx->seg_limit[seg] || ea + size - 1 < ea)
		return fault;
	*la = (ctx->seg_base[seg] + ea) & 0xffffffff;
	return OPERAND_OK;
}
