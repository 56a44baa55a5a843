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
/* CPUs whose backtrace was printed since nmi_backtrace_new_report(). */
static struct cpumask shown_in_report;
/* The CPU printing a backtrace, or -1: see backtrace_print_begin(). */
static int print_owner = -1;

/*
 * Linux's printk_cpu_sync_get_irqsave() in nmi_cpu_backtrace(): the targets
 * of one request take their NMIs at the same time, and one CPU at a time
 * prints, so their lines never interleave. Re-entrant on the owner CPU
 * (false: it held the lock already), so an NMI over this CPU's own print
 * cannot deadlock on it. A waiter spins in NMI context: the owner is
 * printing, which needs no other CPU, so it ends.
 */
static bool backtrace_print_begin(void)
{
    int me = (int)smp_processor_id();

    if (__atomic_load_n(&print_owner, __ATOMIC_RELAXED) == me)
        return false;
    while (!__atomic_compare_exchange_n(&print_owner, &(int){-1}, me, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        cpu_relax();
    return true;
}

static void backtrace_print_end(bool taken)
{
    nmi_backtrace_mark_shown(smp_processor_id());
    if (taken)
        __atomic_store_n(&print_owner, -1, __ATOMIC_RELEASE);
}

void nmi_backtrace_new_report(void)
{
    cpumask_clear(&shown_in_report);
}

void nmi_backtrace_mark_shown(unsigned cpu)
{
    cpumask_set_cpu(cpu, &shown_in_report);
}

bool nmi_backtrace_shown(unsigned cpu)
{
    return cpumask_test_cpu(cpu, &shown_in_report);
}

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

/*
 * The NMI handler: claims the NMI if this CPU was asked for a backtrace.
 * A CPU that was idling, halted in default_idle(), prints Linux's one line
 * instead of a stack that would only show the idle loop.
 */
static bool nmi_cpu_backtrace(struct pt_regs *regs)
{
    unsigned cpu = smp_processor_id();
    uint32_t pc = preempt_count() - (NMI_OFFSET + HARDIRQ_OFFSET);

    if (!cpumask_test_cpu(cpu, &backtrace_mask))
        return false;
    nmi_backtrace_last[cpu].rip = regs->rip;
    nmi_backtrace_last[cpu].rflags = regs->rflags;
    nmi_backtrace_last[cpu].preempt_count = pc;
    bool taken = backtrace_print_begin();
    if (cpu_in_idle(regs->rip)) {
        printk(KERN_WARNING "NMI backtrace for cpu %u skipped: idling at %pS\n", cpu, (void *)regs->rip);
    } else {
        printk(KERN_WARNING "NMI backtrace for cpu %u\n", cpu);
        printk(KERN_WARNING "CPU: %u PID: %d Comm: %s\n", cpu, current_pid(), current_comm());
        print_interrupted_context(pc);
        show_regs(regs);
        show_trace(regs->rip, regs->rbp, regs->rsp);
    }
    backtrace_print_end(taken);
    __atomic_fetch_add(&nmi_backtrace_last[cpu].seq, 1, __ATOMIC_RELEASE);
    cpumask_clear_cpu(cpu, &backtrace_mask);
    return true;
}

void nmi_backtrace_self(const char *note)
{
    bool taken = backtrace_print_begin();

    printk(KERN_WARNING "NMI backtrace for cpu %u%s\n", smp_processor_id(), note);
    dump_stack();
    backtrace_print_end(taken);
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
        nmi_backtrace_self("");
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

/*
 * The monitor's `nmi` lines the other CPUs up before it sends: it waits
 * until each target in mask has taken a tick after this call began and has
 * left the interrupt again (preempt_count 0, no interrupt frame), at most
 * three tick periods; a CPU stuck with IF=0 takes no tick and is shown
 * after that wait, wherever it is. Why: every CPU ticks on one grid
 * (kernel/time.c), so an NMI sent at a random moment can land on a CPU that
 * is just taking its tick: under QEMU's round-robin TCG an idle CPU woken by
 * its timer may sit at the interrupt stub's first instruction until
 * another CPU's turn ends. The backtrace would then show the tick, not the
 * idle loop, depending only on how long the boot took. Linux sends at
 * once; the waiting is irqlab's, for a monitor command whose answer should
 * not depend on the moment. The detectors' backtraces do not wait.
 */
static void nmi_line_up(const struct cpumask *mask)
{
    uint64_t ticks[NR_CPUS], deadline = ktime_get_ns() + 3 * (NSEC_PER_SEC / (unsigned)param_hz);
    unsigned cpu, this_cpu = smp_processor_id();

    for_each_cpu(cpu, mask)
        ticks[cpu] = __atomic_load_n(&percpu_area[cpu].tick_count, __ATOMIC_ACQUIRE);
    for_each_cpu(cpu, mask) {
        const struct percpu *p = &percpu_area[cpu];

        while (cpu != this_cpu && ktime_get_ns() < deadline &&
               (__atomic_load_n(&p->tick_count, __ATOMIC_ACQUIRE) == ticks[cpu] ||
                __atomic_load_n(&p->preempt_count, __ATOMIC_ACQUIRE) != 0 ||
                __atomic_load_n(&p->irq_regs, __ATOMIC_ACQUIRE) != NULL))
            cpu_relax();
    }
}

MONITOR_COMMAND_ARGS(nmi, "[CPU]", 0, 1, "NMI backtrace of one CPU, or of all")
{
    if (argc < 2) {
        nmi_line_up(&cpu_online_mask);
        return trigger_all_cpu_backtrace() ? 0 : 1;
    }
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
    struct cpumask one;

    cpumask_clear(&one);
    cpumask_set_cpu(cpu, &one);
    nmi_line_up(&one);
    return trigger_cpu_backtrace(cpu) ? 0 : 1;
}
