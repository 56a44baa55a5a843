/* kernel/watchdog.c: the hard-lockup (buddy) and soft-lockup detectors, driven by a watchdog hrtimer on every CPU. */
#define pr_fmt(fmt) "watchdog: " fmt

#include "kernel/watchdog.h"
#include "arch/x86_64/dumpstack.h"
#include "arch/x86_64/irq.h"
#include "arch/x86_64/percpu.h"
#include "kernel/cpumask.h"
#include "kernel/detector_stop.h"
#include "kernel/hrtimer.h"
#include "kernel/irqflags.h"
#include "kernel/monitor.h"
#include "kernel/nmi_backtrace.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "kernel/smp.h"
#include "kernel/string.h"
#include "kernel/time.h"

/*
 * Linux's default is 10 s (soft lockups after 20 s). A lab wants its
 * answer sooner, and 4 s is still far above anything irqlab does with IRQs
 * off on purpose (the longest are the hrtimer and cross-call tests, tens
 * of milliseconds), even with 8 vCPUs time-sliced on 2 host cores.
 */
int watchdog_thresh = 4;
bool param_nmi_watchdog = true;
bool param_soft_watchdog = true;

/*
 * One per CPU. Who writes what:
 *   the CPU's own timer:     hrtimer_interrupts; report_ts and touch_ts (resync, report)
 *   the CPU's watchdog/N:    soft_lockup_hrtimer_cnt, touch_ts, report_ts
 *   the CPU's buddy (the previous CPU, which checks this one):
 *                            hrtimer_interrupts_saved, hardlockup_warned, hard_checks
 *   touch_nmi_watchdog():    hardlockup_touched := true (this CPU's)
 *   watchdog_set_thresh():   hardlockup_touched := true, report_ts := 0 (each CPU's)
 * The timer and the thread run on the same CPU, so they never run at once.
 */
struct watchdog_cpu {
    struct hrtimer timer;
    struct task_struct *thread;                 /* watchdog/N, or NULL */
    unsigned long hrtimer_interrupts;           /* runs of the timer: this CPU's interrupts progress */
    unsigned long hrtimer_interrupts_saved;     /* what the buddy saw at its last check */
    bool hardlockup_touched;                    /* touch_nmi_watchdog(): skip one check */
    bool hardlockup_warned;                     /* reported; not again until it progresses */
    unsigned long hard_checks;
    unsigned long soft_lockup_hrtimer_cnt;      /* the timer run the thread last answered */
    uint64_t touch_ts;                          /* when watchdog/N last ran */
    uint64_t report_ts;                         /* start of the soft-lockup period; 0: resync */
};

static struct watchdog_cpu watchdog_data[NR_CPUS];
static struct cpumask watchdog_cpus;            /* CPUs whose timer runs */
static bool watchdog_running;

uint64_t watchdog_softlockup_thresh_ns(void)
{
    return 2 * (uint64_t)__atomic_load_n(&watchdog_thresh, __ATOMIC_RELAXED) * NSEC_PER_SEC;
}

/* Linux's sample_period: five timer runs per soft-lockup threshold. */
uint64_t watchdog_sample_period_ns(void)
{
    return watchdog_softlockup_thresh_ns() / 5;
}

void touch_nmi_watchdog(void)
{
    __atomic_store_n(&watchdog_data[smp_processor_id()].hardlockup_touched, true, __ATOMIC_RELAXED);
}

/* ---------------------------------------------------------------- hard lockup */

/* The CPU that cpu checks: the next one in watchdog_cpus, wrapping; NR_CPUS if alone. */
static unsigned watchdog_next_cpu(unsigned cpu)
{
    unsigned next = cpumask_next((int)cpu, &watchdog_cpus);

    if (next >= NR_CPUS)
        next = cpumask_next(-1, &watchdog_cpus);
    return next == cpu ? NR_CPUS : next;
}

/*
 * Linux's watchdog_hardlockup_check(), run by cpu's buddy from its own
 * watchdog timer. cpu's timer count has not moved since the buddy's last
 * check, three of its periods ago: cpu took no timer interrupt in that
 * time. The report names cpu, prints the irq trace of the reporting CPU
 * (Linux's print_irqtrace_events(current): the buddy's own task, here in
 * its timer interrupt), and NMI-back-traces cpu: an NMI is the only thing
 * that reaches a CPU stuck with IF=0. irqlab adds, labelled as such, where
 * cpu itself last turned IRQs off and on: the trace a student needs, which
 * Linux's report leaves out. Reported once until cpu makes progress again.
 */
static void watchdog_hardlockup_check(unsigned cpu)
{
    struct watchdog_cpu *w = &watchdog_data[cpu];
    unsigned long hrint = __atomic_load_n(&w->hrtimer_interrupts, __ATOMIC_RELAXED);

    w->hard_checks++;
    if (__atomic_exchange_n(&w->hardlockup_touched, false, __ATOMIC_RELAXED)) {
        w->hrtimer_interrupts_saved = hrint;
        return;
    }
    if (hrint != w->hrtimer_interrupts_saved) {
        w->hrtimer_interrupts_saved = hrint;
        w->hardlockup_warned = false;
        return;
    }
    if (w->hardlockup_warned || !detector_report_begin("Hard LOCKUP", cpu))
        return;                         /* reported already, or another report is printing */
    pr_emerg("CPU%u: Watchdog detected hard LOCKUP on cpu %u\n", smp_processor_id(), cpu);
    print_irqtrace_events(smp_processor_id());
    printk("irqlab's addition, not in Linux's report: cpu %u's own irq trace:\n", cpu);
    print_irqtrace_events_prefixed(cpu, "  ");
    trigger_cpu_backtrace(cpu);
    w->hardlockup_warned = true;
    detector_fired("Hard LOCKUP");
    detector_report_end();
}

/* ---------------------------------------------------------------- soft lockup */

/*
 * watchdog/N: each time the timer has run since it last looked, write the
 * time. It is an ordinary thread on the CPU's run queue, so it runs only
 * if the CPU schedules: a task spinning with preemption off keeps it out,
 * and its timestamp gets old. (Linux's old per-CPU "watchdog/N" thread;
 * today Linux queues the same work on the stopper thread.)
 */
static int watchdog_thread(void *arg)
{
    struct watchdog_cpu *w = arg;

    for (;;) {
        set_current_state(TASK_INTERRUPTIBLE);
        unsigned long n = __atomic_load_n(&w->hrtimer_interrupts, __ATOMIC_RELAXED);
        if (n == w->soft_lockup_hrtimer_cnt) {
            schedule();                 /* a timer run after the load has already woken us */
            continue;
        }
        set_current_state(TASK_RUNNING);
        w->soft_lockup_hrtimer_cnt = n;
        uint64_t now = ktime_get_ns();
        __atomic_store_n(&w->touch_ts, now, __ATOMIC_RELAXED);
        __atomic_store_n(&w->report_ts, now, __ATOMIC_RELAXED);
    }
    return 0;
}

/*
 * From this CPU's watchdog timer: kick watchdog/N, then see when it last
 * ran. Older than the threshold: report, with the task that is running
 * here (current: the timer interrupted it) and the registers and stack the
 * interrupt saved (get_irq_regs()), i.e. where that task spins. The next
 * report comes one threshold later if the CPU is still stuck, with the
 * longer "stuck for", as Linux's.
 */
static void watchdog_softlockup_check(unsigned cpu)
{
    struct watchdog_cpu *w = &watchdog_data[cpu];
    struct task_struct *thread = __atomic_load_n(&w->thread, __ATOMIC_ACQUIRE);
    uint64_t now = ktime_get_ns();
    uint64_t report_ts = __atomic_load_n(&w->report_ts, __ATOMIC_RELAXED);
    struct pt_regs *regs;

    if (!thread)
        return;
    wake_up_process(thread);
    if (report_ts == 0) {               /* touched: count from now */
        __atomic_store_n(&w->touch_ts, now, __ATOMIC_RELAXED);
        __atomic_store_n(&w->report_ts, now, __ATOMIC_RELAXED);
        return;
    }
    if (now - report_ts <= watchdog_softlockup_thresh_ns() || !detector_report_begin("soft lockup", cpu))
        return;
    __atomic_store_n(&w->report_ts, now, __ATOMIC_RELAXED);
    pr_emerg("BUG: soft lockup - CPU#%u stuck for %lus! [%s:%d]\n", cpu,
             (now - __atomic_load_n(&w->touch_ts, __ATOMIC_RELAXED)) / NSEC_PER_SEC,
             current->comm, current->pid);
    print_irqtrace_events(cpu);
    regs = get_irq_regs();
    if (regs) {
        show_regs(regs);
        show_trace(regs->rip, regs->rbp, regs->rsp);
    } else {
        dump_stack();
    }
    nmi_backtrace_mark_shown(cpu);
    detector_fired("softlockup: hung tasks");
    detector_report_end();
}

/* ---------------------------------------------------------------- the timer */

/* Every sample period on every CPU, in hardirq with IF=0 (Linux's watchdog_timer_fn()). */
static enum hrtimer_restart watchdog_timer_fn(struct hrtimer *timer)
{
    unsigned cpu = smp_processor_id();
    unsigned long n = __atomic_add_fetch(&watchdog_data[cpu].hrtimer_interrupts, 1, __ATOMIC_RELAXED);

    hrtimer_forward_now(timer, watchdog_sample_period_ns());
    /* Every third run is one check period, slightly over watchdog_thresh
     * (Linux's watchdog_buddy_check_hardlockup()). */
    if (param_nmi_watchdog && n % 3 == 0) {
        unsigned next = watchdog_next_cpu(cpu);
        if (next < NR_CPUS)
            watchdog_hardlockup_check(next);
    }
    if (param_soft_watchdog)
        watchdog_softlockup_check(cpu);
    return HRTIMER_RESTART;
}

/* On each CPU, through a cross call (so in hardirq): the timer is queued on the CPU that starts it. */
static void watchdog_enable(void *unused)
{
    unsigned cpu = smp_processor_id();
    struct watchdog_cpu *w = &watchdog_data[cpu];

    (void)unused;
    w->hardlockup_touched = true;
    w->report_ts = 0;
    hrtimer_init(&w->timer, watchdog_timer_fn);
    hrtimer_start(&w->timer, watchdog_sample_period_ns(), HRTIMER_MODE_REL);
    cpumask_set_cpu(cpu, &watchdog_cpus);
}

void watchdog_init(void)
{
    unsigned cpu;

    if (watchdog_thresh == 0 || (!param_nmi_watchdog && !param_soft_watchdog)) {
        pr_info("lockup detectors off (watchdog_thresh=%d nmi_watchdog=%s soft_watchdog=%s)\n",
                watchdog_thresh, param_nmi_watchdog ? "on" : "off", param_soft_watchdog ? "on" : "off");
        return;
    }
    for_each_online_cpu(cpu) {
        if (param_soft_watchdog) {
            struct task_struct *t = kthread_run_on_cpu(watchdog_thread, &watchdog_data[cpu], cpu, "watchdog/%u");
            if (!t)
                pr_warn("cannot start watchdog/%u: no soft-lockup detection there\n", cpu);
            __atomic_store_n(&watchdog_data[cpu].thread, t, __ATOMIC_RELEASE);
        }
        smp_call_function_single(cpu, watchdog_enable, NULL, true);
    }
    watchdog_running = true;
    pr_info("hard lockup (buddy) %s, soft lockup %s: watchdog_thresh=%d s, soft lockups after %d s, "
            "a timer every %lu ms on %u CPUs\n", param_nmi_watchdog ? "on" : "off",
            param_soft_watchdog ? "on" : "off", watchdog_thresh, 2 * watchdog_thresh,
            watchdog_sample_period_ns() / NSEC_PER_MSEC, cpumask_weight(&watchdog_cpus));
    if (param_nmi_watchdog && cpumask_weight(&watchdog_cpus) < 2)
        pr_info("one CPU: the buddy hard-lockup detector has no buddy, and checks nothing\n");
}

/* On each CPU, through a cross call: count afresh, and re-arm the timer with the new period now. */
static void watchdog_restart(void *unused)
{
    struct watchdog_cpu *w = &watchdog_data[smp_processor_id()];

    (void)unused;
    __atomic_store_n(&w->hardlockup_touched, true, __ATOMIC_RELAXED);
    __atomic_store_n(&w->report_ts, 0, __ATOMIC_RELAXED);
    hrtimer_start(&w->timer, watchdog_sample_period_ns(), HRTIMER_MODE_REL);
}

bool watchdog_set_thresh(int seconds)
{
    unsigned cpu;

    if (!watchdog_running || seconds < 1 || seconds > 60)
        return false;
    __atomic_store_n(&watchdog_thresh, seconds, __ATOMIC_RELAXED);
    for_each_cpu(cpu, &watchdog_cpus)
        smp_call_function_single(cpu, watchdog_restart, NULL, true);
    return true;
}

unsigned long watchdog_hrtimer_interrupts(unsigned cpu)
{
    return __atomic_load_n(&watchdog_data[cpu].hrtimer_interrupts, __ATOMIC_RELAXED);
}

unsigned long watchdog_hardlockup_checks(unsigned cpu)
{
    return __atomic_load_n(&watchdog_data[cpu].hard_checks, __ATOMIC_RELAXED);
}

/* ---------------------------------------------------------------- monitor */

MONITOR_COMMAND_ARGS(watchdog, "[thresh N]", 0, 2,
                     "lockup detectors: thresholds and per-CPU state; thresh N sets watchdog_thresh")
{
    uint64_t now = ktime_get_ns();
    unsigned cpu;

    if (argc > 1 && (argc != 3 || strcmp(argv[1], "thresh") != 0)) {
        printk("watchdog: '%s%s%s' is not valid; usage: watchdog [thresh N], N 1-60\n", argv[1],
               argc > 2 ? " " : "", argc > 2 ? argv[2] : "");
        return 1;
    }
    if (argc == 3) {
        int n = 0;
        const char *p = argv[2];
        for (; *p >= '0' && *p <= '9' && n <= 60; p++)
            n = n * 10 + (*p - '0');
        if (*p != '\0' || p == argv[2] || !watchdog_set_thresh(n)) {
            printk("watchdog: cannot set watchdog_thresh to '%s': valid 1-60, with the detectors running\n", argv[2]);
            return 1;
        }
    }
    printk("watchdog_thresh %d s: hard lockup (buddy) %s, soft lockup %s after %lu s; a timer every %lu ms; "
           "csd_lock_timeout %d ms; detector_stop=%s (%s)\n", watchdog_thresh,
           param_nmi_watchdog ? "on" : "off", param_soft_watchdog ? "on" : "off",
           watchdog_softlockup_thresh_ns() / NSEC_PER_SEC, watchdog_sample_period_ns() / NSEC_PER_MSEC,
           csd_lock_timeout, param_detector_stop, detector_stop_enabled() ? "stops" : "keeps running");
    if (!watchdog_running)
        return 0;
    printk("CPU  timer runs  checks CPU  buddy checks  watchdog/N ran\n");
    for_each_cpu(cpu, &watchdog_cpus) {
        struct watchdog_cpu *w = &watchdog_data[cpu];
        unsigned next = watchdog_next_cpu(cpu);
        uint64_t touch = __atomic_load_n(&w->touch_ts, __ATOMIC_RELAXED);
        printk("%3u %11lu  ", cpu, watchdog_hrtimer_interrupts(cpu));
        if (next < NR_CPUS)
            pr_cont("%10u", next);
        else
            pr_cont("%10s", "-");
        pr_cont("  %12lu  ", watchdog_hardlockup_checks(cpu));
        if (w->thread && touch)
            pr_cont("%lu ms ago\n", (now - touch) / NSEC_PER_MSEC);
        else
            pr_cont("-\n");
    }
    return 0;
}
