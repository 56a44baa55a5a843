/* kernel/softirq.h: softirqs (bottom halves): raise, run on interrupt exit or in ksoftirqd/N, local_bh_disable/enable, tasklets. */
#ifndef KERNEL_SOFTIRQ_H
#define KERNEL_SOFTIRQ_H

#include <stdbool.h>
#include <stdint.h>
#include "kernel/hardirq.h"

/*
 * A softirq is work an interrupt handler leaves for later, so that the
 * handler itself stays short with IRQs off (Linux: kernel/softirq.c,
 * Documentation/core-api/...). The handler raises a vector (sets a bit in
 * this CPU's pending mask); the bit is served, with IRQs ON, by the first of:
 *
 *   - irq_exit(): the interrupt is over and did not interrupt softirq or
 *     BH-disabled code (!in_interrupt());
 *   - local_bh_enable(): the task's BH-disabled section ends;
 *   - ksoftirqd/N: the per-CPU thread, when the two above gave up (a softirq
 *     that keeps raising itself: MAX_SOFTIRQ_RESTART passes or
 *     MAX_SOFTIRQ_TIME), or when a task raised one outside any interrupt.
 *
 * While one runs, preempt_count has SOFTIRQ_OFFSET (in_serving_softirq());
 * local_bh_disable() adds SOFTIRQ_DISABLE_OFFSET, twice as much, so the two
 * are told apart by the field's low bit. Either way in_softirq() is true and
 * no softirq starts on this CPU: a softirq never interrupts a softirq or a
 * BH-disabled section, but a hardirq interrupts both.
 */

/*
 * Linux's vector numbers (include/linux/interrupt.h); lower runs first.
 * irqlab uses TASKLET_SOFTIRQ (tasklets below); the names table (`softirqs`
 * in the monitor, like /proc/softirqs) lists all of Linux's.
 */
enum {
    TASKLET_SOFTIRQ = 6,
    NR_SOFTIRQS = 10,
};
extern const char *const softirq_to_name[NR_SOFTIRQS];

/* Linux's limits for one __do_softirq() before it hands over to ksoftirqd. */
#define MAX_SOFTIRQ_RESTART 10
#define MAX_SOFTIRQ_TIME_MS 2           /* Linux: msecs_to_jiffies(2), at least one jiffy */

struct softirq_action {
    void (*action)(void);
};

/* Install the handler of vector nr (once, at boot). */
void open_softirq(int nr, void (*action)(void));

/*
 * Mark nr pending on this CPU. raise_softirq_irqoff() needs IRQs off;
 * raise_softirq() saves and restores them. Raised outside any interrupt
 * (nobody's irq_exit() is coming to run it), it wakes ksoftirqd/N, as
 * Linux does. Any context.
 */
void raise_softirq_irqoff(unsigned nr);
void raise_softirq(unsigned nr);

/* This CPU's pending mask (bit nr: vector nr raised, not yet run). */
uint32_t local_softirq_pending(void);

/*
 * Run this CPU's pending softirqs now, unless in_interrupt() (they will run
 * when that ends). Task context; IRQs as the caller had them afterwards.
 */
void do_softirq(void);

/*
 * BH-disabled sections: no softirq runs on this CPU until the matching
 * enable (they nest; preemption is off too, as the count is nonzero).
 * local_bh_enable() runs what was raised meanwhile when the count drops to
 * zero outside an interrupt. It must be called with IRQs on and not in
 * hardirq context (WARN_ON_ONCE, as Linux's __local_bh_enable_ip()): it
 * runs softirqs, which turn IRQs on.
 */
void __local_bh_disable_ip(unsigned long ip, unsigned cnt);
void __local_bh_enable_ip(unsigned long ip, unsigned cnt);
void local_bh_disable(void);
void local_bh_enable(void);

/*
 * Per-CPU statistics for the monitor, tests and the gdb tooling. Counts
 * are updated by their CPU only; other CPUs read snapshots.
 */
struct softirq_cpu {
    uint32_t pending;                       /* Linux's irq_stat.__softirq_pending */
    uint64_t count[NR_SOFTIRQS];            /* handler runs per vector (/proc/softirqs) */
    uint64_t irq_exit_runs;                 /* __do_softirq() calls from irq_exit() */
    uint64_t bh_enable_runs;                /* ... from local_bh_enable() / do_softirq() */
    uint64_t ksoftirqd_runs;                /* ... from ksoftirqd/N */
    uint64_t restart_limit;                 /* gave up after MAX_SOFTIRQ_RESTART passes */
    uint64_t time_limit;                    /* gave up after MAX_SOFTIRQ_TIME */
    uint64_t resched_limit;                 /* gave up because the scheduler wants the CPU */
    uint64_t ksoftirqd_wakeups;             /* wakeup_softirqd() calls */
    struct task_struct *ksoftirqd;          /* ksoftirqd/N, NULL before softirq_init() */
};
extern struct softirq_cpu softirq_cpus[];

/* "softirq" (serving), "BH off" (disabled) or "" for the CPU's preempt_count pc: for `cpus` and reports. */
const char *softirq_state_name(uint32_t pc);

/* Register the tasklet softirq and start ksoftirqd/N on every online CPU (after the APs are up). */
void softirq_init(void);

/*
 * Tasklets: a function with an argument, scheduled from any context and
 * run once in TASKLET_SOFTIRQ on the CPU that scheduled it. Scheduling one
 * already scheduled does nothing; a tasklet never runs on two CPUs at once
 * (one found running elsewhere is put back and tried on the next pass).
 * It may schedule itself again from its own function.
 */
enum { TASKLET_STATE_SCHED, TASKLET_STATE_RUN };

struct tasklet_struct {
    struct tasklet_struct *next;
    unsigned long state;                    /* bits TASKLET_STATE_* */
    void (*func)(unsigned long data);
    unsigned long data;
};

#define DECLARE_TASKLET(name, _func, _data) \
    struct tasklet_struct name = { .next = 0, .state = 0, .func = (_func), .data = (_data) }

void tasklet_init(struct tasklet_struct *t, void (*func)(unsigned long), unsigned long data);
void tasklet_schedule(struct tasklet_struct *t);

#endif
