/* arch/x86_64/percpu.h: per-CPU data reached through the GS base, and smp_processor_id(). */
#ifndef ARCH_X86_64_PERCPU_H
#define ARCH_X86_64_PERCPU_H

#include <stddef.h>
#include <stdint.h>

#define NR_CPUS 32

/*
 * Each CPU's IA32_GS_BASE MSR points at its own struct percpu, so a
 * `mov %gs:offset, reg` reads this CPU's copy in one instruction, with no
 * lock and no CPU number to look up: the same trick Linux's this_cpu_*()
 * uses. Later subsystems add their fields here.
 */
struct percpu {
    struct percpu *self;        /* this struct's own address, for this_cpu_ptr() */
    unsigned cpu;               /* logical CPU number, 0 = the boot CPU */
    uint32_t apic_id;
};

extern struct percpu percpu_area[NR_CPUS];

#define this_cpu_read(field) ({                                               \
    __typeof__(((struct percpu *)0)->field) v__;                              \
    __asm__ volatile("mov %%gs:%c1, %0" : "=r"(v__)                           \
                     : "i"(offsetof(struct percpu, field)));                  \
    v__; })

#define this_cpu_write(field, val) do {                                       \
    __typeof__(((struct percpu *)0)->field) v__ = (val);                      \
    __asm__ volatile("mov %0, %%gs:%c1" : : "r"(v__)                          \
                     : "i"(offsetof(struct percpu, field)) : "memory");       \
} while (0)

static inline struct percpu *this_cpu_ptr(void)
{
    return this_cpu_read(self);
}

static inline unsigned smp_processor_id(void)
{
    return this_cpu_read(cpu);
}

/* Point this CPU's GS base at percpu_area[cpu]; call before anything uses this_cpu_*. */
void percpu_init_cpu(unsigned cpu);

#endif
