/* SPDX-License-Identifier: BSD-2-Clause */
/* Host fuzz harness: VMX memory-operand addresses from the instruction-information field (nested/operand.c). */
#include <string.h>

#include "nested/operand.h"
#include "tests/fuzz/host/fuzz.h"

/*
 * What L1 controls when one of its VMX instructions exits: the
 * instruction-information field, the displacement (exit qualification),
 * its registers and segments. The input is this record, zero-padded when
 * short, so the fields that matter most come first.
 */
struct fuzz_operand_input {
	uint32_t info;
	uint64_t disp;
	uint8_t size;      /* operand bytes: 1 + size % 16 */
	uint8_t long_mode; /* bit 0 */
	uint8_t usable;    /* bit n: segment n usable */
	uint64_t gpr[16];
	uint64_t seg_base[6];
	uint32_t seg_limit[6];
} __packed;

/*
 * The SDM's rules, written out independently of nested/operand.c:
 * Vol. 3C Table 28-9 for the fields, Vol. 3A 3.7.5 for base + index *
 * scale + displacement at the address size, 3.4.4 (only FS and GS have a
 * base in 64-bit mode), 3.3.7.1 (canonical), 5.3 (limit checks, #SS for SS).
 */
static bool canonical(uint64_t a)
{
	return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

static enum operand_fault model(const struct operand_ctx *c, uint32_t info, uint64_t disp, size_t size,
				uint64_t *la)
{
	static const uint64_t addr_mask[8] = { 0xffff, 0xffffffff, ~0ull, ~0ull, ~0ull, ~0ull, ~0ull, ~0ull };
	unsigned int seg = (info >> 15) & 7;
	uint64_t ea = disp;
	enum operand_fault fault = seg == 2 ? OPERAND_SS : OPERAND_GP;

	if (!(info & (1u << 27)))
		ea += c->gpr[(info >> 23) & 0xf];
	if (!(info & (1u << 22)))
		ea += c->gpr[(info >> 18) & 0xf] * (1ull << (info & 3));
	ea &= addr_mask[(info >> 7) & 7];
	if (seg > 5)
		return OPERAND_GP;
	if (c->long_mode) {
		*la = ea + (seg == 4 || seg == 5 ? c->seg_base[seg] : 0);
		return canonical(*la) && canonical(*la + (size - 1)) ? OPERAND_OK : fault;
	}
	if (!c->seg_usable[seg] || ea > UINT64_MAX - (size - 1) || ea + (size - 1) > c->seg_limit[seg])
		return fault;
	*la = (uint32_t)(c->seg_base[seg] + ea);
	return OPERAND_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_operand_input in;
	struct operand_ctx ctx;
	uint64_t la = 0xdead, want = 0xbeef;
	enum operand_fault got, expect;
	size_t opsize;

	memset(&in, 0, sizeof(in));
	memcpy(&in, data, MIN(size, sizeof(in)));
	memset(&ctx, 0, sizeof(ctx));
	memcpy(ctx.gpr, in.gpr, sizeof(ctx.gpr));
	ctx.long_mode = in.long_mode & 1;
	for (int s = 0; s < 6; s++) {
		ctx.seg_base[s] = in.seg_base[s];
		ctx.seg_limit[s] = in.seg_limit[s];
		ctx.seg_usable[s] = (in.usable >> s) & 1;
	}
	opsize = 1 + in.size % 16;

	got = operand_linear(&ctx, in.info, in.disp, opsize, &la);
	expect = model(&ctx, in.info, in.disp, opsize, &want);
	FUZZ_CHECK(got == expect);
	if (got == OPERAND_OK) {
		FUZZ_CHECK(la == want);
		if (ctx.long_mode)
			FUZZ_CHECK(canonical(la) && canonical(la + opsize - 1));
		else
			FUZZ_CHECK(la <= UINT32_MAX);
	}
	return 0;
}
