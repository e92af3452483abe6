/* SPDX-License-Identifier: BSD-2-Clause */
/* VMX instructions expected to raise #UD or #GP, guarded with tests/guests/lib/fault.h. */
#include "tests/guests/vmx/suite.h"

bool vmxon_guarded(uint64_t pa, enum vmx_result *r, struct fault_record *f)
{
	bool cf = false, zf = false;
	struct fault_slot *s = fault_arm();

	__asm__ volatile(FAULT_GUARDED("vmxon %[pa]")
			 : "=@ccc"(cf), "=@ccz"(zf), [site] "=m"(s->site),
			   [resume] "=m"(s->resume)
			 : [pa] "m"(pa)
			 : "r11", "memory");
	*r = VMX_ASM_RESULT(cf, zf);
	return fault_disarm(s, f);
}

bool vmxoff_guarded(enum vmx_result *r, struct fault_record *f)
{
	bool cf = false, zf = false;
	struct fault_slot *s = fault_arm();

	__asm__ volatile(FAULT_GUARDED("vmxoff")
			 : "=@ccc"(cf), "=@ccz"(zf), [site] "=m"(s->site),
			   [resume] "=m"(s->resume)
			 :
			 : "r11", "memory");
	*r = VMX_ASM_RESULT(cf, zf);
	return fault_disarm(s, f);
}

bool vmread_guarded(uint64_t field, uint64_t *val, enum vmx_result *r, struct fault_record *f)
{
	bool cf = false, zf = false;
	uint64_t v = 0;
	struct fault_slot *s = fault_arm();

	__asm__ volatile(FAULT_GUARDED("vmread %[field], %[val]")
			 : "=@ccc"(cf), "=@ccz"(zf), [val] "+r"(v), [site] "=m"(s->site),
			   [resume] "=m"(s->resume)
			 : [field] "r"(field)
			 : "r11", "memory");
	*val = v;
	*r = VMX_ASM_RESULT(cf, zf);
	return fault_disarm(s, f);
}

bool write_cr0_guarded(uint64_t v, struct fault_record *f)
{
	struct fault_slot *s = fault_arm();

	__asm__ volatile(FAULT_GUARDED("movq %[v], %%cr0")
			 : [site] "=m"(s->site), [resume] "=m"(s->resume)
			 : [v] "r"(v)
			 : "r11", "memory");
	return fault_disarm(s, f);
}

bool write_cr4_guarded(uint64_t v, struct fault_record *f)
{
	struct fault_slot *s = fault_arm();

	__asm__ volatile(FAULT_GUARDED("movq %[v], %%cr4")
			 : [site] "=m"(s->site), [resume] "=m"(s->resume)
			 : [v] "r"(v)
			 : "r11", "memory");
	return fault_disarm(s, f);
}
