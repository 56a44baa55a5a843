/* kernel/hrtimer.h: high-resolution timers: per-CPU queues of nanosecond deadlines, run from the LAPIC timer. */
#ifndef KERNEL_HRTIMER_H
#define KERNEL_HRTIMER_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Linux's hrtimer API (include/linux/hrtimer.h), cut down to what a
 * teaching kernel needs. A timer expires at an absolute time on the
 * ktime_get_ns() clock. It is queued on the base of the CPU that armed it,
 * and its function runs on that CPU, in hardirq context with IF=0, from
 * the LAPIC timer interrupt (hrtimer_interrupt()).
 */

enum hrtimer_restart {
    HRTIMER_NORESTART,          /* the timer is done */
    HRTIMER_RESTART,            /* re-queue it: the callback moved expires (hrtimer_forward) */
};

enum hrtimer_mode {
    HRTIMER_MODE_ABS,           /* ns is an absolute ktime_get_ns() time */
    HRTIMER_MODE_REL,           /* ns is relative to now */
};

/* timer->state: queued or not. A running callback is cpu_base->running. */
#define HRTIMER_STATE_INACTIVE  0
#define HRTIMER_STATE_ENQUEUED  1

struct hrtimer_cpu_base;

struct hrtimer {
    struct hrtimer *next;                       /* in the base's queue, sorted by expires */
    uint64_t expires;                           /* absolute ns, ktime_get_ns() clock */
    enum hrtimer_restart (*function)(struct hrtimer *timer);
    struct hrtimer_cpu_base *base;              /* the CPU base it is (or was last) queued on */
    unsigned state;                             /* HRTIMER_STATE_* */
};

/* Prepare a timer: inactive, bound to this CPU's base until it is started. */
void hrtimer_init(struct hrtimer *timer, enum hrtimer_restart (*function)(struct hrtimer *));

/*
 * (Re)arm the timer to expire at ns (ABS) or now + ns (REL), on this CPU.
 * A queued timer is moved; a timer whose callback runs right now on
 * another CPU stays on that CPU (as in Linux). Any context, IRQs on or off.
 */
void hrtimer_start(struct hrtimer *timer, uint64_t ns, enum hrtimer_mode mode);

/*
 * Dequeue the timer. Returns true if it was queued, i.e. its callback will
 * now not run. If the callback is running on another CPU, waits for it to
 * finish first, so afterwards the callback is not running anywhere. Never
 * call it from the timer's own callback (it would wait for itself).
 */
bool hrtimer_cancel(struct hrtimer *timer);

/*
 * Move an expired, not queued timer's expiry forward by whole intervals
 * until it is after now; returns the number of intervals added (the
 * overruns; 0 if it had not expired). For callbacks that return
 * HRTIMER_RESTART.
 */
uint64_t hrtimer_forward(struct hrtimer *timer, uint64_t now, uint64_t interval);
uint64_t hrtimer_forward_now(struct hrtimer *timer, uint64_t interval);

/* Queued, or its callback is running. */
bool hrtimer_active(const struct hrtimer *timer);

/* Set up this CPU's base; timer_init_cpu() calls it on every CPU, IRQs off. */
void hrtimer_init_cpu(void);

/* The LAPIC timer handler's work: run this CPU's expired timers, program the next event. */
void hrtimer_interrupt(void);

/* How many timers are queued on `cpu`, and how often its hang guard gave
 * up, for the monitor's `time`. */
unsigned hrtimer_nr_queued(unsigned cpu);
unsigned long hrtimer_nr_hangs(unsigned cpu);

#endif
