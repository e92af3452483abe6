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

static enum insn_mode guest_code_mode(void)
{
	uint32_t ar = vmcs_read32(GUEST_CS_AR_BYTES);

	if ((vmcs_read64(GUEST_IA32_EFER) & EFER_LMA) && (ar & BIT(13)))
		return INSN_MODE_64;
	return (ar & BIT(14)) ? INSN_MODE_32 : INSN_MODE_16;
}

bool vapic_mmio_write(struct vcpu *v, uint64_t gpa)
{
	uint8_t bytes[15];
	uint64_t rip = vmcs_readnat(GUEST_RIP), la = vmcs_readnat(GUEST_CS_BASE) + rip;
	struct insn_store st;
	uint32_t value, offset = gpa & 0xfff;

	if ((gpa & APIC_BASE_MASK) != apic_page)
		return false;
	/* Fetch what the guest just executed; a fetch that fails near a page end is retried shorter. */
	size_t n = sizeof(bytes);
	while (n && !guest_read_linear(la, bytes, n))
		n--;
	if (!n || insn_decode_store(bytes, n, guest_code_mode(), &st) != INSN_OK)
		guest_stop(v, "unsupported instruction writing the local APIC at %#lx (RIP %#lx)", gpa, rip);
	value = st.from_imm ? st.imm : (uint32_t)vcpu_gpr(v, st.src_reg);
	if (offset != APIC_ICR_LO ||
	    !icr_write(v, value, mmio_read32(apic_page + APIC_ICR_HI) >> 24, false))
		mmio_write32(gpa & ~3ULL, value);
	vmcs_writenat(GUEST_RIP, rip + st.length);
	return true;
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
