/* SPDX-License-Identifier: BSD-2-Clause */
/* IDT, trap frames and the handlers for exceptions and interrupts. */
#ifndef UMBRA_ARCH_X86_IDT_H
#define UMBRA_ARCH_X86_IDT_H

#include "core/types.h"

/* Layout built by arch/x86/isr.asm. */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

_Static_assert(sizeof(struct trap_frame) == 22 * 8, "matches isr.asm");

#define VEC_NMI 2
#define VEC_DOUBLE_FAULT 8
#define VEC_PAGE_FAULT 14
#define VEC_MACHINE_CHECK 18
#define VEC_FIRST_IRQ 32
#define VEC_IPI_STOP 0xf0    /* unused unless NMIs cannot be sent */
#define VEC_APIC_TIMER 0xf1
#define VEC_SPURIOUS 0xff

typedef void (*irq_handler_fn)(struct trap_frame *tf);

/* Build the IDT once (BSP) and load it (every CPU). */
void idt_init(void);
void idt_load(void);
void idt_set_handler(uint8_t vector, irq_handler_fn fn);

/* Print every register of a frame (used by exceptions and panic). */
void trap_dump(const struct trap_frame *tf);
const char *exception_name(uint64_t vector);

#endif
