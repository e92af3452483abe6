/* SPDX-License-Identifier: BSD-2-Clause */
/* Memory and string primitives (libc's in host tests, core/string.c in the kernel). */
#ifndef UMBRA_CORE_STRING_H
#define UMBRA_CORE_STRING_H

#ifdef UMBRA_HOST_TEST
#include <string.h>
#else
#include "core/types.h"

void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
#endif

#endif
