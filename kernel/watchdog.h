/* kernel/watchdog.h: the lockup detectors: hard lockups (a CPU stuck with IF=0) and soft lockups (a CPU that never schedules). */
#ifndef KERNEL_WATCHDOG_H
#define KERNEL_WATCHDOG_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Linux's kernel/watchdog.c with the buddy hard-lockup detector
 * (kernel/watchdog_buddy.c), which needs no performance counters. Every
 * CPU runs a watchdog hrtimer every 2 * watchdog_thresh / 5 seconds.
 *
 *  - Hard lockup. The timer counts its runs (hrtimer_interrupts). Every
 *    third run, each CPU checks the next online CPU's count: if it has not
 *    moved since the last check, that CPU has taken no timer interrupt for
 *    a whole check period, about watchdog_thresh seconds: it is stuck with
 *    IF=0 (or in an interrupt handler that never ends). Headline:
 *      watchdog: CPU<checker>: Watchdog detected hard LOCKUP on cpu <stuck>
 *    then the reporting CPU's irq trace (print_irqtrace_events(), as
 *    Linux), irqlab's labelled addition of the stuck CPU's own (where it
 *    last turned IRQs off and on), and its NMI backtrace. Needs two CPUs.
 *
 *  - Soft lockup. A thread per CPU, "watchdog/N", is woken by the timer
 *    and writes a timestamp. If the timestamp gets older than
 *    2 * watchdog_thresh, the CPU takes interrupts but never schedules: a
 *    task spins with preemption off. Headline:
 *      watchdog: BUG: soft lockup - CPU#N stuck for Ss! [comm:pid]
 *    with the task running there, then the registers and stack of the
 *    context the timer interrupted (get_irq_regs()). Repeats every
 *    2 * watchdog_thresh while the CPU stays stuck.
 *
 * After a report each calls detector_fired() (kernel/detector_stop.h).
 */

extern int watchdog_thresh;             /* watchdog_thresh=, seconds (default 4); 0: both off */
extern bool param_nmi_watchdog;         /* nmi_watchdog=: the hard-lockup detector (default on) */
extern bool param_soft_watchdog;        /* soft_watchdog=: the soft-lockup detector (default on) */

/* Start the timers on every online CPU and the watchdog/N threads. Once, on
 * CPU 0 in task context, after the APs are up and the scheduler runs. */
void watchdog_init(void);

/*
 * Change watchdog_thresh at run time (Linux: writing
 * /proc/sys/kernel/watchdog_thresh), 1-60 s, from task context. Every
 * CPU's timer is re-armed with the new period at once, and its detectors
 * start counting afresh.
 * False (nothing changed) if seconds is out of range or the detectors
 * were not started at boot.
 */
bool watchdog_set_thresh(int seconds);

/* This CPU was legitimately busy with IF=0 for a long time (printing a
 * hang report, say): its buddy starts counting afresh. */
void touch_nmi_watchdog(void);

/* The watchdog hrtimer's period and the soft-lockup threshold, in ns. */
uint64_t watchdog_sample_period_ns(void);
uint64_t watchdog_softlockup_thresh_ns(void);

/* For tests: runs of cpu's watchdog timer, and how often its buddy checked it. */
unsigned long watchdog_hrtimer_interrupts(unsigned cpu);
unsigned long watchdog_hardlockup_checks(unsigned cpu);

#endif
