/* labs/irq_inversion/pcpu.c: STUDENT FILE: the per-CPU allocator of the irq_inversion exercise (README.md, "Exercise"); edit this file only. */
#include "labs/irq_inversion/pcpu.h"

/*
 * pcpu_alloc() runs in task context, pcpu_free() in the device's interrupt
 * handler, on any CPU; both hold c->lock while they touch c->map,
 * c->map_size or c->nr_used. The mapping code (pcpu_vmap_map(),
 * pcpu_vunmap_map()) is not yours: it takes vmap_lock with IRQs on, and
 * must stay that way.
 */

/* The first free slot of a map that has one, marked in use. Call it holding c->lock. */
static int take_slot(struct pcpu_chunk *c)
{
    unsigned slot = 0;

    while (c->map[slot])
        slot++;
    c->map[slot] = 1;
    c->nr_used++;
    return (int)slot;
}

int pcpu_alloc(struct pcpu_chunk *c)
{
    unsigned long flags;
    unsigned long *new, *old;
    int slot;

    spin_lock_irqsave(&c->lock, flags);
    // BEGIN SOLUTION
    while (c->nr_used == c->map_size) {
        unsigned size = 2 * c->map_size;

        /* The mapping code takes vmap_lock with IRQs on: give up c->lock (and IF) around it. */
        spin_unlock_irqrestore(&c->lock, flags);
        new = pcpu_vmap_map(size);
        if (!new)
            return -1;
        spin_lock_irqsave(&c->lock, flags);
        if (c->map_size >= size) {
            /* Someone grew the map while we had no lock: keep theirs, give ours back. */
            old = new;
        } else {
            for (unsigned i = 0; i < c->map_size; i++)
                new[i] = c->map[i];
            old = c->map;
            c->map = new;
            c->map_size = size;
        }
        /* Unmapping takes vmap_lock too: outside c->lock. The loop re-checks: the map may be full again. */
        spin_unlock_irqrestore(&c->lock, flags);
        pcpu_vunmap_map(old);
        spin_lock_irqsave(&c->lock, flags);
    }
    // END SOLUTION
    // STUB: /* TODO: lockdep reports this growing; make grade says why (README.md, "Exercise"). */
    // STUB: if (c->nr_used == c->map_size) {
    // STUB:     new = pcpu_vmap_map(2 * c->map_size);
    // STUB:     if (!new) {
    // STUB:         spin_unlock_irqrestore(&c->lock, flags);
    // STUB:         return -1;
    // STUB:     }
    // STUB:     for (unsigned i = 0; i < c->map_size; i++)
    // STUB:         new[i] = c->map[i];
    // STUB:     old = c->map;
    // STUB:     c->map = new;
    // STUB:     c->map_size *= 2;
    // STUB:     pcpu_vunmap_map(old);
    // STUB: }
    slot = take_slot(c);
    spin_unlock_irqrestore(&c->lock, flags);
    return slot;
}

void pcpu_free(struct pcpu_chunk *c, int slot)
{
    /* A plain spin_lock(): the interrupt gate cleared IF, and this is what makes c->lock HARDIRQ-safe. */
    spin_lock(&c->lock);
    c->map[slot] = 0;
    c->nr_used--;
    spin_unlock(&c->lock);
}
