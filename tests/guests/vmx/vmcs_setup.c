/* SPDX-License-Identifier: BSD-2-Clause */
/* Capabilities, VMX regions, controls and a VMCS that runs L2 as a copy of L1. */
#include "arch/x86/cpu.h"
#include "arch/x86/vmx_controls.h"
#include "core/format.h"
#include "core/string.h"
#include "tests/guests/lib/report.h"
#include "tests/guests/vmx/suite.h"

#define CPUID_EXT_ADDR_SIZES 0x80000008u
/* SDM Vol. 3A 4.1.4: without leaf 0x80000008 the physical-address width is 36. */
#define DEFAULT_PHYS_BITS 36

/* Segment access rights in the VMCS format (SDM Vol. 3C 24.4.1, Table 24-2). */
#define AR_ACCESSED BIT(0)
#define AR_S BIT(4)
#define AR_G BIT(15)
#define AR_UNUSABLE BIT(16)

/* Guest ES..TR and host ES..TR fields are spaced by 2 in this order (SDM Vol. 3C B.1-B.4). */
enum seg_index { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_LDTR, SEG_TR, SEG_COUNT };
#define HOST_SEG_COUNT 7 /* ES..GS, then TR at the LDTR slot */

/* DR7's value after reset (SDM Vol. 3B 17.2.4); bit 10 reads as 1. */
#define DR7_INIT 0x400
#define RFLAGS_FIXED BIT(1)

struct vmx_region vmxon_region, vmcs_a, vmcs_b, vmcs_scratch, vmcs_bad_revision;
uint8_t l2_stack[L2_STACK_SIZE] __aligned(16);
struct suite suite;

struct dtr {
	uint16_t limit;
	uint64_t base;
} __packed;

struct seg {
	uint16_t sel;
	uint32_t limit, ar;
	uint64_t base;
};

/* --- outcomes ------------------------------------------------------------ */

uint64_t vmcs_get(uint32_t field)
{
	uint64_t v = 0;

	if (vmread(field, &v) != VMX_SUCCEED)
		return 0;
	return v;
}

struct outcome outcome_of(enum vmx_result r)
{
	struct outcome o = { r, 0 };

	if (r == VMX_FAIL_VALID)
		o.err = (uint32_t)vmcs_get(VM_INSTRUCTION_ERROR);
	return o;
}

const char *outcome_str(struct outcome o, char *buf, size_t len)
{
	switch (o.result) {
	case VMX_SUCCEED:
		fmt_snprintf(buf, len, "VMsucceed");
		break;
	case VMX_FAIL_INVALID:
		fmt_snprintf(buf, len, "VMfailInvalid");
		break;
	default:
		fmt_snprintf(buf, len, "VMfailValid(%u)", o.err);
		break;
	}
	return buf;
}

bool expect_outcome(const char *name, struct outcome o, enum vmx_result want, uint32_t want_err,
		    const char *what)
{
	struct outcome w = { want, want_err };
	char got_s[24], want_s[24];
	bool ok = o.result == want && (want != VMX_FAIL_VALID || o.err == want_err);

	return check(name, ok, "%s: %s, expected %s", what, outcome_str(o, got_s, sizeof(got_s)),
		     outcome_str(w, want_s, sizeof(want_s)));
}

/* --- capabilities and controls ------------------------------------------- */

static bool ctl_consistent(const struct vmx_ctl *c)
{
	return (c->must_be_one & ~c->may_be_one) == 0;
}

/*
 * The default1 class of each control word (SDM Vol. 3C A.2): the plain MSR
 * reports them all must-be-one; its TRUE variant may clear those, and only those.
 */
#define DEFAULT1_PIN 0x00000016u
#define DEFAULT1_PROC 0x0401e172u
#define DEFAULT1_EXIT 0x00036dffu
#define DEFAULT1_ENTRY 0x000011ffu

static bool true_ctl_ok(uint32_t plain_msr, const struct vmx_ctl *t, uint32_t default1)
{
	uint32_t plain_must = (uint32_t)rdmsr(plain_msr);

	return (plain_must & default1) == default1 && (t->must_be_one & ~plain_must) == 0 &&
	       ((plain_must & ~t->must_be_one) & ~default1) == 0;
}

static void report_caps(void)
{
	const struct vmx_caps *c = &suite.caps;
	bool ok = ctl_consistent(&c->pin) && ctl_consistent(&c->proc) && ctl_consistent(&c->exit) &&
		  ctl_consistent(&c->entry) &&
		  (!(c->proc.may_be_one & SECONDARY_CONTROLS) || ctl_consistent(&c->proc2));

	info("vmx: IA32_VMX_BASIC %#lx (revision %#x), MISC %#lx, VMCS_ENUM %#lx", c->basic,
	     suite.revision, c->misc, c->vmcs_enum);
	info("vmx: pin %#x/%#x proc %#x/%#x proc2 %#x/%#x exit %#x/%#x entry %#x/%#x%s",
	     c->pin.must_be_one, c->pin.may_be_one, c->proc.must_be_one, c->proc.may_be_one,
	     c->proc2.must_be_one, c->proc2.may_be_one, c->exit.must_be_one, c->exit.may_be_one,
	     c->entry.must_be_one, c->entry.may_be_one,
	     (c->basic & VMX_BASIC_TRUE_CTLS) ? " (TRUE)" : "");
	info("vmx: CR0 fixed %#lx/%#lx, CR4 fixed %#lx/%#lx, %u physical-address bits",
	     c->cr0_fixed0, c->cr0_fixed1, c->cr4_fixed0, c->cr4_fixed1, suite.phys_bits);

	check("caps.vmcs_region_size",
	      VMX_BASIC_VMCS_SIZE(c->basic) > 0 && VMX_BASIC_VMCS_SIZE(c->basic) <= PAGE_SIZE,
	      "%lu bytes", VMX_BASIC_VMCS_SIZE(c->basic));
	check("caps.controls_consistent", ok,
	      "no control is both must-be-one and must-be-zero (SDM Vol. 3C A.3-A.5)");
	check("caps.cr_fixed_consistent",
	      (c->cr0_fixed0 & ~c->cr0_fixed1) == 0 && (c->cr4_fixed0 & ~c->cr4_fixed1) == 0 &&
		      (c->cr4_fixed0 & CR4_VMXE),
	      "FIXED0 within FIXED1, CR4.VMXE fixed to 1");
	if (!(c->basic & VMX_BASIC_TRUE_CTLS)) {
		report("caps.true_controls", VERDICT_SKIP, "TRUE control MSRs not advertised");
		return;
	}
	check("caps.true_controls",
	      true_ctl_ok(MSR_IA32_VMX_PINBASED_CTLS, &c->pin, DEFAULT1_PIN) &&
		      true_ctl_ok(MSR_IA32_VMX_PROCBASED_CTLS, &c->proc, DEFAULT1_PROC) &&
		      true_ctl_ok(MSR_IA32_VMX_EXIT_CTLS, &c->exit, DEFAULT1_EXIT) &&
		      true_ctl_ok(MSR_IA32_VMX_ENTRY_CTLS, &c->entry, DEFAULT1_ENTRY),
	      "plain MSRs force the default1 class, TRUE MSRs relax only those bits (SDM Vol. 3C A.2)");
}

static void write_revision(struct vmx_region *r, uint32_t revision)
{
	memcpy(r->bytes, &revision, sizeof(revision));
}

/* The capability MSRs through umbra's own probe (the same code reads the real MSRs in umbra). */
static bool caps_read(struct vmx_caps *c)
{
	enum vmx_probe_result r = vmx_probe(c);

	return check("caps.vmx_enabled", r == VMX_PROBE_OK, "CPUID.1:ECX %#x, IA32_FEATURE_CONTROL %#lx: %s",
		     cpuid(1, 0).ecx, rdmsr(MSR_IA32_FEATURE_CONTROL), vmx_probe_result_message(r));
}

bool suite_init(void)
{
	const struct vmx_caps *c = &suite.caps;
	uint64_t cr4;

	if (!caps_read(&suite.caps))
		return false;
	suite.revision = VMX_BASIC_REVISION(c->basic);
	suite.phys_bits = DEFAULT_PHYS_BITS;
	if (cpuid(0x80000000u, 0).eax >= CPUID_EXT_ADDR_SIZES)
		suite.phys_bits = cpuid(CPUID_EXT_ADDR_SIZES, 0).eax & 0xff;
	/* SDM Vol. 3C A.1: bit 48 limits VMX region addresses to 32 bits. */
	if (c->basic & VMX_BASIC_PHYS_32BIT)
		suite.phys_bits = 32;
	suite.beyond_phys = 1ULL << suite.phys_bits;
	report_caps();

	/* SDM Vol. 3C 23.8: CR0 and CR4 as the FIXED MSRs want, except VMXE (check_vmxon's). */
	write_cr0((read_cr0() | c->cr0_fixed0) & c->cr0_fixed1);
	cr4 = (read_cr4() | (c->cr4_fixed0 & ~CR4_VMXE)) & c->cr4_fixed1;
	write_cr4(cr4 & ~CR4_VMXE);

	write_revision(&vmxon_region, suite.revision);
	write_revision(&vmcs_a, suite.revision);
	write_revision(&vmcs_b, suite.revision);
	write_revision(&vmcs_scratch, suite.revision);
	write_revision(&vmcs_bad_revision, (suite.revision + 1) & 0x7fffffffu);
	return true;
}

static uint32_t negotiate(const struct vmx_ctl *cap, uint32_t want)
{
	uint32_t out, missing;

	vmx_ctl_negotiate(cap, 0, want, &out, &missing);
	return out;
}

uint32_t ctl_pin(uint32_t want)
{
	return negotiate(&suite.caps.pin, want);
}

uint32_t ctl_proc(uint32_t want)
{
	return negotiate(&suite.caps.proc, want);
}

uint32_t ctl_proc2(uint32_t want)
{
	return negotiate(&suite.caps.proc2, want);
}

uint32_t ctl_exit(uint32_t want)
{
	return negotiate(&suite.caps.exit, want);
}

uint32_t ctl_entry(uint32_t want)
{
	return negotiate(&suite.caps.entry, want);
}

bool proc_allows(uint32_t want)
{
	return vmx_ctl_allows(&suite.caps.proc, want);
}

bool proc2_allows(uint32_t want)
{
	return proc_allows(SECONDARY_CONTROLS) && vmx_ctl_allows(&suite.caps.proc2, want);
}

/* --- L1's own state, copied into the VMCS -------------------------------- */

#define READ_SEL(reg)                                                     \
	({                                                                \
		uint16_t s_;                                              \
		__asm__ volatile("mov %%" #reg ", %0" : "=rm"(s_));       \
		s_;                                                       \
	})

static uint16_t read_tr(void)
{
	uint16_t s;

	__asm__ volatile("str %0" : "=rm"(s));
	return s;
}

static uint16_t read_ldtr(void)
{
	uint16_t s;

	__asm__ volatile("sldt %0" : "=rm"(s));
	return s;
}

static struct dtr read_gdtr(void)
{
	struct dtr d;

	__asm__ volatile("sgdt %0" : "=m"(d));
	return d;
}

static struct dtr read_idtr(void)
{
	struct dtr d;

	__asm__ volatile("sidt %0" : "=m"(d));
	return d;
}

/* A segment as the descriptor cache holds it after loading sel (SDM Vol. 3A 3.4.5). */
static struct seg seg_from_gdt(const struct dtr *gdt, uint16_t sel)
{
	struct seg s = { .sel = sel, .ar = AR_UNUSABLE };
	const uint64_t *d;

	if ((sel & ~7u) == 0 || (sel | 7u) > gdt->limit)
		return s; /* a null selector: unusable */
	d = (const uint64_t *)(gdt->base + (sel & ~7u));
	s.base = ((d[0] >> 16) & 0xffffff) | (((d[0] >> 56) & 0xff) << 24);
	s.limit = (uint32_t)((d[0] & 0xffff) | (((d[0] >> 48) & 0xf) << 16));
	s.ar = (uint32_t)(((d[0] >> 40) & 0xff) | (((d[0] >> 52) & 0xf) << 12));
	if (s.ar & AR_G)
		s.limit = (s.limit << 12) | 0xfff;
	if (s.ar & AR_S)
		s.ar |= AR_ACCESSED; /* set in the descriptor by the load itself */
	else
		s.base |= (d[1] & 0xffffffffULL) << 32; /* 16-byte system descriptor */
	return s;
}

static uint32_t failed_field;
uint32_t vmcs_setup_writes;

static void w(uint32_t field, uint64_t v)
{
	vmcs_setup_writes++;
	if (vmwrite(field, v) != VMX_SUCCEED && !failed_field)
		failed_field = field;
}

static void write_guest_state(const void *rip, uint64_t rsp)
{
	struct dtr gdt = read_gdtr(), idt = read_idtr();
	uint16_t sels[SEG_COUNT] = {
		READ_SEL(es), READ_SEL(cs), READ_SEL(ss), READ_SEL(ds),
		READ_SEL(fs), READ_SEL(gs), read_ldtr(),  read_tr(),
	};

	for (unsigned int i = 0; i < SEG_COUNT; i++) {
		struct seg s = seg_from_gdt(&gdt, sels[i]);

		if (i == SEG_FS)
			s.base = rdmsr(MSR_FS_BASE); /* 64-bit mode: the MSRs hold FS/GS bases */
		else if (i == SEG_GS)
			s.base = rdmsr(MSR_GS_BASE);
		w(GUEST_ES_SELECTOR + 2 * i, s.sel);
		w(GUEST_ES_LIMIT + 2 * i, s.limit);
		w(GUEST_ES_AR_BYTES + 2 * i, s.ar);
		w(GUEST_ES_BASE + 2 * i, s.base);
	}
	w(GUEST_GDTR_BASE, gdt.base);
	w(GUEST_GDTR_LIMIT, gdt.limit);
	w(GUEST_IDTR_BASE, idt.base);
	w(GUEST_IDTR_LIMIT, idt.limit);
	w(GUEST_CR0, read_cr0());
	w(GUEST_CR3, read_cr3());
	w(GUEST_CR4, read_cr4());
	w(GUEST_DR7, DR7_INIT);
	w(GUEST_RSP, rsp);
	w(GUEST_RIP, (uint64_t)rip);
	w(GUEST_RFLAGS, RFLAGS_FIXED); /* IF=0: nothing may interrupt L2 */
	w(GUEST_IA32_DEBUGCTL, 0);
	w(GUEST_SYSENTER_CS, 0);
	w(GUEST_SYSENTER_ESP, 0);
	w(GUEST_SYSENTER_EIP, 0);
	w(GUEST_ACTIVITY_STATE, 0);
	w(GUEST_INTERRUPTIBILITY_INFO, 0);
	w(GUEST_PENDING_DBG_EXCEPTIONS, 0);
	w(VMCS_LINK_POINTER, VMCS_NONE); /* SDM Vol. 3C 26.3.1.5: no shadow VMCS */
}

static void write_host_state(void)
{
	struct dtr gdt = read_gdtr(), idt = read_idtr();
	uint16_t sels[HOST_SEG_COUNT] = {
		READ_SEL(es), READ_SEL(cs), READ_SEL(ss), READ_SEL(ds), READ_SEL(fs), READ_SEL(gs),
		read_tr(),
	};

	for (unsigned int i = 0; i < HOST_SEG_COUNT; i++)
		w(HOST_ES_SELECTOR + 2 * i, sels[i]);
	w(HOST_CR0, read_cr0());
	w(HOST_CR3, read_cr3());
	w(HOST_CR4, read_cr4());
	w(HOST_FS_BASE, rdmsr(MSR_FS_BASE));
	w(HOST_GS_BASE, rdmsr(MSR_GS_BASE));
	w(HOST_TR_BASE, seg_from_gdt(&gdt, read_tr()).base);
	w(HOST_GDTR_BASE, gdt.base);
	w(HOST_IDTR_BASE, idt.base);
	w(HOST_IA32_SYSENTER_CS, 0);
	w(HOST_IA32_SYSENTER_ESP, 0);
	w(HOST_IA32_SYSENTER_EIP, 0);
	/* HOST_RSP and HOST_RIP: vm_enter() writes them before every entry. */
}

static void write_controls(void)
{
	uint32_t proc = ctl_proc(0);

	w(PIN_BASED_VM_EXEC_CONTROL, ctl_pin(0));
	w(CPU_BASED_VM_EXEC_CONTROL, proc);
	if (proc & SECONDARY_CONTROLS)
		w(SECONDARY_VM_EXEC_CONTROL, suite.caps.proc2.must_be_one);
	w(VM_EXIT_CONTROLS, ctl_exit(HOST_ADDR_SPACE_SIZE));
	w(VM_ENTRY_CONTROLS, ctl_entry(IA32E_MODE_GUEST));
	/* Every exception exits: an unexpected fault in L2 becomes a failed check, not a hang. */
	w(EXCEPTION_BITMAP, 0xffffffffu);
	w(PAGE_FAULT_ERROR_CODE_MASK, 0);
	w(PAGE_FAULT_ERROR_CODE_MATCH, 0);
	w(CR3_TARGET_COUNT, 0);
	w(CR0_GUEST_HOST_MASK, 0);
	w(CR4_GUEST_HOST_MASK, 0);
	w(CR0_READ_SHADOW, read_cr0());
	w(CR4_READ_SHADOW, read_cr4());
	w(VM_EXIT_MSR_STORE_COUNT, 0);
	w(VM_EXIT_MSR_LOAD_COUNT, 0);
	w(VM_ENTRY_MSR_LOAD_COUNT, 0);
	w(VM_ENTRY_INTR_INFO, 0);
	w(TSC_OFFSET, 0);
}

uint32_t vmcs_prepare(struct vmx_region *region, const void *rip, uint64_t rsp)
{
	/*
	 * SDM Vol. 3C 24.11.3: revision identifier, VMCLEAR, VMPTRLD, then a
	 * VMWRITE for every field used. The region's data is zeroed in
	 * between (after the first VMCLEAR, so that the CPU holds none of it)
	 * so that fields nobody writes do not keep values of an earlier test.
	 */
	if (vmclear(PA(*region)) != VMX_SUCCEED)
		return ~0u;
	memset(region->bytes + sizeof(uint32_t), 0, sizeof(region->bytes) - sizeof(uint32_t));
	if (vmclear(PA(*region)) != VMX_SUCCEED || vmptrld(PA(*region)) != VMX_SUCCEED)
		return ~0u;
	failed_field = 0;
	write_controls();
	write_guest_state(rip, rsp);
	write_host_state();
	return failed_field;
}

void exit_info_read(struct exit_info *e)
{
	e->reason = (uint32_t)vmcs_get(VM_EXIT_REASON);
	e->qualification = vmcs_get(EXIT_QUALIFICATION);
	e->intr_info = (uint32_t)vmcs_get(VM_EXIT_INTR_INFO);
	e->idt_vectoring = (uint32_t)vmcs_get(IDT_VECTORING_INFO);
	e->len = (uint32_t)vmcs_get(VM_EXIT_INSTRUCTION_LEN);
	e->rip = vmcs_get(GUEST_RIP);
	e->gpa = vmcs_get(GUEST_PHYSICAL_ADDRESS); /* 0 where the field does not exist (no EPT) */
	e->gla = vmcs_get(GUEST_LINEAR_ADDRESS);
}

const char *entry_str(enum vm_entry_result res, char *buf, size_t len)
{
	switch (res) {
	case VM_ENTRY_EXITED:
		fmt_snprintf(buf, len, "VM exit (reason %#lx)", vmcs_get(VM_EXIT_REASON));
		break;
	case VM_ENTRY_FAIL_INVALID:
		fmt_snprintf(buf, len, "VMfailInvalid");
		break;
	case VM_ENTRY_FAIL_VALID:
		fmt_snprintf(buf, len, "VMfailValid(%lu)", vmcs_get(VM_INSTRUCTION_ERROR));
		break;
	default:
		fmt_snprintf(buf, len, "neither CF nor ZF");
		break;
	}
	return buf;
}

bool expect_entry(const char *name, enum vm_entry_result res, enum vm_entry_result want,
		  uint32_t want_val, const void *rip, const char *what)
{
	char got[40];
	bool ok = res == want;
	uint64_t guest_rip = 0;

	if (ok && want == VM_ENTRY_EXITED) {
		guest_rip = vmcs_get(GUEST_RIP);
		ok = vmcs_get(VM_EXIT_REASON) == want_val && (!rip || guest_rip == (uint64_t)rip);
	} else if (ok && want == VM_ENTRY_FAIL_VALID) {
		ok = vmcs_get(VM_INSTRUCTION_ERROR) == want_val;
	}
	entry_str(res, got, sizeof(got));
	switch (want) {
	case VM_ENTRY_EXITED:
		return check(name, ok, "%s: %s at GUEST_RIP %#lx, expected reason %#x at %#lx", what,
			     got, guest_rip, want_val, (uint64_t)rip);
	case VM_ENTRY_FAIL_VALID:
		return check(name, ok, "%s: %s, expected VMfailValid(%u)", what, got, want_val);
	default:
		return check(name, ok, "%s: %s, expected VMfailInvalid", what, got);
	}
}
