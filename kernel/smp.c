/* kernel/smp.c: smp_call_function_single/many(): queue a csd on the target CPU, IPI it, maybe wait. */
#include "kernel/smp.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/irq.h"
#include "arch/x86_64/irq_vectors.h"
#include "arch/x86_64/irqflags.h"
#include "kernel/bug.h"
#include "kernel/hardirq.h"

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

/* Push csd; true if the queue was empty, i.e. the target needs an IPI. */
static bool llist_add(call_single_data_t *csd, call_single_data_t **head)
{
    call_single_data_t *first = __atomic_load_n(head, __ATOMIC_RELAXED);

    do {
        csd->next = first;
    } while (!__atomic_compare_exchange_n(head, &first, csd, true, __ATOMIC_RELEASE, __ATOMIC_RELAXED));
    return first == NULL;
}

void csd_lock_wait(call_single_data_t *csd)
{
    while (__atomic_load_n(&csd->flags, __ATOMIC_ACQUIRE) & CSD_FLAG_LOCK)
        cpu_relax();
}

/* Take the csd: wait until its previous use is over, then mark it in use. */
static void csd_lock(call_single_data_t *csd)
{
    csd_lock_wait(csd);
    __atomic_store_n(&csd->flags, CSD_FLAG_LOCK, __ATOMIC_RELAXED);
}

static void csd_unlock(call_single_data_t *csd)
{
    WARN_ON_ONCE(!(csd->flags & CSD_FLAG_LOCK));
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
        if (csd->flags & CSD_TYPE_SYNC) {
            func(info);
            csd_unlock(csd);
        } else {
            csd_unlock(csd);
            func(info);
        }
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
        apic_send_IPI(cpu, CALL_FUNCTION_SINGLE_VECTOR);
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
        apic_send_IPI(last, CALL_FUNCTION_SINGLE_VECTOR);
    else if (n > 1)
        apic_send_IPI_mask(&ipi_mask, CALL_FUNCTION_VECTOR);
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
