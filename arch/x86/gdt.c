/* SPDX-License-Identifier: BSD-2-Clause */
/* Per-CPU GDT and TSS setup (SDM Vol. 3A 3.4.5, 7.2.3). */
#include "arch/x86/gdt.h"
#include "core/string.h"

struct descriptor_ptr {
	uint16_t limit;
	uint64_t base;
} __packed;

/* A 16-byte system descriptor for the 64-bit TSS (SDM Vol. 3A Figure 7-4). */
static void set_tss_descriptor(uint64_t *slot, uint64_t base, uint32_t limit)
{
	slot[0] = (limit & 0xffffULL) | ((base & 0xffffffULL) << 16) | (0x89ULL << 40) |
		  ((uint64_t)((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xffULL) << 56);
	slot[1] = base >> 32;
}

void gdt_load(struct cpu_tables *t)
{
	struct descriptor_ptr ptr;

	memset(&t->tss, 0, sizeof(t->tss));
	t->gdt[0] = 0;
	t->gdt[SEL_CODE64 / 8] = 0x00af9a000000ffffULL;
	t->gdt[SEL_DATA / 8] = 0x00cf92000000ffffULL;
	t->gdt[SEL_CODE32 / 8] = 0x00cf9a000000ffffULL;
	set_tss_descriptor(&t->gdt[SEL_TSS / 8], (uint64_t)&t->tss, sizeof(t->tss) - 1);

	/* Stacks grow down: each IST points at the end of its area. */
	t->tss.ist[IST_NMI - 1] = (uint64_t)&t->ist_stacks[0][IST_STACK_SIZE];
	t->tss.ist[IST_DOUBLE_FAULT - 1] = (uint64_t)&t->ist_stacks[1][IST_STACK_SIZE];
	t->tss.ist[IST_MACHINE_CHECK - 1] = (uint64_t)&t->ist_stacks[2][IST_STACK_SIZE];
	t->tss.iomap_base = sizeof(t->tss); /* no I/O bitmap */

	ptr.limit = sizeof(t->gdt) - 1;
	ptr.base = (uint64_t)t->gdt;
	__asm__ volatile("lgdt %0\n\t"
			 "pushq %1\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "movw %w2, %%ax\n\t"
			 "movw %%ax, %%ds\n\t"
			 "movw %%ax, %%es\n\t"
			 "movw %%ax, %%ss\n\t"
			 "ltr %w3"
			 :
			 : "m"(ptr), "i"((uint64_t)SEL_CODE64), "r"((uint32_t)SEL_DATA),
			   "r"((uint16_t)SEL_TSS)
			 : "rax", "memory");
}
