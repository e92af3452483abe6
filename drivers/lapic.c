/* SPDX-License-Identifier: BSD-2-Clause */
/* Local APIC driver (SDM Vol. 3A ch. 10). */
#include "drivers/lapic.h"
#include "arch/x86/cpu.h"
#include "drivers/timer.h"

#define APIC_BASE_BSP BIT(8)
#define APIC_BASE_X2APIC BIT(10)
#define APIC_BASE_ENABLE BIT(11)
#define APIC_BASE_ADDR_MASK 0x000ffffffffff000ULL

/* Register offsets in the xAPIC page; the x2APIC MSR is 0x800 + offset / 16. */
#define APIC_ID 0x020
#define APIC_EOI 0x0b0
#define APIC_SVR 0x0f0
#define APIC_ICR_LO 0x300
#define APIC_ICR_HI 0x310

#define SVR_ENABLE BIT(8)
#define SPURIOUS_VECTOR 0xff

#define ICR_DM_NMI (4u << 8)
#define ICR_DM_INIT (5u << 8)
#define ICR_DM_STARTUP (6u << 8)
#define ICR_PENDING BIT(12)
#define ICR_LEVEL_ASSERT BIT(14)
#define ICR_TRIGGER_LEVEL BIT(15)
#define ICR_DEST_ALL_BUT_SELF (3u << 18)

#define ICR_WAIT_US 10000

static bool ready;
static bool use_x2apic;
static uint64_t xapic_base;

/*
 * The mode this CPU's APIC is in now, from IA32_APIC_BASE.EXTD: the guest
 * may have switched it from xAPIC to x2APIC (arch/x86/vapic.c allows that
 * one change), and umbra follows.
 */
static bool cpu_in_x2apic(void)
{
	return rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_X2APIC;
}

/*
 * x2APIC registers are MSRs 0x800 + offset / 16 (SDM Vol. 3A 10.12.1.2).
 * The accesses are checked: an APIC that is not in x2APIC mode after all
 * raises #GP, which must not bring umbra down; the access then fails.
 */
static bool apic_read(uint32_t reg, uint32_t *v)
{
	uint64_t msr = 0;

	if (!cpu_in_x2apic()) {
		*v = mmio_read32(xapic_base + reg);
		return true;
	}
	if (!rdmsr_checked(MSR_X2APIC_BASE + reg / 16, &msr))
		return false;
	*v = (uint32_t)msr;
	return true;
}

static bool apic_write(uint32_t reg, uint64_t v)
{
	if (!cpu_in_x2apic()) {
		mmio_write32(xapic_base + reg, (uint32_t)v);
		return true;
	}
	return wrmsr_checked(MSR_X2APIC_BASE + reg / 16, v);
}

bool lapic_global_init(enum lapic_mode wanted)
{
	uint32_t ecx = cpuid(1, 0).ecx;
	uint64_t base;

	if (!(cpuid(1, 0).edx & CPUID_1_EDX_APIC))
		return false;
	base = rdmsr(MSR_IA32_APIC_BASE);
	xapic_base = base & APIC_BASE_ADDR_MASK;
	switch (wanted) {
	case LAPIC_MODE_X2APIC:
		use_x2apic = ecx & CPUID_1_ECX_X2APIC;
		break;
	case LAPIC_MODE_XAPIC:
		/*
		 * Leaving x2APIC mode needs a pass through "disabled" (SDM Vol. 3A
		 * 10.12.5), which some emulators cannot undo: stay in x2APIC then.
		 */
		use_x2apic = base & APIC_BASE_X2APIC;
		break;
	default:
		use_x2apic = base & APIC_BASE_X2APIC;
		break;
	}
	ready = true;
	return true;
}

void lapic_cpu_init(void)
{
	uint64_t base = rdmsr(MSR_IA32_APIC_BASE);

	if (!(base & APIC_BASE_ENABLE))
		wrmsr(MSR_IA32_APIC_BASE, base |= APIC_BASE_ENABLE);
	if (use_x2apic && !(base & APIC_BASE_X2APIC))
		wrmsr(MSR_IA32_APIC_BASE, base | APIC_BASE_X2APIC);
	apic_write(APIC_SVR, SVR_ENABLE | SPURIOUS_VECTOR);
}

bool lapic_is_x2apic(void)
{
	return use_x2apic;
}

const char *lapic_mode_name(void)
{
	return use_x2apic ? "x2APIC" : "xAPIC";
}

uint32_t lapic_id(void)
{
	uint32_t id = 0;

	if (!apic_read(APIC_ID, &id))
		return cpuid(1, 0).ebx >> 24; /* the initial APIC ID */
	return cpu_in_x2apic() ? id : id >> 24;
}

void lapic_eoi(void)
{
	apic_write(APIC_EOI, 0);
}

static bool send_ipi(uint32_t dest, uint32_t icr_lo)
{
	uint32_t lo;

	if (!ready)
		return false;
	/* x2APIC ICR is one 64-bit MSR write; no delivery-status bit. */
	if (cpu_in_x2apic())
		return apic_write(APIC_ICR_LO, ((uint64_t)dest << 32) | icr_lo);
	apic_write(APIC_ICR_HI, dest << 24);
	apic_write(APIC_ICR_LO, icr_lo);
	for (uint64_t deadline = timer_deadline_us(ICR_WAIT_US);
	     apic_read(APIC_ICR_LO, &lo) && (lo & ICR_PENDING);) {
		if (timer_expired(deadline))
			return false;
		cpu_relax();
	}
	return true;
}

bool lapic_send_init(uint32_t apic_id)
{
	return send_ipi(apic_id, ICR_DM_INIT | ICR_LEVEL_ASSERT | ICR_TRIGGER_LEVEL);
}

bool lapic_send_sipi(uint32_t apic_id, uint8_t vector)
{
	return send_ipi(apic_id, ICR_DM_STARTUP | vector);
}

bool lapic_send_nmi(uint32_t apic_id)
{
	return send_ipi(apic_id, ICR_DM_NMI | ICR_LEVEL_ASSERT);
}

void lapic_stop_other_cpus(void)
{
	send_ipi(0, ICR_DM_NMI | ICR_LEVEL_ASSERT | ICR_DEST_ALL_BUT_SELF);
}
