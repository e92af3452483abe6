/* SPDX-License-Identifier: BSD-2-Clause */
/* Host fuzz harness: the decoder of guest stores to the xAPIC page (arch/x86/insn.c). */
#include <string.h>

#include "arch/x86/insn.h"
#include "tests/fuzz/host/fuzz.h"

/*
 * The input is one mode byte (mode % 3: 32-bit, 64-bit, 16-bit code) and
 * then the bytes umbra fetched at the guest's RIP. The registers are fixed,
 * with a different value in every byte of every register, so that a wrong
 * register or a wrong part of one shows in the decoded value.
 */
static const enum insn_mode modes[3] = { INSN_MODE_32, INSN_MODE_64, INSN_MODE_16 };

static uint64_t mask(unsigned int width)
{
	return width == 8 ? ~0ull : (1ull << (8 * width)) - 1;
}

static void check_store(const struct insn_store *st, size_t len, enum insn_mode mode, const uint64_t *gpr)
{
	FUZZ_CHECK(st->length >= 1 && st->length <= MIN(len, (size_t)INSN_MAX_LEN));
	FUZZ_CHECK(st->width == 1 || st->width == 2 || st->width == 4 || st->width == 8);
	FUZZ_CHECK((st->value & ~mask(st->width)) == 0);
	FUZZ_CHECK(st->kind == INSN_MOV || (st->kind == INSN_XCHG && st->has_reg));
	FUZZ_CHECK(st->width != 8 || mode == INSN_MODE_64);
	if (!st->has_reg) {
		FUZZ_CHECK(!st->reg_high8);
		return;
	}
	FUZZ_CHECK(st->reg < (mode == INSN_MODE_64 ? 16 : 8));
	if (st->reg_high8) {
		/* AH, CH, DH, BH: SDM Vol. 2A Table 3-1, never with a REX prefix. */
		FUZZ_CHECK(st->width == 1 && st->reg < 4);
		FUZZ_CHECK(st->value == ((gpr[st->reg] >> 8) & 0xff));
	} else {
		FUZZ_CHECK(st->value == (gpr[st->reg] & mask(st->width)));
	}
}

/* XCHG's register write-back (SDM Vol. 1 3.4.1.1): narrow writes merge, 32-bit ones zero-extend. */
static void check_reg_after_load(const struct insn_store *st, uint64_t old, uint64_t loaded)
{
	uint64_t got = insn_reg_after_load(st, old, loaded), m = mask(st->width);

	if (st->reg_high8)
		FUZZ_CHECK(got == ((old & ~0xff00ull) | (loaded & 0xff) << 8));
	else if (st->width <= 2)
		FUZZ_CHECK(got == ((old & ~m) | (loaded & m)));
	else
		FUZZ_CHECK(got == (loaded & m));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t gpr[16];
	struct insn_store st, again;
	enum insn_mode mode;
	enum insn_error e;
	uint8_t *bytes;
	size_t len;

	if (size < 1)
		return 0;
	for (int i = 0; i < 16; i++)
		gpr[i] = 0x8070605040302010ull + 0x0101010101010101ull * (uint64_t)i;
	mode = modes[data[0] % 3];
	len = size - 1;
	bytes = malloc(len ? len : 1);
	memcpy(bytes, data + 1, len);

	e = insn_decode_store(bytes, len, mode, gpr, &st);
	FUZZ_CHECK(e == INSN_OK || e == INSN_TRUNCATED || e == INSN_UNSUPPORTED || e == INSN_BAD_MODE);
	FUZZ_CHECK((e == INSN_BAD_MODE) == (mode == INSN_MODE_16));
	if (e == INSN_OK) {
		check_store(&st, len, mode, gpr);
		/* The decoder reads exactly length bytes: no fewer decode, no more matter. */
		FUZZ_CHECK(insn_decode_store(bytes, st.length, mode, gpr, &again) == INSN_OK);
		FUZZ_CHECK(again.kind == st.kind && again.length == st.length && again.width == st.width &&
			   again.value == st.value && again.has_reg == st.has_reg && again.reg == st.reg &&
			   again.reg_high8 == st.reg_high8);
		FUZZ_CHECK(insn_decode_store(bytes, st.length - 1u, mode, gpr, &again) == INSN_TRUNCATED);
		if (st.has_reg)
			check_reg_after_load(&st, gpr[st.reg], ~gpr[(st.reg + 1) % 16]);
	}
	free(bytes);
	return 0;
}
