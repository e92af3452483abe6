/* SPDX-License-Identifier: BSD-2-Clause */
/* Nested VMX for L1: per-vCPU state and the hooks arch/x86 calls. */
#include "nested/nvmx.h"
#include "core/log.h"
#include "core/percpu.h"
#include "nested/vmx_msrs.h"

static struct nvmx nvmx_state[MAX_CPUS];

struct nvmx *nvmx_of(struct vcpu *v)
{
	return &nvmx_state[v->index];
}

struct nvmx *nvmx_of_cpu(uint32_t index)
{
	return &nvmx_state[index];
}

/*
 * SDM Vol. 3C 23.8: in VMX operation CR0 and CR4 keep their fixed bits; a
 * MOV that would change one raises #GP. While L1 is in VMX operation umbra
 * intercepts every fixed bit (nvmx_cr_intercept) so that it sees such MOVs.
 */
static bool cr_write_allowed(struct vcpu *v, unsigned int cr, uint64_t value)
{
	uint64_t fixed0 = cr == 0 ? vm.caps.cr0_fixed0 : vm.caps.cr4_fixed0;
	uint64_t fixed1 = cr == 0 ? vm.caps.cr0_fixed1 : vm.caps.cr4_fixed1;

	if (!nvmx_of(v)->vmxon)
		return true;
	return (value & fixed0) == fixed0 && !(value & ~fixed1);
}

void nvmx_cr_intercept(bool vmx_operation)
{
	uint64_t cr0 = vcpu_guest_cr0(), cr4 = vcpu_guest_cr4();

	/* The shadows must hold the guest's view of every bit the masks cover. */
	vmcs_writenat(CR0_READ_SHADOW, cr0);
	vmcs_writenat(CR4_READ_SHADOW, cr4);
	vmcs_writenat(CR0_GUEST_HOST_MASK, vm.cr0_mask | (vmx_operation ? vm.caps.cr0_fixed0 : 0));
	vmcs_writenat(CR4_GUEST_HOST_MASK, vm.cr4_mask | (vmx_operation ? vm.caps.cr4_fixed0 : 0));
}

static size_t field_stats(uint64_t cpu, struct umbra_hc_field_stat *out, size_t max)
{
	size_t n = MIN(max, (size_t)VMCS_FIELD_COUNT);

	for (size_t i = 0; i < n; i++) {
		int s = vmcs12_slot(vmcs_field_table[i].encoding);

		out[i] = (struct umbra_hc_field_stat){ .encoding = vmcs_field_table[i].encoding };
		for (uint32_t c = 0; c < cpu_count; c++) {
			if (cpu != UMBRA_HC_ALL_CPUS && c != cpu)
				continue;
			out[i].vmread_exits += nvmx_state[c].vmread_exits[s];
			out[i].vmwrite_exits += nvmx_state[c].vmwrite_exits[s];
		}
	}
	return n;
}

static const struct nested_ops ops = {
	.vmx_instruction = nvmx_vmx_instruction,
	.l2_exit = nvmx_l2_exit,
	.l2_entry_failed = nvmx_l2_entry_failed,
	.msr_read = vmx_msr_read,
	.field_stats = field_stats,
	.cr_write_allowed = cr_write_allowed,
	.init_signal = nvmx_init_signal,
	.l1_nmi_exiting = nvmx_l1_nmi_exiting,
	.l1_virtual_nmis = nvmx_l1_virtual_nmis,
	.nmi_exit = nvmx_nmi_exit,
};

/* Which fields L1 still reaches through exits: candidates for nested/shadow_fields.h. */
void nvmx_report_field_stats(void)
{
	for (uint32_t c = 0; c < cpu_count; c++) {
		const struct nvmx *n = &nvmx_state[c];

		for (size_t i = 0; i < VMCS_FIELD_COUNT; i++) {
			int s = vmcs12_slot(vmcs_field_table[i].encoding);

			if (n->vmread_exits[s] || n->vmwrite_exits[s])
				log_info("stats: cpu%u field %-30s %8u VMREAD exits %8u VMWRITE exits", c,
					 vmcs_field_table[i].name, n->vmread_exits[s], n->vmwrite_exits[s]);
		}
	}
}

void nvmx_init(void)
{
	for (size_t i = 0; i < MAX_CPUS; i++)
		nvmx_state[i].current = NVMX_NO_VMCS;
	nested_ops = &ops;
}
