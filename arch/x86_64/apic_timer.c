/* arch/x86_64/apic_timer.c: the LAPIC timer: calibrated against the TSC, one-shot, and its interrupt handler. */
#include "arch/x86_64/apic_timer.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/irq.h"
#include "arch/x86_64/irq_vectors.h"
#include "kernel/boot_stop.h"
#include "kernel/hrtimer.h"
#include "kernel/printk.h"
#include "kernel/time.h"

/*
 * The LAPIC timer counts down from the initial count (TMICT) at the bus
 * clock divided by TDCR, and raises the LVT timer vector when it reaches 0
 * (Intel SDM Vol. 3A 11.5.4). The SDM gives no fixed bus clock, so, like
 * Linux's calibrate_APIC_clock(), we measure it against a clock we already
 * trust: the TSC. One-shot mode (LVTT bit 17 clear) makes it a clock event
 * device: each interrupt is asked for, at the time of the next hrtimer.
 * TSC-deadline mode would be better but QEMU's TCG lacks it.
 */

#define CAL_ROUNDS      5
#define CAL_NS          (10 * NSEC_PER_MSEC)
/* A delta longer than this is cut short: the interrupt then finds nothing
 * expired and asks again. Keeps ns * kHz far from overflowing 64 bits and
 * the count within 32 bits at any plausible bus clock. */
#define MAX_DELTA_NS    NSEC_PER_SEC

uint32_t lapic_timer_khz;

/* Read the current count and when it was read: the middle of two ktime
 * reads around it; *fuzz grows by how far apart those were. Not inlined,
 * so that both reads of a round run the same instructions (under TCG, a
 * second copy would be translated the first time it ran, inside the
 * bracket). */
__attribute__((noinline)) static uint32_t read_count_at(uint64_t *when, uint64_t *fuzz)
{
    uint64_t before = ktime_get_ns();
    uint32_t count = apic_read(APIC_TMCCT);
    uint64_t after = ktime_get_ns();

    *when = (before + after) / 2;
    *fuzz += after - before;
    return count;
}

/*
 * One round: timer ticks per ms over CAL_NS of ktime. *fuzz says how well
 * the two counter reads are pinned in time: badly when the host preempted
 * QEMU's vCPU thread between a read and the clock reads around it, which
 * on a busy host is common.
 */
static uint32_t lapic_measure_khz(uint64_t *fuzz)
{
    uint64_t t0, t1;

    *fuzz = 0;
    apic_write(APIC_TMICT, 0xffffffff);
    uint32_t c0 = read_count_at(&t0, fuzz);
    while (ktime_get_ns() - t0 < CAL_NS)
        cpu_relax();
    uint32_t c1 = read_count_at(&t1, fuzz);
    apic_write(APIC_TMICT, 0);          /* stop it */
    return (uint32_t)((uint64_t)(c0 - c1) * NSEC_PER_MSEC / (t1 - t0));
}

/*
 * The timer's interrupt. EOI goes FIRST, as in Linux's
 * sysvec_apic_timer_interrupt(): the APIC can then deliver the next timer
 * interrupt (and any higher class) as soon as IF allows, and PPR no longer
 * holds class 0xE. So inside an hrtimer callback it is only IF=0 that keeps
 * the higher-class call-function IPIs (0xfb, 0xfc) out: the fact seed 000
 * turns on. hrtimer_interrupt() runs with IF=0 throughout.
 */
static void local_timer_interrupt(struct pt_regs *regs)
{
    (void)regs;
    apic_eoi();
    hrtimer_interrupt();
}

/*
 * Of CAL_ROUNDS rounds, keep the one whose counter reads were pinned most
 * tightly in time. Under TCG that is 1-5 us, and the result is within
 * 200 ppm of QEMU's nominal 62500 kHz (1 GHz / 16); a round the host
 * preempted, or the first (QEMU translates code the first time it runs
 * it), is pinned only to tens of us.
 */
void setup_boot_APIC_clock(void)
{
    uint64_t fuzz, best_fuzz = UINT64_MAX;

    apic_write(APIC_TDCR, APIC_TDR_DIV_16);
    apic_write(APIC_LVTT, APIC_LVT_MASKED | LOCAL_TIMER_VECTOR);   /* counts, but interrupts nobody */
    for (int i = 0; i < CAL_ROUNDS; i++) {
        uint32_t khz = lapic_measure_khz(&fuzz);
        if (fuzz < best_fuzz) {
            best_fuzz = fuzz;
            lapic_timer_khz = khz;
        }
    }
    /* A timer that does not count would never interrupt: the tick, the
     * hrtimers and the detectors would wait forever for it (Linux disables
     * such a timer and ticks from another clock; irqlab has no other). */
    if (lapic_timer_khz == 0)
        boot_stop("apic: the LAPIC timer does not count (0 kHz against the TSC, best of %d rounds): irqlab has "
                  "no other tick; valid: a local APIC whose timer counts down", CAL_ROUNDS);
    pr_info("apic: LAPIC timer: %u kHz after divide-by-16 (best of %d rounds of 10 ms against the TSC, "
            "reads pinned to %lu ns), one-shot mode\n", lapic_timer_khz, CAL_ROUNDS, best_fuzz);
    request_vector(LOCAL_TIMER_VECTOR, local_timer_interrupt, "Local timer interrupts");
}

void setup_APIC_timer(void)
{
    /* Every LAPIC in a QEMU machine (and in one package) runs off the same
     * clock, so the BSP's calibration holds here too. */
    apic_write(APIC_TMICT, 0);
    apic_write(APIC_TDCR, APIC_TDR_DIV_16);
    apic_write(APIC_LVTT, LOCAL_TIMER_VECTOR);                      /* unmasked, one-shot */
}

void lapic_next_event(uint64_t delta_ns)
{
    if (delta_ns > MAX_DELTA_NS)
        delta_ns = MAX_DELTA_NS;
    /* Round up: an early interrupt costs a pass that finds nothing to do. */
    uint64_t ticks = (delta_ns * lapic_timer_khz + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC;
    if (ticks == 0)
        ticks = 1;                      /* 0 would stop the timer instead */
    if (ticks > 0xffffffff)
        ticks = 0xffffffff;
    apic_write(APIC_TMICT, (uint32_t)ticks);
}
