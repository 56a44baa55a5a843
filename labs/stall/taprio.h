/* labs/stall/taprio.h: the stall exercise: the schedule a student's hrtimer callback advances (advance_sched.c), and the lab's helpers. */
#ifndef LABS_STALL_TAPRIO_H
#define LABS_STALL_TAPRIO_H

#include <stdint.h>
#include "kernel/hrtimer.h"
#include "kernel/spinlock.h"

/*
 * A time-aware scheduler, after taprio (net/sched/sch_taprio.c): a cycle
 * of TAPRIO_ENTRIES gate entries, one TAPRIO_PERIOD_NS long each. An
 * hrtimer on CPU 0 fires once a period, in hardirq context with IF=0, and
 * its callback, advance_sched(), moves the schedule on by one entry. The
 * schedule (struct taprio_sched) is protected by sched_lock, which task
 * context on other CPUs takes too: CPU 1, in this lab, holds it across a
 * TLB flush, which needs CPU 0 to take a call-function IPI.
 */
#define TAPRIO_ENTRIES   4
#define TAPRIO_PERIOD_NS 1000000ULL             /* one entry per millisecond */

struct taprio_sched {
    unsigned long cycles;                       /* periods accounted for since the timer started */
    unsigned current_entry;                     /* cycles % TAPRIO_ENTRIES */
};

extern spinlock_t sched_lock;                   /* protects taprio_sched */
extern struct taprio_sched taprio_sched;

/* ---- the lab's helpers (stall.c) ---- */

/* Read the gate list of the current entry from its page (through this CPU's TLB). */
uint64_t taprio_read_gates(void);

/* Move the schedule on by `periods` entries and open the gates of the new
 * one. Call it holding sched_lock, from the callback. */
void taprio_advance(unsigned long periods, uint64_t gates);

/* ---- the student's callback (advance_sched.c) ---- */

/* The hrtimer callback, once a period on CPU 0 (hardirq, IF=0): account
 * for every period since the last call, re-arm one period on, and return
 * HRTIMER_RESTART. It must never keep CPU 0 in hardirq waiting for a lock
 * another CPU may hold for long. */
enum hrtimer_restart advance_sched(struct hrtimer *timer);

#endif
