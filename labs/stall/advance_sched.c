/* labs/stall/advance_sched.c: STUDENT FILE: the hrtimer callback of the stall exercise (README.md, "Exercise"); edit this file only. */
#include "labs/stall/taprio.h"

/*
 * advance_sched() runs on CPU 0 in hardirq context, IF=0, once a period.
 * While it runs, CPU 0 takes no interrupt at all: not the call-function
 * IPI another CPU's TLB flush waits for (Intel SDM Vol. 3A 6.8.1: IF=0
 * masks every maskable interrupt). So it must not wait for sched_lock
 * when someone else holds it. Every period must still be accounted for:
 * at the end of the run, taprio_sched.cycles must equal the number of
 * times this callback ran.
 */

// BEGIN SOLUTION
/* Periods this callback could not account for yet (sched_lock was busy).
 * Only the callback touches it, on CPU 0 with IF=0, so it needs no lock. */
static unsigned long missed;
// END SOLUTION

enum hrtimer_restart advance_sched(struct hrtimer *timer)
{
    uint64_t gates = taprio_read_gates();

    // BEGIN SOLUTION
    /* Someone holds the lock: do not spin with IF=0 (that is the stall),
     * come back next period and catch up then. */
    if (!spin_trylock(&sched_lock)) {
        missed++;
        hrtimer_forward_now(timer, TAPRIO_PERIOD_NS);
        return HRTIMER_RESTART;
    }
    taprio_advance(missed + 1, gates);
    missed = 0;
    spin_unlock(&sched_lock);
    // END SOLUTION
    // STUB: /* TODO: never wait in hardirq for a lock another CPU may hold for long;
    // STUB:  * and account for every period, also the ones you skipped. */
    // STUB: spin_lock(&sched_lock);
    // STUB: taprio_advance(1, gates);
    // STUB: spin_unlock(&sched_lock);
    hrtimer_forward_now(timer, TAPRIO_PERIOD_NS);
    return HRTIMER_RESTART;
}
