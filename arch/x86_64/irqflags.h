/* arch/x86_64/irqflags.h: the instructions that read and change the interrupt flag (IF). */
#ifndef ARCH_X86_64_IRQFLAGS_H
#define ARCH_X86_64_IRQFLAGS_H

#include <stdbool.h>
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/percpu.h"
#include "kernel/hardirq.h"
#include "kernel/lab_hooks.h"
#include "kernel/trace.h"

/*
 * The arch_ layer: the instructions, nothing else. IF is RFLAGS bit 9;
 * only cli, sti, popf and iretq change it (Intel SDM Vol. 1 3.4.3.3).
 * kernel/irqflags.h builds the raw_ and local_ layers on top.
 */

/* Code addresses, as Linux's include/linux/instruction_pointer.h:
 * _RET_IP_ where the current function will return to (its call site),
 * _THIS_IP_ an address inside the current (possibly inlined) code. */
#define _RET_IP_ ((unsigned long)__builtin_return_address(0))
#define _THIS_IP_ ({ unsigned long ip__; __asm__ volatile("lea 0(%%rip), %0" : "=r"(ip__)); ip__; })

static inline unsigned long arch_local_save_flags(void)
{
    unsigned long flags;

    /* pushf/pop: the only way to read RFLAGS. "memory" keeps the compiler
     * from moving memory accesses across the read. */
    __asm__ volatile("pushfq; popq %0" : "=r"(flags) : : "memory");
    return flags;
}

static inline void arch_local_irq_disable(void)
{
    __asm__ volatile("cli" : : : "memory");
}

/*
 * An sti inside an interrupt handler lets a second interrupt in before the
 * handler returns: the window seed 000's patch worries about. Every sti is
 * counted here, right before it executes, when the CPU is in hardirq (or
 * NMI) context, with its address; the stall lab reads the count with
 * hardirq_sti_count() (kernel/irqflags.h). Counting next to the instruction,
 * not in the callers, means only sti instructions that really run count.
 */
static inline void arch_note_sti(unsigned long ip)
{
    if (in_hardirq()) {
        this_cpu_write(hardirq_sti_count, this_cpu_read(hardirq_sti_count) + 1);
        this_cpu_write(hardirq_sti_ip, ip);
    }
}

static inline void arch_local_irq_enable(void)
{
    arch_note_sti(_THIS_IP_);
    /* sti takes effect after the NEXT instruction (the interrupt shadow). */
    __asm__ volatile("sti" : : : "memory");
}

/* sti; hlt: idle with interrupts on, with no window between the two in
 * which a wakeup interrupt could be taken and then slept through. */
static inline void arch_safe_halt(void)
{
    arch_note_sti(_THIS_IP_);
    __asm__ volatile("sti; hlt" : : : "memory");
}

static inline bool arch_irqs_disabled_flags(unsigned long flags)
{
    return !(flags & X86_EFLAGS_IF);
}

static inline bool arch_irqs_disabled(void)
{
    return arch_irqs_disabled_flags(arch_local_save_flags());
}

static inline unsigned long arch_local_irq_save(void)
{
    unsigned long flags = arch_local_save_flags();

    arch_local_irq_disable();
    return flags;
}

/*
 * The lab hook LAB_HOOK_IRQ_RESTORE_OPENS_WINDOW (kernel/lab_hooks.h), off
 * unless a stall lab variant turns it on. Seed 000's patch believes a
 * restore in a hardirq handler executes sti and "briefly re-enables IRQs".
 * With the hook on, a restore in hardirq context (not NMI) whose saved
 * flags have IF clear does exactly that: sti, one instruction (sti's
 * shadow: the CPU takes no interrupt before the instruction after sti has
 * run, SDM Vol. 2B STI), then cli, back to the saved state. That is the
 * patch's window at its most generous: every interrupt that is pending and
 * deliverable (class above PPR, SDM Vol. 3A 11.8.3.1) gets in after the nop.
 */

static inline void arch_broken_irq_window(void)
{
    /* Traced as what it is, IF 0 -> 1 -> 0, so the trace shows the window. */
    trace_event(TRACE_IRQ_ENABLE, 0, 0, (void *)_THIS_IP_, NULL);
    arch_note_sti(_THIS_IP_);
    __asm__ volatile("sti; nop; cli" : : : "memory");
    trace_event(TRACE_IRQ_DISABLE, 0, 0, (void *)_THIS_IP_, NULL);
}

/*
 * Linux's restore: execute sti only if the saved flags had IF set; never
 * cli, never popf. Flags saved inside a hardirq handler have IF clear (the
 * interrupt gate cleared it), so a restore there never enables interrupts:
 * the point seed 000's reply makes against the patch.
 */
static inline void arch_local_irq_restore(unsigned long flags)
{
    if (!arch_irqs_disabled_flags(flags))
        arch_local_irq_enable();
    else if (lab_hook(LAB_HOOK_IRQ_RESTORE_OPENS_WINDOW) && in_hardirq() && !in_nmi())
        arch_broken_irq_window();       /* the lab hook, above */
}

#endif
