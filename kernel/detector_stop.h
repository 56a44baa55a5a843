/* kernel/detector_stop.h: what the hang detectors do after a report: one report at a time, and the stop policy. */
#ifndef KERNEL_DETECTOR_STOP_H
#define KERNEL_DETECTOR_STOP_H

#include <stdbool.h>
#include <stdint.h>

/*
 * irqlab's hang detectors (hard and soft lockup in kernel/watchdog.c, CSD
 * lock waits in kernel/smp.c, RCU stalls and OOM elsewhere) share two
 * things, both here:
 *
 * 1. One report at a time. A report prints a headline and NMI backtraces
 *    (kernel/nmi_backtrace.c keeps one set of CPUs to back-trace, so two
 *    reports at once would mix up). A detector calls
 *    detector_report_begin() before its headline and detector_report_end()
 *    after its report. begin() never waits: if another report is being
 *    printed, or the machine is stopping, it returns false and the
 *    detector tries again at its next check. So it is safe anywhere:
 *    hardirq with IF=0, task context, while other CPUs are stuck.
 *
 * 2. The stop policy (the `detector_stop=` parameter):
 *      auto  (the default) stop when a test or a lab runs (panic_exits_qemu),
 *            keep running otherwise, so a student can look around in the monitor;
 *      on    always stop;
 *      off   never stop: report and keep running (Linux's default).
 *    Linux has a switch per detector (hardlockup_panic=, softlockup_panic=,
 *    panic_on_rcu_stall=); irqlab has one, because in a lab every detector
 *    that fires means the same thing: the scenario is over.
 */

/*
 * Start a report. which names the detector ("Hard LOCKUP", "soft lockup",
 * "CSD lock", "RCU stall", ...), cpu the CPU the report is about. Records
 * {which, cpu, reporting CPU, ktime} in detector_log (the time the headline
 * is printed, for tests and docs). Returns false, recording nothing, if
 * another report is in progress or the machine is stopping: then print
 * nothing and check again later.
 */
bool detector_report_begin(const char *which, unsigned cpu);
void detector_report_end(void);

/*
 * A detector printed its report (call it before detector_report_end()).
 * Under the stop policy: print "detector: <which>: stopping", finish the
 * report with the backtrace of every CPU it has not shown (NMIs: an NMI
 * reaches CPUs stuck with IF=0), call detector_stop_hook, then print
 * "Kernel panic - not syncing: <which>" and leave QEMU with
 * QEMU_EXIT_DETECTOR (status 39, `exit = "detector"` in a check, scripts/checks.py),
 * or, when a lab runs, let lab_detector_stop() end it with its verdict;
 * never returns then. Otherwise it returns and the kernel runs on. Any
 * context: it takes no lock another CPU could be holding (printk's console
 * lock is owner-reentrant), and waits only for NMI answers, with a timeout.
 */
void detector_fired(const char *which);

/*
 * With the policy on, stop only at a report of this detector (NULL, the
 * default: at the first). A lab that wants the whole chain of reports names
 * the last one it can get, e.g. "Out of memory".
 */
extern const char *detector_stop_at;

/* Whether detector_fired() stops the machine (the policy resolved). */
bool detector_stop_enabled(void);
/* Whether a detector_fired() is stopping the machine: detectors keep quiet. */
bool detector_stopping(void);

/*
 * Called, if set, by the stopping CPU after the all-CPU backtrace and just
 * before QEMU exits: a test or lab prints its last words there (KTAP
 * diagnostics, a verdict). It runs in the detector's context, often
 * hardirq with IF=0: it may only print and read memory.
 */
extern void (*detector_stop_hook)(const char *which);

/* The headlines printed since boot (the first DETECTOR_LOG_SIZE of them). */
struct detector_event {
    const char *which;
    unsigned cpu;               /* the CPU the report is about */
    unsigned by_cpu;            /* the CPU that printed it */
    uint64_t ns;                /* ktime_get_ns() when the headline was printed */
};
#define DETECTOR_LOG_SIZE 16
extern struct detector_event detector_log[DETECTOR_LOG_SIZE];
extern unsigned detector_log_count;    /* may exceed DETECTOR_LOG_SIZE: later ones are not kept */

/* The first event at or after `since` whose which is `which`, or NULL. */
const struct detector_event *detector_find_event(const char *which, uint64_t since);

/* detector_stop=: "auto", "on" or "off" (kernel/bootparams.c). */
extern char param_detector_stop[8];
bool detector_stop_param_valid(const char *value);

#endif
