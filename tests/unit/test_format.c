/* SPDX-License-Identifier: BSD-2-Clause */
/* Host tests for fmt_snprintf: conversions, flags, truncation, oddities. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/format.h"

/*
 * fmt_snprintf carries __printf, and many cases below are deliberately odd
 * (ignored flags, unknown conversions) which -Wformat would reject; these
 * wrappers have no format attribute.
 */
static int call_fmt(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fmt_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

static int call_libc(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

/* Expect exact output and return value with a roomy buffer. */
#define CHECK(expect, ...)                                                 \
	do {                                                               \
		char buf_[256];                                            \
		int n_ = call_fmt(buf_, sizeof(buf_), __VA_ARGS__);         \
		assert_string_equal(buf_, (expect));                       \
		assert_int_equal(n_, (int)strlen(expect));                 \
	} while (0)

/* Compare with the host libc for conversions whose meaning C fixes. */
#define CHECK_LIBC(...)                                                    \
	do {                                                               \
		char a_[256], b_[256];                                     \
		int na_ = call_fmt(a_, sizeof(a_), __VA_ARGS__);           \
		int nb_ = call_libc(b_, sizeof(b_), __VA_ARGS__);           \
		assert_string_equal(a_, b_);                               \
		assert_int_equal(na_, nb_);                                \
	} while (0)

static void test_plain(void **state)
{
	(void)state;
	CHECK("", "%s", "");
	CHECK("hello", "hello");
	CHECK("100%", "100%%");
	CHECK("%%", "%%%%");
	CHECK("a\tb\n", "a\tb\n");
}

static void test_signed(void **state)
{
	(void)state;
	CHECK("0", "%d", 0);
	CHECK("42 -42", "%d %i", 42, -42);
	CHECK("2147483647", "%d", INT32_MAX);
	CHECK("-2147483648", "%d", INT32_MIN);
	CHECK("-9223372036854775808", "%lld", (long long)INT64_MIN);
	CHECK("-9223372036854775808", "%jd", (intmax_t)INT64_MIN);
	CHECK("-9223372036854775808", "%ld", (long)INT64_MIN);
	CHECK("9223372036854775807", "%lld", (long long)INT64_MAX);
	CHECK("-1", "%zd", (ssize_t)-1);
	CHECK("-5", "%td", (ptrdiff_t)-5);
	/* hh and h convert the promoted int back to the narrow type. */
	CHECK("44", "%hhd", 300);
	CHECK("-128", "%hhd", 128);
	CHECK("-1", "%hd", 65535);
}

static void test_unsigned(void **state)
{
	(void)state;
	CHECK("4294967295", "%u", UINT32_MAX);
	CHECK("18446744073709551615", "%llu", (unsigned long long)UINT64_MAX);
	CHECK("18446744073709551615", "%zu", SIZE_MAX);
	CHECK("18446744073709551615", "%ju", UINTMAX_MAX);
	CHECK("255", "%hhu", -1);
	CHECK("65535", "%hu", -1);
	CHECK("deadbeef DEADBEEF", "%x %X", 0xdeadbeefu, 0xdeadbeefu);
	CHECK("ffffffffffffffff", "%lx", UINT64_MAX);
	CHECK("1777777777777777777777", "%llo", (unsigned long long)UINT64_MAX);
	CHECK("17", "%o", 15);
}

static void test_alt_forms(void **state)
{
	(void)state;
	CHECK("0x1f 0X1F", "%#x %#X", 31, 31);
	/* C11 7.21.6.1p6: no prefix for zero. */
	CHECK("0", "%#x", 0);
	CHECK("017", "%#o", 15);
	CHECK("0", "%#o", 0);
	CHECK("0", "%#.0o", 0);
	CHECK("0x000a", "%#06x", 10);
	CHECK("   0xa", "%#6x", 10);
}

static void test_width_flags(void **state)
{
	(void)state;
	CHECK("   42", "%5d", 42);
	CHECK("42   |", "%-5d|", 42);
	CHECK("00042", "%05d", 42);
	CHECK("-0042", "%05d", -42);
	CHECK("42   |", "%-05d|", 42);
	CHECK("+42", "%+d", 42);
	CHECK(" 42", "% d", 42);
	CHECK("+42", "%+ d", 42);
	CHECK("  +42", "%+5d", 42);
	CHECK("+0042", "%+05d", 42);
	CHECK("42", "%1d", 42);
	/* '+' and ' ' mean nothing for unsigned conversions. */
	CHECK("42 2a", "%+u % x", 42u, 42u);
}

static void test_precision(void **state)
{
	(void)state;
	CHECK("042", "%.3d", 42);
	CHECK("-042", "%.3d", -42);
	CHECK("", "%.0d", 0);
	CHECK("     ", "%5.0d", 0);
	CHECK("0000a", "%.5x", 10);
	/* '0' is ignored when a precision is given. */
	CHECK("     042", "%08.3d", 42);
	CHECK("42", "%.d", 42);
	CHECK("abc", "%.3s", "abcdef");
	CHECK("", "%.0s", "abc");
}

static void test_star(void **state)
{
	(void)state;
	CHECK("   42", "%*d", 5, 42);
	/* A negative '*' width means '-' and its magnitude. */
	CHECK("42   |", "%*d|", -5, 42);
	CHECK("00042", "%.*d", 5, 42);
	/* A negative '*' precision is as if omitted. */
	CHECK("42", "%.*d", -3, 42);
	CHECK("  ab", "%*.*s", 4, 2, "abcdef");
	CHECK("x", "%.*s", 1, "xyz");
}

static void test_strings(void **state)
{
	(void)state;
	CHECK("     hello", "%10s", "hello");
	CHECK("hello     |", "%-10s|", "hello");
	CHECK("(null)", "%s", (char *)NULL);
	CHECK("  (null)", "%8s", (char *)NULL);
	CHECK("(nu", "%.3s", (char *)NULL);
	CHECK("hello", "%2s", "hello");
}

/* %.*s must not look past the precision: the buffer below has no NUL. */
static void test_string_unterminated(void **state)
{
	char *raw = malloc(4);
	char buf[16];
	int n;

	(void)state;
	assert_non_null(raw);
	memcpy(raw, "abcd", 4);
	n = fmt_snprintf(buf, sizeof(buf), "[%.*s]", 4, raw);
	assert_int_equal(n, 6);
	assert_string_equal(buf, "[abcd]");
	n = fmt_snprintf(buf, sizeof(buf), "[%-6.4s]", raw);
	assert_string_equal(buf, "[abcd  ]");
	assert_int_equal(n, 8);
	free(raw);
}

static void test_chars(void **state)
{
	char buf[8];
	int n;

	(void)state;
	CHECK("a", "%c", 'a');
	CHECK("  a", "%3c", 'a');
	CHECK("a  |", "%-3c|", 'a');
	CHECK("%c", "%%c");
	/* A NUL character still counts. */
	n = call_fmt(buf, sizeof(buf), "x%cy", 0);
	assert_int_equal(n, 3);
	assert_int_equal(buf[0], 'x');
	assert_int_equal(buf[1], 0);
	assert_int_equal(buf[2], 'y');
	assert_int_equal(buf[3], 0);
}

static void test_pointer(void **state)
{
	(void)state;
	CHECK("0x1234", "%p", (void *)0x1234);
	CHECK("0x0", "%p", NULL);
	CHECK("0xffffffffffffffff", "%p", (void *)UINTPTR_MAX);
	CHECK("    0x10", "%8p", (void *)0x10);
	CHECK("0x10    |", "%-8p|", (void *)0x10);
}

/* Unknown conversions are copied through and consume no argument. */
static void test_unknown(void **state)
{
	char buf[64];
	int n;

	(void)state;
	n = call_fmt(buf, sizeof(buf), "a%qb");
	assert_string_equal(buf, "a%qb");
	assert_int_equal(n, 4);
	n = call_fmt(buf, sizeof(buf), "%-5.2q %d", 7);
	assert_string_equal(buf, "%-5.2q 7");
	assert_int_equal(n, 8);
	n = call_fmt(buf, sizeof(buf), "end%");
	assert_string_equal(buf, "end%");
	assert_int_equal(n, 4);
	n = call_fmt(buf, sizeof(buf), "%ls|%d", 3);
	assert_string_equal(buf, "%ls|3");
	n = call_fmt(buf, sizeof(buf), "%5");
	assert_string_equal(buf, "%5");
	assert_int_equal(n, 2);
}

/* C99: at most size-1 characters plus NUL; the return is the full length. */
static void test_truncation(void **state)
{
	char buf[16];
	int n;

	(void)state;
	n = fmt_snprintf(NULL, 0, "hello %d", 12345);
	assert_int_equal(n, 11);

	memset(buf, 'X', sizeof(buf));
	n = fmt_snprintf(buf, 0, "hello");
	assert_int_equal(n, 5);
	assert_int_equal(buf[0], 'X');

	n = fmt_snprintf(buf, 1, "hello");
	assert_int_equal(n, 5);
	assert_int_equal(buf[0], '\0');
	assert_int_equal(buf[1], 'X');

	memset(buf, 'X', sizeof(buf));
	n = fmt_snprintf(buf, 5, "hello world");
	assert_int_equal(n, 11);
	assert_string_equal(buf, "hell");
	assert_int_equal(buf[5], 'X');

	n = fmt_snprintf(buf, 6, "%d", -123456789);
	assert_int_equal(n, 10);
	assert_string_equal(buf, "-1234");

	n = fmt_snprintf(buf, 4, "%10s", "ab");
	assert_int_equal(n, 10);
	assert_string_equal(buf, "   ");

	n = fmt_snprintf(buf, 6, "hello");
	assert_int_equal(n, 5);
	assert_string_equal(buf, "hello");
}

/* Exactly-sized heap buffers: ASan reports any write past size. */
static void test_truncation_exact_heap(void **state)
{
	size_t size;

	(void)state;
	for (size = 1; size < 40; size++) {
		char *buf = malloc(size);
		int n;

		assert_non_null(buf);
		n = fmt_snprintf(buf, size, "%-8s|%08x|%+d|%p", "ab", 0xbeefu, 7, (void *)0x42);
		assert_int_equal(n, 25);
		assert_int_equal(strlen(buf), MIN(size - 1, 25));
		free(buf);
	}
}

static void test_vsnprintf(void **state)
{
	char buf[32];

	(void)state;
	assert_int_equal(call_fmt(buf, sizeof(buf), "%s=%lu", "k", 99ul), 4);
	assert_string_equal(buf, "k=99");
}

/* Absurd widths are clamped rather than overflowing an int. */
static void test_huge_width(void **state)
{
	char buf[8];
	int n;

	(void)state;
	n = call_fmt(buf, sizeof(buf), "%99999999999999999999d", 1);
	assert_true(n > 0);
	assert_int_equal(n, 0x100000);
	assert_string_equal(buf, "       ");
	n = call_fmt(buf, sizeof(buf), "%*d", INT32_MIN, 1);
	assert_int_equal(n, 0x100000);
	assert_string_equal(buf, "1      ");
}

static void test_libc_spot(void **state)
{
	(void)state;
	CHECK_LIBC("%-+8d|% 08d|%#-10o|%#012X", 5, -5, 8u, 0xabcu);
	CHECK_LIBC("%.0u|%.0x|%#.0x|%5.3x", 0u, 0u, 0u, 1u);
	CHECK_LIBC("[%hhx] [%hx] [%zx] [%tx]", 0x1ff, 0x1ffff, (size_t)-1, (ptrdiff_t)7);
}

/*
 * Every combination of flags, width and precision against libc for the
 * integer conversions, over values that hit the edges.
 */
static void test_libc_matrix(void **state)
{
	static const char *const flag_sets[] = { "", "-", "0", "+", " ", "#", "-0", "+0", "-+", " 0",
						 "#0", "#-", "-+ #0" };
	static const char *const widths[] = { "", "1", "7", "25" };
	static const char *const precisions[] = { "", ".", ".0", ".1", ".6", ".22" };
	static const char convs[] = { 'd', 'i', 'u', 'x', 'X', 'o' };
	static const long long values[] = { 0, 1, -1, 7, -7, 255, 4096, INT32_MAX, INT32_MIN,
					    INT64_MAX, INT64_MIN, -4096 };
	size_t f, w, p, c, v, checked = 0;

	(void)state;
	for (f = 0; f < ARRAY_SIZE(flag_sets); f++)
		for (w = 0; w < ARRAY_SIZE(widths); w++)
			for (p = 0; p < ARRAY_SIZE(precisions); p++)
				for (c = 0; c < ARRAY_SIZE(convs); c++) {
					char fmt[32], a[128], b[128];
					bool is_signed = convs[c] == 'd' || convs[c] == 'i';

					/* '#' with d/i/u is undefined behaviour in C. */
					if ((is_signed || convs[c] == 'u') && strchr(flag_sets[f], '#'))
						continue;
					snprintf(fmt, sizeof(fmt), "%%%s%s%sll%c", flag_sets[f], widths[w],
						 precisions[p], convs[c]);
					for (v = 0; v < ARRAY_SIZE(values); v++) {
						int na = call_fmt(a, sizeof(a), fmt, values[v]);
						int nb = call_libc(b, sizeof(b), fmt, values[v]);

						if (strcmp(a, b) || na != nb)
							fail_msg("fmt '%s' value %lld: got '%s' (%d), libc '%s' (%d)",
								 fmt, values[v], a, na, b, nb);
						checked++;
					}
				}
	assert_true(checked > 10000);
}

static void test_libc_strings(void **state)
{
	static const char *const formats[] = { "%s", "%-s", "%8s", "%-8s", "%.2s", "%8.2s",
					       "%-8.2s", "%.0s", "%1s", "%.10s" };
	static const char *const strs[] = { "", "a", "hello", "hello world, long" };
	size_t f, s;

	(void)state;
	for (f = 0; f < ARRAY_SIZE(formats); f++)
		for (s = 0; s < ARRAY_SIZE(strs); s++) {
			char a[64], b[64];
			int na = call_fmt(a, sizeof(a), formats[f], strs[s]);
			int nb = call_libc(b, sizeof(b), formats[f], strs[s]);

			assert_string_equal(a, b);
			assert_int_equal(na, nb);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_signed),
		cmocka_unit_test(test_unsigned),
		cmocka_unit_test(test_alt_forms),
		cmocka_unit_test(test_width_flags),
		cmocka_unit_test(test_precision),
		cmocka_unit_test(test_star),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_string_unterminated),
		cmocka_unit_test(test_chars),
		cmocka_unit_test(test_pointer),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_truncation_exact_heap),
		cmocka_unit_test(test_vsnprintf),
		cmocka_unit_test(test_huge_width),
		cmocka_unit_test(test_libc_spot),
		cmocka_unit_test(test_libc_matrix),
		cmocka_unit_test(test_libc_strings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
