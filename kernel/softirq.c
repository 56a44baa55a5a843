/* kernel/softirq.c: softirqs as Linux runs them: on interrupt exit, at local_bh_enable(), or in ksoftirqd/N; and tasklets. */
#include "kernel/softirq.h"
#include "arch/x86_64/percpu.h"
#include "kernel/bug.h"
#include "kernel/cpumask.h"
#include "kernel/hardirq.h"
#include "kernel/irqflags.h"
#include "kernel/monitor.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "kernel/string.h"
#include "kernel/time.h"

const char *const softirq_to_name[NR_SOFTIRQS] = {
    "HI", "TIMER", "NET_TX", "NET_RX", "BLOCK", "IRQ_POLL", "TASKLET", "SCHED", "HRTIMER", "RCU",
};

static struct softirq_action softirq_vec[NR_SOFTIRQS];
struct softirq_cpu softirq_cpus[NR_CPUS];

static struct softirq_cpu *this_softirq(void)
{
    return &softirq_cpus[smp_processor_id()];
}

void open_softirq(int nr, void (*action)(void))
{
    WARN_ON(nr < 0 || nr >= NR_SOFTIRQS);
    softirq_vec[nr].action = action;
}

uint32_t local_softirq_pending(void)
{
    return __atomic_load_n(&this_softirq()->pending, __ATOMIC_RELAXED);
}

/* ---------------------------------------------------------------- ksoftirqd */

/*
 * Hand the pending softirqs to this CPU's thread: they run at task priority,
 * taking turns with other tasks, instead of starving them from interrupt
 * exit (Linux's wakeup_softirqd()).
 */
static void wakeup_softirqd(void)
{
    struct softirq_cpu *sc = this_softirq();
    struct task_struct *tsk = __atomic_load_n(&sc->ksoftirqd, __ATOMIC_ACQUIRE);

    sc->ksoftirqd_wakeups++;
    if (tsk)
        wake_up_process(tsk);
}

/* ---------------------------------------------------------------- raising */

void raise_softirq_irqoff(unsigned nr)
{
    WARN_ON_ONCE(!irqs_disabled());
    if (nr >= NR_SOFTIRQS) {
        WARN_ONCE(1, "softirq: raise of unknown vector %u", nr);
        return;
    }
    this_softirq()->pending |= 1U << nr;
    /*
     * In an interrupt or a BH-disabled section, its end (irq_exit(),
     * local_bh_enable()) runs it. In plain task context nothing is coming
     * that would, so the thread must (Linux's raise_softirq_irqoff()).
     */
    if (!in_interrupt())
        wakeup_softirqd();
}

void raise_softirq(unsigned nr)
{
    unsigned long flags;

    local_irq_save(flags);
    raise_softirq_irqoff(nr);
    local_irq_restore(flags);
}

/* ---------------------------------------------------------------- running them */

/* Linux's msecs_to_jiffies(MAX_SOFTIRQ_TIME): rounded up, so at least one tick. */
static uint64_t max_softirq_jiffies(void)
{
    return ((uint64_t)MAX_SOFTIRQ_TIME_MS * (uint64_t)param_hz + 999) / 1000;
}

/*
 * Run the pending softirqs, lowest vector first, with IRQs ON while each
 * handler runs (the point of deferring the work), and SOFTIRQ_OFFSET in
 * preempt_count so that nothing starts another softirq on this CPU
 * meanwhile: an interrupt during a handler finds in_interrupt() at its exit.
 * Handlers may raise more; after a pass, what is pending again is run
 * again, up to MAX_SOFTIRQ_RESTART passes, MAX_SOFTIRQ_TIME, or until the
 * scheduler wants the CPU; the rest goes to ksoftirqd/N. origin counts the
 * call for statistics. Called with IRQs off; returns with IRQs off.
 */
static void __do_softirq(uint64_t *origin)
{
    struct softirq_cpu *sc = this_softirq();
    uint64_t end = jiffies + max_softirq_jiffies();
    int max_restart = MAX_SOFTIRQ_RESTART;
    uint32_t pending = sc->pending;

    (*origin)++;
    __local_bh_disable_ip(_RET_IP_, SOFTIRQ_OFFSET);
restart:
    sc->pending = 0;
    local_irq_enable();
    while (pending) {
        unsigned nr = (unsigned)__builtin_ctz(pending);
        unsigned prev_count = preempt_count();

        pending &= pending - 1;
        sc->count[nr]++;
        if (softirq_vec[nr].action)
            softirq_vec[nr].action();
        if (prev_count != preempt_count()) {
            /* Linux's words; the count is put back so the CPU can go on. */
            pr_err("huh, entered softirq %u %s %px with preempt_count %08x, exited with %08x?\n", nr,
                   softirq_to_name[nr], (void *)softirq_vec[nr].action, prev_count, preempt_count());
            this_cpu_write(preempt_count, prev_count);
        }
    }
    local_irq_disable();

    pending = sc->pending;
    if (pending) {
        bool in_time = (int64_t)(jiffies - end) < 0, resched = need_resched();

        if (in_time && !resched && --max_restart)
            goto restart;
        if (!in_time)
            sc->time_limit++;
        else if (resched)
            sc->resched_limit++;
        else
            sc->restart_limit++;
        wakeup_softirqd();
    }
    __local_bh_enable_ip(_RET_IP_, SOFTIRQ_OFFSET);
}

void irq_exit(void)
{
    WARN_ON_ONCE(!irqs_disabled());
    __irq_exit();
    if (!in_interrupt() && local_softirq_pending())
        __do_softirq(&this_softirq()->irq_exit_runs);
}

void do_softirq(void)
{
    unsigned long flags;

    if (in_interrupt())
        return;
    local_irq_save(flags);
    if (local_softirq_pending())
        __do_softirq(&this_softirq()->bh_enable_runs);
    local_irq_restore(flags);
}

/*
 * ksoftirqd/N: sleeps until woken with something pending, then serves it
 * like an interrupt exit would (in softirq context), and lets other tasks
 * run between rounds.
 */
static int ksoftirqd_fn(void *arg)
{
    (void)arg;
    for (;;) {
        set_current_state(TASK_INTERRUPTIBLE);
        if (!local_softirq_pending())
            schedule();
        set_current_state(TASK_RUNNING);
        local_irq_disable();
        if (local_softirq_pending())
            __do_softirq(&this_softirq()->ksoftirqd_runs);
        local_irq_enable();
        cond_resched();
    }
    return 0;
}

/* ---------------------------------------------------------------- BH-disabled sections */

/*
 * Add cnt (SOFTIRQ_DISABLE_OFFSET, or SOFTIRQ_OFFSET when a softirq starts)
 * to preempt_count. With IRQs off around it (raw: this is not an irq-state
 * change anyone traces) so that the irq-trace stamp of the 0 -> nonzero
 * transition matches the count.
 */
void __local_bh_disable_ip(unsigned long ip, unsigned cnt)
{
    unsigned long flags;

    raw_local_irq_save(flags);
    preempt_count_add(cnt);
    if (softirq_count() == (cnt & SOFTIRQ_MASK))
        trace_softirqs_off(ip);
    raw_local_irq_restore(flags);
}

/*
 * Take cnt back off preempt_count. For SOFTIRQ_DISABLE_OFFSET
 * (local_bh_enable()), as Linux's __local_bh_enable_ip(): IRQs are turned
 * off, the count dropped to all but one preemption level, pending softirqs
 * run if that left no interrupt context, then the last level goes and IRQs
 * come back on. So it must be called with IRQs on (it turns them on
 * whatever the caller had) and never in hardirq context. For
 * SOFTIRQ_OFFSET (the end of __do_softirq()), IRQs are off and stay off.
 */
void __local_bh_enable_ip(unsigned long ip, unsigned cnt)
{
    if (cnt == SOFTIRQ_OFFSET) {
        if (softirq_count() == SOFTIRQ_OFFSET)
            trace_softirqs_on(ip);
        preempt_count_sub(cnt);
        return;
    }
    WARN_ON_ONCE(in_hardirq() || irqs_disabled());
    local_irq_disable();
    if (softirq_count() == SOFTIRQ_DISABLE_OFFSET)
        trace_softirqs_on(ip);
    preempt_count_sub(cnt - 1);
    if (!in_interrupt() && local_softirq_pending())
        do_softirq();
    preempt_count_sub(1);
    local_irq_enable();
}

void local_bh_disable(void)
{
    __local_bh_disable_ip(_RET_IP_, SOFTIRQ_DISABLE_OFFSET);
}

void local_bh_enable(void)
{
    __local_bh_enable_ip(_RET_IP_, SOFTIRQ_DISABLE_OFFSET);
}

const char *softirq_state_name(uint32_t pc)
{
    if (pc & SOFTIRQ_OFFSET)
        return "softirq";
    return (pc & SOFTIRQ_MASK) ? "BH off" : "";
}

/* ---------------------------------------------------------------- tasklets */

/* Each CPU's scheduled tasklets, in order; touched by that CPU with IRQs off. */
static struct tasklet_head {
    struct tasklet_struct *head, **tail;
} tasklet_vec[NR_CPUS];

void tasklet_init(struct tasklet_struct *t, void (*func)(unsigned long), unsigned long data)
{
    t->next = NULL;
    t->state = 0;
    t->func = func;
    t->data = data;
}

/* Append t to this CPU's list and raise the vector. IRQs off. */
static void tasklet_enqueue(struct tasklet_struct *t)
{
    struct tasklet_head *tl = &tasklet_vec[smp_processor_id()];

    if (!tl->tail)
        tl->tail = &tl->head;
    t->next = NULL;
    *tl->tail = t;
    tl->tail = &t->next;
    raise_softirq_irqoff(TASKLET_SOFTIRQ);
}

void tasklet_schedule(struct tasklet_struct *t)
{
    unsigned long flags;

    /* SCHED set: already queued somewhere, and it will run once for both calls. */
    if (__atomic_fetch_or(&t->state, 1UL << TASKLET_STATE_SCHED, __ATOMIC_ACQ_REL) & (1UL << TASKLET_STATE_SCHED))
        return;
    local_irq_save(flags);
    tasklet_enqueue(t);
    local_irq_restore(flags);
}

/*
 * TASKLET_SOFTIRQ: take this CPU's list and run each tasklet. RUN keeps a
 * tasklet off two CPUs at once (scheduled again on another CPU while it
 * runs here); one that is running elsewhere goes back on the list. SCHED is
 * cleared just before its function runs, so the function may schedule it
 * again (and be run again in the next pass).
 */
static void tasklet_action(void)
{
    struct tasklet_head *tl = &tasklet_vec[smp_processor_id()];
    struct tasklet_struct *list;

    local_irq_disable();
    list = tl->head;
    tl->head = NULL;
    tl->tail = &tl->head;
    local_irq_enable();

    while (list) {
        struct tasklet_struct *t = list;

        list = list->next;
        if (!(__atomic_fetch_or(&t->state, 1UL << TASKLET_STATE_RUN, __ATOMIC_ACQUIRE) & (1UL << TASKLET_STATE_RUN))) {
            if (!(__atomic_fetch_and(&t->state, ~(1UL << TASKLET_STATE_SCHED), __ATOMIC_ACQ_REL) &
                  (1UL << TASKLET_STATE_SCHED)))
                WARN_ONCE(1, "tasklet: %ps on the list without TASKLET_STATE_SCHED", (void *)t->func);
            t->func(t->data);
            __atomic_fetch_and(&t->state, ~(1UL << TASKLET_STATE_RUN), __ATOMIC_RELEASE);
            continue;
        }
        local_irq_disable();
        tasklet_enqueue(t);
        local_irq_enable();
    }
}

/* ---------------------------------------------------------------- boot and monitor */

void softirq_init(void)
{
    unsigned cpu;

    open_softirq(TASKLET_SOFTIRQ, tasklet_action);
    for_each_online_cpu(cpu) {
        struct task_struct *t = kthread_run_on_cpu(ksoftirqd_fn, NULL, cpu, "ksoftirqd/%u");

        if (!t)
            pr_warn("softirq: cannot start ksoftirqd/%u: softirqs there run only on interrupt exit\n", cpu);
        __atomic_store_n(&softirq_cpus[cpu].ksoftirqd, t, __ATOMIC_RELEASE);
    }
}

/* Like /proc/softirqs, then where each CPU is now and how its softirqs were run. */
MONITOR_COMMAND(softirqs, "softirqs run per vector and CPU (like /proc/softirqs), and each CPU's softirq state")
{
    unsigned cpu;

    (void)argc; (void)argv;
    printk("                    ");
    for_each_online_cpu(cpu)
        pr_cont("CPU%-8u", cpu);
    pr_cont("\n");
    for (unsigned nr = 0; nr < NR_SOFTIRQS; nr++) {
        printk("%12s:", softirq_to_name[nr]);
        for_each_online_cpu(cpu)
            pr_cont(" %10lu", __atomic_load_n(&softirq_cpus[cpu].count[nr], __ATOMIC_RELAXED));
        pr_cont("\n");
    }
    printk("CPU  pending  context   irq_exit  bh_enable  ksoftirqd  restart_limit  time_limit  resched  thread\n");
    for_each_online_cpu(cpu) {
        const struct softirq_cpu *sc = &softirq_cpus[cpu];
        uint32_t pc = percpu_area[cpu].preempt_count;
        const char *state = softirq_state_name(pc);

        printk("%-4u 0x%04x   %-8s %9lu %10lu %10lu %14lu %11lu %8lu  %s\n", cpu, sc->pending, *state ? state : "-",
               sc->irq_exit_runs, sc->bh_enable_runs, sc->ksoftirqd_runs, sc->restart_limit, sc->time_limit,
               sc->resched_limit,
               sc->ksoftirqd ? sc->ksoftirqd->comm : "(none)");
    }
    return 0;
}
