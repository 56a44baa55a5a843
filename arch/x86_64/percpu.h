/* arch/x86_64/percpu.h: per-CPU data reached through the GS base, and smp_processor_id(). */
#ifndef ARCH_X86_64_PERCPU_H
#define ARCH_X86_64_PERCPU_H

#include <stddef.h>
#include <stdint.h>

#define NR_CPUS 32

struct task_struct;
struct rq;
struct pt_regs;

/*
 * Linux's struct irqtrace_events: the irq-state tracing of kernel/irqflags.c
 * (trace_hardirqs_on/off, trace_softirqs_on/off) numbers every hardirq and
 * softirq on/off transition with a
 * running stamp and remembers where the last of each happened, for
 * print_irqtrace_events() in lockdep reports.
 */
struct irqtrace_events {
    unsigned long irq_events;           /* the stamp: transitions so far */
    unsigned long hardirq_enable_ip;    /* where IRQs were last turned on ... */
    unsigned long hardirq_enable_event; /* ... and that transition's stamp */
    unsigned long hardirq_disable_ip;
    unsigned long hardirq_disable_event;
    unsigned long softirq_disable_ip;   /* BHs (softirqs) last turned off: local_bh_disable() ... */
    unsigned long softirq_disable_event;
    unsigned long softirq_enable_ip;    /* ... and back on (kernel/softirq.c) */
    unsigned long softirq_enable_event;
};

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
    uint32_t preempt_count;     /* preemption, softirq, hardirq and NMI nesting (kernel/hardirq.h) */
    uint64_t irq_count[256];    /* interrupts taken per vector, for the monitor's `irqs` */
    /* TLB flushes this CPU did (arch/x86_64/tlb.c), for the monitor's `tlb`: */
    uint64_t tlb_local_flushes;     /* for flushes it started itself */
    uint64_t tlb_remote_flushes;    /* for another CPU's shootdown IPI */
    uint64_t tlb_full_flushes;      /* of those two, done by reloading CR3 */
    uint64_t tick_count;        /* this CPU's periodic ticks (kernel/time.c), for the monitor's `time` */
    struct irqtrace_events irqtrace;    /* irq-state tracing (kernel/irqflags.c) */
    /* sti instructions executed in hardirq context, and the last one's address
     * (arch/x86_64/irqflags.h; read with hardirq_sti_count()): */
    unsigned long hardirq_sti_count;
    unsigned long hardirq_sti_ip;
    /* RFLAGS saved by the outermost local_interrupt_disable() (kernel/irq_disable.c) */
    unsigned long interrupt_disable_flags;
    /* The scheduler (kernel/sched.c): the task running here, this CPU's run
     * queue, and "call schedule() soon", set by the tick, by wakeups and by
     * the reschedule IPI, cleared by the switch. */
    struct task_struct *current_task;
    struct rq *rq;
    uint32_t need_resched;
    /* The registers of the context the current interrupt interrupted, or
     * NULL outside do_IRQ() (Linux's get_irq_regs(); arch/x86_64/irq.c). */
    struct pt_regs *irq_regs;
};

extern struct percpu percpu_area[NR_CPUS];

#define this_cpu_read(field) ({                                               \
    __typeof__(((struct percpu *)0)->field) v__;                              \
    __asm__ volatile("mov %%gs:%c1, %0" : "=r"(v__)                           \
                     : "i"(offsetof(struct percpu, field)));                  \
    v__; })

#define this_cpu_write(field, val) do {                                       \
    __typeof__(((struct percpu *)0)->field) v__ = (val);                      \
    __asm__ volatile("mov %0, %%gs:%c1" : : "r"(v__),                         \
                     "i"(offsetof(struct percpu, field)) : "memory");         \
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
