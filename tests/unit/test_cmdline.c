/* SPDX-License-Identifier: BSD-2-Clause */
/* Host tests for the command line tokenizer, number parser and config_parse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/cmdline.h"

/* Compare a counted token string with a literal. */
static void assert_span(const char *s, size_t len, const char *expect)
{
	assert_non_null(s);
	assert_int_equal(len, strlen(expect));
	assert_memory_equal(s, expect, len);
}

static void expect_kv(const char **cur, const char *key, const char *val)
{
	struct cmdline_opt opt;

	assert_true(cmdline_next(cur, &opt));
	assert_span(opt.key, opt.key_len, key);
	if (val) {
		assert_span(opt.val, opt.val_len, val);
	} else {
		assert_null(opt.val);
		assert_int_equal(opt.val_len, 0);
	}
}

static void expect_end(const char **cur)
{
	struct cmdline_opt opt;

	assert_false(cmdline_next(cur, &opt));
	/* And it stays at the end. */
	assert_false(cmdline_next(cur, &opt));
}

static void test_next_simple(void **state)
{
	const char *cur = "log=debug quiet cpus=4";

	(void)state;
	expect_kv(&cur, "log", "debug");
	expect_kv(&cur, "quiet", NULL);
	expect_kv(&cur, "cpus", "4");
	expect_end(&cur);
}

static void test_next_blanks(void **state)
{
	const char *cur = " \t a=1\t\tb  \t c=3 \t ";

	(void)state;
	expect_kv(&cur, "a", "1");
	expect_kv(&cur, "b", NULL);
	expect_kv(&cur, "c", "3");
	expect_end(&cur);
}

static void test_next_empty(void **state)
{
	const char *cur = "";
	const char *blank = " \t  ";
	const char *null_cur = NULL;

	(void)state;
	expect_end(&cur);
	expect_end(&blank);
	expect_end(&null_cur);
}

static void test_next_quotes(void **state)
{
	const char *cur = "name=\"a b\tc\" x=1 empty=\"\" after=\"q\"tail";

	(void)state;
	expect_kv(&cur, "name", "a b\tc");
	expect_kv(&cur, "x", "1");
	expect_kv(&cur, "empty", "");
	expect_kv(&cur, "after", "q");
	/* Text after a closing quote starts a new token. */
	expect_kv(&cur, "tail", NULL);
	expect_end(&cur);
}

static void test_next_unterminated_quote(void **state)
{
	const char *cur = "a=1 msg=\"never closed here";

	(void)state;
	expect_kv(&cur, "a", "1");
	expect_kv(&cur, "msg", "never closed here");
	expect_end(&cur);
}

static void test_next_odd_tokens(void **state)
{
	const char *cur = "k= =v a=b=c";

	(void)state;
	expect_kv(&cur, "k", "");
	expect_kv(&cur, "", "v");
	/* Only the first '=' splits. */
	expect_kv(&cur, "a", "b=c");
	expect_end(&cur);
}

static bool parse(const char *s, uint64_t *v)
{
	return cmdline_parse_u64(s, strlen(s), v);
}

static void test_parse_u64_good(void **state)
{
	uint64_t v;

	(void)state;
	assert_true(parse("0", &v));
	assert_int_equal(v, 0);
	assert_true(parse("12345", &v));
	assert_int_equal(v, 12345);
	assert_true(parse("0x3f8", &v));
	assert_int_equal(v, 0x3f8);
	assert_true(parse("0X3F8", &v));
	assert_int_equal(v, 0x3f8);
	assert_true(parse("0xDeadBeef", &v));
	assert_int_equal(v, 0xdeadbeef);
	assert_true(parse("007", &v));
	assert_int_equal(v, 7);
	assert_true(parse("18446744073709551615", &v));
	assert_true(v == UINT64_MAX);
	assert_true(parse("0xffffffffffffffff", &v));
	assert_true(v == UINT64_MAX);
}

static void test_parse_u64_suffixes(void **state)
{
	uint64_t v;

	(void)state;
	assert_true(parse("4K", &v));
	assert_int_equal(v, 4096);
	assert_true(parse("4k", &v));
	assert_int_equal(v, 4096);
	assert_true(parse("16M", &v));
	assert_int_equal(v, 16ull << 20);
	assert_true(parse("2G", &v));
	assert_int_equal(v, 2ull << 30);
	assert_true(parse("2g", &v));
	assert_int_equal(v, 2ull << 30);
	assert_true(parse("0x10M", &v));
	assert_int_equal(v, 16ull << 20);
	assert_true(parse("0K", &v));
	assert_int_equal(v, 0);
	/* 2^34 - 1 gigabytes is the largest that fits. */
	assert_true(parse("17179869183G", &v));
	assert_true(v == (17179869183ull << 30));
}

static void test_parse_u64_bad(void **state)
{
	static const char *const bad[] = {
		"", "K", "0x", "0xK", "x10", "12a", "-1", "+1", " 1", "1 ", "1KK", "1T", "0x1g0",
		"0b101", "1.5", "18446744073709551616", "99999999999999999999",
		"0x10000000000000000", "17179869184G", "16777216T", "18014398509481984K",
	};
	uint64_t v = 0xabcd;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		if (parse(bad[i], &v))
			fail_msg("'%s' was accepted", bad[i]);
	}
	/* Failure leaves the output alone. */
	assert_int_equal(v, 0xabcd);
	assert_false(cmdline_parse_u64(NULL, 3, &v));
	assert_false(cmdline_parse_u64("1", 0, &v));
}

/* len bounds the parse: the bytes after it are never looked at. */
static void test_parse_u64_len_bound(void **state)
{
	char *raw = malloc(3);
	uint64_t v;

	(void)state;
	assert_non_null(raw);
	memcpy(raw, "12M", 3);
	assert_true(cmdline_parse_u64(raw, 3, &v));
	assert_int_equal(v, 12ull << 20);
	assert_true(cmdline_parse_u64(raw, 2, &v));
	assert_int_equal(v, 12);
	assert_true(cmdline_parse_u64(raw, 1, &v));
	assert_int_equal(v, 1);
	free(raw);
	/* A NUL inside len is junk. */
	assert_false(cmdline_parse_u64("1\0002", 3, &v));
}

/* Collects warnings so that tests can check what was reported. */
struct warnings {
	int count;
	char last[160];
};

static void collect(void *ctx, const char *msg)
{
	struct warnings *w = ctx;

	w->count++;
	snprintf(w->last, sizeof(w->last), "%s", msg);
}

static void assert_defaults(const struct umbra_config *c)
{
	assert_int_equal(c->log_level, LOG_INFO);
	assert_true(c->serial_enabled);
	assert_int_equal(c->serial_port, 0x3f8);
	assert_int_equal(c->serial_baud, 115200);
	assert_int_equal(c->max_cpus, 0);
	assert_int_equal(c->smp_timeout_ms, 1000);
	assert_false(c->halt_on_exit);
	assert_int_equal(c->apic_mode, CONFIG_APIC_AUTO);
	assert_int_equal(c->guest_mem, 0);
	assert_true(c->stats);
	assert_false(c->stats_full);
	assert_int_equal(c->trace, 0);
	assert_int_equal(c->selftest, SELFTEST_NONE);
	assert_true(c->nested_shadow);
	assert_true(c->nested_shadow_vmcs02);
}

static void test_config_defaults(void **state)
{
	struct umbra_config c;
	struct warnings w = { 0 };

	(void)state;
	memset(&c, 0xa5, sizeof(c));
	assert_int_equal(config_parse(NULL, &c, collect, &w), 0);
	assert_defaults(&c);
	memset(&c, 0xa5, sizeof(c));
	assert_int_equal(config_parse("", &c, collect, &w), 0);
	assert_defaults(&c);
	assert_int_equal(config_parse(" \t ", &c, NULL, NULL), 0);
	assert_defaults(&c);
	assert_int_equal(w.count, 0);
}

static void test_config_all(void **state)
{
	struct umbra_config c;
	struct warnings w = { 0 };

	(void)state;
	assert_int_equal(config_parse("log=debug\tserial=com2,9600 cpus=4 smp_timeout=250 exit=halt",
				      &c, collect, &w),
			 0);
	assert_int_equal(c.log_level, LOG_DEBUG);
	assert_true(c.serial_enabled);
	assert_int_equal(c.serial_port, 0x2f8);
	assert_int_equal(c.serial_baud, 9600);
	assert_int_equal(c.max_cpus, 4);
	assert_int_equal(c.smp_timeout_ms, 250);
	assert_true(c.halt_on_exit);
	assert_int_equal(w.count, 0);
}

static void test_config_log(void **state)
{
	static const char *const names[] = { "error", "warn", "info", "debug", "trace" };
	struct umbra_config c;
	char line[32];
	int i;

	(void)state;
	for (i = 0; i < 5; i++) {
		snprintf(line, sizeof(line), "log=%s", names[i]);
		assert_int_equal(config_parse(line, &c, NULL, NULL), 0);
		assert_int_equal(c.log_level, i);
		snprintf(line, sizeof(line), "log=%d", i);
		assert_int_equal(config_parse(line, &c, NULL, NULL), 0);
		assert_int_equal(c.log_level, i);
		assert_string_equal(log_level_name((enum log_level)i), names[i]);
	}
	assert_string_equal(log_level_name((enum log_level)5), "?");
	assert_string_equal(log_level_name((enum log_level)-1), "?");

	assert_int_equal(config_parse("log=5", &c, NULL, NULL), 1);
	assert_int_equal(c.log_level, LOG_INFO);
	assert_int_equal(config_parse("log=verbose log=DEBUG log=", &c, NULL, NULL), 3);
	assert_int_equal(c.log_level, LOG_INFO);
	/* The last valid setting wins. */
	assert_int_equal(config_parse("log=error log=\"trace\"", &c, NULL, NULL), 0);
	assert_int_equal(c.log_level, LOG_TRACE);
}

static void test_config_serial(void **state)
{
	struct umbra_config c;

	(void)state;
	assert_int_equal(config_parse("serial=none", &c, NULL, NULL), 0);
	assert_false(c.serial_enabled);

	assert_int_equal(config_parse("serial=com1", &c, NULL, NULL), 0);
	assert_int_equal(c.serial_port, 0x3f8);
	assert_int_equal(config_parse("serial=com3", &c, NULL, NULL), 0);
	assert_int_equal(c.serial_port, 0x3e8);
	assert_int_equal(config_parse("serial=COM4", &c, NULL, NULL), 0);
	assert_int_equal(c.serial_port, 0x2e8);
	assert_int_equal(c.serial_baud, 115200);

	assert_int_equal(config_parse("serial=0x2f8", &c, NULL, NULL), 0);
	assert_int_equal(c.serial_port, 0x2f8);
	assert_int_equal(config_parse("serial=0x3E8,57600", &c, NULL, NULL), 0);
	assert_int_equal(c.serial_port, 0x3e8);
	assert_int_equal(c.serial_baud, 57600);
	assert_int_equal(config_parse("serial=1016,1", &c, NULL, NULL), 0);
	assert_int_equal(c.serial_port, 1016);
	assert_int_equal(c.serial_baud, 1);

	/* serial=none then a port re-enables it. */
	assert_int_equal(config_parse("serial=none serial=com2", &c, NULL, NULL), 0);
	assert_true(c.serial_enabled);
	assert_int_equal(c.serial_port, 0x2f8);
}

/* A bad serial option changes nothing at all, not even the valid half. */
static void test_config_serial_bad(void **state)
{
	static const char *const bad[] = {
		"serial=com1,1000",   "serial=com2,0",   "serial=com1,abc", "serial=com1,",
		"serial=com5",        "serial=com0",     "serial=0x10000",  "serial=0",
		"serial=",            "serial=,9600",    "serial=com",      "serial=none,9600",
		"serial=com2,230400", "serial=com1,-1",  "serial=ttyS0",    "serial=com2,9600,1",
		"serial=com1,4294967296",
	};
	struct umbra_config c;
	struct warnings w;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		memset(&w, 0, sizeof(w));
		if (config_parse(bad[i], &c, collect, &w) != 1)
			fail_msg("'%s' was not reported", bad[i]);
		assert_int_equal(w.count, 1);
		assert_defaults(&c);
		assert_non_null(strstr(w.last, "bad value"));
	}
}

static void test_config_numbers(void **state)
{
	struct umbra_config c;

	(void)state;
	assert_int_equal(config_parse("cpus=0x10 smp_timeout=1K", &c, NULL, NULL), 0);
	assert_int_equal(c.max_cpus, 16);
	assert_int_equal(c.smp_timeout_ms, 1024);
	assert_int_equal(config_parse("cpus=4294967295", &c, NULL, NULL), 0);
	assert_int_equal(c.max_cpus, UINT32_MAX);

	assert_int_equal(config_parse("cpus=4294967296 smp_timeout=0 cpus=-1 smp_timeout=4G",
				      &c, NULL, NULL),
			 4);
	assert_defaults(&c);
}

static void test_config_exit(void **state)
{
	struct umbra_config c;

	(void)state;
	assert_int_equal(config_parse("exit=halt", &c, NULL, NULL), 0);
	assert_true(c.halt_on_exit);
	assert_int_equal(config_parse("exit=halt exit=poweroff", &c, NULL, NULL), 0);
	assert_false(c.halt_on_exit);
	assert_int_equal(config_parse("exit=reboot", &c, NULL, NULL), 1);
	assert_false(c.halt_on_exit);
}

static void test_config_hypervisor_options(void **state)
{
	struct umbra_config c;
	struct warnings w = { 0 };

	(void)state;
	assert_int_equal(config_parse("apic=x2apic guest_mem=64M stats=off selftest=panic", &c,
				      collect, &w),
			 0);
	assert_int_equal(c.apic_mode, CONFIG_APIC_X2APIC);
	assert_int_equal(c.guest_mem, 64ULL << 20);
	assert_false(c.stats);
	assert_int_equal(c.selftest, SELFTEST_PANIC);
	assert_int_equal(config_parse("nested.shadow=off", &c, NULL, NULL), 0);
	assert_false(c.nested_shadow);
	assert_false(c.nested_shadow_vmcs02);
	assert_int_equal(config_parse("nested.shadow=classic", &c, NULL, NULL), 0);
	assert_true(c.nested_shadow);
	assert_false(c.nested_shadow_vmcs02);
	assert_int_equal(config_parse("nested.shadow=on nested.shadow=maybe", &c, NULL, NULL), 1);
	assert_true(c.nested_shadow);
	assert_true(c.nested_shadow_vmcs02);
	assert_int_equal(config_parse("apic=xapic guest_mem=all stats=on selftest=fault", &c, NULL,
				      NULL),
			 0);
	assert_int_equal(c.apic_mode, CONFIG_APIC_XAPIC);
	assert_int_equal(c.guest_mem, 0);
	assert_true(c.stats);
	assert_int_equal(c.selftest, SELFTEST_FAULT);

	/* Bad values are reported and leave the defaults. */
	assert_int_equal(config_parse("apic=x3apic guest_mem=1M stats=maybe selftest=boom guest_mem=",
				      &c, collect, &w),
			 5);
	assert_int_equal(c.apic_mode, CONFIG_APIC_AUTO);
	assert_int_equal(c.guest_mem, 0);
	assert_true(c.stats);
	assert_int_equal(c.selftest, SELFTEST_NONE);
}

/* stats=full and trace=N (core/trace.h): the research options. */
static void test_config_stats_trace(void **state)
{
	struct umbra_config c;

	(void)state;
	assert_int_equal(config_parse("stats=full trace=4096", &c, NULL, NULL), 0);
	assert_true(c.stats);
	assert_true(c.stats_full);
	assert_int_equal(c.trace, 4096);
	assert_int_equal(config_parse("stats=full stats=on trace=1M trace=off", &c, NULL, NULL), 0);
	assert_true(c.stats);
	assert_false(c.stats_full);
	assert_int_equal(c.trace, 0);
	assert_int_equal(config_parse("trace=64K", &c, NULL, NULL), 0);
	assert_int_equal(c.trace, 65536);
	assert_int_equal(config_parse("stats=full stats=off", &c, NULL, NULL), 0);
	assert_false(c.stats);
	assert_false(c.stats_full);
	/* More than 1M records, junk, or no value: reported, tracing stays off. */
	assert_int_equal(config_parse("trace=2M trace=lots trace= trace", &c, NULL, NULL), 4);
	assert_int_equal(c.trace, 0);
}

static void test_config_unknown(void **state)
{
	struct umbra_config c;
	struct warnings w = { 0 };

	(void)state;
	assert_int_equal(config_parse("foo log=trace bar=baz", &c, collect, &w), 2);
	assert_int_equal(w.count, 2);
	assert_string_equal(w.last, "cmdline: unknown option: 'bar=baz'");
	/* Known options still apply around unknown ones. */
	assert_int_equal(c.log_level, LOG_TRACE);

	memset(&w, 0, sizeof(w));
	assert_int_equal(config_parse("foo", &c, collect, &w), 1);
	assert_string_equal(w.last, "cmdline: unknown option: 'foo'");

	/* Keys match exactly, not by prefix. */
	assert_int_equal(config_parse("logx=debug lo=debug LOG=debug", &c, collect, &w), 3);
	assert_int_equal(c.log_level, LOG_INFO);

	/* With no callback the problems are still counted. */
	assert_int_equal(config_parse("a b c", &c, NULL, NULL), 3);
}

static void test_config_missing_value(void **state)
{
	struct umbra_config c;
	struct warnings w = { 0 };

	(void)state;
	assert_int_equal(config_parse("cpus serial log exit smp_timeout", &c, collect, &w), 5);
	assert_int_equal(w.count, 5);
	assert_string_equal(w.last, "cmdline: missing value: 'smp_timeout'");
	assert_defaults(&c);
}

/* A huge token must not overflow the warning buffer: the message is cut. */
static void test_config_long_token(void **state)
{
	struct umbra_config c;
	struct warnings w = { 0 };
	char line[1024];

	(void)state;
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	line[500] = '=';
	assert_int_equal(config_parse(line, &c, collect, &w), 1);
	assert_int_equal(w.count, 1);
	assert_true(strlen(w.last) < 128);
	assert_non_null(strstr(w.last, "unknown option"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_next_simple),
		cmocka_unit_test(test_next_blanks),
		cmocka_unit_test(test_next_empty),
		cmocka_unit_test(test_next_quotes),
		cmocka_unit_test(test_next_unterminated_quote),
		cmocka_unit_test(test_next_odd_tokens),
		cmocka_unit_test(test_parse_u64_good),
		cmocka_unit_test(test_parse_u64_suffixes),
		cmocka_unit_test(test_parse_u64_bad),
		cmocka_unit_test(test_parse_u64_len_bound),
		cmocka_unit_test(test_config_defaults),
		cmocka_unit_test(test_config_all),
		cmocka_unit_test(test_config_log),
		cmocka_unit_test(test_config_serial),
		cmocka_unit_test(test_config_serial_bad),
		cmocka_unit_test(test_config_numbers),
		cmocka_unit_test(test_config_exit),
		cmocka_unit_test(test_config_hypervisor_options),
		cmocka_unit_test(test_config_stats_trace),
		cmocka_unit_test(test_config_unknown),
		cmocka_unit_test(test_config_missing_value),
		cmocka_unit_test(test_config_long_token),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
