/* kernel/irq_disable.h: counted interrupt disabling, local_interrupt_disable()/enable() (the series in seed 001). */
#ifndef KERNEL_IRQ_DISABLE_H
#define KERNEL_IRQ_DISABLE_H

#include "kernel/hardirq.h"

/*
 * local_irq_save(flags)/local_irq_restore(flags) keep the old IF in a
 * variable of the caller's, so two overlapping (not nested) sections
 * restore in the wrong order and turn IRQs on too early: seed 001's
 *
 *     spin_lock_irqsave(l1, f1); spin_lock_irqsave(l2, f2);
 *     spin_unlock_irqrestore(l1, f1);   <- IRQs on, l2 still held
 *
 * The counted form keeps the nesting depth in this CPU's preempt_count
 * (its own byte, HARDIRQ_DISABLE_MASK, kernel/hardirq.h) and the flags of
 * the OUTERMOST disable in a per-CPU variable, so IRQs come back on only
 * when the depth returns to 0, whatever order the sections end in. xv6 has
 * the same idea as pushcli()/popcli() (ncli and intena in struct cpu).
 *
 * Both may be mixed with local_irq_save()/restore() in either nesting
 * order: IRQs stay off until the outermost of them ends.
 */

/* depth += 1; the first one saves the flags and turns IRQs off. Warns (once) in NMI context. */
void local_interrupt_disable(void);

/* depth -= 1; the last one restores the saved flags. Warns (once) and does
 * nothing if there was no matching disable (the depth is already 0). */
void local_interrupt_enable(void);

/* How many local_interrupt_enable() calls found the depth at 0, for tests. */
extern unsigned long local_interrupt_underflows;

#endif
