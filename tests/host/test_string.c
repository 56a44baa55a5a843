/* tests/host/test_string.c: host unit tests for kernel/strlcpy.c (kstrlcpy, BSD's strlcpy). */
#include <stdio.h>

#include "kernel/string.h"
#include "tests/host/check.h"

static void copies_a_string_that_fits(void)
{
    char buf[8];

    CHECK_INT_EQ(kstrlcpy(buf, "irq", sizeof buf), 3);
    CHECK_STR_EQ(buf, "irq");
    CHECK_INT_EQ(kstrlcpy(buf, "1234567", sizeof buf), 7);     /* exactly fills buf */
    CHECK_STR_EQ(buf, "1234567");
}

static void truncates_and_returns_source_length(void)
{
    char buf[8];

    CHECK_INT_EQ(kstrlcpy(buf, "12345678", sizeof buf), 8);
    CHECK_STR_EQ(buf, "1234567");
    CHECK_INT_EQ(kstrlcpy(buf, "a much longer string", sizeof buf), 20);
    CHECK_STR_EQ(buf, "a much ");
}

static void empty_source_gives_empty_string(void)
{
    char buf[4] = "xyz";

    CHECK_INT_EQ(kstrlcpy(buf, "", sizeof buf), 0);
    CHECK_STR_EQ(buf, "");
}

static void size_one_writes_only_the_nul(void)
{
    char buf[2] = { 'x', 'y' };

    CHECK_INT_EQ(kstrlcpy(buf, "abc", 1), 3);
    CHECK_INT_EQ(buf[0], '\0');
    CHECK_INT_EQ(buf[1], 'y');
}

static void size_zero_writes_nothing(void)
{
    char buf[1] = { 'x' };

    CHECK_INT_EQ(kstrlcpy(buf, "abc", 0), 3);
    CHECK_INT_EQ(buf[0], 'x');
    CHECK_INT_EQ(kstrlcpy(NULL, "abcd", 0), 4);
}

static void never_writes_past_size(void)
{
    char buf[16];

    memset(buf, '#', sizeof buf);
    kstrlcpy(buf, "hello, world", 6);
    CHECK_STR_EQ(buf, "hello");
    for (size_t i = 6; i < sizeof buf; i++)
        CHECK_INT_EQ(buf[i], '#');
}

static const struct test tests[] = {
    TEST(copies_a_string_that_fits),
    TEST(truncates_and_returns_source_length),
    TEST(empty_source_gives_empty_string),
    TEST(size_one_writes_only_the_nul),
    TEST(size_zero_writes_nothing),
    TEST(never_writes_past_size),
};

int main(void)
{
    return run_tests(tests, sizeof tests / sizeof tests[0]);
}
