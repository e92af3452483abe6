/* SPDX-License-Identifier: BSD-2-Clause */
/* Outcome records: one line per step on port 0xE9 (Bochs's port_e9_hack), else COM1. */
#include "arch/x86/cpu.h"
#include "core/format.h"
#include "core/log.h"
#include "core/string.h"
#include "tests/guests/fuzz/fuzz.h"

/*
 * Record lines (docs/fuzzing.md has the format). Only values that must
 * agree between bare Bochs and umbra are printed: no revision
 * identifiers, no capability values (only the view's digest), no TSC.
 */
#define E9_PORT 0xe9
#define ENTRY_FAIL_REASON_GUEST_STATE 33
#define EXIT_REASON_EPT_VIOLATION 48
#define EXIT_REASON_EPT_MISCONFIG 49
#define EPT_QUAL_LINEAR_VALID BIT(7) /* SDM Vol. 3C Table 27-7 */

uint64_t fuzz_rng_state;
uint64_t fuzz_seed, fuzz_step, fuzz_vmx_count;
static bool use_e9;

static const char *const kind_names[K_COUNT] = {
	[K_VMXON] = "vmxon",     [K_VMXOFF] = "vmxoff",   [K_VMCLEAR] = "vmclear",
	[K_VMPTRLD] = "vmptrld", [K_VMPTRST] = "vmptrst", [K_VMREAD] = "vmread",
	[K_VMWRITE] = "vmwrite", [K_VMLAUNCH] = "vmlaunch", [K_VMRESUME] = "vmresume",
	[K_PREPARE] = "prepare", [K_INVEPT] = "invept", [K_INVVPID] = "invvpid",
};

bool e9_present(void)
{
	/* Bochs's hack answers a read of the port with 0xE9 (docs: platform.md). */
	use_e9 = inb(E9_PORT) == E9_PORT;
	return use_e9;
}

static void e9_write(const char *s, size_t n)
{
	__asm__ volatile("rep outsb" : "+S"(s), "+c"(n) : "d"(E9_PORT) : "memory");
}

void rec_printf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fmt_vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	if (use_e9) {
		buf[n++] = '\n';
		e9_write(buf, (size_t)n);
	} else {
		buf[n] = 0;
		log_raw("%s\n", buf);
	}
}

void rec_emit(const struct record *r)
{
	char extra[352] = "";
	size_t len = 0;

	if (r->result == R_FAIL_VALID)
		len += fmt_snprintf(extra + len, sizeof(extra) - len, " e=%u", r->err);
	if (r->result == R_FAULT)
		len += fmt_snprintf(extra + len, sizeof(extra) - len, " v=%u/%lx", r->vector,
				    r->error_code);
	if (r->has_value)
		len += fmt_snprintf(extra + len, sizeof(extra) - len, " x=%lx", r->value);
	if (r->has_desc)
		len += fmt_snprintf(extra + len, sizeof(extra) - len, " d=%lx,%lx", r->desc[0], r->desc[1]);
	if (r->rexw)
		len += fmt_snprintf(extra + len, sizeof(extra) - len, " w=1");
	if (r->bad_operand)
		len += fmt_snprintf(extra + len, sizeof(extra) - len, " m=%lx", r->bad_operand);
	if (r->result == R_EXIT) {
		const struct exit_info *e = &r->exit;

		/*
		 * A failed entry writes only reason and qualification (SDM 26.8).
		 * Which guest-state check fails first when several would is the
		 * implementation's (26.3.1): for reason 33 the qualification
		 * (0, 2, 3, 4) is not recorded. Reason 34's (the failing MSR-list
		 * entry) is defined: the list is loaded in order (26.4).
		 */
		/*
		 * Bochs writes a stale displacement as the qualification of a
		 * VMREAD/VMWRITE exit with register operands, where the SDM
		 * (27.2.1) has 0 (docs/bochs.md): not recorded for those.
		 */
		uint64_t qual = e->qualification;

		if ((e->reason == 23 || e->reason == 25) && (r->insn_info & BIT(10)))
			qual = 0;
		if (e->reason & BIT(31))
			fmt_snprintf(extra + len, sizeof(extra) - len, " X=%x,%lx", e->reason,
				     (e->reason & 0xffff) == ENTRY_FAIL_REASON_GUEST_STATE ? 0 : e->qualification);
		else
			fmt_snprintf(extra + len, sizeof(extra) - len, " X=%x,%lx,%x,%x,%x,%x,%x,%x,%lx",
				     e->reason, qual, e->intr_info, r->intr_err,
				     e->idt_vectoring, r->idt_err, e->len, r->insn_info, e->rip);
		/*
		 * EPT exits: the guest-physical address, and for a violation
		 * the linear one when the qualification says it is valid
		 * (27.2.1; undefined otherwise, so not recorded).
		 */
		len = strlen(extra);
		if (e->reason == EXIT_REASON_EPT_MISCONFIG)
			fmt_snprintf(extra + len, sizeof(extra) - len, " G=%lx", e->gpa);
		else if (e->reason == EXIT_REASON_EPT_VIOLATION)
			fmt_snprintf(extra + len, sizeof(extra) - len, " G=%lx,%lx", e->gpa,
				     (e->qualification & EPT_QUAL_LINEAR_VALID) ? e->gla : 0);
		len = strlen(extra);
		if (r->has_vtpr)
			fmt_snprintf(extra + len, sizeof(extra) - len, " T=%x", r->vtpr);
	}
	/* The MSR-store list's values (index and value of each entry the exit stored). */
	for (uint32_t i = 0; r->result == R_EXIT && r->stored && i < r->stored_count && i < 4; i++) {
		const uint64_t *e = (const uint64_t *)r->stored + 2 * i;

		len = strlen(extra);
		fmt_snprintf(extra + len, sizeof(extra) - len, " M%u=%x:%lx", i, (uint32_t)e[0], e[1]);
	}
	rec_printf("R %lu.%lu %s a=%lx r=%u%s", fuzz_seed, fuzz_step, kind_names[r->kind], r->arg,
		   r->result, extra);
	fuzz_step++;
}
