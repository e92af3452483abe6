/* SPDX-License-Identifier: BSD-2-Clause */
/* Test guests' results on the console: TEST, INFO and SUMMARY lines that scripts compare. */
#ifndef UMBRA_TESTS_GUESTS_LIB_REPORT_H
#define UMBRA_TESTS_GUESTS_LIB_REPORT_H

#include "core/types.h"

/*
 * Line formats (after log's "[cpuN] " prefix):
 *   TEST <group>.<name> PASS|FAIL|SKIP <detail>   one per check; name and verdict are compared
 *   INFO <text>                                   may differ between runs; never compared
 *   SUMMARY passed=N failed=N skipped=N           last line before the guest ends the machine
 * Only one CPU (the BSP) reports, so that the order of lines is deterministic.
 */
enum verdict {
	VERDICT_PASS,
	VERDICT_FAIL,
	VERDICT_SKIP,
};

void report(const char *name, enum verdict v, const char *fmt, ...) __printf(3, 4);
/* PASS when ok, else FAIL; the detail (observed values) is printed either way. Returns ok. */
bool check(const char *name, bool ok, const char *fmt, ...) __printf(3, 4);
void info(const char *fmt, ...) __printf(1, 2);

uint32_t report_failed(void);
/* SUMMARY line, then leave the machine: EXIT_OK when nothing failed, else EXIT_FAILURE. */
__noreturn void report_finish(void);

#endif
