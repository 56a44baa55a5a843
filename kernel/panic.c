/* kernel/panic.c: panic(), WARN and BUG reports, and the policy of what a fatal error does to QEMU. */
#include "kernel/panic.h"
#include "kernel/sched.h"
#include "kernel/bug.h"
#include "kernel/printk.h"
#include "kernel/vsprintf.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/dumpstack.h"
#include "arch/x86_64/percpu.h"
#include "drivers/qemu_exit.h"

bool panic_exits_qemu;

/* The panic lines, then exit QEMU with exit_code, or (exit_code 0) halt. */
__attribute__((noreturn)) static void vpanic(unsigned exit_code, const char *fmt, va_list ap)
{
    char buf[256];

    __asm__ volatile("cli");
    console_verbose();
    kvsnprintf(buf, sizeof buf, fmt, ap);
    printk(KERN_EMERG "Kernel panic - not syncing: %s\n", buf);
    printk(KERN_EMERG "---[ end Kernel panic - not syncing: %s ]---\n", buf);
    if (exit_code)
        qemu_exit(exit_code);
    cpu_halt_forever();
}

void panic(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vpanic(panic_exits_qemu ? QEMU_EXIT_FAIL : 0, fmt, ap);
}

void panic_exit(unsigned exit_code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vpanic(exit_code, fmt, ap);
}

unsigned long warn_count;

void __warn_printk(const char *file, int line, const char *fmt, ...)
{
    char buf[256];
    va_list ap;

    va_start(ap, fmt);
    kvsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    printk(KERN_WARNING "------------[ cut here ]------------\n");
    if (buf[0])
        printk(KERN_WARNING "%s\n", buf);
    printk(KERN_WARNING "WARNING: CPU: %u PID: %d at %s:%d %pS\n",
           smp_processor_id(), current_pid(), file, line, __builtin_return_address(0));
    dump_stack();
    printk(KERN_WARNING "---[ end trace 0000000000000000 ]---\n");
    __atomic_fetch_add(&warn_count, 1, __ATOMIC_RELAXED);
}

void __bug(const char *file, int line)
{
    printk(KERN_EMERG "------------[ cut here ]------------\n");
    printk(KERN_EMERG "kernel BUG at %s:%d!\n", file, line);
    /* ud2 raises #UD, whose oops carries the registers and the backtrace,
     * exactly as Linux's BUG() does. */
    __asm__ volatile("ud2");
    __builtin_unreachable();
}
