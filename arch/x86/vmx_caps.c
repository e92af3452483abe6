/* SPDX-License-Identifier: BSD-2-Clause */
/* Probe and report VMX capabilities (SDM Vol. 3C Appendix A). */
#include "arch/x86/vmx_caps.h"
#include "arch/x86/cpu.h"
#include "arch/x86/mtrr.h"
#include "arch/x86/vmx_controls.h"
#include "core/format.h"
#include "core/log.h"
#include "core/string.h"

#define VMX_NAME_ENTRY(name, bit, desc) { bit, desc },
const struct vmx_bit_name vmx_pin_names[] = { VMX_PIN_CONTROLS(VMX_NAME_ENTRY) };
const struct vmx_bit_name vmx_proc_names[] = { VMX_PROC_CONTROLS(VMX_NAME_ENTRY) };
const struct vmx_bit_name vmx_proc2_names[] = { VMX_PROC2_CONTROLS(VMX_NAME_ENTRY) };
const struct vmx_bit_name vmx_exit_names[] = { VMX_EXIT_CONTROLS(VMX_NAME_ENTRY) };
const struct vmx_bit_name vmx_entry_names[] = { VMX_ENTRY_CONTROLS(VMX_NAME_ENTRY) };
#undef VMX_NAME_ENTRY
const size_t vmx_pin_names_count = ARRAY_SIZE(vmx_pin_names);
const size_t vmx_proc_names_count = ARRAY_SIZE(vmx_proc_names);
const size_t vmx_proc2_names_count = ARRAY_SIZE(vmx_proc2_names);
const size_t vmx_exit_names_count = ARRAY_SIZE(vmx_exit_names);
const size_t vmx_entry_names_count = ARRAY_SIZE(vmx_entry_names);

static struct vmx_ctl read_ctl(uint32_t msr)
{
	uint64_t v = rdmsr(msr);

	return (struct vmx_ctl){ .must_be_one = (uint32_t)v, .may_be_one = (uint32_t)(v >> 32) };
}

enum vmx_probe_result vmx_probe(struct vmx_caps *caps)
{
	bool true_ctls;
	uint64_t fc;

	memset(caps, 0, sizeof(*caps));
	if (!(cpuid(1, 0).ecx & CPUID_1_ECX_VMX))
		return VMX_PROBE_NO_VMX;

	fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
	if (!(fc & FEATURE_CONTROL_LOCKED)) {
		wrmsr(MSR_IA32_FEATURE_CONTROL,
		      fc | FEATURE_CONTROL_LOCKED | FEATURE_CONTROL_VMX_OUTSIDE_SMX);
		fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
		if (!(fc & FEATURE_CONTROL_LOCKED) || !(fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX))
			return VMX_PROBE_LOCK_FAILED;
	}
	caps->feature_control = fc;
	if (!(fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX))
		return VMX_PROBE_DISABLED_BY_FIRMWARE;

	caps->basic = rdmsr(MSR_IA32_VMX_BASIC);
	true_ctls = caps->basic & VMX_BASIC_TRUE_CTLS;
	caps->pin = read_ctl(true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS : MSR_IA32_VMX_PINBASED_CTLS);
	caps->proc = read_ctl(true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS);
	caps->exit = read_ctl(true_ctls ? MSR_IA32_VMX_TRUE_EXIT_CTLS : MSR_IA32_VMX_EXIT_CTLS);
	caps->entry = read_ctl(true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS);
	caps->misc = rdmsr(MSR_IA32_VMX_MISC);
	caps->cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
	caps->cr0_fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	caps->cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
	caps->cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);
	caps->vmcs_enum = rdmsr(MSR_IA32_VMX_VMCS_ENUM);

	/* SDM Vol. 3C A.3.3: the secondary MSR exists only if its activation bit may be 1. */
	if (vmx_ctl_allows(&caps->proc, SECONDARY_CONTROLS)) {
		caps->proc2 = read_ctl(MSR_IA32_VMX_PROCBASED_CTLS2);
		/* A.10: the EPT/VPID MSR exists if either can be enabled. */
		if (caps->proc2.may_be_one & (ENABLE_EPT | ENABLE_VPID))
			caps->ept_vpid = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
		/* A.11: the VMFUNC MSR exists if VM functions can be enabled. */
		if (vmx_ctl_allows(&caps->proc2, ENABLE_VMFUNC))
			caps->vmfunc = rdmsr(MSR_IA32_VMX_VMFUNC);
	}
	return VMX_PROBE_OK;
}

const char *vmx_probe_result_message(enum vmx_probe_result r)
{
	switch (r) {
	case VMX_PROBE_OK:
		return "VMX available";
	case VMX_PROBE_NO_VMX:
		return "CPU has no VMX (Intel VT-x): cannot run an L1 hypervisor";
	case VMX_PROBE_DISABLED_BY_FIRMWARE:
		return "VMX is disabled by firmware (IA32_FEATURE_CONTROL locked with VMX off): "
		       "enable Intel VT-x in the firmware setup";
	case VMX_PROBE_LOCK_FAILED:
		return "could not enable VMX in IA32_FEATURE_CONTROL";
	}
	return "unknown VMX probe result";
}

bool vmx_caps_equal(const struct vmx_caps *a, const struct vmx_caps *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

bool vmx_caps_has_shadowing(const struct vmx_caps *caps)
{
	return vmx_ctl_allows(&caps->proc2, VMCS_SHADOWING);
}

/* "name, name, ..." for the bits of mask that the table names, in a bounded buffer. */
static void list_bits(const char *who, const char *title, const struct vmx_bit_name *names, size_t count,
		      uint32_t mask)
{
	char line[240];
	int len = fmt_snprintf(line, sizeof(line), "%s: %s:", who, title);
	bool any = false;

	for (size_t i = 0; i < count; i++) {
		const char *name = names[i].name;
		int n;

		if (!(mask & BIT(names[i].bit)))
			continue;
		n = (int)strlen(name) + 2;
		if (len + n >= (int)sizeof(line) - 1) {
			log_info("%s", line);
			len = fmt_snprintf(line, sizeof(line), "%s:   ", who);
		}
		len += fmt_snprintf(line + len, sizeof(line) - len, "%s %s", any ? "," : "", name);
		any = true;
	}
	if (!any)
		len += fmt_snprintf(line + len, sizeof(line) - len, " (none)");
	log_info("%s", line);
}

static const char *yes_no(bool b)
{
	return b ? "yes" : "no";
}

void vmx_caps_report_as(const char *who, const struct vmx_caps *c)
{
	uint64_t ev = c->ept_vpid;

	log_info("%s: IA32_FEATURE_CONTROL %#lx (locked, VMX outside SMX enabled)", who, c->feature_control);
	log_info("%s: basic %#lx: VMCS revision %#x, region %lu bytes, memory type %s, "
		 "INS/OUTS info %s, TRUE controls %s", who,
		 c->basic, VMX_BASIC_REVISION(c->basic), VMX_BASIC_VMCS_SIZE(c->basic),
		 mem_type_name((uint8_t)VMX_BASIC_MEM_TYPE(c->basic)),
		 yes_no(c->basic & VMX_BASIC_INS_OUTS_INFO), yes_no(c->basic & VMX_BASIC_TRUE_CTLS));
	log_info("%s: pin-based %08x:%08x, proc-based %08x:%08x, secondary %08x:%08x", who,
		 c->pin.may_be_one, c->pin.must_be_one, c->proc.may_be_one, c->proc.must_be_one,
		 c->proc2.may_be_one, c->proc2.must_be_one);
	log_info("%s: exit %08x:%08x, entry %08x:%08x", who, c->exit.may_be_one, c->exit.must_be_one,
		 c->entry.may_be_one, c->entry.must_be_one);
	list_bits(who, "pin-based", vmx_pin_names, vmx_pin_names_count, c->pin.may_be_one);
	list_bits(who, "proc-based", vmx_proc_names, vmx_proc_names_count, c->proc.may_be_one);
	list_bits(who, "secondary", vmx_proc2_names, vmx_proc2_names_count, c->proc2.may_be_one);
	list_bits(who, "exit", vmx_exit_names, vmx_exit_names_count, c->exit.may_be_one);
	list_bits(who, "entry", vmx_entry_names, vmx_entry_names_count, c->entry.may_be_one);
	log_info("%s: misc %#lx: preemption timer shift %lu, activity HLT %s shutdown %s "
		 "wait-for-SIPI %s, %lu CR3 targets, MSR lists up to %lu", who,
		 c->misc, VMX_MISC_PREEMPT_SHIFT(c->misc), yes_no(c->misc & VMX_MISC_ACTIVITY_HLT),
		 yes_no(c->misc & VMX_MISC_ACTIVITY_SHUTDOWN),
		 yes_no(c->misc & VMX_MISC_ACTIVITY_WAIT_SIPI), VMX_MISC_CR3_TARGETS(c->misc),
		 VMX_MISC_MAX_MSR_LIST(c->misc));
	log_info("%s: CR0 fixed0 %#lx fixed1 %#lx, CR4 fixed0 %#lx fixed1 %#lx", who, c->cr0_fixed0,
		 c->cr0_fixed1, c->cr4_fixed0, c->cr4_fixed1);
	log_info("%s: VMCS enum %#lx (highest field index %lu)", who, c->vmcs_enum, (c->vmcs_enum >> 1) & 0x1ff);
	if (ev)
		log_info("%s: EPT/VPID %#lx: 4-level %s, 5-level %s, WB %s, UC %s, 2M %s, 1G %s, "
			 "A/D %s, INVEPT single %s all %s, INVVPID %s", who,
			 ev, yes_no(ev & EPT_CAP_PWL4), yes_no(ev & EPT_CAP_PWL5), yes_no(ev & EPT_CAP_WB),
			 yes_no(ev & EPT_CAP_UC), yes_no(ev & EPT_CAP_2M), yes_no(ev & EPT_CAP_1G),
			 yes_no(ev & EPT_CAP_AD), yes_no(ev & EPT_CAP_INVEPT_SINGLE),
			 yes_no(ev & EPT_CAP_INVEPT_ALL), yes_no(ev & VPID_CAP_INVVPID));
	else
		log_info("%s: EPT/VPID: not available", who);
	log_info("%s: VM functions %#lx", who, c->vmfunc);
	/* The two capabilities VMCS shadowing depends on, stated on their own lines. */
	log_info("%s: VMCS shadowing: %s", who, yes_no(vmx_caps_has_shadowing(c)));
	log_info("%s: VMWRITE to any field: %s", who, yes_no(c->misc & VMX_MISC_VMWRITE_ANY_FIELD));
	log_info("%s: EPT %s, VPID %s, unrestricted guest %s", who,
		 yes_no(vmx_ctl_allows(&c->proc2, ENABLE_EPT)), yes_no(vmx_ctl_allows(&c->proc2, ENABLE_VPID)),
		 yes_no(vmx_ctl_allows(&c->proc2, UNRESTRICTED_GUEST)));
}

void vmx_caps_report(const struct vmx_caps *c)
{
	vmx_caps_report_as("vmx", c);
}
