/* SPDX-License-Identifier: BSD-2-Clause */
/* printf-style formatting into a bounded buffer (no allocation, no floats). */
#ifndef UMBRA_CORE_FORMAT_H
#define UMBRA_CORE_FORMAT_H

#include "core/types.h"

/*
 * C99 vsnprintf semantics: writes at most size-1 characters plus a NUL
 * (when size > 0) and returns the length the full output would have had.
 * Conversions: %d %i %u %x %X %o %p %s %c %%; flags '-' '0' '+' ' ' '#';
 * field width and precision (numbers or '*'); length modifiers hh h l ll z t j.
 * %s of NULL prints "(null)". An unknown conversion is copied through
 * verbatim so that mistakes stay visible in logs.
 */
int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int fmt_snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);

#endif
