/* SPDX-License-Identifier: BSD-2-Clause */
/* paging group: VMX instructions' memory operands go through L1's paging with its rights (SDM Vol. 3A 4.6, 4.7). */
#include "arch/x86/cpu.h"
#include "arch/x86/idt.h"
#include "core/panic.h"
#include "tests/guests/lib/fault.h"
#include "tests/guests/lib/report.h"
#include "tests/guests/vmx/suite.h"

#define VEC_PF 14
#define PTE_P BIT(0)
#define PTE_RW BIT(1)
#define PF_ERR_P BIT(0)
#define PF_ERR_W BIT(1)
/* An unused PML4 slot: linear 512 GiB * index, mapped by this file only. */
#define PML4_SLOT 3
#define RO_LINEAR ((uint64_t)PML4_SLOT << 39)

static uint64_t pdpt[512] __aligned(PAGE_SIZE), pd[512] __aligned(PAGE_SIZE), pt[512] __aligned(PAGE_SIZE);
static uint8_t target[PAGE_SIZE] __aligned(PAGE_SIZE);

/* The guarded instruction of this file, and what the #PF handler saw. */
static volatile uint64_t pf_site, pf_resume, pf_cr2, pf_err;
static volatile bool pf_hit;

static void expected_pf(struct trap_frame *tf)
{
	uint64_t cr2;

	if (!pf_site || tf->rip != pf_site)
		panic_trap(tf);
	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	pf_hit = true;
	pf_cr2 = cr2;
	pf_err = tf->error_code;
	tf->rip = pf_resume;
	pf_site = 0;
}

static void invlpg(uint64_t la)
{
	__asm__ volatile("invlpg (%0)" ::"r"(la) : "memory");
}

/* VMREAD of a field no hypervisor shadows into memory at la: false when it raised #PF. */
static bool vmread_to(uint64_t la, enum vmx_result *r)
{
	bool cf = false, zf = false;
	uint64_t field = VM_INSTRUCTION_ERROR;

	pf_hit = false;
	__asm__ volatile(FAULT_GUARDED("vmread %[field], (%[la])")
			 : "=@ccc"(cf), "=@ccz"(zf), [site] "=m"(pf_site), [resume] "=m"(pf_resume)
			 : [field] "r"(field), [la] "r"(la)
			 : "r11", "memory");
	pf_site = 0;
	*r = VMX_ASM_RESULT(cf, zf);
	return !pf_hit;
}

/* VMPTRST to memory at la: false when it raised #PF. */
static bool vmptrst_to(uint64_t la, enum vmx_result *r)
{
	bool cf = false, zf = false;

	pf_hit = false;
	__asm__ volatile(FAULT_GUARDED("vmptrst (%[la])")
			 : "=@ccc"(cf), "=@ccz"(zf), [site] "=m"(pf_site), [resume] "=m"(pf_resume)
			 : [la] "r"(la)
			 : "r11", "memory");
	pf_site = 0;
	*r = VMX_ASM_RESULT(cf, zf);
	return !pf_hit;
}

/* VMWRITE of GUEST_RSP from memory at la: true when it succeeded. */
static bool vmwrite_from(uint64_t la)
{
	bool cf = false, zf = false;
	uint64_t field = GUEST_RSP;

	pf_hit = false;
	__asm__ volatile(FAULT_GUARDED("vmwrite (%[la]), %[field]")
			 : "=@ccc"(cf), "=@ccz"(zf), [site] "=m"(pf_site), [resume] "=m"(pf_resume)
			 : [field] "r"(field), [la] "r"(la)
			 : "r11", "memory");
	pf_site = 0;
	return !pf_hit && VMX_ASM_RESULT(cf, zf) == VMX_SUCCEED;
}

/* One store to the read-only page: #PF (P=1, W=1) with CR0.WP, else it completes. */
static void expect_ro_store(const char *name, bool done, enum vmx_result r, bool wp, uint64_t la)
{
	if (wp)
		check(name, !done && pf_err == (PF_ERR_P | PF_ERR_W) && pf_cr2 == la,
		      "store to a read-only page (CR0.WP=1): %s, error code %#lx, CR2 %#lx", done ? "no #PF" : "#PF",
		      pf_err, pf_cr2);
	else
		check(name, done && r == VMX_SUCCEED, "store to a read-only page (CR0.WP=0): %s",
		      done ? "completed" : "#PF");
}

void check_paging(void)
{
	uint64_t *pml4 = (uint64_t *)(read_cr3() & ~0xfffULL), cr0 = read_cr0();
	bool wp;
	enum vmx_result r = VMX_FAIL_INVALID;
	bool done;

	if (pml4[PML4_SLOT] & PTE_P) {
		report("paging.vmread_read_only", VERDICT_SKIP, "PML4 slot %d in use", PML4_SLOT);
		return;
	}
	if (vmcs_prepare(&vmcs_b, l2_vmcall, L2_STACK_TOP) != 0) {
		report("paging.vmread_read_only", VERDICT_FAIL, "VMCS set-up failed");
		return;
	}
	idt_set_handler(VEC_PF, expected_pf);
	pdpt[0] = (uint64_t)pd | PTE_P | PTE_RW;
	pd[0] = (uint64_t)pt | PTE_P | PTE_RW;
	pt[0] = (uint64_t)target | PTE_P; /* read-only */
	pml4[PML4_SLOT] = (uint64_t)pdpt | PTE_P | PTE_RW;
	invlpg(RO_LINEAR);

	/* SDM Vol. 3A 4.6.1: a supervisor write to a read-only page faults when CR0.WP = 1. */
	write_cr0(cr0 | CR0_WP);
	wp = read_cr0() & CR0_WP;
	done = vmread_to(RO_LINEAR + 8, &r);
	expect_ro_store("paging.vmread_read_only", done, r, wp, RO_LINEAR + 8);
	done = vmptrst_to(RO_LINEAR + 16, &r);
	expect_ro_store("paging.vmptrst_read_only", done, r, wp, RO_LINEAR + 16);
	/* Reading through the same mapping is allowed: VMWRITE takes its value from there. */
	pf_site = 0;
	check("paging.vmwrite_from_read_only", vmwrite_from(RO_LINEAR), "VMWRITE from a read-only page");
	write_cr0(cr0);
	pml4[PML4_SLOT] = 0;
	invlpg(RO_LINEAR);
	idt_set_handler(VEC_PF, NULL);
	vmclear(PA(vmcs_b));
}
