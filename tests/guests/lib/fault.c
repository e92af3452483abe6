/* SPDX-License-Identifier: BSD-2-Clause */
/* Expected faults: each guarded instruction records where it is and where to resume. */
#include "tests/guests/lib/fault.h"
#include "arch/x86/idt.h"
#include "core/panic.h"
#include "core/percpu.h"

#define VEC_INVALID_OPCODE 6
#define VEC_GENERAL_PROTECTION 13

/*
 * One slot per CPU. The instruction under test writes its own address (site)
 * and that of the next instruction (resume) there just before it runs, so the
 * handler never guesses instruction lengths and a fault anywhere else is
 * still fatal with the usual register dump.
 */
static struct fault_slot slots[MAX_CPUS];

static void expected_fault(struct trap_frame *tf)
{
	struct fault_slot *s = &slots[cpu_index()];

	if (!s->site || tf->rip != s->site)
		panic_trap(tf);
	s->rec.hit = true;
	s->rec.vector = (uint8_t)tf->vector;
	s->rec.error_code = tf->error_code;
	tf->rip = s->resume;
	s->site = 0;
}

void fault_catch_init(void)
{
	idt_set_handler(VEC_GENERAL_PROTECTION, expected_fault);
	idt_set_handler(VEC_INVALID_OPCODE, expected_fault);
}

void fault_catch_vector(uint8_t vector)
{
	idt_set_handler(vector, expected_fault);
}

struct fault_slot *fault_arm(void)
{
	struct fault_slot *s = &slots[cpu_index()];

	s->rec = (struct fault_record){ 0 };
	return s;
}

bool fault_disarm(struct fault_slot *s, struct fault_record *rec)
{
	s->site = 0;
	if (rec)
		*rec = s->rec;
	return !s->rec.hit;
}

bool rdmsr_safe(uint32_t msr, uint64_t *val, struct fault_record *rec)
{
	struct fault_slot *s = fault_arm();
	uint32_t lo = 0, hi = 0;

	__asm__ volatile(FAULT_GUARDED("rdmsr")
			 : "+a"(lo), "+d"(hi), [site] "=m"(s->site), [resume] "=m"(s->resume)
			 : "c"(msr)
			 : "r11", "memory");
	*val = ((uint64_t)hi << 32) | lo;
	return fault_disarm(s, rec);
}

bool wrmsr_safe(uint32_t msr, uint64_t val, struct fault_record *rec)
{
	struct fault_slot *s = fault_arm();

	__asm__ volatile(FAULT_GUARDED("wrmsr")
			 : [site] "=m"(s->site), [resume] "=m"(s->resume)
			 : "c"(msr), "a"((uint32_t)val), "d"((uint32_t)(val >> 32))
			 : "r11", "memory");
	return fault_disarm(s, rec);
}
