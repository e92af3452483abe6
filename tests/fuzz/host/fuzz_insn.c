/* SPDX-License-Identifier: BSD-2-Clause */
/* Host fuzz harness: the decoder of guest stores to the xAPIC page (arch/x86/insn.c). */
#include <string.h>

#include <llvm-c/Disassembler.h>
#include <llvm-c/Target.h>

#include "arch/x86/insn.h"
#include "tests/fuzz/host/fuzz.h"

/*
 * The input is one mode byte (mode % 3: 32-bit, 64-bit, 16-bit code) and
 * then the bytes umbra fetched at the guest's RIP. The registers are fixed,
 * with a different value in every byte of every register, so that a wrong
 * register or a wrong part of one shows in the decoded value. LLVM's x86
 * disassembler gives a second opinion on every store decoded from
 * canonically prefixed bytes (below).
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

/*
 * At most one prefix of each group (SDM Vol. 2A 2.1.1), of those the decoder
 * takes (LOCK, segment, 66, 67), and at most one REX, right before the
 * opcode (2.2.1). Other orders are legal too, but LLVM prints what
 * hardware ignores (a REX before a legacy prefix, a repeated prefix) as
 * instructions of their own, so it is no oracle for them.
 */
static bool canonical_prefixes(const uint8_t *b, size_t len, enum insn_mode mode)
{
	bool lock = false, seg = false, opsize = false, addrsize = false;

	for (size_t i = 0; i < len; i++) {
		bool *seen;

		switch (b[i]) {
		case 0xf0: seen = &lock; break;
		case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65: seen = &seg; break;
		case 0x66: seen = &opsize; break;
		case 0x67: seen = &addrsize; break;
		default:
			/* A REX is the last prefix; what follows it must be the opcode. */
			if (mode == INSN_MODE_64 && (b[i] & 0xf0) == 0x40)
				return i + 1 < len && !((b[i + 1] & 0xf0) == 0x40) && b[i + 1] != 0xf0 &&
				       b[i + 1] != 0x66 && b[i + 1] != 0x67 && b[i + 1] != 0x26 && b[i + 1] != 0x2e &&
				       b[i + 1] != 0x36 && b[i + 1] != 0x3e && b[i + 1] != 0x64 && b[i + 1] != 0x65;
			return true;
		}
		if (*seen)
			return false;
		*seen = true;
	}
	return true;
}

static LLVMDisasmContextRef llvm_disassembler(enum insn_mode mode)
{
	static LLVMDisasmContextRef ctx32, ctx64;

	if (!ctx32) {
		LLVMInitializeX86TargetInfo();
		LLVMInitializeX86TargetMC();
		LLVMInitializeX86Disassembler();
		ctx32 = LLVMCreateDisasm("i386-unknown-linux-gnu", NULL, 0, NULL, NULL);
		ctx64 = LLVMCreateDisasm("x86_64-unknown-linux-gnu", NULL, 0, NULL, NULL);
		FUZZ_CHECK(ctx32 && ctx64);
	}
	return mode == INSN_MODE_64 ? ctx64 : ctx32;
}

/*
 * LLVM must read the same length bytes as one MOV or XCHG (after the
 * prefixes it prints on their own), of the same width: the AT&T suffix,
 * b/w/l/q, of mov, movabs or xchg.
 */
static void check_with_llvm(const uint8_t *bytes, const struct insn_store *st, enum insn_mode mode)
{
	static const char *const mnemonics[] = { "movabs", "mov", "xchg" };
	LLVMDisasmContextRef ctx = llvm_disassembler(mode);
	size_t at = 0, n;
	char text[160];
	const char *m = NULL;

	for (;;) {
		n = LLVMDisasmInstruction(ctx, (uint8_t *)bytes + at, st->length - at, 0, text, sizeof(text));
		FUZZ_CHECK(n > 0);
		at += n;
		for (size_t i = 0; i < ARRAY_SIZE(mnemonics) && !m; i++)
			m = strstr(text, mnemonics[i]);
		if (m || at >= st->length)
			break;
	}
	if (!m) {
		fprintf(stderr, "LLVM: '%s'\n", text);
		FUZZ_CHECK(m != NULL);
	}
	FUZZ_CHECK(at == st->length);
	FUZZ_CHECK((st->kind == INSN_XCHG) == (m[0] == 'x'));
	m += m[0] == 'x' ? 4 : m[3] == 'a' ? 6 : 3;
	FUZZ_CHECK((*m == 'b' && st->width == 1) || (*m == 'w' && st->width == 2) || (*m == 'l' && st->width == 4) ||
		   (*m == 'q' && st->width == 8));
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
		if (canonical_prefixes(bytes, st.length, mode))
			check_with_llvm(bytes, &st, mode);
	}
	free(bytes);
	return 0;
}
