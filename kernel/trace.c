/* kernel/trace.c: the interrupt tracer's rings, the `trace` monitor command, and the dump to QEMU's debugcon. */
#include "kernel/trace.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/irq.h"
#include "arch/x86_64/percpu.h"
#include "kernel/cpumask.h"
#include "kernel/monitor.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "kernel/time.h"
#include "kernel/vsprintf.h"

/*
 * 32 bytes an event, so a ring is 1 MiB and the 8 traced CPUs take 8 MiB of
 * the image's 16 (arch/x86_64/paging.c): room for a 28 s stall at Linux's
 * thresholds without losing its start on the CPU that keeps running.
 */
struct trace_rec {
    uint64_t ns;                /* ktime_get_ns(): one TSC-based clock for every CPU */
    uint16_t type;
    uint16_t a;
    uint32_t b;
    const void *p, *q;
};
_Static_assert(sizeof(struct trace_rec) == 32, "an event is 32 bytes");

struct trace_ring {
    uint64_t head;              /* events written since the last clear; the slot is head % TRACE_EVENTS */
    struct trace_rec ev[TRACE_EVENTS];
};

static struct trace_ring rings[TRACE_CPUS];
static uint64_t trace_zero_ns;
bool trace_enabled;

/*
 * The timestamp is read before the slot is taken: an interrupt that records
 * in between takes the earlier slot with a later time, and the host tool
 * orders by time, so the order it shows is the order things happened.
 */
void __trace_record(enum trace_type type, unsigned a, unsigned b, const void *p, const void *q)
{
    unsigned cpu = smp_processor_id();
    uint64_t ns = ktime_get_ns();

    if (cpu >= TRACE_CPUS)
        return;
    struct trace_ring *r = &rings[cpu];
    struct trace_rec *e = &r->ev[__atomic_fetch_add(&r->head, 1, __ATOMIC_RELAXED) % TRACE_EVENTS];
    *e = (struct trace_rec){ .ns = ns, .type = (uint16_t)type, .a = (uint16_t)a, .b = b, .p = p, .q = q };
}

void trace_clear(void)
{
    for (unsigned cpu = 0; cpu < TRACE_CPUS; cpu++)
        __atomic_store_n(&rings[cpu].head, 0, __ATOMIC_RELAXED);
}

void trace_start(uint64_t zero_ns)
{
    trace_stop();
    trace_clear();
    trace_zero_ns = zero_ns;
    __atomic_store_n(&trace_enabled, true, __ATOMIC_RELEASE);
}

void trace_stop(void)
{
    __atomic_store_n(&trace_enabled, false, __ATOMIC_RELEASE);
}

uint64_t trace_recorded(unsigned cpu)
{
    return cpu < TRACE_CPUS ? __atomic_load_n(&rings[cpu].head, __ATOMIC_RELAXED) : 0;
}

static uint64_t first_kept(unsigned cpu)
{
    uint64_t head = trace_recorded(cpu);

    return head > TRACE_EVENTS ? head - TRACE_EVENTS : 0;
}

bool trace_peek(unsigned cpu, uint64_t n, enum trace_type *type, const void **p)
{
    uint64_t i = first_kept(cpu) + n;

    if (cpu >= TRACE_CPUS || i >= trace_recorded(cpu))
        return false;
    *type = (enum trace_type)rings[cpu].ev[i % TRACE_EVENTS].type;
    *p = rings[cpu].ev[i % TRACE_EVENTS].p;
    return true;
}

/* ---------------------------------------------------------------- the dump */

/*
 * QEMU's debugcon (-debugcon, an ISA port 0xe9 device, Bochs's "port e9
 * hack") writes every byte sent to the port to its chardev, and reads back
 * 0xe9; with no device there, a read of an unassigned port returns 0xff.
 */
#define DEBUGCON_PORT 0xe9

bool trace_channel_present(void)
{
    return inb(DEBUGCON_PORT) == DEBUGCON_PORT;
}

/* rep outsb: one instruction per line, not one outb per byte. */
static void debugcon_write(const char *s, unsigned long n)
{
    __asm__ volatile("rep outsb" : "+S"(s), "+c"(n) : "d"((uint16_t)DEBUGCON_PORT) : "memory");
}

__attribute__((format(printf, 1, 2))) static void out(const char *fmt, ...)
{
    char line[256];
    va_list ap;

    va_start(ap, fmt);
    int n = kvsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((unsigned long)n >= sizeof line) {     /* truncated: keep the line a line */
        n = sizeof line - 1;
        line[n - 1] = '\n';
    }
    debugcon_write(line, (unsigned long)n);
}

static const char *const type_names[NR_TRACE_TYPES] = {
    [TRACE_IRQ_DISABLE] = "irq_disable", [TRACE_IRQ_ENABLE] = "irq_enable",
    [TRACE_IRQ_ENTRY] = "irq_handler_entry", [TRACE_IRQ_EXIT] = "irq_handler_exit",
    [TRACE_IPI_SEND] = "ipi_send_cpu", [TRACE_CSD_QUEUE] = "csd_queue_cpu",
    [TRACE_CSD_ENTRY] = "csd_function_entry", [TRACE_CSD_EXIT] = "csd_function_exit",
    [TRACE_CSD_UNLOCK] = "csd_unlock", [TRACE_LOCK_ACQUIRE] = "lock_acquire",
    [TRACE_LOCK_CONTENDED] = "lock_contended", [TRACE_LOCK_ACQUIRED] = "lock_acquired",
    [TRACE_LOCK_RELEASE] = "lock_release", [TRACE_HRTIMER_ENTRY] = "hrtimer_expire_entry",
    [TRACE_HRTIMER_EXIT] = "hrtimer_expire_exit", [TRACE_SCHED_SWITCH] = "sched_switch",
    [TRACE_DETECTOR] = "detector", [TRACE_LAB] = "lab",
};

/* One event, one line: "NS CPU NAME key=value ...", text fields last (they run to the end of the line). */
static void dump_event(unsigned cpu, const struct trace_rec *e)
{
    const char *name = e->type < NR_TRACE_TYPES ? type_names[e->type] : "unknown";

    out("%lu %u %s", e->ns, cpu, name);
    switch (e->type) {
    case TRACE_IRQ_DISABLE:
    case TRACE_IRQ_ENABLE:
        out(" caller=%pS\n", e->p);
        break;
    case TRACE_IRQ_ENTRY:
    case TRACE_IRQ_EXIT:
        out(" vector=%#x depth=%u\n", e->b, e->a);
        break;
    case TRACE_IPI_SEND:
        out(" cpu=%u vector=%#x callsite=%ps\n", e->a, e->b, e->p);
        break;
    case TRACE_CSD_QUEUE:
        out(" cpu=%u func=%ps\n", e->a, e->p);
        break;
    case TRACE_CSD_ENTRY:
        out(" src=%u func=%ps\n", e->a, e->p);
        break;
    case TRACE_CSD_EXIT:
        out(" func=%ps\n", e->p);
        break;
    case TRACE_CSD_UNLOCK:
        out(" src=%u\n", e->a);
        break;
    case TRACE_LOCK_ACQUIRE:
        out(" trylock=%u lock=%s\n", e->b, e->p ? (const char *)e->p : "(no name)");
        break;
    case TRACE_LOCK_CONTENDED:
    case TRACE_LOCK_ACQUIRED:
    case TRACE_LOCK_RELEASE:
        out(" lock=%s\n", e->p ? (const char *)e->p : "(no name)");
        break;
    case TRACE_HRTIMER_ENTRY:
    case TRACE_HRTIMER_EXIT:
        out(" function=%ps\n", e->p);
        break;
    case TRACE_SCHED_SWITCH:
        out(" prev_pid=%u next_pid=%u next_comm=%s\n", e->a, e->b, (const char *)e->p);
        break;
    case TRACE_DETECTOR:
        out(" cpu=%u report=%s\n", e->a, (const char *)e->p);
        break;
    case TRACE_LAB:
        out(" text=%s\n", (const char *)e->p);
        break;
    default:
        out("\n");
    }
}

bool trace_dump(void)
{
    bool was_on = __atomic_load_n(&trace_enabled, __ATOMIC_ACQUIRE);
    unsigned cpu;

    if (!trace_channel_present())
        return false;
    trace_stop();                       /* the dump must not trace itself, nor the rings move under it */
    out("# irqlab trace 1\n");
    out("# zero %lu\n", trace_zero_ns);
    out("# cpus %u\n", num_online_cpus() < TRACE_CPUS ? num_online_cpus() : TRACE_CPUS);
    for (unsigned v = 0; v < 256; v++)
        if (irq_vector_name(v))
            out("# vector %#x %s\n", v, irq_vector_name(v));
    for_each_online_cpu(cpu) {
        if (cpu < TRACE_CPUS)
            out("# cpu %u recorded %lu lost %lu\n", cpu, trace_recorded(cpu), first_kept(cpu));
    }
    for_each_online_cpu(cpu) {
        if (cpu >= TRACE_CPUS)
            continue;
        for (uint64_t i = first_kept(cpu); i < trace_recorded(cpu); i++)
            dump_event(cpu, &rings[cpu].ev[i % TRACE_EVENTS]);
    }
    out("# end\n");
    if (was_on)
        __atomic_store_n(&trace_enabled, true, __ATOMIC_RELEASE);
    return true;
}

/* ---------------------------------------------------------------- the monitor */

static void trace_status(void)
{
    unsigned cpu;

    printk("trace: %s; %u events per CPU ring\n", trace_enabled ? "on" : "off", TRACE_EVENTS);
    for_each_online_cpu(cpu) {
        if (cpu < TRACE_CPUS)
            printk("  CPU%u: %lu recorded, %lu lost (overwritten)\n", cpu, trace_recorded(cpu), first_kept(cpu));
    }
}

MONITOR_COMMAND_ARGS(trace, "[on|off|dump|clear]", 0, 1,
                     "the interrupt tracer: status, start, stop, write to the debugcon (make run: build/trace/), empty")
{
    if (argc < 2) {
        trace_status();
    } else if (strcmp(argv[1], "on") == 0) {
        trace_start(ktime_get_ns());
        printk("trace: on (rings emptied)\n");
    } else if (strcmp(argv[1], "off") == 0) {
        trace_stop();
        printk("trace: off\n");
    } else if (strcmp(argv[1], "clear") == 0) {
        trace_clear();
        printk("trace: rings emptied\n");
    } else if (strcmp(argv[1], "dump") == 0) {
        if (!trace_dump()) {
            printk("trace: no debugcon on port 0xe9 to write to (QEMU's -debugcon: scripts/qemu.py --trace FILE)\n");
            return 1;
        }
        printk("trace: written to the debugcon\n");
    } else {
        printk("trace: unknown argument '%s'; valid: on, off, dump, clear (none: the status)\n", argv[1]);
        return 1;
    }
    return 0;
}
