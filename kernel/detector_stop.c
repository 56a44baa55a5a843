/* kernel/detector_stop.c: one hang report at a time, and the stop policy that ends a deadlocked run. */
#include "kernel/detector_stop.h"
#include "arch/x86_64/dumpstack.h"
#include "arch/x86_64/percpu.h"
#include "drivers/qemu_exit.h"
#include "kernel/cpumask.h"
#include "kernel/lab.h"
#include "kernel/nmi_backtrace.h"
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "kernel/time.h"
#include "kernel/trace.h"
#include "kernel/watchdog.h"

char param_detector_stop[8] = "auto";

void (*detector_stop_hook)(const char *which);
const char *detector_stop_at;

struct detector_event detector_log[DETECTOR_LOG_SIZE];
unsigned detector_log_count;

/* The CPU printing a report, or -1. A trylock only: see detector_report_begin(). */
static int report_owner = -1;
/* Set once, by the CPU that stops the machine. */
static bool stopping;

bool detector_stop_param_valid(const char *value)
{
    return strcmp(value, "auto") == 0 || strcmp(value, "on") == 0 || strcmp(value, "off") == 0;
}

bool detector_stop_enabled(void)
{
    if (strcmp(param_detector_stop, "on") == 0)
        return true;
    if (strcmp(param_detector_stop, "off") == 0)
        return false;
    return panic_exits_qemu;            /* auto: a test or a lab is running */
}

bool detector_stopping(void)
{
    return __atomic_load_n(&stopping, __ATOMIC_ACQUIRE);
}

/*
 * Never spin for the report lock: the holder may be a CPU that an NMI
 * backtrace is waiting on, or this very CPU (a report in task context
 * interrupted by the watchdog's hrtimer). A detector that loses simply
 * looks again at its next check, when the other report is done.
 */
bool detector_report_begin(const char *which, unsigned cpu)
{
    int me = (int)smp_processor_id();

    if (detector_stopping())
        return false;
    if (!__atomic_compare_exchange_n(&report_owner, &(int){-1}, me, false,
                                     __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        return false;
    nmi_backtrace_new_report();
    trace_event(TRACE_DETECTOR, cpu, 0, which, NULL);
    if (detector_log_count < DETECTOR_LOG_SIZE)
        detector_log[detector_log_count] = (struct detector_event){
            .which = which, .cpu = cpu, .by_cpu = (unsigned)me, .ns = ktime_get_ns(),
        };
    __atomic_store_n(&detector_log_count, detector_log_count + 1, __ATOMIC_RELEASE);
    return true;
}

/*
 * A report can take long (an NMI backtrace waits up to 10 s for a CPU that
 * does not answer), often in hardirq: this CPU's own timer stood still
 * meanwhile, which is no lockup, so its buddy starts counting afresh
 * (Linux's printk and NMI backtrace code call touch_nmi_watchdog() too).
 */
void detector_report_end(void)
{
    if (report_owner != (int)smp_processor_id())
        return;
    touch_nmi_watchdog();
    __atomic_store_n(&report_owner, -1, __ATOMIC_RELEASE);
}

const struct detector_event *detector_find_event(const char *which, uint64_t since)
{
    unsigned n = __atomic_load_n(&detector_log_count, __ATOMIC_ACQUIRE);

    if (n > DETECTOR_LOG_SIZE)
        n = DETECTOR_LOG_SIZE;
    for (unsigned i = 0; i < n; i++)
        if (detector_log[i].ns >= since && strcmp(detector_log[i].which, which) == 0)
            return &detector_log[i];
    return NULL;
}

/*
 * The stop: Linux's panic() after hardlockup_panic=1 and friends, with
 * irqlab's ending. First the backtrace of every CPU this report has not
 * shown yet (each CPU's once per report), so the log shows the whole
 * deadlock: the stuck CPU, whoever waits for it, and the bystanders. The
 * others through NMIs (trigger_cpumask_backtrace() waits at most 10 s for
 * the answers, so a CPU that cannot even take an NMI cannot hang the
 * stop); then this CPU's own, after theirs. Then the panic lines and the
 * exit; a lab ends instead with its verdict (lab_detector_stop(),
 * kernel/lab.h).
 */
void detector_fired(const char *which)
{
    unsigned me = smp_processor_id(), cpu;
    struct cpumask others;

    if (!detector_stop_enabled())
        return;
    if (detector_stop_at && strcmp(which, detector_stop_at) != 0)
        return;                         /* not yet: the lab waits for a later report */
    if (__atomic_exchange_n(&stopping, true, __ATOMIC_ACQ_REL))
        return;                         /* another CPU is already stopping the machine */
    pr_emerg("detector: %s: stopping the machine (detector_stop=%s); the backtraces this report has not shown "
             "follow\n", which, param_detector_stop);
    cpumask_clear(&others);
    for_each_online_cpu(cpu)
        if (cpu != me && !nmi_backtrace_shown(cpu))
            cpumask_set_cpu(cpu, &others);
    if (!cpumask_empty(&others))
        trigger_cpumask_backtrace(&others);
    if (!nmi_backtrace_shown(me))
        nmi_backtrace_self(" (the CPU that stops the machine)");
    if (detector_stop_hook)
        detector_stop_hook(which);
    if (lab_running())
        lab_detector_stop(which);       /* the lab's timeline and verdict, and its own exit */
    panic_exit(QEMU_EXIT_DETECTOR, "%s", which);
}
