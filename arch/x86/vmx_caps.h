/* SPDX-License-Identifier: BSD-2-Clause */
/* VMX capability probe: CPUID, IA32_FEATURE_CONTROL, the IA32_VMX_* MSRs. */
#ifndef UMBRA_ARCH_X86_VMX_CAPS_H
#define UMBRA_ARCH_X86_VMX_CAPS_H

#include "core/types.h"

/* IA32_VMX_BASIC (SDM Vol. 3C A.1). */
#define VMX_BASIC_REVISION(b) ((uint32_t)(b) & 0x7fffffff)
#define VMX_BASIC_VMCS_SIZE(b) (((b) >> 32) & 0x1fff)
#define VMX_BASIC_PHYS_32BIT BIT(48)
#define VMX_BASIC_DUAL_MONITOR BIT(49)
#define VMX_BASIC_MEM_TYPE(b) (((b) >> 50) & 0xf)
#define VMX_BASIC_INS_OUTS_INFO BIT(54)
#define VMX_BASIC_TRUE_CTLS BIT(55)
#define VMX_BASIC_NO_ERRCODE_CHECK BIT(56)

/* IA32_VMX_MISC (SDM Vol. 3C A.6). */
#define VMX_MISC_PREEMPT_SHIFT(m) ((m) & 0x1f)
#define VMX_MISC_SAVE_EFER_LMA BIT(5)
#define VMX_MISC_ACTIVITY_HLT BIT(6)
#define VMX_MISC_ACTIVITY_SHUTDOWN BIT(7)
#define VMX_MISC_ACTIVITY_WAIT_SIPI BIT(8)
#define VMX_MISC_CR3_TARGETS(m) (((m) >> 16) & 0x1ff)
#define VMX_MISC_MAX_MSR_LIST(m) ((((m) >> 25) & 0x7) + 1) * 512
#define VMX_MISC_VMWRITE_ANY_FIELD BIT(29)
#define VMX_MISC_INJECT_ZERO_LEN BIT(30)

/* IA32_VMX_EPT_VPID_CAP (SDM Vol. 3C A.10). */
#define EPT_CAP_EXEC_ONLY BIT(0)
#define EPT_CAP_PWL4 BIT(6)
#define EPT_CAP_PWL5 BIT(7)
#define EPT_CAP_UC BIT(8)
#define EPT_CAP_WB BIT(14)
#define EPT_CAP_2M BIT(16)
#define EPT_CAP_1G BIT(17)
#define EPT_CAP_INVEPT BIT(20)
#define EPT_CAP_AD BIT(21)
#define EPT_CAP_INVEPT_SINGLE BIT(25)
#define EPT_CAP_INVEPT_ALL BIT(26)
#define VPID_CAP_INVVPID BIT(32)
#define VPID_CAP_INVVPID_ADDR BIT(40)
#define VPID_CAP_INVVPID_SINGLE BIT(41)
#define VPID_CAP_INVVPID_ALL BIT(42)
#define VPID_CAP_INVVPID_SINGLE_NONGLOBAL BIT(43)

/* A control MSR: allowed-0 settings in the low half, allowed-1 in the high half. */
struct vmx_ctl {
	uint32_t must_be_one; /* bits 31:0 of the MSR */
	uint32_t may_be_one;  /* bits 63:32 */
};

struct vmx_caps {
	uint64_t basic;
	struct vmx_ctl pin, proc, proc2, exit, entry; /* TRUE variants when advertised */
	uint64_t misc;
	uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	uint64_t vmcs_enum;
	uint64_t ept_vpid; /* 0 when neither EPT nor VPID can be enabled */
	uint64_t vmfunc;   /* 0 when VM functions cannot be enabled */
	uint64_t feature_control;
};

enum vmx_probe_result {
	VMX_PROBE_OK = 0,
	VMX_PROBE_NO_VMX,            /* CPUID.1:ECX.VMX[5] = 0 */
	VMX_PROBE_DISABLED_BY_FIRMWARE, /* IA32_FEATURE_CONTROL locked with VMX off */
	VMX_PROBE_LOCK_FAILED,       /* our write to IA32_FEATURE_CONTROL did not stick */
};

/*
 * Probe the running CPU: check CPUID, lock IA32_FEATURE_CONTROL with VMX
 * enabled when firmware left it unlocked (SDM Vol. 3C 23.7), read every
 * capability MSR that the CPU says exists.
 */
enum vmx_probe_result vmx_probe(struct vmx_caps *caps);
const char *vmx_probe_result_message(enum vmx_probe_result r);

/* True when every capability of a equals that of b (CPUs of one machine should agree). */
bool vmx_caps_equal(const struct vmx_caps *a, const struct vmx_caps *b);

/* Log the decoded capabilities (once, from the BSP). */
void vmx_caps_report(const struct vmx_caps *caps);
/* The same report, its lines starting "<who>: " (nested/vmx_msrs.c: the MSRs L1 reads). */
void vmx_caps_report_as(const char *who, const struct vmx_caps *caps);

static inline bool vmx_ctl_allows(const struct vmx_ctl *c, uint32_t bits)
{
	return (c->may_be_one & bits) == bits;
}

bool vmx_caps_has_shadowing(const struct vmx_caps *caps);

#endif
