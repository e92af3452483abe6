/* SPDX-License-Identifier: BSD-2-Clause */
/* Decoder for the MOV stores guests use on MMIO registers (SDM Vol. 2A ch. 2). */
#include "arch/x86/insn.h"

#define MAX_INSN_LEN 15

static bool is_legacy_prefix(uint8_t b)
{
	switch (b) {
	case 0x26: case 0x2e: case 0x36: case 0x3e: /* segment overrides */
	case 0x64: case 0x65:
		return true;
	default:
		return false;
	}
}

enum insn_error insn_decode_store(const uint8_t *bytes, size_t len, enum insn_mode mode,
				  struct insn_store *out)
{
	size_t i = 0;
	uint8_t rex = 0, opcode, modrm, mod, rm;
	bool addr_override = false, addr16;

	*out = (struct insn_store){ 0 };
	len = len > MAX_INSN_LEN ? MAX_INSN_LEN : len;
	for (;; i++) {
		if (i >= len)
			return INSN_TRUNCATED;
		if (bytes[i] == 0x66)
			return INSN_UNSUPPORTED; /* 16-bit store */
		if (bytes[i] == 0x67) {
			addr_override = true;
			continue;
		}
		if (!is_legacy_prefix(bytes[i]))
			break;
	}
	if (mode == INSN_MODE_64 && (bytes[i] & 0xf0) == 0x40) {
		rex = bytes[i++];
		if (rex & 0x08)
			return INSN_UNSUPPORTED; /* REX.W: 64-bit store */
	}
	/* 16-bit addressing has other ModR/M forms; 64-bit mode's 0x67 keeps them. */
	addr16 = mode == INSN_MODE_16 ? !addr_override : mode == INSN_MODE_32 && addr_override;
	if (addr16)
		return INSN_UNSUPPORTED;
	if (i + 2 > len)
		return INSN_TRUNCATED;
	opcode = bytes[i++];
	modrm = bytes[i++];
	mod = modrm >> 6;
	rm = modrm & 7;
	if (mod == 3)
		return INSN_UNSUPPORTED; /* register destination: not a memory access */
	if (opcode == 0x89) {
		out->src_reg = ((modrm >> 3) & 7) | ((rex & 0x04) ? 8 : 0);
	} else if (opcode == 0xc7 && ((modrm >> 3) & 7) == 0) {
		out->from_imm = true;
	} else {
		return INSN_UNSUPPORTED;
	}
	/* ModR/M and SIB addressing forms (SDM Vol. 2A Tables 2-2 and 2-3). */
	if (rm == 4) {
		uint8_t sib;

		if (i >= len)
			return INSN_TRUNCATED;
		sib = bytes[i++];
		if (mod == 0 && (sib & 7) == 5)
			i += 4;
	} else if (mod == 0 && rm == 5) {
		i += 4; /* disp32, or RIP-relative in 64-bit mode */
	}
	if (mod == 1)
		i += 1;
	else if (mod == 2)
		i += 4;
	if (out->from_imm) {
		if (i + 4 > len)
			return INSN_TRUNCATED;
		out->imm = (uint32_t)bytes[i] | (uint32_t)bytes[i + 1] << 8 |
			   (uint32_t)bytes[i + 2] << 16 | (uint32_t)bytes[i + 3] << 24;
		i += 4;
	}
	if (i > len)
		return INSN_TRUNCATED;
	out->length = (uint8_t)i;
	return INSN_OK;
}
