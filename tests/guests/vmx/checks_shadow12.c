/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * shadow12 group: VMCS shadowing as L1 uses it for its own L2 (secondary
 * control 14, SDM Vol. 3C 24.6.15, 24.10, 25.1.3, 26.2.1.1, 26.3.1.5,
 * 30.3). L2 runs VMREAD and VMWRITE; those whose field's bit is clear in
 * L1's VMREAD/VMWRITE bitmap reach the shadow VMCS the link pointer names
 * without a VM exit, the others exit to L1.
 */
#include "arch/x86/cpu.h"
#include "core/types.h" /* arch/x86/exit_reasons.h does not include it */
#include "arch/x86/exit_reasons.h"
#include "arch/x86/vmx_caps.h"
#include "arch/x86/vmx_controls.h"
#include "core/string.h"
#include "tests/guests/lib/report.h"
#include "tests/guests/vmx/suite.h"

#define SHADOW_INDICATOR 0x80000000u /* revision word bit 31 (SDM Vol. 3C 24.2) */
#define ENC_UNUSED_INDEX 0x0ffeu     /* 16-bit host-state, index 511: no CPU has it */
#define ENC_ABOVE_BIT_14 0x8000u
#define READ_VALUE 0x1122334455667788ULL
#define WRITE_VALUE 0x0badc0ffee15600dULL
#define ENTRY_QUAL_LINK_POINTER 4 /* SDM Vol. 3C 26.8 */

static struct vmx_region shadow_vmcs;
static uint8_t vmread_bitmap[PAGE_SIZE] __aligned(PAGE_SIZE);
static uint8_t vmwrite_bitmap[PAGE_SIZE] __aligned(PAGE_SIZE);

/*
 * L2: VMREAD of the field in RAX into RBX, its RFLAGS into RSI; VMWRITE of
 * RDX into the field in RCX, its RFLAGS into RDI; then VMCALL.
 */
extern const char l2_shadow_rw[], l2_shadow_rw_end[];
__asm__(".pushsection .text\n"
	"l2_shadow_rw:\n\t"
	"vmread %rax, %rbx\n\t"
	"pushfq\n\t"
	"popq %rsi\n\t"
	"vmwrite %rdx, %rcx\n\t"
	"pushfq\n\t"
	"popq %rdi\n\t"
	"l2_shadow_rw_end:\n\t"
	"vmcall\n"
	".popsection\n");

/* The same with memory operands: VMREAD to the quadword at R8, VMWRITE from the one at R9. */
extern const char l2_shadow_mem[];
__asm__(".pushsection .text\n"
	"l2_shadow_mem:\n\t"
	"vmread %rax, (%r8)\n\t"
	"pushfq\n\t"
	"popq %rsi\n\t"
	"vmwrite (%r9), %rcx\n\t"
	"pushfq\n\t"
	"popq %rdi\n\t"
	"vmcall\n"
	".popsection\n");

static uint64_t mem_out, mem_in;

static void bitmap_set(uint8_t *bm, uint32_t field)
{
	bm[field >> 3] |= (uint8_t)(1u << (field & 7));
}

/* The shadow VMCS: GUEST_RSP holds READ_VALUE, GUEST_ES_BASE 0; then not current. */
static bool shadow_prepare(void)
{
	memset(&shadow_vmcs, 0, sizeof(shadow_vmcs));
	*(uint32_t *)shadow_vmcs.bytes = suite.revision | SHADOW_INDICATOR;
	return vmclear(PA(shadow_vmcs)) == VMX_SUCCEED && vmptrld(PA(shadow_vmcs)) == VMX_SUCCEED &&
	       vmwrite(GUEST_RSP, READ_VALUE) == VMX_SUCCEED && vmwrite(GUEST_ES_BASE, 0) == VMX_SUCCEED &&
	       vmclear(PA(shadow_vmcs)) == VMX_SUCCEED;
}

/* The shadow VMCS's value of field, read by L1 (VMPTRLD of it, then back to vmcs_a). */
static uint64_t shadow_field(uint32_t field)
{
	uint64_t v = ~0ULL;

	if (vmptrld(PA(shadow_vmcs)) == VMX_SUCCEED)
		vmread(field, &v);
	vmclear(PA(shadow_vmcs));
	vmptrld(PA(vmcs_a));
	return v;
}

/*
 * vmcs_a running stub with shadowing on, link pointer link, on an identity
 * EPT of L1's (just invalidated) when ept; R8 is out, R9 &mem_in (the
 * memory-operand stub's); L2's registers and the exit.
 */
static enum vm_entry_result run_stub(const void *stub, bool ept, uint64_t link, uint64_t rfield, uint64_t wfield,
				     uint64_t out, struct l2_regs *regs, struct exit_info *e)
{
	enum vm_entry_result res;

	if (vmcs_prepare(&vmcs_a, stub, L2_STACK_TOP) != 0)
		return VM_ENTRY_FELL_THROUGH;
	vmwrite(CPU_BASED_VM_EXEC_CONTROL, vmcs_get(CPU_BASED_VM_EXEC_CONTROL) | SECONDARY_CONTROLS);
	vmwrite(SECONDARY_VM_EXEC_CONTROL, ctl_proc2(VMCS_SHADOWING | (ept ? ENABLE_EPT : 0)));
	if (ept) {
		vmwrite(EPT_POINTER, ept_identity_eptp());
		invept(INVEPT_ALL_CONTEXT, 0);
	}
	vmwrite(VMREAD_BITMAP, PA(vmread_bitmap));
	vmwrite(VMWRITE_BITMAP, PA(vmwrite_bitmap));
	vmwrite(VMCS_LINK_POINTER, link);
	l2_regs_default(regs);
	regs->gpr[GPR_RAX] = rfield;
	regs->gpr[GPR_RBX] = 0;
	regs->gpr[GPR_RCX] = wfield;
	regs->gpr[GPR_RDX] = WRITE_VALUE;
	regs->gpr[GPR_R8] = out;
	regs->gpr[GPR_R9] = (uint64_t)&mem_in;
	res = vm_enter(regs, 1);
	if (res == VM_ENTRY_EXITED)
		exit_info_read(e);
	return res;
}

static enum vm_entry_result run(uint64_t link, uint64_t rfield, uint64_t wfield, struct l2_regs *regs,
				struct exit_info *e)
{
	return run_stub(l2_shadow_rw, false, link, rfield, wfield, (uint64_t)&mem_out, regs, e);
}

static const char *flags_str(uint64_t rflags)
{
	return (rflags & RFLAGS_CF) ? "VMfailInvalid" : (rflags & RFLAGS_ZF) ? "VMfailValid" : "VMsucceed";
}

/* Memory operands, L2 on L1's EPT or not: the shadow VMCS read into mem_out, written from mem_in. */
static void check_memory_operands(const char *name, bool ept)
{
	struct l2_regs regs;
	struct exit_info e;
	enum vm_entry_result res;
	char buf[48];
	uint64_t got;

	if (!shadow_prepare()) {
		report(name, VERDICT_FAIL, "shadow VMCS set-up failed");
		return;
	}
	mem_out = 0;
	mem_in = WRITE_VALUE ^ 0xff;
	res = run_stub(l2_shadow_mem, ept, PA(shadow_vmcs), GUEST_RSP, GUEST_ES_BASE, (uint64_t)&mem_out, &regs, &e);
	got = res == VM_ENTRY_EXITED ? shadow_field(GUEST_ES_BASE) : 0;
	check(name,
	      res == VM_ENTRY_EXITED && e.reason == EXIT_REASON_VMCALL && mem_out == READ_VALUE &&
		      !(regs.gpr[GPR_RSI] & (RFLAGS_CF | RFLAGS_ZF)) && !(regs.gpr[GPR_RDI] & (RFLAGS_CF | RFLAGS_ZF)) &&
		      got == (WRITE_VALUE ^ 0xff),
	      "%s: %s, exit reason %u; VMREAD to memory %s read %#lx, VMWRITE from memory %s wrote %#lx",
	      ept ? "L2 on EPT" : "L2 without EPT", entry_str(res, buf, sizeof(buf)), e.reason,
	      flags_str(regs.gpr[GPR_RSI]), mem_out, flags_str(regs.gpr[GPR_RDI]), got);
	vmclear(PA(vmcs_a));
}

/*
 * L2's VMREAD to memory its paging maps but L1's EPT does not (the EPT maps
 * L1's first GiB): an EPT violation to L1 at the VMREAD, a data write with
 * a valid linear address (SDM Vol. 3C 27.2.1), nothing stored.
 */
#define UNMAPPED_BY_EPT 0x40001000ULL

static void check_operand_ept_violation(void)
{
	const uint64_t want_qual = 0x2 | 0x80 | 0x100; /* write; nothing allowed; linear valid; final access */
	struct l2_regs regs;
	struct exit_info e = { 0 };
	enum vm_entry_result res;
	char buf[48];

	if (!shadow_prepare()) {
		report("shadow12.operand_ept_violation", VERDICT_FAIL, "shadow VMCS set-up failed");
		return;
	}
	res = run_stub(l2_shadow_mem, true, PA(shadow_vmcs), GUEST_RSP, GUEST_ES_BASE, UNMAPPED_BY_EPT, &regs, &e);
	check("shadow12.operand_ept_violation",
	      res == VM_ENTRY_EXITED && e.reason == EXIT_REASON_EPT_VIOLATION && e.qualification == want_qual &&
		      e.gpa == UNMAPPED_BY_EPT && e.gla == UNMAPPED_BY_EPT && e.rip == (uint64_t)l2_shadow_mem,
	      "VMREAD to %#llx: %s, exit reason %u, qualification %#lx (expected %#lx), GPA %#lx, GLA %#lx, "
	      "L2 RIP %+ld", UNMAPPED_BY_EPT, entry_str(res, buf, sizeof(buf)), e.reason, e.qualification, want_qual,
	      e.gpa, e.gla, (long)(e.rip - (uint64_t)l2_shadow_mem));
	vmclear(PA(vmcs_a));
}

void check_shadow12(void)
{
	struct l2_regs regs;
	struct exit_info e;
	enum vm_entry_result res;
	char buf[48];

	if (!proc2_allows(VMCS_SHADOWING)) {
		report("shadow12.vmread_no_exit", VERDICT_SKIP, "VMCS shadowing is not offered");
		return;
	}
	memset(vmread_bitmap, 0, sizeof(vmread_bitmap));
	memset(vmwrite_bitmap, 0, sizeof(vmwrite_bitmap));
	bitmap_set(vmread_bitmap, GUEST_RIP);
	bitmap_set(vmwrite_bitmap, GUEST_RIP);

	check("shadow12.vmptrld_shadow_vmcs", shadow_prepare(),
	      "VMCLEAR, VMPTRLD, VMWRITE and VMCLEAR of a region with the shadow-VMCS indicator");

	/* Bits clear in both bitmaps: no exit, the shadow VMCS is read and written. */
	res = run(PA(shadow_vmcs), GUEST_RSP, GUEST_ES_BASE, &regs, &e);
	if (res != VM_ENTRY_EXITED) {
		report("shadow12.vmread_no_exit", VERDICT_FAIL, "VMLAUNCH: %s", entry_str(res, buf, sizeof(buf)));
		return;
	}
	check("shadow12.vmread_no_exit",
	      e.reason == EXIT_REASON_VMCALL && regs.gpr[GPR_RBX] == READ_VALUE &&
		      !(regs.gpr[GPR_RSI] & (RFLAGS_CF | RFLAGS_ZF)),
	      "L2's VMREAD of GUEST_RSP: exit reason %u, %s, read %#lx (the shadow VMCS holds %#llx)", e.reason,
	      flags_str(regs.gpr[GPR_RSI]), regs.gpr[GPR_RBX], READ_VALUE);
	check("shadow12.vmwrite_no_exit",
	      e.reason == EXIT_REASON_VMCALL && !(regs.gpr[GPR_RDI] & (RFLAGS_CF | RFLAGS_ZF)) &&
		      shadow_field(GUEST_ES_BASE) == WRITE_VALUE,
	      "L2's VMWRITE of GUEST_ES_BASE: %s; the shadow VMCS now holds %#lx", flags_str(regs.gpr[GPR_RDI]),
	      shadow_field(GUEST_ES_BASE));
	check("shadow12.current_untouched", vmcs_get(GUEST_ES_BASE) != WRITE_VALUE,
	      "L2's VMWRITE left the current VMCS's GUEST_ES_BASE (%#lx)", vmcs_get(GUEST_ES_BASE));
	vmclear(PA(vmcs_a));

	/* The field's bit set in the VMREAD bitmap: L1's exit, at the VMREAD. */
	res = run(PA(shadow_vmcs), GUEST_RIP, GUEST_ES_BASE, &regs, &e);
	check("shadow12.vmread_bitmap_exit",
	      res == VM_ENTRY_EXITED && e.reason == EXIT_REASON_VMREAD && e.rip == (uint64_t)l2_shadow_rw,
	      "VMREAD of GUEST_RIP, bit set: %s, exit reason %u at L2 RIP %+ld", entry_str(res, buf, sizeof(buf)),
	      e.reason, (long)(e.rip - (uint64_t)l2_shadow_rw));
	vmclear(PA(vmcs_a));

	/* The field's bit set in the VMWRITE bitmap: the VMREAD before it did not exit. */
	res = run(PA(shadow_vmcs), GUEST_RSP, GUEST_RIP, &regs, &e);
	check("shadow12.vmwrite_bitmap_exit",
	      res == VM_ENTRY_EXITED && e.reason == EXIT_REASON_VMWRITE && regs.gpr[GPR_RBX] == READ_VALUE,
	      "VMWRITE of GUEST_RIP, bit set: %s, exit reason %u; VMREAD before it read %#lx",
	      entry_str(res, buf, sizeof(buf)), e.reason, regs.gpr[GPR_RBX]);
	vmclear(PA(vmcs_a));

	/* 25.1.3: an encoding with a bit above 14 set exits whatever the bitmap holds. */
	res = run(PA(shadow_vmcs), ENC_ABOVE_BIT_14, GUEST_ES_BASE, &regs, &e);
	check("shadow12.field_above_bit_14_exits", res == VM_ENTRY_EXITED && e.reason == EXIT_REASON_VMREAD,
	      "VMREAD of %#x: %s, exit reason %u", ENC_ABOVE_BIT_14, entry_str(res, buf, sizeof(buf)), e.reason);
	vmclear(PA(vmcs_a));

	/* 30.3: an encoding no CPU has, its bit clear: VMfailValid(12) in the current VMCS, no exit. */
	res = run(PA(shadow_vmcs), ENC_UNUSED_INDEX, GUEST_ES_BASE, &regs, &e);
	check("shadow12.vmread_unsupported_field",
	      res == VM_ENTRY_EXITED && e.reason == EXIT_REASON_VMCALL && (regs.gpr[GPR_RSI] & RFLAGS_ZF) &&
		      vmcs_get(VM_INSTRUCTION_ERROR) == VMXERR_UNSUPPORTED_VMCS_COMPONENT,
	      "L2's VMREAD of %#x: exit reason %u, %s, VM-instruction error %lu", ENC_UNUSED_INDEX, e.reason,
	      flags_str(regs.gpr[GPR_RSI]), vmcs_get(VM_INSTRUCTION_ERROR));
	vmclear(PA(vmcs_a));

	/* 30.3: shadowing on with a link pointer of all ones: VMfailInvalid, no exit. */
	res = run(VMCS_NONE, GUEST_RSP, GUEST_ES_BASE, &regs, &e);
	check("shadow12.no_link_fail_invalid",
	      res == VM_ENTRY_EXITED && e.reason == EXIT_REASON_VMCALL && (regs.gpr[GPR_RSI] & RFLAGS_CF) &&
		      (regs.gpr[GPR_RDI] & RFLAGS_CF),
	      "link pointer all ones: exit reason %u, VMREAD %s, VMWRITE %s", e.reason,
	      flags_str(regs.gpr[GPR_RSI]), flags_str(regs.gpr[GPR_RDI]));
	vmclear(PA(vmcs_a));

	check_memory_operands("shadow12.memory_operands", false);
	if (proc2_allows(ENABLE_EPT) && (suite.caps.ept_vpid & EPT_CAP_INVEPT_ALL)) {
		check_memory_operands("shadow12.memory_operands_ept", true);
		check_operand_ept_violation();
	} else {
		report("shadow12.memory_operands_ept", VERDICT_SKIP, "no EPT with INVEPT all-context");
	}

	/* 26.3.1.5: with shadowing on, the linked VMCS must carry the shadow-VMCS indicator. */
	*(uint32_t *)shadow_vmcs.bytes = suite.revision;
	res = run(PA(shadow_vmcs), GUEST_RSP, GUEST_ES_BASE, &regs, &e);
	check("shadow12.entry_link_not_shadow",
	      res == VM_ENTRY_EXITED && e.reason == (EXIT_REASON_INVALID_GUEST_STATE | EXIT_REASON_ENTRY_FAILURE) &&
		      e.qualification == ENTRY_QUAL_LINK_POINTER,
	      "linked VMCS without the indicator: %s, exit reason %#x, qualification %#lx",
	      entry_str(res, buf, sizeof(buf)), e.reason, e.qualification);
	*(uint32_t *)shadow_vmcs.bytes = suite.revision | SHADOW_INDICATOR;
	vmclear(PA(vmcs_a));

	/* 26.2.1.1: the bitmaps are 4 KiB aligned. */
	if (vmcs_prepare(&vmcs_a, l2_shadow_rw, L2_STACK_TOP) == 0) {
		vmwrite(CPU_BASED_VM_EXEC_CONTROL, vmcs_get(CPU_BASED_VM_EXEC_CONTROL) | SECONDARY_CONTROLS);
		vmwrite(SECONDARY_VM_EXEC_CONTROL, ctl_proc2(VMCS_SHADOWING));
		vmwrite(VMREAD_BITMAP, PA(vmread_bitmap) + 8);
		vmwrite(VMWRITE_BITMAP, PA(vmwrite_bitmap));
		vmwrite(VMCS_LINK_POINTER, PA(shadow_vmcs));
		l2_regs_default(&regs);
		expect_entry("shadow12.entry_bitmap_unaligned", vm_enter(&regs, 1), VM_ENTRY_FAIL_VALID,
			     VMXERR_ENTRY_INVALID_CONTROL_FIELD, NULL, "VMREAD bitmap not 4 KiB aligned");
		vmclear(PA(vmcs_a));
	}
}
