/* SPDX-License-Identifier: BSD-2-Clause */
/* Kernel command line: tokenizer, number parsing and umbra's options. */
#ifndef UMBRA_CORE_CMDLINE_H
#define UMBRA_CORE_CMDLINE_H

#include "core/types.h"

/* One "key" or "key=value" token; strings point into the command line. */
struct cmdline_opt {
	const char *key;
	size_t key_len;
	const char *val; /* NULL when the token has no '=' */
	size_t val_len;
};

/*
 * Return the next token at *cursor and advance it. Tokens are separated by
 * spaces or tabs; a value may be double-quoted ("a b") and the quotes are
 * not part of val. Returns false at the end of the string.
 */
bool cmdline_next(const char **cursor, struct cmdline_opt *opt);

/*
 * Parse an unsigned number: decimal, 0x-hex, optional K/M/G suffix
 * (binary multiples). Rejects empty input, junk, and overflow.
 */
bool cmdline_parse_u64(const char *s, size_t len, uint64_t *out);

/* Log levels, most severe first. */
enum log_level {
	LOG_ERROR = 0,
	LOG_WARN = 1,
	LOG_INFO = 2,
	LOG_DEBUG = 3,
	LOG_TRACE = 4,
};

enum config_apic_mode {
	CONFIG_APIC_AUTO = 0, /* keep the mode firmware left */
	CONFIG_APIC_XAPIC,
	CONFIG_APIC_X2APIC,
};

/* Deliberate failures, to test umbra's own failure paths on a real boot. */
enum config_selftest {
	SELFTEST_NONE = 0,
	SELFTEST_PANIC, /* selftest=panic: panic() after every CPU is up */
	SELFTEST_FAULT, /* selftest=fault: a page fault in umbra on an AP */
};

/* umbra's own options, filled by config_parse(). */
struct umbra_config {
	enum log_level log_level;  /* log=error|warn|info|debug|trace|0..4; default info */
	bool serial_enabled;       /* serial=none disables the UART */
	uint16_t serial_port;      /* serial=com1..com4|0xNNN[,baud]; default 0x3f8 */
	uint32_t serial_baud;      /* default 115200; must divide 115200 exactly */
	uint32_t max_cpus;         /* cpus=N: bring up at most N CPUs (incl. BSP); 0 = all */
	uint32_t smp_timeout_ms;   /* smp_timeout=MS: wait per AP; default 1000 */
	bool halt_on_exit;         /* exit=halt: never power off, halt instead (real hw debugging) */
	enum config_apic_mode apic_mode; /* apic=auto|xapic|x2apic; default auto */
	uint64_t guest_mem;        /* guest_mem=SIZE: RAM given to the guest (K/M/G); 0 = all */
	bool stats;                /* stats=on|off|full: exit statistics at shutdown; default on */
	bool stats_full;           /* stats=full: every trapped field in the human table, not the top 10 */
	uint32_t trace;            /* trace=N: exit records per CPU (at most 1M); 0 = off, the default */
	enum config_selftest selftest; /* selftest=panic|fault */
	bool nested_shadow;        /* nested.shadow=on|classic|off: VMCS shadowing for L1; default on */
	bool nested_shadow_vmcs02; /* ... and vmcs02 as L1's shadow after reflected exits (on, not classic) */
};

/* Called once per problem found (unknown option, bad value); msg is NUL-terminated. */
typedef void (*config_warn_fn)(void *ctx, const char *msg);

/*
 * Fill *cfg with defaults, then apply every option in cmdline (may be NULL).
 * Unknown keys and bad values are reported through warn (may be NULL) and
 * leave the default in place. Returns the number of problems reported.
 */
int config_parse(const char *cmdline, struct umbra_config *cfg, config_warn_fn warn, void *ctx);

const char *log_level_name(enum log_level level);

#endif
