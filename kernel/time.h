/* kernel/time.h: nanosecond time from the TSC, delays, and the per-CPU timer (LAPIC) set-up. */
#ifndef KERNEL_TIME_H
#define KERNEL_TIME_H

#include <stdint.h>

#define NSEC_PER_USEC   1000UL
#define NSEC_PER_MSEC   1000000UL
#define NSEC_PER_SEC    1000000000UL

/* Calibrate the TSC and the LAPIC timer (boot CPU, once, IRQs off). */
void time_init(void);
/* Start this CPU's LAPIC timer as the hrtimer clock event and its tick; every CPU calls it. */
void timer_init_cpu(void);

/* Nanoseconds since boot, from the TSC; the same clock on every CPU. 0 before time_init(). */
uint64_t ktime_get_ns(void);

/* Busy-wait; usable before and after interrupts are on. */
void udelay(uint64_t us);
void mdelay(uint64_t ms);

/* The TSC's rate, measured against the PIT by time_init(). */
extern uint32_t tsc_khz;

/* Ticks per second (the hz= parameter, 10-1000, default 100): Linux's HZ. */
extern int param_hz;

/* Ticks since time_init(): ktime_get_ns() / (NSEC_PER_SEC / HZ) as of CPU
 * 0's last tick (tick_sched_timer() in kernel/time.c), which adds the
 * periods an interrupt came too late for, so jiffies never falls behind
 * for good. */
extern volatile uint64_t jiffies;

#endif
