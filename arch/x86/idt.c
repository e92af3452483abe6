/* SPDX-License-Identifier: BSD-2-Clause */
/* IDT setup and dispatch: exceptions are fatal with a full dump (SDM Vol. 3A ch. 6). */
#include "arch/x86/idt.h"
#include "arch/x86/cpu.h"
#include "arch/x86/gdt.h"
#include "core/log.h"
#include "core/panic.h"
#include "core/shutdown.h"

struct idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
} __packed;

_Static_assert(sizeof(struct idt_gate) == 16, "SDM Vol. 3A Figure 6-8");

#define GATE_INTERRUPT 0x8e /* present, DPL 0, 64-bit interrupt gate */

extern const uint64_t isr_stub_table[256];

static struct idt_gate idt[256] __aligned(16);
static irq_handler_fn handlers[256];

static const char *const exception_names[32] = {
	[0] = "#DE divide error",       [1] = "#DB debug",
	[2] = "NMI",                    [3] = "#BP breakpoint",
	[4] = "#OF overflow",           [5] = "#BR bound range",
	[6] = "#UD invalid opcode",     [7] = "#NM device not available",
	[8] = "#DF double fault",       [9] = "coprocessor segment overrun",
	[10] = "#TS invalid TSS",       [11] = "#NP segment not present",
	[12] = "#SS stack fault",       [13] = "#GP general protection",
	[14] = "#PF page fault",        [16] = "#MF x87 error",
	[17] = "#AC alignment check",   [18] = "#MC machine check",
	[19] = "#XM SIMD exception",    [20] = "#VE virtualization exception",
	[21] = "#CP control protection",
};

const char *exception_name(uint64_t vector)
{
	if (vector < ARRAY_SIZE(exception_names) && exception_names[vector])
		return exception_names[vector];
	return vector < 32 ? "reserved exception" : "interrupt";
}

static void set_gate(uint8_t vector, uint64_t handler, uint8_t ist)
{
	struct idt_gate *g = &idt[vector];

	g->offset_lo = handler & 0xffff;
	g->selector = SEL_CODE64;
	g->ist = ist;
	g->type_attr = GATE_INTERRUPT;
	g->offset_mid = (handler >> 16) & 0xffff;
	g->offset_hi = handler >> 32;
	g->reserved = 0;
}

void idt_init(void)
{
	for (unsigned int v = 0; v < 256; v++)
		set_gate(v, isr_stub_table[v], 0);
	/* Own stacks for events that can arrive with a broken RSP. */
	set_gate(VEC_NMI, isr_stub_table[VEC_NMI], IST_NMI);
	set_gate(VEC_DOUBLE_FAULT, isr_stub_table[VEC_DOUBLE_FAULT], IST_DOUBLE_FAULT);
	set_gate(VEC_MACHINE_CHECK, isr_stub_table[VEC_MACHINE_CHECK], IST_MACHINE_CHECK);
}

void idt_load(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __packed ptr = { sizeof(idt) - 1, (uint64_t)idt };

	__asm__ volatile("lidt %0" ::"m"(ptr));
}

void idt_set_handler(uint8_t vector, irq_handler_fn fn)
{
	handlers[vector] = fn;
}

void trap_dump(const struct trap_frame *tf)
{
	log_raw("  vector %lu (%s) error code %#lx\n", tf->vector, exception_name(tf->vector),
		tf->error_code);
	log_raw("  rip %016lx cs %04lx rflags %016lx\n", tf->rip, tf->cs, tf->rflags);
	log_raw("  rsp %016lx ss %04lx cr2 %016lx\n", tf->rsp, tf->ss, read_cr2());
	log_raw("  cr0 %016lx cr3 %016lx cr4 %016lx\n", read_cr0(), read_cr3(), read_cr4());
	log_raw("  rax %016lx rbx %016lx rcx %016lx\n", tf->rax, tf->rbx, tf->rcx);
	log_raw("  rdx %016lx rsi %016lx rdi %016lx\n", tf->rdx, tf->rsi, tf->rdi);
	log_raw("  rbp %016lx r8  %016lx r9  %016lx\n", tf->rbp, tf->r8, tf->r9);
	log_raw("  r10 %016lx r11 %016lx r12 %016lx\n", tf->r10, tf->r11, tf->r12);
	log_raw("  r13 %016lx r14 %016lx r15 %016lx\n", tf->r13, tf->r14, tf->r15);
}

/*
 * wrmsr_checked(msr, value): SysV ABI, msr in EDI, value in RSI. A #GP on the
 * WRMSR resumes at wrmsr_checked_fault, which returns false (trap_dispatch).
 */
extern const char wrmsr_checked_insn[], wrmsr_checked_fault[];
__asm__(".pushsection .text\n"
	".globl wrmsr_checked\n"
	"wrmsr_checked:\n\t"
	"mov %edi, %ecx\n\t"
	"mov %esi, %eax\n\t"
	"mov %rsi, %rdx\n\t"
	"shr $32, %rdx\n"
	"wrmsr_checked_insn:\n\t"
	"wrmsr\n\t"
	"mov $1, %eax\n\t"
	"ret\n"
	"wrmsr_checked_fault:\n\t"
	"xor %eax, %eax\n\t"
	"ret\n"
	".popsection\n");

/*
 * rdmsr_checked(msr, &value): msr in EDI, the pointer in RSI. A #GP on the
 * RDMSR resumes at rdmsr_checked_fault, which returns false (trap_dispatch).
 */
extern const char rdmsr_checked_insn[], rdmsr_checked_fault[];
__asm__(".pushsection .text\n"
	".globl rdmsr_checked\n"
	"rdmsr_checked:\n\t"
	"mov %edi, %ecx\n"
	"rdmsr_checked_insn:\n\t"
	"rdmsr\n\t"
	"mov %eax, (%rsi)\n\t"
	"mov %edx, 4(%rsi)\n\t"
	"mov $1, %eax\n\t"
	"ret\n"
	"rdmsr_checked_fault:\n\t"
	"xor %eax, %eax\n\t"
	"ret\n"
	".popsection\n");

/* Called from isr_common with interrupts off. */
void trap_dispatch(struct trap_frame *tf);
void trap_dispatch(struct trap_frame *tf)
{
	irq_handler_fn fn = handlers[tf->vector & 0xff];

	if (tf->vector == 13 && tf->rip == (uint64_t)wrmsr_checked_insn) {
		tf->rip = (uint64_t)wrmsr_checked_fault;
		return;
	}
	if (tf->vector == 13 && tf->rip == (uint64_t)rdmsr_checked_insn) {
		tf->rip = (uint64_t)rdmsr_checked_fault;
		return;
	}
	if (tf->vector == VEC_NMI && panic_in_progress())
		panic_stop_this_cpu();
	if (tf->vector == VEC_NMI && shutdown_in_progress())
		shutdown_park();
	if (fn) {
		fn(tf);
		return;
	}
	panic_trap(tf);
}
