/* kernel/cleanup.h: scoped locking and interrupt disabling: guard(), scoped_guard(), scoped_irq_disable. */
#ifndef KERNEL_CLEANUP_H
#define KERNEL_CLEANUP_H

#include <stdbool.h>
#include "kernel/irq_disable.h"
#include "kernel/irqflags.h"
#include "kernel/softirq.h"
#include "kernel/spinlock.h"

/*
 * GCC's cleanup attribute: for a local variable declared
 *
 *     T x __attribute__((cleanup(f))) = ...;
 *
 * the compiler calls f(&x) whenever x goes out of scope: at the closing
 * brace, and at every return, break, continue or goto that leaves the
 * block. So "take it here, give it back at the end of the scope" cannot be
 * forgotten on an early return. (Linux: include/linux/cleanup.h; this file
 * keeps the same names with simpler insides.)
 *
 * Three ways to keep IRQs off around a critical section, side by side:
 *
 *   1. flags in the caller's variable:  guard(spinlock_irqsave)(&l);  guard(irqsave)();
 *   2. flags in a hidden variable of this scope:  scoped_irq_disable { ... }
 *      (Bart Van Assche's reply in seed 001: the flags cannot be mixed up
 *      because nobody can name them)
 *   3. counted (kernel/irq_disable.h):  guard(irq_disable)();  guard(spinlock_irq_disable)(&l);
 *
 * And one that keeps only softirqs out (kernel/softirq.h): guard(spinlock_bh)(&l);
 */
#define __cleanup(func) __attribute__((cleanup(func)))

/* __UNIQUE_ID(x): a fresh identifier at every use, so guards can nest. */
#define __PASTE_(a, b) a##b
#define __PASTE(a, b) __PASTE_(a, b)
#define __UNIQUE_ID(prefix) __PASTE(__PASTE(__unique_, prefix), __COUNTER__)

/*
 * DEFINE_LOCK_GUARD_1(name, type, _lock, _unlock): a guard over one object
 * of `type`. It is a small struct, guard_<name>_t, that remembers the
 * object and (for the irqsave kinds) the flags; guard_<name>_enter(obj)
 * runs `_lock` and fills it in, guard_<name>_exit(&g) runs `_unlock`. In
 * both, _T points at the struct. DEFINE_LOCK_GUARD_0 is the
 * same with no object (interrupt disabling only).
 */
#define DEFINE_LOCK_GUARD_1(name, type, _lock, _unlock)                        \
    typedef struct { type *lock; unsigned long flags; } guard_##name##_t;      \
    static inline guard_##name##_t guard_##name##_enter(type *obj)             \
    {                                                                          \
        guard_##name##_t g = { .lock = obj, .flags = 0 }, *_T = &g;            \
        _lock;                                                                 \
        return g;                                                              \
    }                                                                          \
    static inline void guard_##name##_exit(guard_##name##_t *_T)               \
    {                                                                          \
        _unlock;                                                               \
    }

#define DEFINE_LOCK_GUARD_0(name, _lock, _unlock)                              \
    typedef struct { unsigned long flags; } guard_##name##_t;                  \
    static inline guard_##name##_t guard_##name##_enter(void)                  \
    {                                                                          \
        guard_##name##_t g = { .flags = 0 }, *_T = &g;                         \
        (void)_T;                                                              \
        _lock;                                                                 \
        return g;                                                              \
    }                                                                          \
    static inline void guard_##name##_exit(guard_##name##_t *_T)               \
    {                                                                          \
        (void)_T;                                                              \
        _unlock;                                                               \
    }

/*
 * guard(name)(args);  holds until the end of the enclosing block.
 * It declares a hidden guard variable with the cleanup attribute; the
 * (args) that follow the macro complete the call to guard_<name>_enter:
 *
 *     guard(spinlock)(&l);   ->   guard_spinlock_t __unique_7
 *                                     __cleanup(guard_spinlock_exit) = guard_spinlock_enter(&l);
 */
#define guard(name)                                                            \
    guard_##name##_t __UNIQUE_ID(guard) __cleanup(guard_##name##_exit) = guard_##name##_enter

/*
 * scoped_guard(name, args) { ... }  holds for the block that follows.
 * The for statement gives the guard a scope that is exactly that block.
 * After the block, the third clause jumps to the label, whose break leaves
 * the loop: the block runs once, and the compiler can see that it does.
 * A break or return inside the block leaves it too, releasing the guard.
 */
#define scoped_guard(name, ...)                                                \
    __scoped_guard(name, __UNIQUE_ID(scope), __UNIQUE_ID(label), __VA_ARGS__)

#define __scoped_guard(name, scope, label, ...)                                \
    for (guard_##name##_t scope __cleanup(guard_##name##_exit) =               \
             guard_##name##_enter(__VA_ARGS__);                                \
         true; ({ goto label; }))                                              \
        if (0) {                                                               \
label:                                                                         \
            break;                                                             \
        } else

/*
 * scoped_irq_disable { ... }: IRQs off for the block, the flags in a
 * variable nobody can name; spelled as in seed 001's reply. The condition
 * saves the flags (it is evaluated once: the third clause leaves the loop).
 */
static inline void __local_irq_restore(unsigned long *flags)
{
    local_irq_restore(*flags);
}

#define scoped_irq_disable                                                     \
    __scoped_irq_disable(__UNIQUE_ID(flags), __UNIQUE_ID(label))

#define __scoped_irq_disable(_flags, _label)                                   \
    for (unsigned long _flags __cleanup(__local_irq_restore);                  \
         ({ local_irq_save(_flags); }), true; ({ goto _label; }))              \
        if (0) {                                                               \
_label:                                                                        \
            break;                                                             \
        } else

/* The guards. Linux's names; the counted ones as the series adds them. */
DEFINE_LOCK_GUARD_1(spinlock, spinlock_t,
                    spin_lock(_T->lock), spin_unlock(_T->lock))
DEFINE_LOCK_GUARD_1(spinlock_irq, spinlock_t,
                    spin_lock_irq(_T->lock), spin_unlock_irq(_T->lock))
DEFINE_LOCK_GUARD_1(spinlock_irqsave, spinlock_t,
                    spin_lock_irqsave(_T->lock, _T->flags),
                    spin_unlock_irqrestore(_T->lock, _T->flags))
DEFINE_LOCK_GUARD_1(spinlock_bh, spinlock_t,
                    spin_lock_bh(_T->lock), spin_unlock_bh(_T->lock))
DEFINE_LOCK_GUARD_1(spinlock_irq_disable, spinlock_t,
                    spin_lock_irq_disable(_T->lock), spin_unlock_irq_enable(_T->lock))

DEFINE_LOCK_GUARD_0(irq, local_irq_disable(), local_irq_enable())
DEFINE_LOCK_GUARD_0(irqsave, local_irq_save(_T->flags), local_irq_restore(_T->flags))
DEFINE_LOCK_GUARD_0(irq_disable, local_interrupt_disable(), local_interrupt_enable())

#endif
