/* SPDX-License-Identifier: BSD-2-Clause */
/* Exits from L2: umbra's to handle, or L1's (reflected: SDM Vol. 3C 27, as the CPU would for L1). */
#include "arch/x86/cpu.h"
#include "arch/x86/gdt.h"
#include "arch/x86/guest_mem.h"
#include "arch/x86/vmx_controls.h"
#include "core/log.h"
#include "core/panic.h"
#include "core/shutdown.h"
#include "nested/nvmx.h"
#include "nested/vmcs02_policy.h"

#define INTR_TYPE_NMI 2
#define NMI_VECTOR 2
#define INTERRUPTIBILITY_NMI BIT(3) /* blocking by NMI (SDM Vol. 3C 24.4.2) */
#define VEC_GP 13

/* Segment access rights (SDM Vol. 3C 24.4.1) for the host state L1 gets back (27.5.2). */
#define AR_CODE64 0xa09bu /* G, L, P, S, type 11 */
#define AR_CODE32 0xc09bu /* G, D, P, S, type 11 */
#define AR_DATA 0xc093u   /* G, D/B, P, S, type 3 */
#define AR_TSS_BUSY 0x8bu
#define AR_UNUSABLE 0x10000u

/*
 * Exit-information fields the CPU wrote for umbra, and L1 must see (SDM
 * Vol. 3C 24.9): every read-only field but VM_INSTRUCTION_ERROR, which is
 * umbra's answer to L1's VMX instructions.
 */
#define EXIT_INFO_REF(name) { name, VMCS12_SLOT_##name },
static const struct nvmx_field_ref exit_info_fields[] = {
	EXIT_INFO_REF(VM_EXIT_REASON) EXIT_INFO_REF(EXIT_QUALIFICATION) EXIT_INFO_REF(GUEST_LINEAR_ADDRESS)
	EXIT_INFO_REF(GUEST_PHYSICAL_ADDRESS) EXIT_INFO_REF(VM_EXIT_INTR_INFO)
	EXIT_INFO_REF(VM_EXIT_INTR_ERROR_CODE) EXIT_INFO_REF(IDT_VECTORING_INFO)
	EXIT_INFO_REF(IDT_VECTORING_ERROR_CODE) EXIT_INFO_REF(VM_EXIT_INSTRUCTION_LEN)
	EXIT_INFO_REF(VMX_INSTRUCTION_INFO) EXIT_INFO_REF(IO_RCX) EXIT_INFO_REF(IO_RSI)
	EXIT_INFO_REF(IO_RDI) EXIT_INFO_REF(IO_RIP)
};
#undef EXIT_INFO_REF

/* SDM Vol. 3C 27.5: L1 continues in the host state of its vmcs12 (written into vmcs01). */
void nvmx_load_l1_host_state(struct vcpu *v, struct nvmx *n, bool l2_ran, bool vmcs02_shadow)
{
	const struct vmcs12 *c = &n->vmcs12;
	uint32_t exit12 = VMCS12_GET(c, VM_EXIT_CONTROLS);
	bool host64 = exit12 & HOST_ADDR_SPACE_SIZE;
	/*
	 * 27.5.1: without "load IA32_EFER" / "load IA32_PAT", L1 continues
	 * with the EFER (LMA and LME aside) and PAT L2 had, which vmcs02
	 * saved at the exit. A failed entry (26.8) never gave L2 its state:
	 * then they are L1's own, in vmcs01.
	 */
	uint64_t efer = l2_ran ? vmcs_read64(GUEST_IA32_EFER) : 0;
	uint64_t pat = l2_ran ? vmcs_read64(GUEST_IA32_PAT) : 0;
	uint32_t entry01;

	if (vmcs02_shadow)
		shadow_vmcs02_enter(v, n); /* vmcs02 is current until here */
	vcpu_vmcs_load(v, v->vmcs01.pa);
	if (!l2_ran) {
		efer = vmcs_read64(GUEST_IA32_EFER);
		pat = vmcs_read64(GUEST_IA32_PAT);
	}
	v->in_l2 = false;

	vcpu_set_cr0(VMCS12_GET(c, HOST_CR0));
	vcpu_set_cr4(VMCS12_GET(c, HOST_CR4));
	vmcs_writenat(GUEST_CR3, VMCS12_GET(c, HOST_CR3));
	vmcs_writenat(GUEST_DR7, 0x400);
	vmcs_write64(GUEST_IA32_DEBUGCTL, 0);
	vmcs_write32(GUEST_SYSENTER_CS, VMCS12_GET(c, HOST_IA32_SYSENTER_CS));
	vmcs_writenat(GUEST_SYSENTER_ESP, VMCS12_GET(c, HOST_IA32_SYSENTER_ESP));
	vmcs_writenat(GUEST_SYSENTER_EIP, VMCS12_GET(c, HOST_IA32_SYSENTER_EIP));
	if (exit12 & LOAD_EFER) {
		efer = VMCS12_GET(c, HOST_IA32_EFER);
	} else {
		efer &= ~(EFER_LMA | EFER_LME);
		if (host64)
			efer |= EFER_LMA | EFER_LME;
	}
	vmcs_write64(GUEST_IA32_EFER, efer);
	vmcs_write64(GUEST_IA32_PAT, (exit12 & LOAD_PAT) ? VMCS12_GET(c, HOST_IA32_PAT) : pat);
	entry01 = vmcs_read32(VM_ENTRY_CONTROLS) & ~IA32E_MODE_GUEST;
	vmcs_write32(VM_ENTRY_CONTROLS, entry01 | (host64 ? IA32E_MODE_GUEST : 0));

	vcpu_write_segment(GUEST_CS_SELECTOR, VMCS12_GET(c, HOST_CS_SELECTOR), 0, 0xffffffff,
		  host64 ? AR_CODE64 : AR_CODE32);
	vcpu_write_segment(GUEST_SS_SELECTOR, VMCS12_GET(c, HOST_SS_SELECTOR), 0, 0xffffffff,
		  AR_DATA | (VMCS12_GET(c, HOST_SS_SELECTOR) ? 0 : AR_UNUSABLE));
	vcpu_write_segment(GUEST_DS_SELECTOR, VMCS12_GET(c, HOST_DS_SELECTOR), 0, 0xffffffff,
		  AR_DATA | (VMCS12_GET(c, HOST_DS_SELECTOR) ? 0 : AR_UNUSABLE));
	vcpu_write_segment(GUEST_ES_SELECTOR, VMCS12_GET(c, HOST_ES_SELECTOR), 0, 0xffffffff,
		  AR_DATA | (VMCS12_GET(c, HOST_ES_SELECTOR) ? 0 : AR_UNUSABLE));
	vcpu_write_segment(GUEST_FS_SELECTOR, VMCS12_GET(c, HOST_FS_SELECTOR), VMCS12_GET(c, HOST_FS_BASE),
		  0xffffffff, AR_DATA | (VMCS12_GET(c, HOST_FS_SELECTOR) ? 0 : AR_UNUSABLE));
	vcpu_write_segment(GUEST_GS_SELECTOR, VMCS12_GET(c, HOST_GS_SELECTOR), VMCS12_GET(c, HOST_GS_BASE),
		  0xffffffff, AR_DATA | (VMCS12_GET(c, HOST_GS_SELECTOR) ? 0 : AR_UNUSABLE));
	vcpu_write_segment(GUEST_TR_SELECTOR, VMCS12_GET(c, HOST_TR_SELECTOR), VMCS12_GET(c, HOST_TR_BASE), 0x67,
		  AR_TSS_BUSY);
	vcpu_write_segment(GUEST_LDTR_SELECTOR, 0, 0, 0, AR_UNUSABLE);
	vmcs_writenat(GUEST_GDTR_BASE, VMCS12_GET(c, HOST_GDTR_BASE));
	vmcs_write32(GUEST_GDTR_LIMIT, 0xffff);
	vmcs_writenat(GUEST_IDTR_BASE, VMCS12_GET(c, HOST_IDTR_BASE));
	vmcs_write32(GUEST_IDTR_LIMIT, 0xffff);
	vmcs_writenat(GUEST_RIP, VMCS12_GET(c, HOST_RIP));
	vmcs_writenat(GUEST_RSP, VMCS12_GET(c, HOST_RSP));
	vmcs_writenat(GUEST_RFLAGS, 0x2);
	vmcs_write32(GUEST_INTERRUPTIBILITY_INFO, 0);
	vmcs_write32(GUEST_ACTIVITY_STATE, 0);
	vmcs_writenat(GUEST_PENDING_DBG_EXCEPTIONS, 0);
}

/* SDM Vol. 3C 27.7: VMX-abort indicators. */
#define VMX_ABORT_SAVE_GUEST_MSRS 1
#define VMX_ABORT_LOAD_HOST_MSRS 4

/*
 * SDM Vol. 3C 27.7: the indicator goes to offset 4 of the current VMCS's
 * region and the logical processor shuts down: L1's CPU is gone, so the
 * guest stops with a report (umbra's own CPU carries on).
 */
static __noreturn void vmx_abort(struct vcpu *v, struct nvmx *n, uint32_t indicator, const char *list,
				 uint32_t entry)
{
	n->vmcs12.abort = indicator;
	guest_write_phys(n->current + __builtin_offsetof(struct vmcs12, abort), &indicator, sizeof(indicator));
	guest_stop(v, "VMX abort %u: %s entry %u failed", indicator, list, entry);
}

/*
 * SDM Vol. 3C 27.6: after the host state, the VM-exit MSR-load list
 * (vmcs01 is current: MSRs it switches are written there, so umbra's own
 * EFER or PAT never change under it). A failing entry is a VMX abort.
 */
static void load_exit_msrs(struct vcpu *v, struct nvmx *n)
{
	uint32_t bad = nvmx_msr_list_load(VMCS12_GET(&n->vmcs12, VM_EXIT_MSR_LOAD_ADDR),
					  VMCS12_GET(&n->vmcs12, VM_EXIT_MSR_LOAD_COUNT));

	if (bad)
		vmx_abort(v, n, VMX_ABORT_LOAD_HOST_MSRS, "VM-exit MSR-load", bad);
}

/* The exit information vmcs02 (current) holds, into vmcs12. vmcs_read() zero-extends, as vmcs12 stores a field. */
static void copy_exit_info(struct vmcs12 *c)
{
	for (size_t i = 0; i < ARRAY_SIZE(exit_info_fields); i++)
		c->fields[exit_info_fields[i].slot] = vmcs_read(exit_info_fields[i].encoding);
}

void nvmx_sync12(struct vcpu *v, struct nvmx *n)
{
	struct vmcs12 *c = &n->vmcs12;
	uint64_t was = v->current_vmcs;

	if (!n->stale12)
		return;
	if (n->vmcs02_is_shadow)
		shadow_vmcs02_leave(v, n); /* vmcs02 current, L1's writes in it read back */
	else
		vcpu_vmcs_load(v, v->vmcs02.pa);
	for (size_t i = 0; i < nvmx_save_field_count; i++)
		c->fields[nvmx_save_fields[i].slot] = vmcs_read(nvmx_save_fields[i].encoding);
	copy_exit_info(c);
	n->stale12 = false;
	if (was)
		vcpu_vmcs_load(v, was);
}

void nvmx_l1_view_own(struct vcpu *v, struct nvmx *n)
{
	nvmx_sync12(v, n);
	shadow_attach_own(v, n);
}

void nvmx_entry_failure(struct vcpu *v, struct nvmx *n, uint32_t basic, uint64_t qual)
{
	nvmx_sync12(v, n); /* before the failure's own exit information */
	VMCS12_SET(&n->vmcs12, VM_EXIT_REASON, EXIT_REASON_ENTRY_FAILURE | basic);
	VMCS12_SET(&n->vmcs12, EXIT_QUALIFICATION, qual);
	n->pending_launch = false;
	nvmx_load_l1_host_state(v, n, false, false);
	load_exit_msrs(v, n);
	shadow_attach_own(v, n);
}

/*
 * Save L2's state and the exit information for L1, then give L1 back its
 * host state. own_qual: the exit is reason with qualification qual, not
 * what the CPU reported (nested EPT composes L1's answer). may_share: vmcs02
 * may become L1's shadow VMCS (docs/design.md, "vmcs02 as the shadow"):
 * then L2's state and the exit information stay in vmcs02, where L1 reads
 * them, and nothing is copied; else they are copied into vmcs12, and L1
 * reads them in umbra's own shadow.
 */
static void reflect_as(struct vcpu *v, struct nvmx *n, uint32_t reason, bool own_qual, uint64_t qual,
		       bool may_share)
{
	struct vmcs12 *c = &n->vmcs12;
	uint32_t exit12 = VMCS12_GET(c, VM_EXIT_CONTROLS);
	bool failed = reason & EXIT_REASON_ENTRY_FAILURE;
	bool share = may_share && !failed && shadow_vmcs02_wanted(n);
	uint32_t bad;

	/*
	 * vmcs02 is current. A failed entry (bit 31) saves no guest state (SDM
	 * 26.8): vmcs02's guest area is then what vmcs12 gave it.
	 */
	if (!share && n->stale12)
		nvmx_sync12(v, n);
	else if (!share)
		copy_exit_info(c); /* vmcs12 has the rest (an entry that failed its MSR-list probe) */
	if (!failed) {
		if (exit12 & SAVE_EFER)
			VMCS12_SET(c, GUEST_IA32_EFER, vmcs_read64(GUEST_IA32_EFER));
		if (exit12 & SAVE_PAT)
			VMCS12_SET(c, GUEST_IA32_PAT, vmcs_read64(GUEST_IA32_PAT));
		/* 27.3.2: the timer's value goes back only with "save VMX-preemption timer value". */
		if (exit12 & SAVE_PREEMPTION_TIMER)
			VMCS12_SET(c, VMX_PREEMPTION_TIMER_VALUE, vmcs_read32(VMX_PREEMPTION_TIMER_VALUE));
		if (exit12 & SAVE_DEBUG_CONTROLS) {
			VMCS12_SET(c, GUEST_DR7, vmcs_readnat(GUEST_DR7));
			VMCS12_SET(c, GUEST_IA32_DEBUGCTL, vmcs_read64(GUEST_IA32_DEBUGCTL));
		}
		/* 27.2: "IA-32e mode guest" follows EFER.LMA. */
		VMCS12_SET(c, VM_ENTRY_CONTROLS,
			   (VMCS12_GET(c, VM_ENTRY_CONTROLS) & ~IA32E_MODE_GUEST) |
				   (vmcs_read32(VM_ENTRY_CONTROLS) & IA32E_MODE_GUEST));
		/* 27.4: L2's MSRs into L1's VM-exit MSR-store list (vmcs02 is still current). */
		bad = nvmx_msr_list_store(VMCS12_GET(c, VM_EXIT_MSR_STORE_ADDR),
					  VMCS12_GET(c, VM_EXIT_MSR_STORE_COUNT));
		if (bad)
			vmx_abort(v, n, VMX_ABORT_SAVE_GUEST_MSRS, "VM-exit MSR-store", bad);
	}
	/* Exit information umbra gives instead of the CPU's: into vmcs02 too when L1 reads it there. */
	if (own_qual) {
		VMCS12_SET(c, VM_EXIT_REASON, reason);
		VMCS12_SET(c, EXIT_QUALIFICATION, qual);
		if (share) {
			vmcs_write32(VM_EXIT_REASON, reason);
			vmcs_writenat(EXIT_QUALIFICATION, qual);
		}
	}
	/*
	 * SDM 27.2.1: a VMREAD or VMWRITE with register operands has no
	 * displacement, and its qualification is 0; Bochs leaves a stale
	 * displacement there (docs/bochs.md). L1 gets the SDM's value.
	 */
	if ((reason == EXIT_REASON_VMREAD || reason == EXIT_REASON_VMWRITE) &&
	    (vmcs_read32(VMX_INSTRUCTION_INFO) & BIT(10))) {
		VMCS12_SET(c, EXIT_QUALIFICATION, 0);
		if (share)
			vmcs_writenat(EXIT_QUALIFICATION, 0);
	}
	/*
	 * 24.8.3: a VM exit clears the valid bit of the VM-entry interruption
	 * information; a VM entry that failed loading guest state or MSRs
	 * (26.8) leaves it as it was, as bare Bochs does.
	 */
	if (!failed)
		VMCS12_SET(c, VM_ENTRY_INTR_INFO, VMCS12_GET(c, VM_ENTRY_INTR_INFO) & ~BIT(31));
	if (share)
		n->stale12 = true; /* they stay in vmcs02 */
	nvmx_load_l1_host_state(v, n, !failed, share);
	load_exit_msrs(v, n);
	/* Exit information and L2 state where L1 reads them. */
	if (share)
		shadow_vmcs02_link(v, n);
	else
		shadow_attach_own(v, n);
	v->reflected++;
}

static void reflect(struct vcpu *v, struct nvmx *n, uint32_t reason)
{
	reflect_as(v, n, reason, false, 0, true);
}

void nvmx_reflect_with(struct vcpu *v, uint32_t reason, uint64_t qual)
{
	reflect_as(v, nvmx_of(v), reason, true, qual, true);
}

void nvmx_reflect_ept_violation(struct vcpu *v, uint64_t qual, uint64_t gpa, uint64_t gla)
{
	struct nvmx *n = nvmx_of(v);

	/* Its exit information is umbra's, not vmcs02's: in vmcs12 and umbra's shadow (27.2.1). */
	reflect_as(v, n, EXIT_REASON_EPT_VIOLATION, true, qual, false);
	VMCS12_SET(&n->vmcs12, GUEST_PHYSICAL_ADDRESS, gpa);
	VMCS12_SET(&n->vmcs12, GUEST_LINEAR_ADDRESS, gla);
	VMCS12_SET(&n->vmcs12, IDT_VECTORING_INFO, 0);
	VMCS12_SET(&n->vmcs12, IDT_VECTORING_ERROR_CODE, 0);
	shadow_from_vmcs12(v, n);
}

/* MOV to CR0/CR4 from L2 that exited: L1's if it touches a bit L1 owns, else umbra's (NE, VMXE). */
static bool cr_access_is_l1s(struct vcpu *v, const struct vmcs12 *c, uint64_t qual)
{
	unsigned int cr = qual & 0xf, type = (qual >> 4) & 3;
	uint64_t val, mask, shadow;

	if (type != 0 || (cr != 0 && cr != 4))
		return true; /* CR3, CR8, CLTS, LMSW exit only when L1 asked */
	val = vcpu_gpr(v, (qual >> 8) & 0xf);
	mask = VMCS12_GET(c, cr == 0 ? CR0_GUEST_HOST_MASK : CR4_GUEST_HOST_MASK);
	shadow = VMCS12_GET(c, cr == 0 ? CR0_READ_SHADOW : CR4_READ_SHADOW);
	return ((val ^ shadow) & mask) != 0;
}

/* A CR0/CR4 write from L2 that only umbra's bits made exit: do it, or #GP if VMX forbids it. */
static void l2_cr_write(struct vcpu *v, uint64_t qual)
{
	unsigned int cr = qual & 0xf;
	uint64_t val = vcpu_gpr(v, (qual >> 8) & 0xf);
	uint64_t fixed0 = cr == 0 ? vm.caps.cr0_fixed0 : vm.caps.cr4_fixed0;
	uint64_t fixed1 = cr == 0 ? vm.caps.cr0_fixed1 : vm.caps.cr4_fixed1;
	uint64_t l0_mask = cr == 0 ? vm.cr0_mask : vm.cr4_mask;

	/* SDM Vol. 3C 23.8: in VMX operation fixed bits cannot change, L2 included. */
	if ((val & fixed0 & l0_mask) != (fixed0 & l0_mask) || (val & ~fixed1)) {
		inject_exception(VEC_GP, true, 0);
		return;
	}
	vmcs_writenat(cr == 0 ? GUEST_CR0 : GUEST_CR4, val);
	vmcs_writenat(cr == 0 ? CR0_READ_SHADOW : CR4_READ_SHADOW,
		      (vmcs_readnat(cr == 0 ? CR0_READ_SHADOW : CR4_READ_SHADOW) & ~l0_mask) | (val & l0_mask));
	exit_skip_instruction();
}

/* VMLAUNCH: the entry succeeded (an exit followed), so the VMCS is launched now. */
static void mark_launched(struct nvmx *n)
{
	if (n->pending_launch) {
		uint64_t evicted;

		if (launched_add(&n->launched, n->current, &evicted)) {
			/* The list is full: the evicted VMCS keeps its state in its region. */
			struct vmcs12 head;

			if (guest_read_phys(evicted, &head, 16)) {
				head.launch_state = 1;
				guest_write_phys(evicted, &head, 16);
			}
		}
		n->vmcs12.launch_state = 1;
		n->pending_launch = false;
	}
}

bool nvmx_l2_exit(struct vcpu *v, uint32_t reason, uint64_t qual)
{
	struct nvmx *n = nvmx_of(v);
	const struct vmcs12 *c = &n->vmcs12;
	uint32_t basic = EXIT_REASON_BASIC(reason);
	uint32_t proc = VMCS12_GET(c, CPU_BASED_VM_EXEC_CONTROL);

	if (reason & EXIT_REASON_ENTRY_FAILURE) {
		if (n->msr_list_probe) {
			n->msr_list_probe = false;
			vmcs_write32(VM_ENTRY_MSR_LOAD_COUNT, 0);
			vmcs_write64(VM_ENTRY_MSR_LOAD_ADDR, 0);
			if (basic == EXIT_REASON_MSR_LOADING) {
				/* L2's guest state passed (nested/entry.c): now L1's list, then L2 for real. */
				uint32_t bad = nvmx_msr_list_load(VMCS12_GET(c, VM_ENTRY_MSR_LOAD_ADDR),
								  VMCS12_GET(c, VM_ENTRY_MSR_LOAD_COUNT));

				/*
				 * SDM 26.8: a failure leaves vmcs12 as it was (it was synced before
				 * the probe: the list's loads into vmcs02's guest area are not L1's
				 * to see).
				 */
				if (bad)
					nvmx_entry_failure(v, n, EXIT_REASON_MSR_LOADING, bad);
				return true; /* else vcpu.c enters vmcs02 again while v->in_l2 */
			}
		}
		/* L2's guest state failed the CPU's checks: L1 sees the failed entry (SDM 26.8). */
		reflect(v, n, reason);
		return true;
	}
	n->stale12 = true; /* L2 ran: its state is vmcs02's now */
	/*
	 * The timer only counts down (SDM 25.5.1). Bochs saves a stale value
	 * after an entry with it at 0 (docs/bochs.md), which an exit umbra
	 * handles itself would give L2 back as time left: never more than
	 * there was.
	 */
	if (VMCS12_GET(c, PIN_BASED_VM_EXEC_CONTROL) & PREEMPTION_TIMER) {
		uint32_t left = vmcs_read32(VMX_PREEMPTION_TIMER_VALUE);

		if (left > n->timer_left)
			vmcs_write32(VMX_PREEMPTION_TIMER_VALUE, left = n->timer_left);
		n->timer_left = left;
	}
	mark_launched(n);
	switch (basic) {
	case EXIT_REASON_EXCEPTION_NMI:
		/*
		 * Every NMI is umbra's first (panic, shutdown, INIT kick: exit.c's
		 * exit_nmi); a guest's NMI then becomes an NMI exit to L1 or L2's
		 * NMI there, never a reflection of this exit as it stands.
		 */
		if (((vmcs_read32(VM_EXIT_INTR_INFO) >> 8) & 7) == INTR_TYPE_NMI)
			return false;
		break;
	case EXIT_REASON_NMI_WINDOW:
		if (!(proc & NMI_WINDOW_EXITING))
			return false; /* umbra asked for it, to inject an NMI into L2 */
		break;
	case EXIT_REASON_IO_INSTRUCTION:
		if (!(proc & (USE_IO_BITMAPS | UNCOND_IO_EXITING)))
			return false; /* umbra's own bitmaps: an emulator exit port */
		break;
	case EXIT_REASON_CR_ACCESS:
		if (!cr_access_is_l1s(v, c, qual)) {
			l2_cr_write(v, qual);
			return true;
		}
		break;
	case EXIT_REASON_MSR_READ:
	case EXIT_REASON_MSR_WRITE:
		/* vmcs02's bitmap is L1's | umbra's: an exit L1 did not ask for is umbra's MSR. */
		if (!nvmx_l1_wants_msr_exit(c, (uint32_t)v->regs.rcx, basic == EXIT_REASON_MSR_WRITE))
			return false;
		break;
	case EXIT_REASON_VMREAD:
	case EXIT_REASON_VMWRITE:
		/* With L1's VMCS shadowing on, umbra may do what the CPU would do without an exit. */
		if (nvmx_l2_shadow_access(v, n, basic == EXIT_REASON_VMWRITE, qual))
			return true;
		break;
	case EXIT_REASON_EPT_VIOLATION:
	case EXIT_REASON_EPT_MISCONFIG:
		/* L2 on L1's EPT: a shadow EPT fill, or L1's exit (nested/ept02.c). */
		if (proc & SECONDARY_CONTROLS && (VMCS12_GET(c, SECONDARY_VM_EXEC_CONTROL) & ENABLE_EPT))
			return ept02_l2_exit(v, n, basic, qual);
		return false; /* umbra's EPT: L2 reached for what is not L1's */
	default:
		break;
	}
	/* Every other exit happens only because L1 asked for it, or is unconditional. */
	reflect(v, n, reason);
	return true;
}

void nvmx_l2_entry_failed(struct vcpu *v, uint32_t err)
{
	struct nvmx *n = nvmx_of(v);

	/* The CPU refused vmcs02 (VMfailValid): to L1 its VMLAUNCH/VMRESUME failed the same way. */
	vcpu_vmcs_load(v, v->vmcs01.pa);
	v->in_l2 = false;
	n->pending_launch = false;
	nvmx_l1_view_own(v, n);
	log_debug("nested: vmcs02 entry failed: %s", vmx_instruction_error_name(err));
	nvmx_fail(v, err);
	exit_skip_instruction();
}

/*
 * An exit to L1 that stands for no hardware exit of L2 (an INIT, a pending
 * NMI): L2 stopped between two instructions with the state vmcs02 holds, and
 * the exit information is the event's alone (SDM Vol. 3C 27.2).
 */
static void reflect_event(struct vcpu *v, uint32_t reason, uint32_t intr_info)
{
	struct nvmx *n = nvmx_of(v);

	mark_launched(n);
	reflect_as(v, n, reason, false, 0, false); /* its exit information is umbra's: in vmcs12 */
	VMCS12_SET(&n->vmcs12, VM_EXIT_REASON, reason);
	VMCS12_SET(&n->vmcs12, EXIT_QUALIFICATION, 0);
	VMCS12_SET(&n->vmcs12, VM_EXIT_INTR_INFO, intr_info);
	VMCS12_SET(&n->vmcs12, VM_EXIT_INTR_ERROR_CODE, 0);
	VMCS12_SET(&n->vmcs12, IDT_VECTORING_INFO, 0);
	VMCS12_SET(&n->vmcs12, IDT_VECTORING_ERROR_CODE, 0);
	VMCS12_SET(&n->vmcs12, VM_EXIT_INSTRUCTION_LEN, 0);
	VMCS12_SET(&n->vmcs12, VMX_INSTRUCTION_INFO, 0);
	shadow_from_vmcs12(v, n);
}

bool nvmx_init_signal(struct vcpu *v)
{
	struct nvmx *n = nvmx_of(v);

	if (!n->vmxon) {
		/*
		 * Not in VMX operation: the INIT resets the vCPU (the caller does).
		 * Nothing of L1's VMX operation is left (VMXOFF flushed the current
		 * VMCS and unlinked the shadow); an NMI still pending for an L2 has
		 * no L2 any more.
		 */
		__atomic_store_n(&v->nmi_pending_l2, 0, __ATOMIC_RELAXED);
		return false;
	}
	if (!v->in_l2)
		return true;  /* blocked in VMX root operation: stays pending (SDM Vol. 3C 23.8) */
	/* SDM Vol. 3C 25.2: in VMX non-root an INIT is a VM exit (reason 3) to L1. */
	__atomic_store_n(&v->init_pending, false, __ATOMIC_RELEASE);
	reflect_event(v, EXIT_REASON_INIT_SIGNAL, 0);
	return true;
}

bool nvmx_l1_nmi_exiting(struct vcpu *v)
{
	return v->in_l2 && (VMCS12_GET(&nvmx_of(v)->vmcs12, PIN_BASED_VM_EXEC_CONTROL) & NMI_EXITING);
}

bool nvmx_l1_virtual_nmis(struct vcpu *v)
{
	return v->in_l2 && (VMCS12_GET(&nvmx_of(v)->vmcs12, PIN_BASED_VM_EXEC_CONTROL) & VIRTUAL_NMIS);
}

/*
 * SDM Vol. 3C 25.2, 27.2.2: an NMI while L2 runs with L1's NMI exiting: exit
 * reason 0, NMI 2. The NMI blocks further NMIs before the exit (27.1): L1
 * continues with NMIs blocked until its IRET (virtual-NMI blocking in vmcs01).
 */
void nvmx_nmi_exit(struct vcpu *v)
{
	reflect_event(v, EXIT_REASON_EXCEPTION_NMI, BIT(31) | (INTR_TYPE_NMI << 8) | NMI_VECTOR);
	if (vmcs_read32(PIN_BASED_VM_EXEC_CONTROL) & VIRTUAL_NMIS)
		vmcs_write32(GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_NMI);
}
