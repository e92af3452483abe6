/* SPDX-License-Identifier: BSD-2-Clause */
/* VM entry and exit for the suite's L2, and the L2 code it runs (one stub per exit). */
#include "arch/x86/cpu.h"
#include "tests/guests/vmx/suite.h"

#define STR_(x) #x
#define STR(x) STR_(x)

/* Encodings the assembly writes; checked against the one field list. */
#define ENC_HOST_RSP 0x6c14
#define ENC_HOST_RIP 0x6c16
_Static_assert(ENC_HOST_RSP == HOST_RSP && ENC_HOST_RIP == HOST_RIP, "vmcs_fields.h");
/* Return values the assembly produces. */
#define NUM_FAIL_INVALID 1
#define NUM_FAIL_VALID 2
#define NUM_FELL_THROUGH 3
_Static_assert(VM_ENTRY_EXITED == 0 && VM_ENTRY_FAIL_INVALID == NUM_FAIL_INVALID &&
		       VM_ENTRY_FAIL_VALID == NUM_FAIL_VALID && VM_ENTRY_FELL_THROUGH == NUM_FELL_THROUGH,
	       "enum vm_entry_result");
/* The assembly addresses l2_regs as gpr[n] at n * 8. */
_Static_assert(sizeof(struct l2_regs) == GPR_COUNT * 8 && GPR_R15 == 15, "l2_regs layout");

/*
 * vm_enter(regs = rdi, launch = esi). The callee-saved registers and the
 * regs pointer are pushed, and HOST_RSP is the stack pointer after that,
 * so both ways out (VMLAUNCH/VMRESUME falling through, or a VM exit at
 * vm_exit_stub) unwind the same frame. RFLAGS after a VM exit is 0x2
 * (SDM Vol. 3C 27.5.3), so interrupts stay off in L1 as they were.
 */
__asm__(".pushsection .text\n"
	".globl vm_enter\n"
	".type vm_enter, @function\n"
	"vm_enter:\n\t"
	"push %rbp\n\t"
	"push %rbx\n\t"
	"push %r12\n\t"
	"push %r13\n\t"
	"push %r14\n\t"
	"push %r15\n\t"
	"push %rdi\n\t"
	"mov $" STR(ENC_HOST_RSP) ", %eax\n\t"
	"vmwrite %rsp, %rax\n\t"
	"mov $" STR(ENC_HOST_RIP) ", %eax\n\t"
	"lea vm_exit_stub(%rip), %rdx\n\t"
	"vmwrite %rdx, %rax\n\t"
	"test %esi, %esi\n\t"          /* MOVs leave this ZF alone */
	"mov 0*8(%rdi), %rax\n\t"
	"mov 1*8(%rdi), %rcx\n\t"
	"mov 2*8(%rdi), %rdx\n\t"
	"mov 3*8(%rdi), %rbx\n\t"
	"mov 5*8(%rdi), %rbp\n\t"
	"mov 6*8(%rdi), %rsi\n\t"
	"mov 8*8(%rdi), %r8\n\t"
	"mov 9*8(%rdi), %r9\n\t"
	"mov 10*8(%rdi), %r10\n\t"
	"mov 11*8(%rdi), %r11\n\t"
	"mov 12*8(%rdi), %r12\n\t"
	"mov 13*8(%rdi), %r13\n\t"
	"mov 14*8(%rdi), %r14\n\t"
	"mov 15*8(%rdi), %r15\n\t"
	"mov 7*8(%rdi), %rdi\n\t"
	"jz 1f\n\t"
	"vmlaunch\n\t"
	"jmp 2f\n"
	"1:\tvmresume\n"
	/* Still here: the instruction failed; CF or ZF says how. */
	"2:\tpushfq\n\t"
	"pop %rdx\n\t"
	"pop %rdi\n\t"                 /* the regs pointer */
	"mov $" STR(NUM_FAIL_INVALID) ", %eax\n\t"
	"test $1, %dl\n\t"             /* CF */
	"jnz 3f\n\t"
	"mov $" STR(NUM_FAIL_VALID) ", %eax\n\t"
	"test $0x40, %dl\n\t"          /* ZF */
	"jnz 3f\n\t"
	"mov $" STR(NUM_FELL_THROUGH) ", %eax\n\t"
	"jmp 3f\n"
	/* HOST_RIP: RSP is HOST_RSP, the regs pointer on top. */
	"vm_exit_stub:\n\t"
	"push %rdi\n\t"
	"mov 8(%rsp), %rdi\n\t"
	"mov %rax, 0*8(%rdi)\n\t"
	"mov %rcx, 1*8(%rdi)\n\t"
	"mov %rdx, 2*8(%rdi)\n\t"
	"mov %rbx, 3*8(%rdi)\n\t"
	"mov %rbp, 5*8(%rdi)\n\t"
	"mov %rsi, 6*8(%rdi)\n\t"
	"mov %r8, 8*8(%rdi)\n\t"
	"mov %r9, 9*8(%rdi)\n\t"
	"mov %r10, 10*8(%rdi)\n\t"
	"mov %r11, 11*8(%rdi)\n\t"
	"mov %r12, 12*8(%rdi)\n\t"
	"mov %r13, 13*8(%rdi)\n\t"
	"mov %r14, 14*8(%rdi)\n\t"
	"mov %r15, 15*8(%rdi)\n\t"
	"pop %rax\n\t"
	"mov %rax, 7*8(%rdi)\n\t"
	"pop %rdi\n\t"
	"xor %eax, %eax\n"             /* VM_ENTRY_EXITED */
	"3:\tpop %r15\n\t"
	"pop %r14\n\t"
	"pop %r13\n\t"
	"pop %r12\n\t"
	"pop %rbx\n\t"
	"pop %rbp\n\t"
	"ret\n\t"
	".size vm_enter, . - vm_enter\n"
	".popsection\n");

/*
 * L2's code. Each stub is the instruction under test (l2_NAME) followed by
 * VMCALL at l2_NAME_end, so after L1 advances GUEST_RIP by the exit's
 * instruction length the next exit is a VMCALL at exactly that address.
 */
#define L2_STUB_ASM(name, insn) "l2_stub " #name ", " insn "\n"
__asm__(".pushsection .text\n"
	".macro l2_stub name, insn:vararg\n"
	".globl l2_\\name, l2_\\name\\()_end\n"
	"l2_\\name:\n\t"
	"\\insn\n"
	"l2_\\name\\()_end:\n\t"
	"vmcall\n\t"
	"jmp l2_\\name\\()_end\n"
	".endm\n"
	L2_STUBS(L2_STUB_ASM)
	".purgem l2_stub\n"
	".popsection\n");
#undef L2_STUB_ASM

void l2_regs_default(struct l2_regs *regs)
{
	for (unsigned int i = 0; i < GPR_COUNT; i++)
		regs->gpr[i] = 0x1111111111111111ULL * i; /* recognisable in a dump */
	regs->gpr[GPR_RAX] = L2_INVLPG_ADDR;
	regs->gpr[GPR_RCX] = L2_MSR;
	regs->gpr[GPR_RDX] = L2_IO_PORT;
	regs->gpr[GPR_RBX] = read_cr3();
}
