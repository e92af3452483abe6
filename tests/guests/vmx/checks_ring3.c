/* SPDX-License-Identifier: BSD-2-Clause */
/* ring3 group: VMX instructions at CPL 3, through a user mapping and segments of this file's own (SDM Vol. 3C 30.3). */
#include "arch/x86/cpu.h"
#include "arch/x86/gdt.h"
#include "arch/x86/idt.h"
#include "core/panic.h"
#include "core/string.h"
#include "tests/guests/lib/fault.h"
#include "tests/guests/lib/report.h"
#include "tests/guests/vmx/suite.h"

#define VEC_UD 6
#define VEC_GP 13
#define VEC_PF 14
#define PTE_P BIT(0)
#define PTE_RW BIT(1)
#define PTE_US BIT(2)
/* An unused PML4 slot for the user pages (linear 512 GiB * slot). */
#define PML4_SLOT 4
#define USER_CODE ((uint64_t)PML4_SLOT << 39)
#define USER_STACK_TOP (USER_CODE + 2 * PAGE_SIZE)
/* SDM Vol. 3A 3.4.5: 64-bit code and data segments with DPL 3. */
#define DESC_USER_DATA 0x00cff2000000ffffULL
#define DESC_USER_CODE64 0x00affa000000ffffULL
#define GDT_OLD_ENTRIES 6
#define SEL_USER_DATA ((GDT_OLD_ENTRIES << 3) | 3)
#define SEL_USER_CODE (((GDT_OLD_ENTRIES + 1) << 3) | 3)

struct __packed gdt_ptr {
	uint16_t limit;
	uint64_t base;
};

static uint64_t pdpt[512] __aligned(PAGE_SIZE), pd[512] __aligned(PAGE_SIZE), pt[512] __aligned(PAGE_SIZE);
static uint8_t user_pages[2][PAGE_SIZE] __aligned(PAGE_SIZE); /* code, stack */
static uint64_t gdt[GDT_OLD_ENTRIES + 2] __aligned(16);
static uint8_t kernel_stack[2 * PAGE_SIZE] __aligned(16);

/* Ring 3 runs one instruction: the fault that ends it brings ring 0 back to ring3_resume. */
uint64_t ring3_saved_rsp;
static volatile uint64_t ring3_vector;
extern const char ring3_resume[], ring3_insn[], ring3_insn_end[];
void ring3_enter(uint64_t rip, uint64_t rsp);

__asm__(".pushsection .text\n"
	".globl ring3_enter\n"
	"ring3_enter:\n\t"
	"push %rbx\n\tpush %rbp\n\tpush %r12\n\tpush %r13\n\tpush %r14\n\tpush %r15\n\t"
	"mov %rsp, ring3_saved_rsp(%rip)\n\t"
	"pushq $" "0x33" "\n\t"   /* SS: SEL_USER_DATA */
	"push %rsi\n\t"           /* RSP */
	"pushq $2\n\t"            /* RFLAGS: IF = 0 */
	"pushq $" "0x3b" "\n\t"   /* CS: SEL_USER_CODE */
	"push %rdi\n\t"           /* RIP */
	"iretq\n"
	".globl ring3_resume\n"
	"ring3_resume:\n\t"
	"mov ring3_saved_rsp(%rip), %rsp\n\t"
	"pop %r15\n\tpop %r14\n\tpop %r13\n\tpop %r12\n\tpop %rbp\n\tpop %rbx\n\t"
	"ret\n"
	/* The instruction ring 3 runs (copied to the user page): VMXON of its stack. */
	".globl ring3_insn, ring3_insn_end\n"
	"ring3_insn:\n\t"
	"vmxon (%rsp)\n\t"
	"ud2\n"
	"ring3_insn_end:\n"
	".popsection\n");

_Static_assert(SEL_USER_DATA == 0x33 && SEL_USER_CODE == 0x3b, "selectors in ring3_enter");

/* A fault from ring 3 ends the ring-3 run; anything else is fatal as usual. */
static void ring3_fault(struct trap_frame *tf)
{
	if ((tf->cs & 3) != 3)
		panic_trap(tf);
	ring3_vector = tf->vector;
	tf->rip = (uint64_t)ring3_resume;
	tf->cs = SEL_CODE64;
	tf->ss = SEL_DATA;
	tf->rsp = ring3_saved_rsp;
	tf->rflags = 2;
}

/* Run ring3_insn at CPL 3; returns the vector of the fault it raised. */
static uint64_t run_ring3(void)
{
	uint64_t *pml4 = (uint64_t *)(read_cr3() & ~0xfffULL);
	struct gdt_ptr old, now;
	struct tss64 *tss;
	uint64_t old_rsp0, desc_lo, desc_hi;
	uint16_t tr;

	__asm__ volatile("sgdt %0" : "=m"(old));
	__asm__ volatile("str %0" : "=r"(tr));
	memcpy(gdt, (const void *)old.base, GDT_OLD_ENTRIES * 8);
	gdt[GDT_OLD_ENTRIES] = DESC_USER_DATA;
	gdt[GDT_OLD_ENTRIES + 1] = DESC_USER_CODE64;
	now = (struct gdt_ptr){ sizeof(gdt) - 1, (uint64_t)gdt };
	/* SDM Vol. 3A 7.2.3: the TSS descriptor's base, for RSP0 of the way back. */
	desc_lo = gdt[tr >> 3];
	desc_hi = gdt[(tr >> 3) + 1];
	tss = (struct tss64 *)(((desc_lo >> 16) & 0xffffff) | (((desc_lo >> 56) & 0xff) << 24) | (desc_hi << 32));
	old_rsp0 = tss->rsp[0];
	tss->rsp[0] = (uint64_t)kernel_stack + sizeof(kernel_stack);

	memcpy(user_pages[0], ring3_insn, (size_t)(ring3_insn_end - ring3_insn));
	pdpt[0] = (uint64_t)pd | PTE_P | PTE_RW | PTE_US;
	pd[0] = (uint64_t)pt | PTE_P | PTE_RW | PTE_US;
	pt[0] = (uint64_t)user_pages[0] | PTE_P | PTE_RW | PTE_US;
	pt[1] = (uint64_t)user_pages[1] | PTE_P | PTE_RW | PTE_US;
	pml4[PML4_SLOT] = (uint64_t)pdpt | PTE_P | PTE_RW | PTE_US;
	write_cr3(read_cr3());

	idt_set_handler(VEC_UD, ring3_fault);
	idt_set_handler(VEC_GP, ring3_fault);
	idt_set_handler(VEC_PF, ring3_fault);
	ring3_vector = ~0ULL;
	__asm__ volatile("lgdt %0" ::"m"(now));
	ring3_enter(USER_CODE, USER_STACK_TOP - 64);
	__asm__ volatile("lgdt %0" ::"m"(old));

	idt_set_handler(VEC_PF, NULL);
	fault_catch_init(); /* #UD and #GP back to the suite's guard */
	pml4[PML4_SLOT] = 0;
	write_cr3(read_cr3());
	tss->rsp[0] = old_rsp0;
	return ring3_vector;
}

/*
 * SDM Vol. 3C 30.3, VMXON: CR4.VMXE = 0 is #UD before any CPL check
 * (#GP(0) at CPL > 0 comes after it). Runs after VMXOFF with CR4.VMXE clear.
 */
void check_ring3_vmxon(void)
{
	uint64_t vector;

	if (read_cr4() & CR4_VMXE) {
		report("ring3.vmxon_without_vmxe", VERDICT_SKIP, "CR4.VMXE still set");
		return;
	}
	vector = run_ring3();
	check("ring3.vmxon_without_vmxe", vector == VEC_UD,
	      "VMXON at CPL 3 with CR4.VMXE = 0: vector %lu, expected %u (#UD)", vector, VEC_UD);
}
