/* tests/kernel/test_trace.c: the interrupt tracer records a lock pair in order, nothing when off, and its cost. */
#include "kernel/ktest.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/percpu.h"
#include "kernel/irqflags.h"
#include "kernel/printk.h"
#include "kernel/spinlock.h"
#include "kernel/time.h"
#include "kernel/trace.h"

static DEFINE_SPINLOCK(trace_test_lock);

/* The types of the events this CPU recorded about trace_test_lock, oldest first; returns how many. */
static unsigned lock_events(unsigned cpu, enum trace_type *types, unsigned max)
{
    enum trace_type type;
    const void *p;
    unsigned n = 0;

    for (uint64_t i = 0; trace_peek(cpu, i, &type, &p); i++)
        if (p == trace_test_lock.dep_map.name && n < max)
            types[n++] = type;
    return n;
}

/* IRQs off throughout: one CPU, and no interrupt's events in between. */
KTEST(trace_records_lock_pair_in_order)
{
    enum trace_type types[8];
    unsigned cpu;

    local_irq_disable();
    cpu = smp_processor_id();
    trace_start(ktime_get_ns());
    spin_lock(&trace_test_lock);
    spin_unlock(&trace_test_lock);
    trace_stop();
    unsigned n = lock_events(cpu, types, 8);
    local_irq_enable();
    KTEST_EXPECT_MSG(t, n == 3, "%u events about the lock, expected 3 (acquire, acquired, release)", n);
    KTEST_EXPECT(t, n == 3 && types[0] == TRACE_LOCK_ACQUIRE && types[1] == TRACE_LOCK_ACQUIRED &&
                 types[2] == TRACE_LOCK_RELEASE);
}

KTEST(trace_off_records_nothing)
{
    local_irq_disable();
    unsigned cpu = smp_processor_id();
    trace_start(ktime_get_ns());
    trace_stop();
    uint64_t before = trace_recorded(cpu);
    spin_lock(&trace_test_lock);
    spin_unlock(&trace_test_lock);
    uint64_t after = trace_recorded(cpu);
    local_irq_enable();
    KTEST_EXPECT_MSG(t, after == before, "tracer off: %lu events recorded, expected none", after - before);
}

#define PAIRS 1001

static uint64_t samples[PAIRS];

/* The median of PAIRS timed spin_lock+unlock pairs, IRQs off, in TSC cycles (rdtsc overhead included). */
static uint64_t lock_pair_cycles(void)
{
    for (unsigned i = 0; i < PAIRS; i++) {
        __asm__ volatile("lfence" : : : "memory");
        uint64_t start = rdtsc();
        __asm__ volatile("lfence" : : : "memory");
        spin_lock(&trace_test_lock);
        spin_unlock(&trace_test_lock);
        __asm__ volatile("lfence" : : : "memory");
        samples[i] = rdtsc() - start;
    }
    for (unsigned i = 1; i < PAIRS; i++)                /* insertion sort: no qsort in the kernel */
        for (unsigned j = i; j > 0 && samples[j - 1] > samples[j]; j--) {
            uint64_t tmp = samples[j];
            samples[j] = samples[j - 1];
            samples[j - 1] = tmp;
        }
    return samples[PAIRS / 2];
}

/* The tracer's cost on a lock pair (docs/trace.md): three events, on against off. */
KTEST(trace_lock_pair_cost)
{
    local_irq_disable();
    uint64_t off = lock_pair_cycles();
    trace_start(ktime_get_ns());
    uint64_t on = lock_pair_cycles();
    trace_stop();
    local_irq_enable();
    printk("# trace: spin_lock+unlock pair, median of %u: %lu cycles with the tracer off, %lu on\n", PAIRS, off, on);
    KTEST_EXPECT(t, on >= off / 2 && off > 0);
}
