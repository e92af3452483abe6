/* SPDX-License-Identifier: BSD-2-Clause */
/* Application-processor start-up with INIT-SIPI-SIPI through a trampoline below 1 MiB. */
#ifndef UMBRA_ARCH_X86_SMP_H
#define UMBRA_ARCH_X86_SMP_H

#include "core/types.h"

typedef void (*ap_entry_fn)(uint32_t cpu_index);

/*
 * Start CPUs 1..cpu_count-1 (percpu_data[i].apic_id filled in) one at a
 * time; each runs entry(i) on its own stack. Waits at most timeout_ms per
 * CPU. Returns the number of CPUs online, BSP included; CPUs that did not
 * answer are marked CPU_FAILED and put back in wait-for-SIPI with an INIT.
 */
uint32_t smp_start_aps(ap_entry_fn entry, uint32_t timeout_ms);

#endif
