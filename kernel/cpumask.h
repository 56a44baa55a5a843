/* kernel/cpumask.h: sets of CPUs as a bitmap, and the masks of possible and online CPUs. */
#ifndef KERNEL_CPUMASK_H
#define KERNEL_CPUMASK_H

#include <stdbool.h>
#include <stdint.h>
#include "arch/x86_64/percpu.h"

/* NR_CPUS (arch/x86_64/percpu.h) is at most 64, so one word holds a mask. */
_Static_assert(NR_CPUS <= 64, "a cpumask is one 64-bit word");

struct cpumask {
    uint64_t bits;
};

static inline void cpumask_clear(struct cpumask *m) { m->bits = 0; }
static inline void cpumask_set_cpu(unsigned cpu, struct cpumask *m)
{
    __atomic_fetch_or(&m->bits, 1UL << cpu, __ATOMIC_RELAXED);
}
static inline void cpumask_clear_cpu(unsigned cpu, struct cpumask *m)
{
    __atomic_fetch_and(&m->bits, ~(1UL << cpu), __ATOMIC_RELAXED);
}
static inline bool cpumask_test_cpu(unsigned cpu, const struct cpumask *m)
{
    return (__atomic_load_n(&m->bits, __ATOMIC_RELAXED) >> cpu) & 1;
}
static inline unsigned cpumask_weight(const struct cpumask *m)
{
    uint64_t bits = __atomic_load_n(&m->bits, __ATOMIC_RELAXED);
    unsigned n = 0;

    for (; bits; bits &= bits - 1)      /* clears the lowest set bit */
        n++;
    return n;
}
static inline bool cpumask_empty(const struct cpumask *m) { return m->bits == 0; }

/* The next set CPU after `cpu` (use -1 to start), or NR_CPUS when none. */
static inline unsigned cpumask_next(int cpu, const struct cpumask *m)
{
    for (unsigned c = (unsigned)(cpu + 1); c < NR_CPUS; c++)
        if (cpumask_test_cpu(c, m))
            return c;
    return NR_CPUS;
}

/* The highest CPU in the mask, or NR_CPUS when it is empty. */
static inline unsigned cpumask_last(const struct cpumask *m)
{
    uint64_t bits = __atomic_load_n(&m->bits, __ATOMIC_RELAXED);

    return bits ? 63 - (unsigned)__builtin_clzll(bits) : NR_CPUS;
}

#define for_each_cpu(cpu, mask) \
    for ((cpu) = cpumask_next(-1, (mask)); (cpu) < NR_CPUS; (cpu) = cpumask_next((int)(cpu), (mask)))

/* CPUs the MADT lists as enabled, and those that have booted and answer. */
extern struct cpumask cpu_possible_mask;
extern struct cpumask cpu_online_mask;

#define for_each_possible_cpu(cpu) for_each_cpu(cpu, &cpu_possible_mask)
#define for_each_online_cpu(cpu)   for_each_cpu(cpu, &cpu_online_mask)

static inline unsigned num_online_cpus(void) { return cpumask_weight(&cpu_online_mask); }
static inline bool cpu_online(unsigned cpu) { return cpumask_test_cpu(cpu, &cpu_online_mask); }

#endif
