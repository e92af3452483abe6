/* SPDX-License-Identifier: BSD-2-Clause */
/* L2's EPTs (built once), and values near the checks of EPT, VPID, the TPR shadow and the preemption timer. */
#include "arch/x86/ept.h"
#include "arch/x86/mtrr.h"
#include "arch/x86/vmx_caps.h"
#include "core/string.h"
#include "tests/guests/fuzz/fuzz.h"

/*
 * Three EPTs of L1's, in this image's .bss (physical == virtual in both
 * runs), never changed after ept_init(): a translation either machine
 * caches is always the current one, so no program needs INVEPT for its
 * records to be defined (SDM Vol. 3C 28.3.3.4).
 *
 *   ept_2m:   GPA [0, 1 GiB) identity with 2 MiB pages (RWX, WB), and the window.
 *   ept_1g:   GPA [0, 1 GiB) as one 1 GiB page (a misconfiguration where the
 *             view has no 1 GiB pages), and the same window.
 *   ept_zero: an empty PML4: L2's first access (its CR3 walk or the fetch)
 *             is an EPT violation.
 *
 * L2's code, stack, page tables, GDT and IDT are this image (16 MiB up), so
 * L2 runs on the identity part as it runs without EPT. The window is GPA
 * [1 GiB, 1 GiB + 10 MiB): beyond both machines' RAM, where the boot page
 * tables map linear == physical, so only an L2 with EPT on may touch it
 * (l2.c's sanitize()). Its PD holds a page table of 4 KiB leaves (index i
 * at EPT_WINDOW + i * 4 KiB, window_init()) and entries 1..4 (2 MiB
 * leaves, and a non-leaf with a reserved bit). The 4 KiB leaves map
 * scratch (the last one a page of zeros), whose first bytes are "vmcall;
 * jmp .-3", so a fetch a leaf allows ends in a VMCALL exit at the window
 * address.
 */
#define PTE_IDX(a, shift) (((a) >> (shift)) & 0x1ff)
#define EPT_WB ((uint64_t)MEM_TYPE_WB << EPT_MEMTYPE_SHIFT)
#define EPT_MT(t) ((uint64_t)(t) << EPT_MEMTYPE_SHIFT)
#define EPT_ACCESSED BIT(8) /* ignored without EPTP bit 6 (SDM 29.3.5) */
#define EPT_DIRTY BIT(9)
#define EPT_IGNORED_52 BIT(52)   /* bits 62:52 of a 4 KiB leaf: ignored here (Table 29-6) */
#define EPT_SUPPRESS_VE BIT(63)  /* ignored without "EPT-violation #VE" */
#define EPT_NONLEAF_RSVD BIT(3)  /* in bits 6:3 of a PDE that references a table: reserved */

struct ept_tables {
	uint64_t pml4[512], pdpt[512], pd_low[512];
} __aligned(PAGE_SIZE);

static struct ept_tables ept_2m, ept_1g;
static uint64_t ept_zero[512] __aligned(PAGE_SIZE);
static uint64_t window_pd[512] __aligned(PAGE_SIZE), window_pt[512] __aligned(PAGE_SIZE);
static uint64_t zero_page[512] __aligned(PAGE_SIZE);
static uint8_t scratch[PAGE_SIZE] __aligned(PAGE_SIZE);
uint8_t fuzz_vapic[PAGE_SIZE] __aligned(PAGE_SIZE);

static uint64_t eptp_of(const void *pml4, uint8_t memtype)
{
	return (uint64_t)pml4 | memtype | EPTP_WALK_LENGTH_4;
}

/* The window's 4 KiB leaves: each a boundary case of SDM 29.3.2-29.3.3 (the index is the case). */
static void window_init(void)
{
	uint64_t s = (uint64_t)scratch, rsvd = view.phys_bits < 52 ? BIT(view.phys_bits) : 0;
	const uint64_t leaves[EPT_WINDOW_LEAVES] = {
		0,                                           /* not present: violation */
		s | EPT_READ | EPT_WB,                       /* read-only */
		s | EPT_READ | EPT_WRITE | EPT_WB,           /* read/write, no execute */
		s | EPT_RWX | EPT_WB,                        /* everything */
		s | EPT_EXEC | EPT_WB,                       /* execute-only: valid with EPT_CAP_EXEC_ONLY */
		s | EPT_WRITE | EPT_WB,                      /* write without read: misconfiguration */
		s | EPT_WRITE | EPT_EXEC | EPT_WB,           /* the same, with execute */
		s | EPT_READ | EPT_WRITE | EPT_MT(2),        /* memory type 2: misconfiguration */
		s | EPT_READ | EPT_WRITE | EPT_MT(7),        /* memory type 7: misconfiguration */
		s | EPT_READ | EPT_WRITE | EPT_WB | rsvd,    /* an address bit beyond the width: misconfiguration */
		s | EPT_RWX | EPT_MT(MEM_TYPE_UC),           /* UC */
		s | EPT_RWX | EPT_MT(MEM_TYPE_WC) | EPT_IGNORE_PAT, /* WC, ignore PAT */
		s | EPT_READ | EPT_MT(3),                    /* memory type 3: misconfiguration */
		s | EPT_RWX | EPT_WB | EPT_IGNORED_52 | EPT_SUPPRESS_VE, /* ignored bits set */
		s | EPT_READ | EPT_WB | EPT_ACCESSED | EPT_DIRTY, /* A/D bits without A/D enabled: ignored */
		(uint64_t)zero_page | EPT_READ | EPT_WB,  /* another page, all zeros: a fetch there is not allowed */
	};

	for (unsigned int i = 0; i < EPT_WINDOW_LEAVES; i++)
		window_pt[i] = leaves[i];
	window_pd[0] = (uint64_t)window_pt | EPT_RWX;
	/*
	 * 2 MiB leaves: the region holding scratch read-only, a reserved bit
	 * (20:13; not 12, which Bochs ignores as if it were the PAT bit of a
	 * paging PDE: docs/bochs.md), memory type 7, a reserved non-leaf.
	 */
	window_pd[1] = (s & ~(uint64_t)(MiB(2) - 1)) | EPT_READ | EPT_WB | EPT_LARGE_PAGE;
	window_pd[2] = (s & ~(uint64_t)(MiB(2) - 1)) | BIT(13) | EPT_RWX | EPT_WB | EPT_LARGE_PAGE;
	window_pd[3] = (s & ~(uint64_t)(MiB(2) - 1)) | EPT_RWX | EPT_MT(7) | EPT_LARGE_PAGE;
	window_pd[4] = (uint64_t)window_pt | EPT_RWX | EPT_NONLEAF_RSVD;
}

static void tables_init(struct ept_tables *e, bool one_gib)
{
	memset(e, 0, sizeof(*e));
	e->pml4[0] = (uint64_t)e->pdpt | EPT_RWX;
	if (one_gib) {
		e->pdpt[0] = EPT_RWX | EPT_WB | EPT_LARGE_PAGE;
	} else {
		e->pdpt[0] = (uint64_t)e->pd_low | EPT_RWX;
		for (uint64_t i = 0; i < 512; i++)
			e->pd_low[i] = (i << 21) | EPT_RWX | EPT_WB | EPT_LARGE_PAGE;
	}
	e->pdpt[PTE_IDX(EPT_WINDOW, 30)] = (uint64_t)window_pd | EPT_RWX;
}

void ept_init(void)
{
	_Static_assert(PTE_IDX(EPT_WINDOW, 30) == 1 && PTE_IDX(EPT_WINDOW, 21) == 0, "the window is PDPT entry 1");
	/* vmcall (0f 01 c1); jmp back to it (eb fb) */
	static const uint8_t code[] = { 0x0f, 0x01, 0xc1, 0xeb, 0xfb };

	memset(scratch, 0, sizeof(scratch));
	memcpy(scratch, code, sizeof(code));
	memset(zero_page, 0, sizeof(zero_page));
	window_init();
	tables_init(&ept_2m, false);
	tables_init(&ept_1g, true);
	memset(ept_zero, 0, sizeof(ept_zero));
}

uint64_t eptp_valid(void)
{
	uint32_t c = rnd(100);

	if (c < 70)
		return eptp_of(ept_2m.pml4, MEM_TYPE_WB);
	if (c < 80)
		return eptp_of(ept_2m.pml4, MEM_TYPE_UC);
	if (c < 92)
		return eptp_of(ept_1g.pml4, MEM_TYPE_WB);
	return eptp_of(ept_zero, MEM_TYPE_WB);
}

/*
 * SDM Vol. 3C 26.2.1.1: memory type UC or WB (as EPT_VPID_CAP has them),
 * walk length 4 (bits 5:3 = 3), bits 11:7 zero, nothing beyond the
 * physical-address width. Bit 6 (A/D) is valid on Bochs, reserved under
 * umbra: outside the view, never set.
 */
uint64_t gen_eptp(void)
{
	static const uint8_t bad_types[] = { 1, 2, 3, 4, 5, 7 };
	static const uint8_t bad_walks[] = { 0, 1, 2, 4, 5, 6, 7 };
	uint64_t e = eptp_valid() & ~0xfffULL;
	uint32_t c = rnd(100);

	if (c < 65)
		return eptp_valid();
	if (c < 73)
		return e | bad_types[rnd(ARRAY_SIZE(bad_types))] | EPTP_WALK_LENGTH_4;
	if (c < 81)
		return e | MEM_TYPE_WB | ((uint64_t)bad_walks[rnd(ARRAY_SIZE(bad_walks))] << 3);
	if (c < 89)
		return e | MEM_TYPE_WB | EPTP_WALK_LENGTH_4 | BIT(7 + rnd(5));
	if (c < 95)
		return e | MEM_TYPE_WB | EPTP_WALK_LENGTH_4 | BIT(view.phys_bits + rnd(64 - view.phys_bits));
	return e | (rnd64() & 0xfff & ~EPTP_AD_ENABLE);
}

/* 26.2.1.1: with "enable VPID", VPID 0 fails the entry; any other value is L2's. */
uint64_t gen_vpid(void)
{
	static const uint64_t v[] = { 0, 1, 2, 0x5a, 0xffff };
	uint32_t c = rnd(100);

	if (c < 75)
		return v[rnd(ARRAY_SIZE(v))];
	return rnd(0x10000);
}

/* 26.2.1.1: bits 31:4 must be 0; bits 3:0 at most VTPR[7:4] (without virtual-interrupt delivery). */
uint64_t gen_tpr_threshold(void)
{
	uint32_t c = rnd(100);

	if (c < 85)
		return rnd(16);
	return rnd(16) | BIT(4 + rnd(28));
}

/*
 * The preemption timer counts the TSC (IA32_VMX_MISC[4:0] in the view):
 * how far it gets before L2's stub exits by itself is timing, which
 * differs between bare Bochs and umbra (umbra's own exits, its EPT fills),
 * so a program uses 0 (the exit comes before L2's first instruction,
 * 26.7.4) or values that cannot run out within a stub (at least 2^24
 * ticks; a stub is a handful of instructions). The value left at an exit
 * is never recorded (ops.c value_defined()).
 */
uint64_t gen_timer_value(void)
{
	uint32_t c = rnd(100);

	if (c < 35)
		return 0;
	if (c < 50)
		return 0xffffffffu;
	return BIT(24) + (rnd64() & 0xfeffffffu);
}

/* The virtual-APIC page: zero but VTPR, one of the 16 priorities or any byte. */
void vapic_seed_begin(void)
{
	memset(fuzz_vapic, 0, sizeof(fuzz_vapic));
	fuzz_vapic[VAPIC_VTPR] = chance(80) ? (uint8_t)(rnd(16) << 4) : (uint8_t)rnd(256);
}
