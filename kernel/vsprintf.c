/* kernel/vsprintf.c: kvsnprintf and ksnprintf, C's formatted output plus Linux's %pS and %ps. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/ksyms.h"
#include "kernel/string.h"
#include "kernel/vsprintf.h"

/*
 * All output goes through a struct out. Characters that do not fit in the
 * buffer are counted but dropped, which is exactly what the return value
 * of snprintf needs, so no other code has to think about the buffer size.
 */
struct out {
    char *buf;
    size_t size;                /* bytes in buf, including the final NUL */
    size_t len;                 /* characters produced so far, stored or not */
};

static void put_char(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

/* Put c n times. Once the buffer is full, only count: a width of two
 * billion must not take two billion steps. */
static void put_repeat(struct out *o, char c, size_t n)
{
    while (n > 0 && o->len + 1 < o->size) {
        put_char(o, c);
        n--;
    }
    o->len += n;
}

static void put_chars(struct out *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put_char(o, s[i]);
}

/* What one conversion specification asked for, e.g. "%-08.3lx". */
struct spec {
    bool left;                  /* '-': pad on the right instead of the left */
    bool zero;                  /* '0': pad numbers with zeros */
    bool alt;                   /* '#': 0x before hex, a leading 0 for octal */
    bool space;                 /* ' ': a space where a positive number's sign goes */
    bool plus;                  /* '+': always print a sign */
    size_t width;               /* minimum field width; 0 if none */
    bool has_precision;
    size_t precision;
};

/* Widths and precisions are ints in C; bigger numbers in a format stick here. */
#define FIELD_MAX ((size_t)INT32_MAX)

/* Read a decimal field width or precision from *fmtp and step past it. */
static size_t parse_field(const char **fmtp)
{
    size_t n = 0;

    while (**fmtp >= '0' && **fmtp <= '9') {
        n = n * 10 + (size_t)(**fmtp - '0');
        if (n > FIELD_MAX)
            n = FIELD_MAX;
        (*fmtp)++;
    }
    return n;
}

/* Pad on the left for a right-aligned field of len characters. */
static void pad_before(struct out *o, const struct spec *s, size_t len)
{
    if (!s->left && s->width > len)
        put_repeat(o, ' ', s->width - len);
}

/* Pad on the right for a left-aligned field of len characters. */
static void pad_after(struct out *o, const struct spec *s, size_t len)
{
    if (s->left && s->width > len)
        put_repeat(o, ' ', s->width - len);
}

/*
 * Print a number given as its magnitude and sign, laid out as
 *   [spaces] [sign] [0x prefix] [zeros] digits [spaces]
 * following C's rules: the precision is the minimum number of digits, and
 * a '0' flag (ignored when there is a precision) pads with zeros instead of
 * spaces. is_signed says whether the '+' and ' ' flags apply.
 */
static void put_number(struct out *o, const struct spec *s, uint64_t value,
                       bool negative, bool is_signed, unsigned base, bool upper)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[22];               /* 2^64 - 1 in octal, the longest case, is 22 digits */
    size_t ndigits = 0;
    bool is_zero = (value == 0);

    /* C: "%.0d" of 0 prints no digits at all. Digits come out backwards. */
    if (!(is_zero && s->has_precision && s->precision == 0)) {
        do {
            tmp[ndigits++] = digits[value % base];
            value /= base;
        } while (value != 0);
    }

    const char *sign = "";
    if (negative)
        sign = "-";
    else if (is_signed && s->plus)
        sign = "+";
    else if (is_signed && s->space)
        sign = " ";

    const char *prefix = "";
    if (s->alt && base == 16 && !is_zero)
        prefix = upper ? "0X" : "0x";

    size_t zeros = 0;
    if (s->has_precision && s->precision > ndigits)
        zeros = s->precision - ndigits;
    /* C: '#' with %o makes the first digit a 0, unless it already is one. */
    if (s->alt && base == 8 && zeros == 0 && !(is_zero && ndigits == 1))
        zeros = 1;

    size_t len = strlen(sign) + strlen(prefix) + zeros + ndigits;
    if (s->zero && !s->left && !s->has_precision && s->width > len) {
        zeros += s->width - len;
        len = s->width;
    }

    pad_before(o, s, len);
    put_chars(o, sign, strlen(sign));
    put_chars(o, prefix, strlen(prefix));
    put_repeat(o, '0', zeros);
    while (ndigits > 0)
        put_char(o, tmp[--ndigits]);
    pad_after(o, s, len);
}

/* %s: at most precision characters of str, and never reads further than that. */
static void put_string(struct out *o, const struct spec *s, const char *str)
{
    if (str == NULL)
        str = "(null)";

    size_t len = s->has_precision ? strnlen(str, s->precision) : strlen(str);

    pad_before(o, s, len);
    put_chars(o, str, len);
    pad_after(o, s, len);
}

/* Hex with no padding and no prefix, for the pieces of a symbol. */
static void put_hex(struct out *o, uint64_t value)
{
    static const struct spec plain;         /* all zero: no flags, width or precision */

    put_number(o, &plain, value, false, false, 16, false);
}

/* The text of %pS ("name+0xoff/0xsize") or %ps ("name"), unpadded. */
static void put_symbol_text(struct out *o, uint64_t addr, bool with_offset)
{
    uint64_t offset;
    const struct ksym *sym = ksym_lookup(addr, &offset);

    if (sym == NULL) {
        put_chars(o, "0x", 2);
        put_hex(o, addr);
        return;
    }
    put_chars(o, sym->name, strlen(sym->name));
    if (with_offset) {
        put_chars(o, "+0x", 3);
        put_hex(o, offset);
        put_chars(o, "/0x", 3);
        put_hex(o, sym->size);
    }
}

/* %pS and %ps, padded to the field width. */
static void put_symbol(struct out *o, const struct spec *s, uint64_t addr, bool with_offset)
{
    /* The padding depends on the text's length, so first "print" it into
     * an empty buffer, which only counts, to measure it. */
    struct out measure = { NULL, 0, 0 };

    put_symbol_text(&measure, addr, with_offset);
    pad_before(o, s, measure.len);
    put_symbol_text(o, addr, with_offset);
    pad_after(o, s, measure.len);
}

/* %p and %px: all 16 hex digits, as Linux's %px prints them. */
static void put_pointer(struct out *o, const struct spec *s, uint64_t addr)
{
    struct spec ps = *s;

    ps.has_precision = true;
    ps.precision = 16;
    put_number(o, &ps, addr, false, false, 16, false);
}

enum length { LEN_INT, LEN_CHAR, LEN_SHORT, LEN_LONG, LEN_LLONG, LEN_SIZE, LEN_PTRDIFF };

/* Fetch a signed integer argument of the given length. The caller passes
 * a pointer to its own va_list (see kvsnprintf for why that is a copy). */
static int64_t get_signed(va_list *ap, enum length len)
{
    switch (len) {
    case LEN_CHAR:    return (signed char)va_arg(*ap, int);   /* promoted to int when passed */
    case LEN_SHORT:   return (short)va_arg(*ap, int);
    case LEN_LONG:    return va_arg(*ap, long);
    case LEN_LLONG:   return va_arg(*ap, long long);
    case LEN_SIZE:    return va_arg(*ap, ptrdiff_t);          /* the signed type as wide as size_t */
    case LEN_PTRDIFF: return va_arg(*ap, ptrdiff_t);
    default:          return va_arg(*ap, int);
    }
}

static uint64_t get_unsigned(va_list *ap, enum length len)
{
    switch (len) {
    case LEN_CHAR:    return (unsigned char)va_arg(*ap, unsigned int);
    case LEN_SHORT:   return (unsigned short)va_arg(*ap, unsigned int);
    case LEN_LONG:    return va_arg(*ap, unsigned long);
    case LEN_LLONG:   return va_arg(*ap, unsigned long long);
    case LEN_SIZE:    return va_arg(*ap, size_t);
    case LEN_PTRDIFF: return (uint64_t)va_arg(*ap, ptrdiff_t);
    default:          return va_arg(*ap, unsigned int);
    }
}

/* Read the length modifier at *fmtp, if any, and step past it. */
static enum length parse_length(const char **fmtp)
{
    const char *f = *fmtp;
    enum length len = LEN_INT;

    if (f[0] == 'h' && f[1] == 'h') {
        len = LEN_CHAR;
        f += 2;
    } else if (f[0] == 'h') {
        len = LEN_SHORT;
        f++;
    } else if (f[0] == 'l' && f[1] == 'l') {
        len = LEN_LLONG;
        f += 2;
    } else if (f[0] == 'l') {
        len = LEN_LONG;
        f++;
    } else if (f[0] == 'z') {
        len = LEN_SIZE;
        f++;
    } else if (f[0] == 't') {
        len = LEN_PTRDIFF;
        f++;
    }
    *fmtp = f;
    return len;
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = { buf, size, 0 };
    /* The helpers take the arguments through a pointer. A va_list parameter
     * is really a pointer on x86-64, so &ap would have the wrong type; a
     * copy made with va_copy is a true va_list, and &args is fine. */
    va_list args;
    va_copy(args, ap);

    while (*fmt != '\0') {
        if (*fmt != '%') {
            put_char(&o, *fmt++);
            continue;
        }
        const char *start = fmt++;          /* to print an unknown conversion as it stands */
        struct spec s = { 0 };

        for (;; fmt++) {
            if (*fmt == '-')
                s.left = true;
            else if (*fmt == '0')
                s.zero = true;
            else if (*fmt == '#')
                s.alt = true;
            else if (*fmt == ' ')
                s.space = true;
            else if (*fmt == '+')
                s.plus = true;
            else
                break;
        }

        if (*fmt == '*') {
            int w = va_arg(args, int);

            if (w < 0) {                    /* C: a negative '*' width means '-' */
                s.left = true;
                s.width = (size_t)-(long long)w;
            } else {
                s.width = (size_t)w;
            }
            if (s.width > FIELD_MAX)
                s.width = FIELD_MAX;
            fmt++;
        } else {
            s.width = parse_field(&fmt);
        }

        if (*fmt == '.') {
            fmt++;
            if (*fmt == '*') {
                int p = va_arg(args, int);

                s.has_precision = (p >= 0);  /* C: a negative '*' precision means none */
                s.precision = s.has_precision ? (size_t)p : 0;
                fmt++;
            } else {
                s.has_precision = true;
                s.precision = parse_field(&fmt);
            }
        }

        enum length len = parse_length(&fmt);

        switch (*fmt) {
        case 'd':
        case 'i': {
            int64_t v = get_signed(&args, len);
            /* Negate in unsigned arithmetic: -INT64_MIN does not fit in an int64_t. */
            uint64_t magnitude = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

            put_number(&o, &s, magnitude, v < 0, true, 10, false);
            break;
        }
        case 'u':
            put_number(&o, &s, get_unsigned(&args, len), false, false, 10, false);
            break;
        case 'x':
            put_number(&o, &s, get_unsigned(&args, len), false, false, 16, false);
            break;
        case 'X':
            put_number(&o, &s, get_unsigned(&args, len), false, false, 16, true);
            break;
        case 'o':
            put_number(&o, &s, get_unsigned(&args, len), false, false, 8, false);
            break;
        case 'c':
            pad_before(&o, &s, 1);
            put_char(&o, (char)va_arg(args, int));
            pad_after(&o, &s, 1);
            break;
        case 's':
            put_string(&o, &s, va_arg(args, const char *));
            break;
        case 'p': {
            uint64_t addr = (uintptr_t)va_arg(args, void *);

            /* Linux's extensions are letters after the p: %pS, %ps, %px. */
            if (fmt[1] == 'S') {
                put_symbol(&o, &s, addr, true);
                fmt++;
            } else if (fmt[1] == 's') {
                put_symbol(&o, &s, addr, false);
                fmt++;
            } else {
                if (fmt[1] == 'x')
                    fmt++;
                put_pointer(&o, &s, addr);
            }
            break;
        }
        case '%':
            put_char(&o, '%');
            break;
        case '\0':
            /* The format ends inside a conversion: print what there is, and
             * leave fmt on the NUL so the loop ends. */
            put_chars(&o, start, (size_t)(fmt - start));
            continue;
        default:
            put_chars(&o, start, (size_t)(fmt - start) + 1);
            break;
        }
        fmt++;
    }
    va_end(args);

    if (size > 0)
        buf[o.len < size ? o.len : size - 1] = '\0';
    /* C's snprintf fails when the length does not fit in its int result. */
    return o.len > (size_t)INT32_MAX ? -1 : (int)o.len;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    int n = kvsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
