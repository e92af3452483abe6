/* SPDX-License-Identifier: BSD-2-Clause */
/* l2 group: a 64-bit L2 runs one instruction per check; L1 checks the VM exit it causes (SDM Vol. 3C 25, 27). */
#include "core/types.h" /* arch/x86/exit_reasons.h does not include it */
#include "arch/x86/exit_reasons.h"
#include "arch/x86/vmx_controls.h"
#include "tests/guests/lib/report.h"
#include "tests/guests/vmx/suite.h"

/* SDM Vol. 3C 27.2.1, Table 27-5: I/O instructions. */
#define IO_QUAL(size, in, imm, port) \
	(((size) - 1) | ((in) << 3) | ((imm) << 6) | ((uint64_t)(port) << 16))
#define IO_OUT 0
#define IO_IN 1
#define IO_DX 0
#define IO_IMM 1

/* SDM Vol. 3C 27.2.1, Table 27-3: control-register accesses. */
#define CR_QUAL(cr, type, gpr) ((cr) | ((type) << 4) | ((uint64_t)(gpr) << 8))
#define CR_MOV_TO 0
#define CR_MOV_FROM 1

/* SDM Vol. 3C 24.9.2, Table 24-18: VM-exit interruption information. */
#define INTR_INFO_VALID BIT(31)
#define INTR_TYPE_HW_EXCEPTION 3
#define INTR_INFO(vector, type) ((uint32_t)(INTR_INFO_VALID | ((type) << 8) | (vector)))
#define VEC_UD 6

struct exit_case {
	const char *name;
	uint32_t proc;           /* processor-based control the exit needs; 0: it always exits */
	uint32_t proc2;          /* or the secondary control it needs (with proc 0) */
	const char *control;     /* that control's SDM name, for SKIP */
	const char *insn, *next; /* the instruction in its L2 stub, and the VMCALL after it */
	uint32_t reason;
	uint64_t qualification;
	uint32_t intr_info;      /* exception exits; their instruction length is undefined (27.2.5) */
};

#define STUB(n) l2_##n, l2_##n##_end

static const struct exit_case exit_cases[] = {
	{ "l2.cpuid", 0, 0, NULL, STUB(cpuid), EXIT_REASON_CPUID, 0, 0 },
	{ "l2.hlt", HLT_EXITING, 0, "HLT exiting", STUB(hlt), EXIT_REASON_HLT, 0, 0 },
	{ "l2.io_out_imm8", UNCOND_IO_EXITING, 0, "unconditional I/O exiting", STUB(out_imm8),
	  EXIT_REASON_IO_INSTRUCTION, IO_QUAL(1, IO_OUT, IO_IMM, L2_OUT_PORT), 0 },
	{ "l2.io_in_dx", UNCOND_IO_EXITING, 0, "unconditional I/O exiting", STUB(in_dx),
	  EXIT_REASON_IO_INSTRUCTION, IO_QUAL(4, IO_IN, IO_DX, L2_IO_PORT), 0 },
	{ "l2.rdmsr", 0, 0, NULL, STUB(rdmsr), EXIT_REASON_MSR_READ, 0, 0 },
	{ "l2.wrmsr", 0, 0, NULL, STUB(wrmsr), EXIT_REASON_MSR_WRITE, 0, 0 },
	{ "l2.mov_to_cr3", CR3_LOAD_EXITING, 0, "CR3-load exiting", STUB(mov_to_cr3),
	  EXIT_REASON_CR_ACCESS, CR_QUAL(3, CR_MOV_TO, GPR_RBX), 0 },
	{ "l2.mov_from_cr3", CR3_STORE_EXITING, 0, "CR3-store exiting", STUB(mov_from_cr3),
	  EXIT_REASON_CR_ACCESS, CR_QUAL(3, CR_MOV_FROM, GPR_RSI), 0 },
	{ "l2.ud2_exception_bitmap", 0, 0, NULL, STUB(ud2), EXIT_REASON_EXCEPTION_NMI, 0,
	  INTR_INFO(VEC_UD, INTR_TYPE_HW_EXCEPTION) },
	{ "l2.rdtsc", RDTSC_EXITING, 0, "RDTSC exiting", STUB(rdtsc), EXIT_REASON_RDTSC, 0, 0 },
	{ "l2.invlpg", INVLPG_EXITING, 0, "INVLPG exiting", STUB(invlpg), EXIT_REASON_INVLPG,
	  L2_INVLPG_ADDR, 0 },
	{ "l2.vmcall", 0, 0, NULL, STUB(vmcall), EXIT_REASON_VMCALL, 0, 0 },
	/* Secondary controls (SDM Vol. 3C 25.1.3): SGDT's qualification is its displacement (27.2.1). */
	{ "l2.sgdt", 0, DESCRIPTOR_TABLE_EXITING, "descriptor-table exiting", STUB(sgdt),
	  EXIT_REASON_GDTR_IDTR, (uint64_t)-16, 0 },
	{ "l2.sldt", 0, DESCRIPTOR_TABLE_EXITING, "descriptor-table exiting", STUB(sldt),
	  EXIT_REASON_LDTR_TR, 0, 0 },
	{ "l2.rdrand", 0, RDRAND_EXITING, "RDRAND exiting", STUB(rdrand), EXIT_REASON_RDRAND, 0, 0 },
	{ "l2.rdseed", 0, RDSEED_EXITING, "RDSEED exiting", STUB(rdseed), EXIT_REASON_RDSEED, 0, 0 },
};

static struct l2_regs regs;

/* Point L2 at rip with a fresh stack and registers, controls proc, and enter it. */
static enum vm_entry_result run_l2(const char *rip, uint32_t proc, uint32_t proc2, int launch)
{
	if (proc2) {
		proc |= SECONDARY_CONTROLS;
		vmwrite(SECONDARY_VM_EXEC_CONTROL, proc2);
	}
	vmwrite(CPU_BASED_VM_EXEC_CONTROL, proc);
	vmwrite(GUEST_RIP, (uint64_t)rip);
	vmwrite(GUEST_RSP, L2_STACK_TOP);
	l2_regs_default(&regs);
	return vm_enter(&regs, launch);
}

static void run_case(const struct exit_case *c)
{
	const uint64_t len = (uint64_t)(c->next - c->insn);
	bool exception = c->intr_info != 0, ok;
	enum vm_entry_result res;
	struct exit_info e, after;
	char got[40];

	if (c->proc && !proc_allows(c->proc)) {
		report(c->name, VERDICT_SKIP, "%s not allowed by IA32_VMX_%sPROCBASED_CTLS", c->control,
		       (suite.caps.basic & VMX_BASIC_TRUE_CTLS) ? "TRUE_" : "");
		return;
	}
	if (c->proc2 && !proc2_allows(c->proc2)) {
		report(c->name, VERDICT_SKIP, "%s not allowed by IA32_VMX_PROCBASED_CTLS2", c->control);
		return;
	}
	res = run_l2(c->insn, ctl_proc(c->proc), c->proc2 ? ctl_proc2(c->proc2) : 0, 0);
	if (res != VM_ENTRY_EXITED) {
		report(c->name, VERDICT_FAIL, "VMRESUME: %s", entry_str(res, got, sizeof(got)));
		return;
	}
	exit_info_read(&e);
	/* The exit is fault-like: GUEST_RIP is the instruction itself (SDM Vol. 3C 27.3.3). */
	ok = e.reason == c->reason && e.qualification == c->qualification &&
	     e.rip == (uint64_t)c->insn && !(e.idt_vectoring & INTR_INFO_VALID) &&
	     (exception ? e.intr_info == c->intr_info : e.len == len);

	/* Resume past the instruction: the next exit is the VMCALL right after it. */
	vmwrite(GUEST_RIP, e.rip + (exception ? len : e.len));
	if (vm_enter(&regs, 0) == VM_ENTRY_EXITED) {
		exit_info_read(&after);
	} else {
		after = (struct exit_info){ 0 };
		ok = false;
	}
	ok = ok && after.reason == EXIT_REASON_VMCALL && after.rip == (uint64_t)c->next;
	check(c->name, ok,
	      "reason %u qual %#lx len %u intr %#x at insn%+ld; resumed: reason %u at next%+ld",
	      e.reason, e.qualification, e.len, e.intr_info, (long)(e.rip - (uint64_t)c->insn),
	      after.reason, (long)(after.rip - (uint64_t)c->next));
}

void check_exits(void)
{
	uint32_t bad = vmcs_prepare(&vmcs_a, l2_vmcall, L2_STACK_TOP);
	enum vm_entry_result res;

	if (bad) {
		report("l2.launch", VERDICT_FAIL, "VMCS set-up: field %#x refused", bad);
		return;
	}
	res = run_l2(l2_vmcall, ctl_proc(0), 0, 1);
	if (!expect_entry("l2.launch", res, VM_ENTRY_EXITED, EXIT_REASON_VMCALL, l2_vmcall,
			  "VMLAUNCH of a 64-bit L2 sharing L1's page tables")) {
		/* Without a launched L2 none of the exits can be seen. */
		for (size_t i = 0; i < ARRAY_SIZE(exit_cases); i++)
			report(exit_cases[i].name, VERDICT_FAIL, "L2 did not launch");
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(exit_cases); i++)
		run_case(&exit_cases[i]);
	vmclear(PA(vmcs_a));
}
