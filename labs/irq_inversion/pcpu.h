/* labs/irq_inversion/pcpu.h: the irq_inversion exercise: a per-CPU allocator's area map, the mapping code it calls, and the allocator a student repairs (pcpu.c). */
#ifndef LABS_IRQ_INVERSION_PCPU_H
#define LABS_IRQ_INVERSION_PCPU_H

#include "kernel/spinlock.h"

/*
 * The allocator hands out slots of a chunk. Its area map has one word per
 * slot: 0 free, anything else in use. When every slot is in use, the map
 * is replaced by one twice as big (the used slots copied over). Maps come
 * from the mapping code (pcpu_vmap_map()), which is someone else's
 * subsystem with its own lock, vmap_lock, taken with IRQs on.
 *
 * c->lock (lockdep calls its class "pcpu_lock") is taken in task context by
 * pcpu_alloc() and in hardirq context by pcpu_free(): it is HARDIRQ-safe.
 */
#define PCPU_MAP_INIT 4                 /* slots in a chunk's first map */
#define PCPU_MAX_SLOTS 64               /* the biggest map pcpu_vmap_map() makes */

struct pcpu_chunk {
    spinlock_t lock;                    /* protects everything below */
    unsigned long *map;                 /* map[slot] != 0: slot in use */
    unsigned map_size;                  /* slots in map */
    unsigned nr_used;                   /* slots in use */
};

/* ---- the mapping code, provided by the lab (irq_inversion.c) ---- */

/* A new map of `slots` words, all 0; NULL if slots > PCPU_MAX_SLOTS or
 * no memory is left. Takes vmap_lock with IRQs on: call it with IRQs on
 * and c->lock not held. */
unsigned long *pcpu_vmap_map(unsigned slots);

/* Give back a map from pcpu_vmap_map() (its contents are poisoned). Takes
 * vmap_lock with IRQs on, like pcpu_vmap_map(). */
void pcpu_vunmap_map(unsigned long *map);

/* ---- the allocator, written by the student (pcpu.c) ---- */

/* Task context, IRQs on; returns with them on. A free slot, now marked in
 * use; the map grows when it is full. -1 if it cannot grow. */
int pcpu_alloc(struct pcpu_chunk *c);

/* The device's interrupt handler (hardirq, IF=0): mark slot free. */
void pcpu_free(struct pcpu_chunk *c, int slot);

#endif
