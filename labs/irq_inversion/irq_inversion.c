/* labs/irq_inversion/irq_inversion.c: lab "irq_inversion": what makes a lock HARDIRQ-safe for lockdep, and the inversion that follows (seed 002). */
#include "kernel/lab.h"
#include "labs/irq_inversion/irq_inversion.h"
#include "labs/irq_inversion/pcpu.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/irq.h"
#include "kernel/detector_stop.h"
#include "kernel/hardirq.h"
#include "kernel/irqflags.h"
#include "kernel/lockdep.h"
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "kernel/spinlock.h"
#include "kernel/string.h"
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

DEFINE_SPINLOCK(pcpu_lock);
DEFINE_SPINLOCK(vmap_lock);
struct inv_cfg inv_cfg;

static struct {
    unsigned irqs;              /* frees done from the interrupt handler */
    unsigned irq_steps;         /* the scenario's "a device interrupt calls pcpu_free()" steps */
    unsigned lockdep_reports_before;
    /* the deadlock variant: */
    unsigned cpu_x, cpu_y;
    int x_holds_vmap, y_holds_pcpu;     /* handshake flags */
    int handler_entered;
    bool handler_if;            /* IF in X's handler, read there */
    int pcpu_owner_at_irq;      /* pcpu_lock.owner_cpu when X's handler came in */
    int vmap_owner_at_irq;      /* vmap_lock.owner_cpu then */
    int vmap_owner_at_wait;     /* vmap_lock.owner_cpu when Y started waiting for it */
    bool y_if;                  /* IF on Y then, read there */
} obs;

/* ---------------------------------------------------------------- the code under test */

/* Map memory: the mapping code's own use of vmap_lock, IRQs on (HARDIRQ-unsafe) unless the fix says otherwise. */
void vmap_area(void)
{
    unsigned long flags;

    if (inv_cfg.vmap_irqsave) {
        spin_lock_irqsave(&vmap_lock, flags);
        spin_unlock_irqrestore(&vmap_lock, flags);
    } else {
        spin_lock(&vmap_lock);
        spin_unlock(&vmap_lock);
    }
}

/* Allocate, and grow the area map, under pcpu_lock: needs vmap_lock inside it (pcpu_lock -> vmap_lock). */
void pcpu_alloc_and_grow(void)
{
    unsigned long flags;

    spin_lock_irqsave(&pcpu_lock, flags);
    if (inv_cfg.unlock_first) {
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

LAB_REMOVABLE(irq_inversion, irq, "pcpu_free() runs in the task with IRQs off, not in the device's interrupt");

/*
 * A real interrupt on this CPU (self-IPI, SDM Vol. 3A 11.6.1), waited for:
 * it comes in at once, IF=1. With lab_remove=irq the task makes the same
 * call with IRQs off instead: the lock is then never taken in hardirq, and
 * the variants that need it must not pass.
 */
static void free_from_interrupt(void)
{
    unsigned n = obs.irqs;

    obs.irq_steps++;
    if (lab_removed("irq")) {
        unsigned long flags;

        local_irq_save(flags);
        lab_event("task: pcpu_free() takes pcpu_lock with IRQs off, in task context (lab_remove=irq)");
        spin_lock(&pcpu_lock);
        spin_unlock(&pcpu_lock);
        local_irq_restore(flags);
        return;
    }
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

void inv_step(const char *what, void (*fn)(void))
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
    /* A variant with an interrupt step claims the interrupt ran and made pcpu_lock HARDIRQ-safe: only
     * then does lockdep's silence say the fix works. */
    if (obs.irq_steps && (obs.irqs < obs.irq_steps || strncmp(u.pcpu, "{IN-HARDIRQ-W", 13) != 0)) {
        ksnprintf(evidence, size, "pcpu_lock %s after %u interrupt step(s) and %u interrupt(s): it never became "
                  "HARDIRQ-safe, so lockdep's silence shows nothing", u.pcpu, obs.irq_steps, obs.irqs);
        return LAB_INVALID;
    }
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
    inv_step("vmap_area(): spin_lock(vmap_lock), IRQs on", vmap_area);
    inv_step("pcpu_alloc_and_grow(): irqsave(pcpu_lock), vmap_lock inside", pcpu_alloc_and_grow);
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
    inv_step("vmap_area(): spin_lock(vmap_lock), IRQs on", vmap_area);
    inv_step("pcpu_alloc_and_grow(): irqsave(pcpu_lock), vmap_lock inside", pcpu_alloc_and_grow);
    show_state();
    inv_step("a device interrupt calls pcpu_free()", free_from_interrupt);
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
    inv_step("a device interrupt calls pcpu_free()", free_from_interrupt);
    inv_step("vmap_area(): spin_lock(vmap_lock), IRQs on", vmap_area);
    show_state();
    inv_step("pcpu_alloc_and_grow(): irqsave(pcpu_lock), vmap_lock inside", pcpu_alloc_and_grow);
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
    inv_cfg.vmap_irqsave = true;
    setup(pcpu_free_interrupt);
    inv_step("vmap_area(): spin_lock_irqsave(vmap_lock)", vmap_area);
    inv_step("pcpu_alloc_and_grow(): irqsave(pcpu_lock), vmap_lock inside", pcpu_alloc_and_grow);
    inv_step("a device interrupt calls pcpu_free()", free_from_interrupt);
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
    inv_cfg.unlock_first = true;
    setup(pcpu_free_interrupt);
    inv_step("vmap_area(): spin_lock(vmap_lock), IRQs on", vmap_area);
    inv_step("pcpu_alloc_and_grow(): pcpu_lock dropped around vmap_lock", pcpu_alloc_and_grow);
    inv_step("a device interrupt calls pcpu_free()", free_from_interrupt);
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
    obs.vmap_owner_at_irq = __atomic_load_n(&vmap_lock.owner_cpu, __ATOMIC_RELAXED);
    obs.handler_if = !arch_irqs_disabled();
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
    if (lab_removed("irq")) {
        unsigned long flags;

        lab_event("X: pcpu_free() in the task with IRQs off (lab_remove=irq): no handler runs");
        local_irq_save(flags);
        spin_lock(&pcpu_lock);          /* Y holds it: X spins here, IF=0, in task context */
        spin_unlock(&pcpu_lock);
        local_irq_restore(flags);
    } else {
        lab_event("X: Y holds pcpu_lock; my device interrupts me now");
        apic_icr_write(APIC_DEST_SELF | APIC_DM_FIXED | IRQ_INVERSION_VECTOR, 0);
        while (!__atomic_load_n(&obs.handler_entered, __ATOMIC_ACQUIRE))
            cpu_relax();
    }
    spin_unlock(&vmap_lock);            /* never reached: X never gets pcpu_lock */
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
    obs.y_if = !arch_irqs_disabled();
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
    obs.pcpu_owner_at_irq = obs.vmap_owner_at_irq = obs.vmap_owner_at_wait = -1;
    __atomic_store_n(&debug_locks, false, __ATOMIC_RELEASE);
    printk("lab: lockdep is off for this run: the hang itself, not the report\n");
    lab_short_watchdog_thresh(1);
    if (!kthread_run_on_cpu(cpu_x_thread, NULL, obs.cpu_x, "lab_x/%u") ||
        !kthread_run_on_cpu(cpu_y_thread, NULL, obs.cpu_y, "lab_y/%u")) {
        printk("lab: cannot start the threads\n");
        return;
    }
    /* CPU 0 stays free to be CPU 1's buddy; the watchdog ends the run. */
    for (;;)
        msleep(100);
}

/*
 * The deadlock variant's claim, as conditions on what the machine did:
 * X's device interrupt came in while X held vmap_lock, and its handler
 * (IF=0, an interrupt gate) waits for pcpu_lock, which Y held; Y, IF=0,
 * waits for vmap_lock, which X held; both locks are still held by them
 * now (neither CPU moved); and the hard-lockup detector reported X. Any
 * condition that fails makes the run INVALID, named.
 */
static enum lab_verdict lab_irq_inversion_deadlock_judge(struct lab_run *r, char *evidence, unsigned long size)
{
    const struct detector_event *ev = detector_find_event("Hard LOCKUP", r->start_ns);
    int x = (int)obs.cpu_x, y = (int)obs.cpu_y;
    int pcpu_now = __atomic_load_n(&pcpu_lock.owner_cpu, __ATOMIC_RELAXED);
    int vmap_now = __atomic_load_n(&vmap_lock.owner_cpu, __ATOMIC_RELAXED);

    if (ev)
        lab_event("judge: the Hard LOCKUP headline about CPU%u came from CPU%u at %lu ms", ev->cpu, ev->by_cpu,
                  (unsigned long)((ev->ns - r->start_ns) / 1000000));
    if (!obs.handler_entered)
        ksnprintf(evidence, size, "CPU%d's device interrupt never ran its handler: no lock was taken in hardirq "
                  "(stopped by %s)", x, r->stopped_by ? r->stopped_by : "nothing");
    else if (obs.handler_if || obs.vmap_owner_at_irq != x || obs.pcpu_owner_at_irq != y)
        ksnprintf(evidence, size, "CPU%d's handler ran with IF=%d, vmap_lock held by CPU%d, pcpu_lock by CPU%d; "
                  "the claim needs IF=0, CPU%d and CPU%d", x, obs.handler_if, obs.vmap_owner_at_irq,
                  obs.pcpu_owner_at_irq, x, y);
    else if (obs.y_if || obs.vmap_owner_at_wait != x)
        ksnprintf(evidence, size, "CPU%d began to wait for vmap_lock with IF=%d, held by CPU%d; the claim needs "
                  "IF=0 and CPU%d", y, obs.y_if, obs.vmap_owner_at_wait, x);
    else if (pcpu_now != y || vmap_now != x)
        ksnprintf(evidence, size, "the cycle broke: pcpu_lock is held by CPU%d and vmap_lock by CPU%d now",
                  pcpu_now, vmap_now);
    else if (!ev || (int)ev->cpu != x)
        ksnprintf(evidence, size, "no Hard LOCKUP report about CPU%d (stopped by %s)", x,
                  r->stopped_by ? r->stopped_by : "nothing");
    else {
        ksnprintf(evidence, size, "Hard LOCKUP of CPU%u (by CPU%u): its handler (IF=0) waits for pcpu_lock, "
                  "held by CPU%d; CPU%d (IF=0) waits for vmap_lock, held by CPU%d", ev->cpu, ev->by_cpu, y, y, x);
        return LAB_REPRODUCED;
    }
    return LAB_INVALID;
}

/* ---------------------------------------------------------------- the exercise */

/*
 * The student's allocator (pcpu.c, pcpu.h) on two CPUs. pcpu_lock is made
 * HARDIRQ-safe for real first: the device's interrupt (self-IPI) calls
 * pcpu_free(). Then CPU 0 allocates until EX_SLOTS slots are in use, so
 * the map grows 4 -> 64. The first time CPU 0 is inside pcpu_vmap_map()
 * with pcpu_lock dropped (its unlocked window), CPU 1 allocates
 * EX_CPU1_ALLOCS slots, enough to grow the map twice itself, and CPU 0
 * waits (a handshake, no delay) until it is done: CPU 0's new map is then
 * smaller than the one installed, and must be given back. Last, the
 * interrupt frees every slot. The mapping code below checks how it is
 * called and counts the maps it hands out (vmap_lock protects its pool).
 */
#define EX_SLOTS 40                     /* slots in use at the peak: the map grows to 64 */
#define EX_CPU1_ALLOCS 5                /* 4 -> 8 -> 16: two growths inside CPU 0's window */
#define EX_POOL 8                       /* maps the mapping code has */

static struct pcpu_chunk chunk;
static unsigned long ex_pool[EX_POOL][PCPU_MAX_SLOTS];

static struct {
    unsigned pool_slots[EX_POOL];       /* slots of each live map; 0: free */
    unsigned maps_live;
    unsigned long bad_calls;            /* mapping code called with pcpu_lock held or IRQs off */
    unsigned long bad_ip;               /* ... the first caller */
    const char *bad_why;
    unsigned long bad_unmaps;           /* pcpu_vunmap_map() of no live map, or of c->map */
    const char *bad_unmap_why;
    unsigned cpu_main;                  /* the CPU that runs the scenario (and has the window) */
    int window_go, window_done;         /* handshake: CPU 1's allocs run inside CPU 0's window */
    unsigned window_size_before, window_size_after;
    bool live[PCPU_MAX_SLOTS];          /* handed out and not freed */
    unsigned allocs, nr_live;
    int bad_slot;                       /* the first slot handed out twice or out of range; -1: none */
    unsigned bad_slot_cpu;
    bool failed;                        /* pcpu_alloc() returned -1 */
    unsigned long irqs_left_off;        /* pcpu_alloc() returned with IRQs off */
    int free_slot;                      /* what the next interrupt frees */
    unsigned frees;                     /* interrupts whose pcpu_free() returned */
    /* c->map checked after the last alloc (peak) and after the last free (end): */
    unsigned peak_marked, peak_nr_used, peak_room;
    int peak_lost;                      /* a live slot free in c->map; -1: none */
    unsigned end_marked, end_nr_used;
    char usage[32];                     /* pcpu_lock's usage at the end */
    unsigned lockdep_reports_before;
} ex = { .bad_slot = -1, .peak_lost = -1 };

/* Which pool map `map` is; -1 if none. */
static int pool_index(const unsigned long *map)
{
    for (int i = 0; i < EX_POOL; i++)
        if (map == ex_pool[i])
            return i;
    return -1;
}

/* Count a call of the mapping code with pcpu_lock held or IRQs off against its caller (ip). */
static void check_caller(unsigned long ip)
{
    const char *why = chunk.lock.owner_cpu == (int)smp_processor_id() ? "with pcpu_lock held"
                      : irqs_disabled() ? "with IRQs off" : NULL;

    if (why && ex.bad_calls++ == 0) {
        ex.bad_ip = ip;
        ex.bad_why = why;
        lab_event("mapping: called %s, from %pS", why, (void *)ip);
    }
}

/*
 * The handshake. CPU 0's first call from the unlocked window lets CPU 1
 * allocate, and waits until it has. Never with pcpu_lock held or IRQs off
 * here (CPU 1 would wait for pcpu_lock forever: that is the bug the
 * exercise repairs, reported by lockdep instead), and never on CPU 1,
 * whose own growing comes through here too. Called before vmap_lock is
 * taken, which CPU 1's growing needs.
 */
static void window(void)
{
    if (smp_processor_id() != ex.cpu_main || ex.window_go || irqs_disabled() ||
        chunk.lock.owner_cpu == (int)smp_processor_id())
        return;
    ex.window_size_before = chunk.map_size;
    lab_event("mapping: CPU%u dropped pcpu_lock (map %u slots); CPU 1 allocates now", ex.cpu_main,
              ex.window_size_before);
    __atomic_store_n(&ex.window_go, 1, __ATOMIC_RELEASE);
    while (!__atomic_load_n(&ex.window_done, __ATOMIC_ACQUIRE))
        cpu_relax();
    ex.window_size_after = chunk.map_size;
    lab_event("mapping: CPU 1 done (map %u slots); CPU%u goes on", ex.window_size_after, ex.cpu_main);
}

/* Take a free pool map; the caller holds vmap_lock. */
static unsigned long *pool_get(unsigned slots)
{
    for (int i = 0; i < EX_POOL; i++) {
        if (!ex.pool_slots[i]) {
            ex.pool_slots[i] = slots;
            memset(ex_pool[i], 0, sizeof ex_pool[i]);
            ex.maps_live++;
            return ex_pool[i];
        }
    }
    return NULL;
}

unsigned long *pcpu_vmap_map(unsigned slots)
{
    unsigned long *map = NULL;

    check_caller(_RET_IP_);
    window();
    spin_lock(&vmap_lock);              /* the mapping code's way: IRQs as they are (on) */
    if (slots <= PCPU_MAX_SLOTS)
        map = pool_get(slots);
    spin_unlock(&vmap_lock);
    if (!map)
        lab_event("mapping: no map of %u slots (%u live)", slots, ex.maps_live);
    return map;
}

void pcpu_vunmap_map(unsigned long *map)
{
    int i = pool_index(map);
    const char *why = i < 0 || !ex.pool_slots[i] ? "of no live map" : map == chunk.map ? "of c->map, in use" : NULL;

    check_caller(_RET_IP_);
    if (why) {
        if (ex.bad_unmaps++ == 0) {
            ex.bad_unmap_why = why;
            lab_event("mapping: unmap %s, from %pS", why, (void *)_RET_IP_);
        }
        return;
    }
    spin_lock(&vmap_lock);
    ex.pool_slots[i] = 0;
    ex.maps_live--;
    memset(map, 0x6b, sizeof ex_pool[i]);      /* slab's POISON_FREE: a use after unmapping reads "in use" */
    spin_unlock(&vmap_lock);
}

/* One pcpu_alloc(), its slot checked against what is handed out. */
static void ex_alloc(void)
{
    unsigned cpu = smp_processor_id();
    int slot = pcpu_alloc(&chunk);

    if (irqs_disabled() && ex.irqs_left_off++ == 0) {
        lab_event("task: pcpu_alloc() returned with IRQs off");
        local_irq_enable();
    }
    ex.allocs++;
    if (slot == -1) {
        ex.failed = true;
        return;
    }
    if (slot < 0 || slot >= PCPU_MAX_SLOTS || ex.live[slot]) {
        if (ex.bad_slot < 0) {
            ex.bad_slot = slot;
            ex.bad_slot_cpu = cpu;
            lab_event("task: pcpu_alloc() on CPU%u returned slot %d, %s", cpu, slot,
                      slot < 0 || slot >= PCPU_MAX_SLOTS ? "outside every map" : "handed out already");
        }
        return;
    }
    ex.live[slot] = true;
    ex.nr_live++;
}

/* The device's interrupt: it frees ex.free_slot. */
static void ex_interrupt(struct pt_regs *regs)
{
    (void)regs;
    pcpu_free(&chunk, ex.free_slot);
    apic_eoi();
    __atomic_store_n(&ex.frees, ex.frees + 1, __ATOMIC_RELEASE);
}

/* Free slot in a real interrupt on this CPU (self-IPI, SDM Vol. 3A 11.6.1), IF=1: it comes in at once. */
static void ex_free(int slot)
{
    unsigned n = ex.frees;

    ex.free_slot = slot;
    apic_icr_write(APIC_DEST_SELF | APIC_DM_FIXED | IRQ_INVERSION_VECTOR, 0);
    while (__atomic_load_n(&ex.frees, __ATOMIC_ACQUIRE) == n)
        cpu_relax();
    ex.live[slot] = false;
    ex.nr_live--;
}

/* Slots marked in use in c->map (nothing else runs: read without the lock). */
static unsigned marked(void)
{
    unsigned n = 0;

    for (unsigned i = 0; i < chunk.map_size && i < PCPU_MAX_SLOTS; i++)
        n += chunk.map[i] != 0;
    return n;
}

/* Like show_state(), for the exercise's pcpu_lock (chunk.lock). */
static void ex_state(char *usage, unsigned long size)
{
    lockdep_usage_string(&chunk.lock.dep_map, usage, size);
    lab_event("state: pcpu_lock %s; pcpu->vmap %s", usage,
              has_dependency(&chunk.lock, &vmap_lock) ? "recorded" : "none");
}

/* CPU 1: inside CPU 0's window, allocate (and grow the map twice). */
static int ex_cpu1_thread(void *unused)
{
    (void)unused;
    while (!__atomic_load_n(&ex.window_go, __ATOMIC_ACQUIRE))
        cpu_relax();
    for (unsigned i = 0; i < EX_CPU1_ALLOCS; i++)
        ex_alloc();
    __atomic_store_n(&ex.window_done, 1, __ATOMIC_RELEASE);
    return 0;
}

LAB_VARIANT(irq_inversion, exercise, 2, LAB_NOT_REPRODUCED,
            "the exercise: your allocator (pcpu.c) grows its map with pcpu_lock HARDIRQ-safe, raced by CPU 1");

static void lab_irq_inversion_exercise_run(struct lab_run *r)
{
    static struct lock_class_key pcpu_lock_key;
    char usage[32];

    (void)r;
    ex.cpu_main = smp_processor_id();
    __spin_lock_init(&chunk.lock, "pcpu_lock", &pcpu_lock_key);
    chunk.map = pool_get(PCPU_MAP_INIT);
    chunk.map_size = PCPU_MAP_INIT;
    setup(ex_interrupt);
    ex.lockdep_reports_before = lockdep_report_count;
    lab_short_watchdog_thresh(1);
    if (!kthread_run_on_cpu(ex_cpu1_thread, NULL, 1, "pcpu_alloc/%u"))
        panic("irq_inversion: cannot start CPU 1's thread");

    inv_step("the mapping code maps for itself: spin_lock(vmap_lock), IRQs on", vmap_area);
    lab_event("task: pcpu_alloc() twice, then the device's interrupt frees the first slot");
    ex_alloc();
    ex_alloc();
    if (ex.live[0])
        ex_free(0);
    ex_state(usage, sizeof usage);
    lab_event("task: CPU%u allocates until %u slots are in use", ex.cpu_main, EX_SLOTS);
    while (ex.nr_live < EX_SLOTS && ex.allocs < 2 * EX_SLOTS && !ex.failed && ex.bad_slot < 0)
        ex_alloc();
    if (!ex.window_go) {                /* no window came: let CPU 1 finish all the same */
        __atomic_store_n(&ex.window_go, 1, __ATOMIC_RELEASE);
        while (!__atomic_load_n(&ex.window_done, __ATOMIC_ACQUIRE))
            cpu_relax();
    }

    ex.peak_marked = marked();
    ex.peak_nr_used = chunk.nr_used;
    ex.peak_room = pool_index(chunk.map) >= 0 ? ex.pool_slots[pool_index(chunk.map)] : 0;
    for (int s = 0; s < PCPU_MAX_SLOTS && ex.peak_lost < 0; s++)
        if (ex.live[s] && (s >= (int)chunk.map_size || !chunk.map[s]))
            ex.peak_lost = s;
    lab_event("task: %u slots out; c->map: %u slots, %u marked, nr_used %u; %u maps", ex.nr_live,
              chunk.map_size, ex.peak_marked, ex.peak_nr_used, ex.maps_live);

    lab_event("task: the device's interrupt frees every slot, one at a time");
    for (int s = 0; s < PCPU_MAX_SLOTS; s++)
        if (ex.live[s])
            ex_free(s);
    ex.end_marked = marked();
    ex.end_nr_used = chunk.nr_used;
    ex_state(ex.usage, sizeof ex.usage);
}

/*
 * NOT REPRODUCED (your allocator works) only if: the run ended; lockdep
 * said nothing; the mapping code was always called without pcpu_lock and
 * with IRQs on; CPU 1 ran inside CPU 0's window; every slot was handed out
 * once and was marked in c->map; c->map had room for c->map_size slots;
 * the interrupt's frees cleared the map; pcpu_lock is HARDIRQ-safe and
 * pcpu_lock -> vmap_lock was never recorded; exactly one map is left.
 * Otherwise REPRODUCED, with the first of these that failed.
 */
static enum lab_verdict lab_irq_inversion_exercise_judge(struct lab_run *r, char *evidence, unsigned long size)
{
    unsigned reports = lockdep_report_count - ex.lockdep_reports_before;
    enum lockdep_report last = lockdep_last_report;

    if (r->stopped_by)
        ksnprintf(evidence, size, "the run hung: %s stopped it (is pcpu_lock released on every path?)",
                  r->stopped_by);
    else if (reports && (last == LOCKDEP_IRQ_INVERSION || last == LOCKDEP_SAFE_TO_UNSAFE))
        ksnprintf(evidence, size, "lockdep: %s: pcpu_lock (HARDIRQ-safe: pcpu_free() takes it in the interrupt) "
                  "is held while the mapping code takes vmap_lock (HARDIRQ-unsafe: it takes it with IRQs on)",
                  lockdep_report_name(last));
    else if (reports && last == LOCKDEP_INCONSISTENT)
        ksnprintf(evidence, size, "lockdep: %s: pcpu_lock is taken in the interrupt and with IRQs on in a task",
                  lockdep_report_name(last));
    else if (reports)
        ksnprintf(evidence, size, "lockdep: %s", lockdep_report_name(last));
    else if (ex.bad_calls)
        ksnprintf(evidence, size, "the mapping code was called %lu times with pcpu_lock held or IRQs off, first %s, "
                  "from %pS", ex.bad_calls, ex.bad_why, (void *)ex.bad_ip);
    else if (ex.irqs_left_off)
        ksnprintf(evidence, size, "pcpu_alloc() returned with IRQs off %lu times", ex.irqs_left_off);
    else if (ex.bad_unmaps)
        ksnprintf(evidence, size, "pcpu_vunmap_map() %s (%lu times)", ex.bad_unmap_why, ex.bad_unmaps);
    else if (ex.bad_slot >= 0 && ex.bad_slot < PCPU_MAX_SLOTS)
        ksnprintf(evidence, size, "slot %d handed out twice (the second time on CPU%u): what pcpu_alloc() saw "
                  "before it dropped pcpu_lock may have changed since", ex.bad_slot, ex.bad_slot_cpu);
    else if (ex.bad_slot != -1)
        ksnprintf(evidence, size, "pcpu_alloc() returned slot %d, outside every map", ex.bad_slot);
    else if (ex.failed)
        ksnprintf(evidence, size, "pcpu_alloc() failed: pcpu_vmap_map() had no map left, %u live: a map was leaked",
                  ex.maps_live);
    else if (!ex.window_size_before)
        ksnprintf(evidence, size, "CPU%u's pcpu_alloc() never called pcpu_vmap_map() with pcpu_lock dropped",
                  ex.cpu_main);
    else if (ex.peak_room < chunk.map_size)
        ksnprintf(evidence, size, "c->map_size is %u but c->map has room for %u slots: the map you install must "
                  "be at least as big as the one installed", chunk.map_size, ex.peak_room);
    else if (ex.peak_lost >= 0)
        ksnprintf(evidence, size, "slot %d is handed out but free in c->map: growing the map lost it", ex.peak_lost);
    else if (ex.peak_marked != EX_SLOTS || ex.peak_nr_used != EX_SLOTS)
        ksnprintf(evidence, size, "%u slots handed out, but c->map marks %u and c->nr_used says %u", EX_SLOTS,
                  ex.peak_marked, ex.peak_nr_used);
    else if (ex.end_marked || ex.end_nr_used)
        ksnprintf(evidence, size, "after the interrupt freed every slot, c->map marks %u and c->nr_used says %u",
                  ex.end_marked, ex.end_nr_used);
    else if (strncmp(ex.usage, "{IN-HARDIRQ-W", 13))
        ksnprintf(evidence, size, "pcpu_lock %s: pcpu_free() never took it in the interrupt", ex.usage);
    else if (has_dependency(&chunk.lock, &vmap_lock))
        ksnprintf(evidence, size, "pcpu_lock -> vmap_lock recorded: the mapping code ran inside pcpu_lock");
    else if (ex.maps_live != 1)
        ksnprintf(evidence, size, "%u maps live at the end (1: c->map): the map grown while pcpu_lock was dropped "
                  "was leaked", ex.maps_live);
    else {
        ksnprintf(evidence, size, "%u allocs, no slot twice; map %u -> %u slots, grown with pcpu_lock dropped; "
                  "CPU 1 grew it to %u in CPU%u's window; %u frees in the interrupt; lockdep silent, "
                  "pcpu_lock %s; 1 map live", ex.allocs, PCPU_MAP_INIT,
                  chunk.map_size, ex.window_size_after, ex.cpu_main, ex.frees, ex.usage);
        return LAB_NOT_REPRODUCED;
    }
    return LAB_REPRODUCED;
}
