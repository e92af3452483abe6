/* SPDX-License-Identifier: BSD-2-Clause */
/* panic(): stop the other CPUs with an NMI, print the cause and a backtrace, exit. */
#include "core/panic.h"
#include "arch/x86/cpu.h"
#include "arch/x86/idt.h"
#include "core/format.h"
#include "core/log.h"
#include "core/percpu.h"
#include "drivers/lapic.h"
#include "drivers/power.h"

#define BACKTRACE_MAX 16

extern char __image_start[], __image_end[];

static volatile uint32_t panic_cpu = UINT32_MAX;

bool panic_in_progress(void)
{
	return panic_cpu != UINT32_MAX;
}

__noreturn void panic_stop_this_cpu(void)
{
	this_cpu()->state = CPU_STOPPED;
	cpu_halt_forever();
}

/* Walk the frame-pointer chain (-fno-omit-frame-pointer), staying inside the image's stacks. */
static void backtrace(uint64_t rbp)
{
	log_raw("  backtrace:\n");
	for (int i = 0; i < BACKTRACE_MAX && rbp; i++) {
		const uint64_t *frame = (const uint64_t *)rbp;

		if (!IS_ALIGNED(rbp, 8) || rbp < (uint64_t)__image_start || rbp >= (uint64_t)__image_end)
			break;
		log_raw("    #%d %016lx\n", i, frame[1]);
		if (frame[0] <= rbp)
			break; /* stacks grow down: callers' frames are above */
		rbp = frame[0];
	}
}

/* Become the one panicking CPU, or stop if another CPU already is. */
static void panic_enter(void)
{
	uint32_t expected = UINT32_MAX;

	irq_disable();
	if (!__atomic_compare_exchange_n(&panic_cpu, &expected, cpu_index(), false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		if (expected != cpu_index())
			panic_stop_this_cpu();
		/* A nested panic on this CPU: say so and go. */
		log_raw("\n[cpu%u] PANIC while panicking\n", cpu_index());
		platform_exit(EXIT_PANIC);
	}
	lapic_stop_other_cpus();
	log_break_lock();
}

__noreturn void panic(const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	panic_enter();
	va_start(ap, fmt);
	fmt_vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_raw("\n[cpu%u] PANIC: %s\n", cpu_index(), msg);
	backtrace((uint64_t)__builtin_frame_address(0));
	platform_exit(EXIT_PANIC);
}

__noreturn void panic_trap(const struct trap_frame *tf)
{
	panic_enter();
	log_raw("\n[cpu%u] PANIC: unexpected %s in umbra\n", cpu_index(), exception_name(tf->vector));
	trap_dump(tf);
	backtrace(tf->rbp);
	platform_exit(EXIT_PANIC);
}
