/* labs/irq_inversion/vfree.c: lab "irq_inversion", seed 002's last point: vfree() flushes TLBs, which must be done with IRQs on. */
#include "kernel/lab.h"
#include "labs/irq_inversion/irq_inversion.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/irq.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/stacks.h"
#include "arch/x86_64/tlb.h"
#include "kernel/bootparams.h"
#include "kernel/detector_stop.h"
#include "kernel/irqflags.h"
#include "kernel/lockdep.h"
#include "kernel/page_alloc.h"
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "kernel/smp.h"
#include "kernel/spinlock.h"
#include "kernel/vsprintf.h"

/*
 * Ingo's last word in seed 002: "doesnt vfree() do TLB flushes, which must
 * be done with irqs enabled in general?" The per-CPU allocator grows its
 * area map and frees the old one with vfree(). vfree() unmaps the pages,
 * and before they may be reused every CPU must drop its cached translation:
 * a shootdown (flush_tlb_range(): invlpg here, a call-function IPI to every
 * other CPU, and a wait until each has run it; SDM Vol. 3A 4.10.5).
 *
 * Waiting for other CPUs with IRQs off is a deadlock recipe, and Linux's
 * smp_call_function_many() warns (kernel/smp.c). Done under pcpu_lock, an
 * IRQ-safe lock held with irqsave, the recipe closes as soon as another
 * CPU wants the same lock, for it spins with IRQs off too:
 *
 *     CPU 0                               CPU 1
 *     spin_lock_irqsave(pcpu_lock)
 *                                         spin_lock_irqsave(pcpu_lock)  spins, IF=0
 *     vfree(old map)
 *       flush_tlb_range()
 *         IPI CPU 1, wait                 never takes it: IF=0
 *
 * CPU 0 waits for CPU 1's flush, CPU 1 for CPU 0's lock, both with IF=0.
 * No timer interrupt runs on either; the CSD lock-wait debug in CPU 0's own
 * wait loop is the one detector that sees it (at 2 CPUs the only one).
 *
 * The variants: the hang (vfree_irqs_off); the same flush with a lock that
 * is not IRQ-safe, IRQs on (vfree_irqs_on: CPU 1 takes the IPI while it
 * waits); the two fixes the thread names, push irq-safety down
 * (vfree_irqsafe_vmap: only vmalloc's list lock is irqsave, the flush is
 * deferred to a purge with IRQs on, as Linux's lazy vunmap does) and the
 * unlock-lock dance (vfree_unlock_first); and the dance when the caller
 * itself has IRQs off (vfree_unlock_first_irqs_off: still the warning and
 * the hang, which is why Ingo calls the irqsave "incomplete").
 */

#define VFREE_OLD_VA    (VMALLOC_START + (416UL << 30))     /* the old area map: far from other users */
#define VFREE_NEW_VA    (VFREE_OLD_VA + PAGE_SIZE)          /* the new one */
#define VFREE_CSD_LOCK_TIMEOUT_MS 500                       /* the lab's short CSD lock-wait threshold */
#define VFREE_MAX_LAZY  4

/* pcpu_lock: the allocator's, IRQ-safe here (pcpu_free() in the device's handler); vmap_lock: vmalloc's
 * purge list (Linux's vmap_area_lock / purge_vmap_area_list); both are the lab's (irq_inversion.h). */
static DEFINE_SPINLOCK(caller_lock);    /* vfree_unlock_first_irqs_off: the caller's own irqsave section */

/* What the variant does differently. */
static struct {
    bool plain_lock;            /* pcpu_lock is not IRQ-safe: spin_lock(), IRQs on, no interrupt takes it */
    bool lazy;                  /* fix 1: vfree() only unmaps, under vmap_lock (irqsave); a purge flushes later */
    bool unlock_first;          /* fix 2: pcpu_lock dropped around vfree() */
    bool caller_irqs_off;       /* the allocator's caller holds caller_lock with irqsave */
} cfg;

static struct {
    spinlock_t *contended;      /* the lock CPU 1 waits for: the one CPU 0 holds when CPU 1 comes */
    unsigned cpu1;
    int cpu1_ready, go, waiting, got;   /* handshake flags */
    unsigned long cpu1_read;    /* what CPU 1 read through the old map (its TLB caches it) */
    bool waiter_if;             /* IF on CPU 1 when it began to wait, read there */
    int owner_at_wait;          /* contended->owner_cpu then */
    uint64_t waiter_flushes_at_wait, waiter_flushes_at_got;     /* CPU 1's remote flushes then */
    unsigned irqs;              /* the device's interrupts that ran pcpu_free() */
    /* the flush, on CPU 0 */
    int flush_started, flush_done;
    bool flush_if;              /* IF when flush_tlb_range() was called */
    int pcpu_owner_at_flush, caller_owner_at_flush;
    unsigned long warns_before;
    uint64_t remote_before[NR_CPUS], remote_after[NR_CPUS];
    /* vmalloc's lazy list (fix 1) */
    uint64_t lazy_pa[VFREE_MAX_LAZY];
    unsigned nr_lazy, deferred;
    bool vfree_if;              /* IF when vfree() was called */
    int vfree_pcpu_owner;       /* pcpu_lock.owner_cpu then */
} vo;

static uint64_t remote_flushes(unsigned cpu)
{
    return __atomic_load_n(&percpu_area[cpu].tlb_remote_flushes, __ATOMIC_RELAXED);
}

/* ---------------------------------------------------------------- vmalloc, in miniature */

/* Map a fresh page at va (vmalloc() of one page). */
static void vmalloc_page(uint64_t va)
{
    uint64_t pa = alloc_page();

    if (!pa || map_kernel_page(va, pa, PTE_WRITE | PTE_NX))
        panic("irq_inversion: cannot map a page at %lx", (unsigned long)va);
}

/*
 * The shootdown, observed: IF and the locks held when it starts, the
 * WARNINGs and each CPU's remote-flush count around it. If it never
 * returns, the judge reads these from the detector's stop.
 */
static void vmap_flush(uint64_t start, uint64_t end)
{
    unsigned cpu;

    for_each_online_cpu(cpu)
        vo.remote_before[cpu] = remote_flushes(cpu);
    vo.flush_if = !arch_irqs_disabled();
    vo.pcpu_owner_at_flush = __atomic_load_n(&pcpu_lock.owner_cpu, __ATOMIC_RELAXED);
    vo.caller_owner_at_flush = __atomic_load_n(&caller_lock.owner_cpu, __ATOMIC_RELAXED);
    vo.warns_before = __atomic_load_n(&warn_count, __ATOMIC_RELAXED);
    __atomic_store_n(&vo.flush_started, 1, __ATOMIC_RELEASE);
    lab_event("CPU0: flush_tlb_range(): invlpg here, IPI to the other CPUs, wait for them");
    flush_tlb_range(start, end);
    for_each_online_cpu(cpu)
        vo.remote_after[cpu] = remote_flushes(cpu);
    __atomic_store_n(&vo.flush_done, 1, __ATOMIC_RELEASE);
    lab_event("CPU0: flush_tlb_range() returned: every CPU flushed");
}

/*
 * vfree() of one page: clear the PTE, then, before the page goes back to
 * the page allocator, flush it from every CPU's TLB. Fix 1 (cfg.lazy):
 * the flush is deferred; the PTE is cleared and the page queued on
 * vmalloc's purge list, whose lock is the one that truly needs irqsave
 * (vfree() runs under pcpu_lock, IRQs off). Linux's vfree() is lazy in
 * the same way (free_vmap_area_noflush(), then a purge).
 */
static void vfree_page(uint64_t va)
{
    bool huge;
    uint64_t *pte = paging_lookup(va, &huge);
    uint64_t pa = pte ? *pte & PTE_ADDR : 0;
    unsigned long flags;

    vo.vfree_if = !arch_irqs_disabled();
    vo.vfree_pcpu_owner = __atomic_load_n(&pcpu_lock.owner_cpu, __ATOMIC_RELAXED);
    if (!pa || unmap_kernel_page(va))
        panic("irq_inversion: vfree of an unmapped page %lx", (unsigned long)va);
    if (cfg.lazy) {
        spin_lock_irqsave(&vmap_lock, flags);
        if (vo.nr_lazy < VFREE_MAX_LAZY)
            vo.lazy_pa[vo.nr_lazy++] = pa;
        vo.deferred++;
        spin_unlock_irqrestore(&vmap_lock, flags);
        lab_event("CPU0: vfree(): PTE cleared, page queued under vmap_lock (irqsave); the flush waits for the purge");
        return;
    }
    lab_event("CPU0: vfree(): PTE cleared; now every CPU must forget it");
    vmap_flush(va, va + PAGE_SIZE);
    free_page(pa);
}

/*
 * Fix 1's purge (Linux's __purge_vmap_area_lazy(), run from a workqueue or
 * the next vmalloc()): take the queued pages under vmap_lock, drop it,
 * flush with IRQs on, then free the pages.
 */
static void vmap_purge_lazy(void)
{
    uint64_t pa[VFREE_MAX_LAZY];
    unsigned long flags;
    unsigned n;

    spin_lock_irqsave(&vmap_lock, flags);
    n = vo.nr_lazy;
    for (unsigned i = 0; i < n; i++)
        pa[i] = vo.lazy_pa[i];
    vo.nr_lazy = 0;
    spin_unlock_irqrestore(&vmap_lock, flags);
    lab_event("CPU0: vmalloc's purge: %u page(s), vmap_lock dropped", n);
    vmap_flush(VFREE_OLD_VA, VFREE_OLD_VA + PAGE_SIZE);
    for (unsigned i = 0; i < n; i++)
        free_page(pa[i]);
}

/* ---------------------------------------------------------------- the allocator and its callers */

static void pcpu_lock_take(unsigned long *flags)
{
    if (cfg.plain_lock)
        spin_lock(&pcpu_lock);
    else
        spin_lock_irqsave(&pcpu_lock, *flags);
}

static void pcpu_lock_give(unsigned long flags)
{
    if (cfg.plain_lock)
        spin_unlock(&pcpu_lock);
    else
        spin_unlock_irqrestore(&pcpu_lock, flags);
}

/* CPU 0 has just taken l: if it is the lock CPU 1 wants, let CPU 1 come and wait for it. */
static void contend(spinlock_t *l)
{
    if (vo.contended != l)
        return;
    __atomic_store_n(&vo.go, 1, __ATOMIC_RELEASE);
    lab_spin_until(__atomic_load_n(&vo.waiting, __ATOMIC_ACQUIRE), "CPU 1 to begin waiting for the lock");
}

/* pcpu_extend_area_map(): copy the area map into a bigger one and vfree() the old one. */
static void pcpu_extend_area_map(void)
{
    unsigned long flags = 0;

    lab_event("CPU0: pcpu_alloc(): %s(pcpu_lock), the map is full",
              cfg.plain_lock ? "spin_lock" : "spin_lock_irqsave");
    pcpu_lock_take(&flags);
    contend(&pcpu_lock);
    for (unsigned i = 0; i < PAGE_SIZE / sizeof(unsigned long); i++)
        ((volatile unsigned long *)VFREE_NEW_VA)[i] = ((volatile unsigned long *)VFREE_OLD_VA)[i];
    if (cfg.unlock_first) {
        pcpu_lock_give(flags);
        lab_event("CPU0: the unlock-lock dance: pcpu_lock dropped around vfree()");
        vfree_page(VFREE_OLD_VA);
        pcpu_lock_take(&flags);
    } else {
        vfree_page(VFREE_OLD_VA);
    }
    pcpu_lock_give(flags);
    lab_event("CPU0: pcpu_alloc() done, pcpu_lock released");
}

/* The device's handler frees per-CPU memory: pcpu_lock taken in hardirq becomes IRQ-safe. */
static void vfree_device_interrupt(struct pt_regs *regs)
{
    (void)regs;
    spin_lock(&pcpu_lock);
    spin_unlock(&pcpu_lock);
    __atomic_store_n(&vo.irqs, vo.irqs + 1, __ATOMIC_RELEASE);
    apic_eoi();
}

/* A real interrupt on this CPU (self-IPI), IF=1: it comes in at once. */
static void free_from_interrupt(void)
{
    char usage[32];

    apic_icr_write(APIC_DEST_SELF | APIC_DM_FIXED | IRQ_INVERSION_VECTOR, 0);
    lab_spin_until(__atomic_load_n(&vo.irqs, __ATOMIC_ACQUIRE), "the device's interrupt to run pcpu_free()");
    lockdep_usage_string(&pcpu_lock.dep_map, usage, sizeof usage);
    lab_event("CPU0: the device's interrupt ran pcpu_free(): pcpu_lock %s", usage);
}

LAB_REMOVABLE(irq_inversion, waiter_irqs_off,
              "CPU 1 waits for the lock with IRQs on (spinning on the lock word), then takes it with irqsave");

/*
 * CPU 1: another pcpu_alloc() (or, in vfree_unlock_first_irqs_off, another
 * user of the caller's lock). It reads the old map first, so its TLB may
 * cache it and the flush must reach it. Then, once CPU 0 holds the lock,
 * it waits for it: spin_lock_irqsave() in two steps, so the IF it records
 * is the IF it spins with and the IPI cannot come in between.
 */
static int vfree_cpu1(void *unused)
{
    unsigned me = smp_processor_id();
    unsigned long flags = 0;
    spinlock_t *l;

    (void)unused;
    vo.cpu1_read = *(volatile unsigned long *)VFREE_OLD_VA;
    lab_event("CPU%u: reads the area map: its TLB caches the translation", me);
    __atomic_store_n(&vo.cpu1_ready, 1, __ATOMIC_RELEASE);
    while (!__atomic_load_n(&vo.go, __ATOMIC_ACQUIRE))
        cpu_relax();
    l = vo.contended;
    if (!cfg.plain_lock && !lab_removed("waiter_irqs_off"))
        local_irq_save(flags);
    vo.waiter_if = !arch_irqs_disabled();
    vo.owner_at_wait = __atomic_load_n(&l->owner_cpu, __ATOMIC_RELAXED);
    vo.waiter_flushes_at_wait = remote_flushes(me);
    lab_event("CPU%u: wants %s, held by CPU%d: spins", me, l->dep_map.name, vo.owner_at_wait);
    __atomic_store_n(&vo.waiting, 1, __ATOMIC_RELEASE);
    if (cfg.plain_lock) {
        spin_lock(l);
    } else if (lab_removed("waiter_irqs_off")) {
        while (spin_is_locked(l))
            cpu_relax();
        spin_lock_irqsave(l, flags);
    } else {
        spin_lock(l);
    }
    vo.waiter_flushes_at_got = remote_flushes(me);
    lab_event("CPU%u: got %s", me, l->dep_map.name);
    if (cfg.plain_lock)
        spin_unlock(l);
    else
        spin_unlock_irqrestore(l, flags);
    __atomic_store_n(&vo.got, 1, __ATOMIC_RELEASE);
    return 0;
}

/*
 * Short CSD lock-wait threshold unless the command line chose one, and the
 * first report ends the run (panic_on_ipistall = the threshold): at 2 CPUs
 * both spin with IF=0 and no other detector can run.
 */
static void vfree_thresholds(void)
{
    if (!bootparam_given("csd_lock_timeout"))
        csd_lock_timeout = VFREE_CSD_LOCK_TIMEOUT_MS;
    if (!bootparam_given("panic_on_ipistall"))
        panic_on_ipistall = csd_lock_timeout;
    detector_stop_at = "csd: CSD lock stall (panic_on_ipistall)";
    printk("lab: csd_lock_timeout=%d ms, panic_on_ipistall=%d ms: a CSD lock stall ends the run\n",
           csd_lock_timeout, panic_on_ipistall);
}

/* One run: every vfree variant is this, configured by cfg. */
static void vfree_run(spinlock_t *contended)
{
    unsigned long flags;

    vo.contended = contended;
    vo.cpu1 = 1;
    vo.owner_at_wait = vo.pcpu_owner_at_flush = vo.caller_owner_at_flush = -1;
    vfree_thresholds();
    request_vector(IRQ_INVERSION_VECTOR, vfree_device_interrupt, "irq_inversion lab device");
    vmalloc_page(VFREE_OLD_VA);
    vmalloc_page(VFREE_NEW_VA);
    *(volatile unsigned long *)VFREE_OLD_VA = 1;        /* slot 0 in use */
    if (!kthread_run_on_cpu(vfree_cpu1, NULL, vo.cpu1, "pcpu_alloc/%u"))
        panic("irq_inversion: cannot start CPU 1's thread");
    lab_spin_until(__atomic_load_n(&vo.cpu1_ready, __ATOMIC_ACQUIRE), "CPU 1 to read the area map");
    if (!cfg.plain_lock)
        free_from_interrupt();
    if (cfg.caller_irqs_off) {
        lab_event("CPU0: the caller: spin_lock_irqsave(caller_lock), then pcpu_alloc()");
        spin_lock_irqsave(&caller_lock, flags);
        contend(&caller_lock);
        pcpu_extend_area_map();
        spin_unlock_irqrestore(&caller_lock, flags);
    } else {
        pcpu_extend_area_map();
    }
    if (cfg.lazy)
        vmap_purge_lazy();
    lab_spin_until(__atomic_load_n(&vo.got, __ATOMIC_ACQUIRE), "CPU 1 to get its lock");
}

/*
 * The claim, from what the machine did. The flush returned: NOT REPRODUCED
 * if it was called with IF=1 and every other CPU ran it (its remote-flush
 * count rose); called with IF=0 it WARNed and only CPU 1's IF=1 let it
 * through, which shows neither the hang nor a fix: INVALID. The flush
 * never returned: REPRODUCED
 * only if it began with IF=0, smp_call_function_many() WARNed, CPU 1 began
 * its wait with IF=0 for a lock CPU 0 held and still holds, CPU 1 never
 * ran the flush, and the CSD lock-wait report is about CPU 1. Anything
 * else: INVALID, named.
 */
static enum lab_verdict vfree_judge(struct lab_run *r, char *evidence, unsigned long size)
{
    const struct detector_event *csd = detector_find_event("CSD lock", r->start_ns);
    unsigned w = vo.cpu1, cpu, others = 0;
    const char *lname = vo.contended->dep_map.name;
    const char *held = vo.caller_owner_at_flush == 0 ? (vo.pcpu_owner_at_flush == 0 ? "caller_lock, pcpu_lock"
                       : "caller_lock") : vo.pcpu_owner_at_flush == 0 ? "pcpu_lock" : "no lock";
    unsigned long warns = __atomic_load_n(&warn_count, __ATOMIC_RELAXED) - vo.warns_before;

    if (vo.flush_started)
        lab_event("judge: %lu WARNING(s) since CPU0 called flush_tlb_range(); CPU%u ran %lu flush(es) for "
                  "others since it began to wait", warns, w,
                  (unsigned long)(remote_flushes(w) - vo.waiter_flushes_at_wait));
    if (!vo.waiting)
        ksnprintf(evidence, size, "CPU%u never began to wait for %s", w, lname);
    else if (vo.owner_at_wait != 0)
        ksnprintf(evidence, size, "CPU%u began to wait for %s held by CPU%d, not CPU0: no contention", w, lname,
                  vo.owner_at_wait);
    else if (!vo.flush_started)
        ksnprintf(evidence, size, "CPU0 never reached the TLB flush (stopped by %s)",
                  r->stopped_by ? r->stopped_by : "nothing");
    else if (vo.flush_done) {
        for_each_online_cpu(cpu) {
            if (cpu == 0)
                continue;
            if (vo.remote_after[cpu] <= vo.remote_before[cpu]) {
                ksnprintf(evidence, size, "flush_tlb_range() returned, but CPU%u never ran the flush", cpu);
                return LAB_INVALID;
            }
            others++;
        }
        if (!vo.flush_if) {
            /* The flush WARNed but completed: CPU 1 did not wait with IF=0, so the hang was never set up. */
            ksnprintf(evidence, size, "flush_tlb_range() with IF=0 holding %s WARNed (%lu) but returned: CPU%u "
                      "waited for %s with IF=%d and ran the flush %s; the hang needs it to wait with IF=0", held,
                      warns, w, lname, vo.waiter_if,
                      vo.waiter_flushes_at_got > vo.waiter_flushes_at_wait ? "while it waited" : "after");
            return LAB_INVALID;
        }
        ksnprintf(evidence, size, "flush_tlb_range() with IF=%d holding %s returned; %u other CPU(s) flushed, "
                  "CPU%u %s (it waited for %s with IF=%d); %lu WARNING(s)%s",
                  vo.flush_if, held, others, w,
                  vo.waiter_flushes_at_got > vo.waiter_flushes_at_wait ? "while it waited" : "after it got the lock",
                  lname, vo.waiter_if, warns, vo.deferred ? "; vfree() under pcpu_lock deferred it" : "");
        return LAB_NOT_REPRODUCED;
    } else if (vo.flush_if)
        ksnprintf(evidence, size, "CPU0's flush began with IF=1 and never returned (stopped by %s)",
                  r->stopped_by ? r->stopped_by : "nothing");
    else if (!warns)
        ksnprintf(evidence, size, "CPU0 flushed with IF=0 but nothing WARNed");
    else if (vo.waiter_if)
        ksnprintf(evidence, size, "CPU%u began its wait for %s with IF=1", w, lname);
    else if (vo.got || __atomic_load_n(&vo.contended->owner_cpu, __ATOMIC_RELAXED) != 0)
        ksnprintf(evidence, size, "the cycle broke: CPU%u %s %s", w, vo.got ? "got" : "still waits for", lname);
    else if (remote_flushes(w) != vo.waiter_flushes_at_wait)
        ksnprintf(evidence, size, "CPU%u ran the flush, yet CPU0's wait never ended", w);
    else if (!csd || csd->cpu != w)
        ksnprintf(evidence, size, "no CSD lock report about CPU%u (stopped by %s)", w,
                  r->stopped_by ? r->stopped_by : "nothing");
    else {
        for_each_online_cpu(cpu)
            if (cpu != 0 && cpu != w && remote_flushes(cpu) > vo.remote_before[cpu])
                others++;
        ksnprintf(evidence, size, "CPU0 flushed with IF=0 holding %s: %lu WARNING; CPU%u (IF=0) waits for %s, "
                  "held by CPU0, and never took the IPI; CSD lock report about CPU%u by CPU%u; %u other CPU(s) "
                  "flushed", held, warns, w, lname, csd->cpu, csd->by_cpu, others);
        return LAB_REPRODUCED;
    }
    return LAB_INVALID;
}

/* ---------------------------------------------------------------- the variants */

LAB_VARIANT(irq_inversion, vfree_irqs_off, 2, LAB_REPRODUCED,
            "vfree() under irqsave(pcpu_lock): its TLB flush WARNs, and CPU 1 spinning on pcpu_lock hangs both");

static void lab_irq_inversion_vfree_irqs_off_run(struct lab_run *r)
{
    (void)r;
    vfree_run(&pcpu_lock);
}

static enum lab_verdict lab_irq_inversion_vfree_irqs_off_judge(struct lab_run *r, char *evidence, unsigned long size)
{
    return vfree_judge(r, evidence, size);
}

LAB_VARIANT(irq_inversion, vfree_irqs_on, 2, LAB_NOT_REPRODUCED,
            "the same vfree() under a lock that is not IRQ-safe, IRQs on: CPU 1 takes the IPI while it waits");

static void lab_irq_inversion_vfree_irqs_on_run(struct lab_run *r)
{
    (void)r;
    cfg.plain_lock = true;
    vfree_run(&pcpu_lock);
}

static enum lab_verdict lab_irq_inversion_vfree_irqs_on_judge(struct lab_run *r, char *evidence, unsigned long size)
{
    return vfree_judge(r, evidence, size);
}

LAB_VARIANT(irq_inversion, vfree_irqsafe_vmap, 2, LAB_NOT_REPRODUCED,
            "fix 1, push irq-safety down: only vmalloc's list lock is irqsave; the flush is deferred to IRQs on");

static void lab_irq_inversion_vfree_irqsafe_vmap_run(struct lab_run *r)
{
    (void)r;
    cfg.lazy = true;
    vfree_run(&pcpu_lock);
}

static enum lab_verdict lab_irq_inversion_vfree_irqsafe_vmap_judge(struct lab_run *r, char *evidence,
                                                                 unsigned long size)
{
    return vfree_judge(r, evidence, size);
}

LAB_VARIANT(irq_inversion, vfree_unlock_first, 2, LAB_NOT_REPRODUCED,
            "fix 2, the unlock-lock dance: pcpu_lock dropped around vfree(), which flushes with IRQs on");

static void lab_irq_inversion_vfree_unlock_first_run(struct lab_run *r)
{
    (void)r;
    cfg.unlock_first = true;
    vfree_run(&pcpu_lock);
}

static enum lab_verdict lab_irq_inversion_vfree_unlock_first_judge(struct lab_run *r, char *evidence,
                                                                 unsigned long size)
{
    return vfree_judge(r, evidence, size);
}

LAB_VARIANT(irq_inversion, vfree_unlock_first_irqs_off, 2, LAB_REPRODUCED,
            "the dance called from an irqsave section: IRQs stay off at the flush, the WARN and the hang again");

static void lab_irq_inversion_vfree_unlock_first_irqs_off_run(struct lab_run *r)
{
    (void)r;
    cfg.unlock_first = true;
    cfg.caller_irqs_off = true;
    vfree_run(&caller_lock);
}

static enum lab_verdict lab_irq_inversion_vfree_unlock_first_irqs_off_judge(struct lab_run *r, char *evidence,
                                                                          unsigned long size)
{
    return vfree_judge(r, evidence, size);
}
