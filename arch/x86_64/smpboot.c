/* arch/x86_64/smpboot.c: brings up the application processors (INIT-SIPI-SIPI), one at a time, and lists the CPUs. */
#include "arch/x86_64/smpboot.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/idt.h"
#include "arch/x86_64/irqflags.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/stacks.h"
#include "kernel/boot_stop.h"
#include "kernel/acpi_boot.h"
#include "kernel/bootparams.h"
#include "kernel/bug.h"
#include "kernel/cpumask.h"
#include "kernel/monitor.h"
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "kernel/softirq.h"
#include "kernel/sched.h"
#include "kernel/string.h"
#include "kernel/time.h"
#include "kernel/vsprintf.h"

#define EFER_LMA (1UL << 10)    /* long mode active: set by the CPU, read-only for us */

int param_nr_cpus;

/*
 * How long the BSP waits for an AP after the first SIPI: until the AP
 * reaches C (stage 1), and again until it is online (stage 2). Measured
 * under TCG with 8 vCPUs on 2 host cores, an AP is online 0.3-1.2 ms after
 * its first SIPI, and up to 8 ms for the first AP, whose code TCG has not
 * translated yet (the monitor's `cpus` shows each CPU's time). 2 s is
 * hundreds of times that, so a busy host does not make a good CPU miss it,
 * and it is finite, so a CPU that is listed but absent cannot hang the boot.
 */
#define AP_TIMEOUT_NS (2 * NSEC_PER_SEC)

/* The data area at the end of boot/trampoline.asm, field for field. */
struct trampoline_data {
    uint32_t base;              /* TRAMPOLINE_BASE as the assembler saw it */
    uint32_t cr3;               /* physical address of boot_pml4 */
    uint64_t efer;
    uint64_t stack_top;
    uint64_t entry;             /* start_secondary() */
    uint64_t cpu;
};

extern const char trampoline_start[], trampoline_data[], trampoline_end[];
/* boot/boot.asm's page tables. They live in .boot, which is linked at its
 * physical address, so the symbol's value IS the physical address. */
extern char boot_pml4[];

/*
 * Where each logical CPU is in its bring-up. The AP and the BSP both move a
 * CPU out of CPU_BOOTING with a compare-and-exchange, so exactly one of
 * them decides: either the AP calls in, or the BSP has given up on it.
 */
enum cpu_boot_state {
    CPU_NOT_STARTED,            /* the zero value */
    CPU_BOOTING,                /* INIT-SIPI-SIPI sent, the AP has not reached C yet */
    CPU_CALLED_IN,              /* the AP runs C and finishes its set-up */
    CPU_ONLINE,                 /* the AP is online and idles with IRQs on */
    CPU_NO_ANSWER,              /* the BSP gave up waiting and parked it with INIT */
};

static enum cpu_boot_state cpu_state[NR_CPUS];
static uint64_t cpu_boot_ns[NR_CPUS];   /* from the first SIPI to online, measured by the BSP */

static enum cpu_boot_state get_state(unsigned cpu)
{
    return __atomic_load_n(&cpu_state[cpu], __ATOMIC_ACQUIRE);
}

static void set_state(unsigned cpu, enum cpu_boot_state s)
{
    __atomic_store_n(&cpu_state[cpu], s, __ATOMIC_RELEASE);
}

/* Move cpu from `from` to `to`; false if someone else moved it first. */
static bool change_state(unsigned cpu, enum cpu_boot_state from, enum cpu_boot_state to)
{
    return __atomic_compare_exchange_n(&cpu_state[cpu], &from, to, false,
                                       __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

/*
 * The AP's first C code, called by boot/trampoline.asm in 64-bit mode, on
 * this CPU's kernel stack, with the boot page tables and the trampoline's
 * GDT, IRQs off and no IDT. Sets the CPU up the way kernel_main() set up
 * the BSP, reports in, and becomes this CPU's idle task.
 */
__attribute__((noreturn)) void start_secondary(unsigned cpu);
__attribute__((noreturn)) void start_secondary(unsigned cpu)
{
    /* Stage 1, "call in". If the BSP already gave up on us, touch nothing
     * shared (the BSP has moved on to the next CPU) and stop. */
    if (!change_state(cpu, CPU_BOOTING, CPU_CALLED_IN))
        cpu_halt_forever();

    percpu_init_cpu(cpu);               /* GS base: smp_processor_id(), printk's [Cn] */
    gdt_init_cpu(cpu);                  /* own GDT, TSS and IST stacks */
    idt_load();                         /* the IDT all CPUs share */
    /* The boot tables got us here; the kernel's own tables have the W^X
     * image, the direct map and the stack guard pages. */
    write_cr3(paging_kernel_cr3());
    apic_init_ap();                     /* also records this CPU's APIC id */
    timer_init_cpu();
    sched_init_cpu();                   /* this context becomes swapper/N; before online, so
                                           kthread_run_on_cpu() finds a run queue */

    /* Stage 2: online. Others may now send us IPIs; they wait in the APIC
     * until the sti in cpu_idle_loop(). */
    cpumask_set_cpu(cpu, &cpu_online_mask);
    pr_info("smp: CPU%u (APIC id %u) is up\n", cpu, this_cpu_read(apic_id));
    set_state(cpu, CPU_ONLINE);         /* the BSP's handshake: it boots the next one */
    cpu_idle_loop();
}

/*
 * Is the trampoline page usable RAM in the boot loader's memory map? It
 * is on QEMU's pc machine (0-0x9fbff is RAM there), but we are about to
 * overwrite it, so we check instead of assuming.
 */
static bool trampoline_page_is_ram(void)
{
    for (unsigned i = 0; i < boot_info.mmap_count; i++) {
        const struct boot_mmap_entry *e = &boot_info.mmap[i];
        if (e->type == 1 && e->addr <= TRAMPOLINE_BASE &&
            e->addr + e->len >= TRAMPOLINE_BASE + PAGE_SIZE)
            return true;
    }
    return false;
}

/* Copy the trampoline to TRAMPOLINE_BASE; return its data area there. */
static struct trampoline_data *trampoline_install(void)
{
    size_t size = (size_t)(trampoline_end - trampoline_start);
    uint8_t *page = phys_to_virt(TRAMPOLINE_BASE);
    struct trampoline_data *data;

    BUG_ON(size > PAGE_SIZE);
    BUG_ON((size_t)(trampoline_end - trampoline_data) != sizeof(struct trampoline_data));
    memcpy(page, trampoline_start, size);
    data = (struct trampoline_data *)(page + (trampoline_data - trampoline_start));
    BUG_ON(data->base != TRAMPOLINE_BASE);      /* the .asm and the .h agree */

    data->cr3 = (uint32_t)(uint64_t)boot_pml4;
    /* LMA is the CPU's to set when paging turns on (SDM Vol. 3A 10.8.5). */
    data->efer = rdmsr(MSR_EFER) & ~EFER_LMA;
    data->entry = (uint64_t)start_secondary;
    return data;
}

/* Wait until cpu leaves `state`, at most until `deadline` (ktime ns). */
static bool wait_for_state_change(unsigned cpu, enum cpu_boot_state state, uint64_t deadline)
{
    while (get_state(cpu) == state) {
        if (ktime_get_ns() > deadline)
            return false;
        cpu_relax();
    }
    return true;
}

/*
 * Start one AP: logical number cpu, local APIC apic_id. The universal
 * start-up algorithm (SDM Vol. 3A 9.4.4.1, "Typical BSP Initialization
 * Sequence"; Linux's wakeup_secondary_cpu_via_init()): an INIT IPI puts the
 * AP into wait-for-SIPI, and after 10 ms a Startup IPI whose vector is the
 * trampoline's page number starts it at that page in real mode. A second
 * SIPI 200 us later covers a first one that was lost; an AP that is already
 * running ignores it (SIPIs are only accepted in wait-for-SIPI).
 * Returns whether the AP came online.
 */
static bool boot_one_cpu(struct trampoline_data *data, unsigned cpu, uint32_t apic_id)
{
    uint64_t sipi_ns;

    percpu_area[cpu].apic_id = apic_id;     /* apic_send_IPI(cpu) needs it */
    data->stack_top = kernel_stack_top(cpu);
    data->cpu = cpu;
    set_state(cpu, CPU_BOOTING);
    /* The AP reads these stores after our SIPI: x86 does not reorder a store
     * after a later one (SDM Vol. 3A 9.2.2), and the xAPIC ICR write is a
     * store; apic_icr_write() fences before the x2APIC's wrmsr. */

    apic_icr_write(APIC_DM_INIT | APIC_INT_LEVELTRIG | APIC_INT_ASSERT, apic_id);
    mdelay(10);
    sipi_ns = ktime_get_ns();
    apic_icr_write(APIC_DM_STARTUP | (TRAMPOLINE_BASE >> 12), apic_id);
    udelay(200);
    apic_icr_write(APIC_DM_STARTUP | (TRAMPOLINE_BASE >> 12), apic_id);

    if (!wait_for_state_change(cpu, CPU_BOOTING, sipi_ns + AP_TIMEOUT_NS) &&
        change_state(cpu, CPU_BOOTING, CPU_NO_ANSWER)) {
        /* It may still be in the trampoline, whose data we are about to
         * rewrite for the next CPU: INIT sends it back to wait-for-SIPI. */
        apic_icr_write(APIC_DM_INIT | APIC_INT_LEVELTRIG | APIC_INT_ASSERT, apic_id);
        pr_err("smpboot: CPU%u (APIC id %u) did not answer; left out\n", cpu, apic_id);
        return false;
    }
    /* It runs our C code now: a hang from here on is a kernel bug, not a
     * missing CPU, so it stops the boot instead of being skipped. */
    if (!wait_for_state_change(cpu, CPU_CALLED_IN, ktime_get_ns() + AP_TIMEOUT_NS))
        panic("smpboot: CPU%u (APIC id %u) called in but did not come online", cpu, apic_id);
    cpu_boot_ns[cpu] = ktime_get_ns() - sipi_ns;
    pr_debug("smpboot: CPU%u online %lu us after its first SIPI\n", cpu, cpu_boot_ns[cpu] / NSEC_PER_USEC);
    return true;
}

/*
 * Leave out the MADT's enabled CPUs that no IPI can reach in this APIC
 * mode, as Linux's acpi_parse_x2apic() does (apic_id_valid(), "x2apic entry
 * ignored"): in xAPIC mode the ICR keeps only 8 bits of the destination
 * (SDM Vol. 3A 11.6.1), so the INIT meant for an x2APIC entry's ID 0x100
 * would reach APIC ID 0, the boot CPU, and reset the machine. Linux decides
 * while parsing; here the mode is chosen after the MADT is read
 * (apic_init_bsp()), so the entries are marked not enabled now, before
 * nr_cpus= is checked and the APs are started.
 */
static void ignore_unreachable_cpus(void)
{
    for (unsigned i = 0; i < acpi_info.cpu_count; i++) {
        struct acpi_cpu *c = &acpi_info.cpus[i];

        if (!c->enabled || apic_id_valid(c->apic_id))
            continue;
        pr_warn("ACPI: x2apic entry ignored: APIC ID %#x cannot be addressed in %s mode (valid: 0-%#x)\n",
                c->apic_id, apic_mode_name(), apic_max_apic_id());
        c->enabled = false;
    }
}

/* How many CPUs the MADT lists as enabled. */
static unsigned madt_enabled_cpus(void)
{
    unsigned n = 0;

    for (unsigned i = 0; i < acpi_info.cpu_count; i++)
        if (acpi_info.cpus[i].enabled)
            n++;
    return n;
}

void smp_boot_cpus(void)
{
    unsigned enabled, startable, limit;
    uint32_t bsp_apic_id = this_cpu_read(apic_id);
    struct trampoline_data *data = NULL;
    unsigned next = 1;                  /* the BSP is CPU 0 */

    ignore_unreachable_cpus();
    enabled = madt_enabled_cpus();
    startable = enabled < NR_CPUS ? enabled : NR_CPUS;
    limit = startable;

    WARN_ON_ONCE(smp_processor_id() != 0 || arch_irqs_disabled());
    set_state(0, CPU_ONLINE);

    if (param_nr_cpus > 0 && (unsigned)param_nr_cpus > startable) {
        boot_stop("smpboot: nr_cpus=%d asks for more CPUs than the MADT lists (%u); valid: 1-%u",
                  param_nr_cpus, enabled, startable);
    }
    if (enabled > NR_CPUS)
        pr_warn("smpboot: the MADT lists %u enabled CPUs; starting the first %u (NR_CPUS)\n",
                enabled, NR_CPUS);
    if (param_nr_cpus > 0)
        limit = (unsigned)param_nr_cpus;

    if (limit > 1 && !trampoline_page_is_ram()) {
        pr_err("smpboot: page %#x for the AP trampoline is not usable RAM; booting CPU 0 only\n",
               TRAMPOLINE_BASE);
        limit = 1;
    }
    if (limit > 1) {
        pr_info("smp: Bringing up secondary CPUs ...\n");
        data = trampoline_install();
    }

    for (unsigned i = 0; i < acpi_info.cpu_count && next < limit; i++) {
        const struct acpi_cpu *c = &acpi_info.cpus[i];

        if (!c->enabled || c->apic_id == bsp_apic_id)
            continue;
        unsigned cpu = next++;
        cpumask_set_cpu(cpu, &cpu_possible_mask);
        boot_one_cpu(data, cpu, c->apic_id);    /* one at a time: data is shared */
    }

    unsigned n = num_online_cpus();
    pr_info("smp: Brought up 1 node, %u CPU%s\n", n, n > 1 ? "s" : "");
}

/* The logical number of the CPU whose local APIC is apic_id, or NR_CPUS if none was started. */
static unsigned cpu_of_apic_id(uint32_t apic_id)
{
    unsigned cpu;

    for_each_possible_cpu(cpu)
        if (percpu_area[cpu].apic_id == apic_id)
            return cpu;
    return NR_CPUS;
}

static const char *state_name(enum cpu_boot_state s)
{
    switch (s) {
    case CPU_NOT_STARTED: return "not started";
    case CPU_BOOTING:     return "booting";
    case CPU_CALLED_IN:   return "called in";
    case CPU_ONLINE:      return "online";
    case CPU_NO_ANSWER:   return "did not answer";
    }
    return "?";
}

/*
 * What an online CPU is in now, from its preempt_count (a snapshot: it
 * changes under us): NMI, hardirq, softirq, BHs off (local_bh_disable()) or
 * task. The CPU running this command is in task context.
 */
static const char *cpu_context_name(unsigned cpu)
{
    uint32_t pc = __atomic_load_n(&percpu_area[cpu].preempt_count, __ATOMIC_RELAXED);
    const char *soft = softirq_state_name(pc);

    if (pc & NMI_MASK)
        return "NMI";
    if (pc & HARDIRQ_MASK)
        return "hardirq";
    return *soft ? soft : "task";
}

MONITOR_COMMAND(cpus, "list every CPU with its APIC id, state and context (task, softirq, BH off, hardirq)")
{
    (void)argc;
    (void)argv;
    printk("CPU  APIC id  mode    state           boot CPU  up after SIPI  context\n");
    for (unsigned i = 0; i < acpi_info.cpu_count; i++) {
        const struct acpi_cpu *c = &acpi_info.cpus[i];
        unsigned cpu = cpu_of_apic_id(c->apic_id);
        char num[8] = "-", up[24] = "-";

        if (!c->enabled)
            continue;
        if (cpu < NR_CPUS)
            ksnprintf(num, sizeof num, "%u", cpu);
        if (cpu < NR_CPUS && cpu_boot_ns[cpu])
            ksnprintf(up, sizeof up, "%lu us", cpu_boot_ns[cpu] / NSEC_PER_USEC);
        enum cpu_boot_state s = cpu < NR_CPUS ? get_state(cpu) : CPU_NOT_STARTED;
        printk("%-4s %-8u %-7s %-15s %-9s %-14s %s\n", num, c->apic_id,
               s == CPU_ONLINE ? apic_mode_name() : "-", state_name(s),
               cpu == 0 ? "yes" : "no", up, s == CPU_ONLINE ? cpu_context_name(cpu) : "-");
    }
    return 0;
}
