/* kernel/nmi_backtrace.h: ask other CPUs, through an NMI, to print where they are. */
#ifndef KERNEL_NMI_BACKTRACE_H
#define KERNEL_NMI_BACKTRACE_H

#include <stdbool.h>
#include <stdint.h>
#include "kernel/cpumask.h"

/*
 * An NMI gets through IF=0 and through any in-service vector, so it reaches
 * a CPU stuck with interrupts off: the only way to see what it is doing.
 * The target prints "NMI backtrace for cpu N", its registers (IF by name),
 * the context it was interrupted in and its stack; one CPU at a time, so
 * the lines of several never interleave. A target idling in default_idle()
 * prints Linux's "NMI backtrace for cpu N skipped: idling at FUNC+OFF/SIZE".
 * The caller waits up to 10 s for every target to finish, as Linux's
 * nmi_trigger_cpumask_backtrace(). Returns false if some CPU did not answer.
 */
bool trigger_cpumask_backtrace(const struct cpumask *mask);
bool trigger_cpu_backtrace(unsigned cpu);
bool trigger_all_cpu_backtrace(void);

/* This CPU's backtrace, without an NMI: "NMI backtrace for cpu N" + note, then its stack. */
void nmi_backtrace_self(const char *note);

/*
 * A hang report prints each CPU's backtrace once: detector_report_begin()
 * starts a new report, and a CPU's backtrace (or its "skipped: idling"
 * line) counts as shown from then on. A report that prints a stack itself
 * (dump_stack(), or the stack of the context its interrupt interrupted)
 * marks it with nmi_backtrace_mark_shown().
 */
void nmi_backtrace_new_report(void);
void nmi_backtrace_mark_shown(unsigned cpu);
bool nmi_backtrace_shown(unsigned cpu);

/* What the last NMI backtrace of a CPU saw, for tests and labs to check. */
struct nmi_backtrace_record {
    uint64_t rip;               /* where the CPU was interrupted */
    uint64_t rflags;
    uint32_t preempt_count;     /* of the interrupted context */
    uint64_t seq;               /* counts backtraces of this CPU */
};
extern struct nmi_backtrace_record nmi_backtrace_last[NR_CPUS];

/* Register the NMI handler; BSP, once. */
void nmi_backtrace_init(void);

#endif
