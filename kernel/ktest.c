/* kernel/ktest.c: runs the in-kernel test cases and prints KTAP for the QEMU harness. */
#include "kernel/ktest.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "kernel/vsprintf.h"
#include "drivers/qemu_exit.h"

extern struct ktest __ktests_start[], __ktests_end[];   /* linker.ld */

bool ktest_expect(struct ktest *t, bool ok, const char *file, int line, const char *what)
{
    if (!ok) {
        t->failed = true;
        printk("    # %s:%d: expected %s\n", file, line, what);
    }
    return ok;
}

bool ktest_expectf(struct ktest *t, bool ok, const char *file, int line, const char *fmt, ...)
{
    if (!ok) {
        char buf[256];
        va_list ap;
        va_start(ap, fmt);
        kvsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        t->failed = true;
        printk("    # %s:%d: %s\n", file, line, buf);
    }
    return ok;
}

void ktest_skip(struct ktest *t, const char *reason)
{
    t->skip_reason = reason;
}

static struct ktest *ktest_find(const char *name)
{
    for (struct ktest *t = __ktests_start; t < __ktests_end; t++)
        if (strcmp(t->name, name) == 0)
            return t;
    return NULL;
}

bool ktest_valid_name(const char *name)
{
    return strcmp(name, "all") == 0 || ktest_find(name) != NULL;
}

void ktest_list(char *buf, unsigned long size)
{
    unsigned long used = (unsigned long)ksnprintf(buf, size, "all");

    for (struct ktest *t = __ktests_start; t < __ktests_end && used < size; t++)
        used += (unsigned long)ksnprintf(buf + used, size - used, ", %s", t->name);
}

char param_ktest_filter[32];

static const char *const speed_names[] = {
    [KTEST_SPEED_VERY_SLOW] = "very_slow", [KTEST_SPEED_SLOW] = "slow", [KTEST_SPEED_NORMAL] = "normal",
};

/*
 * Parse "speed OP VALUE" (KUnit's kunit.filter= for its one ordered
 * attribute). Returns false if `filter` is not one; else sets *op to the
 * operator's text ("<", "<=", ">", ">=", "=", "!=") and *speed.
 */
static bool parse_filter(const char *filter, char op[3], enum ktest_speed *speed)
{
    static const char *const ops[] = { "<=", ">=", "!=", "<", ">", "=" };   /* two-character ones first */

    if (strncmp(filter, "speed", 5) != 0)
        return false;
    filter += 5;
    for (unsigned i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        unsigned long n = strlen(ops[i]);
        if (strncmp(filter, ops[i], n) != 0)
            continue;
        for (int s = KTEST_SPEED_VERY_SLOW; s <= KTEST_SPEED_NORMAL; s++) {
            if (strcmp(filter + n, speed_names[s]) == 0) {
                kstrlcpy(op, ops[i], 3);
                *speed = (enum ktest_speed)s;
                return true;
            }
        }
        return false;
    }
    return false;
}

bool ktest_filter_valid(const char *value)
{
    char op[3];
    enum ktest_speed speed;

    return parse_filter(value, op, &speed);
}

/* Does case `t` pass ktest.filter=? (An unset speed counts as normal, as in KUnit.) */
static bool filter_passes(const struct ktest *t)
{
    char op[3];
    enum ktest_speed want;
    int have = t->speed == KTEST_SPEED_UNSET ? KTEST_SPEED_NORMAL : (int)t->speed;

    if (!param_ktest_filter[0] || !parse_filter(param_ktest_filter, op, &want))
        return true;
    if (strcmp(op, "<") == 0)
        return have < (int)want;
    if (strcmp(op, "<=") == 0)
        return have <= (int)want;
    if (strcmp(op, ">") == 0)
        return have > (int)want;
    if (strcmp(op, ">=") == 0)
        return have >= (int)want;
    if (strcmp(op, "=") == 0)
        return have == (int)want;
    return have != (int)want;
}

/* test=all: every case that is not fatal and passes the filter; test=NAME: that case, whatever the filter. */
static bool selected(const struct ktest *t, const char *name)
{
    if (strcmp(name, "all") == 0)
        return !t->fatal && filter_passes(t);
    return strcmp(t->name, name) == 0;
}

void ktest_run(const char *name)
{
    int total = 0, failed = 0, n = 0;

    for (struct ktest *t = __ktests_start; t < __ktests_end; t++)
        total += selected(t, name);

    printk("KTAP version 1\n");
    printk("1..%d\n", total);
    for (struct ktest *t = __ktests_start; t < __ktests_end; t++) {
        if (!selected(t, name))
            continue;
        n++;
        if (t->fatal)
            printk("# %s: this case ends the machine on purpose (an oops, or a detector's stop)\n", t->name);
        t->failed = false;
        t->skip_reason = NULL;
        t->fn(t);
        if (t->skip_reason && !t->failed)
            printk("ok %d %s # SKIP %s\n", n, t->name, t->skip_reason);
        else
            printk("%s %d %s\n", t->failed ? "not ok" : "ok", n, t->name);
        failed += t->failed;
    }
    printk("# irqlab ktest: %d passed, %d failed\n", total - failed, failed);
    qemu_exit(failed ? QEMU_EXIT_FAIL : QEMU_EXIT_PASS);
}
