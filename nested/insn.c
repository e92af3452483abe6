/* SPDX-License-Identifier: BSD-2-Clause */
/* L1's VMX instructions, emulated as the SDM's pseudocode says (Vol. 3C 30.3). */
#include "arch/x86/cpu.h"
#include "arch/x86/ept.h"
#include "arch/x86/guest_mem.h"
#include "arch/x86/vmx_caps.h"
#include "arch/x86/vmx_controls.h"
#include "core/log.h"
#include "core/panic.h"
#include "core/string.h"
#include "nested/ept02.h"
#include "nested/ept12.h"
#include "nested/nvmx.h"
#include "nested/operand.h"
#include "nested/vmx_msrs.h"

#define VEC_UD 6
#define VEC_GP 13
#define VEC_PF 14
#define VEC_SS 12

#define RFLAGS_ARITH (RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF)
#define INTERRUPTIBILITY_MOV_SS BIT(1)

#define AR_UNUSABLE BIT(16)

void nvmx_succeed(void)
{
	vmcs_writenat(GUEST_RFLAGS, vmcs_readnat(GUEST_RFLAGS) & ~RFLAGS_ARITH);
}

void nvmx_fail_invalid(void)
{
	vmcs_writenat(GUEST_RFLAGS, (vmcs_readnat(GUEST_RFLAGS) & ~RFLAGS_ARITH) | RFLAGS_CF);
}

void nvmx_fail(struct vcpu *v, uint32_t err)
{
	struct nvmx *n = nvmx_of(v);

	if (n->current == NVMX_NO_VMCS) {
		nvmx_fail_invalid();
		return;
	}
	vmcs_writenat(GUEST_RFLAGS, (vmcs_readnat(GUEST_RFLAGS) & ~RFLAGS_ARITH) | RFLAGS_ZF);
	VMCS12_SET(&n->vmcs12, VM_INSTRUCTION_ERROR, err);
}

/* CPL is SS.DPL (SDM Vol. 3C 24.4.1). */
static bool guest_cpl_above_0(void)
{
	return ((vmcs_read32(GUEST_SS_AR_BYTES) >> 5) & 3) != 0;
}

static bool long_mode_64(void)
{
	return (vmcs_read64(GUEST_IA32_EFER) & EFER_LMA) && (vmcs_read32(GUEST_CS_AR_BYTES) & BIT(13));
}

/* A 32-bit destination zero-extends, as every 32-bit register write does. */
static void set_gpr(struct vcpu *v, unsigned int n, uint64_t value)
{
	vcpu_set_gpr(v, n, long_mode_64() ? value : (uint32_t)value);
}

/*
 * The linear address of a memory operand (SDM Vol. 3A 3.7.5) from the exit
 * information; false after injecting the #GP or #SS a bad address raises.
 */
static bool operand_address(struct vcpu *v, uint32_t info, uint64_t disp, size_t size, uint64_t *la)
{
	static const uint32_t sels[6] = { GUEST_ES_SELECTOR, GUEST_CS_SELECTOR, GUEST_SS_SELECTOR,
					  GUEST_DS_SELECTOR, GUEST_FS_SELECTOR, GUEST_GS_SELECTOR };
	struct operand_ctx ctx = { .long_mode = long_mode_64() };
	enum operand_fault f;

	for (unsigned int i = 0; i < 16; i++)
		ctx.gpr[i] = vcpu_gpr(v, i);
	for (unsigned int s = 0; s < 6; s++) {
		uint32_t idx = (sels[s] - GUEST_ES_SELECTOR) / 2;

		ctx.seg_base[s] = vmcs_read(GUEST_ES_BASE + 2 * idx);
		ctx.seg_limit[s] = (uint32_t)vmcs_read(GUEST_ES_LIMIT + 2 * idx);
		ctx.seg_usable[s] = !(vmcs_read(GUEST_ES_AR_BYTES + 2 * idx) & AR_UNUSABLE);
	}
	f = operand_linear(&ctx, info, disp, size, la);
	if (f != OPERAND_OK)
		inject_exception(f == OPERAND_SS ? VEC_SS : VEC_GP, true, 0);
	return f == OPERAND_OK;
}

/*
 * Copy to or from L1's linear memory. A page L1's paging does not map, or
 * maps without the rights the access needs, raises #PF in L1 (CR2 is L1's
 * while umbra runs); memory that is umbra's stops the guest, as a direct
 * access would (EPT maps none of it).
 */
static bool access_linear_via(struct vcpu *v, struct gpa_translator *t, uint64_t la, void *buf, size_t len,
			      bool write)
{
	uint8_t *p = buf;

	while (len) {
		size_t chunk = MIN(len, 4096 - (la & 0xfff));
		uint32_t err;
		uint64_t pa;

		if (!guest_translate_data_via(t, la, write, &pa, &err)) {
			if (t && t->failed)
				return false; /* L1's EPT refused: the caller's to decide */
			write_cr2(la);
			inject_exception(VEC_PF, true, err);
			return false;
		}
		if (!(write ? guest_write_phys(pa, p, chunk) : guest_read_phys(pa, p, chunk)))
			guest_stop(v, "VMX instruction operand at %#lx is umbra's memory", pa);
		la += chunk;
		p += chunk;
		len -= chunk;
	}
	return true;
}

static bool access_linear(struct vcpu *v, uint64_t la, void *buf, size_t len, bool write)
{
	return access_linear_via(v, NULL, la, buf, len, write);
}

/* L2's guest-physical addresses through L1's EPT, for operands umbra accesses for L2. */
struct l2_ept_ctx {
	struct vcpu *v;
	struct nvmx *n;
	enum ept02_access result;
	/* Where L1's EPT refused (EPT02_ACCESS_REFUSED): the violation the CPU would report. */
	uint64_t gpa2, qual;
};

static bool l2_ept_translate(void *ctx, uint64_t gpa2, bool paging_structure, bool write, uint64_t *gpa1)
{
	struct l2_ept_ctx *x = ctx;
	bool ad = VMCS12_GET(&x->n->vmcs12, EPT_POINTER) & EPTP_AD_ENABLE;
	/* SDM Vol. 3C 29.3.3.2: with A/D flags, accesses to guest paging structures are writes for EPT. */
	uint64_t access = (write || (paging_structure && ad)) ? EPT_QUAL_WRITE : EPT_QUAL_READ, perms;

	x->result = ept02_l2_access(x->v, x->n, gpa2, access, gpa1, &perms);
	/* SDM Vol. 3C 27.2.1, Table 28-7: access, what L1's EPT allowed, linear address valid, final or not. */
	x->gpa2 = gpa2;
	x->qual = access | (perms << EPT_QUAL_PERMS_SHIFT) | EPT_QUAL_LINEAR_VALID |
		  (paging_structure ? 0 : EPT_QUAL_FINAL_ACCESS);
	return x->result == EPT02_ACCESS_OK;
}

/*
 * An operand access for L2 that did not complete, the instruction not done:
 * a #PF went to L2, or it stopped in L1's EPT, where the PML-full exit went
 * to L1 already or the EPT violation the CPU would take goes to L1 now.
 */
static void l2_operand_failed(struct vcpu *v, const struct gpa_translator *t)
{
	const struct l2_ept_ctx *x = t->ctx;

	if (t->failed && x->result == EPT02_ACCESS_REFUSED)
		nvmx_reflect_ept_violation(v, x->qual, x->gpa2, t->la);
}

/* The 64-bit physical-address operand of VMXON, VMCLEAR and VMPTRLD. */
static bool read_pointer(struct vcpu *v, uint64_t qual, uint64_t *addr)
{
	uint32_t info = vmcs_read32(VMX_INSTRUCTION_INFO);
	uint64_t la;

	return operand_address(v, info, qual, 8, &la) && access_linear(v, la, addr, 8, false);
}

/* SDM: 4 KiB aligned and within the physical-address width. */
static bool valid_vmcs_address(uint64_t addr)
{
	return IS_ALIGNED(addr, PAGE_SIZE) && !(addr >> vm.phys_addr_bits);
}

/*
 * A VMXON, VMCS or VMCLEAR operand's region, as the CPU sees it: L1's RAM,
 * or (anywhere else, umbra's memory included) memory that is not there,
 * which reads all ones and drops writes. The SDM (30.3) checks only the
 * address itself; a region of all ones then fails the revision check of
 * VMXON and VMPTRLD, and VMCLEAR succeeds with nothing to write.
 */
static void read_region(uint64_t addr, void *buf, size_t len)
{
	guest_read_phys_or_ones(addr, buf, len);
}

static void write_region(uint64_t addr, const void *buf, size_t len)
{
	guest_write_phys_or_drop(addr, buf, len);
}

/* Write the current vmcs12 back to its region (VMCLEAR, VMPTRLD of another, VMXOFF). */
static void flush_current(struct vcpu *v, struct nvmx *n)
{
	if (n->current == NVMX_NO_VMCS)
		return;
	shadow_to_vmcs12(v, n); /* what L1 wrote through the shadow */
	shadow_unlink(v, n);
	n->vmcs12.magic = VMCS12_MAGIC;
	n->vmcs12.launch_state = launched_has(&n->launched, n->current) || n->vmcs12.launch_state;
	/* The revision word is L1's: keep what it wrote. */
	read_region(n->current, &n->vmcs12.revision, 4);
	write_region(n->current, &n->vmcs12, sizeof(n->vmcs12));
	n->current = NVMX_NO_VMCS;
}

/* SDM Vol. 3C 23.7: VMXON needs CR0 and CR4, as L1 sees them, to satisfy the fixed bits. */
static bool guest_cr_fixed_ok(void)
{
	uint64_t cr0 = vcpu_guest_cr0(), cr4 = vcpu_guest_cr4();

	return (cr0 & vm.caps.cr0_fixed0) == vm.caps.cr0_fixed0 && !(cr0 & ~vm.caps.cr0_fixed1) &&
	       (cr4 & vm.caps.cr4_fixed0) == vm.caps.cr4_fixed0 && !(cr4 & ~vm.caps.cr4_fixed1);
}

static enum exit_action do_vmxon(struct vcpu *v, struct nvmx *n, uint64_t qual)
{
	uint64_t addr;
	uint32_t rev;

	/* SDM Vol. 3C 30.3, VMXON: CR4.VMXE = 0 is #UD whatever the CPL; then CPL > 0 is #GP(0). */
	if (!(vcpu_guest_cr4() & CR4_VMXE)) {
		inject_exception(VEC_UD, false, 0);
		return EXIT_RESUME;
	}
	if (guest_cpl_above_0()) {
		inject_exception(VEC_GP, true, 0);
		return EXIT_RESUME;
	}
	if (n->vmxon) {
		nvmx_fail(v, VMXERR_VMXON_IN_VMX_ROOT_OPERATION);
		return EXIT_SKIP_INSN;
	}
	if (!guest_cr_fixed_ok()) {
		inject_exception(VEC_GP, true, 0);
		return EXIT_RESUME;
	}
	if (!read_pointer(v, qual, &addr))
		return EXIT_RESUME;
	if (!valid_vmcs_address(addr)) {
		nvmx_fail_invalid();
		return EXIT_SKIP_INSN;
	}
	read_region(addr, &rev, 4);
	if (rev != NVMX_VMCS_REVISION) {
		nvmx_fail_invalid();
		return EXIT_SKIP_INSN;
	}
	n->vmxon = true;
	n->vmxon_ptr = addr;
	n->vpid02_owner = 0; /* the next L2 with a VPID starts from a flushed vmcs02 VPID */
	n->current = NVMX_NO_VMCS;
	n->vmcs02_for = NVMX_NO_VMCS;
	launched_init(&n->launched);
	nvmx_cr_intercept(true);
	nvmx_succeed();
	return EXIT_SKIP_INSN;
}

static enum exit_action do_vmxoff(struct vcpu *v, struct nvmx *n)
{
	/*
	 * There is no L2 after VMXOFF: an NMI still pending for one (it came
	 * while L2 ran and had not been delivered when L2 exited) is what a
	 * CPU's one NMI latch would then deliver to L1 (SDM Vol. 3A 6.7.1).
	 */
	if (__atomic_exchange_n(&v->nmi_pending_l2, 0, __ATOMIC_RELAXED))
		__atomic_fetch_add(&v->nmi_pending_l1, 1, __ATOMIC_RELAXED);
	flush_current(v, n);
	n->vmxon = false;
	nvmx_cr_intercept(false);
	nvmx_succeed();
	return EXIT_SKIP_INSN;
}

static enum exit_action do_vmclear(struct vcpu *v, struct nvmx *n, uint64_t qual)
{
	struct vmcs12 head;
	uint64_t addr;

	if (!read_pointer(v, qual, &addr))
		return EXIT_RESUME;
	if (!valid_vmcs_address(addr)) {
		nvmx_fail(v, VMXERR_VMCLEAR_INVALID_ADDRESS);
		return EXIT_SKIP_INSN;
	}
	if (addr == n->vmxon_ptr) {
		nvmx_fail(v, VMXERR_VMCLEAR_VMXON_POINTER);
		return EXIT_SKIP_INSN;
	}
	launched_remove(&n->launched, addr);
	if (addr == n->current) {
		n->vmcs12.launch_state = 0;
		flush_current(v, n);
	} else {
		/* Launch state clear; a region umbra never wrote gets umbra's format. */
		read_region(addr, &head, sizeof(head));
		if (head.magic != VMCS12_MAGIC) {
			memset(head.fields, 0, sizeof(head.fields));
			head.magic = VMCS12_MAGIC;
		}
		head.launch_state = 0;
		write_region(addr, &head, sizeof(head));
	}
	if (n->vmcs02_for == addr)
		n->vmcs02_for = NVMX_NO_VMCS;
	nvmx_succeed();
	return EXIT_SKIP_INSN;
}

static enum exit_action do_vmptrld(struct vcpu *v, struct nvmx *n, uint64_t qual)
{
	uint64_t addr;
	uint32_t rev;

	if (!read_pointer(v, qual, &addr))
		return EXIT_RESUME;
	if (!valid_vmcs_address(addr)) {
		nvmx_fail(v, VMXERR_VMPTRLD_INVALID_ADDRESS);
		return EXIT_SKIP_INSN;
	}
	if (addr == n->vmxon_ptr) {
		nvmx_fail(v, VMXERR_VMPTRLD_VMXON_POINTER);
		return EXIT_SKIP_INSN;
	}
	/* Bit 31 asks for a shadow VMCS: offered with VMCS shadowing (nested/vmx_msrs.c). */
	read_region(addr, &rev, 4);
	if ((rev & ~NVMX_SHADOW_VMCS_INDICATOR) != NVMX_VMCS_REVISION) {
		nvmx_fail(v, VMXERR_VMPTRLD_INCORRECT_REVISION_ID);
		return EXIT_SKIP_INSN;
	}
	if (addr != n->current) {
		flush_current(v, n);
		read_region(addr, &n->vmcs12, sizeof(n->vmcs12));
		if (n->vmcs12.magic != VMCS12_MAGIC) {
			/* Never VMCLEARed: the SDM leaves the content undefined; umbra's is empty. */
			memset(n->vmcs12.fields, 0, sizeof(n->vmcs12.fields));
			n->vmcs12.launch_state = 0;
		}
		n->current = addr;
		/* Its content came from memory, not through VMWRITEs: check and build it all. */
		n->vmcs02_stale = true;
		shadow_link(v, n);
	}
	nvmx_succeed();
	return EXIT_SKIP_INSN;
}

static enum exit_action do_vmptrst(struct vcpu *v, struct nvmx *n, uint64_t qual)
{
	uint32_t info = vmcs_read32(VMX_INSTRUCTION_INFO);
	uint64_t value = n->current, la;

	if (!operand_address(v, info, qual, 8, &la) || !access_linear(v, la, &value, 8, true))
		return EXIT_RESUME;
	nvmx_succeed();
	return EXIT_SKIP_INSN;
}

/*
 * VMREAD's and VMWRITE's field-encoding register: all 64 bits in 64-bit
 * mode (bits 63:32 set is an unsupported field, SDM 30.3), its low 32 bits
 * elsewhere, where the operand size is 32 bits and the upper half of the
 * register is not part of the operand.
 */
static uint64_t field_operand(struct vcpu *v, uint32_t info, size_t size)
{
	uint64_t field = vcpu_gpr(v, II_REG2(info));

	return size == 8 ? field : (uint32_t)field;
}

/*
 * These three are inline: they sit on the path of every VMREAD and VMWRITE
 * that exits (a call each cost 6% of a round trip with shadowing off).
 *
 * SDM Vol. 3C 30.3: VMfailValid(12) for a field no CPU has, VMfailValid(13)
 * for a VMWRITE of an exit-information field without "VMWRITE to any
 * field" (IA32_VMX_MISC[29]); 0 when the access goes on, at vmcs12 *slot.
 */
static __always_inline uint32_t field_error(uint64_t field, bool write, int *slot)
{
	uint64_t misc = 0;

	*slot = field >> 32 ? -1 : vmcs12_slot((uint32_t)field);
	if (*slot < 0)
		return VMXERR_UNSUPPORTED_VMCS_COMPONENT;
	if (write && VMCS_FIELD_TYPE(field) == VMCS_TYPE_READ_ONLY) {
		vmx_msr_read(MSR_IA32_VMX_MISC, &misc);
		if (!(misc & VMX_MISC_VMWRITE_ANY_FIELD))
			return VMXERR_VMWRITE_READ_ONLY_VMCS_COMPONENT;
	}
	return 0;
}

/* VMWRITE's source, a register or memory of the operand size; false after a fault (or t->failed). */
static __always_inline bool vmwrite_source(struct vcpu *v, struct gpa_translator *t, uint32_t info, uint64_t qual,
					   size_t size, uint64_t *value)
{
	uint64_t la;

	*value = 0;
	if (II_IS_REG(info))
		*value = vcpu_gpr(v, II_REG1(info));
	else if (!operand_address(v, info, qual, size, &la) || !access_linear_via(v, t, la, value, size, false))
		return false;
	if (size == 4)
		*value = (uint32_t)*value;
	return true;
}

/* VMREAD's destination: the field's value, its low half for a 32-bit operand (30.3); false as above. */
static __always_inline bool vmread_dest(struct vcpu *v, struct gpa_translator *t, uint32_t info, uint64_t qual,
					size_t size, uint64_t value)
{
	uint64_t la;

	if (size == 4)
		value = (uint32_t)value;
	if (II_IS_REG(info))
		set_gpr(v, II_REG1(info), value);
	else if (!operand_address(v, info, qual, size, &la) || !access_linear_via(v, t, la, &value, size, true))
		return false;
	return true;
}

static enum exit_action do_vmread(struct vcpu *v, struct nvmx *n, uint64_t qual)
{
	uint32_t info = vmcs_read32(VMX_INSTRUCTION_INFO);
	size_t size = long_mode_64() ? 8 : 4;
	uint64_t field = field_operand(v, info, size);
	uint32_t err;
	int slot;

	if (n->current == NVMX_NO_VMCS) {
		nvmx_fail_invalid();
		return EXIT_SKIP_INSN;
	}
	err = field_error(field, false, &slot);
	if (err) {
		nvmx_fail(v, err);
		return EXIT_SKIP_INSN;
	}
	n->vmread_exits[slot]++;
	if (!vmread_dest(v, NULL, info, qual, size, vmcs12_read(&n->vmcs12, (uint32_t)field)))
		return EXIT_RESUME;
	nvmx_succeed();
	return EXIT_SKIP_INSN;
}

static enum exit_action do_vmwrite(struct vcpu *v, struct nvmx *n, uint64_t qual)
{
	uint32_t info = vmcs_read32(VMX_INSTRUCTION_INFO);
	size_t size = long_mode_64() ? 8 : 4;
	uint64_t field = field_operand(v, info, size), value;
	uint32_t err;
	int slot;

	/* SDM Vol. 3C 30.3, VMWRITE: no current VMCS fails before the source is read. */
	if (n->current == NVMX_NO_VMCS) {
		nvmx_fail_invalid();
		return EXIT_SKIP_INSN;
	}
	if (!vmwrite_source(v, NULL, info, qual, size, &value))
		return EXIT_RESUME;
	err = field_error(field, true, &slot);
	if (err) {
		nvmx_fail(v, err);
		return EXIT_SKIP_INSN;
	}
	n->vmwrite_exits[slot]++;
	vmcs12_write(&n->vmcs12, (uint32_t)field, value);
	n->dirty[slot / 64] |= 1ULL << (slot % 64);
	shadow_write_field(v, n, (uint32_t)field); /* a read-only field the shadow also holds */
	nvmx_succeed();
	return EXIT_SKIP_INSN;
}

/*
 * L1's VMCS shadowing for L2 (secondary control 14, SDM Vol. 3C 24.6.15,
 * 25.1.3, 30.3). vmcs02 runs without shadowing, so every VMREAD and
 * VMWRITE of L2 exits to umbra. It is L1's exit when vmcs12 does not
 * shadow, when the field encoding has a bit above 14 (bits 63:15 in 64-bit
 * mode, 31:15 elsewhere), or when the field's bit is set in L1's VMREAD or
 * VMWRITE bitmap (a bitmap outside L1's RAM reads all ones: every access
 * exits). Otherwise umbra does what the CPU does without exiting: #GP(0)
 * at CPL > 0, VMfailInvalid with a link pointer of all ones, else the
 * access on the VMCS the link pointer names, in L1's memory (not current
 * while L2 runs, so its region holds its data), with VMfailValid(12) or
 * (13) written to vmcs12, the current VMCS. A memory operand of an L2 on
 * L1's EPT goes through L1's EPT as the CPU's access would (A/D flags,
 * PML); where L1's EPT does not allow it, L1 gets the EPT violation the
 * CPU would take. False when the exit is L1's.
 */
bool nvmx_l2_shadow_access(struct vcpu *v, struct nvmx *n, bool write, uint64_t qual)
{
	const struct vmcs12 *c = &n->vmcs12;
	uint32_t info = vmcs_read32(VMX_INSTRUCTION_INFO), proc = VMCS12_GET(c, CPU_BASED_VM_EXEC_CONTROL);
	uint32_t proc2 = (proc & SECONDARY_CONTROLS) ? VMCS12_GET(c, SECONDARY_VM_EXEC_CONTROL) : 0;
	size_t size = long_mode_64() ? 8 : 4;
	uint64_t field = field_operand(v, info, size), link = VMCS12_GET(c, VMCS_LINK_POINTER);
	uint64_t slot_pa, slot_value = 0, value = 0;
	struct l2_ept_ctx ctx = { .v = v, .n = n, .result = EPT02_ACCESS_OK };
	struct gpa_translator l2ept = { .fn = l2_ept_translate, .ctx = &ctx };
	struct gpa_translator *t = (proc2 & ENABLE_EPT) ? &l2ept : NULL;
	uint32_t magic = 0, err;
	uint8_t bits;
	int slot;

	if (!(proc2 & VMCS_SHADOWING) || (field >> 15))
		return false;
	guest_read_phys_or_ones(VMCS12_GET(c, write ? VMWRITE_BITMAP : VMREAD_BITMAP) + (field >> 3), &bits, 1);
	if (bits & (1u << (field & 7)))
		return false;
	if (guest_cpl_above_0()) {
		inject_exception(VEC_GP, true, 0);
		return true;
	}
	if (link == ~0ULL) {
		nvmx_fail_invalid();
		exit_skip_instruction();
		return true;
	}
	if (write && !vmwrite_source(v, t, info, qual, size, &value)) {
		l2_operand_failed(v, &l2ept);
		return true;
	}
	err = field_error(field, write, &slot);
	if (err) {
		nvmx_fail(v, err);
		exit_skip_instruction();
		return true;
	}
	/* A region umbra never wrote back is empty, as VMPTRLD would find it (do_vmptrld()). */
	read_region(link + offsetof(struct vmcs12, magic), &magic, sizeof(magic));
	slot_pa = link + offsetof(struct vmcs12, fields) + (uint64_t)slot * sizeof(uint64_t);
	if (magic == VMCS12_MAGIC)
		read_region(slot_pa, &slot_value, sizeof(slot_value));
	if (write) {
		if (magic != VMCS12_MAGIC) {
			static const uint64_t empty[VMCS_FIELD_COUNT];
			const uint32_t words[2] = { VMCS12_MAGIC, 0 }; /* magic, launch state "clear" */

			write_region(link + offsetof(struct vmcs12, fields), empty, sizeof(empty));
			write_region(link + offsetof(struct vmcs12, magic), words, sizeof(words));
		}
		slot_value = vmcs12_slot_update(slot_value, (uint32_t)field, value);
		write_region(slot_pa, &slot_value, sizeof(slot_value));
	} else if (!vmread_dest(v, t, info, qual, size, vmcs12_slot_value(slot_value, (uint32_t)field))) {
		l2_operand_failed(v, &l2ept);
		return true;
	}
	nvmx_succeed();
	exit_skip_instruction();
	return true;
}

static enum exit_action do_launch(struct vcpu *v, struct nvmx *n, bool launch)
{
	bool launched;

	/* SDM Vol. 3C 24.10, 26.1: no VM entry with a shadow VMCS as the current VMCS (Bochs allows it). */
	if (n->current == NVMX_NO_VMCS || (n->vmcs12.revision & NVMX_SHADOW_VMCS_INDICATOR)) {
		nvmx_fail_invalid();
		return EXIT_SKIP_INSN;
	}
	if (vmcs_read32(GUEST_INTERRUPTIBILITY_INFO) & INTERRUPTIBILITY_MOV_SS) {
		nvmx_fail(v, VMXERR_ENTRY_EVENTS_BLOCKED_BY_MOV_SS);
		return EXIT_SKIP_INSN;
	}
	launched = launched_has(&n->launched, n->current) || n->vmcs12.launch_state;
	if (launch && launched) {
		nvmx_fail(v, VMXERR_VMLAUNCH_NONCLEAR_VMCS);
		return EXIT_SKIP_INSN;
	}
	if (!launch && !launched) {
		nvmx_fail(v, VMXERR_VMRESUME_NONLAUNCHED_VMCS);
		return EXIT_SKIP_INSN;
	}
	return nvmx_enter_l2(v, launch);
}

/* INVEPT exists for L1 when IA32_VMX_EPT_VPID_CAP lists it (SDM A.10, bit 20). */
static bool ept_offered(void)
{
	uint64_t cap = 0;

	return vmx_msr_read(MSR_IA32_VMX_EPT_VPID_CAP, &cap) && (cap & EPT_CAP_INVEPT);
}

void nvmx_flush_vpid02(struct vcpu *v)
{
	bool single = vm.caps.ept_vpid & VPID_CAP_INVVPID_SINGLE;

	if (invvpid(single ? INVVPID_SINGLE_CONTEXT : INVVPID_ALL_CONTEXT, NVMX_VPID02(v), 0) != VMX_SUCCEED)
		panic("vmx: INVVPID of vmcs02's VPID %u failed", NVMX_VPID02(v));
}

/* INVEPT's 128-bit descriptor (SDM Vol. 3C 30.3, Figure 30-1). */
struct invept_desc {
	uint64_t eptp;
	uint64_t reserved;
};

/*
 * SDM Vol. 3C 30.3, INVEPT: a type IA32_VMX_EPT_VPID_CAP does not list
 * (bits 25, 26), or for single-context an EPTP that would fail the VM-entry
 * checks, is VMfailValid(28). Single-context drops the shadow EPT built
 * from that EPTP on this vCPU, all-context every shadow EPT of it; as on a
 * CPU, other vCPUs keep theirs until L1 runs INVEPT there too.
 */
static enum exit_action do_invept(struct vcpu *v, struct nvmx *n, uint64_t qual)
{
	uint32_t info = vmcs_read32(VMX_INSTRUCTION_INFO);
	uint64_t type = vcpu_gpr(v, II_REG2(info)), cap = 0, la;
	struct ept12_caps caps;
	struct invept_desc d;

	if (!long_mode_64())
		type = (uint32_t)type;
	vmx_msr_read(MSR_IA32_VMX_EPT_VPID_CAP, &cap);
	if (!((type == INVEPT_SINGLE_CONTEXT && (cap & EPT_CAP_INVEPT_SINGLE)) ||
	      (type == INVEPT_ALL_CONTEXT && (cap & EPT_CAP_INVEPT_ALL)))) {
		nvmx_fail(v, VMXERR_INVALID_OPERAND_TO_INVEPT_INVVPID);
		return EXIT_SKIP_INSN;
	}
	if (!operand_address(v, info, qual, sizeof(d), &la) || !access_linear(v, la, &d, sizeof(d), false))
		return EXIT_RESUME;
	ept02_caps12(&caps);
	if (type == INVEPT_SINGLE_CONTEXT && !ept12_eptp_valid(&caps, d.eptp)) {
		nvmx_fail(v, VMXERR_INVALID_OPERAND_TO_INVEPT_INVVPID);
		return EXIT_SKIP_INSN;
	}
	ept02_invept(&n->ept02, type == INVEPT_ALL_CONTEXT, d.eptp);
	nvmx_succeed();
	return EXIT_SKIP_INSN;
}

/* INVVPID's 128-bit descriptor (SDM Vol. 3C 30.3, Figure 30-2). */
struct invvpid_desc {
	uint64_t vpid; /* bits 15:0; 63:16 reserved, must be 0 */
	uint64_t linear_address;
};

/*
 * SDM Vol. 3C 30.3, INVVPID: the type from a register (64 bits in 64-bit
 * mode, else 32), the descriptor from memory. A type IA32_VMX_EPT_VPID_CAP
 * does not list, reserved descriptor bits, VPID 0 for a type other than
 * all-context, or a non-canonical address for individual-address is
 * VMfailValid(28). Every valid INVVPID flushes vmcs02's VPID: it holds the
 * translations of one of L1's VPIDs (map_vpid() in nested/entry.c), and
 * invalidating more than asked is allowed (28.3.3.3); the next entry's VPID
 * mapping drops what another VPID cached.
 */
static enum exit_action do_invvpid(struct vcpu *v, uint64_t qual)
{
	static const uint64_t type_cap[4] = { VPID_CAP_INVVPID_ADDR, VPID_CAP_INVVPID_SINGLE, VPID_CAP_INVVPID_ALL,
					      VPID_CAP_INVVPID_SINGLE_NONGLOBAL };
	uint32_t info = vmcs_read32(VMX_INSTRUCTION_INFO);
	uint64_t type = vcpu_gpr(v, II_REG2(info)), cap = 0, la;
	struct invvpid_desc d;

	if (!long_mode_64())
		type = (uint32_t)type;
	/* The type is checked before the descriptor is read. */
	vmx_msr_read(MSR_IA32_VMX_EPT_VPID_CAP, &cap);
	if (type > INVVPID_SINGLE_CONTEXT_RETAINING_GLOBALS || !(cap & type_cap[type])) {
		nvmx_fail(v, VMXERR_INVALID_OPERAND_TO_INVEPT_INVVPID);
		return EXIT_SKIP_INSN;
	}
	if (!operand_address(v, info, qual, sizeof(d), &la) || !access_linear(v, la, &d, sizeof(d), false))
		return EXIT_RESUME;
	if ((d.vpid >> 16) || (type != INVVPID_ALL_CONTEXT && !(uint16_t)d.vpid) ||
	    (type == INVVPID_INDIVIDUAL_ADDRESS && !is_canonical(d.linear_address))) {
		nvmx_fail(v, VMXERR_INVALID_OPERAND_TO_INVEPT_INVVPID);
		return EXIT_SKIP_INSN;
	}
	nvmx_flush_vpid02(v);
	nvmx_succeed();
	return EXIT_SKIP_INSN;
}

/*
 * SDM Vol. 3C 30.3, VMCALL in VMX root operation: #GP(0) at CPL > 0, else,
 * with the dual-monitor treatment never active, VMfail(1). Outside VMX
 * operation (#UD on a CPU) VMCALL stays umbra's hypercall interface.
 */
bool nvmx_vmcall_in_root(struct vcpu *v, enum exit_action *action)
{
	struct nvmx *n = nvmx_of(v);

	if (!n->vmxon || v->in_l2)
		return false;
	if (guest_cpl_above_0()) {
		inject_exception(VEC_GP, true, 0);
		*action = EXIT_RESUME;
		return true;
	}
	nvmx_fail(v, VMXERR_VMCALL_IN_ROOT);
	*action = EXIT_SKIP_INSN;
	return true;
}

/*
 * Checks common to every VMX instruction in VMX non-root (SDM Vol. 3C
 * 30.3): outside VMX operation #UD (VMXON aside), at CPL > 0 #GP(0) (VMXON
 * after its own #UD).
 * The CR0.PE, RFLAGS.VM and compatibility-mode #UDs are the CPU's own and
 * happen before the VM exit.
 */
enum exit_action nvmx_vmx_instruction(struct vcpu *v, uint32_t reason, uint64_t qual)
{
	struct nvmx *n = nvmx_of(v);

	if (reason != EXIT_REASON_VMXON && !n->vmxon) {
		inject_exception(VEC_UD, false, 0);
		return EXIT_RESUME;
	}
	if (reason == EXIT_REASON_VMFUNC || (reason == EXIT_REASON_INVEPT && !ept_offered()) ||
	    (reason == EXIT_REASON_INVVPID && !vmx_msr_read(MSR_IA32_VMX_EPT_VPID_CAP, &(uint64_t){ 0 }))) {
		/* Not offered to L1 (IA32_VMX_PROCBASED_CTLS2 says so): as on a CPU without them. */
		inject_exception(VEC_UD, false, 0);
		return EXIT_RESUME;
	}
	/* VMXON checks CR4.VMXE (#UD) before the CPL (do_vmxon()). */
	if (reason != EXIT_REASON_VMXON && guest_cpl_above_0()) {
		inject_exception(VEC_GP, true, 0);
		return EXIT_RESUME;
	}
	/*
	 * While vmcs02 is L1's shadow (after a reflected exit), vmcs12 lacks L2's
	 * state and the exit information: every VMX instruction but VMRESUME
	 * (whose emulation reads back what it needs) gets vmcs12 whole, and L1
	 * continues with umbra's own shadow.
	 */
	if (n->stale12 && reason != EXIT_REASON_VMRESUME)
		nvmx_l1_view_own(v, n);
	switch (reason) {
	case EXIT_REASON_VMXON: return do_vmxon(v, n, qual);
	case EXIT_REASON_VMXOFF: return do_vmxoff(v, n);
	case EXIT_REASON_VMCLEAR: return do_vmclear(v, n, qual);
	case EXIT_REASON_VMPTRLD: return do_vmptrld(v, n, qual);
	case EXIT_REASON_VMPTRST: return do_vmptrst(v, n, qual);
	case EXIT_REASON_VMREAD: return do_vmread(v, n, qual);
	case EXIT_REASON_VMWRITE: return do_vmwrite(v, n, qual);
	case EXIT_REASON_VMLAUNCH: return do_launch(v, n, true);
	case EXIT_REASON_INVVPID: return do_invvpid(v, qual);
	case EXIT_REASON_INVEPT: return do_invept(v, n, qual);
	case EXIT_REASON_VMRESUME: return do_launch(v, n, false);
	default:
		guest_stop(v, "VMX instruction exit %u not emulated", reason);
	}
}
