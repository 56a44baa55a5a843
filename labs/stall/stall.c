/* labs/stall/stall.c: the stall lab (seed 000): CPU 1 waits forever for CPU 0 to take a TLB-flush IPI; why, and why not. */
#include "kernel/bootparams.h"
#include "kernel/lab.h"
#include "labs/stall/taprio.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/irq.h"
#include "arch/x86_64/irq_vectors.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/tlb.h"
#include "arch/x86_64/stacks.h"
#include "kernel/cpumask.h"
#include "kernel/detector_stop.h"
#include "kernel/hardirq.h"
#include "kernel/hrtimer.h"
#include "kernel/irqflags.h"
#include "kernel/lab_hooks.h"
#include "kernel/objpool.h"
#include "kernel/panic.h"
#include "kernel/page_alloc.h"
#include "kernel/printk.h"
#include "kernel/rcu.h"
#include "kernel/sched.h"
#include "kernel/smp.h"
#include "kernel/spinlock.h"
#include "kernel/time.h"
#include "kernel/vsprintf.h"
#include "kernel/watchdog.h"

/*
 * The story (README.md, next to this file, tells it at length). CPU 0 runs a timer
 * callback modelled on taprio's advance_sched(): every millisecond, in
 * hardirq context, it reads the current gate list from a page in the
 * vmalloc area and takes the schedule's lock. CPU 1 moves that page
 * (remap_kernel_page()) and shoots the old translation down
 * (flush_tlb_range()): a call-function IPI to CPU 0, then csd_lock_wait()
 * until CPU 0 has run the flush. Meanwhile kernel threads keep freeing
 * objects with call_rcu(). If CPU 0 never takes the IPI, CPU 1 waits
 * forever with preemption off, no grace period ends, the callbacks pile
 * up, and the pool runs dry: the seed's RCU stall, then OOM.
 *
 * A patch blamed lockdep: lock_release() in the callback would execute sti
 * in its raw_local_irq_restore(), and in that window "a new interrupt"
 * would keep CPU 0 from ever taking the IPI. Each variant below tests one
 * piece of that story, or one real way to stall CPU 0, and judges only by
 * what the machine did: counters of sti executed in hardirq, IRR bits,
 * per-vector interrupt counts, TLB flush counters, timestamps.
 *
 * The priority arithmetic that decides which interrupt gets in (Intel SDM
 * Vol. 3A 11.8.3.1): a vector's class is vector >> 4; the processor
 * priority PPR is max(TPR, class of the highest vector in service), TPR is
 * 0 here; the local APIC delivers the highest pending vector, and only if
 * its class is above PPR's and IF=1. The timer (0xec, class 0xE) sends its
 * EOI before it runs the hrtimers, so inside a callback nothing is in
 * service and PPR is 0: IF=0 alone keeps the call-function IPI (0xfb/0xfc,
 * class 0xF) out. When an interrupt's EOI goes depends on its trigger mode
 * (see stall_nic_interrupt()): only a vector still in service raises PPR,
 * and PPR matters only when IF=1; while a handler spins with IF=0, IF alone
 * keeps every maskable interrupt out.
 */

#define STALL_VA            (VMALLOC_START + (384UL << 30))   /* the gate list's page: far from other users */
#define GATES_OLD           0x01d6a7e5UL    /* what the page holds before the move ... */
#define GATES_NEW           0x02e6a7e5UL    /* ... and after */
#define PERIOD_NS           NSEC_PER_MSEC   /* the taprio cycle: a callback every millisecond */
#define WARMUP_CALLBACKS    20              /* callbacks (and a cached translation) before CPU 1 starts */
#define AFTER_CALLBACKS     100             /* callbacks after the flush, for the sti count */
#define STORM_CONFIRMED     10              /* callbacks in one timer interrupt: the guard did not stop it */

/* Detector thresholds the lab sets (unless the command line changed them), in
 * seconds after CPU 0 stalls: CSD report (0.5) < hard LOCKUP (1.2-2.8) < RCU
 * stall (5) < OOM (~6.6, see producer_period_ms()). Each gap is over a
 * second: under TCG a vCPU's timer interrupt can come hundreds of ms late on
 * a busy host. With Linux's thresholds (make run LAB=stall in deterministic
 * mode): CSD 5 s, hard LOCKUP 8-24 s, RCU stall 21 s, OOM ~28 s. */
#define LAB_CSD_LOCK_TIMEOUT_MS 500
#define LAB_WATCHDOG_THRESH     1
#define LAB_RCU_STALL_TIMEOUT   5
#define LAB_PANIC_ON_IPISTALL   1000        /* only with 2 CPUs and both stuck with IF=0 */

/* ---------------------------------------------------------------- configuration */

enum stall_cpu1_lock {
    CPU1_NO_LOCK,               /* CPU 1 does not touch the schedule's lock */
    CPU1_HOLDS_LOCK,            /* CPU 1 holds it (IRQs on) across the flush */
    CPU1_DROPS_LOCK,            /* CPU 1 holds it (IRQs off), and drops it before the flush */
};

struct stall_config {
    bool broken_restore;        /* LAB_HOOK_IRQ_RESTORE_OPENS_WINDOW: the patch's belief about the restore */
    bool patch_skip;            /* LAB_HOOK_LOCKDEP_SKIP_IRQ_SAVE_IN_HARDIRQ: the patch itself */
    bool lowvec;                /* LAB_HOOK_CALL_FUNCTION_LOWVEC: the IPIs in class 0x3 */
    bool unguarded;             /* LAB_HOOK_NO_HRTIMER_HANG_GUARD: no limit on a looping timer interrupt */
    bool storm;                 /* before it flushes, CPU 1 asks the callback to re-arm in the past */
    bool rendezvous;            /* one callback waits, lock held, IF=0, until the IPI is pending */
    bool nic;                   /* CPU 1 first raises the NIC's interrupt, whose handler takes the lock */
    bool trylock;               /* the callback uses spin_trylock() and retries next cycle */
    enum stall_cpu1_lock cpu1_lock;
    bool irqs_off_cross_call;   /* the wait_irqs_* pair: both CPUs flush at once */
    bool irqs_off;              /* ... with IRQs off */
    bool student;               /* the exercise: the student's advance_sched() is the callback */
};

/* ---------------------------------------------------------------- observations */

/*
 * What the machine did, written by whoever saw it (the callback in hardirq,
 * CPU 1's thread, the NIC handler) with single atomic stores, and read by
 * the judge, which may run in a detector's hardirq or NMI-time context.
 */
static struct {
    const struct stall_config *cfg;
    unsigned long callbacks;            /* callbacks run */
    unsigned long irq_of_last_cb;       /* CPU 0's timer-interrupt count at the last callback */
    unsigned long sti_at_irq;           /* CPU 0's hardirq_sti_count() at that interrupt's first callback */
    unsigned long cb_this_irq, cb_per_irq_max;      /* callbacks in one timer interrupt */
    unsigned long sti_at_arm;           /* CPU 0's hardirq_sti_count() when the timer was armed */
    unsigned long cb_sti;               /* sti executed by the callback's own lock and unlock */
    unsigned long cb_sti_ip;            /* ... the last one's address */
    bool flush_between_reported;       /* the timeline has the "depth 1" event */
    unsigned long sti_at_end;
    unsigned long hangs_at_storm;       /* hrtimer_nr_hangs(0) when the storm was asked for */
    bool storm_go;                      /* CPU 1 -> callback: re-arm in the past */
    bool rendezvous_armed;              /* CPU 1 -> callback: wait for my IPI */
    bool cpu0_waiting;                  /* callback -> CPU 1: waiting, lock held, IF=0 */
    bool rendezvous_done;               /* the IPI was seen pending in CPU 0's IRR */
    unsigned long cf_irqs_at_rv;        /* CPU 0's call-function IRQ count then ... */
    unsigned long flushes_at_rv;        /* ... and its remote TLB flushes */
    bool nested_flush;                  /* the flush ran inside the callback: hardirq depth 2 */
    bool cb_spinning;                   /* callback -> CPU 1: about to spin on the lock */
    unsigned long trylock_failures;
    unsigned nic_depth;                 /* hardirq depth at which the NIC's handler ran ... */
    unsigned nic_ppr;                   /* ... CPU 0's PPR then ... */
    unsigned long nic_sti_at_entry;     /* ... and its hardirq_sti_count() */
    unsigned long nic_sti;              /* sti executed in the handler, once it returned */
    bool nic_returned;
    bool lock_held_by_cpu1;
    unsigned long callbacks_at_cpu1_lock;       /* callbacks run when CPU 1 took the lock */
    unsigned long cb_returned_while_held;       /* the exercise: callbacks that returned while CPU 1 held it */
    unsigned long advances, advance_unlocked;   /* taprio_advance() calls; those without sched_lock */
    unsigned long advance_unlocked_ip;
    unsigned long flushes_at_remap;     /* CPU 0's remote TLB flushes when CPU 1 moved the page */
    uint64_t ipi_sent_ns, flush_done_ns, seen_new_ns;
    unsigned long gp_held;              /* a grace period that needed CPU 1's quiescent state */
    /* the wait_irqs_* pair */
    bool ready[2];
    unsigned long cross_cf_at_ready[2];         /* each CPU's call-function IRQs before either sent */
    bool cross_if[2];                           /* IF as each CPU read it just before its flush */
    uint64_t cross_sent_ns[2], cross_done_ns[2];
} obs;

#define OBS_SET(field, val)  __atomic_store_n(&obs.field, (val), __ATOMIC_RELEASE)
#define OBS_GET(field)       __atomic_load_n(&obs.field, __ATOMIC_ACQUIRE)

DEFINE_SPINLOCK(sched_lock);            /* taprio's q->current_entry_lock: the schedule's lock (taprio.h) */
static struct hrtimer advance_timer;
static uint64_t page_old, page_new;

/* A CPU's interrupts taken on both call-function vectors of the configuration. */
static unsigned long call_function_irqs(unsigned cpu)
{
    const uint64_t *c = percpu_area[cpu].irq_count;

    return lab_hook(LAB_HOOK_CALL_FUNCTION_LOWVEC) ? c[CALL_FUNCTION_LOW_VECTOR] + c[CALL_FUNCTION_SINGLE_LOW_VECTOR]
                                : c[CALL_FUNCTION_VECTOR] + c[CALL_FUNCTION_SINGLE_VECTOR];
}

/* Is a call-function IPI pending in this CPU's IRR? (One target gets the
 * single vector, several the broadcast one: kernel/smp.c.) */
static bool call_function_ipi_pending(void)
{
    if (lab_hook(LAB_HOOK_CALL_FUNCTION_LOWVEC))
        return apic_vector_pending(CALL_FUNCTION_LOW_VECTOR) ||
               apic_vector_pending(CALL_FUNCTION_SINGLE_LOW_VECTOR);
    return apic_vector_pending(CALL_FUNCTION_VECTOR) || apic_vector_pending(CALL_FUNCTION_SINGLE_VECTOR);
}

static uint64_t ms_since(uint64_t ns)
{
    uint64_t now = ktime_get_ns();

    return now > ns ? (now - ns) / NSEC_PER_MSEC : 0;
}

/* ---------------------------------------------------------------- CPU 0: the callback and the NIC */

/*
 * The rendezvous, in the callback with the lock held and IF=0: tell CPU 1,
 * then spin until its IPI is pending in our IRR (and, with cfg->nic, the
 * network card's interrupt, which CPU 1 sends first). So every run reaches
 * the window, or its absence, with the IPI waiting, which is the patch's
 * scenario, without relying on timing.
 */
static void stall_rendezvous(void)
{
    OBS_SET(cpu0_waiting, true);
    lab_event("callback: lock held, IF=0, waiting for CPU 1's IPI");
    while (!call_function_ipi_pending() || (obs.cfg->nic && !apic_vector_pending(STALL_LAB_NIC_VECTOR)))
        cpu_relax();
    OBS_SET(cf_irqs_at_rv, call_function_irqs(0));
    OBS_SET(flushes_at_rv, percpu_area[0].tlb_remote_flushes);
    OBS_SET(rendezvous_done, true);
    lab_event("callback: IPI pending in IRR (class %#x)%s",
              (lab_hook(LAB_HOOK_CALL_FUNCTION_LOWVEC) ? CALL_FUNCTION_LOW_VECTOR : CALL_FUNCTION_VECTOR) >> 4,
              obs.cfg->nic ? ", the NIC's too (class 0x5)" : "");
}

/* Count callbacks per timer interrupt: CPU 0's irq_count for the timer
 * vector moves once per interrupt, whatever the hrtimer core does inside. */
static void count_callback(void)
{
    unsigned long irq = percpu_area[0].irq_count[LOCAL_TIMER_VECTOR];
    unsigned long n = obs.callbacks + 1;

    OBS_SET(callbacks, n);
    if (n == 1)
        lab_event("first callback");
    if (irq != obs.irq_of_last_cb) {
        obs.irq_of_last_cb = irq;
        obs.cb_this_irq = 0;
        obs.sti_at_irq = hardirq_sti_count(0);
    }
    obs.cb_this_irq++;
    if (obs.cb_this_irq > obs.cb_per_irq_max) {
        OBS_SET(cb_per_irq_max, obs.cb_this_irq);
        unsigned long sti = hardirq_sti_count(0) - obs.sti_at_irq;
        if (obs.cb_this_irq == STORM_CONFIRMED && !sti)
            lab_event("callback: %u callbacks in one timer interrupt, no sti in it: IF=0 throughout", STORM_CONFIRMED);
        else if (obs.cb_this_irq == STORM_CONFIRMED)
            lab_event("callback: %u callbacks in one timer interrupt, %lu sti in it", STORM_CONFIRMED, sti);
    }
}

/*
 * The callback's read of the gate list, through CPU 0's TLB. The first read
 * of the new list says whether CPU 0 ran the flush since CPU 1 moved the
 * page: without one, the TLB had dropped the old translation by itself (a
 * TLB may drop any entry at any time, Intel SDM Vol. 3A 4.10.2), and the
 * read walked the page tables again.
 */
static uint64_t read_gates(void)
{
    uint64_t gates = *(volatile uint64_t *)STALL_VA;

    if (gates == GATES_NEW && !obs.seen_new_ns) {
        unsigned long flushes = percpu_area[0].tlb_remote_flushes - OBS_GET(flushes_at_remap);

        OBS_SET(seen_new_ns, ktime_get_ns());
        if (flushes)
            lab_event("callback reads the new gate list: CPU 0 ran the flush");
        else
            lab_event("callback reads the new gate list, but CPU 0 ran no flush: its TLB had dropped the old "
                      "translation");
    }
    return gates;
}

/*
 * irqlab's addition, for the emulator, not Linux's: one PAUSE per pass of a
 * storm. On real hardware CPU 1 runs while CPU 0 storms, and PAUSE is only a
 * spin-wait hint that changes no architectural state (Intel SDM Vol. 2B,
 * PAUSE). Under icount QEMU 7.2 runs the vCPUs in turn on one thread and
 * gives the vCPU whose turn it is every instruction up to the next timer
 * deadline (icount_prepare_for_run() in accel/tcg/tcg-accel-ops-icount.c);
 * the next vCPU's budget is then 0. A turn ends early only at PAUSE, HLT,
 * or a timer the vCPU itself brings forward. A storm that does none of
 * these leaves CPU 1 no instruction at all: its flush is never sent and
 * the buddy watchdog calls it hard-locked (docs/deterministic.md). QEMU's
 * TCG ends the turn at PAUSE (do_pause(): "Just let another CPU run").
 */
static void storm_yield(void)
{
    cpu_relax();
}

/*
 * Modelled on taprio's advance_sched() (net/sched/sch_taprio.c): an hrtimer
 * callback, hardirq context, IF=0. It reads the gate list (through CPU 0's
 * TLB), takes the schedule's lock (a spinlock_t the validator knows, so
 * lock_acquire() and lock_release() run here, in hardirq), and re-arms.
 */
static enum hrtimer_restart stall_advance_sched(struct hrtimer *timer)
{
    const struct stall_config *c = obs.cfg;
    bool rendezvous_now = false;

    count_callback();
    read_gates();
    if (OBS_GET(rendezvous_done) && !obs.nested_flush && !obs.flush_between_reported &&
        percpu_area[0].tlb_remote_flushes != obs.flushes_at_rv) {
        obs.flush_between_reported = true;
        lab_event("the flush ran after the rendezvous callback returned: not in its window");
    }
    unsigned long sti_before = hardirq_sti_count(0);
    if (c->trylock) {
        if (!spin_trylock(&sched_lock)) {
            if (!obs.trylock_failures)
                lab_event("callback: trylock failed (CPU 1 holds the lock); retry next cycle");
            OBS_SET(trylock_failures, obs.trylock_failures + 1);
            hrtimer_forward_now(timer, PERIOD_NS);
            return HRTIMER_RESTART;
        }
    } else if (!spin_trylock(&sched_lock)) {
        /* Only CPU 1 takes the lock besides this callback. The failed
         * trylock, not a flag CPU 1 may not have set yet, says we spin. */
        if (!obs.cb_spinning) {
            int owner;

            /* spin_lock() writes the owner just after it takes the lock
             * word, so a failed trylock can see the lock taken and no owner
             * yet (seen in parallel mode): wait for the owner, or for the
             * lock to be free again. */
            while ((owner = __atomic_load_n(&sched_lock.owner_cpu, __ATOMIC_RELAXED)) < 0 &&
                   spin_is_locked(&sched_lock))
                cpu_relax();
            OBS_SET(cb_spinning, true);
            if (owner >= 0)
                lab_event("callback: spins on the lock CPU %d holds", owner);
            else
                lab_event("callback: spins on the lock; it was free again before its owner was seen");
        }
        spin_lock(&sched_lock);
    }
    if (OBS_GET(rendezvous_armed) && !obs.rendezvous_done) {
        stall_rendezvous();
        rendezvous_now = true;
    }
    spin_unlock(&sched_lock);           /* lock_release(): the restore the patch is about */
    unsigned long sti = hardirq_sti_count(0) - sti_before;
    if (sti) {
        if (!obs.cb_sti)
            lab_event("callback: its lock/unlock executed sti (%lu): the window opens", sti);
        OBS_SET(cb_sti, obs.cb_sti + sti);
        OBS_SET(cb_sti_ip, hardirq_sti_last_ip(0));
    }
    if (rendezvous_now && call_function_irqs(0) != obs.cf_irqs_at_rv &&
        percpu_area[0].tlb_remote_flushes != obs.flushes_at_rv) {
        OBS_SET(nested_flush, true);
        lab_event("callback: flush ran nested in it (depth 2): the IPI came in the window");
    } else if (rendezvous_now) {
        lab_event("callback returns; the IPI is %s, %lu sti in its lock ops",
                  call_function_ipi_pending() ? "still pending" : "no longer pending", sti);
    }
    if (OBS_GET(storm_go)) {
        timer->expires = ktime_get_ns();        /* "in the past" by the time the pass ends */
        storm_yield();
    } else
        hrtimer_forward_now(timer, PERIOD_NS);
    return HRTIMER_RESTART;
}

/*
 * The network card's interrupt (cfg->nic): its handler takes the schedule's
 * lock, as a driver's completion path takes the qdisc's.
 *
 * It models a NIC on a level-triggered IOAPIC line (PCI INTx), which Linux
 * handles with handle_fasteoi_irq(): EOI after the handler, so while the
 * handler runs its vector stays in service and PPR is class 0x5 (Intel SDM
 * Vol. 3A 11.8.3.1). A NIC on MSI, or any edge interrupt, goes through
 * handle_edge_irq(), which acks (EOI) before the handler: PPR would be 0.
 *
 * broken_restore_lowvec_nic needs the level-triggered model. Spinning on
 * the lock, the handler has IF=0, and that alone keeps the IPI out. But
 * before it spins, its own spin_lock() runs lock_acquire(), whose restore
 * the hook turns into a window too; only PPR class 0x5 keeps the class-0x3
 * IPI out of that window. With an EOI first the IPI comes in there, the
 * flush runs at hardirq depth 3 and CPU 1 is released, while CPU 0
 * deadlocks alone (tried: vector 0x3b arrived in lock_acquire() under
 * stall_nic_interrupt(), and the hard LOCKUP followed).
 *
 * The lab delivers it as a fixed IPI from CPU 1 (stall_cpu1()): an IPI has
 * no trigger mode of its own (SDM 11.6.1), so the model is the EOI's place.
 */
static void stall_nic_interrupt(struct pt_regs *regs)
{
    (void)regs;
    OBS_SET(nic_sti_at_entry, hardirq_sti_count(0));
    OBS_SET(nic_ppr, apic_read(APIC_PROCPRI));
    OBS_SET(nic_depth, hardirq_depth());
    lab_event("NIC interrupt (hardirq depth %u, PPR %#x) takes the schedule's lock", obs.nic_depth, obs.nic_ppr);
    spin_lock(&sched_lock);
    spin_unlock(&sched_lock);
    OBS_SET(nic_sti, hardirq_sti_count(0) - obs.nic_sti_at_entry);
    OBS_SET(nic_returned, true);
    apic_eoi();                         /* level-triggered: after the handler, as handle_fasteoi_irq() */
}

/* ---------------------------------------------------------------- the exercise's callback */

/*
 * The exercise runs lock_spin's scenario with the student's advance_sched()
 * (advance_sched.c) as the callback. The lab wraps it to keep its counters,
 * and gives it the schedule and two helpers (taprio.h).
 */
struct taprio_sched taprio_sched;

uint64_t taprio_read_gates(void)
{
    return read_gates();
}

void taprio_advance(unsigned long periods, uint64_t gates)
{
    (void)gates;                        /* the lab opens no real gates */
    if (sched_lock.owner_cpu != (int)smp_processor_id()) {
        if (!obs.advance_unlocked++) {
            obs.advance_unlocked_ip = _RET_IP_;
            lab_event("callback: taprio_advance() without sched_lock, from %pS", (void *)_RET_IP_);
        }
    }
    obs.advances++;
    taprio_sched.cycles += periods;
    taprio_sched.current_entry = taprio_sched.cycles % TAPRIO_ENTRIES;
}

static enum hrtimer_restart exercise_advance_sched(struct hrtimer *timer)
{
    count_callback();
    enum hrtimer_restart ret = advance_sched(timer);
    if (OBS_GET(lock_held_by_cpu1) && !obs.cb_returned_while_held++)
        lab_event("callback returned while CPU 1 holds the lock: it did not wait for it");
    return ret;
}

/* ---------------------------------------------------------------- the RCU side */

/*
 * Start a grace period that cannot end without CPU 1: CPU 1 enters a
 * read-side section (preemption off) first, then waits until a GP runs
 * that still needs its quiescent state. That GP then holds until CPU 1
 * leaves, after its flush: so when the flush never returns, the GP never
 * ends, whatever the timing (the seed's "starving the RCU grace-period
 * kthread"). Our own call_rcu() makes sure a GP starts. Called on CPU 1.
 */
static void hold_grace_period(void)
{
    struct obj *o = obj_alloc();

    rcu_read_lock();
    if (o)
        obj_free_rcu(o);
    while (!rcu_gp_waits_for_cpu(1))
        cpu_relax();
    OBS_SET(gp_held, rcu_gp_started());
    lab_event("grace period %lu started; it needs CPU 1's quiescent state", obs.gp_held);
}

/* One call_rcu() object every this many ms: the pool (OBJ_POOL_SIZE) then
 * runs dry 4/3 of the RCU stall timeout after grace periods stop, so OOM
 * comes after the RCU stall report, as in seed 000 (26 ms with the lab's
 * 5 s; 109 ms with Linux's 21 s). With the RCU stall check off
 * (rcu_cpu_stall_timeout=0), the lab's 5 s sets the pace. */
static unsigned producer_period_ms(void)
{
    int timeout = rcu_cpu_stall_timeout > 0 ? rcu_cpu_stall_timeout : LAB_RCU_STALL_TIMEOUT;

    return (unsigned)(timeout * 1000 * 4 / 3 / OBJ_POOL_SIZE);
}

/* The workload: keeps publishing objects and freeing the old ones with
 * call_rcu(), one every producer_period_ms(), on CPU 2 (when there is one),
 * until the run ends QEMU. */
static int stall_producer(void *unused)
{
    struct obj *slot = NULL;
    unsigned period = producer_period_ms();

    (void)unused;
    for (;;) {
        struct obj *o = obj_alloc();

        if (o) {
            if (slot)
                obj_free_rcu(slot);
            slot = o;
        }
        msleep(period);
    }
    return 0;
}

/* ---------------------------------------------------------------- CPU 1 */

static void wait_until(bool (*cond)(void))
{
    while (!cond())
        msleep(1);
}

static bool warmed_up(void)      { return OBS_GET(callbacks) >= WARMUP_CALLBACKS; }

/* Spin (preemption off: CPU 1 is in its read-side section) until cond. */
static void spin_until(bool (*cond)(void))
{
    while (!cond())
        cpu_relax();
}

/* The guard gave up at least once, or one interrupt ran the callback
 * STORM_CONFIRMED times (without the guard it never ends). */
static bool storm_running(void)
{
    return hrtimer_nr_hangs(0) > obs.hangs_at_storm || OBS_GET(cb_per_irq_max) >= STORM_CONFIRMED;
}

static bool cpu0_waiting(void)   { return OBS_GET(cpu0_waiting); }
static bool trylock_failed(void) { return OBS_GET(trylock_failures) > 0; }

/* A second ticket is out: someone (the callback) spins on the lock. */
static bool lock_has_waiter(void)
{
    arch_spinlock_t *l = &sched_lock.rlock.lock;

    return (uint16_t)(__atomic_load_n(&l->next, __ATOMIC_ACQUIRE) - __atomic_load_n(&l->owner, __ATOMIC_ACQUIRE)) >= 2;
}

/* The exercise: the student's callback is spinning on the lock, or has
 * returned from a whole run while CPU 1 held it. */
static bool callback_met_lock(void)
{
    return lock_has_waiter() || OBS_GET(callbacks) >= obs.callbacks_at_cpu1_lock + 2;
}

/* Move the gate list to its new page and shoot the old translation down. */
static void move_gate_list(void)
{
    OBS_SET(flushes_at_remap, percpu_area[0].tlb_remote_flushes);
    remap_kernel_page(STALL_VA, page_new, PTE_WRITE | PTE_NX);
    lab_event("mapping changed (remap_kernel_page)");
    OBS_SET(ipi_sent_ns, ktime_get_ns());
    lab_event("flush_tlb_range: IPI sent, waiting in csd_lock_wait()");
    flush_tlb_range(STALL_VA, STALL_VA + PAGE_SIZE);
    OBS_SET(flush_done_ns, ktime_get_ns());
    lab_event("flush acknowledged by every CPU");
}

/* CPU 1's kernel thread: line up with CPU 0 through flags, then move the page. */
static int stall_cpu1(void *unused)
{
    const struct stall_config *c = obs.cfg;
    unsigned long flags = 0;

    (void)unused;
    wait_until(warmed_up);
    hold_grace_period();
    if (c->storm) {
        obs.hangs_at_storm = hrtimer_nr_hangs(0);
        OBS_SET(storm_go, true);
        lab_event("callback now re-arms itself in the past (a storm)");
        spin_until(storm_running);
        /* Only "at least once" is a claim: CPU 0 goes on giving up while
         * CPU 1 looks, so how many times it has by now depends on where
         * the emulator ended CPU 0's turn, not on the lab. */
        if (hrtimer_nr_hangs(0) > obs.hangs_at_storm)
            lab_event("storm: the hang guard gave up on CPU 0's timer interrupt (hrtimer: interrupt took ...)");
        else
            lab_event("storm: one timer interrupt on CPU 0 has run the callback %lu times", OBS_GET(cb_per_irq_max));
    }
    if (c->cpu1_lock == CPU1_DROPS_LOCK)
        spin_lock_irqsave(&sched_lock, flags);
    else if (c->cpu1_lock == CPU1_HOLDS_LOCK)
        spin_lock(&sched_lock);
    if (c->cpu1_lock != CPU1_NO_LOCK) {
        OBS_SET(callbacks_at_cpu1_lock, OBS_GET(callbacks));
        OBS_SET(lock_held_by_cpu1, true);
        lab_event("CPU 1 holds the schedule's lock");
        spin_until(c->trylock ? trylock_failed : c->student ? callback_met_lock : lock_has_waiter);
        if (c->student && lock_has_waiter()) {
            OBS_SET(cb_spinning, true);
            lab_event("CPU 1 sees a second ticket on the lock: the callback spins on it, IF=0");
        }
    }
    if (c->cpu1_lock == CPU1_DROPS_LOCK) {
        OBS_SET(lock_held_by_cpu1, false);
        spin_unlock_irqrestore(&sched_lock, flags);
        lab_event("CPU 1 drops the lock before flushing");
    }
    if (c->rendezvous) {
        OBS_SET(rendezvous_armed, true);
        spin_until(cpu0_waiting);
    }
    if (c->nic) {
        /* The lab plays the network card: its interrupt reaches CPU 0 as a
         * message, as an IOAPIC line or an MSI would deliver it. */
        apic_send_IPI(0, STALL_LAB_NIC_VECTOR);
        lab_event("the NIC raises its interrupt on CPU 0 (vector %#x, class %#x)", STALL_LAB_NIC_VECTOR,
                  STALL_LAB_NIC_VECTOR >> 4);
    }
    move_gate_list();
    if (c->cpu1_lock == CPU1_HOLDS_LOCK) {
        OBS_SET(lock_held_by_cpu1, false);
        spin_unlock(&sched_lock);
    }
    rcu_read_unlock();
    return 0;
}

/* ---------------------------------------------------------------- the wait_irqs_* pair */

LAB_REMOVABLE(stall, cross_irqs_off, "the wait_irqs_off pair leaves IRQs on around its flushes");

/* One CPU of the pair: line up with the other, flush, wait for the ack. */
static void cross_flush(unsigned me)
{
    unsigned long flags = 0;
    bool irqs_off = obs.cfg->irqs_off && !lab_removed("cross_irqs_off");

    if (irqs_off)
        local_irq_save(flags);
    /* Counted before this CPU says it is ready: the other CPU sends only
     * after that, so whatever it sends arrives after this count. */
    OBS_SET(cross_cf_at_ready[me], call_function_irqs(me));
    OBS_SET(ready[me], true);
    while (!OBS_GET(ready[!me]))
        cpu_relax();
    OBS_SET(cross_if[me], !arch_irqs_disabled());
    OBS_SET(cross_sent_ns[me], ktime_get_ns());
    lab_event("CPU %u: flush_tlb_range() with IRQs %s", me, arch_irqs_disabled() ? "off" : "on");
    flush_tlb_range(STALL_VA, STALL_VA + PAGE_SIZE);
    OBS_SET(cross_done_ns[me], ktime_get_ns());
    lab_event("CPU %u: flush acknowledged", me);
    if (irqs_off)
        local_irq_restore(flags);
}

static int stall_cross_cpu1(void *unused)
{
    (void)unused;
    hold_grace_period();
    cross_flush(1);
    rcu_read_unlock();
    return 0;
}

/* ---------------------------------------------------------------- one run */

/*
 * Detector thresholds, the same for every variant, so that a stall's reports
 * come in a fixed order and the run ends within ~15 s: CSD lock report, hard
 * LOCKUP, RCU stall, OOM. A value the command line changed is left alone.
 * The soft-lockup detector is off: CPU 1 waits with preemption off, which
 * it would report at a time that overlaps the hard LOCKUP's.
 */
static void set_lab_thresholds(bool both_cpus_irqs_off)
{
    if (!bootparam_given("csd_lock_timeout"))
        csd_lock_timeout = LAB_CSD_LOCK_TIMEOUT_MS;
    if (!bootparam_given("rcu_cpu_stall_timeout"))
        rcu_cpu_stall_timeout = LAB_RCU_STALL_TIMEOUT;
    if (!bootparam_given("watchdog_thresh"))
        watchdog_set_thresh(LAB_WATCHDOG_THRESH);
    param_soft_watchdog = false;
    /* With 2 CPUs both spinning with IF=0 no tick runs anywhere: only the
     * CSD report can see it, and it must end the run itself. */
    if (both_cpus_irqs_off && num_online_cpus() == 2 && !bootparam_given("panic_on_ipistall"))
        panic_on_ipistall = LAB_PANIC_ON_IPISTALL;
    printk("stall: thresholds: csd_lock_timeout=%d ms, watchdog_thresh=%d s, rcu_cpu_stall_timeout=%d s, "
           "panic_on_ipistall=%d ms, soft lockup detector off\n", csd_lock_timeout, watchdog_thresh,
           rcu_cpu_stall_timeout, panic_on_ipistall);
}

/* The gate list's two pages, mapped at STALL_VA with the old one. */
static void map_gate_list(void)
{
    page_old = alloc_page();
    page_new = alloc_page();
    *(volatile uint64_t *)phys_to_virt(page_old) = GATES_OLD;
    *(volatile uint64_t *)phys_to_virt(page_new) = GATES_NEW;
    map_kernel_page(STALL_VA, page_old, PTE_WRITE | PTE_NX);
}

/*
 * The detector whose report ends a stalled run: the last of the chain this
 * machine can show. With 3 CPUs or more a producer thread runs on CPU 2
 * and the chain ends in OOM; with 2, both CPUs are stuck and nothing
 * allocates, so it ends at the RCU stall; with 2 CPUs both spinning with
 * IF=0 (wait_irqs_off) no tick runs at all, and the CSD report ends it.
 */
static const char *final_detector(const struct stall_config *c)
{
    if (c->irqs_off && num_online_cpus() == 2)
        return "csd: CSD lock stall (panic_on_ipistall)";
    return num_online_cpus() > 2 ? "Out of memory" : "RCU stall";
}

static void stall_prepare(const struct stall_config *c)
{
    obs = (__typeof__(obs)){ .cfg = c };
    /* Whatever the variant is expected to show, a stall ends the same
     * way: the chain of reports plays out to the last one this machine can
     * give, so how a run ends never depends on the verdict it should reach. */
    detector_stop_at = final_detector(c);
    lab_hook_set(LAB_HOOK_IRQ_RESTORE_OPENS_WINDOW, c->broken_restore);
    lab_hook_set(LAB_HOOK_LOCKDEP_SKIP_IRQ_SAVE_IN_HARDIRQ, c->patch_skip);
    lab_hook_set(LAB_HOOK_CALL_FUNCTION_LOWVEC, c->lowvec);
    lab_hook_set(LAB_HOOK_NO_HRTIMER_HANG_GUARD, c->unguarded);
    request_vector(STALL_LAB_NIC_VECTOR, stall_nic_interrupt, "stall lab NIC");
    set_lab_thresholds(c->irqs_off);
    if (c->storm)
        pr_info("stall: each pass of the storm executes PAUSE (irqlab's addition, not Linux's: under icount it "
                "lets the other vCPUs take their turn)\n");
    map_gate_list();
    if (num_online_cpus() > 2 && !kthread_run_on_cpu(stall_producer, NULL, 2, "rcu_producer/%u"))
        pr_warn("stall: no producer thread\n");
}

/*
 * The main scenario, in the lab's thread on CPU 0 (task context). Arm the
 * callback here, start CPU 1, then sleep until CPU 1's flush returned,
 * AFTER_CALLBACKS more callbacks ran and the held grace period ended. If
 * CPU 0 stalls, this thread never runs again: the detectors end the run.
 */
static void stall_run(const struct stall_config *c)
{
    stall_prepare(c);
    hrtimer_init(&advance_timer, c->student ? exercise_advance_sched : stall_advance_sched);
    OBS_SET(sti_at_arm, hardirq_sti_count(0));
    hrtimer_start(&advance_timer, PERIOD_NS, HRTIMER_MODE_REL);
    lab_event("callback armed on CPU 0 (every %lu us)", PERIOD_NS / NSEC_PER_USEC);
    if (!kthread_run_on_cpu(stall_cpu1, NULL, 1, "stall_flush/%u"))
        panic("stall: cannot start CPU 1's thread");
    lab_wait_for("CPU 1's flush to be acknowledged and the callback to read the new gate list");
    while (!OBS_GET(flush_done_ns) || !OBS_GET(seen_new_ns))
        msleep(1);
    lab_wait_for("more callbacks, then the end of the held grace period");
    unsigned long target = OBS_GET(callbacks) + AFTER_CALLBACKS;
    while (OBS_GET(callbacks) < target)
        msleep(1);
    OBS_SET(storm_go, false);           /* a guarded storm slows the GP thread down: end it */
    while (rcu_gp_completed() < obs.gp_held)
        msleep(1);
    lab_wait_for(NULL);
    hrtimer_cancel(&advance_timer);
    OBS_SET(sti_at_end, hardirq_sti_count(0));
    lab_event("grace period %lu ended; %lu callbacks in all", obs.gp_held, obs.callbacks);
}

static void stall_cross_run(const struct stall_config *c)
{
    stall_prepare(c);
    if (!kthread_run_on_cpu(stall_cross_cpu1, NULL, 1, "stall_flush/%u"))
        panic("stall: cannot start CPU 1's thread");
    while (!OBS_GET(gp_held))
        msleep(1);
    lab_wait_for("both CPUs' flushes to be acknowledged and the held grace period to end");
    cross_flush(0);
    while (!OBS_GET(cross_done_ns[1]) || rcu_gp_completed() < obs.gp_held)
        msleep(1);
    lab_wait_for(NULL);
    lab_event("grace period %lu ended", obs.gp_held);
}

/* ---------------------------------------------------------------- judging */

static unsigned long sti_count_now(void)
{
    return (obs.sti_at_end ? obs.sti_at_end : hardirq_sti_count(0)) - obs.sti_at_arm;
}

/*
 * The stall happened when CPU 1's flush was sent and never acknowledged.
 * Only a detector's stop can end such a run; a run that ends by itself
 * has every flush acknowledged. Evidence: what each CPU did.
 */
/*
 * The claim a rendezvous variant exists to show, as conditions on what was
 * measured (issue 11: a verdict must follow from the mechanism, not only
 * from the outcome). Returns NULL when it held, else why not; the verdict
 * is then INVALID, whatever the outcome was. A window variant claims that
 * the callback's own lock ops executed sti in hardirq, and that what came
 * in came in through it (the flush, or the NIC's irq, at hardirq depth 2);
 * the others claim that they executed none, in enough callbacks to count,
 * with the IPI pending during one of them.
 */
#define CLAIM_MIN_CALLBACKS 10
#define STORM_SEEN 100                  /* callbacks in one timer interrupt: a storm (a normal one runs 1-3) */

static const char *broken_claim(const struct stall_config *c)
{
    if (!obs.rendezvous_done)
        return "the IPI was never seen pending during a callback: the rendezvous did not happen";
    if (c->broken_restore && !c->patch_skip) {
        if (!obs.cb_sti)
            return "the window this variant exists to show never opened: the callback's lock ops executed no sti";
        if (c->nic && obs.nic_depth != 2)
            return "the NIC's irq did not come in through the window (it did not run at hardirq depth 2)";
        if (!c->nic && obs.flush_done_ns && !obs.nested_flush)
            return "the flush was acknowledged, but not from inside the window (it did not run at depth 2)";
        return NULL;
    }
    if (obs.cb_sti)
        return "the callback's lock ops executed sti in hardirq, which this variant exists to show never happens";
    if (obs.callbacks < CLAIM_MIN_CALLBACKS)
        return "too few callbacks ran to show that none executed sti";
    return NULL;
}

static enum lab_verdict judge_flush(struct lab_run *r, char *ev, unsigned long size)
{
    const struct stall_config *c = obs.cfg;
    unsigned long sti = sti_count_now();
    char nic[80] = "";

    /* The stalling variants' own claims: lock_spin's callback spun on the lock CPU 1 holds; a storm
     * variant's timer interrupt ran the callback over and over. */
    if (!c->rendezvous && !obs.flush_done_ns && obs.ipi_sent_ns) {
        const char *why = c->storm && obs.cb_per_irq_max <= STORM_SEEN ? "no storm was seen" :
                          c->cpu1_lock == CPU1_HOLDS_LOCK && !c->trylock && !obs.cb_spinning ?
                          "the callback never spun on the lock CPU 1 holds" : NULL;
        if (why) {
            ksnprintf(ev, size, "%s, yet CPU 1's flush was never acknowledged (max %lu callbacks per interrupt)", why,
                      obs.cb_per_irq_max);
            return LAB_INVALID;
        }
    }
    if (c->rendezvous) {
        const char *why = broken_claim(c);
        if (why) {
            ksnprintf(ev, size, "%s (%lu sti in the callback's lock ops in %lu callbacks, flush %s)", why, obs.cb_sti,
                      obs.callbacks, obs.flush_done_ns ? "acknowledged" : "never acknowledged");
            return LAB_INVALID;
        }
    }

    /* Every variant's claim is about CPU 1's flush IPI: a run that ended before CPU 1 sent it shows nothing
     * (seen: rearm_past_unguarded at 2 CPUs under icount before storm_yield(): CPU 1 got no turn). */
    if (!obs.ipi_sent_ns) {
        ksnprintf(ev, size, "CPU 1 never sent its flush IPI: the run ended (stopped by %s) before the scenario reached "
                  "the flush; max %lu callbacks per interrupt", r->stopped_by ? r->stopped_by : "nothing",
                  obs.cb_per_irq_max);
        return LAB_INVALID;
    }
    if (c->nic)
        ksnprintf(nic, sizeof nic, "; NIC irq ran at depth %u with PPR %#x, %lu sti in it", obs.nic_depth, obs.nic_ppr,
                  obs.nic_returned ? obs.nic_sti : hardirq_sti_count(0) - obs.nic_sti_at_entry);
    if (!obs.flush_done_ns) {
        /* The cause, from what was seen: a NIC handler that entered and never returned, a callback that
         * announced its spin, or one timer interrupt that ran the callback thousands of times. */
        const char *where = obs.nic_depth && !obs.nic_returned ? "the NIC's irq spins on the lock the callback holds" :
                            obs.cb_spinning ? "the callback spins on the lock CPU 1 holds" :
                            obs.cb_per_irq_max > STORM_SEEN ? "one timer interrupt runs the callback forever" :
                            "nothing the lab observed says why";
        ksnprintf(ev, size, "CPU 1 waited %lu ms; CPU 0 took %lu call-function IPIs: %s, IF=0; "
                  "max %lu callbacks per interrupt%s",
                  ms_since(obs.ipi_sent_ns), call_function_irqs(0) - obs.cf_irqs_at_rv,
                  where, obs.cb_per_irq_max, nic);
        return LAB_REPRODUCED;
    }
    uint64_t ack_us = (obs.flush_done_ns - obs.ipi_sent_ns) / NSEC_PER_USEC;
    if (c->rendezvous && obs.cb_sti)
        ksnprintf(ev, size, "callback's lock ops: %lu sti (at %pS), %lu in all hardirq; IPI came in %s; "
                  "acked in %lu us", obs.cb_sti, (void *)obs.cb_sti_ip, sti,
                  obs.nested_flush ? "the window (flush at depth 2)" : "later", ack_us);
    else if (c->rendezvous)
        ksnprintf(ev, size, "callback's lock ops: 0 sti in %lu callbacks, %lu in all hardirq; IPI taken after %s; "
                  "acked in %lu us%s", obs.callbacks, sti, sti ? "the callback" : "the timer's iretq", ack_us, nic);
    else if (c->storm)
        ksnprintf(ev, size, "max %lu callbacks per timer interrupt, %lu hang-guard give-ups; flush acked in %lu us; "
                  "GP %lu ended", obs.cb_per_irq_max, hrtimer_nr_hangs(0) - obs.hangs_at_storm, ack_us, obs.gp_held);
    else
        ksnprintf(ev, size, "%s; flush acked in %lu us; GP %lu ended",
                  obs.trylock_failures ? "the callback's trylock failed and it retried next cycle" :
                  obs.cb_spinning ? "the callback spun on the lock until CPU 1 dropped it, before flushing" :
                  "the callback never met the lock held", ack_us, obs.gp_held);
    if (r->stopped_by)
        return LAB_REPRODUCED;          /* a detector fired although the flush completed: say so */
    return LAB_NOT_REPRODUCED;
}

/*
 * The exercise: NOT REPRODUCED (your callback is right) only if CPU 1's
 * flush was acknowledged and the run ended by itself, at least one
 * callback ran to completion while CPU 1 held the lock (so the scenario
 * really tested it), taprio_advance() always ran under sched_lock, and no
 * period was lost: the schedule counted one cycle per callback.
 */
static enum lab_verdict judge_exercise(struct lab_run *r, char *ev, unsigned long size)
{
    if (!obs.flush_done_ns) {
        ksnprintf(ev, size, "CPU 1 waited %lu ms in csd_lock_wait() for CPU 0's flush: %s; IF=0 in hardirq keeps the "
                  "IPI out", obs.ipi_sent_ns ? ms_since(obs.ipi_sent_ns) : 0,
                  obs.cb_spinning ? "your callback spins on sched_lock, which CPU 1 holds" : "CPU 0 never left hardirq");
        return LAB_REPRODUCED;
    }
    if (r->stopped_by)
        ksnprintf(ev, size, "the flush completed, but %s stopped the run", r->stopped_by);
    else if (obs.advance_unlocked)
        ksnprintf(ev, size, "taprio_advance() ran %lu times without sched_lock, first from %pS", obs.advance_unlocked,
                  (void *)obs.advance_unlocked_ip);
    else if (!obs.cb_returned_while_held)
        ksnprintf(ev, size, "no callback returned while CPU 1 held the lock: the scenario did not test the callback");
    else if (taprio_sched.cycles != obs.callbacks)
        ksnprintf(ev, size, "the schedule lost %ld of %lu periods: account for the periods you skipped when you next "
                  "get the lock", (long)(obs.callbacks - taprio_sched.cycles), obs.callbacks);
    else {
        ksnprintf(ev, size, "flush acked in %lu us; %lu callbacks returned while CPU 1 held the lock; %lu periods in "
                  "%lu advances, none lost", (unsigned long)((obs.flush_done_ns - obs.ipi_sent_ns) / NSEC_PER_USEC),
                  obs.cb_returned_while_held, taprio_sched.cycles, obs.advances);
        return LAB_NOT_REPRODUCED;
    }
    return LAB_REPRODUCED;
}

/*
 * The wait_irqs_* pair's claim, as conditions on what each CPU did:
 * - both sent a flush, each with the IF the variant asks for, read by the
 *   CPU itself just before it sent;
 * - wait_irqs_off (REPRODUCED): neither flush was acknowledged, and neither
 *   CPU took a call-function IPI since the handshake: IF=0 kept each CPU's
 *   IPI out of the other, so each waits for an acknowledgment only the
 *   other can give;
 * - wait_irqs_on (NOT REPRODUCED): both were acknowledged, each CPU took at
 *   least one call-function IPI since the handshake (it ran the other's
 *   flush while it waited), and no detector had to stop the run.
 * Anything else is INVALID, naming the condition that failed.
 */
static enum lab_verdict judge_cross(struct lab_run *r, char *ev, unsigned long size)
{
    bool want_if = !obs.cfg->irqs_off;
    unsigned long took[2];

    for (unsigned cpu = 0; cpu < 2; cpu++) {
        if (!OBS_GET(cross_sent_ns[cpu])) {
            ksnprintf(ev, size, "CPU %u never sent its flush", cpu);
            return LAB_INVALID;
        }
        if (OBS_GET(cross_if[cpu]) != want_if) {
            ksnprintf(ev, size, "CPU %u sent its flush with IF=%d; the variant waits with IF=%d", cpu,
                      OBS_GET(cross_if[cpu]), want_if);
            return LAB_INVALID;
        }
        took[cpu] = call_function_irqs(cpu) - OBS_GET(cross_cf_at_ready[cpu]);
    }
    bool done0 = OBS_GET(cross_done_ns[0]) != 0, done1 = OBS_GET(cross_done_ns[1]) != 0;
    if (!done0 || !done1) {
        if (took[0] || took[1]) {
            ksnprintf(ev, size, "CPU %u took %lu call-function IPI(s) since the handshake, yet CPU %u's flush "
                      "was never acknowledged", took[0] ? 0 : 1, took[0] ? took[0] : took[1], took[0] ? 1 : 0);
            return LAB_INVALID;
        }
        ksnprintf(ev, size, "CPU 0 %s, CPU 1 %s, each sent with IF=%d and took 0 call-function IPIs since: each "
                  "waits for an acknowledgment only the other can give, %lu ms so far", done0 ? "done" : "waits",
                  done1 ? "done" : "waits", want_if, ms_since(obs.cross_sent_ns[0]));
        return LAB_REPRODUCED;
    }
    if (!took[0] || !took[1]) {
        ksnprintf(ev, size, "both flushes acked, but CPU %u took no call-function IPI: its flush did not come "
                  "through an IPI it took while waiting", took[0] ? 1 : 0);
        return LAB_INVALID;
    }
    if (r->stopped_by) {
        ksnprintf(ev, size, "both flushes acked, yet %s stopped the run", r->stopped_by);
        return LAB_INVALID;
    }
    ksnprintf(ev, size, "both flushes acked (CPU 0 in %lu us, CPU 1 in %lu us), each sent with IF=%d and took the "
              "other's IPI while waiting (%lu and %lu call-function IPIs); GP %lu ended",
              (obs.cross_done_ns[0] - obs.cross_sent_ns[0]) / NSEC_PER_USEC,
              (obs.cross_done_ns[1] - obs.cross_sent_ns[1]) / NSEC_PER_USEC, want_if, took[0], took[1], obs.gp_held);
    return LAB_NOT_REPRODUCED;
}

/* ---------------------------------------------------------------- the variants */

/*
 * Each variant is a LAB_VARIANT line (the Makefile reads them for the GRUB
 * menu) and a STALL_CONFIG line: the configuration, and the run and judge
 * that use it. Unnamed fields are false: Linux's behaviour.
 */
#define STALL_CONFIG(name, run_, judge_, ...)                                                    \
    static const struct stall_config stall_cfg_##name = { __VA_ARGS__ };     \
    static void lab_stall_##name##_run(struct lab_run *r) { (void)r; run_(&stall_cfg_##name); } \
    static enum lab_verdict lab_stall_##name##_judge(struct lab_run *r, char *ev, unsigned long size) \
    { return judge_(r, ev, size); }

/* `make run LAB=stall` with no VARIANT= shows a stall end to end: CSD report,
 * hard LOCKUP, RCU stall and OOM, from a constructed cause with correct irq code. */
LAB_DEFAULT_VARIANT(stall, lock_spin);

/* 1. The patch's hypothesis, with Linux's restore: no sti ever runs in hardirq. */
LAB_VARIANT(stall, real_restore, 2, LAB_NOT_REPRODUCED,
            "Linux's restore: lock_release() in hardirq never executes sti; the IPI waits for the iretq");
STALL_CONFIG(real_restore, stall_run, judge_flush, .rendezvous = true);

/* 2. The patch's belief about the restore, with Linux's vectors: the window
 *    opens, and the IPI (class 0xF, PPR 0 after the timer's early EOI) comes
 *    in through it: the flush runs nested in the callback. */
LAB_VARIANT(stall, broken_restore, 2, LAB_NOT_REPRODUCED,
            "restore executes sti in hardirq: the window opens, the IPI comes in through it (harmless)");
STALL_CONFIG(broken_restore, stall_run, judge_flush, .rendezvous = true, .broken_restore = true);

/* 3a. The window with the IPI in the lowest class and a timer storm: still
 *     harmless. While a callback runs, the LAPIC timer is not armed (the
 *     hrtimer core programs it only after the callbacks) and the timer's
 *     vector is not in service (early EOI): nothing outranks the IPI. */
LAB_VARIANT(stall, broken_restore_lowvec_storm, 2, LAB_NOT_REPRODUCED,
            "window + IPI in class 0x3 + timer storm: no timer is pending inside a callback; IPI still gets in");
STALL_CONFIG(broken_restore_lowvec_storm, stall_run, judge_flush, .rendezvous = true, .broken_restore = true,
             .lowvec = true, .storm = true);

/* 3b. Where the window is harmful: in lock_release() the lock is still
 *     held; a device interrupt (class 0x5, level-triggered: EOI after its
 *     handler) comes in through the window and spins on that lock with IF=0,
 *     which keeps the IPI out for good; its in-service class 0x5 keeps the
 *     class-0x3 IPI out of the windows its own lock_acquire() opens first. */
LAB_VARIANT(stall, broken_restore_lowvec_nic, 2, LAB_REPRODUCED,
            "window + IPI in class 0x3: the NIC's interrupt (class 0x5) gets in first and deadlocks on the lock");
STALL_CONFIG(broken_restore_lowvec_nic, stall_run, judge_flush, .rendezvous = true, .broken_restore = true,
             .lowvec = true, .nic = true);

/* 3c. The same with Linux's restore: the only difference. */
LAB_VARIANT(stall, lowvec_nic_real_restore, 2, LAB_NOT_REPRODUCED,
            "as broken_restore_lowvec_nic with Linux's restore: NIC, then IPI, after the timer's iretq");
STALL_CONFIG(lowvec_nic_real_restore, stall_run, judge_flush, .rendezvous = true, .lowvec = true, .nic = true);

/* 3d. The same with the broken restore and the patch: lockdep no longer restores in hardirq. */
LAB_VARIANT(stall, patch_skip_in_hardirq, 2, LAB_NOT_REPRODUCED,
            "as broken_restore_lowvec_nic plus the patch (no irq save/restore in hardirq): no window");
STALL_CONFIG(patch_skip_in_hardirq, stall_run, judge_flush, .rendezvous = true, .broken_restore = true,
             .lowvec = true, .nic = true, .patch_skip = true);

/* 4a. A callback re-armed in the past, with and without hrtimer's hang guard. */
LAB_VARIANT(stall, rearm_past_unguarded, 2, LAB_REPRODUCED,
            "callback re-armed in the past, no hang guard: hrtimer_interrupt() loops forever with IF=0");
STALL_CONFIG(rearm_past_unguarded, stall_run, judge_flush, .storm = true,
             .unguarded = true);
LAB_VARIANT(stall, rearm_past_guarded, 2, LAB_NOT_REPRODUCED,
            "callback re-armed in the past, Linux's hang guard: the interrupt gives up; the IPI lands in the gap");
STALL_CONFIG(rearm_past_guarded, stall_run, judge_flush, .storm = true);

/* 4b. The callback spins on a lock CPU 1 holds while CPU 1 waits for CPU 0. */
LAB_VARIANT(stall, lock_spin, 2, LAB_REPRODUCED,
            "callback spins (IF=0) on a lock CPU 1 holds across its flush: each waits for the other");
STALL_CONFIG(lock_spin, stall_run, judge_flush, .cpu1_lock = CPU1_HOLDS_LOCK);
LAB_VARIANT(stall, lock_spin_drop_first, 2, LAB_NOT_REPRODUCED,
            "CPU 1 drops the lock before it flushes");
STALL_CONFIG(lock_spin_drop_first, stall_run, judge_flush, .cpu1_lock = CPU1_DROPS_LOCK);
LAB_VARIANT(stall, lock_spin_trylock, 2, LAB_NOT_REPRODUCED,
            "the callback uses spin_trylock() and re-arms to retry: it never spins in hardirq");
STALL_CONFIG(lock_spin_trylock, stall_run, judge_flush, .cpu1_lock = CPU1_HOLDS_LOCK, .trylock = true);

/* 4c. smp_call_function_many()'s warning: waiting with IRQs disabled. */
LAB_VARIANT(stall, wait_irqs_off, 2, LAB_REPRODUCED,
            "both CPUs flush with IRQs off: each waits for the other's acknowledgment forever (Linux WARNs)");
STALL_CONFIG(wait_irqs_off, stall_cross_run, judge_cross, .irqs_off_cross_call = true, .irqs_off = true);
LAB_VARIANT(stall, wait_irqs_on, 2, LAB_NOT_REPRODUCED,
            "both CPUs flush with IRQs on: each takes the other's IPI while it waits");
STALL_CONFIG(wait_irqs_on, stall_cross_run, judge_cross, .irqs_off_cross_call = true);

/* 5. The exercise: lock_spin's scenario with the student's callback (advance_sched.c). */
LAB_VARIANT(stall, exercise, 2, LAB_NOT_REPRODUCED,
            "the exercise: your advance_sched() (advance_sched.c) while CPU 1 holds its lock across a flush");
STALL_CONFIG(exercise, stall_run, judge_exercise, .cpu1_lock = CPU1_HOLDS_LOCK, .student = true);
