/* labs/selfdeadlock/selfdeadlock.c: lab "selfdeadlock": a lock shared by a task and an interrupt handler on one CPU (seed 003). */
#include "kernel/lab.h"
#include "labs/selfdeadlock/mydev.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/irq.h"
#include "kernel/detector_stop.h"
#include "kernel/hardirq.h"
#include "kernel/irqflags.h"
#include "kernel/ksyms.h"
#include "kernel/lockdep.h"
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "kernel/spinlock.h"
#include "kernel/string.h"
#include "kernel/time.h"
#include "kernel/vsprintf.h"
#include "kernel/watchdog.h"

/*
 * A driver keeps its device's state under dev_lock. Two kinds of code use
 * it: the task that submits work (process context) and the device's
 * interrupt handler that completes it. Seed 003 asks which of them needs
 * spin_lock_irqsave(), and the answer is: the task.
 *
 * Why: an interrupt gate clears IF on entry (Intel SDM Vol. 3A 6.12.1), so
 * while the handler runs, nothing on this CPU can interrupt it and take
 * dev_lock. But the task runs with IF=1. If it holds dev_lock when the
 * device interrupts this same CPU, the handler spins on a lock whose owner
 * is the code it interrupted: that code cannot run again until the handler
 * returns, and the handler never returns. IF=0 keeps every interrupt out,
 * the timer's included; only an NMI still gets in (SDM 6.7.1). Another CPU
 * has to notice: the buddy hard-lockup detector (kernel/watchdog.h), so
 * the failing variants need 2 CPUs.
 *
 * The device is simulated by a self-IPI (SDM 11.6.1, destination
 * shorthand "self"), a real interrupt through the real entry path. Each
 * variant first lets the device interrupt once while dev_lock is free, as
 * a working driver would: that makes dev_lock HARDIRQ-safe for the lock
 * validator ({IN-HARDIRQ-W}). So when the task later takes it with IRQs
 * on, lockdep reports "inconsistent lock state" at that spin_lock(), before
 * the device has interrupted anything: the validator sees the bug without
 * needing the unlucky timing. The lab then supplies the unlucky timing, on
 * purpose, and the machine hangs for real.
 *
 *   plain_lock       task: spin_lock();           handler: spin_lock()   -> deadlock
 *   irqsave          task: spin_lock_irqsave();   handler: spin_lock()   -> fine
 *   handler_irqsave  task: spin_lock();           handler: spin_lock_irqsave() -> deadlock:
 *                    the irqsave is in the wrong place (in the handler IF
 *                    is already 0; it saves IF=0 and has nothing to turn off)
 *   irqsave_both     task: spin_lock_irqsave();   handler: spin_lock_irqsave() -> fine: "no
 *                    harm", at the measured cost of a save and a restore in the handler
 *   lock_irq_irqs_off task holds dev_lock (irqsave) and calls a helper that uses
 *                    spin_lock_irq()/spin_unlock_irq(): the unlock turns IRQs on
 *                    under dev_lock -> deadlock
 *   irqs_off_plain_lock task: local_irq_save(); spin_lock(); handler: spin_lock() -> fine
 *   other_cpu        task: spin_lock() on CPU 0;  handler on CPU 1: spin_lock() -> the
 *                    handler waits for the task; no deadlock (the danger is same-CPU only)
 */

#define SELFDEADLOCK_VECTOR 0x52        /* class 5: a level-triggered device: EOI after its handler */

static DEFINE_SPINLOCK(dev_lock);

/* The variant's choice, set before the first interrupt. */
static bool handler_uses_irqsave;

/*
 * Observations. The handler writes them with IF=0; the task and the judge
 * read them. Index 0 is the warm-up interrupt, index 1 the one that
 * arrives during (or, with irqsave, just after) the task's critical section.
 */
static struct {
    unsigned entered;               /* handler entries */
    unsigned handled;               /* handler exits: it got dev_lock and let it go */
    int owner_at_entry[2];          /* dev_lock.owner_cpu when the handler came in; -1 free */
    unsigned handler_cpu[2];        /* the CPU the handler ran on */
    unsigned long interrupted_ip[2];    /* regs->rip: the instruction the interrupt came in before */
    bool interrupted_if[2];         /* regs->rflags.IF: the interrupted code had IRQs on */
    unsigned long handler_flags[2]; /* what the handler's spin_lock_irqsave() saved */
    bool held_in_handler[2];        /* dev_lock.owner_cpu was this CPU inside the handler's section */
    bool if_after_restore[2];       /* IF right after the handler's spin_unlock_irqrestore() */
    bool task_had_unlocked[2];      /* other_cpu: the task's unlock had begun when the handler got dev_lock */
    uint64_t irqsave_cycles;        /* TSC cycles of one local_irq_save()+restore() pair in the handler */
    bool pending_while_held;        /* irqsave: the IRR bit was set while the task held dev_lock */
    bool contended_while_held;      /* other_cpu: the task saw spin_is_contended() while it held dev_lock */
    bool task_unlocking;            /* other_cpu: set by the task just before its spin_unlock() */
    bool caller_if_before;          /* lock_irq_irqs_off: IF when the caller called the helper */
    bool helper_returned;           /* ... the helper returned (not in the deadlocking run) */
    bool caller_if_after;           /* ... and IF after it */
    unsigned cpu;                   /* the lab's CPU (the judge may run on another) */
    unsigned lockdep_reports_before;
} obs;

#define IRQSAVE_PAIRS 64                /* save/restore pairs timed in the handler */

/*
 * What the handler's extra local_irq_save()/local_irq_restore() cost, in
 * TSC cycles per pair: IRQSAVE_PAIRS pairs, minus the same loop empty. In
 * hardirq IF is 0, so a pair is pushf; pop; cli, then a test of the saved
 * IF that finds it clear (x86's restore executes sti only for a saved IF=1,
 * never popf: arch/x86_64/irqflags.h), and no irq-state tracing (nothing
 * changes). Under DETERMINISTIC=1 the TSC follows the instruction count.
 */
static uint64_t time_irqsave_pair(void)
{
    uint64_t t0 = rdtsc(), t1, t2;

    for (unsigned i = 0; i < IRQSAVE_PAIRS; i++) {
        unsigned long f;

        local_irq_save(f);
        local_irq_restore(f);
    }
    t1 = rdtsc();
    for (unsigned i = 0; i < IRQSAVE_PAIRS; i++)
        __asm__ volatile("" ::: "memory");
    t2 = rdtsc();
    return (t1 - t0) > (t2 - t1) ? ((t1 - t0) - (t2 - t1)) / IRQSAVE_PAIRS : 0;
}

/* The device's interrupt handler: complete the work under dev_lock, then EOI, as Linux does for a level-triggered line. */
static void dev_interrupt(struct pt_regs *regs)
{
    unsigned n = obs.entered;
    int owner = __atomic_load_n(&dev_lock.owner_cpu, __ATOMIC_RELAXED);
    unsigned long flags = 0;

    if (n < 2) {
        obs.owner_at_entry[n] = owner;
        obs.handler_cpu[n] = smp_processor_id();
        obs.interrupted_ip[n] = regs->rip;
        obs.interrupted_if[n] = regs->rflags & X86_EFLAGS_IF;
    }
    __atomic_store_n(&obs.entered, n + 1, __ATOMIC_RELEASE);
    if (owner == (int)smp_processor_id())
        lab_event("handler: dev_lock is held by CPU%d, the task I interrupted; taking it", owner);
    else if (owner >= 0)
        lab_event("handler: dev_lock is held by CPU%d, another CPU; waiting for it", owner);
    else
        lab_event("handler: dev_lock is free; taking it");
    if (handler_uses_irqsave) {
        spin_lock_irqsave(&dev_lock, flags);
        if (n < 2)
            obs.handler_flags[n] = flags;
    } else {
        spin_lock(&dev_lock);
    }
    if (n < 2) {
        obs.held_in_handler[n] = __atomic_load_n(&dev_lock.owner_cpu, __ATOMIC_RELAXED) == (int)smp_processor_id();
        obs.task_had_unlocked[n] = __atomic_load_n(&obs.task_unlocking, __ATOMIC_ACQUIRE);
    }
    if (owner >= 0 && owner != (int)smp_processor_id())
        lab_event("handler: got dev_lock after CPU%d's unlock", owner);
    /* ... the device's completion work would go here ... */
    if (handler_uses_irqsave) {
        spin_unlock_irqrestore(&dev_lock, flags);
        if (n < 2)
            obs.if_after_restore[n] = !irqs_disabled();
        if (n == 1)
            obs.irqsave_cycles = time_irqsave_pair();
    } else {
        spin_unlock(&dev_lock);
    }
    lab_event("handler: done with dev_lock, EOI");
    __atomic_store_n(&obs.handled, obs.handled + 1, __ATOMIC_RELEASE);
    apic_eoi();
}

LAB_REMOVABLE(selfdeadlock, same_cpu, "the device interrupts CPU 1, not the CPU whose task takes dev_lock");

/*
 * The device interrupts this CPU: a self-IPI, pending in the IRR until IF=1
 * (SDM 11.8.4). With lab_remove=same_cpu it interrupts CPU 1 instead: the
 * same lock, taken by a task and a handler on two CPUs, which is no
 * deadlock (the handler waits for the task), so plain_lock must not be
 * REPRODUCED then.
 */
static void device_raises_interrupt(void)
{
    if (lab_removed("same_cpu"))
        apic_send_IPI(1, SELFDEADLOCK_VECTOR);
    else
        apic_icr_write(APIC_DEST_SELF | APIC_DM_FIXED | SELFDEADLOCK_VECTOR, 0);
}

static void wait_handled(unsigned n)
{
    while (__atomic_load_n(&obs.handled, __ATOMIC_ACQUIRE) < n)
        cpu_relax();
}

/*
 * Common set-up: the vector, a short watchdog threshold (so a hang is
 * reported within about 2.4 s), and the warm-up interrupt with dev_lock
 * free, which makes the class HARDIRQ-safe.
 */
static void setup(bool irqsave_in_handler)
{
    handler_uses_irqsave = irqsave_in_handler;
    obs.cpu = smp_processor_id();
    request_vector(SELFDEADLOCK_VECTOR, dev_interrupt, "selfdeadlock lab device");
    lab_short_watchdog_thresh(1);
    obs.lockdep_reports_before = lockdep_report_count;
    lab_event("task: the device interrupts once, dev_lock free (IF=1)");
    lab_wait_for("the warm-up interrupt's handler");
    device_raises_interrupt();
    wait_handled(1);
    lab_wait_for(NULL);
    lab_event("task: served; dev_lock is now HARDIRQ-safe for lockdep");
}

/*
 * Take dev_lock with plain spin_lock(), IRQs on, and let the device
 * interrupt while it is held. The handshake: the task does not go on
 * until the handler has come in (obs.entered). It never does go on.
 */
static void task_plain_lock_then_interrupt(void)
{
    unsigned reports = lockdep_report_count;

    lab_event("task: spin_lock(&dev_lock) with IRQs on");
    spin_lock(&dev_lock);
    if (lockdep_report_count != reports)
        lab_event("task: lockdep reported at that spin_lock(): %s", lockdep_report_name(lockdep_last_report));
    lab_event("task: holds dev_lock; the device interrupts this CPU now");
    lab_wait_for("the device's handler to return to the task that holds dev_lock (a hang detector would "
                 "have reported first)");
    device_raises_interrupt();
    while (__atomic_load_n(&obs.entered, __ATOMIC_ACQUIRE) < 2)
        cpu_relax();
    /* Reached only if the handler has returned, i.e. never in these variants. */
    spin_unlock(&dev_lock);
    lab_event("task: unlocked (the handler did not deadlock?)");
    wait_handled(2);
}

/* `make run LAB=selfdeadlock` with no VARIANT= provokes the failure. */
LAB_DEFAULT_VARIANT(selfdeadlock, plain_lock);

LAB_VARIANT(selfdeadlock, plain_lock, 2, LAB_REPRODUCED,
            "task takes dev_lock with spin_lock(), IRQs on; its IRQ handler takes it too: one CPU deadlocks");

static void lab_selfdeadlock_plain_lock_run(struct lab_run *r)
{
    (void)r;
    setup(false);
    task_plain_lock_then_interrupt();
}

/*
 * The deadlock, from the observations: the handler came in while dev_lock
 * was held by this CPU, never finished, and the hard-lockup detector
 * reported this CPU. Lockdep's report is evidence, not the criterion.
 */
static enum lab_verdict judge_deadlock(struct lab_run *r, char *evidence, unsigned long size)
{
    const struct detector_event *ev = detector_find_event("Hard LOCKUP", r->start_ns);
    unsigned reports = lockdep_report_count - obs.lockdep_reports_before;
    const char *lockdep = reports ? lockdep_report_name(lockdep_last_report) : "no report";

    if (ev)
        lab_event("judge: the Hard LOCKUP headline about CPU%u came from CPU%u at %lu ms", ev->cpu, ev->by_cpu,
                  (unsigned long)((ev->ns - r->start_ns) / 1000000));
    if (ev && ev->cpu == obs.cpu && obs.entered == 2 && obs.handled == 1 &&
        obs.owner_at_entry[1] == (int)obs.cpu) {
        ksnprintf(evidence, size, "Hard LOCKUP of CPU%u (by CPU%u): its handler spins on dev_lock, held by the "
                  "task it interrupted; lockdep: %s", ev->cpu, ev->by_cpu, lockdep);
        return LAB_REPRODUCED;
    }
    ksnprintf(evidence, size, "no self-deadlock: handler entries %u, completed %u, stopped by %s; lockdep: %s",
              obs.entered, obs.handled, r->stopped_by ? r->stopped_by : "nothing", lockdep);
    return LAB_NOT_REPRODUCED;
}

static enum lab_verdict lab_selfdeadlock_plain_lock_judge(struct lab_run *r, char *evidence, unsigned long size)
{
    return judge_deadlock(r, evidence, size);
}

/* The handshake of the variants that hold dev_lock with IF=0: the device's request is in the IRR, held back. */
static void wait_pending_while_held(void)
{
    lab_spin_until(apic_vector_pending(SELFDEADLOCK_VECTOR),
                   "the device's vector to be pending in this CPU's IRR while the task holds dev_lock");
    obs.pending_while_held = true;
    lab_event("task: vector %#x pending in the IRR, not delivered (IF=0)", SELFDEADLOCK_VECTOR);
}

LAB_VARIANT(selfdeadlock, irqsave, 1, LAB_NOT_REPRODUCED,
            "the fix: the task uses spin_lock_irqsave(); the interrupt waits in the IRR until the unlock");

static void lab_selfdeadlock_irqsave_run(struct lab_run *r)
{
    unsigned long flags;

    (void)r;
    setup(false);
    lab_event("task: spin_lock_irqsave(&dev_lock)");
    spin_lock_irqsave(&dev_lock, flags);
    lab_event("task: holds dev_lock, IF=0; the device interrupts this CPU now");
    device_raises_interrupt();
    wait_pending_while_held();
    spin_unlock_irqrestore(&dev_lock, flags);
    wait_handled(2);
    lab_event("task: after the unlock, the interrupt came in and the handler finished");
}

static enum lab_verdict lab_selfdeadlock_irqsave_judge(struct lab_run *r, char *evidence, unsigned long size)
{
    unsigned reports = lockdep_report_count - obs.lockdep_reports_before;

    if (!r->stopped_by && obs.pending_while_held && obs.handled == 2 && obs.owner_at_entry[1] == -1 &&
        reports == 0) {
        ksnprintf(evidence, size, "the interrupt was pending while dev_lock was held and came in after the "
                  "unlock, to a free lock; no detector fired, no lockdep report");
        return LAB_NOT_REPRODUCED;
    }
    if (r->stopped_by)
        return judge_deadlock(r, evidence, size);
    /* No deadlock, but the fix's claim did not hold either: say which part. */
    ksnprintf(evidence, size, "the fix's claim did not hold: vector pending while held %s, handler runs %u (2 "
              "expected), dev_lock %s at the second entry, %u lockdep report(s)", obs.pending_while_held ? "yes" : "no",
              obs.handled, obs.owner_at_entry[1] == -1 ? "free" : "held", reports);
    return LAB_INVALID;
}

LAB_VARIANT(selfdeadlock, handler_irqsave, 2, LAB_REPRODUCED,
            "the wrong fix: irqsave in the handler (IF is already 0 there), plain spin_lock() in the task");

static void lab_selfdeadlock_handler_irqsave_run(struct lab_run *r)
{
    (void)r;
    setup(true);
    lab_event("task: the handler's irqsave saved flags %#lx: IF=%d", obs.handler_flags[0],
              !irqs_disabled_flags(obs.handler_flags[0]));
    task_plain_lock_then_interrupt();
}

static enum lab_verdict lab_selfdeadlock_handler_irqsave_judge(struct lab_run *r, char *evidence, unsigned long size)
{
    enum lab_verdict v = judge_deadlock(r, evidence, size);
    unsigned long used = strlen(evidence);

    if (used < size)
        ksnprintf(evidence + used, size - used, "; handler's irqsave saved IF=%d",
                  !irqs_disabled_flags(obs.handler_flags[0]));
    return v;
}

/* ---------------------------------------------------------------- seed 003's other points */

LAB_VARIANT(selfdeadlock, irqsave_both, 1, LAB_NOT_REPRODUCED,
            "irqsave in the task and in the handler: no harm (the handler's saves IF=0), at a measured cost");

/*
 * The reply's "no harm in calling the irqsave/irqrestore version from both
 * contexts": the task's irqsave is the fix (the interrupt waits in the IRR
 * until the unlock); the handler's saves IF=0, holds the lock, and its
 * restore leaves IF=0. The handler also times what its irqsave adds.
 */
static void lab_selfdeadlock_irqsave_both_run(struct lab_run *r)
{
    unsigned long flags;

    (void)r;
    setup(true);
    lab_event("task: spin_lock_irqsave(&dev_lock); the handler uses spin_lock_irqsave() too");
    spin_lock_irqsave(&dev_lock, flags);
    device_raises_interrupt();
    wait_pending_while_held();
    spin_unlock_irqrestore(&dev_lock, flags);
    wait_handled(2);
    lab_event("task: the handler's irqsave saved flags %#lx: IF=%d", obs.handler_flags[1],
              !irqs_disabled_flags(obs.handler_flags[1]));
    lab_event("task: the handler %s dev_lock; IF=%d after its restore", obs.held_in_handler[1] ? "held" : "did not hold",
              obs.if_after_restore[1]);
    lab_event("task: the handler's save+restore: %lu TSC cycles, %lu ns", (unsigned long)obs.irqsave_cycles,
              (unsigned long)(obs.irqsave_cycles * 1000000 / (tsc_khz ? tsc_khz : 1)));
}

/*
 * NOT REPRODUCED ("no harm") when the task's irqsave kept the interrupt in
 * the IRR while it held dev_lock, and the handler then ran to the end with
 * its own irqsave: flags saved with IF=0, dev_lock held by its CPU inside,
 * IF still 0 after its restore; no detector, no lockdep report.
 */
static enum lab_verdict lab_selfdeadlock_irqsave_both_judge(struct lab_run *r, char *evidence, unsigned long size)
{
    unsigned reports = lockdep_report_count - obs.lockdep_reports_before;

    if (r->stopped_by)
        return judge_deadlock(r, evidence, size);
    if (obs.pending_while_held && obs.handled == 2 && obs.owner_at_entry[1] == -1 &&
        irqs_disabled_flags(obs.handler_flags[1]) && obs.held_in_handler[1] && !obs.if_after_restore[1] &&
        reports == 0) {
        ksnprintf(evidence, size, "no harm: the task's irqsave held the interrupt in the IRR; the handler's saved "
                  "IF=0 (flags %#lx), held dev_lock, and its restore left IF=0; cost: %lu TSC cycles per save and "
                  "restore", obs.handler_flags[1], (unsigned long)obs.irqsave_cycles);
        return LAB_NOT_REPRODUCED;
    }
    ksnprintf(evidence, size, "the claim did not hold: pending while held %s, handler runs %u (2 expected), saved "
              "IF=%d, held in handler %s, IF after its restore %d, %u lockdep report(s)",
              obs.pending_while_held ? "yes" : "no", obs.handled, !irqs_disabled_flags(obs.handler_flags[1]),
              obs.held_in_handler[1] ? "yes" : "no", obs.if_after_restore[1], reports);
    return LAB_INVALID;
}

LAB_VARIANT(selfdeadlock, irqs_off_plain_lock, 1, LAB_NOT_REPRODUCED,
            "the task turns IRQs off itself (local_irq_save), then a plain spin_lock(): as safe as irqsave");

/*
 * The reply's last case: plain spin_lock() "when your code has already
 * (separately) handled disabling interrupts". The same judge as irqsave:
 * the interrupt waits in the IRR while the lock is held.
 */
static void lab_selfdeadlock_irqs_off_plain_lock_run(struct lab_run *r)
{
    unsigned long flags;

    (void)r;
    setup(false);
    lab_event("task: local_irq_save(flags); spin_lock(&dev_lock)");
    local_irq_save(flags);
    spin_lock(&dev_lock);
    lab_event("task: holds dev_lock, IF=0; the device interrupts this CPU now");
    device_raises_interrupt();
    wait_pending_while_held();
    spin_unlock(&dev_lock);
    local_irq_restore(flags);
    wait_handled(2);
    lab_event("task: after local_irq_restore(), the interrupt came in and the handler finished");
}

static enum lab_verdict lab_selfdeadlock_irqs_off_plain_lock_judge(struct lab_run *r, char *evidence,
                                                                   unsigned long size)
{
    return lab_selfdeadlock_irqsave_judge(r, evidence, size);
}

static DEFINE_SPINLOCK(stats_lock);
static unsigned long dev_stats;

/*
 * A helper written for a caller with IRQs on: spin_lock_irq() turns them
 * off, spin_unlock_irq() turns them on, unconditionally (it cannot know
 * what the caller had: it saves nothing).
 */
static __attribute__((noinline)) void dev_stats_add(void)
{
    spin_lock_irq(&stats_lock);
    dev_stats++;
    spin_unlock_irq(&stats_lock);
}

LAB_REMOVABLE(selfdeadlock, caller_irqs_off,
              "the caller of the spin_lock_irq() helper holds no lock and has IRQs on (what the helper assumes)");

LAB_VARIANT(selfdeadlock, lock_irq_irqs_off, 2, LAB_REPRODUCED,
            "the task holds dev_lock (irqsave) and calls a spin_lock_irq() helper: its unlock turns IRQs on");

/*
 * The task holds dev_lock with IRQs off (irqsave, the fix) and the device's
 * interrupt waits in the IRR. It calls dev_stats_add(): the sti in
 * spin_unlock_irq() lets the interrupt in, on top of the task that still
 * holds dev_lock, and the handler spins on it. With lab_remove=caller_irqs_off
 * the caller has IRQs on and holds nothing: then spin_unlock_irq() is right.
 */
static void lab_selfdeadlock_lock_irq_irqs_off_run(struct lab_run *r)
{
    bool caller_irqs_off = !lab_removed("caller_irqs_off");
    unsigned long flags = 0;

    (void)r;
    setup(false);
    if (caller_irqs_off) {
        lab_event("task: spin_lock_irqsave(&dev_lock); the device interrupts now");
        spin_lock_irqsave(&dev_lock, flags);
        device_raises_interrupt();
        lab_spin_until(apic_vector_pending(SELFDEADLOCK_VECTOR),
                       "the device's vector to be pending in this CPU's IRR while the task holds dev_lock");
        lab_event("task: vector %#x pending in the IRR (IF=0)", SELFDEADLOCK_VECTOR);
    } else {
        lab_event("task: holds no lock, IRQs on; the device interrupts now");
        device_raises_interrupt();
        wait_handled(2);
    }
    obs.caller_if_before = !irqs_disabled();
    lab_event("task: calls dev_stats_add() with IF=%d; it uses spin_lock_irq()", obs.caller_if_before);
    lab_wait_for("the device's handler to return to the task that holds dev_lock (a hang detector would have "
                 "reported first)");
    dev_stats_add();
    obs.caller_if_after = !irqs_disabled();
    obs.helper_returned = true;
    lab_event("task: dev_stats_add() returned with IF=%d", obs.caller_if_after);
    if (caller_irqs_off)
        spin_unlock_irqrestore(&dev_lock, flags);
    wait_handled(2);
    lab_wait_for(NULL);
}

/*
 * REPRODUCED when the caller had IF=0, the device's interrupt then came in
 * with IF=1 inside spin_unlock_irq() (regs->rflags and regs->rip of the
 * interrupted code), with dev_lock held by this CPU, and the hard-lockup
 * detector reported this CPU. NOT REPRODUCED when the helper returned with
 * IF as the caller had it and every interrupt found dev_lock free.
 */
static enum lab_verdict lab_selfdeadlock_lock_irq_irqs_off_judge(struct lab_run *r, char *evidence,
                                                                 unsigned long size)
{
    const struct detector_event *ev = detector_find_event("Hard LOCKUP", r->start_ns);
    unsigned reports = lockdep_report_count - obs.lockdep_reports_before;
    const char *lockdep = reports ? lockdep_report_name(lockdep_last_report) : "no report";
    const struct ksym *at = ksym_lookup(obs.interrupted_ip[1], NULL);
    bool in_unlock_irq = at && strcmp(at->name, "spin_unlock_irq") == 0;

    if (!obs.caller_if_before && obs.entered == 2 && obs.interrupted_if[1] && in_unlock_irq &&
        obs.owner_at_entry[1] == (int)obs.cpu && obs.handled == 1 && ev && ev->cpu == obs.cpu) {
        ksnprintf(evidence, size, "the caller had IF=0; the interrupt came in with IF=1 at %pS, dev_lock held by "
                  "the task: Hard LOCKUP of CPU%u (by CPU%u); lockdep: %s", (void *)obs.interrupted_ip[1], ev->cpu,
                  ev->by_cpu, lockdep);
        return LAB_REPRODUCED;
    }
    if (!r->stopped_by && obs.helper_returned && obs.caller_if_after == obs.caller_if_before &&
        obs.handled == 2 && obs.owner_at_entry[1] == -1) {
        ksnprintf(evidence, size, "the caller had IF=%d and got IF=%d back from spin_unlock_irq(); the interrupt "
                  "found dev_lock free; lockdep: %s", obs.caller_if_before, obs.caller_if_after, lockdep);
        return LAB_NOT_REPRODUCED;
    }
    ksnprintf(evidence, size, "neither: caller IF %d -> %s, interrupt at %pS with IF=%d, dev_lock %s then, handler "
              "runs %u of %u, stopped by %s", obs.caller_if_before, obs.helper_returned ?
              (obs.caller_if_after ? "1" : "0") : "never returned", (void *)obs.interrupted_ip[1],
              obs.interrupted_if[1], obs.owner_at_entry[1] < 0 ? "free" : "held", obs.handled, obs.entered,
              r->stopped_by ? r->stopped_by : "nothing");
    return LAB_INVALID;
}

LAB_VARIANT(selfdeadlock, other_cpu, 2, LAB_NOT_REPRODUCED,
            "plain spin_lock() in the task on CPU 0, the handler on CPU 1: the handler waits, no deadlock");

/*
 * The same two spin_lock()s as plain_lock, but the device interrupts CPU 1.
 * The handshake: the task holds dev_lock until CPU 1's handler has taken a
 * ticket (spin_is_contended()), so the handler really spins, then unlocks.
 */
static void lab_selfdeadlock_other_cpu_run(struct lab_run *r)
{
    (void)r;
    setup(false);
    lab_event("task: spin_lock(&dev_lock) with IRQs on; the device interrupts CPU 1");
    spin_lock(&dev_lock);
    apic_send_IPI(1, SELFDEADLOCK_VECTOR);
    lab_spin_until(spin_is_contended(&dev_lock), "CPU 1's handler to wait for dev_lock (spin_is_contended())");
    obs.contended_while_held = obs.handled == 1;
    lab_event("task: dev_lock is contended: CPU 1's handler waits for it; unlocking");
    __atomic_store_n(&obs.task_unlocking, true, __ATOMIC_RELEASE);
    spin_unlock(&dev_lock);
    wait_handled(2);
    lab_event("task: CPU 1's handler got dev_lock and finished");
}

/*
 * NOT REPRODUCED when the handler ran on another CPU, came in while this
 * CPU's task held dev_lock, spun (the task saw the lock contended before
 * the handler finished), got the lock only after the task's unlock began,
 * and finished; no detector fired. Lockdep's report, if any, is quoted:
 * it is about this CPU's own interrupt, which never came.
 */
static enum lab_verdict lab_selfdeadlock_other_cpu_judge(struct lab_run *r, char *evidence, unsigned long size)
{
    unsigned reports = lockdep_report_count - obs.lockdep_reports_before;
    const char *lockdep = reports ? lockdep_report_name(lockdep_last_report) : "no report";

    if (r->stopped_by)
        return judge_deadlock(r, evidence, size);
    if (obs.handled == 2 && obs.handler_cpu[1] != obs.cpu && obs.owner_at_entry[1] == (int)obs.cpu &&
        obs.contended_while_held && obs.task_had_unlocked[1]) {
        ksnprintf(evidence, size, "CPU%u's handler came in while CPU%u's task held dev_lock, spun until the task "
                  "unlocked, then got it and finished; lockdep: %s", obs.handler_cpu[1], obs.cpu, lockdep);
        return LAB_NOT_REPRODUCED;
    }
    ksnprintf(evidence, size, "the handler did not wait on another CPU: ran on CPU%u, dev_lock owner at entry %d, "
              "contended while held %s, got it after the unlock %s, runs %u", obs.handler_cpu[1],
              obs.owner_at_entry[1], obs.contended_while_held ? "yes" : "no", obs.task_had_unlocked[1] ? "yes" : "no",
              obs.handled);
    return LAB_INVALID;
}

/* ---------------------------------------------------------------- the exercise */

/*
 * The student's driver (mydev.c, mydev.h) under an interrupt storm on two
 * CPUs. Each CPU submits EXERCISE_REQS requests to the same device, every
 * other one with IRQs off in the caller; every submit rings the doorbell,
 * so the device interrupts the submitting CPU while the driver holds its
 * lock. After each submit the submitter waits (a handshake, no delay)
 * until its CPU's handler has run for every doorbell it rang. The lab's
 * side of the device checks, as it is called, that d->lock is held by
 * this CPU, and records what the student's code did with IF.
 */
#define EXERCISE_REQS 100

static struct mydev mydev;

static struct {
    unsigned long doorbells[NR_CPUS];       /* rung on this CPU */
    unsigned long handled[NR_CPUS];         /* handler runs on this CPU, finished */
    unsigned long doorbell_irqs_on;         /* rung with IF=1: the interrupt came in at once */
    unsigned long unlocked_calls;           /* device called without d->lock held by this CPU */
    unsigned long unlocked_ip;              /* ... the first such caller */
    unsigned long if_changed;               /* mydev_submit() returned with IF other than it found */
    bool if_changed_on;                     /* ... the first one turned IRQs on */
    unsigned long refused;                  /* mydev_submit() returned false */
    unsigned long accepted;
    unsigned posted[2 * EXERCISE_REQS];     /* requests, in the order the doorbells saw them */
    unsigned long nr_posted, hw_done;
    unsigned long completed, wrong_completion;
    int interrupted_holder;                 /* a handler came in on the CPU holding d->lock: that CPU */
    unsigned long interrupted_ip;           /* ... and the instruction it interrupted */
    bool ready[NR_CPUS], finished[NR_CPUS];
    unsigned lockdep_reports_before;
} ex = { .interrupted_holder = -1 };

/* Is d->lock held by this CPU? Otherwise count it against the caller. */
static bool held_here(struct mydev *d, unsigned long caller)
{
    if (__atomic_load_n(&d->lock.owner_cpu, __ATOMIC_RELAXED) == (int)smp_processor_id())
        return true;
    if (__atomic_fetch_add(&ex.unlocked_calls, 1, __ATOMIC_RELAXED) == 0) {
        ex.unlocked_ip = caller;
        lab_event("device: called from %pS without d->lock held", (void *)caller);
    }
    return false;
}

void mydev_ring_doorbell(struct mydev *d)
{
    unsigned cpu = smp_processor_id();

    if (held_here(d, _RET_IP_)) {
        while (ex.nr_posted < d->head && ex.nr_posted < 2 * EXERCISE_REQS) {
            ex.posted[ex.nr_posted] = d->ring[ex.nr_posted % MYDEV_RING];
            ex.nr_posted++;
        }
        ex.hw_done = d->head;
    }
    if (!irqs_disabled() && __atomic_fetch_add(&ex.doorbell_irqs_on, 1, __ATOMIC_RELAXED) == 0)
        lab_event("device: doorbell rung with IRQs on, lock held: the interrupt comes in now");
    ex.doorbells[cpu]++;
    device_raises_interrupt();
}

unsigned long mydev_hw_done(struct mydev *d)
{
    (void)d;
    return ex.hw_done;
}

void mydev_complete(struct mydev *d, unsigned req)
{
    if (!held_here(d, _RET_IP_))
        return;
    if (ex.completed >= ex.nr_posted || ex.posted[ex.completed] != req) {
        if (!ex.wrong_completion++)
            lab_event("device: completion of %u, expected %u", req,
                      ex.completed < ex.nr_posted ? ex.posted[ex.completed] : ~0U);
    }
    ex.completed++;
}

/* The device's vector: note whom it interrupted, then the student's handler, then EOI. */
static void mydev_irq_handler(struct pt_regs *regs)
{
    unsigned cpu = smp_processor_id();

    if (__atomic_load_n(&mydev.lock.owner_cpu, __ATOMIC_RELAXED) == (int)cpu && ex.interrupted_holder < 0) {
        ex.interrupted_ip = regs->rip;
        __atomic_store_n(&ex.interrupted_holder, (int)cpu, __ATOMIC_RELEASE);
        lab_event("handler: came in on the CPU holding d->lock, at %pS", (void *)regs->rip);
    }
    mydev_interrupt(&mydev);
    apic_eoi();
    __atomic_store_n(&ex.handled[cpu], ex.handled[cpu] + 1, __ATOMIC_RELEASE);
}

/* One CPU's submitter: every other request with IRQs off in the caller. */
static int exercise_submitter(void *arg)
{
    unsigned cpu = smp_processor_id(), other = !cpu;

    (void)arg;
    __atomic_store_n(&ex.ready[cpu], true, __ATOMIC_RELEASE);
    while (!__atomic_load_n(&ex.ready[other], __ATOMIC_ACQUIRE))
        cpu_relax();
    for (unsigned i = 0; i < EXERCISE_REQS; i++) {
        unsigned long flags = 0;
        bool irqs_off = i & 1;

        if (irqs_off)
            local_irq_save(flags);
        bool before = irqs_disabled();
        bool ok = mydev_submit(&mydev, cpu * 1000 + i);
        bool after = irqs_disabled();
        if (before != after && __atomic_fetch_add(&ex.if_changed, 1, __ATOMIC_RELAXED) == 0) {
            ex.if_changed_on = !after;
            lab_event("task: mydev_submit() was called with IRQs %s and returned with them %s",
                      before ? "off" : "on", after ? "off" : "on");
        }
        if (irqs_off)
            local_irq_restore(flags);
        __atomic_fetch_add(ok ? &ex.accepted : &ex.refused, 1, __ATOMIC_RELAXED);
        /* The handshake: this CPU's handler has run for every doorbell it rang (IRQs are on now). */
        while (__atomic_load_n(&ex.handled[cpu], __ATOMIC_ACQUIRE) < ex.doorbells[cpu])
            cpu_relax();
    }
    __atomic_store_n(&ex.finished[cpu], true, __ATOMIC_RELEASE);
    return 0;
}

LAB_VARIANT(selfdeadlock, exercise, 2, LAB_NOT_REPRODUCED,
            "the exercise: your driver (mydev.c) under an interrupt storm on two CPUs");

static void lab_selfdeadlock_exercise_run(struct lab_run *r)
{
    (void)r;
    spin_lock_init(&mydev.lock);
    request_vector(SELFDEADLOCK_VECTOR, mydev_irq_handler, "mydev");
    lab_short_watchdog_thresh(1);
    ex.lockdep_reports_before = lockdep_report_count;
    lab_event("task: CPU 0 and CPU 1 each submit %u requests, every other one with IRQs off", EXERCISE_REQS);
    if (!kthread_run_on_cpu(exercise_submitter, NULL, 1, "mydev_submit/%u"))
        panic("selfdeadlock: cannot start CPU 1's submitter");
    exercise_submitter(NULL);
    while (!__atomic_load_n(&ex.finished[1], __ATOMIC_ACQUIRE))
        cpu_relax();
    lab_event("task: both CPUs done: %lu accepted, %lu completed", ex.accepted, ex.completed);
}

/*
 * NOT REPRODUCED (your driver works) only if every request was accepted
 * and completed once, in order; the device was only ever called with
 * d->lock held; every doorbell rang with IRQs off (so every interrupt
 * waited in the IRR for the unlock: the mechanism that prevents the
 * deadlock); mydev_submit() left IF as it found it; lockdep said nothing.
 * Otherwise REPRODUCED, with the first thing that went wrong.
 */
static enum lab_verdict lab_selfdeadlock_exercise_judge(struct lab_run *r, char *evidence, unsigned long size)
{
    unsigned reports = lockdep_report_count - ex.lockdep_reports_before;
    unsigned long doorbells = ex.doorbells[0] + ex.doorbells[1];

    if (ex.interrupted_holder >= 0)
        ksnprintf(evidence, size, "the device interrupted CPU%d while it held d->lock (at %pS)%s: IRQs must be off "
                  "while the task holds the lock", ex.interrupted_holder, (void *)ex.interrupted_ip,
                  r->stopped_by ? "; its handler spun on the lock until the watchdog stopped the run" : "");
    else if (r->stopped_by)
        ksnprintf(evidence, size, "the run hung: %s stopped it (is d->lock released on every path?)", r->stopped_by);
    else if (ex.unlocked_calls)
        ksnprintf(evidence, size, "the device was called %lu times without d->lock held, first from %pS",
                  ex.unlocked_calls, (void *)ex.unlocked_ip);
    else if (ex.if_changed)
        ksnprintf(evidence, size, "mydev_submit() changed the caller's IF %lu times (first: turned IRQs %s): restore "
                  "what the caller had", ex.if_changed, ex.if_changed_on ? "on" : "off");
    else if (ex.refused || ex.accepted != 2 * EXERCISE_REQS)
        ksnprintf(evidence, size, "mydev_submit() accepted %lu of %u requests (the ring never holds more than 2)",
                  ex.accepted, 2 * EXERCISE_REQS);
    else if (ex.completed != ex.accepted || ex.wrong_completion)
        ksnprintf(evidence, size, "%lu of %lu requests completed, %lu out of order or unknown", ex.completed,
                  ex.accepted, ex.wrong_completion);
    else if (reports)
        ksnprintf(evidence, size, "lockdep: %s", lockdep_report_name(lockdep_last_report));
    else if (ex.doorbell_irqs_on || !doorbells)
        ksnprintf(evidence, size, "%lu of %lu doorbells rang with IRQs on", ex.doorbell_irqs_on, doorbells);
    else {
        ksnprintf(evidence, size, "%lu requests on 2 CPUs, each completed once in order; all %lu doorbells rang "
                  "with the lock held and IRQs off, their interrupts came in after the unlock", ex.completed,
                  doorbells);
        return LAB_NOT_REPRODUCED;
    }
    return LAB_REPRODUCED;
}
