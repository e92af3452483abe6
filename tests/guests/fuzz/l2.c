/* SPDX-License-Identifier: BSD-2-Clause */
/* L2 for the fuzzer: a known-good vmcs12, mutations near the valid boundary, entries, exits. */
#include "arch/x86/cpu.h"
#include "arch/x86/gdt.h"
#include "arch/x86/vmx_controls.h"
#include "core/string.h"
#include "tests/guests/fuzz/fuzz.h"

/*
 * L2 is a copy of L1 (vmcs_setup.c's vmcs_prepare()) that runs one stub:
 * an instruction that may exit, then VMCALL. Its IDT sends every vector
 * to a VMCALL as well, so an exception L2 takes itself also ends in a VM
 * exit; an IDT limit of 0 makes any exception a triple fault. Nothing
 * L2 can reach runs without a way out: a stub that would wait forever
 * (HLT, MWAIT without their exiting controls) is replaced by CPUID at
 * entry time, and the HLT activity state comes only with an injected
 * event (docs/bochs.md: a CPU halted with IF=0 never wakes). The window
 * stubs touch L2's EPT window (ept.c) at R9 and run only with EPT on:
 * without it, that address is beyond both machines' RAM.
 */

#define RFLAGS_IF BIT(9)
#define RFLAGS_TF BIT(8)
#define RFLAGS_VM BIT(17)
#define CR0_TS BIT(3)
#define CR4_TSD BIT(2)
#define INTR_VALID BIT(31)
#define INTR_DELIVER_ERR BIT(11)
#define INTR_BLOCKING_STI BIT(0)    /* interruptibility state, SDM Vol. 3C Table 24-3 */
#define INTR_BLOCKING_MOV_SS BIT(1)
#define IDT_VECTORS 256

/* Fuzzer stubs beyond the suite's L2_STUBS (each ends in VMCALL, as theirs do). */
#define FUZZ_STUBS(X)                                   \
	X(int3, "int3")                                 \
	X(int_0x40, "int $0x40")                        \
	X(div0, "xor %ecx, %ecx; div %ecx")             \
	X(cr0_ts, "mov %cr0, %rax; xor $8, %rax; mov %rax, %cr0") \
	X(cr4_tsd, "mov %cr4, %rax; xor $4, %rax; mov %rax, %cr4") \
	X(clts, "clts")                                 \
	X(cr8_write, "mov %rcx, %cr8")                  \
	X(cr8_read, "mov %cr8, %rax")                   \
	X(sti_nop, "sti; nop; nop")                     \
	X(pause, "pause")                               \
	X(rdpmc0, "xor %ecx, %ecx; rdpmc")              \
	X(wbinvd, "wbinvd")                             \
	X(invd, "invd")                                 \
	X(vmread_l2, "vmread %rax, %rbx")               \
	X(vmxon_l2, "vmxon (%rsp)")                     \
	X(rdtscp, "rdtscp")                             \
	X(mov_to_dr7, "mov %rbx, %dr7")                 \
	X(gp_noncanon, "mov (%r8), %rax")               \
	X(monitor, "monitor")                           \
	X(mwait, "mwait")                               \
	X(io_str, "lea 1f(%rip), %rsi; mov $1, %ecx; rep outsb; 1:") \
	X(invept_l2, "invept (%rsp), %rax")             \
	X(invvpid_l2, "invvpid (%rsp), %rax")           \
	X(window_read, "mov 8(%r9), %rax")              \
	X(window_write, "mov %rax, 8(%r9)")             \
	X(window_exec, "jmp *%r9")

#define FUZZ_STUB_ASM(name, insn) "l2_stub_f " #name ", " insn "\n"
__asm__(".pushsection .text\n"
	".macro l2_stub_f name, insn:vararg\n"
	".globl l2f_\\name, l2f_\\name\\()_end\n"
	"l2f_\\name:\n\t"
	"\\insn\n"
	"l2f_\\name\\()_end:\n\t"
	"vmcall\n\t"
	"jmp l2f_\\name\\()_end\n"
	".endm\n"
	FUZZ_STUBS(FUZZ_STUB_ASM)
	".purgem l2_stub_f\n"
	/* One 8-byte VMCALL loop per vector: L2's exception and interrupt handlers. */
	".balign 8\n"
	".globl l2_vectors\n"
	"l2_vectors:\n"
	".rept 256\n\t"
	"1: vmcall\n\t"
	"jmp 1b\n\t"
	".balign 8\n"
	".endr\n"
	".popsection\n");
#undef FUZZ_STUB_ASM

#define STUB_DECL(name, insn) extern const char l2f_##name[];
FUZZ_STUBS(STUB_DECL)
#undef STUB_DECL
extern const char l2_vectors[];

/*
 * The suite's stubs the fuzzer runs, named one by one: the suite also has
 * stubs that never exit by themselves (l2_forever, for the preemption
 * timer), which a program must not pick.
 */
#define STUB_ADDR_FUZZ(name, insn) l2f_##name,
static const char *const stubs[] = {
	l2_vmcall, l2_cpuid, l2_hlt, l2_out_imm8, l2_in_dx, l2_rdmsr, l2_wrmsr, l2_mov_to_cr3,
	l2_mov_from_cr3, l2_ud2, l2_rdtsc, l2_invlpg, l2_mov_from_dr7,
	FUZZ_STUBS(STUB_ADDR_FUZZ)
};

struct gate {
	uint16_t off0, sel;
	uint8_t ist, type;
	uint16_t off1;
	uint32_t off2, zero;
} __packed;
_Static_assert(sizeof(struct gate) == 16, "SDM Vol. 3A 6.14.1");

static struct gate l2_idt[IDT_VECTORS] __aligned(16);
static uint8_t io_bitmap_a[PAGE_SIZE] __aligned(PAGE_SIZE);
static uint8_t io_bitmap_b[PAGE_SIZE] __aligned(PAGE_SIZE);
static uint8_t msr_bitmap[PAGE_SIZE] __aligned(PAGE_SIZE);

/* SDM Vol. 3C 24.7.2: an MSR-list entry. */
struct msr_entry {
	uint32_t index, reserved;
	uint64_t value;
};
#define LIST_MAX 4
static struct msr_entry entry_load[LIST_MAX] __aligned(16);
static struct msr_entry exit_store[LIST_MAX] __aligned(16);
static struct msr_entry exit_load[LIST_MAX] __aligned(16);

/* MSRs the lists and L2's RDMSR/WRMSR name: all exist on both, none is umbra's own. */
static const uint32_t msrs[] = { 0x174, 0x175, 0x176, 0xc0000100, 0xc0000102, 0x277 };

void l2_init(void)
{
	ept_init();
	for (unsigned int v = 0; v < IDT_VECTORS; v++) {
		uint64_t h = (uint64_t)l2_vectors + 8 * v;

		l2_idt[v] = (struct gate){ .off0 = (uint16_t)h, .sel = SEL_CODE64, .type = 0x8e,
					   .off1 = (uint16_t)(h >> 16), .off2 = (uint32_t)(h >> 32) };
	}
}

static uint64_t canonical_or_not(void)
{
	return chance(70) ? 0xffffffff80000000ULL + 16 * rnd(4096) : 0x0000800000000000ULL << rnd(2);
}

static void list_fill(struct msr_entry *l, bool load_to_host)
{
	for (unsigned int i = 0; i < LIST_MAX; i++) {
		uint32_t c = rnd(100);

		l[i] = (struct msr_entry){ msrs[rnd(3)], 0, rnd64() & 0xffff };
		if (load_to_host)
			continue; /* host lists: only SYSENTER_CS (no VMX abort, L1 unharmed) */
		if (c < 20)
			l[i].value = canonical_or_not();
		else if (c < 30)
			l[i] = (struct msr_entry){ 0xc0000100, 0, canonical_or_not() };
		else if (c < 35)
			l[i].reserved = 1u << rnd(32); /* reserved: the entry fails (SDM 26.4) */
		else if (c < 40)
			l[i].index = 0x800 + rnd(0x100); /* x2APIC range: fails */
		/*
		 * Not IA32_SMBASE (9EH): the SDM fails the entry on it, Bochs
		 * ignores the write as it does for any MSR it lacks (docs/bochs.md).
		 */
		else if (c < 50)
			l[i] = (struct msr_entry){ 0x277, 0, chance(50) ? 0x0007040600070406ULL : rnd64() };
	}
	if (load_to_host)
		for (unsigned int i = 0; i < LIST_MAX; i++)
			l[i] = (struct msr_entry){ 0x174, 0, SEL_CODE64 };
}

void l2_seed_begin(void)
{
	for (unsigned int i = 0; i < PAGE_SIZE; i++) {
		io_bitmap_a[i] = io_bitmap_b[i] = 0;
		msr_bitmap[i] = 0;
	}
	/* Ports L2 uses (0x80, 0xcfc, the string OUT's DX) and its MSRs, each exiting or not. */
	if (chance(50))
		io_bitmap_a[L2_OUT_PORT / 8] |= 1u << (L2_OUT_PORT % 8);
	if (chance(50))
		io_bitmap_a[L2_IO_PORT / 8] |= 0xffu;
	for (unsigned int i = 0; i < ARRAY_SIZE(msrs); i++) {
		uint32_t m = msrs[i], base = m >= 0xc0000000 ? 1024 : 0, bit = m & 0x1fff;

		if (chance(50))
			msr_bitmap[base + bit / 8] |= 1u << (bit % 8);
		if (chance(50))
			msr_bitmap[2048 + base + bit / 8] |= 1u << (bit % 8);
	}
	list_fill(entry_load, false);
	for (unsigned int i = 0; i < LIST_MAX; i++)
		exit_store[i] = (struct msr_entry){ msrs[rnd(ARRAY_SIZE(msrs))], 0, 0 };
	list_fill(exit_load, true);
	vapic_seed_begin();
	/* For reading a divergence (not compared): the entry MSR-load list of this seed. */
	for (unsigned int i = 0; i < LIST_MAX; i++)
		rec_printf("L %lu entry_load[%u]=%x/%x:%lx", fuzz_seed, i, entry_load[i].index,
			   entry_load[i].reserved, entry_load[i].value);
}

/* --- a known-good L2, then mutations --------------------------------------- */

/* The fuzzer's own VMWRITEs: they must happen (a faulting operand is ops.c's business). */
static void w(uint32_t field, uint64_t v)
{
	step_vmwrite(field, v, false);
}

/* A control word with bits set where the view allows them (the rest stays as it is). */
static void ctl_set(uint32_t field, uint32_t bits, const struct vmx_ctl *c)
{
	w(field, vmcs_get(field) | (bits & c->may_be_one));
}

/*
 * The fields of the features SDM Vol. 3C 26.2.1.1-26.2.1.2 checks, valid
 * (an EPT of ept.c, a VPID, the virtual-APIC page, a threshold within VTPR,
 * a timer value that cannot run out in a stub), then each feature on with
 * some chance: L2 runs with EPT, VPID, the TPR shadow or the preemption
 * timer on as often as without, and the mutations take it to the boundary.
 */
static void prepare_features(void)
{
	w(EPT_POINTER, eptp_valid());
	w(VIRTUAL_PROCESSOR_ID, 1 + rnd(0xffff));
	w(VIRTUAL_APIC_PAGE_ADDR, (uint64_t)fuzz_vapic);
	w(TPR_THRESHOLD, rnd((fuzz_vapic[VAPIC_VTPR] >> 4) + 1u));
	w(VMX_PREEMPTION_TIMER_VALUE, gen_timer_value());
	if (chance(40)) {
		bool ept = chance(60);

		ctl_set(CPU_BASED_VM_EXEC_CONTROL, SECONDARY_CONTROLS, &view.proc);
		ctl_set(SECONDARY_VM_EXEC_CONTROL, (ept ? ENABLE_EPT : 0) | (chance(50) ? ENABLE_VPID : 0), &view.proc2);
		if (ept && chance(60))
			w(GUEST_RIP, (uint64_t)((const char *const[]){ l2f_window_read, l2f_window_write,
								       l2f_window_exec })[rnd(3)]);
	}
	if (chance(25))
		ctl_set(CPU_BASED_VM_EXEC_CONTROL, USE_TPR_SHADOW, &view.proc);
	if (chance(25)) {
		ctl_set(PIN_BASED_VM_EXEC_CONTROL, PREEMPTION_TIMER, &view.pin);
		if (chance(50))
			ctl_set(VM_EXIT_CONTROLS, SAVE_PREEMPTION_TIMER, &view.exit);
	}
}

/* One feature's control or field near the 26.2.1.1-26.2.1.2 boundary. */
static void mutate_feature(uint32_t which)
{
	uint32_t c = rnd(100);

	switch (which) {
	case 0: /* EPT */
		if (c < 40)
			w(SECONDARY_VM_EXEC_CONTROL, vmcs_get(SECONDARY_VM_EXEC_CONTROL) ^ (view.proc2.may_be_one & ENABLE_EPT));
		else
			w(EPT_POINTER, gen_eptp());
		break;
	case 1: /* VPID */
		if (c < 40)
			w(SECONDARY_VM_EXEC_CONTROL, vmcs_get(SECONDARY_VM_EXEC_CONTROL) ^ (view.proc2.may_be_one & ENABLE_VPID));
		else
			w(VIRTUAL_PROCESSOR_ID, gen_vpid());
		break;
	case 2: /* TPR shadow: the control, the threshold, the page's address, VTPR itself */
		if (c < 25)
			w(CPU_BASED_VM_EXEC_CONTROL, vmcs_get(CPU_BASED_VM_EXEC_CONTROL) ^ (view.proc.may_be_one & USE_TPR_SHADOW));
		else if (c < 55)
			w(TPR_THRESHOLD, gen_tpr_threshold());
		else if (c < 70) /* 4 KiB aligned, within the width (26.2.1.1) */
			w(VIRTUAL_APIC_PAGE_ADDR, (uint64_t)fuzz_vapic + (chance(50) ? 0x800 : 0) +
							  (chance(50) ? BIT(view.phys_bits) : 0));
		else if (c < 80)
			w(VIRTUAL_APIC_PAGE_ADDR, (uint64_t)fuzz_vapic);
		else
			fuzz_vapic[VAPIC_VTPR] = chance(80) ? (uint8_t)(rnd(16) << 4) : (uint8_t)rnd(256);
		break;
	default: /* the preemption timer, "save" without it (26.2.1.2) */
		if (c < 30)
			w(PIN_BASED_VM_EXEC_CONTROL, vmcs_get(PIN_BASED_VM_EXEC_CONTROL) ^ (view.pin.may_be_one & PREEMPTION_TIMER));
		else if (c < 55)
			w(VM_EXIT_CONTROLS, vmcs_get(VM_EXIT_CONTROLS) ^ (view.exit.may_be_one & SAVE_PREEMPTION_TIMER));
		else
			w(VMX_PREEMPTION_TIMER_VALUE, gen_timer_value());
		break;
	}
}

void l2_prepare(uint32_t region)
{
	struct record r = { .kind = K_PREPARE, .arg = region };
	uint32_t failed;

	vmcs_setup_writes = 0;
	failed = vmcs_prepare(pool[region], stubs[rnd(ARRAY_SIZE(stubs))], L2_STACK_TOP);
	/* VMCLEAR, VMCLEAR, VMPTRLD, then the VMWRITEs vmcs_setup.c counted. */
	fuzz_vmx_count += 3 + vmcs_setup_writes;
	r.result = failed ? R_FAIL_VALID : R_SUCCEED;
	r.err = failed;
	rec_emit(&r);
	if (failed)
		return;
	fs.current = PA(*pool[region]);
	w(GUEST_IDTR_BASE, (uint64_t)l2_idt);
	w(GUEST_IDTR_LIMIT, chance(90) ? sizeof(l2_idt) - 1 : 0);
	w(IO_BITMAP_A, (uint64_t)io_bitmap_a);
	w(IO_BITMAP_B, (uint64_t)io_bitmap_b);
	w(MSR_BITMAP, (uint64_t)msr_bitmap);
	if ((fuzz_undefined & FUZZ_UNDEFINED_STRUCTURES) && chance(20)) /* bitmaps and lists outside RAM: undefined (ops.c) */
		w(((const uint32_t[]){ IO_BITMAP_A, IO_BITMAP_B, MSR_BITMAP, VM_ENTRY_MSR_LOAD_ADDR })[rnd(4)],
		  FUZZ_PAST_RAM);
	w(VM_ENTRY_MSR_LOAD_ADDR, (uint64_t)entry_load);
	w(VM_EXIT_MSR_STORE_ADDR, (uint64_t)exit_store);
	w(VM_EXIT_MSR_LOAD_ADDR, (uint64_t)exit_load);
	if (chance(60))
		w(EXCEPTION_BITMAP, rnd64() & 0xffffffff);
	prepare_features();
	for (unsigned int n = rnd(4); n; n--)
		l2_mutate();
}

/* One control word: toggle an allowed bit, set a reserved one, or clear a required one. */
static uint32_t mutate_ctl(uint32_t cur, const struct vmx_ctl *c, uint32_t never)
{
	uint32_t free = c->may_be_one & ~c->must_be_one, pick;
	uint32_t k = rnd(100);

	if (k < 70 && free) {
		do
			pick = BIT(rnd(32));
		while (!(free & pick));
		return cur ^ pick;
	}
	if (k < 85 && never) {
		do
			pick = BIT(rnd(32));
		while (!(never & pick));
		return cur | pick;
	}
	if (c->must_be_one) {
		do
			pick = BIT(rnd(32));
		while (!(c->must_be_one & pick));
		return cur & ~pick;
	}
	return cur;
}

uint32_t gen_ctl(uint32_t field, uint32_t cur)
{
	switch (field) {
	case PIN_BASED_VM_EXEC_CONTROL: return mutate_ctl(cur, &view.pin, view.never_pin);
	case CPU_BASED_VM_EXEC_CONTROL: return mutate_ctl(cur, &view.proc, view.never_proc);
	case SECONDARY_VM_EXEC_CONTROL: return mutate_ctl(cur, &view.proc2, view.never_proc2);
	case VM_EXIT_CONTROLS: return mutate_ctl(cur, &view.exit, view.never_exit);
	default: return mutate_ctl(cur, &view.entry, view.never_entry);
	}
}

/* An event for VM-entry injection (SDM Vol. 3C 24.8.3), near the 26.2.1.3 checks. */
static void mutate_event(void)
{
	static const uint32_t types[] = { 0, 2, 3, 3, 3, 4, 5, 6, 1 }; /* never 7: docs/bochs.md */
	uint32_t type = types[rnd(ARRAY_SIZE(types))], vec, info;

	vec = type == 2 ? 2 : type == 3 ? rnd(32) : rnd(256);
	if (type == 2 && chance(10))
		vec = rnd(256);
	info = INTR_VALID | (type << 8) | vec;
	if (type == 3 && (chance(50) || vec == 8 || vec == 13 || vec == 14))
		info |= INTR_DELIVER_ERR;
	if (chance(8))
		info |= INTR_DELIVER_ERR;
	if (chance(5))
		info |= BIT(12 + rnd(19)); /* reserved bits 30:12 */
	w(VM_ENTRY_INTR_INFO, info);
	if (info & INTR_DELIVER_ERR)
		w(VM_ENTRY_EXCEPTION_ERROR_CODE, chance(80) ? rnd(0x10000) : rnd64() & 0xffffffff);
	/*
	 * Software events need a length 1..15 (26.2.1.3); 0 is valid only where
	 * MISC bit 30 says, which Bochs sets and umbra does not: outside the view.
	 */
	if (type >= 4)
		w(VM_ENTRY_INSTRUCTION_LEN, chance(85) ? 1 + rnd(15) :
					    (view.misc & VMX_MISC_INJECT_ZERO_LEN) && chance(50) ? 0 : 16);
	if (chance(15)) /* the HLT activity state: an injected event wakes it */
		w(GUEST_ACTIVITY_STATE, 1);
}

void l2_mutate(void)
{
	uint32_t c = rnd(34);

	if (fs.current == VMCS_NONE)
		return;
	switch (c) {
	case 0: case 1: case 2: case 3: case 4: case 5: {
		static const uint32_t ctls[] = { PIN_BASED_VM_EXEC_CONTROL, CPU_BASED_VM_EXEC_CONTROL,
						 CPU_BASED_VM_EXEC_CONTROL, SECONDARY_VM_EXEC_CONTROL,
						 VM_EXIT_CONTROLS, VM_ENTRY_CONTROLS };

		w(ctls[c], gen_ctl(ctls[c], (uint32_t)vmcs_get(ctls[c])));
		break;
	}
	case 6: w(EXCEPTION_BITMAP, rnd64() & 0xffffffff); break;
	case 7: w(PAGE_FAULT_ERROR_CODE_MASK, rnd(32)); w(PAGE_FAULT_ERROR_CODE_MATCH, rnd(32)); break;
	case 8: w(CR0_GUEST_HOST_MASK, chance(50) ? CR0_TS : rnd64() & 0xffffffff);
		w(CR0_READ_SHADOW, vmcs_get(GUEST_CR0) ^ (chance(50) ? CR0_TS : 0)); break;
	case 9: w(CR4_GUEST_HOST_MASK, chance(50) ? CR4_TSD : rnd64() & 0x3fffff);
		w(CR4_READ_SHADOW, vmcs_get(GUEST_CR4) ^ (chance(50) ? CR4_TSD : 0)); break;
	case 10: w(GUEST_CR0, vmcs_get(GUEST_CR0) ^ BIT(rnd(32))); break;
	case 11: w(GUEST_CR4, vmcs_get(GUEST_CR4) ^ BIT(rnd(23))); break;
	case 12: w(GUEST_CR3, vmcs_get(GUEST_CR3) | BIT(view.phys_bits + rnd(64 - view.phys_bits))); break;
	case 13: w(GUEST_RFLAGS, (vmcs_get(GUEST_RFLAGS) ^ ((const uint64_t[]){ RFLAGS_IF, RFLAGS_TF, RFLAGS_VM, BIT(1), BIT(3), BIT(15), BIT(22), BIT(40) })[rnd(8)])); break;
	case 14: mutate_event(); break;
	case 15: w(GUEST_INTERRUPTIBILITY_INFO, chance(80) ? BIT(rnd(4)) : BIT(rnd(32))); break;
	case 16: w(GUEST_ACTIVITY_STATE, chance(30) ? 0 : 4 + rnd(4)); break; /* 2, 3: outside the view */
	case 17: w(GUEST_PENDING_DBG_EXCEPTIONS, BIT(rnd(64))); break;
	case 18: w(VMCS_LINK_POINTER, ((const uint64_t[]){ VMCS_NONE, PA(vmcs_b), PA(vmcs_bad_revision), PA(*pool[2]) + 8, suite.beyond_phys })[rnd(5)]); break;
	/* A list's count comes with its address: a VMCS never prepared has 0 there (the IVT). */
	case 19:
		w(VM_ENTRY_MSR_LOAD_COUNT, rnd(LIST_MAX + 1));
		/* SDM 26.2.1.2: 16-byte aligned */
		w(VM_ENTRY_MSR_LOAD_ADDR, (uint64_t)entry_load + (chance(10) ? ((const uint64_t[]){ 4, 8, 1 })[rnd(3)] : 0));
		break;
	case 20:
		w(VM_EXIT_MSR_STORE_COUNT, rnd(LIST_MAX + 1));
		/* or beyond the physical-address width */
		w(VM_EXIT_MSR_STORE_ADDR, chance(10) ? suite.beyond_phys : (uint64_t)exit_store);
		break;
	case 21:
		w(VM_EXIT_MSR_LOAD_COUNT, rnd(LIST_MAX + 1));
		w(VM_EXIT_MSR_LOAD_ADDR, (uint64_t)exit_load);
		break;
	case 22: w(CR3_TARGET_COUNT, rnd(6)); w(CR3_TARGET_VALUE0, chance(50) ? read_cr3() : rnd64()); break;
	case 23: { /* a guest segment field */
		uint32_t seg = rnd(8);
		uint32_t which = rnd(3);

		if (which == 0) w(GUEST_ES_AR_BYTES + 2 * seg, vmcs_get(GUEST_ES_AR_BYTES + 2 * seg) ^ BIT(rnd(17)));
		else if (which == 1) w(GUEST_ES_SELECTOR + 2 * seg, vmcs_get(GUEST_ES_SELECTOR + 2 * seg) ^ BIT(rnd(16)));
		else w(GUEST_ES_LIMIT + 2 * seg, vmcs_get(GUEST_ES_LIMIT + 2 * seg) ^ BIT(rnd(32)));
		break;
	}
	case 24: { /* host state: only values the checks must refuse (SDM 26.2.2-26.2.4) */
		static const uint32_t f[] = { HOST_CR0, HOST_CR4, HOST_CR3, HOST_CS_SELECTOR, HOST_TR_SELECTOR,
					      HOST_SS_SELECTOR, HOST_FS_BASE, HOST_GDTR_BASE, HOST_IA32_SYSENTER_EIP };
		uint32_t i = rnd(ARRAY_SIZE(f));

		switch (f[i]) {
		case HOST_CR0: w(HOST_CR0, vmcs_get(HOST_CR0) & ~(chance(50) ? CR0_PG : CR0_PE)); break;
		case HOST_CR4: w(HOST_CR4, vmcs_get(HOST_CR4) & ~CR4_PAE); break;
		case HOST_CR3: w(HOST_CR3, vmcs_get(HOST_CR3) | BIT(63)); break;
		case HOST_CS_SELECTOR: w(HOST_CS_SELECTOR, 0); break;
		case HOST_TR_SELECTOR: w(HOST_TR_SELECTOR, chance(50) ? 0 : SEL_TSS | 4); break;
		case HOST_SS_SELECTOR: w(HOST_SS_SELECTOR, SEL_DATA | 3); break;
		default: w(f[i], vmcs_get(f[i]) ^ BIT(48 + rnd(15))); break;
		}
		break;
	}
	case 25: w(VM_EXIT_CONTROLS, vmcs_get(VM_EXIT_CONTROLS) & ~HOST_ADDR_SPACE_SIZE); break;
	case 26: w(GUEST_RIP, (uint64_t)stubs[rnd(ARRAY_SIZE(stubs))]); break;
	case 27: /* EFER.LME, LMA, NXE, a reserved bit; checked only with "load IA32_EFER" */
		w(GUEST_IA32_EFER, vmcs_get(GUEST_IA32_EFER) ^
					   ((const uint64_t[]){ BIT(8), BIT(10), BIT(11), BIT(1) })[rnd(4)]);
		if (chance(50))
			w(VM_ENTRY_CONTROLS, vmcs_get(VM_ENTRY_CONTROLS) | (view.entry.may_be_one & ENTRY_LOAD_EFER));
		break;
	case 28: w(GUEST_IA32_PAT, chance(50) ? 0x0007040600070406ULL : rnd64()); break;
	case 29: case 30: case 31: case 32: mutate_feature(c - 29); break;
	default: { /* any field in the view, near its value */
		uint32_t f = gen_field();

		w(f, gen_value(f));
		break;
	}
	}
}

/* --- entries -------------------------------------------------------------- */

/*
 * VMREAD as a recorded step: what the generator decides from it is then
 * visible too (its value, unless ops.c's value_defined() says it is not).
 */
static uint64_t read_rec(uint32_t field)
{
	struct record r = { .kind = K_VMREAD, .arg = field };
	enum vmx_result res = vmread(field, &r.value);
	uint64_t value = r.value;

	fuzz_vmx_count++;
	r.result = (enum rec_result)res;
	if (res == VMX_FAIL_VALID) {
		r.err = (uint32_t)vmcs_get(VM_INSTRUCTION_ERROR);
		fuzz_vmx_count++;
	}
	r.has_value = res == VMX_SUCCEED && field != VMX_PREEMPTION_TIMER_VALUE;
	rec_emit(&r);
	return res == VMX_SUCCEED ? value : 0;
}

/*
 * L2 at one of the window stubs, or where window_exec took it (a VMCALL in
 * the window, or the missing PDPT entry at 2 GiB): it needs EPT (ept.c).
 */
static bool needs_ept(uint64_t rip)
{
	return rip == (uint64_t)l2f_window_read || rip == (uint64_t)l2f_window_write ||
	       rip == (uint64_t)l2f_window_exec || (rip >= EPT_WINDOW && rip < 2 * EPT_WINDOW + PAGE_SIZE);
}

/*
 * Stubs that wait forever without their exiting control, and the window
 * stubs without EPT: CPUID instead (header comment).
 */
static void sanitize(void)
{
	uint64_t rip = read_rec(GUEST_RIP), proc = read_rec(CPU_BASED_VM_EXEC_CONTROL);

	if ((rip == (uint64_t)l2_hlt && !(proc & HLT_EXITING)) ||
	    (rip == (uint64_t)l2f_mwait && !(proc & MWAIT_EXITING)) ||
	    (rip == (uint64_t)l2f_monitor && !(proc & MONITOR_EXITING)) ||
	    (needs_ept(rip) && (!(proc & SECONDARY_CONTROLS) || !(read_rec(SECONDARY_VM_EXEC_CONTROL) & ENABLE_EPT))))
		w(GUEST_RIP, (uint64_t)l2_cpuid);
	if (read_rec(GUEST_ACTIVITY_STATE) == 1 && !(read_rec(VM_ENTRY_INTR_INFO) & INTR_VALID))
		w(GUEST_ACTIVITY_STATE, 0);
	/*
	 * Bochs 2.7 starts no timer for an entry at 0 (it only marks the exit
	 * pending), so an exit before that one saves a stale value
	 * (docs/bochs.md). With "save" the stale value reaches vmcs12; with an
	 * injected event, or blocking by STI or MOV SS (Bochs then takes the
	 * timer exit after L2's first instruction), umbra's own EPT fills can
	 * come first, and it resumes L2 with what vmcs02 saved. Such entries
	 * get a timer that cannot run out instead, unless undefined=8.
	 */
	if ((read_rec(PIN_BASED_VM_EXEC_CONTROL) & PREEMPTION_TIMER) && !(fuzz_undefined & FUZZ_UNDEFINED_TIMER_ZERO) &&
	    ((read_rec(VM_EXIT_CONTROLS) & SAVE_PREEMPTION_TIMER) || (read_rec(VM_ENTRY_INTR_INFO) & INTR_VALID) ||
	     (read_rec(GUEST_INTERRUPTIBILITY_INFO) & (INTR_BLOCKING_STI | INTR_BLOCKING_MOV_SS))) &&
	    read_rec(VMX_PREEMPTION_TIMER_VALUE) == 0)
		w(VMX_PREEMPTION_TIMER_VALUE, 0xffffffffu);
}

static void regs_gen(void)
{
	l2_regs_default(&fs.regs);
	fs.regs.gpr[GPR_RCX] = chance(70) ? msrs[rnd(ARRAY_SIZE(msrs))] : rnd(16);
	fs.regs.gpr[GPR_RDX] = chance(50) ? L2_IO_PORT : L2_OUT_PORT;
	fs.regs.gpr[GPR_R8] = 0x8000000000000000ULL;
	/* The window stubs' address (ept.c): a 4 KiB leaf, a 2 MiB one, or a PDPT entry that is not there. */
	if (chance(70))
		fs.regs.gpr[GPR_R9] = EPT_WINDOW + PAGE_SIZE * rnd(EPT_WINDOW_LEAVES + 1);
	else if (chance(80))
		fs.regs.gpr[GPR_R9] = EPT_WINDOW + MiB(2) * (1 + rnd(5));
	else
		fs.regs.gpr[GPR_R9] = 2 * EPT_WINDOW;
	if (chance(20))
		fs.regs.gpr[GPR_RAX] = rnd64();
}

/*
 * SDM Vol. 3C 27.2.4-27.2.5: the instruction length is defined for exits
 * an instruction caused (and for software events), the VMX-instruction
 * information only for the instructions listed there. Elsewhere both are
 * undefined and are not recorded.
 */
static bool len_defined(const struct exit_info *e)
{
	uint32_t reason = e->reason & 0xffff, type = (e->intr_info >> 8) & 7;

	switch (reason) {
	case 0: /* an exception: software ones (INT3, INTO) only */
		return (e->intr_info & INTR_VALID) && (type == 4 || type == 5 || type == 6);
	case 9: case 10: case 11: case 12: case 13: case 14: case 15: case 16: case 18: case 19:
	case 20: case 21: case 22: case 23: case 24: case 25: case 26: case 27: case 28: case 29:
	case 30: case 31: case 32: case 36: case 39: case 40: case 46: case 47: case 50: case 51:
	case 53: case 54: case 55: case 57: case 58: case 59: case 61: case 63: case 64:
		return true;
	default:
		return false;
	}
}

static bool insn_info_defined(const struct exit_info *e)
{
	switch (e->reason & 0xffff) {
	case 19: case 21: case 22: case 23: case 25: case 27: /* VMCLEAR .. VMXON */
	case 46: case 47: case 50: case 53: case 57: case 58: case 61: case 63: case 64:
		return true;
	case 30: /* INS/OUTS, when IA32_VMX_BASIC[54] says so */
		return (suite.caps.basic & VMX_BASIC_INS_OUTS_INFO) && (e->qualification & BIT(4));
	default:
		return false;
	}
}

void l2_enter(bool launch)
{
	struct record r = { .kind = launch ? K_VMLAUNCH : K_VMRESUME };
	enum vm_entry_result res;

	if (fs.current != VMCS_NONE)
		sanitize();
	if (!fs.exited || chance(30))
		regs_gen();
	for (unsigned int i = 0; i < LIST_MAX; i++)
		exit_store[i].value = 0;
	res = vm_enter(&fs.regs, launch);
	fuzz_vmx_count += 3; /* VMWRITE HOST_RSP, HOST_RIP, VMLAUNCH/VMRESUME */
	r.result = (enum rec_result)res;
	if (res == VM_ENTRY_FAIL_VALID) {
		r.err = (uint32_t)vmcs_get(VM_INSTRUCTION_ERROR);
		fuzz_vmx_count++;
	}
	fs.exited = res == VM_ENTRY_EXITED;
	if (res == VM_ENTRY_EXITED) {
		r.result = R_EXIT;
		exit_info_read(&r.exit);
		r.intr_err = (r.exit.intr_info & INTR_DELIVER_ERR) ? (uint32_t)vmcs_get(VM_EXIT_INTR_ERROR_CODE) : 0;
		r.idt_err = (r.exit.idt_vectoring & INTR_DELIVER_ERR) ? (uint32_t)vmcs_get(IDT_VECTORING_ERROR_CODE) : 0;
		r.insn_info = insn_info_defined(&r.exit) ? (uint32_t)vmcs_get(VMX_INSTRUCTION_INFO) : 0;
		if (!len_defined(&r.exit))
			r.exit.len = 0;
		fuzz_vmx_count += 9;
		r.stored = exit_store;
		r.stored_count = (uint32_t)vmcs_get(VM_EXIT_MSR_STORE_COUNT);
		fuzz_vmx_count++;
		/* What L2's CR8 writes left in VTPR (29.1.2): the page is L1's, the CPU wrote it. */
		r.has_vtpr = (vmcs_get(CPU_BASED_VM_EXEC_CONTROL) & USE_TPR_SHADOW) != 0;
		r.vtpr = *(const uint32_t *)(fuzz_vapic + VAPIC_VTPR);
		fuzz_vmx_count++;
	}
	if (res == VM_ENTRY_EXITED)
		failed_entry_set(!(r.exit.reason & BIT(31)) ? 0 :
				 (r.exit.reason & 0xffff) == 33 ? FAILED_QUAL | FAILED_INFO : FAILED_INFO);
	rec_emit(&r);
	if (res == VM_ENTRY_EXITED && !(r.exit.reason & BIT(31)) && chance(50))
		w(GUEST_RIP, r.exit.rip + r.exit.len); /* what a VMM does after emulating */
}
