/* SPDX-License-Identifier: BSD-2-Clause */
/* VM exits of the L1 guest: a table indexed by basic exit reason, and the handlers. */
#include "arch/x86/exit.h"
#include "arch/x86/cpu.h"
#include "arch/x86/event.h"
#include "arch/x86/guest_mem.h"
#include "arch/x86/idt.h"
#include "arch/x86/vapic.h"
#include "arch/x86/vmx_controls.h"
#include "core/format.h"
#include "core/hypercall.h"
#include "core/log.h"
#include "core/panic.h"
#include "core/percpu.h"
#include "core/shutdown.h"
#include "core/string.h"
#include "core/trace.h"
#include "core/version.h"

/* Interruption-information fields (SDM Vol. 3C 24.8.3, 24.9.2). */
#define INTR_INFO_VECTOR(i) ((i) & 0xff)
#define INTR_INFO_TYPE(i) (((i) >> 8) & 7)
#define INTR_INFO_ERROR_CODE BIT(11)
#define INTR_INFO_VALID BIT(31)
#define INTR_TYPE_EXT_INTR 0
#define INTR_TYPE_NMI 2
#define INTR_TYPE_HW_EXCEPTION 3

/* Guest interruptibility state (SDM Vol. 3C 24.4.2, Table 24-3). */
#define INTERRUPTIBILITY_STI BIT(0)
#define INTERRUPTIBILITY_MOV_SS BIT(1)
#define INTERRUPTIBILITY_SMI BIT(2)
#define INTERRUPTIBILITY_NMI BIT(3)

#define ACTIVITY_ACTIVE 0
#define ACTIVITY_HLT 1

#define VEC_UD 6
#define VEC_GP 13

/* Emulator exit ports (drivers/power.c) are umbra's so that a guest's exit ends the run cleanly. */
#define BOCHS_SHUTDOWN_PORT 0x8900
#define QEMU_DEBUG_EXIT_PORT 0xf4
const uint16_t exit_io_ports[] = { BOCHS_SHUTDOWN_PORT, QEMU_DEBUG_EXIT_PORT };
const size_t exit_io_port_count = ARRAY_SIZE(exit_io_ports);

#define RESUME EXIT_RESUME
#define SKIP_INSN EXIT_SKIP_INSN

const struct nested_ops *nested_ops;

typedef enum exit_action (*exit_handler_fn)(struct vcpu *v, uint64_t qualification);

/* ---- helpers ------------------------------------------------------------ */

void inject_exception(uint8_t vector, bool has_error, uint32_t error)
{
	vmcs_write32(VM_ENTRY_INTR_INFO, INTR_INFO_VALID | (INTR_TYPE_HW_EXCEPTION << 8) | vector |
						 (has_error ? INTR_INFO_ERROR_CODE : 0));
	if (has_error)
		vmcs_write32(VM_ENTRY_EXCEPTION_ERROR_CODE, error);
}

/*
 * The one place that completes an instruction: RIP moves past it and the
 * STI/MOV-SS interrupt shadow ends (SDM Vol. 3A 6.8.3).
 */
void exit_instruction_retired(void)
{
	uint32_t intr = vmcs_read32(GUEST_INTERRUPTIBILITY_INFO);

	if (intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS))
		vmcs_write32(GUEST_INTERRUPTIBILITY_INFO,
			     intr & ~(INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
	if ((vmcs_readnat(GUEST_RFLAGS) & RFLAGS_TF) && !(vmcs_read64(GUEST_IA32_DEBUGCTL) & DEBUGCTL_BTF))
		vmcs_writenat(GUEST_PENDING_DBG_EXCEPTIONS,
			      vmcs_readnat(GUEST_PENDING_DBG_EXCEPTIONS) | PENDING_DBG_BS);
}

void exit_skip_instruction(void)
{
	vmcs_writenat(GUEST_RIP, vmcs_readnat(GUEST_RIP) + vmcs_read32(VM_EXIT_INSTRUCTION_LEN));
	exit_instruction_retired();
}

static unsigned int guest_cpl(void)
{
	return (vmcs_read32(GUEST_SS_AR_BYTES) >> 5) & 3;
}

static void dump_guest(struct vcpu *v)
{
	log_err("  guest rip %#lx rsp %#lx rflags %#lx cs %#x", vmcs_readnat(GUEST_RIP),
		vmcs_readnat(GUEST_RSP), vmcs_readnat(GUEST_RFLAGS), vmcs_read16(GUEST_CS_SELECTOR));
	log_err("  guest cr0 %#lx cr3 %#lx cr4 %#lx efer %#lx", vmcs_readnat(GUEST_CR0),
		vmcs_readnat(GUEST_CR3), vmcs_readnat(GUEST_CR4), vmcs_read64(GUEST_IA32_EFER));
	log_err("  rax %#lx rbx %#lx rcx %#lx rdx %#lx", v->regs.rax, v->regs.rbx, v->regs.rcx,
		v->regs.rdx);
}

__noreturn void guest_stop(struct vcpu *v, const char *fmt, ...)
{
	char why[160];
	uint32_t reason = vmcs_read32(VM_EXIT_REASON);
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	log_err("guest stopped: %s", why);
	log_err("  exit reason %u (%s), qualification %#lx", EXIT_REASON_BASIC(reason),
		exit_reason_name(EXIT_REASON_BASIC(reason)), vmcs_readnat(EXIT_QUALIFICATION));
	dump_guest(v);
	shutdown(EXIT_FAILURE, "guest stopped");
}

/* ---- handlers ------------------------------------------------------------- */

static enum exit_action handle_unhandled(struct vcpu *v, uint64_t q __unused)
{
	guest_stop(v, "unexpected VM exit");
}

/*
 * NMI exiting is on so that umbra can always stop a CPU. umbra's own uses of
 * an NMI come first, whichever level ran and whatever L1 asked for: a panic
 * or a shutdown stops this CPU here, an INIT kick (vapic.c) only brought it
 * out of the guest. Only an NMI that is none of these is a guest's.
 */
bool exit_nmi_is_umbras(struct vcpu *v)
{
	if (panic_in_progress())
		panic_stop_this_cpu();
	if (shutdown_in_progress())
		shutdown_park();
	return vapic_take_kick(v);
}

/* A guest's NMI belongs to the level that ran when it arrived (the rule: exit_prepare_entry). */
static void nmi_for_guest(struct vcpu *v)
{
	bool l2s = v->in_l2 && !(nested_ops && nested_ops->l1_nmi_exiting(v));

	__atomic_fetch_add(l2s ? &v->nmi_pending_l2 : &v->nmi_pending_l1, 1, __ATOMIC_RELAXED);
}

void exit_nmi(struct vcpu *v)
{
	if (!exit_nmi_is_umbras(v))
		nmi_for_guest(v);
}

/*
 * SDM Vol. 3C 27.1: an NMI that causes a VM exit blocks further NMIs before
 * the exit commences, and only IRET lifts that blocking. umbra returns to
 * the guest with VMRESUME, never IRET, so without this the next NMI (a kick,
 * a stop request, the guest's next NMI) would never arrive. An IRET to the
 * next instruction; one pending NMI is then taken at once (nmi_in_root).
 */
static void nmi_unblock(void)
{
	uint64_t scratch;

	__asm__ volatile("mov %%ss, %k0\n\t"
			 "push %0\n\t"
			 "push %%rsp\n\t"
			 "addq $8, (%%rsp)\n\t"
			 "pushfq\n\t"
			 "mov %%cs, %k0\n\t"
			 "push %0\n\t"
			 "lea 1f(%%rip), %0\n\t"
			 "push %0\n\t"
			 "iretq\n"
			 "1:"
			 : "=&r"(scratch)
			 :
			 : "memory", "cc");
}

static enum exit_action handle_exception_nmi(struct vcpu *v, uint64_t q __unused)
{
	uint32_t info = vmcs_read32(VM_EXIT_INTR_INFO);

	if (INTR_INFO_TYPE(info) == INTR_TYPE_NMI) {
		nmi_unblock();
		exit_nmi(v);
		return RESUME;
	}
	guest_stop(v, "unexpected exception %u in the guest", INTR_INFO_VECTOR(info));
}

static enum exit_action handle_triple_fault(struct vcpu *v, uint64_t q __unused)
{
	guest_stop(v, "triple fault on CPU %u", v->index);
}

/*
 * SDM Vol. 3C 25.2: INIT in VMX non-root operation exits instead of
 * resetting. umbra delivers the guest's own INITs itself (vapic.h), so this
 * is an INIT from elsewhere (an IOAPIC or MSI programmed for INIT, another
 * agent). It is L1's INIT all the same and takes the same way as an emulated
 * one (vcpu_run, nested_ops->init_signal): held pending while L1 is in VMX
 * root operation ("INIT signals are blocked whenever a logical processor is
 * in VMX root operation", SDM Vol. 3C 24.8, 23.8 in older editions) until L1
 * enters L2 (an INIT-signal exit) or leaves VMX operation (VMXOFF: the
 * reset); a reset of the vCPU only when L1 is not in VMX operation. An INIT
 * exit from L2 never comes here: nested/ reflects it to L1.
 */
static enum exit_action handle_init(struct vcpu *v, uint64_t q __unused)
{
	__atomic_store_n(&v->init_pending, true, __ATOMIC_RELEASE);
	return RESUME;
}

static enum exit_action handle_nmi_window(struct vcpu *v __unused, uint64_t q __unused)
{
	vmcs_write32(CPU_BASED_VM_EXEC_CONTROL,
		     vmcs_read32(CPU_BASED_VM_EXEC_CONTROL) & ~NMI_WINDOW_EXITING);
	return RESUME;
}

/* CPUID: the CPU's answer, plus VMX and umbra's own leaves. */
static enum exit_action handle_cpuid(struct vcpu *v, uint64_t q __unused)
{
	uint32_t leaf = (uint32_t)v->regs.rax, sub = (uint32_t)v->regs.rcx;
	struct cpuid_regs r = cpuid(leaf, sub);

	/*
	 * OSXSAVE and OSPKE mirror the CR4 of whoever executes CPUID: the CPU's
	 * answer here is umbra's CR4 (which has OSXSAVE for XSETBV), not the
	 * guest's (SDM Vol. 2A, CPUID, leaves 1 and 7).
	 */
	if (leaf == 1) {
		r.ecx |= CPUID_1_ECX_VMX | CPUID_1_ECX_HYPERVISOR;
		r.ecx &= ~CPUID_1_ECX_OSXSAVE;
		if (vcpu_guest_cr4() & CR4_OSXSAVE)
			r.ecx |= CPUID_1_ECX_OSXSAVE;
	} else if (leaf == 7 && sub == 0) {
		r.ecx &= ~CPUID_7_ECX_OSPKE;
		if (vcpu_guest_cr4() & CR4_PKE)
			r.ecx |= CPUID_7_ECX_OSPKE;
		r.ebx &= ~CPUID_7_EBX_INTEL_PT; /* not the guest's (vcpu.c intercepts its MSRs) */
	} else if (leaf == CPUID_LEAF_INTEL_PT) {
		r = (struct cpuid_regs){ 0 };
	} else if (leaf == UMBRA_CPUID_LEAF_BASE) {
		r = (struct cpuid_regs){ UMBRA_CPUID_LEAF_VERSION, UMBRA_CPUID_SIGNATURE_EBX,
					 UMBRA_CPUID_SIGNATURE_ECX, UMBRA_CPUID_SIGNATURE_EDX };
	} else if (leaf == UMBRA_CPUID_LEAF_VERSION) {
		r = (struct cpuid_regs){ UMBRA_VERSION_MAJOR << 16 | UMBRA_VERSION_MINOR, 0, 0, 0 };
	} else if ((leaf & 0xffffff00) == 0x40000000) {
		r = (struct cpuid_regs){ 0 };
	}
	v->regs.rax = r.eax;
	v->regs.rbx = r.ebx;
	v->regs.rcx = r.ecx;
	v->regs.rdx = r.edx;
	return SKIP_INSN;
}

/* HLT: the guest waits in the HLT activity state, woken by its own interrupts. */
static enum exit_action handle_hlt(struct vcpu *v __unused, uint64_t q __unused)
{
	exit_skip_instruction();
	vmcs_write32(GUEST_ACTIVITY_STATE, ACTIVITY_HLT);
	return RESUME;
}

/* INVD would drop umbra's own dirty lines too: write back instead (SDM Vol. 2A INVD note). */
static enum exit_action handle_invd(struct vcpu *v __unused, uint64_t q __unused)
{
	__asm__ volatile("wbinvd" ::: "memory");
	return SKIP_INSN;
}

/* VMX instructions are nested/'s; without it they fault as on a CPU without VMX. */
static enum exit_action handle_vmx_instruction(struct vcpu *v, uint64_t q)
{
	if (nested_ops)
		return nested_ops->vmx_instruction(v, EXIT_REASON_BASIC(vmcs_read32(VM_EXIT_REASON)), q);
	inject_exception(VEC_UD, false, 0);
	return RESUME;
}

/* GETSEC: SMX is not offered (CPUID.1:ECX.SMX is the CPU's, but CR4.SMXE stays 0): #UD. */
static enum exit_action handle_getsec(struct vcpu *v __unused, uint64_t q __unused)
{
	inject_exception(VEC_UD, false, 0);
	return RESUME;
}

/* umbra's hypercalls (core/hypercall.h). */
static enum exit_action handle_vmcall(struct vcpu *v, uint64_t q __unused)
{
	uint64_t a1 = v->regs.rbx, a2 = v->regs.rcx, a3 = v->regs.rdx;
	int64_t ret = 0;
	enum exit_action action;

	/* In L1's VMX root operation only umbra's function numbers are hypercalls (core/hypercall.h). */
	if (v->regs.rax >= UMBRA_HC_COUNT && nested_ops && nested_ops->vmcall_in_root(v, &action))
		return action;
	if (guest_cpl() != 0) {
		v->regs.rax = (uint64_t)UMBRA_HC_EPERM;
		return SKIP_INSN;
	}
	switch (v->regs.rax) {
	case UMBRA_HC_VERSION:
		v->regs.rbx = UMBRA_VERSION_MAJOR << 16 | UMBRA_VERSION_MINOR;
		v->regs.rcx = cpu_count;
		break;
	case UMBRA_HC_STATS: {
		struct umbra_hc_stats st = { 0 };
		size_t len = MIN(a2, sizeof(st));

		if (a3 != UMBRA_HC_ALL_CPUS && a3 >= cpu_count) {
			ret = UMBRA_HC_EINVAL;
			break;
		}
		if (!guest_range_ok(a1, len)) {
			ret = UMBRA_HC_EFAULT;
			break;
		}
		for (uint32_t c = 0; c < cpu_count; c++) {
			if (a3 != UMBRA_HC_ALL_CPUS && c != a3)
				continue;
			/* Every exit to umbra, whether L1 or L2 was running. */
			const struct vcpu *x = vcpu_of(c);

			for (int r = 0; r < EXIT_REASON_MAX; r++) {
				st.exits[r] += x->stats.exits[r] + x->stats_l2.exits[r];
				st.cycles[r] += x->stats.cycles[r] + x->stats_l2.cycles[r];
			}
			st.total_exits += exit_count(x);
			st.vm_exits += x->regs.vm_exits;
		}
		ret = guest_write_phys(a1, &st, len) ? (int64_t)len : UMBRA_HC_EFAULT;
		break;
	}
	case UMBRA_HC_FIELD_STATS: {
		static struct umbra_hc_field_stat fs[VMCS_FIELD_COUNT];
		size_t n = 0, len;

		if (a3 != UMBRA_HC_ALL_CPUS && a3 >= cpu_count) {
			ret = UMBRA_HC_EINVAL;
			break;
		}
		if (nested_ops)
			n = nested_ops->field_stats(a3, fs, ARRAY_SIZE(fs));
		len = MIN(a2, n * sizeof(fs[0]));
		if (len && !guest_range_ok(a1, len)) {
			ret = UMBRA_HC_EFAULT;
			break;
		}
		ret = !len || guest_write_phys(a1, fs, len) ? (int64_t)len : UMBRA_HC_EFAULT;
		break;
	}
	case UMBRA_HC_PROFILE: {
		struct umbra_hc_profile prof;
		size_t len = MIN(a2, sizeof(prof));

		if (a3 != UMBRA_HC_ALL_CPUS && a3 >= cpu_count) {
			ret = UMBRA_HC_EINVAL;
			break;
		}
		if (!profile_read(a3, &prof)) {
			ret = UMBRA_HC_ENOSYS;
			break;
		}
		ret = guest_write_phys(a1, &prof, len) ? (int64_t)len : UMBRA_HC_EFAULT;
		break;
	}
	case UMBRA_HC_TRACE_DUMP:
		/* Only this CPU's ring: the others are being written while their CPUs run. */
		ret = trace_enabled ? (int64_t)trace_dump(v->index) : UMBRA_HC_ENODATA;
		break;
	case UMBRA_HC_SHUTDOWN:
		log_info("guest: shutdown hypercall with status %lu", a1);
		shutdown(a1 ? EXIT_FAILURE : EXIT_OK, "guest asked to shut down");
	case UMBRA_HC_LOG: {
		char msg[256];

		if (a2 > sizeof(msg)) {
			ret = UMBRA_HC_EINVAL;
		} else if (a2 && !guest_read_phys(a1, msg, a2)) {
			ret = UMBRA_HC_EFAULT;
		} else {
			log_info("guest: %.*s", (int)a2, msg);
			ret = 0;
		}
		break;
	}
	default:
		ret = UMBRA_HC_ENOSYS;
		break;
	}
	v->regs.rax = (uint64_t)ret;
	return SKIP_INSN;
}

/* MOV to CR0/CR4 touching a bit umbra owns (SDM Vol. 3C 27.1.3, Table 28-3). */
static enum exit_action handle_cr_access(struct vcpu *v, uint64_t q)
{
	unsigned int cr = q & 0xf, access = (q >> 4) & 3;
	uint64_t val = vcpu_gpr(v, (q >> 8) & 0xf);

	if (access != 0 || (cr != 0 && cr != 4))
		guest_stop(v, "unexpected control-register access (qualification %#lx)", q);
	if (nested_ops && !nested_ops->cr_write_allowed(v, cr, val)) {
		inject_exception(VEC_GP, true, 0);
		return RESUME;
	}
	if (cr == 4) {
		/* Reserved CR4 bits: #GP (SDM Vol. 3A 2.5). */
		if (val & ~vm.caps.cr4_fixed1 & ~(uint64_t)CR4_VMXE) {
			inject_exception(VEC_GP, true, 0);
			return RESUME;
		}
		vcpu_set_cr4(val);
		return SKIP_INSN;
	}
	/* CR0: reserved bits, PG without PE, NW without CD: #GP (SDM Vol. 3A 2.5). */
	if ((val >> 32) || ((val & CR0_PG) && !(val & CR0_PE)) || ((val & CR0_NW) && !(val & CR0_CD))) {
		inject_exception(VEC_GP, true, 0);
		return RESUME;
	}
	if ((val ^ vcpu_guest_cr0()) & CR0_PG) {
		/* Paging on/off with EFER.LME: IA-32e mode follows (SDM Vol. 3A 9.8.5). */
		uint64_t efer = vmcs_read64(GUEST_IA32_EFER);
		uint32_t entry = vmcs_read32(VM_ENTRY_CONTROLS);

		if ((val & CR0_PG) && (efer & EFER_LME)) {
			if (!(vcpu_guest_cr4() & CR4_PAE)) {
				inject_exception(VEC_GP, true, 0);
				return RESUME;
			}
			efer |= EFER_LMA;
			entry |= IA32E_MODE_GUEST;
		} else if (!(val & CR0_PG)) {
			efer &= ~EFER_LMA;
			entry &= ~IA32E_MODE_GUEST;
		}
		vmcs_write64(GUEST_IA32_EFER, efer);
		vmcs_write32(VM_ENTRY_CONTROLS, entry);
	}
	vcpu_set_cr0(val);
	return SKIP_INSN;
}

/* Emulator exit ports: the guest's request ends the run, with umbra's report. */
static enum exit_action handle_io(struct vcpu *v, uint64_t q)
{
	static const char shutdown_word[] = "Shutdown";
	uint16_t port = q >> 16;
	bool in = q & BIT(3), string = q & BIT(4);
	uint8_t value = (uint8_t)v->regs.rax;

	if (string)
		guest_stop(v, "string I/O on port %#x is not emulated", port);
	if (in) {
		v->regs.rax |= 0xff; /* nothing to read on an exit port */
		return SKIP_INSN;
	}
	if (port == QEMU_DEBUG_EXIT_PORT) {
		log_info("guest: wrote %u to the QEMU exit port", value);
		shutdown(value ? EXIT_FAILURE : EXIT_OK, "guest asked QEMU to exit");
	}
	if (port == BOCHS_SHUTDOWN_PORT) {
		v->bochs_shutdown_pos = value == (uint8_t)shutdown_word[v->bochs_shutdown_pos] ?
						v->bochs_shutdown_pos + 1 :
						(value == 'S');
		if (v->bochs_shutdown_pos == sizeof(shutdown_word) - 1)
			shutdown(EXIT_OK, "guest asked Bochs to shut down");
	}
	return SKIP_INSN;
}

/* Only the MSRs umbra owns exit (vcpu.c's MSR bitmap). */
static enum exit_action handle_msr_read(struct vcpu *v, uint64_t q __unused)
{
	uint64_t value;

	if (!nested_ops || !nested_ops->msr_read((uint32_t)v->regs.rcx, &value)) {
		inject_exception(VEC_GP, true, 0);
		return RESUME;
	}
	v->regs.rax = (uint32_t)value;
	v->regs.rdx = value >> 32;
	return SKIP_INSN;
}

/*
 * The x2APIC ICR (INIT and SIPI are umbra's to deliver), IA32_APIC_BASE (only
 * what umbra can live with, vapic.c); otherwise IA32_FEATURE_CONTROL, locked,
 * and the read-only VMX capability MSRs: #GP (SDM Vol. 4).
 */
static enum exit_action handle_msr_write(struct vcpu *v, uint64_t q __unused)
{
	uint64_t value = (v->regs.rdx << 32) | (uint32_t)v->regs.rax;

	if ((uint32_t)v->regs.rcx == MSR_X2APIC_ICR) {
		vapic_x2apic_icr_write(v, value);
		return SKIP_INSN;
	}
	if ((uint32_t)v->regs.rcx == MSR_IA32_APIC_BASE && vapic_apic_base_write(v, value))
		return SKIP_INSN;
	inject_exception(VEC_GP, true, 0);
	return RESUME;
}

/*
 * A guest access where EPT maps nothing (umbra's own memory, or beyond the
 * guest's), or any access the read-only local APIC page refused (vapic.c).
 */
static enum exit_action handle_ept_violation(struct vcpu *v, uint64_t q)
{
	uint64_t gpa = vmcs_read64(GUEST_PHYSICAL_ADDRESS);
	bool umbra = false;

	if (vapic_mmio_write(v, gpa, q))
		return RESUME; /* the APIC page: RIP already moved past the emulated store */
	for (size_t i = 0; i < vm.umbra_mem_count; i++)
		umbra |= gpa >= vm.umbra_mem[i].base && gpa < vm.umbra_mem[i].end;
	guest_stop(v, "EPT violation: %s of %s at guest-physical %#lx, RIP %#lx",
		   q & BIT(1) ? "write" : q & BIT(2) ? "instruction fetch" : "read",
		   umbra ? "umbra's memory" : "unmapped memory", gpa, vmcs_readnat(GUEST_RIP));
}

static enum exit_action handle_ept_misconfig(struct vcpu *v, uint64_t q __unused)
{
	guest_stop(v, "EPT misconfiguration at guest-physical %#lx (umbra bug)",
		   vmcs_read64(GUEST_PHYSICAL_ADDRESS));
}

/* XSETBV (SDM Vol. 2C): checked here, then executed for the guest. */
static enum exit_action handle_xsetbv(struct vcpu *v, uint64_t q __unused)
{
	uint64_t value = (v->regs.rdx << 32) | (uint32_t)v->regs.rax;
	struct cpuid_regs xs = cpuid(0xd, 0);
	uint64_t supported = ((uint64_t)xs.edx << 32) | xs.eax;

	if (guest_cpl() != 0 || (uint32_t)v->regs.rcx != 0 || !(value & BIT(0)) ||
	    (value & ~supported) || ((value & BIT(2)) && !(value & BIT(1))) ||
	    ((value & 0xe0) && (value & 0xe0) != 0xe0) || ((value & 0xe0) && !(value & BIT(2)))) {
		inject_exception(VEC_GP, true, 0);
		return RESUME;
	}
	__asm__ volatile("xsetbv" ::"a"((uint32_t)value), "d"((uint32_t)(value >> 32)), "c"(0));
	return SKIP_INSN;
}

static enum exit_action handle_task_switch(struct vcpu *v, uint64_t q __unused)
{
	guest_stop(v, "hardware task switch (not emulated)");
}

/*
 * After an exit umbra handled itself (not reflected): an event whose delivery
 * the exit interrupted (an external interrupt the CPU acknowledged, an event
 * umbra or L1 injected, a software interrupt) must still reach the guest, so
 * it is injected again (arch/x86/event.h has the SDM's rules). Only exits
 * that can happen during event delivery and that umbra keeps look: NMIs and
 * EPT violations (SDM Vol. 3C 27.2.4); a handler's own injection wins.
 */
void exit_reinject_event(uint32_t basic)
{
	struct event_exit e = { 0 };
	struct event_entry in;

	if (basic != EXIT_REASON_EXCEPTION_NMI && basic != EXIT_REASON_EPT_VIOLATION)
		return;
	e.idt_vectoring = vmcs_read32(IDT_VECTORING_INFO);
	e.interruptibility = vmcs_read32(GUEST_INTERRUPTIBILITY_INFO);
	e.virtual_nmis = vmcs_read32(PIN_BASED_VM_EXEC_CONTROL) & VIRTUAL_NMIS;
	if (basic == EXIT_REASON_EXCEPTION_NMI) {
		uint32_t info = vmcs_read32(VM_EXIT_INTR_INFO);

		e.nmi_unblocked_by_iret = info & EVENT_NMI_UNBLOCKED_BY_IRET;
		e.exit_vector = EVENT_VECTOR(info);
	} else {
		e.nmi_unblocked_by_iret = vmcs_readnat(EXIT_QUALIFICATION) & EVENT_NMI_UNBLOCKED_BY_IRET;
	}
	if (e.idt_vectoring & EVENT_VALID) {
		if (vmcs_read32(VM_ENTRY_INTR_INFO) & INTR_INFO_VALID)
			return;
		e.idt_error_code = vmcs_read32(IDT_VECTORING_ERROR_CODE);
		e.instruction_len = vmcs_read32(VM_EXIT_INSTRUCTION_LEN);
	}
	in = event_reinject(&e);
	if (in.inject) {
		vmcs_write32(VM_ENTRY_INTR_INFO, in.intr_info);
		vmcs_write32(VM_ENTRY_EXCEPTION_ERROR_CODE, in.error_code);
		vmcs_write32(VM_ENTRY_INSTRUCTION_LEN, in.instruction_len);
	}
	if (in.interruptibility != e.interruptibility)
		vmcs_write32(GUEST_INTERRUPTIBILITY_INFO, in.interruptibility);
}

/* One entry per basic exit reason umbra expects; anything else is unhandled(). */
static const exit_handler_fn exit_handlers[EXIT_REASON_MAX] = {
	[EXIT_REASON_EXCEPTION_NMI] = handle_exception_nmi,
	[EXIT_REASON_TRIPLE_FAULT] = handle_triple_fault,
	[EXIT_REASON_INIT_SIGNAL] = handle_init,
	[EXIT_REASON_NMI_WINDOW] = handle_nmi_window,
	[EXIT_REASON_TASK_SWITCH] = handle_task_switch,
	[EXIT_REASON_CPUID] = handle_cpuid,
	[EXIT_REASON_GETSEC] = handle_getsec,
	[EXIT_REASON_HLT] = handle_hlt,
	[EXIT_REASON_INVD] = handle_invd,
	[EXIT_REASON_VMCALL] = handle_vmcall,
	[EXIT_REASON_VMCLEAR] = handle_vmx_instruction,
	[EXIT_REASON_VMLAUNCH] = handle_vmx_instruction,
	[EXIT_REASON_VMPTRLD] = handle_vmx_instruction,
	[EXIT_REASON_VMPTRST] = handle_vmx_instruction,
	[EXIT_REASON_VMREAD] = handle_vmx_instruction,
	[EXIT_REASON_VMRESUME] = handle_vmx_instruction,
	[EXIT_REASON_VMWRITE] = handle_vmx_instruction,
	[EXIT_REASON_VMXOFF] = handle_vmx_instruction,
	[EXIT_REASON_VMXON] = handle_vmx_instruction,
	[EXIT_REASON_CR_ACCESS] = handle_cr_access,
	[EXIT_REASON_IO_INSTRUCTION] = handle_io,
	[EXIT_REASON_MSR_READ] = handle_msr_read,
	[EXIT_REASON_MSR_WRITE] = handle_msr_write,
	[EXIT_REASON_EPT_VIOLATION] = handle_ept_violation,
	[EXIT_REASON_EPT_MISCONFIG] = handle_ept_misconfig,
	[EXIT_REASON_INVEPT] = handle_vmx_instruction,
	[EXIT_REASON_INVVPID] = handle_vmx_instruction,
	[EXIT_REASON_VMFUNC] = handle_vmx_instruction,
	[EXIT_REASON_XSETBV] = handle_xsetbv,
};

/* One exit, by the level that was running: L2's go to nested/ first. */
static void exit_handle(struct vcpu *v, uint32_t reason, uint32_t basic)
{
	exit_handler_fn fn;
	enum exit_action action;

	if (v->in_l2 && nested_ops) {
		bool done;

		profile_phase(v, PROFILE_L2_EXIT);
		done = nested_ops->l2_exit(v, reason, vmcs_readnat(EXIT_QUALIFICATION));
		profile_phase(v, PROFILE_DISPATCH);
		if (done)
			return;
	}
	if (reason & EXIT_REASON_ENTRY_FAILURE)
		guest_stop(v, "VM entry failed: %s", exit_reason_name(basic));
	/* The VMREADs for the trace line cost on every exit: only when tracing. */
	if (log_get_level() >= LOG_TRACE)
		log(LOG_TRACE, "exit: %s, qualification %#lx, rip %#lx, activity %u",
		    exit_reason_name(basic), vmcs_readnat(EXIT_QUALIFICATION), vmcs_readnat(GUEST_RIP),
		    vmcs_read32(GUEST_ACTIVITY_STATE));
	fn = basic < EXIT_REASON_MAX && exit_handlers[basic] ? exit_handlers[basic] : handle_unhandled;
	profile_phase(v, basic == EXIT_REASON_VMRESUME || basic == EXIT_REASON_VMLAUNCH ? PROFILE_VMENTRY :
											   PROFILE_HANDLER);
	action = fn(v, vmcs_readnat(EXIT_QUALIFICATION));
	profile_phase(v, PROFILE_DISPATCH);
	if (action == SKIP_INSN)
		exit_skip_instruction();
	exit_reinject_event(basic);
}

/*
 * VMREAD/VMWRITE: the field operand is always a register, Reg2 in bits
 * 31:28 of the VM-exit instruction-information field (SDM Vol. 3C 28.2.5,
 * Table 28-14).
 */
#define VMX_INSN_INFO_REG2(info) (((info) >> 28) & 0xf)

/* Tracing only: the first half of the exit's record (the VMREADs it costs are paid only here). */
static struct trace_record *exit_trace_begin(struct vcpu *v, uint32_t reason, uint32_t basic,
					     uint64_t t0)
{
	struct trace_record *t = trace_next(v->index);

	t->tsc = t0;
	t->qualification = vmcs_readnat(EXIT_QUALIFICATION);
	t->rip = vmcs_readnat(GUEST_RIP);
	t->cycles = 0;
	t->reason = (uint16_t)basic;
	t->level = v->in_l2 ? 2 : 1;
	t->flags = reason & EXIT_REASON_ENTRY_FAILURE ? TRACE_ENTRY_FAILURE : 0;
	t->field = TRACE_NO_FIELD;
	if (basic == EXIT_REASON_VMREAD || basic == EXIT_REASON_VMWRITE)
		t->field = (uint32_t)vcpu_gpr(v, VMX_INSN_INFO_REG2(vmcs_read32(VMX_INSTRUCTION_INFO)));
	return t;
}

/* The second half: what the handler did (reflected: v->reflected before it ran). */
static void exit_trace_end(const struct vcpu *v, struct trace_record *t, uint64_t reflected,
			   uint64_t cycles)
{
	t->cycles = cycles;
	t->flags |= TRACE_DONE | (v->reflected != reflected ? TRACE_REFLECTED : 0);
}

/*
 * Every exit is counted once, under the level it came from, before any
 * handler runs: a handler may switch levels (an emulated VMLAUNCH/VMRESUME
 * makes L2 current, a reflection makes L1 current) or never return (a
 * shutdown or guest stop prints these very statistics). With trace=N the
 * exit is also recorded, before the handler and completed after it.
 */
void exit_dispatch(struct vcpu *v, uint32_t reason, uint64_t t0)
{
	uint32_t basic = EXIT_REASON_BASIC(reason);
	struct exit_stats *st = v->in_l2 ? &v->stats_l2 : &v->stats;
	struct trace_record *t = trace_enabled ? exit_trace_begin(v, reason, basic, t0) : NULL;
	uint64_t reflected = t ? v->reflected : 0, cycles;

	if (basic >= EXIT_REASON_MAX) {
		st->unknown_reason++;
		exit_handle(v, reason, basic);
		if (t)
			exit_trace_end(v, t, reflected, rdtsc() - t0);
		return;
	}
	st->exits[basic]++;
	exit_handle(v, reason, basic);
	cycles = rdtsc() - t0;
	st->cycles[basic] += cycles;
	if (t)
		exit_trace_end(v, t, reflected, cycles);
	profile_phase(v, PROFILE_ENTRY);
}

/* The current VMCS's guest can take an injected NMI now (SDM Vol. 3C 26.3.1.5, 26.6.1). */
static bool nmi_injectable(void)
{
	return !(vmcs_read32(VM_ENTRY_INTR_INFO) & INTR_INFO_VALID) &&
	       !(vmcs_read32(GUEST_INTERRUPTIBILITY_INFO) &
		 (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS | INTERRUPTIBILITY_NMI));
}

/* Come back when the NMI can go in: NMI-window exiting needs virtual NMIs (SDM Vol. 3C 25.3). */
static void nmi_window(void)
{
	if (vmcs_read32(PIN_BASED_VM_EXEC_CONTROL) & VIRTUAL_NMIS)
		vmcs_write32(CPU_BASED_VM_EXEC_CONTROL,
			     vmcs_read32(CPU_BASED_VM_EXEC_CONTROL) | NMI_WINDOW_EXITING);
}

/* Take one NMI off a level's count; false when there was none. NMI-safe (nmi_in_root adds). */
static bool nmi_take(uint32_t *count)
{
	uint32_t n = __atomic_load_n(count, __ATOMIC_RELAXED);

	while (n && !__atomic_compare_exchange_n(count, &n, n - 1, false, __ATOMIC_RELAXED,
						 __ATOMIC_RELAXED))
		;
	return n != 0;
}

/*
 * Guest NMIs, kept per level. The rule (SDM Vol. 3C 25.2-25.3, 26.6.1, 27.2.2):
 * - An NMI that arrives while L2 runs is L1's when L1 uses NMI exiting
 *   (an NMI exit to L1), else L2's. One that arrives while L1 runs (or while
 *   umbra works for L1 in root) is L1's.
 * - L1 about to run: L1's NMIs are injected when L1 can take one (no event
 *   being injected, no blocking by STI, MOV SS or NMI), else an NMI-window
 *   exit brings umbra back. L2's NMIs wait for L2.
 * - L2 about to run, L1 has an NMI and uses NMI exiting: that NMI is an NMI
 *   exit to L1 as the CPU would take it at once after VM entry, unless L2
 *   blocks it: an event being injected (its delivery comes first), blocking by
 *   MOV SS, or blocking by NMI when L1 does not use virtual NMIs (with them,
 *   bit 3 is L2's virtual-NMI blocking and does not hold back a real NMI).
 *   Held back, an NMI-window exit from vmcs02 (umbra's virtual NMIs) retries.
 *   Then L1 is about to run and the rules above apply again.
 * - L2 about to run otherwise: L2's NMIs are injected as into L1. An NMI of
 *   L1's while L1 does not use NMI exiting waits until L1 runs: it is
 *   taken as if it arrived at L2's next exit. (The SDM would let an NMI that
 *   L1 held blocked over its VMLAUNCH go to L2; umbra does not do that.)
 */
void exit_prepare_entry(struct vcpu *v)
{
	uint32_t *count;

	if (v->in_l2 && __atomic_load_n(&v->nmi_pending_l1, __ATOMIC_RELAXED) && nested_ops &&
	    nested_ops->l1_nmi_exiting(v)) {
		uint32_t intr = vmcs_read32(GUEST_INTERRUPTIBILITY_INFO);
		bool blocked = (vmcs_read32(VM_ENTRY_INTR_INFO) & INTR_INFO_VALID) ||
			       (intr & INTERRUPTIBILITY_MOV_SS) ||
			       ((intr & INTERRUPTIBILITY_NMI) && !nested_ops->l1_virtual_nmis(v));

		if (blocked) {
			nmi_window();
			return;
		}
		nmi_take(&v->nmi_pending_l1);
		nested_ops->nmi_exit(v); /* vmcs01 is current now: L1 is about to run */
	}
	count = v->in_l2 ? &v->nmi_pending_l2 : &v->nmi_pending_l1;
	if (!__atomic_load_n(count, __ATOMIC_RELAXED))
		return;
	if (!nmi_injectable()) {
		nmi_window();
		return;
	}
	if (!nmi_take(count))
		return;
	vmcs_write32(VM_ENTRY_INTR_INFO, INTR_INFO_VALID | (INTR_TYPE_NMI << 8) | VEC_NMI);
	if (vmcs_read32(GUEST_ACTIVITY_STATE) == ACTIVITY_HLT)
		vmcs_write32(GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
}

void exit_entry_failed(struct vcpu *v, int r)
{
	if (v->in_l2 && r == 2 && nested_ops) {
		nested_ops->l2_entry_failed(v, vmcs_read32(VM_INSTRUCTION_ERROR));
		return;
	}
	if (r == 1)
		guest_stop(v, "VM entry failed: VMfailInvalid (no current VMCS)");
	guest_stop(v, "VM entry failed: %s",
		   vmx_instruction_error_name(vmcs_read32(VM_INSTRUCTION_ERROR)));
}

#define EXIT_REASON_NAME(name, num, desc) [num] = desc,
static const char *const exit_reason_names[EXIT_REASON_MAX] = { VMX_EXIT_REASONS(EXIT_REASON_NAME) };
#undef EXIT_REASON_NAME

const char *exit_reason_name(uint32_t basic_reason)
{
	if (basic_reason < EXIT_REASON_MAX && exit_reason_names[basic_reason])
		return exit_reason_names[basic_reason];
	return "unknown exit reason";
}

/* Exit reasons as one word (EXTERNAL_INTERRUPT), for the "ustat" records. */
#define EXIT_REASON_TOKEN(name, num, desc) [num] = #name,
static const char *const exit_reason_tokens[EXIT_REASON_MAX] = { VMX_EXIT_REASONS(EXIT_REASON_TOKEN) };
#undef EXIT_REASON_TOKEN

static uint64_t total_exits(const struct exit_stats *s)
{
	uint64_t total = s->unknown_reason;

	for (int r = 0; r < EXIT_REASON_MAX; r++)
		total += s->exits[r];
	return total;
}

static uint64_t total_cycles(const struct exit_stats *s)
{
	uint64_t total = 0;

	for (int r = 0; r < EXIT_REASON_MAX; r++)
		total += s->cycles[r];
	return total;
}

uint64_t exit_count(const struct vcpu *v)
{
	return total_exits(&v->stats) + total_exits(&v->stats_l2);
}

static void record_stats(uint32_t c, const char *level, const struct exit_stats *s)
{
	for (int r = 0; r < EXIT_REASON_MAX; r++)
		if (s->exits[r])
			log_info("ustat v=%u rec=exit cpu=%u level=%s reason=%d name=%s exits=%lu cycles=%lu",
				 STATS_FORMAT_VERSION, c, level, r,
				 exit_reason_tokens[r] ? exit_reason_tokens[r] : "UNKNOWN", s->exits[r],
				 s->cycles[r]);
	if (s->unknown_reason)
		log_info("ustat v=%u rec=exit cpu=%u level=%s reason=-1 name=UNKNOWN exits=%lu cycles=0",
			 STATS_FORMAT_VERSION, c, level, s->unknown_reason);
}

/*
 * The machine-readable statistics (format documented in docs/research.md,
 * versioned by STATS_FORMAT_VERSION): a begin record, per CPU a summary
 * and one record per level and reason, nested/'s per-field records, an end
 * record. One record per line, key=value, values without spaces.
 */
static void exit_stats_records(void)
{
	log_info("ustat v=%u rec=begin cpus=%u trace=%u", STATS_FORMAT_VERSION, cpu_count,
		 trace_enabled ? 1u : 0u);
	for (uint32_t c = 0; c < cpu_count; c++) {
		const struct vcpu *v = vcpu_of(c);

		log_info("ustat v=%u rec=cpu cpu=%u exits=%lu vm_exits=%lu l1_exits=%lu l2_exits=%lu "
			 "l1_cycles=%lu l2_cycles=%lu reflected=%lu",
			 STATS_FORMAT_VERSION, c, exit_count(v), v->regs.vm_exits, total_exits(&v->stats),
			 total_exits(&v->stats_l2), total_cycles(&v->stats), total_cycles(&v->stats_l2),
			 v->reflected);
		record_stats(c, "L1", &v->stats);
		record_stats(c, "L2", &v->stats_l2);
	}
	if (nested_ops)
		nested_ops->report_fields(STATS_RECORDS);
	log_info("ustat v=%u rec=end", STATS_FORMAT_VERSION);
}

/* One line per reason: exits, cycles per exit, share of this level's exits (per mille shown as %). */
static void report_stats(uint32_t c, const char *level, const struct exit_stats *s)
{
	uint64_t total = total_exits(s);

	for (int r = 0; r < EXIT_REASON_MAX; r++) {
		uint64_t pm;

		if (!s->exits[r])
			continue;
		pm = s->exits[r] * 1000 / total;
		log_info("stats: cpu%u %s %-26s %10lu exits %10lu cycles/exit %3lu.%lu%%", c, level,
			 exit_reason_name(r), s->exits[r], s->cycles[r] / s->exits[r], pm / 10, pm % 10);
	}
}

/*
 * Per CPU: exits while L1 ran, then exits while L2 ran and how many of
 * those were reflected to L1. L0 exits per L2 round trip = (L1 exits
 * caused by L1's handling + L2 exits) / reflected exits. The last line
 * checks the per-reason counts against the exit stub's own count. The
 * fields L1 still traps follow (nested/), the top ten unless full.
 */
void exit_stats_report(bool full)
{
	exit_stats_records();
	for (uint32_t c = 0; c < cpu_count; c++) {
		const struct vcpu *v = vcpu_of(c);
		uint64_t l2 = total_exits(&v->stats_l2);

		log_info("stats: cpu%u %lu exits from L1", c, total_exits(&v->stats));
		report_stats(c, "L1", &v->stats);
		if (l2) {
			log_info("stats: cpu%u %lu exits from L2, %lu reflected to L1", c, l2, v->reflected);
			report_stats(c, "L2", &v->stats_l2);
		}
		if (exit_count(v) == v->regs.vm_exits)
			log_info("stats: cpu%u %lu exits counted, %lu VM exits taken: they agree", c,
				 exit_count(v), v->regs.vm_exits);
		else
			log_err("stats: cpu%u %lu exits counted, %lu VM exits taken: MISMATCH (umbra bug)", c,
				exit_count(v), v->regs.vm_exits);
	}
	if (nested_ops)
		nested_ops->report_fields(full ? STATS_TABLE_FULL : STATS_TABLE);
}
