/* tests/kernel/test_csd.c: CSD lock-wait debug: a cross call to a CPU stuck with IF=0 is reported, and a released one says so. */
#include "kernel/ktest.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/irq.h"
#include "kernel/cpumask.h"
#include "kernel/detector_stop.h"
#include "kernel/nmi_backtrace.h"
#include "kernel/printk.h"
#include "kernel/smp.h"
#include "kernel/time.h"

#define CSD_TEST_VECTOR 0x45            /* class 4: above devices, below the timer */

/* --- a call that never completes: the target spins with IF=0 --- */

static uint64_t call_sent_ns;           /* when the waiter sent the call */
static volatile unsigned target_spinning;

static void csd_test_noop(void *info)
{
    (void)info;
}

/*
 * On the target: an interrupt handler that never returns. The call-function
 * IPI that comes next stays pending behind IF=0, so the target never even
 * starts the call: "unresponsive".
 */
static void csd_test_spin_irqs_off(struct pt_regs *regs)
{
    (void)regs;
    apic_eoi();
    __atomic_store_n(&target_spinning, 1, __ATOMIC_RELEASE);
    for (;;)
        cpu_relax();
}

/* The stop policy's last words: when each report came. */
static void csd_report_times(const char *which)
{
    unsigned n = detector_log_count < DETECTOR_LOG_SIZE ? detector_log_count : DETECTOR_LOG_SIZE;

    for (unsigned i = 0; i < n; i++)
        if (detector_log[i].ns >= call_sent_ns)
            printk("# csd_lock_stuck: %s report about CPU%u by CPU%u %lu ms after the call was sent\n",
                   detector_log[i].which, detector_log[i].cpu, detector_log[i].by_cpu,
                   (detector_log[i].ns - call_sent_ns) / NSEC_PER_MSEC);
    printk("# csd_lock_stuck: the stop policy ended the run (%s) %lu ms after the call was sent "
           "(csd_lock_timeout=%d panic_on_ipistall=%d)\n", which,
           (ktime_get_ns() - call_sent_ns) / NSEC_PER_MSEC, csd_lock_timeout, panic_on_ipistall);
}

KTEST_FATAL(csd_lock_stuck)
{
    unsigned target = cpumask_last(&cpu_online_mask);
    uint64_t deadline;

    if (num_online_cpus() < 2) {
        ktest_skip(t, "needs 2 CPUs");
        return;
    }
    if (!KTEST_EXPECT_MSG(t, csd_lock_timeout > 0, "csd_lock_timeout=0: the CSD reports are off"))
        return;
    detector_stop_hook = csd_report_times;
    request_vector(CSD_TEST_VECTOR, csd_test_spin_irqs_off, "csd test");
    apic_send_IPI(target, CSD_TEST_VECTOR);
    deadline = ktime_get_ns() + 2 * NSEC_PER_SEC;
    while (!__atomic_load_n(&target_spinning, __ATOMIC_ACQUIRE))
        if (!KTEST_EXPECT_MSG(t, ktime_get_ns() < deadline, "CPU%u never took the test IPI", target))
            return;
    printk("# csd_lock_stuck: CPU%u spins with IF=0; CPU%u calls csd_test_noop() there and waits\n",
           target, smp_processor_id());
    call_sent_ns = ktime_get_ns();
    smp_call_function_single(target, csd_test_noop, NULL, true);
    KTEST_EXPECT_MSG(t, false, "smp_call_function_single() returned from CPU%u, which spins with IF=0", target);
}

/* --- a call that completes late: the target spins inside it, until the report looks at it --- */

/*
 * Runs on the target, in the call-function IPI handler, with IF=0: so the
 * waiter's report says "handling this request". It spins until the
 * report's NMI backtrace of this CPU has happened (nmi_backtrace_last's
 * seq moves), then returns, and the waiter sees the lock released: a
 * handshake, not a guess at how long the report takes.
 */
static void csd_test_spin_until_backtraced(void *info)
{
    unsigned cpu = smp_processor_id();
    uint64_t seq = __atomic_load_n(&nmi_backtrace_last[cpu].seq, __ATOMIC_ACQUIRE);

    (void)info;
    while (__atomic_load_n(&nmi_backtrace_last[cpu].seq, __ATOMIC_ACQUIRE) == seq)
        cpu_relax();
}

KTEST(csd_lock_unstuck)
{
    unsigned target = cpumask_last(&cpu_online_mask);
    int old_timeout = csd_lock_timeout;
    const struct detector_event *e;
    uint64_t sent, released;

    if (num_online_cpus() < 2) {
        ktest_skip(t, "needs 2 CPUs");
        return;
    }
    if (old_timeout == 0) {
        ktest_skip(t, "csd_lock_timeout=0");
        return;
    }
    csd_lock_timeout = 300;             /* short, to keep test=all quick */
    sent = ktime_get_ns();
    smp_call_function_single(target, csd_test_spin_until_backtraced, NULL, true);
    released = ktime_get_ns();
    csd_lock_timeout = old_timeout;
    e = detector_find_event("CSD lock", sent);
    if (!KTEST_EXPECT_MSG(t, e != NULL, "the wait was never reported"))
        return;
    KTEST_EXPECT_MSG(t, e->cpu == target && e->by_cpu == smp_processor_id(), "report about CPU%u by CPU%u",
                     e->cpu, e->by_cpu);
    printk("# csd_lock_unstuck: CPU%u waited for CPU%u: reported %lu ms after the call was sent "
           "(csd_lock_timeout=300), released after %lu ms\n", smp_processor_id(), target,
           (e->ns - sent) / NSEC_PER_MSEC, (released - sent) / NSEC_PER_MSEC);
}
