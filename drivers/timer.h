/* SPDX-License-Identifier: BSD-2-Clause */
/* TSC frequency (CPUID leaves 0x15/0x16, PIT or ACPI PM timer calibration) and delays. */
#ifndef UMBRA_DRIVERS_TIMER_H
#define UMBRA_DRIVERS_TIMER_H

#include "core/types.h"

enum tsc_source {
	TSC_SRC_DEFAULT = 0, /* nothing worked: a guess */
	TSC_SRC_PIT,
	TSC_SRC_PM_TIMER,
	TSC_SRC_CPUID_15,
	TSC_SRC_CPUID_16,
};

struct tsc_info {
	uint64_t khz;             /* the frequency in use */
	enum tsc_source source;
	uint64_t cpuid15_khz;     /* 0 when CPUID 0x15 does not give it */
	uint64_t cpuid16_khz;     /* processor base frequency, 0 when absent */
	uint64_t calibrated_khz;  /* 0 when calibration failed */
};

/*
 * Measure the TSC against the PIT (channel 2), or the ACPI PM timer at
 * pm_tmr_port when the PIT does not answer, and compare with CPUID. A
 * calibrated value wins over CPUID: emulators (Bochs) tick the TSC at a rate
 * that CPUID does not describe.
 */
const struct tsc_info *timer_calibrate(uint32_t pm_tmr_port, bool pm_tmr_32bit);
const char *tsc_source_name(enum tsc_source src);
uint64_t tsc_khz(void);

uint64_t timer_deadline_us(uint64_t us);
bool timer_expired(uint64_t deadline);
void udelay(uint64_t us);

#endif
