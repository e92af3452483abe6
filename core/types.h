/* SPDX-License-Identifier: BSD-2-Clause */
/* Basic freestanding types and helpers shared by every layer. */
#ifndef UMBRA_CORE_TYPES_H
#define UMBRA_CORE_TYPES_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a) (((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))
#define IS_ALIGNED(x, a) (((x) & ((__typeof__(x))(a) - 1)) == 0)
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define BIT(n) (1ULL << (n))

#define KiB(x) ((uint64_t)(x) << 10)
#define MiB(x) ((uint64_t)(x) << 20)
#define GiB(x) ((uint64_t)(x) << 30)

#define PAGE_SIZE 4096UL

#define __packed __attribute__((packed))
#define __aligned(x) __attribute__((aligned(x)))
#define __noreturn __attribute__((noreturn))
#define __printf(a, b) __attribute__((format(printf, a, b)))
#define __unused __attribute__((unused))
#define __cold __attribute__((cold))
#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

/* Init-only code and data: placed in .boot.* sections (see linker.ld). */
#ifdef UMBRA_HOST_TEST
#define BOOT_CODE
#define BOOT_DATA
#else
#define BOOT_CODE __attribute__((section(".boot.text")))
#define BOOT_DATA __attribute__((section(".boot.data")))
#endif

#endif
