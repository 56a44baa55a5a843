/* kernel/lab.h: the lab framework: a registry of labs and variants, verdicts, and the event timeline. */
#ifndef KERNEL_LAB_H
#define KERNEL_LAB_H

#include <stdbool.h>
#include <stdint.h>

/*
 * A lab reproduces one real bug on purpose. It has variants: some provoke
 * the failure, others apply a fix. Each variant runs a scenario, records
 * what the hardware did (lab_event()), and then a judge turns those
 * observations into a verdict. The verdict is never a flag the scenario
 * sets to say "it happened": it follows from counters, timestamps and
 * states the scenario measured.
 */
enum lab_verdict {
    LAB_REPRODUCED,             /* the bug happened */
    LAB_NOT_REPRODUCED,         /* the scenario completed and the bug did not happen */
    LAB_INVALID,                /* the run cannot say: the mechanism the variant exists to show did not
                                 * happen, or the run missed its deadline (lab_deadline=) */
};

struct lab_run;

struct lab_variant {
    const char *lab;            /* the lab's name, e.g. "stall" */
    const char *name;           /* the variant, e.g. "real_restore" */
    const char *summary;        /* one line for `labs` and the GRUB menu */
    enum lab_verdict expected;  /* what this variant should show; `labs` prints it */
    unsigned min_cpus;
    /* The scenario, in a kthread on CPU 0. It may never return: a stalled
     * machine is ended by the detectors, which call lab_detector_stop(). */
    void (*run)(struct lab_run *r);
    /* Read the observations and decide; write a few words of evidence. */
    enum lab_verdict (*judge)(struct lab_run *r, char *evidence, unsigned long size);
};

struct lab_run {
    const struct lab_variant *v;
    uint64_t start_ns;
    const char *stopped_by;     /* the detector that ended the run, or NULL */
    const char *waiting_for;    /* what the scenario waits for now (lab_wait_for()), or NULL */
    bool missed_deadline;       /* lab_deadline= passed before the run ended */
};

/*
 * Say what the running scenario waits for next ("the device interrupt"),
 * or NULL when it waits for nothing. If the run misses its deadline, its
 * verdict is INVALID and names this.
 */
void lab_wait_for(const char *what);

/* lab_deadline=: seconds of (guest) time a run may last before it ends INVALID. */
extern int lab_deadline;

/*
 * End the run here, INVALID, if its deadline has passed. The deadline's
 * timer cannot fire while every CPU spins with IF=0 (no timer fires
 * anywhere then), so a lab's loop that may spin with IF=0 calls this on
 * every turn: lab_spin_until() does.
 */
void lab_deadline_check(void);

/*
 * Spin until cond holds, naming what the run waits for (lab_wait_for())
 * and checking the deadline on every turn.
 */
#define lab_spin_until(cond, what)                                              \
    do {                                                                        \
        lab_wait_for(what);                                                     \
        while (!(cond)) {                                                       \
            cpu_relax();                                                        \
            lab_deadline_check();                                               \
        }                                                                       \
        lab_wait_for(NULL);                                                     \
    } while (0)

/*
 * The judges' own test (issue 11): lab_remove=NAME on the command line
 * makes the running lab leave out one step of its scenario, the mechanism
 * its variants exist to show, and the verdict must then be INVALID or flip.
 * A lab lists the steps it can leave out with LAB_REMOVABLE(lab, name,
 * "what the run does without it") and asks lab_removed("name") where the
 * step happens. A name the running lab does not list stops the run.
 */
struct lab_removable {
    const char *lab;
    const char *name;
    const char *without;
};

#define LAB_REMOVABLE(l_, name_, without_)                                              \
    __attribute__((used, section(".lab_removables"), aligned(8)))                       \
    static const struct lab_removable lab_removable_##l_##_##name_ = { #l_, #name_, without_ }

extern char param_lab_remove[32];
bool lab_removed(const char *name);

/*
 * LAB_VARIANT(lab, variant, min_cpus, expected, "summary") registers a variant
 * whose scenario is lab_<lab>_<variant>_run() and whose judge is
 * lab_<lab>_<variant>_judge(); both are written by the lab right after. Each
 * LAB_VARIANT line must start at the beginning of a line: the Makefile reads
 * them to make one GRUB menu entry per variant.
 */
#define LAB_VARIANT(l_, v_, min_cpus_, expected_, summary_)                            \
    static void lab_##l_##_##v_##_run(struct lab_run *r);                               \
    static enum lab_verdict lab_##l_##_##v_##_judge(struct lab_run *r,                  \
                                                    char *evidence, unsigned long size); \
    __attribute__((used, section(".lab_variants"), aligned(8)))                         \
    static const struct lab_variant lab_variant_##l_##_##v_ = {                         \
        #l_, #v_, summary_, expected_, min_cpus_,                                       \
        lab_##l_##_##v_##_run, lab_##l_##_##v_##_judge }

/*
 * LAB_DEFAULT_VARIANT(lab, variant): what `lab=NAME` with no variant= runs
 * (and `run NAME` at the monitor). Without one, a lab with several variants
 * asks for variant=.
 */
struct lab_default {
    const char *lab;
    const char *variant;
};
#define LAB_DEFAULT_VARIANT(l_, v_)                                                      \
    __attribute__((used, section(".lab_defaults"), aligned(8)))                         \
    static const struct lab_default lab_default_##l_ = { #l_, #v_ }

/* Record a key moment for the timeline: time, CPU, context, IF, and the text. */
__attribute__((format(printf, 1, 2))) void lab_event(const char *fmt, ...);

/*
 * The variant `variant` of `lab`; with an empty variant, the lab's only
 * variant or its default one. NULL if there is no such (or no single) one.
 */
const struct lab_variant *lab_find(const char *lab, const char *variant);
/*
 * The variant `variant` of `lab` ("" : its only or default one), or NULL
 * after writing to why[size] a message that names the wrong part (the lab,
 * a variant of another lab, a missing variant=) and lists what is valid.
 */
const struct lab_variant *lab_choose(const char *lab, const char *variant, char *why, unsigned long size);
/* NULL if this machine can run v; else why not (too few CPUs), in why[size]. */
const char *lab_cannot_run(const struct lab_variant *v, char *why, unsigned long size);
/* For messages that list what is valid: "lab/variant, ..." of `lab` if it
 * is a lab, else the labs' names, "stall, selfdeadlock, ...". */
void lab_list(char *buf, unsigned long size, const char *lab);

/* Run a variant and end QEMU with its verdict (never returns); the same
 * from lab= at boot and from the monitor's `run`. */
__attribute__((noreturn)) void lab_run(const struct lab_variant *v);

/*
 * A short hard-lockup threshold for this run, so a deadlock is reported
 * within seconds: sets watchdog_thresh to `seconds` and says so, unless
 * the command line chose one (watchdog_thresh=10 gives Linux's default,
 * and its timings). Returns the threshold in force.
 */
int lab_short_watchdog_thresh(int seconds);

/* A lab is running: a detector's stop should end it with a verdict. */
bool lab_running(void);
/* Called by the stop policy after a detector reported: print the timeline and verdict, exit. */
__attribute__((noreturn)) void lab_detector_stop(const char *detector);

#endif
