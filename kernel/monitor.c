/* kernel/monitor.c: the serial monitor: reads command lines at the irqlab> prompt and runs them. */
#include "kernel/monitor.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/cpufeature.h"
#include "arch/x86_64/reboot.h"
#include "drivers/qemu_exit.h"
#include "drivers/serial.h"
#include "kernel/bootparams.h"
#include "kernel/printk.h"
#include "kernel/string.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#define LINE_MAX MONITOR_LINE_MAX
#define ARGV_MAX MONITOR_ARGV_MAX

#define CTRL_U 0x15             /* kill the line, as in a Unix terminal */
#define ESC    0x1b

/* Every MONITOR_COMMAND, wherever it is defined; linker.ld gathers them here. */
extern const struct monitor_cmd __monitor_cmds_start[], __monitor_cmds_end[];

/* The previous byte read was '\r', so a '\n' right after it is the same Enter. */
static bool prev_was_cr;

/*
 * The user asked for whatever the monitor prints, so it must appear even
 * when loglevel= hides ordinary kernel messages. Like Linux's sysrq
 * handler, raise the console level while the monitor prints or runs a
 * command: loud_begin() returns the old level for loud_end() to put back.
 */
static int loud_begin(void)
{
    int saved = console_loglevel;

    if (console_loglevel < CONSOLE_LOGLEVEL_DEFAULT)
        console_loglevel = CONSOLE_LOGLEVEL_DEFAULT;
    return saved;
}

static void loud_end(int saved)
{
    console_loglevel = saved;
}

/* printk() for the monitor's own output, shown whatever loglevel= says. */
__attribute__((format(printf, 1, 2))) static void monitor_printf(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    int saved = loud_begin();
    vprintk(fmt, ap);
    loud_end(saved);
    va_end(ap);
}

/*
 * The prompt and the echo of what is typed: the terminal's line editing,
 * not kernel messages, so they carry no printk prefix (as kdb's prompt in
 * Linux). The answers to a command are printk lines like any other.
 */
__attribute__((format(printf, 1, 2))) static void line_printf(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vconsole_printf(fmt, ap);
    va_end(ap);
}

/*
 * Wait for the next byte from the console and return it. The UART's receive
 * interrupt fills a buffer (drivers/serial.c); between bytes the CPU sleeps.
 */
static int monitor_getc(void)
{
    return serial_getc();
}

/*
 * Arrow and function keys arrive as escape sequences (ECMA-48 5.3-5.4):
 * CSI is ESC [, parameter bytes 0x30-0x3f, intermediate bytes 0x20-0x2f,
 * and a final byte 0x40-0x7e ("ESC [ A", "ESC [ 1 5 ~"); SS3 is ESC O and
 * one byte ("ESC O P"); other escape sequences are ESC, intermediates, and
 * a final byte 0x30-0x7e. The monitor has no history or cursor movement,
 * so it drops a sequence rather than echo "[A" into the line.
 *
 * A sequence is never complete until its final byte, so a stray ESC would
 * swallow whatever comes next. A control byte (Enter above all) ends an
 * incomplete sequence and then counts as itself: ESC Enter is an Enter,
 * and "ESC [" Enter leaves the next line whole.
 */
enum esc_state { ESC_NONE, ESC_START, ESC_CSI, ESC_SS3, ESC_INTERMEDIATE };

/* Feed byte c to the escape state *st. Returns true if c belongs to a
 * sequence (drop it); false if the monitor should handle c itself. */
static bool escape_step(enum esc_state *st, int c)
{
    enum esc_state was = *st;

    if (c == ESC) {
        *st = ESC_START;                    /* a new sequence; any open one ends */
        return true;
    }
    if (was == ESC_NONE)
        return false;
    *st = ESC_NONE;
    if (c < 0x20 || c > 0x7e)
        return c > 0x7f;                    /* control: ends the sequence; non-ASCII: dropped with it */
    if ((was == ESC_START || was == ESC_INTERMEDIATE) && c < 0x30)
        *st = ESC_INTERMEDIATE;
    else if (was == ESC_START && c == '[')
        *st = ESC_CSI;
    else if (was == ESC_START && c == 'O')
        *st = ESC_SS3;
    else if (was == ESC_CSI && c < 0x40)
        *st = ESC_CSI;                      /* parameters and intermediates */
    return true;                            /* anything else was the final byte */
}

/* Erase n characters before the cursor: back up, overwrite with a space, back up. */
static void erase_chars(size_t n)
{
    for (size_t i = 0; i < n; i++)
        line_printf(KERN_CONT "\b \b");
}

/*
 * Read one line into buf (LINE_MAX bytes), echoing it and handling
 * backspace/DEL, Ctrl-U, escape sequences (dropped) and Enter ('\r', '\n'
 * or "\r\n"). A tab is stored as a space. Characters past the 127th are
 * not stored or echoed but counted (the UART holds the rest of a paste
 * back, drivers/serial.c, so the count is the line's true length).
 * Returns how many were dropped: 0 means buf holds the whole line.
 */
static size_t read_line(char *buf)
{
    size_t len = 0, dropped = 0;
    enum esc_state esc = ESC_NONE;

    for (;;) {
        int c = monitor_getc();
        bool after_cr = prev_was_cr;

        prev_was_cr = (c == '\r');
        if (escape_step(&esc, c))
            continue;
        if (c == '\n' && after_cr)
            continue;                       /* the second half of "\r\n" */
        if (c == '\r' || c == '\n') {
            line_printf(KERN_CONT "\n");
            buf[len] = '\0';
            return dropped;
        }
        if (c == '\b' || c == 0x7f) {
            /* Dropped characters are the last ones typed, so they go first. */
            if (dropped > 0) {
                dropped--;
            } else if (len > 0) {
                len--;
                erase_chars(1);
            }
            continue;
        }
        if (c == CTRL_U) {
            erase_chars(len);
            len = dropped = 0;
            continue;
        }
        if (c == '\t')
            c = ' ';
        if (c < 0x20 || c > 0x7e)
            continue;                       /* other control bytes, and non-ASCII */
        if (len == LINE_MAX - 1) {
            dropped++;
            continue;
        }
        buf[len++] = (char)c;
        line_printf(KERN_CONT "%c", c);
    }
}

/*
 * Split line in place into words separated by spaces: each word's first
 * character goes into argv and the space after it becomes a NUL. argv[argc]
 * is NULL, as for C's main(), so argv needs ARGV_MAX + 1 slots.
 * Returns argc, or -1 if the line has more than ARGV_MAX words.
 */
static int split_args(char *line, char **argv)
{
    int argc = 0;
    char *p = line;

    for (;;) {
        while (*p == ' ')
            p++;
        if (*p == '\0')
            break;
        if (argc == ARGV_MAX)
            return -1;
        argv[argc++] = p;
        while (*p != '\0' && *p != ' ')
            p++;
        if (*p == ' ')
            *p++ = '\0';
    }
    argv[argc] = NULL;
    return argc;
}

/* The command called name, or NULL. */
static const struct monitor_cmd *find_command(const char *name)
{
    for (const struct monitor_cmd *c = __monitor_cmds_start; c < __monitor_cmds_end; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

/* Read a line, run the command it names; one turn of the monitor's loop. */
static void monitor_step(void)
{
    char line[LINE_MAX];
    char *argv[ARGV_MAX + 1];

    line_printf("irqlab> ");
    size_t dropped = read_line(line);
    if (dropped > 0) {
        monitor_printf("line too long (%zu characters, at most %d); ignored\n",
                       LINE_MAX - 1 + dropped, LINE_MAX - 1);
        return;
    }
    int argc = split_args(line, argv);
    if (argc < 0) {
        monitor_printf("too many arguments (at most %d words); ignored\n", ARGV_MAX);
        return;
    }
    if (argc == 0)
        return;
    const struct monitor_cmd *cmd = find_command(argv[0]);
    if (!cmd) {
        monitor_printf("unknown command '%s'; type 'help' for the list\n", argv[0]);
        return;
    }
    if (argc - 1 < cmd->min_args || argc - 1 > cmd->max_args) {
        if (cmd->max_args == 0)
            monitor_printf("%s: takes no arguments (got '%s'); usage: %s\n", cmd->name, argv[1], cmd->name);
        else
            monitor_printf("%s: %s arguments (%d, %s %d); usage: %s %s\n", cmd->name,
                           argc - 1 < cmd->min_args ? "too few" : "too many", argc - 1,
                           argc - 1 < cmd->min_args ? "at least" : "at most",
                           argc - 1 < cmd->min_args ? cmd->min_args : cmd->max_args, cmd->name, cmd->usage);
        return;
    }
    int saved = loud_begin();
    cmd->fn(argc, argv);
    loud_end(saved);
}

void monitor_run(void)
{
    monitor_printf("irqlab monitor: type `help` for commands\n");
    for (;;)
        monitor_step();
}

/* ---- The commands that belong to the monitor itself. ---- */

MONITOR_COMMAND(help, "list the commands")
{
    (void)argc;
    (void)argv;
    const struct monitor_cmd *c;
    int width = 0;

    for (c = __monitor_cmds_start; c < __monitor_cmds_end; c++)
        if ((int)strlen(c->name) > width)
            width = (int)strlen(c->name);

    /* The commands sit in link order. To print them by name without a
     * buffer to sort, each pass picks the smallest name after the one
     * printed last: quadratic, but there are only a few dozen. */
    const char *last = "";
    for (;;) {
        const struct monitor_cmd *next = NULL;
        for (c = __monitor_cmds_start; c < __monitor_cmds_end; c++)
            if (strcmp(c->name, last) > 0 && (!next || strcmp(c->name, next->name) < 0))
                next = c;
        if (!next)
            break;
        printk("  %-*s  %s%s%s\n", width, next->name, next->usage, next->usage[0] ? ": " : "", next->help);
        last = next->name;
    }
    return 0;
}

/*
 * Print the CPU's vendor, brand, family/model/stepping and features.
 * The version fields are in CPUID leaf 1 EAX (Intel SDM Vol. 2A, CPUID,
 * "Version Information"); the extended fields only count for the families
 * that need them, which is Linux's x86_family()/x86_model() rule.
 */
static void info_cpu(void)
{
    char vendor[13], brand[49];
    uint32_t eax, ebx, ecx, edx;

    cpu_get_vendor(vendor);
    cpu_get_brand(brand);
    printk("CPU: %s%s%s\n", vendor, brand[0] ? ", " : "", brand);

    cpuid(1, &eax, &ebx, &ecx, &edx);
    unsigned stepping = eax & 0xf;
    unsigned model = (eax >> 4) & 0xf;
    unsigned family = (eax >> 8) & 0xf;
    if (family == 0xf)
        family += (eax >> 20) & 0xff;
    if (family >= 6)
        model += ((eax >> 16) & 0xf) << 4;
    printk("CPU: family 0x%x, model 0x%x, stepping 0x%x\n", family, model, stepping);

    printk("CPU features:");
    for (enum cpu_feature f = 0; f < NR_CPU_FEATURES; f++)
        if (cpu_has(f))
            printk(KERN_CONT " %s", cpu_feature_name(f));
    printk(KERN_CONT "\n");
    printk("x2APIC: %s\n", cpu_has(X86_FEATURE_X2APIC) ? "yes" : "no");
}

/* The name of a memory map type (Multiboot's, the same as the BIOS E820 types), or NULL. */
static const char *mmap_type_name(uint32_t type)
{
    switch (type) {
    case 1: return "usable";
    case 2: return "reserved";
    case 3: return "ACPI data";
    case 4: return "ACPI NVS";
    case 5: return "bad";
    default: return NULL;
    }
}

/* Print the boot loader's memory map as Linux prints the E820 map, and the usable total. */
static void info_memory(void)
{
    uint64_t usable = 0;

    printk("Memory map from the boot loader:\n");
    for (unsigned i = 0; i < boot_info.mmap_count; i++) {
        const struct boot_mmap_entry *e = &boot_info.mmap[i];

        if (e->len == 0)
            continue;                   /* no memory in it, and no last byte to print */
        const char *name = mmap_type_name(e->type);
        printk("  [mem 0x%016lx-0x%016lx] ", e->addr, e->addr + e->len - 1);
        if (name)
            printk(KERN_CONT "%s\n", name);
        else
            printk(KERN_CONT "type %u\n", e->type);    /* as Linux prints an unknown type */
        if (e->type == 1)
            usable += e->len;
    }
    if (boot_info.mmap_truncated)
        printk("  (the map had more than %d entries; the rest were dropped)\n", BOOT_MMAP_MAX);
    printk("Usable memory: %lu MiB\n", usable >> 20);
}

MONITOR_COMMAND(info, "show the CPU, its features, the memory map and the boot information")
{
    (void)argc;
    (void)argv;

    info_cpu();
    info_memory();
    printk("Boot loader: %s, multiboot%d\n",
           boot_info.loader[0] ? boot_info.loader : "unknown", boot_info.protocol);
    printk("Command line: %s\n", boot_info.cmdline[0] ? boot_info.cmdline : "(empty)");
    return 0;
}


MONITOR_COMMAND(poweroff, "power off (leave QEMU)")
{
    (void)argc;
    (void)argv;
    pr_emerg("irqlab: power off\n");
    qemu_exit(QEMU_EXIT_PASS);
}

MONITOR_COMMAND(reboot, "restart the machine (QEMU with -no-reboot exits)")
{
    (void)argc;
    (void)argv;
    machine_restart();
}
