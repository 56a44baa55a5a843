/* kernel/sched.h: kernel threads and the per-CPU scheduler: current, schedule(), sleeping and waking. */
#ifndef KERNEL_SCHED_H
#define KERNEL_SCHED_H

#include <stdbool.h>
#include <stdint.h>
#include "kernel/hrtimer.h"

/*
 * A kernel thread. irqlab has no processes and no user mode: every task is a
 * kernel thread bound to one CPU, run by that CPU's round-robin run queue.
 * Each CPU's boot context becomes its idle task ("swapper/N", pid 0), which
 * runs only when the queue is empty; as in Linux's rest_init(), CPU 0 first
 * starts a thread for the work of the boot (tests, a lab, or the monitor).
 */
enum task_state {
    TASK_RUNNING,               /* on the run queue, or running */
    TASK_INTERRUPTIBLE,         /* sleeping until wake_up_process() or a timeout */
    TASK_DEAD,                  /* returned from its function; never runs again */
};

#define TASK_COMM_LEN 16

struct task_struct {
    uint64_t rsp;               /* saved stack pointer while switched out (switch_to) */
    enum task_state state;
    int pid;
    char comm[TASK_COMM_LEN];
    unsigned cpu;               /* the CPU it is bound to */
    uint64_t stack_begin, stack_end;    /* its kernel stack, for the unwinder */
    struct task_struct *run_next;       /* link in the CPU's run queue */
    struct task_struct *all_next;       /* link in the list of all tasks (ps) */
    int (*fn)(void *arg);
    void *arg;
    struct hrtimer sleep_timer; /* wakes it from schedule_timeout() */
    uint64_t nvcsw, nivcsw;     /* voluntary and involuntary context switches */
    uint64_t last_ran_ns;       /* when it last got the CPU */
    bool on_rq;                 /* queued on its CPU's run queue (runnable, not running) */
};

/* The task running on this CPU. */
struct task_struct *get_current(void);
#define current get_current()

/* current's name and pid for reports; "swapper" and 0 before the scheduler runs. */
const char *current_comm(void);
int current_pid(void);

/*
 * Create a kernel thread bound to `cpu` and make it runnable (Linux's
 * kthread_run_on_cpu()). name is printf-like with one %u for the CPU, e.g.
 * "watchdog/%u". Returns NULL when out of memory or task slots.
 */
struct task_struct *kthread_run_on_cpu(int (*fn)(void *), void *arg, unsigned cpu, const char *name);

/*
 * Make p runnable if it sleeps (TASK_INTERRUPTIBLE): put it on its CPU's run
 * queue; an idle target CPU is told to reschedule (a RESCHEDULE_VECTOR IPI
 * when it is another CPU). A running or dead task is left alone. Any
 * context, any CPU.
 */
void wake_up_process(struct task_struct *p);
/*
 * Set the current task's state with a full barrier, so the condition check
 * that follows cannot be done before the store (x86 lets a load pass an
 * earlier store, SDM Vol. 3A 9.2.2): the waker sets the condition, then
 * wakes; whichever order they meet in, the sleeper does not miss it.
 */
void set_current_state(enum task_state state);

/* Give up the CPU: run the next runnable task on this CPU (or idle). Task context, preemption enabled. */
void schedule(void);
/*
 * Sleep for up to ns (or until woken); returns the time left (0 when it
 * expired). As in Linux, the caller sets the state first:
 *     set_current_state(TASK_INTERRUPTIBLE);
 *     if (!condition)
 *         schedule_timeout(ns);
 * With the state still TASK_RUNNING it only gives others a turn.
 * MAX_SCHEDULE_TIMEOUT sleeps with no timer, until wake_up_process().
 */
#define MAX_SCHEDULE_TIMEOUT UINT64_MAX
uint64_t schedule_timeout(uint64_t ns);
void msleep(unsigned ms);
/* If the tick asked for it, let others run. */
void cond_resched(void);
/* Has this CPU been asked to reschedule (by the tick, a wakeup or the reschedule IPI)? */
bool need_resched(void);

/* Linux's sched_show_task(): a task's name, state and pid, and the
 * backtrace of where it is (for a switched-out task, from its saved stack). */
void sched_show_task(struct task_struct *p);

/* Called from the tick (kernel/time.c) on every CPU, in hardirq. */
void scheduler_tick(void);
/* Called on the way out of an interrupt into task context (arch/x86_64/irq.c). */
void preempt_schedule_irq(void);

/* get_cpu()/put_cpu(): hold this CPU (no preemption) while using its number. */
unsigned get_cpu(void);
void put_cpu(void);

/* Turn the boot context of each CPU into its idle task and start scheduling. */
void sched_init(void);          /* BSP, before the APs start */
void sched_init_cpu(void);      /* every CPU, including the BSP */
/* The idle loop of each CPU (replaces smpboot's cpu_idle). Never returns. */
__attribute__((noreturn)) void cpu_idle_loop(void);
/* The idle loop's sti; hlt, in .cpuidle.text as Linux's __cpuidle functions. */
void default_idle(void);
/* idle=poll's loop instead: spin with IF=1 until need_resched, also in .cpuidle.text. */
void cpu_idle_poll(void);
/* idle=: "halt" (the default) or "poll" (Linux's idle=poll); read by sched_init(). */
extern char param_idle[8];
bool idle_param_valid(const char *value);
/* Whether pc is in .cpuidle.text: a CPU interrupted there is idling (Linux's cpu_in_idle()). */
bool cpu_in_idle(unsigned long pc);

#endif
