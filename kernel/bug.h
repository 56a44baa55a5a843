/* kernel/bug.h: WARN_ON(), WARN_ON_ONCE() and BUG_ON(), with Linux's "cut here" reports. */
#ifndef KERNEL_BUG_H
#define KERNEL_BUG_H

#include <stdbool.h>

/* Print a WARNING report for file:line with a backtrace, and carry on. */
__attribute__((format(printf, 3, 4))) void __warn_printk(const char *file, int line, const char *fmt, ...);

#define WARN(cond, fmt, ...) ({                                                \
    bool warn__ = !!(cond);                                                    \
    if (__builtin_expect(warn__, 0))                                           \
        __warn_printk(__FILE__, __LINE__, fmt, ##__VA_ARGS__);                 \
    warn__; })

#define WARN_ON(cond) WARN(cond, "%s", "")

/* Warn the first time cond holds at this call site; stay quiet after that. */
#define WARN_ONCE(cond, fmt, ...) ({                                           \
    static bool warned__;                                                      \
    bool warn__ = !!(cond);                                                    \
    if (__builtin_expect(warn__, 0) && !warned__) {                            \
        warned__ = true;                                                       \
        __warn_printk(__FILE__, __LINE__, fmt, ##__VA_ARGS__);                 \
    }                                                                          \
    warn__; })

#define WARN_ON_ONCE(cond) WARN_ONCE(cond, "%s", "")

/* For broken invariants the system cannot survive: an oops at this line. */
__attribute__((noreturn)) void __bug(const char *file, int line);
#define BUG() __bug(__FILE__, __LINE__)
#define BUG_ON(cond) do { if (__builtin_expect(!!(cond), 0)) BUG(); } while (0)

#endif
