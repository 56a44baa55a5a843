/* kernel/irqflags.h: the raw_ and local_ interrupt-flag layers: typechecked flags, a restore check, irq-state tracing. */
#ifndef KERNEL_IRQFLAGS_H
#define KERNEL_IRQFLAGS_H

#include <stdbool.h>
#include "arch/x86_64/irqflags.h"

/*
 * Three layers, as in Linux (include/linux/irqflags.h):
 *
 *   arch_local_*()   the instructions (arch/x86_64/irqflags.h)
 *   raw_local_*()    flags must be an unsigned long; restore checks IF is off
 *   local_*()        raw_ plus irq-state tracing (trace_hardirqs_on/off),
 *                    which feeds the lock validator (kernel/lockdep.h)
 *
 * Ordinary code uses local_*(). raw_ is for code that must not be traced:
 * the validator itself (its lock_acquire() wraps its work in
 * raw_local_irq_save/restore, so tracing cannot recurse into it).
 */

/*
 * typecheck(type, x) is 1, and a compile error under -Werror unless x has
 * exactly type `type`: comparing pointers to two different types is a
 * diagnostic ("comparison of distinct pointer types"). The flags are a whole
 * RFLAGS value: a bool or an unsigned char would silently lose IF (bit 9),
 * so, as Linux does, nothing but unsigned long is accepted.
 */
#define typecheck(type, x) ({                                                  \
    type __dummy;                                                              \
    __typeof__(x) __dummy2;                                                    \
    (void)(&__dummy == &__dummy2);                                             \
    1; })

/*
 * Linux's CONFIG_DEBUG_IRQFLAGS, always on in irqlab: restoring flags is
 * only meaningful with IRQs off (the matching save disabled them), so a
 * restore that finds IF set means an unbalanced save/restore somewhere.
 * warn_bogus_irq_restore() warns once per boot and counts every time.
 */
void warn_bogus_irq_restore(void);
extern unsigned long bogus_irq_restore_count;

#define raw_check_bogus_irq_restore() do {                                     \
    if (__builtin_expect(!arch_irqs_disabled(), 0))                            \
        warn_bogus_irq_restore();                                              \
} while (0)

/* ---- raw_: no tracing ---- */
#define raw_local_irq_disable()         arch_local_irq_disable()
#define raw_local_irq_enable()          arch_local_irq_enable()
#define raw_safe_halt()                 arch_safe_halt()
#define raw_irqs_disabled()             arch_irqs_disabled()

#define raw_local_irq_save(flags) do {                                         \
    typecheck(unsigned long, flags);                                           \
    (flags) = arch_local_irq_save();                                           \
} while (0)

#define raw_local_irq_restore(flags) do {                                      \
    typecheck(unsigned long, flags);                                           \
    raw_check_bogus_irq_restore();                                             \
    arch_local_irq_restore(flags);                                             \
} while (0)

#define raw_local_save_flags(flags) do {                                       \
    typecheck(unsigned long, flags);                                           \
    (flags) = arch_local_save_flags();                                         \
} while (0)

#define raw_irqs_disabled_flags(flags) ({                                      \
    typecheck(unsigned long, flags);                                           \
    arch_irqs_disabled_flags(flags);                                           \
})

/* ---- irq-state tracing (kernel/irqflags.c) ---- */

/*
 * Record that this CPU's IRQs are about to go on (called just BEFORE the
 * sti) or just went off (called just AFTER the cli), at the caller's
 * address: a new stamp in this CPU's struct irqtrace_events, then the lock
 * validator's lockdep_hardirqs_on/off(). The caller must only call
 * trace_hardirqs_off() when IRQs really were on; trace_hardirqs_on() when
 * IRQs are already on records nothing (it changes nothing).
 */
void trace_hardirqs_on(void);
void trace_hardirqs_off(void);

/*
 * Softirqs (BHs) go off and on at ip (kernel/softirq.c, when softirq_count()
 * leaves or returns to 0): a stamp, as for hardirqs. IRQs off.
 */
void trace_softirqs_on(unsigned long ip);
void trace_softirqs_off(unsigned long ip);

/* Linux's lines: "irq event stamp: N", "hardirqs last  enabled at (N): [<ip>] f+0x../0x..",
 * "hardirqs last disabled at (N): ...", the same two for softirqs, for cpu
 * (Linux's takes a task: irqlab traces per CPU). */
void print_irqtrace_events(unsigned cpu);
/* The same lines, each after prefix: for a trace Linux's report would not show. */
void print_irqtrace_events_prefixed(unsigned cpu, const char *prefix);

/* sti instructions cpu executed in hardirq context, and where the last one was (0: none). */
unsigned long hardirq_sti_count(unsigned cpu);
unsigned long hardirq_sti_last_ip(unsigned cpu);

/* ---- local_: raw_ plus tracing; what ordinary code uses ---- */

/* Off after the cli, and only if the cli changed something. */
#define local_irq_disable() do {                                               \
    bool was_disabled__ = raw_irqs_disabled();                                 \
    raw_local_irq_disable();                                                   \
    if (!was_disabled__)                                                       \
        trace_hardirqs_off();                                                  \
} while (0)

/* On before the sti: once IF=1 an interrupt may come in and see the trace. */
#define local_irq_enable() do {                                                \
    trace_hardirqs_on();                                                       \
    raw_local_irq_enable();                                                    \
} while (0)

#define local_irq_save(flags) do {                                             \
    raw_local_irq_save(flags);                                                 \
    if (!raw_irqs_disabled_flags(flags))                                       \
        trace_hardirqs_off();                                                  \
} while (0)

#define local_irq_restore(flags) do {                                          \
    if (!raw_irqs_disabled_flags(flags))                                       \
        trace_hardirqs_on();                                                   \
    raw_local_irq_restore(flags);                                              \
} while (0)

#define local_save_flags(flags)         raw_local_save_flags(flags)
#define irqs_disabled()                 raw_irqs_disabled()
#define irqs_disabled_flags(flags)      raw_irqs_disabled_flags(flags)

/* Idle until an interrupt: sti; hlt, traced as an enable. */
#define safe_halt() do {                                                       \
    trace_hardirqs_on();                                                       \
    raw_safe_halt();                                                           \
} while (0)

#endif
