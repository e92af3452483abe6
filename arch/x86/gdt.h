/* SPDX-License-Identifier: BSD-2-Clause */
/* Per-CPU GDT and 64-bit TSS with IST stacks for NMI, #DF and #MC. */
#ifndef UMBRA_ARCH_X86_GDT_H
#define UMBRA_ARCH_X86_GDT_H

#include "core/types.h"

/* Selectors; boot/layout.inc has the same values for the NASM code. */
#define SEL_CODE64 0x08
#define SEL_DATA 0x10
#define SEL_CODE32 0x18
#define SEL_TSS 0x20

/* IST slots (1-based, as in the IDT gate). */
#define IST_NMI 1
#define IST_DOUBLE_FAULT 2
#define IST_MACHINE_CHECK 3
#define IST_STACK_SIZE 8192

/* SDM Vol. 3A 7.7: 64-bit TSS. */
struct tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __packed;

_Static_assert(sizeof(struct tss64) == 104, "SDM Vol. 3A Figure 7-11");

struct cpu_tables {
	uint64_t gdt[6]; /* null, code64, data, code32, TSS (two slots) */
	struct tss64 tss;
	uint8_t ist_stacks[3][IST_STACK_SIZE] __aligned(16);
};

void gdt_load(struct cpu_tables *t);

#endif
