/* SPDX-License-Identifier: BSD-2-Clause */
/* INVEPT and INVVPID steps: types and descriptors near the SDM Vol. 3C 30.3 checks. */
#include "arch/x86/vmx.h"
#include "arch/x86/vmx_caps.h"
#include "tests/guests/fuzz/fuzz.h"

/*
 * SDM Vol. 3C 30.3 (INVEPT, INVVPID): #UD outside VMX operation; the type
 * is the register operand (64 bits in 64-bit mode); a type
 * IA32_VMX_EPT_VPID_CAP does not list is VMfail(28) before the 128-bit
 * descriptor is read; then INVEPT single-context fails on an EPTP the
 * VM-entry checks would refuse, INVVPID on descriptor bits 63:16, VPID 0
 * (all types but all-context) and a non-canonical address
 * (individual-address). Two Bochs 2.7 deviations (docs/bochs.md): it
 * reads the descriptor first, so a faulting operand with an unsupported
 * type faults there (such steps come only with undefined=4); and it takes
 * a 32-bit type unless REX.W is there, so a type with bits 63:32 set is
 * always executed with REX.W (which the SDM ignores: the register is 64
 * bits in 64-bit mode either way), and only with undefined=4 without.
 */
#define NONCANONICAL 0x8000000000000000ULL

static uint64_t desc[2] __aligned(16);

#define GUARDED_INV(name, insn)                                                             \
	static bool name(uint64_t type, uint64_t *p, enum vmx_result *r, struct fault_record *f) \
	{                                                                                   \
		bool cf = false, zf = false;                                                \
		struct fault_slot *s = fault_arm();                                         \
                                                                                            \
		__asm__ volatile(FAULT_GUARDED(insn " (%[p]), %[t]")                         \
				 : "=@ccc"(cf), "=@ccz"(zf), [site] "=m"(s->site),          \
				   [resume] "=m"(s->resume)                                 \
				 : [p] "r"(p), [t] "r"(type)                                \
				 : "r11", "memory");                                        \
		*r = VMX_ASM_RESULT(cf, zf);                                                \
		return fault_disarm(s, f);                                                  \
	}
GUARDED_INV(g_invept, "invept")
GUARDED_INV(g_invvpid, "invvpid")

/* The same with REX.W: 66 REX.W 0F 38 80|81 /r, type in RAX, descriptor at (RCX) (ModRM 0x01). */
#define GUARDED_INV_W(name, opcode)                                                         \
	static bool name(uint64_t type, uint64_t *p, enum vmx_result *r, struct fault_record *f) \
	{                                                                                   \
		bool cf = false, zf = false;                                                \
		struct fault_slot *s = fault_arm();                                         \
                                                                                            \
		__asm__ volatile(FAULT_GUARDED(".byte 0x66, 0x48, 0x0f, 0x38, " opcode ", 0x01") \
				 : "=@ccc"(cf), "=@ccz"(zf), [site] "=m"(s->site),          \
				   [resume] "=m"(s->resume)                                 \
				 : "c"(p), "a"(type)                                        \
				 : "r11", "memory");                                        \
		*r = VMX_ASM_RESULT(cf, zf);                                                \
		return fault_disarm(s, f);                                                  \
	}
GUARDED_INV_W(g_invept_w, "0x80")
GUARDED_INV_W(g_invvpid_w, "0x81")

/* A type: the valid ones mostly, the reserved ones, bits 63:32 of the register (64-bit mode). */
static uint64_t gen_type(uint64_t first_valid, uint64_t last_valid)
{
	uint32_t c = rnd(100);

	if (c < 75)
		return first_valid + rnd((uint32_t)(last_valid - first_valid + 1));
	if (c < 90)
		return rnd(8);
	if (c < 95)
		return (first_valid + rnd((uint32_t)(last_valid - first_valid + 1))) | (1ULL << (32 + rnd(32)));
	return rnd64();
}

static bool type_listed(enum step_kind k, uint64_t type)
{
	static const uint64_t invept_cap[3] = { 0, EPT_CAP_INVEPT_SINGLE, EPT_CAP_INVEPT_ALL };
	static const uint64_t invvpid_cap[4] = { VPID_CAP_INVVPID_ADDR, VPID_CAP_INVVPID_SINGLE,
						 VPID_CAP_INVVPID_ALL, VPID_CAP_INVVPID_SINGLE_NONGLOBAL };

	if (k == K_INVEPT)
		return type < 3 && (view.ept_vpid & EPT_CAP_INVEPT) && (view.ept_vpid & invept_cap[type]);
	return type < 4 && (view.ept_vpid & VPID_CAP_INVVPID) && (view.ept_vpid & invvpid_cap[type]);
}

static void step_inv(enum step_kind k, uint64_t type)
{
	struct record r = { .kind = k, .arg = type, .has_desc = true };
	struct fault_record f;
	enum vmx_result res = VMX_SUCCEED;
	uint64_t *p = gen_operand_ptr_for(desc);
	bool done, rexw;

	if (p != desc && !type_listed(k, type) && !(fuzz_undefined & FUZZ_UNDEFINED_INV_ORDER))
		p = desc;
	r.desc[0] = desc[0];
	r.desc[1] = desc[1];
	if (p != desc)
		r.bad_operand = (uint64_t)p;
	rexw = (type >> 32) ? !(fuzz_undefined & FUZZ_UNDEFINED_INV_ORDER) || chance(50) : chance(20);
	r.rexw = rexw;
	if (k == K_INVEPT)
		done = rexw ? g_invept_w(type, p, &res, &f) : g_invept(type, p, &res, &f);
	else
		done = rexw ? g_invvpid_w(type, p, &res, &f) : g_invvpid(type, p, &res, &f);
	fuzz_vmx_count++;
	if (!done) {
		r.result = R_FAULT;
		r.vector = f.vector;
		r.error_code = f.error_code;
	} else {
		r.result = (enum rec_result)res;
		if (res == VMX_FAIL_VALID) {
			r.err = (uint32_t)vmcs_get(VM_INSTRUCTION_ERROR);
			fuzz_vmx_count++;
		}
	}
	rec_emit(&r);
}

void step_invept(void)
{
	uint32_t c = rnd(100);

	desc[0] = c < 70 ? eptp_valid() : gen_eptp();
	/* Bits 127:64 are reserved; the SDM's operation section does not check them. */
	desc[1] = chance(85) ? 0 : rnd64();
	step_inv(K_INVEPT, gen_type(INVEPT_SINGLE_CONTEXT, INVEPT_ALL_CONTEXT));
}

void step_invvpid(void)
{
	static const uint64_t addrs[] = { 0x1000000, 0xffffffff80000000ULL, 0x00007ffffffff000ULL,
					  0xffff800000000000ULL };
	uint32_t c = rnd(100);

	desc[0] = gen_vpid();
	if (c < 10)
		desc[0] |= 1ULL << (16 + rnd(48)); /* reserved bits 63:16 */
	c = rnd(100);
	desc[1] = c < 75 ? addrs[rnd(ARRAY_SIZE(addrs))] : c < 90 ? NONCANONICAL | rnd64() : rnd64();
	step_inv(K_INVVPID, gen_type(INVVPID_INDIVIDUAL_ADDRESS, INVVPID_SINGLE_CONTEXT_RETAINING_GLOBALS));
}
