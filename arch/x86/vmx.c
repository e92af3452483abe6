/* SPDX-License-Identifier: BSD-2-Clause */
/* VMX operation on the running CPU: VMXON, VMCS access, control negotiation. */
#include "arch/x86/vmx.h"
#include "arch/x86/cpu.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/panic.h"

void vmcs_read_failed(uint32_t field)
{
	uint64_t v = 0;
	enum vmx_result r = vmread(field, &v);

	panic("VMREAD %s (%#x) failed: %s", vmcs_field_name(field) ?: "?", field,
	      r == VMX_FAIL_INVALID ? "no current VMCS" : "unsupported field");
}

void vmcs_write_failed(uint32_t field, uint64_t value)
{
	enum vmx_result r = vmwrite(field, value);
	uint64_t err = 0;

	if (r == VMX_FAIL_VALID)
		vmread(VM_INSTRUCTION_ERROR, &err);
	panic("VMWRITE %s (%#x) = %#lx failed: %s", vmcs_field_name(field) ?: "?", field, value,
	      r == VMX_FAIL_INVALID ? "no current VMCS" : vmx_instruction_error_name((uint32_t)err));
}

const char *vmx_instruction_error_name(uint32_t err)
{
	switch (err) {
	case VMXERR_VMCALL_IN_ROOT: return "VMCALL executed in VMX root operation";
	case VMXERR_VMCLEAR_INVALID_ADDRESS: return "VMCLEAR with invalid physical address";
	case VMXERR_VMCLEAR_VMXON_POINTER: return "VMCLEAR with VMXON pointer";
	case VMXERR_VMLAUNCH_NONCLEAR_VMCS: return "VMLAUNCH with non-clear VMCS";
	case VMXERR_VMRESUME_NONLAUNCHED_VMCS: return "VMRESUME with non-launched VMCS";
	case VMXERR_VMRESUME_AFTER_VMXOFF: return "VMRESUME after VMXOFF";
	case VMXERR_ENTRY_INVALID_CONTROL_FIELD: return "VM entry with invalid control field(s)";
	case VMXERR_ENTRY_INVALID_HOST_STATE_FIELD: return "VM entry with invalid host-state field(s)";
	case VMXERR_VMPTRLD_INVALID_ADDRESS: return "VMPTRLD with invalid physical address";
	case VMXERR_VMPTRLD_VMXON_POINTER: return "VMPTRLD with VMXON pointer";
	case VMXERR_VMPTRLD_INCORRECT_REVISION_ID: return "VMPTRLD with incorrect VMCS revision identifier";
	case VMXERR_UNSUPPORTED_VMCS_COMPONENT: return "VMREAD/VMWRITE from/to unsupported VMCS component";
	case VMXERR_VMWRITE_READ_ONLY_VMCS_COMPONENT: return "VMWRITE to read-only VMCS component";
	case VMXERR_VMXON_IN_VMX_ROOT_OPERATION: return "VMXON executed in VMX root operation";
	case VMXERR_ENTRY_EVENTS_BLOCKED_BY_MOV_SS: return "VM entry with events blocked by MOV SS";
	case VMXERR_INVALID_OPERAND_TO_INVEPT_INVVPID: return "invalid operand to INVEPT/INVVPID";
	default: return "VM-instruction error";
	}
}

/*
 * SDM Vol. 3C 23.8: CR0 and CR4 must satisfy the fixed-bit MSRs before
 * VMXON; the VMXON region carries the VMCS revision identifier (24.11.5).
 */
bool vmx_cpu_on(const struct vmx_caps *caps)
{
	uint64_t region = mem_alloc_pages(1);
	enum vmx_result r;

	if (!region) {
		log_err("vmx: no memory for the VMXON region");
		return false;
	}
	*(volatile uint32_t *)region = VMX_BASIC_REVISION(caps->basic);
	write_cr0((read_cr0() | caps->cr0_fixed0) & caps->cr0_fixed1);
	write_cr4((read_cr4() | caps->cr4_fixed0 | CR4_VMXE) & caps->cr4_fixed1);
	r = vmxon(region);
	if (r != VMX_SUCCEED) {
		log_err("vmx: VMXON failed (%s)", r == VMX_FAIL_INVALID ? "VMfailInvalid" : "VMfailValid");
		return false;
	}
	return true;
}
