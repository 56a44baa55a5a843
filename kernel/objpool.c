/* kernel/objpool.c: a bounded pool of 64-byte objects freed through call_rcu(), and the "rcu_churn" workload. */
#include "kernel/objpool.h"
#include "kernel/oom.h"
#include "kernel/printk.h"
#include "kernel/rcu.h"
#include "kernel/sched.h"
#include "kernel/spinlock.h"
#include "kernel/time.h"

/* ---------------------------------------------------------------- the pool */

/*
 * Objects never handed out yet are pool[next_unused..]; returned ones are
 * on free_list, linked through their rcu_head (which a free object does
 * not need). So the pool needs no set-up. The lock is taken with IRQs off:
 * call_rcu() callbacks free objects, and a lab may allocate in a handler.
 */
static struct obj pool[OBJ_POOL_SIZE];
static unsigned next_unused;
static struct obj *free_list;
static unsigned nr_in_use;              /* handed out and not freed (includes rcu_pending) */
static unsigned nr_rcu_pending;         /* passed to obj_free_rcu(), callback not run yet */
static DEFINE_RAW_SPINLOCK(pool_lock);

struct obj *obj_alloc(void)
{
    struct obj *o = NULL;
    unsigned long flags;

    raw_spin_lock_irqsave(&pool_lock, flags);
    if (free_list) {
        o = free_list;
        free_list = (struct obj *)o->rcu.next;
    } else if (next_unused < OBJ_POOL_SIZE) {
        o = &pool[next_unused++];
    }
    if (o) {
        nr_in_use++;
        o->rcu.next = NULL;
        o->magic = OBJ_MAGIC_LIVE;
    }
    raw_spin_unlock_irqrestore(&pool_lock, flags);
    if (!o)
        out_of_memory("rcu_pool", OBJ_POOL_SIZE, 0);
    return o;
}

void obj_free(struct obj *o)
{
    unsigned long flags;

    raw_spin_lock_irqsave(&pool_lock, flags);
    o->magic = OBJ_MAGIC_FREE;
    o->rcu.next = (struct rcu_head *)free_list;
    free_list = o;
    nr_in_use--;
    raw_spin_unlock_irqrestore(&pool_lock, flags);
}

/* The call_rcu() callback: a grace period has passed, no reader holds it. */
static void obj_free_rcu_cb(struct rcu_head *head)
{
    __atomic_fetch_sub(&nr_rcu_pending, 1, __ATOMIC_RELAXED);
    obj_free(container_of(head, struct obj, rcu));
}

void obj_free_rcu(struct obj *o)
{
    __atomic_fetch_add(&nr_rcu_pending, 1, __ATOMIC_RELAXED);
    call_rcu(&o->rcu, obj_free_rcu_cb);
}

unsigned obj_pool_free(void)
{
    return OBJ_POOL_SIZE - __atomic_load_n(&nr_in_use, __ATOMIC_RELAXED);
}

unsigned obj_pool_rcu_pending(void)
{
    return __atomic_load_n(&nr_rcu_pending, __ATOMIC_RELAXED);
}

void objpool_print(void)
{
    unsigned in_use = __atomic_load_n(&nr_in_use, __ATOMIC_RELAXED), pending = obj_pool_rcu_pending();

    printk(KERN_ERR "objpool: rcu_pool: %u free of %u (%u bytes each); %u waiting for a grace period, %u in use\n",
           OBJ_POOL_SIZE - in_use, OBJ_POOL_SIZE, OBJ_SIZE, pending, in_use - pending);
}

/* ---------------------------------------------------------------- the rcu_churn workload */

static struct {
    struct obj *slot[NR_CPUS];          /* each worker's published object */
    struct cpumask cpus;
    unsigned burst;
    bool stop;
    unsigned running;                   /* workers not yet returned */
    struct rcu_churn_stats stats;
} churn;

#define CHURN_READ_HOLD_US 50           /* how long a reader holds what it read */

static void stat_add(unsigned long *counter, unsigned long n)
{
    __atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

/*
 * Read every worker's published object inside one read-side section, hold
 * them a while (others replace and free them meanwhile), then check each is
 * still live. A grace period that ended while we held them would have
 * returned one to the pool, and obj_free() wrote OBJ_MAGIC_FREE into it.
 */
static void churn_read_all(void)
{
    struct obj *seen[NR_CPUS];
    unsigned cpu, n = 0;

    rcu_read_lock();
    for_each_cpu(cpu, &churn.cpus) {
        struct obj *o = rcu_dereference(churn.slot[cpu]);
        if (o)
            seen[n++] = o;
    }
    udelay(CHURN_READ_HOLD_US);
    for (unsigned i = 0; i < n; i++)
        if (__atomic_load_n(&seen[i]->magic, __ATOMIC_RELAXED) != OBJ_MAGIC_LIVE)
            stat_add(&churn.stats.bad_reads, 1);
    rcu_read_unlock();
}

static int rcu_churn_worker(void *arg)
{
    unsigned cpu = smp_processor_id();

    (void)arg;
    while (!__atomic_load_n(&churn.stop, __ATOMIC_ACQUIRE)) {
        for (unsigned i = 0; i < churn.burst; i++) {
            struct obj *o = obj_alloc(), *old;

            if (!o) {
                stat_add(&churn.stats.alloc_failures, 1);
                break;
            }
            o->payload[0] = cpu;
            old = __atomic_exchange_n(&churn.slot[cpu], o, __ATOMIC_ACQ_REL);   /* publish */
            if (old)
                obj_free_rcu(old);
            stat_add(&churn.stats.published, 1);
        }
        churn_read_all();
        unsigned long backlog = rcu_cbs_queued(), max = churn.stats.max_backlog;
        while (backlog > max &&
               !__atomic_compare_exchange_n(&churn.stats.max_backlog, &max, backlog, false,
                                            __ATOMIC_RELAXED, __ATOMIC_RELAXED))
            ;
        set_current_state(TASK_INTERRUPTIBLE);
        schedule_timeout(NSEC_PER_SEC / (uint64_t)param_hz);
    }
    __atomic_fetch_sub(&churn.running, 1, __ATOMIC_RELEASE);
    return 0;
}

void rcu_churn_start(const struct cpumask *cpus, unsigned burst)
{
    unsigned cpu;

    churn.cpus = *cpus;
    churn.burst = burst;
    churn.stop = false;
    churn.stats = (struct rcu_churn_stats){ 0 };
    churn.running = cpumask_weight(cpus);
    for_each_cpu(cpu, cpus)
        if (!kthread_run_on_cpu(rcu_churn_worker, NULL, cpu, "rcu_churn/%u"))
            __atomic_fetch_sub(&churn.running, 1, __ATOMIC_RELEASE);
}

void rcu_churn_stop(void)
{
    unsigned cpu;

    __atomic_store_n(&churn.stop, true, __ATOMIC_RELEASE);
    while (__atomic_load_n(&churn.running, __ATOMIC_ACQUIRE))
        msleep(1000 / (unsigned)param_hz);
    for_each_cpu(cpu, &churn.cpus) {
        struct obj *old = __atomic_exchange_n(&churn.slot[cpu], NULL, __ATOMIC_ACQ_REL);
        if (old)
            obj_free_rcu(old);
    }
}

void rcu_churn_get_stats(struct rcu_churn_stats *s)
{
    *s = churn.stats;
}
