/* SPDX-License-Identifier: BSD-2-Clause */
/* Decoder of the x86 stores a guest uses on an MMIO register: MOV and XCHG to memory. */
#ifndef UMBRA_ARCH_X86_INSN_H
#define UMBRA_ARCH_X86_INSN_H

#include "core/types.h"

/* Longest legal x86 instruction, prefixes included (SDM Vol. 2A 2.1). */
#define INSN_MAX_LEN 15

/* The code segment's default operand and address size (CS.L, CS.D; SDM Vol. 3A 3.4.5). */
enum insn_mode {
	INSN_MODE_16 = 16,
	INSN_MODE_32 = 32,
	INSN_MODE_64 = 64,
};

enum insn_store_kind {
	INSN_MOV,  /* MOV r/m, r; MOV r/m, imm; MOV moffs, rAX: writes memory */
	INSN_XCHG, /* XCHG r/m, r: writes memory, and the register gets the old memory value */
};

/*
 * What the store does, independent of its address (the guest-physical
 * address comes from the VM exit, never from the decoder).
 */
struct insn_store {
	enum insn_store_kind kind;
	uint8_t length;  /* bytes, prefixes included */
	uint8_t width;   /* bytes written: 1, 2, 4 or 8 */
	uint64_t value;  /* written, zero-extended from width bytes */
	/* Register operand (MOV r, XCHG): GPR 0-15 (SDM Vol. 2A Table 2-2 order). */
	bool has_reg;
	uint8_t reg;
	bool reg_high8;  /* AH, CH, DH, BH: bits 15:8 of GPR reg (0-3) */
};

enum insn_error {
	INSN_OK = 0,
	INSN_TRUNCATED,   /* ran past the bytes given */
	INSN_UNSUPPORTED, /* not one of the stores below, or not to memory */
	INSN_BAD_MODE,    /* 16-bit code segment: not decoded */
};

/*
 * Decode one store from bytes (at most len, at most INSN_MAX_LEN) in the
 * given code-segment mode, with the guest's general-purpose registers gpr[]
 * (for the value; RSP is gpr[4]). Decoded (SDM Vol. 2A ch. 2, Vol. 2B MOV,
 * XCHG): 88/89 /r, C6/C7 /0, A2/A3 (moffs), 86/87 /r; prefixes 66, 67,
 * segment overrides (ignored: the address is the exit's), LOCK with XCHG,
 * REX (W, R, X, B) in 64-bit mode; every ModR/M, SIB, displacement and
 * RIP-relative form, and 16-bit addressing (67 in 32-bit mode).
 */
enum insn_error insn_decode_store(const uint8_t *bytes, size_t len, enum insn_mode mode,
				  const uint64_t gpr[16], struct insn_store *out);

/*
 * XCHG: the new value of GPR st->reg once loaded (the old memory value,
 * width bytes) replaces its part of the register: 8- and 16-bit writes keep
 * the other bits, a 32-bit write clears bits 63:32 (SDM Vol. 1 3.4.1.1).
 */
uint64_t insn_reg_after_load(const struct insn_store *st, uint64_t old_reg, uint64_t loaded);

#endif
