/* labs/irq_inversion/bh.c: lab "irq_inversion", seed 002 as reported: the allocator used from a BH, and lockdep's SOFTIRQ reports. */
#include "kernel/lab.h"
#include "labs/irq_inversion/irq_inversion.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/irq.h"
#include "kernel/hardirq.h"
#include "kernel/irqflags.h"
#include "kernel/lockdep.h"
#include "kernel/printk.h"
#include "kernel/softirq.h"
#include "kernel/spinlock.h"
#include "kernel/string.h"
#include "kernel/vsprintf.h"

/*
 * Ingo: "the real problem right now i think is the use of the pcpu
 * allocator from within a BH section". Here the device's interrupt handler
 * does not free per-CPU memory itself: it schedules a tasklet, and the
 * tasklet (softirq context, run on the interrupt's exit with IRQs on) calls
 * pcpu_free(). That makes pcpu_lock SOFTIRQ-safe ({IN-SOFTIRQ-W}), not
 * HARDIRQ-safe. The allocator's spin_lock_irqsave() marks nothing (lockdep
 * counts softirqs as enabled only while hardirqs are: with IRQs off no
 * softirq can start here). vmap_lock, taken with IRQs and BHs on, is
 * SOFTIRQ-unsafe ({SOFTIRQ-ON-W}). The same facts as the hardirq variants,
 * one level down, and the same two headlines, with SOFTIRQ in them:
 *   - the dependency first, then the tasklet (taken_in_bh): "possible irq
 *     lock inversion dependency detected", "SOFTIRQ-unsafe lock";
 *   - the tasklet first (bh_first): "SOFTIRQ-safe -> SOFTIRQ-unsafe lock
 *     order detected".
 * With a plain spin_lock() in the allocator (IRQs and BHs on) the lock itself
 * is used both ways: "inconsistent {IN-SOFTIRQ-W} -> {SOFTIRQ-ON-W} usage"
 * (bh_inconsistent); spin_lock_bh() on the task side is Linux's fix for that
 * one (fix_spin_lock_bh). The dance fixes the inversion (fix_bh_unlock_first).
 */

/* What a BH variant's allocator does differently (the shared model's inv_cfg has the dance). */
static struct {
    bool plain;                 /* the allocator takes pcpu_lock with spin_lock(): IRQs and BHs on */
    bool bh;                    /* the fix of that: spin_lock_bh() */
} cfg;

static struct {
    unsigned tasklet_runs;      /* pcpu_free() calls from the tasklet */
    unsigned tasklet_in_softirq;        /* ... that found in_serving_softirq() */
    unsigned bh_steps;          /* the scenario's "a tasklet calls pcpu_free()" steps */
    unsigned lockdep_reports_before;
} ob;

/* Allocate a slot without growing, as bh_inconsistent's and fix_spin_lock_bh's allocator does. */
static void pcpu_alloc_slot(void)
{
    if (cfg.bh) {
        spin_lock_bh(&pcpu_lock);
        spin_unlock_bh(&pcpu_lock);
    } else {
        spin_lock(&pcpu_lock);
        spin_unlock(&pcpu_lock);
    }
}

/* The tasklet: pcpu_free() in softirq context. */
static void pcpu_free_tasklet(unsigned long data)
{
    (void)data;
    lab_event("tasklet: pcpu_free() takes pcpu_lock in softirq context");
    spin_lock(&pcpu_lock);
    spin_unlock(&pcpu_lock);
    if (in_serving_softirq())
        ob.tasklet_in_softirq++;
    __atomic_store_n(&ob.tasklet_runs, ob.tasklet_runs + 1, __ATOMIC_RELEASE);
}

static DECLARE_TASKLET(pcpu_free_work, pcpu_free_tasklet, 0);

/* The device's handler leaves the free to its bottom half. */
static void bh_device_interrupt(struct pt_regs *regs)
{
    (void)regs;
    tasklet_schedule(&pcpu_free_work);
    apic_eoi();
}

LAB_REMOVABLE(irq_inversion, bh, "pcpu_free() runs in the task inside local_bh_disable()/enable(), not in the tasklet");

/*
 * A real interrupt on this CPU (self-IPI) whose handler schedules the
 * tasklet; irq_exit() runs it. With lab_remove=bh the task makes the same
 * call in a BH-disabled section instead: "within a BH section" in the
 * other sense, which makes no lock SOFTIRQ-safe (no softirq is served).
 */
static void free_from_tasklet(void)
{
    unsigned n = ob.tasklet_runs;

    ob.bh_steps++;
    if (lab_removed("bh")) {
        local_bh_disable();
        lab_event("task: pcpu_free() inside local_bh_disable() (lab_remove=bh)");
        spin_lock(&pcpu_lock);
        spin_unlock(&pcpu_lock);
        local_bh_enable();
        return;
    }
    apic_icr_write(APIC_DEST_SELF | APIC_DM_FIXED | IRQ_INVERSION_VECTOR, 0);
    lab_spin_until(__atomic_load_n(&ob.tasklet_runs, __ATOMIC_ACQUIRE) != n, "the tasklet to run pcpu_free()");
}

static void bh_state(void)
{
    char p[40], v[40];

    lockdep_softirq_usage_string(&pcpu_lock.dep_map, p, sizeof p);
    lockdep_softirq_usage_string(&vmap_lock.dep_map, v, sizeof v);
    lab_event("state: pcpu_lock %s, vmap_lock %s; pcpu->vmap %s", p, v,
              lockdep_has_dependency(&pcpu_lock.dep_map, &vmap_lock.dep_map) ? "recorded" : "none");
}

static void bh_setup(void)
{
    request_vector(IRQ_INVERSION_VECTOR, bh_device_interrupt, "irq_inversion lab device");
    ob.lockdep_reports_before = lockdep_report_count;
}

/*
 * REPRODUCED when lockdep reported one of the SOFTIRQ kinds (inversion,
 * safe -> unsafe, inconsistent) during the run AND pcpu_lock is
 * {IN-SOFTIRQ-W} because the tasklet ran in softirq context; NOT
 * REPRODUCED when it stayed silent although that happened; INVALID when
 * the tasklet never made pcpu_lock SOFTIRQ-safe (its silence, or its
 * report, is not about a BH).
 */
static enum lab_verdict bh_judge(struct lab_run *r, char *evidence, unsigned long size)
{
    unsigned reports = lockdep_report_count - ob.lockdep_reports_before;
    enum lockdep_report last = lockdep_last_report;
    char p[40], v[40];
    bool dep = lockdep_has_dependency(&pcpu_lock.dep_map, &vmap_lock.dep_map);

    (void)r;
    lockdep_softirq_usage_string(&pcpu_lock.dep_map, p, sizeof p);
    lockdep_softirq_usage_string(&vmap_lock.dep_map, v, sizeof v);
    if (!ob.tasklet_in_softirq || strncmp(p, "{IN-SOFTIRQ-W", 13) != 0) {
        ksnprintf(evidence, size, "pcpu_lock %s after %u tasklet step(s), %u run(s) in softirq: it never became "
                  "SOFTIRQ-safe, so lockdep's %s shows nothing", p, ob.bh_steps, ob.tasklet_in_softirq,
                  reports ? "report" : "silence");
        return LAB_INVALID;
    }
    if (reports && (last == LOCKDEP_IRQ_INVERSION || last == LOCKDEP_SOFTIRQ_SAFE_TO_UNSAFE ||
                    last == LOCKDEP_INCONSISTENT)) {
        ksnprintf(evidence, size, "lockdep: %s (%u report%s); pcpu_lock %s, vmap_lock %s", lockdep_report_name(last),
                  reports, reports == 1 ? "" : "s", p, v);
        return LAB_REPRODUCED;
    }
    ksnprintf(evidence, size, "lockdep: %s; pcpu_lock %s, vmap_lock %s, pcpu_lock -> vmap_lock %s",
              reports ? lockdep_report_name(last) : "no report", p, v, dep ? "recorded" : "none");
    return reports ? LAB_INVALID : LAB_NOT_REPRODUCED;
}

/* ---------------------------------------------------------------- the variants */

LAB_VARIANT(irq_inversion, taken_in_bh, 1, LAB_REPRODUCED,
            "the allocator's dependency, then a tasklet frees per-CPU memory: the SOFTIRQ irq lock inversion");

static void lab_irq_inversion_taken_in_bh_run(struct lab_run *r)
{
    (void)r;
    bh_setup();
    inv_step("vmap_area(): spin_lock(vmap_lock), IRQs and BHs on", vmap_area);
    inv_step("pcpu_alloc_and_grow(): irqsave(pcpu_lock), vmap_lock inside", pcpu_alloc_and_grow);
    bh_state();
    inv_step("a device interrupt schedules a tasklet, which calls pcpu_free()", free_from_tasklet);
    bh_state();
}

static enum lab_verdict lab_irq_inversion_taken_in_bh_judge(struct lab_run *r, char *evidence, unsigned long size)
{
    return bh_judge(r, evidence, size);
}

LAB_VARIANT(irq_inversion, bh_first, 1, LAB_REPRODUCED,
            "the tasklet first, then the dependency: SOFTIRQ-safe -> SOFTIRQ-unsafe lock order");

static void lab_irq_inversion_bh_first_run(struct lab_run *r)
{
    (void)r;
    bh_setup();
    inv_step("a device interrupt schedules a tasklet, which calls pcpu_free()", free_from_tasklet);
    inv_step("vmap_area(): spin_lock(vmap_lock), IRQs and BHs on", vmap_area);
    bh_state();
    inv_step("pcpu_alloc_and_grow(): irqsave(pcpu_lock), vmap_lock inside", pcpu_alloc_and_grow);
    bh_state();
}

static enum lab_verdict lab_irq_inversion_bh_first_judge(struct lab_run *r, char *evidence, unsigned long size)
{
    return bh_judge(r, evidence, size);
}

LAB_VARIANT(irq_inversion, fix_bh_unlock_first, 1, LAB_NOT_REPRODUCED,
            "the unlock-lock dance against the BH report: no pcpu_lock -> vmap_lock, lockdep silent");

static void lab_irq_inversion_fix_bh_unlock_first_run(struct lab_run *r)
{
    (void)r;
    inv_cfg.unlock_first = true;
    bh_setup();
    inv_step("vmap_area(): spin_lock(vmap_lock), IRQs and BHs on", vmap_area);
    inv_step("pcpu_alloc_and_grow(): pcpu_lock dropped around vmap_lock", pcpu_alloc_and_grow);
    inv_step("a device interrupt schedules a tasklet, which calls pcpu_free()", free_from_tasklet);
    bh_state();
}

static enum lab_verdict lab_irq_inversion_fix_bh_unlock_first_judge(struct lab_run *r, char *evidence,
                                                                  unsigned long size)
{
    return bh_judge(r, evidence, size);
}

LAB_VARIANT(irq_inversion, bh_inconsistent, 1, LAB_REPRODUCED,
            "the tasklet frees, then the allocator takes pcpu_lock with spin_lock(), BHs on: inconsistent lock state");

static void lab_irq_inversion_bh_inconsistent_run(struct lab_run *r)
{
    (void)r;
    cfg.plain = true;
    bh_setup();
    inv_step("a device interrupt schedules a tasklet, which calls pcpu_free()", free_from_tasklet);
    inv_step("pcpu_alloc(): spin_lock(pcpu_lock), IRQs and BHs on", pcpu_alloc_slot);
    bh_state();
}

static enum lab_verdict lab_irq_inversion_bh_inconsistent_judge(struct lab_run *r, char *evidence, unsigned long size)
{
    return bh_judge(r, evidence, size);
}

LAB_VARIANT(irq_inversion, fix_spin_lock_bh, 1, LAB_NOT_REPRODUCED,
            "the same allocator with spin_lock_bh(): no softirq can come while it holds pcpu_lock");

static void lab_irq_inversion_fix_spin_lock_bh_run(struct lab_run *r)
{
    (void)r;
    cfg.bh = true;
    bh_setup();
    inv_step("a device interrupt schedules a tasklet, which calls pcpu_free()", free_from_tasklet);
    inv_step("pcpu_alloc(): spin_lock_bh(pcpu_lock)", pcpu_alloc_slot);
    bh_state();
}

static enum lab_verdict lab_irq_inversion_fix_spin_lock_bh_judge(struct lab_run *r, char *evidence, unsigned long size)
{
    return bh_judge(r, evidence, size);
}
