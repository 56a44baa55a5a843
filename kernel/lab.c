/* kernel/lab.c: runs a lab variant, keeps its timeline of key moments, and ends QEMU with its verdict. */
#include "kernel/lab.h"
#include "arch/x86_64/hpet.h"
#include "arch/x86_64/irq.h"
#include "kernel/boot_stop.h"
#include "kernel/bootparams.h"
#include "kernel/bug.h"
#include "kernel/cpumask.h"
#include "kernel/detector_stop.h"
#include "kernel/hardirq.h"
#include "kernel/hrtimer.h"
#include "kernel/irqflags.h"
#include "kernel/monitor.h"
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "kernel/rcu.h"
#include "kernel/smp.h"
#include "kernel/string.h"
#include "kernel/time.h"
#include "kernel/trace.h"
#include "kernel/watchdog.h"
#include "kernel/vsprintf.h"
#include "drivers/qemu_exit.h"

extern const struct lab_variant __lab_variants_start[], __lab_variants_end[];   /* linker.ld */

#define for_each_lab_variant(v) \
    for (const struct lab_variant *v = __lab_variants_start; v < __lab_variants_end; v++)

extern const struct lab_default __lab_defaults_start[], __lab_defaults_end[];   /* linker.ld */

const struct lab_variant *lab_find(const char *lab, const char *variant)
{
    const struct lab_variant *found = NULL;
    unsigned matches = 0;

    if (!variant[0]) {
        for (const struct lab_default *d = __lab_defaults_start; d < __lab_defaults_end; d++)
            if (strcmp(d->lab, lab) == 0)
                return lab_find(lab, d->variant);
    }
    for_each_lab_variant(v) {
        if (strcmp(v->lab, lab) == 0 && (!variant[0] || strcmp(v->name, variant) == 0)) {
            found = v;
            matches++;
        }
    }
    return matches == 1 ? found : NULL;
}

/* The lab of that name has at least one variant. */
static bool lab_exists(const char *lab)
{
    for_each_lab_variant(v)
        if (strcmp(v->lab, lab) == 0)
            return true;
    return false;
}

void lab_list(char *buf, unsigned long size, const char *lab)
{
    unsigned long used = 0;
    const char *last = "";
    bool known = lab_exists(lab);

    buf[0] = '\0';
    for_each_lab_variant(v) {
        if (known && strcmp(v->lab, lab) == 0 && used < size)
            used += (unsigned long)ksnprintf(buf + used, size - used, "%s%s/%s", used ? ", " : "",
                                             v->lab, v->name);
        else if (!known && strcmp(v->lab, last) != 0 && used < size)    /* a lab's variants sit together */
            used += (unsigned long)ksnprintf(buf + used, size - used, "%s%s", used ? ", " : "", v->lab);
        last = v->lab;
    }
    if (!used)
        ksnprintf(buf, size, "(none)");
}

const struct lab_variant *lab_choose(const char *lab, const char *variant, char *why, unsigned long size)
{
    const struct lab_variant *v = lab_find(lab, variant);
    char valid[768];
    unsigned n = 0;

    if (v)
        return v;
    lab_list(valid, sizeof valid, lab);
    if (!lab_exists(lab)) {
        ksnprintf(why, size, "unknown lab '%s'; valid labs: %s (`labs` at the monitor lists their variants)",
                  lab, valid);
        return NULL;
    }
    if (!variant[0]) {
        for_each_lab_variant(o)
            n += strcmp(o->lab, lab) == 0;
        ksnprintf(why, size, "lab '%s' has %u variants and no default: give variant=; valid: %s", lab, n, valid);
        return NULL;
    }
    /* Say where a variant of another lab belongs: the likely slip. */
    const char *other = NULL;
    for_each_lab_variant(o)
        if (strcmp(o->name, variant) == 0)
            other = o->lab;
    ksnprintf(why, size, "lab '%s' has no variant '%s'%s%s%s; valid: %s", lab, variant,
              other ? " (it is a variant of lab '" : "", other ? other : "", other ? "')" : "", valid);
    return NULL;
}

const char *lab_cannot_run(const struct lab_variant *v, char *why, unsigned long size)
{
    if (num_online_cpus() >= v->min_cpus)
        return NULL;
    ksnprintf(why, size, "%s/%s needs %u CPUs and this machine has %u online; boot with CPUS=%u or more",
              v->lab, v->name, v->min_cpus, num_online_cpus(), v->min_cpus);
    return why;
}

static const char *verdict_name(enum lab_verdict v)
{
    return v == LAB_REPRODUCED ? "REPRODUCED" : v == LAB_NOT_REPRODUCED ? "NOT REPRODUCED" : "INVALID";
}

/*
 * The timeline: a fixed array filled from any context (task, hardirq, NMI)
 * with one atomic increment per event, so recording never takes a lock that
 * a stuck CPU might hold. Events past the end are counted, not stored.
 */
#define LAB_EVENTS 96
struct lab_event_rec {
    uint64_t ns;
    unsigned cpu;
    uint32_t preempt_count;
    bool irqs_on;
    bool detector;              /* a detector's headline (from detector_log), not a lab_event() */
    char text[80];
};
static struct lab_event_rec events[LAB_EVENTS];
static unsigned nr_events;
static struct lab_run *running;

void lab_event(const char *fmt, ...)
{
    unsigned i = __atomic_fetch_add(&nr_events, 1, __ATOMIC_RELAXED);
    va_list ap;

    if (i >= LAB_EVENTS)
        return;
    struct lab_event_rec *e = &events[i];
    e->ns = ktime_get_ns();
    e->cpu = smp_processor_id();
    e->preempt_count = preempt_count();
    e->irqs_on = !raw_irqs_disabled();
    va_start(ap, fmt);
    kvsnprintf(e->text, sizeof e->text, fmt, ap);
    va_end(ap);
    trace_event(TRACE_LAB, 0, 0, e->text, NULL);       /* the text stays in events[] for the dump */
}

static const char *context_of(uint32_t pc)
{
    return (pc & NMI_MASK) ? "NMI" : (pc & HARDIRQ_MASK) ? "hardirq" : (pc & SOFTIRQ_OFFSET) ? "softirq" : "task";
}

/*
 * Add the headlines the hang detectors printed during the run
 * (detector_log, kernel/detector_stop.h), so the timeline shows when each
 * spoke, by which CPU, about which CPU. Called once, by the CPU that ends
 * the run; other CPUs are stuck or waiting for the exit.
 */
static void add_detector_events(const struct lab_run *r)
{
    unsigned n = __atomic_load_n(&detector_log_count, __ATOMIC_ACQUIRE);

    for (unsigned i = 0; i < n && i < DETECTOR_LOG_SIZE; i++) {
        const struct detector_event *d = &detector_log[i];

        if (d->ns < r->start_ns)
            continue;                   /* before this run */
        unsigned k = __atomic_fetch_add(&nr_events, 1, __ATOMIC_RELAXED);
        if (k >= LAB_EVENTS)
            continue;                   /* counted as not recorded */
        events[k] = (struct lab_event_rec){ .ns = d->ns, .cpu = d->by_cpu, .detector = true };
        ksnprintf(events[k].text, sizeof events[k].text, "detector: %s, about CPU%u", d->which, d->cpu);
    }
}

/* Print the events in time order (insertion order is per-CPU order only). */
static void print_timeline(const struct lab_run *r)
{
    unsigned n = nr_events < LAB_EVENTS ? nr_events : LAB_EVENTS;
    bool printed[LAB_EVENTS] = { false };

    printk("lab: timeline (ms since start, CPU, context, IF, event):\n");
    for (unsigned k = 0; k < n; k++) {
        unsigned best = n;
        for (unsigned i = 0; i < n; i++)
            if (!printed[i] && (best == n || events[i].ns < events[best].ns))
                best = i;
        printed[best] = true;
        const struct lab_event_rec *e = &events[best];
        uint64_t us = e->ns > r->start_ns ? (e->ns - r->start_ns) / 1000 : 0;
        if (e->detector)
            printk("  %6lu.%03lu  CPU%u  report          %s\n", us / 1000, us % 1000, e->cpu, e->text);
        else
            printk("  %6lu.%03lu  CPU%u  %-7s  IF=%d  %s\n", us / 1000, us % 1000, e->cpu,
                   context_of(e->preempt_count), e->irqs_on, e->text);
    }
    if (nr_events > LAB_EVENTS)
        printk("  (%u more events not recorded)\n", nr_events - LAB_EVENTS);
}

/* Judge, print the verdict line, and leave QEMU with the verdict's status. */
__attribute__((noreturn)) static void lab_finish(struct lab_run *r)
{
    char evidence[256];
    const struct lab_variant *v = r->v;

    evidence[0] = '\0';
    enum lab_verdict verdict = LAB_INVALID;
    if (r->missed_deadline)
        ksnprintf(evidence, sizeof evidence, "the run missed its deadline (lab_deadline=%d s), waiting for %s",
                  lab_deadline, r->waiting_for ? r->waiting_for : "something the lab did not name");
    else
        verdict = v->judge(r, evidence, sizeof evidence);
    add_detector_events(r);
    print_timeline(r);
    printk("%s/%s: %s: %s\n", v->lab, v->name, verdict_name(verdict), evidence);
    if (verdict != v->expected)
        printk("lab: note: this variant is expected to be %s\n", verdict_name(v->expected));
    /* Only when QEMU has a debugcon (scripts/qemu.py --trace); silent, so that a run prints the same
     * lines with and without one (the lab pages' samples boot without). */
    trace_dump();
    qemu_exit(verdict == LAB_REPRODUCED ? QEMU_EXIT_REPRODUCED :
              verdict == LAB_NOT_REPRODUCED ? QEMU_EXIT_NOT_REPRODUCED : QEMU_EXIT_INVALID);
}

static int stopping;                    /* a CPU is in end_run() */

/*
 * End the running lab: a detector's stop policy, or its deadline. Only the
 * first CPU to get here ends the run (so a detector and the deadline
 * firing together cannot both judge it); any other waits for the exit.
 */
__attribute__((noreturn)) static void end_run(const char *by, bool deadline)
{
    struct lab_run *r = __atomic_load_n(&running, __ATOMIC_ACQUIRE);

    if (__atomic_exchange_n(&stopping, 1, __ATOMIC_ACQ_REL))
        for (;;)
            cpu_relax();
    r->stopped_by = by;
    r->missed_deadline = deadline;
    printk("lab: %s ended the run\n", by);
    lab_finish(r);
}

void lab_detector_stop(const char *detector)
{
    end_run(detector, false);
}

int lab_deadline;
char param_lab_remove[32];

extern const struct lab_removable __lab_removables_start[], __lab_removables_end[];

bool lab_removed(const char *name)
{
    return strcmp(param_lab_remove, name) == 0;
}

/*
 * lab_remove= names a step the lab about to run can leave out, or the run
 * stops here, naming the valid ones. Contract: called before the scenario.
 */
static void check_removal(const struct lab_variant *v)
{
    char valid[256] = "";
    unsigned long used = 0;

    if (!param_lab_remove[0])
        return;
    for (const struct lab_removable *m = __lab_removables_start; m < __lab_removables_end; m++) {
        if (strcmp(m->lab, v->lab) != 0)
            continue;
        if (strcmp(m->name, param_lab_remove) == 0) {
            printk("lab: lab_remove=%s: %s (a test of the judge: the verdict must be INVALID or flip)\n", m->name,
                   m->without);
            return;
        }
        if (used < sizeof valid)
            used += (unsigned long)ksnprintf(valid + used, sizeof valid - used, "%s%s", used ? ", " : "", m->name);
    }
    boot_stop("lab: lab_remove=%s: lab %s has no such step; valid: %s", param_lab_remove, v->lab,
              used ? valid : "none (this lab lists no step to remove)");
}

/*
 * Without lab_deadline=, a run gets 30 s plus three times the longest
 * detector threshold: long enough for the whole chain of reports a stall
 * tells (Linux's thresholds end in OOM at about 28 s; the hard LOCKUP can
 * take 2.4 x watchdog_thresh), short enough that a silent hang ends.
 */
static int default_deadline(void)
{
    int longest = watchdog_thresh * 12 / 5;

    if (rcu_cpu_stall_timeout * 4 / 3 > longest)
        longest = rcu_cpu_stall_timeout * 4 / 3;
    if (csd_lock_timeout / 1000 > longest)
        longest = csd_lock_timeout / 1000;
    return 30 + 3 * longest;
}

void lab_wait_for(const char *what)
{
    struct lab_run *r = __atomic_load_n(&running, __ATOMIC_ACQUIRE);

    if (!WARN_ON_ONCE(!r))
        __atomic_store_n(&r->waiting_for, what, __ATOMIC_RELEASE);
}

/*
 * The run's deadline, a timer on the last online CPU: the lab's scenario
 * runs on CPU 0, so with 2 CPUs or more a CPU 0 stuck with IF=0 cannot
 * keep it from firing. When every CPU spins with IF=0 no timer fires
 * anywhere, the deadline's included; the lab's own wait loops then check
 * the clock themselves (lab_deadline_check(), lab_spin_until()). A hang
 * in which every CPU spins with IF=0 outside any lab loop (in spin_lock(),
 * say) is ended by the HPET's NMI (deadline_nmi() below); Linux's perf NMI
 * watchdog would report it, and TCG offers no PMU to drive one. A run the
 * detectors did not end by then (an interrupt that never came, a wait
 * nobody answers) ends INVALID, naming what it waited for, instead of
 * hanging silently. It goes through end_run(), so a detector ending the
 * run at the same moment and the deadline cannot both finish it.
 */
static struct hrtimer deadline_timer;
static uint64_t deadline_ns;            /* when the running lab's deadline passes; 0: none */

void lab_deadline_check(void)
{
    uint64_t when = __atomic_load_n(&deadline_ns, __ATOMIC_RELAXED);

    if (when && ktime_get_ns() >= when)
        end_run("the lab's deadline (lab_deadline=)", true);
}

static enum hrtimer_restart deadline_fn(struct hrtimer *t)
{
    (void)t;
    end_run("the lab's deadline (lab_deadline=)", true);
}

/*
 * The backstop when every CPU spins with IF=0, so that no CPU takes the
 * deadline's timer interrupt: one NMI from the HPET (arch/x86_64/hpet.h),
 * DEADLINE_NMI_LATE after the deadline. The deadline's own timer ends the
 * run first whenever any CPU still takes interrupts. Registered after the
 * backtrace and watchdog handlers, it claims an NMI only once the deadline
 * has passed; while a CPU is already ending the run it just returns.
 */
#define DEADLINE_NMI_LATE (1 * NSEC_PER_SEC)

static bool deadline_nmi(struct pt_regs *regs)
{
    uint64_t when = __atomic_load_n(&deadline_ns, __ATOMIC_RELAXED);

    (void)regs;
    if (!when || ktime_get_ns() < when)
        return false;
    if (__atomic_load_n(&stopping, __ATOMIC_ACQUIRE))
        return true;
    end_run("the HPET's NMI at the lab's deadline (lab_deadline=; no CPU took the deadline's timer interrupt)", true);
}

static void deadline_start_on_cpu(void *info)
{
    (void)info;
    hrtimer_init(&deadline_timer, deadline_fn);
    hrtimer_start(&deadline_timer, (uint64_t)lab_deadline * NSEC_PER_SEC, HRTIMER_MODE_REL);
}

/*
 * The one way a lab runs, from lab= at boot and from the monitor's `run`
 * alike. A running lab owns the machine's ending: a fatal error ends QEMU
 * (panic_exits_qemu) and the detectors' stop policy (detector_stop=auto)
 * ends the run with its verdict. Both read panic_exits_qemu, so it is set
 * here, not only by the boot: a lab started from the monitor once ran with
 * neither and deadlocked forever (issue 15).
 */
void lab_run(const struct lab_variant *v)
{
    static struct lab_run run;
    char why[160];

    if (lab_cannot_run(v, why, sizeof why))
        boot_stop("lab: %s", why);
    panic_exits_qemu = true;
    check_removal(v);
    run.v = v;
    run.start_ns = ktime_get_ns();
    /* Every run whose trace has somewhere to go is traced (kernel/trace.h); lab_finish() writes it out. */
    if (trace_channel_present())
        trace_start(run.start_ns);
    printk("lab: %s/%s: %s\n", v->lab, v->name, v->summary);
    printk("lab: expected verdict: %s; %u CPUs online\n", verdict_name(v->expected), num_online_cpus());
    __atomic_store_n(&running, &run, __ATOMIC_RELEASE);
    if (!bootparam_given("lab_deadline"))
        lab_deadline = default_deadline();
    if (lab_deadline) {
        __atomic_store_n(&deadline_ns, run.start_ns + (uint64_t)lab_deadline * NSEC_PER_SEC, __ATOMIC_RELAXED);
        smp_call_function_single(num_online_cpus() - 1, deadline_start_on_cpu, NULL, true);
        register_nmi_handler(deadline_nmi);
        if (!hpet_nmi_after((uint64_t)lab_deadline * NSEC_PER_SEC + DEADLINE_NMI_LATE))
            printk("lab: no HPET NMI behind the deadline: a run in which every CPU spins with IF=0 ends only at "
                   "the host's timeout\n");
    }
    v->run(&run);
    lab_finish(&run);
}

int lab_short_watchdog_thresh(int seconds)
{
    if (bootparam_given("watchdog_thresh")) {
        printk("lab: watchdog_thresh=%d from the command line (the lab would use %d)\n", watchdog_thresh, seconds);
        return watchdog_thresh;
    }
    if (watchdog_set_thresh(seconds))
        printk("lab: watchdog_thresh=%d for this run (Linux's default is 10): a hard lockup is reported "
               "%d.%d-%d.%d s after it begins\n", seconds, seconds * 8 / 10, seconds * 8 % 10,
               seconds * 24 / 10, seconds * 24 % 10);
    return watchdog_thresh;
}

bool lab_running(void)
{
    return __atomic_load_n(&running, __ATOMIC_ACQUIRE) != NULL;
}



MONITOR_COMMAND(labs, "list the labs, their variants and the verdict each should reach")
{
    const char *last = "";

    (void)argc; (void)argv;
    if (&__lab_variants_start[0] == &__lab_variants_end[0])
        printk("no labs\n");
    for_each_lab_variant(v) {
        if (strcmp(v->lab, last) != 0)
            printk("%s\n", v->lab);
        last = v->lab;
        const struct lab_variant *def = lab_find(v->lab, "");
        printk("  variant=%-28s %u+ CPUs  expect %-15s%s %s\n", v->name, v->min_cpus,
               verdict_name(v->expected), def == v ? " (default)" : "", v->summary);
    }
    printk("run one with: run NAME variant=VARIANT [key=value...]; the run ends QEMU with its verdict\n");
    return 0;
}

MONITOR_COMMAND_ARGS(run, "NAME [variant=V] [key=value...]", 1, MONITOR_ARGV_MAX - 1,
                     "run a lab (ends QEMU with its verdict)")
{
    char why[1024];
    int thresh = 0;

    /* variant= picks the variant; other key=value words are the thresholds
     * a run may still change (bootparams_parse_run() lists them). A
     * variant= from the boot's command line does not carry over. */
    char words[MONITOR_LINE_MAX] = "";
    unsigned long used = 0;

    for (int i = 2; i < argc && used < sizeof words; i++)
        used += (unsigned long)ksnprintf(words + used, sizeof words - used, "%s%s", i > 2 ? " " : "", argv[i]);
    param_variant[0] = '\0';
    if (bootparams_parse_run(words, &thresh) != 0) {
        lab_list(why, sizeof why, argv[1]);
        printk("run: not started; valid: %s\n", why);
        return 1;
    }
    /* Without variant=, the lab's only or default variant. */
    const struct lab_variant *v = lab_choose(argv[1], param_variant, why, sizeof why);
    if (!v || lab_cannot_run(v, why, sizeof why)) {
        printk("run: %s\n", why);
        return 1;
    }
    if (thresh && !watchdog_set_thresh(thresh)) {
        printk("run: cannot set watchdog_thresh=%d: the lockup detectors are off\n", thresh);
        return 1;
    }
    lab_run(v);
}
