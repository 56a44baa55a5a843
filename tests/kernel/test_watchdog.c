/* tests/kernel/test_watchdog.c: the lockup detectors catch a hard and a soft lockup by name, and stay silent below their thresholds. */
#include "kernel/ktest.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/irq.h"
#include "kernel/cpumask.h"
#include "kernel/detector_stop.h"
#include "kernel/hardirq.h"
#include "kernel/irqflags.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "kernel/string.h"
#include "kernel/time.h"
#include "kernel/watchdog.h"

#define WATCHDOG_TEST_VECTOR 0x44       /* class 4: above devices, below the timer */

/* The must-fire cases end the machine through the stop policy; their last
 * words (detector_stop_hook) say how long the detector took. */
static uint64_t stall_start_ns;         /* written by the spinner as it starts */
static const char *stall_case, *stall_event;

static void print_detection_times(void)
{
    uint64_t start = __atomic_load_n(&stall_start_ns, __ATOMIC_ACQUIRE);
    unsigned logged = detector_log_count < DETECTOR_LOG_SIZE ? detector_log_count : DETECTOR_LOG_SIZE;

    for (unsigned i = 0; i < logged; i++) {
        const struct detector_event *e = &detector_log[i];
        if (e->ns >= start && strcmp(e->which, stall_event) == 0)
            printk("# %s: %s of CPU%u reported by CPU%u %lu ms after the stall began (watchdog_thresh=%d)\n",
                   stall_case, e->which, e->cpu, e->by_cpu, (e->ns - start) / NSEC_PER_MSEC, watchdog_thresh);
    }
}

/* detector_stop_hook: the last words before QEMU exits. */
static void report_detection_time(const char *which)
{
    print_detection_times();
    printk("# %s: the stop policy ended the run (%s) %lu ms after the stall began\n", stall_case, which,
           (ktime_get_ns() - __atomic_load_n(&stall_start_ns, __ATOMIC_ACQUIRE)) / NSEC_PER_MSEC);
}

/* The CPU whose watchdog timer checks cpu: the previous online CPU, wrapping. */
static unsigned buddy_of(unsigned cpu)
{
    unsigned c, prev = cpumask_last(&cpu_online_mask);

    for_each_online_cpu(c) {
        if (c == cpu)
            return prev;
        prev = c;
    }
    return prev;
}

/* How many stall_event reports came since the stall began. */
static unsigned reports_since_stall(void)
{
    uint64_t start = __atomic_load_n(&stall_start_ns, __ATOMIC_ACQUIRE);
    unsigned n = 0, logged = detector_log_count < DETECTOR_LOG_SIZE ? detector_log_count : DETECTOR_LOG_SIZE;

    for (unsigned i = 0; start && i < logged; i++)
        n += detector_log[i].ns >= start && strcmp(detector_log[i].which, stall_event) == 0;
    return n;
}

/*
 * Sleep (this CPU must stay healthy) while the detector does its work. Under
 * the stop policy it ends the run, and this never returns. With
 * detector_stop=off the kernel runs on: return true once `reports` reports
 * came, each with its time, or false after ms.
 */
static bool wait_for_detector(unsigned reports, unsigned ms)
{
    uint64_t deadline = ktime_get_ns() + (uint64_t)ms * NSEC_PER_MSEC;

    while (ktime_get_ns() < deadline) {
        if (!detector_stop_enabled() && reports_since_stall() >= reports) {
            print_detection_times();
            printk("# %s: detector_stop=off: no stop, the kernel runs on\n", stall_case);
            return true;
        }
        msleep(100);
    }
    return false;
}

/* --- a hard lockup: an interrupt handler that never returns --- */

/*
 * The classic case: a handler that spins. The gate cleared IF, so no
 * interrupt reaches this CPU any more, its watchdog timer included; only
 * an NMI gets through. (EOI first, as every IPI handler here, so that the
 * in-service vector does not matter: IF=0 alone keeps everything out.)
 */
static void watchdog_test_hardirq_spin(struct pt_regs *regs)
{
    (void)regs;
    apic_eoi();
    __atomic_store_n(&stall_start_ns, ktime_get_ns(), __ATOMIC_RELEASE);
    for (;;)
        cpu_relax();
}

KTEST_FATAL(watchdog_hard_lockup)
{
    unsigned target = cpumask_last(&cpu_online_mask);

    if (num_online_cpus() < 2) {
        ktest_skip(t, "the buddy hard-lockup detector needs 2 CPUs");
        return;
    }
    if (!KTEST_EXPECT_MSG(t, watchdog_thresh > 0 && param_nmi_watchdog, "the hard-lockup detector is off"))
        return;
    stall_case = "watchdog_hard_lockup";
    stall_event = "Hard LOCKUP";
    detector_stop_hook = report_detection_time;
    printk("# watchdog_hard_lockup: CPU%u spins in an interrupt handler with IF=0; CPU%u checks it\n",
           target, buddy_of(target));
    /*
     * Start from the detector's steady state, halfway between two checks:
     * the buddy's first check after boot only takes a baseline, and a stall
     * that began right at a check would show the slowest case. (In general
     * the report comes 0.8 to 2.4 watchdog_thresh after the stall began,
     * depending on where in the check period it began; here 1.8.)
     */
    unsigned long checks = watchdog_hardlockup_checks(target);
    while (watchdog_hardlockup_checks(target) < (checks < 2 ? 2 : checks + 1))
        msleep(10);
    msleep((unsigned)(watchdog_sample_period_ns() * 3 / 2 / NSEC_PER_MSEC));
    request_vector(WATCHDOG_TEST_VECTOR, watchdog_test_hardirq_spin, "watchdog test");
    apic_send_IPI(target, WATCHDOG_TEST_VECTOR);
    /* Reported within 2.4 * watchdog_thresh, once; the report's NMI
     * backtraces may take up to 10 s more if a CPU does not answer. */
    KTEST_EXPECT_MSG(t, wait_for_detector(1, (unsigned)watchdog_thresh * 3000 + 12000),
                     "no hard lockup report for CPU%u", target);
}

/* --- a soft lockup: a thread that spins with preemption disabled --- */

static int watchdog_test_spin_preempt_off(void *unused)
{
    (void)unused;
    preempt_disable();
    __atomic_store_n(&stall_start_ns, ktime_get_ns(), __ATOMIC_RELEASE);
    for (;;)
        cpu_relax();
    return 0;
}

KTEST_FATAL(watchdog_soft_lockup)
{
    unsigned target = cpumask_last(&cpu_online_mask);

    if (!KTEST_EXPECT_MSG(t, watchdog_thresh > 0 && param_soft_watchdog, "the soft-lockup detector is off"))
        return;
    stall_case = "watchdog_soft_lockup";
    stall_event = "soft lockup";
    detector_stop_hook = report_detection_time;
    printk("# watchdog_soft_lockup: spinner/%u spins on CPU%u with preemption disabled, IRQs on\n",
           target, target);
    /* Not before watchdog/N has run once: the first timer run after boot only takes a baseline. */
    while (watchdog_hrtimer_interrupts(target) < 2)
        msleep(10);
    if (!KTEST_EXPECT(t, kthread_run_on_cpu(watchdog_test_spin_preempt_off, NULL, target, "spinner/%u")))
        return;
    /* Reported after 2 * watchdog_thresh, and again every 2 * watchdog_thresh. */
    KTEST_EXPECT_MSG(t, wait_for_detector(2, (unsigned)watchdog_thresh * 6000 + 12000),
                     "no soft lockup reports for CPU%u", target);
}

/* --- below the thresholds: nothing may be reported --- */

/*
 * Both silent cases run with watchdog_thresh=1 (a 400 ms timer, hard
 * checks every 1.2 s, soft lockups after 2 s), so that test=all stays
 * short, and put the boot's value back afterwards.
 */
static int set_short_thresh(struct ktest *t)
{
    int old = watchdog_thresh;

    if (!watchdog_set_thresh(1)) {
        ktest_skip(t, "the lockup detectors are off");
        return 0;
    }
    return old;
}

/*
 * 400 ms with IF=0 on this CPU: its timer misses a period at most, and its
 * buddy needs a whole check period (1.2 s) without a run to report. Then
 * wait for two more checks by the buddy, so that both comparisons that
 * span the section were made.
 */
KTEST_SLOW(watchdog_silent_irqs_off)
{
    unsigned cpu = smp_processor_id(), buddy = buddy_of(cpu);
    unsigned events = detector_log_count;
    unsigned long flags, checks;
    uint64_t start, deadline;
    int old;

    if (num_online_cpus() < 2) {
        ktest_skip(t, "the buddy hard-lockup detector needs 2 CPUs");
        return;
    }
    if (!(old = set_short_thresh(t)))
        return;
    local_irq_save(flags);
    start = ktime_get_ns();
    while (ktime_get_ns() - start < watchdog_sample_period_ns())
        cpu_relax();
    local_irq_restore(flags);
    checks = watchdog_hardlockup_checks(cpu);
    deadline = ktime_get_ns() + 5 * NSEC_PER_SEC;
    while (watchdog_hardlockup_checks(cpu) < checks + 2 && ktime_get_ns() < deadline)
        msleep(10);
    KTEST_EXPECT_MSG(t, watchdog_hardlockup_checks(cpu) >= checks + 2, "CPU%u's buddy CPU%u stopped checking it",
                     cpu, buddy);
    KTEST_EXPECT_MSG(t, detector_log_count == events, "%u hang reports, the first: %s",
                     detector_log_count - events, detector_log[events].which);
    printk("# watchdog_silent_irqs_off: %lu ms with IF=0 on CPU%u (watchdog_thresh=1): checked by CPU%u, "
           "no report\n", watchdog_sample_period_ns() / NSEC_PER_MSEC, cpu, buddy);
    watchdog_set_thresh(old);
}

/*
 * A busy loop longer than the soft-lockup threshold, but preemptible: the
 * tick preempts it, watchdog/N runs in between, and there is nothing to
 * report. (The loop's involuntary context switches prove it was preempted.)
 */
KTEST_SLOW(watchdog_silent_preemptible_loop)
{
    unsigned events = detector_log_count;
    uint64_t nivcsw = current->nivcsw, start, loop_ns;
    int old;

    if (!param_soft_watchdog) {
        ktest_skip(t, "soft_watchdog=off");
        return;
    }
    if (!(old = set_short_thresh(t)))
        return;
    loop_ns = watchdog_softlockup_thresh_ns() + 2 * watchdog_sample_period_ns();
    start = ktime_get_ns();
    while (ktime_get_ns() - start < loop_ns)
        cpu_relax();
    KTEST_EXPECT_MSG(t, detector_log_count == events, "%u hang reports, the first: %s",
                     detector_log_count - events, detector_log[events].which);
    KTEST_EXPECT_MSG(t, current->nivcsw > nivcsw, "the loop was never preempted");
    printk("# watchdog_silent_preemptible_loop: a %lu ms busy loop on CPU%u, soft-lockup threshold %lu ms: "
           "preempted %lu times, no report\n", loop_ns / NSEC_PER_MSEC, smp_processor_id(),
           watchdog_softlockup_thresh_ns() / NSEC_PER_MSEC, current->nivcsw - nivcsw);
    watchdog_set_thresh(old);
}
