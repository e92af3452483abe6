/* SPDX-License-Identifier: BSD-2-Clause */
/* Exit trace: a fixed per-CPU ring of VM-exit records, dumped as machine-readable lines. */
#ifndef UMBRA_CORE_TRACE_H
#define UMBRA_CORE_TRACE_H

#include "core/types.h"

/*
 * One VM exit as umbra saw it. The ring is allocated once at start-up
 * (trace=N on umbra's command line); with trace=0, the default, nothing is
 * recorded and the exit path pays one test of trace_enabled.
 *
 * The record is filled in two steps: before the handler runs (so that an
 * exit whose handler never returns, a shutdown or a guest stop, is still
 * recorded) and after it (cycles, reflected, TRACE_DONE).
 */
struct trace_record {
	uint64_t seq;           /* this CPU's exit number, from 0 (gaps = records lost to wrap-around) */
	uint64_t tsc;           /* TSC right after the exit */
	uint64_t qualification; /* exit qualification */
	uint64_t rip;           /* guest RIP of the level that exited */
	uint64_t cycles;        /* TSC cycles umbra spent on the exit (0 until TRACE_DONE) */
	uint32_t field;         /* VMCS field encoding of a VMREAD/VMWRITE exit, else TRACE_NO_FIELD */
	uint16_t reason;        /* basic exit reason (SDM Vol. 3C 24.9.1, bits 15:0) */
	uint8_t level;          /* 1: L1 ran, 2: L2 ran */
	uint8_t flags;          /* TRACE_* below */
};
_Static_assert(sizeof(struct trace_record) == 48, "trace record layout (docs/research.md)");

#define TRACE_NO_FIELD 0xffffffffu
#define TRACE_DONE BIT(0)          /* the handler returned: cycles are valid */
#define TRACE_REFLECTED BIT(1)     /* the exit was reflected to L1 (an L2 exit L1 asked for) */
#define TRACE_ENTRY_FAILURE BIT(2) /* exit reason bit 31: VM-entry failure */

/* The largest trace=N accepted (48 MiB of records per CPU). */
#define TRACE_MAX_RECORDS (1u << 20)

/* Version of the "utrace" line format (docs/research.md); bump on any change. */
#define TRACE_FORMAT_VERSION 1

extern bool trace_enabled;

/* Allocate a ring of records_per_cpu records for each of cpus CPUs (0 = tracing off). */
bool trace_init(uint32_t records_per_cpu, uint32_t cpus);

/* The next record of CPU cpu's ring (oldest one overwritten when full), seq filled in. */
struct trace_record *trace_next(uint32_t cpu);

/*
 * Print CPU cpu's ring as "utrace" lines: a header with the count lost to
 * wrap-around, the records oldest first, an end line. Returns the records printed.
 */
uint64_t trace_dump(uint32_t cpu);
/* Every CPU's ring, at shutdown (the other CPUs are parked). */
void trace_dump_all(void);

#endif
