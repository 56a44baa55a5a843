/* tests/kernel/test_softirq.c: softirqs: run on irq exit, deferred by BH-disabled sections, ksoftirqd, spin_lock_bh, lockdep's softirq states. */
#include "kernel/ktest.h"
#include "kernel/cleanup.h"
#include "kernel/hardirq.h"
#include "kernel/irqflags.h"
#include "kernel/lockdep.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "kernel/softirq.h"
#include "kernel/spinlock.h"
#include "kernel/string.h"
#include "kernel/time.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/irq.h"

/*
 * Every case raises its softirq from a real interrupt: a self-IPI to a
 * vector of our own (Intel SDM Vol. 3A 11.6.1), whose handler schedules a
 * tasklet. What the tasklet finds (context, IF, where it ran) is recorded
 * and checked afterwards in the task.
 */
#define SOFTIRQ_TEST_VECTOR 0x46        /* class 4: above devices, below the timer */

static struct tasklet_struct *volatile ipi_tasklet;     /* what the IPI schedules */
static volatile bool ipi_done;
static volatile bool ran_before_ipi_returned;           /* the tasklet ran inside the handler (must not) */

struct run_record {
    unsigned runs;
    bool in_serving, in_hardirq, irqs_on;
    uint32_t softirq_count;
    unsigned in_ksoftirqd;              /* runs in ksoftirqd/N */
    uint64_t first_call;                /* which __do_softirq() call ran the first one ... */
    unsigned in_first_call;             /* ... and how many ran in that call */
};
static volatile struct run_record rec;

static void softirq_test_ipi(struct pt_regs *regs)
{
    (void)regs;
    tasklet_schedule(ipi_tasklet);
    ran_before_ipi_returned = rec.runs != 0;
    ipi_done = true;
    apic_eoi();
}

/* Self-IPI that schedules t; returns once the handler (and its irq_exit()) is done. */
static bool raise_from_irq(struct tasklet_struct *t)
{
    uint64_t deadline = ktime_get_ns() + 2000000000ULL;
    static bool registered;

    if (!registered) {
        request_vector(SOFTIRQ_TEST_VECTOR, softirq_test_ipi, "softirq test");
        registered = true;
    }
    ipi_tasklet = t;
    ipi_done = false;
    ran_before_ipi_returned = false;
    apic_icr_write(APIC_DEST_SELF | APIC_DM_FIXED | SOFTIRQ_TEST_VECTOR, 0);
    while (!ipi_done && ktime_get_ns() < deadline)
        cpu_relax();
    return ipi_done;
}

static void record_run(void)
{
    const struct softirq_cpu *sc = &softirq_cpus[smp_processor_id()];
    uint64_t call = sc->irq_exit_runs + sc->bh_enable_runs + sc->ksoftirqd_runs;   /* numbers the calls */
    struct task_struct *kd = sc->ksoftirqd;

    if (rec.runs == 0)
        rec.first_call = call;
    if (call == rec.first_call)
        rec.in_first_call++;
    rec.runs++;
    rec.in_serving = in_serving_softirq();
    rec.in_hardirq = in_hardirq();
    rec.irqs_on = !irqs_disabled();
    rec.softirq_count = softirq_count();
    if (current == kd)
        rec.in_ksoftirqd++;
}

static void record_fn(unsigned long data)
{
    (void)data;
    record_run();
}

static void reset_record(void)
{
    memset((void *)&rec, 0, sizeof rec);
}

KTEST(softirq_raise_runs_on_irq_exit)
{
    DECLARE_TASKLET(tl, record_fn, 0);
    const struct softirq_cpu *sc = &softirq_cpus[smp_processor_id()];
    uint64_t exits = sc->irq_exit_runs, count = sc->count[TASKLET_SOFTIRQ];

    reset_record();
    KTEST_EXPECT(t, raise_from_irq(&tl));
    KTEST_EXPECT_MSG(t, rec.runs == 1, "tasklet ran %u times", rec.runs);
    KTEST_EXPECT_MSG(t, !ran_before_ipi_returned, "the tasklet ran inside the hardirq handler");
    KTEST_EXPECT(t, rec.in_serving && !rec.in_hardirq && rec.irqs_on);
    KTEST_EXPECT_MSG(t, rec.softirq_count == SOFTIRQ_OFFSET, "softirq_count %#x", rec.softirq_count);
    KTEST_EXPECT(t, rec.in_ksoftirqd == 0);
    KTEST_EXPECT(t, sc->irq_exit_runs == exits + 1 && sc->count[TASKLET_SOFTIRQ] == count + 1);
    KTEST_EXPECT(t, local_softirq_pending() == 0 && (tl.state & (1UL << TASKLET_STATE_SCHED)) == 0);
}

KTEST(softirq_bh_disable_defers_enable_runs)
{
    DECLARE_TASKLET(tl, record_fn, 0);
    const struct softirq_cpu *sc = &softirq_cpus[smp_processor_id()];
    uint64_t exits, bh_runs;

    reset_record();
    local_bh_disable();
    exits = sc->irq_exit_runs;
    bh_runs = sc->bh_enable_runs;
    KTEST_EXPECT(t, raise_from_irq(&tl));
    /* The interrupt came in over a BH-disabled section: its exit must not run it. */
    KTEST_EXPECT_MSG(t, rec.runs == 0, "ran %u times while BHs were disabled", rec.runs);
    KTEST_EXPECT(t, local_softirq_pending() & (1U << TASKLET_SOFTIRQ));
    KTEST_EXPECT(t, sc->irq_exit_runs == exits);
    local_bh_enable();
    KTEST_EXPECT_MSG(t, rec.runs == 1, "local_bh_enable() ran it %u times", rec.runs);
    KTEST_EXPECT(t, rec.in_serving && rec.irqs_on && rec.in_ksoftirqd == 0);
    KTEST_EXPECT(t, sc->bh_enable_runs == bh_runs + 1 && local_softirq_pending() == 0);
    KTEST_EXPECT(t, preempt_count() == 0 && !irqs_disabled());
}

/*
 * A hardirq inside a softirq raises another: it runs after the first
 * returns, never nested. Usually in the same __do_softirq(), on its next
 * pass; but a tick that sets need_resched meanwhile makes that call hand
 * the rest to ksoftirqd (Linux's rule too), so the case waits for it.
 */
static volatile unsigned nest_depth, nest_max, nest_order;
static volatile uint32_t inner_hardirq_pc;
static struct tasklet_struct inner_tasklet;

static void inner_fn(unsigned long data)
{
    (void)data;
    nest_depth++;
    if (nest_depth > nest_max)
        nest_max = nest_depth;
    nest_order = nest_order * 10 + 2;
    nest_depth--;
}

static void capture_hardirq_pc(struct pt_regs *regs)
{
    inner_hardirq_pc = preempt_count();
    softirq_test_ipi(regs);
}

static void outer_fn(unsigned long data)
{
    (void)data;
    nest_depth++;
    nest_max = nest_depth;
    nest_order = 1;
    request_vector(SOFTIRQ_TEST_VECTOR, capture_hardirq_pc, "softirq test");
    raise_from_irq(&inner_tasklet);      /* IRQs are on in a softirq: taken here */
    request_vector(SOFTIRQ_TEST_VECTOR, softirq_test_ipi, "softirq test");
    nest_order = nest_order * 10 + 1;
    nest_depth--;
}

KTEST(softirq_nesting_counts)
{
    DECLARE_TASKLET(outer, outer_fn, 0);
    spinlock_t l;

    spin_lock_init(&l);
    tasklet_init(&inner_tasklet, inner_fn, 0);
    /* BH-disabled sections nest in steps of SOFTIRQ_DISABLE_OFFSET, apart from the serving bit. */
    local_bh_disable();
    local_bh_disable();
    KTEST_EXPECT(t, softirq_count() == 2 * SOFTIRQ_DISABLE_OFFSET);
    KTEST_EXPECT(t, in_softirq() && !in_serving_softirq() && in_interrupt() && in_task());
    local_bh_enable();
    KTEST_EXPECT(t, softirq_count() == SOFTIRQ_DISABLE_OFFSET);
    local_bh_enable();
    KTEST_EXPECT(t, softirq_count() == 0 && !in_softirq() && !in_interrupt());
    spin_lock_bh(&l);
    KTEST_EXPECT(t, softirq_count() == SOFTIRQ_DISABLE_OFFSET && (preempt_count() & PREEMPT_MASK) == 1);
    spin_unlock_bh(&l);
    scoped_guard(spinlock_bh, &l)
        KTEST_EXPECT(t, softirq_count() == SOFTIRQ_DISABLE_OFFSET);
    KTEST_EXPECT(t, preempt_count() == 0);

    nest_order = nest_max = nest_depth = 0;
    KTEST_EXPECT(t, raise_from_irq(&outer));
    for (uint64_t deadline = ktime_get_ns() + 2000000000ULL; nest_order < 100 && ktime_get_ns() < deadline;)
        msleep(1);
    KTEST_EXPECT_MSG(t, (inner_hardirq_pc & (SOFTIRQ_MASK | HARDIRQ_MASK)) == (SOFTIRQ_OFFSET | HARDIRQ_OFFSET),
                     "preempt_count in the hardirq over the softirq: %#x", inner_hardirq_pc);
    KTEST_EXPECT_MSG(t, nest_max == 1 && nest_order == 112, "order %u, max depth %u (want 112, 1)",
                     nest_order, nest_max);
    KTEST_EXPECT(t, preempt_count() == 0 && local_softirq_pending() == 0);
}

/* A tasklet that schedules itself until it ran `want` times. */
static struct tasklet_struct again;
static volatile unsigned again_want;
static volatile uint64_t again_delay_ms;

static void again_fn(unsigned long data)
{
    (void)data;
    record_run();
    if (again_delay_ms)
        mdelay(again_delay_ms);
    if (rec.runs < again_want)
        tasklet_schedule(&again);
}

static bool wait_runs(unsigned want)
{
    uint64_t deadline = ktime_get_ns() + 5000000000ULL;

    while (rec.runs < want && ktime_get_ns() < deadline)
        msleep(1);
    return rec.runs == want;
}

/*
 * After MAX_SOFTIRQ_RESTART passes (or MAX_SOFTIRQ_TIME, or a reschedule
 * request, whichever comes first), irq_exit()'s __do_softirq() gives up
 * and wakes ksoftirqd/N, which runs the rest. Which limit hits first
 * depends on where the tick falls and on what else is runnable, so the case
 * checks that the first call made at most MAX_SOFTIRQ_RESTART passes and
 * that some limit was counted. (Later
 * interrupts' exits may run some too before ksoftirqd gets the CPU, as in
 * Linux.)
 */
KTEST(softirq_ksoftirqd_takes_over)
{
    struct softirq_cpu *sc = &softirq_cpus[smp_processor_id()];
    uint64_t times = sc->time_limit, rescheds = sc->resched_limit, wakeups = sc->ksoftirqd_wakeups;
    uint64_t exits = sc->irq_exit_runs, bh_runs = sc->bh_enable_runs, kruns = sc->ksoftirqd_runs;
    unsigned first;

    KTEST_EXPECT(t, sc->ksoftirqd != NULL);
    reset_record();
    tasklet_init(&again, again_fn, 0);
    again_want = 3 * MAX_SOFTIRQ_RESTART;
    again_delay_ms = 0;
    KTEST_EXPECT(t, raise_from_irq(&again));
    KTEST_EXPECT(t, wait_runs(again_want));
    first = rec.in_first_call;
    /* __do_softirq() counts its call as it starts: the IPI's exit is call number exits + 1. */
    KTEST_EXPECT_MSG(t, rec.first_call == exits + 1 + bh_runs + kruns && sc->irq_exit_runs > exits,
                     "the first run was not in the IPI's irq_exit()");
    KTEST_EXPECT_MSG(t, first >= 1 && first <= MAX_SOFTIRQ_RESTART, "%u passes in the first call", first);
    KTEST_EXPECT(t, sc->ksoftirqd_wakeups > wakeups && sc->ksoftirqd_runs > kruns && rec.in_ksoftirqd >= 1);
    KTEST_EXPECT(t, first == MAX_SOFTIRQ_RESTART || sc->time_limit > times || sc->resched_limit > rescheds);
    pr_info("softirq test: %u passes at the IPI's exit, %u runs at later exits, %u in %s\n", first,
            rec.runs - first - rec.in_ksoftirqd, rec.in_ksoftirqd, sc->ksoftirqd->comm);
}

/* A handler that outlasts MAX_SOFTIRQ_TIME: irq_exit() stops after one pass. */
KTEST(softirq_time_limit_hands_over)
{
    struct softirq_cpu *sc = &softirq_cpus[smp_processor_id()];
    uint64_t times = sc->time_limit;

    reset_record();
    tasklet_init(&again, again_fn, 0);
    again_want = 3;
    again_delay_ms = 1000 / (uint64_t)param_hz + MAX_SOFTIRQ_TIME_MS + 1;   /* past the next tick */
    KTEST_EXPECT(t, raise_from_irq(&again));
    KTEST_EXPECT(t, wait_runs(again_want));
    KTEST_EXPECT_MSG(t, rec.in_first_call == 1, "%u passes in the IPI's irq exit", rec.in_first_call);
    KTEST_EXPECT(t, sc->time_limit > times);    /* ksoftirqd's passes hit it too */
    again_delay_ms = 0;
}

/* spin_lock_bh() keeps the tasklet that takes the same lock off this CPU until the unlock. */
static DEFINE_SPINLOCK(bh_lock);
static volatile bool lock_was_free;

static void take_bh_lock(unsigned long data)
{
    (void)data;
    lock_was_free = !spin_is_locked(&bh_lock);
    spin_lock(&bh_lock);
    record_run();
    spin_unlock(&bh_lock);
}

KTEST(softirq_spin_lock_bh)
{
    DECLARE_TASKLET(tl, take_bh_lock, 0);
    const struct softirq_cpu *sc = &softirq_cpus[smp_processor_id()];
    unsigned reports = lockdep_report_count;
    uint64_t bh_runs = sc->bh_enable_runs;
    char usage[40];

    reset_record();
    spin_lock_bh(&bh_lock);
    KTEST_EXPECT(t, raise_from_irq(&tl));
    KTEST_EXPECT_MSG(t, rec.runs == 0, "the tasklet ran while the task held the lock with BHs off");
    spin_unlock_bh(&bh_lock);
    KTEST_EXPECT(t, rec.runs == 1 && lock_was_free && sc->bh_enable_runs == bh_runs + 1);

    scoped_guard(spinlock_bh, &bh_lock) {
        KTEST_EXPECT(t, raise_from_irq(&tl));
        KTEST_EXPECT(t, rec.runs == 1);
    }
    KTEST_EXPECT(t, rec.runs == 2 && lock_was_free);
    KTEST_EXPECT_MSG(t, lockdep_report_count == reports, "%u lockdep reports", lockdep_report_count - reports);
    if (debug_locks) {
        lockdep_softirq_usage_string(&bh_lock.dep_map, usage, sizeof usage);
        KTEST_EXPECT_MSG(t, strcmp(usage, "{IN-SOFTIRQ-W}") == 0, "bh_lock softirq usage %s", usage);
    }
}

/*
 * The softirq form of the irq-inversion report: A -> B recorded with BHs
 * off, B then held with softirqs on, then a real tasklet takes A.
 */
static DEFINE_SPINLOCK(inv_A);
static DEFINE_SPINLOCK(inv_B);

static void take_inv_A(unsigned long data)
{
    (void)data;
    spin_lock(&inv_A);
    record_run();
    spin_unlock(&inv_A);
}

KTEST(softirq_lockdep_inversion_report)
{
    DECLARE_TASKLET(tl, take_inv_A, 0);
    bool keep = lockdep_keep_reporting, was_on = debug_locks;
    unsigned before;
    char usage[40];

    if (strcmp(param_lockdep, "off") == 0) {
        ktest_skip(t, "lockdep=off");
        return;
    }
    lockdep_reset();
    lockdep_keep_reporting = false;
    before = lockdep_report_count;
    reset_record();
    spin_lock_bh(&inv_A);
    spin_lock(&inv_B);
    spin_unlock(&inv_B);
    spin_unlock_bh(&inv_A);
    spin_lock(&inv_B);                  /* SOFTIRQ-unsafe: softirqs could run on this CPU meanwhile */
    spin_unlock(&inv_B);
    lockdep_softirq_usage_string(&inv_B.dep_map, usage, sizeof usage);
    KTEST_EXPECT_MSG(t, strcmp(usage, "{SOFTIRQ-ON-W}") == 0, "inv_B %s", usage);
    KTEST_EXPECT(t, raise_from_irq(&tl));
    KTEST_EXPECT(t, rec.runs == 1 && rec.in_serving);
    KTEST_EXPECT_MSG(t, lockdep_report_count - before == 1 && lockdep_last_report == LOCKDEP_IRQ_INVERSION,
                     "%u reports, last: %s", lockdep_report_count - before, lockdep_report_name(lockdep_last_report));
    lockdep_softirq_usage_string(&inv_A.dep_map, usage, sizeof usage);
    KTEST_EXPECT_MSG(t, strcmp(usage, "{IN-SOFTIRQ-W}") == 0, "inv_A %s", usage);
    lockdep_reset();
    lockdep_keep_reporting = keep;
    __atomic_store_n(&debug_locks, was_on, __ATOMIC_RELEASE);
}

/* local_bh_enable() with IRQs off is a bug (it runs softirqs, which turn IRQs on): Linux warns once. */
KTEST(softirq_bh_enable_irqs_off_warns)
{
    unsigned long flags;

    local_bh_disable();
    local_irq_save(flags);
    local_bh_enable();                  /* WARN_ON_ONCE, and IRQs come back on, as in Linux */
    KTEST_EXPECT(t, !irqs_disabled());
    local_irq_disable();
    local_irq_restore(flags);
    KTEST_EXPECT(t, preempt_count() == 0 && !irqs_disabled());
}
