/* kernel/sched.c: kernel threads and the per-CPU round-robin scheduler: switching, sleeping, waking, preemption, `ps`. */
#include "kernel/sched.h"
#include <stddef.h>
#include "arch/x86_64/apic.h"
#include "arch/x86_64/dumpstack.h"
#include "arch/x86_64/irq.h"
#include "arch/x86_64/irq_vectors.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/stacks.h"
#include "kernel/bug.h"
#include "kernel/cpumask.h"
#include "kernel/hardirq.h"
#include "kernel/irqflags.h"
#include "kernel/monitor.h"
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "kernel/rcu.h"
#include "kernel/spinlock.h"
#include "kernel/string.h"
#include "kernel/time.h"
#include "kernel/trace.h"
#include "kernel/vsprintf.h"

/*
 * The model, a much smaller Linux:
 *
 *  - Every task is bound to one CPU for life, so each CPU schedules alone:
 *    a run queue per CPU, and a task's registers never move between CPUs.
 *  - A run queue holds the tasks that are runnable but not running, first
 *    in, first out. rq->curr is the one running. When the queue is empty the
 *    CPU runs its idle task, which is never queued.
 *  - A task leaves the CPU in two ways. Voluntarily: it set its state to
 *    TASK_INTERRUPTIBLE (or TASK_DEAD) and called schedule(); it is off
 *    every queue until wake_up_process(). Involuntarily: the tick found
 *    others waiting (need_resched) and the interrupt's exit path preempted
 *    it (preempt_schedule_irq()); it goes to the back of the queue.
 *  - rq->lock (raw, IRQs off) guards the queue, rq->curr and the tasks'
 *    state changes that wakeups make. It is held ACROSS the switch: taken by
 *    the task that leaves, released by the one that arrives (finish_task_switch()),
 *    so a waker on another CPU never sees a task half switched out.
 */

#define NR_TASKS NR_THREAD_STACKS       /* one stack slot per task-table entry */

struct rq {
    raw_spinlock_t lock;
    struct task_struct *curr;           /* running on this CPU now */
    struct task_struct *idle;           /* swapper/N: runs when the queue is empty */
    struct task_struct *head, *tail;    /* runnable tasks, FIFO through run_next */
    unsigned nr_queued;
    uint64_t nr_switches;
};

static struct rq runqueues[NR_CPUS];
static struct task_struct idle_tasks[NR_CPUS];

/*
 * The kernel threads. A slot is taken by kthread_run_on_cpu() and given
 * back when its thread has died AND switched out for the last time; its
 * stack stays mapped and serves the slot's next thread (so nothing is
 * freed, and nothing is leaked beyond NR_TASKS stacks). A dead thread stays
 * on the all-tasks list, shown as X by `ps`, until its slot is reused.
 */
static struct task_struct tasks[NR_TASKS];
static bool task_slot_used[NR_TASKS];
static DEFINE_RAW_SPINLOCK(tasklist_lock);      /* task_slot_used, next_pid, appends to the list */
static int next_pid = 1;
/* Every task that ever ran (idle tasks included), oldest first. Entries are
 * only ever appended, so readers (`ps`) walk it without the lock. */
static struct task_struct *all_tasks, *all_tasks_tail;

/* The assembly (arch/x86_64/switch_to.asm). */
struct task_struct *switch_to(struct task_struct *prev, struct task_struct *next);
extern const char ret_from_kthread[];
_Static_assert(offsetof(struct task_struct, rsp) == 0, "switch_to.asm's TASK_RSP");

static struct rq *cpu_rq(unsigned cpu)
{
    return &runqueues[cpu];
}

static struct rq *this_rq(void)
{
    return this_cpu_read(rq);
}

struct task_struct *get_current(void)
{
    return this_cpu_read(current_task);
}

const char *current_comm(void)
{
    struct task_struct *p = this_cpu_read(current_task);

    return p ? p->comm : "swapper";
}

int current_pid(void)
{
    struct task_struct *p = this_cpu_read(current_task);

    return p ? p->pid : 0;
}

bool need_resched(void)
{
    return this_cpu_read(need_resched) != 0;
}

void set_current_state(enum task_state state)
{
    /* A sequentially consistent store is an xchg on x86: a full barrier. */
    __atomic_store_n(&current->state, state, __ATOMIC_SEQ_CST);
}

unsigned get_cpu(void)
{
    preempt_disable();
    return smp_processor_id();
}

void put_cpu(void)
{
    preempt_enable();
}

/* ---------------------------------------------------------------- run queue */

static void enqueue_task(struct rq *rq, struct task_struct *p)
{
    p->run_next = NULL;
    if (rq->tail)
        rq->tail->run_next = p;
    else
        rq->head = p;
    rq->tail = p;
    p->on_rq = true;
    rq->nr_queued++;
}

static struct task_struct *dequeue_task(struct rq *rq)
{
    struct task_struct *p = rq->head;

    if (!p)
        return NULL;
    rq->head = p->run_next;
    if (!rq->head)
        rq->tail = NULL;
    p->run_next = NULL;
    p->on_rq = false;
    rq->nr_queued--;
    return p;
}

/* Ask cpu to call schedule() soon. rq->lock of cpu held; the caller sends the IPI if remote. */
static void resched_cpu_locked(unsigned cpu)
{
    __atomic_store_n(&percpu_area[cpu].need_resched, 1, __ATOMIC_RELAXED);
}

/*
 * Make p runnable on its CPU. rq is p's run queue, locked. A task that is
 * running, or still queued after a preemption, only needs its state back;
 * one that really left the CPU goes to the tail of the queue. Returns
 * whether p's CPU must be told to reschedule: only when it sits in idle (a
 * busy CPU switches at its next tick anyway).
 */
static bool activate_task(struct rq *rq, struct task_struct *p)
{
    __atomic_store_n(&p->state, TASK_RUNNING, __ATOMIC_RELAXED);
    if (p == rq->curr || p->on_rq)
        return false;
    enqueue_task(rq, p);
    return rq->curr == rq->idle;
}

/* Wake p (new, or sleeping); kick its CPU if that is needed. */
static void try_to_wake_up(struct task_struct *p, bool new_task)
{
    struct rq *rq = cpu_rq(p->cpu);
    unsigned long flags;
    bool kick = false;

    raw_spin_lock_irqsave(&rq->lock, flags);
    if (new_task || p->state == TASK_INTERRUPTIBLE)
        kick = activate_task(rq, p);
    if (kick)
        resched_cpu_locked(p->cpu);
    raw_spin_unlock_irqrestore(&rq->lock, flags);
    /* An idle CPU sleeps in hlt; only an interrupt gets it going. (With
     * idle=poll it would see need_resched by itself; Linux then skips the
     * IPI, irqlab sends it anyway.) */
    if (kick && p->cpu != smp_processor_id())
        apic_send_IPI(p->cpu, RESCHEDULE_VECTOR);
}

void wake_up_process(struct task_struct *p)
{
    try_to_wake_up(p, false);
}

/*
 * The reschedule IPI: another CPU queued a task here while we were idle.
 * EOI first, as for every IPI (arch/x86_64/irq_vectors.h); the switch
 * itself happens on the way out of the interrupt (do_IRQ()).
 */
static void reschedule_interrupt(struct pt_regs *regs)
{
    (void)regs;
    apic_eoi();
    this_cpu_write(need_resched, 1);
}

/* ---------------------------------------------------------------- switching */

/*
 * The arriving task's half of a switch, run right after switch_to()
 * returns (or first thing in a new thread): release the run queue lock the
 * leaving task took, and give a dead prev's slot back now that nothing runs
 * on its stack any more. IRQs are still off.
 */
static void finish_task_switch(struct task_struct *prev)
{
    raw_spin_unlock(&this_rq()->lock);
    if (prev->state == TASK_DEAD && !prev->on_rq) {     /* only threads die, never idle */
        raw_spin_lock(&tasklist_lock);
        task_slot_used[prev - tasks] = false;
        raw_spin_unlock(&tasklist_lock);
    }
}

/*
 * Linux's schedule_debug(): schedule() must not be called from an
 * interrupt (there is no task to put to sleep) nor with preemption disabled
 * (the caller promised to keep this CPU). The first is fatal; the second is
 * reported and, as Linux does, the leaked preempt_disable() count dropped,
 * since preempt_count is per CPU and would pass to the next task.
 */
static void schedule_debug(void)
{
    unsigned pc = preempt_count();

    if (!in_task())
        panic("BUG: scheduling from %s context", context_name());
    if (pc & PREEMPT_MASK) {
        printk(KERN_ERR "BUG: scheduling while atomic: %s/%d/0x%08x\n", current->comm, current->pid, pc);
        dump_stack();
        preempt_count_sub(pc & PREEMPT_MASK);
    }
}

/*
 * Pick the next task and switch to it. preempt: the current task is being
 * preempted (it stays runnable whatever its state says: it may have set
 * TASK_INTERRUPTIBLE and been interrupted before its schedule() call, and
 * must still get there); otherwise a task whose state is not TASK_RUNNING
 * leaves the CPU until woken. Context switches are counted as Linux counts
 * them: voluntary when the task gave the CPU up to sleep (or die),
 * involuntary otherwise.
 */
static void __schedule(bool preempt)
{
    struct rq *rq = this_rq();
    struct task_struct *prev, *next;
    unsigned long flags;
    uint64_t *switch_count;

    local_irq_save(flags);
    /* RCU: a context switch is a quiescent state (kernel/rcu.c) */
    rcu_note_context_switch();
    raw_spin_lock(&rq->lock);
    this_cpu_write(need_resched, 0);
    prev = rq->curr;
    switch_count = &prev->nivcsw;
    if (prev == rq->idle) {
        /* The idle task never sleeps: msleep() in the boot context, before
         * anything else runs, just gives others a turn while it waits. */
        prev->state = TASK_RUNNING;
    } else if (!preempt && prev->state != TASK_RUNNING) {
        switch_count = &prev->nvcsw;
    } else {
        enqueue_task(rq, prev);
    }
    next = dequeue_task(rq);
    if (!next)
        next = rq->idle;
    if (next != prev) {
        (*switch_count)++;
        rq->nr_switches++;
        rq->curr = next;
        this_cpu_write(current_task, next);
        next->last_ran_ns = ktime_get_ns();
        trace_event(TRACE_SCHED_SWITCH, (unsigned)prev->pid, (unsigned)next->pid, next->comm, NULL);
        /* We leave here as prev; we come back, some time later, as prev
         * again, and switch_to() returns the task that ran just before. */
        prev = switch_to(prev, next);
    }
    finish_task_switch(prev);
    local_irq_restore(flags);
}

void schedule(void)
{
    schedule_debug();
    __schedule(false);
}

/*
 * Called by do_IRQ() on the way out of an interrupt that arrived in
 * preemptible task context (preempt_count 0, IF was 1) when need_resched
 * is set. IRQs are off, and stay off here: the preempted task's own flags
 * (saved in __schedule()) have IF=0, and the iretq at the end of the
 * interrupt puts its IF=1 back when it runs again.
 */
void preempt_schedule_irq(void)
{
    BUG_ON(preempt_count() != 0 || !irqs_disabled());
    do {
        __schedule(true);
    } while (need_resched());
}

void cond_resched(void)
{
    if (need_resched() && preempt_count() == 0 && !irqs_disabled())
        __schedule(true);
}

/*
 * From the tick, on every CPU, in hardirq: a time slice is one tick, so
 * when anything else waits here, the running task is asked to give way.
 * Whether it does so now depends on it: at the interrupt's exit only if it
 * is preemptible, otherwise when it next calls schedule() or cond_resched()
 * (or at a later tick, once it is preemptible again).
 */
void scheduler_tick(void)
{
    if (__atomic_load_n(&this_rq()->nr_queued, __ATOMIC_RELAXED))
        this_cpu_write(need_resched, 1);
}

/* ---------------------------------------------------------------- sleeping */

static enum hrtimer_restart sleep_timer_fn(struct hrtimer *timer)
{
    struct task_struct *p = (struct task_struct *)((char *)timer - offsetof(struct task_struct, sleep_timer));

    wake_up_process(p);
    return HRTIMER_NORESTART;
}

/*
 * The task's own hrtimer wakes it at the deadline. It is armed on this CPU
 * (hrtimer_start() queues on the CPU that arms it), which is the task's, so
 * the wakeup is always local. hrtimer_cancel() on the way out covers a
 * wake_up_process() that came first.
 */
uint64_t schedule_timeout(uint64_t ns)
{
    struct task_struct *p = current;
    uint64_t expires, now;

    if (ns == MAX_SCHEDULE_TIMEOUT) {
        schedule();
        return MAX_SCHEDULE_TIMEOUT;
    }
    expires = ktime_get_ns() + ns;
    hrtimer_start(&p->sleep_timer, expires, HRTIMER_MODE_ABS);
    schedule();
    hrtimer_cancel(&p->sleep_timer);
    now = ktime_get_ns();
    return now < expires ? expires - now : 0;
}

/* Sleep at least ms milliseconds; an early wake_up_process() only starts the rest again. */
void msleep(unsigned ms)
{
    uint64_t left = (uint64_t)ms * NSEC_PER_MSEC;

    while (left) {
        set_current_state(TASK_INTERRUPTIBLE);
        left = schedule_timeout(left);
    }
}

/* ---------------------------------------------------------------- kernel threads */

/* Append p to the all-tasks list. tasklist_lock held. */
static void all_tasks_add(struct task_struct *p)
{
    p->all_next = NULL;
    if (all_tasks_tail)
        __atomic_store_n(&all_tasks_tail->all_next, p, __ATOMIC_RELEASE);
    else
        __atomic_store_n(&all_tasks, p, __ATOMIC_RELEASE);
    all_tasks_tail = p;
}

/*
 * A new thread's first instructions, reached from ret_from_kthread
 * (arch/x86_64/switch_to.asm) with IRQs off and the run queue locked, as if
 * it were returning from __schedule(). Runs fn(arg); when fn returns the
 * thread is dead: it leaves the CPU for good, IRQs off so no preemption
 * comes between the state and the switch.
 */
__attribute__((noreturn)) void kthread_start(struct task_struct *prev);
__attribute__((noreturn)) void kthread_start(struct task_struct *prev)
{
    struct task_struct *me = current;

    finish_task_switch(prev);
    local_irq_enable();
    me->fn(me->arg);

    local_irq_disable();
    set_current_state(TASK_DEAD);
    __schedule(false);
    BUG();                              /* a dead task is never picked again */
}

/*
 * The stack of a new thread, built so that switch_to() "returns" into
 * ret_from_kthread: the six callee-saved registers switch_to() pops (zero;
 * RBP = 0 ends every backtrace there), its return address, and two zero
 * words under which RSP is 16-byte aligned at the call to kthread_start().
 */
static void kthread_stack_init(struct task_struct *p, uint64_t top)
{
    uint64_t *sp = (uint64_t *)top;

    *--sp = 0;
    *--sp = 0;
    *--sp = (uint64_t)ret_from_kthread;
    for (int i = 0; i < 6; i++)         /* rbp, rbx, r12, r13, r14, r15 */
        *--sp = 0;
    p->rsp = (uint64_t)sp;
}

struct task_struct *kthread_run_on_cpu(int (*fn)(void *), void *arg, unsigned cpu, const char *name)
{
    struct task_struct *p = NULL;
    unsigned long flags;
    bool first_use = false;
    unsigned slot;
    int pid = 0;
    uint64_t top;

    if (cpu >= NR_CPUS || !cpu_online(cpu) || !cpu_rq(cpu)->idle)
        return NULL;
    raw_spin_lock_irqsave(&tasklist_lock, flags);
    for (slot = 0; slot < NR_TASKS; slot++) {
        if (!task_slot_used[slot]) {
            task_slot_used[slot] = true;
            p = &tasks[slot];
            first_use = p->pid == 0;    /* pids start at 1: never used, not on the list yet */
            pid = next_pid++;
            break;
        }
    }
    raw_spin_unlock_irqrestore(&tasklist_lock, flags);
    if (!p) {
        pr_warn("sched: no free task slot for '%s' (%d in use)\n", name, NR_TASKS);
        return NULL;
    }
    top = thread_stack_create(slot, cpu);
    if (!top) {
        pr_warn("sched: out of memory for the stack of '%s'\n", name);
        __atomic_store_n(&task_slot_used[slot], false, __ATOMIC_RELEASE);
        return NULL;
    }

    p->state = TASK_DEAD;               /* until try_to_wake_up(): never picked half made */
    p->pid = pid;
    ksnprintf(p->comm, sizeof p->comm, name, cpu);
    p->cpu = cpu;
    p->stack_begin = top - KERNEL_STACK_SIZE;
    p->stack_end = top;
    p->run_next = NULL;
    p->on_rq = false;
    p->fn = fn;
    p->arg = arg;
    p->nvcsw = p->nivcsw = 0;
    p->last_ran_ns = 0;
    hrtimer_init(&p->sleep_timer, sleep_timer_fn);
    kthread_stack_init(p, top);
    if (first_use) {
        raw_spin_lock_irqsave(&tasklist_lock, flags);
        all_tasks_add(p);
        raw_spin_unlock_irqrestore(&tasklist_lock, flags);
    }
    try_to_wake_up(p, true);
    return p;
}

/* ---------------------------------------------------------------- boot and idle */

char param_idle[8] = "halt";
static bool cpu_idle_force_poll;        /* idle=poll: Linux's name */

bool idle_param_valid(const char *value)
{
    return strcmp(value, "halt") == 0 || strcmp(value, "poll") == 0;
}

void sched_init(void)
{
    request_vector(RESCHEDULE_VECTOR, reschedule_interrupt, "Rescheduling interrupts");
    cpu_idle_force_poll = strcmp(param_idle, "poll") == 0;
    if (cpu_idle_force_poll)
        pr_info("using polling idle threads\n");      /* Linux's line for idle=poll */
    sched_init_cpu();
}

/*
 * The code running now, this CPU's boot context, becomes its idle task:
 * pid 0, "swapper/N", on the CPU's static kernel stack. After timer_init_cpu()
 * (the task's hrtimer needs this CPU's base), before IRQs are enabled.
 */
void sched_init_cpu(void)
{
    unsigned cpu = smp_processor_id();
    struct task_struct *idle = &idle_tasks[cpu];
    struct rq *rq = cpu_rq(cpu);
    unsigned long flags;

    idle->state = TASK_RUNNING;
    idle->pid = 0;
    ksnprintf(idle->comm, sizeof idle->comm, "swapper/%u", cpu);
    idle->cpu = cpu;
    idle->stack_end = kernel_stack_top(cpu);
    idle->stack_begin = idle->stack_end - KERNEL_STACK_SIZE;
    idle->last_ran_ns = ktime_get_ns();
    hrtimer_init(&idle->sleep_timer, sleep_timer_fn);

    raw_spin_lock_init(&rq->lock);
    rq->idle = idle;
    rq->curr = idle;
    this_cpu_write(rq, rq);
    this_cpu_write(current_task, idle);

    raw_spin_lock_irqsave(&tasklist_lock, flags);
    all_tasks_add(idle);
    raw_spin_unlock_irqrestore(&tasklist_lock, flags);
}

/*
 * The idle task's loop. The check and the halt must not race with a
 * wakeup: with IRQs off, look at need_resched; only if it is clear, sti;hlt.
 * sti takes effect after the next instruction, so an interrupt (the
 * reschedule IPI, or the timer that wakes a sleeper) that arrives after the
 * check is taken in the hlt and ends it; with a plain "sti ... hlt" it
 * could be taken before the hlt, and the CPU would sleep on a queued task.
 */
void cpu_idle_loop(void)
{
    for (;;) {
        local_irq_disable();
        if (need_resched()) {
            local_irq_enable();
            schedule();
        } else if (cpu_idle_force_poll) {
            cpu_idle_poll();
        } else {
            default_idle();
        }
    }
}

/* Linux's __cpuidle: the section's bounds come from linker.ld. */
#define __cpuidle __attribute__((noinline, section(".cpuidle.text")))
extern char __cpuidle_text_start[], __cpuidle_text_end[];

/* An NMI or interrupt that arrives during the hlt saves a RIP inside this
 * function (the instruction after the hlt), so cpu_in_idle() knows it. */
void __cpuidle default_idle(void)
{
    safe_halt();
}

/*
 * idle=poll (Linux's cpu_idle_poll()): spin with IF=1 until there is work,
 * never halting. An interrupt that queues a task sets need_resched, which
 * the loop sees at its next pass. irqlab's deterministic mode has a use for
 * it: QEMU 7.2 can advance its icount clock too far when the last running
 * vCPU halts (docs/deterministic.md), and a CPU that never halts never
 * meets that race.
 */
void __cpuidle cpu_idle_poll(void)
{
    local_irq_enable();
    while (!need_resched())
        cpu_relax();
}

bool cpu_in_idle(unsigned long pc)
{
    return pc >= (unsigned long)__cpuidle_text_start && pc < (unsigned long)__cpuidle_text_end;
}

/* ---------------------------------------------------------------- reports */

/* Linux's letters: R runnable or running, S sleeping, X dead. */
static char task_state_char(const struct task_struct *p)
{
    switch (p->state) {
    case TASK_RUNNING:       return 'R';
    case TASK_INTERRUPTIBLE: return 'S';
    case TASK_DEAD:          return 'X';
    }
    return '?';
}

static bool task_is_current(const struct task_struct *p)
{
    return __atomic_load_n(&cpu_rq(p->cpu)->curr, __ATOMIC_RELAXED) == p;
}

/*
 * A switched-out task's stack holds what switch_to() pushed: R15, R14, R13,
 * R12, RBX, RBP, then the return address into __schedule(). That is enough
 * to start the frame-pointer walk. A running task can only show itself.
 */
void sched_show_task(struct task_struct *p)
{
    printk(KERN_INFO "task:%-15s state:%c pid:%-5d cpu:%u%s\n", p->comm, task_state_char(p),
           p->pid, p->cpu, task_is_current(p) ? " (running)" : "");
    if (p == current) {
        dump_stack();
    } else if (!task_is_current(p) && p->state != TASK_DEAD) {
        const uint64_t *sp = (const uint64_t *)p->rsp;
        show_trace(sp[6], sp[5], p->rsp);
    }
}

MONITOR_COMMAND(ps, "tasks per CPU: pid, state, context switches (voluntary/involuntary)")
{
    unsigned cpu;

    (void)argc; (void)argv;
    printk("CPU   PID  STATE        VOLUNTARY  INVOLUNTARY  COMMAND\n");
    for_each_online_cpu(cpu) {
        for (struct task_struct *p = __atomic_load_n(&all_tasks, __ATOMIC_ACQUIRE); p;
             p = __atomic_load_n(&p->all_next, __ATOMIC_ACQUIRE)) {
            if (p->cpu != cpu)
                continue;
            bool running = task_is_current(p);
            printk("%3u %5d  %c %-10s %10lu %12lu  %s\n", cpu, p->pid, task_state_char(p),
                   running ? "running" : p->state == TASK_RUNNING ? "runnable" :
                   p->state == TASK_INTERRUPTIBLE ? "sleeping" : "dead",
                   p->nvcsw, p->nivcsw, p->comm);
        }
    }
    for_each_online_cpu(cpu)
        printk("CPU%u: %lu context switches, %u runnable waiting\n", cpu,
               cpu_rq(cpu)->nr_switches, cpu_rq(cpu)->nr_queued);
    return 0;
}
