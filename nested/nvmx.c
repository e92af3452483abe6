/* SPDX-License-Identifier: BSD-2-Clause */
/* Nested VMX for L1: per-vCPU state and the hooks arch/x86 calls. */
#include "nested/nvmx.h"
#include "core/format.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/panic.h"
#include "core/percpu.h"
#include "core/string.h"
#include "nested/vmcs02_policy.h"
#include "nested/vmx_msrs.h"

static struct nvmx nvmx_state[MAX_CPUS];
uint64_t nvmx_failing_msr_list;
#define FAILING_MSR_INDEX 0x174 /* IA32_SYSENTER_CS: any MSR, the reserved bits make it fail */

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

static void report_fields(enum stats_report how);

static const struct nested_ops ops = {
	.vmx_instruction = nvmx_vmx_instruction,
	.l2_exit = nvmx_l2_exit,
	.l2_entry_failed = nvmx_l2_entry_failed,
	.msr_read = vmx_msr_read,
	.field_stats = field_stats,
	.report_fields = report_fields,
	.cr_write_allowed = cr_write_allowed,
	.init_signal = nvmx_init_signal,
	.l1_nmi_exiting = nvmx_l1_nmi_exiting,
	.l1_virtual_nmis = nvmx_l1_virtual_nmis,
	.nmi_exit = nvmx_nmi_exit,
	.vmcall_in_root = nvmx_vmcall_in_root,
};

/* VMREAD/VMWRITE exits of one vmcs12 slot on CPU cpu, or on every CPU (STATS_ALL_CPUS). */
#define STATS_ALL_CPUS UINT32_MAX

static void field_exits(uint32_t cpu, int slot, uint64_t *reads, uint64_t *writes)
{
	*reads = *writes = 0;
	for (uint32_t c = 0; c < cpu_count; c++) {
		if (cpu != STATS_ALL_CPUS && c != cpu)
			continue;
		*reads += nvmx_state[c].vmread_exits[slot];
		*writes += nvmx_state[c].vmwrite_exits[slot];
	}
}

static uint64_t field_total(uint32_t cpu, size_t i)
{
	uint64_t r, w;

	field_exits(cpu, vmcs12_slot(vmcs_field_table[i].encoding), &r, &w);
	return r + w;
}

/* The human table of one CPU (or of all, added up): the top fields by exits, then a total line. */
static void field_table(uint32_t cpu, size_t top)
{
	static size_t order[VMCS_FIELD_COUNT]; /* shutdown only: one CPU reports */
	char who[16];
	uint64_t reads = 0, writes = 0, r, w;
	size_t count = 0, j;

	if (cpu == STATS_ALL_CPUS)
		fmt_snprintf(who, sizeof(who), "all CPUs");
	else
		fmt_snprintf(who, sizeof(who), "cpu%u", cpu);
	for (size_t i = 0; i < VMCS_FIELD_COUNT; i++) {
		field_exits(cpu, vmcs12_slot(vmcs_field_table[i].encoding), &r, &w);
		if (!(r + w))
			continue;
		reads += r;
		writes += w;
		/* Insertion by exits, most first; ties keep the field list's order. */
		for (j = count++; j > 0 && field_total(cpu, order[j - 1]) < r + w; j--)
			order[j] = order[j - 1];
		order[j] = i;
	}
	if (!count)
		return;
	for (size_t k = 0; k < count && k < top; k++) {
		field_exits(cpu, vmcs12_slot(vmcs_field_table[order[k]].encoding), &r, &w);
		log_info("stats: %s field %-30s %8lu VMREAD exits %8lu VMWRITE exits", who,
			 vmcs_field_table[order[k]].name, r, w);
	}
	if (count > top)
		log_info("stats: %s %zu fields trapped, %lu VMREAD exits, %lu VMWRITE exits in all "
			 "(the top %zu above; stats=full lists every field)",
			 who, count, reads, writes, top);
	else
		log_info("stats: %s %zu fields trapped, %lu VMREAD exits, %lu VMWRITE exits in all", who,
			 count, reads, writes);
}

/*
 * Which fields L1 still reaches through exits: candidates for
 * nested/shadow_fields.h. STATS_RECORDS prints one "ustat" record per
 * trapped field and CPU (docs/research.md). The human table lists the ten
 * fields with the most exits (every one with stats=full) and a total line:
 * per CPU on one CPU, added up over all CPUs on several (one screen).
 */
static void report_fields(enum stats_report how)
{
	/* The shadow EPTs' work, per vCPU that used one (nested/ept02.c). */
	for (uint32_t c = 0; c < cpu_count && how != STATS_RECORDS; c++) {
		const struct ept02_cache *e = &nvmx_state[c].ept02;

		if (e->fills || e->reflected || e->invepts)
			log_info("stats: cpu%u shadow EPT: %lu fills, %lu EPT exits reflected to L1, %lu INVEPTs, "
				 "%lu evictions, %lu pool flushes (%u pages)",
				 c, e->fills, e->reflected, e->invepts, e->evictions, e->pool_flushes, EPT02_POOL_PAGES);
	}
	if (how != STATS_RECORDS) {
		field_table(cpu_count == 1 ? 0 : STATS_ALL_CPUS,
			    how == STATS_TABLE_FULL ? VMCS_FIELD_COUNT : STATS_TOP_FIELDS);
		return;
	}
	for (uint32_t c = 0; c < cpu_count; c++) {
		const struct nvmx *n = &nvmx_state[c];

		for (size_t i = 0; i < VMCS_FIELD_COUNT; i++) {
			int s = vmcs12_slot(vmcs_field_table[i].encoding);

			if (n->vmread_exits[s] || n->vmwrite_exits[s])
				log_info("ustat v=%u rec=field cpu=%u enc=%#x name=%s vmread=%u vmwrite=%u",
					 STATS_FORMAT_VERSION, c, vmcs_field_table[i].encoding,
					 vmcs_field_table[i].name, n->vmread_exits[s], n->vmwrite_exits[s]);
		}
	}
}

void nvmx_init(void)
{
	for (size_t i = 0; i < MAX_CPUS; i++)
		nvmx_state[i].current = NVMX_NO_VMCS;
	/* vmcs02's MSR bitmaps: one page per vCPU, allocated once (none on the exit path). */
	for (uint32_t i = 0; i < cpu_count; i++) {
		nvmx_state[i].msr_bitmap02 = mem_alloc_pages(1);
		if (!nvmx_state[i].msr_bitmap02)
			panic("nested: no memory for vmcs02's MSR bitmaps");
		nvmx_state[i].vapic_scratch = mem_alloc_pages(1);
		if (!nvmx_state[i].vapic_scratch)
			panic("nested: no memory for the virtual-APIC scratch pages");
		memset((void *)nvmx_state[i].vapic_scratch, 0xff, PAGE_SIZE); /* as memory that is not there */
		if (!ept02_init(&nvmx_state[i].ept02))
			panic("nested: no memory for the shadow EPT pool (%u pages per vCPU)", EPT02_POOL_PAGES);
	}
	/* Entry 0: IA32_SYSENTER_CS with reserved bits 63:32 set, which no CPU loads. */
	nvmx_failing_msr_list = mem_alloc_pages(1);
	if (!nvmx_failing_msr_list)
		panic("nested: no memory for the failing MSR-load list");
	((uint32_t *)nvmx_failing_msr_list)[0] = FAILING_MSR_INDEX;
	((uint32_t *)nvmx_failing_msr_list)[1] = 1;
	nvmx_policy_init();
	nested_ops = &ops;
}
