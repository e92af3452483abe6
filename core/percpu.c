/* SPDX-License-Identifier: BSD-2-Clause */
/* Per-CPU data: one static slot per CPU, found through GS base. */
#include "core/percpu.h"
#include "arch/x86/cpu.h"

struct percpu percpu_data[MAX_CPUS];
uint32_t cpu_count = 1;

static uint8_t cpu_stacks[MAX_CPUS][CPU_STACK_SIZE] __aligned(16);

uint32_t cpu_index(void)
{
	return this_cpu()->index;
}

void percpu_prepare(uint32_t index, uint32_t apic_id)
{
	struct percpu *p = &percpu_data[index];

	p->self = p;
	p->index = index;
	p->apic_id = apic_id;
	p->stack_top = cpu_stacks[index] + CPU_STACK_SIZE;
}

void percpu_init(uint32_t index)
{
	struct percpu *p = &percpu_data[index];

	if (index == 0)
		percpu_prepare(0, 0);
	wrmsr(MSR_GS_BASE, (uint64_t)p);
	gdt_load(&p->tables);
}
