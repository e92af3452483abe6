/* SPDX-License-Identifier: BSD-2-Clause */
/* Coverage counters of a COVERAGE=1 build (gcc's gcov), dumped at shutdown (docs/coverage.md). */
#ifndef UMBRA_CORE_GCOV_H
#define UMBRA_CORE_GCOV_H

#include "core/types.h"

/* Where a dump goes: called with pieces of the text, in order. */
typedef void (*gcov_write_fn)(void *ctx, const char *s, size_t len);

#ifdef UMBRA_COVERAGE
/* Run the constructors gcc emitted (each registers one object's counters): first thing at boot. */
void gcov_init(void);
/* Every registered object's counters as text records ("GCOV ..." lines, docs/coverage.md). */
void gcov_dump_to(gcov_write_fn write, void *ctx);
/* The dump of a run: to port 0xE9 where the emulator has it, else to the console UART. */
void gcov_dump(void);
#else
static inline void gcov_init(void)
{
}
static inline void gcov_dump(void)
{
}
#endif

#endif
