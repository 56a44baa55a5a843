/* tests/host/test_cmdline.c: host unit tests for kernel/cmdline.c (the kernel command-line parser). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "kernel/cmdline.h"
#include "kernel/string.h"
#include "tests/host/check.h"

/* The parameters the tests parse into, reset to their defaults before each parse. */
static int lab;
static int loglevel;
static int offset;
static char test[16];
static bool verbose;

static bool is_test_name(const char *value)
{
    return strcmp(value, "all") == 0 || strcmp(value, "smoke") == 0 ||
           strcmp(value, "fault_divide") == 0;
}

static const struct kparam params[] = {
    { .key = "lab", .type = KPARAM_INT, .dest = &lab, .min = 0, .max = 9 },
    { .key = "test", .type = KPARAM_STRING, .dest = test, .dest_size = sizeof test,
      .valid = is_test_name, .valid_desc = "all, smoke, fault_divide" },
    { .key = "loglevel", .type = KPARAM_INT, .dest = &loglevel, .min = 0, .max = 7,
      .valid_desc = "0-7" },
    { .key = "offset", .type = KPARAM_INT, .dest = &offset, .min = -1000, .max = 0x7fffffff },
    { .key = "verbose", .type = KPARAM_BOOL, .dest = &verbose },
};
#define NPARAMS (sizeof params / sizeof params[0])

/* The messages reported by the last parse. */
#define MAX_MSGS 8
static char msgs[MAX_MSGS][600];
static int nmsgs;

static void record(void *ctx, const char *msg)
{
    int *calls = ctx;

    (*calls)++;
    if (nmsgs < MAX_MSGS)
        kstrlcpy(msgs[nmsgs++], msg, sizeof msgs[0]);
}

/* Reset every parameter to its default, parse cmdline, and check the
 * report callback was called once per problem counted. */
static int parse(const char *cmdline)
{
    int calls = 0;

    lab = 1;
    loglevel = 4;
    offset = 0;
    kstrlcpy(test, "none", sizeof test);
    verbose = false;
    nmsgs = 0;
    memset(msgs, 0, sizeof msgs);

    int problems = cmdline_parse(cmdline, params, NPARAMS, record, &calls);
    CHECK_INT_EQ(calls, problems);
    return problems;
}

static void empty_and_null_cmdline_change_nothing(void)
{
    CHECK_INT_EQ(parse(""), 0);
    CHECK_INT_EQ(parse(NULL), 0);
    CHECK_INT_EQ(parse("   \t  \n"), 0);
    CHECK_INT_EQ(lab, 1);
    CHECK_STR_EQ(test, "none");
}

static void sets_every_type(void)
{
    CHECK_INT_EQ(parse("lab=3 test=smoke loglevel=7 verbose=yes offset=-1000"), 0);
    CHECK_INT_EQ(lab, 3);
    CHECK_STR_EQ(test, "smoke");
    CHECK_INT_EQ(loglevel, 7);
    CHECK(verbose);
    CHECK_INT_EQ(offset, -1000);
}

static void blanks_between_tokens(void)
{
    CHECK_INT_EQ(parse("  lab=2\t\tloglevel=5 \n verbose=1  "), 0);
    CHECK_INT_EQ(lab, 2);
    CHECK_INT_EQ(loglevel, 5);
    CHECK(verbose);
}

static void int_accepts_hex(void)
{
    CHECK_INT_EQ(parse("lab=0x9 offset=0x7fffffff"), 0);
    CHECK_INT_EQ(lab, 9);
    CHECK_INT_EQ(offset, 0x7fffffff);
    CHECK_INT_EQ(parse("offset=-0X10"), 0);
    CHECK_INT_EQ(offset, -16);
}

static void int_out_of_range(void)
{
    CHECK_INT_EQ(parse("loglevel=8"), 1);
    CHECK_STR_EQ(msgs[0], "cmdline: bad value '8' for 'loglevel'; valid: 0-7");
    CHECK_INT_EQ(loglevel, 4);
    CHECK_INT_EQ(parse("offset=-1001"), 1);
    CHECK_STR_EQ(msgs[0], "cmdline: bad value '-1001' for 'offset'; valid: -1000-2147483647");
}

static void int_without_valid_desc_shows_range(void)
{
    CHECK_INT_EQ(parse("lab=10"), 1);
    CHECK_STR_EQ(msgs[0], "cmdline: bad value '10' for 'lab'; valid: 0-9");
}

static void int_rejects_junk(void)
{
    static const char *const bad[] = {
        "lab=x", "lab=3x", "lab=\" 3\"", "lab=0x", "lab=-", "lab=+3", "lab=3.0",
        "lab=0xg", "lab=09a", "lab=--1", "lab=0x-1",
    };

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_INT_EQ(parse(bad[i]), 1);
        CHECK_INT_EQ(lab, 1);
    }
    parse("lab=3x");
    CHECK_STR_EQ(msgs[0], "cmdline: bad value '3x' for 'lab'; valid: 0-9");
}

static void int_rejects_overflow(void)
{
    CHECK_INT_EQ(parse("offset=99999999999999999999999"), 1);
    CHECK_INT_EQ(parse("offset=9223372036854775808"), 1);
    CHECK_INT_EQ(parse("offset=0x10000000000000000"), 1);
    CHECK_INT_EQ(parse("offset=-9223372036854775809"), 1);
    CHECK_INT_EQ(offset, 0);
    /* Fits in 64 bits but not in the range. */
    CHECK_INT_EQ(parse("offset=9223372036854775807"), 1);
    CHECK_INT_EQ(parse("offset=4294967296"), 1);
    CHECK_INT_EQ(offset, 0);
}

static void bool_accepts_all_spellings(void)
{
    static const char *const yes[] = { "verbose=1", "verbose=on", "verbose=yes", "verbose=true" };
    static const char *const no[] = { "verbose=0", "verbose=off", "verbose=no", "verbose=false" };

    for (size_t i = 0; i < 4; i++) {
        CHECK_INT_EQ(parse(yes[i]), 0);
        CHECK(verbose);
        verbose = true;
        CHECK_INT_EQ(cmdline_parse(no[i], params, NPARAMS, NULL, NULL), 0);
        CHECK(!verbose);
    }
}

static void bool_rejects_others(void)
{
    CHECK_INT_EQ(parse("verbose=2"), 1);
    CHECK_STR_EQ(msgs[0],
                 "cmdline: bad value '2' for 'verbose'; valid: 0, 1, on, off, yes, no, true, false");
    CHECK_INT_EQ(parse("verbose=YES"), 1);
    CHECK(!verbose);
}

static void string_checked_by_valid_callback(void)
{
    CHECK_INT_EQ(parse("test=fault_divide"), 0);
    CHECK_STR_EQ(test, "fault_divide");
    CHECK_INT_EQ(parse("test=bogus"), 1);
    CHECK_STR_EQ(msgs[0], "cmdline: bad value 'bogus' for 'test'; valid: all, smoke, fault_divide");
    CHECK_STR_EQ(test, "none");
}

static void string_too_long_is_reported_not_truncated(void)
{
    static char name[16];
    static const struct kparam p[] = {
        { .key = "name", .type = KPARAM_STRING, .dest = name, .dest_size = sizeof name },
    };
    int calls = 0;

    nmsgs = 0;
    kstrlcpy(name, "default", sizeof name);
    CHECK_INT_EQ(cmdline_parse("name=0123456789abcdef", p, 1, record, &calls), 1);
    CHECK_STR_EQ(msgs[0], "cmdline: value for 'name' is too long (at most 15 characters)");
    CHECK_STR_EQ(name, "default");
    CHECK_INT_EQ(cmdline_parse("name=0123456789abcde", p, 1, record, &calls), 0);
    CHECK_STR_EQ(name, "0123456789abcde");
}

static void given_flag_marks_valid_values_only(void)
{
    static int level = 7;
    static bool given;
    static const struct kparam p[] = {
        { .key = "level", .type = KPARAM_INT, .dest = &level, .min = 0, .max = 9, .given = &given },
    };

    given = false;
    CHECK_INT_EQ(cmdline_parse("level=x", p, 1, NULL, NULL), 1);
    CHECK(!given);                      /* a bad value leaves the default, not given */
    CHECK_INT_EQ(cmdline_parse("level=7", p, 1, NULL, NULL), 0);
    CHECK(given);                       /* given, even though it equals the default */
    CHECK_INT_EQ(level, 7);
}

static void refused_flag_marks_named_but_refused(void)
{
    static char name[8];
    static uint64_t addr;
    static bool refused, addr_refused;
    static const struct kparam p[] = {
        { .key = "name", .type = KPARAM_STRING, .dest = name, .dest_size = sizeof name, .refused = &refused },
        { .key = "addr", .type = KPARAM_U64, .dest = &addr, .min = 1, .refused = &addr_refused },
    };
    static const char *const bad[] = { "name=", "name=\"x", "name=0123456789", "name=\"" };

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        refused = false;
        CHECK_INT_EQ(cmdline_parse(bad[i], p, 2, NULL, NULL), 1);
        CHECK(refused);
    }
    refused = false;
    CHECK_INT_EQ(cmdline_parse("name=ok", p, 2, NULL, NULL), 0);
    CHECK(!refused);
    CHECK_INT_EQ(cmdline_parse("addr=0", p, 2, NULL, NULL), 1);     /* below .min: a u64 has one too */
    CHECK(addr_refused);
    CHECK_INT_EQ(addr, 0);
    CHECK_INT_EQ(cmdline_parse("addr=0x4000000", p, 2, NULL, NULL), 0);
    CHECK_INT_EQ(addr, 0x4000000);
}

static void quoted_value_keeps_spaces(void)
{
    static char title[32];
    static const struct kparam p[] = {
        { .key = "title", .type = KPARAM_STRING, .dest = title, .dest_size = sizeof title },
        { .key = "lab", .type = KPARAM_INT, .dest = &lab, .min = 0, .max = 9 },
    };

    CHECK_INT_EQ(cmdline_parse("title=\"hello  world\" lab=\"4\"", p, 2, NULL, NULL), 0);
    CHECK_STR_EQ(title, "hello  world");
    CHECK_INT_EQ(lab, 4);
    CHECK_INT_EQ(cmdline_parse("\"title=a b\"", p, 2, NULL, NULL), 0);
    CHECK_STR_EQ(title, "a b");
    CHECK_INT_EQ(cmdline_parse("title=\"\"", p, 2, NULL, NULL), 1);   /* empty: no value */
}

static void unterminated_quote_is_reported(void)
{
    CHECK_INT_EQ(parse("lab=2 test=\"smoke loglevel=1"), 1);
    CHECK_STR_EQ(msgs[0], "cmdline: unterminated quote in 'test=\"smoke loglevel=1'");
    CHECK_INT_EQ(lab, 2);
    CHECK_STR_EQ(test, "none");
    CHECK_INT_EQ(loglevel, 4);
    CHECK_INT_EQ(parse("\""), 1);
    CHECK_STR_EQ(msgs[0], "cmdline: unterminated quote in '\"'");
}

static void unknown_parameter_lists_valid_ones(void)
{
    CHECK_INT_EQ(parse("foo=1"), 1);
    CHECK_STR_EQ(msgs[0], "cmdline: unknown parameter 'foo'; "
                          "valid parameters: lab, test, loglevel, offset, verbose");
    CHECK_INT_EQ(parse("=3"), 1);
    CHECK_STR_EQ(msgs[0], "cmdline: unknown parameter ''; "
                          "valid parameters: lab, test, loglevel, offset, verbose");
    CHECK_INT_EQ(parse("LAB=3"), 1);        /* keys are case-sensitive */
}

static void parameter_without_value(void)
{
    CHECK_INT_EQ(parse("lab"), 1);
    CHECK_STR_EQ(msgs[0], "cmdline: parameter 'lab' needs a value (lab=...)");
    CHECK_INT_EQ(parse("verbose="), 1);
    CHECK_STR_EQ(msgs[0], "cmdline: parameter 'verbose' needs a value (verbose=...)");
    CHECK(!verbose);
}

static void duplicate_parameter_last_one_wins(void)
{
    CHECK_INT_EQ(parse("test=smoke lab=2 test=all"), 1);
    CHECK_STR_EQ(msgs[0], "cmdline: duplicate parameter 'test'; using the last one");
    CHECK_STR_EQ(test, "all");
    CHECK_INT_EQ(parse("lab=2 lab=3 lab=4"), 2);
    CHECK_INT_EQ(lab, 4);
}

static void value_may_contain_equals_sign(void)
{
    static char arg[32];
    static const struct kparam p[] = {
        { .key = "arg", .type = KPARAM_STRING, .dest = arg, .dest_size = sizeof arg },
    };

    CHECK_INT_EQ(cmdline_parse("arg=a=b", p, 1, NULL, NULL), 0);
    CHECK_STR_EQ(arg, "a=b");
}

static void kernel_path_first_is_skipped(void)
{
    CHECK_INT_EQ(parse("/boot/irqlab.elf lab=5"), 0);
    CHECK_INT_EQ(lab, 5);
    CHECK_INT_EQ(parse("build/irqlab.elf"), 0);
}

static void path_later_is_unknown(void)
{
    CHECK_INT_EQ(parse("lab=5 /boot/irqlab.elf"), 1);
    CHECK_STR_EQ(msgs[0], "cmdline: unknown parameter '/boot/irqlab.elf'; "
                          "valid parameters: lab, test, loglevel, offset, verbose");
    /* A first token with '=' is a parameter, even with a '/'. */
    CHECK_INT_EQ(parse("dir=/x"), 1);
}

static void first_token_without_slash_is_a_parameter(void)
{
    CHECK_INT_EQ(parse("irqlab.elf lab=5"), 1);
    CHECK_INT_EQ(lab, 5);
}

static void overlong_token_is_reported(void)
{
    char line[400];

    memset(line, 'a', 300);
    strcpy(line + 300, " lab=6");
    CHECK_INT_EQ(parse(line), 1);
    CHECK_STR_EQ(msgs[0], "cmdline: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' is too long "
                          "(at most 255 characters)");
    CHECK_INT_EQ(lab, 6);
}

static void token_of_exactly_max_length_is_accepted(void)
{
    static char big[CMDLINE_TOKEN_MAX + 1];
    static const struct kparam p[] = {
        { .key = "big", .type = KPARAM_STRING, .dest = big, .dest_size = sizeof big },
    };
    char line[CMDLINE_TOKEN_MAX + 2];

    memcpy(line, "big=", 4);
    memset(line + 4, 'x', CMDLINE_TOKEN_MAX - 4);
    line[CMDLINE_TOKEN_MAX] = '\0';
    CHECK_INT_EQ(cmdline_parse(line, p, 1, NULL, NULL), 0);
    CHECK_INT_EQ((long long)strlen(big), CMDLINE_TOKEN_MAX - 4);
    line[CMDLINE_TOKEN_MAX] = 'x';                  /* one more character */
    line[CMDLINE_TOKEN_MAX + 1] = '\0';
    CHECK_INT_EQ(cmdline_parse(line, p, 1, NULL, NULL), 1);
}

static void problems_are_all_counted(void)
{
    CHECK_INT_EQ(parse("foo lab=99 test verbose=maybe lab=2 \"x"), 6);
    CHECK_INT_EQ(nmsgs, 6);
    CHECK_INT_EQ(lab, 2);                       /* the good one still applies */
}

static void null_report_callback_only_counts(void)
{
    CHECK_INT_EQ(cmdline_parse("foo=1 lab=x", params, NPARAMS, NULL, NULL), 2);
}

static void too_many_parameters_in_table(void)
{
    static struct kparam big[KPARAM_MAX + 1];
    int calls = 0;

    nmsgs = 0;
    for (size_t i = 0; i < KPARAM_MAX + 1; i++)
        big[i] = params[0];
    CHECK_INT_EQ(cmdline_parse("lab=1", big, KPARAM_MAX + 1, record, &calls), 1);
    CHECK_STR_EQ(msgs[0], "cmdline: 33 parameters in the table, more than KPARAM_MAX (32)");
}

static void ten_kilobytes_of_junk_does_not_crash(void)
{
    static char junk[10 * 1024 + 1];
    uint32_t x = 12345;

    /* A simple xorshift generator makes the same junk every run. */
    for (int round = 0; round < 50; round++) {
        for (size_t i = 0; i < sizeof junk - 1; i++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            /* Bias toward the characters the parser cares about. */
            static const char interesting[] = " \t\"=/lab0x9-";
            junk[i] = (x % 3 == 0) ? interesting[(x >> 8) % (sizeof interesting - 1)]
                                   : (char)(1 + (x >> 16) % 255);
        }
        junk[sizeof junk - 1] = '\0';
        int problems = parse(junk);
        CHECK(problems >= 0);
        CHECK(lab >= 0 && lab <= 9);
        CHECK(loglevel >= 0 && loglevel <= 7);
        CHECK(strlen(test) < sizeof test);
    }
}

static const struct test tests[] = {
    TEST(empty_and_null_cmdline_change_nothing),
    TEST(sets_every_type),
    TEST(blanks_between_tokens),
    TEST(int_accepts_hex),
    TEST(int_out_of_range),
    TEST(int_without_valid_desc_shows_range),
    TEST(int_rejects_junk),
    TEST(int_rejects_overflow),
    TEST(bool_accepts_all_spellings),
    TEST(bool_rejects_others),
    TEST(string_checked_by_valid_callback),
    TEST(string_too_long_is_reported_not_truncated),
    TEST(given_flag_marks_valid_values_only),
    TEST(refused_flag_marks_named_but_refused),
    TEST(quoted_value_keeps_spaces),
    TEST(unterminated_quote_is_reported),
    TEST(unknown_parameter_lists_valid_ones),
    TEST(parameter_without_value),
    TEST(duplicate_parameter_last_one_wins),
    TEST(value_may_contain_equals_sign),
    TEST(kernel_path_first_is_skipped),
    TEST(path_later_is_unknown),
    TEST(first_token_without_slash_is_a_parameter),
    TEST(overlong_token_is_reported),
    TEST(token_of_exactly_max_length_is_accepted),
    TEST(problems_are_all_counted),
    TEST(null_report_callback_only_counts),
    TEST(too_many_parameters_in_table),
    TEST(ten_kilobytes_of_junk_does_not_crash),
};

int main(void)
{
    return run_tests(tests, sizeof tests / sizeof tests[0]);
}
