/* arch/x86_64/tlb.c: TLB flushes, local (invlpg, CR3 reload) and on every CPU (shootdown IPIs). */
#include "arch/x86_64/tlb.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/irqflags.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/stacks.h"
#include "kernel/bug.h"
#include "kernel/hardirq.h"
#include "kernel/monitor.h"
#include "kernel/printk.h"
#include "kernel/smp.h"

/*
 * Why shootdowns exist: each CPU's TLB caches translations, and no CPU
 * notices another CPU writing a page-table entry. An invlpg or a CR3 write
 * affects only the CPU that executes it (Intel SDM Vol. 3A 4.10.4.1), so
 * after changing a PTE every CPU that may cache it must flush it itself;
 * the CPU that changed it asks them by IPI and waits (SDM 4.10.5).
 * Modelled on Linux's arch/x86/mm/tlb.c.
 */

#define TLB_FLUSH_ALL (~0UL)

/* One flush request, the same for every CPU (Linux's struct flush_tlb_info). */
struct flush_tlb_info {
    uint64_t start, end;        /* [start, end), or end = TLB_FLUSH_ALL */
    unsigned initiating_cpu;    /* the CPU that changed the PTEs */
};

unsigned long tlb_flush_irqs_on;

/* Count one flush on this CPU. IRQs are off, and only this CPU writes its fields. */
#define tlb_count(field) this_cpu_write(field, this_cpu_read(field) + 1)

void flush_tlb_one_kernel(uint64_t addr)
{
    unsigned long flags = arch_local_irq_save();

    invlpg(addr);
    tlb_count(tlb_local_flushes);
    arch_local_irq_restore(flags);
}

/*
 * Flush f's range from this CPU's TLB. Runs on every CPU: on the others in
 * the call-function IPI handler, on the initiator with IRQs saved off.
 * With IRQs on, an interrupt handler could run in the middle of the flush
 * and use a translation about to go; in the IPI handler the interrupt gate
 * cleared IF, so finding it set means someone called this the wrong way.
 */
static void flush_tlb_func(void *info)
{
    const struct flush_tlb_info *f = info;

    if (WARN_ON_ONCE(!arch_irqs_disabled()))
        __atomic_fetch_add(&tlb_flush_irqs_on, 1, __ATOMIC_RELAXED);
    if (smp_processor_id() == f->initiating_cpu)
        tlb_count(tlb_local_flushes);
    else
        tlb_count(tlb_remote_flushes);

    if (f->end == TLB_FLUSH_ALL) {
        /* irqlab maps no page global (CR4.PGE is off), so a CR3 write
         * drops every translation (SDM 4.10.4.1). */
        write_cr3(read_cr3());
        tlb_count(tlb_full_flushes);
        return;
    }
    for (uint64_t addr = f->start; addr < f->end; addr += PAGE_SIZE)
        invlpg(addr);
}

/*
 * The order: this CPU first, then the others, waiting for them. Linux
 * since 5.10 overlaps the two (the "concurrent flush": queue and IPI the
 * others, flush locally while the IPIs fly, then wait), which needs
 * smp_call_function_many() to run a local function between sending and
 * waiting. kernel/smp.c has no such hook, so irqlab keeps Linux's earlier
 * order (flush_tlb_func_local(), then flush_tlb_others()): the local
 * flush, a few invlpg, is tiny next to an IPI round trip.
 */
void flush_tlb_range_mask(const struct cpumask *mask, uint64_t start, uint64_t end)
{
    struct flush_tlb_info info;
    unsigned long flags;

    preempt_disable();                  /* the initiating CPU must stay the same */
    info.initiating_cpu = smp_processor_id();
    info.start = start & ~(PAGE_SIZE - 1);
    info.end = (end + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    /* Each invlpg costs hundreds of cycles and refilling a flushed TLB
     * costs too; past the ceiling one CR3 reload is cheaper. */
    if (info.end - info.start > TLB_SINGLE_PAGE_FLUSH_CEILING * PAGE_SIZE)
        info.end = TLB_FLUSH_ALL;

    flags = arch_local_irq_save();
    flush_tlb_func(&info);
    arch_local_irq_restore(flags);
    /* wait: return only when all have flushed, so the caller may then reuse the pages. */
    smp_call_function_many(mask, flush_tlb_func, &info, true);
    preempt_enable();
}

/* Every other online CPU may have used a kernel mapping. */
void flush_tlb_range(uint64_t start, uint64_t end)
{
    flush_tlb_range_mask(&cpu_online_mask, start, end);
}

MONITOR_COMMAND(tlb, "TLB flushes per CPU: started locally, received by IPI, full (CR3 reload)")
{
    unsigned cpu;

    (void)argc; (void)argv;
    printk("CPU      local     remote       full\n");
    for_each_online_cpu(cpu) {
        const struct percpu *p = &percpu_area[cpu];
        printk("%3u %10lu %10lu %10lu\n", cpu, __atomic_load_n(&p->tlb_local_flushes, __ATOMIC_RELAXED),
               __atomic_load_n(&p->tlb_remote_flushes, __ATOMIC_RELAXED),
               __atomic_load_n(&p->tlb_full_flushes, __ATOMIC_RELAXED));
    }
    if (tlb_flush_irqs_on)
        printk("%lu flushes ran with IRQs on (a bug)\n", tlb_flush_irqs_on);
    return 0;
}
