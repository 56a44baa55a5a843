/* kernel/lockdep.c: the lock validator: lock classes, a dependency graph searched for cycles, and hardirq/softirq usage rules (Linux's lockdep, cut down). */
#include "kernel/lockdep.h"
#include "kernel/lab_hooks.h"
#include "kernel/lockdep_internals.h"
#include "arch/x86_64/dumpstack.h"
#include "arch/x86_64/percpu.h"
#include "kernel/hardirq.h"
#include "kernel/irqflags.h"
#include "kernel/printk.h"
#include "kernel/spinlock.h"
#include "kernel/string.h"

/*
 * The theory, in four rules (Linux: Documentation/locking/lockdep-design.rst).
 *
 * 1. Classes, not instances. Locks initialised at one site behave alike, so
 *    the validator learns about the class. A rule broken once by any two
 *    instances is a bug for every instance, even if this run was lucky.
 *
 * 2. Dependencies. Taking B while holding A records the edge A -> B: "some
 *    CPU may hold an A while it waits for a B". If the graph has a cycle
 *    A -> B -> ... -> A, then each CPU in the cycle can hold one lock while
 *    waiting for the next: a deadlock that needs only the right timing.
 *    Each new edge prev -> next closes a cycle exactly when next already
 *    reaches prev, which one breadth-first search answers. Taking a second
 *    lock of a class already held in the same context is the shortest
 *    cycle (A -> A): recursive locking.
 *
 * 3. Irq usage. A class used IN a hardirq handler (HARDIRQ-safe, because the
 *    users must disable IRQs around it) and also held with IRQs ON (HARDIRQ-
 *    unsafe) deadlocks one CPU with itself: the handler spins on the lock
 *    that the code it interrupted holds. Only taking it INSIDE a handler
 *    makes a class HARDIRQ-safe; taking it with IRQs merely off does not
 *    (seed 002), or every lock used in early boot would look irq-safe.
 *    Softirqs the same: a class taken in a softirq handler is SOFTIRQ-safe,
 *    one held with IRQs on and softirqs enabled (no local_bh_disable(), not
 *    in a softirq) is SOFTIRQ-unsafe: the softirq that runs at the exit of
 *    the next interrupt spins on it.
 *
 * 4. Irq usage across dependencies. If a HARDIRQ-safe lock S reaches a
 *    HARDIRQ-unsafe lock U (S -> ... -> U), then CPU0 holds U with IRQs on,
 *    CPU1 takes S then waits for U, and an interrupt on CPU0 waits for S:
 *    neither can go on. Found when the edge appears (safe -> unsafe lock
 *    order) or when a usage appears on an existing path (irq inversion).
 *    Likewise for SOFTIRQ-safe and SOFTIRQ-unsafe, checked after HARDIRQ.
 *
 * Every check runs before the lock is really taken, so a deadlock is
 * reported even when it would have happened right now.
 */

bool debug_locks;                       /* turned on by lockdep_init() */
bool lockdep_keep_reporting;
char param_lockdep[8] = "on";
volatile enum lockdep_report lockdep_last_report;
volatile unsigned lockdep_report_count;

struct lock_class lock_classes[MAX_LOCKDEP_KEYS];
unsigned nr_lock_classes;
struct lock_edge lock_edges[MAX_LOCKDEP_ENTRIES];
unsigned nr_lock_edges;
struct lockdep_cpu lockdep_cpus[NR_CPUS];

/* Guards the classes, the edges and the usage bits against other CPUs. */
static raw_spinlock_t lockdep_graph_lock = __RAW_SPIN_LOCK_UNLOCKED;

/* ---------------------------------------------------------------- entry, exit, traces */

static enum lockdep_ctx lockdep_context(void)
{
    unsigned pc = preempt_count();      /* one read: every lock operation comes here */

    if (pc & NMI_MASK)
        return LOCKDEP_CTX_NMI;
    if (pc & HARDIRQ_MASK)
        return LOCKDEP_CTX_HARDIRQ;
    return (pc & SOFTIRQ_OFFSET) ? LOCKDEP_CTX_SOFTIRQ : LOCKDEP_CTX_TASK;
}

/*
 * Every hook starts here. Returns NULL when the validator must not run: it
 * is off, or this CPU is already inside it (an NMI that arrived in the
 * middle, or a lock taken while printing a report). Otherwise IRQs are off,
 * with the old flags in *flags, and the recursion guard is held until
 * lockdep_exit().
 *
 * The IRQs-off section is raw_local_irq_save(): raw, because the traced
 * local_irq_*() would call back into the validator. This is the code seed
 * 000's patch wanted to skip in hardirq context. No need: in a handler IF
 * is already 0 (the interrupt gate cleared it), the saved flags say so, and
 * raw_local_irq_restore() executes sti only when the saved IF was 1.
 */
/*
 * The lab hook LAB_HOOK_LOCKDEP_SKIP_IRQ_SAVE_IN_HARDIRQ (kernel/lab_hooks.h),
 * off unless a stall lab variant turns it on: seed 000's patch. With it on,
 * the hooks skip their raw_local_irq_save()/restore() in hardirq context
 * (IF is 0 there anyway), so no restore, broken or not, runs there.
 */

static bool lockdep_irq_save_skipped(void)
{
    return lab_hook(LAB_HOOK_LOCKDEP_SKIP_IRQ_SAVE_IN_HARDIRQ) && in_hardirq();
}

static struct lockdep_cpu *lockdep_enter(unsigned long *flags)
{
    struct lockdep_cpu *lc;

    if (!__atomic_load_n(&debug_locks, __ATOMIC_RELAXED)) {
        lc = &lockdep_cpus[smp_processor_id()];
        if (lc->tracking)
            lc->tracking = false;       /* this lock operation goes unrecorded */
        return NULL;
    }
    if (lockdep_irq_save_skipped())
        raw_local_save_flags(*flags);   /* the patch: IF is already 0, leave it */
    else
        raw_local_irq_save(*flags);
    lc = &lockdep_cpus[smp_processor_id()];
    if (lc->recursion) {
        if (!lockdep_irq_save_skipped())
            raw_local_irq_restore(*flags);
        return NULL;
    }
    lc->recursion = 1;
    if (!lc->tracking) {
        memset(lc->depth, 0, sizeof lc->depth);
        lc->tracking = true;
    }
    lc->irqs_on = !raw_irqs_disabled_flags(*flags);
    lc->softirqs_on = softirq_count() == 0;
    return lc;
}

static void lockdep_exit(struct lockdep_cpu *lc, unsigned long flags)
{
    lc->recursion = 0;
    if (!lockdep_irq_save_skipped())
        raw_local_irq_restore(flags);
}

/*
 * Fill t with the stack of the hook's caller. Must be called directly from
 * the hook (lock_acquire, lockdep_hardirqs_on): the first two return
 * addresses are in save_trace and in the hook, and are dropped.
 */
__attribute__((noinline)) static void save_trace(struct lock_trace *t, unsigned long ip)
{
    uint64_t buf[LOCK_TRACE_DEPTH + 2];
    unsigned n = stack_trace_save(buf, LOCK_TRACE_DEPTH + 2);

    t->ip = ip;
    t->nr = n > 2 ? n - 2 : 0;
    memcpy(t->entries, buf + 2, t->nr * sizeof buf[0]);
}

static void graph_lock(void)   { raw_spin_lock(&lockdep_graph_lock); }
static void graph_unlock(void) { raw_spin_unlock(&lockdep_graph_lock); }

unsigned long lockdep_graph_lock_irqsave(void)
{
    unsigned long flags;

    raw_local_irq_save(flags);
    lockdep_cpus[smp_processor_id()].recursion++;
    graph_lock();
    return flags;
}

void lockdep_graph_unlock_irqrestore(unsigned long flags)
{
    graph_unlock();
    lockdep_cpus[smp_processor_id()].recursion--;
    raw_local_irq_restore(flags);
}

/*
 * Start a report of the given type (graph lock held). False if the
 * validator was turned off meanwhile, by another CPU's report for example:
 * only the first problem is printed, because after one the graph may be
 * half-updated and every later report suspect. Labs may keep going.
 */
static bool report_begin(enum lockdep_report type)
{
    if (!debug_locks)
        return false;
    if (!lockdep_keep_reporting)
        __atomic_store_n(&debug_locks, false, __ATOMIC_RELAXED);
    lockdep_last_report = type;
    lockdep_report_count++;
    return true;
}

/* A table is full (graph lock held): say which, and turn the validator off for good. */
static void lockdep_table_full(const char *what)
{
    if (!debug_locks)
        return;
    __atomic_store_n(&debug_locks, false, __ATOMIC_RELAXED);
    lockdep_last_report = LOCKDEP_TABLE_FULL;
    lockdep_report_count++;
    pr_err("lockdep: BUG: %s too low!\n", what);
    pr_err("lockdep: turning off the locking correctness validator.\n");
    dump_stack();
}

/* ---------------------------------------------------------------- classes */

void lockdep_init_map(struct lockdep_map *map, const char *name, struct lock_class_key *key)
{
    map->key = key;
    map->name = name;
    map->class_cache = NULL;
}

/*
 * The class of map's key, registered on first use. Classes are never freed
 * (not even by lockdep_reset()), so a cached pointer stays valid and the
 * common case needs no lock.
 */
static struct lock_class *look_up_class(struct lockdep_map *map)
{
    struct lock_class *class = __atomic_load_n(&map->class_cache, __ATOMIC_ACQUIRE);

    if (class)
        return class;
    if (!map->key) {
        static bool warned;
        if (!warned) {
            warned = true;
            pr_warn("lockdep: lock '%s' has no lock_class_key (not initialised?); it is not validated\n",
                    map->name ? map->name : "?");
        }
        return NULL;
    }
    graph_lock();
    for (unsigned i = 0; i < nr_lock_classes && !class; i++)
        if (lock_classes[i].key == map->key)
            class = &lock_classes[i];
    if (!class && nr_lock_classes == MAX_LOCKDEP_KEYS) {
        lockdep_table_full("MAX_LOCKDEP_KEYS");
    } else if (!class) {
        class = &lock_classes[nr_lock_classes];
        class->key = map->key;
        class->name = map->name ? map->name : "(unnamed)";
        class->locks_after = class->locks_before = -1;
        __atomic_store_n(&nr_lock_classes, nr_lock_classes + 1, __ATOMIC_RELEASE);
    }
    graph_unlock();
    if (class)
        __atomic_store_n(&map->class_cache, class, __ATOMIC_RELEASE);
    return class;
}

/* ---------------------------------------------------------------- graph search */

/* What a breadth-first search looks for. */
static bool match_class(const struct lock_class *c, const void *target) { return c == target; }
static bool match_usage(const struct lock_class *c, const void *mask)
{
    return (c->usage_mask & *(const unsigned *)mask) != 0;
}

/* Scratch for bfs(), under the graph lock. */
static unsigned bfs_queue[MAX_LOCKDEP_KEYS];
static bool bfs_seen[MAX_LOCKDEP_KEYS];
static int bfs_parent_fwd[MAX_LOCKDEP_KEYS], bfs_parent_back[MAX_LOCKDEP_KEYS];

/*
 * Breadth-first search from start, along edges forwards (locks taken after
 * it) or backwards (locks held when it was taken), for the nearest class
 * that match() accepts, start included. Records in parent[] the edge by
 * which each class was first reached, so the shortest path can be printed.
 * Graph lock held. Visits each class once: O(classes + edges).
 */
static struct lock_class *bfs(struct lock_class *start, bool forwards,
                              bool (*match)(const struct lock_class *, const void *), const void *data,
                              int *parent)
{
    unsigned head = 0, tail = 0;

    memset(bfs_seen, 0, sizeof bfs_seen);
    bfs_queue[tail++] = class_index(start);
    bfs_seen[class_index(start)] = true;
    parent[class_index(start)] = -1;
    while (head < tail) {
        struct lock_class *c = &lock_classes[bfs_queue[head++]];

        if (match(c, data))
            return c;
        for (int e = forwards ? c->locks_after : c->locks_before; e >= 0;
             e = forwards ? lock_edges[e].next_after : lock_edges[e].next_before) {
            unsigned i = class_index(forwards ? lock_edges[e].to : lock_edges[e].from);

            if (!bfs_seen[i]) {
                bfs_seen[i] = true;
                parent[i] = e;
                bfs_queue[tail++] = i;
            }
        }
    }
    return NULL;
}

/* ---------------------------------------------------------------- irq usage (rules 3 and 4) */

/*
 * Give this held lock's class the usage `bit`, with trace as where it
 * happened. The first time a class gets a state, check it against the
 * opposite state (exclusive_bit(): same irq class, the other direction):
 * on the class itself (inconsistent lock state), then along the graph (irq
 * lock inversion): a new HARDIRQ-safe class must not reach a
 * HARDIRQ-unsafe one, a new HARDIRQ-unsafe class must not be reached from
 * a HARDIRQ-safe one; the same for SOFTIRQ.
 */
static void mark_lock(struct lockdep_cpu *lc, const struct held_lock *hl, enum lock_usage_bit bit,
                      const struct lock_trace *trace)
{
    struct lock_class *class = hl->class;
    enum lock_usage_bit excl = exclusive_bit(bit);
    unsigned excl_mask = 1U << excl;
    bool forwards = bit == LOCK_USED_IN_HARDIRQ || bit == LOCK_USED_IN_SOFTIRQ;
    int *parent = forwards ? bfs_parent_fwd : bfs_parent_back;
    struct lock_class *other;

    /* Usage bits only ever get set (except by lockdep_reset), so a set bit needs no lock. */
    if (__atomic_load_n(&class->usage_mask, __ATOMIC_RELAXED) & (1U << bit))
        return;
    graph_lock();
    if (!(class->usage_mask & (1U << bit))) {
        class->usage_traces[bit] = *trace;
        __atomic_store_n(&class->usage_mask, class->usage_mask | (1U << bit), __ATOMIC_RELAXED);
        if (class->usage_mask & excl_mask) {
            if (report_begin(LOCKDEP_INCONSISTENT))
                print_usage_bug(lc, hl, excl, bit);
        } else if ((other = bfs(class, forwards, match_usage, &excl_mask, parent))) {
            if (report_begin(LOCKDEP_IRQ_INVERSION))
                print_irq_inversion_bug(lc, hl, other, bit, parent);
        }
    }
    graph_unlock();
}

/* ---------------------------------------------------------------- dependencies (rules 2 and 4) */

/* Record the edge prev -> next (graph lock held). False if the table is full. */
static bool add_edge(const struct held_lock *prev, const struct held_lock *next)
{
    struct lock_edge *e;

    if (nr_lock_edges == MAX_LOCKDEP_ENTRIES) {
        lockdep_table_full("MAX_LOCKDEP_ENTRIES");
        return false;
    }
    e = &lock_edges[nr_lock_edges];
    e->from = prev->class;
    e->to = next->class;
    e->from_trace = prev->trace;
    e->to_trace = next->trace;
    e->next_after = prev->class->locks_after;
    e->next_before = next->class->locks_before;
    prev->class->locks_after = (int)nr_lock_edges;
    next->class->locks_before = (int)nr_lock_edges;
    nr_lock_edges++;
    return true;
}

/*
 * Rule 4 for a new edge prev -> next: is there a lock that is irq-safe at
 * or before prev and one unsafe for the same irq class at or after next?
 * HARDIRQ first, then SOFTIRQ (Linux too prefers the lowest usage bit). On
 * success *bit, *safe and *unsafe say which, and bfs_parent_back/_fwd hold
 * the two paths. Graph lock held.
 */
static bool find_irq_unsafe_order(const struct held_lock *prev, const struct held_lock *next,
                                  enum lock_usage_bit *bit, struct lock_class **safe, struct lock_class **unsafe)
{
    static const enum lock_usage_bit safe_bits[] = { LOCK_USED_IN_HARDIRQ, LOCK_USED_IN_SOFTIRQ };

    for (unsigned i = 0; i < sizeof safe_bits / sizeof safe_bits[0]; i++) {
        unsigned safe_mask = 1U << safe_bits[i], unsafe_mask = 1U << exclusive_bit(safe_bits[i]);

        if ((*safe = bfs(prev->class, false, match_usage, &safe_mask, bfs_parent_back)) &&
            (*unsafe = bfs(next->class, true, match_usage, &unsafe_mask, bfs_parent_fwd))) {
            *bit = safe_bits[i];
            return true;
        }
    }
    return false;
}

/*
 * next is being taken while prev is held: check the new dependency
 * prev -> next and record it. An edge already in the graph was checked
 * when it was added, and usage changes since are checked by mark_lock(),
 * so only new edges are searched. Returns false after a report (unless
 * labs keep reporting) or when the table is full. Graph lock held.
 */
static bool check_prev_add(struct lockdep_cpu *lc, const struct held_lock *prev, const struct held_lock *next)
{
    struct lock_class *safe = NULL, *unsafe = NULL;
    enum lock_usage_bit safe_bit = LOCK_USED_IN_HARDIRQ;

    for (int e = prev->class->locks_after; e >= 0; e = lock_edges[e].next_after)
        if (lock_edges[e].to == next->class)
            return true;

    /* Rule 2: if next already leads to prev, prev -> next closes a cycle. */
    if (bfs(next->class, true, match_class, prev->class, bfs_parent_fwd)) {
        if (report_begin(LOCKDEP_CIRCULAR))
            print_circular_bug(lc, prev, next, bfs_parent_fwd);
        if (!lockdep_keep_reporting)
            return false;
    } else if (find_irq_unsafe_order(prev, next, &safe_bit, &safe, &unsafe)) {
        /* Rule 4: an irq-safe lock at or before prev, an unsafe one (same irq class) at or after next. */
        if (report_begin(safe_bit == LOCK_USED_IN_HARDIRQ ? LOCKDEP_SAFE_TO_UNSAFE : LOCKDEP_SOFTIRQ_SAFE_TO_UNSAFE))
            print_bad_irq_dependency(lc, prev, next, safe, bfs_parent_back, unsafe, bfs_parent_fwd, safe_bit);
        if (!lockdep_keep_reporting)
            return false;
    }
    return add_edge(prev, next);
}

/*
 * next is being taken in context ctx (not a trylock). A class already held
 * in this context is recursive locking. Otherwise add the dependency from
 * the most recent lock held, and from each trylock above the most recent
 * plain lock (a trylock adds no edges into it, so the chain would break
 * there). Older locks already lead to the most recent one, so their
 * edges to next follow by transitivity.
 */
static void validate_chain(struct lockdep_cpu *lc, enum lockdep_ctx ctx, const struct held_lock *next)
{
    struct held_lock *held = lc->held[ctx];
    unsigned depth = lc->depth[ctx];

    graph_lock();
    for (unsigned i = 0; i < depth; i++) {
        if (held[i].class == next->class) {
            if (report_begin(LOCKDEP_RECURSIVE))
                print_deadlock_bug(lc, &held[i], next);
            graph_unlock();
            return;
        }
    }
    for (unsigned i = depth; i-- > 0;)
        if (!check_prev_add(lc, &held[i], next) || !held[i].trylock)
            break;
    graph_unlock();
}

/* ---------------------------------------------------------------- the hooks */

static void __lock_acquire(struct lockdep_cpu *lc, struct held_lock *hl)
{
    enum lockdep_ctx ctx = lockdep_context();
    unsigned depth = lc->depth[ctx];

    __atomic_fetch_add(&hl->class->ops, 1, __ATOMIC_RELAXED);
    /*
     * Rule 3: a hardirq handler makes it HARDIRQ-safe, a softirq handler
     * SOFTIRQ-safe; IRQs on outside a hardirq, HARDIRQ-unsafe, and with
     * softirqs enabled too, SOFTIRQ-unsafe. IRQs off in a task, and NMIs,
     * mark nothing.
     */
    if (ctx == LOCKDEP_CTX_HARDIRQ)
        mark_lock(lc, hl, LOCK_USED_IN_HARDIRQ, &hl->trace);
    else if (ctx == LOCKDEP_CTX_SOFTIRQ)
        mark_lock(lc, hl, LOCK_USED_IN_SOFTIRQ, &hl->trace);
    if ((ctx == LOCKDEP_CTX_TASK || ctx == LOCKDEP_CTX_SOFTIRQ) && lc->irqs_on) {
        mark_lock(lc, hl, LOCK_ENABLED_HARDIRQ, &hl->trace);
        if (lc->softirqs_on && debug_locks)
            mark_lock(lc, hl, LOCK_ENABLED_SOFTIRQ, &hl->trace);
    }

    /* A trylock never waits, so it cannot close a deadlock: no dependency into it. */
    if (!hl->trylock && ctx != LOCKDEP_CTX_NMI && depth > 0 && debug_locks)
        validate_chain(lc, ctx, hl);

    if (depth == MAX_LOCK_DEPTH) {
        graph_lock();
        lockdep_table_full("MAX_LOCK_DEPTH");
        graph_unlock();
        return;
    }
    lc->held[ctx][depth] = *hl;
    lc->depth[ctx] = depth + 1;
}

void lock_acquire(struct lockdep_map *map, int trylock, unsigned long ip)
{
    unsigned long flags;
    struct lockdep_cpu *lc = lockdep_enter(&flags);

    if (!lc)
        return;
    struct held_lock hl = { .instance = map, .class = look_up_class(map), .trylock = trylock != 0 };
    if (hl.class) {
        save_trace(&hl.trace, ip);
        __lock_acquire(lc, &hl);
    }
    lockdep_exit(lc, flags);
}

/*
 * Remove map from this context's stack, wherever it is (locks need not be
 * released in order). A lock not found was taken while the validator was
 * off or from inside it, and is ignored.
 */
void lock_release(struct lockdep_map *map, unsigned long ip)
{
    unsigned long flags;
    struct lockdep_cpu *lc = lockdep_enter(&flags);
    enum lockdep_ctx ctx;

    (void)ip;
    if (!lc)
        return;
    ctx = lockdep_context();
    for (unsigned i = lc->depth[ctx]; i-- > 0;) {
        if (lc->held[ctx][i].instance == map) {
            memmove(&lc->held[ctx][i], &lc->held[ctx][i + 1],
                    (lc->depth[ctx] - i - 1) * sizeof lc->held[ctx][0]);
            lc->depth[ctx]--;
            break;
        }
    }
    lockdep_exit(lc, flags);
}

/*
 * IRQs are about to be enabled (IF still 0): every lock held in this
 * context becomes HARDIRQ-unsafe, with this call site as where, and
 * SOFTIRQ-unsafe too when softirqs are enabled (Linux's
 * lockdep_hardirqs_on(); local_bh_enable() turns softirqs on with IRQs off
 * and then IRQs on, so its locks are marked here).
 */
void lockdep_hardirqs_on(unsigned long ip)
{
    unsigned long flags;
    struct lockdep_cpu *lc = lockdep_enter(&flags);
    enum lockdep_ctx ctx;
    struct lock_trace trace;

    if (!lc)
        return;
    ctx = lockdep_context();
    if (ctx != LOCKDEP_CTX_NMI && lc->depth[ctx] > 0) {
        save_trace(&trace, ip);
        lc->irqs_on = true;
        for (unsigned i = 0; i < lc->depth[ctx] && debug_locks; i++)
            mark_lock(lc, &lc->held[ctx][i], LOCK_ENABLED_HARDIRQ, &trace);
        for (unsigned i = 0; i < lc->depth[ctx] && debug_locks && lc->softirqs_on; i++)
            mark_lock(lc, &lc->held[ctx][i], LOCK_ENABLED_SOFTIRQ, &trace);
    }
    lockdep_exit(lc, flags);
}

/*
 * Nothing to record: each acquisition reads IF itself, and the irq-trace
 * events that reports print are kept by kernel/irqflags.h.
 */
void lockdep_hardirqs_off(unsigned long ip)
{
    (void)ip;
}

/* ---------------------------------------------------------------- setup and tests */

bool lockdep_param_valid(const char *value)
{
    return strcmp(value, "on") == 0 || strcmp(value, "off") == 0 || strcmp(value, "keep") == 0;
}

void lockdep_init(void)
{
    lockdep_keep_reporting = strcmp(param_lockdep, "keep") == 0;
    if (strcmp(param_lockdep, "off") == 0) {
        pr_info("lockdep: off (lockdep=off)\n");
        return;
    }
    pr_info("lockdep: lock dependency validator on: %u classes, %u dependencies, %u held locks per context%s\n",
            MAX_LOCKDEP_KEYS, MAX_LOCKDEP_ENTRIES, MAX_LOCK_DEPTH,
            lockdep_keep_reporting ? ", keeps reporting" : "");
    __atomic_store_n(&debug_locks, true, __ATOMIC_RELEASE);
}

void lockdep_reset(void)
{
    unsigned long flags = lockdep_graph_lock_irqsave();

    for (unsigned i = 0; i < nr_lock_classes; i++) {
        lock_classes[i].usage_mask = 0;
        lock_classes[i].locks_after = lock_classes[i].locks_before = -1;
    }
    nr_lock_edges = 0;
    lockdep_last_report = LOCKDEP_NO_REPORT;
    __atomic_store_n(&debug_locks, true, __ATOMIC_RELEASE);
    lockdep_graph_unlock_irqrestore(flags);
}

const char *lockdep_report_name(enum lockdep_report type)
{
    static const char *const names[] = {
        [LOCKDEP_NO_REPORT] = "none",
        [LOCKDEP_RECURSIVE] = "recursive locking",
        [LOCKDEP_CIRCULAR] = "circular dependency",
        [LOCKDEP_INCONSISTENT] = "inconsistent lock state",
        [LOCKDEP_IRQ_INVERSION] = "irq lock inversion",
        [LOCKDEP_SAFE_TO_UNSAFE] = "HARDIRQ-safe -> HARDIRQ-unsafe",
        [LOCKDEP_SOFTIRQ_SAFE_TO_UNSAFE] = "SOFTIRQ-safe -> SOFTIRQ-unsafe",
        [LOCKDEP_TABLE_FULL] = "table full",
    };
    return type < sizeof names / sizeof names[0] ? names[type] : "?";
}
