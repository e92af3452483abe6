/* SPDX-License-Identifier: BSD-2-Clause */
/* Instructions that are expected to fault: #GP and #UD caught, recorded, and stepped over. */
#ifndef UMBRA_TESTS_GUESTS_LIB_FAULT_H
#define UMBRA_TESTS_GUESTS_LIB_FAULT_H

#include "core/types.h"

struct fault_record {
	bool hit;            /* the instruction faulted */
	uint8_t vector;      /* 13 (#GP) or 6 (#UD) */
	uint64_t error_code;
};

/* BSP, after idt_init(): route #GP and #UD here. Any other fault stays fatal. */
void fault_catch_init(void);

/* Each returns false when the instruction faulted; *rec (may be NULL) says how. */
bool rdmsr_safe(uint32_t msr, uint64_t *val, struct fault_record *rec);
bool wrmsr_safe(uint32_t msr, uint64_t val, struct fault_record *rec);

#endif
