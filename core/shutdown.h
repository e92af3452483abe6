/* SPDX-License-Identifier: BSD-2-Clause */
/* Ending a run: stop every CPU, report, power off. */
#ifndef UMBRA_CORE_SHUTDOWN_H
#define UMBRA_CORE_SHUTDOWN_H

#include "drivers/power.h"

/* Called on the CPU that ends the run before the exit statistics are printed. */
typedef void (*shutdown_report_fn)(void);
void shutdown_set_report(shutdown_report_fn fn);

/*
 * End the run from any CPU: the first caller stops the others (NMI), prints
 * "umbra: exit status=N (why)" and the statistics, and leaves the machine.
 * A later caller just stops.
 */
__noreturn void shutdown(enum exit_status status, const char *why);

bool shutdown_in_progress(void);
/* Park the running CPU: it was told to stop. */
__noreturn void shutdown_park(void);

#endif
