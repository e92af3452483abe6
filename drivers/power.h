/* SPDX-License-Identifier: BSD-2-Clause */
/* Leaving the machine: emulator exit ports, ACPI S5 power-off, halt. */
#ifndef UMBRA_DRIVERS_POWER_H
#define UMBRA_DRIVERS_POWER_H

#include "core/types.h"

struct acpi_info;

enum exit_status {
	EXIT_OK = 0,
	EXIT_FAILURE = 1, /* the run failed: a guest or test reported failure */
	EXIT_NO_VMX = 2,  /* this machine cannot run umbra */
	EXIT_PANIC = 3,   /* umbra itself broke */
};

enum platform_kind {
	PLATFORM_HARDWARE = 0,
	PLATFORM_BOCHS,
	PLATFORM_QEMU,
};

/* Learn how to power off; acpi may be NULL (then only emulator ports and halt). */
void power_init(const struct acpi_info *acpi, bool halt_instead);
enum platform_kind platform_kind(void);
const char *platform_name(void);

/* Flush the console and leave: emulator exit, else ACPI S5, else halt. */
__noreturn void platform_exit(enum exit_status status);

#endif
