/* kernel/smp.c: smp_call_function_single/many(): queue a csd on the target CPU, IPI it, maybe wait; CSD lock-wait debug. */
#define pr_fmt(fmt) "smp: " fmt

#include "kernel/smp.h"
#include "kernel/lab_hooks.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/dumpstack.h"
#include "arch/x86_64/irq.h"
#include "arch/x86_64/irq_vectors.h"
#include "arch/x86_64/irqflags.h"
#include "kernel/bug.h"
#include "kernel/detector_stop.h"
#include "kernel/hardirq.h"
#include "kernel/nmi_backtrace.h"
#include "kernel/printk.h"
#include "kernel/time.h"
#include "kernel/trace.h"

struct cpumask cpu_possible_mask;
struct cpumask cpu_online_mask;

/*
 * Per CPU: the queue other CPUs push calls onto (a lock-free singly linked
 * list, newest first), the csd this CPU uses for asynchronous single calls,
 * and one csd per target for smp_call_function_many() (Linux's cfd_data).
 */
static call_single_data_t *call_single_queue[NR_CPUS];
static call_single_data_t csd_data[NR_CPUS];
static call_single_data_t cfd_data[NR_CPUS][NR_CPUS];

/*
 * The lab hook LAB_HOOK_CALL_FUNCTION_LOWVEC (kernel/lab_hooks.h): the stall
 * lab's "lowvec" configuration, off (Linux's layout) unless a lab variant
 * turns it on. With it on, both call-function IPIs go out on vectors of class 0x3
 * (arch/x86_64/irq_vectors.h), below every other interrupt source but the
 * ISA devices, instead of class 0xF, above all of them. Same handler.
 */

static unsigned call_function_single_vector(void)
{
    return lab_hook(LAB_HOOK_CALL_FUNCTION_LOWVEC) ? CALL_FUNCTION_SINGLE_LOW_VECTOR : CALL_FUNCTION_SINGLE_VECTOR;
}

static unsigned call_function_vector(void)
{
    return lab_hook(LAB_HOOK_CALL_FUNCTION_LOWVEC) ? CALL_FUNCTION_LOW_VECTOR : CALL_FUNCTION_VECTOR;
}

/* Push csd; true if the queue was empty, i.e. the target needs an IPI. */
static bool llist_add(call_single_data_t *csd, call_single_data_t **head)
{
    call_single_data_t *first = __atomic_load_n(head, __ATOMIC_RELAXED);

    do {
        csd->next = first;
    } while (!__atomic_compare_exchange_n(head, &first, csd, true, __ATOMIC_RELEASE, __ATOMIC_RELAXED));
    return first == NULL;
}

/* ---------------------------------------------------------------- CSD lock-wait debug */

/*
 * Linux's CONFIG_CSD_LOCK_WAIT_DEBUG, always built in. A CPU waiting for a
 * csd (csd_lock_wait()) cannot tell a slow target from a dead one, and the
 * spin itself never ends on its own: seed 000's CPU 1 sat in it for good.
 * So after csd_lock_timeout ms the waiter reports, in Linux's words: who
 * waits for whom and for which function, whether the target has begun
 * that function, the target's NMI backtrace (an NMI gets through IF=0, so
 * it shows where the target is stuck), a re-sent IPI in case the first
 * was lost, and its own stack. Then it keeps waiting and reports again
 * with a growing gap, until the lock is released ("got unstuck").
 */
int csd_lock_timeout = 2000;            /* ms; csd_lock_timeout=, 0 turns the reports off */
int panic_on_ipistall;                  /* ms; panic_on_ipistall=, 0: a CSD stall never stops the run */

/*
 * What each CPU is running from its queue right now (Linux's cur_csd,
 * cur_csd_func, cur_csd_info): NULL between functions. It tells a target
 * that never took the IPI ("unresponsive") from one stuck inside this
 * function ("handling this request") or inside an earlier one.
 */
static call_single_data_t *cur_csd[NR_CPUS];
static smp_call_func_t cur_csd_func[NR_CPUS];
static void *cur_csd_info[NR_CPUS];

/*
 * A report NMI-back-traces its target only if the target drained its
 * queue since the last backtrace (Linux's trigger_backtrace): a CPU stuck
 * in one place is shown once, not at every report.
 */
static bool csd_backtraced[NR_CPUS];

static int csd_bug_count;               /* the #N of the reports: stuck CSD locks seen since boot */

/* The target, in hardirq: csd is the function it starts now, NULL: it finished. */
static void csd_lock_record(call_single_data_t *csd)
{
    unsigned cpu = smp_processor_id();

    if (csd) {
        cur_csd_func[cpu] = csd->func;
        cur_csd_info[cpu] = csd->info;
    }
    __atomic_store_n(&cur_csd[cpu], csd, __ATOMIC_RELEASE);
}

static unsigned ilog2(unsigned n)
{
    unsigned log = 0;

    while (n >>= 1)
        log++;
    return log;
}

/*
 * One step of the wait (Linux's csd_lock_wait_toolong()). Returns true
 * once the lock is free. ts0: when the csd was sent; *ts1: the last report
 * (or the start of the wait). The n-th repeat comes n+1 timeouts after the
 * previous one, times ilog2(CPUs)/2 + 1, so a long stall does not flood
 * the console. Reports go through detector_report_begin(): while another
 * report is printing, this one waits for the next step.
 */
static bool csd_lock_wait_toolong(call_single_data_t *csd, uint64_t ts0, uint64_t *ts1,
                                  int *bug_id, unsigned *nmessages)
{
    unsigned this_cpu = smp_processor_id(), cpu = csd->dst;
    uint64_t timeout_ns = (uint64_t)csd_lock_timeout * NSEC_PER_MSEC, now, gap;
    call_single_data_t *target_csd;
    bool firsttime;
    int64_t stuck_ns;

    if (!(__atomic_load_n(&csd->flags, __ATOMIC_ACQUIRE) & CSD_FLAG_LOCK)) {
        if (*bug_id)
            pr_alert("csd: CSD lock (#%d) got unstuck on CPU#%02u, CPU#%02u released the lock.\n",
                     *bug_id, this_cpu, cpu);
        return true;
    }
    now = ktime_get_ns();
    gap = timeout_ns * (*nmessages + 1) * (*nmessages ? ilog2(num_online_cpus()) / 2 + 1 : 1);
    if (timeout_ns == 0 || now - *ts1 <= gap)
        return false;
    if (!detector_report_begin("CSD lock", cpu))
        return false;

    firsttime = !*bug_id;
    if (firsttime)
        *bug_id = __atomic_add_fetch(&csd_bug_count, 1, __ATOMIC_RELAXED);
    target_csd = __atomic_load_n(&cur_csd[cpu], __ATOMIC_ACQUIRE);
    stuck_ns = (int64_t)(now - ts0);
    pr_alert("csd: %s non-responsive CSD lock (#%d) on CPU#%u, waiting %ld ns for CPU#%02u %pS(%ps).\n",
             firsttime ? "Detected" : "Continued", *bug_id, this_cpu, stuck_ns, cpu,
             (void *)csd->func, csd->info);
    (*nmessages)++;
    if (target_csd && target_csd != csd)
        pr_alert("\tcsd: CSD lock (#%d) handling prior %pS(%ps) request.\n", *bug_id,
                 (void *)cur_csd_func[cpu], cur_csd_info[cpu]);
    else
        pr_alert("\tcsd: CSD lock (#%d) %s.\n", *bug_id,
                 target_csd ? "handling this request" : "unresponsive");
    if (!__atomic_exchange_n(&csd_backtraced[cpu], true, __ATOMIC_ACQ_REL))
        trigger_cpu_backtrace(cpu);
    /* Not started at all: maybe the IPI was lost. Send another; it is harmless
     * if the first one is merely pending behind IF=0. */
    if (!target_csd) {
        pr_alert("csd: Re-sending CSD lock (#%d) IPI from CPU#%02u to CPU#%02u\n", *bug_id, this_cpu, cpu);
        apic_send_IPI(cpu, call_function_single_vector());
    }
    if (firsttime) {
        dump_stack();
        nmi_backtrace_mark_shown(this_cpu);
    }
    /* Linux BUG()s here, after the headline; irqlab stops after the whole report. */
    if (panic_on_ipistall > 0 && stuck_ns > (int64_t)panic_on_ipistall * (int64_t)NSEC_PER_MSEC)
        detector_fired("csd: CSD lock stall (panic_on_ipistall)");
    detector_report_end();
    *ts1 = now;
    return false;
}

void csd_lock_wait(call_single_data_t *csd)
{
    unsigned nmessages = 0;
    int bug_id = 0;
    uint64_t ts1 = ktime_get_ns();
    uint64_t ts0 = csd->sent_ns ? csd->sent_ns : ts1;

    while (!csd_lock_wait_toolong(csd, ts0, &ts1, &bug_id, &nmessages))
        cpu_relax();
}

/* ---------------------------------------------------------------- queueing and running calls */

/* Take the csd: wait until its previous use is over, then mark it in use. */
static void csd_lock(call_single_data_t *csd)
{
    csd_lock_wait(csd);
    __atomic_store_n(&csd->flags, CSD_FLAG_LOCK, __ATOMIC_RELAXED);
}

static void csd_unlock(call_single_data_t *csd)
{
    WARN_ON_ONCE(!(csd->flags & CSD_FLAG_LOCK));
    trace_event(TRACE_CSD_UNLOCK, csd->src, 0, NULL, NULL);
    __atomic_store_n(&csd->flags, 0, __ATOMIC_RELEASE);
}

/* Queue csd on cpu; returns true if the caller must send the IPI. */
static bool csd_queue(call_single_data_t *csd, unsigned cpu, smp_call_func_t func, void *info, bool wait)
{
    csd_lock(csd);
    if (wait)
        csd->flags |= CSD_TYPE_SYNC;
    csd->func = func;
    csd->info = info;
    csd->src = smp_processor_id();
    csd->dst = cpu;
    csd->sent_ns = ktime_get_ns();
    trace_event(TRACE_CSD_QUEUE, cpu, 0, func, NULL);
    return llist_add(csd, &call_single_queue[cpu]);
}

/*
 * The target side, in hardirq context with IF=0. Take the whole queue at
 * once, restore the order the calls were sent in, and run each. A
 * synchronous csd is unlocked after its function ran (the sender is waiting
 * for the result); an asynchronous one before, so the sender may reuse it.
 */
static void flush_smp_call_function_queue(void)
{
    call_single_data_t *list = __atomic_exchange_n(&call_single_queue[smp_processor_id()], NULL,
                                                   __ATOMIC_ACQUIRE);
    call_single_data_t *fifo = NULL;

    /* Progress: the next CSD report may back-trace this CPU again. */
    __atomic_store_n(&csd_backtraced[smp_processor_id()], false, __ATOMIC_RELAXED);

    while (list) {
        call_single_data_t *next = list->next;
        list->next = fifo;
        fifo = list;
        list = next;
    }
    while (fifo) {
        call_single_data_t *csd = fifo;
        smp_call_func_t func = csd->func;
        void *info = csd->info;

        fifo = csd->next;
        csd_lock_record(csd);
        trace_event(TRACE_CSD_ENTRY, csd->src, 0, func, NULL);
        if (csd->flags & CSD_TYPE_SYNC) {
            func(info);
            csd_unlock(csd);
        } else {
            csd_unlock(csd);
            func(info);
        }
        trace_event(TRACE_CSD_EXIT, 0, 0, func, NULL);    /* not csd->src: an unlocked csd may be reused */
        csd_lock_record(NULL);
    }
}

/* Both call-function vectors: EOI first (as Linux), then drain the queue. */
static void call_function_interrupt(struct pt_regs *regs)
{
    (void)regs;
    apic_eoi();
    flush_smp_call_function_queue();
}

void smp_ipi_init(void)
{
    request_vector(CALL_FUNCTION_VECTOR, call_function_interrupt, "Function call interrupts");
    request_vector(CALL_FUNCTION_SINGLE_VECTOR, call_function_interrupt, "Single function call interrupts");
    /* The lowvec configuration (LAB_HOOK_CALL_FUNCTION_LOWVEC, above). */
    request_vector(CALL_FUNCTION_LOW_VECTOR, call_function_interrupt, "Function call interrupts (lowvec)");
    request_vector(CALL_FUNCTION_SINGLE_LOW_VECTOR, call_function_interrupt,
                   "Single function call interrupts (lowvec)");
}

int smp_call_function_single(unsigned cpu, smp_call_func_t func, void *info, bool wait)
{
    unsigned this_cpu;
    call_single_data_t csd_stack = { 0 };

    /* Waiting with IRQs off can deadlock: the target may be waiting for us. */
    WARN_ON_ONCE(cpu_online(smp_processor_id()) && arch_irqs_disabled());
    if (cpu >= NR_CPUS || !cpu_online(cpu))
        return -1;

    preempt_disable();                  /* get_cpu(): stay on this CPU while we use its csds */
    this_cpu = smp_processor_id();
    if (cpu == this_cpu) {
        unsigned long flags = arch_local_irq_save();
        func(info);                     /* run here, as the IPI handler would: IRQs off */
        arch_local_irq_restore(flags);
        preempt_enable();
        return 0;
    }
    /* A waiting caller's csd can live on its stack; an async one must outlive us. */
    call_single_data_t *csd = wait ? &csd_stack : &csd_data[this_cpu];
    if (csd_queue(csd, cpu, func, info, wait))
        apic_send_IPI(cpu, call_function_single_vector());
    if (wait)
        csd_lock_wait(csd);
    preempt_enable();
    return 0;
}

void smp_call_function_many(const struct cpumask *mask, smp_call_func_t func, void *info, bool wait)
{
    struct cpumask ipi_mask;
    unsigned cpu, this_cpu, last = NR_CPUS, n = 0;

    /* Linux's two warnings (kernel/smp.c): both are deadlock recipes. */
    WARN_ON_ONCE(cpu_online(smp_processor_id()) && arch_irqs_disabled());
    WARN_ON_ONCE(!in_task());

    preempt_disable();
    this_cpu = smp_processor_id();
    cpumask_clear(&ipi_mask);
    for_each_cpu(cpu, mask) {
        if (cpu == this_cpu || !cpu_online(cpu))
            continue;
        if (csd_queue(&cfd_data[this_cpu][cpu], cpu, func, info, wait)) {
            cpumask_set_cpu(cpu, &ipi_mask);
            last = cpu;
            n++;
        }
    }
    /* One target: the single vector; several: the broadcast one (Linux does the same). */
    if (n == 1)
        apic_send_IPI(last, call_function_single_vector());
    else if (n > 1)
        apic_send_IPI_mask(&ipi_mask, call_function_vector());
    if (wait) {
        for_each_cpu(cpu, mask) {
            if (cpu != this_cpu && cpu_online(cpu))
                csd_lock_wait(&cfd_data[this_cpu][cpu]);
        }
    }
    preempt_enable();
}

void smp_call_function(smp_call_func_t func, void *info, bool wait)
{
    smp_call_function_many(&cpu_online_mask, func, info, wait);
}
