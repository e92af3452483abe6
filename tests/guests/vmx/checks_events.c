/* SPDX-License-Identifier: BSD-2-Clause */
/* events group: VM-entry event injection, IDT-vectoring information, window exits (SDM Vol. 3C 26.6, 27.2.4, 25.2). */
#include "arch/x86/cpu.h"
#include "core/types.h" /* arch/x86/exit_reasons.h does not include it */
#include "arch/x86/exit_reasons.h"
#include "arch/x86/vmx_caps.h"
#include "arch/x86/vmx_controls.h"
#include "core/string.h"
#include "tests/guests/lib/report.h"
#include "tests/guests/vmx/suite.h"

/* VM-entry interruption information (SDM Vol. 3C 24.8.3, Table 24-16). */
#define EV_VALID ((uint32_t)BIT(31))
#define EV_ERROR_CODE BIT(11)
#define EV_TYPE(t) ((uint32_t)(t) << 8)
#define EV_EXT_INT 0
#define EV_NMI 2
#define EV_HW_EXCEPTION 3
#define EV_SW_INT 4
#define EV_PRIV_SW_EXCEPTION 5
#define EV_SW_EXCEPTION 6

#define VEC_DB 1
#define VEC_NMI 2
#define VEC_BP 3
#define VEC_UD 6
#define VEC_GP 13
#define VEC_EXT 0x40
#define VEC_SOFT 0x80
#define INSN_LEN_INT 2 /* INT n: CD ib */
#define RFLAGS_IF BIT(9)
#define ACTIVITY_HLT 1
#define IDT_GATE_INTR64 0xeu

/*
 * L2's IDT: each vector the checks inject has a handler that loads its
 * vector into EAX and the two quadwords at RSP (error code or RIP, RIP or
 * CS) into RBX and RCX, then VMCALLs, so L1 sees what the CPU delivered.
 */
#define EVENT_VECTORS(X) X(1) X(2) X(3) X(6) X(13) X(64) X(128)

#define EVENT_HANDLER(v)                                        \
	__asm__(".pushsection .text\n"                           \
		"ev_handler_" #v ":\n\t"                         \
		"mov $" #v ", %eax\n\t"                          \
		"mov (%rsp), %rbx\n\t"                           \
		"mov 8(%rsp), %rcx\n\t"                          \
		"vmcall\n"                                       \
		".popsection\n");                                \
	extern const char ev_handler_##v[];
EVENT_VECTORS(EVENT_HANDLER)
#undef EVENT_HANDLER

struct idt_gate {
	uint16_t off_lo, sel;
	uint8_t ist, type_attr;
	uint16_t off_mid;
	uint32_t off_hi, zero;
} __packed;
_Static_assert(sizeof(struct idt_gate) == 16, "a 64-bit IDT gate is 16 bytes");

static struct idt_gate l2_idt[256] __aligned(PAGE_SIZE);

static void set_gate(unsigned int v, const void *handler, uint16_t cs)
{
	uint64_t a = (uint64_t)handler;

	/* Present, DPL 3 (an injected INT n checks the gate's DPL), 64-bit interrupt gate. */
	l2_idt[v] = (struct idt_gate){ (uint16_t)a, cs, 0, 0x80 | (3u << 5) | IDT_GATE_INTR64, (uint16_t)(a >> 16),
				       (uint32_t)(a >> 32), 0 };
}

static void l2_idt_init(void)
{
	uint16_t cs;

	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	memset(l2_idt, 0, sizeof(l2_idt));
#define EVENT_GATE(v) set_gate(v, ev_handler_##v, cs);
	EVENT_VECTORS(EVENT_GATE)
#undef EVENT_GATE
}

/*
 * L2 at l2_vmcall with its IDT (limit as given) and event info injected; the
 * exit and L2's registers. With ept, L2 runs on an identity EPT of L1's
 * that INVEPT has just invalidated: under a hypervisor whose shadow EPT is
 * filled on demand, the event's delivery (IDT, stack) takes the first
 * EPT violations, which the hypervisor keeps and must not lose the event
 * to (SDM Vol. 3C 27.2.4: their IDT-vectoring information names it).
 */
static bool enter_on(const char *name, uint32_t info, uint32_t err, uint32_t len, uint32_t idt_limit, bool ept,
		     struct l2_regs *regs, struct exit_info *e)
{
	enum vm_entry_result res;
	char buf[48];

	if (vmcs_prepare(&vmcs_b, l2_vmcall, L2_STACK_TOP) != 0) {
		report(name, VERDICT_FAIL, "VMCS set-up failed");
		return false;
	}
	vmwrite(GUEST_IDTR_BASE, (uint64_t)l2_idt);
	vmwrite(GUEST_IDTR_LIMIT, idt_limit);
	vmwrite(VM_ENTRY_INTR_INFO, info);
	vmwrite(VM_ENTRY_EXCEPTION_ERROR_CODE, err);
	vmwrite(VM_ENTRY_INSTRUCTION_LEN, len);
	if (ept) {
		vmwrite(CPU_BASED_VM_EXEC_CONTROL, vmcs_get(CPU_BASED_VM_EXEC_CONTROL) | SECONDARY_CONTROLS);
		vmwrite(SECONDARY_VM_EXEC_CONTROL, ctl_proc2(ENABLE_EPT));
		vmwrite(EPT_POINTER, ept_identity_eptp());
		invept(INVEPT_ALL_CONTEXT, 0);
	}
	/* 26.3.1.5: an external interrupt is injected only with RFLAGS.IF = 1. */
	if (((info >> 8) & 7) == EV_EXT_INT)
		vmwrite(GUEST_RFLAGS, vmcs_get(GUEST_RFLAGS) | RFLAGS_IF);
	l2_regs_default(regs);
	res = vm_enter(regs, 1);
	if (res != VM_ENTRY_EXITED) {
		report(name, VERDICT_FAIL, "VMLAUNCH: %s", entry_str(res, buf, sizeof(buf)));
		vmclear(PA(vmcs_b));
		return false;
	}
	exit_info_read(e);
	return true;
}

static bool enter_with(const char *name, uint32_t info, uint32_t err, uint32_t len, uint32_t idt_limit,
		       struct l2_regs *regs, struct exit_info *e)
{
	return enter_on(name, info, err, len, idt_limit, false, regs, e);
}

struct inject_case {
	const char *name, *ept_name;
	uint32_t type, vector, err;
	bool has_err;
	uint32_t len; /* software events: the RIP pushed is L2's RIP + len */
};

/* Every injection type delivers its vector through L2's IDT with the error code and return RIP it should. */
static void check_injection(void)
{
	static const struct inject_case cases[] = {
#define NAMES(n) "events.inject_" n, "events.inject_" n "_ept"
		{ NAMES("ext_int"), EV_EXT_INT, VEC_EXT, 0, false, 0 },
		{ NAMES("nmi"), EV_NMI, VEC_NMI, 0, false, 0 },
		{ NAMES("hw_exception"), EV_HW_EXCEPTION, VEC_UD, 0, false, 0 },
		{ NAMES("hw_exception_error_code"), EV_HW_EXCEPTION, VEC_GP, 0x1234, true, 0 },
		{ NAMES("sw_int"), EV_SW_INT, VEC_SOFT, 0, false, INSN_LEN_INT },
		{ NAMES("priv_sw_exception"), EV_PRIV_SW_EXCEPTION, VEC_DB, 0, false, 1 },
		{ NAMES("sw_exception"), EV_SW_EXCEPTION, VEC_BP, 0, false, 1 },
#undef NAMES
	};
	struct l2_regs regs;
	struct exit_info e;

	bool ept_ok = proc2_allows(ENABLE_EPT) && (suite.caps.ept_vpid & EPT_CAP_INVEPT_ALL);

	for (size_t i = 0; i < 2 * ARRAY_SIZE(cases); i++) {
		const struct inject_case *c = &cases[i % ARRAY_SIZE(cases)];
		bool ept = i >= ARRAY_SIZE(cases);
		const char *name = ept ? c->ept_name : c->name;
		uint32_t info = EV_VALID | EV_TYPE(c->type) | c->vector | (c->has_err ? EV_ERROR_CODE : 0);
		uint64_t want_rip = (uint64_t)l2_vmcall + c->len, rip, err;

		if (ept && !ept_ok) {
			report(name, VERDICT_SKIP, "no EPT with INVEPT all-context");
			continue;
		}
		if (!enter_on(name, info, c->err, c->len, sizeof(l2_idt) - 1, ept, &regs, &e))
			continue;
		/* With an error code the handler's RSP holds it, then RIP. */
		rip = c->has_err ? regs.gpr[GPR_RCX] : regs.gpr[GPR_RBX];
		err = c->has_err ? regs.gpr[GPR_RBX] : 0;
		check(name,
		      e.reason == EXIT_REASON_VMCALL && regs.gpr[GPR_RAX] == c->vector && rip == want_rip &&
			      err == c->err && !(vmcs_get(VM_ENTRY_INTR_INFO) & EV_VALID),
		      "type %u vector %#x: exit reason %u, handler of vector %#lx, return RIP %+ld, error code %#lx; "
		      "entry information %#lx after the exit",
		      c->type, c->vector, e.reason, regs.gpr[GPR_RAX], (long)(rip - (uint64_t)l2_vmcall), err,
		      vmcs_get(VM_ENTRY_INTR_INFO));
		vmclear(PA(vmcs_b));
	}
}

/*
 * An injected INT 0x80 whose gate is past the IDT limit: its delivery
 * raises #GP (error code: the vector's IDT entry, IDT bit set), which the
 * exception bitmap makes a VM exit; the IDT-vectoring information is the
 * software interrupt being delivered, and the instruction length its (27.2.4).
 */
static void check_idt_vectoring(void)
{
	const char *name = "events.idt_vectoring_sw_int";
	uint32_t want_vec = EV_VALID | EV_TYPE(EV_SW_INT) | VEC_SOFT;
	uint32_t want_intr = EV_VALID | EV_TYPE(EV_HW_EXCEPTION) | EV_ERROR_CODE | VEC_GP;
	uint64_t want_err = VEC_SOFT * 8 + 2, err;
	struct l2_regs regs;
	struct exit_info e;

	if (!enter_with(name, EV_VALID | EV_TYPE(EV_SW_INT) | VEC_SOFT, 0, INSN_LEN_INT, VEC_SOFT * 16 - 1, &regs, &e))
		return;
	err = vmcs_get(VM_EXIT_INTR_ERROR_CODE);
	check(name,
	      e.reason == EXIT_REASON_EXCEPTION_NMI && e.intr_info == want_intr && err == want_err &&
		      e.idt_vectoring == want_vec && e.len == INSN_LEN_INT && e.rip == (uint64_t)l2_vmcall,
	      "exit reason %u, interruption %#x (expected %#x) error code %#lx (expected %#lx), IDT-vectoring %#x "
	      "(expected %#x), length %u, RIP %+ld",
	      e.reason, e.intr_info, want_intr, err, want_err, e.idt_vectoring, want_vec, e.len,
	      (long)(e.rip - (uint64_t)l2_vmcall));
	vmclear(PA(vmcs_b));
}

/* Interrupt-window exiting with RFLAGS.IF = 1, NMI-window exiting without blocking: an exit before L2's first instruction (25.2). */
static void check_windows(void)
{
	struct l2_regs regs;
	enum vm_entry_result res;
	uint32_t reason;

	if (vmcs_prepare(&vmcs_b, l2_vmcall, L2_STACK_TOP) == 0) {
		vmwrite(CPU_BASED_VM_EXEC_CONTROL, ctl_proc(INTR_WINDOW_EXITING));
		vmwrite(GUEST_RFLAGS, vmcs_get(GUEST_RFLAGS) | RFLAGS_IF);
		l2_regs_default(&regs);
		res = vm_enter(&regs, 1);
		reason = res == VM_ENTRY_EXITED ? (uint32_t)vmcs_get(VM_EXIT_REASON) : ~0u;
		check("events.interrupt_window", reason == EXIT_REASON_INTERRUPT_WINDOW &&
							 vmcs_get(GUEST_RIP) == (uint64_t)l2_vmcall,
		      "IF=1, interrupt-window exiting: exit reason %u at RIP %+ld", reason,
		      (long)(vmcs_get(GUEST_RIP) - (uint64_t)l2_vmcall));
		vmclear(PA(vmcs_b));
	}
	if (!(suite.caps.pin.may_be_one & VIRTUAL_NMIS) || !proc_allows(NMI_WINDOW_EXITING)) {
		report("events.nmi_window", VERDICT_SKIP, "no virtual NMIs or NMI-window exiting");
		return;
	}
	if (vmcs_prepare(&vmcs_b, l2_vmcall, L2_STACK_TOP) == 0) {
		vmwrite(PIN_BASED_VM_EXEC_CONTROL, ctl_pin(NMI_EXITING | VIRTUAL_NMIS));
		vmwrite(CPU_BASED_VM_EXEC_CONTROL, ctl_proc(NMI_WINDOW_EXITING));
		l2_regs_default(&regs);
		res = vm_enter(&regs, 1);
		reason = res == VM_ENTRY_EXITED ? (uint32_t)vmcs_get(VM_EXIT_REASON) : ~0u;
		check("events.nmi_window", reason == EXIT_REASON_NMI_WINDOW && vmcs_get(GUEST_RIP) == (uint64_t)l2_vmcall,
		      "no virtual-NMI blocking, NMI-window exiting: exit reason %u at RIP %+ld", reason,
		      (long)(vmcs_get(GUEST_RIP) - (uint64_t)l2_vmcall));
		vmclear(PA(vmcs_b));
	}
}

/*
 * An external interrupt injected while RFLAGS.IF = 0 is an invalid guest
 * state (SDM 26.3.1.5): a VM-entry failure, reason 33 with bit 31; the
 * failed entry leaves the VM-entry interruption information as it was.
 */
static void check_ext_int_if0(void)
{
	const char *name = "events.inject_ext_int_if0";
	struct l2_regs regs;
	struct exit_info e;
	uint32_t info = EV_VALID | EV_TYPE(EV_EXT_INT) | VEC_EXT;

	if (vmcs_prepare(&vmcs_b, l2_vmcall, L2_STACK_TOP) != 0) {
		report(name, VERDICT_FAIL, "VMCS set-up failed");
		return;
	}
	vmwrite(VM_ENTRY_INTR_INFO, info);
	l2_regs_default(&regs);
	if (vm_enter(&regs, 1) != VM_ENTRY_EXITED) {
		report(name, VERDICT_FAIL, "VMLAUNCH did not come back through HOST_RIP");
	} else {
		exit_info_read(&e);
		check(name,
		      e.reason == (EXIT_REASON_ENTRY_FAILURE | EXIT_REASON_INVALID_GUEST_STATE) &&
			      vmcs_get(VM_ENTRY_INTR_INFO) == info,
		      "IF=0: exit reason %#x (expected %#x), entry information %#lx after it (expected %#x)", e.reason,
		      (uint32_t)(EXIT_REASON_ENTRY_FAILURE | EXIT_REASON_INVALID_GUEST_STATE),
		      vmcs_get(VM_ENTRY_INTR_INFO), info);
	}
	vmclear(PA(vmcs_b));
}

/*
 * L2 entered in the HLT activity state with an event injected: the event
 * is delivered and L2 is active again (SDM 26.6.2, 26.7.1): its handler runs.
 */
static void check_hlt_wakeup(void)
{
	const char *name = "events.hlt_woken_by_injection";
	struct l2_regs regs;
	struct exit_info e;

	if (!(suite.caps.misc & VMX_MISC_ACTIVITY_HLT)) {
		report(name, VERDICT_SKIP, "activity state HLT not supported");
		return;
	}
	if (vmcs_prepare(&vmcs_b, l2_vmcall, L2_STACK_TOP) != 0) {
		report(name, VERDICT_FAIL, "VMCS set-up failed");
		return;
	}
	vmwrite(GUEST_IDTR_BASE, (uint64_t)l2_idt);
	vmwrite(GUEST_IDTR_LIMIT, sizeof(l2_idt) - 1);
	vmwrite(GUEST_ACTIVITY_STATE, ACTIVITY_HLT);
	vmwrite(VM_ENTRY_INTR_INFO, EV_VALID | EV_TYPE(EV_HW_EXCEPTION) | VEC_UD);
	l2_regs_default(&regs);
	if (vm_enter(&regs, 1) != VM_ENTRY_EXITED) {
		report(name, VERDICT_FAIL, "VMLAUNCH did not come back through HOST_RIP");
	} else {
		exit_info_read(&e);
		check(name, e.reason == EXIT_REASON_VMCALL && regs.gpr[GPR_RAX] == VEC_UD &&
				    vmcs_get(GUEST_ACTIVITY_STATE) == 0,
		      "halted L2, #UD injected: exit reason %u, handler of vector %#lx, activity state %lu", e.reason,
		      regs.gpr[GPR_RAX], vmcs_get(GUEST_ACTIVITY_STATE));
	}
	vmclear(PA(vmcs_b));
}

/* xAPIC registers (SDM Vol. 3A Table 10-1) and the self-IPI of a fixed vector (10.6.1). */
#define XAPIC_BASE 0xfee00000ULL
#define XAPIC_EOI 0xb0
#define XAPIC_SVR 0xf0
#define XAPIC_ICR_LOW 0x300
#define SVR_ENABLE BIT(8)
#define ICR_SELF BIT(18)
#define APIC_BASE_EXTD BIT(10)
#define VEC_SELF_IPI 0x41

static volatile uint32_t *xapic(uint32_t reg)
{
	return (volatile uint32_t *)(XAPIC_BASE + reg);
}

/*
 * External-interrupt exiting with "acknowledge interrupt on exit": a
 * self-IPI L1 sent with IF=0 is pending when L2 (IF=1) starts; the exit
 * (reason 1) comes before L2's first instruction with the vector in the
 * VM-exit interruption information (SDM 25.2, 27.2.2). L1 then EOIs it.
 */
static void check_ext_int_exit(void)
{
	const char *name = "events.ext_int_exit_ack";
	struct l2_regs regs;
	enum vm_entry_result res;
	uint32_t svr, reason = ~0u, info = 0;

	if (rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_EXTD) {
		report(name, VERDICT_SKIP, "the local APIC is in x2APIC mode");
		return;
	}
	if (!(suite.caps.exit.may_be_one & ACK_INTR_ON_EXIT) || vmcs_prepare(&vmcs_b, l2_vmcall, L2_STACK_TOP) != 0) {
		report(name, VERDICT_FAIL, "no acknowledge interrupt on exit, or VMCS set-up failed");
		return;
	}
	vmwrite(PIN_BASED_VM_EXEC_CONTROL, ctl_pin(EXT_INT_EXITING));
	vmwrite(VM_EXIT_CONTROLS, ctl_exit(HOST_ADDR_SPACE_SIZE | ACK_INTR_ON_EXIT));
	vmwrite(GUEST_RFLAGS, vmcs_get(GUEST_RFLAGS) | RFLAGS_IF);
	svr = *xapic(XAPIC_SVR);
	*xapic(XAPIC_SVR) = svr | SVR_ENABLE;
	*xapic(XAPIC_ICR_LOW) = ICR_SELF | VEC_SELF_IPI; /* fixed, edge: pending while L1 has IF=0 */
	l2_regs_default(&regs);
	res = vm_enter(&regs, 1);
	if (res == VM_ENTRY_EXITED) {
		reason = (uint32_t)vmcs_get(VM_EXIT_REASON);
		info = (uint32_t)vmcs_get(VM_EXIT_INTR_INFO);
	}
	*xapic(XAPIC_EOI) = 0; /* the exit acknowledged it: in service until this EOI */
	*xapic(XAPIC_SVR) = svr;
	check(name,
	      reason == EXIT_REASON_EXTERNAL_INTERRUPT && info == (EV_VALID | EV_TYPE(EV_EXT_INT) | VEC_SELF_IPI) &&
		      vmcs_get(GUEST_RIP) == (uint64_t)l2_vmcall,
	      "self-IPI %#x pending, L2 with IF=1: exit reason %u, interruption information %#x (expected %#x), "
	      "RIP %+ld",
	      VEC_SELF_IPI, reason, info, EV_VALID | EV_TYPE(EV_EXT_INT) | VEC_SELF_IPI,
	      (long)(vmcs_get(GUEST_RIP) - (uint64_t)l2_vmcall));
	vmclear(PA(vmcs_b));
}

void check_events(void)
{
	l2_idt_init();
	/* Window exits first: Bochs never clears a virtual-NMI block an injected NMI sets (docs/bochs.md). */
	check_windows();
	check_ext_int_if0();
	check_injection();
	check_idt_vectoring();
	check_hlt_wakeup();
	check_ext_int_exit();
}
