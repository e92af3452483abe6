/* SPDX-License-Identifier: BSD-2-Clause */
/* umbra's hypercall ABI: VMCALL from the L1 guest (shared with test guests). */
#ifndef UMBRA_CORE_HYPERCALL_H
#define UMBRA_CORE_HYPERCALL_H

/*
 * Discovery: CPUID leaf 0x40000000 returns EAX = highest hypervisor leaf,
 * EBX:ECX:EDX = "UmbraUmbraUm". Leaf 0x40000001 returns EAX = version
 * (major << 16 | minor).
 *
 * Calling convention: VMCALL at CPL 0 with RAX = function, arguments in
 * RBX, RCX, RDX. Result in RAX: 0 or a positive value on success, a
 * negative UMBRA_HC_E* on failure. Other registers are preserved unless the
 * function says otherwise. VMCALL at CPL > 0 returns UMBRA_HC_EPERM.
 * While L1 is in VMX root operation (after its VMXON), a VMCALL with RAX
 * not a function number gets the SDM's answer instead (VMfailValid(1),
 * or VMfailInvalid without a current VMCS; #GP at CPL > 0), so that L1's
 * own VMCALLs behave as on the CPU; RAX 0-4 stay umbra's hypercalls.
 */
#define UMBRA_CPUID_LEAF_BASE 0x40000000u
#define UMBRA_CPUID_LEAF_VERSION 0x40000001u
#define UMBRA_CPUID_SIGNATURE_EBX 0x72626d55u /* "Umbr" */
#define UMBRA_CPUID_SIGNATURE_ECX 0x626d5561u /* "aUmb" */
#define UMBRA_CPUID_SIGNATURE_EDX 0x6d556172u /* "raUm" */

enum umbra_hypercall {
	/* RAX = 0, RBX = version (major << 16 | minor), RCX = number of CPUs. */
	UMBRA_HC_VERSION = 0,
	/*
	 * Copy statistics to guest-physical RBX, at most RCX bytes, for CPU RDX
	 * (or all CPUs added up when RDX = ~0). RAX = bytes written: a struct
	 * umbra_hc_stats, truncated to RCX if smaller. Exits while L1 ran and
	 * while L2 ran are added up (every exit to umbra counts, this
	 * hypercall's own included).
	 */
	UMBRA_HC_STATS = 1,
	/* Stop the machine: print statistics, exit with status RBX (0 = success). No return. */
	UMBRA_HC_SHUTDOWN = 2,
	/* Print RCX bytes (at most 256) at guest-physical RBX on umbra's console. */
	UMBRA_HC_LOG = 3,
	/*
	 * VMREAD/VMWRITE exits per VMCS field (nested VMX): copy one struct
	 * umbra_hc_field_stat per field umbra knows to guest-physical RBX, at
	 * most RCX bytes, for CPU RDX (or all CPUs added up when RDX = ~0).
	 * RAX = bytes written.
	 */
	UMBRA_HC_FIELD_STATS = 4,
	/*
	 * Exit-path profile of a PROFILE=1 build (arch/x86/profile.h): copy a
	 * struct umbra_hc_profile to guest-physical RBX, at most RCX bytes, for
	 * CPU RDX (or all CPUs added up when RDX = ~0). RAX = bytes written;
	 * UMBRA_HC_ENOSYS in a build without the profile.
	 */
	UMBRA_HC_PROFILE = 5,
	/*
	 * Print the calling CPU's exit trace (trace=N) on umbra's console as
	 * "utrace" lines (docs/research.md), as at shutdown; the ring is left
	 * as it is (records carry their sequence number, so a reader drops
	 * the ones it saw twice). RAX = records printed, or UMBRA_HC_ENODATA
	 * when tracing is off.
	 */
	UMBRA_HC_TRACE_DUMP = 6,
	UMBRA_HC_COUNT, /* function numbers are below this */
};

#define UMBRA_HC_ENOSYS (-38L)  /* unknown function */
#define UMBRA_HC_EPERM (-1L)    /* VMCALL at CPL > 0 */
#define UMBRA_HC_EINVAL (-22L)  /* bad argument */
#define UMBRA_HC_EFAULT (-14L)  /* a buffer outside guest memory */
#define UMBRA_HC_ENODATA (-61L) /* nothing to return (e.g. tracing is off) */

#define UMBRA_HC_ALL_CPUS (~0ULL)
#define UMBRA_STATS_REASONS 80 /* basic exit reasons 0..79 */

/* Layout returned by UMBRA_HC_STATS (little endian, no padding). */
struct umbra_hc_stats {
	unsigned long long total_exits;
	unsigned long long exits[UMBRA_STATS_REASONS];  /* per basic exit reason */
	unsigned long long cycles[UMBRA_STATS_REASONS]; /* TSC cycles umbra spent per reason */
	/* VM exits as umbra's exit stub counted them: equal to total_exits, or umbra is wrong. */
	unsigned long long vm_exits;
};

#define UMBRA_PROFILE_PHASES_MAX 16

/*
 * Layout returned by UMBRA_HC_PROFILE: TSC cycles and intervals per phase
 * (arch/x86/profile.h names them, in order), with the probes' own cost not
 * yet taken off: probe_cost cycles per interval.
 */
struct umbra_hc_profile {
	unsigned long long phases;
	unsigned long long probe_cost;
	unsigned long long cycles[UMBRA_PROFILE_PHASES_MAX];
	unsigned long long intervals[UMBRA_PROFILE_PHASES_MAX];
};

struct umbra_hc_field_stat {
	unsigned int encoding;
	unsigned int vmread_exits;
	unsigned int vmwrite_exits;
	unsigned int reserved;
};

#endif
