/* kernel/rcu.h: RCU-sched: read-side sections, call_rcu(), synchronize_rcu(), and the hooks the tick and scheduler call. */
#ifndef KERNEL_RCU_H
#define KERNEL_RCU_H

#include <stdbool.h>
#include <stdint.h>
#include "kernel/hardirq.h"

/*
 * Read-Copy-Update, the "sched" flavour of Linux's classic RCU
 * (Documentation/RCU/whatisRCU.rst). A reader runs with preemption off
 * between rcu_read_lock() and rcu_read_unlock() and never blocks. An
 * updater unpublishes an object (rcu_assign_pointer()) and then may free it
 * only after a grace period: a time in which every online CPU passed a
 * quiescent state, a point where it cannot be inside a read-side section
 * (a context switch, or a tick that interrupted preemptible task code or
 * the idle task). Readers that could still see the old object have ended.
 *
 * docs/rcu.md explains it for students, with the stall and OOM reports.
 */

/* The structure of type `type` whose member `member` is at ptr (Linux's container_of()). */
#ifndef container_of
#define container_of(ptr, type, member) ((type *)((char *)(ptr) - __builtin_offsetof(type, member)))
#endif

/* Embedded in an object that is freed through call_rcu(); Linux's struct callback_head. */
struct rcu_head {
    struct rcu_head *next;
    void (*func)(struct rcu_head *head);
};

/* RCU-sched read-side section: preemption off, so no context switch, so no quiescent state. */
static inline void rcu_read_lock(void)   { preempt_disable(); }
static inline void rcu_read_unlock(void) { preempt_enable(); }

/* Publish p at *pp for readers (a release store); read it inside a read-side section. */
#define rcu_assign_pointer(p, v)  __atomic_store_n(&(p), (v), __ATOMIC_RELEASE)
#define rcu_dereference(p)        __atomic_load_n(&(p), __ATOMIC_ACQUIRE)

/*
 * Queue func(head) to run after a full grace period, in task context in the
 * grace-period kthread ("rcu_sched", CPU 0). Any context, IRQs on or off;
 * never sleeps. After rcu_init().
 */
void call_rcu(struct rcu_head *head, void (*func)(struct rcu_head *head));

/* Sleep until a full grace period has passed. Task context, not in a read-side section. */
void synchronize_rcu(void);

/* ---- hooks ---- */

/* The tick (kernel/time.c tick_sched_timer()), every CPU, hardirq: note a
 * quiescent state if the tick interrupted one, and check for stalls. */
void rcu_sched_clock_irq(void);
/* __schedule() (kernel/sched.c), on every context switch, IRQs off: a quiescent state. */
void rcu_note_context_switch(void);

/* Boot, on the BSP after sched_init(): the callback lists, and the rcu_sched kthread on CPU 0. */
void rcu_init(void);

/* ---- parameters (kernel/bootparams.c) ---- */

/* rcu_cpu_stall_timeout=: seconds a grace period may last before a stall
 * report (Linux: 21; irqlab: 3, so a lab shows it quickly). */
extern int rcu_cpu_stall_timeout;

/* ---- state, for tests, labs and reports ---- */

/* Grace periods started and completed since boot; a GP runs while they differ. */
unsigned long rcu_gp_started(void);
unsigned long rcu_gp_completed(void);
/* A grace period is running and still waits for `cpu`'s quiescent state. */
bool rcu_gp_waits_for_cpu(unsigned cpu);
/* Callbacks queued and not yet invoked, on all CPUs. */
unsigned long rcu_cbs_queued(void);

/* Print the backlog lines of the OOM report (kernel/oom.c): who holds the GP, what waits. */
void rcu_print_backlog(void);

#endif
