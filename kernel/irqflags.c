/* kernel/irqflags.c: irq-state tracing (trace_hardirqs_on/off, the irq event stamps) and the bogus-restore check. */
#include "kernel/irqflags.h"
#include "arch/x86_64/percpu.h"
#include "kernel/bug.h"
#include "kernel/cpumask.h"
#include "kernel/lockdep.h"
#include "kernel/monitor.h"
#include "kernel/printk.h"
#include "kernel/trace.h"

unsigned long bogus_irq_restore_count;

void warn_bogus_irq_restore(void)
{
    __atomic_fetch_add(&bogus_irq_restore_count, 1, __ATOMIC_RELAXED);
    WARN_ONCE(1, "raw_local_irq_restore() called with IRQs enabled");
}

/*
 * Both are called with IF=0 (just before the sti, just after the cli, or by
 * the interrupt entry code, where the gate cleared IF), so no interrupt can
 * land between the updates of this CPU's stamps. An NMI could, but the
 * entry code traces an NMI only if it interrupted IF=1 code, which is
 * never in the middle of these.
 */
__attribute__((noinline)) void trace_hardirqs_on(void)
{
    unsigned long ip = _RET_IP_;
    struct irqtrace_events *t = &this_cpu_ptr()->irqtrace;

    if (!arch_irqs_disabled())
        return;                         /* already on: not a transition */
    t->irq_events++;
    t->hardirq_enable_ip = ip;
    t->hardirq_enable_event = t->irq_events;
    trace_event(TRACE_IRQ_ENABLE, 0, 0, (void *)ip, NULL);
    lockdep_hardirqs_on(ip);
}

__attribute__((noinline)) void trace_hardirqs_off(void)
{
    unsigned long ip = _RET_IP_;
    struct irqtrace_events *t = &this_cpu_ptr()->irqtrace;

    t->irq_events++;
    t->hardirq_disable_ip = ip;
    t->hardirq_disable_event = t->irq_events;
    trace_event(TRACE_IRQ_DISABLE, 0, 0, (void *)ip, NULL);
    lockdep_hardirqs_off(ip);
}

void trace_softirqs_on(unsigned long ip)
{
    struct irqtrace_events *t = &this_cpu_ptr()->irqtrace;

    t->irq_events++;
    t->softirq_enable_ip = ip;
    t->softirq_enable_event = t->irq_events;
}

void trace_softirqs_off(unsigned long ip)
{
    struct irqtrace_events *t = &this_cpu_ptr()->irqtrace;

    t->irq_events++;
    t->softirq_disable_ip = ip;
    t->softirq_disable_event = t->irq_events;
}

/*
 * As Linux's print_irqtrace_events(). The record is copied first, with IRQs off (raw_, so the copy does
 * not record itself): for this CPU that is a consistent snapshot; another
 * CPU's may be caught mid-update.
 */
void print_irqtrace_events_prefixed(unsigned cpu, const char *prefix)
{
    struct irqtrace_events t;
    unsigned long flags;

    raw_local_irq_save(flags);
    t = percpu_area[cpu].irqtrace;
    raw_local_irq_restore(flags);
    printk("%sirq event stamp: %lu\n", prefix, t.irq_events);
    printk("%shardirqs last  enabled at (%lu): [<%px>] %pS\n", prefix, t.hardirq_enable_event,
           (void *)t.hardirq_enable_ip, (void *)t.hardirq_enable_ip);
    printk("%shardirqs last disabled at (%lu): [<%px>] %pS\n", prefix, t.hardirq_disable_event,
           (void *)t.hardirq_disable_ip, (void *)t.hardirq_disable_ip);
    printk("%ssoftirqs last  enabled at (%lu): [<%px>] %pS\n", prefix, t.softirq_enable_event,
           (void *)t.softirq_enable_ip, (void *)t.softirq_enable_ip);
    printk("%ssoftirqs last disabled at (%lu): [<%px>] %pS\n", prefix, t.softirq_disable_event,
           (void *)t.softirq_disable_ip, (void *)t.softirq_disable_ip);
}

void print_irqtrace_events(unsigned cpu)
{
    print_irqtrace_events_prefixed(cpu, "");
}

unsigned long hardirq_sti_count(unsigned cpu)
{
    return __atomic_load_n(&percpu_area[cpu].hardirq_sti_count, __ATOMIC_RELAXED);
}

unsigned long hardirq_sti_last_ip(unsigned cpu)
{
    return __atomic_load_n(&percpu_area[cpu].hardirq_sti_ip, __ATOMIC_RELAXED);
}

MONITOR_COMMAND(irqtrace, "last hardirq and softirq on/off per CPU, and sti executed in hardirq context")
{
    unsigned cpu;

    (void)argc; (void)argv;
    for_each_online_cpu(cpu) {
        printk("CPU%u:\n", cpu);
        print_irqtrace_events(cpu);
        printk("sti in hardirq context: %lu, last at %pS\n", hardirq_sti_count(cpu),
               (void *)hardirq_sti_last_ip(cpu));
    }
    return 0;
}
