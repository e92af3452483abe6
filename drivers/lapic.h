/* SPDX-License-Identifier: BSD-2-Clause */
/* Local APIC in xAPIC (MMIO) or x2APIC (MSR) mode: IDs, IPIs, EOI. */
#ifndef UMBRA_DRIVERS_LAPIC_H
#define UMBRA_DRIVERS_LAPIC_H

#include "core/types.h"

enum lapic_mode {
	LAPIC_MODE_AUTO = 0, /* keep whatever mode firmware left */
	LAPIC_MODE_XAPIC,
	LAPIC_MODE_X2APIC,
};

/* BSP: choose the mode for every CPU. Returns false when there is no usable APIC. */
bool lapic_global_init(enum lapic_mode wanted);
/* Every CPU (BSP included): switch to the chosen mode and software-enable the APIC. */
void lapic_cpu_init(void);
bool lapic_is_x2apic(void);
const char *lapic_mode_name(void);

uint32_t lapic_id(void);
void lapic_eoi(void);

/* SDM Vol. 3A 10.6.1: ICR delivery modes used by umbra. */
bool lapic_send_init(uint32_t apic_id);
bool lapic_send_sipi(uint32_t apic_id, uint8_t vector);
bool lapic_send_nmi(uint32_t apic_id);
/* NMI to every CPU but this one; no-op before lapic_global_init(). */
void lapic_stop_other_cpus(void);

#endif
