/* SPDX-License-Identifier: BSD-2-Clause */
/* L1 vCPUs: VM-wide setup (controls, EPT, bitmaps), per-CPU VMCS, and the run loop. */
#include "arch/x86/vcpu.h"
#include "arch/x86/cpu.h"
#include "arch/x86/exit.h"
#include "arch/x86/gdt.h"
#include "arch/x86/mtrr.h"
#include "arch/x86/vapic.h"
#include "arch/x86/vmx_controls.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/panic.h"
#include "core/percpu.h"
#include "core/shutdown.h"
#include "core/string.h"

struct vm vm;
static struct vcpu vcpus[MAX_CPUS];
static struct mtrr_state mtrrs;

extern char vmx_exit_entry[];
int vmx_enter(struct guest_regs *regs, uint64_t launched);

/* Segment access rights (SDM Vol. 3C 24.4.1, Table 24-2). */
#define AR_TYPE_DATA_RW_ACCESSED 0x3
#define AR_TYPE_CODE_XR_ACCESSED 0xb
#define AR_TYPE_TSS_BUSY_32 0xb
#define AR_TYPE_LDT 0x2
#define AR_S BIT(4)
#define AR_P BIT(7)
#define AR_DB BIT(14)
#define AR_G BIT(15)
#define AR_UNUSABLE BIT(16)

/* Activity states (SDM Vol. 3C 24.4.2). */
#define ACTIVITY_ACTIVE 0

#define PAT_POWER_ON 0x0007040600070406ULL

/*
 * Controls umbra needs to run L1 (SDM Vol. 3C 24.6-24.8): EPT and
 * unrestricted guest so L1 starts in 32-bit protected mode without paging,
 * bitmaps so that only what umbra owns exits, NMI exiting so that umbra can
 * stop every CPU. External interrupts are not intercepted: they belong to L1.
 */
#define PIN_REQUIRED (NMI_EXITING)
#define PIN_OPTIONAL (VIRTUAL_NMIS)
#define PROC_REQUIRED (USE_MSR_BITMAPS | USE_IO_BITMAPS | SECONDARY_CONTROLS | HLT_EXITING)
#define PROC_OPTIONAL 0
#define PROC2_REQUIRED (ENABLE_EPT | UNRESTRICTED_GUEST)
/* The "enable" bits make instructions L1 may use work instead of raising #UD. */
#define PROC2_OPTIONAL (ENABLE_VPID | ENABLE_RDTSCP | ENABLE_INVPCID | ENABLE_XSAVES)
/*
 * Debug controls: a VM exit sets DR7 to 400H and clears IA32_DEBUGCTL (SDM
 * Vol. 3C 27.5.1); saved on exit and loaded on entry, the guest's own DR7
 * and DEBUGCTL survive every exit to umbra (default1 bits: every CPU has them).
 */
#define EXIT_REQUIRED (HOST_ADDR_SPACE_SIZE | SAVE_EFER | LOAD_EFER | SAVE_PAT | LOAD_PAT | SAVE_DEBUG_CONTROLS)
#define EXIT_OPTIONAL 0
#define ENTRY_REQUIRED (ENTRY_LOAD_EFER | ENTRY_LOAD_PAT | LOAD_DEBUG_CONTROLS)
#define ENTRY_OPTIONAL 0

static bool negotiate(const char *what, const struct vmx_ctl *cap, uint32_t required,
		      uint32_t optional, uint32_t *out)
{
	uint32_t missing;

	if (vmx_ctl_negotiate(cap, required, optional, out, &missing))
		return true;
	log_err("vmx: the CPU lacks required %s controls %#x", what, missing);
	return false;
}

static uint64_t table_alloc(void *ctx __unused)
{
	return mem_alloc_pages(1);
}

static uint64_t *table_virt(void *ctx __unused, uint64_t pa)
{
	return (uint64_t *)pa;
}

static uint8_t table_mem_type(void *ctx __unused, uint64_t base, uint64_t len)
{
	return mtrr_range_type(&mtrrs, base, len);
}

uint64_t vm_ept01_leaf(uint64_t gpa)
{
	static const struct ept_builder walker = { .table_virt = table_virt };
	uint64_t size;

	return ept_lookup(&walker, vm.eptp & EPT_ADDR_MASK, gpa, &size);
}

static void bitmap_set(uint64_t page, uint32_t bit)
{
	((uint8_t *)page)[bit / 8] |= 1u << (bit % 8);
}

/* SDM Vol. 3C 24.6.9: read-low, read-high, write-low, write-high quarters. */
static void msr_intercept(uint32_t msr)
{
	uint32_t base = msr >= 0xc0000000 ? 1024 : 0;
	uint32_t bit = msr & 0x1fff;

	bitmap_set(vm.msr_bitmap + base, bit);
	bitmap_set(vm.msr_bitmap + 2048 + base, bit);
}

static void msr_intercept_write(uint32_t msr)
{
	bitmap_set(vm.msr_bitmap + 2048 + (msr >= 0xc0000000 ? 1024 : 0), msr & 0x1fff);
}

static void io_intercept(uint16_t port)
{
	bitmap_set(port < 0x8000 ? vm.io_bitmap_a : vm.io_bitmap_b, port & 0x7fff);
}

bool vm_init(const struct vmx_caps *caps, const struct ept_hole *umbra_mem, size_t n,
	     uint64_t ram_end)
{
	struct ept_hole ranges[ARRAY_SIZE(vm.umbra_mem) + 1];
	struct ept_builder eb = {
		.alloc_table = table_alloc,
		.table_virt = table_virt,
		.mem_type = table_mem_type,
		.pages_1g = caps->ept_vpid & EPT_CAP_1G,
		.pages_2m = caps->ept_vpid & EPT_CAP_2M,
	};
	struct ept_stats es;
	uint64_t pml4, limit;

	profile_init(); /* PROFILE=1 builds: the probes' own cost */

	vm.caps = *caps;
	vm.phys_addr_bits = cpuid(0x80000008, 0).eax & 0xff;
	if (n > ARRAY_SIZE(vm.umbra_mem))
		return false;
	memcpy(vm.umbra_mem, umbra_mem, n * sizeof(*umbra_mem));
	vm.umbra_mem_count = n;
	if (!negotiate("pin-based", &caps->pin, PIN_REQUIRED, PIN_OPTIONAL, &vm.ctl.pin) ||
	    !negotiate("processor-based", &caps->proc, PROC_REQUIRED, PROC_OPTIONAL, &vm.ctl.proc) ||
	    !negotiate("secondary", &caps->proc2, PROC2_REQUIRED, PROC2_OPTIONAL, &vm.ctl.proc2) ||
	    !negotiate("VM-exit", &caps->exit, EXIT_REQUIRED, EXIT_OPTIONAL, &vm.ctl.exit) ||
	    !negotiate("VM-entry", &caps->entry, ENTRY_REQUIRED, ENTRY_OPTIONAL, &vm.ctl.entry))
		return false;
	if (!(caps->ept_vpid & EPT_CAP_PWL4) || !(caps->ept_vpid & EPT_CAP_WB)) {
		log_err("vmx: EPT lacks 4-level walks or write-back paging structures");
		return false;
	}

	/* Bits the guest may not own: whatever VMX fixes, except what unrestricted guest frees. */
	vm.cr0_mask = (caps->cr0_fixed0 | ~caps->cr0_fixed1) & ~(CR0_PE | CR0_PG) & 0xffffffffULL;
	vm.cr4_mask = (caps->cr4_fixed0 | ~caps->cr4_fixed1) & 0xffffffffULL;


	/*
	 * Identity map the whole physical address space with 1 GiB pages where
	 * possible (MMIO above RAM included); without them, RAM and the 4 GiB
	 * below it.
	 */
	mtrr_read(&mtrrs);
	limit = eb.pages_1g ? (1ULL << MIN(vm.phys_addr_bits, 46u)) : ALIGN_UP(MAX(ram_end, GiB(4)), GiB(1));
	/* umbra's memory unmapped; the local APIC read-only so that INIT/SIPI writes exit. */
	memcpy(ranges, umbra_mem, n * sizeof(*umbra_mem));
	vapic_init();
	ranges[n] = (struct ept_hole){ vapic_mmio_page(), vapic_mmio_page() + PAGE_SIZE, EPT_READ };
	pml4 = ept_build_identity(&eb, limit, ranges, n + 1, &es);
	if (!pml4) {
		log_err("ept: out of memory building the identity map");
		return false;
	}
	vm.eptp = pml4 | EPTP_WALK_LENGTH_4 | MEM_TYPE_WB;
	log_info("ept: identity map of %lu GiB: %zu tables, %zu x 1G, %zu x 2M, %zu x 4K pages",
		 limit >> 30, es.tables, es.pages_1g, es.pages_2m, es.pages_4k);
	for (size_t i = 0; i < n; i++)
		log_info("ept: umbra's memory [%#lx-%#lx) is not mapped", umbra_mem[i].base,
			 umbra_mem[i].end);

	vm.msr_bitmap = mem_alloc_pages(1);
	vm.io_bitmap_a = mem_alloc_pages(1);
	vm.io_bitmap_b = mem_alloc_pages(1);
	vm.ones_page = mem_alloc_pages(1);
	if (!vm.msr_bitmap || !vm.io_bitmap_a || !vm.io_bitmap_b || !vm.ones_page) {
		log_err("vmx: out of memory for the MSR and I/O bitmaps");
		return false;
	}
	memset((void *)vm.ones_page, 0xff, PAGE_SIZE);
	/* Everything passes through but what umbra must own (exit.c says why). */
	msr_intercept(MSR_IA32_FEATURE_CONTROL);
	for (uint32_t msr = MSR_IA32_VMX_BASIC; msr <= MSR_IA32_VMX_VMFUNC; msr++)
		msr_intercept(msr);
	msr_intercept_write(MSR_X2APIC_ICR); /* INIT and SIPI are umbra's to deliver (vapic.h) */
	/* The APIC stays where INIT/SIPI emulation and the read-only page expect it (vapic.c). */
	msr_intercept_write(MSR_IA32_APIC_BASE);
	/*
	 * Intel PT is not the guest's (CPUID hides it, exit.c): its output
	 * addresses are host-physical and skip EPT (SDM Vol. 3C 33.5.1), so
	 * a guest that programmed it could trace into umbra's memory. Every
	 * IA32_RTIT_* access exits and gets #GP, as on a CPU without PT.
	 */
	for (uint32_t msr = MSR_IA32_RTIT_OUTPUT_BASE; msr <= MSR_IA32_RTIT_OUTPUT_MASK_PTRS; msr++)
		msr_intercept(msr);
	for (uint32_t msr = MSR_IA32_RTIT_CTL; msr <= MSR_IA32_RTIT_CR3_MATCH; msr++)
		msr_intercept(msr);
	for (uint32_t msr = MSR_IA32_RTIT_ADDR0_A; msr <= MSR_IA32_RTIT_ADDR3_B; msr++)
		msr_intercept(msr);
	for (size_t i = 0; i < exit_io_port_count; i++)
		io_intercept(exit_io_ports[i]);
	return true;
}

struct vcpu *this_vcpu(void)
{
	return &vcpus[cpu_index()];
}

struct vcpu *vcpu_of(uint32_t index)
{
	return &vcpus[index];
}

/* CR0 and CR4 as the guest sees them (read shadow) and as the CPU runs them. */
void vcpu_set_cr0(uint64_t guest_value)
{
	vmcs_writenat(CR0_READ_SHADOW, guest_value);
	vmcs_writenat(GUEST_CR0, (guest_value | (vm.caps.cr0_fixed0 & ~(CR0_PE | CR0_PG))) &
					 vm.caps.cr0_fixed1);
}

/* The guest's view: its own bits live in GUEST_CRn, the bits umbra owns in the read shadow. */
uint64_t vcpu_guest_cr0(void)
{
	uint64_t mask = vmcs_readnat(CR0_GUEST_HOST_MASK);

	return (vmcs_readnat(GUEST_CR0) & ~mask) | (vmcs_readnat(CR0_READ_SHADOW) & mask);
}

uint64_t vcpu_guest_cr4(void)
{
	uint64_t mask = vmcs_readnat(CR4_GUEST_HOST_MASK);

	return (vmcs_readnat(GUEST_CR4) & ~mask) | (vmcs_readnat(CR4_READ_SHADOW) & mask);
}

void vcpu_set_cr4(uint64_t guest_value)
{
	vmcs_writenat(CR4_READ_SHADOW, guest_value);
	vmcs_writenat(GUEST_CR4, (guest_value | vm.caps.cr4_fixed0) & vm.caps.cr4_fixed1);
}

void vcpu_reset_to_init(struct vcpu *v)
{
	const uint32_t data_ar = AR_P | AR_S | AR_TYPE_DATA_RW_ACCESSED;

	/* The GPRs only: the exit stub's counters after them live on. */
	memset(&v->regs, 0, __builtin_offsetof(struct guest_regs, vm_exits));
	/* SDM Vol. 3A Table 9-1: EDX holds the processor signature after INIT. */
	v->regs.rdx = cpuid(1, 0).eax;
	vcpu_set_cr0(CR0_CD | CR0_NW | CR0_ET);
	vcpu_set_cr4(0);
	vmcs_writenat(GUEST_CR3, 0);
	vmcs_writenat(GUEST_DR7, 0x400);
	vmcs_writenat(GUEST_RSP, 0);
	vmcs_writenat(GUEST_RIP, 0xfff0);
	vmcs_writenat(GUEST_RFLAGS, 0x2);
	vcpu_write_segment(GUEST_CS_SELECTOR, 0xf000, 0xffff0000, 0xffff,
		      AR_P | AR_S | AR_TYPE_CODE_XR_ACCESSED);
	vcpu_write_segment(GUEST_SS_SELECTOR, 0, 0, 0xffff, data_ar);
	vcpu_write_segment(GUEST_DS_SELECTOR, 0, 0, 0xffff, data_ar);
	vcpu_write_segment(GUEST_ES_SELECTOR, 0, 0, 0xffff, data_ar);
	vcpu_write_segment(GUEST_FS_SELECTOR, 0, 0, 0xffff, data_ar);
	vcpu_write_segment(GUEST_GS_SELECTOR, 0, 0, 0xffff, data_ar);
	vcpu_write_segment(GUEST_TR_SELECTOR, 0, 0, 0xffff, AR_P | AR_TYPE_TSS_BUSY_32);
	vcpu_write_segment(GUEST_LDTR_SELECTOR, 0, 0, 0xffff, AR_P | AR_TYPE_LDT);
	vmcs_writenat(GUEST_GDTR_BASE, 0);
	vmcs_write32(GUEST_GDTR_LIMIT, 0xffff);
	vmcs_writenat(GUEST_IDTR_BASE, 0);
	vmcs_write32(GUEST_IDTR_LIMIT, 0xffff);
	vmcs_write64(GUEST_IA32_EFER, 0);
	vmcs_write64(GUEST_IA32_PAT, PAT_POWER_ON);
	vmcs_write64(GUEST_IA32_DEBUGCTL, 0);
	vmcs_write32(GUEST_SYSENTER_CS, 0);
	vmcs_writenat(GUEST_SYSENTER_ESP, 0);
	vmcs_writenat(GUEST_SYSENTER_EIP, 0);
	vmcs_writenat(GUEST_PENDING_DBG_EXCEPTIONS, 0);
	vmcs_write32(GUEST_INTERRUPTIBILITY_INFO, 0);
	vmcs_write32(GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
	vmcs_write32(VM_ENTRY_CONTROLS, vm.ctl.entry & ~IA32E_MODE_GUEST);
	vmcs_write32(VM_ENTRY_INTR_INFO, 0);
}

/*
 * Multiboot entry state (Multiboot spec 3.2; Multiboot2 spec 3.3), which is
 * also PVH's and the Linux 32-bit boot protocol's: flat 32-bit, paging and
 * interrupts off. Linux also wants a GDT with its own selectors (0x10 code,
 * 0x18 data, core/bzimage.h) and ESI = boot_params, EBP = EDI = EBX = 0.
 */
static void set_multiboot_entry(struct vcpu *v, const struct vcpu_boot *boot)
{
	const uint32_t code_ar = AR_P | AR_S | AR_DB | AR_G | AR_TYPE_CODE_XR_ACCESSED;
	const uint32_t data_ar = AR_P | AR_S | AR_DB | AR_G | AR_TYPE_DATA_RW_ACCESSED;
	const uint16_t cs = boot->cs ? boot->cs : SEL_CODE32, ds = boot->ds ? boot->ds : SEL_DATA;

	vcpu_reset_to_init(v);
	vcpu_set_cr0(CR0_PE | CR0_ET);
	vcpu_write_segment(GUEST_CS_SELECTOR, cs, 0, 0xffffffff, code_ar);
	vcpu_write_segment(GUEST_SS_SELECTOR, ds, 0, 0xffffffff, data_ar);
	vcpu_write_segment(GUEST_DS_SELECTOR, ds, 0, 0xffffffff, data_ar);
	vcpu_write_segment(GUEST_ES_SELECTOR, ds, 0, 0xffffffff, data_ar);
	vcpu_write_segment(GUEST_FS_SELECTOR, ds, 0, 0xffffffff, data_ar);
	vcpu_write_segment(GUEST_GS_SELECTOR, ds, 0, 0xffffffff, data_ar);
	vcpu_write_segment(GUEST_LDTR_SELECTOR, 0, 0, 0, AR_UNUSABLE);
	vmcs_write32(GUEST_IDTR_LIMIT, 0);
	vmcs_writenat(GUEST_GDTR_BASE, boot->gdtr_base);
	vmcs_write32(GUEST_GDTR_LIMIT, boot->gdtr_limit);
	vmcs_writenat(GUEST_RIP, boot->entry);
	v->regs.rax = boot->eax;
	v->regs.rbx = boot->ebx;
	v->regs.rsi = boot->esi;
	v->regs.rdx = 0;
}

__noreturn void vcpu_vmcs_load_failed(uint64_t pa)
{
	panic("vmx: VMPTRLD of umbra's VMCS %#lx failed", pa);
}

void vcpu_vmcs_clear(struct vcpu *v, uint64_t pa)
{
	if (vmclear(pa) != VMX_SUCCEED)
		panic("vmx: VMCLEAR of umbra's VMCS %#lx failed", pa);
	if (v->current_vmcs == pa)
		v->current_vmcs = 0;
	if (pa == v->vmcs01.pa)
		v->vmcs01.launched = false;
	else if (pa == v->vmcs02.pa)
		v->vmcs02.launched = false;
}

void vcpu_write_host_state(void)
{
	struct percpu *p = this_cpu();
	struct {
		uint16_t limit;
		uint64_t base;
	} __packed idtr;

	__asm__ volatile("sidt %0" : "=m"(idtr));
	vmcs_writenat(HOST_CR0, read_cr0());
	vmcs_writenat(HOST_CR3, read_cr3());
	vmcs_writenat(HOST_CR4, read_cr4());
	vmcs_write16(HOST_CS_SELECTOR, SEL_CODE64);
	vmcs_write16(HOST_SS_SELECTOR, SEL_DATA);
	vmcs_write16(HOST_DS_SELECTOR, SEL_DATA);
	vmcs_write16(HOST_ES_SELECTOR, SEL_DATA);
	vmcs_write16(HOST_FS_SELECTOR, 0);
	vmcs_write16(HOST_GS_SELECTOR, 0);
	vmcs_write16(HOST_TR_SELECTOR, SEL_TSS);
	vmcs_writenat(HOST_FS_BASE, 0);
	vmcs_writenat(HOST_GS_BASE, (uint64_t)p); /* this_cpu() after every exit */
	vmcs_writenat(HOST_TR_BASE, (uint64_t)&p->tables.tss);
	vmcs_writenat(HOST_GDTR_BASE, (uint64_t)p->tables.gdt);
	vmcs_writenat(HOST_IDTR_BASE, idtr.base);
	vmcs_write32(HOST_IA32_SYSENTER_CS, 0);
	vmcs_writenat(HOST_IA32_SYSENTER_ESP, 0);
	vmcs_writenat(HOST_IA32_SYSENTER_EIP, 0);
	vmcs_write64(HOST_IA32_EFER, rdmsr(MSR_EFER));
	vmcs_write64(HOST_IA32_PAT, rdmsr(MSR_IA32_PAT));
	vmcs_writenat(HOST_RIP, (uint64_t)vmx_exit_entry);
}

static void setup_controls(struct vcpu *v)
{
	vmcs_write32(PIN_BASED_VM_EXEC_CONTROL, vm.ctl.pin);
	vmcs_write32(CPU_BASED_VM_EXEC_CONTROL, vm.ctl.proc);
	vmcs_write32(SECONDARY_VM_EXEC_CONTROL, vm.ctl.proc2);
	vmcs_write32(VM_EXIT_CONTROLS, vm.ctl.exit);
	vmcs_write32(VM_ENTRY_CONTROLS, vm.ctl.entry);
	vmcs_write32(EXCEPTION_BITMAP, 0);
	vmcs_write32(PAGE_FAULT_ERROR_CODE_MASK, 0);
	vmcs_write32(PAGE_FAULT_ERROR_CODE_MATCH, 0);
	vmcs_write32(CR3_TARGET_COUNT, 0);
	vmcs_write32(VM_EXIT_MSR_STORE_COUNT, 0);
	vmcs_write32(VM_EXIT_MSR_LOAD_COUNT, 0);
	vmcs_write32(VM_ENTRY_MSR_LOAD_COUNT, 0);
	vmcs_writenat(CR0_GUEST_HOST_MASK, vm.cr0_mask);
	vmcs_writenat(CR4_GUEST_HOST_MASK, vm.cr4_mask);
	vmcs_write64(MSR_BITMAP, vm.msr_bitmap);
	vmcs_write64(IO_BITMAP_A, vm.io_bitmap_a);
	vmcs_write64(IO_BITMAP_B, vm.io_bitmap_b);
	vmcs_write64(EPT_POINTER, vm.eptp);
	vmcs_write64(VMCS_LINK_POINTER, ~0ULL);
	if (vm.ctl.proc2 & ENABLE_VPID)
		vmcs_write16(VIRTUAL_PROCESSOR_ID, v->index + 1); /* 0 is VMX root's */
	if (vm.ctl.proc2 & ENABLE_XSAVES)
		vmcs_write64(XSS_EXIT_BITMAP, 0);
}

bool vcpu_init(struct vcpu *v, uint32_t index, const struct vcpu_boot *boot)
{
	enum vmx_result r;

	memset(v, 0, sizeof(*v));
	v->index = index;
	/* XSETBV on the guest's behalf needs CR4.OSXSAVE in umbra's own CR4. */
	if (cpuid(1, 0).ecx & BIT(26))
		write_cr4(read_cr4() | CR4_OSXSAVE);
	if (!vmx_cpu_on(&vm.caps))
		return false;
	v->vmcs01.pa = mem_alloc_pages(1);
	v->vmcs02.pa = mem_alloc_pages(1);
	if (!v->vmcs01.pa || !v->vmcs02.pa) {
		log_err("vmx: no memory for the VMCSs");
		return false;
	}
	*(volatile uint32_t *)v->vmcs01.pa = VMX_BASIC_REVISION(vm.caps.basic);
	*(volatile uint32_t *)v->vmcs02.pa = VMX_BASIC_REVISION(vm.caps.basic);
	r = vmclear(v->vmcs02.pa);
	if (r == VMX_SUCCEED)
		r = vmclear(v->vmcs01.pa);
	if (r == VMX_SUCCEED)
		r = vmptrld(v->vmcs01.pa);
	if (r != VMX_SUCCEED) {
		log_err("vmx: VMCLEAR/VMPTRLD of the VMCS failed");
		return false;
	}
	v->current_vmcs = v->vmcs01.pa;
	setup_controls(v);
	vcpu_write_host_state();
	if (boot->wait_for_sipi) {
		vcpu_reset_to_init(v);
		v->state = VCPU_WAIT_SIPI;
	} else {
		set_multiboot_entry(v, boot);
	}
	return true;
}

/* Register n's slot in guest_regs (SDM Vol. 2A Table 2-2 numbering); NULL for RSP. */
static uint64_t *gpr_slot(struct vcpu *v, unsigned int n)
{
	uint64_t *const regs[16] = { &v->regs.rax, &v->regs.rcx, &v->regs.rdx, &v->regs.rbx, NULL,
				     &v->regs.rbp, &v->regs.rsi, &v->regs.rdi, &v->regs.r8, &v->regs.r9,
				     &v->regs.r10, &v->regs.r11, &v->regs.r12, &v->regs.r13,
				     &v->regs.r14, &v->regs.r15 };

	return regs[n & 15];
}

uint64_t vcpu_gpr(struct vcpu *v, unsigned int n)
{
	uint64_t *slot = gpr_slot(v, n);

	return slot ? *slot : vmcs_readnat(GUEST_RSP);
}

void vcpu_set_gpr(struct vcpu *v, unsigned int n, uint64_t value)
{
	uint64_t *slot = gpr_slot(v, n);

	if (slot)
		*slot = value;
	else
		vmcs_writenat(GUEST_RSP, value);
}

__noreturn void vcpu_run(struct vcpu *v)
{
	for (;;) {
		int r;
		uint32_t reason;
		uint64_t t0;

		if (v->init_pending && nested_ops && nested_ops->init_signal(v))
			; /* an INIT exit for L1, or blocked while L1 is in VMX root operation */
		else if (v->init_pending && vapic_take_init(v))
			vcpu_reset_to_init(v);
		if (v->state == VCPU_WAIT_SIPI)
			vapic_wait_for_sipi(v);
		struct hw_vmcs *cur;

		exit_prepare_entry(v);
		cur = v->in_l2 ? &v->vmcs02 : &v->vmcs01;
		profile_phase(v, PROFILE_ENTRY_STUB);
		r = vmx_enter(&v->regs, cur->launched);
		t0 = rdtsc();
		profile_after_guest(v);
		if (r != 0) {
			exit_entry_failed(v, r);
			continue;
		}
		reason = vmcs_read32(VM_EXIT_REASON);
		/* A VM-entry failure (SDM 26.8) leaves the VMCS as it was: not launched. */
		if (!(reason & EXIT_REASON_ENTRY_FAILURE))
			cur->launched = true;
		exit_dispatch(v, reason, t0);
	}
}
