/* SPDX-License-Identifier: BSD-2-Clause */
/* Just enough x86 decoding to emulate a guest's 32-bit store to an MMIO register. */
#ifndef UMBRA_ARCH_X86_INSN_H
#define UMBRA_ARCH_X86_INSN_H

#include "core/types.h"

enum insn_mode {
	INSN_MODE_16 = 16,
	INSN_MODE_32 = 32,
	INSN_MODE_64 = 64,
};

struct insn_store {
	uint8_t length;  /* bytes, prefixes included */
	bool from_imm;   /* MOV r/m32, imm32 */
	uint8_t src_reg; /* MOV r/m32, r32: register number 0-15 (SDM Vol. 2A Table 2-2) */
	uint32_t imm;
};

enum insn_error {
	INSN_OK = 0,
	INSN_TRUNCATED,   /* ran past the bytes given */
	INSN_UNSUPPORTED, /* not a 32-bit MOV store to memory */
};

/*
 * Decode a 32-bit MOV store to memory (opcodes 89 /r and C7 /0) from bytes
 * (at most len). Only 32- and 64-bit address sizes are decoded; an
 * operand-size prefix, REX.W or a register destination is unsupported.
 */
enum insn_error insn_decode_store(const uint8_t *bytes, size_t len, enum insn_mode mode,
				  struct insn_store *out);

#endif
