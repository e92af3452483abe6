/* SPDX-License-Identifier: BSD-2-Clause */
/* L1's MSR lists of VMX transitions, emulated, and its MSR bitmap for L2 (SDM Vol. 3C 24.6.9, 24.7.2, 26.4, 27.4, 27.6). */
#include "arch/x86/cpu.h"
#include "arch/x86/guest_mem.h"
#include "arch/x86/vmx_caps.h"
#include "arch/x86/vmx_controls.h"
#include "core/string.h"
#include "nested/msr_bitmap.h"
#include "nested/nvmx.h"
#include "nested/vmx_msrs.h"

/*
 * None of L1's lists reaches the real CPU's list fields (vmcs02 has all
 * three counts 0): the CPU would walk them without umbra's checks, and a
 * bad entry in the VM-exit MSR-store list is a real VMX abort of the
 * physical CPU. umbra walks them itself, in the order the CPU would.
 */

#define MSR_IA32_SMM_MONITOR_CTL 0x9b /* written only in SMM (SDM 26.4) */
#define MSR_IA32_SMBASE 0x9e          /* read only in SMM (SDM 27.4) */
#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_IA32_DEBUGCTL 0x1d9
/* SDM 26.4, 27.4, 27.6: bits 31:8 = 000008H, the x2APIC MSRs, are never in a list. */
#define MSR_IS_X2APIC(msr) (((msr) >> 8) == (MSR_X2APIC_BASE >> 8))

/* SDM Vol. 3C Table 24-12: one entry of an MSR list. */
struct msr_entry {
	uint32_t index;
	uint32_t reserved; /* bits 63:32: must be 0 */
	uint64_t value;
} __packed;

_Static_assert(sizeof(struct msr_entry) == 16, "an MSR-list entry is 16 bytes");

uint32_t nvmx_msr_list_max(void)
{
	uint64_t misc = 0;

	vmx_msr_read(MSR_IA32_VMX_MISC, &misc);
	return VMX_MISC_MAX_MSR_LIST(misc);
}

/* L1's own RDMSR/WRMSR of msr exits to umbra (vcpu.c's MSR bitmap). */
static bool umbra_owns(uint32_t msr, bool write)
{
	return msr_bitmap_exits((const void *)vm.msr_bitmap, msr, write);
}

bool nvmx_l1_wants_msr_exit(const struct vmcs12 *c, uint32_t msr, bool write)
{
	int byte = msr_bitmap_byte(msr, write);
	uint8_t bits;

	if (!(VMCS12_GET(c, CPU_BASED_VM_EXEC_CONTROL) & USE_MSR_BITMAPS) || byte < 0)
		return true;
	/* The bit as L1's memory holds it now, as the CPU would read it at the RDMSR/WRMSR. */
	guest_read_phys_or_ones(VMCS12_GET(c, MSR_BITMAP) + (uint64_t)byte, &bits, 1);
	return (bits >> (msr & 7)) & 1;
}

/*
 * vmcs02's bitmap makes an access exit when L1's or umbra's does. L1 may
 * change its bitmap at any time: the merge runs at every VMLAUNCH and
 * VMRESUME with "use MSR bitmaps" (one 4 KiB copy and OR), so vmcs02 is
 * never older than L1's last entry; a bit L1 changes while L2 runs (from
 * another vCPU) counts from L1's next entry. umbra's bits are always set:
 * L1's page is never vmcs02's.
 */
/*
 * The words of umbra's MSR bitmap with a bit set: a handful (the VMX
 * capability MSRs, IA32_FEATURE_CONTROL, IA32_APIC_BASE, the x2APIC ICR),
 * so the merge ORs those and copies the rest of L1's page as it is.
 */
static uint16_t umbra_words[MSR_BITMAP_WORDS];
static size_t umbra_word_count;

void nvmx_msr_bitmap_init(void)
{
	umbra_word_count = msr_bitmap_nonzero_words((const uint64_t *)vm.msr_bitmap, umbra_words);
}

void nvmx_merge_msr_bitmap(struct nvmx *n, uint64_t l1_bitmap)
{
	uint64_t *merged = (uint64_t *)n->msr_bitmap02;

	guest_read_phys_or_ones(l1_bitmap, merged, PAGE_SIZE); /* not L1's RAM: everything exits */
	msr_bitmap_merge(merged, (const uint64_t *)vm.msr_bitmap, umbra_words, umbra_word_count);
}

/*
 * RDMSR at CPL 0 in the context of the current VMCS's guest (L2 with
 * vmcs02 current): MSRs the VMCS switches are in its guest area; those
 * umbra owns read as L1 would read them (virtual IA32_VMX_*); the rest are
 * the CPU's, which umbra does not switch.
 */
static bool msr_get(uint32_t msr, uint64_t *val)
{
	switch (msr) {
	case MSR_EFER: *val = vmcs_read64(GUEST_IA32_EFER); return true;
	case MSR_IA32_PAT: *val = vmcs_read64(GUEST_IA32_PAT); return true;
	case MSR_IA32_DEBUGCTL: *val = vmcs_read64(GUEST_IA32_DEBUGCTL); return true;
	case MSR_IA32_SYSENTER_CS: *val = vmcs_read32(GUEST_SYSENTER_CS); return true;
	case MSR_IA32_SYSENTER_ESP: *val = vmcs_readnat(GUEST_SYSENTER_ESP); return true;
	case MSR_IA32_SYSENTER_EIP: *val = vmcs_readnat(GUEST_SYSENTER_EIP); return true;
	case MSR_FS_BASE: *val = vmcs_readnat(GUEST_FS_BASE); return true;
	case MSR_GS_BASE: *val = vmcs_readnat(GUEST_GS_BASE); return true;
	default: break;
	}
	if (umbra_owns(msr, false))
		return vmx_msr_read(msr, val);
	return rdmsr_checked(msr, val);
}

static bool pat_ok(uint64_t pat)
{
	for (int i = 0; i < 8; i++) {
		uint8_t t = (pat >> (8 * i)) & 0xff;

		if (t != 0 && t != 1 && t != 4 && t != 5 && t != 6 && t != 7)
			return false;
	}
	return true;
}

/*
 * WRMSR at CPL 0 for the current VMCS's guest: a false return is the #GP
 * that makes the entry fail (SDM 26.4, 27.6). MSRs umbra owns for writes
 * (INIT/SIPI through the ICR, read-only VMX MSRs) are never written from a
 * list: an L1 WRMSR to them is #GP or emulated, never the CPU's.
 */
static bool msr_set(uint32_t msr, uint64_t val)
{
	switch (msr) {
	case MSR_EFER:
		if (val & ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE))
			return false;
		vmcs_write64(GUEST_IA32_EFER, val);
		return true;
	case MSR_IA32_PAT:
		if (!pat_ok(val))
			return false;
		vmcs_write64(GUEST_IA32_PAT, val);
		return true;
	case MSR_IA32_DEBUGCTL: vmcs_write64(GUEST_IA32_DEBUGCTL, val); return true;
	case MSR_IA32_SYSENTER_CS: vmcs_write32(GUEST_SYSENTER_CS, (uint32_t)val); return true;
	case MSR_IA32_SYSENTER_ESP:
	case MSR_IA32_SYSENTER_EIP:
		if (!is_canonical(val))
			return false;
		vmcs_writenat(msr == MSR_IA32_SYSENTER_ESP ? GUEST_SYSENTER_ESP : GUEST_SYSENTER_EIP, val);
		return true;
	default: break;
	}
	if (umbra_owns(msr, true))
		return false;
	return wrmsr_checked(msr, val);
}

/*
 * SDM 26.4 and 27.6: entries in order; an entry fails with bits 63:32 set,
 * IA32_FS_BASE or IA32_GS_BASE, an x2APIC MSR, an MSR written only in SMM,
 * or a WRMSR that would #GP. More entries than IA32_VMX_MISC recommends
 * (A.6: undefined behaviour) fail at the first one beyond it, so that a
 * huge count never stalls the CPU. Returns the failing entry (from 1) or 0.
 */
uint32_t nvmx_msr_list_load(uint64_t addr, uint64_t count)
{
	uint32_t max;

	if (!count)
		return 0; /* the common case, on every reflected exit */
	max = nvmx_msr_list_max();
	for (uint64_t i = 0; i < count; i++) {
		struct msr_entry e;

		if (i >= max)
			return (uint32_t)i + 1;
		guest_read_phys_or_ones(addr + i * sizeof(e), &e, sizeof(e));
		if (e.reserved || e.index == MSR_FS_BASE || e.index == MSR_GS_BASE || MSR_IS_X2APIC(e.index) ||
		    e.index == MSR_IA32_SMM_MONITOR_CTL || e.index == MSR_IA32_SMBASE || !msr_set(e.index, e.value))
			return (uint32_t)i + 1;
	}
	return 0;
}

/*
 * SDM 27.4: each entry's bits 127:64 get the MSR's value; an entry fails
 * with bits 63:32 set, an x2APIC MSR, an MSR read only in SMM, or a RDMSR
 * that would #GP. The same cap on the count as loading. Returns the failing
 * entry (from 1) or 0.
 */
uint32_t nvmx_msr_list_store(uint64_t addr, uint64_t count)
{
	uint32_t max;

	if (!count)
		return 0;
	max = nvmx_msr_list_max();
	for (uint64_t i = 0; i < count; i++) {
		struct msr_entry e;
		uint64_t val;

		if (i >= max)
			return (uint32_t)i + 1;
		guest_read_phys_or_ones(addr + i * sizeof(e), &e, sizeof(e));
		if (e.reserved || MSR_IS_X2APIC(e.index) || e.index == MSR_IA32_SMBASE || !msr_get(e.index, &val))
			return (uint32_t)i + 1;
		guest_write_phys_or_drop(addr + i * sizeof(e) + __builtin_offsetof(struct msr_entry, value), &val,
					 sizeof(val));
	}
	return 0;
}
