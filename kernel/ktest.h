/* kernel/ktest.h: in-kernel test cases that report in KTAP, selected with test=all or test=NAME. */
#ifndef KERNEL_KTEST_H
#define KERNEL_KTEST_H

#include <stdbool.h>
#include <stddef.h>

struct ktest;
typedef void (*ktest_fn)(struct ktest *t);

/* KUnit's speed attribute (include/kunit/attributes.h), slowest first; a
 * case that does not say is normal. KUnit calls a case slow when it takes
 * over a second. */
enum ktest_speed { KTEST_SPEED_UNSET, KTEST_SPEED_VERY_SLOW, KTEST_SPEED_SLOW, KTEST_SPEED_NORMAL };

/*
 * A test case. KTEST() puts one in the .ktests section (linker.ld), so a
 * new test is one function in tests/kernel/ and nothing else to register.
 * A `fatal` case ends the machine on purpose (a deliberate fault): it runs
 * only when named alone, never as part of test=all. KTEST_SLOW() marks a
 * case that waits seconds of guest time (KUnit's KUNIT_CASE_SLOW), so that
 * ktest.filter=speed>slow can leave it out.
 */
struct ktest {
    const char *name;
    ktest_fn fn;
    bool fatal;
    enum ktest_speed speed;
    bool failed;                /* set by KTEST_EXPECT while the case runs */
    const char *skip_reason;    /* set by ktest_skip(): reported "ok N name # SKIP reason" */
};

#define KTEST_DEFINE(tname, is_fatal, tspeed)                                  \
    static void ktest_fn_##tname(struct ktest *t);                             \
    __attribute__((used, section(".ktests"), aligned(8)))                      \
    static struct ktest ktest_##tname = { #tname, ktest_fn_##tname, is_fatal, tspeed, false, NULL }; \
    static void ktest_fn_##tname(struct ktest *t)

#define KTEST(name)       KTEST_DEFINE(name, false, KTEST_SPEED_UNSET)
#define KTEST_SLOW(name)  KTEST_DEFINE(name, false, KTEST_SPEED_SLOW)
#define KTEST_FATAL(name) KTEST_DEFINE(name, true, KTEST_SPEED_UNSET)

/* ktest.filter=: KUnit's attribute filter, e.g. "speed>slow"; empty: no filter. */
extern char param_ktest_filter[32];
/* Is `value` a filter ktest understands: speed, one of < <= > >= = !=, and very_slow, slow or normal? */
bool ktest_filter_valid(const char *value);

/* Record a failure (with a KTAP "# " diagnostic naming the line) if cond is false. */
#define KTEST_EXPECT(t, cond) \
    ktest_expect((t), (cond), __FILE__, __LINE__, #cond)
#define KTEST_EXPECT_MSG(t, cond, fmt, ...) \
    ktest_expectf((t), (cond), __FILE__, __LINE__, fmt, ##__VA_ARGS__)

bool ktest_expect(struct ktest *t, bool ok, const char *file, int line, const char *what);
__attribute__((format(printf, 5, 6)))
bool ktest_expectf(struct ktest *t, bool ok, const char *file, int line, const char *fmt, ...);

/* The case cannot run here (e.g. it needs more CPUs): KTAP "# SKIP reason". */
void ktest_skip(struct ktest *t, const char *reason);

/* Is `name` "all" or a test case? */
bool ktest_valid_name(const char *name);
/* Comma-separated names of every case, for messages that list what is valid. */
void ktest_list(char *buf, unsigned long size);

/* Run "all" (every non-fatal case) or one named case, print KTAP, exit QEMU with pass/fail. */
__attribute__((noreturn)) void ktest_run(const char *name);

#endif
