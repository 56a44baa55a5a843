/* kernel/time.c: the TSC clock (calibrated on the PIT), delays, the per-CPU tick, and the `time` command. */
#include "kernel/time.h"
#include "kernel/lab_hooks.h"
#include "arch/x86_64/apic_timer.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/percpu.h"
#include "drivers/pit.h"
#include "kernel/cpumask.h"
#include "kernel/hrtimer.h"
#include "kernel/monitor.h"
#include "kernel/printk.h"
#include "kernel/rcu.h"
#include "kernel/sched.h"

uint32_t tsc_khz;
int param_hz = 100;
volatile uint64_t jiffies;

static uint64_t tick_nsec;              /* NSEC_PER_SEC / param_hz: Linux's TICK_NSEC */
static struct hrtimer tick_timers[NR_CPUS];

/* ---------------------------------------------------------------- the TSC clock */

/*
 * ns = cycles * tsc_mult >> tsc_shift: Linux's clocksource mult/shift
 * (kernel/time/clocksource.c). tsc_mult is ns per cycle as a fixed-point
 * number with tsc_shift fraction bits, chosen as large as fits 32 bits so
 * that the rounding error is below 1 ppb.
 */
static uint32_t tsc_mult, tsc_shift;
static uint64_t tsc_at_boot;

/*
 * a * mul >> shift without a 128-bit product: split a into 32-bit halves,
 * each half times a 32-bit mul fits 64 bits. This is Linux's generic
 * mul_u64_u32_shr(); it needs shift <= 32. The high half's product is not
 * shifted right at all (it is shifted left by 32 - shift), so only the low
 * half rounds down, by under 1 ns.
 */
static inline uint64_t mul_u64_u32_shr(uint64_t a, uint32_t mul, unsigned shift)
{
    uint64_t lo = (uint32_t)a, hi = a >> 32;

    return ((lo * mul) >> shift) + ((hi * mul) << (32 - shift));
}

static uint64_t cycles_to_ns(uint64_t cycles)
{
    return mul_u64_u32_shr(cycles, tsc_mult, tsc_shift);
}

/*
 * QEMU (TCG and KVM) gives every vCPU the same TSC, at a constant rate, so
 * one TSC read is one clock for the whole machine. Real hardware promises
 * that only with the invariant TSC (CPUID 0x80000007 EDX bit 8) and TSCs
 * the firmware started together; Linux checks both, irqlab trusts QEMU.
 */
uint64_t ktime_get_ns(void)
{
    return cycles_to_ns(rdtsc() - tsc_at_boot);
}

void udelay(uint64_t us)
{
    if (!tsc_khz) {                     /* before time_init(): the PIT needs no calibration */
        pit_delay_us(us);
        return;
    }
    /* Spin on ktime itself, so a delay measured with ktime is never short. */
    uint64_t start = ktime_get_ns();
    while (ktime_get_ns() - start < us * NSEC_PER_USEC)
        cpu_relax();
}

void mdelay(uint64_t ms)
{
    udelay(ms * 1000);
}

/* ---------------------------------------------------------------- calibration */

#define CAL_MS           10                     /* shot length, as Linux's CAL_MS */
#define CAL2_MS          50                     /* the second try's, as Linux's CAL2_MS */
#define CAL_SHOTS        5                      /* clean shots for the median */
#define CAL_MAX_TRIES    40                     /* 10 ms shots tried at most: 400 ms */
#define CAL2_MAX_TRIES   8                      /* 50 ms shots tried at most: 400 ms */
#define CAL_FUZZ_PPM     500                    /* clean: both ends known to this, together */
#define CHECK_PIT_TICKS  (PIT_HZ / 20)          /* 50 ms, for the error check */
#define CHECK_MAX_TRIES  5
#define WARMUP_PIT_TICKS (PIT_HZ / 1000)        /* 1 ms */

/* One PIT shot timed with the TSC: its length, and how uncertain that is. */
struct pit_shot {
    uint64_t cycles;
    uint64_t fuzz;                      /* the two ends' uncertainty, added up */
};

/*
 * Time one countdown of PIT channel 2, polled with IRQs off, as Linux's
 * pit_calibrate_tsc() does. Neither end is seen exactly. The count starts
 * on pit_oneshot_start()'s last port write, so just before s1 (taking the
 * middle of s0..s1 measured 10 ms shots 50-100 ppm long). The end falls
 * between the last poll that saw the count running and the first that saw
 * it done: we take the middle. fuzz is how wide the two TSC windows are
 * around the ends: 1-2 us under TCG, where each port access is emulated
 * (100-200 ppm of a 10 ms shot), but milliseconds when the host preempted
 * QEMU's vCPU thread across an end, which on a busy 2-core host happens
 * to many shots. CAL_FUZZ_PPM sits between the two.
 *
 * The first run of this code is slow too: QEMU translates it as it goes
 * (on hardware, caches are cold). So time_init() throws one shot away,
 * and this function is never inlined: every shot runs the same, already
 * translated, instructions.
 */
__attribute__((noinline)) static struct pit_shot tsc_over_pit(uint16_t ticks)
{
    uint64_t s0 = rdtsc();
    pit_oneshot_start(ticks);
    uint64_t s1 = rdtsc();
    uint64_t running = s1, t;

    for (;;) {
        t = rdtsc();
        if (pit_oneshot_done())
            break;
        running = t;                    /* still counting after this TSC value */
    }
    uint64_t e1 = rdtsc();
    return (struct pit_shot){
        .cycles = (running + e1) / 2 - s1,
        .fuzz = (s1 - s0) + (e1 - running),
    };
}

static bool shot_is_clean(struct pit_shot s)
{
    return s.fuzz * 1000000 <= s.cycles * CAL_FUZZ_PPM;
}

static void sort_u64(uint64_t *v, int n)
{
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (v[j] < v[i]) {
                uint64_t x = v[i]; v[i] = v[j]; v[j] = x;
            }
}

/* A PIT count of ms milliseconds (at most 54 ms fit its 16 bits). */
static uint16_t pit_ticks(unsigned ms)
{
    return (uint16_t)(PIT_HZ * ms / 1000);
}

static uint64_t shot_khz(struct pit_shot s, unsigned ms)
{
    return s.cycles * PIT_HZ / pit_ticks(ms) / 1000;
}

/*
 * Time up to max_tries PIT shots of ms milliseconds; put the kHz of each
 * clean one in khz[] (CAL_SHOTS at most) and return how many. *tries
 * counts the shots, *best keeps the least fuzzy unclean one.
 */
static int clean_shots(unsigned ms, int max_tries, uint64_t *khz, int *tries, struct pit_shot *best)
{
    int good = 0;

    for (*tries = 0; good < CAL_SHOTS && *tries < max_tries; (*tries)++) {
        struct pit_shot s = tsc_over_pit(pit_ticks(ms));
        if (shot_is_clean(s))
            khz[good++] = shot_khz(s, ms);
        else if (s.fuzz < best->fuzz)
            *best = s;
    }
    return good;
}

/*
 * tsc_khz is the median of CAL_SHOTS clean 10 ms shots; unclean ones are
 * dropped (Linux drops shots hit by an SMI the same way). When no 10 ms
 * shot is clean, 50 ms shots are tried, as Linux's
 * pit_hpet_ptimer_calibrate_cpu() retries with CAL2_MS: their ends weigh
 * five times less. That happens on a busy host, and always under QEMU's
 * icount with a large shift, where one PIT read costs many microseconds
 * of guest time (docs/deterministic.md). If not even a 50 ms shot is
 * clean, the least fuzzy shot has to do.
 *
 * Then an independent check: a clean 50 ms PIT shot timed with the
 * calibrated clock. Its difference from the 50 ms the PIT counted is the
 * error printed, with the check's own fuzz.
 */
static void tsc_calibrate(void)
{
    uint64_t khz[CAL_SHOTS];
    struct pit_shot s, best = { 0, UINT64_MAX };
    unsigned ms = CAL_MS;
    int good, tries;

    tsc_over_pit(WARMUP_PIT_TICKS);     /* not counted: see above */
    good = clean_shots(CAL_MS, CAL_MAX_TRIES, khz, &tries, &best);
    if (good == 0) {
        pr_info("tsc: no clean %u ms PIT shot in %d (ends known to %lu ppm at best); trying %u ms shots\n",
                CAL_MS, tries, best.fuzz * 1000000 / best.cycles, CAL2_MS);
        ms = CAL2_MS;
        best = (struct pit_shot){ 0, UINT64_MAX };
        good = clean_shots(CAL2_MS, CAL2_MAX_TRIES, khz, &tries, &best);
    }
    if (good == 0) {
        pr_warn("tsc: no clean PIT shot in %d; the calibration may be off by %lu ppm\n",
                tries, best.fuzz * 1000000 / best.cycles);
        khz[good++] = shot_khz(best, ms);
    }
    sort_u64(khz, good);
    tsc_khz = (uint32_t)khz[good / 2];

    /* mult = 10^6 / tsc_khz ns per cycle, rounded, with as many fraction
     * bits as fit 32 bits (all 32 for a TSC above 1 GHz). */
    for (tsc_shift = 32; ; tsc_shift--) {
        uint64_t mult = ((NSEC_PER_MSEC << tsc_shift) + tsc_khz / 2) / tsc_khz;
        if (mult <= UINT32_MAX) {
            tsc_mult = (uint32_t)mult;
            break;
        }
    }

    for (int i = 0; i < CHECK_MAX_TRIES; i++) {
        s = tsc_over_pit(CHECK_PIT_TICKS);
        if (shot_is_clean(s))
            break;
    }
    int64_t expect_ns = (int64_t)((uint64_t)CHECK_PIT_TICKS * NSEC_PER_SEC / PIT_HZ);
    int64_t err_ns = (int64_t)cycles_to_ns(s.cycles) - expect_ns;
    pr_info("tsc: calibrated against the PIT: %u kHz (error %ld ppm over %ld ms)\n",
            tsc_khz, err_ns * 1000000 / expect_ns, (expect_ns + 500000) / 1000000);
    pr_info("tsc: median of %d clean %u ms PIT shots of %d (%lu..%lu kHz); the check's ends "
            "known to %lu ppm; ns = cycles * %u >> %u\n", good, ms, tries, khz[0], khz[good - 1],
            s.fuzz * 1000000 / s.cycles, tsc_mult, tsc_shift);
}

void time_init(void)
{
    tsc_at_boot = rdtsc();              /* "since boot" means since here: a few ms in */
    tsc_calibrate();
    setup_boot_APIC_clock();            /* needs ktime, so after the TSC */
    tick_nsec = NSEC_PER_SEC / (uint64_t)param_hz;
}

/* ---------------------------------------------------------------- the tick */

/*
 * The periodic tick: one hrtimer per CPU, every tick_nsec, like Linux's
 * tick_sched_timer() (kernel/time/tick-sched.c). It runs in hardirq
 * context, IF=0, on its own CPU. Per-tick work of later subsystems
 * (scheduler, RCU, watchdogs) is called from here.
 *
 * hrtimer_forward_now() moves the expiry to the next multiple of
 * tick_nsec after now and returns how many periods that skipped: 1
 * normally, more when the interrupt came late (a host preemption under
 * TCG). Late ticks are skipped, not replayed in a burst; CPU 0 adds the
 * whole count to jiffies so that jiffies keeps following the clock.
 */
static enum hrtimer_restart tick_sched_timer(struct hrtimer *timer)
{
    uint64_t periods = hrtimer_forward_now(timer, tick_nsec);

    if (smp_processor_id() == 0)        /* Linux's tick_do_timer_cpu */
        jiffies += periods;
    this_cpu_write(tick_count, this_cpu_read(tick_count) + 1);
    scheduler_tick();
    rcu_sched_clock_irq();              /* quiescent state? RCU stall? (kernel/rcu.c) */
    return HRTIMER_RESTART;
}

void timer_init_cpu(void)
{
    struct hrtimer *tick = &tick_timers[smp_processor_id()];
    uint64_t now = ktime_get_ns();
    /* Every CPU ticks on one grid, the multiples of tick_nsec since boot,
     * so jiffies = ktime / tick_nsec at each of CPU 0's ticks. */
    uint64_t first = (now / tick_nsec + 1) * tick_nsec;

    hrtimer_init_cpu();
    setup_APIC_timer();
    if (smp_processor_id() == 0)
        jiffies = now / tick_nsec;
    hrtimer_init(tick, tick_sched_timer);
    hrtimer_start(tick, first, HRTIMER_MODE_ABS);
}

/* ---------------------------------------------------------------- monitor */

MONITOR_COMMAND(time, "uptime, jiffies, clock rates, and per-CPU ticks and queued hrtimers")
{
    uint64_t now = ktime_get_ns();
    unsigned cpu;

    (void)argc; (void)argv;
    printk("uptime:      %lu.%09lu s (%lu ns since time_init)\n",
           now / NSEC_PER_SEC, now % NSEC_PER_SEC, now);
    printk("jiffies:     %lu (HZ=%d, a tick every %lu ns)\n", jiffies, param_hz, tick_nsec);
    printk("tsc:         %u kHz\n", tsc_khz);
    printk("apic timer:  %u kHz (divide-by-16, one-shot)\n", lapic_timer_khz);
    printk("hang guard:  %s\n", lab_hook(LAB_HOOK_NO_HRTIMER_HANG_GUARD) ? "off (lab hook)" : "on");
    printk("CPU        ticks  hrtimers  hangs\n");
    for_each_online_cpu(cpu)
        printk("%3u %12lu %9u %6lu\n", cpu, percpu_area[cpu].tick_count, hrtimer_nr_queued(cpu),
               hrtimer_nr_hangs(cpu));
    return 0;
}
