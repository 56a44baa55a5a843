/* arch/x86_64/apic_timer.h: the local APIC timer as each CPU's one-shot clock event device. */
#ifndef ARCH_X86_64_APIC_TIMER_H
#define ARCH_X86_64_APIC_TIMER_H

#include <stdint.h>

/* LAPIC timer ticks per millisecond after the divide-by-16, i.e. its rate in kHz. */
extern uint32_t lapic_timer_khz;

/* Measure lapic_timer_khz against the TSC (which must be calibrated) and
 * install the timer's interrupt handler. BSP, once, IRQs off. */
void setup_boot_APIC_clock(void);

/* Put this CPU's LAPIC timer in one-shot mode on LOCAL_TIMER_VECTOR, stopped. IRQs off. */
void setup_APIC_timer(void);

/* Raise LOCAL_TIMER_VECTOR on this CPU about delta_ns from now (never early by
 * more than the calibration error; long deltas are cut short). IRQs off. */
void lapic_next_event(uint64_t delta_ns);

#endif
