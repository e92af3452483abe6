/* SPDX-License-Identifier: BSD-2-Clause */
/* Per-CPU data, reached through GS base. */
#ifndef UMBRA_CORE_PERCPU_H
#define UMBRA_CORE_PERCPU_H

#include "core/types.h"
#include "arch/x86/gdt.h"

#define MAX_CPUS 64
#define CPU_STACK_SIZE (32 * 1024)

enum cpu_state {
	CPU_ABSENT = 0,  /* not in the MADT, or not started */
	CPU_STARTING,    /* INIT-SIPI-SIPI sent */
	CPU_ONLINE,      /* reached ap_main / bsp_main */
	CPU_FAILED,      /* did not answer in time */
	CPU_STOPPED,     /* halted by panic or shutdown */
};

struct percpu {
	struct percpu *self; /* must stay first: this_cpu() reads %gs:0 */
	uint32_t index;      /* 0 = BSP, then MADT order */
	uint32_t apic_id;
	volatile enum cpu_state state;
	bool vmx_ok;
	uint8_t *stack_top;
	struct cpu_tables tables; /* GDT, TSS, IST stacks */
};

_Static_assert(__builtin_offsetof(struct percpu, self) == 0, "this_cpu() reads %gs:0");

extern struct percpu percpu_data[MAX_CPUS];
extern uint32_t cpu_count; /* CPUs known (MADT, enabled, within limits) */

static inline struct percpu *this_cpu(void)
{
	struct percpu *p;

	__asm__ volatile("movq %%gs:0, %0" : "=r"(p));
	return p;
}

/* Index of the running CPU; 0 before per-CPU data is set up (GS base 0). */
uint32_t cpu_index(void);

/* Fill slot index before the CPU starts (its stack, its APIC ID). */
void percpu_prepare(uint32_t index, uint32_t apic_id);
/* On the CPU itself: point GS base at its slot, load its GDT and TSS. */
void percpu_init(uint32_t index);

#endif
