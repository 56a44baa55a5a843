/* labs/selfdeadlock/selfdeadlock.c: lab "selfdeadlock": a lock shared by a task and an interrupt handler on one CPU (seed 003). */
#include "kernel/lab.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/irq.h"
#include "kernel/detector_stop.h"
#include "kernel/hardirq.h"
#include "kernel/irqflags.h"
#include "kernel/lockdep.h"
#include "kernel/printk.h"
#include "kernel/spinlock.h"
#include "kernel/string.h"
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
 */

#define SELFDEADLOCK_VECTOR 0x52        /* class 5: a device interrupt; EOI after its handler */

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
    unsigned long handler_flags[2]; /* what the handler's spin_lock_irqsave() saved */
    bool pending_while_held;        /* irqsave: the IRR bit was set while the task held dev_lock */
    unsigned cpu;                   /* the lab's CPU (the judge may run on another) */
    unsigned lockdep_reports_before;
} obs;

/* The device's interrupt handler: complete the work under dev_lock, then EOI, as a device driver does. */
static void dev_interrupt(struct pt_regs *regs)
{
    unsigned n = obs.entered;
    int owner = __atomic_load_n(&dev_lock.owner_cpu, __ATOMIC_RELAXED);
    unsigned long flags = 0;

    (void)regs;
    if (n < 2)
        obs.owner_at_entry[n] = owner;
    __atomic_store_n(&obs.entered, n + 1, __ATOMIC_RELEASE);
    if (owner == (int)smp_processor_id())
        lab_event("handler: dev_lock is held by CPU%d, the task I interrupted; taking it", owner);
    else
        lab_event("handler: dev_lock is free; taking it");
    if (handler_uses_irqsave) {
        spin_lock_irqsave(&dev_lock, flags);
        if (n < 2)
            obs.handler_flags[n] = flags;
    } else {
        spin_lock(&dev_lock);
    }
    /* ... the device's completion work would go here ... */
    if (handler_uses_irqsave)
        spin_unlock_irqrestore(&dev_lock, flags);
    else
        spin_unlock(&dev_lock);
    lab_event("handler: done with dev_lock, EOI");
    __atomic_store_n(&obs.handled, obs.handled + 1, __ATOMIC_RELEASE);
    apic_eoi();
}

/* The device interrupts this CPU: a self-IPI, pending in the IRR until IF=1 (SDM 11.8.4). */
static void device_raises_interrupt(void)
{
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
    if (watchdog_set_thresh(1))
        printk("lab: watchdog_thresh=1 for this run: a hard lockup is reported 0.8-2.4 s after it begins\n");
    obs.lockdep_reports_before = lockdep_report_count;
    lab_event("task: the device interrupts once, dev_lock free (IF=1)");
    device_raises_interrupt();
    wait_handled(1);
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
    /* The handshake: the request is in the IRR, held back by IF=0. */
    while (!apic_vector_pending(SELFDEADLOCK_VECTOR))
        cpu_relax();
    obs.pending_while_held = true;
    lab_event("task: vector %#x pending in the IRR, not delivered (IF=0)", SELFDEADLOCK_VECTOR);
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
    return judge_deadlock(r, evidence, size);
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
