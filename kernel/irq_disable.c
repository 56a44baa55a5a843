/* kernel/irq_disable.c: counted interrupt disabling: a nesting depth in preempt_count, the outermost flags per CPU. */
#include "kernel/irq_disable.h"
#include "kernel/bug.h"
#include "kernel/irqflags.h"

unsigned long local_interrupt_underflows;

/*
 * The depth goes up BEFORE IRQs go off, as in the series: an interrupt that
 * arrives in between finds depth 1, and a local_interrupt_disable() in its
 * handler takes depth 1 -> 2 (IRQs are already off in a handler, nothing to
 * save) and back, so the word is as it was when it returns.
 */
void local_interrupt_disable(void)
{
    /* NMI code has nothing to disable (an NMI runs with IF=0), and may have
     * interrupted one of these two functions halfway: see below. */
    WARN_ONCE(in_nmi(), "local_interrupt_disable() in NMI context");
    preempt_count_add(HARDIRQ_DISABLE_OFFSET);
    if (hardirq_disable_count() == 1) {
        unsigned long flags;

        local_irq_save(flags);
        this_cpu_write(interrupt_disable_flags, flags);
    }
}

void local_interrupt_enable(void)
{
    WARN_ONCE(in_nmi(), "local_interrupt_enable() in NMI context");
    if (WARN_ONCE(hardirq_disable_count() == 0,
                  "local_interrupt_enable() without local_interrupt_disable()")) {
        __atomic_fetch_add(&local_interrupt_underflows, 1, __ATOMIC_RELAXED);
        return;
    }
    /*
     * Read the saved flags before the depth drops: once it is 0, an NMI
     * arriving before the restore could do an outermost disable of its own
     * and overwrite them with its IF=0, and IRQs would stay off for good.
     * (A maskable interrupt cannot arrive: IRQs are off while depth > 0.)
     */
    unsigned long flags = this_cpu_read(interrupt_disable_flags);

    preempt_count_sub(HARDIRQ_DISABLE_OFFSET);
    if (hardirq_disable_count() == 0)
        local_irq_restore(flags);
}
