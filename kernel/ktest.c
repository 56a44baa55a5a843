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

static bool selected(const struct ktest *t, const char *name)
{
    if (strcmp(name, "all") == 0)
        return !t->fatal;
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
