/* SPDX-License-Identifier: BSD-2-Clause */
/* One program step: a VMX instruction with operands near the valid/invalid boundary. */
#include "arch/x86/cpu.h"
#include "core/string.h"
#include "tests/guests/fuzz/fuzz.h"

/*
 * Addresses the generator points VMX instructions at (docs/fuzzing.md,
 * "operands"). Every region is in this image's .bss, where physical ==
 * virtual in both runs. "Past RAM" is FUZZ_PAST_RAM: both machines have
 * less RAM than that (the campaign boots 256 MiB) and nothing is there.
 * The SDM leaves VMCS regions and the structures they point to undefined
 * outside write-back RAM (SDM Vol. 3C 24.11.4, IA32_VMX_BASIC[53:50]):
 * Bochs reads all ones there and drops writes, umbra refuses them with
 * VMfail. Such pointers are generated only with undefined=1 (and
 * structures with undefined=2) on the command line (fuzz_undefined),
 * never in a compared campaign. Memory
 * operands (the m64 holding a pointer, VMREAD's and VMWRITE's memory forms) are always in this image, or non-canonical
 * (#GP), or above 4 GiB (not mapped by the boot page tables: #PF): an
 * access to unbacked guest-physical memory is not an L1 VMX question.
 */
#define NONCANONICAL 0x8000000000000000ULL
#define UNMAPPED_LINEAR 0x100000000ULL /* 4 GiB: the boot tables map [0, 4 GiB) */

static struct vmx_region vmcs_c;
static struct vmx_region junk; /* random content: a random revision identifier */
struct vmx_region *const pool[POOL_COUNT] = { &vmcs_a, &vmcs_b, &vmcs_c, &vmcs_scratch };
struct fuzz_state fs;
uint32_t fuzz_undefined;

/* Memory operands: the pointer or value a VMX instruction reads or writes. */
static uint64_t operand;

/* --- guarded instructions: a #GP, #SS, #UD or #PF becomes the record ----- */

#define GUARDED_PTR(name, insn)                                                             \
	static bool name(uint64_t *p, enum vmx_result *r, struct fault_record *f)           \
	{                                                                                   \
		bool cf = false, zf = false;                                                \
		struct fault_slot *s = fault_arm();                                         \
                                                                                            \
		__asm__ volatile(FAULT_GUARDED(insn " (%[p])")                               \
				 : "=@ccc"(cf), "=@ccz"(zf), [site] "=m"(s->site),          \
				   [resume] "=m"(s->resume)                                 \
				 : [p] "r"(p)                                               \
				 : "r11", "memory");                                        \
		*r = VMX_ASM_RESULT(cf, zf);                                                \
		return fault_disarm(s, f);                                                  \
	}
GUARDED_PTR(g_vmxon, "vmxon")
GUARDED_PTR(g_vmclear, "vmclear")
GUARDED_PTR(g_vmptrld, "vmptrld")
GUARDED_PTR(g_vmptrst, "vmptrst")

static bool g_vmxoff(enum vmx_result *r, struct fault_record *f)
{
	return vmxoff_guarded(r, f);
}

static bool g_vmread_reg(uint64_t field, uint64_t *v, enum vmx_result *r, struct fault_record *f)
{
	return vmread_guarded(field, v, r, f);
}

static bool g_vmread_mem(uint64_t field, uint64_t *p, enum vmx_result *r, struct fault_record *f)
{
	bool cf = false, zf = false;
	struct fault_slot *s = fault_arm();

	__asm__ volatile(FAULT_GUARDED("vmread %[field], (%[p])")
			 : "=@ccc"(cf), "=@ccz"(zf), [site] "=m"(s->site), [resume] "=m"(s->resume)
			 : [field] "r"(field), [p] "r"(p)
			 : "r11", "memory");
	*r = VMX_ASM_RESULT(cf, zf);
	return fault_disarm(s, f);
}

static bool g_vmwrite_reg(uint64_t field, uint64_t v, enum vmx_result *r, struct fault_record *f)
{
	bool cf = false, zf = false;
	struct fault_slot *s = fault_arm();

	__asm__ volatile(FAULT_GUARDED("vmwrite %[v], %[field]")
			 : "=@ccc"(cf), "=@ccz"(zf), [site] "=m"(s->site), [resume] "=m"(s->resume)
			 : [field] "r"(field), [v] "r"(v)
			 : "r11", "memory");
	*r = VMX_ASM_RESULT(cf, zf);
	return fault_disarm(s, f);
}

static bool g_vmwrite_mem(uint64_t field, const uint64_t *p, enum vmx_result *r,
			  struct fault_record *f)
{
	bool cf = false, zf = false;
	struct fault_slot *s = fault_arm();

	__asm__ volatile(FAULT_GUARDED("vmwrite (%[p]), %[field]")
			 : "=@ccc"(cf), "=@ccz"(zf), [site] "=m"(s->site), [resume] "=m"(s->resume)
			 : [field] "r"(field), [p] "r"(p)
			 : "r11", "memory");
	*r = VMX_ASM_RESULT(cf, zf);
	return fault_disarm(s, f);
}

/* Fill r from an instruction's outcome. */
static void outcome(struct record *r, bool done, enum vmx_result res, const struct fault_record *f)
{
	fuzz_vmx_count++;
	if (!done) {
		r->result = R_FAULT;
		r->vector = f->vector;
		r->error_code = f->error_code;
		return;
	}
	r->result = (enum rec_result)res;
	if (res == VMX_FAIL_VALID) {
		r->err = (uint32_t)vmcs_get(VM_INSTRUCTION_ERROR);
		fuzz_vmx_count++;
	}
}

/* --- operand generators --------------------------------------------------- */

uint64_t gen_vmcs_addr(void)
{
	static const uint64_t unaligned[] = { 1, 8, 0x800, 0xfff };
	uint32_t c = rnd(100);

	if (c < 60)
		return PA(*pool[rnd(POOL_COUNT)]);
	if (c < 68)
		return PA(vmxon_region);
	if (c < 73)
		return PA(vmcs_bad_revision);
	if (c < 78)
		return PA(*pool[rnd(POOL_COUNT)]) + unaligned[rnd(ARRAY_SIZE(unaligned))];
	if (c < 83)
		return suite.beyond_phys + PAGE_SIZE * rnd(4);
	if (c < 87)
		return PA(*pool[rnd(POOL_COUNT)]) | BIT(63);
	if (c < 94)
		return (fuzz_undefined & FUZZ_UNDEFINED_POINTERS) ? FUZZ_PAST_RAM + PAGE_SIZE * rnd(256) : PA(*pool[rnd(POOL_COUNT)]);
	return PA(junk);
}

/* Where the instruction finds its memory operand: good, or a bad address instead. */
uint64_t *gen_operand_ptr_for(uint64_t *good)
{
	uint32_t c = rnd(100);

	if (c < 3)
		return (uint64_t *)(NONCANONICAL | (uint64_t)good);
	if (c < 5)
		return (uint64_t *)(UNMAPPED_LINEAR + PAGE_SIZE * rnd(16));
	return good;
}

static uint64_t *gen_operand_ptr(void)
{
	return gen_operand_ptr_for(&operand);
}

/*
 * Fields outside the capability view: features the two runs do not both
 * offer (posted interrupts, EPTP switching, PML, #VE, SPP, ENCLS, XSS, TSC
 * scaling, PLE, ...). They are never named, because which of them a CPU
 * supports follows its capabilities, which differ. VPID, the EPTP, the
 * guest-physical address, the PDPTEs (EPT), the TPR threshold and the
 * preemption-timer value are in the view.
 */
static bool field_in_view(uint32_t enc)
{
	switch (enc) {
	case POSTED_INTR_NOTIFICATION_VECTOR: case EPTP_INDEX:
	case GUEST_INTR_STATUS: case GUEST_PML_INDEX: case PML_ADDRESS: case POSTED_INTR_DESC_ADDR:
	case VM_FUNCTION_CONTROL: case EOI_EXIT_BITMAP0: case EOI_EXIT_BITMAP1:
	case EOI_EXIT_BITMAP2: case EOI_EXIT_BITMAP3: case EPTP_LIST_ADDRESS: case VMREAD_BITMAP:
	case VMWRITE_BITMAP: case VE_INFORMATION_ADDRESS: case EXECUTIVE_VMCS_POINTER:
		return false;
	default:
		break;
	}
	/* Listed after the fields above in Appendix B, by feature: the same rule by encoding. */
	if ((enc & 0xfffe) >= 0x202c && (enc & 0xfffe) < 0x2400)
		return false; /* XSS/ENCLS/SPP/TSC multiplier/... 64-bit controls */
	if ((enc & 0xfffe) >= 0x2402 && (enc & 0xfffe) < 0x2800)
		return false; /* 64-bit read-only fields after GUEST_PHYSICAL_ADDRESS */
	if ((enc & 0xfffe) >= 0x2812 && (enc & 0xfffe) < 0x2c00)
		return false; /* BNDCFGS, RTIT, ... (after the guest PDPTEs) */
	if ((enc & 0xfffe) >= 0x2c04 && (enc & 0xfffe) < 0x4000)
		return false; /* host PERF_GLOBAL_CTRL and later */
	if (enc == 0x2808 || enc == 0x2c04)
		return false; /* PERF_GLOBAL_CTRL: no register behind it in Bochs (docs/bochs.md) */
	if (enc == 0x4020 || enc == 0x4022 || enc == 0x4834)
		return false; /* PLE gap/window, and the field after the preemption-timer value */
	return true;
}

static const uint32_t *view_fields;
static uint32_t view_field_count;

static void fields_init(void)
{
	static uint32_t table[VMCS_FIELD_COUNT];
	uint32_t n = 0;

	for (size_t i = 0; i < VMCS_FIELD_COUNT; i++)
		if (field_in_view(vmcs_field_table[i].encoding))
			table[n++] = vmcs_field_table[i].encoding;
	view_fields = table;
	view_field_count = n;
}

uint32_t gen_field(void)
{
	uint32_t c = rnd(100), f;

	do
		f = view_fields[rnd(view_field_count)];
	while (!field_in_view(f & ~1u));
	if (c < 80)
		return f;
	if (c < 88) /* HIGH half of a 64-bit field, or of a narrower one (unsupported) */
		return f | 1u;
	if (c < 92)
		return f | BIT(12); /* a reserved encoding bit */
	if (c < 95)
		return f | (1u << (15 + rnd(17)));
	return (f & ~0x3feu) | (0x1f0u << 1); /* an index no field has */
}

/*
 * Exit-information fields the SDM defines only for some exits (27.2.1-27.2.5):
 * after other exits their content is undefined, so VMREAD's value of them is
 * not recorded (its outcome is).
 */
static bool value_defined(uint32_t field)
{
	switch (field) {
	case VM_EXIT_INSTRUCTION_LEN: case VMX_INSTRUCTION_INFO: case GUEST_LINEAR_ADDRESS:
	case VM_EXIT_INTR_ERROR_CODE: case IDT_VECTORING_ERROR_CODE: case IO_RCX:
	case IO_RSI: case IO_RDI: case IO_RIP:
		return false;
	/* Written by EPT exits only (27.2.1); the X record has it after those. */
	case GUEST_PHYSICAL_ADDRESS: case GUEST_PHYSICAL_ADDRESS + 1:
		return false;
	/* After an exit with "save VMX-preemption timer value": what was left, timing (ept.c). */
	case VMX_PREEMPTION_TIMER_VALUE:
		return false;
	default:
		return true;
	}
}

/*
 * Fields whose value decides what L1 finds after a VM exit, or what memory
 * the CPU touches: host state, the MSR lists, the bitmaps and the link
 * pointer. A random value there can load a broken L1 (a host SS selector
 * that passes the checks, say), abort (an exit MSR-load list running over
 * memory), or read memory whose content differs between the two machines
 * (firmware and loader areas). They only get their current value or one
 * the VM-entry checks must refuse.
 */
static bool field_steers_l1(uint32_t enc)
{
	switch (enc & ~1u) {
	case VM_EXIT_MSR_STORE_COUNT: case VM_EXIT_MSR_LOAD_COUNT: case VM_ENTRY_MSR_LOAD_COUNT:
	case VM_EXIT_MSR_STORE_ADDR: case VM_EXIT_MSR_LOAD_ADDR: case VM_ENTRY_MSR_LOAD_ADDR:
	case IO_BITMAP_A: case IO_BITMAP_B: case MSR_BITMAP: case VMCS_LINK_POINTER:
	case VIRTUAL_APIC_PAGE_ADDR: case EPT_POINTER:
		return true;
	default:
		return VMCS_FIELD_TYPE(enc) == VMCS_TYPE_HOST;
	}
}

/* A value for VMWRITE to field: near its current value (l2.c steers L2's fields on purpose). */
uint64_t gen_value(uint32_t field)
{
	uint64_t cur = vmcs_get(field);
	uint32_t c = rnd(100);

	/*
	 * Fields bound by the capability view: the control words change only
	 * as gen_ctl() says; the injected event, its length and the activity
	 * state only through l2.c's rules (no type 7, no length 0, no
	 * shutdown or wait-for-SIPI).
	 */
	switch (field) {
	case PIN_BASED_VM_EXEC_CONTROL: case CPU_BASED_VM_EXEC_CONTROL: case SECONDARY_VM_EXEC_CONTROL:
	case VM_EXIT_CONTROLS: case VM_ENTRY_CONTROLS:
		return gen_ctl(field, (uint32_t)cur);
	case VM_ENTRY_INTR_INFO: case VM_ENTRY_INSTRUCTION_LEN: case GUEST_ACTIVITY_STATE:
		return cur;
	/* ept.c's rules: no EPTP A/D bit, no timer value that may run out inside a stub. */
	case EPT_POINTER:
		return c < 30 ? cur : gen_eptp();
	case VIRTUAL_PROCESSOR_ID:
		return c < 30 ? cur : gen_vpid();
	case TPR_THRESHOLD:
		return c < 30 ? cur : gen_tpr_threshold();
	case VMX_PREEMPTION_TIMER_VALUE:
		return gen_timer_value();
	default:
		break;
	}

	if (field_steers_l1(field)) {
		if (c < 60 || VMCS_FIELD_HIGH_ACCESS(field))
			return cur;
		switch (VMCS_FIELD_WIDTH(field)) {
		case VMCS_WIDTH_16:
			return cur | (1 + rnd(7)); /* RPL or TI set: SDM 26.2.3 */
		case VMCS_WIDTH_32:
			return cur; /* the MSR counts: l2.c sets them */
		case VMCS_WIDTH_64:
			return cur | BIT(63); /* beyond any width; PAT/EFER reserved */
		default:
			return cur ^ BIT(48 + rnd(15)); /* non-canonical or a reserved CR bit */
		}
	}
	/* Exit information: its current value may be undefined (value_defined()). */
	if (VMCS_FIELD_TYPE(field) == VMCS_TYPE_READ_ONLY)
		return VMCS_FIELD_WIDTH(field) == VMCS_WIDTH_NATURAL ? rnd64() : rnd64() & 0xffffffff;
	if (VMCS_FIELD_HIGH_ACCESS(field))
		return c < 50 ? rnd64() & 0xffffffff : cur;
	switch (VMCS_FIELD_WIDTH(field)) {
	case VMCS_WIDTH_16:
		return c < 70 ? cur : rnd64() & 0xffff;
	case VMCS_WIDTH_32:
		return c < 50 ? cur : c < 80 ? cur ^ BIT(rnd(32)) : rnd64() & 0xffffffff;
	default:
		/* Addresses and CRs: the value or a certainly non-canonical / beyond-width one. */
		return c < 60 ? cur : c < 85 ? cur ^ BIT(48 + rnd(15)) : cur | BIT(63);
	}
}

uint8_t failed_entry(void)
{
	for (unsigned int i = 0; i < POOL_COUNT; i++)
		if (fs.current != VMCS_NONE && fs.current == PA(*pool[i]))
			return fs.failed_entry[i];
	return 0;
}

void failed_entry_set(uint8_t bits)
{
	for (unsigned int i = 0; i < POOL_COUNT; i++)
		if (fs.current != VMCS_NONE && fs.current == PA(*pool[i]))
			fs.failed_entry[i] = bits;
}

/* VMREAD's value of field in the current VMCS after its last entry (fs.failed_entry). */
static bool value_after_entry_defined(uint64_t field)
{
	if (field == EXIT_QUALIFICATION)
		return !(failed_entry() & FAILED_QUAL);
	if (field == VM_EXIT_INTR_INFO || field == IDT_VECTORING_INFO)
		return !(failed_entry() & FAILED_INFO);
	return true;
}

/* --- steps ---------------------------------------------------------------- */

static void step_ptr(enum step_kind k, uint64_t addr)
{
	struct record r = { .kind = k };
	struct fault_record f;
	enum vmx_result res = VMX_SUCCEED;
	uint64_t *p = gen_operand_ptr();
	bool done;

	operand = addr;
	r.arg = addr;
	if (p != &operand)
		r.arg = (uint64_t)p; /* the faulting operand address instead */
	switch (k) {
	case K_VMXON: done = g_vmxon(p, &res, &f); break;
	case K_VMCLEAR: done = g_vmclear(p, &res, &f); break;
	case K_VMPTRLD: done = g_vmptrld(p, &res, &f); break;
	default:
		operand = 0x5a5a5a5a5a5a5a5aULL;
		done = g_vmptrst(p, &res, &f);
		r.has_value = done && res == VMX_SUCCEED;
		r.value = operand;
		break;
	}
	outcome(&r, done, res, &f);
	if (done && res == VMX_SUCCEED) {
		if (k == K_VMXON)
			fs.vmx_on = true;
		else if (k == K_VMPTRLD)
			fs.current = addr;
		else if (k == K_VMCLEAR && addr == fs.current)
			fs.current = VMCS_NONE;
	}
	rec_emit(&r);
}

static void step_vmxoff(void)
{
	struct record r = { .kind = K_VMXOFF };
	struct fault_record f;
	enum vmx_result res = VMX_SUCCEED;
	bool done = g_vmxoff(&res, &f);

	outcome(&r, done, res, &f);
	if (done && res == VMX_SUCCEED) {
		fs.vmx_on = false;
		fs.current = VMCS_NONE;
	}
	rec_emit(&r);
}

static void step_vmread(uint64_t field64)
{
	struct record r = { .kind = K_VMREAD, .arg = field64 };
	struct fault_record f;
	enum vmx_result res = VMX_SUCCEED;
	uint64_t v = 0x5a5a5a5a5a5a5a5aULL, *p;
	bool done;

	if (chance(70)) {
		done = g_vmread_reg(field64, &v, &res, &f);
	} else {
		p = gen_operand_ptr();
		operand = v;
		done = g_vmread_mem(field64, p, &res, &f);
		v = operand;
	}
	r.has_value = done && res == VMX_SUCCEED && value_defined((uint32_t)field64) &&
		      value_after_entry_defined(field64);
	r.value = v;
	outcome(&r, done, res, &f);
	rec_emit(&r);
}

void step_vmwrite(uint32_t field, uint64_t value, bool may_fault)
{
	struct record r = { .kind = K_VMWRITE, .arg = field, .value = value, .has_value = true };
	struct fault_record f;
	enum vmx_result res = VMX_SUCCEED;
	uint64_t *p;
	bool done;

	if (chance(75)) {
		done = g_vmwrite_reg(field, value, &res, &f);
	} else {
		p = may_fault ? gen_operand_ptr() : &operand;
		operand = value;
		done = g_vmwrite_mem(field, p, &res, &f);
	}
	outcome(&r, done, res, &f);
	rec_emit(&r);
}

static uint64_t gen_field64(void)
{
	uint64_t f = gen_field();

	if (chance(3))
		f |= 1ULL << (32 + rnd(32)); /* bits 63:32 of the register operand */
	return f;
}

void ops_seed_begin(void)
{
	static bool once;

	if (!once) {
		fields_init();
		once = true;
	}
	for (uint64_t *q = (uint64_t *)junk.bytes; q < (uint64_t *)(junk.bytes + PAGE_SIZE); q++)
		*q = rnd64();
	/*
	 * SDM Vol. 3C 24.11.3: revision identifier, then VMCLEAR. Regions are
	 * zeroed first: a fresh session never sees an earlier seed's fields
	 * (a VMCS's content in memory is the implementation's format).
	 */
	memset(&vmxon_region, 0, sizeof(vmxon_region));
	memcpy(vmxon_region.bytes, &suite.revision, 4);
	for (unsigned int i = 0; i < POOL_COUNT; i++) {
		memset(pool[i], 0, sizeof(*pool[i]));
		memcpy(pool[i]->bytes, &suite.revision, 4);
	}
	fs.vmx_on = false;
	fs.current = VMCS_NONE;
	fs.exited = false;
	memset(fs.failed_entry, 0, sizeof(fs.failed_entry));
	if (chance(85))
		step_ptr(K_VMXON, PA(vmxon_region));
	else
		step_ptr(K_VMXON, gen_vmcs_addr());
	if (fs.vmx_on)
		for (unsigned int i = 0; i < POOL_COUNT; i++)
			step_ptr(K_VMCLEAR, PA(*pool[i]));
	l2_seed_begin();
}

void ops_step(void)
{
	uint32_t c = rnd(100);

	if (!fs.vmx_on) {
		/* Outside VMX operation: mostly VMXON again; the rest must be #UD. */
		if (c < 60)
			step_ptr(K_VMXON, chance(60) ? PA(vmxon_region) : gen_vmcs_addr());
		else if (c < 70)
			step_vmxoff();
		else if (c < 78)
			step_vmread(gen_field64());
		else if (c < 80 && chance(50))
			step_invept();
		else if (c < 80)
			step_invvpid();
		else
			step_ptr(K_VMPTRLD, gen_vmcs_addr());
		return;
	}
	if (chance(5)) {
		if (chance(50))
			step_invept();
		else
			step_invvpid();
		return;
	}
	if (c < 8)
		step_ptr(K_VMCLEAR, gen_vmcs_addr());
	else if (c < 18)
		step_ptr(K_VMPTRLD, gen_vmcs_addr());
	else if (c < 21)
		step_ptr(K_VMPTRST, 0);
	else if (c < 40)
		step_vmread(gen_field64());
	else if (c < 55) {
		uint64_t f = gen_field64();

		step_vmwrite((uint32_t)f, gen_value((uint32_t)f), true);
	} else if (c < 64)
		l2_prepare(rnd(POOL_COUNT));
	else if (c < 74)
		l2_mutate();
	else if (c < 84)
		l2_enter(true);
	else if (c < 96)
		l2_enter(false);
	else if (c < 97)
		step_vmxoff();
	else
		step_ptr(K_VMXON, chance(50) ? PA(vmxon_region) : gen_vmcs_addr());
}

void ops_seed_end(void)
{
	if (fs.vmx_on)
		step_vmxoff();
}
