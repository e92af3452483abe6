/* SPDX-License-Identifier: BSD-2-Clause */
/* Emulated VM entry to L2: check vmcs12 (SDM Vol. 3C 26.2), build vmcs02, run it. */
#include "arch/x86/cpu.h"
#include "arch/x86/guest_mem.h"
#include "arch/x86/vmx_controls.h"
#include "core/log.h"
#include "core/panic.h"
#include "core/string.h"
#include "nested/ept12.h"
#include "nested/nvmx.h"
#include "nested/vmcs02_policy.h"
#include "nested/vmx_msrs.h"

/* SDM Vol. 3C 29.1.1: VTPR, the byte of the virtual-APIC page that holds the task priority. */
#define VAPIC_TPR_OFFSET 0x80

static bool ctl_ok(uint32_t msr, uint32_t value)
{
	uint64_t cap = 0;

	vmx_msr_read(msr, &cap);
	return (value & (uint32_t)cap) == (uint32_t)cap && !(value & ~(uint32_t)(cap >> 32));
}

/*
 * A bitmap or list address: aligned, and neither it nor its last byte
 * beyond the physical-address width (SDM 26.2.1.1-26.2.1.3). That is all
 * the CPU checks: an address that is not L1's RAM is accepted, and reads
 * there give all ones, writes are dropped (guest_read_phys_or_ones()).
 */
static bool phys_range_ok(uint64_t addr, uint64_t len, uint64_t align)
{
	return IS_ALIGNED(addr, align) && !(addr >> vm.phys_addr_bits) && !((addr + len - 1) >> vm.phys_addr_bits);
}

/* An MSR list: 16-byte aligned, within the address width (SDM 26.2.1.2, 26.2.1.3). */
static bool msr_list_ok(const struct vmcs12 *c, uint32_t count_field, uint32_t addr_field)
{
	uint64_t count = vmcs12_read(c, count_field);

	return !count || phys_range_ok(vmcs12_read(c, addr_field), 16 * count, 16);
}

/* SDM Vol. 3C 26.2.1: VM-execution, VM-exit and VM-entry control fields. */
static bool check_controls(const struct vmcs12 *c)
{
	uint32_t pin = VMCS12_GET(c, PIN_BASED_VM_EXEC_CONTROL);
	uint32_t proc = VMCS12_GET(c, CPU_BASED_VM_EXEC_CONTROL);
	uint32_t proc2 = (proc & SECONDARY_CONTROLS) ? VMCS12_GET(c, SECONDARY_VM_EXEC_CONTROL) : 0;
	uint32_t exit = VMCS12_GET(c, VM_EXIT_CONTROLS), entry = VMCS12_GET(c, VM_ENTRY_CONTROLS);
	uint32_t info = VMCS12_GET(c, VM_ENTRY_INTR_INFO);
	uint64_t misc = 0, proc_cap = 0;

	vmx_msr_read(MSR_IA32_VMX_MISC, &misc);
	vmx_msr_read(MSR_IA32_VMX_TRUE_PROCBASED_CTLS, &proc_cap);
	if (!ctl_ok(MSR_IA32_VMX_TRUE_PINBASED_CTLS, pin) ||
	    !ctl_ok(MSR_IA32_VMX_TRUE_PROCBASED_CTLS, proc) ||
	    ((proc & SECONDARY_CONTROLS) && !ctl_ok(MSR_IA32_VMX_PROCBASED_CTLS2, proc2)) ||
	    !ctl_ok(MSR_IA32_VMX_TRUE_EXIT_CTLS, exit) || !ctl_ok(MSR_IA32_VMX_TRUE_ENTRY_CTLS, entry))
		return false;
	if (VMCS12_GET(c, CR3_TARGET_COUNT) > VMX_MISC_CR3_TARGETS(misc))
		return false;
	if ((proc & USE_IO_BITMAPS) && (!phys_range_ok(VMCS12_GET(c, IO_BITMAP_A), PAGE_SIZE, PAGE_SIZE) ||
					!phys_range_ok(VMCS12_GET(c, IO_BITMAP_B), PAGE_SIZE, PAGE_SIZE)))
		return false;
	if ((proc & USE_MSR_BITMAPS) && !phys_range_ok(VMCS12_GET(c, MSR_BITMAP), PAGE_SIZE, PAGE_SIZE))
		return false;
	/* 26.2.1.2: "save VMX-preemption timer value" needs the timer active. */
	if ((exit & SAVE_PREEMPTION_TIMER) && !(pin & PREEMPTION_TIMER))
		return false;
	/* 26.2.1.1: the EPTP L1 gives (memory type, walk length, A/D, reserved bits); unrestricted guest needs EPT. */
	if (proc2 & ENABLE_EPT) {
		struct ept12_caps caps;

		ept02_caps12(&caps);
		if (!ept12_eptp_valid(&caps, VMCS12_GET(c, EPT_POINTER)))
			return false;
	}
	if ((proc2 & UNRESTRICTED_GUEST) && !(proc2 & ENABLE_EPT))
		return false;
	/* 26.2.1.1: PML needs EPT, and its log page aligned and within the width. */
	if ((proc2 & ENABLE_PML) &&
	    (!(proc2 & ENABLE_EPT) || !phys_range_ok(VMCS12_GET(c, PML_ADDRESS), PAGE_SIZE, PAGE_SIZE)))
		return false;
	/*
	 * 26.2.1.1, "use TPR shadow": the virtual-APIC address aligned and
	 * within the width, TPR threshold bits 31:4 clear (no virtual-interrupt
	 * delivery is offered), and, without "virtualize APIC accesses", bits
	 * 3:0 not above VTPR[7:4]: VTPR as the CPU reads it.
	 */
	if (proc & USE_TPR_SHADOW) {
		uint64_t vapic = VMCS12_GET(c, VIRTUAL_APIC_PAGE_ADDR);
		uint32_t threshold = VMCS12_GET(c, TPR_THRESHOLD);
		uint8_t vtpr;

		if (!phys_range_ok(vapic, PAGE_SIZE, PAGE_SIZE) || (threshold >> 4))
			return false;
		guest_read_phys_or_ones(vapic + VAPIC_TPR_OFFSET, &vtpr, 1);
		if (!(proc2 & VIRTUALIZE_APIC_ACCESSES) && (threshold & 0xf) > (vtpr >> 4u))
			return false;
	}
	/*
	 * 26.2.1.1: with "virtualize APIC accesses", the APIC-access address is
	 * an aligned page within the width. vmcs02 takes it as it is: the CPU
	 * never reads or writes that page, it only compares L2's physical
	 * accesses with it after translation, and umbra's EPT for L1 is the
	 * identity, so L1's address is the host's (SDM 29.4).
	 */
	if ((proc2 & VIRTUALIZE_APIC_ACCESSES) && !phys_range_ok(VMCS12_GET(c, APIC_ACCESS_ADDR), PAGE_SIZE, PAGE_SIZE))
		return false;
	/*
	 * 26.2.1.1: "virtualize x2APIC mode" needs the TPR shadow and excludes
	 * "virtualize APIC accesses". vmcs02 takes it as it is: the CPU then
	 * keeps L2's RDMSR/WRMSR of the x2APIC TPR (808H) on the virtual-APIC
	 * page, and every other x2APIC MSR goes where the merged MSR bitmap
	 * sends it, as without the control (SDM 29.5).
	 */
	if ((proc2 & VIRTUALIZE_X2APIC) && (!(proc & USE_TPR_SHADOW) || (proc2 & VIRTUALIZE_APIC_ACCESSES)))
		return false;
	/* 26.2.1.1: with VMCS shadowing, both bitmaps are aligned pages within the address width. */
	if ((proc2 & VMCS_SHADOWING) && (!phys_range_ok(VMCS12_GET(c, VMREAD_BITMAP), PAGE_SIZE, PAGE_SIZE) ||
					 !phys_range_ok(VMCS12_GET(c, VMWRITE_BITMAP), PAGE_SIZE, PAGE_SIZE)))
		return false;
	/* 26.2.1.1: with "enable VPID", the VPID is not 0. */
	if ((proc2 & ENABLE_VPID) && !VMCS12_GET(c, VIRTUAL_PROCESSOR_ID))
		return false;
	/* Virtual NMIs need NMI exiting; NMI-window exiting needs virtual NMIs. */
	if (((pin & VIRTUAL_NMIS) && !(pin & NMI_EXITING)) ||
	    ((proc & NMI_WINDOW_EXITING) && !(pin & VIRTUAL_NMIS)))
		return false;
	if (!msr_list_ok(c, VM_EXIT_MSR_STORE_COUNT, VM_EXIT_MSR_STORE_ADDR) ||
	    !msr_list_ok(c, VM_EXIT_MSR_LOAD_COUNT, VM_EXIT_MSR_LOAD_ADDR) ||
	    !msr_list_ok(c, VM_ENTRY_MSR_LOAD_COUNT, VM_ENTRY_MSR_LOAD_ADDR))
		return false;
	/* Event injection (SDM 26.2.1.3): type, vector, error code, length. */
	if (info & BIT(31)) {
		uint32_t type = (info >> 8) & 7, vector = info & 0xff;
		bool has_err = info & BIT(11);
		bool needs_err = type == 3 && (VMCS12_GET(c, GUEST_CR0) & CR0_PE) &&
				 (vector == 8 || (vector >= 10 && vector <= 14) || vector == 17);

		/* Type 7 (other event: a pending MTF exit) needs "monitor trap flag" advertised, vector 0. */
		bool other_ok = vector == 0 && ((proc_cap >> 32) & MONITOR_TRAP_FLAG);

		if (type == 1 || (type == 2 && vector != 2) || (type == 3 && vector > 31) ||
		    (type == 7 && !other_ok) || has_err != needs_err || (info & 0x7ffff000))
			return false;
		/* With an error code, bits 31:16 of the VM-entry exception error code are 0. */
		if (has_err && (VMCS12_GET(c, VM_ENTRY_EXCEPTION_ERROR_CODE) & 0xffff0000u))
			return false;
		if ((type == 4 || type == 5 || type == 6) &&
		    (VMCS12_GET(c, VM_ENTRY_INSTRUCTION_LEN) == 0 || VMCS12_GET(c, VM_ENTRY_INSTRUCTION_LEN) > 15))
			return false;
	}
	return true;
}

/* SDM Vol. 3C 26.2.2-26.2.3: host-state area, against L1's current mode. */
static bool check_host_state(const struct vmcs12 *c)
{
	uint64_t cr0 = VMCS12_GET(c, HOST_CR0), cr4 = VMCS12_GET(c, HOST_CR4);
	uint32_t exit = VMCS12_GET(c, VM_EXIT_CONTROLS);
	bool host64 = exit & HOST_ADDR_SPACE_SIZE;
	bool l1_long = vmcs_read64(GUEST_IA32_EFER) & EFER_LMA;
	static const uint32_t sels[] = { HOST_ES_SELECTOR, HOST_CS_SELECTOR, HOST_SS_SELECTOR,
					 HOST_DS_SELECTOR, HOST_FS_SELECTOR, HOST_GS_SELECTOR,
					 HOST_TR_SELECTOR };

	if ((cr0 & vm.caps.cr0_fixed0) != vm.caps.cr0_fixed0 || (cr0 & ~vm.caps.cr0_fixed1) ||
	    (cr4 & vm.caps.cr4_fixed0) != vm.caps.cr4_fixed0 || (cr4 & ~vm.caps.cr4_fixed1))
		return false;
	if (VMCS12_GET(c, HOST_CR3) >> vm.phys_addr_bits)
		return false;
	if (!is_canonical(VMCS12_GET(c, HOST_IA32_SYSENTER_ESP)) || !is_canonical(VMCS12_GET(c, HOST_IA32_SYSENTER_EIP)))
		return false;
	if (exit & LOAD_PAT) {
		uint64_t pat = VMCS12_GET(c, HOST_IA32_PAT);

		for (int i = 0; i < 8; i++) {
			uint8_t t = (pat >> (8 * i)) & 0xff;

			if (t != 0 && t != 1 && t != 4 && t != 5 && t != 6 && t != 7)
				return false;
		}
	}
	if (exit & LOAD_EFER) {
		uint64_t efer = VMCS12_GET(c, HOST_IA32_EFER);

		if ((efer & ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE)) ||
		    !!(efer & EFER_LMA) != host64 || !!(efer & EFER_LME) != host64)
			return false;
	}
	for (size_t i = 0; i < ARRAY_SIZE(sels); i++)
		if (VMCS12_GET(c, sels[i]) & 7)
			return false; /* RPL and TI must be 0 */
	if (!VMCS12_GET(c, HOST_CS_SELECTOR) || !VMCS12_GET(c, HOST_TR_SELECTOR) ||
	    (!host64 && !VMCS12_GET(c, HOST_SS_SELECTOR)))
		return false;
	/* 26.2.3: the host address-space size follows the mode L1 is in. */
	if (host64 != l1_long)
		return false;
	/* 26.2.3: on a CPU with Intel 64, these bases are canonical whatever the host's size. */
	if (!is_canonical(VMCS12_GET(c, HOST_FS_BASE)) || !is_canonical(VMCS12_GET(c, HOST_GS_BASE)) ||
	    !is_canonical(VMCS12_GET(c, HOST_TR_BASE)) || !is_canonical(VMCS12_GET(c, HOST_GDTR_BASE)) ||
	    !is_canonical(VMCS12_GET(c, HOST_IDTR_BASE)))
		return false;
	if (host64) {
		if (!(cr4 & CR4_PAE) || !is_canonical(VMCS12_GET(c, HOST_RIP)))
			return false;
	} else if ((VMCS12_GET(c, VM_ENTRY_CONTROLS) & IA32E_MODE_GUEST) || (cr4 & CR4_PCIDE) ||
		   (VMCS12_GET(c, HOST_RIP) >> 32)) {
		return false;
	}
	return true;
}

/* L1's own state that vmcs02's derived fields take when vmcs12 does not give them. */
struct l1_derive_inputs {
	uint64_t efer, pat, dr7, debugctl;
};

static struct l1_derive_inputs read_l1_derive_inputs(void)
{
	/* vmcs01 is current: L1's state as of its VMLAUNCH/VMRESUME. */
	return (struct l1_derive_inputs){ vmcs_read64(GUEST_IA32_EFER), vmcs_read64(GUEST_IA32_PAT),
					  vmcs_readnat(GUEST_DR7), vmcs_read64(GUEST_IA32_DEBUGCTL) };
}

/*
 * L2 state vmcs02 derives from vmcs12 and L1's own state (SDM 26.3.2.1):
 * EFER, PAT and the debug controls per the VM-entry controls, and the CR0/CR4
 * read shadows L2 sees. Its inputs are the NP_DERIVE fields and *l1, and it
 * runs at every entry: vmcs02 saves L2's own values of the first four at
 * exit, which the next entry replaces (SDM 26.3.2.1).
 */
static void write_derived(struct nvmx *n, const struct l1_derive_inputs *l1)
{
	const struct vmcs12 *c = &n->vmcs12;
	uint32_t entry12 = VMCS12_GET(c, VM_ENTRY_CONTROLS);
	uint64_t cr0_mask12 = VMCS12_GET(c, CR0_GUEST_HOST_MASK), cr4_mask12 = VMCS12_GET(c, CR4_GUEST_HOST_MASK);
	uint64_t efer;

	if (entry12 & ENTRY_LOAD_EFER) {
		efer = VMCS12_GET(c, GUEST_IA32_EFER);
	} else {
		efer = l1->efer & ~(EFER_LMA | EFER_LME);
		if (entry12 & IA32E_MODE_GUEST)
			efer |= EFER_LMA | EFER_LME;
	}
	vmcs_write64(GUEST_IA32_EFER, efer);
	vmcs_write64(GUEST_IA32_PAT, (entry12 & ENTRY_LOAD_PAT) ? VMCS12_GET(c, GUEST_IA32_PAT) : l1->pat);
	if (entry12 & LOAD_DEBUG_CONTROLS) {
		vmcs_writenat(GUEST_DR7, VMCS12_GET(c, GUEST_DR7));
		vmcs_write64(GUEST_IA32_DEBUGCTL, VMCS12_GET(c, GUEST_IA32_DEBUGCTL));
	} else {
		vmcs_writenat(GUEST_DR7, l1->dr7);
		vmcs_write64(GUEST_IA32_DEBUGCTL, l1->debugctl);
	}
	/*
	 * Each entry from L1 starts the VMX-preemption timer at vmcs12's value
	 * (SDM 26.7.4); vmcs02 always saves what is left at exit (build_vmcs02),
	 * so exits umbra handles itself do not restart it.
	 */
	if (VMCS12_GET(c, PIN_BASED_VM_EXEC_CONTROL) & PREEMPTION_TIMER)
		vmcs_write32(VMX_PREEMPTION_TIMER_VALUE, n->timer_left = (uint32_t)VMCS12_GET(c, VMX_PREEMPTION_TIMER_VALUE));
	/* L2 reads L1's shadow for L1's bits, its own value for the rest. */
	vmcs_writenat(CR0_READ_SHADOW, (VMCS12_GET(c, CR0_READ_SHADOW) & cr0_mask12) |
					       (VMCS12_GET(c, GUEST_CR0) & ~cr0_mask12));
	vmcs_writenat(CR4_READ_SHADOW, (VMCS12_GET(c, CR4_READ_SHADOW) & cr4_mask12) |
					       (VMCS12_GET(c, GUEST_CR4) & ~cr4_mask12));
}

/*
 * With EPT on, PAE paging takes its PDPTEs from the VMCS: load them from
 * L2's CR3 as L1's CPU would, at every entry (SDM 26.3.2.4: memory may
 * have changed without any VMCS field changing).
 */
static void load_pdptes(struct vcpu *v, struct nvmx *n)
{
	const struct vmcs12 *c = &n->vmcs12;
	uint64_t pdpte[4];
	uint32_t proc = VMCS12_GET(c, CPU_BASED_VM_EXEC_CONTROL);

	/* With EPT in vmcs12 as well, the PDPTEs are vmcs12's fields, copied as they are (26.3.2.4). */
	if ((proc & SECONDARY_CONTROLS) && (VMCS12_GET(c, SECONDARY_VM_EXEC_CONTROL) & ENABLE_EPT))
		return;
	if (!(VMCS12_GET(c, GUEST_CR0) & CR0_PG) || !(VMCS12_GET(c, GUEST_CR4) & CR4_PAE) ||
	    (VMCS12_GET(c, VM_ENTRY_CONTROLS) & IA32E_MODE_GUEST))
		return;
	/*
	 * These values are not L1's: vmcs12 takes the PDPTE fields from vmcs02
	 * before they are overwritten, so that a failed entry (26.8) leaves
	 * L1 with its own.
	 */
	nvmx_sync12(v, n);
	guest_read_phys_or_ones(VMCS12_GET(c, GUEST_CR3) & ~0x1fULL, pdpte, sizeof(pdpte));
	vmcs_write64(GUEST_PDPTE0, pdpte[0]);
	vmcs_write64(GUEST_PDPTE1, pdpte[1]);
	vmcs_write64(GUEST_PDPTE2, pdpte[2]);
	vmcs_write64(GUEST_PDPTE3, pdpte[3]);
}

/*
 * VMRESUME of the vmcs12 vmcs02 already holds: write what L1 changed.
 * Returns false, with nothing written, when a changed field is one umbra
 * merges with its own (NP_MERGE): then vmcs02 is rebuilt.
 */
static bool update_vmcs02(struct vcpu *v, struct nvmx *n)
{
	const struct vmcs12 *c = &n->vmcs12;
	struct l1_derive_inputs l1 = read_l1_derive_inputs();

	if (nvmx_slots_meet(n->dirty, &nvmx_merge_set))
		return false;
	vcpu_vmcs_load(v, v->vmcs02.pa);
	/* vmcs12 slot i is vmcs_field_table[i]: both follow the one field list. */
	for (size_t w = 0; w < ARRAY_SIZE(n->dirty); w++) {
		for (uint64_t bits = n->dirty[w]; bits; bits &= bits - 1) {
			size_t slot = w * 64 + (size_t)__builtin_ctzll(bits);

			if (nvmx_policy[slot] & NP_COPY)
				vmcs_write(vmcs_field_table[slot].encoding, c->fields[slot]);
		}
	}
	/*
	 * Every entry: vmcs02 saved L2's own EFER, PAT and debug controls at
	 * the last exit, and an entry loads vmcs12's or L1's (26.3.2.1).
	 */
	write_derived(n, &l1);
	load_pdptes(v, n);
	return true;
}

/*
 * The page the CPU reads for an L1 bitmap: L1's own when it is L1's RAM;
 * otherwise, as memory that is not there reads, a page of all ones (every
 * access exits), never umbra's memory or a device (docs/design.md).
 */
static uint64_t l1_bitmap_page(uint64_t gpa)
{
	return guest_range_ok(gpa, PAGE_SIZE) ? gpa : vm.ones_page;
}

/*
 * L2 with "enable VPID": vmcs02 runs with this vCPU's NVMX_VPID02, which
 * holds the translations of one of L1's VPIDs at a time. When it starts
 * serving another, its old translations go (SDM 28.3.3.3: a VPID's cached
 * translations are what that VPID's software may see). Without "enable
 * VPID" vmcs02 has none either, and the CPU flushes VPID 0 at every entry
 * and exit as it would for L1's L2 (28.3.3.1). L1's own VPID (vmcs01's) is
 * never touched: L1 keeps its translations across L2 round trips.
 */
static void map_vpid(struct vcpu *v, struct nvmx *n, uint16_t vpid12)
{
	vmcs_write16(VIRTUAL_PROCESSOR_ID, NVMX_VPID02(v));
	if (n->vpid02_owner != vpid12) {
		nvmx_flush_vpid02(v);
		n->vpid02_owner = vpid12;
	}
}

/* vmcs02 = L1's wishes for L2 + what umbra needs (EPT over L1's memory, NMIs, its host state). */
static void build_vmcs02(struct vcpu *v, struct nvmx *n)
{
	const struct vmcs12 *c = &n->vmcs12;
	uint32_t proc = VMCS12_GET(c, CPU_BASED_VM_EXEC_CONTROL);
	uint32_t proc2 = (proc & SECONDARY_CONTROLS) ? VMCS12_GET(c, SECONDARY_VM_EXEC_CONTROL) : 0;
	uint32_t entry12 = VMCS12_GET(c, VM_ENTRY_CONTROLS), exit12 = VMCS12_GET(c, VM_EXIT_CONTROLS);
	uint64_t cr0_mask12 = VMCS12_GET(c, CR0_GUEST_HOST_MASK), cr4_mask12 = VMCS12_GET(c, CR4_GUEST_HOST_MASK);
	struct l1_derive_inputs l1 = read_l1_derive_inputs();

	vcpu_vmcs_load(v, v->vmcs02.pa);

	/* L2's guest state as L1 wrote it, and the controls that go across as they are (checked). */
	for (size_t i = 0; i < nvmx_copy_field_count; i++)
		vmcs_write(nvmx_copy_fields[i].encoding, c->fields[nvmx_copy_fields[i].slot]);
	vmcs_write64(VMCS_LINK_POINTER, ~0ULL);
	write_derived(n, &l1);
	load_pdptes(v, n);

	/* Controls. */
	vmcs_write32(PIN_BASED_VM_EXEC_CONTROL, VMCS12_GET(c, PIN_BASED_VM_EXEC_CONTROL) | vm.ctl.pin);
	if (!(proc & (USE_IO_BITMAPS | UNCOND_IO_EXITING))) {
		/* L1 lets L2 do I/O: umbra's bitmaps keep the emulator exit ports umbra's. */
		proc |= USE_IO_BITMAPS;
		vmcs_write64(IO_BITMAP_A, vm.io_bitmap_a);
		vmcs_write64(IO_BITMAP_B, vm.io_bitmap_b);
	} else if (proc & USE_IO_BITMAPS) {
		/* L1's RAM is host memory (identity EPT): the CPU reads L1's bitmaps itself. */
		vmcs_write64(IO_BITMAP_A, l1_bitmap_page(VMCS12_GET(c, IO_BITMAP_A)));
		vmcs_write64(IO_BITMAP_B, l1_bitmap_page(VMCS12_GET(c, IO_BITMAP_B)));
	}
	/*
	 * L1's virtual-APIC page, where the CPU keeps L2's TPR: L1's RAM as it
	 * is; anywhere else this vCPU's own page, so that L2's CR8 writes never
	 * reach umbra's memory or a device (they stay in that page, L1 cannot
	 * see them: docs/nested-vmx.md).
	 */
	if (proc & USE_TPR_SHADOW) {
		uint64_t vapic = VMCS12_GET(c, VIRTUAL_APIC_PAGE_ADDR);

		vmcs_write64(VIRTUAL_APIC_PAGE_ADDR, guest_range_ok(vapic, PAGE_SIZE) ? vapic : n->vapic_scratch);
	}
	/* L1's bitmap merged with umbra's (nvmx_enter_l2); without it every MSR access exits. */
	if (proc & USE_MSR_BITMAPS)
		vmcs_write64(MSR_BITMAP, nvmx_of(v)->msr_bitmap02);
	vmcs_write32(CPU_BASED_VM_EXEC_CONTROL, proc | SECONDARY_CONTROLS);
	/*
	 * L2 runs on umbra's EPT for L1 (L2's guest-physical is L1's), or, when
	 * L1 gives it an EPT of its own, on the shadow EPT that composes the two
	 * (nested/ept02.c).
	 */
	/*
	 * L1's PML is umbra's to do at shadow-EPT fills (nested/ept02.c): the CPU
	 * must not log into vmcs02's. L1's VMCS shadowing is umbra's too
	 * (nested/insn.c performs L2's VMREAD/VMWRITE on L1's shadow VMCS).
	 */
	vmcs_write32(SECONDARY_VM_EXEC_CONTROL, (proc2 & ~(ENABLE_PML | VMCS_SHADOWING)) | ENABLE_EPT);
	vmcs_write64(EPT_POINTER, (proc2 & ENABLE_EPT) ? ept02_eptp(&n->ept02, VMCS12_GET(c, EPT_POINTER)) : vm.eptp);
	if (proc2 & ENABLE_VPID)
		map_vpid(v, n, (uint16_t)VMCS12_GET(c, VIRTUAL_PROCESSOR_ID));
	/*
	 * vm.ctl saves and loads the debug controls: L2 starts with the DR7 and
	 * IA32_DEBUGCTL write_derived() chose (vmcs12's with "load debug
	 * controls", else L1's, SDM 26.3.2.1), and umbra always has L2's on exit.
	 */
	vmcs_write32(VM_EXIT_CONTROLS, vm.ctl.exit | (exit12 & ACK_INTR_ON_EXIT) |
					       ((VMCS12_GET(c, PIN_BASED_VM_EXEC_CONTROL) & PREEMPTION_TIMER) ?
							SAVE_PREEMPTION_TIMER : 0));
	vmcs_write32(VM_ENTRY_CONTROLS, (vm.ctl.entry & ~IA32E_MODE_GUEST) | (entry12 & IA32E_MODE_GUEST));
	/* Bits either L1 or umbra owns exit (the read shadows are in write_derived()). */
	vmcs_writenat(CR0_GUEST_HOST_MASK, cr0_mask12 | vm.cr0_mask);
	vmcs_writenat(CR4_GUEST_HOST_MASK, cr4_mask12 | vm.cr4_mask);
	vmcs_write64(TSC_OFFSET, (proc & USE_TSC_OFFSETTING) ? VMCS12_GET(c, TSC_OFFSET) : 0);
	/*
	 * L1's MSR lists are walked by umbra (nested/msr_lists.c), never by the
	 * CPU; nvmx_enter_l2() may give vmcs02 a one-entry list of its own.
	 */
	vmcs_write32(VM_ENTRY_MSR_LOAD_COUNT, 0);
	vmcs_write32(VM_EXIT_MSR_STORE_COUNT, 0);
	vmcs_write32(VM_EXIT_MSR_LOAD_COUNT, 0);
	vcpu_write_host_state();
}

/* SDM Vol. 3C 26.8: exit qualification of a failed entry for a bad VMCS link pointer. */
#define ENTRY_QUAL_LINK_POINTER 4

/*
 * SDM Vol. 3C 26.3.1.5: a VMCS link pointer other than all ones is 4 KiB
 * aligned, within the physical-address width, not the current VMCS, and
 * names memory whose first 4 bytes hold the VMCS revision identifier in
 * bits 30:0 and the "VMCS shadowing" control in bit 31 (the shadow-VMCS
 * indicator: L2's VMREAD and VMWRITE reach that VMCS). Memory that is not
 * L1's fails the check.
 */
static bool link_pointer_ok(const struct nvmx *n, uint64_t link)
{
	const struct vmcs12 *c = &n->vmcs12;
	uint32_t proc = VMCS12_GET(c, CPU_BASED_VM_EXEC_CONTROL), rev;
	bool shadowing = (proc & SECONDARY_CONTROLS) && (VMCS12_GET(c, SECONDARY_VM_EXEC_CONTROL) & VMCS_SHADOWING);

	if (link == ~0ULL)
		return true;
	if (!IS_ALIGNED(link, PAGE_SIZE) || (link >> vm.phys_addr_bits) || link == n->current)
		return false;
	return guest_read_phys(link, &rev, sizeof(rev)) &&
	       rev == (NVMX_VMCS_REVISION | (shadowing ? NVMX_SHADOW_VMCS_INDICATOR : 0));
}

/* SDM Vol. 3C 24.4.2: activity states; 1-3 need IA32_VMX_MISC bits 6-8 (A.6). */
#define ACTIVITY_ACTIVE 0
#define ACTIVITY_HLT 1
#define ACTIVITY_SHUTDOWN 2
#define ACTIVITY_WAIT_SIPI 3

static bool activity_state_ok(uint64_t state)
{
	uint64_t misc = 0;

	vmx_msr_read(MSR_IA32_VMX_MISC, &misc);
	switch (state) {
	case ACTIVITY_ACTIVE: return true;
	case ACTIVITY_HLT: return misc & VMX_MISC_ACTIVITY_HLT;
	case ACTIVITY_SHUTDOWN: return misc & VMX_MISC_ACTIVITY_SHUTDOWN;
	case ACTIVITY_WAIT_SIPI: return misc & VMX_MISC_ACTIVITY_WAIT_SIPI;
	default: return false;
	}
}

/* SDM Vol. 3C 24.4.2, Table 24-3. */
#define INTERRUPTIBILITY_STI BIT(0)
#define INTERRUPTIBILITY_MOV_SS BIT(1)

/*
 * SDM Vol. 3C 26.3.1.5: with blocking by STI or by MOV SS, or in the HLT
 * activity state, the BS bit of the pending debug exceptions is 1 exactly
 * when RFLAGS.TF is 1 and IA32_DEBUGCTL.BTF is 0. Bochs does not check it
 * (docs/bochs.md), so umbra does, on the fields as vmcs12 holds them (its
 * NP_ENTRY fields: read at every entry).
 */
static bool pending_dbg_ok(const struct vmcs12 *c)
{
	bool step = (VMCS12_GET(c, GUEST_RFLAGS) & RFLAGS_TF) && !(VMCS12_GET(c, GUEST_IA32_DEBUGCTL) & DEBUGCTL_BTF);

	if (!(VMCS12_GET(c, GUEST_INTERRUPTIBILITY_INFO) & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS)) &&
	    VMCS12_GET(c, GUEST_ACTIVITY_STATE) != ACTIVITY_HLT)
		return true;
	return !!(VMCS12_GET(c, GUEST_PENDING_DBG_EXCEPTIONS) & PENDING_DBG_BS) == step;
}

/* A VMfailValid for L1's VMLAUNCH/VMRESUME: L1 goes on with umbra's own shadow. */
static enum exit_action entry_fail(struct vcpu *v, struct nvmx *n, uint32_t err)
{
	nvmx_l1_view_own(v, n);
	nvmx_fail(v, err);
	return EXIT_SKIP_INSN;
}

enum exit_action nvmx_enter_l2(struct vcpu *v, bool launch)
{
	struct nvmx *n = nvmx_of(v);
	bool l1_long = vmcs_read64(GUEST_IA32_EFER) & EFER_LMA;

	/*
	 * L1's VMWRITEs that did not exit: in umbra's own shadow, or in vmcs02
	 * itself when it was L1's shadow (which it stops being here: vmcs01's
	 * link pointer is stale until L1 runs again, entry_fail() and
	 * nvmx_entry_failure() link umbra's own shadow before it does).
	 */
	shadow_to_vmcs12(v, n);
	if (n->vmcs02_is_shadow) {
		shadow_vmcs02_leave(v, n);
		vcpu_vmcs_load(v, v->vmcs01.pa);
	}
	/* One vmcs02 per vCPU: a fresh launch whenever it serves another vmcs12. */
	if (n->vmcs02_for != n->current) {
		vcpu_vmcs_clear(v, v->vmcs02.pa);
		n->vmcs02_for = n->current;
		n->vmcs02_stale = true;
	}
	/*
	 * The checks' inputs: the NP_CHECK fields and the mode L1 is in. When
	 * none changed since the checks last passed for this vmcs02, they pass.
	 */
	if (n->vmcs02_stale || l1_long != n->checked_l1_long || nvmx_slots_meet(n->dirty, &nvmx_check_set)) {
		if (!check_controls(&n->vmcs12))
			return entry_fail(v, n, VMXERR_ENTRY_INVALID_CONTROL_FIELD);
		if (!check_host_state(&n->vmcs12))
			return entry_fail(v, n, VMXERR_ENTRY_INVALID_HOST_STATE_FIELD);
		n->checked_l1_long = l1_long;
	}
	/*
	 * Guest-state checks the CPU cannot make on vmcs02 because umbra writes
	 * those fields itself: the VMCS link pointer (link_pointer_ok()). A
	 * failure is a failed VM entry with reason 33 and qualification 4
	 * (SDM Vol. 3C 26.3.1.5, 26.8).
	 */
	if (!link_pointer_ok(n, VMCS12_GET(&n->vmcs12, VMCS_LINK_POINTER))) {
		nvmx_entry_failure(v, n, EXIT_REASON_INVALID_GUEST_STATE, ENTRY_QUAL_LINK_POINTER);
		return EXIT_RESUME;
	}
	/*
	 * SDM 26.3.1.5: an activity state IA32_VMX_MISC does not advertise is
	 * an invalid guest state. The CPU would accept the states it has
	 * itself (wait-for-SIPI, shutdown): umbra checks against its own.
	 */
	if (!activity_state_ok(VMCS12_GET(&n->vmcs12, GUEST_ACTIVITY_STATE)) || !pending_dbg_ok(&n->vmcs12)) {
		nvmx_entry_failure(v, n, EXIT_REASON_INVALID_GUEST_STATE, 0);
		return EXIT_RESUME;
	}
	/*
	 * L1's VM-entry MSR-load list makes vmcs02 take a failing entry first
	 * (below), which overwrites its exit information: vmcs12 takes it now.
	 */
	if (VMCS12_GET(&n->vmcs12, VM_ENTRY_MSR_LOAD_COUNT))
		nvmx_sync12(v, n);
	if (n->vmcs02_stale || !update_vmcs02(v, n)) {
		nvmx_sync12(v, n); /* every field from vmcs12: it must hold them all */
		build_vmcs02(v, n);
	}
	memset(n->dirty, 0, sizeof(n->dirty));
	n->vmcs02_stale = false;
	if (VMCS12_GET(&n->vmcs12, CPU_BASED_VM_EXEC_CONTROL) & USE_MSR_BITMAPS)
		nvmx_merge_msr_bitmap(n, VMCS12_GET(&n->vmcs12, MSR_BITMAP));
	/*
	 * SDM 26.4 comes after 26.3: L1's VM-entry MSR-load list is loaded
	 * (into vmcs02's guest area or the CPU) only once the CPU has checked
	 * L2's guest state, which the list's values must not hide. A non-empty
	 * list first gives vmcs02 a one-entry list that always fails: exit
	 * reason 33 then means the guest state failed; 34 that it passed, and
	 * nvmx_l2_exit() loads L1's list and enters L2 again.
	 */
	n->msr_list_probe = VMCS12_GET(&n->vmcs12, VM_ENTRY_MSR_LOAD_COUNT) != 0;
	vmcs_write64(VM_ENTRY_MSR_LOAD_ADDR, n->msr_list_probe ? nvmx_failing_msr_list : 0);
	vmcs_write32(VM_ENTRY_MSR_LOAD_COUNT, n->msr_list_probe ? 1 : 0);
	n->pending_launch = launch;
	v->in_l2 = true;
	/*
	 * vmcs12 stays as fresh as it is until L2 has run: the first exit that
	 * is not a failed entry makes it stale (nvmx_l2_exit()). A failed entry
	 * saves no guest state (26.8), and vmcs02 still holds L1's values then:
	 * what umbra wrote there itself (PDPTEs, the MSR-load list) was synced
	 * into vmcs12 first.
	 */
	/* L1's RIP stays on VMLAUNCH: L1 continues at HOST_RIP after L2's exit. */
	return EXIT_RESUME;
}
