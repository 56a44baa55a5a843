/* kernel/spinlock.c: spinlock_t: the lock functions, their debug checks and Linux-style BUG reports. */
#include "kernel/spinlock.h"
#include "kernel/sched.h"
#include "kernel/hardirq.h"
#include "arch/x86_64/dumpstack.h"
#include "kernel/irq_disable.h"
#include "kernel/printk.h"
#include "kernel/softirq.h"
#include "kernel/trace.h"

unsigned long spin_bug_count;
void (*spin_bug_test_hook)(spinlock_t *lock, const char *msg);

void __spin_lock_init(spinlock_t *lock, const char *name, struct lock_class_key *key)
{
    raw_spin_lock_init(&lock->rlock);
    lock->magic = SPINLOCK_MAGIC;
    lock->owner_cpu = -1;
    lock->owner_ip = 0;
    lockdep_init_map(&lock->dep_map, name, key);
}

/*
 * Linux's spin_dump(): the headline names the current task as comm/pid.
 * Linux also turns all lock debugging off after the first report
 * (debug_locks_off()); irqlab keeps reporting, so one boot can show, and
 * test, several.
 */
static void spin_bug(spinlock_t *lock, const char *msg)
{
    unsigned cpu = smp_processor_id();

    __atomic_fetch_add(&spin_bug_count, 1, __ATOMIC_RELAXED);
    printk(KERN_EMERG "BUG: spinlock %s on CPU#%u, %s/%d\n", msg, cpu, current_comm(), current_pid());
    printk(KERN_EMERG " lock: %s, .magic: %08x, .owner_cpu: %d, .owner_ip: %pS\n",
           lock->dep_map.name ? lock->dep_map.name : "(no name)", lock->magic,
           lock->owner_cpu, (void *)lock->owner_ip);
    dump_stack();
    if (spin_bug_test_hook)
        spin_bug_test_hook(lock, msg);
}

/*
 * Before spinning: a lock this CPU already holds will never be released
 * (the holder is us, waiting). Report it, then spin anyway, as Linux does:
 * the hang is the bug's real effect, and the report says why.
 */
static void debug_spin_lock_before(spinlock_t *lock)
{
    if (lock->magic != SPINLOCK_MAGIC)
        spin_bug(lock, "bad magic");
    if (__atomic_load_n(&lock->owner_cpu, __ATOMIC_RELAXED) == (int)smp_processor_id())
        spin_bug(lock, "recursion");
}

static void debug_spin_lock_after(spinlock_t *lock, unsigned long ip)
{
    __atomic_store_n(&lock->owner_cpu, (int)smp_processor_id(), __ATOMIC_RELAXED);
    lock->owner_ip = ip;
}

/*
 * Returns whether the unlock may go ahead. Unlocking a free ticket lock
 * would move `owner` past `next` and hang every later locker, so after
 * "already unlocked" the unlock is skipped (Linux's qspinlock survives a
 * double unlock; a ticket lock does not).
 */
static bool debug_spin_unlock(spinlock_t *lock)
{
    if (lock->magic != SPINLOCK_MAGIC)
        spin_bug(lock, "bad magic");
    if (!raw_spin_is_locked(&lock->rlock)) {
        spin_bug(lock, "already unlocked");
        return false;
    }
    if (lock->owner_cpu != (int)smp_processor_id())
        spin_bug(lock, "wrong CPU");
    lock->owner_ip = 0;
    __atomic_store_n(&lock->owner_cpu, -1, __ATOMIC_RELAXED);
    return true;
}

/*
 * The steps every lock and unlock function below shares; ip is the caller's.
 * Always inlined (the tracer's calls made gcc outline them), so a CPU
 * spinning on a lock is in spin_lock() itself, as its backtraces say.
 * Holding a spinlock disables preemption, as in Linux: the owner check and
 * lockdep's held-lock stacks are per CPU, and another task on this CPU must
 * not run (and try the same lock) while we hold it.
 */
static inline __attribute__((always_inline)) void do_spin_lock(spinlock_t *lock, unsigned long ip)
{
    preempt_disable();
    lock_acquire(&lock->dep_map, 0, ip);
    debug_spin_lock_before(lock);
    trace_event(TRACE_LOCK_ACQUIRE, 0, 0, lock->dep_map.name, lock);
    if (raw_spin_is_locked(&lock->rlock))
        trace_event(TRACE_LOCK_CONTENDED, 0, 0, lock->dep_map.name, lock);
    raw_spin_lock(&lock->rlock);
    trace_event(TRACE_LOCK_ACQUIRED, 0, 0, lock->dep_map.name, lock);
    debug_spin_lock_after(lock, ip);
}

static inline __attribute__((always_inline)) bool do_spin_trylock(spinlock_t *lock, unsigned long ip)
{
    preempt_disable();
    if (!raw_spin_trylock(&lock->rlock)) {
        preempt_enable();
        return false;
    }
    trace_event(TRACE_LOCK_ACQUIRE, 0, 1, lock->dep_map.name, lock);
    trace_event(TRACE_LOCK_ACQUIRED, 0, 0, lock->dep_map.name, lock);
    debug_spin_lock_after(lock, ip);
    lock_acquire(&lock->dep_map, 1, ip);    /* a trylock cannot deadlock: recorded after */
    return true;
}

/* Release the lock, but stay non-preemptible: the caller enables preemption. */
static inline __attribute__((always_inline)) void do_spin_release(spinlock_t *lock, unsigned long ip)
{
    lock_release(&lock->dep_map, ip);
    trace_event(TRACE_LOCK_RELEASE, 0, 0, lock->dep_map.name, lock);
    if (debug_spin_unlock(lock))
        raw_spin_unlock(&lock->rlock);
}

static inline __attribute__((always_inline)) void do_spin_unlock(spinlock_t *lock, unsigned long ip)
{
    do_spin_release(lock, ip);
    preempt_enable();
}

void spin_lock(spinlock_t *lock)
{
    do_spin_lock(lock, _RET_IP_);
}

void spin_unlock(spinlock_t *lock)
{
    do_spin_unlock(lock, _RET_IP_);
}

bool spin_trylock(spinlock_t *lock)
{
    return do_spin_trylock(lock, _RET_IP_);
}

bool spin_is_locked(spinlock_t *lock)
{
    return raw_spin_is_locked(&lock->rlock);
}

bool spin_is_contended(spinlock_t *lock)
{
    return raw_spin_is_contended(&lock->rlock);
}

void spin_lock_irq(spinlock_t *lock)
{
    local_irq_disable();
    do_spin_lock(lock, _RET_IP_);
}

/*
 * The unlocks that turn IRQs back on do it in Linux's order
 * (__raw_spin_unlock_irq() and friends): release the lock, turn IRQs on,
 * and only then allow preemption. An interrupt pending at the sti is taken
 * right there; a timer tick pending with it cannot preempt the task first
 * and send the other interrupt into the scheduler.
 */
void spin_unlock_irq(spinlock_t *lock)
{
    do_spin_release(lock, _RET_IP_);
    local_irq_enable();
    preempt_enable();
}

unsigned long _spin_lock_irqsave(spinlock_t *lock)
{
    unsigned long flags;

    local_irq_save(flags);
    do_spin_lock(lock, _RET_IP_);
    return flags;
}

void _spin_unlock_irqrestore(spinlock_t *lock, unsigned long flags)
{
    do_spin_release(lock, _RET_IP_);
    local_irq_restore(flags);
    preempt_enable();
}

void spin_lock_bh(spinlock_t *lock)
{
    __local_bh_disable_ip(_RET_IP_, SOFTIRQ_DISABLE_OFFSET);
    do_spin_lock(lock, _RET_IP_);
}

/* As Linux's: release, then BHs back on, which may run softirqs right here. */
void spin_unlock_bh(spinlock_t *lock)
{
    do_spin_release(lock, _RET_IP_);
    preempt_enable();
    __local_bh_enable_ip(_RET_IP_, SOFTIRQ_DISABLE_OFFSET);
}

void spin_lock_irq_disable(spinlock_t *lock)
{
    local_interrupt_disable();
    do_spin_lock(lock, _RET_IP_);
}

void spin_unlock_irq_enable(spinlock_t *lock)
{
    do_spin_release(lock, _RET_IP_);
    local_interrupt_enable();
    preempt_enable();
}

bool spin_trylock_irq_disable(spinlock_t *lock)
{
    local_interrupt_disable();
    if (do_spin_trylock(lock, _RET_IP_))
        return true;
    local_interrupt_enable();
    return false;
}
