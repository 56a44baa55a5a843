/* kernel/lab_hooks.h: the only places where a lab may change how the core kernel behaves; all off is Linux. */
#ifndef KERNEL_LAB_HOOKS_H
#define KERNEL_LAB_HOOKS_H

#include <stdbool.h>

/*
 * A lab sometimes needs the kernel to behave in a way Linux does not, to
 * test a claim about what would happen if it did (seed 000's patch believes
 * a restore in hardirq executes sti; what if it did?). Those departures are
 * listed here, and nowhere else: core code asks lab_hook(), never a lab's
 * variable or header, and a lab turns a hook on with lab_hook_set(), which
 * prints what changes and what Linux does instead, so every run that uses
 * one says so. Every hook is off at boot, and off means Linux's behaviour.
 *
 * A hook is one bit in a word that is read, not written, on the hot paths
 * (the restore, the lock hooks, the IPI send): one load and a predicted-not-
 * taken branch, and only on the path the hook changes.
 *
 * To add one: a name here, its two lines in lab_hooks.c, the lab_hook()
 * test at the one place in the core it changes, and a line in labs/README.md.
 */
enum lab_hook {
    /* arch_local_irq_restore() (arch/x86_64/irqflags.h): a restore in hardirq
     * whose saved IF is clear executes sti; nop; cli (what seed 000's patch
     * believes). Linux: a restore never executes sti when the saved IF is 0. */
    LAB_HOOK_IRQ_RESTORE_OPENS_WINDOW,
    /* lockdep_enter()/exit() (kernel/lockdep.c): seed 000's patch, no irq
     * save/restore in hardirq. Linux: lock_acquire()/release() always save
     * and restore. */
    LAB_HOOK_LOCKDEP_SKIP_IRQ_SAVE_IN_HARDIRQ,
    /* smp_call_function_*() (kernel/smp.c): the call-function IPIs go out on
     * vectors 0x3b/0x3c, class 0x3. Linux: 0xfb/0xfc, class 0xF, the highest. */
    LAB_HOOK_CALL_FUNCTION_LOWVEC,
    /* hrtimer_interrupt() (kernel/hrtimer.c): no hang guard, the interrupt
     * loops as long as timers keep expiring. Linux: three passes, then
     * "hrtimer: interrupt took N ns" and the next event pushed out. */
    LAB_HOOK_NO_HRTIMER_HANG_GUARD,
    NR_LAB_HOOKS
};

extern unsigned long lab_hooks;

/* Is `hook` on? Cheap enough for the hot paths that ask. */
static inline bool lab_hook(enum lab_hook hook)
{
    return __builtin_expect((__atomic_load_n(&lab_hooks, __ATOMIC_RELAXED) >> hook) & 1, 0);
}

/*
 * Turn `hook` on or off, before the scenario that needs it starts (the
 * change is not synchronized with code running on other CPUs). Turning one
 * on prints "lab: hook NAME on: what changes; Linux: what it does".
 */
void lab_hook_set(enum lab_hook hook, bool on);

/*
 * lab_hooks=off on the command line: lab_hook_set() turns no hook on, so
 * every lab runs on Linux's behaviour. It exists to test the judges: a
 * variant whose claim rests on a hook must then end INVALID.
 */
extern char param_lab_hooks[8];
bool lab_hooks_param_valid(const char *value);

/* The hook's name, e.g. "irq_restore_opens_window", for messages and the monitor. */
const char *lab_hook_name(enum lab_hook hook);

#endif
