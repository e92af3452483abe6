/* SPDX-License-Identifier: BSD-2-Clause */
/* A freestanding gcov runtime for COVERAGE=1 builds: gcc 12's counters registered at boot, dumped as text. */
#include "core/gcov.h"

/*
 * gcc -fprofile-arcs gives every object file a static constructor that calls
 * __gcov_init() with the object's struct gcov_info, and bumps 64-bit arc
 * counters in .bss as the code runs. libgcov would write the counters to a
 * .gcda file per object at exit; umbra has no files, so it prints them
 * (gcov_dump_to) and tools/umbra-gcov writes the .gcda files on the host,
 * summing the dumps of many boots. This file is compiled without
 * -fprofile-arcs (the Makefile), so dumping does not move its own counters.
 *
 * The structures below are gcc's ABI, not a header of its: their layout
 * changes between gcc releases (GCOV_COUNTERS was 9 before gcc 10, the
 * checksum field came with gcc 12), hence the version checks at compile
 * time and on every object at run time.
 */
#if __GNUC__ != 12
#error "core/gcov.c knows gcc 12's struct gcov_info only: check libgcc/libgcov.h of this gcc and update it"
#endif

/* gcc's counter kinds (gcc/gcov-counter.def in gcc 10 to 12): arcs, interval, pow2, topn,
 * indirect call, average, ior, time profiler. -fprofile-arcs alone uses the arcs kind only. */
#define GCOV_COUNTERS 8
#define GCOV_COUNTER_ARCS 0

/*
 * gcov_info.version is GCOV_VERSION, four characters read as a big-endian
 * word: 'A' + major / 10, '0' + major % 10, '0' + minor, then a release
 * character ('*' for releases). Objects of another gcc than this file's
 * are refused (their layout may differ).
 */
#define GCOV_VERSION_MAJOR_MINOR                                                                 \
	((uint32_t)('A' + __GNUC__ / 10) << 24 | (uint32_t)('0' + __GNUC__ % 10) << 16 |          \
	 (uint32_t)('0' + __GNUC_MINOR__) << 8)
#define GCOV_VERSION_RELEASE_MASK 0xffu

/* Sanity bound on one object's functions and one function's counters (umbra's largest: a few hundred). */
#define GCOV_MAX_FUNCTIONS 100000u
#define GCOV_MAX_COUNTERS 1000000u

/* The dump's text format version (docs/coverage.md; tools/umbra-gcov reads it). */
#define GCOV_DUMP_FORMAT 1

/* FNV-1a, 32 bits: the dump's end record carries it, so that a garbled dump is rejected. */
#define FNV32_OFFSET 0x811c9dc5u
#define FNV32_PRIME 0x01000193u

/* Bochs's port_e9_hack and QEMU's isa-debugcon: bytes written here go to the emulator's stdout. */
#define DEBUG_CONSOLE_PORT 0xe9

typedef int64_t gcov_type;
typedef void (*gcov_merge_fn)(gcov_type *counters, uint32_t n);

struct gcov_info;

/* One function's counters of one kind. */
struct gcov_ctr_info {
	uint32_t num;
	gcov_type *values;
};

/* One instrumented function: one gcov_ctr_info per kind whose merge function is set. */
struct gcov_fn_info {
	const struct gcov_info *key; /* the object whose copy of a comdat function was kept */
	uint32_t ident;
	uint32_t lineno_checksum;
	uint32_t cfg_checksum;
	struct gcov_ctr_info ctrs[];
};

/* One object file, as gcc 12 emits it (.LPBX0). */
struct gcov_info {
	uint32_t version;
	struct gcov_info *next;
	uint32_t stamp;
	uint32_t checksum;
	const char *filename;
	gcov_merge_fn merge[GCOV_COUNTERS];
	uint32_t n_functions;
	const struct gcov_fn_info *const *functions;
};

/* The layout gcc 12.2 emits on x86-64 (checked against its assembly output, docs/coverage.md). */
_Static_assert(sizeof(struct gcov_ctr_info) == 16, "gcov_ctr_info layout");
_Static_assert(__builtin_offsetof(struct gcov_fn_info, ctrs) == 24, "gcov_fn_info layout");
_Static_assert(__builtin_offsetof(struct gcov_info, stamp) == 16, "gcov_info layout");
_Static_assert(__builtin_offsetof(struct gcov_info, filename) == 24, "gcov_info layout");
_Static_assert(__builtin_offsetof(struct gcov_info, merge) == 32, "gcov_info layout");
_Static_assert(__builtin_offsetof(struct gcov_info, n_functions) == 96, "gcov_info layout");
_Static_assert(sizeof(struct gcov_info) == 112, "gcov_info layout");

/* The entry points gcc's code refers to (libgcc's names). */
void __gcov_init(struct gcov_info *info);
void __gcov_exit(void);
void __gcov_merge_add(gcov_type *counters, uint32_t n);

static struct gcov_info *gcov_list;
static uint32_t gcov_registered, gcov_rejected;

/* Only arc counters, from this gcc: anything else would be read with the wrong layout. */
static bool gcov_info_ok(const struct gcov_info *info)
{
	if ((info->version & ~GCOV_VERSION_RELEASE_MASK) != GCOV_VERSION_MAJOR_MINOR)
		return false;
	if (info->merge[GCOV_COUNTER_ARCS] != __gcov_merge_add)
		return false;
	for (int i = 0; i < GCOV_COUNTERS; i++)
		if (i != GCOV_COUNTER_ARCS && info->merge[i])
			return false;
	return info->filename && info->n_functions <= GCOV_MAX_FUNCTIONS &&
	       (info->functions || !info->n_functions);
}

/* Called by each object's constructor: keep it (in reverse order of registration). */
void __gcov_init(struct gcov_info *info)
{
	if (!gcov_info_ok(info)) {
		gcov_rejected++;
		return;
	}
	info->next = gcov_list;
	gcov_list = info;
	gcov_registered++;
}

/* From each object's destructor, which umbra never runs (linker.ld discards .fini_array). */
void __gcov_exit(void)
{
}

/* libgcov merges a run into an existing .gcda with it; here the host tool sums the dumps. */
void __gcov_merge_add(gcov_type *counters __unused, uint32_t n __unused)
{
}

/* ---- the dump ------------------------------------------------------------ */

struct gcov_out {
	gcov_write_fn write;
	void *ctx;
	uint32_t fnv;
	size_t len;
	char buf[256];
};

static void out_flush(struct gcov_out *o)
{
	if (o->len)
		o->write(o->ctx, o->buf, o->len);
	o->len = 0;
}

static void out_char(struct gcov_out *o, char c)
{
	o->fnv = (o->fnv ^ (uint8_t)c) * FNV32_PRIME;
	if (o->len == sizeof(o->buf))
		out_flush(o);
	o->buf[o->len++] = c;
}

static void out_str(struct gcov_out *o, const char *s)
{
	while (*s)
		out_char(o, *s++);
}

/* Lower-case hex, no leading zeros. */
static void out_hex(struct gcov_out *o, uint64_t v)
{
	char digits[16];
	int n = 0;

	do {
		digits[n++] = "0123456789abcdef"[v & 0xf];
		v >>= 4;
	} while (v);
	while (n)
		out_char(o, digits[--n]);
}

static void out_field(struct gcov_out *o, const char *key, uint64_t v)
{
	out_char(o, ' ');
	out_str(o, key);
	out_char(o, '=');
	out_hex(o, v);
}

/* One function: "GCOV f IDENT LINENO CFG N VALUES...", a run of k >= 2 zeros written "zK". */
static void dump_function(struct gcov_out *o, const struct gcov_info *info,
			  const struct gcov_fn_info *fn, uint64_t *counters)
{
	const struct gcov_ctr_info *ctr;
	uint32_t zeros = 0;

	if (!fn || fn->key != info) {
		/* Another object's copy of a comdat function: libgcov writes an empty record. */
		out_str(o, "GCOV f -\n");
		return;
	}
	ctr = &fn->ctrs[0];
	out_str(o, "GCOV f ");
	out_hex(o, fn->ident);
	out_char(o, ' ');
	out_hex(o, fn->lineno_checksum);
	out_char(o, ' ');
	out_hex(o, fn->cfg_checksum);
	out_char(o, ' ');
	out_hex(o, ctr->num <= GCOV_MAX_COUNTERS ? ctr->num : 0);
	for (uint32_t i = 0; i < ctr->num && i < GCOV_MAX_COUNTERS; i++) {
		/* Other CPUs are parked, but a relaxed atomic load costs nothing here. */
		uint64_t v = (uint64_t)__atomic_load_n(&ctr->values[i], __ATOMIC_RELAXED);

		if (!v) {
			zeros++;
			continue;
		}
		if (zeros == 1)
			out_str(o, " 0");
		else if (zeros) {
			out_str(o, " z");
			out_hex(o, zeros);
		}
		zeros = 0;
		out_char(o, ' ');
		out_hex(o, v);
	}
	if (zeros == 1)
		out_str(o, " 0");
	else if (zeros) {
		out_str(o, " z");
		out_hex(o, zeros);
	}
	out_char(o, '\n');
	*counters += ctr->num;
}

void gcov_dump_to(gcov_write_fn write, void *ctx)
{
	struct gcov_out o = { .write = write, .ctx = ctx, .fnv = FNV32_OFFSET };
	uint64_t functions = 0, counters = 0;

	out_str(&o, "GCOV begin");
	out_field(&o, "v", GCOV_DUMP_FORMAT);
	out_field(&o, "gcc", GCOV_VERSION_MAJOR_MINOR >> 8);
	out_field(&o, "objects", gcov_registered);
	out_field(&o, "rejected", gcov_rejected);
	out_char(&o, '\n');
	for (const struct gcov_info *info = gcov_list; info; info = info->next) {
		out_str(&o, "GCOV o");
		out_field(&o, "version", info->version);
		out_field(&o, "stamp", info->stamp);
		out_field(&o, "checksum", info->checksum);
		out_field(&o, "functions", info->n_functions);
		out_str(&o, " file=");
		out_str(&o, info->filename);
		out_char(&o, '\n');
		for (uint32_t i = 0; i < info->n_functions; i++)
			dump_function(&o, info, info->functions[i], &counters);
		functions += info->n_functions;
	}
	/* The hash covers every byte from "GCOV begin" up to this line. */
	uint32_t fnv = o.fnv;

	out_str(&o, "GCOV end");
	out_field(&o, "objects", gcov_registered);
	out_field(&o, "functions", functions);
	out_field(&o, "counters", counters);
	out_field(&o, "fnv", fnv);
	out_char(&o, '\n');
	out_flush(&o);
}

#ifndef UMBRA_HOST_TEST
#include "arch/x86/cpu.h"
#include "core/log.h"
#include "drivers/power.h"
#include "drivers/uart.h"

/* The constructor list (linker.ld): in a COVERAGE=1 build, one __gcov_init call per object. */
typedef void (*gcov_ctor_fn)(void);
extern const gcov_ctor_fn __init_array_start[], __init_array_end[];

void gcov_init(void)
{
	for (const gcov_ctor_fn *ctor = __init_array_start; ctor < __init_array_end; ctor++)
		(*ctor)();
}

static void write_debug_console(void *ctx __unused, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		outb(DEBUG_CONSOLE_PORT, (uint8_t)s[i]);
}

static void write_uart(void *ctx __unused, const char *s, size_t len)
{
	uart_write(s, len);
}

void gcov_dump(void)
{
	/* Reading the port back gives 0xe9 where an emulator implements it; probe emulators only. */
	bool console = platform_kind() != PLATFORM_HARDWARE && inb(DEBUG_CONSOLE_PORT) == DEBUG_CONSOLE_PORT;

	log_info("gcov: dumping %u objects' counters to %s%s", gcov_registered,
		 console ? "port 0xe9" : "the serial console",
		 gcov_rejected ? " (some objects refused: wrong gcc version or counter kinds)" : "");
	gcov_dump_to(console ? write_debug_console : write_uart, NULL);
	if (!console)
		uart_flush();
}
#endif
