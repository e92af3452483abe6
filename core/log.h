/* SPDX-License-Identifier: BSD-2-Clause */
/* Logging: one call, a level, a [cpuN] prefix, serialised across CPUs. */
#ifndef UMBRA_CORE_LOG_H
#define UMBRA_CORE_LOG_H

#include "core/cmdline.h"
#include "core/types.h"

void log_set_level(enum log_level level);
/* The level, inline: the exit path asks on every exit. */
extern enum log_level log_current_level;
static inline enum log_level log_get_level(void)
{
	return log_current_level;
}

/* "[cpuN] " + message; a message without a trailing newline gets one. */
void log(enum log_level level, const char *fmt, ...) __printf(2, 3);
void vlog(enum log_level level, const char *fmt, va_list ap);

/* Raw output without prefix or lock: only for panic paths. */
void log_raw(const char *fmt, ...) __printf(1, 2);

/* After this, log() ignores its lock (a panicking CPU may hold it forever). */
void log_break_lock(void);

#define log_err(...) log(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log(LOG_WARN, __VA_ARGS__)
#define log_info(...) log(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log(LOG_DEBUG, __VA_ARGS__)

#endif
