/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for core/trace.c: the per-CPU exit ring, wrap-around and its utrace dump. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/log.h"
#include "core/mem.h"
#include "core/trace.h"

/* ---- stubs: memory from the host, log lines kept for the checks ---------------- */

#define MAX_LINES 64
static char lines[MAX_LINES][256];
static int nlines;
static void *allocations[8];
static int nalloc;

uint64_t mem_alloc_pages(size_t count)
{
	void *p = calloc(count, 4096);

	assert_true(nalloc < 8);
	allocations[nalloc++] = p;
	return (uint64_t)(uintptr_t)p;
}

void log(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	(void)level;
	if (nlines >= MAX_LINES)
		return;
	va_start(ap, fmt);
	vsnprintf(lines[nlines++], sizeof(lines[0]), fmt, ap);
	va_end(ap);
}

static int teardown(void **state)
{
	(void)state;
	for (int i = 0; i < nalloc; i++)
		free(allocations[i]);
	nalloc = 0;
	nlines = 0;
	return 0;
}

static void record(uint32_t cpu, uint16_t reason, uint32_t field)
{
	struct trace_record *t = trace_next(cpu);

	t->tsc = 1000 + t->seq;
	t->qualification = 0;
	t->rip = 0x1000;
	t->cycles = 7;
	t->reason = reason;
	t->level = 2;
	t->flags = TRACE_DONE | TRACE_REFLECTED;
	t->field = field;
}

/* trace=0, the default: nothing allocated, nothing on. Must run first. */
static void test_off_by_default(void **state)
{
	(void)state;
	assert_true(trace_init(0, 4));
	assert_false(trace_enabled);
	assert_int_equal(nalloc, 0);
	assert_int_equal(trace_dump(0), 0);
	assert_int_equal(nlines, 0);
}

static void test_too_big(void **state)
{
	(void)state;
	assert_false(trace_init(TRACE_MAX_RECORDS + 1, 1));
	assert_false(trace_enabled);
}

/* A ring of 4 that saw 6 exits keeps the last 4, oldest first, and says 2 were lost. */
static void test_wrap_around(void **state)
{
	(void)state;
	assert_true(trace_init(4, 2));
	assert_true(trace_enabled);
	assert_int_equal(nalloc, 2);
	for (int i = 0; i < 6; i++)
		record(0, 10, TRACE_NO_FIELD);
	record(1, 23, 0x681e);
	nlines = 0;
	assert_int_equal(trace_dump(0), 4);
	assert_int_equal(nlines, 6);
	assert_string_equal(lines[0], "utrace v=1 rec=ring cpu=0 size=4 exits=6 records=4 lost=2");
	assert_string_equal(lines[1], "utrace v=1 rec=exit cpu=0 seq=2 tsc=1002 level=L2 reason=10 qual=0 "
				      "rip=0x1000 cycles=7 reflected=1 done=1 entry_failure=0 field=-");
	assert_non_null(strstr(lines[4], " seq=5 "));
	assert_string_equal(lines[5], "utrace v=1 rec=end cpu=0");

	nlines = 0;
	assert_int_equal(trace_dump(1), 1);
	assert_string_equal(lines[0], "utrace v=1 rec=ring cpu=1 size=4 exits=1 records=1 lost=0");
	assert_non_null(strstr(lines[1], " reason=23 "));
	assert_non_null(strstr(lines[1], " field=0x681e"));
	/* A CPU without a ring prints nothing. */
	nlines = 0;
	assert_int_equal(trace_dump(2), 0);
	assert_int_equal(nlines, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_off_by_default, teardown),
		cmocka_unit_test_teardown(test_too_big, teardown),
		cmocka_unit_test_teardown(test_wrap_around, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
