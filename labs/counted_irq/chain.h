/* labs/counted_irq/chain.h: the counted_irq exercise: a chain locked hand over hand, and the walk a student writes for it (chain_walk.c). */
#ifndef LABS_COUNTED_IRQ_CHAIN_H
#define LABS_COUNTED_IRQ_CHAIN_H

#include "kernel/spinlock.h"

/*
 * A singly linked chain; every node has its own lock, which protects the
 * node's value. A device's interrupt handler on this CPU uses the values
 * too (under the same locks), so IRQs must be off on this CPU as long as
 * it holds ANY node's lock. The chain itself (head, the next pointers) is
 * fixed for the whole run: only the values change.
 */
struct chain_node {
    spinlock_t lock;                    /* protects value */
    struct chain_node *next;            /* NULL at the last node */
    unsigned value;
};

/* ---- provided by the lab (counted_irq.c) ---- */

/* Do the node's work. Call it for every node, in chain order, holding
 * n->lock and, unless n is the last node, n->next->lock: take the next
 * node's lock before you release this one's (hand over hand). */
void chain_visit(struct chain_node *n);

/* ---- written by the student (chain_walk.c) ---- */

/* Task context, IRQs on or off (the caller decides); head is not NULL.
 * Visit every node from head on, hand over hand, with IRQs off while any
 * node's lock is held; return with every node unlocked and IF as found. */
void chain_walk(struct chain_node *head);

#endif
