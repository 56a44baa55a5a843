/* kernel/lockdep_internals.h: the lock validator's tables, shared by its rules (lockdep.c) and its reports (lockdep_report.c). */
#ifndef KERNEL_LOCKDEP_INTERNALS_H
#define KERNEL_LOCKDEP_INTERNALS_H

#include <stdbool.h>
#include <stdint.h>
#include "arch/x86_64/percpu.h"
#include "kernel/lockdep.h"

/* Fixed sizes, as Linux's (smaller): a full table turns the validator off. */
#define MAX_LOCKDEP_KEYS        128     /* lock classes */
#define MAX_LOCKDEP_ENTRIES     1024    /* dependencies (edges A -> B) */
#define LOCK_TRACE_DEPTH        5       /* return addresses kept per stack */

/*
 * Usage states of a class, Linux's for hardirq and softirq (Linux has read
 * variants too; irqlab has no read locks). A class is HARDIRQ-safe once it
 * was taken IN a hardirq handler, and HARDIRQ-unsafe once it was held with
 * IRQs on outside one. Both together on one CPU is the deadlock of seed 003:
 * the handler spins on a lock that the code it interrupted holds. The same
 * for softirqs: SOFTIRQ-safe once taken in a softirq handler, SOFTIRQ-unsafe
 * once held with IRQs on AND softirqs enabled (where a softirq may run on
 * interrupt exit). Each state's opposite is its bit ^ 1.
 */
enum lock_usage_bit {
    LOCK_USED_IN_HARDIRQ,       /* {IN-HARDIRQ-W}: taken in hardirq context */
    LOCK_ENABLED_HARDIRQ,       /* {HARDIRQ-ON-W}: held with IRQs enabled */
    LOCK_USED_IN_SOFTIRQ,       /* {IN-SOFTIRQ-W}: taken in softirq context */
    LOCK_ENABLED_SOFTIRQ,       /* {SOFTIRQ-ON-W}: held with IRQs and softirqs enabled */
    LOCK_USAGE_STATES,
};
#define LOCKF_USED_IN_HARDIRQ   (1U << LOCK_USED_IN_HARDIRQ)
#define LOCKF_ENABLED_HARDIRQ   (1U << LOCK_ENABLED_HARDIRQ)
#define LOCKF_USED_IN_SOFTIRQ   (1U << LOCK_USED_IN_SOFTIRQ)
#define LOCKF_ENABLED_SOFTIRQ   (1U << LOCK_ENABLED_SOFTIRQ)

static inline enum lock_usage_bit exclusive_bit(enum lock_usage_bit bit)
{
    return (enum lock_usage_bit)(bit ^ 1);
}

/* "HARDIRQ" or "SOFTIRQ": the irq class of a usage bit, as reports name it. */
static inline const char *state_name(enum lock_usage_bit bit)
{
    return bit < LOCK_USED_IN_SOFTIRQ ? "HARDIRQ" : "SOFTIRQ";
}

/* The contexts that keep separate held-lock stacks on each CPU. */
enum lockdep_ctx { LOCKDEP_CTX_TASK, LOCKDEP_CTX_SOFTIRQ, LOCKDEP_CTX_HARDIRQ, LOCKDEP_CTX_NMI, LOCKDEP_NR_CTX };

/* A short stack: ip is the lock call site, entries the callers from there out. */
struct lock_trace {
    uint64_t ip;
    unsigned nr;
    uint64_t entries[LOCK_TRACE_DEPTH];
};

struct lock_class {
    const struct lock_class_key *key;           /* what makes it this class */
    const char *name;                           /* of the first lock seen */
    unsigned usage_mask;                        /* LOCKF_* */
    struct lock_trace usage_traces[LOCK_USAGE_STATES];  /* where each state was first set */
    int locks_after, locks_before;              /* first edge out of / into it, -1: none */
    unsigned long ops;                          /* acquisitions, for the monitor */
};

/* One dependency from -> to: `to` was taken while `from` was held. */
struct lock_edge {
    struct lock_class *from, *to;
    int next_after;                             /* next edge out of `from`, -1: end */
    int next_before;                            /* next edge into `to`, -1: end */
    struct lock_trace from_trace, to_trace;     /* where each was taken */
};

struct held_lock {
    struct lockdep_map *instance;
    struct lock_class *class;
    struct lock_trace trace;                    /* where it was taken */
    bool trylock;
};

/*
 * Per CPU: a held-lock stack per context. recursion is set while this CPU
 * runs validator code, so a lock taken from inside it (printing a report)
 * or by an NMI that lands in it is simply not validated. tracking is
 * cleared when the CPU takes or drops a lock while the validator is off:
 * its stacks no longer match reality and are emptied when it comes back on.
 */
struct lockdep_cpu {
    unsigned recursion;
    bool tracking;
    bool irqs_on;                               /* IF at the hook now running (HE in reports) */
    bool softirqs_on;                           /* softirq_count() was 0 then (SE in reports) */
    unsigned depth[LOCKDEP_NR_CTX];
    struct held_lock held[LOCKDEP_NR_CTX][MAX_LOCK_DEPTH];
};

extern struct lock_class lock_classes[MAX_LOCKDEP_KEYS];
extern unsigned nr_lock_classes;
extern struct lock_edge lock_edges[MAX_LOCKDEP_ENTRIES];
extern unsigned nr_lock_edges;
extern struct lockdep_cpu lockdep_cpus[NR_CPUS];

/* Take / drop the graph lock from outside the hooks (the monitor): sets the recursion guard, IRQs off. */
unsigned long lockdep_graph_lock_irqsave(void);
void lockdep_graph_unlock_irqrestore(unsigned long flags);

/*
 * Reports (kernel/lockdep_report.c). Each is called with the graph lock
 * held, on the CPU that found the problem, in context ctx. parent[] arrays
 * come from the breadth-first search that found the path: parent[i] is the
 * index of the edge by which class i was reached (-1 for the start).
 */
void print_deadlock_bug(struct lockdep_cpu *lc, const struct held_lock *prev, const struct held_lock *next);
void print_circular_bug(struct lockdep_cpu *lc, const struct held_lock *prev, const struct held_lock *next,
                        const int *parent);
void print_usage_bug(struct lockdep_cpu *lc, const struct held_lock *this,
                     enum lock_usage_bit prev_bit, enum lock_usage_bit new_bit);
void print_irq_inversion_bug(struct lockdep_cpu *lc, const struct held_lock *this, struct lock_class *other,
                             enum lock_usage_bit new_bit, const int *parent);
void print_bad_irq_dependency(struct lockdep_cpu *lc, const struct held_lock *prev, const struct held_lock *next,
                              struct lock_class *safe, const int *back_parent,
                              struct lock_class *unsafe, const int *fwd_parent, enum lock_usage_bit safe_bit);

static inline unsigned class_index(const struct lock_class *c)
{
    return (unsigned)(c - lock_classes);
}

#endif
