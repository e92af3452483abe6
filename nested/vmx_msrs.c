/* SPDX-License-Identifier: BSD-2-Clause */
/* Virtual IA32_VMX_* MSRs: real capabilities narrowed to what umbra emulates (SDM Vol. 3C App. A). */
#include "nested/vmx_msrs.h"
#include "arch/x86/cpu.h"
#include "arch/x86/vmx_caps.h"
#include "arch/x86/vmx_controls.h"

/*
 * What umbra can offer L1, by control word. A bit is advertised as
 * allowed-1 only when it is in these masks and the real CPU allows it.
 * The nested-VMX work widens these masks as features land; nothing
 * here is promised before it is emulated.
 */
#define NVMX_PIN_EMULATED (EXT_INT_EXITING | NMI_EXITING | VIRTUAL_NMIS | PREEMPTION_TIMER)
#define NVMX_PROC_EMULATED                                                                  \
	(INTR_WINDOW_EXITING | USE_TSC_OFFSETTING | HLT_EXITING | INVLPG_EXITING |          \
	 MWAIT_EXITING | RDPMC_EXITING | RDTSC_EXITING | CR3_LOAD_EXITING |                 \
	 CR3_STORE_EXITING | CR8_LOAD_EXITING | CR8_STORE_EXITING | NMI_WINDOW_EXITING |    \
	 MOV_DR_EXITING | UNCOND_IO_EXITING | USE_IO_BITMAPS | USE_MSR_BITMAPS |            \
	 MONITOR_EXITING | PAUSE_EXITING | SECONDARY_CONTROLS | USE_TPR_SHADOW)
#define NVMX_PROC2_EMULATED                                                                 \
	(ENABLE_RDTSCP | WBINVD_EXITING | ENABLE_INVPCID | DESCRIPTOR_TABLE_EXITING | RDRAND_EXITING | \
	 RDSEED_EXITING | VMCS_SHADOWING | VIRTUALIZE_APIC_ACCESSES | VIRTUALIZE_X2APIC)
#define NVMX_EXIT_EMULATED                                                                  \
	(SAVE_DEBUG_CONTROLS | HOST_ADDR_SPACE_SIZE | ACK_INTR_ON_EXIT | SAVE_PAT | LOAD_PAT | \
	 SAVE_EFER | LOAD_EFER | SAVE_PREEMPTION_TIMER)
#define NVMX_ENTRY_EMULATED (LOAD_DEBUG_CONTROLS | IA32E_MODE_GUEST | ENTRY_LOAD_PAT | ENTRY_LOAD_EFER)

/*
 * VPID for L2 (nested/entry.c maps L1's VPIDs onto one of umbra's per
 * vCPU) with INVVPID of every type the CPU has (nested/insn.c), and EPT
 * for L2 (nested/ept02.c: shadow EPTs): 4-level, UC and WB, 2 MiB and
 * 1 GiB pages, execute-only, accessed and dirty flags (set in L1's EPT
 * as the CPU sets them), INVEPT single- and all-context, as the CPU has
 * them, and PML with them. No 5-level walks, #VE or mode-based execute:
 * the shadow EPT does not emulate them.
 */
#define NVMX_VPID_CAP_EMULATED                                                               \
	(VPID_CAP_INVVPID | VPID_CAP_INVVPID_ADDR | VPID_CAP_INVVPID_SINGLE | VPID_CAP_INVVPID_ALL | \
	 VPID_CAP_INVVPID_SINGLE_NONGLOBAL)
#define NVMX_EPT_CAP_EMULATED                                                                \
	(EPT_CAP_EXEC_ONLY | EPT_CAP_PWL4 | EPT_CAP_UC | EPT_CAP_WB | EPT_CAP_2M | EPT_CAP_1G | \
	 EPT_CAP_AD | EPT_CAP_INVEPT | EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL)

/* SDM Vol. 3C A.2: the "default1" bits the non-TRUE MSRs report as must-be-one. */
#define PIN_DEFAULT1 0x00000016u
#define PROC_DEFAULT1 0x0401e172u
#define EXIT_DEFAULT1 0x00036dffu
#define ENTRY_DEFAULT1 0x000011ffu

/*
 * IA32_VMX_MISC bits umbra honours: activity state HLT, VMWRITE to any
 * field. Not wait-for-SIPI: in that state the physical CPU blocks NMIs and
 * INIT and waits for a SIPI umbra delivers only to L1 vCPUs, so it would
 * be lost to umbra; not shutdown either (SDM Vol. 3C 24.4.2, A.6).
 */
#define NVMX_MISC_EMULATED (VMX_MISC_ACTIVITY_HLT | VMX_MISC_VMWRITE_ANY_FIELD | VMX_MISC_SAVE_EFER_LMA)

static uint64_t msrs[MSR_IA32_VMX_VMFUNC - MSR_IA32_VMX_BASIC + 1];
static bool present[MSR_IA32_VMX_VMFUNC - MSR_IA32_VMX_BASIC + 1];

static uint64_t ctl_msr(const struct vmx_ctl *real, uint32_t emulated, uint32_t default1)
{
	uint32_t may = real->may_be_one & (emulated | real->must_be_one);
	uint32_t must = real->must_be_one | default1;

	return ((uint64_t)may << 32) | (must & may);
}

static void set(uint32_t msr, uint64_t value)
{
	msrs[msr - MSR_IA32_VMX_BASIC] = value;
	present[msr - MSR_IA32_VMX_BASIC] = true;
}

void vmx_msrs_init(const struct vmx_caps *real)
{
	uint64_t basic = NVMX_VMCS_REVISION | (4096ULL << 32) | (6ULL << 50) | VMX_BASIC_TRUE_CTLS |
			 (real->basic & VMX_BASIC_INS_OUTS_INFO);

	set(MSR_IA32_VMX_BASIC, basic);
	set(MSR_IA32_VMX_TRUE_PINBASED_CTLS, ctl_msr(&real->pin, NVMX_PIN_EMULATED, 0));
	set(MSR_IA32_VMX_TRUE_PROCBASED_CTLS, ctl_msr(&real->proc, NVMX_PROC_EMULATED, 0));
	set(MSR_IA32_VMX_TRUE_EXIT_CTLS, ctl_msr(&real->exit, NVMX_EXIT_EMULATED, 0));
	set(MSR_IA32_VMX_TRUE_ENTRY_CTLS, ctl_msr(&real->entry, NVMX_ENTRY_EMULATED, 0));
	set(MSR_IA32_VMX_PINBASED_CTLS, ctl_msr(&real->pin, NVMX_PIN_EMULATED, PIN_DEFAULT1));
	set(MSR_IA32_VMX_PROCBASED_CTLS, ctl_msr(&real->proc, NVMX_PROC_EMULATED, PROC_DEFAULT1));
	set(MSR_IA32_VMX_EXIT_CTLS, ctl_msr(&real->exit, NVMX_EXIT_EMULATED, EXIT_DEFAULT1));
	set(MSR_IA32_VMX_ENTRY_CTLS, ctl_msr(&real->entry, NVMX_ENTRY_EMULATED, ENTRY_DEFAULT1));
	uint32_t proc2 = NVMX_PROC2_EMULATED;
	uint64_t vpid_cap = real->ept_vpid & NVMX_VPID_CAP_EMULATED;
	uint64_t ept_cap = real->ept_vpid & NVMX_EPT_CAP_EMULATED, cap = 0;

	/* VPID needs INVVPID with a type that flushes a whole VPID (A.10; KVM asks for one). */
	if ((real->proc2.may_be_one & ENABLE_VPID) && (vpid_cap & VPID_CAP_INVVPID) &&
	    (vpid_cap & (VPID_CAP_INVVPID_SINGLE | VPID_CAP_INVVPID_ALL))) {
		proc2 |= ENABLE_VPID;
		cap |= vpid_cap;
	}
	/* EPT needs a 4-level walk, write-back tables and INVEPT (umbra's shadow EPT uses all three). */
	if ((real->proc2.may_be_one & ENABLE_EPT) && (ept_cap & EPT_CAP_PWL4) && (ept_cap & EPT_CAP_WB) &&
	    (ept_cap & EPT_CAP_INVEPT) && (ept_cap & (EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL))) {
		proc2 |= ENABLE_EPT | UNRESTRICTED_GUEST;
		cap |= ept_cap;
		/* PML logs what the dirty flags umbra sets say (nested/ept02.c, SDM 29.3.6). */
		if (ept_cap & EPT_CAP_AD)
			proc2 |= ENABLE_PML;
	}
	if (cap)
		set(MSR_IA32_VMX_EPT_VPID_CAP, cap);
	set(MSR_IA32_VMX_PROCBASED_CTLS2, ctl_msr(&real->proc2, proc2, 0));
	set(MSR_IA32_VMX_MISC, real->misc & (NVMX_MISC_EMULATED | 0x1f | (0x1ffULL << 16) | (7ULL << 25)));
	set(MSR_IA32_VMX_CR0_FIXED0, real->cr0_fixed0);
	set(MSR_IA32_VMX_CR0_FIXED1, real->cr0_fixed1);
	set(MSR_IA32_VMX_CR4_FIXED0, real->cr4_fixed0);
	set(MSR_IA32_VMX_CR4_FIXED1, real->cr4_fixed1);
	set(MSR_IA32_VMX_VMCS_ENUM, real->vmcs_enum);
	/* No VM functions for L1 (no IA32_VMX_VMFUNC, A.11). */
}

bool vmx_msr_read(uint32_t msr, uint64_t *value)
{
	if (msr == MSR_IA32_FEATURE_CONTROL) {
		*value = FEATURE_CONTROL_LOCKED | FEATURE_CONTROL_VMX_OUTSIDE_SMX;
		return true;
	}
	if (msr < MSR_IA32_VMX_BASIC || msr > MSR_IA32_VMX_VMFUNC || !present[msr - MSR_IA32_VMX_BASIC])
		return false;
	*value = msrs[msr - MSR_IA32_VMX_BASIC];
	return true;
}

static struct vmx_ctl ctl_of(uint32_t msr)
{
	uint64_t v = msrs[msr - MSR_IA32_VMX_BASIC];

	return (struct vmx_ctl){ .must_be_one = (uint32_t)v, .may_be_one = (uint32_t)(v >> 32) };
}

void vmx_msrs_report(void)
{
	uint64_t fc = 0;
	struct vmx_caps l1 = {
		.basic = msrs[MSR_IA32_VMX_BASIC - MSR_IA32_VMX_BASIC],
		.pin = ctl_of(MSR_IA32_VMX_TRUE_PINBASED_CTLS),
		.proc = ctl_of(MSR_IA32_VMX_TRUE_PROCBASED_CTLS),
		.proc2 = ctl_of(MSR_IA32_VMX_PROCBASED_CTLS2),
		.exit = ctl_of(MSR_IA32_VMX_TRUE_EXIT_CTLS),
		.entry = ctl_of(MSR_IA32_VMX_TRUE_ENTRY_CTLS),
		.misc = msrs[MSR_IA32_VMX_MISC - MSR_IA32_VMX_BASIC],
		.cr0_fixed0 = msrs[MSR_IA32_VMX_CR0_FIXED0 - MSR_IA32_VMX_BASIC],
		.cr0_fixed1 = msrs[MSR_IA32_VMX_CR0_FIXED1 - MSR_IA32_VMX_BASIC],
		.cr4_fixed0 = msrs[MSR_IA32_VMX_CR4_FIXED0 - MSR_IA32_VMX_BASIC],
		.cr4_fixed1 = msrs[MSR_IA32_VMX_CR4_FIXED1 - MSR_IA32_VMX_BASIC],
		.vmcs_enum = msrs[MSR_IA32_VMX_VMCS_ENUM - MSR_IA32_VMX_BASIC],
	};

	vmx_msr_read(MSR_IA32_FEATURE_CONTROL, &fc);
	l1.feature_control = fc;
	vmx_msr_read(MSR_IA32_VMX_EPT_VPID_CAP, &l1.ept_vpid);
	vmx_caps_report_as("nested: L1 VMX", &l1);
}
