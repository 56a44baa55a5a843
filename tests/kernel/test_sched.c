/* tests/kernel/test_sched.c: kernel threads and the per-CPU scheduler: switching, waking, sleeping, preemption. */
#include "kernel/ktest.h"
#include "arch/x86_64/irq_vectors.h"
#include "kernel/cpumask.h"
#include "kernel/hardirq.h"
#include "kernel/irqflags.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "kernel/string.h"
#include "kernel/time.h"

/*
 * Every case lines its threads up with flags and wakeups, never with sleeps:
 * under TCG a vCPU can lose the host for a long time at any moment. The 20 s
 * deadlines only turn a broken scheduler into a failure instead of a hang.
 */
#define DEADLINE_NS (20 * NSEC_PER_SEC)

/* Sleep until *flag is set (by someone who then wakes us); false at the deadline. */
static bool wait_flag(volatile unsigned *flag)
{
    uint64_t deadline = ktime_get_ns() + DEADLINE_NS;

    for (;;) {
        set_current_state(TASK_INTERRUPTIBLE);
        if (__atomic_load_n(flag, __ATOMIC_ACQUIRE)) {
            set_current_state(TASK_RUNNING);
            return true;
        }
        uint64_t now = ktime_get_ns();
        if (now >= deadline) {
            set_current_state(TASK_RUNNING);
            return false;
        }
        schedule_timeout(deadline - now);
    }
}

/* Set *flag and wake the task waiting for it in wait_flag(). */
static void set_flag(volatile unsigned *flag, struct task_struct *waiter)
{
    __atomic_store_n(flag, 1, __ATOMIC_RELEASE);
    wake_up_process(waiter);
}

/* Spin (preemptibly) until *p >= value; false at the deadline. */
static bool spin_until(volatile uint64_t *p, uint64_t value)
{
    uint64_t deadline = ktime_get_ns() + DEADLINE_NS;

    while (__atomic_load_n(p, __ATOMIC_ACQUIRE) < value)
        if (ktime_get_ns() > deadline)
            return false;
    return true;
}

/* Wait, sleeping a tick at a time, until p is dead; false at the deadline. */
static bool wait_dead(struct task_struct *p)
{
    uint64_t deadline = ktime_get_ns() + DEADLINE_NS;

    while (__atomic_load_n(&p->state, __ATOMIC_ACQUIRE) != TASK_DEAD)
        if (ktime_get_ns() > deadline)
            return false;
        else
            msleep(1);
    return true;
}

/* --- the boot's work runs in a kernel thread, like Linux's kernel_init --- */

static volatile unsigned exit_ran;

static int exit_thread(void *arg)
{
    (void)arg;
    __atomic_fetch_add(&exit_ran, 1, __ATOMIC_RELAXED);
    return 0;
}

KTEST(sched_ktest_runs_in_a_kthread)
{
    struct task_struct *me = current;

    KTEST_EXPECT(t, me && me->pid > 0 && strcmp(me->comm, "ktest") == 0);
    KTEST_EXPECT(t, in_task() && !irqs_disabled() && preempt_count() == 0);
    KTEST_EXPECT(t, smp_processor_id() == 0 && me->cpu == 0);
    KTEST_EXPECT(t, (uint64_t)&me >= me->stack_begin && (uint64_t)&me < me->stack_end);

    /* A thread that returns is dead and never runs again; dead slots are
     * reused, so three times the task table's worth of threads all start. */
    exit_ran = 0;
    for (unsigned i = 0; i < 3 * 64; i++) {
        struct task_struct *p = kthread_run_on_cpu(exit_thread, NULL, cpumask_last(&cpu_online_mask), "exit/%u");
        if (!KTEST_EXPECT_MSG(t, p != NULL, "thread %u not created", i))
            break;
        if (!KTEST_EXPECT_MSG(t, wait_dead(p), "thread %u never died", i))
            break;
    }
    KTEST_EXPECT_MSG(t, exit_ran == 3 * 64, "the threads ran %u times", exit_ran);
}

/* --- two threads on one CPU take turns: each wakes the other, then sleeps --- */

#define PINGPONG_ROUNDS 50

static struct {
    struct task_struct *task[2];
    volatile unsigned turn;             /* whose turn: 0 or 1 */
    volatile unsigned done[2];
    unsigned order[2 * PINGPONG_ROUNDS];
    unsigned n;
    volatile unsigned wrong_cpu;
    struct task_struct *tester;
    volatile unsigned finished;
} pp;

static int pingpong_thread(void *arg)
{
    unsigned me = (unsigned)(uintptr_t)arg;
    uint64_t deadline = ktime_get_ns() + DEADLINE_NS;

    for (unsigned round = 0; round < PINGPONG_ROUNDS; round++) {
        for (;;) {
            set_current_state(TASK_INTERRUPTIBLE);
            if (__atomic_load_n(&pp.turn, __ATOMIC_ACQUIRE) == me || ktime_get_ns() > deadline)
                break;
            schedule_timeout(NSEC_PER_SEC);
        }
        set_current_state(TASK_RUNNING);
        if (smp_processor_id() != pp.task[me]->cpu)
            pp.wrong_cpu++;
        pp.order[pp.n++ % (2 * PINGPONG_ROUNDS)] = me;
        if (me == 0)
            msleep(1);                  /* a timed sleep in its turn: the CPU idles */
        __atomic_store_n(&pp.turn, 1 - me, __ATOMIC_RELEASE);
        wake_up_process(pp.task[1 - me]);
    }
    pp.done[me] = 1;
    if (pp.done[1 - me])
        set_flag(&pp.finished, pp.tester);
    return 0;
}

KTEST(sched_two_threads_alternate)
{
    unsigned cpu = cpumask_last(&cpu_online_mask);

    memset(&pp, 0, sizeof pp);
    pp.tester = current;
    /* Neither runs before both exist: turn 0 is only taken after the wakeup below. */
    pp.turn = 2;
    pp.task[0] = kthread_run_on_cpu(pingpong_thread, (void *)0, cpu, "ping/%u");
    pp.task[1] = kthread_run_on_cpu(pingpong_thread, (void *)1, cpu, "pong/%u");
    KTEST_EXPECT(t, pp.task[0] && pp.task[1]);
    if (!pp.task[0] || !pp.task[1])
        return;
    __atomic_store_n(&pp.turn, 0, __ATOMIC_RELEASE);
    wake_up_process(pp.task[0]);
    KTEST_EXPECT(t, wait_flag(&pp.finished));
    KTEST_EXPECT(t, wait_dead(pp.task[0]) && wait_dead(pp.task[1]));
    KTEST_EXPECT_MSG(t, pp.n == 2 * PINGPONG_ROUNDS, "%u turns", pp.n);
    for (unsigned i = 0; i < pp.n && i < 2 * PINGPONG_ROUNDS; i++)
        if (!KTEST_EXPECT_MSG(t, pp.order[i] == i % 2, "turn %u was taken by %u", i, pp.order[i]))
            break;
    KTEST_EXPECT(t, pp.wrong_cpu == 0);
    /* Each gave the CPU up to sleep at least once per round. */
    KTEST_EXPECT_MSG(t, pp.task[0]->nvcsw >= PINGPONG_ROUNDS && pp.task[1]->nvcsw >= PINGPONG_ROUNDS,
                     "voluntary switches %lu, %lu", pp.task[0]->nvcsw, pp.task[1]->nvcsw);
}

/* --- a thread bound to each CPU runs there, and only there --- */

static struct {
    volatile unsigned seen_cpu[NR_CPUS];
    volatile unsigned bad[NR_CPUS];
    volatile unsigned remaining;
    struct task_struct *tester;
    volatile unsigned all_done;
} percpu_run;

static int where_am_i_thread(void *arg)
{
    unsigned cpu = (unsigned)(uintptr_t)arg;

    for (int i = 0; i < 5; i++) {
        if (smp_processor_id() != cpu || current->cpu != cpu || !in_task() || irqs_disabled())
            percpu_run.bad[cpu]++;
        msleep(1);                      /* and again after a sleep and a wakeup */
    }
    percpu_run.seen_cpu[cpu] = smp_processor_id();
    if (__atomic_sub_fetch(&percpu_run.remaining, 1, __ATOMIC_ACQ_REL) == 0)
        set_flag(&percpu_run.all_done, percpu_run.tester);
    return 0;
}

KTEST(sched_thread_per_cpu_stays_there)
{
    unsigned cpu;

    memset(&percpu_run, 0, sizeof percpu_run);
    percpu_run.tester = current;
    percpu_run.remaining = num_online_cpus();
    for_each_online_cpu(cpu) {
        percpu_run.seen_cpu[cpu] = NR_CPUS;
        KTEST_EXPECT_MSG(t, kthread_run_on_cpu(where_am_i_thread, (void *)(uintptr_t)cpu, cpu, "where/%u"),
                         "no thread for CPU %u", cpu);
    }
    KTEST_EXPECT(t, wait_flag(&percpu_run.all_done));
    for_each_online_cpu(cpu)
        KTEST_EXPECT_MSG(t, percpu_run.seen_cpu[cpu] == cpu && percpu_run.bad[cpu] == 0,
                         "thread of CPU %u ran on CPU %u (%u bad checks)", cpu, percpu_run.seen_cpu[cpu],
                         percpu_run.bad[cpu]);
    KTEST_EXPECT(t, kthread_run_on_cpu(where_am_i_thread, NULL, NR_CPUS, "bad/%u") == NULL);
}

/* --- a sleeper on another CPU, woken from this one --- */

static struct {
    struct task_struct *sleeper, *tester;
    volatile unsigned ready, go, woke;
    volatile unsigned woke_on;
} rw;

static int remote_sleeper(void *arg)
{
    (void)arg;
    set_flag(&rw.ready, rw.tester);
    /* No timeout: only wake_up_process() can end this sleep. */
    for (;;) {
        set_current_state(TASK_INTERRUPTIBLE);
        if (__atomic_load_n(&rw.go, __ATOMIC_ACQUIRE))
            break;
        schedule_timeout(MAX_SCHEDULE_TIMEOUT);
    }
    set_current_state(TASK_RUNNING);
    rw.woke_on = smp_processor_id();
    set_flag(&rw.woke, rw.tester);
    return 0;
}

KTEST(sched_wakeup_from_another_cpu)
{
    unsigned cpu = cpumask_last(&cpu_online_mask);
    uint64_t ipis_before;

    if (cpu == 0) {
        ktest_skip(t, "needs 2 CPUs");
        return;
    }
    memset(&rw, 0, sizeof rw);
    rw.tester = current;
    rw.sleeper = kthread_run_on_cpu(remote_sleeper, NULL, cpu, "sleeper/%u");
    KTEST_EXPECT(t, rw.sleeper != NULL);
    if (!rw.sleeper)
        return;
    KTEST_EXPECT(t, wait_flag(&rw.ready));
    /* Wait until it has really left its CPU: asleep, and not current there. */
    uint64_t deadline = ktime_get_ns() + DEADLINE_NS;
    while (!(rw.sleeper->state == TASK_INTERRUPTIBLE && percpu_area[cpu].current_task != rw.sleeper) &&
           ktime_get_ns() < deadline)
        msleep(1);
    KTEST_EXPECT(t, rw.sleeper->state == TASK_INTERRUPTIBLE);
    sched_show_task(rw.sleeper);        /* the suite checks this backtrace (test=sched_wakeup_from_another_cpu) */
    ipis_before = percpu_area[cpu].irq_count[RESCHEDULE_VECTOR];
    __atomic_store_n(&rw.go, 1, __ATOMIC_RELEASE);
    wake_up_process(rw.sleeper);
    KTEST_EXPECT(t, wait_flag(&rw.woke));
    KTEST_EXPECT_MSG(t, rw.woke_on == cpu, "woke on CPU %u", rw.woke_on);
    KTEST_EXPECT(t, wait_dead(rw.sleeper));
    printk("# sched_wakeup_from_another_cpu: CPU %u took %lu reschedule IPIs\n", cpu,
           percpu_area[cpu].irq_count[RESCHEDULE_VECTOR] - ipis_before);
}

/* --- preemption: two busy, preemptible threads on one CPU both progress --- */

#define PREEMPT_TURNS 5

static struct {
    volatile uint64_t count[2];
    volatile uint64_t turns[2];         /* how often each came back and saw the other had run */
    volatile unsigned gave_up;
} busy;

static int busy_thread(void *arg)
{
    unsigned me = (unsigned)(uintptr_t)arg;
    uint64_t seen = busy.count[1 - me];
    uint64_t deadline = ktime_get_ns() + DEADLINE_NS;

    /* Never sleeps, never yields: only the tick's preemption lets the other run. */
    while (busy.turns[me] < PREEMPT_TURNS || busy.turns[1 - me] < PREEMPT_TURNS) {
        busy.count[me]++;
        uint64_t other = __atomic_load_n(&busy.count[1 - me], __ATOMIC_RELAXED);
        if (other != seen) {
            seen = other;
            busy.turns[me]++;
        }
        if (ktime_get_ns() > deadline) {
            busy.gave_up = 1;
            break;
        }
    }
    return 0;
}

KTEST(sched_preemption_shares_a_cpu)
{
    unsigned cpu = cpumask_last(&cpu_online_mask);
    struct task_struct *a, *b;

    memset((void *)&busy, 0, sizeof busy);
    a = kthread_run_on_cpu(busy_thread, (void *)0, cpu, "busy0/%u");
    b = kthread_run_on_cpu(busy_thread, (void *)1, cpu, "busy1/%u");
    KTEST_EXPECT(t, a && b);
    if (!a || !b)
        return;
    KTEST_EXPECT(t, wait_dead(a) && wait_dead(b));
    KTEST_EXPECT_MSG(t, !busy.gave_up && busy.turns[0] >= PREEMPT_TURNS && busy.turns[1] >= PREEMPT_TURNS,
                     "turns %lu and %lu", busy.turns[0], busy.turns[1]);
    KTEST_EXPECT_MSG(t, a->nivcsw >= PREEMPT_TURNS - 1 && b->nivcsw >= PREEMPT_TURNS - 1,
                     "involuntary switches %lu and %lu", a->nivcsw, b->nivcsw);
}

/* --- preempt_disable() holds the CPU: nobody else runs there, however many ticks pass --- */

#define HOLD_TICKS 5

static struct {
    volatile uint64_t counter;          /* incremented by the runner whenever it has the CPU */
    volatile unsigned stop;
    uint64_t during;                    /* the runner's progress while preemption was off */
    uint64_t ticks;                     /* ticks the holder sat through */
    bool asked;                         /* need_resched was set meanwhile */
    bool after;                         /* the runner ran again after preempt_enable() */
    bool in_time;
} hold;

static int runner_thread(void *arg)
{
    (void)arg;
    while (!__atomic_load_n(&hold.stop, __ATOMIC_ACQUIRE))
        __atomic_fetch_add(&hold.counter, 1, __ATOMIC_RELAXED);
    return 0;
}

static int holder_thread(void *arg)
{
    (void)arg;
    /* Created after the runner, so the runner has had the CPU once we see it move. */
    hold.in_time = spin_until(&hold.counter, 1);
    unsigned cpu = get_cpu();
    uint64_t c0 = hold.counter;
    uint64_t t0 = percpu_area[cpu].tick_count;
    uint64_t deadline = ktime_get_ns() + DEADLINE_NS;
    while (percpu_area[cpu].tick_count < t0 + HOLD_TICKS && ktime_get_ns() < deadline)
        cpu_relax();
    hold.ticks = percpu_area[cpu].tick_count - t0;
    hold.during = hold.counter - c0;
    hold.asked = need_resched();
    uint64_t c1 = hold.counter;
    put_cpu();
    hold.after = spin_until(&hold.counter, c1 + 1);
    __atomic_store_n(&hold.stop, 1, __ATOMIC_RELEASE);
    return 0;
}

KTEST(sched_preempt_disable_holds_the_cpu)
{
    unsigned cpu = cpumask_last(&cpu_online_mask);
    struct task_struct *r, *h;

    memset(&hold, 0, sizeof hold);
    r = kthread_run_on_cpu(runner_thread, NULL, cpu, "runner/%u");
    h = kthread_run_on_cpu(holder_thread, NULL, cpu, "holder/%u");
    KTEST_EXPECT(t, r && h);
    if (!r || !h) {
        hold.stop = 1;
        return;
    }
    KTEST_EXPECT(t, wait_dead(h) && wait_dead(r));
    KTEST_EXPECT(t, hold.in_time);
    KTEST_EXPECT_MSG(t, hold.ticks >= HOLD_TICKS, "only %lu ticks", hold.ticks);
    KTEST_EXPECT_MSG(t, hold.during == 0, "the runner ran %lu times with preemption off", hold.during);
    KTEST_EXPECT_MSG(t, hold.asked, "the tick never asked for a reschedule");
    KTEST_EXPECT_MSG(t, hold.after, "the runner never ran after put_cpu()");
}

/* --- schedule_timeout() and msleep() sleep about as long as asked --- */

static struct {
    struct task_struct *sleeper, *tester;
    volatile unsigned asleep, done;
    uint64_t left;
} early;

static int long_sleeper(void *arg)
{
    (void)arg;
    set_current_state(TASK_INTERRUPTIBLE);
    set_flag(&early.asleep, early.tester);
    early.left = schedule_timeout(10 * NSEC_PER_SEC);
    set_flag(&early.done, early.tester);
    return 0;
}

/*
 * The lower bounds are exact: an hrtimer never fires before its time. The
 * upper bound is generous, 1 s over, because under TCG with 8 vCPUs on 2
 * host cores a vCPU can lose the host for hundreds of milliseconds.
 */
KTEST(sched_schedule_timeout_sleeps_the_time)
{
    const uint64_t slack = NSEC_PER_SEC;
    uint64_t start, took, left;

    start = ktime_get_ns();
    set_current_state(TASK_INTERRUPTIBLE);
    left = schedule_timeout(20 * NSEC_PER_MSEC);
    took = ktime_get_ns() - start;
    KTEST_EXPECT_MSG(t, left == 0 && took >= 20 * NSEC_PER_MSEC && took < 20 * NSEC_PER_MSEC + slack,
                     "schedule_timeout(20 ms) took %lu ns, %lu left", took, left);

    start = ktime_get_ns();
    msleep(30);
    took = ktime_get_ns() - start;
    KTEST_EXPECT_MSG(t, took >= 30 * NSEC_PER_MSEC && took < 30 * NSEC_PER_MSEC + slack,
                     "msleep(30) took %lu ns", took);

    /* Still TASK_RUNNING: no sleep at all, just a turn for others. */
    start = ktime_get_ns();
    schedule_timeout(NSEC_PER_SEC);
    KTEST_EXPECT(t, ktime_get_ns() - start < NSEC_PER_SEC);

    /* Woken long before its 10 s: it returns at once with most of the time left. */
    memset(&early, 0, sizeof early);
    early.tester = current;
    early.sleeper = kthread_run_on_cpu(long_sleeper, NULL, cpumask_last(&cpu_online_mask), "early/%u");
    KTEST_EXPECT(t, early.sleeper != NULL);
    if (!early.sleeper)
        return;
    KTEST_EXPECT(t, wait_flag(&early.asleep));
    wake_up_process(early.sleeper);
    KTEST_EXPECT(t, wait_flag(&early.done));
    KTEST_EXPECT_MSG(t, early.left > 5 * NSEC_PER_SEC, "%lu ns left of 10 s", early.left);
}
