/* SPDX-License-Identifier: BSD-2-Clause */
/* The launched-VMCS list: which of L1's VMCSs (by physical address) are launched. */
#ifndef UMBRA_NESTED_LAUNCHED_H
#define UMBRA_NESTED_LAUNCHED_H

#include "core/types.h"

#define LAUNCHED_LIST_SIZE 32

/*
 * Per vCPU, fixed size, no allocation. VMLAUNCH adds (launched_add),
 * VMCLEAR removes (launched_remove), VMRESUME asks (launched_has).
 *
 * When full, launched_add evicts the entry launched longest ago and
 * returns its address: the caller records "launched" in that VMCS's
 * region (struct vmcs12.launch_state), and launched_has() misses are
 * answered from there. So the list is a cache and a full list never
 * changes what L1 sees.
 */
struct launched_list {
	uint64_t addr[LAUNCHED_LIST_SIZE];
	uint32_t stamp[LAUNCHED_LIST_SIZE]; /* launch order, for eviction */
	uint32_t count;
	uint32_t clock;
};

void launched_init(struct launched_list *l);
bool launched_has(const struct launched_list *l, uint64_t addr);
/*
 * True when an entry was evicted, its address in *evicted (any address,
 * 0 included, is a VMCS L1 may use). Adding a present address is a no-op.
 */
bool launched_add(struct launched_list *l, uint64_t addr, uint64_t *evicted);
/* True if it was there. */
bool launched_remove(struct launched_list *l, uint64_t addr);

#endif
