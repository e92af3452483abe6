/* SPDX-License-Identifier: BSD-2-Clause */
/* What umbra does with every vmcs12 field: one line per field, the one place that says so. */
#ifndef UMBRA_NESTED_VMCS02_POLICY_H
#define UMBRA_NESTED_VMCS02_POLICY_H

#include "nested/vmcs12.h"

/*
 * Flags of a field's policy. The VM-entry emulation (nested/entry.c) and
 * the exit reflection (nested/reflect.c) are generated from them: the copy
 * loops walk the fields with NP_COPY / NP_SAVE, a VMRESUME re-runs the
 * checks only when a field with NP_CHECK changed and rebuilds vmcs02 only
 * when a field with NP_MERGE changed. The derived fields are rewritten at
 * every entry (L2 may have changed them in vmcs02): NP_DERIVE says which
 * vmcs12 fields they come from.
 */
enum nvmx_policy_flag {
	NP_COPY = 1u << 0,      /* vmcs12 -> vmcs02 as it is at VM entry */
	NP_SAVE = 1u << 1,      /* vmcs02 -> vmcs12 at every reflected exit (SDM 27.3) */
	NP_CHECK = 1u << 2,     /* input of umbra's VM-entry checks (SDM 26.2, 26.3.1.5) */
	NP_DERIVE = 1u << 3,    /* input of a vmcs02 field umbra computes (write_derived()) */
	NP_MERGE = 1u << 4,     /* combined with umbra's own value: a change rebuilds vmcs02 */
	NP_HOST = 1u << 5,      /* L1's host state: loaded into vmcs01 at exit (SDM 27.5) */
	NP_EXIT_INFO = 1u << 6, /* read-only data: written by umbra at reflection (SDM 27.2) */
	NP_UNUSED = 1u << 7,    /* its feature is not offered to L1: never reaches the CPU */
	NP_ENTRY = 1u << 8,     /* read by every emulated entry (checks that do not wait for a change) */
};

/* The policies, each a fixed set of flags (a control is never copied unchecked). */
#define NP_GUEST_AS_IS (NP_COPY | NP_SAVE)               /* L2 state; the CPU checks it on vmcs02 */
#define NP_GUEST_AS_IS_DERIVE (NP_COPY | NP_SAVE | NP_DERIVE) /* ... and umbra computes from it */
#define NP_GUEST_CHECKED (NP_COPY | NP_SAVE | NP_CHECK)  /* ... and umbra checks it too */
#define NP_GUEST_AS_IS_ENTRY (NP_COPY | NP_SAVE | NP_ENTRY) /* ... and every entry reads it (26.3.1.5) */
#define NP_GUEST_DERIVED (NP_DERIVE)                    /* per entry/exit controls (26.3.2.1, 27.3.1) */
#define NP_GUEST_CHECK_ONLY (NP_CHECK)                  /* checked, vmcs02 has umbra's value */
#define NP_CONTROL_AS_IS (NP_COPY | NP_CHECK)           /* checked (26.2.1), then copied */
#define NP_CONTROL_MERGED (NP_MERGE | NP_CHECK)         /* checked, then merged with umbra's */
#define NP_CONTROL_EMULATED (NP_CHECK)                  /* checked; umbra does the work, not vmcs02 */
#define NP_HOST_STATE (NP_HOST | NP_CHECK)              /* checked (26.2.2-26.2.4), loaded at exit */
#define NP_HOST_STATE_ANY (NP_HOST)                     /* loaded at exit; 26.2 checks nothing of it */
#define NP_READ_ONLY (NP_EXIT_INFO)
#define NP_NOT_OFFERED (NP_UNUSED)

/*
 * Every field of the VMCS field list (arch/x86/vmcs_fields.h), once. A
 * field missing here, or listed twice, fails the build; tests/unit checks
 * the rules between flags (nothing copied to vmcs02 unchecked but L2 state
 * the CPU itself checks). NP_NOT_OFFERED fields belong to features the
 * virtual capability MSRs do not offer (nested/vmx_msrs.c): the controls
 * that would make the CPU use them fail umbra's checks, so their values
 * never matter. Offering a feature means moving its fields here first.
 */
#define NVMX_FIELD_POLICIES(X)                                             \
	/* 16-bit control fields */                                         \
	X(VIRTUAL_PROCESSOR_ID, NP_CONTROL_MERGED)                          \
	X(POSTED_INTR_NOTIFICATION_VECTOR, NP_NOT_OFFERED)                  \
	X(EPTP_INDEX, NP_NOT_OFFERED)                                       \
	/* 16-bit guest-state fields */                                     \
	X(GUEST_ES_SELECTOR, NP_GUEST_AS_IS)                                \
	X(GUEST_CS_SELECTOR, NP_GUEST_AS_IS)                                \
	X(GUEST_SS_SELECTOR, NP_GUEST_AS_IS)                                \
	X(GUEST_DS_SELECTOR, NP_GUEST_AS_IS)                                \
	X(GUEST_FS_SELECTOR, NP_GUEST_AS_IS)                                \
	X(GUEST_GS_SELECTOR, NP_GUEST_AS_IS)                                \
	X(GUEST_LDTR_SELECTOR, NP_GUEST_AS_IS)                              \
	X(GUEST_TR_SELECTOR, NP_GUEST_AS_IS)                                \
	X(GUEST_INTR_STATUS, NP_NOT_OFFERED)                                \
	X(GUEST_PML_INDEX, NP_GUEST_CHECK_ONLY) /* umbra logs for L1 (ept02.c) */ \
	/* 16-bit host-state fields */                                      \
	X(HOST_ES_SELECTOR, NP_HOST_STATE)                                  \
	X(HOST_CS_SELECTOR, NP_HOST_STATE)                                  \
	X(HOST_SS_SELECTOR, NP_HOST_STATE)                                  \
	X(HOST_DS_SELECTOR, NP_HOST_STATE)                                  \
	X(HOST_FS_SELECTOR, NP_HOST_STATE)                                  \
	X(HOST_GS_SELECTOR, NP_HOST_STATE)                                  \
	X(HOST_TR_SELECTOR, NP_HOST_STATE)                                  \
	/* 64-bit control fields */                                         \
	X(IO_BITMAP_A, NP_CONTROL_MERGED)                                   \
	X(IO_BITMAP_B, NP_CONTROL_MERGED)                                   \
	X(MSR_BITMAP, NP_CONTROL_MERGED)                                    \
	X(VM_EXIT_MSR_STORE_ADDR, NP_CONTROL_EMULATED)                       \
	X(VM_EXIT_MSR_LOAD_ADDR, NP_CONTROL_EMULATED)                        \
	X(VM_ENTRY_MSR_LOAD_ADDR, NP_CONTROL_EMULATED)                       \
	X(EXECUTIVE_VMCS_POINTER, NP_NOT_OFFERED)                           \
	X(PML_ADDRESS, NP_CONTROL_EMULATED)                                 \
	X(TSC_OFFSET, NP_CONTROL_MERGED)                                    \
	X(VIRTUAL_APIC_PAGE_ADDR, NP_CONTROL_MERGED)                        \
	X(APIC_ACCESS_ADDR, NP_CONTROL_AS_IS) /* a compare value only */     \
	X(POSTED_INTR_DESC_ADDR, NP_NOT_OFFERED)                            \
	X(VM_FUNCTION_CONTROL, NP_NOT_OFFERED)                              \
	X(EPT_POINTER, NP_CONTROL_MERGED)                                   \
	X(EOI_EXIT_BITMAP0, NP_NOT_OFFERED)                                 \
	X(EOI_EXIT_BITMAP1, NP_NOT_OFFERED)                                 \
	X(EOI_EXIT_BITMAP2, NP_NOT_OFFERED)                                 \
	X(EOI_EXIT_BITMAP3, NP_NOT_OFFERED)                                 \
	X(EPTP_LIST_ADDRESS, NP_NOT_OFFERED)                                \
	X(VMREAD_BITMAP, NP_CONTROL_EMULATED) /* L2's VMREADs (insn.c) */  \
	X(VMWRITE_BITMAP, NP_CONTROL_EMULATED)                              \
	X(VE_INFORMATION_ADDRESS, NP_NOT_OFFERED)                           \
	X(XSS_EXIT_BITMAP, NP_NOT_OFFERED)                                  \
	X(ENCLS_EXITING_BITMAP, NP_NOT_OFFERED)                             \
	X(TSC_MULTIPLIER, NP_NOT_OFFERED)                                   \
	/* 64-bit read-only data field */                                   \
	X(GUEST_PHYSICAL_ADDRESS, NP_READ_ONLY)                             \
	/* 64-bit guest-state fields */                                     \
	X(VMCS_LINK_POINTER, NP_GUEST_CHECK_ONLY)                           \
	X(GUEST_IA32_DEBUGCTL, NP_GUEST_DERIVED)                            \
	X(GUEST_IA32_PAT, NP_GUEST_DERIVED)                                 \
	X(GUEST_IA32_EFER, NP_GUEST_DERIVED)                                \
	X(GUEST_IA32_PERF_GLOBAL_CTRL, NP_NOT_OFFERED)                      \
	X(GUEST_PDPTE0, NP_GUEST_AS_IS)                                     \
	X(GUEST_PDPTE1, NP_GUEST_AS_IS)                                     \
	X(GUEST_PDPTE2, NP_GUEST_AS_IS)                                     \
	X(GUEST_PDPTE3, NP_GUEST_AS_IS)                                     \
	X(GUEST_IA32_BNDCFGS, NP_NOT_OFFERED)                               \
	/* 64-bit host-state fields */                                      \
	X(HOST_IA32_PAT, NP_HOST_STATE)                                     \
	X(HOST_IA32_EFER, NP_HOST_STATE)                                    \
	X(HOST_IA32_PERF_GLOBAL_CTRL, NP_NOT_OFFERED)                       \
	/* 32-bit control fields */                                         \
	X(PIN_BASED_VM_EXEC_CONTROL, NP_CONTROL_MERGED)                     \
	X(CPU_BASED_VM_EXEC_CONTROL, NP_CONTROL_MERGED)                     \
	X(EXCEPTION_BITMAP, NP_CONTROL_AS_IS)                               \
	X(PAGE_FAULT_ERROR_CODE_MASK, NP_CONTROL_AS_IS)                     \
	X(PAGE_FAULT_ERROR_CODE_MATCH, NP_CONTROL_AS_IS)                    \
	X(CR3_TARGET_COUNT, NP_CONTROL_AS_IS)                               \
	X(VM_EXIT_CONTROLS, NP_CONTROL_MERGED)                              \
	X(VM_EXIT_MSR_STORE_COUNT, NP_CONTROL_EMULATED)                      \
	X(VM_EXIT_MSR_LOAD_COUNT, NP_CONTROL_EMULATED)                       \
	X(VM_ENTRY_CONTROLS, NP_CONTROL_MERGED | NP_DERIVE)                 \
	X(VM_ENTRY_MSR_LOAD_COUNT, NP_CONTROL_EMULATED)                      \
	X(VM_ENTRY_INTR_INFO, NP_CONTROL_AS_IS)                             \
	X(VM_ENTRY_EXCEPTION_ERROR_CODE, NP_CONTROL_AS_IS)                  \
	X(VM_ENTRY_INSTRUCTION_LEN, NP_CONTROL_AS_IS)                       \
	X(TPR_THRESHOLD, NP_CONTROL_AS_IS)                                  \
	X(SECONDARY_VM_EXEC_CONTROL, NP_CONTROL_MERGED)                     \
	X(PLE_GAP, NP_NOT_OFFERED)                                          \
	X(PLE_WINDOW, NP_NOT_OFFERED)                                       \
	/* 32-bit read-only data fields */                                  \
	X(VM_INSTRUCTION_ERROR, NP_READ_ONLY)                               \
	X(VM_EXIT_REASON, NP_READ_ONLY)                                     \
	X(VM_EXIT_INTR_INFO, NP_READ_ONLY)                                  \
	X(VM_EXIT_INTR_ERROR_CODE, NP_READ_ONLY)                            \
	X(IDT_VECTORING_INFO, NP_READ_ONLY)                                 \
	X(IDT_VECTORING_ERROR_CODE, NP_READ_ONLY)                           \
	X(VM_EXIT_INSTRUCTION_LEN, NP_READ_ONLY)                            \
	X(VMX_INSTRUCTION_INFO, NP_READ_ONLY)                               \
	/* 32-bit guest-state fields */                                     \
	X(GUEST_ES_LIMIT, NP_GUEST_AS_IS)                                   \
	X(GUEST_CS_LIMIT, NP_GUEST_AS_IS)                                   \
	X(GUEST_SS_LIMIT, NP_GUEST_AS_IS)                                   \
	X(GUEST_DS_LIMIT, NP_GUEST_AS_IS)                                   \
	X(GUEST_FS_LIMIT, NP_GUEST_AS_IS)                                   \
	X(GUEST_GS_LIMIT, NP_GUEST_AS_IS)                                   \
	X(GUEST_LDTR_LIMIT, NP_GUEST_AS_IS)                                 \
	X(GUEST_TR_LIMIT, NP_GUEST_AS_IS)                                   \
	X(GUEST_GDTR_LIMIT, NP_GUEST_AS_IS)                                 \
	X(GUEST_IDTR_LIMIT, NP_GUEST_AS_IS)                                 \
	X(GUEST_ES_AR_BYTES, NP_GUEST_AS_IS)                                \
	X(GUEST_CS_AR_BYTES, NP_GUEST_AS_IS)                                \
	X(GUEST_SS_AR_BYTES, NP_GUEST_AS_IS)                                \
	X(GUEST_DS_AR_BYTES, NP_GUEST_AS_IS)                                \
	X(GUEST_FS_AR_BYTES, NP_GUEST_AS_IS)                                \
	X(GUEST_GS_AR_BYTES, NP_GUEST_AS_IS)                                \
	X(GUEST_LDTR_AR_BYTES, NP_GUEST_AS_IS)                              \
	X(GUEST_TR_AR_BYTES, NP_GUEST_AS_IS)                                \
	X(GUEST_INTERRUPTIBILITY_INFO, NP_GUEST_AS_IS_ENTRY)                      \
	X(GUEST_ACTIVITY_STATE, NP_GUEST_CHECKED | NP_ENTRY)                           \
	X(GUEST_SMBASE, NP_NOT_OFFERED)                                     \
	X(GUEST_SYSENTER_CS, NP_GUEST_AS_IS)                                \
	X(VMX_PREEMPTION_TIMER_VALUE, NP_GUEST_DERIVED)                     \
	/* 32-bit host-state field */                                       \
	X(HOST_IA32_SYSENTER_CS, NP_HOST_STATE)                             \
	/* natural-width control fields */                                  \
	X(CR0_GUEST_HOST_MASK, NP_CONTROL_MERGED | NP_DERIVE)               \
	X(CR4_GUEST_HOST_MASK, NP_CONTROL_MERGED | NP_DERIVE)               \
	X(CR0_READ_SHADOW, NP_DERIVE)                                        \
	X(CR4_READ_SHADOW, NP_DERIVE)                                        \
	X(CR3_TARGET_VALUE0, NP_CONTROL_AS_IS)                              \
	X(CR3_TARGET_VALUE1, NP_CONTROL_AS_IS)                              \
	X(CR3_TARGET_VALUE2, NP_CONTROL_AS_IS)                              \
	X(CR3_TARGET_VALUE3, NP_CONTROL_AS_IS)                              \
	/* natural-width read-only data fields */                           \
	X(EXIT_QUALIFICATION, NP_READ_ONLY)                                 \
	X(IO_RCX, NP_READ_ONLY)                                             \
	X(IO_RSI, NP_READ_ONLY)                                             \
	X(IO_RDI, NP_READ_ONLY)                                             \
	X(IO_RIP, NP_READ_ONLY)                                             \
	X(GUEST_LINEAR_ADDRESS, NP_READ_ONLY)                               \
	/* natural-width guest-state fields */                              \
	X(GUEST_CR0, NP_GUEST_AS_IS_DERIVE)                                 \
	X(GUEST_CR3, NP_GUEST_AS_IS_DERIVE)                                 \
	X(GUEST_CR4, NP_GUEST_AS_IS_DERIVE)                                 \
	X(GUEST_ES_BASE, NP_GUEST_AS_IS)                                    \
	X(GUEST_CS_BASE, NP_GUEST_AS_IS)                                    \
	X(GUEST_SS_BASE, NP_GUEST_AS_IS)                                    \
	X(GUEST_DS_BASE, NP_GUEST_AS_IS)                                    \
	X(GUEST_FS_BASE, NP_GUEST_AS_IS)                                    \
	X(GUEST_GS_BASE, NP_GUEST_AS_IS)                                    \
	X(GUEST_LDTR_BASE, NP_GUEST_AS_IS)                                  \
	X(GUEST_TR_BASE, NP_GUEST_AS_IS)                                    \
	X(GUEST_GDTR_BASE, NP_GUEST_AS_IS)                                  \
	X(GUEST_IDTR_BASE, NP_GUEST_AS_IS)                                  \
	X(GUEST_DR7, NP_GUEST_DERIVED)                                      \
	X(GUEST_RSP, NP_GUEST_AS_IS)                                        \
	X(GUEST_RIP, NP_GUEST_AS_IS)                                        \
	X(GUEST_RFLAGS, NP_GUEST_AS_IS_ENTRY)                                     \
	X(GUEST_PENDING_DBG_EXCEPTIONS, NP_GUEST_AS_IS_ENTRY)                     \
	X(GUEST_SYSENTER_ESP, NP_GUEST_AS_IS)                               \
	X(GUEST_SYSENTER_EIP, NP_GUEST_AS_IS)                               \
	/* natural-width host-state fields */                               \
	X(HOST_CR0, NP_HOST_STATE)                                          \
	X(HOST_CR3, NP_HOST_STATE)                                          \
	X(HOST_CR4, NP_HOST_STATE)                                          \
	X(HOST_FS_BASE, NP_HOST_STATE)                                      \
	X(HOST_GS_BASE, NP_HOST_STATE)                                      \
	X(HOST_TR_BASE, NP_HOST_STATE)                                      \
	X(HOST_GDTR_BASE, NP_HOST_STATE)                                    \
	X(HOST_IDTR_BASE, NP_HOST_STATE)                                    \
	X(HOST_IA32_SYSENTER_ESP, NP_HOST_STATE)                            \
	X(HOST_IA32_SYSENTER_EIP, NP_HOST_STATE)                            \
	X(HOST_RSP, NP_HOST_STATE_ANY)                                          \
	X(HOST_RIP, NP_HOST_STATE)

/* Flags by vmcs12 slot, from the table; a field left out of it has no flags (a unit test fails). */
#define NVMX_POLICY_INIT(name, flags) [VMCS12_SLOT_##name] = (flags),
static const uint16_t nvmx_policy[VMCS12_SLOT_COUNT] = { NVMX_FIELD_POLICIES(NVMX_POLICY_INIT) };
#undef NVMX_POLICY_INIT

#define NVMX_POLICY_COUNT_ONE(name, flags) +1
_Static_assert(0 NVMX_FIELD_POLICIES(NVMX_POLICY_COUNT_ONE) == VMCS_FIELD_COUNT,
	       "NVMX_FIELD_POLICIES lists every field of the VMCS field list once");
#undef NVMX_POLICY_COUNT_ONE

/* A field's encoding with its slot, for the generated copy loops. */
struct nvmx_field_ref {
	uint32_t encoding;
	uint16_t slot;
};

/* Slot sets by flag, as bitmaps over vmcs12 slots (made once by nvmx_policy_init()). */
#define NVMX_SLOT_WORDS ((VMCS_FIELD_COUNT + 63) / 64)
struct nvmx_slot_set {
	uint64_t w[NVMX_SLOT_WORDS];
};

/*
 * Made once from the table by nvmx_policy_init() (nested/vmcs02_policy.c):
 * the NP_COPY fields (vmcs12 -> vmcs02 at entry), the NP_SAVE fields
 * (vmcs02 -> vmcs12 at every reflected exit), and the slots whose change
 * re-runs the checks or rebuilds vmcs02.
 */
extern struct nvmx_field_ref nvmx_copy_fields[VMCS_FIELD_COUNT], nvmx_save_fields[VMCS_FIELD_COUNT];
extern size_t nvmx_copy_field_count, nvmx_save_field_count;
extern struct nvmx_slot_set nvmx_check_set, nvmx_merge_set;

void nvmx_policy_init(void);

/* Is any slot of `dirty` in `set`? */
static inline bool nvmx_slots_meet(const uint64_t *dirty, const struct nvmx_slot_set *set)
{
	uint64_t any = 0;

	for (size_t i = 0; i < NVMX_SLOT_WORDS; i++)
		any |= dirty[i] & set->w[i];
	return any != 0;
}

#endif
