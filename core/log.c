/* SPDX-License-Identifier: BSD-2-Clause */
/* Logging to the serial console with levels and a CPU prefix. */
#include "core/log.h"
#include "core/format.h"
#include "core/percpu.h"
#include "core/spinlock.h"
#include "drivers/uart.h"

#define LOG_LINE_MAX 256

enum log_level log_current_level = LOG_INFO;
static struct spinlock log_lock = SPINLOCK_INIT;
static volatile bool lock_broken;

void log_set_level(enum log_level level)
{
	log_current_level = level;
}

void log_break_lock(void)
{
	lock_broken = true;
}

static void emit(const char *buf, int len)
{
	/* fmt_vsnprintf returns the untruncated length: say so rather than cut silently. */
	if (len >= LOG_LINE_MAX) {
		uart_write(buf, LOG_LINE_MAX - 1);
		uart_write("...(truncated)\n", 15);
		return;
	}
	uart_write(buf, (size_t)len);
	if (len == 0 || buf[len - 1] != '\n')
		uart_write("\n", 1);
}

void vlog(enum log_level level, const char *fmt, va_list ap)
{
	char buf[LOG_LINE_MAX];
	int prefix, len;
	uint64_t flags = 0;
	bool locked = false;

	if (level > log_current_level)
		return;
	prefix = fmt_snprintf(buf, sizeof(buf), "[cpu%u] ", cpu_index());
	len = prefix + fmt_vsnprintf(buf + prefix, sizeof(buf) - prefix, fmt, ap);
	if (!lock_broken) {
		flags = spin_lock_irqsave(&log_lock);
		locked = true;
	}
	emit(buf, len);
	if (locked)
		spin_unlock_irqrestore(&log_lock, flags);
}

void log(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

void log_raw(const char *fmt, ...)
{
	char buf[LOG_LINE_MAX];
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = fmt_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	uart_write(buf, (size_t)MIN(len, LOG_LINE_MAX - 1));
}
