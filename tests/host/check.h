/* tests/host/check.h: a tiny unit-test framework for the host tests, reporting in KTAP. */
#ifndef TESTS_HOST_CHECK_H
#define TESTS_HOST_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/*
 * A test is a void function using the CHECK macros below, and main lists
 * the tests explicitly:
 *
 *     static void vsprintf_zero(void) { CHECK_INT_EQ(ksnprintf(buf, 8, "%d", 0), 1); }
 *     static const struct test tests[] = { TEST(vsprintf_zero), ... };
 *     int main(void) { return run_tests(tests, sizeof tests / sizeof tests[0]); }
 *
 * The output is KTAP (https://docs.kernel.org/dev-tools/ktap.html):
 * "KTAP version 1", the plan "1..N", then "ok N name" or "not ok N name"
 * per test. A failing CHECK prints a "# file:line: ..." line saying what it
 * expected and what it got, marks the running test as failed, and lets the
 * test carry on so one run shows every failure.
 */
struct test {
    const char *name;
    void (*fn)(void);
};

#define TEST(fn) { #fn, fn }

static bool check_failed;               /* whether a CHECK in the running test failed */

#define CHECK(cond) check_true((cond), #cond, __FILE__, __LINE__)
#define CHECK_INT_EQ(got, want) check_int_eq((got), (want), #got, __FILE__, __LINE__)
#define CHECK_HEX_EQ(got, want) check_hex_eq((got), (want), #got, __FILE__, __LINE__)
#define CHECK_STR_EQ(got, want) check_str_eq((got), (want), #got, __FILE__, __LINE__)

static inline void check_true(bool ok, const char *expr, const char *file, int line)
{
    if (!ok) {
        printf("# %s:%d: expected %s to be true, but it is false\n", file, line, expr);
        check_failed = true;
    }
}

static inline void check_int_eq(long long got, long long want, const char *expr,
                                const char *file, int line)
{
    if (got != want) {
        printf("# %s:%d: expected %s to be %lld, got %lld\n", file, line, expr, want, got);
        check_failed = true;
    }
}

/* For unsigned 64-bit values such as addresses, which read best in hex. */
static inline void check_hex_eq(unsigned long long got, unsigned long long want,
                                const char *expr, const char *file, int line)
{
    if (got != want) {
        printf("# %s:%d: expected %s to be %#llx, got %#llx\n", file, line, expr, want, got);
        check_failed = true;
    }
}

/* Either string may be NULL; two NULLs are equal. */
static inline void check_str_eq(const char *got, const char *want, const char *expr,
                                const char *file, int line)
{
    bool equal = (got == NULL || want == NULL) ? got == want : strcmp(got, want) == 0;

    if (!equal) {
        printf("# %s:%d: expected %s to be \"%s\", got \"%s\"\n", file, line, expr,
               want ? want : "(NULL)", got ? got : "(NULL)");
        check_failed = true;
    }
}

/* Run every test, print the KTAP report, and return main's exit status:
 * 0 if all passed, 1 otherwise. */
static inline int run_tests(const struct test *tests, size_t n)
{
    size_t failures = 0;

    /* Line-buffered, so that if a sanitizer kills a test the lines before it are not lost. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("KTAP version 1\n1..%zu\n", n);
    for (size_t i = 0; i < n; i++) {
        check_failed = false;
        tests[i].fn();
        printf("%s %zu %s\n", check_failed ? "not ok" : "ok", i + 1, tests[i].name);
        if (check_failed)
            failures++;
    }
    printf("# %zu passed, %zu failed\n", n - failures, failures);
    return failures == 0 ? 0 : 1;
}

#endif
