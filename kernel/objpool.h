/* kernel/objpool.h: a bounded pool of small objects freed through call_rcu(), and the "rcu_churn" workload that uses it. */
#ifndef KERNEL_OBJPOOL_H
#define KERNEL_OBJPOOL_H

#include <stdbool.h>
#include <stdint.h>
#include "kernel/cpumask.h"
#include "kernel/rcu.h"

/*
 * irqlab has no general allocator for small objects, and a real kernel's
 * memory is finite: this pool stands for it. OBJ_POOL_SIZE objects of
 * OBJ_SIZE bytes in a fixed array, a free list under a spinlock. An object
 * freed with obj_free_rcu() comes back only after a grace period, so when
 * grace periods stop ending, the pool drains: obj_alloc() returns NULL and
 * prints the out-of-memory report (kernel/oom.c) that closes seed 000's
 * chain: a CPU that never passes a quiescent state -> an RCU stall ->
 * callbacks pile up -> memory runs out.
 */
#define OBJ_SIZE        64
#define OBJ_POOL_SIZE   256
#define OBJ_MAGIC_LIVE  0x11fe0b1ec7UL   /* set by obj_alloc() */
#define OBJ_MAGIC_FREE  0xdeadf7eeUL      /* set by obj_free(): a reader that sees it read freed memory */

struct obj {
    struct rcu_head rcu;        /* for obj_free_rcu() */
    unsigned long magic;        /* OBJ_MAGIC_LIVE while allocated */
    unsigned long payload[5];   /* the user's */
};
_Static_assert(sizeof(struct obj) == OBJ_SIZE, "a pool object is OBJ_SIZE bytes");

/* A free object, or NULL (and, the first time, the OOM report) when the pool is empty. Any context. */
struct obj *obj_alloc(void);
/* Back to the pool at once: only when no reader can hold it. Any context. */
void obj_free(struct obj *o);
/* Back to the pool after a grace period: call_rcu() with a callback that obj_free()s it. */
void obj_free_rcu(struct obj *o);

/* Free objects now, and objects waiting in call_rcu() for a grace period. */
unsigned obj_pool_free(void);
unsigned obj_pool_rcu_pending(void);
/* "objpool: rcu_pool: F free of 256 (64 bytes each), R waiting for a grace period, U in use". */
void objpool_print(void);

/*
 * The workload ("rcu_churn"): one kthread per CPU in the mask, each owning
 * one published slot. Every tick it allocates `burst` objects, publishes
 * each in its slot (rcu_assign_pointer) and frees the one it replaced with
 * obj_free_rcu(); in between it reads every CPU's slot inside
 * rcu_read_lock() and checks the magic: a freed object seen by a reader
 * means a grace period ended too early. When obj_alloc() fails it sleeps a
 * tick and tries again. Tests and labs start and stop it.
 */
struct rcu_churn_stats {
    unsigned long published;        /* objects published (and as many old ones freed) */
    unsigned long alloc_failures;   /* obj_alloc() returned NULL */
    unsigned long bad_reads;        /* a reader found a freed object: RCU is broken */
    unsigned long max_backlog;      /* most callbacks queued at once, as the workers saw it */
};

void rcu_churn_start(const struct cpumask *cpus, unsigned burst);
/* Stop every worker, wait for them, free the published objects with obj_free_rcu(). Task context. */
void rcu_churn_stop(void);
void rcu_churn_get_stats(struct rcu_churn_stats *s);

#endif
