/* kernel/hardirq.h: preempt_count and the context tests in_hardirq(), in_softirq(), in_nmi(), in_task(). */
#ifndef KERNEL_HARDIRQ_H
#define KERNEL_HARDIRQ_H

#include "arch/x86_64/percpu.h"

/*
 * One per-CPU word says what context the CPU is in, with Linux's layout
 * (include/linux/preempt.h) as the counted-interrupt-disabling series
 * changes it (seed 001): the nesting count of local_interrupt_disable()
 * gets a byte of its own, and the hardirq and NMI fields move up to make room.
 *
 *   bits  0- 7  PREEMPT          preempt_disable() nesting
 *   bits  8-15  SOFTIRQ          bit 8: serving a softirq (SOFTIRQ_OFFSET);
 *                                bits 9-15: local_bh_disable() nesting, in
 *                                steps of SOFTIRQ_DISABLE_OFFSET (kernel/softirq.h)
 *   bits 16-23  HARDIRQ_DISABLE  local_interrupt_disable() nesting (kernel/irq_disable.h)
 *   bits 24-27  HARDIRQ          interrupt handler nesting (irq_enter)
 *   bits 28-31  NMI              NMI nesting (nmi_enter)
 *
 * Only this CPU writes its word, so plain read-modify-write is safe as long
 * as an interrupt that interrupts the update puts the word back as it was,
 * which enter/exit pairs always do.
 */
#define PREEMPT_MASK            0x000000ffU
#define SOFTIRQ_MASK            0x0000ff00U
#define HARDIRQ_DISABLE_MASK    0x00ff0000U
#define HARDIRQ_MASK            0x0f000000U
#define NMI_MASK                0xf0000000U
#define HARDIRQ_DISABLE_SHIFT   16
#define HARDIRQ_SHIFT           24
#define NMI_SHIFT               28
#define SOFTIRQ_SHIFT           8
#define PREEMPT_OFFSET          0x00000001U
#define SOFTIRQ_OFFSET          (1U << SOFTIRQ_SHIFT)
#define SOFTIRQ_DISABLE_OFFSET  (2 * SOFTIRQ_OFFSET)
#define HARDIRQ_DISABLE_OFFSET  (1U << HARDIRQ_DISABLE_SHIFT)
#define HARDIRQ_OFFSET          (1U << HARDIRQ_SHIFT)
#define NMI_OFFSET              (1U << NMI_SHIFT)

static inline unsigned preempt_count(void)
{
    return this_cpu_read(preempt_count);
}

static inline void preempt_count_add(unsigned v)
{
    this_cpu_write(preempt_count, this_cpu_read(preempt_count) + v);
    __asm__ volatile("" : : : "memory");
}

static inline void preempt_count_sub(unsigned v)
{
    __asm__ volatile("" : : : "memory");
    this_cpu_write(preempt_count, this_cpu_read(preempt_count) - v);
}

#define hardirq_count()  (preempt_count() & HARDIRQ_MASK)
#define softirq_count()  (preempt_count() & SOFTIRQ_MASK)
#define in_hardirq()     (hardirq_count() != 0)
/* In a softirq or a BH-disabled section: no softirq can start here. */
#define in_softirq()     (softirq_count() != 0)
/* Running a softirq handler (not merely BH-disabled). */
#define in_serving_softirq() ((softirq_count() & SOFTIRQ_OFFSET) != 0)
/* Any interrupt context, BH-disabled sections included (Linux's definition). */
#define in_interrupt()   ((preempt_count() & (NMI_MASK | HARDIRQ_MASK | SOFTIRQ_MASK)) != 0)
#define in_nmi()         ((preempt_count() & NMI_MASK) != 0)
/* Task context, as Linux's: not in an NMI, a hardirq or a softirq handler
 * (a task that only disabled BHs is still in task context). */
#define in_task()        (!(preempt_count() & (NMI_MASK | HARDIRQ_MASK | SOFTIRQ_OFFSET)))
#define hardirq_depth()  (hardirq_count() >> HARDIRQ_SHIFT)
/* local_interrupt_disable() nesting on this CPU (kernel/irq_disable.h) */
#define hardirq_disable_count() ((preempt_count() & HARDIRQ_DISABLE_MASK) >> HARDIRQ_DISABLE_SHIFT)

static inline void preempt_disable(void) { preempt_count_add(PREEMPT_OFFSET); }
static inline void preempt_enable(void)  { preempt_count_sub(PREEMPT_OFFSET); }

/*
 * Entering and leaving an interrupt handler (arch/x86_64/irq.c calls these).
 * irq_exit() (kernel/softirq.c) also runs the pending softirqs, with IRQs
 * on, when the interrupt came in over code that was in no interrupt context
 * and not BH-disabled; called with IRQs off, it returns with IRQs off.
 * __irq_exit() only leaves the context: for simulated interrupts (the
 * locking self-test, as Linux's HARDIRQ_EXIT()).
 */
static inline void irq_enter(void)   { preempt_count_add(HARDIRQ_OFFSET); }
static inline void __irq_exit(void)  { preempt_count_sub(HARDIRQ_OFFSET); }
void irq_exit(void);
/* NMIs count as hardirq too, as in Linux: in_hardirq() is true inside one. */
static inline void nmi_enter(void) { preempt_count_add(NMI_OFFSET + HARDIRQ_OFFSET); }
static inline void nmi_exit(void)  { preempt_count_sub(NMI_OFFSET + HARDIRQ_OFFSET); }

/* "task", "softirq", "hardirq" or "NMI", for reports. */
static inline const char *context_name(void)
{
    return in_nmi() ? "NMI" : in_hardirq() ? "hardirq" : in_serving_softirq() ? "softirq" : "task";
}

#endif
