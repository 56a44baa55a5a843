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

#define COUNTED_IRQ_VECTOR 0x54         /* class 5: a device interrupt; EOI after its handler */

static DEFINE_SPINLOCK(chain_a);
static DEFINE_SPINLOCK(chain_b);

static struct {
    unsigned irqs;                      /* handler runs */
    bool b_held_by_me[2];               /* per run: chain_b was held by this CPU (trylock failed) */
    unsigned long interrupted_at[2];    /* per run: the task's instruction the interrupt came in before */
    /* the window between the two unlocks, seen by the task: */
    bool window_irqs_off;               /* IF=0 right after chain_a's unlock */
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
    if (got) {
        lab_event("handler: chain_b free; at %pS", (void *)regs->rip);
        spin_unlock(&chain_b);
    } else {
        lab_event("handler: chain_b held by the task! at %pS", (void *)regs->rip);
    }
    __atomic_store_n(&obs.irqs, n + 1, __ATOMIC_RELEASE);
    apic_eoi();
}

/* The device interrupts this CPU: delivered at once with IF=1, held in the IRR with IF=0. */
static void device_raises_interrupt(void)
{
    apic_icr_write(APIC_DEST_SELF | APIC_DM_FIXED | COUNTED_IRQ_VECTOR, 0);
}

static void setup(void)
{
    request_vector(COUNTED_IRQ_VECTOR, chain_interrupt, "counted_irq lab device");
    obs.lockdep_reports_before = lockdep_report_count;
    lab_event("task: warm-up: the device interrupts once, chain free");
    device_raises_interrupt();
    while (__atomic_load_n(&obs.irqs, __ATOMIC_ACQUIRE) < 1)
        cpu_relax();
}

/* Called between the unlock of chain_a and the unlock of chain_b: is the window closed? */
static void window(void)
{
    obs.window_irqs_off = irqs_disabled();
    obs.window_pending = apic_vector_pending(COUNTED_IRQ_VECTOR);
    obs.window_irqs = obs.irqs;
    lab_event("task: chain_a unlocked, chain_b held: IF=%d, vector %s", !obs.window_irqs_off,
              obs.window_irqs > 1 ? "already delivered" : obs.window_pending ? "pending in the IRR" : "not seen");
}

/* After the last unlock: the interrupt must come in now, if it has not. */
static void finish(void)
{
    while (__atomic_load_n(&obs.irqs, __ATOMIC_ACQUIRE) < 2)
        cpu_relax();
    lab_event("task: chain_b unlocked; the interrupt has been handled");
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
