/* SPDX-License-Identifier: BSD-2-Clause */
/* The L1 guest's virtual CPUs: one per physical CPU, pinned, each with its VMCS. */
#ifndef UMBRA_ARCH_X86_VCPU_H
#define UMBRA_ARCH_X86_VCPU_H

#include "arch/x86/ept.h"
#include "arch/x86/exit_reasons.h"
#include "arch/x86/profile.h"
#include "arch/x86/vmx.h"
#include "core/hypercall.h"
#include "core/loader.h"
#include "core/types.h"

/* Saved by arch/x86/vmx_entry.asm; RSP and RIP live in the VMCS. */
struct guest_regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	/*
	 * Every VM exit this CPU took, counted by vmx_exit_entry itself: an
	 * account independent of exit_dispatch()'s per-reason statistics, which
	 * must add up to the same number (exit_stats_report() checks).
	 */
	uint64_t vm_exits;
	/* PROFILE=1 builds: TSC right before VMLAUNCH/VMRESUME and right after the exit. */
	uint64_t tsc_enter, tsc_exit;
};

_Static_assert(__builtin_offsetof(struct guest_regs, rax) == 0, "GR_RAX in vmx_entry.asm");
_Static_assert(__builtin_offsetof(struct guest_regs, rdi) == 40, "GR_RDI in vmx_entry.asm");
_Static_assert(__builtin_offsetof(struct guest_regs, rbp) == 48, "GR_RBP in vmx_entry.asm");
_Static_assert(__builtin_offsetof(struct guest_regs, r15) == 112, "GR_R15 in vmx_entry.asm");
_Static_assert(__builtin_offsetof(struct guest_regs, vm_exits) == 120, "GR_VM_EXITS in vmx_entry.asm");
_Static_assert(__builtin_offsetof(struct guest_regs, tsc_enter) == 128, "GR_TSC_ENTER in vmx_entry.asm");
_Static_assert(__builtin_offsetof(struct guest_regs, tsc_exit) == 136, "GR_TSC_EXIT in vmx_entry.asm");

_Static_assert(EXIT_REASON_MAX == UMBRA_STATS_REASONS, "hypercall stats layout");

/* Exits taken while one level ran, whatever umbra did with them (handled or reflected). */
struct exit_stats {
	uint64_t exits[EXIT_REASON_MAX];
	uint64_t cycles[EXIT_REASON_MAX];
	uint64_t unknown_reason; /* basic reason >= EXIT_REASON_MAX (a guest stop follows) */
};

/* How the guest starts on a CPU. */
struct vcpu_boot {
	bool wait_for_sipi; /* APs: wait in umbra until the guest sends INIT and SIPI */
	uint32_t entry;     /* BSP: 32-bit protected-mode entry point */
	uint32_t eax, ebx;  /* BSP: multiboot magic and info address */
	uint32_t esi;       /* BSP: Linux's boot_params (32-bit boot protocol) */
	/* BSP: the GDT and selectors to enter with; limit 0 = none, umbra's selector values */
	uint32_t gdtr_base;
	uint16_t gdtr_limit, cs, ds;
};

enum vcpu_state {
	VCPU_RUNNING = 0,
	VCPU_WAIT_SIPI, /* after INIT: waits in umbra for its SIPI (arch/x86/vapic.h) */
};

/* A hardware VMCS umbra runs: its address and whether it is launched. */
struct hw_vmcs {
	uint64_t pa;
	bool launched;
};

struct vcpu {
	struct guest_regs regs;
	uint32_t index;
	struct hw_vmcs vmcs01; /* L1 */
	struct hw_vmcs vmcs02; /* L2, built by nested/ from L1's vmcs12 */
	bool in_l2;            /* L2 runs next: vmcs02 is current */
	uint64_t current_vmcs; /* the current VMCS (vcpu_vmcs_load()), 0 when none */
	volatile enum vcpu_state state;
	volatile bool init_seen;    /* an INIT arrived since the last SIPI */
	volatile bool init_pending; /* INIT for this CPU while it ran the guest */
	volatile bool kicked;       /* the next NMI is umbra's, not the guest's */
	volatile uint32_t sipi;     /* 0x100 | vector when a SIPI is waiting */
	/* Guest NMIs waiting for their level (exit.c's exit_prepare_entry has the rule). */
	uint32_t nmi_pending_l1;    /* L1's: injected into L1, or an NMI exit from L2 to L1 */
	uint32_t nmi_pending_l2;    /* L2's (L1 let L2 have its NMIs): injected into L2 only */
	uint8_t bochs_shutdown_pos; /* progress through "Shutdown" on port 0x8900 */
	struct exit_stats stats;    /* exits while L1 ran */
	struct exit_stats stats_l2; /* exits while L2 ran (reflected or handled by umbra) */
	uint64_t reflected;         /* L2 exits reflected to L1 */
	struct profile prof;        /* PROFILE=1 builds: cycles per exit-path phase */
};

/* Machine-wide VMX settings, made once by the BSP. */
struct vm {
	struct vmx_caps caps;
	struct vmx_controls ctl;
	uint64_t eptp;
	uint64_t msr_bitmap, io_bitmap_a, io_bitmap_b;
	uint64_t ones_page; /* all ones: what the CPU reads where a guest names memory that is not there */
	uint64_t cr0_mask, cr4_mask; /* guest/host masks: bits umbra owns */
	struct ept_hole umbra_mem[4];   /* what the guest may never touch */
	size_t umbra_mem_count;
	uint64_t guest_mem_limit;       /* RAM above this is not the guest's; 0 = none */
	const struct guest_memmap *guest_map; /* the guest's RAM, for umbra's own accesses */
	uint32_t vcpu_count;
	uint32_t phys_addr_bits;        /* MAXPHYADDR, CPUID 0x80000008 EAX[7:0] */
};

extern struct vm vm;

/*
 * BSP, once: negotiate controls, build EPT and the MSR and I/O bitmaps.
 * Returns false, after saying why, when this CPU cannot host the guest.
 */
bool vm_init(const struct vmx_caps *caps, const struct ept_hole *umbra_mem, size_t n,
	     uint64_t ram_end);

/* Every CPU: VMXON, its VMCS, guest state per boot. Returns false after saying why. */
bool vcpu_init(struct vcpu *v, uint32_t index, const struct vcpu_boot *boot);

/* Run the guest on this CPU until the machine stops. */
__noreturn void vcpu_run(struct vcpu *v);

/* General-purpose register n in the CPU's numbering (RAX=0 ... R15=15; 4 is RSP, in the VMCS). */
uint64_t vcpu_gpr(struct vcpu *v, unsigned int n);
void vcpu_set_gpr(struct vcpu *v, unsigned int n, uint64_t value);

/*
 * One guest segment register of the current VMCS, named by its selector
 * field. Inline: with a constant field the four encodings are constants.
 */
static __always_inline void vcpu_write_segment(uint32_t sel_field, uint16_t sel, uint64_t base, uint32_t limit,
					       uint32_t ar)
{
	/* Fields of one segment are spaced alike in every group (SDM Appendix B). */
	uint32_t index = (sel_field - GUEST_ES_SELECTOR) / 2;

	vmcs_write(GUEST_ES_SELECTOR + 2 * index, sel);
	vmcs_write(GUEST_ES_BASE + 2 * index, base);
	vmcs_write(GUEST_ES_LIMIT + 2 * index, limit);
	vmcs_write(GUEST_ES_AR_BYTES + 2 * index, ar);
}

/* Write CR0/CR4 as the guest sees them (read shadow) and as the CPU runs them. */
void vcpu_set_cr0(uint64_t guest_value);
void vcpu_set_cr4(uint64_t guest_value);
uint64_t vcpu_guest_cr0(void);
uint64_t vcpu_guest_cr4(void);

/*
 * The one way umbra changes its current VMCS (SDM Vol. 3C 24.1): v knows
 * which VMCS is current, so loading the current one again costs nothing.
 * A failing VMPTRLD of umbra's own VMCS is a bug: panic.
 */
__noreturn void vcpu_vmcs_load_failed(uint64_t pa);
static inline void vcpu_vmcs_load(struct vcpu *v, uint64_t pa)
{
	if (v->current_vmcs == pa)
		return;
	if (vmptrld(pa) != VMX_SUCCEED)
		vcpu_vmcs_load_failed(pa);
	v->current_vmcs = pa;
}

/* VMCLEAR (the VMCS is not current afterwards, and not launched, SDM 30.3). */
void vcpu_vmcs_clear(struct vcpu *v, uint64_t pa);

/* umbra's host state into the current VMCS (vmcs01 and vmcs02 share it). */
void vcpu_write_host_state(void);

/* Reset the guest state to the architectural INIT state (SDM Vol. 3A 9.1.1). */
void vcpu_reset_to_init(struct vcpu *v);

struct vcpu *this_vcpu(void);
struct vcpu *vcpu_of(uint32_t index);

/* umbra's EPT for L1 (vm.eptp): the leaf entry mapping gpa, 0 when none does (umbra's memory, beyond the map). */
uint64_t vm_ept01_leaf(uint64_t gpa);

#endif
