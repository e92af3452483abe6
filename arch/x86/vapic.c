/* SPDX-License-Identifier: BSD-2-Clause */
/* Emulated INIT/SIPI: the guest starts and stops its own APs through umbra. */
#include "arch/x86/vapic.h"
#include "arch/x86/cpu.h"
#include "arch/x86/exit.h"
#include "arch/x86/guest_mem.h"
#include "arch/x86/insn.h"
#include "core/log.h"
#include "core/percpu.h"
#include "core/shutdown.h"
#include "drivers/lapic.h"

#define APIC_BASE_MASK 0x000ffffffffff000ULL
/* IA32_APIC_BASE flags (SDM Vol. 3A 10.12.1, Figure 10-26). */
#define APIC_BASE_EXTD BIT(10)
#define APIC_BASE_ENABLE BIT(11)
#define APIC_ICR_LO 0x300
#define APIC_ICR_HI 0x310

/* ICR fields (SDM Vol. 3A 10.6.1). */
#define ICR_DELIVERY_MODE(lo) (((lo) >> 8) & 7)
#define ICR_DM_INIT 5
#define ICR_DM_STARTUP 6
#define ICR_DEST_LOGICAL BIT(11)
#define ICR_LEVEL_ASSERT BIT(14)
#define ICR_TRIGGER_LEVEL BIT(15)
#define ICR_SHORTHAND(lo) (((lo) >> 18) & 3)
#define SHORTHAND_NONE 0
#define SHORTHAND_SELF 1
#define SHORTHAND_ALL 2
#define SHORTHAND_ALL_BUT_SELF 3

#define SIPI_PENDING 0x100u

/* Code-segment access rights (SDM Vol. 3C 24.4.1, Table 24-2). */
#define AR_L BIT(13)
#define AR_DB BIT(14)

/* EPT-violation exit qualification (SDM Vol. 3C 27.2.1, Table 27-7). */
#define EPT_QUAL_WRITE BIT(1)
#define EPT_QUAL_FETCH BIT(2)
#define EPT_QUAL_LINEAR_VALID BIT(7)
#define EPT_QUAL_TRANSLATED BIT(8) /* with bit 7: the access was to the translated address */

/* IDT-vectoring information valid (SDM Vol. 3C 24.9.3). */
#define INTR_INFO_VALID BIT(31)


static uint64_t apic_page;

void vapic_init(void)
{
	apic_page = rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_MASK;
}

uint64_t vapic_mmio_page(void)
{
	return apic_page;
}

static bool targets(const struct vcpu *sender, uint32_t i, uint32_t lo, uint32_t dest, bool x2apic)
{
	uint32_t broadcast = x2apic ? 0xffffffffu : 0xffu;

	switch (ICR_SHORTHAND(lo)) {
	case SHORTHAND_SELF: return i == sender->index;
	case SHORTHAND_ALL: return true;
	case SHORTHAND_ALL_BUT_SELF: return i != sender->index;
	default: return dest == broadcast || percpu_data[i].apic_id == dest;
	}
}

/* Returns true when the write was an INIT or SIPI that umbra delivered itself. */
static bool icr_write(struct vcpu *v, uint32_t lo, uint32_t dest, bool x2apic)
{
	uint32_t mode = ICR_DELIVERY_MODE(lo);

	if (mode != ICR_DM_INIT && mode != ICR_DM_STARTUP)
		return false;
	if (lo & ICR_DEST_LOGICAL) {
		log_warn("vapic: INIT/SIPI with a logical destination is not emulated; dropped");
		return true;
	}
	/* The de-assert half of a level INIT does nothing on modern CPUs (SDM Vol. 3A 10.6.1). */
	if (mode == ICR_DM_INIT && !(lo & ICR_LEVEL_ASSERT) && (lo & ICR_TRIGGER_LEVEL))
		return true;
	for (uint32_t i = 0; i < cpu_count; i++) {
		struct vcpu *t = vcpu_of(i);

		if (percpu_data[i].state != CPU_ONLINE || !targets(v, i, lo, dest, x2apic))
			continue;
		if (mode == ICR_DM_INIT) {
			if (t == v) {
				log_warn("vapic: INIT to itself from CPU %u ignored", v->index);
				continue;
			}
			if (t->state == VCPU_WAIT_SIPI) {
				t->init_seen = true;
				continue;
			}
			/* Running: bring it out of the guest with an NMI; it parks before re-entry. */
			__atomic_store_n(&t->init_pending, true, __ATOMIC_RELEASE);
			__atomic_store_n(&t->kicked, true, __ATOMIC_RELEASE);
			lapic_send_nmi(percpu_data[i].apic_id);
		} else if (t->state == VCPU_WAIT_SIPI && t->init_seen && !t->sipi) {
			__atomic_store_n(&t->sipi, SIPI_PENDING | (lo & 0xff), __ATOMIC_RELEASE);
		}
	}
	return true;
}

/* The code segment's mode (SDM Vol. 3A 3.4.5: CS.L in IA-32e mode, else CS.D). */
static enum insn_mode guest_code_mode(void)
{
	uint32_t ar = vmcs_read32(GUEST_CS_AR_BYTES);

	if ((vmcs_read64(GUEST_IA32_EFER) & EFER_LMA) && (ar & AR_L))
		return INSN_MODE_64;
	return (ar & AR_DB) ? INSN_MODE_32 : INSN_MODE_16;
}

/*
 * Accesses other than aligned 32-bit ones are model-specific on the xAPIC
 * (SDM Vol. 3A 10.4.1): umbra performs exactly the access the guest made,
 * so the guest gets what the APIC below gives it.
 */
static uint64_t apic_access_read(uint64_t pa, unsigned int width)
{
	switch (width) {
	case 1: return *(volatile uint8_t *)pa;
	case 2: return *(volatile uint16_t *)pa;
	case 4: return mmio_read32(pa);
	default: return mmio_read64(pa);
	}
}

static void apic_access_write(uint64_t pa, unsigned int width, uint64_t value)
{
	switch (width) {
	case 1: *(volatile uint8_t *)pa = (uint8_t)value; break;
	case 2: *(volatile uint16_t *)pa = (uint16_t)value; break;
	case 4: mmio_write32(pa, (uint32_t)value); break;
	default: mmio_write64(pa, value); break;
	}
}

/* The instruction bytes for a stop report: "89 04 25 ...". */
static void hex_bytes(char *out, size_t size, const uint8_t *b, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < n && o + 3 <= size; i++) {
		out[o++] = digits[b[i] >> 4];
		out[o++] = digits[b[i] & 0xf];
		out[o++] = ' ';
	}
	out[o ? o - 1 : 0] = '\0';
}

/* RIP past the emulated store: the instruction retired (an STI/MOV-SS shadow ends, SDM Vol. 3A 6.8.3). */
static void complete_store(uint64_t rip, unsigned int length, enum insn_mode mode)
{
	uint64_t next = rip + length;

	vmcs_writenat(GUEST_RIP, mode == INSN_MODE_64 ? next : (uint32_t)next);
	exit_instruction_retired();
}

bool vapic_mmio_write(struct vcpu *v, uint64_t gpa, uint64_t qualification)
{
	uint8_t bytes[INSN_MAX_LEN];
	char hex[3 * INSN_MAX_LEN + 1];
	uint64_t gpr[16], old = 0, rip = vmcs_readnat(GUEST_RIP), la;
	enum insn_mode mode;
	enum insn_error err;
	struct insn_store st;
	uint32_t offset = gpa & (PAGE_SIZE - 1);
	size_t n;

	if ((gpa & APIC_BASE_MASK) != apic_page)
		return false;
	/*
	 * Only a write by the instruction at RIP to the address it names is
	 * emulated: the qualification says the access was a data write to a
	 * translated linear address (SDM Vol. 3C 27.2.1, Table 27-7, bits 1, 7
	 * and 8), not a paging-structure access, a fetch, or part of event
	 * delivery (IDT-vectoring information valid, 27.2.4).
	 */
	if (!(qualification & EPT_QUAL_WRITE) || (qualification & EPT_QUAL_FETCH))
		guest_stop(v, "%s the local APIC page at %#lx (RIP %#lx): only stores are emulated",
			   qualification & EPT_QUAL_FETCH ? "instruction fetch from" : "access to",
			   gpa, rip);
	if (!(qualification & EPT_QUAL_LINEAR_VALID) || !(qualification & EPT_QUAL_TRANSLATED))
		guest_stop(v, "write to the local APIC page at %#lx (RIP %#lx) is not a data "
			   "store (a paging-structure access or no linear address)", gpa, rip);
	if (vmcs_read32(IDT_VECTORING_INFO) & INTR_INFO_VALID)
		guest_stop(v, "write to the local APIC page at %#lx during event delivery "
			   "(IDT-vectoring information %#x)", gpa, vmcs_read32(IDT_VECTORING_INFO));

	/* Fetch what the guest just executed; a fetch that fails near a page end is retried shorter. */
	mode = guest_code_mode();
	la = mode == INSN_MODE_64 ? rip : (uint32_t)(vmcs_readnat(GUEST_CS_BASE) + rip);
	n = sizeof(bytes);
	while (n && !guest_read_linear(la, bytes, n))
		n--;
	for (unsigned int r = 0; r < 16; r++)
		gpr[r] = vcpu_gpr(v, r);
	err = n ? insn_decode_store(bytes, n, mode, gpr, &st) : INSN_TRUNCATED;
	hex_bytes(hex, sizeof(hex), bytes, err == INSN_OK ? st.length : n);
	if (err == INSN_BAD_MODE)
		guest_stop(v, "store to the local APIC at %#lx from 16-bit code (RIP %#lx, bytes %s) "
			   "is not emulated", gpa, rip, hex);
	if (err != INSN_OK)
		guest_stop(v, "unsupported instruction writing the local APIC at %#lx (RIP %#lx): "
			   "bytes %s", gpa, rip, n ? hex : "unreadable");
	/* The exit names the first byte written: a store past the page end is not the APIC's. */
	if (offset + st.width > PAGE_SIZE)
		guest_stop(v, "%u-byte store at %#lx crosses the end of the local APIC page (bytes %s)",
			   st.width, gpa, hex);
	/* The ICR is umbra's (INIT/SIPI): only the architectural aligned 32-bit store to it. */
	if (offset < APIC_ICR_LO + 0x10 && offset + st.width > APIC_ICR_LO &&
	    (offset != APIC_ICR_LO || st.width != 4))
		guest_stop(v, "%u-byte store to the ICR at offset %#x is model-specific and not "
			   "emulated (SDM Vol. 3A 10.4.1; bytes %s)", st.width, offset, hex);

	/*
	 * XCHG reads too: the register gets what a read of the register
	 * returns through umbra's view of the APIC, which is the real APIC
	 * (reads pass through EPT), read just before the write as the locked
	 * exchange would.
	 */
	if (st.kind == INSN_XCHG)
		old = apic_access_read(gpa, st.width);
	/* In x2APIC mode the page is not the APIC (SDM Vol. 3A 10.12.1.2): no ICR there. */
	if (offset != APIC_ICR_LO || (rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_EXTD) ||
	    !icr_write(v, (uint32_t)st.value, mmio_read32(apic_page + APIC_ICR_HI) >> 24, false))
		apic_access_write(gpa, st.width, st.value);
	if (st.kind == INSN_XCHG)
		vcpu_set_gpr(v, st.reg, insn_reg_after_load(&st, gpr[st.reg], old));
	complete_store(rip, st.length, mode);
	return true;
}

/*
 * IA32_APIC_BASE (SDM Vol. 3A 10.4.4, 10.12.1, 10.12.5): umbra's INIT/SIPI
 * emulation and the read-only EPT page need the APIC where it is, enabled,
 * and in a mode umbra's driver can use. So the only writes that reach the
 * MSR are the value it holds and xAPIC -> x2APIC (umbra's driver follows
 * the mode per CPU, drivers/lapic.c). Everything else is #GP: reserved
 * bits, the BSP flag and the invalid transitions of Table 10-5 as on any
 * CPU, and, umbra's answer where the SDM allows the write, relocating the
 * base, disabling the APIC (which Bochs could not undo) and leaving x2APIC
 * mode (which goes through "disabled").
 */
bool vapic_apic_base_write(struct vcpu *v, uint64_t value)
{
	uint64_t cur = rdmsr(MSR_IA32_APIC_BASE);
	bool to_x2apic = value == (cur | APIC_BASE_EXTD) && (cur & APIC_BASE_ENABLE) &&
			 (cpuid(1, 0).ecx & CPUID_1_ECX_X2APIC);

	if (value != cur && !to_x2apic) {
		log_info("vapic: cpu%u WRMSR IA32_APIC_BASE %#lx refused (#GP): the APIC stays at "
			 "%#lx", v->index, value, cur);
		return false;
	}
	if (value != cur)
		log_info("vapic: cpu%u switches its APIC to x2APIC mode", v->index);
	return wrmsr_checked(MSR_IA32_APIC_BASE, value);
}

void vapic_x2apic_icr_write(struct vcpu *v, uint64_t value)
{
	if (!icr_write(v, (uint32_t)value, (uint32_t)(value >> 32), true))
		wrmsr(MSR_X2APIC_ICR, value);
}

bool vapic_take_init(struct vcpu *v)
{
	if (!__atomic_exchange_n(&v->init_pending, false, __ATOMIC_ACQ_REL))
		return false;
	v->state = VCPU_WAIT_SIPI;
	v->init_seen = true;
	return true;
}

bool vapic_take_kick(struct vcpu *v)
{
	return __atomic_exchange_n(&v->kicked, false, __ATOMIC_ACQ_REL);
}

void vapic_wait_for_sipi(struct vcpu *v)
{
	uint32_t sipi;

	while (!(sipi = __atomic_load_n(&v->sipi, __ATOMIC_ACQUIRE))) {
		if (shutdown_in_progress())
			shutdown_park();
		cpu_relax();
	}
	v->sipi = 0;
	v->init_seen = false;
	vcpu_reset_to_init(v);
	/* Real mode at vector << 12 (SDM Vol. 3A 8.4.4.1). */
	vmcs_write16(GUEST_CS_SELECTOR, (uint16_t)((sipi & 0xff) << 8));
	vmcs_writenat(GUEST_CS_BASE, (uint64_t)(sipi & 0xff) << 12);
	vmcs_writenat(GUEST_RIP, 0);
	v->state = VCPU_RUNNING;
}
