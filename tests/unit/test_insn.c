/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for the MMIO store decoder (arch/x86/insn.c) against real assembler output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "arch/x86/insn.h"

/*
 * Every byte sequence below was produced by a real tool at test-writing
 * time, named in .src: GCC 12.2 and clang 14.0.6 (-O2, -m32 -fno-pic or
 * -m64, objdump -d of the object) from C such as
 *     void st32(uint32_t v) { *(volatile uint32_t *)(0xfee00000 + 0x80) = v; }
 * and NASM 2.16 (-f bin -l, "bits 32"/"bits 64") from the line quoted.
 * Trailing 0x90 bytes stand for whatever follows the instruction.
 */

/* gpr[n]: low byte 0x10 + n, bits 15:8 0x80 + n, distinct upper bits. */
#define REG_VALUE(n) (0xfedcba9876540000ULL | (uint64_t)(0x80 + (n)) << 8 | (0x10 + (n)))

struct store_case {
	const char *src;
	enum insn_mode mode;
	uint8_t bytes[INSN_MAX_LEN];
	uint8_t length;
	enum insn_store_kind kind;
	uint8_t width;
	uint64_t value;
	int reg;        /* -1: immediate */
	bool high8;
};

#define M32 INSN_MODE_32
#define M64 INSN_MODE_64
#define IMM -1
#define R(n, w) (REG_VALUE(n) & ((w) == 8 ? ~0ULL : (1ULL << (8 * (w))) - 1))
#define RH(n) ((REG_VALUE(n) >> 8) & 0xff)

static const struct store_case cases[] = {
	/* --- compiler output, 32-bit code ---------------------------------------- */
	{ "gcc/clang -m32: *(u32 *)0xfee00080 = v -> mov %eax,0xfee00080", M32,
	  { 0xa3, 0x80, 0x00, 0xe0, 0xfe, 0x90 }, 5, INSN_MOV, 4, R(0, 4), 0, false },
	{ "gcc/clang -m32: *(u32 *)0xfee000f0 = 0x1ff -> movl $0x1ff,0xfee000f0", M32,
	  { 0xc7, 0x05, 0xf0, 0x00, 0xe0, 0xfe, 0xff, 0x01, 0x00, 0x00, 0x90 }, 10, INSN_MOV, 4,
	  0x1ff, IMM, false },
	{ "gcc/clang -m32: *(u8 *)0xfee00080 = v -> mov %al,0xfee00080", M32,
	  { 0xa2, 0x80, 0x00, 0xe0, 0xfe, 0x90 }, 5, INSN_MOV, 1, R(0, 1), 0, false },
	{ "gcc/clang -m32: *(u8 *)0xfee00080 = 0x20 -> movb $0x20,0xfee00080", M32,
	  { 0xc6, 0x05, 0x80, 0x00, 0xe0, 0xfe, 0x20, 0x90 }, 7, INSN_MOV, 1, 0x20, IMM, false },
	{ "gcc/clang -m32: *(u16 *)0xfee00080 = v -> mov %ax,0xfee00080", M32,
	  { 0x66, 0xa3, 0x80, 0x00, 0xe0, 0xfe, 0x90 }, 6, INSN_MOV, 2, R(0, 2), 0, false },
	{ "clang -m32: *(u16 *)0xfee00080 = 0x1234 -> movw $0x1234,0xfee00080", M32,
	  { 0x66, 0xc7, 0x05, 0x80, 0x00, 0xe0, 0xfe, 0x34, 0x12, 0x90 }, 9, INSN_MOV, 2, 0x1234,
	  IMM, false },
	{ "gcc -m32: *(u64 *)0xfee00080 = v, high half -> mov %edx,0xfee00084", M32,
	  { 0x89, 0x15, 0x84, 0x00, 0xe0, 0xfe, 0x90 }, 6, INSN_MOV, 4, R(2, 4), 2, false },
	{ "clang -m32: b[i * 4 + 8] = v -> mov %eax,0x20(%edx,%ecx,1)", M32,
	  { 0x89, 0x44, 0x0a, 0x20, 0x90 }, 4, INSN_MOV, 4, R(0, 4), 0, false },
	{ "gcc -m32: b[0x20] = v -> mov %edx,0x80(%eax)", M32,
	  { 0x89, 0x90, 0x80, 0x00, 0x00, 0x00, 0x90 }, 6, INSN_MOV, 4, R(2, 4), 2, false },
	{ "gcc -m32: __atomic_exchange_n(u32 *) -> xchg %eax,(%edx)", M32,
	  { 0x87, 0x02, 0x90 }, 2, INSN_XCHG, 4, R(0, 4), 0, false },
	{ "clang -m32: __atomic_exchange_n(u8 *) -> xchg %al,(%ecx)", M32,
	  { 0x86, 0x01, 0x90 }, 2, INSN_XCHG, 1, R(0, 1), 0, false },
	{ "gcc -m32: __atomic_exchange_n(u16 *) -> xchg %ax,(%edx)", M32,
	  { 0x66, 0x87, 0x02, 0x90 }, 3, INSN_XCHG, 2, R(0, 2), 0, false },
	{ "gcc -m32: asm movl %0,%%fs:0x80 -> mov %eax,%fs:0x80", M32,
	  { 0x64, 0xa3, 0x80, 0x00, 0x00, 0x00, 0x90 }, 6, INSN_MOV, 4, R(0, 4), 0, false },

	/* --- compiler output, 64-bit code ---------------------------------------- */
	{ "gcc -m64: *(u32 *)0xfee00080 = v -> movabs %eax,0xfee00080 (moffs64)", M64,
	  { 0xa3, 0x80, 0x00, 0xe0, 0xfe, 0x00, 0x00, 0x00, 0x00, 0x90 }, 9, INSN_MOV, 4, R(0, 4), 0,
	  false },
	{ "gcc -m64: *(u8 *)0xfee00080 = v -> movabs %al,0xfee00080", M64,
	  { 0xa2, 0x80, 0x00, 0xe0, 0xfe, 0x00, 0x00, 0x00, 0x00, 0x90 }, 9, INSN_MOV, 1, R(0, 1), 0,
	  false },
	{ "gcc -m64: *(u16 *)0xfee00080 = v -> movabs %ax,0xfee00080", M64,
	  { 0x66, 0xa3, 0x80, 0x00, 0xe0, 0xfe, 0x00, 0x00, 0x00, 0x00, 0x90 }, 10, INSN_MOV, 2,
	  R(0, 2), 0, false },
	{ "gcc -m64: *(u64 *)0xfee00080 = v -> movabs %rax,0xfee00080", M64,
	  { 0x48, 0xa3, 0x80, 0x00, 0xe0, 0xfe, 0x00, 0x00, 0x00, 0x00, 0x90 }, 10, INSN_MOV, 8,
	  R(0, 8), 0, false },
	{ "gcc/clang -m64: *(u32 *)0xfee000f0 = 0x1ff -> movl $0x1ff,(%rax)", M64,
	  { 0xc7, 0x00, 0xff, 0x01, 0x00, 0x00, 0x90 }, 6, INSN_MOV, 4, 0x1ff, IMM, false },
	{ "gcc/clang -m64: *(u8 *)p = 0x20 -> movb $0x20,(%rax)", M64,
	  { 0xc6, 0x00, 0x20, 0x90 }, 3, INSN_MOV, 1, 0x20, IMM, false },
	{ "gcc -m64: *(u16 *)p = v -> mov %dx,(%rax)", M64,
	  { 0x66, 0x89, 0x10, 0x90 }, 3, INSN_MOV, 2, R(2, 2), 2, false },
	{ "clang -m64: *(u16 *)p = 0x1234 -> movw $0x1234,(%rax)", M64,
	  { 0x66, 0xc7, 0x00, 0x34, 0x12, 0x90 }, 5, INSN_MOV, 2, 0x1234, IMM, false },
	{ "gcc/clang -m64: *(u64 *)p = -2 -> movq $0xfffffffffffffffe,(%rax)", M64,
	  { 0x48, 0xc7, 0x00, 0xfe, 0xff, 0xff, 0xff, 0x90 }, 7, INSN_MOV, 8, 0xfffffffffffffffeULL,
	  IMM, false },
	{ "clang -m64: *(u32 *)0xfee00080 = v -> mov %edi,(%rax)", M64,
	  { 0x89, 0x38, 0x90 }, 2, INSN_MOV, 4, R(7, 4), 7, false },
	{ "clang -m64: *(u8 *)p = v -> mov %dil,(%rax)", M64,
	  { 0x40, 0x88, 0x38, 0x90 }, 3, INSN_MOV, 1, R(7, 1), 7, false },
	{ "clang -m64: *(u64 *)p = v -> mov %rdi,(%rax)", M64,
	  { 0x48, 0x89, 0x38, 0x90 }, 3, INSN_MOV, 8, R(7, 8), 7, false },
	{ "clang -m64: b[i * 4 + 8] = v -> mov %edx,0x20(%rsi,%rdi,1)", M64,
	  { 0x89, 0x54, 0x3e, 0x20, 0x90 }, 4, INSN_MOV, 4, R(2, 4), 2, false },
	{ "gcc/clang -m64: b[0x20] = v -> mov %esi,0x80(%rdi)", M64,
	  { 0x89, 0xb7, 0x80, 0x00, 0x00, 0x00, 0x90 }, 6, INSN_MOV, 4, R(6, 4), 6, false },
	{ "gcc -m64: extern u32 x; x = v -> mov %edi,0x0(%rip)", M64,
	  { 0x89, 0x3d, 0x00, 0x00, 0x00, 0x00, 0x90 }, 6, INSN_MOV, 4, R(7, 4), 7, false },
	{ "gcc -m64: asm movl %0,%%fs:0x80 -> mov %edi,%fs:0x80", M64,
	  { 0x64, 0x89, 0x3c, 0x25, 0x80, 0x00, 0x00, 0x00, 0x90 }, 8, INSN_MOV, 4, R(7, 4), 7,
	  false },
	{ "gcc/clang -m64: __atomic_exchange_n(u32 *) -> xchg %eax,(%rdi)", M64,
	  { 0x87, 0x07, 0x90 }, 2, INSN_XCHG, 4, R(0, 4), 0, false },
	{ "gcc/clang -m64: __atomic_exchange_n(u8 *) -> xchg %al,(%rdi)", M64,
	  { 0x86, 0x07, 0x90 }, 2, INSN_XCHG, 1, R(0, 1), 0, false },
	{ "gcc/clang -m64: __atomic_exchange_n(u16 *) -> xchg %ax,(%rdi)", M64,
	  { 0x66, 0x87, 0x07, 0x90 }, 3, INSN_XCHG, 2, R(0, 2), 0, false },
	{ "gcc/clang -m64: __atomic_exchange_n(u64 *) -> xchg %rax,(%rdi)", M64,
	  { 0x48, 0x87, 0x07, 0x90 }, 3, INSN_XCHG, 8, R(0, 8), 0, false },

	/* --- NASM, bits 64: REX, SIB, displacement and prefix forms -------------- */
	{ "nasm 64: mov [r12], r9d (REX.RB, SIB for r12)", M64,
	  { 0x45, 0x89, 0x0c, 0x24, 0x90 }, 4, INSN_MOV, 4, R(9, 4), 9, false },
	{ "nasm 64: mov [r13], r10b (REX.RB, mod 1 disp8 for r13)", M64,
	  { 0x45, 0x88, 0x55, 0x00, 0x90 }, 4, INSN_MOV, 1, R(10, 1), 10, false },
	{ "nasm 64: mov [rbp+0x80], ecx (disp32)", M64,
	  { 0x89, 0x8d, 0x80, 0x00, 0x00, 0x00, 0x90 }, 6, INSN_MOV, 4, R(1, 4), 1, false },
	{ "nasm 64: mov [rsp+rax*4+0x10], edx (SIB, disp8)", M64,
	  { 0x89, 0x54, 0x84, 0x10, 0x90 }, 4, INSN_MOV, 4, R(2, 4), 2, false },
	{ "nasm 64: mov [r8+r15*8+0x12345678], r11 (REX.WRXB, SIB, disp32)", M64,
	  { 0x4f, 0x89, 0x9c, 0xf8, 0x78, 0x56, 0x34, 0x12, 0x90 }, 8, INSN_MOV, 8, R(11, 8), 11,
	  false },
	{ "nasm 64: mov [rel $+0x1000], ebx (RIP-relative)", M64,
	  { 0x89, 0x1d, 0xfa, 0x0f, 0x00, 0x00, 0x90 }, 6, INSN_MOV, 4, R(3, 4), 3, false },
	{ "nasm 64: mov dword [rel $+0x1000], 0x12345678 (RIP-relative + imm32)", M64,
	  { 0xc7, 0x05, 0xf6, 0x0f, 0x00, 0x00, 0x78, 0x56, 0x34, 0x12, 0x90 }, 10, INSN_MOV, 4,
	  0x12345678, IMM, false },
	{ "nasm 64: mov [0xfee00080], eax (SIB, no base, no index, disp32)", M64,
	  { 0x89, 0x04, 0x25, 0x80, 0x00, 0xe0, 0xfe, 0x90 }, 7, INSN_MOV, 4, R(0, 4), 0, false },
	{ "nasm 64: a32 mov [dword 0xfee00080], eax (67 A3 moffs32)", M64,
	  { 0x67, 0xa3, 0x80, 0x00, 0xe0, 0xfe, 0x90 }, 6, INSN_MOV, 4, R(0, 4), 0, false },
	{ "nasm 64: mov [eax], ecx (67: 32-bit address)", M64,
	  { 0x67, 0x89, 0x08, 0x90 }, 3, INSN_MOV, 4, R(1, 4), 1, false },
	{ "nasm 64: mov [ebx+esi*2+0x30], ah (67, SIB, AH without REX)", M64,
	  { 0x67, 0x88, 0x64, 0x73, 0x30, 0x90 }, 5, INSN_MOV, 1, RH(0), 0, true },
	{ "nasm 64: mov [rax], sil (REX 40: SIL, not DH)", M64,
	  { 0x40, 0x88, 0x30, 0x90 }, 3, INSN_MOV, 1, R(6, 1), 6, false },
	{ "nasm 64: fs mov [rax], edx", M64,
	  { 0x64, 0x89, 0x10, 0x90 }, 3, INSN_MOV, 4, R(2, 4), 2, false },
	{ "nasm 64: gs mov dword [rax+8], 0x1ff", M64,
	  { 0x65, 0xc7, 0x40, 0x08, 0xff, 0x01, 0x00, 0x00, 0x90 }, 8, INSN_MOV, 4, 0x1ff, IMM,
	  false },
	{ "nasm 64: mov word [rax], 0xbeef (66 C7 imm16)", M64,
	  { 0x66, 0xc7, 0x00, 0xef, 0xbe, 0x90 }, 5, INSN_MOV, 2, 0xbeef, IMM, false },
	{ "nasm 64: mov byte [rax], 0x7f", M64,
	  { 0xc6, 0x00, 0x7f, 0x90 }, 3, INSN_MOV, 1, 0x7f, IMM, false },
	{ "nasm 64: lock xchg [rdi], eax", M64,
	  { 0xf0, 0x87, 0x07, 0x90 }, 3, INSN_XCHG, 4, R(0, 4), 0, false },
	{ "nasm 64: xchg [rdi], bh (BH without REX)", M64,
	  { 0x86, 0x3f, 0x90 }, 2, INSN_XCHG, 1, RH(3), 3, true },
	{ "nasm 64: xchg [r14+0x40], r15 (REX.WRB)", M64,
	  { 0x4d, 0x87, 0x7e, 0x40, 0x90 }, 4, INSN_XCHG, 8, R(15, 8), 15, false },
	{ "nasm 64: mov [rsp], rsp (RSP as the source)", M64,
	  { 0x48, 0x89, 0x24, 0x24, 0x90 }, 4, INSN_MOV, 8, R(4, 8), 4, false },
	{ "nasm 64: o16 mov [qword 0xfee00080], ax (66 A3 moffs64)", M64,
	  { 0x66, 0xa3, 0x80, 0x00, 0xe0, 0xfe, 0x00, 0x00, 0x00, 0x00, 0x90 }, 10, INSN_MOV, 2,
	  R(0, 2), 0, false },
	{ "nasm 64: mov [rbx*4], ecx (SIB, index, no base: disp32)", M64,
	  { 0x89, 0x0c, 0x9d, 0x00, 0x00, 0x00, 0x00, 0x90 }, 7, INSN_MOV, 4, R(1, 4), 1, false },
	{ "nasm 64: mov [rbp], eax (mod 1, disp8 0)", M64,
	  { 0x89, 0x45, 0x00, 0x90 }, 3, INSN_MOV, 4, R(0, 4), 0, false },

	/* --- NASM, bits 32 ---------------------------------------------------------- */
	{ "nasm 32: mov [eax+ecx*8+0x300], edx (SIB, disp32)", M32,
	  { 0x89, 0x94, 0xc8, 0x00, 0x03, 0x00, 0x00, 0x90 }, 7, INSN_MOV, 4, R(2, 4), 2, false },
	{ "nasm 32: mov [esp], ebx (SIB, no displacement)", M32,
	  { 0x89, 0x1c, 0x24, 0x90 }, 3, INSN_MOV, 4, R(3, 4), 3, false },
	{ "nasm 32: mov [ebp-4], esi (disp8)", M32,
	  { 0x89, 0x75, 0xfc, 0x90 }, 3, INSN_MOV, 4, R(6, 4), 6, false },
	{ "nasm 32: es mov [edi], eax", M32,
	  { 0x26, 0x89, 0x07, 0x90 }, 3, INSN_MOV, 4, R(0, 4), 0, false },
	{ "nasm 32: ss mov [ebp+0x10], cl", M32,
	  { 0x36, 0x88, 0x4d, 0x10, 0x90 }, 4, INSN_MOV, 1, R(1, 1), 1, false },
	{ "nasm 32: mov [bx+si], eax (67: 16-bit addressing)", M32,
	  { 0x67, 0x89, 0x00, 0x90 }, 3, INSN_MOV, 4, R(0, 4), 0, false },
	{ "nasm 32: mov [bp+0x20], ax (66 67, 16-bit mod 1)", M32,
	  { 0x66, 0x67, 0x89, 0x46, 0x20, 0x90 }, 5, INSN_MOV, 2, R(0, 2), 0, false },
	{ "nasm 32: a16 mov [0x1234], eax (67 A3 moffs16)", M32,
	  { 0x67, 0xa3, 0x34, 0x12, 0x90 }, 4, INSN_MOV, 4, R(0, 4), 0, false },
	{ "nasm 32: mov [word 0x80], ecx (67, 16-bit mod 0 rm 6: disp16)", M32,
	  { 0x67, 0x89, 0x0e, 0x80, 0x00, 0x90 }, 5, INSN_MOV, 4, R(1, 4), 1, false },
	{ "nasm 32: mov word [eax], 0x55aa", M32,
	  { 0x66, 0xc7, 0x00, 0xaa, 0x55, 0x90 }, 5, INSN_MOV, 2, 0x55aa, IMM, false },
	{ "nasm 32: xchg [ecx], eax", M32,
	  { 0x87, 0x01, 0x90 }, 2, INSN_XCHG, 4, R(0, 4), 0, false },
	{ "nasm 32: xchg [edx+0x310], dh (disp32, DH)", M32,
	  { 0x86, 0xb2, 0x10, 0x03, 0x00, 0x00, 0x90 }, 6, INSN_XCHG, 1, RH(2), 2, true },
	{ "nasm 32: mov [ebx*2+0xfee00000], eax (as [ebx+ebx*1+disp32])", M32,
	  { 0x89, 0x84, 0x1b, 0x00, 0x00, 0xe0, 0xfe, 0x90 }, 7, INSN_MOV, 4, R(0, 4), 0, false },
	/* Hand-assembled (no assembler emits it): a REX not right before the opcode is ignored
	 * (SDM Vol. 2A 2.2.1), so 48 66 89 00 is a 16-bit store. */
	{ "hand: 48 66 89 00 = mov [rax], ax (REX.W ignored before 66)", M64,
	  { 0x48, 0x66, 0x89, 0x00, 0x90 }, 4, INSN_MOV, 2, R(0, 2), 0, false },
};

static void regs(uint64_t gpr[16])
{
	for (unsigned int n = 0; n < 16; n++)
		gpr[n] = REG_VALUE(n);
}

static void test_store_forms(void **state)
{
	uint64_t gpr[16];

	(void)state;
	regs(gpr);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct store_case *c = &cases[i];
		struct insn_store st;
		enum insn_error e = insn_decode_store(c->bytes, sizeof(c->bytes), c->mode, gpr, &st);

		print_message("  %s\n", c->src);
		assert_int_equal(e, INSN_OK);
		assert_int_equal(st.length, c->length);
		assert_int_equal(st.kind, c->kind);
		assert_int_equal(st.width, c->width);
		assert_int_equal(st.value, c->value);
		assert_int_equal(st.has_reg, c->reg >= 0);
		if (c->reg >= 0) {
			assert_int_equal(st.reg, c->reg);
			assert_int_equal(st.reg_high8, c->high8);
		}
	}
}

/* Exactly length bytes suffice; one fewer is truncated, whatever the form. */
static void test_truncation(void **state)
{
	uint64_t gpr[16];

	(void)state;
	regs(gpr);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct store_case *c = &cases[i];
		struct insn_store st;

		assert_int_equal(insn_decode_store(c->bytes, c->length, c->mode, gpr, &st), INSN_OK);
		for (size_t n = 0; n < c->length; n++)
			assert_int_equal(insn_decode_store(c->bytes, n, c->mode, gpr, &st), INSN_TRUNCATED);
	}
}

struct bad_case {
	const char *src;
	enum insn_mode mode;
	uint8_t bytes[INSN_MAX_LEN + 1];
	size_t len;
	enum insn_error error;
};

static const struct bad_case bad_cases[] = {
	{ "nasm 32: mov eax, [eax] (a load)", M32, { 0x8b, 0x00 }, 2, INSN_UNSUPPORTED },
	{ "nasm 32: mov eax, ecx (89, register destination)", M32, { 0x89, 0xc8 }, 2,
	  INSN_UNSUPPORTED },
	{ "hand: C7 /1 is not MOV", M32, { 0xc7, 0x08, 1, 2, 3, 4 }, 6, INSN_UNSUPPORTED },
	{ "hand: lock mov [eax], ecx (#UD)", M32, { 0xf0, 0x89, 0x08 }, 3, INSN_UNSUPPORTED },
	{ "nasm 32: rep stosd", M32, { 0xf3, 0xab }, 2, INSN_UNSUPPORTED },
	{ "nasm 32: stosd", M32, { 0xab }, 1, INSN_UNSUPPORTED },
	{ "nasm 32: xrelease mov [eax], ecx (F3 89)", M32, { 0xf3, 0x89, 0x08 }, 3,
	  INSN_UNSUPPORTED },
	{ "nasm 32: dec eax; mov [eax], ecx (48 is not REX in 32-bit code)", M32,
	  { 0x48, 0x89, 0x08 }, 3, INSN_UNSUPPORTED },
	{ "nasm 64: add [rax], eax", M64, { 0x01, 0x00 }, 2, INSN_UNSUPPORTED },
	{ "nasm 16: mov [bx], eax (16-bit code segment)", INSN_MODE_16, { 0x66, 0x89, 0x07 }, 3,
	  INSN_BAD_MODE },
	{ "hand: 15 segment prefixes (past the 15-byte limit)", M32,
	  { 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e,
	    0x3e, 0x89 }, 16, INSN_TRUNCATED },
	{ "hand: 12 prefixes + C7 05 disp32 imm32 (16 bytes)", M32,
	  { 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0xc7, 0x05, 0, 0, 0 },
	  16, INSN_TRUNCATED },
};

static void test_unsupported(void **state)
{
	uint64_t gpr[16];

	(void)state;
	regs(gpr);
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct insn_store st;

		print_message("  %s\n", c->src);
		assert_int_equal(insn_decode_store(c->bytes, c->len, c->mode, gpr, &st), c->error);
	}
}

/* XCHG's load into the register: SDM Vol. 1 3.4.1.1 (32-bit results zero-extend). */
static void test_reg_after_load(void **state)
{
	struct insn_store st = { .kind = INSN_XCHG, .has_reg = true };
	const uint64_t old = 0x1122334455667788ULL;

	(void)state;
	st.width = 1;
	assert_int_equal(insn_reg_after_load(&st, old, 0xabcd), 0x11223344556677cdULL);
	st.reg_high8 = true;
	assert_int_equal(insn_reg_after_load(&st, old, 0xab), 0x112233445566ab88ULL);
	st.reg_high8 = false;
	st.width = 2;
	assert_int_equal(insn_reg_after_load(&st, old, 0xffffabcd), 0x112233445566abcdULL);
	st.width = 4;
	assert_int_equal(insn_reg_after_load(&st, old, 0xdeadbeefcafef00dULL), 0xcafef00dULL);
	st.width = 8;
	assert_int_equal(insn_reg_after_load(&st, old, 0xdeadbeefcafef00dULL), 0xdeadbeefcafef00dULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store_forms),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_unsupported),
		cmocka_unit_test(test_reg_after_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
