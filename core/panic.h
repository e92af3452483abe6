/* SPDX-License-Identifier: BSD-2-Clause */
/* Fatal errors in umbra itself: stop every CPU, report, leave the machine. */
#ifndef UMBRA_CORE_PANIC_H
#define UMBRA_CORE_PANIC_H

#include "core/types.h"

struct trap_frame;

/*
 * For broken host state only: never for anything a guest can cause (those
 * get an architectural answer or a clean stop of the guest).
 */
__noreturn void panic(const char *fmt, ...) __printf(1, 2);
__noreturn void panic_trap(const struct trap_frame *tf);

bool panic_in_progress(void);
/* Park the running CPU for good (NMI handler of the other CPUs). */
__noreturn void panic_stop_this_cpu(void);

#define ASSERT(cond)                                                                   \
	do {                                                                           \
		if (!(cond))                                                           \
			panic("assertion failed: %s at %s:%d", #cond, __FILE__, __LINE__); \
	} while (0)

#endif
