/* SPDX-License-Identifier: BSD-2-Clause */
/* The L1 guest: load it from the first GRUB module and start it on every CPU. */
#ifndef UMBRA_CORE_GUEST_H
#define UMBRA_CORE_GUEST_H

#include "arch/x86/vmx_caps.h"
#include "core/cmdline.h"
#include "core/mb2.h"

/*
 * BSP: build the guest's memory map, load the kernel from module 0 (its
 * command line is the guest's), write its boot information, and set up
 * VMX for it (EPT, bitmaps, controls). Returns false after a clear message
 * when the guest cannot run.
 */
bool guest_prepare(const struct mb2_info *mbi, const struct vmx_caps *caps,
		   const struct umbra_config *cfg);

/* BSP: release the APs into wait-for-SIPI, then run the guest's BSP. */
__noreturn void guest_start_bsp(void);

/* AP: wait for guest_start_bsp(), then park in wait-for-SIPI until the guest starts us. */
__noreturn void guest_start_ap(uint32_t index);

#endif
