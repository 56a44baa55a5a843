/* arch/x86_64/tlb.h: flushing stale translations from this CPU's TLB and, by IPI, from every CPU's. */
#ifndef ARCH_X86_64_TLB_H
#define ARCH_X86_64_TLB_H

#include <stdint.h>

/*
 * Up to this many pages a flush invalidates page by page with invlpg;
 * above it, one CR3 reload drops everything (Linux's
 * tlb_single_page_flush_ceiling, arch/x86/mm/tlb.c, also 33).
 */
#define TLB_SINGLE_PAGE_FLUSH_CEILING 33

/*
 * Flush the kernel range [start, end) from every online CPU's TLB: this
 * CPU's directly, the others' by a call-function IPI (a "shootdown"),
 * returning when all are done. After a PTE in the range was changed or
 * cleared, the old page may be reused only after this returns. Task
 * context with IRQs on (it waits for the other CPUs).
 * (Linux: flush_tlb_kernel_range(); irqlab has one address space.)
 */
void flush_tlb_range(uint64_t start, uint64_t end);

struct cpumask;

/*
 * The same, with the shootdown sent only to the online CPUs in mask (this
 * CPU flushes itself whether or not mask names it): for a range only those
 * CPUs can have cached, and for timing a shootdown against the number of
 * its targets (kernel/bench.c). Same context rules as flush_tlb_range().
 * (Linux: flush_tlb_multi() with the mm's cpumask.)
 */
void flush_tlb_range_mask(const struct cpumask *mask, uint64_t start, uint64_t end);

/*
 * Flush one kernel page from THIS CPU's TLB only (invlpg), as Linux's
 * flush_tlb_one_kernel(). Enough for a mapping no other CPU can have used;
 * for any other, it leaves their stale entries in place: the bug the
 * tlb_shootdown_hazard self-test shows.
 */
void flush_tlb_one_kernel(uint64_t addr);

/* Flushes that found IRQs enabled (a bug: each is WARNed once); the self-tests expect 0. */
extern unsigned long tlb_flush_irqs_on;

#endif
