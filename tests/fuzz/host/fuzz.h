/* SPDX-License-Identifier: BSD-2-Clause */
/* Shared by the host fuzz harnesses: the libFuzzer entry point and a consistency check that aborts. */
#ifndef UMBRA_TESTS_FUZZ_HOST_FUZZ_H
#define UMBRA_TESTS_FUZZ_HOST_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * A broken invariant of the parser's output is a finding like a sanitizer
 * report: say which, then abort() so that libFuzzer saves the input.
 */
#define FUZZ_CHECK(cond)                                                                   \
	do {                                                                               \
		if (!(cond)) {                                                             \
			fprintf(stderr, "FUZZ_CHECK failed: %s (%s:%d)\n", #cond, __FILE__, \
				__LINE__);                                                 \
			abort();                                                           \
		}                                                                          \
	} while (0)

#endif
