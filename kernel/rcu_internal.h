/* kernel/rcu_internal.h: RCU's grace-period state and per-CPU callback lists, shared by rcu.c and rcu_stall.c. */
#ifndef KERNEL_RCU_INTERNAL_H
#define KERNEL_RCU_INTERNAL_H

#include <stdint.h>
#include "kernel/cpumask.h"
#include "kernel/rcu.h"
#include "kernel/sched.h"
#include "kernel/spinlock.h"
#include "kernel/time.h"

/*
 * Each CPU queues its own callbacks, in two segments (Linux's
 * rcu_segcblist has four; irqlab's single grace-period kthread needs two):
 *
 *   next   queued by call_rcu() since the current GP started: they wait
 *          for a GP that has not started yet
 *   wait   moved here when GP wait_gp started: ready when it completes
 *
 * When GP g starts, the kthread moves every CPU's next segment to wait
 * (wait_gp = g); when g completes, it takes every wait segment and
 * invokes it. So a callback always waits for a whole GP that started
 * after call_rcu(): the guarantee. The lock keeps call_rcu() on this CPU
 * and the kthread on CPU 0 apart; it is taken with IRQs off because
 * call_rcu() may come from an interrupt handler.
 */
struct rcu_data {
    raw_spinlock_t lock;
    struct rcu_head *next_head, **next_tail;
    unsigned long next_len;
    struct rcu_head *wait_head, **wait_tail;
    unsigned long wait_len;
    unsigned long wait_gp;          /* the GP the wait segment waits for */

    /* Written by this CPU only (tick and schedule()): */
    uint64_t last_qs_ns;            /* when it last passed a quiescent state */
    unsigned long gp_seen;          /* the GP its ticks_this_gp counts for */
    unsigned long ticks_this_gp;    /* ticks it took since GP gp_seen started */
};

/*
 * The one grace-period state machine (Linux's struct rcu_state, without
 * the tree of rcu_nodes: a cpumask is enough for 32 CPUs). A GP runs while
 * gp_started != gp_completed; only the kthread changes those two.
 */
struct rcu_state {
    unsigned long gp_started;       /* number of the latest GP started (1, 2, ...) */
    unsigned long gp_completed;     /* number of the latest GP completed */
    struct cpumask qs_pending;      /* CPUs that still owe the running GP a quiescent state */
    uint64_t gp_start_ns;           /* when the running (or last) GP started */
    uint64_t stall_next_ns;         /* the next stall check may report at this time (Linux's jiffies_stall) */
    unsigned long nr_stall_reports;
    struct task_struct *gp_kthread;
    uint64_t gp_activity_ns;        /* when the kthread last woke up (for "kthread starved") */
    unsigned long cbs_invoked;
};

extern struct rcu_state rcu_state;
extern struct rcu_data rcu_data[NR_CPUS];

/* Is a GP running? */
static inline bool rcu_gp_in_progress(void)
{
    return __atomic_load_n(&rcu_state.gp_started, __ATOMIC_ACQUIRE) !=
           __atomic_load_n(&rcu_state.gp_completed, __ATOMIC_ACQUIRE);
}

/* One jiffy in ns at the hz= rate. */
static inline uint64_t rcu_tick_ns(void)
{
    return NSEC_PER_SEC / (uint64_t)param_hz;
}

/* The stall detector (rcu_stall.c): from rcu_sched_clock_irq(), every tick, every CPU. */
void rcu_check_cpu_stall(void);
/* A GP just started: arm the detector. */
void rcu_stall_arm(uint64_t gp_start_ns);
/* "rcu_sched kthread starved for ..." lines, if it has not run for 2 s. */
void rcu_check_gp_kthread_starvation(uint64_t now);

#endif
