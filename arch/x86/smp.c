/* SPDX-License-Identifier: BSD-2-Clause */
/* AP start-up (SDM Vol. 3A 8.4.4.1, "universal start-up algorithm"). */
#include "arch/x86/smp.h"
#include "arch/x86/cpu.h"
#include "core/log.h"
#include "core/percpu.h"
#include "core/string.h"
#include "drivers/lapic.h"
#include "drivers/timer.h"

#define TRAMPOLINE_BASE 0x8000 /* boot/layout.inc */

/* Filled by the BSP, read by boot/trampoline.asm; offsets in boot/layout.inc. */
struct trampoline_params {
	uint64_t cr3;
	uint64_t stack;
	uint64_t entry;
	uint64_t cpu_index;
	uint64_t efer;
	volatile uint32_t started;
	uint32_t pad;
};

_Static_assert(__builtin_offsetof(struct trampoline_params, cr3) == 0, "TP_CR3");
_Static_assert(__builtin_offsetof(struct trampoline_params, stack) == 8, "TP_STACK");
_Static_assert(__builtin_offsetof(struct trampoline_params, entry) == 16, "TP_ENTRY");
_Static_assert(__builtin_offsetof(struct trampoline_params, cpu_index) == 24, "TP_CPU_INDEX");
_Static_assert(__builtin_offsetof(struct trampoline_params, efer) == 32, "TP_EFER");
_Static_assert(__builtin_offsetof(struct trampoline_params, started) == 40, "TP_STARTED");
_Static_assert(sizeof(struct trampoline_params) == 48, "tramp_params size in trampoline.asm");

extern char trampoline_start[], trampoline_end[], tramp_params[];

static bool wait_until(volatile uint32_t *flag, uint64_t deadline)
{
	while (!*flag) {
		if (timer_expired(deadline))
			return false;
		cpu_relax();
	}
	return true;
}

static bool wait_online(struct percpu *p, uint64_t deadline)
{
	while (p->state != CPU_ONLINE) {
		if (timer_expired(deadline))
			return false;
		cpu_relax();
	}
	return true;
}

static bool start_one(uint32_t index, ap_entry_fn entry, struct trampoline_params *tp,
		      uint32_t timeout_ms)
{
	struct percpu *p = &percpu_data[index];
	uint8_t vector = TRAMPOLINE_BASE >> 12;
	uint64_t deadline;

	tp->cr3 = read_cr3();
	tp->stack = (uint64_t)p->stack_top;
	tp->entry = (uint64_t)entry;
	tp->cpu_index = index;
	tp->efer = rdmsr(MSR_EFER) & (EFER_LME | EFER_NXE);
	tp->started = 0;
	p->state = CPU_STARTING;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);

	if (!lapic_send_init(p->apic_id))
		return false;
	udelay(10000);
	if (!lapic_send_sipi(p->apic_id, vector))
		return false;
	udelay(200);
	/* A second SIPI only if the first was missed (it is ignored otherwise). */
	if (!tp->started && !lapic_send_sipi(p->apic_id, vector))
		return false;
	deadline = timer_deadline_us((uint64_t)timeout_ms * 1000);
	return wait_until(&tp->started, deadline) && wait_online(p, deadline);
}

uint32_t smp_start_aps(ap_entry_fn entry, uint32_t timeout_ms)
{
	struct trampoline_params *tp =
		(void *)(TRAMPOLINE_BASE + (tramp_params - trampoline_start));
	uint32_t online = 1;

	memcpy((void *)TRAMPOLINE_BASE, trampoline_start, trampoline_end - trampoline_start);
	for (uint32_t i = 1; i < cpu_count; i++) {
		struct percpu *p = &percpu_data[i];

		if (start_one(i, entry, tp, timeout_ms)) {
			online++;
			continue;
		}
		p->state = CPU_FAILED;
		log_err("smp: CPU %u (APIC ID %u) did not come up within %u ms", i, p->apic_id,
			timeout_ms);
		/* Back to wait-for-SIPI so it cannot run the trampoline later. */
		lapic_send_init(p->apic_id);
		udelay(10000);
	}
	return online;
}
