/* SPDX-License-Identifier: BSD-2-Clause */
/* TSC calibration and busy-wait delays. */
#include "drivers/timer.h"
#include "arch/x86/cpu.h"

#define PIT_HZ 1193182ULL
#define PIT_CH2 0x42
#define PIT_CMD 0x43
#define PORT_B 0x61 /* bit 0: channel 2 gate, bit 1: speaker, bit 5: channel 2 output */
#define CALIBRATE_MS 10

#define PM_TIMER_HZ 3579545ULL

/* Before calibration, assume a fast CPU so that timeouts err on the long side. */
#define DEFAULT_KHZ 4000000ULL

static struct tsc_info info = { .khz = DEFAULT_KHZ };

/* Give up on a calibration source after this many TSC ticks (~10 s at 4 GHz). */
#define CALIBRATE_GIVE_UP (40ULL * 1000 * 1000 * 1000)

static uint64_t calibrate_pit(void)
{
	uint64_t latch = PIT_HZ * CALIBRATE_MS / 1000;
	uint64_t t0, t1;

	/* Gate high, speaker off; mode 0 on channel 2: OUT rises at terminal count. */
	outb(PORT_B, (inb(PORT_B) & ~0x02) | 0x01);
	outb(PIT_CMD, 0xb0);
	outb(PIT_CH2, latch & 0xff);
	outb(PIT_CH2, (latch >> 8) & 0xff);
	t0 = rdtsc();
	while (!(inb(PORT_B) & 0x20)) {
		if (rdtsc() - t0 > CALIBRATE_GIVE_UP)
			return 0;
	}
	t1 = rdtsc();
	if (t1 - t0 < 1000) /* OUT already high: no PIT behind the port */
		return 0;
	return (t1 - t0) / CALIBRATE_MS;
}

static uint64_t calibrate_pm_timer(uint32_t port, bool is_32bit)
{
	uint32_t mask = is_32bit ? 0xffffffffu : 0xffffffu;
	uint32_t ticks = PM_TIMER_HZ * CALIBRATE_MS / 1000;
	uint32_t start, now;
	uint64_t t0, t1;

	if (!port)
		return 0;
	start = inl(port) & mask;
	t0 = rdtsc();
	do {
		now = inl(port) & mask;
		if (rdtsc() - t0 > CALIBRATE_GIVE_UP)
			return 0;
	} while (((now - start) & mask) < ticks);
	t1 = rdtsc();
	return (t1 - t0) * PM_TIMER_HZ / (((now - start) & mask) * 1000ULL);
}

static void read_cpuid_frequencies(void)
{
	uint32_t max = cpuid(0, 0).eax;

	if (max >= 0x15) {
		struct cpuid_regs r = cpuid(0x15, 0);

		/* SDM Vol. 3B 18.7.3: TSC = crystal * EBX / EAX, when all three are given. */
		if (r.eax && r.ebx && r.ecx)
			info.cpuid15_khz = (uint64_t)r.ecx * r.ebx / r.eax / 1000;
	}
	if (max >= 0x16)
		info.cpuid16_khz = (uint64_t)(cpuid(0x16, 0).eax & 0xffff) * 1000;
}

const struct tsc_info *timer_calibrate(uint32_t pm_tmr_port, bool pm_tmr_32bit)
{
	read_cpuid_frequencies();
	info.calibrated_khz = calibrate_pit();
	info.source = TSC_SRC_PIT;
	if (!info.calibrated_khz) {
		info.calibrated_khz = calibrate_pm_timer(pm_tmr_port, pm_tmr_32bit);
		info.source = TSC_SRC_PM_TIMER;
	}
	if (info.calibrated_khz) {
		info.khz = info.calibrated_khz;
	} else if (info.cpuid15_khz) {
		info.khz = info.cpuid15_khz;
		info.source = TSC_SRC_CPUID_15;
	} else if (info.cpuid16_khz) {
		info.khz = info.cpuid16_khz;
		info.source = TSC_SRC_CPUID_16;
	} else {
		info.khz = DEFAULT_KHZ;
		info.source = TSC_SRC_DEFAULT;
	}
	return &info;
}

const char *tsc_source_name(enum tsc_source src)
{
	switch (src) {
	case TSC_SRC_PIT: return "PIT";
	case TSC_SRC_PM_TIMER: return "ACPI PM timer";
	case TSC_SRC_CPUID_15: return "CPUID 0x15";
	case TSC_SRC_CPUID_16: return "CPUID 0x16";
	default: return "default guess";
	}
}

uint64_t tsc_khz(void)
{
	return info.khz;
}

uint64_t timer_deadline_us(uint64_t us)
{
	return rdtsc() + us * info.khz / 1000;
}

bool timer_expired(uint64_t deadline)
{
	return (int64_t)(rdtsc() - deadline) >= 0;
}

void udelay(uint64_t us)
{
	uint64_t deadline = timer_deadline_us(us);

	while (!timer_expired(deadline))
		cpu_relax();
}
