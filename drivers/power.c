/* SPDX-License-Identifier: BSD-2-Clause */
/* Power-off and emulator exit. */
#include "drivers/power.h"
#include "arch/x86/cpu.h"
#include "core/string.h"
#include "drivers/acpi.h"
#include "drivers/timer.h"
#include "drivers/uart.h"

/* Bochs: writing "Shutdown" to this port ends the emulator (iodev/unmapped.cc). */
#define BOCHS_SHUTDOWN_PORT 0x8900
/* QEMU: -device isa-debug-exit,iobase=0xf4 exits with (value << 1) | 1. */
#define QEMU_DEBUG_EXIT_PORT 0xf4
/* QEMU fw_cfg: selector 0 reads back the signature "QEMU". */
#define QEMU_FW_CFG_SEL 0x510
#define QEMU_FW_CFG_DATA 0x511

/* ACPI 6.5 4.8.3.2.1: PM1 control register. */
#define PM1_SCI_EN BIT(0)
#define PM1_SLP_TYP_SHIFT 10
#define PM1_SLP_EN BIT(13)

static enum platform_kind kind = PLATFORM_HARDWARE;
static bool halt_only;
static bool s5_ok;
static uint32_t pm1a, pm1b, smi_cmd;
static uint8_t slp_typa, slp_typb, acpi_enable_value;

static bool qemu_fw_cfg_present(void)
{
	char sig[4];

	outw(QEMU_FW_CFG_SEL, 0);
	for (int i = 0; i < 4; i++)
		sig[i] = (char)inb(QEMU_FW_CFG_DATA);
	return memcmp(sig, "QEMU", 4) == 0;
}

void power_init(const struct acpi_info *acpi, bool halt_instead)
{
	halt_only = halt_instead;
	/*
	 * Only probe emulator ports on a machine whose ACPI tables came from
	 * Bochs or QEMU (both write the OEM ID "BOCHS "): on real hardware an
	 * unknown port may belong to something.
	 */
	if (acpi && memcmp(acpi->oem_id, "BOCHS ", 6) == 0)
		kind = qemu_fw_cfg_present() ? PLATFORM_QEMU : PLATFORM_BOCHS;
	if (acpi && acpi->has_fadt && acpi->has_s5 && acpi->pm1a_cnt_port) {
		s5_ok = true;
		pm1a = acpi->pm1a_cnt_port;
		pm1b = acpi->pm1b_cnt_port;
		slp_typa = acpi->slp_typa;
		slp_typb = acpi->slp_typb;
		smi_cmd = acpi->smi_cmd;
		acpi_enable_value = acpi->acpi_enable;
	}
}

enum platform_kind platform_kind(void)
{
	return kind;
}

const char *platform_name(void)
{
	switch (kind) {
	case PLATFORM_BOCHS: return "Bochs";
	case PLATFORM_QEMU: return "QEMU";
	default: return "hardware";
	}
}

static void acpi_s5(void)
{
	if (!s5_ok)
		return;
	/* ACPI 6.5 16.3.1: put the platform in ACPI mode first if firmware has not. */
	if (!(inw(pm1a) & PM1_SCI_EN) && smi_cmd && acpi_enable_value) {
		outb(smi_cmd, acpi_enable_value);
		for (int i = 0; i < 300 && !(inw(pm1a) & PM1_SCI_EN); i++)
			udelay(10000);
	}
	outw(pm1a, (slp_typa << PM1_SLP_TYP_SHIFT) | PM1_SLP_EN);
	if (pm1b)
		outw(pm1b, (slp_typb << PM1_SLP_TYP_SHIFT) | PM1_SLP_EN);
	udelay(100000);
}

__noreturn void platform_exit(enum exit_status status)
{
	static const char shutdown[] = "Shutdown";
	static const char halted[] = "umbra: halted (power-off not available)\n";

	irq_disable();
	uart_flush();
	if (!halt_only) {
		if (kind == PLATFORM_BOCHS) {
			for (size_t i = 0; i < sizeof(shutdown) - 1; i++)
				outb(BOCHS_SHUTDOWN_PORT, shutdown[i]);
		} else if (kind == PLATFORM_QEMU) {
			outb(QEMU_DEBUG_EXIT_PORT, (uint8_t)status);
		}
		acpi_s5();
	}
	uart_write(halted, sizeof(halted) - 1);
	uart_flush();
	cpu_halt_forever();
}
