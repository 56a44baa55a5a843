/* kernel/smp.h: cross-CPU function calls with Linux's call_single_data (csd) semantics. */
#ifndef KERNEL_SMP_H
#define KERNEL_SMP_H

#include <stdbool.h>
#include <stdint.h>
#include "kernel/cpumask.h"

typedef void (*smp_call_func_t)(void *info);

/*
 * One queued call (Linux's call_single_data_t). CSD_FLAG_LOCK is set while
 * the csd is in use: from csd_lock() by the sender until csd_unlock() by
 * the target, which for a synchronous call happens only after func ran.
 * csd_lock_wait() spins until the flag clears: that spin is where seed 000's
 * CPU 1 was stuck.
 */
#define CSD_FLAG_LOCK        0x01
#define CSD_TYPE_SYNC        0x10       /* the sender waits: unlock after func */

struct __call_single_data {
    struct __call_single_data *next;    /* in the target's lock-free call_single_queue */
    unsigned flags;
    smp_call_func_t func;
    void *info;
    unsigned src, dst;                  /* sending and target CPU, for reports */
    uint64_t sent_ns;                   /* when it was queued, for CSD lock-wait debug */
};
typedef struct __call_single_data call_single_data_t;

/* Run func(info) on `cpu` (directly if it is this CPU); with wait, return only after it ran. */
int smp_call_function_single(unsigned cpu, smp_call_func_t func, void *info, bool wait);

/* Run func(info) on every online CPU in mask except this one; with wait, after all ran. */
void smp_call_function_many(const struct cpumask *mask, smp_call_func_t func, void *info, bool wait);

/* Every other online CPU. */
void smp_call_function(smp_call_func_t func, void *info, bool wait);

/*
 * Wait until csd's LOCK flag clears (the target ran an synchronous func, or
 * took an async one). After csd_lock_timeout ms it reports the stall, and
 * again with back-off, then "got unstuck" when the lock is released
 * (Linux's CONFIG_CSD_LOCK_WAIT_DEBUG; docs/detectors.md).
 */
void csd_lock_wait(call_single_data_t *csd);

/* csd_lock_timeout= (ms, default 2000, 0 off) and panic_on_ipistall= (ms, default 0:
 * never; else a report of a stall older than that calls detector_fired()). */
extern int csd_lock_timeout;
extern int panic_on_ipistall;

/* Install the call-function IPI handlers; called once on the BSP. */
void smp_ipi_init(void);

#endif
