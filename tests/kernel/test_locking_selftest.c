/* tests/kernel/test_locking_selftest.c: the lock validator's self-test matrix (Linux's lib/locking-selftest.c, cut down). */
#include "kernel/ktest.h"
#include "kernel/cpumask.h"
#include "kernel/hardirq.h"
#include "kernel/irq_disable.h"
#include "kernel/irqflags.h"
#include "kernel/lockdep.h"
#include "kernel/printk.h"
#include "kernel/smp.h"
#include "kernel/softirq.h"
#include "kernel/spinlock.h"
#include "kernel/string.h"
#include "kernel/time.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/irq.h"

/*
 * Each case is a short scenario of lock events that must produce exactly
 * one report of the expected type, or none at all. The validator keeps
 * lockdep_last_report, so nothing here parses text. Between cases
 * lockdep_reset() forgets the graph, as Linux's reset_locks() does.
 *
 * Each irq scenario runs twice, as Linux's do: in the hardirq column with
 * hardirq context and IRQs as "the irq" and "irqs on", in the softirq
 * column with softirq context and BHs (local_bh_disable()/enable()). The
 * context is mostly simulated: IRQs off and irq_enter() (or SOFTIRQ_OFFSET
 * added), with no interrupt at all; the validator only looks at the
 * context. One case of each report type also runs its irq part for real: a
 * self-IPI to a vector of our own, and in the softirq column a tasklet that
 * this IPI schedules and its irq_exit() runs.
 */

static DEFINE_SPINLOCK(lock_A);
static DEFINE_SPINLOCK(lock_B);
static DEFINE_SPINLOCK(lock_C);
static spinlock_t lock_X1, lock_X2;    /* two locks of one class: see init_same_class() */

#define L(x)  spin_lock(&lock_##x)
#define U(x)  spin_unlock(&lock_##x)

/*
 * The column being run. Linux's HARDIRQ_ENTER()/SOFTIRQ_ENTER() and
 * IRQ_DISABLE()/IRQ_ENABLE() are macros the scenarios are built twice
 * from; here they are functions that look at the column.
 */
static bool soft_column;

static void IRQ_ENTER(void)
{
    local_irq_disable();
    if (soft_column)
        __local_bh_disable_ip(_RET_IP_, SOFTIRQ_OFFSET);    /* in_serving_softirq(), as __do_softirq() */
    else
        irq_enter();
}

static void IRQ_EXIT(void)
{
    if (soft_column)
        __local_bh_enable_ip(_RET_IP_, SOFTIRQ_OFFSET);     /* runs nothing: IRQs are off */
    else
        __irq_exit();
    local_irq_enable();
}

/* "This irq cannot come in now": IRQs off, or BHs off. */
static void IRQ_DISABLE(void) { if (soft_column) local_bh_disable(); else local_irq_disable(); }
static void IRQ_ENABLE(void)  { if (soft_column) local_bh_enable(); else local_irq_enable(); }

/* The irq-safe lock API of the column: spin_lock_irqsave() or spin_lock_bh(). */
static unsigned long lock_flags[2];
#define LS(x, i) do { if (soft_column) spin_lock_bh(&lock_##x); else spin_lock_irqsave(&lock_##x, lock_flags[i]); } while (0)
#define US(x, i) do { if (soft_column) spin_unlock_bh(&lock_##x); else spin_unlock_irqrestore(&lock_##x, lock_flags[i]); } while (0)

/* One init site, one key: X1 and X2 are one class, like the locks of two instances of a struct. */
static void init_same_class(spinlock_t *lock_X)
{
    spin_lock_init(lock_X);
}

/* ---------------------------------------------------------------- a real interrupt (or softirq) */

#define LOCKDEP_SELFTEST_VECTOR 0x42    /* class 4: above devices, below the timer */

static void (*volatile irq_scenario)(void);
static volatile bool irq_scenario_ran;

/* The softirq column's real softirq: a tasklet the IPI schedules, run at its irq_exit(). */
static void selftest_tasklet_fn(unsigned long data)
{
    (void)data;
    irq_scenario();
    irq_scenario_ran = true;
}
static DECLARE_TASKLET(selftest_tasklet, selftest_tasklet_fn, 0);

static void selftest_irq_handler(struct pt_regs *regs)
{
    (void)regs;
    if (soft_column) {
        tasklet_schedule(&selftest_tasklet);
    } else {
        irq_scenario();
        irq_scenario_ran = true;
    }
    apic_eoi();
}

/*
 * Run fn in a real hardirq on this CPU: a self-IPI (Intel SDM Vol. 3A
 * 11.6.1, destination shorthand "self"); or, in the softirq column, in the
 * softirq that interrupt's exit runs. IRQs are on, so it is taken as soon
 * as the ICR write is accepted; the wait is bounded all the same.
 */
static void in_real_irq(void (*fn)(void))
{
    uint64_t deadline = ktime_get_ns() + 2000000000ULL;

    irq_scenario = fn;
    irq_scenario_ran = false;
    apic_icr_write(APIC_DEST_SELF | APIC_DM_FIXED | LOCKDEP_SELFTEST_VECTOR, 0);
    while (!irq_scenario_ran && ktime_get_ns() < deadline)
        cpu_relax();
    if (!irq_scenario_ran)
        pr_err("locking-selftest: the self-IPI never arrived\n");
}

static void irq_take_A(void)    { L(A); U(A); }
static void irq_take_A_B(void)  { L(A); L(B); U(B); U(A); }
static void irq_take_B_A(void)  { L(B); L(A); U(A); U(B); }
static void irq_take_X1_X2(void) { L(X1); L(X2); U(X2); U(X1); }

/* ---------------------------------------------------------------- reports expected */

/* A second lock of a class already held: the shortest cycle. */
static void AA(void)            { L(X1); L(X2); U(X2); U(X1); }
static void AA_real_irq(void)   { in_real_irq(irq_take_X1_X2); }

static void ABBA(void)
{
    L(A); L(B); U(B); U(A);
    L(B); L(A); U(A); U(B);
}

static void ABC_cycle(void)
{
    L(A); L(B); U(B); U(A);
    L(B); L(C); U(C); U(B);
    L(C); L(A); U(A); U(C);
}

/* A -> B in a task with the irq kept out, B -> A in the irq. */
static void ABBA_real_irq(void)
{
    IRQ_DISABLE();
    L(A); L(B); U(B); U(A);
    IRQ_ENABLE();
    in_real_irq(irq_take_B_A);
}

/* {IN-HARDIRQ-W} -> {HARDIRQ-ON-W}: used in an irq, then taken with it enabled. */
static void safe_then_irqs_on(void)
{
    IRQ_ENTER(); L(A); U(A); IRQ_EXIT();
    L(A); U(A);
}

/* {HARDIRQ-ON-W} -> {IN-HARDIRQ-W}: the reverse order. */
static void irqs_on_then_safe(void)
{
    L(A); U(A);
    IRQ_ENTER(); L(A); U(A); IRQ_EXIT();
}

/* Taken with the irq disabled, but it is enabled while the lock is held. */
static void safe_then_enable_while_held(void)
{
    IRQ_ENTER(); L(A); U(A); IRQ_EXIT();
    IRQ_DISABLE();
    L(A);
    IRQ_ENABLE();
    U(A);
}

static void irqs_on_then_real_irq(void) { L(A); U(A); in_real_irq(irq_take_A); }
static void real_irq_then_irqs_on(void) { in_real_irq(irq_take_A); L(A); U(A); }

/* Irq-safe A, irq-unsafe B, then the new dependency A -> B (usages in both orders). */
static void safe_A_unsafe_B_then_AB(void)
{
    IRQ_ENTER(); L(A); U(A); IRQ_EXIT();
    L(B); U(B);
    IRQ_DISABLE();
    L(A); L(B); U(B); U(A);
    IRQ_ENABLE();
}

static void unsafe_B_safe_A_then_AB(void)
{
    L(B); U(B);
    IRQ_ENTER(); L(A); U(A); IRQ_EXIT();
    IRQ_DISABLE();
    L(A); L(B); U(B); U(A);
    IRQ_ENABLE();
}

/* The same through a middle lock: A -> B exists, B -> C is new, C is unsafe. */
static void safe_A_to_B_to_unsafe_C(void)
{
    IRQ_ENTER(); L(A); U(A); IRQ_EXIT();
    L(C); U(C);
    IRQ_DISABLE();
    L(A); L(B); U(B); U(A);
    L(B); L(C); U(C); U(B);
    IRQ_ENABLE();
}

static void safe_A_real_irq_then_AB(void)
{
    in_real_irq(irq_take_A);
    L(B); U(B);
    IRQ_DISABLE();
    L(A); L(B); U(B); U(A);
    IRQ_ENABLE();
}

/* The dependency A -> B first, then the usages: found when the second usage appears. */
static void AB_unsafe_B_then_safe_A(void)
{
    IRQ_DISABLE();
    L(A); L(B); U(B); U(A);
    IRQ_ENABLE();
    L(B); U(B);
    IRQ_ENTER(); L(A); U(A); IRQ_EXIT();
}

static void AB_safe_A_then_unsafe_B(void)
{
    IRQ_DISABLE();
    L(A); L(B); U(B); U(A);
    IRQ_ENABLE();
    IRQ_ENTER(); L(A); U(A); IRQ_EXIT();
    L(B); U(B);
}

static void AB_unsafe_B_then_real_irq_A(void)
{
    IRQ_DISABLE();
    L(A); L(B); U(B); U(A);
    IRQ_ENABLE();
    L(B); U(B);
    in_real_irq(irq_take_A);
}

/* One lock more than a context may hold: the validator says which table is full and turns off. */
static spinlock_t deep_locks[MAX_LOCK_DEPTH + 1];
static struct lock_class_key deep_keys[MAX_LOCK_DEPTH + 1];

static void too_many_held(void)
{
    for (unsigned i = 0; i <= MAX_LOCK_DEPTH; i++)
        __spin_lock_init(&deep_locks[i], "deep_lock", &deep_keys[i]);   /* a class each */
    for (unsigned i = 0; i <= MAX_LOCK_DEPTH; i++)
        spin_lock(&deep_locks[i]);
    for (unsigned i = MAX_LOCK_DEPTH + 1; i-- > 0;)
        spin_unlock(&deep_locks[i]);
}

/* ---------------------------------------------------------------- silence expected */

/* Seed 002: taken with the irq disabled in a task does not make a lock irq-safe. */
static void irqs_off_only(void)
{
    IRQ_DISABLE();
    L(A); L(B); U(B); U(A);
    IRQ_ENABLE();
    LS(A, 0);
    US(A, 0);
    LS(B, 0);
    US(B, 0);
}

/* The right way to share a lock with a handler: irqsave (or _bh) in the task. */
static void safe_A_used_correctly(void)
{
    LS(A, 0);
    US(A, 0);
    IRQ_ENTER(); L(A); U(A); IRQ_EXIT();
}

/* Last in the matrix: its graph stays for the monitor's `lockdep` to show (A -> B, both HARDIRQ-safe). */
static void safe_AB_used_correctly_real_irq(void)
{
    LS(A, 0);
    L(B); U(B);
    US(A, 0);
    in_real_irq(irq_take_A_B);
}

/* The inner restore must not turn the irq on while A is still held. */
static void nested_irqsave(void)
{
    LS(A, 0);
    LS(B, 1);
    US(B, 1);
    US(A, 0);
    IRQ_ENTER(); L(A); L(B); U(B); U(A); IRQ_EXIT();
}

/* Counted disabling, nested and hand-over-hand: IRQs on only at depth 0 (hardirq only). */
static void counted_nesting(void)
{
    local_interrupt_disable();
    L(A);
    local_interrupt_disable();
    L(B); U(B);
    local_interrupt_enable();
    U(A);
    local_interrupt_enable();

    spin_lock_irq_disable(&lock_A);
    spin_lock_irq_disable(&lock_B);
    spin_unlock_irq_enable(&lock_A);    /* out of order: B is still held, IRQs stay off */
    spin_unlock_irq_enable(&lock_B);
    IRQ_ENTER(); L(A); L(B); U(B); U(A); IRQ_EXIT();
}

static void counted_inside_irqsave(void)
{
    unsigned long flags;

    spin_lock_irqsave(&lock_A, flags);
    spin_lock_irq_disable(&lock_B);
    spin_unlock_irq_enable(&lock_B);
    spin_unlock_irqrestore(&lock_A, flags);
    IRQ_ENTER(); L(A); L(B); U(B); U(A); IRQ_EXIT();
}

static void irqsave_inside_counted(void)
{
    unsigned long flags;

    spin_lock_irq_disable(&lock_A);
    spin_lock_irqsave(&lock_B, flags);
    spin_unlock_irqrestore(&lock_B, flags);
    spin_unlock_irq_enable(&lock_A);
    IRQ_ENTER(); L(A); L(B); U(B); U(A); IRQ_EXIT();
}

/* A trylock never waits, so B then trylock(A) against A -> B is no deadlock. */
static void ABBA_with_trylock(void)
{
    L(A); L(B); U(B); U(A);
    L(B);
    if (spin_trylock(&lock_A))
        U(A);
    U(B);
}

/* ---------------------------------------------------------------- the matrix */

/* Which columns a row has: the plain lock column, or the two irq columns (or only the hardirq one). */
enum selftest_kind { SPIN, IRQ, HARDIRQ_ONLY };

struct selftest_case {
    const char *desc;
    void (*fn)(void);
    enum lockdep_report expect;         /* in the hardirq (or spin) column */
    enum selftest_kind kind;
};

static const struct selftest_case cases[] = {
    { "A-A deadlock", AA, LOCKDEP_RECURSIVE, SPIN },
    { "A-B-B-A deadlock", ABBA, LOCKDEP_CIRCULAR, SPIN },
    { "A-B-B-C-C-A deadlock", ABC_cycle, LOCKDEP_CIRCULAR, SPIN },
    { "17 locks held (table full)", too_many_held, LOCKDEP_TABLE_FULL, SPIN },
    { "A-B-B-trylock(A) (no report)", ABBA_with_trylock, LOCKDEP_NO_REPORT, SPIN },
    { "A-A deadlock (real irq)", AA_real_irq, LOCKDEP_RECURSIVE, IRQ },
    { "A-B-B-A deadlock (real irq)", ABBA_real_irq, LOCKDEP_CIRCULAR, IRQ },
    { "safe-A + irqs-on", safe_then_irqs_on, LOCKDEP_INCONSISTENT, IRQ },
    { "irqs-on + safe-A", irqs_on_then_safe, LOCKDEP_INCONSISTENT, IRQ },
    { "safe-A + irqs-on while held", safe_then_enable_while_held, LOCKDEP_INCONSISTENT, IRQ },
    { "irqs-on + safe-A (real irq)", irqs_on_then_real_irq, LOCKDEP_INCONSISTENT, IRQ },
    { "safe-A (real irq) + irqs-on", real_irq_then_irqs_on, LOCKDEP_INCONSISTENT, IRQ },
    { "safe-A + unsafe-B, A->B", safe_A_unsafe_B_then_AB, LOCKDEP_SAFE_TO_UNSAFE, IRQ },
    { "unsafe-B + safe-A, A->B", unsafe_B_safe_A_then_AB, LOCKDEP_SAFE_TO_UNSAFE, IRQ },
    { "safe-A, A->B, B->unsafe-C", safe_A_to_B_to_unsafe_C, LOCKDEP_SAFE_TO_UNSAFE, IRQ },
    { "safe-A (real irq), A->B", safe_A_real_irq_then_AB, LOCKDEP_SAFE_TO_UNSAFE, IRQ },
    { "A->B, unsafe-B, safe-A", AB_unsafe_B_then_safe_A, LOCKDEP_IRQ_INVERSION, IRQ },
    { "A->B, safe-A, unsafe-B", AB_safe_A_then_unsafe_B, LOCKDEP_IRQ_INVERSION, IRQ },
    { "A->B, unsafe-B, safe-A (real irq)", AB_unsafe_B_then_real_irq_A, LOCKDEP_IRQ_INVERSION, IRQ },
    { "irqs-off only (no report)", irqs_off_only, LOCKDEP_NO_REPORT, IRQ },
    { "irqsave + safe-A (no report)", safe_A_used_correctly, LOCKDEP_NO_REPORT, IRQ },
    { "nested irqsave (no report)", nested_irqsave, LOCKDEP_NO_REPORT, IRQ },
    { "counted disable (no report)", counted_nesting, LOCKDEP_NO_REPORT, HARDIRQ_ONLY },
    { "counted in irqsave (no report)", counted_inside_irqsave, LOCKDEP_NO_REPORT, HARDIRQ_ONLY },
    { "irqsave in counted (no report)", irqsave_inside_counted, LOCKDEP_NO_REPORT, HARDIRQ_ONLY },
    { "irqsave + real irq (no report)", safe_AB_used_correctly_real_irq, LOCKDEP_NO_REPORT, IRQ },
};
#define NR_CASES (sizeof cases / sizeof cases[0])

/* The report a case must give in the softirq column: the same, in SOFTIRQ words. */
static enum lockdep_report soft_expect(enum lockdep_report hard)
{
    return hard == LOCKDEP_SAFE_TO_UNSAFE ? LOCKDEP_SOFTIRQ_SAFE_TO_UNSAFE : hard;
}

/* Run one cell from an empty graph; true if it gave exactly the report expected. */
static bool run_cell(const struct selftest_case *c, bool soft)
{
    enum lockdep_report expect = soft ? soft_expect(c->expect) : c->expect;
    unsigned before;
    bool ok;

    soft_column = soft;
    pr_info("locking-selftest: %s%s, expecting %s\n", c->desc, c->kind == SPIN ? "" : soft ? " (softirq)" : " (hardirq)",
            lockdep_report_name(expect));
    lockdep_reset();
    before = lockdep_report_count;
    c->fn();
    ok = lockdep_last_report == expect &&
         lockdep_report_count - before == (expect == LOCKDEP_NO_REPORT ? 0U : 1U);
    if (!ok)
        pr_err("locking-selftest: %s%s: expected %s, got %s (%u reports)\n", c->desc, soft ? " (softirq)" : "",
               lockdep_report_name(expect), lockdep_report_name(lockdep_last_report), lockdep_report_count - before);
    soft_column = false;
    return ok;
}

/*
 * Run every case and print Linux's table and summary, in task context with
 * IRQs on. Each cell starts from an empty graph with the validator on; the
 * softirq cell of a row runs before its hardirq cell. Returns the number of
 * failed cells.
 */
int locking_selftest(void)
{
    bool keep = lockdep_keep_reporting, was_on = debug_locks;
    bool ok_hard[NR_CASES], ok_soft[NR_CASES];
    int failures = 0;
    unsigned total = 0;

    if (strcmp(param_lockdep, "off") == 0) {
        pr_info("locking-selftest: lockdep=off; nothing to test\n");
        return 0;
    }
    init_same_class(&lock_X1);
    init_same_class(&lock_X2);
    request_vector(LOCKDEP_SELFTEST_VECTOR, selftest_irq_handler, "lockdep selftest");
    lockdep_keep_reporting = false;     /* exactly one report per cell */

    for (unsigned i = 0; i < NR_CASES; i++) {
        ok_soft[i] = true;
        if (cases[i].kind == IRQ) {
            ok_soft[i] = run_cell(&cases[i], true);
            failures += !ok_soft[i];
            total++;
        }
        ok_hard[i] = run_cell(&cases[i], false);
        failures += !ok_hard[i];
        total++;
    }
    /* The last case's graph stays, for `lockdep` to show. The validator stays
     * off if an earlier real report had turned it off. */
    lockdep_keep_reporting = keep;
    if (!was_on)
        __atomic_store_n(&debug_locks, false, __ATOMIC_RELEASE);

    printk("------------------------\n");
    printk("| Locking API testsuite:\n");
    printk("----------------------------------------------\n");
    printk("                                     | spin |\n");
    printk("  --------------------------------------------\n");
    for (unsigned i = 0; i < NR_CASES; i++)
        if (cases[i].kind == SPIN)
            printk("%37s:%s|\n", cases[i].desc, ok_hard[i] ? "  ok  " : "FAILED");
    printk("  --------------------------------------------\n");
    printk("                                     |hardirq|softirq|\n");
    printk("  --------------------------------------------\n");
    for (unsigned i = 0; i < NR_CASES; i++)
        if (cases[i].kind != SPIN)
            printk("%37s:%s|%s|\n", cases[i].desc, ok_hard[i] ? "   ok  " : " FAILED",
                   cases[i].kind == HARDIRQ_ONLY ? "       " : ok_soft[i] ? "   ok  " : " FAILED");
    if (failures) {
        printk("-----------------------------------------------------------------\n");
        printk("BUG: %3d unexpected failures (out of %3u) |\n", failures, total);
        printk("-----------------------------------------------------------------\n");
    } else {
        printk("-------------------------------------------------------\n");
        printk("Good, all %3u testcases passed! |\n", total);
        printk("---------------------------------\n");
    }
    return failures;
}

KTEST(locking_selftest)
{
    unsigned long sti_before = hardirq_sti_count(smp_processor_id());

    if (strcmp(param_lockdep, "off") == 0) {
        ktest_skip(t, "lockdep=off");
        return;
    }
    KTEST_EXPECT_MSG(t, locking_selftest() == 0, "a locking self-test case failed (see the table)");
    /* Seed 000: the validator's raw_local_irq_restore() in a handler never executes sti. */
    KTEST_EXPECT(t, hardirq_sti_count(smp_processor_id()) == sti_before);
}

/* For labs: with lockdep_keep_reporting the validator stays on and reports each new problem. */
KTEST(lockdep_keep_reporting_reports_twice)
{
    bool keep = lockdep_keep_reporting, was_on = debug_locks;
    unsigned before;

    if (strcmp(param_lockdep, "off") == 0) {
        ktest_skip(t, "lockdep=off");
        return;
    }
    init_same_class(&lock_X1);
    init_same_class(&lock_X2);
    lockdep_reset();
    lockdep_keep_reporting = true;
    before = lockdep_report_count;
    ABBA();
    AA();
    KTEST_EXPECT(t, lockdep_report_count - before == 2);
    KTEST_EXPECT(t, lockdep_last_report == LOCKDEP_RECURSIVE && debug_locks);
    lockdep_reset();
    lockdep_keep_reporting = keep;
    __atomic_store_n(&debug_locks, was_on, __ATOMIC_RELEASE);
}

/*
 * Every CPU at once nests A -> B, the others in a call-function IPI
 * (hardirq), this one in a task with IRQs off: the graph updates race
 * under the validator's graph lock, and correct locking must stay silent.
 */
#define SMP_ROUNDS 200
static struct {
    volatile unsigned arrived, go, finished;
} smp_run;

static void nest_AB_rounds(void)
{
    for (int i = 0; i < SMP_ROUNDS; i++) {
        unsigned long flags;

        spin_lock_irqsave(&lock_A, flags);
        L(B); U(B);
        spin_unlock_irqrestore(&lock_A, flags);
    }
}

static void smp_worker(void *info)
{
    (void)info;
    __atomic_fetch_add(&smp_run.arrived, 1, __ATOMIC_ACQ_REL);
    while (!__atomic_load_n(&smp_run.go, __ATOMIC_ACQUIRE))
        cpu_relax();
    nest_AB_rounds();
    __atomic_fetch_add(&smp_run.finished, 1, __ATOMIC_ACQ_REL);
}

static bool wait_for(volatile unsigned *p, unsigned value)
{
    uint64_t deadline = ktime_get_ns() + 10000000000ULL;

    while (__atomic_load_n(p, __ATOMIC_ACQUIRE) != value)
        if (ktime_get_ns() > deadline)
            return false;
    return true;
}

KTEST(lockdep_smp_nesting_is_silent)
{
    unsigned others = num_online_cpus() - 1, before;
    bool was_on = debug_locks;

    if (strcmp(param_lockdep, "off") == 0) {
        ktest_skip(t, "lockdep=off");
        return;
    }
    lockdep_reset();
    before = lockdep_report_count;
    smp_run.arrived = smp_run.go = smp_run.finished = 0;
    smp_call_function(smp_worker, NULL, false);     /* asynchronous: they wait for go */
    KTEST_EXPECT(t, wait_for(&smp_run.arrived, others));
    __atomic_store_n(&smp_run.go, 1, __ATOMIC_RELEASE);
    nest_AB_rounds();
    KTEST_EXPECT(t, wait_for(&smp_run.finished, others));
    KTEST_EXPECT_MSG(t, lockdep_report_count == before, "%u reports", lockdep_report_count - before);
    KTEST_EXPECT(t, debug_locks);
    if (!was_on)
        __atomic_store_n(&debug_locks, false, __ATOMIC_RELEASE);
}

