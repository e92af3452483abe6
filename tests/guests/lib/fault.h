/* SPDX-License-Identifier: BSD-2-Clause */
/* Instructions that are expected to fault: #GP and #UD caught, recorded, and stepped over. */
#ifndef UMBRA_TESTS_GUESTS_LIB_FAULT_H
#define UMBRA_TESTS_GUESTS_LIB_FAULT_H

#include "core/types.h"

struct fault_record {
	bool hit;            /* the instruction faulted */
	uint8_t vector;      /* 13 (#GP), 6 (#UD), or one fault_catch_vector() added */
	uint64_t error_code;
};

/* BSP, after idt_init(): route #GP and #UD here. Any other fault stays fatal. */
void fault_catch_init(void);
/* Also catch vector (e.g. #PF, #SS) at guarded instructions; elsewhere it stays fatal. */
void fault_catch_vector(uint8_t vector);

/*
 * For guarded instructions of one's own: fault_arm() returns this CPU's
 * slot; the asm statement runs FAULT_GUARDED(insn) with the operands
 * [site] "=m"(slot->site), [resume] "=m"(slot->resume) and clobbers r11;
 * fault_disarm() then returns false when the instruction faulted.
 */
struct fault_slot {
	volatile uint64_t site;   /* the guarded instruction */
	volatile uint64_t resume; /* the one after it */
	struct fault_record rec;
};

/* "1:" is the guarded instruction, "2:" the one after it; r11 is scratch. */
#define FAULT_GUARDED(insn)                                                    \
	"leaq 1f(%%rip), %%r11\n\t"                                          \
	"movq %%r11, %[site]\n\t"                                            \
	"leaq 2f(%%rip), %%r11\n\t"                                          \
	"movq %%r11, %[resume]\n\t"                                          \
	"1: " insn "\n"                                                      \
	"2:\n\t"

struct fault_slot *fault_arm(void);
bool fault_disarm(struct fault_slot *s, struct fault_record *rec);

/* Each returns false when the instruction faulted; *rec (may be NULL) says how. */
bool rdmsr_safe(uint32_t msr, uint64_t *val, struct fault_record *rec);
bool wrmsr_safe(uint32_t msr, uint64_t val, struct fault_record *rec);

#endif
