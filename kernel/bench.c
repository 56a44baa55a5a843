/* kernel/bench.c: bench=: time the irq, lock, IPI and TLB-shootdown primitives with the TSC; a row per primitive. */
#define pr_fmt(fmt) "bench: " fmt

#include "kernel/bench.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/cpufeature.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/stacks.h"
#include "arch/x86_64/tlb.h"
#include "drivers/qemu_exit.h"
#include "kernel/bug.h"
#include "kernel/cpumask.h"
#include "kernel/irq_disable.h"
#include "kernel/irqflags.h"
#include "kernel/lockdep.h"
#include "kernel/printk.h"
#include "kernel/smp.h"
#include "kernel/spinlock.h"
#include "kernel/string.h"
#include "kernel/time.h"
#include "kernel/vsprintf.h"

char param_bench[32];
int param_bench_samples = BENCH_SAMPLES_DEFAULT;
bool param_bench_refused, param_bench_samples_refused, param_bench_samples_given;

/*
 * The groups bench= may name, in the order "all" runs them. Each prints
 * one row or more; docs/bench.md says what each row measures.
 */
static const char *const bench_groups[] = {
    "tsc", "irqsave", "counted", "spin_lock", "spin_lock_irqsave", "ipi", "shootdown",
};
#define NR_BENCH_GROUPS (sizeof bench_groups / sizeof bench_groups[0])

/*
 * The cheap primitives are timed BENCH_LOOPS times between two TSC reads,
 * and the sample is the mean per operation: one operation alone would be
 * lost in the cost of the reads themselves (the tsc_pair row shows that
 * floor). The IPI and shootdown rows time one operation per sample.
 */
#define BENCH_LOOPS 64

static uint64_t samples[BENCH_SAMPLES_MAX];
static unsigned rows_printed, rows_skipped;
static DEFINE_SPINLOCK(bench_lock);

bool bench_valid_name(const char *name)
{
    if (strcmp(name, "all") == 0)
        return true;
    for (unsigned i = 0; i < NR_BENCH_GROUPS; i++)
        if (strcmp(name, bench_groups[i]) == 0)
            return true;
    return false;
}

void bench_list(char *buf, unsigned long size)
{
    unsigned long used = (unsigned long)ksnprintf(buf, size, "all");

    for (unsigned i = 0; i < NR_BENCH_GROUPS && used < size; i++)
        used += (unsigned long)ksnprintf(buf + used, size - used, ", %s", bench_groups[i]);
}

/*
 * A TSC read ordered against the code around it. RDTSC alone is not
 * serializing: the CPU may execute it before earlier instructions finish
 * or after later ones start, so the interval would not bracket the work.
 * The SDM (Vol. 2B, RDTSC, and Vol. 3B 18.17 "Time-Stamp Counter") gives
 * the recipe: LFENCE immediately before makes it wait for every earlier
 * instruction; LFENCE immediately after keeps every later instruction,
 * memory accesses included, from starting before it. (RDTSCP would order
 * only the earlier side, and QEMU's default CPU model lacks it.)
 */
static inline uint64_t bench_tsc(void)
{
    uint32_t lo, hi;

    __asm__ volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi) : : "memory");
    return ((uint64_t)hi << 32) | lo;
}

/* The mean cycles per iteration of `stmt` over BENCH_LOOPS runs, rounded. */
#define BENCH_TIME_LOOP(stmt) ({                                                \
    uint64_t t0__ = bench_tsc();                                                \
    for (unsigned i__ = 0; i__ < BENCH_LOOPS; i__++) {                          \
        stmt;                                                                   \
    }                                                                           \
    (bench_tsc() - t0__ + BENCH_LOOPS / 2) / BENCH_LOOPS;                       \
})

/* Shell sort: n is at most BENCH_SAMPLES_MAX, and no library is at hand. */
static void sort_u64(uint64_t *a, unsigned n)
{
    for (unsigned gap = n / 2; gap > 0; gap /= 2)
        for (unsigned i = gap; i < n; i++) {
            uint64_t v = a[i];
            unsigned j = i;

            for (; j >= gap && a[j - gap] > v; j -= gap)
                a[j] = a[j - gap];
            a[j] = v;
        }
}

/* The nearest-rank percentile of sorted a[0..n): the element at floor((n-1)*pct/100). */
static uint64_t percentile(const uint64_t *a, unsigned n, unsigned pct)
{
    return a[(uint64_t)(n - 1) * pct / 100];
}

/*
 * Print one row of the table from samples[0..n): its name, median, p10,
 * p90, min, max, the sample count, and what it measures. The line format
 * is documented in docs/bench.md and parsed by scripts/bench.py.
 */
static void bench_print_row(const char *row, unsigned n, const char *what)
{
    sort_u64(samples, n);
    pr_info("%-28s %10lu %10lu %10lu %10lu %10lu %8u  %s\n", row, percentile(samples, n, 50),
            percentile(samples, n, 10), percentile(samples, n, 90), samples[0], samples[n - 1], n, what);
    rows_printed++;
}

static void bench_skip_row(const char *row, const char *why)
{
    pr_info("%-28s skipped: %s\n", row, why);
    rows_skipped++;
}

/* ---------------------------------------------------------------- the rows */

static void bench_tsc_pair(void)
{
    for (int i = 0; i < param_bench_samples; i++) {
        uint64_t t0 = bench_tsc();

        samples[i] = bench_tsc() - t0;
    }
    bench_print_row("tsc_pair", param_bench_samples,
                    "two ordered TSC reads back to back: the floor under the one-shot rows (ipi, shootdown)");
}

/*
 * The validator's state for a row: `on` rows need it to have been on at
 * the start (lockdep=off, or a report, turns it off for good), `off` rows
 * turn it off for their duration. debug_locks may be written at any time
 * (kernel/lockdep.h); the caller puts the old value back.
 */
static bool bench_set_validator(bool on, bool was_on, const char *row)
{
    if (on && !was_on) {
        bench_skip_row(row, "the lock validator is off (lockdep=off, or a report turned it off)");
        return false;
    }
    __atomic_store_n(&debug_locks, on, __ATOMIC_RELEASE);
    return true;
}

/* The four pairs, each with the validator on and off. IRQs are on when each pair starts. */
static void bench_pairs(const char *group)
{
    bool was_on = __atomic_load_n(&debug_locks, __ATOMIC_ACQUIRE);

    for (int on = 1; on >= 0; on--) {
        char row[32];
        unsigned long flags;

        ksnprintf(row, sizeof row, "%s/%s", group, on ? "lockdep" : "nolockdep");
        if (!bench_set_validator(on, was_on, row))
            continue;
        for (int i = 0; i < param_bench_samples; i++) {
            if (strcmp(group, "irqsave") == 0)
                samples[i] = BENCH_TIME_LOOP(local_irq_save(flags); local_irq_restore(flags));
            else if (strcmp(group, "counted") == 0)
                samples[i] = BENCH_TIME_LOOP(local_interrupt_disable(); local_interrupt_enable());
            else if (strcmp(group, "spin_lock") == 0)
                samples[i] = BENCH_TIME_LOOP(spin_lock(&bench_lock); spin_unlock(&bench_lock));
            else
                samples[i] = BENCH_TIME_LOOP(spin_lock_irqsave(&bench_lock, flags);
                                             spin_unlock_irqrestore(&bench_lock, flags));
        }
        __atomic_store_n(&debug_locks, was_on, __ATOMIC_RELEASE);
        bench_print_row(row, param_bench_samples,
                        strcmp(group, "irqsave") == 0 ? "local_irq_save() + local_irq_restore(), IRQs on before" :
                        strcmp(group, "counted") == 0 ? "local_interrupt_disable() + local_interrupt_enable(), "
                                                        "depth 0 before" :
                        strcmp(group, "spin_lock") == 0 ? "spin_lock() + spin_unlock(), uncontended, IRQs on" :
                        "spin_lock_irqsave() + spin_unlock_irqrestore(), uncontended, IRQs on before");
    }
}

static void bench_nop(void *info)
{
    (void)info;
}

/* The first online CPU that is not this one, or NR_CPUS when there is none. */
static unsigned bench_other_cpu(void)
{
    unsigned cpu;

    for_each_online_cpu(cpu)
        if (cpu != smp_processor_id())
            return cpu;
    return NR_CPUS;
}

static void bench_ipi(void)
{
    unsigned target = bench_other_cpu();
    char what[160];

    if (target == NR_CPUS) {
        bench_skip_row("ipi", "needs a second CPU (CPUS=2 or more)");
        return;
    }
    smp_call_function_single(target, bench_nop, NULL, true);       /* warm: caches, TLB, a woken target */
    for (int i = 0; i < param_bench_samples; i++) {
        uint64_t t0 = bench_tsc();

        smp_call_function_single(target, bench_nop, NULL, true);
        samples[i] = bench_tsc() - t0;
    }
    ksnprintf(what, sizeof what, "smp_call_function_single(wait) to idle CPU %u: IPI, an empty function there, "
              "its csd unlocked, seen here", target);
    bench_print_row("ipi", param_bench_samples, what);
}

/*
 * A shootdown of one page to the first n other CPUs, for n = 1 .. the
 * online CPUs less one: this CPU's invlpg, then a call-function IPI to
 * the n CPUs, each of which runs invlpg, and the wait for all of them.
 */
static void bench_shootdown(void)
{
    unsigned this_cpu = smp_processor_id(), targets = 0, cpu;
    uint64_t page = (uint64_t)samples & ~(PAGE_SIZE - 1);
    struct cpumask mask;

    if (num_online_cpus() < 2) {
        bench_skip_row("shootdown/1", "needs a second CPU (CPUS=2 or more)");
        return;
    }
    cpumask_clear(&mask);
    for_each_online_cpu(cpu) {
        char row[32], what[160];

        if (cpu == this_cpu)
            continue;
        cpumask_set_cpu(cpu, &mask);
        targets++;
        flush_tlb_range_mask(&mask, page, page + PAGE_SIZE);        /* warm */
        for (int i = 0; i < param_bench_samples; i++) {
            uint64_t t0 = bench_tsc();

            flush_tlb_range_mask(&mask, page, page + PAGE_SIZE);
            samples[i] = bench_tsc() - t0;
        }
        ksnprintf(row, sizeof row, "shootdown/%u", targets);
        ksnprintf(what, sizeof what, "flush_tlb_range_mask() of one page to %u CPU%s (up to CPU %u): invlpg "
                  "here, IPI, invlpg on each, wait for all", targets, targets == 1 ? "" : "s", cpu);
        bench_print_row(row, param_bench_samples, what);
    }
}

/* ---------------------------------------------------------------- the header and the run */

/*
 * Say what the cycles are cycles of. Under an emulator the TSC runs on
 * the host's clock while the guest's instructions are translated, so a
 * row is QEMU's cost of emulating the primitive, not a CPU's: useful to
 * compare rows with each other, not with hardware (docs/bench.md).
 */
static void bench_print_machine(void)
{
    char hv[13];

    cpu_get_hypervisor_vendor(hv);
    pr_info("irqlab bench: %u CPUs online, TSC %u.%03u MHz, %d samples a row, %d loops a sample "
            "for the pairs; TSC cycles per operation\n", num_online_cpus(), tsc_khz / 1000, tsc_khz % 1000,
            param_bench_samples, BENCH_LOOPS);
    if (strcmp(hv, "TCGTCGTCGTCG") == 0)
        pr_info("hypervisor: TCG (CPUID 0x40000000 '%s'): these are emulator costs, host cycles QEMU spends "
                "emulating each primitive, not a CPU's cycles; compare rows, not hardware\n", hv);
    else if (strcmp(hv, "KVMKVMKVM") == 0)
        pr_info("hypervisor: KVM (CPUID 0x40000000 '%s'): a guest's costs on real hardware, with VM exits "
                "where the guest traps (ICR writes, hlt)\n", hv);
    else if (hv[0])
        pr_info("hypervisor: '%s' (CPUID 0x40000000): a virtual machine's costs\n", hv);
    else
        pr_info("hypervisor: none reported (CPUID.1:ECX[31] is 0): bare metal, or an emulator that does "
                "not say so\n");
    pr_info("%-28s %10s %10s %10s %10s %10s %8s  %s\n", "row", "median", "p10", "p90", "min", "max", "samples",
            "what");
}

void bench_run(const char *name)
{
    WARN_ON_ONCE(!bench_valid_name(name));       /* kernel/main.c refused any other name */
    bench_print_machine();
    for (unsigned g = 0; g < NR_BENCH_GROUPS; g++) {
        const char *group = bench_groups[g];

        if (strcmp(name, "all") != 0 && strcmp(name, group) != 0)
            continue;
        if (strcmp(group, "tsc") == 0)
            bench_tsc_pair();
        else if (strcmp(group, "ipi") == 0)
            bench_ipi();
        else if (strcmp(group, "shootdown") == 0)
            bench_shootdown();
        else
            bench_pairs(group);
    }
    pr_info("done: %u rows, %u skipped\n", rows_printed, rows_skipped);
    qemu_exit(QEMU_EXIT_PASS);
}
