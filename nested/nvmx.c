/* SPDX-License-Identifier: BSD-2-Clause */
/* Nested VMX for L1: per-vCPU state and the hooks arch/x86 calls. */
#include "nested/nvmx.h"
#include "core/percpu.h"
#include "nested/vmx_msrs.h"

static struct nvmx nvmx_state[MAX_CPUS];

struct nvmx *nvmx_of(struct vcpu *v)
{
	return &nvmx_state[v->index];
}

static const struct nested_ops ops = {
	.vmx_instruction = nvmx_vmx_instruction,
	.l2_exit = nvmx_l2_exit,
	.l2_entry_failed = nvmx_l2_entry_failed,
	.msr_read = vmx_msr_read,
};

void nvmx_init(void)
{
	for (size_t i = 0; i < MAX_CPUS; i++)
		nvmx_state[i].current = NVMX_NO_VMCS;
	nested_ops = &ops;
}
