/* SPDX-License-Identifier: BSD-2-Clause */
/* The differential VMX fuzzer's shared state: PRNG, capability view, records, steps. */
#ifndef UMBRA_TESTS_GUESTS_FUZZ_FUZZ_H
#define UMBRA_TESTS_GUESTS_FUZZ_FUZZ_H

#include "core/types.h"
#include "tests/guests/lib/fault.h"
#include "tests/guests/vmx/suite.h"

/* --- PRNG (splitmix64): one stream per seed, nothing else feeds it ------- */

extern uint64_t fuzz_rng_state;

static inline uint64_t rnd64(void)
{
	uint64_t z = (fuzz_rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n); n > 0. */
static inline uint32_t rnd(uint32_t n)
{
	return (uint32_t)(rnd64() % n);
}

/* True with probability pct percent. */
static inline bool chance(uint32_t pct)
{
	return rnd(100) < pct;
}

/* --- capability view (view.c) --------------------------------------------- */

/*
 * The capabilities a program is generated from: what this CPU reports,
 * narrowed to the fixed view (FUZZ_VIEW_* in view.c) that both bare Bochs
 * and umbra offer. Bits outside FUZZ_ANY_* are reserved everywhere.
 */
struct fuzz_view {
	struct vmx_ctl pin, proc, proc2, exit, entry;
	uint32_t never_pin, never_proc, never_proc2, never_exit, never_entry;
	uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	uint64_t misc;        /* the MISC bits the generator reads */
	uint64_t ept_vpid;    /* IA32_VMX_EPT_VPID_CAP bits of the view (EPT and VPID parts) */
	uint32_t phys_bits;
	uint64_t digest;      /* FNV-1a over everything above */
};

extern struct fuzz_view view;

/* From suite.caps (suite_init() read them): fill view and narrow suite.caps to it. */
void view_init(void);

/* --- records on port 0xE9 (record.c) -------------------------------------- */

/* Step kinds, as the records name them. */
enum step_kind {
	K_VMXON, K_VMXOFF, K_VMCLEAR, K_VMPTRLD, K_VMPTRST, K_VMREAD, K_VMWRITE,
	K_VMLAUNCH, K_VMRESUME, K_PREPARE, K_INVEPT, K_INVVPID, K_COUNT
};

/* A VMX instruction's result as recorded. */
enum rec_result {
	R_SUCCEED = 0, R_FAIL_INVALID = 1, R_FAIL_VALID = 2, R_FELL_THROUGH = 3,
	R_FAULT = 4, R_EXIT = 5,
};

struct record {
	enum step_kind kind;
	enum rec_result result;
	uint32_t err;          /* VM_INSTRUCTION_ERROR after VMfailValid */
	uint8_t vector;        /* after R_FAULT */
	uint64_t error_code;   /* after R_FAULT */
	uint64_t arg;          /* operand: field encoding, region index, INVEPT/INVVPID type, ... */
	uint64_t value;        /* VMREAD's value, VMPTRST's pointer, ... */
	bool has_value;
	uint64_t desc[2];      /* INVEPT/INVVPID: the 128-bit descriptor */
	bool has_desc;
	uint64_t bad_operand;  /* INVEPT/INVVPID: the faulting memory-operand address, or 0 */
	bool rexw;             /* INVEPT/INVVPID: encoded with REX.W (inv.c) */
	struct exit_info exit; /* after R_EXIT */
	uint32_t intr_err, idt_err, insn_info;
	const void *stored;    /* after R_EXIT: the VM-exit MSR-store list (16-byte entries) */
	uint32_t stored_count; /* its entries the exit stored */
	bool has_vtpr;         /* after R_EXIT with "use TPR shadow": bytes 0x80-0x83 of the virtual-APIC page */
	uint32_t vtpr;
};

extern uint64_t fuzz_seed, fuzz_step;
/*
 * undefined=N: also generate what the SDM leaves undefined (ops.c), never in
 * a compared campaign: bit 0 VMCS/VMXON pointers past RAM, bit 1 I/O and MSR
 * bitmaps and the VM-entry MSR-load list past RAM.
 */
#define FUZZ_UNDEFINED_POINTERS BIT(0)
#define FUZZ_UNDEFINED_STRUCTURES BIT(1)
/*
 * bit 2: INVEPT/INVVPID with an unsupported type and a faulting memory
 * operand, or a type with bits 63:32 set without REX.W; bit 3: entries
 * with the preemption timer at 0 and "save" or an injected event. Bochs
 * deviates from the SDM in both (docs/bochs.md).
 */
#define FUZZ_UNDEFINED_INV_ORDER BIT(2)
#define FUZZ_UNDEFINED_TIMER_ZERO BIT(3)
extern uint32_t fuzz_undefined;
#define FUZZ_PAST_RAM 0x40000000ULL /* 1 GiB: beyond both machines' RAM */
extern uint64_t fuzz_vmx_count; /* VMX instructions executed (this boot) */

bool e9_present(void);
void rec_printf(const char *fmt, ...) __printf(1, 2);
void rec_emit(const struct record *r);

/* --- steps (ops.c) and L2 (l2.c) ------------------------------------------ */

#define POOL_COUNT 4 /* the regions a program points VMX instructions at (ops.c) */

struct fuzz_state {
	bool vmx_on;
	uint64_t current;       /* VMPTRST's view: VMCS_NONE or an address */
	bool exited;            /* the last entry came back as a VM exit */
	/*
	 * Pool VMCSs whose last entry failed: bit 0, with reason 33, their exit
	 * qualification is the implementation's (record.c); bit 1, any failure,
	 * the exit interruption and IDT-vectoring information are L1's last
	 * VMWRITE, which Bochs overwrites (docs/bochs.md). VMREAD's value of
	 * those is not recorded until the next exit from them.
	 */
	uint8_t failed_entry[POOL_COUNT];
	struct l2_regs regs;
};

extern struct fuzz_state fs;
#define FAILED_QUAL BIT(0)
#define FAILED_INFO BIT(1)
/* The current VMCS's fs.failed_entry bits (0 when it is not a pool region). */
uint8_t failed_entry(void);
void failed_entry_set(uint8_t bits);

void ops_seed_begin(void);
void ops_step(void);
void ops_seed_end(void);

/* l2.c */
void l2_init(void);                     /* once: L2's IDT and bitmaps' pages */
void l2_seed_begin(void);               /* per seed: bitmaps' and lists' contents */
void l2_prepare(uint32_t region);       /* K_PREPARE: vmcs_prepare and L2's code, then mutate */
void l2_mutate(void);                   /* a few VMWRITEs near the valid boundary */
void l2_enter(bool launch);             /* K_VMLAUNCH/K_VMRESUME, its exit, maybe RIP += length */

/* The pool of regions a program points VMX instructions at (ops.c). */
extern struct vmx_region *const pool[POOL_COUNT];
uint64_t gen_vmcs_addr(void);
uint32_t gen_field(void);
uint64_t gen_value(uint32_t field);
/* A control word near cur: an allowed bit toggled, a reserved one set or a required one cleared. */
uint32_t gen_ctl(uint32_t field, uint32_t cur);
/* A memory-operand address: mostly a good one (&good), sometimes non-canonical (#GP) or unmapped (#PF). */
uint64_t *gen_operand_ptr_for(uint64_t *good);
/*
 * VMWRITE one field, counted and recorded as a K_VMWRITE step; may_fault lets
 * the memory form use a bad operand address (#GP/#PF: nothing written).
 */
void step_vmwrite(uint32_t field, uint64_t value, bool may_fault);


/* --- L2's EPTs, the TPR shadow, VPIDs, the preemption timer (ept.c) ------- */

/*
 * EPTs of L1's for L2, built once (ept_init): the first GiB identity-mapped
 * (2 MiB pages, or one 1 GiB page), and above it a window of entries near
 * the valid/invalid boundary (EPT_WINDOW + PAGE_SIZE * i: EPT12 leaf i)
 * that the window stubs in l2.c touch. They never change, so no INVEPT is
 * needed for a translation to be the current one.
 */
#define EPT_WINDOW 0x40000000ULL /* 1 GiB: beyond RAM, L2 reaches it only through its EPT */
#define EPT_WINDOW_LEAVES 16     /* 4 KiB leaves of the window's page table */
#define EPT_WINDOW_2M (EPT_WINDOW + 0x200000ULL) /* the window's 2 MiB leaves, 1..4 */
void ept_init(void);
/* An EPTP near the 26.2.1.1 checks (never bit 6: A/D is outside the view). */
uint64_t gen_eptp(void);
/* A valid EPTP of one of the EPTs (INVEPT descriptors, VMCS preparation). */
uint64_t eptp_valid(void);
uint64_t gen_vpid(void);
uint64_t gen_tpr_threshold(void);
/* 0 or a value that cannot expire before L2's stub exits by itself (docs/fuzzing.md). */
uint64_t gen_timer_value(void);
/* The virtual-APIC page every prepared VMCS names; VTPR set per seed. */
extern uint8_t fuzz_vapic[PAGE_SIZE];
#define VAPIC_VTPR 0x80 /* SDM Vol. 3C 29.1.1 */
void vapic_seed_begin(void);

/* inv.c: one INVEPT or INVVPID step. */
void step_invept(void);
void step_invvpid(void);

#endif
