/* SPDX-License-Identifier: BSD-2-Clause */
/* The VMX conformance suite's shared state, VMCS set-up and check groups. */
#ifndef UMBRA_TESTS_GUESTS_VMX_SUITE_H
#define UMBRA_TESTS_GUESTS_VMX_SUITE_H

#include "arch/x86/vmx.h"
#include "core/types.h"
#include "tests/guests/lib/fault.h"

/* SDM Vol. 3C 24.2: a VMXON or VMCS region is at most 4 KiB, 4 KiB-aligned. */
struct vmx_region {
	uint8_t bytes[PAGE_SIZE];
} __aligned(PAGE_SIZE);

/*
 * Regions live in .bss, where physical == virtual (boot/entry.asm). A and B
 * are the VMCSs that run L2; scratch is for VMREAD/VMWRITE and is never
 * launched; bad_revision holds a wrong revision identifier.
 */
extern struct vmx_region vmxon_region, vmcs_a, vmcs_b, vmcs_scratch, vmcs_bad_revision;

#define PA(region) ((uint64_t)&(region))
/* VMPTRST's answer when there is no current VMCS (SDM Vol. 3C 30.3, VMPTRST). */
#define VMCS_NONE (~0ULL)

struct suite {
	struct vmx_caps caps;      /* TRUE control MSRs when IA32_VMX_BASIC[55] says so */
	uint32_t revision;         /* IA32_VMX_BASIC[30:0] */
	uint32_t phys_bits;        /* width VMX accepts for region addresses */
	uint64_t beyond_phys;      /* a page-aligned address just beyond that width */
	bool vmx_on;               /* VMXON succeeded and VMXOFF has not run */
	uint64_t umbra_mem;        /* umbra's memory as L1's memory map shows it (0: bare) */
};

extern struct suite suite;

/* --- outcomes of VMX instructions ---------------------------------------- */

/* A VMX instruction's outcome; err is VM_INSTRUCTION_ERROR for VMfailValid. */
struct outcome {
	enum vmx_result result;
	uint32_t err;
};

/* Reads VM_INSTRUCTION_ERROR when r is VMfailValid (there is a current VMCS then). */
struct outcome outcome_of(enum vmx_result r);
/* "VMsucceed", "VMfailInvalid", "VMfailValid(12)" into buf. */
const char *outcome_str(struct outcome o, char *buf, size_t len);
/* One TEST line: PASS when o is the expected outcome (err only for VMfailValid). */
bool expect_outcome(const char *name, struct outcome o, enum vmx_result want, uint32_t want_err,
		    const char *what);

/* --- guarded instructions (guard.c) -------------------------------------- */

/* Each returns false when the instruction faulted (*f says how); else *r is its outcome. */
bool vmxon_guarded(uint64_t pa, enum vmx_result *r, struct fault_record *f);
bool vmxoff_guarded(enum vmx_result *r, struct fault_record *f);
bool vmread_guarded(uint64_t field, uint64_t *val, enum vmx_result *r, struct fault_record *f);
bool write_cr0_guarded(uint64_t v, struct fault_record *f);
bool write_cr4_guarded(uint64_t v, struct fault_record *f);

/* --- running L2 (l2_entry.c) --------------------------------------------- */

/* L2's general-purpose registers, indexed as the SDM numbers them (Table 27-3). */
enum gpr {
	GPR_RAX, GPR_RCX, GPR_RDX, GPR_RBX, GPR_RSP, GPR_RBP, GPR_RSI, GPR_RDI,
	GPR_R8, GPR_R9, GPR_R10, GPR_R11, GPR_R12, GPR_R13, GPR_R14, GPR_R15,
	GPR_COUNT
};

struct l2_regs {
	uint64_t gpr[GPR_COUNT]; /* gpr[GPR_RSP] is unused: RSP is in the VMCS */
};

enum vm_entry_result {
	VM_ENTRY_EXITED = 0,         /* came back through HOST_RIP: a VM exit or an entry failure */
	VM_ENTRY_FAIL_INVALID = VMX_FAIL_INVALID,
	VM_ENTRY_FAIL_VALID = VMX_FAIL_VALID,
	VM_ENTRY_FELL_THROUGH,       /* neither CF nor ZF: no SDM outcome */
};

/*
 * VMLAUNCH (launch != 0) or VMRESUME with the current VMCS. Writes HOST_RSP
 * and HOST_RIP itself; L2 starts with *regs and they are saved back on exit.
 */
enum vm_entry_result vm_enter(struct l2_regs *regs, int launch);

#define L2_OUT_PORT 0x80 /* OUT's immediate */
#define L2_STR_(x) #x
#define L2_STR(x) L2_STR_(x)

/*
 * L2 code, one stub per X(name, instruction): the instruction at l2_NAME,
 * then VMCALL at l2_NAME_end (l2_entry.c assembles the list). Register
 * operands are the ones l2_regs_default() provides.
 */
#define L2_STUBS(X)                               \
	X(vmcall, "vmcall")                       \
	X(cpuid, "cpuid")                         \
	X(hlt, "hlt")                             \
	X(out_imm8, "outb %al, $" L2_STR(L2_OUT_PORT)) \
	X(in_dx, "inl %dx, %eax")                 \
	X(rdmsr, "rdmsr")                         \
	X(wrmsr, "wrmsr")                         \
	X(mov_to_cr3, "mov %rbx, %cr3")           \
	X(mov_from_cr3, "mov %cr3, %rsi")         \
	X(ud2, "ud2")                             \
	X(rdtsc, "rdtsc")                         \
	X(invlpg, "invlpg (%rax)")                \
	X(mov_from_dr7, "mov %dr7, %rax")         \
	X(sgdt, "sgdt -16(%rsp)")                 \
	X(sldt, "sldt %ax")                       \
	X(rdrand, "rdrand %eax")                  \
	X(rdseed, "rdseed %eax")                  \
	X(load_rax, "mov (%rax), %rbx")           \
	X(forever, "1: jmp 1b")                   \
	X(store_rbx, "mov %rbx, (%rax)")          \
	X(mov_to_cr8, "mov %rax, %cr8")           \
	X(mov_from_cr8, "mov %cr8, %rax")

#define L2_STUB_DECL(name, insn) extern const char l2_##name[], l2_##name##_end[];
L2_STUBS(L2_STUB_DECL)
#undef L2_STUB_DECL

/* Register values every stub starts with (checks_exits.c relies on them). */
#define L2_IO_PORT 0xcfc             /* RDX: IN from DX */
#define L2_MSR 0x174                 /* RCX: IA32_SYSENTER_CS for RDMSR/WRMSR */
#define L2_INVLPG_ADDR 0x1234000ULL  /* RAX: INVLPG's operand */
void l2_regs_default(struct l2_regs *regs);

/* --- VMCS set-up (vmcs_setup.c) ------------------------------------------ */

/* Probe capabilities, set CR0/CR4 for VMX and write revision identifiers. */
bool suite_init(void);

/* Controls for L2: what the CPU forces on, plus want (when allowed). */
uint32_t ctl_pin(uint32_t want);
uint32_t ctl_proc(uint32_t want);
uint32_t ctl_proc2(uint32_t want); /* secondary processor-based controls */
uint32_t ctl_exit(uint32_t want);
uint32_t ctl_entry(uint32_t want);
/* Every bit of want may be 1 in the processor-based controls. */
bool proc_allows(uint32_t want);
/* The secondary controls exist and every bit of want may be 1 in them. */
bool proc2_allows(uint32_t want);

/*
 * VMCLEAR and VMPTRLD region, then fill it: L2 is a copy of L1 (64-bit,
 * same page tables) starting at rip on stack rsp; the host is L1. Returns
 * 0, or the encoding of the first field VMWRITE refused (or ~0u when
 * VMCLEAR/VMPTRLD failed).
 */
uint32_t vmcs_prepare(struct vmx_region *region, const void *rip, uint64_t rsp);
/* VMWRITEs vmcs_prepare() issued since the caller last zeroed this (the fuzzer counts them). */
extern uint32_t vmcs_setup_writes;
#define L2_STACK_SIZE (2 * PAGE_SIZE)
extern uint8_t l2_stack[L2_STACK_SIZE];
#define L2_STACK_TOP ((uint64_t)l2_stack + L2_STACK_SIZE)

/* VMREAD of the current VMCS; 0 when VMREAD fails. */
uint64_t vmcs_get(uint32_t field);

/* The exit after vm_enter(): fields L1 looks at. */
struct exit_info {
	uint32_t reason, intr_info, idt_vectoring, len;
	uint64_t qualification, rip;
	uint64_t gpa, gla; /* guest-physical and guest-linear address (EPT exits) */
};
void exit_info_read(struct exit_info *e);

/* "VM exit (reason 0x12)", "VMfailValid(5)", ... for the entry's outcome. */
const char *entry_str(enum vm_entry_result res, char *buf, size_t len);
/*
 * One TEST line for a VMLAUNCH/VMRESUME: want VM_ENTRY_EXITED with exit
 * reason want_val (at GUEST_RIP rip unless NULL), or a failure (want_val
 * the error number of VMfailValid).
 */
bool expect_entry(const char *name, enum vm_entry_result res, enum vm_entry_result want,
		  uint32_t want_val, const void *rip, const char *what);

/* --- check groups, in the order main.c runs them ------------------------- */

bool check_vmxon(void);
/* high_mem.c: test=high_mem, VMX regions in RAM above 4 GiB (SKIP when there is none). */
struct mb2_info;
void high_mem_run(const struct mb2_info *mbi);    /* false: VMX is not on, nothing else can run */
void check_vmptrld(void);
void check_vmclear(void);
void check_vmrw(void);
void check_launch(void);
void check_exits(void);
void check_msr_lists(void);  /* checks_msrlists.c */
void check_entry_msr_load(void); /* checks_msrlists.c */
void check_entry_failure_exit_msrs(void); /* checks_msrlists.c */
void entry_failure_guest_state_run(void); /* checks_msrlists.c: test=entry_failure_guest_state */
void check_debug_controls(void); /* checks_debug.c */
void check_paging(void);         /* checks_paging.c */
void check_absent(void);         /* checks_absent.c */
void check_vpid(void);           /* checks_vpid.c */
void check_timer(void);          /* checks_timer.c */
void timer_zero_event_run(void); /* checks_timer.c: test=timer_zero_event */
void check_ept(void);            /* checks_ept.c */
void check_events(void);         /* checks_events.c */
void check_tpr_shadow(void);     /* checks_tpr.c */
void check_l2state(void);        /* checks_l2state.c: pending debug exceptions, PAE PDPTEs, CR3 targets */
void check_shadow12(void);       /* checks_shadow12.c: L1's VMCS shadowing for its L2 */
void check_legacy(void);         /* checks_legacy.c: VMX from 32-bit protected mode */
void check_umbra_pending_dbg(void); /* checks_l2state.c, group "umbra": 26.3.1.5's BS rule, which Bochs lacks */
void ept_umbra_mem_run(uint64_t umbra_mem); /* test=ept_umbra_mem: L1's EPT onto umbra's memory */
void check_umbra_vmcall(void);   /* checks_vmcall.c, group "umbra" */
void check_ring3_vmxon(void);    /* checks_ring3.c: after VMXOFF, CR4.VMXE clear */
void check_msr_bitmap(void);     /* checks_msrbitmap.c */
void check_entry_failures(void);
void check_vmxoff(void);

/* bench.c: umbra's per-field exit counts by hypercall (group "umbra", only under umbra). */
void check_umbra_field_stats(void);
void check_umbra_hostile_pointers(void); /* VMX on: before check_vmxoff() */

/* checks_umbra.c: group "umbra" (only under umbra), and test=msr_store_abort. */
void check_umbra_msr_list_cap(void); /* VMX on, no current VMCS */
void check_umbra_no_wait_for_sipi(void);
void check_umbra_inject_other_event(void);
void msr_store_abort_run(void);

/*
 * bench.c: test=bench_nested (and bench_nested_table). L2 runs CPUID in a
 * loop; L1 handles each exit as KVM would, executing CPUID itself or
 * answering from a table filled at start-up (from_table).
 */
void bench_nested(uint64_t iterations, bool from_table, bool ept_vpid);
/* checks_ept.c: an identity EPT of L1's (its first GiB, 2 MiB pages) as an EPTP, for benchmarks. */
uint64_t ept_identity_eptp(void);
/* bench.c: umbra's count of the exits it took (all CPUs), 0 when not under umbra. */
uint64_t bench_umbra_exits(bool umbra);
/* checks_ept.c: test=bench_ept_faults iterations=N: L2 touches N fresh pages L1 maps on EPT violations. */
void bench_ept_faults(uint64_t pages);
/* L2's endless CPUID loop, and L1's KVM-like handling of one CPUID exit (false: not CPUID). */
extern const char l2_bench_loop[];
bool bench_handle_exit(struct l2_regs *regs);

/*
 * smp.c: test=smp_l2. Every CPU turns VMX on and runs an L2 of its own, all
 * at once; test=smp_l2_ept (ept): each L2 on one EPT of L1's, VPID = CPU + 1.
 */
struct acpi_info;
void smp_l2_run(const struct acpi_info *acpi, uint32_t expect_cpus, bool ept);
/*
 * smp.c: test=smp_init. An INIT sent to a CPU running an L2 reaches its L1 as a VM exit;
 * test=smp_init_nmi (nmi_exiting): the same with L1's NMI exiting on, then an NMI exit.
 */
void smp_init_run(const struct acpi_info *acpi, bool nmi_exiting);
/* smp.c: test=smp_shutdown (umbra only). umbra's shutdown parks a CPU whose L1 uses NMI exiting. */
void smp_shutdown_run(const struct acpi_info *acpi);
/* nmi.c: test=nmi_levels. An NMI pending for L1 as it enters L2 with NMI exiting is L1's exit. */
void nmi_levels_run(const struct acpi_info *acpi);

#endif
