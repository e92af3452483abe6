/* SPDX-License-Identifier: BSD-2-Clause */
/* Exit-path profile (PROFILE=1 builds): per-vCPU TSC cycles per phase, read by hypercall. */
#include "arch/x86/profile.h"
#include "arch/x86/cpu.h"
#include "arch/x86/vcpu.h"
#include "core/log.h"
#include "core/percpu.h"
#include "core/string.h"

#ifdef UMBRA_PROFILE
static uint64_t probe_cost; /* cycles a phase interval holds of its two probes */

static __attribute__((noinline)) void probe(struct profile *p, enum profile_phase next)
{
	uint64_t now = rdtsc();

	p->cycles[p->cur] += now - p->last;
	p->intervals[p->cur]++;
	p->cur = next;
	p->last = rdtsc();
}

void profile_phase(struct vcpu *v, enum profile_phase p)
{
	probe(&v->prof, p);
}

/*
 * The stub read the TSC right before VMLAUNCH/VMRESUME (regs.tsc_enter)
 * and right after the exit saved the guest's registers (regs.tsc_exit).
 */
void profile_after_guest(struct vcpu *v)
{
	struct profile *p = &v->prof;
	uint64_t now = rdtsc();

	p->cycles[PROFILE_ENTRY_STUB] += v->regs.tsc_enter - p->last;
	p->intervals[PROFILE_ENTRY_STUB]++;
	p->cycles[PROFILE_GUEST] += v->regs.tsc_exit - v->regs.tsc_enter;
	p->intervals[PROFILE_GUEST]++;
	p->cycles[PROFILE_EXIT_STUB] += now - v->regs.tsc_exit;
	p->intervals[PROFILE_EXIT_STUB]++;
	p->cur = PROFILE_DISPATCH;
	p->last = rdtsc();
}

void profile_init(void)
{
	struct vcpu *v = vcpu_of(0);
	struct profile saved = v->prof;

	/*
	 * Back-to-back probes, called as the exit path calls them: what each
	 * interval holds of the probes themselves (and of this loop, ~2 cycles).
	 */
	v->prof = (struct profile){ .last = rdtsc(), .cur = PROFILE_ENTRY };
	for (int i = 0; i < 1000; i++)
		profile_phase(v, PROFILE_ENTRY);
	probe_cost = v->prof.cycles[PROFILE_ENTRY] / v->prof.intervals[PROFILE_ENTRY];
	v->prof = saved;
	log_info("profile: exit-path profile on (PROFILE=1 build): %lu cycles per probe interval",
		 probe_cost);
}

bool profile_read(uint64_t cpu, struct umbra_hc_profile *out)
{
	memset(out, 0, sizeof(*out));
	out->phases = PROFILE_PHASE_COUNT;
	out->probe_cost = probe_cost;
	for (uint32_t c = 0; c < cpu_count; c++) {
		const struct profile *p = &vcpu_of(c)->prof;

		if (cpu != UMBRA_HC_ALL_CPUS && c != cpu)
			continue;
		for (int i = 0; i < PROFILE_PHASE_COUNT; i++) {
			out->cycles[i] += p->cycles[i];
			out->intervals[i] += p->intervals[i];
		}
	}
	return true;
}
#else
bool profile_read(uint64_t cpu __unused, struct umbra_hc_profile *out __unused)
{
	return false;
}
#endif
