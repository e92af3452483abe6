/* SPDX-License-Identifier: BSD-2-Clause */
/* vmrw group: VMREAD and VMWRITE semantics, every listed field round-tripped (SDM Vol. 3C 24.11, 30.3). */
#include "arch/x86/vmx_controls.h"
#include "core/format.h"
#include "tests/guests/lib/report.h"
#include "tests/guests/vmx/suite.h"

/* Encodings no processor implements (SDM Vol. 3C 24.11.2, Table 24-21). */
#define ENC_RESERVED_BIT 0x7fffu           /* bit 12 is reserved */
#define ENC_UNUSED_INDEX 0x0ffeu           /* 16-bit host-state, index 511 */
#define ENC_ABOVE_32_BITS (1ULL << 32)     /* "an encoding bit beyond bit 32" */

/* SDM Vol. 3C 24.4.1: access rights bits 11:8 and 31:17 are reserved; a CPU need not keep them. */
#define AR_DEFINED_BITS 0x1f0ffu

/* Per-field patterns: different in every byte and for every field. */
#define PATTERN 0x8877665544332211ULL
#define PATTERN_MIX 0x9e3779b97f4a7c15ULL
#define HIGH_PATTERN 0xfeedface0badcafeULL

static const char *const width_names[] = {
	[VMCS_WIDTH_16] = "16", [VMCS_WIDTH_64] = "64",
	[VMCS_WIDTH_32] = "32", [VMCS_WIDTH_NATURAL] = "natural",
};
static const char *const type_names[] = {
	[VMCS_TYPE_CONTROL] = "control", [VMCS_TYPE_READ_ONLY] = "exit_info",
	[VMCS_TYPE_GUEST] = "guest", [VMCS_TYPE_HOST] = "host",
};

static enum vmx_result vmread_to_memory(uint64_t field, uint64_t *dst)
{
	bool cf, zf;

	__asm__ volatile("vmread %[field], %[dst]"
			 : "=@ccc"(cf), "=@ccz"(zf), [dst] "=m"(*dst)
			 : [field] "r"(field)
			 : "memory");
	return VMX_ASM_RESULT(cf, zf);
}

static enum vmx_result vmwrite_from_memory(uint64_t field, const uint64_t *src)
{
	bool cf, zf;

	__asm__ volatile("vmwrite %[src], %[field]"
			 : "=@ccc"(cf), "=@ccz"(zf)
			 : [field] "r"(field), [src] "m"(*src)
			 : "memory");
	return VMX_ASM_RESULT(cf, zf);
}

static uint64_t width_mask(uint32_t enc)
{
	switch (VMCS_FIELD_WIDTH(enc)) {
	case VMCS_WIDTH_16:
		return 0xffff;
	case VMCS_WIDTH_32:
		return 0xffffffff;
	default:
		return ~0ULL; /* 64-bit, and natural width in 64-bit mode */
	}
}

static uint64_t kept_bits(uint32_t enc)
{
	if (enc >= GUEST_ES_AR_BYTES && enc <= GUEST_TR_AR_BYTES)
		return AR_DEFINED_BITS;
	return ~0ULL;
}

/* --- failures ------------------------------------------------------------- */

static void check_failures(void)
{
	uint64_t v = 0;
	struct outcome o;

	/* VM_EXIT_REASON is read-only: VMfail(13), unless IA32_VMX_MISC[29] allows the write. */
	o = outcome_of(vmwrite(VM_EXIT_REASON, 0x1234));
	if (suite.caps.misc & VMX_MISC_VMWRITE_ANY_FIELD) {
		vmread(VM_EXIT_REASON, &v);
		check("vmrw.vmwrite_read_only", o.result == VMX_SUCCEED && v == 0x1234,
		      "IA32_VMX_MISC[29] set: VMWRITE of VM_EXIT_REASON %s, reads back %#lx",
		      o.result == VMX_SUCCEED ? "succeeded" : "failed", v);
	} else {
		expect_outcome("vmrw.vmwrite_read_only", o, VMX_FAIL_VALID,
			       VMXERR_VMWRITE_READ_ONLY_VMCS_COMPONENT, "VMWRITE of VM_EXIT_REASON");
	}

	expect_outcome("vmrw.vmread_reserved_encoding", outcome_of(vmread(ENC_RESERVED_BIT, &v)),
		       VMX_FAIL_VALID, VMXERR_UNSUPPORTED_VMCS_COMPONENT, "VMREAD of 0x7fff");
	expect_outcome("vmrw.vmwrite_reserved_encoding", outcome_of(vmwrite(ENC_RESERVED_BIT, 0)),
		       VMX_FAIL_VALID, VMXERR_UNSUPPORTED_VMCS_COMPONENT, "VMWRITE of 0x7fff");
	expect_outcome("vmrw.vmread_unused_index", outcome_of(vmread(ENC_UNUSED_INDEX, &v)),
		       VMX_FAIL_VALID, VMXERR_UNSUPPORTED_VMCS_COMPONENT,
		       "VMREAD of 0x0ffe (no such field)");
	/* Only 64-bit fields have a HIGH access (bit 0). */
	expect_outcome("vmrw.vmread_high_of_natural", outcome_of(vmread(GUEST_RIP | 1, &v)),
		       VMX_FAIL_VALID, VMXERR_UNSUPPORTED_VMCS_COMPONENT,
		       "VMREAD of GUEST_RIP with access type HIGH");
	expect_outcome("vmrw.vmread_encoding_above_32_bits",
		       outcome_of(vmread(GUEST_RIP | ENC_ABOVE_32_BITS, &v)), VMX_FAIL_VALID,
		       VMXERR_UNSUPPORTED_VMCS_COMPONENT, "VMREAD of GUEST_RIP with bit 32 set");
	expect_outcome("vmrw.vmwrite_encoding_above_32_bits",
		       outcome_of(vmwrite(GUEST_RIP | ENC_ABOVE_32_BITS, 0)), VMX_FAIL_VALID,
		       VMXERR_UNSUPPORTED_VMCS_COMPONENT, "VMWRITE of GUEST_RIP with bit 32 set");
}

/* --- every listed field --------------------------------------------------- */

struct field_group {
	unsigned int listed, tested, unsupported;
	char failure[96]; /* the first failing field, empty when none */
};

static struct field_group groups[4][4]; /* [width][type] */

/* Round trip of one field: "" or why it failed. */
static void round_trip(uint32_t enc, const char *name, struct field_group *g)
{
	uint64_t p = PATTERN ^ (enc * PATTERN_MIX), want = p & width_mask(enc), orig = 0, v = 0,
		 hi = 0;
	uint64_t keep = kept_bits(enc);
	struct outcome o;
	char s[24];

	o = outcome_of(vmread(enc, &orig));
	if (o.result != VMX_SUCCEED) {
		/* An unsupported field is VMfailValid(12), nothing else. */
		if (o.result == VMX_FAIL_VALID && o.err == VMXERR_UNSUPPORTED_VMCS_COMPONENT)
			g->unsupported++;
		else if (!g->failure[0])
			fmt_snprintf(g->failure, sizeof(g->failure), "%s: VMREAD %s", name,
				     outcome_str(o, s, sizeof(s)));
		return;
	}
	g->tested++;
	if (g->failure[0])
		return;
	o = outcome_of(vmwrite(enc, p));
	if (o.result != VMX_SUCCEED) {
		fmt_snprintf(g->failure, sizeof(g->failure), "%s: VMWRITE %s", name,
			     outcome_str(o, s, sizeof(s)));
		return;
	}
	vmread(enc, &v);
	if ((v & keep) != (want & keep) || (v & ~width_mask(enc))) {
		fmt_snprintf(g->failure, sizeof(g->failure), "%s: wrote %#lx, read %#lx", name, p, v);
		return;
	}
	if (VMCS_FIELD_WIDTH(enc) == VMCS_WIDTH_64) {
		/* HIGH access: bits 63:32, zero-extended; a write changes only those. */
		vmread(VMCS_FIELD_HIGH(enc), &hi);
		vmwrite(VMCS_FIELD_HIGH(enc), HIGH_PATTERN);
		vmread(enc, &v);
		if (hi != p >> 32 || v != ((HIGH_PATTERN << 32) | (p & 0xffffffffu)))
			fmt_snprintf(g->failure, sizeof(g->failure),
				     "%s: HIGH read %#lx of %#lx; after HIGH write %#lx", name, hi, p, v);
	}
	vmwrite(enc, orig);
}

static void check_all_fields(void)
{
	static const uint8_t width_order[] = { VMCS_WIDTH_16, VMCS_WIDTH_32, VMCS_WIDTH_64,
					       VMCS_WIDTH_NATURAL };
	static const uint8_t type_order[] = { VMCS_TYPE_CONTROL, VMCS_TYPE_READ_ONLY,
					      VMCS_TYPE_GUEST, VMCS_TYPE_HOST };
	/* SDM Vol. 3C A.6: IA32_VMX_MISC[29] lets VMWRITE write the VM-exit information fields. */
	bool write_read_only = suite.caps.misc & VMX_MISC_VMWRITE_ANY_FIELD;
	char name[32];

	for (size_t i = 0; i < VMCS_FIELD_COUNT; i++) {
		uint32_t enc = vmcs_field_table[i].encoding;
		struct field_group *g = &groups[VMCS_FIELD_WIDTH(enc)][VMCS_FIELD_TYPE(enc)];

		g->listed++;
		if (VMCS_FIELD_TYPE(enc) != VMCS_TYPE_READ_ONLY || write_read_only)
			round_trip(enc, vmcs_field_table[i].name, g);
	}
	/* One line per group the list has fields of (the same lines in every run). */
	for (size_t wi = 0; wi < ARRAY_SIZE(width_order); wi++) {
		for (size_t ti = 0; ti < ARRAY_SIZE(type_order); ti++) {
			const struct field_group *g = &groups[width_order[wi]][type_order[ti]];

			if (!g->listed)
				continue;
			fmt_snprintf(name, sizeof(name), "vmrw.%s_%s", type_names[type_order[ti]],
				     width_names[width_order[wi]]);
			if (type_order[ti] == VMCS_TYPE_READ_ONLY && !write_read_only)
				report(name, VERDICT_SKIP,
				       "IA32_VMX_MISC[29] clear: read-only fields are not writable");
			else if (g->failure[0])
				report(name, VERDICT_FAIL, "%s", g->failure);
			else if (!g->tested)
				report(name, VERDICT_SKIP, "no field of the group is supported (%u listed)",
				       g->unsupported);
			else
				report(name, VERDICT_PASS, "%u fields round-trip, %u unsupported",
				       g->tested, g->unsupported);
		}
	}
}

/*
 * Fields that must exist when a feature may be enabled (the notes of SDM
 * Vol. 3C Appendix B): what an L1 sees advertised it must be able to program.
 */
struct field_need {
	uint32_t field;
	const struct vmx_ctl *ctl;
	uint32_t bit;
};

static const struct field_need field_needs[] = {
	{ VIRTUAL_PROCESSOR_ID, &suite.caps.proc2, ENABLE_VPID },
	{ POSTED_INTR_NOTIFICATION_VECTOR, &suite.caps.pin, POSTED_INTERRUPTS },
	{ POSTED_INTR_DESC_ADDR, &suite.caps.pin, POSTED_INTERRUPTS },
	{ VMX_PREEMPTION_TIMER_VALUE, &suite.caps.pin, PREEMPTION_TIMER },
	{ IO_BITMAP_A, &suite.caps.proc, USE_IO_BITMAPS },
	{ IO_BITMAP_B, &suite.caps.proc, USE_IO_BITMAPS },
	{ MSR_BITMAP, &suite.caps.proc, USE_MSR_BITMAPS },
	{ TSC_OFFSET, &suite.caps.proc, USE_TSC_OFFSETTING },
	{ VIRTUAL_APIC_PAGE_ADDR, &suite.caps.proc, USE_TPR_SHADOW },
	{ TPR_THRESHOLD, &suite.caps.proc, USE_TPR_SHADOW },
	{ SECONDARY_VM_EXEC_CONTROL, &suite.caps.proc, SECONDARY_CONTROLS },
	{ APIC_ACCESS_ADDR, &suite.caps.proc2, VIRTUALIZE_APIC_ACCESSES },
	{ EPT_POINTER, &suite.caps.proc2, ENABLE_EPT },
	{ GUEST_PHYSICAL_ADDRESS, &suite.caps.proc2, ENABLE_EPT },
	{ GUEST_PDPTE0, &suite.caps.proc2, ENABLE_EPT },
	{ PLE_GAP, &suite.caps.proc2, PAUSE_LOOP_EXITING },
	{ PLE_WINDOW, &suite.caps.proc2, PAUSE_LOOP_EXITING },
	{ EOI_EXIT_BITMAP0, &suite.caps.proc2, VIRTUAL_INTR_DELIVERY },
	{ GUEST_INTR_STATUS, &suite.caps.proc2, VIRTUAL_INTR_DELIVERY },
	{ VM_FUNCTION_CONTROL, &suite.caps.proc2, ENABLE_VMFUNC },
	{ VMREAD_BITMAP, &suite.caps.proc2, VMCS_SHADOWING },
	{ VMWRITE_BITMAP, &suite.caps.proc2, VMCS_SHADOWING },
	{ PML_ADDRESS, &suite.caps.proc2, ENABLE_PML },
	{ GUEST_PML_INDEX, &suite.caps.proc2, ENABLE_PML },
	{ VE_INFORMATION_ADDRESS, &suite.caps.proc2, EPT_VIOLATION_VE },
	{ EPTP_INDEX, &suite.caps.proc2, EPT_VIOLATION_VE },
	{ XSS_EXIT_BITMAP, &suite.caps.proc2, ENABLE_XSAVES },
	{ ENCLS_EXITING_BITMAP, &suite.caps.proc2, ENCLS_EXITING },
	{ TSC_MULTIPLIER, &suite.caps.proc2, USE_TSC_SCALING },
	{ GUEST_IA32_PAT, &suite.caps.entry, ENTRY_LOAD_PAT },
	{ HOST_IA32_PAT, &suite.caps.exit, LOAD_PAT },
	{ GUEST_IA32_EFER, &suite.caps.entry, ENTRY_LOAD_EFER },
	{ HOST_IA32_EFER, &suite.caps.exit, LOAD_EFER },
	{ GUEST_IA32_PERF_GLOBAL_CTRL, &suite.caps.entry, ENTRY_LOAD_PERF_GLOBAL_CTRL },
	{ HOST_IA32_PERF_GLOBAL_CTRL, &suite.caps.exit, LOAD_PERF_GLOBAL_CTRL },
	{ GUEST_IA32_BNDCFGS, &suite.caps.entry, LOAD_BNDCFGS },
};

static void check_advertised_fields(void)
{
	unsigned int needed = 0;
	uint64_t v;

	for (size_t i = 0; i < ARRAY_SIZE(field_needs); i++) {
		const struct field_need *n = &field_needs[i];

		if (!vmx_ctl_allows(n->ctl, n->bit))
			continue;
		needed++;
		if (vmread(n->field, &v) != VMX_SUCCEED) {
			report("vmrw.advertised_fields", VERDICT_FAIL,
			       "%s is unsupported although its control may be 1",
			       vmcs_field_name(n->field));
			return;
		}
	}
	report("vmrw.advertised_fields", VERDICT_PASS,
	       "all %u fields of advertised controls are supported", needed);
}

/* --- widths, operands and persistence ------------------------------------- */

static void check_widths(void)
{
	const uint64_t full = 0x1122334455667788ULL;
	uint64_t v = 0, hi = 0;

	/* SDM Vol. 3C 30.3 VMREAD/VMWRITE: a shorter field ignores the high bits of the source. */
	vmwrite(GUEST_ES_SELECTOR, full);
	vmread(GUEST_ES_SELECTOR, &v);
	check("vmrw.width16_truncates", v == (full & 0xffff), "wrote %#lx to GUEST_ES_SELECTOR, read %#lx",
	      full, v);
	vmwrite(EXCEPTION_BITMAP, full);
	vmread(EXCEPTION_BITMAP, &v);
	check("vmrw.width32_truncates", v == (full & 0xffffffff), "wrote %#lx to EXCEPTION_BITMAP, read %#lx",
	      full, v);

	/* HIGH access of a 64-bit field (VMCS_LINK_POINTER exists everywhere). */
	vmwrite(VMCS_LINK_POINTER, full);
	vmread(VMCS_FIELD_HIGH(VMCS_LINK_POINTER), &hi);
	check("vmrw.high_read", hi == full >> 32, "VMCS_LINK_POINTER %#lx: HIGH reads %#lx", full, hi);
	vmwrite(VMCS_FIELD_HIGH(VMCS_LINK_POINTER), 0xaabbccddULL);
	vmread(VMCS_LINK_POINTER, &v);
	check("vmrw.high_write", v == 0xaabbccdd55667788ULL,
	      "HIGH write of 0xaabbccdd to %#lx: full field %#lx", full, v);
	vmwrite(VMCS_LINK_POINTER, VMCS_NONE);
}

static void check_operands_and_persistence(void)
{
	const uint64_t rsp_a = 0x5a5a5a5a00001000ULL, rsp_b = 0xa5a5a5a500002000ULL;
	uint64_t src = 0x0123456789abcdefULL, dst = 0, v = 0, va = 0, vb = 0;
	enum vmx_result rw, rr;

	/* Memory operands: the forms an emulator must decode besides registers. */
	rw = vmwrite_from_memory(GUEST_RSP, &src);
	rr = vmread_to_memory(GUEST_RSP, &dst);
	check("vmrw.memory_operands", rw == VMX_SUCCEED && rr == VMX_SUCCEED && dst == src,
	      "VMWRITE from memory %u, VMREAD to memory %u: %#lx", rw, rr, dst);

	/* SDM Vol. 3C 24.11.1: VMCLEAR writes the data back; VMPTRLD finds it again. */
	vmwrite(GUEST_RSP, rsp_a);
	vmclear(PA(vmcs_scratch));
	vmptrld(PA(vmcs_scratch));
	vmread(GUEST_RSP, &v);
	check("vmrw.persist_across_vmclear", v == rsp_a, "GUEST_RSP %#lx after VMCLEAR/VMPTRLD, wrote %#lx",
	      v, rsp_a);

	/* Two VMCSs keep their own data. */
	vmclear(PA(vmcs_b));
	vmptrld(PA(vmcs_b));
	vmwrite(GUEST_RSP, rsp_b);
	vmptrld(PA(vmcs_scratch));
	vmread(GUEST_RSP, &va);
	vmptrld(PA(vmcs_b));
	vmread(GUEST_RSP, &vb);
	check("vmrw.per_vmcs", va == rsp_a && vb == rsp_b, "GUEST_RSP %#lx in one VMCS, %#lx in the other",
	      va, vb);
	vmclear(PA(vmcs_b));
}

void check_vmrw(void)
{
	uint64_t v;

	/* No current VMCS (vmclear left none): VMfailInvalid. */
	expect_outcome("vmrw.vmread_no_current_vmcs", outcome_of(vmread(GUEST_RIP, &v)),
		       VMX_FAIL_INVALID, 0, "VMREAD without a current VMCS");
	expect_outcome("vmrw.vmwrite_no_current_vmcs", outcome_of(vmwrite(GUEST_RIP, 0)),
		       VMX_FAIL_INVALID, 0, "VMWRITE without a current VMCS");

	if (vmclear(PA(vmcs_scratch)) != VMX_SUCCEED || vmptrld(PA(vmcs_scratch)) != VMX_SUCCEED) {
		report("vmrw.setup", VERDICT_FAIL, "VMCLEAR/VMPTRLD of the scratch VMCS failed");
		return;
	}
	check_failures();
	check_all_fields();
	check_advertised_fields();
	check_widths();
	check_operands_and_persistence();
	vmclear(PA(vmcs_scratch));
}
