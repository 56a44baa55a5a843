/* kernel/labs/stall.h: the lab switches the stall lab turns, each defined next to the code it changes. */
#ifndef KERNEL_LABS_STALL_H
#define KERNEL_LABS_STALL_H

#include <stdbool.h>

/*
 * Every switch is false by default, which is Linux's behaviour; only a
 * stall lab variant turns one on, for its own run (the run ends QEMU).
 *
 *  broken_irq_restore   (arch/x86_64/irqflags.h) a restore in hardirq context
 *                       whose saved flags have IF clear still executes sti:
 *                       what seed 000's patch believes raw_local_irq_restore() does.
 *  lockdep_skip_irq_save_in_hardirq   (kernel/lockdep.c) seed 000's patch:
 *                       lock_acquire()/lock_release() skip their irq
 *                       save/restore in hardirq context.
 *  call_function_lowvec (kernel/smp.c) the "lowvec" configuration: the
 *                       call-function IPIs use vectors 0x3b/0x3c (class 0x3)
 *                       instead of 0xfb/0xfc (class 0xF).
 */
extern bool broken_irq_restore;
extern bool lockdep_skip_irq_save_in_hardirq;
extern bool call_function_lowvec;

#endif
