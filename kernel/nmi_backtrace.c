/* kernel/nmi_backtrace.c: NMI backtraces of other CPUs, as Linux's lib/nmi_backtrace.c. */
#include "kernel/nmi_backtrace.h"
#include "kernel/sched.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/dumpstack.h"
#include "arch/x86_64/irq.h"
#include "kernel/hardirq.h"
#include "kernel/monitor.h"
#include "kernel/printk.h"
#include "kernel/time.h"
#include "kernel/vsprintf.h"

struct nmi_backtrace_record nmi_backtrace_last[NR_CPUS];

/* CPUs asked for a backtrace and not done yet; each clears its own bit. */
static struct cpumask backtrace_mask;

/* Print the context the NMI interrupted: its preempt_count less our own NMI entry. */
static void print_interrupted_context(uint32_t pc)
{
    if (pc & NMI_MASK)
        printk(KERN_WARNING "interrupted context: NMI\n");
    else if (pc & HARDIRQ_MASK)
        printk(KERN_WARNING "interrupted context: hardirq (nesting depth %u)\n", (pc & HARDIRQ_MASK) >> HARDIRQ_SHIFT);
    else
        printk(KERN_WARNING "interrupted context: task (preempt_count %#x)\n", pc);
}

/* The NMI handler: claims the NMI if this CPU was asked for a backtrace. */
static bool nmi_cpu_backtrace(struct pt_regs *regs)
{
    unsigned cpu = smp_processor_id();
    uint32_t pc = preempt_count() - (NMI_OFFSET + HARDIRQ_OFFSET);

    if (!cpumask_test_cpu(cpu, &backtrace_mask))
        return false;
    nmi_backtrace_last[cpu].rip = regs->rip;
    nmi_backtrace_last[cpu].rflags = regs->rflags;
    nmi_backtrace_last[cpu].preempt_count = pc;
    printk(KERN_WARNING "NMI backtrace for cpu %u\n", cpu);
    printk(KERN_WARNING "CPU: %u PID: %d Comm: %s\n", cpu, current_pid(), current_comm());
    print_interrupted_context(pc);
    show_regs(regs);
    show_trace(regs->rip, regs->rbp, regs->rsp);
    __atomic_fetch_add(&nmi_backtrace_last[cpu].seq, 1, __ATOMIC_RELEASE);
    cpumask_clear_cpu(cpu, &backtrace_mask);
    return true;
}

void nmi_backtrace_init(void)
{
    register_nmi_handler(nmi_cpu_backtrace);
}

bool trigger_cpumask_backtrace(const struct cpumask *mask)
{
    unsigned cpu, this_cpu = smp_processor_id();
    char list[3 * NR_CPUS + 1];
    unsigned used = 0;

    backtrace_mask = *mask;
    for_each_cpu(cpu, mask)
        used += (unsigned)ksnprintf(list + used, sizeof list - used, "%s%u", used ? "," : "", cpu);
    printk(KERN_INFO "Sending NMI from CPU %u to CPUs %s:\n", this_cpu, list);
    for_each_cpu(cpu, mask) {
        if (cpu != this_cpu)
            apic_send_NMI(cpu);
    }
    /* Our own backtrace needs no NMI: dump our stack directly. */
    if (cpumask_test_cpu(this_cpu, mask)) {
        printk(KERN_WARNING "NMI backtrace for cpu %u\n", this_cpu);
        dump_stack();
        cpumask_clear_cpu(this_cpu, &backtrace_mask);
    }
    uint64_t deadline = ktime_get_ns() + 10ULL * 1000000000ULL;
    while (!cpumask_empty(&backtrace_mask) && ktime_get_ns() < deadline)
        cpu_relax();
    if (!cpumask_empty(&backtrace_mask)) {
        for_each_cpu(cpu, &backtrace_mask)
            pr_warn("NMI backtrace: CPU %u did not answer within 10 s\n", cpu);
        return false;
    }
    return true;
}

bool trigger_cpu_backtrace(unsigned cpu)
{
    struct cpumask m;

    cpumask_clear(&m);
    cpumask_set_cpu(cpu, &m);
    return trigger_cpumask_backtrace(&m);
}

bool trigger_all_cpu_backtrace(void)
{
    return trigger_cpumask_backtrace(&cpu_online_mask);
}

MONITOR_COMMAND_ARGS(nmi, "[CPU]", 0, 1, "NMI backtrace of one CPU, or of all")
{
    if (argc < 2)
        return trigger_all_cpu_backtrace() ? 0 : 1;
    unsigned cpu = 0;
    for (const char *p = argv[1]; *p; p++) {
        if (*p < '0' || *p > '9' || cpu > NR_CPUS) {
            printk("nmi: '%s' is not a CPU number; online CPUs are 0-%u\n", argv[1], num_online_cpus() - 1);
            return 1;
        }
        cpu = cpu * 10 + (unsigned)(*p - '0');
    }
    if (cpu >= NR_CPUS || !cpu_online(cpu)) {
        printk("nmi: CPU %u is not online; online CPUs are 0-%u\n", cpu, num_online_cpus() - 1);
        return 1;
    }
    return trigger_cpu_backtrace(cpu) ? 0 : 1;
}
