/* tests/host/test_vsprintf.c: host unit tests for kernel/vsprintf.c (kvsnprintf, ksnprintf). */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include "kernel/ksyms.h"
#include "kernel/string.h"
#include "kernel/vsprintf.h"
#include "tests/host/check.h"

/* A small stand-in for the generated build/ksyms.c, for %pS and %ps. */
const struct ksym ksym_table[] = {
    { 0xffffffff80100000, 0x40, "kmain" },
    { 0xffffffff80100040, 0x0c, "divide_by_zero" },
    { 0xffffffff80100100, 0x20, "a_function_with_a_rather_long_name" },
};
const size_t ksym_count = sizeof ksym_table / sizeof ksym_table[0];

static void check_fmt_va(const char *file, int line, const char *want, const char *fmt, va_list ap)
{
    char buf[256];
    int n = kvsnprintf(buf, sizeof buf, fmt, ap);

    check_str_eq(buf, want, fmt, file, line);
    check_int_eq(n, (long long)strlen(want), "return value", file, line);
}

/* CHECK_FMT(want, fmt, args...): formatting fmt gives want, and returns its length. */
#define CHECK_FMT(want, ...) check_fmt(__FILE__, __LINE__, want, __VA_ARGS__)

__attribute__((format(printf, 4, 5)))
static void check_fmt(const char *file, int line, const char *want, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    check_fmt_va(file, line, want, fmt, ap);
    va_end(ap);
}

/* The same without GCC's format checking, for the odd formats it (rightly) warns about. */
#define CHECK_FMT_ODD(want, ...) check_fmt_odd(__FILE__, __LINE__, want, __VA_ARGS__)

static void check_fmt_odd(const char *file, int line, const char *want, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    check_fmt_va(file, line, want, fmt, ap);
    va_end(ap);
}

/* ksnprintf without GCC's format checking, which also rejects absurd widths. */
static int odd_snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    int n = kvsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

/* CHECK_LIKE_LIBC(fmt, args...): kvsnprintf and the C library's vsnprintf agree. */
#define CHECK_LIKE_LIBC(...) check_like_libc(__FILE__, __LINE__, __VA_ARGS__)

__attribute__((format(printf, 3, 4)))
static void check_like_libc(const char *file, int line, const char *fmt, ...)
{
    char want[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(want, sizeof want, fmt, ap);
    va_end(ap);
    va_start(ap, fmt);
    check_fmt_va(file, line, want, fmt, ap);
    va_end(ap);
}

static void plain_text_is_copied(void)
{
    CHECK_FMT("", "%s", "");
    CHECK_FMT("hello, world\n", "hello, world\n");
    CHECK_FMT("100%", "100%%");
    CHECK_FMT("%%", "%%%%");
}

static void d_and_i_print_signed_decimal(void)
{
    CHECK_FMT("0", "%d", 0);
    CHECK_FMT("42 -42", "%d %i", 42, -42);
    CHECK_FMT("2147483647", "%d", INT32_MAX);
    CHECK_FMT("-2147483648", "%d", INT32_MIN);
}

static void u_x_X_o_print_unsigned(void)
{
    CHECK_FMT("4294967295", "%u", UINT32_MAX);
    CHECK_FMT("ff FF", "%x %X", 255u, 255u);
    CHECK_FMT("deadbeef", "%x", 0xdeadbeefu);
    CHECK_FMT("17 0", "%o %o", 15u, 0u);
}

static void int64_extremes(void)
{
    CHECK_FMT("-9223372036854775808", "%lld", (long long)INT64_MIN);
    CHECK_FMT("-9223372036854775808", "%ld", (long)INT64_MIN);
    CHECK_FMT("9223372036854775807", "%lld", (long long)INT64_MAX);
    CHECK_FMT("18446744073709551615", "%llu", (unsigned long long)UINT64_MAX);
    CHECK_FMT("ffffffffffffffff", "%lx", (unsigned long)UINT64_MAX);
    CHECK_FMT("1777777777777777777777", "%llo", (unsigned long long)UINT64_MAX);
    CHECK_FMT("-9223372036854775808", "%+lld", (long long)INT64_MIN);
    CHECK_FMT("-0009223372036854775808", "%023lld", (long long)INT64_MIN);
}

static void hh_and_h_truncate_to_char_and_short(void)
{
    CHECK_FMT_ODD("-1 255", "%hhd %hhu", 255, 255);
    CHECK_FMT_ODD("0", "%hhu", 256);
    CHECK_FMT_ODD("-1 65535", "%hd %hu", 65535, 65535);
    CHECK_FMT_ODD("4464", "%hu", 70000);
    CHECK_FMT("-128 ff", "%hhd %hhx", (signed char)-128, (unsigned char)255);
}

static void z_and_t_modifiers(void)
{
    CHECK_FMT("18446744073709551615", "%zu", SIZE_MAX);
    CHECK_FMT("7 ff", "%zu %zx", (size_t)7, (size_t)255);
    CHECK_FMT("-5", "%zd", (ptrdiff_t)-5);
    CHECK_FMT("-9223372036854775808", "%td", (ptrdiff_t)INT64_MIN);
    CHECK_FMT("10", "%tx", (ptrdiff_t)16);
}

static void width_pads_with_spaces(void)
{
    CHECK_FMT("   42", "%5d", 42);
    CHECK_FMT("42   |", "%-5d|", 42);
    CHECK_FMT("  -42", "%5d", -42);
    CHECK_FMT("123456", "%3d", 123456);
    CHECK_FMT("    ab", "%6x", 0xabu);
}

static void zero_flag_pads_after_the_sign(void)
{
    CHECK_FMT("00042", "%05d", 42);
    CHECK_FMT("-0042", "%05d", -42);
    CHECK_FMT("+0042", "%+05d", 42);
    CHECK_FMT("0x00ff", "%#06x", 255u);
    CHECK_FMT_ODD("42   |", "%-05d|", 42);        /* '-' beats '0' */
    CHECK_FMT_ODD("     042", "%08.3d", 42);          /* a precision turns '0' off */
}

static void precision_sets_minimum_digits(void)
{
    CHECK_FMT("005", "%.3d", 5);
    CHECK_FMT("-005", "%.3d", -5);
    CHECK_FMT("  005", "%5.3d", 5);
    CHECK_FMT("12345", "%.3d", 12345);
    CHECK_FMT("0000ff", "%.6x", 255u);
}

static void precision_zero_with_value_zero_prints_no_digits(void)
{
    CHECK_FMT("", "%.0d", 0);
    CHECK_FMT("[   ]", "[%3.0d]", 0);
    CHECK_FMT("", "%.0x", 0u);
    CHECK_FMT("", "%.d", 0);
    CHECK_FMT("+", "%+.0d", 0);
    CHECK_FMT("0", "%#.0o", 0u);
    CHECK_FMT("1", "%.0d", 1);
}

static void plus_and_space_flags(void)
{
    CHECK_FMT("+5 -5 +0", "%+d %+d %+d", 5, -5, 0);
    CHECK_FMT(" 5 -5", "% d % d", 5, -5);
    CHECK_FMT_ODD("+5", "%+ d", 5);                /* '+' beats ' ' */
    CHECK_FMT_ODD("5", "%+u", 5u);                 /* only signed conversions get a sign */
}

static void alt_flag_for_hex_and_octal(void)
{
    CHECK_FMT("0xff 0XFF", "%#x %#X", 255u, 255u);
    CHECK_FMT("0", "%#x", 0u);
    CHECK_FMT("010 0", "%#o %#o", 8u, 0u);
    CHECK_FMT("010", "%#.3o", 8u);
    CHECK_FMT("0010", "%#.4o", 8u);
    CHECK_FMT("  010", "%#5o", 8u);
    CHECK_FMT("0x0000ff", "%#08x", 255u);
    CHECK_FMT("    0xff", "%#8x", 255u);
    CHECK_FMT("0xffffffffffffffff", "%#llx", (unsigned long long)UINT64_MAX);
}

static void star_width_and_precision(void)
{
    CHECK_FMT("   42", "%*d", 5, 42);
    CHECK_FMT("42   |", "%*d|", -5, 42);           /* negative width means '-' */
    CHECK_FMT("abc", "%.*s", 3, "abcdef");
    CHECK_FMT("42", "%.*d", -1, 42);               /* negative precision means none */
    CHECK_FMT("  007", "%*.*d", 5, 3, 7);
    CHECK_FMT("x    |", "%-*c|", 5, 'x');
}

static void c_prints_a_character(void)
{
    char buf[8];

    CHECK_FMT("A", "%c", 'A');
    CHECK_FMT("  A", "%3c", 'A');
    CHECK_FMT("A  |", "%-3c|", 'A');
    /* A NUL character is output like any other and counted. */
    CHECK_INT_EQ(ksnprintf(buf, sizeof buf, "%cz", 0), 2);
    CHECK_INT_EQ(buf[0], 0);
    CHECK_INT_EQ(buf[1], 'z');
}

static void s_prints_strings_with_width_and_precision(void)
{
    CHECK_FMT("hi", "%s", "hi");
    CHECK_FMT("   hi", "%5s", "hi");
    CHECK_FMT("hi   |", "%-5s|", "hi");
    CHECK_FMT("he", "%.2s", "hello");
    CHECK_FMT("   he", "%5.2s", "hello");
    CHECK_FMT("hello", "%.9s", "hello");
}

static void s_precision_does_not_read_past_it(void)
{
    /* Not NUL-terminated: AddressSanitizer would catch a read of arr[3]. */
    char arr[3] = { 'a', 'b', 'c' };

    CHECK_FMT("abc", "%.3s", arr);
    CHECK_FMT("ab", "%.*s", 2, arr);
}

static void s_null_prints_null(void)
{
    CHECK_FMT_ODD("(null)", "%s", (char *)NULL);
    CHECK_FMT_ODD("  (null)", "%8s", (char *)NULL);
    CHECK_FMT_ODD("(nu", "%.3s", (char *)NULL);
}

static void p_prints_16_hex_digits_without_0x(void)
{
    CHECK_FMT("ffffffff80101234", "%p", (void *)0xffffffff80101234);
    CHECK_FMT("0000000000001234", "%p", (void *)0x1234);
    CHECK_FMT("0000000000000000", "%p", NULL);
    CHECK_FMT("[    ffffffff80101234]", "[%20p]", (void *)0xffffffff80101234);
    CHECK_FMT("[ffffffff80101234    ]", "[%-20p]", (void *)0xffffffff80101234);
    CHECK_FMT("ffffffff80101234.", "%p.", (void *)0xffffffff80101234);
}

static void px_is_the_same_as_p(void)
{
    CHECK_FMT("ffffffff80101234", "%px", (void *)0xffffffff80101234);
    CHECK_FMT("0000000000000010 end", "%px end", (void *)0x10);
}

static void pS_prints_symbol_offset_and_size(void)
{
    CHECK_FMT("kmain+0x0/0x40", "%pS", (void *)0xffffffff80100000);
    CHECK_FMT("kmain+0x12/0x40", "%pS", (void *)0xffffffff80100012);
    CHECK_FMT("kmain+0x3f/0x40", "%pS", (void *)0xffffffff8010003f);
    CHECK_FMT("divide_by_zero+0x4/0xc", "%pS", (void *)0xffffffff80100044);
    CHECK_FMT("at kmain+0x1/0x40!", "at %pS!", (void *)0xffffffff80100001);
}

static void ps_prints_just_the_symbol(void)
{
    CHECK_FMT("kmain", "%ps", (void *)0xffffffff80100012);
    CHECK_FMT("divide_by_zero()", "%ps()", (void *)0xffffffff80100040);
}

static void pS_and_ps_of_unknown_address_print_raw_hex(void)
{
    CHECK_FMT("0x1234", "%pS", (void *)0x1234);
    CHECK_FMT("0xffffffff80100050", "%pS", (void *)0xffffffff80100050);  /* in a gap */
    CHECK_FMT("0xffffffff80100120", "%ps", (void *)0xffffffff80100120);  /* past the end */
    CHECK_FMT("0x0", "%ps", NULL);
}

static void pS_honours_field_width(void)
{
    CHECK_FMT("[     kmain]", "[%10ps]", (void *)0xffffffff80100000);
    CHECK_FMT("[kmain+0x1/0x40      ]", "[%-20pS]", (void *)0xffffffff80100001);
    CHECK_FMT("[0x10]", "[%3pS]", (void *)0x10);
}

static void pS_truncates_like_everything_else(void)
{
    char buf[8];
    int n = ksnprintf(buf, sizeof buf, "%pS", (void *)0xffffffff80100104);

    CHECK_STR_EQ(buf, "a_funct");
    CHECK_INT_EQ(n, (long long)strlen("a_function_with_a_rather_long_name+0x4/0x20"));
}

static void unknown_conversion_prints_itself(void)
{
    CHECK_FMT_ODD("%q", "%q");
    CHECK_FMT_ODD("[%-5.2q]", "[%-5.2q]");
    CHECK_FMT_ODD("%lq", "%lq");
    CHECK_FMT_ODD("%n", "%n");
    CHECK_FMT_ODD("%j", "%j");
}

static void unknown_conversion_consumes_no_argument(void)
{
    /* %f is unknown (the kernel has no floating point), so 7 goes to %d. */
    CHECK_FMT_ODD("%f 7", "%f %d", 7);
}

static void format_ending_inside_a_conversion(void)
{
    CHECK_FMT_ODD("%", "%");
    CHECK_FMT_ODD("abc%", "abc%");
    CHECK_FMT_ODD("%-5", "%-5");
    CHECK_FMT_ODD("%5.3l", "%5.3l");
    CHECK_FMT_ODD("x%ll", "x%ll");
}

static void truncation_returns_full_length(void)
{
    char buf[6];

    CHECK_INT_EQ(ksnprintf(buf, sizeof buf, "hello world"), 11);
    CHECK_STR_EQ(buf, "hello");
    CHECK_INT_EQ(ksnprintf(buf, sizeof buf, "%d", -123456789), 10);
    CHECK_STR_EQ(buf, "-1234");
    CHECK_INT_EQ(ksnprintf(buf, sizeof buf, "%s", "12345"), 5);
    CHECK_STR_EQ(buf, "12345");
    CHECK_INT_EQ(ksnprintf(buf, sizeof buf, "%s", "123456"), 6);
    CHECK_STR_EQ(buf, "12345");
}

static void size_one_gives_empty_string(void)
{
    char buf[1] = { 'X' };

    CHECK_INT_EQ(ksnprintf(buf, sizeof buf, "%d", 1234), 4);
    CHECK_INT_EQ(buf[0], '\0');
}

static void size_zero_writes_nothing(void)
{
    char buf[1] = { 'X' };

    CHECK_INT_EQ(ksnprintf(buf, 0, "%s", "abc"), 3);
    CHECK_INT_EQ(buf[0], 'X');
    CHECK_INT_EQ(ksnprintf(NULL, 0, "%08x%s", 1u, "abc"), 11);
}

static void never_writes_past_size(void)
{
    char buf[16];

    memset(buf, 'X', sizeof buf);
    CHECK_INT_EQ(ksnprintf(buf, 4, "%-10s|%5d", "ab", 7), 16);
    CHECK_STR_EQ(buf, "ab ");
    for (size_t i = 4; i < sizeof buf; i++)
        CHECK_INT_EQ(buf[i], 'X');
}

static void width_larger_than_buffer(void)
{
    char buf[8];

    CHECK_INT_EQ(ksnprintf(buf, sizeof buf, "%100d", 5), 100);
    CHECK_STR_EQ(buf, "       ");
    CHECK_INT_EQ(ksnprintf(buf, sizeof buf, "%-100d", 5), 100);
    CHECK_STR_EQ(buf, "5      ");
    CHECK_INT_EQ(ksnprintf(buf, sizeof buf, "%.100d", 5), 100);
    CHECK_STR_EQ(buf, "0000000");
}

static void huge_widths_are_counted_not_looped(void)
{
    char buf[8];

    CHECK_INT_EQ(odd_snprintf(buf, sizeof buf, "%2147483647d", 1), 2147483647);
    CHECK_STR_EQ(buf, "       ");
    CHECK_INT_EQ(odd_snprintf(buf, sizeof buf, "%*d", INT32_MIN, 1), 2147483647);
    CHECK_STR_EQ(buf, "1      ");
    /* A width beyond int sticks at INT32_MAX instead of wrapping around. */
    CHECK_INT_EQ(odd_snprintf(buf, sizeof buf, "%99999999999999999999d", 1), 2147483647);
    CHECK_INT_EQ(odd_snprintf(buf, sizeof buf, "%.99999999999999999999d", 1), 2147483647);
}

static void output_longer_than_int_returns_minus_one(void)
{
    char buf[8];

    CHECK_INT_EQ(odd_snprintf(buf, sizeof buf, "%2147483647d%2147483647d", 1, 2), -1);
    CHECK_STR_EQ(buf, "       ");
}

static void signed_conversions_match_libc(void)
{
    static const char *const formats[] = {
        "%d", "%5d", "%-5d|", "%05d", "%.3d", "%8.3d", "%-8.3d|", "%+d", "% d",
        "%+5d", "%-+5d|", "% 05d", "%+.0d", "%.0d", "%12d", "%012d", "%+012d",
    };
    static const int values[] = { 0, 1, -1, 7, -42, 255, 4096, -99999, INT32_MAX, INT32_MIN };

    for (size_t f = 0; f < sizeof formats / sizeof formats[0]; f++)
        for (size_t v = 0; v < sizeof values / sizeof values[0]; v++)
            CHECK_LIKE_LIBC(formats[f], values[v]);
}

static void unsigned_conversions_match_libc(void)
{
    static const char *const formats[] = {
        "%u", "%x", "%X", "%o", "%#x", "%#X", "%#o", "%8x", "%-8x|", "%08x",
        "%#10x", "%#-10x|", "%#010x", "%.5o", "%#.5x", "%#.0x", "%#.0o", "%.0u", "%12o",
    };
    static const unsigned values[] = { 0, 1, 7, 8, 42, 255, 4096, 0x80000000u, UINT32_MAX };

    for (size_t f = 0; f < sizeof formats / sizeof formats[0]; f++)
        for (size_t v = 0; v < sizeof values / sizeof values[0]; v++)
            CHECK_LIKE_LIBC(formats[f], values[v]);
}

static void long_long_conversions_match_libc(void)
{
    static const long long values[] = {
        0, -1, 1234567890123LL, -1234567890123LL, INT64_MAX, INT64_MIN,
    };

    for (size_t v = 0; v < sizeof values / sizeof values[0]; v++) {
        CHECK_LIKE_LIBC("%lld|%30lld|%-30lld|%030lld", values[v], values[v], values[v], values[v]);
        CHECK_LIKE_LIBC("%llx|%#llX|%llo|%llu", (unsigned long long)values[v],
                        (unsigned long long)values[v], (unsigned long long)values[v],
                        (unsigned long long)values[v]);
    }
}

static void string_and_char_conversions_match_libc(void)
{
    CHECK_LIKE_LIBC("[%s|%10s|%-10s|%.3s|%10.3s|%-10.3s]", "irq", "irq", "irq",
                    "irqlab", "irqlab", "irqlab");
    CHECK_LIKE_LIBC("[%c|%5c|%-5c]", 'a', 'b', 'c');
    CHECK_LIKE_LIBC("%s=%d (%#x) %c%%", "vector", 14, 14u, '!');
}

static const struct test tests[] = {
    TEST(plain_text_is_copied),
    TEST(d_and_i_print_signed_decimal),
    TEST(u_x_X_o_print_unsigned),
    TEST(int64_extremes),
    TEST(hh_and_h_truncate_to_char_and_short),
    TEST(z_and_t_modifiers),
    TEST(width_pads_with_spaces),
    TEST(zero_flag_pads_after_the_sign),
    TEST(precision_sets_minimum_digits),
    TEST(precision_zero_with_value_zero_prints_no_digits),
    TEST(plus_and_space_flags),
    TEST(alt_flag_for_hex_and_octal),
    TEST(star_width_and_precision),
    TEST(c_prints_a_character),
    TEST(s_prints_strings_with_width_and_precision),
    TEST(s_precision_does_not_read_past_it),
    TEST(s_null_prints_null),
    TEST(p_prints_16_hex_digits_without_0x),
    TEST(px_is_the_same_as_p),
    TEST(pS_prints_symbol_offset_and_size),
    TEST(ps_prints_just_the_symbol),
    TEST(pS_and_ps_of_unknown_address_print_raw_hex),
    TEST(pS_honours_field_width),
    TEST(pS_truncates_like_everything_else),
    TEST(unknown_conversion_prints_itself),
    TEST(unknown_conversion_consumes_no_argument),
    TEST(format_ending_inside_a_conversion),
    TEST(truncation_returns_full_length),
    TEST(size_one_gives_empty_string),
    TEST(size_zero_writes_nothing),
    TEST(never_writes_past_size),
    TEST(width_larger_than_buffer),
    TEST(huge_widths_are_counted_not_looped),
    TEST(output_longer_than_int_returns_minus_one),
    TEST(signed_conversions_match_libc),
    TEST(unsigned_conversions_match_libc),
    TEST(long_long_conversions_match_libc),
    TEST(string_and_char_conversions_match_libc),
};

int main(void)
{
    return run_tests(tests, sizeof tests / sizeof tests[0]);
}
