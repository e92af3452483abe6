/* SPDX-License-Identifier: BSD-2-Clause */
/* Host fuzz harness: umbra's command line (core/cmdline.c): tokenizer, numbers, options. */
#include <errno.h>
#include <string.h>

#include "core/cmdline.h"
#include "core/trace.h"
#include "tests/fuzz/host/fuzz.h"

/*
 * The input is GRUB's command line for umbra. cmdline_parse_u64 gets the
 * raw bytes as a counted string (no terminator: ASan flags a read past
 * them); the tokenizer and config_parse get them up to the first NUL.
 */

/* config_parse's report() formats into 128 bytes. */
#define WARN_MAX 128

static void warn(void *ctx, const char *msg)
{
	int *n = ctx;

	FUZZ_CHECK(strnlen(msg, WARN_MAX) < WARN_MAX);
	FUZZ_CHECK(strncmp(msg, "cmdline: ", 9) == 0);
	(*n)++;
}

/* Every token lies inside the line, and each call moves the cursor forward. */
static size_t check_tokens(const char *line, size_t len)
{
	const char *cursor = line, *end = line + len, *prev;
	struct cmdline_opt opt;
	size_t n = 0;

	for (;;) {
		prev = cursor;
		if (!cmdline_next(&cursor, &opt))
			break;
		n++;
		FUZZ_CHECK(cursor > prev && cursor <= end);
		FUZZ_CHECK(opt.key >= prev && opt.key + opt.key_len <= cursor);
		FUZZ_CHECK(!memchr(opt.key, ' ', opt.key_len) && !memchr(opt.key, '\t', opt.key_len) &&
			   !memchr(opt.key, '=', opt.key_len));
		if (opt.val)
			FUZZ_CHECK(opt.val > opt.key + opt.key_len && opt.val + opt.val_len <= cursor);
		else
			FUZZ_CHECK(opt.val_len == 0);
	}
	FUZZ_CHECK(cursor >= prev && cursor <= end);
	FUZZ_CHECK(n <= len);
	return n;
}

/* A number cmdline_parse_u64 accepts has libc's value (strtoull) times its K/M/G multiple. */
static void check_number(const uint8_t *data, size_t size)
{
	uint8_t *raw = malloc(size ? size : 1);
	char *copy = malloc(size + 1);
	unsigned int shift = 0;
	uint64_t v, want;
	char *end;
	size_t len = size;

	memcpy(raw, data, size);
	if (cmdline_parse_u64((const char *)raw, size, &v)) {
		FUZZ_CHECK(size > 0);
		switch (raw[len - 1] | 0x20) {
		case 'k': shift = 10; len--; break;
		case 'm': shift = 20; len--; break;
		case 'g': shift = 30; len--; break;
		}
		memcpy(copy, raw, len);
		copy[len] = '\0';
		/* Digits only (no sign, no blanks: libc would take those). */
		FUZZ_CHECK(len > 0 && copy[0] >= '0' && copy[0] <= '9');
		errno = 0;
		want = strtoull(copy, &end, len > 1 && (copy[1] | 0x20) == 'x' ? 16 : 10);
		FUZZ_CHECK(errno == 0 && end == copy + len);
		FUZZ_CHECK(want <= UINT64_MAX >> shift && v == want << shift);
	}
	free(copy);
	free(raw);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = malloc(size + 1);
	struct umbra_config cfg;
	int problems, warned = 0;
	size_t tokens;

	memcpy(line, data, size);
	line[size] = '\0';
	tokens = check_tokens(line, strlen(line));
	check_number(data, size);

	problems = config_parse(line, &cfg, warn, &warned);
	FUZZ_CHECK(problems == warned && (size_t)problems <= tokens);
	FUZZ_CHECK(config_parse(line, &cfg, NULL, NULL) == problems);
	/* Whatever was accepted is in range (the rules in core/cmdline.h). */
	FUZZ_CHECK(cfg.log_level <= LOG_TRACE);
	FUZZ_CHECK(cfg.serial_baud != 0 && 115200 % cfg.serial_baud == 0);
	FUZZ_CHECK(!cfg.serial_enabled || cfg.serial_port != 0);
	FUZZ_CHECK(cfg.smp_timeout_ms != 0);
	FUZZ_CHECK(cfg.guest_mem == 0 || cfg.guest_mem >= (16ull << 20));
	FUZZ_CHECK(cfg.trace <= TRACE_MAX_RECORDS);
	FUZZ_CHECK(cfg.apic_mode <= CONFIG_APIC_X2APIC && cfg.selftest <= SELFTEST_FAULT);
	FUZZ_CHECK(!cfg.stats_full || cfg.stats);
	FUZZ_CHECK(strcmp(log_level_name(cfg.log_level), "?") != 0 && strcmp(log_level_name(problems + 5), "?") == 0);
	/* No command line at all: the defaults, no problem. */
	FUZZ_CHECK(config_parse(NULL, &cfg, warn, &warned) == 0 && cfg.log_level == LOG_INFO);
	free(line);
	return 0;
}
