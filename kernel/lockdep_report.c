/* kernel/lockdep_report.c: the lock validator's reports, in Linux's words and layout, and its monitor commands `lockdep` and `locks`. */
#include "kernel/lockdep.h"
#include "kernel/lockdep_internals.h"
#include "arch/x86_64/dumpstack.h"
#include "kernel/cpumask.h"
#include "kernel/hardirq.h"
#include "kernel/irqflags.h"
#include "kernel/monitor.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "kernel/vsprintf.h"

static const char *const usage_str[LOCK_USAGE_STATES] = {
    [LOCK_USED_IN_HARDIRQ] = "IN-HARDIRQ-W",
    [LOCK_ENABLED_HARDIRQ] = "HARDIRQ-ON-W",
    [LOCK_USED_IN_SOFTIRQ] = "IN-SOFTIRQ-W",
    [LOCK_ENABLED_SOFTIRQ] = "SOFTIRQ-ON-W",
};

/* The states of map's class among bits [first, first + 2), "{A,B}". */
static void usage_string(const struct lockdep_map *map, int first, char *buf, unsigned long size)
{
    const struct lock_class *c = map->class_cache;
    unsigned mask = c ? __atomic_load_n(&c->usage_mask, __ATOMIC_RELAXED) : 0;
    unsigned long used = (unsigned long)ksnprintf(buf, size, "{");

    for (int b = first; b < first + 2; b++)
        if ((mask & (1U << b)) && used < size)
            used += (unsigned long)ksnprintf(buf + used, size - used, "%s%s", used > 1 ? "," : "", usage_str[b]);
    if (used < size)
        ksnprintf(buf + used, size - used, "}");
}

void lockdep_usage_string(const struct lockdep_map *map, char *buf, unsigned long size)
{
    usage_string(map, LOCK_USED_IN_HARDIRQ, buf, size);
}

void lockdep_softirq_usage_string(const struct lockdep_map *map, char *buf, unsigned long size)
{
    usage_string(map, LOCK_USED_IN_SOFTIRQ, buf, size);
}

bool lockdep_has_dependency(const struct lockdep_map *from, const struct lockdep_map *to)
{
    const struct lock_class *f = from->class_cache, *t = to->class_cache;

    if (!f || !t)
        return false;
    for (int e = f->locks_after; e >= 0; e = lock_edges[e].next_after)
        if (lock_edges[e].to == t)
            return true;
    return false;
}

static const char *const ctx_name[LOCKDEP_NR_CTX] = { "task", "softirq", "hardirq", "NMI" };

/*
 * Linux's usage characters (get_usage_chars()): per irq class, hardirq then
 * softirq, a write character and a read one: '.' neither state, '-' safe
 * only (used in that irq), '+' unsafe only (held with it enabled), '?'
 * both. irqlab has no read locks, so each read character stays '.':
 * "{-.-.}", "{+.+.}".
 */
#define LOCK_USAGE_CHARS 5

static char usage_char(const struct lock_class *c, enum lock_usage_bit used_in)
{
    bool safe = c->usage_mask & (1U << used_in), unsafe = c->usage_mask & (1U << exclusive_bit(used_in));

    return safe ? (unsafe ? '?' : '-') : (unsafe ? '+' : '.');
}

static void usage_chars(const struct lock_class *c, char buf[LOCK_USAGE_CHARS])
{
    buf[0] = usage_char(c, LOCK_USED_IN_HARDIRQ);
    buf[1] = '.';
    buf[2] = usage_char(c, LOCK_USED_IN_SOFTIRQ);
    buf[3] = '.';
    buf[4] = '\0';
}

/* "(name){+.}", Linux's print_lock_name(), into buf. */
struct lock_name_buf {
    char s[64];
};

static const char *lock_name(const struct lock_class *c, struct lock_name_buf *buf)
{
    char usage[LOCK_USAGE_CHARS];

    usage_chars(c, usage);
    ksnprintf(buf->s, sizeof buf->s, "(%s){%s}", c->name, usage);
    return buf->s;
}

/* "<prefix><instance> (name){+.}, at: site", Linux's print_lock(). */
static void print_lock(const char *prefix, const struct held_lock *hl)
{
    struct lock_name_buf b;

    printk("%s%016lx %s, at: %pS\n", prefix, (unsigned long)hl->instance, lock_name(hl->class, &b),
           (void *)hl->trace.ip);
}

static void print_trace(const struct lock_trace *t)
{
    for (unsigned i = 0; i < t->nr; i++)
        printk("       %pS\n", (void *)t->entries[i]);
}


/* The headline between rule lines as long as itself, as Linux prints them. */
static void print_header(const char *headline)
{
    char rule[80];
    size_t n = strlen(headline) < sizeof rule - 1 ? strlen(headline) : sizeof rule - 1;

    printk("\n");
    memset(rule, '=', n);
    rule[n] = '\0';
    pr_warn("%s\n", rule);
    pr_warn("%s\n", headline);
    memset(rule, '-', n);
    pr_warn("%s\n", rule);
}

static void print_held_locks(const struct lockdep_cpu *lc)
{
    unsigned cpu = smp_processor_id(), total = 0;

    for (unsigned ctx = 0; ctx < LOCKDEP_NR_CTX; ctx++) {
        unsigned d = lc->depth[ctx];

        total += d;
        if (d == 0)
            continue;
        printk("%u lock%s held by CPU%u/%s:\n", d, d == 1 ? "" : "s", cpu, ctx_name[ctx]);
        for (unsigned i = 0; i < d; i++) {
            char prefix[8];

            ksnprintf(prefix, sizeof prefix, " #%u: ", i);
            print_lock(prefix, &lc->held[ctx][i]);
        }
    }
    if (total == 0)
        printk("no locks held by CPU%u.\n", cpu);
}

/* The tail of every report: the irq-trace events, the held locks and a backtrace. */
static void print_footer(const struct lockdep_cpu *lc)
{
    printk("\n");
    print_irqtrace_events(smp_processor_id());
    printk("\n");
    print_held_locks(lc);
    printk("\nstack backtrace:\n");
    dump_stack();
}

/* One dependency: where `to` was taken while `from` was held, and where `from` was taken. */
static void print_edge_traces(const struct lock_trace *to_trace, const struct lock_class *from,
                              const struct lock_trace *from_trace)
{
    print_trace(to_trace);
    printk("       ... while holding (%s), taken at: %pS\n", from->name, (void *)from_trace->ip);
}

/*
 * The edges on the path that bfs() found, in dependency order (each edge's
 * `to` is the next edge's `from`). end is the class the search found.
 */
static unsigned path_edges(const struct lock_class *end, const int *parent, bool forwards, int *edges)
{
    unsigned n = 0;

    for (int e = parent[class_index(end)]; e >= 0 && n < MAX_LOCKDEP_KEYS;) {
        edges[n++] = e;
        e = parent[class_index(forwards ? lock_edges[e].from : lock_edges[e].to)];
    }
    /* A forward search walks back from the end: reverse into dependency order. */
    for (unsigned i = 0; forwards && i < n / 2; i++) {
        int t = edges[i];
        edges[i] = edges[n - 1 - i];
        edges[n - 1 - i] = t;
    }
    return n;
}

static int path_scratch[MAX_LOCKDEP_KEYS];      /* under the graph lock */

static void print_path(const struct lock_class *end, const int *parent, bool forwards)
{
    unsigned n = path_edges(end, parent, forwards, path_scratch);
    struct lock_name_buf b1, b2;

    for (unsigned i = 0; i < n; i++) {
        const struct lock_edge *e = &lock_edges[path_scratch[i]];

        printk("\n -> %s -> %s:\n", lock_name(e->from, &b1), lock_name(e->to, &b2));
        print_edge_traces(&e->to_trace, e->from, &e->from_trace);
    }
    if (n == 0)
        printk("\n -> %s itself: no lock in between\n", lock_name(end, &b1));
}

/* ---------------------------------------------------------------- the five reports */

void print_deadlock_bug(struct lockdep_cpu *lc, const struct held_lock *prev, const struct held_lock *next)
{
    print_header("WARNING: possible recursive locking detected");
    printk("CPU%u/%s is trying to acquire lock:\n", smp_processor_id(), context_name());
    print_lock("", next);
    print_trace(&next->trace);
    printk("\nbut CPU%u/%s is already holding lock:\n", smp_processor_id(), context_name());
    print_lock("", prev);
    print_trace(&prev->trace);
    printk("\nother info that might help us debug this:\n");
    printk(" Possible unsafe locking scenario:\n\n");
    printk("       CPU0\n");
    printk("       ----\n");
    printk("  lock(%s);\n", prev->class->name);
    printk("  lock(%s);\n", next->class->name);
    printk("\n *** DEADLOCK ***\n\n");
    printk(" May be due to missing lock nesting notation\n");
    print_footer(lc);
}

void print_circular_bug(struct lockdep_cpu *lc, const struct held_lock *prev, const struct held_lock *next,
                        const int *parent)
{
    unsigned n = path_edges(prev->class, parent, true, path_scratch);
    const struct lock_class *source = next->class, *target = prev->class;
    const struct lock_class *middle = lock_edges[path_scratch[n - 1]].from;   /* leads into target */
    struct lock_name_buf b;

    print_header("WARNING: possible circular locking dependency detected");
    printk("CPU%u/%s is trying to acquire lock:\n", smp_processor_id(), context_name());
    print_lock("", next);
    printk("\nbut CPU%u/%s is already holding lock:\n", smp_processor_id(), context_name());
    print_lock("", prev);
    print_trace(&prev->trace);
    printk("\nwhich lock already depends on the new lock.\n\n");

    /* The cycle prev -> next -> ... -> prev, newest edge last, numbered down to #0. */
    printk("\nthe existing dependency chain (in reverse order) is:\n");
    for (unsigned i = n; i-- > 0;) {
        const struct lock_edge *e = &lock_edges[path_scratch[i]];

        printk("\n-> #%u %s:\n", i + 1, lock_name(e->to, &b));
        print_edge_traces(&e->to_trace, e->from, &e->from_trace);
    }
    printk("\n-> #0 %s:\n", lock_name(source, &b));
    print_edge_traces(&next->trace, target, &prev->trace);

    printk("\nother info that might help us debug this:\n\n");
    if (middle != source) {
        printk("Chain exists of:\n  %s --> %s --> %s\n\n", source->name, middle->name, target->name);
    }
    printk(" Possible unsafe locking scenario:\n\n");
    printk("       CPU0                    CPU1\n");
    printk("       ----                    ----\n");
    printk("  lock(%s);\n", target->name);
    printk("                               lock(%s);\n", middle->name);
    printk("                               lock(%s);\n", target->name);
    printk("  lock(%s);\n", source->name);
    printk("\n *** DEADLOCK ***\n");
    print_footer(lc);
}

/*
 * Linux's "comm/pid [HC%u[%lu]:SC%u[%lu]:HE%u:SE%u] what:": in hardirq
 * (and the hardirq nesting), in a softirq handler (and the softirq field,
 * as Linux prints softirq_count() >> SOFTIRQ_SHIFT), IRQs enabled,
 * softirqs enabled, at the hook.
 */
static void print_irq_state(const struct lockdep_cpu *lc, const char *what)
{
    printk("CPU%u/%s [HC%u[%u]:SC%u[%u]:HE%u:SE%u] %s:\n", smp_processor_id(), context_name(),
           in_hardirq() ? 1U : 0U, hardirq_depth(), in_serving_softirq() ? 1U : 0U,
           softirq_count() >> SOFTIRQ_SHIFT, lc->irqs_on ? 1U : 0U, lc->softirqs_on ? 1U : 0U, what);
}

void print_usage_bug(struct lockdep_cpu *lc, const struct held_lock *this,
                     enum lock_usage_bit prev_bit, enum lock_usage_bit new_bit)
{
    print_header("WARNING: inconsistent lock state");
    printk("inconsistent {%s} -> {%s} usage.\n", usage_str[prev_bit], usage_str[new_bit]);
    print_irq_state(lc, "takes");
    print_lock("", this);
    print_trace(&this->class->usage_traces[new_bit]);
    printk("{%s} state was registered at:\n", usage_str[prev_bit]);
    print_trace(&this->class->usage_traces[prev_bit]);
    printk("\nother info that might help us debug this:\n");
    printk(" Possible unsafe locking scenario:\n\n");
    printk("       CPU0\n");
    printk("       ----\n");
    printk("  lock(%s);\n", this->class->name);
    printk("  <Interrupt>\n");
    printk("    lock(%s);\n", this->class->name);
    printk("\n *** DEADLOCK ***\n");
    print_footer(lc);
}

/*
 * Linux's print_irq_lock_scenario(): CPU0 holds the unsafe lock with IRQs
 * on; CPU1 takes the safe lock and waits for the next one on the path
 * (middle); the interrupt on CPU0 waits for the safe lock.
 */
static void print_irq_lock_scenario(const struct lock_class *safe, const struct lock_class *middle,
                                    const struct lock_class *unsafe)
{
    if (middle != unsafe)
        printk("Chain exists of:\n  %s --> %s --> %s\n\n", safe->name, middle->name, unsafe->name);
    printk(" Possible interrupt unsafe locking scenario:\n\n");
    printk("       CPU0                    CPU1\n");
    printk("       ----                    ----\n");
    printk("  lock(%s);\n", unsafe->name);
    printk("                               local_irq_disable();\n");
    printk("                               lock(%s);\n", safe->name);
    printk("                               lock(%s);\n", middle->name);
    printk("  <Interrupt>\n");
    printk("    lock(%s);\n", safe->name);
    printk("\n *** DEADLOCK ***\n\n");
}

/* "... which became HARDIRQ-irq-safe at:" (or SOFTIRQ-, or -unsafe) and its stack. */
static void print_usage_site(const struct lock_class *c, enum lock_usage_bit bit)
{
    bool safe = bit == LOCK_USED_IN_HARDIRQ || bit == LOCK_USED_IN_SOFTIRQ;

    printk("\n... which became %s-irq-%s at:\n", state_name(bit), safe ? "safe" : "unsafe");
    print_trace(&c->usage_traces[bit]);
}

void print_irq_inversion_bug(struct lockdep_cpu *lc, const struct held_lock *this, struct lock_class *other,
                             enum lock_usage_bit new_bit, const int *parent)
{
    /* Forwards: this (now irq-safe) leads to other (unsafe). Backwards: other (safe) leads to this. */
    bool forwards = new_bit == LOCK_USED_IN_HARDIRQ || new_bit == LOCK_USED_IN_SOFTIRQ;
    enum lock_usage_bit safe_bit = forwards ? new_bit : exclusive_bit(new_bit);
    const char *irqclass = state_name(new_bit);
    const struct lock_class *safe = forwards ? this->class : other;
    const struct lock_class *unsafe = forwards ? other : this->class;
    unsigned n = path_edges(other, parent, forwards, path_scratch);
    const struct lock_class *middle = lock_edges[path_scratch[0]].to;   /* the first step from safe */
    struct lock_name_buf b;

    print_header("WARNING: possible irq lock inversion dependency detected");
    printk("CPU%u/%s just changed the state of lock:\n", smp_processor_id(), context_name());
    print_lock("", this);
    if (forwards)
        printk("but this lock took another, %s-unsafe lock in the past:\n", irqclass);
    else
        printk("but this lock was taken by another, %s-safe lock in the past:\n", irqclass);
    printk(" %s\n\nand interrupts could create inverse lock ordering between them.\n\n", lock_name(other, &b));
    print_usage_site(safe, safe_bit);
    print_usage_site(unsafe, exclusive_bit(safe_bit));
    printk("\nother info that might help us debug this:\n");
    print_irq_lock_scenario(safe, n ? middle : unsafe, unsafe);
    printk("\nthe shortest dependencies between 2nd lock and 1st lock:\n");
    print_path(other, parent, forwards);
    print_footer(lc);
}

void print_bad_irq_dependency(struct lockdep_cpu *lc, const struct held_lock *prev, const struct held_lock *next,
                              struct lock_class *safe, const int *back_parent,
                              struct lock_class *unsafe, const int *fwd_parent, enum lock_usage_bit safe_bit)
{
    const char *irqclass = state_name(safe_bit);
    struct lock_name_buf b1, b2;
    char headline[64];

    ksnprintf(headline, sizeof headline, "WARNING: %s-safe -> %s-unsafe lock order detected", irqclass, irqclass);
    print_header(headline);
    print_irq_state(lc, "is trying to acquire");
    print_lock("", next);
    print_trace(&next->trace);
    printk("\nand CPU%u/%s is already holding:\n", smp_processor_id(), context_name());
    print_lock("", prev);
    print_trace(&prev->trace);
    printk("which would create a new lock dependency:\n");
    printk(" %s -> %s\n", lock_name(prev->class, &b1), lock_name(next->class, &b2));
    printk("\nbut this new dependency connects a %s-irq-safe lock:\n", irqclass);
    printk(" %s\n", lock_name(safe, &b1));
    print_usage_site(safe, safe_bit);
    printk("\nto a %s-irq-unsafe lock:\n", irqclass);
    printk(" %s\n", lock_name(unsafe, &b1));
    print_usage_site(unsafe, exclusive_bit(safe_bit));
    printk("\nother info that might help us debug this:\n\n");
    print_irq_lock_scenario(safe, prev->class == safe ? next->class : prev->class, unsafe);
    printk("\nthe dependencies between %s-irq-safe lock and the holding lock:\n", irqclass);
    print_path(safe, back_parent, false);
    printk("\nthe dependencies between the lock to be acquired and %s-irq-unsafe lock:\n", irqclass);
    print_path(unsafe, fwd_parent, true);
    print_footer(lc);
}

/* ---------------------------------------------------------------- monitor */

static void show_classes(void)
{
    unsigned long flags = lockdep_graph_lock_irqsave();

    printk("lockdep: %s%s, %u of %u classes, %u of %u dependencies, %u report%s (last: %s)\n",
           debug_locks ? "on" : "off", lockdep_keep_reporting ? " (keeps reporting)" : "",
           nr_lock_classes, MAX_LOCKDEP_KEYS, nr_lock_edges, MAX_LOCKDEP_ENTRIES,
           lockdep_report_count, lockdep_report_count == 1 ? "" : "s",
           lockdep_report_name(lockdep_last_report));
    for (unsigned i = 0; i < nr_lock_classes; i++) {
        const struct lock_class *c = &lock_classes[i];
        unsigned fd = 0, bd = 0;
        char usage[LOCK_USAGE_CHARS];

        for (int e = c->locks_after; e >= 0; e = lock_edges[e].next_after)
            fd++;
        for (int e = c->locks_before; e >= 0; e = lock_edges[e].next_before)
            bd++;
        usage_chars(c, usage);
        /* Linux's /proc/lockdep line; FD/BD count direct dependencies here. */
        printk("%016lx OPS: %6lu FD: %3u BD: %3u %s: %s", (unsigned long)c->key, c->ops, fd, bd, usage, c->name);
        for (unsigned b = 0; b < LOCK_USAGE_STATES; b++)
            if (c->usage_mask & (1U << b))
                pr_cont(" {%s}", usage_str[b]);
        pr_cont("\n");
        for (int e = c->locks_after; e >= 0; e = lock_edges[e].next_after)
            printk(" -> [%016lx] %s\n", (unsigned long)lock_edges[e].to->key, lock_edges[e].to->name);
    }
    lockdep_graph_unlock_irqrestore(flags);
}

MONITOR_COMMAND_ARGS(lockdep, "[on|off|keep|reset|selftest]", 0, 1,
                     "lock classes, usage and dependencies; or switch, reset or self-test the validator")
{
    if (argc < 2) {
        show_classes();
    } else if (strcmp(argv[1], "on") == 0 || strcmp(argv[1], "off") == 0) {
        __atomic_store_n(&debug_locks, strcmp(argv[1], "on") == 0, __ATOMIC_RELEASE);
        printk("lockdep: %s\n", argv[1]);
    } else if (strcmp(argv[1], "keep") == 0) {
        lockdep_keep_reporting = true;
        printk("lockdep: will keep reporting after a report\n");
    } else if (strcmp(argv[1], "reset") == 0) {
        lockdep_reset();
        printk("lockdep: dependencies and usage forgotten, validator on\n");
    } else if (strcmp(argv[1], "selftest") == 0) {
        return locking_selftest() ? 1 : 0;
    } else {
        printk("lockdep: unknown argument '%s'; valid: on, off, keep, reset, selftest\n", argv[1]);
        return 1;
    }
    return 0;
}

MONITOR_COMMAND(locks, "the locks each CPU holds, per context (task, softirq, hardirq, NMI)")
{
    unsigned cpu;

    (void)argc;
    (void)argv;
    if (!debug_locks)
        printk("lockdep is off: held locks are not tracked\n");
    for_each_online_cpu(cpu) {
        const struct lockdep_cpu *lc = &lockdep_cpus[cpu];
        unsigned total = 0;

        /* Another CPU's stacks change under us: a snapshot, good enough to look at. */
        for (unsigned ctx = 0; ctx < LOCKDEP_NR_CTX; ctx++) {
            unsigned d = __atomic_load_n(&lc->depth[ctx], __ATOMIC_RELAXED);

            for (unsigned i = 0; i < d && i < MAX_LOCK_DEPTH; i++) {
                const struct held_lock *hl = &lc->held[ctx][i];

                if (hl->class < lock_classes || hl->class >= lock_classes + MAX_LOCKDEP_KEYS)
                    continue;           /* caught in the middle of an update */
                printk("CPU%u %-7s #%u: %016lx (%s), at: %pS\n", cpu, ctx_name[ctx], i,
                       (unsigned long)hl->instance, hl->class->name, (void *)hl->trace.ip);
            }
            total += d;
        }
        if (total == 0)
            printk("CPU%u: no locks held\n", cpu);
    }
    return 0;
}
