/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * legacy group: VMX from 32-bit protected mode (IA32_EFER.LMA = 0, 32-bit
 * paging), the mode of a 32-bit hypervisor. The suite leaves IA-32e mode
 * through compatibility mode (SDM Vol. 3A 9.8.5.4), runs VMXON, VMPTRLD,
 * VMREAD, VMWRITE, VMLAUNCH, VMCLEAR and VMXOFF there, and comes back.
 *
 * - Outside 64-bit mode VMREAD and VMWRITE take 32-bit operands (SDM Vol.
 *   3C 30.3): the field encoding is its register's low half. The field
 *   registers enter 32-bit mode with a non-zero upper half, which 32-bit
 *   code cannot see (SDM Vol. 1 3.4.1.1 leaves it undefined); whatever it
 *   holds, the instructions must succeed.
 * - The host's FS, GS, TR, GDTR and IDTR bases must be canonical whatever
 *   the "host address-space size" (SDM Vol. 3C 26.2.3 has no condition on
 *   it): a VMLAUNCH from the 32-bit host, whose VMCS holds a non-canonical
 *   base written earlier in 64-bit mode, fails with VMfailValid(8).
 */
#include "arch/x86/cpu.h"
#include "arch/x86/gdt.h"
#include "arch/x86/vmx_controls.h"
#include "core/string.h"
#include "tests/guests/lib/report.h"
#include "tests/guests/vmx/suite.h"

#define STR_(x) #x
#define STR(x) STR_(x)

/* The assembly's constants, checked against the C definitions. */
#define A_CR0_PG 0x80000000
#define A_CR0_NOT_PG 0x7fffffff
#define A_CR4_NOT_PAE 0xffffffdf
#define A_CR4_PSE 0x10
#define A_EFER 0xc0000080
#define A_EFER_LME 0x100
#define A_EFER_NOT_LME 0xfffffeff
#define A_VM_INSTRUCTION_ERROR 0x4400
_Static_assert(A_CR0_PG == CR0_PG && (uint32_t)~A_CR0_NOT_PG == CR0_PG && (uint32_t)~A_CR4_NOT_PAE == CR4_PAE &&
		       A_CR4_PSE == CR4_PSE && (uint32_t)~A_EFER_NOT_LME == EFER_LME,
	       "cpu.h");
_Static_assert(A_EFER == MSR_EFER && A_EFER_LME == EFER_LME && A_VM_INSTRUCTION_ERROR == VM_INSTRUCTION_ERROR,
	       "cpu.h, vmcs_fields.h");

/* What one trip to 32-bit mode does and finds; the assembly uses these offsets. */
struct legacy_run {
	uint64_t vmxon_pa;  /* 0 */
	uint64_t vmcs_pa;   /* 8 */
	uint64_t rfield;    /* 16: VMREAD's field, upper half non-zero */
	uint64_t wfield;    /* 24: VMWRITE's field, upper half non-zero */
	uint32_t pd;        /* 32: the 32-bit paging directory */
	uint32_t wvalue;    /* 36: VMWRITE's value */
	uint32_t rvalue;    /* 40: what VMREAD read */
	uint32_t error;     /* 44: VM_INSTRUCTION_ERROR after VMLAUNCH */
	uint32_t flags[6];  /* 48: RFLAGS after VMXON, VMPTRLD, VMREAD, VMWRITE, VMLAUNCH, VMXOFF */
	uint64_t cr3, cr4;  /* 72, 80: IA-32e mode's, restored on the way back */
	uint64_t rsp, ret;  /* 88, 96 */
};
_Static_assert(__builtin_offsetof(struct legacy_run, pd) == 32 && __builtin_offsetof(struct legacy_run, flags) == 48 &&
		       __builtin_offsetof(struct legacy_run, cr3) == 72 && __builtin_offsetof(struct legacy_run, ret) == 96,
	       "offsets the assembly uses");

enum { FL_VMXON, FL_VMPTRLD, FL_VMREAD, FL_VMWRITE, FL_VMLAUNCH, FL_VMXOFF };

/* 32-bit paging: 4 MiB pages identity-mapping the 4 GiB (SDM Vol. 3A 4.3). */
static uint32_t legacy_pd[1024] __aligned(PAGE_SIZE);
static struct legacy_run run;

/*
 * void legacy_vmx_run(struct legacy_run *r), r below 4 GiB. Interrupts stay
 * off throughout: the IDT holds 64-bit gates. Paging is off only between
 * the CR0 writes, while the code runs from identity-mapped memory.
 */
__asm__(".pushsection .text\n"
	".globl legacy_vmx_run\n"
	"legacy_vmx_run:\n\t"
	"pushq %rbx\n\t"
	"pushq %rbp\n\t"
	"pushq %r12\n\t"
	"pushq %r13\n\t"
	"pushq %r14\n\t"
	"pushq %r15\n\t"
	"pushfq\n\t"
	"cli\n\t"
	"movq %rdi, %rbp\n\t"
	"movq %rsp, 88(%rbp)\n\t"
	"movq %cr3, %rax\n\t"
	"movq %rax, 72(%rbp)\n\t"
	"movq %cr4, %rax\n\t"
	"movq %rax, 80(%rbp)\n\t"
	"leaq 9f(%rip), %rax\n\t"
	"movq %rax, 96(%rbp)\n\t"
	"movq 16(%rbp), %rsi\n\t"
	"movq 24(%rbp), %rdi\n\t"
	"pushq $" STR(SEL_CODE32) "\n\t"
	"leaq 1f(%rip), %rax\n\t"
	"pushq %rax\n\t"
	"lretq\n"
	".code32\n"
	"1:\n\t"
	/* Compatibility mode: paging off leaves IA-32e mode, then LME off. */
	"movl %cr0, %eax\n\t"
	"andl $" STR(A_CR0_NOT_PG) ", %eax\n\t"
	"movl %eax, %cr0\n\t"
	"movl $" STR(A_EFER) ", %ecx\n\t"
	"rdmsr\n\t"
	"andl $" STR(A_EFER_NOT_LME) ", %eax\n\t"
	"wrmsr\n\t"
	"movl %cr4, %eax\n\t"
	"andl $" STR(A_CR4_NOT_PAE) ", %eax\n\t"
	"orl $" STR(A_CR4_PSE) ", %eax\n\t"
	"movl %eax, %cr4\n\t"
	"movl 32(%ebp), %eax\n\t"
	"movl %eax, %cr3\n\t"
	"movl %cr0, %eax\n\t"
	"orl $" STR(A_CR0_PG) ", %eax\n\t"
	"movl %eax, %cr0\n\t"
	/* 32-bit protected mode with 32-bit paging. */
	"vmxon 0(%ebp)\n\t"
	"pushfl\n\t"
	"popl 48(%ebp)\n\t"
	"vmptrld 8(%ebp)\n\t"
	"pushfl\n\t"
	"popl 52(%ebp)\n\t"
	"movl $0xdeadbeef, %ebx\n\t"
	"vmread %esi, %ebx\n\t"
	"pushfl\n\t"
	"popl 56(%ebp)\n\t"
	"movl %ebx, 40(%ebp)\n\t"
	"movl 36(%ebp), %ebx\n\t"
	"vmwrite %ebx, %edi\n\t"
	"pushfl\n\t"
	"popl 60(%ebp)\n\t"
	"vmlaunch\n\t"
	"pushfl\n\t"
	"popl 64(%ebp)\n\t"
	"movl $" STR(A_VM_INSTRUCTION_ERROR) ", %eax\n\t"
	"movl $0, %ebx\n\t"
	"vmread %eax, %ebx\n\t"
	"movl %ebx, 44(%ebp)\n\t"
	"vmclear 8(%ebp)\n\t"
	"vmxoff\n\t"
	"pushfl\n\t"
	"popl 68(%ebp)\n\t"
	/* Back: paging off, IA-32e paging structures, LME, paging on: compatibility mode. */
	"movl %cr0, %eax\n\t"
	"andl $" STR(A_CR0_NOT_PG) ", %eax\n\t"
	"movl %eax, %cr0\n\t"
	"movl 80(%ebp), %eax\n\t"
	"movl %eax, %cr4\n\t"
	"movl 72(%ebp), %eax\n\t"
	"movl %eax, %cr3\n\t"
	"movl $" STR(A_EFER) ", %ecx\n\t"
	"rdmsr\n\t"
	"orl $" STR(A_EFER_LME) ", %eax\n\t"
	"wrmsr\n\t"
	"movl %cr0, %eax\n\t"
	"orl $" STR(A_CR0_PG) ", %eax\n\t"
	"movl %eax, %cr0\n\t"
	"pushl $" STR(SEL_CODE64) "\n\t"
	"pushl 96(%ebp)\n\t"
	"lretl\n"
	/* HOST_RIP: a VM exit to the 32-bit host is a failure of this group. */
	".globl legacy_host_rip\n"
	"legacy_host_rip:\n\t"
	"ud2\n"
	".code64\n"
	"9:\n\t"
	"movq 88(%rbp), %rsp\n\t"
	"popfq\n\t"
	"popq %r15\n\t"
	"popq %r14\n\t"
	"popq %r13\n\t"
	"popq %r12\n\t"
	"popq %rbp\n\t"
	"popq %rbx\n\t"
	"ret\n"
	".popsection\n");

void legacy_vmx_run(struct legacy_run *r);
extern const char legacy_host_rip[];

static enum vmx_result result_of(uint32_t rflags)
{
	return VMX_ASM_RESULT(rflags & RFLAGS_CF, rflags & RFLAGS_ZF);
}

/* Field encodings with a non-zero upper half (no CPU has a field there: VMfailValid(12) in 64-bit mode). */
#define UPPER_HALF 0x5a5a5a5a00000000ULL

static const struct {
	const char *name;
	uint32_t field;
} bases[] = {
	{ "legacy.host_fs_base_noncanonical", HOST_FS_BASE },
	{ "legacy.host_gs_base_noncanonical", HOST_GS_BASE },
	{ "legacy.host_tr_base_noncanonical", HOST_TR_BASE },
	{ "legacy.host_gdtr_base_noncanonical", HOST_GDTR_BASE },
	{ "legacy.host_idtr_base_noncanonical", HOST_IDTR_BASE },
};

/*
 * In 64-bit mode: vmcs_a as the suite fills it, turned into a 32-bit
 * host's VMCS (host address-space size 0, no IA-32e mode guest, host EFER
 * without LME/LMA) with one non-canonical base; then VMCLEAR and VMXOFF.
 */
static bool prepare(uint32_t base_field, uint64_t *pin)
{
	if (vmcs_prepare(&vmcs_a, l2_vmcall, L2_STACK_TOP) != 0)
		return false;
	vmwrite(VM_EXIT_CONTROLS, vmcs_get(VM_EXIT_CONTROLS) & ~HOST_ADDR_SPACE_SIZE);
	vmwrite(VM_ENTRY_CONTROLS, vmcs_get(VM_ENTRY_CONTROLS) & ~IA32E_MODE_GUEST);
	vmwrite(HOST_IA32_EFER, rdmsr(MSR_EFER) & ~(EFER_LME | EFER_LMA));
	vmwrite(HOST_RIP, (uint64_t)legacy_host_rip);
	vmwrite(HOST_RSP, L2_STACK_TOP);
	vmwrite(CR3_TARGET_COUNT, 0);
	vmwrite(base_field, 0x8000000000000000ULL);
	*pin = vmcs_get(PIN_BASED_VM_EXEC_CONTROL);
	return vmclear(PA(vmcs_a)) == VMX_SUCCEED && vmxoff() == VMX_SUCCEED;
}

/* Back in 64-bit mode: VMX on again, as the suite had it. */
static bool vmx_back_on(void)
{
	return vmxon(PA(vmxon_region)) == VMX_SUCCEED;
}

void check_legacy(void)
{
	char buf[32];
	uint64_t count = ~0ULL, pin;

	for (unsigned int i = 0; i < 1024; i++)
		legacy_pd[i] = (i << 22) | 0x83; /* present, writable, 4 MiB page */
	for (unsigned int i = 0; i < ARRAY_SIZE(bases); i++) {
		if (!prepare(bases[i].field, &pin)) {
			report(bases[i].name, VERDICT_FAIL, "setting up the VMCS in 64-bit mode failed");
			return;
		}
		memset(&run, 0, sizeof(run));
		run.vmxon_pa = PA(vmxon_region);
		run.vmcs_pa = PA(vmcs_a);
		run.rfield = UPPER_HALF | PIN_BASED_VM_EXEC_CONTROL;
		run.wfield = UPPER_HALF | CR3_TARGET_COUNT;
		run.pd = (uint32_t)(uint64_t)legacy_pd;
		run.wvalue = 1;
		legacy_vmx_run(&run);
		if (i == 0) {
			check("legacy.vmxon", result_of(run.flags[FL_VMXON]) == VMX_SUCCEED &&
						      result_of(run.flags[FL_VMPTRLD]) == VMX_SUCCEED,
			      "VMXON %u, VMPTRLD %u in 32-bit protected mode", result_of(run.flags[FL_VMXON]),
			      result_of(run.flags[FL_VMPTRLD]));
			check("legacy.vmread_field_upper_half", result_of(run.flags[FL_VMREAD]) == VMX_SUCCEED &&
									run.rvalue == (uint32_t)pin,
			      "VMREAD of %#lx: %u, read %#x (64-bit mode read %#lx)", run.rfield,
			      result_of(run.flags[FL_VMREAD]), run.rvalue, pin);
		}
		expect_outcome(bases[i].name,
			       (struct outcome){ result_of(run.flags[FL_VMLAUNCH]), run.error },
			       VMX_FAIL_VALID, VMXERR_ENTRY_INVALID_HOST_STATE_FIELD,
			       "VMLAUNCH from a 32-bit host with a non-canonical base");
		if (!vmx_back_on()) {
			report("legacy.vmxoff", VERDICT_FAIL, "VMXON in 64-bit mode after the trip failed");
			return;
		}
		if (i == 0) {
			if (vmptrld(PA(vmcs_a)) == VMX_SUCCEED)
				count = vmcs_get(CR3_TARGET_COUNT);
			check("legacy.vmwrite_field_upper_half",
			      result_of(run.flags[FL_VMWRITE]) == VMX_SUCCEED && count == 1,
			      "VMWRITE of 1 to %#lx: %u; CR3_TARGET_COUNT now %lu", run.wfield,
			      result_of(run.flags[FL_VMWRITE]), count);
			vmclear(PA(vmcs_a));
		}
	}
	check("legacy.vmxoff", result_of(run.flags[FL_VMXOFF]) == VMX_SUCCEED, "VMXOFF in 32-bit mode: %s",
	      outcome_str((struct outcome){ result_of(run.flags[FL_VMXOFF]), 0 }, buf, sizeof(buf)));
}
