/* kernel/monitor.h: the serial monitor (irqlab> prompt) and how subsystems add commands to it. */
#ifndef KERNEL_MONITOR_H
#define KERNEL_MONITOR_H

#define MONITOR_LINE_MAX 128    /* a line holds 127 characters and the NUL */
#define MONITOR_ARGV_MAX 16     /* words in a line, the command's name included */

/*
 * A command. MONITOR_COMMAND() places one in the .monitor_cmds section
 * (linker.ld), so a subsystem adds its command next to its own code:
 *
 *     MONITOR_COMMAND(cpus, "list every CPU with its APIC id and state")
 *     {
 *         ... argc/argv as in C's main(); return 0 on success ...
 *     }
 *
 * That command takes no arguments. One that does says which and how many:
 *
 *     MONITOR_COMMAND_ARGS(nmi, "[CPU]", 0, 1, "NMI backtrace of one CPU, or of all")
 *
 * The monitor refuses a line with fewer or more words than that before the
 * command runs, printing "usage: nmi [CPU]"; the command checks the values.
 * scripts/fuzz.py reads these lines to know what each command accepts.
 */
struct monitor_cmd {
    const char *name;
    const char *help;
    int (*fn)(int argc, char **argv);
    const char *usage;          /* the arguments, e.g. "[CPU]"; "" for none */
    int min_args, max_args;     /* words after the name */
};

#define MONITOR_COMMAND_ARGS(cname, cusage, cmin, cmax, chelp)                 \
    static int monitor_cmd_fn_##cname(int argc, char **argv);                  \
    __attribute__((used, section(".monitor_cmds"), aligned(8)))                \
    static const struct monitor_cmd monitor_cmd_##cname = {                    \
        #cname, chelp, monitor_cmd_fn_##cname, cusage, cmin, cmax };           \
    static int monitor_cmd_fn_##cname(int argc, char **argv)

#define MONITOR_COMMAND(cname, chelp) MONITOR_COMMAND_ARGS(cname, "", 0, 0, chelp)

/* Print the prompt, read lines, run commands; never returns. */
__attribute__((noreturn)) void monitor_run(void);

#endif
