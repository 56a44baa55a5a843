/* kernel/bootparams.c: irqlab's kernel command-line parameters: lab=, variant=, test=, loglevel=. */
#include "kernel/bootparams.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/smpboot.h"
#include "kernel/acpi_boot.h"
#include "kernel/bench.h"
#include "kernel/cmdline.h"
#include "kernel/detector_stop.h"
#include "kernel/ktest.h"
#include "kernel/lab.h"
#include "kernel/lab_hooks.h"
#include "kernel/lockdep.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "kernel/rcu.h"
#include "kernel/sched.h"
#include "kernel/smp.h"
#include "kernel/time.h"
#include "kernel/watchdog.h"

struct boot_info boot_info;

char param_lab[32];
char param_variant[32];
char param_test[64];
bool param_x2apic = true;
bool param_lab_refused, param_variant_refused, param_test_refused;

/*
 * The parser knows only the shape of each value (an int in a range, a
 * string that fits). Whether test= or lab= names something that exists is
 * checked by kernel/main.c against the registries, which can list the
 * valid names.
 */
/* Which of the detector thresholds the command line chose (the stall lab
 * sets its own values for the others). */
static bool given_rcu_cpu_stall_timeout, given_watchdog_thresh, given_csd_lock_timeout, given_lab_deadline,
    given_panic_on_ipistall;

static const struct kparam params[] = {
    { .key = "lab", .type = KPARAM_STRING, .dest = param_lab, .dest_size = sizeof param_lab,
      .valid_desc = "a lab name (see the monitor's `labs`)", .refused = &param_lab_refused },
    { .key = "variant", .type = KPARAM_STRING, .dest = param_variant,
      .dest_size = sizeof param_variant, .valid_desc = "a variant of the chosen lab",
      .refused = &param_variant_refused },
    { .key = "test", .type = KPARAM_STRING, .dest = param_test, .dest_size = sizeof param_test,
      .valid_desc = "all, or one in-kernel test name", .refused = &param_test_refused },
    { .key = "ktest.filter", .type = KPARAM_STRING, .dest = param_ktest_filter,
      .dest_size = sizeof param_ktest_filter, .valid = ktest_filter_valid,
      .valid_desc = "KUnit's form speed<op><speed>: op one of < <= > >= = !=, speed one of very_slow, slow, "
                    "normal (speed>slow: leave out the cases that wait seconds)" },
    { .key = "acpi_rsdp", .type = KPARAM_U64, .dest = &param_acpi_rsdp, .min = 1,
      .valid_desc = "the nonzero physical address of an RSDP, e.g. 0x4000000 (without acpi_rsdp=, "
                    "the boot loader's, or the BIOS areas')" },
    { .key = "x2apic", .type = KPARAM_BOOL, .dest = &param_x2apic,
      .valid_desc = "on (use x2APIC when the CPU has it, the default) or off" },
    { .key = "loglevel", .type = KPARAM_INT, .dest = &console_loglevel, .min = 0, .max = 8,
      .valid_desc = "0-8 (print messages below this level; 8 shows debug)" },
    { .key = "nr_cpus", .type = KPARAM_INT, .dest = &param_nr_cpus, .min = 1, .max = NR_CPUS },
    { .key = "idle", .type = KPARAM_STRING, .dest = param_idle, .dest_size = sizeof param_idle,
      .valid = idle_param_valid, .valid_desc = "halt (an idle CPU waits in sti;hlt, the default) or poll (it "
                                               "spins with pause until there is work, as Linux's idle=poll)" },
    { .key = "hz", .type = KPARAM_INT, .dest = &param_hz, .min = 10, .max = 1000,
      .valid_desc = "10-1000 (timer ticks per second on each CPU, default 100)" },
    { .key = "lockdep", .type = KPARAM_STRING, .dest = param_lockdep, .dest_size = sizeof param_lockdep,
      .valid = lockdep_param_valid, .valid_desc = "on, off, or keep (on, and keep reporting after a report)" },
    { .key = "rcu_cpu_stall_timeout", .type = KPARAM_INT, .dest = &rcu_cpu_stall_timeout, .min = 0, .max = 300,
      .valid_desc = "0-300 (seconds a grace period may last before an RCU stall report; 0 turns the check off; "
                    "default 3, Linux's is 21)",
      .given = &given_rcu_cpu_stall_timeout },
    { .key = "watchdog_thresh", .type = KPARAM_INT, .dest = &watchdog_thresh, .min = 0, .max = 60,
      .valid_desc = "0-60 (seconds: hard lockups are reported after about this long with IF=0, soft "
                    "lockups after twice this long without scheduling; 0 turns both off; default 4, "
                    "Linux's is 10)",
      .given = &given_watchdog_thresh },
    { .key = "nmi_watchdog", .type = KPARAM_BOOL, .dest = &param_nmi_watchdog,
      .valid_desc = "on (the buddy hard-lockup detector, the default) or off" },
    { .key = "soft_watchdog", .type = KPARAM_BOOL, .dest = &param_soft_watchdog,
      .valid_desc = "on (the soft-lockup detector and its watchdog/N threads, the default) or off" },
    { .key = "csd_lock_timeout", .type = KPARAM_INT, .dest = &csd_lock_timeout, .min = 0, .max = 600000,
      .valid_desc = "0-600000 (ms a CPU waits on a cross-call csd before reporting it; 0 turns the "
                    "reports off; default 2000, Linux's is 5000)",
      .given = &given_csd_lock_timeout },
    { .key = "panic_on_ipistall", .type = KPARAM_INT, .dest = &panic_on_ipistall, .min = 0, .max = 600000,
      .valid_desc = "0-600000 (ms: a CSD report of a stall older than this fires the stop policy; "
                    "0, the default, never)",
      .given = &given_panic_on_ipistall },
    { .key = "lab_deadline", .type = KPARAM_INT, .dest = &lab_deadline, .min = 0, .max = 3600,
      .valid_desc = "0-3600 (seconds a lab run may last before it ends INVALID, naming what it waited for; "
                    "0: no deadline; default 30 s plus three times the longest detector threshold)",
      .given = &given_lab_deadline },
    { .key = "lab_remove", .type = KPARAM_STRING, .dest = param_lab_remove, .dest_size = sizeof param_lab_remove,
      .valid_desc = "a step the lab lists with LAB_REMOVABLE (a test of the judges; the lab refuses others, "
                    "naming its own)" },
    { .key = "lab_hooks", .type = KPARAM_STRING, .dest = param_lab_hooks, .dest_size = sizeof param_lab_hooks,
      .valid = lab_hooks_param_valid,
      .valid_desc = "auto (each lab turns on the hooks it needs, the default) or off (none: Linux's behaviour "
                    "everywhere; a variant whose claim rests on a hook then ends INVALID)" },
    { .key = "detector_stop", .type = KPARAM_STRING, .dest = param_detector_stop,
      .dest_size = sizeof param_detector_stop, .valid = detector_stop_param_valid,
      .valid_desc = "auto (after a hang report, stop the machine when a test or lab runs; the default), "
                    "on (always stop) or off (report and keep running)" },
    { .key = "bench", .type = KPARAM_STRING, .dest = param_bench, .dest_size = sizeof param_bench,
      .valid_desc = "all, or one benchmark group (docs/bench.md)", .refused = &param_bench_refused },
    { .key = "bench_samples", .type = KPARAM_INT, .dest = &param_bench_samples, .min = 1, .max = BENCH_SAMPLES_MAX,
      .given = &param_bench_samples_given, .refused = &param_bench_samples_refused },
};

static void report(void *ctx, const char *msg)
{
    (void)ctx;
    pr_err("%s\n", msg);
}

int bootparams_parse(void)
{
    return cmdline_parse(boot_info.cmdline, params, sizeof params / sizeof params[0], report, NULL);
}

bool bootparam_given(const char *key)
{
    for (size_t i = 0; i < sizeof params / sizeof params[0]; i++)
        if (strcmp(params[i].key, key) == 0)
            return params[i].given && *params[i].given;
    return false;
}

/*
 * What `run` may set: variant=, and the detector thresholds, which the
 * detectors read at every check. The others act only while the kernel
 * boots (hz=, nr_cpus=, lab=, ...), so after boot they would be accepted
 * and do nothing. watchdog_thresh= is here with 1-60: `run` passes it to
 * watchdog_set_thresh(), which re-arms the running detectors (0 would stop
 * them only at boot).
 */
static const char *const run_keys[] = {
    "variant", "watchdog_thresh", "rcu_cpu_stall_timeout", "csd_lock_timeout", "panic_on_ipistall",
    "detector_stop",
};

int bootparams_parse_run(const char *line, int *thresh)
{
    static struct kparam run_params[sizeof run_keys / sizeof run_keys[0]];

    for (size_t k = 0; k < sizeof run_keys / sizeof run_keys[0]; k++) {
        for (size_t i = 0; i < sizeof params / sizeof params[0]; i++)
            if (strcmp(params[i].key, run_keys[k]) == 0)
                run_params[k] = params[i];
        if (strcmp(run_keys[k], "watchdog_thresh") == 0) {
            run_params[k].dest = thresh;
            run_params[k].min = 1;
            run_params[k].valid_desc = "1-60 (seconds; the hard-lockup threshold for this run, soft lockups "
                                       "at twice it)";
        }
    }
    return cmdline_parse(line, run_params, sizeof run_params / sizeof run_params[0], report, NULL);
}
