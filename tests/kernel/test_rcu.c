/* tests/kernel/test_rcu.c: RCU-sched: grace periods end, callbacks wait for readers, churn stays bounded; stall and OOM on purpose. */
#include "kernel/ktest.h"
#include "kernel/cpumask.h"
#include "kernel/detector_stop.h"
#include "kernel/hardirq.h"
#include "kernel/irqflags.h"
#include "kernel/objpool.h"
#include "kernel/printk.h"
#include "kernel/rcu.h"
#include "kernel/sched.h"
#include "kernel/time.h"

/*
 * Every wait ends on a condition; the timeouts only stop a broken kernel
 * from hanging the run, and are far longer than anything takes at 8
 * time-sliced vCPUs.
 */
#define WAIT_MS 20000

static uint64_t ms_since(uint64_t ns)
{
    return (ktime_get_ns() - ns) / NSEC_PER_MSEC;
}

/* Sleep in 10 ms steps until *p reaches value or WAIT_MS pass. */
static bool sleep_until_ul(const unsigned long *p, unsigned long value)
{
    uint64_t start = ktime_get_ns();

    while (__atomic_load_n(p, __ATOMIC_ACQUIRE) < value) {
        if (ms_since(start) > WAIT_MS)
            return false;
        msleep(10);
    }
    return true;
}

/* --- synchronize_rcu() returns, once per grace period --- */

KTEST(rcu_synchronize_returns)
{
    unsigned long done = rcu_gp_completed();
    uint64_t start = ktime_get_ns();

    for (int i = 0; i < 5; i++)
        synchronize_rcu();
    /* Each call waits for a GP that started after it was made, so five
     * calls in a row need five different GPs. */
    KTEST_EXPECT_MSG(t, rcu_gp_completed() >= done + 5, "%lu GPs completed during 5 synchronize_rcu()",
                     rcu_gp_completed() - done);
    printk("# rcu_synchronize_returns: 5 synchronize_rcu() took %lu ms (HZ=%d, %u CPUs)\n",
           ms_since(start), param_hz, num_online_cpus());
}

/* --- a callback never runs while a reader that started before it is still inside --- */

enum { READER_START, READER_INSIDE, READER_RELEASE, READER_DONE };
static unsigned reader_state;
static unsigned long reader_cb_ran;

static int rcu_test_reader(void *arg)
{
    (void)arg;
    rcu_read_lock();
    __atomic_store_n(&reader_state, READER_INSIDE, __ATOMIC_RELEASE);
    while (__atomic_load_n(&reader_state, __ATOMIC_ACQUIRE) != READER_RELEASE)
        cpu_relax();
    rcu_read_unlock();
    __atomic_store_n(&reader_state, READER_DONE, __ATOMIC_RELEASE);
    return 0;
}

static void reader_test_cb(struct rcu_head *head)
{
    (void)head;
    __atomic_store_n(&reader_cb_ran, 1, __ATOMIC_RELEASE);
}

KTEST(rcu_callback_waits_for_reader)
{
    static struct rcu_head head;
    unsigned cpu = cpumask_last(&cpu_online_mask);
    unsigned long seen = 0;
    uint64_t start;

    if (num_online_cpus() < 2) {
        ktest_skip(t, "needs 2 CPUs");
        return;
    }
    reader_state = READER_START;
    reader_cb_ran = 0;
    if (!kthread_run_on_cpu(rcu_test_reader, NULL, cpu, "rcu_reader/%u")) {
        KTEST_EXPECT_MSG(t, false, "cannot start the reader on CPU %u", cpu);
        return;
    }
    while (__atomic_load_n(&reader_state, __ATOMIC_ACQUIRE) != READER_INSIDE)
        msleep(1);
    call_rcu(&head, reader_test_cb);
    /* 300 ms (30 ticks) in which a wrong RCU would have ended a GP: the
     * reader's CPU ticks with preemption off, which is no quiescent state. */
    for (int i = 0; i < 30; i++) {
        msleep(10);
        seen |= __atomic_load_n(&reader_cb_ran, __ATOMIC_ACQUIRE);
    }
    KTEST_EXPECT_MSG(t, !seen, "the callback ran while CPU %u was still in rcu_read_lock()", cpu);
    KTEST_EXPECT_MSG(t, rcu_gp_started() != rcu_gp_completed(), "no grace period is waiting for CPU %u", cpu);
    start = ktime_get_ns();
    __atomic_store_n(&reader_state, READER_RELEASE, __ATOMIC_RELEASE);
    KTEST_EXPECT_MSG(t, sleep_until_ul(&reader_cb_ran, 1), "the callback never ran after the reader left");
    printk("# rcu_callback_waits_for_reader: callback held 300 ms by the reader on CPU %u, ran %lu ms after it left\n",
           cpu, ms_since(start));
}

/* --- the churn workload over many GPs: the backlog stays bounded, readers never see freed objects --- */

KTEST(rcu_churn_backlog_bounded)
{
    struct rcu_churn_stats s;
    unsigned long done = rcu_gp_completed();
    uint64_t start = ktime_get_ns(), ms;

    rcu_churn_start(&cpu_online_mask, 1);
    while (rcu_gp_completed() < done + 50 && ms_since(start) < WAIT_MS)
        msleep(10);
    KTEST_EXPECT_MSG(t, rcu_gp_completed() >= done + 50, "only %lu GPs completed in %u ms",
                     rcu_gp_completed() - done, WAIT_MS);
    rcu_churn_stop();
    ms = ms_since(start);
    rcu_churn_get_stats(&s);
    KTEST_EXPECT(t, s.published > 0);
    KTEST_EXPECT_MSG(t, s.alloc_failures == 0, "%lu allocations failed", s.alloc_failures);
    KTEST_EXPECT_MSG(t, s.bad_reads == 0, "readers saw %lu freed objects: a GP ended too early", s.bad_reads);
    KTEST_EXPECT_MSG(t, s.max_backlog <= OBJ_POOL_SIZE / 2, "the backlog reached %lu callbacks", s.max_backlog);
    /* Everything comes back once the last GPs have ended. */
    start = ktime_get_ns();
    while ((rcu_cbs_queued() || obj_pool_free() != OBJ_POOL_SIZE) && ms_since(start) < WAIT_MS)
        msleep(10);
    KTEST_EXPECT_MSG(t, rcu_cbs_queued() == 0 && obj_pool_free() == OBJ_POOL_SIZE,
                     "%lu callbacks still queued, %u of %u objects free", rcu_cbs_queued(),
                     obj_pool_free(), OBJ_POOL_SIZE);
    printk("# rcu_churn_backlog_bounded: %lu objects through %lu GPs in %lu ms (%lu ms per GP), "
           "backlog at most %lu callbacks\n", s.published, rcu_gp_completed() - done, ms,
           ms / (rcu_gp_completed() - done + 1), s.max_backlog);
}

/* --- on purpose: a CPU that never passes a quiescent state (separate runs, tests/checks/rcu.toml) --- */

static uint64_t stall_began_ns;
static unsigned stall_cpu;

/* The spinners: named functions, so the backtraces show what holds the GP. */
__attribute__((noinline)) static void rcu_test_spin_preempt_off(void)
{
    preempt_disable();
    __atomic_store_n(&stall_began_ns, ktime_get_ns(), __ATOMIC_RELEASE);
    for (;;)
        cpu_relax();
}

__attribute__((noinline)) static void rcu_test_spin_irqs_off(void)
{
    local_irq_disable();
    __atomic_store_n(&stall_began_ns, ktime_get_ns(), __ATOMIC_RELEASE);
    for (;;)
        cpu_relax();
}

static int rcu_test_spinner(void *irqs_off)
{
    if (irqs_off)
        rcu_test_spin_irqs_off();
    else
        rcu_test_spin_preempt_off();
    return 0;
}

/* The detectors' last words (kernel/detector_stop.h): how long after the
 * stall began each headline came, from the detectors' own log. */
static void rcu_test_stop_hook(const char *which)
{
    static const char *const headlines[] = { "RCU stall", "Out of memory" };

    (void)which;
    for (unsigned i = 0; i < sizeof headlines / sizeof headlines[0]; i++) {
        const struct detector_event *e = detector_find_event(headlines[i], stall_began_ns);
        if (e)
            printk("# rcu stall test: '%s' headline %lu ms after CPU %u stopped passing quiescent states "
                   "(printed by CPU %u)\n", headlines[i], (e->ns - stall_began_ns) / NSEC_PER_MSEC,
                   stall_cpu, e->by_cpu);
    }
}

static struct rcu_head stall_head;
static void stall_test_cb(struct rcu_head *head) { (void)head; }

/* Start the spinner on the last CPU and a GP that needs it. */
static bool start_stall(struct ktest *t, bool irqs_off)
{
    if (num_online_cpus() < 2) {
        ktest_skip(t, "needs 2 CPUs");
        return false;
    }
    stall_cpu = cpumask_last(&cpu_online_mask);
    detector_stop_hook = rcu_test_stop_hook;
    if (!kthread_run_on_cpu(rcu_test_spinner, irqs_off ? (void *)1 : NULL, stall_cpu, "rcu_spinner/%u")) {
        KTEST_EXPECT_MSG(t, false, "cannot start the spinner on CPU %u", stall_cpu);
        return false;
    }
    while (!__atomic_load_n(&stall_began_ns, __ATOMIC_ACQUIRE))
        msleep(1);
    printk("# rcu stall test: CPU %u spins with %s from t=%lu ms\n", stall_cpu,
           irqs_off ? "IRQs off" : "preemption off", stall_began_ns / NSEC_PER_MSEC);
    call_rcu(&stall_head, stall_test_cb);
    return true;
}

/* Only the stop policy ends these: reaching the end is the failure. */
static void wait_for_the_stop(struct ktest *t, const char *what)
{
    msleep(WAIT_MS + (unsigned)rcu_cpu_stall_timeout * 1000);
    KTEST_EXPECT_MSG(t, false, "no %s report stopped the run", what);
}

/* Preemption off, IRQs on: the CPU's own tick sees it owes the GP and says so. */
KTEST_FATAL(rcu_stall_preempt_off)
{
    if (start_stall(t, false))
        wait_for_the_stop(t, "RCU stall");
}

/* IRQs off: no tick on that CPU; another CPU reports it, with its NMI backtrace. */
KTEST_FATAL(rcu_stall_irqs_off)
{
    if (start_stall(t, true))
        wait_for_the_stop(t, "RCU stall");
}

/* The rest of seed 000's chain: the GP cannot end, the churn's callbacks pile up, the pool runs out. */
KTEST_FATAL(rcu_oom_backlog)
{
    struct cpumask others = cpu_online_mask;

    if (!start_stall(t, false))
        return;
    cpumask_clear_cpu(stall_cpu, &others);
    rcu_churn_start(&others, 8);
    wait_for_the_stop(t, "out-of-memory");
}

/*
 * CPU 0 itself stops: the GP kthread, bound there, starves. A reader on the
 * last CPU holds the GP open first, so that a GP is running when CPU 0
 * stops (a GP the kthread never started would be no stall at all).
 */
KTEST_FATAL(rcu_stall_gp_kthread_starved)
{
    unsigned cpu = cpumask_last(&cpu_online_mask);
    unsigned long g;

    if (num_online_cpus() < 2) {
        ktest_skip(t, "needs 2 CPUs");
        return;
    }
    reader_state = READER_START;
    if (!kthread_run_on_cpu(rcu_test_reader, NULL, cpu, "rcu_reader/%u")) {
        KTEST_EXPECT_MSG(t, false, "cannot start the reader on CPU %u", cpu);
        return;
    }
    while (__atomic_load_n(&reader_state, __ATOMIC_ACQUIRE) != READER_INSIDE)
        msleep(1);
    g = rcu_gp_started();
    call_rcu(&stall_head, stall_test_cb);
    while (rcu_gp_started() == g)
        msleep(1);
    stall_cpu = 0;
    detector_stop_hook = rcu_test_stop_hook;
    /* The spinner runs once this thread sleeps, and never gives CPU 0 back. */
    if (!kthread_run_on_cpu(rcu_test_spinner, NULL, 0, "rcu_spinner/%u")) {
        KTEST_EXPECT_MSG(t, false, "cannot start the spinner on CPU 0");
        return;
    }
    wait_for_the_stop(t, "RCU stall");
}
