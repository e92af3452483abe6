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
 * and that of the next instruction (resume) here just before it runs, so the
 * handler never guesses instruction lengths and a fault anywhere else is
 * still fatal with the usual register dump.
 */
struct fault_slot {
	volatile uint64_t site;
	volatile uint64_t resume;
	struct fault_record rec;
};

static struct fault_slot slots[MAX_CPUS];

/*
 * "1:" is the instruction under test, "2:" the one after it. r11 is a
 * scratch register (clobbered by the caller's asm statement).
 */
#define ARM_AND_RUN(insn)                                                      \
	"leaq 1f(%%rip), %%r11\n\t"                                            \
	"movq %%r11, %[site]\n\t"                                              \
	"leaq 2f(%%rip), %%r11\n\t"                                            \
	"movq %%r11, %[resume]\n\t"                                            \
	"1: " insn "\n"                                                        \
	"2:\n\t"

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

static struct fault_slot *arm(void)
{
	struct fault_slot *s = &slots[cpu_index()];

	s->rec = (struct fault_record){ 0 };
	return s;
}

static bool disarm(struct fault_slot *s, struct fault_record *rec)
{
	s->site = 0;
	if (rec)
		*rec = s->rec;
	return !s->rec.hit;
}

bool rdmsr_safe(uint32_t msr, uint64_t *val, struct fault_record *rec)
{
	struct fault_slot *s = arm();
	uint32_t lo = 0, hi = 0;

	__asm__ volatile(ARM_AND_RUN("rdmsr")
			 : "+a"(lo), "+d"(hi), [site] "=m"(s->site), [resume] "=m"(s->resume)
			 : "c"(msr)
			 : "r11", "memory");
	*val = ((uint64_t)hi << 32) | lo;
	return disarm(s, rec);
}

bool wrmsr_safe(uint32_t msr, uint64_t val, struct fault_record *rec)
{
	struct fault_slot *s = arm();

	__asm__ volatile(ARM_AND_RUN("wrmsr")
			 : [site] "=m"(s->site), [resume] "=m"(s->resume)
			 : "c"(msr), "a"((uint32_t)val), "d"((uint32_t)(val >> 32))
			 : "r11", "memory");
	return disarm(s, rec);
}
