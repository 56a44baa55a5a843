/* kernel/printk.h: printk with Linux's log levels, and the pr_*() shorthands. */
#ifndef KERNEL_PRINTK_H
#define KERNEL_PRINTK_H

#include <stdarg.h>

/* A level is "\001" followed by a digit at the start of the format, as in Linux. */
#define KERN_SOH     "\001"
#define KERN_EMERG   KERN_SOH "0"   /* system is unusable */
#define KERN_ALERT   KERN_SOH "1"
#define KERN_CRIT    KERN_SOH "2"
#define KERN_ERR     KERN_SOH "3"
#define KERN_WARNING KERN_SOH "4"
#define KERN_NOTICE  KERN_SOH "5"
#define KERN_INFO    KERN_SOH "6"
#define KERN_DEBUG   KERN_SOH "7"
#define KERN_CONT    KERN_SOH "c"   /* continues the previous line: no prefix */

#define LOGLEVEL_DEFAULT 4          /* level of a printk() without KERN_* */
#define CONSOLE_LOGLEVEL_DEFAULT 7  /* print levels 0-6, hide KERN_DEBUG */

/* Messages with a level below this reach the console (the loglevel= parameter). */
extern int console_loglevel;

/*
 * Show every message from now on, whatever loglevel= said: Linux's
 * console_verbose(), which panic() calls before its first line so that the
 * reason a machine stops reaches the console. Unlike Linux's, it raises
 * loglevel=0 too: Linux keeps 0 silent because its log buffer (dmesg,
 * pstore, netconsole) still holds the message; irqlab's console is its only
 * record, and an exit status without its reason helps nobody.
 */
void console_verbose(void);

__attribute__((format(printf, 1, 2))) int printk(const char *fmt, ...);
int vprintk(const char *fmt, va_list ap);

/*
 * Like vprintk(), whatever loglevel= says, but without the line prefix
 * ("[    5.034954][    C0] "): for what is not a kernel message, the
 * monitor's prompt and the echo of a typed line.
 */
int vconsole_printf(const char *fmt, va_list ap);

/* The log buffer (kernel/printk.c): log_buf_next counts every byte the
 * console printed; the last LOG_BUF_LEN of them are in the ring log_buf. */
#define LOG_BUF_LEN 65536
extern char log_buf[LOG_BUF_LEN];
extern unsigned long log_buf_next;

#ifndef pr_fmt
#define pr_fmt(fmt) fmt
#endif
#define pr_emerg(fmt, ...)  printk(KERN_EMERG pr_fmt(fmt), ##__VA_ARGS__)
#define pr_alert(fmt, ...)  printk(KERN_ALERT pr_fmt(fmt), ##__VA_ARGS__)
#define pr_crit(fmt, ...)   printk(KERN_CRIT pr_fmt(fmt), ##__VA_ARGS__)
#define pr_err(fmt, ...)    printk(KERN_ERR pr_fmt(fmt), ##__VA_ARGS__)
#define pr_warn(fmt, ...)   printk(KERN_WARNING pr_fmt(fmt), ##__VA_ARGS__)
#define pr_notice(fmt, ...) printk(KERN_NOTICE pr_fmt(fmt), ##__VA_ARGS__)
#define pr_info(fmt, ...)   printk(KERN_INFO pr_fmt(fmt), ##__VA_ARGS__)
#define pr_debug(fmt, ...)  printk(KERN_DEBUG pr_fmt(fmt), ##__VA_ARGS__)
#define pr_cont(fmt, ...)   printk(KERN_CONT fmt, ##__VA_ARGS__)

#endif
