/* arch/x86_64/percpu.c: the per-CPU areas, and setting each CPU's GS base to its own. */
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/cpu.h"

struct percpu percpu_area[NR_CPUS];

void percpu_init_cpu(unsigned cpu)
{
    struct percpu *p = &percpu_area[cpu];

    p->self = p;
    p->cpu = cpu;
    /* No user mode, so no swapgs: GS_BASE stays the kernel's for good. */
    wrmsr(MSR_GS_BASE, (uint64_t)p);
}
