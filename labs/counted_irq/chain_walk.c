/* labs/counted_irq/chain_walk.c: STUDENT FILE: the walk of the counted_irq exercise (README.md, "Exercise: walk the chain"); edit this file only. */
#include "kernel/cleanup.h"
#include "kernel/irq_disable.h"
#include "kernel/spinlock.h"
#include "labs/counted_irq/chain.h"

/*
 * Walk the chain hand over hand: hold a node's lock, take the next one's,
 * visit the node, then let go of it; so at every moment between the first
 * lock and the last unlock you hold one or two node locks. The device's
 * interrupt handler on this CPU takes the same locks, so IRQs must stay
 * off for that whole time, and when the walk is over IF must be what the
 * caller had: chain_walk() is called with IRQs on and with IRQs off.
 * kernel/spinlock.h, kernel/irq_disable.h and kernel/cleanup.h list the
 * ways to turn IRQs off with a lock.
 */

void chain_walk(struct chain_node *head)
{
    // BEGIN SOLUTION
    struct chain_node *n = head;

    /*
     * The counted forms (seed 001's series): the depth and the flags of the
     * first disable live in this CPU's data, not in a variable of ours, so
     * IRQs come back only when the depth returns to 0, at the last unlock,
     * and then to the state the first lock found (off if the caller had
     * them off). The unlocks may overlap in any order.
     *
     * Bart's form works too: scoped_irq_disable { the same walk with
     * spin_lock()/spin_unlock() }: one save and one restore, around the
     * whole walk, by the block.
     */
    spin_lock_irq_disable(&n->lock);
    while (n->next) {
        spin_lock_irq_disable(&n->next->lock);
        chain_visit(n);
        spin_unlock_irq_enable(&n->lock);       /* depth 2 -> 1: IRQs stay off */
        n = n->next;
    }
    chain_visit(n);
    spin_unlock_irq_enable(&n->lock);           /* depth 1 -> 0: the caller's IF is back */
    // END SOLUTION
    // STUB: /* TODO: this walk lets the device's interrupt in too early, when it is
    // STUB:  * called with IRQs on (`make grade LAB=counted_irq` says where). Fix it. */
    // STUB: struct chain_node *n = head;
    // STUB: unsigned long flags, next_flags;
    // STUB: spin_lock_irqsave(&n->lock, flags);
    // STUB: while (n->next) {
    // STUB:     spin_lock_irqsave(&n->next->lock, next_flags);
    // STUB:     chain_visit(n);
    // STUB:     spin_unlock_irqrestore(&n->lock, flags);  /* each node's own flags, at its unlock */
    // STUB:     flags = next_flags;
    // STUB:     n = n->next;
    // STUB: }
    // STUB: chain_visit(n);
    // STUB: spin_unlock_irqrestore(&n->lock, flags);
}
