/* SPDX-License-Identifier: BSD-2-Clause */
/* Orderly end of a run: one CPU reports while the others are parked. */
#include "core/shutdown.h"
#include "arch/x86/cpu.h"
#include "core/gcov.h"
#include "core/log.h"
#include "core/percpu.h"
#include "drivers/lapic.h"
#include "drivers/timer.h"

#define PARK_WAIT_US 100000

static volatile uint32_t shutdown_cpu = UINT32_MAX;
static shutdown_report_fn report;

void shutdown_set_report(shutdown_report_fn fn)
{
	report = fn;
}

bool shutdown_in_progress(void)
{
	return shutdown_cpu != UINT32_MAX;
}

__noreturn void shutdown_park(void)
{
	this_cpu()->state = CPU_STOPPED;
	cpu_halt_forever();
}

/* Wait (bounded) until every other online CPU has parked, so its counters stand still. */
static void wait_for_others(void)
{
	uint64_t deadline = timer_deadline_us(PARK_WAIT_US);

	for (uint32_t i = 0; i < cpu_count; i++) {
		if (i == cpu_index())
			continue;
		while (percpu_data[i].state == CPU_ONLINE && !timer_expired(deadline))
			cpu_relax();
	}
}

__noreturn void shutdown(enum exit_status status, const char *why)
{
	uint32_t expected = UINT32_MAX;

	irq_disable();
	if (!__atomic_compare_exchange_n(&shutdown_cpu, &expected, cpu_index(), false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		shutdown_park();
	lapic_stop_other_cpus();
	wait_for_others();
	if (report)
		report();
	log_info("umbra: exit status=%d (%s)", status, why);
	gcov_dump();                                /* COVERAGE=1: the run's coverage counters */
	platform_exit(status);
}
