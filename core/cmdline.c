/* SPDX-License-Identifier: BSD-2-Clause */
/* Kernel command line: tokenizer, number parsing and umbra's options. */
#include "core/cmdline.h"
#include "core/format.h"
#include "core/string.h"
#include "core/trace.h"

/* Defaults: see the field comments in struct umbra_config. */
#define DEFAULT_SERIAL_PORT 0x3f8
#define DEFAULT_SERIAL_BAUD 115200
#define DEFAULT_SMP_TIMEOUT_MS 1000

/* The 16550's divisor latch divides this base clock (1.8432 MHz / 16). */
#define UART_BASE_BAUD 115200

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

bool cmdline_next(const char **cursor, struct cmdline_opt *opt)
{
	const char *p = *cursor;

	if (!p)
		return false;
	while (is_blank(*p))
		p++;
	if (*p == '\0') {
		*cursor = p;
		return false;
	}

	opt->key = p;
	while (*p && *p != '=' && !is_blank(*p))
		p++;
	opt->key_len = (size_t)(p - opt->key);
	opt->val = NULL;
	opt->val_len = 0;

	if (*p == '=') {
		p++;
		if (*p == '"') {
			/*
			 * Quoted value: runs to the closing quote, or to the end of
			 * the line when the quote is never closed. Text right after
			 * the closing quote starts the next token.
			 */
			opt->val = ++p;
			while (*p && *p != '"')
				p++;
			opt->val_len = (size_t)(p - opt->val);
			if (*p == '"')
				p++;
		} else {
			opt->val = p;
			while (*p && !is_blank(*p))
				p++;
			opt->val_len = (size_t)(p - opt->val);
		}
	}
	*cursor = p;
	return true;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool cmdline_parse_u64(const char *s, size_t len, uint64_t *out)
{
	unsigned int base = 10, shift = 0;
	size_t i = 0, ndigits = 0;
	uint64_t v = 0;

	if (!s || len == 0)
		return false;

	/* A binary-multiple suffix applies to the whole number: "0x10M" too. */
	switch (s[len - 1]) {
	case 'K':
	case 'k':
		shift = 10;
		break;
	case 'M':
	case 'm':
		shift = 20;
		break;
	case 'G':
	case 'g':
		shift = 30;
		break;
	}
	if (shift)
		len--;

	if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}

	for (; i < len; i++, ndigits++) {
		int d = hex_digit(s[i]);

		if (d < 0 || (unsigned int)d >= base)
			return false;
		if (v > (UINT64_MAX - (unsigned int)d) / base)
			return false;
		v = v * base + (unsigned int)d;
	}
	if (ndigits == 0)
		return false;
	if (shift && v > (UINT64_MAX >> shift))
		return false;
	*out = v << shift;
	return true;
}

const char *log_level_name(enum log_level level)
{
	static const char *const names[] = {
		[LOG_ERROR] = "error",
		[LOG_WARN] = "warn",
		[LOG_INFO] = "info",
		[LOG_DEBUG] = "debug",
		[LOG_TRACE] = "trace",
	};

	if ((unsigned int)level >= ARRAY_SIZE(names))
		return "?";
	return names[level];
}

/* Does the counted string [s, s+len) equal the NUL-terminated lit? */
static bool str_eq(const char *s, size_t len, const char *lit)
{
	return strlen(lit) == len && memcmp(s, lit, len) == 0;
}

struct parse_state {
	struct umbra_config *cfg;
	config_warn_fn warn;
	void *ctx;
	int problems;
};

static void report(struct parse_state *st, const struct cmdline_opt *opt, const char *why)
{
	char msg[128];

	st->problems++;
	if (!st->warn)
		return;
	if (opt->val)
		fmt_snprintf(msg, sizeof(msg), "cmdline: %s: '%.*s=%.*s'", why, (int)MIN(opt->key_len, 40u),
			     opt->key, (int)MIN(opt->val_len, 40u), opt->val);
	else
		fmt_snprintf(msg, sizeof(msg), "cmdline: %s: '%.*s'", why, (int)MIN(opt->key_len, 40u),
			     opt->key);
	st->warn(st->ctx, msg);
}

static bool parse_u32(const char *s, size_t len, uint32_t *out)
{
	uint64_t v;

	if (!cmdline_parse_u64(s, len, &v) || v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

static bool opt_log(struct umbra_config *cfg, const char *v, size_t len)
{
	enum log_level l;
	uint64_t n;

	for (l = LOG_ERROR; l <= LOG_TRACE; l++) {
		if (str_eq(v, len, log_level_name(l))) {
			cfg->log_level = l;
			return true;
		}
	}
	if (!cmdline_parse_u64(v, len, &n) || n > LOG_TRACE)
		return false;
	cfg->log_level = (enum log_level)n;
	return true;
}

/* serial=none | com1..com4 | <port>[,<baud>]; applied only when all of it is valid. */
static bool opt_serial(struct umbra_config *cfg, const char *v, size_t len)
{
	/* Conventional PC UART bases for COM1..COM4. */
	static const uint16_t com_ports[] = { 0x3f8, 0x2f8, 0x3e8, 0x2e8 };
	size_t port_len = 0;
	uint32_t baud = DEFAULT_SERIAL_BAUD;
	uint64_t port;

	if (str_eq(v, len, "none")) {
		cfg->serial_enabled = false;
		return true;
	}

	while (port_len < len && v[port_len] != ',')
		port_len++;
	if (port_len < len) {
		const char *b = v + port_len + 1;
		size_t blen = len - port_len - 1;

		/* The divisor latch holds 115200 / baud: it must be a whole number. */
		if (!parse_u32(b, blen, &baud) || baud == 0 || UART_BASE_BAUD % baud != 0)
			return false;
	}

	if (port_len == 4 && (v[0] == 'c' || v[0] == 'C') && (v[1] == 'o' || v[1] == 'O') &&
	    (v[2] == 'm' || v[2] == 'M') && v[3] >= '1' && v[3] <= '4') {
		port = com_ports[v[3] - '1'];
	} else if (!cmdline_parse_u64(v, port_len, &port) || port == 0 || port > 0xffff) {
		return false;
	}

	cfg->serial_enabled = true;
	cfg->serial_port = (uint16_t)port;
	cfg->serial_baud = baud;
	return true;
}

static bool opt_cpus(struct umbra_config *cfg, const char *v, size_t len)
{
	return parse_u32(v, len, &cfg->max_cpus);
}

static bool opt_smp_timeout(struct umbra_config *cfg, const char *v, size_t len)
{
	uint32_t ms;

	/* Zero would give every AP up before it could answer. */
	if (!parse_u32(v, len, &ms) || ms == 0)
		return false;
	cfg->smp_timeout_ms = ms;
	return true;
}

static bool opt_exit(struct umbra_config *cfg, const char *v, size_t len)
{
	if (str_eq(v, len, "halt"))
		cfg->halt_on_exit = true;
	else if (str_eq(v, len, "poweroff"))
		cfg->halt_on_exit = false;
	else
		return false;
	return true;
}

static bool opt_apic(struct umbra_config *cfg, const char *v, size_t len)
{
	if (str_eq(v, len, "auto"))
		cfg->apic_mode = CONFIG_APIC_AUTO;
	else if (str_eq(v, len, "xapic"))
		cfg->apic_mode = CONFIG_APIC_XAPIC;
	else if (str_eq(v, len, "x2apic"))
		cfg->apic_mode = CONFIG_APIC_X2APIC;
	else
		return false;
	return true;
}

/* guest_mem=SIZE: at least 16 MiB, or "all". */
static bool opt_guest_mem(struct umbra_config *cfg, const char *v, size_t len)
{
	uint64_t n;

	if (str_eq(v, len, "all")) {
		cfg->guest_mem = 0;
		return true;
	}
	if (!cmdline_parse_u64(v, len, &n) || n < (16ULL << 20))
		return false;
	cfg->guest_mem = n;
	return true;
}

static bool opt_stats(struct umbra_config *cfg, const char *v, size_t len)
{
	if (str_eq(v, len, "on") || str_eq(v, len, "full")) {
		cfg->stats = true;
		cfg->stats_full = str_eq(v, len, "full");
	} else if (str_eq(v, len, "off")) {
		cfg->stats = false;
		cfg->stats_full = false;
	} else {
		return false;
	}
	return true;
}

/* trace=N|off: N exit records per CPU; the ring is allocated once, at start-up. */
static bool opt_trace(struct umbra_config *cfg, const char *v, size_t len)
{
	uint32_t n;

	if (str_eq(v, len, "off")) {
		cfg->trace = 0;
		return true;
	}
	if (!parse_u32(v, len, &n) || n > TRACE_MAX_RECORDS)
		return false;
	cfg->trace = n;
	return true;
}

static bool opt_nested_shadow(struct umbra_config *cfg, const char *v, size_t len)
{
	if (str_eq(v, len, "on"))
		cfg->nested_shadow = cfg->nested_shadow_vmcs02 = true;
	else if (str_eq(v, len, "classic"))
		cfg->nested_shadow = true, cfg->nested_shadow_vmcs02 = false;
	else if (str_eq(v, len, "off"))
		cfg->nested_shadow = cfg->nested_shadow_vmcs02 = false;
	else
		return false;
	return true;
}

static bool opt_selftest(struct umbra_config *cfg, const char *v, size_t len)
{
	if (str_eq(v, len, "panic"))
		cfg->selftest = SELFTEST_PANIC;
	else if (str_eq(v, len, "fault"))
		cfg->selftest = SELFTEST_FAULT;
	else
		return false;
	return true;
}

/* Every option takes a value; a handler returns false to reject it untouched. */
static const struct {
	const char *key;
	bool (*apply)(struct umbra_config *cfg, const char *val, size_t len);
} options[] = {
	{ "log", opt_log },
	{ "serial", opt_serial },
	{ "cpus", opt_cpus },
	{ "smp_timeout", opt_smp_timeout },
	{ "exit", opt_exit },
	{ "apic", opt_apic },
	{ "guest_mem", opt_guest_mem },
	{ "stats", opt_stats },
	{ "trace", opt_trace },
	{ "selftest", opt_selftest },
	{ "nested.shadow", opt_nested_shadow },
};

static void apply_option(struct parse_state *st, const struct cmdline_opt *opt)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(options); i++) {
		if (!str_eq(opt->key, opt->key_len, options[i].key))
			continue;
		if (!opt->val)
			report(st, opt, "missing value");
		else if (!options[i].apply(st->cfg, opt->val, opt->val_len))
			report(st, opt, "bad value");
		return;
	}
	report(st, opt, "unknown option");
}

int config_parse(const char *cmdline, struct umbra_config *cfg, config_warn_fn warn, void *ctx)
{
	struct parse_state st = { .cfg = cfg, .warn = warn, .ctx = ctx, .problems = 0 };
	struct cmdline_opt opt;
	const char *cursor = cmdline;

	*cfg = (struct umbra_config){
		.log_level = LOG_INFO,
		.serial_enabled = true,
		.serial_port = DEFAULT_SERIAL_PORT,
		.serial_baud = DEFAULT_SERIAL_BAUD,
		.max_cpus = 0,
		.smp_timeout_ms = DEFAULT_SMP_TIMEOUT_MS,
		.halt_on_exit = false,
		.apic_mode = CONFIG_APIC_AUTO,
		.guest_mem = 0,
		.stats = true,
		.stats_full = false,
		.trace = 0,
		.selftest = SELFTEST_NONE,
		.nested_shadow = true,
		.nested_shadow_vmcs02 = true,
	};

	while (cmdline_next(&cursor, &opt))
		apply_option(&st, &opt);
	return st.problems;
}
