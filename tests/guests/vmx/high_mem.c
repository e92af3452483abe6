/* SPDX-License-Identifier: BSD-2-Clause */
/* test=high_mem: a VMXON region and a VMCS above 4 GiB, which the hypervisor must reach. */
#include "arch/x86/cpu.h"
#include "core/mb2.h"
#include "core/string.h"
#include "tests/guests/lib/report.h"
#include "tests/guests/vmx/suite.h"

/* 4-level paging entries (SDM Vol. 3A 4.5): present, writable, 2 MiB page. */
#define PTE_TABLE (BIT(0) | BIT(1))
#define PTE_2M (BIT(0) | BIT(1) | BIT(7))
#define PTE_ADDR 0x000ffffffffff000ULL
#define GUEST_RSP_VALUE 0x5a5a1234ULL

/* A page directory for the 2 MiB of high RAM this mode maps (boot/entry.asm maps 4 GiB only). */
static uint64_t high_pd[512] __aligned(PAGE_SIZE);

/* The first 2 MiB of available RAM at or above 4 GiB, 2 MiB aligned; 0 when there is none. */
static uint64_t find_high_ram(const struct mb2_info *mbi)
{
	for (size_t i = 0; i < mbi->mmap_count; i++) {
		const struct mb2_mmap_entry *e = &mbi->mmap[i];
		uint64_t b = ALIGN_UP(MAX(e->base, GiB(4)), MiB(2));

		if (e->type == MB2_MEM_AVAILABLE && e->base + e->length >= b + MiB(2))
			return b;
	}
	return 0;
}

/* Identity-map [pa, pa + 2 MiB) in the boot page tables (identity, so tables are at their PA). */
static bool map_high(uint64_t pa)
{
	uint64_t *pml4 = (uint64_t *)(read_cr3() & PTE_ADDR), *pdpt;

	if (pa >> 39 || !(pml4[0] & BIT(0)))
		return false;
	pdpt = (uint64_t *)(pml4[0] & PTE_ADDR);
	if (pdpt[pa >> 30] & BIT(0))
		return false;
	high_pd[(pa >> 21) & 511] = pa | PTE_2M;
	pdpt[pa >> 30] = (uint64_t)high_pd | PTE_TABLE;
	write_cr3(read_cr3());
	return true;
}

void high_mem_run(const struct mb2_info *mbi)
{
	uint64_t base = find_high_ram(mbi), vmxon_pa, vmcs_pa, v = 0;
	struct fault_record f;
	enum vmx_result r;
	bool ok;

	if (!base) {
		report("high_mem.ram", VERDICT_SKIP, "no RAM above 4 GiB in the memory map");
		return;
	}
	if (!check("high_mem.map", map_high(base), "2 MiB at %#lx", base) || !suite_init())
		return;
	vmxon_pa = base;
	vmcs_pa = base + PAGE_SIZE;
	info("high_mem: VMXON region at %#lx, VMCS at %#lx", vmxon_pa, vmcs_pa);
	memset((void *)base, 0, 2 * PAGE_SIZE);
	*(volatile uint32_t *)vmxon_pa = suite.revision;
	*(volatile uint32_t *)vmcs_pa = suite.revision;
	write_cr4(read_cr4() | CR4_VMXE);

	/* SDM Vol. 3C 30.3: each reads or writes its region in memory. */
	if (!vmxon_guarded(vmxon_pa, &r, &f)) {
		check("high_mem.vmxon", false, "VMXON faulted: vector %u", f.vector);
		return;
	}
	if (!check("high_mem.vmxon", r == VMX_SUCCEED, "VMXON of a region above 4 GiB: %d", r))
		return;
	check("high_mem.vmclear", vmclear(vmcs_pa) == VMX_SUCCEED, "VMCLEAR above 4 GiB");
	check("high_mem.vmptrld", vmptrld(vmcs_pa) == VMX_SUCCEED, "VMPTRLD above 4 GiB");
	ok = vmwrite(GUEST_RSP, GUEST_RSP_VALUE) == VMX_SUCCEED && vmread(GUEST_RSP, &v) == VMX_SUCCEED;
	check("high_mem.vmwrite", ok && v == GUEST_RSP_VALUE, "GUEST_RSP %#lx", v);
	/* VMCLEAR writes the VMCS data back to the region; VMPTRLD brings it back. */
	v = 0;
	ok = vmclear(vmcs_pa) == VMX_SUCCEED && vmptrld(vmcs_pa) == VMX_SUCCEED &&
	     vmread(GUEST_RSP, &v) == VMX_SUCCEED;
	check("high_mem.vmcs_in_memory", ok && v == GUEST_RSP_VALUE,
	      "GUEST_RSP after VMCLEAR and VMPTRLD %#lx", v);
	check("high_mem.vmxoff", vmclear(vmcs_pa) == VMX_SUCCEED && vmxoff() == VMX_SUCCEED, "VMXOFF");
}
