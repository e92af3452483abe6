/* SPDX-License-Identifier: BSD-2-Clause */
/* VMX instructions expected to raise #UD or #GP: caught, recorded and stepped over. */
#include "arch/x86/idt.h"
#include "core/panic.h"
#include "tests/guests/vmx/suite.h"

#define VEC_INVALID_OPCODE 6
#define VEC_GENERAL_PROTECTION 13

/*
 * The same scheme as tests/guests/lib/fault.c (which keeps its slot to
 * itself): the guarded instruction stores its own address and that of the
 * next instruction just before it runs, so the handler never decodes
 * instruction lengths and a fault anywhere else stays fatal. Only the BSP
 * runs checks, so one slot is enough.
 */
static struct {
	volatile uint64_t site;
	volatile uint64_t resume;
	struct fault_record rec;
} slot;

/* "1:" is the guarded instruction, "2:" the one after; r11 is scratch. */
#define GUARDED(insn)                                                          \
	"leaq 1f(%%rip), %%r11\n\t"                                            \
	"movq %%r11, %[site]\n\t"                                              \
	"leaq 2f(%%rip), %%r11\n\t"                                            \
	"movq %%r11, %[resume]\n\t"                                            \
	"1: " insn "\n"                                                        \
	"2:\n\t"

static void expected_fault(struct trap_frame *tf)
{
	if (!slot.site || tf->rip != slot.site)
		panic_trap(tf);
	slot.rec.hit = true;
	slot.rec.vector = (uint8_t)tf->vector;
	slot.rec.error_code = tf->error_code;
	tf->rip = slot.resume;
	slot.site = 0;
}

void guard_init(void)
{
	idt_set_handler(VEC_INVALID_OPCODE, expected_fault);
	idt_set_handler(VEC_GENERAL_PROTECTION, expected_fault);
}

static void arm(void)
{
	slot.rec = (struct fault_record){ 0 };
}

static bool disarm(struct fault_record *f)
{
	slot.site = 0;
	if (f)
		*f = slot.rec;
	return !slot.rec.hit;
}

bool vmxon_guarded(uint64_t pa, enum vmx_result *r, struct fault_record *f)
{
	bool cf = false, zf = false;

	arm();
	__asm__ volatile(GUARDED("vmxon %[pa]")
			 : "=@ccc"(cf), "=@ccz"(zf), [site] "=m"(slot.site),
			   [resume] "=m"(slot.resume)
			 : [pa] "m"(pa)
			 : "r11", "memory");
	*r = VMX_ASM_RESULT(cf, zf);
	return disarm(f);
}

bool vmxoff_guarded(enum vmx_result *r, struct fault_record *f)
{
	bool cf = false, zf = false;

	arm();
	__asm__ volatile(GUARDED("vmxoff")
			 : "=@ccc"(cf), "=@ccz"(zf), [site] "=m"(slot.site),
			   [resume] "=m"(slot.resume)
			 :
			 : "r11", "memory");
	*r = VMX_ASM_RESULT(cf, zf);
	return disarm(f);
}

bool vmread_guarded(uint64_t field, uint64_t *val, enum vmx_result *r, struct fault_record *f)
{
	bool cf = false, zf = false;
	uint64_t v = 0;

	arm();
	__asm__ volatile(GUARDED("vmread %[field], %[val]")
			 : "=@ccc"(cf), "=@ccz"(zf), [val] "+r"(v), [site] "=m"(slot.site),
			   [resume] "=m"(slot.resume)
			 : [field] "r"(field)
			 : "r11", "memory");
	*val = v;
	*r = VMX_ASM_RESULT(cf, zf);
	return disarm(f);
}

bool write_cr0_guarded(uint64_t v, struct fault_record *f)
{
	arm();
	__asm__ volatile(GUARDED("movq %[v], %%cr0")
			 : [site] "=m"(slot.site), [resume] "=m"(slot.resume)
			 : [v] "r"(v)
			 : "r11", "memory");
	return disarm(f);
}

bool write_cr4_guarded(uint64_t v, struct fault_record *f)
{
	arm();
	__asm__ volatile(GUARDED("movq %[v], %%cr4")
			 : [site] "=m"(slot.site), [resume] "=m"(slot.resume)
			 : [v] "r"(v)
			 : "r11", "memory");
	return disarm(f);
}
