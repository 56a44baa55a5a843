/* arch/x86_64/irq.c: the hardirq entry path: irq_enter, per-vector accounting, handler, irq_exit; and NMIs. */
#include "arch/x86_64/irq.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/irq_vectors.h"
#include "arch/x86_64/percpu.h"
#include "kernel/bug.h"
#include "kernel/cpumask.h"
#include "kernel/hardirq.h"
#include "kernel/irqflags.h"
#include "kernel/monitor.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "kernel/trace.h"

static vector_handler_t vector_handlers[NR_VECTORS];

struct pt_regs *get_irq_regs(void)
{
    return this_cpu_read(irq_regs);
}

struct pt_regs *set_irq_regs(struct pt_regs *regs)
{
    struct pt_regs *old = this_cpu_read(irq_regs);

    this_cpu_write(irq_regs, regs);
    return old;
}
static const char *vector_names[NR_VECTORS];

void request_vector(unsigned vector, vector_handler_t handler, const char *name)
{
    WARN_ON(vector < FIRST_EXTERNAL_VECTOR || vector >= NR_VECTORS);
    vector_names[vector] = name;
    vector_handlers[vector] = handler;
}

const char *irq_vector_name(unsigned vector)
{
    return vector < NR_VECTORS ? vector_names[vector] : NULL;
}

/*
 * Every interrupt comes here through an interrupt gate, so IF=0 until the
 * iretq at the end of the stub. Like Linux's common_interrupt(): enter
 * hardirq context, count, run the handler, leave.
 *
 * The gate cleared IF and the iretq will set it again (it reloads the
 * interrupted RFLAGS), with no cli or sti the irq-state tracing could see.
 * So, as Linux's irqentry_enter()/irqentry_exit() do, record both
 * transitions here when the interrupted code had IF=1: off on entry, on
 * just before returning (the hardware does the real work; this only records).
 */
void do_IRQ(struct pt_regs *regs)
{
    unsigned vector = (unsigned)regs->vector;
    vector_handler_t handler = vector_handlers[vector];
    bool irqs_were_on = regs->rflags & X86_EFLAGS_IF;
    struct pt_regs *old_regs = set_irq_regs(regs);

    if (irqs_were_on)
        trace_hardirqs_off();
    irq_enter();
    this_cpu_ptr()->irq_count[vector]++;
    trace_event(TRACE_IRQ_ENTRY, hardirq_depth(), vector, NULL, NULL);
    if (handler) {
        handler(regs);
    } else {
        pr_warn("irq: unexpected interrupt on vector %#x on CPU %u\n", vector, smp_processor_id());
        apic_eoi();
    }
    trace_event(TRACE_IRQ_EXIT, hardirq_depth(), vector, NULL, NULL);
    irq_exit();
    set_irq_regs(old_regs);
    /*
     * Preemption (kernel/sched.c): if the tick or a wakeup asked this CPU
     * to reschedule, switch tasks here, before returning, when all three hold:
     *  - need_resched: someone asked for it;
     *  - preempt_count() == 0: the interrupted code is a task (no hardirq
     *    or NMI nesting: an interrupt that came in over a handler returns
     *    into that handler, which must finish first), and it neither
     *    disabled preemption (preempt_disable()/get_cpu(): it keeps this
     *    CPU until it says otherwise) nor counted IRQs off;
     *  - IF was 1 in the interrupted frame: code running with IRQs off is
     *    in a critical section (maybe holding a raw spinlock with IRQs off);
     *    switching away would run other code, with IRQs on, in the middle
     *    of it. (A maskable interrupt only arrives with IF=1; an `int n`
     *    instruction reaches do_IRQ with IF=0 as well.)
     * The preempted task resumes later right here, and its iretq follows.
     */
    if (irqs_were_on && preempt_count() == 0 && need_resched())
        preempt_schedule_irq();
    if (irqs_were_on)
        trace_hardirqs_on();
}

#define MAX_NMI_HANDLERS 4
static nmi_handler_t nmi_handlers[MAX_NMI_HANDLERS];

void register_nmi_handler(nmi_handler_t handler)
{
    for (int i = 0; i < MAX_NMI_HANDLERS; i++) {
        if (!nmi_handlers[i]) {
            nmi_handlers[i] = handler;
            return;
        }
    }
    WARN(1, "irq: no room for another NMI handler");
}

/*
 * Traced like do_IRQ(). That is safe even though an NMI can interrupt
 * anything: it records only when it interrupted IF=1 code, and the tracing
 * updates its stamps only with IF=0, so an NMI never lands inside one.
 */
void do_NMI(struct pt_regs *regs)
{
    bool handled = false;
    bool irqs_were_on = regs->rflags & X86_EFLAGS_IF;

    if (irqs_were_on)
        trace_hardirqs_off();
    nmi_enter();
    this_cpu_ptr()->irq_count[2]++;
    trace_event(TRACE_IRQ_ENTRY, hardirq_depth(), 2, NULL, NULL);
    for (int i = 0; i < MAX_NMI_HANDLERS && nmi_handlers[i] && !handled; i++)
        handled = nmi_handlers[i](regs);
    trace_event(TRACE_IRQ_EXIT, hardirq_depth(), 2, NULL, NULL);
    if (!handled)
        pr_emerg("Uhhuh. NMI received for unknown reason 00 on CPU %u.\n", smp_processor_id());
    nmi_exit();
    if (irqs_were_on)
        trace_hardirqs_on();
}

/* A spurious interrupt sets no in-service bit, so it must not be EOIed (SDM 11.9). */
static void spurious_interrupt(struct pt_regs *regs)
{
    (void)regs;
}

static void error_interrupt(struct pt_regs *regs)
{
    (void)regs;
    apic_write(APIC_ESR, 0);           /* latch the error bits, then read them */
    uint32_t esr = apic_read(APIC_ESR);
    apic_eoi();
    pr_err("apic: APIC error on CPU %u: ESR %#x\n", smp_processor_id(), esr);
}

void irq_init(void)
{
    request_vector(SPURIOUS_APIC_VECTOR, spurious_interrupt, "Spurious interrupts");
    request_vector(ERROR_APIC_VECTOR, error_interrupt, "APIC errors");
}

/* Like /proc/interrupts: one row per vector that fired or has a handler. */
MONITOR_COMMAND(irqs, "interrupts taken per vector and CPU (like /proc/interrupts)")
{
    unsigned cpu;

    (void)argc; (void)argv;
    printk("       ");
    for_each_online_cpu(cpu)
        pr_cont("%10s%u", "CPU", cpu);
    pr_cont("\n");
    for (unsigned v = 2; v < NR_VECTORS; v++) {
        uint64_t total = 0;
        for_each_online_cpu(cpu)
            total += percpu_area[cpu].irq_count[v];
        if (v < FIRST_EXTERNAL_VECTOR && v != 2)
            continue;
        if (!total && !vector_handlers[v])
            continue;
        printk(" 0x%02x: ", v);
        for_each_online_cpu(cpu)
            pr_cont("%11lu", percpu_area[cpu].irq_count[v]);
        pr_cont("   %s\n", v == 2 ? "Non-maskable interrupts" :
                vector_names[v] ? vector_names[v] : "(no handler)");
    }
    return 0;
}
