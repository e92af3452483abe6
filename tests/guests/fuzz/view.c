/* SPDX-License-Identifier: BSD-2-Clause */
/* The fixed capability view both references support, and its per-seed digest. */
#include "arch/x86/vmx_caps.h"
#include "arch/x86/vmx_controls.h"
#include "tests/guests/fuzz/fuzz.h"

/*
 * The rule (docs/fuzzing.md): a program may only depend on capabilities
 * that bare Bochs and umbra both offer. The generator reads the
 * capability MSRs and narrows them to FUZZ_VIEW_* (what umbra emulates
 * for L1, nested/vmx_msrs.c, a subset of Bochs 2.7's corei7_skylake_x).
 * Bits outside FUZZ_ANY_* (the union: what Bochs reports) are reserved
 * on both, so setting one must fail on both; bits in FUZZ_ANY_* but not
 * in the view are never set at all. The digest of the view is recorded
 * per seed: two runs whose programs were built from different
 * capabilities differ at the first record of that seed. A feature is
 * in a run's view only when the CPU (bare) or umbra's virtual capability
 * MSRs (nested/vmx_msrs.c) advertise it: EPT with its EPT_VPID_CAP bits,
 * VPID with INVVPID's, the preemption timer, the TPR shadow.
 */

/* The default1 class (SDM Vol. 3C A.2): allowed-1 on every CPU. */
#define DEFAULT1_PIN 0x00000016u
#define DEFAULT1_PROC 0x0401e172u
#define DEFAULT1_EXIT 0x00036dffu
#define DEFAULT1_ENTRY 0x000011ffu

#define FUZZ_VIEW_PIN (DEFAULT1_PIN | EXT_INT_EXITING | NMI_EXITING | VIRTUAL_NMIS | PREEMPTION_TIMER)
#define FUZZ_VIEW_PROC                                                                        \
	(DEFAULT1_PROC | INTR_WINDOW_EXITING | USE_TSC_OFFSETTING | HLT_EXITING |              \
	 INVLPG_EXITING | MWAIT_EXITING | RDPMC_EXITING | RDTSC_EXITING | CR3_LOAD_EXITING |   \
	 CR3_STORE_EXITING | CR8_LOAD_EXITING | CR8_STORE_EXITING | NMI_WINDOW_EXITING |       \
	 MOV_DR_EXITING | UNCOND_IO_EXITING | USE_IO_BITMAPS | USE_MSR_BITMAPS |               \
	 MONITOR_EXITING | PAUSE_EXITING | SECONDARY_CONTROLS | USE_TPR_SHADOW)
/* Not unrestricted guest: an L2 in real mode running the fuzzer's 64-bit stubs is not a VMX question. */
#define FUZZ_VIEW_PROC2 (ENABLE_RDTSCP | WBINVD_EXITING | ENABLE_INVPCID | ENABLE_EPT | ENABLE_VPID)
#define FUZZ_VIEW_EXIT                                                                        \
	(DEFAULT1_EXIT | SAVE_DEBUG_CONTROLS | HOST_ADDR_SPACE_SIZE | ACK_INTR_ON_EXIT |       \
	 SAVE_PAT | LOAD_PAT | SAVE_EFER | LOAD_EFER | SAVE_PREEMPTION_TIMER)
#define FUZZ_VIEW_ENTRY (DEFAULT1_ENTRY | LOAD_DEBUG_CONTROLS | IA32E_MODE_GUEST | ENTRY_LOAD_PAT | \
			 ENTRY_LOAD_EFER)

/* Everything Bochs 2.7 (corei7_skylake_x) allows; the rest is reserved on both. */
#define FUZZ_ANY_PIN 0x0000007fu
#define FUZZ_ANY_PROC 0xf7f9fffeu
#define FUZZ_ANY_PROC2 0x02177fffu
#define FUZZ_ANY_EXIT 0x007fffffu
#define FUZZ_ANY_ENTRY 0x0000ffffu

/*
 * The MISC bits the generator uses: the preemption-timer rate (bits 4:0),
 * activity HLT, VMWRITE to any field, CR3 targets, list size.
 */
#define FUZZ_VIEW_MISC (0x1fULL | VMX_MISC_ACTIVITY_HLT | VMX_MISC_VMWRITE_ANY_FIELD | (0x1ffULL << 16) | \
			(7ULL << 25))

/*
 * IA32_VMX_EPT_VPID_CAP (SDM Vol. 3C A.10) as both offer it. Not the
 * accessed/dirty flags (bit 21; umbra offers them, with PML, since after
 * this view was written: not in it yet, so no program sets EPTP bit 6),
 * nor 5-level walks, #VE or the advanced EPT-violation information.
 */
#define FUZZ_VIEW_EPT_CAP (EPT_CAP_EXEC_ONLY | EPT_CAP_PWL4 | EPT_CAP_UC | EPT_CAP_WB | EPT_CAP_2M | \
			   EPT_CAP_1G | EPT_CAP_INVEPT | EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL)
#define FUZZ_VIEW_VPID_CAP (VPID_CAP_INVVPID | VPID_CAP_INVVPID_ADDR | VPID_CAP_INVVPID_SINGLE | \
			    VPID_CAP_INVVPID_ALL | VPID_CAP_INVVPID_SINGLE_NONGLOBAL)

struct fuzz_view view;

static struct vmx_ctl narrow(const struct vmx_ctl *c, uint32_t v)
{
	struct vmx_ctl n = { c->must_be_one, c->may_be_one & (v | c->must_be_one) };

	return n;
}

static uint64_t fnv(uint64_t h, uint64_t v)
{
	for (unsigned int i = 0; i < 8; i++) {
		h ^= (v >> (8 * i)) & 0xff;
		h *= 0x100000001b3ULL;
	}
	return h;
}

void view_init(void)
{
	struct vmx_caps *c = &suite.caps;
	const uint64_t *p;
	uint64_t h = 0xcbf29ce484222325ULL;

	view.pin = narrow(&c->pin, FUZZ_VIEW_PIN);
	view.proc = narrow(&c->proc, FUZZ_VIEW_PROC);
	view.proc2 = narrow(&c->proc2, FUZZ_VIEW_PROC2);
	view.exit = narrow(&c->exit, FUZZ_VIEW_EXIT);
	view.entry = narrow(&c->entry, FUZZ_VIEW_ENTRY);
	view.never_pin = ~(c->pin.may_be_one | FUZZ_ANY_PIN);
	view.never_proc = ~(c->proc.may_be_one | FUZZ_ANY_PROC);
	view.never_proc2 = ~(c->proc2.may_be_one | FUZZ_ANY_PROC2);
	view.never_exit = ~(c->exit.may_be_one | FUZZ_ANY_EXIT);
	view.never_entry = ~(c->entry.may_be_one | FUZZ_ANY_ENTRY);
	if (!(view.proc.may_be_one & SECONDARY_CONTROLS))
		view.proc2 = (struct vmx_ctl){ 0, 0 };
	view.cr0_fixed0 = c->cr0_fixed0;
	view.cr0_fixed1 = c->cr0_fixed1;
	view.cr4_fixed0 = c->cr4_fixed0;
	view.cr4_fixed1 = c->cr4_fixed1;
	view.misc = c->misc & FUZZ_VIEW_MISC;
	/* The capability bits count only with their control (A.10: the MSR exists with either). */
	view.ept_vpid = 0;
	if (view.proc2.may_be_one & ENABLE_EPT)
		view.ept_vpid |= c->ept_vpid & FUZZ_VIEW_EPT_CAP;
	if (view.proc2.may_be_one & ENABLE_VPID)
		view.ept_vpid |= c->ept_vpid & FUZZ_VIEW_VPID_CAP;
	view.phys_bits = suite.phys_bits;
	for (p = (const uint64_t *)&view; p < &view.digest; p++)
		h = fnv(h, *p);
	view.digest = h;

	/* vmcs_setup.c negotiates L2's controls from suite.caps: the view's. */
	c->pin = view.pin;
	c->proc = view.proc;
	c->proc2 = view.proc2;
	c->exit = view.exit;
	c->entry = view.entry;
	c->ept_vpid = view.ept_vpid;
}
