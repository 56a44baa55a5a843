/* kernel/rcu.c: RCU-sched grace periods: quiescent states, the rcu_sched kthread, call_rcu() and synchronize_rcu(). */
#define pr_fmt(fmt) "rcu: " fmt
#include "kernel/rcu.h"
#include "kernel/rcu_internal.h"
#include "kernel/bug.h"
#include "kernel/hardirq.h"
#include "kernel/irqflags.h"
#include "kernel/monitor.h"
#include "kernel/objpool.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "kernel/time.h"
#include "kernel/vsprintf.h"

/*
 * The grace-period kthread runs on CPU 0: the one CPU every boot has
 * (nr_cpus=1 too). Linux lets it run anywhere; pinning it makes the labs
 * repeatable. Either way a CPU that never passes a quiescent state holds
 * every GP: when it is CPU 1 (seed 000), the GP waits for CPU 1's QS; when
 * it is CPU 0, the kthread itself cannot run either ("kthread starved").
 */
#define RCU_GP_KTHREAD_CPU 0

struct rcu_state rcu_state;
struct rcu_data rcu_data[NR_CPUS];
int rcu_cpu_stall_timeout = 3;

static int rcu_gp_kthread(void *arg);

/* Set up the callback lists and start the GP kthread. After sched_init(), before call_rcu(). */
void rcu_init(void)
{
    for (unsigned cpu = 0; cpu < NR_CPUS; cpu++) {
        struct rcu_data *rdp = &rcu_data[cpu];

        raw_spin_lock_init(&rdp->lock);
        rdp->next_head = rdp->wait_head = NULL;
        rdp->next_tail = &rdp->next_head;
        rdp->wait_tail = &rdp->wait_head;
    }
    rcu_state.gp_activity_ns = ktime_get_ns();
    rcu_state.gp_kthread = kthread_run_on_cpu(rcu_gp_kthread, NULL, RCU_GP_KTHREAD_CPU, "rcu_sched");
    BUG_ON(!rcu_state.gp_kthread);
}

/* ---------------------------------------------------------------- quiescent states */

/*
 * This CPU is at a quiescent state: it cannot be inside a read-side
 * section. If the running GP still waits for this CPU, it no longer does.
 * The bit was set when the GP started, so clearing it now counts a QS
 * that came after the start, as a GP requires.
 */
static void rcu_qs(void)
{
    unsigned cpu = smp_processor_id();

    rcu_data[cpu].last_qs_ns = ktime_get_ns();
    if (cpumask_test_cpu(cpu, &rcu_state.qs_pending))
        cpumask_clear_cpu(cpu, &rcu_state.qs_pending);
}

void rcu_note_context_switch(void)
{
    rcu_qs();
}

/*
 * The tick, in hardirq with IF=0. What did it interrupt? Our own
 * irq_enter() added HARDIRQ_OFFSET to preempt_count; without it, the count
 * is the interrupted code's. 0 means task code with preemption on, outside
 * any rcu_read_lock(): a QS (Linux's rcu_sched_clock_irq(user=0) with
 * !preempt_count()). The idle task holds no read-side section either.
 * (The interrupted code had IF=1, or this maskable interrupt could not
 * have come in.) A tick that interrupted another interrupt handler (a
 * handler that turned IF back on: seed 000) counts nothing.
 */
void rcu_sched_clock_irq(void)
{
    unsigned cpu = smp_processor_id();
    struct rcu_data *rdp = &rcu_data[cpu];
    unsigned interrupted = preempt_count() - HARDIRQ_OFFSET;
    struct task_struct *t = current;
    unsigned long gp = __atomic_load_n(&rcu_state.gp_started, __ATOMIC_ACQUIRE);

    if (rdp->gp_seen != gp) {           /* the first tick of a new GP on this CPU */
        rdp->gp_seen = gp;
        rdp->ticks_this_gp = 0;
    }
    rdp->ticks_this_gp++;
    if (interrupted == 0 || (t && t->pid == 0 && (interrupted & HARDIRQ_MASK) == 0))
        rcu_qs();
    rcu_check_cpu_stall();
}

/* ---------------------------------------------------------------- callbacks */

void call_rcu(struct rcu_head *head, void (*func)(struct rcu_head *head))
{
    struct rcu_data *rdp;
    unsigned long flags;

    head->func = func;
    head->next = NULL;
    /*
     * The caller unpublished the object before calling us. Order that
     * store before the enqueue: a GP that moves this callback to its wait
     * segment must start after the object was unreachable for new readers.
     */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    raw_local_irq_save(flags);
    rdp = &rcu_data[smp_processor_id()];
    raw_spin_lock(&rdp->lock);
    *rdp->next_tail = head;
    rdp->next_tail = &head->next;
    rdp->next_len++;
    raw_spin_unlock(&rdp->lock);
    raw_local_irq_restore(flags);
}

unsigned long rcu_cbs_queued(void)
{
    unsigned long n = 0;
    unsigned cpu;

    for_each_possible_cpu(cpu)
        n += __atomic_load_n(&rcu_data[cpu].next_len, __ATOMIC_RELAXED) +
             __atomic_load_n(&rcu_data[cpu].wait_len, __ATOMIC_RELAXED);
    return n;
}

/* Does some CPU have callbacks that no GP covers yet? */
static bool rcu_cbs_need_gp(void)
{
    unsigned cpu;

    for_each_possible_cpu(cpu)
        if (__atomic_load_n(&rcu_data[cpu].next_len, __ATOMIC_RELAXED))
            return true;
    return false;
}

/* ---------------------------------------------------------------- the GP kthread */

/*
 * Start GP g = gp_started + 1. First every CPU's next segment becomes its
 * wait segment for g, then the GP becomes visible, then every online CPU
 * is asked for a QS. In that order, each callback now waiting for g was
 * queued (and its object unpublished) before any CPU could report a QS for
 * g, so a reader that saw the object ends before g can complete.
 */
static void rcu_gp_init(void)
{
    unsigned long g = rcu_state.gp_started + 1;
    unsigned long flags;
    unsigned cpu;

    for_each_possible_cpu(cpu) {
        struct rcu_data *rdp = &rcu_data[cpu];

        raw_spin_lock_irqsave(&rdp->lock, flags);
        WARN_ON_ONCE(rdp->wait_head);       /* the last GP's cleanup took them */
        rdp->wait_head = rdp->next_head;
        rdp->wait_tail = rdp->next_head ? rdp->next_tail : &rdp->wait_head;
        rdp->wait_len = rdp->next_len;
        rdp->wait_gp = g;
        rdp->next_head = NULL;
        rdp->next_tail = &rdp->next_head;
        rdp->next_len = 0;
        raw_spin_unlock_irqrestore(&rdp->lock, flags);
    }
    rcu_state.gp_start_ns = ktime_get_ns();
    rcu_stall_arm(rcu_state.gp_start_ns);
    __atomic_store_n(&rcu_state.gp_started, g, __ATOMIC_SEQ_CST);
    __atomic_store_n(&rcu_state.qs_pending.bits, cpu_online_mask.bits, __ATOMIC_SEQ_CST);
}

/* Every CPU passed a QS: GP g is over. Take the callbacks that waited for it and run them. */
static void rcu_gp_cleanup(void)
{
    unsigned long flags;
    unsigned cpu;

    __atomic_store_n(&rcu_state.gp_completed, rcu_state.gp_started, __ATOMIC_SEQ_CST);
    for_each_possible_cpu(cpu) {
        struct rcu_data *rdp = &rcu_data[cpu];
        struct rcu_head *list;

        raw_spin_lock_irqsave(&rdp->lock, flags);
        list = rdp->wait_head;
        rdp->wait_head = NULL;
        rdp->wait_tail = &rdp->wait_head;
        rdp->wait_len = 0;
        raw_spin_unlock_irqrestore(&rdp->lock, flags);

        while (list) {                      /* Linux's rcu_do_batch(), in task context */
            struct rcu_head *next = list->next;

            list->func(list);
            rcu_state.cbs_invoked++;
            list = next;
        }
        cond_resched();
    }
}

/* Sleep one tick: the kthread looks again at the next one (Linux's FQS loop wakes every few jiffies). */
static void rcu_gp_sleep(void)
{
    set_current_state(TASK_INTERRUPTIBLE);
    schedule_timeout(rcu_tick_ns());
    rcu_state.gp_activity_ns = ktime_get_ns();
}

/*
 * The "rcu_sched" kthread: wait for callbacks, start a GP, wait (asleep)
 * until every CPU passed a QS, end the GP and invoke its callbacks. It
 * polls once a tick instead of being woken: call_rcu() then never has to
 * wake anything (it may run in an interrupt, or inside the scheduler).
 */
static int rcu_gp_kthread(void *arg)
{
    (void)arg;
    for (;;) {
        while (!rcu_cbs_need_gp())
            rcu_gp_sleep();
        rcu_gp_init();
        while (!cpumask_empty(&rcu_state.qs_pending))
            rcu_gp_sleep();
        rcu_gp_cleanup();
    }
    return 0;
}

/* ---------------------------------------------------------------- synchronize_rcu */

struct rcu_synchronize {
    struct rcu_head head;
    struct task_struct *task;
    bool done;
};

/* Runs in the GP kthread. Read the task before setting done: once done is
 * set, the waiter may return and its stack frame (*rs) be gone. */
static void wakeme_after_rcu(struct rcu_head *head)
{
    struct rcu_synchronize *rs = container_of(head, struct rcu_synchronize, head);
    struct task_struct *task = rs->task;

    __atomic_store_n(&rs->done, true, __ATOMIC_RELEASE);
    wake_up_process(task);
}

void synchronize_rcu(void)
{
    struct rcu_synchronize rs = { .task = current, .done = false };

    WARN_ON_ONCE(!in_task() || (preempt_count() & PREEMPT_MASK));
    call_rcu(&rs.head, wakeme_after_rcu);
    for (;;) {
        set_current_state(TASK_INTERRUPTIBLE);
        if (__atomic_load_n(&rs.done, __ATOMIC_ACQUIRE))
            break;
        schedule();
    }
    set_current_state(TASK_RUNNING);
}

/* ---------------------------------------------------------------- state and reports */

unsigned long rcu_gp_started(void)   { return __atomic_load_n(&rcu_state.gp_started, __ATOMIC_ACQUIRE); }
unsigned long rcu_gp_completed(void) { return __atomic_load_n(&rcu_state.gp_completed, __ATOMIC_ACQUIRE); }

bool rcu_gp_waits_for_cpu(unsigned cpu)
{
    return rcu_gp_in_progress() && cpumask_test_cpu(cpu, &rcu_state.qs_pending);
}

/* "1,3" into buf: the CPUs in mask. */
static void format_cpus(char *buf, unsigned long size, const struct cpumask *mask)
{
    unsigned long used = 0;
    unsigned cpu;

    buf[0] = '\0';
    for_each_cpu(cpu, mask)
        used += (unsigned long)ksnprintf(buf + used, size - used, "%s%u", used ? "," : "", cpu);
    if (!used)
        ksnprintf(buf, size, "none");
}

void rcu_print_backlog(void)
{
    uint64_t now = ktime_get_ns();
    struct cpumask holding = rcu_state.qs_pending;
    unsigned long waiting = 0, next = 0;
    char cpus[3 * NR_CPUS + 8];
    unsigned cpu;

    for_each_possible_cpu(cpu) {
        waiting += rcu_data[cpu].wait_len;
        next += rcu_data[cpu].next_len;
    }
    format_cpus(cpus, sizeof cpus, &holding);
    if (rcu_gp_in_progress())
        pr_err("%lu callbacks queued waiting for grace period %lu "
               "(gp started %lu ms ago; CPUs holding it: %s)\n", waiting, rcu_state.gp_started,
               (now - rcu_state.gp_start_ns) / NSEC_PER_MSEC, cpus);
    else
        pr_err("no grace period running (last completed: %lu)\n",
               rcu_state.gp_completed);
    pr_err("%lu callbacks queued for grace period %lu, which has not started\n",
           next, rcu_state.gp_started + 1);
    rcu_check_gp_kthread_starvation(now);
}

MONITOR_COMMAND(rcu, "grace periods: the running one, CPUs owing a quiescent state, callbacks, the object pool")
{
    uint64_t now = ktime_get_ns();
    struct cpumask holding = rcu_state.qs_pending;
    char cpus[3 * NR_CPUS + 8];
    unsigned cpu;

    (void)argc; (void)argv;
    if (rcu_gp_in_progress()) {
        format_cpus(cpus, sizeof cpus, &holding);
        printk("grace period %lu running for %lu ms; CPUs owing a quiescent state: %s\n",
               rcu_state.gp_started, (now - rcu_state.gp_start_ns) / NSEC_PER_MSEC, cpus);
    } else {
        printk("no grace period running; %lu completed\n", rcu_state.gp_completed);
    }
    printk("rcu_sched kthread on CPU %u, last woke %lu ms ago; %lu callbacks invoked since boot\n",
           RCU_GP_KTHREAD_CPU, rcu_state.gp_kthread ? (now - rcu_state.gp_activity_ns) / NSEC_PER_MSEC : 0,
           rcu_state.cbs_invoked);
    printk("stall timeout %d s (rcu_cpu_stall_timeout=); %lu stall reports\n",
           rcu_cpu_stall_timeout, rcu_state.nr_stall_reports);
    printk("CPU  owes QS  last QS (ms ago)  waiting (for GP)   next\n");
    for_each_online_cpu(cpu) {
        struct rcu_data *rdp = &rcu_data[cpu];
        printk("%3u  %-7s  %16lu  %7lu (%6lu)  %5lu\n", cpu, cpumask_test_cpu(cpu, &holding) ? "yes" : "no",
               (now - rdp->last_qs_ns) / NSEC_PER_MSEC, rdp->wait_len, rdp->wait_gp, rdp->next_len);
    }
    objpool_print();
    return 0;
}
