/* SPDX-License-Identifier: BSD-2-Clause */
/* VMX instructions and typed VMCS accessors; every instruction checks CF and ZF. */
#ifndef UMBRA_ARCH_X86_VMX_H
#define UMBRA_ARCH_X86_VMX_H

#include "arch/x86/vmcs_fields.h"
#include "arch/x86/vmx_caps.h"
#include "core/types.h"

/* SDM Vol. 3C 30.2: the three outcomes of a VMX instruction. */
enum vmx_result {
	VMX_SUCCEED = 0,
	VMX_FAIL_INVALID, /* CF = 1: no current VMCS / bad pointer */
	VMX_FAIL_VALID,   /* ZF = 1: error number in VM_INSTRUCTION_ERROR */
};

#define VMX_ASM_RESULT(cf, zf) ((cf) ? VMX_FAIL_INVALID : (zf) ? VMX_FAIL_VALID : VMX_SUCCEED)

static inline enum vmx_result vmxon(uint64_t pa)
{
	bool cf, zf;

	__asm__ volatile("vmxon %2" : "=@ccc"(cf), "=@ccz"(zf) : "m"(pa) : "memory");
	return VMX_ASM_RESULT(cf, zf);
}

static inline enum vmx_result vmxoff(void)
{
	bool cf, zf;

	__asm__ volatile("vmxoff" : "=@ccc"(cf), "=@ccz"(zf) : : "memory");
	return VMX_ASM_RESULT(cf, zf);
}

static inline enum vmx_result vmclear(uint64_t pa)
{
	bool cf, zf;

	__asm__ volatile("vmclear %2" : "=@ccc"(cf), "=@ccz"(zf) : "m"(pa) : "memory");
	return VMX_ASM_RESULT(cf, zf);
}

static inline enum vmx_result vmptrld(uint64_t pa)
{
	bool cf, zf;

	__asm__ volatile("vmptrld %2" : "=@ccc"(cf), "=@ccz"(zf) : "m"(pa) : "memory");
	return VMX_ASM_RESULT(cf, zf);
}

static inline enum vmx_result vmptrst(uint64_t *pa)
{
	bool cf, zf;

	__asm__ volatile("vmptrst %2" : "=@ccc"(cf), "=@ccz"(zf), "=m"(*pa) : : "memory");
	return VMX_ASM_RESULT(cf, zf);
}

static inline enum vmx_result vmread(uint64_t field, uint64_t *value)
{
	bool cf, zf;

	__asm__ volatile("vmread %3, %2" : "=@ccc"(cf), "=@ccz"(zf), "=rm"(*value) : "r"(field) : "memory");
	return VMX_ASM_RESULT(cf, zf);
}

static inline enum vmx_result vmwrite(uint64_t field, uint64_t value)
{
	bool cf, zf;

	__asm__ volatile("vmwrite %3, %2" : "=@ccc"(cf), "=@ccz"(zf) : "r"(field), "rm"(value) : "memory");
	return VMX_ASM_RESULT(cf, zf);
}

/* INVEPT/INVVPID types (SDM Vol. 3C 30.3). */
#define INVEPT_SINGLE_CONTEXT 1
#define INVEPT_ALL_CONTEXT 2
#define INVVPID_INDIVIDUAL_ADDRESS 0
#define INVVPID_SINGLE_CONTEXT 1
#define INVVPID_ALL_CONTEXT 2
#define INVVPID_SINGLE_CONTEXT_RETAINING_GLOBALS 3

static inline enum vmx_result invept(uint64_t type, uint64_t eptp)
{
	struct {
		uint64_t eptp, reserved;
	} desc = { eptp, 0 };
	bool cf, zf;

	__asm__ volatile("invept %2, %3" : "=@ccc"(cf), "=@ccz"(zf) : "m"(desc), "r"(type) : "memory");
	return VMX_ASM_RESULT(cf, zf);
}

/* vpid: the descriptor's first quadword (VPID in bits 15:0, the rest reserved: SDM 30.3). */
static inline enum vmx_result invvpid(uint64_t type, uint64_t vpid, uint64_t addr)
{
	struct {
		uint64_t vpid, addr;
	} desc = { vpid, addr };
	bool cf, zf;

	__asm__ volatile("invvpid %2, %3" : "=@ccc"(cf), "=@ccz"(zf) : "m"(desc), "r"(type) : "memory");
	return VMX_ASM_RESULT(cf, zf);
}

/*
 * Accessors for the current VMCS. A failure here means umbra's own VMCS is
 * broken (wrong field, no current VMCS): a host bug, so they panic with the
 * field name. Width is checked at compile time for constant fields. They
 * are inline (the instruction and a branch to the cold failure path): the
 * exit paths make dozens of them per exit.
 */
__noreturn __cold void vmcs_read_failed(uint32_t field);
__noreturn __cold void vmcs_write_failed(uint32_t field, uint64_t value);

static __always_inline uint64_t vmcs_read(uint32_t field)
{
	uint64_t value;

	/* CF or ZF set: VMfailInvalid or VMfailValid (SDM Vol. 3C 30.2). */
	__asm__ goto("vmread %q1, %0\n\tjbe %l[failed]" : "=r"(value) : "r"((uint64_t)field) : "cc" : failed);
	return value;
failed:
	vmcs_read_failed(field);
}

static __always_inline void vmcs_write(uint32_t field, uint64_t value)
{
	__asm__ goto("vmwrite %1, %0\n\tjbe %l[failed]" : : "r"((uint64_t)field), "rm"(value) : "cc", "memory" : failed);
	return;
failed:
	vmcs_write_failed(field, value);
}

#define VMCS_CHECK_WIDTH(field, width)                                                   \
	_Static_assert(VMCS_FIELD_WIDTH(field) == (width) && !VMCS_FIELD_HIGH_ACCESS(field), \
		       "VMCS field width does not match the accessor")

#define vmcs_read16(f) ({ VMCS_CHECK_WIDTH(f, VMCS_WIDTH_16); (uint16_t)vmcs_read(f); })
#define vmcs_read32(f) ({ VMCS_CHECK_WIDTH(f, VMCS_WIDTH_32); (uint32_t)vmcs_read(f); })
#define vmcs_read64(f) ({ VMCS_CHECK_WIDTH(f, VMCS_WIDTH_64); vmcs_read(f); })
#define vmcs_readnat(f) ({ VMCS_CHECK_WIDTH(f, VMCS_WIDTH_NATURAL); vmcs_read(f); })
#define vmcs_write16(f, v) ({ VMCS_CHECK_WIDTH(f, VMCS_WIDTH_16); vmcs_write(f, (uint16_t)(v)); })
#define vmcs_write32(f, v) ({ VMCS_CHECK_WIDTH(f, VMCS_WIDTH_32); vmcs_write(f, (uint32_t)(v)); })
#define vmcs_write64(f, v) ({ VMCS_CHECK_WIDTH(f, VMCS_WIDTH_64); vmcs_write(f, (uint64_t)(v)); })
#define vmcs_writenat(f, v) ({ VMCS_CHECK_WIDTH(f, VMCS_WIDTH_NATURAL); vmcs_write(f, (uint64_t)(v)); })

/* SDM Vol. 3C 30.4: VM-instruction error numbers. */
#define VMXERR_VMCALL_IN_ROOT 1
#define VMXERR_VMCLEAR_INVALID_ADDRESS 2
#define VMXERR_VMCLEAR_VMXON_POINTER 3
#define VMXERR_VMLAUNCH_NONCLEAR_VMCS 4
#define VMXERR_VMRESUME_NONLAUNCHED_VMCS 5
#define VMXERR_VMRESUME_AFTER_VMXOFF 6
#define VMXERR_ENTRY_INVALID_CONTROL_FIELD 7
#define VMXERR_ENTRY_INVALID_HOST_STATE_FIELD 8
#define VMXERR_VMPTRLD_INVALID_ADDRESS 9
#define VMXERR_VMPTRLD_VMXON_POINTER 10
#define VMXERR_VMPTRLD_INCORRECT_REVISION_ID 11
#define VMXERR_UNSUPPORTED_VMCS_COMPONENT 12
#define VMXERR_VMWRITE_READ_ONLY_VMCS_COMPONENT 13
#define VMXERR_VMXON_IN_VMX_ROOT_OPERATION 15
#define VMXERR_ENTRY_INVALID_EXECUTIVE_VMCS_POINTER 16
#define VMXERR_ENTRY_NONLAUNCHED_EXECUTIVE_VMCS 17
#define VMXERR_ENTRY_EXECUTIVE_VMCS_POINTER_NOT_VMXON 18
#define VMXERR_VMCALL_NONCLEAR_VMCS 19
#define VMXERR_VMCALL_INVALID_VM_EXIT_CONTROL_FIELDS 20
#define VMXERR_VMCALL_INCORRECT_MSEG_REVISION_ID 22
#define VMXERR_VMXOFF_UNDER_DUAL_MONITOR 23
#define VMXERR_VMCALL_INVALID_SMM_MONITOR_FEATURES 24
#define VMXERR_ENTRY_INVALID_VM_EXECUTION_CONTROL 25
#define VMXERR_ENTRY_EVENTS_BLOCKED_BY_MOV_SS 26
#define VMXERR_INVALID_OPERAND_TO_INVEPT_INVVPID 28

const char *vmx_instruction_error_name(uint32_t err);

/* Control words umbra runs L1 with, negotiated once from the capability MSRs. */
struct vmx_controls {
	uint32_t pin, proc, proc2, exit, entry;
};

/*
 * Combine what umbra requires and would like with what the CPU allows
 * (SDM Vol. 3C A.3-A.5: must-be-one bits are forced on). Returns false, with
 * the missing required bits in *missing, when a required bit is not allowed.
 */
static inline bool vmx_ctl_negotiate(const struct vmx_ctl *cap, uint32_t required,
				     uint32_t optional, uint32_t *out, uint32_t *missing)
{
	*missing = required & ~cap->may_be_one;
	*out = (required | (optional & cap->may_be_one) | cap->must_be_one) & cap->may_be_one;
	return *missing == 0;
}

/* Turn VMX on for the running CPU: CR0/CR4 fixed bits, VMXON region, VMXON. */
bool vmx_cpu_on(const struct vmx_caps *caps);

#endif
