/* drivers/pit.c: one-shot countdowns on PIT channel 2, polled: a clock that needs no calibration. */
#include "drivers/pit.h"
#include "arch/x86_64/cpu.h"

#define PIT_CH2     0x42
#define PIT_CMD     0x43
#define PORT_B      0x61        /* bit 0: channel 2 gate, bit 1: speaker, bit 5: channel 2 output */

/*
 * Channel 2 is the one whose gate software controls (through port 0x61) and
 * whose output software can read, so it can be used as a stopwatch without
 * an interrupt: Linux's pit_calibrate_tsc() uses it the same way.
 */
void pit_oneshot_start(uint16_t ticks)
{
    uint8_t b = inb(PORT_B);

    outb(PORT_B, (b & ~0x02) | 0x01);   /* speaker off, gate high */
    outb(PIT_CMD, 0xb0);                /* channel 2, lobyte/hibyte, mode 0 (count down once), binary */
    outb(PIT_CH2, ticks & 0xff);
    outb(PIT_CH2, ticks >> 8);          /* counting starts on this write */
}

bool pit_oneshot_done(void)
{
    return inb(PORT_B) & 0x20;
}

void pit_delay_us(uint64_t us)
{
    uint64_t ticks = us * PIT_HZ / 1000000;

    while (ticks > 0) {
        uint16_t shot = ticks > 0xffff ? 0xffff : (uint16_t)ticks;
        if (shot == 0)
            break;
        pit_oneshot_start(shot);
        while (!pit_oneshot_done())
            cpu_relax();
        ticks -= shot;
    }
}
