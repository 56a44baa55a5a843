/* kernel/spinlock.h: a fair ticket spinlock; raw_spinlock_t (plain) and spinlock_t (debug-checked and validated). */
#ifndef KERNEL_SPINLOCK_H
#define KERNEL_SPINLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include "arch/x86_64/cpu.h"
#include "kernel/irqflags.h"
#include "kernel/lockdep.h"

/*
 * A ticket lock: take a number (next), wait until it is served (owner).
 * CPUs get the lock in the order they asked, so none starves, which is
 * what makes lock waits in the labs reproducible.
 */
typedef struct {
    uint16_t owner;             /* ticket now being served */
    uint16_t next;              /* next ticket to hand out */
} arch_spinlock_t;

#define __ARCH_SPIN_LOCK_UNLOCKED { 0, 0 }

static inline void arch_spin_lock(arch_spinlock_t *l)
{
    uint16_t me = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);

    while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != me)
        cpu_relax();
}

static inline bool arch_spin_trylock(arch_spinlock_t *l)
{
    uint16_t owner = __atomic_load_n(&l->owner, __ATOMIC_RELAXED);
    uint16_t expected = owner;

    /* Free means no one holds a ticket past the one being served. */
    return __atomic_compare_exchange_n(&l->next, &expected, (uint16_t)(owner + 1), false,
                                       __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

static inline void arch_spin_unlock(arch_spinlock_t *l)
{
    __atomic_store_n(&l->owner, (uint16_t)(l->owner + 1), __ATOMIC_RELEASE);
}

static inline bool arch_spin_is_locked(arch_spinlock_t *l)
{
    return __atomic_load_n(&l->owner, __ATOMIC_RELAXED) != __atomic_load_n(&l->next, __ATOMIC_RELAXED);
}

/* Someone waits: more than one ticket is out (the holder's), as Linux's x86 ticket lock had it. */
static inline bool arch_spin_is_contended(arch_spinlock_t *l)
{
    uint16_t next = __atomic_load_n(&l->next, __ATOMIC_RELAXED);

    return (uint16_t)(next - __atomic_load_n(&l->owner, __ATOMIC_RELAXED)) > 1;
}

/*
 * raw_spinlock_t: the lock, without debug checks, validation or irq-state
 * tracing. For code the checks themselves run on (the validator, printk's
 * path) and for the early, simple users (page allocator, page tables).
 * (In Linux, raw_spinlock_t is validated too; irqlab keeps it plain.)
 */
typedef struct {
    arch_spinlock_t lock;
} raw_spinlock_t;

#define __RAW_SPIN_LOCK_UNLOCKED { __ARCH_SPIN_LOCK_UNLOCKED }
#define DEFINE_RAW_SPINLOCK(name) raw_spinlock_t name = __RAW_SPIN_LOCK_UNLOCKED

static inline void raw_spin_lock_init(raw_spinlock_t *l) { *l = (raw_spinlock_t)__RAW_SPIN_LOCK_UNLOCKED; }
static inline void raw_spin_lock(raw_spinlock_t *l)    { arch_spin_lock(&l->lock); }
static inline void raw_spin_unlock(raw_spinlock_t *l)  { arch_spin_unlock(&l->lock); }
static inline bool raw_spin_trylock(raw_spinlock_t *l) { return arch_spin_trylock(&l->lock); }
static inline bool raw_spin_is_locked(raw_spinlock_t *l) { return arch_spin_is_locked(&l->lock); }
static inline bool raw_spin_is_contended(raw_spinlock_t *l) { return arch_spin_is_contended(&l->lock); }

/* IRQs off with raw_local_irq_save(): untraced, so usable under the validator. */
#define raw_spin_lock_irqsave(l, flags) do {                                    \
    raw_local_irq_save(flags);                                                  \
    raw_spin_lock(l);                                                           \
} while (0)

#define raw_spin_unlock_irqrestore(l, flags) do {                               \
    raw_spin_unlock(l);                                                         \
    raw_local_irq_restore(flags);                                               \
} while (0)

/*
 * spinlock_t: the same lock plus what Linux's CONFIG_DEBUG_SPINLOCK and
 * CONFIG_DEBUG_LOCK_ALLOC add: a magic number (catches uninitialised or
 * overwritten locks), the owner CPU and the address it was taken at, and a
 * lockdep_map naming the lock's class for the validator. kernel/spinlock.c
 * checks, on every lock and unlock, and reports in Linux's words:
 *
 *   BUG: spinlock recursion on CPU#n, ...       this CPU already holds it
 *   BUG: spinlock already unlocked on CPU#n, ... nobody holds it
 *   BUG: spinlock wrong CPU on CPU#n, ...        another CPU took it
 *   BUG: spinlock bad magic on CPU#n, ...        not a (live) spinlock
 */
#define SPINLOCK_MAGIC 0xdead4ead

typedef struct spinlock {
    raw_spinlock_t rlock;
    unsigned magic;             /* SPINLOCK_MAGIC */
    int owner_cpu;              /* -1 while free */
    unsigned long owner_ip;     /* where the owner took it; 0 while free */
    struct lockdep_map dep_map;
} spinlock_t;

/*
 * A statically defined lock is its own class key, as in Linux (whose lockdep
 * uses the address of a static lock object as its key): the key is only an
 * address, and the lock's is unique. Its class is looked up on first use.
 */
#define __SPIN_LOCK_UNLOCKED(lockname) {                                        \
    .rlock = __RAW_SPIN_LOCK_UNLOCKED,                                          \
    .magic = SPINLOCK_MAGIC,                                                    \
    .owner_cpu = -1,                                                            \
    .owner_ip = 0,                                                              \
    .dep_map = { .key = (struct lock_class_key *)&(lockname), .name = #lockname },  \
}

/* `static DEFINE_SPINLOCK(foo_lock);` */
#define DEFINE_SPINLOCK(lockname) spinlock_t lockname = __SPIN_LOCK_UNLOCKED(lockname)

/*
 * spin_lock_init(lock): for locks in structures set up at run time. Each
 * call site has its own static key, so every lock initialised at one site
 * is one class: the validator learns a rule once for all of them.
 */
#define spin_lock_init(lock) do {                                               \
    static struct lock_class_key key__;                                         \
    __spin_lock_init((lock), #lock, &key__);                                    \
} while (0)

void __spin_lock_init(spinlock_t *lock, const char *name, struct lock_class_key *key);

/*
 * Every function takes the lock in this order, as Linux's
 * __raw_spin_lock*() do: IRQs off first (if the variant does that), then
 * lock_acquire() (so the validator reports a deadlock before we spin in
 * it), then the debug checks, then the spin. Unlock is the mirror image:
 * lock_release(), checks, unlock, IRQs back. The address recorded everywhere
 * is the caller's.
 */
void spin_lock(spinlock_t *lock);
void spin_unlock(spinlock_t *lock);
bool spin_trylock(spinlock_t *lock);
bool spin_is_locked(spinlock_t *lock);
/* Linux's spin_is_contended(): held, and another CPU (or context) waits for it. A snapshot, for heuristics
 * (lock breaking) and for tests; it may be stale by the time the caller looks. */
bool spin_is_contended(spinlock_t *lock);

/* IRQs off / on unconditionally (local_irq_disable/enable). */
void spin_lock_irq(spinlock_t *lock);
void spin_unlock_irq(spinlock_t *lock);

/* IRQs off, the old flags into `flags` (an unsigned long, checked); restore them after. */
#define spin_lock_irqsave(lock, flags) do {                                     \
    typecheck(unsigned long, flags);                                            \
    (flags) = _spin_lock_irqsave(lock);                                         \
} while (0)

#define spin_unlock_irqrestore(lock, flags) do {                                \
    typecheck(unsigned long, flags);                                            \
    _spin_unlock_irqrestore((lock), (flags));                                   \
} while (0)

/* True with the lock held and IRQs off; false with the flags restored. */
#define spin_trylock_irqsave(lock, flags) ({                                    \
    local_irq_save(flags);                                                      \
    spin_trylock(lock) ? true : ({ local_irq_restore(flags); false; });         \
})

unsigned long _spin_lock_irqsave(spinlock_t *lock);
void _spin_unlock_irqrestore(spinlock_t *lock, unsigned long flags);

/*
 * Softirqs (BHs) off on this CPU, then the lock; unlock, then
 * local_bh_enable(), which runs what was raised meanwhile
 * (kernel/softirq.h). For data shared between tasks and softirqs (tasklets):
 * a softirq that spins on the lock on this CPU could never let its holder
 * finish. IRQs stay on: hardirqs may still come in, so a lock shared with a
 * hardirq handler needs the irqsave forms instead.
 */
void spin_lock_bh(spinlock_t *lock);
void spin_unlock_bh(spinlock_t *lock);

/* The counted forms (kernel/irq_disable.h): local_interrupt_disable() then
 * the lock; unlock then local_interrupt_enable(). Hand-over-hand unlocking
 * keeps IRQs off until the last of them is released. */
void spin_lock_irq_disable(spinlock_t *lock);
void spin_unlock_irq_enable(spinlock_t *lock);
bool spin_trylock_irq_disable(spinlock_t *lock);

/* Spinlock BUG reports so far (all kinds), for tests. */
extern unsigned long spin_bug_count;

/*
 * Test-only: called at the end of every spinlock BUG report. A test that
 * provokes recursion on purpose uses it to release the lock the CPU is
 * about to spin on forever, so it can check the report and carry on.
 * NULL (the default): a recursion report is followed by the deadlock, as in Linux.
 */
extern void (*spin_bug_test_hook)(spinlock_t *lock, const char *msg);

#endif
