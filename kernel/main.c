/* kernel/main.c: kernel_main(), the order in which irqlab brings itself up. */
#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/ioapic.h"
#include "arch/x86_64/irq.h"
#include "arch/x86_64/smpboot.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/idt.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/percpu.h"
#include "drivers/pic8259.h"
#include "drivers/serial.h"
#include "kernel/acpi_boot.h"
#include "arch/x86_64/hpet.h"
#include "kernel/bench.h"
#include "kernel/boot_stop.h"
#include "kernel/bootparams.h"
#include "kernel/irqflags.h"
#include "kernel/ktest.h"
#include "kernel/lab.h"
#include "kernel/lockdep.h"
#include "kernel/nmi_backtrace.h"
#include "kernel/smp.h"
#include "kernel/softirq.h"
#include "kernel/time.h"
#include "kernel/monitor.h"
#include "kernel/page_alloc.h"
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "kernel/rcu.h"
#include "kernel/sched.h"
#include "kernel/watchdog.h"

/*
 * Before paging_init() the boot tables identity-map the first 4 GiB, so a
 * physical address below that is directly readable; the multiboot parser
 * reads the loader's information through this.
 */
static const void *early_phys(uint64_t addr, size_t len)
{
    if (addr == 0 || addr >= (4UL << 30) || len > (4UL << 30) - addr)
        return NULL;
    return (const void *)addr;
}

/*
 * bench= is the third thing a boot may run, with the same rules: a name
 * that is not a benchmark, a refused value, or bench= next to test= or lab=
 * stops the boot with the valid choices. A refused bench_samples= stops it
 * too: `make bench BENCH_SAMPLES=x` must not quietly measure the default.
 */
static void check_bench(void)
{
    char valid[256];

    bench_list(valid, sizeof valid);
    if (param_bench_refused)
        boot_stop("irqlab: a bench= value was refused (empty, malformed or too long); not running another "
                  "benchmark instead; valid: %s", valid);
    if (param_bench[0] && (param_test[0] || param_lab[0]))
        boot_stop("irqlab: bench=%s and %s=%s: a boot runs one of them; give bench=, test= or lab= alone",
                  param_bench, param_test[0] ? "test" : "lab", param_test[0] ? param_test : param_lab);
    if (param_bench[0] && !bench_valid_name(param_bench))
        boot_stop("irqlab: unknown bench '%s'; valid: %s", param_bench, valid);
    if (param_bench[0] && param_bench_samples_refused)
        boot_stop("irqlab: bench=%s: a bench_samples= value was refused; not measuring the default (%d) "
                  "instead; valid: 1-%d", param_bench, BENCH_SAMPLES_DEFAULT, BENCH_SAMPLES_MAX);
    if (!param_bench[0] && (param_bench_samples_given || param_bench_samples_refused))
        pr_warn("cmdline: bench_samples= sets the samples of the bench= benchmark, and no bench= is given; "
                "ignored (valid: bench=all bench_samples=N)\n");
}

/*
 * Stop at once on a test= or lab= that names nothing, listing what is valid,
 * instead of booting everything first; and on a choice the command line
 * made unclear (a refused lab=/variant=/test= value, both lab= and test=):
 * running something the user did not ask for would hide the mistake.
 * Under a test or lab any fatal error ends QEMU (kernel/panic.h), so the
 * harness never waits for a timeout.
 */
static void check_test_and_lab(void)
{
    char valid[1024];

    panic_exits_qemu = param_test[0] || param_lab[0] || param_bench[0];
    if (param_test_refused)
        boot_stop("irqlab: a test= value was refused (empty, malformed or too long); not running another "
                  "test instead; valid: all, or a test name");
    if (param_lab_refused || (param_variant_refused && param_lab[0])) {
        lab_list(valid, sizeof valid, param_lab_refused ? "" : param_lab);
        if (param_lab_refused)
            boot_stop("irqlab: a lab= value was refused (empty, malformed or too long); not running another "
                      "lab instead; valid labs: %s", valid);
        boot_stop("irqlab: lab=%s: a variant= value was refused (empty, malformed or too long); not running "
                  "another variant instead; valid: %s", param_lab, valid);
    }
    if (param_test[0] && param_lab[0])
        boot_stop("irqlab: test=%s and lab=%s: a boot runs one of them; give test= or lab=, not both",
                  param_test, param_lab);
    if (param_test[0] && !ktest_valid_name(param_test)) {
        ktest_list(valid, sizeof valid);
        boot_stop("irqlab: unknown test '%s'; valid: %s", param_test, valid);
    }
    if (param_lab[0] && !lab_choose(param_lab, param_variant, valid, sizeof valid))
        boot_stop("irqlab: %s", valid);
    check_bench();
    if ((param_variant[0] || param_variant_refused) && !param_lab[0])
        pr_warn("cmdline: variant= chooses a variant of the lab= lab, and no lab= is given; ignored "
                "(valid: lab=NAME variant=V, or `run NAME variant=V` at the monitor)\n");
}

/*
 * The first kernel thread: the work the boot was for, the self-tests
 * (test=), a lab (lab=) or the monitor. Like Linux's kernel_init(), it runs as a thread
 * of its own, so it can sleep and be preempted like any other (in_task(),
 * IRQs on), while the boot context becomes CPU 0's idle task.
 */
static int kernel_init(void *unused)
{
    (void)unused;
    if (param_test[0])
        ktest_run(param_test);
    if (param_lab[0])
        lab_run(lab_find(param_lab, param_variant));    /* check_test_and_lab() vouched for it */
    if (param_bench[0])
        bench_run(param_bench);                         /* check_bench() vouched for it */
    monitor_run();
}

/* Linux's rest_init(): start kernel_init on CPU 0, then idle. */
__attribute__((noreturn)) static void rest_init(void)
{
    const char *name = param_test[0] ? "ktest" : param_lab[0] ? "lab" : param_bench[0] ? "bench" : "monitor";

    if (!kthread_run_on_cpu(kernel_init, NULL, 0, name))
        panic("rest_init: cannot start the first kernel thread");
    cpu_idle_loop();
}

/*
 * Called from boot/boot.asm in long mode, on CPU 0's kernel stack, with
 * interrupts off. magic and info_phys are what the loader left in EAX/EBX.
 */
void kernel_main(uint32_t magic, uint64_t info_phys)
{
    percpu_init_cpu(0);                 /* printk needs smp_processor_id() */
    serial_init();
    gdt_init_cpu(0);                    /* TSS with the IST stacks ... */
    idt_init();                         /* ... so that from here every exception is reported */
    idt_load();
    printk(KERN_INFO "irqlab: x86-64 teaching kernel, booting on CPU 0\n");

    const char *err = multiboot_parse(magic, info_phys, early_phys, &boot_info);
    if (err)
        boot_stop("irqlab: cannot boot: %s", err);
    paging_init(&boot_info);
    printk(KERN_INFO "irqlab: multiboot%d from '%s', command line '%s'\n",
           boot_info.protocol, boot_info.loader[0] ? boot_info.loader : "unknown",
           boot_info.cmdline);
    bootparams_parse();
    check_test_and_lab();

    /* ACPI before the page allocator: tables placed in usable RAM (as the
     * acpi_rsdp= tests do) must be read before free pages get overwritten. */
    acpi_boot_init();                   /* CPUs and IOAPICs, from the MADT */
    page_alloc_init(&boot_info);
    pic8259_disable();                  /* the IOAPIC replaces the 8259s */
    apic_init_bsp(acpi_info.lapic_addr, param_x2apic);
    irq_init();
    lockdep_init();
    cpumask_set_cpu(0, &cpu_possible_mask);
    cpumask_set_cpu(0, &cpu_online_mask);
    smp_ipi_init();
    nmi_backtrace_init();
    time_init();                        /* TSC and LAPIC timer calibration */
    timer_init_cpu();                   /* CPU 0's tick and hrtimers */
    sched_init();                       /* this boot context becomes swapper/0 */
    rcu_init();                         /* callback lists, and the rcu_sched kthread (CPU 0) */
    local_irq_enable();                 /* from here on, interrupts arrive */
    smp_boot_cpus();                    /* the APs come up and report in */
    ioapic_init();
    hpet_enable();                      /* timer 0: a one-shot NMI for the labs' deadline */
    serial_enable_irq();                /* the monitor's input becomes interrupt-driven */
    softirq_init();                     /* the tasklet softirq, ksoftirqd/N threads */
    watchdog_init();                    /* lockup detectors: a timer per CPU, watchdog/N threads */
    rest_init();
}
