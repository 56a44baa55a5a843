/* kernel/oom.c: the out-of-memory report: Linux's headlines, and the RCU callback backlog that holds the memory. */
#include "kernel/oom.h"
#include "arch/x86_64/percpu.h"
#include "kernel/detector_stop.h"
#include "kernel/nmi_backtrace.h"
#include "arch/x86_64/dumpstack.h"
#include "kernel/objpool.h"
#include "kernel/printk.h"
#include "kernel/rcu.h"
#include "kernel/sched.h"

/*
 * Linux's out_of_memory() (mm/oom_kill.c) prints "<comm> invoked
 * oom-killer: gfp_mask=..., order=..." with the allocating task's stack,
 * then picks a process to kill: "Out of memory: Killed process ...".
 * irqlab has no processes and kills nothing, and says so. What it can do
 * is name what holds the memory: in seed 000, objects freed with
 * call_rcu() that wait for a grace period that cannot end. So the report
 * shows the callback backlog, the grace period and the CPUs holding it,
 * and the pool. Then the stop policy (kernel/detector_stop.h) ends a test
 * or lab. Printed once per boot; if another detector is printing its
 * report right now, nothing is printed and the next failed allocation
 * tries again.
 */
void out_of_memory(const char *pool, unsigned total, unsigned free)
{
    static int reported;
    struct task_struct *t = current;

    if (__atomic_exchange_n(&reported, 1, __ATOMIC_ACQ_REL))
        return;
    if (!detector_report_begin("Out of memory", smp_processor_id())) {
        __atomic_store_n(&reported, 0, __ATOMIC_RELEASE);   /* another report is printing: next time */
        return;
    }
    pr_warn("%s invoked oom-killer: pool=%s, order=0, %u of %u objects free\n",
            t ? t->comm : "swapper", pool, free, total);
    dump_stack();
    nmi_backtrace_mark_shown(smp_processor_id());
    pr_err("Out of memory: %s exhausted (%u of %u objects in use); nothing killed: irqlab has no processes\n",
           pool, total - free, total);
    rcu_print_backlog();
    objpool_print();
    detector_fired("Out of memory");
    detector_report_end();
}
