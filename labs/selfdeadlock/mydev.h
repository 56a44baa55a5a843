/* labs/selfdeadlock/mydev.h: the selfdeadlock exercise: a simulated device and the driver a student writes for it (mydev.c). */
#ifndef LABS_SELFDEADLOCK_MYDEV_H
#define LABS_SELFDEADLOCK_MYDEV_H

#include <stdbool.h>
#include "kernel/spinlock.h"

/*
 * The device has a ring of request slots. The driver puts a request in the
 * next free slot and rings the doorbell; the device finishes it at once and
 * raises its interrupt on the CPU that rang (a self-IPI, vector 0x52). The
 * driver's interrupt handler then completes every finished request, oldest
 * first. Both sides touch the ring and its indexes, on any CPU, so they
 * share one lock: d->lock. Submitting happens in task context, with IRQs
 * on or off (the caller decides); completing happens in hardirq.
 */
#define MYDEV_RING 64                   /* slots; a power of two */

struct mydev {
    spinlock_t lock;                    /* protects everything below */
    unsigned ring[MYDEV_RING];          /* request numbers, by slot (index % MYDEV_RING) */
    unsigned long head;                 /* next slot to fill: requests submitted so far */
    unsigned long tail;                 /* next slot to complete: requests completed so far */
};

/* ---- the device, provided by the lab (selfdeadlock.c) ---- */

/* Tell the device that slots up to d->head are filled. It finishes them at
 * once and interrupts this CPU: at once if IF=1, after IRQs come back on
 * if IF=0 (the request waits in the local APIC's IRR). Call it holding d->lock. */
void mydev_ring_doorbell(struct mydev *d);

/* How many requests the device has finished: every one up to the last doorbell. */
unsigned long mydev_hw_done(struct mydev *d);

/* Hand a completed request back to its submitter. Call it holding d->lock, oldest first. */
void mydev_complete(struct mydev *d, unsigned req);

/* ---- the driver, written by the student (mydev.c) ---- */

/* Task context, IRQs on or off; returns with them as they were. Queue req
 * in the next slot and ring the doorbell; false (and nothing queued) if
 * the ring is full. */
bool mydev_submit(struct mydev *d, unsigned req);

/* The device's interrupt handler (hardirq, IF=0): complete every request
 * the device has finished and the driver has not completed yet. */
void mydev_interrupt(struct mydev *d);

#endif
