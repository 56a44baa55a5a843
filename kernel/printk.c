/* kernel/printk.c: formats kernel messages and writes them, whole lines at a time, to the serial console and the log buffer. */
#include "kernel/printk.h"
#include "kernel/hardirq.h"
#include "kernel/vsprintf.h"
#include "kernel/time.h"
#include "drivers/serial.h"
#include "arch/x86_64/percpu.h"

#include <stdbool.h>

int console_loglevel = CONSOLE_LOGLEVEL_DEFAULT;

/* Linux's CONSOLE_LOGLEVEL_MOTORMOUTH: above every level, KERN_DEBUG included. */
#define CONSOLE_LOGLEVEL_MOTORMOUTH 15

void console_verbose(void)
{
    console_loglevel = CONSOLE_LOGLEVEL_MOTORMOUTH;
}

/*
 * One CPU writes at a time so lines from different CPUs never interleave.
 * The lock remembers its owner: an exception or NMI that arrives while its
 * own CPU is in the middle of a printk must still be able to report, so the
 * owner may re-enter (Linux's printk has the same escape for NMIs and oopses).
 */
static volatile int console_owner = -1;

static bool console_lock(void)
{
    int me = (int)smp_processor_id();

    if (console_owner == me)
        return false;                       /* nested: do not take it again */
    while (!__atomic_compare_exchange_n(&console_owner, &(int){-1}, me, false,
                                        __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        __asm__ volatile("pause");
    return true;
}

static void console_unlock(bool taken)
{
    if (taken)
        __atomic_store_n(&console_owner, -1, __ATOMIC_RELEASE);
}

/* Whether the next character starts a new line (and so needs the prefix). */
static bool at_line_start = true;

/*
 * The log buffer (Linux's __log_buf): every byte the console printed, in a
 * ring, so that a debugger attached after the fact can read what the serial
 * console showed (scripts/gdb/irqlab.py, il-dmesg). log_buf_next counts
 * every byte ever written; the last LOG_BUF_LEN of them are in the ring.
 * Written under the console lock, so by one CPU at a time.
 */
char log_buf[LOG_BUF_LEN];
unsigned long log_buf_next;

/* Write to the log buffer and the serial line. */
static void console_write(const char *s, int len)
{
    for (int i = 0; i < len; i++)
        log_buf[log_buf_next++ % LOG_BUF_LEN] = s[i];
    serial_write(s, (unsigned long)len);
}

/*
 * Linux's line prefix with CONFIG_PRINTK_TIME and CONFIG_PRINTK_CALLER:
 * "[%5lu.%06lu]" seconds.microseconds since boot, then "[%6s]" the caller,
 * then one space: "[    5.034954][    C0] ". Linux names a task caller
 * "T<pid>" and an interrupt-context caller "C<cpu>"; irqlab always names
 * the CPU, because which CPU said something is what its labs are about.
 * The time is when printk() was called, so every line of one message
 * carries the same stamp, as in Linux; it is 0 until the TSC is calibrated.
 */
static int printk_prefix(char *buf, int size, uint64_t ns, unsigned cpu)
{
    char caller[12];

    ksnprintf(caller, sizeof caller, "C%u", cpu);
    return ksnprintf(buf, (unsigned long)size, "[%5lu.%06lu][%6s] ", (unsigned long)(ns / NSEC_PER_SEC),
                     (unsigned long)(ns % NSEC_PER_SEC / NSEC_PER_USEC), caller);
}

/*
 * Write len bytes of one message. prefixed: start each line with the
 * printk prefix (kernel messages); otherwise not (the monitor's answers).
 * cont: the message continues the current line instead of starting one.
 */
static void console_emit(const char *s, int len, bool cont, bool prefixed, uint64_t ns)
{
    unsigned cpu = smp_processor_id();

    if (!cont && !at_line_start) {
        console_write("\n", 1);            /* a new message always starts a line */
        at_line_start = true;
    }
    for (int i = 0; i < len; i++) {
        if (at_line_start && prefixed) {
            char prefix[40];
            console_write(prefix, printk_prefix(prefix, sizeof prefix, ns, cpu));
        }
        console_write(&s[i], 1);
        at_line_start = (s[i] == '\n');
    }
}

/*
 * Format and write one message: the levels and KERN_CONT at the start of
 * fmt are read as printk() reads them; the message is dropped when its
 * level is not below console_loglevel, unless loud.
 */
static int console_vprintf(const char *fmt, va_list ap, bool prefixed, bool loud)
{
    char buf[1024];
    int level = LOGLEVEL_DEFAULT;
    bool cont = false;
    uint64_t ns = ktime_get_ns();

    while (fmt[0] == KERN_SOH[0] && fmt[1] != '\0') {
        if (fmt[1] >= '0' && fmt[1] <= '7')
            level = fmt[1] - '0';
        else if (fmt[1] == 'c')
            cont = true;
        fmt += 2;
    }
    int len = kvsnprintf(buf, sizeof buf, fmt, ap);
    if (len >= (int)sizeof buf)
        len = sizeof buf - 1;               /* truncated: print what fits */
    if (!loud && level >= console_loglevel)
        return len;

    /* The console lock belongs to a CPU, so the task holding it must not be
     * preempted by another task on this CPU that prints too. */
    preempt_disable();
    bool taken = console_lock();
    console_emit(buf, len, cont, prefixed, ns);
    console_unlock(taken);
    preempt_enable();
    return len;
}

int vprintk(const char *fmt, va_list ap)
{
    return console_vprintf(fmt, ap, true, false);
}

int vconsole_printf(const char *fmt, va_list ap)
{
    return console_vprintf(fmt, ap, false, true);
}

int printk(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vprintk(fmt, ap);
    va_end(ap);
    return n;
}
