/* kernel/hrtimer.c: high-resolution timers: a sorted queue per CPU, run and re-armed by hrtimer_interrupt(). */
#include "kernel/hrtimer.h"
#include "kernel/lab_hooks.h"
#include "arch/x86_64/apic_timer.h"
#include "arch/x86_64/percpu.h"
#include "kernel/bug.h"
#include "kernel/irqflags.h"
#include "kernel/printk.h"
#include "kernel/spinlock.h"
#include "kernel/time.h"
#include "kernel/trace.h"

#define KTIME_MAX       UINT64_MAX
#define HANG_DELAY_MAX  (100 * NSEC_PER_MSEC)   /* the longest a hang pushes the next event out */

/*
 * One base per CPU (Linux's DEFINE_PER_CPU(struct hrtimer_cpu_base,
 * hrtimer_bases), kernel/time/hrtimer.c), with its queue of timers sorted
 * by expiry. Linux keeps the queue in a red-black tree because a big
 * machine has thousands of timers; here a CPU has its tick and a few test
 * or lab timers, so a sorted list, with its O(n) insert and the same O(1)
 * "earliest", is both fast enough and readable in one screen.
 *
 * The lock is taken with IRQs off: the timer interrupt on this CPU takes
 * it too. Other CPUs take it to start or cancel a timer queued here.
 */
struct hrtimer_cpu_base {
    raw_spinlock_t lock;
    struct hrtimer *first;          /* the queue, earliest first */
    struct hrtimer *running;        /* the timer whose callback runs now, or NULL */
    uint64_t expires_next;          /* what the LAPIC timer is programmed for; KTIME_MAX: nothing */
    bool in_hrtirq;                 /* in hrtimer_interrupt(), which programs the timer when done */
    bool hang_detected;             /* the last interrupt gave up: keep its pushed-out event */
    bool hang_reported;             /* "interrupt took" printed already on this CPU */
    unsigned long nr_hangs;         /* times the hang guard gave up, for `time` and the tests */
};

static struct hrtimer_cpu_base hrtimer_bases[NR_CPUS];

/*
 * While hrtimer_start() moves a timer between CPUs it holds neither lock
 * for a moment; timer->base points here then, so that lock_hrtimer_base()
 * on another CPU waits instead of locking the wrong base (Linux's
 * migration_base).
 */
static struct hrtimer_cpu_base migration_base;

static struct hrtimer_cpu_base *this_cpu_base(void)
{
    return &hrtimer_bases[smp_processor_id()];
}

/*
 * Disable IRQs and lock the base the timer is on. Whoever changes
 * timer->base holds the lock of the base it pointed to, or of the one it
 * will point to; so once we hold a lock and timer->base still points at
 * that base, it stays put. If it moved meanwhile, try again.
 */
static struct hrtimer_cpu_base *lock_hrtimer_base(const struct hrtimer *timer, unsigned long *flags)
{
    raw_local_irq_save(*flags);
    for (;;) {
        struct hrtimer_cpu_base *base = __atomic_load_n(&timer->base, __ATOMIC_ACQUIRE);

        if (base != &migration_base) {
            raw_spin_lock(&base->lock);
            if (base == __atomic_load_n(&timer->base, __ATOMIC_RELAXED))
                return base;
            raw_spin_unlock(&base->lock);
        }
        cpu_relax();
    }
}

static void unlock_hrtimer_base(struct hrtimer_cpu_base *base, unsigned long flags)
{
    raw_spin_unlock(&base->lock);
    raw_local_irq_restore(flags);
}

/* Insert in expiry order, after timers with the same expiry (they run in
 * the order they were armed). Returns true if it is now the first. */
static bool enqueue_hrtimer(struct hrtimer *timer, struct hrtimer_cpu_base *base)
{
    struct hrtimer **link = &base->first;

    while (*link && (*link)->expires <= timer->expires)
        link = &(*link)->next;
    timer->next = *link;
    *link = timer;
    timer->state = HRTIMER_STATE_ENQUEUED;
    return link == &base->first;
}

static void dequeue_hrtimer(struct hrtimer *timer, struct hrtimer_cpu_base *base)
{
    struct hrtimer **link = &base->first;

    while (*link != timer)
        link = &(*link)->next;
    *link = timer->next;
    timer->next = NULL;
    timer->state = HRTIMER_STATE_INACTIVE;
}

/* Ask this CPU's LAPIC timer for an interrupt at `expires` (now, if that passed). IRQs off. */
static void hrtimer_program_event(uint64_t expires)
{
    uint64_t now = ktime_get_ns();

    lapic_next_event(expires > now ? expires - now : 0);
}

/*
 * A timer became the first in its base: bring the interrupt forward if it
 * expires before the one programmed. Not when hrtimer_interrupt() is
 * running (it programs the earliest timer when it ends), nor after it gave
 * up on a hang (its pushed-out event stands until the next interrupt), nor
 * for another CPU's base: a timer lands there only while its callback runs
 * there, inside that CPU's hrtimer_interrupt().
 */
static void hrtimer_reprogram(struct hrtimer *timer, struct hrtimer_cpu_base *base)
{
    if (base != this_cpu_base() || base->in_hrtirq || base->hang_detected)
        return;
    if (timer->expires >= base->expires_next)
        return;
    base->expires_next = timer->expires;
    hrtimer_program_event(timer->expires);
}

void hrtimer_init(struct hrtimer *timer, enum hrtimer_restart (*function)(struct hrtimer *))
{
    timer->next = NULL;
    timer->expires = 0;
    timer->function = function;
    timer->base = this_cpu_base();
    timer->state = HRTIMER_STATE_INACTIVE;
}

void hrtimer_start(struct hrtimer *timer, uint64_t ns, enum hrtimer_mode mode)
{
    unsigned long flags;
    struct hrtimer_cpu_base *base = lock_hrtimer_base(timer, &flags);
    struct hrtimer_cpu_base *new_base = this_cpu_base();

    if (mode == HRTIMER_MODE_REL)
        ns += ktime_get_ns();
    if (timer->state == HRTIMER_STATE_ENQUEUED)
        dequeue_hrtimer(timer, base);
    /*
     * Move it to this CPU, unless its callback is running on its old CPU
     * right now: that CPU's hrtimer_interrupt() will look at the timer
     * again when the callback returns (to re-queue it), under that lock.
     */
    if (base != new_base && base->running != timer) {
        __atomic_store_n(&timer->base, &migration_base, __ATOMIC_RELEASE);
        raw_spin_unlock(&base->lock);
        raw_spin_lock(&new_base->lock);
        __atomic_store_n(&timer->base, new_base, __ATOMIC_RELEASE);
        base = new_base;
    }
    timer->expires = ns;
    if (enqueue_hrtimer(timer, base))
        hrtimer_reprogram(timer, base);
    unlock_hrtimer_base(base, flags);
}

/* Dequeue unless the callback is running: 1 dequeued, 0 was not queued, -1 running. */
static int hrtimer_try_to_cancel(struct hrtimer *timer)
{
    unsigned long flags;
    struct hrtimer_cpu_base *base = lock_hrtimer_base(timer, &flags);
    int ret = -1;

    if (base->running != timer) {
        ret = timer->state == HRTIMER_STATE_ENQUEUED;
        if (ret)
            dequeue_hrtimer(timer, base);
    }
    /* A dequeued first timer leaves the LAPIC timer armed for its time: that
     * interrupt finds nothing to run and programs the next one. */
    unlock_hrtimer_base(base, flags);
    return ret;
}

bool hrtimer_cancel(struct hrtimer *timer)
{
    int ret;

    /* The callback runs on another CPU (on this one it cannot: the timer
     * interrupt has IF=0 throughout). Wait for it to return, then dequeue
     * it in case it re-armed itself (Linux's hrtimer_cancel_wait_running). */
    while ((ret = hrtimer_try_to_cancel(timer)) < 0)
        cpu_relax();
    return ret;
}

uint64_t hrtimer_forward(struct hrtimer *timer, uint64_t now, uint64_t interval)
{
    if (now < timer->expires)
        return 0;
    if (WARN_ON_ONCE(timer->state == HRTIMER_STATE_ENQUEUED))
        return 0;                       /* the queue's order depends on expires */
    if (interval == 0)
        interval = 1;
    /* The first multiple of interval past now; all the ones skipped count. */
    uint64_t overruns = (now - timer->expires) / interval + 1;
    timer->expires += overruns * interval;
    return overruns;
}

uint64_t hrtimer_forward_now(struct hrtimer *timer, uint64_t interval)
{
    return hrtimer_forward(timer, ktime_get_ns(), interval);
}

bool hrtimer_active(const struct hrtimer *timer)
{
    unsigned long flags;
    struct hrtimer_cpu_base *base = lock_hrtimer_base(timer, &flags);
    bool active = timer->state == HRTIMER_STATE_ENQUEUED || base->running == timer;

    unlock_hrtimer_base(base, flags);
    return active;
}

void hrtimer_init_cpu(void)
{
    struct hrtimer_cpu_base *base = this_cpu_base();

    base->expires_next = KTIME_MAX;     /* the LAPIC timer is stopped */
}

unsigned hrtimer_nr_queued(unsigned cpu)
{
    struct hrtimer_cpu_base *base = &hrtimer_bases[cpu];
    unsigned long flags;
    unsigned n = 0;

    raw_spin_lock_irqsave(&base->lock, flags);
    for (struct hrtimer *t = base->first; t; t = t->next)
        n++;
    raw_spin_unlock_irqrestore(&base->lock, flags);
    return n;
}

unsigned long hrtimer_nr_hangs(unsigned cpu)
{
    return __atomic_load_n(&hrtimer_bases[cpu].nr_hangs, __ATOMIC_RELAXED);
}

/*
 * Run one expired timer, which is first in the queue. The lock is dropped
 * around the callback, so that it may start and cancel timers (this one
 * too, except cancel); base->running tells others the callback runs.
 */
static void __run_hrtimer(struct hrtimer_cpu_base *base, struct hrtimer *timer)
{
    enum hrtimer_restart restart;

    dequeue_hrtimer(timer, base);
    base->running = timer;
    raw_spin_unlock(&base->lock);
    trace_event(TRACE_HRTIMER_ENTRY, 0, 0, timer->function, timer);
    restart = timer->function(timer);
    trace_event(TRACE_HRTIMER_EXIT, 0, 0, timer->function, timer);
    raw_spin_lock(&base->lock);
    /* Re-queue, unless the callback (or another CPU) already started it again. */
    if (restart == HRTIMER_RESTART && timer->state == HRTIMER_STATE_INACTIVE)
        enqueue_hrtimer(timer, base);
    base->running = NULL;
}

static void __hrtimer_run_queues(struct hrtimer_cpu_base *base, uint64_t now)
{
    while (base->first && base->first->expires <= now)
        __run_hrtimer(base, base->first);
}

/*
 * Modelled on Linux's hrtimer_interrupt() (kernel/time/hrtimer.c). Called
 * by the LAPIC timer handler, in hardirq context with IF=0, after its EOI.
 * Run every expired timer, then program the interrupt for the earliest
 * one left. If that one has already expired too (callbacks took longer
 * than the timers' periods), go round again, at most three times; then
 * give up for a while: print how long the interrupt took and push the
 * next event out by that long (at most 100 ms), so the CPU gets to do
 * something else. The lab hook LAB_HOOK_NO_HRTIMER_HANG_GUARD removes that
 * limit (kernel/lab_hooks.h).
 */
void hrtimer_interrupt(void)
{
    struct hrtimer_cpu_base *base = this_cpu_base();
    uint64_t entry_time, now, expires_next;
    int retries = 0;

    raw_spin_lock(&base->lock);
    entry_time = now = ktime_get_ns();
retry:
    base->in_hrtirq = true;
    /* Timers the callbacks start must not program the LAPIC timer: we do it below. */
    base->expires_next = KTIME_MAX;
    __hrtimer_run_queues(base, now);
    expires_next = base->first ? base->first->expires : KTIME_MAX;
    base->expires_next = expires_next;
    base->in_hrtirq = false;
    raw_spin_unlock(&base->lock);

    /* The normal way out: the earliest timer is still ahead. (KTIME_MAX:
     * none is queued, and the one-shot LAPIC timer stays stopped.)
     * hang_detected is only used by this CPU, IRQs off, so no lock. */
    if (expires_next > ktime_get_ns()) {
        if (expires_next != KTIME_MAX)
            hrtimer_program_event(expires_next);
        base->hang_detected = false;
        return;
    }

    /* The next timer expired while we ran the others. */
    raw_spin_lock(&base->lock);
    now = ktime_get_ns();
    if (++retries < 3 || lab_hook(LAB_HOOK_NO_HRTIMER_HANG_GUARD))
        goto retry;

    /* The hang guard: three passes were not enough. */
    base->hang_detected = true;
    base->nr_hangs++;
    uint64_t delta = now - entry_time;
    expires_next = now + (delta > HANG_DELAY_MAX ? HANG_DELAY_MAX : delta);
    base->expires_next = expires_next;
    raw_spin_unlock(&base->lock);
    hrtimer_program_event(expires_next);
    if (!base->hang_reported) {
        base->hang_reported = true;
        pr_warn("hrtimer: interrupt took %lu ns\n", delta);
    }
}
