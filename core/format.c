/* SPDX-License-Identifier: BSD-2-Clause */
/* printf-style formatting into a bounded buffer (no allocation, no floats). */
#include "core/format.h"

/*
 * Output sink. pos counts every character the full output would have, so
 * that the return value follows C11 7.21.6.5 even when the buffer is short;
 * only the first size-1 characters are stored.
 */
struct fmt_out {
	char *buf;
	size_t size;
	size_t pos;
};

/* Parsed conversion specification (C11 7.21.6.1p4). */
struct fmt_spec {
	bool left;      /* '-' */
	bool zero;      /* '0' */
	bool plus;      /* '+' */
	bool space;     /* ' ' */
	bool alt;       /* '#' */
	int width;      /* 0 when absent */
	int precision;  /* -1 when absent */
};

enum fmt_length {
	LEN_NONE,
	LEN_HH,
	LEN_H,
	LEN_L,
	LEN_LL,
	LEN_Z,
	LEN_T,
	LEN_J,
};

/* Widths and precisions beyond this are clamped: they only cost time. */
#define FMT_MAX_FIELD 0x100000

static void out_char(struct fmt_out *o, char c)
{
	if (o->size && o->pos < o->size - 1)
		o->buf[o->pos] = c;
	o->pos++;
}

static void out_repeat(struct fmt_out *o, char c, int n)
{
	while (n-- > 0)
		out_char(o, c);
}

static void out_mem(struct fmt_out *o, const char *s, size_t n)
{
	while (n--)
		out_char(o, *s++);
}

/* Bounded strlen: never looks at s[max] or beyond (precision limits %s). */
static size_t str_len_max(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

/* Decimal digits at *p (width or precision); clamps instead of overflowing. */
static int parse_field(const char **p)
{
	int v = 0;

	while (**p >= '0' && **p <= '9') {
		if (v < FMT_MAX_FIELD)
			v = v * 10 + (**p - '0');
		(*p)++;
	}
	return MIN(v, FMT_MAX_FIELD);
}

/* Digits of v in base, most significant first, into buf (no terminator). */
static size_t utoa_digits(char *buf, uint64_t v, unsigned int base, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24]; /* 2^64 needs 22 octal digits */
	size_t n = 0, i;

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	return n;
}

/*
 * One integer conversion. negative is the sign of a signed argument whose
 * magnitude is v; prefix is "0x"/"0X" for %#x and %p.
 */
static void out_number(struct fmt_out *o, const struct fmt_spec *sp, uint64_t v, bool negative,
		       bool is_signed, unsigned int base, bool upper, const char *prefix)
{
	char digits[24];
	size_t ndigits = 0;
	char sign = 0;
	int precision = sp->precision, zeros, pad;
	size_t prefix_len = 0;

	if (is_signed) {
		if (negative)
			sign = '-';
		else if (sp->plus)
			sign = '+';
		else if (sp->space)
			sign = ' ';
	}

	/* C11 7.21.6.1p8: a zero value with precision 0 prints no digits. */
	if (!(v == 0 && precision == 0))
		ndigits = utoa_digits(digits, v, base, upper);

	/* '#' with 'o' raises the precision so that the first digit is 0. */
	if (base == 8 && sp->alt && (ndigits == 0 || digits[0] != '0'))
		precision = MAX(precision, (int)ndigits + 1);

	if (prefix)
		prefix_len = str_len_max(prefix, 2);

	zeros = precision > (int)ndigits ? precision - (int)ndigits : 0;
	pad = sp->width - (int)ndigits - zeros - (sign ? 1 : 0) - (int)prefix_len;

	/* '0' is ignored with '-' and, for integers, when a precision is given. */
	if (sp->zero && !sp->left && sp->precision < 0 && pad > 0) {
		zeros += pad;
		pad = 0;
	}

	if (!sp->left)
		out_repeat(o, ' ', pad);
	if (sign)
		out_char(o, sign);
	out_mem(o, prefix ? prefix : "", prefix_len);
	out_repeat(o, '0', zeros);
	out_mem(o, digits, ndigits);
	if (sp->left)
		out_repeat(o, ' ', pad);
}

static void out_string(struct fmt_out *o, const struct fmt_spec *sp, const char *s)
{
	size_t len;
	int pad;

	if (!s)
		s = "(null)";
	len = str_len_max(s, sp->precision >= 0 ? (size_t)sp->precision : (size_t)-1);
	pad = (size_t)sp->width > len ? sp->width - (int)len : 0;
	if (!sp->left)
		out_repeat(o, ' ', pad);
	out_mem(o, s, len);
	if (sp->left)
		out_repeat(o, ' ', pad);
}

/* %c: exactly one character, even NUL, padded to the width. */
static void out_char_field(struct fmt_out *o, const struct fmt_spec *sp, char c)
{
	int pad = sp->width > 1 ? sp->width - 1 : 0;

	if (!sp->left)
		out_repeat(o, ' ', pad);
	out_char(o, c);
	if (sp->left)
		out_repeat(o, ' ', pad);
}

/* Fetch a signed argument of the given length, widened to int64_t. */
static int64_t arg_signed(va_list *ap, enum fmt_length len)
{
	switch (len) {
	case LEN_HH:
		return (signed char)va_arg(*ap, int);
	case LEN_H:
		return (short)va_arg(*ap, int);
	case LEN_L:
		return va_arg(*ap, long);
	case LEN_LL:
		return va_arg(*ap, long long);
	case LEN_Z:
		/* The signed type corresponding to size_t has the same size. */
		return (int64_t)(intptr_t)va_arg(*ap, size_t);
	case LEN_T:
		return va_arg(*ap, ptrdiff_t);
	case LEN_J:
		return va_arg(*ap, intmax_t);
	case LEN_NONE:
		break;
	}
	return va_arg(*ap, int);
}

static uint64_t arg_unsigned(va_list *ap, enum fmt_length len)
{
	switch (len) {
	case LEN_HH:
		return (unsigned char)va_arg(*ap, unsigned int);
	case LEN_H:
		return (unsigned short)va_arg(*ap, unsigned int);
	case LEN_L:
		return va_arg(*ap, unsigned long);
	case LEN_LL:
		return va_arg(*ap, unsigned long long);
	case LEN_Z:
		return va_arg(*ap, size_t);
	case LEN_T:
		return (uint64_t)va_arg(*ap, ptrdiff_t);
	case LEN_J:
		return va_arg(*ap, uintmax_t);
	case LEN_NONE:
		break;
	}
	return va_arg(*ap, unsigned int);
}

static enum fmt_length parse_length(const char **p)
{
	switch (**p) {
	case 'h':
		(*p)++;
		if (**p == 'h') {
			(*p)++;
			return LEN_HH;
		}
		return LEN_H;
	case 'l':
		(*p)++;
		if (**p == 'l') {
			(*p)++;
			return LEN_LL;
		}
		return LEN_L;
	case 'z':
		(*p)++;
		return LEN_Z;
	case 't':
		(*p)++;
		return LEN_T;
	case 'j':
		(*p)++;
		return LEN_J;
	default:
		return LEN_NONE;
	}
}

/*
 * Handle one conversion; *p points just past the '%'. Returns false when
 * the specification is not one we know, so the caller copies it verbatim.
 */
static bool convert(struct fmt_out *o, const char **p, va_list *ap)
{
	struct fmt_spec sp = { .precision = -1 };
	enum fmt_length len;
	const char *f = *p;
	int64_t sv;
	uint64_t uv;
	char c;

	for (;; f++) {
		if (*f == '-')
			sp.left = true;
		else if (*f == '0')
			sp.zero = true;
		else if (*f == '+')
			sp.plus = true;
		else if (*f == ' ')
			sp.space = true;
		else if (*f == '#')
			sp.alt = true;
		else
			break;
	}

	if (*f == '*') {
		/* C11 7.21.6.1p5: a negative '*' width is '-' plus its magnitude. */
		int w = va_arg(*ap, int);

		f++;
		if (w < 0) {
			sp.left = true;
			w = w == INT32_MIN ? FMT_MAX_FIELD : -w;
		}
		sp.width = MIN(w, FMT_MAX_FIELD);
	} else {
		sp.width = parse_field(&f);
	}

	if (*f == '.') {
		f++;
		if (*f == '*') {
			/* A negative '*' precision is taken as if it were omitted. */
			int pr = va_arg(*ap, int);

			f++;
			sp.precision = pr < 0 ? -1 : MIN(pr, FMT_MAX_FIELD);
		} else {
			sp.precision = parse_field(&f);
		}
	}

	len = parse_length(&f);
	c = *f;
	if (c == '\0')
		return false;
	f++;

	switch (c) {
	case 'd':
	case 'i':
		sv = arg_signed(ap, len);
		/* Negate in unsigned arithmetic: INT64_MIN has no positive twin. */
		uv = sv < 0 ? (uint64_t)0 - (uint64_t)sv : (uint64_t)sv;
		out_number(o, &sp, uv, sv < 0, true, 10, false, NULL);
		break;
	case 'u':
		out_number(o, &sp, arg_unsigned(ap, len), false, false, 10, false, NULL);
		break;
	case 'o':
		out_number(o, &sp, arg_unsigned(ap, len), false, false, 8, false, NULL);
		break;
	case 'x':
	case 'X':
		uv = arg_unsigned(ap, len);
		/* C11: the 0x prefix is only added to a non-zero value. */
		out_number(o, &sp, uv, false, false, 16, c == 'X',
			   sp.alt && uv ? (c == 'X' ? "0X" : "0x") : NULL);
		break;
	case 'p':
		/* Always 0x-prefixed lower-case hex, NULL included ("0x0"). */
		if (len != LEN_NONE)
			return false;
		uv = (uint64_t)(uintptr_t)va_arg(*ap, void *);
		out_number(o, &sp, uv, false, false, 16, false, "0x");
		break;
	case 's':
		if (len != LEN_NONE)
			return false;
		out_string(o, &sp, va_arg(*ap, const char *));
		break;
	case 'c':
		/* %lc would be a wide character: not supported, copied through. */
		if (len != LEN_NONE)
			return false;
		out_char_field(o, &sp, (char)va_arg(*ap, int));
		break;
	case '%':
		out_char(o, '%');
		break;
	default:
		return false;
	}
	*p = f;
	return true;
}

int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct fmt_out o = { .buf = buf, .size = buf ? size : 0, .pos = 0 };
	const char *p = fmt;
	va_list args;

	/* A local copy so that helpers can consume arguments through a pointer. */
	va_copy(args, ap);
	while (*p) {
		if (*p != '%') {
			out_char(&o, *p++);
			continue;
		}
		p++;
		if (!convert(&o, &p, &args)) {
			/* Unknown conversion: emit the '%' and let the rest copy through. */
			out_char(&o, '%');
		}
	}
	va_end(args);

	if (o.size)
		o.buf[MIN(o.pos, o.size - 1)] = '\0';
	/* C11 says a count that does not fit an int is an error. */
	return o.pos > INT32_MAX ? -1 : (int)o.pos;
}

int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fmt_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
