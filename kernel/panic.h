/* kernel/panic.h: panic(), the oops policy, and what happens to QEMU when the kernel gives up. */
#ifndef KERNEL_PANIC_H
#define KERNEL_PANIC_H

#include <stdbool.h>

/*
 * When true (a test or lab is running), a fatal error ends QEMU with a
 * failure status so the harness sees it at once; otherwise the CPU halts
 * and the report stays on screen for the student.
 */
extern bool panic_exits_qemu;

/* Print "Kernel panic - not syncing: ...", then exit QEMU or halt. Never returns. */
__attribute__((noreturn, format(printf, 1, 2))) void panic(const char *fmt, ...);

/* The same panic lines, then always leave QEMU with exit_code (drivers/qemu_exit.h):
 * the hang detectors' stop policy (kernel/detector_stop.h) ends a run this way. */
__attribute__((noreturn, format(printf, 2, 3))) void panic_exit(unsigned exit_code, const char *fmt, ...);

/*
 * WARNINGs printed since boot (Linux's warn_count, kernel/panic.c): a test or
 * lab reads it to prove a WARN_ON fired, without parsing the console.
 */
extern unsigned long warn_count;

#endif
