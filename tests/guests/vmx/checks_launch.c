/* SPDX-License-Identifier: BSD-2-Clause */
/* launch and entry groups: VMLAUNCH/VMRESUME and the launch state, VM-entry checks (SDM Vol. 3C 24.1, 26). */
#include "arch/x86/cpu.h"
#include "core/types.h" /* arch/x86/exit_reasons.h does not include it */
#include "arch/x86/exit_reasons.h"
#include "arch/x86/vmx_controls.h"
#include "core/format.h"
#include "tests/guests/lib/report.h"
#include "tests/guests/vmx/suite.h"

/* SDM Vol. 3C 26.8: a VM-entry failure sets bit 31 of the exit reason. */
#define ENTRY_FAIL_GUEST_STATE ((uint32_t)(EXIT_REASON_ENTRY_FAILURE | EXIT_REASON_INVALID_GUEST_STATE))
/* SDM Vol. 3C 26.8: exit qualification of an invalid-guest-state failure. */
#define ENTRY_QUAL_DEFAULT 0
#define ENTRY_QUAL_LINK_POINTER 4

#define LAUNCH 1
#define RESUME 0

static struct l2_regs regs;

static void drop_current_vmcs(void)
{
	uint64_t pa = VMCS_NONE;

	vmptrst(&pa);
	if (pa != VMCS_NONE)
		vmclear(pa);
}

void check_launch(void)
{
	const uint64_t rsp_a = L2_STACK_TOP, rsp_b = L2_STACK_TOP - 512;
	uint32_t bad;
	uint64_t rsp;

	l2_regs_default(&regs);
	drop_current_vmcs();
	expect_entry("launch.vmlaunch_no_current_vmcs", vm_enter(&regs, LAUNCH), VM_ENTRY_FAIL_INVALID,
		     0, NULL, "VMLAUNCH without a current VMCS");
	expect_entry("launch.vmresume_no_current_vmcs", vm_enter(&regs, RESUME), VM_ENTRY_FAIL_INVALID,
		     0, NULL, "VMRESUME without a current VMCS");

	bad = vmcs_prepare(&vmcs_a, l2_vmcall, rsp_a);
	if (bad) {
		report("launch.setup", VERDICT_FAIL, "VMCS A: field %#x (%s) refused", bad,
		       vmcs_field_name(bad) ? vmcs_field_name(bad) : "VMCLEAR/VMPTRLD");
		return;
	}
	/* SDM Vol. 3C 30.3 VMLAUNCH/VMRESUME: the launch state decides (errors 4 and 5). */
	expect_entry("launch.vmresume_clear", vm_enter(&regs, RESUME), VM_ENTRY_FAIL_VALID,
		     VMXERR_VMRESUME_NONLAUNCHED_VMCS, NULL, "VMRESUME of a clear VMCS");
	expect_entry("launch.vmlaunch", vm_enter(&regs, LAUNCH), VM_ENTRY_EXITED, EXIT_REASON_VMCALL,
		     l2_vmcall, "VMLAUNCH of A");
	expect_entry("launch.vmlaunch_launched", vm_enter(&regs, LAUNCH), VM_ENTRY_FAIL_VALID,
		     VMXERR_VMLAUNCH_NONCLEAR_VMCS, NULL, "VMLAUNCH of a launched VMCS");
	expect_entry("launch.vmresume", vm_enter(&regs, RESUME), VM_ENTRY_EXITED, EXIT_REASON_VMCALL,
		     l2_vmcall, "VMRESUME of A");

	/* A second VMCS: each keeps its own launch state and guest state. */
	bad = vmcs_prepare(&vmcs_b, l2_vmcall, rsp_b);
	if (bad) {
		report("launch.setup", VERDICT_FAIL, "VMCS B: field %#x refused", bad);
		return;
	}
	expect_entry("launch.second_vmcs", vm_enter(&regs, LAUNCH), VM_ENTRY_EXITED, EXIT_REASON_VMCALL,
		     l2_vmcall, "VMLAUNCH of B");
	vmptrld(PA(vmcs_a));
	if (expect_entry("launch.vmresume_after_switch", vm_enter(&regs, RESUME), VM_ENTRY_EXITED,
			 EXIT_REASON_VMCALL, l2_vmcall, "VMPTRLD of A, VMRESUME")) {
		rsp = vmcs_get(GUEST_RSP);
		check("launch.guest_state_per_vmcs", rsp == rsp_a, "GUEST_RSP %#lx in A (B has %#lx)", rsp,
		      rsp_b);
	} else {
		report("launch.guest_state_per_vmcs", VERDICT_FAIL, "A did not run");
	}

	/* VMCLEAR makes the launch state clear again (SDM Vol. 3C 24.11.3). */
	vmclear(PA(vmcs_a));
	vmptrld(PA(vmcs_a));
	expect_entry("launch.vmresume_after_vmclear", vm_enter(&regs, RESUME), VM_ENTRY_FAIL_VALID,
		     VMXERR_VMRESUME_NONLAUNCHED_VMCS, NULL, "VMCLEAR, VMPTRLD, VMRESUME of A");
	expect_entry("launch.vmlaunch_after_vmclear", vm_enter(&regs, LAUNCH), VM_ENTRY_EXITED,
		     EXIT_REASON_VMCALL, l2_vmcall, "VMLAUNCH of A after VMCLEAR");
	vmclear(PA(vmcs_a));
	vmclear(PA(vmcs_b));
}

/* --- entry failures -------------------------------------------------------- */

/* The lowest bit set in mask, or -1. */
static int lowest_bit(uint32_t mask)
{
	return mask ? __builtin_ctz(mask) : -1;
}

struct ctl_word {
	const char *name; /* "pin" */
	uint32_t field;
	const struct vmx_ctl *cap;
	uint32_t (*base)(uint32_t want);
	uint32_t want;    /* what vmcs_prepare() asks for */
};

static const struct ctl_word ctl_words[] = {
	{ "pin", PIN_BASED_VM_EXEC_CONTROL, &suite.caps.pin, ctl_pin, 0 },
	{ "proc", CPU_BASED_VM_EXEC_CONTROL, &suite.caps.proc, ctl_proc, 0 },
	{ "exit", VM_EXIT_CONTROLS, &suite.caps.exit, ctl_exit, HOST_ADDR_SPACE_SIZE },
	{ "entry", VM_ENTRY_CONTROLS, &suite.caps.entry, ctl_entry, IA32E_MODE_GUEST },
};

/* A fresh VMCS B that would run l2_vmcall; false (and a FAIL line) when it cannot be built. */
static bool fresh_vmcs(const char *name)
{
	uint32_t bad = vmcs_prepare(&vmcs_b, l2_vmcall, L2_STACK_TOP);

	if (bad)
		report(name, VERDICT_FAIL, "VMCS set-up: field %#x refused", bad);
	return !bad;
}

/* SDM Vol. 3C 26.2.1: a control bit against its capability MSR is VMfailValid(7). */
static void check_control_word(const struct ctl_word *c)
{
	char name[40], what[64];
	int bit;

	fmt_snprintf(name, sizeof(name), "entry.%s_reserved_bit", c->name);
	bit = lowest_bit(~c->cap->may_be_one);
	if (bit < 0) {
		report(name, VERDICT_SKIP, "every %s control may be 1", c->name);
	} else if (fresh_vmcs(name)) {
		vmwrite(c->field, c->base(c->want) | BIT(bit));
		fmt_snprintf(what, sizeof(what), "%s control bit %d (must be 0) set", c->name, bit);
		expect_entry(name, vm_enter(&regs, LAUNCH), VM_ENTRY_FAIL_VALID,
			     VMXERR_ENTRY_INVALID_CONTROL_FIELD, NULL, what);
	}

	fmt_snprintf(name, sizeof(name), "entry.%s_default1_clear", c->name);
	bit = lowest_bit(c->cap->must_be_one);
	if (bit < 0) {
		report(name, VERDICT_SKIP, "no %s control must be 1", c->name);
	} else if (fresh_vmcs(name)) {
		vmwrite(c->field, c->base(c->want) & ~BIT(bit));
		fmt_snprintf(what, sizeof(what), "%s control bit %d (must be 1) clear", c->name, bit);
		expect_entry(name, vm_enter(&regs, LAUNCH), VM_ENTRY_FAIL_VALID,
			     VMXERR_ENTRY_INVALID_CONTROL_FIELD, NULL, what);
	}
}

/* One broken field in a fresh VMCS, then VMLAUNCH. */
static void entry_case(const char *name, uint32_t field, uint64_t value,
		       enum vm_entry_result want, uint32_t want_val, const char *what)
{
	if (!fresh_vmcs(name))
		return;
	vmwrite(field, value);
	expect_entry(name, vm_enter(&regs, LAUNCH), want, want_val, NULL, what);
}

/* An invalid guest state: the entry fails like a VM exit, through HOST_RIP (SDM Vol. 3C 26.8). */
static void guest_state_case(const char *name, uint32_t field, uint64_t value, uint64_t want_qual,
			     const char *what)
{
	uint64_t qual;

	if (!fresh_vmcs(name))
		return;
	vmwrite(field, value);
	if (vm_enter(&regs, LAUNCH) != VM_ENTRY_EXITED) {
		expect_entry(name, VM_ENTRY_FELL_THROUGH, VM_ENTRY_EXITED, ENTRY_FAIL_GUEST_STATE, NULL,
			     what);
		return;
	}
	qual = vmcs_get(EXIT_QUALIFICATION);
	check(name, vmcs_get(VM_EXIT_REASON) == ENTRY_FAIL_GUEST_STATE && qual == want_qual,
	      "%s: exit reason %#lx qualification %lu, expected %#x and %lu", what,
	      vmcs_get(VM_EXIT_REASON), qual, ENTRY_FAIL_GUEST_STATE, want_qual);
}

/*
 * SDM Vol. 3C 24.8.3, 26.8: a failed VM entry (invalid guest state) writes
 * only the exit reason and qualification; the injected event's valid bit
 * stays set (only VM exits clear it).
 */
static void check_failure_keeps_event(void)
{
	const char *name = "entry.failure_keeps_event";
	uint64_t info;

	if (!fresh_vmcs(name))
		return;
	vmwrite(VM_ENTRY_INTR_INFO, BIT(31) | (3u << 8) | 6u); /* #UD, a hardware exception */
	vmwrite(GUEST_RFLAGS, 0);                               /* reserved bit 1 clear */
	if (vm_enter(&regs, LAUNCH) != VM_ENTRY_EXITED) {
		expect_entry(name, VM_ENTRY_FELL_THROUGH, VM_ENTRY_EXITED, ENTRY_FAIL_GUEST_STATE, NULL,
			     "an event with an invalid guest state");
		return;
	}
	info = vmcs_get(VM_ENTRY_INTR_INFO);
	check(name, vmcs_get(VM_EXIT_REASON) == ENTRY_FAIL_GUEST_STATE && (info & BIT(31)),
	      "exit reason %#lx, VM_ENTRY_INTR_INFO %#lx after the failed entry, expected %#x and bit 31 set",
	      vmcs_get(VM_EXIT_REASON), info, ENTRY_FAIL_GUEST_STATE);
}

/*
 * SDM Vol. 3C 26.3 before 26.4: the guest state is checked before the
 * VM-entry MSR-load list is loaded, so an invalid guest state and a failing
 * list give exit reason 33, not 34.
 */
static void check_guest_state_before_msr_load(void)
{
	static struct {
		uint32_t index, reserved;
		uint64_t value;
	} list[1] __aligned(16) = { { 0x174, 1, 0 } }; /* reserved bits 63:32 set: fails */
	const char *name = "entry.guest_state_before_msr_load";

	if (!fresh_vmcs(name))
		return;
	vmwrite(VM_ENTRY_MSR_LOAD_ADDR, (uint64_t)list);
	vmwrite(VM_ENTRY_MSR_LOAD_COUNT, 1);
	vmwrite(GUEST_RFLAGS, 0); /* reserved bit 1 clear */
	if (vm_enter(&regs, LAUNCH) != VM_ENTRY_EXITED) {
		expect_entry(name, VM_ENTRY_FELL_THROUGH, VM_ENTRY_EXITED, ENTRY_FAIL_GUEST_STATE, NULL,
			     "an invalid guest state and a failing MSR-load list");
		return;
	}
	check(name, vmcs_get(VM_EXIT_REASON) == ENTRY_FAIL_GUEST_STATE,
	      "an invalid guest state and a failing MSR-load list: exit reason %#lx, expected %#x",
	      vmcs_get(VM_EXIT_REASON), ENTRY_FAIL_GUEST_STATE);
}

/*
 * The same order (26.3 before 26.4) when the list would repair the state:
 * a non-canonical GUEST_SYSENTER_ESP fails the entry even though the list
 * loads a canonical IA32_SYSENTER_ESP.
 */
static void check_guest_state_before_msr_values(void)
{
	static struct {
		uint32_t index, reserved;
		uint64_t value;
	} list[1] __aligned(16) = { { 0x175, 0, 0xffffffff80000000ULL } }; /* IA32_SYSENTER_ESP */
	const char *name = "entry.guest_state_before_msr_values";

	if (!fresh_vmcs(name))
		return;
	vmwrite(VM_ENTRY_MSR_LOAD_ADDR, (uint64_t)list);
	vmwrite(VM_ENTRY_MSR_LOAD_COUNT, 1);
	vmwrite(GUEST_SYSENTER_ESP, 0x8000000000000000ULL); /* not canonical (26.3.1.1) */
	if (vm_enter(&regs, LAUNCH) != VM_ENTRY_EXITED) {
		expect_entry(name, VM_ENTRY_FELL_THROUGH, VM_ENTRY_EXITED, ENTRY_FAIL_GUEST_STATE, NULL,
			     "a non-canonical GUEST_SYSENTER_ESP and a list loading a canonical one");
		return;
	}
	check(name, vmcs_get(VM_EXIT_REASON) == ENTRY_FAIL_GUEST_STATE,
	      "a non-canonical GUEST_SYSENTER_ESP and a list loading a canonical one: exit reason %#lx, expected %#x",
	      vmcs_get(VM_EXIT_REASON), ENTRY_FAIL_GUEST_STATE);
}

/*
 * SDM Vol. 3C 26.3.1.1: with "load IA32_EFER", reserved EFER bits are an
 * invalid guest state; L1 then continues with its own EFER (26.8), which a
 * check of L1's EFER after the failed entry shows.
 */
static void check_guest_efer_reserved(void)
{
	const char *name = "entry.guest_efer_reserved";
	uint64_t efer = rdmsr(MSR_EFER);

	if (!(suite.caps.entry.may_be_one & ENTRY_LOAD_EFER)) {
		report(name, VERDICT_SKIP, "\"load IA32_EFER\" not allowed");
		return;
	}
	if (!fresh_vmcs(name))
		return;
	vmwrite(VM_ENTRY_CONTROLS, vmcs_get(VM_ENTRY_CONTROLS) | ENTRY_LOAD_EFER);
	vmwrite(GUEST_IA32_EFER, efer | BIT(1)); /* reserved */
	if (vm_enter(&regs, LAUNCH) != VM_ENTRY_EXITED) {
		expect_entry(name, VM_ENTRY_FELL_THROUGH, VM_ENTRY_EXITED, ENTRY_FAIL_GUEST_STATE, NULL,
			     "GUEST_IA32_EFER with reserved bit 1");
		return;
	}
	check(name, vmcs_get(VM_EXIT_REASON) == ENTRY_FAIL_GUEST_STATE && rdmsr(MSR_EFER) == efer,
	      "GUEST_IA32_EFER with reserved bit 1: exit reason %#lx, L1's EFER %#lx after it, expected %#x and %#lx",
	      vmcs_get(VM_EXIT_REASON), rdmsr(MSR_EFER), ENTRY_FAIL_GUEST_STATE, efer);
}

/*
 * SDM Vol. 3C 27.5.1: a VM exit without "load IA32_PAT" leaves PAT as L2
 * had it: L2 entered with "load IA32_PAT" and a PAT whose entry 7 (unused
 * by this guest's page tables) differs, so L1 must read that PAT after.
 */
static void check_pat_not_loaded(void)
{
	const char *name = "exits.pat_kept_without_load";
	uint64_t pat0 = rdmsr(MSR_IA32_PAT), pat2, after;
	enum vm_entry_result res;

	if (!(suite.caps.entry.may_be_one & ENTRY_LOAD_PAT)) {
		report(name, VERDICT_SKIP, "\"load IA32_PAT\" not allowed");
		return;
	}
	if (!fresh_vmcs(name))
		return;
	pat2 = (pat0 & ~(0xffULL << 56)) | ((((pat0 >> 56) & 0xff) == 1 ? 0ULL : 1ULL) << 56);
	vmwrite(VM_ENTRY_CONTROLS, vmcs_get(VM_ENTRY_CONTROLS) | ENTRY_LOAD_PAT);
	vmwrite(VM_EXIT_CONTROLS, vmcs_get(VM_EXIT_CONTROLS) & ~LOAD_PAT);
	vmwrite(GUEST_IA32_PAT, pat2);
	res = vm_enter(&regs, LAUNCH);
	after = rdmsr(MSR_IA32_PAT);
	wrmsr(MSR_IA32_PAT, pat0);
	check(name, res == VM_ENTRY_EXITED && vmcs_get(VM_EXIT_REASON) == EXIT_REASON_VMCALL && after == pat2,
	      "L2 entered with PAT %#lx, exit reason %#lx: L1 reads PAT %#lx after the exit, expected %#lx",
	      pat2, vmcs_get(VM_EXIT_REASON), after, pat2);
}

/* SDM Vol. 3C 24.4.2 and A.6: activity states and their IA32_VMX_MISC bits. */
#define INTERRUPTIBILITY_MOV_SS BIT(1)

static const struct {
	const char *name;
	uint32_t state, misc_bit;
} activity_states[] = {
	{ "entry.activity_hlt", 1, BIT(6) },
	{ "entry.activity_shutdown", 2, BIT(7) },
	{ "entry.activity_wait_sipi", 3, BIT(8) },
	{ "entry.activity_reserved", 4, 0 },
};

/*
 * SDM Vol. 3C 26.3.1.5: an activity state IA32_VMX_MISC does not advertise
 * is an invalid guest state. An advertised one is checked through another
 * rule of the same section (blocking by MOV SS needs the active state), so
 * that a CPU that advertises a state and one that does not both give
 * exit reason 33 and the check never leaves L2 in a state it cannot leave.
 */
static void check_activity_states(void)
{
	uint64_t misc = rdmsr(MSR_IA32_VMX_MISC);
	char what[96];

	for (size_t i = 0; i < ARRAY_SIZE(activity_states); i++) {
		bool advertised = activity_states[i].misc_bit && (misc & activity_states[i].misc_bit);
		uint64_t qual;

		if (!fresh_vmcs(activity_states[i].name))
			continue;
		vmwrite(GUEST_ACTIVITY_STATE, activity_states[i].state);
		if (advertised)
			vmwrite(GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_MOV_SS);
		fmt_snprintf(what, sizeof(what), "activity state %u (%s)%s", activity_states[i].state,
			     advertised ? "advertised" : "not advertised",
			     advertised ? " with blocking by MOV SS" : "");
		if (vm_enter(&regs, LAUNCH) != VM_ENTRY_EXITED) {
			expect_entry(activity_states[i].name, VM_ENTRY_FELL_THROUGH, VM_ENTRY_EXITED,
				     ENTRY_FAIL_GUEST_STATE, NULL, what);
			continue;
		}
		qual = vmcs_get(EXIT_QUALIFICATION);
		check(activity_states[i].name, vmcs_get(VM_EXIT_REASON) == ENTRY_FAIL_GUEST_STATE && qual == 0,
		      "%s: exit reason %#lx qualification %lu, expected %#x and 0", what,
		      vmcs_get(VM_EXIT_REASON), qual, ENTRY_FAIL_GUEST_STATE);
	}
}

void check_entry_failures(void)
{
	l2_regs_default(&regs);
	for (size_t i = 0; i < ARRAY_SIZE(ctl_words); i++)
		check_control_word(&ctl_words[i]);

	/*
	 * SDM Vol. 3C 26.2.1.3: an injected #GP whose error code has bits 31:16
	 * set is VMfailValid(7), even with a bad host state too (26.2.1 comes
	 * before 26.2.2).
	 */
	if (fresh_vmcs("entry.event_error_code_reserved")) {
		vmwrite(VM_ENTRY_INTR_INFO, BIT(31) | BIT(11) | (3u << 8) | 13u);
		vmwrite(VM_ENTRY_EXCEPTION_ERROR_CODE, 0x10000);
		vmwrite(HOST_CR4, read_cr4() & ~CR4_PAE);
		expect_entry("entry.event_error_code_reserved", vm_enter(&regs, LAUNCH), VM_ENTRY_FAIL_VALID,
			     VMXERR_ENTRY_INVALID_CONTROL_FIELD, NULL,
			     "injected #GP with error code 0x10000 (bits 31:16 reserved) and HOST_CR4 without PAE");
	}

	/* SDM Vol. 3C 26.2.2-26.2.4: host state, VMfailValid(8). */
	entry_case("entry.host_cr0_pg_clear", HOST_CR0, read_cr0() & ~CR0_PG, VM_ENTRY_FAIL_VALID,
		   VMXERR_ENTRY_INVALID_HOST_STATE_FIELD, "HOST_CR0 without PG");
	entry_case("entry.host_cr4_pae_clear", HOST_CR4, read_cr4() & ~CR4_PAE, VM_ENTRY_FAIL_VALID,
		   VMXERR_ENTRY_INVALID_HOST_STATE_FIELD, "HOST_CR4 without PAE, 64-bit host");
	entry_case("entry.host_cs_null", HOST_CS_SELECTOR, 0, VM_ENTRY_FAIL_VALID,
		   VMXERR_ENTRY_INVALID_HOST_STATE_FIELD, "HOST_CS_SELECTOR 0");
	entry_case("entry.host_tr_null", HOST_TR_SELECTOR, 0, VM_ENTRY_FAIL_VALID,
		   VMXERR_ENTRY_INVALID_HOST_STATE_FIELD, "HOST_TR_SELECTOR 0");
	/* Under umbra this field goes through the shadow VMCS: checked all the same. */
	entry_case("entry.host_gs_base_noncanonical", HOST_GS_BASE, 0x8000000000000000ULL,
		   VM_ENTRY_FAIL_VALID, VMXERR_ENTRY_INVALID_HOST_STATE_FIELD,
		   "HOST_GS_BASE not canonical, 64-bit host");

	/* SDM Vol. 3C 26.3.1: guest state, exit reason 0x80000021. */
	guest_state_case("entry.guest_rflags_bit1_clear", GUEST_RFLAGS, 0, ENTRY_QUAL_DEFAULT,
			 "GUEST_RFLAGS with reserved bit 1 clear");
	guest_state_case("entry.guest_cr0_pe_clear", GUEST_CR0, read_cr0() & ~CR0_PE,
			 ENTRY_QUAL_DEFAULT, "GUEST_CR0 with PG=1 and PE=0");
	guest_state_case("entry.guest_link_pointer_unaligned", VMCS_LINK_POINTER, PA(vmcs_a) + 8,
			 ENTRY_QUAL_LINK_POINTER, "VMCS_LINK_POINTER with bits 11:0 set");
	/* 26.3.1.5: a link pointer naming a VMCS of the right revision (bit 31 = shadowing, 0) is valid. */
	entry_case("entry.guest_link_pointer_vmcs", VMCS_LINK_POINTER, PA(vmcs_a), VM_ENTRY_EXITED,
		   EXIT_REASON_VMCALL, "VMCS_LINK_POINTER naming another VMCS (right revision)");
	guest_state_case("entry.guest_link_pointer_current", VMCS_LINK_POINTER, PA(vmcs_b),
			 ENTRY_QUAL_LINK_POINTER, "VMCS_LINK_POINTER naming the current VMCS");
	guest_state_case("entry.guest_link_pointer_bad_revision", VMCS_LINK_POINTER,
			 PA(vmcs_bad_revision), ENTRY_QUAL_LINK_POINTER,
			 "VMCS_LINK_POINTER naming a region with a wrong revision identifier");
	check_activity_states();
	check_failure_keeps_event();
	check_guest_state_before_msr_load();
	check_guest_state_before_msr_values();
	check_guest_efer_reserved();
	check_pat_not_loaded();
	vmclear(PA(vmcs_b));
}
