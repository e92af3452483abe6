/* SPDX-License-Identifier: BSD-2-Clause */
/* apic group: every store form on the xAPIC TPR; umbra group: what IA32_APIC_BASE writes get. */
#include "arch/x86/cpu.h"
#include "core/format.h"
#include "drivers/lapic.h"
#include "tests/guests/basic/basic.h"
#include "tests/guests/lib/fault.h"
#include "tests/guests/lib/report.h"
#include "tests/guests/lib/umbra.h"

#define VEC_GP 13

/* IA32_APIC_BASE (SDM Vol. 3A 10.4.4, 10.12.1, Figure 10-26). */
#define APIC_BASE_EXTD BIT(10)
#define APIC_BASE_ENABLE BIT(11)
#define APIC_BASE_ADDR_MASK 0x000ffffffffff000UL
#define APIC_DEFAULT_BASE 0xfee00000UL
/* Task-priority register: bits 7:0 read back as written (SDM Vol. 3A 10.8.3.1). */
#define APIC_TPR 0x080
#define TPR_MASK 0xffu

/* tests/guests/basic/apic_forms.asm */
typedef uint32_t apic_form_fn(uint64_t tpr, uint32_t value);
#define APIC_FORMS(X)                                                          \
	X(moffs64, -1)                                                         \
	X(moffs32_a32, -1)                                                     \
	X(base, -1)                                                            \
	X(disp8, -1)                                                           \
	X(disp32, -1)                                                          \
	X(sib, -1)                                                             \
	X(sib_disp8, -1)                                                       \
	X(sib_index_only, -1)                                                  \
	X(sib_absolute_a32, -1)                                                \
	X(rex_rb, -1)                                                          \
	X(rex_x, -1)                                                           \
	X(a32_base, -1)                                                        \
	X(seg_ds, -1)                                                          \
	X(seg_cs_es, -1)                                                       \
	X(imm32, 0x5a)                                                         \
	X(imm32_disp32_a32, 0x3c)                                              \
	X(xchg, -1)                                                            \
	X(lock_xchg, -1)                                                       \
	X(xchg_rex, -1)                                                        \
	X(c32_moffs, -1)                                                       \
	X(c32_base, -1)                                                        \
	X(c32_sib_disp32, -1)                                                  \
	X(c32_seg_ss, -1)                                                      \
	X(c32_imm32, 0x77)                                                     \
	X(c32_xchg, -1)

#define DECLARE_FORM(name, imm) apic_form_fn apic_form_##name;
APIC_FORMS(DECLARE_FORM)
#undef DECLARE_FORM

struct apic_form {
	const char *name;
	apic_form_fn *fn;
	int imm; /* the form's own immediate, or -1: it stores its value argument */
};

#define FORM_ENTRY(name, imm) { #name, apic_form_##name, imm },
static const struct apic_form forms[] = { APIC_FORMS(FORM_ENTRY) };
#undef FORM_ENTRY

static bool is_xchg(const char *name)
{
	const char *p = name;

	for (; *p; p++)
		if (p[0] == 'x' && p[1] == 'c' && p[2] == 'h' && p[3] == 'g')
			return true;
	return false;
}

/*
 * Each form stores a fresh value into the TPR, which a plain read then
 * returns; XCHG forms also return the previous TPR. Bare on Bochs the APIC
 * itself answers; under umbra the page is read-only and each store is
 * decoded and emulated (arch/x86/vapic.c), so the verdicts must agree.
 */
void check_apic_stores(void)
{
	uint64_t base = rdmsr(MSR_IA32_APIC_BASE);
	volatile uint32_t *tpr = (volatile uint32_t *)(APIC_DEFAULT_BASE + APIC_TPR);
	uint32_t saved, before, value, got, old, want;
	char name[48];

	for (size_t i = 0; i < ARRAY_SIZE(forms); i++) {
		const struct apic_form *f = &forms[i];

		fmt_snprintf(name, sizeof(name), "apic.store_%s", f->name);
		if (base & APIC_BASE_EXTD) {
			report(name, VERDICT_SKIP, "the APIC is in x2APIC mode");
			continue;
		}
		if ((base & APIC_BASE_ADDR_MASK) != APIC_DEFAULT_BASE) {
			report(name, VERDICT_SKIP, "APIC base %#lx is not the default",
			       base & APIC_BASE_ADDR_MASK);
			continue;
		}
		saved = *tpr;
		before = (uint32_t)(0x80 + i) & TPR_MASK;
		*tpr = before;
		value = (uint32_t)(0x10 + i) & TPR_MASK;
		want = f->imm >= 0 ? (uint32_t)f->imm : value;
		old = f->fn(APIC_DEFAULT_BASE + APIC_TPR, value);
		got = *tpr & TPR_MASK;
		if (is_xchg(f->name))
			check(name, got == want && (old & TPR_MASK) == before,
			      "TPR %#x (wrote %#x), XCHG returned %#x (TPR was %#x)", got, want, old,
			      before);
		else
			check(name, got == want, "TPR %#x, wrote %#x", got, want);
		*tpr = saved;
	}
}

apic_form_fn apic_form_unsupported_add;

/*
 * test=apic_unsupported: an ADD to the TPR. Bare, the APIC takes it (TPR
 * read back); under umbra it is no store umbra decodes, so umbra must stop
 * the guest and name the bytes (01 37) before the INFO line after it.
 */
void run_apic_unsupported(void)
{
	volatile uint32_t *tpr = (volatile uint32_t *)(APIC_DEFAULT_BASE + APIC_TPR);

	if (rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_EXTD) {
		report("apic.unsupported_add", VERDICT_SKIP, "the APIC is in x2APIC mode");
		return;
	}
	*tpr = 0x10;
	info("apic_unsupported: ADD to the TPR now");
	apic_form_unsupported_add(APIC_DEFAULT_BASE + APIC_TPR, 0x01);
	info("apic_unsupported: TPR %#x after the ADD", *tpr & TPR_MASK);
	*tpr = 0;
}

/* WRMSR IA32_APIC_BASE, value: true when it did not fault; *vector says what it raised. */
static bool apic_base_write(uint64_t value, uint8_t *vector)
{
	struct fault_record f;

	if (wrmsr_safe(MSR_IA32_APIC_BASE, value, &f))
		return true;
	*vector = f.vector;
	return false;
}

/* A write umbra must refuse with #GP, leaving the MSR (and the APIC) as it was. */
static void check_refused(const char *name, uint64_t cur, uint64_t value)
{
	uint8_t vector = 0;
	bool wrote = apic_base_write(value, &vector);
	uint64_t after = rdmsr(MSR_IA32_APIC_BASE);

	check(name, !wrote && vector == VEC_GP && after == cur,
	      "WRMSR %#lx: %s (vector %u), IA32_APIC_BASE now %#lx (was %#lx)", value,
	      wrote ? "accepted" : "faulted", vector, after, cur);
}

/*
 * Group "umbra" (only under umbra, not compared with bare runs): umbra keeps
 * the APIC where its INIT/SIPI emulation and the read-only EPT page are,
 * enabled, in a mode its own driver uses (arch/x86/vapic.c): relocating,
 * disabling and leaving x2APIC mode get #GP; rewriting the value is fine;
 * xAPIC -> x2APIC is allowed, and done last (to_x2apic) so that the smp
 * group afterwards starts the APs from an x2APIC BSP. umbra must survive
 * all of it: the smp group and umbra's shutdown IPIs run afterwards.
 */
void check_umbra_apic_base(bool to_x2apic)
{
	uint64_t cur = rdmsr(MSR_IA32_APIC_BASE);
	uint8_t vector = 0;
	bool ok;

	if (!under_umbra())
		return;
	ok = apic_base_write(cur, &vector);
	check("umbra.apic_base_same", ok && rdmsr(MSR_IA32_APIC_BASE) == cur,
	      "WRMSR of the value read (%#lx): %s", cur, ok ? "accepted" : "faulted");
	check_refused("umbra.apic_base_relocate", cur, (cur & ~APIC_BASE_ADDR_MASK) | 0xfed00000UL);
	check_refused("umbra.apic_base_disable", cur, cur & ~(APIC_BASE_ENABLE | APIC_BASE_EXTD));
	if (cur & APIC_BASE_EXTD) {
		/* x2APIC -> xAPIC is invalid on any CPU (SDM Vol. 3A Table 10-5); via "disabled", umbra's no. */
		check_refused("umbra.apic_base_leave_x2apic", cur, cur & ~APIC_BASE_EXTD);
		report("umbra.apic_base_to_x2apic", VERDICT_SKIP, "already in x2APIC mode");
	} else {
		report("umbra.apic_base_leave_x2apic", VERDICT_SKIP, "in xAPIC mode");
		if (!to_x2apic || !(cpuid(1, 0).ecx & CPUID_1_ECX_X2APIC)) {
			report("umbra.apic_base_to_x2apic", VERDICT_SKIP, "not asked or no x2APIC");
		} else {
			uint64_t x2 = cur | APIC_BASE_EXTD;

			ok = apic_base_write(x2, &vector);
			check("umbra.apic_base_to_x2apic",
			      ok && rdmsr(MSR_IA32_APIC_BASE) == x2 && lapic_id() == (cpuid(1, 0).ebx >> 24),
			      "WRMSR %#lx: %s, x2APIC ID %u", x2, ok ? "accepted" : "faulted", lapic_id());
		}
	}
}
