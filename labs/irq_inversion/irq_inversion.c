/* labs/irq_inversion/irq_inversion.c: lab "irq_inversion": what makes a lock HARDIRQ-safe for lockdep, and the inversion that follows (seed 002). */
#include "kernel/lab.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/irq.h"
#include "kernel/detector_stop.h"
#include "kernel/hardirq.h"
#include "kernel/irqflags.h"
#include "kernel/lockdep.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "kernel/spinlock.h"
#include "kernel/vsprintf.h"
#include "kernel/watchdog.h"

/*
 * Seed 002, in irqlab's terms. The per-CPU allocator keeps its area map
 * under pcpu_lock. When the map is full it grows it, and growing maps memory,
 * which takes vmap_lock, the mapping code's lock: the dependency
 * pcpu_lock -> vmap_lock. The mapping code takes vmap_lock with IRQs on
 * everywhere else: vmap_lock is HARDIRQ-unsafe ({HARDIRQ-ON-W}).
 *
 * The allocator takes pcpu_lock with spin_lock_irqsave(). That alone does
 * NOT make pcpu_lock HARDIRQ-safe. "Safe" in lockdep's sense means "used
 * inside a hardirq handler" ({IN-HARDIRQ-W}): only then can an interrupt
 * want it while someone holds it. A lock merely taken with IRQs off could
 * be taken by anyone with IRQs on as well; if lockdep counted IRQs-off
 * acquisitions as irq usage, every lock touched in early boot (IRQs off
 * throughout) would look irq-safe, and every later ordinary use would be a
 * false report. Ingo's words in the thread: "taking a lock with irqs
 * disabled does _NOT_ mark a lock as 'irq safe'".
 *
 * Then someone frees per-CPU memory from an interrupt handler (the thread's
 * pcpu_free() path). Now pcpu_lock IS HARDIRQ-safe, and the old dependency
 * pcpu_lock -> vmap_lock connects a lock an interrupt may want to a lock
 * that is held with IRQs on. The deadlock it allows needs two CPUs:
 *
 *     CPU X                         CPU Y
 *     spin_lock(vmap_lock)  IRQs on
 *                                   spin_lock_irqsave(pcpu_lock)
 *                                   spin_lock(vmap_lock)      waits for X
 *     <interrupt>
 *       spin_lock(pcpu_lock)        waits for Y
 *
 * Lockdep reports it from the class rules alone, on one CPU, without the
 * timing. Which headline depends on which fact came last:
 *   - the dependency existed and pcpu_lock becomes HARDIRQ-safe (taken_in_irq):
 *       "possible irq lock inversion dependency detected" (mark_lock()
 *       searches forwards from the newly safe lock for an unsafe one);
 *   - pcpu_lock was already HARDIRQ-safe when the dependency is first made
 *     (irq_first): "HARDIRQ-safe -> HARDIRQ-unsafe lock order detected"
 *       (check_prev_add() checks the new edge).
 * The two fixes from the thread: make vmap_lock irq-safe too (always taken
 * with IRQs off), or drop pcpu_lock before growing the map ("the
 * unlock-lock dancing"). The deadlock variant turns lockdep off and lets
 * two CPUs really do it; a third CPU's watchdog reports the hang.
 */

#define IRQ_INVERSION_VECTOR 0x53       /* class 5: a device interrupt; EOI after its handler */

static DEFINE_SPINLOCK(pcpu_lock);
static DEFINE_SPINLOCK(vmap_lock);

/* What the variant does differently. */
static struct {
    bool vmap_irqsave;          /* fix: vmap_lock always taken with IRQs off */
    bool unlock_first;          /* fix: drop pcpu_lock before taking vmap_lock */
} cfg;

static struct {
    unsigned irqs;              /* frees done from the interrupt handler */
    unsigned lockdep_reports_before;
    /* the deadlock variant: */
    unsigned cpu_x, cpu_y;
    int x_holds_vmap, y_holds_pcpu;     /* handshake flags */
    int handler_entered;
    int pcpu_owner_at_irq;      /* pcpu_lock.owner_cpu when X's handler came in */
    int vmap_owner_at_wait;     /* vmap_lock.owner_cpu when Y started waiting for it */
} obs;

/* ---------------------------------------------------------------- the code under test */

/* Map memory: the mapping code's own use of vmap_lock, IRQs on (HARDIRQ-unsafe) unless the fix says otherwise. */
static void vmap_area(void)
{
    unsigned long flags;

    if (cfg.vmap_irqsave) {
        spin_lock_irqsave(&vmap_lock, flags);
        spin_unlock_irqrestore(&vmap_lock, flags);
    } else {
        spin_lock(&vmap_lock);
        spin_unlock(&vmap_lock);
    }
}

/* Allocate, and grow the area map, under pcpu_lock: needs vmap_lock inside it (pcpu_lock -> vmap_lock). */
static void pcpu_alloc_and_grow(void)
{
    unsigned long flags;

    spin_lock_irqsave(&pcpu_lock, flags);
    if (cfg.unlock_first) {
        /* Tejun's stop-gap: give up pcpu_lock around the mapping, take it back, re-check. */
        spin_unlock_irqrestore(&pcpu_lock, flags);
        vmap_area();
        spin_lock_irqsave(&pcpu_lock, flags);
    } else {
        vmap_area();
    }
    spin_unlock_irqrestore(&pcpu_lock, flags);
}

/* The device's interrupt handler frees per-CPU memory: pcpu_lock in hardirq makes it HARDIRQ-safe. */
static void pcpu_free_interrupt(struct pt_regs *regs)
{
    (void)regs;
    lab_event("handler: pcpu_free() takes pcpu_lock in hardirq context");
    spin_lock(&pcpu_lock);
    spin_unlock(&pcpu_lock);
    __atomic_store_n(&obs.irqs, obs.irqs + 1, __ATOMIC_RELEASE);
    apic_eoi();
}

/* A real interrupt on this CPU (self-IPI, SDM Vol. 3A 11.6.1), waited for: it comes in at once, IF=1. */
static void free_from_interrupt(void)
{
    unsigned n = obs.irqs;

    apic_icr_write(APIC_DEST_SELF | APIC_DM_FIXED | IRQ_INVERSION_VECTOR, 0);
    while (__atomic_load_n(&obs.irqs, __ATOMIC_ACQUIRE) == n)
        cpu_relax();
}

/* ---------------------------------------------------------------- observing lockdep */

/* Both locks' usage as lockdep prints it: "{IN-HARDIRQ-W}", "{HARDIRQ-ON-W}", both, or "{}". */
struct usage {
    char pcpu[32], vmap[32];
};

static struct usage usage_now(void)
{
    struct usage u;

    lockdep_usage_string(&pcpu_lock.dep_map, u.pcpu, sizeof u.pcpu);
    lockdep_usage_string(&vmap_lock.dep_map, u.vmap, sizeof u.vmap);
    return u;
}

static bool has_dependency(spinlock_t *from, spinlock_t *to)
{
    return lockdep_has_dependency(&from->dep_map, &to->dep_map);
}

static void step(const char *what, void (*fn)(void))
{
    unsigned before = lockdep_report_count;

    lab_event("task: %s", what);
    fn();
    if (lockdep_report_count != before)
        lab_event("task: ... lockdep reported: %s", lockdep_report_name(lockdep_last_report));
}

static void show_state(void)
{
    struct usage u = usage_now();

    lab_event("state: pcpu_lock %s, vmap_lock %s; pcpu->vmap %s", u.pcpu, u.vmap, has_dependency(&pcpu_lock, &vmap_lock) ? "recorded" : "none");
}

static void setup(vector_handler_t handler)
{
    request_vector(IRQ_INVERSION_VECTOR, handler, "irq_inversion lab device");
    obs.lockdep_reports_before = lockdep_report_count;
}

/*
 * The verdict is lockdep's, read from lockdep_last_report and
 * lockdep_report_count (never from the printed text): REPRODUCED when it
 * reported one of the two irq-inversion kinds during the run.
 */
static enum lab_verdict judge_lockdep(struct lab_run *r, char *evidence, unsigned long size)
{
    unsigned reports = lockdep_report_count - obs.lockdep_reports_before;
    enum lockdep_report last = lockdep_last_report;
    struct usage u = usage_now();

    (void)r;
    if (reports && (last == LOCKDEP_IRQ_INVERSION || last == LOCKDEP_SAFE_TO_UNSAFE)) {
        ksnprintf(evidence, size, "lockdep: %s (%u report%s); pcpu_lock %s, vmap_lock %s",
                  lockdep_report_name(last), reports, reports == 1 ? "" : "s", u.pcpu, u.vmap);
        return LAB_REPRODUCED;
    }
    ksnprintf(evidence, size, "lockdep: %s; pcpu_lock %s, vmap_lock %s, pcpu_lock -> vmap_lock %s",
              reports ? lockdep_report_name(last) : "no report", u.pcpu, u.vmap,
              has_dependency(&pcpu_lock, &vmap_lock) ? "recorded" : "none");
    return LAB_NOT_REPRODUCED;
}

/* ---------------------------------------------------------------- the variants */

/* `make run LAB=irq_inversion` with no VARIANT= provokes the failure. */
LAB_DEFAULT_VARIANT(irq_inversion, taken_in_irq);

LAB_VARIANT(irq_inversion, irqs_off_only, 1, LAB_NOT_REPRODUCED,
            "pcpu_lock only ever taken with IRQs off, in task context: not HARDIRQ-safe, lockdep is silent");

static void lab_irq_inversion_irqs_off_only_run(struct lab_run *r)
{
    (void)r;
    setup(pcpu_free_interrupt);
    step("vmap_area(): spin_lock(vmap_lock), IRQs on", vmap_area);
    step("pcpu_alloc_and_grow(): irqsave(pcpu_lock), vmap_lock inside", pcpu_alloc_and_grow);
    show_state();
}

static enum lab_verdict lab_irq_inversion_irqs_off_only_judge(struct lab_run *r, char *evidence, unsigned long size)
{
    return judge_lockdep(r, evidence, size);
}

LAB_VARIANT(irq_inversion, taken_in_irq, 1, LAB_REPRODUCED,
            "the same, then pcpu_lock is taken in a real interrupt: possible irq lock inversion");

static void lab_irq_inversion_taken_in_irq_run(struct lab_run *r)
{
    (void)r;
    setup(pcpu_free_interrupt);
    step("vmap_area(): spin_lock(vmap_lock), IRQs on", vmap_area);
    step("pcpu_alloc_and_grow(): irqsave(pcpu_lock), vmap_lock inside", pcpu_alloc_and_grow);
    show_state();
    step("a device interrupt calls pcpu_free()", free_from_interrupt);
    show_state();
}

static enum lab_verdict lab_irq_inversion_taken_in_irq_judge(struct lab_run *r, char *evidence, unsigned long size)
{
    return judge_lockdep(r, evidence, size);
}

LAB_VARIANT(irq_inversion, irq_first, 1, LAB_REPRODUCED,
            "the interrupt first, then the dependency: HARDIRQ-safe -> HARDIRQ-unsafe lock order");

static void lab_irq_inversion_irq_first_run(struct lab_run *r)
{
    (void)r;
    setup(pcpu_free_interrupt);
    step("a device interrupt calls pcpu_free()", free_from_interrupt);
    step("vmap_area(): spin_lock(vmap_lock), IRQs on", vmap_area);
    show_state();
    step("pcpu_alloc_and_grow(): irqsave(pcpu_lock), vmap_lock inside", pcpu_alloc_and_grow);
    show_state();
}

static enum lab_verdict lab_irq_inversion_irq_first_judge(struct lab_run *r, char *evidence, unsigned long size)
{
    return judge_lockdep(r, evidence, size);
}

LAB_VARIANT(irq_inversion, fix_irqsafe_vmap, 1, LAB_NOT_REPRODUCED,
            "fix 1: vmap_lock is always taken with IRQs off, so it is never HARDIRQ-unsafe");

static void lab_irq_inversion_fix_irqsafe_vmap_run(struct lab_run *r)
{
    (void)r;
    cfg.vmap_irqsave = true;
    setup(pcpu_free_interrupt);
    step("vmap_area(): spin_lock_irqsave(vmap_lock)", vmap_area);
    step("pcpu_alloc_and_grow(): irqsave(pcpu_lock), vmap_lock inside", pcpu_alloc_and_grow);
    step("a device interrupt calls pcpu_free()", free_from_interrupt);
    show_state();
}

static enum lab_verdict lab_irq_inversion_fix_irqsafe_vmap_judge(struct lab_run *r, char *evidence,
                                                               unsigned long size)
{
    return judge_lockdep(r, evidence, size);
}

LAB_VARIANT(irq_inversion, fix_unlock_first, 1, LAB_NOT_REPRODUCED,
            "fix 2: pcpu_alloc drops pcpu_lock before taking vmap_lock: no pcpu_lock -> vmap_lock at all");

static void lab_irq_inversion_fix_unlock_first_run(struct lab_run *r)
{
    (void)r;
    cfg.unlock_first = true;
    setup(pcpu_free_interrupt);
    step("vmap_area(): spin_lock(vmap_lock), IRQs on", vmap_area);
    step("pcpu_alloc_and_grow(): pcpu_lock dropped around vmap_lock", pcpu_alloc_and_grow);
    step("a device interrupt calls pcpu_free()", free_from_interrupt);
    show_state();
}

static enum lab_verdict lab_irq_inversion_fix_unlock_first_judge(struct lab_run *r, char *evidence,
                                                               unsigned long size)
{
    return judge_lockdep(r, evidence, size);
}

/* ---------------------------------------------------------------- the real deadlock */

/*
 * CPU X (1): holds vmap_lock with IRQs on, then its device interrupts it
 * (a self-IPI, once Y holds pcpu_lock) and the handler waits for pcpu_lock.
 * CPU Y (2): takes pcpu_lock with IRQs off, then waits for vmap_lock.
 * Both spin with IF=0, so neither takes its watchdog timer; CPU 0 is X's
 * buddy (each CPU checks the next), so the run needs 3 CPUs.
 */
static void deadlock_interrupt(struct pt_regs *regs)
{
    (void)regs;
    obs.pcpu_owner_at_irq = __atomic_load_n(&pcpu_lock.owner_cpu, __ATOMIC_RELAXED);
    __atomic_store_n(&obs.handler_entered, 1, __ATOMIC_RELEASE);
    lab_event("X handler: pcpu_free() wants pcpu_lock, held by CPU%d", obs.pcpu_owner_at_irq);
    spin_lock(&pcpu_lock);
    spin_unlock(&pcpu_lock);
    apic_eoi();
}

static int cpu_x_thread(void *unused)
{
    (void)unused;
    lab_event("X: spin_lock(vmap_lock), IRQs on");
    spin_lock(&vmap_lock);
    __atomic_store_n(&obs.x_holds_vmap, 1, __ATOMIC_RELEASE);
    while (!__atomic_load_n(&obs.y_holds_pcpu, __ATOMIC_ACQUIRE))
        cpu_relax();
    lab_event("X: Y holds pcpu_lock; my device interrupts me now");
    apic_icr_write(APIC_DEST_SELF | APIC_DM_FIXED | IRQ_INVERSION_VECTOR, 0);
    while (!__atomic_load_n(&obs.handler_entered, __ATOMIC_ACQUIRE))
        cpu_relax();
    spin_unlock(&vmap_lock);            /* never reached: the handler does not return */
    return 0;
}

static int cpu_y_thread(void *unused)
{
    unsigned long flags;

    (void)unused;
    while (!__atomic_load_n(&obs.x_holds_vmap, __ATOMIC_ACQUIRE))
        cpu_relax();
    lab_event("Y: spin_lock_irqsave(pcpu_lock)");
    spin_lock_irqsave(&pcpu_lock, flags);
    __atomic_store_n(&obs.y_holds_pcpu, 1, __ATOMIC_RELEASE);
    obs.vmap_owner_at_wait = __atomic_load_n(&vmap_lock.owner_cpu, __ATOMIC_RELAXED);
    lab_event("Y: growing the map: spin_lock(vmap_lock), held by CPU%d", obs.vmap_owner_at_wait);
    spin_lock(&vmap_lock);
    spin_unlock(&vmap_lock);            /* never reached */
    spin_unlock_irqrestore(&pcpu_lock, flags);
    return 0;
}

LAB_VARIANT(irq_inversion, deadlock, 3, LAB_REPRODUCED,
            "lockdep off: CPUs 1 and 2 really deadlock as the report said; CPU 0's watchdog reports it");

static void lab_irq_inversion_deadlock_run(struct lab_run *r)
{
    (void)r;
    setup(deadlock_interrupt);
    obs.cpu_x = 1;
    obs.cpu_y = 2;
    obs.pcpu_owner_at_irq = obs.vmap_owner_at_wait = -1;
    __atomic_store_n(&debug_locks, false, __ATOMIC_RELEASE);
    printk("lab: lockdep is off for this run: the hang itself, not the report\n");
    if (watchdog_set_thresh(1))
        printk("lab: watchdog_thresh=1 for this run: a hard lockup is reported 0.8-2.4 s after it begins\n");
    if (!kthread_run_on_cpu(cpu_x_thread, NULL, obs.cpu_x, "lab_x/%u") ||
        !kthread_run_on_cpu(cpu_y_thread, NULL, obs.cpu_y, "lab_y/%u")) {
        printk("lab: cannot start the threads\n");
        return;
    }
    /* CPU 0 stays free to be CPU 1's buddy; the watchdog ends the run. */
    for (;;)
        msleep(100);
}

static enum lab_verdict lab_irq_inversion_deadlock_judge(struct lab_run *r, char *evidence, unsigned long size)
{
    const struct detector_event *ev = detector_find_event("Hard LOCKUP", r->start_ns);

    if (ev)
        lab_event("judge: the Hard LOCKUP headline about CPU%u came from CPU%u at %lu ms", ev->cpu, ev->by_cpu,
                  (unsigned long)((ev->ns - r->start_ns) / 1000000));
    if (ev && ev->cpu == obs.cpu_x && obs.handler_entered && obs.pcpu_owner_at_irq == (int)obs.cpu_y &&
        obs.vmap_owner_at_wait == (int)obs.cpu_x) {
        ksnprintf(evidence, size, "Hard LOCKUP of CPU%u (by CPU%u): its handler waits for pcpu_lock (CPU%u), "
                  "CPU%u waits for vmap_lock (CPU%u)", ev->cpu, ev->by_cpu, obs.cpu_y, obs.cpu_y, obs.cpu_x);
        return LAB_REPRODUCED;
    }
    ksnprintf(evidence, size, "no deadlock seen: stopped by %s, handler entered %d, pcpu owner %d, vmap owner %d",
              r->stopped_by ? r->stopped_by : "nothing", obs.handler_entered, obs.pcpu_owner_at_irq,
              obs.vmap_owner_at_wait);
    return LAB_NOT_REPRODUCED;
}
