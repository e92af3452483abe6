/* SPDX-License-Identifier: BSD-2-Clause */
/* VM-exit handling for the L1 guest: dispatch table, handlers, event injection. */
#ifndef UMBRA_ARCH_X86_EXIT_H
#define UMBRA_ARCH_X86_EXIT_H

#include "arch/x86/vcpu.h"

/* I/O ports umbra intercepts (emulator exit ports), for the I/O bitmaps. */
extern const uint16_t exit_io_ports[];
extern const size_t exit_io_port_count;

/* Before every VM entry: deliver what is pending (NMIs). */
void exit_prepare_entry(struct vcpu *v);
/* VMLAUNCH/VMRESUME failed (vmx_enter returned r): report and stop. */
__noreturn void exit_entry_failed(struct vcpu *v, int r);
/* Handle the VM exit that just happened; t0 = TSC right after it. */
void exit_dispatch(struct vcpu *v, uint64_t t0);

/* Inject a hardware exception into the guest at the next entry. */
void inject_exception(uint8_t vector, bool has_error, uint32_t error);

/* Stop the guest with a report (reason, qualification, guest state) and end the run. */
__noreturn void guest_stop(struct vcpu *v, const char *fmt, ...) __printf(2, 3);

/* Print the exit statistics of every vCPU. */
void exit_stats_report(void);

#endif
