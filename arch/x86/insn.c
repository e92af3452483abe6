/* SPDX-License-Identifier: BSD-2-Clause */
/* Decoder of MOV and XCHG stores to memory (SDM Vol. 2A ch. 2, Vol. 2B MOV, XCHG). */
#include "arch/x86/insn.h"

/* Legacy prefixes (SDM Vol. 2A 2.1.1). */
#define PREFIX_LOCK 0xf0
#define PREFIX_REPNE 0xf2
#define PREFIX_REP 0xf3
#define PREFIX_OPERAND_SIZE 0x66
#define PREFIX_ADDRESS_SIZE 0x67
#define PREFIX_ES 0x26
#define PREFIX_CS 0x2e
#define PREFIX_SS 0x36
#define PREFIX_DS 0x3e
#define PREFIX_FS 0x64
#define PREFIX_GS 0x65

/* REX (SDM Vol. 2A 2.2.1): 0100WRXB, 64-bit mode only. */
#define REX_IS(b) (((b) & 0xf0) == 0x40)
#define REX_W BIT(3)
#define REX_R BIT(2)

/* Opcodes decoded (SDM Vol. 2B MOV, XCHG). */
#define OP_XCHG_RM8_R8 0x86
#define OP_XCHG_RM_R 0x87
#define OP_MOV_RM8_R8 0x88
#define OP_MOV_RM_R 0x89
#define OP_MOV_MOFFS8_AL 0xa2
#define OP_MOV_MOFFS_RAX 0xa3
#define OP_MOV_RM8_IMM8 0xc6
#define OP_MOV_RM_IMM 0xc7

/* ModR/M and SIB fields (SDM Vol. 2A 2.1.5, Figure 2-1). */
#define MODRM_MOD(m) ((m) >> 6)
#define MODRM_REG(m) (((m) >> 3) & 7)
#define MODRM_RM(m) ((m) & 7)
#define MOD_REGISTER 3
#define RM_SIB 4         /* 32/64-bit addressing: a SIB byte follows */
#define RM_DISP32 5      /* with mod 0: disp32 (RIP-relative in 64-bit mode) */
#define RM16_DISP16 6    /* 16-bit addressing, mod 0: disp16 alone */
#define SIB_BASE(s) ((s) & 7)
#define SIB_BASE_NONE 5  /* with mod 0: no base, disp32 */

#define REG_RAX 0

struct cursor {
	const uint8_t *bytes;
	size_t len, pos;
	bool truncated;
};

static uint8_t next_byte(struct cursor *c)
{
	if (c->pos >= c->len) {
		c->truncated = true;
		return 0;
	}
	return c->bytes[c->pos++];
}

/* Little-endian, n bytes (1-8); zero-extended. */
static uint64_t next_le(struct cursor *c, unsigned int n)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < n; i++)
		v |= (uint64_t)next_byte(c) << (8 * i);
	return v;
}

static void skip(struct cursor *c, unsigned int n)
{
	(void)next_le(c, n);
}

static uint64_t width_mask(unsigned int width)
{
	return width >= 8 ? ~0ULL : (1ULL << (8 * width)) - 1;
}

/*
 * Skip the memory operand's SIB and displacement. 32/64-bit addressing:
 * SDM Vol. 2A Tables 2-2, 2-3 (REX.B/X change neither the RM_SIB nor the
 * RM_DISP32 special cases, 2.2.1.2); 16-bit addressing: Table 2-1.
 */
static void skip_memory_operand(struct cursor *c, uint8_t modrm, bool addr16)
{
	unsigned int mod = MODRM_MOD(modrm), rm = MODRM_RM(modrm);

	if (addr16) {
		if (mod == 0 && rm == RM16_DISP16)
			skip(c, 2);
		else if (mod == 1)
			skip(c, 1);
		else if (mod == 2)
			skip(c, 2);
		return;
	}
	if (rm == RM_SIB) {
		if (SIB_BASE(next_byte(c)) == SIB_BASE_NONE && mod == 0)
			skip(c, 4);
	} else if (mod == 0 && rm == RM_DISP32) {
		skip(c, 4);
	}
	if (mod == 1)
		skip(c, 1);
	else if (mod == 2)
		skip(c, 4);
}

/*
 * Register operand of width bytes: 8-bit registers 4-7 are AH..BH unless a
 * REX prefix is present, then SPL..DIL (SDM Vol. 2A 3.7.2.1, Table 3-1).
 */
static void set_reg(struct insn_store *out, unsigned int n, bool rex, const uint64_t gpr[16])
{
	out->has_reg = true;
	if (out->width == 1 && !rex && n >= 4 && n < 8) {
		out->reg = (uint8_t)(n - 4);
		out->reg_high8 = true;
		out->value = (gpr[out->reg] >> 8) & 0xff;
		return;
	}
	out->reg = (uint8_t)n;
	out->value = gpr[n] & width_mask(out->width);
}

enum insn_error insn_decode_store(const uint8_t *bytes, size_t len, enum insn_mode mode,
				  const uint64_t gpr[16], struct insn_store *out)
{
	struct cursor c = { bytes, len > INSN_MAX_LEN ? INSN_MAX_LEN : len, 0, false };
	bool opsize = false, addrsize = false, lock = false, addr16;
	uint8_t b, rex = 0, opcode, modrm = 0;
	unsigned int asize;

	*out = (struct insn_store){ 0 };
	if (mode == INSN_MODE_16)
		return INSN_BAD_MODE;
	/* Legacy prefixes in any order; a REX counts only right before the opcode. */
	for (;;) {
		b = next_byte(&c);
		if (c.truncated)
			return INSN_TRUNCATED;
		if (b == PREFIX_OPERAND_SIZE) {
			opsize = true;
		} else if (b == PREFIX_ADDRESS_SIZE) {
			addrsize = true;
		} else if (b == PREFIX_LOCK) {
			lock = true;
		} else if (b == PREFIX_ES || b == PREFIX_CS || b == PREFIX_SS || b == PREFIX_DS ||
			   b == PREFIX_FS || b == PREFIX_GS) {
			/* The address is the exit's; in 64-bit mode only FS/GS count anyway. */
		} else if (b == PREFIX_REP || b == PREFIX_REPNE) {
			return INSN_UNSUPPORTED; /* HLE hints and reserved forms: nothing a compiler emits */
		} else if (mode == INSN_MODE_64 && REX_IS(b)) {
			rex = b;
			continue; /* a legacy prefix after it clears it, below */
		} else {
			break;
		}
		rex = 0;
	}
	opcode = b;

	/* Operand size (SDM Vol. 2A 2.2.1.2, Table 2-4): REX.W beats 66. */
	switch (opcode) {
	case OP_XCHG_RM8_R8:
	case OP_MOV_RM8_R8:
	case OP_MOV_MOFFS8_AL:
	case OP_MOV_RM8_IMM8:
		out->width = 1;
		break;
	case OP_XCHG_RM_R:
	case OP_MOV_RM_R:
	case OP_MOV_MOFFS_RAX:
	case OP_MOV_RM_IMM:
		out->width = (rex & REX_W) ? 8 : opsize ? 2 : 4;
		break;
	default:
		return INSN_UNSUPPORTED;
	}
	out->kind = (opcode == OP_XCHG_RM8_R8 || opcode == OP_XCHG_RM_R) ? INSN_XCHG : INSN_MOV;
	/* LOCK is legal on XCHG to memory only; on MOV it is #UD (SDM Vol. 2B LOCK). */
	if (lock && out->kind != INSN_XCHG)
		return INSN_UNSUPPORTED;
	/* Address size (SDM Vol. 2A Table 2-4 / 3-4): 67 halves the default. */
	if (mode == INSN_MODE_64)
		asize = addrsize ? 4 : 8;
	else
		asize = addrsize ? 2 : 4;
	addr16 = asize == 2;

	if (opcode == OP_MOV_MOFFS8_AL || opcode == OP_MOV_MOFFS_RAX) {
		/* moffs: an address-size offset, no ModR/M; the source is AL/AX/EAX/RAX. */
		skip(&c, asize);
		set_reg(out, REG_RAX, rex, gpr);
	} else {
		modrm = next_byte(&c);
		if (c.truncated)
			return INSN_TRUNCATED;
		if (MODRM_MOD(modrm) == MOD_REGISTER)
			return INSN_UNSUPPORTED; /* a register destination: no memory written */
		skip_memory_operand(&c, modrm, addr16);
		if (opcode == OP_MOV_RM8_IMM8 || opcode == OP_MOV_RM_IMM) {
			if (MODRM_REG(modrm) != 0)
				return INSN_UNSUPPORTED; /* C6/C7 /1-/7 are not MOV */
			/* imm8, imm16, imm32; with REX.W imm32 sign-extended to 64 bits. */
			if (out->width == 8)
				out->value = (uint64_t)(int64_t)(int32_t)(uint32_t)next_le(&c, 4);
			else
				out->value = next_le(&c, out->width);
		} else {
			set_reg(out, MODRM_REG(modrm) | ((rex & REX_R) ? 8 : 0), rex != 0, gpr);
		}
	}
	if (c.truncated)
		return INSN_TRUNCATED;
	out->length = (uint8_t)c.pos;
	return INSN_OK;
}

uint64_t insn_reg_after_load(const struct insn_store *st, uint64_t old_reg, uint64_t loaded)
{
	loaded &= width_mask(st->width);
	if (st->reg_high8)
		return (old_reg & ~0xff00ULL) | loaded << 8;
	switch (st->width) {
	case 1:
	case 2:
		return (old_reg & ~width_mask(st->width)) | loaded;
	default:
		return loaded; /* 32-bit results are zero-extended, 64-bit ones whole */
	}
}
