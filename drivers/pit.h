/* drivers/pit.h: the 8254 programmable interval timer, used as a known clock for delays and calibration. */
#ifndef DRIVERS_PIT_H
#define DRIVERS_PIT_H

#include <stdbool.h>
#include <stdint.h>

#define PIT_HZ 1193182UL        /* the PIT's input clock, fixed since the IBM PC */

/*
 * Channel 2 counts down once from `ticks` (1..65535) and raises its output
 * when it reaches zero; nothing interrupts. Poll pit_oneshot_done(). At most
 * 65535 ticks = 54.9 ms per shot.
 */
void pit_oneshot_start(uint16_t ticks);
bool pit_oneshot_done(void);

/* Busy-wait `us` microseconds on the PIT (any length; chains shots). */
void pit_delay_us(uint64_t us);

#endif
