/* kernel/rcu_stall.c: the RCU CPU stall detector: Linux's "rcu_sched detected stalls" reports, checked from every CPU's tick. */
#define pr_fmt(fmt) "rcu: " fmt
#include "kernel/rcu_internal.h"
#include "kernel/detector_stop.h"
#include "kernel/hardirq.h"
#include "kernel/nmi_backtrace.h"
#include "kernel/printk.h"
#include "kernel/time.h"

/*
 * Linux's kernel/rcu/tree_stall.h, cut down. The check runs in the tick
 * of every CPU, not in the GP kthread: the kthread may be the very thing
 * that cannot run (seed 000). A GP that has lasted rcu_cpu_stall_timeout
 * seconds is reported:
 *
 *   - by a CPU that itself still owes the GP a QS ("self-detected stall"):
 *     its tick still comes, so it has IRQs on and preemption off;
 *   - otherwise by any other CPU ("detected stalls on CPUs/tasks"), after a
 *     short delay that leaves the stalled CPU the chance to speak for
 *     itself. A stalled CPU with IRQs off takes no tick: only this path
 *     and an NMI backtrace can show it.
 *
 * Further reports come every 3 timeouts while the GP stays stuck (Linux's
 * back-off), unless the stop policy (kernel/detector_stop.h) ended the run.
 *
 * Times are ktime_get_ns(), not jiffies: jiffies advance on CPU 0's tick
 * alone, and CPU 0 may be the stalled CPU. t= is still printed in
 * jiffies (ns / tick length), as Linux does.
 */

/* Linux's RCU_STALL_RAT_DELAY is 2 jiffies. Under TCG a vCPU's tick can be
 * late by tens of ms (vCPUs are time-sliced), so others wait longer before
 * reporting a CPU that may still report itself. */
#define RCU_STALL_RAT_DELAY_NS  (250 * NSEC_PER_MSEC)
/* Linux prints "kthread starved" when the GP kthread has not run for 2*HZ jiffies. */
#define RCU_KTHREAD_STARVED_NS  (2 * NSEC_PER_SEC)

static uint64_t stall_timeout_ns(void)
{
    return (uint64_t)rcu_cpu_stall_timeout * NSEC_PER_SEC;
}

void rcu_stall_arm(uint64_t gp_start_ns)
{
    __atomic_store_n(&rcu_state.stall_next_ns, gp_start_ns + stall_timeout_ns(), __ATOMIC_RELEASE);
}

/*
 * One stalled CPU, in Linux's shape: "1-...!: (0 ticks this GP) ...". The
 * four characters are Linux's: online, and in the GP's masks (always '.'
 * here), then '!' if the CPU took no tick since the GP started (it has IRQs
 * off; in Linux: its irq_work never ran) or '.' if it did. Instead of
 * Linux's idle/softirq/fqs counters: how long since its last QS and its
 * preempt_count, which says why it cannot pass one.
 */
static void print_cpu_stall_info(unsigned cpu, uint64_t now)
{
    struct rcu_data *rdp = &rcu_data[cpu];
    unsigned long ticks = rdp->gp_seen == rcu_state.gp_started ? rdp->ticks_this_gp : 0;
    unsigned pc = percpu_area[cpu].preempt_count;

    if (cpu == smp_processor_id())      /* self-detected: the count of the code the tick interrupted */
        pc -= HARDIRQ_OFFSET;

    pr_err("\t%u-%c..%c: (%lu ticks this GP) last_qs=%lums ago preempt_count=%#x\n", cpu,
           cpu_online(cpu) ? '.' : 'O', ticks ? '.' : '!', ticks,
           rdp->last_qs_ns ? (now - rdp->last_qs_ns) / NSEC_PER_MSEC : now / NSEC_PER_MSEC, pc);
}

/* Linux's rcu_check_gp_kthread_starvation(): the seed 000 chain, said out loud. */
void rcu_check_gp_kthread_starvation(uint64_t now)
{
    struct task_struct *gpk = rcu_state.gp_kthread;
    uint64_t idle = now - __atomic_load_n(&rcu_state.gp_activity_ns, __ATOMIC_RELAXED);

    if (!gpk || idle < RCU_KTHREAD_STARVED_NS)
        return;
    pr_err("rcu_sched kthread starved for %lu jiffies! g%lu ->state=%#x ->cpu=%u\n",
           idle / rcu_tick_ns(), rcu_state.gp_started, (unsigned)gpk->state, gpk->cpu);
    pr_err("\tUnless rcu_sched kthread gets sufficient CPU time, OOM is now expected behavior.\n");
}

/* Another CPU (or several) holds the GP: list them, then their NMI backtraces. */
static void print_other_cpu_stall(uint64_t now, const struct cpumask *stalled)
{
    unsigned cpu;

    pr_err("INFO: rcu_sched detected stalls on CPUs/tasks:\n");
    for_each_cpu(cpu, stalled)
        print_cpu_stall_info(cpu, now);
    pr_err("\t(detected by %u, t=%lu jiffies, g=%lu, q=%lu ncpus=%u)\n", smp_processor_id(),
           (now - rcu_state.gp_start_ns) / rcu_tick_ns(), rcu_state.gp_started, rcu_cbs_queued(),
           num_online_cpus());
    trigger_cpumask_backtrace(stalled);
    rcu_check_gp_kthread_starvation(now);
}

/* This CPU holds the GP. Its backtrace goes through the tick's interrupt
 * frame into the code that keeps it from a QS. */
static void print_cpu_stall(uint64_t now)
{
    unsigned cpu = smp_processor_id();

    pr_err("INFO: rcu_sched self-detected stall on CPU\n");
    print_cpu_stall_info(cpu, now);
    pr_err("\t(t=%lu jiffies g=%lu q=%lu ncpus=%u)\n", (now - rcu_state.gp_start_ns) / rcu_tick_ns(),
           rcu_state.gp_started, rcu_cbs_queued(), num_online_cpus());
    rcu_check_gp_kthread_starvation(now);
    trigger_cpu_backtrace(cpu);
}

/*
 * One CPU reports: it claims the report by moving stall_next_ns forward
 * (Linux's cmpxchg on jiffies_stall), then asks for the detectors' report
 * lock (kernel/detector_stop.h). If another detector is printing, it puts
 * stall_next_ns back and tries at its next tick.
 */
void rcu_check_cpu_stall(void)
{
    unsigned cpu = smp_processor_id();
    uint64_t now, js, jn;
    struct cpumask stalled;
    bool self;

    if (!rcu_gp_in_progress() || rcu_cpu_stall_timeout <= 0)
        return;
    now = ktime_get_ns();
    js = __atomic_load_n(&rcu_state.stall_next_ns, __ATOMIC_ACQUIRE);
    if (now < js)
        return;
    stalled = rcu_state.qs_pending;
    self = cpumask_test_cpu(cpu, &stalled);
    if (cpumask_empty(&stalled) || (!self && now < js + RCU_STALL_RAT_DELAY_NS))
        return;
    jn = now + 3 * stall_timeout_ns();
    if (!__atomic_compare_exchange_n(&rcu_state.stall_next_ns, &js, jn, false,
                                     __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
        return;
    if (!detector_report_begin("RCU stall", self ? cpu : cpumask_next(-1, &stalled))) {
        __atomic_compare_exchange_n(&rcu_state.stall_next_ns, &jn, js, false,
                                    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
        return;
    }
    __atomic_fetch_add(&rcu_state.nr_stall_reports, 1, __ATOMIC_RELEASE);
    if (self)
        print_cpu_stall(now);
    else
        print_other_cpu_stall(now, &stalled);
    detector_fired("RCU stall");
    detector_report_end();
}
