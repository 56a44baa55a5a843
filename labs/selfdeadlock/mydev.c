/* labs/selfdeadlock/mydev.c: STUDENT FILE: the driver of the selfdeadlock exercise (README.md, "Exercise"); edit this file only. */
#include "labs/selfdeadlock/mydev.h"

/*
 * Two functions share the device's ring with each other, on two CPUs:
 * mydev_submit() in task context and mydev_interrupt() in the device's
 * interrupt handler. Both must hold d->lock while they touch d->ring,
 * d->head, d->tail, or call the device (mydev_ring_doorbell(),
 * mydev_complete()). Choose, for each of them, the spin_lock variant that
 * cannot deadlock when the device interrupts the CPU that holds the lock
 * (kernel/spinlock.h lists them), and leave the caller's IRQ state as
 * you found it.
 */

bool mydev_submit(struct mydev *d, unsigned req)
{
    // BEGIN SOLUTION
    unsigned long flags;

    /* irqsave, not irq: the caller may already have IRQs off, and must get them back off. */
    spin_lock_irqsave(&d->lock, flags);
    if (d->head - d->tail == MYDEV_RING) {
        spin_unlock_irqrestore(&d->lock, flags);
        return false;
    }
    d->ring[d->head % MYDEV_RING] = req;
    d->head++;
    /* The device interrupts this CPU now; with IF=0 it waits in the IRR until the restore. */
    mydev_ring_doorbell(d);
    spin_unlock_irqrestore(&d->lock, flags);
    return true;
    // END SOLUTION
    // STUB: /* TODO: put req in slot d->head % MYDEV_RING, advance d->head, ring the doorbell;
    // STUB:  * return false if the ring is full (d->head - d->tail == MYDEV_RING). Take d->lock. */
    // STUB: (void)d;
    // STUB: (void)req;
    // STUB: return false;
}

void mydev_interrupt(struct mydev *d)
{
    // BEGIN SOLUTION
    /* A plain spin_lock(): the interrupt gate cleared IF, nothing on this CPU can interrupt us. */
    spin_lock(&d->lock);
    unsigned long done = mydev_hw_done(d);

    while (d->tail != done) {
        mydev_complete(d, d->ring[d->tail % MYDEV_RING]);
        d->tail++;
    }
    spin_unlock(&d->lock);
    // END SOLUTION
    // STUB: /* TODO: complete, oldest first, every request from slot d->tail up to mydev_hw_done(d),
    // STUB:  * advancing d->tail. Take d->lock. */
    // STUB: (void)d;
}
