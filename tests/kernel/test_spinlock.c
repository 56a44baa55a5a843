/* tests/kernel/test_spinlock.c: spinlock_t across CPUs, its debug reports, counted and scoped forms, and benchmarks. */
#include "kernel/ktest.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/irq.h"
#include "kernel/cleanup.h"
#include "kernel/cpumask.h"
#include "kernel/hardirq.h"
#include "kernel/irq_disable.h"
#include "kernel/irqflags.h"
#include "kernel/ksyms.h"
#include "kernel/lockdep.h"
#include "kernel/printk.h"
#include "kernel/smp.h"
#include "kernel/spinlock.h"
#include "kernel/string.h"
#include "kernel/time.h"

static bool if_set(void)
{
    return arch_local_save_flags() & X86_EFLAGS_IF;
}

static bool ip_in(unsigned long ip, const char *name)
{
    const struct ksym *sym = ksym_lookup(ip, NULL);

    return sym && strcmp(sym->name, name) == 0;
}

/* Spin until *p reaches value; false after 20 s (a failure, never a hang). */
static bool wait_until(volatile unsigned *p, unsigned value)
{
    uint64_t deadline = ktime_get_ns() + 20 * NSEC_PER_SEC;

    while (__atomic_load_n(p, __ATOMIC_ACQUIRE) != value)
        if (ktime_get_ns() > deadline)
            return false;
    return true;
}

/* --- exclusion: every CPU increments one counter under the lock --- */

/*
 * Each CPU increments up to EXCLUSION_ITERS times, and counts its own
 * increments; the shared counter must equal their sum exactly. A time
 * budget (EXCLUSION_BUDGET_NS) may end the run early, which changes how
 * much work is done, never the check. The budget is there because a fair (ticket) lock
 * and vCPU overcommit are a bad pair: with 8 vCPUs on 2 host cores, once
 * every waiter holds a ticket, each hand-off waits for the host to run one
 * particular vCPU. Measured under TCG: 8 x 250 increments took 8 ms in
 * most runs and 17 s in one.
 */
#define EXCLUSION_ITERS     1000
#define EXCLUSION_BUDGET_NS (500 * NSEC_PER_MSEC)

static DEFINE_SPINLOCK(exclusion_lock);
static struct {
    volatile unsigned arrived, go, finished, stop;
    uint64_t deadline;                  /* ktime_get_ns() at which everyone stops */
    unsigned long done[NR_CPUS];        /* increments by each CPU */
    volatile unsigned long counter;
} excl;

/* A read-modify-write with room for another CPU to get in between, if the
 * lock let it: without the lock, 2 CPUs under TCG ended at 1018 of 2000. */
static void increment_under_lock(void)
{
    unsigned cpu = smp_processor_id();

    for (unsigned i = 0; i < EXCLUSION_ITERS && !excl.stop; i++) {
        unsigned long flags;

        spin_lock_irqsave(&exclusion_lock, flags);
        unsigned long v = excl.counter;
        cpu_relax();
        excl.counter = v + 1;
        spin_unlock_irqrestore(&exclusion_lock, flags);
        excl.done[cpu]++;
        if (ktime_get_ns() > excl.deadline)
            break;
    }
}

/* Runs on every other CPU in its call-function IPI: report in, wait for go, work. */
static void exclusion_worker(void *info)
{
    (void)info;
    __atomic_fetch_add(&excl.arrived, 1, __ATOMIC_ACQ_REL);
    while (!__atomic_load_n(&excl.go, __ATOMIC_ACQUIRE))
        cpu_relax();
    increment_under_lock();
    __atomic_fetch_add(&excl.finished, 1, __ATOMIC_ACQ_REL);
}

KTEST(spinlock_exclusion_across_cpus)
{
    unsigned others = num_online_cpus() - 1, cpu;
    unsigned long sum = 0;

    memset((void *)&excl, 0, sizeof excl);
    /* Asynchronous: the workers hold their CPUs until go, so all start together. */
    smp_call_function(exclusion_worker, NULL, false);
    if (!KTEST_EXPECT(t, wait_until(&excl.arrived, others)))
        excl.stop = 1;                  /* then whoever did arrive stops at once */
    excl.deadline = ktime_get_ns() + EXCLUSION_BUDGET_NS;
    __atomic_store_n(&excl.go, 1, __ATOMIC_RELEASE);
    increment_under_lock();
    if (!KTEST_EXPECT(t, wait_until(&excl.finished, others)))
        return;
    printk("# spinlock_exclusion_across_cpus: increments per CPU:");
    for_each_online_cpu(cpu) {
        pr_cont(" %lu", excl.done[cpu]);
        sum += excl.done[cpu];
    }
    pr_cont("\n");
    KTEST_EXPECT_MSG(t, excl.counter == sum, "counter %lu, but the CPUs made %lu increments",
                     excl.counter, sum);
    KTEST_EXPECT(t, excl.done[0] > 0);
    KTEST_EXPECT(t, !spin_is_locked(&exclusion_lock) && exclusion_lock.owner_cpu == -1);
}

/* --- the lock records its owner and the caller's address --- */
__attribute__((noipa)) static void take_test_lock(spinlock_t *lock)
{
    spin_lock(lock);
}

KTEST(spinlock_owner_and_trylock)
{
    static DEFINE_SPINLOCK(owner_lock);
    unsigned long flags;

    KTEST_EXPECT(t, owner_lock.magic == SPINLOCK_MAGIC && owner_lock.owner_cpu == -1);
    take_test_lock(&owner_lock);
    KTEST_EXPECT(t, owner_lock.owner_cpu == (int)smp_processor_id());
    KTEST_EXPECT_MSG(t, ip_in(owner_lock.owner_ip, "take_test_lock"),
                     "owner_ip %pS", (void *)owner_lock.owner_ip);
    KTEST_EXPECT(t, !spin_trylock(&owner_lock));
    spin_unlock(&owner_lock);
    KTEST_EXPECT(t, owner_lock.owner_cpu == -1 && !spin_is_locked(&owner_lock));

    KTEST_EXPECT(t, spin_trylock(&owner_lock));
    KTEST_EXPECT(t, owner_lock.owner_cpu == (int)smp_processor_id());
    spin_unlock(&owner_lock);

    /* The irqsave trylock: IRQs off only while it holds the lock. */
    KTEST_EXPECT(t, spin_trylock_irqsave(&owner_lock, flags));
    KTEST_EXPECT(t, !if_set());
    spin_unlock_irqrestore(&owner_lock, flags);
    KTEST_EXPECT(t, if_set());
    spin_lock(&owner_lock);
    KTEST_EXPECT(t, !spin_trylock_irqsave(&owner_lock, flags));
    KTEST_EXPECT(t, if_set());
    spin_unlock(&owner_lock);

    /* The counted trylock. */
    KTEST_EXPECT(t, spin_trylock_irq_disable(&owner_lock));
    KTEST_EXPECT(t, !if_set() && hardirq_disable_count() == 1);
    spin_unlock_irq_enable(&owner_lock);
    KTEST_EXPECT(t, if_set() && hardirq_disable_count() == 0);

    /* spin_lock_init(): the run-time form. */
    spinlock_t dynamic;
    spin_lock_init(&dynamic);
    KTEST_EXPECT(t, dynamic.magic == SPINLOCK_MAGIC && !spin_is_locked(&dynamic));
    spin_lock_irq(&dynamic);
    KTEST_EXPECT(t, !if_set());
    spin_unlock_irq(&dynamic);
    KTEST_EXPECT(t, if_set());
}

/* --- spin_is_contended(): held, and someone waits --- */

static DEFINE_SPINLOCK(contended_lock);
static volatile unsigned contended_waiting, contended_got;

/* On the last CPU, in its call-function IPI: queue on the lock, take it, let go. */
static void contended_waiter(void *info)
{
    (void)info;
    __atomic_store_n(&contended_waiting, 1, __ATOMIC_RELEASE);
    spin_lock(&contended_lock);
    spin_unlock(&contended_lock);
    __atomic_store_n(&contended_got, 1, __ATOMIC_RELEASE);
}

KTEST(spinlock_is_contended)
{
    unsigned target = cpumask_last(&cpu_online_mask);
    uint64_t deadline;

    KTEST_EXPECT(t, !spin_is_contended(&contended_lock));
    spin_lock(&contended_lock);
    KTEST_EXPECT_MSG(t, spin_is_locked(&contended_lock) && !spin_is_contended(&contended_lock),
                     "held by its only taker: locked, not contended");
    if (num_online_cpus() < 2) {
        spin_unlock(&contended_lock);
        ktest_skip(t, "the waiter needs 2 CPUs");
        return;
    }
    contended_waiting = contended_got = 0;
    smp_call_function_single(target, contended_waiter, NULL, false);
    /* The waiter's ticket makes it contended; nothing else can. */
    deadline = ktime_get_ns() + 2 * NSEC_PER_SEC;
    while (!spin_is_contended(&contended_lock) && ktime_get_ns() < deadline)
        cpu_relax();
    KTEST_EXPECT_MSG(t, spin_is_contended(&contended_lock), "CPU%u %s, but the lock is not contended", target,
                     contended_waiting ? "came to spin_lock()" : "never ran the waiter");
    KTEST_EXPECT(t, !contended_got);
    spin_unlock(&contended_lock);
    KTEST_EXPECT(t, wait_until(&contended_got, 1));
    KTEST_EXPECT(t, !spin_is_contended(&contended_lock) && !spin_is_locked(&contended_lock));
}

/*
 * The unlocks that turn IRQs on do it in Linux's order: lock released, IRQs
 * on, then preemption allowed (__raw_spin_unlock_irq()). So an interrupt
 * pending at the unlock is taken while the task is still non-preemptible,
 * at the unlock itself: a timer tick pending with it cannot preempt the
 * task first and move the other interrupt into the scheduler. The handler
 * sees the interrupted context's preempt count (its own minus the
 * HARDIRQ_OFFSET of irq_enter()): the lock's preempt_disable() is still in
 * it, and the lock itself is free.
 */
#define UNLOCK_ORDER_VECTOR 0x43        /* class 4: above devices, below the timer */

static DEFINE_SPINLOCK(unlock_order_lock);
static volatile unsigned unlock_order_irqs, unlock_order_preempt;
static volatile bool unlock_order_lock_free;

static void unlock_order_handler(struct pt_regs *regs)
{
    (void)regs;
    apic_eoi();
    unlock_order_preempt = (preempt_count() - HARDIRQ_OFFSET) & PREEMPT_MASK;
    unlock_order_lock_free = !spin_is_locked(&unlock_order_lock);
    unlock_order_irqs++;
}

static void unlock_order_raise(void)
{
    apic_icr_write(APIC_DEST_SELF | APIC_DM_FIXED | UNLOCK_ORDER_VECTOR, 0);
    while (!apic_vector_pending(UNLOCK_ORDER_VECTOR))
        cpu_relax();
}

KTEST(spinlock_unlock_irq_order)
{
    unsigned long flags;

    request_vector(UNLOCK_ORDER_VECTOR, unlock_order_handler, "spinlock unlock-order test");
    for (int form = 0; form < 3; form++) {
        static const char *const names[] = { "spin_unlock_irq", "spin_unlock_irqrestore", "spin_unlock_irq_enable" };

        unlock_order_irqs = 0;
        unlock_order_preempt = ~0U;
        if (form == 0) {
            spin_lock_irq(&unlock_order_lock);
            unlock_order_raise();
            spin_unlock_irq(&unlock_order_lock);
        } else if (form == 1) {
            spin_lock_irqsave(&unlock_order_lock, flags);
            unlock_order_raise();
            spin_unlock_irqrestore(&unlock_order_lock, flags);
        } else {
            spin_lock_irq_disable(&unlock_order_lock);
            unlock_order_raise();
            spin_unlock_irq_enable(&unlock_order_lock);
        }
        KTEST_EXPECT_MSG(t, unlock_order_irqs == 1, "%s: the pending interrupt came %u times at the unlock",
                         names[form], unlock_order_irqs);
        KTEST_EXPECT_MSG(t, unlock_order_preempt == 1 && unlock_order_lock_free,
                         "%s: the interrupt saw preempt count %u and the lock %s; Linux's order gives 1 and free",
                         names[form], unlock_order_preempt, unlock_order_lock_free ? "free" : "held");
    }
    KTEST_EXPECT(t, if_set() && preempt_count() == 0);
}

/* --- the debug reports, provoked on purpose --- */

/*
 * The validator would report these bugs too (and then switch itself off for
 * the rest of the boot, as Linux's does), so they run with it off: this
 * test is about the spinlock's own checks.
 */
static const char *last_bug;
static unsigned recursion_rescues;

/* The hook: after a recursion report, release the lock the CPU is about to spin on. */
static void rescue_from_recursion(spinlock_t *lock, const char *msg)
{
    last_bug = msg;
    if (strcmp(msg, "recursion") == 0) {
        recursion_rescues++;
        raw_spin_unlock(&lock->rlock);
    }
}

static spinlock_t *wrong_cpu_lock;
static void unlock_on_wrong_cpu(void *info)
{
    (void)info;
    spin_unlock(wrong_cpu_lock);
    preempt_disable();          /* this CPU's unlock re-enabled preemption it never disabled */
}

KTEST(spinlock_debug_reports)
{
    static DEFINE_SPINLOCK(buggy_lock);
    bool validator = debug_locks;
    unsigned long before = spin_bug_count;
    unsigned pc_before = preempt_count();

    debug_locks = false;
    spin_bug_test_hook = rescue_from_recursion;
    printk("# spinlock_debug_reports: three spinlock BUG reports follow on purpose\n");

    /* Recursion: this CPU takes a lock it holds. Reported before the spin. */
    last_bug = NULL;
    spin_lock(&buggy_lock);
    spin_lock(&buggy_lock);
    KTEST_EXPECT(t, last_bug && strcmp(last_bug, "recursion") == 0 && recursion_rescues == 1);
    KTEST_EXPECT(t, spin_bug_count == before + 1);
    spin_unlock(&buggy_lock);
    KTEST_EXPECT(t, !spin_is_locked(&buggy_lock));
    /* Each deliberate bug below leaves preempt_count unbalanced, as it would
     * in Linux (spin_lock disables preemption, spin_unlock enables it);
     * put it right after each, or later tests would run in a wrong context. */
    preempt_enable();           /* the second, recursive spin_lock */

    /* Already unlocked: and the lock must still work afterwards. */
    last_bug = NULL;
    spin_unlock(&buggy_lock);
    KTEST_EXPECT(t, last_bug && strcmp(last_bug, "already unlocked") == 0);
    KTEST_EXPECT(t, spin_bug_count == before + 2);
    preempt_disable();          /* the unlock without a lock */
    KTEST_EXPECT(t, spin_trylock(&buggy_lock));
    spin_unlock(&buggy_lock);

    /* Wrong CPU: taken here, released by CPU 1 in its IPI handler. */
    if (num_online_cpus() >= 2) {
        last_bug = NULL;
        wrong_cpu_lock = &buggy_lock;
        spin_lock(&buggy_lock);
        smp_call_function_single(1, unlock_on_wrong_cpu, NULL, true);
        preempt_enable();       /* our lock's disable, which CPU 1's unlock could not undo */
        KTEST_EXPECT(t, last_bug && strcmp(last_bug, "wrong CPU") == 0);
        KTEST_EXPECT(t, spin_bug_count == before + 3);
        KTEST_EXPECT(t, !spin_is_locked(&buggy_lock));
    } else {
        printk("# spinlock_debug_reports: one CPU, no wrong-CPU case\n");
    }

    spin_bug_test_hook = NULL;
    debug_locks = validator;
    KTEST_EXPECT_MSG(t, preempt_count() == pc_before, "preempt_count %#x, was %#x", preempt_count(), pc_before);
}

/* --- counted forms: hand-over-hand unlocking keeps IRQs off --- */
KTEST(spinlock_irq_disable_hand_over_hand)
{
    static DEFINE_SPINLOCK(hoh_a);
    static DEFINE_SPINLOCK(hoh_b);
    unsigned long fa, fb;

    /* Seed 001's example with _irqsave: releasing the first lock turns IRQs on with the second held. */
    spin_lock_irqsave(&hoh_a, fa);
    spin_lock_irqsave(&hoh_b, fb);
    spin_unlock_irqrestore(&hoh_a, fa);
    KTEST_EXPECT_MSG(t, if_set(), "expected the _irqsave hazard: IRQs on while hoh_b is held");
    spin_unlock_irqrestore(&hoh_b, fb);

    /* The counted forms: IRQs stay off until the last lock goes. */
    spin_lock_irq_disable(&hoh_a);
    spin_lock_irq_disable(&hoh_b);
    KTEST_EXPECT(t, hardirq_disable_count() == 2);
    spin_unlock_irq_enable(&hoh_a);
    KTEST_EXPECT_MSG(t, !if_set(), "IRQs on while hoh_b is held");
    spin_unlock_irq_enable(&hoh_b);
    KTEST_EXPECT(t, if_set() && hardirq_disable_count() == 0);
}

/* --- scoped forms release on every way out of the scope --- */
static DEFINE_SPINLOCK(guarded_lock);

static int guarded_section(bool leave_early)
{
    guard(spinlock_irqsave)(&guarded_lock);

    if (leave_early)
        return 1;
    return spin_is_locked(&guarded_lock) && !if_set() ? 2 : -1;
}

static int counted_guarded_section(void)
{
    guard(irq_disable)();
    guard(spinlock)(&guarded_lock);

    return hardirq_disable_count() == 1 && !if_set() && spin_is_locked(&guarded_lock);
}

KTEST(guards_release_on_scope_exit)
{
    static DEFINE_SPINLOCK(other_lock);
    int laps = 0;

    KTEST_EXPECT(t, guarded_section(false) == 2);
    KTEST_EXPECT(t, !spin_is_locked(&guarded_lock) && if_set());
    KTEST_EXPECT(t, guarded_section(true) == 1);
    KTEST_EXPECT_MSG(t, !spin_is_locked(&guarded_lock) && if_set(), "an early return kept the guard");

    KTEST_EXPECT(t, counted_guarded_section());
    KTEST_EXPECT(t, !spin_is_locked(&guarded_lock) && if_set() && hardirq_disable_count() == 0);

    /* scoped_guard: the block runs once; break leaves it and releases. */
    scoped_guard(spinlock_irqsave, &guarded_lock) {
        laps++;
        KTEST_EXPECT(t, spin_is_locked(&guarded_lock) && !if_set());
    }
    KTEST_EXPECT(t, laps == 1 && !spin_is_locked(&guarded_lock) && if_set());
    for (int i = 0; i < 3; i++) {
        scoped_guard(spinlock_irq_disable, &guarded_lock) {
            if (i == 1)
                break;                  /* leaves the scoped_guard, not the for */
            laps++;
        }
    }
    KTEST_EXPECT(t, laps == 3 && !spin_is_locked(&guarded_lock) && hardirq_disable_count() == 0);

    /* Seed 001's reply: nested scoped_irq_disable with a lock released outside. */
    scoped_irq_disable {
        KTEST_EXPECT(t, !if_set());
        scoped_irq_disable {
            scoped_guard(spinlock, &guarded_lock) {
                spin_lock(&other_lock);
            }
            KTEST_EXPECT(t, !spin_is_locked(&guarded_lock) && !if_set());
        }
        KTEST_EXPECT(t, !if_set());
        spin_unlock(&other_lock);
    }
    KTEST_EXPECT(t, if_set() && !spin_is_locked(&other_lock));

    scoped_guard(irqsave) {
        KTEST_EXPECT(t, !if_set());
    }
    KTEST_EXPECT(t, if_set());
}

/* --- benchmarks: cycles per operation pair, median of 1001 --- */
#define BENCH_RUNS 1001

static uint64_t bench_samples[BENCH_RUNS];

/* Insertion sort, then the middle: 1001 numbers, and no library qsort in a freestanding kernel. */
static uint64_t median(uint64_t *v, unsigned n)
{
    for (unsigned i = 1; i < n; i++)
        for (unsigned j = i; j > 0 && v[j - 1] > v[j]; j--) {
            uint64_t tmp = v[j];
            v[j] = v[j - 1];
            v[j - 1] = tmp;
        }
    return v[n / 2];
}

enum bench_op {
    BENCH_EMPTY, BENCH_ARCH_SAVE, BENCH_LOCAL_SAVE, BENCH_COUNTED, BENCH_COUNTED_NESTED,
    BENCH_RAW_LOCK, BENCH_SPIN_LOCK, BENCH_SPIN_LOCK_IRQSAVE, BENCH_SPIN_LOCK_IRQ_DISABLE,
};

static DEFINE_SPINLOCK(bench_lock);
static DEFINE_RAW_SPINLOCK(bench_raw_lock);

/* One timed operation pair. rdtsc is not serialising; lfence keeps the work between the reads. */
static uint64_t bench_once(enum bench_op op)
{
    unsigned long flags;
    uint64_t start;

    __asm__ volatile("lfence" : : : "memory");
    start = rdtsc();
    __asm__ volatile("lfence" : : : "memory");
    switch (op) {
    case BENCH_EMPTY:
        break;
    case BENCH_ARCH_SAVE:
        flags = arch_local_irq_save();
        arch_local_irq_restore(flags);
        break;
    case BENCH_LOCAL_SAVE:
        local_irq_save(flags);
        local_irq_restore(flags);
        break;
    case BENCH_COUNTED:
    case BENCH_COUNTED_NESTED:
        local_interrupt_disable();
        local_interrupt_enable();
        break;
    case BENCH_RAW_LOCK:
        raw_spin_lock(&bench_raw_lock);
        raw_spin_unlock(&bench_raw_lock);
        break;
    case BENCH_SPIN_LOCK:
        spin_lock(&bench_lock);
        spin_unlock(&bench_lock);
        break;
    case BENCH_SPIN_LOCK_IRQSAVE:
        spin_lock_irqsave(&bench_lock, flags);
        spin_unlock_irqrestore(&bench_lock, flags);
        break;
    case BENCH_SPIN_LOCK_IRQ_DISABLE:
        spin_lock_irq_disable(&bench_lock);
        spin_unlock_irq_enable(&bench_lock);
        break;
    }
    __asm__ volatile("lfence" : : : "memory");
    return rdtsc() - start;
}

/*
 * Median cycles of op. The irq-changing pairs start from IF=1 (their
 * usual case: they really execute cli and sti), so an interrupt may land
 * in a sample; the median ignores it. Locks without IRQ changes run with
 * IRQs off around the loop. The nested counted pair runs inside an outer
 * local_interrupt_disable(), so it only counts.
 */
static uint64_t bench(enum bench_op op, bool irqs_off)
{
    for (unsigned i = 0; i < BENCH_RUNS; i++) {
        if (irqs_off)
            local_irq_disable();
        if (op == BENCH_COUNTED_NESTED)
            local_interrupt_disable();
        bench_samples[i] = bench_once(op);
        if (op == BENCH_COUNTED_NESTED)
            local_interrupt_enable();
        if (irqs_off)
            local_irq_enable();
    }
    return median(bench_samples, BENCH_RUNS);
}

KTEST(bench_irqflags_locks)
{
    static const struct { enum bench_op op; bool irqs_off; bool validator; const char *what; } cases[] = {
        { BENCH_ARCH_SAVE,             false, false, "arch_local_irq_save+restore" },
        { BENCH_LOCAL_SAVE,            false, false, "local_irq_save+restore (traced)" },
        { BENCH_COUNTED,               false, false, "local_interrupt_disable+enable, outermost" },
        { BENCH_COUNTED_NESTED,        false, false, "local_interrupt_disable+enable, nested" },
        { BENCH_RAW_LOCK,              true,  false, "raw_spin_lock+unlock" },
        { BENCH_SPIN_LOCK,             true,  false, "spin_lock+unlock" },
        { BENCH_SPIN_LOCK,             true,  true,  "spin_lock+unlock" },
        { BENCH_SPIN_LOCK_IRQSAVE,     false, false, "spin_lock_irqsave+unlock_irqrestore" },
        { BENCH_SPIN_LOCK_IRQSAVE,     false, true,  "spin_lock_irqsave+unlock_irqrestore" },
        { BENCH_SPIN_LOCK_IRQ_DISABLE, false, false, "spin_lock_irq_disable+unlock_irq_enable" },
        { BENCH_SPIN_LOCK_IRQ_DISABLE, false, true,  "spin_lock_irq_disable+unlock_irq_enable" },
    };
    bool validator = debug_locks;
    uint64_t overhead = bench(BENCH_EMPTY, true);

    printk("# bench: cycles per pair, median of %u, rdtsc overhead %lu subtracted; validator %s at start\n",
           BENCH_RUNS, overhead, validator ? "on" : "off");
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (cases[i].validator && !validator)
            continue;                   /* it is off for good (a report, or lockdep=off) */
        debug_locks = cases[i].validator;
        uint64_t c = bench(cases[i].op, cases[i].irqs_off);
        printk("# bench: %-42s %s %6lu\n", cases[i].what,
               cases[i].validator ? "validator on: " : "validator off:", c > overhead ? c - overhead : 0);
    }
    debug_locks = validator;
    KTEST_EXPECT(t, if_set() && hardirq_disable_count() == 0 && !spin_is_locked(&bench_lock));
}
