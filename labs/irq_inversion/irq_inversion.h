/* labs/irq_inversion/irq_inversion.h: what the lab's scenario files (irq_inversion.c, bh.c, vfree.c) share. */
#ifndef LABS_IRQ_INVERSION_IRQ_INVERSION_H
#define LABS_IRQ_INVERSION_IRQ_INVERSION_H

/*
 * The lab's device: a self-IPI on this vector (Intel SDM Vol. 3A 11.6.1)
 * whose handler frees per-CPU memory, so it takes pcpu_lock in hardirq.
 * Class 5: a level-triggered device, EOI after its handler. One variant
 * runs per boot, so each scenario installs its own handler on it.
 */
#define IRQ_INVERSION_VECTOR 0x53

#include "kernel/spinlock.h"

/*
 * The allocator model, in irq_inversion.c: the seed's two locks (pcpu_lock,
 * the per-CPU allocator's; vmap_lock, the mapping code's), the mapping
 * code's own use of vmap_lock, and the allocator growing its map under
 * pcpu_lock. inv_cfg holds the two fixes the thread names; a variant sets
 * them before it runs.
 */
extern spinlock_t pcpu_lock, vmap_lock;

struct inv_cfg {
    bool vmap_irqsave;          /* fix 1: vmap_lock always taken with IRQs off */
    bool unlock_first;          /* fix 2: drop pcpu_lock around the mapping (the dance) */
};
extern struct inv_cfg inv_cfg;

void vmap_area(void);
void pcpu_alloc_and_grow(void);

/* One step of a scenario: print it on the timeline, run it, and say whether lockdep reported. */
void inv_step(const char *what, void (*fn)(void));

#endif
