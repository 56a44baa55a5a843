/* labs/irq_inversion/irq_inversion.h: what the lab's scenario files (irq_inversion.c, vfree.c) share. */
#ifndef LABS_IRQ_INVERSION_IRQ_INVERSION_H
#define LABS_IRQ_INVERSION_IRQ_INVERSION_H

/*
 * The lab's device: a self-IPI on this vector (Intel SDM Vol. 3A 11.6.1)
 * whose handler frees per-CPU memory, so it takes pcpu_lock in hardirq.
 * Class 5: a level-triggered device, EOI after its handler. One variant
 * runs per boot, so each scenario installs its own handler on it.
 */
#define IRQ_INVERSION_VECTOR 0x53

#endif
