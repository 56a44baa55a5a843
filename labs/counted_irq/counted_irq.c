/* labs/counted_irq/counted_irq.c: lab "counted_irq": hand-over-hand locking with irqsave, counted, and scoped interrupt disabling (seed 001). */
#include "kernel/lab.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/irq.h"
#include "kernel/cleanup.h"
#include "kernel/hardirq.h"
#include "kernel/irq_disable.h"
#include "kernel/irqflags.h"
#include "kernel/lockdep.h"
#include "kernel/printk.h"
#include "kernel/spinlock.h"
#include "kernel/vsprintf.h"
#include "labs/counted_irq/chain.h"

/*
 * Hand-over-hand locking walks a chain: lock A, lock B, unlock A, lock C,
 * unlock B, ... Each step's critical sections overlap instead of nesting.
 * The data each lock protects is also used by an interrupt handler on
 * this CPU, so IRQs must stay off as long as ANY of the locks is held.
 *
 * spin_lock_irqsave(l, flags) keeps the old IF in the caller's variable:
 *
 *     spin_lock_irqsave(A, fa);        fa: IF=1    IRQs off
 *     spin_lock_irqsave(B, fb);        fb: IF=0
 *     spin_unlock_irqrestore(A, fa);   restores IF=1: sti, with B still held
 *     spin_unlock_irqrestore(B, fb);   restores IF=0: no cli (a restore only
 *                                      ever executes sti), and
 *                                      CONFIG_DEBUG_IRQFLAGS warns
 *
 * The flags belong to the OUTER section, but the first unlock restores
 * them. Seed 001's counted form keeps one depth per CPU and the outermost
 * flags per CPU instead (kernel/irq_disable.h), so IRQs come back only
 * when the last of the overlapping sections ends, whichever that is. Bart
 * Van Assche's reply keeps the flags in a hidden variable of a block
 * (scoped_irq_disable, kernel/cleanup.h): the IRQ-off sections then nest
 * by construction, and the locks inside may overlap as they please.
 *
 * The proof is a real interrupt: before the last unlock the task makes
 * the device interrupt this CPU (a self-IPI, Intel SDM Vol. 3A 11.6.1).
 * With IF=0 it waits in the IRR (SDM 11.8.4); it is delivered right after
 * the sti that turns IRQs on (the sti's one-instruction shadow aside). Its
 * handler tries chain_b and records whether the task it interrupted still
 * held it, and where the task was (the interrupted instruction).
 *
 * Before that, one warm-up interrupt with the chain free makes chain_b
 * HARDIRQ-safe for lockdep, so a second witness speaks: when IRQs come on
 * with chain_b held, lockdep_hardirqs_on() marks it HARDIRQ-unsafe too and
 * reports "inconsistent lock state" at the restore, before the sti.
 */

#define COUNTED_IRQ_VECTOR 0x54         /* class 5: a level-triggered device: EOI after its handler */

static DEFINE_SPINLOCK(chain_a);
static DEFINE_SPINLOCK(chain_b);

/*
 * Data protected by "IRQs off", as the cover letter's "interrupt-disable
 * protect data": this CPU's count of chain_b events. This CPU's task
 * updates it holding chain_b, which it believes means IRQs off; this CPU's
 * handler updates it without a lock, because on this CPU IRQs off is what
 * keeps the two apart (other CPUs never touch this CPU's count).
 */
static unsigned long b_events;

static struct {
    unsigned irqs;                      /* handler runs */
    bool b_held_by_me[2];               /* per run: chain_b was held by this CPU (trylock failed) */
    unsigned long interrupted_at[2];    /* per run: the task's instruction the interrupt came in before */
    /* the window between the two unlocks, seen by the task: */
    bool window_irqs_off;               /* IF=0 right after the first unlock */
    bool window_pending;                /* and the vector still waiting in the IRR */
    unsigned window_irqs;               /* handler runs by then */
    unsigned lockdep_reports_before;
} obs;

/*
 * The device's handler: it needs chain_b's data. A trylock, so that this
 * lab shows the overlap without hanging (with spin_lock() it would be the
 * selfdeadlock lab). IF=0 here: the interrupt gate cleared it (SDM 6.12.1).
 *
 * Where did it come in? regs->rip, the interrupted instruction: the one
 * after the sti that let it in (the sti's shadow instruction aside). Not
 * the irq-state trace's "last enabled at": if the timer was pending too,
 * its higher vector is delivered first (SDM 11.8.3), and its exit is the
 * last enable the trace saw.
 */
static void chain_interrupt(struct pt_regs *regs)
{
    unsigned n = obs.irqs;
    bool got = spin_trylock(&chain_b);

    if (n < 2) {
        obs.interrupted_at[n] = regs->rip;
        obs.b_held_by_me[n] = !got && chain_b.owner_cpu == (int)smp_processor_id();
    }
    b_events++;                         /* IRQs are off in the task whenever chain_b is held: no lock */
    if (got) {
        lab_event("handler: chain_b free; at %pS", (void *)regs->rip);
        spin_unlock(&chain_b);
    } else {
        lab_event("handler: chain_b held by the task! at %pS", (void *)regs->rip);
    }
    __atomic_store_n(&obs.irqs, n + 1, __ATOMIC_RELEASE);
    apic_eoi();
}

LAB_REMOVABLE(counted_irq, section_irq, "the device interrupts only for the warm-up, not inside the section");

/*
 * The device interrupts this CPU: delivered at once with IF=1, held in the
 * IRR with IF=0. With lab_remove=section_irq it stays quiet after the
 * warm-up, so nothing tests where IRQs came back on.
 */
static void device_raises_interrupt(void)
{
    if (obs.irqs >= 1 && lab_removed("section_irq"))
        return;
    apic_icr_write(APIC_DEST_SELF | APIC_DM_FIXED | COUNTED_IRQ_VECTOR, 0);
}

/*
 * Contract: the task's sections run with preemption held off, from here to
 * finish(). Why: the verdict names the instruction where the device
 * interrupt came in. If a tick became pending during an IRQ-off section, the
 * sti lets both in and the tick goes first (higher vector, SDM 11.8.3); were
 * the task preemptible there, the tick's exit would schedule and the device
 * interrupt would land in __schedule instead. With preemption off the tick
 * returns to the same instruction, and the device interrupt is delivered
 * right there (IF=1 again after the tick's iretq), so the site does not
 * depend on whether a tick happened to be pending.
 */
static void setup(void)
{
    preempt_disable();
    request_vector(COUNTED_IRQ_VECTOR, chain_interrupt, "counted_irq lab device");
    obs.lockdep_reports_before = lockdep_report_count;
    lab_event("task: warm-up: the device interrupts once, chain free");
    lab_wait_for("the device's warm-up interrupt");
    device_raises_interrupt();
    while (__atomic_load_n(&obs.irqs, __ATOMIC_ACQUIRE) < 1)
        cpu_relax();
    lab_wait_for("the device interrupt raised in the section, after the last unlock");
}

/* Called between the first unlock and the last (`state` says which lock is still held): is the window closed? */
static void window_in(const char *state)
{
    obs.window_irqs_off = irqs_disabled();
    obs.window_pending = apic_vector_pending(COUNTED_IRQ_VECTOR);
    obs.window_irqs = obs.irqs;
    lab_event("task: %s: IF=%d, vector %s", state, !obs.window_irqs_off,
              obs.window_irqs > 1 ? "already delivered" : obs.window_pending ? "pending in the IRR" : "not seen");
}

/* The hand-over-hand window: chain_a released, chain_b still held. */
static void window(void)
{
    window_in("chain_a unlocked, chain_b held");
}

/* After the last unlock: the interrupt must come in now, if it has not. */
static void finish(void)
{
    while (__atomic_load_n(&obs.irqs, __ATOMIC_ACQUIRE) < 2)
        cpu_relax();
    lab_event("task: chain_b unlocked; the interrupt has been handled");
    preempt_enable();
}

/*
 * REPRODUCED when the interrupt came in while chain_b was still held by
 * the task it interrupted: IRQs were on too early. The interrupted
 * instruction names the restore that let it in.
 */
static enum lab_verdict judge(struct lab_run *r, char *evidence, unsigned long size)
{
    unsigned reports = lockdep_report_count - obs.lockdep_reports_before;
    const char *lockdep = reports ? lockdep_report_name(lockdep_last_report) : "no report";

    (void)r;
    if (obs.irqs >= 2 && obs.b_held_by_me[1]) {
        ksnprintf(evidence, size, "IRQ came in with chain_b held, at %pS (chain_a's unlock); lockdep: %s",
                  (void *)obs.interrupted_at[1], lockdep);
        return LAB_REPRODUCED;
    }
    ksnprintf(evidence, size, "between the unlocks IF=%d, vector %s; IRQ came in after, at %pS; lockdep: %s",
              !obs.window_irqs_off, obs.window_pending ? "pending" : "not pending", (void *)obs.interrupted_at[1],
              lockdep);
    /* The claim of a variant that keeps IRQs off: between the unlocks IF was 0 while the device's
     * vector waited in the IRR. Without the vector pending there, nothing tested that claim. */
    if (!obs.window_irqs_off || !obs.window_pending)
        return LAB_INVALID;
    return LAB_NOT_REPRODUCED;
}

/* `make run LAB=counted_irq` with no VARIANT= provokes the failure. */
LAB_DEFAULT_VARIANT(counted_irq, irqsave_hand_over_hand);

LAB_VARIANT(counted_irq, irqsave_hand_over_hand, 1, LAB_REPRODUCED,
            "irqsave A, irqsave B, unlock A: A's flags turn IRQs on while B is held");

static void lab_counted_irq_irqsave_hand_over_hand_run(struct lab_run *r)
{
    unsigned long fa, fb;

    (void)r;
    setup();
    lab_event("task: spin_lock_irqsave(chain_a, fa); spin_lock_irqsave(chain_b, fb)");
    spin_lock_irqsave(&chain_a, fa);
    spin_lock_irqsave(&chain_b, fb);
    lab_event("task: fa says IF=%d, fb says IF=%d; the device interrupts now", !irqs_disabled_flags(fa),
              !irqs_disabled_flags(fb));
    device_raises_interrupt();
    spin_unlock_irqrestore(&chain_a, fa);
    window();
    spin_unlock_irqrestore(&chain_b, fb);
    finish();
}

static enum lab_verdict lab_counted_irq_irqsave_hand_over_hand_judge(struct lab_run *r, char *evidence,
                                                                     unsigned long size)
{
    return judge(r, evidence, size);
}

LAB_VARIANT(counted_irq, guard_irqsave, 1, LAB_REPRODUCED,
            "seed 001's guard example: scoped_guard(spinlock_irqsave, A) { irqsave B }: the same bug");

static void lab_counted_irq_guard_irqsave_run(struct lab_run *r)
{
    unsigned long fb;

    (void)r;
    setup();
    lab_event("task: scoped_guard(spinlock_irqsave, &chain_a) { irqsave(chain_b) }");
    scoped_guard(spinlock_irqsave, &chain_a) {
        spin_lock_irqsave(&chain_b, fb);
        device_raises_interrupt();
    }
    window();
    spin_unlock_irqrestore(&chain_b, fb);
    finish();
}

static enum lab_verdict lab_counted_irq_guard_irqsave_judge(struct lab_run *r, char *evidence, unsigned long size)
{
    return judge(r, evidence, size);
}

LAB_VARIANT(counted_irq, counted_hand_over_hand, 1, LAB_NOT_REPRODUCED,
            "spin_lock_irq_disable A, B; unlock A: the depth is still 1, IRQs stay off until B's unlock");

static void lab_counted_irq_counted_hand_over_hand_run(struct lab_run *r)
{
    (void)r;
    setup();
    lab_event("task: spin_lock_irq_disable(chain_a); spin_lock_irq_disable(chain_b)");
    spin_lock_irq_disable(&chain_a);
    spin_lock_irq_disable(&chain_b);
    lab_event("task: disable depth %u; the device interrupts now", hardirq_disable_count());
    device_raises_interrupt();
    spin_unlock_irq_enable(&chain_a);
    window();
    spin_unlock_irq_enable(&chain_b);
    finish();
}

static enum lab_verdict lab_counted_irq_counted_hand_over_hand_judge(struct lab_run *r, char *evidence,
                                                                     unsigned long size)
{
    return judge(r, evidence, size);
}

LAB_VARIANT(counted_irq, scoped, 1, LAB_NOT_REPRODUCED,
            "Bart's form: scoped_irq_disable around both; plain spin_lock inside; IRQ-off scopes nest");

static void lab_counted_irq_scoped_run(struct lab_run *r)
{
    (void)r;
    setup();
    lab_event("task: scoped_irq_disable { scoped_irq_disable { scoped_guard(A) { lock B } } ...");
    scoped_irq_disable {
        scoped_irq_disable {
            scoped_guard(spinlock, &chain_a) {
                spin_lock(&chain_b);
                device_raises_interrupt();
            }
        }
        window();
        spin_unlock(&chain_b);
    }
    finish();
}

static enum lab_verdict lab_counted_irq_scoped_judge(struct lab_run *r, char *evidence, unsigned long size)
{
    return judge(r, evidence, size);
}

/* ---------------------------------------------------------------- the race, and the two kinds mixed */

LAB_VARIANT(counted_irq, guard_irqsave_race, 1, LAB_REPRODUCED,
            "Bart's first example: after scoped_guard(irqsave, A) { irqsave B }, B is held with IRQs on: a lost update");

/*
 * Bart Van Assche's first example, then what the cover letter says it
 * causes: "accesses to interrupt-disable protect data will cause races".
 * After the guard's block, chain_b is held with IRQs on. The task does a
 * read-modify-write of b_events, which chain_b (IRQs off, it believes)
 * protects from this CPU's handler, and the device interrupts in the
 * middle of it, the worst moment, supplied on purpose. With IF=0 the
 * interrupt would wait in the IRR until the end; with IF=1 it comes in at
 * once, its handler adds 1, and the task's write overwrites that.
 */
static struct {
    unsigned long before, after;        /* b_events before the task's read, after its unlock */
    unsigned irqs_before, irqs_after;   /* handler runs then */
    bool if_in_rmw;                     /* IF while the task held chain_b, between its read and write */
    unsigned irqs_in_rmw;               /* handler runs between the task's read and write */
} race;

static void lab_counted_irq_guard_irqsave_race_run(struct lab_run *r)
{
    unsigned long fb, v;

    (void)r;
    setup();
    lab_event("task: scoped_guard(spinlock_irqsave, &chain_a) { irqsave(chain_b, fb) }");
    scoped_guard(spinlock_irqsave, &chain_a) {
        spin_lock_irqsave(&chain_b, fb);
    }
    race.before = b_events;
    race.irqs_before = obs.irqs;
    lab_event("task: chain_b held, b_events %lu: read, the device interrupts, write back + 1", race.before);
    v = __atomic_load_n(&b_events, __ATOMIC_RELAXED);
    race.if_in_rmw = !irqs_disabled();
    device_raises_interrupt();
    /* The handshake: with IF=1 the interrupt comes in here; with IF=0 it waits in the IRR (SDM 11.8.4). */
    if (race.if_in_rmw)
        lab_spin_until(__atomic_load_n(&obs.irqs, __ATOMIC_ACQUIRE) > race.irqs_before,
                       "the device interrupt, raised with IRQs on");
    else
        lab_spin_until(apic_vector_pending(COUNTED_IRQ_VECTOR), "the device's vector to be pending in the IRR");
    race.irqs_in_rmw = obs.irqs - race.irqs_before;
    __atomic_store_n(&b_events, v + 1, __ATOMIC_RELAXED);
    spin_unlock_irqrestore(&chain_b, fb);
    finish();
    race.after = b_events;
    race.irqs_after = obs.irqs;
    lab_event("task: b_events %lu -> %lu after %u handler run(s) and the task's + 1", race.before, race.after,
              race.irqs_after - race.irqs_before);
}

/*
 * REPRODUCED when, with chain_b held by the task, IF was 1 (measured
 * between its read and write), the interrupt came in right there and
 * found chain_b held by this CPU, and the count lost the handler's update
 * (it went up by 1 for two updates). NOT REPRODUCED when both updates
 * count and the interrupt came in after the unlock. Otherwise INVALID.
 */
static enum lab_verdict lab_counted_irq_guard_irqsave_race_judge(struct lab_run *r, char *evidence,
                                                                 unsigned long size)
{
    unsigned reports = lockdep_report_count - obs.lockdep_reports_before;
    const char *lockdep = reports ? lockdep_report_name(lockdep_last_report) : "no report";
    unsigned handler_runs = race.irqs_after - race.irqs_before;
    unsigned long gained = race.after - race.before;

    (void)r;
    if (race.if_in_rmw && race.irqs_in_rmw == 1 && obs.b_held_by_me[1] && handler_runs == 1 && gained == 1) {
        ksnprintf(evidence, size, "chain_b held with IF=1 after the guard; the IRQ came in at %pS, between the "
                  "task's read and write, found chain_b held, and its update of b_events was lost (%lu -> %lu); "
                  "lockdep: %s", (void *)obs.interrupted_at[1], race.before, race.after, lockdep);
        return LAB_REPRODUCED;
    }
    if (!race.if_in_rmw && race.irqs_in_rmw == 0 && handler_runs == 1 && gained == 2) {
        ksnprintf(evidence, size, "IF=0 while chain_b was held; the IRQ came in after the unlock and both updates "
                  "count (%lu -> %lu); lockdep: %s", race.before, race.after, lockdep);
        return LAB_NOT_REPRODUCED;
    }
    ksnprintf(evidence, size, "neither: IF=%d in the read-modify-write, %u IRQ(s) in it, chain_b held at the IRQ "
              "%s, b_events %lu -> %lu after %u handler run(s)", race.if_in_rmw, race.irqs_in_rmw,
              obs.b_held_by_me[1] ? "yes" : "no", race.before, race.after, handler_runs);
    return LAB_INVALID;
}

LAB_REMOVABLE(counted_irq, overlap, "the mixed variants release the inner lock first: the sections nest");

/*
 * The counted and the irqsave forms mixed, hand over hand: A taken with
 * one, B with the other, A released first. The counted depth counts only
 * counted sections, and irqsave's flags live in the caller's variable, so
 * neither knows the other's section is still open: whichever section
 * saved IF=1 (the first, A's) turns IRQs on at its end, with B held. With
 * lab_remove=overlap, B is released first: the sections nest, and either
 * order of the kinds keeps IRQs off until the last unlock
 * (kernel/irq_disable.h: "mixed ... in either nesting order").
 */
LAB_VARIANT(counted_irq, counted_outside_irqsave, 1, LAB_REPRODUCED,
            "spin_lock_irq_disable A, spin_lock_irqsave B, unlock A: the depth drops to 0, IRQs on with B held");

static void lab_counted_irq_counted_outside_irqsave_run(struct lab_run *r)
{
    unsigned long fb;

    (void)r;
    setup();
    lab_event("task: spin_lock_irq_disable(chain_a); spin_lock_irqsave(chain_b, fb)");
    spin_lock_irq_disable(&chain_a);
    spin_lock_irqsave(&chain_b, fb);
    lab_event("task: disable depth %u, fb says IF=%d; the device interrupts now", hardirq_disable_count(),
              !irqs_disabled_flags(fb));
    device_raises_interrupt();
    if (!lab_removed("overlap")) {
        spin_unlock_irq_enable(&chain_a);
        window();
        spin_unlock_irqrestore(&chain_b, fb);
    } else {
        spin_unlock_irqrestore(&chain_b, fb);
        window_in("chain_b unlocked, chain_a held");
        spin_unlock_irq_enable(&chain_a);
    }
    finish();
}

static enum lab_verdict lab_counted_irq_counted_outside_irqsave_judge(struct lab_run *r, char *evidence,
                                                                      unsigned long size)
{
    return judge(r, evidence, size);
}

LAB_VARIANT(counted_irq, irqsave_outside_counted, 1, LAB_REPRODUCED,
            "spin_lock_irqsave A, spin_lock_irq_disable B, unlock A: A's flags turn IRQs on with B held");

static void lab_counted_irq_irqsave_outside_counted_run(struct lab_run *r)
{
    unsigned long fa;

    (void)r;
    setup();
    lab_event("task: spin_lock_irqsave(chain_a, fa); spin_lock_irq_disable(chain_b)");
    spin_lock_irqsave(&chain_a, fa);
    spin_lock_irq_disable(&chain_b);
    lab_event("task: fa says IF=%d, disable depth %u; the device interrupts now", !irqs_disabled_flags(fa),
              hardirq_disable_count());
    device_raises_interrupt();
    if (!lab_removed("overlap")) {
        spin_unlock_irqrestore(&chain_a, fa);
        window();
        spin_unlock_irq_enable(&chain_b);
    } else {
        spin_unlock_irq_enable(&chain_b);
        window_in("chain_b unlocked, chain_a held");
        spin_unlock_irqrestore(&chain_a, fa);
    }
    finish();
}

static enum lab_verdict lab_counted_irq_irqsave_outside_counted_judge(struct lab_run *r, char *evidence,
                                                                      unsigned long size)
{
    return judge(r, evidence, size);
}

/* ---------------------------------------------------------------- the exercise */

/*
 * The student's walk (chain_walk.c, chain.h) over a chain of CHAIN_NODES
 * nodes, each lock its own lockdep class (hand over hand takes two at a
 * time). At every node chain_visit() checks the order and the locks, and
 * raises the device's interrupt: with IF=0 it waits in the IRR (SDM
 * 11.8.4) and comes in at the first sti, wherever that is; with IF=1 it
 * comes in at once. The handler trylocks every node and records whether
 * this CPU held one when it came in, and where (regs->rip). The walk runs
 * twice: called with IRQs on (the interrupt must come in after the last
 * unlock), then with IRQs off (it must still pend when the walk returns,
 * until the caller's restore). A warm-up interrupt first makes every node
 * lock HARDIRQ-safe for lockdep, as setup() does for chain_b.
 */
#define CHAIN_NODES 6
#define CHAIN_NODE(i, next_) { .lock = __SPIN_LOCK_UNLOCKED(chain[i].lock), .next = (next_), .value = 0 }

static struct chain_node chain[CHAIN_NODES] = {
    CHAIN_NODE(0, &chain[1]), CHAIN_NODE(1, &chain[2]), CHAIN_NODE(2, &chain[3]),
    CHAIN_NODE(3, &chain[4]), CHAIN_NODE(4, &chain[5]), CHAIN_NODE(5, NULL),
};

enum { WALK_IRQS_ON, WALK_IRQS_OFF, NR_WALKS };
static const char *const walk_name[NR_WALKS] = { "walk with IRQs on", "walk with IRQs off" };

static struct {
    int walk;                           /* the walk in progress; -1 before, between and after them */
    unsigned visits;                    /* chain_visit() calls in this walk */
    bool in_visit;                      /* chain_visit() is raising the interrupt */
    unsigned irqs;                      /* handler runs, the warm-up's included */
    struct {
        bool ran;
        bool if_before, if_after;       /* IF around the chain_walk() call */
        unsigned visits;
        unsigned irqs_during;           /* handler runs inside chain_walk() */
        unsigned irqs_by_restore;       /* ... and until the caller's IF was back (after its restore) */
        bool pending_after;             /* the vector still in the IRR when chain_walk() returned */
        int locked_after;               /* a node still locked then, or -1 */
    } w[NR_WALKS];
    /* The first of each kind of fault; walk -1: none. */
    struct { int walk, node; unsigned due; } order;             /* node visited where `due` was due */
    struct { int walk, node, missing; } nolock;                 /* visited without `missing`'s lock */
    struct { int walk, node; unsigned visits; bool in_visit; unsigned long ip; } held; /* IRQ came in, node held */
    struct { int walk, node; bool irqs_off, pending; } open;    /* a visit with IF=1 or nothing pending */
    unsigned lockdep_reports_before;
} ex = { .walk = -1, .order.walk = -1, .nolock.walk = -1, .held.walk = -1, .open.walk = -1 };

/* The node's index in chain[], or -1 if n is not one of them. */
static int node_index(struct chain_node *n)
{
    return n >= chain && n < chain + CHAIN_NODES ? (int)(n - chain) : -1;
}

static bool held_here(struct chain_node *n)
{
    return __atomic_load_n(&n->lock.owner_cpu, __ATOMIC_RELAXED) == (int)smp_processor_id();
}

/* The first node still locked, or -1. */
static int first_locked(void)
{
    for (int i = 0; i < CHAIN_NODES; i++)
        if (spin_is_locked(&chain[i].lock))
            return i;
    return -1;
}

/*
 * The device's handler (IF=0: the interrupt gate cleared it, SDM 6.12.1):
 * it uses every node's value. A trylock, never a spin: a node this CPU's
 * task holds would never be released. A failed trylock on a node this CPU
 * owns is the bug: the task let the interrupt in holding it.
 */
static void chain_exercise_interrupt(struct pt_regs *regs)
{
    int held = -1;

    for (int i = 0; i < CHAIN_NODES; i++) {
        if (spin_trylock(&chain[i].lock)) {
            chain[i].value++;
            spin_unlock(&chain[i].lock);
        } else if (held < 0 && held_here(&chain[i])) {
            held = i;
        }
    }
    if (held >= 0) {
        lab_event("handler: node %d held by the task it interrupted! at %pS", held, (void *)regs->rip);
        if (ex.held.walk < 0) {
            ex.held.node = held;
            ex.held.visits = ex.visits;
            ex.held.in_visit = ex.in_visit;
            ex.held.ip = regs->rip;
            ex.held.walk = ex.walk;
        }
    } else {
        lab_event("handler: every node free; at %pS", (void *)regs->rip);
    }
    __atomic_store_n(&ex.irqs, ex.irqs + 1, __ATOMIC_RELEASE);
    apic_eoi();
}

/* chain.h's contract: check order and locks, do the node's work, and raise the interrupt. */
void chain_visit(struct chain_node *n)
{
    int i = node_index(n);
    unsigned due = ex.visits++;

    if (i != (int)due && ex.order.walk < 0) {
        lab_event("task: chain_visit() got node %d, node %u was due", i, due);
        ex.order.node = i;
        ex.order.due = due;
        ex.order.walk = ex.walk;
    }
    if (i < 0)
        return;
    if ((!held_here(n) || (n->next && !held_here(n->next))) && ex.nolock.walk < 0) {
        ex.nolock.node = i;
        ex.nolock.missing = held_here(n) ? i + 1 : i;
        ex.nolock.walk = ex.walk;
        lab_event("task: node %d visited without node %d's lock held", i, ex.nolock.missing);
    }
    n->value++;

    bool irqs_off = irqs_disabled();
    ex.in_visit = true;
    device_raises_interrupt();
    bool pending = apic_vector_pending(COUNTED_IRQ_VECTOR);
    ex.in_visit = false;
    lab_event("task: visit node %d: IF=%d, vector %s", i, !irqs_off,
              pending ? "pending in the IRR" : "already delivered");
    if ((!irqs_off || !pending) && ex.open.walk < 0) {
        ex.open.node = i;
        ex.open.irqs_off = irqs_off;
        ex.open.pending = pending;
        ex.open.walk = ex.walk;
    }
}

/* One call of the student's chain_walk(), with IRQs off in the caller for WALK_IRQS_OFF. */
static void walk(int w)
{
    unsigned long flags = 0;
    unsigned irqs = ex.irqs;

    if (w == WALK_IRQS_OFF)
        local_irq_save(flags);
    lab_event("task: %s: chain_walk(head)", walk_name[w]);
    ex.w[w].ran = true;
    ex.w[w].if_before = !irqs_disabled();
    ex.walk = w;
    ex.visits = 0;
    chain_walk(&chain[0]);
    ex.w[w].if_after = !irqs_disabled();
    ex.w[w].pending_after = apic_vector_pending(COUNTED_IRQ_VECTOR);
    ex.w[w].irqs_during = ex.irqs - irqs;
    ex.w[w].visits = ex.visits;
    ex.w[w].locked_after = first_locked();
    ex.walk = -1;
    lab_event("task: chain_walk() returned: IF=%d (was %d), vector %s", ex.w[w].if_after, ex.w[w].if_before,
              ex.w[w].pending_after ? "pending in the IRR" : "not pending");
    /* Give this lab back the IF it had, so that a wrong walk cannot make ours warn. */
    if (ex.w[w].if_after != ex.w[w].if_before) {
        if (ex.w[w].if_before)
            local_irq_enable();
        else
            local_irq_disable();
    }
    if (w == WALK_IRQS_OFF)
        local_irq_restore(flags);       /* sti: a pending interrupt comes in here */
    ex.w[w].irqs_by_restore = ex.irqs - irqs;
}

LAB_VARIANT(counted_irq, exercise, 1, LAB_NOT_REPRODUCED,
            "the exercise: your hand-over-hand walk (chain_walk.c), called with IRQs on, then off");

static void lab_counted_irq_exercise_run(struct lab_run *r)
{
    (void)r;
    request_vector(COUNTED_IRQ_VECTOR, chain_exercise_interrupt, "counted_irq exercise device");
    ex.lockdep_reports_before = lockdep_report_count;
    lab_event("task: warm-up: the device interrupts once, chain free");
    device_raises_interrupt();
    while (__atomic_load_n(&ex.irqs, __ATOMIC_ACQUIRE) < 1)
        cpu_relax();
    walk(WALK_IRQS_ON);
    /* A node left locked would make the second walk spin on it forever. */
    if (ex.w[WALK_IRQS_ON].locked_after < 0)
        walk(WALK_IRQS_OFF);
}

/*
 * NOT REPRODUCED (your walk works) only if both walks visited every node
 * once, in order, holding its lock and the next one's; no interrupt came
 * in while this CPU held a node; every visit saw IF=0 and the interrupt
 * pending (the mechanism); the interrupt came in after the last unlock
 * with IRQs on, and only at the caller's restore with IRQs off; IF after
 * each walk as before it; every node unlocked; lockdep silent.
 * Otherwise REPRODUCED, with the first fault in these words.
 */
static enum lab_verdict lab_counted_irq_exercise_judge(struct lab_run *r, char *evidence, unsigned long size)
{
    unsigned reports = lockdep_report_count - ex.lockdep_reports_before;

    if (r->stopped_by) {
        ksnprintf(evidence, size, "the run hung in the %s: %s stopped it (a lock taken twice, or never released?)",
                  ex.walk >= 0 ? walk_name[ex.walk] : "lab", r->stopped_by);
        return LAB_REPRODUCED;
    }
    for (int w = 0; w < NR_WALKS; w++) {
        if (ex.w[w].ran && ex.w[w].locked_after >= 0) {
            ksnprintf(evidence, size, "%s: node %d was still locked when chain_walk() returned: unlock every node",
                      walk_name[w], ex.w[w].locked_after);
            return LAB_REPRODUCED;
        }
    }
    if (ex.order.walk >= 0) {
        ksnprintf(evidence, size, "%s: chain_visit() got node %d when node %u was due: visit every node once, "
                  "from head, in order", walk_name[ex.order.walk], ex.order.node, ex.order.due);
        return LAB_REPRODUCED;
    }
    for (int w = 0; w < NR_WALKS; w++) {
        if (ex.w[w].visits != CHAIN_NODES) {
            ksnprintf(evidence, size, "%s: %u of the %u nodes visited: call chain_visit() for every node",
                      walk_name[w], ex.w[w].visits, CHAIN_NODES);
            return LAB_REPRODUCED;
        }
    }
    if (ex.nolock.walk >= 0) {
        if (ex.nolock.missing == ex.nolock.node)
            ksnprintf(evidence, size, "%s: node %d visited without its own lock held", walk_name[ex.nolock.walk],
                      ex.nolock.node);
        else
            ksnprintf(evidence, size, "%s: node %d visited without the next node's lock held: take node %d's lock "
                      "before you visit node %d and unlock it", walk_name[ex.nolock.walk], ex.nolock.node,
                      ex.nolock.missing, ex.nolock.node);
        return LAB_REPRODUCED;
    }
    if (ex.held.walk >= 0 && ex.held.in_visit) {
        ksnprintf(evidence, size, "%s: the interrupt came in at once during node %u's visit (at %pS), node %d held: "
                  "IRQs were on; they must be off while you hold any node", walk_name[ex.held.walk],
                  ex.held.visits - 1, (void *)ex.held.ip, ex.held.node);
        return LAB_REPRODUCED;
    }
    if (ex.held.walk >= 0) {
        ksnprintf(evidence, size, "%s: the interrupt came in at %pS with node %d still held: IRQs came back on "
                  "between node %u's visit and node %d's unlock", walk_name[ex.held.walk], (void *)ex.held.ip,
                  ex.held.node, ex.held.visits - 1, ex.held.node);
        return LAB_REPRODUCED;
    }
    if (ex.open.walk >= 0) {
        ksnprintf(evidence, size, "%s: at node %d's visit IF=%d and the interrupt %s: IRQs must be off at every visit",
                  walk_name[ex.open.walk], ex.open.node, !ex.open.irqs_off,
                  ex.open.pending ? "pending" : "not pending");
        return LAB_REPRODUCED;
    }
    for (int w = 0; w < NR_WALKS; w++) {
        if (ex.w[w].if_after != ex.w[w].if_before) {
            ksnprintf(evidence, size, "%s: chain_walk() returned with IRQs %s: give the caller back the IF it had",
                      walk_name[w], ex.w[w].if_after ? "on" : "off");
            return LAB_REPRODUCED;
        }
    }
    if (reports) {
        ksnprintf(evidence, size, "lockdep: %s", lockdep_report_name(lockdep_last_report));
        return LAB_REPRODUCED;
    }
    if (!ex.w[WALK_IRQS_ON].irqs_during || ex.w[WALK_IRQS_ON].pending_after) {
        ksnprintf(evidence, size, "%s: the interrupt had not come in when chain_walk() returned",
                  walk_name[WALK_IRQS_ON]);
        return LAB_REPRODUCED;
    }
    if (ex.w[WALK_IRQS_OFF].irqs_during || !ex.w[WALK_IRQS_OFF].pending_after ||
        !ex.w[WALK_IRQS_OFF].irqs_by_restore) {
        ksnprintf(evidence, size, "%s: the interrupt came in %s, not at the caller's restore: IRQs were turned on",
                  walk_name[WALK_IRQS_OFF], ex.w[WALK_IRQS_OFF].irqs_during ? "inside chain_walk()" : "nowhere");
        return LAB_REPRODUCED;
    }
    ksnprintf(evidence, size, "both walks (called with IRQs on, then off) visited the %u nodes in order, hand over "
              "hand, IF=0 and the interrupt pending at every visit; it came in after the last unlock; IF as the "
              "caller had it; lockdep: no report", CHAIN_NODES);
    return LAB_NOT_REPRODUCED;
}
