/* tests/kernel/test_tlb.c: the page allocator, vmalloc-area mappings, and the stale-TLB hazard that shootdowns fix. */
#include "kernel/ktest.h"
#include "kernel/bootparams.h"
#include "kernel/page_alloc.h"
#include "kernel/printk.h"
#include "kernel/smp.h"
#include "kernel/string.h"
#include "kernel/time.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/stacks.h"
#include "arch/x86_64/tlb.h"

extern char __image_phys_start[], __image_end[];    /* linker.ld */

/* Each test maps its own address, 2 MiB apart, so none sees another's leftovers. */
#define TEST_VA(n) (VMALLOC_START + (uint64_t)(n) * (2UL << 20))

/* A new page with every byte set to c. */
static uint64_t page_filled(char c)
{
    uint64_t pa = alloc_page();

    if (pa)
        memset(phys_to_virt(pa), c, PAGE_SIZE);
    return pa;
}

/* One byte read through va: through this CPU's TLB, or a page walk that fills it. */
static char read_va(uint64_t va)
{
    return *(volatile char *)va;
}

/* What each CPU read at va; filled in by probe_read() on every other CPU. */
struct tlb_probe {
    uint64_t va;
    char seen[NR_CPUS];
};

/* Runs in the call-function IPI on each other CPU: one read, nothing else
 * that could disturb its TLB between two probes. */
static void probe_read(void *info)
{
    struct tlb_probe *p = info;

    p->seen[smp_processor_id()] = read_va(p->va);
}

/* Have every other online CPU read p->va, and wait for all of them. */
static void probe_other_cpus(struct tlb_probe *p)
{
    memset(p->seen, 0, sizeof p->seen);
    smp_call_function_many(&cpu_online_mask, probe_read, p, true);
}

/*
 * The hazard's two reads, lined up by a handshake inside ONE call-function
 * IPI on each other CPU: read (the TLB caches va), say so, wait with IF=0
 * until CPU 0 has remapped va and flushed only its own TLB, read again.
 * Nothing else runs on that CPU between the two reads (no thread, no timer
 * callback), so no other work can push the entry out of its TLB first.
 */
struct tlb_hazard {
    uint64_t va;
    unsigned cached, released, done;
    char before[NR_CPUS], after[NR_CPUS];
};

static void hazard_reader(void *info)
{
    struct tlb_hazard *h = info;
    unsigned cpu = smp_processor_id();

    h->before[cpu] = read_va(h->va);
    __atomic_fetch_add(&h->cached, 1, __ATOMIC_RELEASE);
    while (!__atomic_load_n(&h->released, __ATOMIC_ACQUIRE))
        cpu_relax();
    h->after[cpu] = read_va(h->va);
    __atomic_fetch_add(&h->done, 1, __ATOMIC_RELEASE);
}

static void wait_count(unsigned *counter, unsigned value)
{
    while (__atomic_load_n(counter, __ATOMIC_ACQUIRE) < value)
        cpu_relax();
}

/*
 * Must a TLB entry stay until it is flushed? Under QEMU's TCG, yes: its
 * software TLB drops an entry only for invlpg, a CR3 write or a full
 * flush, so a stale read is certain. A hardware TLB may evict an entry at
 * any time, and a hypervisor that shadows the guest's page tables sees the
 * PTE write itself: KVM on the machine irqlab was written on never showed
 * a stale read. TCG names itself in the hypervisor CPUID leaf.
 */
static bool tlb_stale_is_certain(void)
{
    uint32_t a, b, c, d;
    char sig[12];

    cpuid(1, &a, &b, &c, &d);
    if (!(c & (1u << 31)))              /* no hypervisor: leaf 0x40000000 means nothing */
        return false;
    cpuid(0x40000000, &a, &b, &c, &d);
    memcpy(sig, &b, 4);
    memcpy(sig + 4, &c, 4);
    memcpy(sig + 8, &d, 4);
    return memcmp(sig, "TCGTCGTCGTCG", 12) == 0;
}

/* Remove a test mapping everywhere, then give its pages back (in that order). */
static void unmap_and_free(uint64_t va, uint64_t pa1, uint64_t pa2)
{
    unmap_kernel_page(va);
    flush_tlb_range(va, va + PAGE_SIZE);
    free_page(pa1);
    free_page(pa2);
}

KTEST(page_alloc_pages)
{
    unsigned long before = nr_free_pages(), usable = 0;
    uint64_t image_start = (uint64_t)__image_phys_start, image_end = virt_to_phys(__image_end);
    uint64_t pa[8];

    /* Every page of type-1 RAM at or above 1 MiB, minus the image (and
     * partial pages at the ends of ranges). */
    for (unsigned i = 0; i < boot_info.mmap_count; i++) {
        const struct boot_mmap_entry *e = &boot_info.mmap[i];
        if (e->type == 1 && e->addr + e->len > (1UL << 20))
            usable += (e->addr + e->len - (e->addr > (1UL << 20) ? e->addr : (1UL << 20))) / PAGE_SIZE;
    }
    unsigned long image_pages = (image_end - image_start) / PAGE_SIZE;
    KTEST_EXPECT_MSG(t, nr_total_pages() <= usable - image_pages &&
                        nr_total_pages() + 2 * boot_info.mmap_count >= usable - image_pages,
                     "%lu pages managed, %lu usable outside the image", nr_total_pages(), usable - image_pages);

    for (int i = 0; i < 8; i++) {
        pa[i] = alloc_page();
        KTEST_EXPECT_MSG(t, pa[i] && !(pa[i] & (PAGE_SIZE - 1)), "alloc_page() = %#lx", pa[i]);
        KTEST_EXPECT_MSG(t, pa[i] >= (1UL << 20), "page %#lx below 1 MiB", pa[i]);
        KTEST_EXPECT_MSG(t, pa[i] + PAGE_SIZE <= image_start || pa[i] >= image_end,
                         "page %#lx inside the kernel image", pa[i]);
        for (int j = 0; j < i; j++)
            KTEST_EXPECT_MSG(t, pa[i] != pa[j], "page %#lx handed out twice", pa[i]);
        const uint64_t *w = phys_to_virt(pa[i]);
        bool zero = true;
        for (unsigned k = 0; k < PAGE_SIZE / 8; k++)
            zero &= w[k] == 0;
        KTEST_EXPECT_MSG(t, zero, "page %#lx not zeroed", pa[i]);
        memset(phys_to_virt(pa[i]), 0x5a, PAGE_SIZE);   /* dirty it for the re-allocation below */
    }
    KTEST_EXPECT_MSG(t, nr_free_pages() == before - 8, "free %lu, expected %lu", nr_free_pages(), before - 8);
    for (int i = 0; i < 8; i++)
        free_page(pa[i]);
    KTEST_EXPECT_MSG(t, nr_free_pages() == before, "free %lu, expected %lu", nr_free_pages(), before);

    /* The list is LIFO: the last page freed comes back first, and zeroed. */
    uint64_t again = alloc_page();
    KTEST_EXPECT(t, again == pa[7]);
    KTEST_EXPECT(t, again && *(uint64_t *)phys_to_virt(again) == 0);
    free_page(again);
}

KTEST(vmalloc_map_unmap)
{
    uint64_t va = TEST_VA(0), pa = page_filled('x');
    bool huge;

    KTEST_EXPECT(t, map_kernel_page(va, pa, PTE_WRITE | PTE_NX) == 0);
    KTEST_EXPECT(t, read_va(va) == 'x');
    *(volatile char *)va = 'y';                              /* the same page through the direct map */
    KTEST_EXPECT(t, *(volatile char *)phys_to_virt(pa) == 'y');
    KTEST_EXPECT(t, map_kernel_page(va, pa, PTE_WRITE) == -1);          /* already mapped */
    KTEST_EXPECT(t, map_kernel_page(va + 8, pa, PTE_WRITE) == -1);      /* not page-aligned */
    KTEST_EXPECT(t, map_kernel_page(PAGE_OFFSET, pa, PTE_WRITE) == -1); /* not the vmalloc area */
    KTEST_EXPECT(t, map_kernel_page(VMALLOC_END, pa, PTE_WRITE) == -1);

    KTEST_EXPECT(t, unmap_kernel_page(va) == 0);
    uint64_t *pte = paging_lookup(va, &huge);
    KTEST_EXPECT(t, pte && !huge && *pte == 0);
    KTEST_EXPECT(t, unmap_kernel_page(va) == -1);                       /* nothing left to unmap */
    KTEST_EXPECT(t, remap_kernel_page(va, pa, PTE_WRITE) == -1);        /* nor to remap */
    flush_tlb_range(va, va + PAGE_SIZE);
    free_page(pa);
}

/*
 * Local flush semantics, on one CPU. After the PTE changes, this CPU's TLB
 * still holds the old translation, and reads go to the old page until an
 * invlpg for that address (certain under TCG, possible elsewhere: see
 * tlb_stale_is_certain()).
 */
KTEST(tlb_stale_local)
{
    uint64_t va = TEST_VA(1), a = page_filled('A'), b = page_filled('B');

    KTEST_EXPECT(t, map_kernel_page(va, a, PTE_NX) == 0);
    KTEST_EXPECT(t, read_va(va) == 'A');                    /* the TLB now caches va -> A */
    KTEST_EXPECT(t, remap_kernel_page(va, b, PTE_NX) == 0);
    char seen = read_va(va);
    if (tlb_stale_is_certain())
        KTEST_EXPECT_MSG(t, seen == 'A', "no flush yet, but the read saw '%c'", seen);
    else
        printk("# tlb_stale_local: not TCG; before the flush this CPU read '%c'\n", seen);
    flush_tlb_one_kernel(va);
    KTEST_EXPECT(t, read_va(va) == 'B');
    unmap_and_free(va, a, b);
}

/*
 * The hazard. Every CPU caches va -> A; CPU 0 points va at B and flushes
 * only its own TLB, so the others keep reading A through their stale
 * entries: had A been freed and reused, they would be reading someone
 * else's memory. flush_tlb_range() shoots the entry down everywhere.
 */
KTEST(tlb_shootdown_hazard)
{
    static struct tlb_hazard h;
    uint64_t va = TEST_VA(2), a, b;
    unsigned cpu, self = smp_processor_id(), others = num_online_cpus() - 1, stale = 0;
    struct tlb_probe probe = { .va = va };

    if (others == 0) {
        ktest_skip(t, "needs 2 CPUs");
        return;
    }
    a = page_filled('A');
    b = page_filled('B');
    KTEST_EXPECT(t, map_kernel_page(va, a, PTE_NX) == 0);
    KTEST_EXPECT(t, read_va(va) == 'A');

    memset(&h, 0, sizeof h);
    h.va = va;
    smp_call_function_many(&cpu_online_mask, hazard_reader, &h, false);
    wait_count(&h.cached, others);                          /* every other TLB holds va -> A */
    KTEST_EXPECT(t, remap_kernel_page(va, b, PTE_NX) == 0);
    flush_tlb_one_kernel(va);                               /* the bug: this CPU only */
    KTEST_EXPECT(t, read_va(va) == 'B');
    __atomic_store_n(&h.released, 1, __ATOMIC_RELEASE);
    wait_count(&h.done, others);
    for_each_online_cpu(cpu) {
        if (cpu == self)
            continue;
        KTEST_EXPECT_MSG(t, h.before[cpu] == 'A', "CPU %u read '%c' before the remap", cpu, h.before[cpu]);
        stale += h.after[cpu] == 'A';
        if (tlb_stale_is_certain())
            KTEST_EXPECT_MSG(t, h.after[cpu] == 'A', "CPU %u read '%c' after a local-only flush; "
                             "its TLB should still say A", cpu, h.after[cpu]);
    }
    printk("# tlb_shootdown_hazard: after a local-only flush, %u of %u other CPUs still read the old page\n",
           stale, others);

    flush_tlb_range(va, va + PAGE_SIZE);                    /* the fix: every CPU */
    probe_other_cpus(&probe);
    for_each_online_cpu(cpu)
        if (cpu != self)
            KTEST_EXPECT_MSG(t, probe.seen[cpu] == 'B', "CPU %u read '%c' after the shootdown", cpu, probe.seen[cpu]);
    unmap_and_free(va, a, b);
}

/* A snapshot of every CPU's flush counters. */
struct tlb_counts {
    uint64_t local[NR_CPUS], remote[NR_CPUS], full[NR_CPUS];
};

static void tlb_counts_read(struct tlb_counts *c)
{
    unsigned cpu;

    for_each_online_cpu(cpu) {
        c->local[cpu] = __atomic_load_n(&percpu_area[cpu].tlb_local_flushes, __ATOMIC_RELAXED);
        c->remote[cpu] = __atomic_load_n(&percpu_area[cpu].tlb_remote_flushes, __ATOMIC_RELAXED);
        c->full[cpu] = __atomic_load_n(&percpu_area[cpu].tlb_full_flushes, __ATOMIC_RELAXED);
    }
}

/* One shootdown: exactly one flush on every online CPU, in the IPI handler (IRQs off) on the others. */
KTEST(tlb_shootdown_reaches_every_cpu)
{
    uint64_t va = TEST_VA(3);
    unsigned cpu, self = smp_processor_id();
    unsigned long irqs_on = tlb_flush_irqs_on;
    struct tlb_counts before, after;

    tlb_counts_read(&before);
    flush_tlb_range(va, va + PAGE_SIZE);
    tlb_counts_read(&after);
    for_each_online_cpu(cpu) {
        uint64_t local = after.local[cpu] - before.local[cpu], remote = after.remote[cpu] - before.remote[cpu];
        KTEST_EXPECT_MSG(t, local == (cpu == self) && remote == (cpu != self),
                         "CPU %u: %lu local and %lu remote flushes, expected %u and %u",
                         cpu, local, remote, cpu == self, cpu != self);
        KTEST_EXPECT_MSG(t, after.full[cpu] == before.full[cpu], "CPU %u did a full flush for one page", cpu);
    }
    KTEST_EXPECT_MSG(t, tlb_flush_irqs_on == irqs_on, "%lu flushes ran with IRQs on", tlb_flush_irqs_on - irqs_on);
}

/*
 * Up to the ceiling (33 pages) a flush is invlpg per page; one page more and
 * it is a CR3 reload on every CPU, which must drop stale entries as well.
 */
KTEST(tlb_full_flush_above_ceiling)
{
    uint64_t va = TEST_VA(4), a = page_filled('A'), b = page_filled('B');
    uint64_t range = TLB_SINGLE_PAGE_FLUSH_CEILING * PAGE_SIZE;
    unsigned cpu, self = smp_processor_id();
    struct tlb_counts before, after;
    struct tlb_probe probe = { .va = va };

    tlb_counts_read(&before);
    flush_tlb_range(va, va + range);
    tlb_counts_read(&after);
    for_each_online_cpu(cpu)
        KTEST_EXPECT_MSG(t, after.full[cpu] == before.full[cpu], "CPU %u: full flush for %u pages",
                         cpu, TLB_SINGLE_PAGE_FLUSH_CEILING);

    /* Stale entries everywhere, as in tlb_shootdown_hazard, then the big flush. */
    KTEST_EXPECT(t, map_kernel_page(va, a, PTE_NX) == 0);
    KTEST_EXPECT(t, read_va(va) == 'A');
    probe_other_cpus(&probe);
    KTEST_EXPECT(t, remap_kernel_page(va, b, PTE_NX) == 0);
    tlb_counts_read(&before);
    flush_tlb_range(va, va + range + PAGE_SIZE);
    tlb_counts_read(&after);
    for_each_online_cpu(cpu)
        KTEST_EXPECT_MSG(t, after.full[cpu] == before.full[cpu] + 1, "CPU %u: %lu full flushes for %u pages, expected 1",
                         cpu, after.full[cpu] - before.full[cpu], TLB_SINGLE_PAGE_FLUSH_CEILING + 1);
    KTEST_EXPECT(t, read_va(va) == 'B');
    probe_other_cpus(&probe);
    for_each_online_cpu(cpu)
        if (cpu != self)
            KTEST_EXPECT_MSG(t, probe.seen[cpu] == 'B', "CPU %u read '%c' after the full flush", cpu, probe.seen[cpu]);
    unmap_and_free(va, a, b);
}

static void bench_empty(void *info)
{
    (void)info;
}

#define BENCH_RUNS 101

/* The median of n samples (sorts them; insertion sort is plenty for 101). */
static uint64_t median(uint64_t *s, int n)
{
    for (int i = 1; i < n; i++) {
        uint64_t v = s[i];
        int j = i;
        for (; j > 0 && s[j - 1] > v; j--)
            s[j] = s[j - 1];
        s[j] = v;
    }
    return s[n / 2];
}

/*
 * Cycles (rdtsc) for one IPI round trip and for a one-page shootdown to
 * every other CPU, medians of 101 runs, printed as KTAP diagnostics. Under
 * TCG these are emulation costs, useful to compare with each other, not
 * with hardware; time them on KVM for real numbers.
 */
KTEST(tlb_bench)
{
    uint64_t va = TEST_VA(5), ipi[BENCH_RUNS], flush[BENCH_RUNS];
    unsigned target = cpumask_next((int)smp_processor_id(), &cpu_online_mask);

    if (num_online_cpus() < 2) {
        ktest_skip(t, "needs 2 CPUs");
        return;
    }
    if (target >= NR_CPUS)
        target = cpumask_next(-1, &cpu_online_mask);
    for (int i = 0; i < BENCH_RUNS; i++) {
        uint64_t t0 = rdtsc();
        smp_call_function_single(target, bench_empty, NULL, true);
        ipi[i] = rdtsc() - t0;
    }
    for (int i = 0; i < BENCH_RUNS; i++) {
        uint64_t t0 = rdtsc();
        flush_tlb_range(va, va + PAGE_SIZE);
        flush[i] = rdtsc() - t0;
    }
    uint64_t ipi_c = median(ipi, BENCH_RUNS), flush_c = median(flush, BENCH_RUNS);
    uint64_t khz = tsc_khz ? tsc_khz : 1;
    printk("# tlb_bench: IPI round trip to CPU %u: %lu cycles (%lu ns), median of %d\n",
           target, ipi_c, ipi_c * 1000000 / khz, BENCH_RUNS);
    printk("# tlb_bench: one-page shootdown to %u other CPUs: %lu cycles (%lu ns), median of %d\n",
           num_online_cpus() - 1, flush_c, flush_c * 1000000 / khz, BENCH_RUNS);
    KTEST_EXPECT(t, ipi_c > 0 && flush_c > 0);
}
