/* tests/kernel/test_smp.c: IPIs, cross-CPU calls and NMI backtraces, on every online CPU. */
#include "kernel/ktest.h"
#include "kernel/cpumask.h"
#include "kernel/hardirq.h"
#include "kernel/ksyms.h"
#include "kernel/nmi_backtrace.h"
#include "kernel/printk.h"
#include "kernel/smp.h"
#include "kernel/string.h"
#include "kernel/vsprintf.h"
#include "kernel/time.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/irq.h"
#include "arch/x86_64/irqflags.h"

/* --- an IPI on a vector of its own reaches every CPU --- */
#define TEST_IPI_VECTOR 0x40            /* class 4: above devices, below the timer */
static volatile unsigned ipi_hits[NR_CPUS];

static void test_ipi_handler(struct pt_regs *regs)
{
    (void)regs;
    __atomic_fetch_add(&ipi_hits[smp_processor_id()], 1, __ATOMIC_RELAXED);
    apic_eoi();
}

static bool wait_until(volatile unsigned *p, unsigned value, uint64_t ms)
{
    uint64_t deadline = ktime_get_ns() + ms * 1000000;

    while (__atomic_load_n(p, __ATOMIC_ACQUIRE) != value)
        if (ktime_get_ns() > deadline)
            return false;
    return true;
}

KTEST(ipi_reaches_every_cpu)
{
    unsigned cpu;

    request_vector(TEST_IPI_VECTOR, test_ipi_handler, "test IPI");
    memset((void *)ipi_hits, 0, sizeof ipi_hits);
    /* One by one through the ICR with a destination... */
    for_each_online_cpu(cpu) {
        if (cpu == smp_processor_id())
            continue;
        apic_send_IPI(cpu, TEST_IPI_VECTOR);
        KTEST_EXPECT_MSG(t, wait_until(&ipi_hits[cpu], 1, 2000), "CPU %u got no fixed IPI", cpu);
    }
    /* ...then with the all-but-self shorthand. */
    apic_send_IPI_allbutself(TEST_IPI_VECTOR);
    for_each_online_cpu(cpu) {
        if (cpu != smp_processor_id())
            KTEST_EXPECT_MSG(t, wait_until(&ipi_hits[cpu], 2, 2000), "CPU %u got no all-but-self IPI", cpu);
    }
    KTEST_EXPECT(t, ipi_hits[smp_processor_id()] == 0);
}

/* --- cross calls run exactly where asked, in hardirq with IF=0 --- */
struct call_record {
    volatile unsigned ran[NR_CPUS];
    volatile unsigned bad_context;
};

static void record_call(void *info)
{
    struct call_record *r = info;

    __atomic_fetch_add(&r->ran[smp_processor_id()], 1, __ATOMIC_RELAXED);
    if (!arch_irqs_disabled() || (smp_processor_id() != 0 && !in_hardirq()))
        __atomic_fetch_add(&r->bad_context, 1, __ATOMIC_RELAXED);
}

KTEST(call_function_many_hits_exactly_the_mask)
{
    static struct call_record r;
    struct cpumask mask;
    unsigned cpu;

    memset(&r, 0, sizeof r);
    /* Every other online CPU: odd ones only, then everyone. */
    cpumask_clear(&mask);
    for_each_online_cpu(cpu)
        if (cpu & 1)
            cpumask_set_cpu(cpu, &mask);
    smp_call_function_many(&mask, record_call, &r, true);
    for_each_online_cpu(cpu)
        KTEST_EXPECT_MSG(t, r.ran[cpu] == ((cpu & 1) ? 1u : 0u), "CPU %u ran %u times", cpu, r.ran[cpu]);

    memset(&r, 0, sizeof r);
    smp_call_function(record_call, &r, true);
    for_each_online_cpu(cpu)
        KTEST_EXPECT_MSG(t, r.ran[cpu] == (cpu == smp_processor_id() ? 0u : 1u),
                         "CPU %u ran %u times", cpu, r.ran[cpu]);
    KTEST_EXPECT(t, r.bad_context == 0);
}

KTEST(call_function_single_each_cpu)
{
    static struct call_record r;
    unsigned cpu;

    memset(&r, 0, sizeof r);
    for_each_online_cpu(cpu)
        KTEST_EXPECT(t, smp_call_function_single(cpu, record_call, &r, true) == 0);
    for_each_online_cpu(cpu)
        KTEST_EXPECT_MSG(t, r.ran[cpu] == 1, "CPU %u ran %u times", cpu, r.ran[cpu]);
    KTEST_EXPECT(t, r.bad_context == 0);
    KTEST_EXPECT(t, smp_call_function_single(NR_CPUS + 1, record_call, &r, true) != 0);
}

/* wait=true must not return before the function finished on the target. */
static void slow_call(void *info)
{
    volatile unsigned *done = info;

    mdelay(20);
    __atomic_store_n(done, 1, __ATOMIC_RELEASE);
}

/* Runs until the caller lets it go: proves the caller returned first. */
static volatile unsigned held_release;

static void held_call(void *info)
{
    volatile unsigned *done = info;

    while (!__atomic_load_n(&held_release, __ATOMIC_ACQUIRE))
        cpu_relax();
    __atomic_store_n(done, 1, __ATOMIC_RELEASE);
}

KTEST(call_function_wait_really_waits)
{
    static volatile unsigned done;

    if (num_online_cpus() < 2) {
        ktest_skip(t, "needs 2 CPUs");
        return;
    }
    done = 0;
    smp_call_function_single(1, slow_call, (void *)&done, true);
    KTEST_EXPECT_MSG(t, done == 1, "returned before the 20 ms call on CPU 1 finished");

    /* Without wait the caller returns while the call still runs: the call
     * cannot finish until we release it, so no timing is involved. */
    done = 0;
    held_release = 0;
    smp_call_function_single(1, held_call, (void *)&done, false);
    KTEST_EXPECT_MSG(t, done == 0, "wait=false did not return while the call was held");
    __atomic_store_n(&held_release, 1, __ATOMIC_RELEASE);
    KTEST_EXPECT(t, wait_until(&done, 1, 2000));
}

/* --- an NMI backtrace reaches a CPU spinning with IF=0 and names the function --- */
static volatile unsigned spin_entered, spin_release;

__attribute__((noinline)) static void nmi_test_spin_irqs_off(void *info)
{
    (void)info;
    /* We run in the IPI handler: hardirq, IF=0. Only an NMI gets in. */
    __atomic_store_n(&spin_entered, 1, __ATOMIC_RELEASE);
    while (!__atomic_load_n(&spin_release, __ATOMIC_ACQUIRE))
        cpu_relax();
}

/* --- the backtraces of several CPUs at once come one after the other --- */
static volatile unsigned spinners_entered, spinners_release;

__attribute__((noinline)) static void nmi_test_spin_together(void *info)
{
    (void)info;
    __atomic_fetch_add(&spinners_entered, 1, __ATOMIC_RELEASE);
    while (!__atomic_load_n(&spinners_release, __ATOMIC_ACQUIRE))
        cpu_relax();
}

static bool line_has(const char *line, const char *word)
{
    for (size_t n = strlen(word); *line; line++)
        if (strncmp(line, word, n) == 0)
            return true;
    return false;
}

/* The CPU a console line names in its printk prefix ("[    5.034954][    C2] "), or -1. */
static int line_cpu(const char *line)
{
    const char *p = line;

    while (*p && !(p[0] == ']' && p[1] == '['))
        p++;
    if (!*p)
        return -1;
    for (p += 2; *p == ' '; p++)
        ;
    if (*p++ != 'C' || *p < '0' || *p > '9')
        return -1;
    int cpu = 0;
    while (*p >= '0' && *p <= '9')
        cpu = cpu * 10 + (*p++ - '0');
    return *p == ']' ? cpu : -1;
}

/*
 * Read what the console printed from byte `from` on, line by line: every
 * "NMI backtrace for cpu N" block must end ("</TASK>") before the next
 * begins, and every line of it must come from the CPU that began it (the
 * printk prefix names it). Returns the number of whole blocks, or -1 at the
 * first line of one block printed inside another.
 */
static int count_backtrace_blocks(unsigned long from)
{
    char line[160];
    unsigned len = 0;
    int blocks = 0, owner = -1;
    bool open = false;

    for (unsigned long i = from; i < log_buf_next; i++) {
        char c = log_buf[i % LOG_BUF_LEN];
        if (c != '\n') {
            if (len < sizeof line - 1)
                line[len++] = c;
            continue;
        }
        line[len] = 0;
        len = 0;
        if (line_has(line, "NMI backtrace for cpu ")) {
            if (open)
                return -1;
            open = true;
            owner = line_cpu(line);
        } else if (open && line_cpu(line) != owner) {
            return -1;
        } else if (open && line_has(line, "</TASK>")) {
            open = false;
            blocks++;
        }
    }
    return blocks;
}

KTEST(nmi_backtraces_do_not_interleave)
{
    struct cpumask others = cpu_online_mask;
    unsigned n = num_online_cpus() - 1;

    if (n < 2) {
        ktest_skip(t, "needs 3 CPUs");
        return;
    }
    cpumask_clear_cpu(smp_processor_id(), &others);
    spinners_entered = spinners_release = 0;
    smp_call_function_many(&others, nmi_test_spin_together, NULL, false);
    KTEST_EXPECT(t, wait_until(&spinners_entered, n, 2000));
    unsigned long from = log_buf_next;
    KTEST_EXPECT(t, trigger_cpumask_backtrace(&others));
    __atomic_store_n(&spinners_release, 1, __ATOMIC_RELEASE);
    int blocks = count_backtrace_blocks(from);
    KTEST_EXPECT_MSG(t, blocks == (int)n, "%d whole backtraces of %u CPUs (-1: one began inside another)", blocks, n);
}

KTEST(nmi_backtrace_names_irqs_off_spinner)
{
    unsigned cpu = num_online_cpus() - 1;
    char name[64];

    if (num_online_cpus() < 2) {
        ktest_skip(t, "needs 2 CPUs");
        return;
    }
    spin_entered = spin_release = 0;
    uint64_t seq = nmi_backtrace_last[cpu].seq;
    smp_call_function_single(cpu, nmi_test_spin_irqs_off, NULL, false);
    KTEST_EXPECT(t, wait_until(&spin_entered, 1, 2000));
    KTEST_EXPECT(t, trigger_cpu_backtrace(cpu));
    __atomic_store_n(&spin_release, 1, __ATOMIC_RELEASE);

    const struct nmi_backtrace_record *rec = &nmi_backtrace_last[cpu];
    KTEST_EXPECT(t, rec->seq == seq + 1);
    ksnprintf(name, sizeof name, "%ps", (void *)rec->rip);
    KTEST_EXPECT_MSG(t, strcmp(name, "nmi_test_spin_irqs_off") == 0, "NMI landed in '%s'", name);
    KTEST_EXPECT_MSG(t, !(rec->rflags & X86_EFLAGS_IF), "interrupted with IF=1");
    KTEST_EXPECT_MSG(t, (rec->preempt_count & HARDIRQ_MASK) == HARDIRQ_OFFSET,
                     "interrupted preempt_count %#x, expected hardirq depth 1", rec->preempt_count);
}
