/* SPDX-License-Identifier: BSD-2-Clause */
/* TEST / INFO / SUMMARY lines and the verdict counts behind the summary. */
#include "tests/guests/lib/report.h"
#include "core/format.h"
#include "core/log.h"
#include "drivers/power.h"

#define DETAIL_MAX 160

static uint32_t counts[3];

static const char *const verdict_names[] = {
	[VERDICT_PASS] = "PASS",
	[VERDICT_FAIL] = "FAIL",
	[VERDICT_SKIP] = "SKIP",
};

static void vreport(const char *name, enum verdict v, const char *fmt, va_list ap)
{
	char detail[DETAIL_MAX];

	fmt_vsnprintf(detail, sizeof(detail), fmt, ap);
	counts[v]++;
	log_info("TEST %s %s %s", name, verdict_names[v], detail);
}

void report(const char *name, enum verdict v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(name, v, fmt, ap);
	va_end(ap);
}

bool check(const char *name, bool ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(name, ok ? VERDICT_PASS : VERDICT_FAIL, fmt, ap);
	va_end(ap);
	return ok;
}

void info(const char *fmt, ...)
{
	char text[DETAIL_MAX];
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	log_info("INFO %s", text);
}

uint32_t report_failed(void)
{
	return counts[VERDICT_FAIL];
}

__noreturn void report_finish(void)
{
	log_info("SUMMARY passed=%u failed=%u skipped=%u", counts[VERDICT_PASS],
		 counts[VERDICT_FAIL], counts[VERDICT_SKIP]);
	platform_exit(counts[VERDICT_FAIL] ? EXIT_FAILURE : EXIT_OK);
}
