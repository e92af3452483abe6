/* SPDX-License-Identifier: BSD-2-Clause */
/* VMX control bits, one X-macro list per control word (SDM Vol. 3C 24.6-24.8). */
#ifndef UMBRA_ARCH_X86_VMX_CONTROLS_H
#define UMBRA_ARCH_X86_VMX_CONTROLS_H

#include "core/types.h"

/* X(name, bit, description) */

/* SDM Vol. 3C 24.6.1, Table 24-5. */
#define VMX_PIN_CONTROLS(X)                                        \
	X(EXT_INT_EXITING, 0, "external-interrupt exiting")        \
	X(NMI_EXITING, 3, "NMI exiting")                           \
	X(VIRTUAL_NMIS, 5, "virtual NMIs")                         \
	X(PREEMPTION_TIMER, 6, "VMX-preemption timer")             \
	X(POSTED_INTERRUPTS, 7, "process posted interrupts")

/* SDM Vol. 3C 24.6.2, Table 24-6. */
#define VMX_PROC_CONTROLS(X)                                       \
	X(INTR_WINDOW_EXITING, 2, "interrupt-window exiting")      \
	X(USE_TSC_OFFSETTING, 3, "use TSC offsetting")             \
	X(HLT_EXITING, 7, "HLT exiting")                           \
	X(INVLPG_EXITING, 9, "INVLPG exiting")                     \
	X(MWAIT_EXITING, 10, "MWAIT exiting")                      \
	X(RDPMC_EXITING, 11, "RDPMC exiting")                      \
	X(RDTSC_EXITING, 12, "RDTSC exiting")                      \
	X(CR3_LOAD_EXITING, 15, "CR3-load exiting")                \
	X(CR3_STORE_EXITING, 16, "CR3-store exiting")              \
	X(TERTIARY_CONTROLS, 17, "activate tertiary controls")     \
	X(CR8_LOAD_EXITING, 19, "CR8-load exiting")                \
	X(CR8_STORE_EXITING, 20, "CR8-store exiting")              \
	X(USE_TPR_SHADOW, 21, "use TPR shadow")                    \
	X(NMI_WINDOW_EXITING, 22, "NMI-window exiting")            \
	X(MOV_DR_EXITING, 23, "MOV-DR exiting")                    \
	X(UNCOND_IO_EXITING, 24, "unconditional I/O exiting")      \
	X(USE_IO_BITMAPS, 25, "use I/O bitmaps")                   \
	X(MONITOR_TRAP_FLAG, 27, "monitor trap flag")              \
	X(USE_MSR_BITMAPS, 28, "use MSR bitmaps")                  \
	X(MONITOR_EXITING, 29, "MONITOR exiting")                  \
	X(PAUSE_EXITING, 30, "PAUSE exiting")                      \
	X(SECONDARY_CONTROLS, 31, "activate secondary controls")

/* SDM Vol. 3C 24.6.2, Table 24-7. */
#define VMX_PROC2_CONTROLS(X)                                          \
	X(VIRTUALIZE_APIC_ACCESSES, 0, "virtualize APIC accesses")     \
	X(ENABLE_EPT, 1, "enable EPT")                                 \
	X(DESCRIPTOR_TABLE_EXITING, 2, "descriptor-table exiting")     \
	X(ENABLE_RDTSCP, 3, "enable RDTSCP")                           \
	X(VIRTUALIZE_X2APIC, 4, "virtualize x2APIC mode")              \
	X(ENABLE_VPID, 5, "enable VPID")                               \
	X(WBINVD_EXITING, 6, "WBINVD exiting")                         \
	X(UNRESTRICTED_GUEST, 7, "unrestricted guest")                 \
	X(APIC_REGISTER_VIRT, 8, "APIC-register virtualization")       \
	X(VIRTUAL_INTR_DELIVERY, 9, "virtual-interrupt delivery")      \
	X(PAUSE_LOOP_EXITING, 10, "PAUSE-loop exiting")                \
	X(RDRAND_EXITING, 11, "RDRAND exiting")                        \
	X(ENABLE_INVPCID, 12, "enable INVPCID")                        \
	X(ENABLE_VMFUNC, 13, "enable VM functions")                    \
	X(VMCS_SHADOWING, 14, "VMCS shadowing")                        \
	X(ENCLS_EXITING, 15, "ENCLS exiting")                          \
	X(RDSEED_EXITING, 16, "RDSEED exiting")                        \
	X(ENABLE_PML, 17, "enable PML")                                \
	X(EPT_VIOLATION_VE, 18, "EPT-violation #VE")                   \
	X(CONCEAL_FROM_PT, 19, "conceal VMX from PT")                  \
	X(ENABLE_XSAVES, 20, "enable XSAVES/XRSTORS")                  \
	X(MODE_BASED_EPT_EXEC, 22, "mode-based execute control for EPT") \
	X(SUBPAGE_WRITE, 23, "sub-page write permissions for EPT")     \
	X(PT_USES_GPA, 24, "Intel PT uses guest physical addresses")   \
	X(USE_TSC_SCALING, 25, "use TSC scaling")                      \
	X(ENABLE_USER_WAIT_PAUSE, 26, "enable user wait and pause")    \
	X(ENABLE_ENCLV_EXITING, 28, "enable ENCLV exiting")

/* SDM Vol. 3C 24.7.1, Table 24-13. */
#define VMX_EXIT_CONTROLS(X)                                           \
	X(SAVE_DEBUG_CONTROLS, 2, "save debug controls")               \
	X(HOST_ADDR_SPACE_SIZE, 9, "host address-space size")          \
	X(LOAD_PERF_GLOBAL_CTRL, 12, "load IA32_PERF_GLOBAL_CTRL")     \
	X(ACK_INTR_ON_EXIT, 15, "acknowledge interrupt on exit")       \
	X(SAVE_PAT, 18, "save IA32_PAT")                               \
	X(LOAD_PAT, 19, "load IA32_PAT")                               \
	X(SAVE_EFER, 20, "save IA32_EFER")                             \
	X(LOAD_EFER, 21, "load IA32_EFER")                             \
	X(SAVE_PREEMPTION_TIMER, 22, "save VMX-preemption timer value") \
	X(CLEAR_BNDCFGS, 23, "clear IA32_BNDCFGS")                     \
	X(CONCEAL_FROM_PT_EXIT, 24, "conceal VMX from PT")             \
	X(CLEAR_RTIT_CTL, 25, "clear IA32_RTIT_CTL")                   \
	X(LOAD_CET_STATE, 28, "load CET state")

/* SDM Vol. 3C 24.8.1, Table 24-15. */
#define VMX_ENTRY_CONTROLS(X)                                          \
	X(LOAD_DEBUG_CONTROLS, 2, "load debug controls")               \
	X(IA32E_MODE_GUEST, 9, "IA-32e mode guest")                    \
	X(ENTRY_TO_SMM, 10, "entry to SMM")                            \
	X(DEACTIVATE_DUAL_MONITOR, 11, "deactivate dual-monitor treatment") \
	X(ENTRY_LOAD_PERF_GLOBAL_CTRL, 13, "load IA32_PERF_GLOBAL_CTRL") \
	X(ENTRY_LOAD_PAT, 14, "load IA32_PAT")                         \
	X(ENTRY_LOAD_EFER, 15, "load IA32_EFER")                       \
	X(LOAD_BNDCFGS, 16, "load IA32_BNDCFGS")                       \
	X(CONCEAL_FROM_PT_ENTRY, 17, "conceal VMX from PT")            \
	X(LOAD_RTIT_CTL, 18, "load IA32_RTIT_CTL")                     \
	X(ENTRY_LOAD_CET_STATE, 20, "load CET state")

#define VMX_CONTROL_ENUM(name, bit, desc) name = BIT(bit),
enum vmx_pin_control { VMX_PIN_CONTROLS(VMX_CONTROL_ENUM) };
enum vmx_proc_control { VMX_PROC_CONTROLS(VMX_CONTROL_ENUM) };
enum vmx_proc2_control { VMX_PROC2_CONTROLS(VMX_CONTROL_ENUM) };
enum vmx_exit_control { VMX_EXIT_CONTROLS(VMX_CONTROL_ENUM) };
enum vmx_entry_control { VMX_ENTRY_CONTROLS(VMX_CONTROL_ENUM) };
#undef VMX_CONTROL_ENUM

struct vmx_bit_name {
	uint8_t bit;
	const char *name;
};

/* Name tables generated from the lists above (arch/x86/vmx_caps.c). */
extern const struct vmx_bit_name vmx_pin_names[], vmx_proc_names[], vmx_proc2_names[],
	vmx_exit_names[], vmx_entry_names[];
extern const size_t vmx_pin_names_count, vmx_proc_names_count, vmx_proc2_names_count,
	vmx_exit_names_count, vmx_entry_names_count;

/* GUEST_PENDING_DBG_EXCEPTIONS bit 14: a single-step trap is pending (SDM Vol. 3C 24.4.2, Table 24-4). */
#define PENDING_DBG_BS BIT(14)

#endif
