/* kernel/trace.h: the interrupt tracer: per-CPU rings of timestamped events named after Linux's tracepoints. */
#ifndef KERNEL_TRACE_H
#define KERNEL_TRACE_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Modelled on ftrace's irq, IPI, lock and timer events (docs/trace.md has
 * the format the host tool reads). Each CPU writes its own ring of
 * TRACE_EVENTS fixed-size events; when a ring is full the oldest event is
 * overwritten and counted as lost, so a long stall keeps its end, which is
 * where the story is. Recording takes no lock and runs in any context
 * (task, hardirq, NMI): one atomic add on this CPU's ring head.
 *
 * Off (the default), a trace_event() call is one load and a
 * predicted-not-taken branch, as a disabled Linux tracepoint is a patched
 * nop. lab_run() turns it on for every run that has a debugcon to write it
 * to (make run always does) and writes it out at the end.
 */
enum trace_type {
    TRACE_IRQ_DISABLE,          /* preemptirq:irq_disable: IF went 1 -> 0 at ip */
    TRACE_IRQ_ENABLE,           /* preemptirq:irq_enable: IF is about to go 0 -> 1 at ip */
    TRACE_IRQ_ENTRY,            /* irq_vectors:*_entry: a vector's handler starts, at hardirq depth a */
    TRACE_IRQ_EXIT,             /* ... and ends */
    TRACE_IPI_SEND,             /* ipi:ipi_send_cpu: an IPI (vector b) to CPU a, from ip */
    TRACE_CSD_QUEUE,            /* csd:csd_queue_cpu: func queued for CPU a */
    TRACE_CSD_ENTRY,            /* csd:csd_function_entry: func starts (queued by CPU a) */
    TRACE_CSD_EXIT,             /* csd:csd_function_exit: func returned */
    TRACE_CSD_UNLOCK,           /* the csd is unlocked: CPU a's csd_lock_wait() may return */
    TRACE_LOCK_ACQUIRE,         /* lock:lock_acquire: about to take a lock (b: trylock) */
    TRACE_LOCK_CONTENDED,       /* lock:lock_contended: it is held, we spin */
    TRACE_LOCK_ACQUIRED,        /* lock:lock_acquired: we hold it */
    TRACE_LOCK_RELEASE,         /* lock:lock_release */
    TRACE_HRTIMER_ENTRY,        /* timer:hrtimer_expire_entry: callback p starts */
    TRACE_HRTIMER_EXIT,         /* timer:hrtimer_expire_exit */
    TRACE_SCHED_SWITCH,         /* sched:sched_switch: from pid a to pid b */
    TRACE_DETECTOR,             /* a hang detector's report about CPU a (p: its name) */
    TRACE_LAB,                  /* a lab's timeline event (p: its text) */
    NR_TRACE_TYPES
};

/* Events per CPU ring; CPUs traced (scripts/qemu.py boots at most 8). */
#define TRACE_EVENTS    32768
#define TRACE_CPUS      8

extern bool trace_enabled;

void __trace_record(enum trace_type type, unsigned a, unsigned b, const void *p, const void *q);

/* Record an event if tracing is on; p and q point at what names it (a
 * function, a lock's name, a string that lives as long as the trace). */
static inline void trace_event(enum trace_type type, unsigned a, unsigned b, const void *p, const void *q)
{
    if (__builtin_expect(__atomic_load_n(&trace_enabled, __ATOMIC_RELAXED), 0))
        __trace_record(type, a, b, p, q);
}

/* Start recording: empty every ring, then turn on; zero_ns (ktime) is the trace's time zero. */
void trace_start(uint64_t zero_ns);
/* Stop recording (the rings keep what they hold). */
void trace_stop(void);
/* Empty the rings. */
void trace_clear(void);

/*
 * QEMU has a debugcon to take the trace (scripts/qemu.py --trace). lab_run()
 * traces only then: each event costs guest time (docs/trace.md), and a
 * run nobody will read the trace of should run as it always did.
 */
bool trace_channel_present(void);

/*
 * Write the rings to QEMU's debugcon (port 0xe9, `--trace FILE` in
 * scripts/qemu.py) in the text format of docs/trace.md, then leave the
 * tracer as it was. Returns false, writing nothing, when no debugcon is
 * attached (its port reads back 0xe9 only when one is). Call it with the
 * other CPUs quiet or stuck: it reads their rings as they are.
 */
bool trace_dump(void);

/* Events cpu has recorded since the last clear and those overwritten; for tests. */
uint64_t trace_recorded(unsigned cpu);
/* The n-th oldest event cpu's ring still holds: its type and p; false past the end. */
bool trace_peek(unsigned cpu, uint64_t n, enum trace_type *type, const void **p);

#endif
