/* SPDX-License-Identifier: BSD-2-Clause */
/* ept group: L2 on an EPT of L1's: translations, violations, misconfigurations, INVEPT (SDM Vol. 3C 29.3). */
#include "arch/x86/cpu.h"
#include "core/types.h" /* arch/x86/exit_reasons.h does not include it */
#include "arch/x86/ept.h"
#include "arch/x86/exit_reasons.h"
#include "arch/x86/mtrr.h"
#include "arch/x86/vmx_caps.h"
#include "arch/x86/vmx_controls.h"
#include "core/format.h"
#include "core/string.h"
#include "tests/guests/lib/report.h"
#include "tests/guests/lib/umbra.h"
#include "tests/guests/vmx/suite.h"

#define PTE_P BIT(0)
#define PTE_RW BIT(1)
#define PTE_PS BIT(7) /* a 2 MiB page in a PDE (SDM Vol. 3A 4.5) */
/* L1's paging: an unused PML4 slot maps L2's linear window onto GPA2 (for L2 only; L1 never uses it). */
#define PML4_SLOT 5
#define L2_LINEAR ((uint64_t)PML4_SLOT << 39)
/*
 * L2's guest-physical window: PML4 entry 1 of L1's EPT (512 GiB up), where
 * nothing of L1's is. GPA2_4K is one 4 KiB page of it, GPA2_2M a 2 MiB
 * page, GPA2_BASE itself a 1 GiB page.
 */
#define GPA2_BASE ((uint64_t)1 << 39)
#define GPA2_2M (GPA2_BASE + (uint64_t)GiB(1))
#define GPA2_4K (GPA2_BASE + (uint64_t)GiB(2))
#define OFFSET 8 /* the quadword L2 reads in a page: page_x[1] */
#define EPT_WB ((uint64_t)MEM_TYPE_WB << EPT_MEMTYPE_SHIFT)
#define EPTP_OF(e) ((uint64_t)(e) | MEM_TYPE_WB | EPTP_WALK_LENGTH_4)

/* EPT-violation qualification bits (SDM Vol. 3C Table 27-7). */
#define Q_READ BIT(0)
#define Q_WRITE BIT(1)
#define Q_PERMS(p) ((uint64_t)(p) << 3)
#define Q_LINEAR BIT(7)
#define Q_FINAL BIT(8)

/*
 * An EPT of L1's for L2: L1's first GiB identity-mapped with 2 MiB pages
 * (L2's code, stack and page tables are L1's), and the window: PDPT entry
 * 0 (GPA2_BASE, 1 GiB: a leaf or nothing), entry 1 (a PD whose entry 0 is
 * GPA2_2M), entry 2 (a PD -> a PT whose entry 0 is GPA2_4K).
 */
struct ept12 {
	uint64_t pml4[512], pdpt_low[512], pd_low[512];
	uint64_t pdpt_high[512], pd_2m[512], pd_4k[512], pt_4k[512];
} __aligned(PAGE_SIZE);

static struct ept12 ept_a, ept_b;
static uint64_t ept_pd_many[512] __aligned(PAGE_SIZE); /* GPA2_MANY: 2 MiB pages of L1's EPT */
static uint64_t pd_many[512] __aligned(PAGE_SIZE);     /* L1's paging: L2's linear window onto them */
static uint64_t pdpt[512] __aligned(PAGE_SIZE), pd[512] __aligned(PAGE_SIZE), pt[512] __aligned(PAGE_SIZE);
static uint64_t page_a[512] __aligned(PAGE_SIZE), page_b[512] __aligned(PAGE_SIZE);

static void ept12_init(struct ept12 *e)
{
	memset(e, 0, sizeof(*e));
	e->pml4[0] = (uint64_t)e->pdpt_low | EPT_RWX;
	e->pml4[1] = (uint64_t)e->pdpt_high | EPT_RWX;
	e->pdpt_low[0] = (uint64_t)e->pd_low | EPT_RWX;
	for (uint64_t i = 0; i < 512; i++)
		e->pd_low[i] = (i << 21) | EPT_RWX | EPT_WB | EPT_LARGE_PAGE;
	e->pdpt_high[1] = (uint64_t)e->pd_2m | EPT_RWX;
	e->pdpt_high[2] = (uint64_t)e->pd_4k | EPT_RWX;
	e->pd_4k[0] = (uint64_t)e->pt_4k | EPT_RWX;
}

/* L1's page tables: L2's linear page i -> guest-physical gpa (4 KiB). */
static void map_l2_linear(unsigned int i, uint64_t gpa)
{
	uint64_t *pml4 = (uint64_t *)(read_cr3() & ~0xfffULL);

	pdpt[0] = (uint64_t)pd | PTE_P | PTE_RW;
	pd[0] = (uint64_t)pt | PTE_P | PTE_RW;
	pt[i] = (gpa & ~0xfffULL) | PTE_P | PTE_RW;
	pml4[PML4_SLOT] = (uint64_t)pdpt | PTE_P | PTE_RW;
}

/*
 * After L1 changes its EPTs: translations cached from them may remain until
 * INVEPT (SDM 28.3.3.4), so the checks invalidate as a correct L1 must.
 */
static void ept_changed(void)
{
	if (suite.caps.ept_vpid & EPT_CAP_INVEPT_ALL)
		invept(INVEPT_ALL_CONTEXT, 0);
	else
		invept(INVEPT_SINGLE_CONTEXT, EPTP_OF(&ept_a));
}

/* A fresh L2 at stub on eptp with RAX = la: the exit, false (reported) when the entry failed. */
static bool run_on_ept(const char *name, const void *stub, uint64_t eptp, uint64_t la, struct l2_regs *regs,
		       struct exit_info *e)
{
	enum vm_entry_result res;
	char buf[48];

	if (vmcs_prepare(&vmcs_b, stub, L2_STACK_TOP) != 0) {
		report(name, VERDICT_FAIL, "VMCS set-up failed");
		return false;
	}
	vmwrite(CPU_BASED_VM_EXEC_CONTROL, ctl_proc(SECONDARY_CONTROLS));
	vmwrite(SECONDARY_VM_EXEC_CONTROL, ctl_proc2(ENABLE_EPT));
	vmwrite(EPT_POINTER, eptp);
	l2_regs_default(regs);
	regs->gpr[GPR_RAX] = la;
	res = vm_enter(regs, 1);
	if (res != VM_ENTRY_EXITED) {
		report(name, VERDICT_FAIL, "VMLAUNCH: %s", entry_str(res, buf, sizeof(buf)));
		vmclear(PA(vmcs_b));
		return false;
	}
	exit_info_read(e);
	vmclear(PA(vmcs_b));
	return true;
}

/* L2 reads the quadword at linear la on eptp: the value, ~0 when it did not get to its VMCALL. */
static uint64_t l2_read(const char *name, uint64_t eptp, uint64_t la)
{
	struct l2_regs regs;
	struct exit_info e;

	if (!run_on_ept(name, l2_load_rax, eptp, la, &regs, &e))
		return ~0ULL;
	if (e.reason != EXIT_REASON_VMCALL) {
		report(name, VERDICT_FAIL, "exit reason %u (qualification %#lx), expected L2's VMCALL", e.reason,
		       e.qualification);
		return ~0ULL;
	}
	return regs.gpr[GPR_RBX];
}

/* Page sizes: L2 reads page_a's second quadword through a 4 KiB, 2 MiB and 1 GiB page of L1's EPT. */
static void check_ept_page_sizes(void)
{
	uint64_t a = (uint64_t)page_a, got;

	page_a[1] = 0xa1a1;
	ept_a.pt_4k[0] = a | EPT_READ | EPT_WB;
	map_l2_linear(0, GPA2_4K);
	ept_changed();
	got = l2_read("ept.page_4k", EPTP_OF(&ept_a), L2_LINEAR + OFFSET);
	check("ept.page_4k", got == 0xa1a1, "L2 read %#lx through a 4 KiB page, expected 0xa1a1", got);

	ept_a.pd_2m[0] = (a & ~(MiB(2) - 1)) | EPT_READ | EPT_WB | EPT_LARGE_PAGE;
	map_l2_linear(1, GPA2_2M + (a & (MiB(2) - 1)));
	ept_changed();
	got = l2_read("ept.page_2m", EPTP_OF(&ept_a), L2_LINEAR + PAGE_SIZE + OFFSET);
	check("ept.page_2m", got == 0xa1a1, "L2 read %#lx through a 2 MiB page, expected 0xa1a1", got);

	if (!(suite.caps.ept_vpid & EPT_CAP_1G)) {
		report("ept.page_1g", VERDICT_SKIP, "no 1 GiB EPT pages");
		return;
	}
	ept_a.pdpt_high[0] = EPT_READ | EPT_WB | EPT_LARGE_PAGE; /* GPA2_BASE -> L1's first GiB */
	map_l2_linear(2, GPA2_BASE + a);
	ept_changed();
	got = l2_read("ept.page_1g", EPTP_OF(&ept_a), L2_LINEAR + 2 * PAGE_SIZE + OFFSET);
	check("ept.page_1g", got == 0xa1a1, "L2 read %#lx through a 1 GiB page, expected 0xa1a1", got);
}

/* An access ept_a's 4 KiB leaf refuses: exit reason want, qualification want_qual, GPA and linear exact. */
static void expect_ept_exit(const char *name, const void *stub, uint64_t leaf, uint32_t want, uint64_t want_qual)
{
	struct l2_regs regs;
	struct exit_info e;
	uint64_t gpa, gla;

	ept_a.pt_4k[0] = leaf;
	map_l2_linear(0, GPA2_4K);
	ept_changed();
	if (!run_on_ept(name, stub, EPTP_OF(&ept_a), L2_LINEAR + OFFSET, &regs, &e))
		return;
	gpa = e.gpa;
	gla = e.gla;
	if (want == EXIT_REASON_EPT_VIOLATION)
		check(name, e.reason == want && e.qualification == want_qual && gpa == GPA2_4K + OFFSET &&
				    gla == L2_LINEAR + OFFSET,
		      "leaf %#lx: exit reason %u qualification %#lx GPA %#lx linear %#lx; expected %u %#lx %#lx %#lx",
		      leaf, e.reason, e.qualification, gpa, gla, want, want_qual, GPA2_4K + OFFSET,
		      L2_LINEAR + OFFSET);
	else /* 27.2.1: a misconfiguration's qualification is undefined; the GPA is the access's */
		check(name, e.reason == want && gpa == GPA2_4K + OFFSET,
		      "leaf %#lx: exit reason %u GPA %#lx; expected %u %#lx", leaf, e.reason, gpa, want,
		      GPA2_4K + OFFSET);
}

static void check_ept_faults(void)
{
	uint64_t a = (uint64_t)page_a;

	/* Violations (27.2.1): the access, what L1's entries allowed, linear address valid, the final access. */
	expect_ept_exit("ept.not_present", l2_load_rax, 0, EXIT_REASON_EPT_VIOLATION, Q_READ | Q_LINEAR | Q_FINAL);
	expect_ept_exit("ept.write_read_only", l2_store_rbx, a | EPT_READ | EPT_WB, EXIT_REASON_EPT_VIOLATION,
			Q_WRITE | Q_PERMS(EPT_READ) | Q_LINEAR | Q_FINAL);
	expect_ept_exit("ept.read_exec_only_not_allowed", l2_load_rax,
			(suite.caps.ept_vpid & EPT_CAP_EXEC_ONLY) ? (a | EPT_EXEC | EPT_WB) : 0,
			EXIT_REASON_EPT_VIOLATION,
			Q_READ | ((suite.caps.ept_vpid & EPT_CAP_EXEC_ONLY) ? Q_PERMS(EPT_EXEC) : 0) | Q_LINEAR | Q_FINAL);
	/* Misconfigurations (29.3.3.1): write without read, memory type 2, a reserved address bit. */
	expect_ept_exit("ept.misconfig_write_only", l2_load_rax, a | EPT_WRITE | EPT_WB, EXIT_REASON_EPT_MISCONFIG, 0);
	expect_ept_exit("ept.misconfig_memtype", l2_load_rax, a | EPT_RWX | (2ULL << EPT_MEMTYPE_SHIFT),
			EXIT_REASON_EPT_MISCONFIG, 0);
	expect_ept_exit("ept.misconfig_reserved_bit", l2_load_rax,
			a | EPT_RWX | EPT_WB | (1ULL << (suite.phys_bits < 52 ? suite.phys_bits : 51)),
			EXIT_REASON_EPT_MISCONFIG, 0);
}

/*
 * A leaf L1 moves takes effect after INVEPT of that EPTP (28.3.3.4); two
 * EPTs used in turn each keep their own translations (an L1 with two L2s).
 */
static void check_ept_invept_and_switch(void)
{
	uint64_t a = (uint64_t)page_a, b = (uint64_t)page_b, r1, r2, r3;

	page_a[1] = 0xa1a1;
	page_b[1] = 0xb1b1;
	map_l2_linear(0, GPA2_4K);
	ept_a.pt_4k[0] = a | EPT_RWX | EPT_WB;
	ept_changed();
	r1 = l2_read("ept.invept_single", EPTP_OF(&ept_a), L2_LINEAR + OFFSET);
	ept_a.pt_4k[0] = b | EPT_RWX | EPT_WB;
	if (suite.caps.ept_vpid & EPT_CAP_INVEPT_SINGLE)
		invept(INVEPT_SINGLE_CONTEXT, EPTP_OF(&ept_a));
	else
		invept(INVEPT_ALL_CONTEXT, 0);
	r2 = l2_read("ept.invept_single", EPTP_OF(&ept_a), L2_LINEAR + OFFSET);
	check("ept.invept_single", r1 == 0xa1a1 && r2 == 0xb1b1,
	      "before: %#lx (expected 0xa1a1); after the leaf moved and INVEPT: %#lx (expected 0xb1b1)", r1, r2);

	ept_a.pt_4k[0] = a | EPT_RWX | EPT_WB;
	ept_b.pt_4k[0] = b | EPT_RWX | EPT_WB;
	ept_changed();
	r1 = l2_read("ept.eptp_switch", EPTP_OF(&ept_a), L2_LINEAR + OFFSET);
	r2 = l2_read("ept.eptp_switch", EPTP_OF(&ept_b), L2_LINEAR + OFFSET);
	r3 = l2_read("ept.eptp_switch", EPTP_OF(&ept_a), L2_LINEAR + OFFSET);
	check("ept.eptp_switch", r1 == 0xa1a1 && r2 == 0xb1b1 && r3 == 0xa1a1,
	      "EPT A, B, A: %#lx %#lx %#lx (expected 0xa1a1 0xb1b1 0xa1a1)", r1, r2, r3);
}

/* VM-entry checks on the EPTP (26.2.1.1) and INVEPT's operands (30.3). */
static void check_ept_operands(void)
{
	struct l2_regs regs;
	enum vm_entry_result res;
	const struct {
		const char *name;
		uint64_t eptp;
	} bad[] = {
		{ "ept.eptp_walk_length_3", (uint64_t)&ept_a | MEM_TYPE_WB | (2ULL << 3) },
		{ "ept.eptp_memtype_wc", (uint64_t)&ept_a | MEM_TYPE_WC | EPTP_WALK_LENGTH_4 },
		{ "ept.eptp_reserved_bit", EPTP_OF(&ept_a) | BIT(7) },
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (vmcs_prepare(&vmcs_b, l2_vmcall, L2_STACK_TOP) != 0) {
			report(bad[i].name, VERDICT_FAIL, "VMCS set-up failed");
			continue;
		}
		vmwrite(CPU_BASED_VM_EXEC_CONTROL, ctl_proc(SECONDARY_CONTROLS));
		vmwrite(SECONDARY_VM_EXEC_CONTROL, ctl_proc2(ENABLE_EPT));
		vmwrite(EPT_POINTER, bad[i].eptp);
		l2_regs_default(&regs);
		res = vm_enter(&regs, 1);
		expect_entry(bad[i].name, res, VM_ENTRY_FAIL_VALID, VMXERR_ENTRY_INVALID_CONTROL_FIELD, NULL,
			     "VMLAUNCH with an invalid EPTP");
		vmclear(PA(vmcs_b));
	}
	/* Unrestricted guest without EPT is an invalid control (26.2.1.1). */
	if (proc2_allows(UNRESTRICTED_GUEST) && vmcs_prepare(&vmcs_b, l2_vmcall, L2_STACK_TOP) == 0) {
		vmwrite(CPU_BASED_VM_EXEC_CONTROL, ctl_proc(SECONDARY_CONTROLS));
		vmwrite(SECONDARY_VM_EXEC_CONTROL, ctl_proc2(UNRESTRICTED_GUEST));
		l2_regs_default(&regs);
		res = vm_enter(&regs, 1);
		expect_entry("ept.unrestricted_without_ept", res, VM_ENTRY_FAIL_VALID,
			     VMXERR_ENTRY_INVALID_CONTROL_FIELD, NULL, "unrestricted guest, EPT off");
		vmclear(PA(vmcs_b));
	}
	if (vmptrld(PA(vmcs_scratch)) != VMX_SUCCEED)
		return;
	expect_outcome("invept.type_0", outcome_of(invept(0, EPTP_OF(&ept_a))), VMX_FAIL_VALID,
		       VMXERR_INVALID_OPERAND_TO_INVEPT_INVVPID, "INVEPT type 0 (none)");
	if (suite.caps.ept_vpid & EPT_CAP_INVEPT_SINGLE) {
		expect_outcome("invept.single", outcome_of(invept(INVEPT_SINGLE_CONTEXT, EPTP_OF(&ept_a))),
			       VMX_SUCCEED, 0, "single-context, a valid EPTP");
		expect_outcome("invept.single_bad_eptp",
			       outcome_of(invept(INVEPT_SINGLE_CONTEXT, (uint64_t)&ept_a | MEM_TYPE_WB)),
			       VMX_FAIL_VALID, VMXERR_INVALID_OPERAND_TO_INVEPT_INVVPID,
			       "single-context, EPTP with walk length 1");
	}
	if (suite.caps.ept_vpid & EPT_CAP_INVEPT_ALL)
		expect_outcome("invept.all", outcome_of(invept(INVEPT_ALL_CONTEXT, 0)), VMX_SUCCEED, 0,
			       "all-context");
	vmclear(PA(vmcs_scratch));
}

/*
 * ept_a afresh for the A/D and PML checks: L2's linear pages 0 and 1 are
 * page_a and page_b through 4 KiB leaves of the window with no flags set;
 * low_dirty: every 2 MiB leaf of L1's memory already accessed and dirty.
 */
static void ept_ad_window(bool low_dirty)
{
	ept12_init(&ept_a);
	for (unsigned int i = 0; low_dirty && i < 512; i++)
		ept_a.pd_low[i] |= EPT_ACCESSED | EPT_DIRTY;
	ept_a.pt_4k[0] = (uint64_t)page_a | EPT_RWX | EPT_WB;
	ept_a.pt_4k[1] = (uint64_t)page_b | EPT_RWX | EPT_WB;
	map_l2_linear(0, GPA2_4K);
	map_l2_linear(1, GPA2_4K + PAGE_SIZE);
	__asm__ volatile("invlpg (%0); invlpg (%1)" ::"r"(L2_LINEAR), "r"(L2_LINEAR + PAGE_SIZE) : "memory");
	ept_changed();
}

/*
 * Accessed and dirty flags (SDM Vol. 3C 29.3.5), with EPTP bit 6: L2 reads
 * page_a and writes page_b through 4 KiB leaves of L1's EPT. Every entry
 * of both walks gets its accessed flag, only page_b's leaf its dirty flag;
 * L2's own page tables are written as far as EPT is concerned (29.3.3.2),
 * so the 2 MiB leaf that holds them is dirty although L2 only read.
 */
static void check_ept_ad(void)
{
	uint64_t eptp = EPTP_OF(&ept_a) | EPTP_AD_ENABLE, got, pt_leaf;
	struct l2_regs regs;
	struct exit_info e;

	if (!(suite.caps.ept_vpid & EPT_CAP_AD)) {
		report("ept.ad_read", VERDICT_SKIP, "no EPT accessed and dirty flags");
		return;
	}
	ept_ad_window(false);
	page_a[1] = 0xa1a1;
	page_b[1] = 0xb1b1;
	got = l2_read("ept.ad_read", eptp, L2_LINEAR + OFFSET);
	pt_leaf = ept_a.pd_low[(uint64_t)pt >> 21];
	check("ept.ad_read", got == 0xa1a1 && (ept_a.pml4[1] & EPT_ACCESSED) && (ept_a.pdpt_high[2] & EPT_ACCESSED) &&
		      (ept_a.pd_4k[0] & EPT_ACCESSED) && (ept_a.pt_4k[0] & EPT_ACCESSED) && !(ept_a.pt_4k[0] & EPT_DIRTY),
	      "read %#lx; PML4E %#lx PDPTE %#lx PDE %#lx PTE %#lx", got, ept_a.pml4[1], ept_a.pdpt_high[2],
	      ept_a.pd_4k[0], ept_a.pt_4k[0]);
	check("ept.ad_paging_structures_dirty", (pt_leaf & EPT_ACCESSED) && (pt_leaf & EPT_DIRTY),
	      "the 2 MiB leaf of L2's page table: %#lx", pt_leaf);
	if (run_on_ept("ept.ad_write", l2_store_rbx, eptp, L2_LINEAR + PAGE_SIZE + OFFSET, &regs, &e))
		check("ept.ad_write", e.reason == EXIT_REASON_VMCALL && page_b[1] == read_cr3() &&
			      (ept_a.pt_4k[1] & EPT_ACCESSED) && (ept_a.pt_4k[1] & EPT_DIRTY) &&
			      !(ept_a.pt_4k[0] & EPT_DIRTY),
		      "exit %u, page_b[1] %#lx; PTE b %#lx PTE a %#lx", e.reason, page_b[1], ept_a.pt_4k[1],
		      ept_a.pt_4k[0]);
	/* L1 clears the flags and invalidates: the next accesses set them again. */
	ept_a.pt_4k[1] &= ~(EPT_ACCESSED | EPT_DIRTY);
	ept_changed();
	got = l2_read("ept.ad_again", eptp, L2_LINEAR + PAGE_SIZE + OFFSET);
	check("ept.ad_again", got == read_cr3() && (ept_a.pt_4k[1] & EPT_ACCESSED) && !(ept_a.pt_4k[1] & EPT_DIRTY),
	      "read %#lx; PTE b %#lx", got, ept_a.pt_4k[1]);
	ept12_init(&ept_a);
	ept_changed();
}

static uint64_t pml_log[512] __aligned(PAGE_SIZE);

/* L1's EPT with A/D for the PML checks: every 2 MiB leaf of L1's memory already dirty, page_a and page_b not. */
static uint64_t pml_setup(uint16_t index)
{
	ept_ad_window(true);
	memset(pml_log, 0, sizeof(pml_log));
	page_b[1] = 0xb1b1;
	if (vmcs_prepare(&vmcs_b, l2_store_rbx, L2_STACK_TOP) != 0)
		return 0;
	vmwrite(CPU_BASED_VM_EXEC_CONTROL, ctl_proc(SECONDARY_CONTROLS));
	vmwrite(SECONDARY_VM_EXEC_CONTROL, ctl_proc2(ENABLE_EPT | ENABLE_PML));
	vmwrite(EPT_POINTER, EPTP_OF(&ept_a) | EPTP_AD_ENABLE);
	vmwrite(PML_ADDRESS, (uint64_t)pml_log);
	vmwrite(GUEST_PML_INDEX, index);
	return 1;
}

/*
 * Page-modification logging (SDM Vol. 3C 29.3.6): L2's write to page_b,
 * whose leaf is not dirty, logs page_b's guest-physical page at the index,
 * which goes down by one; nothing else is logged (every other leaf L2 uses
 * is dirty already). Bochs 2.7 logs the address with its page offset
 * (docs/bochs.md): the check compares pages. Only under umbra, the SDM's
 * log-full event: with the index at 0xffff that write is a VM exit with
 * reason 62 and is not done (Bochs takes the exit at any translation).
 */
static void check_ept_pml(void)
{
	struct l2_regs regs;
	enum vm_entry_result res;
	uint64_t index, reason, rip;

	if (!proc2_allows(ENABLE_PML) || !(suite.caps.ept_vpid & EPT_CAP_AD)) {
		report("ept.pml_log", VERDICT_SKIP, "no PML with EPT accessed and dirty flags");
		return;
	}
	if (!pml_setup(511)) {
		report("ept.pml_log", VERDICT_FAIL, "VMCS set-up failed");
		return;
	}
	l2_regs_default(&regs);
	regs.gpr[GPR_RAX] = L2_LINEAR + PAGE_SIZE + OFFSET;
	res = vm_enter(&regs, 1);
	index = vmcs_get(GUEST_PML_INDEX);
	reason = vmcs_get(VM_EXIT_REASON);
	vmclear(PA(vmcs_b));
	check("ept.pml_log", res == VM_ENTRY_EXITED && reason == EXIT_REASON_VMCALL && index == 510 &&
		      (pml_log[511] & ~0xfffULL) == GPA2_4K + PAGE_SIZE && !pml_log[510] && page_b[1] == read_cr3() &&
		      (ept_a.pt_4k[1] & EPT_DIRTY),
	      "entry %d, exit %lu, index %lu, log[511] %#lx log[510] %#lx, PTE b %#lx", res, reason, index,
	      pml_log[511], pml_log[510], ept_a.pt_4k[1]);
	if (!under_umbra())
		goto out;
	if (!pml_setup(0xffff)) {
		report("umbra.pml_full", VERDICT_FAIL, "VMCS set-up failed");
		goto out;
	}
	l2_regs_default(&regs);
	regs.gpr[GPR_RAX] = L2_LINEAR + PAGE_SIZE + OFFSET;
	res = vm_enter(&regs, 1);
	reason = vmcs_get(VM_EXIT_REASON);
	rip = vmcs_get(GUEST_RIP);
	index = vmcs_get(GUEST_PML_INDEX);
	vmclear(PA(vmcs_b));
	check("umbra.pml_full", res == VM_ENTRY_EXITED && reason == EXIT_REASON_PML_FULL &&
		      rip == (uint64_t)l2_store_rbx && index == 0xffff && page_b[1] == 0xb1b1 &&
		      !(ept_a.pt_4k[1] & EPT_DIRTY) && !pml_log[511],
	      "entry %d, exit %lu at %#lx (store at %p), index %#lx, page_b[1] %#lx, PTE b %#lx", res, reason, rip,
	      (const void *)l2_store_rbx, index, page_b[1], ept_a.pt_4k[1]);
out:
	ept12_init(&ept_a);
	ept_changed();
}

static void check_unrestricted_guest(void);

/* L2: RCX reads of (RAX), RAX += RDX each time, summed into RSI; then VMCALL. */
extern const char l2_touch_stride[];
__asm__(".pushsection .text\n"
	"l2_touch_stride:\n\t"
	"add (%rax), %rsi\n\t"
	"add %rdx, %rax\n\t"
	"dec %rcx\n\t"
	"jnz l2_touch_stride\n\t"
	"vmcall\n"
	".popsection\n");

#define GPA2_MANY (GPA2_BASE + 3 * (uint64_t)GiB(1)) /* PDPT entry 3 of the window */
#define MANY_REGIONS 400 /* more 2 MiB regions than a shadow EPT pool has tables (192) */

/*
 * L2 reads one quadword in each of MANY_REGIONS 2 MiB pages of L1's EPT
 * (all onto the 2 MiB of L1's memory that holds page_a), twice: a hypervisor
 * whose shadow EPT backs each with a table of its own runs out of tables
 * and must start again, not fail (umbra's pool flush, docs/nested-vmx.md).
 */
static void check_ept_many_regions(void)
{
	const char *name = "ept.many_regions";
	uint64_t a = (uint64_t)page_a, *pml4 = (uint64_t *)(read_cr3() & ~0xfffULL);
	struct l2_regs regs;
	struct exit_info e;
	uint64_t sums[2] = { 0, 0 };

	page_a[1] = 0xa1a1;
	for (uint64_t i = 0; i < 512; i++) {
		ept_pd_many[i] = (a & ~(MiB(2) - 1)) | EPT_READ | EPT_WB | EPT_LARGE_PAGE;
		pd_many[i] = (GPA2_MANY + i * MiB(2)) | PTE_P | PTE_RW | PTE_PS;
	}
	ept_a.pdpt_high[3] = (uint64_t)ept_pd_many | EPT_RWX;
	pdpt[1] = (uint64_t)pd_many | PTE_P | PTE_RW; /* linear L2_LINEAR + 1 GiB up */
	pml4[PML4_SLOT] = (uint64_t)pdpt | PTE_P | PTE_RW;
	ept_changed();
	for (int pass = 0; pass < 2; pass++) {
		if (vmcs_prepare(&vmcs_b, l2_touch_stride, L2_STACK_TOP) != 0) {
			report(name, VERDICT_FAIL, "VMCS set-up failed");
			return;
		}
		vmwrite(CPU_BASED_VM_EXEC_CONTROL, ctl_proc(SECONDARY_CONTROLS));
		vmwrite(SECONDARY_VM_EXEC_CONTROL, ctl_proc2(ENABLE_EPT));
		vmwrite(EPT_POINTER, EPTP_OF(&ept_a));
		l2_regs_default(&regs);
		regs.gpr[GPR_RAX] = L2_LINEAR + (uint64_t)GiB(1) + (a & (MiB(2) - 1)) + OFFSET;
		regs.gpr[GPR_RCX] = MANY_REGIONS;
		regs.gpr[GPR_RDX] = MiB(2);
		regs.gpr[GPR_RSI] = 0;
		if (vm_enter(&regs, 1) == VM_ENTRY_EXITED) {
			exit_info_read(&e);
			if (e.reason == EXIT_REASON_VMCALL)
				sums[pass] = regs.gpr[GPR_RSI];
		}
		vmclear(PA(vmcs_b));
	}
	check(name, sums[0] == MANY_REGIONS * 0xa1a1ULL && sums[1] == sums[0],
	      "L2 summed %#lx and %#lx over %u 2 MiB pages (expected %#llx twice)", sums[0], sums[1],
	      MANY_REGIONS, MANY_REGIONS * 0xa1a1ULL);
	ept_a.pdpt_high[3] = 0;
	pdpt[1] = 0;
	ept_changed();
}

void check_ept(void)
{
	uint64_t *pml4 = (uint64_t *)(read_cr3() & ~0xfffULL);
	struct l2_regs regs;
	struct exit_info e;

	if (!proc2_allows(ENABLE_EPT) || !(suite.caps.ept_vpid & EPT_CAP_PWL4) ||
	    !(suite.caps.ept_vpid & EPT_CAP_WB) || !(suite.caps.ept_vpid & EPT_CAP_2M)) {
		report("ept.offered", VERDICT_SKIP, "no 4-level write-back EPT with 2 MiB pages");
		return;
	}
	if (pml4[PML4_SLOT] & PTE_P) {
		report("ept.offered", VERDICT_SKIP, "PML4 slot %d in use", PML4_SLOT);
		return;
	}
	ept12_init(&ept_a);
	ept12_init(&ept_b);
	/* L2 on an EPT that maps L1's memory as it is: it runs and exits as without one. */
	if (run_on_ept("ept.launch", l2_vmcall, EPTP_OF(&ept_a), 0, &regs, &e))
		check("ept.launch", e.reason == EXIT_REASON_VMCALL, "L2 on L1's EPT: exit reason %u", e.reason);
	check_ept_page_sizes();
	check_ept_faults();
	check_ept_invept_and_switch();
	check_ept_operands();
	check_ept_many_regions();
	check_ept_ad();
	check_ept_pml();
	check_unrestricted_guest();
	pml4[PML4_SLOT] = 0;
	__asm__ volatile("invlpg (%0)" ::"r"(L2_LINEAR) : "memory");
}

/*
 * test=ept_umbra_mem (umbra only): L1's EPT maps L2's page onto umbra's
 * memory, as L1's memory map shows it reserved. L2's read must never reach
 * it: umbra stops the guest with a report, as for L1's own access there.
 */
void ept_umbra_mem_run(uint64_t umbra_mem)
{
	struct l2_regs regs;
	struct exit_info e;

	if (!suite_init())
		return;
	write_cr4(read_cr4() | CR4_VMXE);
	if (!umbra_mem || vmxon(PA(vmxon_region)) != VMX_SUCCEED || !proc2_allows(ENABLE_EPT)) {
		report("ept_umbra_mem.setup", VERDICT_FAIL, "no umbra memory in the map (%#lx), VMXON failed or no EPT",
		       umbra_mem);
		return;
	}
	ept12_init(&ept_a);
	ept_a.pt_4k[0] = (umbra_mem & ~0xfffULL) | EPT_RWX | EPT_WB;
	map_l2_linear(0, GPA2_4K);
	info("ept_umbra_mem: L2 reads guest-physical %#lx, which L1's EPT maps to umbra's %#lx",
	     (uint64_t)GPA2_4K, umbra_mem);
	run_on_ept("ept_umbra_mem.unreachable", l2_load_rax, EPTP_OF(&ept_a), L2_LINEAR, &regs, &e);
	report("ept_umbra_mem.unreachable", VERDICT_FAIL, "L2 went on: exit reason %u, read %#lx", e.reason,
	       regs.gpr[GPR_RBX]);
}

uint64_t ept_identity_eptp(void)
{
	ept12_init(&ept_a);
	return EPTP_OF(&ept_a);
}

/* L2 for bench_ept_faults: RCX quadword reads, one per page from RAX up, then VMCALL. */
extern const char l2_touch_pages[];
__asm__(".pushsection .text\n"
	"l2_touch_pages:\n\t"
	"mov (%rax), %rbx\n\t"
	"add $4096, %rax\n\t"
	"dec %rcx\n\t"
	"jnz l2_touch_pages\n\t"
	"vmcall\n"
	".popsection\n");

#define FAULT_PAGES_MAX 512 /* one page table of L1's EPT and of its paging */
static uint8_t fault_pages[FAULT_PAGES_MAX][PAGE_SIZE] __aligned(PAGE_SIZE);

/*
 * L2 reads N pages of the GPA2_4K window that L1's EPT does not map yet;
 * L1 maps each on its EPT violation (as KVM faults guest memory in) and
 * resumes L2. Under umbra each fault is L2's violation on the shadow EPT
 * reflected to L1, L1's VMRESUME, and the shadow EPT's fill.
 */
void bench_ept_faults(uint64_t pages)
{
	bool umbra = under_umbra();
	uint64_t t0, t1, x0, x1, faults = 0;
	struct l2_regs regs;
	enum vm_entry_result res;
	uint32_t reason = 0;
	char name[64];

	pages = MIN(pages, (uint64_t)FAULT_PAGES_MAX);
	if (!suite_init())
		return;
	write_cr4(read_cr4() | CR4_VMXE);
	if (vmxon(PA(vmxon_region)) != VMX_SUCCEED || !proc2_allows(ENABLE_EPT) ||
	    vmcs_prepare(&vmcs_b, l2_touch_pages, L2_STACK_TOP) != 0) {
		report("bench.ept_faults", VERDICT_FAIL, "VMXON, EPT or the VMCS set-up failed");
		return;
	}
	ept12_init(&ept_a);
	for (uint64_t i = 0; i < pages; i++)
		map_l2_linear((unsigned int)i, GPA2_4K + i * PAGE_SIZE);
	vmwrite(CPU_BASED_VM_EXEC_CONTROL, ctl_proc(SECONDARY_CONTROLS));
	vmwrite(SECONDARY_VM_EXEC_CONTROL, ctl_proc2(ENABLE_EPT));
	vmwrite(EPT_POINTER, EPTP_OF(&ept_a));
	l2_regs_default(&regs);
	regs.gpr[GPR_RAX] = L2_LINEAR;
	regs.gpr[GPR_RCX] = pages;
	x0 = bench_umbra_exits(umbra);
	t0 = rdtsc();
	for (res = vm_enter(&regs, 1); res == VM_ENTRY_EXITED; res = vm_enter(&regs, 0)) {
		uint64_t i = (vmcs_get(GUEST_PHYSICAL_ADDRESS) - GPA2_4K) / PAGE_SIZE;

		reason = (uint32_t)vmcs_get(VM_EXIT_REASON);
		if (reason != EXIT_REASON_EPT_VIOLATION || i >= pages)
			break;
		ept_a.pt_4k[i] = (uint64_t)fault_pages[i] | EPT_READ | EPT_WB; /* not present -> present: no INVEPT */
		faults++;
	}
	t1 = rdtsc();
	x1 = bench_umbra_exits(umbra);
	vmxoff();
	if (!check("bench.ept_faults", res == VM_ENTRY_EXITED && reason == EXIT_REASON_VMCALL && faults == pages,
		   "%lu EPT violations for %lu pages, last exit reason %u", faults, pages, reason))
		return;
	fmt_snprintf(name, sizeof(name), "nested_ept_fault.cycles_per_fault.%s", umbra ? "umbra" : "bare");
	bench_line(name, t1 - t0, faults, "cycles");
	if (umbra)
		bench_line("nested_ept_fault.l0_exits_per_fault.umbra", x1 - x0 - 1, faults, "exits");
}

/* A 16-bit L2: AX = 0x1234, then VMCALL (the same bytes in every mode). */
extern const char l2_real_mode[], l2_real_mode_vmcall[];
__asm__(".pushsection .text\n"
	".balign 16\n"
	".code16\n"
	"l2_real_mode:\n\t"
	"movw $0x1234, %ax\n"
	"l2_real_mode_vmcall:\n\t"
	"vmcall\n\t"
	".code64\n"
	".popsection\n");

#define AR_CODE_RX_ACCESSED 0x9b /* present, S, DPL 0, execute/read, accessed (SDM Vol. 3C 24.4.1) */
#define AR_DATA_RW_ACCESSED 0x93
#define REAL_MODE_LIMIT 0xffff

/*
 * Unrestricted guest: an L2 in real mode (CR0.PE = PG = 0) on an EPT of
 * L1's, its segments at any base (26.3.1.2 needs no selector << 4 there).
 */
static void check_unrestricted_guest(void)
{
	const char *name = "ept.unrestricted_real_mode";
	uint64_t code = (uint64_t)l2_real_mode & ~0xfULL, cr0;
	static const uint32_t data_segs[] = { GUEST_SS_SELECTOR, GUEST_DS_SELECTOR, GUEST_ES_SELECTOR,
					      GUEST_FS_SELECTOR, GUEST_GS_SELECTOR };
	struct l2_regs regs;
	enum vm_entry_result res;
	char buf[48];

	if (!proc2_allows(ENABLE_EPT | UNRESTRICTED_GUEST)) {
		report(name, VERDICT_SKIP, "no unrestricted guest");
		return;
	}
	ept12_init(&ept_a);
	if (vmcs_prepare(&vmcs_b, l2_real_mode, L2_STACK_TOP) != 0) {
		report(name, VERDICT_FAIL, "VMCS set-up failed");
		return;
	}
	vmwrite(CPU_BASED_VM_EXEC_CONTROL, ctl_proc(SECONDARY_CONTROLS));
	vmwrite(SECONDARY_VM_EXEC_CONTROL, ctl_proc2(ENABLE_EPT | UNRESTRICTED_GUEST));
	vmwrite(EPT_POINTER, EPTP_OF(&ept_a));
	vmwrite(VM_ENTRY_CONTROLS, ctl_entry(0)); /* not IA-32e mode */
	cr0 = vmcs_get(GUEST_CR0) & ~(uint64_t)(CR0_PG | CR0_PE);
	vmwrite(GUEST_CR0, cr0);
	vmwrite(CR0_READ_SHADOW, cr0);
	vmwrite(GUEST_CS_SELECTOR, 0);
	vmwrite(GUEST_CS_BASE, code);
	vmwrite(GUEST_CS_LIMIT, REAL_MODE_LIMIT);
	vmwrite(GUEST_CS_AR_BYTES, AR_CODE_RX_ACCESSED);
	for (size_t i = 0; i < ARRAY_SIZE(data_segs); i++) {
		uint32_t idx = (data_segs[i] - GUEST_ES_SELECTOR) / 2;

		vmwrite(data_segs[i], 0);
		vmwrite(GUEST_ES_BASE + 2 * idx, data_segs[i] == GUEST_SS_SELECTOR ? (uint64_t)l2_stack : 0);
		vmwrite(GUEST_ES_LIMIT + 2 * idx, REAL_MODE_LIMIT);
		vmwrite(GUEST_ES_AR_BYTES + 2 * idx, AR_DATA_RW_ACCESSED);
	}
	vmwrite(GUEST_RIP, (uint64_t)l2_real_mode - code);
	vmwrite(GUEST_RSP, L2_STACK_SIZE - 16);
	l2_regs_default(&regs);
	res = vm_enter(&regs, 1);
	if (res != VM_ENTRY_EXITED) {
		report(name, VERDICT_FAIL, "VMLAUNCH: %s", entry_str(res, buf, sizeof(buf)));
	} else {
		uint32_t reason = (uint32_t)vmcs_get(VM_EXIT_REASON);
		uint64_t rip = vmcs_get(GUEST_RIP), want_rip = (uint64_t)l2_real_mode_vmcall - code;

		check(name, reason == EXIT_REASON_VMCALL && (regs.gpr[GPR_RAX] & 0xffff) == 0x1234 && rip == want_rip &&
				    !(vmcs_get(GUEST_CR0) & CR0_PE),
		      "exit reason %u, AX %#lx, IP %#lx (expected %#lx), CR0 %#lx", reason, regs.gpr[GPR_RAX] & 0xffff,
		      rip, want_rip, vmcs_get(GUEST_CR0));
	}
	vmclear(PA(vmcs_b));
}
