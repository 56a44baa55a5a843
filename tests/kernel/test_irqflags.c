/* tests/kernel/test_irqflags.c: the irqflags layers, irq-state tracing, the hardirq sti count, counted disabling. */
#include "kernel/ktest.h"
#include "kernel/cpumask.h"
#include "kernel/hardirq.h"
#include "kernel/irq_disable.h"
#include "kernel/irqflags.h"
#include "kernel/ksyms.h"
#include "kernel/printk.h"
#include "kernel/smp.h"
#include "kernel/spinlock.h"
#include "kernel/string.h"
#include "kernel/time.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/irq.h"

/* A vector of our own for self-IPIs: a real interrupt on this CPU, even with one CPU. */
#define IRQFLAGS_TEST_VECTOR 0x41       /* class 4: above devices, below the timer */

/* IF as the CPU has it right now (pushf), not as any bookkeeping says. */
static bool if_set(void)
{
    return arch_local_save_flags() & X86_EFLAGS_IF;
}

/* Is ip inside the function called name? */
static bool ip_in(unsigned long ip, const char *name)
{
    const struct ksym *sym = ksym_lookup(ip, NULL);

    return sym && strcmp(sym->name, name) == 0;
}

/* Spin until *flag is set; false after 5 s (a failure, never a hang). */
static bool wait_for(volatile unsigned *flag)
{
    uint64_t deadline = ktime_get_ns() + 5 * NSEC_PER_SEC;

    while (!__atomic_load_n(flag, __ATOMIC_ACQUIRE))
        if (ktime_get_ns() > deadline)
            return false;
    return true;
}

/* --- restore never enables when the flags were saved with IF=0 --- */

/*
 * Every way to save and restore, starting from IF=0 (as in any hardirq
 * handler): IF must still be 0 after each restore. Returns how many broke it.
 */
static unsigned restores_that_enabled(void)
{
    static DEFINE_SPINLOCK(restore_test_lock);
    unsigned long flags;
    unsigned bad = 0;

    local_irq_save(flags);
    local_irq_restore(flags);
    bad += if_set();
    raw_local_irq_save(flags);
    raw_local_irq_restore(flags);
    bad += if_set();
    flags = arch_local_irq_save();
    arch_local_irq_restore(flags);
    bad += if_set();
    spin_lock_irqsave(&restore_test_lock, flags);
    spin_unlock_irqrestore(&restore_test_lock, flags);
    bad += if_set();
    local_interrupt_disable();
    local_interrupt_enable();
    bad += if_set();
    return bad;
}

KTEST(irqflags_restore_keeps_irqs_off_in_task)
{
    unsigned long flags;

    KTEST_EXPECT(t, if_set());
    local_irq_disable();
    KTEST_EXPECT_MSG(t, restores_that_enabled() == 0, "a restore of IF=0 flags executed sti");
    KTEST_EXPECT(t, !if_set());
    /* ...while flags saved with IF=1 do turn IRQs back on. */
    local_irq_enable();
    local_irq_save(flags);
    KTEST_EXPECT(t, !if_set() && !irqs_disabled_flags(flags));
    local_irq_restore(flags);
    KTEST_EXPECT(t, if_set());
}

struct hardirq_result {
    volatile unsigned done;
    bool in_hardirq, if_was_set;
    unsigned enabled;                   /* restores that turned IRQs on */
    unsigned long sti_before, sti_after;
};

static void check_restores_in_hardirq(struct hardirq_result *r)
{
    unsigned cpu = smp_processor_id();

    r->in_hardirq = in_hardirq();
    r->if_was_set = if_set();
    r->sti_before = hardirq_sti_count(cpu);
    r->enabled = restores_that_enabled();
    r->sti_after = hardirq_sti_count(cpu);
    __atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
}

static struct hardirq_result self_ipi_result;

static void restore_test_ipi_handler(struct pt_regs *regs)
{
    (void)regs;
    apic_eoi();
    check_restores_in_hardirq(&self_ipi_result);
}

static void restore_test_call(void *info)
{
    check_restores_in_hardirq(info);
}

static void expect_hardirq_result(struct ktest *t, unsigned cpu, const struct hardirq_result *r)
{
    KTEST_EXPECT_MSG(t, r->done, "CPU %u: the handler did not run", cpu);
    KTEST_EXPECT_MSG(t, r->in_hardirq && !r->if_was_set, "CPU %u: not hardirq with IF=0", cpu);
    KTEST_EXPECT_MSG(t, r->enabled == 0, "CPU %u: %u restores in hardirq turned IRQs on", cpu, r->enabled);
    KTEST_EXPECT_MSG(t, r->sti_after == r->sti_before, "CPU %u: %lu sti counted in hardirq",
                     cpu, r->sti_after - r->sti_before);
}

/* The same in real interrupt handlers: a self-IPI here, a cross-call IPI on every other CPU. */
KTEST(irqflags_restore_keeps_irqs_off_in_hardirq)
{
    static struct hardirq_result results[NR_CPUS];
    unsigned cpu, me = smp_processor_id();

    memset(&self_ipi_result, 0, sizeof self_ipi_result);
    request_vector(IRQFLAGS_TEST_VECTOR, restore_test_ipi_handler, "irqflags test");
    apic_send_IPI(me, IRQFLAGS_TEST_VECTOR);
    wait_for(&self_ipi_result.done);
    expect_hardirq_result(t, me, &self_ipi_result);

    memset(results, 0, sizeof results);
    for_each_online_cpu(cpu) {
        if (cpu == me)
            continue;
        smp_call_function_single(cpu, restore_test_call, &results[cpu], true);
        expect_hardirq_result(t, cpu, &results[cpu]);
    }
}

/* --- CONFIG_DEBUG_IRQFLAGS: restoring while IRQs are on is reported --- */
KTEST(irqflags_bogus_restore_warns)
{
    unsigned long before = bogus_irq_restore_count, flags;

    /* A correct pair: no report. */
    raw_local_irq_save(flags);
    raw_local_irq_restore(flags);
    KTEST_EXPECT(t, bogus_irq_restore_count == before);

    /* A restore with IRQs already on (as after a restore too many). */
    printk("# irqflags_bogus_restore_warns: a WARNING follows on purpose (once per boot)\n");
    raw_local_save_flags(flags);
    raw_local_irq_restore(flags);
    KTEST_EXPECT_MSG(t, bogus_irq_restore_count == before + 1, "the bogus restore was not reported");
    KTEST_EXPECT(t, if_set());
}

/* --- irq-state tracing records where IRQs went off and on --- */
__attribute__((noipa)) static void irqs_off_here(void)
{
    local_irq_disable();
}

__attribute__((noipa)) static void irqs_on_here(void)
{
    local_irq_enable();
}

KTEST(irqflags_trace_records_sites)
{
    struct irqtrace_events *trace = &this_cpu_ptr()->irqtrace;
    struct irqtrace_events off, on;
    int attempt;

    /*
     * With IRQs off nothing else can record, so the off transition is
     * checked at once. After the on transition an interrupt may arrive
     * and record its own pair (do_IRQ) before we look: then the stamp has
     * moved by more than one, and the attempt is repeated.
     */
    for (attempt = 0; attempt < 100; attempt++) {
        irqs_off_here();
        off = *trace;
        irqs_on_here();
        raw_local_irq_disable();        /* untraced: keep the record as it is */
        on = *trace;
        raw_local_irq_enable();
        if (on.irq_events == off.irq_events + 1)
            break;
    }
    KTEST_EXPECT_MSG(t, ip_in(off.hardirq_disable_ip, "irqs_off_here"),
                     "last disable recorded at %pS", (void *)off.hardirq_disable_ip);
    KTEST_EXPECT(t, off.hardirq_disable_event == off.irq_events);
    KTEST_EXPECT_MSG(t, attempt < 100, "an interrupt came in after every one of 100 enables");
    KTEST_EXPECT_MSG(t, ip_in(on.hardirq_enable_ip, "irqs_on_here"),
                     "last enable recorded at %pS", (void *)on.hardirq_enable_ip);
    KTEST_EXPECT(t, on.hardirq_enable_event == off.irq_events + 1);
    KTEST_EXPECT(t, on.hardirq_disable_ip == off.hardirq_disable_ip);

    /* An enable with IRQs already on is not a transition: nothing recorded. */
    local_irq_disable();
    local_irq_enable();                 /* the last enable is now in this function (or do_IRQ) */
    irqs_on_here();
    raw_local_irq_disable();
    on = *trace;
    raw_local_irq_enable();
    KTEST_EXPECT_MSG(t, !ip_in(on.hardirq_enable_ip, "irqs_on_here"), "a redundant enable was recorded");
    print_irqtrace_events(smp_processor_id());
}

/* An interrupt taken with IF=1 is recorded as off at entry and on at exit, in do_IRQ. */
static volatile unsigned entry_trace_done;
static struct irqtrace_events entry_trace_seen;

static void entry_trace_ipi_handler(struct pt_regs *regs)
{
    (void)regs;
    apic_eoi();
    entry_trace_seen = this_cpu_ptr()->irqtrace;
    __atomic_store_n(&entry_trace_done, 1, __ATOMIC_RELEASE);
}

KTEST(irqflags_trace_interrupt_entry_exit)
{
    struct irqtrace_events after;

    entry_trace_done = 0;
    request_vector(IRQFLAGS_TEST_VECTOR, entry_trace_ipi_handler, "irqflags test");
    apic_send_IPI(smp_processor_id(), IRQFLAGS_TEST_VECTOR);
    KTEST_EXPECT(t, wait_for(&entry_trace_done));
    raw_local_irq_disable();
    after = this_cpu_ptr()->irqtrace;
    raw_local_irq_enable();
    KTEST_EXPECT_MSG(t, ip_in(entry_trace_seen.hardirq_disable_ip, "do_IRQ"),
                     "inside the handler, last disable at %pS", (void *)entry_trace_seen.hardirq_disable_ip);
    KTEST_EXPECT(t, entry_trace_seen.hardirq_disable_event == entry_trace_seen.irq_events);
    KTEST_EXPECT_MSG(t, ip_in(after.hardirq_enable_ip, "do_IRQ"),
                     "after the handler, last enable at %pS", (void *)after.hardirq_enable_ip);
    KTEST_EXPECT(t, after.hardirq_enable_event > entry_trace_seen.irq_events);
}

/* --- sti executed in hardirq context is counted, with its site --- */
static volatile unsigned sti_handler_done;

static void deliberate_sti_ipi_handler(struct pt_regs *regs)
{
    (void)regs;
    apic_eoi();
    local_irq_enable();                 /* the window seed 000 is about */
    local_irq_disable();
    __atomic_store_n(&sti_handler_done, 1, __ATOMIC_RELEASE);
}

KTEST(irqflags_hardirq_sti_counted)
{
    unsigned cpu = smp_processor_id();
    unsigned long before = hardirq_sti_count(cpu), flags;
    static DEFINE_SPINLOCK(sti_test_lock);

    /* Ordinary use in task context: plenty of sti, none in hardirq. */
    for (int i = 0; i < 1000; i++) {
        local_irq_save(flags);
        local_irq_restore(flags);
        spin_lock_irqsave(&sti_test_lock, flags);
        spin_unlock_irqrestore(&sti_test_lock, flags);
        spin_lock_irq(&sti_test_lock);
        spin_unlock_irq(&sti_test_lock);
    }
    KTEST_EXPECT_MSG(t, hardirq_sti_count(cpu) == before, "%lu sti counted for task-context use",
                     hardirq_sti_count(cpu) - before);

    /* One deliberate sti in a real interrupt handler. */
    sti_handler_done = 0;
    request_vector(IRQFLAGS_TEST_VECTOR, deliberate_sti_ipi_handler, "irqflags test");
    apic_send_IPI(cpu, IRQFLAGS_TEST_VECTOR);
    KTEST_EXPECT(t, wait_for(&sti_handler_done));
    KTEST_EXPECT_MSG(t, hardirq_sti_count(cpu) == before + 1, "%lu sti counted, expected 1",
                     hardirq_sti_count(cpu) - before);
    KTEST_EXPECT_MSG(t, ip_in(hardirq_sti_last_ip(cpu), "deliberate_sti_ipi_handler"),
                     "last hardirq sti at %pS", (void *)hardirq_sti_last_ip(cpu));
}

/* --- counted interrupt disabling --- */
KTEST(irq_disable_nests_depth3)
{
    KTEST_EXPECT(t, if_set() && hardirq_disable_count() == 0);
    for (unsigned depth = 1; depth <= 3; depth++) {
        local_interrupt_disable();
        KTEST_EXPECT(t, !if_set() && hardirq_disable_count() == depth);
    }
    for (unsigned depth = 3; depth >= 2; depth--) {
        local_interrupt_enable();
        KTEST_EXPECT_MSG(t, !if_set() && hardirq_disable_count() == depth - 1,
                         "IRQs on at depth %u", depth - 1);
    }
    local_interrupt_enable();
    KTEST_EXPECT(t, if_set() && hardirq_disable_count() == 0);

    /* Started with IRQs off, the outermost enable leaves them off. */
    local_irq_disable();
    local_interrupt_disable();
    local_interrupt_disable();
    local_interrupt_enable();
    local_interrupt_enable();
    KTEST_EXPECT(t, !if_set());
    local_irq_enable();
}

KTEST(irq_disable_mixed_save_outside)
{
    unsigned long flags;

    local_irq_save(flags);
    local_interrupt_disable();
    local_interrupt_enable();
    KTEST_EXPECT_MSG(t, !if_set(), "the counted enable turned IRQs on inside local_irq_save()");
    local_irq_restore(flags);
    KTEST_EXPECT(t, if_set());
}

KTEST(irq_disable_mixed_save_inside)
{
    unsigned long flags;

    local_interrupt_disable();
    local_irq_save(flags);
    KTEST_EXPECT(t, irqs_disabled_flags(flags));
    local_irq_restore(flags);
    KTEST_EXPECT_MSG(t, !if_set(), "local_irq_restore() turned IRQs on inside local_interrupt_disable()");
    local_interrupt_enable();
    KTEST_EXPECT(t, if_set() && hardirq_disable_count() == 0);
}

KTEST(irq_disable_underflow_warns)
{
    unsigned long before = local_interrupt_underflows;

    printk("# irq_disable_underflow_warns: a WARNING follows on purpose (once per boot)\n");
    local_interrupt_enable();
    KTEST_EXPECT(t, local_interrupt_underflows == before + 1);
    KTEST_EXPECT(t, if_set() && hardirq_disable_count() == 0);
    KTEST_EXPECT(t, in_task() && preempt_count() == 0);
}
